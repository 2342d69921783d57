//! Weight initialisers: Xavier/Glorot and Kaiming/He, uniform and normal, all seeded.
//!
//! Fan-in and fan-out follow PyTorch: for a weight [out, in, k…], fan_in = in·Πk and
//! fan_out = out·Πk.

use neurite_tensor::{Float, Rng, Tensor};

/// (fan_in, fan_out) of a weight shape [out, in, k…] (a 1-D shape counts as fan_in = fan_out = n).
pub fn fans(shape: &[usize]) -> (usize, usize) {
    match shape.len() {
        0 => (1, 1),
        1 => (shape[0], shape[0]),
        _ => {
            let receptive: usize = shape[2..].iter().product();
            (shape[1] * receptive, shape[0] * receptive)
        }
    }
}

/// Xavier/Glorot uniform: U(−a, a) with a = gain·√(6 / (fan_in + fan_out)).
pub fn xavier_uniform<T: Float>(shape: &[usize], gain: f64, rng: &mut Rng) -> Tensor<T> {
    let (fi, fo) = fans(shape);
    let a = gain * (6.0 / (fi + fo) as f64).sqrt();
    Tensor::rand_uniform(shape, -a, a, rng)
}

/// Xavier/Glorot normal: N(0, σ²) with σ = gain·√(2 / (fan_in + fan_out)).
pub fn xavier_normal<T: Float>(shape: &[usize], gain: f64, rng: &mut Rng) -> Tensor<T> {
    let (fi, fo) = fans(shape);
    Tensor::rand_normal(shape, 0.0, gain * (2.0 / (fi + fo) as f64).sqrt(), rng)
}

/// Kaiming/He uniform on fan_in: U(−b, b) with b = gain·√(3 / fan_in); gain √2 for ReLU.
pub fn kaiming_uniform<T: Float>(shape: &[usize], gain: f64, rng: &mut Rng) -> Tensor<T> {
    let (fi, _) = fans(shape);
    let b = gain * (3.0 / fi.max(1) as f64).sqrt();
    Tensor::rand_uniform(shape, -b, b, rng)
}

/// Kaiming/He normal on fan_in: N(0, σ²) with σ = gain/√fan_in.
pub fn kaiming_normal<T: Float>(shape: &[usize], gain: f64, rng: &mut Rng) -> Tensor<T> {
    let (fi, _) = fans(shape);
    Tensor::rand_normal(shape, 0.0, gain / (fi.max(1) as f64).sqrt(), rng)
}

/// PyTorch's default for Linear and Conv weights: Kaiming uniform with a = √5, which is
/// U(−1/√fan_in, 1/√fan_in); biases use the same bound.
pub fn pytorch_default<T: Float>(shape: &[usize], fan_in: usize, rng: &mut Rng) -> Tensor<T> {
    let b = 1.0 / (fan_in.max(1) as f64).sqrt();
    Tensor::rand_uniform(shape, -b, b, rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn std_of(t: &Tensor<f64>) -> f64 {
        let v = t.to_vec();
        let m = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64).sqrt()
    }

    #[test]
    fn fans_follow_pytorch() {
        assert_eq!(fans(&[256, 784]), (784, 256));
        assert_eq!(fans(&[16, 3, 5, 5]), (75, 400));
        assert_eq!(fans(&[7]), (7, 7));
    }

    #[test]
    fn initialisers_have_their_bounds_and_spread_and_are_seeded() {
        let shape = [200, 300];
        let mut rng = Rng::new(1);
        let a = (6.0f64 / 500.0).sqrt();
        let x: Tensor<f64> = xavier_uniform(&shape, 1.0, &mut rng);
        assert!(x.to_vec().iter().all(|v| v.abs() <= a));
        assert!((std_of(&x) - a / 3f64.sqrt()).abs() < 0.01 * a);
        let x: Tensor<f64> = xavier_normal(&shape, 1.0, &mut rng);
        assert!((std_of(&x) - (2.0f64 / 500.0).sqrt()).abs() < 0.002);
        let b = 2f64.sqrt() * (3.0f64 / 300.0).sqrt();
        let x: Tensor<f64> = kaiming_uniform(&shape, 2f64.sqrt(), &mut rng);
        assert!(x.to_vec().iter().all(|v| v.abs() <= b));
        let x: Tensor<f64> = kaiming_normal(&shape, 2f64.sqrt(), &mut rng);
        assert!((std_of(&x) - (2.0f64 / 300.0).sqrt()).abs() < 0.002);
        let x: Tensor<f64> = pytorch_default(&shape, 300, &mut rng);
        assert!(x.to_vec().iter().all(|v| v.abs() <= 1.0 / 300f64.sqrt()));
        let p: Tensor<f32> = kaiming_uniform(&[4, 4], 1.0, &mut Rng::new(9));
        let q: Tensor<f32> = kaiming_uniform(&[4, 4], 1.0, &mut Rng::new(9));
        assert_eq!(p, q);
    }
}

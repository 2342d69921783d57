//! The arithmetic of training: dot products and `y += a·x` over the vector dimension.
//!
//! The fast forms keep 16 independent partial sums, a shape LLVM turns into vector
//! instructions (AVX2/AVX-512 with `target-cpu=native`) without reassociating anything it
//! should not; the `sequential` forms add left to right in single precision exactly as
//! word2vec.c compiled without `-ffast-math` does, for the reference-parity mode.

const LANES: usize = 16;

/// Σ a[i]·b[i] over `min(a.len(), b.len())` elements, with 16 partial sums.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; LANES];
    let mut ca = a.chunks_exact(LANES);
    let mut cb = b.chunks_exact(LANES);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    let mut tail = 0.0f32;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail += x * y;
    }
    // Pairwise reduction of the lanes.
    let mut width = LANES / 2;
    while width > 0 {
        for l in 0..width {
            acc[l] += acc[l + width];
        }
        width /= 2;
    }
    acc[0] + tail
}

/// y[i] += a·x[i] over `min(y.len(), x.len())` elements.
#[inline]
pub fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
    let n = y.len().min(x.len());
    for (yi, xi) in y[..n].iter_mut().zip(&x[..n]) {
        *yi += a * xi;
    }
}

/// y[i] += x[i].
#[inline]
pub fn add(y: &mut [f32], x: &[f32]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += xi;
    }
}

/// y[i] *= a.
#[inline]
pub fn scale(y: &mut [f32], a: f32) {
    for yi in y {
        *yi *= a;
    }
}

/// Σ a[i]·b[i] added left to right (word2vec.c's `for (c...) f += a[c] * b[c]`).
#[inline]
pub fn dot_sequential(a: &[f32], b: &[f32]) -> f32 {
    let mut f = 0.0f32;
    for (x, y) in a.iter().zip(b) {
        f += x * y;
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive_dot(a: &[f32], b: &[f32]) -> f64 {
        a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum()
    }

    proptest! {
        #[test]
        fn dot_matches_naive(v in proptest::collection::vec((-1.0f32..1.0, -1.0f32..1.0), 0..300)) {
            let (a, b): (Vec<f32>, Vec<f32>) = v.into_iter().unzip();
            let exact = naive_dot(&a, &b);
            let bound = 1e-5 * (1.0 + a.len() as f64);
            prop_assert!((dot(&a, &b) as f64 - exact).abs() < bound);
            prop_assert!((dot_sequential(&a, &b) as f64 - exact).abs() < bound);
        }

        #[test]
        fn axpy_add_scale_match_naive(
            v in proptest::collection::vec((-1.0f32..1.0, -1.0f32..1.0), 0..300),
            a in -2.0f32..2.0,
        ) {
            let (x, y0): (Vec<f32>, Vec<f32>) = v.into_iter().unzip();
            let mut y = y0.clone();
            axpy(&mut y, a, &x);
            for i in 0..y.len() {
                prop_assert_eq!(y[i], y0[i] + a * x[i]);
            }
            let mut z = y0.clone();
            add(&mut z, &x);
            scale(&mut z, a);
            for i in 0..z.len() {
                prop_assert_eq!(z[i], (y0[i] + x[i]) * a);
            }
        }
    }

    #[test]
    fn dot_of_unequal_lengths_uses_the_shorter() {
        assert_eq!(dot(&[1.0, 2.0, 3.0], &[1.0, 1.0]), 3.0);
        assert_eq!(dot(&[], &[1.0]), 0.0);
    }
}

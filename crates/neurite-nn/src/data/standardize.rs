//! Standardisation: z = (x − mean)/std per feature, fitted on the training part only so that
//! nothing of the test part leaks into training.

use neurite_tensor::{Float, Tensor};

use crate::error::{NnError, Result};

/// Per-feature mean and standard deviation of a [n, features] tensor (a feature with zero
/// variance gets std 1, so it maps to 0 rather than NaN).
#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer<T: Float> {
    /// Mean per feature.
    pub mean: Vec<T>,
    /// Standard deviation (population) per feature.
    pub std: Vec<T>,
}

fn as_rows<T: Float>(what: &'static str, x: &Tensor<T>) -> Result<(usize, usize, Tensor<T>)> {
    if x.ndim() < 2 || x.is_empty() {
        return Err(NnError::BadInput {
            layer: what.into(),
            expected: "a non-empty [n, features..] tensor".into(),
            got: x.shape().to_vec(),
        });
    }
    let n = x.shape()[0];
    Ok((n, x.len() / n, x.contiguous()))
}

impl<T: Float> Standardizer<T> {
    /// Fits mean and std per feature on `x` [n, ..] (the training part).
    pub fn fit(x: &Tensor<T>) -> Result<Self> {
        let (n, f, c) = as_rows("Standardizer::fit", x)?;
        let s = c.as_slice().expect("contiguous"); // ok: made contiguous above
        let mut mean = vec![0.0f64; f];
        for row in s.chunks_exact(f) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += v.to_f64();
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut var = vec![0.0f64; f];
        for row in s.chunks_exact(f) {
            for ((a, &v), m) in var.iter_mut().zip(row).zip(&mean) {
                let d = v.to_f64() - m;
                *a += d * d;
            }
        }
        let std = var
            .iter()
            .map(|v| {
                let s = (v / n as f64).sqrt();
                T::from_f64(if s > 1e-12 && s.is_finite() { s } else { 1.0 })
            })
            .collect();
        if let Some(j) = mean.iter().position(|m| !m.is_finite()) {
            return Err(NnError::NonFinite {
                what: "Standardizer::fit input".into(),
                location: format!("column {j}"),
            });
        }
        Ok(Standardizer {
            mean: mean.into_iter().map(T::from_f64).collect(),
            std,
        })
    }

    /// Applies (x − mean)/std to `x` [m, ..] with the same number of features.
    pub fn transform(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let (_, f, c) = as_rows("Standardizer::transform", x)?;
        if f != self.mean.len() {
            return Err(NnError::BadInput {
                layer: "Standardizer::transform".into(),
                expected: format!("{} features per sample", self.mean.len()),
                got: x.shape().to_vec(),
            });
        }
        let s = c.as_slice().expect("contiguous"); // ok: made contiguous above
        let mut out = Vec::with_capacity(s.len());
        for row in s.chunks_exact(f) {
            for ((&v, &m), &d) in row.iter().zip(&self.mean).zip(&self.std) {
                out.push((v - m) / d);
            }
        }
        Ok(Tensor::from_vec(out, x.shape())?)
    }

    /// The inverse: z·std + mean (e.g. to report regression predictions in original units).
    pub fn inverse(&self, z: &Tensor<T>) -> Result<Tensor<T>> {
        let (_, f, c) = as_rows("Standardizer::inverse", z)?;
        if f != self.mean.len() {
            return Err(NnError::BadInput {
                layer: "Standardizer::inverse".into(),
                expected: format!("{} features per sample", self.mean.len()),
                got: z.shape().to_vec(),
            });
        }
        let s = c.as_slice().expect("contiguous"); // ok: made contiguous above
        let mut out = Vec::with_capacity(s.len());
        for row in s.chunks_exact(f) {
            for ((&v, &m), &d) in row.iter().zip(&self.mean).zip(&self.std) {
                out.push(v * d + m);
            }
        }
        Ok(Tensor::from_vec(out, z.shape())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_on_train_then_transform_and_invert() {
        let train = Tensor::from_vec(vec![1.0, 5.0, 3.0, 5.0], &[2, 2]).unwrap();
        let s = Standardizer::<f64>::fit(&train).unwrap();
        assert_eq!(s.mean, vec![2.0, 5.0]);
        assert_eq!(s.std, vec![1.0, 1.0]); // the constant column gets std 1
        let test = Tensor::from_vec(vec![4.0, 6.0], &[1, 2]).unwrap();
        let z = s.transform(&test).unwrap();
        assert_eq!(z.to_vec(), vec![2.0, 1.0]);
        assert_eq!(s.inverse(&z).unwrap(), test);
        let wrong = Tensor::<f64>::zeros(&[1, 3]);
        assert!(s.transform(&wrong).is_err());
        assert!(Standardizer::<f64>::fit(&Tensor::zeros(&[0, 2])).is_err());
        // Rows of zero features (a chunk size of 0 panicked before).
        let empty_rows = Tensor::<f64>::zeros(&[3, 0]);
        assert!(matches!(
            Standardizer::<f64>::fit(&empty_rows),
            Err(NnError::BadInput { .. })
        ));
        assert!(s.transform(&empty_rows).is_err());
        assert!(s.inverse(&empty_rows).is_err());
    }
}

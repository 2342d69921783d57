//! Metrics: accuracy, confusion matrix, and the regression figures MSE, MAE and R².

use std::fmt;

use neurite_tensor::{Float, Tensor};

use crate::error::{NnError, Result};

/// The predicted class of each row of scores [n, classes] (arg-max; logits or probabilities).
pub fn predict_classes<T: Float>(scores: &Tensor<T>) -> Result<Vec<usize>> {
    if scores.ndim() != 2 {
        return Err(NnError::BadInput {
            layer: "predict_classes".into(),
            expected: "scores [n, classes]".into(),
            got: scores.shape().to_vec(),
        });
    }
    Ok(scores.argmax(1)?)
}

/// The predicted 0/1 class of each logit (logit > 0, i.e. σ > 0.5) of a \[n\] or \[n, 1\] tensor.
pub fn predict_binary<T: Float>(logits: &Tensor<T>) -> Vec<usize> {
    logits
        .to_vec()
        .into_iter()
        .map(|v| usize::from(v > T::ZERO))
        .collect()
}

fn same_len(op: &'static str, a: usize, b: usize) -> Result<()> {
    if a != b || a == 0 {
        return Err(NnError::BadInput {
            layer: op.into(),
            expected: format!("as many predictions as labels (and at least one); labels: {b}"),
            got: vec![a],
        });
    }
    Ok(())
}

/// The fraction of predictions equal to their label.
pub fn accuracy(predicted: &[usize], labels: &[usize]) -> Result<f64> {
    same_len("accuracy", predicted.len(), labels.len())?;
    let right = predicted.iter().zip(labels).filter(|(p, l)| p == l).count();
    Ok(right as f64 / labels.len() as f64)
}

/// A confusion matrix: `count(actual, predicted)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    classes: usize,
    counts: Vec<usize>,
}

impl ConfusionMatrix {
    /// Counts (actual label, predicted class) pairs; every value must be in 0..classes.
    pub fn new(predicted: &[usize], labels: &[usize], classes: usize) -> Result<Self> {
        same_len("ConfusionMatrix", predicted.len(), labels.len())?;
        for (what, xs) in [("label", labels), ("prediction", predicted)] {
            if let Some((position, &label)) = xs.iter().enumerate().find(|(_, &l)| l >= classes) {
                return Err(NnError::LabelOutOfRange {
                    op: if what == "label" {
                        "ConfusionMatrix (label)"
                    } else {
                        "ConfusionMatrix (prediction)"
                    },
                    label,
                    position,
                    classes,
                });
            }
        }
        let cells = classes
            .checked_mul(classes)
            .filter(|&n| n <= isize::MAX as usize / std::mem::size_of::<usize>())
            .ok_or_else(|| {
                NnError::config(
                    "ConfusionMatrix",
                    format!("{classes} classes: a {classes}×{classes} table cannot be held"),
                )
            })?;
        let mut counts = neurite_tensor::alloc::try_vec(
            &format!("ConfusionMatrix of {classes}×{classes} counts"),
            cells,
            0,
        )?;
        for (&p, &l) in predicted.iter().zip(labels) {
            counts[l * classes + p] += 1;
        }
        Ok(ConfusionMatrix { classes, counts })
    }
    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }
    /// Samples of class `actual` predicted as `predicted`; 0 when either is outside
    /// `0..classes` (no such sample was counted: [`ConfusionMatrix::new`] rejects them).
    pub fn count(&self, actual: usize, predicted: usize) -> usize {
        if actual >= self.classes || predicted >= self.classes {
            return 0;
        }
        self.counts[actual * self.classes + predicted]
    }
    /// Accuracy: the diagonal over the total.
    pub fn accuracy(&self) -> f64 {
        let total: usize = self.counts.iter().sum();
        let diag: usize = (0..self.classes).map(|c| self.count(c, c)).sum();
        diag as f64 / total.max(1) as f64
    }
    /// Recall of class c: right / actual c (NaN when the class never occurs, as for c ≥ classes).
    pub fn recall(&self, c: usize) -> f64 {
        let actual: usize = (0..self.classes).map(|p| self.count(c, p)).sum();
        self.count(c, c) as f64 / actual as f64
    }
    /// Precision of class c: right / predicted c (NaN when never predicted, as for c ≥ classes).
    pub fn precision(&self, c: usize) -> f64 {
        let predicted: usize = (0..self.classes).map(|a| self.count(a, c)).sum();
        self.count(c, c) as f64 / predicted as f64
    }
}

impl fmt::Display for ConfusionMatrix {
    /// Rows: actual class; columns: predicted class.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self
            .counts
            .iter()
            .max()
            .map_or(1, |m| m.to_string().len())
            .max(self.classes.to_string().len())
            + 1;
        write!(f, "{:>w$} |", "a\\p", w = w.max(4))?;
        for c in 0..self.classes {
            write!(f, "{c:>w$}")?;
        }
        writeln!(f)?;
        for a in 0..self.classes {
            write!(f, "{a:>w$} |", w = w.max(4))?;
            for p in 0..self.classes {
                write!(f, "{:>w$}", self.count(a, p))?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

fn pairs<T: Float>(
    op: &'static str,
    pred: &Tensor<T>,
    target: &Tensor<T>,
) -> Result<Vec<(f64, f64)>> {
    if pred.len() != target.len() || pred.is_empty() {
        return Err(NnError::BadInput {
            layer: op.into(),
            expected: format!(
                "a non-empty prediction with as many values as the target {:?}",
                target.shape()
            ),
            got: pred.shape().to_vec(),
        });
    }
    Ok(pred
        .to_vec()
        .into_iter()
        .zip(target.to_vec())
        .map(|(p, t)| (p.to_f64(), t.to_f64()))
        .collect())
}

/// Mean squared error of predictions against targets (same number of values).
pub fn mean_squared_error<T: Float>(pred: &Tensor<T>, target: &Tensor<T>) -> Result<f64> {
    let p = pairs("mean_squared_error", pred, target)?;
    Ok(p.iter().map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / p.len() as f64)
}

/// Mean absolute error.
pub fn mean_absolute_error<T: Float>(pred: &Tensor<T>, target: &Tensor<T>) -> Result<f64> {
    let p = pairs("mean_absolute_error", pred, target)?;
    Ok(p.iter().map(|(a, b)| (a - b).abs()).sum::<f64>() / p.len() as f64)
}

/// Coefficient of determination R² = 1 − SS_res/SS_tot (1 is perfect, 0 is predicting the mean;
/// −∞ < R² ≤ 1). A constant target gives NaN unless the predictions are exact.
pub fn r2_score<T: Float>(pred: &Tensor<T>, target: &Tensor<T>) -> Result<f64> {
    let p = pairs("r2_score", pred, target)?;
    let mean = p.iter().map(|(_, t)| t).sum::<f64>() / p.len() as f64;
    let ss_res: f64 = p.iter().map(|(a, b)| (a - b) * (a - b)).sum();
    let ss_tot: f64 = p.iter().map(|(_, b)| (b - mean) * (b - mean)).sum();
    Ok(if ss_tot == 0.0 {
        if ss_res == 0.0 {
            1.0
        } else {
            f64::NAN
        }
    } else {
        1.0 - ss_res / ss_tot
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_metrics() {
        let pred = [0, 1, 1, 2, 2];
        let lab = [0, 1, 2, 2, 0];
        assert!((accuracy(&pred, &lab).unwrap() - 0.6).abs() < 1e-12);
        let cm = ConfusionMatrix::new(&pred, &lab, 3).unwrap();
        assert_eq!(cm.count(2, 1), 1);
        assert_eq!(cm.count(0, 2), 1);
        assert!((cm.accuracy() - 0.6).abs() < 1e-12);
        assert!((cm.recall(2) - 0.5).abs() < 1e-12);
        assert!((cm.precision(1) - 0.5).abs() < 1e-12);
        assert!(cm.to_string().lines().count() == 4);
        assert!(accuracy(&pred, &lab[..3]).is_err());
        assert!(matches!(
            ConfusionMatrix::new(&[3], &[0], 3),
            Err(NnError::LabelOutOfRange { .. })
        ));
        let s = Tensor::from_vec(vec![0.1f32, 0.9, 0.7, 0.2], &[2, 2]).unwrap();
        assert_eq!(predict_classes(&s).unwrap(), vec![1, 0]);
        assert_eq!(
            predict_binary(&Tensor::from_vec(vec![-1.0f32, 2.0], &[2]).unwrap()),
            vec![0, 1]
        );
    }

    #[test]
    fn a_confusion_matrix_beyond_memory_is_a_typed_error() {
        // 300,000² counts of 8 bytes = 720 GB: an allocation abort before.
        let e = ConfusionMatrix::new(&[0], &[0], 300_000).unwrap_err();
        assert!(
            matches!(
                e,
                NnError::Tensor(neurite_tensor::TensorError::OutOfMemory { .. })
            ),
            "{e}"
        );
        assert!(e.to_string().contains("300000×300000"), "{e}");
    }

    #[test]
    fn confusion_matrix_outside_its_classes_does_not_panic() {
        let cm = ConfusionMatrix::new(&[0, 1], &[0, 0], 2).unwrap();
        // Out of range: nothing was counted there (and no neighbouring cell is read).
        assert_eq!(cm.count(0, 2), 0);
        assert_eq!(cm.count(5, 0), 0);
        assert!(cm.recall(7).is_nan());
        assert!(cm.precision(7).is_nan());
        // A table of classes² cells that cannot exist is an error, not an overflow panic.
        assert!(matches!(
            ConfusionMatrix::new(&[0], &[0], usize::MAX),
            Err(NnError::InvalidConfig { .. })
        ));
        assert!(matches!(
            ConfusionMatrix::new(&[0], &[0], 1 << 40),
            Err(NnError::InvalidConfig { .. })
        ));
    }

    #[test]
    fn regression_metrics() {
        let t = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4]).unwrap();
        let p = Tensor::from_vec(vec![1.0, 2.0, 4.0, 3.0], &[4, 1]).unwrap();
        assert!((mean_squared_error(&p, &t).unwrap() - 0.5).abs() < 1e-12);
        assert!((mean_absolute_error(&p, &t).unwrap() - 0.5).abs() < 1e-12);
        // SS_tot = 5, SS_res = 2.
        assert!((r2_score(&p, &t).unwrap() - 0.6).abs() < 1e-12);
        assert_eq!(r2_score(&t, &t).unwrap(), 1.0);
        assert!(r2_score(&t, &Tensor::zeros(&[3])).is_err());
    }
}

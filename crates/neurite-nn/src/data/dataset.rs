//! `Dataset`: features and their targets in memory, split, subset and cut into mini-batches.

use neurite_tensor::{Float, Rng, Tensor};

use crate::error::{NnError, Result};

/// What a data set predicts.
#[derive(Debug, Clone)]
pub enum Targets<T: Float> {
    /// Class indices in 0..classes, one per sample.
    Classes {
        /// The labels.
        labels: Vec<usize>,
        /// The number of classes.
        classes: usize,
    },
    /// Real-valued targets [n, k] (regression, or 0/1 targets for a sigmoid output).
    Values(Tensor<T>),
}

/// Features [n, ..] and their targets, in memory.
#[derive(Debug, Clone)]
pub struct Dataset<T: Float> {
    /// Features, one sample per entry of axis 0.
    pub features: Tensor<T>,
    /// Targets, one per sample.
    pub targets: Targets<T>,
}

/// Where the first non-finite value of a tensor [n, ..] is: "row r, column c" (flattened
/// column over the trailing axes), or None when every value is finite.
pub fn find_non_finite<T: Float>(t: &Tensor<T>) -> Option<String> {
    if t.all_finite() {
        return None;
    }
    let v = t.contiguous();
    let s = v.as_slice().expect("contiguous"); // ok: made contiguous above
    let i = s.iter().position(|x| !x.is_finite())?;
    let cols = if t.ndim() == 0 {
        1
    } else {
        t.len() / t.shape()[0].max(1)
    };
    Some(format!(
        "row {}, column {} (value {})",
        i / cols.max(1),
        i % cols.max(1),
        s[i]
    ))
}

impl<T: Float> Dataset<T> {
    fn check_features(features: &Tensor<T>, n: usize) -> Result<()> {
        if features.ndim() == 0 || features.shape()[0] != n {
            return Err(NnError::BadInput {
                layer: "Dataset".into(),
                expected: format!("features [n, ..] with n = {n} targets"),
                got: features.shape().to_vec(),
            });
        }
        if let Some(location) = find_non_finite(features) {
            return Err(NnError::NonFinite {
                what: "features".into(),
                location,
            });
        }
        Ok(())
    }

    /// A classification set: features [n, ..], labels in 0..classes. Non-finite features, a
    /// count mismatch or a label out of range is a typed error naming it.
    pub fn classification(features: Tensor<T>, labels: Vec<usize>, classes: usize) -> Result<Self> {
        Self::check_features(&features, labels.len())?;
        if let Some((position, &label)) = labels.iter().enumerate().find(|(_, &l)| l >= classes) {
            return Err(NnError::LabelOutOfRange {
                op: "Dataset::classification",
                label,
                position,
                classes,
            });
        }
        Ok(Dataset {
            features,
            targets: Targets::Classes { labels, classes },
        })
    }

    /// A regression set: features \[n, ..\] and targets \[n\] or \[n, k\] (a 1-D target becomes \[n, 1\]).
    pub fn regression(features: Tensor<T>, targets: Tensor<T>) -> Result<Self> {
        let targets = if targets.ndim() == 1 {
            targets.reshape(&[targets.len(), 1])?
        } else {
            targets
        };
        if targets.ndim() != 2 {
            return Err(NnError::BadInput {
                layer: "Dataset::regression".into(),
                expected: "targets [n] or [n, k]".into(),
                got: targets.shape().to_vec(),
            });
        }
        Self::check_features(&features, targets.shape()[0])?;
        if let Some(location) = find_non_finite(&targets) {
            return Err(NnError::NonFinite {
                what: "targets".into(),
                location,
            });
        }
        Ok(Dataset {
            features,
            targets: Targets::Values(targets),
        })
    }

    /// Splits a numeric table [n, cols] into features and the class labels held in column
    /// `label_column` (whole numbers ≥ 0); classes = largest label + 1.
    pub fn classification_from_table(table: &Tensor<T>, label_column: usize) -> Result<Self> {
        let (features, col) = split_column(table, label_column)?;
        let mut labels = Vec::with_capacity(col.len());
        for (row, v) in col.into_iter().enumerate() {
            let f = v.to_f64();
            if !(f >= 0.0 && f.fract() == 0.0 && f < 1e9) {
                return Err(NnError::InvalidConfig {
                    what: "Dataset::classification_from_table",
                    message: format!("row {row}: label {f} is not a whole number ≥ 0"),
                });
            }
            labels.push(f as usize);
        }
        let classes = labels.iter().max().map_or(0, |m| m + 1);
        Self::classification(features, labels, classes)
    }

    /// Splits a numeric table [n, cols] into features and the regression target in column
    /// `target_column`.
    pub fn regression_from_table(table: &Tensor<T>, target_column: usize) -> Result<Self> {
        let (features, col) = split_column(table, target_column)?;
        let n = col.len();
        Self::regression(features, Tensor::from_vec(col, &[n, 1])?)
    }

    /// Number of samples (the first axis of `features`; 0 for a 0-dimensional one, which
    /// [`Dataset::batches`] and [`Dataset::subset`] reject).
    pub fn len(&self) -> usize {
        self.features.shape().first().copied().unwrap_or(0)
    }

    /// The fields are public, so a set may have been built or edited by hand: features must
    /// be [n, ..] with one target per sample, labels in 0..classes.
    fn check_consistent(&self, op: &'static str) -> Result<()> {
        let (n, what) = match &self.targets {
            Targets::Classes { labels, classes } => {
                if let Some((position, &label)) =
                    labels.iter().enumerate().find(|(_, &l)| l >= *classes)
                {
                    return Err(NnError::LabelOutOfRange {
                        op,
                        label,
                        position,
                        classes: *classes,
                    });
                }
                (Some(labels.len()), "labels")
            }
            Targets::Values(t) => (t.shape().first().copied(), "target rows"),
        };
        if self.features.ndim() == 0 || n != Some(self.len()) {
            return Err(NnError::BadInput {
                layer: op.into(),
                expected: format!(
                    "features [n, ..] with n = the number of {what} ({})",
                    n.map_or("none: targets are 0-dimensional".to_string(), |n| n
                        .to_string())
                ),
                got: self.features.shape().to_vec(),
            });
        }
        Ok(())
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Features per sample (the product of the trailing axes).
    pub fn num_features(&self) -> usize {
        self.features.len() / self.len().max(1)
    }

    /// The class labels, if a classification set.
    pub fn labels(&self) -> Option<&[usize]> {
        match &self.targets {
            Targets::Classes { labels, .. } => Some(labels),
            Targets::Values(_) => None,
        }
    }

    /// The number of classes, if a classification set.
    pub fn classes(&self) -> Option<usize> {
        match &self.targets {
            Targets::Classes { classes, .. } => Some(*classes),
            Targets::Values(_) => None,
        }
    }

    /// The targets [n, k], for a regression set; for a classification set, the labels as a
    /// column [n, 1] of floats (0/1 targets for binary cross-entropy).
    pub fn target_values(&self) -> Result<Tensor<T>> {
        match &self.targets {
            Targets::Values(t) => Ok(t.clone()),
            Targets::Classes { labels, .. } => Ok(Tensor::from_vec(
                labels.iter().map(|&l| T::from_usize(l)).collect(),
                &[labels.len(), 1],
            )?),
        }
    }

    /// The samples at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Result<Self> {
        self.check_consistent("Dataset::subset")?;
        if let Some((position, &i)) = indices.iter().enumerate().find(|(_, &i)| i >= self.len()) {
            return Err(NnError::IndexOutOfRange {
                layer: "Dataset::subset".into(),
                index: i.to_string(),
                position,
                bound: self.len(),
            });
        }
        let features = self.features.index_select(0, indices)?;
        let targets = match &self.targets {
            Targets::Classes { labels, classes } => Targets::Classes {
                labels: indices.iter().map(|&i| labels[i]).collect(),
                classes: *classes,
            },
            Targets::Values(t) => Targets::Values(t.index_select(0, indices)?),
        };
        Ok(Dataset { features, targets })
    }

    /// The same samples with features reshaped per sample, e.g. [n, 1, 28, 28] → [n, 784] with
    /// `&[784]`.
    pub fn reshape_features(&self, per_sample: &[usize]) -> Result<Self> {
        let mut shape = vec![self.len()];
        shape.extend_from_slice(per_sample);
        Ok(Dataset {
            features: self.features.reshape(&shape)?,
            targets: self.targets.clone(),
        })
    }

    /// A seeded random split into (train, test) with ⌈test_fraction·n⌉ test samples, in
    /// (0, 1). The same seed gives the same split.
    pub fn split(&self, test_fraction: f64, seed: u64) -> Result<(Self, Self)> {
        if !(test_fraction > 0.0 && test_fraction < 1.0) {
            return Err(NnError::config(
                "Dataset::split",
                format!("test fraction must be in (0, 1), got {test_fraction}"),
            ));
        }
        let n = self.len();
        let n_test = ((n as f64) * test_fraction).ceil() as usize;
        if n_test == 0 || n_test >= n {
            return Err(NnError::config(
                "Dataset::split",
                format!("{n} samples cannot give both a train and a test part at {test_fraction}"),
            ));
        }
        let mut order: Vec<usize> = (0..n).collect();
        Rng::new(seed).shuffle(&mut order);
        let (test, train) = order.split_at(n_test);
        Ok((self.subset(train)?, self.subset(test)?))
    }

    /// Mini-batches of `batch_size` samples; shuffled with `rng` when given (pass the same
    /// generator every epoch: each epoch gets a new, reproducible order); `drop_last` drops a
    /// final batch smaller than `batch_size`.
    pub fn batches(
        &self,
        batch_size: usize,
        rng: Option<&mut Rng>,
        drop_last: bool,
    ) -> Result<Batches<'_, T>> {
        if batch_size == 0 {
            return Err(NnError::config(
                "Dataset::batches",
                "batch size must be ≥ 1, got 0",
            ));
        }
        // The iterator indexes the targets by sample: they must agree with the features.
        self.check_consistent("Dataset::batches")?;
        let mut order: Vec<usize> = (0..self.len()).collect();
        if let Some(rng) = rng {
            rng.shuffle(&mut order);
        }
        if drop_last {
            order.truncate(order.len() / batch_size * batch_size);
        }
        Ok(Batches {
            data: self,
            order,
            batch_size,
            pos: 0,
        })
    }
}

/// Removes column `col` of a table [n, cols]: (the other columns [n, cols − 1], that column).
fn split_column<T: Float>(table: &Tensor<T>, col: usize) -> Result<(Tensor<T>, Vec<T>)> {
    if table.ndim() != 2 || col >= table.shape()[1] || table.shape()[1] < 2 {
        return Err(NnError::BadInput {
            layer: "Dataset::from_table".into(),
            expected: format!("a table [n, cols] with at least 2 columns and column {col}"),
            got: table.shape().to_vec(),
        });
    }
    let (n, cols) = (table.shape()[0], table.shape()[1]);
    let t = table.contiguous();
    let s = t.as_slice().expect("contiguous"); // ok: made contiguous above
    let mut feats = Vec::with_capacity(n * (cols - 1));
    let mut target = Vec::with_capacity(n);
    for row in s.chunks_exact(cols) {
        for (j, &v) in row.iter().enumerate() {
            if j == col {
                target.push(v);
            } else {
                feats.push(v);
            }
        }
    }
    Ok((Tensor::from_vec(feats, &[n, cols - 1])?, target))
}

/// One mini-batch: features [b, ..] and the batch's targets.
#[derive(Debug, Clone)]
pub struct Batch<T: Float> {
    /// Features [b, ..].
    pub features: Tensor<T>,
    /// Class labels (empty for a regression set).
    pub labels: Vec<usize>,
    /// Targets [b, k] for a regression set; None for a classification set.
    pub targets: Option<Tensor<T>>,
}

impl<T: Float> Batch<T> {
    /// Number of samples (0 for 0-dimensional features).
    pub fn len(&self) -> usize {
        self.features.shape().first().copied().unwrap_or(0)
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Iterator over the mini-batches of a [`Dataset`] (see [`Dataset::batches`]).
pub struct Batches<'a, T: Float> {
    data: &'a Dataset<T>,
    order: Vec<usize>,
    batch_size: usize,
    pos: usize,
}

impl<T: Float> Batches<'_, T> {
    /// Number of batches left.
    pub fn remaining(&self) -> usize {
        (self.order.len() - self.pos).div_ceil(self.batch_size)
    }
}

impl<T: Float> Iterator for Batches<'_, T> {
    type Item = Batch<T>;
    fn next(&mut self) -> Option<Batch<T>> {
        if self.pos >= self.order.len() {
            return None;
        }
        let end = (self.pos + self.batch_size).min(self.order.len());
        let idx = &self.order[self.pos..end];
        self.pos = end;
        // Indices come from 0..len and `batches` checked that the targets agree with the
        // features: the selections and `labels[i]` cannot fail.
        let features = self.data.features.index_select(0, idx).ok()?;
        let (labels, targets) = match &self.data.targets {
            Targets::Classes { labels, .. } => (idx.iter().map(|&i| labels[i]).collect(), None),
            Targets::Values(t) => (Vec::new(), Some(t.index_select(0, idx).ok()?)),
        };
        Some(Batch {
            features,
            labels,
            targets,
        })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining(), Some(self.remaining()))
    }
}

impl<T: Float> ExactSizeIterator for Batches<'_, T> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy(n: usize) -> Dataset<f64> {
        let x = Tensor::from_vec((0..n * 2).map(|v| v as f64).collect(), &[n, 2]).unwrap();
        Dataset::classification(x, (0..n).map(|i| i % 3).collect(), 3).unwrap()
    }

    #[test]
    fn a_hand_built_inconsistent_set_is_an_error() {
        let x = Tensor::<f64>::zeros(&[4, 2]);
        let short = Dataset {
            features: x.clone(),
            targets: Targets::Classes {
                labels: vec![0, 1],
                classes: 2,
            },
        };
        assert!(matches!(
            short.batches(2, None, false),
            Err(NnError::BadInput { .. })
        ));
        assert!(matches!(short.subset(&[3]), Err(NnError::BadInput { .. })));
        assert!(short.split(0.5, 1).is_err());
        let bad_label = Dataset {
            features: x.clone(),
            targets: Targets::Classes {
                labels: vec![0, 1, 5, 0],
                classes: 2,
            },
        };
        assert!(matches!(
            bad_label.batches(2, None, false),
            Err(NnError::LabelOutOfRange { label: 5, .. })
        ));
        let values = Dataset {
            features: x,
            targets: Targets::Values(Tensor::zeros(&[3, 1])),
        };
        assert!(values.batches(2, None, false).is_err());
        let scalar = Dataset {
            features: Tensor::scalar(1.0),
            targets: Targets::Values(Tensor::zeros(&[1, 1])),
        };
        assert_eq!(scalar.len(), 0);
        assert!(scalar.batches(1, None, false).is_err());
    }

    #[test]
    fn batches_cover_every_sample_once_and_are_seeded() {
        let d = toy(10);
        let mut rng = Rng::new(1);
        let b: Vec<_> = d.batches(4, Some(&mut rng), false).unwrap().collect();
        assert_eq!(b.iter().map(|b| b.len()).collect::<Vec<_>>(), vec![4, 4, 2]);
        let mut seen: Vec<usize> = b
            .iter()
            .flat_map(|b| {
                b.features
                    .to_vec()
                    .chunks(2)
                    .map(|r| r[0] as usize / 2)
                    .collect::<Vec<_>>()
            })
            .collect();
        // Labels travel with their rows.
        for bt in &b {
            for (r, &l) in bt.features.to_vec().chunks(2).zip(&bt.labels) {
                assert_eq!((r[0] as usize / 2) % 3, l);
            }
        }
        seen.sort();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        let again: Vec<_> = d
            .batches(4, Some(&mut Rng::new(1)), false)
            .unwrap()
            .collect();
        assert_eq!(again[0].features, b[0].features);
        let dropped = d.batches(4, None, true).unwrap();
        assert_eq!(dropped.len(), 2);
        assert!(d.batches(0, None, false).is_err());
    }

    #[test]
    fn split_is_seeded_and_disjoint() {
        let d = toy(20);
        let (tr, te) = d.split(0.25, 5).unwrap();
        assert_eq!((tr.len(), te.len()), (15, 5));
        let (tr2, _) = d.split(0.25, 5).unwrap();
        assert_eq!(tr.features, tr2.features);
        let mut all: Vec<f64> = tr.features.to_vec();
        all.extend(te.features.to_vec());
        all.sort_by(f64::total_cmp);
        assert_eq!(all, d.features.to_vec());
        assert!(d.split(1.0, 0).is_err());
    }

    #[test]
    fn bad_data_is_rejected_with_its_location() {
        let x = Tensor::from_vec(vec![1.0, f64::NAN, 3.0, 4.0], &[2, 2]).unwrap();
        match Dataset::classification(x, vec![0, 1], 2) {
            Err(NnError::NonFinite { location, .. }) => {
                assert!(location.contains("row 0, column 1"), "{location}")
            }
            other => panic!("{other:?}"),
        }
        let x = Tensor::<f64>::zeros(&[2, 2]);
        assert!(matches!(
            Dataset::classification(x.clone(), vec![0, 2], 2),
            Err(NnError::LabelOutOfRange { label: 2, .. })
        ));
        assert!(Dataset::classification(x.clone(), vec![0], 2).is_err());
        let t = Tensor::from_vec(vec![1.0, f64::INFINITY], &[2]).unwrap();
        assert!(matches!(
            Dataset::regression(x, t),
            Err(NnError::NonFinite { .. })
        ));
    }

    #[test]
    fn tables_split_into_features_and_targets() {
        let t = Tensor::from_vec(vec![1.0, 2.0, 0.0, 3.0, 4.0, 1.0], &[2, 3]).unwrap();
        let d = Dataset::<f64>::classification_from_table(&t, 2).unwrap();
        assert_eq!(d.features.to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!((d.labels().unwrap(), d.classes()), (&[0, 1][..], Some(2)));
        let r = Dataset::<f64>::regression_from_table(&t, 0).unwrap();
        assert_eq!(r.target_values().unwrap().to_vec(), vec![1.0, 3.0]);
        let bad = Tensor::from_vec(vec![1.0, 0.5], &[1, 2]).unwrap();
        assert!(Dataset::<f64>::classification_from_table(&bad, 1).is_err());
    }
}

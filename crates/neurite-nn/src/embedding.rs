//! `Embedding`: a lookup table of learned vectors, one row per index (word, token, category).

use neurite_autograd::{Graph, Parameter, Var};
use neurite_tensor::{Float, Rng, Tensor};

use crate::error::{checked_numel, NnError, Result};
use crate::module::Module;

/// A table of `num_embeddings` vectors of size `embedding_dim`: weight [num, dim], named
/// `weight` as in PyTorch's `nn.Embedding`. Default initialisation (PyTorch's): N(0, 1).
///
/// The lookup is [`Var::index_select`] on axis 0; its backward scatter-adds the upstream
/// gradient into the looked-up rows (repeated indices accumulate).
pub struct Embedding<T: Float> {
    /// Weight [num_embeddings, embedding_dim].
    pub weight: Parameter<T>,
}

impl<T: Float> Embedding<T> {
    /// A table of `num_embeddings` rows of `embedding_dim`, N(0, 1), seeded.
    pub fn new(num_embeddings: usize, embedding_dim: usize, rng: &mut Rng) -> Result<Self> {
        if num_embeddings == 0 || embedding_dim == 0 {
            return Err(NnError::config(
                "Embedding",
                format!("sizes must be positive, got {num_embeddings} × {embedding_dim}"),
            ));
        }
        checked_numel("Embedding", &[num_embeddings, embedding_dim])?;
        neurite_tensor::alloc::check_shapes::<T>(
            &format!("Embedding({num_embeddings}, {embedding_dim})"),
            &[&[num_embeddings, embedding_dim]],
        )?;
        Ok(Embedding {
            weight: Parameter::new(Tensor::rand_normal(
                &[num_embeddings, embedding_dim],
                0.0,
                1.0,
                rng,
            )),
        })
    }

    /// A table with the given weight [num, dim] (e.g. pre-trained word vectors).
    pub fn from_weight(weight: Tensor<T>) -> Result<Self> {
        if weight.ndim() != 2 || weight.is_empty() {
            return Err(NnError::BadInput {
                layer: "Embedding::from_weight".into(),
                expected: "a non-empty weight [num_embeddings, embedding_dim]".into(),
                got: weight.shape().to_vec(),
            });
        }
        Ok(Embedding {
            weight: Parameter::new(weight),
        })
    }

    /// Number of rows (0 if `weight` was replaced by a value that is not [num, dim]; a
    /// lookup then reports it).
    pub fn num_embeddings(&self) -> usize {
        self.weight.shape().first().copied().unwrap_or(0)
    }

    /// Vector size (0 if `weight` is not [num, dim], as for [`Embedding::num_embeddings`]).
    pub fn embedding_dim(&self) -> usize {
        self.weight.shape().get(1).copied().unwrap_or(0)
    }

    /// Looks up `indices`: \[n\] → \[n, dim\]. An index ≥ num_embeddings is an
    /// [`NnError::IndexOutOfRange`] naming it and its position.
    pub fn lookup<'g>(&self, graph: &'g Graph<T>, indices: &[usize]) -> Result<Var<'g, T>> {
        let bound = self.num_embeddings();
        if let Some((position, &i)) = indices.iter().enumerate().find(|(_, &i)| i >= bound) {
            return Err(NnError::IndexOutOfRange {
                layer: self.describe(),
                index: i.to_string(),
                position,
                bound,
            });
        }
        embedding(graph.param(&self.weight), indices)
    }

    /// Looks up indices laid out in `shape` (e.g. [batch, seq]) → [.., dim].
    pub fn lookup_shaped<'g>(
        &self,
        graph: &'g Graph<T>,
        indices: &[usize],
        shape: &[usize],
    ) -> Result<Var<'g, T>> {
        // A product that overflows cannot equal the number of indices either.
        if shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) != Some(indices.len()) {
            return Err(NnError::BadInput {
                layer: self.describe(),
                expected: format!("a shape holding {} indices", indices.len()),
                got: shape.to_vec(),
            });
        }
        let mut out = shape.to_vec();
        out.push(self.embedding_dim());
        Ok(self.lookup(graph, indices)?.reshape(&out)?)
    }
}

/// The embedding lookup as a function: weight \[num, dim\], indices \[n\] → \[n, dim\].
/// ∂/∂weight: the upstream rows scatter-added to the looked-up rows.
pub fn embedding<'g, T: Float>(weight: Var<'g, T>, indices: &[usize]) -> Result<Var<'g, T>> {
    let shape = weight.shape();
    if shape.len() != 2 {
        return Err(NnError::BadInput {
            layer: "embedding".into(),
            expected: "a weight [num_embeddings, embedding_dim]".into(),
            got: shape,
        });
    }
    if let Some((position, &i)) = indices.iter().enumerate().find(|(_, &i)| i >= shape[0]) {
        return Err(NnError::IndexOutOfRange {
            layer: "embedding".into(),
            index: i.to_string(),
            position,
            bound: shape[0],
        });
    }
    Ok(weight.index_select(0, indices)?)
}

impl<T: Float> Module<T> for Embedding<T> {
    /// Input: indices stored as floats, any shape [..] (e.g. [batch, seq]) → [.., dim]. Each
    /// value must be a whole number in 0..num_embeddings.
    fn forward<'g>(&self, graph: &'g Graph<T>, x: Var<'g, T>) -> Result<Var<'g, T>> {
        let v = x.value()?;
        let bound = self.num_embeddings();
        let mut idx = Vec::with_capacity(v.len());
        for (position, f) in v.to_vec().into_iter().enumerate() {
            let f = f.to_f64();
            if !(f >= 0.0 && f < bound as f64 && f.fract() == 0.0) {
                return Err(NnError::IndexOutOfRange {
                    layer: self.describe(),
                    index: format!("{f}"),
                    position,
                    bound,
                });
            }
            idx.push(f as usize);
        }
        self.lookup_shaped(graph, &idx, v.shape())
    }
    crate::walk!(T; param weight);
    fn describe(&self) -> String {
        format!(
            "Embedding({} × {})",
            self.num_embeddings(),
            self.embedding_dim()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_gathers_rows_and_gradients_accumulate() {
        let w = Tensor::<f64>::from_vec((0..6).map(f64::from).collect(), &[3, 2]).unwrap();
        let e = Embedding::from_weight(w).unwrap();
        let g = Graph::new();
        let y = e.lookup(&g, &[2, 0, 2]).unwrap();
        assert_eq!(
            y.value().unwrap().to_vec(),
            vec![4.0, 5.0, 0.0, 1.0, 4.0, 5.0]
        );
        let grads = y.sum().unwrap().backward().unwrap();
        assert_eq!(
            grads.wrt(&e.weight).unwrap().to_vec(),
            vec![1.0, 1.0, 0.0, 0.0, 2.0, 2.0]
        );
    }

    #[test]
    fn an_overflowing_shape_or_a_reshaped_weight_is_an_error() {
        let mut rng = Rng::new(3);
        let mut e = Embedding::<f32>::new(5, 4, &mut rng).unwrap();
        let g = Graph::new();
        assert!(matches!(
            e.lookup_shaped(&g, &[0, 1], &[usize::MAX, 2]),
            Err(NnError::BadInput { .. })
        ));
        // The weight is a public parameter: a value of another rank is reported, not indexed.
        *e.weight.value_mut() = Tensor::zeros(&[5]);
        assert_eq!((e.num_embeddings(), e.embedding_dim()), (5, 0));
        let g = Graph::new();
        assert!(matches!(e.lookup(&g, &[1]), Err(NnError::BadInput { .. })));
        // A table that cannot exist (ndarray panicked building it).
        assert!(matches!(
            Embedding::<f32>::new(1 << 40, 1 << 40, &mut rng),
            Err(NnError::InvalidConfig { .. })
        ));
    }

    #[test]
    fn forward_takes_float_indices_of_any_shape() {
        let mut rng = Rng::new(3);
        let e = Embedding::<f32>::new(5, 4, &mut rng).unwrap();
        let g = Graph::new();
        let x = g.constant(Tensor::from_vec(vec![0.0, 4.0, 1.0, 1.0, 3.0, 2.0], &[2, 3]).unwrap());
        assert_eq!(e.forward(&g, x).unwrap().shape(), vec![2, 3, 4]);
    }

    #[test]
    fn out_of_range_and_fractional_indices_are_typed_errors() {
        let mut rng = Rng::new(3);
        let e = Embedding::<f32>::new(5, 4, &mut rng).unwrap();
        let g = Graph::new();
        match e.lookup(&g, &[1, 5]) {
            Err(NnError::IndexOutOfRange {
                position, bound, ..
            }) => assert_eq!((position, bound), (1, 5)),
            other => panic!("{other:?}"),
        }
        let x = g.constant(Tensor::from_vec(vec![0.5], &[1]).unwrap());
        assert!(matches!(
            e.forward(&g, x),
            Err(NnError::IndexOutOfRange { .. })
        ));
        let x = g.constant(Tensor::from_vec(vec![-1.0], &[1]).unwrap());
        assert!(e.forward(&g, x).is_err());
        assert!(Embedding::<f32>::new(0, 4, &mut rng).is_err());
    }
}

//! `LayerNorm`: normalises each sample over its last axes, then scales and shifts.

use neurite_autograd::{Graph, Parameter, Var};
use neurite_tensor::{Float, Tensor};

use crate::error::{checked_numel, NnError, Result};
use crate::module::Module;

/// Layer normalisation over the trailing `normalized_shape` axes:
/// y = (x − mean) / √(var + ε) · weight + bias, mean and (biased) variance taken per sample over
/// those axes. Parameters named `weight` (ones) and `bias` (zeros), shape `normalized_shape`,
/// as in PyTorch's `nn.LayerNorm`; ε = 1e-5 by default. Built from differentiable graph ops,
/// so its gradient is the chain rule through them.
pub struct LayerNorm<T: Float> {
    normalized_shape: Vec<usize>,
    eps: f64,
    /// Scale γ \[normalized_shape\], if affine.
    pub weight: Option<Parameter<T>>,
    /// Shift β \[normalized_shape\], if affine.
    pub bias: Option<Parameter<T>>,
}

impl<T: Float> LayerNorm<T> {
    /// Layer norm over the trailing axes `normalized_shape`, affine, ε = 1e-5.
    pub fn new(normalized_shape: &[usize]) -> Result<Self> {
        Self::with_options(normalized_shape, 1e-5, true)
    }

    /// With an explicit ε (> 0) and with or without the affine weight and bias.
    pub fn with_options(normalized_shape: &[usize], eps: f64, affine: bool) -> Result<Self> {
        if normalized_shape.is_empty() || normalized_shape.contains(&0) {
            return Err(NnError::config(
                "LayerNorm",
                format!("normalized shape must be non-empty with positive sizes, got {normalized_shape:?}"),
            ));
        }
        checked_numel("LayerNorm", normalized_shape)?;
        neurite_tensor::alloc::check_shapes::<T>(
            &format!("LayerNorm({normalized_shape:?})"),
            &[normalized_shape, normalized_shape],
        )?;
        if !(eps > 0.0 && eps.is_finite()) {
            return Err(NnError::config(
                "LayerNorm",
                format!("eps must be positive, got {eps}"),
            ));
        }
        Ok(LayerNorm {
            normalized_shape: normalized_shape.to_vec(),
            eps,
            weight: affine.then(|| Parameter::new(Tensor::ones(normalized_shape))),
            bias: affine.then(|| Parameter::new(Tensor::zeros(normalized_shape))),
        })
    }

    /// Layer norm with the given scale and optional shift (e.g. loaded from a file); the
    /// normalised shape is the weight's, the bias must have the same; ε > 0.
    pub fn from_tensors(weight: Tensor<T>, bias: Option<Tensor<T>>, eps: f64) -> Result<Self> {
        let shape = weight.shape().to_vec();
        let mut ln = Self::with_options(&shape, eps, false).map_err(|_| NnError::ParamShape {
            layer: "LayerNorm".into(),
            what: "weight",
            expected: "non-empty with positive sizes (and eps > 0)".into(),
            got: shape.clone(),
        })?;
        if let Some(b) = &bias {
            if b.shape() != shape.as_slice() {
                return Err(NnError::ParamShape {
                    layer: format!("LayerNorm({shape:?})"),
                    what: "bias",
                    expected: format!("{shape:?}"),
                    got: b.shape().to_vec(),
                });
            }
        }
        ln.weight = Some(Parameter::new(weight));
        ln.bias = bias.map(Parameter::new);
        Ok(ln)
    }
}

/// Layer normalisation as a function over the last `axes` axes of x, with optional scale and
/// shift (each shaped like those axes): (x − mean)/√(var + ε)·weight + bias.
pub fn layer_norm<'g, T: Float>(
    x: Var<'g, T>,
    axes: usize,
    weight: Option<Var<'g, T>>,
    bias: Option<Var<'g, T>>,
    eps: f64,
) -> Result<Var<'g, T>> {
    let shape = x.shape();
    if axes == 0 || axes > shape.len() {
        return Err(NnError::BadInput {
            layer: "layer_norm".into(),
            expected: format!("an input of at least {} dimension(s)", axes.max(1)),
            got: shape,
        });
    }
    let axes: Vec<usize> = (shape.len() - axes..shape.len()).collect();
    let mean = x.mean_axes(&axes, true)?;
    let centred = x.sub(mean)?;
    let var = centred.square()?.mean_axes(&axes, true)?;
    let inv_std = var.add_scalar(T::from_f64(eps))?.sqrt()?.recip()?;
    let mut y = centred.mul(inv_std)?;
    if let Some(w) = weight {
        y = y.mul(w)?;
    }
    if let Some(b) = bias {
        y = y.add(b)?;
    }
    Ok(y)
}

impl<T: Float> Module<T> for LayerNorm<T> {
    fn forward<'g>(&self, graph: &'g Graph<T>, x: Var<'g, T>) -> Result<Var<'g, T>> {
        let shape = x.shape();
        let k = self.normalized_shape.len();
        if shape.len() < k || shape[shape.len() - k..] != self.normalized_shape[..] {
            return Err(NnError::BadInput {
                layer: self.describe(),
                expected: format!("[.., {:?}]", self.normalized_shape),
                got: shape,
            });
        }
        layer_norm(
            x,
            k,
            self.weight.as_ref().map(|w| graph.param(w)),
            self.bias.as_ref().map(|b| graph.param(b)),
            self.eps,
        )
    }
    crate::walk!(T; param weight, param bias);
    fn describe(&self) -> String {
        format!("LayerNorm({:?})", self.normalized_shape)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use neurite_tensor::Rng;

    #[test]
    fn normalises_each_row() {
        let mut rng = Rng::new(4);
        let x = Tensor::<f64>::rand_normal(&[3, 8], 2.0, 5.0, &mut rng);
        let ln = LayerNorm::new(&[8]).unwrap();
        let g = Graph::new();
        let y = ln.forward(&g, g.constant(x)).unwrap().value().unwrap();
        for r in 0..3 {
            let row: Vec<f64> = (0..8).map(|c| y.get(&[r, c]).unwrap()).collect();
            let m = row.iter().sum::<f64>() / 8.0;
            let v = row.iter().map(|a| (a - m) * (a - m)).sum::<f64>() / 8.0;
            assert!(m.abs() < 1e-12 && (v - 1.0).abs() < 1e-3, "{m} {v}");
        }
        let bad = g.constant(Tensor::zeros(&[3, 7]));
        assert!(matches!(ln.forward(&g, bad), Err(NnError::BadInput { .. })));
        assert!(LayerNorm::<f64>::new(&[]).is_err());
        // A shape no tensor can have (ndarray panicked building the weight).
        assert!(matches!(
            LayerNorm::<f64>::new(&[1 << 40, 1 << 40]),
            Err(NnError::InvalidConfig { .. })
        ));
    }
}

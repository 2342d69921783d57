//! `Linear`: y = x·Wᵀ + b, the fully-connected layer (a row of neurons).

use neurite_autograd::{Graph, Parameter, Var};
use neurite_tensor::{Float, Rng};

use crate::error::{NnError, Result};
use crate::init;
use crate::module::{join, Module};

/// A fully-connected layer: y = x·Wᵀ + b with the weight stored [out, in] as in PyTorch.
///
/// Input [.., in] → output [.., out]. Default initialisation (PyTorch's): W and b uniform in
/// ±1/√in.
pub struct Linear<T: Float> {
    /// Weight [out, in].
    pub weight: Parameter<T>,
    /// Bias [out], if any.
    pub bias: Option<Parameter<T>>,
}

impl<T: Float> Linear<T> {
    /// A layer `in_features → out_features` with a bias, seeded.
    pub fn new(in_features: usize, out_features: usize, rng: &mut Rng) -> Result<Self> {
        Self::with_bias(in_features, out_features, true, rng)
    }

    /// A layer with or without a bias.
    pub fn with_bias(
        in_features: usize,
        out_features: usize,
        bias: bool,
        rng: &mut Rng,
    ) -> Result<Self> {
        if in_features == 0 || out_features == 0 {
            return Err(NnError::config(
                "Linear",
                format!("sizes must be positive, got {in_features} → {out_features}"),
            ));
        }
        let weight = Parameter::new(init::pytorch_default(
            &[out_features, in_features],
            in_features,
            rng,
        ));
        let bias =
            bias.then(|| Parameter::new(init::pytorch_default(&[out_features], in_features, rng)));
        Ok(Linear { weight, bias })
    }

    /// Input features.
    pub fn in_features(&self) -> usize {
        self.weight.shape()[1]
    }

    /// Output features.
    pub fn out_features(&self) -> usize {
        self.weight.shape()[0]
    }
}

impl<T: Float> Module<T> for Linear<T> {
    fn forward<'g>(&self, graph: &'g Graph<T>, x: Var<'g, T>) -> Result<Var<'g, T>> {
        let shape = x.shape();
        if shape.is_empty() || shape[shape.len() - 1] != self.in_features() {
            return Err(NnError::BadInput {
                layer: self.describe(),
                expected: format!("[.., {}]", self.in_features()),
                got: shape,
            });
        }
        // x·Wᵀ: the transpose is a strided view, no copy.
        let y = x.matmul(graph.param(&self.weight).t()?)?;
        match &self.bias {
            Some(b) => Ok(y.add(graph.param(b))?),
            None => Ok(y),
        }
    }
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Parameter<T>)) {
        f(&join(prefix, "weight"), &self.weight);
        if let Some(b) = &self.bias {
            f(&join(prefix, "bias"), b);
        }
    }
    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Parameter<T>)) {
        f(&join(prefix, "weight"), &mut self.weight);
        if let Some(b) = &mut self.bias {
            f(&join(prefix, "bias"), b);
        }
    }
    fn describe(&self) -> String {
        format!("Linear({} → {})", self.in_features(), self.out_features())
    }
}

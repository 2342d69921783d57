//! Activation layers and functions: sigmoid, tanh and ReLU — the three the subject teaches —
//! and leaky ReLU, ELU, GELU, softplus, softmax and log-softmax, each as a parameter-free
//! module and as a function on graph variables (module [`crate::functional`]).

use neurite_autograd::{Graph, Var};
use neurite_tensor::Float;

use crate::error::{NnError, Result};
use crate::module::Module;

macro_rules! activation {
    ($(#[$doc:meta])* $Name:ident, |$x:ident| $body:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $Name;
        impl<T: Float> Module<T> for $Name {
            fn forward<'g>(&self, _graph: &'g Graph<T>, $x: Var<'g, T>) -> Result<Var<'g, T>> {
                Ok($body?)
            }
            crate::walk!(T;);
            fn describe(&self) -> String {
                stringify!($Name).to_string()
            }
        }
    };
}

activation!(
    /// σ(x) = 1/(1 + e⁻ˣ): squashes to (0, 1); the binary output. Derivative σ(x)(1 − σ(x)).
    Sigmoid, |x| x.sigmoid()
);
activation!(
    /// tanh(x): squashes to (−1, 1), zero-centred. Derivative 1 − tanh²(x).
    Tanh, |x| x.tanh()
);
activation!(
    /// ReLU max(x, 0): the default hidden non-linearity. Derivative 1 for x > 0, else 0.
    Relu, |x| x.relu()
);
activation!(
    /// GELU x·Φ(x) (exact erf form). Derivative Φ(x) + x·φ(x).
    Gelu, |x| x.gelu()
);
activation!(
    /// softplus ln(1 + eˣ), a smooth ReLU. Derivative σ(x).
    Softplus, |x| x.softplus()
);

fn check_alpha(what: &'static str, alpha: f64) -> Result<()> {
    if alpha.is_finite() {
        Ok(())
    } else {
        Err(NnError::config(
            what,
            format!("alpha must be finite, got {alpha}"),
        ))
    }
}

/// Leaky ReLU: x for x > 0, α·x otherwise (PyTorch's default α = 0.01). Derivative 1 or α.
#[derive(Debug, Clone, Copy)]
pub struct LeakyRelu {
    alpha: f64,
}

impl Default for LeakyRelu {
    fn default() -> Self {
        LeakyRelu { alpha: 0.01 }
    }
}

impl LeakyRelu {
    /// A leaky ReLU with negative slope `alpha` (finite).
    pub fn new(alpha: f64) -> Result<Self> {
        check_alpha("LeakyRelu", alpha)?;
        Ok(LeakyRelu { alpha })
    }
    /// The negative slope α.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
}

impl<T: Float> Module<T> for LeakyRelu {
    fn forward<'g>(&self, _graph: &'g Graph<T>, x: Var<'g, T>) -> Result<Var<'g, T>> {
        Ok(x.leaky_relu(T::from_f64(self.alpha))?)
    }
    crate::walk!(T;);
    fn describe(&self) -> String {
        format!("LeakyRelu(α={})", self.alpha)
    }
}

/// ELU: x for x > 0, α(eˣ − 1) otherwise (default α = 1). Derivative 1, or α·eˣ.
#[derive(Debug, Clone, Copy)]
pub struct Elu {
    alpha: f64,
}

impl Default for Elu {
    fn default() -> Self {
        Elu { alpha: 1.0 }
    }
}

impl Elu {
    /// An ELU with scale `alpha` (finite).
    pub fn new(alpha: f64) -> Result<Self> {
        check_alpha("Elu", alpha)?;
        Ok(Elu { alpha })
    }
    /// The scale α.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
}

impl<T: Float> Module<T> for Elu {
    fn forward<'g>(&self, _graph: &'g Graph<T>, x: Var<'g, T>) -> Result<Var<'g, T>> {
        Ok(x.elu(T::from_f64(self.alpha))?)
    }
    crate::walk!(T;);
    fn describe(&self) -> String {
        format!("Elu(α={})", self.alpha)
    }
}

/// Resolves an optional axis (None = last) against a shape, or says what is wrong.
fn resolve_axis(layer: &str, axis: Option<usize>, shape: &[usize]) -> Result<usize> {
    let a = match axis {
        Some(a) => a,
        None => shape.len().wrapping_sub(1),
    };
    if a < shape.len() {
        Ok(a)
    } else {
        Err(NnError::BadInput {
            layer: layer.to_string(),
            expected: match axis {
                Some(a) => format!("an input with more than {a} dimensions"),
                None => "an input of at least 1 dimension".to_string(),
            },
            got: shape.to_vec(),
        })
    }
}

/// Softmax along an axis (default: the last): eˣⁱ / Σⱼ eˣʲ, stable. The multi-class output
/// (for training, prefer raw logits with [`crate::cross_entropy`], which fuses it).
#[derive(Debug, Clone, Copy, Default)]
pub struct Softmax {
    axis: Option<usize>,
}

impl Softmax {
    /// Softmax along `axis`.
    pub fn new(axis: usize) -> Self {
        Softmax { axis: Some(axis) }
    }
}

impl<T: Float> Module<T> for Softmax {
    fn forward<'g>(&self, _graph: &'g Graph<T>, x: Var<'g, T>) -> Result<Var<'g, T>> {
        let axis = resolve_axis("Softmax", self.axis, &x.shape())?;
        Ok(x.softmax(axis)?)
    }
    crate::walk!(T;);
    fn describe(&self) -> String {
        match self.axis {
            Some(a) => format!("Softmax(axis={a})"),
            None => "Softmax".into(),
        }
    }
}

/// Log-softmax along an axis (default: the last): x − ln Σ eˣ, stable. Pairs with [`crate::nll`].
#[derive(Debug, Clone, Copy, Default)]
pub struct LogSoftmax {
    axis: Option<usize>,
}

impl LogSoftmax {
    /// Log-softmax along `axis`.
    pub fn new(axis: usize) -> Self {
        LogSoftmax { axis: Some(axis) }
    }
}

impl<T: Float> Module<T> for LogSoftmax {
    fn forward<'g>(&self, _graph: &'g Graph<T>, x: Var<'g, T>) -> Result<Var<'g, T>> {
        let axis = resolve_axis("LogSoftmax", self.axis, &x.shape())?;
        Ok(x.log_softmax(axis)?)
    }
    crate::walk!(T;);
    fn describe(&self) -> String {
        match self.axis {
            Some(a) => format!("LogSoftmax(axis={a})"),
            None => "LogSoftmax".into(),
        }
    }
}

/// The activations as functions on graph variables (same maths as the layers).
pub mod functional {
    use neurite_autograd::Var;
    use neurite_tensor::Float;

    use super::{check_alpha, resolve_axis};
    use crate::error::Result;

    /// σ(x) = 1/(1 + e⁻ˣ).
    pub fn sigmoid<'g, T: Float>(x: Var<'g, T>) -> Result<Var<'g, T>> {
        Ok(x.sigmoid()?)
    }
    /// tanh(x).
    pub fn tanh<'g, T: Float>(x: Var<'g, T>) -> Result<Var<'g, T>> {
        Ok(x.tanh()?)
    }
    /// max(x, 0).
    pub fn relu<'g, T: Float>(x: Var<'g, T>) -> Result<Var<'g, T>> {
        Ok(x.relu()?)
    }
    /// x for x > 0, α·x otherwise.
    pub fn leaky_relu<'g, T: Float>(x: Var<'g, T>, alpha: f64) -> Result<Var<'g, T>> {
        check_alpha("leaky_relu", alpha)?;
        Ok(x.leaky_relu(T::from_f64(alpha))?)
    }
    /// x for x > 0, α(eˣ − 1) otherwise.
    pub fn elu<'g, T: Float>(x: Var<'g, T>, alpha: f64) -> Result<Var<'g, T>> {
        check_alpha("elu", alpha)?;
        Ok(x.elu(T::from_f64(alpha))?)
    }
    /// x·Φ(x).
    pub fn gelu<'g, T: Float>(x: Var<'g, T>) -> Result<Var<'g, T>> {
        Ok(x.gelu()?)
    }
    /// ln(1 + eˣ).
    pub fn softplus<'g, T: Float>(x: Var<'g, T>) -> Result<Var<'g, T>> {
        Ok(x.softplus()?)
    }
    /// Softmax along `axis`.
    pub fn softmax<'g, T: Float>(x: Var<'g, T>, axis: usize) -> Result<Var<'g, T>> {
        let axis = resolve_axis("softmax", Some(axis), &x.shape())?;
        Ok(x.softmax(axis)?)
    }
    /// Log-softmax along `axis`.
    pub fn log_softmax<'g, T: Float>(x: Var<'g, T>, axis: usize) -> Result<Var<'g, T>> {
        let axis = resolve_axis("log_softmax", Some(axis), &x.shape())?;
        Ok(x.log_softmax(axis)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use neurite_tensor::Tensor;

    #[test]
    fn layers_match_functions_and_values() {
        let g = Graph::<f64>::new();
        let x = g.constant(Tensor::from_vec(vec![-2.0, 0.5, 3.0, -0.1], &[2, 2]).unwrap());
        let y = LeakyRelu::new(0.1).unwrap().forward(&g, x).unwrap();
        assert_eq!(
            y.value().unwrap().to_vec(),
            vec![-0.2, 0.5, 3.0, -0.010000000000000002]
        );
        let e = Elu::default()
            .forward(&g, x)
            .unwrap()
            .value()
            .unwrap()
            .to_vec();
        assert!((e[0] - ((-2.0f64).exp() - 1.0)).abs() < 1e-12);
        let s = Softmax::default().forward(&g, x).unwrap().value().unwrap();
        let rows = s.sum_axes(&[1], false).unwrap().to_vec();
        assert!(rows.iter().all(|r| (r - 1.0).abs() < 1e-12));
        let ls = LogSoftmax::new(0).forward(&g, x).unwrap().value().unwrap();
        let f = functional::log_softmax(x, 0).unwrap().value().unwrap();
        assert_eq!(ls, f);
    }

    #[test]
    fn bad_axis_and_alpha_are_typed_errors() {
        let g = Graph::<f64>::new();
        let x = g.constant(Tensor::zeros(&[2, 3]));
        assert!(matches!(
            Softmax::new(2).forward(&g, x),
            Err(NnError::BadInput { .. })
        ));
        assert!(matches!(
            LeakyRelu::new(f64::NAN),
            Err(NnError::InvalidConfig { .. })
        ));
        let s = g.constant(Tensor::scalar(1.0));
        assert!(LogSoftmax::default().forward(&g, s).is_err());
    }
}

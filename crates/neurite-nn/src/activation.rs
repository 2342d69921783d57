//! Activation layers: sigmoid, tanh and ReLU — the three the subject teaches — and the usual
//! others, as parameter-free modules over the graph ops of the same names.

use neurite_autograd::{Graph, Parameter, Var};
use neurite_tensor::Float;

use crate::error::Result;
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
            fn visit_params(&self, _prefix: &str, _f: &mut dyn FnMut(&str, &Parameter<T>)) {}
            fn visit_params_mut(&mut self, _prefix: &str, _f: &mut dyn FnMut(&str, &mut Parameter<T>)) {}
            fn describe(&self) -> String {
                stringify!($Name).to_string()
            }
        }
    };
}

activation!(
    /// σ(x) = 1/(1 + e⁻ˣ): squashes to (0, 1); the binary output.
    Sigmoid, |x| x.sigmoid()
);
activation!(
    /// tanh(x): squashes to (−1, 1), zero-centred.
    Tanh, |x| x.tanh()
);
activation!(
    /// ReLU max(x, 0): the default hidden non-linearity.
    Relu, |x| x.relu()
);
activation!(
    /// GELU x·Φ(x) (exact erf form).
    Gelu, |x| x.gelu()
);
activation!(
    /// softplus ln(1 + eˣ), a smooth ReLU.
    Softplus, |x| x.softplus()
);

//! One walk per module: [`walk!`](crate::walk!) writes a module's `visit_params`,
//! `visit_params_mut`, `visit_buffers`, `visit_buffers_mut` and `visit_rngs` from one list of its
//! fields, so a new layer states its parameters once.
//!
//! ```
//! use neurite_autograd::{Graph, Parameter, Var};
//! use neurite_nn::{param_shapes, Linear, Module, Result};
//! use neurite_tensor::{Float, Rng, Tensor};
//!
//! /// A gated layer: a linear map and a learnable per-feature gate.
//! struct Gated<T: Float> {
//!     proj: Linear<T>,
//!     gate: Parameter<T>,
//!     shift: Option<Parameter<T>>,
//! }
//!
//! impl<T: Float> Module<T> for Gated<T> {
//!     fn forward<'g>(&self, g: &'g Graph<T>, x: Var<'g, T>) -> Result<Var<'g, T>> {
//!         Ok(self.proj.forward(g, x)?.mul(g.param(&self.gate))?)
//!     }
//!     neurite_nn::walk!(T; module proj, param gate, param shift);
//! }
//!
//! let mut rng = Rng::new(0);
//! let m = Gated::<f32> {
//!     proj: Linear::new(3, 2, &mut rng)?,
//!     gate: Parameter::new(Tensor::ones(&[2])),
//!     shift: None,
//! };
//! let names: Vec<String> = param_shapes(&m).into_iter().map(|(n, _)| n).collect();
//! assert_eq!(names, ["proj.weight", "proj.bias", "gate"]);
//! # Ok::<(), neurite_nn::NnError>(())
//! ```
//!
//! Field kinds: `param` — a `Parameter` or `Option<Parameter>`; `module` — any [`Module`]
//! (its names get the field name as prefix); `buffer` — a `Tensor` or `Option<Tensor>` (saved,
//! not trained) or an `i64` counter. Names are the field names, as PyTorch names attributes.

pub use neurite_autograd::Parameter;
pub use neurite_tensor::Rng;
use neurite_tensor::{Float, Tensor};

use crate::module::{join, Buffer, BufferMut, Module};

/// Writes a module's parameter, buffer and generator walks from one list of `kind field`
/// entries (see the [module doc](mod@crate::walk)); use it inside `impl Module<T> for …`.
#[macro_export]
macro_rules! walk {
    ($T:ty; $($kind:ident $field:ident),* $(,)?) => {
        fn visit_params(
            &self,
            prefix: &str,
            f: &mut dyn FnMut(&str, &$crate::walk::Parameter<$T>),
        ) {
            $( $crate::walk::$kind::params(&self.$field, prefix, stringify!($field), f); )*
        }
        fn visit_params_mut(
            &mut self,
            prefix: &str,
            f: &mut dyn FnMut(&str, &mut $crate::walk::Parameter<$T>),
        ) {
            $( $crate::walk::$kind::params_mut(&mut self.$field, prefix, stringify!($field), f); )*
        }
        fn visit_buffers(&self, prefix: &str, f: &mut dyn FnMut(&str, $crate::Buffer<'_, $T>)) {
            $( $crate::walk::$kind::buffers(&self.$field, prefix, stringify!($field), f); )*
        }
        fn visit_buffers_mut(
            &mut self,
            prefix: &str,
            f: &mut dyn FnMut(&str, $crate::BufferMut<'_, $T>),
        ) {
            $( $crate::walk::$kind::buffers_mut(&mut self.$field, prefix, stringify!($field), f); )*
        }
        fn visit_rngs(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut $crate::walk::Rng)) {
            $( $crate::walk::$kind::rngs::<$T, _>(&mut self.$field, prefix, stringify!($field), f); )*
        }
    };
}

/// A field holding zero or one parameter.
pub trait ParamField<T: Float> {
    /// The parameter, if any.
    fn get(&self) -> Option<&Parameter<T>>;
    /// The parameter, mutably.
    fn get_mut(&mut self) -> Option<&mut Parameter<T>>;
}

impl<T: Float> ParamField<T> for Parameter<T> {
    fn get(&self) -> Option<&Parameter<T>> {
        Some(self)
    }
    fn get_mut(&mut self) -> Option<&mut Parameter<T>> {
        Some(self)
    }
}

impl<T: Float> ParamField<T> for Option<Parameter<T>> {
    fn get(&self) -> Option<&Parameter<T>> {
        self.as_ref()
    }
    fn get_mut(&mut self) -> Option<&mut Parameter<T>> {
        self.as_mut()
    }
}

/// A field holding zero or one buffer.
pub trait BufferField<T: Float> {
    /// The buffer, if any.
    fn get(&self) -> Option<Buffer<'_, T>>;
    /// The buffer, mutably.
    fn get_mut(&mut self) -> Option<BufferMut<'_, T>>;
}

impl<T: Float> BufferField<T> for Tensor<T> {
    fn get(&self) -> Option<Buffer<'_, T>> {
        Some(Buffer::Float(self))
    }
    fn get_mut(&mut self) -> Option<BufferMut<'_, T>> {
        Some(BufferMut::Float(self))
    }
}

impl<T: Float> BufferField<T> for Option<Tensor<T>> {
    fn get(&self) -> Option<Buffer<'_, T>> {
        self.as_ref().map(Buffer::Float)
    }
    fn get_mut(&mut self) -> Option<BufferMut<'_, T>> {
        self.as_mut().map(BufferMut::Float)
    }
}

impl<T: Float> BufferField<T> for i64 {
    fn get(&self) -> Option<Buffer<'_, T>> {
        Some(Buffer::Count(self))
    }
    fn get_mut(&mut self) -> Option<BufferMut<'_, T>> {
        Some(BufferMut::Count(self))
    }
}

type Pf<'a, T> = &'a mut dyn FnMut(&str, &Parameter<T>);
type PfMut<'a, T> = &'a mut dyn FnMut(&str, &mut Parameter<T>);
type Bf<'a, T> = &'a mut dyn FnMut(&str, Buffer<'_, T>);
type BfMut<'a, T> = &'a mut dyn FnMut(&str, BufferMut<'_, T>);
type Rf<'a> = &'a mut dyn FnMut(&str, &mut Rng);

/// `param` fields.
pub mod param {
    use super::*;
    /// Visits the parameter.
    pub fn params<T: Float, P: ParamField<T>>(p: &P, prefix: &str, name: &str, f: Pf<'_, T>) {
        if let Some(p) = p.get() {
            f(&join(prefix, name), p);
        }
    }
    /// Visits the parameter mutably.
    pub fn params_mut<T: Float, P: ParamField<T>>(
        p: &mut P,
        prefix: &str,
        name: &str,
        f: PfMut<'_, T>,
    ) {
        if let Some(p) = p.get_mut() {
            f(&join(prefix, name), p);
        }
    }
    /// No buffers.
    pub fn buffers<T: Float, P: ParamField<T>>(_: &P, _: &str, _: &str, _: Bf<'_, T>) {}
    /// No buffers.
    pub fn buffers_mut<T: Float, P: ParamField<T>>(_: &mut P, _: &str, _: &str, _: BfMut<'_, T>) {}
    /// No generators.
    pub fn rngs<T: Float, P: ParamField<T>>(_: &mut P, _: &str, _: &str, _: Rf<'_>) {}
}

/// `buffer` fields.
pub mod buffer {
    use super::*;
    /// No parameters.
    pub fn params<T: Float, B: BufferField<T>>(_: &B, _: &str, _: &str, _: Pf<'_, T>) {}
    /// No parameters.
    pub fn params_mut<T: Float, B: BufferField<T>>(_: &mut B, _: &str, _: &str, _: PfMut<'_, T>) {}
    /// Visits the buffer.
    pub fn buffers<T: Float, B: BufferField<T>>(b: &B, prefix: &str, name: &str, f: Bf<'_, T>) {
        if let Some(b) = b.get() {
            f(&join(prefix, name), b);
        }
    }
    /// Visits the buffer mutably.
    pub fn buffers_mut<T: Float, B: BufferField<T>>(
        b: &mut B,
        prefix: &str,
        name: &str,
        f: BfMut<'_, T>,
    ) {
        if let Some(b) = b.get_mut() {
            f(&join(prefix, name), b);
        }
    }
    /// No generators.
    pub fn rngs<T: Float, B: BufferField<T>>(_: &mut B, _: &str, _: &str, _: Rf<'_>) {}
}

/// `module` fields: the child's walks under the field's name.
pub mod module {
    use super::*;
    /// The child's parameters.
    pub fn params<T: Float, M: Module<T>>(m: &M, prefix: &str, name: &str, f: Pf<'_, T>) {
        m.visit_params(&join(prefix, name), f)
    }
    /// The child's parameters, mutably.
    pub fn params_mut<T: Float, M: Module<T>>(
        m: &mut M,
        prefix: &str,
        name: &str,
        f: PfMut<'_, T>,
    ) {
        m.visit_params_mut(&join(prefix, name), f)
    }
    /// The child's buffers.
    pub fn buffers<T: Float, M: Module<T>>(m: &M, prefix: &str, name: &str, f: Bf<'_, T>) {
        m.visit_buffers(&join(prefix, name), f)
    }
    /// The child's buffers, mutably.
    pub fn buffers_mut<T: Float, M: Module<T>>(
        m: &mut M,
        prefix: &str,
        name: &str,
        f: BfMut<'_, T>,
    ) {
        m.visit_buffers_mut(&join(prefix, name), f)
    }
    /// The child's generators.
    pub fn rngs<T: Float, M: Module<T>>(m: &mut M, prefix: &str, name: &str, f: Rf<'_>) {
        m.visit_rngs(&join(prefix, name), f)
    }
}

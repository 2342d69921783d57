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
//! Field kinds, each entry `kind field`:
//!
//! | kind | field type | names |
//! |---|---|---|
//! | `param` | `Parameter` or `Option<Parameter>` | the field's |
//! | `buffer` | `Tensor`, `Option<Tensor>` (saved, not trained) or an `i64` counter | the field's |
//! | `rng` | `Rng` or `RefCell<Rng>` (a generator the forward pass draws from) | the field's |
//! | `module` | any [`Module`] | the child's, under the field's name |
//! | `modules` | `Vec` (or slice) of modules (`Box<dyn Module>` too) | element i's under `i` |
//! | `inner` | a [`Module`] this one wraps (a newtype) | the child's, unprefixed |
//! | `part` | a [`Walk`] part, or `Option` / `RefCell` of one | the part's, unprefixed |
//! | `parts` | `Vec` (or slice) of [`Walk`] parts | element i's, each name suffixed |
//!
//! Names are the field names, as PyTorch names attributes; `field as name` names the entry
//! otherwise (`buffer mean as running_mean`, `module l1 as 0`), and `modules field by method`
//! / `parts field by method` take element i's name (suffix) from `self.method(i)` (PyTorch's
//! `conv3`, or `_l0_reverse` for recurrent weights). Entries are walked in the order listed:
//! that order is the parameter order optimisers and checkpoints rely on.

pub use neurite_autograd::Parameter;
pub use neurite_tensor::Rng;
use std::cell::RefCell;

use neurite_tensor::{Float, Tensor};

use crate::module::{join, Buffer, BufferMut, Module};

/// Writes a module's parameter, buffer and generator walks from one list of `kind field`
/// entries (see the [module doc](mod@crate::walk)); use it inside `impl Module<T> for …` or
/// `impl Walk<T> for …`.
#[macro_export]
macro_rules! walk {
    ($T:ty; $($kind:ident $field:tt $(as $name:tt)? $(by $namer:ident)?),* $(,)?) => {
        #[allow(unused_variables)]
        fn visit_params(
            &self,
            prefix: &str,
            f: &mut dyn FnMut(&str, &$crate::walk::Parameter<$T>),
        ) {
            $({
                let name = $crate::__walk_name!(self, $field $(as $name)? $(by $namer)?);
                $crate::walk::$kind::params(&self.$field, prefix, &name, f);
            })*
        }
        #[allow(unused_variables)]
        fn visit_params_mut(
            &mut self,
            prefix: &str,
            f: &mut dyn FnMut(&str, &mut $crate::walk::Parameter<$T>),
        ) {
            $({
                let name = $crate::__walk_name!(self, $field $(as $name)? $(by $namer)?);
                $crate::walk::$kind::params_mut(&mut self.$field, prefix, &name, f);
            })*
        }
        #[allow(unused_variables)]
        fn visit_buffers(&self, prefix: &str, f: &mut dyn FnMut(&str, $crate::Buffer<'_, $T>)) {
            $({
                let name = $crate::__walk_name!(self, $field $(as $name)? $(by $namer)?);
                $crate::walk::$kind::buffers(&self.$field, prefix, &name, f);
            })*
        }
        #[allow(unused_variables)]
        fn visit_buffers_mut(
            &mut self,
            prefix: &str,
            f: &mut dyn FnMut(&str, $crate::BufferMut<'_, $T>),
        ) {
            $({
                let name = $crate::__walk_name!(self, $field $(as $name)? $(by $namer)?);
                $crate::walk::$kind::buffers_mut(&mut self.$field, prefix, &name, f);
            })*
        }
        #[allow(unused_variables)]
        fn visit_rngs(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut $crate::walk::Rng)) {
            $({
                let name = $crate::__walk_name!(self, $field $(as $name)? $(by $namer)?);
                $crate::walk::$kind::rngs::<$T, _>(&mut self.$field, prefix, &name, f);
            })*
        }
    };
}

/// The [`Name`] of one `walk!` entry (an implementation detail of [`walk!`](crate::walk!)).
#[doc(hidden)]
#[macro_export]
macro_rules! __walk_name {
    ($s:ident, $field:tt) => {
        $crate::walk::Name::Field(stringify!($field))
    };
    ($s:ident, $field:tt as $name:tt) => {
        $crate::walk::Name::Field(stringify!($name))
    };
    ($s:ident, $field:tt by $namer:ident) => {
        $crate::walk::Name::Each((0..$s.$field.len()).map(|i| $s.$namer(i)).collect())
    };
}

/// The name of a `walk!` entry: the field's (or its `as` name), or one per element (`by`).
#[derive(Debug, Clone)]
pub enum Name {
    /// One name.
    Field(&'static str),
    /// Element i's name (or suffix).
    Each(Vec<String>),
}

impl Name {
    /// The entry's name (for a `by` entry, its names joined, which no single field uses).
    fn one(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Name::Field(n) => (*n).into(),
            Name::Each(v) => v.join("_").into(),
        }
    }
    /// Element i's name: the `by` name, else the position.
    fn each(&self, i: usize) -> String {
        match self {
            Name::Each(v) => v.get(i).cloned().unwrap_or_else(|| i.to_string()),
            Name::Field(_) => i.to_string(),
        }
    }
}

/// A part of a module that is not a module itself (no forward): a group of parameters or
/// buffers walked under the module's own prefix — a recurrent cell's four weights, BatchNorm's
/// running statistics. Write it with [`walk!`](crate::walk!) inside `impl Walk<T> for …`.
pub trait Walk<T: Float> {
    /// Visits every parameter with its dotted name, in a stable order.
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Parameter<T>));
    /// Visits every parameter mutably, in the same order.
    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Parameter<T>));
    /// Visits every buffer with its dotted name. Default: none.
    fn visit_buffers(&self, _prefix: &str, _f: &mut dyn FnMut(&str, Buffer<'_, T>)) {}
    /// Visits every buffer mutably, in the same order. Default: none.
    fn visit_buffers_mut(&mut self, _prefix: &str, _f: &mut dyn FnMut(&str, BufferMut<'_, T>)) {}
    /// Visits every random generator. Default: none.
    fn visit_rngs(&mut self, _prefix: &str, _f: &mut dyn FnMut(&str, &mut Rng)) {}
}

impl<T: Float, W: Walk<T>> Walk<T> for Option<W> {
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Parameter<T>)) {
        if let Some(w) = self {
            w.visit_params(prefix, f)
        }
    }
    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Parameter<T>)) {
        if let Some(w) = self {
            w.visit_params_mut(prefix, f)
        }
    }
    fn visit_buffers(&self, prefix: &str, f: &mut dyn FnMut(&str, Buffer<'_, T>)) {
        if let Some(w) = self {
            w.visit_buffers(prefix, f)
        }
    }
    fn visit_buffers_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, BufferMut<'_, T>)) {
        if let Some(w) = self {
            w.visit_buffers_mut(prefix, f)
        }
    }
    fn visit_rngs(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Rng)) {
        if let Some(w) = self {
            w.visit_rngs(prefix, f)
        }
    }
}

/// A part a forward pass updates through `&self` (running statistics).
impl<T: Float, W: Walk<T>> Walk<T> for RefCell<W> {
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Parameter<T>)) {
        self.borrow().visit_params(prefix, f)
    }
    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Parameter<T>)) {
        self.get_mut().visit_params_mut(prefix, f)
    }
    fn visit_buffers(&self, prefix: &str, f: &mut dyn FnMut(&str, Buffer<'_, T>)) {
        self.borrow().visit_buffers(prefix, f)
    }
    fn visit_buffers_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, BufferMut<'_, T>)) {
        self.get_mut().visit_buffers_mut(prefix, f)
    }
    fn visit_rngs(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Rng)) {
        self.get_mut().visit_rngs(prefix, f)
    }
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

/// A field holding a random generator.
pub trait RngField {
    /// The generator.
    fn get_mut(&mut self) -> &mut Rng;
}

impl RngField for Rng {
    fn get_mut(&mut self) -> &mut Rng {
        self
    }
}

impl RngField for RefCell<Rng> {
    fn get_mut(&mut self) -> &mut Rng {
        RefCell::get_mut(self)
    }
}

type Pf<'a, T> = &'a mut dyn FnMut(&str, &Parameter<T>);
type PfMut<'a, T> = &'a mut dyn FnMut(&str, &mut Parameter<T>);
type Bf<'a, T> = &'a mut dyn FnMut(&str, Buffer<'_, T>);
type BfMut<'a, T> = &'a mut dyn FnMut(&str, BufferMut<'_, T>);
type Rf<'a> = &'a mut dyn FnMut(&str, &mut Rng);

/// Writes the walks of a kind with nothing of one sort (`params`, `buffers`, `rngs`).
macro_rules! none {
    (params $($b:tt)*) => {
        /// None.
        pub fn params<T: Float, $($b)*>(_: &F, _: &str, _: &Name, _: Pf<'_, T>) {}
        /// None.
        pub fn params_mut<T: Float, $($b)*>(_: &mut F, _: &str, _: &Name, _: PfMut<'_, T>) {}
    };
    (buffers $($b:tt)*) => {
        /// None.
        pub fn buffers<T: Float, $($b)*>(_: &F, _: &str, _: &Name, _: Bf<'_, T>) {}
        /// None.
        pub fn buffers_mut<T: Float, $($b)*>(_: &mut F, _: &str, _: &Name, _: BfMut<'_, T>) {}
    };
    (rngs $($b:tt)*) => {
        /// None.
        pub fn rngs<T: Float, $($b)*>(_: &mut F, _: &str, _: &Name, _: Rf<'_>) {}
    };
}

/// `param` fields.
pub mod param {
    use super::*;
    /// Visits the parameter.
    pub fn params<T: Float, P: ParamField<T>>(p: &P, prefix: &str, name: &Name, f: Pf<'_, T>) {
        if let Some(p) = p.get() {
            f(&join(prefix, &name.one()), p);
        }
    }
    /// Visits the parameter mutably.
    pub fn params_mut<T: Float, P: ParamField<T>>(
        p: &mut P,
        prefix: &str,
        name: &Name,
        f: PfMut<'_, T>,
    ) {
        if let Some(p) = p.get_mut() {
            f(&join(prefix, &name.one()), p);
        }
    }
    none!(buffers F: ParamField<T>);
    none!(rngs F: ParamField<T>);
}

/// `buffer` fields.
pub mod buffer {
    use super::*;
    none!(params F: BufferField<T>);
    /// Visits the buffer.
    pub fn buffers<T: Float, B: BufferField<T>>(b: &B, prefix: &str, name: &Name, f: Bf<'_, T>) {
        if let Some(b) = b.get() {
            f(&join(prefix, &name.one()), b);
        }
    }
    /// Visits the buffer mutably.
    pub fn buffers_mut<T: Float, B: BufferField<T>>(
        b: &mut B,
        prefix: &str,
        name: &Name,
        f: BfMut<'_, T>,
    ) {
        if let Some(b) = b.get_mut() {
            f(&join(prefix, &name.one()), b);
        }
    }
    none!(rngs F: BufferField<T>);
}

/// `rng` fields.
pub mod rng {
    use super::*;
    none!(params F: RngField);
    none!(buffers F: RngField);
    /// Visits the generator.
    pub fn rngs<T: Float, R: RngField>(r: &mut R, prefix: &str, name: &Name, f: Rf<'_>) {
        f(&join(prefix, &name.one()), r.get_mut());
    }
}

/// Writes the five walks of a kind whose field holds walkable things: `$each(field)` yields
/// `(prefix of the element, suffix of its names, element)`.
macro_rules! walks {
    ($bound:path, $F:ty, |$field:ident, $prefix:ident, $name:ident| $each:expr, $each_mut:expr) => {
        /// The parameters.
        pub fn params<T: Float, M: $bound>($field: &$F, $prefix: &str, $name: &Name, f: Pf<'_, T>) {
            for (p, sfx, m) in $each {
                if sfx.is_empty() {
                    m.visit_params(&p, f);
                } else {
                    m.visit_params(&p, &mut |n, x| f(&format!("{n}{sfx}"), x));
                }
            }
        }
        /// The parameters, mutably.
        pub fn params_mut<T: Float, M: $bound>(
            $field: &mut $F,
            $prefix: &str,
            $name: &Name,
            f: PfMut<'_, T>,
        ) {
            for (p, sfx, m) in $each_mut {
                if sfx.is_empty() {
                    m.visit_params_mut(&p, f);
                } else {
                    m.visit_params_mut(&p, &mut |n, x| f(&format!("{n}{sfx}"), x));
                }
            }
        }
        /// The buffers.
        pub fn buffers<T: Float, M: $bound>(
            $field: &$F,
            $prefix: &str,
            $name: &Name,
            f: Bf<'_, T>,
        ) {
            for (p, sfx, m) in $each {
                if sfx.is_empty() {
                    m.visit_buffers(&p, f);
                } else {
                    m.visit_buffers(&p, &mut |n, x| f(&format!("{n}{sfx}"), x));
                }
            }
        }
        /// The buffers, mutably.
        pub fn buffers_mut<T: Float, M: $bound>(
            $field: &mut $F,
            $prefix: &str,
            $name: &Name,
            f: BfMut<'_, T>,
        ) {
            for (p, sfx, m) in $each_mut {
                if sfx.is_empty() {
                    m.visit_buffers_mut(&p, f);
                } else {
                    m.visit_buffers_mut(&p, &mut |n, x| f(&format!("{n}{sfx}"), x));
                }
            }
        }
        /// The generators.
        pub fn rngs<T: Float, M: $bound>($field: &mut $F, $prefix: &str, $name: &Name, f: Rf<'_>) {
            for (p, sfx, m) in $each_mut {
                if sfx.is_empty() {
                    m.visit_rngs(&p, f);
                } else {
                    m.visit_rngs(&p, &mut |n, x| f(&format!("{n}{sfx}"), x));
                }
            }
        }
    };
}

/// `module` fields: the child's walks under the field's name.
pub mod module {
    use super::*;
    walks!(
        Module<T>,
        M,
        |m, prefix, name| [(join(prefix, &name.one()), String::new(), m)],
        [(join(prefix, &name.one()), String::new(), m)]
    );
}

/// `inner` fields: the wrapped module's walks under this module's own prefix.
pub mod inner {
    use super::*;
    walks!(
        Module<T>,
        M,
        |m, prefix, _name| [(prefix.to_string(), String::new(), m)],
        [(prefix.to_string(), String::new(), m)]
    );
}

/// `modules` fields: element i's walks under its position (or its `by` name).
pub mod modules {
    use super::*;
    walks!(
        Module<T>,
        [M],
        |v, prefix, name| v.iter().enumerate().map(|(i, m)| (
            join(prefix, &name.each(i)),
            String::new(),
            m
        )),
        v.iter_mut()
            .enumerate()
            .map(|(i, m)| (join(prefix, &name.each(i)), String::new(), m))
    );
}

/// `part` fields: the part's walks under this module's own prefix.
pub mod part {
    use super::*;
    walks!(
        Walk<T>,
        M,
        |m, prefix, _name| [(prefix.to_string(), String::new(), m)],
        [(prefix.to_string(), String::new(), m)]
    );
}

/// `parts` fields: element i's walks under this module's own prefix, every name suffixed with
/// its `by` name (or position).
pub mod parts {
    use super::*;
    walks!(
        Walk<T>,
        [M],
        |v, prefix, name| v
            .iter()
            .enumerate()
            .map(|(i, m)| (prefix.to_string(), name.each(i), m)),
        v.iter_mut()
            .enumerate()
            .map(|(i, m)| (prefix.to_string(), name.each(i), m))
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BatchNorm1d, Dropout, Embedding, LayerNorm, Linear, Relu, Sequential};
    use neurite_autograd::{Graph, Var};

    /// Every walk of `m` as names, in order: parameters, parameters walked mutably, buffers,
    /// buffers walked mutably, generators.
    fn walks<M: Module<f32>>(m: &mut M, prefix: &str) -> [Vec<String>; 5] {
        let mut out: [Vec<String>; 5] = Default::default();
        m.visit_params(prefix, &mut |n, _| out[0].push(n.to_string()));
        m.visit_params_mut(prefix, &mut |n, _| out[1].push(n.to_string()));
        m.visit_buffers(prefix, &mut |n, _| out[2].push(n.to_string()));
        m.visit_buffers_mut(prefix, &mut |n, _| out[3].push(n.to_string()));
        m.visit_rngs(prefix, &mut |n, _| out[4].push(n.to_string()));
        out
    }

    /// A model of every kind of entry, in an order unlike the alphabet's.
    struct Net {
        seq: Sequential<f32>,
        heads: Vec<Linear<f32>>,
        scale: Parameter<f32>,
        absent: Option<Parameter<f32>>,
        steps: i64,
        drop: Dropout,
        embed: Embedding<f32>,
    }

    impl Net {
        fn head_name(&self, i: usize) -> String {
            format!("head{}", 10 - i)
        }
    }

    impl Module<f32> for Net {
        fn forward<'g>(&self, _: &'g Graph<f32>, x: Var<'g, f32>) -> crate::Result<Var<'g, f32>> {
            Ok(x)
        }
        crate::walk!(f32; module seq, modules heads by head_name, param scale, param absent,
            buffer steps as count, module drop, module embed);
    }

    #[test]
    fn parameter_buffer_and_generator_order_is_pinned() {
        // Optimiser state and checkpoints follow this order and these names (PyTorch's).
        let rng = &mut Rng::new(0);
        let mut net = Net {
            seq: Sequential::new()
                .add(Linear::new(3, 4, rng).unwrap())
                .add(Relu)
                .add(BatchNorm1d::new(4).unwrap())
                .add(Dropout::new(0.5, 1).unwrap())
                .add(LayerNorm::new(&[4]).unwrap()),
            heads: vec![
                Linear::new(4, 2, rng).unwrap(),
                Linear::new(4, 1, rng).unwrap(),
            ],
            scale: Parameter::new(Tensor::ones(&[1])),
            absent: None,
            steps: 0,
            drop: Dropout::new(0.1, 2).unwrap(),
            embed: Embedding::new(5, 2, rng).unwrap(),
        };
        let params = [
            "seq.0.weight",
            "seq.0.bias",
            "seq.2.weight",
            "seq.2.bias",
            "seq.4.weight",
            "seq.4.bias",
            "head10.weight",
            "head10.bias",
            "head9.weight",
            "head9.bias",
            "scale",
            "embed.weight",
        ];
        let buffers = [
            "seq.2.running_mean",
            "seq.2.running_var",
            "seq.2.num_batches_tracked",
            "count",
        ];
        let rngs = ["seq.3.rng", "drop.rng"];
        let [p, pm, b, bm, r] = walks(&mut net, "");
        assert_eq!(p, params);
        assert_eq!(pm, params);
        assert_eq!(b, buffers);
        assert_eq!(bm, buffers);
        assert_eq!(r, rngs);
        // Under a prefix, every name gets it with a dot.
        let [p, _, b, _, r] = walks(&mut net, "net");
        assert_eq!(p[0], "net.seq.0.weight");
        assert_eq!(p[6], "net.head10.weight");
        assert_eq!(b[3], "net.count");
        assert_eq!(r[1], "net.drop.rng");
    }

    #[test]
    fn walk_parts_flatten_and_suffix() {
        struct Pair {
            a: Parameter<f32>,
            b: Option<Tensor<f32>>,
        }
        impl Walk<f32> for Pair {
            crate::walk!(f32; param a, buffer b);
        }
        struct Holder {
            one: Option<RefCell<Pair>>,
            many: Vec<Pair>,
        }
        impl Holder {
            fn sfx(&self, i: usize) -> String {
                format!("_l{i}")
            }
        }
        impl Module<f32> for Holder {
            fn forward<'g>(
                &self,
                _: &'g Graph<f32>,
                x: Var<'g, f32>,
            ) -> crate::Result<Var<'g, f32>> {
                Ok(x)
            }
            crate::walk!(f32; part one, parts many by sfx);
        }
        let pair = |b: bool| Pair {
            a: Parameter::new(Tensor::zeros(&[1])),
            b: b.then(|| Tensor::zeros(&[1])),
        };
        let mut h = Holder {
            one: Some(RefCell::new(pair(true))),
            many: vec![pair(false), pair(true)],
        };
        let [p, pm, b, bm, r] = walks(&mut h, "m");
        assert_eq!(p, ["m.a", "m.a_l0", "m.a_l1"]);
        assert_eq!(pm, p);
        assert_eq!(b, ["m.b", "m.b_l1"]);
        assert_eq!(bm, b);
        assert!(r.is_empty());
        h.one = None;
        assert_eq!(walks(&mut h, "")[0], ["a_l0", "a_l1"]);
    }
}

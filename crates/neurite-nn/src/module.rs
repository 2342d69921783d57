//! The `Module` trait: a layer or network with named parameters, a forward pass on graph
//! variables, and a training / evaluation mode; and `Sequential`, modules applied in order.

use neurite_autograd::{Graph, Parameter, Var};
use neurite_tensor::{Float, Rng, Tensor};

use crate::error::Result;

/// A layer or a network: forward on graph variables, parameters visited by name in a stable
/// order (`0.weight`, `0.bias`, `2.weight`, …), and train / eval mode.
pub trait Module<T: Float> {
    /// The forward pass. Binds this module's parameters into `graph` and records its ops.
    fn forward<'g>(&self, graph: &'g Graph<T>, x: Var<'g, T>) -> Result<Var<'g, T>>;

    /// Visits every parameter with its dotted name, in a stable order.
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Parameter<T>));

    /// Visits every parameter mutably, in the same order as [`Module::visit_params`].
    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Parameter<T>));

    /// Visits every buffer — state that is saved with the model but not trained (BatchNorm's
    /// running statistics and batch counter) — with its dotted name. Default: none.
    fn visit_buffers(&self, _prefix: &str, _f: &mut dyn FnMut(&str, Buffer<'_, T>)) {}

    /// Visits every buffer mutably, in the same order as [`Module::visit_buffers`].
    fn visit_buffers_mut(&mut self, _prefix: &str, _f: &mut dyn FnMut(&str, BufferMut<'_, T>)) {}

    /// Visits every random generator the module draws from in its forward pass (dropout
    /// masks), by name, so a checkpoint can save and restore it. Default: none.
    fn visit_rngs(&mut self, _prefix: &str, _f: &mut dyn FnMut(&str, &mut Rng)) {}

    /// Switches training mode (dropout active) on or off (evaluation). Default: no effect.
    fn set_training(&mut self, _training: bool) {}

    /// A one-line description, e.g. "Linear(784 → 256)".
    fn describe(&self) -> String {
        std::any::type_name::<Self>()
            .rsplit("::")
            .next()
            .unwrap_or("Module")
            .to_string()
    }
}

/// A buffer of a module, read-only: a float tensor (running mean / variance) or a counter
/// (saved as a 0-d I64 tensor, like PyTorch's `num_batches_tracked`).
#[derive(Debug)]
pub enum Buffer<'a, T: Float> {
    /// A float tensor.
    Float(&'a Tensor<T>),
    /// A counter.
    Count(&'a i64),
}

/// A buffer of a module, to overwrite (see [`Buffer`]).
#[derive(Debug)]
pub enum BufferMut<'a, T: Float> {
    /// A float tensor.
    Float(&'a mut Tensor<T>),
    /// A counter.
    Count(&'a mut i64),
}

impl<T: Float, M: Module<T> + ?Sized> Module<T> for Box<M> {
    fn forward<'g>(&self, graph: &'g Graph<T>, x: Var<'g, T>) -> Result<Var<'g, T>> {
        (**self).forward(graph, x)
    }
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Parameter<T>)) {
        (**self).visit_params(prefix, f)
    }
    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Parameter<T>)) {
        (**self).visit_params_mut(prefix, f)
    }
    fn visit_buffers(&self, prefix: &str, f: &mut dyn FnMut(&str, Buffer<'_, T>)) {
        (**self).visit_buffers(prefix, f)
    }
    fn visit_buffers_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, BufferMut<'_, T>)) {
        (**self).visit_buffers_mut(prefix, f)
    }
    fn visit_rngs(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Rng)) {
        (**self).visit_rngs(prefix, f)
    }
    fn set_training(&mut self, training: bool) {
        (**self).set_training(training)
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// Joins a prefix and a name with a dot.
pub fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// The names and shapes of a module's parameters, in visiting order.
pub fn param_shapes<T: Float>(m: &dyn Module<T>) -> Vec<(String, Vec<usize>)> {
    let mut out = Vec::new();
    m.visit_params("", &mut |n, p| {
        out.push((n.to_string(), p.shape().to_vec()))
    });
    out
}

/// Total number of trainable scalars.
pub fn num_params<T: Float>(m: &dyn Module<T>) -> usize {
    let mut n = 0;
    m.visit_params("", &mut |_, p| n += p.len());
    n
}

/// Modules applied one after another; parameters are named by position (`0.weight`).
pub struct Sequential<T: Float> {
    layers: Vec<Box<dyn Module<T>>>,
}

impl<T: Float> Default for Sequential<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Float> Sequential<T> {
    /// An empty sequence.
    pub fn new() -> Self {
        Sequential { layers: Vec::new() }
    }
    /// Appends a layer (builder style).
    #[allow(clippy::should_implement_trait)]
    pub fn add(mut self, layer: impl Module<T> + 'static) -> Self {
        self.layers.push(Box::new(layer));
        self
    }
    /// Appends a layer.
    pub fn push(&mut self, layer: impl Module<T> + 'static) {
        self.layers.push(Box::new(layer));
    }
    /// Number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }
}

impl<T: Float> Module<T> for Sequential<T> {
    fn forward<'g>(&self, graph: &'g Graph<T>, x: Var<'g, T>) -> Result<Var<'g, T>> {
        self.layers.iter().try_fold(x, |h, l| l.forward(graph, h))
    }
    crate::walk!(T; modules layers);
    fn set_training(&mut self, training: bool) {
        self.layers
            .iter_mut()
            .for_each(|l| l.set_training(training));
    }
    fn describe(&self) -> String {
        let inner: Vec<String> = self.layers.iter().map(|l| l.describe()).collect();
        format!("Sequential[{}]", inner.join(", "))
    }
}

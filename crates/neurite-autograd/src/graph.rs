//! The computational graph: a tape of nodes recorded as ordinary code runs (define-by-run),
//! and back-propagation over it in reverse order.
//!
//! Each node keeps its forward value and, for an op, the backward rule that turns the upstream
//! gradient (∂loss/∂output) into downstream gradients (∂loss/∂input) through its local gradient.
//! The tape order is a topological order, so backward is one reverse sweep; a value is released
//! as soon as the sweep has passed the last node that could need it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use neurite_tensor::{Float, Tensor};

use crate::error::{AutogradError, Result};

/// The backward rule of one recorded op: its local gradient applied to the upstream gradient.
///
/// Implement this for a custom op (a fused kernel with a hand-written backward) and record it
/// with [`Graph::record`]. `name` must be listed in the gradient-check registry.
pub trait Backward<T: Float>: 'static {
    /// The op's name, as shown in errors, DOT output and the gradient-check table.
    fn name(&self) -> &'static str;
    /// Downstream gradients, one per input (`None` where `ctx.needs_grad(i)` is false or the
    /// input has no gradient). Each must have its input's shape.
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        upstream: &Tensor<T>,
    ) -> Result<Vec<Option<Tensor<T>>>>;
}

/// What a backward rule may read: the forward values of its inputs and output.
pub struct BackwardContext<'a, T: Float> {
    inputs: Vec<&'a Tensor<T>>,
    needs: Vec<bool>,
    output: &'a Tensor<T>,
}

impl<'a, T: Float> BackwardContext<'a, T> {
    /// The forward value of input `i`.
    ///
    /// # Panics
    /// If `i` is not below [`BackwardContext::num_inputs`]: the op's own backward rule chose
    /// the index (its inputs are fixed when it is recorded), so that is a bug in the rule, not
    /// bad user data.
    pub fn input(&self, i: usize) -> &'a Tensor<T> {
        self.inputs[i]
    }
    /// The forward value of the op's output.
    pub fn output(&self) -> &'a Tensor<T> {
        self.output
    }
    /// True when input `i` leads to a parameter or gradient-requiring leaf.
    ///
    /// # Panics
    /// If `i` is not below [`BackwardContext::num_inputs`] (as [`BackwardContext::input`]).
    pub fn needs_grad(&self, i: usize) -> bool {
        self.needs[i]
    }
    /// Number of inputs.
    pub fn num_inputs(&self) -> usize {
        self.inputs.len()
    }
}

static NEXT_PARAM_ID: AtomicU64 = AtomicU64::new(1);

/// Identity of a [`Parameter`], unique in the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParamId(u64);

/// A trainable tensor owned by a model (outside any graph). A graph binds it as a leaf for one
/// step with [`Graph::param`]; the gradients of that step are looked up by its id.
#[derive(Debug)]
pub struct Parameter<T: Float> {
    id: ParamId,
    value: Tensor<T>,
}

impl<T: Float> Clone for Parameter<T> {
    /// A copy with a fresh identity (optimiser state is not shared with the original).
    fn clone(&self) -> Self {
        Parameter::new(self.value.clone())
    }
}

impl<T: Float> Parameter<T> {
    /// A new parameter holding `value`.
    pub fn new(value: Tensor<T>) -> Self {
        Parameter {
            id: ParamId(NEXT_PARAM_ID.fetch_add(1, Ordering::Relaxed)),
            value,
        }
    }
    /// Its identity.
    pub fn id(&self) -> ParamId {
        self.id
    }
    /// Its current value.
    pub fn value(&self) -> &Tensor<T> {
        &self.value
    }
    /// Mutable access to the value (the optimiser's θ ← θ − α∇J(θ)).
    pub fn value_mut(&mut self) -> &mut Tensor<T> {
        &mut self.value
    }
    /// Replaces the value; the shape must stay the same.
    pub fn set(&mut self, value: Tensor<T>) -> Result<()> {
        if value.shape() != self.value.shape() {
            return Err(neurite_tensor::TensorError::shape_detail(
                "Parameter::set",
                self.value.shape(),
                value.shape(),
                "a parameter keeps its shape",
            )
            .into());
        }
        self.value = value;
        Ok(())
    }
    /// Its shape.
    pub fn shape(&self) -> &[usize] {
        self.value.shape()
    }
    /// Number of scalars.
    pub fn len(&self) -> usize {
        self.value.len()
    }
    /// True for a parameter with no elements.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
}

pub(crate) struct Node<T: Float> {
    pub(crate) value: Option<Tensor<T>>,
    pub(crate) op: Option<Box<dyn Backward<T>>>,
    pub(crate) op_name: &'static str,
    pub(crate) inputs: Vec<usize>,
    pub(crate) requires_grad: bool,
    pub(crate) shape: Vec<usize>,
    pub(crate) grad: Option<Tensor<T>>,
    pub(crate) label: Option<String>,
}

pub(crate) struct Inner<T: Float> {
    pub(crate) nodes: Vec<Node<T>>,
    params: HashMap<ParamId, usize>,
}

/// A computational graph for one step: variables created from it record every op applied to them.
///
/// Drop the graph after the step; it frees everything it recorded. A graph made with
/// [`Graph::inference`] records no backward rules (evaluation mode: inference costs no graph).
pub struct Graph<T: Float> {
    pub(crate) inner: RefCell<Inner<T>>,
    recording: bool,
    released: Cell<bool>,
}

impl<T: Float> Default for Graph<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// A variable: a node of a [`Graph`]. Cheap to copy; ops on it record new nodes.
#[derive(Clone, Copy)]
pub struct Var<'g, T: Float> {
    pub(crate) graph: &'g Graph<T>,
    pub(crate) id: usize,
}

impl<T: Float> std::fmt::Debug for Var<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.graph.inner.borrow();
        let n = &inner.nodes[self.id];
        write!(f, "Var#{}({}, {:?})", self.id, n.op_name, n.shape)
    }
}

/// Options of [`Var::backward_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct BackwardOptions {
    /// Keep every forward value and store each node's gradient (for inspection and DOT output)
    /// instead of releasing buffers as back-propagation proceeds.
    pub retain_graph: bool,
}

/// The gradients of one backward pass: ∂loss/∂leaf for every parameter and gradient-requiring
/// leaf reached. Start a new one each step (that is "zeroing"), or [`Gradients::accumulate`]
/// several (gradient accumulation over micro-batches).
#[derive(Debug, Clone)]
pub struct Gradients<T: Float> {
    graph: usize,
    by_node: HashMap<usize, Tensor<T>>,
    by_param: HashMap<ParamId, Tensor<T>>,
}

impl<T: Float> Default for Gradients<T> {
    fn default() -> Self {
        Gradients {
            graph: 0,
            by_node: HashMap::new(),
            by_param: HashMap::new(),
        }
    }
}

impl<T: Float> Gradients<T> {
    /// The gradient of a parameter bound in the graph, if the loss depends on it.
    pub fn wrt(&self, p: &Parameter<T>) -> Option<&Tensor<T>> {
        self.by_param.get(&p.id)
    }
    /// The gradient by parameter id.
    pub fn by_id(&self, id: ParamId) -> Option<&Tensor<T>> {
        self.by_param.get(&id)
    }
    /// The gradient of a leaf variable (made with [`Graph::variable`] or [`Graph::param`]).
    pub fn get(&self, v: Var<'_, T>) -> Option<&Tensor<T>> {
        if self.graph != v.graph as *const Graph<T> as usize {
            return None;
        }
        self.by_node.get(&v.id)
    }
    /// Mutable access to a parameter's gradient (e.g. for clipping).
    pub fn wrt_mut(&mut self, id: ParamId) -> Option<&mut Tensor<T>> {
        self.by_param.get_mut(&id)
    }
    /// All parameter gradients.
    pub fn params(&self) -> impl Iterator<Item = (ParamId, &Tensor<T>)> {
        self.by_param.iter().map(|(k, v)| (*k, v))
    }
    /// All parameter gradients, mutably.
    pub fn params_mut(&mut self) -> impl Iterator<Item = (ParamId, &mut Tensor<T>)> {
        self.by_param.iter_mut().map(|(k, v)| (*k, v))
    }
    /// Adds another pass's parameter gradients into these (gradients accumulate).
    pub fn accumulate(&mut self, other: &Gradients<T>) -> Result<()> {
        for (id, g) in &other.by_param {
            match self.by_param.get_mut(id) {
                Some(acc) => acc.add_scaled_inplace(T::ONE, g)?,
                None => {
                    self.by_param.insert(*id, g.clone());
                }
            }
        }
        Ok(())
    }
    /// Multiplies every parameter gradient by `c` (e.g. 1/micro-batches).
    pub fn scale(&mut self, c: T) {
        for g in self.by_param.values_mut() {
            g.map_inplace(|x| x * c);
        }
    }
    /// Removes every gradient.
    pub fn clear(&mut self) {
        self.by_node.clear();
        self.by_param.clear();
    }
    /// True when no gradient is held.
    pub fn is_empty(&self) -> bool {
        self.by_param.is_empty() && self.by_node.is_empty()
    }
}

impl<T: Float> Graph<T> {
    /// A graph that records operations for back-propagation. (It changes no process-wide
    /// setting: how the allocator keeps freed memory is the program's choice, see
    /// `neurite_tensor::keep_freed_memory`.)
    pub fn new() -> Self {
        Graph {
            inner: RefCell::new(Inner {
                nodes: Vec::new(),
                params: HashMap::new(),
            }),
            recording: true,
            released: Cell::new(false),
        }
    }

    /// A graph in evaluation mode: ops compute values but record no backward rules.
    pub fn inference() -> Self {
        Graph {
            recording: false,
            ..Self::new()
        }
    }

    /// True unless the graph was made with [`Graph::inference`].
    pub fn is_recording(&self) -> bool {
        self.recording
    }

    /// Number of nodes recorded so far.
    pub fn len(&self) -> usize {
        self.inner.borrow().nodes.len()
    }

    /// True when nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of forward values still held (released ones excluded).
    pub fn live_values(&self) -> usize {
        self.inner
            .borrow()
            .nodes
            .iter()
            .filter(|n| n.value.is_some())
            .count()
    }

    fn push(&self, node: Node<T>) -> Var<'_, T> {
        let mut inner = self.inner.borrow_mut();
        inner.nodes.push(node);
        Var {
            graph: self,
            id: inner.nodes.len() - 1,
        }
    }

    fn leaf(&self, value: Tensor<T>, requires_grad: bool, op_name: &'static str) -> Var<'_, T> {
        self.push(Node {
            shape: value.shape().to_vec(),
            value: Some(value),
            op: None,
            op_name,
            inputs: Vec::new(),
            requires_grad: requires_grad && self.recording,
            grad: None,
            label: None,
        })
    }

    /// A constant: data that needs no gradient (inputs, targets).
    pub fn constant(&self, value: Tensor<T>) -> Var<'_, T> {
        self.leaf(value, false, "constant")
    }

    /// A leaf whose gradient backward computes (read it with [`Gradients::get`]).
    pub fn variable(&self, value: Tensor<T>) -> Var<'_, T> {
        self.leaf(value, true, "variable")
    }

    /// Binds a model parameter as a gradient-requiring leaf for this step. Binding the same
    /// parameter again returns the same variable.
    pub fn param(&self, p: &Parameter<T>) -> Var<'_, T> {
        if let Some(&id) = self.inner.borrow().params.get(&p.id) {
            return Var { graph: self, id };
        }
        let v = self.leaf(p.value.clone(), true, "parameter");
        self.inner.borrow_mut().params.insert(p.id, v.id);
        v
    }

    /// Records an op whose forward value the caller computed: `output = op(inputs)`.
    ///
    /// When no input requires a gradient (or the graph is in inference mode) the result is a
    /// constant and the backward rule is dropped at once: no gradient is computed for a branch
    /// that leads to no parameter.
    pub fn record(
        &self,
        op: impl Backward<T>,
        inputs: &[Var<'_, T>],
        output: Tensor<T>,
    ) -> Result<Var<'_, T>> {
        let name = op.name();
        for v in inputs {
            if !std::ptr::eq(v.graph, self) {
                return Err(AutogradError::ForeignVariable { op: name });
            }
        }
        let requires_grad = self.recording && {
            let inner = self.inner.borrow();
            inputs.iter().any(|v| inner.nodes[v.id].requires_grad)
        };
        let shape = output.shape().to_vec();
        Ok(self.push(Node {
            value: Some(output),
            op: if requires_grad {
                Some(Box::new(op))
            } else {
                None
            },
            op_name: name,
            inputs: if requires_grad {
                inputs.iter().map(|v| v.id).collect()
            } else {
                Vec::new()
            },
            requires_grad,
            shape,
            grad: None,
            label: None,
        }))
    }

    pub(crate) fn check_same(&self, op: &'static str, v: Var<'_, T>) -> Result<()> {
        if std::ptr::eq(v.graph, self) {
            Ok(())
        } else {
            Err(AutogradError::ForeignVariable { op })
        }
    }

    fn backward_from(
        &self,
        root: usize,
        seed: Tensor<T>,
        opts: BackwardOptions,
    ) -> Result<Gradients<T>> {
        if !self.recording {
            return Err(AutogradError::InferenceGraph);
        }
        let mut inner = self.inner.borrow_mut();
        if self.released.get() {
            return Err(AutogradError::Released {
                node: root,
                op: inner.nodes[root].op_name,
            });
        }
        let Inner { nodes, params } = &mut *inner;
        let node_param: HashMap<usize, ParamId> = params.iter().map(|(p, n)| (*n, *p)).collect();
        let mut grads: Vec<Option<Tensor<T>>> = (0..=root).map(|_| None).collect();
        let mut out = Gradients {
            graph: self as *const Graph<T> as usize,
            by_node: HashMap::new(),
            by_param: HashMap::new(),
        };
        if nodes[root].requires_grad {
            grads[root] = Some(seed);
        }
        for j in (0..=root).rev() {
            let upstream = grads[j].take();
            if let Some(upstream) = upstream {
                if nodes[j].op.is_none() {
                    // A leaf: its gradient is a result of the pass.
                    if let Some(p) = node_param.get(&j) {
                        out.by_param.insert(*p, upstream.clone());
                    }
                    if opts.retain_graph {
                        nodes[j].grad = Some(upstream.clone());
                    }
                    out.by_node.insert(j, upstream);
                } else {
                    let node = &nodes[j];
                    let op = node.op.as_ref().expect("checked is_some"); // ok: checked above
                    let mut input_values = Vec::with_capacity(node.inputs.len());
                    for &i in &node.inputs {
                        match nodes[i].value.as_ref() {
                            Some(v) => input_values.push(v),
                            None => {
                                return Err(AutogradError::Released {
                                    node: i,
                                    op: nodes[i].op_name,
                                })
                            }
                        }
                    }
                    let output = node.value.as_ref().ok_or(AutogradError::Released {
                        node: j,
                        op: node.op_name,
                    })?;
                    let ctx = BackwardContext {
                        needs: node
                            .inputs
                            .iter()
                            .map(|&i| nodes[i].requires_grad)
                            .collect(),
                        inputs: input_values,
                        output,
                    };
                    let downstream = op.backward(&ctx, &upstream)?;
                    drop(ctx);
                    if downstream.len() != node.inputs.len() {
                        return Err(AutogradError::invalid(
                            "backward",
                            format!(
                                "{} returned {} gradients for {} inputs",
                                node.op_name,
                                downstream.len(),
                                node.inputs.len()
                            ),
                        ));
                    }
                    let inputs = node.inputs.clone();
                    let op_name = node.op_name;
                    for (&i, d) in inputs.iter().zip(downstream) {
                        let Some(d) = d else { continue };
                        if !nodes[i].requires_grad {
                            continue;
                        }
                        if d.shape() != nodes[i].shape.as_slice() {
                            return Err(AutogradError::BadGradient {
                                op: op_name,
                                expected: nodes[i].shape.clone(),
                                got: d.shape().to_vec(),
                            });
                        }
                        // Gradients accumulate where a value is used more than once.
                        match &mut grads[i] {
                            Some(acc) => acc.add_scaled_inplace(T::ONE, &d)?,
                            slot @ None => *slot = Some(d),
                        }
                    }
                    if opts.retain_graph {
                        nodes[j].grad = Some(upstream);
                    }
                }
            }
            if !opts.retain_graph && j != root {
                // Everything that could read node j's value (its consumers) has run.
                nodes[j].value = None;
                nodes[j].op = None;
            }
        }
        if !opts.retain_graph {
            nodes[root].op = None;
        }
        if !opts.retain_graph {
            self.released.set(true);
        }
        Ok(out)
    }

    /// Sets a label shown in DOT output (e.g. "x", "W1").
    pub fn set_label(&self, v: Var<'_, T>, label: impl Into<String>) {
        if let Some(n) = self.inner.borrow_mut().nodes.get_mut(v.id) {
            n.label = Some(label.into());
        }
    }
}

impl<'g, T: Float> Var<'g, T> {
    /// The graph this variable belongs to.
    pub fn graph(&self) -> &'g Graph<T> {
        self.graph
    }

    /// Its index in the graph (tape position).
    pub fn id(&self) -> usize {
        self.id
    }

    /// The forward value (an O(1) shared clone).
    pub fn value(&self) -> Result<Tensor<T>> {
        let inner = self.graph.inner.borrow();
        let n = &inner.nodes[self.id];
        n.value.clone().ok_or(AutogradError::Released {
            node: self.id,
            op: n.op_name,
        })
    }

    /// The shape.
    pub fn shape(&self) -> Vec<usize> {
        self.graph.inner.borrow().nodes[self.id].shape.clone()
    }

    /// The name of the op that made it ("parameter", "constant", "matmul", …).
    pub fn op_name(&self) -> &'static str {
        self.graph.inner.borrow().nodes[self.id].op_name
    }

    /// True when a gradient flows through this variable.
    pub fn requires_grad(&self) -> bool {
        self.graph.inner.borrow().nodes[self.id].requires_grad
    }

    /// The gradient stored on this node by a `retain_graph` backward.
    pub fn grad(&self) -> Option<Tensor<T>> {
        self.graph.inner.borrow().nodes[self.id].grad.clone()
    }

    /// A constant with the same value: gradients stop here.
    pub fn detach(&self) -> Result<Var<'g, T>> {
        Ok(self.graph.constant(self.value()?))
    }

    /// The scalar value of a one-element variable.
    pub fn item(&self) -> Result<T> {
        Ok(self.value()?.item()?)
    }

    /// Back-propagation from this scalar (∂self/∂self = 1): returns the gradient of every
    /// parameter and variable leaf it depends on. Buffers are released as it proceeds.
    pub fn backward(&self) -> Result<Gradients<T>> {
        let shape = self.shape();
        if shape.iter().product::<usize>() != 1 {
            return Err(AutogradError::NonScalarBackward { shape });
        }
        self.graph
            .backward_from(self.id, Tensor::ones(&shape), BackwardOptions::default())
    }

    /// Back-propagation with an explicit upstream gradient (same shape as this variable).
    pub fn backward_with(
        &self,
        upstream: Tensor<T>,
        opts: BackwardOptions,
    ) -> Result<Gradients<T>> {
        let shape = self.shape();
        if upstream.shape() != shape.as_slice() {
            return Err(AutogradError::UpstreamShape {
                expected: shape,
                got: upstream.shape().to_vec(),
            });
        }
        self.graph.backward_from(self.id, upstream, opts)
    }

    /// Records `op` applied to `self` (and `others`) with the forward value `output`.
    pub fn record(
        &self,
        op: impl Backward<T>,
        others: &[Var<'g, T>],
        output: Tensor<T>,
    ) -> Result<Var<'g, T>> {
        let mut inputs = Vec::with_capacity(1 + others.len());
        inputs.push(*self);
        inputs.extend_from_slice(others);
        self.graph.record(op, &inputs, output)
    }
}

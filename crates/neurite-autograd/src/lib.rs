//! # neurite-autograd
//!
//! Reverse-mode automatic differentiation over a recorded computational graph, in the words of
//! the subject: ordinary Rust code on graph variables records each op as it runs (define-by-run);
//! each node keeps the forward values its backward needs; back-propagation walks the graph in
//! reverse and, node by node, turns the **upstream gradient** into **downstream gradients**
//! through the op's **local gradient** (the chain rule). Gradients accumulate where a value is
//! used more than once.
//!
//! - [`Graph`]: one per training step; [`Graph::constant`] for data, [`Graph::param`] binds a
//!   model's [`Parameter`] as a leaf, [`Graph::inference`] records nothing (evaluation mode).
//! - [`Var`]: a node; its methods are the differentiable ops (broadcasting arithmetic, unary
//!   maths, reductions, softmax / log-softmax, matmul, shape ops, index_select / index_add,
//!   dropout). [`Graph::record`] adds a custom op with a hand-written [`Backward`] rule.
//! - [`Var::backward`] returns [`Gradients`]; buffers are released as back-propagation
//!   proceeds, and branches that lead to no parameter are never differentiated.
//! - [`grad`], [`jacobian`], [`gradcheck()`] (central differences in f64), and [`Graph::to_dot`].
//!
//! ```
//! use neurite_autograd::{Graph, Parameter};
//! use neurite_tensor::Tensor;
//!
//! // One step of gradient descent θ ← θ − α∇J(θ) on J(w) = (w·x − y)².
//! let mut w = Parameter::new(Tensor::<f64>::from_vec(vec![0.5], &[1, 1])?);
//! let (x, y) = (Tensor::from_vec(vec![2.0], &[1, 1])?, Tensor::from_vec(vec![3.0], &[1, 1])?);
//! let graph = Graph::new();
//! let pred = graph.constant(x).matmul(graph.param(&w))?;
//! let loss = pred.sub(graph.constant(y))?.square()?.sum()?;
//! let grads = loss.backward()?;                  // ∂J/∂w = 2(w·x − y)·x = 2(1 − 3)·2 = −8
//! let g = grads.wrt(&w).unwrap();
//! assert_eq!(g.to_vec(), vec![-8.0]);
//! w.value_mut().add_scaled_inplace(-0.1, g)?;    // w ← w − 0.1·(−8) = 1.3
//! assert!((w.value().to_vec()[0] - 1.3).abs() < 1e-12);
//! # Ok::<(), neurite_autograd::AutogradError>(())
//! ```
//!
//! neurite-autograd depends on neurite-tensor only; tensors know nothing of gradients.

mod dot;
mod error;
mod functional;
pub mod gradcheck;
mod graph;
pub mod ops;
pub mod registry;

pub use error::{AutogradError, Result};
pub use functional::{grad, jacobian};
pub use gradcheck::{check_suite, gradcheck, GradCase, GradcheckOptions, GradcheckReport};
pub use graph::{
    Backward, BackwardContext, BackwardOptions, Gradients, Graph, ParamId, Parameter, Var,
};
pub use ops::shape::{concat, stack};
pub use ops::OPS;

/// The README's examples, compiled and run as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

//! # neurite-nn
//!
//! The building blocks of single- and multi-layer networks on neurite-autograd: the
//! [`Module`] trait, layers ([`Linear`], [`Sequential`], activations), outputs and losses,
//! initialisers and optimisers.
//!
//! ```
//! use neurite_autograd::Graph;
//! use neurite_nn::{cross_entropy, Linear, Module, Optimizer, Relu, Sequential, Sgd};
//! use neurite_tensor::{Rng, Tensor};
//!
//! let mut rng = Rng::new(0);
//! let mut model = Sequential::new()
//!     .add(Linear::<f32>::new(4, 8, &mut rng)?)
//!     .add(Relu)
//!     .add(Linear::new(8, 3, &mut rng)?);
//! let x = Tensor::rand_normal(&[5, 4], 0.0, 1.0, &mut rng);
//! let labels = [0, 2, 1, 1, 0];
//! let mut opt = Sgd::new(0.1)?;
//! let mut losses = Vec::new();
//! for _ in 0..50 {
//!     let graph = Graph::new();
//!     let logits = model.forward(&graph, graph.constant(x.clone()))?;
//!     let loss = cross_entropy(logits, &labels)?;
//!     losses.push(loss.item()?);
//!     let grads = loss.backward()?;           // upstream → local → downstream
//!     opt.step(&mut model, &grads)?;          // θ ← θ − α∇J(θ)
//! }
//! assert!(losses[49] < losses[0] * 0.5);
//! # Ok::<(), neurite_nn::NnError>(())
//! ```

mod activation;
mod error;
pub mod init;
mod linear;
mod loss;
mod module;
mod optim;
pub mod text;

pub use activation::{Gelu, Relu, Sigmoid, Softplus, Tanh};
pub use error::{NnError, Result};
pub use linear::Linear;
pub use loss::{cross_entropy, mse};
pub use module::{join, num_params, param_shapes, Module, Sequential};
pub use optim::{Optimizer, Sgd};

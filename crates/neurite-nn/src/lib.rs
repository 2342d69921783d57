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
pub mod data;
mod dropout;
mod embedding;
mod error;
pub mod gradcheck_cases;
pub mod init;
mod linear;
mod loss;
pub mod metrics;
mod module;
mod norm;
mod optim;
pub mod schedule;
mod serialize;
pub mod train;
pub mod text;

pub use activation::{
    functional, Elu, Gelu, LeakyRelu, LogSoftmax, Relu, Sigmoid, Softmax, Softplus, Tanh,
};
pub use dropout::{Dropout, Flatten};
pub use embedding::{embedding, Embedding};
pub use error::{NnError, Result};
pub use linear::{linear, Linear, LinearOp};
pub use loss::{
    bce_with_logits, binary_cross_entropy, cross_entropy, cross_entropy_with, huber, l1, mse, nll,
    BceOp, BceWithLogitsOp, CrossEntropyOp, CrossEntropyOptions, HuberOp,
};
pub use module::{join, num_params, param_shapes, Module, Sequential};
pub use norm::{layer_norm, LayerNorm};
pub use optim::{clip_grad_norm, clip_grad_value, Adagrad, Adam, Optimizer, RmsProp, Sgd};
pub use schedule::{CosineLr, ExponentialLr, LrSchedule, StepLr, Warmup};
pub use serialize::{load_params, save_params, state_dict, write_atomic};

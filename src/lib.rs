//! # neurite
//!
//! Neural networks from the neuron up: tensors, automatic differentiation over a computational
//! graph, layers and training, and the three classic families — convolutional nets, recurrent
//! nets and word2vec. This crate is the facade: each neurite crate re-exported under a short
//! name. Depend on it for everything, or on one crate for just that part:
//!
//! | module | crate | what it is |
//! | --- | --- | --- |
//! | [`tensor`] | `neurite-tensor` | n-d tensors and their CPU kernels (runtime SIMD dispatch) |
//! | [`autograd`] | `neurite-autograd` | reverse-mode autodiff over a recorded graph; `grad`, `jacobian`, `gradcheck` |
//! | [`nn`] | `neurite-nn` | modules, activations, losses, optimisers, data, safetensors, training loop |
//! | [`cnn`] | `neurite-cnn` | `Conv1d`, `Conv2d`, pooling |
//! | [`rnn`] | `neurite-rnn` | RNN, GRU, LSTM cells and layers; bidirectional; decoding |
//! | [`word2vec`] | `neurite-word2vec` | CBOW and skip-gram, NS and HS; vector files; evaluation |
//!
//! Features (all on by default): `progress` (a progress bar in `nn::train::Trainer`), `plot`
//! (SVG curves), `embedded-data` (word2vec's 1M-word corpus and evaluation sets).
//!
//! ```
//! use neurite::autograd::Graph;
//! use neurite::nn::{bce_with_logits, Linear, Module, Optimizer, Sequential, Sgd, Tanh};
//! use neurite::tensor::{Rng, Tensor};
//!
//! // A neuron layer, a non-linearity and a sigmoid output learn XOR.
//! let mut rng = Rng::new(1);
//! let mut net = Sequential::new()
//!     .add(Linear::<f64>::new(2, 8, &mut rng)?)
//!     .add(Tanh)
//!     .add(Linear::new(8, 1, &mut rng)?);
//! let x = Tensor::from_vec(vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], &[4, 2])?;
//! let y = Tensor::from_vec(vec![0.0, 1.0, 1.0, 0.0], &[4, 1])?;
//! let mut opt = Sgd::new(0.5)?;
//! for _ in 0..500 {
//!     let graph = Graph::new();
//!     let logits = net.forward(&graph, graph.constant(x.clone()))?;
//!     let loss = bce_with_logits(logits, graph.constant(y.clone()))?;
//!     let grads = loss.backward()?;
//!     opt.step(&mut net, &grads)?;
//! }
//! let graph = Graph::inference();
//! let out = net.forward(&graph, graph.constant(x))?.value()?.to_vec();
//! assert!(out[0] < 0.0 && out[1] > 0.0 && out[2] > 0.0 && out[3] < 0.0, "{out:?}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The repository's `examples/` train one model per family (`cargo run --release --example
//! tour`); `cargo xtask gradcheck` checks every gradient against central differences.

pub use neurite_autograd as autograd;
pub use neurite_cnn as cnn;
pub use neurite_nn as nn;
pub use neurite_rnn as rnn;
pub use neurite_tensor as tensor;
pub use neurite_word2vec as word2vec;

/// The README's examples, compiled and run as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

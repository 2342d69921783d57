//! # neurite-cnn
//!
//! Convolutional networks as the subject lays them out — input, convolution, pooling, fully
//! connected — as layers on neurite-nn's [`Module`](neurite_nn::Module) trait:
//!
//! - [`Conv1d`] and [`Conv2d`] ([`Conv`] with one or two spatial axes): stride, zero padding
//!   (explicit or [`Padding::Same`]), dilation, groups, optional bias; weights
//!   [out, in/groups, k…] as in PyTorch, initialised as PyTorch does (uniform ±1/√fan_in).
//! - [`MaxPool1d`]/[`MaxPool2d`] (the position of each maximum is kept for backward),
//!   [`AvgPool1d`]/[`AvgPool2d`] — PyTorch's stride, padding, dilation and `ceil_mode` in
//!   [`PoolConfig`], `count_include_pad` as [`PadCount`], PyTorch's output sizes — adaptive pooling ([`AdaptiveMaxPool1d`], [`AdaptiveAvgPool2d`],
//!   …), global pooling over all positions ([`GlobalMaxPool`] — max over time for text CNNs —
//!   and [`GlobalAvgPool`]), and [`Flatten`] (neurite-nn's, re-exported).
//!
//! Convolution is im2col + GEMM: per sample, the input windows are unrolled into a reused
//! column buffer [in/groups·Πk, Πout] and multiplied by the weight [out/groups, in/groups·Πk]
//! (neurite-tensor's [`Im2col`](neurite_tensor::conv::Im2col) and its GEMM on the `gemm`
//! crate's kernels), in parallel over the batch with rayon; pooling runs on neurite-tensor's
//! [`pool`](neurite_tensor::pool) kernels. Every layer records ONE graph op
//! whose hand-written backward gives the gradients of the input, the weight and the bias
//! (dx = col2im(Wᵀ·dy), dW = Σ dy·colsᵀ, db = Σ dy); each is checked against central
//! differences in [`gradcheck_cases`].
//!
//! ```
//! use neurite_autograd::Graph;
//! use neurite_cnn::{Conv2d, ConvConfig, Flatten, MaxPool2d};
//! use neurite_nn::{cross_entropy, Linear, Module, Optimizer, Relu, Sequential, Sgd};
//! use neurite_tensor::{Rng, Tensor};
//!
//! let mut rng = Rng::new(0);
//! // [batch, 1, 8, 8] → conv 3×3 "same" → ReLU → max-pool 2 → [batch, 4·4·4] → 2 classes
//! let mut model = Sequential::new()
//!     .add(Conv2d::<f32>::new(ConvConfig::new(1, 4, [3, 3]).same(), &mut rng)?)
//!     .add(Relu)
//!     .add(MaxPool2d::new([2, 2]))
//!     .add(Flatten::default())
//!     .add(Linear::new(64, 2, &mut rng)?);
//! // Two classes: a bright top half or a bright bottom half.
//! let mut images = vec![0.0f32; 8 * 64];
//! let labels: Vec<usize> = (0..8).map(|i| i % 2).collect();
//! for (i, &l) in labels.iter().enumerate() {
//!     for p in 0..32 {
//!         images[i * 64 + l * 32 + p] = 1.0;
//!     }
//! }
//! let x = Tensor::from_vec(images, &[8, 1, 8, 8])?;
//! let mut opt = Sgd::new(0.5)?;
//! let mut losses = Vec::new();
//! for _ in 0..30 {
//!     let graph = Graph::new();
//!     let loss = cross_entropy(model.forward(&graph, graph.constant(x.clone()))?, &labels)?;
//!     losses.push(loss.item()?);
//!     let grads = loss.backward()?;
//!     opt.step(&mut model, &grads)?;
//! }
//! assert!(losses[29] < 0.1 * losses[0]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Shape errors are typed ([`CnnError`]) and name the layer and both shapes; through the
//! `Module` trait they arrive as neurite-nn's `NnError::BadInput` with the same facts.

mod conv;
mod conv_kernel;
mod error;
pub mod gradcheck_cases;
mod pool;
mod scratch;

pub use conv::{conv, Conv, Conv1d, Conv2d, ConvConfig, Padding};
pub use error::{CnnError, Result};
pub use gradcheck_cases::OPS;
/// neurite-nn's flattening layer ([batch, c, h, w] → [batch, c·h·w] by default), re-exported
/// because every CNN ends its feature extractor with it.
pub use neurite_nn::Flatten;
pub use pool::{
    AdaptiveAvgPool, AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool, AdaptiveMaxPool1d,
    AdaptiveMaxPool2d, AvgPool, AvgPool1d, AvgPool2d, GlobalAvgPool, GlobalMaxPool, MaxPool,
    MaxPool1d, MaxPool2d, PadCount, PoolConfig,
};

/// The README's examples, compiled and run as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

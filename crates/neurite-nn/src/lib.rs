//! # neurite-nn
//!
//! The building blocks of single- and multi-layer networks on neurite-autograd, in the words of
//! the subject: a layer of neurons computes `x·Wᵀ + b`, a non-linearity follows, an output
//! layer and a loss are chosen together, back-propagation gives the gradients, and an optimiser
//! takes the step θ ← θ − α∇J(θ).
//!
//! | part | what is in it |
//! | --- | --- |
//! | [`Module`], [`Sequential`] | forward on graph variables; parameters and buffers visited by name in a stable order (`0.weight`, `0.bias`, `2.weight`, … as PyTorch names them), written once per layer with [`walk!`]; train / eval mode |
//! | layers | [`Linear`] (weight [out, in], one fused op), [`Embedding`], [`Dropout`] (seeded), [`Flatten`], [`LayerNorm`], [`BatchNorm1d`] / [`BatchNorm2d`] (batch statistics in training, running estimates in evaluation, PyTorch's buffer names and update rule) |
//! | activations | [`Sigmoid`], [`Tanh`], [`Relu`] — the three the subject teaches — and [`LeakyRelu`], [`Elu`], [`Gelu`], [`Softplus`], [`Softmax`], [`LogSoftmax`]; the same as [`functional`] functions |
//! | outputs and losses | linear + [`mse`] (regression), sigmoid + [`bce_with_logits`] (fused, stable for any logit) or [`binary_cross_entropy`], softmax + [`cross_entropy`] (fused with log-softmax; [`cross_entropy_with`] adds label smoothing and class weights), [`nll`], [`l1`], [`huber`]; each with a [`Reduction`] (mean, sum, or one loss per element / sample) through its `_with` form |
//! | [`init`] | Xavier/Glorot and Kaiming/He, uniform and normal, seeded; `Linear` uses PyTorch's default U(±1/√fan_in), `Embedding` N(0, 1), `LayerNorm` ones and zeros |
//! | optimisers | configured by name with defaults ([`SgdConfig`], [`AdamConfig`], [`RmsPropConfig`], [`AdagradConfig`]); [`Sgd`] (momentum, Nesterov, weight decay), [`Adam`] / AdamW ([`Adam::adamw`]), [`RmsProp`], [`Adagrad`]; [`clip_grad_norm`], [`clip_grad_value`]; [`schedule`]: step, exponential, cosine, linear warm-up |
//! | state and files | [`state_dict`] / [`load_state_dict`] in memory, [`save_params`] / [`load_params`] on disk: PyTorch's names and layouts, parameters and buffers; strict by default or [`LoadMode::NonStrict`], a [`LoadReport`] of missing / unexpected / mis-shaped names and dtype conversions (F64, F32, F16, BF16 into f32 or f64); atomic writes |
//! | [`tensor_file`] | [`StateDict`] / [`StoredTensor`]: any safetensors file of float or integer tensors, read and written without a model |
//! | [`checkpoint`] | [`save_checkpoint`] / [`load_checkpoint`]: model, optimiser state by parameter name, every generator and the position in one file; a resumed run is bit for bit the uninterrupted one |
//! | [`data`] | [`data::Dataset`], seeded mini-batches, train / test split, [`data::Standardizer`] fitted on the training part, CSV and IDX (MNIST, Fashion-MNIST) loading with errors naming file and line or offset, NaN detection |
//! | [`metrics`] | accuracy, confusion matrix, MSE / MAE / R² |
//! | [`train`] | [`train::Trainer`]: the epoch loop with a progress bar, a per-epoch [`train::History`], CSV and SVG curves, early stopping and keep-best on a [`train::Monitor`]ed value, resume |
//! | [`gradcheck_cases`] | the finite-difference checks of every layer and loss (run by `cargo xtask gradcheck`) |
//!
//! Bad input — a label outside the class range, a feature count that does not match the layer,
//! NaN in the data, a parameter file with a missing or mis-shaped tensor — is a typed
//! [`NnError`] naming what was expected and what came; nothing here panics on user input.
//! Every random choice takes a seed.
//!
//! ## A training step
//!
//! ```
//! use neurite_autograd::Graph;
//! use neurite_nn::data::Dataset;
//! use neurite_nn::metrics::{accuracy, predict_classes};
//! use neurite_nn::{cross_entropy, Adam, Linear, Module, Optimizer, Relu, Sequential};
//! use neurite_tensor::{Rng, Tensor};
//!
//! // Two noisy blobs in 2-D, classes 0 and 1.
//! let mut rng = Rng::new(0);
//! let n = 64;
//! let labels: Vec<usize> = (0..n).map(|i| i % 2).collect();
//! let mut x = Tensor::<f32>::rand_normal(&[n, 2], 0.0, 0.5, &mut rng);
//! x.as_slice_mut().chunks_mut(2).zip(&labels).for_each(|(p, &l)| p[0] += 2.0 * l as f32 - 1.0);
//! let data = Dataset::classification(x, labels, 2)?;
//!
//! let mut model = Sequential::new()
//!     .add(Linear::<f32>::new(2, 16, &mut rng)?)
//!     .add(Relu)
//!     .add(Linear::new(16, 2, &mut rng)?);            // logits; softmax is inside the loss
//! let mut opt = Adam::new(0.05)?;
//! for _epoch in 0..20 {
//!     for batch in data.batches(16, Some(&mut rng), false)? {
//!         let graph = Graph::new();                    // one graph per step
//!         let logits = model.forward(&graph, graph.constant(batch.features))?;
//!         let loss = cross_entropy(logits, &batch.labels)?;
//!         let grads = loss.backward()?;                // upstream → local → downstream
//!         opt.step(&mut model, &grads)?;               // θ ← θ − α∇J(θ)
//!     }
//! }
//! // Evaluation records no graph.
//! let graph = Graph::inference();
//! let logits = model.forward(&graph, graph.constant(data.features.clone()))?.value()?;
//! let acc = accuracy(&predict_classes(&logits)?, data.labels().unwrap())?;
//! assert!(acc > 0.9, "{acc}");
//! // A label outside the class range is an error, not a panic.
//! assert!(cross_entropy(graph.constant(logits), &vec![2; n]).is_err());
//! # Ok::<(), neurite_nn::NnError>(())
//! ```

mod activation;
mod batchnorm;
mod batchnorm_kernel;
pub mod checkpoint;
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
pub mod tensor_file;
pub mod text;
pub mod train;
pub mod walk;

pub use activation::{
    functional, Elu, Gelu, LeakyRelu, LogSoftmax, Relu, Sigmoid, Softmax, Softplus, Tanh,
};
pub use batchnorm::{
    batch_norm, BatchNorm, BatchNorm1d, BatchNorm2d, BatchNormConfig, BatchNormOp, BatchStats,
    Stats,
};
pub use checkpoint::{load_checkpoint, save_checkpoint, TrainingState};
pub use dropout::{Dropout, Flatten};
pub use embedding::{embedding, Embedding};
pub use error::{NnError, Result};
pub use linear::{linear, Linear, LinearOp};
pub use loss::{
    bce_with_logits, bce_with_logits_with, binary_cross_entropy, binary_cross_entropy_with,
    cross_entropy, cross_entropy_with, huber, huber_with, l1, l1_with, mse, mse_with, nll,
    nll_with, BceOp, BceWithLogitsOp, CrossEntropyOp, CrossEntropyOptions, HuberOp, Reduction,
};
pub use module::{join, num_params, param_shapes, Buffer, BufferMut, Module, Sequential};
pub use norm::{layer_norm, LayerNorm};
pub use optim::{
    clip_grad_norm, clip_grad_value, Adagrad, AdagradConfig, Adam, AdamConfig, Optimizer, RmsProp,
    RmsPropConfig, Sgd, SgdConfig,
};
pub use schedule::{CosineLr, ExponentialLr, LrSchedule, StepLr, Warmup};
pub use serialize::{
    check_writable, load_params, load_params_with, load_state_dict, save_params, state_dict,
    state_view, write_atomic, Conversion, LoadMode, LoadReport, Mismatch,
};
pub use tensor_file::{Dtype, StateDict, StateView, StoredTensor, TensorView};
pub use walk::Walk;

/// The README's examples, compiled and run as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

//! # neurite-rnn
//!
//! Recurrent networks as the subject teaches them, on neurite-autograd and neurite-nn: a
//! hidden state carried from step to step, hₜ = f(xₜ, hₜ₋₁), trained by back-propagation
//! through time.
//!
//! - Cells, one step at a time: [`RnnCell`] (hₜ = tanh(W_ih·xₜ + b_ih + W_hh·hₜ₋₁ + b_hh), or
//!   ReLU), [`GruCell`] (reset gate r, update gate z, candidate n), [`LstmCell`] (input, forget
//!   and output gates, cell state c).
//! - Sequence layers [`Rnn`], [`Gru`], [`Lstm`] built from a [`RecurrentConfig`] with named
//!   fields: several layers, dropout between layers, bidirectional (both directions'
//!   outputs concatenated), batch-first or time-first, initial states, variable-length batches
//!   (padded steps neither update the state nor receive a gradient), all outputs and the final
//!   states ([`RecurrentOutput`]); truncated BPTT ([`Recurrent::forward_tbptt`],
//!   [`RecurrentState::detach`], [`StateTensors`] to carry a state across steps).
//! - PyTorch's weight names, shapes and gate order (`weight_ih_l0` [G·hidden, input],
//!   `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, `_reverse` for the backward direction; LSTM
//!   gates i, f, g, o; GRU r, z, n with r applied to W_hn·h + b_hn), so a PyTorch state dict
//!   loads by name and gives the same outputs.
//! - Speed: the recurrence of a layer direction is one recorded op: the input projection of
//!   all time steps is one GEMM, each step one GEMM for all gates (register-blocked AVX-512
//!   kernel on weights packed once) and a fused gate kernel ([`kernels`]), with a hand-written
//!   back-propagation through time; on several threads each thread runs the whole sequence
//!   for its block of batch rows (same bits on any number of threads); an inference graph
//!   records nothing and keeps no per-step buffers.
//! - [`decode`]: greedy and beam search over a step function.
//! - [`gradcheck_cases`] and [`OPS`]: every cell and layer in the gradient-check suite.
//!
//! ```
//! use neurite_autograd::Graph;
//! use neurite_nn::{mse, Adam, Module, Optimizer};
//! use neurite_rnn::{Lstm, RecurrentConfig};
//! use neurite_tensor::{Rng, Tensor};
//!
//! let mut rng = Rng::new(7);
//! let config = RecurrentConfig {
//!     input_size: 3,
//!     hidden_size: 8,
//!     batch_first: true,
//!     ..Default::default()
//! };
//! let mut lstm = Lstm::<f32>::new(&config, &mut rng)?;
//! let x = Tensor::rand_normal(&[4, 6, 3], 0.0, 1.0, &mut rng); // [batch, seq, features]
//! let target = Tensor::rand_uniform(&[4, 8], -0.5, 0.5, &mut rng);
//! let lengths = [6, 5, 3, 6];                                     // a padded batch
//! let mut opt = Adam::new(0.02)?;
//! let mut first = None;
//! for _ in 0..60 {
//!     let graph = Graph::new();
//!     let out = lstm.forward_seq(&graph, graph.constant(x.clone()), Some(&lengths), None)?;
//!     assert_eq!(out.output.shape(), vec![4, 6, 8]);          // [batch, seq, hidden]
//!     let h_n = out.state.h.reshape(&[4, 8])?;               // [layers·dirs, batch, hidden]
//!     let loss = mse(h_n, graph.constant(target.clone()))?;
//!     first.get_or_insert(loss.item()?);
//!     let grads = loss.backward()?;
//!     opt.step(&mut lstm, &grads)?;
//! }
//! let graph = Graph::inference();                                // evaluation: no graph kept
//! let out = lstm.forward_seq(&graph, graph.constant(x), Some(&lengths), None)?;
//! let h_n = out.state.h.reshape(&[4, 8])?;
//! let last = mse(h_n, graph.constant(target))?.item()?;
//! assert!(last < 0.3 * first.unwrap());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cell;
pub mod decode;
mod error;
pub mod gradcheck_cases;
pub mod kernels;
mod layer;
mod sequence;

pub use cell::{CellConfig, CellParams, CellVars, GruCell, LstmCell, LstmState, RnnCell};
pub use error::{Result, RnnError};
pub use kernels::Nonlinearity;
pub use layer::{
    Gru, Lstm, Recurrent, RecurrentConfig, RecurrentOutput, RecurrentState, Rnn, StateTensors,
};
pub use sequence::CellKind;

/// Every op name neurite-rnn records: the fused cell ops and the sequence ops. The
/// gradient-check suite verifies each is exercised by [`gradcheck_cases::cases`].
pub const OPS: &[&str] = &[
    "rnn_cell",
    "gru_cell",
    "lstm_cell",
    "rnn_sequence",
    "gru_sequence",
    "lstm_sequence",
];

/// The README's examples, compiled and run as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

//! Sequence layers `Rnn`, `Gru`, `Lstm`: several layers, dropout between layers, bidirectional,
//! batch-first or time-first input, initial states, variable-length batches, truncated BPTT.
//!
//! Per layer and direction the forward is one recorded sequence op ([`crate::sequence`]): one
//! GEMM for the input projection of all time steps, then the recurrence with one GEMM and one
//! fused gate kernel per step; it back-propagates through time by hand.

use std::cell::RefCell;
use std::ops::{Deref, DerefMut};

use neurite_autograd::{concat, Graph, Var};
use neurite_nn::Module;
use neurite_tensor::{Float, Rng, Tensor};

use crate::cell::{check_sizes, check_stack_memory, check_vars, CellParams, CellVars};
use crate::error::{Result, RnnError};
use crate::kernels::Nonlinearity;
use crate::sequence::{self, data, CellKind, SeqSpec, SequenceOp};

/// The configuration of a sequence layer, by name. Start from `Default` and set what you need:
///
/// ```
/// use neurite_rnn::RecurrentConfig;
/// let c = RecurrentConfig { input_size: 64, hidden_size: 128, bidirectional: true, ..Default::default() };
/// assert_eq!(c.num_layers, 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RecurrentConfig {
    /// Features of each input step (required, > 0).
    pub input_size: usize,
    /// Features of the hidden state (required, > 0).
    pub hidden_size: usize,
    /// Stacked layers; layer l > 0 reads the outputs of layer l − 1. Default 1.
    pub num_layers: usize,
    /// Run a second direction from the last step to the first and concatenate both outputs
    /// ([.., 2·hidden]). Default false.
    pub bidirectional: bool,
    /// Dropout probability on the outputs of every layer but the last, in training mode
    /// (seeded). Default 0.
    pub dropout: f64,
    /// Input and output are [batch, seq, features] instead of [seq, batch, features]. Default false.
    pub batch_first: bool,
    /// The non-linearity of [`Rnn`] (tanh or ReLU); GRU and LSTM accept only tanh. Default tanh.
    pub nonlinearity: Nonlinearity,
}

impl Default for RecurrentConfig {
    fn default() -> Self {
        RecurrentConfig {
            input_size: 0,
            hidden_size: 0,
            num_layers: 1,
            bidirectional: false,
            dropout: 0.0,
            batch_first: false,
            nonlinearity: Nonlinearity::Tanh,
        }
    }
}

impl RecurrentConfig {
    /// Number of directions (1 or 2).
    pub fn directions(&self) -> usize {
        if self.bidirectional {
            2
        } else {
            1
        }
    }
}

/// The recurrent state of a layer: h [layers·directions, B, hidden] and, for the LSTM, c of the
/// same shape (PyTorch's `h_n`, `c_n` layout: index layer·directions + direction).
#[derive(Debug, Clone, Copy)]
pub struct RecurrentState<'g, T: Float> {
    /// Hidden state.
    pub h: Var<'g, T>,
    /// Cell state (LSTM only).
    pub c: Option<Var<'g, T>>,
}

impl<'g, T: Float> RecurrentState<'g, T> {
    /// The same state as constants: gradients stop here (the truncation of truncated BPTT).
    pub fn detach(&self) -> Result<Self> {
        Ok(RecurrentState {
            h: self.h.detach()?,
            c: self.c.map(|c| c.detach()).transpose()?,
        })
    }
    /// The values, to carry the state into the next step's graph.
    pub fn to_tensors(&self) -> Result<StateTensors<T>> {
        Ok(StateTensors {
            h: self.h.value()?,
            c: self.c.map(|c| c.value()).transpose()?,
        })
    }
}

/// A recurrent state outside any graph (carried across training steps).
#[derive(Debug, Clone)]
pub struct StateTensors<T: Float> {
    /// Hidden state [layers·directions, B, hidden].
    pub h: Tensor<T>,
    /// Cell state (LSTM only).
    pub c: Option<Tensor<T>>,
}

impl<T: Float> StateTensors<T> {
    /// Binds the state into a graph as constants (no gradient flows into earlier steps).
    pub fn bind<'g>(&self, graph: &'g Graph<T>) -> RecurrentState<'g, T> {
        RecurrentState {
            h: graph.constant(self.h.clone()),
            c: self.c.as_ref().map(|c| graph.constant(c.clone())),
        }
    }
}

/// What a sequence layer returns.
#[derive(Debug, Clone, Copy)]
pub struct RecurrentOutput<'g, T: Float> {
    /// The last layer's outputs at every step, [seq, B, D·hidden] (or [B, seq, D·hidden] when
    /// batch-first); zero at padded steps.
    pub output: Var<'g, T>,
    /// The final state of every layer and direction (at each sequence's own last step).
    pub state: RecurrentState<'g, T>,
}

/// The shared implementation of [`Rnn`], [`Gru`] and [`Lstm`].
pub struct Recurrent<T: Float> {
    kind: CellKind,
    config: RecurrentConfig,
    /// Parameters of layer l, direction d at index l·D + d (names `weight_ih_l{l}`, with the
    /// suffix `_reverse` for d = 1).
    pub cells: Vec<CellParams<T>>,
    training: bool,
    dropout_rng: RefCell<Rng>,
}

impl<T: Float> Recurrent<T> {
    /// A layer of cell type `kind` with PyTorch's initialisation (uniform ±1/√hidden), seeded.
    pub fn new(kind: CellKind, config: &RecurrentConfig, rng: &mut Rng) -> Result<Self> {
        let what = kind.name();
        if config.input_size == 0 || config.hidden_size == 0 {
            return Err(RnnError::config(
                what,
                format!(
                    "input_size and hidden_size must be positive, got input_size={} hidden_size={}",
                    config.input_size, config.hidden_size
                ),
            ));
        }
        if config.num_layers == 0 {
            return Err(RnnError::config(
                what,
                "num_layers must be at least 1, got 0",
            ));
        }
        if !(0.0..1.0).contains(&config.dropout) {
            return Err(RnnError::config(
                what,
                format!("dropout must be in [0, 1), got {}", config.dropout),
            ));
        }
        if !matches!(kind, CellKind::Rnn(_)) && config.nonlinearity != Nonlinearity::Tanh {
            return Err(RnnError::config(
                what,
                "only Rnn takes a nonlinearity (GRU and LSTM gates are fixed)",
            ));
        }
        let d = config.directions();
        let deep_input = d.checked_mul(config.hidden_size).ok_or_else(|| {
            RnnError::config(
                what,
                format!("hidden_size {} is too large", config.hidden_size),
            )
        })?;
        check_sizes(what, kind.gates(), config.input_size, config.hidden_size)?;
        check_sizes(what, kind.gates(), deep_input, config.hidden_size)?;
        let cell_count = config
            .num_layers
            .checked_mul(d)
            .filter(|&n| n <= isize::MAX as usize / std::mem::size_of::<CellParams<T>>());
        let Some(cell_count) = cell_count else {
            return Err(RnnError::config(
                what,
                format!("num_layers {} is too large", config.num_layers),
            ));
        };
        check_stack_memory::<T>(what, kind.gates(), config, deep_input)?;
        let mut cells = Vec::with_capacity(cell_count);
        for l in 0..config.num_layers {
            let input = if l == 0 {
                config.input_size
            } else {
                deep_input
            };
            for _ in 0..d {
                cells.push(CellParams::new(
                    kind.gates(),
                    input,
                    config.hidden_size,
                    rng,
                ));
            }
        }
        Ok(Recurrent {
            kind,
            config: config.clone(),
            cells,
            training: true,
            dropout_rng: RefCell::new(rng.fork(0x7e_c0_11)),
        })
    }

    /// A layer from given parameters — `cells[l·D + d]` for layer l, direction d (PyTorch's
    /// `weight_ih_l{l}[_reverse]`, …) — with no Rng: every shape is checked against `config`.
    /// The dropout stream (used only with `config.dropout > 0` in training) starts from seed 0;
    /// [`Recurrent::reseed_dropout`] changes it.
    pub fn from_params(
        kind: CellKind,
        config: &RecurrentConfig,
        cells: Vec<CellParams<T>>,
    ) -> Result<Self> {
        // Validates the configuration (the random weights of a 1-wide probe are dropped).
        let probe = RecurrentConfig {
            input_size: config.input_size.min(1),
            hidden_size: config.hidden_size.min(1),
            num_layers: config.num_layers.min(1),
            ..config.clone()
        };
        Recurrent::<T>::new(kind, &probe, &mut Rng::new(0))?;
        let d = config.directions();
        let want = config.num_layers.saturating_mul(d);
        if cells.len() != want {
            return Err(RnnError::config(
                kind.name(),
                format!(
                    "{} layers × {d} directions need {want} parameter sets, got {}",
                    config.num_layers,
                    cells.len()
                ),
            ));
        }
        let what = kind.name();
        check_sizes(what, kind.gates(), config.input_size, config.hidden_size)?;
        for (i, c) in cells.iter().enumerate() {
            let input = if i < d {
                config.input_size
            } else {
                d.saturating_mul(config.hidden_size)
            };
            c.check(
                &format!(
                    "{what} layer {}{}",
                    i / d,
                    if i % d == 1 { " (reverse)" } else { "" }
                ),
                kind.gates(),
                input,
                config.hidden_size,
            )?;
        }
        Ok(Recurrent {
            kind,
            config: config.clone(),
            cells,
            training: true,
            dropout_rng: RefCell::new(Rng::new(0).fork(0x7e_c0_11)),
        })
    }

    /// Restarts the dropout stream from `seed`.
    pub fn reseed_dropout(&mut self, seed: u64) {
        self.dropout_rng = RefCell::new(Rng::new(seed).fork(0x7e_c0_11));
    }

    /// The cell type.
    pub fn kind(&self) -> CellKind {
        self.kind
    }

    /// The configuration.
    pub fn config(&self) -> &RecurrentConfig {
        &self.config
    }

    /// True in training mode (dropout between layers active).
    pub fn is_training(&self) -> bool {
        self.training
    }

    fn bad_input(&self, got: Vec<usize>) -> RnnError {
        let c = &self.config;
        RnnError::BadInput {
            layer: self.describe_layer(),
            expected: if c.batch_first {
                format!("[batch ≥ 1, seq ≥ 1, {}]", c.input_size)
            } else {
                format!("[seq ≥ 1, batch ≥ 1, {}]", c.input_size)
            },
            got,
        }
    }

    fn describe_layer(&self) -> String {
        let c = &self.config;
        let mut s = format!("{}({} → {}", self.kind.name(), c.input_size, c.hidden_size);
        if c.num_layers > 1 {
            s += &format!(", {} layers", c.num_layers);
        }
        if c.bidirectional {
            s += ", bidirectional";
        }
        s + ")"
    }

    /// (seq, batch) of an input, checked.
    fn check_input(&self, x: &Var<'_, T>) -> Result<(usize, usize)> {
        let s = x.shape();
        if s.len() != 3 || s[2] != self.config.input_size || s[0] == 0 || s[1] == 0 {
            return Err(self.bad_input(s));
        }
        Ok(if self.config.batch_first {
            (s[1], s[0])
        } else {
            (s[0], s[1])
        })
    }

    fn check_lengths(&self, lengths: &[usize], seq: usize, batch: usize) -> Result<()> {
        let layer = self.describe_layer();
        if lengths.len() != batch {
            return Err(RnnError::BadLengths {
                layer,
                message: format!("{} lengths for a batch of {batch}", lengths.len()),
            });
        }
        if let Some((i, &l)) = lengths.iter().enumerate().find(|(_, &l)| l == 0 || l > seq) {
            return Err(RnnError::BadLengths {
                layer,
                message: format!("length {l} of sequence {i} is outside 1..={seq}"),
            });
        }
        Ok(())
    }

    fn check_state(&self, state: &RecurrentState<'_, T>, batch: usize) -> Result<()> {
        let expected = vec![
            self.config.num_layers * self.config.directions(),
            batch,
            self.config.hidden_size,
        ];
        let layer = self.describe_layer();
        if state.h.shape() != expected {
            return Err(RnnError::BadState {
                layer,
                which: "hidden",
                expected,
                got: state.h.shape(),
            });
        }
        match (self.kind, state.c) {
            (CellKind::Lstm, None) => Err(RnnError::BadState {
                layer,
                which: "cell",
                expected,
                got: Vec::new(),
            }),
            (CellKind::Lstm, Some(c)) if c.shape() != expected => Err(RnnError::BadState {
                layer,
                which: "cell",
                expected,
                got: c.shape(),
            }),
            (CellKind::Lstm, Some(_)) => Ok(()),
            (_, Some(c)) => Err(RnnError::BadState {
                layer,
                which: "cell",
                expected: Vec::new(),
                got: c.shape(),
            }),
            (_, None) => Ok(()),
        }
    }

    /// The full forward: `x` [seq, B, input] (or [B, seq, input] when batch-first), optional
    /// per-sequence `lengths` (each in 1..=seq; padded steps neither update the state nor
    /// receive a gradient), optional initial state (zeros when `None`).
    pub fn forward_seq<'g>(
        &self,
        graph: &'g Graph<T>,
        x: Var<'g, T>,
        lengths: Option<&[usize]>,
        state: Option<&RecurrentState<'g, T>>,
    ) -> Result<RecurrentOutput<'g, T>> {
        self.forward_seq_with(graph, &self.bind(graph), x, lengths, state)
    }

    /// The parameters of every layer and direction bound into `graph` (index l·D + d).
    pub fn bind<'g>(&self, graph: &'g Graph<T>) -> Vec<CellVars<'g, T>> {
        self.cells.iter().map(|p| p.bind(graph)).collect()
    }

    fn check_weights(&self, weights: &[CellVars<'_, T>]) -> Result<()> {
        let c = &self.config;
        let d = c.directions();
        // Against the configuration, not `self.cells` (a public field): the forward pass
        // indexes one weight set per layer and direction.
        let want = c.num_layers * d;
        if weights.len() != want {
            return Err(RnnError::config(
                "forward_seq_with",
                format!(
                    "{} weight sets for {want} layer directions ({} layers × {d})",
                    weights.len(),
                    c.num_layers
                ),
            ));
        }
        for (i, w) in weights.iter().enumerate() {
            let input = if i < d {
                c.input_size
            } else {
                d * c.hidden_size
            };
            check_vars(
                &self.describe_layer(),
                self.kind.gates(),
                input,
                c.hidden_size,
                w,
            )?;
        }
        Ok(())
    }

    /// [`Recurrent::forward_seq`] with the weights given as variables, one [`CellVars`] per
    /// layer and direction (the functional form: gradient checks, weight tying).
    pub fn forward_seq_with<'g>(
        &self,
        graph: &'g Graph<T>,
        weights: &[CellVars<'g, T>],
        x: Var<'g, T>,
        lengths: Option<&[usize]>,
        state: Option<&RecurrentState<'g, T>>,
    ) -> Result<RecurrentOutput<'g, T>> {
        self.check_weights(weights)?;
        let (seq, batch) = self.check_input(&x)?;
        if let Some(l) = lengths {
            self.check_lengths(l, seq, batch)?;
        }
        if let Some(s) = state {
            self.check_state(s, batch)?;
        }
        // A batch-first input goes in as it is: its rows are batch-major, and the first layer's
        // input projection keeps that order (no transposed copy).
        let (out, st) = self.run(
            graph,
            weights,
            x,
            self.config.batch_first,
            seq,
            batch,
            lengths.map(|l| l.to_vec()),
            state,
        )?;
        let output = if self.config.batch_first {
            out.transpose(0, 1)?
        } else {
            out
        };
        Ok(RecurrentOutput { output, state: st })
    }

    /// Truncated back-propagation through time inside one graph: runs the sequence in windows
    /// of `k` steps and detaches the state between windows, so no gradient flows more than `k`
    /// steps back. Outputs and final state as [`Recurrent::forward_seq`]. Unidirectional only
    /// (a reverse direction would read the future of each window).
    pub fn forward_tbptt<'g>(
        &self,
        graph: &'g Graph<T>,
        x: Var<'g, T>,
        k: usize,
        lengths: Option<&[usize]>,
        state: Option<&RecurrentState<'g, T>>,
    ) -> Result<RecurrentOutput<'g, T>> {
        if k == 0 {
            return Err(RnnError::config(
                "forward_tbptt",
                "window k must be at least 1, got 0",
            ));
        }
        if self.config.bidirectional {
            return Err(RnnError::config(
                "forward_tbptt",
                "truncated BPTT needs a unidirectional layer",
            ));
        }
        let weights = self.bind(graph);
        // `cells` is public: the bound weights must still have the configured shapes.
        self.check_weights(&weights)?;
        let (seq, batch) = self.check_input(&x)?;
        if let Some(l) = lengths {
            self.check_lengths(l, seq, batch)?;
        }
        if let Some(s) = state {
            self.check_state(s, batch)?;
        }
        let axis = usize::from(self.config.batch_first);
        let mut st = state.copied();
        let mut outs = Vec::new();
        let mut start = 0;
        while start < seq {
            let len = k.min(seq - start);
            let chunk = x.narrow(axis, start, len)?;
            let chunk_tm = if self.config.batch_first {
                chunk.transpose(0, 1)?
            } else {
                chunk
            };
            let chunk_lengths = lengths.map(|l| {
                l.iter()
                    .map(|&n| n.saturating_sub(start).min(len))
                    .collect()
            });
            let (o, s) = self.run(
                graph,
                &weights,
                chunk_tm,
                false,
                len,
                batch,
                chunk_lengths,
                st.as_ref(),
            )?;
            outs.push(o);
            start += len;
            st = Some(if start < seq { s.detach()? } else { s });
        }
        let out = concat(&outs, 0)?;
        let output = if self.config.batch_first {
            out.transpose(0, 1)?
        } else {
            out
        };
        let state = st.expect("seq ≥ 1, so one window ran"); // ok: check_input rejects seq = 0
        Ok(RecurrentOutput { output, state })
    }

    /// The layers over an input [seq, B, features], or [B, seq, features] when `batch_major`;
    /// lengths already checked (0 is allowed here: a sequence with nothing left in a
    /// truncated-BPTT window). The output is time-major.
    #[allow(clippy::too_many_arguments)]
    fn run<'g>(
        &self,
        graph: &'g Graph<T>,
        weights: &[CellVars<'g, T>],
        x: Var<'g, T>,
        batch_major: bool,
        seq: usize,
        batch: usize,
        lengths: Option<Vec<usize>>,
        state: Option<&RecurrentState<'g, T>>,
    ) -> Result<(Var<'g, T>, RecurrentState<'g, T>)> {
        let c = &self.config;
        let (hn, d) = (c.hidden_size, c.directions());
        let lengths = lengths.filter(|l| l.iter().any(|&n| n != seq));
        let extra = self.kind.extra_rows();
        let mut layer_in = x;
        let mut hs = Vec::with_capacity(c.num_layers * d);
        let mut cs = Vec::with_capacity(c.num_layers * d);
        for l in 0..c.num_layers {
            let feat = layer_in.shape()[2];
            let x2 = layer_in.reshape(&[seq * batch, feat])?;
            let batch_major = batch_major && l == 0;
            let mut outs = Vec::with_capacity(d);
            for dir in 0..d {
                let idx = l * d + dir;
                let p = &weights[idx];
                let slot = |v: Var<'g, T>| -> Result<Var<'g, T>> {
                    Ok(v.narrow(0, idx, 1)?.reshape(&[batch, hn])?)
                };
                let h0 = match state {
                    Some(s) => slot(s.h)?,
                    None => graph.constant(Tensor::zeros(&[batch, hn])),
                };
                let c0 = match (self.kind, state.and_then(|s| s.c)) {
                    (CellKind::Lstm, Some(cv)) => Some(slot(cv)?),
                    (CellKind::Lstm, None) => Some(graph.constant(Tensor::zeros(&[batch, hn]))),
                    _ => None,
                };
                let spec = SeqSpec {
                    kind: self.kind,
                    steps: seq,
                    batch,
                    hidden: hn,
                    lengths: lengths.clone(),
                    reverse: dir == 1,
                    batch_major,
                };
                let y = run_sequence(graph, spec, x2, p, h0, c0)?; // [seq + extra, B, H]
                outs.push(y.narrow(0, 0, seq)?);
                hs.push(y.narrow(0, seq, 1)?);
                if extra == 2 {
                    cs.push(y.narrow(0, seq + 1, 1)?);
                }
            }
            layer_in = if d == 2 { concat(&outs, 2)? } else { outs[0] };
            if l + 1 < c.num_layers && self.training && c.dropout > 0.0 {
                layer_in = layer_in.dropout(c.dropout, &mut self.dropout_rng.borrow_mut())?;
            }
        }
        let h = if hs.len() == 1 {
            hs[0]
        } else {
            concat(&hs, 0)?
        };
        let c = match cs.len() {
            0 => None,
            1 => Some(cs[0]),
            _ => Some(concat(&cs, 0)?),
        };
        Ok((layer_in, RecurrentState { h, c }))
    }

    /// The name suffix of `cells[i]`'s parameters (`_l0`, `_l0_reverse`, …).
    fn cell_suffix(&self, i: usize) -> String {
        let d = self.config.directions();
        suffix(i / d, i % d)
    }
}

/// PyTorch's parameter-name suffix: `_l0`, `_l0_reverse`, `_l1`, …
fn suffix(layer: usize, dir: usize) -> String {
    if dir == 1 {
        format!("_l{layer}_reverse")
    } else {
        format!("_l{layer}")
    }
}

/// Records one direction of one layer as a sequence op (or computes it without recording when
/// nothing needs a gradient: the inference path).
fn run_sequence<'g, T: Float>(
    graph: &'g Graph<T>,
    spec: SeqSpec,
    x: Var<'g, T>,
    p: &CellVars<'g, T>,
    h0: Var<'g, T>,
    c0: Option<Var<'g, T>>,
) -> Result<Var<'g, T>> {
    let (wi, w, bi, b) = (p.weight_ih, p.weight_hh, p.bias_ih, p.bias_hh);
    let mut inputs = vec![wi, w, bi, b, h0];
    inputs.extend(c0);
    let save =
        graph.is_recording() && (x.requires_grad() || inputs.iter().any(|v| v.requires_grad()));
    let (xv, wiv, wv, biv, bv, h0v) = (
        x.value()?,
        wi.value()?,
        w.value()?,
        bi.value()?,
        b.value()?,
        h0.value()?,
    );
    let c0v = c0.map(|c| c.value()).transpose()?;
    let c0d = c0v.as_ref().map(|t| data(t));
    let (out, saved) = sequence::forward(
        &spec,
        &data(&xv),
        &data(&wiv),
        &data(&wv),
        &data(&biv),
        &data(&bv),
        &data(&h0v),
        c0d.as_deref(),
        save,
    )?;
    let shape = [spec.steps + spec.kind.extra_rows(), spec.batch, spec.hidden];
    let out = Tensor::from_vec(out, &shape)?;
    match saved {
        Some(saved) => Ok(x.record(SequenceOp { spec, saved }, &inputs, out)?),
        None => Ok(graph.constant(out)),
    }
}

impl<T: Float> Module<T> for Recurrent<T> {
    /// All outputs of the last layer, from a zero state, every sequence full length.
    fn forward<'g>(&self, graph: &'g Graph<T>, x: Var<'g, T>) -> neurite_nn::Result<Var<'g, T>> {
        Ok(self.forward_seq(graph, x, None, None)?.output)
    }
    neurite_nn::walk!(T; parts cells by cell_suffix, rng dropout_rng);
    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
    fn describe(&self) -> String {
        self.describe_layer()
    }
}

macro_rules! layer {
    ($(#[$doc:meta])* $Name:ident, |$c:ident| $kind:expr) => {
        $(#[$doc])*
        pub struct $Name<T: Float>(Recurrent<T>);

        impl<T: Float> $Name<T> {
            /// A layer from its configuration, with PyTorch's initialisation (uniform
            /// ±1/√hidden), seeded; invalid sizes or probabilities are a typed error.
            pub fn new($c: &RecurrentConfig, rng: &mut Rng) -> Result<Self> {
                Ok($Name(Recurrent::new($kind, $c, rng)?))
            }

            /// A layer from given parameters, no Rng (see [`Recurrent::from_params`]).
            pub fn from_params($c: &RecurrentConfig, cells: Vec<CellParams<T>>) -> Result<Self> {
                Ok($Name(Recurrent::from_params($kind, $c, cells)?))
            }
        }

        impl<T: Float> Deref for $Name<T> {
            type Target = Recurrent<T>;
            fn deref(&self) -> &Recurrent<T> {
                &self.0
            }
        }

        impl<T: Float> DerefMut for $Name<T> {
            fn deref_mut(&mut self) -> &mut Recurrent<T> {
                &mut self.0
            }
        }

        impl<T: Float> Module<T> for $Name<T> {
            fn forward<'g>(
                &self,
                graph: &'g Graph<T>,
                x: Var<'g, T>,
            ) -> neurite_nn::Result<Var<'g, T>> {
                self.0.forward(graph, x)
            }
            neurite_nn::walk!(T; inner 0);
            fn set_training(&mut self, training: bool) {
                self.0.set_training(training)
            }
            fn describe(&self) -> String {
                self.0.describe()
            }
        }
    };
}

layer!(
    /// A multi-layer Elman RNN: hₜ = φ(W_ih·xₜ + b_ih + W_hh·hₜ₋₁ + b_hh), φ = tanh or ReLU
    /// (`config.nonlinearity`). Weights as PyTorch's `nn.RNN`.
    Rnn,
    |c| CellKind::Rnn(c.nonlinearity)
);
layer!(
    /// A multi-layer GRU (gates r, z, n, the reset gate applied to W_hn·h + b_hn), weights as
    /// PyTorch's `nn.GRU`.
    Gru,
    |c| CellKind::Gru
);
layer!(
    /// A multi-layer LSTM (gates i, f, g, o; cell state c), weights as PyTorch's `nn.LSTM`.
    Lstm,
    |c| CellKind::Lstm
);

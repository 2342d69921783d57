//! Single-step cells: `RnnCell`, `GruCell`, `LstmCell`, with PyTorch's weight names, shapes and
//! gate order, for code that steps through time itself (decoders, custom loops).
//!
//! Each step is two matmuls in the graph (x·W_ihᵀ + b_ih and h·W_hhᵀ + b_hh, each one matmul
//! for all gates) followed by ONE recorded op that fuses the gate non-linearities and the
//! state update, with a hand-written backward ([`crate::kernels`]).

use neurite_autograd::{Backward, BackwardContext, Graph, Parameter, Var};
use neurite_nn::Module;
use neurite_tensor::{Float, Rng, Tensor};

use crate::error::{Result, RnnError};
use crate::kernels::{
    gru_backward_row, gru_forward_row, lstm_backward_row, lstm_forward_row, rnn_backward_row,
    rnn_forward_row, Nonlinearity,
};
use crate::sequence::{data, CellKind};

/// Sizes of a cell, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CellConfig {
    /// Features of the input x.
    pub input_size: usize,
    /// Features of the hidden state h.
    pub hidden_size: usize,
    /// The non-linearity of [`RnnCell`] (GRU and LSTM cells accept only the default, tanh).
    pub nonlinearity: Nonlinearity,
}

/// The four parameters of a cell or of one layer direction, PyTorch's layout:
/// `weight_ih` [G·H, I], `weight_hh` [G·H, H], `bias_ih` [G·H], `bias_hh` [G·H].
#[derive(Debug, Clone)]
pub struct CellParams<T: Float> {
    /// Input-to-hidden weights of all gates, stacked [G·H, input].
    pub weight_ih: Parameter<T>,
    /// Hidden-to-hidden weights of all gates, stacked [G·H, hidden].
    pub weight_hh: Parameter<T>,
    /// Input-side bias [G·H].
    pub bias_ih: Parameter<T>,
    /// Hidden-side bias [G·H].
    pub bias_hh: Parameter<T>,
}

impl<T: Float> CellParams<T> {
    /// PyTorch's initialisation: every entry uniform in ±1/√hidden.
    pub(crate) fn new(gates: usize, input: usize, hidden: usize, rng: &mut Rng) -> Self {
        let a = 1.0 / (hidden as f64).sqrt();
        let mut u = |shape: &[usize]| Parameter::new(Tensor::rand_uniform(shape, -a, a, rng));
        CellParams {
            weight_ih: u(&[gates * hidden, input]),
            weight_hh: u(&[gates * hidden, hidden]),
            bias_ih: u(&[gates * hidden]),
            bias_hh: u(&[gates * hidden]),
        }
    }
    /// The four tensors as given (e.g. a PyTorch `state_dict`'s `weight_ih_l0`, …); the cell or
    /// layer they go into checks their shapes.
    pub fn from_tensors(
        weight_ih: Tensor<T>,
        weight_hh: Tensor<T>,
        bias_ih: Tensor<T>,
        bias_hh: Tensor<T>,
    ) -> Self {
        CellParams {
            weight_ih: Parameter::new(weight_ih),
            weight_hh: Parameter::new(weight_hh),
            bias_ih: Parameter::new(bias_ih),
            bias_hh: Parameter::new(bias_hh),
        }
    }

    /// Checks PyTorch's shapes for `gates` gates: [G·H, input], [G·H, H], [G·H], [G·H].
    pub(crate) fn check(
        &self,
        layer: &str,
        gates: usize,
        input: usize,
        hidden: usize,
    ) -> Result<()> {
        let gh = gates * hidden;
        for (what, p, want) in [
            ("weight_ih", &self.weight_ih, vec![gh, input]),
            ("weight_hh", &self.weight_hh, vec![gh, hidden]),
            ("bias_ih", &self.bias_ih, vec![gh]),
            ("bias_hh", &self.bias_hh, vec![gh]),
        ] {
            if p.shape() != want.as_slice() {
                return Err(neurite_nn::NnError::ParamShape {
                    layer: layer.to_string(),
                    what,
                    expected: format!("{want:?}"),
                    got: p.shape().to_vec(),
                }
                .into());
            }
        }
        Ok(())
    }

    /// (input, hidden) read off the weights of a cell with `gates` gates, or a typed error.
    fn sizes(&self, layer: &str, gates: usize) -> Result<(usize, usize)> {
        let w = self.weight_hh.shape();
        let (input, hidden) = match (self.weight_ih.shape(), w) {
            ([gh, i], [gh2, h]) if gh == gh2 && *h > 0 && *i > 0 && *gh == gates * h => (*i, *h),
            _ => {
                return Err(neurite_nn::NnError::ParamShape {
                    layer: layer.to_string(),
                    what: "weight_hh",
                    expected: format!(
                        "[{gates}·hidden, hidden] with weight_ih [{gates}·hidden, input]"
                    ),
                    got: w.to_vec(),
                }
                .into())
            }
        };
        self.check(layer, gates, input, hidden)?;
        Ok((input, hidden))
    }
}

/// The four weights, named as PyTorch names them (`weight_ih`, …; a layer suffixes them).
impl<T: Float> neurite_nn::Walk<T> for CellParams<T> {
    neurite_nn::walk!(T; param weight_ih, param weight_hh, param bias_ih, param bias_hh);
}

/// The four parameters of a cell bound into a graph (or any variables of the same shapes: the
/// functional form used by gradient checks and by weight tying).
#[derive(Debug, Clone, Copy)]
pub struct CellVars<'g, T: Float> {
    /// [G·H, input].
    pub weight_ih: Var<'g, T>,
    /// [G·H, hidden].
    pub weight_hh: Var<'g, T>,
    /// [G·H].
    pub bias_ih: Var<'g, T>,
    /// [G·H].
    pub bias_hh: Var<'g, T>,
}

impl<T: Float> CellParams<T> {
    /// Binds the parameters into `graph`.
    pub fn bind<'g>(&self, graph: &'g Graph<T>) -> CellVars<'g, T> {
        CellVars {
            weight_ih: graph.param(&self.weight_ih),
            weight_hh: graph.param(&self.weight_hh),
            bias_ih: graph.param(&self.bias_ih),
            bias_hh: graph.param(&self.bias_hh),
        }
    }
}

/// Checks that bound weights have the shapes of a cell with G gates.
pub(crate) fn check_vars<T: Float>(
    layer: &str,
    gates: usize,
    input: usize,
    hidden: usize,
    w: &CellVars<'_, T>,
) -> Result<()> {
    let g = gates * hidden;
    for (name, v, expected) in [
        ("weight_ih", w.weight_ih, vec![g, input]),
        ("weight_hh", w.weight_hh, vec![g, hidden]),
        ("bias_ih", w.bias_ih, vec![g]),
        ("bias_hh", w.bias_hh, vec![g]),
    ] {
        if v.shape() != expected {
            return Err(RnnError::BadInput {
                layer: format!("{layer} {name}"),
                expected: format!("{expected:?}"),
                got: v.shape(),
            });
        }
    }
    Ok(())
}

/// The weights of a cell with G gates, [G·H, input] and [G·H, hidden], must be representable
/// (a product that overflows panicked in debug builds, and no buffer could hold them anyway).
pub(crate) fn check_sizes(
    what: &'static str,
    gates: usize,
    input: usize,
    hidden: usize,
) -> Result<()> {
    let largest = gates
        .checked_mul(hidden)
        .and_then(|g| g.checked_mul(input.max(hidden)))
        .filter(|&n| n <= isize::MAX as usize / std::mem::size_of::<f64>());
    if largest.is_none() {
        return Err(RnnError::config(
            what,
            format!(
                "weights of {gates} gates × hidden_size {hidden} × input_size {input} are too large to hold"
            ),
        ));
    }
    Ok(())
}

/// The parameters of `cells` cells of G gates taking `input` features, plus `deep_cells`
/// taking `deep_input` (the upper layers of a stack), each with weights [G·H, input],
/// [G·H, H] and two biases [G·H], must fit in this process's memory together
/// ([`neurite_tensor::alloc`]): a typed out-of-memory error before any is initialised.
pub(crate) fn check_memory<T>(
    what: &str,
    gates: usize,
    hidden: usize,
    (cells, input): (usize, usize),
    (deep_cells, deep_input): (usize, usize),
) -> Result<()> {
    let gh = gates.saturating_mul(hidden);
    let per_cell = |i: usize| gh.saturating_mul(i.saturating_add(hidden).saturating_add(2));
    let total = cells
        .saturating_mul(per_cell(input))
        .saturating_add(deep_cells.saturating_mul(per_cell(deep_input)));
    neurite_tensor::alloc::check_bytes::<T>(
        &format!("{what} parameters (input_size {input}, hidden_size {hidden})"),
        total,
    )?;
    Ok(())
}

/// [`check_memory`] for one cell.
fn check_cell_memory<T>(what: &str, gates: usize, c: &CellConfig) -> Result<()> {
    check_memory::<T>(what, gates, c.hidden_size, (1, c.input_size), (0, 0))
}

/// [`check_memory`] for a stack of layers: `d` cells (one per direction) on the input, and
/// `(num_layers − 1)·d` on the `deep_input` features of the layer below.
pub(crate) fn check_stack_memory<T>(
    what: &str,
    gates: usize,
    c: &crate::layer::RecurrentConfig,
    deep_input: usize,
) -> Result<()> {
    let d = c.directions();
    let deep = (c.num_layers.saturating_sub(1).saturating_mul(d), deep_input);
    check_memory::<T>(what, gates, c.hidden_size, (d, c.input_size), deep)
}

fn check_config(what: &'static str, kind: CellKind, c: &CellConfig) -> Result<()> {
    if c.input_size == 0 || c.hidden_size == 0 {
        return Err(RnnError::config(
            what,
            format!(
                "input_size and hidden_size must be positive, got input_size={} hidden_size={}",
                c.input_size, c.hidden_size
            ),
        ));
    }
    if !matches!(kind, CellKind::Rnn(_)) && c.nonlinearity != Nonlinearity::Tanh {
        return Err(RnnError::config(
            what,
            "only the plain RNN takes a nonlinearity (GRU and LSTM gates are fixed)",
        ));
    }
    check_sizes(what, kind.gates(), c.input_size, c.hidden_size)
}

/// Checks x [B, input] and an optional state [B, hidden]; returns B.
fn check_step<T: Float>(
    layer: String,
    input: usize,
    hidden: usize,
    x: &Var<'_, T>,
    states: &[(&'static str, Option<&Var<'_, T>>)],
) -> Result<usize> {
    let xs = x.shape();
    if xs.len() != 2 || xs[1] != input || xs[0] == 0 {
        return Err(RnnError::BadInput {
            layer,
            expected: format!("[batch ≥ 1, {input}]"),
            got: xs,
        });
    }
    for (which, s) in states {
        if let Some(s) = s {
            let shape = s.shape();
            if shape != [xs[0], hidden] {
                return Err(RnnError::BadState {
                    layer,
                    which,
                    expected: vec![xs[0], hidden],
                    got: shape,
                });
            }
        }
    }
    Ok(xs[0])
}

/// x·W_ihᵀ + b_ih and h·W_hhᵀ + b_hh: one matmul each, for all gates.
fn projections<'g, T: Float>(
    w: &CellVars<'g, T>,
    x: Var<'g, T>,
    h: Var<'g, T>,
) -> Result<(Var<'g, T>, Var<'g, T>)> {
    let gx = x.matmul(w.weight_ih.t()?)?.add(w.bias_ih)?;
    let gh = h.matmul(w.weight_hh.t()?)?.add(w.bias_hh)?;
    Ok((gx, gh))
}

// ---------------------------------------------------------------------------------------------
// RNN

/// The fused RNN cell op: h = φ(pre). Derivative φ'(pre) from the output (1 − h² for tanh).
struct RnnCellOp(Nonlinearity);

impl<T: Float> Backward<T> for RnnCellOp {
    fn name(&self) -> &'static str {
        "rnn_cell"
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        upstream: &Tensor<T>,
    ) -> neurite_autograd::Result<Vec<Option<Tensor<T>>>> {
        let h = data(ctx.output());
        let up = data(upstream);
        let mut d = vec![T::ZERO; h.len()];
        rnn_backward_row(&h, &up, &mut d, self.0);
        Ok(vec![Some(Tensor::from_vec(d, ctx.output().shape())?)])
    }
}

/// An Elman RNN cell: h' = φ(W_ih·x + b_ih + W_hh·h + b_hh), φ = tanh (or ReLU).
pub struct RnnCell<T: Float> {
    /// The parameters (G = 1).
    pub params: CellParams<T>,
    config: CellConfig,
}

impl<T: Float> RnnCell<T> {
    /// A cell with PyTorch's initialisation, seeded.
    pub fn new(config: &CellConfig, rng: &mut Rng) -> Result<Self> {
        check_config("RnnCell", CellKind::Rnn(config.nonlinearity), config)?;
        check_cell_memory::<T>("RnnCell", 1, config)?;
        Ok(RnnCell {
            params: CellParams::new(1, config.input_size, config.hidden_size, rng),
            config: *config,
        })
    }
    /// A cell from given parameters (PyTorch's layout, 1 gate(s)), no Rng needed; the sizes
    /// are read off the weights and every shape is checked.
    pub fn from_params(params: CellParams<T>, nonlinearity: Nonlinearity) -> Result<Self> {
        let (input_size, hidden_size) = params.sizes("RnnCell", 1)?;
        let config = CellConfig {
            input_size,
            hidden_size,
            nonlinearity,
        };
        check_config("RnnCell", CellKind::Rnn(nonlinearity), &config)?;
        Ok(RnnCell { params, config })
    }
    /// Its configuration.
    pub fn config(&self) -> &CellConfig {
        &self.config
    }
    /// One step: x [B, input], h [B, hidden] (zeros when `None`) → h' [B, hidden].
    pub fn step<'g>(
        &self,
        graph: &'g Graph<T>,
        x: Var<'g, T>,
        h: Option<Var<'g, T>>,
    ) -> Result<Var<'g, T>> {
        self.step_with(graph, &self.params.bind(graph), x, h)
    }
    /// [`Self::step`] with the weights given as variables (the functional form).
    pub fn step_with<'g>(
        &self,
        graph: &'g Graph<T>,
        w: &CellVars<'g, T>,
        x: Var<'g, T>,
        h: Option<Var<'g, T>>,
    ) -> Result<Var<'g, T>> {
        check_vars(
            &self.describe(),
            1,
            self.config.input_size,
            self.config.hidden_size,
            w,
        )?;
        let c = &self.config;
        let b = check_step(
            self.describe(),
            c.input_size,
            c.hidden_size,
            &x,
            &[("hidden", h.as_ref())],
        )?;
        let h = h.unwrap_or_else(|| graph.constant(Tensor::zeros(&[b, c.hidden_size])));
        let (gx, gh) = projections(w, x, h)?;
        let pre = gx.add(gh)?;
        let mut out = data(&pre.value()?).into_owned();
        rnn_forward_row(&mut out, c.nonlinearity);
        let out = Tensor::from_vec(out, &[b, c.hidden_size])?;
        Ok(pre.record(RnnCellOp(c.nonlinearity), &[], out)?)
    }
}

impl<T: Float> Module<T> for RnnCell<T> {
    /// One step from a zero state.
    fn forward<'g>(&self, graph: &'g Graph<T>, x: Var<'g, T>) -> neurite_nn::Result<Var<'g, T>> {
        Ok(self.step(graph, x, None)?)
    }
    neurite_nn::walk!(T; part params);
    fn describe(&self) -> String {
        format!(
            "RnnCell({} → {})",
            self.config.input_size, self.config.hidden_size
        )
    }
}

// ---------------------------------------------------------------------------------------------
// GRU

/// The fused GRU cell op. Inputs gx [B, 3H], gh [B, 3H], h_prev [B, H]; output h [B, H].
struct GruCellOp<T: Float> {
    act: Vec<T>,
    hidden: usize,
}

impl<T: Float> Backward<T> for GruCellOp<T> {
    fn name(&self) -> &'static str {
        "gru_cell"
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        upstream: &Tensor<T>,
    ) -> neurite_autograd::Result<Vec<Option<Tensor<T>>>> {
        let hn = self.hidden;
        let g = 3 * hn;
        let gh = data(ctx.input(1));
        let hp = data(ctx.input(2));
        let up = data(upstream);
        let bn = hp.len() / hn;
        let (mut dgx, mut dgh, mut dhp) = (
            vec![T::ZERO; bn * g],
            vec![T::ZERO; bn * g],
            vec![T::ZERO; bn * hn],
        );
        for b in 0..bn {
            gru_backward_row(
                &self.act[b * g..(b + 1) * g],
                &gh[b * g + 2 * hn..(b + 1) * g],
                &hp[b * hn..(b + 1) * hn],
                &up[b * hn..(b + 1) * hn],
                &mut dgx[b * g..(b + 1) * g],
                &mut dgh[b * g..(b + 1) * g],
                &mut dhp[b * hn..(b + 1) * hn],
            );
        }
        Ok(vec![
            Some(Tensor::from_vec(dgx, &[bn, g])?),
            Some(Tensor::from_vec(dgh, &[bn, g])?),
            Some(Tensor::from_vec(dhp, &[bn, hn])?),
        ])
    }
}

/// A GRU cell (PyTorch's): r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
/// n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn)), h' = (1 − z)⊙n + z⊙h. Gates stacked r, z, n.
pub struct GruCell<T: Float> {
    /// The parameters (G = 3).
    pub params: CellParams<T>,
    config: CellConfig,
}

impl<T: Float> GruCell<T> {
    /// A cell with PyTorch's initialisation, seeded.
    pub fn new(config: &CellConfig, rng: &mut Rng) -> Result<Self> {
        check_config("GruCell", CellKind::Gru, config)?;
        check_cell_memory::<T>("GruCell", 3, config)?;
        Ok(GruCell {
            params: CellParams::new(3, config.input_size, config.hidden_size, rng),
            config: *config,
        })
    }
    /// A cell from given parameters (PyTorch's layout, 3 gate(s)), no Rng needed; the sizes
    /// are read off the weights and every shape is checked.
    pub fn from_params(params: CellParams<T>) -> Result<Self> {
        let (input_size, hidden_size) = params.sizes("GruCell", 3)?;
        let config = CellConfig {
            input_size,
            hidden_size,
            nonlinearity: Nonlinearity::Tanh,
        };
        check_config("GruCell", CellKind::Gru, &config)?;
        Ok(GruCell { params, config })
    }
    /// Its configuration.
    pub fn config(&self) -> &CellConfig {
        &self.config
    }
    /// One step: x [B, input], h [B, hidden] (zeros when `None`) → h' [B, hidden].
    pub fn step<'g>(
        &self,
        graph: &'g Graph<T>,
        x: Var<'g, T>,
        h: Option<Var<'g, T>>,
    ) -> Result<Var<'g, T>> {
        self.step_with(graph, &self.params.bind(graph), x, h)
    }
    /// [`Self::step`] with the weights given as variables (the functional form).
    pub fn step_with<'g>(
        &self,
        graph: &'g Graph<T>,
        w: &CellVars<'g, T>,
        x: Var<'g, T>,
        h: Option<Var<'g, T>>,
    ) -> Result<Var<'g, T>> {
        check_vars(
            &self.describe(),
            3,
            self.config.input_size,
            self.config.hidden_size,
            w,
        )?;
        let c = &self.config;
        let hn = c.hidden_size;
        let b = check_step(
            self.describe(),
            c.input_size,
            hn,
            &x,
            &[("hidden", h.as_ref())],
        )?;
        let h = h.unwrap_or_else(|| graph.constant(Tensor::zeros(&[b, hn])));
        let (gx, gh) = projections(w, x, h)?;
        let (gxv, ghv, hv) = (gx.value()?, gh.value()?, h.value()?);
        let (gxd, ghd, hd) = (data(&gxv), data(&ghv), data(&hv));
        let g = 3 * hn;
        let mut act = vec![T::ZERO; b * g];
        let mut out = vec![T::ZERO; b * hn];
        for r in 0..b {
            gru_forward_row(
                &gxd[r * g..(r + 1) * g],
                &ghd[r * g..(r + 1) * g],
                &hd[r * hn..(r + 1) * hn],
                &mut act[r * g..(r + 1) * g],
                &mut out[r * hn..(r + 1) * hn],
            );
        }
        let out = Tensor::from_vec(out, &[b, hn])?;
        Ok(gx.record(GruCellOp { act, hidden: hn }, &[gh, h], out)?)
    }
}

impl<T: Float> Module<T> for GruCell<T> {
    /// One step from a zero state.
    fn forward<'g>(&self, graph: &'g Graph<T>, x: Var<'g, T>) -> neurite_nn::Result<Var<'g, T>> {
        Ok(self.step(graph, x, None)?)
    }
    neurite_nn::walk!(T; part params);
    fn describe(&self) -> String {
        format!(
            "GruCell({} → {})",
            self.config.input_size, self.config.hidden_size
        )
    }
}

// ---------------------------------------------------------------------------------------------
// LSTM

/// The fused LSTM cell op. Inputs: gate pre-activations [B, 4H] (i, f, g, o) and c_prev [B, H];
/// output [B, 2H] = [h' | c'].
struct LstmCellOp<T: Float> {
    act: Vec<T>,
    tc: Vec<T>,
    hidden: usize,
}

impl<T: Float> Backward<T> for LstmCellOp<T> {
    fn name(&self) -> &'static str {
        "lstm_cell"
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        upstream: &Tensor<T>,
    ) -> neurite_autograd::Result<Vec<Option<Tensor<T>>>> {
        let hn = self.hidden;
        let g = 4 * hn;
        let cp = data(ctx.input(1));
        let up = data(upstream);
        let bn = cp.len() / hn;
        let (mut dg, mut dcp) = (vec![T::ZERO; bn * g], vec![T::ZERO; bn * hn]);
        for b in 0..bn {
            let u = &up[b * 2 * hn..(b + 1) * 2 * hn];
            lstm_backward_row(
                &self.act[b * g..(b + 1) * g],
                &cp[b * hn..(b + 1) * hn],
                &self.tc[b * hn..(b + 1) * hn],
                &u[..hn],
                &u[hn..],
                &mut dg[b * g..(b + 1) * g],
                &mut dcp[b * hn..(b + 1) * hn],
            );
        }
        Ok(vec![
            Some(Tensor::from_vec(dg, &[bn, g])?),
            Some(Tensor::from_vec(dcp, &[bn, hn])?),
        ])
    }
}

/// The (h, c) state of an LSTM cell, each [B, hidden].
#[derive(Debug, Clone, Copy)]
pub struct LstmState<'g, T: Float> {
    /// Hidden state h [B, hidden].
    pub h: Var<'g, T>,
    /// Cell state c [B, hidden].
    pub c: Var<'g, T>,
}

/// An LSTM cell (PyTorch's): gates i, f, g, o = σ, σ, tanh, σ of W_ih·x + b_ih + W_hh·h + b_hh;
/// c' = f⊙c + i⊙g; h' = o⊙tanh(c').
pub struct LstmCell<T: Float> {
    /// The parameters (G = 4).
    pub params: CellParams<T>,
    config: CellConfig,
}

impl<T: Float> LstmCell<T> {
    /// A cell with PyTorch's initialisation, seeded.
    pub fn new(config: &CellConfig, rng: &mut Rng) -> Result<Self> {
        check_config("LstmCell", CellKind::Lstm, config)?;
        check_cell_memory::<T>("LstmCell", 4, config)?;
        Ok(LstmCell {
            params: CellParams::new(4, config.input_size, config.hidden_size, rng),
            config: *config,
        })
    }
    /// A cell from given parameters (PyTorch's layout, 4 gate(s)), no Rng needed; the sizes
    /// are read off the weights and every shape is checked.
    pub fn from_params(params: CellParams<T>) -> Result<Self> {
        let (input_size, hidden_size) = params.sizes("LstmCell", 4)?;
        let config = CellConfig {
            input_size,
            hidden_size,
            nonlinearity: Nonlinearity::Tanh,
        };
        check_config("LstmCell", CellKind::Lstm, &config)?;
        Ok(LstmCell { params, config })
    }
    /// Its configuration.
    pub fn config(&self) -> &CellConfig {
        &self.config
    }
    /// One step: x [B, input] and the state (zeros when `None`) → the new state.
    pub fn step<'g>(
        &self,
        graph: &'g Graph<T>,
        x: Var<'g, T>,
        state: Option<LstmState<'g, T>>,
    ) -> Result<LstmState<'g, T>> {
        self.step_with(graph, &self.params.bind(graph), x, state)
    }
    /// [`Self::step`] with the weights given as variables (the functional form).
    pub fn step_with<'g>(
        &self,
        graph: &'g Graph<T>,
        w: &CellVars<'g, T>,
        x: Var<'g, T>,
        state: Option<LstmState<'g, T>>,
    ) -> Result<LstmState<'g, T>> {
        check_vars(
            &self.describe(),
            4,
            self.config.input_size,
            self.config.hidden_size,
            w,
        )?;
        let c = &self.config;
        let hn = c.hidden_size;
        let b = check_step(
            self.describe(),
            c.input_size,
            hn,
            &x,
            &[
                ("hidden", state.as_ref().map(|s| &s.h)),
                ("cell", state.as_ref().map(|s| &s.c)),
            ],
        )?;
        let state = state.unwrap_or_else(|| LstmState {
            h: graph.constant(Tensor::zeros(&[b, hn])),
            c: graph.constant(Tensor::zeros(&[b, hn])),
        });
        let (gx, gh) = projections(w, x, state.h)?;
        let pre = gx.add(gh)?;
        let mut act = data(&pre.value()?).into_owned();
        let cv = state.c.value()?;
        let cp = data(&cv);
        let g = 4 * hn;
        let mut tc = vec![T::ZERO; b * hn];
        let mut out = vec![T::ZERO; b * 2 * hn];
        for r in 0..b {
            let (h_out, c_out) = out[r * 2 * hn..(r + 1) * 2 * hn].split_at_mut(hn);
            lstm_forward_row(
                &mut act[r * g..(r + 1) * g],
                &cp[r * hn..(r + 1) * hn],
                c_out,
                &mut tc[r * hn..(r + 1) * hn],
                h_out,
            );
        }
        let out = Tensor::from_vec(out, &[b, 2 * hn])?;
        let hc = pre.record(
            LstmCellOp {
                act,
                tc,
                hidden: hn,
            },
            &[state.c],
            out,
        )?;
        Ok(LstmState {
            h: hc.narrow(1, 0, hn)?,
            c: hc.narrow(1, hn, hn)?,
        })
    }
}

impl<T: Float> Module<T> for LstmCell<T> {
    /// One step from a zero state; returns h'.
    fn forward<'g>(&self, graph: &'g Graph<T>, x: Var<'g, T>) -> neurite_nn::Result<Var<'g, T>> {
        Ok(self.step(graph, x, None)?.h)
    }
    neurite_nn::walk!(T; part params);
    fn describe(&self) -> String {
        format!(
            "LstmCell({} → {})",
            self.config.input_size, self.config.hidden_size
        )
    }
}

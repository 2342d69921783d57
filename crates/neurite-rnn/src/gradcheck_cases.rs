//! The gradient-check cases of neurite-rnn: every cell (both RNN non-linearities) and every
//! layer type, in f64, on seeded random values of several shapes — size-1 and odd sizes,
//! multi-layer, bidirectional, batch-first, variable-length batches, inter-layer dropout,
//! initial states. (Truncated BPTT is tested apart: its gradient is truncated on purpose, so
//! finite differences of the whole function must disagree with it.) Each case checks the gradients of the inputs, the
//! initial states and every weight (the layers run in their functional form with the weights
//! as checked inputs). `cargo xtask gradcheck` runs them.

use neurite_autograd::{concat, GradCase, Graph, Var};
use neurite_tensor::{Rng, Tensor};

use crate::cell::{CellConfig, CellVars, GruCell, LstmCell, LstmState, RnnCell};
use crate::kernels::Nonlinearity;
use crate::layer::{Recurrent, RecurrentConfig, RecurrentState};
use crate::sequence::CellKind;

fn normal(shape: &[usize], rng: &mut Rng) -> Tensor<f64> {
    Tensor::rand_normal(shape, 0.0, 0.7, rng)
}

fn flat<'g>(vs: &[Var<'g, f64>]) -> neurite_autograd::Result<Var<'g, f64>> {
    let parts = vs
        .iter()
        .map(|v| {
            let n = v.shape().iter().product();
            v.reshape(&[n])
        })
        .collect::<neurite_autograd::Result<Vec<_>>>()?;
    concat(&parts, 0)
}

fn to_autograd(e: crate::RnnError) -> neurite_autograd::AutogradError {
    match e {
        crate::RnnError::Autograd(e) => e,
        other => neurite_autograd::AutogradError::invalid("neurite-rnn case", other.to_string()),
    }
}

fn vars<'g>(v: &[Var<'g, f64>]) -> CellVars<'g, f64> {
    CellVars {
        weight_ih: v[0],
        weight_hh: v[1],
        bias_ih: v[2],
        bias_hh: v[3],
    }
}

/// Weight tensors [G·H, in], [G·H, H], [G·H], [G·H].
fn weights(g: usize, input: usize, hidden: usize, rng: &mut Rng) -> Vec<Tensor<f64>> {
    vec![
        normal(&[g * hidden, input], rng),
        normal(&[g * hidden, hidden], rng),
        normal(&[g * hidden], rng),
        normal(&[g * hidden], rng),
    ]
}

fn cell_cases(c: &mut Vec<GradCase>, rng: &mut Rng) {
    for &(b, i, h) in &[(1usize, 1usize, 1usize), (3, 4, 5), (2, 3, 2)] {
        for nl in [Nonlinearity::Tanh, Nonlinearity::Relu] {
            let cfg = CellConfig {
                input_size: i,
                hidden_size: h,
                nonlinearity: nl,
            };
            let mut inputs = weights(1, i, h, rng);
            inputs.push(normal(&[b, i], rng));
            inputs.push(normal(&[b, h], rng));
            c.push(GradCase::new(
                format!("RnnCell({nl:?})"),
                inputs,
                move |g: &Graph<f64>, v| {
                    let cell = RnnCell::new(&cfg, &mut Rng::new(0)).map_err(to_autograd)?;
                    cell.step_with(g, &vars(v), v[4], Some(v[5]))
                        .map_err(to_autograd)
                },
            ));
        }
        let cfg = CellConfig {
            input_size: i,
            hidden_size: h,
            nonlinearity: Nonlinearity::Tanh,
        };
        let mut inputs = weights(3, i, h, rng);
        inputs.push(normal(&[b, i], rng));
        inputs.push(normal(&[b, h], rng));
        c.push(GradCase::new(
            "GruCell",
            inputs,
            move |g: &Graph<f64>, v| {
                let cell = GruCell::new(&cfg, &mut Rng::new(0)).map_err(to_autograd)?;
                cell.step_with(g, &vars(v), v[4], Some(v[5]))
                    .map_err(to_autograd)
            },
        ));
        let mut inputs = weights(4, i, h, rng);
        inputs.push(normal(&[b, i], rng));
        inputs.push(normal(&[b, h], rng));
        inputs.push(normal(&[b, h], rng));
        c.push(GradCase::new(
            "LstmCell",
            inputs,
            move |g: &Graph<f64>, v| {
                let cell = LstmCell::new(&cfg, &mut Rng::new(0)).map_err(to_autograd)?;
                let s = cell
                    .step_with(g, &vars(v), v[4], Some(LstmState { h: v[5], c: v[6] }))
                    .map_err(to_autograd)?;
                flat(&[s.h, s.c])
            },
        ));
    }
}

/// One layer case: sizes and options.
#[derive(Clone)]
struct LayerCase {
    kind: CellKind,
    seq: usize,
    batch: usize,
    config: RecurrentConfig,
    lengths: Option<Vec<usize>>,
    label: &'static str,
}

fn layer_case(lc: LayerCase, rng: &mut Rng) -> GradCase {
    let cfg = &lc.config;
    let (d, hn) = (cfg.directions(), cfg.hidden_size);
    let x_shape = if cfg.batch_first {
        [lc.batch, lc.seq, cfg.input_size]
    } else {
        [lc.seq, lc.batch, cfg.input_size]
    };
    let state_shape = [cfg.num_layers * d, lc.batch, hn];
    let mut inputs = vec![normal(&x_shape, rng), normal(&state_shape, rng)];
    let lstm = lc.kind == CellKind::Lstm;
    if lstm {
        inputs.push(normal(&state_shape, rng));
    }
    let first_w = inputs.len();
    for l in 0..cfg.num_layers {
        let input = if l == 0 { cfg.input_size } else { d * hn };
        for _ in 0..d {
            inputs.extend(weights(lc.kind.gates(), input, hn, rng));
        }
    }
    let name = format!("{}({})", lc.kind.name(), lc.label);
    GradCase::new(name, inputs, move |g: &Graph<f64>, v| {
        let layer = Recurrent::new(lc.kind, &lc.config, &mut Rng::new(11)).map_err(to_autograd)?;
        let w: Vec<CellVars<'_, f64>> = v[first_w..].chunks(4).map(vars).collect();
        let state = RecurrentState {
            h: v[1],
            c: lstm.then(|| v[2]),
        };
        let out = layer
            .forward_seq_with(g, &w, v[0], lc.lengths.as_deref(), Some(&state))
            .map_err(to_autograd)?;
        match out.state.c {
            Some(c) => flat(&[out.output, out.state.h, c]),
            None => flat(&[out.output, out.state.h]),
        }
    })
}

/// Every gradient-check case of neurite-rnn.
pub fn cases() -> Vec<GradCase> {
    let mut rng = Rng::new(6060);
    let r = &mut rng;
    let mut c = Vec::new();
    cell_cases(&mut c, r);
    let cfg = |i, h, layers, bidirectional, batch_first, dropout| RecurrentConfig {
        input_size: i,
        hidden_size: h,
        num_layers: layers,
        bidirectional,
        dropout,
        batch_first,
        nonlinearity: Nonlinearity::Tanh,
    };
    for kind in [
        CellKind::Rnn(Nonlinearity::Tanh),
        CellKind::Rnn(Nonlinearity::Relu),
        CellKind::Gru,
        CellKind::Lstm,
    ] {
        let with_nl = |mut c: RecurrentConfig| {
            if let CellKind::Rnn(nl) = kind {
                c.nonlinearity = nl;
            }
            c
        };
        let base = |seq, batch, config, lengths, label| LayerCase {
            kind,
            seq,
            batch,
            config: with_nl(config),
            lengths,
            label,
        };
        c.push(layer_case(
            base(1, 1, cfg(1, 1, 1, false, false, 0.0), None, "size 1"),
            r,
        ));
        c.push(layer_case(
            base(3, 2, cfg(3, 4, 1, false, true, 0.0), None, "batch-first"),
            r,
        ));
        c.push(layer_case(
            base(
                4,
                3,
                cfg(2, 3, 1, true, false, 0.0),
                Some(vec![4, 2, 1]),
                "bidirectional, lengths",
            ),
            r,
        ));
        c.push(layer_case(
            base(
                5,
                3,
                cfg(3, 2, 2, true, true, 0.3),
                Some(vec![2, 5, 3]),
                "2 layers, bidirectional, dropout, lengths",
            ),
            r,
        ));
        c.push(layer_case(
            base(
                3,
                2,
                cfg(2, 3, 2, false, false, 0.0),
                Some(vec![3, 1]),
                "2 layers, lengths",
            ),
            r,
        ));
    }
    c
}

//! neurite-rnn against references: the fused cell ops against the same maths composed from
//! autograd primitives (values and gradients), the sequence layers against a loop of cells run
//! on each sequence alone (variable lengths, bidirectional, several layers, batch-first),
//! truncated BPTT, the inference path, f32 against f64, and the typed errors.

use neurite_autograd::{concat, Gradients, Graph, Parameter, Var};
use neurite_nn::Module;
use neurite_rnn::{
    CellConfig, CellKind, CellParams, CellVars, Gru, GruCell, Lstm, LstmCell, LstmState,
    Nonlinearity, Recurrent, RecurrentConfig, RecurrentState, Rnn, RnnCell, RnnError,
};
use neurite_tensor::{Rng, Tensor};

fn normal(shape: &[usize], rng: &mut Rng) -> Tensor<f64> {
    Tensor::rand_normal(shape, 0.0, 0.8, rng)
}

fn max_diff(a: &Tensor<f64>, b: &Tensor<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    a.to_vec()
        .iter()
        .zip(b.to_vec())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Σ v ⊙ R: a scalar that sees every element with a different weight.
fn project<'g>(v: Var<'g, f64>, seed: u64) -> Var<'g, f64> {
    let r = Tensor::rand_normal(&v.shape(), 0.0, 1.0, &mut Rng::new(seed));
    v.mul(v.graph().constant(r)).unwrap().sum().unwrap()
}

// ---- the fused cell ops against composed autograd maths -------------------------------------

fn composed_lstm<'g>(
    w: &CellVars<'g, f64>,
    x: Var<'g, f64>,
    h: Var<'g, f64>,
    c: Var<'g, f64>,
    hn: usize,
) -> (Var<'g, f64>, Var<'g, f64>) {
    let gates = x
        .matmul(w.weight_ih.t().unwrap())
        .unwrap()
        .add(w.bias_ih)
        .unwrap()
        .add(
            h.matmul(w.weight_hh.t().unwrap())
                .unwrap()
                .add(w.bias_hh)
                .unwrap(),
        )
        .unwrap();
    let i = gates.narrow(1, 0, hn).unwrap().sigmoid().unwrap();
    let f = gates.narrow(1, hn, hn).unwrap().sigmoid().unwrap();
    let g = gates.narrow(1, 2 * hn, hn).unwrap().tanh().unwrap();
    let o = gates.narrow(1, 3 * hn, hn).unwrap().sigmoid().unwrap();
    let c2 = f.mul(c).unwrap().add(i.mul(g).unwrap()).unwrap();
    let h2 = o.mul(c2.tanh().unwrap()).unwrap();
    (h2, c2)
}

fn composed_gru<'g>(
    w: &CellVars<'g, f64>,
    x: Var<'g, f64>,
    h: Var<'g, f64>,
    hn: usize,
) -> Var<'g, f64> {
    let gx = x
        .matmul(w.weight_ih.t().unwrap())
        .unwrap()
        .add(w.bias_ih)
        .unwrap();
    let gh = h
        .matmul(w.weight_hh.t().unwrap())
        .unwrap()
        .add(w.bias_hh)
        .unwrap();
    let part = |v: Var<'g, f64>, k: usize| v.narrow(1, k * hn, hn).unwrap();
    let r = part(gx, 0).add(part(gh, 0)).unwrap().sigmoid().unwrap();
    let z = part(gx, 1).add(part(gh, 1)).unwrap().sigmoid().unwrap();
    let n = part(gx, 2)
        .add(r.mul(part(gh, 2)).unwrap())
        .unwrap()
        .tanh()
        .unwrap();
    // h' = (1 − z)⊙n + z⊙h = n + z⊙(h − n)
    n.add(z.mul(h.sub(n).unwrap()).unwrap()).unwrap()
}

fn composed_rnn<'g>(
    w: &CellVars<'g, f64>,
    x: Var<'g, f64>,
    h: Var<'g, f64>,
    nl: Nonlinearity,
) -> Var<'g, f64> {
    let pre = x
        .matmul(w.weight_ih.t().unwrap())
        .unwrap()
        .add(w.bias_ih)
        .unwrap()
        .add(
            h.matmul(w.weight_hh.t().unwrap())
                .unwrap()
                .add(w.bias_hh)
                .unwrap(),
        )
        .unwrap();
    match nl {
        Nonlinearity::Tanh => pre.tanh().unwrap(),
        Nonlinearity::Relu => pre.relu().unwrap(),
    }
}

/// Runs `f` on fresh variables of `inputs` and returns the loss value and every input gradient.
fn value_and_grads(
    inputs: &[Tensor<f64>],
    f: impl for<'g> Fn(&'g Graph<f64>, &[Var<'g, f64>]) -> Var<'g, f64>,
) -> (f64, Vec<Tensor<f64>>) {
    let g = Graph::new();
    let vars: Vec<_> = inputs.iter().map(|t| g.variable(t.clone())).collect();
    let loss = f(&g, &vars);
    let value = loss.item().unwrap();
    let grads = loss.backward().unwrap();
    (
        value,
        vars.iter()
            .map(|v| grads.get(*v).unwrap().clone())
            .collect(),
    )
}

fn assert_same(a: (f64, Vec<Tensor<f64>>), b: (f64, Vec<Tensor<f64>>), what: &str) {
    assert!(
        (a.0 - b.0).abs() < 1e-10,
        "{what}: value {} vs {}",
        a.0,
        b.0
    );
    for (i, (x, y)) in a.1.iter().zip(&b.1).enumerate() {
        let d = max_diff(x, y);
        assert!(d < 1e-10, "{what}: gradient of input {i} differs by {d}");
    }
}

fn cell_inputs(
    gates: usize,
    b: usize,
    i: usize,
    h: usize,
    states: usize,
    rng: &mut Rng,
) -> Vec<Tensor<f64>> {
    let mut v = vec![
        normal(&[gates * h, i], rng),
        normal(&[gates * h, h], rng),
        normal(&[gates * h], rng),
        normal(&[gates * h], rng),
        normal(&[b, i], rng),
    ];
    for _ in 0..states {
        v.push(normal(&[b, h], rng));
    }
    v
}

fn cv<'g>(v: &[Var<'g, f64>]) -> CellVars<'g, f64> {
    CellVars {
        weight_ih: v[0],
        weight_hh: v[1],
        bias_ih: v[2],
        bias_hh: v[3],
    }
}

#[test]
fn fused_cells_match_the_composed_maths() {
    let mut rng = Rng::new(1);
    for &(b, i, h) in &[(1, 1, 1), (4, 3, 5), (2, 7, 3)] {
        let cfg = CellConfig {
            input_size: i,
            hidden_size: h,
            nonlinearity: Nonlinearity::Tanh,
        };
        let inputs = cell_inputs(4, b, i, h, 2, &mut rng);
        let cell = LstmCell::<f64>::new(&cfg, &mut Rng::new(0)).unwrap();
        let fused = value_and_grads(&inputs, |g, v| {
            let s = cell
                .step_with(g, &cv(v), v[4], Some(LstmState { h: v[5], c: v[6] }))
                .unwrap();
            project(s.h, 1).add(project(s.c, 2)).unwrap()
        });
        let composed = value_and_grads(&inputs, |_, v| {
            let (h2, c2) = composed_lstm(&cv(v), v[4], v[5], v[6], h);
            project(h2, 1).add(project(c2, 2)).unwrap()
        });
        assert_same(fused, composed, "lstm_cell");

        let inputs = cell_inputs(3, b, i, h, 1, &mut rng);
        let cell = GruCell::<f64>::new(&cfg, &mut Rng::new(0)).unwrap();
        let fused = value_and_grads(&inputs, |g, v| {
            project(cell.step_with(g, &cv(v), v[4], Some(v[5])).unwrap(), 3)
        });
        let composed = value_and_grads(&inputs, |_, v| {
            project(composed_gru(&cv(v), v[4], v[5], h), 3)
        });
        assert_same(fused, composed, "gru_cell");

        for nl in [Nonlinearity::Tanh, Nonlinearity::Relu] {
            let cfg = CellConfig {
                nonlinearity: nl,
                ..cfg
            };
            let inputs = cell_inputs(1, b, i, h, 1, &mut rng);
            let cell = RnnCell::<f64>::new(&cfg, &mut Rng::new(0)).unwrap();
            let fused = value_and_grads(&inputs, |g, v| {
                project(cell.step_with(g, &cv(v), v[4], Some(v[5])).unwrap(), 4)
            });
            let composed = value_and_grads(&inputs, |_, v| {
                project(composed_rnn(&cv(v), v[4], v[5], nl), 4)
            });
            assert_same(fused, composed, "rnn_cell");
        }
    }
}

// ---- the sequence layers against a loop of cells, one sequence at a time ---------------------

/// The reference: every sequence alone (batch 1, its own length), every layer and direction a
/// loop of cell steps. Returns per sequence the outputs [len, D·H] and the final states.
#[allow(clippy::type_complexity)]
fn reference<'g>(
    g: &'g Graph<f64>,
    layer: &Recurrent<f64>,
    x_tm: &Tensor<f64>,
    lengths: &[usize],
    h0: &Tensor<f64>,
    c0: Option<&Tensor<f64>>,
) -> Vec<(Var<'g, f64>, Vec<Var<'g, f64>>, Vec<Var<'g, f64>>)> {
    let c = layer.config();
    let (d, hn) = (c.directions(), c.hidden_size);
    let w = layer.bind(g);
    let mut out = Vec::new();
    for (b, &len) in lengths.iter().enumerate() {
        let mut input: Vec<Var<'g, f64>> = (0..len)
            .map(|t| {
                g.constant(
                    x_tm.narrow(0, t, 1)
                        .unwrap()
                        .narrow(1, b, 1)
                        .unwrap()
                        .reshape(&[1, c.input_size])
                        .unwrap(),
                )
            })
            .collect();
        let (mut hs, mut cs) = (Vec::new(), Vec::new());
        for l in 0..c.num_layers {
            let in_size = if l == 0 { c.input_size } else { d * hn };
            let cfg = CellConfig {
                input_size: in_size,
                hidden_size: hn,
                nonlinearity: c.nonlinearity,
            };
            let mut dir_outs = Vec::new();
            for dir in 0..d {
                let idx = l * d + dir;
                let state0 = |t: &Tensor<f64>| {
                    g.constant(
                        t.narrow(0, idx, 1)
                            .unwrap()
                            .narrow(1, b, 1)
                            .unwrap()
                            .reshape(&[1, hn])
                            .unwrap(),
                    )
                };
                let mut h = state0(h0);
                let mut cc = c0.map(state0);
                let order: Vec<usize> = if dir == 0 {
                    (0..len).collect()
                } else {
                    (0..len).rev().collect()
                };
                let mut outs = vec![None; len];
                for t in order {
                    match layer.kind() {
                        CellKind::Lstm => {
                            let cell = LstmCell::new(&cfg, &mut Rng::new(0)).unwrap();
                            let s = cell
                                .step_with(
                                    g,
                                    &w[idx],
                                    input[t],
                                    Some(LstmState { h, c: cc.unwrap() }),
                                )
                                .unwrap();
                            h = s.h;
                            cc = Some(s.c);
                        }
                        CellKind::Gru => {
                            let cell = GruCell::new(&cfg, &mut Rng::new(0)).unwrap();
                            h = cell.step_with(g, &w[idx], input[t], Some(h)).unwrap();
                        }
                        CellKind::Rnn(_) => {
                            let cell = RnnCell::new(&cfg, &mut Rng::new(0)).unwrap();
                            h = cell.step_with(g, &w[idx], input[t], Some(h)).unwrap();
                        }
                    }
                    outs[t] = Some(h);
                }
                hs.push(h);
                cs.extend(cc);
                dir_outs.push(outs.into_iter().map(|o| o.unwrap()).collect::<Vec<_>>());
            }
            input = (0..len)
                .map(|t| {
                    if d == 2 {
                        concat(&[dir_outs[0][t], dir_outs[1][t]], 1).unwrap()
                    } else {
                        dir_outs[0][t]
                    }
                })
                .collect();
        }
        out.push((concat(&input, 0).unwrap(), hs, cs));
    }
    out
}

fn params_of(layer: &Recurrent<f64>) -> Vec<&Parameter<f64>> {
    let mut v = Vec::new();
    for p in &layer.cells {
        v.extend([&p.weight_ih, &p.weight_hh, &p.bias_ih, &p.bias_hh]);
    }
    v
}

fn grads_of(layer: &Recurrent<f64>, grads: &Gradients<f64>) -> Vec<Tensor<f64>> {
    params_of(layer)
        .iter()
        .map(|p| grads.wrt(p).unwrap().clone())
        .collect()
}

#[test]
fn layers_match_a_loop_of_cells_on_each_sequence() {
    let mut rng = Rng::new(2);
    let kinds = [
        CellKind::Rnn(Nonlinearity::Tanh),
        CellKind::Rnn(Nonlinearity::Relu),
        CellKind::Gru,
        CellKind::Lstm,
    ];
    for (case, kind) in kinds.into_iter().enumerate() {
        for &(layers, bidir, batch_first) in &[
            (1, false, false),
            (2, true, true),
            (2, false, false),
            (1, true, false),
        ] {
            let (seq, batch, input, hn) = (5, 3, 4, 3);
            let nl = if let CellKind::Rnn(nl) = kind {
                nl
            } else {
                Nonlinearity::Tanh
            };
            let config = RecurrentConfig {
                input_size: input,
                hidden_size: hn,
                num_layers: layers,
                bidirectional: bidir,
                batch_first,
                nonlinearity: nl,
                ..Default::default()
            };
            let layer = Recurrent::<f64>::new(kind, &config, &mut rng).unwrap();
            let lengths = [5, 2, 4];
            let d = config.directions();
            let x_tm = normal(&[seq, batch, input], &mut rng);
            let h0 = normal(&[layers * d, batch, hn], &mut rng);
            let c0 = (kind == CellKind::Lstm).then(|| normal(&[layers * d, batch, hn], &mut rng));
            let rw = Tensor::rand_normal(&[seq, batch, d * hn], 0.0, 1.0, &mut rng);
            let rh = Tensor::rand_normal(&[layers * d, batch, hn], 0.0, 1.0, &mut rng);

            // The layer.
            let g = Graph::new();
            let x = if batch_first {
                x_tm.transpose(0, 1).unwrap().contiguous()
            } else {
                x_tm.clone()
            };
            let state = RecurrentState {
                h: g.constant(h0.clone()),
                c: c0.clone().map(|c| g.constant(c)),
            };
            let out = layer
                .forward_seq(&g, g.constant(x), Some(&lengths), Some(&state))
                .unwrap();
            let out_tm = if batch_first {
                out.output.transpose(0, 1).unwrap()
            } else {
                out.output
            };
            let ov = out_tm.value().unwrap();
            let hv = out.state.h.value().unwrap();
            let cvv = out.state.c.map(|c| c.value().unwrap());
            let mut loss = out_tm.mul(g.constant(rw.clone())).unwrap().sum().unwrap();
            loss = loss
                .add(
                    out.state
                        .h
                        .mul(g.constant(rh.clone()))
                        .unwrap()
                        .sum()
                        .unwrap(),
                )
                .unwrap();
            if let Some(c) = out.state.c {
                loss = loss
                    .add(c.mul(g.constant(rh.clone())).unwrap().sum().unwrap())
                    .unwrap();
            }
            let layer_grads = grads_of(&layer, &loss.backward().unwrap());

            // The reference.
            let g2 = Graph::new();
            let refs = reference(&g2, &layer, &x_tm, &lengths, &h0, c0.as_ref());
            let mut ref_loss = g2.constant(Tensor::scalar(0.0));
            let what = format!(
                "case {case} {kind:?} layers {layers} bidir {bidir} batch_first {batch_first}"
            );
            for (b, (o, hs, cs)) in refs.iter().enumerate() {
                let len = lengths[b];
                let got = ov.narrow(1, b, 1).unwrap().reshape(&[seq, d * hn]).unwrap();
                assert!(
                    max_diff(
                        &got.narrow(0, 0, len).unwrap().contiguous(),
                        &o.value().unwrap()
                    ) < 1e-12,
                    "{what}: outputs of sequence {b}"
                );
                assert!(
                    got.narrow(0, len, seq - len)
                        .unwrap()
                        .to_vec()
                        .iter()
                        .all(|&v| v == 0.0),
                    "{what}: padded outputs are zero"
                );
                let rwb = rw
                    .narrow(1, b, 1)
                    .unwrap()
                    .reshape(&[seq, d * hn])
                    .unwrap()
                    .narrow(0, 0, len)
                    .unwrap()
                    .contiguous();
                ref_loss = ref_loss
                    .add(o.mul(g2.constant(rwb)).unwrap().sum().unwrap())
                    .unwrap();
                for (k, hk) in hs.iter().enumerate() {
                    let want = hv
                        .narrow(0, k, 1)
                        .unwrap()
                        .narrow(1, b, 1)
                        .unwrap()
                        .reshape(&[1, hn])
                        .unwrap();
                    assert!(max_diff(&want, &hk.value().unwrap()) < 1e-12, "{what}: h_n");
                    let r = rh
                        .narrow(0, k, 1)
                        .unwrap()
                        .narrow(1, b, 1)
                        .unwrap()
                        .reshape(&[1, hn])
                        .unwrap();
                    ref_loss = ref_loss
                        .add(hk.mul(g2.constant(r.clone())).unwrap().sum().unwrap())
                        .unwrap();
                    if let Some(ck) = cs.get(k) {
                        let want = cvv
                            .as_ref()
                            .unwrap()
                            .narrow(0, k, 1)
                            .unwrap()
                            .narrow(1, b, 1)
                            .unwrap()
                            .reshape(&[1, hn])
                            .unwrap();
                        assert!(max_diff(&want, &ck.value().unwrap()) < 1e-12, "{what}: c_n");
                        ref_loss = ref_loss
                            .add(ck.mul(g2.constant(r)).unwrap().sum().unwrap())
                            .unwrap();
                    }
                }
            }
            assert!((loss.item().unwrap_or(0.0) - 0.0).is_finite());
            let ref_grads = grads_of(&layer, &ref_loss.backward().unwrap());
            for (i, (a, b)) in layer_grads.iter().zip(&ref_grads).enumerate() {
                let diff = max_diff(a, b);
                assert!(
                    diff < 1e-10,
                    "{what}: gradient of parameter {i} differs by {diff}"
                );
            }
        }
    }
}

#[test]
fn padded_steps_get_no_gradient_and_do_not_move_the_state() {
    let mut rng = Rng::new(3);
    let config = RecurrentConfig {
        input_size: 2,
        hidden_size: 3,
        bidirectional: true,
        ..Default::default()
    };
    let lstm = Lstm::<f64>::new(&config, &mut rng).unwrap();
    let x = normal(&[6, 2, 2], &mut rng);
    let g = Graph::new();
    let xv = g.variable(x.clone());
    let out = lstm.forward_seq(&g, xv, Some(&[6, 3]), None).unwrap();
    let loss = project(out.output, 5).add(project(out.state.h, 6)).unwrap();
    let grads = loss.backward().unwrap();
    let dx = grads.get(xv).unwrap();
    for t in 0..6 {
        let row = dx
            .narrow(0, t, 1)
            .unwrap()
            .narrow(1, 1, 1)
            .unwrap()
            .to_vec();
        if t >= 3 {
            assert!(
                row.iter().all(|&v| v == 0.0),
                "step {t} of the short sequence has a gradient"
            );
        } else {
            assert!(row.iter().any(|&v| v != 0.0));
        }
    }
    // Padding values do not matter: change them, the outputs and states stay the same.
    let mut x2 = x.to_vec();
    for t in 3..6 {
        for f in 0..2 {
            x2[(t * 2 + 1) * 2 + f] = 100.0;
        }
    }
    let g = Graph::inference();
    let a = lstm
        .forward_seq(&g, g.constant(x), Some(&[6, 3]), None)
        .unwrap();
    let b = lstm
        .forward_seq(
            &g,
            g.constant(Tensor::from_vec(x2, &[6, 2, 2]).unwrap()),
            Some(&[6, 3]),
            None,
        )
        .unwrap();
    assert_eq!(
        a.output.value().unwrap().to_vec(),
        b.output.value().unwrap().to_vec()
    );
    assert_eq!(
        a.state.h.value().unwrap().to_vec(),
        b.state.h.value().unwrap().to_vec()
    );
}

#[test]
fn truncated_bptt_cuts_the_gradient_at_the_window() {
    let mut rng = Rng::new(4);
    let config = RecurrentConfig {
        input_size: 2,
        hidden_size: 3,
        ..Default::default()
    };
    let gru = Gru::<f64>::new(&config, &mut rng).unwrap();
    let x = normal(&[7, 2, 2], &mut rng);
    // Same values as the full forward.
    let g = Graph::new();
    let full = gru
        .forward_seq(&g, g.constant(x.clone()), Some(&[7, 5]), None)
        .unwrap();
    let xv = g.variable(x.clone());
    let tb = gru.forward_tbptt(&g, xv, 3, Some(&[7, 5]), None).unwrap();
    assert!(max_diff(&full.output.value().unwrap(), &tb.output.value().unwrap()) < 1e-14);
    assert!(max_diff(&full.state.h.value().unwrap(), &tb.state.h.value().unwrap()) < 1e-14);
    // A loss on the last window (steps 6..7) reaches only that window's inputs.
    let last = tb.output.narrow(0, 6, 1).unwrap();
    let grads = project(last, 9).backward().unwrap();
    let dx = grads.get(xv).unwrap();
    for t in 0..7 {
        let nonzero = dx
            .narrow(0, t, 1)
            .unwrap()
            .narrow(1, 0, 1)
            .unwrap()
            .to_vec()
            .iter()
            .any(|&v| v != 0.0);
        assert_eq!(nonzero, t == 6, "step {t}");
    }
    // The same loss through the full graph reaches every earlier step.
    let g = Graph::new();
    let xv = g.variable(x);
    let out = gru.forward_seq(&g, xv, Some(&[7, 5]), None).unwrap();
    let grads = project(out.output.narrow(0, 6, 1).unwrap(), 9)
        .backward()
        .unwrap();
    assert!(grads
        .get(xv)
        .unwrap()
        .narrow(0, 0, 1)
        .unwrap()
        .to_vec()
        .iter()
        .any(|&v| v != 0.0));
    // Window errors.
    let g = Graph::new();
    assert!(matches!(
        gru.forward_tbptt(&g, g.constant(normal(&[3, 1, 2], &mut rng)), 0, None, None),
        Err(RnnError::InvalidConfig { .. })
    ));
}

#[test]
fn inference_records_nothing_and_matches_training_mode() {
    let mut rng = Rng::new(5);
    let config = RecurrentConfig {
        dropout: 0.5,
        ..two_layers_3_to_4()
    };
    let mut lstm = Lstm::<f64>::new(&config, &mut rng).unwrap();
    lstm.set_training(false);
    let x = normal(&[4, 2, 3], &mut rng);
    let g = Graph::new();
    let a = lstm
        .forward_seq(&g, g.constant(x.clone()), None, None)
        .unwrap();
    let gi = Graph::inference();
    let b = lstm
        .forward_seq(&gi, gi.constant(x.clone()), None, None)
        .unwrap();
    assert_eq!(
        a.output.value().unwrap().to_vec(),
        b.output.value().unwrap().to_vec()
    );
    assert!(!b.output.requires_grad());
    // Dropout between layers is active only in training mode, and seeded.
    lstm.set_training(true);
    let g = Graph::new();
    let c = lstm.forward_seq(&g, g.constant(x), None, None).unwrap();
    assert_ne!(
        a.output.value().unwrap().to_vec(),
        c.output.value().unwrap().to_vec()
    );
}

#[test]
fn f32_agrees_with_f64() {
    let mut rng = Rng::new(6);
    for kind in [
        CellKind::Rnn(Nonlinearity::Tanh),
        CellKind::Gru,
        CellKind::Lstm,
    ] {
        let config = RecurrentConfig {
            input_size: 5,
            hidden_size: 16,
            bidirectional: true,
            ..Default::default()
        };
        let l64 = Recurrent::<f64>::new(kind, &config, &mut Rng::new(9)).unwrap();
        let l32 = Recurrent::<f32>::new(kind, &config, &mut Rng::new(9)).unwrap();
        let x = normal(&[12, 3, 5], &mut rng);
        let g = Graph::inference();
        let a = l64
            .forward_seq(&g, g.constant(x.clone()), Some(&[12, 7, 1]), None)
            .unwrap()
            .output
            .value()
            .unwrap();
        let g = Graph::inference();
        let b = l32
            .forward_seq(&g, g.constant(x.cast::<f32>()), Some(&[12, 7, 1]), None)
            .unwrap()
            .output
            .value()
            .unwrap();
        let d = max_diff(&a, &b.cast::<f64>());
        assert!(d < 2e-5, "{kind:?}: f32 differs from f64 by {d}");
    }
}

#[test]
fn parameters_carry_pytorch_names_and_shapes() {
    let config = RecurrentConfig {
        input_size: 10,
        hidden_size: 20,
        num_layers: 2,
        bidirectional: true,
        ..Default::default()
    };
    let lstm = Lstm::<f32>::new(&config, &mut Rng::new(0)).unwrap();
    let shapes = neurite_nn::param_shapes(&lstm);
    assert_eq!(shapes.len(), 16);
    assert_eq!(shapes[0], ("weight_ih_l0".to_string(), vec![80, 10]));
    assert_eq!(shapes[1], ("weight_hh_l0".to_string(), vec![80, 20]));
    assert_eq!(
        shapes[4],
        ("weight_ih_l0_reverse".to_string(), vec![80, 10])
    );
    assert_eq!(shapes[8], ("weight_ih_l1".to_string(), vec![80, 40]));
    assert_eq!(shapes[15], ("bias_hh_l1_reverse".to_string(), vec![80]));
    let gru = Gru::<f32>::new(
        &RecurrentConfig {
            input_size: 3,
            hidden_size: 4,
            ..Default::default()
        },
        &mut Rng::new(0),
    )
    .unwrap();
    assert_eq!(neurite_nn::param_shapes(&gru)[0].1, vec![12, 3]);
    let cell = LstmCell::<f32>::new(
        &CellConfig {
            input_size: 3,
            hidden_size: 4,
            ..Default::default()
        },
        &mut Rng::new(0),
    )
    .unwrap();
    let names: Vec<String> = neurite_nn::param_shapes(&cell)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]);
}

#[test]
fn parameter_and_generator_order_is_pinned() {
    // Optimiser state and checkpoints follow this order: layer, then direction, then PyTorch's
    // four weights; every walk (shared and mutable) gives the same names.
    let config = RecurrentConfig {
        input_size: 3,
        hidden_size: 2,
        num_layers: 2,
        bidirectional: true,
        dropout: 0.5,
        ..Default::default()
    };
    let mut gru = Gru::<f32>::new(&config, &mut Rng::new(0)).unwrap();
    let mut want = Vec::new();
    for sfx in ["_l0", "_l0_reverse", "_l1", "_l1_reverse"] {
        for w in ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] {
            want.push(format!("m.{w}{sfx}"));
        }
    }
    let (mut shared, mut mutable, mut rngs, mut buffers) = (vec![], vec![], vec![], 0);
    gru.visit_params("m", &mut |n, _| shared.push(n.to_string()));
    gru.visit_params_mut("m", &mut |n, _| mutable.push(n.to_string()));
    gru.visit_rngs("m", &mut |n, _| rngs.push(n.to_string()));
    gru.visit_buffers("m", &mut |_, _| buffers += 1);
    assert_eq!(shared, want);
    assert_eq!(mutable, want);
    assert_eq!(rngs, ["m.dropout_rng"]);
    assert_eq!(buffers, 0);
}

/// The small two-layer configuration of the error tests: 3 inputs, 4 hidden units.
fn two_layers_3_to_4() -> RecurrentConfig {
    RecurrentConfig {
        input_size: 3,
        hidden_size: 4,
        num_layers: 2,
        ..Default::default()
    }
}

#[test]
fn bad_input_is_a_typed_error() {
    let mut rng = Rng::new(7);
    let config = two_layers_3_to_4();
    let lstm = Lstm::<f32>::new(&config, &mut rng).unwrap();
    let g = Graph::<f32>::new();
    let x = g.constant(Tensor::zeros(&[5, 2, 3]));
    // Wrong feature size, wrong rank, empty sequence.
    for shape in [&[5, 2, 4][..], &[5, 3], &[0, 2, 3]] {
        let e = lstm
            .forward_seq(&g, g.constant(Tensor::zeros(shape)), None, None)
            .unwrap_err();
        assert!(matches!(e, RnnError::BadInput { .. }), "{e}");
    }
    // Lengths: zero, longer than the sequence, wrong count.
    for l in [&[5, 0][..], &[6, 1], &[5]] {
        let e = lstm.forward_seq(&g, x, Some(l), None).unwrap_err();
        assert!(matches!(e, RnnError::BadLengths { .. }), "{e}");
        assert!(e.to_string().contains("length"));
    }
    // States of the wrong shape, or a missing cell state.
    let good = g.constant(Tensor::zeros(&[2, 2, 4]));
    let bad = g.constant(Tensor::zeros(&[1, 2, 4]));
    for st in [
        RecurrentState {
            h: bad,
            c: Some(good),
        },
        RecurrentState {
            h: good,
            c: Some(bad),
        },
        RecurrentState { h: good, c: None },
    ] {
        let e = lstm.forward_seq(&g, x, None, Some(&st)).unwrap_err();
        assert!(matches!(e, RnnError::BadState { .. }), "{e}");
    }
    let gru = Gru::<f32>::new(&config, &mut rng).unwrap();
    let e = gru
        .forward_seq(
            &g,
            x,
            None,
            Some(&RecurrentState {
                h: good,
                c: Some(good),
            }),
        )
        .unwrap_err();
    assert!(matches!(e, RnnError::BadState { .. }));
    // Configurations.
    for c in [
        RecurrentConfig {
            input_size: 0,
            hidden_size: 4,
            ..Default::default()
        },
        RecurrentConfig {
            input_size: 3,
            hidden_size: 4,
            num_layers: 0,
            ..Default::default()
        },
        RecurrentConfig {
            input_size: 3,
            hidden_size: 4,
            dropout: 1.0,
            ..Default::default()
        },
        RecurrentConfig {
            input_size: 3,
            hidden_size: 4,
            nonlinearity: Nonlinearity::Relu,
            ..Default::default()
        },
    ] {
        assert!(matches!(
            Lstm::<f32>::new(&c, &mut rng),
            Err(RnnError::InvalidConfig { .. })
        ));
    }
    assert!(Rnn::<f32>::new(
        &RecurrentConfig {
            input_size: 3,
            hidden_size: 4,
            nonlinearity: Nonlinearity::Relu,
            ..Default::default()
        },
        &mut rng
    )
    .is_ok());
    // Cells.
    let cell = GruCell::<f32>::new(
        &CellConfig {
            input_size: 3,
            hidden_size: 4,
            ..Default::default()
        },
        &mut rng,
    )
    .unwrap();
    assert!(matches!(
        cell.step(&g, g.constant(Tensor::zeros(&[2, 5])), None),
        Err(RnnError::BadInput { .. })
    ));
    assert!(matches!(
        cell.step(
            &g,
            g.constant(Tensor::zeros(&[2, 3])),
            Some(g.constant(Tensor::zeros(&[3, 4])))
        ),
        Err(RnnError::BadState { .. })
    ));
    // Through the Module trait the error is neurite-nn's.
    assert!(lstm
        .forward(&g, g.constant(Tensor::zeros(&[5, 2, 4])))
        .is_err());
}

#[test]
fn edited_cells_and_oversized_configs_are_typed_errors() {
    let mut rng = Rng::new(7);
    let config = two_layers_3_to_4();
    let g = Graph::<f32>::new();
    let x = g.constant(Tensor::zeros(&[5, 2, 3]));
    // `cells` is public: one removed (the forward pass indexed past the end before).
    let mut short = Lstm::<f32>::new(&config, &mut rng).unwrap();
    short.cells.pop();
    for e in [
        short.forward_seq(&g, x, None, None).unwrap_err(),
        short.forward_tbptt(&g, x, 2, None, None).unwrap_err(),
    ] {
        assert!(matches!(e, RnnError::InvalidConfig { .. }), "{e}");
    }
    // A weight replaced by one of another shape: truncated BPTT checks it too now.
    let mut edited = Gru::<f32>::new(&config, &mut rng).unwrap();
    *edited.cells[0].weight_ih.value_mut() = Tensor::zeros(&[12, 2]);
    for e in [
        edited.forward_seq(&g, x, None, None).unwrap_err(),
        edited.forward_tbptt(&g, x, 2, None, None).unwrap_err(),
    ] {
        assert!(matches!(e, RnnError::BadInput { .. }), "{e}");
    }
    // Sizes whose weights could never be held (a usize overflow panicked in debug builds).
    for c in [
        RecurrentConfig {
            input_size: 3,
            hidden_size: usize::MAX / 2,
            ..Default::default()
        },
        RecurrentConfig {
            input_size: 1 << 40,
            hidden_size: 1 << 30,
            ..Default::default()
        },
        RecurrentConfig {
            input_size: 3,
            hidden_size: 4,
            num_layers: usize::MAX,
            bidirectional: true,
            ..Default::default()
        },
    ] {
        assert!(matches!(
            Lstm::<f32>::new(&c, &mut rng),
            Err(RnnError::InvalidConfig { .. })
        ));
    }
    let huge = CellConfig {
        input_size: 1 << 40,
        hidden_size: 1 << 30,
        ..Default::default()
    };
    assert!(matches!(
        LstmCell::<f32>::new(&huge, &mut rng),
        Err(RnnError::InvalidConfig { .. })
    ));
}

// ---- threads ---------------------------------------------------------------------------------

/// Σ v ⊙ R in f32.
fn project32<'g>(v: Var<'g, f32>, seed: u64) -> Var<'g, f32> {
    let r = Tensor::rand_normal(&v.shape(), 0.0, 1.0, &mut Rng::new(seed));
    v.mul(v.graph().constant(r)).unwrap().sum().unwrap()
}

/// The batch rows of a recurrence run in parallel on a pool of several threads; a row never
/// depends on the split, so outputs, states and every gradient keep the same bits.
#[test]
fn two_threads_give_the_same_bits_as_one() {
    for kind in [
        CellKind::Lstm,
        CellKind::Gru,
        CellKind::Rnn(Nonlinearity::Tanh),
    ] {
        // Two layers: the first reads batch-major rows, the second time-major ones.
        let config = RecurrentConfig {
            input_size: 8,
            hidden_size: 64,
            num_layers: 2,
            bidirectional: true,
            batch_first: true,
            ..Default::default()
        };
        let (batch, seq) = (16, 24);
        let x = Tensor::<f32>::rand_normal(&[batch, seq, 8], 0.0, 1.0, &mut Rng::new(12));
        let lengths: Vec<usize> = (0..batch).map(|b| 1 + (b * 7) % seq).collect();
        let run = |threads: usize, lengths: Option<&[usize]>| -> Vec<Vec<f32>> {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let layer = Recurrent::<f32>::new(kind, &config, &mut Rng::new(11)).unwrap();
                let g = Graph::new();
                let xv = g.variable(x.clone());
                let out = layer.forward_seq(&g, xv, lengths, None).unwrap();
                let mut loss = project32(out.output, 1)
                    .add(project32(out.state.h, 2))
                    .unwrap();
                if let Some(c) = out.state.c {
                    loss = loss.add(project32(c, 3)).unwrap();
                }
                let mut all = vec![
                    out.output.value().unwrap().to_vec(),
                    out.state.h.value().unwrap().to_vec(),
                ];
                let grads = loss.backward().unwrap();
                all.push(grads.get(xv).unwrap().to_vec());
                layer.visit_params("", &mut |_, p| all.push(grads.wrt(p).unwrap().to_vec()));
                all
            })
        };
        for l in [None, Some(&lengths[..])] {
            let (one, two) = (run(1, l), run(2, l));
            assert!(one.iter().flatten().all(|v| v.is_finite()));
            assert_eq!(one, two, "{kind:?}, lengths {l:?}");
        }
    }
}

#[test]
fn layers_beyond_memory_are_typed_errors() {
    let mut rng = Rng::new(3);
    // 100k input and hidden units: 4 gates × 10^5 × 2·10^5 weights (320 GB of f32); an
    // allocation abort before.
    let c = RecurrentConfig {
        input_size: 100_000,
        hidden_size: 100_000,
        ..Default::default()
    };
    let e = Lstm::<f32>::new(&c, &mut rng).err().unwrap();
    assert!(
        matches!(
            e,
            RnnError::Tensor(neurite_tensor::TensorError::OutOfMemory { .. })
        ),
        "{e}"
    );
    let cell = CellConfig {
        input_size: 100_000,
        hidden_size: 100_000,
        ..Default::default()
    };
    let e = LstmCell::<f32>::new(&cell, &mut rng).err().unwrap();
    assert!(e.to_string().contains("out of memory"), "{e}");
    let e = GruCell::<f32>::new(&cell, &mut rng).err().unwrap();
    assert!(e.to_string().contains("out of memory"), "{e}");
}

#[test]
fn cells_from_params_read_their_sizes_and_check_shapes() {
    let mut rng = Rng::new(3);
    for (gates, kind) in [(1usize, "rnn"), (3, "gru"), (4, "lstm")] {
        let (i, h) = (5, 3);
        let p = || {
            let mut r = Rng::new(9);
            CellParams::from_tensors(
                normal(&[gates * h, i], &mut r),
                normal(&[gates * h, h], &mut r),
                normal(&[gates * h], &mut r),
                normal(&[gates * h], &mut r),
            )
        };
        let x = normal(&[2, i], &mut rng);
        let g = Graph::new();
        let y = match kind {
            "rnn" => {
                let c = RnnCell::from_params(p(), Nonlinearity::Relu).unwrap();
                assert_eq!(c.config().nonlinearity, Nonlinearity::Relu);
                assert_eq!((c.config().input_size, c.config().hidden_size), (i, h));
                c.forward(&g, g.constant(x)).unwrap()
            }
            "gru" => GruCell::from_params(p())
                .unwrap()
                .forward(&g, g.constant(x))
                .unwrap(),
            _ => LstmCell::from_params(p())
                .unwrap()
                .forward(&g, g.constant(x))
                .unwrap(),
        };
        assert_eq!(y.shape(), vec![2, h]);
        // A bias of the wrong length, or weights whose gate count does not fit, are typed errors.
        let mut bad = p();
        bad.bias_ih = Parameter::new(Tensor::zeros(&[gates * h + 1]));
        let e = match kind {
            "rnn" => RnnCell::from_params(bad, Nonlinearity::Tanh).err(),
            "gru" => GruCell::from_params(bad).err(),
            _ => LstmCell::from_params(bad).err(),
        };
        assert!(e.unwrap().to_string().contains("bias_ih"), "{kind}");
    }
    let lstm_weights = CellParams::from_tensors(
        Tensor::<f64>::zeros(&[12, 5]),
        Tensor::zeros(&[12, 3]),
        Tensor::zeros(&[12]),
        Tensor::zeros(&[12]),
    );
    assert!(GruCell::from_params(lstm_weights).is_err());
}

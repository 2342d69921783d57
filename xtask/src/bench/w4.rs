//! W4: one recurrent layer (input 64, hidden 128) over batches of 32 sequences of 32 steps,
//! batch-first, fp32. W4-lstm-train / W4-gru-train: forward, loss = MSE of the last hidden
//! state to a random target, backward, SGD (lr 0.01). W4-lstm-infer / W4-gru-infer: the
//! forward only, in an inference graph (nothing recorded). Metric: sequences per second.

use neurite::autograd::Graph;
use neurite::nn::{mse, Optimizer, Sgd};
use neurite::rnn::{CellKind, Recurrent, RecurrentConfig};
use neurite::tensor::{Rng, Tensor};

use super::{seconds, Workload};

const BATCH: usize = 32;
const SEQ: usize = 32;
const INPUT: usize = 64;
const HIDDEN: usize = 128;

fn workload(kind: CellKind, train: bool, quick: bool) -> Workload {
    let mut rng = Rng::new(4);
    let config = RecurrentConfig {
        input_size: INPUT,
        hidden_size: HIDDEN,
        batch_first: true,
        ..Default::default()
    };
    let mut layer = Recurrent::<f32>::new(kind, &config, &mut rng).expect("valid W4 layer");
    let x = Tensor::<f32>::rand_normal(&[BATCH, SEQ, INPUT], 0.0, 1.0, &mut rng);
    let target = Tensor::<f32>::rand_normal(&[BATCH, HIDDEN], 0.0, 1.0, &mut rng);
    let mut opt = Sgd::new(0.01).expect("valid learning rate");
    let steps = match (quick, train) {
        (true, _) => 5,
        (false, true) => 60,
        (false, false) => 200,
    };
    let name = format!(
        "W4-{}-{}",
        kind.name().to_lowercase(),
        if train { "train" } else { "infer" }
    );
    Workload {
        name,
        metric: "sequences_per_s",
        run: Box::new(move |_| {
            let s = seconds(|| {
                for _ in 0..steps {
                    if train {
                        let g = Graph::new();
                        let out = layer
                            .forward_seq(&g, g.constant(x.clone()), None, None)
                            .expect("W4 forward");
                        let h_n = out.state.h.reshape(&[BATCH, HIDDEN]).expect("[1, B, H]");
                        let loss = mse(h_n, g.constant(target.clone())).expect("W4 loss");
                        let grads = loss.backward().expect("W4 backward");
                        opt.step(&mut layer, &grads).expect("W4 update");
                    } else {
                        let g = Graph::inference();
                        let out = layer
                            .forward_seq(&g, g.constant(x.clone()), None, None)
                            .expect("W4 forward");
                        std::hint::black_box(out.output.value().expect("W4 output"));
                    }
                }
            });
            (steps * BATCH) as f64 / s
        }),
    }
}

pub fn workloads(quick: bool) -> Vec<Workload> {
    vec![
        workload(CellKind::Lstm, true, quick),
        workload(CellKind::Gru, true, quick),
        workload(CellKind::Lstm, false, quick),
        workload(CellKind::Gru, false, quick),
    ]
}

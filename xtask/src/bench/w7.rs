//! W7: BatchNorm2d(32) in training mode (batch statistics, affine, running estimates updated)
//! on a fixed [64, 32, 14, 14] fp32 input: forward, then backward of the upstream gradient R
//! (PyTorch's `y.backward(R)`), gradients for the input, γ and β. Metric: batches per second.
//! The PyTorch peer is `xtask/peers/bench_torch_extra.py W7`.

use neurite::autograd::{BackwardOptions, Graph};
use neurite::nn::{BatchNorm2d, Module};
use neurite::tensor::{Rng, Tensor};

use super::{seconds, Workload};

pub fn workloads(quick: bool) -> Vec<Workload> {
    let mut rng = Rng::new(7);
    let x = Tensor::<f32>::rand_normal(&[64, 32, 14, 14], 0.5, 2.0, &mut rng);
    let r = Tensor::<f32>::rand_normal(&[64, 32, 14, 14], 0.0, 1.0, &mut rng);
    let bn = BatchNorm2d::<f32>::new(32).expect("valid W7 layer");
    let steps = if quick { 5 } else { 200 };
    vec![Workload {
        name: "W7-batchnorm-train".into(),
        metric: "batches_per_s",
        run: Box::new(move |_| {
            let s = seconds(|| {
                for _ in 0..steps {
                    let g = Graph::new();
                    let xv = g.variable(x.clone());
                    let y = bn.forward(&g, xv).expect("W7 shapes");
                    let grads = y
                        .backward_with(r.clone(), BackwardOptions::default())
                        .expect("W7 backward");
                    std::hint::black_box(grads.get(xv).expect("input gradient"));
                }
            });
            steps as f64 / s
        }),
    }]
}

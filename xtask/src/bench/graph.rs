//! AG-graph-overhead: what recording costs next to the arithmetic — a chain of 10,000
//! element-wise ops on 1-element tensors, forward + backward; metric: ops per second.

use neurite::autograd::Graph;
use neurite::tensor::Tensor;

use super::{seconds, Workload};

pub fn workloads(_quick: bool) -> Vec<Workload> {
    vec![Workload {
        name: "AG-graph-overhead".into(),
        metric: "ops_per_s",
        run: Box::new(|_| {
            const OPS: usize = 10_000;
            let s = seconds(|| {
                let g = Graph::<f32>::new();
                let x = g.variable(Tensor::scalar(0.5));
                let mut h = x;
                for i in 0..OPS {
                    h = if i % 2 == 0 {
                        h.tanh()
                    } else {
                        h.mul_scalar(1.01)
                    }
                    .expect("scalar ops");
                }
                let grads = h.backward().expect("scalar output");
                std::hint::black_box(grads.get(x));
            });
            OPS as f64 / s
        }),
    }]
}

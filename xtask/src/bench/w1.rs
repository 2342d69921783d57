//! W1: square fp32 GEMM, C = A·B, in GFLOP/s.

use neurite::tensor::{Rng, Tensor};

use super::{seconds, Workload};

pub fn workloads(quick: bool) -> Vec<Workload> {
    [128usize, 512, 1024, 2048]
        .into_iter()
        .filter(|&n| !quick || n <= 512)
        .map(|n| {
            let mut rng = Rng::new(1);
            let a = Tensor::<f32>::rand_uniform(&[n, n], -1.0, 1.0, &mut rng);
            let b = Tensor::<f32>::rand_uniform(&[n, n], -1.0, 1.0, &mut rng);
            // Repeat small products so that each timed repeat lasts long enough to measure.
            let reps = (2_000_000_000 / (2 * n * n * n)).clamp(1, 2000);
            Workload {
                name: format!("W1-sgemm-{n}"),
                metric: "gflops",
                run: Box::new(move |_| {
                    let s = seconds(|| {
                        for _ in 0..reps {
                            std::hint::black_box(a.matmul(&b).expect("square shapes"));
                        }
                    });
                    (2 * n * n * n * reps) as f64 / s / 1e9
                }),
            }
        })
        .collect()
}

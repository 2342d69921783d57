//! BatchNorm2d forward + backward on [64, 32, 14, 14] f32 in training mode: median time of
//! `--reps` runs after a warm-up. `batchnorm_bench.py` next to this file times PyTorch on the
//! same step. Run: `cargo run --release -p neurite-nn --example batchnorm_bench`.

use std::time::Instant;

use neurite_autograd::{BackwardOptions, Graph};
use neurite_nn::{BatchNorm2d, Module};
use neurite_tensor::{Rng, Tensor};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let reps: usize = std::env::args()
        .skip_while(|a| a != "--reps")
        .nth(1)
        .map(|v| v.parse())
        .transpose()?
        .unwrap_or(200);
    let mut rng = Rng::new(0);
    let x = Tensor::<f32>::rand_normal(&[64, 32, 14, 14], 0.0, 1.0, &mut rng);
    let r = Tensor::<f32>::rand_normal(&[64, 32, 14, 14], 0.0, 1.0, &mut rng);
    let bn = BatchNorm2d::<f32>::new(32)?;
    let mut times = Vec::with_capacity(reps);
    for i in 0..reps + 20 {
        let t0 = Instant::now();
        let g = Graph::new();
        let xv = g.variable(x.clone());
        let y = bn.forward(&g, xv)?;
        // The upstream gradient r, as PyTorch's y.backward(r).
        let grads = y.backward_with(r.clone(), BackwardOptions::default())?;
        std::hint::black_box(grads.get(xv));
        if i >= 20 {
            times.push(t0.elapsed().as_secs_f64() * 1e3);
        }
    }
    times.sort_by(f64::total_cmp);
    println!(
        "neurite BatchNorm2d fwd+bwd [64, 32, 14, 14] f32, {} threads: median {:.3} ms (min {:.3})",
        neurite_tensor::num_threads(),
        times[times.len() / 2],
        times[0]
    );
    Ok(())
}

//! Runs W3 training steps and inference batches (BENCHMARKS.md) and prints images/s: a
//! stand-alone target for profilers (`perf record`, `valgrind --tool=callgrind`).
//!
//! Run: `cargo run --release -p neurite-cnn --example w3_steps -- [train_steps] [infer_batches]`

use std::time::Instant;

use neurite_autograd::Graph;
use neurite_cnn::{Conv2d, ConvConfig, Flatten, MaxPool2d};
use neurite_nn::{cross_entropy, Linear, Module, Optimizer, Relu, Sequential, Sgd};
use neurite_tensor::{Rng, Tensor};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let steps = args.first().copied().unwrap_or(20);
    let infer = args.get(1).copied().unwrap_or(40);
    let mut rng = Rng::new(1);
    let conv =
        |i, o, rng: &mut Rng| Conv2d::new(ConvConfig::new(i, o, [3, 3]).with_padding([1, 1]), rng);
    let mut model = Sequential::new()
        .add(conv(1, 16, &mut rng)?)
        .add(Relu)
        .add(MaxPool2d::new([2, 2]))
        .add(conv(16, 32, &mut rng)?)
        .add(Relu)
        .add(MaxPool2d::new([2, 2]))
        .add(Flatten::default())
        .add(Linear::new(1568, 128, &mut rng)?)
        .add(Relu)
        .add(Linear::new(128, 10, &mut rng)?);
    let x = Tensor::<f32>::rand_uniform(&[64, 1, 28, 28], 0.0, 1.0, &mut rng);
    let labels: Vec<usize> = (0..64).map(|_| rng.below(10)).collect();
    let mut opt = Sgd::new(0.01)?;
    let t = Instant::now();
    for _ in 0..steps {
        let g = Graph::new();
        let loss = cross_entropy(model.forward(&g, g.constant(x.clone()))?, &labels)?;
        let grads = loss.backward()?;
        opt.step(&mut model, &grads)?;
    }
    let train = (steps * 64) as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for _ in 0..infer {
        let g = Graph::inference();
        std::hint::black_box(model.forward(&g, g.constant(x.clone()))?.value()?);
    }
    let inf = (infer * 64) as f64 / t.elapsed().as_secs_f64();
    println!(
        "train {train:.0} images/s, inference {inf:.0} images/s ({} threads)",
        rayon::current_num_threads()
    );
    Ok(())
}

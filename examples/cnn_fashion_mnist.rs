//! The W3 network of BENCHMARKS.md on Fashion-MNIST: conv 1→16 3×3 pad 1, ReLU, max-pool 2;
//! conv 16→32 3×3 pad 1, ReLU, max-pool 2; flatten; linear 1568→128, ReLU; linear 128→10;
//! softmax cross-entropy; Adam lr 1e-3, batch 64, pixels scaled to [0, 1].
//!
//! Prints per-epoch seconds, train loss and test accuracy (with a progress bar on a terminal),
//! saves the model as safetensors when asked (`--save FILE`; nothing is written otherwise), and
//! evaluates a saved model with `--load FILE`. Data: the four IDX files of the Debian package `dataset-fashion-mnist`
//! (`/usr/share/datasets/fashion-mnist`) or `--data DIR`.
//!
//! Run: `cargo run --release --example cnn_fashion_mnist -- [--epochs 2] [--save model.safetensors] [--plot FILE.svg]`
//!
//! Measured (2026-11-28, 1 thread): after 2 epochs the test accuracy depends on the seed by
//! about ±0.4 points, for neurite and PyTorch alike. Seeds 0–3 of this example: 87.42, 87.69,
//! 88.04, 88.15%; PyTorch's script of the same recipe (`../shared/peers/w5_fashion_torch.py`),
//! seeds 0–5: 88.71, 88.66, 88.78, 88.11, 88.65, 87.98%. Given PyTorch's initial weights and
//! batch order, neurite lands where PyTorch does (seeds 0–5: 88.63, 88.54, 88.79, 88.12, 88.64,
//! 87.78%): the difference is in the draws, not the arithmetic — `crates/neurite-cnn/tests/
//! pytorch.rs` checks the step-by-step agreement. `--epochs 10` reaches 91.2%.

use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;

use neurite::autograd::Graph;
use neurite::cnn::{Conv2d, ConvConfig, Flatten, MaxPool2d};
use neurite::nn::data::{Dataset, MnistSplit};
use neurite::nn::metrics::predict_classes;
use neurite::nn::train::{Metrics, Trainer};
use neurite::nn::{
    cross_entropy, load_params, save_params, Adam, Linear, Module, Optimizer, Relu, Sequential,
};
use neurite::tensor::Rng;
use neurite_examples::{data, flags, Defaults, TrainFlags};

const DEFAULTS: Defaults = Defaults {
    epochs: 2,
    quick_epochs: 1,
    batch: 64,
    lr: 1e-3,
    seed: 1,
};

/// cnn_fashion_mnist: the W3 CNN learns Fashion-MNIST (--quick: 1 epoch on 10,000 images)
#[derive(Parser)]
#[command(name = "cnn_fashion_mnist", allow_negative_numbers = true)]
struct Cli {
    /// The four Fashion-MNIST IDX .gz files [default: $NEURITE_FASHION_MNIST, else
    /// /usr/share/datasets/fashion-mnist]
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Train on the first N training images only
    #[arg(long, value_name = "N", value_parser = flags::count(1, 10_000_000))]
    train_subset: Option<usize>,
    /// Save the trained model to FILE (safetensors)
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    /// Load a saved model and evaluate it on the test set (no training)
    #[arg(long, value_name = "FILE", conflicts_with = "save")]
    load: Option<PathBuf>,
    #[command(flatten)]
    train: TrainFlags,
}

fn main() {
    neurite_examples::main("cnn_fashion_mnist", || run(flags::parse(&DEFAULTS)));
}

/// The W3 network (BENCHMARKS.md), seeded.
fn w3_network(rng: &mut Rng) -> Result<Sequential<f32>, Box<dyn Error>> {
    let conv = ConvConfig::new(1, 16, [3, 3]).with_padding([1, 1]);
    Ok(Sequential::new()
        .add(Conv2d::new(conv, rng)?)
        .add(Relu)
        .add(MaxPool2d::new([2, 2]))
        .add(Conv2d::new(
            ConvConfig::new(16, 32, [3, 3]).with_padding([1, 1]),
            rng,
        )?)
        .add(Relu)
        .add(MaxPool2d::new([2, 2]))
        .add(Flatten::default())
        .add(Linear::new(32 * 7 * 7, 128, rng)?)
        .add(Relu)
        .add(Linear::new(128, 10, rng)?))
}

/// Mean cross-entropy and accuracy on a data set, without recording a graph.
fn evaluate(model: &dyn Module<f32>, data: &Dataset<f32>) -> Result<Metrics, Box<dyn Error>> {
    let (mut loss, mut correct) = (0.0, 0usize);
    for b in data.batches(500, None, false)? {
        let g = Graph::inference();
        let logits = model.forward(&g, g.constant(b.features))?;
        let predicted = predict_classes(&logits.value()?)?;
        correct += predicted
            .iter()
            .zip(&b.labels)
            .filter(|(p, l)| p == l)
            .count();
        loss += cross_entropy(logits, &b.labels)?.item()? as f64 * b.labels.len() as f64;
    }
    let n = data.len() as f64;
    Ok(Metrics::new(loss / n, Some(correct as f64 / n)))
}

fn run(cli: Cli) -> Result<(), Box<dyn Error>> {
    let o = cli.train.resolve(&DEFAULTS)?;
    let dir = cli.data.clone().unwrap_or_else(data::fashion_mnist_dir);
    let train_subset = cli.train_subset.or(o.quick.then_some(10_000));
    let t0 = Instant::now();
    let test = data::load_mnist_dir(&dir, MnistSplit::Test)?;
    let mut rng = Rng::new(o.seed);
    let mut model = w3_network(&mut rng)?;

    if let Some(path) = &cli.load {
        load_params(&mut model, path)?;
        let m = evaluate(&model, &test)?;
        let acc = m.metric.unwrap_or(0.0);
        println!(
            "{}: test loss {:.4}, test accuracy {:.2}% on {} images",
            path.display(),
            m.loss,
            100.0 * acc,
            test.len()
        );
        println!(
            "result: test_accuracy={acc:.4} test_loss={:.4} seconds={:.2}",
            m.loss,
            t0.elapsed().as_secs_f64()
        );
        return Ok(());
    }

    let mut train = data::load_mnist_dir(&dir, MnistSplit::Train)?;
    if let Some(n) = train_subset {
        let n = n.min(train.len());
        train = train.subset(&(0..n).collect::<Vec<_>>())?;
    }
    println!(
        "Fashion-MNIST: {} train / {} test images; {} → Adam lr {}, batch {}",
        train.len(),
        test.len(),
        model.describe(),
        o.lr,
        o.batch
    );
    let mut opt = Adam::new(o.lr)?;
    let mut shuffle = Rng::new(o.seed ^ 0xfa5);
    let batches = train.len().div_ceil(o.batch);
    let batch = o.batch;
    let mut state = (&mut model, &mut opt);
    let history = Trainer::new(o.epochs, batches)
        .metric_name("accuracy")
        .plot(o.plot.clone(), "neurite CNN on Fashion-MNIST")
        .fit(
            &mut state,
            |(model, opt), _epoch, tick| {
                let (mut sum, mut correct, mut n) = (0.0, 0usize, 0usize);
                for b in train.batches(batch, Some(&mut shuffle), false)? {
                    let g = Graph::new();
                    let logits = model.forward(&g, g.constant(b.features))?;
                    let predicted = predict_classes(&logits.value()?)?;
                    correct += predicted
                        .iter()
                        .zip(&b.labels)
                        .filter(|(p, l)| p == l)
                        .count();
                    let loss = cross_entropy(logits, &b.labels)?;
                    let l = loss.item()? as f64;
                    sum += l * b.labels.len() as f64;
                    n += b.labels.len();
                    tick(l);
                    let grads = loss.backward()?;
                    opt.step(&mut **model, &grads)?;
                }
                Ok(Metrics::new(
                    sum / n as f64,
                    Some(correct as f64 / n as f64),
                ))
            },
            |(model, _), _| {
                evaluate(&**model, &test)
                    .map(Some)
                    .map_err(|e| neurite::nn::NnError::config("evaluate", e.to_string()))
            },
        )?;
    let last = history.epochs.last().ok_or("no epoch ran")?;
    let test_acc = last.eval.and_then(|m| m.metric).unwrap_or(0.0);
    let epoch_secs: Vec<String> = history
        .epochs
        .iter()
        .map(|e| format!("{:.1}", e.seconds))
        .collect();
    println!(
        "test accuracy {:.2}% after {} epochs; seconds per epoch (train + test): {}",
        100.0 * test_acc,
        o.epochs,
        epoch_secs.join(", ")
    );
    if let Some(path) = &cli.save {
        save_params(&model, path)?;
        println!(
            "saved the model to {} (reload: --load FILE)",
            path.display()
        );
    }
    println!(
        "result: test_accuracy={test_acc:.4} train_loss={:.4} epochs={} epoch_seconds={:.2} seconds={:.2}",
        last.train.loss,
        o.epochs,
        history.seconds() / o.epochs as f64,
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

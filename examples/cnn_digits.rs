//! A small CNN on the 8×8 handwritten digits vendored in `data/tabular/digits.csv.gz`
//! (1,797 images, values 0..16, the digit in the last column): conv 3×3 → ReLU → conv 3×3 →
//! ReLU → max-pool 2 → flatten → linear → ReLU → linear, trained with mini-batch SGD with
//! momentum, evaluated on a seeded 20% held-out split.
//!
//! Run: `cargo run --release --example cnn_digits -- [--epochs N] [--quick] [--plot FILE.svg]`

use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;

use neurite::autograd::Graph;
use neurite::cnn::{Conv2d, ConvConfig, Flatten, MaxPool2d};
use neurite::nn::data::{read_csv, CsvOptions, Dataset};
use neurite::nn::metrics::{accuracy, predict_classes};
use neurite::nn::train::{Metrics, Trainer};
use neurite::nn::{cross_entropy, Linear, Module, Optimizer, Relu, Sequential, Sgd};
use neurite::tensor::{Rng, Tensor};
use neurite_examples::{data, flags, Checkpoints, Defaults, TrainFlags};

const DEFAULTS: Defaults = Defaults {
    epochs: 20,
    quick_epochs: 12,
    batch: 32,
    lr: 0.05,
    seed: 7,
};

/// cnn_digits: a small CNN reads the 8×8 handwritten digits
#[derive(Parser)]
#[command(name = "cnn_digits", allow_negative_numbers = true)]
struct Cli {
    /// digits.csv[.gz]: square images, pixel columns then the digit [default: the vendored copy]
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    #[command(flatten)]
    train: TrainFlags,
}

fn main() {
    neurite_examples::main("cnn_digits", || run(flags::parse(&DEFAULTS)));
}

/// Mean cross-entropy and accuracy of `model` on a data set, in batches, without recording a
/// graph.
fn evaluate(model: &dyn Module<f32>, data: &Dataset<f32>) -> neurite::nn::Result<Metrics> {
    let (mut loss, mut predicted) = (0.0, Vec::with_capacity(data.len()));
    for b in data.batches(256, None, false)? {
        let g = Graph::inference();
        let logits = model.forward(&g, g.constant(b.features))?;
        loss += cross_entropy(logits, &b.labels)?.item()? as f64 * b.labels.len() as f64;
        predicted.extend(predict_classes(&logits.value()?)?);
    }
    let acc = accuracy(&predicted, data.labels().unwrap_or_default())?;
    Ok(Metrics::new(loss / data.len().max(1) as f64, Some(acc)))
}

fn run(cli: Cli) -> Result<(), Box<dyn Error>> {
    let o = cli.train.resolve(&DEFAULTS)?;
    let path = cli
        .data
        .unwrap_or_else(|| data::vendored("tabular/digits.csv.gz"));
    let t0 = Instant::now();
    let table: Tensor<f32> = read_csv(&path, &CsvOptions::default())?;
    let all = Dataset::classification_from_table(&table, table.shape()[1] - 1)?;
    let side = ((all.num_features() as f64).sqrt()) as usize;
    if side * side != all.num_features() {
        return Err(format!(
            "{}: {} pixels per image is not a square",
            path.display(),
            all.num_features()
        )
        .into());
    }
    // Pixels 0..16 → [0, 1], images [n, 1, 8, 8].
    let all = Dataset {
        features: all.features.map(|v| v / 16.0),
        targets: all.targets,
    }
    .reshape_features(&[1, side, side])?;
    let (train, test) = all.split(0.2, o.seed)?;
    let classes = all.classes().ok_or("a classification set")?;
    println!(
        "digits: {} train / {} held-out images of {side}×{side}, {classes} classes",
        train.len(),
        test.len()
    );

    let mut rng = Rng::new(o.seed);
    let mut model = Sequential::new()
        .add(Conv2d::new(
            ConvConfig::new(1, 16, [3, 3]).same(),
            &mut rng,
        )?)
        .add(Relu)
        .add(Conv2d::new(
            ConvConfig::new(16, 32, [3, 3]).same(),
            &mut rng,
        )?)
        .add(Relu)
        .add(MaxPool2d::new([2, 2]))
        .add(Flatten::default())
        .add(Linear::new(32 * (side / 2) * (side / 2), 64, &mut rng)?)
        .add(Relu)
        .add(Linear::new(64, classes, &mut rng)?);
    let mut opt = Sgd::with_options(o.lr, 0.9, false, 0.0)?;
    let mut shuffle = Rng::new(o.seed ^ 0x5eed);
    let checkpoints = Checkpoints::new("cnn_digits", &o, "")?;
    let progress = checkpoints.restore(
        &mut model,
        &mut opt,
        &mut [("shuffle", &mut shuffle)],
        o.epochs,
    )?;
    let mut state = (&mut model, &mut opt, &mut shuffle);
    let history = Trainer::new(o.epochs, train.len().div_ceil(o.batch))
        .resume_from(&progress)
        .metric_name("accuracy")
        .plot(
            o.plot.clone(),
            "cnn_digits: conv, max-pool, fully connected",
        )
        .fit_checkpointed(
            &mut state,
            |(model, opt, shuffle), _, tick| {
                model.set_training(true);
                let (mut sum, mut n) = (0.0, 0usize);
                for b in train.batches(o.batch, Some(&mut **shuffle), false)? {
                    let g = Graph::new();
                    let logits = model.forward(&g, g.constant(b.features))?;
                    let loss = cross_entropy(logits, &b.labels)?;
                    let l = loss.item()? as f64;
                    sum += l * b.labels.len() as f64;
                    n += b.labels.len();
                    tick(l);
                    let grads = loss.backward()?; // upstream → local → downstream
                    opt.step(&mut **model, &grads)?;
                }
                Ok(Metrics::new(sum / n as f64, None))
            },
            |(model, _, _), _| {
                model.set_training(false);
                Ok(Some(evaluate(&**model, &test)?))
            },
            |(model, opt, shuffle), p| {
                checkpoints.save(&mut **model, &**opt, &[("shuffle", &**shuffle)], p)
            },
        )?;
    let last = history.last().ok_or("no epoch ran")?;
    let (last_loss, test_acc) = (
        last.train.loss,
        last.eval.and_then(|m| m.metric).unwrap_or(0.0),
    );
    let train_acc = evaluate(&model, &train)?.metric.unwrap_or(0.0);
    println!(
        "train accuracy {:.2}%, held-out accuracy {:.2}%",
        100.0 * train_acc,
        100.0 * test_acc
    );
    println!(
        "result: test_accuracy={test_acc:.4} train_accuracy={train_acc:.4} train_loss={last_loss:.4} epochs={} seconds={:.2}",
        o.epochs,
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

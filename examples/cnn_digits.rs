//! A small CNN on the 8×8 handwritten digits vendored in `data/tabular/digits.csv.gz`
//! (1,797 images, values 0..16, the digit in the last column): conv 3×3 → ReLU → conv 3×3 →
//! ReLU → max-pool 2 → flatten → linear → ReLU → linear, trained with mini-batch SGD with
//! momentum, evaluated on a seeded 20% held-out split.
//!
//! Run: `cargo run --release --example cnn_digits -- [--epochs N] [--quick] [--data FILE]`

use std::error::Error;
use std::time::Instant;

use neurite::autograd::Graph;
use neurite::cnn::{Conv2d, ConvConfig, Flatten, MaxPool2d};
use neurite::nn::data::{read_csv, CsvOptions, Dataset};
use neurite::nn::metrics::{accuracy, predict_classes};
use neurite::nn::{cross_entropy, Linear, Module, Optimizer, Relu, Sequential, Sgd};
use neurite::tensor::{Rng, Tensor};

struct Options {
    data: String,
    epochs: usize,
    batch: usize,
    lr: f64,
    seed: u64,
}

fn parse(args: &[String]) -> Result<Option<Options>, Box<dyn Error>> {
    let mut o = Options {
        data: concat!(env!("CARGO_MANIFEST_DIR"), "/data/tabular/digits.csv.gz").into(),
        epochs: 20,
        batch: 32,
        lr: 0.05,
        seed: 7,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--data" => o.data = val()?.clone(),
            "--epochs" => o.epochs = val()?.parse()?,
            "--batch" => o.batch = val()?.parse()?,
            "--lr" => o.lr = val()?.parse()?,
            "--seed" => o.seed = val()?.parse()?,
            "--quick" => o.epochs = 12,
            "-h" | "--help" => {
                println!(
                    "usage: cnn_digits [--data FILE] [--epochs N (20)] [--batch N (32)] [--lr X (0.05)] [--seed N (7)] [--quick (12 epochs)]"
                );
                return Ok(None);
            }
            other => return Err(format!("unknown option {other} (try --help)").into()),
        }
    }
    if o.epochs == 0 || o.batch == 0 {
        return Err("--epochs and --batch must be at least 1".into());
    }
    Ok(Some(o))
}

/// Accuracy of `model` on a data set, in batches, without recording a graph.
fn evaluate(model: &dyn Module<f32>, data: &Dataset<f32>) -> Result<f64, Box<dyn Error>> {
    let mut predicted = Vec::with_capacity(data.len());
    for b in data.batches(256, None, false)? {
        let g = Graph::inference();
        let logits = model.forward(&g, g.constant(b.features))?;
        predicted.extend(predict_classes(&logits.value()?)?);
    }
    Ok(accuracy(
        &predicted,
        data.labels().ok_or("a classification set")?,
    )?)
}

/// Runs the example with command-line style arguments.
pub fn run(args: &[String]) -> Result<(), Box<dyn Error>> {
    let Some(o) = parse(args)? else {
        return Ok(());
    };
    let t0 = Instant::now();
    let table: Tensor<f32> = read_csv(&o.data, &CsvOptions::default())?;
    let all = Dataset::classification_from_table(&table, table.shape()[1] - 1)?;
    let side = ((all.num_features() as f64).sqrt()) as usize;
    if side * side != all.num_features() {
        return Err(format!(
            "{}: {} pixels per image is not a square",
            o.data,
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
    let mut last_loss = f64::NAN;
    let mut test_acc = 0.0;
    for epoch in 1..=o.epochs {
        let te = Instant::now();
        let (mut sum, mut n) = (0.0, 0usize);
        for b in train.batches(o.batch, Some(&mut shuffle), false)? {
            let g = Graph::new();
            let logits = model.forward(&g, g.constant(b.features))?;
            let loss = cross_entropy(logits, &b.labels)?;
            sum += loss.item()? as f64 * b.labels.len() as f64;
            n += b.labels.len();
            let grads = loss.backward()?;
            opt.step(&mut model, &grads)?;
        }
        last_loss = sum / n as f64;
        model.set_training(false);
        test_acc = evaluate(&model, &test)?;
        model.set_training(true);
        println!(
            "epoch {epoch:>3}  train loss {last_loss:.4}  held-out accuracy {:.2}%  ({:.2} s)",
            100.0 * test_acc,
            te.elapsed().as_secs_f64()
        );
    }
    let train_acc = evaluate(&model, &train)?;
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

#[allow(dead_code)]
fn main() {
    // Keep freed training buffers for reuse (see `neurite::tensor::memory`).
    neurite::tensor::keep_freed_memory();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&args) {
        eprintln!("cnn_digits: {e}");
        std::process::exit(1);
    }
}

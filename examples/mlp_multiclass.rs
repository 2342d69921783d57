//! Multi-class classification with a multi-layer perceptron: the digits data (1,797 handwritten
//! 8×8 digits, 10 classes), softmax output + cross-entropy (fused with log-softmax), Adam,
//! held-out accuracy and confusion matrix.
//!
//! `cargo run --release --example mlp_multiclass -- [--epochs N] [--quick] [--plot FILE.svg] …` (`--help` lists every flag)

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;

use neurite::autograd::Graph;
use neurite::nn::data::{read_csv, CsvOptions, Dataset, Standardizer};
use neurite::nn::metrics::{accuracy, predict_classes, ConfusionMatrix};
use neurite::nn::train::{Metrics, Trainer};
use neurite::nn::{
    cross_entropy, Adam, Linear, Module, Optimizer, Relu, Result as NnResult, Sequential,
};
use neurite::tensor::Rng;
use neurite_examples::{data, flags, Checkpoints, Defaults, TrainFlags};

const DEFAULTS: Defaults = Defaults {
    epochs: 40,
    quick_epochs: 12,
    batch: 32,
    lr: 1e-3,
    seed: 7,
};

/// mlp_multiclass: an MLP reads handwritten digits (softmax output + cross-entropy)
#[derive(Parser)]
#[command(name = "mlp_multiclass", allow_negative_numbers = true)]
struct Cli {
    /// digits.csv[.gz]: 64 pixel columns then the digit [default: the vendored copy]
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Hidden units
    #[arg(long, value_name = "N", default_value_t = 128, value_parser = flags::count(1, flags::MAX_WIDTH))]
    hidden: usize,
    /// Write the per-epoch history to this CSV file
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Save the trained parameters (safetensors)
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    #[command(flatten)]
    train: TrainFlags,
}

/// The model, its optimiser and the shuffling generator: what the training loop lends to
/// each epoch.
struct State {
    model: Sequential<f32>,
    opt: Adam<f32>,
    rng: Rng,
}

/// Mean cross-entropy and accuracy on a whole set, without recording a graph.
fn evaluate(model: &Sequential<f32>, data: &Dataset<f32>) -> NnResult<(Metrics, Vec<usize>)> {
    let labels = data.labels().unwrap_or_default();
    let g = Graph::inference();
    let logits = model.forward(&g, g.constant(data.features.clone()))?;
    let loss = cross_entropy(logits, labels)?.item()? as f64;
    let pred = predict_classes(&logits.value()?)?;
    Ok((Metrics::new(loss, Some(accuracy(&pred, labels)?)), pred))
}

fn main() {
    neurite_examples::main("mlp_multiclass", || run(flags::parse(&DEFAULTS)));
}

fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let t = cli.train.resolve(&DEFAULTS)?;
    let data = cli
        .data
        .clone()
        .unwrap_or_else(|| data::vendored("tabular/digits.csv.gz"));
    let start = Instant::now();
    let table = read_csv::<f32>(&data, &CsvOptions::default())?;
    let data = Dataset::classification_from_table(&table, table.shape()[1] - 1)?;
    let classes = data.classes().unwrap_or(0);
    let (train, test) = data.split(0.2, t.seed)?;
    // Standardise with the statistics of the training part only.
    let scaler = Standardizer::fit(&train.features)?;
    let train = Dataset::classification(
        scaler.transform(&train.features)?,
        train.labels().unwrap_or_default().to_vec(),
        classes,
    )?;
    let test = Dataset::classification(
        scaler.transform(&test.features)?,
        test.labels().unwrap_or_default().to_vec(),
        classes,
    )?;
    println!(
        "digits: {} train / {} test images of {} pixels, {classes} classes",
        train.len(),
        test.len(),
        train.num_features()
    );

    let mut rng = Rng::new(t.seed);
    let model = Sequential::new()
        .add(Linear::<f32>::new(
            train.num_features(),
            cli.hidden,
            &mut rng,
        )?)
        .add(Relu)
        .add(Linear::new(cli.hidden, classes, &mut rng)?); // logits; softmax is in the loss
    println!("model: {}", model.describe());
    let mut state = State {
        model,
        opt: Adam::new(t.lr)?,
        rng,
    };
    let checkpoints = Checkpoints::new("mlp_multiclass", &t, &format!("hidden={}", cli.hidden))?;
    let progress = checkpoints.restore(
        &mut state.model,
        &mut state.opt,
        &mut [("shuffle", &mut state.rng)],
        t.epochs,
    )?;
    let lr = t.lr;
    let history = Trainer::new(t.epochs, train.len().div_ceil(t.batch))
        .resume_from(&progress)
        .metric_name("accuracy")
        .csv(cli.csv.clone())
        .plot(
            t.plot.clone(),
            "mlp_multiclass: digits, softmax + cross-entropy",
        )
        .learning_rate(move |_| lr)
        .fit_checkpointed(
            &mut state,
            |st, _, tick| {
                let (mut sum, mut right, mut n) = (0.0, 0usize, 0usize);
                for batch in train.batches(t.batch, Some(&mut st.rng), false)? {
                    let g = Graph::new();
                    let logits = st.model.forward(&g, g.constant(batch.features.clone()))?;
                    let loss = cross_entropy(logits, &batch.labels)?;
                    let l = loss.item()? as f64;
                    let pred = predict_classes(&logits.value()?)?;
                    right += pred
                        .iter()
                        .zip(&batch.labels)
                        .filter(|(p, l)| p == l)
                        .count();
                    let grads = loss.backward()?; // upstream → local → downstream
                    st.opt.step(&mut st.model, &grads)?;
                    sum += l * batch.len() as f64;
                    n += batch.len();
                    tick(l);
                }
                Ok(Metrics::new(sum / n as f64, Some(right as f64 / n as f64)))
            },
            |st, _| Ok(Some(evaluate(&st.model, &test)?.0)),
            |st, p| checkpoints.save(&mut st.model, &st.opt, &[("shuffle", &st.rng)], p),
        )?;
    let model = state.model;
    let (final_test, pred) = evaluate(&model, &test)?;
    let cm = ConfusionMatrix::new(&pred, test.labels().unwrap_or_default(), classes)?;
    println!("test confusion matrix (rows: actual digit, columns: predicted):\n{cm}");
    if let Some(p) = &cli.save {
        neurite::nn::save_params(&model, p)?;
        println!("saved parameters to {}", p.display());
    }
    println!(
        "result: test_accuracy={:.4} test_loss={:.4} train_accuracy={:.4} epochs={} seconds={:.2}",
        final_test.metric.unwrap_or(f64::NAN),
        final_test.loss,
        history
            .last()
            .and_then(|e| e.train.metric)
            .unwrap_or(f64::NAN),
        t.epochs,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

//! Binary classification with a multi-layer perceptron: breast cancer (569 tumours × 30
//! features, malignant or benign), sigmoid output + binary cross-entropy (fused and stable:
//! `bce_with_logits`), Adam, held-out accuracy.
//!
//! `cargo run --release --example mlp_binary -- [--epochs N] [--quick] [--plot FILE.svg] …`

use std::time::Instant;

use neurite::autograd::Graph;
use neurite::nn::data::{read_csv, CsvOptions, Dataset, Standardizer};
use neurite::nn::metrics::{accuracy, predict_binary, ConfusionMatrix};
use neurite::nn::train::{Metrics, Trainer};
use neurite::nn::{
    bce_with_logits, Adam, Linear, Module, Optimizer, Relu, Result as NnResult, Sequential,
};
use neurite::tensor::{Rng, Tensor};

const USAGE: &str = "mlp_binary: an MLP classifies breast tumours (sigmoid output + BCE)

options:
  --data FILE      breast_cancer.csv (sklearn layout; default: the vendored data/tabular copy)
  --epochs N       training epochs (default 60; 15 with --quick)
  --hidden N       hidden units (default 32)
  --lr X           Adam learning rate (default 0.001)
  --batch N        mini-batch size (default 32)
  --seed N         seed of the split, initialisation and shuffling (default 7)
  --plot FILE.svg  draw the loss/accuracy curves
  --csv FILE       write the per-epoch history
  --save FILE      save the trained parameters (safetensors)
  --quick          a short run (the tour)
  --help           this text";

#[path = "common/mlp_flags.rs"]
mod mlp_flags;
use mlp_flags::Args;

fn parse(args: &[String]) -> Result<Option<Args>, String> {
    let defaults = Args {
        epochs: 60,
        hidden: 32,
        ..Args::with_data(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/tabular/breast_cancer.csv"
        ))
    };
    mlp_flags::parse(args, USAGE, defaults, 15)
}

/// The model, its optimiser and the shuffling generator: what the training loop lends to
/// each epoch.
struct State {
    model: Sequential<f32>,
    opt: Adam<f32>,
    rng: Rng,
}

/// Mean BCE loss and accuracy of the model on a whole set, without recording a graph.
fn evaluate(model: &Sequential<f32>, data: &Dataset<f32>) -> NnResult<(Metrics, Vec<usize>)> {
    let g = Graph::inference();
    let logits = model.forward(&g, g.constant(data.features.clone()))?;
    let loss = bce_with_logits(logits, g.constant(data.target_values()?))?.item()? as f64;
    let pred = predict_binary(&logits.value()?);
    let acc = accuracy(&pred, data.labels().unwrap_or_default())?;
    Ok((Metrics::new(loss, Some(acc)), pred))
}

pub fn run(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    train(args).map(|_| ())
}

/// Runs the example and returns its headline held-out figure (None for `--help`).
pub fn train(args: &[String]) -> Result<Option<f64>, Box<dyn std::error::Error>> {
    let Some(args) = parse(args)? else {
        println!("{USAGE}");
        return Ok(None);
    };
    let start = Instant::now();
    // sklearn layout: a header line, then 30 features and the label per row.
    let table = read_csv::<f32>(
        &args.data,
        &CsvOptions {
            skip_rows: 1,
            ..Default::default()
        },
    )?;
    let data = Dataset::classification_from_table(&table, table.shape()[1] - 1)?;
    let (train, test) = data.split(0.2, args.seed)?;
    // Standardise with the statistics of the training part only.
    let scaler = Standardizer::fit(&train.features)?;
    let train = Dataset::classification(
        scaler.transform(&train.features)?,
        train.labels().unwrap_or_default().to_vec(),
        2,
    )?;
    let test = Dataset::classification(
        scaler.transform(&test.features)?,
        test.labels().unwrap_or_default().to_vec(),
        2,
    )?;
    println!(
        "breast cancer: {} train / {} test samples, {} features",
        train.len(),
        test.len(),
        train.num_features()
    );

    let mut rng = Rng::new(args.seed);
    let model = Sequential::new()
        .add(Linear::<f32>::new(
            train.num_features(),
            args.hidden,
            &mut rng,
        )?)
        .add(Relu)
        .add(Linear::new(args.hidden, 1, &mut rng)?); // one logit; σ(logit) = P(benign)
    println!("model: {}", model.describe());
    let mut state = State {
        model,
        opt: Adam::new(args.lr)?,
        rng,
    };
    let lr = args.lr;
    let history = Trainer::new(args.epochs, train.len().div_ceil(args.batch))
        .metric_name("accuracy")
        .csv(args.csv.clone())
        .plot(
            args.plot.clone(),
            "mlp_binary: breast cancer, sigmoid + BCE",
        )
        .learning_rate(move |_| lr)
        .fit(
            &mut state,
            |st, _, tick| {
                let (mut sum, mut right, mut n) = (0.0, 0usize, 0usize);
                for batch in train.batches(args.batch, Some(&mut st.rng), false)? {
                    let g = Graph::new();
                    let logits = st.model.forward(&g, g.constant(batch.features.clone()))?;
                    let y: Vec<f32> = batch.labels.iter().map(|&l| l as f32).collect();
                    let y = g.constant(Tensor::from_vec(y, &[batch.len(), 1])?);
                    let loss = bce_with_logits(logits, y)?;
                    let l = loss.item()? as f64;
                    let pred = predict_binary(&logits.value()?);
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
        )?;
    let model = state.model;
    let (final_test, pred) = evaluate(&model, &test)?;
    let cm = ConfusionMatrix::new(&pred, test.labels().unwrap_or_default(), 2)?;
    println!(
        "test confusion matrix (rows: actual 0 = malignant, 1 = benign; columns: predicted):\n{cm}"
    );
    if let Some(p) = &args.save {
        neurite::nn::save_params(&model, p)?;
        println!("saved parameters to {}", p.display());
    }
    let test_acc = final_test.metric.unwrap_or(f64::NAN);
    println!(
        "result: test_accuracy={:.4} test_loss={:.4} train_accuracy={:.4} epochs={} seconds={:.2}",
        test_acc,
        final_test.loss,
        history
            .last()
            .and_then(|e| e.train.metric)
            .unwrap_or(f64::NAN),
        args.epochs,
        start.elapsed().as_secs_f64()
    );
    Ok(Some(test_acc))
}

#[allow(dead_code)]
fn main() {
    // Keep freed training buffers for reuse (see `neurite::tensor::memory`).
    neurite::tensor::keep_freed_memory();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&args) {
        eprintln!("mlp_binary: {e}");
        std::process::exit(1);
    }
}

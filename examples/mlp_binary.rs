//! Binary classification with a multi-layer perceptron: breast cancer (569 tumours × 30
//! features, malignant or benign), sigmoid output + binary cross-entropy (fused and stable:
//! `bce_with_logits`), Adam, held-out accuracy.
//!
//! `cargo run --release --example mlp_binary -- [--epochs N] [--quick] [--plot FILE.svg] …` (`--help` lists every flag)

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;

use neurite::autograd::Graph;
use neurite::nn::data::{read_csv, CsvOptions, Dataset, Standardizer};
use neurite::nn::metrics::{accuracy, predict_binary, ConfusionMatrix};
use neurite::nn::train::{Metrics, Trainer};
use neurite::nn::{
    bce_with_logits, Adam, Linear, Module, Optimizer, Relu, Result as NnResult, Sequential,
};
use neurite::tensor::{Rng, Tensor};
use neurite_examples::{data, flags, Checkpoints, Defaults, TrainFlags};

const DEFAULTS: Defaults = Defaults {
    epochs: 60,
    quick_epochs: 15,
    batch: 32,
    lr: 1e-3,
    seed: 7,
};

/// mlp_binary: an MLP classifies breast tumours (sigmoid output + binary cross-entropy)
#[derive(Parser)]
#[command(name = "mlp_binary", allow_negative_numbers = true)]
struct Cli {
    /// breast_cancer.csv, sklearn layout [default: the vendored data/tabular copy]
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Hidden units
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = flags::count(1, flags::MAX_WIDTH))]
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

/// Mean BCE loss and accuracy of the model on a whole set, without recording a graph.
fn evaluate(model: &Sequential<f32>, data: &Dataset<f32>) -> NnResult<(Metrics, Vec<usize>)> {
    let g = Graph::inference();
    let logits = model.forward(&g, g.constant(data.features.clone()))?;
    let loss = bce_with_logits(logits, g.constant(data.target_values()?))?.item()? as f64;
    let pred = predict_binary(&logits.value()?);
    let acc = accuracy(&pred, data.labels().unwrap_or_default())?;
    Ok((Metrics::new(loss, Some(acc)), pred))
}

fn main() {
    neurite_examples::main("mlp_binary", || run(flags::parse(&DEFAULTS)));
}

fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let t = cli.train.resolve(&DEFAULTS)?;
    let data = cli
        .data
        .clone()
        .unwrap_or_else(|| data::vendored("tabular/breast_cancer.csv"));
    let start = Instant::now();
    // sklearn layout: a header line, then 30 features and the label per row.
    let table = read_csv::<f32>(
        &data,
        &CsvOptions {
            skip_rows: 1,
            ..Default::default()
        },
    )?;
    let data = Dataset::classification_from_table(&table, table.shape()[1] - 1)?;
    let (train, test) = data.split(0.2, t.seed)?;
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

    let mut rng = Rng::new(t.seed);
    let model = Sequential::new()
        .add(Linear::<f32>::new(
            train.num_features(),
            cli.hidden,
            &mut rng,
        )?)
        .add(Relu)
        .add(Linear::new(cli.hidden, 1, &mut rng)?); // one logit; σ(logit) = P(benign)
    println!("model: {}", model.describe());
    let mut state = State {
        model,
        opt: Adam::new(t.lr)?,
        rng,
    };
    let checkpoints = Checkpoints::new("mlp_binary", &t, &format!("hidden={}", cli.hidden))?;
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
        .plot(t.plot.clone(), "mlp_binary: breast cancer, sigmoid + BCE")
        .learning_rate(move |_| lr)
        .fit_checkpointed(
            &mut state,
            |st, _, tick| {
                let (mut sum, mut right, mut n) = (0.0, 0usize, 0usize);
                for batch in train.batches(t.batch, Some(&mut st.rng), false)? {
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
            |st, p| checkpoints.save(&mut st.model, &st.opt, &[("shuffle", &st.rng)], p),
        )?;
    let model = state.model;
    let (final_test, pred) = evaluate(&model, &test)?;
    let cm = ConfusionMatrix::new(&pred, test.labels().unwrap_or_default(), 2)?;
    println!(
        "test confusion matrix (rows: actual 0 = malignant, 1 = benign; columns: predicted):\n{cm}"
    );
    if let Some(p) = &cli.save {
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
        t.epochs,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

//! Regression with a multi-layer perceptron: diabetes (442 patients × 10 measurements, disease
//! progression one year later), linear output + mean squared error, Adam with weight decay;
//! held-out R², MSE and MAE in the original units.
//!
//! `cargo run --release --example mlp_regression -- [--epochs N] [--quick] [--plot FILE.svg] …`

use std::path::PathBuf;
use std::time::Instant;

use neurite::autograd::Graph;
use neurite::nn::data::{read_csv, CsvOptions, Dataset, Delimiter, Standardizer};
use neurite::nn::metrics::{mean_absolute_error, mean_squared_error, r2_score};
use neurite::nn::train::{Metrics, Trainer};
use neurite::nn::{mse, Adam, Linear, Module, Optimizer, Result as NnResult, Sequential, Tanh};
use neurite::tensor::{Rng, Tensor};

const USAGE: &str = "mlp_regression: an MLP predicts diabetes progression (linear output + MSE)

options:
  --data FILE      diabetes_data_raw.csv[.gz] (10 space-separated columns; default: vendored copy)
  --target FILE    diabetes_target.csv[.gz] (one value per line; default: vendored copy)
  --epochs N       training epochs (default 150; 40 with --quick)
  --hidden N       hidden units (default 16)
  --lr X           Adam learning rate (default 0.003)
  --weight-decay X L2 weight decay of Adam (default 0.01)
  --batch N        mini-batch size (default 32)
  --seed N         seed of the split, initialisation and shuffling (default 7)
  --plot FILE.svg  draw the loss/R² curves
  --csv FILE       write the per-epoch history
  --save FILE      save the trained parameters (safetensors)
  --quick          a short run (the tour)
  --help           this text";

#[path = "common/mlp_flags.rs"]
mod mlp_flags;
use mlp_flags::Args;

fn parse(args: &[String]) -> Result<Option<Args>, String> {
    let defaults = Args {
        target: Some(PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/tabular/diabetes_target.csv.gz"
        ))),
        epochs: 150,
        hidden: 16,
        lr: 3e-3,
        weight_decay: Some(0.01),
        ..Args::with_data(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/tabular/diabetes_data_raw.csv.gz"
        ))
    };
    mlp_flags::parse(args, USAGE, defaults, 40)
}

/// The model, its optimiser and the shuffling generator: what the training loop lends to
/// each epoch.
struct State {
    model: Sequential<f32>,
    opt: Adam<f32>,
    rng: Rng,
}

/// Predictions [n, 1] of the model on a whole set, without recording a graph.
fn predict(model: &Sequential<f32>, x: &Tensor<f32>) -> NnResult<Tensor<f32>> {
    let g = Graph::inference();
    model
        .forward(&g, g.constant(x.clone()))?
        .value()
        .map_err(Into::into)
}

/// MSE (in standardised target units) and R² on a whole set.
fn evaluate(model: &Sequential<f32>, data: &Dataset<f32>) -> NnResult<Metrics> {
    let y = data.target_values()?;
    let p = predict(model, &data.features)?;
    Ok(Metrics::new(
        mean_squared_error(&p, &y)?,
        Some(r2_score(&p, &y)?),
    ))
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
    let ws = CsvOptions {
        delimiter: Delimiter::Whitespace,
        skip_rows: 0,
    };
    let x = read_csv::<f32>(&args.data, &ws)?;
    let y = read_csv::<f32>(args.target.as_deref().ok_or("no --target file")?, &ws)?;
    let data = Dataset::regression(x, y)?;
    let (train, test) = data.split(0.2, args.seed)?;
    // Standardise features and target with the statistics of the training part only.
    let fx = Standardizer::fit(&train.features)?;
    let fy = Standardizer::fit(&train.target_values()?)?;
    let train = Dataset::regression(
        fx.transform(&train.features)?,
        fy.transform(&train.target_values()?)?,
    )?;
    let test_y_raw = test.target_values()?;
    let test = Dataset::regression(fx.transform(&test.features)?, fy.transform(&test_y_raw)?)?;
    println!(
        "diabetes: {} train / {} test patients, {} features; target mean {:.1}, std {:.1} (train)",
        train.len(),
        test.len(),
        train.num_features(),
        fy.mean[0],
        fy.std[0]
    );

    let mut rng = Rng::new(args.seed);
    let model = Sequential::new()
        .add(Linear::<f32>::new(
            train.num_features(),
            args.hidden,
            &mut rng,
        )?)
        .add(Tanh)
        .add(Linear::new(args.hidden, 1, &mut rng)?); // linear output
    println!("model: {}", model.describe());
    let mut state = State {
        model,
        opt: Adam::with_options(
            args.lr,
            (0.9, 0.999),
            1e-8,
            args.weight_decay.unwrap_or(0.0),
        )?,
        rng,
    };
    let lr = args.lr;
    let history = Trainer::new(args.epochs, train.len().div_ceil(args.batch))
        .metric_name("r2")
        .csv(args.csv.clone())
        .plot(
            args.plot.clone(),
            "mlp_regression: diabetes, linear output + MSE",
        )
        .learning_rate(move |_| lr)
        .fit(
            &mut state,
            |st, _, tick| {
                let (mut sum, mut n) = (0.0, 0usize);
                for batch in train.batches(args.batch, Some(&mut st.rng), false)? {
                    let targets = batch.targets.clone().unwrap_or_else(|| Tensor::zeros(&[0]));
                    let g = Graph::new();
                    let pred = st.model.forward(&g, g.constant(batch.features.clone()))?;
                    let loss = mse(pred, g.constant(targets))?;
                    let l = loss.item()? as f64;
                    let grads = loss.backward()?; // upstream → local → downstream
                    st.opt.step(&mut st.model, &grads)?;
                    sum += l * batch.len() as f64;
                    n += batch.len();
                    tick(l);
                }
                let train_r2 = evaluate(&st.model, &train)?.metric;
                Ok(Metrics::new(sum / n as f64, train_r2))
            },
            |st, _| Ok(Some(evaluate(&st.model, &test)?)),
        )?;
    let model = state.model;
    // Held-out figures in the original units.
    let pred = fy.inverse(&predict(&model, &test.features)?)?;
    let r2 = r2_score(&pred, &test_y_raw)?;
    let mse_raw = mean_squared_error(&pred, &test_y_raw)?;
    let mae_raw = mean_absolute_error(&pred, &test_y_raw)?;
    println!("held-out: R² {r2:.4}, MSE {mse_raw:.1}, MAE {mae_raw:.1} (target units)");
    if let Some(p) = &args.save {
        neurite::nn::save_params(&model, p)?;
        println!("saved parameters to {}", p.display());
    }
    println!(
        "result: r2={:.4} test_mse={:.1} test_mae={:.2} train_r2={:.4} epochs={} seconds={:.2}",
        r2,
        mse_raw,
        mae_raw,
        history
            .last()
            .and_then(|e| e.train.metric)
            .unwrap_or(f64::NAN),
        args.epochs,
        start.elapsed().as_secs_f64()
    );
    Ok(Some(r2))
}

#[allow(dead_code)]
fn main() {
    // Keep freed training buffers for reuse (see `neurite::tensor::memory`).
    neurite::tensor::keep_freed_memory();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&args) {
        eprintln!("mlp_regression: {e}");
        std::process::exit(1);
    }
}

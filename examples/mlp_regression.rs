//! Regression with a multi-layer perceptron: diabetes (442 patients × 10 measurements, disease
//! progression one year later), linear output + mean squared error, Adam with weight decay;
//! held-out R², MSE and MAE in the original units.
//!
//! `cargo run --release --example mlp_regression -- [--epochs N] [--quick] [--plot FILE.svg] …` (`--help` lists every flag)

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;

use neurite::autograd::Graph;
use neurite::nn::data::{read_csv, CsvOptions, Dataset, Delimiter, Standardizer};
use neurite::nn::metrics::{mean_absolute_error, mean_squared_error, r2_score};
use neurite::nn::train::{Metrics, Trainer};
use neurite::nn::{mse, Adam, Linear, Module, Optimizer, Result as NnResult, Sequential, Tanh};
use neurite::tensor::{Rng, Tensor};
use neurite_examples::{data, flags, Checkpoints, Defaults, TrainFlags};

const DEFAULTS: Defaults = Defaults {
    epochs: 150,
    quick_epochs: 40,
    batch: 32,
    lr: 3e-3,
    seed: 7,
};

/// mlp_regression: an MLP predicts diabetes progression (linear output + MSE)
#[derive(Parser)]
#[command(name = "mlp_regression", allow_negative_numbers = true)]
struct Cli {
    /// diabetes_data_raw.csv[.gz]: 10 space-separated columns [default: the vendored copy]
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// diabetes_target.csv[.gz]: one value per line [default: the vendored copy]
    #[arg(long, value_name = "FILE")]
    target: Option<PathBuf>,
    /// L2 weight decay of Adam
    #[arg(long, value_name = "X", default_value_t = 0.01, value_parser = flags::non_negative)]
    weight_decay: f64,
    /// Hidden units
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = flags::count(1, flags::MAX_WIDTH))]
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

fn main() {
    neurite_examples::main("mlp_regression", || run(flags::parse(&DEFAULTS)));
}

fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let t = cli.train.resolve(&DEFAULTS)?;
    let target = cli
        .target
        .clone()
        .unwrap_or_else(|| data::vendored("tabular/diabetes_target.csv.gz"));
    let data = cli
        .data
        .clone()
        .unwrap_or_else(|| data::vendored("tabular/diabetes_data_raw.csv.gz"));
    let start = Instant::now();
    let ws = CsvOptions {
        delimiter: Delimiter::Whitespace,
        skip_rows: 0,
    };
    let x = read_csv::<f32>(&data, &ws)?;
    let y = read_csv::<f32>(&target, &ws)?;
    let all = Dataset::regression(x, y)?;
    let (train, test) = all.split(0.2, t.seed)?;
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

    let mut rng = Rng::new(t.seed);
    let model = Sequential::new()
        .add(Linear::<f32>::new(
            train.num_features(),
            cli.hidden,
            &mut rng,
        )?)
        .add(Tanh)
        .add(Linear::new(cli.hidden, 1, &mut rng)?); // linear output
    println!("model: {}", model.describe());
    let mut state = State {
        model,
        opt: Adam::with_options(t.lr, (0.9, 0.999), 1e-8, cli.weight_decay)?,
        rng,
    };
    let checkpoints = Checkpoints::new(
        "mlp_regression",
        &t,
        &format!("hidden={} weight_decay={}", cli.hidden, cli.weight_decay),
    )?;
    let progress = checkpoints.restore(
        &mut state.model,
        &mut state.opt,
        &mut [("shuffle", &mut state.rng)],
        t.epochs,
    )?;
    let lr = t.lr;
    let history = Trainer::new(t.epochs, train.len().div_ceil(t.batch))
        .resume_from(&progress)
        .metric_name("r2")
        .csv(cli.csv.clone())
        .plot(
            t.plot.clone(),
            "mlp_regression: diabetes, linear output + MSE",
        )
        .learning_rate(move |_| lr)
        .fit_checkpointed(
            &mut state,
            |st, _, tick| {
                let (mut sum, mut n) = (0.0, 0usize);
                for batch in train.batches(t.batch, Some(&mut st.rng), false)? {
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
            |st, p| checkpoints.save(&mut st.model, &st.opt, &[("shuffle", &st.rng)], p),
        )?;
    let model = state.model;
    // Held-out figures in the original units.
    let pred = fy.inverse(&predict(&model, &test.features)?)?;
    let r2 = r2_score(&pred, &test_y_raw)?;
    let mse_raw = mean_squared_error(&pred, &test_y_raw)?;
    let mae_raw = mean_absolute_error(&pred, &test_y_raw)?;
    println!("held-out: R² {r2:.4}, MSE {mse_raw:.1}, MAE {mae_raw:.1} (target units)");
    if let Some(p) = &cli.save {
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
        t.epochs,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

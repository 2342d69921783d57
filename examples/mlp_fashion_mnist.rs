//! Fashion-MNIST with a multi-layer perceptron 784 → 256 → 128 → 10 (ReLU), softmax output +
//! cross-entropy, Adam; test accuracy and confusion matrix. The data come from the Debian
//! package `dataset-fashion-mnist` (`/usr/share/datasets/fashion-mnist`) or `--data DIR`.
//!
//! `cargo run --release --example mlp_fashion_mnist -- [--epochs N] [--quick] [--plot FILE.svg] …` (`--help` lists every flag)

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;

use neurite::autograd::Graph;
use neurite::nn::data::{Dataset, MnistSplit};
use neurite::nn::metrics::{accuracy, predict_classes, ConfusionMatrix};
use neurite::nn::train::{Metrics, Trainer};
use neurite::nn::{
    cross_entropy, Adam, Linear, Module, Optimizer, Relu, Result as NnResult, Sequential,
};
use neurite::tensor::Rng;
use neurite_examples::{data, flags, Checkpoints, Defaults, TrainFlags};

const CLASS_NAMES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

const DEFAULTS: Defaults = Defaults {
    epochs: 15,
    quick_epochs: 2,
    batch: 128,
    lr: 1e-3,
    seed: 7,
};

/// mlp_fashion_mnist: an MLP 784-256-128-10 reads Fashion-MNIST (softmax output + cross-entropy)
#[derive(Parser)]
#[command(name = "mlp_fashion_mnist", allow_negative_numbers = true)]
struct Cli {
    /// the four Fashion-MNIST IDX .gz files [default: $NEURITE_FASHION_MNIST, else /usr/share/datasets/fashion-mnist]
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Units of the first hidden layer (the second has half)
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = flags::count(2, flags::MAX_WIDTH))]
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
    neurite_examples::main("mlp_fashion_mnist", || run(flags::parse(&DEFAULTS)));
}

fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let t = cli.train.resolve(&DEFAULTS)?;
    let dir = cli.data.clone().unwrap_or_else(data::fashion_mnist_dir);
    let start = Instant::now();
    // Pixels scaled to [0, 1]; each 1×28×28 image flattened to 784 inputs.
    let train = data::load_mnist_dir(&dir, MnistSplit::Train)?.reshape_features(&[784])?;
    let test = data::load_mnist_dir(&dir, MnistSplit::Test)?.reshape_features(&[784])?;
    let classes = train.classes().unwrap_or(10);
    println!(
        "Fashion-MNIST: {} train / {} test images of {} pixels, {classes} classes",
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
        .add(Linear::new(cli.hidden, cli.hidden / 2, &mut rng)?)
        .add(Relu)
        .add(Linear::new(cli.hidden / 2, classes, &mut rng)?); // logits; softmax is in the loss
    println!("model: {}", model.describe());
    let mut state = State {
        model,
        opt: Adam::new(t.lr)?,
        rng,
    };
    let checkpoints = Checkpoints::new("mlp_fashion_mnist", &t, &format!("hidden={}", cli.hidden))?;
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
            "mlp_fashion_mnist: MLP 784-256-128-10, softmax + cross-entropy",
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
    println!("test confusion matrix (rows: actual class, columns: predicted):\n{cm}");
    for (c, name) in CLASS_NAMES.iter().enumerate().take(classes) {
        println!(
            "  {c} {name:<12} recall {:.3}  precision {:.3}",
            cm.recall(c),
            cm.precision(c)
        );
    }
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

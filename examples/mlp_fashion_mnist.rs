//! Fashion-MNIST with a multi-layer perceptron 784 → 256 → 128 → 10 (ReLU), softmax output +
//! cross-entropy, Adam; test accuracy and confusion matrix. The data come from the Debian
//! package `dataset-fashion-mnist` (`/usr/share/datasets/fashion-mnist`) or `--data DIR`.
//!
//! `cargo run --release --example mlp_fashion_mnist -- [--data DIR] [--epochs N] [--plot FILE.svg] …`

use std::time::Instant;

use neurite::autograd::Graph;
use neurite::nn::data::{load_mnist, Dataset, MnistSplit};
use neurite::nn::metrics::{accuracy, predict_classes, ConfusionMatrix};
use neurite::nn::train::{Metrics, Trainer};
use neurite::nn::{
    cross_entropy, Adam, Linear, Module, NnError, Optimizer, Relu, Result as NnResult, Sequential,
};
use neurite::tensor::Rng;

const USAGE: &str =
    "mlp_multiclass: an MLP reads handwritten digits (softmax output + cross-entropy)

options:
  --data FILE      digits.csv[.gz] (64 pixel columns then the digit; default: the vendored copy)
  --epochs N       training epochs (default 40; 12 with --quick)
  --hidden N       hidden units (default 128)
  --lr X           Adam learning rate (default 0.001)
  --batch N        mini-batch size (default 32)
  --seed N         seed of the split, initialisation and shuffling (default 7)
  --plot FILE.svg  draw the loss/accuracy curves
  --csv FILE       write the per-epoch history
  --save FILE      save the trained parameters (safetensors)
  --quick          a short run (the tour)
  --help           this text";

const DEFAULT_DIR: &str = "/usr/share/datasets/fashion-mnist";

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

#[path = "common/mlp_flags.rs"]
mod mlp_flags;
use mlp_flags::Args;

fn parse(args: &[String]) -> Result<Option<Args>, String> {
    let defaults = Args {
        epochs: 15,
        hidden: 256,
        batch: 128,
        ..Args::with_data(DEFAULT_DIR)
    };
    mlp_flags::parse(args, USAGE, defaults, 2)
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
    let load = |split| {
        load_mnist::<f32>(&args.data, split).map_err(|e| match e {
            NnError::Io { path, .. } => format!(
                "Fashion-MNIST not found: {} is missing.\n\
                 Install it with `sudo apt-get install dataset-fashion-mnist` (files land in {DEFAULT_DIR}),\n\
                 or pass --data DIR with train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,\n\
                 t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz.",
                path.display()
            ),
            other => other.to_string(),
        })
    };
    // Pixels scaled to [0, 1]; each 1×28×28 image flattened to 784 inputs.
    let train = load(MnistSplit::Train)?.reshape_features(&[784])?;
    let test = load(MnistSplit::Test)?.reshape_features(&[784])?;
    let classes = train.classes().unwrap_or(10);
    println!(
        "Fashion-MNIST: {} train / {} test images of {} pixels, {classes} classes",
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
        .add(Linear::new(args.hidden, classes, &mut rng)?); // logits; softmax is in the loss
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
            "mlp_fashion_mnist: MLP 784-256-128-10, softmax + cross-entropy",
        )
        .learning_rate(move |_| lr)
        .fit(
            &mut state,
            |st, _, tick| {
                let (mut sum, mut right, mut n) = (0.0, 0usize, 0usize);
                for batch in train.batches(args.batch, Some(&mut st.rng), false)? {
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
    if let Some(p) = &args.save {
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
        args.epochs,
        start.elapsed().as_secs_f64()
    );
    Ok(final_test.metric)
}

#[allow(dead_code)]
fn main() {
    // Keep freed training buffers for reuse (see `neurite::tensor::memory`).
    neurite::tensor::keep_freed_memory();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&args) {
        eprintln!("mlp_fashion_mnist: {e}");
        std::process::exit(1);
    }
}

//! A Kim-style (2014) sentence classifier: word embedding → Conv1d with widths 3, 4 and 5 →
//! ReLU → global max pool over time → concatenation → dropout → linear, trained from random
//! embeddings with Adam; compared with a bag-of-words logistic regression trained on the same
//! split. Default data: `data/movie_snippets.tsv` (10,568 movie-review sentences, pos/neg);
//! `--data FILE` takes any `label<TAB>text` file (e.g. TREC questions, whose first column is the
//! coarse class). Held out: a seeded 10% split. The model is `neurite_examples::text::TextCnn`,
//! shared with `compare_cnn_rnn`.
//!
//! Run: `cargo run --release --example text_cnn -- [--epochs N] [--quick] [--data FILE] [--plot FILE.svg]`

use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;

use neurite::autograd::Graph;
use neurite::nn::metrics::predict_classes;
use neurite::nn::text::{self, LabelMap, PaddedBatch, Padding, TextExample, Vocabulary};
use neurite::nn::train::{Metrics, Trainer};
use neurite::nn::{cross_entropy, Adam, Linear, Module, Optimizer};
use neurite::tensor::{Float, Rng, Tensor};
use neurite_examples::text::{SentenceClassifier, TextCnn, TextCnnConfig};
use neurite_examples::{data, flags, Checkpoints, Defaults, TrainFlags};

const DEFAULTS: Defaults = Defaults {
    epochs: 3,
    quick_epochs: 3,
    batch: 50,
    lr: 1e-3,
    seed: 3,
};

/// text_cnn: Kim's sentence CNN against a bag-of-words baseline (--quick: 64 filters)
#[derive(Parser)]
#[command(name = "text_cnn", allow_negative_numbers = true)]
struct Cli {
    /// label<TAB>text file [default: data/movie_snippets.tsv]
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Bag-of-words baseline epochs
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = flags::count(1, flags::MAX_EPOCHS))]
    bow_epochs: usize,
    /// Embedding size
    #[arg(long, value_name = "N", default_value_t = 96, value_parser = flags::count(1, flags::MAX_WIDTH))]
    embed: usize,
    /// Filters per width 3/4/5 [default: 100; 64 with --quick]
    #[arg(long, value_name = "N", value_parser = flags::count(1, flags::MAX_WIDTH))]
    filters: Option<usize>,
    /// Dropout before the output layer
    #[arg(long, value_name = "P", default_value_t = 0.5, value_parser = flags::probability)]
    dropout: f64,
    /// Keep words seen at least N times in training
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    min_count: u64,
    /// Truncate sentences to N tokens
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = flags::count(5, 100_000))]
    max_len: usize,
    #[command(flatten)]
    train: TrainFlags,
}

fn main() {
    neurite_examples::main("text_cnn", || run(flags::parse(&DEFAULTS)));
}

const WIDTHS: [usize; 3] = [3, 4, 5];

/// Binary bag-of-words features [batch, vocab] of a padded batch (padding and `<unk>` excluded).
fn bag_of_words<T: Float>(b: &PaddedBatch, vocab: usize) -> Result<Tensor<T>, Box<dyn Error>> {
    let [n, len] = b.shape();
    let mut x = vec![T::ZERO; n * vocab];
    for (row, &l) in b.lengths.iter().enumerate() {
        for &id in &b.ids[row * len..row * len + l] {
            if id > text::UNK {
                x[row * vocab + id] = T::ONE;
            }
        }
    }
    Ok(Tensor::from_vec(x, &[n, vocab])?)
}

fn accuracy_of(predicted: &[usize], batches: &[PaddedBatch]) -> f64 {
    let labels = batches.iter().flat_map(|b| b.labels.iter());
    let correct = predicted.iter().zip(labels).filter(|(p, l)| p == l).count();
    correct as f64 / predicted.len().max(1) as f64
}

fn run(cli: Cli) -> Result<(), Box<dyn Error>> {
    let o = cli.train.resolve(&DEFAULTS)?;
    let path = cli
        .data
        .clone()
        .unwrap_or_else(|| data::vendored("movie_snippets.tsv"));
    let filters = cli.filters.unwrap_or(if o.quick { 64 } else { 100 });
    let t0 = Instant::now();
    let records = text::read_labelled(&path)?;
    let tokens: Vec<Vec<String>> = records.iter().map(|r| text::tokenize(&r.text)).collect();
    let labels = LabelMap::from_labels(records.iter().map(|r| r.label.as_str()));
    if labels.len() < 2 {
        return Err(format!(
            "{}: need at least 2 classes, found {:?}",
            path.display(),
            labels.names()
        )
        .into());
    }
    let (train_idx, test_idx) = text::split_indices(records.len(), 0.1, o.seed)?;
    // The vocabulary comes from the training part only: held-out words may be unknown.
    let vocab = Vocabulary::build(
        train_idx.iter().map(|&i| tokens[i].as_slice()),
        cli.min_count,
        None,
    )?;
    let examples: Vec<TextExample> = text::encode(&records, &tokens, &vocab, &labels)?;
    println!(
        "{}: {} sentences, classes {:?}; {} train / {} held out; vocabulary {} words (min count {})",
        path.display(),
        records.len(),
        labels.names(),
        train_idx.len(),
        test_idx.len(),
        vocab.len(),
        cli.min_count
    );
    let padding = Padding {
        min_len: *WIDTHS.iter().max().unwrap_or(&1),
        max_len: Some(cli.max_len),
    };
    let test_batches = text::batches(&examples, &test_idx, 200, padding)?;
    let mut shuffle = Rng::new(o.seed ^ 0x5eed);

    // ---- Baseline: logistic regression on binary bag-of-words features.
    let tb = Instant::now();
    let mut bow = Linear::<f32>::new(vocab.len(), labels.len(), &mut Rng::new(o.seed))?;
    let mut bow_opt = Adam::with_options(0.01, (0.9, 0.999), 1e-8, 0.0)?;
    for _ in 0..cli.bow_epochs {
        let mut order = train_idx.clone();
        shuffle.shuffle(&mut order);
        for b in text::batches(&examples, &order, o.batch, padding)? {
            let g = Graph::new();
            let logits = bow.forward(&g, g.constant(bag_of_words(&b, vocab.len())?))?;
            let grads = cross_entropy(logits, &b.labels)?.backward()?;
            bow_opt.step(&mut bow, &grads)?;
        }
    }
    let mut predicted = Vec::new();
    for b in &test_batches {
        let g = Graph::inference();
        let logits = bow.forward(&g, g.constant(bag_of_words(b, vocab.len())?))?;
        predicted.extend(predict_classes(&logits.value()?)?);
    }
    let bow_acc = accuracy_of(&predicted, &test_batches);
    println!(
        "bag-of-words logistic regression: held-out accuracy {:.2}% ({} epochs, {:.1} s)",
        100.0 * bow_acc,
        cli.bow_epochs,
        tb.elapsed().as_secs_f64()
    );

    // ---- Kim's CNN.
    let config = TextCnnConfig {
        embed: cli.embed,
        filters,
        widths: WIDTHS.to_vec(),
        dropout: cli.dropout,
    };
    let mut model = TextCnn::new(&config, vocab.len(), labels.len(), &mut Rng::new(o.seed))?;
    let mut opt = Adam::new(o.lr)?;
    println!(
        "CNN: embedding {} → Conv1d widths {:?} × {} filters → ReLU → global max pool → dropout {} → linear {}",
        cli.embed,
        WIDTHS,
        filters,
        cli.dropout,
        labels.len()
    );
    let settings = format!(
        "embed={} filters={filters} dropout={} min_count={} max_len={} bow_epochs={}",
        cli.embed, cli.dropout, cli.min_count, cli.max_len, cli.bow_epochs
    );
    let checkpoints = Checkpoints::new("text_cnn", &o, &settings)?;
    let progress = checkpoints.restore(
        &mut model,
        &mut opt,
        &mut [("shuffle", &mut shuffle)],
        o.epochs,
    )?;
    let mut state = (&mut model, &mut opt, &mut shuffle);
    let history = Trainer::new(o.epochs, train_idx.len().div_ceil(o.batch))
        .resume_from(&progress)
        .metric_name("accuracy")
        .plot(o.plot.clone(), "text_cnn: Kim's CNN, widths 3/4/5")
        .fit_checkpointed(
            &mut state,
            |(model, opt, shuffle), _, tick| {
                let mut order = train_idx.clone();
                shuffle.shuffle(&mut order);
                let (mut sum, mut n) = (0.0, 0usize);
                model.set_training(true);
                for b in text::batches(&examples, &order, o.batch, padding)? {
                    let g = Graph::new();
                    let loss = cross_entropy(model.logits(&g, &b)?, &b.labels)?;
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
                let (mut predicted, mut loss) = (Vec::new(), 0.0);
                for b in &test_batches {
                    let g = Graph::inference();
                    let logits = model.logits(&g, b)?;
                    loss +=
                        cross_entropy(logits, &b.labels)?.item()? as f64 * b.labels.len() as f64;
                    predicted.extend(predict_classes(&logits.value()?)?);
                }
                let acc = accuracy_of(&predicted, &test_batches);
                Ok(Some(Metrics::new(
                    loss / predicted.len().max(1) as f64,
                    Some(acc),
                )))
            },
            |(model, opt, shuffle), p| {
                checkpoints.save(&mut **model, &**opt, &[("shuffle", &**shuffle)], p)
            },
        )?;
    let last = history.last().ok_or("no epoch ran")?;
    let train_loss = last.train.loss;
    let cnn_acc = last.eval.and_then(|m| m.metric).unwrap_or(0.0);
    println!(
        "held-out accuracy: CNN {:.2}%, bag-of-words {:.2}%",
        100.0 * cnn_acc,
        100.0 * bow_acc
    );
    println!(
        "result: test_accuracy={cnn_acc:.4} bow_test_accuracy={bow_acc:.4} train_loss={train_loss:.4} epochs={} seconds={:.2}",
        o.epochs,
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

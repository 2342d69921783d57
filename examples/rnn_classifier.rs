//! Text classification with a recurrent network: a bidirectional GRU (or LSTM) reads each
//! sentence over word embeddings; the final states of both directions (each at the sentence's
//! own last word: variable-length batches, no padding read) feed a linear classifier (the model
//! is `neurite_examples::text::BiRnnClassifier`, shared with `compare_cnn_rnn`). Default
//! data: movie-review snippets labelled pos / neg (VADER's movie_snippets.tsv); `--data FILE`
//! takes any `label<TAB>text` file. Accuracy on a seeded 10% held-out split.
//!
//! `cargo run --release --example rnn_classifier -- [--cell gru|lstm] [--epochs N] [--data FILE] [--plot FILE.svg] …`

use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, ValueEnum};

use neurite::autograd::Graph;
use neurite::nn::text::{self, LabelMap, PaddedBatch, Padding, Vocabulary, UNK};
use neurite::nn::train::{Metrics, Trainer};
use neurite::nn::{clip_grad_norm, cross_entropy, Adam, Module, Optimizer};
use neurite::rnn::CellKind;
use neurite::tensor::Rng;
use neurite_examples::text::{bucketed, BiRnnClassifier, BiRnnConfig, SentenceClassifier};
use neurite_examples::{data, flags, Checkpoints, Defaults, TrainFlags};

/// The recurrent cell of `--cell`.
#[derive(Clone, Copy, ValueEnum)]
enum Cell {
    Gru,
    Lstm,
}

impl Cell {
    fn kind(self) -> CellKind {
        match self {
            Cell::Gru => CellKind::Gru,
            Cell::Lstm => CellKind::Lstm,
        }
    }
}

const DEFAULTS: Defaults = Defaults {
    epochs: 6,
    quick_epochs: 2,
    batch: 32,
    lr: 2e-3,
    seed: 5,
};

/// rnn_classifier: a bidirectional GRU/LSTM sentence classifier
#[derive(Parser)]
#[command(name = "rnn_classifier", allow_negative_numbers = true)]
struct Cli {
    /// label<TAB>text file [default: data/movie_snippets.tsv]
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// The recurrent cell
    #[arg(long, value_enum, default_value_t = Cell::Gru)]
    cell: Cell,
    /// Word embedding size
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = flags::count(1, flags::MAX_WIDTH))]
    embed: usize,
    /// Hidden units per direction
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = flags::count(1, flags::MAX_WIDTH))]
    hidden: usize,
    /// Dropout on embeddings and features
    #[arg(long, value_name = "P", default_value_t = 0.4, value_parser = flags::probability)]
    dropout: f64,
    /// Probability of replacing a training word by <unk>
    #[arg(long, value_name = "P", default_value_t = 0.1, value_parser = flags::probability)]
    word_dropout: f64,
    #[command(flatten)]
    train: TrainFlags,
}

fn main() {
    neurite_examples::main("rnn_classifier", || run(flags::parse(&DEFAULTS)));
}

/// Held-out loss and accuracy (no graph recorded).
fn evaluate(model: &BiRnnClassifier, batches: &[PaddedBatch]) -> neurite::nn::Result<Metrics> {
    let (mut loss, mut right, mut n) = (0.0, 0usize, 0usize);
    for b in batches {
        let g = Graph::inference();
        let logits = model.logits(&g, b)?;
        loss += cross_entropy(logits, &b.labels)?.item()? as f64 * b.labels.len() as f64;
        let pred = logits.value()?.argmax(1)?;
        right += pred.iter().zip(&b.labels).filter(|(p, l)| p == l).count();
        n += b.labels.len();
    }
    Ok(Metrics::new(loss / n as f64, Some(right as f64 / n as f64)))
}

fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let t = cli.train.resolve(&DEFAULTS)?;
    let path = cli
        .data
        .clone()
        .unwrap_or_else(|| data::vendored("movie_snippets.tsv"));
    let start = Instant::now();
    let records = text::read_labelled(&path)?;
    let tokens: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            let t = text::tokenize(&r.text);
            if t.is_empty() {
                vec!["<empty>".to_string()]
            } else {
                t
            }
        })
        .collect();
    let (train_idx, test_idx) = text::split_indices(records.len(), 0.1, t.seed)?;
    // The vocabulary sees the training part only: held-out words it lacks become <unk>.
    let vocab = Vocabulary::build(train_idx.iter().map(|&i| tokens[i].as_slice()), 1, None)?;
    let labels = LabelMap::from_labels(records.iter().map(|r| r.label.as_str()));
    let examples = text::encode(&records, &tokens, &vocab, &labels)?;
    println!(
        "{}: {} sentences ({} train / {} held out), {} classes {:?}, vocabulary {}",
        path.display(),
        records.len(),
        train_idx.len(),
        test_idx.len(),
        labels.len(),
        labels.names(),
        vocab.len()
    );
    let mut rng = Rng::new(t.seed);
    let config = BiRnnConfig {
        embed: cli.embed,
        hidden: cli.hidden,
        cell: cli.cell.kind(),
        dropout: cli.dropout,
        embedding_dropout: true,
    };
    let mut model = BiRnnClassifier::new(&config, vocab.len(), labels.len(), &mut rng)?;
    println!(
        "model: {} ({} parameters)",
        model.describe(),
        neurite::nn::num_params(&model)
    );
    let test_batches = text::batches(&examples, &test_idx, 256, Padding::default())?;
    let mut opt = Adam::new(t.lr)?;
    let lr = t.lr;
    let mut wd_rng = Rng::new(t.seed ^ 0x3d);
    let settings = format!(
        "cell={} embed={} hidden={} dropout={} word_dropout={}",
        config.cell.name(),
        cli.embed,
        cli.hidden,
        cli.dropout,
        cli.word_dropout
    );
    let checkpoints = Checkpoints::new("rnn_classifier", &t, &settings)?;
    let progress = checkpoints.restore(
        &mut model,
        &mut opt,
        &mut [("shuffle", &mut rng), ("word_dropout", &mut wd_rng)],
        t.epochs,
    )?;
    let mut state = (model, opt, rng, wd_rng);
    let history = Trainer::new(t.epochs, train_idx.len().div_ceil(t.batch))
        .resume_from(&progress)
        .metric_name("accuracy")
        .plot(
            t.plot.clone(),
            &format!("rnn_classifier: bidirectional {}", config.cell.name()),
        )
        .learning_rate(move |_| lr)
        .fit_checkpointed(
            &mut state,
            |(m, opt, rng, wd_rng), _, tick| {
                m.set_training(true);
                let (mut sum, mut right, mut n) = (0.0, 0usize, 0usize);
                for mut b in bucketed(&examples, &train_idx, t.batch, rng)? {
                    // Word dropout: the model learns to use <unk> like an unseen word.
                    for (row, &l) in b.lengths.iter().enumerate() {
                        for id in &mut b.ids[row * b.len..row * b.len + l] {
                            if wd_rng.bernoulli(cli.word_dropout) {
                                *id = UNK;
                            }
                        }
                    }
                    let g = Graph::new();
                    let logits = m.logits(&g, &b)?;
                    let loss = cross_entropy(logits, &b.labels)?;
                    let l = loss.item()? as f64;
                    let pred = logits.value()?.argmax(1)?;
                    right += pred.iter().zip(&b.labels).filter(|(p, l)| p == l).count();
                    let mut grads = loss.backward()?;
                    clip_grad_norm(&mut grads, 5.0)?;
                    opt.step(m, &grads)?;
                    sum += l * b.labels.len() as f64;
                    n += b.labels.len();
                    tick(l);
                }
                Ok(Metrics::new(sum / n as f64, Some(right as f64 / n as f64)))
            },
            |(m, _, _, _), _| {
                m.set_training(false);
                Ok(Some(evaluate(m, &test_batches)?))
            },
            |(m, opt, rng, wd_rng), p| {
                let rngs = [("shuffle", &*rng), ("word_dropout", &*wd_rng)];
                checkpoints.save(m, opt, &rngs, p)
            },
        )?;
    let last = history.last().ok_or("no epoch ran")?;
    let test_acc = last
        .eval
        .as_ref()
        .and_then(|m| m.metric)
        .unwrap_or(f64::NAN);
    let best = history
        .epochs
        .iter()
        .filter_map(|e| e.eval.as_ref().and_then(|m| m.metric))
        .fold(f64::NAN, f64::max);
    println!(
        "result: test_accuracy={:.4} best_test_accuracy={:.4} train_accuracy={:.4} cell={} epochs={} seconds={:.1}",
        test_acc,
        best,
        last.train.metric.unwrap_or(f64::NAN),
        config.cell.name().to_lowercase(),
        t.epochs,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

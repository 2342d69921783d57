//! Text classification with a recurrent network: a bidirectional GRU (or LSTM) reads each
//! sentence over word embeddings; the final states of both directions (each at the sentence's
//! own last word: variable-length batches, no padding read) feed a linear classifier. Default
//! data: movie-review snippets labelled pos / neg (VADER's movie_snippets.tsv); `--data FILE`
//! takes any `label<TAB>text` file. Accuracy on a seeded 10% held-out split.
//!
//! `cargo run --release --example rnn_classifier -- [--cell gru|lstm] [--epochs N] [--data FILE] …`

use std::path::{Path, PathBuf};
use std::time::Instant;

use neurite::autograd::{concat, Graph, Parameter, Var};
use neurite::nn::text::{self, LabelMap, PaddedBatch, Padding, TextExample, Vocabulary, UNK};
use neurite::nn::train::{Metrics, Trainer};
use neurite::nn::{
    clip_grad_norm, cross_entropy, join, Adam, Dropout, Embedding, Linear, Module, Optimizer,
};
use neurite::rnn::{CellKind, Recurrent, RecurrentConfig};
use neurite::tensor::Rng;

const USAGE: &str = "rnn_classifier: a bidirectional GRU/LSTM sentence classifier

options:
  --data FILE      label<TAB>text file (default: the vendored data/movie_snippets.tsv)
  --cell KIND      gru | lstm (default gru)
  --embed N        word embedding size (default 100)
  --hidden N       hidden units per direction (default 64)
  --epochs N       training epochs (default 6; 2 with --quick)
  --batch N        mini-batch size (default 32)
  --lr X           Adam learning rate (default 0.002)
  --dropout X      dropout on embeddings and features (default 0.4)
  --word-dropout X probability of replacing a training word by <unk> (default 0.1)
  --seed N         seed of the split, initialisation and shuffling (default 5)
  --plot FILE.svg  draw the loss / accuracy curves
  --quick          a short run
  --help           this text";

struct Args {
    data: PathBuf,
    kind: CellKind,
    embed: usize,
    hidden: usize,
    epochs: usize,
    batch: usize,
    lr: f64,
    dropout: f64,
    word_dropout: f64,
    seed: u64,
    plot: Option<PathBuf>,
}

fn default_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/movie_snippets.tsv")
}

fn parse(args: &[String]) -> Result<Option<Args>, String> {
    let mut quick = false;
    let mut epochs = None;
    let mut a = Args {
        data: default_data(),
        kind: CellKind::Gru,
        embed: 100,
        hidden: 64,
        epochs: 0,
        batch: 32,
        lr: 2e-3,
        dropout: 0.4,
        word_dropout: 0.1,
        seed: 5,
        plot: None,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value\n\n{USAGE}"))
        };
        let num = |v: String| -> Result<f64, String> {
            v.parse().map_err(|_| format!("{flag}: not a number: {v}"))
        };
        match flag.as_str() {
            "--help" | "-h" => return Ok(None),
            "--quick" => quick = true,
            "--data" => a.data = value()?.into(),
            "--cell" => {
                a.kind = match value()?.as_str() {
                    "gru" => CellKind::Gru,
                    "lstm" => CellKind::Lstm,
                    other => return Err(format!("--cell: expected gru or lstm, got {other}")),
                }
            }
            "--embed" => a.embed = num(value()?)? as usize,
            "--hidden" => a.hidden = num(value()?)? as usize,
            "--epochs" => epochs = Some(num(value()?)? as usize),
            "--batch" => a.batch = num(value()?)? as usize,
            "--lr" => a.lr = num(value()?)?,
            "--dropout" => a.dropout = num(value()?)?,
            "--word-dropout" => a.word_dropout = num(value()?)?,
            "--seed" => a.seed = num(value()?)? as u64,
            "--plot" => a.plot = Some(value()?.into()),
            other => return Err(format!("unknown option {other}\n\n{USAGE}")),
        }
    }
    a.epochs = epochs.unwrap_or(if quick { 2 } else { 6 });
    if !(0.0..1.0).contains(&a.word_dropout) {
        return Err(format!(
            "--word-dropout must be in [0, 1), got {}",
            a.word_dropout
        ));
    }
    Ok(Some(a))
}

/// Embedding → dropout → bidirectional recurrent layer → [h_forward | h_backward] → dropout → linear.
struct Classifier {
    embedding: Embedding<f32>,
    rnn: Recurrent<f32>,
    dropout: Dropout,
    head: Linear<f32>,
}

impl Classifier {
    /// Logits [B, classes] of a padded batch.
    fn logits<'g>(
        &self,
        g: &'g Graph<f32>,
        batch: &PaddedBatch,
    ) -> neurite::nn::Result<Var<'g, f32>> {
        let [b, len] = batch.shape();
        let x = self.embedding.lookup_shaped(g, &batch.ids, &[b, len])?; // [B, T, E]
        let x = self.dropout.forward(g, x)?;
        let out = self.rnn.forward_seq(g, x, Some(&batch.lengths), None)?;
        // h_n [2, B, H]: the forward direction's state after each sentence's last word and the
        // backward direction's after its first.
        let h = out.state.h;
        let hidden = self.rnn.config().hidden_size;
        let both =
            concat(&[h.narrow(0, 0, 1)?, h.narrow(0, 1, 1)?], 2)?.reshape(&[b, 2 * hidden])?;
        self.head.forward(g, self.dropout.forward(g, both)?)
    }
}

impl Module<f32> for Classifier {
    fn forward<'g>(
        &self,
        _g: &'g Graph<f32>,
        x: Var<'g, f32>,
    ) -> neurite::nn::Result<Var<'g, f32>> {
        Err(neurite::nn::NnError::BadInput {
            layer: "Classifier (use logits with a padded batch)".into(),
            expected: "a PaddedBatch".into(),
            got: x.shape(),
        })
    }
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Parameter<f32>)) {
        self.embedding.visit_params(&join(prefix, "embedding"), f);
        self.rnn.visit_params(&join(prefix, "rnn"), f);
        self.head.visit_params(&join(prefix, "head"), f);
    }
    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Parameter<f32>)) {
        self.embedding
            .visit_params_mut(&join(prefix, "embedding"), f);
        self.rnn.visit_params_mut(&join(prefix, "rnn"), f);
        self.head.visit_params_mut(&join(prefix, "head"), f);
    }
    fn set_training(&mut self, training: bool) {
        self.rnn.set_training(training);
        Module::<f32>::set_training(&mut self.dropout, training);
    }
    fn describe(&self) -> String {
        format!(
            "{} → {} → {}",
            self.embedding.describe(),
            self.rnn.describe(),
            self.head.describe()
        )
    }
}

/// Batches of similar lengths (less padding): shuffle, sort windows of 20 batches by length,
/// cut, shuffle the batches.
fn bucketed(
    examples: &[TextExample],
    idx: &[usize],
    batch: usize,
    rng: &mut Rng,
) -> neurite::nn::Result<Vec<PaddedBatch>> {
    let mut order = idx.to_vec();
    rng.shuffle(&mut order);
    for w in order.chunks_mut(batch * 20) {
        w.sort_by_key(|&i| examples[i].ids.len());
    }
    let mut out = text::batches(examples, &order, batch, Padding::default())?;
    rng.shuffle(&mut out);
    Ok(out)
}

/// Held-out loss and accuracy (no graph recorded).
fn evaluate(model: &Classifier, batches: &[PaddedBatch]) -> neurite::nn::Result<Metrics> {
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

pub fn run(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let Some(args) = parse(args)? else {
        println!("{USAGE}");
        return Ok(());
    };
    let start = Instant::now();
    let records = text::read_labelled(&args.data)?;
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
    let (train_idx, test_idx) = text::split_indices(records.len(), 0.1, args.seed)?;
    // The vocabulary sees the training part only: held-out words it lacks become <unk>.
    let vocab = Vocabulary::build(train_idx.iter().map(|&i| tokens[i].as_slice()), 1, None)?;
    let labels = LabelMap::from_labels(records.iter().map(|r| r.label.as_str()));
    let examples = text::encode(&records, &tokens, &vocab, &labels)?;
    println!(
        "{}: {} sentences ({} train / {} held out), {} classes {:?}, vocabulary {}",
        args.data.display(),
        records.len(),
        train_idx.len(),
        test_idx.len(),
        labels.len(),
        labels.names(),
        vocab.len()
    );
    let mut rng = Rng::new(args.seed);
    let config = RecurrentConfig {
        input_size: args.embed,
        hidden_size: args.hidden,
        bidirectional: true,
        batch_first: true,
        ..Default::default()
    };
    let mut model = Classifier {
        embedding: Embedding::new(vocab.len(), args.embed, &mut rng)?,
        rnn: Recurrent::new(args.kind, &config, &mut rng)?,
        dropout: Dropout::new(args.dropout, args.seed ^ 0xd0)?,
        head: Linear::new(2 * args.hidden, labels.len(), &mut rng)?,
    };
    println!(
        "model: {} ({} parameters)",
        model.describe(),
        neurite::nn::num_params(&model)
    );
    let test_batches = text::batches(&examples, &test_idx, 256, Padding::default())?;
    let mut opt = Adam::new(args.lr)?;
    let lr = args.lr;
    let mut wd_rng = Rng::new(args.seed ^ 0x3d);
    let history = Trainer::new(args.epochs, train_idx.len().div_ceil(args.batch))
        .metric_name("accuracy")
        .plot(
            args.plot.clone(),
            &format!("rnn_classifier: bidirectional {}", args.kind.name()),
        )
        .learning_rate(move |_| lr)
        .fit(
            &mut model,
            |m, _, tick| {
                m.set_training(true);
                let (mut sum, mut right, mut n) = (0.0, 0usize, 0usize);
                for mut b in bucketed(&examples, &train_idx, args.batch, &mut rng)? {
                    // Word dropout: the model learns to use <unk> like an unseen word.
                    for (row, &l) in b.lengths.iter().enumerate() {
                        for id in &mut b.ids[row * b.len..row * b.len + l] {
                            if wd_rng.bernoulli(args.word_dropout) {
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
            |m, _| {
                m.set_training(false);
                Ok(Some(evaluate(m, &test_batches)?))
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
        args.kind.name().to_lowercase(),
        args.epochs,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

#[allow(dead_code)]
fn main() {
    // Keep freed training buffers for reuse (see `neurite::tensor::memory`).
    neurite::tensor::keep_freed_memory();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&args) {
        eprintln!("rnn_classifier: {e}");
        std::process::exit(1);
    }
}

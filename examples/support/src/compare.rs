//! CNN vs RNN, measured: the text CNN and the bidirectional GRU/LSTM classifier of [`crate::text`]
//! trained on the same sentence-classification data with the same vocabulary, embedding size,
//! seed and split, each to its best development accuracy within the same epoch budget, and
//! measured — parameters, seconds per training epoch, inference sentences/s, held-out accuracy,
//! and accuracy on the short / medium / long thirds of the held-out set. The `compare_cnn_rnn`
//! example prints the table; `tests/families.rs` checks it.
//!
//! The split: a seeded 10% held-out (test) set, and 10% of the rest as a development set that
//! picks each model's best epoch; the table reports held-out accuracy at that epoch, so the
//! held-out figures are not chosen on the held-out set itself. The vocabulary is built from the
//! training part only (words seen at least `min_count` times).

use std::error::Error;
use std::path::Path;
use std::time::Instant;

use neurite::autograd::Graph;
use neurite::nn::text::{self, LabelMap, Padding, TextExample, Vocabulary};
use neurite::nn::{cross_entropy, num_params, Adam, Optimizer};
use neurite::rnn::CellKind;
use neurite::tensor::Rng;

use crate::text::{
    accuracy_of, predict, BiRnnClassifier, BiRnnConfig, SentenceClassifier, TextCnn, TextCnnConfig,
};

/// Settings shared by both models (the point of the comparison) and the run.
#[derive(Debug, Clone)]
pub struct CompareConfig {
    /// Embedding size E of both models.
    pub embed: usize,
    /// Filters per width of the text CNN.
    pub filters: usize,
    /// Filter widths of the text CNN.
    pub widths: Vec<usize>,
    /// Hidden size H of each direction of the RNN.
    pub hidden: usize,
    /// GRU or LSTM.
    pub cell: CellKind,
    /// Dropout before the output layer of both models.
    pub dropout: f64,
    /// Adam learning rate of both.
    pub lr: f64,
    /// Mini-batch size of both.
    pub batch: usize,
    /// The epoch budget of both.
    pub epochs: usize,
    /// Minimum count of a training word to enter the vocabulary.
    pub min_count: u64,
    /// Use only this many sentences (seeded choice) — for quick runs and tests.
    pub limit: Option<usize>,
    /// Seed of the split, the initialisations (the same for both) and the batch orders.
    pub seed: u64,
    /// Print per-epoch progress.
    pub log: bool,
    /// Each inference batch is timed this many times and the fastest kept.
    pub timing_repeats: usize,
    /// One-at-a-time latency over at most this many sentences of a third (None: all).
    pub latency_sample: Option<usize>,
}

impl Default for CompareConfig {
    fn default() -> Self {
        CompareConfig {
            embed: 64,
            filters: 64,
            widths: vec![3, 4, 5],
            hidden: 64,
            cell: CellKind::Gru,
            dropout: 0.5,
            lr: 0.001,
            batch: 50,
            epochs: 6,
            min_count: 2,
            limit: None,
            seed: 1,
            log: true,
            timing_repeats: 5,
            latency_sample: None,
        }
    }
}

impl CompareConfig {
    /// The text CNN's settings.
    pub fn cnn(&self) -> TextCnnConfig {
        TextCnnConfig {
            embed: self.embed,
            filters: self.filters,
            widths: self.widths.clone(),
            dropout: self.dropout,
        }
    }
    /// The recurrent classifier's settings.
    pub fn rnn(&self) -> BiRnnConfig {
        BiRnnConfig {
            embed: self.embed,
            hidden: self.hidden,
            cell: self.cell,
            dropout: self.dropout,
            embedding_dropout: false,
        }
    }
}

/// The encoded data and its split, shared by both models.
pub struct Prepared {
    /// Every example (labels and token ids).
    pub examples: Vec<TextExample>,
    /// Training indices.
    pub train: Vec<usize>,
    /// Development indices (choose the best epoch).
    pub dev: Vec<usize>,
    /// Held-out (test) indices.
    pub test: Vec<usize>,
    /// The vocabulary (from the training part).
    pub vocab: Vocabulary,
    /// The classes.
    pub labels: LabelMap,
}

/// Reads, tokenises, splits and encodes a `label<TAB>text` file.
pub fn prepare(path: &Path, c: &CompareConfig) -> Result<Prepared, Box<dyn Error>> {
    let mut records = text::read_labelled(path)?;
    if let Some(n) = c.limit {
        let mut idx: Vec<usize> = (0..records.len()).collect();
        Rng::new(c.seed ^ 0x11_3117).shuffle(&mut idx);
        idx.truncate(n);
        idx.sort_unstable();
        records = idx.into_iter().map(|i| records[i].clone()).collect();
    }
    let tokens: Vec<Vec<String>> = records.iter().map(|r| text::tokenize(&r.text)).collect();
    let (rest, test) = text::split_indices(records.len(), 0.1, c.seed)?;
    let (train_pos, dev_pos) = text::split_indices(rest.len(), 0.1, c.seed.wrapping_add(1))?;
    let train: Vec<usize> = train_pos.iter().map(|&i| rest[i]).collect();
    let dev: Vec<usize> = dev_pos.iter().map(|&i| rest[i]).collect();
    if train.is_empty() || dev.is_empty() || test.is_empty() {
        return Err(format!(
            "{}: {} sentences are too few to split into train, dev and held-out",
            path.display(),
            records.len()
        )
        .into());
    }
    let vocab = Vocabulary::build(
        train.iter().map(|&i| tokens[i].as_slice()),
        c.min_count,
        None,
    )?;
    let labels = LabelMap::from_labels(records.iter().map(|r| r.label.as_str()));
    if labels.len() < 2 {
        return Err(format!(
            "{}: need at least two classes, found {:?}",
            path.display(),
            labels.names()
        )
        .into());
    }
    let examples = text::encode(&records, &tokens, &vocab, &labels)?;
    Ok(Prepared {
        examples,
        train,
        dev,
        test,
        vocab,
        labels,
    })
}

/// One third of the held-out set by sentence length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Third {
    /// Its example indices, shortest first.
    pub indices: Vec<usize>,
    /// The fewest tokens of its sentences.
    pub min_tokens: usize,
    /// The most tokens of its sentences.
    pub max_tokens: usize,
}

/// The short / medium / long thirds of `indices` by token count: three index lists of sizes
/// differing by at most one (sorted by length, ties by position), each with its length range.
pub fn length_thirds(examples: &[TextExample], indices: &[usize]) -> [Third; 3] {
    let mut sorted = indices.to_vec();
    sorted.sort_by_key(|&i| (examples[i].ids.len(), i));
    let n = sorted.len();
    let cut = |k: usize| k * n / 3;
    std::array::from_fn(|t| {
        let part = sorted[cut(t)..cut(t + 1)].to_vec();
        let lo = part.first().map_or(0, |&i| examples[i].ids.len());
        let hi = part.last().map_or(0, |&i| examples[i].ids.len());
        Third {
            indices: part,
            min_tokens: lo,
            max_tokens: hi,
        }
    })
}

/// The measured figures of one model.
#[derive(Debug, Clone)]
pub struct Report {
    /// Model name.
    pub name: String,
    /// Trainable parameters in all.
    pub params: usize,
    /// Of which outside the embedding table.
    pub params_without_embedding: usize,
    /// Mean wall-clock seconds of a training epoch.
    pub seconds_per_epoch: f64,
    /// Held-out sentences classified per second (inference, no graph recorded).
    pub sentences_per_s: f64,
    /// The same on the short third of the held-out set.
    pub short_sentences_per_s: f64,
    /// The same on the long third.
    pub long_sentences_per_s: f64,
    /// Milliseconds per sentence, one at a time, on the short third.
    pub short_latency_ms: f64,
    /// The same on the long third.
    pub long_latency_ms: f64,
    /// The epoch (1-based) with the best development accuracy.
    pub best_epoch: usize,
    /// Development accuracy at that epoch.
    pub dev_accuracy: f64,
    /// Held-out accuracy at that epoch.
    pub accuracy: f64,
    /// Held-out accuracy on the short, medium and long thirds at that epoch.
    pub thirds: [f64; 3],
    /// Mean training loss of each epoch.
    pub loss_curve: Vec<f64>,
    /// Development accuracy after each epoch.
    pub dev_curve: Vec<f64>,
}

/// Trains `model` for the epoch budget and measures it.
pub fn train_and_measure(
    model: &mut dyn SentenceClassifier,
    data: &Prepared,
    c: &CompareConfig,
    thirds: &[Third; 3],
) -> Result<Report, Box<dyn Error>> {
    let min_len = c.widths.iter().copied().max().unwrap_or(1);
    let padding = Padding {
        min_len,
        max_len: None,
    };
    let mut opt = Adam::new(c.lr)?;
    let mut rng = Rng::new(c.seed ^ 0x0ba7_c4e5);
    let name = model.name();
    let (mut best_dev, mut best_epoch, mut best_test, mut best_thirds) = (-1.0, 0, 0.0, [0.0; 3]);
    let mut train_seconds = 0.0;
    let (mut loss_curve, mut dev_curve) = (Vec::new(), Vec::new());
    for epoch in 1..=c.epochs {
        model.set_training(true);
        let mut order = data.train.clone();
        rng.shuffle(&mut order);
        let t0 = Instant::now();
        let (mut sum, mut n) = (0.0, 0);
        for chunk in order.chunks(c.batch) {
            let batch = text::pad_batch(&data.examples, chunk, padding)?;
            let graph = Graph::new();
            let loss = cross_entropy(model.logits(&graph, &batch)?, &batch.labels)?;
            let v = loss.item()?;
            if !v.is_finite() {
                return Err(format!("{name}: the loss became {v} in epoch {epoch}").into());
            }
            sum += f64::from(v);
            n += 1;
            let grads = loss.backward()?;
            opt.step(model, &grads)?;
        }
        let secs = t0.elapsed().as_secs_f64();
        train_seconds += secs;
        model.set_training(false);
        let dev = accuracy_of(
            &predict(model, &data.examples, &data.dev, min_len, 256)?,
            &data.examples,
            &data.dev,
        );
        let test_pred = predict(model, &data.examples, &data.test, min_len, 256)?;
        let test = accuracy_of(&test_pred, &data.examples, &data.test);
        loss_curve.push(sum / n.max(1) as f64);
        dev_curve.push(dev);
        if dev > best_dev {
            best_dev = dev;
            best_epoch = epoch;
            best_test = test;
            for (t, third) in thirds.iter().enumerate() {
                let part = &third.indices;
                let pred = part
                    .iter()
                    .map(|i| {
                        data.test
                            .binary_search(i)
                            .map(|p| test_pred[p])
                            .map_err(|_| format!("example {i} of a third is not held out"))
                    })
                    .collect::<Result<Vec<usize>, _>>()?;
                best_thirds[t] = accuracy_of(&pred, &data.examples, part);
            }
        }
        if c.log {
            println!("{name:>9} epoch {epoch:>2}: loss {:.4}  dev {dev:.4}  held-out {test:.4}  {secs:.2}s", sum / n.max(1) as f64);
        }
    }
    // Inference timing on a shared machine: every batch is timed `timing_repeats` times and its
    // fastest time kept (a pre-empted run is only ever slower), then the fastest times are summed.
    let repeats = c.timing_repeats.max(1);
    let fastest = |indices: &[usize], batch: usize| -> Result<f64, Box<dyn Error>> {
        let mut total = 0.0;
        for chunk in indices.chunks(batch) {
            let mut best = f64::INFINITY;
            for _ in 0..repeats {
                let t0 = Instant::now();
                predict(&*model, &data.examples, chunk, min_len, batch)?;
                best = best.min(t0.elapsed().as_secs_f64());
            }
            total += best;
        }
        Ok(total)
    };
    // Throughput in batches of 256: the whole held-out set and its short and long thirds.
    let rate = |indices: &[usize]| -> Result<f64, Box<dyn Error>> {
        Ok(indices.len() as f64 / fastest(indices, 256)?)
    };
    let best_rate = rate(&data.test)?;
    let short_rate = rate(&thirds[0].indices)?;
    let long_rate = rate(&thirds[2].indices)?;
    // Latency: one sentence at a time (no batch to spread the work over), mean milliseconds per
    // sentence over the short and the long third (or their first `latency_sample` sentences).
    let latency = |indices: &[usize]| -> Result<f64, Box<dyn Error>> {
        let some = &indices[..c.latency_sample.unwrap_or(indices.len()).min(indices.len())];
        Ok(1e3 * fastest(some, 1)? / some.len().max(1) as f64)
    };
    let short_ms = latency(&thirds[0].indices)?;
    let long_ms = latency(&thirds[2].indices)?;
    Ok(Report {
        name,
        params: num_params(model),
        params_without_embedding: model.params_without_embedding(),
        seconds_per_epoch: train_seconds / c.epochs.max(1) as f64,
        sentences_per_s: best_rate,
        short_sentences_per_s: short_rate,
        long_sentences_per_s: long_rate,
        short_latency_ms: short_ms,
        long_latency_ms: long_ms,
        best_epoch,
        dev_accuracy: best_dev,
        accuracy: best_test,
        thirds: best_thirds,
        loss_curve,
        dev_curve,
    })
}

/// A finished comparison.
pub struct Comparison {
    /// The data and its split.
    pub data: Prepared,
    /// The held-out set by sentence length.
    pub thirds: [Third; 3],
    /// The text CNN's figures, then the RNN's.
    pub reports: Vec<Report>,
}

/// Prepares the data and measures both models on it.
pub fn compare(path: &Path, c: &CompareConfig) -> Result<Comparison, Box<dyn Error>> {
    let data = prepare(path, c)?;
    let thirds = length_thirds(&data.examples, &data.test);
    let classes = data.labels.len();
    let mut reports = Vec::new();
    let mut cnn = TextCnn::new(&c.cnn(), data.vocab.len(), classes, &mut Rng::new(c.seed))?;
    reports.push(train_and_measure(&mut cnn, &data, c, &thirds)?);
    let mut rnn = BiRnnClassifier::new(&c.rnn(), data.vocab.len(), classes, &mut Rng::new(c.seed))?;
    reports.push(train_and_measure(&mut rnn, &data, c, &thirds)?);
    Ok(Comparison {
        data,
        thirds,
        reports,
    })
}

/// The comparison as a Markdown table.
pub fn table(reports: &[Report], thirds: &[Third; 3]) -> String {
    let mut s = format!(
        "| model | parameters (outside embedding) | s / training epoch | inference sentences/s, batches of 256 (all / short / long) | ms per sentence, one at a time (short / long) | best epoch | held-out accuracy | short ({}–{} tokens) | medium ({}–{}) | long ({}–{}) |\n",
        thirds[0].min_tokens,
        thirds[0].max_tokens,
        thirds[1].min_tokens,
        thirds[1].max_tokens,
        thirds[2].min_tokens,
        thirds[2].max_tokens
    );
    s += "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
    for r in reports {
        s += &format!(
            "| {} | {} ({}) | {:.2} | {:.0} / {:.0} / {:.0} | {:.3} / {:.3} | {} | {:.4} | {:.4} | {:.4} | {:.4} |\n",
            r.name,
            r.params,
            r.params_without_embedding,
            r.seconds_per_epoch,
            r.sentences_per_s,
            r.short_sentences_per_s,
            r.long_sentences_per_s,
            r.short_latency_ms,
            r.long_latency_ms,
            r.best_epoch,
            r.accuracy,
            r.thirds[0],
            r.thirds[1],
            r.thirds[2]
        );
    }
    s
}

//! CNN vs RNN, measured: a text CNN and a bidirectional GRU/LSTM classifier trained on the same
//! sentence-classification data with the same vocabulary, embedding size, seed and split, each
//! to its best held-out accuracy within the same epoch budget, compared in one table —
//! parameters, seconds per training epoch, inference sentences/s, held-out accuracy, and
//! accuracy on the short / medium / long thirds of the held-out set.
//!
//! ```text
//! text CNN:  ids [B, L] → embedding [B, L, E] → [B, E, L] → Conv1d width 3, 4, 5 (F filters each)
//!            → ReLU → max over time [B, F] ×3 → concat [B, 3F] → dropout → linear → [B, classes]
//! BiRNN:     ids [B, L] → embedding [B, L, E] → bidirectional GRU/LSTM (hidden H, true lengths)
//!            → final states of both directions [B, 2H] → dropout → linear → [B, classes]
//! ```
//!
//! The split: a seeded 10% held-out (test) set, and 10% of the rest as a development set that
//! picks each model's best epoch; the table reports held-out accuracy at that epoch, so the
//! held-out figures are not chosen on the held-out set itself. The vocabulary is built from the
//! training part only (words seen at least `--min-count` times).
//!
//! Data: `data/movie_snippets.tsv` when vendored, else `../shared/data/vader_sentiment/movie_snippets.tsv`
//! (10,568 movie-review sentences, pos/neg); `--data FILE` for any `label<TAB>text` file.
//!
//! Run: `cargo run --release --example compare_cnn_rnn -- [--rnn gru|lstm] [--epochs N]`

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

use neurite::autograd::{concat, Graph, Parameter, Var};
use neurite::cnn::{Conv1d, ConvConfig, GlobalMaxPool};
use neurite::nn::text::{self, LabelMap, PaddedBatch, Padding, TextExample, Vocabulary};
use neurite::nn::{
    cross_entropy, join, num_params, Adam, Dropout, Embedding, Linear, Module, Optimizer,
};
use neurite::rnn::{CellKind, Recurrent, RecurrentConfig};
use neurite::tensor::{Rng, Tensor};

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

/// A sentence classifier on padded batches of token ids.
pub trait SentenceClassifier: Module<f32> {
    /// Class scores [B, classes] of a padded batch.
    fn logits<'g>(
        &self,
        graph: &'g Graph<f32>,
        batch: &PaddedBatch,
    ) -> Result<Var<'g, f32>, Box<dyn Error>>;
    /// Parameters outside the embedding table.
    fn params_without_embedding(&self) -> usize;
    /// A short name for the table.
    fn name(&self) -> String;
}

/// Kim (2014)'s text CNN: parallel filters of several widths over the embedded sentence, max
/// over time, a linear layer.
pub struct TextCnn {
    embed: Embedding<f32>,
    convs: Vec<Conv1d<f32>>,
    dropout: Dropout,
    out: Linear<f32>,
}

impl TextCnn {
    /// A seeded model for `vocab` words and `classes` classes.
    pub fn new(
        c: &CompareConfig,
        vocab: usize,
        classes: usize,
        rng: &mut Rng,
    ) -> Result<Self, Box<dyn Error>> {
        let embed = embedding_table(vocab, c.embed, rng)?;
        let convs = c
            .widths
            .iter()
            .map(|&w| Conv1d::new(ConvConfig::new(c.embed, c.filters, [w]), rng))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TextCnn {
            embed,
            convs,
            dropout: Dropout::new(c.dropout, rng.next_u64())?,
            out: Linear::new(c.filters * c.widths.len(), classes, rng)?,
        })
    }
}

impl SentenceClassifier for TextCnn {
    fn logits<'g>(
        &self,
        graph: &'g Graph<f32>,
        batch: &PaddedBatch,
    ) -> Result<Var<'g, f32>, Box<dyn Error>> {
        let [b, l] = batch.shape();
        let x = self.embed.lookup_shaped(graph, &batch.ids, &[b, l])?; // [B, L, E]
        let x = x.transpose(1, 2)?; // [B, E, L]: embedding features are the channels
        let mut pooled = Vec::with_capacity(self.convs.len());
        for conv in &self.convs {
            let y = conv.forward(graph, x)?.relu()?; // [B, F, L − w + 1]
            pooled.push(GlobalMaxPool.try_forward(y)?); // [B, F]
        }
        let h = concat(&pooled, 1)?; // [B, F·widths]
        Ok(self.out.forward(graph, self.dropout.forward(graph, h)?)?)
    }
    fn params_without_embedding(&self) -> usize {
        num_params(self) - self.embed.weight.len()
    }
    fn name(&self) -> String {
        "text CNN".into()
    }
}

impl Module<f32> for TextCnn {
    /// Token ids as values [B, L] (`PaddedBatch::ids_tensor`) → scores [B, classes].
    fn forward<'g>(
        &self,
        graph: &'g Graph<f32>,
        x: Var<'g, f32>,
    ) -> neurite::nn::Result<Var<'g, f32>> {
        let batch = batch_from_ids(&x.value()?)?;
        self.logits(graph, &batch)
            .map_err(|e| neurite::nn::NnError::config("TextCnn", e.to_string()))
    }
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Parameter<f32>)) {
        self.embed.visit_params(&join(prefix, "embed"), f);
        for (i, c) in self.convs.iter().enumerate() {
            c.visit_params(&join(prefix, &format!("conv{i}")), f);
        }
        self.out.visit_params(&join(prefix, "out"), f);
    }
    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Parameter<f32>)) {
        self.embed.visit_params_mut(&join(prefix, "embed"), f);
        for (i, c) in self.convs.iter_mut().enumerate() {
            c.visit_params_mut(&join(prefix, &format!("conv{i}")), f);
        }
        self.out.visit_params_mut(&join(prefix, "out"), f);
    }
    fn set_training(&mut self, training: bool) {
        Module::<f32>::set_training(&mut self.dropout, training);
    }
}

/// A bidirectional GRU/LSTM classifier: the final states of both directions, a linear layer.
pub struct BiRnnClassifier {
    embed: Embedding<f32>,
    rnn: Recurrent<f32>,
    dropout: Dropout,
    out: Linear<f32>,
}

impl BiRnnClassifier {
    /// A seeded model for `vocab` words and `classes` classes.
    pub fn new(
        c: &CompareConfig,
        vocab: usize,
        classes: usize,
        rng: &mut Rng,
    ) -> Result<Self, Box<dyn Error>> {
        let embed = embedding_table(vocab, c.embed, rng)?;
        let rnn = Recurrent::new(
            c.cell,
            &RecurrentConfig {
                input_size: c.embed,
                hidden_size: c.hidden,
                bidirectional: true,
                batch_first: true,
                ..Default::default()
            },
            rng,
        )?;
        Ok(BiRnnClassifier {
            embed,
            rnn,
            dropout: Dropout::new(c.dropout, rng.next_u64())?,
            out: Linear::new(2 * c.hidden, classes, rng)?,
        })
    }
}

impl SentenceClassifier for BiRnnClassifier {
    fn logits<'g>(
        &self,
        graph: &'g Graph<f32>,
        batch: &PaddedBatch,
    ) -> Result<Var<'g, f32>, Box<dyn Error>> {
        let [b, l] = batch.shape();
        let x = self.embed.lookup_shaped(graph, &batch.ids, &[b, l])?; // [B, L, E]
        let out = self.rnn.forward_seq(graph, x, Some(&batch.lengths), None)?;
        let h = out
            .state
            .h
            .transpose(0, 1)?
            .reshape(&[b, 2 * self.rnn.config().hidden_size])?; // [2, B, H] → [B, 2H]
        Ok(self.out.forward(graph, self.dropout.forward(graph, h)?)?)
    }
    fn params_without_embedding(&self) -> usize {
        num_params(self) - self.embed.weight.len()
    }
    fn name(&self) -> String {
        format!("bi-{}", cell_name(self.rnn.kind()))
    }
}

impl Module<f32> for BiRnnClassifier {
    /// Token ids as values [B, L] (`PaddedBatch::ids_tensor`; trailing `<pad>` ids mark the
    /// lengths) → scores [B, classes].
    fn forward<'g>(
        &self,
        graph: &'g Graph<f32>,
        x: Var<'g, f32>,
    ) -> neurite::nn::Result<Var<'g, f32>> {
        let batch = batch_from_ids(&x.value()?)?;
        self.logits(graph, &batch)
            .map_err(|e| neurite::nn::NnError::config("BiRnnClassifier", e.to_string()))
    }
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Parameter<f32>)) {
        self.embed.visit_params(&join(prefix, "embed"), f);
        self.rnn.visit_params(&join(prefix, "rnn"), f);
        self.out.visit_params(&join(prefix, "out"), f);
    }
    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Parameter<f32>)) {
        self.embed.visit_params_mut(&join(prefix, "embed"), f);
        self.rnn.visit_params_mut(&join(prefix, "rnn"), f);
        self.out.visit_params_mut(&join(prefix, "out"), f);
    }
    fn set_training(&mut self, training: bool) {
        self.rnn.set_training(training);
        Module::<f32>::set_training(&mut self.dropout, training);
    }
}

/// The embedding table both models start from (drawn first from the same seed, so it is the
/// same table): Kim (2014)'s U[−0.25, 0.25] word vectors, the `<pad>` row zero so padding adds
/// nothing to a convolution window. Weight [vocab, E].
fn embedding_table(
    vocab: usize,
    dim: usize,
    rng: &mut Rng,
) -> Result<Embedding<f32>, Box<dyn Error>> {
    let mut w = Tensor::<f32>::rand_uniform(&[vocab, dim], -0.25, 0.25, rng).to_vec();
    w[text::PAD * dim..(text::PAD + 1) * dim].fill(0.0);
    Ok(Embedding::from_weight(Tensor::from_vec(w, &[vocab, dim])?)?)
}

/// A padded batch from ids given as values [B, L]: each length runs to the last non-`<pad>` id
/// (at least 1); labels are unknown (0).
fn batch_from_ids(ids: &Tensor<f32>) -> neurite::nn::Result<PaddedBatch> {
    let shape = ids.shape();
    if shape.len() != 2 || shape[0] == 0 || shape[1] == 0 {
        return Err(neurite::nn::NnError::BadInput {
            layer: "sentence classifier".into(),
            expected: "token ids [batch ≥ 1, len ≥ 1]".into(),
            got: shape.to_vec(),
        });
    }
    let (b, len) = (shape[0], shape[1]);
    let ids: Vec<usize> = ids
        .to_vec()
        .iter()
        .map(|&v| v.max(0.0).round() as usize)
        .collect();
    let lengths = ids
        .chunks(len)
        .map(|row| {
            row.iter()
                .rposition(|&t| t != text::PAD)
                .map_or(1, |p| p + 1)
        })
        .collect();
    Ok(PaddedBatch {
        ids,
        lengths,
        labels: vec![0; b],
        len,
    })
}

fn cell_name(cell: CellKind) -> &'static str {
    match cell {
        CellKind::Lstm => "lstm",
        CellKind::Gru => "gru",
        CellKind::Rnn(_) => "rnn",
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

/// Predicted classes of `indices`, in order, in batches of 256 without a graph.
pub fn predict(
    model: &dyn SentenceClassifier,
    examples: &[TextExample],
    indices: &[usize],
    min_len: usize,
) -> Result<Vec<usize>, Box<dyn Error>> {
    predict_batched(model, examples, indices, min_len, 256)
}

/// [`predict`] in batches of `batch` sentences.
pub fn predict_batched(
    model: &dyn SentenceClassifier,
    examples: &[TextExample],
    indices: &[usize],
    min_len: usize,
    batch: usize,
) -> Result<Vec<usize>, Box<dyn Error>> {
    let mut out = Vec::with_capacity(indices.len());
    let padding = Padding {
        min_len,
        max_len: None,
    };
    for chunk in indices.chunks(batch.max(1)) {
        let batch = text::pad_batch(examples, chunk, padding)?;
        let graph = Graph::inference();
        let scores = model.logits(&graph, &batch)?.value()?;
        out.extend(neurite::nn::metrics::predict_classes(&scores)?);
    }
    Ok(out)
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
}

fn accuracy_of(pred: &[usize], examples: &[TextExample], indices: &[usize]) -> f64 {
    let ok = pred
        .iter()
        .zip(indices)
        .filter(|(p, &i)| **p == examples[i].label)
        .count();
    ok as f64 / indices.len().max(1) as f64
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
            &predict(model, &data.examples, &data.dev, min_len)?,
            &data.examples,
            &data.dev,
        );
        let test_pred = predict(model, &data.examples, &data.test, min_len)?;
        let test = accuracy_of(&test_pred, &data.examples, &data.test);
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
                predict_batched(&*model, &data.examples, chunk, min_len, batch)?;
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
    let mut cnn = TextCnn::new(c, data.vocab.len(), classes, &mut Rng::new(c.seed))?;
    reports.push(train_and_measure(&mut cnn, &data, c, &thirds)?);
    let mut rnn = BiRnnClassifier::new(c, data.vocab.len(), classes, &mut Rng::new(c.seed))?;
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

/// The default data file: the vendored movie-review snippets.
pub fn default_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/movie_snippets.tsv")
}

fn usage() -> String {
    let d = CompareConfig::default();
    format!(
        "usage: compare_cnn_rnn [options]
  --data FILE      label<TAB>text file (default {})
  --rnn KIND       gru | lstm: the recurrent classifier (default gru)
  --epochs N       epoch budget of each model (default {})
  --embed E        embedding size of both (default {})
  --filters F      text-CNN filters per width 3, 4, 5 (default {})
  --hidden H       RNN hidden size per direction (default {})
  --dropout P      dropout before the output layer (default {})
  --lr A           Adam learning rate (default {})
  --batch B        mini-batch size (default {})
  --min-count N    minimum count of a vocabulary word (default {})
  --limit N        use N sentences only (seeded choice)
  --seed S         seed (default {})
  --quick          short run for the tour: 2 epochs (344 steps per model), lighter timing
                   (fastest of 2 instead of 5; latency over 100 sentences per third)
  -h, --help       this message",
        default_data().display(),
        d.epochs,
        d.embed,
        d.filters,
        d.hidden,
        d.dropout,
        d.lr,
        d.batch,
        d.min_count,
        d.seed
    )
}

/// Runs the example with command-line style arguments.
pub fn run(args: &[String]) -> Result<(), Box<dyn Error>> {
    let mut c = CompareConfig::default();
    let mut path = None;
    let mut it = args.iter();
    fn val<'a>(v: Option<&'a String>, flag: &str) -> Result<&'a str, Box<dyn Error>> {
        Ok(v.ok_or(format!("{flag} needs a value (try --help)"))?
            .as_str())
    }
    fn num<N: std::str::FromStr>(v: Option<&String>, flag: &str) -> Result<N, Box<dyn Error>>
    where
        N::Err: std::fmt::Display,
    {
        val(v, flag)?
            .parse()
            .map_err(|e| format!("{flag}: {e}").into())
    }
    while let Some(a) = it.next() {
        match a.as_str() {
            "--data" => path = Some(PathBuf::from(val(it.next(), a)?)),
            "--rnn" => {
                c.cell = match val(it.next(), a)? {
                    "gru" => CellKind::Gru,
                    "lstm" => CellKind::Lstm,
                    other => return Err(format!("--rnn takes gru or lstm, got {other:?}").into()),
                }
            }
            "--epochs" => c.epochs = num(it.next(), a)?,
            "--embed" => c.embed = num(it.next(), a)?,
            "--filters" => c.filters = num(it.next(), a)?,
            "--hidden" => c.hidden = num(it.next(), a)?,
            "--dropout" => c.dropout = num(it.next(), a)?,
            "--lr" => c.lr = num(it.next(), a)?,
            "--batch" => c.batch = num(it.next(), a)?,
            "--min-count" => c.min_count = num(it.next(), a)?,
            "--limit" => c.limit = Some(num(it.next(), a)?),
            "--seed" => c.seed = num(it.next(), a)?,
            "--quick" => {
                c.epochs = 2;
                c.timing_repeats = 2;
                c.latency_sample = Some(100);
            }
            "-h" | "--help" => {
                println!("{}", usage());
                return Ok(());
            }
            other => return Err(format!("unknown option {other} (try --help)").into()),
        }
    }
    if c.epochs == 0 || c.embed == 0 || c.filters == 0 || c.hidden == 0 || c.batch == 0 {
        return Err("--epochs, --embed, --filters, --hidden and --batch must be ≥ 1".into());
    }
    let path = path.unwrap_or_else(default_data);
    if !path.is_file() {
        return Err(format!(
            "data file {} not found (pass --data FILE with label<TAB>text lines)",
            path.display()
        )
        .into());
    }
    let t0 = Instant::now();
    let Comparison {
        data,
        thirds,
        reports,
    } = compare(&path, &c)?;
    println!();
    println!(
        "{}: {} sentences ({} train, {} dev, {} held-out), {} classes, vocabulary {} words; embedding {}, seed {}, {} epochs each, {} cores",
        path.display(),
        data.examples.len(),
        data.train.len(),
        data.dev.len(),
        data.test.len(),
        data.labels.len(),
        data.vocab.len(),
        c.embed,
        c.seed,
        c.epochs,
        available_cores()
    );
    println!();
    print!("{}", table(&reports, &thirds));
    let (cnn, rnn) = (&reports[0], &reports[1]);
    println!();
    println!(
        "result: cnn_accuracy={:.4} rnn_accuracy={:.4} cnn_epoch_s={:.2} rnn_epoch_s={:.2} cnn_sentences_per_s={:.0} rnn_sentences_per_s={:.0} rnn={} epochs={} seconds={:.1}",
        cnn.accuracy,
        rnn.accuracy,
        cnn.seconds_per_epoch,
        rnn.seconds_per_epoch,
        cnn.sentences_per_s,
        rnn.sentences_per_s,
        cell_name(c.cell),
        c.epochs,
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Cores this process may use (neurite's parallel kernels split work over them).
fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[allow(dead_code)]
fn main() {
    // Keep freed training buffers for reuse (see `neurite::tensor::memory`).
    neurite::tensor::keep_freed_memory();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&args) {
        eprintln!("compare_cnn_rnn: {e}");
        std::process::exit(1);
    }
}

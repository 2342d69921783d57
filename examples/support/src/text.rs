//! The two sentence classifiers of the text examples (`text_cnn`, `rnn_classifier`,
//! `compare_cnn_rnn`), defined once:
//!
//! ```text
//! TextCnn:  ids [B, L] → embedding [B, L, E] → [B, E, L] → Conv1d widths 3, 4, 5 (F filters each)
//!           → ReLU → max over time [B, F] ×3 → concat [B, 3F] → dropout → linear → [B, classes]
//! BiRnn:    ids [B, L] → embedding [B, L, E] → (dropout) → bidirectional GRU/LSTM (hidden H,
//!           true lengths) → final states of both directions [B, 2H] → dropout → linear
//! ```

use neurite::autograd::{concat, Graph, Var};
use neurite::cnn::{Conv1d, ConvConfig, GlobalMaxPool};
use neurite::nn::text::{self, PaddedBatch, Padding, TextExample};
use neurite::nn::{num_params, Dropout, Embedding, Linear, Module, NnError, Result};
use neurite::rnn::{CellKind, Recurrent, RecurrentConfig};
use neurite::tensor::{Rng, Tensor};

/// A sentence classifier on padded batches of token ids.
pub trait SentenceClassifier: Module<f32> {
    /// Class scores [B, classes] of a padded batch.
    fn logits<'g>(&self, graph: &'g Graph<f32>, batch: &PaddedBatch) -> Result<Var<'g, f32>>;
    /// Parameters outside the embedding table.
    fn params_without_embedding(&self) -> usize;
    /// A short name for tables ("text CNN", "bi-gru").
    fn name(&self) -> String;
}

/// Settings of a [`TextCnn`].
#[derive(Debug, Clone)]
pub struct TextCnnConfig {
    /// Embedding size E.
    pub embed: usize,
    /// Filters F per width.
    pub filters: usize,
    /// Filter widths (Kim: 3, 4, 5).
    pub widths: Vec<usize>,
    /// Dropout before the output layer.
    pub dropout: f64,
}

/// Kim (2014)'s text CNN: parallel filters of several widths over the embedded sentence, max
/// over time, a linear layer.
pub struct TextCnn {
    embedding: Embedding<f32>,
    convs: Vec<Conv1d<f32>>,
    widths: Vec<usize>,
    dropout: Dropout,
    output: Linear<f32>,
}

impl TextCnn {
    /// A seeded model for `vocab` words and `classes` classes; the embedding table is drawn
    /// first (see [`embedding_table`]).
    pub fn new(c: &TextCnnConfig, vocab: usize, classes: usize, rng: &mut Rng) -> Result<Self> {
        let embedding = embedding_table(vocab, c.embed, rng)?;
        let convs = c
            .widths
            .iter()
            .map(|&w| Conv1d::new(ConvConfig::new(c.embed, c.filters, [w]), rng))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(TextCnn {
            embedding,
            convs,
            widths: c.widths.clone(),
            dropout: Dropout::new(c.dropout, rng.next_u64())?,
            output: Linear::new(c.filters * c.widths.len(), classes, rng)?,
        })
    }

    /// The name of `convs[i]`'s parameters: `conv3` for width 3.
    fn conv_name(&self, i: usize) -> String {
        format!("conv{}", self.widths[i])
    }

    /// The widest filter: the shortest sentence the model can read (pad to it).
    pub fn min_len(&self) -> usize {
        self.widths.iter().copied().max().unwrap_or(1)
    }
}

impl SentenceClassifier for TextCnn {
    fn logits<'g>(&self, graph: &'g Graph<f32>, batch: &PaddedBatch) -> Result<Var<'g, f32>> {
        let [b, l] = batch.shape();
        let x = self.embedding.lookup_shaped(graph, &batch.ids, &[b, l])?; // [B, L, E]
        let x = x.transpose(1, 2)?; // [B, E, L]: embedding features are the channels
        let mut pooled = Vec::with_capacity(self.convs.len());
        for conv in &self.convs {
            let y = conv.forward(graph, x)?.relu()?; // [B, F, L − w + 1]
            pooled.push(Module::<f32>::forward(&GlobalMaxPool, graph, y)?); // [B, F]
        }
        let h = concat(&pooled, 1)?; // [B, F·widths]
        self.output.forward(graph, self.dropout.forward(graph, h)?)
    }
    fn params_without_embedding(&self) -> usize {
        num_params(self) - self.embedding.weight.len()
    }
    fn name(&self) -> String {
        "text CNN".into()
    }
}

impl Module<f32> for TextCnn {
    /// Token ids as values [B, L] (`PaddedBatch::ids_tensor`) → scores [B, classes].
    fn forward<'g>(&self, graph: &'g Graph<f32>, x: Var<'g, f32>) -> Result<Var<'g, f32>> {
        self.logits(graph, &batch_from_ids(&x.value()?)?)
    }
    neurite::nn::walk!(f32; module embedding, modules convs by conv_name, module dropout, module output);
    fn set_training(&mut self, training: bool) {
        Module::<f32>::set_training(&mut self.dropout, training);
    }
}

/// Settings of a [`BiRnnClassifier`].
#[derive(Debug, Clone)]
pub struct BiRnnConfig {
    /// Embedding size E.
    pub embed: usize,
    /// Hidden size H of each direction.
    pub hidden: usize,
    /// GRU or LSTM.
    pub cell: CellKind,
    /// Dropout before the output layer.
    pub dropout: f64,
    /// Dropout the embedded words get too (the same rate), before the recurrent layer.
    pub embedding_dropout: bool,
}

/// A bidirectional GRU/LSTM classifier: the final states of both directions (each at the
/// sentence's own last word: variable-length batches, no padding read), a linear layer.
pub struct BiRnnClassifier {
    embedding: Embedding<f32>,
    rnn: Recurrent<f32>,
    dropout: Dropout,
    embedding_dropout: bool,
    output: Linear<f32>,
}

impl BiRnnClassifier {
    /// A seeded model for `vocab` words and `classes` classes; the embedding table is drawn
    /// first (see [`embedding_table`]).
    pub fn new(c: &BiRnnConfig, vocab: usize, classes: usize, rng: &mut Rng) -> Result<Self> {
        let embedding = embedding_table(vocab, c.embed, rng)?;
        let config = RecurrentConfig {
            input_size: c.embed,
            hidden_size: c.hidden,
            bidirectional: true,
            batch_first: true,
            ..Default::default()
        };
        let rnn = Recurrent::new(c.cell, &config, rng)?;
        Ok(BiRnnClassifier {
            embedding,
            rnn,
            dropout: Dropout::new(c.dropout, rng.next_u64())?,
            embedding_dropout: c.embedding_dropout,
            output: Linear::new(2 * c.hidden, classes, rng)?,
        })
    }
}

impl SentenceClassifier for BiRnnClassifier {
    fn logits<'g>(&self, graph: &'g Graph<f32>, batch: &PaddedBatch) -> Result<Var<'g, f32>> {
        let [b, l] = batch.shape();
        let mut x = self.embedding.lookup_shaped(graph, &batch.ids, &[b, l])?; // [B, L, E]
        if self.embedding_dropout {
            x = self.dropout.forward(graph, x)?;
        }
        let out = self.rnn.forward_seq(graph, x, Some(&batch.lengths), None)?;
        // h_n [2, B, H]: the forward direction's state after each sentence's last word and the
        // backward direction's after its first → [B, 2H].
        let h = out
            .state
            .h
            .transpose(0, 1)?
            .reshape(&[b, 2 * self.rnn.config().hidden_size])?;
        self.output.forward(graph, self.dropout.forward(graph, h)?)
    }
    fn params_without_embedding(&self) -> usize {
        num_params(self) - self.embedding.weight.len()
    }
    fn name(&self) -> String {
        format!("bi-{}", self.rnn.kind().name().to_lowercase())
    }
}

impl Module<f32> for BiRnnClassifier {
    /// Token ids as values [B, L] (`PaddedBatch::ids_tensor`; trailing `<pad>` ids mark the
    /// lengths) → scores [B, classes].
    fn forward<'g>(&self, graph: &'g Graph<f32>, x: Var<'g, f32>) -> Result<Var<'g, f32>> {
        self.logits(graph, &batch_from_ids(&x.value()?)?)
    }
    neurite::nn::walk!(f32; module embedding, module rnn, module dropout, module output);
    fn set_training(&mut self, training: bool) {
        self.rnn.set_training(training);
        Module::<f32>::set_training(&mut self.dropout, training);
    }
    fn describe(&self) -> String {
        format!(
            "{} → {} → {}",
            self.embedding.describe(),
            self.rnn.describe(),
            self.output.describe()
        )
    }
}

/// The embedding table both models start from: Kim (2014)'s U[−0.25, 0.25] word vectors, the
/// `<pad>` row zero so padding adds nothing to a convolution window. Weight [vocab, E].
pub fn embedding_table(vocab: usize, dim: usize, rng: &mut Rng) -> Result<Embedding<f32>> {
    let mut w = Tensor::<f32>::rand_uniform(&[vocab, dim], -0.25, 0.25, rng).to_vec();
    if let Some(row) = w.get_mut(text::PAD * dim..(text::PAD + 1) * dim) {
        row.fill(0.0);
    }
    Embedding::from_weight(Tensor::from_vec(w, &[vocab, dim])?)
}

/// A padded batch from ids given as values [B, L]: each length runs to the last non-`<pad>` id
/// (at least 1); labels are unknown (0).
pub fn batch_from_ids(ids: &Tensor<f32>) -> Result<PaddedBatch> {
    let shape = ids.shape();
    if shape.len() != 2 || shape[0] == 0 || shape[1] == 0 {
        return Err(NnError::BadInput {
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

/// Batches of similar lengths (less padding for a recurrent net): shuffle, sort windows of 20
/// batches by length, cut, shuffle the batches.
pub fn bucketed(
    examples: &[TextExample],
    idx: &[usize],
    batch: usize,
    rng: &mut Rng,
) -> Result<Vec<PaddedBatch>> {
    let mut order = idx.to_vec();
    rng.shuffle(&mut order);
    for w in order.chunks_mut(batch * 20) {
        w.sort_by_key(|&i| examples[i].ids.len());
    }
    let mut out = text::batches(examples, &order, batch, Padding::default())?;
    rng.shuffle(&mut out);
    Ok(out)
}

/// Predicted classes of `indices`, in order, in batches of `batch` without a graph; sentences
/// are padded to at least `min_len` tokens.
pub fn predict(
    model: &dyn SentenceClassifier,
    examples: &[TextExample],
    indices: &[usize],
    min_len: usize,
    batch: usize,
) -> Result<Vec<usize>> {
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

/// The fraction of `indices` whose prediction (in the same order) is the example's label.
pub fn accuracy_of(pred: &[usize], examples: &[TextExample], indices: &[usize]) -> f64 {
    let ok = pred
        .iter()
        .zip(indices)
        .filter(|(p, &i)| **p == examples[i].label)
        .count();
    ok as f64 / indices.len().max(1) as f64
}

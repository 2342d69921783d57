//! A Kim-style (2014) sentence classifier: word embedding → Conv1d with widths 3, 4 and 5 →
//! ReLU → global max pool over time → concatenation → dropout → linear, trained from random
//! embeddings with Adam; compared with a bag-of-words logistic regression trained on the same
//! split. Default data: `data/movie_snippets.tsv` (10,568 movie-review sentences, pos/neg);
//! `--data FILE` takes any `label<TAB>text` file (e.g. ../shared/data/trec_questions/train_5500.tsv,
//! whose first column is the coarse class). Held out: a seeded 10% split.
//!
//! Run: `cargo run --release --example text_cnn -- [--epochs N] [--quick] [--data FILE]`

use std::error::Error;
use std::time::Instant;

use neurite::autograd::{concat, Graph, Parameter, Var};
use neurite::cnn::{Conv1d, ConvConfig, GlobalMaxPool};
use neurite::nn::metrics::predict_classes;
use neurite::nn::text::{self, LabelMap, PaddedBatch, Padding, TextExample, Vocabulary};
use neurite::nn::{cross_entropy, join, Adam, Dropout, Embedding, Linear, Module, Optimizer, Relu};
use neurite::tensor::{Float, Rng, Tensor};

struct Options {
    data: String,
    epochs: usize,
    bow_epochs: usize,
    batch: usize,
    lr: f64,
    embed: usize,
    filters: usize,
    dropout: f64,
    min_count: u64,
    max_len: usize,
    seed: u64,
}

const USAGE: &str = "usage: text_cnn [options]
  --data FILE       label<TAB>text file (default data/movie_snippets.tsv)
  --epochs N        CNN training epochs (default 3)
  --bow-epochs N    bag-of-words baseline epochs (default 5)
  --batch N         batch size (default 50)
  --lr X            Adam learning rate (default 0.001)
  --embed N         embedding size (default 96)
  --filters N       filters per width 3/4/5 (default 100)
  --dropout P       dropout before the output layer (default 0.5)
  --min-count N     keep words seen at least N times in training (default 1)
  --max-len N       truncate sentences to N tokens (default 100)
  --seed N          split, initialisation and shuffling seed (default 3)
  --quick           64 filters (faster)";

fn parse(args: &[String]) -> Result<Option<Options>, Box<dyn Error>> {
    let mut o = Options {
        data: concat!(env!("CARGO_MANIFEST_DIR"), "/data/movie_snippets.tsv").into(),
        epochs: 3,
        bow_epochs: 5,
        batch: 50,
        lr: 1e-3,
        embed: 96,
        filters: 100,
        dropout: 0.5,
        min_count: 1,
        max_len: 100,
        seed: 3,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--data" => o.data = val()?.clone(),
            "--epochs" => o.epochs = val()?.parse()?,
            "--bow-epochs" => o.bow_epochs = val()?.parse()?,
            "--batch" => o.batch = val()?.parse()?,
            "--lr" => o.lr = val()?.parse()?,
            "--embed" => o.embed = val()?.parse()?,
            "--filters" => o.filters = val()?.parse()?,
            "--dropout" => o.dropout = val()?.parse()?,
            "--min-count" => o.min_count = val()?.parse()?,
            "--max-len" => o.max_len = val()?.parse()?,
            "--seed" => o.seed = val()?.parse()?,
            "--quick" => o.filters = 64,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            other => return Err(format!("unknown option {other} (try --help)").into()),
        }
    }
    if o.epochs == 0 || o.batch == 0 || o.embed == 0 || o.filters == 0 || o.max_len == 0 {
        return Err(
            "--epochs, --batch, --embed, --filters and --max-len must be at least 1".into(),
        );
    }
    Ok(Some(o))
}

const WIDTHS: [usize; 3] = [3, 4, 5];

/// Kim's CNN: ids [batch, len] → logits [batch, classes].
struct TextCnn {
    embedding: Embedding<f32>,
    convs: Vec<Conv1d<f32>>,
    dropout: Dropout,
    output: Linear<f32>,
}

impl TextCnn {
    fn new(
        vocab: usize,
        classes: usize,
        o: &Options,
        rng: &mut Rng,
    ) -> Result<Self, Box<dyn Error>> {
        // Kim (2014) draws random word vectors from U[−0.25, 0.25]; the padding row is zero so
        // that padding adds nothing to a window.
        let mut w = Tensor::<f32>::rand_uniform(&[vocab, o.embed], -0.25, 0.25, rng).to_vec();
        w[..o.embed].fill(0.0);
        let embedding = Embedding::from_weight(Tensor::from_vec(w, &[vocab, o.embed])?)?;
        let convs = WIDTHS
            .iter()
            .map(|&k| Conv1d::new(ConvConfig::new(o.embed, o.filters, [k]), rng))
            .collect::<Result<_, _>>()?;
        Ok(TextCnn {
            embedding,
            convs,
            dropout: Dropout::new(o.dropout, o.seed ^ 0xd0)?,
            output: Linear::new(WIDTHS.len() * o.filters, classes, rng)?,
        })
    }

    fn logits<'g>(&self, g: &'g Graph<f32>, b: &PaddedBatch) -> neurite::nn::Result<Var<'g, f32>> {
        let [n, len] = b.shape();
        // [batch, len, embed] → [batch, embed, len]: channels are the embedding dimensions.
        let x = self
            .embedding
            .lookup_shaped(g, &b.ids, &[n, len])?
            .permute(&[0, 2, 1])?;
        let mut pooled = Vec::with_capacity(self.convs.len());
        for conv in &self.convs {
            let h = Relu.forward(g, conv.forward(g, x)?)?; // [batch, filters, len − k + 1]
            pooled.push(Module::<f32>::forward(&GlobalMaxPool, g, h)?); // [batch, filters]
        }
        let features = concat(&pooled, 1)?; // [batch, 3·filters]
        let features = self.dropout.forward(g, features)?;
        self.output.forward(g, features)
    }
}

impl Module<f32> for TextCnn {
    /// `x` holds token ids as values, [batch, len] (see `PaddedBatch::ids_tensor`).
    fn forward<'g>(&self, g: &'g Graph<f32>, x: Var<'g, f32>) -> neurite::nn::Result<Var<'g, f32>> {
        let v = x.value()?;
        let shape = v.shape().to_vec();
        let batch = PaddedBatch {
            ids: v.to_vec().iter().map(|&i| i as usize).collect(),
            lengths: vec![shape.get(1).copied().unwrap_or(0); shape[0]],
            labels: Vec::new(),
            len: shape.get(1).copied().unwrap_or(0),
        };
        self.logits(g, &batch)
    }
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Parameter<f32>)) {
        self.embedding.visit_params(&join(prefix, "embedding"), f);
        for (i, c) in self.convs.iter().enumerate() {
            c.visit_params(&join(prefix, &format!("conv{}", WIDTHS[i])), f);
        }
        self.output.visit_params(&join(prefix, "output"), f);
    }
    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Parameter<f32>)) {
        self.embedding
            .visit_params_mut(&join(prefix, "embedding"), f);
        for (i, c) in self.convs.iter_mut().enumerate() {
            c.visit_params_mut(&join(prefix, &format!("conv{}", WIDTHS[i])), f);
        }
        self.output.visit_params_mut(&join(prefix, "output"), f);
    }
    fn set_training(&mut self, training: bool) {
        Module::<f32>::set_training(&mut self.dropout, training);
    }
}

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

/// Runs the example with command-line style arguments.
pub fn run(args: &[String]) -> Result<(), Box<dyn Error>> {
    let Some(o) = parse(args)? else {
        return Ok(());
    };
    let t0 = Instant::now();
    let records = text::read_labelled(&o.data)?;
    let tokens: Vec<Vec<String>> = records.iter().map(|r| text::tokenize(&r.text)).collect();
    let labels = LabelMap::from_labels(records.iter().map(|r| r.label.as_str()));
    if labels.len() < 2 {
        return Err(format!(
            "{}: need at least 2 classes, found {:?}",
            o.data,
            labels.names()
        )
        .into());
    }
    let (train_idx, test_idx) = text::split_indices(records.len(), 0.1, o.seed)?;
    // The vocabulary comes from the training part only: held-out words may be unknown.
    let vocab = Vocabulary::build(
        train_idx.iter().map(|&i| tokens[i].as_slice()),
        o.min_count,
        None,
    )?;
    let examples: Vec<TextExample> = text::encode(&records, &tokens, &vocab, &labels)?;
    println!(
        "{}: {} sentences, classes {:?}; {} train / {} held out; vocabulary {} words (min count {})",
        o.data,
        records.len(),
        labels.names(),
        train_idx.len(),
        test_idx.len(),
        vocab.len(),
        o.min_count
    );
    let padding = Padding {
        min_len: *WIDTHS.iter().max().unwrap_or(&1),
        max_len: Some(o.max_len),
    };
    let test_batches = text::batches(&examples, &test_idx, 200, padding)?;
    let mut shuffle = Rng::new(o.seed ^ 0x5eed);

    // ---- Baseline: logistic regression on binary bag-of-words features.
    let tb = Instant::now();
    let mut bow = Linear::<f32>::new(vocab.len(), labels.len(), &mut Rng::new(o.seed))?;
    let mut bow_opt = Adam::with_options(0.01, (0.9, 0.999), 1e-8, 0.0)?;
    for _ in 0..o.bow_epochs {
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
        o.bow_epochs,
        tb.elapsed().as_secs_f64()
    );

    // ---- Kim's CNN.
    let mut rng = Rng::new(o.seed);
    let mut model = TextCnn::new(vocab.len(), labels.len(), &o, &mut rng)?;
    let mut opt = Adam::new(o.lr)?;
    println!(
        "CNN: embedding {} → Conv1d widths {:?} × {} filters → ReLU → global max pool → dropout {} → linear {}",
        o.embed,
        WIDTHS,
        o.filters,
        o.dropout,
        labels.len()
    );
    let (mut cnn_acc, mut train_loss) = (0.0, f64::NAN);
    for epoch in 1..=o.epochs {
        let te = Instant::now();
        let mut order = train_idx.clone();
        shuffle.shuffle(&mut order);
        let (mut sum, mut n) = (0.0, 0usize);
        model.set_training(true);
        for b in text::batches(&examples, &order, o.batch, padding)? {
            let g = Graph::new();
            let loss = cross_entropy(model.logits(&g, &b)?, &b.labels)?;
            sum += loss.item()? as f64 * b.labels.len() as f64;
            n += b.labels.len();
            let grads = loss.backward()?;
            opt.step(&mut model, &grads)?;
        }
        train_loss = sum / n as f64;
        model.set_training(false);
        let mut predicted = Vec::new();
        for b in &test_batches {
            let g = Graph::inference();
            predicted.extend(predict_classes(&model.logits(&g, b)?.value()?)?);
        }
        cnn_acc = accuracy_of(&predicted, &test_batches);
        println!(
            "epoch {epoch:>2}  train loss {train_loss:.4}  held-out accuracy {:.2}%  ({:.1} s)",
            100.0 * cnn_acc,
            te.elapsed().as_secs_f64()
        );
    }
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

#[allow(dead_code)]
fn main() {
    // Keep freed training buffers for reuse (see `neurite::tensor::memory`).
    neurite::tensor::keep_freed_memory();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&args) {
        eprintln!("text_cnn: {e}");
        std::process::exit(1);
    }
}

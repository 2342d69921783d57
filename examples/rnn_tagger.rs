//! Sequence labelling: a bidirectional LSTM part-of-speech tagger on Universal Dependencies
//! English EWT (UPOS, 17 tags). Each word is read as its lower-cased word embedding, embeddings
//! of its last three and last two characters (suffixes carry most of the part of speech of an
//! unseen word), and five shape flags (capitalised, all capitals, digit, hyphen, no letter or
//! digit). Unknown words: the vocabulary comes from the training file, and during training a
//! word is replaced by `<unk>` with probability α / (α + count) (word dropout, α = 0.25), so
//! rare words teach the `<unk>` embedding to lean on the character features.
//!
//! `cargo run --release --example rnn_tagger -- [--epochs N] [--test FILE] [--quick] …`
//! Files: `token<TAB>tag` per line, a blank line between sentences (train and dev vendored in
//! data/ud_english_ewt); `--test FILE` scores any file of that format (`test_accuracy`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Parser;

use neurite::autograd::{concat, Graph, Parameter, Var};
use neurite::nn::train::{Metrics, Trainer};
use neurite::nn::{
    clip_grad_norm, cross_entropy, join, Adam, Embedding, Linear, Module, Optimizer,
};
use neurite::rnn::{Lstm, RecurrentConfig};
use neurite::tensor::{Rng, Tensor};
use neurite_examples::{data, flags, Checkpoints, Defaults, TrainFlags};

const DEFAULTS: Defaults = Defaults {
    epochs: 3,
    quick_epochs: 1,
    batch: 32,
    lr: 3e-3,
    seed: 11,
};

/// rnn_tagger: a bidirectional LSTM part-of-speech tagger (UD English EWT, UPOS)
#[derive(Parser)]
#[command(name = "rnn_tagger", allow_negative_numbers = true)]
struct Cli {
    /// token<TAB>tag training file, plain or gzip [default:
    /// data/ud_english_ewt/en_ewt-train.upos.tsv.gz]
    #[arg(long = "train", value_name = "FILE")]
    train_file: Option<PathBuf>,
    /// Development file [default: data/ud_english_ewt/en_ewt-dev.upos.tsv.gz]
    #[arg(long, value_name = "FILE")]
    dev: Option<PathBuf>,
    /// Also score this file (reported as test_accuracy)
    #[arg(long, value_name = "FILE")]
    test: Option<PathBuf>,
    /// LSTM units per direction
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = flags::count(1, flags::MAX_WIDTH))]
    hidden: usize,
    /// Word embedding size
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = flags::count(1, flags::MAX_WIDTH))]
    embed: usize,
    #[command(flatten)]
    train: TrainFlags,
}

fn main() {
    neurite_examples::main("rnn_tagger", || run(flags::parse(&DEFAULTS)));
}

const SHAPE: usize = 5;
const UNK: usize = 1;

/// A sentence: its words and tags as written.
struct Sentence {
    words: Vec<String>,
    tags: Vec<String>,
}

/// Reads a `token<TAB>tag` file (gzip or plain); a line without exactly one tab is an error
/// naming the file and line.
fn read_tagged(path: &Path) -> Result<Vec<Sentence>, Box<dyn std::error::Error>> {
    let text = data::read_text(path)?;
    let mut out = Vec::new();
    let mut cur = Sentence {
        words: Vec::new(),
        tags: Vec::new(),
    };
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            if !cur.words.is_empty() {
                out.push(std::mem::replace(
                    &mut cur,
                    Sentence {
                        words: Vec::new(),
                        tags: Vec::new(),
                    },
                ));
            }
            continue;
        }
        let mut parts = line.split('\t');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(w), Some(t), None) if !w.is_empty() && !t.is_empty() => {
                cur.words.push(w.to_string());
                cur.tags.push(t.to_string());
            }
            _ => {
                return Err(format!(
                    "{}:{}: expected token<TAB>tag, got {line:?}",
                    path.display(),
                    n + 1
                )
                .into())
            }
        }
    }
    if !cur.words.is_empty() {
        out.push(cur);
    }
    if out.is_empty() {
        return Err(format!("{}: no sentences", path.display()).into());
    }
    Ok(out)
}

/// Ids of strings seen in training: 0 = padding, 1 = `<unk>`, then by first appearance.
#[derive(Default)]
struct Lexicon {
    ids: HashMap<String, usize>,
    counts: Vec<usize>,
}

impl Lexicon {
    fn new() -> Self {
        Lexicon {
            ids: HashMap::new(),
            counts: vec![0, 0],
        }
    }
    fn add(&mut self, s: &str) {
        let next = self.counts.len();
        let id = *self.ids.entry(s.to_string()).or_insert(next);
        if id == self.counts.len() {
            self.counts.push(0);
        }
        self.counts[id] += 1;
    }
    fn id(&self, s: &str) -> usize {
        self.ids.get(s).copied().unwrap_or(UNK)
    }
    fn len(&self) -> usize {
        self.counts.len()
    }
}

fn suffix(w: &str, n: usize) -> String {
    let lower = w.to_lowercase();
    let chars: Vec<char> = lower.chars().collect();
    chars[chars.len().saturating_sub(n)..].iter().collect()
}

fn shape(w: &str) -> [f32; SHAPE] {
    let first_upper = w.chars().next().is_some_and(|c| c.is_uppercase());
    let letters: Vec<char> = w.chars().filter(|c| c.is_alphabetic()).collect();
    let all_upper = !letters.is_empty() && letters.iter().all(|c| c.is_uppercase());
    let digit = w.chars().any(|c| c.is_ascii_digit());
    let hyphen = w.contains('-');
    let symbol = !w.chars().any(|c| c.is_alphanumeric());
    [first_upper, all_upper, digit, hyphen, symbol].map(|b| if b { 1.0 } else { 0.0 })
}

/// A sentence as ids: words, suffixes, shape flags and tags.
struct Encoded {
    words: Vec<usize>,
    suf3: Vec<usize>,
    suf2: Vec<usize>,
    shapes: Vec<[f32; SHAPE]>,
    tags: Vec<usize>,
    /// Words unseen in training (for the unknown-word accuracy).
    oov: Vec<bool>,
}

struct Lexicons {
    words: Lexicon,
    suf3: Lexicon,
    suf2: Lexicon,
    tags: Vec<String>,
}

impl Lexicons {
    fn build(train: &[Sentence]) -> Self {
        let (mut words, mut suf3, mut suf2) = (Lexicon::new(), Lexicon::new(), Lexicon::new());
        let mut tags: Vec<String> = Vec::new();
        for s in train {
            for (w, t) in s.words.iter().zip(&s.tags) {
                words.add(&w.to_lowercase());
                suf3.add(&suffix(w, 3));
                suf2.add(&suffix(w, 2));
                if !tags.contains(t) {
                    tags.push(t.clone());
                }
            }
        }
        tags.sort();
        Lexicons {
            words,
            suf3,
            suf2,
            tags,
        }
    }

    fn encode(&self, s: &Sentence, file: &Path) -> Result<Encoded, String> {
        let mut e = Encoded {
            words: Vec::new(),
            suf3: Vec::new(),
            suf2: Vec::new(),
            shapes: Vec::new(),
            tags: Vec::new(),
            oov: Vec::new(),
        };
        for (w, t) in s.words.iter().zip(&s.tags) {
            let id = self.words.id(&w.to_lowercase());
            e.words.push(id);
            e.oov.push(id == UNK);
            e.suf3.push(self.suf3.id(&suffix(w, 3)));
            e.suf2.push(self.suf2.id(&suffix(w, 2)));
            e.shapes.push(shape(w));
            let tag = self.tags.iter().position(|x| x == t).ok_or_else(|| {
                format!(
                    "{}: tag {t:?} (word {w:?}) is not one of the training tags {:?}",
                    file.display(),
                    self.tags
                )
            })?;
            e.tags.push(tag);
        }
        Ok(e)
    }
}

/// Embeddings of words, suffixes and shape flags → bidirectional LSTM → linear over the tags.
struct Tagger {
    words: Embedding<f32>,
    suf3: Embedding<f32>,
    suf2: Embedding<f32>,
    lstm: Lstm<f32>,
    head: Linear<f32>,
}

/// A padded batch of sentences, [B, T] row-major.
struct Batch {
    words: Vec<usize>,
    suf3: Vec<usize>,
    suf2: Vec<usize>,
    shapes: Vec<f32>,
    lengths: Vec<usize>,
    /// Row-major positions b·T + t of the real tokens, and their tags and OOV flags.
    positions: Vec<usize>,
    tags: Vec<usize>,
    oov: Vec<bool>,
    len: usize,
}

fn make_batch(
    data: &[Encoded],
    idx: &[usize],
    word_dropout: Option<(&Lexicon, &mut Rng)>,
) -> Batch {
    let len = idx.iter().map(|&i| data[i].words.len()).max().unwrap_or(1);
    let n = idx.len() * len;
    let mut b = Batch {
        words: vec![0; n],
        suf3: vec![0; n],
        suf2: vec![0; n],
        shapes: vec![0.0; n * SHAPE],
        lengths: Vec::new(),
        positions: Vec::new(),
        tags: Vec::new(),
        oov: Vec::new(),
        len,
    };
    let mut wd = word_dropout;
    for (row, &i) in idx.iter().enumerate() {
        let e = &data[i];
        b.lengths.push(e.words.len());
        for t in 0..e.words.len() {
            let p = row * len + t;
            let mut w = e.words[t];
            if let Some((lex, rng)) = wd.as_mut() {
                // Word dropout α / (α + count): singletons are dropped 20% of the time.
                let c = lex.counts[w] as f64;
                if w > UNK && rng.bernoulli(0.25 / (0.25 + c)) {
                    w = UNK;
                }
            }
            b.words[p] = w;
            b.suf3[p] = e.suf3[t];
            b.suf2[p] = e.suf2[t];
            b.shapes[p * SHAPE..(p + 1) * SHAPE].copy_from_slice(&e.shapes[t]);
            b.positions.push(p);
            b.tags.push(e.tags[t]);
            b.oov.push(e.oov[t]);
        }
    }
    b
}

impl Tagger {
    /// Tag logits [tokens, tags] of the real tokens of a batch.
    fn logits<'g>(&self, g: &'g Graph<f32>, b: &Batch) -> neurite::nn::Result<Var<'g, f32>> {
        let rows = b.lengths.len();
        let shape = [rows, b.len];
        let x = concat(
            &[
                self.words.lookup_shaped(g, &b.words, &shape)?,
                self.suf3.lookup_shaped(g, &b.suf3, &shape)?,
                self.suf2.lookup_shaped(g, &b.suf2, &shape)?,
                g.constant(Tensor::from_vec(b.shapes.clone(), &[rows, b.len, SHAPE])?),
            ],
            2,
        )?; // [B, T, features]
        let out = self.lstm.forward_seq(g, x, Some(&b.lengths), None)?.output; // [B, T, 2H]
        let h2 = out.shape()[2];
        let tokens = out
            .reshape(&[rows * b.len, h2])?
            .index_select(0, &b.positions)?;
        self.head.forward(g, tokens)
    }
}

impl Module<f32> for Tagger {
    fn forward<'g>(
        &self,
        _g: &'g Graph<f32>,
        x: Var<'g, f32>,
    ) -> neurite::nn::Result<Var<'g, f32>> {
        Err(neurite::nn::NnError::BadInput {
            layer: "Tagger (use logits with a batch)".into(),
            expected: "a Batch".into(),
            got: x.shape(),
        })
    }
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Parameter<f32>)) {
        self.words.visit_params(&join(prefix, "words"), f);
        self.suf3.visit_params(&join(prefix, "suf3"), f);
        self.suf2.visit_params(&join(prefix, "suf2"), f);
        self.lstm.visit_params(&join(prefix, "lstm"), f);
        self.head.visit_params(&join(prefix, "head"), f);
    }
    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Parameter<f32>)) {
        self.words.visit_params_mut(&join(prefix, "words"), f);
        self.suf3.visit_params_mut(&join(prefix, "suf3"), f);
        self.suf2.visit_params_mut(&join(prefix, "suf2"), f);
        self.lstm.visit_params_mut(&join(prefix, "lstm"), f);
        self.head.visit_params_mut(&join(prefix, "head"), f);
    }
    fn set_training(&mut self, training: bool) {
        self.lstm.set_training(training);
    }
    fn describe(&self) -> String {
        format!(
            "[{} | {} | {} | shape {SHAPE}] → {} → {}",
            self.words.describe(),
            self.suf3.describe(),
            self.suf2.describe(),
            self.lstm.describe(),
            self.head.describe()
        )
    }
}

/// Sentences in batches of similar lengths (shuffled when `rng` is given).
fn batch_order(data: &[Encoded], batch: usize, rng: Option<&mut Rng>) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..data.len()).collect();
    match rng {
        Some(rng) => {
            rng.shuffle(&mut order);
            for w in order.chunks_mut(batch * 20) {
                w.sort_by_key(|&i| data[i].words.len());
            }
            let mut out: Vec<Vec<usize>> = order.chunks(batch).map(|c| c.to_vec()).collect();
            rng.shuffle(&mut out);
            out
        }
        None => {
            order.sort_by_key(|&i| data[i].words.len());
            order.chunks(batch).map(|c| c.to_vec()).collect()
        }
    }
}

/// (loss, accuracy, unknown-word accuracy, unknown words) on a data set, no graph recorded.
fn evaluate(model: &Tagger, data: &[Encoded]) -> neurite::nn::Result<(f64, f64, f64, usize)> {
    let (mut loss, mut right, mut n, mut oov_right, mut oov_n) = (0.0, 0, 0, 0, 0);
    for idx in batch_order(data, 128, None) {
        let b = make_batch(data, &idx, None);
        let g = Graph::inference();
        let logits = model.logits(&g, &b)?;
        loss += cross_entropy(logits, &b.tags)?.item()? as f64 * b.tags.len() as f64;
        let pred = logits.value()?.argmax(1)?;
        for ((p, t), o) in pred.iter().zip(&b.tags).zip(&b.oov) {
            right += usize::from(p == t);
            if *o {
                oov_right += usize::from(p == t);
                oov_n += 1;
            }
        }
        n += b.tags.len();
    }
    Ok((
        loss / n as f64,
        right as f64 / n as f64,
        oov_right as f64 / oov_n.max(1) as f64,
        oov_n,
    ))
}

fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let t = cli.train.resolve(&DEFAULTS)?;
    let train_path = cli
        .train_file
        .clone()
        .unwrap_or_else(|| data::vendored("ud_english_ewt/en_ewt-train.upos.tsv.gz"));
    let dev_path = cli
        .dev
        .clone()
        .unwrap_or_else(|| data::vendored("ud_english_ewt/en_ewt-dev.upos.tsv.gz"));
    let start = Instant::now();
    let train_s = read_tagged(&train_path)?;
    let dev_s = read_tagged(&dev_path)?;
    let lex = Lexicons::build(&train_s);
    let encode = |s: &[Sentence], f: &Path| -> Result<Vec<Encoded>, String> {
        s.iter().map(|x| lex.encode(x, f)).collect()
    };
    let train = encode(&train_s, &train_path)?;
    let dev = encode(&dev_s, &dev_path)?;
    let test = match &cli.test {
        Some(p) => Some(encode(&read_tagged(p)?, p)?),
        None => None,
    };
    let tokens = |d: &[Encoded]| d.iter().map(|e| e.words.len()).sum::<usize>();
    println!(
        "UD English EWT: train {} sentences / {} words, dev {} / {}; {} tags, {} word types",
        train.len(),
        tokens(&train),
        dev.len(),
        tokens(&dev),
        lex.tags.len(),
        lex.words.len() - 2
    );
    let mut rng = Rng::new(t.seed);
    let input = cli.embed + 32 + 16 + SHAPE;
    let config = RecurrentConfig {
        input_size: input,
        hidden_size: cli.hidden,
        bidirectional: true,
        batch_first: true,
        ..Default::default()
    };
    let mut model = Tagger {
        words: Embedding::new(lex.words.len(), cli.embed, &mut rng)?,
        suf3: Embedding::new(lex.suf3.len(), 32, &mut rng)?,
        suf2: Embedding::new(lex.suf2.len(), 16, &mut rng)?,
        lstm: Lstm::new(&config, &mut rng)?,
        head: Linear::new(2 * cli.hidden, lex.tags.len(), &mut rng)?,
    };
    println!(
        "model: {} ({} parameters)",
        model.describe(),
        neurite::nn::num_params(&model)
    );
    let mut opt = Adam::new(t.lr)?;
    let lr = t.lr;
    let mut shuffle_rng = Rng::new(t.seed ^ 0x7a9);
    let mut wd_rng = Rng::new(t.seed ^ 0xd40);
    let settings = format!(
        "hidden={} embed={} train={} sentences",
        cli.hidden,
        cli.embed,
        train.len()
    );
    let checkpoints = Checkpoints::new("rnn_tagger", &t, &settings)?;
    let progress = checkpoints.restore(
        &mut model,
        &mut opt,
        &mut [("shuffle", &mut shuffle_rng), ("word_dropout", &mut wd_rng)],
        t.epochs,
    )?;
    let mut state = (model, opt, shuffle_rng, wd_rng);
    let history = Trainer::new(t.epochs, train.len().div_ceil(t.batch))
        .resume_from(&progress)
        .metric_name("accuracy")
        .plot(
            t.plot.clone(),
            "rnn_tagger: bidirectional LSTM, UD English EWT UPOS",
        )
        .learning_rate(move |_| lr)
        .fit_checkpointed(
            &mut state,
            |(m, opt, shuffle_rng, wd_rng), _, tick| {
                let (mut sum, mut right, mut n) = (0.0, 0usize, 0usize);
                for idx in batch_order(&train, t.batch, Some(shuffle_rng)) {
                    let b = make_batch(&train, &idx, Some((&lex.words, wd_rng)));
                    let g = Graph::new();
                    let logits = m.logits(&g, &b)?;
                    let loss = cross_entropy(logits, &b.tags)?;
                    let l = loss.item()? as f64;
                    let pred = logits.value()?.argmax(1)?;
                    right += pred.iter().zip(&b.tags).filter(|(p, t)| p == t).count();
                    let mut grads = loss.backward()?;
                    clip_grad_norm(&mut grads, 5.0)?;
                    opt.step(m, &grads)?;
                    sum += l * b.tags.len() as f64;
                    n += b.tags.len();
                    tick(l);
                }
                Ok(Metrics::new(sum / n as f64, Some(right as f64 / n as f64)))
            },
            |(m, _, _, _), _| {
                let (loss, acc, _, _) = evaluate(m, &dev)?;
                Ok(Some(Metrics::new(loss, Some(acc))))
            },
            |(m, opt, shuffle_rng, wd_rng), p| {
                let rngs = [("shuffle", &*shuffle_rng), ("word_dropout", &*wd_rng)];
                checkpoints.save(m, opt, &rngs, p)
            },
        )?;
    let model = state.0;
    let (_, dev_acc, dev_oov, dev_oov_n) = evaluate(&model, &dev)?;
    println!(
        "dev: accuracy {dev_acc:.4}, on the {dev_oov_n} words unseen in training {dev_oov:.4}"
    );
    let mut result =
        format!("result: dev_accuracy={dev_acc:.4} dev_unknown_word_accuracy={dev_oov:.4}");
    if let Some(test) = &test {
        let (_, acc, oov, oov_n) = evaluate(&model, test)?;
        println!("test: accuracy {acc:.4}, on the {oov_n} unknown words {oov:.4}");
        result += &format!(" test_accuracy={acc:.4}");
    }
    let train_acc = history
        .last()
        .and_then(|e| e.train.metric)
        .unwrap_or(f64::NAN);
    println!(
        "{result} train_accuracy={train_acc:.4} epochs={} seconds={:.1}",
        t.epochs,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

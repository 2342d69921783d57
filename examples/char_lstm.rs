//! Sequence prediction: a character-level language model on real public-domain text (the
//! embedded Bible + Shakespeare corpus), an embedding → recurrent layer → linear head trained
//! to predict the next character, with truncated back-propagation through time over parallel
//! streams (the state is carried across chunks and detached). Reports validation
//! bits-per-character after every epoch and samples text with a temperature.
//! `--cell rnn|gru|lstm` compares the three cells on the same data and budget.
//!
//! `cargo run --release --example char_lstm -- [--cell lstm] [--epochs N] [--quick] [--temperature 0.8] …`

use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, ValueEnum};

use neurite::autograd::{Graph, Parameter, Var};
use neurite::nn::train::{Metrics, Trainer};
use neurite::nn::{clip_grad_norm, cross_entropy, Adam, Embedding, Linear, Module, Optimizer};
use neurite::rnn::{CellKind, Nonlinearity, Recurrent, RecurrentConfig, StateTensors};
use neurite::tensor::{Rng, Tensor};
use neurite_examples::{data, flags, Checkpoints, Defaults, TrainFlags};

const DEFAULTS: Defaults = Defaults {
    epochs: 4,
    quick_epochs: 2,
    batch: 32,
    lr: 3e-3,
    seed: 3,
};

/// char_lstm: a character-level language model on public-domain text (--quick: 300k
/// characters, hidden 128, 2 epochs; --batch is the number of parallel streams)
#[derive(Parser)]
#[command(name = "char_lstm", allow_negative_numbers = true)]
struct Cli {
    /// Text corpus, plain or gzip [default: the embedded 1M-word corpus,
    /// crates/neurite-word2vec/data/corpus-pd-1m.txt.gz]
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Use the first N characters [default: 1000000; 300000 with --quick]
    #[arg(long, value_name = "N", value_parser = flags::count(1, 1 << 32))]
    chars: Option<usize>,
    /// The recurrent cell
    #[arg(long, value_enum, default_value_t = Cell::Lstm)]
    cell: Cell,
    /// Hidden units [default: 256; 128 with --quick]
    #[arg(long, value_name = "N", value_parser = flags::count(1, flags::MAX_WIDTH))]
    hidden: Option<usize>,
    /// Character embedding size
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = flags::count(1, flags::MAX_WIDTH))]
    embed: usize,
    /// Recurrent layers
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = flags::count(1, 64))]
    layers: usize,
    /// Steps per truncated-BPTT chunk
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = flags::count(1, 100_000))]
    bptt: usize,
    /// Gradient-norm clipping
    #[arg(long, value_name = "X", default_value_t = 5.0, value_parser = flags::positive)]
    clip: f64,
    /// Sampling temperature
    #[arg(long, value_name = "X", default_value_t = 0.8, value_parser = flags::positive)]
    temperature: f64,
    /// Characters to sample after training
    #[arg(long, value_name = "N", default_value_t = 300, value_parser = flags::count(0, 1_000_000))]
    sample: usize,
    /// Text to start the sample from
    #[arg(long, value_name = "TEXT", default_value = "The ")]
    prompt: String,
    #[command(flatten)]
    train: TrainFlags,
}

fn main() {
    neurite_examples::main("char_lstm", || run(flags::parse(&DEFAULTS)));
}

/// The recurrent cell of `--cell`.
#[derive(Clone, Copy, ValueEnum)]
enum Cell {
    Rnn,
    Gru,
    Lstm,
}

/// Embedding → recurrent layer → linear head over the characters.
struct CharModel {
    embedding: Embedding<f32>,
    rnn: Recurrent<f32>,
    head: Linear<f32>,
}

impl CharModel {
    /// Logits [B·T, V] for ids [B, T] from `state`, and the state after the last step.
    fn step<'g>(
        &self,
        g: &'g Graph<f32>,
        ids: &[usize],
        batch: usize,
        state: &StateTensors<f32>,
    ) -> Result<(Var<'g, f32>, StateTensors<f32>), Box<dyn std::error::Error>> {
        let steps = ids.len() / batch;
        let x = self.embedding.lookup_shaped(g, ids, &[batch, steps])?; // [B, T, E]
        let out = self.rnn.forward_seq(g, x, None, Some(&state.bind(g)))?;
        let hidden = self.rnn.config().hidden_size;
        let logits = self
            .head
            .forward(g, out.output.reshape(&[batch * steps, hidden])?)?;
        Ok((logits, out.state.to_tensors()?))
    }

    fn zero_state(&self, batch: usize) -> StateTensors<f32> {
        let c = self.rnn.config();
        let shape = [c.num_layers, batch, c.hidden_size];
        StateTensors {
            h: Tensor::zeros(&shape),
            c: (self.rnn.kind() == CellKind::Lstm).then(|| Tensor::zeros(&shape)),
        }
    }
}

impl Module<f32> for CharModel {
    fn forward<'g>(&self, g: &'g Graph<f32>, x: Var<'g, f32>) -> neurite::nn::Result<Var<'g, f32>> {
        let h = self.rnn.forward(g, self.embedding.forward(g, x)?)?;
        let s = h.shape();
        self.head.forward(g, h.reshape(&[s[0] * s[1], s[2]])?)
    }
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Parameter<f32>)) {
        self.embedding
            .visit_params(&neurite::nn::join(prefix, "embedding"), f);
        self.rnn.visit_params(&neurite::nn::join(prefix, "rnn"), f);
        self.head
            .visit_params(&neurite::nn::join(prefix, "head"), f);
    }
    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Parameter<f32>)) {
        self.embedding
            .visit_params_mut(&neurite::nn::join(prefix, "embedding"), f);
        self.rnn
            .visit_params_mut(&neurite::nn::join(prefix, "rnn"), f);
        self.head
            .visit_params_mut(&neurite::nn::join(prefix, "head"), f);
    }
    fn set_training(&mut self, training: bool) {
        self.rnn.set_training(training);
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

/// The text cut into `batch` parallel streams: stream s holds ids[s·len .. (s+1)·len].
struct Streams {
    ids: Vec<usize>,
    batch: usize,
    len: usize,
}

impl Streams {
    fn new(ids: &[usize], batch: usize) -> Self {
        let len = ids.len() / batch;
        Streams {
            ids: ids[..len * batch].to_vec(),
            batch,
            len,
        }
    }
    /// Inputs and next-character targets of steps start..start+steps of every stream, [B, steps].
    fn chunk(&self, start: usize, steps: usize) -> (Vec<usize>, Vec<usize>) {
        let mut x = Vec::with_capacity(self.batch * steps);
        let mut y = Vec::with_capacity(self.batch * steps);
        for s in 0..self.batch {
            let base = s * self.len + start;
            x.extend_from_slice(&self.ids[base..base + steps]);
            y.extend_from_slice(&self.ids[base + 1..base + steps + 1]);
        }
        (x, y)
    }
    /// (start, steps) of the chunks covering every stream (targets need one step ahead).
    fn chunks(&self, bptt: usize) -> Vec<(usize, usize)> {
        let usable = self.len.saturating_sub(1);
        (0..usable)
            .step_by(bptt)
            .map(|s| (s, bptt.min(usable - s)))
            .collect()
    }
}

/// Mean cross-entropy in bits per character over the validation streams (no graph recorded).
fn bits_per_char(
    model: &CharModel,
    streams: &Streams,
    bptt: usize,
) -> Result<f64, Box<dyn std::error::Error>> {
    let mut state = model.zero_state(streams.batch);
    let (mut total, mut count) = (0.0, 0usize);
    for (start, steps) in streams.chunks(bptt) {
        let (x, y) = streams.chunk(start, steps);
        let g = Graph::inference();
        let (logits, next) = model.step(&g, &x, streams.batch, &state)?;
        total += cross_entropy(logits, &y)?.item()? as f64 * y.len() as f64;
        count += y.len();
        state = next;
    }
    Ok(total / count.max(1) as f64 / std::f64::consts::LN_2)
}

/// Samples `n` characters after `prompt`: softmax(logits / temperature), seeded.
fn sample(
    model: &CharModel,
    chars: &[char],
    prompt: &str,
    n: usize,
    temperature: f64,
    rng: &mut Rng,
) -> Result<String, Box<dyn std::error::Error>> {
    let index = |c: char| chars.iter().position(|&x| x == c);
    let mut state = model.zero_state(1);
    let mut out: String = prompt.chars().filter(|&c| index(c).is_some()).collect();
    let mut last = None;
    for c in out.chars() {
        let g = Graph::inference();
        let (logits, next) = model.step(&g, &[index(c).unwrap_or(0)], 1, &state)?;
        state = next;
        last = Some(logits.value()?);
    }
    let mut logits = match last {
        Some(l) => l,
        None => {
            let g = Graph::inference();
            let (l, next) = model.step(&g, &[0], 1, &state)?;
            state = next;
            l.value()?
        }
    };
    for _ in 0..n {
        let l = logits.to_vec();
        let max = l.iter().cloned().fold(f32::NEG_INFINITY, f32::max) as f64;
        let w: Vec<f64> = l
            .iter()
            .map(|&v| ((v as f64 - max) / temperature).exp())
            .collect();
        let mut u = rng.uniform() * w.iter().sum::<f64>();
        let mut pick = w.len() - 1;
        for (i, &wi) in w.iter().enumerate() {
            if u < wi {
                pick = i;
                break;
            }
            u -= wi;
        }
        out.push(chars[pick]);
        let g = Graph::inference();
        let (next_logits, next) = model.step(&g, &[pick], 1, &state)?;
        state = next;
        logits = next_logits.value()?;
    }
    Ok(out)
}

fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let t = cli.train.resolve(&DEFAULTS)?;
    let path = cli.data.clone().unwrap_or_else(data::corpus_1m);
    let n_chars = cli
        .chars
        .unwrap_or(if t.quick { 300_000 } else { 1_000_000 });
    let hidden = cli.hidden.unwrap_or(if t.quick { 128 } else { 256 });
    let start = Instant::now();
    let text: Vec<char> = data::read_text(&path)?.chars().take(n_chars).collect();
    if text.len() < 20 * t.batch * 2 {
        return Err(format!(
            "{}: only {} characters, too short for {} streams",
            path.display(),
            text.len(),
            t.batch
        )
        .into());
    }
    let mut chars: Vec<char> = text.clone();
    chars.sort_unstable();
    chars.dedup();
    let ids: Vec<usize> = text
        .iter()
        .map(|c| chars.binary_search(c).unwrap_or(0))
        .collect();
    // The last tenth is the validation text, never trained on.
    let cut = ids.len() - ids.len() / 10;
    let train = Streams::new(&ids[..cut], t.batch);
    let val = Streams::new(&ids[cut..], 16.min(t.batch));
    println!(
        "corpus: {} characters ({} train, {} validation), {} distinct; uniform guess = {:.2} bits/char",
        ids.len(),
        cut,
        ids.len() - cut,
        chars.len(),
        (chars.len() as f64).log2()
    );

    let mut rng = Rng::new(t.seed);
    let config = RecurrentConfig {
        input_size: cli.embed,
        hidden_size: hidden,
        num_layers: cli.layers,
        batch_first: true,
        ..Default::default()
    };
    let kind = match cli.cell {
        Cell::Rnn => CellKind::Rnn(Nonlinearity::Tanh),
        Cell::Gru => CellKind::Gru,
        Cell::Lstm => CellKind::Lstm,
    };
    let mut model = CharModel {
        embedding: Embedding::new(chars.len(), cli.embed, &mut rng)?,
        rnn: Recurrent::new(kind, &config, &mut rng)?,
        head: Linear::new(hidden, chars.len(), &mut rng)?,
    };
    println!(
        "model: {} ({} parameters)",
        model.describe(),
        neurite::nn::num_params(&model)
    );
    let mut opt = Adam::new(t.lr)?;
    let chunks = train.chunks(cli.bptt);
    let settings = format!(
        "cell={} hidden={hidden} embed={} layers={} bptt={} clip={} chars={}",
        kind.name(),
        cli.embed,
        cli.layers,
        cli.bptt,
        cli.clip,
        ids.len()
    );
    let checkpoints = Checkpoints::new("char_lstm", &t, &settings)?;
    let progress = checkpoints.restore(&mut model, &mut opt, &mut [], t.epochs)?;
    let mut trained = (model, opt);
    let lr = t.lr;
    let history = Trainer::new(t.epochs, chunks.len())
        .resume_from(&progress)
        .metric_name("val_bpc")
        .plot(
            t.plot.clone(),
            &format!("char_lstm ({}): loss and validation bits/char", kind.name()),
        )
        .learning_rate(move |_| lr)
        .fit_checkpointed(
            &mut trained,
            |(m, opt), _, tick| {
                let mut state = m.zero_state(train.batch);
                let (mut sum, mut n) = (0.0, 0usize);
                for &(s, steps) in &chunks {
                    let (x, y) = train.chunk(s, steps);
                    let g = Graph::new();
                    let (logits, next) = m
                        .step(&g, &x, train.batch, &state)
                        .map_err(|e| neurite::nn::NnError::config("char_lstm", e.to_string()))?;
                    state = next; // carried, detached: truncated BPTT across chunks
                    let loss = cross_entropy(logits, &y)?;
                    let l = loss.item()? as f64;
                    let mut grads = loss.backward()?;
                    clip_grad_norm(&mut grads, cli.clip)?;
                    opt.step(m, &grads)?;
                    sum += l;
                    n += 1;
                    tick(l / std::f64::consts::LN_2);
                }
                Ok(Metrics::new(
                    sum / n.max(1) as f64 / std::f64::consts::LN_2,
                    None,
                ))
            },
            |(m, _), _| {
                let bpc = bits_per_char(m, &val, 128)
                    .map_err(|e| neurite::nn::NnError::config("char_lstm", e.to_string()))?;
                Ok(Some(Metrics::new(bpc, Some(bpc))))
            },
            |(m, opt), p| checkpoints.save(m, opt, &[], p),
        )?;
    let model = trained.0;
    for (i, e) in history.epochs.iter().enumerate() {
        println!(
            "epoch {}: train {:.3} bits/char, validation {:.3} bits/char",
            i + 1,
            e.train.loss,
            e.eval.as_ref().map_or(f64::NAN, |m| m.loss)
        );
    }
    let val_bpc = history
        .last()
        .and_then(|e| e.eval.as_ref())
        .map_or(f64::NAN, |m| m.loss);
    let train_bpc = history.last().map_or(f64::NAN, |e| e.train.loss);
    let mut sample_rng = Rng::new(t.seed ^ 0x5a3);
    let text = sample(
        &model,
        &chars,
        &cli.prompt,
        cli.sample,
        cli.temperature,
        &mut sample_rng,
    )?;
    println!("sample (temperature {}):\n{}\n", cli.temperature, text);
    println!(
        "result: val_bpc={:.4} train_bpc={:.4} cell={} hidden={} epochs={} chars={} seconds={:.1}",
        val_bpc,
        train_bpc,
        kind.name().to_lowercase(),
        hidden,
        t.epochs,
        ids.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

//! The image-description model of the `image_caption` example: a CNN encoder reads a
//! Fashion-MNIST image and gives the initial state of a GRU or LSTM decoder that writes its
//! description character by character ("ankle boot", "t-shirt/top", …), trained with teacher
//! forcing and cross-entropy over characters, decoded greedily and with a beam
//! (`neurite::rnn::decode`).
//!
//! ```text
//! image [B, 1, 28, 28] → conv 3×3 (16) → ReLU → max-pool 2 → conv 3×3 (32) → ReLU → max-pool 2
//!   → flatten [B, 1568] → linear → tanh → h₀ [1, B, H] (LSTM: h₀ and c₀)
//! <s> c₁ … cₙ → embedding [B, n+1, E] → GRU/LSTM from h₀ → [B, n+1, H] → linear → [B, n+1, V]
//!   trained to predict c₁ … cₙ </s>
//! ```

use std::error::Error;
use std::time::Instant;

use neurite::autograd::{Graph, Var};
use neurite::cnn::{Conv2d, ConvConfig, Flatten, MaxPool2d};
use neurite::nn::data::Dataset;
use neurite::nn::{
    cross_entropy, Adam, Embedding, Linear, Module, Optimizer, Relu, Sequential, TrainingState,
};
use neurite::rnn::decode::{beam_search, greedy, DecodeConfig, Hypothesis};
use neurite::rnn::{CellKind, Recurrent, RecurrentConfig, RecurrentState};
use neurite::tensor::{Rng, Tensor};

use crate::resume::Checkpoints;

/// Fashion-MNIST's class names, in label order.
pub const FASHION_NAMES: [&str; 10] = [
    "t-shirt/top",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
];

/// MNIST's digits as words, in label order.
pub const DIGIT_NAMES: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

/// The end-of-description token.
pub const END: usize = 0;
/// The start token fed at the first step.
pub const START: usize = 1;

/// Characters ↔ token ids: 0 = `</s>`, 1 = `<s>`, then the characters of the descriptions.
#[derive(Debug, Clone)]
pub struct Charset {
    chars: Vec<char>,
}

impl Charset {
    /// The characters used by `descriptions`, sorted.
    pub fn new(descriptions: &[&str]) -> Self {
        let mut chars: Vec<char> = descriptions.iter().flat_map(|d| d.chars()).collect();
        chars.sort_unstable();
        chars.dedup();
        Charset { chars }
    }
    /// Vocabulary size, the two special tokens included.
    pub fn len(&self) -> usize {
        self.chars.len() + 2
    }
    /// Always false: the special tokens are there.
    pub fn is_empty(&self) -> bool {
        false
    }
    /// The token ids of a description (no start or end token); an error names a character
    /// outside the set.
    pub fn encode(&self, s: &str) -> Result<Vec<usize>, String> {
        s.chars()
            .map(|c| {
                self.chars
                    .binary_search(&c)
                    .map(|i| i + 2)
                    .map_err(|_| format!("{c:?} in {s:?} is not in the character set"))
            })
            .collect()
    }
    /// The text of generated tokens (special tokens shown as `<s>`/`</s>`).
    pub fn decode(&self, tokens: &[usize]) -> String {
        tokens
            .iter()
            .map(|&t| match t {
                END => "</s>".to_string(),
                START => "<s>".to_string(),
                t => self.chars[t - 2].to_string(),
            })
            .collect()
    }
}

/// Settings of a run.
#[derive(Debug, Clone)]
pub struct CaptionConfig {
    /// GRU or LSTM decoder.
    pub cell: CellKind,
    /// Decoder hidden size H.
    pub hidden: usize,
    /// Character embedding size E.
    pub embed: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Mini-batch size.
    pub batch: usize,
    /// Training steps (mini-batches) in all.
    pub steps: usize,
    /// Beam width for the beam-search evaluation.
    pub beam: usize,
    /// Seed of initialisation and batch order.
    pub seed: u64,
}

/// The encoder–decoder.
pub struct Captioner {
    cell: CellKind,
    hidden: usize,
    /// Image → initial decoder state: [B, 1, 28, 28] → [B, S] with S = H (GRU) or 2H (LSTM).
    encoder: Sequential<f32>,
    embed: Embedding<f32>,
    decoder: Recurrent<f32>,
    /// Decoder state → character scores: [N, H] → [N, V].
    out: Linear<f32>,
}

impl Captioner {
    /// A seeded model for `vocab` tokens and images of `side`×`side` pixels.
    pub fn new(
        config: &CaptionConfig,
        vocab: usize,
        side: usize,
        rng: &mut Rng,
    ) -> Result<Self, Box<dyn Error>> {
        let state = if config.cell == CellKind::Lstm { 2 } else { 1 } * config.hidden;
        let flat = 32 * (side / 4) * (side / 4);
        let encoder = Sequential::new()
            .add(Conv2d::<f32>::new(
                ConvConfig::new(1, 16, [3, 3]).same(),
                rng,
            )?)
            .add(Relu)
            .add(MaxPool2d::new([2, 2]))
            .add(Conv2d::<f32>::new(
                ConvConfig::new(16, 32, [3, 3]).same(),
                rng,
            )?)
            .add(Relu)
            .add(MaxPool2d::new([2, 2]))
            .add(Flatten::default())
            .add(Linear::new(flat, state, rng)?);
        let decoder = Recurrent::new(
            config.cell,
            &RecurrentConfig {
                input_size: config.embed,
                hidden_size: config.hidden,
                batch_first: true,
                ..Default::default()
            },
            rng,
        )?;
        Ok(Captioner {
            cell: config.cell,
            hidden: config.hidden,
            encoder,
            embed: Embedding::new(vocab, config.embed, rng)?,
            decoder,
            out: Linear::new(config.hidden, vocab, rng)?,
        })
    }

    /// The decoder's initial state from images [B, 1, side, side]: h₀ (and c₀) [1, B, H].
    pub fn encode<'g>(
        &self,
        graph: &'g Graph<f32>,
        images: Var<'g, f32>,
    ) -> Result<RecurrentState<'g, f32>, Box<dyn Error>> {
        let b = images.shape()[0];
        let h = self.hidden;
        let s = self.encoder.forward(graph, images)?.tanh()?; // [B, S]
        let h0 = s.narrow(1, 0, h)?.reshape(&[1, b, h])?;
        let c0 = match self.cell {
            CellKind::Lstm => Some(s.narrow(1, h, h)?.reshape(&[1, b, h])?),
            _ => None,
        };
        Ok(RecurrentState { h: h0, c: c0 })
    }

    /// Teacher-forced loss of a batch: mean cross-entropy over every target character and end
    /// token. `images` [B, 1, side, side]; `targets[i]` the token ids of description i.
    pub fn loss<'g>(
        &self,
        graph: &'g Graph<f32>,
        images: Var<'g, f32>,
        targets: &[Vec<usize>],
    ) -> Result<Var<'g, f32>, Box<dyn Error>> {
        let b = targets.len();
        let state = self.encode(graph, images)?;
        // Inputs <s> c₁ … cₙ and targets c₁ … cₙ </s>, padded to the longest: [B, L].
        let lengths: Vec<usize> = targets.iter().map(|t| t.len() + 1).collect();
        let len = lengths.iter().copied().max().unwrap_or(1);
        let mut inputs = vec![END; b * len];
        let mut rows = Vec::new(); // positions of real targets in the flattened [B·L]
        let mut labels = Vec::new();
        for (i, t) in targets.iter().enumerate() {
            inputs[i * len] = START;
            inputs[i * len + 1..i * len + 1 + t.len()].copy_from_slice(t);
            for (j, &c) in t.iter().chain(std::iter::once(&END)).enumerate() {
                rows.push(i * len + j);
                labels.push(c);
            }
        }
        let x = self.embed.lookup_shaped(graph, &inputs, &[b, len])?; // [B, L, E]
        let y = self
            .decoder
            .forward_seq(graph, x, Some(&lengths), Some(&state))?
            .output; // [B, L, H]
        let y = y.reshape(&[b * len, self.hidden])?.index_select(0, &rows)?; // [N, H]
        let logits = self.out.forward(graph, y)?; // [N, V]
        Ok(cross_entropy(logits, &labels)?)
    }

    /// One decoding step for a set of hypotheses: their states (h, or h and c concatenated,
    /// each `[H]` or `[2H]`) and last tokens → next states and log-probabilities over the vocabulary.
    #[allow(clippy::type_complexity)]
    pub fn step(
        &self,
        states: &[Vec<f32>],
        last: &[usize],
    ) -> neurite::rnn::Result<Vec<(Vec<f32>, Vec<f64>)>> {
        let k = states.len();
        let h = self.hidden;
        let per = states.first().map_or(h, Vec::len);
        let graph = Graph::inference();
        let flat: Vec<f32> = states.iter().flatten().copied().collect();
        let all = Tensor::from_vec(flat, &[k, per])?; // [K, H] or [K, 2H]
        let bind = |t: Tensor<f32>| -> neurite::rnn::Result<Var<'_, f32>> {
            Ok(graph.constant(t.contiguous().reshape(&[1, k, h])?)) // [1, K, H]
        };
        let state = RecurrentState {
            h: bind(all.narrow(1, 0, h)?)?,
            c: if per == 2 * h {
                Some(bind(all.narrow(1, h, h)?)?)
            } else {
                None
            },
        };
        let x = self.embed.lookup_shaped(&graph, last, &[k, 1])?; // [K, 1, E]
        let out = self.decoder.forward_seq(&graph, x, None, Some(&state))?;
        let y = out.output.reshape(&[k, h])?; // [K, H]
        let logp = self
            .out
            .forward(&graph, y)?
            .log_softmax(1)?
            .value()?
            .to_vec(); // [K, V]
        let hs = out.state.h.value()?.to_vec(); // [1, K, H]
        let cs = out
            .state
            .c
            .map(|c| c.value())
            .transpose()?
            .map(|c| c.to_vec());
        let v = logp.len() / k;
        Ok((0..k)
            .map(|i| {
                let mut s = hs[i * h..(i + 1) * h].to_vec();
                if let Some(c) = &cs {
                    s.extend_from_slice(&c[i * h..(i + 1) * h]);
                }
                (
                    s,
                    logp[i * v..(i + 1) * v]
                        .iter()
                        .map(|&x| f64::from(x))
                        .collect(),
                )
            })
            .collect())
    }

    /// The initial decoder states of images [B, 1, side, side], one vector per image (h, or h
    /// then c), computed without recording a graph.
    pub fn initial_states(&self, images: &Tensor<f32>) -> Result<Vec<Vec<f32>>, Box<dyn Error>> {
        let graph = Graph::inference();
        let b = images.shape()[0];
        let st = self.encode(&graph, graph.constant(images.clone()))?;
        let h = st.h.value()?.to_vec(); // [1, B, H]
        let c = st.c.map(|c| c.value()).transpose()?.map(|c| c.to_vec());
        let hn = self.hidden;
        Ok((0..b)
            .map(|i| {
                let mut s = h[i * hn..(i + 1) * hn].to_vec();
                if let Some(c) = &c {
                    s.extend_from_slice(&c[i * hn..(i + 1) * hn]);
                }
                s
            })
            .collect())
    }
}

impl Module<f32> for Captioner {
    /// The encoder alone: images [B, 1, side, side] → initial state [B, S].
    fn forward<'g>(
        &self,
        graph: &'g Graph<f32>,
        x: Var<'g, f32>,
    ) -> neurite::nn::Result<Var<'g, f32>> {
        self.encoder.forward(graph, x)
    }
    neurite::nn::walk!(f32; module encoder, module embed, module decoder, module out);
    fn set_training(&mut self, training: bool) {
        self.encoder.set_training(training);
        self.decoder.set_training(training);
    }
}

/// The decode settings for descriptions of at most `max_chars` characters.
pub fn decode_config(max_chars: usize, beam: usize) -> DecodeConfig {
    DecodeConfig {
        start_token: START,
        end_token: Some(END),
        max_len: max_chars + 1,
        beam_width: beam,
        length_penalty: 0.0,
    }
}

/// What an evaluation found.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Greedy hypothesis per image.
    pub greedy: Vec<Hypothesis>,
    /// Beam hypotheses per image, best first.
    pub beams: Vec<Vec<Hypothesis>>,
    /// Fraction of images whose greedy description is exactly the true one.
    pub greedy_accuracy: f64,
    /// The same for the best beam hypothesis.
    pub beam_accuracy: f64,
    /// Greedy descriptions that are no description of any class.
    pub greedy_invented: usize,
    /// Images per second of greedy decoding (encoder included).
    pub greedy_per_s: f64,
}

/// Describes every image of `data` greedily and with a beam of `beam`, against `names`.
pub fn evaluate(
    model: &Captioner,
    data: &Dataset<f32>,
    names: &[&str],
    charset: &Charset,
    beam: usize,
) -> Result<Evaluation, Box<dyn Error>> {
    let labels = data
        .labels()
        .ok_or("evaluation needs a classification set")?;
    let max_chars = names.iter().map(|n| n.chars().count()).max().unwrap_or(1);
    let targets = names
        .iter()
        .map(|n| charset.encode(n))
        .collect::<Result<Vec<_>, _>>()?;
    let t0 = Instant::now();
    let mut states = Vec::with_capacity(data.len());
    for batch in data.batches(500, None, false)? {
        states.extend(model.initial_states(&batch.features)?);
    }
    let step = |s: &[Vec<f32>], l: &[usize]| model.step(s, l);
    let cfg = decode_config(max_chars, 1);
    let mut greedy_h = Vec::with_capacity(data.len());
    for s in &states {
        greedy_h.push(greedy(s.clone(), &cfg, step)?);
    }
    let greedy_per_s = data.len() as f64 / t0.elapsed().as_secs_f64();
    let bcfg = decode_config(max_chars, beam);
    let mut beams = Vec::with_capacity(data.len());
    for s in states {
        beams.push(beam_search(s, &bcfg, step)?);
    }
    let n = data.len().max(1) as f64;
    let hit = |h: &Hypothesis, y: usize| h.finished && targets.get(y) == Some(&h.tokens);
    let greedy_ok = greedy_h
        .iter()
        .zip(labels)
        .filter(|(h, &y)| hit(h, y))
        .count();
    let beam_ok = beams
        .iter()
        .zip(labels)
        .filter(|(b, &y)| b.first().is_some_and(|h| hit(h, y)))
        .count();
    let greedy_invented = greedy_h
        .iter()
        .filter(|h| !h.finished || !targets.contains(&h.tokens))
        .count();
    Ok(Evaluation {
        greedy: greedy_h,
        beams,
        greedy_accuracy: greedy_ok as f64 / n,
        beam_accuracy: beam_ok as f64 / n,
        greedy_invented,
        greedy_per_s,
    })
}

/// What a training run did.
#[derive(Debug, Clone)]
pub struct TrainLog {
    /// Epochs done (steps / batches per epoch, a fraction).
    pub epochs: f64,
    /// (step, mean loss since the previous point), every few hundred steps and at the end.
    pub loss_curve: Vec<(usize, f64)>,
}

/// Trains `model` for `config.steps` mini-batches (epochs over `train` as needed, each in a
/// new seeded order), recording the mean loss now and then (and printing it when `log`).
pub fn train(
    model: &mut Captioner,
    train: &Dataset<f32>,
    names: &[&str],
    charset: &Charset,
    config: &CaptionConfig,
    log: bool,
) -> Result<TrainLog, Box<dyn Error>> {
    train_resumable(model, train, names, charset, config, log, None)
}

/// [`train`] with checkpoints: restores `--resume` (the step count goes on from the saved one;
/// a run stopped inside an epoch replays that epoch's order and skips the batches done) and
/// saves `--checkpoint` after every epoch and at the last step.
pub fn train_resumable(
    model: &mut Captioner,
    train: &Dataset<f32>,
    names: &[&str],
    charset: &Charset,
    config: &CaptionConfig,
    log: bool,
    checkpoints: Option<&Checkpoints>,
) -> Result<TrainLog, Box<dyn Error>> {
    let targets = names
        .iter()
        .map(|n| charset.encode(n))
        .collect::<Result<Vec<_>, _>>()?;
    let labels_of = |l: &[usize]| -> Result<Vec<Vec<usize>>, String> {
        l.iter()
            .map(|&y| {
                targets
                    .get(y)
                    .cloned()
                    .ok_or_else(|| format!("label {y} has no description ({} given)", names.len()))
            })
            .collect()
    };
    let mut opt = Adam::new(config.lr)?;
    // The generator of the next epoch's batch order (saved at the epoch's start).
    let mut rng = Rng::new(config.seed ^ 0x5eed_ba7c);
    let per_epoch = train.len().div_ceil(config.batch);
    let mut progress = match checkpoints {
        Some(c) => c.restore_with(model, &mut opt, &mut [("shuffle", &mut rng)], |p| {
            if p.step >= config.steps as u64 {
                Err(format!(
                    "the run is at step {} already; {} steps leave nothing to train",
                    p.step, config.steps
                ))
            } else {
                Ok(())
            }
        })?,
        None => TrainingState::default(),
    };
    let report_every = (per_epoch / 4).clamp(50, 500);
    let (mut done, mut sum, mut count) = (progress.step as usize, 0.0f64, 0usize);
    let mut curve = Vec::new();
    model.set_training(true);
    let t0 = Instant::now();
    while done < config.steps {
        let mut epoch_rng = rng.clone();
        let skip = done.saturating_sub(progress.epoch as usize * per_epoch);
        let batches = train.batches(config.batch, Some(&mut epoch_rng), false)?;
        for batch in batches.skip(skip) {
            let graph = Graph::new();
            let loss = model.loss(
                &graph,
                graph.constant(batch.features),
                &labels_of(&batch.labels)?,
            )?;
            let value = loss.item()?;
            if !value.is_finite() {
                return Err(format!("the loss became {value} at step {done}").into());
            }
            sum += f64::from(value);
            count += 1;
            let grads = loss.backward()?;
            opt.step(model, &grads)?;
            done += 1;
            if done % report_every == 0 || done == config.steps {
                let mean = sum / count as f64;
                curve.push((done, mean));
                if log {
                    println!(
                        "step {done:>6}/{}  epoch {:.2}  loss {mean:.4}  {:.1}s",
                        config.steps,
                        done as f64 / per_epoch as f64,
                        t0.elapsed().as_secs_f64()
                    );
                }
                (sum, count) = (0.0, 0);
            }
            if done == config.steps {
                break;
            }
        }
        if done == (progress.epoch as usize + 1) * per_epoch {
            // A whole epoch: the next one draws its order from where this one left the
            // generator.
            rng = epoch_rng;
            progress.epoch += 1;
        }
        progress.step = done as u64;
        progress.schedule_step = done as u64;
        if let Some(c) = checkpoints {
            c.save(model, &opt, &[("shuffle", &rng)], &progress)?;
        }
    }
    model.set_training(false);
    Ok(TrainLog {
        epochs: done as f64 / per_epoch as f64,
        loss_curve: curve,
    })
}

/// An image [1, side, side] in [0, 1] as ASCII art: `rows` lines of `2·rows` characters.
pub fn ascii_art(pixels: &[f32], side: usize, rows: usize) -> Vec<String> {
    const RAMP: &[u8] = b" .:-=+*#%@";
    let cols = 2 * rows;
    (0..rows)
        .map(|r| {
            (0..cols)
                .map(|c| {
                    // Average the block of pixels this character covers.
                    let (y0, y1) = (
                        r * side / rows,
                        ((r + 1) * side / rows).max(r * side / rows + 1),
                    );
                    let (x0, x1) = (
                        c * side / cols,
                        ((c + 1) * side / cols).max(c * side / cols + 1),
                    );
                    let mut s = 0.0;
                    for y in y0..y1 {
                        for x in x0..x1 {
                            s += pixels[y * side + x];
                        }
                    }
                    let v = s / ((y1 - y0) * (x1 - x0)) as f32;
                    let i = ((v.clamp(0.0, 1.0) * (RAMP.len() - 1) as f32).round()) as usize;
                    RAMP[i] as char
                })
                .collect()
        })
        .collect()
}

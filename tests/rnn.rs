//! neurite-rnn through the facade, on real data: a character-level LSTM language model learns
//! the vendored public-domain corpus (validation bits per character well below the unigram
//! entropy), decodes with greedy and beam search over its own step function, and its
//! parameters survive a safetensors round trip.

use std::io::Read;

use neurite::autograd::{Graph, Var};
use neurite::nn::{clip_grad_norm, cross_entropy, Adam, Embedding, Linear, Module, Optimizer};
use neurite::rnn::decode::{beam_search, greedy, DecodeConfig};
use neurite::rnn::{Gru, Lstm, RecurrentConfig, RnnError, StateTensors};
use neurite::tensor::{Rng, Tensor};

fn corpus(chars: usize) -> Vec<char> {
    let raw = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/neurite-word2vec/data/corpus-pd-1m.txt.gz"
    ))
    .unwrap();
    let mut s = String::new();
    flate2::read::MultiGzDecoder::new(&raw[..])
        .read_to_string(&mut s)
        .unwrap();
    s.chars().take(chars).collect()
}

/// A next state and log-probabilities over the characters.
type Scored = (StateTensors<f32>, Vec<f64>);

struct CharLm {
    embedding: Embedding<f32>,
    lstm: Lstm<f32>,
    head: Linear<f32>,
}

impl CharLm {
    fn step<'g>(
        &self,
        g: &'g Graph<f32>,
        ids: &[usize],
        batch: usize,
        state: &StateTensors<f32>,
    ) -> (Var<'g, f32>, StateTensors<f32>) {
        let steps = ids.len() / batch;
        let x = self
            .embedding
            .lookup_shaped(g, ids, &[batch, steps])
            .unwrap();
        let out = self
            .lstm
            .forward_seq(g, x, None, Some(&state.bind(g)))
            .unwrap();
        let h = self.lstm.config().hidden_size;
        let logits = self
            .head
            .forward(g, out.output.reshape(&[batch * steps, h]).unwrap())
            .unwrap();
        (logits, out.state.to_tensors().unwrap())
    }
    fn zero(&self, batch: usize) -> StateTensors<f32> {
        let h = self.lstm.config().hidden_size;
        StateTensors {
            h: Tensor::zeros(&[1, batch, h]),
            c: Some(Tensor::zeros(&[1, batch, h])),
        }
    }
}

impl Module<f32> for CharLm {
    fn forward<'g>(&self, g: &'g Graph<f32>, x: Var<'g, f32>) -> neurite::nn::Result<Var<'g, f32>> {
        self.lstm.forward(g, self.embedding.forward(g, x)?)
    }
    neurite::nn::walk!(f32; module embedding, module lstm, module head);
}

/// (inputs, next-character targets) of `steps` steps from `start` in each of `batch` streams.
fn chunk(ids: &[usize], batch: usize, start: usize, steps: usize) -> (Vec<usize>, Vec<usize>) {
    let len = ids.len() / batch;
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for s in 0..batch {
        x.extend_from_slice(&ids[s * len + start..s * len + start + steps]);
        y.extend_from_slice(&ids[s * len + start + 1..s * len + start + steps + 1]);
    }
    (x, y)
}

#[test]
fn char_lstm_learns_real_text_and_decodes() {
    let text = corpus(60_000);
    let mut chars = text.clone();
    chars.sort_unstable();
    chars.dedup();
    let ids: Vec<usize> = text
        .iter()
        .map(|c| chars.binary_search(c).unwrap())
        .collect();
    let (train, val) = ids.split_at(54_000);
    // Unigram entropy of the training text: what a model without context can reach.
    let mut counts = vec![0usize; chars.len()];
    train.iter().for_each(|&i| counts[i] += 1);
    let unigram: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / train.len() as f64;
            -p * p.log2()
        })
        .sum();

    let mut rng = Rng::new(21);
    let config = RecurrentConfig {
        input_size: 16,
        hidden_size: 96,
        batch_first: true,
        ..Default::default()
    };
    let mut model = CharLm {
        embedding: Embedding::new(chars.len(), 16, &mut rng).unwrap(),
        lstm: Lstm::new(&config, &mut rng).unwrap(),
        head: Linear::new(96, chars.len(), &mut rng).unwrap(),
    };
    let mut opt = Adam::new(5e-3).unwrap();
    let (batch, bptt) = (16, 48);
    let len = train.len() / batch;
    for _epoch in 0..2 {
        let mut state = model.zero(batch);
        let mut start = 0;
        while start + bptt + 1 < len {
            let (x, y) = chunk(train, batch, start, bptt);
            let g = Graph::new();
            let (logits, next) = model.step(&g, &x, batch, &state);
            state = next;
            let loss = cross_entropy(logits, &y).unwrap();
            let mut grads = loss.backward().unwrap();
            clip_grad_norm(&mut grads, 5.0).unwrap();
            opt.step(&mut model, &grads).unwrap();
            start += bptt;
        }
    }
    // Validation bits per character, carrying the state through one stream.
    let mut state = model.zero(1);
    let (mut total, mut n) = (0.0, 0);
    for start in (0..val.len() - 129).step_by(128) {
        let g = Graph::inference();
        let (logits, next) = model.step(&g, &val[start..start + 128], 1, &state);
        state = next;
        total += cross_entropy(logits, &val[start + 1..start + 129])
            .unwrap()
            .item()
            .unwrap() as f64
            * 128.0;
        n += 128;
    }
    let bpc = total / n as f64 / std::f64::consts::LN_2;
    assert!(
        bpc < unigram - 1.0,
        "validation {bpc:.3} bits/char, unigram entropy {unigram:.3}"
    );

    // Decoding over the model's own step function, after the prompt "and the".
    let prompt: Vec<usize> = "and the"
        .chars()
        .map(|c| chars.binary_search(&c).unwrap())
        .collect();
    let g = Graph::inference();
    let (_, primed) = model.step(&g, &prompt[..prompt.len() - 1], 1, &model.zero(1));
    let step = |states: &[StateTensors<f32>], last: &[usize]| -> Result<Vec<Scored>, RnnError> {
        Ok(states
            .iter()
            .zip(last)
            .map(|(s, &t)| {
                let g = Graph::inference();
                let (logits, next) = model.step(&g, &[t], 1, s);
                let lp = logits.value().unwrap().log_softmax(1).unwrap().to_vec();
                (next, lp.iter().map(|&v| v as f64).collect())
            })
            .collect())
    };
    let space = chars.binary_search(&' ').unwrap();
    let c = DecodeConfig {
        start_token: *prompt.last().unwrap(),
        end_token: Some(space),
        max_len: 12,
        beam_width: 1,
        length_penalty: 0.0,
    };
    let g1 = greedy(primed.clone(), &c, step).unwrap();
    let b1 = beam_search(primed.clone(), &c, step).unwrap();
    assert_eq!(b1[0], g1, "a beam of width 1 is greedy decoding");
    let b4 = beam_search(primed, &DecodeConfig { beam_width: 4, ..c }, step).unwrap();
    assert!(
        b4[0].log_prob >= g1.log_prob - 1e-9,
        "the beam finds a sequence at least as likely"
    );
    assert!(b4.windows(2).all(|w| w[0].log_prob >= w[1].log_prob));
}

#[test]
fn parameters_round_trip_through_safetensors_with_pytorch_names() {
    let mut rng = Rng::new(8);
    let config = RecurrentConfig {
        input_size: 6,
        hidden_size: 5,
        num_layers: 2,
        bidirectional: true,
        ..Default::default()
    };
    let gru = Gru::<f32>::new(&config, &mut rng).unwrap();
    let dir = std::env::temp_dir().join(format!("neurite-rnn-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("gru.safetensors");
    neurite::nn::save_params(&gru, &path).unwrap();
    let mut other = Gru::<f32>::new(&config, &mut Rng::new(99)).unwrap();
    let x = Tensor::rand_normal(&[4, 3, 6], 0.0, 1.0, &mut rng);
    let run = |m: &Gru<f32>| {
        let g = Graph::inference();
        m.forward_seq(&g, g.constant(x.clone()), Some(&[4, 1, 3]), None)
            .unwrap()
            .output
            .value()
            .unwrap()
            .to_vec()
    };
    assert_ne!(run(&gru), run(&other));
    neurite::nn::load_params(&mut other, &path).unwrap();
    assert_eq!(run(&gru), run(&other));
    let names: Vec<String> = neurite::nn::param_shapes(&other)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(names.contains(&"weight_hh_l1_reverse".to_string()));
    // A model of another shape is refused with a typed error, and keeps its values.
    let mut wrong = Gru::<f32>::new(
        &RecurrentConfig {
            hidden_size: 7,
            ..config
        },
        &mut rng,
    )
    .unwrap();
    assert!(neurite::nn::load_params(&mut wrong, &path).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

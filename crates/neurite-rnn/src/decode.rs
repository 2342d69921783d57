//! Decoding a sequence from a step function: greedy and beam search.
//!
//! A decoder (an RNN language model, the RNN half of an encoder–decoder) is seen through one
//! function: given the states of the live hypotheses and the last token of each, it returns
//! each one's next state and its log-probabilities over the vocabulary. Batching the live
//! hypotheses into one call lets an RNN decoder run one matmul per step for the whole beam.
//!
//! ```
//! use neurite_rnn::decode::{beam_search, greedy, DecodeConfig};
//! // A toy model whose state is the prefix so far: after token 1 it prefers to stop (token 0).
//! let step = |states: &[Vec<usize>], last: &[usize]| {
//!     Ok(states.iter().zip(last).map(|(s, &t)| {
//!         let mut s = s.clone();
//!         s.push(t);
//!         let p: Vec<f64> = if t == 1 { vec![0.9, 0.05, 0.05] } else { vec![0.1, 0.6, 0.3] };
//!         (s, p.iter().map(|x| x.ln()).collect())
//!     }).collect())
//! };
//! let config = DecodeConfig { start_token: 2, end_token: Some(0), max_len: 5, ..Default::default() };
//! let best = greedy(Vec::new(), &config, step)?;
//! assert_eq!(best.tokens, vec![1]);
//! let beams = beam_search(Vec::new(), &DecodeConfig { beam_width: 3, ..config }, step)?;
//! assert_eq!(beams[0].tokens, vec![1]);
//! # Ok::<(), neurite_rnn::RnnError>(())
//! ```

use crate::error::{Result, RnnError};

/// Settings of a decode.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeConfig {
    /// The token fed at the first step (e.g. a start-of-sequence symbol).
    pub start_token: usize,
    /// The token that ends a hypothesis (not included in its tokens); `None`: run to `max_len`.
    pub end_token: Option<usize>,
    /// Maximum number of generated tokens (end token included). Default 50.
    pub max_len: usize,
    /// Hypotheses kept per step (beam search only). Default 1.
    pub beam_width: usize,
    /// Length normalisation α: hypotheses are ranked by log P / lenᵅ. 0 (the default) ranks by
    /// log P itself.
    pub length_penalty: f64,
}

impl Default for DecodeConfig {
    fn default() -> Self {
        DecodeConfig {
            start_token: 0,
            end_token: None,
            max_len: 50,
            beam_width: 1,
            length_penalty: 0.0,
        }
    }
}

/// A decoded sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    /// The generated tokens (start and end tokens excluded).
    pub tokens: Vec<usize>,
    /// Σ log P of the chosen tokens (end token included).
    pub log_prob: f64,
    /// True when it ended with the end token (false: cut at `max_len`).
    pub finished: bool,
}

impl Hypothesis {
    /// The ranking score: log P / lenᵅ with len counting the end token.
    pub fn score(&self, length_penalty: f64) -> f64 {
        if length_penalty == 0.0 {
            return self.log_prob;
        }
        let len = (self.tokens.len() + usize::from(self.finished)).max(1) as f64;
        self.log_prob / len.powf(length_penalty)
    }
}

fn check_config(what: &'static str, c: &DecodeConfig) -> Result<()> {
    if c.max_len == 0 {
        return Err(RnnError::config(what, "max_len must be at least 1, got 0"));
    }
    if c.beam_width == 0 {
        return Err(RnnError::config(
            what,
            "beam_width must be at least 1, got 0",
        ));
    }
    if !(c.length_penalty >= 0.0 && c.length_penalty.is_finite()) {
        return Err(RnnError::config(
            what,
            format!(
                "length_penalty must be finite and ≥ 0, got {}",
                c.length_penalty
            ),
        ));
    }
    Ok(())
}

/// Calls the step function and checks what it returns: one (state, log-probs) per hypothesis,
/// every row of the same length V ≥ 1 (also the same V as earlier steps), no NaN, no +∞.
fn call_step<S, F>(
    what: &'static str,
    step: &mut F,
    states: &[S],
    last: &[usize],
    vocab: &mut Option<usize>,
) -> Result<Vec<(S, Vec<f64>)>>
where
    F: FnMut(&[S], &[usize]) -> Result<Vec<(S, Vec<f64>)>>,
{
    let out = step(states, last)?;
    if out.len() != states.len() {
        return Err(RnnError::config(
            what,
            format!(
                "the step function returned {} results for {} hypotheses",
                out.len(),
                states.len()
            ),
        ));
    }
    for (i, (_, lp)) in out.iter().enumerate() {
        let v = *vocab.get_or_insert(lp.len());
        if lp.is_empty() || lp.len() != v {
            return Err(RnnError::config(
                what,
                format!(
                    "log-probabilities of hypothesis {i} have length {}, expected {v} ≥ 1",
                    lp.len()
                ),
            ));
        }
        if let Some(j) = lp.iter().position(|x| x.is_nan() || *x == f64::INFINITY) {
            return Err(RnnError::config(
                what,
                format!(
                    "log-probability {} of token {j} (hypothesis {i}) is not a log-probability",
                    lp[j]
                ),
            ));
        }
    }
    Ok(out)
}

/// Index of the largest value (the first one on ties).
fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// Greedy decoding: at every step take the most probable token; stop at the end token or
/// after `max_len` tokens. `beam_width` is ignored.
pub fn greedy<S, F>(init: S, config: &DecodeConfig, mut step: F) -> Result<Hypothesis>
where
    F: FnMut(&[S], &[usize]) -> Result<Vec<(S, Vec<f64>)>>,
{
    check_config("greedy", config)?;
    let mut state = vec![init];
    let mut last = config.start_token;
    let mut hyp = Hypothesis {
        tokens: Vec::new(),
        log_prob: 0.0,
        finished: false,
    };
    let mut vocab = None;
    for _ in 0..config.max_len {
        let mut out = call_step("greedy", &mut step, &state, &[last], &mut vocab)?;
        let (next, lp) = out.pop().expect("one result checked"); // ok: call_step checked the count
        let tok = argmax(&lp);
        hyp.log_prob += lp[tok];
        if Some(tok) == config.end_token {
            hyp.finished = true;
            break;
        }
        hyp.tokens.push(tok);
        state = vec![next];
        last = tok;
    }
    Ok(hyp)
}

/// Beam search: keeps the `beam_width` best partial hypotheses (by Σ log P, or by the length-
/// normalised score when `length_penalty` > 0); a candidate that picks the end token among the
/// best `beam_width` of a step is finished. Stops when `beam_width` hypotheses are finished and
/// none of the live ones scores better than the worst of them (exact without length penalty,
/// as log P only falls), or after `max_len` steps. Returns up to `beam_width` hypotheses, best
/// first; unfinished ones (cut at `max_len`) compete with finished ones by score.
pub fn beam_search<S: Clone, F>(
    init: S,
    config: &DecodeConfig,
    mut step: F,
) -> Result<Vec<Hypothesis>>
where
    F: FnMut(&[S], &[usize]) -> Result<Vec<(S, Vec<f64>)>>,
{
    check_config("beam_search", config)?;
    let k = config.beam_width;
    let alpha = config.length_penalty;
    let rank = |a: &Hypothesis, b: &Hypothesis| b.score(alpha).total_cmp(&a.score(alpha));
    let mut live: Vec<(S, Hypothesis)> = vec![(
        init,
        Hypothesis {
            tokens: Vec::new(),
            log_prob: 0.0,
            finished: false,
        },
    )];
    let mut finished: Vec<Hypothesis> = Vec::new();
    let mut vocab = None;
    for _ in 0..config.max_len {
        if live.is_empty() {
            break;
        }
        let last: Vec<usize> = live
            .iter()
            .map(|(_, h)| h.tokens.last().copied().unwrap_or(config.start_token))
            .collect();
        let (states, hyps): (Vec<S>, Vec<Hypothesis>) = live.into_iter().unzip();
        let out = call_step("beam_search", &mut step, &states, &last, &mut vocab)?;
        // Candidates (score, hypothesis, token); only each hypothesis' best k can make the cut.
        // Sized by the candidates that exist, not by beam_width (a user setting: 10^12 aborted).
        let n_cand = out.iter().map(|(_, lp)| k.min(lp.len())).sum();
        let mut cand: Vec<(f64, usize, usize)> = Vec::with_capacity(n_cand);
        for (i, (_, lp)) in out.iter().enumerate() {
            let mut idx: Vec<usize> = (0..lp.len()).collect();
            let take = k.min(idx.len());
            idx.select_nth_unstable_by(take - 1, |&a, &b| lp[b].total_cmp(&lp[a]));
            for &v in &idx[..take] {
                // Either way the length grows by one: a new token, or the end token.
                let log_prob = hyps[i].log_prob + lp[v];
                let len = (hyps[i].tokens.len() + 1) as f64;
                let score = if alpha == 0.0 {
                    log_prob
                } else {
                    log_prob / len.powf(alpha)
                };
                cand.push((score, i, v));
            }
        }
        cand.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        live = Vec::with_capacity(k.min(cand.len()));
        for (rank_pos, &(_, i, v)) in cand.iter().enumerate() {
            if live.len() == k {
                break;
            }
            let lp = hyps[i].log_prob + out[i].1[v];
            if Some(v) == config.end_token {
                if rank_pos < k {
                    finished.push(Hypothesis {
                        tokens: hyps[i].tokens.clone(),
                        log_prob: lp,
                        finished: true,
                    });
                }
            } else {
                let mut tokens = hyps[i].tokens.clone();
                tokens.push(v);
                live.push((
                    out[i].0.clone(),
                    Hypothesis {
                        tokens,
                        log_prob: lp,
                        finished: false,
                    },
                ));
            }
        }
        if finished.len() >= k {
            finished.sort_by(rank);
            finished.truncate(k);
            let worst = finished[k - 1].score(alpha);
            if live.iter().all(|(_, h)| h.score(alpha) <= worst) {
                live.clear();
                break;
            }
        }
    }
    let mut all = finished;
    all.extend(live.into_iter().map(|(_, h)| h));
    all.sort_by(rank);
    all.truncate(k);
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A step function over a fixed table: log-probabilities depend on the prefix so far
    /// (the state). Tokens: 0 = end, 1 = "a", 2 = "b", 3 = start.
    fn table(prefix: &[usize]) -> Vec<f64> {
        let p: [f64; 3] = match prefix {
            // First step: "a" looks best locally…
            [] => [0.0, 0.6, 0.4],
            // …but every continuation of "a" is uncertain,
            [1] => [0.35, 0.35, 0.3],
            // while "b" is followed by the end with high probability.
            [2] => [0.9, 0.05, 0.05],
            _ => [0.8, 0.1, 0.1],
        };
        p.iter()
            .map(|x| if *x == 0.0 { f64::NEG_INFINITY } else { x.ln() })
            .chain([f64::NEG_INFINITY])
            .collect()
    }

    fn step(states: &[Vec<usize>], last: &[usize]) -> Result<Vec<(Vec<usize>, Vec<f64>)>> {
        Ok(states
            .iter()
            .zip(last)
            .map(|(s, &t)| {
                let mut s = s.clone();
                if t != 3 {
                    s.push(t);
                }
                let lp = table(&s);
                (s, lp)
            })
            .collect())
    }

    fn config(k: usize) -> DecodeConfig {
        DecodeConfig {
            start_token: 3,
            end_token: Some(0),
            max_len: 10,
            beam_width: k,
            length_penalty: 0.0,
        }
    }

    #[test]
    fn beam_finds_the_known_best_sequence_that_greedy_misses() {
        let g = greedy(Vec::new(), &config(1), step).unwrap();
        // Greedy: "a" (0.6) then the end (0.35): P = 0.21.
        assert_eq!(g.tokens, vec![1]);
        assert!((g.log_prob - (0.6f64 * 0.35).ln()).abs() < 1e-12);
        let b = beam_search(Vec::new(), &config(2), step).unwrap();
        // Beam 2: "b" (0.4) then the end (0.9): P = 0.36, the best sequence.
        assert_eq!(b[0].tokens, vec![2]);
        assert!(b[0].finished);
        assert!((b[0].log_prob - (0.4f64 * 0.9).ln()).abs() < 1e-12);
        assert_eq!(b.len(), 2);
        assert!(b[0].log_prob >= b[1].log_prob);
        // Exhaustive check over all sequences up to 3 tokens: the beam's best is the best.
        let mut best = f64::NEG_INFINITY;
        let mut stack = vec![(Vec::<usize>::new(), 0.0f64)];
        while let Some((prefix, lp)) = stack.pop() {
            let next = table(&prefix);
            best = best.max(lp + next[0]);
            if prefix.len() < 3 {
                for t in [1, 2] {
                    let mut p = prefix.clone();
                    p.push(t);
                    stack.push((p, lp + next[t]));
                }
            }
        }
        assert!((b[0].log_prob - best).abs() < 1e-12);
    }

    #[test]
    fn a_huge_beam_width_keeps_what_exists() {
        // beam_width 10^12 reserved 10^12 candidates (an allocation abort); the beam holds at
        // most every hypothesis there is.
        let short = |k| DecodeConfig {
            max_len: 5,
            ..config(k)
        };
        let huge = beam_search(Vec::new(), &short(1_000_000_000_000), step).unwrap();
        // Three tokens over five steps: fewer than 3^5 hypotheses, all kept by both.
        let wide = beam_search(Vec::new(), &short(1000), step).unwrap();
        assert_eq!(huge, wide);
        assert_eq!(huge[0].tokens, vec![2]);
    }

    #[test]
    fn beam_width_one_equals_greedy() {
        // Random tables over several seeds: width-1 beam and greedy agree token for token.
        for seed in 0..20u64 {
            let mut rng = neurite_tensor::Rng::new(seed);
            let v = 5;
            let probs: Vec<Vec<f64>> = (0..64)
                .map(|_| {
                    let raw: Vec<f64> = (0..v).map(|_| rng.uniform() + 1e-3).collect();
                    let s: f64 = raw.iter().sum();
                    raw.iter().map(|x| (x / s).ln()).collect()
                })
                .collect();
            let f = |states: &[usize], last: &[usize]| {
                Ok(states
                    .iter()
                    .zip(last)
                    .map(|(&s, &t)| {
                        let n = (s * 7 + t * 3 + 1) % probs.len();
                        (n, probs[n].clone())
                    })
                    .collect())
            };
            let c = DecodeConfig {
                start_token: 4,
                end_token: Some(0),
                max_len: 12,
                beam_width: 1,
                length_penalty: 0.0,
            };
            let g = greedy(1usize, &c, f).unwrap();
            let b = beam_search(1usize, &c, f).unwrap();
            assert_eq!(b.len(), 1);
            assert_eq!(b[0], g, "seed {seed}");
        }
    }

    #[test]
    fn without_end_token_runs_to_max_len() {
        let c = DecodeConfig {
            start_token: 3,
            end_token: None,
            max_len: 4,
            beam_width: 3,
            length_penalty: 0.0,
        };
        let g = greedy(Vec::new(), &c, step).unwrap();
        assert_eq!(g.tokens.len(), 4);
        assert!(!g.finished);
        let b = beam_search(Vec::new(), &c, step).unwrap();
        assert_eq!(b.len(), 3);
        assert!(b.iter().all(|h| h.tokens.len() == 4 && !h.finished));
    }

    #[test]
    fn length_penalty_favours_longer_hypotheses() {
        let step = |states: &[usize], _: &[usize]| {
            Ok(states
                .iter()
                .map(|&s| {
                    // Ending costs ln 0.3, continuing ln 0.65: by Σ log P the shortest
                    // hypothesis wins, per token the longer ones do.
                    (s + 1, vec![0.3f64.ln(), 0.65f64.ln(), 0.05f64.ln()])
                })
                .collect())
        };
        let mut c = DecodeConfig {
            start_token: 2,
            end_token: Some(0),
            max_len: 6,
            beam_width: 2,
            length_penalty: 0.0,
        };
        let plain = beam_search(0usize, &c, step).unwrap();
        assert!(plain[0].tokens.is_empty());
        c.length_penalty = 1.0;
        let normed = beam_search(0usize, &c, step).unwrap();
        assert!(!normed[0].tokens.is_empty());
    }

    #[test]
    fn bad_settings_and_bad_step_functions_are_typed_errors() {
        assert!(beam_search(Vec::new(), &config(0), step).is_err());
        let mut c = config(1);
        c.max_len = 0;
        assert!(greedy(Vec::new(), &c, step).is_err());
        c = config(2);
        c.length_penalty = f64::NAN;
        assert!(beam_search(Vec::new(), &c, step).is_err());
        let wrong_count = |_: &[usize], _: &[usize]| Ok(vec![]);
        assert!(greedy(0usize, &config(1), wrong_count).is_err());
        let nan =
            |s: &[usize], _: &[usize]| Ok(s.iter().map(|&x| (x, vec![f64::NAN, 0.0])).collect());
        assert!(beam_search(0usize, &config(2), nan).is_err());
        let empty = |s: &[usize], _: &[usize]| Ok(s.iter().map(|&x| (x, vec![])).collect());
        assert!(greedy(0usize, &config(1), empty).is_err());
    }
}

//! Training: CBOW and skip-gram with negative sampling and/or hierarchical softmax, by
//! hand-derived sparse updates (no graph), on one thread or many.
//!
//! Each thread reads its own byte ranges of the corpus (on one thread, the whole file once
//! per epoch; on several, parts of 1/16 of a thread's share: in the Hogwild mode handed out to
//! whichever thread is free, so that the threads finish together; in the deterministic mode
//! on a fixed schedule that keeps the threads in neighbouring parts), cuts them into sentences
//! (line breaks, or `max_sentence_len` kept words), drops frequent words by sub-sampling, and for each target
//! word draws an effective window. For an input vector h (the context mean in CBOW, one
//! context word's vector in skip-gram) and an output unit v' with label y (1 for the target or
//! the branch taken in the Huffman tree, 0 for a negative sample), the loss is
//! −log σ(±h·v'); its upstream gradient with respect to the score is g = (y − σ(h·v'))·α
//! (α folded in), and the downstream gradients are g·v' for h and g·h for v'. The output
//! vectors are updated at once; the input vectors receive the summed g·v' (`neu1e`) after all
//! output units of the target.
//!
//! # Sharing the weights between threads
//!
//! * One thread: the worker owns the weights; no race is possible.
//! * [`ThreadMode::Hogwild`] (word2vec.c's scheme): all threads update one shared model
//!   without locks. Two threads may read and write the same `f32` at once. This is a
//!   deliberate, documented race: a reader may see an old value, and of two concurrent
//!   `+=` one may be lost, which SGD tolerates (Recht et al., 2011), exactly as in the original
//!   C code, gensim and fastText. Each element is an aligned 4-byte `f32`, so on every
//!   supported target a load or store of it is a single instruction and a value is never torn.
//!   The Rust memory model nonetheless calls such a race undefined, so neurite confines it:
//!   the shared matrices are reached only through the private `Rows` type, whose `row` is `unsafe` and whose
//!   slices live for one kernel call; nothing else ever reads the training buffers until every
//!   thread has been joined; and users who need a race-free run choose one thread or
//!   [`ThreadMode::Deterministic`].
//!   The most-used rows (`private_rows` of each matrix: the most frequent words, the Huffman
//!   nodes nearest the root) are the exception: each thread trains its own copy of them and
//!   every 10,000 words adds its changes into the shared rows and takes the result back (see
//!   `Stage`), so that these rows, which every thread writes all the time, do not bounce
//!   between the cores' caches.
//! * [`ThreadMode::Deterministic`]: each thread updates a private copy for a round of
//!   `sync_words` words (on average; a round ends after the matching number of words kept
//!   by sub-sampling, so that the threads' rounds cost about the same), marking the rows it
//!   touches in a bit set; after all threads join, a row one thread touched takes its value,
//!   a row several touched becomes base + Σ_t (copy_t − base), summed in thread order, and
//!   the result is copied back into every copy (the threads merge disjoint stripes of rows in
//!   parallel). The `sync_hot_rows` most-used rows are merged after every round, the others
//!   every `sync_cold_rounds` rounds, and after the last. A thread that ends its round before
//!   the others reads ahead in its part of the corpus (words to vocabulary indices, no random
//!   draw) instead of idling. No memory is shared
//!   while threads run, so there is no race and the result depends only on the seed and the
//!   thread count.

mod chunks;
mod deterministic;
mod hogwild;
mod shared;
mod worker;

#[cfg(test)]
mod tests;

use std::time::Instant;

use neurite_tensor::memory::huge_page_vec;
use neurite_tensor::simd::{self, Level};
use neurite_tensor::Rng;

use crate::config::{ThreadMode, TrainConfig};
use crate::corpus::Corpus;
use crate::error::{Error, Result};
use crate::kernels::{Fma, Portable};
use crate::sampling::Lcg;
use crate::vectors::KeyedVectors;
use crate::vocab::Vocabulary;
use deterministic::train_deterministic;
use hogwild::{Stage, Weights};
use shared::Shared;
use worker::{TrainChunk, Worker};

/// A trained model: the vocabulary, the input vectors (the word vectors) and the output
/// vectors of each objective.
#[derive(Clone, Debug)]
pub struct Word2Vec {
    vocab: Vocabulary,
    config: TrainConfig,
    /// Input vectors `[vocab, dim]`.
    syn0: Vec<f32>,
    /// Hierarchical-softmax output vectors `[vocab − 1, dim]` (one per inner node), or empty.
    syn1: Vec<f32>,
    /// Negative-sampling output vectors `[vocab, dim]`, or empty.
    syn1neg: Vec<f32>,
}

/// Figures of one training run.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainStats {
    /// Vocabulary words read over all epochs, line breaks included (word2vec.c's count, which
    /// drives the learning rate).
    pub words: u64,
    /// Corpus words read over all epochs, out-of-vocabulary words included (what gensim counts).
    pub corpus_words: u64,
    /// Seconds of training (vocabulary building and allocation excluded).
    pub seconds: f64,
    /// `corpus_words / seconds`.
    pub words_per_sec: f64,
    /// Threads used.
    pub threads: usize,
    /// Bytes of model memory, as [`TrainConfig::memory_bytes`] computes them.
    pub memory_bytes: u64,
    /// Seconds from the start of training until each thread had read its last word: their
    /// spread is the load imbalance between threads (the run lasts as long as the slowest).
    pub thread_seconds: Vec<f64>,
}

impl Word2Vec {
    /// Builds the vocabulary of `corpus` with `config.vocab`, then trains.
    ///
    /// ```
    /// use neurite_word2vec::{Corpus, TrainConfig, Word2Vec};
    /// let corpus = Corpus::from_bytes("toy", "the cat sat on the mat ".repeat(50).into_bytes());
    /// let mut config = TrainConfig::skip_gram();
    /// config.dim = 8;
    /// config.vocab.min_count = 1;
    /// let (model, stats) = Word2Vec::train(&corpus, &config)?;
    /// assert_eq!(model.vocabulary().len(), 6); // `</s>` and five words
    /// assert!(stats.words >= 5 * 300);
    /// # Ok::<(), neurite_word2vec::Error>(())
    /// ```
    pub fn train(corpus: &Corpus, config: &TrainConfig) -> Result<(Word2Vec, TrainStats)> {
        config.validate()?;
        let vocab = Vocabulary::build_counting(corpus, &config.vocab, config.reference_parity)?;
        Self::train_with_vocab(corpus, vocab, config)
    }

    /// Trains on `corpus` with a vocabulary built (or loaded) beforehand.
    pub fn train_with_vocab(
        corpus: &Corpus,
        vocab: Vocabulary,
        config: &TrainConfig,
    ) -> Result<(Word2Vec, TrainStats)> {
        config.validate()?;
        let v = vocab.len();
        let dim = config.dim;
        let memory_bytes = config.memory_bytes(v);
        if config.progress {
            eprintln!(
                "Vocab size: {}\nWords in train file: {}\nModel memory: {:.1} MB",
                v,
                vocab.total_words(),
                memory_bytes as f64 / 1e6
            );
        }
        // Every matrix is checked against the memory there is before any is made.
        let elements = v.checked_mul(dim).ok_or_else(|| Error::Overflow {
            path: corpus.path().to_path_buf(),
            what: format!("a matrix of {v} words × {dim} dimensions"),
        })?;
        let copies = if threads_copy(config) {
            config.threads
        } else {
            0
        };
        let matrices = 1 + config.hs as usize + (config.negative > 0) as usize;
        let total = elements
            .checked_mul(matrices * (1 + copies))
            .ok_or_else(|| Error::Overflow {
                path: corpus.path().to_path_buf(),
                what: format!("{} weight matrices of {v} × {dim}", matrices * (1 + copies)),
            })?;
        crate::io::check_allocation::<f32>(total, "the weight matrices")?;
        let mut syn0 = initial_input_vectors(v, dim, config);
        let mut syn1 = if config.hs {
            huge_page_vec(v.saturating_sub(1) * dim, 0.0f32)
        } else {
            Vec::new()
        };
        let mut syn1neg = if config.negative > 0 {
            huge_page_vec(elements, 0.0f32)
        } else {
            Vec::new()
        };
        let stats = run(
            corpus,
            &vocab,
            config,
            vocab.total_words(),
            [&mut syn0, &mut syn1, &mut syn1neg],
        )?;
        Ok((
            Word2Vec {
                vocab,
                config: config.clone(),
                syn0,
                syn1,
                syn1neg,
            },
            stats,
        ))
    }

    /// Trains further on `corpus` (any text) with the same vocabulary and settings, as
    /// gensim's `train()` on new sentences: words outside the vocabulary are skipped, the
    /// learning rate starts again at `alpha` and falls over `epochs` passes of the new text
    /// (its words are counted first, as gensim needs `total_words`), and sub-sampling and
    /// negative sampling keep the frequencies of the vocabulary. `epochs`: `None` keeps the
    /// model's.
    ///
    /// ```
    /// use neurite_word2vec::{Corpus, TrainConfig, Word2Vec};
    /// let first = Corpus::from_bytes("a", "the cat sat on the mat ".repeat(50).into_bytes());
    /// let mut config = TrainConfig::skip_gram();
    /// (config.dim, config.vocab.min_count) = (8, 1);
    /// let (mut model, _) = Word2Vec::train(&first, &config)?;
    /// let more = Corpus::from_bytes("b", "the mat sat on the cat ".repeat(50).into_bytes());
    /// let stats = model.train_more(&more, Some(2))?;
    /// assert!(stats.words > 0);
    /// # Ok::<(), neurite_word2vec::Error>(())
    /// ```
    pub fn train_more(&mut self, corpus: &Corpus, epochs: Option<usize>) -> Result<TrainStats> {
        let mut config = self.config.clone();
        if let Some(e) = epochs {
            config.epochs = e;
        }
        config.validate()?;
        // word2vec.c's count of the new text: in-vocabulary words and line breaks.
        let mut tokens = corpus.tokens(0, corpus.len_bytes()?, config.reference_parity)?;
        let mut words = 0u64;
        while let Some(t) = tokens.next_token()? {
            let known = match t {
                crate::corpus::Token::Newline => true,
                crate::corpus::Token::Word(w) => self.vocab.index_bytes(w).is_some(),
            };
            words += known as u64;
        }
        if words == 0 {
            return Err(Error::EmptyCorpus {
                path: corpus.path().to_path_buf(),
            });
        }
        let stats = run(
            corpus,
            &self.vocab,
            &config,
            words,
            [&mut self.syn0, &mut self.syn1, &mut self.syn1neg],
        )?;
        self.config = config;
        Ok(stats)
    }

    /// Grows the vocabulary with the words of `corpus` seen at least `min_count` times there
    /// (gensim's `build_vocab(update=True)`), adding the new counts to the words already
    /// known; returns how many words were added. New words get fresh input vectors (drawn as
    /// at the start of training, from the seed and their index) and zero output vectors; they
    /// are appended after the old words, so the vocabulary is no longer in frequency order.
    ///
    /// The limits are gensim's: the words already trained keep their vectors, which were
    /// trained against the old frequencies; sub-sampling and negative sampling use the merged
    /// counts from now on; with hierarchical softmax the Huffman tree is rebuilt on the next
    /// run from the new counts, so the inner-node vectors no longer sit on the paths they were
    /// trained for (train again with enough data, or prefer negative sampling). Rare words of
    /// `corpus` are counted with word2vec.c's pruning, as in [`Vocabulary::build`].
    pub fn grow_vocabulary(&mut self, corpus: &Corpus, min_count: u64) -> Result<usize> {
        let opts = crate::vocab::VocabOptions {
            min_count,
            ..self.config.vocab.clone()
        };
        let new = match Vocabulary::build(corpus, &opts) {
            Ok(v) => v,
            Err(Error::EmptyVocabulary { .. }) => return Ok(0),
            Err(e) => return Err(e),
        };
        let old_len = self.vocab.len();
        let added = self.vocab.merge(&new)?;
        let dim = self.config.dim;
        let v = self.vocab.len();
        let rows = |m: &Vec<f32>| m.len() / dim;
        let grow = |m: &mut Vec<f32>, rows: usize| -> Result<()> {
            let extra = rows.saturating_mul(dim).saturating_sub(m.len());
            crate::io::try_grow(m, extra, "the grown weight matrices")?;
            m.resize(rows * dim, 0.0);
            Ok(())
        };
        let before = rows(&self.syn0);
        grow(&mut self.syn0, v)?;
        // New rows: uniform in ±init_range/dim, from a generator of the seed and the row.
        for (i, row) in self.syn0.chunks_exact_mut(dim).enumerate().skip(before) {
            let mut r = Rng::new(self.config.seed).fork(i as u64);
            for x in row {
                let u = (r.next_u64() >> 40) as f32 / 16_777_216.0;
                *x = (2.0 * u - 1.0) * self.config.init_range / dim as f32;
            }
        }
        if self.config.hs {
            grow(&mut self.syn1, v - 1)?;
        }
        if self.config.negative > 0 {
            grow(&mut self.syn1neg, v)?;
        }
        debug_assert_eq!(v, old_len + added);
        Ok(added)
    }
}

/// Trains the matrices `[syn0, syn1, syn1neg]` (of `vocab`'s shapes) on `corpus`, the learning
/// rate falling over `epochs` passes of `schedule_words` words.
fn run(
    corpus: &Corpus,
    vocab: &Vocabulary,
    config: &TrainConfig,
    schedule_words: u64,
    [syn0, syn1, syn1neg]: [&mut Vec<f32>; 3],
) -> Result<TrainStats> {
    let dim = config.dim;
    let memory_bytes = config.memory_bytes(vocab.len());
    {
        let shared = Shared::new(corpus, vocab, config, schedule_words)?;
        let threads = config.threads;
        let mut workers: Vec<Worker> = (0..threads)
            .map(|t| {
                let range = match &shared.chunks {
                    Some(chunks) if config.thread_mode == ThreadMode::Deterministic => {
                        chunks.static_part(t, 0).unwrap_or((0, 0))
                    }
                    Some(chunks) => chunks.take().unwrap_or((0, 0)),
                    None => (
                        shared.file_len * t as u64 / threads as u64,
                        shared.file_len * (t as u64 + 1) / threads as u64,
                    ),
                };
                Worker::new(t, range, &shared)
            })
            .collect::<Result<_>>()?;

        let started = Instant::now();
        let base = Weights::new(syn0, syn1, syn1neg, dim);
        if threads == 1 {
            // SAFETY: this thread alone uses the weights until `run` returns.
            unsafe { run_worker(&mut workers[0], &shared, base, u64::MAX)? };
        } else if config.thread_mode == ThreadMode::Hogwild {
            if config.private_rows > 0 {
                for w in &mut workers {
                    // SAFETY: no training thread runs yet.
                    w.stage = Some(unsafe { Stage::new(base, config.private_rows) });
                }
            }
            let results: Vec<Result<()>> = std::thread::scope(|s| {
                let handles: Vec<_> = workers
                    .iter_mut()
                    .map(|w| {
                        let shared = &shared;
                        // SAFETY: every thread updates the same weights: the deliberate
                        // Hogwild race described in the module documentation. `syn0`, `syn1`
                        // and `syn1neg` outlive the scope and are not touched otherwise until
                        // all threads have joined.
                        s.spawn(move || unsafe { run_worker(w, shared, base, u64::MAX) })
                    })
                    .collect();
                handles.into_iter().map(join).collect()
            });
            results.into_iter().collect::<Result<Vec<()>>>()?;
        } else {
            train_deterministic(&mut workers, &shared, syn0, syn1, syn1neg, dim)?;
        }
        if config.progress {
            eprintln!();
        }
        let seconds = started.elapsed().as_secs_f64();
        let thread_seconds = workers
            .iter()
            .map(|w| {
                w.finished_at
                    .map_or(seconds, |t| t.duration_since(started).as_secs_f64())
            })
            .collect();
        let words: u64 = workers.iter().map(|w| w.words_read).sum();
        let corpus_words: u64 = workers.iter().map(|w| w.tokens_read).sum();
        let stats = TrainStats {
            words,
            corpus_words,
            seconds,
            words_per_sec: corpus_words as f64 / seconds.max(1e-9),
            threads,
            memory_bytes,
            thread_seconds,
        };
        drop(shared);
        Ok(stats)
    }
}

impl Word2Vec {
    /// The vocabulary.
    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocab
    }

    /// The settings it was trained with.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Vector dimension.
    pub fn dim(&self) -> usize {
        self.config.dim
    }

    /// The input vectors (the word vectors), row-major `[vocab, dim]`.
    pub fn input_vectors(&self) -> &[f32] {
        &self.syn0
    }

    /// The negative-sampling output vectors `[vocab, dim]` (empty without negative sampling).
    pub fn output_vectors(&self) -> &[f32] {
        &self.syn1neg
    }

    /// The hierarchical-softmax inner-node vectors `[vocab − 1, dim]` (empty without it).
    pub fn inner_node_vectors(&self) -> &[f32] {
        &self.syn1
    }

    /// The word vectors with their words, for similarity queries and saving.
    pub fn to_keyed_vectors(&self) -> KeyedVectors {
        KeyedVectors::new(
            self.vocab.words().to_vec(),
            self.config.dim,
            self.syn0.clone(),
        )
        .expect("the model's matrix matches its vocabulary")
    }

    /// As [`Word2Vec::to_keyed_vectors`], without copying.
    pub fn into_keyed_vectors(self) -> KeyedVectors {
        KeyedVectors::new(self.vocab.words().to_vec(), self.config.dim, self.syn0)
            .expect("the model's matrix matches its vocabulary")
    }
}

/// Input vectors before training: uniform in [−r/dim, r/dim) with r = `config.init_range`
/// (default 1.0, gensim 4's range), or drawn as word2vec.c does (its generator from 1, 16 bits
/// per value, r = 0.5) in the reference-parity mode. The wider range scores slightly better on
/// the analogies (the README's word2vec design notes have the figures).
fn initial_input_vectors(v: usize, dim: usize, config: &TrainConfig) -> Vec<f32> {
    let mut syn0 = huge_page_vec(v * dim, 0.0f32);
    if config.reference_parity {
        let mut r = Lcg(1);
        for x in &mut syn0 {
            *x = (((r.advance() & 0xFFFF) as f32 / 65536.0) - 0.5) / dim as f32;
        }
    } else {
        let mut r = Rng::new(config.seed);
        for x in &mut syn0 {
            let u = (r.next_u64() >> 40) as f32 / 16_777_216.0;
            *x = (2.0 * u - 1.0) * config.init_range / dim as f32;
        }
    }
    syn0
}

/// True when every thread trains its own copy of the model (the deterministic mode).
fn threads_copy(config: &TrainConfig) -> bool {
    config.thread_mode == ThreadMode::Deterministic && config.threads > 1
}

fn join(h: std::thread::ScopedJoinHandle<'_, Result<()>>) -> Result<()> {
    h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// Runs `w` until it has kept `budget` more words after sub-sampling, on `weights`.
///
/// The training loop is dispatched here, once per call: `simd::run` compiles it for a SIMD
/// level with that level's kernels inlined into it (see [`TrainChunk`]). AVX-512 runs the
/// AVX2 compilation: the same bits (the dot product is 256 bits wide on both), and 11–15%
/// less CPU time than with 512-bit vectors in the element-wise updates at dimension 100
/// (skip-gram NS and HS, CBOW NS, one thread; the README's word2vec design notes).
///
/// # Safety
/// `weights` must point to live matrices of the model's shapes that no other code reads or
/// writes during the call, except other `run_worker` calls in Hogwild mode (the documented race).
unsafe fn run_worker(w: &mut Worker, shared: &Shared, weights: Weights, budget: u64) -> Result<()> {
    match Fma::at(shared.level) {
        // SAFETY (both): forwarded from this function's contract.
        Some(fma) => simd::run(Level::Avx2, unsafe {
            TrainChunk::new(w, shared, weights, budget, fma)
        }),
        None => simd::run(Level::Portable, unsafe {
            TrainChunk::new(w, shared, weights, budget, Portable)
        }),
    }
}

/// The three matrices of training; indexes per-matrix arrays such as a worker's dirty rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Matrix {
    /// Input vectors.
    Syn0 = 0,
    /// Hierarchical-softmax inner-node vectors.
    Syn1 = 1,
    /// Negative-sampling output vectors.
    Syn1neg = 2,
}

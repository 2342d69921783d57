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

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use neurite_tensor::memory::huge_page_vec;
use neurite_tensor::Rng;

use crate::config::{Architecture, ReferenceFma, ThreadMode, TrainConfig, REFERENCE_TABLE_SIZE};
use crate::corpus::{Corpus, Token, Tokens};
use crate::error::Result;
use crate::huffman::HuffmanTree;
use crate::kernels::{add, axpy, axpy_fused, dot, dot_fused_from, dot_sequential, scale};
use crate::sampling::{
    context_range, keep_probability, reference_keep_threshold, reference_unigram_table, AliasTable,
    Lcg, SigmoidTable, MAX_EXP,
};
use crate::vectors::KeyedVectors;
use crate::vocab::Vocabulary;

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
        let mut syn0 = initial_input_vectors(v, dim, config);
        let mut syn1 = if config.hs {
            huge_page_vec(v.saturating_sub(1) * dim, 0.0f32)
        } else {
            Vec::new()
        };
        let mut syn1neg = if config.negative > 0 {
            huge_page_vec(v * dim, 0.0f32)
        } else {
            Vec::new()
        };

        let shared = Shared::new(corpus, &vocab, config)?;
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
        let base = Weights::new(&mut syn0, &mut syn1, &mut syn1neg, dim);
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
            train_deterministic(
                &mut workers,
                &shared,
                &mut syn0,
                &mut syn1,
                &mut syn1neg,
                dim,
            )?;
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
/// per value, r = 0.5) in the reference-parity mode.
///
/// Measured on corpus.txt (5 epochs, 1 thread, analogies within the top 30,000 words,
/// WordSim-353 on the same words), r = 1.0 against word2vec.c's 0.5: skip-gram with negative
/// sampling 0.2934 / 0.2942 / 0.2906 against 0.2877 / 0.2895 / 0.2889 (seeds 1–3), WordSim-353
/// 0.6075 / 0.6025 / 0.6006 against 0.6101 / 0.6045 / 0.5967; CBOW with negative sampling
/// 0.2913 / 0.2912 / 0.2874 against 0.2901 / 0.2866 / 0.2866, WordSim-353 0.6165 / 0.6128 /
/// 0.6320 against 0.6170 / 0.6137 / 0.6337. Analogies gain 0.2–0.5 points; WordSim-353 moves
/// within its seed spread.
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

fn join(h: std::thread::ScopedJoinHandle<'_, Result<()>>) -> Result<()> {
    h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// Runs `w` until it has kept `budget` more words after sub-sampling, on `weights`.
///
/// # Safety
/// `weights` must point to live matrices of the model's shapes that no other code reads or
/// writes during the call, except other `run_worker` calls in Hogwild mode (the documented race).
unsafe fn run_worker(w: &mut Worker, shared: &Shared, weights: Weights, budget: u64) -> Result<()> {
    if shared.config.reference_parity {
        w.run::<true>(shared, weights, budget)
    } else {
        w.run::<false>(shared, weights, budget)
    }
}

/// Deterministic multi-threaded training: rounds of private updates, merged in thread order.
///
/// After each round the threads merge in parallel, each one the rows of its own stripe
/// (blocks of [`MERGE_BLOCK`] rows dealt out in turn), so that no row is written by two
/// threads and the arithmetic of a row does not depend on which thread merges it.
fn train_deterministic(
    workers: &mut [Worker],
    shared: &Shared,
    syn0: &mut [f32],
    syn1: &mut [f32],
    syn1neg: &mut [f32],
    dim: usize,
) -> Result<()> {
    let rows = [syn0.len() / dim, syn1.len() / dim, syn1neg.len() / dim];
    // Each thread makes its own copy, so that the copies are made in parallel (and their
    // pages first touched by the core that trains on them).
    let originals = (&*syn0, &*syn1, &*syn1neg);
    let mut copies: Vec<[Vec<f32>; 3]> = std::thread::scope(|s| {
        let handles: Vec<_> = workers
            .iter()
            .map(|_| {
                s.spawn(move || {
                    [originals.0, originals.1, originals.2].map(|m| {
                        let mut copy = huge_page_vec(m.len(), 0.0f32);
                        copy.copy_from_slice(m);
                        copy
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    for w in workers.iter_mut() {
        w.dirty = Some(Box::new(rows.map(Dirty::new)));
    }
    let base = [
        Rows::new(syn0, dim),
        Rows::new(syn1, dim),
        Rows::new(syn1neg, dim),
    ];
    let stripes = workers.len();
    let all = rows.map(|r| 0..r.div_ceil(MERGE_BLOCK));
    let cold_every = shared.config.sync_cold_rounds;
    let hot_blocks = shared.config.sync_hot_rows.div_ceil(MERGE_BLOCK);
    // syn0 and syn1neg: the most frequent words come first; syn1: the nodes nearest the root
    // last (whole blocks of MERGE_BLOCK rows).
    let hot = [
        0..hot_blocks.min(all[0].end),
        all[1].end.saturating_sub(hot_blocks)..all[1].end,
        0..hot_blocks.min(all[2].end),
    ];
    let mut round = 0usize;
    let threads = workers.len();
    while workers.iter().any(|w| !w.finished) {
        round += 1;
        shared.round_done.store(0, Ordering::Release);
        let results: Vec<Result<()>> = std::thread::scope(|s| {
            let handles: Vec<_> = workers
                .iter_mut()
                .zip(copies.iter_mut())
                .map(|(w, [c0, c1, c2])| {
                    let weights = Weights::new(c0, c1, c2, dim);
                    s.spawn(move || {
                        // SAFETY: each thread has its own copy of the weights; nothing else
                        // touches a copy until the thread joins.
                        let trained = unsafe { run_worker(w, shared, weights, shared.round_kept) };
                        // Until the last thread ends its round, read ahead instead of idling.
                        shared.round_done.fetch_add(1, Ordering::AcqRel);
                        while trained.is_ok()
                            && shared.round_done.load(Ordering::Acquire) < threads
                            && w.lookahead.len() < LOOKAHEAD_MAX
                            && w.lookahead.back() != Some(&LOOKAHEAD_END)
                        {
                            w.read_ahead(shared, 1024)?;
                        }
                        trained
                    })
                })
                .collect();
            handles.into_iter().map(join).collect()
        });
        results.into_iter().collect::<Result<Vec<()>>>()?;
        let copy_rows: Vec<[Rows; 3]> = copies
            .iter_mut()
            .map(|[c0, c1, c2]| [Rows::new(c0, dim), Rows::new(c1, dim), Rows::new(c2, dim)])
            .collect();
        let dirty: Vec<&[Dirty; 3]> = workers
            .iter()
            .map(|w| &**w.dirty.as_ref().expect("set above"))
            .collect();
        let full = round.is_multiple_of(cold_every) || workers.iter().all(|w| w.finished);
        let blocks = if full { &all } else { &hot };
        std::thread::scope(|s| {
            for stripe in 0..stripes {
                let (dirty, copy_rows) = (&dirty, &copy_rows);
                // SAFETY: the stripes are disjoint sets of rows, so no row of the base or of a
                // copy is reached by two threads; the training threads have joined.
                s.spawn(move || unsafe {
                    merge_stripe(stripe, stripes, dirty, base, copy_rows, blocks)
                });
            }
        });
        for w in workers.iter_mut() {
            for (d, b) in w.dirty.as_mut().expect("set above").iter_mut().zip(blocks) {
                d.clear(b.clone());
            }
        }
    }
    Ok(())
}

/// Look-ahead marker: the end of the thread's range.
const LOOKAHEAD_END: u32 = u32::MAX;

/// Word indices a deterministic-mode thread reads ahead at most (400 KB).
const LOOKAHEAD_MAX: usize = 100_000;

/// Rows per block of a merge stripe: the rows of one word of the [`Dirty`] bit sets. With
/// 100-float rows a block spans 25,600 bytes, so two threads rarely write into one cache line.
const MERGE_BLOCK: usize = 64;

/// Merges the rows of stripe `stripe` of `stripes` touched in this round: a row one thread
/// touched takes that thread's value; a row several threads touched becomes
/// base + Σ_t (copy_t − base), summed in thread order. The result is copied into the base and
/// every copy. The stripe's blocks are visited in row order, so that the rows stream through the
/// cache instead of arriving in the random order they were first touched.
///
/// # Safety
/// No other thread may use the rows of this stripe of `base` or of any copy meanwhile.
unsafe fn merge_stripe(
    stripe: usize,
    stripes: usize,
    dirty: &[&[Dirty; 3]],
    base: [Rows; 3],
    copies: &[[Rows; 3]],
    blocks: &[std::ops::Range<usize>; 3],
) {
    let mut old = vec![0.0f32; base[0].dim];
    for m in 0..3 {
        let first = blocks[m].start + (stripe + stripes - blocks[m].start % stripes) % stripes;
        for block in (first..blocks[m].end).step_by(stripes) {
            // Rows touched by any thread, and by more than one.
            let (mut touched, mut shared) = (0u64, 0u64);
            for d in dirty {
                shared |= touched & d[m].bits[block];
                touched |= d[m].bits[block];
            }
            while touched != 0 {
                let bit = touched & touched.wrapping_neg();
                let r = block * MERGE_BLOCK + touched.trailing_zeros() as usize;
                touched &= touched - 1;
                // SAFETY: row `r` belongs to this stripe (the caller's contract); one slice of
                // it per matrix is alive at a time.
                let b = unsafe { base[m].row(r) };
                let lone = (shared & bit == 0)
                    .then(|| dirty.iter().position(|d| d[m].bits[block] & bit != 0))
                    .flatten();
                if let Some(t) = lone {
                    // One thread's changes: its copy holds the result, and the sum's reads
                    // of the base and the other copies are saved.
                    // SAFETY: as above.
                    b.copy_from_slice(unsafe { copies[t][m].row(r) });
                    for (u, c) in copies.iter().enumerate() {
                        if u != t {
                            // SAFETY: as above.
                            unsafe { c[m].row(r) }.copy_from_slice(b);
                        }
                    }
                    continue;
                }
                old.copy_from_slice(b);
                for c in copies {
                    // SAFETY: as above.
                    let c = unsafe { c[m].row(r) };
                    for ((x, &o), &y) in b.iter_mut().zip(&old).zip(c.iter()) {
                        *x += y - o;
                    }
                }
                for c in copies {
                    // SAFETY: as above.
                    unsafe { c[m].row(r) }.copy_from_slice(b);
                }
            }
        }
    }
}

/// Rows touched by one thread during a round: one bit per row.
struct Dirty {
    bits: Vec<u64>,
}

impl Dirty {
    fn new(rows: usize) -> Self {
        Dirty {
            bits: vec![0; rows.div_ceil(MERGE_BLOCK)],
        }
    }

    #[inline]
    fn mark(&mut self, r: usize) {
        self.bits[r / MERGE_BLOCK] |= 1 << (r % MERGE_BLOCK);
    }

    /// Clears the bits of blocks `blocks`.
    fn clear(&mut self, blocks: std::ops::Range<usize>) {
        self.bits[blocks].fill(0);
    }
}

/// A row-major matrix reached through a raw pointer, so that Hogwild threads can share it.
///
/// Rows `hot_lo .. hot_lo + hot_len` may be staged: then they are read and written in a
/// thread's private buffer at `hot` instead (see [`Stage`]).
#[derive(Clone, Copy)]
struct Rows {
    ptr: *mut f32,
    rows: usize,
    dim: usize,
    hot: *mut f32,
    hot_lo: usize,
    hot_len: usize,
}

// SAFETY: `Rows` is a pointer to `f32` data; sending it to another thread is sound because
// every access goes through the `unsafe fn row`, whose contract covers cross-thread use.
unsafe impl Send for Rows {}
// SAFETY: as for `Send`: sharing a `Rows` only shares the pointer.
unsafe impl Sync for Rows {}

impl Rows {
    fn new(data: &mut [f32], dim: usize) -> Rows {
        Rows {
            ptr: data.as_mut_ptr(),
            rows: data.len() / dim,
            dim,
            hot: std::ptr::null_mut(),
            hot_lo: 0,
            hot_len: 0,
        }
    }

    /// Where row `i` lives: the staged copy or the matrix.
    #[inline(always)]
    fn row_ptr(self, i: usize) -> *mut f32 {
        let off = i.wrapping_sub(self.hot_lo);
        if off < self.hot_len {
            self.hot.wrapping_add(off * self.dim)
        } else {
            self.ptr.wrapping_add(i * self.dim)
        }
    }

    /// Starts loading row `i` into the cache (no access is made).
    #[inline(always)]
    fn prefetch(self, i: usize) {
        crate::kernels::prefetch(self.row_ptr(i), self.dim);
    }

    /// Row `i` as a slice that lives for one kernel call.
    ///
    /// # Safety
    /// The matrix (and the staged buffer, if any) must be alive, and within this thread no
    /// other slice of row `i` of this matrix may be alive while the returned one is used.
    /// Other threads may use the row at the same time only in Hogwild mode, as the module
    /// documentation describes.
    #[inline]
    unsafe fn row<'a>(self, i: usize) -> &'a mut [f32] {
        assert!(i < self.rows, "row {i} of {}", self.rows);
        // SAFETY: `i < rows`, so the `dim` elements from `i·dim` lie inside the allocation
        // (a staged row inside the staged buffer of `hot_len` rows); the aliasing rules are
        // the caller's contract.
        unsafe { std::slice::from_raw_parts_mut(self.row_ptr(i), self.dim) }
    }
}

/// A Hogwild thread's private copies of the most-used rows of each matrix: the most frequent
/// words' input and output vectors, and the Huffman tree's inner nodes nearest the root
/// (which every hierarchical-softmax update passes through).
///
/// These rows are the ones both threads write many times a millisecond. Shared, every such
/// write takes the cache line from the other core. With 1024 private rows, 2 threads on the
/// embedded corpus (medians of 7 alternating runs) trained skip-gram NS at 952k words/s
/// against 682k with every row shared, skip-gram HS at 678k against 637k and CBOW NS at
/// 4.48M against 4.01M; on corpus.txt the difference was within this machine's noise. So
/// each thread trains these rows in its own copy, and
/// every [`STAGE_SYNC_WORDS`] words adds what it changed since the last exchange into the
/// shared rows and takes the shared values back (the other threads' changes included):
/// for these rows, the merge of the deterministic mode, without its rounds. The rest of the
/// model is shared as before.
///
/// Only exchanges write the shared copies of staged rows, and they take turns (a lock held
/// for the exchange, one every 10,000 words per thread), so the staged rows are free of the
/// Hogwild race. Unlocked, two threads that exchanged at once could each read a row before
/// the other wrote it, and one thread's changes of up to 10,000 words to the most-used rows
/// were lost (the threads start together and run at about the same speed, so their
/// exchanges can coincide).
struct Stage {
    /// First staged row of each matrix.
    lo: [usize; 3],
    /// Staged rows of each matrix.
    len: [usize; 3],
    /// The thread's copies of the staged rows.
    private: [Vec<f32>; 3],
    /// The shared values at the last exchange.
    snapshot: [Vec<f32>; 3],
    /// Words read at the last exchange.
    synced_at: u64,
}

/// Words between two exchanges of a [`Stage`] with the shared model.
const STAGE_SYNC_WORDS: u64 = 10_000;

impl Stage {
    /// Stages the first `hot` rows of `syn0` and `syn1neg` and the last `hot` rows of `syn1`
    /// (the inner nodes nearest the root; the root is the last), copied from `shared`.
    ///
    /// # Safety
    /// No other thread may write the matrices during the call.
    unsafe fn new(shared: Weights, hot: usize) -> Stage {
        let m = [shared.syn0, shared.syn1, shared.syn1neg];
        let len = m.map(|r| hot.min(r.rows));
        let lo = [0, m[1].rows - len[1], 0];
        let copy = |k: usize| -> Vec<f32> {
            // SAFETY: rows `lo .. lo + len` lie inside the matrix; nothing writes it meanwhile.
            unsafe { std::slice::from_raw_parts(m[k].ptr.add(lo[k] * m[k].dim), len[k] * m[k].dim) }
                .to_vec()
        };
        let private = [copy(0), copy(1), copy(2)];
        Stage {
            lo,
            len,
            snapshot: private.clone(),
            private,
            synced_at: 0,
        }
    }

    /// `shared` with the staged rows redirected to this thread's copies.
    fn weights(&mut self, shared: Weights) -> Weights {
        let mut m = [shared.syn0, shared.syn1, shared.syn1neg];
        for (k, rows) in m.iter_mut().enumerate() {
            rows.hot = self.private[k].as_mut_ptr();
            rows.hot_lo = self.lo[k];
            rows.hot_len = self.len[k];
        }
        let [syn0, syn1, syn1neg] = m;
        Weights {
            syn0,
            syn1,
            syn1neg,
        }
    }

    /// Adds this thread's changes of the staged rows into `shared` and takes the shared
    /// values back.
    ///
    /// # Safety
    /// `shared` must point to the live matrices this stage was made from; other threads may
    /// use them only in Hogwild mode (the documented race).
    unsafe fn exchange(&mut self, shared: Weights) {
        let m = [shared.syn0, shared.syn1, shared.syn1neg];
        let parts = m
            .iter()
            .zip(self.lo.iter().zip(&self.len))
            .zip(self.private.iter_mut().zip(&mut self.snapshot));
        for ((rows, (&lo, &len)), (private, snapshot)) in parts {
            // SAFETY: the staged rows lie inside the matrix; concurrent use by other Hogwild
            // threads is the race the module documentation describes.
            let shared_rows = unsafe {
                std::slice::from_raw_parts_mut(rows.ptr.add(lo * rows.dim), len * rows.dim)
            };
            for ((x, p), s) in shared_rows
                .iter_mut()
                .zip(private.iter_mut())
                .zip(snapshot.iter_mut())
            {
                let v = *x + (*p - *s);
                *x = v;
                *p = v;
                *s = v;
            }
        }
    }
}

/// The three matrices of training.
#[derive(Clone, Copy)]
struct Weights {
    syn0: Rows,
    syn1: Rows,
    syn1neg: Rows,
}

impl Weights {
    fn new(syn0: &mut [f32], syn1: &mut [f32], syn1neg: &mut [f32], dim: usize) -> Self {
        Weights {
            syn0: Rows::new(syn0, dim),
            syn1: Rows::new(syn1, dim),
            syn1neg: Rows::new(syn1neg, dim),
        }
    }
}

/// Negative samples drawn ahead and prefetched (more are drawn as they are used).
const MAX_PREFETCH: usize = 32;

/// Negative-sampling distribution.
enum Negatives {
    None,
    /// word2vec.c's 1e8-slot table.
    Reference(Vec<u32>),
    Alias(AliasTable),
}

/// Read-only state of a run, shared by the threads.
struct Shared<'a> {
    corpus: &'a Corpus,
    vocab: &'a Vocabulary,
    config: &'a TrainConfig,
    sigmoid: SigmoidTable,
    tree: Option<HuffmanTree>,
    negatives: Negatives,
    /// Fast mode: keep a word when 32 random bits fall below this (≥ 2^32: always).
    keep_fast: Vec<u64>,
    /// Reference mode: word2vec.c's `ran` per word.
    keep_reference: Vec<f32>,
    /// Deterministic mode: kept words per thread and round, `sync_words` times the share of
    /// words sub-sampling keeps. Rounds end on kept words, whose training cost is about equal,
    /// and last `sync_words` words read on average.
    round_kept: u64,
    /// Reference mode with fused multiply-adds: the first fused term of each dot product.
    fma_from: Option<usize>,
    /// Corpus words read by all threads (progress and the Hogwild learning rate).
    words_done: AtomicU64,
    /// `epochs · total_words + 1`, word2vec.c's denominator of progress.
    planned: u64,
    started: Instant,
    /// Bytes in the corpus.
    file_len: u64,
    /// Several threads: the parts of the corpus.
    chunks: Option<Chunks>,
    /// Held while a Hogwild thread exchanges its staged rows (see [`Stage`]).
    exchange: std::sync::Mutex<()>,
    /// Deterministic mode: threads that have finished the current round.
    round_done: AtomicUsize,
}

/// Parts of the corpus for several threads. Hogwild threads get them in order as they ask
/// (an atomic counter over all epochs' parts), so that the threads finish within one part of
/// each other; the deterministic mode follows a fixed schedule ([`Chunks::static_part`]). With fixed ranges (one per thread, as word2vec.c has) a thread whose range
/// holds more frequent words or wider windows runs on alone at the end, and the run lasts as
/// long as its slowest thread.
struct Chunks {
    /// `parts + 1` byte offsets; part `i` is `[bounds[i], bounds[i + 1])`.
    bounds: Vec<u64>,
    /// Parts handed out so far, over all epochs.
    next: AtomicUsize,
    /// `epochs · parts`.
    total: usize,
    /// Threads: the parts form one share of `CHUNKS_PER_THREAD` per thread.
    threads: usize,
}

/// Parts per thread and epoch in the Hogwild mode: the threads finish within 1/16 of an
/// epoch's share of each other.
const CHUNKS_PER_THREAD: usize = 16;

impl Chunks {
    fn new(file_len: u64, threads: usize, epochs: usize) -> Self {
        let parts = threads * CHUNKS_PER_THREAD;
        Chunks {
            bounds: (0..=parts as u64)
                .map(|i| file_len * i / parts as u64)
                .collect(),
            next: AtomicUsize::new(0),
            total: epochs * parts,
            threads,
        }
    }

    /// The deterministic mode's fixed schedule: part `k` (over all epochs) of thread `thread`,
    /// or `None` after its last. Thread `t` trains parts t, t + T, t + 2T, … of each epoch, so
    /// that in every round the threads work on neighbouring parts of the corpus, whose text
    /// (and so speed) is alike: with one half of the corpus per thread, as word2vec.c splits
    /// it, a round lasted as long as the slower half, and the other thread waited.
    fn static_part(&self, thread: usize, k: usize) -> Option<(u64, u64)> {
        if k >= self.total / self.threads {
            return None;
        }
        let parts = self.bounds.len() - 1;
        let i = (k % (parts / self.threads)) * self.threads + thread;
        Some((self.bounds[i], self.bounds[i + 1]))
    }

    /// The next part to train, or `None` when every epoch's parts have been handed out.
    ///
    /// Parts are handed out interleaved across the threads' shares (with 2 threads and 32
    /// parts: 0, 16, 1, 17, …), so that the parts trained at the same time lie as far apart
    /// as word2vec.c's fixed ranges put them. Handing them out in corpus order instead makes
    /// all threads sweep the corpus together, like one thread: on the embedded corpus (two
    /// Bibles, then Shakespeare, in blocks) CBOW-HS on 2 threads for 2 epochs then reached
    /// father~mother 0.48–0.57 (as one thread does) against 0.63–0.70 with the threads in
    /// different blocks.
    fn take(&self) -> Option<(u64, u64)> {
        let k = self.next.fetch_add(1, Ordering::Relaxed);
        if k >= self.total {
            return None;
        }
        let parts = self.bounds.len() - 1;
        let i = k % parts;
        let share = parts / self.threads;
        let part = (i % self.threads) * share + i / self.threads;
        Some((self.bounds[part], self.bounds[part + 1]))
    }
}

impl<'a> Shared<'a> {
    fn new(corpus: &'a Corpus, vocab: &'a Vocabulary, config: &'a TrainConfig) -> Result<Self> {
        let counts = vocab.counts();
        let total = vocab.total_words();
        let file_len = corpus.len_bytes()?;
        let negatives = if config.negative == 0 {
            Negatives::None
        } else if config.reference_parity {
            Negatives::Reference(reference_unigram_table(counts, REFERENCE_TABLE_SIZE))
        } else {
            Negatives::Alias(AliasTable::unigram(counts))
        };
        let keep: Vec<f64> = counts
            .iter()
            .map(|&c| keep_probability(c, config.sample, total))
            .collect();
        let keep_fast = keep
            .iter()
            .map(|&p| {
                if p >= 1.0 {
                    1 << 32
                } else {
                    (p * 4_294_967_296.0) as u64
                }
            })
            .collect();
        let keep_reference = counts
            .iter()
            .map(|&c| reference_keep_threshold(c, config.sample as f32, total))
            .collect();
        // The share of words sub-sampling keeps, in expectation over the corpus.
        let kept: f64 = counts.iter().zip(&keep).map(|(&c, &p)| c as f64 * p).sum();
        let round_kept =
            ((config.sync_words as f64 * kept / total.max(1) as f64).ceil() as u64).max(1);
        Ok(Shared {
            corpus,
            vocab,
            config,
            sigmoid: SigmoidTable::new(),
            tree: config.hs.then(|| HuffmanTree::new(counts)),
            negatives,
            keep_fast,
            keep_reference,
            round_kept,
            fma_from: match config.reference_fma {
                ReferenceFma::Off => None,
                ReferenceFma::Fused {
                    cbow_dot,
                    skip_gram_dot,
                } => Some(match config.architecture {
                    Architecture::Cbow => cbow_dot.fused_from(config.dim),
                    Architecture::SkipGram => skip_gram_dot.fused_from(config.dim),
                }),
            },
            words_done: AtomicU64::new(0),
            planned: config.epochs as u64 * total + 1,
            started: Instant::now(),
            file_len,
            chunks: (config.threads > 1)
                .then(|| Chunks::new(file_len, config.threads, config.epochs)),
            exchange: std::sync::Mutex::new(()),
            round_done: AtomicUsize::new(0),
        })
    }

    /// Waits until no other thread exchanges its staged rows. The lock guards no data, so a
    /// thread that panicked while holding it leaves nothing inconsistent.
    fn exchange_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.exchange.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One training thread's state; it survives between the rounds of the deterministic mode.
///
/// Aligned to 128 bytes (two cache lines, the unit the adjacent-line prefetcher fetches) so
/// that the threads' workers, which sit side by side in one `Vec` and whose generators and
/// counters change at every word, never share a cache line.
#[repr(align(128))]
struct Worker {
    id: usize,
    range: (u64, u64),
    tokens: Tokens,
    rng: Rng,
    lcg: Lcg,
    sentence: Vec<u32>,
    pos: usize,
    need_read: bool,
    pending_end: bool,
    epochs_left: usize,
    /// Words read this epoch, and at the last learning-rate update (word2vec.c's names).
    word_count: u64,
    last_word_count: u64,
    /// Words read in all epochs.
    words_read: u64,
    /// Words kept by sub-sampling (trained as targets) in all epochs: the deterministic
    /// mode's rounds are counted in these, whose training cost is about equal.
    trained: u64,
    /// Word tokens read in all epochs, out-of-vocabulary ones included.
    tokens_read: u64,
    /// Deterministic mode: word indices of this thread's range read ahead while it waited for
    /// the other threads at the end of a round ([`LOOKAHEAD_END`] marks the range's end).
    lookahead: std::collections::VecDeque<u32>,
    alpha: f32,
    neu1: Vec<f32>,
    neu1e: Vec<f32>,
    dirty: Option<Box<[Dirty; 3]>>,
    /// Hogwild on several threads: this thread's copies of the most-used rows.
    stage: Option<Stage>,
    /// Deterministic mode: parts of the fixed schedule finished.
    parts_done: usize,
    finished: bool,
    finished_at: Option<Instant>,
    last_report: Instant,
}

impl Worker {
    fn new(id: usize, range: (u64, u64), shared: &Shared) -> Result<Self> {
        let config = shared.config;
        Ok(Worker {
            id,
            range,
            tokens: shared
                .corpus
                .tokens(range.0, range.1, config.reference_parity)?,
            rng: Rng::new(config.seed).fork(id as u64),
            lcg: Lcg(id as u64),
            sentence: Vec::with_capacity(config.max_sentence_len),
            pos: 0,
            need_read: true,
            pending_end: false,
            epochs_left: config.epochs,
            word_count: 0,
            last_word_count: 0,
            words_read: 0,
            trained: 0,
            tokens_read: 0,
            lookahead: std::collections::VecDeque::new(),
            alpha: config.starting_alpha(),
            neu1: vec![0.0; config.dim],
            neu1e: vec![0.0; config.dim],
            dirty: None,
            stage: None,
            parts_done: 0,
            finished: false,
            finished_at: None,
            last_report: Instant::now(),
        })
    }

    /// Trains until all epochs are done or `budget` more words have been kept by sub-sampling
    /// (checked at sentence boundaries, so that the deterministic mode's rounds depend on the
    /// data only). Kept words, not words read: the text's share of dropped frequent words
    /// varies, and with rounds counted in words read, one thread's round on corpus.txt often
    /// took 20–35% longer than the other's, which waited; counted in kept words, the two
    /// threads' rounds differ by about 5%.
    ///
    /// # Safety
    /// As [`run_worker`].
    unsafe fn run<const PARITY: bool>(
        &mut self,
        shared: &Shared,
        weights: Weights,
        budget: u64,
    ) -> Result<()> {
        let stop_at = self.trained.saturating_add(budget);
        let threads = shared.config.threads as u64;
        while !self.finished {
            if self.word_count - self.last_word_count > 10_000 {
                self.update_alpha(shared);
            }
            if self.need_read {
                if self.trained >= stop_at {
                    return Ok(());
                }
                if !PARITY && self.pending_end {
                    self.end_epoch(shared)?;
                    continue;
                }
                let at_end = self.read_sentence::<PARITY>(shared)?;
                self.trained += self.sentence.len() as u64;
                self.pos = 0;
                self.need_read = false;
                if PARITY && (at_end || self.word_count > shared.vocab.total_words() / threads) {
                    // word2vec.c drops the sentence being read when the file ends.
                    self.end_epoch(shared)?;
                    continue;
                }
                self.pending_end = at_end;
                if !PARITY && self.sentence.is_empty() {
                    self.need_read = true;
                    continue;
                }
            }
            let w = match &mut self.stage {
                Some(stage) => {
                    if self.words_read - stage.synced_at >= STAGE_SYNC_WORDS {
                        stage.synced_at = self.words_read;
                        let _one_at_a_time = shared.exchange_lock();
                        // SAFETY: forwarded from this function's contract.
                        unsafe { stage.exchange(weights) };
                    }
                    stage.weights(weights)
                }
                None => weights,
            };
            // SAFETY: forwarded from this function's contract; staged rows are this thread's.
            unsafe { self.train_position::<PARITY>(shared, w) };
            self.pos += 1;
            if self.pos >= self.sentence.len() {
                self.need_read = true;
            }
        }
        if let Some(stage) = &mut self.stage {
            let _one_at_a_time = shared.exchange_lock();
            // SAFETY: forwarded from this function's contract.
            unsafe { stage.exchange(weights) };
        }
        Ok(())
    }

    fn update_alpha(&mut self, shared: &Shared) {
        let config = shared.config;
        let delta = self.word_count - self.last_word_count;
        self.last_word_count = self.word_count;
        let global = shared.words_done.fetch_add(delta, Ordering::Relaxed) + delta;
        // Hogwild and one thread follow word2vec.c (progress of all threads); the deterministic
        // mode uses this thread's own progress so that no other thread's speed matters.
        let progress = if config.thread_mode == ThreadMode::Deterministic && config.threads > 1 {
            self.words_read * config.threads as u64
        } else {
            global
        };
        let start = config.starting_alpha();
        self.alpha = start * (1.0 - progress as f32 / shared.planned as f32);
        if self.alpha < start * 0.0001 {
            self.alpha = start * 0.0001;
        }
        if config.progress && self.id == 0 && self.last_report.elapsed().as_secs_f64() > 0.1 {
            self.last_report = Instant::now();
            let secs = shared.started.elapsed().as_secs_f64().max(1e-9);
            eprint!(
                "\rAlpha: {:.6}  Progress: {:.2}%  Words/thread/sec: {:.2}k  ",
                self.alpha,
                global as f64 / shared.planned as f64 * 100.0,
                global as f64 / config.threads as f64 / secs / 1000.0
            );
        }
    }

    /// The end of this thread's range: the end of its epoch, or (Hogwild on several threads)
    /// of one part of the corpus, when it takes the next part.
    fn end_epoch(&mut self, shared: &Shared) -> Result<()> {
        let delta = self.word_count - self.last_word_count;
        shared.words_done.fetch_add(delta, Ordering::Relaxed);
        let next = match &shared.chunks {
            Some(chunks) if shared.config.thread_mode == ThreadMode::Deterministic => {
                self.parts_done += 1;
                chunks.static_part(self.id, self.parts_done)
            }
            Some(chunks) => chunks.take(),
            None => {
                self.epochs_left -= 1;
                (self.epochs_left > 0).then_some(self.range)
            }
        };
        let Some(range) = next else {
            self.finished = true;
            self.finished_at = Some(Instant::now());
            return Ok(());
        };
        self.range = range;
        self.word_count = 0;
        self.last_word_count = 0;
        self.need_read = true;
        self.pending_end = false;
        self.sentence.clear();
        // Words read ahead belong to the range just left (reference parity ends a range early).
        self.lookahead.clear();
        self.tokens =
            shared
                .corpus
                .tokens(self.range.0, self.range.1, shared.config.reference_parity)?;
        Ok(())
    }

    /// Reads the next sentence into `self.sentence`; true when the range (or file) ended.
    fn read_sentence<const PARITY: bool>(&mut self, shared: &Shared) -> Result<bool> {
        self.sentence.clear();
        let max_len = shared.config.max_sentence_len;
        let sample_on = shared.config.sample > 0.0;
        loop {
            let index = match self.lookahead.pop_front() {
                Some(LOOKAHEAD_END) => return Ok(true),
                Some(i) => i as usize,
                None => match self.next_index(shared)? {
                    Some(i) => i,
                    None => return Ok(true),
                },
            };
            self.word_count += 1;
            self.words_read += 1;
            if index == 0 {
                return Ok(false);
            }
            let keep = if PARITY {
                if sample_on {
                    let ran = shared.keep_reference[index];
                    let r = self.lcg.advance();
                    // word2vec.c drops the word when ran < u; ran is never NaN (count ≥ 1).
                    ran >= (r & 0xFFFF) as f32 / 65536.0
                } else {
                    true
                }
            } else {
                let threshold = shared.keep_fast[index];
                threshold > u32::MAX as u64 || (self.rng.next_u64() >> 32) < threshold
            };
            if keep {
                self.sentence.push(index as u32);
                if self.sentence.len() >= max_len {
                    return Ok(false);
                }
            }
        }
    }

    /// The vocabulary index of the next in-vocabulary word of the range (0 for a line break),
    /// or `None` at the range's end.
    #[inline]
    fn next_index(&mut self, shared: &Shared) -> Result<Option<usize>> {
        loop {
            match self.tokens.next_token()? {
                None => return Ok(None),
                Some(Token::Newline) => return Ok(Some(0)),
                Some(Token::Word(w)) => {
                    self.tokens_read += 1;
                    if let Some(i) = shared.vocab.index_bytes(w) {
                        return Ok(Some(i));
                    }
                }
            }
        }
    }

    /// Reads up to `n` more word indices into the look-ahead, stopping at the range's end.
    /// Reading involves no random draw (sub-sampling happens in `read_sentence`), so the words
    /// trained and the draws made are the same however far this thread has read ahead.
    fn read_ahead(&mut self, shared: &Shared, n: usize) -> Result<()> {
        for _ in 0..n {
            if self.lookahead.back() == Some(&LOOKAHEAD_END) {
                break;
            }
            let next = self.next_index(shared)?;
            self.lookahead
                .push_back(next.map_or(LOOKAHEAD_END, |i| i as u32));
        }
        Ok(())
    }

    #[inline]
    fn draw_negative<const PARITY: bool>(&mut self, shared: &Shared) -> usize {
        match &shared.negatives {
            Negatives::Reference(table) if PARITY => {
                let r = self.lcg.advance();
                let t = table[((r >> 16) % table.len() as u64) as usize] as usize;
                if t == 0 {
                    (r % (shared.vocab.len() as u64 - 1) + 1) as usize
                } else {
                    t
                }
            }
            Negatives::Alias(alias) => alias.sample(self.rng.next_u64()),
            _ => unreachable!("the sampler matches the mode"),
        }
    }

    #[inline]
    fn mark(&mut self, matrix: usize, row: usize) {
        if let Some(d) = &mut self.dirty {
            d[matrix].mark(row);
        }
    }

    /// One output unit: score, upstream gradient, and the two downstream updates; false when
    /// the unit was skipped. `skip_outside` chooses word2vec.c's treatment of |score| ≥ 6:
    /// hierarchical softmax skips the unit, negative sampling clamps σ to 0 or 1. The
    /// asymmetry is the original's, kept on purpose.
    #[inline(always)]
    fn output_unit<const PARITY: bool>(
        shared: &Shared,
        alpha: f32,
        h: &[f32],
        neu1e: &mut [f32],
        out: &mut [f32],
        label: f32,
        skip_outside: bool,
    ) -> bool {
        // The reference mode rounds as the word2vec.c build being reproduced did.
        let fused_from = if PARITY { shared.fma_from } else { None };
        let f = if let Some(from) = fused_from {
            dot_fused_from(h, out, from)
        } else if PARITY {
            dot_sequential(h, out)
        } else {
            dot(h, out)
        };
        let g = if f >= MAX_EXP || f <= -MAX_EXP {
            if skip_outside {
                return false;
            }
            if f > MAX_EXP {
                (label - 1.0) * alpha
            } else if f < -MAX_EXP {
                label * alpha
            } else if PARITY {
                (label - shared.sigmoid.reference(f)) * alpha
            } else {
                (label - shared.sigmoid.fast(f)) * alpha
            }
        } else if PARITY {
            (label - shared.sigmoid.reference(f)) * alpha
        } else {
            (label - shared.sigmoid.fast(f)) * alpha
        };
        // Downstream gradients: g·v' into h's accumulator, g·h into v'.
        if fused_from.is_some() {
            axpy_fused(neu1e, g, out);
            axpy_fused(out, g, h);
        } else {
            axpy(neu1e, g, out);
            axpy(out, g, h);
        }
        true
    }

    /// Trains the target word at `self.pos` of the sentence.
    ///
    /// # Safety
    /// As [`run_worker`].
    #[inline]
    unsafe fn train_position<const PARITY: bool>(&mut self, shared: &Shared, w: Weights) {
        let config = shared.config;
        let window = config.window;
        let b = if PARITY {
            let b = (self.lcg.advance() % window as u64) as usize;
            if config.shrink_window {
                b
            } else {
                0
            }
        } else if config.shrink_window {
            self.rng.below(window)
        } else {
            0
        };
        if self.sentence.is_empty() {
            // word2vec.c trains a stale word without context here: only the draw above happens.
            return;
        }
        let pos = self.pos;
        let word = self.sentence[pos] as usize;
        let (lo, hi) = context_range(pos, self.sentence.len(), window, b);
        // The word that enters the window next: start loading its input vector now.
        if let Some(&next) = self.sentence.get(pos + window + 1) {
            w.syn0.prefetch(next as usize);
        }
        match config.architecture {
            Architecture::Cbow => {
                self.neu1.fill(0.0);
                let mut cw = 0usize;
                for c in lo..hi {
                    if c != pos {
                        // SAFETY: one row slice at a time; `neu1` is this worker's own buffer.
                        add(&mut self.neu1, unsafe {
                            w.syn0.row(self.sentence[c] as usize)
                        });
                        cw += 1;
                    }
                }
                if cw == 0 {
                    return;
                }
                if PARITY {
                    for x in &mut self.neu1 {
                        *x /= cw as f32;
                    }
                } else {
                    scale(&mut self.neu1, 1.0 / cw as f32);
                }
                self.neu1e.fill(0.0);
                let h = std::mem::take(&mut self.neu1);
                // SAFETY: forwarded from this function's contract; `h` is this worker's buffer.
                unsafe { self.output_layer::<PARITY>(shared, w, word, &h) };
                self.neu1 = h;
                for c in lo..hi {
                    if c != pos {
                        let r = self.sentence[c] as usize;
                        // SAFETY: one row slice at a time.
                        add(unsafe { w.syn0.row(r) }, &self.neu1e);
                        self.mark(0, r);
                    }
                }
            }
            Architecture::SkipGram => {
                for c in lo..hi {
                    if c == pos {
                        continue;
                    }
                    let r = self.sentence[c] as usize;
                    // SAFETY: the only live slice of this syn0 row in this thread; the output
                    // rows come from other matrices.
                    let l1 = unsafe { w.syn0.row(r) };
                    self.neu1e.fill(0.0);
                    // SAFETY: forwarded from this function's contract; `l1` is a syn0 row, and
                    // the output layer touches only syn1 and syn1neg rows.
                    unsafe { self.output_layer::<PARITY>(shared, w, word, l1) };
                    add(l1, &self.neu1e);
                    self.mark(0, r);
                }
            }
        }
    }

    /// Hierarchical softmax and negative sampling for input `h` and target `word`,
    /// accumulating the downstream gradient of `h` in `neu1e`.
    ///
    /// # Safety
    /// As [`run_worker`]; `h` must not be a row of `syn1` or `syn1neg`.
    #[inline(always)]
    unsafe fn output_layer<const PARITY: bool>(
        &mut self,
        shared: &Shared,
        w: Weights,
        word: usize,
        h: &[f32],
    ) {
        let alpha = self.alpha;
        if let Some(tree) = &shared.tree {
            for &point in tree.points(word) {
                w.syn1.prefetch(point as usize);
            }
            for (&point, &code) in tree.points(word).iter().zip(tree.code(word)) {
                let p = point as usize;
                // SAFETY: one syn1 row slice at a time, distinct from `h` (a syn0 row or buffer).
                let out = unsafe { w.syn1.row(p) };
                let label = 1.0 - code as f32;
                if Self::output_unit::<PARITY>(shared, alpha, h, &mut self.neu1e, out, label, true)
                {
                    self.mark(1, p);
                }
            }
        }
        let negative = shared.config.negative;
        if negative > 0 {
            // Draw the negative samples first (the generator is used by nothing else meanwhile,
            // so the sequence is the original's) and prefetch their rows: the memory latency of
            // these random rows, not the arithmetic, bounds negative sampling.
            let mut targets = [0usize; MAX_PREFETCH];
            let drawn = negative.min(MAX_PREFETCH);
            w.syn1neg.prefetch(word);
            for t in targets.iter_mut().take(drawn) {
                *t = self.draw_negative::<PARITY>(shared);
                w.syn1neg.prefetch(*t);
            }
            for d in 0..=negative {
                let (target, label) = if d == 0 {
                    (word, 1.0)
                } else {
                    let t = if d <= drawn {
                        targets[d - 1]
                    } else {
                        self.draw_negative::<PARITY>(shared)
                    };
                    if t == word {
                        continue;
                    }
                    (t, 0.0)
                };
                // SAFETY: one syn1neg row slice at a time, distinct from `h`.
                let out = unsafe { w.syn1neg.row(target) };
                // word2vec.c gives a saturated sample (|score| ≥ 6) the full gradient of a
                // wrong answer (σ taken as exactly 0 or 1); gensim skips it, as both tools do
                // in hierarchical softmax. The default follows gensim: a score that far out is
                // a sample the model is sure of, and its one-sided full-size step is noise.
                if Self::output_unit::<PARITY>(
                    shared,
                    alpha,
                    h,
                    &mut self.neu1e,
                    out,
                    label,
                    !PARITY,
                ) {
                    self.mark(2, target);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::VocabOptions;
    use proptest::prelude::*;

    /// The first `n` words of the embedded corpus.
    fn small_corpus(n: usize) -> Corpus {
        Corpus::embedded().unwrap().head(n).unwrap()
    }

    fn config(arch: Architecture, hs: bool, negative: usize) -> TrainConfig {
        TrainConfig {
            architecture: arch,
            hs,
            negative,
            dim: 16,
            epochs: 2,
            vocab: VocabOptions {
                min_count: 3,
                ..Default::default()
            },
            ..TrainConfig::default()
        }
    }

    fn bits(m: &Word2Vec) -> Vec<u32> {
        m.input_vectors()
            .iter()
            .chain(m.output_vectors())
            .chain(m.inner_node_vectors())
            .map(|x| x.to_bits())
            .collect()
    }

    #[test]
    fn same_seed_gives_the_same_vectors_on_one_thread() {
        let corpus = small_corpus(30_000);
        for arch in [Architecture::Cbow, Architecture::SkipGram] {
            let c = config(arch, true, 3);
            let (a, sa) = Word2Vec::train(&corpus, &c).unwrap();
            let (b, _) = Word2Vec::train(&corpus, &c).unwrap();
            assert_eq!(bits(&a), bits(&b), "{arch:?}");
            assert!(a.input_vectors().iter().all(|x| x.is_finite()));
            // Every epoch reads every word, line breaks included.
            assert_eq!(sa.words, 2 * a.vocabulary().total_words());
            let other = TrainConfig { seed: 2, ..c };
            let (d, _) = Word2Vec::train(&corpus, &other).unwrap();
            assert_ne!(bits(&a), bits(&d));
        }
    }

    #[test]
    fn deterministic_mode_is_bit_identical_across_runs() {
        let corpus = small_corpus(30_000);
        for (arch, threads) in [(Architecture::SkipGram, 2), (Architecture::Cbow, 3)] {
            let c = TrainConfig {
                threads,
                thread_mode: ThreadMode::Deterministic,
                sync_words: 4_000,
                // Most rows are cold: merged every third round only.
                sync_hot_rows: 64,
                sync_cold_rounds: 3,
                ..config(arch, true, 3)
            };
            let (a, sa) = Word2Vec::train(&corpus, &c).unwrap();
            let (b, _) = Word2Vec::train(&corpus, &c).unwrap();
            assert_eq!(bits(&a), bits(&b), "{arch:?} on {threads} threads");
            assert_eq!(sa.words, 2 * a.vocabulary().total_words());
            // The merged model trained: it moved away from its initial vectors.
            let init = initial_input_vectors(a.vocabulary().len(), 16, &c);
            assert_ne!(a.input_vectors(), &init[..]);
        }
    }

    /// Merges the blocks `blocks` of `base` and `copies` as two stripes, one after the other.
    fn merge_both_stripes(
        base: &mut [Vec<f32>; 3],
        copies: &mut [[Vec<f32>; 3]],
        dirty: &[[Dirty; 3]],
        dim: usize,
        blocks: &[std::ops::Range<usize>; 3],
    ) {
        let [b0, b1, b2] = base;
        let base_rows = [Rows::new(b0, dim), Rows::new(b1, dim), Rows::new(b2, dim)];
        let copy_rows: Vec<[Rows; 3]> = copies
            .iter_mut()
            .map(|[c0, c1, c2]| [Rows::new(c0, dim), Rows::new(c1, dim), Rows::new(c2, dim)])
            .collect();
        let dirty: Vec<&[Dirty; 3]> = dirty.iter().collect();
        for stripe in 0..2 {
            // SAFETY: one stripe at a time on this thread.
            unsafe { merge_stripe(stripe, 2, &dirty, base_rows, &copy_rows, blocks) };
        }
    }

    #[test]
    fn merge_takes_a_lone_threads_row_and_sums_shared_rows_in_thread_order() {
        // 3 threads, 150 rows of 2 floats (three merge blocks), syn1 empty.
        let (rows, dim, threads) = (150usize, 2usize, 3usize);
        let init: Vec<f32> = (0..rows * dim).map(|i| i as f32 * 0.5).collect();
        let mut base = [init.clone(), Vec::new(), init.clone()];
        let mut copies: Vec<[Vec<f32>; 3]> = (0..threads).map(|_| base.clone()).collect();
        let mut dirty: Vec<[Dirty; 3]> = (0..threads)
            .map(|_| [Dirty::new(rows), Dirty::new(0), Dirty::new(rows)])
            .collect();
        // Thread t adds (t + 1) · 1000 to the rows it touches: row 3 by thread 1 alone, row
        // 70 by threads 0 and 2, row 149 by all; syn1neg row 64 by thread 2 alone.
        let touch = [(0, 3, 1), (0, 70, 0), (0, 70, 2), (2, 64, 2)];
        let all = (0..threads).map(|t| (0, 149, t));
        for (m, r, t) in touch.into_iter().chain(all) {
            dirty[t][m].mark(r);
            for x in &mut copies[t][m][r * dim..(r + 1) * dim] {
                *x += (t + 1) as f32 * 1000.0;
            }
        }
        let expect = |r: usize, by: &[usize]| -> Vec<f32> {
            let mut v = init[r * dim..(r + 1) * dim].to_vec();
            for &t in by {
                for x in &mut v {
                    *x += (t + 1) as f32 * 1000.0;
                }
            }
            v
        };
        // A merge of the hot rows (block 0) alone: row 3 is merged; the cold rows keep their
        // own values in every copy and the base.
        merge_both_stripes(&mut base, &mut copies, &dirty, dim, &[0..1, 0..0, 0..1]);
        let row = |v: &Vec<f32>, r: usize| v[r * dim..(r + 1) * dim].to_vec();
        assert_eq!(row(&base[0], 3), expect(3, &[1]));
        assert_eq!(row(&base[0], 70), row(&init, 70));
        assert_eq!(row(&base[2], 64), row(&init, 64));
        for (t, c) in copies.iter().enumerate() {
            assert_eq!(row(&c[0], 3), expect(3, &[1]), "copy {t}");
            let own = if t == 0 || t == 2 { vec![t] } else { vec![] };
            assert_eq!(row(&c[0], 70), expect(70, &own), "copy {t}");
        }
        for d in &mut dirty {
            for m in [0, 2] {
                d[m].clear(0..1);
            }
        }
        // Then every row: the cold rows' changes, kept since, are merged now.
        merge_both_stripes(&mut base, &mut copies, &dirty, dim, &[0..3, 0..0, 0..3]);
        let mut want = [init.clone(), Vec::new(), init.clone()];
        for (m, r, by) in [
            (0, 3, &[1][..]),
            (0, 70, &[0, 2]),
            (0, 149, &[0, 1, 2]),
            (2, 64, &[2]),
        ] {
            want[m][r * dim..(r + 1) * dim].copy_from_slice(&expect(r, by));
        }
        assert_eq!(base, want);
        for c in &copies {
            assert_eq!(c, &want, "every copy holds the merged model");
        }
    }

    #[test]
    fn reading_ahead_changes_neither_the_sentences_nor_the_draws() {
        let corpus = small_corpus(20_000);
        let opts = VocabOptions {
            min_count: 3,
            ..Default::default()
        };
        let vocab = Vocabulary::build(&corpus, &opts).unwrap();
        let cfg = TrainConfig {
            max_sentence_len: 50,
            ..TrainConfig::default()
        };
        let shared = Shared::new(&corpus, &vocab, &cfg).unwrap();
        let range = (0, shared.file_len);
        let mut plain = Worker::new(0, range, &shared).unwrap();
        let mut ahead = Worker::new(0, range, &shared).unwrap();
        let mut sentences = 0;
        for step in 0.. {
            // Read ahead by varying amounts, sometimes past the end of the range.
            ahead
                .read_ahead(&shared, [0, 1, 7, 30_000, 30][step % 5])
                .unwrap();
            let end = plain.read_sentence::<false>(&shared).unwrap();
            assert_eq!(ahead.read_sentence::<false>(&shared).unwrap(), end);
            assert_eq!(plain.sentence, ahead.sentence, "sentence {step}");
            sentences += !plain.sentence.is_empty() as usize;
            if end {
                break;
            }
        }
        assert!(sentences > 100, "{sentences}");
        assert!(ahead.lookahead.is_empty());
        assert_eq!(
            (plain.word_count, plain.tokens_read, plain.rng.next_u64()),
            (ahead.word_count, ahead.tokens_read, ahead.rng.next_u64())
        );
    }

    #[test]
    fn hogwild_threads_read_every_word_once_per_epoch() {
        let corpus = small_corpus(30_000);
        let c = TrainConfig {
            threads: 2,
            ..config(Architecture::SkipGram, false, 5)
        };
        let (m, stats) = Word2Vec::train(&corpus, &c).unwrap();
        assert_eq!(stats.words, 2 * m.vocabulary().total_words());
        assert!(m.input_vectors().iter().all(|x| x.is_finite()));
    }

    #[test]
    fn stage_exchange_adds_this_threads_changes_and_takes_the_shared_values() {
        let dim = 2;
        let mut syn0 = vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut syn1 = vec![10.0f32, 20.0, 30.0, 40.0];
        let mut syn1neg = Vec::new();
        let shared = Weights::new(&mut syn0, &mut syn1, &mut syn1neg, dim);
        // SAFETY: one thread; the matrices outlive every use of `shared`.
        let mut stage = unsafe { Stage::new(shared, 1) };
        // The first row of syn0 and the last (root) row of syn1 are staged.
        assert_eq!(stage.lo, [0, 1, 0]);
        assert_eq!(stage.len, [1, 1, 0]);
        let w = stage.weights(shared);
        // SAFETY: as above; one slice at a time.
        unsafe {
            w.syn0.row(0)[0] += 0.5; // staged: private copy
            w.syn0.row(2)[1] += 0.25; // not staged: shared
            w.syn1.row(1)[1] -= 1.0; // staged
        }
        assert_eq!(syn0, [1.0, 2.0, 3.0, 4.0, 5.0, 6.25]);
        // Another thread changed the staged shared rows meanwhile.
        syn0[1] += 100.0;
        syn1[2] += 7.0;
        let shared = Weights::new(&mut syn0, &mut syn1, &mut syn1neg, dim);
        // SAFETY: as above.
        unsafe { stage.exchange(shared) };
        assert_eq!(syn0, [1.5, 102.0, 3.0, 4.0, 5.0, 6.25]);
        assert_eq!(syn1, [10.0, 20.0, 37.0, 39.0]);
        assert_eq!(stage.private[0], [1.5, 102.0]);
        assert_eq!(stage.snapshot[1], [37.0, 39.0]);
    }

    #[test]
    fn hogwild_with_and_without_private_rows_trains_alike() {
        let corpus = small_corpus(30_000);
        let mut cfg = config(Architecture::SkipGram, true, 3);
        cfg.threads = 2;
        cfg.epochs = 3;
        let train = |threads: usize, private_rows: usize| {
            let config = TrainConfig {
                threads,
                private_rows,
                ..cfg.clone()
            };
            Word2Vec::train(&corpus, &config).unwrap()
        };
        let (one, one_stats) = train(1, 0);
        let (shared_only, stats) = train(2, 0);
        let (staged, staged_stats) = train(2, 64);
        assert_eq!(stats.words, one_stats.words);
        assert_eq!(staged_stats.words, one_stats.words);
        // The staged rows carry the training: the most frequent word's vector (a staged row)
        // moves away from its initial value about as far as with one thread or with every row
        // shared. Two threads move it further than one: over 40 runs, all shared 1.1–1.9
        // times as far, private rows 1.6–3.7 times (each thread's copy lags the other's
        // changes by up to 10,000 words, so both push it the same way for longer). Lost
        // exchanges would show as less movement, a runaway as far more.
        let moved = |m: &Word2Vec| -> f32 {
            let init = initial_input_vectors(m.vocabulary().len(), 16, m.config());
            (16..32)
                .map(|j| (m.input_vectors()[j] - init[j]).abs())
                .sum()
        };
        let (one, shared, staged) = (moved(&one), moved(&shared_only), moved(&staged));
        assert!(one > 0.0, "one thread left the word unchanged");
        assert!(
            shared > 0.5 * one && shared < 3.0 * one,
            "{shared} vs {one}"
        );
        assert!(
            staged > 0.5 * one && staged < 5.0 * one,
            "{staged} vs {one}"
        );
    }

    #[test]
    fn deterministic_schedule_covers_the_corpus_once_per_epoch_in_neighbouring_parts() {
        let (threads, epochs) = (3, 2);
        let chunks = Chunks::new(10_007, threads, epochs);
        let per_epoch = threads * CHUNKS_PER_THREAD;
        let mut seen = vec![0usize; per_epoch];
        for t in 0..threads {
            let mut k = 0;
            while let Some(range) = chunks.static_part(t, k) {
                let i = chunks.bounds.iter().position(|&b| b == range.0).unwrap();
                assert_eq!(chunks.bounds[i + 1], range.1);
                // Round k: the threads train parts k·T .. k·T + T − 1, side by side.
                assert_eq!(i, (k % CHUNKS_PER_THREAD) * threads + t);
                seen[i] += 1;
                k += 1;
            }
            assert_eq!(k, epochs * CHUNKS_PER_THREAD);
        }
        assert!(seen.iter().all(|&n| n == epochs), "{seen:?}");
    }

    #[test]
    fn hogwild_parts_cover_the_corpus_once_per_epoch() {
        let chunks = Chunks::new(1003, 2, 3);
        let mut seen = Vec::new();
        while let Some(r) = chunks.take() {
            seen.push(r);
        }
        assert_eq!(seen.len(), 3 * 2 * CHUNKS_PER_THREAD);
        for epoch in seen.chunks(2 * CHUNKS_PER_THREAD) {
            // Interleaved: the first two parts begin the two threads' shares.
            assert_eq!(epoch[0].0, 0);
            assert_eq!(epoch[1].0, epoch[2 * CHUNKS_PER_THREAD - 2].1);
            let mut parts = epoch.to_vec();
            parts.sort();
            assert_eq!(parts[0].0, 0);
            assert_eq!(parts[parts.len() - 1].1, 1003);
            assert!(parts
                .windows(2)
                .all(|p| p[0].1 == p[1].0 && p[0].0 < p[0].1));
        }
        assert_eq!(chunks.take(), None);
        // Several threads take distinct parts.
        let chunks = Chunks::new(10_000, 4, 2);
        let taken: Vec<Vec<(u64, u64)>> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4)
                .map(|_| s.spawn(|| std::iter::from_fn(|| chunks.take()).collect()))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut all: Vec<(u64, u64)> = taken.into_iter().flatten().collect();
        all.sort();
        assert_eq!(all.len(), 2 * 4 * CHUNKS_PER_THREAD);
        assert!(
            all.chunks(2).all(|p| p[0] == p[1]),
            "each part once per epoch"
        );
    }

    #[test]
    fn reference_parity_mode_is_deterministic_and_starts_like_word2vec_c() {
        let corpus = small_corpus(20_000);
        let c = TrainConfig {
            reference_parity: true,
            ..config(Architecture::Cbow, true, 0)
        };
        let (a, _) = Word2Vec::train(&corpus, &c).unwrap();
        let (b, _) = Word2Vec::train(&corpus, &c).unwrap();
        assert_eq!(bits(&a), bits(&b));
        // word2vec.c: next_random = 1; first value ((25214903928 & 0xFFFF) / 65536 − 0.5) / dim.
        let init = initial_input_vectors(
            3,
            4,
            &TrainConfig {
                dim: 4,
                ..c.clone()
            },
        );
        assert_eq!(
            init[0],
            (((25_214_903_928u64 & 0xFFFF) as f32 / 65536.0) - 0.5) / 4.0
        );
        // The seed does not matter in this mode.
        let (d, _) = Word2Vec::train(&corpus, &TrainConfig { seed: 99, ..c }).unwrap();
        assert_eq!(bits(&a), bits(&d));
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let empty = Corpus::from_bytes("empty.txt", Vec::new());
        assert!(matches!(
            Word2Vec::train(&empty, &TrainConfig::default()),
            Err(crate::Error::EmptyCorpus { .. })
        ));
        let rare = Corpus::from_bytes("rare.txt", b"a b c d".to_vec());
        assert!(matches!(
            Word2Vec::train(&rare, &TrainConfig::default()),
            Err(crate::Error::EmptyVocabulary { .. })
        ));
        let c = TrainConfig {
            window: 0,
            ..TrainConfig::default()
        };
        assert!(matches!(
            Word2Vec::train(&rare, &c),
            Err(crate::Error::InvalidConfig { name: "window", .. })
        ));
        let missing = Corpus::file("/nonexistent/neurite/corpus.txt");
        match Word2Vec::train(&missing, &TrainConfig::default()) {
            Err(crate::Error::Io { path, .. }) => assert!(path.ends_with("corpus.txt")),
            other => panic!("unexpected {other:?}"),
        }
    }

    proptest! {
        /// One output unit's update is −α times the gradient of its loss
        /// L = −log σ(h·v') (label 1) or −log σ(−h·v') (label 0), checked by central
        /// differences in f64; the sigmoid table's resolution bounds the difference.
        #[test]
        fn output_unit_update_is_the_loss_gradient(
            hv in proptest::collection::vec((-0.5f32..0.5, -0.5f32..0.5), 1..40),
            label in 0u8..2,
        ) {
            let (h, out0): (Vec<f32>, Vec<f32>) = hv.into_iter().unzip();
            let corpus = Corpus::from_bytes("t", b"a b".to_vec());
            let vocab = Vocabulary::from_counts([("a", 1), ("b", 1)], &VocabOptions { min_count: 1, ..Default::default() }).unwrap();
            let cfg = TrainConfig::default();
            let shared = Shared::new(&corpus, &vocab, &cfg).unwrap();
            let alpha = 0.1f32;
            let y = label as f64;
            let mut out = out0.clone();
            let mut neu1e = vec![0.0f32; h.len()];
            Worker::output_unit::<false>(&shared, alpha, &h, &mut neu1e, &mut out, label as f32, false);
            let loss = |h: &[f64], v: &[f64]| {
                let s: f64 = h.iter().zip(v).map(|(a, b)| a * b).sum();
                let p = 1.0 / (1.0 + (-s).exp());
                -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
            };
            let hd: Vec<f64> = h.iter().map(|&x| x as f64).collect();
            let vd: Vec<f64> = out0.iter().map(|&x| x as f64).collect();
            let eps = 1e-6;
            for j in 0..h.len() {
                let (mut vp, mut vm) = (vd.clone(), vd.clone());
                vp[j] += eps;
                vm[j] -= eps;
                let grad_v = (loss(&hd, &vp) - loss(&hd, &vm)) / (2.0 * eps);
                let (mut hp, mut hm) = (hd.clone(), hd.clone());
                hp[j] += eps;
                hm[j] -= eps;
                let grad_h = (loss(&hp, &vd) - loss(&hm, &vd)) / (2.0 * eps);
                let tol = 0.01 * alpha as f64 * (hd[j].abs() + vd[j].abs()) + 1e-6;
                prop_assert!(((out[j] - out0[j]) as f64 + alpha as f64 * grad_v).abs() < tol);
                prop_assert!((neu1e[j] as f64 + alpha as f64 * grad_h).abs() < tol);
            }
        }
    }
}

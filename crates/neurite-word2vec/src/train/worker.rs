//! One training thread: reading sentences, sub-sampling, the window, and the hand-derived
//! sparse updates of CBOW and skip-gram with negative sampling and hierarchical softmax.

use std::sync::atomic::Ordering;
use std::time::Instant;

use neurite_tensor::{simd, Rng};

use super::deterministic::{Dirty, LOOKAHEAD_END};
use super::hogwild::{Stage, Weights, STAGE_SYNC_WORDS};
use super::shared::{Negatives, Shared, MAX_PREFETCH};
use super::Matrix;
use crate::config::{Architecture, ThreadMode};
use crate::corpus::{Token, Tokens};
use crate::error::Result;
use crate::kernels::{dot_sequential, Arith};
use crate::sampling::{context_range, Lcg, MAX_EXP};

/// One training thread's state; it survives between the rounds of the deterministic mode.
///
/// Aligned to 128 bytes (two cache lines, the unit the adjacent-line prefetcher fetches) so
/// that the threads' workers, which sit side by side in one `Vec` and whose generators and
/// counters change at every word, never share a cache line.
#[repr(align(128))]
pub(super) struct Worker {
    pub(super) id: usize,
    pub(super) range: (u64, u64),
    pub(super) tokens: Tokens,
    pub(super) rng: Rng,
    pub(super) lcg: Lcg,
    pub(super) sentence: Vec<u32>,
    pub(super) pos: usize,
    pub(super) need_read: bool,
    pub(super) pending_end: bool,
    pub(super) epochs_left: usize,
    /// Words read this epoch, and at the last learning-rate update (word2vec.c's names).
    pub(super) word_count: u64,
    pub(super) last_word_count: u64,
    /// Words read in all epochs.
    pub(super) words_read: u64,
    /// Words kept by sub-sampling (trained as targets) in all epochs: the deterministic
    /// mode's rounds are counted in these, whose training cost is about equal.
    pub(super) trained: u64,
    /// Word tokens read in all epochs, out-of-vocabulary ones included.
    pub(super) tokens_read: u64,
    /// Deterministic mode: word indices of this thread's range read ahead while it waited for
    /// the other threads at the end of a round ([`LOOKAHEAD_END`] marks the range's end).
    pub(super) lookahead: std::collections::VecDeque<u32>,
    pub(super) alpha: f32,
    pub(super) neu1: Vec<f32>,
    pub(super) neu1e: Vec<f32>,
    pub(super) dirty: Option<Box<[Dirty; 3]>>,
    /// Hogwild on several threads: this thread's copies of the most-used rows.
    pub(super) stage: Option<Stage>,
    /// Deterministic mode: parts of the fixed schedule finished.
    pub(super) parts_done: usize,
    pub(super) finished: bool,
    pub(super) finished_at: Option<Instant>,
    pub(super) last_report: Instant,
}

/// One call of [`Worker::run`] as a `simd::Kernel`: `simd::run` compiles the training loop,
/// with the kernels of `A` and everything else of the hot loop (window, sigmoid table,
/// sampling, updates) inlined, once per SIMD level, and the level is chosen once per chunk of
/// training instead of once per dot product.
pub(super) struct TrainChunk<'w, 's, A> {
    worker: &'w mut Worker,
    shared: &'w Shared<'s>,
    weights: Weights,
    budget: u64,
    arith: A,
}

impl<'w, 's, A: Arith> TrainChunk<'w, 's, A> {
    /// The call `worker.run(shared, weights, budget, arith)`.
    ///
    /// # Safety
    /// As [`run_worker`](super::run_worker), for as long as the kernel lives.
    pub(super) unsafe fn new(
        worker: &'w mut Worker,
        shared: &'w Shared<'s>,
        weights: Weights,
        budget: u64,
        arith: A,
    ) -> Self {
        TrainChunk {
            worker,
            shared,
            weights,
            budget,
            arith,
        }
    }
}

impl<A: Arith> simd::Kernel for TrainChunk<'_, '_, A> {
    type Output = Result<()>;

    #[inline(always)]
    fn call(self) -> Result<()> {
        let TrainChunk {
            worker,
            shared,
            weights,
            budget,
            arith,
        } = self;
        // SAFETY: `TrainChunk::new`'s contract, made when the kernel was built.
        unsafe {
            if shared.config.reference_parity {
                worker.run::<true, A>(shared, weights, budget, arith)
            } else {
                worker.run::<false, A>(shared, weights, budget, arith)
            }
        }
    }
}

impl Worker {
    pub(super) fn new(id: usize, range: (u64, u64), shared: &Shared) -> Result<Self> {
        let config = shared.config;
        Ok(Worker {
            id,
            range,
            tokens: shared
                .corpus
                .tokens(range.0, range.1, config.reference_parity)?,
            rng: Rng::new(config.seed).fork(id as u64),
            lcg: Lcg(id as u64),
            sentence: Vec::with_capacity(config.max_sentence_len.min(1 << 16)),
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
    /// varies, so rounds counted in words read cost the threads unequal time, and the faster
    /// one waits.
    ///
    /// The loop is inlined into its caller, [`TrainChunk`]'s `call`, which `simd::run`
    /// compiles once per SIMD level with the kernels of `arith` inlined into it.
    ///
    /// # Safety
    /// As [`run_worker`](super::run_worker).
    #[inline(always)]
    pub(super) unsafe fn run<const PARITY: bool, A: Arith>(
        &mut self,
        shared: &Shared,
        weights: Weights,
        budget: u64,
        arith: A,
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
                if PARITY && (at_end || self.word_count > shared.schedule_words / threads) {
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
            unsafe { self.train_position::<PARITY, A>(shared, w, arith) };
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

    pub(super) fn update_alpha(&mut self, shared: &Shared) {
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
    pub(super) fn end_epoch(&mut self, shared: &Shared) -> Result<()> {
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
    pub(super) fn read_sentence<const PARITY: bool>(&mut self, shared: &Shared) -> Result<bool> {
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
    pub(super) fn next_index(&mut self, shared: &Shared) -> Result<Option<usize>> {
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
    pub(super) fn read_ahead(&mut self, shared: &Shared, n: usize) -> Result<()> {
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

    /// One negative sample (inlined: it runs five times per output update in the hot loop).
    #[inline(always)]
    pub(super) fn draw_negative<const PARITY: bool>(&mut self, shared: &Shared) -> usize {
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
    fn mark(&mut self, matrix: Matrix, row: usize) {
        if let Some(d) = &mut self.dirty {
            d[matrix as usize].mark(row);
        }
    }

    /// One output unit: score, upstream gradient, and the two downstream updates; false when
    /// the unit was skipped. `skip_outside` chooses word2vec.c's treatment of |score| ≥ 6:
    /// hierarchical softmax skips the unit, negative sampling clamps σ to 0 or 1. The
    /// asymmetry is the original's, kept on purpose.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub(super) fn output_unit<const PARITY: bool, A: Arith>(
        arith: A,
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
            arith.dot_fused_from(h, out, from)
        } else if PARITY {
            dot_sequential(h, out)
        } else {
            arith.dot(h, out)
        };
        if skip_outside && (f >= MAX_EXP || f <= -MAX_EXP) {
            return false;
        }
        // Beyond the table σ is taken as exactly 1 or 0; at ±MAX_EXP itself the table answers.
        let g = if f > MAX_EXP {
            (label - 1.0) * alpha
        } else if f < -MAX_EXP {
            label * alpha
        } else if PARITY {
            (label - shared.sigmoid.reference(f)) * alpha
        } else {
            (label - shared.sigmoid.fast(f)) * alpha
        };
        // Downstream gradients: g·v' into h's accumulator, g·h into v'.
        if fused_from.is_some() {
            arith.axpy_fused(neu1e, g, out);
            arith.axpy_fused(out, g, h);
        } else {
            arith.axpy(neu1e, g, out);
            arith.axpy(out, g, h);
        }
        true
    }

    /// Trains the target word at `self.pos` of the sentence.
    ///
    /// # Safety
    /// As [`run_worker`](super::run_worker).
    #[inline(always)]
    pub(super) unsafe fn train_position<const PARITY: bool, A: Arith>(
        &mut self,
        shared: &Shared,
        w: Weights,
        arith: A,
    ) {
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
                        arith.add(&mut self.neu1, unsafe {
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
                    arith.scale(&mut self.neu1, 1.0 / cw as f32);
                }
                self.neu1e.fill(0.0);
                let h = std::mem::take(&mut self.neu1);
                // SAFETY: forwarded from this function's contract; `h` is this worker's buffer.
                unsafe { self.output_layer::<PARITY, A>(shared, w, word, &h, arith) };
                self.neu1 = h;
                for c in lo..hi {
                    if c != pos {
                        let r = self.sentence[c] as usize;
                        // SAFETY: one row slice at a time.
                        arith.add(unsafe { w.syn0.row(r) }, &self.neu1e);
                        self.mark(Matrix::Syn0, r);
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
                    unsafe { self.output_layer::<PARITY, A>(shared, w, word, l1, arith) };
                    arith.add(l1, &self.neu1e);
                    self.mark(Matrix::Syn0, r);
                }
            }
        }
    }

    /// Hierarchical softmax and negative sampling for input `h` and target `word`,
    /// accumulating the downstream gradient of `h` in `neu1e`.
    ///
    /// # Safety
    /// As [`run_worker`](super::run_worker); `h` must not be a row of `syn1` or `syn1neg`.
    #[inline(always)]
    pub(super) unsafe fn output_layer<const PARITY: bool, A: Arith>(
        &mut self,
        shared: &Shared,
        w: Weights,
        word: usize,
        h: &[f32],
        arith: A,
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
                if Self::output_unit::<PARITY, A>(
                    arith,
                    shared,
                    alpha,
                    h,
                    &mut self.neu1e,
                    out,
                    label,
                    true,
                ) {
                    self.mark(Matrix::Syn1, p);
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
                if Self::output_unit::<PARITY, A>(
                    arith,
                    shared,
                    alpha,
                    h,
                    &mut self.neu1e,
                    out,
                    label,
                    !PARITY,
                ) {
                    self.mark(Matrix::Syn1neg, target);
                }
            }
        }
    }
}

//! The read-only state of a run that every training thread reads: tables, the sampler, the
//! corpus parts, and the few atomics the threads share.

use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::time::Instant;

use neurite_tensor::simd::{self, Level};

use super::chunks::Chunks;
use crate::config::{Architecture, ReferenceFma, TrainConfig, REFERENCE_TABLE_SIZE};
use crate::corpus::Corpus;
use crate::error::{Error, Result};
use crate::huffman::HuffmanTree;
use crate::sampling::{
    keep_probability, reference_keep_threshold, reference_unigram_table, AliasTable, SigmoidTable,
};
use crate::vocab::Vocabulary;

/// Negative samples drawn ahead and prefetched (more are drawn as they are used).
pub(super) const MAX_PREFETCH: usize = 32;

/// Negative-sampling distribution.
pub(super) enum Negatives {
    None,
    /// word2vec.c's 1e8-slot table.
    Reference(Vec<u32>),
    Alias(AliasTable),
}

/// Read-only state of a run, shared by the threads.
pub(super) struct Shared<'a> {
    pub(super) corpus: &'a Corpus,
    pub(super) vocab: &'a Vocabulary,
    pub(super) config: &'a TrainConfig,
    pub(super) sigmoid: SigmoidTable,
    pub(super) tree: Option<HuffmanTree>,
    pub(super) negatives: Negatives,
    /// Fast mode: keep a word when 32 random bits fall below this (≥ 2^32: always).
    pub(super) keep_fast: Vec<u64>,
    /// Reference mode: word2vec.c's `ran` per word.
    pub(super) keep_reference: Vec<f32>,
    /// Deterministic mode: kept words per thread and round, `sync_words` times the share of
    /// words sub-sampling keeps. Rounds end on kept words, whose training cost is about equal,
    /// and last `sync_words` words read on average.
    pub(super) round_kept: u64,
    /// Reference mode with fused multiply-adds: the first fused term of each dot product.
    pub(super) fma_from: Option<usize>,
    /// Corpus words read by all threads (progress and the Hogwild learning rate).
    pub(super) words_done: AtomicU64,
    /// `epochs · schedule_words + 1`, word2vec.c's denominator of progress.
    pub(super) planned: u64,
    /// Words of one pass over the corpus (the vocabulary's total, or the count of a corpus
    /// trained on later): what the learning-rate schedule spans per epoch.
    pub(super) schedule_words: u64,
    pub(super) started: Instant,
    /// Bytes in the corpus.
    pub(super) file_len: u64,
    /// Several threads: the parts of the corpus.
    pub(super) chunks: Option<Chunks>,
    /// Held while a Hogwild thread exchanges its staged rows (see [`Stage`]).
    pub(super) exchange: std::sync::Mutex<()>,
    /// Deterministic mode: threads that have finished the current round.
    pub(super) round_done: AtomicUsize,
    /// The SIMD level of the run: `simd::level()` on the thread that started it, so that a
    /// level forced there (`simd::with_level`) reaches every training thread.
    pub(super) level: Level,
}

impl<'a> Shared<'a> {
    pub(super) fn new(
        corpus: &'a Corpus,
        vocab: &'a Vocabulary,
        config: &'a TrainConfig,
        schedule_words: u64,
    ) -> Result<Self> {
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
        let planned = (config.epochs as u64)
            .checked_mul(schedule_words)
            .and_then(|w| w.checked_add(1))
            .ok_or_else(|| Error::Overflow {
                path: corpus.path().to_path_buf(),
                what: format!("{} epochs of {schedule_words} words", config.epochs),
            })?;
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
            planned,
            schedule_words,
            started: Instant::now(),
            file_len,
            chunks: (config.threads > 1)
                .then(|| Chunks::new(file_len, config.threads, config.epochs)),
            exchange: std::sync::Mutex::new(()),
            round_done: AtomicUsize::new(0),
            level: simd::level(),
        })
    }

    /// Waits until no other thread exchanges its staged rows. The lock guards no data, so a
    /// thread that panicked while holding it leaves nothing inconsistent.
    pub(super) fn exchange_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.exchange.lock().unwrap_or_else(|e| e.into_inner())
    }
}

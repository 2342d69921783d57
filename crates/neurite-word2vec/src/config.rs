//! Training settings, with word2vec.c's defaults written where they are declared.

use crate::error::{Error, Result};
use crate::vocab::VocabOptions;

/// Which model predicts what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Architecture {
    /// Continuous bag of words: the mean of the context words' vectors predicts the target word.
    Cbow,
    /// Skip-gram: the target word predicts each context word (computed, as in word2vec.c, by
    /// letting each context word's input vector predict the target's output units).
    SkipGram,
}

/// How several threads share the weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadMode {
    /// Lock-free updates of one shared model (Hogwild, as word2vec.c does): fastest, and
    /// results vary from run to run when threads > 1.
    Hogwild,
    /// Each thread trains a private copy for a round of `sync_words` words; the copies' changes
    /// are then summed into the model in thread order (the most-used rows after every round,
    /// the others every `sync_cold_rounds` rounds). Same seed and thread count ⇒ bit-identical
    /// vectors. Costs one copy of the weights per thread.
    Deterministic,
}

/// How the word2vec.c binary being reproduced rounded its multiply-adds (reference-parity
/// mode only). GCC contracts `a * b + c` into a fused multiply-add (one rounding instead of
/// two) by default (`-ffp-contract=fast`) whenever the target has FMA, as `-march=native` on
/// any x86-64 since 2013 does. The updates `y[c] += g * x[c]` are then always fused; the dot
/// products `f += a[c] * b[c]` depend on how GCC compiled each loop (see [`DotRounding`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReferenceFma {
    /// No fused multiply-add: word2vec.c built with `-ffp-contract=off`, or for a processor
    /// without FMA.
    Off,
    /// Fused updates, and dot products rounded as given for each architecture.
    Fused {
        /// The CBOW dot products (`neu1 · syn1[...]`).
        cbow_dot: DotRounding,
        /// The skip-gram dot products (`syn0[...] · syn1[...]`).
        skip_gram_dot: DotRounding,
    },
}

impl ReferenceFma {
    /// GCC 12.2 `-O3 -march=native -funroll-loops` on an AMD EPYC with AVX-512 (GCC tunes for
    /// `znver3`, which avoids FMA in a loop's reduction chain): CBOW's dot products are scalar
    /// loops with every product rounded; skip-gram's are vectorised 16 and then 8 floats wide.
    /// Checked bit for bit against that build (`crates/neurite-word2vec/bench/parity.sh`).
    pub const GCC12_ZNVER_AVX512: ReferenceFma = ReferenceFma::Fused {
        cbow_dot: DotRounding::Separate,
        skip_gram_dot: DotRounding::VectorBlocks(8),
    };
    /// GCC 12.2 `-O3 -march=haswell -funroll-loops` (AVX2 and FMA): CBOW's dot products are
    /// scalar loops of fused multiply-adds; skip-gram's are vectorised 8 and then 4 floats wide.
    /// Checked bit for bit against that build.
    pub const GCC12_HASWELL: ReferenceFma = ReferenceFma::Fused {
        cbow_dot: DotRounding::Fused,
        skip_gram_dot: DotRounding::VectorBlocks(4),
    };
}

/// How one of word2vec.c's dot products `f += a[c] * b[c]` (`n` terms, added in order) was
/// compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DotRounding {
    /// Each product rounded before it is added (a scalar loop without FMA).
    Separate,
    /// Each product fused with its addition (a scalar loop of FMAs).
    Fused,
    /// Vectorised: the products of the first `block·⌊n/block⌋` terms are computed a vector at
    /// a time (each rounded) and added one by one; the remaining `n mod block` terms are a
    /// scalar tail of FMAs. `block` is the width of the narrowest vector GCC used.
    VectorBlocks(usize),
}

impl DotRounding {
    /// For a dot product of `n` terms: the first term that is fused (`n` when none is).
    pub fn fused_from(self, n: usize) -> usize {
        match self {
            DotRounding::Separate => n,
            DotRounding::Fused => 0,
            DotRounding::VectorBlocks(block) => n / block.max(1) * block.max(1),
        }
    }
}

/// Everything that shapes training. `Default` gives word2vec.c's defaults (CBOW).
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// CBOW or skip-gram (`-cbow 1|0`, default CBOW).
    pub architecture: Architecture,
    /// Vector dimension (`-size`, default 100; at most [`MAX_DIM`]).
    pub dim: usize,
    /// Maximum distance between the target word and a context word (`-window`, default 5; at
    /// most [`MAX_WINDOW`]).
    pub window: usize,
    /// Soft window: for each target a random effective window in `1..=window` (default on).
    pub shrink_window: bool,
    /// Sub-sampling threshold of frequent words (`-sample`, default 1e-3; 0 turns it off).
    pub sample: f64,
    /// Negative samples per target (`-negative`, default 5; 0 turns negative sampling off; at
    /// most [`MAX_NEGATIVE`]).
    pub negative: usize,
    /// Hierarchical softmax over a Huffman tree (`-hs`, default off).
    pub hs: bool,
    /// Starting learning rate (`-alpha`); `None`: 0.05 for CBOW, 0.025 for skip-gram.
    pub alpha: Option<f32>,
    /// Passes over the corpus (`-iter`, default 5; at most [`MAX_EPOCHS`]). The learning rate
    /// falls linearly from `alpha` to `alpha`·1e-4 over all of them.
    pub epochs: usize,
    /// Training threads (`-threads`, default 1; at most [`MAX_THREADS`]).
    pub threads: usize,
    /// How threads share the weights (default Hogwild).
    pub thread_mode: ThreadMode,
    /// Words each thread reads in one round of [`ThreadMode::Deterministic`], on average: a
    /// round ends when the thread has kept as many words as sub-sampling keeps of
    /// `sync_words` in expectation (default 50,000). After every round the `sync_hot_rows`
    /// most-used rows are merged; the other rows every `sync_cold_rounds` rounds. Shorter
    /// rounds merge more often; longer ones let the copies drift apart before their changes
    /// are summed, which costs accuracy (the README's word2vec design notes have the figures).
    pub sync_words: u64,
    /// [`ThreadMode::Deterministic`]: rows of each matrix (the most frequent words, the
    /// Huffman nodes nearest the root) merged after every round (`-sync-hot-rows`, default
    /// 4096). These rows are touched by every thread all the time; the copies of a row drift
    /// apart the faster the more it is used.
    pub sync_hot_rows: usize,
    /// [`ThreadMode::Deterministic`]: every row outside `sync_hot_rows` is merged once every
    /// this many rounds (`-sync-cold-rounds`, default 4; 1: every row after every round). A
    /// merge costs memory traffic in proportion to the rows touched since the last one, most
    /// of which are rare words that one thread alone has touched, so merging them less often
    /// is most of the deterministic mode's speed; the copies of a rare word have little time to
    /// drift apart (the README's word2vec design notes have the figures).
    pub sync_cold_rounds: usize,
    /// Hogwild on several threads: each thread trains its own copy of this many of the
    /// most-used rows of each matrix (the most frequent words, the Huffman nodes nearest the
    /// root) and exchanges its changes with the shared model every 10,000 words, so that the
    /// rows every thread writes all the time do not bounce between cores (`-private-rows`,
    /// default 1024; 0: every row shared, as word2vec.c).
    pub private_rows: usize,
    /// Seed of every random choice (initial vectors, windows, sub-sampling, negative samples).
    pub seed: u64,
    /// Input vectors start uniform in [−`init_range`/dim, `init_range`/dim) (`-init-range`,
    /// default 1.0 as gensim 4; word2vec.c uses 0.5, which the reference-parity mode keeps).
    pub init_range: f32,
    /// Reproduce word2vec.c (2015 release) exactly: its generator seeded as there, its sigmoid
    /// table index, its 1e8-slot unigram table (400 MB), left-to-right sums, its learning-rate
    /// schedule and its end-of-file quirks. Single thread only; `seed` is ignored.
    /// [`Word2Vec::train`](crate::Word2Vec::train) then counts the vocabulary as
    /// [`Vocabulary::build_reference`](crate::Vocabulary::build_reference) does (words of
    /// equal count in order of first occurrence, as glibc's `qsort` leaves them in word2vec.c).
    /// Checked against word2vec.c by `bench/parity.sh` (identical vocabulary and vector files
    /// for CBOW and skip-gram with negative sampling, hierarchical softmax or both) and by the
    /// `word2vec_c_parity` test.
    pub reference_parity: bool,
    /// In the reference-parity mode, which multiply-adds word2vec.c's binary fused (rounded
    /// once): none when it was built with `-ffp-contract=off` or for a processor without FMA
    /// (the default); see [`ReferenceFma`] for GCC's `-O3 -march=native`. Only valid with
    /// `reference_parity`.
    pub reference_fma: ReferenceFma,
    /// Sentences are cut after this many kept words (word2vec.c's `MAX_SENTENCE_LENGTH`, 1000;
    /// at most [`MAX_SENTENCE_LEN`]).
    pub max_sentence_len: usize,
    /// Print progress (percent, alpha, words/s per thread) on standard error.
    pub progress: bool,
    /// How the vocabulary is built.
    pub vocab: VocabOptions,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            architecture: Architecture::Cbow,
            dim: 100,
            window: 5,
            shrink_window: true,
            sample: 1e-3,
            negative: 5,
            hs: false,
            alpha: None,
            epochs: 5,
            threads: 1,
            thread_mode: ThreadMode::Hogwild,
            sync_words: 50_000,
            sync_hot_rows: 4096,
            sync_cold_rounds: 4,
            private_rows: 1024,
            seed: 1,
            init_range: 1.0,
            reference_parity: false,
            reference_fma: ReferenceFma::Off,
            max_sentence_len: 1000,
            progress: false,
            vocab: VocabOptions::default(),
        }
    }
}

/// Largest vector dimension: the largest the vector file readers accept.
pub const MAX_DIM: usize = crate::vectors::format::MAX_DIM;

/// Largest window: wider than any sentence can usefully be (and `position + window` never
/// overflows).
pub const MAX_WINDOW: usize = 1 << 20;

/// Most negative samples per target word: word2vec.c's documentation recommends 5–20; beyond
/// a thousand, a run does nothing but draw samples.
pub const MAX_NEGATIVE: usize = 1000;

/// Most passes over the corpus: published settings use 1–100 (word2vec.c 5, fastText up to a
/// few hundred on small data); a million passes over even a tiny corpus is a run that never
/// ends, not a setting.
pub const MAX_EPOCHS: usize = 10_000;

/// Most training threads: each holds a corpus reader and its buffers, and far more threads
/// than cores only contend.
pub const MAX_THREADS: usize = 1024;

/// Longest sentence, in kept words (word2vec.c's is 1000).
pub const MAX_SENTENCE_LEN: usize = 1 << 24;

/// Slots of word2vec.c's unigram table.
pub(crate) const REFERENCE_TABLE_SIZE: usize = 100_000_000;

impl TrainConfig {
    /// CBOW with the defaults.
    pub fn cbow() -> Self {
        TrainConfig::default()
    }

    /// Skip-gram with the defaults.
    pub fn skip_gram() -> Self {
        TrainConfig {
            architecture: Architecture::SkipGram,
            ..TrainConfig::default()
        }
    }

    /// The starting learning rate in force.
    pub fn starting_alpha(&self) -> f32 {
        self.alpha.unwrap_or(match self.architecture {
            Architecture::Cbow => 0.05,
            Architecture::SkipGram => 0.025,
        })
    }

    /// Checks every setting; training calls it first.
    pub fn validate(&self) -> Result<()> {
        if self.dim == 0 || self.dim > MAX_DIM {
            return Err(Error::config("dim", self.dim, "in 1..=1048576 (MAX_DIM)"));
        }
        if self.window == 0 || self.window > MAX_WINDOW {
            return Err(Error::config(
                "window",
                self.window,
                "in 1..=1048576 (MAX_WINDOW)",
            ));
        }
        if self.negative > MAX_NEGATIVE {
            return Err(Error::config(
                "negative",
                self.negative,
                "at most 1000 (MAX_NEGATIVE)",
            ));
        }
        if self.threads > MAX_THREADS {
            return Err(Error::config(
                "threads",
                self.threads,
                "at most 1024 (MAX_THREADS)",
            ));
        }
        if self.max_sentence_len > MAX_SENTENCE_LEN {
            return Err(Error::config(
                "max_sentence_len",
                self.max_sentence_len,
                "at most 16777216 (MAX_SENTENCE_LEN)",
            ));
        }
        if self
            .epochs
            .checked_mul(self.threads.saturating_mul(64))
            .is_none()
        {
            return Err(Error::config(
                "epochs",
                self.epochs,
                "few enough that epochs × threads × 16 corpus parts fit in usize",
            ));
        }
        if !(self.sample >= 0.0 && self.sample.is_finite()) {
            return Err(Error::config("sample", self.sample, "a finite number ≥ 0"));
        }
        if self.negative == 0 && !self.hs {
            return Err(Error::config(
                "negative",
                self.negative,
                "at least 1 unless hierarchical softmax is on",
            ));
        }
        let alpha = self.starting_alpha();
        if !(alpha > 0.0 && alpha.is_finite()) {
            return Err(Error::config("alpha", alpha, "a finite number > 0"));
        }
        if self.epochs == 0 || self.epochs > MAX_EPOCHS {
            return Err(Error::config(
                "epochs",
                self.epochs,
                "in 1..=10000 (MAX_EPOCHS)",
            ));
        }
        if self.threads == 0 {
            return Err(Error::config("threads", self.threads, "at least 1"));
        }
        if !(self.init_range > 0.0 && self.init_range.is_finite()) {
            return Err(Error::config(
                "init_range",
                self.init_range,
                "a finite number > 0",
            ));
        }
        if self.sync_words == 0 {
            return Err(Error::config("sync_words", self.sync_words, "at least 1"));
        }
        if self.sync_cold_rounds == 0 {
            return Err(Error::config(
                "sync_cold_rounds",
                self.sync_cold_rounds,
                "at least 1",
            ));
        }
        if self.max_sentence_len == 0 {
            return Err(Error::config(
                "max_sentence_len",
                self.max_sentence_len,
                "at least 1",
            ));
        }
        if self.reference_parity && self.threads != 1 {
            return Err(Error::config(
                "threads",
                self.threads,
                "1 in the reference-parity mode",
            ));
        }
        if self.reference_fma != ReferenceFma::Off && !self.reference_parity {
            return Err(Error::config(
                "reference_fma",
                format!("{:?}", self.reference_fma),
                "Off unless reference_parity is on",
            ));
        }
        if let ReferenceFma::Fused {
            cbow_dot,
            skip_gram_dot,
        } = self.reference_fma
        {
            if cbow_dot == DotRounding::VectorBlocks(0)
                || skip_gram_dot == DotRounding::VectorBlocks(0)
            {
                return Err(Error::config(
                    "reference_fma",
                    "VectorBlocks(0)",
                    "a block ≥ 1",
                ));
            }
        }
        if self.vocab.prune_at == 0 {
            return Err(Error::config("prune_at", 0, "at least 1"));
        }
        Ok(())
    }

    /// Bytes the model needs for a vocabulary of `vocab_len` words: the input vectors, the
    /// output vectors of each objective, the negative-sampling table, the Huffman codes, and
    /// one private copy of the weights per thread in the deterministic multi-threaded mode.
    ///
    /// Saturates at `u64::MAX` for sizes that cannot exist.
    pub fn memory_bytes(&self, vocab_len: usize) -> u64 {
        let matrix = (vocab_len as u64)
            .saturating_mul(self.dim as u64)
            .saturating_mul(4);
        let outputs = matrix.saturating_mul(self.hs as u64 + (self.negative > 0) as u64);
        let copies = if self.thread_mode == ThreadMode::Deterministic && self.threads > 1 {
            (self.threads as u64).saturating_mul(matrix.saturating_add(outputs))
        } else {
            0
        };
        let table = if self.negative == 0 {
            0
        } else if self.reference_parity {
            REFERENCE_TABLE_SIZE as u64 * 4
        } else {
            vocab_len as u64 * 8
        };
        let huffman = if self.hs { vocab_len as u64 * 40 } else { 0 };
        matrix
            .saturating_add(outputs)
            .saturating_add(copies)
            .saturating_add(table)
            .saturating_add(huffman)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_word2vec_c_defaults() {
        let c = TrainConfig::default();
        assert_eq!((c.dim, c.window, c.negative, c.epochs), (100, 5, 5, 5));
        assert_eq!(c.sample, 1e-3);
        assert_eq!(c.starting_alpha(), 0.05);
        assert_eq!(TrainConfig::skip_gram().starting_alpha(), 0.025);
        c.validate().unwrap();
    }

    #[test]
    fn bad_settings_are_rejected() {
        let bad = [
            TrainConfig {
                window: 0,
                ..Default::default()
            },
            TrainConfig {
                dim: 0,
                ..Default::default()
            },
            TrainConfig {
                negative: 0,
                hs: false,
                ..Default::default()
            },
            TrainConfig {
                sample: -1.0,
                ..Default::default()
            },
            TrainConfig {
                alpha: Some(f32::NAN),
                ..Default::default()
            },
            TrainConfig {
                epochs: 0,
                ..Default::default()
            },
            // A million passes over a tiny corpus ran on for minutes under the fuzzer.
            TrainConfig {
                epochs: MAX_EPOCHS + 1,
                ..Default::default()
            },
            TrainConfig {
                threads: 2,
                reference_parity: true,
                ..Default::default()
            },
            TrainConfig {
                reference_fma: ReferenceFma::GCC12_HASWELL,
                ..Default::default()
            },
            TrainConfig {
                reference_parity: true,
                reference_fma: ReferenceFma::Fused {
                    cbow_dot: DotRounding::Fused,
                    skip_gram_dot: DotRounding::VectorBlocks(0),
                },
                ..Default::default()
            },
        ];
        for c in bad {
            assert!(
                matches!(c.validate(), Err(Error::InvalidConfig { .. })),
                "{c:?}"
            );
        }
        let e = TrainConfig {
            window: 0,
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(e.to_string().contains("window = 0"), "{e}");
    }

    #[test]
    fn dot_rounding_splits_where_gcc_does() {
        assert_eq!(DotRounding::Separate.fused_from(100), 100);
        assert_eq!(DotRounding::Fused.fused_from(100), 0);
        // 100 = 6·16 + 4: zmm blocks, no ymm block (4 < 8), a scalar tail of 4.
        assert_eq!(DotRounding::VectorBlocks(8).fused_from(100), 96);
        assert_eq!(DotRounding::VectorBlocks(8).fused_from(37), 32);
        assert_eq!(DotRounding::VectorBlocks(4).fused_from(37), 36);
        assert_eq!(DotRounding::VectorBlocks(4).fused_from(3), 0);
    }

    #[test]
    fn memory_estimate_counts_each_part() {
        let c = TrainConfig::default();
        assert_eq!(c.memory_bytes(1000), 2 * 1000 * 100 * 4 + 8000);
        let p = TrainConfig {
            reference_parity: true,
            hs: true,
            ..Default::default()
        };
        assert_eq!(
            p.memory_bytes(1000),
            3 * 1000 * 100 * 4 + 400_000_000 + 40_000
        );
    }
}

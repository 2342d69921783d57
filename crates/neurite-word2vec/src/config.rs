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
    /// are then summed into the model in thread order. Same seed and thread count ⇒ bit-identical
    /// vectors. Costs one copy of the weights per thread.
    Deterministic,
}

/// Everything that shapes training. `Default` gives word2vec.c's defaults (CBOW).
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// CBOW or skip-gram (`-cbow 1|0`, default CBOW).
    pub architecture: Architecture,
    /// Vector dimension (`-size`, default 100).
    pub dim: usize,
    /// Maximum distance between the target word and a context word (`-window`, default 5).
    pub window: usize,
    /// Soft window: for each target a random effective window in `1..=window` (default on).
    pub shrink_window: bool,
    /// Sub-sampling threshold of frequent words (`-sample`, default 1e-3; 0 turns it off).
    pub sample: f64,
    /// Negative samples per target (`-negative`, default 5; 0 turns negative sampling off).
    pub negative: usize,
    /// Hierarchical softmax over a Huffman tree (`-hs`, default off).
    pub hs: bool,
    /// Starting learning rate (`-alpha`); `None`: 0.05 for CBOW, 0.025 for skip-gram.
    pub alpha: Option<f32>,
    /// Passes over the corpus (`-iter`, default 5). The learning rate falls linearly from
    /// `alpha` to `alpha`·1e-4 over all of them.
    pub epochs: usize,
    /// Training threads (`-threads`, default 1).
    pub threads: usize,
    /// How threads share the weights (default Hogwild).
    pub thread_mode: ThreadMode,
    /// Words per thread between two merges in [`ThreadMode::Deterministic`] (default 100,000).
    pub sync_words: u64,
    /// Seed of every random choice (initial vectors, windows, sub-sampling, negative samples).
    pub seed: u64,
    /// Reproduce word2vec.c (2015 release) exactly: its generator seeded as there, its sigmoid
    /// table index, its 1e8-slot unigram table (400 MB), left-to-right sums, its learning-rate
    /// schedule and its end-of-file quirks. Single thread only; `seed` is ignored. word2vec.c
    /// orders words of equal count by its hash table, neurite by their bytes: give both tools
    /// the same `-read-vocab` file for an identical vocabulary.
    pub reference_parity: bool,
    /// Sentences are cut after this many kept words (word2vec.c's `MAX_SENTENCE_LENGTH`, 1000).
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
            sync_words: 100_000,
            seed: 1,
            reference_parity: false,
            max_sentence_len: 1000,
            progress: false,
            vocab: VocabOptions::default(),
        }
    }
}

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
        if self.dim == 0 {
            return Err(Error::config("dim", self.dim, "at least 1"));
        }
        if self.window == 0 {
            return Err(Error::config("window", self.window, "at least 1"));
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
        if self.epochs == 0 {
            return Err(Error::config("epochs", self.epochs, "at least 1"));
        }
        if self.threads == 0 {
            return Err(Error::config("threads", self.threads, "at least 1"));
        }
        if self.sync_words == 0 {
            return Err(Error::config("sync_words", self.sync_words, "at least 1"));
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
        if self.vocab.prune_at == 0 {
            return Err(Error::config("prune_at", 0, "at least 1"));
        }
        Ok(())
    }

    /// Bytes the model needs for a vocabulary of `vocab_len` words: the input vectors, the
    /// output vectors of each objective, the negative-sampling table, the Huffman codes, and
    /// one private copy of the weights per thread in the deterministic multi-threaded mode.
    pub fn memory_bytes(&self, vocab_len: usize) -> u64 {
        let matrix = (vocab_len * self.dim * 4) as u64;
        let outputs = matrix * (self.hs as u64 + (self.negative > 0) as u64);
        let copies = if self.thread_mode == ThreadMode::Deterministic && self.threads > 1 {
            self.threads as u64 * (matrix + outputs)
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
        matrix + outputs + copies + table + huffman
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
            TrainConfig {
                threads: 2,
                reference_parity: true,
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

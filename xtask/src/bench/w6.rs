//! W6: word2vec training throughput (corpus words per second of training, vocabulary building
//! excluded) for skip-gram and CBOW with negative sampling or hierarchical softmax, on the
//! embedded corpus or `--corpus FILE`, with the settings of BENCHMARKS.md: dim 100, window 5,
//! negative 5 (NS) or hierarchical softmax, sample 1e-3, min-count 5, 1 epoch, alpha 0.025
//! (skip-gram) / 0.05 (CBOW). The `-det` workloads run the same negative-sampling modes in the
//! deterministic multi-threaded mode (bit-identical vectors for a seed and thread count), to
//! compare with the Hogwild default at 2 threads.

use std::path::Path;

use neurite::word2vec::{Architecture, Corpus, ThreadMode, TrainConfig, Vocabulary, Word2Vec};

use super::Workload;

/// Words of the embedded corpus used in quick mode.
const QUICK_WORDS: usize = 300_000;

pub fn workloads(corpus: Option<&Path>, quick: bool) -> Vec<Workload> {
    let corpus = match corpus {
        Some(p) => Corpus::file(p),
        None => Corpus::embedded().expect("the embedded corpus decompresses"),
    };
    let corpus = if quick {
        corpus.head(QUICK_WORDS).expect("the corpus is readable")
    } else {
        corpus
    };
    let base = TrainConfig {
        dim: 100,
        window: 5,
        sample: 1e-3,
        epochs: 1,
        ..TrainConfig::default()
    };
    // Counted once, outside the timed repeats.
    let vocab = Vocabulary::build(&corpus, &base.vocab).expect("the corpus has a vocabulary");
    let modes = [
        (
            "W6-w2v-sg-ns",
            Architecture::SkipGram,
            false,
            ThreadMode::Hogwild,
        ),
        (
            "W6-w2v-cbow-ns",
            Architecture::Cbow,
            false,
            ThreadMode::Hogwild,
        ),
        (
            "W6-w2v-sg-hs",
            Architecture::SkipGram,
            true,
            ThreadMode::Hogwild,
        ),
        (
            "W6-w2v-cbow-hs",
            Architecture::Cbow,
            true,
            ThreadMode::Hogwild,
        ),
        (
            "W6-w2v-sg-ns-det",
            Architecture::SkipGram,
            false,
            ThreadMode::Deterministic,
        ),
        (
            "W6-w2v-cbow-ns-det",
            Architecture::Cbow,
            false,
            ThreadMode::Deterministic,
        ),
    ];
    modes
        .into_iter()
        .map(|(name, architecture, hs, thread_mode)| {
            let corpus = corpus.clone();
            let vocab = vocab.clone();
            let config = TrainConfig {
                architecture,
                hs,
                negative: if hs { 0 } else { 5 },
                thread_mode,
                alpha: Some(match architecture {
                    Architecture::SkipGram => 0.025,
                    Architecture::Cbow => 0.05,
                }),
                ..base.clone()
            };
            Workload {
                name: name.to_string(),
                metric: "words_per_s",
                run: Box::new(move |threads| {
                    let config = TrainConfig {
                        threads,
                        ..config.clone()
                    };
                    let (_, stats) = Word2Vec::train_with_vocab(&corpus, vocab.clone(), &config)
                        .expect("word2vec trains on the benchmark corpus");
                    stats.words_per_sec
                }),
            }
        })
        .collect()
}

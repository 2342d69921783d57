//! # neurite-word2vec
//!
//! Word vectors as Mikolov et al. defined them, and as fast as the original C code or faster:
//! CBOW and skip-gram, negative sampling and hierarchical softmax, sub-sampling of frequent
//! words, the soft window, a linearly decaying learning rate, and lock-free multi-threaded
//! training — written with hand-derived sparse updates on flat row-major matrices (no
//! computational graph: the arithmetic of a few 100-wide dot products per word is all there is).
//!
//! ```
//! use neurite_word2vec::{Corpus, TrainConfig, Word2Vec};
//!
//! // Any text, split on white space; a line break ends a sentence.
//! let text = "the king rules the land . the queen rules the land .\n".repeat(200);
//! let corpus = Corpus::from_bytes("toy", text.into_bytes());
//! let config = TrainConfig {
//!     dim: 16,
//!     epochs: 3,
//!     vocab: neurite_word2vec::VocabOptions { min_count: 1, ..Default::default() },
//!     ..TrainConfig::skip_gram()
//! };
//! let (model, stats) = Word2Vec::train(&corpus, &config)?;
//! println!("{:.0} words/s", stats.words_per_sec);
//!
//! let vectors = model.into_keyed_vectors();
//! let neighbours = vectors.most_similar("king", 3)?;
//! assert_eq!(neighbours.len(), 3);
//! let path = std::env::temp_dir().join("neurite-doc-vectors.bin");
//! vectors.save_binary(&path)?; // word2vec.c's `-binary 1` format
//! let back = neurite_word2vec::KeyedVectors::load(&path)?;
//! assert_eq!(back.vector("queen"), vectors.vector("queen"));
//! # std::fs::remove_file(&path).ok();
//! # Ok::<(), neurite_word2vec::Error>(())
//! ```
//!
//! ## What is inside
//!
//! * [`Corpus`] — a file streamed from disk (it need not fit in memory) or bytes in memory;
//!   [`Corpus::embedded`] is a vendored 1M-word public-domain corpus. Each training thread
//!   reads its own byte ranges (no producer thread); Hogwild threads take parts of the
//!   corpus as they go, so that they finish together.
//! * [`Vocabulary`] — counts with word2vec.c's pruning of rare words while counting,
//!   `min_count`, an optional maximum size, frequency order with ties broken by the word's
//!   bytes (never by hashing), `</s>` at index 0; saved and loaded as `word count` lines.
//! * [`TrainConfig`] and [`Word2Vec::train`] — every knob of word2vec.c with its default, plus
//!   two modes no other trainer offers: **reference parity**
//!   ([`TrainConfig::reference_parity`]), which reproduces the original's generator, sigmoid
//!   table, unigram table, window shrinking and learning-rate schedule, and its rounding
//!   ([`ReferenceFma`]): a single-thread run writes the same vocabulary and vector files, byte
//!   for byte, as word2vec.c with the same flags (`bench/parity.sh`); and a **deterministic multi-threaded**
//!   mode ([`ThreadMode::Deterministic`]) that gives bit-identical vectors for a seed and
//!   thread count. The default, [`ThreadMode::Hogwild`], shares one model without locks as
//!   the original does (see the `train` module documentation for why and how that race is
//!   confined), except the most-used rows, which each thread trains in its own copy and
//!   exchanges every 10,000 words ([`TrainConfig::private_rows`]) so that they do not bounce
//!   between the cores' caches.
//! * [`Word2Vec::train_more`] continues training on more text with the same vocabulary, the
//!   learning rate restarted as gensim's `train()` does; [`Word2Vec::grow_vocabulary`] adds the
//!   new words of a text first (gensim's `build_vocab(update=True)`, with its limits).
//! * [`KeyedVectors`] — cosine [`most_similar`](KeyedVectors::most_similar),
//!   [`analogy`](KeyedVectors::analogy) (a − b + c), gensim's queries
//!   ([`most_similar_to`](KeyedVectors::most_similar_to) with positive and negative words and
//!   `restrict_vocab`, [`most_similar_cosmul`](KeyedVectors::most_similar_cosmul),
//!   [`doesnt_match`](KeyedVectors::doesnt_match), [`n_similarity`](KeyedVectors::n_similarity),
//!   [`rank`](KeyedVectors::rank), [`closer_than`](KeyedVectors::closer_than); checked against
//!   gensim's answers), and the word2vec text and binary formats, byte-compatible with
//!   word2vec.c and readable from gensim, plain or gzip, whole or the first N words
//!   ([`LoadOptions`]); [`KeyedVectors::to_tensor`] hands the matrix to the rest of neurite.
//!   Words are byte strings, as in word2vec.c: vocabulary and vector files round-trip any bytes.
//! * [`evaluate_analogies`] (questions-words.txt, per section, restricted to the top N words
//!   like compute-accuracy; 3CosAdd and 3CosMul) and [`evaluate_similarity`] (Spearman
//!   correlation, WordSim-353).
//! * [`phrases`] — word2phrase.c's phrase detection ("new york" → `new_york`), byte-identical
//!   output, streaming both passes, with gensim's `Phrases` scorers (default, npmi) as options.
//! * [`pca_svg`] — a 2-D PCA picture of chosen words.
//! * The `neurite-word2vec` binary: a drop-in for word2vec.c's command line (`-train -output
//!   -size -window -sample -hs -negative -threads -iter -min-count -alpha -binary -cbow
//!   -save-vocab -read-vocab`) plus `similar` (`+word`/`-word` lists), `analogy`,
//!   `doesnt-match`, `evaluate` and `plot` subcommands, each with `--limit`, and `phrase`
//!   (word2phrase.c's flags).
//!
//! Bad input — an empty corpus, a vocabulary emptied by `min_count`, `window = 0`, a vectors
//! file with a wrong header, a truncated binary file, a line of the wrong dimension, a word
//! given twice, counts that overflow 64 bits, sizes beyond the documented maxima
//! ([`config::MAX_DIM`], [`config::MAX_NEGATIVE`], …) or beyond memory — is an [`Error`] naming
//! the file and the line or byte offset; no allocation is sized by a file header before the
//! data is seen; files are written to a temporary sibling and renamed, so a failed save never
//! leaves half a file.

pub mod cli;
pub mod config;
pub mod corpus;
#[cfg(feature = "embedded-data")]
pub mod data;
pub mod error;
pub mod evaluate;
pub mod huffman;
mod io;
pub mod kernels;
pub mod phrases;
pub mod plot;
pub mod sampling;
pub mod train;
pub mod vectors;
pub mod vocab;

pub use config::{Architecture, DotRounding, ReferenceFma, ThreadMode, TrainConfig};
pub use corpus::Corpus;
pub use error::{Error, Result};
pub use evaluate::{
    evaluate_analogies, evaluate_analogies_file, evaluate_similarity, evaluate_similarity_file,
    AnalogyReport, SectionScore, SimilarityReport,
};
pub use plot::{pca_svg, save_pca_svg};
pub use train::{TrainStats, Word2Vec};
pub use vectors::{KeyedVectors, LoadOptions};
pub use vocab::{VocabOptions, Vocabulary, SENTENCE_END};

/// The README's examples, compiled and run as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

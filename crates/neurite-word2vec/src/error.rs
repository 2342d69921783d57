//! The typed error of neurite-word2vec: every failure on user input names what was expected,
//! what came, and where (file, line or byte offset).

use std::path::{Path, PathBuf};

/// Everything that can go wrong in neurite-word2vec.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The corpus holds no word at all.
    #[error("{path}: the corpus is empty (no words separated by white space)")]
    EmptyCorpus {
        /// The corpus file (or `<memory>`).
        path: PathBuf,
    },
    /// Every word was removed by `min_count` (or by the maximum vocabulary size).
    #[error("{path}: the vocabulary is empty after min_count = {min_count} ({distinct} distinct words, the most frequent seen {max_count} times)")]
    EmptyVocabulary {
        /// The corpus or vocabulary file.
        path: PathBuf,
        /// The minimum count in force.
        min_count: u64,
        /// Distinct words counted before the cut.
        distinct: usize,
        /// The highest count of any word.
        max_count: u64,
    },
    /// A hyper-parameter is out of range.
    #[error("invalid setting {name} = {value}: {expected}")]
    InvalidConfig {
        /// Name of the setting.
        name: &'static str,
        /// The value given.
        value: String,
        /// What is allowed.
        expected: &'static str,
    },
    /// A file does not follow its format at a given line.
    #[error("{path}:{line}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What was expected and what came.
        message: String,
    },
    /// A vector line has the wrong number of components.
    #[error("{path}:{line}: word {word:?} has {found} components, the header says {expected}")]
    WrongDimension {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The word on that line.
        word: String,
        /// Dimension from the header.
        expected: usize,
        /// Components found.
        found: usize,
    },
    /// A binary vectors file ends early.
    #[error("{path}: truncated at byte offset {offset}: expected {expected}")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Byte offset where data ran out.
        offset: u64,
        /// What was being read.
        expected: String,
    },
    /// A word occurs twice in a vocabulary or vectors file.
    #[error("{path}:{line}: word {word:?} occurs twice")]
    DuplicateWord {
        /// The file.
        path: PathBuf,
        /// 1-based line number (0 when the words came from memory).
        line: usize,
        /// The word (printed lossily when it is not UTF-8).
        word: String,
    },
    /// A count or a size does not fit in 64 bits (or in the machine's address space).
    #[error("{path}: {what} overflows")]
    Overflow {
        /// The file (or `<memory>`).
        path: PathBuf,
        /// What was being added up.
        what: String,
    },
    /// An allocation failed: the request was larger than the memory available.
    #[error("out of memory: {what} needs {bytes} bytes")]
    OutOfMemory {
        /// What was being allocated.
        what: String,
        /// Bytes requested.
        bytes: u64,
    },
    /// A word is not in the vocabulary.
    #[error("word {0:?} is not in the vocabulary")]
    UnknownWord(String),
    /// A tensor could not be built.
    #[error(transparent)]
    Tensor(#[from] neurite_tensor::TensorError),
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// A format error at `line` of `path`.
    pub fn format(path: impl AsRef<Path>, line: usize, message: impl Into<String>) -> Self {
        Error::Format {
            path: path.as_ref().to_path_buf(),
            line,
            message: message.into(),
        }
    }

    /// An out-of-range setting.
    pub fn config(
        name: &'static str,
        value: impl std::fmt::Display,
        expected: &'static str,
    ) -> Self {
        Error::InvalidConfig {
            name,
            value: value.to_string(),
            expected,
        }
    }
}

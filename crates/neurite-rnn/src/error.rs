//! Typed errors of neurite-rnn: what was expected and what came.

use neurite_autograd::AutogradError;
use neurite_nn::NnError;
use neurite_tensor::TensorError;

/// The error of recurrent cells, layers and decoders.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RnnError {
    /// From neurite-nn.
    #[error(transparent)]
    Nn(#[from] NnError),
    /// From the graph.
    #[error(transparent)]
    Autograd(#[from] AutogradError),
    /// From a tensor kernel.
    #[error(transparent)]
    Tensor(#[from] TensorError),
    /// An input of the wrong rank or feature size.
    #[error("{layer}: expected input {expected}, got shape {got:?}")]
    BadInput {
        /// The layer, e.g. "Lstm(64 → 128)".
        layer: String,
        /// What it expects.
        expected: String,
        /// What came.
        got: Vec<usize>,
    },
    /// Sequence lengths that do not fit the batch.
    #[error("{layer}: bad sequence lengths: {message}")]
    BadLengths {
        /// The layer.
        layer: String,
        /// What was wrong, with the values that came.
        message: String,
    },
    /// An initial state of the wrong shape.
    #[error("{layer}: initial {which} state must have shape {expected:?}, got {got:?}")]
    BadState {
        /// The layer.
        layer: String,
        /// "hidden" or "cell".
        which: &'static str,
        /// The expected shape.
        expected: Vec<usize>,
        /// What came.
        got: Vec<usize>,
    },
    /// A hyper-parameter outside its valid range.
    #[error("{what}: invalid value: {message}")]
    InvalidConfig {
        /// The layer or function.
        what: &'static str,
        /// What was wrong, with the value that came.
        message: String,
    },
}

impl RnnError {
    /// An invalid hyper-parameter.
    pub fn config(what: &'static str, message: impl Into<String>) -> Self {
        RnnError::InvalidConfig {
            what,
            message: message.into(),
        }
    }
}

impl From<RnnError> for NnError {
    /// Recurrent errors seen through the [`neurite_nn::Module`] trait.
    fn from(e: RnnError) -> NnError {
        match e {
            RnnError::Nn(e) => e,
            RnnError::Autograd(e) => NnError::Autograd(e),
            RnnError::Tensor(e) => NnError::Tensor(e),
            RnnError::BadInput {
                layer,
                expected,
                got,
            } => NnError::BadInput {
                layer,
                expected,
                got,
            },
            other => NnError::config("neurite-rnn", other.to_string()),
        }
    }
}

/// Result with an [`RnnError`].
pub type Result<T, E = RnnError> = std::result::Result<T, E>;

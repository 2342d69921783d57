//! Typed errors of neurite-nn.

use std::path::PathBuf;

use neurite_autograd::AutogradError;
use neurite_tensor::TensorError;

/// The error of layers, losses, optimisers, data loading and parameter files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NnError {
    /// From the graph (shape errors of ops included).
    #[error(transparent)]
    Autograd(#[from] AutogradError),
    /// From a tensor kernel.
    #[error(transparent)]
    Tensor(#[from] TensorError),
    /// A layer got an input of the wrong shape.
    #[error("{layer}: expected input {expected}, got shape {got:?}")]
    BadInput {
        /// The layer (e.g. "Linear(784 → 256)").
        layer: String,
        /// What it expects.
        expected: String,
        /// What came.
        got: Vec<usize>,
    },
    /// A class label outside 0..classes.
    #[error("{op}: label {label} at position {position} is outside 0..{classes}")]
    LabelOutOfRange {
        /// The loss or metric.
        op: &'static str,
        /// The label.
        label: usize,
        /// Its position in the batch.
        position: usize,
        /// The number of classes.
        classes: usize,
    },
    /// An index (e.g. a token id given to an embedding) outside 0..bound, or not an integer.
    #[error("{layer}: index {index} at position {position} is outside 0..{bound}")]
    IndexOutOfRange {
        /// The layer or function.
        layer: String,
        /// The offending value, as given.
        index: String,
        /// Its position in the (flattened) input.
        position: usize,
        /// The number of valid indices.
        bound: usize,
    },
    /// A hyper-parameter outside its valid range.
    #[error("{what}: invalid value: {message}")]
    InvalidConfig {
        /// The layer, optimiser or function.
        what: &'static str,
        /// What was wrong, with the value that came.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file's content is malformed.
    #[error("{path}:{location}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Line number or byte offset, e.g. "line 12" or "offset 16".
        location: String,
        /// What was wrong.
        message: String,
    },
    /// A parameter file does not match the model.
    #[error("{path}: parameter file does not match the model: {message}")]
    ParamMismatch {
        /// The file.
        path: PathBuf,
        /// Every difference found.
        message: String,
    },
    /// A tensor given to a layer constructor has the wrong shape.
    #[error("{layer}: {what} must have shape {expected}, got {got:?}")]
    ParamShape {
        /// The layer.
        layer: String,
        /// Which tensor ("weight", "bias", …).
        what: &'static str,
        /// The shape it needs.
        expected: String,
        /// The shape that came.
        got: Vec<usize>,
    },
    /// A checkpoint that cannot be restored; nothing was changed.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A stored tensor has a dtype the caller cannot use.
    #[error("expected {expected}, got a {got} tensor")]
    Dtype {
        /// What was expected.
        expected: String,
        /// The stored dtype.
        got: crate::tensor_file::Dtype,
    },
    /// A state dict or checkpoint lacks a tensor.
    #[error("no tensor named {name:?}")]
    MissingTensor {
        /// The name.
        name: String,
    },
    /// Non-finite values in data.
    #[error("{what}: found a non-finite value (NaN or ±∞) at {location}")]
    NonFinite {
        /// The data set or tensor.
        what: String,
        /// Where.
        location: String,
    },
}

impl NnError {
    /// An invalid hyper-parameter.
    pub fn config(what: &'static str, message: impl Into<String>) -> Self {
        NnError::InvalidConfig {
            what,
            message: message.into(),
        }
    }
}

/// Result with an [`NnError`].
pub type Result<T, E = NnError> = std::result::Result<T, E>;

/// The element count of `dims`, or an [`NnError::InvalidConfig`] when it overflows or no
/// buffer could hold that many `f64` (a tensor of it would panic in ndarray or the allocator).
pub(crate) fn checked_numel(what: &'static str, dims: &[usize]) -> Result<usize> {
    dims.iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= isize::MAX as usize / std::mem::size_of::<f64>())
        .ok_or_else(|| {
            NnError::config(
                what,
                format!("a tensor of shape {dims:?} is too large to hold"),
            )
        })
}

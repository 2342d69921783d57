//! Typed errors of neurite-tensor: each says what was expected and what came.

/// The error of every fallible tensor operation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TensorError {
    /// Two shapes that an operation needs to agree (or broadcast) do not.
    #[error("{op}: shape mismatch: {lhs:?} vs {rhs:?}{}", detail_suffix(.detail))]
    ShapeMismatch {
        /// The operation.
        op: &'static str,
        /// The first shape.
        lhs: Vec<usize>,
        /// The second shape.
        rhs: Vec<usize>,
        /// What was expected, when there is more to say.
        detail: String,
    },
    /// An axis outside `0..ndim`.
    #[error("{op}: axis {axis} out of range for a tensor of {ndim} dimensions")]
    BadAxis {
        /// The operation.
        op: &'static str,
        /// The axis given.
        axis: usize,
        /// The number of dimensions of the tensor.
        ndim: usize,
    },
    /// A reshape to a shape with a different element count.
    #[error("reshape: cannot view {from:?} ({} elements) as {to:?} ({} elements)", element_count(.from), element_count(.to))]
    BadReshape {
        /// The shape of the tensor.
        from: Vec<usize>,
        /// The requested shape.
        to: Vec<usize>,
    },
    /// A data buffer whose length does not match the shape it should fill.
    #[error("{op}: {len} values cannot fill shape {shape:?} ({} elements)", element_count(.shape))]
    BadLength {
        /// The operation.
        op: &'static str,
        /// The number of values given.
        len: usize,
        /// The requested shape.
        shape: Vec<usize>,
    },
    /// An index (row, class, position) outside its range.
    #[error("{op}: index {index} out of range 0..{bound}")]
    IndexOutOfRange {
        /// The operation.
        op: &'static str,
        /// The offending index.
        index: usize,
        /// The exclusive upper bound.
        bound: usize,
    },
    /// A tensor with the wrong number of dimensions.
    #[error("{op}: expected {expected}, got a tensor of shape {got:?}")]
    BadRank {
        /// The operation.
        op: &'static str,
        /// What was expected, in words (e.g. "a 2-D tensor [rows, cols]").
        expected: &'static str,
        /// The shape that came.
        got: Vec<usize>,
    },
    /// A shape whose element count overflows `usize`: no buffer could hold it.
    #[error("{what}: shape {shape:?} has more elements than a buffer can hold")]
    TooLarge {
        /// The tensor, layer or buffer requested.
        what: String,
        /// The shape that came.
        shape: Vec<usize>,
    },
    /// An allocation this process cannot make: more than [`crate::alloc::memory_limit`], or
    /// refused by the system (see [`crate::alloc`]).
    #[error("{what}: out of memory: {bytes} bytes requested; this process can hold at most {limit} bytes (physical memory plus swap, or ulimit -v), less what is in use")]
    OutOfMemory {
        /// The tensor, layer or buffer requested.
        what: String,
        /// The bytes requested (`u64::MAX` when beyond it).
        bytes: u64,
        /// [`crate::alloc::memory_limit`].
        limit: u64,
    },
    /// A parameter (stride, kernel size, probability, …) outside its valid range.
    #[error("{op}: invalid argument: {message}")]
    InvalidArgument {
        /// The operation.
        op: &'static str,
        /// What was wrong, with the value that came.
        message: String,
    },
}

/// The element count of a shape for a message; a shape from bad input may overflow `usize`.
fn element_count(shape: &[usize]) -> String {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .map_or_else(|| "too many".to_string(), |n| n.to_string())
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(" ({detail})")
    }
}

impl TensorError {
    /// A shape mismatch without further detail.
    pub fn shape(op: &'static str, lhs: &[usize], rhs: &[usize]) -> Self {
        TensorError::ShapeMismatch {
            op,
            lhs: lhs.to_vec(),
            rhs: rhs.to_vec(),
            detail: String::new(),
        }
    }
    /// A shape mismatch that explains what was expected.
    pub fn shape_detail(
        op: &'static str,
        lhs: &[usize],
        rhs: &[usize],
        detail: impl Into<String>,
    ) -> Self {
        TensorError::ShapeMismatch {
            op,
            lhs: lhs.to_vec(),
            rhs: rhs.to_vec(),
            detail: detail.into(),
        }
    }
    /// An invalid argument.
    pub fn invalid(op: &'static str, message: impl Into<String>) -> Self {
        TensorError::InvalidArgument {
            op,
            message: message.into(),
        }
    }
}

/// Result with a [`TensorError`].
pub type Result<T, E = TensorError> = std::result::Result<T, E>;

//! Typed errors of neurite-autograd.

use neurite_tensor::TensorError;

/// The error of graph operations, backward and gradient checks.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AutogradError {
    /// A tensor kernel rejected its input (shape mismatch, bad axis, …).
    #[error(transparent)]
    Tensor(#[from] TensorError),
    /// `backward()` without an upstream gradient needs a scalar (one-element) output.
    #[error("backward: the output has shape {shape:?}; backward() without an upstream gradient needs a one-element output (use backward_with)")]
    NonScalarBackward {
        /// The shape of the output.
        shape: Vec<usize>,
    },
    /// An explicit upstream gradient whose shape differs from the output's.
    #[error(
        "backward: upstream gradient has shape {got:?}, expected the output's shape {expected:?}"
    )]
    UpstreamShape {
        /// The output's shape.
        expected: Vec<usize>,
        /// The upstream gradient's shape.
        got: Vec<usize>,
    },
    /// Two variables of different graphs were combined.
    #[error("{op}: a variable from another graph was used; every input of an op must come from the same graph")]
    ForeignVariable {
        /// The operation.
        op: &'static str,
    },
    /// A value that back-propagation already released was needed (backward run twice, or a value read after backward).
    #[error("node {node} ({op}): its forward value was released by an earlier backward (use backward_with(.., retain_graph: true) to keep it)")]
    Released {
        /// The node's index.
        node: usize,
        /// The node's op.
        op: &'static str,
    },
    /// backward on a graph built in inference mode, which records nothing.
    #[error("backward: this graph was built in inference mode and recorded no operations")]
    InferenceGraph,
    /// An op's backward returned a gradient of the wrong shape (a bug in that op).
    #[error(
        "{op}: backward returned a gradient of shape {got:?} for an input of shape {expected:?}"
    )]
    BadGradient {
        /// The operation.
        op: &'static str,
        /// The input's shape.
        expected: Vec<usize>,
        /// The gradient's shape.
        got: Vec<usize>,
    },
    /// A finite-difference gradient check failed.
    #[error("gradcheck {op}: input {input} gradient differs from central differences: max abs error {max_abs:.3e}, max rel error {max_rel:.3e} (tolerance abs {atol:.1e} + rel {rtol:.1e})")]
    GradcheckFailed {
        /// The op or layer checked.
        op: String,
        /// The input index whose gradient is wrong.
        input: usize,
        /// Largest absolute error.
        max_abs: f64,
        /// Largest relative error.
        max_rel: f64,
        /// Absolute tolerance.
        atol: f64,
        /// Relative tolerance.
        rtol: f64,
    },
    /// An argument outside its valid range.
    #[error("{op}: invalid argument: {message}")]
    InvalidArgument {
        /// The operation.
        op: &'static str,
        /// What was wrong.
        message: String,
    },
}

impl AutogradError {
    /// An invalid argument.
    pub fn invalid(op: &'static str, message: impl Into<String>) -> Self {
        AutogradError::InvalidArgument {
            op,
            message: message.into(),
        }
    }
}

/// Result with an [`AutogradError`].
pub type Result<T, E = AutogradError> = std::result::Result<T, E>;

//! Typed errors of neurite-cnn: every shape error names the layer and both shapes.

use neurite_autograd::AutogradError;
use neurite_nn::NnError;
use neurite_tensor::TensorError;

/// The error of convolution and pooling layers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CnnError {
    /// From the graph.
    #[error(transparent)]
    Autograd(#[from] AutogradError),
    /// From a tensor kernel.
    #[error(transparent)]
    Tensor(#[from] TensorError),
    /// From neurite-nn (a layer of a `Sequential`, a loss, …).
    #[error(transparent)]
    Nn(#[from] NnError),
    /// The input has the wrong rank (e.g. a 3-D tensor for `Conv2d`).
    #[error("{layer}: expected input {expected}, got shape {got:?}")]
    BadRank {
        /// The layer, e.g. "Conv2d(1 → 16, kernel [3, 3], stride [1, 1], padding [1, 1])".
        layer: String,
        /// The expected layout, e.g. "[batch, channels, height, width]".
        expected: String,
        /// The input's shape.
        got: Vec<usize>,
    },
    /// The input's channel count differs from the layer's.
    #[error("{layer}: input has {got} channels but the layer takes {expected} (input shape {input:?}, weight shape {weight:?})")]
    ChannelMismatch {
        /// The layer.
        layer: String,
        /// The layer's input channels.
        expected: usize,
        /// The input's channels.
        got: usize,
        /// The input's shape.
        input: Vec<usize>,
        /// The weight's shape.
        weight: Vec<usize>,
    },
    /// The (dilated) kernel does not fit in the padded input.
    #[error("{layer}: kernel {kernel:?} (dilated extent {extent:?}) is larger than the padded input {padded:?} (input shape {input:?})")]
    KernelTooLarge {
        /// The layer.
        layer: String,
        /// Kernel size per spatial axis.
        kernel: Vec<usize>,
        /// Dilated kernel extent, dilation·(k − 1) + 1.
        extent: Vec<usize>,
        /// Spatial size after padding.
        padded: Vec<usize>,
        /// The input's shape.
        input: Vec<usize>,
    },
    /// A bias or weight of the wrong shape was given to a functional op.
    #[error("{layer}: {what} has shape {got:?}, expected {expected:?}")]
    ParamShape {
        /// The op or layer.
        layer: String,
        /// "weight" or "bias".
        what: &'static str,
        /// The expected shape.
        expected: Vec<usize>,
        /// The shape that came.
        got: Vec<usize>,
    },
    /// A hyper-parameter outside its valid range (zero stride, groups not dividing channels, …).
    #[error("{layer}: invalid configuration: {message}")]
    InvalidConfig {
        /// The layer.
        layer: String,
        /// What was wrong, with the value that came.
        message: String,
    },
}

impl CnnError {
    /// An invalid configuration.
    pub fn config(layer: impl Into<String>, message: impl Into<String>) -> Self {
        CnnError::InvalidConfig {
            layer: layer.into(),
            message: message.into(),
        }
    }
}

impl From<CnnError> for NnError {
    /// Layers used through [`neurite_nn::Module`] report neurite-nn's error: shape errors become
    /// [`NnError::BadInput`] (the message keeps both shapes), configuration errors
    /// [`NnError::InvalidConfig`].
    fn from(e: CnnError) -> Self {
        match e {
            CnnError::Autograd(e) => NnError::Autograd(e),
            CnnError::Tensor(e) => NnError::Tensor(e),
            CnnError::Nn(e) => e,
            CnnError::BadRank {
                layer,
                expected,
                got,
            } => NnError::BadInput {
                layer,
                expected,
                got,
            },
            CnnError::ChannelMismatch {
                layer,
                expected,
                got,
                input,
                weight,
            } => NnError::BadInput {
                layer,
                expected: format!(
                    "[batch, {expected}, …] for weight {weight:?} (the input has {got} channels)"
                ),
                got: input,
            },
            CnnError::KernelTooLarge {
                layer,
                kernel,
                extent,
                padded,
                input,
            } => NnError::BadInput {
                layer,
                expected: format!(
                    "a padded size of at least {extent:?} for kernel {kernel:?} (padded size {padded:?})"
                ),
                got: input,
            },
            CnnError::ParamShape {
                layer,
                what,
                expected,
                got,
            } => NnError::BadInput {
                layer,
                expected: format!("{what} of shape {expected:?}"),
                got,
            },
            CnnError::InvalidConfig { layer, message } => {
                NnError::config("neurite-cnn layer", format!("{layer}: {message}"))
            }
        }
    }
}

impl From<CnnError> for AutogradError {
    /// For gradient-check closures, which return the graph's error.
    fn from(e: CnnError) -> Self {
        match e {
            CnnError::Autograd(e) => e,
            CnnError::Tensor(e) => AutogradError::Tensor(e),
            CnnError::Nn(NnError::Autograd(e)) => e,
            other => AutogradError::invalid("neurite-cnn", other.to_string()),
        }
    }
}

/// Result with a [`CnnError`].
pub type Result<T, E = CnnError> = std::result::Result<T, E>;

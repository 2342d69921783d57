//! # neurite
//!
//! The facade of the neurite workspace: each crate re-exported under a short name.
pub use neurite_autograd as autograd;
pub use neurite_cnn as cnn;
pub use neurite_nn as nn;
pub use neurite_rnn as rnn;
pub use neurite_tensor as tensor;
pub use neurite_word2vec as word2vec;

//! # neurite
//!
//! The facade of the neurite workspace: each crate re-exported under a short name.
pub use neurite_tensor as tensor;

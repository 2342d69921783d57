//! What neurite's examples share, imported by the examples, the tests and the tour like any
//! other crate: the common command-line flags ([`flags`]), where the data live ([`data`]), the
//! models more than one program uses ([`text`], [`caption`], [`compare`], [`w3`]), the
//! training examples' checkpoints ([`resume`]), SVG line charts ([`plot`]), and running an
//! example binary from a test or the tour ([`programs`]).
//!
//! Not published: it exists for the repository's examples and tests.

pub mod caption;
pub mod compare;
pub mod data;
pub mod flags;
pub mod plot;
pub mod programs;
pub mod resume;
pub mod text;
pub mod w3;

pub use flags::{Defaults, TrainFlags, Training};
pub use resume::Checkpoints;

/// An example's `main`: keeps freed training buffers for reuse (see
/// `neurite::tensor::keep_freed_memory`), runs `body`, and on error prints `name: error` and
/// exits with status 1.
pub fn main(name: &str, body: impl FnOnce() -> Result<(), Box<dyn std::error::Error>>) {
    neurite::tensor::keep_freed_memory();
    if let Err(e) = body() {
        eprintln!("{name}: {e}");
        std::process::exit(1);
    }
}

//! Property tests of every neurite-tensor kernel against naive reference implementations
//! (plain loops over multi-indices) on random shapes, including empty and size-1 dimensions.

mod bad_input;
mod common;
mod conv;
mod matmul;
mod ops;
mod pool;
mod reduce;
mod shape;
mod simd;
mod threads;

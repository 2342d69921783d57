//! # neurite-tensor
//!
//! The foundation of neurite: an n-dimensional [`Tensor<T>`] of `f32` or `f64` on ndarray, with
//! the kernels every other neurite crate stands on.
//!
//! - constructors: zeros, ones, full, from a `Vec` and a shape, arange, seeded uniform / normal
//!   ([`Rng`] is the seeded generator behind every random choice in neurite);
//! - shape operations: reshape, transpose / permute (strided views), narrow / slice, concat /
//!   stack / split, `index_select` (gather rows: the embedding lookup) and `index_add` (its
//!   scatter-add backward);
//! - element-wise maths with NumPy broadcasting, numerically stable where it matters (sigmoid
//!   for large |x|, softplus, log-sum-exp);
//! - reductions along axes with keep-dims, and stable softmax / log-softmax;
//! - [`Tensor::matmul`], 2-D and batched, on the `gemm` crate's AVX-512 / AVX2 kernels with
//!   transposes passed as strides, split over threads by a plan that depends only on the shape
//!   (bit-identical results for any thread count); [`matmul`] is the one way into GEMM for the
//!   other crates (views, row-major slices, and B packed once for many products);
//! - runtime CPU dispatch ([`simd`]): the hot loops run compiled for AVX-512, AVX2+FMA or
//!   baseline code, chosen when the program starts (`NEURITE_SIMD` caps it), never by build
//!   flags; the optimisers' element-wise updates live in [`update`];
//! - convolution helpers ([`conv`]: im2col / col2im in 1-D and 2-D over a [`Window`] with
//!   stride, asymmetric padding and dilation; the column layout makes a convolution one GEMM
//!   per image; `_into` variants fill caller buffers) and pooling kernels ([`pool`]: max with
//!   argmax, average with [`PadCount`], adaptive average, and their backward kernels; windows
//!   with dilation and PyTorch's ceil mode);
//! - process settings: the thread count ([`set_num_threads`]) and [`keep_freed_memory`], which
//!   stops glibc from handing training's large buffers back to the system after every step.
//!
//! Errors are typed ([`TensorError`]) and say what was expected and what came; user input never
//! makes this crate panic. neurite-tensor knows nothing of gradients: autograd lives one layer up.
//!
//! ```
//! use neurite_tensor::{Rng, Tensor};
//!
//! let mut rng = Rng::new(42);
//! let x = Tensor::<f32>::rand_normal(&[4, 3], 0.0, 1.0, &mut rng);   // a batch of 4 inputs
//! let w = Tensor::<f32>::rand_uniform(&[2, 3], -0.5, 0.5, &mut rng); // weight [out, in]
//! let b = Tensor::<f32>::zeros(&[2]);
//! let logits = x.matmul(&w.t()?)?.add(&b)?;                           // [4, 2]
//! let probs = logits.softmax(1)?;
//! let row_sums = probs.sum_axes(&[1], false)?;
//! assert!(row_sums.to_vec().iter().all(|s| (s - 1.0).abs() < 1e-6));
//! assert!(x.matmul(&w).is_err()); // [4, 3]·[2, 3]: a typed shape error, not a panic
//! # Ok::<(), neurite_tensor::TensorError>(())
//! ```

pub mod alloc;
pub mod conv;
mod error;
mod float;
pub mod fs;
pub mod matmul;
pub mod memory;
mod ops;
pub mod parallel;
pub mod pool;
mod reduce;
mod rng;
pub mod simd;
mod tensor;
pub mod update;

pub use conv::{Window, Window1d, Window2d};
pub use error::{Result, TensorError};
pub use float::Float;
pub use matmul::gemm;
pub use memory::keep_freed_memory;
pub use ndarray;
pub use ops::broadcast_shape;
pub use parallel::{num_threads, set_num_threads};
pub use pool::{MaxPoolOutput, PadCount};
pub use rng::Rng;
pub use tensor::Tensor;

/// The README's examples, compiled and run as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

//! Thread control: neurite splits large kernels over rayon's global pool.
//!
//! The pool honours `RAYON_NUM_THREADS`; [`set_num_threads`] fixes the count once at start-up.
//! Element-wise kernels give identical results for any thread count; reductions split their work
//! in chunks whose boundaries do not depend on the thread count, so they do too.

use crate::error::{Result, TensorError};

/// Element count above which element-wise kernels run in parallel.
pub const PAR_THRESHOLD: usize = 1 << 16;

/// Sets the number of worker threads once, before any parallel work.
///
/// Fails if the global pool was already started (by an earlier call or by earlier parallel work).
pub fn set_num_threads(n: usize) -> Result<()> {
    if n == 0 {
        return Err(TensorError::invalid(
            "set_num_threads",
            "thread count must be at least 1, got 0",
        ));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()
        .map_err(|e| {
            TensorError::invalid(
                "set_num_threads",
                format!("thread pool already started: {e}"),
            )
        })
}

/// The number of threads parallel kernels use.
pub fn num_threads() -> usize {
    rayon::current_num_threads()
}

//! Thread control: neurite splits large kernels over rayon's global pool.
//!
//! The pool honours `RAYON_NUM_THREADS`; [`set_num_threads`] fixes the count once at start-up.
//! Element-wise kernels give identical results for any thread count; reductions split their work
//! in chunks whose boundaries do not depend on the thread count, so they do too.

use crate::error::{Result, TensorError};

/// Element count above which element-wise kernels run in parallel.
pub const PAR_THRESHOLD: usize = 1 << 16;

/// Once per process, allocates and frees one 16 MiB block, so that the heap keeps the memory a
/// training step frees for the next step.
///
/// glibc serves blocks above its mmap threshold (128 KiB at start) with fresh mappings; when
/// such a block is freed it raises that threshold to the block's size and its heap trim
/// threshold to twice that (mallopt(3), `M_MMAP_THRESHOLD`). A training step allocates its
/// outputs and gradients (a few MiB), then frees them together when its graph drops; with the
/// start-up thresholds the heap top is given back to the system at every step and faulted in
/// again at the next (measured on W3: ~1,000 page faults and a fifth of the step time). After
/// this call, blocks up to 16 MiB stay in the heap. Other allocators see one short-lived
/// allocation. `neurite_autograd::Graph::new` calls it; it is cheap (one atomic load) after the
/// first call.
pub fn retain_freed_memory() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let block: Vec<u8> = vec![0; 16 << 20];
        drop(std::hint::black_box(block));
    });
}

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

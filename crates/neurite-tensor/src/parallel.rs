//! Thread control: neurite splits large kernels over rayon's global pool.
//!
//! The pool honours `RAYON_NUM_THREADS`; [`set_num_threads`] fixes the count once at start-up.
//! Element-wise kernels give identical results for any thread count; reductions split their work
//! in chunks whose boundaries do not depend on the thread count, so they do too.

use rayon::prelude::*;

use crate::error::{Result, TensorError};
use crate::simd;

/// Element count above which element-wise kernels run in parallel.
pub const PAR_THRESHOLD: usize = 1 << 16;

/// A vector of `n` elements, filled by `fill(chunk, offset)` for consecutive chunks of it (in
/// parallel when `n` ≥ [`PAR_THRESHOLD`]). Each chunk is set to `T::default()` (zero, for
/// numbers) just before `fill` sees it, by
/// the thread that fills it: zeroing the whole vector first on the calling thread (`vec![0; n]`
/// from a heap that keeps freed memory is a `memset`) cost W3's CNN step 6% of its time at 2
/// threads, all of it serial.
///
/// `fill` runs compiled for the current [`simd::level`] (see [`simd::run`]): its loops are
/// vectorised for the CPU the program runs on.
///
/// ```
/// let v = neurite_tensor::parallel::fill_chunks(200_000, |chunk: &mut [f32], off| {
///     for (i, x) in chunk.iter_mut().enumerate() {
///         *x = (off + i) as f32;
///     }
/// });
/// assert_eq!((v.len(), v[123_456]), (200_000, 123_456.0));
/// ```
#[inline]
pub fn fill_chunks<T: Copy + Default + Send + Sync>(
    n: usize,
    fill: impl Fn(&mut [T], usize) + Sync + Send,
) -> Vec<T> {
    let level = simd::level();
    if n < PAR_THRESHOLD {
        let mut out = vec![T::default(); n];
        simd::run(level, || fill(&mut out, 0));
        return out;
    }
    const CHUNK: usize = 1 << 14;
    let mut out: Vec<T> = Vec::with_capacity(n);
    out.spare_capacity_mut()[..n]
        .par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(ci, chunk)| {
            for x in chunk.iter_mut() {
                x.write(T::default());
            }
            // SAFETY: every element of `chunk` was initialised just above; `T: Copy` has no
            // destructor.
            let chunk = unsafe {
                std::slice::from_raw_parts_mut(chunk.as_mut_ptr().cast::<T>(), chunk.len())
            };
            simd::run(level, || fill(chunk, ci * CHUNK));
        });
    // SAFETY: the chunks cover the first `n` elements, all initialised above (if a `fill`
    // panicked, the panic propagates before this line and the vector stays empty).
    unsafe { out.set_len(n) };
    out
}

/// `n` copies of `T::default()` (zeros, for numbers), written in parallel chunks by
/// [`fill_chunks`] instead of one `memset` on the calling thread: for buffers a parallel
/// kernel fills or scatters into next.
pub fn zeroed<T: Copy + Default + Send + Sync>(n: usize) -> Vec<T> {
    fill_chunks(n, |_, _| {})
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_chunks_fills_every_element_once_at_its_offset() {
        for n in [
            0,
            1,
            1000,
            PAR_THRESHOLD - 1,
            PAR_THRESHOLD,
            PAR_THRESHOLD + (1 << 14) + 3,
        ] {
            let v = fill_chunks(n, |chunk: &mut [f64], off| {
                for (i, x) in chunk.iter_mut().enumerate() {
                    assert_eq!(*x, 0.0, "each chunk arrives zeroed");
                    *x += (off + i) as f64;
                }
            });
            assert_eq!(v.len(), n);
            assert!(v.iter().enumerate().all(|(i, &x)| x == i as f64), "n = {n}");
        }
    }
}

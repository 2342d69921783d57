//! Thread control: neurite splits large kernels over rayon's global pool.
//!
//! The pool honours `RAYON_NUM_THREADS`; [`set_num_threads`] fixes the count once at start-up.
//! Element-wise kernels give identical results for any thread count; reductions split their work
//! in chunks whose boundaries do not depend on the thread count, so they do too.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use crate::error::{Result, TensorError};
use crate::simd;

/// Element count above which element-wise kernels run in parallel.
pub const PAR_THRESHOLD: usize = 1 << 16;

/// Elements per parallel chunk of [`fill_chunks`] and [`collect_chunks`] (fixed, so that a
/// chunk's offset does not depend on the thread count).
const CHUNK: usize = 1 << 14;

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
    let zero_then_fill = |chunk: &mut [MaybeUninit<T>], off: usize| {
        for x in chunk.iter_mut() {
            x.write(T::default());
        }
        // SAFETY: every element of `chunk` was initialised just above; `T: Copy` has no
        // destructor.
        let chunk =
            unsafe { std::slice::from_raw_parts_mut(chunk.as_mut_ptr().cast::<T>(), chunk.len()) };
        simd::run(level, || fill(chunk, off));
    };
    // SAFETY: `zero_then_fill` initialises every element of its chunk.
    unsafe { init_chunks(n, zero_then_fill) }
}

/// A vector of `n` elements: chunk by chunk (in parallel when `n` ≥ [`PAR_THRESHOLD`]), the
/// elements `make(offset, len)` yields for the chunk at `offset`, written once each. Unlike
/// [`fill_chunks`], nothing is zeroed first: for element-wise kernels, whose outputs are written
/// exactly once, that zeroing was a `memset` of the whole output (3–4% of W3's CNN training
/// step for the two ReLU passes). Should `make` yield fewer than `len` elements, the rest of the
/// chunk is `T::default()`; more are ignored.
///
/// The writing loop runs compiled for the current [`simd::level`], with `make`'s iterator
/// inlined into it: a `map` or `zip` over slices vectorises.
///
/// ```
/// let x: Vec<f32> = (0..100_000).map(|i| i as f32).collect();
/// let y = neurite_tensor::parallel::collect_chunks(x.len(), |off, len| {
///     x[off..off + len].iter().map(|v| v * 2.0)
/// });
/// assert_eq!((y.len(), y[77_777]), (100_000, 155_554.0));
/// ```
#[inline]
pub fn collect_chunks<T, I>(n: usize, make: impl Fn(usize, usize) -> I + Sync + Send) -> Vec<T>
where
    T: Copy + Default + Send + Sync,
    I: Iterator<Item = T>,
{
    let level = simd::level();
    let write = |chunk: &mut [MaybeUninit<T>], off: usize| {
        simd::run(level, || {
            let (mut written, len) = (0, chunk.len());
            for (slot, v) in chunk.iter_mut().zip(make(off, len)) {
                slot.write(v);
                written += 1;
            }
            for slot in &mut chunk[written..] {
                slot.write(T::default());
            }
        })
    };
    // SAFETY: `write` initialises every element of its chunk (the rest of a short one with the
    // default).
    unsafe { init_chunks(n, write) }
}

/// A vector of `n` elements, each chunk of it (of [`CHUNK`] elements, in parallel, when `n` ≥
/// [`PAR_THRESHOLD`]; else all of it at once) initialised by `write(chunk, offset)` on the
/// thread that writes it.
///
/// # Safety
/// `write` must initialise every element of the chunk it is given.
#[inline]
unsafe fn init_chunks<T: Send>(
    n: usize,
    write: impl Fn(&mut [MaybeUninit<T>], usize) + Sync + Send,
) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(n);
    let spare = &mut out.spare_capacity_mut()[..n];
    if n < PAR_THRESHOLD {
        write(spare, 0);
    } else {
        spare
            .par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(ci, chunk)| write(chunk, ci * CHUNK));
    }
    // SAFETY: by the caller's promise every chunk was initialised, and the chunks cover the
    // first `n` elements (if `write` panicked, the panic propagates before this line and the
    // vector stays empty).
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

    #[test]
    fn collect_chunks_writes_each_element_once_and_pads_short_chunks() {
        let sizes = [
            0,
            1,
            1000,
            PAR_THRESHOLD - 1,
            PAR_THRESHOLD,
            PAR_THRESHOLD + 17,
        ];
        for n in sizes {
            let v = collect_chunks(n, |off, len| (off..off + len).map(|i| i as f64 + 0.5));
            assert_eq!(v.len(), n);
            assert!(
                v.iter().enumerate().all(|(i, &x)| x == i as f64 + 0.5),
                "n = {n}"
            );
            // Too few elements: the rest of each chunk is the default; too many: ignored.
            let short = collect_chunks(n, |off, len| (off..off + len / 2).map(|i| i as u32 + 1));
            let long = collect_chunks(n, |off, len| (off..off + 2 * len).map(|i| i as u32 + 1));
            assert_eq!(long, (1..=n as u32).collect::<Vec<_>>(), "n = {n}");
            let chunk = if n < PAR_THRESHOLD { n.max(1) } else { 1 << 14 };
            for (i, &x) in short.iter().enumerate() {
                let (start, len) = (i / chunk * chunk, chunk.min(n - i / chunk * chunk));
                let want = if i - start < len / 2 { i as u32 + 1 } else { 0 };
                assert_eq!(x, want, "n = {n}, i = {i}");
            }
        }
    }
}

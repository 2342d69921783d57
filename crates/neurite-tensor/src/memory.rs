//! How the process's allocator treats the large buffers of training.
//!
//! Training allocates and frees the same large buffers (activations, im2col matrices, pooling
//! outputs, gradients) at every step. With glibc's default settings, buffers above its
//! mmap threshold are returned to the operating system when freed, and the top of the heap is
//! trimmed, so every step faults the same pages in again and the kernel zeroes them: in
//! `cnn_fashion_mnist --quick` at 1 thread, 18% of the time was page faults and page
//! clearing. [`keep_freed_memory`] asks the allocator to keep freed memory for reuse instead.

/// Tells the C allocator to keep freed memory in the process for reuse (glibc on Linux:
/// `mallopt` with an mmap threshold of 32 MiB, its maximum, and no heap trimming). Returns
/// whether the setting was applied; elsewhere it does nothing and returns false.
///
/// This is a process-wide setting, so the library never applies it by itself: call it once
/// at the start of `main`. Measured on `cnn_fashion_mnist` at 1 thread (3 runs each, the
/// full epochs alternating): a full epoch 14.3–14.6 s against 14.9–16.4 s with glibc's defaults, `--quick`
/// 2.9–3.4 s against 3.8–4.0 s; at 2 threads `--quick` 2.37–2.51 s against 2.74–3.00 s. The
/// price is that the
/// process's resident memory stays at its peak instead of shrinking when buffers are freed.
///
/// ```
/// let applied = neurite_tensor::keep_freed_memory();
/// assert_eq!(applied, cfg!(all(target_os = "linux", target_env = "gnu")));
/// ```
pub fn keep_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallopt` only changes glibc's allocation parameters; it may be called at
        // any time, from any thread, and does not touch existing allocations.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// A vector of `len` copies of `value`, whose memory the kernel is asked to back with 2 MiB
/// pages (Linux: `madvise(MADV_HUGEPAGE)` on the whole 2 MiB pages inside the allocation,
/// before it is first written). Elsewhere, or when the kernel declines, it is an ordinary
/// vector.
///
/// For large tables read at random rows — word vectors, embeddings — where every row read
/// with 4 KiB pages is likely to miss the TLB as well as the cache. Linux backs memory with
/// huge pages only on request by default (`transparent_hugepage` set to `madvise`).
///
/// ```
/// let v = neurite_tensor::memory::huge_page_vec(1 << 20, 0.5f32);
/// assert_eq!((v.len(), v[12_345]), (1 << 20, 0.5));
/// ```
pub fn huge_page_vec<T: Copy>(len: usize, value: T) -> Vec<T> {
    let mut v: Vec<T> = Vec::with_capacity(len);
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const HUGE: usize = 2 << 20;
        let start = v.as_mut_ptr() as usize;
        let end = start + len * std::mem::size_of::<T>();
        let (lo, hi) = (start.next_multiple_of(HUGE), end / HUGE * HUGE);
        if hi > lo {
            // SAFETY: [lo, hi) lies inside the vector's allocation; MADV_HUGEPAGE changes only
            // how the kernel backs those pages, never their contents or the mapping's access.
            // A refusal (no transparent huge pages) leaves ordinary pages, so the result is
            // ignored.
            unsafe {
                libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_HUGEPAGE);
            }
        }
    }
    v.resize(len, value);
    v
}

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

//! A small per-thread pool of buffers for the sequence ops: the forward values kept for
//! back-propagation through time are megabytes per layer and step, and returning them to the
//! allocator after every training step makes it give the pages back to the system and fault
//! them in again at the next step. Buffers come back here when a sequence op is dropped.

use std::any::Any;
use std::cell::RefCell;

use neurite_tensor::Float;

/// Buffers kept per thread at most.
const KEEP: usize = 24;

thread_local! {
    static POOL: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

/// A zero-filled buffer of `len` elements, reusing a pooled one when one is large enough.
pub(crate) fn take<T: Float>(len: usize) -> Vec<T> {
    let mut v = take_any(len);
    v.iter_mut().for_each(|x| *x = T::ZERO);
    v
}

/// A buffer of `len` elements whose contents are unspecified (values an earlier user left,
/// or zeros), for buffers the caller overwrites before reading: clearing megabytes that are
/// written again right away costs as much as a step of the recurrence.
pub(crate) fn take_any<T: Float>(len: usize) -> Vec<T> {
    if len == 0 {
        return Vec::new();
    }
    let reused = POOL.with(|p| {
        let mut p = p.borrow_mut();
        // The smallest buffer that fits, so that buffers of different sizes keep their users.
        let (pos, _) = p
            .iter()
            .enumerate()
            .filter_map(|(i, b)| {
                let cap = b.downcast_ref::<Vec<T>>()?.capacity();
                (cap >= len && cap <= 4 * len).then_some((i, cap))
            })
            .min_by_key(|&(_, cap)| cap)?;
        p.swap_remove(pos).downcast::<Vec<T>>().ok()
    });
    match reused {
        Some(mut v) => {
            v.truncate(len);
            v.resize(len, T::ZERO);
            *v
        }
        None => vec![T::ZERO; len],
    }
}

/// Returns a buffer to the pool (dropped when the pool is full, gone or the buffer empty).
pub(crate) fn give<T: Float>(v: Vec<T>) {
    if v.capacity() == 0 {
        return;
    }
    // While the thread exits (other thread-locals dropping buffers), the pool may already
    // be gone: the buffer is then simply freed.
    let _ = POOL.try_with(|p| {
        if let Ok(mut p) = p.try_borrow_mut() {
            if p.len() < KEEP {
                p.push(Box::new(v));
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_and_zeroed() {
        let mut v = take::<f32>(1000);
        v[3] = 7.0;
        let ptr = v.as_ptr();
        give(v);
        let w = take::<f32>(900);
        assert_eq!(w.as_ptr(), ptr);
        assert_eq!(w.len(), 900);
        assert!(w.iter().all(|&x| x == 0.0));
        // Another element type never gets it.
        give(w);
        let d = take::<f64>(10);
        assert_eq!(d.len(), 10);
        // take_any reuses without clearing, at the requested length.
        let mut e = take_any::<f32>(1000);
        e[0] = 5.0;
        let ptr = e.as_ptr();
        give(e);
        let e = take_any::<f32>(1200);
        assert_ne!(e.as_ptr(), ptr); // too small: a fresh buffer
        give(e);
        let e = take_any::<f32>(800);
        assert_eq!(e.len(), 800);
    }
}

//! Scratch buffers: the one place where kernels get large temporary buffers they use again at
//! every training step (im2col columns, a recurrence's saved gates and their gradients).
//!
//! Each thread keeps up to [`KEEP`] freed buffers of any element type; [`take`] and
//! [`take_any`] hand out the smallest kept buffer that fits (at most 4× the request, so small
//! requests do not pin large buffers), [`give`] returns one, and [`with`] lends one for the
//! length of a closure. A kept buffer is neither returned to the allocator nor cleared when it
//! comes back: two costs that the process-wide
//! [`keep_freed_memory`](crate::keep_freed_memory) setting does not remove (figures in the
//! README's benchmark notes).
//!
//! Sizes follow the checked policy of [`alloc`](crate::alloc): a new buffer is reserved with
//! [`try_vec`], so a request beyond what the process can hold is
//! [`TensorError::OutOfMemory`](crate::TensorError::OutOfMemory) naming the request, never an
//! abort. Buffers are per thread, so no lock is taken and no buffer is ever lent twice.
//!
//! ```
//! use neurite_tensor::scratch;
//!
//! let mut v = scratch::take::<f32>("example", 1000)?; // zeros
//! v[0] = 1.0;
//! let ptr = v.as_ptr();
//! scratch::give(v);
//! // The same memory again, cleared; `take_any` would skip the clearing.
//! let w = scratch::take::<f32>("example", 900)?;
//! assert_eq!((w.as_ptr(), w.len(), w[0]), (ptr, 900, 0.0));
//! // Borrowed for a closure and returned after it.
//! let sum = scratch::with::<f32, _>("example", 10, |buf| {
//!     buf.fill(2.0);
//!     buf.iter().sum::<f32>()
//! })?;
//! assert_eq!(sum, 20.0);
//! # Ok::<(), neurite_tensor::TensorError>(())
//! ```

use std::any::Any;
use std::cell::RefCell;

use crate::alloc::try_vec;
use crate::error::Result;

/// Buffers kept per thread at most; further ones given back are freed.
pub const KEEP: usize = 24;

/// A kept buffer may serve requests down to a quarter of its capacity.
const SLACK: usize = 4;

thread_local! {
    static POOL: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

/// A buffer of `len` copies of `T::default()` (zeros), reusing a kept buffer of this thread
/// when one fits. `what` names the request in the error when a new buffer cannot be had.
pub fn take<T: Copy + Default + 'static>(what: &str, len: usize) -> Result<Vec<T>> {
    let (mut v, reused) = take_inner(what, len)?;
    if reused {
        v.fill(T::default());
    }
    Ok(v)
}

/// A buffer of `len` elements whose contents are unspecified (values an earlier user left, or
/// zeros), for callers that write every element before reading it: clearing megabytes that are
/// overwritten right away costs as much as a step of a recurrence.
pub fn take_any<T: Copy + Default + 'static>(what: &str, len: usize) -> Result<Vec<T>> {
    Ok(take_inner(what, len)?.0)
}

/// The buffer and whether it was reused (a new one is zeroed already).
fn take_inner<T: Copy + Default + 'static>(what: &str, len: usize) -> Result<(Vec<T>, bool)> {
    if len == 0 {
        return Ok((Vec::new(), false));
    }
    match take_kept::<T>(len) {
        Some(mut v) => {
            // Within the capacity: neither call allocates.
            v.truncate(len);
            v.resize(len, T::default());
            Ok((v, true))
        }
        None => Ok((try_vec(what, len, T::default())?, false)),
    }
}

/// The smallest kept buffer of this thread whose capacity is `len` to 4·`len`, if any.
fn take_kept<T: Copy + Default + 'static>(len: usize) -> Option<Vec<T>> {
    POOL.try_with(|p| {
        let mut p = p.try_borrow_mut().ok()?;
        // The smallest buffer that fits, so that buffers of different sizes keep their users.
        let (pos, _) = p
            .iter()
            .enumerate()
            .filter_map(|(i, b)| {
                let cap = b.downcast_ref::<Vec<T>>()?.capacity();
                (cap >= len && cap <= SLACK.saturating_mul(len)).then_some((i, cap))
            })
            .min_by_key(|&(_, cap)| cap)?;
        p.swap_remove(pos).downcast::<Vec<T>>().ok()
    })
    .ok()
    .flatten()
    .map(|v| *v)
}

/// Gives a buffer back to this thread's scratch (it is freed instead when [`KEEP`] buffers are
/// kept already, when it has no capacity, or while the thread is exiting).
pub fn give<T: Copy + Default + 'static>(v: Vec<T>) {
    if v.capacity() == 0 {
        return;
    }
    // While the thread exits (other thread-locals dropping buffers), the pool may already be
    // gone: the buffer is then simply freed.
    let _ = POOL.try_with(|p| {
        if let Ok(mut p) = p.try_borrow_mut() {
            if p.len() < KEEP {
                p.push(Box::new(v));
            }
        }
    });
}

/// Runs `f` on a buffer of exactly `len` elements, contents unspecified (`f` must write before
/// it reads, as for [`take_any`]), and keeps the buffer for the thread's next request.
pub fn with<T: Copy + Default + 'static, R>(
    what: &str,
    len: usize,
    f: impl FnOnce(&mut [T]) -> R,
) -> Result<R> {
    if len == 0 {
        return Ok(f(&mut []));
    }
    // A kept buffer keeps its length here and lends its first `len` elements: a buffer that
    // serves requests of several sizes is extended (and the extension written) once, not at
    // every request.
    let mut buf = match take_kept::<T>(len) {
        Some(mut v) => {
            if v.len() < len {
                v.resize(len, T::default());
            }
            v
        }
        None => try_vec(what, len, T::default())?,
    };
    let r = f(&mut buf[..len]);
    give(buf);
    Ok(r)
}

/// The number of buffers this thread keeps (for tests).
pub fn kept() -> usize {
    POOL.try_with(|p| p.try_borrow().map(|p| p.len()).unwrap_or(0))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TensorError;
    use proptest::prelude::*;

    /// Drops every kept buffer of this thread (tests share their threads).
    fn clear() {
        POOL.with(|p| p.borrow_mut().clear());
    }

    #[test]
    fn buffers_are_reused_and_zeroed() {
        clear();
        let mut v = take::<f32>("t", 1000).unwrap();
        v[3] = 7.0;
        let ptr = v.as_ptr();
        give(v);
        let w = take::<f32>("t", 900).unwrap();
        assert_eq!(w.as_ptr(), ptr);
        assert_eq!(w.len(), 900);
        assert!(w.iter().all(|&x| x == 0.0));
        // Another element type never gets it.
        give(w);
        let d = take::<f64>("t", 10).unwrap();
        assert_eq!(d, vec![0.0; 10]);
        assert_eq!(kept(), 1);
        // take_any reuses without clearing, at the requested length.
        let mut e = take_any::<f32>("t", 1000).unwrap();
        assert_eq!(e.as_ptr(), ptr);
        e[0] = 5.0;
        give(e);
        let e = take_any::<f32>("t", 1200).unwrap();
        assert_ne!(e.as_ptr(), ptr); // too small: a new buffer
        give(e);
        // Too large for the request (more than 4×): not lent.
        let small = take_any::<f32>("t", 100).unwrap();
        assert_ne!(small.as_ptr(), ptr);
        let e = take_any::<f32>("t", 800).unwrap();
        assert_eq!((e.as_ptr(), e.len(), e[0]), (ptr, 800, 5.0));
        clear();
    }

    #[test]
    fn at_most_keep_buffers_are_kept() {
        clear();
        for _ in 0..KEEP + 5 {
            give(vec![0u8; 16]);
        }
        assert_eq!(kept(), KEEP);
        give(Vec::<u8>::new());
        clear();
        give(Vec::<u8>::with_capacity(0));
        assert_eq!(kept(), 0);
    }

    #[test]
    fn with_lends_and_takes_back() {
        clear();
        let p1 = with::<f32, _>("t", 10, |b| b.as_ptr() as usize).unwrap();
        let p2 = with::<f32, _>("t", 8, |b| {
            assert_eq!(b.len(), 8);
            b.as_ptr() as usize
        })
        .unwrap();
        assert_eq!(p1, p2);
        // Nested borrows get distinct buffers.
        with::<f32, _>("t", 10, |a| {
            with::<f32, _>("t", 10, |b| assert_ne!(a.as_ptr(), b.as_ptr())).unwrap()
        })
        .unwrap();
        assert_eq!(with::<f32, _>("t", 0, |b| b.len()).unwrap(), 0);
        // A smaller request does not shorten the kept buffer: a larger one later finds the
        // values it left, not a cleared extension.
        clear();
        with::<f32, _>("t", 10, |b| b.fill(7.0)).unwrap();
        with::<f32, _>("t", 8, |b| assert_eq!(b.len(), 8)).unwrap();
        with::<f32, _>("t", 10, |b| assert_eq!(b[9], 7.0)).unwrap();
        clear();
    }

    #[test]
    fn requests_beyond_memory_are_typed_errors() {
        let e = take::<f64>("the columns", 1 << 58).unwrap_err();
        assert!(matches!(e, TensorError::OutOfMemory { .. }), "{e}");
        assert!(e.to_string().contains("the columns"), "{e}");
        assert!(take_any::<f32>("x", usize::MAX).is_err());
        assert!(with::<u8, _>("x", usize::MAX, |_| ()).is_err());
    }

    #[derive(Debug, Clone)]
    enum Step {
        Take(usize),
        TakeAny(usize),
        Give(usize),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0usize..5000).prop_map(Step::Take),
            (0usize..5000).prop_map(Step::TakeAny),
            (0usize..64).prop_map(Step::Give),
        ]
    }

    proptest! {
        /// Against the model of fresh zeroed vectors: every buffer has the requested length,
        /// `take` is all zeros, no memory is lent twice while out, a reused buffer is at most 4×
        /// its request, and at most KEEP are kept.
        #[test]
        fn behaves_like_fresh_buffers(steps in proptest::collection::vec(step(), 1..80)) {
            clear();
            let mut out: Vec<Vec<u32>> = Vec::new();
            for (n, s) in steps.into_iter().enumerate() {
                match s {
                    Step::Take(len) | Step::TakeAny(len) => {
                        let zeroed = matches!(s, Step::Take(_));
                        let mut v = if zeroed {
                            take::<u32>("p", len).unwrap()
                        } else {
                            take_any::<u32>("p", len).unwrap()
                        };
                        prop_assert_eq!(v.len(), len);
                        prop_assert!(v.capacity() <= SLACK * len.max(1) || v.capacity() == len);
                        if zeroed {
                            prop_assert!(v.iter().all(|&x| x == 0));
                        }
                        if len > 0 {
                            let p = v.as_ptr();
                            prop_assert!(out.iter().all(|o| o.capacity() == 0 || o.as_ptr() != p));
                        }
                        v.fill(n as u32 + 1); // what the next user may see
                        out.push(v);
                    }
                    Step::Give(i) => {
                        if !out.is_empty() {
                            let v = out.swap_remove(i % out.len());
                            give(v);
                        }
                    }
                }
                prop_assert!(kept() <= KEEP);
            }
            clear();
        }
    }
}

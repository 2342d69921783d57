//! Checked allocation: the one policy for sizes that come from a user or a file header.
//!
//! Every size a caller did not compute from data already in memory (a layer's width, a class
//! count, a padded length, a header field) is validated here **before** anything is
//! allocated:
//!
//! 1. the element count must not overflow `usize` ([`checked_elements`]);
//! 2. the bytes must fit what this process can ever hold, [`memory_limit`]: the machine's
//!    physical memory plus swap, or the address-space limit (`RLIMIT_AS`, `ulimit -v`) when
//!    that is lower — a request above it can never succeed, so it is refused at once with
//!    [`TensorError::OutOfMemory`] instead of aborting the process in the allocator
//!    ([`check_bytes`], [`check_shapes`]);
//! 3. buffers that can still fail (below the limit but above what is free) are reserved with
//!    `try_reserve`, and a refusal is the same typed error naming the request ([`try_vec`]).
//!
//! Readers of files follow the same policy by never trusting a header for a capacity: they
//! grow their buffers with the data actually read.

use crate::error::{Result, TensorError};

/// The element count of `dims`, or [`TensorError::TooLarge`] when the product overflows
/// `usize`.
///
/// ```
/// use neurite_tensor::alloc::checked_elements;
/// assert_eq!(checked_elements("zeros", &[3, 4]).unwrap(), 12);
/// assert!(checked_elements("zeros", &[usize::MAX, 2]).is_err());
/// ```
pub fn checked_elements(what: &str, dims: &[usize]) -> Result<usize> {
    dims.iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| TensorError::TooLarge {
            what: what.to_string(),
            shape: dims.to_vec(),
        })
}

/// The most memory, in bytes, that one process of this machine could ever hold: physical
/// memory plus swap (Linux `sysinfo`), lowered to the address-space limit `RLIMIT_AS` when one
/// is set, and never above `isize::MAX` (Rust's limit on one allocation). Read once per
/// process; `isize::MAX` where the system cannot be asked.
pub fn memory_limit() -> u64 {
    static LIMIT: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *LIMIT.get_or_init(system_limit)
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn system_limit() -> u64 {
    let mut limit = isize::MAX as u64;
    // SAFETY: `sysinfo` and `getrlimit` only write the structs passed to them, which are
    // zero-initialised plain data of the right type.
    unsafe {
        let mut info: libc::sysinfo = std::mem::zeroed();
        if libc::sysinfo(&mut info) == 0 {
            let unit = u64::from(info.mem_unit.max(1));
            let total = (info.totalram as u64)
                .saturating_add(info.totalswap as u64)
                .saturating_mul(unit);
            if total > 0 {
                limit = limit.min(total);
            }
        }
        let mut rl: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_AS, &mut rl) == 0 && rl.rlim_cur != libc::RLIM_INFINITY {
            limit = limit.min(rl.rlim_cur);
        }
    }
    limit
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn system_limit() -> u64 {
    isize::MAX as u64
}

/// Checks that `elements` values of `T` could be held by this process ([`memory_limit`]);
/// returns the byte count, or [`TensorError::OutOfMemory`] naming `what` and the request.
pub fn check_bytes<T>(what: &str, elements: usize) -> Result<usize> {
    let bytes = (elements as u128) * (std::mem::size_of::<T>() as u128);
    let limit = memory_limit();
    if bytes > u128::from(limit) {
        return Err(TensorError::OutOfMemory {
            what: what.to_string(),
            bytes: u64::try_from(bytes).unwrap_or(u64::MAX),
            limit,
        });
    }
    Ok(bytes as usize) // ok: bytes ≤ limit ≤ isize::MAX
}

/// Checks that buffers of `T` of all `shapes` could be held together (their element counts
/// do not overflow and their total bytes are within [`memory_limit`]). Layer constructors
/// call it with every parameter's shape before initialising any. Returns the total element
/// count.
///
/// ```
/// use neurite_tensor::alloc::check_shapes;
/// assert!(check_shapes::<f32>("Linear", &[&[256, 784], &[256]]).is_ok());
/// let err = check_shapes::<f32>("Linear", &[&[1 << 20, 1 << 30]]).unwrap_err();
/// assert!(err.to_string().contains("Linear"));
/// ```
pub fn check_shapes<T>(what: &str, shapes: &[&[usize]]) -> Result<usize> {
    let mut total = 0usize;
    for s in shapes {
        let n = checked_elements(what, s)?;
        total = total.checked_add(n).ok_or_else(|| TensorError::TooLarge {
            what: what.to_string(),
            shape: s.to_vec(),
        })?;
    }
    check_bytes::<T>(what, total)?;
    Ok(total)
}

/// A vector of `len` copies of `value`, its memory reserved with `try_reserve` after the
/// [`check_bytes`] bound: an allocation the system refuses is [`TensorError::OutOfMemory`],
/// not an abort.
///
/// ```
/// use neurite_tensor::alloc::try_vec;
/// assert_eq!(try_vec("buffer", 3, 1.5f32).unwrap(), vec![1.5; 3]);
/// assert!(try_vec("buffer", 1 << 60, 0u8).is_err());
/// ```
pub fn try_vec<T: Clone>(what: &str, len: usize, value: T) -> Result<Vec<T>> {
    let mut v = try_with_capacity(what, len)?;
    v.resize(len, value);
    Ok(v)
}

/// An empty vector with room for `len` values of `T`, under the same policy as [`try_vec`].
pub fn try_with_capacity<T>(what: &str, len: usize) -> Result<Vec<T>> {
    let bytes = check_bytes::<T>(what, len)?;
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| TensorError::OutOfMemory {
            what: what.to_string(),
            bytes: bytes as u64,
            limit: memory_limit(),
        })?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;

    #[test]
    fn tensors_beyond_memory_are_typed_errors() {
        // 2^40 f32 = 4 TiB: below the old isize::MAX/8 bound, beyond any test machine.
        let e = Tensor::<f32>::try_zeros(&[1 << 40]).unwrap_err();
        assert!(matches!(e, TensorError::OutOfMemory { .. }), "{e}");
        assert!(e.to_string().contains("[1099511627776]"), "{e}");
        // The element count overflows: ndarray panicked here.
        let e = Tensor::<f32>::try_full(&[usize::MAX, 2], 1.0).unwrap_err();
        assert!(matches!(e, TensorError::TooLarge { .. }), "{e}");
        assert_eq!(
            Tensor::<f64>::try_zeros(&[2, 0, 3]).unwrap().shape(),
            &[2, 0, 3]
        );
        assert_eq!(
            Tensor::<f64>::try_full(&[2], 3.0).unwrap().to_vec(),
            vec![3.0; 2]
        );
    }

    #[test]
    fn the_panicking_form_names_the_problem() {
        let r = std::panic::catch_unwind(|| Tensor::<f32>::zeros(&[usize::MAX, 2]));
        let msg = r.unwrap_err();
        let msg = msg
            .downcast_ref::<String>()
            .map(String::as_str)
            .unwrap_or("");
        assert!(msg.contains("try_full"), "{msg}");
    }

    #[test]
    fn kernels_refuse_outputs_beyond_memory() {
        let x = Tensor::<f32>::zeros(&[1, 1, 5, 5]);
        // Adaptive pooling of a 5×5 plane to 2^20×2^20 (2^40 outputs).
        let e = crate::pool::adaptive_avg_pool2d(&x, [1 << 20, 1 << 20]).unwrap_err();
        assert!(matches!(e, TensorError::OutOfMemory { .. }), "{e}");
        let e = crate::pool::adaptive_max_pool2d(&x, [1 << 20, 1 << 20]).unwrap_err();
        assert!(matches!(e, TensorError::OutOfMemory { .. }), "{e}");
    }

    #[test]
    fn overflowing_shapes_are_too_large() {
        let e = checked_elements("zeros", &[usize::MAX, 2]).unwrap_err();
        assert!(matches!(e, TensorError::TooLarge { .. }), "{e}");
        assert!(e.to_string().contains("zeros"));
    }

    #[test]
    fn requests_beyond_the_machine_are_out_of_memory() {
        // 2^60 bytes is more than any machine running this test holds.
        let e = check_bytes::<f64>("a big tensor", 1 << 57).unwrap_err();
        match &e {
            TensorError::OutOfMemory { what, bytes, limit } => {
                assert_eq!(what, "a big tensor");
                assert_eq!(*bytes, 1u64 << 60);
                assert!(*limit < *bytes);
            }
            other => panic!("expected OutOfMemory, got {other:?}"),
        }
        assert!(e.to_string().contains("1152921504606846976 bytes"), "{e}");
        assert!(try_vec("v", 1 << 57, 0.0f64).is_err());
    }

    #[test]
    fn totals_are_checked_together() {
        let limit = memory_limit() as usize;
        // Two buffers each within the limit, together beyond it.
        let half = limit / 2 + 1;
        assert!(check_shapes::<u8>("pair", &[&[half]]).is_ok());
        assert!(check_shapes::<u8>("pair", &[&[half], &[half]]).is_err());
        assert!(check_shapes::<u8>("pair", &[&[usize::MAX], &[2]]).is_err());
    }

    #[test]
    fn small_requests_succeed() {
        assert_eq!(try_vec("v", 0, 1u32).unwrap(), Vec::<u32>::new());
        assert_eq!(try_with_capacity::<u8>("v", 10).unwrap().capacity(), 10);
        assert!(memory_limit() > 1 << 20);
    }
}

//! How a [`StoredTensor`](super::StoredTensor) holds its elements: little-endian bytes, or — for
//! F32 and F64 tensors read from a file on a little-endian target — the values themselves, read
//! straight from the file into a `Vec<f32>` / `Vec<f64>` whose memory is those same bytes, so
//! that loading them into a model moves the vector instead of converting a copy.
//!
//! Byte views of f32 / f64 memory assume a little-endian target, where that memory is the
//! safetensors layout; on a big-endian target values are converted and tensors are always held
//! as bytes.

#[cfg(target_endian = "little")]
use std::any::Any;
use std::borrow::Cow;
use std::io::Read;

use neurite_tensor::Float;

use super::Dtype;

/// The elements of a stored tensor.
#[derive(Debug, Clone)]
pub(super) enum Data {
    /// Little-endian element bytes, any dtype.
    Bytes(Vec<u8>),
    /// F32 values (little-endian targets only).
    #[cfg(target_endian = "little")]
    F32(Vec<f32>),
    /// F64 values (little-endian targets only).
    #[cfg(target_endian = "little")]
    F64(Vec<f64>),
}

impl Data {
    /// The little-endian element bytes.
    pub(super) fn bytes(&self) -> &[u8] {
        match self {
            Data::Bytes(b) => b,
            #[cfg(target_endian = "little")]
            Data::F32(v) => le_slice(v),
            #[cfg(target_endian = "little")]
            Data::F64(v) => le_slice(v),
        }
    }

    /// The values as `Vec<T>` when they are held as `T`s (moved, not copied); `Err(self)`
    /// otherwise.
    pub(super) fn into_values<T: Float>(self) -> Result<Vec<T>, Data> {
        match self {
            #[cfg(target_endian = "little")]
            Data::F32(v) => same_type(v).map_err(Data::F32),
            #[cfg(target_endian = "little")]
            Data::F64(v) => same_type(v).map_err(Data::F64),
            Data::Bytes(b) => Err(Data::Bytes(b)),
        }
    }

    /// The values as `&[T]` when they are held as `T`s.
    pub(super) fn values<T: Float>(&self) -> Option<&[T]> {
        match self {
            Data::Bytes(_) => None,
            #[cfg(target_endian = "little")]
            Data::F32(v) => (v as &dyn Any).downcast_ref::<Vec<T>>().map(|v| &v[..]),
            #[cfg(target_endian = "little")]
            Data::F64(v) => (v as &dyn Any).downcast_ref::<Vec<T>>().map(|v| &v[..]),
        }
    }
}

/// `v` as a `Vec<T>` when `U` is `T`, moved; `Err(v)` otherwise.
#[cfg(target_endian = "little")]
fn same_type<T: Float, U: Float>(v: Vec<U>) -> Result<Vec<T>, Vec<U>> {
    let mut slot = Some(v);
    let same = (&mut slot as &mut dyn Any)
        .downcast_mut::<Option<Vec<T>>>()
        .and_then(Option::take);
    match (same, slot) {
        (Some(v), _) => Ok(v),
        (None, Some(v)) => Err(v),
        // Unreachable: `slot` is taken only when the downcast succeeded.
        (None, None) => Ok(Vec::new()),
    }
}

/// The memory of f32 / f64 values as bytes: on this little-endian target, their safetensors
/// layout.
#[cfg(target_endian = "little")]
pub(super) fn le_slice<T: Float>(s: &[T]) -> &[u8] {
    // SAFETY: `Float` is sealed to f32 and f64: plain values without padding, so the slice's
    // memory is `size_of_val(s)` initialised bytes; u8 needs no alignment, and the result
    // borrows `s`.
    unsafe { std::slice::from_raw_parts(s.as_ptr().cast::<u8>(), std::mem::size_of_val(s)) }
}

/// The memory of f32 / f64 values as bytes to fill.
#[cfg(target_endian = "little")]
fn le_slice_mut<T: Float>(s: &mut [T]) -> &mut [u8] {
    // SAFETY: as `le_slice`; moreover every bit pattern is a valid f32 / f64, so any bytes
    // written through the view leave valid values, and the result borrows `s` exclusively.
    unsafe { std::slice::from_raw_parts_mut(s.as_mut_ptr().cast::<u8>(), std::mem::size_of_val(s)) }
}

/// The little-endian bytes of f32 / f64 values: borrowed on a little-endian target, converted
/// on a big-endian one.
pub(super) fn le_view<T: Float>(s: &[T]) -> Cow<'_, [u8]> {
    #[cfg(target_endian = "little")]
    {
        Cow::Borrowed(le_slice(s))
    }
    #[cfg(not(target_endian = "little"))]
    {
        Cow::Owned(if Dtype::of::<T>() == Dtype::F32 {
            s.iter()
                .flat_map(|&x| (x.to_f64() as f32).to_le_bytes())
                .collect()
        } else {
            s.iter().flat_map(|&x| x.to_f64().to_le_bytes()).collect()
        })
    }
}

/// Reads `len` bytes of a `dtype` tensor from `r` (the caller has checked `len` against the
/// input's size and the dtype's element size): F32 and F64 straight into a vector of values on
/// a little-endian target, anything else into bytes.
pub(super) fn read_data(r: &mut impl Read, dtype: Dtype, len: usize) -> std::io::Result<Data> {
    #[cfg(target_endian = "little")]
    match dtype {
        Dtype::F32 => {
            let mut v = vec![0f32; len / 4];
            r.read_exact(le_slice_mut(&mut v))?;
            return Ok(Data::F32(v));
        }
        Dtype::F64 => {
            let mut v = vec![0f64; len / 8];
            r.read_exact(le_slice_mut(&mut v))?;
            return Ok(Data::F64(v));
        }
        _ => {}
    }
    let _ = dtype;
    let mut b = vec![0u8; len];
    r.read_exact(&mut b)?;
    Ok(Data::Bytes(b))
}

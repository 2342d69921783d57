//! Shared helpers: shape and tensor strategies, multi-index arithmetic, approximate equality.

use neurite_tensor::simd::Level;
use neurite_tensor::Tensor;
use proptest::collection::vec;
use proptest::prelude::*;

/// Cases per property: enough to cover the corners, few enough for a debug build.
pub const CASES: u32 = 48;

/// One of the SIMD levels this CPU supports: a property that takes one and runs under
/// `simd::force_level(level)` checks every kernel path (portable, AVX2, AVX-512) against its
/// naive reference, a third of the cases each.
pub fn level() -> impl Strategy<Value = Level> {
    proptest::sample::select(Level::available())
}

/// Row-major strides of a shape.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// The multi-index of flat position `i` in a row-major shape.
pub fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        idx[d] = i % shape[d];
        i /= shape[d];
    }
    idx
}

/// The flat row-major position of a multi-index.
pub fn ravel(idx: &[usize], shape: &[usize]) -> usize {
    idx.iter().zip(strides(shape)).map(|(i, s)| i * s).sum()
}

/// Every multi-index of a shape, in row-major order.
pub fn indices(shape: &[usize]) -> Vec<Vec<usize>> {
    let n: usize = shape.iter().product();
    (0..n).map(|i| unravel(i, shape)).collect()
}

/// A shape of rank `0..=max_rank` with dimensions in `0..=max_dim` (size 0 and 1 are common).
pub fn shape(max_rank: usize, max_dim: usize) -> impl Strategy<Value = Vec<usize>> {
    vec(0..=max_dim, 0..=max_rank)
}

/// Values for a shape: mostly moderate reals.
pub fn values(n: usize) -> impl Strategy<Value = Vec<f64>> {
    vec(-4.0..4.0f64, n)
}

/// A shape with values for it.
pub fn shaped(max_rank: usize, max_dim: usize) -> impl Strategy<Value = (Vec<usize>, Vec<f64>)> {
    shape(max_rank, max_dim).prop_flat_map(|s| {
        let n = s.iter().product();
        (Just(s), values(n))
    })
}

/// A tensor holding `v` in `shape`; when `strided`, stored in reversed axis order so that
/// it is a non-contiguous view with the same logical values.
pub fn tensor(v: &[f64], shape: &[usize], strided: bool) -> Tensor<f64> {
    let t = Tensor::from_slice(v, shape).unwrap();
    if !strided || shape.len() < 2 {
        return t;
    }
    let rev: Vec<usize> = (0..shape.len()).rev().collect();
    let stored = t.permute(&rev).unwrap().contiguous();
    stored.permute(&rev).unwrap()
}

/// |a − b| ≤ tol·(1 + |b|), treating NaN = NaN and equal infinities as equal.
pub fn close(a: f64, b: f64, tol: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= tol * (1.0 + b.abs())
}

/// Asserts shape and every value of `got` against the reference.
pub fn assert_close(got: &Tensor<f64>, want_shape: &[usize], want: &[f64], tol: f64) {
    assert_eq!(got.shape(), want_shape, "shape");
    let g = got.to_vec();
    assert_eq!(g.len(), want.len());
    for (i, (&a, &b)) in g.iter().zip(want).enumerate() {
        assert!(
            close(a, b, tol),
            "at {i} ({:?}): got {a}, want {b}",
            unravel(i, want_shape)
        );
    }
}

/// ⟨a, b⟩.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The NumPy broadcast of two shapes, or None.
pub fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let get = |s: &[usize], i: usize| {
        if i < n - s.len() {
            1
        } else {
            s[i - (n - s.len())]
        }
    };
    (0..n)
        .map(|i| match (get(a, i), get(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

/// The index into `small` (right-aligned, size-1 dims pinned to 0) of index `idx` of a shape
/// it broadcasts to.
pub fn broadcast_index(idx: &[usize], small: &[usize]) -> usize {
    let off = idx.len() - small.len();
    let i: Vec<usize> = small
        .iter()
        .enumerate()
        .map(|(d, &s)| if s == 1 { 0 } else { idx[off + d] })
        .collect();
    ravel(&i, small)
}

/// A shape that broadcasts to `out`: some leading dims dropped, some dims set to 1.
pub fn sub_shape(out: &[usize], drop: usize, ones: &[bool]) -> Vec<usize> {
    out.iter()
        .zip(ones)
        .skip(drop.min(out.len()))
        .map(|(&d, &one)| if one { 1 } else { d })
        .collect()
}

/// Two shapes broadcasting to a random output shape (scalar, row, column, leading dims and
/// both-sided cases all arise), with values and a strided flag for each.
#[allow(clippy::type_complexity)]
pub fn broadcast_pair(
) -> impl Strategy<Value = ((Vec<usize>, Vec<f64>, bool), (Vec<usize>, Vec<f64>, bool))> {
    shape(4, 3)
        .prop_flat_map(|out| {
            let r = out.len();
            (
                Just(out),
                0..=r,
                vec(prop::bool::weighted(0.3), r),
                0..=r,
                vec(prop::bool::weighted(0.3), r),
            )
        })
        .prop_flat_map(|(out, da, oa, db, ob)| {
            let a = sub_shape(&out, da, &oa);
            let b = sub_shape(&out, db, &ob);
            let (na, nb) = (a.iter().product(), b.iter().product());
            (
                (Just(a), values(na), any::<bool>()),
                (Just(b), values(nb), any::<bool>()),
            )
        })
}

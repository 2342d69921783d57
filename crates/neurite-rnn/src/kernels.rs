//! The fused gate kernels shared by the cell ops and the sequence ops: for one batch row, the
//! gate non-linearities and the cell update in one pass (forward), and the local gradients of
//! that whole update in one pass (backward). Nothing here allocates.
//!
//! For `f32` the sigmoid and tanh are a rational approximation that vectorises (Eigen's
//! `generic_fast_tanh_float`, absolute error below 5·10⁻⁷, tested below); `f64` uses the exact
//! library functions, so gradient checks in f64 see exact maths. The path is chosen at run time
//! by [`neurite_tensor::simd::level`]: on AVX-512 the f32 LSTM and GRU forward rows are written
//! with intrinsics (16 lanes, a masked tail); on AVX2 the same formulas, with the same fused
//! multiply-adds, are compiled for AVX2+FMA (so the two give the same bits); otherwise the
//! portable code runs (separate multiplies and adds). The other rows, and f64, run the portable
//! code compiled for the level. Either way a row's result depends only on that row, never on
//! how the batch is split over threads.
//!
//! # Panics
//! These are per-row building blocks: they take buffers that the cell and sequence ops size
//! from shapes they have already checked, and return nothing to test on the hot path. A row
//! function given buffers shorter than its documented sizes panics (the forward rows assert it
//! before their unsafe AVX-512 code); user data reaches them only through the checked ops.

use std::any::TypeId;

use neurite_tensor::simd::{self, Level};
use neurite_tensor::Float;

/// Views a shared slice of `T` as `f32` when `T` is `f32`.
#[inline]
fn as_f32<T: Float>(s: &[T]) -> Option<&[f32]> {
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        // SAFETY: T is f32 (checked through TypeId), so the layout is identical.
        Some(unsafe { std::slice::from_raw_parts(s.as_ptr() as *const f32, s.len()) })
    } else {
        None
    }
}

/// Views a slice of `T` as `f32` when `T` is `f32`.
#[inline]
fn as_f32_mut<T: Float>(s: &mut [T]) -> Option<&mut [f32]> {
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        // SAFETY: T is f32 (checked through TypeId), so the layout is identical.
        Some(unsafe { std::slice::from_raw_parts_mut(s.as_mut_ptr() as *mut f32, s.len()) })
    } else {
        None
    }
}

/// True when `T` is `f32`.
#[inline(always)]
fn is_f32<T: Float>() -> bool {
    TypeId::of::<T>() == TypeId::of::<f32>()
}

/// `a·b + c`: one fused multiply-add when `FMA`, else a product and a sum (two roundings).
#[inline(always)]
fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// tanh for f32 as a 13/6 rational function of x on [−7.9, 7.9] (±1 outside); NaN stays NaN.
#[inline(always)]
pub fn fast_tanh_f32(x: f32) -> f32 {
    tanh_rational::<false>(x)
}

/// [`fast_tanh_f32`], its polynomial steps fused when `FMA` (the AVX-512 kernel's arithmetic).
#[inline(always)]
fn tanh_rational<const FMA: bool>(x: f32) -> f32 {
    const CLAMP: f32 = 7.905_311;
    const A1: f32 = 4.893_524_6e-3;
    const A3: f32 = 6.372_619_3e-4;
    const A5: f32 = 1.485_722_4e-5;
    const A7: f32 = 5.122_297e-8;
    const A9: f32 = -8.604_672e-11;
    const A11: f32 = 2.000_188e-13;
    const A13: f32 = -2.760_768_5e-16;
    const B0: f32 = 4.893_525e-3;
    const B2: f32 = 2.268_434_6e-3;
    const B4: f32 = 1.185_347_1e-4;
    const B6: f32 = 1.198_258_4e-6;
    let x = x.clamp(-CLAMP, CLAMP);
    let x2 = x * x;
    let mut p = madd::<FMA>(x2, A13, A11);
    p = madd::<FMA>(p, x2, A9);
    p = madd::<FMA>(p, x2, A7);
    p = madd::<FMA>(p, x2, A5);
    p = madd::<FMA>(p, x2, A3);
    p = madd::<FMA>(p, x2, A1);
    p *= x;
    let mut q = madd::<FMA>(x2, B6, B4);
    q = madd::<FMA>(q, x2, B2);
    q = madd::<FMA>(q, x2, B0);
    p / q
}

/// σ(x) = ½ + ½·tanh(x/2), fused as the AVX-512 kernel when `FMA`.
#[inline(always)]
fn sigmoid_rational<const FMA: bool>(x: f32) -> f32 {
    madd::<FMA>(0.5, tanh_rational::<FMA>(0.5 * x), 0.5)
}

/// Logistic sigmoid for f32: σ(x) = ½ + ½·tanh(x/2).
#[inline(always)]
pub fn fast_sigmoid_f32(x: f32) -> f32 {
    0.5 + 0.5 * fast_tanh_f32(0.5 * x)
}

/// σ in place.
#[inline]
pub fn sigmoid_inplace<T: Float>(s: &mut [T]) {
    let level = simd::level();
    simd::run(level, || sigmoid_body(level >= Level::Avx2, s));
}

/// tanh in place.
#[inline]
pub fn tanh_inplace<T: Float>(s: &mut [T]) {
    let level = simd::level();
    simd::run(level, || tanh_body(level >= Level::Avx2, s));
}

#[inline(always)]
fn sigmoid_body<T: Float>(fma: bool, s: &mut [T]) {
    match as_f32_mut(s) {
        Some(f) if fma => f.iter_mut().for_each(|x| *x = sigmoid_rational::<true>(*x)),
        Some(f) => f.iter_mut().for_each(|x| *x = fast_sigmoid_f32(*x)),
        None => s.iter_mut().for_each(|x| *x = x.sigmoid()),
    }
}

#[inline(always)]
fn tanh_body<T: Float>(fma: bool, s: &mut [T]) {
    match as_f32_mut(s) {
        Some(f) if fma => f.iter_mut().for_each(|x| *x = tanh_rational::<true>(*x)),
        Some(f) => f.iter_mut().for_each(|x| *x = fast_tanh_f32(*x)),
        None => s.iter_mut().for_each(|x| *x = x.tanh()),
    }
}

/// max(x, 0) in place.
#[inline]
pub fn relu_inplace<T: Float>(s: &mut [T]) {
    s.iter_mut().for_each(|x| {
        if *x <= T::ZERO {
            *x = T::ZERO
        }
    });
}

/// The non-linearity of a plain RNN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Nonlinearity {
    /// h = tanh(pre), derivative 1 − h².
    #[default]
    Tanh,
    /// h = max(pre, 0), derivative 1 where h > 0.
    Relu,
}

/// RNN forward for one row: `h = φ(pre)` in place.
#[inline]
pub fn rnn_forward_row<T: Float>(pre: &mut [T], nl: Nonlinearity) {
    match nl {
        Nonlinearity::Tanh => tanh_inplace(pre),
        Nonlinearity::Relu => simd::run(simd::level(), || relu_inplace(pre)),
    }
}

/// RNN backward for one row: `dpre = dh ⊙ φ'(pre)` from the output `h`.
#[inline]
pub fn rnn_backward_row<T: Float>(h: &[T], dh: &[T], dpre: &mut [T], nl: Nonlinearity) {
    simd::run(simd::level(), || match nl {
        Nonlinearity::Tanh => {
            for ((d, &y), &g) in dpre.iter_mut().zip(h).zip(dh) {
                *d = g * (T::ONE - y * y);
            }
        }
        Nonlinearity::Relu => {
            for ((d, &y), &g) in dpre.iter_mut().zip(h).zip(dh) {
                *d = if y > T::ZERO { g } else { T::ZERO };
            }
        }
    })
}

/// LSTM forward for one row. `gates` \[4H\] holds the pre-activations i, f, g, o (PyTorch order)
/// and is overwritten with the activations σ(i), σ(f), tanh(g), σ(o); then
/// c = f⊙c_prev + i⊙g, `tc` = tanh(c), h = o⊙tanh(c).
///
/// # Panics
/// If a buffer is shorter than stated above (see the [module docs](self)).
#[inline]
pub fn lstm_forward_row<T: Float>(
    gates: &mut [T],
    c_prev: &[T],
    c: &mut [T],
    tc: &mut [T],
    h: &mut [T],
) {
    let hs = c_prev.len();
    assert!(
        gates.len() >= 4 * hs && c.len() >= hs && tc.len() >= hs && h.len() >= hs,
        "lstm_forward_row: buffer sizes"
    ); // ok: internal sizes, fixed by the callers
    let level = simd::level();
    #[cfg(target_arch = "x86_64")]
    if is_f32::<T>() && level >= Level::Avx512 && Level::Avx512.is_available() {
        // SAFETY: T is f32 and AVX-512F is available (checked just above); the sizes were
        // asserted; `&mut` slices never alias the shared ones.
        unsafe {
            avx512::lstm_forward_row(
                gates.as_mut_ptr() as *mut f32,
                c_prev.as_ptr() as *const f32,
                c.as_mut_ptr() as *mut f32,
                tc.as_mut_ptr() as *mut f32,
                h.as_mut_ptr() as *mut f32,
                hs,
            );
        }
        return;
    }
    if let (true, Some(gates)) = (level >= Level::Avx2, as_f32_mut(gates)) {
        // The AVX-512 kernel's formulas, fused the same way, compiled for AVX2+FMA.
        let (c_prev, c, tc, h) = (as_f32(c_prev), as_f32_mut(c), as_f32_mut(tc), as_f32_mut(h));
        if let (Some(c_prev), Some(c), Some(tc), Some(h)) = (c_prev, c, tc, h) {
            return simd::run(level, || lstm_fma_f32(gates, c_prev, c, tc, h, hs));
        }
    }
    simd::run(level, || {
        sigmoid_body(false, &mut gates[..2 * hs]);
        tanh_body(false, &mut gates[2 * hs..3 * hs]);
        sigmoid_body(false, &mut gates[3 * hs..4 * hs]);
        let (i, rest) = gates.split_at(hs);
        let (f, rest) = rest.split_at(hs);
        let (g, o) = rest.split_at(hs);
        for k in 0..hs {
            c[k] = f[k] * c_prev[k] + i[k] * g[k];
        }
        tc[..hs].copy_from_slice(&c[..hs]);
        tanh_body(false, &mut tc[..hs]);
        for k in 0..hs {
            h[k] = o[k] * tc[k];
        }
    })
}

/// The f32 LSTM row with the AVX-512 kernel's arithmetic (fused multiply-adds), for the AVX2
/// path: inlined into [`simd::run`], the compiler vectorises it for AVX2+FMA.
#[inline(always)]
fn lstm_fma_f32(
    gates: &mut [f32],
    c_prev: &[f32],
    c: &mut [f32],
    tc: &mut [f32],
    h: &mut [f32],
    hs: usize,
) {
    let (i, rest) = gates[..4 * hs].split_at_mut(hs);
    let (f, rest) = rest.split_at_mut(hs);
    let (g, o) = rest.split_at_mut(hs);
    for k in 0..hs {
        let iv = sigmoid_rational::<true>(i[k]);
        let fv = sigmoid_rational::<true>(f[k]);
        let gv = tanh_rational::<true>(g[k]);
        let ov = sigmoid_rational::<true>(o[k]);
        (i[k], f[k], g[k], o[k]) = (iv, fv, gv, ov);
        let cn = fv.mul_add(c_prev[k], iv * gv);
        let t = tanh_rational::<true>(cn);
        (c[k], tc[k], h[k]) = (cn, t, ov * t);
    }
}

/// LSTM backward for one row, from the activations `act` \[4H\], `c_prev`, `tc` = tanh(c),
/// the upstream `dh` and `dc` (the cell state's gradient from later steps and the output).
///
/// dc_total = dc + dh⊙o⊙(1 − tanh²c); the pre-activation gradients go to `dgates` \[4H\]:
/// di = dc_total⊙g⊙i(1−i), df = dc_total⊙c_prev⊙f(1−f), dg = dc_total⊙i⊙(1−g²),
/// do = dh⊙tanh(c)⊙o(1−o); and `dc_prev` = dc_total⊙f.
#[inline]
pub fn lstm_backward_row<T: Float>(
    act: &[T],
    c_prev: &[T],
    tc: &[T],
    dh: &[T],
    dc: &[T],
    dgates: &mut [T],
    dc_prev: &mut [T],
) {
    simd::run(simd::level(), || {
        lstm_backward_body(act, c_prev, tc, dh, dc, dgates, dc_prev)
    });
}

#[inline(always)]
fn lstm_backward_body<T: Float>(
    act: &[T],
    c_prev: &[T],
    tc: &[T],
    dh: &[T],
    dc: &[T],
    dgates: &mut [T],
    dc_prev: &mut [T],
) {
    let hs = c_prev.len();
    let (i, rest) = act.split_at(hs);
    let (f, rest) = rest.split_at(hs);
    let (g, o) = rest.split_at(hs);
    let (di, rest) = dgates.split_at_mut(hs);
    let (df, rest) = rest.split_at_mut(hs);
    let (dg, d_o) = rest.split_at_mut(hs);
    for k in 0..hs {
        let t = tc[k];
        let dct = dc[k] + dh[k] * o[k] * (T::ONE - t * t);
        di[k] = dct * g[k] * i[k] * (T::ONE - i[k]);
        df[k] = dct * c_prev[k] * f[k] * (T::ONE - f[k]);
        dg[k] = dct * i[k] * (T::ONE - g[k] * g[k]);
        d_o[k] = dh[k] * t * o[k] * (T::ONE - o[k]);
        dc_prev[k] = dct * f[k];
    }
}

/// GRU forward for one row (PyTorch's formulation). `gx` \[3H\] = W_i·x + b_i and `gh` \[3H\] =
/// W_h·h_prev + b_h, both in the order r, z, n. Writes the activations r, z, n to `act` \[3H\]:
/// r = σ(gx_r + gh_r), z = σ(gx_z + gh_z), n = tanh(gx_n + r⊙gh_n) — the reset gate applied
/// to W_hn·h + b_hn — and h = (1 − z)⊙n + z⊙h_prev.
///
/// # Panics
/// If a buffer is shorter than stated above (see the [module docs](self)).
#[inline]
pub fn gru_forward_row<T: Float>(gx: &[T], gh: &[T], h_prev: &[T], act: &mut [T], h: &mut [T]) {
    let hs = h_prev.len();
    assert!(
        gx.len() >= 3 * hs && gh.len() >= 3 * hs && act.len() >= 3 * hs && h.len() >= hs,
        "gru_forward_row: buffer sizes"
    ); // ok: internal sizes, fixed by the callers
    let level = simd::level();
    #[cfg(target_arch = "x86_64")]
    if is_f32::<T>() && level >= Level::Avx512 && Level::Avx512.is_available() {
        // SAFETY: T is f32 and AVX-512F is available (checked just above); the sizes were
        // asserted; `&mut` slices never alias the shared ones.
        unsafe {
            avx512::gru_forward_row(
                gx.as_ptr() as *const f32,
                gh.as_ptr() as *const f32,
                h_prev.as_ptr() as *const f32,
                act.as_mut_ptr() as *mut f32,
                h.as_mut_ptr() as *mut f32,
                hs,
            );
        }
        return;
    }
    if let (true, Some(act)) = (level >= Level::Avx2, as_f32_mut(act)) {
        // The AVX-512 kernel's formulas, fused the same way, compiled for AVX2+FMA.
        let (gx, gh, h_prev, h) = (as_f32(gx), as_f32(gh), as_f32(h_prev), as_f32_mut(h));
        if let (Some(gx), Some(gh), Some(h_prev), Some(h)) = (gx, gh, h_prev, h) {
            return simd::run(level, || gru_fma_f32(gx, gh, h_prev, act, h, hs));
        }
    }
    simd::run(level, || {
        for k in 0..2 * hs {
            act[k] = gx[k] + gh[k];
        }
        sigmoid_body(false, &mut act[..2 * hs]);
        for k in 0..hs {
            act[2 * hs + k] = gx[2 * hs + k] + act[k] * gh[2 * hs + k];
        }
        tanh_body(false, &mut act[2 * hs..3 * hs]);
        let (r_z, n) = act.split_at(2 * hs);
        let z = &r_z[hs..];
        for k in 0..hs {
            h[k] = n[k] + z[k] * (h_prev[k] - n[k]);
        }
    })
}

/// The f32 GRU row with the AVX-512 kernel's arithmetic, for the AVX2 path (see
/// [`lstm_fma_f32`]).
#[inline(always)]
fn gru_fma_f32(gx: &[f32], gh: &[f32], h_prev: &[f32], act: &mut [f32], h: &mut [f32], hs: usize) {
    let (r_a, rest) = act[..3 * hs].split_at_mut(hs);
    let (z_a, n_a) = rest.split_at_mut(hs);
    for k in 0..hs {
        let r = sigmoid_rational::<true>(gx[k] + gh[k]);
        let z = sigmoid_rational::<true>(gx[hs + k] + gh[hs + k]);
        let n = tanh_rational::<true>(r.mul_add(gh[2 * hs + k], gx[2 * hs + k]));
        (r_a[k], z_a[k], n_a[k]) = (r, z, n);
        h[k] = z.mul_add(h_prev[k] - n, n);
    }
}

/// GRU backward for one row, from the activations `act` \[3H\], `gh_n` = W_hn·h_prev + b_hn,
/// `h_prev` and the upstream `dh`.
///
/// dn = dh⊙(1−z), dz = dh⊙(h_prev − n), dn_pre = dn⊙(1−n²), dr = dn_pre⊙gh_n; `dgx` \[3H\] gets
/// (dr⊙r(1−r), dz⊙z(1−z), dn_pre), `dgh` \[3H\] the same with dn_pre⊙r for the n block, and
/// `dh_direct` = dh⊙z (the path that skips the gates).
#[inline]
pub fn gru_backward_row<T: Float>(
    act: &[T],
    gh_n: &[T],
    h_prev: &[T],
    dh: &[T],
    dgx: &mut [T],
    dgh: &mut [T],
    dh_direct: &mut [T],
) {
    simd::run(simd::level(), || {
        gru_backward_body(act, gh_n, h_prev, dh, dgx, dgh, dh_direct)
    });
}

#[inline(always)]
fn gru_backward_body<T: Float>(
    act: &[T],
    gh_n: &[T],
    h_prev: &[T],
    dh: &[T],
    dgx: &mut [T],
    dgh: &mut [T],
    dh_direct: &mut [T],
) {
    let hs = h_prev.len();
    for k in 0..hs {
        let (r, z, n) = (act[k], act[hs + k], act[2 * hs + k]);
        let dn_pre = dh[k] * (T::ONE - z) * (T::ONE - n * n);
        let dz_pre = dh[k] * (h_prev[k] - n) * z * (T::ONE - z);
        let dr_pre = dn_pre * gh_n[k] * r * (T::ONE - r);
        dgx[k] = dr_pre;
        dgx[hs + k] = dz_pre;
        dgx[2 * hs + k] = dn_pre;
        dgh[k] = dr_pre;
        dgh[hs + k] = dz_pre;
        dgh[2 * hs + k] = dn_pre * r;
        dh_direct[k] = dh[k] * z;
    }
}

/// The AVX-512 f32 rows: the same rational tanh as [`fast_tanh_f32`], evaluated with fused
/// multiply-adds on 16 lanes.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    /// Lanes `k..min(k + 16, n)` live.
    #[inline(always)]
    fn tail_mask(n: usize, k: usize) -> __mmask16 {
        let live = n - k;
        if live >= 16 {
            u16::MAX
        } else {
            (1u16 << live) - 1
        }
    }

    /// The lanes of `m` from `p`, zero elsewhere.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn ld(m: __mmask16, p: *const f32) -> __m512 {
        _mm512_maskz_loadu_ps(m, p)
    }

    /// tanh on 16 lanes: clamp to ±7.905311 (NaN stays NaN), then p(x)/q(x).
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn tanh16(x: __m512) -> __m512 {
        let c = _mm512_set1_ps(7.905_311);
        // vmaxps/vminps return the second operand when one is NaN: x, then the NaN.
        let x = _mm512_min_ps(c, _mm512_max_ps(_mm512_sub_ps(_mm512_setzero_ps(), c), x));
        let x2 = _mm512_mul_ps(x, x);
        let mut p = _mm512_fmadd_ps(
            x2,
            _mm512_set1_ps(-2.760_768_5e-16),
            _mm512_set1_ps(2.000_188e-13),
        );
        p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(-8.604_672e-11));
        p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(5.122_297e-8));
        p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(1.485_722_4e-5));
        p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(6.372_619_3e-4));
        p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(4.893_524_6e-3));
        p = _mm512_mul_ps(p, x);
        let mut q = _mm512_fmadd_ps(
            x2,
            _mm512_set1_ps(1.198_258_4e-6),
            _mm512_set1_ps(1.185_347_1e-4),
        );
        q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(2.268_434_6e-3));
        q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(4.893_525e-3));
        _mm512_div_ps(p, q)
    }

    /// σ(x) = ½ + ½·tanh(x/2) on 16 lanes.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn sigmoid16(x: __m512) -> __m512 {
        let half = _mm512_set1_ps(0.5);
        _mm512_fmadd_ps(half, tanh16(_mm512_mul_ps(half, x)), half)
    }

    /// [`super::lstm_forward_row`] for f32.
    ///
    /// # Safety
    /// AVX-512F; `gates` holds 4·hs values, `c_prev`, `c`, `tc`, `h` hs each.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn lstm_forward_row(
        gates: *mut f32,
        c_prev: *const f32,
        c: *mut f32,
        tc: *mut f32,
        h: *mut f32,
        hs: usize,
    ) {
        let mut k = 0;
        while k < hs {
            let m = tail_mask(hs, k);
            let pi = gates.add(k);
            let pf = gates.add(hs + k);
            let pg = gates.add(2 * hs + k);
            let po = gates.add(3 * hs + k);
            let i = sigmoid16(_mm512_maskz_loadu_ps(m, pi));
            let f = sigmoid16(_mm512_maskz_loadu_ps(m, pf));
            let g = tanh16(_mm512_maskz_loadu_ps(m, pg));
            let o = sigmoid16(_mm512_maskz_loadu_ps(m, po));
            _mm512_mask_storeu_ps(pi, m, i);
            _mm512_mask_storeu_ps(pf, m, f);
            _mm512_mask_storeu_ps(pg, m, g);
            _mm512_mask_storeu_ps(po, m, o);
            let cp = _mm512_maskz_loadu_ps(m, c_prev.add(k));
            let cn = _mm512_fmadd_ps(f, cp, _mm512_mul_ps(i, g));
            let t = tanh16(cn);
            _mm512_mask_storeu_ps(c.add(k), m, cn);
            _mm512_mask_storeu_ps(tc.add(k), m, t);
            _mm512_mask_storeu_ps(h.add(k), m, _mm512_mul_ps(o, t));
            k += 16;
        }
    }

    /// [`super::gru_forward_row`] for f32.
    ///
    /// # Safety
    /// AVX-512F; `gx`, `gh`, `act` hold 3·hs values, `h_prev` and `h` hs each.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn gru_forward_row(
        gx: *const f32,
        gh: *const f32,
        h_prev: *const f32,
        act: *mut f32,
        h: *mut f32,
        hs: usize,
    ) {
        let mut k = 0;
        while k < hs {
            let m = tail_mask(hs, k);
            let r = sigmoid16(_mm512_add_ps(ld(m, gx.add(k)), ld(m, gh.add(k))));
            let z = sigmoid16(_mm512_add_ps(ld(m, gx.add(hs + k)), ld(m, gh.add(hs + k))));
            let n = tanh16(_mm512_fmadd_ps(
                r,
                ld(m, gh.add(2 * hs + k)),
                ld(m, gx.add(2 * hs + k)),
            ));
            _mm512_mask_storeu_ps(act.add(k), m, r);
            _mm512_mask_storeu_ps(act.add(hs + k), m, z);
            _mm512_mask_storeu_ps(act.add(2 * hs + k), m, n);
            let hp = ld(m, h_prev.add(k));
            // h = n + z·(h_prev − n)
            _mm512_mask_storeu_ps(h.add(k), m, _mm512_fmadd_ps(z, _mm512_sub_ps(hp, n), n));
            k += 16;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_tanh_and_sigmoid_are_accurate_to_float_precision() {
        let mut worst_t = 0.0f64;
        let mut worst_s = 0.0f64;
        let mut x = -20.0f64;
        while x <= 20.0 {
            worst_t = worst_t.max((fast_tanh_f32(x as f32) as f64 - x.tanh()).abs());
            let s = 1.0 / (1.0 + (-x).exp());
            worst_s = worst_s.max((fast_sigmoid_f32(x as f32) as f64 - s).abs());
            x += 0.001;
        }
        assert!(worst_t < 5e-7, "tanh error {worst_t}");
        assert!(worst_s < 5e-7, "sigmoid error {worst_s}");
        assert!(fast_tanh_f32(f32::NAN).is_nan());
        assert_eq!(fast_tanh_f32(100.0), 1.0);
    }

    #[test]
    fn relu_keeps_nan_and_zeroes_negatives() {
        let mut v = [-1.0f64, 0.5, f64::NAN, 0.0];
        relu_inplace(&mut v);
        assert_eq!(v[0], 0.0);
        assert_eq!(v[1], 0.5);
        assert!(v[2].is_nan());
        assert_eq!(v[3], 0.0);
    }

    /// The row kernels on every SIMD path this CPU has against f64 maths, on sizes with and
    /// without a partial last vector.
    #[test]
    fn f32_rows_match_f64_rows() {
        for level in Level::available() {
            let _simd = simd::force_level(level);
            f32_rows_match_f64_rows_at(level);
        }
    }

    fn f32_rows_match_f64_rows_at(level: Level) {
        let mut rng = neurite_tensor::Rng::new(3);
        for hs in [1usize, 5, 16, 17, 40, 128] {
            let pre: Vec<f64> = (0..4 * hs).map(|_| 3.0 * rng.normal()).collect();
            let cp: Vec<f64> = (0..hs).map(|_| rng.normal()).collect();
            let f = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
            let (mut g64, mut g32) = (pre.clone(), f(&pre));
            let (mut c64, mut t64, mut h64) = (vec![0.0; hs], vec![0.0; hs], vec![0.0; hs]);
            let (mut c32, mut t32, mut h32) =
                (vec![0.0f32; hs], vec![0.0f32; hs], vec![0.0f32; hs]);
            lstm_forward_row(&mut g64, &cp, &mut c64, &mut t64, &mut h64);
            lstm_forward_row(&mut g32, &f(&cp), &mut c32, &mut t32, &mut h32);
            let close = |a: &[f32], b: &[f64], what: &str| {
                for (x, y) in a.iter().zip(b) {
                    assert!(
                        (*x as f64 - y).abs() < 2e-6,
                        "{what} hs={hs} {level}: {x} vs {y}"
                    );
                }
            };
            close(&g32, &g64, "lstm gates");
            close(&c32, &c64, "lstm c");
            close(&t32, &t64, "lstm tanh c");
            close(&h32, &h64, "lstm h");
            let gx: Vec<f64> = pre[..3 * hs].to_vec();
            let gh: Vec<f64> = pre[hs..].to_vec();
            let (mut a64, mut hh64) = (vec![0.0; 3 * hs], vec![0.0; hs]);
            let (mut a32, mut hh32) = (vec![0.0f32; 3 * hs], vec![0.0f32; hs]);
            gru_forward_row(&gx, &gh, &cp, &mut a64, &mut hh64);
            gru_forward_row(&f(&gx), &f(&gh), &f(&cp), &mut a32, &mut hh32);
            close(&a32, &a64, "gru act");
            close(&hh32, &hh64, "gru h");
        }
        // NaN in a pre-activation stays NaN; large inputs saturate.
        let mut g = [f32::NAN, 100.0, -100.0, 0.0];
        let (mut c, mut t, mut h) = ([0.0f32], [0.0f32], [0.0f32]);
        lstm_forward_row(&mut g, &[1.0], &mut c, &mut t, &mut h);
        assert!(g[0].is_nan() && c[0].is_nan() && h[0].is_nan());
        assert!((g[1] - 1.0).abs() < 1e-6, "σ(100) = {}", g[1]);
        assert!((g[2] + 1.0).abs() < 1e-6, "tanh(−100) = {}", g[2]);
    }

    /// Random rows on every path: the forward and backward rows against f64, and the AVX2
    /// path's fused formulas against the AVX-512 intrinsics bit for bit.
    fn rows_at(level: Level, hs: usize, pre: &[f32], cp: &[f32], dh: &[f32]) -> Vec<Vec<u32>> {
        let _simd = simd::force_level(level);
        let (mut g, mut c, mut t, mut h) =
            (pre.to_vec(), vec![0.0; hs], vec![0.0; hs], vec![0.0; hs]);
        lstm_forward_row(&mut g, cp, &mut c, &mut t, &mut h);
        let (mut dg, mut dcp) = (vec![0.0; 4 * hs], vec![0.0; hs]);
        lstm_backward_row(&g, cp, &t, dh, cp, &mut dg, &mut dcp);
        let (mut a, mut hh) = (vec![0.0; 3 * hs], vec![0.0; hs]);
        gru_forward_row(&pre[..3 * hs], &pre[hs..], cp, &mut a, &mut hh);
        let (mut dgx, mut dgh, mut dhd) = (vec![0.0; 3 * hs], vec![0.0; 3 * hs], vec![0.0; hs]);
        gru_backward_row(&a, &pre[3 * hs..], cp, dh, &mut dgx, &mut dgh, &mut dhd);
        let mut r = pre[..hs].to_vec();
        rnn_forward_row(&mut r, Nonlinearity::Tanh);
        let mut dr = vec![0.0; hs];
        rnn_backward_row(&r, dh, &mut dr, Nonlinearity::Tanh);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
        [
            &g, &c, &t, &h, &dg, &dcp, &a, &hh, &dgx, &dgh, &dhd, &r, &dr,
        ]
        .iter()
        .map(|v| bits(v))
        .collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn rows_agree_on_every_path(hs in 1usize..150, seed in 0u64..10_000) {
            let mut rng = neurite_tensor::Rng::new(seed);
            let mut v = |n: usize, s: f64| (0..n).map(|_| (s * rng.normal()) as f32).collect::<Vec<f32>>();
            let (pre, cp, dh) = (v(4 * hs, 3.0), v(hs, 1.0), v(hs, 1.0));
            let f64s = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<f64>>();
            // f64 reference (exact maths).
            let (mut g64, mut c64, mut t64, mut h64) = (f64s(&pre), vec![0.0; hs], vec![0.0; hs], vec![0.0; hs]);
            lstm_forward_row(&mut g64, &f64s(&cp), &mut c64, &mut t64, &mut h64);
            let (mut a64, mut hh64) = (vec![0.0; 3 * hs], vec![0.0; hs]);
            gru_forward_row(&f64s(&pre[..3 * hs]), &f64s(&pre[hs..]), &f64s(&cp), &mut a64, &mut hh64);
            let want = [g64, c64, t64, h64, a64, hh64];
            let mut by_level = Vec::new();
            for level in Level::available() {
                let got = rows_at(level, hs, &pre, &cp, &dh);
                for (o, w) in [0usize, 1, 2, 3, 6, 7].iter().zip(&want) {
                    for (x, y) in got[*o].iter().zip(w) {
                        let x = f32::from_bits(*x) as f64;
                        proptest::prop_assert!((x - y).abs() < 2e-6, "output {} at {}: {} vs {}", o, level, x, y);
                    }
                }
                by_level.push((level, got));
            }
            // AVX2 computes the AVX-512 kernel's formulas, fused the same way: the same bits,
            // forward and backward.
            for (level, got) in &by_level {
                for (l2, g2) in &by_level {
                    if (*level >= Level::Avx2) == (*l2 >= Level::Avx2) {
                        for o in 0..got.len() {
                            proptest::prop_assert!(got[o] == g2[o], "output {} differs: {} vs {}", o, level, l2);
                        }
                    }
                }
            }
        }
    }
}

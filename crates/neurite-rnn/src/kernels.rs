//! The fused gate kernels shared by the cell ops and the sequence ops: for one batch row, the
//! gate non-linearities and the cell update in one pass (forward), and the local gradients of
//! that whole update in one pass (backward). Nothing here allocates.
//!
//! For `f32` the sigmoid and tanh are a rational approximation that vectorises (Eigen's
//! `generic_fast_tanh_float`, absolute error below 5·10⁻⁷, tested below); `f64` uses the exact
//! library functions, so gradient checks in f64 see exact maths.

use std::any::TypeId;

use neurite_tensor::Float;

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

/// tanh for f32 as a 13/6 rational function of x on [−7.9, 7.9] (±1 outside); NaN stays NaN.
#[inline(always)]
pub fn fast_tanh_f32(x: f32) -> f32 {
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
    let mut p = x2 * A13 + A11;
    p = p * x2 + A9;
    p = p * x2 + A7;
    p = p * x2 + A5;
    p = p * x2 + A3;
    p = p * x2 + A1;
    p *= x;
    let mut q = x2 * B6 + B4;
    q = q * x2 + B2;
    q = q * x2 + B0;
    p / q
}

/// Logistic sigmoid for f32: σ(x) = ½ + ½·tanh(x/2).
#[inline(always)]
pub fn fast_sigmoid_f32(x: f32) -> f32 {
    0.5 + 0.5 * fast_tanh_f32(0.5 * x)
}

/// σ in place.
#[inline]
pub fn sigmoid_inplace<T: Float>(s: &mut [T]) {
    if let Some(f) = as_f32_mut(s) {
        f.iter_mut().for_each(|x| *x = fast_sigmoid_f32(*x));
    } else {
        s.iter_mut().for_each(|x| *x = x.sigmoid());
    }
}

/// tanh in place.
#[inline]
pub fn tanh_inplace<T: Float>(s: &mut [T]) {
    if let Some(f) = as_f32_mut(s) {
        f.iter_mut().for_each(|x| *x = fast_tanh_f32(*x));
    } else {
        s.iter_mut().for_each(|x| *x = x.tanh());
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
        Nonlinearity::Relu => relu_inplace(pre),
    }
}

/// RNN backward for one row: `dpre = dh ⊙ φ'(pre)` from the output `h`.
#[inline]
pub fn rnn_backward_row<T: Float>(h: &[T], dh: &[T], dpre: &mut [T], nl: Nonlinearity) {
    match nl {
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
    }
}

/// LSTM forward for one row. `gates` [4H] holds the pre-activations i, f, g, o (PyTorch order)
/// and is overwritten with the activations σ(i), σ(f), tanh(g), σ(o); then
/// c = f⊙c_prev + i⊙g, `tc` = tanh(c), h = o⊙tanh(c).
#[inline]
pub fn lstm_forward_row<T: Float>(
    gates: &mut [T],
    c_prev: &[T],
    c: &mut [T],
    tc: &mut [T],
    h: &mut [T],
) {
    let hs = c_prev.len();
    sigmoid_inplace(&mut gates[..2 * hs]);
    tanh_inplace(&mut gates[2 * hs..3 * hs]);
    sigmoid_inplace(&mut gates[3 * hs..4 * hs]);
    let (i, rest) = gates.split_at(hs);
    let (f, rest) = rest.split_at(hs);
    let (g, o) = rest.split_at(hs);
    for k in 0..hs {
        c[k] = f[k] * c_prev[k] + i[k] * g[k];
    }
    tc.copy_from_slice(c);
    tanh_inplace(tc);
    for k in 0..hs {
        h[k] = o[k] * tc[k];
    }
}

/// LSTM backward for one row, from the activations `act` [4H], `c_prev`, `tc` = tanh(c),
/// the upstream `dh` and `dc` (the cell state's gradient from later steps and the output).
///
/// dc_total = dc + dh⊙o⊙(1 − tanh²c); the pre-activation gradients go to `dgates` [4H]:
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

/// GRU forward for one row (PyTorch's formulation). `gx` [3H] = W_i·x + b_i and `gh` [3H] =
/// W_h·h_prev + b_h, both in the order r, z, n. Writes the activations r, z, n to `act` [3H]:
/// r = σ(gx_r + gh_r), z = σ(gx_z + gh_z), n = tanh(gx_n + r⊙gh_n) — the reset gate applied
/// to W_hn·h + b_hn — and h = (1 − z)⊙n + z⊙h_prev.
#[inline]
pub fn gru_forward_row<T: Float>(gx: &[T], gh: &[T], h_prev: &[T], act: &mut [T], h: &mut [T]) {
    let hs = h_prev.len();
    for k in 0..2 * hs {
        act[k] = gx[k] + gh[k];
    }
    sigmoid_inplace(&mut act[..2 * hs]);
    for k in 0..hs {
        act[2 * hs + k] = gx[2 * hs + k] + act[k] * gh[2 * hs + k];
    }
    tanh_inplace(&mut act[2 * hs..]);
    let (r_z, n) = act.split_at(2 * hs);
    let z = &r_z[hs..];
    for k in 0..hs {
        h[k] = n[k] + z[k] * (h_prev[k] - n[k]);
    }
}

/// GRU backward for one row, from the activations `act` [3H], `gh_n` = W_hn·h_prev + b_hn,
/// `h_prev` and the upstream `dh`.
///
/// dn = dh⊙(1−z), dz = dh⊙(h_prev − n), dn_pre = dn⊙(1−n²), dr = dn_pre⊙gh_n; `dgx` [3H] gets
/// (dr⊙r(1−r), dz⊙z(1−z), dn_pre), `dgh` [3H] the same with dn_pre⊙r for the n block, and
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
}

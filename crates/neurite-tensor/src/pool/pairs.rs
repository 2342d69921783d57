//! The 2×2, stride-2 max pooling of image CNNs (`Plan::pairs`): with argmax ([`max_pairs`])
//! and values only ([`max_pairs_values`]), flat over the plane when its rows hold whole
//! windows, row by row otherwise.

use crate::conv::Plane;
use crate::float::Float;
use crate::simd;

/// Max pooling of one plane in the 2×2, stride-2, unpadded, undilated case (the pooling of most
/// image CNNs), without the generic window loops, over the first `full` = [rows, columns] of
/// output positions (all of them but for ceil mode's one-tap last row or column). Windows
/// without NaN take a short select chain (the first maximum in row-major window order wins
/// ties, as in the generic path); windows near a NaN take the NaN-aware comparison (the first
/// NaN wins and sticks).
///
/// Image planes are narrow (a 28-pixel row holds 14 windows, fewer than one 512-bit vector of
/// f32), so a loop along each row would run its scalar remainder only. When the rows hold
/// whole windows (an even width), the plane is instead one run of horizontal pairs: the flat
/// path takes every pair's maximum, then every row's maximum with the row below, over the
/// whole plane at once, and copies out the window rows (see [`pairs_flat`]).
///
/// `scratch` holds the flat path's buffers from one plane to the next (taken at the first).
pub(super) fn max_pairs<T: Float>(
    g: &Plane,
    full: [usize; 2],
    xs: &[T],
    vs: &mut [T],
    args: &mut [usize],
    scratch: &mut Option<PairsScratch<T>>,
) {
    let scratch = PairsScratch::for_plane(scratch, g, full);
    simd::run(
        simd::level(),
        MaxPairs {
            g,
            full,
            xs,
            vs,
            args,
            scratch,
        },
    );
}

/// The flat paths' buffers (per-thread [`scratch`](crate::scratch), given back when dropped):
/// each horizontal pair's maximum (`h`) and whether it is the right one, then each pair's
/// maximum with the pair below (`v`), its 2-bit tap code (2: lower row, 1: right column) and
/// in-plane index. The values-only path uses `h` and `v`.
pub(super) struct PairsScratch<T: Float> {
    h: Vec<T>,
    hc: Vec<u32>,
    v: Vec<T>,
    vc: Vec<u32>,
    idx: Vec<usize>,
}

impl<T: Float> PairsScratch<T> {
    /// The flat path's buffers for this plane, kept in `scratch` (taken, or grown, when it holds
    /// none large enough); `None` when the plane's rows do not hold whole windows or memory is
    /// short: the row path.
    fn for_plane<'s>(
        scratch: &'s mut Option<Self>,
        g: &Plane,
        [full_oh, fw]: [usize; 2],
    ) -> Option<&'s mut Self> {
        let n = 2 * full_oh * fw;
        if g.w != 2 * fw || n == 0 {
            return None;
        }
        if scratch.as_ref().is_none_or(|s| s.h.len() < n) {
            *scratch = Self::take(n);
        }
        scratch.as_mut()
    }

    /// Buffers for `n` pairs, or `None` when memory is short (the row path needs none).
    fn take(n: usize) -> Option<Self> {
        let what = "2×2 max pooling pairs";
        Some(PairsScratch {
            h: crate::scratch::take_any(what, n).ok()?,
            hc: crate::scratch::take_any(what, n).ok()?,
            v: crate::scratch::take_any(what, n).ok()?,
            vc: crate::scratch::take_any(what, n).ok()?,
            idx: crate::scratch::take_any(what, n).ok()?,
        })
    }
}

impl<T: Float> Drop for PairsScratch<T> {
    fn drop(&mut self) {
        crate::scratch::give(std::mem::take(&mut self.h));
        crate::scratch::give(std::mem::take(&mut self.hc));
        crate::scratch::give(std::mem::take(&mut self.v));
        crate::scratch::give(std::mem::take(&mut self.vc));
        crate::scratch::give(std::mem::take(&mut self.idx));
    }
}

/// The operands of [`max_pairs`] (a [`simd::Kernel`]: its loop always compiles for the level).
struct MaxPairs<'a, T: Float> {
    g: &'a Plane,
    full: [usize; 2],
    xs: &'a [T],
    vs: &'a mut [T],
    args: &'a mut [usize],
    scratch: Option<&'a mut PairsScratch<T>>,
}

impl<T: Float> simd::Kernel for MaxPairs<'_, T> {
    type Output = ();
    #[inline(always)]
    fn call(self) {
        let MaxPairs {
            g,
            full,
            xs,
            vs,
            args,
            scratch,
        } = self;
        if let Some(s) = scratch {
            if pairs_flat(g, full, xs, vs, args, s) {
                return;
            }
        }
        max_pairs_body(g, full, xs, vs, args);
    }
}

/// [`max_pairs`] for rows of whole windows (`g.w == 2 * full[1]`), as flat loops over the
/// plane; `false` (nothing written) when the windows hold a NaN, left to the row path.
#[inline(always)]
fn pairs_flat<T: Float>(
    g: &Plane,
    [full_oh, fw]: [usize; 2],
    xs: &[T],
    vs: &mut [T],
    args: &mut [usize],
    s: &mut PairsScratch<T>,
) -> bool {
    let (w, ow) = (g.w, g.ow);
    // Pair p covers input elements 2p and 2p + 1; pair rows are `fw` long.
    let n = 2 * full_oh * fw;
    let (h, hc) = (&mut s.h[..n], &mut s.hc[..n]);
    let mut nan = false;
    for ((m, code), p) in h
        .iter_mut()
        .zip(hc.iter_mut())
        .zip(xs[..2 * n].chunks_exact(2))
    {
        let right = p[1] > p[0];
        *m = if right { p[1] } else { p[0] };
        *code = u32::from(right);
        nan |= p[0].is_nan() | p[1].is_nan();
    }
    if nan {
        return false;
    }
    // Every pair against the pair below it (odd pair rows too: a flat loop is cheaper than
    // one as short as a row); ties keep the upper row.
    let q = n - fw;
    let (v, vc) = (&mut s.v[..q], &mut s.vc[..q]);
    for (((m, code), (&a, &ac)), (&b, &bc)) in v
        .iter_mut()
        .zip(vc.iter_mut())
        .zip(h[..q].iter().zip(&hc[..q]))
        .zip(h[fw..].iter().zip(&hc[fw..]))
    {
        let lower = b > a;
        *m = if lower { b } else { a };
        *code = if lower { 2 | bc } else { ac };
    }
    // The maxima's in-plane indices: pair q starts at input element 2q.
    let idx = &mut s.idx[..q];
    for (i, (a, &code)) in idx.iter_mut().zip(vc.iter()).enumerate() {
        let below = if code & 2 != 0 { w } else { 0 };
        *a = 2 * i + below + (code & 1) as usize;
    }
    // The window rows are the even pair rows.
    for oy in 0..full_oh {
        let r = 2 * oy * fw;
        vs[oy * ow..oy * ow + fw].copy_from_slice(&v[r..r + fw]);
        args[oy * ow..oy * ow + fw].copy_from_slice(&idx[r..r + fw]);
    }
    true
}

/// Windows per block of [`max_pairs`]' two-pass loop (its codes live on the stack).
const PAIRS_BLOCK: usize = 128;

#[inline(always)]
fn max_pairs_body<T: Float>(
    g: &Plane,
    [full_oh, fw]: [usize; 2],
    xs: &[T],
    vs: &mut [T],
    args: &mut [usize],
) {
    let (w, ow) = (g.w, g.ow);
    // Two passes over blocks of windows, so that both vectorise: the maxima with a 2-bit tap
    // code (lanes as wide as the values) and a NaN flag, then the flat indices from the codes
    // (the only 64-bit lanes). One pass mixing f32 values with usize indices is left scalar by
    // the compiler's cost model at baseline tuning. A block holding a NaN is redone with the
    // NaN-aware comparison (the first NaN wins and sticks).
    let mut codes = [0u32; PAIRS_BLOCK];
    for oy in 0..full_oh {
        let r0 = 2 * oy * w;
        let top = &xs[r0..r0 + 2 * fw];
        let bottom = &xs[r0 + w..r0 + w + 2 * fw];
        let vo = &mut vs[oy * ow..oy * ow + fw];
        let ao = &mut args[oy * ow..oy * ow + fw];
        let mut start = 0;
        while start < fw {
            let n = PAIRS_BLOCK.min(fw - start);
            let t = &top[2 * start..2 * (start + n)];
            let b = &bottom[2 * start..2 * (start + n)];
            let vo = &mut vo[start..start + n];
            let ao = &mut ao[start..start + n];
            let mut nan = false;
            for (((v, code), t), b) in vo
                .iter_mut()
                .zip(&mut codes[..n])
                .zip(t.chunks_exact(2))
                .zip(b.chunks_exact(2))
            {
                // Row-major window order, the first maximum wins ties.
                let right_top = t[1] > t[0];
                let m1 = if right_top { t[1] } else { t[0] };
                let right_bottom = b[1] > b[0];
                let m2 = if right_bottom { b[1] } else { b[0] };
                let lower = m2 > m1;
                *v = if lower { m2 } else { m1 };
                *code = if lower {
                    2 | u32::from(right_bottom)
                } else {
                    u32::from(right_top)
                };
                nan |= t[0].is_nan() | t[1].is_nan() | b[0].is_nan() | b[1].is_nan();
            }
            let first = r0 + 2 * start;
            if !nan {
                for (i, (a, &code)) in ao.iter_mut().zip(&codes[..n]).enumerate() {
                    let row = if code & 2 != 0 { w } else { 0 };
                    *a = first + 2 * i + row + (code & 1) as usize;
                }
            } else {
                for (i, ((v, a), (t, b))) in vo
                    .iter_mut()
                    .zip(ao.iter_mut())
                    .zip(t.chunks_exact(2).zip(b.chunks_exact(2)))
                    .enumerate()
                {
                    let at = first + 2 * i;
                    let cand = [
                        (t[0], at),
                        (t[1], at + 1),
                        (b[0], at + w),
                        (b[1], at + w + 1),
                    ];
                    let mut best = cand[0];
                    for &(v, at) in &cand[1..] {
                        if (v > best.0 || v.is_nan()) && !best.0.is_nan() {
                            best = (v, at);
                        }
                    }
                    (*v, *a) = best;
                }
            }
            start += n;
        }
    }
}

/// The maxima alone of [`max_pairs`]' windows. No ties to keep and no NaN scan: the
/// NaN-propagating maximum of four, which vectorises at every level; flat over the plane when
/// its rows hold whole windows, as in [`max_pairs`] (same operations per window, same bits).
pub(super) fn max_pairs_values<T: Float>(
    g: &Plane,
    full: [usize; 2],
    xs: &[T],
    vs: &mut [T],
    scratch: &mut Option<PairsScratch<T>>,
) {
    let scratch = PairsScratch::for_plane(scratch, g, full);
    simd::run(
        simd::level(),
        MaxPairsValues {
            g,
            full,
            xs,
            vs,
            scratch,
        },
    );
}

/// The operands of [`max_pairs_values`] (a [`simd::Kernel`]).
struct MaxPairsValues<'a, T: Float> {
    g: &'a Plane,
    full: [usize; 2],
    xs: &'a [T],
    vs: &'a mut [T],
    scratch: Option<&'a mut PairsScratch<T>>,
}

impl<T: Float> simd::Kernel for MaxPairsValues<'_, T> {
    type Output = ();
    #[inline(always)]
    fn call(self) {
        let MaxPairsValues {
            g,
            full,
            xs,
            vs,
            scratch,
        } = self;
        max_pairs_values_body(g, full, xs, vs, scratch);
    }
}

#[inline(always)]
fn max_pairs_values_body<T: Float>(
    g: &Plane,
    [full_oh, fw]: [usize; 2],
    xs: &[T],
    vs: &mut [T],
    scratch: Option<&mut PairsScratch<T>>,
) {
    let (w, ow) = (g.w, g.ow);
    // The larger of a and b, or the NaN if either is one: pooling never hides a NaN.
    let max = |a: T, b: T| if b > a || b.is_nan() { b } else { a };
    if let Some(s) = scratch {
        // Pairs, then each pair's maximum with the pair below, then the window rows (the even
        // pair rows): see `pairs_flat`.
        let n = 2 * full_oh * fw;
        let h = &mut s.h[..n];
        for (m, p) in h.iter_mut().zip(xs[..2 * n].chunks_exact(2)) {
            *m = max(p[0], p[1]);
        }
        let q = n - fw;
        let v = &mut s.v[..q];
        for ((m, &a), &b) in v.iter_mut().zip(&h[..q]).zip(&h[fw..]) {
            *m = max(a, b);
        }
        for oy in 0..full_oh {
            vs[oy * ow..oy * ow + fw].copy_from_slice(&v[2 * oy * fw..(2 * oy + 1) * fw]);
        }
        return;
    }
    for oy in 0..full_oh {
        let r0 = 2 * oy * w;
        let top = &xs[r0..r0 + 2 * fw];
        let bottom = &xs[r0 + w..r0 + w + 2 * fw];
        let vo = &mut vs[oy * ow..oy * ow + fw];
        for ((v, t), b) in vo
            .iter_mut()
            .zip(top.chunks_exact(2))
            .zip(bottom.chunks_exact(2))
        {
            *v = max(max(t[0], t[1]), max(b[0], b[1]));
        }
    }
}

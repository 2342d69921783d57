//! Pooling kernels over [planes, h, w] data (planes = batch·channels; 1-D inputs have h = 1).
//!
//! A pooling is described by its windows along each axis — a list of `start..end` ranges in
//! input coordinates, padding already clipped away — so that regular pooling (kernel, stride,
//! padding) and adaptive pooling (PyTorch's ⌊i·n/o⌋..⌈(i+1)·n/o⌉ windows) share one kernel.

use neurite_tensor::Float;
use rayon::prelude::*;

/// Windows of one pooling call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PoolGeom {
    pub planes: usize,
    pub h: usize,
    pub w: usize,
    /// Row windows, one per output row.
    pub rows: Vec<(usize, usize)>,
    /// Column windows, one per output column.
    pub cols: Vec<(usize, usize)>,
    /// Average pooling divides by this fixed count (regular pooling, padding counted as in
    /// PyTorch's default `count_include_pad`), or by the window's size when `None` (adaptive).
    pub divisor: Option<usize>,
}

/// Element count above which planes are pooled in parallel.
const PAR_MIN: usize = 1 << 14;

impl PoolGeom {
    /// Regular windows along one axis: `count` positions of `kernel` with `stride` over an
    /// input of `len` padded by `pad` on both sides.
    pub fn regular_axis(
        len: usize,
        kernel: usize,
        stride: usize,
        pad: usize,
        count: usize,
    ) -> Vec<(usize, usize)> {
        (0..count)
            .map(|o| {
                let start = (o * stride) as isize - pad as isize;
                let end = start + kernel as isize;
                (start.max(0) as usize, (end.max(0) as usize).min(len))
            })
            .collect()
    }

    /// Adaptive windows along one axis: `out` windows covering `len`.
    pub fn adaptive_axis(len: usize, out: usize) -> Vec<(usize, usize)> {
        (0..out)
            .map(|i| ((i * len) / out, ((i + 1) * len).div_ceil(out)))
            .collect()
    }

    pub fn oh(&self) -> usize {
        self.rows.len()
    }
    pub fn ow(&self) -> usize {
        self.cols.len()
    }
    fn in_plane(&self) -> usize {
        self.h * self.w
    }
    fn out_plane(&self) -> usize {
        self.oh() * self.ow()
    }
    /// Windows (2i, 2i + 2) along both axes.
    fn is_pairs(&self) -> bool {
        let pairs = |v: &[(usize, usize)], len: usize| {
            v.iter()
                .enumerate()
                .all(|(i, &(a, b))| a == 2 * i && b == 2 * i + 2 && b <= len)
        };
        self.h >= 2 && pairs(&self.rows, self.h) && pairs(&self.cols, self.w)
    }
    fn parallel(&self) -> bool {
        self.planes > 1 && self.planes * self.in_plane() >= PAR_MIN
    }
}

/// Max pooling: `y` [planes, oh, ow] and the plane-local index of each maximum (NaN wins,
/// as in PyTorch), kept for backward.
pub(crate) fn max_forward<T: Float>(g: &PoolGeom, x: &[T], y: &mut [T], arg: &mut [u32]) {
    let (ip, op) = (g.in_plane(), g.out_plane());
    let pairs = g.is_pairs();
    let plane = |((xs, ys), args): ((&[T], &mut [T]), &mut [u32])| {
        if pairs {
            return max_pairs(g, xs, ys, args);
        }
        let mut o = 0;
        for &(r0, r1) in &g.rows {
            for &(c0, c1) in &g.cols {
                let mut best = T::NEG_INFINITY;
                let mut at = r0 * g.w + c0;
                'win: for r in r0..r1 {
                    for c in c0..c1 {
                        let v = xs[r * g.w + c];
                        if v > best || v.is_nan() {
                            best = v;
                            at = r * g.w + c;
                            if v.is_nan() {
                                break 'win;
                            }
                        }
                    }
                }
                ys[o] = best;
                args[o] = at as u32;
                o += 1;
            }
        }
    };
    if g.parallel() {
        x.par_chunks(ip)
            .zip(y.par_chunks_mut(op))
            .zip(arg.par_chunks_mut(op))
            .for_each(plane);
    } else {
        x.chunks(ip)
            .zip(y.chunks_mut(op))
            .zip(arg.chunks_mut(op))
            .for_each(plane);
    }
}

/// The 2×2, stride-2, unpadded case (the pooling of most image CNNs), without the generic
/// window loops. Planes without NaN take a short select chain per window (the first maximum in
/// row-major order wins ties, as in PyTorch); a plane holding a NaN takes the NaN-aware path.
fn max_pairs<T: Float>(g: &PoolGeom, xs: &[T], ys: &mut [T], args: &mut [u32]) {
    let (w, ow) = (g.w, g.ow());
    let has_nan = xs.iter().fold(false, |acc, v| acc | v.is_nan());
    for oy in 0..g.oh() {
        let r0 = 2 * oy * w;
        let top = &xs[r0..r0 + 2 * ow];
        let bottom = &xs[r0 + w..r0 + w + 2 * ow];
        let yo = &mut ys[oy * ow..(oy + 1) * ow];
        let ao = &mut args[oy * ow..(oy + 1) * ow];
        if !has_nan {
            for (ox, ((t, b), (y, a))) in top
                .chunks_exact(2)
                .zip(bottom.chunks_exact(2))
                .zip(yo.iter_mut().zip(ao.iter_mut()))
                .enumerate()
            {
                let c = r0 + 2 * ox;
                let (m1, i1) = if t[1] > t[0] {
                    (t[1], c + 1)
                } else {
                    (t[0], c)
                };
                let (m2, i2) = if b[1] > b[0] {
                    (b[1], c + w + 1)
                } else {
                    (b[0], c + w)
                };
                let (m, i) = if m2 > m1 { (m2, i2) } else { (m1, i1) };
                *y = m;
                *a = i as u32;
            }
            continue;
        }
        for ox in 0..ow {
            let c = 2 * ox;
            let cand = [
                (top[c], r0 + c),
                (top[c + 1], r0 + c + 1),
                (bottom[c], r0 + w + c),
                (bottom[c + 1], r0 + w + c + 1),
            ];
            let mut best = cand[0];
            for &(v, at) in &cand[1..] {
                // NaN wins and sticks, as in PyTorch.
                if (v > best.0 || v.is_nan()) && !best.0.is_nan() {
                    best = (v, at);
                }
            }
            yo[ox] = best.0;
            ao[ox] = best.1 as u32;
        }
    }
}

/// Max-pooling backward: each upstream gradient goes to its window's maximum.
pub(crate) fn max_backward<T: Float>(g: &PoolGeom, dy: &[T], arg: &[u32], dx: &mut [T]) {
    let (ip, op) = (g.in_plane(), g.out_plane());
    let plane = |((dxs, dys), args): ((&mut [T], &[T]), &[u32])| {
        for (&d, &a) in dys.iter().zip(args) {
            dxs[a as usize] += d;
        }
    };
    if g.parallel() {
        dx.par_chunks_mut(ip)
            .zip(dy.par_chunks(op))
            .zip(arg.par_chunks(op))
            .for_each(plane);
    } else {
        dx.chunks_mut(ip)
            .zip(dy.chunks(op))
            .zip(arg.chunks(op))
            .for_each(plane);
    }
}

fn divisor(g: &PoolGeom, (r0, r1): (usize, usize), (c0, c1): (usize, usize)) -> usize {
    g.divisor.unwrap_or((r1 - r0) * (c1 - c0)).max(1)
}

/// Average pooling: `y` [planes, oh, ow].
pub(crate) fn avg_forward<T: Float>(g: &PoolGeom, x: &[T], y: &mut [T]) {
    let (ip, op) = (g.in_plane(), g.out_plane());
    let plane = |(xs, ys): (&[T], &mut [T])| {
        let mut o = 0;
        for &rr in &g.rows {
            for &cc in &g.cols {
                let mut s = T::ZERO;
                for r in rr.0..rr.1 {
                    for v in &xs[r * g.w + cc.0..r * g.w + cc.1] {
                        s += *v;
                    }
                }
                ys[o] = s / T::from_usize(divisor(g, rr, cc));
                o += 1;
            }
        }
    };
    if g.parallel() {
        x.par_chunks(ip).zip(y.par_chunks_mut(op)).for_each(plane);
    } else {
        x.chunks(ip).zip(y.chunks_mut(op)).for_each(plane);
    }
}

/// Average-pooling backward: each upstream gradient is spread evenly over its window.
pub(crate) fn avg_backward<T: Float>(g: &PoolGeom, dy: &[T], dx: &mut [T]) {
    let (ip, op) = (g.in_plane(), g.out_plane());
    let plane = |(dxs, dys): (&mut [T], &[T])| {
        let mut o = 0;
        for &rr in &g.rows {
            for &cc in &g.cols {
                let d = dys[o] / T::from_usize(divisor(g, rr, cc));
                for r in rr.0..rr.1 {
                    for v in &mut dxs[r * g.w + cc.0..r * g.w + cc.1] {
                        *v += d;
                    }
                }
                o += 1;
            }
        }
    };
    if g.parallel() {
        dx.par_chunks_mut(ip).zip(dy.par_chunks(op)).for_each(plane);
    } else {
        dx.chunks_mut(ip).zip(dy.chunks(op)).for_each(plane);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adaptive_windows_match_pytorch() {
        assert_eq!(PoolGeom::adaptive_axis(5, 3), [(0, 2), (1, 4), (3, 5)]);
        assert_eq!(PoolGeom::adaptive_axis(4, 1), [(0, 4)]);
        assert_eq!(PoolGeom::adaptive_axis(2, 3), [(0, 1), (0, 2), (1, 2)]);
        assert_eq!(
            PoolGeom::regular_axis(5, 3, 2, 1, 3),
            [(0, 2), (1, 4), (3, 5)]
        );
    }

    #[test]
    fn the_two_by_two_path_matches_the_definition() {
        let mut rng = neurite_tensor::Rng::new(4);
        let (planes, h, w) = (3, 6, 5);
        let g = PoolGeom {
            planes,
            h,
            w,
            rows: PoolGeom::regular_axis(h, 2, 2, 0, 3),
            cols: PoolGeom::regular_axis(w, 2, 2, 0, 2),
            divisor: Some(4),
        };
        assert!(g.is_pairs());
        let mut x: Vec<f64> = (0..planes * h * w).map(|_| rng.normal()).collect();
        x[7] = f64::NAN;
        let mut y = vec![0.0; planes * 6];
        let mut arg = vec![0u32; planes * 6];
        max_forward(&g, &x, &mut y, &mut arg);
        for p in 0..planes {
            for oy in 0..3 {
                for ox in 0..2 {
                    let o = p * 6 + oy * 2 + ox;
                    let win: Vec<usize> = [(0, 0), (0, 1), (1, 0), (1, 1)]
                        .iter()
                        .map(|(dy, dx)| (2 * oy + dy) * w + 2 * ox + dx)
                        .collect();
                    let xs = &x[p * h * w..];
                    let nan = win.iter().find(|&&i| xs[i].is_nan());
                    let want = nan.copied().unwrap_or_else(|| {
                        *win.iter()
                            .max_by(|&&a, &&b| xs[a].total_cmp(&xs[b]))
                            .unwrap()
                    });
                    assert_eq!(arg[o] as usize, want, "plane {p} ({oy}, {ox})");
                    assert!(y[o] == xs[want] || (y[o].is_nan() && xs[want].is_nan()));
                }
            }
        }
    }

    #[test]
    fn max_and_avg_pool_a_small_plane() {
        let g = PoolGeom {
            planes: 1,
            h: 2,
            w: 4,
            rows: vec![(0, 2)],
            cols: vec![(0, 2), (2, 4)],
            divisor: None,
        };
        let x = [1.0, 5.0, -1.0, 0.0, 2.0, 3.0, -2.0, f64::NAN];
        let mut y = [0.0; 2];
        let mut arg = [0u32; 2];
        max_forward(&g, &x, &mut y, &mut arg);
        assert_eq!(y[0], 5.0);
        assert!(y[1].is_nan());
        assert_eq!(arg, [1, 7]);
        let mut dx = [0.0; 8];
        max_backward(&g, &[1.0, 2.0], &arg, &mut dx);
        assert_eq!(dx, [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0]);
        let x = [1.0, 5.0, -1.0, 0.0, 2.0, 3.0, -2.0, 7.0];
        avg_forward(&g, &x, &mut y);
        assert_eq!(y, [2.75, 1.0]);
        let mut dx = [0.0; 8];
        avg_backward(&g, &[4.0, 8.0], &mut dx);
        assert_eq!(dx, [1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0]);
    }
}

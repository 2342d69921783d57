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
    fn parallel(&self) -> bool {
        self.planes > 1 && self.planes * self.in_plane() >= PAR_MIN
    }
}

/// Max pooling: `y` [planes, oh, ow] and the plane-local index of each maximum (NaN wins,
/// as in PyTorch), kept for backward.
pub(crate) fn max_forward<T: Float>(g: &PoolGeom, x: &[T], y: &mut [T], arg: &mut [u32]) {
    let (ip, op) = (g.in_plane(), g.out_plane());
    let plane = |((xs, ys), args): ((&[T], &mut [T]), &mut [u32])| {
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

//! Pooling kernels in 1-D and 2-D: max pooling (with argmax indices for backward), average
//! pooling, adaptive average and max pooling, and their backward kernels.
//!
//! Inputs are `[N, C, L]` (1-D) or `[N, C, H, W]` (2-D); windows are [`Window`](crate::conv::Window)s (kernel,
//! stride, padding, dilation, ceil mode — PyTorch's output sizes, see the `Window` docs). Every
//! output position must see at least one real input element: a window lying wholly in the
//! padding is a typed error (PyTorch returns −∞ with an index outside the input there). Global
//! pooling is a window as large as the input (`Window2d::new([h, w])`) or
//! `adaptive_avg_pool2d(x, [1, 1])`.
//!
//! Work is split over `(image, channel)` planes with rayon above a size threshold; each plane is
//! computed by one thread in a fixed order, so results are identical for any thread count.

use crate::conv::{
    checked_len, for_each_plane, lift, rank, valid_range, Plane, Window1d, Window2d,
};
use rayon::prelude::*;

use crate::error::{Result, TensorError};
use crate::float::Float;
use crate::parallel::PAR_THRESHOLD;
use crate::simd;
use crate::tensor::Tensor;

mod adaptive;
mod pairs;
pub use adaptive::{
    adaptive_avg_pool1d, adaptive_avg_pool1d_backward, adaptive_avg_pool2d,
    adaptive_avg_pool2d_backward, adaptive_max_pool1d, adaptive_max_pool2d,
};
use pairs::{max_pairs, max_pairs_values};

/// The result of max pooling: the maxima and where they came from.
#[derive(Debug, Clone, PartialEq)]
pub struct MaxPoolOutput<T: Float> {
    /// The maxima, `[N, C, OH, OW]` (or `[N, C, OL]` in 1-D).
    pub values: Tensor<T>,
    /// For every output element (row-major, same order as `values`), the flat index into its
    /// input plane (`ih·W + iw`, or `il` in 1-D) of the maximum: the local gradient is 1 there.
    pub argmax: Vec<usize>,
}

/// How average pooling counts padded positions in the divisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PadCount {
    /// Divide by the number of window taps inside the padded input, padding included
    /// (PyTorch's `count_include_pad=True`): the full window size, except for a ceil-mode window
    /// overhanging the padded input, whose overhang does not count (as in PyTorch).
    #[default]
    Include,
    /// Divide by the number of real input elements under the window.
    Exclude,
}

/// The taps `k` in `0..kernel` of output position `o` that fall on the input, per position.
fn taps(
    out: usize,
    kernel: usize,
    stride: usize,
    dil: usize,
    pad: usize,
    len: usize,
) -> Vec<(usize, usize)> {
    (0..out)
        .map(|o| valid_range(kernel, dil, o * stride, pad, len))
        .collect()
}

/// A checked pooling plan: plane geometry and per-position tap ranges along each axis.
struct Plan {
    g: Plane,
    rows: Vec<(usize, usize)>,
    cols: Vec<(usize, usize)>,
    /// Per output row / column, the taps inside the padded input ([`PadCount::Include`]'s
    /// divisor factors: the kernel size but for ceil mode's overhanging last window).
    rows_padded: Vec<usize>,
    cols_padded: Vec<usize>,
    out_shape: Vec<usize>,
}

impl Plan {
    /// `padded`: the plane's `[h, w]` with padding before and after (fits: the window's
    /// output size was computed from it).
    fn new(
        op: &'static str,
        input_shape: &[usize],
        g: Plane,
        padded: [usize; 2],
        out_shape: Vec<usize>,
    ) -> Result<Self> {
        checked_len(op, &out_shape)?;
        let rows = taps(g.oh, g.kh, g.sh, g.dh, g.ph, g.h);
        let cols = taps(g.ow, g.kw, g.sw, g.dw, g.pw, g.w);
        let inside = |t: Vec<(usize, usize)>| t.into_iter().map(|(lo, hi)| hi - lo).collect();
        let rows_padded = inside(taps(g.oh, g.kh, g.sh, g.dh, 0, padded[0]));
        let cols_padded = inside(taps(g.ow, g.kw, g.sw, g.dw, 0, padded[1]));
        if let Some(axis) = [&rows, &cols]
            .iter()
            .position(|t| t.iter().any(|&(lo, hi)| lo == hi))
        {
            return Err(TensorError::invalid(
                op,
                format!(
                    "input {input_shape:?}: a window lies wholly in the padding along {} \
                     (kernel {}×{}, padding {}, {}, dilation {}×{}); reduce the padding or the dilation",
                    if axis == 0 { "the height" } else { "the width" },
                    g.kh,
                    g.kw,
                    g.ph,
                    g.pw,
                    g.dh,
                    g.dw
                ),
            ));
        }
        Ok(Plan {
            g,
            rows,
            cols,
            rows_padded,
            cols_padded,
            out_shape,
        })
    }

    fn for_2d(op: &'static str, input_shape: &[usize], win: &Window2d) -> Result<Self> {
        let shape: [usize; 4] = rank(
            op,
            "a 4-D input [batch, channels, height, width]",
            input_shape,
        )?;
        let [n, c, h, w] = shape;
        let out = win.output_size_for(op, input_shape)?;
        // Cannot overflow: `output_size_for` added the same numbers.
        let padded = |a: usize, n: usize| n + win.pad_before[a] + win.pad_after[a];
        Self::new(
            op,
            input_shape,
            Plane::new([h, w], out, win),
            [padded(0, h), padded(1, w)],
            vec![n, c, out[0], out[1]],
        )
    }

    fn for_1d(op: &'static str, input_shape: &[usize], win: &Window1d) -> Result<Self> {
        let shape: [usize; 3] = rank(op, "a 3-D input [batch, channels, length]", input_shape)?;
        let [n, c, l] = shape;
        let out = win.output_size_for(op, input_shape)?;
        Self::new(
            op,
            input_shape,
            Plane::new([1, l], [1, out[0]], &lift(win)),
            [1, l + win.pad_before[0] + win.pad_after[0]], // as in `output_size_for`
            vec![n, c, out[0]],
        )
    }

    /// For windows (2i, 2i + 2) along both axes — 2×2, stride 2, no padding, no dilation, the
    /// [`max_pairs`] fast path — the number of full windows per axis; in ceil mode the last
    /// window of an odd axis has one tap and is left to the generic loop.
    fn pairs(&self) -> Option<[usize; 2]> {
        let g = &self.g;
        let full = |v: &[(usize, usize)]| match v {
            [head @ .., (0, 1)] if head.iter().all(|&t| t == (0, 2)) => Some(head.len()),
            _ => v.iter().all(|&t| t == (0, 2)).then_some(v.len()),
        };
        let geometry = (g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw);
        if geometry != (2, 2, 2, 2, 0, 0, 1, 1) {
            return None;
        }
        Some([full(&self.rows)?, full(&self.cols)?])
    }

    /// Position of tap `k` of output `o` along an axis.
    #[inline]
    fn pos(o: usize, k: usize, stride: usize, dil: usize, pad: usize) -> usize {
        o * stride + k * dil - pad
    }

    /// The average's divisor as factors per output row and per output column (the divisor of
    /// position (y, x) is their product): the taps `pad` counts.
    fn divisors(&self, pad: PadCount) -> (Vec<usize>, Vec<usize>) {
        let real = |t: &[(usize, usize)]| t.iter().map(|&(lo, hi)| hi - lo).collect();
        match pad {
            PadCount::Include => (self.rows_padded.clone(), self.cols_padded.clone()),
            PadCount::Exclude => (real(&self.rows), real(&self.cols)),
        }
    }
}

/// True when `planes` planes of `work` elements each are worth splitting over threads (the
/// rule of [`for_each_plane`]).
fn split_planes(planes: usize, work: usize) -> bool {
    planes >= 2 && planes.saturating_mul(work) >= PAR_THRESHOLD && rayon::current_num_threads() >= 2
}

fn max_pool_run<T: Float>(input: &Tensor<T>, p: &Plan) -> Result<MaxPoolOutput<T>> {
    let (values, argmax) = max_pool_plan(input, p, true)?;
    Ok(MaxPoolOutput { values, argmax })
}

/// Max pooling by plan: the maxima, and with `with_argmax` their in-plane indices (empty
/// without: a forward pass nobody differentiates needs neither the index writes nor the
/// tie-keeping comparisons that produce them).
fn max_pool_plan<T: Float>(
    input: &Tensor<T>,
    p: &Plan,
    with_argmax: bool,
) -> Result<(Tensor<T>, Vec<usize>)> {
    let g = &p.g;
    let x = input.contiguous();
    let src = x.as_slice().expect("contiguous"); // ok: made contiguous above
    let n_out: usize = p.out_shape.iter().product();
    // Zeroed in parallel (see `parallel::zeroed`); every element is overwritten below.
    let mut values: Vec<T> = crate::parallel::zeroed(n_out);
    let mut argmax: Vec<usize> = if with_argmax {
        crate::parallel::zeroed(n_out)
    } else {
        Vec::new()
    };
    let (inp, out) = (g.in_len(), g.out_len());
    if out == 0 {
        return Ok((Tensor::from_vec(values, &p.out_shape)?, argmax));
    }
    let pairs = p.pairs();
    // The maximum of window (y, x) and its in-plane index.
    let window = |xs: &[T], y: usize, x: usize| {
        let ((r_lo, r_hi), (c_lo, c_hi)) = (p.rows[y], p.cols[x]);
        let mut best = usize::MAX;
        let mut best_v = T::NEG_INFINITY;
        for ki in r_lo..r_hi {
            let row = Plan::pos(y, ki, g.sh, g.dh, g.ph) * g.w;
            for kj in c_lo..c_hi {
                let i = row + Plan::pos(x, kj, g.sw, g.dw, g.pw);
                let v = xs[i];
                // First maximum wins; a NaN is never hidden.
                if best == usize::MAX || (v > best_v || v.is_nan()) && !best_v.is_nan() {
                    best = i;
                    best_v = v;
                }
            }
        }
        (best_v, best)
    };
    // One plane: its maxima and (unless `args` is empty: values only) their in-plane indices.
    // `scratch`: the 2×2 path's buffers, kept from one plane to the next of a thread's run.
    let plane_body = |k: usize, vs: &mut [T], args: &mut [usize], scratch: &mut Option<_>| {
        let xs = &src[k * inp..(k + 1) * inp];
        // The fast path's windows, then the rest (all of them without it).
        let [fh, fw] = match pairs {
            Some(full) => {
                if args.is_empty() {
                    max_pairs_values(g, full, xs, vs, scratch);
                } else {
                    max_pairs(g, full, xs, vs, args, scratch);
                }
                full
            }
            None => [0, 0],
        };
        let mut put = |y: usize, x: usize| {
            let (v, i) = window(xs, y, x);
            vs[y * g.ow + x] = v;
            if let Some(a) = args.get_mut(y * g.ow + x) {
                *a = i;
            }
        };
        if fw < g.ow {
            for y in 0..fh {
                for x in fw..g.ow {
                    put(y, x);
                }
            }
        }
        for y in fh..g.oh {
            for x in 0..g.ow {
                put(y, x);
            }
        }
    };
    // At the caller's SIMD level on every thread (`max_pairs` compiles for it).
    let level = simd::level();
    let plane = |k: usize, vs: &mut [T], args: &mut [usize], scratch: &mut Option<_>| {
        let _simd = simd::force_level(level);
        plane_body(k, vs, args, scratch)
    };
    let parallel = split_planes(n_out / out, out * g.kh * g.kw);
    match (parallel, with_argmax) {
        (true, true) => values
            .par_chunks_mut(out)
            .zip(argmax.par_chunks_mut(out))
            .enumerate()
            .for_each_init(|| None, |s, (k, (vs, a))| plane(k, vs, a, s)),
        (true, false) => values
            .par_chunks_mut(out)
            .enumerate()
            .for_each_init(|| None, |s, (k, vs)| plane(k, vs, &mut [], s)),
        (false, true) => {
            let mut s = None;
            values
                .chunks_mut(out)
                .zip(argmax.chunks_mut(out))
                .enumerate()
                .for_each(|(k, (vs, a))| plane(k, vs, a, &mut s))
        }
        (false, false) => {
            let mut s = None;
            values
                .chunks_mut(out)
                .enumerate()
                .for_each(|(k, vs)| plane(k, vs, &mut [], &mut s))
        }
    }
    Ok((Tensor::from_vec(values, &p.out_shape)?, argmax))
}

/// Max pooling in 2-D: `[N, C, H, W]` → `[N, C, OH, OW]` with argmax indices. Padding acts as
/// −∞ (never selected); ties keep the first maximum in row-major window order; NaN propagates.
///
/// ```
/// use neurite_tensor::{pool::max_pool2d, conv::Window2d, Tensor};
/// let x = Tensor::<f32>::from_vec(vec![1.0, 5.0, 2.0, 0.0, 3.0, 4.0, 8.0, 7.0,
///                                      6.0, 1.0, 0.0, 9.0, 2.0, 2.0, 3.0, 1.0], &[1, 1, 4, 4])?;
/// let out = max_pool2d(&x, &Window2d::pool([2, 2]))?;
/// assert_eq!(out.values.to_vec(), vec![5.0, 8.0, 6.0, 9.0]);
/// assert_eq!(out.argmax, vec![1, 6, 8, 11]);                    // flat indices into the 4×4 plane
/// # Ok::<(), neurite_tensor::TensorError>(())
/// ```
pub fn max_pool2d<T: Float>(input: &Tensor<T>, window: &Window2d) -> Result<MaxPoolOutput<T>> {
    let op = "max_pool2d";
    let p = Plan::for_2d(op, input.shape(), window)?;
    max_pool_run(input, &p)
}

/// Max pooling in 1-D: `[N, C, L]` → `[N, C, OL]` with argmax indices into each length-`L` row.
pub fn max_pool1d<T: Float>(input: &Tensor<T>, window: &Window1d) -> Result<MaxPoolOutput<T>> {
    let op = "max_pool1d";
    let p = Plan::for_1d(op, input.shape(), window)?;
    max_pool_run(input, &p)
}

/// The maxima of [`max_pool2d`] without their argmax indices, for a forward pass that is not
/// differentiated (inference, or an input that needs no gradient): the same values (a window
/// holding a NaN gives a NaN), with less work and memory traffic.
///
/// ```
/// use neurite_tensor::{pool::{max_pool2d, max_pool2d_values}, conv::Window2d, Tensor};
/// let x = Tensor::<f32>::from_vec((0..16).map(|v| (v * 7 % 16) as f32).collect(), &[1, 1, 4, 4])?;
/// let win = Window2d::pool([2, 2]);
/// assert_eq!(max_pool2d_values(&x, &win)?.to_vec(), max_pool2d(&x, &win)?.values.to_vec());
/// # Ok::<(), neurite_tensor::TensorError>(())
/// ```
pub fn max_pool2d_values<T: Float>(input: &Tensor<T>, window: &Window2d) -> Result<Tensor<T>> {
    let p = Plan::for_2d("max_pool2d", input.shape(), window)?;
    Ok(max_pool_plan(input, &p, false)?.0)
}

/// The maxima of [`max_pool1d`] without their argmax indices (see [`max_pool2d_values`]).
pub fn max_pool1d_values<T: Float>(input: &Tensor<T>, window: &Window1d) -> Result<Tensor<T>> {
    let p = Plan::for_1d("max_pool1d", input.shape(), window)?;
    Ok(max_pool_plan(input, &p, false)?.0)
}

fn max_pool_backward_run<T: Float>(
    op: &'static str,
    upstream_grad: &Tensor<T>,
    argmax: &[usize],
    input_shape: &[usize],
    expected: &'static str,
) -> Result<Tensor<T>> {
    let g_shape = upstream_grad.shape();
    if g_shape.len() != input_shape.len() || g_shape[..2] != input_shape[..2] {
        return Err(TensorError::shape_detail(
            op,
            g_shape,
            input_shape,
            format!("the upstream gradient must be {expected} with the input's batch and channels"),
        ));
    }
    if argmax.len() != upstream_grad.len() {
        return Err(TensorError::BadLength {
            op,
            len: argmax.len(),
            shape: g_shape.to_vec(),
        });
    }
    let total = checked_len(op, input_shape)?;
    let plane_in: usize = input_shape[2..].iter().product(); // ≤ total: cannot overflow
    if let Some(&bad) = argmax.iter().find(|&&i| i >= plane_in) {
        return Err(TensorError::IndexOutOfRange {
            op,
            index: bad,
            bound: plane_in,
        });
    }
    let plane_out: usize = g_shape[2..].iter().product();
    let gy = upstream_grad.contiguous();
    let src = gy.as_slice().expect("contiguous"); // ok: made contiguous above

    // Zeroed in parallel (a serial memset of dx was 1–4% of W3's step at 2 threads).
    let mut dx = crate::parallel::zeroed(total);
    if plane_in == 0 || plane_out == 0 {
        return Tensor::from_vec(dx, input_shape);
    }
    // Each plane of dx receives its own plane's upstream gradients at their argmax.
    let plane_body = |(k, dxp): (usize, &mut [T])| {
        let range = k * plane_out..(k + 1) * plane_out;
        for (&gv, &i) in src[range.clone()].iter().zip(&argmax[range]) {
            dxp[i] += gv;
        }
    };
    let level = simd::level();
    let plane = |a: (usize, &mut [T])| simd::run(level, || plane_body(a));
    if split_planes(total / plane_in, plane_out) {
        dx.par_chunks_mut(plane_in).enumerate().for_each(plane);
    } else {
        dx.chunks_mut(plane_in).enumerate().for_each(plane);
    }
    Tensor::from_vec(dx, input_shape)
}

/// Backward of [`max_pool2d`]: scatters the upstream gradient `[N, C, OH, OW]` onto the argmax
/// positions of an input of `input_shape` `[N, C, H, W]` (adding where windows overlap). The
/// adjoint of gathering the input at `argmax`.
///
/// ```
/// use neurite_tensor::{pool::{max_pool2d, max_pool2d_backward}, conv::Window2d, Tensor};
/// let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, 4.0, 3.0], &[1, 1, 2, 2])?;
/// let out = max_pool2d(&x, &Window2d::pool([2, 2]))?;
/// let dx = max_pool2d_backward(&Tensor::<f64>::ones(&[1, 1, 1, 1]), &out.argmax, [1, 1, 2, 2])?;
/// assert_eq!(dx.to_vec(), vec![0.0, 0.0, 1.0, 0.0]);
/// # Ok::<(), neurite_tensor::TensorError>(())
/// ```
pub fn max_pool2d_backward<T: Float>(
    upstream_grad: &Tensor<T>,
    argmax: &[usize],
    input_shape: [usize; 4],
) -> Result<Tensor<T>> {
    max_pool_backward_run(
        "max_pool2d_backward",
        upstream_grad,
        argmax,
        &input_shape,
        "[N, C, OH, OW]",
    )
}

/// Backward of [`max_pool1d`]: scatters the upstream gradient `[N, C, OL]` onto the argmax
/// positions of an input of `input_shape` `[N, C, L]`.
pub fn max_pool1d_backward<T: Float>(
    upstream_grad: &Tensor<T>,
    argmax: &[usize],
    input_shape: [usize; 3],
) -> Result<Tensor<T>> {
    max_pool_backward_run(
        "max_pool1d_backward",
        upstream_grad,
        argmax,
        &input_shape,
        "[N, C, OL]",
    )
}

fn avg_pool_run<T: Float>(input: &Tensor<T>, p: &Plan, pad: PadCount) -> Result<Tensor<T>> {
    let g = &p.g;
    let x = input.contiguous();
    let src = x.as_slice().expect("contiguous"); // ok: made contiguous above
    let mut out = vec![T::ZERO; p.out_shape.iter().product()];
    let work = g.out_len() * g.kh * g.kw;
    let (rdiv, cdiv) = p.divisors(pad);
    for_each_plane(
        src,
        g.in_len(),
        &mut out,
        g.out_len(),
        work,
        |plane, dst| {
            for (y, (&(r_lo, r_hi), &rd)) in p.rows.iter().zip(&rdiv).enumerate() {
                for (x, (&(c_lo, c_hi), &cd)) in p.cols.iter().zip(&cdiv).enumerate() {
                    let mut s = T::ZERO;
                    for ki in r_lo..r_hi {
                        let row = Plan::pos(y, ki, g.sh, g.dh, g.ph) * g.w;
                        for kj in c_lo..c_hi {
                            s += plane[row + Plan::pos(x, kj, g.sw, g.dw, g.pw)];
                        }
                    }
                    dst[y * g.ow + x] = s / T::from_usize(rd * cd);
                }
            }
        },
    );
    Tensor::from_vec(out, &p.out_shape)
}

fn avg_pool_backward_run<T: Float>(
    op: &'static str,
    upstream_grad: &Tensor<T>,
    input_shape: &[usize],
    p: &Plan,
    pad: PadCount,
) -> Result<Tensor<T>> {
    if upstream_grad.shape() != p.out_shape.as_slice() {
        return Err(TensorError::shape_detail(
            op,
            upstream_grad.shape(),
            &p.out_shape,
            format!(
                "the upstream gradient must have the pooled shape of the input {input_shape:?}"
            ),
        ));
    }
    let g = &p.g;
    let gy = upstream_grad.contiguous();
    let src = gy.as_slice().expect("contiguous"); // ok: made contiguous above
    let mut dx = vec![T::ZERO; checked_len(op, input_shape)?];
    let work = g.out_len() * g.kh * g.kw;
    let (rdiv, cdiv) = p.divisors(pad);
    for_each_plane(src, g.out_len(), &mut dx, g.in_len(), work, |gp, dxp| {
        for (y, (&(r_lo, r_hi), &rd)) in p.rows.iter().zip(&rdiv).enumerate() {
            for (x, (&(c_lo, c_hi), &cd)) in p.cols.iter().zip(&cdiv).enumerate() {
                let share = gp[y * g.ow + x] / T::from_usize(rd * cd);
                for ki in r_lo..r_hi {
                    let row = Plan::pos(y, ki, g.sh, g.dh, g.ph) * g.w;
                    for kj in c_lo..c_hi {
                        dxp[row + Plan::pos(x, kj, g.sw, g.dw, g.pw)] += share;
                    }
                }
            }
        }
    });
    Tensor::from_vec(dx, input_shape)
}

/// Average pooling in 2-D: `[N, C, H, W]` → `[N, C, OH, OW]`; padding counts as zeros, and
/// `pad` chooses whether the divisor counts it ([`PadCount::Include`], PyTorch's default) or not.
///
/// ```
/// use neurite_tensor::{pool::{avg_pool2d, PadCount}, conv::Window2d, Tensor};
/// let x = Tensor::<f32>::ones(&[1, 1, 2, 2]);
/// let win = Window2d::pool([2, 2]).with_padding([1, 1]);      // 2×2 windows over a 4×4 padded plane
/// assert_eq!(avg_pool2d(&x, &win, PadCount::Include)?.to_vec(), vec![0.25; 4]);
/// assert_eq!(avg_pool2d(&x, &win, PadCount::Exclude)?.to_vec(), vec![1.0; 4]);
/// # Ok::<(), neurite_tensor::TensorError>(())
/// ```
pub fn avg_pool2d<T: Float>(
    input: &Tensor<T>,
    window: &Window2d,
    pad: PadCount,
) -> Result<Tensor<T>> {
    let p = Plan::for_2d("avg_pool2d", input.shape(), window)?;
    avg_pool_run(input, &p, pad)
}

/// Backward of [`avg_pool2d`]: spreads each upstream gradient `[N, C, OH, OW]` evenly (÷ the
/// same divisor) over the real input positions of its window, giving `[N, C, H, W]`. The
/// adjoint of the forward map.
pub fn avg_pool2d_backward<T: Float>(
    upstream_grad: &Tensor<T>,
    input_shape: [usize; 4],
    window: &Window2d,
    pad: PadCount,
) -> Result<Tensor<T>> {
    let op = "avg_pool2d_backward";
    let p = Plan::for_2d(op, &input_shape, window)?;
    avg_pool_backward_run(op, upstream_grad, &input_shape, &p, pad)
}

/// Average pooling in 1-D: `[N, C, L]` → `[N, C, OL]` (see [`avg_pool2d`]).
pub fn avg_pool1d<T: Float>(
    input: &Tensor<T>,
    window: &Window1d,
    pad: PadCount,
) -> Result<Tensor<T>> {
    let p = Plan::for_1d("avg_pool1d", input.shape(), window)?;
    avg_pool_run(input, &p, pad)
}

/// Backward of [`avg_pool1d`]: upstream gradient `[N, C, OL]` → `[N, C, L]`.
pub fn avg_pool1d_backward<T: Float>(
    upstream_grad: &Tensor<T>,
    input_shape: [usize; 3],
    window: &Window1d,
    pad: PadCount,
) -> Result<Tensor<T>> {
    let op = "avg_pool1d_backward";
    let p = Plan::for_1d(op, &input_shape, window)?;
    avg_pool_backward_run(op, upstream_grad, &input_shape, &p, pad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_in_padding_are_rejected() {
        let x = Tensor::<f32>::zeros(&[1, 1, 2, 2]);
        let win = Window2d::pool([1, 1]).with_padding([1, 0]);
        let e = max_pool2d(&x, &win).unwrap_err();
        assert!(e.to_string().contains("padding"), "{e}");
        assert!(avg_pool2d(&x, &win, PadCount::Include).is_err());
    }

    #[test]
    fn bad_shapes_are_typed_errors() {
        let x = Tensor::<f32>::zeros(&[1, 1, 4]);
        assert!(max_pool2d(&x, &Window2d::pool([2, 2])).is_err());
        assert!(max_pool1d(&x, &Window1d::pool([5])).is_err());
        assert!(
            max_pool1d_backward(&Tensor::<f32>::zeros(&[1, 1, 2]), &[0, 9], [1, 1, 4]).is_err()
        );
        assert!(max_pool1d_backward(&Tensor::<f32>::zeros(&[1, 1, 2]), &[0], [1, 1, 4]).is_err());
        assert!(
            max_pool1d_backward(&Tensor::<f32>::zeros(&[1, 2, 2]), &[0; 4], [1, 1, 4]).is_err()
        );
        assert!(avg_pool1d_backward(
            &Tensor::<f32>::zeros(&[1, 1, 3]),
            [1, 1, 4],
            &Window1d::pool([2]),
            PadCount::Include
        )
        .is_err());
        assert!(adaptive_avg_pool1d(&x, 0).is_err());
        assert!(adaptive_avg_pool1d(&Tensor::<f32>::zeros(&[1, 1, 0]), 2).is_err());
        assert!(
            adaptive_avg_pool2d_backward(&Tensor::<f32>::zeros(&[1, 1, 2]), [1, 1, 4, 4]).is_err()
        );
    }
}

//! Adaptive pooling: PyTorch's bins (start ⌊i·n/out⌋, end ⌈(i+1)·n/out⌉) turned into a pooling
//! plan, average and max, forward and backward.

use super::*;

/// Adaptive bins: output `o` of `out` averages input `floor(o·n/out) .. ceil((o+1)·n/out)`.
fn adaptive_bins(n: usize, out: usize) -> Vec<(usize, usize)> {
    (0..out)
        // In u128: o·n may overflow usize for a large requested output size.
        .map(|o| {
            let (o, n, out) = (o as u128, n as u128, out as u128);
            ((o * n / out) as usize, ((o + 1) * n).div_ceil(out) as usize)
        })
        .collect()
}

/// A pooling plan whose windows are the adaptive bins (tap ranges are input ranges directly).
fn adaptive_plan(
    op: &'static str,
    input_shape: &[usize],
    hw: [usize; 2],
    out: [usize; 2],
) -> Result<Plan> {
    if out.contains(&0) || hw.contains(&0) {
        return Err(TensorError::shape_detail(
            op,
            input_shape,
            &out,
            "adaptive pooling needs a non-empty input plane and output size",
        ));
    }
    let mut out_shape = input_shape[..2].to_vec();
    out_shape.extend(if input_shape.len() == 3 {
        &out[1..]
    } else {
        &out[..]
    });
    checked_len(op, &out_shape)?;
    // Every bin is a run of input positions: a window of stride 0, tap k at position start + k.
    let g = Plane {
        h: hw[0],
        w: hw[1],
        oh: out[0],
        ow: out[1],
        kh: 1,
        kw: 1,
        sh: 0,
        sw: 0,
        ph: 0,
        pw: 0,
        dh: 1,
        dw: 1,
    };
    let (rows, cols) = (adaptive_bins(hw[0], out[0]), adaptive_bins(hw[1], out[1]));
    // No padding: every position of a bin is inside the input.
    let len = |b: &[(usize, usize)]| b.iter().map(|&(lo, hi)| hi - lo).collect();
    Ok(Plan {
        g,
        rows_padded: len(&rows),
        cols_padded: len(&cols),
        rows,
        cols,
        out_shape,
    })
}

fn adaptive_shape_2d(op: &'static str, shape: &[usize]) -> Result<[usize; 2]> {
    let [_, _, h, w] = rank(op, "a 4-D input [batch, channels, height, width]", shape)?;
    Ok([h, w])
}

fn adaptive_shape_1d(op: &'static str, shape: &[usize]) -> Result<[usize; 2]> {
    let [_, _, l] = rank(op, "a 3-D input [batch, channels, length]", shape)?;
    Ok([1, l])
}

fn adaptive_run<T: Float>(input: &Tensor<T>, p: &Plan) -> Result<Tensor<T>> {
    let g = &p.g;
    let x = input.contiguous();
    let src = x.as_slice().expect("contiguous"); // ok: made contiguous above
    let mut out = vec![T::ZERO; p.out_shape.iter().product()];
    for_each_plane(
        src,
        g.in_len(),
        &mut out,
        g.out_len(),
        g.in_len(),
        |plane, dst| {
            for (y, &(r0, r1)) in p.rows.iter().enumerate() {
                for (x, &(c0, c1)) in p.cols.iter().enumerate() {
                    let mut s = T::ZERO;
                    for r in r0..r1 {
                        s += plane[r * g.w + c0..r * g.w + c1].iter().copied().sum::<T>();
                    }
                    dst[y * g.ow + x] = s / T::from_usize((r1 - r0) * (c1 - c0));
                }
            }
        },
    );
    Tensor::from_vec(out, &p.out_shape)
}

fn adaptive_backward_run<T: Float>(
    op: &'static str,
    upstream_grad: &Tensor<T>,
    input_shape: &[usize],
    p: &Plan,
) -> Result<Tensor<T>> {
    let g = &p.g;
    let gy = upstream_grad.contiguous();
    let src = gy.as_slice().expect("contiguous"); // ok: made contiguous above
    let mut dx = vec![T::ZERO; checked_len(op, input_shape)?];
    for_each_plane(
        src,
        g.out_len(),
        &mut dx,
        g.in_len(),
        g.in_len(),
        |gp, dxp| {
            for (y, &(r0, r1)) in p.rows.iter().enumerate() {
                for (x, &(c0, c1)) in p.cols.iter().enumerate() {
                    let share = gp[y * g.ow + x] / T::from_usize((r1 - r0) * (c1 - c0));
                    for r in r0..r1 {
                        dxp[r * g.w + c0..r * g.w + c1]
                            .iter_mut()
                            .for_each(|d| *d += share);
                    }
                }
            }
        },
    );
    Tensor::from_vec(dx, input_shape)
}

fn check_upstream(op: &'static str, upstream_grad: &Tensor<impl Float>, p: &Plan) -> Result<()> {
    if upstream_grad.shape() != p.out_shape.as_slice() {
        return Err(TensorError::shape_detail(
            op,
            upstream_grad.shape(),
            &p.out_shape,
            "the upstream gradient must have the pooled shape",
        ));
    }
    Ok(())
}

/// Adaptive average pooling in 2-D: `[N, C, H, W]` → `[N, C, OH, OW]` for any `out = [OH, OW]`;
/// output `(i, j)` averages rows `⌊i·H/OH⌋..⌈(i+1)·H/OH⌉` and the same for columns (PyTorch's
/// bins). `[1, 1]` is global average pooling.
///
/// ```
/// use neurite_tensor::{pool::adaptive_avg_pool2d, Tensor};
/// let x = Tensor::<f32>::arange(6).reshape(&[1, 1, 2, 3])?;
/// assert_eq!(adaptive_avg_pool2d(&x, [1, 1])?.to_vec(), vec![2.5]);   // global average
/// assert_eq!(adaptive_avg_pool2d(&x, [2, 1])?.to_vec(), vec![1.0, 4.0]);
/// # Ok::<(), neurite_tensor::TensorError>(())
/// ```
pub fn adaptive_avg_pool2d<T: Float>(input: &Tensor<T>, out: [usize; 2]) -> Result<Tensor<T>> {
    let op = "adaptive_avg_pool2d";
    let hw = adaptive_shape_2d(op, input.shape())?;
    let p = adaptive_plan(op, input.shape(), hw, out)?;
    adaptive_run(input, &p)
}

/// Backward of [`adaptive_avg_pool2d`]: upstream gradient `[N, C, OH, OW]` → `[N, C, H, W]`,
/// each spread evenly over its bin (bins may overlap; shares add).
pub fn adaptive_avg_pool2d_backward<T: Float>(
    upstream_grad: &Tensor<T>,
    input_shape: [usize; 4],
) -> Result<Tensor<T>> {
    let op = "adaptive_avg_pool2d_backward";
    let hw = adaptive_shape_2d(op, &input_shape)?;
    let out = match upstream_grad.shape() {
        [_, _, oh, ow] => [*oh, *ow],
        s => return Err(TensorError::shape(op, s, &input_shape)),
    };
    let p = adaptive_plan(op, &input_shape, hw, out)?;
    check_upstream(op, upstream_grad, &p)?;
    adaptive_backward_run(op, upstream_grad, &input_shape, &p)
}

/// Adaptive average pooling in 1-D: `[N, C, L]` → `[N, C, out]` (see [`adaptive_avg_pool2d`]).
pub fn adaptive_avg_pool1d<T: Float>(input: &Tensor<T>, out: usize) -> Result<Tensor<T>> {
    let op = "adaptive_avg_pool1d";
    let hw = adaptive_shape_1d(op, input.shape())?;
    let p = adaptive_plan(op, input.shape(), hw, [1, out])?;
    adaptive_run(input, &p)
}

/// Backward of [`adaptive_avg_pool1d`]: upstream gradient `[N, C, out]` → `[N, C, L]`.
pub fn adaptive_avg_pool1d_backward<T: Float>(
    upstream_grad: &Tensor<T>,
    input_shape: [usize; 3],
) -> Result<Tensor<T>> {
    let op = "adaptive_avg_pool1d_backward";
    let hw = adaptive_shape_1d(op, &input_shape)?;
    let out = match upstream_grad.shape() {
        [_, _, ol] => *ol,
        s => return Err(TensorError::shape(op, s, &input_shape)),
    };
    let p = adaptive_plan(op, &input_shape, hw, [1, out])?;
    check_upstream(op, upstream_grad, &p)?;
    adaptive_backward_run(op, upstream_grad, &input_shape, &p)
}

/// Adaptive max pooling in 2-D: `[N, C, H, W]` → `[N, C, out[0], out[1]]`, each output the
/// maximum of its bin (bins as in [`adaptive_avg_pool2d`], ⌊i·n/o⌋..⌈(i+1)·n/o⌉, as PyTorch),
/// with argmax indices; the backward kernel is [`max_pool2d_backward`]. `[1, 1]` is global max
/// pooling.
///
/// ```
/// use neurite_tensor::{pool::adaptive_max_pool2d, Tensor};
/// let x = Tensor::<f32>::arange(12).reshape(&[1, 1, 3, 4])?;
/// let out = adaptive_max_pool2d(&x, [1, 2])?;
/// assert_eq!(out.values.to_vec(), vec![9.0, 11.0]);
/// assert_eq!(out.argmax, vec![9, 11]);
/// # Ok::<(), neurite_tensor::TensorError>(())
/// ```
pub fn adaptive_max_pool2d<T: Float>(
    input: &Tensor<T>,
    out: [usize; 2],
) -> Result<MaxPoolOutput<T>> {
    let op = "adaptive_max_pool2d";
    let hw = adaptive_shape_2d(op, input.shape())?;
    let p = adaptive_plan(op, input.shape(), hw, out)?;
    max_pool_run(input, &p)
}

/// Adaptive max pooling in 1-D: `[N, C, L]` → `[N, C, out]` with argmax indices (`1` is
/// global max pooling over time); the backward kernel is [`max_pool1d_backward`].
pub fn adaptive_max_pool1d<T: Float>(input: &Tensor<T>, out: usize) -> Result<MaxPoolOutput<T>> {
    let op = "adaptive_max_pool1d";
    let hw = adaptive_shape_1d(op, input.shape())?;
    let p = adaptive_plan(op, input.shape(), hw, [1, out])?;
    max_pool_run(input, &p)
}

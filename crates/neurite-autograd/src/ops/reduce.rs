//! Reductions, softmax / log-softmax and gather, with their backward rules.

use neurite_tensor::{Float, Tensor, TensorError};

use crate::error::Result;
use crate::graph::{Backward, BackwardContext, Var};

/// Broadcasts a reduced gradient back over the reduced axes: the backward of a sum.
fn expand_back<T: Float>(g: &Tensor<T>, in_shape: &[usize], axes: &[usize]) -> Result<Tensor<T>> {
    let mut kept = in_shape.to_vec();
    for &a in axes {
        kept[a] = 1;
    }
    Ok(g.reshape(&kept)?.broadcast_to(in_shape)?)
}

/// Σ over axes. ∂/∂x = 1: the upstream gradient broadcast back over the summed axes.
pub struct SumAxes {
    axes: Vec<usize>,
}
impl<T: Float> Backward<T> for SumAxes {
    fn name(&self) -> &'static str {
        "sum_axes"
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        g: &Tensor<T>,
    ) -> Result<Vec<Option<Tensor<T>>>> {
        Ok(vec![Some(expand_back(
            g,
            ctx.input(0).shape(),
            &self.axes,
        )?)])
    }
}

/// Mean over axes. ∂/∂x = 1/count.
pub struct MeanAxes {
    axes: Vec<usize>,
}
impl<T: Float> Backward<T> for MeanAxes {
    fn name(&self) -> &'static str {
        "mean_axes"
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        g: &Tensor<T>,
    ) -> Result<Vec<Option<Tensor<T>>>> {
        let x = ctx.input(0);
        let count: usize = self.axes.iter().map(|&a| x.shape()[a]).product();
        let d = expand_back(g, x.shape(), &self.axes)?;
        Ok(vec![Some(d.mul_scalar(T::ONE / T::from_usize(count)))])
    }
}

/// Σ of all elements. ∂/∂x = 1.
pub struct SumAll;
impl<T: Float> Backward<T> for SumAll {
    fn name(&self) -> &'static str {
        "sum_all"
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        g: &Tensor<T>,
    ) -> Result<Vec<Option<Tensor<T>>>> {
        Ok(vec![Some(Tensor::full(ctx.input(0).shape(), g.item()?))])
    }
}

/// Mean of all elements. ∂/∂x = 1/n.
pub struct MeanAll;
impl<T: Float> Backward<T> for MeanAll {
    fn name(&self) -> &'static str {
        "mean_all"
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        g: &Tensor<T>,
    ) -> Result<Vec<Option<Tensor<T>>>> {
        let x = ctx.input(0);
        Ok(vec![Some(Tensor::full(
            x.shape(),
            g.item()? / T::from_usize(x.len()),
        ))])
    }
}

/// Max or min along an axis. The gradient goes to the (first) arg-max / arg-min position.
pub struct ExtremumAxis {
    axis: usize,
    keepdim: bool,
    is_max: bool,
}
impl<T: Float> Backward<T> for ExtremumAxis {
    fn name(&self) -> &'static str {
        if self.is_max {
            "max_axis"
        } else {
            "min_axis"
        }
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        g: &Tensor<T>,
    ) -> Result<Vec<Option<Tensor<T>>>> {
        let x = ctx.input(0);
        let idx = if self.is_max {
            x.argmax(self.axis)?
        } else {
            x.argmin(self.axis)?
        };
        let g = if self.keepdim {
            g.squeeze(self.axis)?
        } else {
            g.clone()
        };
        Ok(vec![Some(scatter_along(x.shape(), self.axis, &idx, &g)?)])
    }
}

/// A zero tensor of `shape` with `g[pos]` placed at index `idx[pos]` of `axis`, where `pos`
/// runs over the other axes in row-major order.
fn scatter_along<T: Float>(
    shape: &[usize],
    axis: usize,
    idx: &[usize],
    g: &Tensor<T>,
) -> Result<Tensor<T>> {
    let mut out = Tensor::zeros(shape);
    let outer: usize = shape[..axis].iter().product();
    let n = shape[axis];
    let inner: usize = shape[axis + 1..].iter().product();
    let gv = g.contiguous();
    let gs = gv.as_slice().expect("contiguous"); // ok: made contiguous above
    let dst = out.as_slice_mut();
    for o in 0..outer {
        for i in 0..inner {
            let pos = o * inner + i;
            dst[(o * n + idx[pos]) * inner + i] += gs[pos];
        }
    }
    Ok(out)
}

/// ln Σ eˣ along an axis. ∂/∂x = softmax(x) along that axis.
pub struct LogSumExp {
    axis: usize,
    keepdim: bool,
}
impl<T: Float> Backward<T> for LogSumExp {
    fn name(&self) -> &'static str {
        "logsumexp"
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        g: &Tensor<T>,
    ) -> Result<Vec<Option<Tensor<T>>>> {
        let x = ctx.input(0);
        let g = if self.keepdim {
            g.clone()
        } else {
            g.unsqueeze(self.axis)?
        };
        Ok(vec![Some(x.softmax(self.axis)?.mul(&g)?)])
    }
}

/// Softmax along an axis. With y = softmax(x): ∂L/∂x = y ⊙ (g − Σ(g ⊙ y)) — the Jacobian
/// diag(y) − y·yᵀ applied to the upstream gradient without forming it.
pub struct Softmax {
    axis: usize,
}
impl<T: Float> Backward<T> for Softmax {
    fn name(&self) -> &'static str {
        "softmax"
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        g: &Tensor<T>,
    ) -> Result<Vec<Option<Tensor<T>>>> {
        let y = ctx.output();
        let gy = g.mul(y)?;
        let s = gy.sum_axes(&[self.axis], true)?;
        Ok(vec![Some(gy.sub(&y.mul(&s)?)?)])
    }
}

/// Log-softmax along an axis. With y = log_softmax(x): ∂L/∂x = g − eʸ·Σg.
pub struct LogSoftmax {
    axis: usize,
}
impl<T: Float> Backward<T> for LogSoftmax {
    fn name(&self) -> &'static str {
        "log_softmax"
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        g: &Tensor<T>,
    ) -> Result<Vec<Option<Tensor<T>>>> {
        let y = ctx.output();
        let s = g.sum_axes(&[self.axis], true)?;
        Ok(vec![Some(g.sub(&y.exp().mul(&s)?)?)])
    }
}

/// Picks one entry per row of a 2-D tensor: `out[i] = x[i, idx[i]]` (the class score a loss
/// needs). ∂/∂x: the upstream gradient scattered back to the picked entries.
pub struct Gather {
    idx: Vec<usize>,
}
impl<T: Float> Backward<T> for Gather {
    fn name(&self) -> &'static str {
        "gather"
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        g: &Tensor<T>,
    ) -> Result<Vec<Option<Tensor<T>>>> {
        Ok(vec![Some(scatter_along(
            ctx.input(0).shape(),
            1,
            &self.idx,
            g,
        )?)])
    }
}

impl<'g, T: Float> Var<'g, T> {
    /// Σ over `axes` (`keepdim` keeps them as size-1 dimensions).
    pub fn sum_axes(self, axes: &[usize], keepdim: bool) -> Result<Var<'g, T>> {
        let out = self.value()?.sum_axes(axes, keepdim)?;
        let mut axes = axes.to_vec();
        axes.sort_unstable();
        self.record(SumAxes { axes }, &[], out)
    }
    /// Σ of all elements (a scalar).
    pub fn sum(self) -> Result<Var<'g, T>> {
        let out = self.value()?.sum_all();
        self.record(SumAll, &[], out)
    }
    /// Mean over `axes`.
    pub fn mean_axes(self, axes: &[usize], keepdim: bool) -> Result<Var<'g, T>> {
        let out = self.value()?.mean_axes(axes, keepdim)?;
        let mut axes = axes.to_vec();
        axes.sort_unstable();
        self.record(MeanAxes { axes }, &[], out)
    }
    /// Mean of all elements (a scalar).
    pub fn mean(self) -> Result<Var<'g, T>> {
        let x = self.value()?;
        if x.is_empty() {
            return Err(TensorError::invalid("mean", "mean of an empty tensor").into());
        }
        let out = x.mean_all();
        self.record(MeanAll, &[], out)
    }
    /// Maximum along an axis.
    pub fn max_axis(self, axis: usize, keepdim: bool) -> Result<Var<'g, T>> {
        let out = self.value()?.max_axis(axis, keepdim)?;
        self.record(
            ExtremumAxis {
                axis,
                keepdim,
                is_max: true,
            },
            &[],
            out,
        )
    }
    /// Minimum along an axis.
    pub fn min_axis(self, axis: usize, keepdim: bool) -> Result<Var<'g, T>> {
        let out = self.value()?.min_axis(axis, keepdim)?;
        self.record(
            ExtremumAxis {
                axis,
                keepdim,
                is_max: false,
            },
            &[],
            out,
        )
    }
    /// ln Σ eˣ along an axis, stable.
    pub fn logsumexp(self, axis: usize, keepdim: bool) -> Result<Var<'g, T>> {
        let out = self.value()?.logsumexp(axis, keepdim)?;
        self.record(LogSumExp { axis, keepdim }, &[], out)
    }
    /// Softmax along an axis, stable.
    pub fn softmax(self, axis: usize) -> Result<Var<'g, T>> {
        let out = self.value()?.softmax(axis)?;
        self.record(Softmax { axis }, &[], out)
    }
    /// Log-softmax along an axis, stable.
    pub fn log_softmax(self, axis: usize) -> Result<Var<'g, T>> {
        let out = self.value()?.log_softmax(axis)?;
        self.record(LogSoftmax { axis }, &[], out)
    }
    /// `out[i] = self[i, idx[i]]` for a 2-D [rows, cols] variable.
    pub fn gather(self, idx: &[usize]) -> Result<Var<'g, T>> {
        let x = self.value()?;
        if x.ndim() != 2 || x.shape()[0] != idx.len() {
            return Err(TensorError::shape_detail(
                "gather",
                x.shape(),
                &[idx.len()],
                "need a 2-D [rows, cols] tensor and one index per row",
            )
            .into());
        }
        let cols = x.shape()[1];
        if let Some(&bad) = idx.iter().find(|&&i| i >= cols) {
            return Err(TensorError::IndexOutOfRange {
                op: "gather",
                index: bad,
                bound: cols,
            }
            .into());
        }
        let xc = x.contiguous();
        let xs = xc.as_slice().expect("contiguous"); // ok: made contiguous above
        let out: Vec<T> = idx
            .iter()
            .enumerate()
            .map(|(r, &c)| xs[r * cols + c])
            .collect();
        let out = Tensor::from_vec(out, &[idx.len()])?;
        self.record(Gather { idx: idx.to_vec() }, &[], out)
    }
}

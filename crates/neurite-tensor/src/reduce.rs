//! Reductions along axes (sum, mean, max, min, argmax, argmin, log-sum-exp) and the stable
//! softmax / log-softmax.

use ndarray::Axis;

use crate::error::{Result, TensorError};
use crate::float::Float;
use crate::simd;
use crate::tensor::Tensor;

fn reduced_shape(shape: &[usize], axes: &[usize], keepdim: bool) -> Vec<usize> {
    let mut out = Vec::with_capacity(shape.len());
    for (i, &d) in shape.iter().enumerate() {
        if axes.contains(&i) {
            if keepdim {
                out.push(1);
            }
        } else {
            out.push(d);
        }
    }
    out
}

impl<T: Float> Tensor<T> {
    fn check_axes(&self, op: &'static str, axes: &[usize]) -> Result<Vec<usize>> {
        let mut sorted = axes.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != axes.len() {
            return Err(TensorError::invalid(
                op,
                format!("axes {axes:?} repeat an axis"),
            ));
        }
        for &a in &sorted {
            self.check_axis(op, a)?;
        }
        Ok(sorted)
    }

    /// Sum over `axes`; `keepdim` keeps them as size-1 dimensions.
    pub fn sum_axes(&self, axes: &[usize], keepdim: bool) -> Result<Tensor<T>> {
        let axes = self.check_axes("sum_axes", axes)?;
        let out_shape = reduced_shape(self.shape(), &axes, keepdim);
        if axes.is_empty() {
            return Ok(self.clone());
        }
        if let Some(src) = self.as_slice() {
            let k = axes.len();
            let leading = axes.iter().enumerate().all(|(i, &a)| a == i);
            let trailing = axes
                .iter()
                .enumerate()
                .all(|(i, &a)| a == self.ndim() - k + i);
            if leading {
                // [rows, cols] → [cols]: add rows, vectorised over columns.
                let cols: usize = self.shape()[k..].iter().product();
                let mut acc = vec![T::ZERO; cols];
                if cols > 0 {
                    simd::run(simd::level(), || {
                        for row in src.chunks_exact(cols) {
                            acc.iter_mut().zip(row).for_each(|(a, &x)| *a += x);
                        }
                    });
                }
                return Tensor::from_vec(acc, &out_shape);
            }
            if trailing {
                let inner: usize = self.shape()[self.ndim() - k..].iter().product();
                let outer: usize = self.shape()[..self.ndim() - k].iter().product();
                let acc: Vec<T> = if inner == 0 {
                    vec![T::ZERO; outer]
                } else {
                    src.chunks_exact(inner)
                        .map(|r| r.iter().copied().sum())
                        .collect()
                };
                return Tensor::from_vec(acc, &out_shape);
            }
        }
        let mut a = self.data.to_owned();
        for &ax in axes.iter().rev() {
            a = a.map_axis(Axis(ax), |l| l.iter().copied().sum::<T>());
        }
        Tensor::from_array(a).reshape(&out_shape)
    }

    /// Sum of all elements, as a scalar tensor.
    pub fn sum_all(&self) -> Tensor<T> {
        Tensor::scalar(self.sum_value())
    }

    /// Sum of all elements as a number.
    pub fn sum_value(&self) -> T {
        match self.as_slice() {
            Some(s) => s.iter().copied().sum(),
            None => self.data.iter().copied().sum(),
        }
    }

    /// Mean over `axes` (NaN for an empty reduction, as 0/0).
    pub fn mean_axes(&self, axes: &[usize], keepdim: bool) -> Result<Tensor<T>> {
        let s = self.sum_axes(axes, keepdim)?;
        let count: usize = axes.iter().map(|&a| self.shape()[a]).product();
        Ok(s.mul_scalar(T::ONE / T::from_usize(count)))
    }

    /// Mean of all elements.
    pub fn mean_all(&self) -> Tensor<T> {
        Tensor::scalar(self.sum_value() / T::from_usize(self.len()))
    }

    fn fold_axis(
        &self,
        op: &'static str,
        axis: usize,
        keepdim: bool,
        f: impl Fn(ndarray::ArrayViewD<'_, T>) -> T,
    ) -> Result<Tensor<T>> {
        self.check_axis(op, axis)?;
        if self.shape()[axis] == 0 {
            return Err(TensorError::invalid(
                op,
                format!("axis {axis} of shape {:?} is empty", self.shape()),
            ));
        }
        let out = self.data.map_axis(Axis(axis), |lane| f(lane.into_dyn()));
        let t = Tensor::from_array(out);
        if keepdim {
            t.unsqueeze(axis)
        } else {
            Ok(t)
        }
    }

    /// Maximum along an axis (NaN propagates).
    pub fn max_axis(&self, axis: usize, keepdim: bool) -> Result<Tensor<T>> {
        self.fold_axis("max_axis", axis, keepdim, |l| {
            l.iter().fold(T::NEG_INFINITY, |m, &x| m.max(x))
        })
    }

    /// Minimum along an axis (NaN propagates).
    pub fn min_axis(&self, axis: usize, keepdim: bool) -> Result<Tensor<T>> {
        self.fold_axis("min_axis", axis, keepdim, |l| {
            l.iter().fold(T::INFINITY, |m, &x| m.min(x))
        })
    }

    fn arg_axis(
        &self,
        op: &'static str,
        axis: usize,
        better: impl Fn(T, T) -> bool,
    ) -> Result<Vec<usize>> {
        self.check_axis(op, axis)?;
        if self.shape()[axis] == 0 {
            return Err(TensorError::invalid(
                op,
                format!("axis {axis} of shape {:?} is empty", self.shape()),
            ));
        }
        let out = self.data.map_axis(Axis(axis), |lane| {
            let mut best = 0;
            let mut bv = lane[0];
            for (i, &x) in lane.iter().enumerate().skip(1) {
                if better(x, bv) {
                    best = i;
                    bv = x;
                }
            }
            best
        });
        Ok(out.iter().copied().collect())
    }

    /// Index of the maximum along `axis` (first one on ties), for each position of the other
    /// axes in row-major order. A NaN counts as the maximum.
    pub fn argmax(&self, axis: usize) -> Result<Vec<usize>> {
        self.arg_axis("argmax", axis, |x, best| {
            (x > best || x.is_nan()) && !best.is_nan()
        })
    }

    /// Index of the minimum along `axis` (first one on ties).
    pub fn argmin(&self, axis: usize) -> Result<Vec<usize>> {
        self.arg_axis("argmin", axis, |x, best| {
            (x < best || x.is_nan()) && !best.is_nan()
        })
    }

    /// ln Σ eˣ along an axis, computed stably as m + ln Σ e^(x−m).
    pub fn logsumexp(&self, axis: usize, keepdim: bool) -> Result<Tensor<T>> {
        self.fold_axis("logsumexp", axis, keepdim, |l| {
            let m = l.iter().fold(T::NEG_INFINITY, |m, &x| m.max(x));
            if !m.is_finite() {
                return m;
            }
            let s: T = l.iter().map(|&x| (x - m).exp()).sum();
            m + s.ln()
        })
    }

    fn lanewise(&self, op: &'static str, axis: usize, f: impl Fn(&mut [T])) -> Result<Tensor<T>> {
        self.check_axis(op, axis)?;
        let mut out = self.contiguous();
        if axis == self.ndim() - 1 {
            let n = self.shape()[axis];
            if n > 0 {
                let rows = out.as_slice_mut();
                simd::run(simd::level(), || rows.chunks_exact_mut(n).for_each(&f));
            }
            return Ok(out);
        }
        let mut buf = Vec::with_capacity(self.shape()[axis]);
        let mut view = out.data.view_mut();
        for mut lane in view.lanes_mut(Axis(axis)) {
            buf.clear();
            buf.extend(lane.iter().copied());
            f(&mut buf);
            lane.iter_mut().zip(&buf).for_each(|(d, &s)| *d = s);
        }
        drop(view);
        Ok(out)
    }

    /// Softmax along an axis: e^(x−max) / Σ e^(x−max), stable for any input.
    pub fn softmax(&self, axis: usize) -> Result<Tensor<T>> {
        self.lanewise("softmax", axis, |l| {
            let m = l.iter().fold(T::NEG_INFINITY, |m, &x| m.max(x));
            let mut s = T::ZERO;
            for x in l.iter_mut() {
                *x = (*x - m).exp();
                s += *x;
            }
            let inv = T::ONE / s;
            l.iter_mut().for_each(|x| *x *= inv);
        })
    }

    /// Log-softmax along an axis: x − logsumexp(x), stable for any input.
    pub fn log_softmax(&self, axis: usize) -> Result<Tensor<T>> {
        self.lanewise("log_softmax", axis, |l| {
            let m = l.iter().fold(T::NEG_INFINITY, |m, &x| m.max(x));
            let s: T = l.iter().map(|&x| (x - m).exp()).sum();
            let lse = m + s.ln();
            l.iter_mut().for_each(|x| *x -= lse);
        })
    }

    /// Squared Euclidean norm of all elements.
    pub fn norm_sq(&self) -> T {
        match self.as_slice() {
            Some(s) => s.iter().map(|&x| x * x).sum(),
            None => self.data.iter().map(|&x| x * x).sum(),
        }
    }

    /// The shape of `self` reduced over `axes`.
    pub fn reduced_shape(&self, axes: &[usize], keepdim: bool) -> Vec<usize> {
        reduced_shape(self.shape(), axes, keepdim)
    }
}

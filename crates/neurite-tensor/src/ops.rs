//! Element-wise operations: NumPy broadcasting binary ops and the unary maths.

use ndarray::{ArrayD, IxDyn, Zip};
use rayon::prelude::*;

use crate::error::{Result, TensorError};
use crate::float::Float;
use crate::parallel::PAR_THRESHOLD;
use crate::simd;
use crate::tensor::Tensor;

/// The broadcast shape of two shapes under NumPy rules (align right; sizes equal or one is 1).
pub fn broadcast_shape(op: &'static str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i < n - a.len() {
            1
        } else {
            a[i - (n - a.len())]
        };
        let db = if i < n - b.len() {
            1
        } else {
            b[i - (n - b.len())]
        };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return Err(TensorError::shape_detail(
                op,
                a,
                b,
                "shapes do not broadcast",
            ));
        };
    }
    Ok(out)
}

use crate::parallel::fill_chunks as collect_vec;

pub(crate) fn map_unary<T: Float>(x: &Tensor<T>, f: impl Fn(T) -> T + Sync + Send) -> Tensor<T> {
    match x.as_slice() {
        Some(src) => {
            let out = crate::parallel::collect_chunks(src.len(), |off, n| {
                src[off..off + n].iter().map(|&v| f(v))
            });
            Tensor::from_vec(out, x.shape()).expect("same length") // ok: same element count
        }
        None => Tensor::from_array(x.data.map(|&v| f(v))),
    }
}

fn zip_binary<T: Float>(
    op: &'static str,
    a: &Tensor<T>,
    b: &Tensor<T>,
    f: impl Fn(T, T) -> T + Sync + Send,
) -> Result<Tensor<T>> {
    if a.shape() == b.shape() {
        if let (Some(x), Some(y)) = (a.as_slice(), b.as_slice()) {
            let out = crate::parallel::collect_chunks(x.len(), |off, n| {
                x[off..off + n]
                    .iter()
                    .zip(&y[off..off + n])
                    .map(|(&p, &q)| f(p, q))
            });
            return Tensor::from_vec(out, a.shape());
        }
        return Ok(Tensor::from_array(
            Zip::from(&a.data)
                .and(&b.data)
                .map_collect(|&p, &q| f(p, q)),
        ));
    }
    // Fast path: a contiguous tensor and a contiguous suffix-shaped one (bias rows: [m, n] + [n]).
    if let (Some(x), Some(y)) = (a.as_slice(), b.as_slice()) {
        if !y.is_empty() && b.ndim() <= a.ndim() && a.shape().ends_with(b.shape()) {
            let out = collect_vec(x.len(), |chunk, off| {
                for (i, o) in chunk.iter_mut().enumerate() {
                    let k = off + i;
                    *o = f(x[k], y[k % y.len()]);
                }
            });
            return Tensor::from_vec(out, a.shape());
        }
        if !x.is_empty() && a.ndim() <= b.ndim() && b.shape().ends_with(a.shape()) {
            let out = collect_vec(y.len(), |chunk, off| {
                for (i, o) in chunk.iter_mut().enumerate() {
                    let k = off + i;
                    *o = f(x[k % x.len()], y[k]);
                }
            });
            return Tensor::from_vec(out, b.shape());
        }
    }
    let shape = broadcast_shape(op, a.shape(), b.shape())?;
    let av = a
        .data
        .broadcast(IxDyn(&shape))
        .expect("broadcast shape was checked"); // ok: checked
    let bv = b
        .data
        .broadcast(IxDyn(&shape))
        .expect("broadcast shape was checked"); // ok: checked
    let out: ArrayD<T> = Zip::from(&av).and(&bv).map_collect(|&p, &q| f(p, q));
    Ok(Tensor::from_array(out))
}

fn bool_to<T: Float>(b: bool) -> T {
    if b {
        T::ONE
    } else {
        T::ZERO
    }
}

macro_rules! binary_ops {
    ($($(#[$doc:meta])* $name:ident => |$p:ident, $q:ident| $body:expr;)*) => {
        impl<T: Float> Tensor<T> {
            $(
                $(#[$doc])*
                pub fn $name(&self, other: &Tensor<T>) -> Result<Tensor<T>> {
                    zip_binary(stringify!($name), self, other, |$p: T, $q: T| $body)
                }
            )*
        }
    };
}

binary_ops! {
    /// a + b, broadcasting.
    add => |p, q| p + q;
    /// a − b, broadcasting.
    sub => |p, q| p - q;
    /// a · b element-wise, broadcasting.
    mul => |p, q| p * q;
    /// a / b element-wise, broadcasting.
    div => |p, q| p / q;
    /// Element-wise maximum, broadcasting (NaN propagates).
    maximum => |p, q| p.max(q);
    /// Element-wise minimum, broadcasting (NaN propagates).
    minimum => |p, q| p.min(q);
    /// aᵇ element-wise, broadcasting.
    pow => |p, q| p.powf(q);
    /// 1 where a = b, else 0.
    eq_mask => |p, q| bool_to(p == q);
    /// 1 where a ≠ b, else 0.
    ne_mask => |p, q| bool_to(p != q);
    /// 1 where a < b, else 0.
    lt_mask => |p, q| bool_to(p < q);
    /// 1 where a ≤ b, else 0.
    le_mask => |p, q| bool_to(p <= q);
    /// 1 where a > b, else 0.
    gt_mask => |p, q| bool_to(p > q);
    /// 1 where a ≥ b, else 0.
    ge_mask => |p, q| bool_to(p >= q);
}

macro_rules! unary_ops {
    ($($(#[$doc:meta])* $name:ident => |$x:ident| $body:expr;)*) => {
        impl<T: Float> Tensor<T> {
            $(
                $(#[$doc])*
                pub fn $name(&self) -> Tensor<T> {
                    map_unary(self, |$x: T| $body)
                }
            )*
        }
    };
}

unary_ops! {
    /// −x.
    neg => |x| -x;
    /// eˣ.
    exp => |x| x.exp();
    /// ln x.
    ln => |x| x.ln();
    /// √x.
    sqrt => |x| x.sqrt();
    /// |x|.
    abs => |x| x.abs();
    /// x².
    square => |x| x * x;
    /// 1/x.
    recip => |x| T::ONE / x;
    /// sign(x) ∈ {−1, 0, 1}.
    sign => |x| if x > T::ZERO { T::ONE } else if x < T::ZERO { -T::ONE } else { T::ZERO };
    /// tanh x.
    tanh => |x| x.tanh();
    /// σ(x) = 1/(1 + e⁻ˣ), stable for large |x|.
    sigmoid => |x| x.sigmoid();
    /// max(x, 0).
    relu => |x| if x > T::ZERO { x } else { T::ZERO };
    /// ln(1 + eˣ), stable.
    softplus => |x| x.softplus();
    /// GELU, the exact form x·Φ(x) = x/2·(1 + erf(x/√2)).
    gelu => |x| x * T::from_f64(0.5) * (T::ONE + (x * T::from_f64(std::f64::consts::FRAC_1_SQRT_2)).erf());
}

impl<T: Float> Tensor<T> {
    /// x + c.
    pub fn add_scalar(&self, c: T) -> Tensor<T> {
        map_unary(self, |x| x + c)
    }
    /// x · c.
    pub fn mul_scalar(&self, c: T) -> Tensor<T> {
        map_unary(self, |x| x * c)
    }
    /// xᶜ for a scalar exponent.
    pub fn powf(&self, c: T) -> Tensor<T> {
        map_unary(self, |x| x.powf(c))
    }
    /// Clamps into [lo, hi].
    pub fn clamp(&self, lo: T, hi: T) -> Tensor<T> {
        map_unary(self, |x| x.max(lo).min(hi))
    }
    /// Leaky ReLU: x for x > 0, αx otherwise.
    pub fn leaky_relu(&self, alpha: T) -> Tensor<T> {
        map_unary(self, |x| if x > T::ZERO { x } else { alpha * x })
    }
    /// ELU: x for x > 0, α(eˣ − 1) otherwise.
    pub fn elu(&self, alpha: T) -> Tensor<T> {
        map_unary(self, |x| {
            if x > T::ZERO {
                x
            } else {
                alpha * (x.exp() - T::ONE)
            }
        })
    }

    /// In place: self ← self + α·other (other broadcast to self's shape) — the optimiser's axpy.
    pub fn add_scaled_inplace(&mut self, alpha: T, other: &Tensor<T>) -> Result<()> {
        if self.shape() == other.shape() {
            if let Some(src) = other.as_slice() {
                let level = simd::level();
                let dst = self.as_slice_mut();
                let axpy = |d: &mut [T], s: &[T]| {
                    simd::run(level, || {
                        d.iter_mut().zip(s).for_each(|(d, &s)| *d += alpha * s)
                    })
                };
                if dst.len() >= PAR_THRESHOLD {
                    dst.par_chunks_mut(1 << 14)
                        .zip(src.par_chunks(1 << 14))
                        .for_each(|(d, s)| axpy(d, s));
                } else {
                    axpy(dst, src);
                }
                return Ok(());
            }
        }
        let view = other.data.broadcast(IxDyn(self.shape())).ok_or_else(|| {
            TensorError::shape_detail(
                "add_scaled_inplace",
                self.shape(),
                other.shape(),
                "other must broadcast to self",
            )
        })?;
        Zip::from(&mut self.data.view_mut())
            .and(&view)
            .for_each(|d, &s| *d += alpha * s);
        Ok(())
    }

    /// In place: self ← f(self).
    pub fn map_inplace(&mut self, f: impl Fn(T) -> T + Sync + Send) {
        let level = simd::level();
        let map = |c: &mut [T]| simd::run(level, || c.iter_mut().for_each(|x| *x = f(*x)));
        let dst = self.as_slice_mut();
        if dst.len() >= PAR_THRESHOLD {
            dst.par_chunks_mut(1 << 14).for_each(map);
        } else {
            map(dst);
        }
    }

    /// Applies `f(a, b)` element-wise to two tensors of the same shape (no broadcasting).
    pub fn zip_map(
        &self,
        other: &Tensor<T>,
        f: impl Fn(T, T) -> T + Sync + Send,
    ) -> Result<Tensor<T>> {
        if self.shape() != other.shape() {
            return Err(TensorError::shape("zip_map", self.shape(), other.shape()));
        }
        zip_binary("zip_map", self, other, f)
    }

    /// A copy materialised in the broadcast shape `shape`.
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Tensor<T>> {
        let view = self.data.broadcast(IxDyn(shape)).ok_or_else(|| {
            TensorError::shape_detail(
                "broadcast_to",
                self.shape(),
                shape,
                "the tensor does not broadcast to the target",
            )
        })?;
        Ok(Tensor::from_array(view.to_owned()))
    }

    /// Sums a broadcast result back down to `shape`: the reverse of broadcasting, used to turn
    /// the upstream gradient of a broadcasting op into the gradient of its smaller operand.
    pub fn sum_to(&self, shape: &[usize]) -> Result<Tensor<T>> {
        if self.shape() == shape {
            return Ok(self.clone());
        }
        let err = || {
            TensorError::shape_detail(
                "sum_to",
                self.shape(),
                shape,
                "the target does not broadcast to the tensor",
            )
        };
        if shape.len() > self.ndim() {
            return Err(err());
        }
        let lead = self.ndim() - shape.len();
        let mut axes: Vec<usize> = (0..lead).collect();
        for (i, &d) in shape.iter().enumerate() {
            let have = self.shape()[lead + i];
            if d == 1 && have != 1 {
                axes.push(lead + i);
            } else if d != have {
                return Err(err());
            }
        }
        let summed = self.sum_axes(&axes, false)?;
        summed.reshape(shape)
    }
}

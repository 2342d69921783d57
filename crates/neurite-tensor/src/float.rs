//! The sealed element trait: neurite tensors hold `f32` or `f64`, nothing else.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

pub(crate) mod sealed {
    /// Seals [`super::Float`] to f32 and f64, and holds what only neurite-tensor may call:
    /// the raw GEMM behind [`crate::matmul`].
    pub trait Sealed {
        /// C ← α·A·B + β·C through the `gemm` crate (AVX-512 / AVX2+FMA kernels chosen at run
        /// time). When β = 0, C is written without being read (NaN or garbage in C does not leak).
        ///
        /// `threads` ≤ 1 computes on the calling thread; a larger count lets the kernel split the
        /// output tiles over up to that many threads of the *current* rayon pool. Each output
        /// element is summed in the same order either way, so the result does not depend on
        /// `threads`.
        ///
        /// # Safety
        /// The pointers and strides (in elements) must describe valid `m×k`, `k×n` and `m×n`
        /// matrices (any strides, negative or zero for A and B); `c` must not alias `a` or `b` and
        /// must not have overlapping elements.
        #[allow(clippy::too_many_arguments)]
        unsafe fn gemm(
            m: usize,
            k: usize,
            n: usize,
            alpha: Self,
            a: *const Self,
            rsa: isize,
            csa: isize,
            b: *const Self,
            rsb: isize,
            csb: isize,
            beta: Self,
            c: *mut Self,
            rsc: isize,
            csc: isize,
            threads: usize,
        );
    }
}

/// A floating-point element type of a [`Tensor`](crate::Tensor): `f32` or `f64`.
///
/// The trait is sealed: its GEMM dispatch (the `gemm` crate's f32 / f64 kernels) and the
/// numerically stable maths below are written for exactly these two types.
pub trait Float:
    sealed::Sealed
    + Copy
    + Send
    + Sync
    + Default
    + Debug
    + Display
    + PartialOrd
    + Sum
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + 'static
{
    /// Type name, as written in errors and safetensors files ("f32" / "f64").
    const NAME: &'static str;
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// +∞.
    const INFINITY: Self;
    /// −∞.
    const NEG_INFINITY: Self;
    /// Machine epsilon.
    const EPSILON: Self;

    /// Converts from `f64` (rounding for `f32`).
    fn from_f64(x: f64) -> Self;
    /// Converts to `f64` (exact).
    fn to_f64(self) -> f64;
    /// Converts from a count or index.
    fn from_usize(x: usize) -> Self {
        Self::from_f64(x as f64)
    }
    /// eˣ.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// ln(1 + x), accurate for small x.
    fn ln_1p(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// |x|.
    fn abs(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// xʸ for a real exponent.
    fn powf(self, y: Self) -> Self;
    /// The error function (for the exact GELU).
    fn erf(self) -> Self;
    /// The larger of two values; NaN wins so that it is never hidden.
    fn max(self, other: Self) -> Self {
        if self.is_nan() || self >= other {
            self
        } else {
            other
        }
    }
    /// The smaller of two values; NaN wins so that it is never hidden.
    fn min(self, other: Self) -> Self {
        if self.is_nan() || self <= other {
            self
        } else {
            other
        }
    }
    /// True for NaN.
    fn is_nan(self) -> bool;
    /// True for neither NaN nor ±∞.
    fn is_finite(self) -> bool;
    /// Logistic sigmoid 1 / (1 + e⁻ˣ), stable for large |x| (never evaluates e of a large positive number).
    #[inline]
    fn sigmoid(self) -> Self {
        if self >= Self::ZERO {
            Self::ONE / (Self::ONE + (-self).exp())
        } else {
            let e = self.exp();
            e / (Self::ONE + e)
        }
    }
    /// softplus ln(1 + eˣ), stable for large |x|.
    #[inline]
    fn softplus(self) -> Self {
        // ln(1 + eˣ) = max(x, 0) + ln(1 + e^(−|x|))
        self.max(Self::ZERO) + (-self.abs()).exp().ln_1p()
    }
}

macro_rules! impl_float {
    ($t:ty, $name:literal) => {
        impl Float for $t {
            const NAME: &'static str = $name;
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const INFINITY: Self = <$t>::INFINITY;
            const NEG_INFINITY: Self = <$t>::NEG_INFINITY;
            const EPSILON: Self = <$t>::EPSILON;
            #[inline]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            #[inline]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline]
            fn ln_1p(self) -> Self {
                <$t>::ln_1p(self)
            }
            #[inline]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline]
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            #[inline]
            fn powf(self, y: Self) -> Self {
                <$t>::powf(self, y)
            }
            #[inline]
            fn erf(self) -> Self {
                erf_f64(self as f64) as $t
            }
            #[inline]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            #[inline]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
        }

        impl sealed::Sealed for $t {
            #[inline]
            unsafe fn gemm(
                m: usize,
                k: usize,
                n: usize,
                alpha: Self,
                a: *const Self,
                rsa: isize,
                csa: isize,
                b: *const Self,
                rsb: isize,
                csb: isize,
                beta: Self,
                c: *mut Self,
                rsc: isize,
                csc: isize,
                threads: usize,
            ) {
                let parallelism = if threads <= 1 {
                    gemm::Parallelism::None
                } else {
                    gemm::Parallelism::Rayon(threads)
                };
                // The gemm crate computes dst ← α'·dst + β'·lhs·rhs and reads dst only when told
                // to: our β is its α', our α its β'. Strides are passed column stride first.
                // SAFETY: forwarded from the caller's contract (valid matrices, C distinct from A
                // and B, no overlapping elements in C); `$t` is one of the crate's own types, so
                // its type dispatch cannot panic.
                unsafe {
                    gemm::gemm::<$t>(
                        m,
                        n,
                        k,
                        c,
                        csc,
                        rsc,
                        beta != 0.0,
                        a,
                        csa,
                        rsa,
                        b,
                        csb,
                        rsb,
                        beta,
                        alpha,
                        false,
                        false,
                        false,
                        parallelism,
                    )
                }
            }
        }
    };
}

impl_float!(f32, "f32");
impl_float!(f64, "f64");

/// erf(x) to about 1e-15 relative error: a Taylor series near 0 and a continued fraction
/// for erfc in the tails (Numerical Recipes' erfc Chebyshev fit is only 1.2e-7, too coarse for
/// an f64 gradient check of GELU).
fn erf_f64(x: f64) -> f64 {
    let ax = x.abs();
    if ax == 0.0 || ax.is_nan() {
        return x; // erf(±0) = ±0; NaN stays NaN (and the series below would never converge)
    }
    if ax < 2.5 {
        // erf(x) = 2/√π Σ (−1)ⁿ x^(2n+1) / (n! (2n+1))
        let mut term = ax;
        let mut sum = ax;
        let x2 = ax * ax;
        let mut n = 0.0;
        loop {
            n += 1.0;
            term *= -x2 / n;
            let add = term / (2.0 * n + 1.0);
            sum += add;
            if add.abs() <= 1e-17 * sum.abs() {
                break;
            }
        }
        let r = sum * std::f64::consts::FRAC_2_SQRT_PI;
        if x < 0.0 {
            -r
        } else {
            r
        }
    } else {
        // erfc(x) = e^(−x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …)))) — Lentz's method.
        let tiny = 1e-300;
        let mut f = ax;
        let mut c = ax;
        let mut d = 0.0;
        for i in 1..200 {
            let a = i as f64 * 0.5;
            d = ax + a * d;
            if d.abs() < tiny {
                d = tiny;
            }
            c = ax + a / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = c * d;
            f *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        let erfc = (-ax * ax).exp() / (f * std::f64::consts::PI.sqrt());
        let r = 1.0 - erfc;
        if x < 0.0 {
            -r
        } else {
            r
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_known_values() {
        let cases = [
            (0.0, 0.0),
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (2.0, 0.995_322_265_018_952_7),
            (3.0, 0.999_977_909_503_001_4),
            (-1.5, -0.966_105_146_475_310_7),
        ];
        for (x, want) in cases {
            assert!((erf_f64(x) - want).abs() < 1e-14, "erf({x})");
        }
    }

    #[test]
    fn sigmoid_and_softplus_are_stable() {
        assert_eq!(1000f32.sigmoid(), 1.0);
        assert_eq!((-1000f32).sigmoid(), 0.0);
        assert!((-1000f64).softplus().abs() < 1e-300);
        assert_eq!(1000f64.softplus(), 1000.0);
    }
}

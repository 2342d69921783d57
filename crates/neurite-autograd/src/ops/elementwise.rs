//! Element-wise ops: broadcasting binary ops (gradients summed back over broadcast axes with
//! [`Tensor::sum_to`]) and unary maths, each with its derivative stated.

use neurite_tensor::{Float, Rng, Tensor};

use crate::error::Result;
use crate::graph::{Backward, BackwardContext, Var};

/// g·f'(x, y) element-wise over three same-shaped tensors (upstream, input, output).
pub(crate) fn zip3<T: Float>(
    g: &Tensor<T>,
    x: &Tensor<T>,
    y: &Tensor<T>,
    f: impl Fn(T, T, T) -> T + Sync + Send,
) -> Result<Tensor<T>> {
    let (g, x, y) = (g.contiguous(), x.contiguous(), y.contiguous());
    let (gs, xs, ys) = (
        g.as_slice().expect("contiguous"), // ok: made contiguous above
        x.as_slice().expect("contiguous"), // ok: made contiguous above
        y.as_slice().expect("contiguous"), // ok: made contiguous above
    );
    let out = neurite_tensor::parallel::collect_chunks(gs.len(), |off, n| {
        let end = off + n;
        gs[off..end]
            .iter()
            .zip(&xs[off..end])
            .zip(&ys[off..end])
            .map(|((&g, &x), &y)| f(g, x, y))
    });
    Ok(Tensor::from_vec(out, x.shape())?)
}

macro_rules! binary_op {
    ($Op:ident, $name:literal, $method:ident, $doc:literal, |$g:ident, $a:ident, $b:ident, $y:ident, $ctx:ident| ($da:expr, $db:expr)) => {
        #[doc = $doc]
        pub struct $Op;
        impl<T: Float> Backward<T> for $Op {
            fn name(&self) -> &'static str {
                $name
            }
            #[allow(unused_variables)]
            fn backward(
                &self,
                $ctx: &BackwardContext<'_, T>,
                $g: &Tensor<T>,
            ) -> Result<Vec<Option<Tensor<T>>>> {
                let ($a, $b, $y) = ($ctx.input(0), $ctx.input(1), $ctx.output());
                let da = if $ctx.needs_grad(0) {
                    Some(($da)?.sum_to($a.shape())?)
                } else {
                    None
                };
                let db = if $ctx.needs_grad(1) {
                    Some(($db)?.sum_to($b.shape())?)
                } else {
                    None
                };
                Ok(vec![da, db])
            }
        }
        #[allow(clippy::should_implement_trait)] // fallible: returns Result, unlike std::ops
        impl<'g, T: Float> Var<'g, T> {
            #[doc = $doc]
            pub fn $method(self, other: Var<'g, T>) -> Result<Var<'g, T>> {
                self.graph.check_same($name, other)?;
                let out = self.value()?.$method(&other.value()?)?;
                self.record($Op, &[other], out)
            }
        }
    };
}

binary_op!(
    Add,
    "add",
    add,
    "a + b (broadcasting). ∂/∂a = 1, ∂/∂b = 1.",
    |g, a, b, y, ctx| (
        Ok::<_, crate::AutogradError>(g.clone()),
        Ok::<_, crate::AutogradError>(g.clone())
    )
);
binary_op!(
    Sub,
    "sub",
    sub,
    "a − b (broadcasting). ∂/∂a = 1, ∂/∂b = −1.",
    |g, a, b, y, ctx| (
        Ok::<_, crate::AutogradError>(g.clone()),
        Ok::<_, crate::AutogradError>(g.neg())
    )
);
binary_op!(
    Mul,
    "mul",
    mul,
    "a·b element-wise (broadcasting). ∂/∂a = b, ∂/∂b = a.",
    |g, a, b, y, ctx| (g.mul(b), g.mul(a))
);
binary_op!(
    Div,
    "div",
    div,
    "a / b element-wise (broadcasting). ∂/∂a = 1/b, ∂/∂b = −a/b² = −y/b.",
    |g, a, b, y, ctx| (g.div(b), g.mul(y)?.div(b).map(|t| t.neg()))
);
binary_op!(Maximum, "maximum", maximum, "max(a, b) element-wise (broadcasting). The gradient goes to the larger input; ties split it equally.", |g, a, b, y, ctx| (g.mul(&a.gt_mask(b)?.add(&a.eq_mask(b)?.mul_scalar(T::from_f64(0.5)))?), g.mul(&b.gt_mask(a)?.add(&a.eq_mask(b)?.mul_scalar(T::from_f64(0.5)))?)));
binary_op!(Minimum, "minimum", minimum, "min(a, b) element-wise (broadcasting). The gradient goes to the smaller input; ties split it equally.", |g, a, b, y, ctx| (g.mul(&a.lt_mask(b)?.add(&a.eq_mask(b)?.mul_scalar(T::from_f64(0.5)))?), g.mul(&b.lt_mask(a)?.add(&a.eq_mask(b)?.mul_scalar(T::from_f64(0.5)))?)));
binary_op!(
    Pow,
    "pow",
    pow,
    "aᵇ element-wise (broadcasting). ∂/∂a = b·a^(b−1), ∂/∂b = aᵇ·ln a.",
    |g, a, b, y, ctx| (
        g.mul(&b.mul(&a.pow(&b.add_scalar(-T::ONE))?)?),
        g.mul(&y.mul(&a.ln())?)
    )
);

macro_rules! unary_op {
    ($Op:ident, $name:literal, $method:ident, $doc:literal, |$x:ident| $fwd:expr, |$dx:ident, $dy:ident| $df:expr) => {
        #[doc = $doc]
        pub struct $Op;
        impl<T: Float> Backward<T> for $Op {
            fn name(&self) -> &'static str {
                $name
            }
            #[allow(unused_variables)]
            fn backward(
                &self,
                ctx: &BackwardContext<'_, T>,
                upstream: &Tensor<T>,
            ) -> Result<Vec<Option<Tensor<T>>>> {
                let local = zip3(
                    upstream,
                    ctx.input(0),
                    ctx.output(),
                    |g: T, $dx: T, $dy: T| g * ($df),
                )?;
                Ok(vec![Some(local)])
            }
        }
        #[allow(clippy::should_implement_trait)] // fallible: returns Result, unlike std::ops
        impl<'g, T: Float> Var<'g, T> {
            #[doc = $doc]
            pub fn $method(self) -> Result<Var<'g, T>> {
                let $x = self.value()?;
                let out = $fwd;
                self.record($Op, &[], out)
            }
        }
    };
}

unary_op!(
    Neg,
    "neg",
    neg,
    "−x. Derivative −1.",
    |x| x.neg(),
    |x, y| -T::ONE
);
unary_op!(
    Exp,
    "exp",
    exp,
    "eˣ. Derivative eˣ = y (reuses the output).",
    |x| x.exp(),
    |x, y| y
);
unary_op!(
    Ln,
    "ln",
    ln,
    "ln x. Derivative 1/x.",
    |x| x.ln(),
    |x, y| T::ONE / x
);
unary_op!(
    Sqrt,
    "sqrt",
    sqrt,
    "√x. Derivative 1/(2√x) = 1/(2y).",
    |x| x.sqrt(),
    |x, y| T::from_f64(0.5) / y
);
unary_op!(
    Abs,
    "abs",
    abs,
    "|x|. Derivative sign(x) (0 at 0).",
    |x| x.abs(),
    |x, y| if x > T::ZERO {
        T::ONE
    } else if x < T::ZERO {
        -T::ONE
    } else {
        T::ZERO
    }
);
unary_op!(
    Square,
    "square",
    square,
    "x². Derivative 2x.",
    |x| x.square(),
    |x, y| x + x
);
unary_op!(
    Recip,
    "recip",
    recip,
    "1/x. Derivative −1/x² = −y².",
    |x| x.recip(),
    |x, y| -(y * y)
);
unary_op!(
    Tanh,
    "tanh",
    tanh,
    "tanh x. Derivative 1 − tanh²x = 1 − y² (reuses the output).",
    |x| x.tanh(),
    |x, y| T::ONE - y * y
);
unary_op!(
    Sigmoid,
    "sigmoid",
    sigmoid,
    "σ(x) = 1/(1 + e⁻ˣ). Derivative σ(x)(1 − σ(x)) = y(1 − y).",
    |x| x.sigmoid(),
    |x, y| y * (T::ONE - y)
);
unary_op!(
    Relu,
    "relu",
    relu,
    "max(x, 0). Derivative 1 for x > 0, else 0.",
    |x| x.relu(),
    |x, y| if x > T::ZERO { T::ONE } else { T::ZERO }
);
unary_op!(
    Softplus,
    "softplus",
    softplus,
    "ln(1 + eˣ). Derivative σ(x).",
    |x| x.softplus(),
    |x, y| x.sigmoid()
);
unary_op!(
    Gelu,
    "gelu",
    gelu,
    "GELU x·Φ(x) (exact, erf form). Derivative Φ(x) + x·φ(x).",
    |x| x.gelu(),
    |x, y| {
        let phi = (x * x * T::from_f64(-0.5)).exp() * T::from_f64(0.398_942_280_401_432_7);
        let cdf =
            T::from_f64(0.5) * (T::ONE + (x * T::from_f64(std::f64::consts::FRAC_1_SQRT_2)).erf());
        cdf + x * phi
    }
);

macro_rules! unary_param_op {
    ($Op:ident, $name:literal, $method:ident, $doc:literal, |$x:ident, $p:ident| $fwd:expr, |$dx:ident, $dy:ident, $dp:ident| $df:expr) => {
        #[doc = $doc]
        pub struct $Op<T>(pub T);
        impl<T: Float> Backward<T> for $Op<T> {
            fn name(&self) -> &'static str {
                $name
            }
            #[allow(unused_variables)]
            fn backward(
                &self,
                ctx: &BackwardContext<'_, T>,
                upstream: &Tensor<T>,
            ) -> Result<Vec<Option<Tensor<T>>>> {
                let $dp = self.0;
                let local = zip3(
                    upstream,
                    ctx.input(0),
                    ctx.output(),
                    |g: T, $dx: T, $dy: T| g * ($df),
                )?;
                Ok(vec![Some(local)])
            }
        }
        impl<'g, T: Float> Var<'g, T> {
            #[doc = $doc]
            pub fn $method(self, $p: T) -> Result<Var<'g, T>> {
                let $x = self.value()?;
                let out = $fwd;
                self.record($Op($p), &[], out)
            }
        }
    };
}

unary_param_op!(
    LeakyRelu,
    "leaky_relu",
    leaky_relu,
    "Leaky ReLU: x for x > 0, αx otherwise. Derivative 1 or α.",
    |x, alpha| x.leaky_relu(alpha),
    |x, y, a| if x > T::ZERO { T::ONE } else { a }
);
unary_param_op!(
    Elu,
    "elu",
    elu,
    "ELU: x for x > 0, α(eˣ − 1) otherwise. Derivative 1, or y + α.",
    |x, alpha| x.elu(alpha),
    |x, y, a| if x > T::ZERO { T::ONE } else { y + a }
);
unary_param_op!(
    Powf,
    "powf",
    powf,
    "xᶜ for a constant c. Derivative c·x^(c−1).",
    |x, c| x.powf(c),
    |x, y, c| c * x.powf(c - T::ONE)
);
unary_param_op!(
    AddScalar,
    "add_scalar",
    add_scalar,
    "x + c for a constant c. Derivative 1.",
    |x, c| x.add_scalar(c),
    |x, y, c| T::ONE
);
unary_param_op!(
    MulScalar,
    "mul_scalar",
    mul_scalar,
    "c·x for a constant c. Derivative c.",
    |x, c| x.mul_scalar(c),
    |x, y, c| c
);

/// clamp(x, lo, hi). Derivative 1 inside [lo, hi], 0 outside.
pub struct Clamp<T>(pub T, pub T);
impl<T: Float> Backward<T> for Clamp<T> {
    fn name(&self) -> &'static str {
        "clamp"
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        upstream: &Tensor<T>,
    ) -> Result<Vec<Option<Tensor<T>>>> {
        let (lo, hi) = (self.0, self.1);
        let local = zip3(upstream, ctx.input(0), ctx.output(), |g, x, _| {
            if x >= lo && x <= hi {
                g
            } else {
                T::ZERO
            }
        })?;
        Ok(vec![Some(local)])
    }
}

/// Dropout: multiplies by a fixed random mask of 0 and 1/(1 − p). Derivative: the mask.
pub struct Dropout<T: Float> {
    mask: Tensor<T>,
}
impl<T: Float> Backward<T> for Dropout<T> {
    fn name(&self) -> &'static str {
        "dropout"
    }
    fn backward(
        &self,
        _ctx: &BackwardContext<'_, T>,
        upstream: &Tensor<T>,
    ) -> Result<Vec<Option<Tensor<T>>>> {
        Ok(vec![Some(upstream.mul(&self.mask)?)])
    }
}

impl<'g, T: Float> Var<'g, T> {
    /// clamp(x, lo, hi). Derivative 1 inside [lo, hi], 0 outside.
    pub fn clamp(self, lo: T, hi: T) -> Result<Var<'g, T>> {
        if lo > hi || lo.is_nan() || hi.is_nan() {
            return Err(crate::AutogradError::invalid(
                "clamp",
                format!("need lo <= hi, got lo={lo} hi={hi}"),
            ));
        }
        let out = self.value()?.clamp(lo, hi);
        self.record(Clamp(lo, hi), &[], out)
    }

    /// Inverted dropout: zeroes each element with probability `p` and scales the rest by
    /// 1/(1 − p), so evaluation needs no rescaling. In an inference graph it is the identity.
    pub fn dropout(self, p: f64, rng: &mut Rng) -> Result<Var<'g, T>> {
        if !(0.0..1.0).contains(&p) {
            return Err(crate::AutogradError::invalid(
                "dropout",
                format!("probability must be in [0, 1), got {p}"),
            ));
        }
        if !self.graph.is_recording() || p == 0.0 {
            return Ok(self);
        }
        let x = self.value()?;
        let keep = T::from_f64(1.0 / (1.0 - p));
        let mask = Tensor::from_vec(
            (0..x.len())
                .map(|_| if rng.bernoulli(p) { T::ZERO } else { keep })
                .collect(),
            x.shape(),
        )?;
        let out = x.mul(&mask)?;
        self.record(Dropout { mask }, &[], out)
    }
}

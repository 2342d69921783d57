//! Outputs and losses as the subject pairs them: linear output + MSE (regression), sigmoid
//! output + binary cross-entropy (fused with the sigmoid: [`bce_with_logits`]), softmax output
//! + cross-entropy (fused with log-softmax: [`cross_entropy`]); and NLL, L1 and Huber.
//!
//! Every loss takes a [`Reduction`] (the `_with` forms; the plain forms take the default):
//! the mean over its elements (or over the batch, for class losses, weighted by class weights
//! when given), the sum, or none — one loss per element (per sample for class losses), for
//! weighting, hard-example mining or evaluation without a graph node per row.

use neurite_autograd::{Backward, BackwardContext, Var};
use neurite_tensor::{Float, Tensor};

use crate::error::{NnError, Result};

/// How a loss reduces its per-element (per-sample) values, as PyTorch's `reduction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reduction {
    /// The mean (class losses: over the batch, divided by the summed class weights).
    #[default]
    Mean,
    /// The sum.
    Sum,
    /// No reduction: the loss of every element (class losses: of every sample, shape \[batch\]).
    None,
}

/// The upstream gradient as seen by each element of a reduced loss.
enum Up<T: Float> {
    /// Every element gets the same factor (mean: upstream / n; sum: upstream).
    All(T),
    /// Element i gets upstream[i] (no reduction).
    Each(Tensor<T>),
}

impl<T: Float> Up<T> {
    fn new(upstream: &Tensor<T>, r: Reduction, norm: T) -> neurite_autograd::Result<Self> {
        Ok(match r {
            Reduction::Mean => Up::All(upstream.item()? / norm),
            Reduction::Sum => Up::All(upstream.item()?),
            Reduction::None => Up::Each(upstream.contiguous()),
        })
    }
    /// The factor of element `i`.
    #[inline]
    fn at(&self, i: usize) -> T {
        match self {
            Up::All(s) => *s,
            Up::Each(t) => t.as_slice().map_or(T::ZERO, |s| s[i]),
        }
    }
}

/// The loss output of per-element values `per` (shape `shape`) under `r`, with `norm` the mean's
/// divisor.
fn reduce<T: Float>(per: Vec<T>, shape: &[usize], r: Reduction, norm: T) -> Result<Tensor<T>> {
    Ok(match r {
        Reduction::Mean => Tensor::scalar(per.iter().fold(T::ZERO, |a, &v| a + v) / norm),
        Reduction::Sum => Tensor::scalar(per.iter().fold(T::ZERO, |a, &v| a + v)),
        Reduction::None => Tensor::from_vec(per, shape)?,
    })
}

fn slice<T: Float>(t: &Tensor<T>) -> &[T] {
    t.as_slice().unwrap_or(&[]) // ok: every caller passes a contiguous tensor
}

fn same_shape<T: Float>(op: &str, pred: &Var<'_, T>, target: &Var<'_, T>) -> Result<()> {
    if pred.shape() != target.shape() {
        return Err(NnError::BadInput {
            layer: op.into(),
            expected: format!("target of shape {:?}", pred.shape()),
            got: target.shape(),
        });
    }
    if pred.shape().iter().product::<usize>() == 0 {
        return Err(NnError::BadInput {
            layer: op.into(),
            expected: "a non-empty prediction".into(),
            got: pred.shape(),
        });
    }
    Ok(())
}

/// Applies `r` to per-element losses recorded as graph ops.
fn reduce_var<'g, T: Float>(per: Var<'g, T>, r: Reduction) -> Result<Var<'g, T>> {
    Ok(match r {
        Reduction::Mean => per.mean()?,
        Reduction::Sum => per.sum()?,
        Reduction::None => per,
    })
}

/// Mean squared error: mean((pred − target)²). Shapes must match.
/// ∂/∂pred = 2(pred − target)/n.
pub fn mse<'g, T: Float>(pred: Var<'g, T>, target: Var<'g, T>) -> Result<Var<'g, T>> {
    mse_with(pred, target, Reduction::Mean)
}

/// Squared error (pred − target)² reduced by `r`.
pub fn mse_with<'g, T: Float>(
    pred: Var<'g, T>,
    target: Var<'g, T>,
    r: Reduction,
) -> Result<Var<'g, T>> {
    same_shape("mse", &pred, &target)?;
    reduce_var(pred.sub(target)?.square()?, r)
}

/// Mean absolute error (L1): mean |pred − target|. ∂/∂pred = sign(pred − target)/n.
pub fn l1<'g, T: Float>(pred: Var<'g, T>, target: Var<'g, T>) -> Result<Var<'g, T>> {
    l1_with(pred, target, Reduction::Mean)
}

/// Absolute error |pred − target| reduced by `r`.
pub fn l1_with<'g, T: Float>(
    pred: Var<'g, T>,
    target: Var<'g, T>,
    r: Reduction,
) -> Result<Var<'g, T>> {
    same_shape("l1", &pred, &target)?;
    reduce_var(pred.sub(target)?.abs()?, r)
}

fn contiguous_vec<T: Float>(t: &Tensor<T>) -> Tensor<T> {
    t.contiguous()
}

/// Huber loss with threshold δ (PyTorch's `HuberLoss`): with d = pred − target, ½d² for |d| ≤ δ,
/// δ(|d| − ½δ) beyond; reduced by a [`Reduction`]. ∂/∂pred = clamp(d, −δ, δ)·u, with u the
/// upstream gradient of the element (divided by n for the mean); ∂/∂target = −that.
pub struct HuberOp<T> {
    delta: T,
    reduction: Reduction,
}

impl<T: Float> Backward<T> for HuberOp<T> {
    fn name(&self) -> &'static str {
        "huber"
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        upstream: &Tensor<T>,
    ) -> neurite_autograd::Result<Vec<Option<Tensor<T>>>> {
        let (p, t) = (contiguous_vec(ctx.input(0)), contiguous_vec(ctx.input(1)));
        let up = Up::new(upstream, self.reduction, T::from_usize(p.len()))?;
        let d = self.delta;
        let g: Vec<T> = slice(&p)
            .iter()
            .zip(slice(&t))
            .enumerate()
            .map(|(i, (&a, &b))| {
                let r = a - b;
                (if r > d {
                    d
                } else if r < -d {
                    -d
                } else {
                    r
                }) * up.at(i)
            })
            .collect();
        let grad = Tensor::from_vec(g, p.shape())?;
        let dt = if ctx.needs_grad(1) {
            Some(grad.neg())
        } else {
            None
        };
        Ok(vec![Some(grad), dt])
    }
}

/// Huber loss (see [`HuberOp`]), mean over elements; δ > 0. Robust regression: quadratic near
/// 0, linear in the tails.
pub fn huber<'g, T: Float>(pred: Var<'g, T>, target: Var<'g, T>, delta: f64) -> Result<Var<'g, T>> {
    huber_with(pred, target, delta, Reduction::Mean)
}

/// Huber loss with threshold δ > 0 reduced by `r`.
pub fn huber_with<'g, T: Float>(
    pred: Var<'g, T>,
    target: Var<'g, T>,
    delta: f64,
    r: Reduction,
) -> Result<Var<'g, T>> {
    same_shape("huber", &pred, &target)?;
    if !(delta > 0.0 && delta.is_finite()) {
        return Err(NnError::config(
            "huber",
            format!("delta must be positive and finite, got {delta}"),
        ));
    }
    let (p, t) = (pred.value()?, target.value()?);
    let d = T::from_f64(delta);
    let half = T::from_f64(0.5);
    let per = p.zip_map(&t, |a, b| {
        let r = (a - b).abs();
        if r <= d {
            half * r * r
        } else {
            d * (r - half * d)
        }
    })?;
    let n = T::from_usize(per.len());
    let out = reduce(per.to_vec(), per.shape(), r, n)?;
    Ok(pred.record(
        HuberOp {
            delta: d,
            reduction: r,
        },
        &[target],
        out,
    )?)
}

/// Binary cross-entropy on logits, fused with the sigmoid and stable for any logit:
/// ℓ = max(x, 0) − x·y + ln(1 + e^(−|x|)), reduced by a [`Reduction`]; targets y in [0, 1].
/// ∂ℓ/∂x = σ(x) − y (divided by n for the mean). At x = ±∞ with the matching label the loss is
/// 0 and the gradient 0; with the wrong label the loss is +∞ and the gradient ∓1/n.
pub struct BceWithLogitsOp(pub Reduction);

impl<T: Float> Backward<T> for BceWithLogitsOp {
    fn name(&self) -> &'static str {
        "bce_with_logits"
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        upstream: &Tensor<T>,
    ) -> neurite_autograd::Result<Vec<Option<Tensor<T>>>> {
        let (x, y) = (contiguous_vec(ctx.input(0)), contiguous_vec(ctx.input(1)));
        let up = Up::new(upstream, self.0, T::from_usize(x.len()))?;
        let (xs, ys) = (slice(&x), slice(&y));
        let dx = if ctx.needs_grad(0) {
            let g = (0..xs.len())
                .map(|i| (xs[i].sigmoid() - ys[i]) * up.at(i))
                .collect();
            Some(Tensor::from_vec(g, x.shape())?)
        } else {
            None
        };
        // ∂ℓ/∂y = −x (soft targets that require a gradient).
        let dy = if ctx.needs_grad(1) {
            let g = (0..xs.len()).map(|i| -xs[i] * up.at(i)).collect();
            Some(Tensor::from_vec(g, x.shape())?)
        } else {
            None
        };
        Ok(vec![dx, dy])
    }
}

/// One element of the stable BCE-with-logits; products with a zero weight count as zero so that
/// x = ±∞ with the matching label gives 0, not NaN.
fn bce_logit_term<T: Float>(x: T, y: T) -> T {
    let times = |a: T, w: T| if w == T::ZERO { T::ZERO } else { a * w };
    // max(x, 0) − x·y = x·(1 − y) for x ≥ 0, −x·y for x < 0.
    let lin = if x >= T::ZERO {
        times(x, T::ONE - y)
    } else {
        times(-x, y)
    };
    lin + (-x.abs()).exp().ln_1p()
}

/// Binary cross-entropy with logits (see [`BceWithLogitsOp`]), mean over elements: logits and
/// targets of the same shape, targets in [0, 1] (an out-of-range or NaN target is a typed error).
pub fn bce_with_logits<'g, T: Float>(
    logits: Var<'g, T>,
    targets: Var<'g, T>,
) -> Result<Var<'g, T>> {
    bce_with_logits_with(logits, targets, Reduction::Mean)
}

/// Binary cross-entropy with logits reduced by `r`.
pub fn bce_with_logits_with<'g, T: Float>(
    logits: Var<'g, T>,
    targets: Var<'g, T>,
    r: Reduction,
) -> Result<Var<'g, T>> {
    same_shape("bce_with_logits", &logits, &targets)?;
    let (x, y) = (logits.value()?.contiguous(), targets.value()?.contiguous());
    check_targets("bce_with_logits", &y)?;
    let xs = x.as_slice().expect("contiguous"); // ok: made contiguous above
    let ys = y.as_slice().expect("contiguous"); // ok: made contiguous above
    let per: Vec<T> = xs
        .iter()
        .zip(ys)
        .map(|(&x, &y)| bce_logit_term(x, y))
        .collect();
    let out = reduce(per, x.shape(), r, T::from_usize(xs.len()))?;
    Ok(logits.record(BceWithLogitsOp(r), &[targets], out)?)
}

fn check_targets<T: Float>(op: &str, y: &Tensor<T>) -> Result<()> {
    if let Some((position, v)) = y
        .to_vec()
        .into_iter()
        .enumerate()
        .find(|(_, v)| !(*v >= T::ZERO && *v <= T::ONE))
    {
        return Err(NnError::InvalidConfig {
            what: "binary cross-entropy",
            message: format!("{op}: target {v} at position {position} is outside [0, 1]"),
        });
    }
    Ok(())
}

/// Binary cross-entropy on probabilities (PyTorch's `BCELoss`): −[y ln p + (1 − y) ln(1 − p)],
/// each log clamped at −100 as PyTorch does, reduced by a [`Reduction`].
/// ∂ℓ/∂p = (p − y) / max(p(1 − p), 1e-12) (divided by n for the mean). Prefer
/// [`bce_with_logits`].
pub struct BceOp(pub Reduction);

impl<T: Float> Backward<T> for BceOp {
    fn name(&self) -> &'static str {
        "binary_cross_entropy"
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        upstream: &Tensor<T>,
    ) -> neurite_autograd::Result<Vec<Option<Tensor<T>>>> {
        let (p, y) = (contiguous_vec(ctx.input(0)), contiguous_vec(ctx.input(1)));
        let up = Up::new(upstream, self.0, T::from_usize(p.len()))?;
        let (ps, ys) = (slice(&p), slice(&y));
        let tiny = T::from_f64(1e-12);
        let g = (0..ps.len())
            .map(|i| (ps[i] - ys[i]) / (ps[i] * (T::ONE - ps[i])).max(tiny) * up.at(i))
            .collect();
        let dp = Tensor::from_vec(g, p.shape())?;
        let dy = if ctx.needs_grad(1) {
            let lo = T::from_f64(-100.0);
            let g = (0..ps.len())
                .map(|i| ((T::ONE - ps[i]).ln().max(lo) - ps[i].ln().max(lo)) * up.at(i))
                .collect();
            Some(Tensor::from_vec(g, p.shape())?)
        } else {
            None
        };
        Ok(vec![Some(dp), dy])
    }
}

/// Binary cross-entropy on probabilities in [0, 1] (see [`BceOp`]), mean over elements.
pub fn binary_cross_entropy<'g, T: Float>(
    probs: Var<'g, T>,
    targets: Var<'g, T>,
) -> Result<Var<'g, T>> {
    binary_cross_entropy_with(probs, targets, Reduction::Mean)
}

/// Binary cross-entropy on probabilities reduced by `r`.
pub fn binary_cross_entropy_with<'g, T: Float>(
    probs: Var<'g, T>,
    targets: Var<'g, T>,
    r: Reduction,
) -> Result<Var<'g, T>> {
    same_shape("binary_cross_entropy", &probs, &targets)?;
    let (p, y) = (probs.value()?.contiguous(), targets.value()?.contiguous());
    check_targets("binary_cross_entropy", &y)?;
    if let Some((position, v)) = p
        .to_vec()
        .into_iter()
        .enumerate()
        .find(|(_, v)| !(*v >= T::ZERO && *v <= T::ONE))
    {
        return Err(NnError::InvalidConfig {
            what: "binary cross-entropy",
            message: format!(
                "binary_cross_entropy: probability {v} at position {position} is outside [0, 1]"
            ),
        });
    }
    let lo = T::from_f64(-100.0);
    let per = p.zip_map(&y, |p, y| {
        -(y * p.ln().max(lo) + (T::ONE - y) * (T::ONE - p).ln().max(lo))
    })?;
    let n = T::from_usize(per.len());
    let out = reduce(per.to_vec(), per.shape(), r, n)?;
    Ok(probs.record(BceOp(r), &[targets], out)?)
}

/// Options of [`cross_entropy_with`] (PyTorch's `CrossEntropyLoss` semantics).
#[derive(Debug, Clone, Default)]
pub struct CrossEntropyOptions {
    /// ε in [0, 1): the target is (1 − ε)·one-hot + ε/classes.
    pub label_smoothing: f64,
    /// One non-negative weight per class; the mean is then Σᵢ w_yᵢ ℓᵢ / Σᵢ w_yᵢ.
    pub class_weights: Option<Vec<f64>>,
    /// Mean (default), sum, or one loss per sample (shape \[batch\]).
    pub reduction: Reduction,
}

/// Fused softmax cross-entropy over logits [batch, classes]. With log-softmax ls, per-row
/// target weights q (one-hot, smoothed and class-weighted) and normaliser N:
/// loss = −Σᵢ Σ_c q_ic·ls_ic / N, and ∂loss/∂z_ic = (softmax_ic·Σ_c q_ic − q_ic) / N.
/// The softmax is computed once in the forward pass and kept for the backward.
pub struct CrossEntropyOp<T: Float> {
    probs: Vec<T>,
    labels: Vec<usize>,
    classes: usize,
    smoothing: T,
    weights: Option<Vec<T>>,
    norm: T,
    reduction: Reduction,
}

impl<T: Float> CrossEntropyOp<T> {
    /// q_ic for row i.
    fn target_weight(&self, label: usize, c: usize) -> T {
        let w = |c: usize| self.weights.as_ref().map_or(T::ONE, |w| w[c]);
        let hot = if c == label {
            (T::ONE - self.smoothing) * w(label)
        } else {
            T::ZERO
        };
        hot + self.smoothing / T::from_usize(self.classes) * w(c)
    }
}

impl<T: Float> Backward<T> for CrossEntropyOp<T> {
    fn name(&self) -> &'static str {
        "cross_entropy"
    }
    fn backward(
        &self,
        _ctx: &BackwardContext<'_, T>,
        upstream: &Tensor<T>,
    ) -> neurite_autograd::Result<Vec<Option<Tensor<T>>>> {
        let up = Up::new(upstream, self.reduction, self.norm)?;
        let c = self.classes;
        let mut grad = self.probs.clone();
        let plain = self.weights.is_none() && self.smoothing == T::ZERO;
        for (i, row) in grad.chunks_exact_mut(c).enumerate() {
            let label = self.labels[i];
            let scale = up.at(i);
            if plain {
                row[label] -= T::ONE;
                row.iter_mut().for_each(|g| *g *= scale);
            } else {
                let total: T = (0..c).fold(T::ZERO, |a, k| a + self.target_weight(label, k));
                for (k, g) in row.iter_mut().enumerate() {
                    *g = (*g * total - self.target_weight(label, k)) * scale;
                }
            }
        }
        Ok(vec![Some(Tensor::from_vec(grad, &[self.labels.len(), c])?)])
    }
}

fn check_labels(op: &'static str, shape: &[usize], labels: &[usize]) -> Result<()> {
    if shape.len() != 2 || shape[0] != labels.len() || shape[0] == 0 || shape[1] == 0 {
        return Err(NnError::BadInput {
            layer: op.into(),
            expected: format!(
                "scores [batch, classes] with batch = {} labels (both non-empty)",
                labels.len()
            ),
            got: shape.to_vec(),
        });
    }
    if let Some((position, &label)) = labels.iter().enumerate().find(|(_, &l)| l >= shape[1]) {
        return Err(NnError::LabelOutOfRange {
            op,
            label,
            position,
            classes: shape[1],
        });
    }
    Ok(())
}

fn check_weights(op: &'static str, w: &[f64], classes: usize) -> Result<()> {
    if w.len() != classes {
        return Err(NnError::config(
            op,
            format!("{} class weights given for {classes} classes", w.len()),
        ));
    }
    if let Some(bad) = w.iter().find(|v| !(**v >= 0.0 && v.is_finite())) {
        return Err(NnError::config(
            op,
            format!("class weights must be finite and ≥ 0, got {bad}"),
        ));
    }
    Ok(())
}

/// Softmax cross-entropy with class-index targets: mean over the batch of
/// −log softmax(logits)\[label\]. Logits \[batch, classes\]; one fused, stable op
/// ([`CrossEntropyOp`]) whose gradient is (softmax − one-hot)/batch.
pub fn cross_entropy<'g, T: Float>(logits: Var<'g, T>, labels: &[usize]) -> Result<Var<'g, T>> {
    cross_entropy_with(logits, labels, &CrossEntropyOptions::default())
}

/// Softmax cross-entropy with label smoothing and class weights (see [`CrossEntropyOptions`]).
pub fn cross_entropy_with<'g, T: Float>(
    logits: Var<'g, T>,
    labels: &[usize],
    opts: &CrossEntropyOptions,
) -> Result<Var<'g, T>> {
    let shape = logits.shape();
    check_labels("cross_entropy", &shape, labels)?;
    let classes = shape[1];
    if !(0.0..1.0).contains(&opts.label_smoothing) {
        return Err(NnError::config(
            "cross_entropy",
            format!(
                "label smoothing must be in [0, 1), got {}",
                opts.label_smoothing
            ),
        ));
    }
    if let Some(w) = &opts.class_weights {
        check_weights("cross_entropy", w, classes)?;
    }
    let weights: Option<Vec<T>> = opts
        .class_weights
        .as_ref()
        .map(|w| w.iter().map(|&v| T::from_f64(v)).collect());
    let norm = match &weights {
        Some(w) => labels.iter().fold(T::ZERO, |a, &l| a + w[l]),
        None => T::from_usize(labels.len()),
    };
    if norm.is_nan() || norm <= T::ZERO {
        return Err(NnError::config(
            "cross_entropy",
            "the class weights of the batch's labels sum to zero",
        ));
    }
    let z = logits.value()?.contiguous();
    let zs = z.as_slice().expect("contiguous"); // ok: made contiguous above
    let mut probs = Vec::with_capacity(zs.len());
    let mut op = CrossEntropyOp {
        probs: Vec::new(),
        labels: labels.to_vec(),
        classes,
        smoothing: T::from_f64(opts.label_smoothing),
        weights,
        norm,
        reduction: opts.reduction,
    };
    let plain = op.weights.is_none() && opts.label_smoothing == 0.0;
    let mut per = Vec::with_capacity(labels.len());
    for (i, row) in zs.chunks_exact(classes).enumerate() {
        let mut total = T::ZERO;
        let m = row.iter().fold(T::NEG_INFINITY, |a, &v| a.max(v));
        let m = if m.is_finite() { m } else { T::ZERO };
        let sum = row.iter().fold(T::ZERO, |a, &v| a + (v - m).exp());
        let lse = m + sum.ln();
        for &v in row {
            probs.push((v - m).exp() / sum);
        }
        if plain {
            total -= row[labels[i]] - lse;
        } else {
            for (k, &v) in row.iter().enumerate() {
                let q = op.target_weight(labels[i], k);
                if q != T::ZERO {
                    total -= q * (v - lse);
                }
            }
        }
        per.push(total);
    }
    op.probs = probs;
    let out = reduce(per, &[labels.len()], opts.reduction, norm)?;
    Ok(logits.record(op, &[], out)?)
}

/// Negative log-likelihood of log-probabilities [batch, classes] (e.g. from [`crate::LogSoftmax`])
/// with class-index targets: −Σᵢ w_yᵢ·logp[i, yᵢ] / Σᵢ w_yᵢ (w = 1 without class weights).
/// ∂/∂logp[i, yᵢ] = −w_yᵢ / Σ w.
pub fn nll<'g, T: Float>(
    log_probs: Var<'g, T>,
    labels: &[usize],
    class_weights: Option<&[f64]>,
) -> Result<Var<'g, T>> {
    nll_with(log_probs, labels, class_weights, Reduction::Mean)
}

/// Negative log-likelihood reduced by `r`: per sample −w_yᵢ·logp[i, yᵢ]; the mean divides the
/// sum by Σᵢ w_yᵢ (the batch size without class weights), as PyTorch's `NLLLoss`.
pub fn nll_with<'g, T: Float>(
    log_probs: Var<'g, T>,
    labels: &[usize],
    class_weights: Option<&[f64]>,
    r: Reduction,
) -> Result<Var<'g, T>> {
    let shape = log_probs.shape();
    check_labels("nll", &shape, labels)?;
    let picked = log_probs.gather(labels)?;
    match (class_weights, r) {
        (None, Reduction::Mean) => Ok(picked.mean()?.neg()?),
        (None, Reduction::Sum) => Ok(picked.sum()?.neg()?),
        (None, Reduction::None) => Ok(picked.neg()?),
        (Some(w), _) => {
            check_weights("nll", w, shape[1])?;
            let per: Vec<T> = labels.iter().map(|&l| T::from_f64(w[l])).collect();
            let norm: f64 = labels.iter().map(|&l| w[l]).sum();
            if norm.is_nan() || norm <= 0.0 {
                return Err(NnError::config(
                    "nll",
                    "the class weights of the batch's labels sum to zero",
                ));
            }
            let wv = log_probs
                .graph()
                .constant(Tensor::from_vec(per, &[labels.len()])?);
            let weighted = picked.mul(wv)?;
            Ok(match r {
                Reduction::Mean => weighted.sum()?.mul_scalar(T::from_f64(-1.0 / norm))?,
                Reduction::Sum => weighted.sum()?.neg()?,
                Reduction::None => weighted.neg()?,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use neurite_autograd::Graph;
    use neurite_tensor::Rng;

    fn t(v: Vec<f64>, s: &[usize]) -> Tensor<f64> {
        Tensor::from_vec(v, s).unwrap()
    }

    #[test]
    fn bce_with_logits_is_finite_and_exact_at_extreme_logits() {
        for (x, y, want_loss, want_grad) in [
            (1e4, 1.0, 0.0, 0.0),
            (-1e4, 0.0, 0.0, 0.0),
            (1e4, 0.0, 1e4, 1.0),
            (-1e4, 1.0, 1e4, -1.0),
            (f64::INFINITY, 1.0, 0.0, 0.0),
            (f64::NEG_INFINITY, 0.0, 0.0, 0.0),
            (0.0, 1.0, std::f64::consts::LN_2, -0.5),
        ] {
            let g = Graph::new();
            let xv = g.variable(t(vec![x], &[1]));
            let loss = bce_with_logits(xv, g.constant(t(vec![y], &[1]))).unwrap();
            let l = loss.item().unwrap();
            assert!(
                l.is_finite() && (l - want_loss).abs() < 1e-9,
                "x={x} y={y}: {l}"
            );
            let d = loss.backward().unwrap().get(xv).unwrap().to_vec()[0];
            assert!((d - want_grad).abs() < 1e-12, "x={x} y={y}: grad {d}");
        }
        // The wrong label at ±∞: infinite loss, gradient ±1 (σ(x) − y).
        let g = Graph::new();
        let xv = g.variable(t(vec![f64::INFINITY, f64::NEG_INFINITY], &[2]));
        let loss = bce_with_logits(xv, g.constant(t(vec![0.0, 1.0], &[2]))).unwrap();
        assert_eq!(loss.item().unwrap(), f64::INFINITY);
        let d = loss.backward().unwrap().get(xv).unwrap().to_vec();
        assert_eq!(d, vec![0.5, -0.5]);
        // f32 too.
        let g = Graph::<f32>::new();
        let xv = g.variable(Tensor::from_vec(vec![1e4f32, -1e4], &[2]).unwrap());
        let y = g.constant(Tensor::from_vec(vec![1.0f32, 0.0], &[2]).unwrap());
        assert_eq!(bce_with_logits(xv, y).unwrap().item().unwrap(), 0.0);
    }

    #[test]
    fn bce_with_logits_matches_bce_of_sigmoid_and_rejects_bad_targets() {
        let mut rng = Rng::new(1);
        let x = Tensor::<f64>::rand_normal(&[6], 0.0, 2.0, &mut rng);
        let y = t(vec![0.0, 1.0, 1.0, 0.0, 0.3, 1.0], &[6]);
        let g = Graph::new();
        let a = bce_with_logits(g.constant(x.clone()), g.constant(y.clone()))
            .unwrap()
            .item()
            .unwrap();
        let b = binary_cross_entropy(g.constant(x.sigmoid()), g.constant(y))
            .unwrap()
            .item()
            .unwrap();
        assert!((a - b).abs() < 1e-12);
        let bad = g.constant(t(vec![0.0, 2.0, 1.0, 0.0, 0.3, 1.0], &[6]));
        assert!(matches!(
            bce_with_logits(g.constant(x), bad),
            Err(NnError::InvalidConfig { .. })
        ));
    }

    #[test]
    fn cross_entropy_matches_pytorch_figures() {
        // PyTorch's CrossEntropyLoss formulas for z = [[1, 2, 3], [0.5, -1, 0]], y = [2, 0].
        let g = Graph::new();
        let z = g.constant(t(vec![1.0, 2.0, 3.0, 0.5, -1.0, 0.0], &[2, 3]));
        let plain = cross_entropy(z, &[2, 0]).unwrap().item().unwrap();
        assert!((plain - 0.505_868_284_9).abs() < 1e-6, "{plain}");
        let smooth = cross_entropy_with(
            z,
            &[2, 0],
            &CrossEntropyOptions {
                label_smoothing: 0.1,
                ..Default::default()
            },
        )
        .unwrap()
        .item()
        .unwrap();
        assert!((smooth - 0.589_201_618_2).abs() < 1e-6, "{smooth}");
        let weighted = cross_entropy_with(
            z,
            &[2, 0],
            &CrossEntropyOptions {
                class_weights: Some(vec![1.0, 1.0, 3.0]),
                ..Default::default()
            },
        )
        .unwrap()
        .item()
        .unwrap();
        assert!((weighted - 0.456_737_124_7).abs() < 1e-6, "{weighted}");
        let both = cross_entropy_with(
            z,
            &[2, 0],
            &CrossEntropyOptions {
                label_smoothing: 0.1,
                class_weights: Some(vec![1.0, 1.0, 3.0]),
                ..Default::default()
            },
        )
        .unwrap()
        .item()
        .unwrap();
        assert!((both - 0.503_219_102_6).abs() < 1e-6, "{both}");
        let n = nll(z.log_softmax(1).unwrap(), &[2, 0], Some(&[1.0, 1.0, 3.0]))
            .unwrap()
            .item()
            .unwrap();
        assert!((n - weighted).abs() < 1e-12);
    }

    #[test]
    fn class_losses_reject_bad_labels_and_options() {
        let g = Graph::<f64>::new();
        let z = g.constant(Tensor::zeros(&[2, 3]));
        assert!(matches!(
            cross_entropy(z, &[0, 3]),
            Err(NnError::LabelOutOfRange {
                label: 3,
                position: 1,
                classes: 3,
                ..
            })
        ));
        assert!(matches!(
            cross_entropy(z, &[0]),
            Err(NnError::BadInput { .. })
        ));
        let bad = CrossEntropyOptions {
            label_smoothing: 1.0,
            ..Default::default()
        };
        assert!(cross_entropy_with(z, &[0, 1], &bad).is_err());
        let bad = CrossEntropyOptions {
            class_weights: Some(vec![1.0]),
            ..Default::default()
        };
        assert!(cross_entropy_with(z, &[0, 1], &bad).is_err());
        assert!(nll(z, &[5, 0], None).is_err());
        assert!(huber(z, z, 0.0).is_err());
        let other = g.constant(Tensor::zeros(&[3, 2]));
        assert!(mse(z, other).is_err());
        assert!(l1(z, other).is_err());
    }

    #[test]
    fn reductions_agree_with_each_other_for_every_loss() {
        let mut rng = Rng::new(5);
        let g = Graph::<f64>::new();
        let a = g.constant(Tensor::rand_normal(&[3, 4], 0.0, 1.0, &mut rng));
        let b = g.constant(Tensor::rand_uniform(&[3, 4], 0.05, 0.95, &mut rng));
        let pr = g.constant(Tensor::rand_uniform(&[3, 4], 0.05, 0.95, &mut rng));
        type L<'g> = Box<dyn Fn(Reduction) -> Result<Var<'g, f64>> + 'g>;
        let y = [2usize, 0, 3];
        let w = [0.5, 1.0, 2.0, 3.0];
        let opts = |r| CrossEntropyOptions {
            label_smoothing: 0.1,
            class_weights: Some(w.to_vec()),
            reduction: r,
        };
        // (loss, divisor of the mean, expected shape without reduction)
        let cases: Vec<(&str, L<'_>, f64, Vec<usize>)> = vec![
            ("mse", Box::new(|r| mse_with(a, b, r)), 12.0, vec![3, 4]),
            ("l1", Box::new(|r| l1_with(a, b, r)), 12.0, vec![3, 4]),
            (
                "huber",
                Box::new(|r| huber_with(a, b, 0.5, r)),
                12.0,
                vec![3, 4],
            ),
            (
                "bce_with_logits",
                Box::new(|r| bce_with_logits_with(a, b, r)),
                12.0,
                vec![3, 4],
            ),
            (
                "bce",
                Box::new(|r| binary_cross_entropy_with(pr, b, r)),
                12.0,
                vec![3, 4],
            ),
            (
                "cross_entropy",
                Box::new(|r| {
                    cross_entropy_with(
                        a,
                        &y,
                        &CrossEntropyOptions {
                            reduction: r,
                            ..Default::default()
                        },
                    )
                }),
                3.0,
                vec![3],
            ),
            (
                "cross_entropy (weighted)",
                Box::new(move |r| cross_entropy_with(a, &y, &opts(r))),
                2.0 + 0.5 + 3.0,
                vec![3],
            ),
            ("nll", Box::new(|r| nll_with(a, &y, None, r)), 3.0, vec![3]),
            (
                "nll (weighted)",
                Box::new(|r| nll_with(a, &y, Some(&w), r)),
                5.5,
                vec![3],
            ),
        ];
        for (name, f, div, shape) in cases {
            let none = f(Reduction::None).unwrap();
            assert_eq!(none.shape(), shape, "{name}");
            let total: f64 = none.value().unwrap().to_vec().iter().sum();
            let sum = f(Reduction::Sum).unwrap().item().unwrap();
            let mean = f(Reduction::Mean).unwrap().item().unwrap();
            assert!((total - sum).abs() < 1e-12, "{name}: {total} vs {sum}");
            assert!(
                (sum / div - mean).abs() < 1e-12,
                "{name}: {sum}/{div} vs {mean}"
            );
        }
        // Per-sample cross-entropy is −log softmax at the label (PyTorch's reduction='none').
        let per = cross_entropy_with(
            a,
            &y,
            &CrossEntropyOptions {
                reduction: Reduction::None,
                ..Default::default()
            },
        )
        .unwrap()
        .value()
        .unwrap()
        .to_vec();
        let ls = a.log_softmax(1).unwrap().value().unwrap();
        for (i, &l) in y.iter().enumerate() {
            assert!((per[i] + ls.to_vec()[i * 4 + l]).abs() < 1e-12);
        }
    }

    #[test]
    fn regression_losses_values() {
        let g = Graph::new();
        let p = g.constant(t(vec![0.0, 3.0, -1.0], &[3]));
        let y = g.constant(t(vec![0.5, 0.0, -1.0], &[3]));
        assert!((l1(p, y).unwrap().item().unwrap() - 3.5 / 3.0).abs() < 1e-12);
        // Huber δ = 1: 0.5·0.25 + (3 − 0.5) + 0 = 2.625, mean 0.875.
        assert!((huber(p, y, 1.0).unwrap().item().unwrap() - 0.875).abs() < 1e-12);
        assert!((mse(p, y).unwrap().item().unwrap() - 9.25 / 3.0).abs() < 1e-12);
    }
}

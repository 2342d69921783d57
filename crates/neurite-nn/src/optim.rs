//! Optimisers: θ ← θ − α∇J(θ) and its refinements — SGD (momentum, Nesterov, weight decay),
//! Adam, AdamW, RMSprop and Adagrad — each updating parameters in place, with per-parameter
//! state kept by [`ParamId`]. Gradient clipping and learning-rate schedules are in
//! [`crate::schedule`] and [`clip_grad_norm`] / [`clip_grad_value`].

use std::collections::HashMap;

use neurite_autograd::{Gradients, ParamId, Parameter};
use neurite_tensor::{update, Float, Tensor};

use crate::tensor_file::{Dtype, StateDict, StoredTensor};

use crate::error::{NnError, Result};
use crate::module::Module;

/// [`NnError::InvalidConfig`] unless `lr` is a finite number ≥ 0.
fn check_learning_rate(lr: f64) -> Result<()> {
    if lr >= 0.0 && lr.is_finite() {
        Ok(())
    } else {
        Err(NnError::config(
            "learning rate",
            format!("a finite number >= 0, got {lr}"),
        ))
    }
}

/// An optimiser updates a model's parameters from one step's gradients.
pub trait Optimizer<T: Float> {
    /// One update of every parameter that has a gradient.
    fn step(&mut self, model: &mut dyn Module<T>, grads: &Gradients<T>) -> Result<()>;
    /// The current learning rate α.
    fn learning_rate(&self) -> f64;
    /// Sets the learning rate (schedules call this). A rate that is NaN, infinite or negative
    /// is refused by the next [`Optimizer::step`] with [`NnError::InvalidConfig`];
    /// [`Optimizer::try_set_learning_rate`] refuses it at once.
    fn set_learning_rate(&mut self, lr: f64);
    /// As [`Optimizer::set_learning_rate`], refusing a rate that is NaN, infinite or negative
    /// (the rate in force is then unchanged).
    fn try_set_learning_rate(&mut self, lr: f64) -> Result<()> {
        check_learning_rate(lr)?;
        self.set_learning_rate(lr);
        Ok(())
    }
    /// The optimiser's state keyed by parameter name — `lr`, and per parameter of `model` its
    /// buffers (`0.weight.momentum_buffer`, `0.weight.exp_avg`, `0.weight.step`, …) — for a
    /// checkpoint. Values keep the model's dtype, so a restore is bit for bit.
    fn state_dict(&self, model: &dyn Module<T>) -> Result<StateDict>;
    /// Restores what [`Optimizer::state_dict`] saved, for the parameters of `model` by name.
    /// A missing or unexpected entry, a shape or dtype that does not fit is an error naming
    /// it, and the optimiser is then unchanged.
    fn load_state_dict(&mut self, model: &dyn Module<T>, sd: &StateDict) -> Result<()>;
}

/// (name, id, shape) of every parameter of `model`, in visiting order.
fn params_of<T: Float>(model: &dyn Module<T>) -> Vec<(String, ParamId, Vec<usize>)> {
    let mut out = Vec::new();
    model.visit_params("", &mut |n, p| {
        out.push((n.to_string(), p.id(), p.shape().to_vec()))
    });
    out
}

fn state_err(message: String) -> NnError {
    NnError::config("optimizer state", message)
}

/// Writes `lr` and one per-parameter buffer map under `{name}.{suffix}`.
fn save_slot<T: Float>(
    sd: &mut StateDict,
    params: &[(String, ParamId, Vec<usize>)],
    suffix: &str,
    map: &HashMap<ParamId, Vec<T>>,
) -> Result<()> {
    for (name, id, shape) in params {
        if let Some(v) = map.get(id) {
            sd.insert(
                format!("{name}.{suffix}"),
                StoredTensor::from_slice(shape, v)?,
            );
        }
    }
    Ok(())
}

/// Reads one per-parameter buffer map written by [`save_slot`]; marks the names it used.
fn load_slot<T: Float>(
    sd: &StateDict,
    params: &[(String, ParamId, Vec<usize>)],
    suffix: &str,
    used: &mut Vec<String>,
) -> Result<HashMap<ParamId, Vec<T>>> {
    let mut map = HashMap::new();
    for (name, id, shape) in params {
        let key = format!("{name}.{suffix}");
        if let Some(t) = sd.get(&key) {
            if t.dtype() != Dtype::of::<T>() || t.shape() != shape.as_slice() {
                return Err(state_err(format!(
                    "{key:?} is {} {:?}, the parameter needs {} {shape:?}",
                    t.dtype(),
                    t.shape(),
                    T::NAME
                )));
            }
            map.insert(*id, t.to_float::<T>()?.to_vec());
            used.push(key);
        }
    }
    Ok(map)
}

fn save_lr(sd: &mut StateDict, lr: f64) -> Result<()> {
    let t = Tensor::<f64>::from_vec(vec![lr], &[])?;
    sd.insert("lr", StoredTensor::from_float(&t));
    Ok(())
}

/// The learning rate, and a check that every entry of `sd` was used.
fn finish_load(sd: &StateDict, mut used: Vec<String>) -> Result<f64> {
    let lr = sd
        .require("lr")
        .and_then(|t| t.to_float::<f64>())
        .map_err(|e| state_err(format!("lr: {e}")))?;
    let lr = lr.to_vec().first().copied().unwrap_or(f64::NAN);
    check_lr("optimizer state", lr)?;
    used.push("lr".into());
    if let Some(extra) = sd.names().find(|n| !used.iter().any(|u| u == n)) {
        return Err(state_err(format!(
            "unexpected entry {extra:?} (no parameter of the model, or another optimiser's state)"
        )));
    }
    Ok(lr)
}

fn check_lr(what: &'static str, lr: f64) -> Result<()> {
    if lr > 0.0 && lr.is_finite() {
        Ok(())
    } else {
        Err(NnError::config(
            what,
            format!("learning rate must be positive and finite, got {lr}"),
        ))
    }
}

fn check_unit(what: &'static str, name: &str, v: f64) -> Result<()> {
    if (0.0..1.0).contains(&v) {
        Ok(())
    } else {
        Err(NnError::config(
            what,
            format!("{name} must be in [0, 1), got {v}"),
        ))
    }
}

fn check_nonneg(what: &'static str, name: &str, v: f64) -> Result<()> {
    if v >= 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(NnError::config(
            what,
            format!("{name} must be finite and ≥ 0, got {v}"),
        ))
    }
}

/// Calls `f(name, parameter, gradient slice)` for every parameter of `model` that has a gradient,
/// stopping at the first error. The gradient must have the parameter's shape.
fn for_each_param<T: Float>(
    model: &mut dyn Module<T>,
    grads: &Gradients<T>,
    mut f: impl FnMut(&str, &mut Parameter<T>, &[T]) -> Result<()>,
) -> Result<()> {
    let mut err = None;
    model.visit_params_mut("", &mut |name, p| {
        if err.is_some() {
            return;
        }
        let Some(g) = grads.wrt(p) else { return };
        if g.shape() != p.shape() {
            err = Some(NnError::BadInput {
                layer: format!("optimiser step for {name}"),
                expected: format!("a gradient of shape {:?}", p.shape()),
                got: g.shape().to_vec(),
            });
            return;
        }
        let owned;
        let gs = match g.as_slice() {
            Some(s) => s,
            None => {
                owned = g.contiguous();
                owned.as_slice().expect("contiguous") // ok: made contiguous above
            }
        };
        if let Err(e) = f(name, p, gs) {
            err = Some(e);
        }
    });
    err.map_or(Ok(()), Err)
}

/// One state buffer per parameter, created as zeros on first use.
fn state<'a, T: Float>(
    map: &'a mut HashMap<ParamId, Vec<T>>,
    what: &'static str,
    name: &str,
    p: &Parameter<T>,
) -> Result<&'a mut Vec<T>> {
    let s = map.entry(p.id()).or_insert_with(|| vec![T::ZERO; p.len()]);
    check_state_len(what, name, p, s.len())?;
    Ok(s)
}

/// The state kept for a parameter must still fit it: `Parameter::value_mut` can replace a value
/// by one of another size, which would misalign (or overrun) the running averages.
fn check_state_len<T: Float>(
    what: &'static str,
    name: &str,
    p: &Parameter<T>,
    len: usize,
) -> Result<()> {
    if p.len() != len {
        return Err(NnError::BadInput {
            layer: format!("{what} step for {name}"),
            expected: format!(
                "a parameter of {len} elements, as at the optimiser's first step (make a new \
                 optimiser after changing a parameter's size)"
            ),
            got: p.shape().to_vec(),
        });
    }
    Ok(())
}

/// Stochastic gradient descent with optional momentum (classical or Nesterov) and L2 weight
/// decay, as PyTorch's `SGD`: g ← g + λθ; v ← μv + g; θ ← θ − α·v (or − α·(g + μv), Nesterov).
#[derive(Debug, Clone)]
pub struct Sgd<T: Float> {
    lr: f64,
    momentum: f64,
    nesterov: bool,
    weight_decay: f64,
    velocity: HashMap<ParamId, Vec<T>>,
}

/// [`Sgd`]'s hyper-parameters by name, with PyTorch's defaults (no momentum, no weight decay):
/// `Sgd::from_config(SgdConfig { lr: 0.1, momentum: 0.9, ..Default::default() })`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdConfig {
    /// Learning rate α > 0. Default 0.01.
    pub lr: f64,
    /// Momentum μ in [0, 1). Default 0.
    pub momentum: f64,
    /// Nesterov momentum (needs μ > 0). Default false.
    pub nesterov: bool,
    /// L2 weight decay λ ≥ 0. Default 0.
    pub weight_decay: f64,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 0.01,
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        }
    }
}

impl<T: Float> Sgd<T> {
    /// SGD from named hyper-parameters (invalid values are a typed error).
    pub fn from_config(c: SgdConfig) -> Result<Self> {
        Self::with_options(c.lr, c.momentum, c.nesterov, c.weight_decay)
    }
    /// Plain SGD: θ ← θ − α·g.
    pub fn new(lr: f64) -> Result<Self> {
        Self::from_config(SgdConfig {
            lr,
            ..Default::default()
        })
    }
    /// SGD with momentum μ (v ← μv + g; θ ← θ − α·v, or − α·(g + μv) for Nesterov) and L2 weight decay λ (g ← g + λθ).
    pub fn with_options(lr: f64, momentum: f64, nesterov: bool, weight_decay: f64) -> Result<Self> {
        check_lr("Sgd", lr)?;
        check_unit("Sgd", "momentum", momentum)?;
        check_nonneg("Sgd", "weight decay", weight_decay)?;
        if nesterov && momentum == 0.0 {
            return Err(NnError::config(
                "Sgd",
                "Nesterov momentum needs momentum > 0",
            ));
        }
        Ok(Sgd {
            lr,
            momentum,
            nesterov,
            weight_decay,
            velocity: HashMap::new(),
        })
    }
}

impl<T: Float> Optimizer<T> for Sgd<T> {
    fn step(&mut self, model: &mut dyn Module<T>, grads: &Gradients<T>) -> Result<()> {
        check_learning_rate(self.lr)?;
        let lr = T::from_f64(self.lr);
        let wd = T::from_f64(self.weight_decay);
        let mu = T::from_f64(self.momentum);
        let (momentum, nesterov) = (self.momentum > 0.0, self.nesterov);
        let velocity = &mut self.velocity;
        for_each_param(model, grads, |name, p, g| {
            if !momentum && wd == T::ZERO {
                // Plain SGD: one fused pass θ ← θ − α·g.
                update::sgd(p.value_mut().as_slice_mut(), g, lr);
                return Ok(());
            }
            let v = if momentum {
                Some(state(velocity, "Sgd", name, p)?)
            } else {
                None
            };
            let theta = p.value_mut().as_slice_mut();
            update::sgd_momentum(theta, g, v.map(|v| &mut v[..]), lr, mu, wd, nesterov);
            Ok(())
        })
    }
    fn learning_rate(&self) -> f64 {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }
    fn state_dict(&self, model: &dyn Module<T>) -> Result<StateDict> {
        let mut sd = StateDict::new();
        save_lr(&mut sd, self.lr)?;
        save_slot(
            &mut sd,
            &params_of(model),
            "momentum_buffer",
            &self.velocity,
        )?;
        Ok(sd)
    }
    fn load_state_dict(&mut self, model: &dyn Module<T>, sd: &StateDict) -> Result<()> {
        let mut used = Vec::new();
        let v = load_slot(sd, &params_of(model), "momentum_buffer", &mut used)?;
        self.lr = finish_load(sd, used)?;
        self.velocity = v;
        Ok(())
    }
}

/// Adam's moments of one parameter.
#[derive(Debug, Clone)]
struct Moments<T> {
    step: i32,
    m: Vec<T>,
    v: Vec<T>,
}

/// Adam (Kingma & Ba) and AdamW (decoupled weight decay, Loshchilov & Hutter), as PyTorch's:
/// m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; θ ← θ − α·m̂/(√v̂ + ε) with the bias
/// corrections m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ). Adam's weight decay adds λθ to g; AdamW's
/// shrinks θ ← θ(1 − αλ) before the update. Defaults β = (0.9, 0.999), ε = 1e-8.
#[derive(Debug, Clone)]
pub struct Adam<T: Float> {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    decoupled: bool,
    moments: HashMap<ParamId, Moments<T>>,
}

/// [`Adam`]'s hyper-parameters by name, with PyTorch's defaults:
/// `Adam::from_config(AdamConfig { lr: 3e-4, ..AdamConfig::adamw() })`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    /// Learning rate α > 0. Default 1e-3.
    pub lr: f64,
    /// (β₁, β₂), each in [0, 1). Default (0.9, 0.999).
    pub betas: (f64, f64),
    /// ε > 0. Default 1e-8.
    pub eps: f64,
    /// Weight decay λ ≥ 0. Default 0 (0.01 in [`AdamConfig::adamw`]).
    pub weight_decay: f64,
    /// Decoupled weight decay (AdamW) instead of L2 added to the gradient. Default false.
    pub decoupled: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
        }
    }
}

impl AdamConfig {
    /// PyTorch's AdamW defaults: decoupled weight decay 0.01.
    pub fn adamw() -> Self {
        AdamConfig {
            weight_decay: 0.01,
            decoupled: true,
            ..Default::default()
        }
    }
}

impl<T: Float> Adam<T> {
    /// Adam or AdamW from named hyper-parameters (invalid values are a typed error).
    pub fn from_config(c: AdamConfig) -> Result<Self> {
        let what = if c.decoupled { "AdamW" } else { "Adam" };
        Self::build(what, c.lr, c.betas, c.eps, c.weight_decay, c.decoupled)
    }
    /// Adam with the default β and ε, no weight decay.
    pub fn new(lr: f64) -> Result<Self> {
        Self::from_config(AdamConfig {
            lr,
            ..Default::default()
        })
    }
    /// Adam with explicit betas, ε and L2 weight decay λ (added to the gradient).
    pub fn with_options(lr: f64, betas: (f64, f64), eps: f64, weight_decay: f64) -> Result<Self> {
        Self::build("Adam", lr, betas, eps, weight_decay, false)
    }
    /// AdamW: decoupled weight decay λ (PyTorch's default λ = 0.01).
    pub fn adamw(lr: f64, weight_decay: f64) -> Result<Self> {
        Self::build("AdamW", lr, (0.9, 0.999), 1e-8, weight_decay, true)
    }
    /// AdamW with explicit betas and ε.
    pub fn adamw_with_options(
        lr: f64,
        betas: (f64, f64),
        eps: f64,
        weight_decay: f64,
    ) -> Result<Self> {
        Self::build("AdamW", lr, betas, eps, weight_decay, true)
    }
    fn build(
        what: &'static str,
        lr: f64,
        (beta1, beta2): (f64, f64),
        eps: f64,
        weight_decay: f64,
        decoupled: bool,
    ) -> Result<Self> {
        check_lr(what, lr)?;
        check_unit(what, "beta1", beta1)?;
        check_unit(what, "beta2", beta2)?;
        if !(eps > 0.0 && eps.is_finite()) {
            return Err(NnError::config(
                what,
                format!("eps must be positive, got {eps}"),
            ));
        }
        check_nonneg(what, "weight decay", weight_decay)?;
        Ok(Adam {
            lr,
            beta1,
            beta2,
            eps,
            weight_decay,
            decoupled,
            moments: HashMap::new(),
        })
    }
}

impl<T: Float> Optimizer<T> for Adam<T> {
    fn step(&mut self, model: &mut dyn Module<T>, grads: &Gradients<T>) -> Result<()> {
        check_learning_rate(self.lr)?;
        let (b1, b2) = (self.beta1, self.beta2);
        let (lr, eps, wd, decoupled) = (self.lr, self.eps, self.weight_decay, self.decoupled);
        let moments = &mut self.moments;
        for_each_param(model, grads, |name, p, g| {
            let st = moments.entry(p.id()).or_insert_with(|| Moments {
                step: 0,
                m: vec![T::ZERO; p.len()],
                v: vec![T::ZERO; p.len()],
            });
            check_state_len("Adam", name, p, st.m.len())?;
            st.step += 1;
            let c1 = 1.0 - b1.powi(st.step);
            let c2 = 1.0 - b2.powi(st.step);
            // θ ← θ − (α/c1)·m / (√v/√c2 + ε)
            let step_size = T::from_f64(lr / c1);
            let sqrt_c2 = T::from_f64(c2.sqrt());
            let (tb1, tb2) = (T::from_f64(b1), T::from_f64(b2));
            let (ob1, ob2) = (T::from_f64(1.0 - b1), T::from_f64(1.0 - b2));
            let (teps, twd) = (T::from_f64(eps), T::from_f64(wd));
            let shrink = T::from_f64(1.0 - lr * wd);
            let theta = p.value_mut().as_slice_mut();
            let step = update::AdamStep {
                step_size,
                sqrt_c2,
                beta1: tb1,
                beta2: tb2,
                one_minus_beta1: ob1,
                one_minus_beta2: ob2,
                eps: teps,
                weight_decay: twd,
                shrink,
                decoupled,
            };
            update::adam(theta, g, &mut st.m, &mut st.v, &step);
            Ok(())
        })
    }
    fn learning_rate(&self) -> f64 {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }
    fn state_dict(&self, model: &dyn Module<T>) -> Result<StateDict> {
        let mut sd = StateDict::new();
        save_lr(&mut sd, self.lr)?;
        for (name, id, shape) in params_of(model) {
            if let Some(st) = self.moments.get(&id) {
                sd.insert(
                    format!("{name}.step"),
                    StoredTensor::scalar_i64(st.step as i64),
                );
                for (suffix, v) in [("exp_avg", &st.m), ("exp_avg_sq", &st.v)] {
                    sd.insert(
                        format!("{name}.{suffix}"),
                        StoredTensor::from_slice(&shape, v)?,
                    );
                }
            }
        }
        Ok(sd)
    }
    fn load_state_dict(&mut self, model: &dyn Module<T>, sd: &StateDict) -> Result<()> {
        let params = params_of(model);
        let mut used = Vec::new();
        let mut m = load_slot(sd, &params, "exp_avg", &mut used)?;
        let mut v = load_slot(sd, &params, "exp_avg_sq", &mut used)?;
        let mut moments = HashMap::new();
        for (name, id, _) in &params {
            let key = format!("{name}.step");
            match (sd.get(&key), m.remove(id), v.remove(id)) {
                (None, None, None) => {}
                (Some(s), Some(m), Some(v)) => {
                    let step = s
                        .to_i64()
                        .ok()
                        .filter(|s| s.len() == 1)
                        .and_then(|s| i32::try_from(s[0]).ok())
                        .filter(|&s| s >= 0)
                        .ok_or_else(|| {
                            state_err(format!("{key:?} is not a step count (I64 scalar)"))
                        })?;
                    moments.insert(*id, Moments { step, m, v });
                    used.push(key);
                }
                _ => {
                    return Err(state_err(format!(
                        "{name:?}: step, exp_avg and exp_avg_sq must come together"
                    )))
                }
            }
        }
        self.lr = finish_load(sd, used)?;
        self.moments = moments;
        Ok(())
    }
}

/// RMSprop as PyTorch's (not centred): v ← ρv + (1 − ρ)g²; with momentum μ,
/// b ← μb + g/(√v + ε) and θ ← θ − α·b, else θ ← θ − α·g/(√v + ε). Defaults ρ = 0.99, ε = 1e-8.
#[derive(Debug, Clone)]
pub struct RmsProp<T: Float> {
    lr: f64,
    alpha: f64,
    eps: f64,
    momentum: f64,
    weight_decay: f64,
    square_avg: HashMap<ParamId, Vec<T>>,
    buffer: HashMap<ParamId, Vec<T>>,
}

/// [`RmsProp`]'s hyper-parameters by name, with PyTorch's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RmsPropConfig {
    /// Learning rate α > 0. Default 0.01.
    pub lr: f64,
    /// Smoothing ρ in [0, 1). Default 0.99.
    pub alpha: f64,
    /// ε > 0. Default 1e-8.
    pub eps: f64,
    /// Momentum μ in [0, 1). Default 0.
    pub momentum: f64,
    /// L2 weight decay λ ≥ 0. Default 0.
    pub weight_decay: f64,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        RmsPropConfig {
            lr: 0.01,
            alpha: 0.99,
            eps: 1e-8,
            momentum: 0.0,
            weight_decay: 0.0,
        }
    }
}

impl<T: Float> RmsProp<T> {
    /// RMSprop from named hyper-parameters (invalid values are a typed error).
    pub fn from_config(c: RmsPropConfig) -> Result<Self> {
        Self::with_options(c.lr, c.alpha, c.eps, c.momentum, c.weight_decay)
    }
    /// RMSprop with ρ = 0.99, ε = 1e-8, no momentum.
    pub fn new(lr: f64) -> Result<Self> {
        Self::from_config(RmsPropConfig {
            lr,
            ..Default::default()
        })
    }
    /// RMSprop with smoothing ρ (`alpha`), ε, momentum μ and L2 weight decay λ.
    pub fn with_options(
        lr: f64,
        alpha: f64,
        eps: f64,
        momentum: f64,
        weight_decay: f64,
    ) -> Result<Self> {
        check_lr("RmsProp", lr)?;
        check_unit("RmsProp", "alpha", alpha)?;
        check_unit("RmsProp", "momentum", momentum)?;
        check_nonneg("RmsProp", "weight decay", weight_decay)?;
        if !(eps > 0.0 && eps.is_finite()) {
            return Err(NnError::config(
                "RmsProp",
                format!("eps must be positive, got {eps}"),
            ));
        }
        Ok(RmsProp {
            lr,
            alpha,
            eps,
            momentum,
            weight_decay,
            square_avg: HashMap::new(),
            buffer: HashMap::new(),
        })
    }
}

impl<T: Float> Optimizer<T> for RmsProp<T> {
    fn step(&mut self, model: &mut dyn Module<T>, grads: &Gradients<T>) -> Result<()> {
        check_learning_rate(self.lr)?;
        let (lr, rho, eps) = (
            T::from_f64(self.lr),
            T::from_f64(self.alpha),
            T::from_f64(self.eps),
        );
        let (mu, wd) = (T::from_f64(self.momentum), T::from_f64(self.weight_decay));
        let use_momentum = self.momentum > 0.0;
        let (sq, buf) = (&mut self.square_avg, &mut self.buffer);
        for_each_param(model, grads, |name, p, g| {
            let v = state(sq, "RmsProp", name, p)?;
            let b = if use_momentum {
                Some(state(buf, "RmsProp", name, p)?)
            } else {
                None
            };
            let theta = p.value_mut().as_slice_mut();
            let b = b.map(|b| &mut b[..]);
            update::rmsprop(theta, g, v, b, lr, rho, eps, mu, wd);
            Ok(())
        })
    }
    fn learning_rate(&self) -> f64 {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }
    fn state_dict(&self, model: &dyn Module<T>) -> Result<StateDict> {
        let mut sd = StateDict::new();
        save_lr(&mut sd, self.lr)?;
        let params = params_of(model);
        save_slot(&mut sd, &params, "square_avg", &self.square_avg)?;
        save_slot(&mut sd, &params, "momentum_buffer", &self.buffer)?;
        Ok(sd)
    }
    fn load_state_dict(&mut self, model: &dyn Module<T>, sd: &StateDict) -> Result<()> {
        let params = params_of(model);
        let mut used = Vec::new();
        let sq = load_slot(sd, &params, "square_avg", &mut used)?;
        let buf = load_slot(sd, &params, "momentum_buffer", &mut used)?;
        self.lr = finish_load(sd, used)?;
        self.square_avg = sq;
        self.buffer = buf;
        Ok(())
    }
}

/// Adagrad as PyTorch's: s ← s + g²; θ ← θ − α·g/(√s + ε), ε = 1e-10.
#[derive(Debug, Clone)]
pub struct Adagrad<T: Float> {
    lr: f64,
    eps: f64,
    weight_decay: f64,
    sum_sq: HashMap<ParamId, Vec<T>>,
}

/// [`Adagrad`]'s hyper-parameters by name, with PyTorch's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdagradConfig {
    /// Learning rate α > 0. Default 0.01.
    pub lr: f64,
    /// ε > 0. Default 1e-10.
    pub eps: f64,
    /// L2 weight decay λ ≥ 0. Default 0.
    pub weight_decay: f64,
}

impl Default for AdagradConfig {
    fn default() -> Self {
        AdagradConfig {
            lr: 0.01,
            eps: 1e-10,
            weight_decay: 0.0,
        }
    }
}

impl<T: Float> Adagrad<T> {
    /// Adagrad from named hyper-parameters (invalid values are a typed error).
    pub fn from_config(c: AdagradConfig) -> Result<Self> {
        Self::with_options(c.lr, c.eps, c.weight_decay)
    }
    /// Adagrad with ε = 1e-10 and no weight decay.
    pub fn new(lr: f64) -> Result<Self> {
        Self::from_config(AdagradConfig {
            lr,
            ..Default::default()
        })
    }
    /// Adagrad with ε and L2 weight decay λ.
    pub fn with_options(lr: f64, eps: f64, weight_decay: f64) -> Result<Self> {
        check_lr("Adagrad", lr)?;
        check_nonneg("Adagrad", "weight decay", weight_decay)?;
        if !(eps > 0.0 && eps.is_finite()) {
            return Err(NnError::config(
                "Adagrad",
                format!("eps must be positive, got {eps}"),
            ));
        }
        Ok(Adagrad {
            lr,
            eps,
            weight_decay,
            sum_sq: HashMap::new(),
        })
    }
}

impl<T: Float> Optimizer<T> for Adagrad<T> {
    fn step(&mut self, model: &mut dyn Module<T>, grads: &Gradients<T>) -> Result<()> {
        check_learning_rate(self.lr)?;
        let (lr, eps, wd) = (
            T::from_f64(self.lr),
            T::from_f64(self.eps),
            T::from_f64(self.weight_decay),
        );
        let sums = &mut self.sum_sq;
        for_each_param(model, grads, |name, p, g| {
            let s = state(sums, "Adagrad", name, p)?;
            update::adagrad(p.value_mut().as_slice_mut(), g, s, lr, eps, wd);
            Ok(())
        })
    }
    fn learning_rate(&self) -> f64 {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }
    fn state_dict(&self, model: &dyn Module<T>) -> Result<StateDict> {
        let mut sd = StateDict::new();
        save_lr(&mut sd, self.lr)?;
        save_slot(&mut sd, &params_of(model), "sum", &self.sum_sq)?;
        Ok(sd)
    }
    fn load_state_dict(&mut self, model: &dyn Module<T>, sd: &StateDict) -> Result<()> {
        let mut used = Vec::new();
        let s = load_slot(sd, &params_of(model), "sum", &mut used)?;
        self.lr = finish_load(sd, used)?;
        self.sum_sq = s;
        Ok(())
    }
}

/// Scales every parameter gradient by min(1, max_norm/‖g‖) where ‖g‖ is the global L2 norm over
/// all of them (PyTorch's `clip_grad_norm_`); returns ‖g‖ before clipping.
pub fn clip_grad_norm<T: Float>(grads: &mut Gradients<T>, max_norm: f64) -> Result<f64> {
    if max_norm.is_nan() || max_norm <= 0.0 {
        return Err(NnError::config(
            "clip_grad_norm",
            format!("max norm must be positive, got {max_norm}"),
        ));
    }
    let total: f64 = grads
        .params()
        .map(|(_, g)| g.norm_sq().to_f64())
        .sum::<f64>()
        .sqrt();
    if total > max_norm {
        let c = T::from_f64(max_norm / (total + 1e-6));
        grads.scale(c);
    }
    Ok(total)
}

/// Clamps every parameter gradient element to [−clip, clip].
pub fn clip_grad_value<T: Float>(grads: &mut Gradients<T>, clip: f64) -> Result<()> {
    if clip.is_nan() || clip <= 0.0 {
        return Err(NnError::config(
            "clip_grad_value",
            format!("clip value must be positive, got {clip}"),
        ));
    }
    let c = T::from_f64(clip);
    for (_, g) in grads.params_mut() {
        g.map_inplace(|x| x.max(-c).min(c));
    }
    Ok(())
}

#[cfg(test)]
mod lr_tests {
    use super::*;

    #[test]
    fn non_finite_or_negative_learning_rates_are_refused() {
        let mut opt = Sgd::<f32>::new(0.1).unwrap();
        for bad in [f64::NAN, f64::INFINITY, -0.5] {
            assert!(opt.try_set_learning_rate(bad).is_err(), "{bad}");
            assert_eq!(opt.learning_rate(), 0.1);
        }
        opt.set_learning_rate(f64::NAN);
        let mut model = crate::Sequential::<f32>::new();
        let grads = neurite_autograd::Graph::<f32>::new()
            .constant(Tensor::zeros(&[1]))
            .sum()
            .unwrap()
            .backward()
            .unwrap();
        assert!(matches!(
            opt.step(&mut model, &grads),
            Err(NnError::InvalidConfig { .. })
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Linear, Module};
    use neurite_autograd::Graph;
    use neurite_tensor::{Rng, Tensor};

    /// A one-parameter model: θ [n].
    struct Theta(Parameter<f64>);
    impl Module<f64> for Theta {
        fn forward<'g>(
            &self,
            graph: &'g Graph<f64>,
            _x: neurite_autograd::Var<'g, f64>,
        ) -> Result<neurite_autograd::Var<'g, f64>> {
            Ok(graph.param(&self.0))
        }
        fn visit_params(&self, p: &str, f: &mut dyn FnMut(&str, &Parameter<f64>)) {
            f(p, &self.0)
        }
        fn visit_params_mut(&mut self, p: &str, f: &mut dyn FnMut(&str, &mut Parameter<f64>)) {
            f(p, &mut self.0)
        }
    }

    /// Runs `steps` of `opt` on J(θ) = Σ c·θ² / 2 (gradient c·θ) and returns the θ trajectory.
    fn run(opt: &mut dyn Optimizer<f64>, theta0: f64, c: f64, steps: usize) -> Vec<f64> {
        let mut m = Theta(Parameter::new(
            Tensor::from_vec(vec![theta0], &[1]).unwrap(),
        ));
        let mut out = Vec::new();
        for _ in 0..steps {
            let g = Graph::new();
            let t = m.forward(&g, g.constant(Tensor::zeros(&[1]))).unwrap();
            let loss = t
                .square()
                .unwrap()
                .sum()
                .unwrap()
                .mul_scalar(c / 2.0)
                .unwrap();
            let grads = loss.backward().unwrap();
            opt.step(&mut m, &grads).unwrap();
            out.push(m.0.value().to_vec()[0]);
        }
        out
    }

    fn close(a: &[f64], b: &[f64]) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-10, "{a:?} vs {b:?}");
        }
    }

    /// One step of Σθ² on `m`.
    fn step_once(opt: &mut dyn Optimizer<f64>, m: &mut Theta) -> Result<()> {
        let g = Graph::new();
        let t = m.forward(&g, g.constant(Tensor::zeros(&[1])))?;
        let grads = t.square()?.sum()?.backward()?;
        opt.step(m, &grads)
    }

    #[test]
    fn a_parameter_resized_after_the_first_step_is_an_error() -> Result<()> {
        let optimisers: Vec<Box<dyn Optimizer<f64>>> = vec![
            Box::new(Sgd::with_options(0.1, 0.9, false, 0.0)?),
            Box::new(Adam::new(0.1)?),
            Box::new(RmsProp::with_options(0.1, 0.99, 1e-8, 0.9, 0.0)?),
            Box::new(RmsProp::new(0.1)?),
            Box::new(Adagrad::new(0.1)?),
        ];
        for mut opt in optimisers {
            let mut m = Theta(Parameter::new(Tensor::ones(&[1])));
            step_once(&mut *opt, &mut m)?;
            // `value_mut` can replace the value by one of another size; the running state no
            // longer fits it (RmsProp indexed past its end before).
            *m.0.value_mut() = Tensor::ones(&[3]);
            let e = step_once(&mut *opt, &mut m).unwrap_err();
            assert!(matches!(e, NnError::BadInput { .. }), "{e}");
            assert!(e.to_string().contains("first step"), "{e}");
        }
        Ok(())
    }

    #[test]
    fn sgd_variants_follow_their_formulas() {
        // g = θ (c = 1), θ₀ = 1, α = 0.1.
        close(&run(&mut Sgd::new(0.1).unwrap(), 1.0, 1.0, 2), &[0.9, 0.81]);
        // Momentum 0.5: v₁ = 1, θ₁ = 0.9; v₂ = 0.5 + 0.9 = 1.4, θ₂ = 0.76.
        close(
            &run(
                &mut Sgd::with_options(0.1, 0.5, false, 0.0).unwrap(),
                1.0,
                1.0,
                2,
            ),
            &[0.9, 0.76],
        );
        // Nesterov: v₁ = 1, θ₁ = 1 − 0.1(1 + 0.5) = 0.85; v₂ = 0.5 + 0.85 = 1.35,
        // θ₂ = 0.85 − 0.1(0.85 + 0.675) = 0.6975.
        close(
            &run(
                &mut Sgd::with_options(0.1, 0.5, true, 0.0).unwrap(),
                1.0,
                1.0,
                2,
            ),
            &[0.85, 0.6975],
        );
        // Weight decay 1: g = 2θ: θ₁ = 0.8.
        close(
            &run(
                &mut Sgd::with_options(0.1, 0.0, false, 1.0).unwrap(),
                1.0,
                1.0,
                1,
            ),
            &[0.8],
        );
        assert!(Sgd::<f64>::new(0.0).is_err());
        assert!(Sgd::<f64>::with_options(0.1, 1.0, false, 0.0).is_err());
        assert!(Sgd::<f64>::with_options(0.1, 0.0, true, 0.0).is_err());
    }

    #[test]
    fn adaptive_optimisers_follow_their_formulas() {
        // Adam's first step is α·sign(g) (up to ε): θ₁ = 1 − 0.1.
        let t = run(&mut Adam::new(0.1).unwrap(), 1.0, 3.0, 2);
        assert!((t[0] - 0.9).abs() < 1e-7);
        // Step 2 by hand: g₁ = 3, g₂ = 2.7.
        let (m, v) = (
            0.9 * 0.1 * 3.0 + 0.1 * 2.7,
            0.999 * 0.001 * 9.0 + 0.001 * 2.7f64.powi(2),
        );
        let want = 0.9 - 0.1 * (m / (1.0 - 0.81)) / ((v / (1.0 - 0.999f64.powi(2))).sqrt() + 1e-8);
        // (θ₁ differs from 0.9 by the ε term, hence the tolerance.)
        assert!((t[1] - want).abs() < 1e-8, "{} {want}", t[1]);
        // AdamW shrinks first: θ₁ = 1·(1 − 0.1·0.5) − 0.1.
        let t = run(&mut Adam::adamw(0.1, 0.5).unwrap(), 1.0, 3.0, 1);
        assert!((t[0] - 0.85).abs() < 1e-7);
        // RMSprop: v = 0.01·g², θ₁ = 1 − 0.1·g/(0.1|g|) = 0.
        let t = run(&mut RmsProp::new(0.1).unwrap(), 1.0, 2.0, 1);
        assert!(t[0].abs() < 1e-6, "{t:?}");
        // Adagrad: s = g², θ₁ = 1 − 0.1 = 0.9.
        let t = run(&mut Adagrad::new(0.1).unwrap(), 1.0, 2.0, 1);
        assert!((t[0] - 0.9).abs() < 1e-9);
        assert!(Adam::<f64>::with_options(0.1, (1.0, 0.9), 1e-8, 0.0).is_err());
        // Config structs: defaults written once, invalid values still typed errors.
        let c = SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            ..Default::default()
        };
        assert!(Sgd::<f64>::from_config(c).is_ok());
        assert!(Sgd::<f64>::from_config(SgdConfig {
            nesterov: true,
            ..Default::default()
        })
        .is_err());
        let w = Adam::<f64>::from_config(AdamConfig::adamw()).unwrap();
        assert!(w.decoupled && w.weight_decay == 0.01 && w.lr == 1e-3);
        assert!(Adam::<f64>::from_config(AdamConfig {
            eps: 0.0,
            ..Default::default()
        })
        .is_err());
        assert!(RmsProp::<f64>::from_config(RmsPropConfig::default()).is_ok());
        assert!(Adagrad::<f64>::from_config(AdagradConfig {
            lr: -1.0,
            ..Default::default()
        })
        .is_err());
        assert!(RmsProp::<f64>::with_options(0.1, 0.9, 0.0, 0.0, 0.0).is_err());
    }

    #[test]
    fn every_optimiser_minimises_a_quadratic() {
        let opts: Vec<Box<dyn Optimizer<f64>>> = vec![
            Box::new(Sgd::with_options(0.05, 0.9, true, 0.0).unwrap()),
            Box::new(Adam::new(0.05).unwrap()),
            Box::new(Adam::adamw(0.05, 0.01).unwrap()),
            Box::new(RmsProp::with_options(0.01, 0.9, 1e-8, 0.5, 0.0).unwrap()),
            Box::new(Adagrad::new(0.5).unwrap()),
        ];
        for mut o in opts {
            let t = run(o.as_mut(), 2.0, 1.0, 300);
            assert!(t[299].abs() < 0.05, "{}", t[299]);
        }
    }

    #[test]
    fn clipping_by_norm_and_value() {
        let mut rng = Rng::new(2);
        let l = Linear::<f64>::new(3, 2, &mut rng).unwrap();
        let g = Graph::new();
        let x = g.constant(Tensor::full(&[4, 3], 10.0));
        let mut grads = l
            .forward(&g, x)
            .unwrap()
            .square()
            .unwrap()
            .sum()
            .unwrap()
            .backward()
            .unwrap();
        let before = clip_grad_norm(&mut grads, 1.0).unwrap();
        assert!(before > 1.0);
        let after: f64 = grads.params().map(|(_, g)| g.norm_sq()).sum::<f64>().sqrt();
        assert!((after - 1.0).abs() < 1e-5, "{after}");
        clip_grad_value(&mut grads, 0.01).unwrap();
        assert!(grads
            .params()
            .all(|(_, g)| g.to_vec().iter().all(|v| v.abs() <= 0.01)));
        assert!(clip_grad_norm(&mut grads, 0.0).is_err());
        assert!(clip_grad_value(&mut grads, -1.0).is_err());
    }
}

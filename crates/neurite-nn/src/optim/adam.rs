//! Adam and AdamW (decoupled weight decay): `Adam` and `AdamConfig`.

use super::*;

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
    pub(super) lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    pub(super) weight_decay: f64,
    pub(super) decoupled: bool,
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
    fn state_view<'a>(&'a self, model: &dyn Module<T>) -> Result<StateView<'a, T>> {
        state::export(self.lr, model, |id| match self.moments.get(&id) {
            Some(st) => state::ParamState {
                step: Some(i64::from(st.step)),
                buffers: vec![("exp_avg", &st.m[..]), ("exp_avg_sq", &st.v[..])],
            },
            None => state::ParamState {
                step: None,
                buffers: Vec::new(),
            },
        })
    }
    fn load_state(&mut self, model: &dyn Module<T>, sd: StateDict) -> Result<()> {
        let got = state::import(model, sd, &["exp_avg", "exp_avg_sq"], true)?;
        let [mut m, mut v]: [HashMap<ParamId, Vec<T>>; 2] = got
            .slots
            .try_into()
            .map_err(|_| state::state_err("two slots were asked for".into()))?;
        let mut moments = HashMap::new();
        for (id, step) in got.steps {
            // `import` gives a step only with both moments.
            if let (Some(m), Some(v)) = (m.remove(&id), v.remove(&id)) {
                moments.insert(id, Moments { step, m, v });
            }
        }
        self.lr = got.lr;
        self.moments = moments;
        Ok(())
    }
}

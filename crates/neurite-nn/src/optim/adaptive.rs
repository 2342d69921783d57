//! The per-coordinate adaptive-rate optimisers: `RmsProp` and `Adagrad` with their configs.

use super::*;

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
    fn state_view<'a>(&'a self, model: &dyn Module<T>) -> Result<StateView<'a, T>> {
        state::export(self.lr, model, |id| state::ParamState {
            step: None,
            buffers: [
                ("square_avg", self.square_avg.get(&id)),
                ("momentum_buffer", self.buffer.get(&id)),
            ]
            .into_iter()
            .filter_map(|(slot, v)| Some((slot, &v?[..])))
            .collect(),
        })
    }
    fn load_state(&mut self, model: &dyn Module<T>, sd: StateDict) -> Result<()> {
        let got = state::import(model, sd, &["square_avg", "momentum_buffer"], false)?;
        let [sq, buf]: [HashMap<ParamId, Vec<T>>; 2] = got
            .slots
            .try_into()
            .map_err(|_| state::state_err("two slots were asked for".into()))?;
        self.lr = got.lr;
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
    fn state_view<'a>(&'a self, model: &dyn Module<T>) -> Result<StateView<'a, T>> {
        state::export(self.lr, model, |id| state::ParamState {
            step: None,
            buffers: self
                .sum_sq
                .get(&id)
                .map(|v| ("sum", &v[..]))
                .into_iter()
                .collect(),
        })
    }
    fn load_state(&mut self, model: &dyn Module<T>, sd: StateDict) -> Result<()> {
        let mut got = state::import(model, sd, &["sum"], false)?;
        self.lr = got.lr;
        self.sum_sq = got.slots.swap_remove(0);
        Ok(())
    }
}

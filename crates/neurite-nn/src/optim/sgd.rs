//! Stochastic gradient descent: `Sgd` and `SgdConfig`.

use super::*;

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
    fn state_view<'a>(&'a self, model: &dyn Module<T>) -> Result<StateView<'a, T>> {
        state::export(self.lr, model, |id| state::ParamState {
            step: None,
            buffers: self
                .velocity
                .get(&id)
                .map(|v| ("momentum_buffer", &v[..]))
                .into_iter()
                .collect(),
        })
    }
    fn load_state(&mut self, model: &dyn Module<T>, sd: StateDict) -> Result<()> {
        let mut got = state::import(model, sd, &["momentum_buffer"], false)?;
        self.lr = got.lr;
        self.velocity = got.slots.swap_remove(0);
        Ok(())
    }
}

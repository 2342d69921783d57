//! Optimisers: θ ← θ − α∇J(θ) and its refinements.

use std::collections::HashMap;

use neurite_autograd::{Gradients, ParamId};
use neurite_tensor::{Float, Tensor};

use crate::error::{NnError, Result};
use crate::module::Module;

/// An optimiser updates a model's parameters from one step's gradients.
pub trait Optimizer<T: Float> {
    /// One update of every parameter that has a gradient.
    fn step(&mut self, model: &mut dyn Module<T>, grads: &Gradients<T>) -> Result<()>;
    /// The current learning rate α.
    fn learning_rate(&self) -> f64;
    /// Sets the learning rate (schedules call this).
    fn set_learning_rate(&mut self, lr: f64);
}

/// Stochastic gradient descent with optional momentum (classical or Nesterov) and weight decay.
#[derive(Debug, Clone)]
pub struct Sgd<T: Float> {
    lr: f64,
    momentum: f64,
    nesterov: bool,
    weight_decay: f64,
    velocity: HashMap<ParamId, Tensor<T>>,
}

impl<T: Float> Sgd<T> {
    /// Plain SGD: θ ← θ − α·g.
    pub fn new(lr: f64) -> Result<Self> {
        Self::with_options(lr, 0.0, false, 0.0)
    }
    /// SGD with momentum μ (v ← μv + g; θ ← θ − α·v, or − α·(g + μv) for Nesterov) and L2 weight decay λ (g ← g + λθ).
    pub fn with_options(lr: f64, momentum: f64, nesterov: bool, weight_decay: f64) -> Result<Self> {
        if !(lr > 0.0 && lr.is_finite()) {
            return Err(NnError::config(
                "Sgd",
                format!("learning rate must be positive and finite, got {lr}"),
            ));
        }
        if !(0.0..1.0).contains(&momentum) {
            return Err(NnError::config(
                "Sgd",
                format!("momentum must be in [0, 1), got {momentum}"),
            ));
        }
        if !(weight_decay >= 0.0 && weight_decay.is_finite()) {
            return Err(NnError::config(
                "Sgd",
                format!("weight decay must be ≥ 0, got {weight_decay}"),
            ));
        }
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
        let mut err = None;
        let lr = T::from_f64(self.lr);
        model.visit_params_mut("", &mut |_, p| {
            if err.is_some() {
                return;
            }
            let Some(g) = grads.wrt(p) else { return };
            let r = (|| -> Result<()> {
                let mut g = g.clone();
                if self.weight_decay > 0.0 {
                    g.add_scaled_inplace(T::from_f64(self.weight_decay), p.value())?;
                }
                if self.momentum > 0.0 {
                    let mu = T::from_f64(self.momentum);
                    let v = self
                        .velocity
                        .entry(p.id())
                        .or_insert_with(|| Tensor::zeros(g.shape()));
                    v.map_inplace(|x| x * mu);
                    v.add_scaled_inplace(T::ONE, &g)?;
                    if self.nesterov {
                        g.add_scaled_inplace(mu, v)?;
                    } else {
                        g = v.clone();
                    }
                }
                p.value_mut().add_scaled_inplace(-lr, &g)?;
                Ok(())
            })();
            if let Err(e) = r {
                err = Some(e);
            }
        });
        err.map_or(Ok(()), Err)
    }
    fn learning_rate(&self) -> f64 {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }
}

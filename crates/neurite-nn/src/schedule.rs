//! Learning-rate schedules: α as a function of the epoch (or step) count t, applied with
//! [`LrSchedule::apply`] before each epoch (or step).

use crate::error::{NnError, Result};
use crate::optim::Optimizer;

/// A learning-rate schedule: α(t) for t = 0, 1, 2, …
pub trait LrSchedule {
    /// The learning rate at epoch (or step) t.
    fn lr(&self, t: usize) -> f64;
    /// Sets the optimiser's learning rate to α(t) and returns it.
    fn apply<T: neurite_tensor::Float>(&self, opt: &mut dyn Optimizer<T>, t: usize) -> f64
    where
        Self: Sized,
    {
        let lr = self.lr(t);
        opt.set_learning_rate(lr);
        lr
    }
}

fn check_base(what: &'static str, base: f64) -> Result<()> {
    if base > 0.0 && base.is_finite() {
        Ok(())
    } else {
        Err(NnError::config(
            what,
            format!("base learning rate must be positive, got {base}"),
        ))
    }
}

/// Step decay: α(t) = α₀·γ^⌊t / step_size⌋.
#[derive(Debug, Clone, Copy)]
pub struct StepLr {
    base: f64,
    step_size: usize,
    gamma: f64,
}

impl StepLr {
    /// Multiplies α₀ by γ every `step_size` epochs.
    pub fn new(base: f64, step_size: usize, gamma: f64) -> Result<Self> {
        check_base("StepLr", base)?;
        if step_size == 0 || !(gamma > 0.0 && gamma <= 1.0) {
            return Err(NnError::config(
                "StepLr",
                format!("need step_size ≥ 1 and γ in (0, 1], got {step_size} and {gamma}"),
            ));
        }
        Ok(StepLr {
            base,
            step_size,
            gamma,
        })
    }
}

impl LrSchedule for StepLr {
    fn lr(&self, t: usize) -> f64 {
        self.base * self.gamma.powi((t / self.step_size) as i32)
    }
}

/// Exponential decay: α(t) = α₀·γᵗ.
#[derive(Debug, Clone, Copy)]
pub struct ExponentialLr {
    base: f64,
    gamma: f64,
}

impl ExponentialLr {
    /// α₀·γᵗ with γ in (0, 1].
    pub fn new(base: f64, gamma: f64) -> Result<Self> {
        check_base("ExponentialLr", base)?;
        if !(gamma > 0.0 && gamma <= 1.0) {
            return Err(NnError::config(
                "ExponentialLr",
                format!("γ must be in (0, 1], got {gamma}"),
            ));
        }
        Ok(ExponentialLr { base, gamma })
    }
}

impl LrSchedule for ExponentialLr {
    fn lr(&self, t: usize) -> f64 {
        self.base * self.gamma.powi(t as i32)
    }
}

/// Cosine annealing: α(t) = α_min + (α₀ − α_min)(1 + cos(πt/T))/2 for t ≤ T, then α_min.
#[derive(Debug, Clone, Copy)]
pub struct CosineLr {
    base: f64,
    min: f64,
    t_max: usize,
}

impl CosineLr {
    /// From α₀ down to `min` over `t_max` epochs.
    pub fn new(base: f64, min: f64, t_max: usize) -> Result<Self> {
        check_base("CosineLr", base)?;
        if t_max == 0 || !(min >= 0.0 && min <= base) {
            return Err(NnError::config(
                "CosineLr",
                format!("need t_max ≥ 1 and 0 ≤ min ≤ base, got t_max {t_max}, min {min}"),
            ));
        }
        Ok(CosineLr { base, min, t_max })
    }
}

impl LrSchedule for CosineLr {
    fn lr(&self, t: usize) -> f64 {
        let t = t.min(self.t_max) as f64;
        self.min
            + (self.base - self.min) * (1.0 + (std::f64::consts::PI * t / self.t_max as f64).cos())
                / 2.0
    }
}

/// Linear warm-up: α rises linearly from α(0)/warmup to the wrapped schedule's α over the first
/// `warmup` epochs (t = 0 gives 1/warmup of it), then follows that schedule shifted by `warmup`.
#[derive(Debug, Clone, Copy)]
pub struct Warmup<S> {
    warmup: usize,
    after: S,
}

impl<S: LrSchedule> Warmup<S> {
    /// `warmup` epochs of linear warm-up, then `after`.
    pub fn new(warmup: usize, after: S) -> Result<Self> {
        if warmup == 0 {
            return Err(NnError::config("Warmup", "warm-up length must be ≥ 1"));
        }
        Ok(Warmup { warmup, after })
    }
}

impl<S: LrSchedule> LrSchedule for Warmup<S> {
    fn lr(&self, t: usize) -> f64 {
        if t < self.warmup {
            self.after.lr(0) * (t + 1) as f64 / self.warmup as f64
        } else {
            self.after.lr(t - self.warmup)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Sgd;

    #[test]
    fn schedules_follow_their_formulas() {
        let s = StepLr::new(1.0, 2, 0.5).unwrap();
        assert_eq!(
            (0..5).map(|t| s.lr(t)).collect::<Vec<_>>(),
            vec![1.0, 1.0, 0.5, 0.5, 0.25]
        );
        let e = ExponentialLr::new(2.0, 0.5).unwrap();
        assert_eq!(e.lr(3), 0.25);
        let c = CosineLr::new(1.0, 0.0, 4).unwrap();
        assert!((c.lr(0) - 1.0).abs() < 1e-12 && (c.lr(2) - 0.5).abs() < 1e-12);
        assert!(c.lr(4).abs() < 1e-12 && c.lr(9).abs() < 1e-12);
        let w = Warmup::new(4, c).unwrap();
        assert_eq!(w.lr(0), 0.25);
        assert_eq!(w.lr(3), 1.0);
        assert!((w.lr(6) - 0.5).abs() < 1e-12);
        let mut opt = Sgd::<f32>::new(1.0).unwrap();
        assert_eq!(s.apply(&mut opt, 4), 0.25);
        assert_eq!(opt.learning_rate(), 0.25);
        assert!(StepLr::new(1.0, 0, 0.5).is_err());
        assert!(ExponentialLr::new(1.0, 1.5).is_err());
        assert!(CosineLr::new(1.0, 2.0, 3).is_err());
        assert!(Warmup::new(0, s).is_err());
    }
}

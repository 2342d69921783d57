//! Optimisers: θ ← θ − α∇J(θ) and its refinements — SGD (momentum, Nesterov, weight decay),
//! Adam, AdamW, RMSprop and Adagrad — each updating parameters in place, with per-parameter
//! state kept by [`ParamId`]. Gradient clipping and learning-rate schedules are in
//! [`crate::schedule`] and [`clip_grad_norm`] / [`clip_grad_value`].

use std::collections::HashMap;

use neurite_autograd::{Gradients, ParamId, Parameter};
use neurite_tensor::{update, Float, Tensor};

use crate::tensor_file::{Dtype, StateDict, StateView, StoredTensor};

use crate::error::{NnError, Result};
use crate::module::Module;

mod adam;
mod adaptive;
mod sgd;
mod state;

pub use adam::{Adam, AdamConfig};
pub use adaptive::{Adagrad, AdagradConfig, RmsProp, RmsPropConfig};
pub use sgd::{Sgd, SgdConfig};

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
    /// checkpoint, borrowing the buffers where the optimiser keeps them (nothing is copied).
    /// Values keep the model's dtype, so a restore is bit for bit.
    fn state_view<'a>(&'a self, model: &dyn Module<T>) -> Result<StateView<'a, T>>;
    /// [`Optimizer::state_view`], copied into a [`StateDict`].
    fn state_dict(&self, model: &dyn Module<T>) -> Result<StateDict> {
        Ok(self.state_view(model)?.to_state_dict())
    }
    /// Restores what [`Optimizer::state_view`] / [`Optimizer::state_dict`] saved, for the
    /// parameters of `model` by name, taking the dict apart (buffers read from a file move in
    /// without a copy). A missing or unexpected entry, a shape or dtype that does not fit is
    /// an error naming it, and the optimiser is then unchanged.
    fn load_state(&mut self, model: &dyn Module<T>, sd: StateDict) -> Result<()>;
    /// [`Optimizer::load_state`] from a dict that stays the caller's (its buffers are copied).
    fn load_state_dict(&mut self, model: &dyn Module<T>, sd: &StateDict) -> Result<()> {
        self.load_state(model, sd.clone())
    }
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
        crate::walk!(f64; param 0);
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

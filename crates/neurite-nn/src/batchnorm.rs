//! `BatchNorm1d` / `BatchNorm2d`: per-channel normalisation over the batch (and the spatial
//! axes), with running statistics for evaluation — PyTorch's `nn.BatchNorm1d/2d`, names and
//! update rule included, so a PyTorch checkpoint loads as is.
//!
//! For channel c over the M = N·S values of the batch (S spatial positions per sample):
//! μ = Σx/M, σ² = Σ(x − μ)²/M (biased: used to normalise), x̂ = (x − μ)/√(σ² + ε),
//! y = γ·x̂ + β. The backward pass, with g the upstream gradient:
//! ∂β = Σg, ∂γ = Σg·x̂, ∂x = γ/√(σ² + ε) · (g − Σg/M − x̂·Σg·x̂/M).
//! In training the running estimates move by the momentum m (0.1):
//! r_μ ← (1 − m)·r_μ + m·μ, r_σ² ← (1 − m)·r_σ² + m·σ²·M/(M − 1) (unbiased), and
//! `num_batches_tracked` counts the batches. In evaluation the running estimates replace the
//! batch statistics and ∂x = γ/√(r_σ² + ε)·g.

use std::cell::RefCell;

use neurite_autograd::{Backward, BackwardContext, Graph, Parameter, Var};
use neurite_tensor::{Float, Tensor};

use crate::batchnorm_kernel::{fill_runs, per_channel, Fill, Reduce};

use crate::error::{NnError, Result};
use crate::module::{join, Buffer, BufferMut, Module};

/// Hyper-parameters of [`BatchNorm`] (PyTorch's defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchNormConfig {
    /// Added to the variance, > 0. Default 1e-5.
    pub eps: f64,
    /// Weight of the new batch in the running estimates, in [0, 1]; `None` is the cumulative
    /// average over all batches. Default `Some(0.1)`.
    pub momentum: Option<f64>,
    /// Learnable scale γ (`weight`, ones) and shift β (`bias`, zeros). Default true.
    pub affine: bool,
    /// Keep running estimates (buffers `running_mean`, `running_var`, `num_batches_tracked`)
    /// and use them in evaluation; without, batch statistics are used in both modes.
    /// Default true.
    pub track_running_stats: bool,
}

impl Default for BatchNormConfig {
    fn default() -> Self {
        BatchNormConfig {
            eps: 1e-5,
            momentum: Some(0.1),
            affine: true,
            track_running_stats: true,
        }
    }
}

#[derive(Debug, Clone)]
struct Running<T: Float> {
    mean: Tensor<T>,
    var: Tensor<T>,
    batches: i64,
}

/// Batch normalisation over channel axis 1 (see the module doc). `D` = 1: input [N, C] or
/// [N, C, L]; `D` = 2: input [N, C, H, W].
pub struct BatchNorm<T: Float, const D: usize> {
    num_features: usize,
    config: BatchNormConfig,
    /// Scale γ `[C]`, if affine.
    pub weight: Option<Parameter<T>>,
    /// Shift β `[C]`, if affine.
    pub bias: Option<Parameter<T>>,
    running: Option<RefCell<Running<T>>>,
    training: bool,
}

/// Batch normalisation of [N, C] or [N, C, L] (PyTorch's `nn.BatchNorm1d`).
pub type BatchNorm1d<T> = BatchNorm<T, 1>;
/// Batch normalisation of [N, C, H, W] (PyTorch's `nn.BatchNorm2d`).
pub type BatchNorm2d<T> = BatchNorm<T, 2>;

impl<T: Float, const D: usize> BatchNorm<T, D> {
    /// `num_features` channels with the default configuration.
    pub fn new(num_features: usize) -> Result<Self> {
        Self::with_config(num_features, BatchNormConfig::default())
    }

    /// `num_features` channels with the given configuration.
    pub fn with_config(num_features: usize, config: BatchNormConfig) -> Result<Self> {
        let what = if D == 1 { "BatchNorm1d" } else { "BatchNorm2d" };
        if num_features == 0 {
            return Err(NnError::config(
                what,
                "num_features must be positive, got 0",
            ));
        }
        crate::error::checked_numel(what, &[num_features])?;
        if !(config.eps > 0.0 && config.eps.is_finite()) {
            return Err(NnError::config(
                what,
                format!("eps must be positive, got {}", config.eps),
            ));
        }
        if let Some(m) = config.momentum {
            if !(0.0..=1.0).contains(&m) {
                return Err(NnError::config(
                    what,
                    format!("momentum must be in [0, 1], got {m}"),
                ));
            }
        }
        let c = [num_features];
        Ok(BatchNorm {
            num_features,
            config,
            weight: config.affine.then(|| Parameter::new(Tensor::ones(&c))),
            bias: config.affine.then(|| Parameter::new(Tensor::zeros(&c))),
            running: config.track_running_stats.then(|| {
                RefCell::new(Running {
                    mean: Tensor::zeros(&c),
                    var: Tensor::ones(&c),
                    batches: 0,
                })
            }),
            training: true,
        })
    }

    /// The number of channels.
    pub fn num_features(&self) -> usize {
        self.num_features
    }

    /// The configuration.
    pub fn config(&self) -> &BatchNormConfig {
        &self.config
    }

    /// True in training mode.
    pub fn is_training(&self) -> bool {
        self.training
    }

    /// The running mean and variance, when tracked.
    pub fn running_stats(&self) -> Option<(Tensor<T>, Tensor<T>)> {
        self.running.as_ref().map(|r| {
            let r = r.borrow();
            (r.mean.clone(), r.var.clone())
        })
    }

    /// Batches seen in training (`num_batches_tracked`), when tracked.
    pub fn num_batches_tracked(&self) -> Option<i64> {
        self.running.as_ref().map(|r| r.borrow().batches)
    }

    fn name(&self) -> String {
        format!(
            "BatchNorm{}d({})",
            if D == 1 { 1 } else { 2 },
            self.num_features
        )
    }
}

impl<T: Float, const D: usize> Module<T> for BatchNorm<T, D> {
    fn forward<'g>(&self, graph: &'g Graph<T>, x: Var<'g, T>) -> Result<Var<'g, T>> {
        let shape = x.shape();
        let ok_rank = if D == 1 {
            shape.len() == 2 || shape.len() == 3
        } else {
            shape.len() == 4
        };
        if !ok_rank || shape[1] != self.num_features {
            return Err(NnError::BadInput {
                layer: self.name(),
                expected: if D == 1 {
                    format!("[N, {0}] or [N, {0}, L]", self.num_features)
                } else {
                    format!("[N, {}, H, W]", self.num_features)
                },
                got: shape,
            });
        }
        let w = self.weight.as_ref().map(|p| graph.param(p));
        let b = self.bias.as_ref().map(|p| graph.param(p));
        match (&self.running, self.training) {
            (Some(r), false) => {
                let r = r.borrow();
                let stats = Stats::Running {
                    mean: &r.mean,
                    var: &r.var,
                };
                Ok(batch_norm(x, w, b, stats, self.config.eps)?.0)
            }
            (running, _) => {
                let (y, batch) = batch_norm(x, w, b, Stats::Batch, self.config.eps)?;
                if let (Some(r), Some((mean, var, m))) = (running, batch) {
                    let mut r = r.borrow_mut();
                    r.batches += 1;
                    let mom = self.config.momentum.unwrap_or(1.0 / r.batches as f64);
                    let (keep, take) = (T::from_f64(1.0 - mom), T::from_f64(mom));
                    let unbias = T::from_f64(m as f64 / (m as f64 - 1.0));
                    let new_mean = r.mean.zip_map(&mean, |a, b| keep * a + take * b)?;
                    let new_var = r.var.zip_map(&var, |a, v| keep * a + take * v * unbias)?;
                    r.mean = new_mean;
                    r.var = new_var;
                }
                Ok(y)
            }
        }
    }
    // The buffers live behind a RefCell (forward updates them through &self), so they are
    // walked by hand below; the parameters through the shared walk.
    fn visit_params(&self, prefix: &str, f: &mut dyn FnMut(&str, &Parameter<T>)) {
        crate::walk::param::params(&self.weight, prefix, "weight", f);
        crate::walk::param::params(&self.bias, prefix, "bias", f);
    }
    fn visit_params_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Parameter<T>)) {
        crate::walk::param::params_mut(&mut self.weight, prefix, "weight", f);
        crate::walk::param::params_mut(&mut self.bias, prefix, "bias", f);
    }
    fn visit_buffers(&self, prefix: &str, f: &mut dyn FnMut(&str, Buffer<'_, T>)) {
        if let Some(r) = &self.running {
            let r = r.borrow();
            f(&join(prefix, "running_mean"), Buffer::Float(&r.mean));
            f(&join(prefix, "running_var"), Buffer::Float(&r.var));
            f(
                &join(prefix, "num_batches_tracked"),
                Buffer::Count(&r.batches),
            );
        }
    }
    fn visit_buffers_mut(&mut self, prefix: &str, f: &mut dyn FnMut(&str, BufferMut<'_, T>)) {
        if let Some(r) = &mut self.running {
            let r = r.get_mut();
            f(&join(prefix, "running_mean"), BufferMut::Float(&mut r.mean));
            f(&join(prefix, "running_var"), BufferMut::Float(&mut r.var));
            f(
                &join(prefix, "num_batches_tracked"),
                BufferMut::Count(&mut r.batches),
            );
        }
    }
    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
    fn describe(&self) -> String {
        self.name()
    }
}

/// Which statistics [`batch_norm`] normalises with.
#[derive(Debug, Clone, Copy)]
pub enum Stats<'a, T: Float> {
    /// The batch's own mean and biased variance (training); they enter the gradient.
    Batch,
    /// Fixed per-channel mean and variance `[C]` (evaluation); constants for the gradient.
    Running {
        /// Mean `[C]`.
        mean: &'a Tensor<T>,
        /// Variance `[C]`.
        var: &'a Tensor<T>,
    },
}

/// The batch statistics of a [`batch_norm`] call: per-channel mean and biased variance, and the
/// number M of values per channel.
pub type BatchStats<T> = (Tensor<T>, Tensor<T>, usize);

/// The batch-norm op (see the module doc). It keeps the input itself (a shared handle, no
/// copy) and the per-channel mean and 1/√(σ² + ε): backward recomputes x̂ = (x − μ)/√(σ² + ε)
/// where it needs it, which costs less than writing x̂ in forward and reading it back.
pub struct BatchNormOp<T: Float> {
    x: Tensor<T>,
    /// Per channel: μ and 1/√(σ² + ε), in f64.
    stats: Vec<(f64, f64)>,
    gamma: Option<Vec<T>>,
    n: usize,
    c: usize,
    s: usize,
    batch_stats: bool,
}

impl<T: Float> Backward<T> for BatchNormOp<T> {
    fn name(&self) -> &'static str {
        "batch_norm"
    }
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        upstream: &Tensor<T>,
    ) -> neurite_autograd::Result<Vec<Option<Tensor<T>>>> {
        let dims = (self.n, self.c, self.s);
        let c = self.c;
        let g = upstream.contiguous();
        let gs = g.as_slice().unwrap_or(&[]); // ok: contiguous
        let xs = self.x.as_slice().unwrap_or(&[]); // ok: contiguous
                                                   // (Σg, Σg·(x − μ)) per channel; Σg·x̂ = Σg·(x − μ)/√(σ² + ε).
        let sums = per_channel(
            dims,
            Reduce::GradSums {
                g: gs,
                x: xs,
                stats: &self.stats,
            },
        );
        let m = (self.n * self.s) as f64;
        let mut out = Vec::with_capacity(ctx.num_inputs());
        out.push(if ctx.needs_grad(0) {
            // ∂x = k·(g − Σg/M − (x − μ)·c2), k = γ/√(σ² + ε), c2 = Σg·x̂/(M·√(σ² + ε)).
            let coef: Vec<[T; 4]> = (0..c)
                .map(|ch| {
                    let (mu, is) = self.stats[ch];
                    let k = self.gamma.as_ref().map_or(1.0, |w| w[ch].to_f64()) * is;
                    let (sg, sgx) = sums[ch];
                    let (mg, c2) = if self.batch_stats {
                        (sg / m, sgx * is * is / m)
                    } else {
                        (0.0, 0.0)
                    };
                    [mu, k, mg, c2].map(T::from_f64)
                })
                .collect();
            let dx = fill_runs(
                dims,
                Fill::Backward {
                    g: gs,
                    x: xs,
                    coef: &coef,
                },
            );
            Some(Tensor::from_vec(dx, ctx.input(0).shape())?)
        } else {
            None
        });
        // γ then β, when given.
        for i in 1..ctx.num_inputs() {
            let is_gamma = i == 1 && self.gamma.is_some();
            out.push(if ctx.needs_grad(i) {
                let v: Vec<T> = sums
                    .iter()
                    .zip(&self.stats)
                    .map(|(&(sg, sgx), &(_, is))| T::from_f64(if is_gamma { sgx * is } else { sg }))
                    .collect();
                Some(Tensor::from_vec(v, &[c])?)
            } else {
                None
            });
        }
        Ok(out)
    }
}

/// Batch normalisation as a function: x [N, C, …], optional scale and shift `[C]`, statistics
/// from the batch or given ([`Stats`]); ε > 0. Returns the output and, for batch statistics,
/// the per-channel mean, biased variance and M (for updating running estimates). Batch
/// statistics need more than one value per channel.
pub fn batch_norm<'g, T: Float>(
    x: Var<'g, T>,
    weight: Option<Var<'g, T>>,
    bias: Option<Var<'g, T>>,
    stats: Stats<'_, T>,
    eps: f64,
) -> Result<(Var<'g, T>, Option<BatchStats<T>>)> {
    let shape = x.shape();
    if shape.len() < 2 || shape[1] == 0 {
        return Err(NnError::BadInput {
            layer: "batch_norm".into(),
            expected: "an input [N, C, …] with C ≥ 1".into(),
            got: shape,
        });
    }
    let (n, c) = (shape[0], shape[1]);
    let s: usize = shape[2..].iter().product();
    let m = n * s;
    let dims = (n, c, s);
    let per_channel_param = |v: Option<Var<'g, T>>, what: &str| -> Result<Option<Vec<T>>> {
        match v {
            None => Ok(None),
            Some(v) => {
                let t = v.value()?;
                if t.shape() != [c] {
                    return Err(NnError::BadInput {
                        layer: "batch_norm".into(),
                        expected: format!("{what} [{c}]"),
                        got: t.shape().to_vec(),
                    });
                }
                Ok(Some(t.to_vec()))
            }
        }
    };
    let gamma = per_channel_param(weight, "weight")?;
    let beta = per_channel_param(bias, "bias")?;
    let xv = x.value()?.contiguous();
    let xs = xv.as_slice().unwrap_or(&[]); // ok: contiguous
                                           // (μ, σ²) per channel, in f64.
    let moments: Vec<(f64, f64)> = match stats {
        Stats::Batch => {
            if m <= 1 {
                return Err(NnError::BadInput {
                    layer: "batch_norm".into(),
                    expected: "more than one value per channel in training".into(),
                    got: x.shape(),
                });
            }
            per_channel(dims, Reduce::Moments { x: xs })
        }
        Stats::Running { mean, var } => {
            if mean.shape() != [c] || var.shape() != [c] {
                return Err(NnError::BadInput {
                    layer: "batch_norm".into(),
                    expected: format!("running mean and variance [{c}]"),
                    got: mean.shape().to_vec(),
                });
            }
            mean.to_vec()
                .iter()
                .zip(var.to_vec())
                .map(|(&mu, v)| (mu.to_f64(), v.to_f64()))
                .collect()
        }
    };
    let norm: Vec<(f64, f64)> = moments
        .iter()
        .map(|&(mu, v)| (mu, 1.0 / (v + eps).sqrt()))
        .collect();
    // y = (x − μ)·k + β with k = γ/√(σ² + ε).
    let coef: Vec<[T; 3]> = (0..c)
        .map(|ch| {
            let (mu, is) = norm[ch];
            let w = gamma.as_ref().map_or(1.0, |g| g[ch].to_f64());
            let b = beta.as_ref().map_or(T::ZERO, |b| b[ch]);
            [T::from_f64(mu), T::from_f64(w * is), b]
        })
        .collect();
    let y = fill_runs(dims, Fill::Forward { x: xs, coef: &coef });
    let out = Tensor::from_vec(y, &shape)?;
    let batch = matches!(stats, Stats::Batch).then(|| -> Result<BatchStats<T>> {
        Ok((
            Tensor::from_vec(
                moments.iter().map(|&(mu, _)| T::from_f64(mu)).collect(),
                &[c],
            )?,
            Tensor::from_vec(moments.iter().map(|&(_, v)| T::from_f64(v)).collect(), &[c])?,
            m,
        ))
    });
    let batch = batch.transpose()?;
    let mut others = Vec::new();
    others.extend(weight);
    others.extend(bias);
    let needs = x.requires_grad() || others.iter().any(|v| v.requires_grad());
    if !needs || !x.graph().is_recording() {
        return Ok((x.graph().constant(out), batch));
    }
    let op = BatchNormOp {
        x: xv,
        stats: norm,
        gamma,
        n,
        c,
        s,
        batch_stats: matches!(stats, Stats::Batch),
    };
    Ok((x.record(op, &others, out)?, batch))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{load_state_dict, state_dict, LoadMode};
    use neurite_tensor::Rng;

    #[test]
    fn training_normalises_and_updates_running_stats_like_pytorch() {
        let mut rng = Rng::new(1);
        let bn = BatchNorm2d::<f64>::new(3).unwrap();
        let x = Tensor::rand_normal(&[4, 3, 2, 5], 2.0, 3.0, &mut rng);
        let g = Graph::new();
        let y = bn
            .forward(&g, g.constant(x.clone()))
            .unwrap()
            .value()
            .unwrap();
        // Each channel of y has mean 0 and biased variance 1/(1 + ε/σ²) ≈ 1.
        let yv = y.to_vec();
        for ch in 0..3 {
            let vals: Vec<f64> = (0..4)
                .flat_map(|i| yv[(i * 3 + ch) * 10..(i * 3 + ch + 1) * 10].to_vec())
                .collect();
            let mu = vals.iter().sum::<f64>() / 40.0;
            let var = vals.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / 40.0;
            assert!(mu.abs() < 1e-12 && (var - 1.0).abs() < 1e-4, "{mu} {var}");
        }
        // Running estimates: 0.9·init + 0.1·batch, the variance unbiased (M/(M − 1)).
        let xv = x.to_vec();
        let (rm, rv) = bn.running_stats().unwrap();
        for ch in 0..3 {
            let vals: Vec<f64> = (0..4)
                .flat_map(|i| xv[(i * 3 + ch) * 10..(i * 3 + ch + 1) * 10].to_vec())
                .collect();
            let mu = vals.iter().sum::<f64>() / 40.0;
            let var_u = vals.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / 39.0;
            assert!((rm.to_vec()[ch] - 0.1 * mu).abs() < 1e-12);
            assert!((rv.to_vec()[ch] - (0.9 + 0.1 * var_u)).abs() < 1e-12);
        }
        assert_eq!(bn.num_batches_tracked(), Some(1));
    }

    #[test]
    fn buffers_are_in_the_state_dict_with_pytorch_names() {
        let bn = BatchNorm1d::<f32>::new(4).unwrap();
        let g = Graph::new();
        let x = Tensor::rand_normal(&[5, 4], 0.0, 1.0, &mut Rng::new(2));
        bn.forward(&g, g.constant(x.clone())).unwrap();
        let sd = state_dict(&bn);
        let names: Vec<&str> = sd.names().collect();
        assert_eq!(
            names,
            [
                "weight",
                "bias",
                "running_mean",
                "running_var",
                "num_batches_tracked"
            ]
        );
        assert_eq!(
            sd.get("num_batches_tracked").unwrap().to_i64().unwrap(),
            [1]
        );
        assert_eq!(
            sd.get("num_batches_tracked").unwrap().shape(),
            &[] as &[usize]
        );
        let mut fresh = BatchNorm1d::<f32>::new(4).unwrap();
        load_state_dict(&mut fresh, &sd, LoadMode::Strict).unwrap();
        assert_eq!(fresh.running_stats(), bn.running_stats());
        assert_eq!(fresh.num_batches_tracked(), Some(1));
        // Evaluation uses the running statistics: the same output for any batch composition.
        fresh.set_training(false);
        let g = Graph::new();
        let all = fresh
            .forward(&g, g.constant(x.clone()))
            .unwrap()
            .value()
            .unwrap();
        let one = fresh
            .forward(&g, g.constant(x.narrow(0, 1, 1).unwrap()))
            .unwrap()
            .value()
            .unwrap();
        assert_eq!(one.to_vec(), all.to_vec()[4..8].to_vec());
        // Without tracking and without affine: no parameters, no buffers.
        let bare = BatchNorm2d::<f32>::with_config(
            3,
            BatchNormConfig {
                affine: false,
                track_running_stats: false,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(state_dict(&bare).is_empty());
    }

    #[test]
    fn bad_shapes_and_configs_are_typed_errors() {
        let bn = BatchNorm2d::<f64>::new(3).unwrap();
        let g = Graph::new();
        assert!(matches!(
            bn.forward(&g, g.constant(Tensor::zeros(&[2, 4, 2, 2]))),
            Err(NnError::BadInput { .. })
        ));
        assert!(bn.forward(&g, g.constant(Tensor::zeros(&[2, 3]))).is_err());
        // One value per channel cannot be normalised in training.
        let b1 = BatchNorm1d::<f64>::new(3).unwrap();
        assert!(b1.forward(&g, g.constant(Tensor::zeros(&[1, 3]))).is_err());
        assert!(BatchNorm1d::<f64>::new(0).is_err());
        for bad in [
            BatchNormConfig {
                eps: 0.0,
                ..Default::default()
            },
            BatchNormConfig {
                momentum: Some(1.5),
                ..Default::default()
            },
        ] {
            assert!(BatchNorm1d::<f64>::with_config(2, bad).is_err());
        }
    }
}

//! Checkpoints that resume training bit for bit: one safetensors file holding the model's state
//! (`model.*`, PyTorch's names), the optimiser's state keyed by parameter name (`optim.*`:
//! moments, step counts, learning rate), every random generator the loop uses — the model's
//! own (`rng.model.*`, e.g. dropout) and the caller's (`rng.loop.*`, e.g. shuffling) — and the
//! position ([`TrainingState`]: epoch, step, schedule step, best metric so far).
//!
//! Loading checks everything before it changes anything: a corrupt file, a missing or
//! unexpected tensor, a shape or dtype that does not fit, is an [`NnError::Checkpoint`] naming
//! the file and what is wrong, and the model, the optimiser and the generators are left as
//! they were.

use std::path::Path;

use neurite_tensor::{Float, Rng};

use crate::error::{NnError, Result};
use crate::module::Module;
use crate::optim::Optimizer;
use crate::serialize::{load_into, load_owned, state_view, LoadMode};
use crate::tensor_file::{StateDict, StateView, StoredTensor, TensorView};

const FORMAT: &str = "neurite-checkpoint-1";

/// Where training stands: saved with a checkpoint, returned on resume.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TrainingState {
    /// Epochs completed.
    pub epoch: u64,
    /// Optimiser steps taken.
    pub step: u64,
    /// The position of the learning-rate schedule (`LrSchedule::lr(t)` is called with it).
    pub schedule_step: u64,
    /// The best monitored metric so far, if any (for early stopping and keep-best).
    pub best_metric: Option<f64>,
    /// Epochs since the best metric last improved.
    pub epochs_since_best: u64,
}

fn rng_tensor(rng: &Rng) -> Result<StoredTensor> {
    StoredTensor::from_u64(&[6], &rng.state())
}

fn rng_from(sd: &StateDict, key: &str) -> Result<Rng> {
    let t = sd.require(key)?;
    let words = t.to_u64().ok().filter(|w| w.len() == 6 && t.shape() == [6]);
    words
        .and_then(|w| Rng::from_state([w[0], w[1], w[2], w[3], w[4], w[5]]))
        .ok_or_else(|| {
            NnError::config(
                "checkpoint",
                format!(
                    "{key:?} is not a generator state (U64 [6]), got {} {:?}",
                    t.dtype(),
                    t.shape()
                ),
            )
        })
}

/// The whole training state as a [`StateView`] (what [`save_checkpoint`] writes): the model's
/// tensors share its storage and the optimiser's buffers are borrowed, so nothing is copied
/// until it is written. Add metadata with [`StateView::metadata_mut`] and write it with
/// [`StateView::save`].
pub fn checkpoint_view<'a, T: Float>(
    model: &mut dyn Module<T>,
    optimizer: &'a dyn Optimizer<T>,
    rngs: &[(&str, &Rng)],
    progress: &TrainingState,
) -> Result<StateView<'a, T>> {
    let mut sd = StateView::new();
    sd.extend_prefixed("model", state_view(model));
    sd.extend_prefixed("optim", optimizer.state_view(model)?);
    let mut model_rngs = Vec::new();
    model.visit_rngs("", &mut |name, r| {
        model_rngs.push((name.to_string(), rng_tensor(r)))
    });
    for (name, t) in model_rngs {
        sd.insert(format!("rng.model.{name}"), TensorView::stored(t?));
    }
    for (name, r) in rngs {
        sd.insert(
            format!("rng.loop.{name}"),
            TensorView::stored(rng_tensor(r)?),
        );
    }
    let p = progress;
    let counters = StoredTensor::from_u64(
        &[4],
        &[p.epoch, p.step, p.schedule_step, p.epochs_since_best],
    )?;
    sd.insert("progress.counters", TensorView::stored(counters));
    if let Some(b) = p.best_metric {
        sd.insert(
            "progress.best_metric",
            TensorView::stored(StoredTensor::from_u64(&[1], &[b.to_bits()])?),
        );
    }
    sd.metadata_mut().insert("format".into(), FORMAT.into());
    Ok(sd)
}

/// The whole training state as a [`StateDict`] in memory: [`checkpoint_view`], copied.
pub fn checkpoint_state<T: Float>(
    model: &mut dyn Module<T>,
    optimizer: &dyn Optimizer<T>,
    rngs: &[(&str, &Rng)],
    progress: &TrainingState,
) -> Result<StateDict> {
    Ok(checkpoint_view(model, optimizer, rngs, progress)?.to_state_dict())
}

/// Saves a checkpoint to `path` atomically (see the module doc): the header from the shapes
/// first, then every tensor written straight from the model's and the optimiser's storage.
/// `rngs` are the loop's own generators by name (data shuffling, augmentation); the model's
/// are found through [`Module::visit_rngs`].
pub fn save_checkpoint<T: Float>(
    path: impl AsRef<Path>,
    model: &mut dyn Module<T>,
    optimizer: &dyn Optimizer<T>,
    rngs: &[(&str, &Rng)],
    progress: &TrainingState,
) -> Result<()> {
    checkpoint_view(model, optimizer, rngs, progress)?.save(path)
}

/// Restores a checkpoint written by [`save_checkpoint`] into `model`, `optimizer` and the
/// loop's generators `rngs` (the same names as saved), and returns the position. Any problem
/// is an [`NnError::Checkpoint`] naming `path` and what is wrong; nothing is changed then.
pub fn load_checkpoint<T: Float>(
    path: impl AsRef<Path>,
    model: &mut dyn Module<T>,
    optimizer: &mut dyn Optimizer<T>,
    rngs: &mut [(&str, &mut Rng)],
) -> Result<TrainingState> {
    let path = path.as_ref();
    let wrap = |e: NnError| NnError::Checkpoint {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let sd = StateDict::load(path).map_err(wrap)?;
    restore_owned(sd, model, optimizer, rngs).map_err(wrap)
}

/// [`load_checkpoint`] from a state dict in memory.
pub fn restore<T: Float>(
    sd: &StateDict,
    model: &mut dyn Module<T>,
    optimizer: &mut dyn Optimizer<T>,
    rngs: &mut [(&str, &mut Rng)],
) -> Result<TrainingState> {
    restore_owned(sd.clone(), model, optimizer, rngs)
}

/// [`restore`], taking the dict apart instead of copying its model and optimiser parts (what
/// [`load_checkpoint`] does with the file it read).
pub fn restore_owned<T: Float>(
    mut sd: StateDict,
    model: &mut dyn Module<T>,
    optimizer: &mut dyn Optimizer<T>,
    rngs: &mut [(&str, &mut Rng)],
) -> Result<TrainingState> {
    let sd = &mut sd;
    match sd.metadata().get("format") {
        Some(f) if f == FORMAT => {}
        other => {
            return Err(NnError::config(
                "checkpoint",
                format!("not a neurite checkpoint (format {other:?}, expected {FORMAT:?})"),
            ))
        }
    }
    // Everything that cannot change anything is read and checked first.
    let counters = sd.require("progress.counters")?.to_u64()?;
    let [epoch, step, schedule_step, epochs_since_best] = counters[..] else {
        return Err(NnError::config(
            "checkpoint",
            "progress.counters must hold 4 values",
        ));
    };
    let best_metric = match sd.get("progress.best_metric") {
        None => None,
        Some(t) => Some(f64::from_bits(*t.to_u64()?.first().ok_or_else(|| {
            NnError::config("checkpoint", "progress.best_metric is empty")
        })?)),
    };
    let mut loop_rngs = Vec::new();
    for (name, _) in rngs.iter() {
        loop_rngs.push(rng_from(sd, &format!("rng.loop.{name}"))?);
    }
    let mut model_rng_names = Vec::new();
    model.visit_rngs("", &mut |name, _| model_rng_names.push(name.to_string()));
    let mut model_rngs = Vec::new();
    for name in &model_rng_names {
        model_rngs.push(rng_from(sd, &format!("rng.model.{name}"))?);
    }
    let expected_rngs: Vec<String> = model_rng_names
        .iter()
        .map(|n| format!("rng.model.{n}"))
        .chain(rngs.iter().map(|(n, _)| format!("rng.loop.{n}")))
        .collect();
    if let Some(extra) = sd
        .names()
        .filter(|n| n.starts_with("rng."))
        .find(|n| !expected_rngs.iter().any(|e| e == n))
    {
        return Err(NnError::config(
            "checkpoint",
            format!("unexpected generator {extra:?} (the loop passes no generator of that name)"),
        ));
    }
    if let Some(extra) = sd.names().find(|n| {
        !["model.", "optim.", "rng.", "progress."]
            .iter()
            .any(|p| n.starts_with(p))
    }) {
        return Err(NnError::config(
            "checkpoint",
            format!("unexpected entry {extra:?}"),
        ));
    }
    // The model (strict, atomic), then the optimiser (atomic); on its failure the model is put
    // back as it was. The model's state before is kept without a copy: a load replaces each
    // tensor rather than writing into it, so the view keeps the old values.
    let before = state_view(model);
    load_owned(
        model,
        sd.take_sub("model"),
        LoadMode::Strict,
        Path::new("model"),
    )?;
    if let Err(e) = optimizer.load_state(model, sd.take_sub("optim")) {
        load_into(
            model,
            &before.to_state_dict(),
            LoadMode::Strict,
            Path::new("model"),
        )?;
        return Err(e);
    }
    let mut it = model_rngs.into_iter();
    model.visit_rngs("", &mut |_, r| {
        if let Some(saved) = it.next() {
            *r = saved;
        }
    });
    for ((_, r), saved) in rngs.iter_mut().zip(loop_rngs) {
        **r = saved;
    }
    Ok(TrainingState {
        epoch,
        step,
        schedule_step,
        best_metric,
        epochs_since_best,
    })
}

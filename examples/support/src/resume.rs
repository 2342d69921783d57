//! `--checkpoint FILE` and `--resume FILE` of the training examples, on neurite's checkpoints
//! (`neurite::nn::checkpoint`): after every epoch the model, the optimiser's state, every
//! generator (the model's dropout masks and the loop's shuffling) and the position go into one
//! file; `--resume` puts them back, and with the same flags the run continues bit for bit as if
//! it had never stopped (`tests/resume.rs` checks it, process against process).
//!
//! The file also names the example and the flags that shaped the run: a checkpoint of another
//! example is an error naming both, and different settings are pointed out (the run goes on,
//! but no longer repeats the uninterrupted one). A checkpoint that does not fit the model is the
//! library's typed error naming the tensors; nothing is changed then.

use std::error::Error;
use std::path::PathBuf;

use neurite::nn::checkpoint::{checkpoint_view, restore_owned};
use neurite::nn::{check_writable, Module, NnError, Optimizer, StateDict, TrainingState};
use neurite::tensor::{Float, Rng};

use crate::flags::Training;

const EXAMPLE_KEY: &str = "example";
const SETTINGS_KEY: &str = "settings";

/// The checkpoint files of one run (from the shared flags) and what identifies the run.
#[derive(Debug, Clone)]
pub struct Checkpoints {
    example: String,
    settings: String,
    lr: f64,
    save: Option<PathBuf>,
    resume: Option<PathBuf>,
}

impl Checkpoints {
    /// For example `example` run with `t`; `settings` names the example's own flags that shape
    /// the model or the data (e.g. `"hidden=32"`). Checks that `--checkpoint` can be written
    /// before any training.
    pub fn new(example: &str, t: &Training, settings: &str) -> Result<Self, NnError> {
        if let Some(p) = &t.checkpoint {
            check_writable(p)?;
        }
        Ok(Checkpoints {
            example: example.to_string(),
            settings: format!(
                "batch={} lr={} seed={} quick={} {settings}",
                t.batch, t.lr, t.seed, t.quick
            )
            .trim_end()
            .to_string(),
            lr: t.lr,
            save: t.checkpoint.clone(),
            resume: t.resume.clone(),
        })
    }

    /// True when `--resume` was given.
    pub fn resuming(&self) -> bool {
        self.resume.is_some()
    }

    /// Restores `--resume` into the model, the optimiser and the loop's generators `rngs` (the
    /// names the run saves them under) and returns the position; without `--resume`, the start.
    /// The optimiser then takes this run's `--lr` (the same as the checkpoint's unless the flag
    /// changed). A run of `epochs` epochs must have epochs left to do.
    pub fn restore<T: Float>(
        &self,
        model: &mut dyn Module<T>,
        optimizer: &mut dyn Optimizer<T>,
        rngs: &mut [(&str, &mut Rng)],
        epochs: usize,
    ) -> Result<TrainingState, Box<dyn Error>> {
        self.restore_with(model, optimizer, rngs, |done| {
            if done.epoch >= epochs as u64 {
                Err(format!(
                    "the run is at epoch {} already; --epochs {epochs} leaves nothing to train \
                     (--epochs counts the epochs done)",
                    done.epoch
                ))
            } else {
                Ok(())
            }
        })
    }

    /// [`Checkpoints::restore`] for a loop that counts something else than epochs: `left`
    /// sees the saved position (epoch and step) before anything changes and says whether work
    /// is left.
    pub fn restore_with<T: Float>(
        &self,
        model: &mut dyn Module<T>,
        optimizer: &mut dyn Optimizer<T>,
        rngs: &mut [(&str, &mut Rng)],
        left: impl Fn(&TrainingState) -> Result<(), String>,
    ) -> Result<TrainingState, Box<dyn Error>> {
        let Some(path) = &self.resume else {
            return Ok(TrainingState::default());
        };
        let fail = |message: String| NnError::Checkpoint {
            path: path.clone(),
            message,
        };
        let sd = StateDict::load(path).map_err(|e| fail(e.to_string()))?;
        match sd.metadata().get(EXAMPLE_KEY) {
            Some(e) if *e == self.example => {}
            Some(e) => {
                return Err(fail(format!(
                    "written by the example {e}, not by {} (its model differs)",
                    self.example
                ))
                .into())
            }
            None => {}
        }
        // Checked before anything changes; restore_owned() checks the rest.
        let counters = sd.get("progress.counters").and_then(|t| t.to_u64().ok());
        if let Some([epoch, step, ..]) = counters.as_deref() {
            let saved = TrainingState {
                epoch: *epoch,
                step: *step,
                ..Default::default()
            };
            left(&saved).map_err(fail)?;
        }
        let settings = sd.metadata().get(SETTINGS_KEY).cloned();
        let progress =
            restore_owned(sd, model, optimizer, rngs).map_err(|e| fail(e.to_string()))?;
        optimizer.set_learning_rate(self.lr);
        match settings {
            Some(s) if s != self.settings => eprintln!(
                "note: {} was written with {s}; this run has {}: it continues, but will not \
                 repeat the uninterrupted run",
                path.display(),
                self.settings
            ),
            _ => {}
        }
        println!(
            "resumed from {} after epoch {} (step {})",
            path.display(),
            progress.epoch,
            progress.step
        );
        Ok(progress)
    }

    /// Saves a checkpoint to `--checkpoint` (atomically), if given.
    pub fn save<T: Float>(
        &self,
        model: &mut dyn Module<T>,
        optimizer: &dyn Optimizer<T>,
        rngs: &[(&str, &Rng)],
        progress: &TrainingState,
    ) -> neurite::nn::Result<()> {
        let Some(path) = &self.save else {
            return Ok(());
        };
        let mut sd = checkpoint_view(model, optimizer, rngs, progress)?;
        let meta = sd.metadata_mut();
        meta.insert(EXAMPLE_KEY.into(), self.example.clone());
        meta.insert(SETTINGS_KEY.into(), self.settings.clone());
        sd.save(path)
    }
}

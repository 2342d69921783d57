//! The training-loop helper: runs epochs through caller-supplied closures (one training epoch,
//! one evaluation), shows a progress bar with the loss and metric (quiet when stdout is not a
//! terminal; default-on feature `progress`, with `indicatif`), records the per-epoch
//! [`History`], writes it as CSV and draws the loss / metric curves to SVG (default-on feature
//! `plot`, with `plotters`).
//!
//! The closures own the model, the data and the optimiser, so the same helper drives an MLP, a
//! CNN or an RNN: the caller decides what a batch and a metric are.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[cfg(feature = "plot")]
use plotters::prelude::*;

use crate::checkpoint::TrainingState;
use crate::error::{NnError, Result};
use crate::serialize::write_atomic;

/// Loss and optional metric of one pass (a training epoch or an evaluation).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Metrics {
    /// Mean loss.
    pub loss: f64,
    /// The metric (e.g. accuracy or R²), if any.
    pub metric: Option<f64>,
}

impl Metrics {
    /// A loss and a metric.
    pub fn new(loss: f64, metric: Option<f64>) -> Self {
        Metrics { loss, metric }
    }
}

/// One epoch of the history.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochRecord {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Training loss and metric.
    pub train: Metrics,
    /// Evaluation loss and metric (held-out data), if evaluated.
    pub eval: Option<Metrics>,
    /// Learning rate used.
    pub learning_rate: f64,
    /// Wall-clock seconds of the epoch (training and evaluation).
    pub seconds: f64,
}

/// The per-epoch history of a run.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// The metric's name (e.g. "accuracy").
    pub metric_name: String,
    /// One record per epoch.
    pub epochs: Vec<EpochRecord>,
    /// The epoch (from 1) with the best monitored value, when a value is monitored.
    pub best_epoch: Option<usize>,
    /// True when early stopping ended the run before its last epoch.
    pub stopped_early: bool,
}

/// The value [`Trainer::early_stopping`] and [`Trainer::monitor`] watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Monitor {
    /// The evaluation loss (lower is better).
    EvalLoss,
    /// The evaluation metric, e.g. accuracy (higher is better).
    EvalMetric,
    /// The training loss (lower is better).
    TrainLoss,
}

impl Monitor {
    fn value(self, train: &Metrics, eval: Option<&Metrics>) -> Option<f64> {
        match self {
            Monitor::EvalLoss => eval.map(|e| e.loss),
            Monitor::EvalMetric => eval.and_then(|e| e.metric),
            Monitor::TrainLoss => Some(train.loss),
        }
    }
    fn better(self, new: f64, old: f64) -> bool {
        match self {
            Monitor::EvalMetric => new > old,
            _ => new < old,
        }
    }
}

fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| format!("{v}"))
}

impl History {
    /// The last epoch, if any.
    pub fn last(&self) -> Option<&EpochRecord> {
        self.epochs.last()
    }

    /// Total seconds over all epochs.
    pub fn seconds(&self) -> f64 {
        self.epochs.iter().map(|e| e.seconds).sum()
    }

    /// The history as CSV: `epoch,train_loss,train_<metric>,eval_loss,eval_<metric>,learning_rate,seconds`.
    pub fn to_csv(&self) -> String {
        let m = if self.metric_name.is_empty() {
            "metric"
        } else {
            &self.metric_name
        };
        let mut s =
            format!("epoch,train_loss,train_{m},eval_loss,eval_{m},learning_rate,seconds\n");
        for e in &self.epochs {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{:.3}",
                e.epoch,
                e.train.loss,
                opt(e.train.metric),
                opt(e.eval.map(|v| v.loss)),
                opt(e.eval.and_then(|v| v.metric)),
                e.learning_rate,
                e.seconds
            );
        }
        s
    }

    /// Writes [`History::to_csv`] to `path` atomically.
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomic(path.as_ref(), self.to_csv().as_bytes())
    }

    /// Draws the loss curves (left) and metric curves (right), training and evaluation, as an
    /// SVG document (feature `plot`).
    #[cfg(feature = "plot")]
    pub fn to_svg(&self, title: &str) -> Result<String> {
        if self.epochs.is_empty() {
            return Err(NnError::config("History::to_svg", "no epoch to plot"));
        }
        let mut svg = String::new();
        let err = |e: String| NnError::config("History::to_svg", e);
        {
            let root = SVGBackend::with_string(&mut svg, (1000, 420)).into_drawing_area();
            root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
            let root = root
                .titled(title, ("sans-serif", 20))
                .map_err(|e| err(e.to_string()))?;
            let panels = root.split_evenly((1, 2));
            let n = self.epochs.len();
            let series = |f: &dyn Fn(&EpochRecord) -> Option<f64>| -> Vec<(f64, f64)> {
                self.epochs
                    .iter()
                    .filter_map(|e| f(e).filter(|v| v.is_finite()).map(|v| (e.epoch as f64, v)))
                    .collect()
            };
            let m = if self.metric_name.is_empty() {
                "metric"
            } else {
                self.metric_name.as_str()
            };
            type Curve = Vec<(f64, f64)>;
            let charts: [(&str, Curve, Curve); 2] = [
                (
                    "loss",
                    series(&|e| Some(e.train.loss)),
                    series(&|e| e.eval.map(|v| v.loss)),
                ),
                (
                    m,
                    series(&|e| e.train.metric),
                    series(&|e| e.eval.and_then(|v| v.metric)),
                ),
            ];
            for (area, (name, train, eval)) in panels.iter().zip(charts.iter()) {
                let all: Vec<f64> = train.iter().chain(eval.iter()).map(|p| p.1).collect();
                if all.is_empty() {
                    continue;
                }
                let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let pad = ((hi - lo) * 0.05).max(1e-9);
                let x_hi = (n as f64).max(2.0);
                let mut chart = ChartBuilder::on(area)
                    .caption(*name, ("sans-serif", 16))
                    .margin(10)
                    .x_label_area_size(30)
                    .y_label_area_size(50)
                    .build_cartesian_2d(1.0..x_hi, (lo - pad)..(hi + pad))
                    .map_err(|e| err(e.to_string()))?;
                chart
                    .configure_mesh()
                    .x_desc("epoch")
                    .draw()
                    .map_err(|e| err(e.to_string()))?;
                for (label, pts, color) in [("train", train, &BLUE), ("eval", eval, &RED)] {
                    if pts.is_empty() {
                        continue;
                    }
                    chart
                        .draw_series(LineSeries::new(pts.iter().copied(), color))
                        .map_err(|e| err(e.to_string()))?
                        .label(label)
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
                }
                chart
                    .configure_series_labels()
                    .background_style(WHITE.mix(0.8))
                    .border_style(BLACK)
                    .draw()
                    .map_err(|e| err(e.to_string()))?;
            }
            root.present().map_err(|e| err(e.to_string()))?;
        }
        Ok(svg)
    }

    /// Writes [`History::to_svg`] to `path` atomically (feature `plot`).
    #[cfg(feature = "plot")]
    pub fn write_svg(&self, path: impl AsRef<Path>, title: &str) -> Result<()> {
        write_atomic(path.as_ref(), self.to_svg(title)?.as_bytes())
    }
}

/// Whether to show the progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Progress {
    /// A bar when stdout is a terminal, nothing otherwise (the default).
    #[default]
    Auto,
    /// Never a bar.
    Hidden,
}

/// Runs a training loop of `epochs` epochs of `batches_per_epoch` batches each (see the module
/// doc). After each epoch it prints one summary line (unless [`Trainer::silent`]) and records it.
///
/// ```
/// use neurite_nn::train::{Metrics, Trainer};
/// let mut w = 5.0f64; // the "model": minimise w² by gradient descent
/// let history = Trainer::new(3, 4)
///     .metric_name("w")
///     .silent()
///     .fit(
///         &mut w,
///         |w, _epoch, tick| {
///             let mut loss = 0.0;
///             for _ in 0..4 {
///                 loss = *w * *w;
///                 *w -= 0.1 * 2.0 * *w;
///                 tick(loss);
///             }
///             Ok(Metrics::new(loss, Some(*w)))
///         },
///         |_w, _epoch| Ok(None),
///     )?;
/// assert_eq!(history.epochs.len(), 3);
/// assert!(history.epochs[2].train.loss < history.epochs[0].train.loss);
/// # Ok::<(), neurite_nn::NnError>(())
/// ```
pub struct Trainer {
    epochs: usize,
    batches: usize,
    metric_name: String,
    progress: Progress,
    summaries: bool,
    csv: Option<PathBuf>,
    #[cfg(feature = "plot")]
    plot: Option<(PathBuf, String)>,
    learning_rate: Box<dyn FnMut(usize) -> f64>,
    monitor: Option<Monitor>,
    patience: Option<usize>,
    start_epoch: usize,
    steps: u64,
    best: Option<f64>,
    since_best: usize,
}

impl Trainer {
    /// A loop of `epochs` epochs with `batches_per_epoch` batches (the bar's length).
    pub fn new(epochs: usize, batches_per_epoch: usize) -> Self {
        Trainer {
            epochs,
            batches: batches_per_epoch,
            metric_name: String::new(),
            progress: Progress::Auto,
            summaries: true,
            csv: None,
            #[cfg(feature = "plot")]
            plot: None,
            learning_rate: Box::new(|_| f64::NAN),
            monitor: None,
            patience: None,
            start_epoch: 0,
            steps: 0,
            best: None,
            since_best: 0,
        }
    }
    /// Watches `monitor` each epoch: [`Trainer::fit_keep_best`] calls its `on_best` whenever the
    /// value improves (keep-best checkpoints), and the history names the best epoch.
    pub fn monitor(mut self, monitor: Monitor) -> Self {
        self.monitor = Some(monitor);
        self
    }
    /// Stops after `patience` epochs (≥ 1) without improvement of `monitor`.
    pub fn early_stopping(mut self, monitor: Monitor, patience: usize) -> Self {
        self.monitor = Some(monitor);
        self.patience = Some(patience.max(1));
        self
    }
    /// Continues a run from a checkpoint: `epochs_done` epochs are skipped, and the best value so
    /// far and the epochs since it carry over (early stopping counts on from there).
    pub fn resume(
        mut self,
        epochs_done: usize,
        best: Option<f64>,
        epochs_since_best: usize,
    ) -> Self {
        self.start_epoch = epochs_done;
        self.best = best;
        self.since_best = epochs_since_best;
        self
    }
    /// Continues a run from where a checkpoint left it ([`TrainingState`], e.g. returned by
    /// [`crate::load_checkpoint`]): epochs done, steps taken (counted on from there), the best
    /// value so far and the epochs since it.
    pub fn resume_from(mut self, progress: &TrainingState) -> Self {
        self.start_epoch = usize::try_from(progress.epoch).unwrap_or(usize::MAX);
        self.steps = progress.step;
        self.best = progress.best_metric;
        self.since_best = usize::try_from(progress.epochs_since_best).unwrap_or(usize::MAX);
        self
    }
    /// Where the run stands after `epochs_done` epochs: the steps counted so far (one per
    /// `tick`), the best monitored value and the epochs since it. `schedule_step` is the step
    /// count (what a per-step schedule is called with); a loop whose schedule moves otherwise
    /// sets it before saving.
    pub fn position(&self, epochs_done: usize) -> TrainingState {
        TrainingState {
            epoch: epochs_done as u64,
            step: self.steps,
            schedule_step: self.steps,
            best_metric: self.best,
            epochs_since_best: self.since_best as u64,
        }
    }
    /// The best monitored value so far, and the epochs since it (after or during a fit).
    pub fn best(&self) -> (Option<f64>, usize) {
        (self.best, self.since_best)
    }
    /// The metric's name, for the bar, the CSV header and the plot (e.g. "accuracy").
    pub fn metric_name(mut self, name: &str) -> Self {
        self.metric_name = name.to_string();
        self
    }
    /// Progress bar policy.
    pub fn progress(mut self, p: Progress) -> Self {
        self.progress = p;
        self
    }
    /// No bar and no per-epoch lines.
    pub fn silent(mut self) -> Self {
        self.progress = Progress::Hidden;
        self.summaries = false;
        self
    }
    /// Writes the history as CSV to `path` at the end (atomic).
    pub fn csv(mut self, path: Option<PathBuf>) -> Self {
        self.csv = path;
        self
    }
    /// Draws the curves to the SVG file `path` at the end (atomic; feature `plot`).
    #[cfg(feature = "plot")]
    pub fn plot(mut self, path: Option<PathBuf>, title: &str) -> Self {
        self.plot = path.map(|p| (p, title.to_string()));
        self
    }
    /// Reports the learning rate of each epoch in the history (e.g. from a schedule).
    pub fn learning_rate(mut self, f: impl FnMut(usize) -> f64 + 'static) -> Self {
        self.learning_rate = Box::new(f);
        self
    }

    fn fmt_metrics(&self, m: &Metrics) -> String {
        match m.metric {
            Some(v) => format!("loss {:.4} {} {:.4}", m.loss, self.metric_name, v),
            None => format!("loss {:.4}", m.loss),
        }
    }

    /// Runs the loop. `train_epoch(state, epoch, tick)` trains one epoch (epoch from 0), calling
    /// `tick(batch_loss)` after each batch, and returns the epoch's training metrics;
    /// `evaluate(state, epoch)` returns held-out metrics, or None. `state` (typically the model
    /// and the optimiser) is lent to each in turn. Stops at the first error. A non-finite
    /// training loss is an [`NnError::NonFinite`] (the run diverged).
    pub fn fit<S: ?Sized>(
        &mut self,
        state: &mut S,
        train_epoch: impl FnMut(&mut S, usize, &mut dyn FnMut(f64)) -> Result<Metrics>,
        evaluate: impl FnMut(&mut S, usize) -> Result<Option<Metrics>>,
    ) -> Result<History> {
        self.fit_keep_best(state, train_epoch, evaluate, |_, _, _| Ok(()))
    }

    /// [`Trainer::fit`] that also calls `on_best(state, epoch, value)` each time the monitored
    /// value ([`Trainer::monitor`]) improves — the place to save a keep-best checkpoint — and
    /// stops early when [`Trainer::early_stopping`] says so. A monitored evaluation value that
    /// `evaluate` does not provide is an [`NnError::InvalidConfig`].
    pub fn fit_keep_best<S: ?Sized>(
        &mut self,
        state: &mut S,
        train_epoch: impl FnMut(&mut S, usize, &mut dyn FnMut(f64)) -> Result<Metrics>,
        evaluate: impl FnMut(&mut S, usize) -> Result<Option<Metrics>>,
        on_best: impl FnMut(&mut S, usize, f64) -> Result<()>,
    ) -> Result<History> {
        self.run(state, train_epoch, evaluate, on_best, |_, _| Ok(()))
    }

    /// [`Trainer::fit`] that calls `on_epoch_end(state, progress)` after every epoch — after the
    /// evaluation and the monitor's update, before an early stop — with where the run stands
    /// ([`Trainer::position`]): the place to save a checkpoint ([`crate::save_checkpoint`])
    /// that a later run continues from with [`Trainer::resume_from`].
    pub fn fit_checkpointed<S: ?Sized>(
        &mut self,
        state: &mut S,
        train_epoch: impl FnMut(&mut S, usize, &mut dyn FnMut(f64)) -> Result<Metrics>,
        evaluate: impl FnMut(&mut S, usize) -> Result<Option<Metrics>>,
        on_epoch_end: impl FnMut(&mut S, &TrainingState) -> Result<()>,
    ) -> Result<History> {
        self.run(state, train_epoch, evaluate, |_, _, _| Ok(()), on_epoch_end)
    }

    fn run<S: ?Sized>(
        &mut self,
        state: &mut S,
        mut train_epoch: impl FnMut(&mut S, usize, &mut dyn FnMut(f64)) -> Result<Metrics>,
        mut evaluate: impl FnMut(&mut S, usize) -> Result<Option<Metrics>>,
        mut on_best: impl FnMut(&mut S, usize, f64) -> Result<()>,
        mut on_epoch_end: impl FnMut(&mut S, &TrainingState) -> Result<()>,
    ) -> Result<History> {
        let show_bar = self.progress == Progress::Auto && std::io::stdout().is_terminal();
        let mut history = History {
            metric_name: self.metric_name.clone(),
            ..Default::default()
        };
        for epoch in self.start_epoch..self.epochs {
            let start = Instant::now();
            let lr = (self.learning_rate)(epoch);
            let bar = Bar::new(show_bar, self.batches, epoch, self.epochs);
            let (mut sum, mut count) = (0.0, 0usize);
            let train = train_epoch(state, epoch, &mut |loss| {
                sum += loss;
                count += 1;
                bar.tick(count, sum);
            })?;
            bar.finish();
            self.steps += count as u64;
            if !train.loss.is_finite() {
                return Err(NnError::NonFinite {
                    what: "training loss".into(),
                    location: format!("epoch {}", epoch + 1),
                });
            }
            let eval = evaluate(state, epoch)?;
            let rec = EpochRecord {
                epoch: epoch + 1,
                train,
                eval,
                learning_rate: lr,
                seconds: start.elapsed().as_secs_f64(),
            };
            if self.summaries {
                let mut line = format!(
                    "epoch {:>3}/{}  train {}",
                    rec.epoch,
                    self.epochs,
                    self.fmt_metrics(&rec.train)
                );
                if let Some(e) = &rec.eval {
                    let _ = write!(line, "  |  eval {}", self.fmt_metrics(e));
                }
                let _ = write!(line, "  ({:.1} s)", rec.seconds);
                println!("{line}");
            }
            let watched = self
                .monitor
                .map(|m| (m, m.value(&rec.train, rec.eval.as_ref())));
            history.epochs.push(rec);
            if let Some((m, v)) = watched {
                let v = v.ok_or_else(|| {
                    NnError::config(
                        "Trainer",
                        format!("the monitored {m:?} is not reported by the evaluation"),
                    )
                })?;
                if self.best.is_none_or(|b| m.better(v, b)) {
                    self.best = Some(v);
                    self.since_best = 0;
                    history.best_epoch = Some(epoch + 1);
                    on_best(state, epoch, v)?;
                } else {
                    self.since_best += 1;
                }
            }
            on_epoch_end(state, &self.position(epoch + 1))?;
            if let Some((m, _)) = watched {
                if self.patience.is_some_and(|p| self.since_best >= p) && epoch + 1 < self.epochs {
                    history.stopped_early = true;
                    if self.summaries {
                        println!(
                            "early stop after epoch {}: no improvement of {m:?} for {} epochs",
                            epoch + 1,
                            self.since_best
                        );
                    }
                    break;
                }
            }
        }
        if let Some(p) = &self.csv {
            history.write_csv(p)?;
        }
        #[cfg(feature = "plot")]
        if let Some((p, title)) = &self.plot {
            history.write_svg(p, title)?;
        }
        Ok(history)
    }
}

/// The per-epoch progress bar (feature `progress`; without it, nothing is drawn).
struct Bar {
    #[cfg(feature = "progress")]
    bar: Option<indicatif::ProgressBar>,
}

impl Bar {
    #[cfg_attr(not(feature = "progress"), allow(unused_variables))]
    fn new(show: bool, batches: usize, epoch: usize, epochs: usize) -> Bar {
        #[cfg(feature = "progress")]
        {
            use indicatif::{ProgressBar, ProgressStyle};
            let bar = show.then(|| {
                let b = ProgressBar::new(batches as u64);
                let style = ProgressStyle::with_template(
                    "epoch {prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed})",
                )
                .map(|s| s.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
                b.set_style(style);
                b.set_prefix(format!("{}/{}", epoch + 1, epochs));
                b
            });
            Bar { bar }
        }
        #[cfg(not(feature = "progress"))]
        Bar {}
    }

    /// One batch done; `sum` is the loss summed over the `count` batches so far.
    #[cfg_attr(not(feature = "progress"), allow(unused_variables))]
    fn tick(&self, count: usize, sum: f64) {
        #[cfg(feature = "progress")]
        if let Some(b) = &self.bar {
            b.inc(1);
            if count % 10 == 1 {
                b.set_message(format!("loss {:.4}", sum / count as f64));
            }
        }
    }

    fn finish(&self) {
        #[cfg(feature = "progress")]
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn early_stopping_and_keep_best_follow_the_monitored_value() {
        // Eval loss per epoch: best at epoch 3, then worse for 2 epochs → stop after epoch 5.
        let losses = [1.0, 0.8, 0.5, 0.6, 0.7, 0.1, 0.1];
        let mut saved = Vec::new();
        let mut t = Trainer::new(7, 1)
            .silent()
            .early_stopping(Monitor::EvalLoss, 2);
        let h = t
            .fit_keep_best(
                &mut saved,
                |_, _, tick| {
                    tick(1.0);
                    Ok(Metrics::new(1.0, None))
                },
                |_, e| Ok(Some(Metrics::new(losses[e], None))),
                |saved, e, v| {
                    saved.push((e, v));
                    Ok(())
                },
            )
            .unwrap();
        assert_eq!(h.epochs.len(), 5);
        assert!(h.stopped_early);
        assert_eq!(h.best_epoch, Some(3));
        assert_eq!(saved, [(0, 1.0), (1, 0.8), (2, 0.5)]);
        assert_eq!(t.best(), (Some(0.5), 2));
        // Resumed after epoch 4 with the carried-over best: epoch 5 is the second without
        // improvement, so it stops at the same place.
        let mut t = Trainer::new(7, 1)
            .silent()
            .early_stopping(Monitor::EvalLoss, 2)
            .resume(4, Some(0.5), 1);
        let h = t
            .fit(
                &mut (),
                |_, _, _| Ok(Metrics::new(1.0, None)),
                |_, e| Ok(Some(Metrics::new(losses[e], None))),
            )
            .unwrap();
        assert_eq!(
            (h.epochs.len(), h.epochs[0].epoch, h.stopped_early),
            (1, 5, true)
        );
        // Higher is better for the metric; a monitored value the evaluation lacks is an error.
        let mut t = Trainer::new(3, 1).silent().monitor(Monitor::EvalMetric);
        let h = t
            .fit(
                &mut (),
                |_, _, _| Ok(Metrics::new(1.0, None)),
                |_, e| Ok(Some(Metrics::new(1.0, Some([0.5, 0.9, 0.7][e])))),
            )
            .unwrap();
        assert_eq!(h.best_epoch, Some(2));
        let mut t = Trainer::new(3, 1).silent().monitor(Monitor::EvalLoss);
        assert!(t
            .fit(
                &mut (),
                |_, _, _| Ok(Metrics::new(1.0, None)),
                |_, _| Ok(None)
            )
            .is_err());
    }

    #[test]
    fn epoch_end_reports_the_position_and_a_resume_counts_on() {
        let mut seen = Vec::new();
        let mut t = Trainer::new(3, 2).silent().monitor(Monitor::TrainLoss);
        t.fit_checkpointed(
            &mut seen,
            |_, e, tick| {
                tick(1.0);
                tick(1.0);
                Ok(Metrics::new([0.5, 0.7, 0.4][e], None))
            },
            |_, _| Ok(None),
            |seen, p| {
                seen.push(*p);
                Ok(())
            },
        )
        .unwrap();
        let steps: Vec<(u64, u64, Option<f64>, u64)> = seen
            .iter()
            .map(|p| (p.epoch, p.step, p.best_metric, p.epochs_since_best))
            .collect();
        assert_eq!(
            steps,
            [
                (1, 2, Some(0.5), 0),
                (2, 4, Some(0.5), 1),
                (3, 6, Some(0.4), 0)
            ]
        );
        // Resumed after the second epoch: only the third runs, and it counts on.
        let mut again = Vec::new();
        let mut t = Trainer::new(3, 2)
            .silent()
            .monitor(Monitor::TrainLoss)
            .resume_from(&seen[1]);
        let h = t
            .fit_checkpointed(
                &mut again,
                |_, e, tick| {
                    tick(1.0);
                    tick(1.0);
                    Ok(Metrics::new([0.5, 0.7, 0.4][e], None))
                },
                |_, _| Ok(None),
                |again, p| {
                    again.push(*p);
                    Ok(())
                },
            )
            .unwrap();
        assert_eq!(h.epochs.len(), 1);
        assert_eq!(again, [seen[2]]);
    }

    fn history() -> History {
        History {
            metric_name: "accuracy".into(),
            epochs: (1..=4)
                .map(|e| EpochRecord {
                    epoch: e,
                    train: Metrics::new(1.0 / e as f64, Some(0.5 + 0.1 * e as f64)),
                    eval: Some(Metrics::new(1.2 / e as f64, Some(0.45 + 0.1 * e as f64))),
                    learning_rate: 0.1,
                    seconds: 0.5,
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn csv_and_svg_are_written() {
        let h = history();
        let csv = h.to_csv();
        assert!(csv.starts_with("epoch,train_loss,train_accuracy,eval_loss,eval_accuracy"));
        assert_eq!(csv.lines().count(), 5);
        let dir = std::env::temp_dir().join(format!("neurite-nn-train-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        #[cfg(feature = "plot")]
        {
            h.write_svg(dir.join("c.svg"), "test run").unwrap();
            let svg = std::fs::read_to_string(dir.join("c.svg")).unwrap();
            assert!(
                svg.starts_with("<svg") && svg.contains("polyline") && svg.contains("accuracy")
            );
            assert!(History::default().to_svg("x").is_err());
        }
        h.write_csv(dir.join("h.csv")).unwrap();
    }

    #[test]
    fn fit_records_every_epoch_and_stops_on_divergence() {
        let mut calls = 0;
        let h = Trainer::new(3, 2)
            .metric_name("accuracy")
            .silent()
            .fit(
                &mut calls,
                |calls, _, tick| {
                    tick(1.0);
                    tick(2.0);
                    *calls += 1;
                    Ok(Metrics::new(1.5, Some(0.5)))
                },
                |_, _| Ok(Some(Metrics::new(1.0, Some(0.6)))),
            )
            .unwrap();
        assert_eq!((calls, h.epochs.len()), (3, 3));
        assert_eq!(h.last().unwrap().eval.unwrap().metric, Some(0.6));
        let e = Trainer::new(2, 1)
            .silent()
            .fit(
                &mut (),
                |_, _, _| Ok(Metrics::new(f64::NAN, None)),
                |_, _| Ok(None),
            )
            .unwrap_err();
        assert!(matches!(e, NnError::NonFinite { .. }));
    }
}

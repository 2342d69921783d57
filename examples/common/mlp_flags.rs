//! The command-line flags the MLP examples share (`--data --epochs --hidden --lr --batch --seed
//! --plot --csv --save --quick --help`, and `--target` / `--weight-decay` where an example offers
//! them), parsed once here; each example passes its own defaults and usage text.

use std::path::PathBuf;

/// The settings of an MLP example run.
// Each example reads the fields it offers; the optional ones are unread elsewhere.
#[allow(dead_code)]
pub struct Args {
    /// The data file or directory.
    pub data: PathBuf,
    /// A second input file (the targets of mlp_regression); `None`: no `--target` flag.
    pub target: Option<PathBuf>,
    /// Training epochs of a full run (`--quick` uses the count given to [`parse`]).
    pub epochs: usize,
    /// Hidden units.
    pub hidden: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Adam's weight decay; `None`: no `--weight-decay` flag.
    pub weight_decay: Option<f64>,
    /// Mini-batch size.
    pub batch: usize,
    /// Seed of the split, the initialisation and the shuffling.
    pub seed: u64,
    /// Where to draw the loss/metric curves (SVG).
    pub plot: Option<PathBuf>,
    /// Where to write the per-epoch history (CSV).
    pub csv: Option<PathBuf>,
    /// Where to save the trained parameters (safetensors).
    pub save: Option<PathBuf>,
}

impl Args {
    /// Settings reading `data`, with the defaults most examples share; override fields with
    /// struct-update syntax.
    pub fn with_data(data: impl Into<PathBuf>) -> Self {
        Args {
            data: data.into(),
            target: None,
            epochs: 10,
            hidden: 64,
            lr: 1e-3,
            weight_decay: None,
            batch: 32,
            seed: 7,
            plot: None,
            csv: None,
            save: None,
        }
    }
}

/// Parses `args` over `defaults`: `Ok(None)` for `--help`, an error (ending with `usage`) for
/// an unknown flag, a missing value or a value that is not a number.
pub fn parse(
    args: &[String],
    usage: &str,
    mut a: Args,
    quick_epochs: usize,
) -> Result<Option<Args>, String> {
    let mut quick = false;
    let mut epochs = None;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value\n\n{usage}"))
        };
        let num = |v: String| -> Result<f64, String> {
            v.parse().map_err(|_| format!("{flag}: not a number: {v}"))
        };
        match flag.as_str() {
            "--help" | "-h" => return Ok(None),
            "--quick" => quick = true,
            "--data" => a.data = value()?.into(),
            "--target" if a.target.is_some() => a.target = Some(value()?.into()),
            "--epochs" => epochs = Some(num(value()?)? as usize),
            "--hidden" => a.hidden = num(value()?)? as usize,
            "--lr" => a.lr = num(value()?)?,
            "--weight-decay" if a.weight_decay.is_some() => a.weight_decay = Some(num(value()?)?),
            "--batch" => a.batch = num(value()?)? as usize,
            "--seed" => a.seed = num(value()?)? as u64,
            "--plot" => a.plot = Some(value()?.into()),
            "--csv" => a.csv = Some(value()?.into()),
            "--save" => a.save = Some(value()?.into()),
            other => return Err(format!("unknown option {other}\n\n{usage}")),
        }
    }
    a.epochs = epochs.unwrap_or(if quick { quick_epochs } else { a.epochs });
    Ok(Some(a))
}

//! The command-line flags every training example shares, and checked parsers for numbers.
//!
//! An example's `Cli` flattens [`TrainFlags`] and states its defaults once, in a [`Defaults`];
//! [`parse`] shows those defaults in `--help` and [`TrainFlags::resolve`] applies them. Every
//! number is checked where it is parsed: a size must be a whole number in its range (so
//! `--hidden 1e10` or `--batch 0` is an error naming the flag, never an abort or a division by
//! zero), a rate must be finite and positive.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{ArgMatches, Args, Command, CommandFactory, Parser};

/// The largest epoch count a flag accepts.
pub const MAX_EPOCHS: usize = 100_000;
/// The largest mini-batch a flag accepts.
pub const MAX_BATCH: usize = 1 << 16;
/// The largest layer width (hidden units, embedding size, filters) a flag accepts.
pub const MAX_WIDTH: usize = 1 << 14;
/// The most threads a flag accepts.
pub const MAX_THREADS: usize = 1024;

/// Flags of every training example: `--epochs --batch --lr --seed --threads --plot --quick
/// --checkpoint --resume`.
#[derive(Args, Debug, Clone, Default)]
pub struct TrainFlags {
    /// Training epochs.
    #[arg(long, value_name = "N", value_parser = count(1, MAX_EPOCHS))]
    pub epochs: Option<usize>,
    /// Mini-batch size.
    #[arg(long, value_name = "N", value_parser = count(1, MAX_BATCH))]
    pub batch: Option<usize>,
    /// Learning rate.
    #[arg(long, value_name = "X", value_parser = positive)]
    pub lr: Option<f64>,
    /// Seed of every random choice (split, initialisation, batch order).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Worker threads of the tensor kernels [default: all cores].
    #[arg(long, value_name = "N", value_parser = count(1, MAX_THREADS))]
    pub threads: Option<usize>,
    /// Draw the loss / metric curves to this SVG file.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// A short run (the tour's).
    #[arg(long)]
    pub quick: bool,
    /// Save a checkpoint (model, optimiser, generators, position) to FILE after every epoch
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// Continue the run saved in the checkpoint FILE (--epochs counts the epochs it already
    /// did); with the same flags, the result is bit for bit the uninterrupted run's
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
}

/// An example's defaults for the shared flags, written once.
#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    /// Epochs of a full run.
    pub epochs: usize,
    /// Epochs with `--quick`.
    pub quick_epochs: usize,
    /// Mini-batch size.
    pub batch: usize,
    /// Learning rate.
    pub lr: f64,
    /// Seed.
    pub seed: u64,
}

/// The shared settings of a run, defaults applied.
#[derive(Debug, Clone)]
pub struct Training {
    /// Training epochs.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch: usize,
    /// Learning rate.
    pub lr: f64,
    /// Seed.
    pub seed: u64,
    /// Where to draw the curves.
    pub plot: Option<PathBuf>,
    /// A short run.
    pub quick: bool,
    /// Where to save a checkpoint after every epoch.
    pub checkpoint: Option<PathBuf>,
    /// The checkpoint to continue from.
    pub resume: Option<PathBuf>,
}

impl TrainFlags {
    /// The settings with `d` filling what was not given; sets the kernels' thread count when
    /// `--threads` was given.
    pub fn resolve(&self, d: &Defaults) -> Result<Training, String> {
        if let Some(n) = self.threads {
            neurite::tensor::set_num_threads(n).map_err(|e| format!("--threads {n}: {e}"))?;
        }
        Ok(Training {
            epochs: self
                .epochs
                .unwrap_or(if self.quick { d.quick_epochs } else { d.epochs }),
            batch: self.batch.unwrap_or(d.batch),
            lr: self.lr.unwrap_or(d.lr),
            seed: self.seed.unwrap_or(d.seed),
            plot: self.plot.clone(),
            quick: self.quick,
            checkpoint: self.checkpoint.clone(),
            resume: self.resume.clone(),
        })
    }
}

impl Training {
    /// For an example whose loop does not checkpoint: `--checkpoint` / `--resume` are an error
    /// saying why, not silently ignored.
    pub fn refuse_checkpoints(&self, why: &str) -> Result<(), String> {
        match (&self.checkpoint, &self.resume) {
            (None, None) => Ok(()),
            (Some(_), _) => Err(format!("--checkpoint is not supported here: {why}")),
            (None, Some(_)) => Err(format!("--resume is not supported here: {why}")),
        }
    }
}

/// `C`'s command with `d` written into the help of the shared flags.
pub fn command<C: CommandFactory>(d: &Defaults) -> Command {
    C::command()
        .mut_arg("epochs", |a| {
            a.help(format!(
                "Training epochs [default: {}; {} with --quick]",
                d.epochs, d.quick_epochs
            ))
        })
        .mut_arg("batch", |a| {
            a.help(format!("Mini-batch size [default: {}]", d.batch))
        })
        .mut_arg("lr", |a| {
            a.help(format!("Learning rate [default: {}]", d.lr))
        })
        .mut_arg("seed", |a| {
            a.help(format!(
                "Seed of every random choice (split, initialisation, batch order) [default: {}]",
                d.seed
            ))
        })
}

/// Parses `args` (the program name first) into `C`, whose flattened [`TrainFlags`] default to
/// `d`; `--help` and bad flags are a [`clap::Error`] (print it with `exit()`).
pub fn try_parse_from<C, I, T>(d: &Defaults, args: I) -> Result<C, clap::Error>
where
    C: Parser,
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut cmd = command::<C>(d);
    let matches: ArgMatches = cmd.try_get_matches_from_mut(args)?;
    C::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))
}

/// Parses the process's arguments into `C` (see [`try_parse_from`]); prints help or the error
/// and exits on `--help` or a bad flag.
pub fn parse<C: Parser>(d: &Defaults) -> C {
    try_parse_from(d, std::env::args_os()).unwrap_or_else(|e| e.exit())
}

/// A parser of whole numbers in `min..=max` (no sign, no exponent, no fraction).
pub fn count(min: usize, max: usize) -> impl Fn(&str) -> Result<usize, String> + Clone {
    move |s: &str| {
        let n: usize = s
            .trim()
            .parse()
            .map_err(|_| format!("expected a whole number from {min} to {max}, got {s:?}"))?;
        if (min..=max).contains(&n) {
            Ok(n)
        } else {
            Err(format!(
                "expected a whole number from {min} to {max}, got {n}"
            ))
        }
    }
}

/// Parses a finite number greater than zero.
pub fn positive(s: &str) -> Result<f64, String> {
    let x: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("expected a number, got {s:?}"))?;
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(format!("expected a finite number greater than 0, got {s}"))
    }
}

/// Parses a finite number, zero or more (a weight decay).
pub fn non_negative(s: &str) -> Result<f64, String> {
    let x: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("expected a number, got {s:?}"))?;
    if x.is_finite() && x >= 0.0 {
        Ok(x)
    } else {
        Err(format!("expected a finite number, 0 or more, got {s}"))
    }
}

/// Parses a probability in `[0, 1)` (a dropout rate).
pub fn probability(s: &str) -> Result<f64, String> {
    let x: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("expected a number, got {s:?}"))?;
    if (0.0..1.0).contains(&x) {
        Ok(x)
    } else {
        Err(format!("expected a number in [0, 1), got {s}"))
    }
}

/// The first line of a clap error, for tests and the tour's messages.
pub fn first_line(e: &clap::Error) -> String {
    e.to_string().lines().next().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Parser, Debug)]
    #[command(allow_negative_numbers = true)]
    struct Cli {
        #[command(flatten)]
        train: TrainFlags,
        #[arg(long, value_parser = count(1, MAX_WIDTH))]
        hidden: Option<usize>,
        #[arg(long, value_parser = probability)]
        dropout: Option<f64>,
    }

    const D: Defaults = Defaults {
        epochs: 10,
        quick_epochs: 2,
        batch: 32,
        lr: 1e-3,
        seed: 7,
    };

    fn parse(args: &[&str]) -> Result<Cli, String> {
        try_parse_from::<Cli, _, _>(&D, std::iter::once("t").chain(args.iter().copied()))
            .map_err(|e| first_line(&e))
    }

    #[test]
    fn defaults_apply_once_and_quick_picks_its_epochs() {
        let t = parse(&[]).unwrap().train.resolve(&D).unwrap();
        assert_eq!((t.epochs, t.batch, t.lr, t.seed), (10, 32, 1e-3, 7));
        let t = parse(&["--quick"]).unwrap().train.resolve(&D).unwrap();
        assert_eq!(t.epochs, 2);
        let t = parse(&["--quick", "--epochs", "5"]).unwrap().train;
        assert_eq!(t.resolve(&D).unwrap().epochs, 5);
    }

    #[test]
    fn bad_numbers_are_errors_naming_the_flag() {
        for (args, flag) in [
            (&["--batch", "0"][..], "--batch"),
            (&["--batch", "-5"][..], "--batch"),
            (&["--epochs", "0"][..], "--epochs"),
            (&["--epochs", "1e30"][..], "--epochs"),
            (&["--epochs", "100001"][..], "--epochs"),
            (&["--hidden", "1e10"][..], "--hidden"),
            (&["--hidden", "10000000000"][..], "--hidden"),
            (&["--lr", "NaN"][..], "--lr"),
            (&["--lr", "-0.1"][..], "--lr"),
            (&["--lr", "inf"][..], "--lr"),
            (&["--dropout", "1"][..], "--dropout"),
            (&["--dropout", "nan"][..], "--dropout"),
            (&["--seed", "-1"][..], "--seed"),
            (&["--threads", "0"][..], "--threads"),
        ] {
            let e = parse(args).expect_err(&format!("{args:?} accepted"));
            assert!(e.contains(flag), "{args:?}: {e}");
        }
        assert!(parse(&["--bogus"]).is_err());
        assert!(parse(&["--epochs"]).is_err());
    }

    #[test]
    fn help_shows_the_examples_defaults() {
        let help = command::<Cli>(&D).render_long_help().to_string();
        assert!(help.contains("[default: 10; 2 with --quick]"), "{help}");
        assert!(help.contains("[default: 32]") && help.contains("[default: 7]"));
    }

    #[cfg(unix)]
    #[test]
    fn paths_need_not_be_utf8() {
        use std::os::unix::ffi::OsStringExt;
        let name = OsString::from_vec(b"curves-\xff\xfe.svg".to_vec());
        let args = vec![OsString::from("t"), OsString::from("--plot"), name.clone()];
        let cli = try_parse_from::<Cli, _, _>(&D, args).unwrap();
        assert_eq!(cli.train.plot.unwrap().into_os_string(), name);
    }
}

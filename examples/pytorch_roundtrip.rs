//! Weights from PyTorch and back, as a user porting a model does: loads a PyTorch-trained W3
//! CNN with BatchNorm (f32 safetensors with PyTorch's names, written by
//! `examples/pytorch/w3_roundtrip.py`) into neurite's network of `cnn_fashion_mnist
//! --batchnorm` — as f32, or as f64 with `--f64` (each conversion reported) — evaluates it on
//! the Fashion-MNIST test subset and checks it predicts what PyTorch predicted, fine-tunes it
//! for an epoch, and saves it (`--save FILE`, f32, PyTorch's names) for PyTorch to load back
//! with `load_state_dict(strict=True)`: `python examples/pytorch/w3_roundtrip.py check FILE`.
//!
//! Predictions must agree sample by sample. Both sides compute in f32 with different summation
//! orders, so logits differ by a few ulps (max |Δlogit| is printed); a sample may then flip
//! only where PyTorch's two leading logits lie within 2·max |Δlogit| of each other — a tie,
//! counted and printed. Any other difference, or a max |Δlogit| above 1e-3, is an error.
//!
//! Run: `cargo run --release --example pytorch_roundtrip -- [--f64] [--save finetuned.safetensors]`
//! (the defaults are the PyTorch fixture in `tests/data/pytorch-w3/` and the vendored subset).

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Parser;

use neurite::nn::data::{load_mnist, MnistSplit};
use neurite::nn::{load_state_dict, state_dict, Adam, Dtype, LoadMode, StateDict};
use neurite::tensor::{Float, Rng};
use neurite_examples::{data, flags, w3, Defaults, TrainFlags};

const DEFAULTS: Defaults = Defaults {
    epochs: 1,
    quick_epochs: 1,
    batch: 64,
    lr: 1e-3,
    seed: 0,
};

/// Largest |Δlogit| between neurite and PyTorch accepted: f32 sums of a few thousand terms in
/// different orders differ by ~1e-6 on logits of order 10.
const MAX_LOGIT_DIFF: f64 = 1e-3;

/// pytorch_roundtrip: a PyTorch-trained W3 CNN with BatchNorm loaded, checked, fine-tuned, saved
#[derive(Parser)]
#[command(name = "pytorch_roundtrip", allow_negative_numbers = true)]
struct Cli {
    /// PyTorch's state dict (safetensors) [default: tests/data/pytorch-w3/w3_bn_torch.safetensors]
    #[arg(long, value_name = "FILE")]
    weights: Option<PathBuf>,
    /// What PyTorch computed on the test images (`logits`, `predictions`, `accuracy`)
    /// [default: the fixture's w3_bn_torch_eval.safetensors when --weights is not given]
    #[arg(long, value_name = "FILE")]
    expected: Option<PathBuf>,
    /// The Fashion-MNIST IDX files [default: the vendored subset tests/data/fashion-mnist-subset]
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Load into an f64 model (the f32 weights converted)
    #[arg(long)]
    f64: bool,
    /// Save the fine-tuned model to FILE (safetensors, f32, PyTorch's names)
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    #[command(flatten)]
    train: TrainFlags,
}

fn main() {
    neurite_examples::main("pytorch_roundtrip", || run(flags::parse(&DEFAULTS)));
}

fn fixture(name: &str) -> PathBuf {
    data::repo_root().join("tests/data/pytorch-w3").join(name)
}

fn run(cli: Cli) -> Result<(), Box<dyn Error>> {
    let t = cli.train.resolve(&DEFAULTS)?;
    t.refuse_checkpoints("the round trip starts from PyTorch's file; --save writes the result")?;
    if let Some(p) = &cli.save {
        neurite::nn::check_writable(p)?;
    }
    if cli.f64 {
        round_trip::<f64>(&cli, &t)
    } else {
        round_trip::<f32>(&cli, &t)
    }
}

/// What PyTorch printed for its model: accuracy, predictions and logits.
struct Expected {
    accuracy: f64,
    predictions: Vec<usize>,
    logits: Vec<f64>,
}

fn expected(path: &Path, samples: usize) -> Result<Expected, Box<dyn Error>> {
    let sd = StateDict::load(path)?;
    let accuracy = sd.require("accuracy")?.to_float::<f64>()?.to_vec();
    let predictions = sd.require("predictions")?.to_usize()?;
    let logits = sd.require("logits")?;
    let shape_ok = logits.shape() == [samples, 10];
    if accuracy.len() != 1 || predictions.len() != samples || !shape_ok {
        return Err(format!(
            "{}: expected accuracy [], predictions [{samples}] and logits [{samples}, 10]; got \
             {} accuracy values, {} predictions, logits {:?}",
            path.display(),
            accuracy.len(),
            predictions.len(),
            logits.shape()
        )
        .into());
    }
    Ok(Expected {
        accuracy: accuracy[0],
        predictions,
        logits: logits.to_float::<f64>()?.to_vec(),
    })
}

fn round_trip<T: Float>(cli: &Cli, t: &neurite_examples::Training) -> Result<(), Box<dyn Error>> {
    let t0 = Instant::now();
    let weights = cli
        .weights
        .clone()
        .unwrap_or_else(|| fixture("w3_bn_torch.safetensors"));
    let expected_path = cli.expected.clone().or_else(|| {
        cli.weights
            .is_none()
            .then(|| fixture("w3_bn_torch_eval.safetensors"))
    });
    let dir = cli
        .data
        .clone()
        .unwrap_or_else(data::fashion_mnist_subset_dir);
    let train = load_mnist::<T>(&dir, MnistSplit::Train)?;
    let test = load_mnist::<T>(&dir, MnistSplit::Test)?;

    // 1. PyTorch's weights into neurite's network, strictly (every name, every shape).
    let mut model = w3::network::<T>(true, &mut Rng::new(t.seed))?;
    let torch = StateDict::load(&weights)?;
    let report = load_state_dict(&mut model, &torch, LoadMode::Strict)?;
    let mut conversions: Vec<String> = report
        .converted
        .iter()
        .map(|c| format!("{} → {}", c.from, c.to))
        .collect();
    conversions.dedup();
    println!(
        "loaded {} tensors from {} into a {} model: {}",
        torch.len(),
        weights.display(),
        T::NAME,
        if report.converted.is_empty() {
            "no conversion".to_string()
        } else {
            format!(
                "{} converted ({})",
                report.converted.len(),
                conversions.join(", ")
            )
        }
    );

    // 2. The same predictions as PyTorch on the test images.
    let ev = w3::evaluate(&mut model, &test)?;
    println!(
        "neurite: test accuracy {:.4} on {} images",
        ev.accuracy,
        test.len()
    );
    let mut fields = format!("neurite_accuracy={:.4}", ev.accuracy);
    if let Some(path) = &expected_path {
        let e = expected(path, test.len())?;
        let max_diff = ev
            .logits
            .iter()
            .zip(&e.logits)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        let (mut ties, mut wrong) = (0usize, Vec::new());
        for (i, (&ours, &theirs)) in ev.predicted.iter().zip(&e.predictions).enumerate() {
            if ours != theirs {
                let margin = e.logits[i * 10 + theirs] - e.logits[i * 10 + ours];
                if margin <= 2.0 * max_diff {
                    ties += 1;
                } else {
                    wrong.push(format!(
                        "sample {i}: {ours} against {theirs} (margin {margin:.3e})"
                    ));
                }
            }
        }
        println!(
            "PyTorch printed {:.4}: {} of {} predictions the same, {ties} ties differ; max |Δlogit| {max_diff:.2e}",
            e.accuracy,
            test.len() - ties - wrong.len(),
            test.len()
        );
        if !wrong.is_empty() || max_diff > MAX_LOGIT_DIFF || !(max_diff.is_finite()) {
            return Err(format!(
                "neurite does not reproduce PyTorch: max |Δlogit| {max_diff:.3e} (at most \
                 {MAX_LOGIT_DIFF:e}); predictions that differ beyond a tie: {}",
                if wrong.is_empty() {
                    "none".to_string()
                } else {
                    wrong.join("; ")
                }
            )
            .into());
        }
        fields += &format!(
            " torch_accuracy={:.4} ties={ties} max_logit_diff={max_diff:.3e}",
            e.accuracy
        );
    }

    // 3. Fine-tuning: BatchNorm in training mode, Adam, seeded batch order.
    let mut opt = Adam::new(t.lr)?;
    let mut shuffle = Rng::new(t.seed ^ 0x70c4);
    let mut last = None;
    for epoch in 0..t.epochs {
        let m = w3::train_epoch(
            &mut model,
            &mut opt,
            &train,
            t.batch,
            &mut shuffle,
            &mut |_| {},
        )?;
        println!(
            "fine-tuning epoch {}: train loss {:.4}, accuracy {:.4}",
            epoch + 1,
            m.loss,
            m.metric.unwrap_or(f64::NAN)
        );
        last = Some(m);
    }
    let tuned = w3::evaluate(&mut model, &test)?;
    println!(
        "fine-tuned {} epoch(s) on {} images: test accuracy {:.4}",
        t.epochs,
        train.len(),
        tuned.accuracy
    );

    // 4. Saved as PyTorch keeps it: f32 floats, I64 counters, the same names.
    if let Some(path) = &cli.save {
        let mut out = StateDict::new();
        for (name, tensor) in state_dict(&model).iter() {
            let tensor = if tensor.dtype().is_float() {
                tensor.cast(Dtype::F32)?
            } else {
                tensor.clone()
            };
            out.insert(name, tensor);
        }
        out.save(path)?;
        println!(
            "saved to {}; load it back in PyTorch: python examples/pytorch/w3_roundtrip.py check {} --expect {:.4}",
            path.display(),
            path.display(),
            tuned.accuracy
        );
    }
    println!(
        "result: {fields} finetuned_accuracy={:.4} train_loss={:.4} dtype={} seconds={:.2}",
        tuned.accuracy,
        last.map_or(f64::NAN, |m| m.loss),
        T::NAME,
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

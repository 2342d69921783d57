//! The PyTorch round trip of `examples/pytorch_roundtrip.rs`, as a user runs it. The Rust half
//! needs no torch: it loads the committed PyTorch checkpoint (`tests/data/pytorch-w3/`, made by
//! `examples/pytorch/w3_roundtrip.py train`) into the f32 and the f64 network, must reproduce
//! PyTorch's printed accuracy and its predictions (ties aside, see the example's doc), fine-tunes
//! one epoch and saves. The Python half loads the saved file back into PyTorch with
//! `load_state_dict(strict=True)` and must print the accuracy neurite printed; it runs where a
//! Python with torch is found (`$NEURITE_TORCH_PYTHON`, `~/.venv-peers/bin/python`, `python3`)
//! and prints "skipped: torch not installed" otherwise.

use std::path::{Path, PathBuf};
use std::process::Command;

use neurite::nn::{Dtype, StateDict};
use neurite_examples::data::repo_root;
use neurite_examples::programs::{run, Run};

fn fixture(name: &str) -> PathBuf {
    repo_root().join("tests/data/pytorch-w3").join(name)
}

fn round_trip(dtype: &str, save: &Path) -> Run {
    let mut args = vec!["--save", save.to_str().unwrap()];
    if dtype == "f64" {
        args.push("--f64");
    }
    let r = run("pytorch_roundtrip", &args).unwrap();
    assert!(
        r.success,
        "pytorch_roundtrip {args:?} failed:\n{}\n{}",
        r.stdout, r.stderr
    );
    r
}

/// A Python that imports torch, numpy and safetensors, if there is one.
fn torch_python() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("NEURITE_TORCH_PYTHON") {
        candidates.push(p.into());
    }
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(Path::new(&home).join(".venv-peers/bin/python"));
    }
    candidates.push("python3".into());
    candidates.into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import torch, numpy, safetensors"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn pytorch_weights_load_evaluate_fine_tune_and_go_back() {
    let dir = std::env::temp_dir().join(format!("neurite-pytorch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let torch = StateDict::load(fixture("w3_bn_torch.safetensors")).unwrap();
    let eval = StateDict::load(fixture("w3_bn_torch_eval.safetensors")).unwrap();
    let torch_acc = eval
        .require("accuracy")
        .unwrap()
        .to_float::<f64>()
        .unwrap()
        .to_vec()[0];
    let batches = 5000usize.div_ceil(64) as i64;
    let mut tuned = Vec::new();
    for dtype in ["f32", "f64"] {
        let saved = dir.join(format!("finetuned-{dtype}.safetensors"));
        let r = round_trip(dtype, &saved);
        // PyTorch's accuracy, read from the fixture, printed back; neurite's agrees up to the
        // ties the example allows (each tie moves the accuracy by at most 1/1000).
        let ties = r.figure("ties").unwrap();
        assert!(ties <= 3.0, "{dtype}: {ties} ties");
        assert!((r.figure("torch_accuracy").unwrap() - torch_acc).abs() < 1e-9);
        let acc = r.figure("neurite_accuracy").unwrap();
        assert!(
            (acc - torch_acc).abs() <= ties / 1000.0 + 1e-9,
            "{dtype}: neurite {acc}, PyTorch {torch_acc}"
        );
        assert!(r.figure("max_logit_diff").unwrap() < 1e-4);
        if dtype == "f64" {
            assert!(r.stdout.contains("converted (F32 → F64)"), "{}", r.stdout);
        }
        // One more epoch on 5,000 images helps a model trained for one.
        let fine = r.figure("finetuned_accuracy").unwrap();
        assert!(
            fine > torch_acc,
            "{dtype}: fine-tuned {fine}, from {torch_acc}"
        );
        // Saved as PyTorch keeps it: the same names and shapes, f32, the batch counters moved
        // on by one epoch's batches.
        let out = StateDict::load(&saved).unwrap();
        // The bias of a convolution that a BatchNorm follows has a zero gradient (the batch
        // mean takes any shift away): only rounding noise moves it, by less than an f32 step
        // after the f64 run, so it is not required to change.
        let feeds_batchnorm = |name: &str| {
            name.strip_suffix(".bias")
                .and_then(|i| i.parse::<usize>().ok())
                .is_some_and(|i| torch.contains(&format!("{}.running_mean", i + 1)))
        };
        assert_eq!(out.len(), torch.len());
        for (name, t) in torch.iter() {
            let o = out.get(name).unwrap_or_else(|| panic!("{name} not saved"));
            assert_eq!((o.shape(), o.dtype()), (t.shape(), t.dtype()), "{name}");
            if name.ends_with("num_batches_tracked") {
                let (before, after) = (t.to_i64().unwrap()[0], o.to_i64().unwrap()[0]);
                assert_eq!(after, before + batches, "{name}");
            } else if o.dtype() == Dtype::F32 && !feeds_batchnorm(name) {
                assert!(o != t, "{name} unchanged by fine-tuning");
            }
        }
        tuned.push((saved, fine));
    }
    // The f32 and f64 runs fine-tune to the same predictions up to a tie or two.
    assert!((tuned[0].1 - tuned[1].1).abs() <= 0.002, "{tuned:?}");

    let Some(python) = torch_python() else {
        eprintln!("skipped: torch not installed (the PyTorch half of the round trip)");
        println!("skipped: torch not installed");
        let _ = std::fs::remove_dir_all(&dir);
        return;
    };
    let script = repo_root().join("examples/pytorch/w3_roundtrip.py");
    for (saved, fine) in &tuned {
        let out = Command::new(&python)
            .arg(&script)
            .arg("check")
            .arg(saved)
            .args(["--expect", &format!("{fine:.4}")])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "PyTorch could not load or evaluate {}:\n{stdout}\n{}",
            saved.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("strict=True"), "{stdout}");
        let printed = neurite_examples::programs::result_fields(&stdout);
        let acc: f64 = printed["torch_accuracy"].parse().unwrap();
        assert!(
            (acc - fine).abs() <= 0.001 + 1e-9,
            "{}: PyTorch {acc}, neurite {fine}",
            saved.display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

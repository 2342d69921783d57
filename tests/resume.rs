//! `--checkpoint` / `--resume` of the training examples, process against process: N epochs
//! straight through against N/2 epochs, a checkpoint, and a fresh process that resumes for the
//! other N/2 — the same model, optimiser state, generators and position, to the bit (the
//! checkpoints' tensors are compared byte for byte), and the same result line. A checkpoint of
//! another example, or one that does not fit the model, is an error message, not a panic.
//!
//! Each run is short (a few seconds in release on the vendored data):
//! `cargo test --release --test resume`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use neurite::nn::StateDict;
use neurite_examples::data::fashion_mnist_subset_dir;
use neurite_examples::programs::{run, Run};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("neurite-resume-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn ok(name: &str, args: &[&str]) -> Run {
    let r = run(name, args).unwrap();
    assert!(
        r.success,
        "{name} {args:?} failed:\n{}\n{}",
        r.stdout, r.stderr
    );
    r
}

/// The result fields that do not measure time.
fn figures(r: &Run) -> BTreeMap<String, String> {
    r.result
        .iter()
        .filter(|(k, _)| !k.contains("seconds") && !k.contains("per_s"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn load(p: &Path) -> StateDict {
    StateDict::load(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Runs `name` for `epochs` epochs straight and as two halves in two processes; the final
/// checkpoints and the result lines must agree. Returns the directory with `straight.ckpt`.
fn resumes_bit_for_bit(name: &str, args: &[&str], epochs: usize) -> PathBuf {
    let d = dir(name);
    let path = |f: &str| d.join(f).to_string_lossy().into_owned();
    let (straight, half, resumed) = (
        path("straight.ckpt"),
        path("half.ckpt"),
        path("resumed.ckpt"),
    );
    let (n, n2) = (epochs.to_string(), (epochs / 2).to_string());
    let with = |extra: &[&str]| -> Vec<String> {
        args.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let go = |a: Vec<String>| ok(name, &a.iter().map(String::as_str).collect::<Vec<_>>());
    let a = go(with(&["--epochs", &n, "--checkpoint", &straight]));
    let _ = go(with(&["--epochs", &n2, "--checkpoint", &half]));
    let b = go(with(&[
        "--epochs",
        &n,
        "--resume",
        &half,
        "--checkpoint",
        &resumed,
    ]));
    assert!(
        b.stdout.contains("resumed from"),
        "{name}: the resumed run does not say so:\n{}",
        b.stdout
    );
    let (sa, sh, sb) = (
        load(d.join("straight.ckpt").as_path()),
        load(d.join("half.ckpt").as_path()),
        load(d.join("resumed.ckpt").as_path()),
    );
    assert!(sa != sh, "{name}: the second half changed nothing");
    for (k, t) in sa.iter() {
        let other = sb
            .get(k)
            .unwrap_or_else(|| panic!("{name}: {k} missing after the resume"));
        assert!(
            t == other,
            "{name}: {k} differs between the straight and the resumed run"
        );
    }
    assert_eq!(sa.len(), sb.len(), "{name}: different tensors");
    assert_eq!(figures(&a), figures(&b), "{name}: result lines differ");
    d
}

#[test]
fn mlp_binary_resumes_bit_for_bit_and_refuses_a_foreign_checkpoint() {
    let d = resumes_bit_for_bit("mlp_binary", &[], 6);
    let ckpt = d.join("half.ckpt");
    let ckpt = ckpt.to_str().unwrap();
    // Another example's checkpoint: named, not a panic.
    let r = run("mlp_multiclass", &["--epochs", "4", "--resume", ckpt]).unwrap();
    assert!(!r.success && !r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(
        r.stderr.contains("checkpoint") && r.stderr.contains("mlp_binary"),
        "{}",
        r.stderr
    );
    // The same example with another model size: the mismatched tensors are named.
    let r = run(
        "mlp_binary",
        &["--epochs", "4", "--hidden", "8", "--resume", ckpt],
    )
    .unwrap();
    assert!(!r.success && !r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(r.stderr.contains("\"0.weight\""), "{}", r.stderr);
    // Nothing left to train, a missing file, a file that is no checkpoint.
    let r = run("mlp_binary", &["--epochs", "3", "--resume", ckpt]).unwrap();
    assert!(
        !r.success && r.stderr.contains("at epoch 3 already"),
        "{}",
        r.stderr
    );
    let missing = d.join("missing.ckpt");
    let r = run(
        "mlp_binary",
        &["--epochs", "4", "--resume", missing.to_str().unwrap()],
    )
    .unwrap();
    assert!(!r.success && !r.stderr.contains("panicked"), "{}", r.stderr);
    let junk = d.join("junk.ckpt");
    std::fs::write(&junk, b"not a checkpoint").unwrap();
    let r = run(
        "mlp_binary",
        &["--epochs", "4", "--resume", junk.to_str().unwrap()],
    )
    .unwrap();
    assert!(!r.success && !r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(r.stderr.contains("junk.ckpt"), "{}", r.stderr);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn mlp_regression_resumes_bit_for_bit() {
    let d = resumes_bit_for_bit("mlp_regression", &[], 6);
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn cnn_with_batchnorm_resumes_bit_for_bit_and_refuses_the_plain_network() {
    let data = fashion_mnist_subset_dir();
    let data = data.to_str().unwrap();
    let args = ["--data", data, "--train-subset", "1000", "--batchnorm"];
    let d = resumes_bit_for_bit("cnn_fashion_mnist", &args, 2);
    // The plain network cannot resume the BatchNorm run: the extra tensors are named.
    let ckpt = d.join("half.ckpt");
    let r = run(
        "cnn_fashion_mnist",
        &[
            "--data",
            data,
            "--train-subset",
            "1000",
            "--epochs",
            "2",
            "--resume",
            ckpt.to_str().unwrap(),
        ],
    )
    .unwrap();
    assert!(!r.success && !r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(r.stderr.contains("running_mean"), "{}", r.stderr);
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn cnn_digits_resumes_bit_for_bit() {
    let d = resumes_bit_for_bit("cnn_digits", &[], 2);
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn text_cnn_with_dropout_resumes_bit_for_bit() {
    let d = resumes_bit_for_bit("text_cnn", &["--quick"], 2);
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn rnn_classifier_with_word_dropout_resumes_bit_for_bit() {
    let d = resumes_bit_for_bit("rnn_classifier", &["--quick"], 2);
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn char_lstm_resumes_bit_for_bit() {
    let d = resumes_bit_for_bit("char_lstm", &["--quick"], 2);
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn rnn_tagger_resumes_bit_for_bit() {
    let d = resumes_bit_for_bit("rnn_tagger", &["--quick"], 2);
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn examples_without_checkpoints_refuse_the_flags() {
    for (name, flag) in [
        ("compare_cnn_rnn", "--resume"),
        ("compare_cnn_rnn", "--checkpoint"),
    ] {
        let r = run(name, &[flag, "x.ckpt"]).unwrap();
        assert!(!r.success && !r.stderr.contains("panicked"), "{}", r.stderr);
        assert!(
            r.stderr.contains(&format!("{flag} is not supported")),
            "{name}: {}",
            r.stderr
        );
    }
}

#[test]
fn image_caption_resumes_inside_an_epoch_bit_for_bit() {
    // 400 images in batches of 32: 13 steps an epoch, so the first half (10 steps) stops inside
    // the first epoch and the resumed run replays its order, then crosses into the second.
    let data = fashion_mnist_subset_dir();
    let base = [
        "--data",
        data.to_str().unwrap(),
        "--train",
        "400",
        "--test",
        "50",
        "--batch",
        "32",
        "--show",
        "0",
    ];
    let d = dir("image_caption");
    let path = |f: &str| d.join(f).to_string_lossy().into_owned();
    let (straight, half, resumed) = (
        path("straight.ckpt"),
        path("half.ckpt"),
        path("resumed.ckpt"),
    );
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let go = |a: Vec<String>| {
        ok(
            "image_caption",
            &a.iter().map(String::as_str).collect::<Vec<_>>(),
        )
    };
    let a = go(with(&["--steps", "20", "--checkpoint", &straight]));
    let _ = go(with(&["--steps", "10", "--checkpoint", &half]));
    let b = go(with(&[
        "--steps",
        "20",
        "--resume",
        &half,
        "--checkpoint",
        &resumed,
    ]));
    assert!(b.stdout.contains("resumed from"), "{}", b.stdout);
    let (sa, sb) = (load(Path::new(&straight)), load(Path::new(&resumed)));
    assert!(
        sa == sb,
        "the resumed captioner differs from the straight one"
    );
    assert!(sa != load(Path::new(&half)));
    assert_eq!(figures(&a), figures(&b));
    let _ = std::fs::remove_dir_all(d);
}

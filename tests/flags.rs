//! Every example parses its flags with clap over the shared training flags: bad numbers (zero,
//! negative, NaN, absurd sizes), unknown names and unknown sections are errors naming the flag —
//! never a panic, an abort or a silent success — and `--help` is each example's own. The
//! examples run as programs (built by `cargo test`, or on demand).

use neurite_examples::programs::run;

/// Runs `name args` and checks it exits with clap's usage status (2) naming `flag`.
fn rejected(name: &str, args: &[&str], flag: &str) {
    let r = run(name, args).unwrap();
    assert!(!r.success, "{name} {args:?} was accepted:\n{}", r.stdout);
    assert!(
        r.stderr.contains(flag) && r.stderr.contains("error"),
        "{name} {args:?}: the error does not name {flag}:\n{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("panicked"),
        "{name} {args:?} panicked:\n{}",
        r.stderr
    );
}

#[test]
fn bad_numbers_are_errors_naming_the_flag() {
    for name in [
        "mlp_binary",
        "mlp_multiclass",
        "mlp_regression",
        "mlp_fashion_mnist",
    ] {
        rejected(name, &["--batch", "0"], "--batch");
        rejected(name, &["--batch", "-5"], "--batch");
        rejected(name, &["--epochs", "0"], "--epochs");
        rejected(name, &["--epochs", "1e30"], "--epochs");
        rejected(name, &["--hidden", "1e10"], "--hidden");
        rejected(name, &["--hidden", "10000000000"], "--hidden");
        rejected(name, &["--lr", "NaN"], "--lr");
        rejected(name, &["--lr", "-1"], "--lr");
    }
    rejected(
        "mlp_regression",
        &["--weight-decay", "inf"],
        "--weight-decay",
    );
    rejected("image_caption", &["--beam", "1e12"], "--beam");
    rejected("image_caption", &["--beam", "1000000000000"], "--beam");
    rejected("image_caption", &["--hidden", "1e10"], "--hidden");
    rejected("rnn_classifier", &["--word-dropout", "1"], "--word-dropout");
    rejected("rnn_classifier", &["--dropout", "NaN"], "--dropout");
    rejected("char_lstm", &["--temperature", "0"], "--temperature");
    rejected("char_lstm", &["--bptt", "0"], "--bptt");
    rejected("text_cnn", &["--filters", "0"], "--filters");
    rejected("compare_cnn_rnn", &["--epochs", "0"], "--epochs");
    rejected("cnn_digits", &["--batch", "0"], "--batch");
    rejected(
        "cnn_fashion_mnist",
        &["--train-subset", "0"],
        "--train-subset",
    );
    rejected("rnn_tagger", &["--threads", "0"], "--threads");
    rejected("word2vec", &["--dim", "0"], "--dim");
    rejected("backprop", &["--steps", "-1"], "--steps");
}

#[test]
fn unknown_names_are_errors() {
    rejected("tour", &["--only", "bogus"], "--only");
    rejected("rnn_classifier", &["--cell", "transformer"], "--cell");
    rejected("mlp_binary", &["--bogus"], "--bogus");
}

#[test]
fn help_is_each_examples_own_with_its_defaults() {
    let r = run("mlp_fashion_mnist", &["--help"]).unwrap();
    assert!(r.success);
    assert!(r.stdout.contains("mlp_fashion_mnist") && r.stdout.contains("Fashion-MNIST"));
    assert!(!r.stdout.contains("digits"), "{}", r.stdout);
    assert!(
        r.stdout.contains("[default: 15; 2 with --quick]"),
        "{}",
        r.stdout
    );
    let r = run("mlp_regression", &["--help"]).unwrap();
    assert!(
        r.stdout.contains("[default: 150; 40 with --quick]"),
        "{}",
        r.stdout
    );
}

#[cfg(unix)]
#[test]
fn non_utf8_paths_reach_the_reader() {
    use std::os::unix::ffi::OsStrExt;
    // A Latin-1 file name: parsed as a path, then reported missing by the CSV reader.
    let name = std::ffi::OsStr::from_bytes(b"/nonexistent/donn\xe9es.csv");
    let exe = neurite_examples::programs::built_example("mlp_binary").unwrap();
    let out = std::process::Command::new(exe)
        .arg("--data")
        .arg(name)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("/nonexistent/donn") && !stderr.contains("panicked"),
        "{stderr}"
    );
}

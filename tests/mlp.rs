//! The MLP examples, run as programs, reach their held-out floors on the vendored tabular data
//! (each takes well under a second in release: `cargo test --release --test mlp`; the examples
//! are built by `cargo test`, or on demand by `neurite_examples::programs`).

use neurite_examples::programs::{run, Run};

fn ok(name: &str, args: &[&str]) -> Run {
    let r = run(name, args).unwrap();
    assert!(
        r.success,
        "{name} {args:?} failed:\n{}\n{}",
        r.stdout, r.stderr
    );
    r
}

#[test]
fn breast_cancer_sigmoid_bce_reaches_95_percent() {
    let acc = ok("mlp_binary", &[]).figure("test_accuracy").unwrap();
    assert!(acc >= 0.95, "held-out accuracy {acc}");
}

#[test]
fn digits_softmax_cross_entropy_reaches_96_percent() {
    let acc = ok("mlp_multiclass", &[]).figure("test_accuracy").unwrap();
    assert!(acc >= 0.96, "held-out accuracy {acc}");
}

#[test]
fn diabetes_linear_mse_reaches_r2_040() {
    let r2 = ok("mlp_regression", &[]).figure("r2").unwrap();
    assert!(r2 >= 0.40, "held-out R² {r2}");
}

#[test]
fn floors_hold_for_other_seeds() {
    for seed in ["1", "2", "3"] {
        let a = ["--seed", seed];
        let acc = ok("mlp_binary", &a).figure("test_accuracy").unwrap();
        assert!(acc >= 0.93, "breast cancer, seed {seed}: {acc}");
        let acc = ok("mlp_multiclass", &a).figure("test_accuracy").unwrap();
        assert!(acc >= 0.95, "digits, seed {seed}: {acc}");
        let r2 = ok("mlp_regression", &a).figure("r2").unwrap();
        assert!(r2 >= 0.30, "diabetes, seed {seed}: {r2}");
    }
}

#[test]
fn same_seed_same_result() {
    let a = ok("mlp_binary", &["--quick", "--seed", "4"]);
    let b = ok("mlp_binary", &["--quick", "--seed", "4"]);
    for key in ["test_accuracy", "test_loss", "train_accuracy"] {
        assert_eq!(a.result.get(key), b.result.get(key), "{key}");
    }
}

#[test]
fn missing_data_is_an_error_naming_the_file() {
    let r = run("mlp_regression", &["--data", "/nonexistent/x.csv"]).unwrap();
    assert!(!r.success);
    assert!(r.stderr.contains("/nonexistent/x.csv"), "{}", r.stderr);
}

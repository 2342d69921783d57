//! The MLP examples reach their held-out floors on the vendored tabular data (run in release:
//! `cargo test --release --test mlp`; each takes well under a second there).

// Each example includes the shared flag module itself, so that it also builds on its own.
#![allow(clippy::duplicate_mod)]

#[path = "../examples/mlp_binary.rs"]
mod mlp_binary;
#[path = "../examples/mlp_multiclass.rs"]
mod mlp_multiclass;
#[path = "../examples/mlp_regression.rs"]
mod mlp_regression;

fn figure(r: Result<Option<f64>, Box<dyn std::error::Error>>) -> f64 {
    r.expect("example ran").expect("a figure, not --help")
}

#[test]
fn breast_cancer_sigmoid_bce_reaches_95_percent() {
    let acc = figure(mlp_binary::train(&[]));
    assert!(acc >= 0.95, "held-out accuracy {acc}");
}

#[test]
fn digits_softmax_cross_entropy_reaches_96_percent() {
    let acc = figure(mlp_multiclass::train(&[]));
    assert!(acc >= 0.96, "held-out accuracy {acc}");
}

#[test]
fn diabetes_linear_mse_reaches_r2_040() {
    let r2 = figure(mlp_regression::train(&[]));
    assert!(r2 >= 0.40, "held-out R² {r2}");
}

#[test]
fn floors_hold_for_other_seeds() {
    for seed in ["1", "2", "3"] {
        let a = ["--seed".to_string(), seed.to_string()];
        let acc = figure(mlp_binary::train(&a));
        assert!(acc >= 0.93, "breast cancer, seed {seed}: {acc}");
        let acc = figure(mlp_multiclass::train(&a));
        assert!(acc >= 0.95, "digits, seed {seed}: {acc}");
        let r2 = figure(mlp_regression::train(&a));
        assert!(r2 >= 0.30, "diabetes, seed {seed}: {r2}");
    }
}

#[test]
fn bad_flags_and_missing_data_are_errors() {
    assert!(mlp_binary::train(&["--epochs".into()]).is_err());
    assert!(mlp_multiclass::train(&["--bogus".into()]).is_err());
    let missing = mlp_regression::train(&["--data".into(), "/nonexistent/x.csv".into()]);
    assert!(missing
        .unwrap_err()
        .to_string()
        .contains("/nonexistent/x.csv"));
}

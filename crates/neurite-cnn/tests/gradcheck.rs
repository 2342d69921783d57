//! Runs every gradient-check case of neurite-cnn and checks that every op in `OPS` is exercised.

use neurite_autograd::{check_suite, GradcheckOptions};
use neurite_cnn::{gradcheck_cases, OPS};

#[test]
fn every_case_passes_and_every_op_is_covered() {
    let cases = gradcheck_cases::cases();
    assert!(cases.len() >= 25, "{} cases", cases.len());
    if let Err(e) = check_suite(&cases, OPS, &GradcheckOptions::default()) {
        panic!("{e}");
    }
}

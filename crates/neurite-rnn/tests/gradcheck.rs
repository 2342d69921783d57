//! Every neurite-rnn gradient-check case passes, and every op name in `OPS` is exercised.

use std::collections::BTreeSet;

use neurite_autograd::GradcheckOptions;
use neurite_rnn::{gradcheck_cases, OPS};

#[test]
fn every_case_passes_and_every_op_is_covered() {
    let opts = GradcheckOptions::default();
    let mut covered = BTreeSet::new();
    let mut failures = Vec::new();
    let cases = gradcheck_cases::cases();
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    for case in &cases {
        let report = case
            .run(&opts)
            .unwrap_or_else(|e| panic!("{} {}: {e}", case.name, case.shapes));
        covered.extend(report.ops.iter().copied());
        if !report.passed() {
            failures.push(format!(
                "{} {}: abs {:.2e} rel {:.2e}",
                case.name,
                case.shapes,
                report.max_abs(),
                report.max_rel()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "gradcheck failures:\n{}",
        failures.join("\n")
    );
    let missing: Vec<_> = OPS.iter().filter(|op| !covered.contains(*op)).collect();
    assert!(
        missing.is_empty(),
        "ops without a gradient check: {missing:?}"
    );
}

//! `cargo xtask gradcheck`: every gradient-check case of every crate, in f64, as one table,
//! and both set differences between the ops the crates declare (their `OPS` lists) and the ops
//! the cases exercise (the names their graphs' backward rules report): an op without a case,
//! and a case whose ops nobody declared, each fail the suite.

use std::collections::BTreeSet;
use std::time::Instant;

use neurite::autograd::{GradCase, GradcheckOptions};

/// All cases, crate by crate, and the op names each crate declares.
fn suites() -> Vec<(&'static str, Vec<GradCase>, &'static [&'static str])> {
    vec![
        (
            "neurite-autograd",
            neurite::autograd::registry::cases(),
            neurite::autograd::OPS,
        ),
        (
            "neurite-nn",
            neurite::nn::gradcheck_cases::cases(),
            neurite::nn::gradcheck_cases::OPS,
        ),
        (
            "neurite-cnn",
            neurite::cnn::gradcheck_cases::cases(),
            neurite::cnn::OPS,
        ),
        (
            "neurite-rnn",
            neurite::rnn::gradcheck_cases::cases(),
            neurite::rnn::OPS,
        ),
    ]
}

pub fn run(args: &[String]) -> Result<(), String> {
    let filter = match args {
        [] => None,
        [f, name] if f == "--only" => Some(name.clone()),
        _ => return Err("usage: cargo xtask gradcheck [--only NAME-PREFIX]".into()),
    };
    let opts = GradcheckOptions::default();
    let t = Instant::now();
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut declared: BTreeSet<&str> = BTreeSet::new();
    let mut covered: BTreeSet<&str> = BTreeSet::new();
    println!(
        "{:<18} {:<34} {:<30} {:>11} {:>11}  result",
        "crate", "case", "shapes", "max abs", "max rel"
    );
    let suites = suites();
    for (_, _, ops) in &suites {
        declared.extend(ops.iter().copied());
    }
    for (krate, cases, _) in suites {
        for case in cases {
            if let Some(f) = &filter {
                if !case.name.starts_with(f.as_str()) {
                    continue;
                }
            }
            match case.run(&opts) {
                Ok(report) => {
                    covered.extend(report.ops.iter().copied());
                    let undeclared: Vec<&str> = report
                        .ops
                        .iter()
                        .copied()
                        .filter(|op| !declared.contains(op))
                        .collect();
                    if report.ops.is_empty() || !undeclared.is_empty() {
                        println!(
                            "{:<18} {:<34} {:<30} {:>11} {:>11}  FAIL: {}",
                            krate,
                            case.name,
                            case.shapes,
                            "-",
                            "-",
                            if report.ops.is_empty() {
                                "the case exercises no op".to_string()
                            } else {
                                format!("ops in no OPS list: {}", undeclared.join(", "))
                            }
                        );
                        failed += 1;
                        continue;
                    }
                    let ok = report.passed();
                    println!(
                        "{:<18} {:<34} {:<30} {:>11.3e} {:>11.3e}  {}",
                        krate,
                        case.name,
                        case.shapes,
                        report.max_abs(),
                        report.max_rel(),
                        if ok { "pass" } else { "FAIL" }
                    );
                    if ok {
                        passed += 1
                    } else {
                        failed += 1
                    }
                }
                Err(e) => {
                    println!(
                        "{:<18} {:<34} {:<30} {:>11} {:>11}  FAIL: {e}",
                        krate, case.name, case.shapes, "-", "-"
                    );
                    failed += 1;
                }
            }
        }
    }
    if filter.is_none() {
        for op in declared.difference(&covered) {
            println!(
                "{:<18} {:<34} {:<30} {:>11} {:>11}  FAIL: no gradient check exercises this op",
                "registry", op, "-", "-", "-"
            );
            failed += 1;
        }
    }
    println!("checked in {:.1} s", t.elapsed().as_secs_f64());
    // The last line is machine-readable, exactly as the gradient-check suite promises.
    println!("gradcheck: {passed} passed, {failed} failed");
    if failed > 0 {
        Err(format!("{failed} gradient checks failed"))
    } else {
        Ok(())
    }
}

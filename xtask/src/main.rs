//! xtask: neurite's automation — `cargo xtask ci | bench | gradcheck | tidy`.
//!
//! The `cargo xtask` alias builds this binary in debug with no dependencies; the suites that
//! need neurite itself (bench, gradcheck) re-run it in release with the `heavy` feature.

#[cfg(feature = "heavy")]
mod bench;
#[cfg(feature = "heavy")]
mod fuzz;
#[cfg(feature = "heavy")]
mod gradcheck;
#[cfg(test)]
mod tidy;

use std::process::{Command, ExitCode};
use std::time::Instant;

fn usage() -> &'static str {
    "usage: cargo xtask <command>\n\
     \n\
     commands:\n\
     \x20 ci           fmt --check, clippy -D warnings, the workspace tests in release (doc tests and\n\
     \x20              the tidy test included), the gradient-check suite, and quick smoke runs of the\n\
     \x20              benchmarks and of the tour; prints a summary, fails on any failure\n\
     \x20 gradcheck    finite-difference gradient checks of every op and layer (f64)\n\
     \x20 bench [--json] [--threads N] [--only NAME] [--quick] [--corpus FILE] [--malloc-defaults]\n\
     \x20              the workloads of ../shared/BENCHMARKS.md\n\
     \x20 fuzz [--seconds N] [--target NAME] [--seed S] [--start I] [--replay FILE]\n\
     \x20              mutation fuzzing of every reader and the word2vec command line in child\n\
     \x20              processes under a memory cap; findings in target/fuzz/findings\n\
     \x20 tidy         the code-invariant checks (cargo test -p xtask)\n"
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(&args[1..]),
        Some("bench") | Some("gradcheck") | Some("fuzz") | Some("fuzz-child") => heavy(&args),
        Some("tidy") => run_step(
            "tidy",
            "cargo",
            &["test", "-p", "xtask", "--", "--test-threads=2"],
        ),
        _ => {
            eprint!("{}", usage());
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the heavy suites: in this binary when it was built with them, else via a release build.
fn heavy(args: &[String]) -> Result<(), String> {
    #[cfg(feature = "heavy")]
    {
        match args[0].as_str() {
            "bench" => bench::parse(&args[1..]).and_then(bench::run),
            "fuzz" => fuzz::parse(&args[1..]).and_then(|o| fuzz::run(&o)),
            "fuzz-child" => fuzz::child(&args[1..]),
            _ => gradcheck::run(&args[1..]),
        }
    }
    #[cfg(not(feature = "heavy"))]
    {
        let mut cmd_args = vec![
            "run",
            "--release",
            "--quiet",
            "--package",
            "xtask",
            "--features",
            "heavy",
            "--",
        ];
        cmd_args.extend(args.iter().map(String::as_str));
        run_step(&args[0], "cargo", &cmd_args)
    }
}

fn run_step(name: &str, program: &str, args: &[&str]) -> Result<(), String> {
    let status = Command::new(program)
        .args(args)
        .status()
        .map_err(|e| format!("{name}: cannot start {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "{name} failed ({program} {}: {status})",
            args.join(" ")
        ))
    }
}

fn ci(args: &[String]) -> Result<(), String> {
    if let Some(a) = args.first() {
        return Err(format!("ci takes no arguments, got {a}"));
    }
    type Step<'a> = (&'a str, &'a [&'a str]);
    let steps: &[Step<'_>] = &[
        ("fmt", &["fmt", "--all", "--", "--check"]),
        (
            "clippy",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
        (
            "tests (release, doc tests and tidy included)",
            &["test", "--workspace", "--release", "--no-fail-fast"],
        ),
        (
            "gradcheck",
            &[
                "run",
                "--release",
                "--quiet",
                "--package",
                "xtask",
                "--features",
                "heavy",
                "--",
                "gradcheck",
            ],
        ),
        (
            "bench smoke",
            &[
                "run",
                "--release",
                "--quiet",
                "--package",
                "xtask",
                "--features",
                "heavy",
                "--",
                "bench",
                "--quick",
                "--threads",
                "1",
            ],
        ),
        (
            "fuzz (60 s)",
            &[
                "run",
                "--release",
                "--quiet",
                "--package",
                "xtask",
                "--features",
                "heavy",
                "--",
                "fuzz",
                "--seconds",
                "60",
            ],
        ),
        (
            "tour smoke",
            &[
                "run",
                "--release",
                "--quiet",
                "--example",
                "tour",
                "--",
                "--quick",
            ],
        ),
    ];
    let mut summary = Vec::new();
    let mut failed = false;
    for (name, cargo_args) in steps {
        eprintln!("\n== xtask ci: {name} ==");
        let t = Instant::now();
        let r = run_step(name, "cargo", cargo_args);
        let secs = t.elapsed().as_secs_f64();
        summary.push(format!(
            "{:<48} {:>4} {:>7.1} s",
            name,
            if r.is_ok() { "ok" } else { "FAIL" },
            secs
        ));
        failed |= r.is_err();
    }
    eprintln!("\n== xtask ci summary ==");
    for line in &summary {
        eprintln!("{line}");
    }
    if failed {
        Err("ci failed".into())
    } else {
        eprintln!("ci: all steps passed");
        Ok(())
    }
}

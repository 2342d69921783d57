//! xtask: neurite's automation — `cargo xtask ci | bench | gradcheck | tidy | dependents`.
//!
//! The `cargo xtask` alias builds this binary in debug with no dependencies; the suites that
//! need neurite itself (bench, gradcheck) re-run it in release with the `heavy` feature.

#[cfg(feature = "heavy")]
mod bench;
mod dependents;
#[cfg(feature = "heavy")]
mod fuzz;
#[cfg(feature = "heavy")]
mod gradcheck;
#[cfg(test)]
mod tidy;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

/// The workspace root: the parent of xtask's manifest directory as cargo names it when it runs
/// this binary or its tests, else as it was at build time. Cargo does not rebuild a crate whose
/// checkout moved (or whose target directory was copied into another worktree), so the
/// compile-time path alone can name the old checkout.
pub(crate) fn workspace_root() -> PathBuf {
    let xtask = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .filter(|d| d.join("Cargo.toml").is_file() && d.ends_with("xtask"))
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    xtask
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

fn usage() -> &'static str {
    "usage: cargo xtask <command>\n\
     \n\
     commands:\n\
     \x20 ci           fmt --check, clippy -D warnings, cargo doc (warnings are errors), the workspace\n\
     \x20              tests in release (doc tests and the tidy test included), the gradient-check\n\
     \x20              suite, quick smoke runs of the benchmarks and of the tour, and `dependents`;\n\
     \x20              prints a summary, fails on any failure\n\
     \x20 gradcheck    finite-difference gradient checks of every op and layer (f64)\n\
     \x20 bench [--json] [--threads N] [--only NAME] [--quick] [--corpus FILE] [--malloc-defaults]\n\
     \x20              the workloads of BENCHMARKS.md (the team's shared notes)\n\
     \x20 fuzz [--seconds N] [--target NAME] [--seed S] [--start I] [--replay FILE]\n\
     \x20              mutation fuzzing of every reader and the word2vec command line in child\n\
     \x20              processes under a memory cap; findings in target/fuzz/findings\n\
     \x20 tidy         the code-invariant checks (cargo test -p xtask)\n\
     \x20 dependents   packages every library crate (cargo package, verified) and builds two small\n\
     \x20              crates outside the workspace against the packages: a GRU on neurite-rnn, and\n\
     \x20              neurite-word2vec without default features\n"
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(&args[1..]),
        Some("dependents") => dependents::run_all(&args[1..]),
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

/// The target directory cargo builds into: `CARGO_TARGET_DIR` when set (relative to the
/// workspace root, where cargo runs), else `target/` in the workspace root.
pub(crate) fn target_dir() -> PathBuf {
    let root = workspace_root();
    std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| root.join(d))
        .unwrap_or_else(|| root.join("target"))
}

/// Builds xtask in release with the `heavy` feature and runs it with `args`.
///
/// The build selects the whole workspace (`--workspace --bin xtask`, not `-p xtask`): cargo
/// resolves features over the selected packages and keys its artifacts by them, and with
/// `-p xtask` the proc-macro stack (clap's derive is not in xtask's graph) and thereby serde,
/// safetensors and every neurite crate resolved differently from the release test build, so
/// the suites compiled all of neurite a second time. Selecting the workspace reuses the test
/// build's artifacts; only xtask itself is compiled.
fn run_heavy(name: &str, args: &[&str]) -> Result<(), String> {
    run_step(
        name,
        "cargo",
        &[
            "build",
            "--release",
            "--quiet",
            "--workspace",
            "--features",
            "xtask/heavy",
            "--bin",
            "xtask",
        ],
    )?;
    let exe = target_dir()
        .join("release")
        .join(format!("xtask{}", std::env::consts::EXE_SUFFIX));
    // What `cargo run` would set, and what `workspace_root` reads.
    let manifest_dir = workspace_root().join("xtask");
    let manifest_dir = manifest_dir.to_string_lossy();
    run_step_env(
        name,
        &exe.to_string_lossy(),
        args,
        &[("CARGO_MANIFEST_DIR", &manifest_dir)],
    )
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
        let cmd_args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_heavy(&args[0], &cmd_args)
    }
}

fn run_step(name: &str, program: &str, args: &[&str]) -> Result<(), String> {
    run_step_env(name, program, args, &[])
}

fn run_step_env(
    name: &str,
    program: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<(), String> {
    let status = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
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

/// How a `ci` step runs.
enum How<'a> {
    /// `cargo` with these arguments and this environment.
    Cargo(&'a [&'a str], &'a [(&'a str, &'a str)]),
    /// xtask's heavy suites with these arguments ([`run_heavy`]).
    Heavy(&'a [&'a str]),
}

fn ci(args: &[String]) -> Result<(), String> {
    if let Some(a) = args.first() {
        return Err(format!("ci takes no arguments, got {a}"));
    }
    use How::{Cargo, Heavy};
    let steps: &[(&str, How<'_>)] = &[
        ("fmt", Cargo(&["fmt", "--all", "--", "--check"], &[])),
        (
            "clippy",
            Cargo(
                &[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ],
                &[],
            ),
        ),
        (
            "doc (warnings are errors)",
            Cargo(
                &["doc", "--workspace", "--no-deps"],
                &[("RUSTDOCFLAGS", "-D warnings")],
            ),
        ),
        (
            "tests (release, doc tests and tidy included)",
            Cargo(&["test", "--workspace", "--release", "--no-fail-fast"], &[]),
        ),
        ("gradcheck", Heavy(&["gradcheck"])),
        (
            "bench smoke",
            Heavy(&["bench", "--quick", "--threads", "1"]),
        ),
        ("fuzz (60 s)", Heavy(&["fuzz", "--seconds", "60"])),
        (
            "tour smoke",
            Cargo(
                &[
                    "run",
                    "--release",
                    "--quiet",
                    "--example",
                    "tour",
                    "--",
                    "--quick",
                ],
                &[],
            ),
        ),
        (
            "packages and dependents (cargo package, two crates outside)",
            Cargo(
                &["run", "--quiet", "--package", "xtask", "--", "dependents"],
                &[],
            ),
        ),
    ];
    let mut summary = Vec::new();
    let mut failed = false;
    for (name, how) in steps {
        eprintln!("\n== xtask ci: {name} ==");
        let t = Instant::now();
        let r = match how {
            Cargo(cargo_args, env) => run_step_env(name, "cargo", cargo_args, env),
            Heavy(args) => run_heavy(name, args),
        };
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

//! xtask: neurite's automation — `cargo xtask ci | bench | gradcheck | tidy`.

mod bench;

use std::process::ExitCode;

fn usage() -> &'static str {
    "usage: cargo xtask <command>\n\
     \n\
     commands:\n\
     \x20 ci                      fmt --check, clippy -D warnings, tests (heavy ones in release), doc tests,\n\
     \x20                         gradcheck, and quick smoke runs of the benchmarks and the tour\n\
     \x20 bench [--json] [--threads N] [--only NAME] [--quick] [--corpus FILE]\n\
     \x20                         the workloads of BENCHMARKS.md\n"
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("bench") => parse_bench(&args[1..]).and_then(bench::run),
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

fn parse_bench(args: &[String]) -> Result<bench::Options, String> {
    let mut opts = bench::Options {
        threads: vec![1, 2],
        only: None,
        quick: false,
        json: false,
        corpus: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => opts.json = true,
            "--quick" => opts.quick = true,
            "--threads" => {
                let v = it.next().ok_or("--threads needs a number")?;
                opts.threads = vec![v
                    .parse()
                    .map_err(|_| format!("--threads: not a number: {v}"))?];
            }
            "--only" => opts.only = Some(it.next().ok_or("--only needs a workload name")?.clone()),
            "--corpus" => opts.corpus = Some(it.next().ok_or("--corpus needs a file")?.into()),
            other => return Err(format!("bench: unknown option {other}\n{}", usage())),
        }
    }
    Ok(opts)
}

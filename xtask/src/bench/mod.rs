//! `cargo xtask bench`: the workloads of ../shared/BENCHMARKS.md, timed in release mode.
//!
//! Each workload is a closure that performs one timed repeat and returns its figure (higher is
//! better). The harness warms up once, then reports the median, min and max of the repeats, at
//! each thread count, inside a rayon pool of that size.

use std::time::Instant;

pub mod graph;
pub mod w1;
pub mod w2;
pub mod w3;
pub mod w4;
pub mod w6;
pub mod w7;
pub mod w8;

/// One benchmark workload.
pub struct Workload {
    /// Name as in BENCHMARKS.md, e.g. "W1-sgemm-1024".
    pub name: String,
    /// Metric name, e.g. "gflops".
    pub metric: &'static str,
    /// Runs one repeat at the given thread count and returns the metric.
    pub run: Box<dyn FnMut(usize) -> f64 + Send>,
}

/// Options of `cargo xtask bench`.
pub struct Options {
    pub threads: Vec<usize>,
    pub only: Option<String>,
    pub quick: bool,
    pub json: bool,
    pub corpus: Option<std::path::PathBuf>,
    /// Leave glibc's allocator settings alone instead of calling
    /// `neurite::tensor::keep_freed_memory()` first, as every example does.
    pub malloc_defaults: bool,
}

/// Seconds taken by `f`.
pub fn seconds(f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64()
}

fn all_workloads(opts: &Options) -> Vec<Workload> {
    // Families are built only when selected: building one may load a corpus or data set.
    type Family<'a> = (&'a str, Box<dyn Fn() -> Vec<Workload> + 'a>);
    let families: Vec<Family<'_>> = vec![
        ("W1", Box::new(|| w1::workloads(opts.quick))),
        ("W2", Box::new(|| w2::workloads(opts.quick))),
        ("W3", Box::new(|| w3::workloads(opts.quick))),
        ("W4", Box::new(|| w4::workloads(opts.quick))),
        (
            "W6",
            Box::new(|| w6::workloads(opts.corpus.as_deref(), opts.quick)),
        ),
        ("W7", Box::new(|| w7::workloads(opts.quick))),
        ("W8", Box::new(|| w8::workloads(opts.quick))),
        ("AG", Box::new(|| graph::workloads(opts.quick))),
    ];
    let selected = |prefix: &str| match &opts.only {
        None => true,
        Some(only) => only.starts_with(prefix) || prefix.starts_with(only.as_str()),
    };
    families
        .into_iter()
        .filter(|(p, _)| selected(p))
        .flat_map(|(_, make)| make())
        .collect()
}

pub fn run(opts: Options) -> Result<(), String> {
    if !opts.malloc_defaults {
        // As every example does: keep freed training buffers instead of returning them to the
        // system and faulting them in again at the next step.
        neurite::tensor::keep_freed_memory();
    }
    let workloads = all_workloads(&opts);
    let repeats = if opts.quick { 2 } else { 7 };
    if !opts.json {
        println!(
            "{:<18} {:>7} {:<16} {:>12} {:>12} {:>12} {:>4}",
            "workload", "threads", "metric", "median", "min", "max", "runs"
        );
    }
    let mut ran = 0;
    for mut wl in workloads {
        if let Some(only) = &opts.only {
            if !wl.name.starts_with(only.as_str()) {
                continue;
            }
        }
        for &t in &opts.threads {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .map_err(|e| e.to_string())?;
            let mut figures: Vec<f64> = pool.install(|| {
                (wl.run)(t); // warm-up
                (0..repeats).map(|_| (wl.run)(t)).collect()
            });
            figures.sort_by(|a, b| a.total_cmp(b));
            let median = figures[figures.len() / 2];
            let (min, max) = (figures[0], figures[figures.len() - 1]);
            if opts.json {
                println!(
                    "{{\"workload\":\"{}\",\"threads\":{},\"metric\":\"{}\",\"median\":{:.1},\"min\":{:.1},\"max\":{:.1},\"runs\":{}}}",
                    wl.name, t, wl.metric, median, min, max, repeats
                );
            } else {
                println!(
                    "{:<18} {:>7} {:<16} {:>12.1} {:>12.1} {:>12.1} {:>4}",
                    wl.name, t, wl.metric, median, min, max, repeats
                );
            }
            ran += 1;
        }
    }
    if ran == 0 {
        return Err(format!("no workload matches {:?}", opts.only));
    }
    Ok(())
}

fn usage() -> &'static str {
    "usage: cargo xtask bench [--json] [--threads N] [--only NAME] [--quick] [--corpus FILE] [--malloc-defaults]"
}

/// Parses the options of `cargo xtask bench`.
pub fn parse(args: &[String]) -> Result<Options, String> {
    let mut opts = Options {
        threads: vec![1, 2],
        only: None,
        quick: false,
        json: false,
        corpus: None,
        malloc_defaults: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => opts.json = true,
            "--quick" => opts.quick = true,
            "--threads" => {
                let v = it.next().ok_or("--threads needs a number")?;
                let n: usize = v
                    .parse()
                    .map_err(|_| format!("--threads: not a number: {v}"))?;
                if n == 0 {
                    return Err("--threads must be at least 1".into());
                }
                opts.threads = vec![n];
            }
            "--only" => opts.only = Some(it.next().ok_or("--only needs a workload name")?.clone()),
            "--malloc-defaults" => opts.malloc_defaults = true,
            "--corpus" => opts.corpus = Some(it.next().ok_or("--corpus needs a file")?.into()),
            "-h" | "--help" => return Err(usage().into()),
            other => return Err(format!("bench: unknown option {other}\n{}", usage())),
        }
    }
    Ok(opts)
}

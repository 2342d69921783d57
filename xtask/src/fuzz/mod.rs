//! `cargo xtask fuzz`: neurite's own mutation fuzzer, on stable Rust.
//!
//! Every file reader and the word2vec command line get inputs made by a small seeded mutator
//! (bit flips, interesting bytes and integers, numbers spliced into text, truncations,
//! insertions, duplications, splices of two seeds, gzip of a mutated body) from seed files
//! written by the library's own writers. Input `i` of target `t` under seed `s` is a pure
//! function of `(s, t, i)`, so every finding reproduces from its numbers alone (and is also
//! written out, with its input, under `target/fuzz/findings/`).
//!
//! Targets run in child processes under an address-space limit (`ulimit -v`), so an abort, a
//! crash, an out-of-memory kill or a hang (no progress for [`HANG_SECS`]) is caught as a finding
//! and the campaign goes on with the next input. Inside the child a panic is a finding, and so
//! is an allocation out of proportion to the input: a peak of live heap above
//! `64 MiB + 64 × input bytes` (for gzip targets, the bytes it inflates to, up to the
//! decompression limit the child sets) — memory sized by a header, not by the data.

mod mutate;
mod targets;

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use neurite::nn;
use neurite::word2vec::KeyedVectors;

use mutate::make_input;
use targets::{read, targets, write_seeds, Fixtures, Kind, Target};

/// Seconds without progress after which an input counts as a hang.
pub const HANG_SECS: u64 = 10;
/// The address-space limit of a target process (`ulimit -v`), in MiB.
const MEMORY_CAP_MIB: u64 = 4096;
/// The decompression limit the child sets for gzip readers.
const GZ_LIMIT: u64 = 16 << 20;
const SLACK: usize = 64 << 20;

// ------------------------------------------------------------------ allocation accounting

/// The system allocator, counting live bytes and their peak while [`TRACK`] is on.
struct Counting;
static TRACK: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; the counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() && TRACK.load(Ordering::Relaxed) {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() && TRACK.load(Ordering::Relaxed) {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        if TRACK.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() && TRACK.load(Ordering::Relaxed) {
            if new_size >= layout.size() {
                let grow = new_size - layout.size();
                let now = LIVE.fetch_add(grow, Ordering::Relaxed) + grow;
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

// ------------------------------------------------------------------ the child process

/// `fuzz-child TARGET SEED START MILLIS DIR`: runs inputs START, START+1, … of TARGET for
/// MILLIS milliseconds, printing `I n` before input n, `P n message` after a panic and
/// `M n bytes` after an allocation out of proportion; then `E count`.
pub fn child(args: &[String]) -> Result<(), String> {
    let [name, seed, start, millis, dir] = args else {
        return Err("fuzz-child TARGET SEED START MILLIS DIR".into());
    };
    let num = |s: &str| s.parse::<u64>().map_err(|e| format!("{s}: {e}"));
    let (seed, start, millis) = (num(seed)?, num(start)?, num(millis)?);
    let deadline = Instant::now() + Duration::from_millis(millis);
    let dir = PathBuf::from(dir);
    let all = targets();
    let target = all
        .iter()
        .find(|t| t.name == name)
        .ok_or_else(|| format!("no target {name}"))?;
    let seeds = write_seeds(&dir.join("seeds"))?;
    let fixtures = Fixtures {
        vectors: KeyedVectors::load_text(dir.join("seeds/vec.txt")).map_err(|e| e.to_string())?,
    };
    nn::data::set_max_decompressed_bytes(GZ_LIMIT);
    // Panics are findings reported here, not printed by the default hook.
    std::panic::set_hook(Box::new(|_| {}));
    let input_path = dir.join(format!("input-{}-{}", target.name, std::process::id()));
    let mut out = std::io::stdout().lock();
    let mut count = 0u64;
    for i in start.. {
        if Instant::now() >= deadline {
            break;
        }
        let input = make_input(seed, target, &seeds[target.name], i);
        std::fs::write(&input_path, &input).map_err(|e| e.to_string())?;
        writeln!(out, "I {i}")
            .and_then(|()| out.flush())
            .map_err(|e| e.to_string())?;
        let base = LIVE.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        TRACK.store(true, Ordering::Relaxed);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            (target.run)(&input_path, &fixtures)
        }));
        TRACK.store(false, Ordering::Relaxed);
        let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
        LIVE.store(base, Ordering::Relaxed);
        if let Err(p) = r {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
                .replace('\n', " ");
            writeln!(out, "P {i} {msg}").map_err(|e| e.to_string())?;
        }
        // The data a reader may hold is the input, or what it inflates to (up to the limit).
        let basis = if target.gz {
            input.len().max(mutate::gunzipped_len(&input, GZ_LIMIT))
        } else {
            input.len()
        };
        if peak > SLACK + 64 * basis {
            writeln!(out, "M {i} {peak}").map_err(|e| e.to_string())?;
        }
        count += 1;
    }
    let _ = std::fs::remove_file(&input_path);
    writeln!(out, "E {count}").map_err(|e| e.to_string())
}

// ------------------------------------------------------------------ the supervisor

/// Options of `cargo xtask fuzz`.
#[derive(Debug, Clone)]
pub struct Options {
    /// Total seconds, shared equally by the targets.
    pub seconds: u64,
    /// Only this target.
    pub target: Option<String>,
    /// The campaign's seed.
    pub seed: u64,
    /// Run one input file through the target in this process and report.
    pub replay: Option<PathBuf>,
    /// Start at this iteration (to resume a campaign or reproduce from numbers).
    pub start: u64,
}

/// Parses `[--seconds N] [--target NAME] [--seed S] [--start I] [--replay FILE]`.
pub fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        seconds: 60,
        target: None,
        seed: 1,
        replay: None,
        start: 0,
    };
    let mut i = 0;
    while i < args.len() {
        let v = args
            .get(i + 1)
            .ok_or_else(|| format!("fuzz: {} needs a value", args[i]))?;
        let num = |what: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("fuzz: {what} takes a whole number, got {v:?}"))
        };
        match args[i].as_str() {
            "--seconds" => o.seconds = num("--seconds")?,
            "--seed" => o.seed = num("--seed")?,
            "--start" => o.start = num("--start")?,
            "--target" => o.target = Some(v.clone()),
            "--replay" => o.replay = Some(PathBuf::from(v)),
            other => return Err(format!("fuzz: unknown flag {other}")),
        }
        i += 2;
    }
    if let Some(t) = &o.target {
        if !targets().iter().any(|x| x.name == t) {
            let names: Vec<&str> = targets().iter().map(|t| t.name).collect();
            return Err(format!(
                "fuzz: no target {t:?}; targets: {}",
                names.join(", ")
            ));
        }
    }
    Ok(o)
}

/// A finding: what happened on which input.
struct Finding {
    target: &'static str,
    iteration: u64,
    what: String,
}

/// Runs the campaign; fails when anything was found.
pub fn run(o: &Options) -> Result<(), String> {
    let root = crate::workspace_root();
    let fuzz_dir = root.join("target/fuzz");
    let work = fuzz_dir.join("work");
    let findings_dir = fuzz_dir.join("findings");
    std::fs::create_dir_all(&findings_dir).map_err(|e| e.to_string())?;
    let seeds = write_seeds(&work.join("seeds"))?;
    let all = targets();
    let chosen: Vec<&Target> = all
        .iter()
        .filter(|t| o.target.as_deref().is_none_or(|n| n == t.name))
        .collect();

    if let Some(file) = &o.replay {
        let t = chosen
            .first()
            .filter(|_| o.target.is_some())
            .ok_or("fuzz: --replay needs --target")?;
        return replay(t, file, &work);
    }

    let cli_bin = if chosen.iter().any(|t| t.kind == Kind::Cli) {
        Some(build_cli(&root)?)
    } else {
        None
    };
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let per_target = Duration::from_secs_f64(o.seconds as f64 / chosen.len() as f64);
    let mut findings = Vec::new();
    let mut report = Vec::new();
    for t in &chosen {
        let t0 = Instant::now();
        let (tried, found) = match t.kind {
            Kind::Reader => fuzz_reader(&exe, t, o, &work, per_target)?,
            Kind::Cli => fuzz_cli(
                cli_bin.as_deref().ok_or("no cli")?,
                t,
                o,
                &work,
                &seeds[t.name],
                per_target,
            )?,
        };
        report.push(format!(
            "{:<14} {:>9} inputs {:>6.1} s {:>3} findings",
            t.name,
            tried,
            t0.elapsed().as_secs_f64(),
            found.len()
        ));
        for f in &found {
            save_finding(&findings_dir, f, o.seed, &seeds[f.target], t)?;
        }
        findings.extend(found);
    }
    eprintln!("\n== xtask fuzz (seed {}) ==", o.seed);
    for line in &report {
        eprintln!("{line}");
    }
    if findings.is_empty() {
        eprintln!("fuzz: no findings");
        Ok(())
    } else {
        for f in &findings {
            eprintln!("finding: {} input {}: {}", f.target, f.iteration, f.what);
        }
        Err(format!(
            "fuzz: {} findings, inputs and descriptions in {}",
            findings.len(),
            findings_dir.display()
        ))
    }
}

fn save_finding(
    dir: &Path,
    f: &Finding,
    seed: u64,
    seeds: &[Vec<u8>],
    t: &Target,
) -> Result<(), String> {
    let input = make_input(seed, t, seeds, f.iteration);
    let base = dir.join(format!("{}-seed{}-input{}", f.target, seed, f.iteration));
    let text = format!(
        "target: {}\nseed: {seed}\ninput: {}\nfinding: {}\nreproduce: cargo xtask fuzz --target {} --replay {}\n",
        f.target,
        f.iteration,
        f.what,
        f.target,
        base.with_extension("bin").display()
    );
    std::fs::write(base.with_extension("bin"), input).map_err(|e| e.to_string())?;
    std::fs::write(base.with_extension("txt"), text).map_err(|e| e.to_string())
}

/// Runs inputs of a reader target in child processes until the time is up, restarting after
/// a crash or a hang.
fn fuzz_reader(
    exe: &Path,
    t: &Target,
    o: &Options,
    work: &Path,
    budget: Duration,
) -> Result<(u64, Vec<Finding>), String> {
    let deadline = Instant::now() + budget;
    let mut next = o.start;
    let mut tried = 0u64;
    let mut found = Vec::new();
    while Instant::now() < deadline {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .as_millis();
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "ulimit -v {} && exec \"$0\" \"$@\"",
                MEMORY_CAP_MIB * 1024
            ))
            .arg(exe)
            .args([
                "fuzz-child",
                t.name,
                &o.seed.to_string(),
                &next.to_string(),
                &left.to_string(),
                &work.display().to_string(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("fuzz: cannot start the child: {e}"))?;
        let stdout = child.stdout.take().ok_or("no child stdout")?;
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut current: Option<u64> = None;
        let mut ended = false;
        let mut hung = false;
        loop {
            match rx.recv_timeout(Duration::from_secs(HANG_SECS)) {
                Ok(line) => {
                    let mut parts = line.splitn(3, ' ');
                    let (tag, n, rest) = (
                        parts.next().unwrap_or(""),
                        parts.next().and_then(|n| n.parse::<u64>().ok()),
                        parts.next().unwrap_or(""),
                    );
                    match (tag, n) {
                        ("I", Some(n)) => {
                            current = Some(n);
                            tried += 1;
                        }
                        ("P", Some(n)) => found.push(Finding {
                            target: t.name,
                            iteration: n,
                            what: format!("panic: {rest}"),
                        }),
                        ("M", Some(n)) => found.push(Finding {
                            target: t.name,
                            iteration: n,
                            what: format!(
                                "allocated {rest} bytes at peak, out of proportion to the input"
                            ),
                        }),
                        ("E", _) => ended = true,
                        _ => {}
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    hung = true;
                    let _ = child.kill();
                    break;
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        let status = child.wait().map_err(|e| e.to_string())?;
        let _ = reader.join();
        let mut stderr = String::new();
        if let Some(mut e) = child.stderr.take() {
            use std::io::Read;
            let _ = e.read_to_string(&mut stderr);
        }
        if ended && status.success() {
            break;
        }
        let Some(cur) = current else {
            return Err(format!(
                "fuzz: the {} child failed before its first input ({status}): {stderr}",
                t.name
            ));
        };
        found.push(Finding {
            target: t.name,
            iteration: cur,
            what: if hung {
                format!("no progress for {HANG_SECS} s (hang)")
            } else {
                format!(
                    "the process died ({status}; address space capped at {MEMORY_CAP_MIB} MiB): {}",
                    stderr.trim().lines().last().unwrap_or("")
                )
            },
        });
        next = cur + 1;
    }
    Ok((tried, found))
}

/// Builds the `neurite-word2vec` binary in release and returns its path.
///
/// With the whole workspace selected, as the release tests build it (`-p neurite-word2vec`
/// resolved features differently and compiled neurite-tensor and its dependencies again).
fn build_cli(root: &Path) -> Result<PathBuf, String> {
    let status = Command::new("cargo")
        .current_dir(root)
        .args([
            "build",
            "--release",
            "--quiet",
            "--workspace",
            "--bin",
            "neurite-word2vec",
        ])
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("fuzz: building neurite-word2vec failed".into());
    }
    Ok(crate::target_dir().join("release/neurite-word2vec"))
}

/// Runs the binary on mutated command lines, one process each, in a scratch directory holding
/// the seed files; exit codes 0 (done) and 1 (a reported error) are correct outcomes; a panic
/// (101), a signal (abort, crash, the memory cap) or a hang is a finding.
fn fuzz_cli(
    bin: &Path,
    t: &Target,
    o: &Options,
    work: &Path,
    seeds: &[Vec<u8>],
    budget: Duration,
) -> Result<(u64, Vec<Finding>), String> {
    let scratch = work.join("cli");
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    for f in [
        "vec.bin",
        "vec.txt",
        "corpus.txt",
        "vocab.txt",
        "questions.txt",
        "pairs.txt",
    ] {
        std::fs::copy(work.join("seeds").join(f), scratch.join(f)).map_err(|e| e.to_string())?;
    }
    let deadline = Instant::now() + budget;
    let mut found = Vec::new();
    let mut i = o.start;
    let mut tried = 0u64;
    while Instant::now() < deadline {
        let input = make_input(o.seed, t, seeds, i);
        if let Some(what) = run_cli_once(bin, &scratch, &input)? {
            found.push(Finding {
                target: t.name,
                iteration: i,
                what,
            });
        }
        tried += 1;
        i += 1;
    }
    Ok((tried, found))
}

fn cli_args(input: &[u8]) -> Vec<OsString> {
    if input.is_empty() {
        return Vec::new();
    }
    input
        .split(|&b| b == 0)
        .map(|a| OsString::from_vec(a.to_vec()))
        .collect()
}

fn run_cli_once(bin: &Path, scratch: &Path, input: &[u8]) -> Result<Option<String>, String> {
    let mut child = Command::new("sh")
        .current_dir(scratch)
        .arg("-c")
        .arg(format!(
            "ulimit -v {} && exec \"$0\" \"$@\"",
            MEMORY_CAP_MIB * 1024
        ))
        .arg(bin)
        .args(cli_args(input))
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("fuzz: cannot start {}: {e}", bin.display()))?;
    let stderr = child.stderr.take();
    let collector = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(mut e) = stderr {
            use std::io::Read;
            let _ = (&mut e).take(1 << 16).read_to_end(&mut s);
            // Drain the rest: a closed pipe would make the child fail on its next message.
            let _ = std::io::copy(&mut e, &mut std::io::sink());
        }
        String::from_utf8_lossy(&s).into_owned()
    });
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(s);
        }
        if t0.elapsed() > Duration::from_secs(HANG_SECS) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let err = collector.join().unwrap_or_default();
    // The panic's own line (with its location and message), else the last line.
    let lines: Vec<&str> = err.trim().lines().collect();
    let last = match lines.iter().position(|l| l.contains("panicked at")) {
        Some(i) => lines[i..lines.len().min(i + 2)].join(" "),
        None => lines.last().copied().unwrap_or("").to_string(),
    };
    Ok(match status {
        None => Some(format!("no exit after {HANG_SECS} s (hang)")),
        Some(s) if s.code() == Some(0) || s.code() == Some(1) => None,
        Some(s) if s.code() == Some(101) => Some(format!("panic: {last}")),
        Some(s) => Some(format!(
            "the process died ({s}; address space capped at {MEMORY_CAP_MIB} MiB): {last}"
        )),
    })
}

/// Runs one saved input through its target in this process (a panic shows with its
/// backtrace) and prints the outcome.
fn replay(t: &Target, file: &Path, work: &Path) -> Result<(), String> {
    let input = read(file)?;
    match t.kind {
        Kind::Cli => {
            let root = crate::workspace_root();
            let bin = build_cli(&root)?;
            let scratch = work.join("cli");
            std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
            for f in [
                "vec.bin",
                "vec.txt",
                "corpus.txt",
                "vocab.txt",
                "questions.txt",
                "pairs.txt",
            ] {
                std::fs::copy(work.join("seeds").join(f), scratch.join(f))
                    .map_err(|e| e.to_string())?;
            }
            let args = cli_args(&input);
            eprintln!(
                "replay: neurite-word2vec {args:?} (in {})",
                scratch.display()
            );
            match run_cli_once(&bin, &scratch, &input)? {
                Some(what) => Err(format!("replay: {what}")),
                None => {
                    eprintln!("replay: no finding");
                    Ok(())
                }
            }
        }
        Kind::Reader => {
            let fixtures = Fixtures {
                vectors: KeyedVectors::load_text(work.join("seeds/vec.txt"))
                    .map_err(|e| e.to_string())?,
            };
            nn::data::set_max_decompressed_bytes(GZ_LIMIT);
            let base = LIVE.load(Ordering::Relaxed);
            PEAK.store(base, Ordering::Relaxed);
            TRACK.store(true, Ordering::Relaxed);
            (t.run)(file, &fixtures);
            TRACK.store(false, Ordering::Relaxed);
            eprintln!(
                "replay: {} on {} ({} bytes): returned; peak heap {} bytes",
                t.name,
                file.display(),
                input.len(),
                PEAK.load(Ordering::Relaxed).saturating_sub(base)
            );
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_depend_only_on_seed_target_and_iteration() {
        let dir = std::env::temp_dir().join(format!("neurite-fuzz-test-{}", std::process::id()));
        let seeds = write_seeds(&dir).unwrap();
        for t in targets() {
            let s = &seeds[t.name];
            assert!(!s.is_empty(), "{} has seeds", t.name);
            let a: Vec<Vec<u8>> = (0..50).map(|i| make_input(3, &t, s, i)).collect();
            let b: Vec<Vec<u8>> = (0..50).map(|i| make_input(3, &t, s, i)).collect();
            assert_eq!(a, b, "{}", t.name);
            let distinct: std::collections::HashSet<_> = a.iter().collect();
            assert!(distinct.len() > 25, "{}: mutations vary", t.name);
            assert_ne!(make_input(4, &t, s, 0), make_input(3, &t, s, 0));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_seeds_are_read_without_error() {
        let dir = std::env::temp_dir().join(format!("neurite-fuzz-seeds-{}", std::process::id()));
        let seeds = write_seeds(&dir).unwrap();
        let p = dir.join("probe");
        std::fs::write(&p, &seeds["idx"][0]).unwrap();
        assert!(nn::data::read_idx(&p).is_ok());
        std::fs::write(&p, &seeds["w2v-binary"][0]).unwrap();
        assert_eq!(KeyedVectors::load_binary(&p).unwrap().len(), 6);
        std::fs::write(&p, &seeds["safetensors"][0]).unwrap();
        let mut m = nn::Linear::<f32>::new(3, 2, &mut neurite::tensor::Rng::new(1)).unwrap();
        assert!(nn::load_params(&mut m as &mut dyn nn::Module<f32>, &p).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

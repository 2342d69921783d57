//! `cargo xtask dependents`: neurite as a crate somebody else depends on.
//!
//! Packages every library crate (`cargo package --workspace --exclude xtask --exclude
//! neurite-examples`: the examples' support crate is not published; cargo verifies
//! each package by building it from its own `.crate` file), unpacks the archives, and builds two
//! tiny crates in a temporary directory outside the workspace — so that neither the workspace's
//! manifest, its profiles nor its `.cargo/config.toml` apply — against those archives:
//!
//! - one depending on `neurite-rnn` (with `neurite-nn`, `neurite-autograd`, `neurite-tensor`)
//!   that trains a GRU for a few steps and checks that the loss fell;
//! - one depending on `neurite-word2vec` with `default-features = false` that trains on a
//!   generated corpus, saves the vectors and loads them back.
//!
//! The packaged manifests name their neurite dependencies by version, as crates.io would serve
//! them; `[patch.crates-io]` points those names at the unpacked archives. The workspace's
//! `Cargo.lock` is copied in so that third-party versions are the tested ones, and the build
//! shares the workspace's `target/` directory so that those dependencies compile once.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The library crates, in dependency order (the facade last).
const PACKAGES: &[&str] = &[
    "neurite-tensor",
    "neurite-autograd",
    "neurite-nn",
    "neurite-cnn",
    "neurite-rnn",
    "neurite-word2vec",
    "neurite",
];

use crate::workspace_root as root;

fn workspace_version() -> Result<String, String> {
    let manifest = fs::read_to_string(root().join("Cargo.toml"))
        .map_err(|e| format!("cannot read the workspace Cargo.toml: {e}"))?;
    manifest
        .lines()
        .find_map(|l| {
            l.strip_prefix("version = \"")
                .and_then(|v| v.strip_suffix('"'))
        })
        .map(str::to_owned)
        .ok_or_else(|| "no `version = \"…\"` in [workspace.package]".into())
}

fn run(dir: &Path, program: &str, args: &[&str], env: &[(&str, &Path)]) -> Result<(), String> {
    eprintln!("   {} $ {program} {}", dir.display(), args.join(" "));
    let mut cmd = Command::new(program);
    cmd.current_dir(dir).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    // The workspace's own settings must not leak into the dependent's build.
    cmd.env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {} failed in {}: {status}",
            args.join(" "),
            dir.display()
        ))
    }
}

const GRU_MAIN: &str = r#"//! A dependent of neurite-rnn: trains a GRU for a few steps.
use neurite_autograd::Graph;
use neurite_nn::{mse, Adam, Optimizer};
use neurite_rnn::{Gru, RecurrentConfig};
use neurite_tensor::{Rng, Tensor};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut rng = Rng::new(3);
    let config = RecurrentConfig {
        input_size: 4,
        hidden_size: 16,
        batch_first: true,
        ..Default::default()
    };
    let mut gru = Gru::<f32>::new(&config, &mut rng)?;
    let x = Tensor::rand_normal(&[8, 10, 4], 0.0, 1.0, &mut rng);
    let target = Tensor::rand_uniform(&[8, 16], -0.5, 0.5, &mut rng);
    let mut opt = Adam::new(0.02)?;
    let mut losses = Vec::new();
    for _ in 0..40 {
        let graph = Graph::new();
        let out = gru.forward_seq(&graph, graph.constant(x.clone()), None, None)?;
        let loss = mse(out.state.h.reshape(&[8, 16])?, graph.constant(target.clone()))?;
        losses.push(loss.item()?);
        let grads = loss.backward()?;
        opt.step(&mut gru, &grads)?;
    }
    let (first, last) = (losses[0], losses[losses.len() - 1]);
    println!("gru dependent: loss {first:.4} -> {last:.4}");
    if !(last < 0.5 * first) {
        return Err(format!("the loss did not fall: {first} -> {last}").into());
    }
    Ok(())
}
"#;

const W2V_MAIN: &str = r#"//! A dependent of neurite-word2vec without default features: trains on a generated corpus,
//! saves the vectors and loads them back.
use neurite_word2vec::{Corpus, KeyedVectors, TrainConfig, VocabOptions, Word2Vec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Two topics that never share a sentence: words must cluster by topic.
    let mut text = String::new();
    let (a, b) = (["cat", "dog", "pet", "fur"], ["car", "road", "wheel", "fuel"]);
    let mut state = 12345u64;
    for i in 0..4000 {
        let words = if i % 2 == 0 { &a } else { &b };
        for _ in 0..8 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            text.push_str(words[(state >> 33) as usize % 4]);
            text.push(' ');
        }
        text.push('\n');
    }
    let corpus = Corpus::from_bytes("generated", text.into_bytes());
    let config = TrainConfig {
        dim: 16,
        epochs: 3,
        vocab: VocabOptions { min_count: 1, ..Default::default() },
        ..TrainConfig::skip_gram()
    };
    let (model, stats) = Word2Vec::train(&corpus, &config)?;
    let vectors = model.into_keyed_vectors();
    let path = std::env::temp_dir().join(format!("neurite-dependent-{}.bin", std::process::id()));
    vectors.save_binary(&path)?;
    let back = KeyedVectors::load(&path)?;
    std::fs::remove_file(&path)?;
    if back.vector("cat") != vectors.vector("cat") {
        return Err("vectors changed through the file".into());
    }
    let same = back.similarity("cat", "dog")?;
    let other = back.similarity("cat", "car")?;
    println!(
        "word2vec dependent: {} words trained, cos(cat, dog) {same:.3}, cos(cat, car) {other:.3}",
        stats.corpus_words
    );
    if !(same > other) {
        return Err(format!("topics not separated: {same} <= {other}").into());
    }
    Ok(())
}
"#;

/// Writes one dependent crate and returns its directory.
fn write_crate(
    base: &Path,
    name: &str,
    deps: &str,
    main: &str,
    packages: &Path,
    version: &str,
) -> Result<PathBuf, String> {
    let dir = base.join(name);
    fs::create_dir_all(dir.join("src")).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\n{deps}\n\n[patch.crates-io]\n"
    );
    for p in PACKAGES.iter().filter(|p| **p != "neurite") {
        manifest.push_str(&format!(
            "{p} = {{ path = \"{}\" }}\n",
            packages.join(format!("{p}-{version}")).display()
        ));
    }
    // The workspace's release profile, so that third-party crates built for the workspace's
    // tests are reused from the shared target directory instead of compiled again.
    manifest.push_str("\n[profile.release]\ndebug = 1\ncodegen-units = 4\n");
    let w =
        |p: PathBuf, text: &str| fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()));
    w(dir.join("Cargo.toml"), &manifest)?;
    w(dir.join("src/main.rs"), main)?;
    let lock =
        fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    w(dir.join("Cargo.lock"), &lock)?;
    Ok(dir)
}

/// Makes `cargo package` verify against this checkout's packages, not an earlier run's.
///
/// `cargo package --workspace` verifies each crate against the others through a temporary
/// registry. Cargo takes a registry package with an unchanged name and version to be unchanged:
/// it keeps its extraction under `$CARGO_HOME/registry/src/-<hash of the registry's path>/` and
/// its compiled artifacts in the target directory, so a second run from the same checkout
/// verified `neurite-cnn` against the previous `neurite-tensor` (seen here: "unresolved import
/// `neurite_tensor::scratch`" after the module was added). The verification builds in its own
/// target directory, `target/package-verify`, whose neurite fingerprints are removed here (the
/// dependencies' artifacts stay, so only neurite rebuilds), and the extractions of neurite
/// packages in temporary registries (directories whose names start with `-`; crates.io's start
/// with `index.`) are removed.
fn forget_stale_packages(version: &str, verify_dir: &Path) -> Result<(), String> {
    for profile in ["debug", "release"] {
        let fingerprints = verify_dir.join(profile).join(".fingerprint");
        for entry in fs::read_dir(&fingerprints).into_iter().flatten().flatten() {
            if entry.file_name().to_string_lossy().starts_with("neurite") {
                fs::remove_dir_all(entry.path())
                    .map_err(|e| format!("{}: {e}", entry.path().display()))?;
            }
        }
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let Some(src) = home.map(|h| h.join("registry").join("src")) else {
        return Ok(());
    };
    let Ok(registries) = fs::read_dir(&src) else {
        return Ok(());
    };
    for registry in registries.flatten() {
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        let Ok(entries) = fs::read_dir(registry.path()) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("neurite") && name.ends_with(&format!("-{version}")) {
                fs::remove_dir_all(entry.path())
                    .map_err(|e| format!("{}: {e}", entry.path().display()))?;
            }
        }
    }
    Ok(())
}

pub fn run_all(args: &[String]) -> Result<(), String> {
    if let Some(a) = args.first() {
        return Err(format!("dependents takes no arguments, got {a}"));
    }
    let root = root();
    let version = workspace_version()?;
    let verify_dir = root.join("target").join("package-verify");
    forget_stale_packages(&version, &verify_dir)?;
    let verify_dir_arg = verify_dir.to_string_lossy().into_owned();
    // The verification builds each package in the dev profile as its own root, so with its
    // own manifest's profiles: the facade's `[profile.dev.package."*"] opt-level = 3` (there
    // for debug runs of the examples) compiled every dependency a second time, optimised —
    // about two thirds of this step. What the verification checks is that the packaged
    // sources compile; neither optimisation nor debug information bears on that, so both are
    // off for all its builds, and the facade shares the dependencies the others compiled.
    run(
        &root,
        "cargo",
        &[
            "package",
            "--workspace",
            "--exclude",
            "xtask",
            "--exclude",
            "neurite-examples",
            "--target-dir",
            &verify_dir_arg,
            "--config",
            "profile.dev.package.\"*\".opt-level=0",
            "--config",
            "profile.dev.debug=false",
        ],
        &[],
    )?;
    let target = root.join("target");
    let packages = verify_dir.join("package").join("dependents");
    let _ = fs::remove_dir_all(&packages);
    fs::create_dir_all(&packages).map_err(|e| format!("{}: {e}", packages.display()))?;
    for p in PACKAGES {
        let archive = verify_dir
            .join("package")
            .join(format!("{p}-{version}.crate"));
        let archive = archive.to_string_lossy().into_owned();
        run(&packages, "tar", &["xzf", &archive], &[])?;
    }
    // Outside the workspace, so that cargo finds neither its manifest nor its config.
    let base = std::env::temp_dir().join(format!("neurite-dependents-{}", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    let req = format!("\"{version}\"");
    let gru = write_crate(
        &base,
        "gru-dependent",
        &format!(
            "neurite-rnn = {req}\nneurite-nn = {{ version = {req}, default-features = false }}\n\
             neurite-autograd = {req}\nneurite-tensor = {req}"
        ),
        GRU_MAIN,
        &packages,
        &version,
    )?;
    let w2v = write_crate(
        &base,
        "word2vec-dependent",
        &format!("neurite-word2vec = {{ version = {req}, default-features = false }}"),
        W2V_MAIN,
        &packages,
        &version,
    )?;
    let env = [("CARGO_TARGET_DIR", target.as_path())];
    let result = run(&gru, "cargo", &["run", "--release", "--quiet"], &env)
        .and_then(|()| run(&w2v, "cargo", &["run", "--release", "--quiet"], &env))
        .and_then(|()| {
            // The package without its embedded data must not carry the data's weight.
            let listing = Command::new("cargo")
                .current_dir(&w2v)
                .env("CARGO_TARGET_DIR", &target)
                .args([
                    "tree",
                    "--quiet",
                    "-e",
                    "features",
                    "-i",
                    "neurite-word2vec",
                ])
                .output()
                .map_err(|e| format!("cannot start cargo tree: {e}"))?;
            let text = String::from_utf8_lossy(&listing.stdout);
            if text.contains("embedded-data") {
                return Err(format!(
                    "default-features = false still enables embedded-data:\n{text}"
                ));
            }
            Ok(())
        });
    let _ = fs::remove_dir_all(&base);
    result
}

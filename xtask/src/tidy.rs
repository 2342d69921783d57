//! The tidy tests: code invariants of the neurite workspace, checked by `cargo test`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name()
                .is_some_and(|n| n == "target" || n.to_string_lossy().starts_with('.'))
            {
                continue;
            }
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn all_sources() -> Vec<PathBuf> {
    let r = root();
    let mut files = Vec::new();
    for d in ["crates", "xtask", "examples", "tests", "src"] {
        rust_files(&r.join(d), &mut files);
    }
    files.sort();
    files
}

#[test]
fn no_unfinished_code() {
    // Built from pieces so that this file does not trip its own check.
    let banned = [
        ["to", "do!("].concat(),
        ["unimpl", "emented!("].concat(),
        ["db", "g!("].concat(),
    ];
    let mut hits = Vec::new();
    for f in all_sources() {
        let text = fs::read_to_string(&f).expect("readable source");
        for (i, line) in text.lines().enumerate() {
            for b in &banned {
                if line.contains(b.as_str()) {
                    hits.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
                }
            }
        }
    }
    assert!(hits.is_empty(), "unfinished code:\n{}", hits.join("\n"));
}

#[test]
fn every_source_file_opens_with_a_doc_line() {
    let bad: Vec<String> = all_sources()
        .into_iter()
        .filter(|f| {
            !fs::read_to_string(f)
                .expect("readable source")
                .starts_with("//!")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        bad.is_empty(),
        "files that do not start with a `//!` line:\n{}",
        bad.join("\n")
    );
}

fn crate_manifests() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for e in fs::read_dir(root().join("crates"))
        .expect("crates/")
        .flatten()
    {
        let manifest = e.path().join("Cargo.toml");
        if let Ok(text) = fs::read_to_string(&manifest) {
            out.insert(e.file_name().to_string_lossy().to_string(), text);
        }
    }
    out
}

#[test]
fn internal_crates_are_not_published() {
    for (name, text) in crate_manifests() {
        assert!(
            text.contains("publish = false"),
            "crates/{name}/Cargo.toml must say publish = false"
        );
    }
}

#[test]
fn crate_dependency_order_holds() {
    // DESIGN.md: each crate depends only on crates below it.
    let allowed: BTreeMap<&str, &[&str]> = BTreeMap::from([
        ("neurite-tensor", &[][..]),
        ("neurite-autograd", &["neurite-tensor"][..]),
        ("neurite-nn", &["neurite-tensor", "neurite-autograd"][..]),
        (
            "neurite-cnn",
            &["neurite-tensor", "neurite-autograd", "neurite-nn"][..],
        ),
        (
            "neurite-rnn",
            &["neurite-tensor", "neurite-autograd", "neurite-nn"][..],
        ),
        ("neurite-word2vec", &["neurite-tensor"][..]),
    ]);
    for (name, text) in crate_manifests() {
        let Some(ok) = allowed.get(name.as_str()) else {
            panic!("crates/{name} is not in DESIGN.md's layering; add it to this test and to ARCHITECTURE.md");
        };
        // Only [dependencies]: dev-dependencies may reach further for tests.
        let deps = text
            .split("[dependencies]")
            .nth(1)
            .unwrap_or("")
            .split("\n[")
            .next()
            .unwrap_or("");
        for line in deps.lines() {
            let dep = line.split(['=', '.']).next().unwrap_or("").trim();
            if dep.starts_with("neurite") {
                assert!(
                    ok.contains(&dep),
                    "{name} may not depend on {dep} (allowed: {ok:?})"
                );
            }
        }
    }
}

/// String literals in `pub const OPS: &[&str] = &[ … ];` of one source text.
fn declared_ops(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Some(start) = text.find("pub const OPS: &[&str]") {
        let rest = &text[start..];
        let end = rest.find("];").unwrap_or(rest.len());
        for (i, piece) in rest[..end].split('"').enumerate() {
            if i % 2 == 1 {
                out.insert(piece.to_string());
            }
        }
    }
    out
}

#[test]
fn every_backward_rule_is_registered_for_gradcheck() {
    // Every op name a `Backward` impl returns must be in some crate's OPS list, which the
    // gradient-check suite requires to be exercised: a new op without a check is not done.
    let mut declared = BTreeSet::new();
    let mut named = Vec::new();
    for f in all_sources() {
        let text = fs::read_to_string(&f).expect("readable source");
        declared.extend(declared_ops(&text));
        let mut lines = text.lines().enumerate().peekable();
        while let Some((i, line)) = lines.next() {
            if !line.contains("fn name(&self) -> &'static str") {
                continue;
            }
            // The literal(s) returned in the next few lines.
            for (_, next) in lines.clone().take(6) {
                if next.trim_start().starts_with("fn ") || next.trim() == "}" {
                    break;
                }
                for (k, piece) in next.split('"').enumerate() {
                    if k % 2 == 1 {
                        named.push((f.display().to_string(), i + 1, piece.to_string()));
                    }
                }
            }
        }
    }
    let test_only = ["wrong_square"]; // deliberately wrong op in autograd's tests
    let missing: Vec<String> = named
        .iter()
        .filter(|(_, _, n)| !declared.contains(n) && !test_only.contains(&n.as_str()))
        .map(|(f, l, n)| format!("{f}:{l}: op \"{n}\" is in no OPS list"))
        .collect();
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

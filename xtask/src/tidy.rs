//! The tidy tests: code invariants of the neurite workspace, checked by `cargo test`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use crate::workspace_root as root;

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

/// The value of `key = …` in a manifest's `[package]` table, if present.
fn manifest_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let package = text
        .split_once("[package]\n")
        .map_or("", |(_, rest)| rest.split("\n[").next().unwrap_or(""));
    package.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        let k = k.trim();
        (k == key || k.strip_suffix(".workspace") == Some(key)).then(|| v.trim())
    })
}

#[test]
fn every_library_crate_is_packageable() {
    // `cargo xtask dependents` (run by `cargo xtask ci`) packages and verifies every library
    // crate; this test names the metadata a registry page needs, so that a missing field is
    // caught in seconds rather than at publishing time.
    let r = root();
    let root_manifest = fs::read_to_string(r.join("Cargo.toml")).expect("Cargo.toml");
    let mut manifests = crate_manifests()
        .into_iter()
        .map(|(name, text)| (format!("crates/{name}"), text))
        .collect::<Vec<_>>();
    manifests.push((".".into(), root_manifest));
    let licences = ["LICENSE-MIT", "LICENSE-APACHE"].map(|f| {
        (
            f,
            fs::read_to_string(r.join(f)).unwrap_or_else(|_| panic!("{f} at the root")),
        )
    });
    for (dir, text) in manifests {
        assert!(
            manifest_field(&text, "publish").is_none(),
            "{dir}/Cargo.toml: library crates are published; remove `publish`"
        );
        for key in [
            "description",
            "license",
            "readme",
            "keywords",
            "categories",
            "repository",
        ] {
            assert!(
                manifest_field(&text, key).is_some(),
                "{dir}/Cargo.toml lacks `{key}`"
            );
        }
        assert!(
            text.contains("[package.metadata.docs.rs]"),
            "{dir}/Cargo.toml lacks [package.metadata.docs.rs]"
        );
        let readme = fs::read_to_string(r.join(&dir).join("README.md"))
            .unwrap_or_else(|_| panic!("{dir}/README.md is missing"));
        assert!(readme.contains("```rust"), "{dir}/README.md has no example");
        for (f, body) in &licences {
            let copy = fs::read_to_string(r.join(&dir).join(f))
                .unwrap_or_else(|_| panic!("{dir}/{f} is missing"));
            assert!(&copy == body, "{dir}/{f} differs from the root's");
        }
    }
}

#[test]
fn embedded_files_live_in_their_package() {
    // `cargo package` ships a crate's directory only: `include_bytes!`/`include_str!` may not
    // climb out of it.
    let mut bad = Vec::new();
    for f in all_sources() {
        let text = fs::read_to_string(&f).expect("readable source");
        for (i, line) in text.lines().enumerate() {
            if (line.contains("include_bytes!(") || line.contains("include_str!("))
                && line.contains("../../")
            {
                bad.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "files embedded from outside their package:\n{}",
        bad.join("\n")
    );
}

#[test]
fn no_code_reads_from_the_shared_folder() {
    // A fresh clone has no `../shared`: tests and examples use vendored data, or `--data`.
    let needle = ["..", "/shared"].concat();
    let mut hits = Vec::new();
    for f in all_sources() {
        let text = fs::read_to_string(&f).expect("readable source");
        for (i, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if !code.starts_with("//") && line.contains(needle.as_str()) {
                hits.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "paths into the shared folder:\n{}",
        hits.join("\n")
    );
}

/// Source files allowed over [`MAX_LINES`], each with the reason it stays whole.
const LONG_FILES: &[(&str, &str)] = &[
    (
        "crates/neurite-nn/src/loss.rs",
        "every loss with its fused op, its stated derivative and its three reductions; the \
         reduction and validation helpers are shared by all of them",
    ),
    (
        "crates/neurite-word2vec/src/cli.rs",
        "word2vec.c's flag set for training and the subcommands on vectors, one parser each; \
         to be split by subcommand when it grows further",
    ),
    (
        "crates/neurite-rnn/tests/layers.rs",
        "every recurrent layer configuration checked against its cells stepped by hand; the \
         reference stepper and the configurations are shared by all the tests",
    ),
];
const MAX_LINES: usize = 800;

#[test]
fn long_files_are_allowed_by_name() {
    let r = root();
    let mut long = Vec::new();
    for f in all_sources() {
        let n = fs::read_to_string(&f)
            .expect("readable source")
            .lines()
            .count();
        let rel = f
            .strip_prefix(&r)
            .unwrap_or(&f)
            .to_string_lossy()
            .replace('\\', "/");
        if n > MAX_LINES && !LONG_FILES.iter().any(|(p, _)| *p == rel) {
            long.push(format!("{rel}: {n} lines"));
        }
    }
    assert!(
        long.is_empty(),
        "source files over {MAX_LINES} lines (split them along their seams, or add them to \
         LONG_FILES with the reason):\n{}",
        long.join("\n")
    );
    for (p, _) in LONG_FILES {
        let n = fs::read_to_string(r.join(p))
            .unwrap_or_else(|_| panic!("LONG_FILES names {p}, which does not exist"))
            .lines()
            .count();
        assert!(
            n > MAX_LINES,
            "{p} has {n} lines now: remove it from LONG_FILES"
        );
    }
}

/// The spans between backticks on one line.
fn backticked(line: &str) -> Vec<&str> {
    line.split('`').skip(1).step_by(2).collect()
}

/// Whether `line` holds `word` as a whole identifier.
fn has_word(line: &str, word: &str) -> bool {
    line.match_indices(word).any(|(i, _)| {
        let before = line[..i].chars().next_back();
        let after = line[i + word.len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !ident(before) && !ident(after)
    })
}

/// Whether `name` (a type, trait or function) is defined in `text`: by an item keyword, by a
/// macro invocation that names it (`layer!(Rnn, …)`), or imported by a `use` (a type of a
/// dependency that the file builds on).
fn defines(text: &str, name: &str) -> bool {
    let keywords = [
        "struct ", "enum ", "trait ", "type ", "fn ", "const ", "static ", "mod ",
    ];
    let mut in_macro_call = false;
    for line in text.lines() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let named = has_word(code, name);
        if named
            && keywords
                .iter()
                .any(|kw| code.contains(&format!("{kw}{name}")))
        {
            return true;
        }
        if named && (code.starts_with("use ") || code.starts_with("pub use ")) {
            return true;
        }
        if code.contains("!(") && !code.contains("macro_rules!") {
            in_macro_call = true;
        }
        if in_macro_call && named {
            return true;
        }
        if code.ends_with(");") {
            in_macro_call = false;
        }
    }
    false
}

#[test]
fn architecture_names_what_exists() {
    // ARCHITECTURE.md's codemap: under each `### \`crates/NAME\`` heading, a bullet
    // "- `file.rs`, `dir/` — … `Type` …" names files of that crate and the types they hold.
    // Every named file must exist, every named type must be defined in the bullet's files,
    // and every source file of a crate must be on the map.
    let r = root();
    let text = fs::read_to_string(r.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut errors = Vec::new();
    let mut mapped: BTreeSet<PathBuf> = BTreeSet::new();
    let mut section: Option<PathBuf> = None;
    // Bullets, with their continuation lines joined.
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        let continues = line.starts_with("  ") && !line.trim().is_empty();
        match lines.last_mut() {
            Some(last) if continues && last.trim_start().starts_with("- ") => {
                last.push(' ');
                last.push_str(line.trim());
            }
            _ => lines.push(line.to_string()),
        }
    }
    for line in &lines {
        if let Some(h) = line.strip_prefix("### ") {
            section = backticked(h)
                .first()
                .map(|d| r.join(d))
                .filter(|d| d.join("Cargo.toml").exists() || d.join("src").exists());
            continue;
        }
        if line.starts_with("## ") {
            section = None;
        }
        let Some(krate) = &section else { continue };
        let item = line.trim_start();
        if !item.starts_with("- ") {
            continue;
        }
        let mut files: Vec<PathBuf> = Vec::new();
        for span in backticked(item) {
            let name = span.split(['<', ':', '(']).next().unwrap_or("");
            if span.ends_with(".rs") || span.ends_with('/') {
                let mut found = None;
                // Relative to the crate, or to a folder named earlier in the same bullet.
                let mut bases = vec![krate.join("src"), krate.clone()];
                bases.extend(files.iter().filter(|f| f.is_dir()).cloned());
                for base in bases {
                    let p = base.join(span);
                    if p.exists() {
                        found = Some(p);
                        break;
                    }
                }
                match found {
                    Some(p) => {
                        if p.is_dir() {
                            let mut inside = Vec::new();
                            rust_files(&p, &mut inside);
                            mapped.extend(inside.iter().cloned());
                            files.extend(inside);
                            files.push(p);
                        } else {
                            mapped.insert(p.clone());
                            files.push(p);
                        }
                    }
                    None => errors.push(format!(
                        "ARCHITECTURE.md names `{span}` under {}, which has no such file",
                        krate.display()
                    )),
                }
            } else if name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && name.chars().any(|c| c.is_ascii_lowercase())
            {
                let mut sources: Vec<PathBuf> =
                    files.iter().filter(|f| f.is_file()).cloned().collect();
                if sources.is_empty() {
                    rust_files(&krate.join("src"), &mut sources);
                }
                let ok = sources
                    .iter()
                    .any(|f| fs::read_to_string(f).is_ok_and(|t| defines(&t, name)));
                if !ok {
                    errors.push(format!(
                        "ARCHITECTURE.md says `{name}` is in {}, but it is not defined there",
                        if files.is_empty() {
                            krate.display().to_string()
                        } else {
                            files
                                .iter()
                                .filter(|f| f.is_file())
                                .map(|f| f.strip_prefix(&r).unwrap_or(f).display().to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        }
                    ));
                }
            }
        }
    }
    for dir in ["crates"] {
        for e in fs::read_dir(r.join(dir)).expect("crates/").flatten() {
            let mut sources = Vec::new();
            rust_files(&e.path().join("src"), &mut sources);
            for f in sources {
                let is_root = f
                    .file_name()
                    .is_some_and(|n| n == "lib.rs" || n == "main.rs");
                if !is_root && !mapped.contains(&f) {
                    errors.push(format!(
                        "{} is not on ARCHITECTURE.md's codemap",
                        f.strip_prefix(&r).unwrap_or(&f).display()
                    ));
                }
            }
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
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

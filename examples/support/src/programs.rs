//! Running the example programs as a user does, from the tour and the tests: each example is
//! its own binary, built with cargo in the running one's profile (a no-op when up to date) and
//! found next to it (`target/<profile>/examples/`), run with arguments, and read through its
//! last line,
//! `result: name=value …`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// `target/<profile>` of the running binary (an example lives in its `examples/`, a test in
/// its `deps/`).
pub fn profile_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot locate this program: {e}"))?;
    exe.parent()
        .and_then(|dir| dir.parent())
        .map(PathBuf::from)
        .ok_or_else(|| format!("{} has no target/<profile> above it", exe.display()))
}

/// The path of example `name`'s binary in this build profile.
pub fn example_path(name: &str) -> Result<PathBuf, String> {
    Ok(profile_dir()?
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX)))
}

/// Builds the examples `names` in this build profile with cargo (`$CARGO`, the cargo that runs
/// us; a no-op when they are up to date).
pub fn build(names: &[&str]) -> Result<(), String> {
    let profile = profile_dir()?;
    let profile = match profile.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev".to_string(),
        Some(p) => p.to_string(),
        None => return Err(format!("{}: not a profile directory", profile.display())),
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = crate::data::repo_root().join("Cargo.toml");
    let mut cmd = Command::new(&cargo);
    cmd.arg("build")
        .arg("--quiet")
        .arg("--manifest-path")
        .arg(&manifest)
        .args(["--profile", &profile]);
    for n in names {
        cmd.args(["--example", n]);
    }
    let status = cmd
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run {}: {e}", cargo.to_string_lossy()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("building examples {names:?} failed ({status})"))
    }
}

/// What a finished example run printed.
#[derive(Debug, Clone)]
pub struct Run {
    /// Exit status 0.
    pub success: bool,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// The fields of the last `result:` line (empty when there is none).
    pub result: BTreeMap<String, String>,
}

impl Run {
    /// A result field as a number.
    pub fn figure(&self, key: &str) -> Result<f64, String> {
        let v = self.result.get(key).ok_or_else(|| {
            format!(
                "no {key} in the result line; stdout:\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })?;
        v.parse()
            .map_err(|_| format!("{key}={v} in the result line is not a number"))
    }
}

/// The path of example `name`'s binary, built (or found up to date) by cargo once per process.
pub fn built_example(name: &str) -> Result<PathBuf, String> {
    static BUILT: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !built.contains(name) {
        build(&[name])?;
        built.insert(name.to_string());
    }
    example_path(name)
}

/// Runs example `name` with `args` (see [`built_example`]), capturing its output.
pub fn run(name: &str, args: &[&str]) -> Result<Run, String> {
    let exe = built_example(name)?;
    let out = Command::new(&exe)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let result = result_fields(&stdout);
    Ok(Run {
        success: out.status.success(),
        stdout,
        stderr,
        result,
    })
}

/// The `name=value` fields of the last line that starts with `result:`.
pub fn result_fields(stdout: &str) -> BTreeMap<String, String> {
    stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("result:"))
        .map(|rest| {
            rest.split_whitespace()
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_last_result_line_is_read() {
        let f = super::result_fields("x\nresult: a=1 b=2.5\nmore\nresult: a=3 c=x\n");
        assert_eq!(f.get("a").map(String::as_str), Some("3"));
        assert!(!f.contains_key("b"));
        assert!(super::result_fields("no result").is_empty());
    }
}

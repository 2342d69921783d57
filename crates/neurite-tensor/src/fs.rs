//! Saving files safely: the one atomic-write facility of neurite (parameter files, word
//! vectors, vocabularies, logs), and a check that an output path can be written before long
//! work starts.
//!
//! [`write_atomic_with`] writes into a temporary file beside the target, syncs it and renames
//! it over the target, so a crash, a kill or a full disk leaves either the old complete file or
//! the new complete one, never half of one:
//!
//! - the temporary is `.NAME.tmp-PID-N` (process id and a per-process counter), created
//!   exclusively, so threads and processes saving to one path never share one;
//! - it is removed on every error path; one left by a process that was killed (its process id
//!   no longer running) is removed by the next save to the same path;
//! - a symlink target is written through: the file it points to is replaced and the link stays;
//! - a read-only target is refused with an error of kind
//!   [`std::io::ErrorKind::PermissionDenied`] (the save does not silently replace it); the new
//!   file keeps the permissions of the one it replaces.

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufWriter, ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` to `path` atomically (see the [module](self) documentation).
///
/// ```
/// let dir = std::env::temp_dir().join(format!("neurite-fs-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("weights.bin");
/// neurite_tensor::fs::write_atomic(&path, b"new")?;
/// assert_eq!(std::fs::read(&path)?, b"new");
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Writes `path` atomically through `write`, which gets a buffered writer on the temporary
/// file (see the [module](self) documentation). When `write` fails, the temporary is removed,
/// the target is untouched and the error is returned.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let target = resolve_symlinks(path)?;
    let existing = refuse_read_only(&target)?;
    let (dir, name) = split(&target)?;
    remove_stale_temporaries(&dir, &name);
    let (tmp, file) = create_temporary(&dir, &name)?;
    let result = (|| {
        let mut w = BufWriter::with_capacity(1 << 20, file);
        write(&mut w)?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        if let Some(perm) = existing {
            f.set_permissions(perm)?;
        }
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Checks, before long work, that [`write_atomic`] to `path` can succeed: the directory
/// exists and a file can be created in it, and `path` is neither a directory nor read-only.
/// Nothing is left behind. The error says which.
///
/// ```
/// use neurite_tensor::fs::check_writable;
/// assert!(check_writable(std::path::Path::new("/no/such/dir/vectors.bin")).is_err());
/// assert!(check_writable(&std::env::temp_dir().join("neurite-check.bin")).is_ok());
/// ```
pub fn check_writable(path: &Path) -> std::io::Result<()> {
    let target = resolve_symlinks(path)?;
    refuse_read_only(&target)?;
    let (dir, name) = split(&target)?;
    match std::fs::metadata(&dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(std::io::Error::new(
                ErrorKind::NotADirectory,
                format!("{} is not a directory", dir.display()),
            ))
        }
        Err(e) => {
            return Err(std::io::Error::new(
                e.kind(),
                format!("directory {}: {e}", dir.display()),
            ))
        }
    }
    let (tmp, file) = create_temporary(&dir, &name)?;
    drop(file);
    std::fs::remove_file(&tmp)
}

/// The prefix of every temporary of `name`: `.NAME.tmp-`.
fn temp_prefix(name: &std::ffi::OsStr) -> OsString {
    let mut p = OsString::from(".");
    p.push(name);
    p.push(".tmp-");
    p
}

fn split(target: &Path) -> std::io::Result<(PathBuf, OsString)> {
    let name = target.file_name().ok_or_else(|| {
        std::io::Error::new(
            ErrorKind::InvalidInput,
            format!("{} is not a file path", target.display()),
        )
    })?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name.to_os_string()))
}

/// Follows `path` through symlinks (also dangling ones, whose target is then created), up to
/// 40 links as the kernel does.
fn resolve_symlinks(path: &Path) -> std::io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(std::io::Error::new(
        ErrorKind::InvalidInput,
        format!("{}: too many levels of symbolic links", path.display()),
    ))
}

/// The permissions of an existing writable target; an error when it is read-only or a
/// directory.
fn refuse_read_only(target: &Path) -> std::io::Result<Option<std::fs::Permissions>> {
    match std::fs::metadata(target) {
        Ok(m) if m.is_dir() => Err(std::io::Error::new(
            ErrorKind::IsADirectory,
            format!("{} is a directory", target.display()),
        )),
        Ok(m) if m.permissions().readonly() => Err(std::io::Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "{} is read-only: refusing to replace it (make it writable or choose another path)",
                target.display()
            ),
        )),
        Ok(m) => Ok(Some(m.permissions())),
        Err(_) => Ok(None),
    }
}

fn create_temporary(dir: &Path, name: &std::ffi::OsStr) -> std::io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    loop {
        let mut tmp_name = temp_prefix(name);
        tmp_name.push(format!(
            "{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let tmp = dir.join(tmp_name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            // Left by an earlier process with the same id: take the next number.
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Removes the temporaries of `name` in `dir` whose process is no longer running (left by a
/// killed save). Best effort: a failure leaves them and never fails the save.
fn remove_stale_temporaries(dir: &Path, name: &std::ffi::OsStr) {
    let prefix = temp_prefix(name);
    let prefix = prefix.as_encoded_bytes();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name.as_encoded_bytes().strip_prefix(prefix) else {
            continue;
        };
        let pid = std::str::from_utf8(rest)
            .ok()
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            if pid != std::process::id() && !process_is_running(pid) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// Whether a process with this id runs (Linux: `/proc/PID` exists). Where that cannot be
/// told, every process is assumed to run, so no temporary of a live save is ever removed.
fn process_is_running(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "neurite-fs-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = scratch("fail");
        let p = dir.join("f.txt");
        write_atomic(&p, b"old").unwrap();
        let err = write_atomic_with(&p, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        assert_eq!(listing(&dir), ["f.txt"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn concurrent_saves_to_one_path_all_succeed() {
        // The temporary name held only the process id: about half of these failed.
        let dir = scratch("concurrent");
        let p = dir.join("model.safetensors");
        let errors: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..100u8)
                .map(|i| {
                    let p = &p;
                    s.spawn(move || write_atomic(p, &vec![i; 4096]).map_err(|e| e.to_string()))
                })
                .collect();
            handles
                .into_iter()
                .filter_map(|h| h.join().unwrap().err())
                .collect()
        });
        assert!(errors.is_empty(), "{errors:?}");
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(bytes.len(), 4096);
        assert!(bytes.iter().all(|&b| b == bytes[0]), "one whole save");
        assert_eq!(listing(&dir), ["model.safetensors"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_stale_temporary_of_a_killed_process_is_removed_by_the_next_save() {
        let dir = scratch("stale");
        let p = dir.join("vectors.bin");
        // Process ids above /proc/sys/kernel/pid_max (at most 2^22) never run.
        let stale = dir.join(".vectors.bin.tmp-4294967295-0");
        std::fs::write(&stale, vec![0u8; 1 << 16]).unwrap();
        // A temporary of a running process (ours, in flight) and of another file stay.
        let live = dir.join(format!(".vectors.bin.tmp-{}-999999", std::process::id()));
        std::fs::write(&live, b"in flight").unwrap();
        let other = dir.join(".other.bin.tmp-4294967295-0");
        std::fs::write(&other, b"x").unwrap();
        write_atomic(&p, b"v").unwrap();
        assert!(!stale.exists());
        assert!(live.exists() && other.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_written_through() {
        let dir = scratch("symlink");
        let real = dir.join("real.bin");
        std::fs::write(&real, b"old").unwrap();
        let link = dir.join("link.bin");
        std::os::unix::fs::symlink("real.bin", &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
        // A dangling link: its target is created.
        let dangling = dir.join("dangling.bin");
        std::os::unix::fs::symlink("made.bin", &dangling).unwrap();
        write_atomic(&dangling, b"made").unwrap();
        assert_eq!(std::fs::read(dir.join("made.bin")).unwrap(), b"made");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_read_only_target_is_refused() {
        let dir = scratch("readonly");
        let p = dir.join("frozen.bin");
        std::fs::write(&p, b"keep").unwrap();
        let mut perm = std::fs::metadata(&p).unwrap().permissions();
        perm.set_readonly(true);
        std::fs::set_permissions(&p, perm.clone()).unwrap();
        let e = write_atomic(&p, b"overwrite").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
        assert!(e.to_string().contains("read-only"), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), b"keep");
        assert_eq!(
            check_writable(&p).unwrap_err().kind(),
            ErrorKind::PermissionDenied
        );
        assert_eq!(listing(&dir), ["frozen.bin"]);
        #[allow(clippy::permissions_set_readonly_false)]
        perm.set_readonly(false);
        std::fs::set_permissions(&p, perm).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn the_new_file_keeps_the_old_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("perm");
        let p = dir.join("script.sh");
        std::fs::write(&p, b"old").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o750)).unwrap();
        write_atomic(&p, b"new").unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o750);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn writability_is_checked_without_leaving_anything() {
        let dir = scratch("check");
        assert!(check_writable(&dir.join("out.bin")).is_ok());
        assert_eq!(listing(&dir), Vec::<String>::new());
        let missing = check_writable(&dir.join("no/such/out.bin")).unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing}");
        assert!(
            check_writable(&dir).is_err(),
            "a directory is not a file path"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! Writing files safely: everything goes to a temporary file beside the target, which is
//! renamed over it only once complete, so a crash or a full disk never leaves a half-written file.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use crate::error::{Error, Result};

/// Writes `path` through `write` with [`neurite_tensor::fs::write_atomic_with`]: a unique
/// temporary sibling file, flushed, synced and renamed over `path`. On failure the temporary
/// is removed and `path` is untouched; a symlink is written through and a read-only target
/// is refused.
pub(crate) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<()> {
    neurite_tensor::fs::write_atomic_with(path, write).map_err(|e| Error::io(path, e))
}

/// Checks, before long work, that `path` can be written ([`neurite_tensor::fs::check_writable`]:
/// its directory exists and takes a new file, `path` is neither a directory nor read-only).
pub(crate) fn check_writable(path: &Path) -> Result<()> {
    neurite_tensor::fs::check_writable(path).map_err(|e| Error::io(path, e))
}

/// [`Error::OutOfMemory`] unless `elements` values of `T` fit within what this process can
/// hold ([`neurite_tensor::alloc::check_bytes`]: RAM and swap, and the address-space limit).
pub(crate) fn check_allocation<T>(elements: usize, what: &str) -> Result<()> {
    match neurite_tensor::alloc::check_bytes::<T>(what, elements) {
        Ok(_) => Ok(()),
        Err(neurite_tensor::TensorError::OutOfMemory { what, bytes, .. }) => {
            Err(Error::OutOfMemory { what, bytes })
        }
        Err(e) => Err(Error::Tensor(e)),
    }
}

/// Reserves room for `extra` more elements of `v`, or [`Error::OutOfMemory`] naming `what`.
pub(crate) fn try_grow<T>(v: &mut Vec<T>, extra: usize, what: &str) -> Result<()> {
    check_allocation::<T>(v.len().saturating_add(extra), what)?;
    v.try_reserve_exact(extra).map_err(|_| Error::OutOfMemory {
        what: what.to_string(),
        bytes: (extra as u64).saturating_mul(std::mem::size_of::<T>() as u64),
    })
}

/// `bytes` as UTF-8 text, or a [`Error::Format`] naming the line of the first invalid byte.
pub(crate) fn utf8_text(path: &Path, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        Error::format(
            path,
            line,
            format!("invalid UTF-8 at byte offset {at}: the file must be UTF-8 text"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn failed_write_leaves_the_old_file() {
        let dir = std::env::temp_dir().join(format!("neurite-w2v-io-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("f.txt");
        write_atomically(&p, |w| w.write_all(b"old")).unwrap();
        let err = write_atomically(&p, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(matches!(err, Err(Error::Io { .. })));
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary left"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn writability_is_checked_without_leaving_anything() {
        let dir = std::env::temp_dir().join(format!("neurite-w2v-wr-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(check_writable(&dir.join("v.bin")).is_ok());
        assert!(check_writable(&dir.join("no/such/dir/v.bin")).is_err());
        assert!(check_writable(&dir).is_err());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn invalid_utf8_names_its_line() {
        let e = utf8_text(Path::new("q.txt"), b"a b\nc \xff d\n".to_vec()).unwrap_err();
        assert!(matches!(e, Error::Format { line: 2, .. }), "{e}");
        assert_eq!(utf8_text(Path::new("q"), b"ok\n".to_vec()).unwrap(), "ok\n");
    }

    #[test]
    fn impossible_allocations_are_typed_errors() {
        let mut v: Vec<f32> = Vec::new();
        let e = try_grow(&mut v, usize::MAX / 4, "test matrix").unwrap_err();
        assert!(matches!(e, Error::OutOfMemory { .. }), "{e}");
    }
}

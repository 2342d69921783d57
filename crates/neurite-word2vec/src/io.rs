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
}

//! Data: an in-memory [`Dataset`] (features and class labels or regression targets), seeded
//! shuffled mini-batches, train / test split, standardisation fitted on the training part only,
//! CSV and IDX (MNIST / Fashion-MNIST) loading with errors naming the file and the line or
//! offset, and NaN detection.

mod csv;
mod dataset;
mod idx;
mod standardize;

pub use csv::{read_csv, CsvOptions, Delimiter};
pub use dataset::{find_non_finite, Batch, Batches, Dataset, Targets};
pub use idx::{load_mnist, read_idx, read_idx_limited, IdxArray, IdxType, MnistSplit};
pub use standardize::Standardizer;

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{NnError, Result};

/// The default limit on the bytes a gzipped data file may decompress to: 4 GiB, about 90
/// times the largest file neurite reads (Fashion-MNIST's training images, 47 MB), so that a
/// gzip bomb (a 13 MB file that inflates to gigabytes) stops with an error instead of filling
/// memory. Change it with [`set_max_decompressed_bytes`].
pub const DEFAULT_MAX_DECOMPRESSED_BYTES: u64 = 4 << 30;

static MAX_DECOMPRESSED: AtomicU64 = AtomicU64::new(DEFAULT_MAX_DECOMPRESSED_BYTES);

/// Sets the most bytes a gzipped data file (IDX, CSV) may decompress to, for the whole process
/// ([`DEFAULT_MAX_DECOMPRESSED_BYTES`] until set); a file that inflates beyond it is an
/// [`NnError::Parse`] saying so.
pub fn set_max_decompressed_bytes(limit: u64) {
    MAX_DECOMPRESSED.store(limit, Ordering::Relaxed);
}

/// The current limit on decompressed bytes (see [`set_max_decompressed_bytes`]).
pub fn max_decompressed_bytes() -> u64 {
    MAX_DECOMPRESSED.load(Ordering::Relaxed)
}

/// Reads a whole file, gunzipping it when it starts with the gzip magic bytes. The buffer
/// grows with the bytes actually read (`try_reserve`: an allocation the system refuses is a
/// typed out-of-memory error naming the file), and decompression stops at
/// [`max_decompressed_bytes`].
pub(crate) fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    read_maybe_gz_limited(path, max_decompressed_bytes())
}

/// [`read_maybe_gz`] with an explicit limit on the decompressed bytes.
pub(crate) fn read_maybe_gz_limited(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let io = |source| NnError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let raw = read_growing(file, u64::MAX, path, "reading").map_err(|e| match e {
        ReadError::Io(e) => io(e),
        ReadError::Nn(e) => e,
    })?;
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(raw);
    }
    read_growing(
        flate2::read::MultiGzDecoder::new(&raw[..]),
        limit,
        path,
        "decompressing",
    )
    .map_err(|e| match e {
        ReadError::Io(e) => NnError::Parse {
            path: path.to_path_buf(),
            location: "gzip stream".into(),
            message: format!("corrupt or truncated gzip data: {e}"),
        },
        ReadError::Nn(e) => e,
    })
}

enum ReadError {
    Io(std::io::Error),
    Nn(NnError),
}

/// Reads `r` to its end into a vector grown with `try_reserve` as bytes arrive; more than
/// `limit` bytes is an error naming the limit.
fn read_growing(
    mut r: impl Read,
    limit: u64,
    path: &Path,
    doing: &str,
) -> Result<Vec<u8>, ReadError> {
    let mut out: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        let n = match r.read(&mut chunk) {
            Ok(0) => return Ok(out),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ReadError::Io(e)),
        };
        if (out.len() + n) as u64 > limit {
            return Err(ReadError::Nn(NnError::Parse {
                path: path.to_path_buf(),
                location: "gzip stream".into(),
                message: format!(
                    "decompresses to more than {limit} bytes, the limit (a gzip bomb, or a file \
                     larger than expected: raise it with neurite_nn::data::set_max_decompressed_bytes)"
                ),
            }));
        }
        if out.capacity() - out.len() < n {
            // Double as a plain vector would, but ask politely.
            let want = out.capacity().max(n).max(1 << 16);
            if out.try_reserve(want).is_err() && out.try_reserve_exact(n).is_err() {
                return Err(ReadError::Nn(NnError::Tensor(
                    neurite_tensor::TensorError::OutOfMemory {
                        what: format!("{doing} {}", path.display()),
                        bytes: (out.len() + n) as u64,
                        limit: neurite_tensor::alloc::memory_limit(),
                    },
                )));
            }
        }
        out.extend_from_slice(&chunk[..n]);
    }
}

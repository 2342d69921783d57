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
pub use idx::{load_mnist, read_idx, IdxArray, IdxType, MnistSplit};
pub use standardize::Standardizer;

use std::io::Read;
use std::path::Path;

use crate::error::{NnError, Result};

/// Reads a whole file, gunzipping it when it starts with the gzip magic bytes.
pub(crate) fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let io = |source| NnError::Io {
        path: path.to_path_buf(),
        source,
    };
    let raw = std::fs::read(path).map_err(io)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len() * 4);
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| NnError::Parse {
                path: path.to_path_buf(),
                location: "gzip stream".into(),
                message: format!("corrupt or truncated gzip data: {e}"),
            })?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

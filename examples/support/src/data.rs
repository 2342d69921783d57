//! Where the examples' data live: the files vendored in the repository, Fashion-MNIST from the
//! Debian package (or `NEURITE_FASHION_MNIST`), and the small Fashion-MNIST subset the tests
//! carry. Nothing here reads outside the repository except the Debian package's directory.

use std::io::Read;
use std::path::{Path, PathBuf};

use neurite::nn::data::{load_mnist, Dataset, MnistSplit};

/// The repository root (the facade package).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A file of the vendored `data/` directory, e.g. `vendored("tabular/digits.csv.gz")`.
pub fn vendored(relative: &str) -> PathBuf {
    repo_root().join("data").join(relative)
}

/// The embedded 1M-word public-domain corpus (gzip), which neurite-word2vec carries.
pub fn corpus_1m() -> PathBuf {
    repo_root().join("crates/neurite-word2vec/data/corpus-pd-1m.txt.gz")
}

/// Where the Debian package `dataset-fashion-mnist` installs Fashion-MNIST.
pub const FASHION_MNIST_DEBIAN: &str = "/usr/share/datasets/fashion-mnist";

/// The full Fashion-MNIST: `$NEURITE_FASHION_MNIST` when set, else the Debian package's
/// directory.
pub fn fashion_mnist_dir() -> PathBuf {
    std::env::var_os("NEURITE_FASHION_MNIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(FASHION_MNIST_DEBIAN))
}

/// The vendored Fashion-MNIST subset of the tests (`tests/data/fashion-mnist-subset`: the first
/// 4,000 training and 1,000 test images; see its README).
pub fn fashion_mnist_subset_dir() -> PathBuf {
    repo_root().join("tests/data/fashion-mnist-subset")
}

/// Loads one split of an MNIST-format directory; the error says what is missing and how to get
/// it.
pub fn load_mnist_dir(dir: &Path, split: MnistSplit) -> Result<Dataset<f32>, String> {
    load_mnist::<f32>(dir, split).map_err(|e| {
        format!(
            "cannot load MNIST-format data from {}: {e}\n\
             (Fashion-MNIST: `sudo apt-get install dataset-fashion-mnist`, files land in \
             {FASHION_MNIST_DEBIAN}; or pass --data DIR with the four IDX .gz files)",
            dir.display()
        )
    })
}

/// The first `n` samples of a data set (all when it has fewer).
pub fn head(data: &Dataset<f32>, n: usize) -> neurite::nn::Result<Dataset<f32>> {
    let idx: Vec<usize> = (0..n.min(data.len())).collect();
    data.subset(&idx)
}

/// Reads a UTF-8 text file, gunzipping it when it starts with the gzip magic bytes.
pub fn read_text(path: &Path) -> Result<String, String> {
    let raw = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut s = String::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_string(&mut s)
            .map_err(|e| format!("{}: corrupt gzip or not UTF-8: {e}", path.display()))?;
        Ok(s)
    } else {
        String::from_utf8(raw).map_err(|e| format!("{}: not UTF-8: {e}", path.display()))
    }
}

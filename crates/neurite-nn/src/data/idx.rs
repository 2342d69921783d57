//! IDX files (the format of MNIST and Fashion-MNIST), plain or gzipped: a big-endian header
//! (two zero bytes, a type code, the number of dimensions, then one u32 size per dimension)
//! followed by the values.

use std::path::{Path, PathBuf};

use neurite_tensor::{Float, Tensor};

use super::{max_decompressed_bytes, read_maybe_gz_limited, Dataset};
use crate::error::{NnError, Result};

/// The element type of an IDX file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdxType {
    /// 0x08: unsigned byte.
    U8,
    /// 0x09: signed byte.
    I8,
    /// 0x0B: big-endian i16.
    I16,
    /// 0x0C: big-endian i32.
    I32,
    /// 0x0D: big-endian f32.
    F32,
    /// 0x0E: big-endian f64.
    F64,
}

impl IdxType {
    fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0x08 => IdxType::U8,
            0x09 => IdxType::I8,
            0x0B => IdxType::I16,
            0x0C => IdxType::I32,
            0x0D => IdxType::F32,
            0x0E => IdxType::F64,
            _ => return None,
        })
    }
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            IdxType::U8 | IdxType::I8 => 1,
            IdxType::I16 => 2,
            IdxType::I32 | IdxType::F32 => 4,
            IdxType::F64 => 8,
        }
    }
}

/// The content of an IDX file: shape, element type and the raw big-endian values.
#[derive(Debug, Clone)]
pub struct IdxArray {
    /// The file it came from.
    pub path: PathBuf,
    /// Dimensions, e.g. [60000, 28, 28].
    pub shape: Vec<usize>,
    /// Element type.
    pub dtype: IdxType,
    data: Vec<u8>,
}

impl IdxArray {
    /// Number of elements (`usize::MAX` for a `shape` whose product overflows: `shape` is a
    /// public field, and [`IdxArray::to_tensor`] rejects such a shape).
    pub fn len(&self) -> usize {
        self.shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .unwrap_or(usize::MAX)
    }
    /// `shape` (a public field) must still describe the bytes read from the file.
    fn check_shape(&self, op: &str) -> Result<()> {
        let need = self
            .shape
            .iter()
            .try_fold(self.dtype.size(), |a, &d| a.checked_mul(d));
        if need != Some(self.data.len()) {
            return Err(NnError::BadInput {
                layer: format!("IdxArray::{op} ({})", self.path.display()),
                expected: format!(
                    "a shape of {} {:?} values (the data read from the file)",
                    self.data.len() / self.dtype.size(),
                    self.dtype
                ),
                got: self.shape.clone(),
            });
        }
        Ok(())
    }
    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Element `i` as f64.
    fn value(&self, i: usize) -> f64 {
        let s = self.dtype.size();
        let b = &self.data[i * s..(i + 1) * s];
        match self.dtype {
            IdxType::U8 => b[0] as f64,
            IdxType::I8 => b[0] as i8 as f64,
            IdxType::I16 => i16::from_be_bytes([b[0], b[1]]) as f64,
            IdxType::I32 => i32::from_be_bytes([b[0], b[1], b[2], b[3]]) as f64,
            IdxType::F32 => f32::from_be_bytes([b[0], b[1], b[2], b[3]]) as f64,
            IdxType::F64 => f64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        }
    }
    /// The values as a tensor of the same shape, each multiplied by `scale` (e.g. 1/255 to map
    /// bytes to [0, 1]).
    pub fn to_tensor<T: Float>(&self, scale: f64) -> Result<Tensor<T>> {
        self.check_shape("to_tensor")?;
        let v = if self.dtype == IdxType::U8 {
            let s = T::from_f64(scale);
            self.data
                .iter()
                .map(|&b| T::from_usize(b as usize) * s)
                .collect()
        } else {
            (0..self.len())
                .map(|i| T::from_f64(self.value(i) * scale))
                .collect()
        };
        Ok(Tensor::from_vec(v, &self.shape)?)
    }
    /// The values as class labels (whole numbers ≥ 0).
    pub fn to_labels(&self) -> Result<Vec<usize>> {
        self.check_shape("to_labels")?;
        (0..self.len())
            .map(|i| {
                let v = self.value(i);
                // Below 2⁵³ a whole f64 is exact and `as usize` keeps it (above, it would
                // saturate, and a label of usize::MAX overflows `classes = max + 1`).
                if v >= 0.0 && v.fract() == 0.0 && v < 9_007_199_254_740_992.0 {
                    Ok(v as usize)
                } else {
                    Err(NnError::Parse {
                        path: self.path.clone(),
                        location: format!("element {i}"),
                        message: format!("label {v} is not a whole number in 0..2^53"),
                    })
                }
            })
            .collect()
    }
}

/// Reads an IDX file (gzipped or not). A bad magic number, an unknown type code or a truncated
/// body is an [`NnError::Parse`] naming the file and the byte offset. A gzipped file may
/// decompress to at most [`super::max_decompressed_bytes`] (see [`read_idx_limited`]).
pub fn read_idx(path: impl AsRef<Path>) -> Result<IdxArray> {
    read_idx_limited(path, max_decompressed_bytes())
}

/// [`read_idx`] with an explicit limit on the bytes a gzipped file may decompress to: beyond
/// it (a gzip bomb) the read stops with an [`NnError::Parse`] naming the limit. Memory grows
/// with the bytes read, never with the header's claims.
pub fn read_idx_limited(path: impl AsRef<Path>, max_decompressed_bytes: u64) -> Result<IdxArray> {
    let path = path.as_ref();
    let mut bytes = read_maybe_gz_limited(path, max_decompressed_bytes)?;
    let err = |offset: usize, message: String| NnError::Parse {
        path: path.to_path_buf(),
        location: format!("offset {offset}"),
        message,
    };
    if bytes.len() < 4 {
        return Err(err(
            0,
            format!("file too short for an IDX header ({} bytes)", bytes.len()),
        ));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(err(
            0,
            format!(
                "bad IDX magic {:02x} {:02x} (expected 00 00)",
                bytes[0], bytes[1]
            ),
        ));
    }
    let dtype = IdxType::from_code(bytes[2])
        .ok_or_else(|| err(2, format!("unknown IDX type code 0x{:02x}", bytes[2])))?;
    let ndim = bytes[3] as usize;
    let header = 4 + 4 * ndim;
    if bytes.len() < header {
        return Err(err(
            bytes.len(),
            format!("header of {ndim} dimensions needs {header} bytes, file ends early"),
        ));
    }
    let shape: Vec<usize> = (0..ndim)
        .map(|d| {
            let o = 4 + 4 * d;
            u32::from_be_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]]) as usize
        })
        .collect();
    let need = shape
        .iter()
        .try_fold(dtype.size(), |a, &d| a.checked_mul(d))
        .ok_or_else(|| err(4, format!("shape {shape:?} is too large")))?;
    let have = bytes.len() - header;
    if have < need {
        return Err(err(
            bytes.len(),
            format!(
                "truncated: shape {shape:?} needs {need} bytes of data after the {header}-byte header, found {have}"
            ),
        ));
    }
    if have > need {
        return Err(err(
            header + need,
            format!(
                "{} unexpected bytes after the data of shape {shape:?}",
                have - need
            ),
        ));
    }
    Ok(IdxArray {
        path: path.to_path_buf(),
        shape,
        dtype,
        data: {
            // The values in place, without a second copy of the file.
            bytes.drain(..header);
            bytes
        },
    })
}

/// Which half of an MNIST-format data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MnistSplit {
    /// `train-*` (60,000 images).
    Train,
    /// `t10k-*` (10,000 images).
    Test,
}

/// Finds `name` or `name.gz` in `dir`.
fn find(dir: &Path, name: &str) -> Result<PathBuf> {
    for cand in [format!("{name}.gz"), name.to_string()] {
        let p = dir.join(&cand);
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(NnError::Io {
        path: dir.join(format!("{name}.gz")),
        source: std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "file not found (nor without .gz)",
        ),
    })
}

/// Loads MNIST or Fashion-MNIST from a directory holding the four IDX files
/// (`train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`, `t10k-…`): images
/// [n, 1, rows, cols] scaled to [0, 1], labels 0..10. The counts of images and labels must agree.
pub fn load_mnist<T: Float>(dir: impl AsRef<Path>, split: MnistSplit) -> Result<Dataset<T>> {
    let dir = dir.as_ref();
    let prefix = match split {
        MnistSplit::Train => "train",
        MnistSplit::Test => "t10k",
    };
    let images = read_idx(find(dir, &format!("{prefix}-images-idx3-ubyte"))?)?;
    let labels = read_idx(find(dir, &format!("{prefix}-labels-idx1-ubyte"))?)?;
    if images.shape.len() != 3 || labels.shape.len() != 1 || images.shape[0] != labels.shape[0] {
        return Err(NnError::Parse {
            path: labels.path.clone(),
            location: "offset 4".into(),
            message: format!(
                "images {:?} ({}) and labels {:?} do not match: need [n, rows, cols] and [n]",
                images.shape,
                images.path.display(),
                labels.shape
            ),
        });
    }
    let (n, h, w) = (images.shape[0], images.shape[1], images.shape[2]);
    let x = images.to_tensor::<T>(1.0 / 255.0)?.reshape(&[n, 1, h, w])?;
    let y = labels.to_labels()?;
    let classes = y.iter().max().map_or(0, |m| m + 1).max(10);
    Dataset::classification(x, y, classes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(name: &str, bytes: &[u8], gz: bool) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("neurite-nn-idx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        if gz {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(bytes).unwrap();
            std::fs::write(&p, e.finish().unwrap()).unwrap();
        } else {
            std::fs::write(&p, bytes).unwrap();
        }
        p
    }

    fn images(n: u32) -> Vec<u8> {
        let mut b = vec![0, 0, 8, 3];
        for d in [n, 2, 3] {
            b.extend(d.to_be_bytes());
        }
        b.extend((0..n * 6).map(|i| (i * 40 % 256) as u8));
        b
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_decompression_limit() {
        // A header claiming 2^31 bytes and 64 MiB of zeros: 64 KiB of gzip. Before, it
        // inflated whole (a 13 MB file reached 3.36 GB) before the size check.
        let mut b = vec![0, 0, 8, 1];
        b.extend((1u32 << 31).to_be_bytes());
        b.resize(b.len() + (64 << 20), 0);
        let p = write("bomb-idx1.gz", &b, true);
        assert!(std::fs::metadata(&p).unwrap().len() < 1 << 20);
        let e = read_idx_limited(&p, 1 << 20).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, NnError::Parse { .. }), "{msg}");
        assert!(msg.contains("more than 1048576 bytes"), "{msg}");
        assert!(msg.contains("set_max_decompressed_bytes"), "{msg}");
        // Within the limit, the same reader reads the file (and finds it truncated).
        let e = read_idx_limited(&p, 1 << 30).unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
        assert_eq!(
            crate::data::max_decompressed_bytes(),
            crate::data::DEFAULT_MAX_DECOMPRESSED_BYTES
        );
    }

    #[test]
    fn reads_plain_and_gzipped_idx() {
        let a = read_idx(write("a-idx3", &images(2), false)).unwrap();
        assert_eq!(a.shape, vec![2, 2, 3]);
        let b = read_idx(write("b-idx3.gz", &images(2), true)).unwrap();
        let t = b.to_tensor::<f32>(1.0 / 255.0).unwrap();
        assert_eq!(t.shape(), &[2, 2, 3]);
        assert!((t.to_vec()[1] - 40.0 / 255.0).abs() < 1e-7);
    }

    #[test]
    fn corrupt_files_name_the_offset() {
        let mut bad = images(2);
        bad[2] = 0x42;
        let e = read_idx(write("c", &bad, false)).unwrap_err().to_string();
        assert!(e.contains("offset 2") && e.contains("0x42"), "{e}");
        let mut short = images(2);
        short.truncate(20);
        let e = read_idx(write("d", &short, true)).unwrap_err().to_string();
        assert!(e.contains("truncated") && e.contains("offset 20"), "{e}");
        let e = read_idx(write("e", &[1, 0, 8, 1], false))
            .unwrap_err()
            .to_string();
        assert!(e.contains("magic"), "{e}");
        // A gzip stream cut short.
        let dir = std::env::temp_dir().join(format!("neurite-nn-idx-{}", std::process::id()));
        let full = std::fs::read(write("f.gz", &images(50), true)).unwrap();
        std::fs::write(dir.join("g.gz"), &full[..full.len() / 2]).unwrap();
        assert!(read_idx(dir.join("g.gz")).is_err());
    }

    #[test]
    fn an_edited_shape_or_a_huge_label_is_an_error() {
        let mut a = read_idx(write("h-idx3", &images(2), false)).unwrap();
        a.shape = vec![3, 2, 3]; // more values than the file held
        assert!(matches!(a.to_labels(), Err(NnError::BadInput { .. })));
        assert!(matches!(
            a.to_tensor::<f32>(1.0),
            Err(NnError::BadInput { .. })
        ));
        a.shape = vec![usize::MAX, 2];
        assert_eq!(a.len(), usize::MAX);
        assert!(matches!(a.to_labels(), Err(NnError::BadInput { .. })));
        // One f64 label of 1e30: whole, but not a usable class index.
        let mut b = vec![0, 0, 0x0E, 1];
        b.extend(1u32.to_be_bytes());
        b.extend(1e30f64.to_be_bytes());
        let l = read_idx(write("i-idx1", &b, false)).unwrap();
        let e = l.to_labels().unwrap_err();
        assert!(matches!(e, NnError::Parse { .. }), "{e}");
    }

    #[test]
    fn load_mnist_pairs_images_and_labels() {
        let dir = std::env::temp_dir().join(format!("neurite-nn-mnist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("t10k-images-idx3-ubyte"), images(3)).unwrap();
        let mut lab = vec![0, 0, 8, 1];
        lab.extend(3u32.to_be_bytes());
        lab.extend([7, 0, 9]);
        std::fs::write(dir.join("t10k-labels-idx1-ubyte"), &lab).unwrap();
        let d = load_mnist::<f32>(&dir, MnistSplit::Test).unwrap();
        assert_eq!(d.features.shape(), &[3, 1, 2, 3]);
        assert_eq!(d.labels().unwrap(), &[7, 0, 9]);
        let e = load_mnist::<f32>(&dir, MnistSplit::Train).unwrap_err();
        assert!(matches!(e, NnError::Io { .. }), "{e}");
    }
}

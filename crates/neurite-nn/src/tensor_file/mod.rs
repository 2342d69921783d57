//! Plain tensors in safetensors files: read and write float and integer tensors by name, with
//! no model involved — PyTorch's `safetensors.torch.save_file` output, fixtures, checkpoints.
//!
//! A [`StoredTensor`] keeps its dtype, shape and little-endian bytes as they are in the file;
//! [`StoredTensor::to_float`] converts any float dtype (F64, F32, F16, BF16) into a `Tensor<f32>`
//! or `Tensor<f64>`, [`StoredTensor::to_i64`] / [`StoredTensor::to_usize`] read any integer
//! dtype (PyTorch's I64 labels and counters). A [`StateDict`] is an ordered set of named
//! stored tensors plus the file's string metadata; [`StateDict::load`] / [`StateDict::save`]
//! read and write files (saving writes a temporary file and renames it). A [`StateView`] is the
//! write side without copies: [`TensorView`]s borrow a model's or an optimiser's tensors where
//! they live, and saving writes each one straight from there (the bytes of the equivalent
//! dict's file).
//!
//! ```
//! use neurite_nn::{StateDict, StoredTensor};
//! use neurite_tensor::Tensor;
//!
//! let mut sd = StateDict::new();
//! sd.insert("x", StoredTensor::from_float(&Tensor::<f32>::from_vec(vec![1.0, 2.5], &[2])?));
//! sd.insert("labels", StoredTensor::from_i64(&[3], &[0, 7, 2])?);
//! let back = StateDict::from_bytes(&sd.to_bytes()?)?;
//! assert_eq!(back.get("labels").unwrap().to_usize()?, vec![0, 7, 2]);
//! let x: Tensor<f64> = back.get("x").unwrap().to_float()?; // F32 in the file, f64 here
//! assert_eq!(x.to_vec(), vec![1.0, 2.5]);
//! # Ok::<(), neurite_nn::NnError>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use half::{bf16, f16};
use neurite_tensor::{Float, Tensor};

use crate::error::{checked_numel, NnError, Result};

/// The element type of a stored tensor (safetensors' names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dtype {
    /// Boolean, one byte.
    Bool,
    /// Unsigned 8-bit integer.
    U8,
    /// Signed 8-bit integer.
    I8,
    /// Signed 16-bit integer.
    I16,
    /// Unsigned 16-bit integer.
    U16,
    /// Signed 32-bit integer.
    I32,
    /// Unsigned 32-bit integer.
    U32,
    /// Signed 64-bit integer (PyTorch's `long`).
    I64,
    /// Unsigned 64-bit integer.
    U64,
    /// IEEE half precision.
    F16,
    /// bfloat16.
    BF16,
    /// Single precision.
    F32,
    /// Double precision.
    F64,
}

impl Dtype {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Dtype::Bool | Dtype::U8 | Dtype::I8 => 1,
            Dtype::I16 | Dtype::U16 | Dtype::F16 | Dtype::BF16 => 2,
            Dtype::I32 | Dtype::U32 | Dtype::F32 => 4,
            Dtype::I64 | Dtype::U64 | Dtype::F64 => 8,
        }
    }
    /// True for F16, BF16, F32 and F64.
    pub fn is_float(self) -> bool {
        matches!(self, Dtype::F16 | Dtype::BF16 | Dtype::F32 | Dtype::F64)
    }
    /// The dtype of a neurite float type (F32 or F64).
    pub fn of<T: Float>() -> Dtype {
        if std::mem::size_of::<T>() == 4 {
            Dtype::F32
        } else {
            Dtype::F64
        }
    }
    /// The dtype of a safetensors header's name (`"F32"`, `"I64"`, …).
    fn from_name(name: &str) -> Option<Dtype> {
        Some(match name {
            "BOOL" => Dtype::Bool,
            "U8" => Dtype::U8,
            "I8" => Dtype::I8,
            "I16" => Dtype::I16,
            "U16" => Dtype::U16,
            "I32" => Dtype::I32,
            "U32" => Dtype::U32,
            "I64" => Dtype::I64,
            "U64" => Dtype::U64,
            "F16" => Dtype::F16,
            "BF16" => Dtype::BF16,
            "F32" => Dtype::F32,
            "F64" => Dtype::F64,
            _ => return None,
        })
    }
    fn to_st(self) -> safetensors::Dtype {
        use safetensors::Dtype as S;
        match self {
            Dtype::Bool => S::BOOL,
            Dtype::U8 => S::U8,
            Dtype::I8 => S::I8,
            Dtype::I16 => S::I16,
            Dtype::U16 => S::U16,
            Dtype::I32 => S::I32,
            Dtype::U32 => S::U32,
            Dtype::I64 => S::I64,
            Dtype::U64 => S::U64,
            Dtype::F16 => S::F16,
            Dtype::BF16 => S::BF16,
            Dtype::F32 => S::F32,
            Dtype::F64 => S::F64,
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// One tensor as stored: dtype, shape and little-endian element bytes (row-major).
#[derive(Debug, Clone)]
pub struct StoredTensor {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Data,
}

impl PartialEq for StoredTensor {
    fn eq(&self, other: &Self) -> bool {
        self.dtype == other.dtype && self.shape == other.shape && self.bytes() == other.bytes()
    }
}

fn chunks<const N: usize>(b: &[u8]) -> impl Iterator<Item = [u8; N]> + '_ {
    b.chunks_exact(N).map(|c| {
        let mut a = [0u8; N];
        a.copy_from_slice(c);
        a
    })
}

/// Little-endian bytes of f32 / f64 values, copied from where they are (one copy into a buffer
/// of the final size; converted element by element on a big-endian target).
fn le_bytes<T: Float>(s: &[T]) -> Vec<u8> {
    storage::le_view(s).into_owned()
}

impl StoredTensor {
    /// A tensor from raw little-endian bytes; the byte count must match the shape and dtype.
    pub fn from_raw(dtype: Dtype, shape: &[usize], data: Vec<u8>) -> Result<Self> {
        let n = checked_numel("StoredTensor", shape)?;
        let want = n.checked_mul(dtype.size()).ok_or_else(|| {
            NnError::config("StoredTensor", format!("shape {shape:?} is too large"))
        })?;
        if data.len() != want {
            return Err(NnError::config(
                "StoredTensor",
                format!(
                    "{dtype} shape {shape:?} needs {want} bytes, got {}",
                    data.len()
                ),
            ));
        }
        Ok(StoredTensor {
            dtype,
            shape: shape.to_vec(),
            data: Data::Bytes(data),
        })
    }

    /// A float tensor, stored as F32 or F64 like `T`.
    pub fn from_float<T: Float>(t: &Tensor<T>) -> Self {
        let v = t.contiguous();
        let s = v.as_slice().unwrap_or(&[]); // ok: contiguous() makes a standard layout
        StoredTensor {
            dtype: Dtype::of::<T>(),
            shape: t.shape().to_vec(),
            data: Data::Bytes(le_bytes(s)),
        }
    }

    /// Row-major values of shape `shape`, stored as F32 or F64 like `T`; the count must match.
    pub fn from_slice<T: Float>(shape: &[usize], values: &[T]) -> Result<Self> {
        Self::from_raw(Dtype::of::<T>(), shape, le_bytes(values))
    }

    /// An I64 tensor; `values` must hold exactly the shape's element count.
    pub fn from_i64(shape: &[usize], values: &[i64]) -> Result<Self> {
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        Self::from_raw(Dtype::I64, shape, data)
    }

    /// A 0-d I64 tensor (a counter such as `num_batches_tracked`).
    pub fn scalar_i64(v: i64) -> Self {
        StoredTensor {
            dtype: Dtype::I64,
            shape: Vec::new(),
            data: Data::Bytes(v.to_le_bytes().to_vec()),
        }
    }

    /// A U64 tensor (for bit patterns such as generator states).
    pub fn from_u64(shape: &[usize], values: &[u64]) -> Result<Self> {
        let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        Self::from_raw(Dtype::U64, shape, data)
    }

    /// The element type.
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }
    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }
    /// The number of elements.
    pub fn numel(&self) -> usize {
        self.bytes().len() / self.dtype.size()
    }
    /// The little-endian element bytes.
    pub fn bytes(&self) -> &[u8] {
        self.data.bytes()
    }

    /// The values as f64, from any float dtype.
    fn floats(&self) -> Result<Vec<f64>> {
        let b = self.bytes();
        Ok(match self.dtype {
            Dtype::F64 => chunks::<8>(b).map(f64::from_le_bytes).collect(),
            Dtype::F32 => chunks::<4>(b)
                .map(|c| f32::from_le_bytes(c) as f64)
                .collect(),
            Dtype::F16 => chunks::<2>(b)
                .map(|c| f16::from_le_bytes(c).to_f64())
                .collect(),
            Dtype::BF16 => chunks::<2>(b)
                .map(|c| bf16::from_le_bytes(c).to_f64())
                .collect(),
            d => {
                return Err(NnError::Dtype {
                    expected: "a float dtype (F64, F32, F16, BF16)".into(),
                    got: d,
                })
            }
        })
    }

    /// The tensor as `Tensor<T>`, converting from any float dtype (F64, F32, F16, BF16; F64 into
    /// f32 rounds). An integer dtype is an [`NnError::Dtype`].
    pub fn to_float<T: Float>(&self) -> Result<Tensor<T>> {
        Ok(Tensor::from_vec(self.to_float_vec()?, &self.shape)?)
    }

    /// The values as `Vec<T>` (see [`Self::to_float`]), in one pass when the dtype is `T`'s.
    pub(crate) fn to_float_vec<T: Float>(&self) -> Result<Vec<T>> {
        if let Some(v) = self.data.values::<T>() {
            return Ok(v.to_vec());
        }
        Ok(match (self.dtype, Dtype::of::<T>()) {
            (Dtype::F32, Dtype::F32) => chunks::<4>(self.bytes())
                .map(|c| T::from_f64(f32::from_le_bytes(c) as f64))
                .collect(),
            (Dtype::F64, Dtype::F64) => chunks::<8>(self.bytes())
                .map(|c| T::from_f64(f64::from_le_bytes(c)))
                .collect(),
            _ => self.floats()?.into_iter().map(T::from_f64).collect(),
        })
    }

    /// [`Self::to_float_vec`], moving the values out when the tensor was read from a file as
    /// `T`s (no copy).
    pub(crate) fn into_float_vec<T: Float>(self) -> Result<Vec<T>> {
        match self.data.into_values::<T>() {
            Ok(v) => Ok(v),
            Err(data) => StoredTensor { data, ..self }.to_float_vec(),
        }
    }

    /// The values as `i64`, from any integer or bool dtype. A float dtype, or a U64 value above
    /// `i64::MAX`, is an error.
    pub fn to_i64(&self) -> Result<Vec<i64>> {
        let b = self.bytes();
        Ok(match self.dtype {
            Dtype::Bool | Dtype::U8 => b.iter().map(|&x| x as i64).collect(),
            Dtype::I8 => b.iter().map(|&x| x as i8 as i64).collect(),
            Dtype::I16 => chunks::<2>(b)
                .map(|c| i16::from_le_bytes(c) as i64)
                .collect(),
            Dtype::U16 => chunks::<2>(b)
                .map(|c| u16::from_le_bytes(c) as i64)
                .collect(),
            Dtype::I32 => chunks::<4>(b)
                .map(|c| i32::from_le_bytes(c) as i64)
                .collect(),
            Dtype::U32 => chunks::<4>(b)
                .map(|c| u32::from_le_bytes(c) as i64)
                .collect(),
            Dtype::I64 => chunks::<8>(b).map(i64::from_le_bytes).collect(),
            Dtype::U64 => chunks::<8>(b)
                .map(|c| {
                    i64::try_from(u64::from_le_bytes(c)).map_err(|_| {
                        NnError::config("StoredTensor", "a U64 value does not fit in i64")
                    })
                })
                .collect::<Result<_>>()?,
            d => {
                return Err(NnError::Dtype {
                    expected: "an integer dtype".into(),
                    got: d,
                })
            }
        })
    }

    /// The values as `u64` bit patterns (U64 or I64 tensors).
    pub fn to_u64(&self) -> Result<Vec<u64>> {
        match self.dtype {
            Dtype::U64 | Dtype::I64 => {
                Ok(chunks::<8>(self.bytes()).map(u64::from_le_bytes).collect())
            }
            d => Err(NnError::Dtype {
                expected: "U64 or I64".into(),
                got: d,
            }),
        }
    }

    /// The values as `usize` (class labels, indices), from any integer dtype; a negative value
    /// is an error naming its position.
    pub fn to_usize(&self) -> Result<Vec<usize>> {
        self.to_i64()?
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                usize::try_from(v).map_err(|_| {
                    NnError::config(
                        "StoredTensor",
                        format!("value {v} at position {i} is not a non-negative index"),
                    )
                })
            })
            .collect()
    }

    /// The same values in another float dtype (e.g. F32 → F16 for a smaller file). Only float
    /// dtypes convert.
    pub fn cast(&self, dtype: Dtype) -> Result<Self> {
        if !dtype.is_float() {
            return Err(NnError::Dtype {
                expected: "a float target dtype".into(),
                got: dtype,
            });
        }
        if dtype == self.dtype {
            return Ok(self.clone());
        }
        let v = self.floats()?;
        let mut data = Vec::with_capacity(v.len() * dtype.size());
        for x in v {
            match dtype {
                Dtype::F64 => data.extend_from_slice(&x.to_le_bytes()),
                Dtype::F32 => data.extend_from_slice(&(x as f32).to_le_bytes()),
                Dtype::F16 => data.extend_from_slice(&f16::from_f64(x).to_le_bytes()),
                _ => data.extend_from_slice(&bf16::from_f64(x).to_le_bytes()),
            }
        }
        Self::from_raw(dtype, &self.shape, data)
    }
}

/// Named tensors in a stable order, with string metadata: the in-memory form of a safetensors
/// file and of a model's state (PyTorch's `state_dict`). Two dicts are equal when they hold the
/// same names with equal tensors and the same metadata, in any order.
#[derive(Debug, Clone, Default)]
pub struct StateDict {
    entries: Vec<(String, StoredTensor)>,
    index: HashMap<String, usize>,
    metadata: BTreeMap<String, String>,
}

impl StateDict {
    /// An empty dict.
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts (or replaces, keeping its position) the tensor `name`; returns the old one.
    pub fn insert(&mut self, name: impl Into<String>, t: StoredTensor) -> Option<StoredTensor> {
        let name = name.into();
        match self.index.get(&name) {
            Some(&i) => Some(std::mem::replace(&mut self.entries[i].1, t)),
            None => {
                self.index.insert(name.clone(), self.entries.len());
                self.entries.push((name, t));
                None
            }
        }
    }

    /// The tensor `name`.
    pub fn get(&self, name: &str) -> Option<&StoredTensor> {
        self.index.get(name).map(|&i| &self.entries[i].1)
    }

    /// The tensor `name` or an error naming it.
    pub fn require(&self, name: &str) -> Result<&StoredTensor> {
        self.get(name).ok_or_else(|| NnError::MissingTensor {
            name: name.to_string(),
        })
    }

    /// Removes the tensor `name`.
    pub fn remove(&mut self, name: &str) -> Option<StoredTensor> {
        let i = self.index.remove(name)?;
        let (_, t) = self.entries.remove(i);
        for (k, (n, _)) in self.entries.iter().enumerate().skip(i) {
            self.index.insert(n.clone(), k);
        }
        Some(t)
    }

    /// True when `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// Names and tensors in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &StoredTensor)> {
        self.entries.iter().map(|(n, t)| (n.as_str(), t))
    }

    /// Names in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    /// Number of tensors.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there is no tensor.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Total bytes of tensor data.
    pub fn data_bytes(&self) -> usize {
        self.entries.iter().map(|(_, t)| t.bytes().len()).sum()
    }

    /// The file's string metadata (safetensors `__metadata__`).
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// The metadata, to edit.
    pub fn metadata_mut(&mut self) -> &mut BTreeMap<String, String> {
        &mut self.metadata
    }

    /// The tensors whose names start with `prefix.`, with the prefix taken off.
    pub fn sub(&self, prefix: &str) -> StateDict {
        let p = format!("{prefix}.");
        let mut out = StateDict::new();
        for (n, t) in self.iter() {
            if let Some(rest) = n.strip_prefix(&p) {
                out.insert(rest, t.clone());
            }
        }
        out
    }

    /// The tensors by name, taken out of the dict.
    pub(crate) fn into_map(self) -> HashMap<String, StoredTensor> {
        self.entries.into_iter().collect()
    }

    /// Removes the tensors whose names start with `prefix.` and returns them with the prefix
    /// taken off: [`Self::sub`] without copying the data.
    pub fn take_sub(&mut self, prefix: &str) -> StateDict {
        let p = format!("{prefix}.");
        let (taken, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.entries)
            .into_iter()
            .partition(|(n, _)| n.starts_with(&p));
        self.index = kept
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.clone(), i))
            .collect();
        self.entries = kept;
        taken
            .into_iter()
            .map(|(n, t)| (n[p.len()..].to_string(), t))
            .collect()
    }

    /// Adds every tensor of `other` under `prefix.name`.
    pub fn extend_prefixed(&mut self, prefix: &str, other: StateDict) {
        for (n, t) in other.entries {
            self.insert(format!("{prefix}.{n}"), t);
        }
    }

    /// The safetensors bytes of this dict (the bytes [`Self::save`] writes). The header lists
    /// the metadata sorted by key and the tensors by descending dtype alignment, then by name
    /// (as the safetensors crate lays data out), so the same dict always gives the same bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        view::to_bytes(&self.metadata, &self.entries)
    }

    /// Reads safetensors data of `len` bytes from `r`; `origin` names the source in errors.
    /// The header is read and checked in full against `len` (offsets contiguous, each
    /// tensor's byte count that of its dtype and shape, the data exactly filling the rest)
    /// before any tensor buffer is allocated; then each tensor is read straight into its own
    /// buffer. Tensors come in name order (a safetensors header is a JSON object: its order
    /// means nothing).
    fn read_from(r: &mut impl Read, len: u64, origin: &Path) -> Result<Self> {
        let parse_err = |location: &str, message: String| NnError::Parse {
            path: origin.to_path_buf(),
            location: location.into(),
            message,
        };
        let bad = |message: String| {
            parse_err(
                "header",
                format!("not a valid safetensors file ({len} bytes): {message}"),
            )
        };
        let io = |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => bad("the data ends early".into()),
            _ => NnError::Io {
                path: origin.to_path_buf(),
                source: e,
            },
        };
        let mut n = [0u8; 8];
        if len < 8 {
            return Err(bad("no 8-byte header length".into()));
        }
        r.read_exact(&mut n).map_err(io)?;
        let n = u64::from_le_bytes(n);
        if n > len - 8 || n > MAX_HEADER {
            return Err(bad(format!(
                "a header of {n} bytes does not fit (at most {} and {MAX_HEADER})",
                len - 8
            )));
        }
        let mut header = vec![0u8; n as usize]; // ok: n ≤ the input's length
        r.read_exact(&mut header).map_err(io)?;
        let json: serde_json::Value = std::str::from_utf8(&header)
            .map_err(|e| bad(format!("the header is not UTF-8: {e}")))
            .and_then(|h| {
                serde_json::from_str(h).map_err(|e| bad(format!("the header is not JSON: {e}")))
            })?;
        let object = json
            .as_object()
            .ok_or_else(|| bad("the header is not a JSON object".into()))?;
        let mut out = StateDict::new();
        // (name, dtype, shape, start, end) in data order.
        let mut infos = Vec::with_capacity(object.len());
        for (name, v) in object {
            if name == "__metadata__" {
                let m = v
                    .as_object()
                    .ok_or_else(|| bad("__metadata__ is not an object".into()))?;
                for (k, v) in m {
                    let v = v
                        .as_str()
                        .ok_or_else(|| bad(format!("metadata {k:?} is not a string")))?;
                    out.metadata.insert(k.clone(), v.to_string());
                }
                continue;
            }
            let at = |what: &str| parse_err(&format!("tensor {name:?}"), what.to_string());
            let dtype_name = v
                .get("dtype")
                .and_then(|d| d.as_str())
                .ok_or_else(|| at("no dtype"))?;
            let dtype = Dtype::from_name(dtype_name)
                .ok_or_else(|| at(&format!("dtype {dtype_name} is not supported")))?;
            let shape = v
                .get("shape")
                .and_then(|s| s.as_array())
                .and_then(|s| {
                    s.iter()
                        .map(|d| d.as_u64().and_then(|d| usize::try_from(d).ok()))
                        .collect::<Option<Vec<usize>>>()
                })
                .ok_or_else(|| at("no shape of non-negative integers"))?;
            let offsets = v
                .get("data_offsets")
                .and_then(|o| o.as_array())
                .filter(|o| o.len() == 2)
                .and_then(|o| Some((o[0].as_u64()?, o[1].as_u64()?)))
                .ok_or_else(|| at("no data_offsets [start, end]"))?;
            infos.push((name.clone(), dtype, shape, offsets.0, offsets.1));
        }
        infos.sort_by_key(|i| (i.3, i.4));
        let data_len = len - 8 - n;
        let mut pos = 0u64;
        for (name, dtype, shape, start, end) in &infos {
            let at = |what: String| parse_err(&format!("tensor {name:?}"), what);
            if *start != pos || end < start {
                return Err(at(format!(
                    "data_offsets [{start}, {end}] do not follow the previous tensor's end {pos}"
                )));
            }
            let need = checked_numel("safetensors", shape)
                .ok()
                .and_then(|k| (k as u64).checked_mul(dtype.size() as u64));
            if need != Some(end - start) {
                return Err(at(format!(
                    "{dtype} {shape:?} does not take the {} bytes of its data_offsets",
                    end - start
                )));
            }
            pos = *end;
        }
        if pos != data_len {
            return Err(bad(format!(
                "the tensors take {pos} bytes, the data after the header {data_len}"
            )));
        }
        // Every size is now checked against the input's length: read the data.
        let mut read = Vec::with_capacity(infos.len());
        for (name, dtype, shape, start, end) in infos {
            // Within the input's length, a whole number of elements (checked above).
            let data = storage::read_data(r, dtype, (end - start) as usize).map_err(io)?;
            read.push((name, StoredTensor { dtype, shape, data }));
        }
        read.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, t) in read {
            out.insert(name, t);
        }
        Ok(out)
    }

    /// Parses safetensors bytes held in memory.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::read_from(&mut &bytes[..], bytes.len() as u64, Path::new("<memory>"))
    }

    /// Reads a safetensors file, each tensor straight from the file into its buffer (F32 and
    /// F64 tensors into vectors of their values, which a model load then takes without a
    /// copy). A truncated or corrupt file is an [`NnError::Parse`] naming it; nothing is
    /// allocated for a size the file does not hold.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let io = |source| NnError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = std::fs::File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        // Reads past `len` (a file growing meanwhile) are not looked for.
        Self::read_from(&mut (&mut file).take(len), len, path)
    }

    /// Writes a safetensors file atomically (a temporary file, synced, then a rename),
    /// streaming the header and then each tensor's bytes as they are held: no copy of the whole
    /// file is built in memory.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        view::save(path.as_ref(), &self.metadata, &self.entries)
    }
}

/// The longest safetensors header read (the safetensors crate's own limit).
const MAX_HEADER: u64 = 100_000_000;

impl PartialEq for StateDict {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self.metadata == other.metadata
            && self.iter().all(|(n, t)| other.get(n) == Some(t))
    }
}

impl FromIterator<(String, StoredTensor)> for StateDict {
    fn from_iter<I: IntoIterator<Item = (String, StoredTensor)>>(iter: I) -> Self {
        let mut sd = StateDict::new();
        for (n, t) in iter {
            sd.insert(n, t);
        }
        sd
    }
}

/// The origin named in errors of an in-memory state dict.
pub(crate) fn memory_origin() -> PathBuf {
    PathBuf::from("<state dict>")
}

mod storage;
#[cfg(test)]
mod tests;
mod view;

use storage::Data;

pub use view::{StateView, TensorView};

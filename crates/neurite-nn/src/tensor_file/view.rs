//! Writing named tensors without copying them first. A [`StateView`] is the write side of a
//! [`StateDict`]: the same names, dtypes, shapes and metadata, but each [`TensorView`] borrows
//! its data where it already lives — a parameter's storage (shared, not copied), an
//! optimiser's buffer, or a [`StoredTensor`] — and the file is written from there. The header
//! is computed from the shapes and dtypes first, then each tensor goes to the file in one
//! large write straight from its storage. [`StateDict::save`] and [`StateDict::to_bytes`] use
//! the same writer, so a view and the dict holding the same tensors give the same bytes.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use neurite_tensor::{Float, Tensor};

use super::storage::le_view;
use super::{Dtype, StateDict, StoredTensor};
use crate::error::{checked_numel, NnError, Result};

#[derive(Debug, Clone)]
enum Data<'a, T: Float> {
    Stored(Cow<'a, StoredTensor>),
    /// Row-major values and their shape.
    Slice(Vec<usize>, &'a [T]),
    /// A tensor in standard layout, sharing the storage it was made from.
    Tensor(Tensor<T>),
}

/// One tensor to write: a float tensor or slice of the model's dtype borrowed where it lives,
/// or a [`StoredTensor`] (any dtype). Its bytes are those [`StoredTensor::from_float`] would
/// hold, without the copy.
#[derive(Debug, Clone)]
pub struct TensorView<'a, T: Float> {
    data: Data<'a, T>,
}

impl<'a, T: Float> TensorView<'a, T> {
    /// A float tensor, sharing its storage (a tensor not in standard layout is made
    /// contiguous first).
    pub fn tensor(t: &Tensor<T>) -> Self {
        TensorView {
            data: Data::Tensor(t.contiguous()),
        }
    }

    /// Row-major values of shape `shape`, borrowed; the count must match the shape.
    pub fn slice(shape: &[usize], values: &'a [T]) -> Result<Self> {
        let n = checked_numel("TensorView", shape)?;
        if n != values.len() {
            return Err(NnError::config(
                "TensorView",
                format!("shape {shape:?} needs {n} values, got {}", values.len()),
            ));
        }
        Ok(TensorView {
            data: Data::Slice(shape.to_vec(), values),
        })
    }

    /// A stored tensor, owned.
    pub fn stored(t: StoredTensor) -> Self {
        TensorView {
            data: Data::Stored(Cow::Owned(t)),
        }
    }

    /// A stored tensor, borrowed.
    pub fn stored_ref(t: &'a StoredTensor) -> Self {
        TensorView {
            data: Data::Stored(Cow::Borrowed(t)),
        }
    }

    /// The element type.
    pub fn dtype(&self) -> Dtype {
        match &self.data {
            Data::Stored(t) => t.dtype(),
            Data::Slice(..) | Data::Tensor(_) => Dtype::of::<T>(),
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        match &self.data {
            Data::Stored(t) => t.shape(),
            Data::Slice(shape, _) => shape,
            Data::Tensor(t) => t.shape(),
        }
    }

    /// The little-endian element bytes as they go into the file (borrowed on little-endian
    /// targets).
    pub fn bytes(&self) -> Cow<'_, [u8]> {
        match &self.data {
            Data::Stored(t) => Cow::Borrowed(t.bytes()),
            Data::Slice(_, s) => le_view(s),
            // A standard-layout tensor always has its slice; an empty one is caught by the
            // writer's length check rather than written short.
            Data::Tensor(t) => le_view(t.as_slice().unwrap_or(&[])),
        }
    }

    /// An owned copy.
    pub fn to_stored(&self) -> StoredTensor {
        match &self.data {
            Data::Stored(t) => t.as_ref().clone(),
            _ => StoredTensor {
                dtype: self.dtype(),
                shape: self.shape().to_vec(),
                data: super::Data::Bytes(self.bytes().into_owned()),
            },
        }
    }
}

/// Named [`TensorView`]s in a stable order, with string metadata: a state to write (a model's
/// parameters, an optimiser's buffers, a checkpoint) without first copying every tensor into a
/// byte buffer. [`StateView::save`] writes the same bytes as [`StateDict::save`] of
/// [`StateView::to_state_dict`].
#[derive(Debug, Clone)]
pub struct StateView<'a, T: Float> {
    entries: Vec<(String, TensorView<'a, T>)>,
    index: HashMap<String, usize>,
    metadata: BTreeMap<String, String>,
}

impl<T: Float> Default for StateView<'_, T> {
    fn default() -> Self {
        StateView {
            entries: Vec::new(),
            index: HashMap::new(),
            metadata: BTreeMap::new(),
        }
    }
}

impl<'a, T: Float> StateView<'a, T> {
    /// An empty view.
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts (or replaces, keeping its position) the tensor `name`; returns the old one.
    pub fn insert(
        &mut self,
        name: impl Into<String>,
        t: TensorView<'a, T>,
    ) -> Option<TensorView<'a, T>> {
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
    pub fn get(&self, name: &str) -> Option<&TensorView<'a, T>> {
        self.index.get(name).map(|&i| &self.entries[i].1)
    }

    /// Names and tensors in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &TensorView<'a, T>)> {
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

    /// The file's string metadata (safetensors `__metadata__`).
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// The metadata, to edit.
    pub fn metadata_mut(&mut self) -> &mut BTreeMap<String, String> {
        &mut self.metadata
    }

    /// Adds every tensor of `other` under `prefix.name` (its metadata is not taken).
    pub fn extend_prefixed(&mut self, prefix: &str, other: StateView<'a, T>) {
        for (n, t) in other.entries {
            self.insert(format!("{prefix}.{n}"), t);
        }
    }

    /// An owned copy of every tensor, as a [`StateDict`] (same order and metadata).
    pub fn to_state_dict(&self) -> StateDict {
        let mut sd: StateDict = self
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_stored()))
            .collect();
        *sd.metadata_mut() = self.metadata.clone();
        sd
    }

    /// The safetensors bytes (the bytes [`Self::save`] writes).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        to_bytes(&self.metadata, &self.entries)
    }

    /// Writes a safetensors file atomically (a temporary file, synced, then renamed over
    /// `path`): the header, then each tensor in one write straight from where it lives.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        save(path.as_ref(), &self.metadata, &self.entries)
    }
}

/// What the writer needs of an entry.
pub(super) trait Entry {
    fn dtype(&self) -> Dtype;
    fn shape(&self) -> &[usize];
    /// The number of data bytes (without producing them).
    fn byte_len(&self) -> usize;
    fn bytes(&self) -> Cow<'_, [u8]>;
}

impl Entry for StoredTensor {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn byte_len(&self) -> usize {
        StoredTensor::bytes(self).len()
    }
    fn bytes(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(StoredTensor::bytes(self))
    }
}

impl<T: Float> Entry for TensorView<'_, T> {
    fn dtype(&self) -> Dtype {
        TensorView::dtype(self)
    }
    fn shape(&self) -> &[usize] {
        TensorView::shape(self)
    }
    fn byte_len(&self) -> usize {
        match &self.data {
            Data::Stored(t) => t.bytes().len(),
            Data::Slice(_, s) => std::mem::size_of_val(*s),
            Data::Tensor(t) => t.len() * std::mem::size_of::<T>(),
        }
    }
    fn bytes(&self) -> Cow<'_, [u8]> {
        TensorView::bytes(self)
    }
}

/// The safetensors header of `entries` (length prefix, JSON, space padding to 8 bytes) and
/// the order in which their bytes follow it: by descending dtype alignment, then by name, as
/// the safetensors crate lays data out. Written here rather than by `safetensors::serialize`,
/// whose metadata map is a `HashMap`: with two or more metadata keys its header came out in a
/// different order on every run, so the same training wrote different checkpoint bytes. Here
/// the metadata is sorted by key, so the same tensors always give the same bytes.
pub(super) fn header<E: Entry>(
    metadata: &BTreeMap<String, String>,
    entries: &[(String, E)],
) -> Result<(Vec<u8>, Vec<usize>)> {
    let json_err = |e: serde_json::Error| NnError::config("StateDict", e.to_string());
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| {
        let ((na, ta), (nb, tb)) = (&entries[a], &entries[b]);
        tb.dtype().to_st().cmp(&ta.dtype().to_st()).then(na.cmp(nb))
    });
    let mut json = String::from("{");
    if !metadata.is_empty() {
        json.push_str("\"__metadata__\":");
        json.push_str(&serde_json::to_string(metadata).map_err(json_err)?);
    }
    let mut offset = 0usize;
    for &i in &order {
        let (name, t) = &entries[i];
        let expected = t
            .shape()
            .iter()
            .try_fold(t.dtype().size(), |n, &d| n.checked_mul(d));
        if expected != Some(t.byte_len()) {
            return Err(NnError::config(
                "StateDict",
                format!(
                    "{name:?} holds {} bytes; {:?} {:?} needs {expected:?}",
                    t.byte_len(),
                    t.dtype(),
                    t.shape()
                ),
            ));
        }
        let end = offset + t.byte_len();
        if json.len() > 1 {
            json.push(',');
        }
        json.push_str(&serde_json::to_string(name).map_err(json_err)?);
        json.push_str(":{\"dtype\":");
        json.push_str(&serde_json::to_string(&t.dtype().to_st()).map_err(json_err)?);
        json.push_str(",\"shape\":");
        json.push_str(&serde_json::to_string(t.shape()).map_err(json_err)?);
        json.push_str(&format!(",\"data_offsets\":[{offset},{end}]}}"));
        offset = end;
    }
    json.push('}');
    while json.len() % 8 != 0 {
        json.push(' ');
    }
    let mut header = Vec::with_capacity(8 + json.len());
    header.extend_from_slice(&(json.len() as u64).to_le_bytes());
    header.extend_from_slice(json.as_bytes());
    Ok((header, order))
}

/// Writes the header and then each entry's bytes in `order`. An entry whose bytes are not the
/// length the header announced is an error (the file would be corrupt).
fn write_body<E: Entry>(
    w: &mut impl Write,
    header: &[u8],
    order: &[usize],
    entries: &[(String, E)],
) -> std::io::Result<()> {
    w.write_all(header)?;
    for &i in order {
        let (name, t) = &entries[i];
        let b = t.bytes();
        if b.len() != t.byte_len() {
            return Err(std::io::Error::other(format!(
                "{name:?} gave {} bytes, its header entry {}",
                b.len(),
                t.byte_len()
            )));
        }
        w.write_all(&b)?;
    }
    Ok(())
}

pub(super) fn to_bytes<E: Entry>(
    metadata: &BTreeMap<String, String>,
    entries: &[(String, E)],
) -> Result<Vec<u8>> {
    let (header, order) = header(metadata, entries)?;
    let data: usize = entries.iter().map(|(_, t)| t.byte_len()).sum();
    let mut out: Vec<u8> = neurite_tensor::alloc::try_with_capacity(
        "state dict bytes",
        header.len().saturating_add(data),
    )?;
    write_body(&mut out, &header, &order, entries)
        .map_err(|e| NnError::config("StateDict", e.to_string()))?;
    Ok(out)
}

/// Writes a safetensors file atomically: the header, then each tensor's bytes as they are
/// held (a write of a tensor larger than the writer's buffer goes straight to the file).
pub(super) fn save<E: Entry>(
    path: &Path,
    metadata: &BTreeMap<String, String>,
    entries: &[(String, E)],
) -> Result<()> {
    let (header, order) = header(metadata, entries)?;
    neurite_tensor::fs::write_atomic_with(path, |w| write_body(w, &header, &order, entries))
        .map_err(|source| NnError::Io {
            path: path.to_path_buf(),
            source,
        })
}

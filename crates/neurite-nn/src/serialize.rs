//! A model's state — parameters and buffers — by name, in memory ([`state_dict`] /
//! [`load_state_dict`]) and on disk ([`save_params`] / [`load_params`], safetensors), with
//! PyTorch's names and layouts (`0.weight` [out, in], `0.bias` [out], `1.running_mean`, …), so
//! weights move between neurite and PyTorch (`model.load_state_dict(load_file(path))`) both ways.
//!
//! Loading is strict by default: every name of the model must be present with its shape, and
//! nothing else may be; otherwise [`NnError::ParamMismatch`] lists every difference and the
//! model is left unchanged. [`LoadMode::NonStrict`] (PyTorch's `strict=False`) loads what
//! matches and reports the rest in the [`LoadReport`]. Float tensors convert on load (F64, F32,
//! F16, BF16 into an f32 or f64 model), each conversion named in the report. Saving writes a
//! temporary file and renames it, so a crash never leaves a half-written file.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

use neurite_tensor::{Float, Tensor};

use crate::error::{NnError, Result};
use crate::module::{Buffer, BufferMut, Module};
use crate::tensor_file::{memory_origin, Dtype, StateDict, StateView, StoredTensor, TensorView};

/// The model's parameters then buffers by name, in visiting order (a PyTorch `state_dict`):
/// parameters as F32 / F64 like the model, counters as 0-d I64. The data is copied; see
/// [`state_view`] for the same state sharing the model's storage.
pub fn state_dict<T: Float>(model: &dyn Module<T>) -> StateDict {
    state_view(model).to_state_dict()
}

/// [`state_dict`] without copying: each parameter and float buffer shares the model's tensor
/// storage (the model is not borrowed; a later in-place update of a shared tensor copies it
/// first, so the view keeps the values of the moment it was taken). What [`save_params`] writes.
pub fn state_view<T: Float>(model: &dyn Module<T>) -> StateView<'static, T> {
    let mut out = StateView::new();
    model.visit_params("", &mut |name, p| {
        out.insert(name, TensorView::tensor(p.value()));
    });
    model.visit_buffers("", &mut |name, b| {
        let t = match b {
            Buffer::Float(t) => TensorView::tensor(t),
            Buffer::Count(&c) => TensorView::stored(StoredTensor::scalar_i64(c)),
        };
        out.insert(name, t);
    });
    out
}

/// Strict (the default: every difference is an error) or not (load what matches, report the
/// rest), as PyTorch's `strict` flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoadMode {
    /// Missing, unexpected or mis-shaped tensors are an error; nothing is loaded.
    #[default]
    Strict,
    /// Tensors that match are loaded; the others are listed in the report.
    NonStrict,
}

/// A tensor whose shape or dtype does not fit the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The name.
    pub name: String,
    /// What the model holds, e.g. "f32 [8, 4]" or "counter (I64 [])".
    pub expected: String,
    /// What the state dict holds, e.g. "F32 [6, 4]".
    pub got: String,
}

/// A float tensor converted on load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    /// The name.
    pub name: String,
    /// The stored dtype.
    pub from: Dtype,
    /// The model's dtype.
    pub to: Dtype,
}

/// What a load did: names missing from the state dict, names the model does not have, tensors
/// that did not fit, and dtype conversions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// In the model, not in the state dict (left unchanged).
    pub missing: Vec<String>,
    /// In the state dict, not in the model (ignored).
    pub unexpected: Vec<String>,
    /// Present with the wrong shape or dtype (left unchanged).
    pub mismatched: Vec<Mismatch>,
    /// Loaded after a dtype conversion.
    pub converted: Vec<Conversion>,
}

impl LoadReport {
    /// True when every name matched (conversions allowed).
    pub fn is_exact(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty() && self.mismatched.is_empty()
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        for m in &self.missing {
            parts.push(format!("missing tensor {m:?}"));
        }
        for m in &self.mismatched {
            parts.push(format!(
                "{:?}: {} in the state dict, the model needs {}",
                m.name, m.got, m.expected
            ));
        }
        for u in &self.unexpected {
            parts.push(format!(
                "unexpected tensor {u:?} (not a parameter or buffer of the model)"
            ));
        }
        for c in &self.converted {
            parts.push(format!("{:?} converted {} → {}", c.name, c.from, c.to));
        }
        if parts.is_empty() {
            write!(f, "every tensor matched")
        } else {
            write!(f, "{}", parts.join("; "))
        }
    }
}

/// A value ready to go into the model.
enum Ready<T: Float> {
    Float(Tensor<T>),
    Count(i64),
    /// Of the model's dtype in a dict the load owns: moved out of it once every check passed.
    Take(Vec<usize>),
}

/// Loads `sd` into `model` (see the module doc for strictness and conversions). Strict: any
/// difference is an [`NnError::ParamMismatch`] listing all of them, and the model is unchanged.
pub fn load_state_dict<T: Float>(
    model: &mut dyn Module<T>,
    sd: &StateDict,
    mode: LoadMode,
) -> Result<LoadReport> {
    load_into(model, sd, mode, &memory_origin())
}

fn describe(t: &StoredTensor) -> String {
    format!("{} {:?}", t.dtype(), t.shape())
}

pub(crate) fn load_into<T: Float>(
    model: &mut dyn Module<T>,
    sd: &StateDict,
    mode: LoadMode,
    origin: &Path,
) -> Result<LoadReport> {
    load_from(model, Cow::Borrowed(sd), mode, origin)
}

/// [`load_into`] from a dict the load may take apart: tensors of the model's dtype move into
/// the model without a copy (those read from a file are already vectors of its values).
pub(crate) fn load_owned<T: Float>(
    model: &mut dyn Module<T>,
    sd: StateDict,
    mode: LoadMode,
    origin: &Path,
) -> Result<LoadReport> {
    load_from(model, Cow::Owned(sd), mode, origin)
}

fn load_from<T: Float>(
    model: &mut dyn Module<T>,
    sd: Cow<'_, StateDict>,
    mode: LoadMode,
    origin: &Path,
) -> Result<LoadReport> {
    let owned = matches!(sd, Cow::Owned(_));
    let want = Dtype::of::<T>();
    let mut report = LoadReport::default();
    let mut ready: HashMap<String, Ready<T>> = HashMap::new();
    let mut seen = HashSet::new();
    let mut dup = None;
    let mut float_entry = |name: &str, shape: &[usize], report: &mut LoadReport| {
        if !seen.insert(name.to_string()) {
            dup.get_or_insert(name.to_string());
        }
        let Some(t) = sd.get(name) else {
            report.missing.push(name.to_string());
            return;
        };
        let expected = format!("{} {shape:?}", T::NAME);
        if !t.dtype().is_float() || t.shape() != shape {
            report.mismatched.push(Mismatch {
                name: name.to_string(),
                expected,
                got: describe(t),
            });
            return;
        }
        if owned && t.dtype() == want {
            ready.insert(name.to_string(), Ready::Take(shape.to_vec()));
            return;
        }
        match t.to_float::<T>() {
            Ok(v) => {
                if t.dtype() != want {
                    report.converted.push(Conversion {
                        name: name.to_string(),
                        from: t.dtype(),
                        to: want,
                    });
                }
                ready.insert(name.to_string(), Ready::Float(v));
            }
            Err(e) => report.mismatched.push(Mismatch {
                name: name.to_string(),
                expected,
                got: format!("{} ({e})", describe(t)),
            }),
        }
    };
    model.visit_params("", &mut |name, p| float_entry(name, p.shape(), &mut report));
    let mut counters = Vec::new();
    model.visit_buffers("", &mut |name, b| match b {
        Buffer::Float(t) => float_entry(name, t.shape(), &mut report),
        Buffer::Count(_) => counters.push(name.to_string()),
    });
    for name in counters {
        if !seen.insert(name.clone()) {
            dup.get_or_insert(name.clone());
        }
        let Some(t) = sd.get(&name) else {
            report.missing.push(name);
            continue;
        };
        match t.to_i64() {
            Ok(v) if v.len() == 1 && t.shape().iter().product::<usize>() == 1 => {
                ready.insert(name, Ready::Count(v[0]));
            }
            _ => report.mismatched.push(Mismatch {
                name,
                expected: "a counter (I64 [])".into(),
                got: describe(t),
            }),
        }
    }
    if let Some(d) = dup {
        return Err(NnError::config(
            "load_state_dict",
            format!("two parameters or buffers of the model share the name {d:?}"),
        ));
    }
    report.unexpected = sd
        .names()
        .filter(|n| !seen.contains(*n))
        .map(str::to_string)
        .collect();
    if mode == LoadMode::Strict && !report.is_exact() {
        return Err(NnError::ParamMismatch {
            path: origin.to_path_buf(),
            message: LoadReport {
                converted: Vec::new(),
                ..report
            }
            .to_string(),
        });
    }
    if let Cow::Owned(sd) = sd {
        // Everything is checked: move the tensors of the model's dtype out of the dict (all of
        // them before the model changes, so that a failure still changes nothing).
        let mut stored = sd.into_map();
        for (name, r) in ready.iter_mut() {
            if let Ready::Take(shape) = r {
                let t = stored
                    .remove(name)
                    .ok_or_else(|| NnError::MissingTensor { name: name.clone() })?;
                *r = Ready::Float(Tensor::from_vec(t.into_float_vec()?, shape)?);
            }
        }
    }
    let mut err = None;
    model.visit_params_mut("", &mut |name, p| {
        if let Some(Ready::Float(v)) = ready.remove(name) {
            if let Err(e) = p.set(v) {
                err.get_or_insert(NnError::from(e));
            }
        }
    });
    model.visit_buffers_mut("", &mut |name, b| match (b, ready.remove(name)) {
        (BufferMut::Float(t), Some(Ready::Float(v))) => *t = v,
        (BufferMut::Count(c), Some(Ready::Count(v))) => *c = v,
        _ => {}
    });
    err.map_or(Ok(report), Err)
}

/// Writes `bytes` to `path` atomically with [`neurite_tensor::fs::write_atomic`]: a
/// temporary file beside the target (unique per process and thread, removed on failure and,
/// if a killed process left one, by the next save), synced, then renamed over the target. A
/// symlink is written through; a read-only target is refused (an [`NnError::Io`] of kind
/// `PermissionDenied`).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    neurite_tensor::fs::write_atomic(path, bytes).map_err(|source| NnError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Checks that `path` can be saved to (see [`neurite_tensor::fs::check_writable`]): call it
/// before long training so that a mistyped output path fails at once, not after the run.
pub fn check_writable(path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    neurite_tensor::fs::check_writable(path).map_err(|source| NnError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Saves the state of `model` (parameters and buffers) to `path` in safetensors format, F32 or
/// F64 as the model, atomically.
pub fn save_params<T: Float>(model: &dyn Module<T>, path: impl AsRef<Path>) -> Result<()> {
    state_view(model).save(path)
}

/// Loads the state of `model` from the safetensors file at `path`, strictly: every name of the
/// model must be in the file with its shape, and the file must hold no other tensor; otherwise
/// [`NnError::ParamMismatch`] lists every difference and the model is unchanged. Float tensors
/// of another dtype convert (listed in the report). A truncated or corrupt file is an
/// [`NnError::Parse`].
pub fn load_params<T: Float>(
    model: &mut dyn Module<T>,
    path: impl AsRef<Path>,
) -> Result<LoadReport> {
    load_params_with(model, path, LoadMode::Strict)
}

/// [`load_params`] with a chosen [`LoadMode`].
pub fn load_params_with<T: Float>(
    model: &mut dyn Module<T>,
    path: impl AsRef<Path>,
    mode: LoadMode,
) -> Result<LoadReport> {
    let path = path.as_ref();
    let sd = StateDict::load(path)?;
    load_owned(model, sd, mode, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Linear, Relu, Sequential};
    use neurite_tensor::Rng;

    fn mlp<T: Float>(seed: u64, hidden: usize) -> Sequential<T> {
        let mut rng = Rng::new(seed);
        Sequential::new()
            .add(Linear::new(4, hidden, &mut rng).unwrap())
            .add(Relu)
            .add(Linear::new(hidden, 2, &mut rng).unwrap())
    }

    fn tmp(name: &str) -> std::path::PathBuf {
        // One directory per file: tests run in parallel and one checks for leftovers.
        let dir = std::env::temp_dir().join(format!("neurite-nn-st-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn round_trip_restores_every_parameter() {
        let a = mlp::<f32>(1, 8);
        let mut b = mlp::<f32>(2, 8);
        let p = tmp("rt.safetensors");
        save_params(&a, &p).unwrap();
        load_params(&mut b, &p).unwrap();
        assert_eq!(state_dict(&a), state_dict(&b));
        let sd = state_dict(&a);
        let names: Vec<&str> = sd.names().collect();
        assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
        // No temporary file is left behind.
        let leftovers = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains(".tmp-")
            })
            .count();
        assert_eq!(leftovers, 0);
    }

    #[test]
    fn mismatches_are_all_reported_and_leave_the_model_unchanged() {
        let p = tmp("mis.safetensors");
        save_params(&mlp::<f32>(1, 8), &p).unwrap();
        let mut wrong_shape = mlp::<f32>(3, 6);
        let before = state_dict(&wrong_shape);
        let e = load_params(&mut wrong_shape, &p).unwrap_err().to_string();
        assert!(
            e.contains("\"0.weight\": F32 [8, 4] in the state dict, the model needs f32 [6, 4]")
                && e.contains("\"2.weight\""),
            "{e}"
        );
        assert_eq!(state_dict(&wrong_shape), before);
        // Another float dtype converts, and the report says so.
        let mut wider = mlp::<f64>(5, 8);
        let report = load_params(&mut wider, &p).unwrap();
        assert_eq!(report.converted.len(), 4);
        assert_eq!(report.converted[0].from, Dtype::F32);
        assert_eq!(report.converted[0].to, Dtype::F64);
        assert!(report
            .to_string()
            .contains("\"0.weight\" converted F32 → F64"));
        let narrow = state_dict(&mlp::<f32>(1, 8));
        for (n, t) in state_dict(&wider).iter() {
            assert_eq!(
                t.to_float::<f32>().unwrap(),
                narrow.get(n).unwrap().to_float::<f32>().unwrap()
            );
        }
        // Missing and unexpected tensors.
        let mut rng = Rng::new(4);
        let mut bigger = Sequential::<f32>::new()
            .add(Linear::new(4, 8, &mut rng).unwrap())
            .add(Relu)
            .add(Linear::new(8, 2, &mut rng).unwrap())
            .add(Linear::new(2, 2, &mut rng).unwrap());
        let e = load_params(&mut bigger, &p).unwrap_err().to_string();
        assert!(
            e.contains("missing tensor \"3.weight\"") && e.contains("missing tensor \"3.bias\""),
            "{e}"
        );
        let mut smaller = Sequential::<f32>::new().add(Linear::new(4, 8, &mut rng).unwrap());
        let e = load_params(&mut smaller, &p).unwrap_err().to_string();
        assert!(e.contains("unexpected tensor \"2.bias\""), "{e}");
    }

    #[test]
    fn non_strict_loads_what_matches_and_reports_the_rest() {
        let src = mlp::<f32>(1, 8);
        let mut sd = state_dict(&src);
        sd.insert("extra", StoredTensor::from_i64(&[1], &[3]).unwrap());
        sd.remove("2.bias");
        let bf16 = sd.get("0.bias").unwrap().cast(Dtype::BF16).unwrap();
        sd.insert("0.bias", bf16.clone());
        let w2 = StoredTensor::from_float(&Tensor::<f32>::zeros(&[2, 7]));
        sd.insert("2.weight", w2);
        let mut m = mlp::<f32>(9, 8);
        let before = state_dict(&m);
        // Strict: an error listing every difference, the model unchanged.
        let e = load_state_dict(&mut m, &sd, LoadMode::Strict)
            .unwrap_err()
            .to_string();
        for part in [
            "missing tensor \"2.bias\"",
            "unexpected tensor \"extra\"",
            "\"2.weight\": F32 [2, 7]",
        ] {
            assert!(e.contains(part), "{part} in {e}");
        }
        assert_eq!(state_dict(&m), before);
        // Non-strict: loads 0.weight and 0.bias (from BF16), keeps 2.*, reports.
        let r = load_state_dict(&mut m, &sd, LoadMode::NonStrict).unwrap();
        assert_eq!(r.missing, ["2.bias"]);
        assert_eq!(r.unexpected, ["extra"]);
        assert_eq!(r.mismatched.len(), 1);
        assert_eq!(r.mismatched[0].name, "2.weight");
        assert_eq!(r.mismatched[0].expected, "f32 [2, 8]");
        assert_eq!(
            r.converted,
            [Conversion {
                name: "0.bias".into(),
                from: Dtype::BF16,
                to: Dtype::F32
            }]
        );
        let now = state_dict(&m);
        assert_eq!(now.get("0.weight"), state_dict(&src).get("0.weight"));
        assert_eq!(
            now.get("0.bias").unwrap().to_float::<f32>().unwrap(),
            bf16.to_float::<f32>().unwrap()
        );
        assert_eq!(now.get("2.weight"), before.get("2.weight"));
        assert_eq!(now.get("2.bias"), before.get("2.bias"));
    }

    #[test]
    fn truncated_and_missing_files_are_typed_errors() {
        let p = tmp("trunc.safetensors");
        save_params(&mlp::<f32>(1, 8), &p).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        let q = tmp("cut.safetensors");
        std::fs::write(&q, &bytes[..bytes.len() - 10]).unwrap();
        let mut m = mlp::<f32>(1, 8);
        assert!(matches!(
            load_params(&mut m, &q),
            Err(NnError::Parse { .. })
        ));
        std::fs::write(&q, &bytes[..5]).unwrap();
        assert!(matches!(
            load_params(&mut m, &q),
            Err(NnError::Parse { .. })
        ));
        assert!(matches!(
            load_params(&mut m, tmp("absent.safetensors")),
            Err(NnError::Io { .. })
        ));
    }
}

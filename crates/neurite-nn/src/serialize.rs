//! Save and load all parameters of a model in the safetensors format, with PyTorch's names and
//! layouts (`0.weight` [out, in], `0.bias` [out], …), so weights move between neurite and
//! PyTorch (`model.load_state_dict(safetensors.torch.load_file(path))`) both ways.
//!
//! Loading checks every name, shape and dtype and reports all differences at once; nothing is
//! changed unless everything matches. Saving writes a temporary file and renames it, so a
//! crash never leaves a half-written file under the target name.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use neurite_tensor::{Float, Tensor};
use safetensors::{Dtype, SafeTensors};

use crate::error::{NnError, Result};
use crate::module::Module;

fn dtype_of<T: Float>() -> Dtype {
    if std::mem::size_of::<T>() == 4 {
        Dtype::F32
    } else {
        Dtype::F64
    }
}

fn to_le_bytes<T: Float>(t: &Tensor<T>) -> Vec<u8> {
    let v = t.contiguous();
    let s = v.as_slice().expect("contiguous"); // ok: made contiguous above
    let mut out = Vec::with_capacity(std::mem::size_of_val(s));
    for &x in s {
        if std::mem::size_of::<T>() == 4 {
            out.extend_from_slice(&(x.to_f64() as f32).to_le_bytes());
        } else {
            out.extend_from_slice(&x.to_f64().to_le_bytes());
        }
    }
    out
}

fn from_le_bytes<T: Float>(b: &[u8], shape: &[usize]) -> Result<Tensor<T>> {
    let v: Vec<T> = if std::mem::size_of::<T>() == 4 {
        b.chunks_exact(4)
            .map(|c| T::from_f64(f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64))
            .collect()
    } else {
        b.chunks_exact(8)
            .map(|c| {
                T::from_f64(f64::from_le_bytes([
                    c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
                ]))
            })
            .collect()
    };
    Ok(Tensor::from_vec(v, shape)?)
}

/// The model's parameters by name, in visiting order (a PyTorch `state_dict`).
pub fn state_dict<T: Float>(model: &dyn Module<T>) -> Vec<(String, Tensor<T>)> {
    let mut out = Vec::new();
    model.visit_params("", &mut |name, p| {
        out.push((name.to_string(), p.value().clone()))
    });
    out
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

/// Saves every parameter of `model` to `path` in safetensors format (F32 or F64 as the model),
/// atomically.
pub fn save_params<T: Float>(model: &dyn Module<T>, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let params = state_dict(model);
    let mut seen = BTreeMap::new();
    for (n, _) in &params {
        if seen.insert(n.clone(), ()).is_some() {
            return Err(NnError::config(
                "save_params",
                format!("two parameters share the name {n:?}"),
            ));
        }
    }
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = params
        .iter()
        .map(|(n, t)| (n.clone(), to_le_bytes(t), t.shape().to_vec()))
        .collect();
    let views = bytes
        .iter()
        .map(|(n, b, s)| {
            safetensors::tensor::TensorView::new(dtype_of::<T>(), s.clone(), b)
                .map(|v| (n.clone(), v))
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| NnError::config("save_params", e.to_string()))?;
    let out = safetensors::serialize(views, &None)
        .map_err(|e| NnError::config("save_params", e.to_string()))?;
    write_atomic(path, &out)
}

/// Loads every parameter of `model` from the safetensors file at `path`. Every name of the
/// model must be in the file with the same shape and dtype, and the file must hold no other
/// tensor; otherwise [`NnError::ParamMismatch`] lists every difference and the model is left
/// unchanged. A truncated or corrupt file is an [`NnError::Parse`].
pub fn load_params<T: Float>(model: &mut dyn Module<T>, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| NnError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let st = SafeTensors::deserialize(&bytes).map_err(|e| NnError::Parse {
        path: path.to_path_buf(),
        location: "header".into(),
        message: format!("not a valid safetensors file ({} bytes): {e}", bytes.len()),
    })?;
    let in_file: HashMap<String, safetensors::tensor::TensorView<'_>> =
        st.tensors().into_iter().collect();
    let want = dtype_of::<T>();
    let mut problems = Vec::new();
    let mut values: Vec<Tensor<T>> = Vec::new();
    let mut names = Vec::new();
    model.visit_params("", &mut |name, p| {
        names.push(name.to_string());
        match in_file.get(name) {
            None => problems.push(format!(
                "missing tensor {name:?} (model shape {:?})",
                p.shape()
            )),
            Some(v) => {
                let mut ok = true;
                if v.dtype() != want {
                    problems.push(format!(
                        "{name:?}: dtype {:?} in the file, the model needs {want:?}",
                        v.dtype()
                    ));
                    ok = false;
                }
                if v.shape() != p.shape() {
                    problems.push(format!(
                        "{name:?}: shape {:?} in the file, the model needs {:?}",
                        v.shape(),
                        p.shape()
                    ));
                    ok = false;
                }
                if ok {
                    match from_le_bytes::<T>(v.data(), v.shape()) {
                        Ok(t) => values.push(t),
                        Err(e) => problems.push(format!("{name:?}: {e}")),
                    }
                }
            }
        }
    });
    let mut extra: Vec<&String> = in_file.keys().filter(|k| !names.contains(k)).collect();
    extra.sort();
    for k in extra {
        problems.push(format!(
            "unexpected tensor {k:?} (not a parameter of the model)"
        ));
    }
    if !problems.is_empty() {
        return Err(NnError::ParamMismatch {
            path: path.to_path_buf(),
            message: problems.join("; "),
        });
    }
    let mut it = values.into_iter();
    let mut err = None;
    model.visit_params_mut("", &mut |_, p| {
        if let Some(v) = it.next() {
            if let Err(e) = p.set(v) {
                err.get_or_insert(NnError::from(e));
            }
        }
    });
    err.map_or(Ok(()), Err)
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
        let names: Vec<String> = state_dict(&a).into_iter().map(|(n, _)| n).collect();
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
            e.contains("\"0.weight\": shape [8, 4]") && e.contains("\"2.weight\""),
            "{e}"
        );
        assert_eq!(state_dict(&wrong_shape), before);
        let mut wrong_dtype = mlp::<f64>(1, 8);
        let e = load_params(&mut wrong_dtype, &p).unwrap_err().to_string();
        assert!(e.contains("dtype F32") && e.contains("F64"), "{e}");
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

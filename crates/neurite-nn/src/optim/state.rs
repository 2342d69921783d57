//! The optimisers' state export and import, shared by all of them: `lr` (F64 scalar), then for
//! each parameter of the model, by name, an optional step count (`{name}.step`, I64 scalar)
//! and per-parameter buffers (`{name}.{slot}`, the parameter's shape and dtype). Exporting
//! borrows the buffers where the optimiser keeps them (a checkpoint writes them from there);
//! importing checks everything before the optimiser changes anything.

use super::*;

use crate::tensor_file::{StateView, TensorView};

/// (name, id, shape) of every parameter of `model`, in visiting order.
fn params_of<T: Float>(model: &dyn Module<T>) -> Vec<(String, ParamId, Vec<usize>)> {
    let mut out = Vec::new();
    model.visit_params("", &mut |n, p| {
        out.push((n.to_string(), p.id(), p.shape().to_vec()))
    });
    out
}

pub(super) fn state_err(message: String) -> NnError {
    NnError::config("optimizer state", message)
}

/// One parameter's state for export: its step count, if the optimiser keeps one, and its
/// buffers by slot name (only those it holds).
pub(super) struct ParamState<'a, T> {
    pub step: Option<i64>,
    pub buffers: Vec<(&'static str, &'a [T])>,
}

/// The state view of an optimiser with learning rate `lr` whose per-parameter state
/// `state(id)` gives; the buffers are borrowed, not copied. A buffer that no longer fits its
/// parameter's shape is an error.
pub(super) fn export<'a, T: Float>(
    lr: f64,
    model: &dyn Module<T>,
    mut state: impl FnMut(ParamId) -> ParamState<'a, T>,
) -> Result<StateView<'a, T>> {
    let mut sd = StateView::new();
    sd.insert(
        "lr",
        TensorView::stored(StoredTensor::from_float(&Tensor::<f64>::from_vec(
            vec![lr],
            &[],
        )?)),
    );
    for (name, id, shape) in params_of(model) {
        let st = state(id);
        if let Some(step) = st.step {
            sd.insert(
                format!("{name}.step"),
                TensorView::stored(StoredTensor::scalar_i64(step)),
            );
        }
        for (slot, values) in st.buffers {
            let view = TensorView::slice(&shape, values)
                .map_err(|e| state_err(format!("{name}.{slot}: {e}")))?;
            sd.insert(format!("{name}.{slot}"), view);
        }
    }
    Ok(sd)
}

/// What [`import`] read, keyed by parameter id.
pub(super) struct Imported<T> {
    /// The learning rate (positive and finite).
    pub lr: f64,
    /// The step counts (only when asked for).
    pub steps: HashMap<ParamId, i32>,
    /// One map per slot name asked for, in that order.
    pub slots: Vec<HashMap<ParamId, Vec<T>>>,
}

/// Reads the state [`export`] wrote for the parameters of `model`: the buffers of each slot in
/// `slots` (each optional per parameter) and, when `with_step`, a step count that must come
/// with every slot of its parameter or none. A missing `lr`, an unexpected entry (another
/// optimiser's state, a parameter the model lacks), a shape or dtype that does not fit, is an
/// error naming it. Everything is checked before the buffers are moved out of `sd`.
pub(super) fn import<T: Float>(
    model: &dyn Module<T>,
    sd: StateDict,
    slots: &[&str],
    with_step: bool,
) -> Result<Imported<T>> {
    let params = params_of(model);
    let mut used = vec!["lr".to_string()];
    let mut out = Imported {
        lr: 0.0,
        steps: HashMap::new(),
        slots: slots.iter().map(|_| HashMap::new()).collect(),
    };
    // (slot index, parameter id, key) of every buffer to move in.
    let mut take = Vec::new();
    for (name, id, shape) in &params {
        let mut present = 0;
        for (k, slot) in slots.iter().enumerate() {
            let key = format!("{name}.{slot}");
            let Some(t) = sd.get(&key) else { continue };
            if t.dtype() != Dtype::of::<T>() || t.shape() != shape.as_slice() {
                return Err(state_err(format!(
                    "{key:?} is {} {:?}, the parameter needs {} {shape:?}",
                    t.dtype(),
                    t.shape(),
                    T::NAME
                )));
            }
            take.push((k, *id, key.clone()));
            used.push(key);
            present += 1;
        }
        if with_step {
            let key = format!("{name}.step");
            match sd.get(&key) {
                None if present == 0 => {}
                Some(s) if present == slots.len() => {
                    let step = s
                        .to_i64()
                        .ok()
                        .filter(|v| v.len() == 1)
                        .and_then(|v| i32::try_from(v[0]).ok())
                        .filter(|&v| v >= 0)
                        .ok_or_else(|| {
                            state_err(format!("{key:?} is not a step count (I64 scalar)"))
                        })?;
                    out.steps.insert(*id, step);
                    used.push(key);
                }
                _ => {
                    return Err(state_err(format!(
                        "{name:?}: step, {} must come together",
                        slots.join(" and ")
                    )))
                }
            }
        }
    }
    let lr = sd
        .require("lr")
        .and_then(|t| t.to_float::<f64>())
        .map_err(|e| state_err(format!("lr: {e}")))?;
    out.lr = lr.to_vec().first().copied().unwrap_or(f64::NAN);
    check_lr("optimizer state", out.lr)?;
    if let Some(extra) = sd.names().find(|n| !used.iter().any(|u| u == n)) {
        return Err(state_err(format!(
            "unexpected entry {extra:?} (no parameter of the model, or another optimiser's state)"
        )));
    }
    let mut stored = sd.into_map();
    for (k, id, key) in take {
        let t = stored
            .remove(&key)
            .ok_or(NnError::MissingTensor { name: key })?;
        if let Some(map) = out.slots.get_mut(k) {
            map.insert(id, t.into_float_vec::<T>()?);
        }
    }
    Ok(out)
}

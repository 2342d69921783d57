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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Linear, Sequential};
    use neurite_autograd::Graph;
    use neurite_tensor::Rng;

    fn model() -> Sequential<f64> {
        let mut rng = Rng::new(1);
        Sequential::new()
            .add(Linear::new(3, 4, &mut rng).unwrap())
            .add(Linear::new(4, 2, &mut rng).unwrap())
    }

    fn step(opt: &mut dyn Optimizer<f64>, m: &mut Sequential<f64>) {
        let g = Graph::new();
        let x = Tensor::from_vec(vec![0.5, -1.0, 2.0], &[1, 3]).unwrap();
        let y = m.forward(&g, g.constant(x)).unwrap();
        let grads = y.square().unwrap().sum().unwrap().backward().unwrap();
        opt.step(m, &grads).unwrap();
    }

    #[test]
    fn every_optimisers_state_round_trips_and_continues_alike() {
        type Make = fn() -> Box<dyn Optimizer<f64>>;
        let makes: [(&str, Make, &[&str]); 4] = [
            (
                "sgd",
                || Box::new(Sgd::with_options(0.1, 0.9, false, 0.0).unwrap()),
                &["momentum_buffer"],
            ),
            (
                "adam",
                || Box::new(Adam::new(0.1).unwrap()),
                &["step", "exp_avg", "exp_avg_sq"],
            ),
            (
                "rmsprop",
                || Box::new(RmsProp::with_options(0.1, 0.9, 1e-8, 0.5, 0.0).unwrap()),
                &["square_avg", "momentum_buffer"],
            ),
            ("adagrad", || Box::new(Adagrad::new(0.1).unwrap()), &["sum"]),
        ];
        for (name, make, slots) in makes {
            let mut m = model();
            let mut a = make();
            step(a.as_mut(), &mut m);
            let sd = a.state_dict(&m).unwrap();
            // lr, and each slot for each of the four parameters.
            assert_eq!(sd.len(), 1 + 4 * slots.len(), "{name}");
            for slot in slots {
                assert!(sd.contains(&format!("1.weight.{slot}")), "{name} {slot}");
            }
            // A fresh model (other parameter ids) with the same values, and a fresh optimiser
            // restored for it by name.
            let mut m2 = model();
            crate::load_state_dict(&mut m2, &crate::state_dict(&m), crate::LoadMode::Strict)
                .unwrap();
            let mut b = make();
            b.set_learning_rate(0.5);
            b.load_state_dict(&m2, &sd).unwrap();
            assert_eq!(b.learning_rate(), 0.1, "{name}");
            assert_eq!(b.state_dict(&m2).unwrap(), sd, "{name}");
            step(a.as_mut(), &mut m);
            step(b.as_mut(), &mut m2);
            assert_eq!(
                crate::state_dict(&m),
                crate::state_dict(&m2),
                "{name}: the restored optimiser continues as the original"
            );
        }
    }

    #[test]
    fn bad_state_is_an_error_naming_it_and_changes_nothing() {
        let mut m = model();
        let mut adam = Adam::<f64>::new(0.1).unwrap();
        step(&mut adam, &mut m);
        let good = adam.state_dict(&m).unwrap();
        type Edit = Box<dyn Fn(&mut StateDict)>;
        let cases: Vec<(Edit, &str)> = vec![
            (
                Box::new(|sd| drop(sd.remove("0.bias.step"))),
                "step, exp_avg and exp_avg_sq must come together",
            ),
            (
                Box::new(|sd| drop(sd.remove("0.bias.exp_avg"))),
                "must come together",
            ),
            (
                Box::new(|sd| {
                    sd.insert(
                        "0.bias.exp_avg",
                        StoredTensor::from_slice(&[3], &[0.0f64; 3]).unwrap(),
                    );
                }),
                "\"0.bias.exp_avg\" is F64 [3], the parameter needs f64 [4]",
            ),
            (
                Box::new(|sd| {
                    sd.insert(
                        "0.bias.exp_avg",
                        StoredTensor::from_slice(&[4], &[0.0f32; 4]).unwrap(),
                    );
                }),
                "is F32 [4], the parameter needs f64 [4]",
            ),
            (
                Box::new(|sd| {
                    sd.insert("0.bias.step", StoredTensor::scalar_i64(-1));
                }),
                "\"0.bias.step\" is not a step count",
            ),
            (Box::new(|sd| drop(sd.remove("lr"))), "lr"),
            (
                Box::new(|sd| {
                    sd.insert("9.weight.exp_avg", StoredTensor::scalar_i64(0));
                }),
                "unexpected entry \"9.weight.exp_avg\"",
            ),
        ];
        for (edit, want) in cases {
            let mut sd = good.clone();
            edit(&mut sd);
            let mut fresh = Adam::<f64>::new(0.3).unwrap();
            let e = fresh.load_state_dict(&m, &sd).unwrap_err().to_string();
            assert!(e.contains(want), "{want} in {e}");
            assert_eq!(fresh.learning_rate(), 0.3);
            assert_eq!(fresh.state_dict(&m).unwrap().len(), 1, "no moments taken");
        }
        // SGD's state for parameters the optimiser never stepped: only lr.
        let sgd = Sgd::<f64>::with_options(0.1, 0.9, false, 0.0).unwrap();
        assert_eq!(
            sgd.state_dict(&m).unwrap().names().collect::<Vec<_>>(),
            ["lr"]
        );
    }
}

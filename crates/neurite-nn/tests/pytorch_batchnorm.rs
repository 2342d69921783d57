//! BatchNorm1d / BatchNorm2d against PyTorch in f64: outputs, input gradients and the weight and
//! bias gradients in training (batch statistics) and evaluation (running estimates), and the
//! buffers — loaded by name from PyTorch's `state_dict` — after two training steps. The fixture
//! comes from `tests/data/make_batchnorm_fixture.py` (torch 2.15.0, CPU).

use std::path::PathBuf;

use neurite_autograd::Graph;
use neurite_nn::{
    load_state_dict, state_dict, BatchNorm1d, BatchNorm2d, LoadMode, Module, StateDict,
};
use neurite_tensor::Tensor;

fn fixture() -> StateDict {
    StateDict::load(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/batchnorm.safetensors"),
    )
    .unwrap()
}

fn t(sd: &StateDict, name: &str) -> Tensor<f64> {
    sd.require(name).unwrap().to_float().unwrap()
}

fn close(got: &Tensor<f64>, want: &Tensor<f64>, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}");
    let d = got
        .to_vec()
        .iter()
        .zip(want.to_vec())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(d < 1e-12, "{what}: differs from PyTorch by {d}");
}

fn check(name: &str, mut layer: Box<dyn Module<f64>>) {
    let fx = fixture();
    let mut init = state_dict(layer.as_ref());
    for p in ["weight", "bias"] {
        init.insert(p, fx.require(&format!("{name}.init.{p}")).unwrap().clone());
    }
    load_state_dict(layer.as_mut(), &init, LoadMode::Strict).unwrap();
    let r = t(&fx, &format!("{name}.r"));
    let run = |layer: &dyn Module<f64>, x: Tensor<f64>, tag: &str| {
        let g = Graph::new();
        let xv = g.variable(x);
        let y = layer.forward(&g, xv).unwrap();
        close(
            &y.value().unwrap(),
            &t(&fx, &format!("{name}.{tag}.y")),
            &format!("{name} {tag} y"),
        );
        let loss = y.mul(g.constant(r.clone())).unwrap().sum().unwrap();
        let grads = loss.backward().unwrap();
        close(
            grads.get(xv).unwrap(),
            &t(&fx, &format!("{name}.{tag}.dx")),
            &format!("{name} {tag} dx"),
        );
        let mut k = 0;
        layer.visit_params("", &mut |p, param| {
            let want = t(&fx, &format!("{name}.{tag}.d{p}"));
            close(
                grads.wrt(param).unwrap(),
                &want,
                &format!("{name} {tag} d{p}"),
            );
            k += 1;
        });
        assert_eq!(k, 2);
    };
    run(layer.as_ref(), t(&fx, &format!("{name}.x1")), "train");
    let g = Graph::new();
    layer
        .forward(&g, g.constant(t(&fx, &format!("{name}.x2"))))
        .unwrap();
    // The buffers (and parameters) after two steps, PyTorch's state_dict by name.
    let after = fx.sub(&format!("{name}.after"));
    let mine = state_dict(layer.as_ref());
    assert_eq!(
        mine.names().collect::<Vec<_>>(),
        [
            "weight",
            "bias",
            "running_mean",
            "running_var",
            "num_batches_tracked"
        ]
    );
    for (n, want) in after.iter() {
        let got = mine.require(n).unwrap();
        assert_eq!(got.dtype(), want.dtype(), "{name}.{n}");
        if n == "num_batches_tracked" {
            assert_eq!(got.to_i64().unwrap(), want.to_i64().unwrap());
        } else {
            close(
                &got.to_float().unwrap(),
                &want.to_float().unwrap(),
                &format!("{name}.{n}"),
            );
        }
    }
    // Evaluation with the running estimates.
    layer.set_training(false);
    run(layer.as_ref(), t(&fx, &format!("{name}.x1")), "eval");
}

#[test]
fn batchnorm_agrees_with_pytorch_in_training_and_evaluation() {
    check("bn2d", Box::new(BatchNorm2d::<f64>::new(4).unwrap()));
    check("bn1d3", Box::new(BatchNorm1d::<f64>::new(5).unwrap()));
    check("bn1d2", Box::new(BatchNorm1d::<f64>::new(5).unwrap()));
}

#[test]
fn a_pytorch_state_dict_loads_as_is() {
    let fx = fixture();
    let sd = fx.sub("bn2d.after");
    let mut bn = BatchNorm2d::<f32>::new(4).unwrap();
    let report = load_state_dict(&mut bn, &sd, LoadMode::Strict).unwrap();
    // F64 tensors into an f32 layer convert; the I64 counter loads as a counter.
    assert_eq!(report.converted.len(), 4);
    assert_eq!(bn.num_batches_tracked(), Some(2));
}

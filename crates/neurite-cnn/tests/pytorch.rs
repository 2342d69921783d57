//! Training against PyTorch: a small CNN (conv → ReLU → max-pool, twice, → flatten → linear)
//! starts from PyTorch's initial weights (safetensors, state_dict names), takes the same 12
//! mini-batches with Adam, and must give PyTorch's loss at every step and its parameters at the
//! end, to float precision. This checks the forward pass, every hand-written backward rule,
//! the cross-entropy and the optimiser together — the fixture comes from
//! `tests/data/make_fixtures.py` (torch 2.15.0, CPU).

use std::collections::HashMap;
use std::path::PathBuf;

use neurite_autograd::Graph;
use neurite_cnn::{Conv2d, ConvConfig, Flatten, MaxPool2d};
use neurite_nn::{
    cross_entropy, load_params, Adam, Linear, Module, Optimizer, Relu, Sequential, StateDict,
};
use neurite_tensor::{Rng, Tensor};

fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Every tensor of a fixture file, as f32, through neurite-nn's public safetensors reader.
fn read(name: &str) -> HashMap<String, Tensor<f32>> {
    let sd = StateDict::load(data_path(name)).unwrap();
    sd.iter()
        .map(|(n, t)| (n.to_string(), t.to_float().unwrap()))
        .collect()
}

fn network() -> Sequential<f32> {
    let mut rng = Rng::new(7); // overwritten by PyTorch's weights
    let conv = |i, o, rng: &mut Rng| {
        Conv2d::new(ConvConfig::new(i, o, [3, 3]).with_padding([1, 1]), rng).unwrap()
    };
    Sequential::new()
        .add(conv(1, 4, &mut rng))
        .add(Relu)
        .add(MaxPool2d::new([2, 2]))
        .add(conv(4, 6, &mut rng))
        .add(Relu)
        .add(MaxPool2d::new([2, 2]))
        .add(Flatten::default())
        .add(Linear::new(24, 10, &mut rng).unwrap())
}

#[test]
fn adam_training_follows_pytorch_step_by_step() {
    let mut model = network();
    load_params(&mut model, data_path("train_init.safetensors")).unwrap();
    let io = read("train_io.safetensors");
    let (x, labels, losses) = (&io["x"], &io["labels"], io["losses"].to_vec());
    let steps = losses.len();
    let mut opt = Adam::new(1e-2).unwrap();
    for (s, &want) in losses.iter().enumerate() {
        let g = Graph::new();
        let xb = x.narrow(0, s, 1).unwrap();
        let xb = xb.reshape(&xb.shape()[1..]).unwrap();
        let yb: Vec<usize> = labels
            .narrow(0, s, 1)
            .unwrap()
            .to_vec()
            .iter()
            .map(|&v| v as usize)
            .collect();
        let logits = model.forward(&g, g.constant(xb)).unwrap();
        let loss = cross_entropy(logits, &yb).unwrap();
        let got = loss.item().unwrap();
        assert!(
            (got - want).abs() <= 2e-6 * want.abs().max(1.0),
            "step {s}: neurite loss {got}, PyTorch {want}"
        );
        let grads = loss.backward().unwrap();
        opt.step(&mut model, &grads).unwrap();
    }
    let mut checked = 0;
    model.visit_params("", &mut |name, p| {
        let want = &io[&format!("final.{name}")];
        let got = p.value();
        assert_eq!(got.shape(), want.shape(), "{name}");
        for (a, b) in got.to_vec().iter().zip(want.to_vec()) {
            assert!(
                (a - b).abs() <= 2e-5,
                "{name} after {steps} steps: {a} vs {b}"
            );
        }
        checked += 1;
    });
    assert_eq!(checked, 6);
}

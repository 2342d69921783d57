//! Training against PyTorch: a small CNN (conv → ReLU → max-pool, twice, → flatten → linear)
//! starts from PyTorch's initial weights (safetensors, state_dict names), takes the same 12
//! mini-batches with Adam, and must give PyTorch's loss at every step and its parameters at the
//! end, to float precision. This checks the forward pass, every hand-written backward rule,
//! the cross-entropy and the optimiser together. Max and average pooling with every option
//! (stride, padding, dilation, ceil mode, counted padding) give PyTorch's outputs, indices and
//! gradients, and PyTorch's output sizes on random configurations. The fixtures come from
//! `tests/data/make_fixtures.py` (torch 2.15.0, CPU).

use std::collections::HashMap;
use std::path::PathBuf;

use neurite_autograd::Graph;
use neurite_cnn::{
    AvgPool1d, AvgPool2d, Conv2d, ConvConfig, Flatten, MaxPool1d, MaxPool2d, PadCount, PoolConfig,
};
use neurite_nn::{
    cross_entropy, load_params, Adam, Linear, Module, Optimizer, Relu, Sequential, StateDict,
};
use neurite_tensor::conv::Window2d;
use neurite_tensor::pool::max_pool2d;
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

/// PyTorch's max and average pooling (`pooling.safetensors`): values, input gradients and, for
/// max, the indices, on 1-D and 2-D cases with stride, padding, dilation, `ceil_mode` and
/// `count_include_pad`.
#[test]
fn pooling_agrees_with_pytorch() {
    let sd = StateDict::load(data_path("pooling.safetensors")).unwrap();
    let f64s = |name: &str| sd.require(name).unwrap().to_float::<f64>().unwrap();
    let mut cases = 0;
    while let Some(cfg) = sd.get(&format!("case{cases}.config")) {
        let c: Vec<usize> = cfg.to_usize().unwrap();
        let at = |n: &str| format!("case{cases}.{n}");
        let (x, y_want, dy, dx_want) = (
            f64s(&at("x")),
            f64s(&at("y")),
            f64s(&at("dy")),
            f64s(&at("dx")),
        );
        let [dims, is_max, kh, kw, sh, sw, ph, pw, dh, dw, ceil, include] = c[..] else {
            panic!("case {cases}: config {c:?}");
        };
        let pad = if include == 1 {
            PadCount::Include
        } else {
            PadCount::Exclude
        };
        let g = Graph::<f64>::new();
        let xv = g.variable(x.clone());
        let y = if dims == 1 {
            let pc = PoolConfig::new([kw])
                .with_stride([sw])
                .with_padding([pw])
                .with_dilation([dw]);
            let pc = pc.with_ceil_mode(ceil == 1);
            if is_max == 1 {
                MaxPool1d::with_config(pc).try_forward(xv)
            } else {
                AvgPool1d::with_config(pc)
                    .with_pad_count(pad)
                    .try_forward(xv)
            }
        } else {
            let pc = PoolConfig::new([kh, kw])
                .with_stride([sh, sw])
                .with_padding([ph, pw])
                .with_dilation([dh, dw])
                .with_ceil_mode(ceil == 1);
            if is_max == 1 {
                MaxPool2d::with_config(pc).try_forward(xv)
            } else {
                AvgPool2d::with_config(pc)
                    .with_pad_count(pad)
                    .try_forward(xv)
            }
        }
        .unwrap_or_else(|e| panic!("case {cases} {c:?}: {e}"));
        let close = |what: &str, got: &Tensor<f64>, want: &Tensor<f64>| {
            assert_eq!(
                got.shape(),
                want.shape(),
                "case {cases} {c:?}: {what} shape"
            );
            for (a, b) in got.to_vec().iter().zip(want.to_vec()) {
                assert!(
                    (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                    "case {cases} {c:?}: {what} {a} vs {b}"
                );
            }
        };
        close("output", &y.value().unwrap(), &y_want);
        let grads = y
            .mul(g.constant(dy))
            .unwrap()
            .sum()
            .unwrap()
            .backward()
            .unwrap();
        close("input gradient", grads.get(xv).unwrap(), &dx_want);
        if is_max == 1 {
            // The kernel's argmax: PyTorch's indices (flat in the input plane).
            let win = Window2d::new([kh, kw])
                .with_stride([sh, sw])
                .with_padding([ph, pw])
                .with_dilation([dh, dw])
                .with_ceil_mode(ceil == 1);
            let s = x.shape();
            let x4 = x
                .reshape(&[s[0], s[1], if dims == 1 { 1 } else { s[2] }, s[s.len() - 1]])
                .unwrap();
            let got = max_pool2d(&x4, &win).unwrap().argmax;
            let want = sd.require(&at("indices")).unwrap().to_usize().unwrap();
            assert_eq!(got, want, "case {cases} {c:?}: indices");
        }
        cases += 1;
    }
    assert_eq!(cases, 14);

    // Output sizes on 600 random 1-D configurations: PyTorch's size where it accepts the
    // configuration, a typed error where it refuses it.
    let sizes = sd.require("sizes").unwrap().to_i64().unwrap();
    let (mut accepted, mut wholly_padding) = (0, 0);
    for row in sizes.chunks(8) {
        let [n, k, s, p, d, ceil, is_max, want] = row.try_into().unwrap();
        let [n, k, s, p, d] = [n, k, s, p, d].map(|v| v as usize);
        let pc = PoolConfig::new([k])
            .with_stride([s])
            .with_padding([p])
            .with_dilation([d]);
        let pc = pc.with_ceil_mode(ceil == 1);
        let got = pc.output_size([n]);
        match (&got, want) {
            (Ok([o]), w) if w >= 0 => assert_eq!(*o as i64, w, "{row:?}"),
            (Err(_), -1) => {}
            _ => panic!("{row:?}: neurite {got:?}, PyTorch {want}"),
        }
        // The layers give that size too, except where a dilated window falls wholly in the
        // padding: PyTorch returns −∞ there (with an index outside the input), neurite a
        // typed error.
        let g = Graph::<f64>::new();
        let x = g.constant(Tensor::zeros(&[1, 1, n]));
        let y = if is_max == 1 {
            MaxPool1d::with_config(pc).try_forward(x)
        } else {
            AvgPool1d::with_config(pc).try_forward(x)
        };
        match (y, want) {
            (Ok(y), w) => assert_eq!(y.shape(), [1, 1, w as usize], "{row:?}"),
            (Err(e), -1) => assert!(!e.to_string().is_empty()),
            (Err(e), _) => {
                assert!(
                    e.to_string().contains("wholly in the padding"),
                    "{row:?}: {e}"
                );
                wholly_padding += 1;
            }
        }
        accepted += usize::from(want >= 0);
    }
    assert_eq!(sizes.len(), 600 * 8);
    assert!(
        accepted > 200 && wholly_padding < 20,
        "{accepted} accepted, {wholly_padding} wholly in padding"
    );
}

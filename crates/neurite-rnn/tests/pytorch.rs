//! neurite-rnn against PyTorch: weights written by PyTorch (`state_dict` of a 2-layer
//! bidirectional nn.LSTM / nn.GRU / nn.RNN, safetensors) load by name, and the outputs and
//! final states on a variable-length batch (packed sequences in PyTorch) agree to float
//! precision. The fixtures were generated once by `tests/data/make_fixtures.py` (torch 2.15.0)
//! and are vendored; no Python runs here.

use std::path::PathBuf;

use neurite_autograd::Graph;
use neurite_nn::{load_params, state_dict, StateDict};
use neurite_rnn::{CellKind, CellParams, Nonlinearity, Recurrent, RecurrentConfig, RecurrentState};
use neurite_tensor::Tensor;

fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Every tensor of a fixture file, as f32, through neurite-nn's public safetensors reader.
fn read_io(name: &str) -> Vec<(String, Tensor<f32>)> {
    let sd = StateDict::load(data_path(name)).unwrap();
    sd.iter()
        .map(|(n, t)| (n.to_string(), t.to_float().unwrap()))
        .collect()
}

fn get<'a>(io: &'a [(String, Tensor<f32>)], name: &str) -> &'a Tensor<f32> {
    &io.iter().find(|(n, _)| n == name).unwrap().1
}

fn max_diff(a: &Tensor<f32>, b: &Tensor<f32>) -> f32 {
    assert_eq!(a.shape(), b.shape());
    a.to_vec()
        .iter()
        .zip(b.to_vec())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn pytorch_weights_load_and_outputs_agree() {
    for (file, kind) in [
        ("lstm", CellKind::Lstm),
        ("gru", CellKind::Gru),
        ("rnn_tanh", CellKind::Rnn(Nonlinearity::Tanh)),
        ("rnn_relu", CellKind::Rnn(Nonlinearity::Relu)),
    ] {
        let config = RecurrentConfig {
            input_size: 5,
            hidden_size: 4,
            num_layers: 2,
            bidirectional: true,
            nonlinearity: if let CellKind::Rnn(nl) = kind {
                nl
            } else {
                Nonlinearity::Tanh
            },
            ..Default::default()
        };
        let mut layer =
            Recurrent::<f32>::new(kind, &config, &mut neurite_tensor::Rng::new(0)).unwrap();
        load_params(&mut layer, data_path(&format!("{file}.safetensors"))).unwrap();
        // The same layer built straight from the file's tensors, without an Rng.
        let sd = StateDict::load(data_path(&format!("{file}.safetensors"))).unwrap();
        let cells = (0..4)
            .map(|i| {
                let sfx = format!("_l{}{}", i / 2, if i % 2 == 1 { "_reverse" } else { "" });
                let t = |n: &str| {
                    sd.require(&format!("{n}{sfx}"))
                        .unwrap()
                        .to_float()
                        .unwrap()
                };
                CellParams::from_tensors(t("weight_ih"), t("weight_hh"), t("bias_ih"), t("bias_hh"))
            })
            .collect::<Vec<_>>();
        let direct = Recurrent::<f32>::from_params(kind, &config, cells.clone()).unwrap();
        assert_eq!(state_dict(&direct), state_dict(&layer), "{file}");
        let mut short = cells.clone();
        short.pop();
        assert!(Recurrent::<f32>::from_params(kind, &config, short).is_err());
        let mut bad = cells;
        bad[2].bias_hh = neurite_autograd::Parameter::new(Tensor::zeros(&[3]));
        let e = Recurrent::<f32>::from_params(kind, &config, bad)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("layer 1") && e.contains("bias_hh"), "{e}");
        let io = read_io(&format!("{file}_io.safetensors"));
        let lengths: Vec<usize> = get(&io, "lengths")
            .to_vec()
            .iter()
            .map(|&l| l as usize)
            .collect();
        let g = Graph::inference();
        let state = RecurrentState {
            h: g.constant(get(&io, "h0").clone()),
            c: (kind == CellKind::Lstm).then(|| g.constant(get(&io, "c0").clone())),
        };
        let out = layer
            .forward_seq(
                &g,
                g.constant(get(&io, "x").clone()),
                Some(&lengths),
                Some(&state),
            )
            .unwrap();
        let d = max_diff(&out.output.value().unwrap(), get(&io, "output"));
        assert!(d < 2e-6, "{file}: outputs differ from PyTorch by {d}");
        let d = max_diff(&out.state.h.value().unwrap(), get(&io, "h_n"));
        assert!(d < 2e-6, "{file}: h_n differs from PyTorch by {d}");
        if let Some(c) = out.state.c {
            let d = max_diff(&c.value().unwrap(), get(&io, "c_n"));
            assert!(d < 2e-6, "{file}: c_n differs from PyTorch by {d}");
        }
    }
}

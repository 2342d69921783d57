//! Tests of the convolution layers.

use super::*;

/// Forward, dx, dW and db of a convolution: the same bits at every SIMD level this CPU has.
#[test]
fn every_simd_level_gives_the_same_bits() {
    use neurite_tensor::simd::{self, Level};
    let mut rng = Rng::new(5);
    let conv =
        Conv2d::<f32>::new(ConvConfig::new(3, 5, [3, 3]).with_padding([1, 1]), &mut rng).unwrap();
    let x = Tensor::<f32>::rand_normal(&[4, 3, 11, 9], 0.0, 1.0, &mut rng);
    let run = |level: Level| {
        let _simd = simd::force_level(level);
        let g = Graph::new();
        let xv = g.variable(x.clone());
        let y = conv.forward(&g, xv).unwrap();
        let mut bits: Vec<u32> = y
            .value()
            .unwrap()
            .to_vec()
            .iter()
            .map(|v| v.to_bits())
            .collect();
        let loss = y.mul(y).unwrap().sum().unwrap();
        let grads = loss.backward().unwrap();
        for t in [
            grads.get(xv).unwrap(),
            grads.wrt(&conv.weight).unwrap(),
            grads.wrt(conv.bias.as_ref().unwrap()).unwrap(),
        ] {
            bits.extend(t.to_vec().iter().map(|v| v.to_bits()));
        }
        bits
    };
    let want = run(Level::Portable);
    for level in Level::available() {
        assert!(run(level) == want, "{level}");
    }
}

#[test]
fn shapes_and_same_padding() {
    let c = ConvConfig::new(3, 8, [3, 3]).with_padding([1, 1]);
    assert_eq!(c.output_shape(&[2, 3, 28, 28]).unwrap(), [2, 8, 28, 28]);
    let c = ConvConfig::new(3, 8, [4, 4]).same().with_dilation([2, 1]);
    assert_eq!(c.output_shape(&[2, 3, 9, 10]).unwrap(), [2, 8, 9, 10]);
    let c = ConvConfig::new(4, 6, [5]).with_stride([2]);
    assert_eq!(c.output_shape(&[1, 4, 11]).unwrap(), [1, 6, 4]);
}

#[test]
fn layers_and_outputs_beyond_memory_are_typed_errors() {
    let mut rng = Rng::new(1);
    // 100k channels in and out, 3×3: 9·10^10 weights, an allocation abort before.
    let e = Conv2d::<f32>::new(ConvConfig::new(100_000, 100_000, [3, 3]), &mut rng)
        .err()
        .unwrap();
    assert!(
        matches!(
            e,
            CnnError::Tensor(neurite_tensor::TensorError::OutOfMemory { .. })
        ),
        "{e}"
    );
    // Padding 10^6 on a 5×5 input: an output of (2·10^6 + 3)² per channel.
    let conv = Conv2d::<f32>::new(
        ConvConfig::new(1, 2, [3, 3]).with_padding([1_000_000, 1_000_000]),
        &mut rng,
    )
    .unwrap();
    let graph = Graph::new();
    let x = graph.constant(Tensor::zeros(&[1, 1, 5, 5]));
    let e = conv.forward(&graph, x).err().unwrap();
    assert!(e.to_string().contains("out of memory"), "{e}");
}

#[test]
fn overflowing_or_unsupported_configs_are_typed_errors() {
    let mut rng = Rng::new(1);
    for bad in [
        // dilation·(kernel − 1) + 1 overflows (a debug-build panic before).
        ConvConfig::new(1, 1, [3]).with_dilation([usize::MAX]),
        ConvConfig::new(1, 1, [usize::MAX]).with_dilation([2]),
        // A weight of more elements than memory.
        ConvConfig::new(1, 1 << 40, [1 << 40]),
    ] {
        let e = Conv1d::<f32>::new(bad, &mut rng).err().unwrap();
        assert!(matches!(e, CnnError::InvalidConfig { .. }), "{e}");
        assert!(bad.output_shape(&[1, 1, 4]).is_err());
    }
    let same = ConvConfig::new(1, 1, [3])
        .same()
        .with_dilation([usize::MAX]);
    assert!(same.output_shape(&[1, 1, 4]).is_err());
    // Padding that overflows the padded size: a typed error from the geometry check.
    let pad = ConvConfig::new(1, 1, [3]).with_padding([usize::MAX]);
    let conv = Conv1d::<f32>::new(pad, &mut rng).unwrap();
    let graph = Graph::new();
    let x = graph.constant(Tensor::zeros(&[1, 1, 4]));
    assert!(conv.try_forward(&graph, x).is_err());
    assert!(conv.apply(&Tensor::zeros(&[1, 1, 4])).is_err());
    // Three spatial axes: the kernels exist for 1-D and 2-D only.
    let e = Conv::<f32, 3>::new(ConvConfig::new(1, 1, [1, 1, 1]), &mut rng)
        .err()
        .unwrap();
    assert!(e.to_string().contains("1-D and 2-D"), "{e}");
}

#[test]
fn bad_input_and_configs_are_typed_errors_naming_layer_and_shapes() {
    let mut rng = Rng::new(1);
    let conv = Conv2d::<f32>::new(ConvConfig::new(3, 8, [3, 3]), &mut rng).unwrap();
    let graph = Graph::new();
    let x = graph.constant(Tensor::zeros(&[2, 4, 8, 8]));
    let e = conv.try_forward(&graph, x).unwrap_err();
    assert!(matches!(
        e,
        CnnError::ChannelMismatch {
            expected: 3,
            got: 4,
            ..
        }
    ));
    let msg = e.to_string();
    assert!(
        msg.contains("Conv2d(3 → 8")
            && msg.contains("[2, 4, 8, 8]")
            && msg.contains("[8, 3, 3, 3]"),
        "{msg}"
    );
    let x = graph.constant(Tensor::zeros(&[2, 3, 2, 8]));
    let msg = conv.try_forward(&graph, x).unwrap_err().to_string();
    assert!(
        msg.contains("larger than the padded input") && msg.contains("[2, 3, 2, 8]"),
        "{msg}"
    );
    let x = graph.constant(Tensor::zeros(&[3, 8, 8]));
    assert!(matches!(
        conv.try_forward(&graph, x),
        Err(CnnError::BadRank { .. })
    ));
    // Through the Module trait: neurite-nn's BadInput, with the same facts.
    let x = graph.constant(Tensor::zeros(&[2, 4, 8, 8]));
    let msg = Module::forward(&conv, &graph, x).unwrap_err().to_string();
    assert!(
        msg.contains("Conv2d(3 → 8") && msg.contains("[2, 4, 8, 8]"),
        "{msg}"
    );
    for bad in [
        ConvConfig::new(3, 8, [3, 3]).with_stride([0, 1]),
        ConvConfig::new(3, 8, [3, 3]).with_groups(2),
        ConvConfig::new(3, 8, [0, 3]),
        ConvConfig::new(4, 8, [3, 3]).same().with_stride([2, 2]),
        ConvConfig::new(4, 8, [3, 3]).with_dilation([1, 0]),
        ConvConfig::new(0, 8, [3, 3]),
    ] {
        assert!(matches!(
            Conv2d::<f32>::new(bad, &mut rng),
            Err(CnnError::InvalidConfig { .. })
        ));
    }
    let e =
        Conv1d::<f32>::from_tensors(ConvConfig::new(2, 3, [3]), Tensor::zeros(&[3, 2, 2]), None);
    assert!(matches!(
        e,
        Err(CnnError::ParamShape { what: "weight", .. })
    ));
}

#[test]
fn init_is_pytorch_default_and_seeded() {
    let c = ConvConfig::new(4, 6, [3, 3]).with_groups(2);
    let a = Conv2d::<f64>::new(c, &mut Rng::new(5)).unwrap();
    let b = Conv2d::<f64>::new(c, &mut Rng::new(5)).unwrap();
    assert_eq!(a.weight.value().to_vec(), b.weight.value().to_vec());
    assert_eq!(a.weight.shape(), [6, 2, 3, 3]);
    let bound = 1.0 / (18.0f64).sqrt();
    assert!(a.weight.value().to_vec().iter().all(|v| v.abs() <= bound));
    assert!(a
        .bias
        .as_ref()
        .unwrap()
        .value()
        .to_vec()
        .iter()
        .all(|v| v.abs() <= bound));
    let names: Vec<String> = {
        let mut v = Vec::new();
        a.visit_params("c", &mut |n, _| v.push(n.to_string()));
        v
    };
    assert_eq!(names, ["c.weight", "c.bias"]);
}

/// The f32 path (its own GEMM kernels) gives the f64 results to f32 precision, forward and
/// backward, on a W3-like layer with a multi-sample batch.
#[test]
fn f32_matches_f64() {
    let mut rng = Rng::new(9);
    let cfg = ConvConfig::new(3, 8, [3, 3])
        .with_padding([1, 1])
        .with_groups(1);
    let x = Tensor::<f64>::rand_normal(&[5, 3, 9, 7], 0.0, 1.0, &mut rng);
    let w = Tensor::<f64>::rand_normal(&cfg.weight_shape(), 0.0, 1.0, &mut rng);
    let b = Tensor::<f64>::rand_normal(&[8], 0.0, 1.0, &mut rng);
    let r = Tensor::<f64>::rand_normal(
        &cfg.output_shape(&[5, 3, 9, 7]).unwrap(),
        0.0,
        1.0,
        &mut rng,
    );
    fn run<T: Float>(
        cfg: &ConvConfig<2>,
        x: Tensor<T>,
        w: Tensor<T>,
        b: Tensor<T>,
        r: Tensor<T>,
    ) -> Vec<Vec<f64>> {
        let g = Graph::new();
        let (xv, wv, bv) = (g.variable(x), g.variable(w), g.variable(b));
        let y = conv(xv, wv, Some(bv), cfg).unwrap();
        let loss = y.mul(g.constant(r)).unwrap().sum().unwrap();
        let out = y.value().unwrap().to_vec();
        let grads = loss.backward().unwrap();
        let mut all = vec![out];
        for v in [xv, wv, bv] {
            all.push(grads.get(v).unwrap().to_vec());
        }
        all.into_iter()
            .map(|t| t.into_iter().map(|e| e.to_f64()).collect())
            .collect()
    }
    let a = run(
        &cfg,
        x.cast::<f32>(),
        w.cast::<f32>(),
        b.cast::<f32>(),
        r.cast::<f32>(),
    );
    let e = run(&cfg, x, w, b, r);
    for (ta, te) in a.iter().zip(&e) {
        for (u, v) in ta.iter().zip(te) {
            assert!((u - v).abs() <= 1e-4 * (1.0 + v.abs()), "{u} vs {v}");
        }
    }
}

#[test]
fn inference_apply_equals_graph_forward() {
    let mut rng = Rng::new(2);
    let conv = Conv1d::<f32>::new(ConvConfig::new(3, 5, [3]).same(), &mut rng).unwrap();
    let x = Tensor::rand_normal(&[4, 3, 7], 0.0, 1.0, &mut rng);
    let graph = Graph::inference();
    let y = conv.try_forward(&graph, graph.constant(x.clone())).unwrap();
    assert_eq!(
        y.value().unwrap().to_vec(),
        conv.apply(&x).unwrap().to_vec()
    );
    assert_eq!(y.shape(), [4, 5, 7]);
}

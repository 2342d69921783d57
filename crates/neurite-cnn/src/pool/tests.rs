//! Pooling layers: output sizes against PyTorch's formula, values, gradients, typed errors.

use super::*;
use proptest::prelude::*;

/// PyTorch's pooling output size (`pooling_output_shape` with its `div_rtn`, after
/// `pool2d_shape_check`'s "pad at most half the kernel"), or None where PyTorch refuses.
fn torch_size(n: usize, k: usize, s: usize, p: usize, d: usize, ceil: bool) -> Option<usize> {
    if p > k / 2 {
        return None;
    }
    let [n, k, s, p, d] = [n, k, s, p, d].map(|v| v as i64);
    let num = n + 2 * p - d * (k - 1) - 1 + if ceil { s - 1 } else { 0 };
    let mut out = num.div_euclid(s) + 1;
    if ceil && (out - 1) * s >= n + p {
        out -= 1;
    }
    (out >= 1).then_some(out as usize)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Output sizes of the layers against PyTorch's formula on random configurations
    /// (2-D: the height axis fixed, the width axis random).
    #[test]
    fn output_sizes_follow_pytorchs_formula(n in 0..50usize, k in 1..9usize, s in 1..7usize, p in 0..5usize,
                                            d in 1..5usize, ceil in any::<bool>(), max in any::<bool>()) {
        let c1 = PoolConfig::new([k]).with_stride([s]).with_padding([p]).with_dilation([d]).with_ceil_mode(ceil);
        let want = torch_size(n, k, s, p, d, ceil);
        prop_assert_eq!(c1.output_size([n]).ok(), want.map(|o| [o]));
        let c2 = PoolConfig::new([3, k]).with_stride([2, s]).with_padding([1, p]).with_dilation([1, d])
            .with_ceil_mode(ceil);
        let want2 = torch_size(6, 3, 2, 1, 1, ceil).zip(want);
        prop_assert_eq!(c2.output_size([6, n]).ok(), want2.map(|(a, b)| [a, b]));
        let g = Graph::<f64>::new();
        let x = g.constant(Tensor::zeros(&[1, 2, 6, n]));
        let y = if max {
            MaxPool2d::with_config(c2).try_forward(x)
        } else {
            AvgPool2d::with_config(c2).try_forward(x)
        };
        match (y, want2) {
            // PyTorch refuses empty inputs; every window of an empty axis is padding.
            (y, _) if n == 0 => prop_assert!(y.is_err()),
            (Ok(y), Some((a, b))) => prop_assert_eq!(y.shape(), vec![1, 2, a, b]),
            (Err(_), None) => {}
            // A dilated window wholly in the padding: PyTorch gives −∞, neurite refuses.
            (Err(e), Some(_)) => prop_assert!(d > 1 && e.to_string().contains("wholly in the padding"), "{}", e),
            (Ok(y), None) => prop_assert!(false, "{:?}: {:?}, PyTorch refuses", c2, y.shape()),
        }
    }
}

#[test]
fn adaptive_pooling_beyond_memory_is_a_typed_error() {
    let graph = Graph::new();
    let x = graph.constant(Tensor::<f32>::zeros(&[1, 1, 5, 5]));
    // A 5×5 plane to 2^20×2^20 outputs: an allocation abort before.
    let e = AdaptiveAvgPool2d::new([1 << 20, 1 << 20])
        .forward(&graph, x)
        .unwrap_err();
    assert!(e.to_string().contains("out of memory"), "{e}");
    let e = AdaptiveMaxPool2d::new([1 << 20, 1 << 20])
        .forward(&graph, x)
        .unwrap_err();
    assert!(e.to_string().contains("out of memory"), "{e}");
}

fn t(v: &[f64], s: &[usize]) -> Tensor<f64> {
    Tensor::from_vec(v.to_vec(), s).unwrap()
}

#[test]
fn max_and_avg_pool_values() {
    let g = Graph::<f64>::new();
    let x = g.variable(t(
        &[
            1.0, 2.0, 3.0, 4.0, //
            5.0, 6.0, 7.0, 8.0, //
            -1.0, -2.0, 0.0, 9.0,
        ],
        &[1, 1, 3, 4],
    ));
    let y = MaxPool2d::new([2, 2]).try_forward(x).unwrap();
    assert_eq!(y.shape(), [1, 1, 1, 2]);
    assert_eq!(y.value().unwrap().to_vec(), [6.0, 8.0]);
    let a = AvgPool2d::with_config(PoolConfig::new([2, 2]).with_padding([1, 1]))
        .try_forward(x)
        .unwrap();
    assert_eq!(a.shape(), [1, 1, 2, 3]);
    assert_eq!(a.value().unwrap().to_vec()[0], 0.25);
    let gm = GlobalMaxPool.try_forward(x).unwrap();
    assert_eq!(gm.value().unwrap().to_vec(), [9.0]);
    let ga = GlobalAvgPool.try_forward(x).unwrap();
    assert!((ga.value().unwrap().to_vec()[0] - 42.0 / 12.0).abs() < 1e-12);
    let am = AdaptiveMaxPool2d::new([1, 2]).try_forward(x).unwrap();
    assert_eq!(am.value().unwrap().to_vec(), [6.0, 9.0]);
    let grads = y.sum().unwrap().backward().unwrap();
    let dx = grads.get(x).unwrap().to_vec();
    assert_eq!(dx.iter().sum::<f64>(), 2.0);
    assert_eq!(dx[5], 1.0);
    assert_eq!(dx[7], 1.0);
}

/// An input that needs no gradient takes the values-only kernel: the same maxima as a
/// recorded forward, in an inference graph and for a constant in a recording graph.
#[test]
fn max_pool_without_gradients_gives_the_recorded_values() {
    let mut rng = neurite_tensor::Rng::new(7);
    let x = Tensor::<f32>::rand_normal(&[2, 3, 9, 8], 0.0, 1.0, &mut rng);
    for cfg in [
        PoolConfig::new([2, 2]),
        PoolConfig::new([3, 2])
            .with_stride([2, 1])
            .with_padding([1, 0]),
        PoolConfig::new([2, 2]).with_ceil_mode(true),
    ] {
        let pool = MaxPool2d::with_config(cfg);
        let g = Graph::new();
        let recorded = pool.try_forward(g.variable(x.clone())).unwrap();
        assert!(recorded.requires_grad());
        let want = recorded.value().unwrap().to_vec();
        let constant = pool.try_forward(g.constant(x.clone())).unwrap();
        assert_eq!(constant.value().unwrap().to_vec(), want);
        let inference = Graph::inference();
        let y = pool.try_forward(inference.variable(x.clone())).unwrap();
        assert_eq!(y.value().unwrap().to_vec(), want);
    }
}

#[test]
fn pool_errors_name_the_layer_and_shape() {
    let g = Graph::<f32>::new();
    let x = g.constant(Tensor::zeros(&[2, 3, 4]));
    let e = MaxPool2d::new([2, 2])
        .try_forward(x)
        .unwrap_err()
        .to_string();
    assert!(e.contains("MaxPool2d") && e.contains("[2, 3, 4]"), "{e}");
    let e = MaxPool1d::new([5]).try_forward(x).unwrap_err().to_string();
    assert!(e.contains("MaxPool1d") && e.contains("larger"), "{e}");
    let bad = MaxPool1d::with_config(PoolConfig::new([2]).with_stride([0]));
    assert!(matches!(
        bad.try_forward(x),
        Err(CnnError::InvalidConfig { .. })
    ));
    let bad = AvgPool1d::with_config(PoolConfig::new([2]).with_padding([2]));
    assert!(matches!(
        bad.try_forward(x),
        Err(CnnError::InvalidConfig { .. })
    ));
    assert!(AdaptiveAvgPool1d::new([0]).try_forward(x).is_err());
    for bad in [
        PoolConfig::new([2]).with_dilation([0]),
        PoolConfig::new([3]).with_dilation([usize::MAX]),
    ] {
        assert!(matches!(
            MaxPool1d::with_config(bad).try_forward(x),
            Err(CnnError::InvalidConfig { .. })
        ));
        assert!(bad.output_size([4]).is_err());
    }
    // A dilated window wholly in the padding (PyTorch: −∞ at an index outside the input).
    let e = MaxPool1d::with_config(PoolConfig::new([2]).with_padding([1]).with_dilation([2]))
        .try_forward(g.constant(Tensor::zeros(&[1, 1, 1])))
        .unwrap_err();
    assert!(e.to_string().contains("wholly in the padding"), "{e}");
    // Ceil mode: a kernel may overhang the input by less than a stride, not more.
    let c = PoolConfig::new([4]).with_stride([2]).with_ceil_mode(true);
    assert_eq!(c.output_size([3]).unwrap(), [1]);
    let e = MaxPool1d::with_config(c)
        .try_forward(g.constant(Tensor::zeros(&[1, 1, 2])))
        .unwrap_err();
    assert!(matches!(e, CnnError::KernelTooLarge { .. }), "{e}");
    // The default descriptions are unchanged; options appear when set.
    assert_eq!(
        MaxPool2d::new([2, 2]).describe(),
        "MaxPool2d(kernel [2, 2], stride [2, 2], padding [0, 0])"
    );
    let c = PoolConfig::new([3]).with_dilation([2]).with_ceil_mode(true);
    assert_eq!(
        AvgPool1d::with_config(c).with_pad_count(PadCount::Exclude).describe(),
        "AvgPool1d(kernel [3], stride [3], padding [0], dilation [2], ceil mode, padding not counted)"
    );
    // Padding of usize::MAX: 2·padding overflowed before the "half the kernel" check.
    let bad = MaxPool1d::with_config(PoolConfig::new([2]).with_padding([usize::MAX]));
    assert!(matches!(
        bad.try_forward(x),
        Err(CnnError::InvalidConfig { .. })
    ));
    // Huge but legal padding: the padded size saturates and the geometry is refused.
    let huge = MaxPool1d::with_config(PoolConfig::new([usize::MAX]).with_padding([usize::MAX / 2]));
    assert!(huge.try_forward(x).is_err());
    // Pooling exists for 1-D and 2-D inputs only.
    let x3 = g.constant(Tensor::zeros(&[1, 1, 2, 2, 2]));
    for e in [
        MaxPool::<3>::new([1, 1, 1]).try_forward(x3).unwrap_err(),
        AvgPool::<3>::new([1, 1, 1]).try_forward(x3).unwrap_err(),
        AdaptiveMaxPool::<3>::new([1, 1, 1])
            .try_forward(x3)
            .unwrap_err(),
        AdaptiveAvgPool::<3>::new([1, 1, 1])
            .try_forward(x3)
            .unwrap_err(),
    ] {
        assert!(e.to_string().contains("1-D and 2-D"), "{e}");
    }
    let v = g.constant(Tensor::zeros(&[2, 3]));
    assert!(GlobalMaxPool.try_forward(v).is_err());
}

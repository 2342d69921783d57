//! Pooling kernels against naive loops: max pooling (values, first-maximum argmax, −∞
//! padding) and its backward, average pooling with both padding counts and its backward,
//! adaptive average and max pooling, the 2×2 fast path, the 1-D forms, adjointness of every
//! backward kernel — on random windows with dilation, asymmetric padding and ceil mode, whose
//! output sizes are PyTorch's formula.

use neurite_tensor::conv::{Window1d, Window2d};
use neurite_tensor::pool::*;
use neurite_tensor::Tensor;
use proptest::prelude::*;

use crate::common::*;
use crate::conv::{case2d, lifted, source, Case};

/// A convolution case with ceil mode on or off.
fn pool_case() -> impl Strategy<Value = Case> {
    (case2d(), any::<bool>()).prop_map(|(mut c, ceil)| {
        c.win.ceil_mode = ceil;
        c
    })
}

/// Integer-valued inputs, so that ties in max pooling are common.
fn tied_case() -> impl Strategy<Value = Case> {
    pool_case().prop_map(|mut c| {
        c.x.iter_mut().for_each(|v| *v = v.round());
        c
    })
}

/// PyTorch's `pooling_output_shape_pad_lr` transcribed in signed arithmetic (its `div_rtn`
/// rounds toward −∞), or None when it gives no positions.
pub(crate) fn torch_out_len(
    n: usize,
    k: usize,
    s: usize,
    (pad_l, pad_r): (usize, usize),
    d: usize,
    ceil: bool,
) -> Option<usize> {
    let [n, k, s, pad_l, pad_r, d] = [n, k, s, pad_l, pad_r, d].map(|v| v as i64);
    let num = n + pad_l + pad_r - d * (k - 1) - 1 + if ceil { s - 1 } else { 0 };
    let mut out = num.div_euclid(s) + 1;
    if ceil && (out - 1) * s >= n + pad_l {
        out -= 1;
    }
    (out > 0).then_some(out as usize)
}

fn out_hw(c: &Case) -> Option<[usize; 2]> {
    let w = &c.win;
    let axis = |a: usize| {
        torch_out_len(
            c.shape[2 + a],
            w.kernel[a],
            w.stride[a],
            (w.pad_before[a], w.pad_after[a]),
            w.dilation[a],
            w.ceil_mode,
        )
    };
    Some([axis(0)?, axis(1)?])
}

/// The divisor of average pooling with padding counted: the window's taps inside the padded
/// input (all of them but for ceil mode's overhang).
fn include_divisor(c: &Case, oy: usize, ox: usize) -> f64 {
    let w = &c.win;
    let inside = |a: usize, o: usize| {
        let padded = c.shape[2 + a] + w.pad_before[a] + w.pad_after[a];
        (0..w.kernel[a])
            .filter(|&k| o * w.stride[a] + k * w.dilation[a] < padded)
            .count()
    };
    (inside(0, oy) * inside(1, ox)) as f64
}

/// For each output position of each plane, the flat in-plane indices its window reads, or
/// None if the window does not fit or some window lies wholly in the padding.
fn windows(c: &Case) -> Option<([usize; 2], Vec<Vec<usize>>)> {
    let out = out_hw(c)?;
    let [kh, kw] = c.win.kernel;
    let mut ws = Vec::new();
    for oy in 0..out[0] {
        for ox in 0..out[1] {
            let taps: Vec<usize> = (0..kh)
                .flat_map(|ki| (0..kw).map(move |kj| (ki, kj)))
                .filter_map(|(ki, kj)| source(c, oy, ox, ki, kj))
                .map(|(iy, ix)| iy * c.shape[3] + ix)
                .collect();
            if taps.is_empty() {
                return None;
            }
            ws.push(taps);
        }
    }
    Some((out, ws))
}

fn pooled_shape(c: &Case, out: [usize; 2]) -> [usize; 4] {
    [c.shape[0], c.shape[1], out[0], out[1]]
}

fn planes(c: &Case) -> usize {
    c.shape[0] * c.shape[1]
}

fn plane_len(c: &Case) -> usize {
    c.shape[2] * c.shape[3]
}

/// Adaptive bins along one axis.
fn bins(n: usize, out: usize) -> Vec<std::ops::Range<usize>> {
    (0..out)
        .map(|o| o * n / out..((o + 1) * n).div_ceil(out))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES * 2))]

    #[test]
    fn max_pool2d_matches_loops(level in level(), c in tied_case(), strided in any::<bool>(), seed in any::<u64>()) {
        let _simd = neurite_tensor::simd::force_level(level);
        let x = tensor(&c.x, &c.shape, strided);
        let got = max_pool2d(&x, &c.win);
        let values_only = max_pool2d_values(&x, &c.win);
        let Some((out, ws)) = windows(&c) else {
            prop_assert!(got.is_err());
            prop_assert!(values_only.is_err());
            return Ok(());
        };
        let got = got.unwrap();
        prop_assert_eq!(values_only.unwrap().to_vec(), got.values.to_vec());
        let (mut vals, mut arg) = (Vec::new(), Vec::new());
        for p in 0..planes(&c) {
            let plane = &c.x[p * plane_len(&c)..(p + 1) * plane_len(&c)];
            for taps in &ws {
                let best = taps.iter().copied().fold(taps[0], |b, i| if plane[i] > plane[b] { i } else { b });
                vals.push(plane[best]);
                arg.push(best);
            }
        }
        let shape = pooled_shape(&c, out);
        assert_close(&got.values, &shape, &vals, 0.0);
        prop_assert_eq!(&got.argmax, &arg);
        // Backward: scatter-add onto the argmax, the adjoint of gathering there.
        let g = Tensor::<f64>::rand_normal(&shape, 0.0, 1.0, &mut neurite_tensor::Rng::new(seed));
        let gv = g.to_vec();
        let dx = max_pool2d_backward(&g, &got.argmax, c.shape).unwrap();
        let mut want = vec![0.0; c.x.len()];
        for (k, &i) in arg.iter().enumerate() {
            let p = k / ws.len().max(1);
            want[p * plane_len(&c) + i] += gv[k];
        }
        assert_close(&dx, &c.shape, &want, 1e-12);
        let gathered: Vec<f64> = arg.iter().enumerate()
            .map(|(k, &i)| c.x[(k / ws.len().max(1)) * plane_len(&c) + i]).collect();
        prop_assert!(close(dot(&gathered, &gv), dot(&c.x, &dx.to_vec()), 1e-10));
        // Global max pooling: one window over the whole plane.
        if plane_len(&c) > 0 {
            let global = max_pool2d(&x, &Window2d::new([c.shape[2], c.shape[3]])).unwrap();
            let want: Vec<f64> = (0..planes(&c))
                .map(|p| c.x[p * plane_len(&c)..(p + 1) * plane_len(&c)].iter().copied().fold(f64::MIN, f64::max))
                .collect();
            assert_close(&global.values, &[c.shape[0], c.shape[1], 1, 1], &want, 0.0);
        }
    }

    #[test]
    fn avg_pool2d_matches_loops(level in level(), c in pool_case(), strided in any::<bool>(), include in any::<bool>(),
                                seed in any::<u64>()) {
        let _simd = neurite_tensor::simd::force_level(level);
        let pad = if include { PadCount::Include } else { PadCount::Exclude };
        let x = tensor(&c.x, &c.shape, strided);
        let got = avg_pool2d(&x, &c.win, pad);
        let Some((out, ws)) = windows(&c) else {
            prop_assert!(got.is_err());
            return Ok(());
        };
        let divisor = |k: usize, taps: &Vec<usize>| if include {
            include_divisor(&c, k / out[1], k % out[1])
        } else {
            taps.len() as f64
        };
        let mut want = Vec::new();
        for p in 0..planes(&c) {
            let plane = &c.x[p * plane_len(&c)..(p + 1) * plane_len(&c)];
            for (k, taps) in ws.iter().enumerate() {
                want.push(taps.iter().map(|&i| plane[i]).sum::<f64>() / divisor(k, taps));
            }
        }
        let shape = pooled_shape(&c, out);
        assert_close(&got.unwrap(), &shape, &want, 1e-12);
        // Backward: each upstream gradient spread over its window; the adjoint of the forward.
        let g = Tensor::<f64>::rand_normal(&shape, 0.0, 1.0, &mut neurite_tensor::Rng::new(seed));
        let gv = g.to_vec();
        let dx = avg_pool2d_backward(&g, c.shape, &c.win, pad).unwrap();
        let mut want_dx = vec![0.0; c.x.len()];
        for p in 0..planes(&c) {
            for (k, taps) in ws.iter().enumerate() {
                for &i in taps {
                    want_dx[p * plane_len(&c) + i] += gv[p * ws.len() + k] / divisor(k, taps);
                }
            }
        }
        assert_close(&dx, &c.shape, &want_dx, 1e-12);
        prop_assert!(close(dot(&want, &gv), dot(&c.x, &dx.to_vec()), 1e-10));
        let mut bad = shape;
        bad[3] += 1;
        prop_assert!(avg_pool2d_backward(&Tensor::<f64>::zeros(&bad), c.shape, &c.win, pad).is_err());
    }

    #[test]
    fn adaptive_avg_pool2d_matches_loops(level in level(), c in case2d(), oh in 0..5usize, ow in 0..5usize, seed in any::<u64>()) {
        let _simd = neurite_tensor::simd::force_level(level);
        let x = Tensor::from_slice(&c.x, &c.shape).unwrap();
        let [n, ch, h, w] = c.shape;
        let got = adaptive_avg_pool2d(&x, [oh, ow]);
        if oh == 0 || ow == 0 || h == 0 || w == 0 {
            prop_assert!(got.is_err());
            return Ok(());
        }
        let (rb, cb) = (bins(h, oh), bins(w, ow));
        let mut want = Vec::new();
        for p in 0..n * ch {
            for r in &rb {
                for q in &cb {
                    let s: f64 = r.clone().flat_map(|i| q.clone().map(move |j| i * w + j)).map(|i| c.x[p * h * w + i]).sum();
                    want.push(s / (r.len() * q.len()) as f64);
                }
            }
        }
        let shape = [n, ch, oh, ow];
        assert_close(&got.unwrap(), &shape, &want, 1e-12);
        let g = Tensor::<f64>::rand_normal(&shape, 0.0, 1.0, &mut neurite_tensor::Rng::new(seed));
        let dx = adaptive_avg_pool2d_backward(&g, c.shape).unwrap();
        prop_assert!(close(dot(&want, &g.to_vec()), dot(&c.x, &dx.to_vec()), 1e-10));
        // Global average pooling is the [1, 1] case.
        let global = adaptive_avg_pool2d(&x, [1, 1]).unwrap();
        let mean = x.mean_axes(&[2, 3], true).unwrap();
        assert_close(&global, mean.shape(), &mean.to_vec(), 1e-12);
        // 1-D on the width axis equals 2-D with unit height.
        let x1 = x.narrow(2, 0, 1).unwrap().reshape(&[n, ch, w]).unwrap();
        let a = adaptive_avg_pool1d(&x1, ow).unwrap();
        let b = adaptive_avg_pool2d(&x1.reshape(&[n, ch, 1, w]).unwrap(), [1, ow]).unwrap();
        assert_close(&a, &[n, ch, ow], &b.to_vec(), 0.0);
        let g1 = Tensor::<f64>::ones(&[n, ch, ow]);
        let d1 = adaptive_avg_pool1d_backward(&g1, [n, ch, w]).unwrap();
        let d2 = adaptive_avg_pool2d_backward(&g1.reshape(&[n, ch, 1, ow]).unwrap(), [n, ch, 1, w]).unwrap();
        assert_close(&d1, &[n, ch, w], &d2.to_vec(), 0.0);
    }

    #[test]
    fn adaptive_max_pool2d_matches_loops(level in level(), c in tied_case(), oh in 0..5usize, ow in 0..5usize, seed in any::<u64>()) {
        let _simd = neurite_tensor::simd::force_level(level);
        let x = Tensor::from_slice(&c.x, &c.shape).unwrap();
        let [n, ch, h, w] = c.shape;
        let got = adaptive_max_pool2d(&x, [oh, ow]);
        if oh == 0 || ow == 0 || h == 0 || w == 0 {
            prop_assert!(got.is_err());
            return Ok(());
        }
        let got = got.unwrap();
        let (rb, cb) = (bins(h, oh), bins(w, ow));
        let (mut vals, mut arg) = (Vec::new(), Vec::new());
        for p in 0..n * ch {
            let plane = &c.x[p * h * w..(p + 1) * h * w];
            for r in &rb {
                for q in &cb {
                    // First maximum in row-major order within the bin.
                    let taps: Vec<usize> = r.clone().flat_map(|i| q.clone().map(move |j| i * w + j)).collect();
                    let best = taps.iter().copied().fold(taps[0], |b, i| if plane[i] > plane[b] { i } else { b });
                    vals.push(plane[best]);
                    arg.push(best);
                }
            }
        }
        let shape = [n, ch, oh, ow];
        assert_close(&got.values, &shape, &vals, 0.0);
        prop_assert_eq!(&got.argmax, &arg);
        // Its backward is max pooling's: scatter onto the argmax, the adjoint of the gather.
        let g = Tensor::<f64>::rand_normal(&shape, 0.0, 1.0, &mut neurite_tensor::Rng::new(seed));
        let dx = max_pool2d_backward(&g, &got.argmax, c.shape).unwrap();
        prop_assert!(close(dot(&vals, &g.to_vec()), dot(&c.x, &dx.to_vec()), 1e-10));
        // 1-D equals 2-D with unit height.
        let x1 = x.narrow(2, 0, 1).unwrap().reshape(&[n, ch, w]).unwrap();
        let a = adaptive_max_pool1d(&x1, ow).unwrap();
        let b = adaptive_max_pool2d(&x1.reshape(&[n, ch, 1, w]).unwrap(), [1, ow]).unwrap();
        assert_close(&a.values, &[n, ch, ow], &b.values.to_vec(), 0.0);
        prop_assert_eq!(a.argmax, b.argmax);
    }

    /// The 2×2 stride-2 fast path against naive loops: ties (integer values), odd sizes (the
    /// last row / column is never read — or, in ceil mode, pooled alone), and NaN (the first
    /// NaN of a window wins).
    #[test]
    fn max_pool2d_two_by_two_matches_loops(level in level(), n in 1..3usize, ch in 1..4usize, h in 1..12usize, w in 1..36usize,
                                           ceil in any::<bool>(), nan_at in proptest::option::of(0..500usize),
                                           seed in any::<u64>()) {
        let _simd = neurite_tensor::simd::force_level(level);
        let mut rng = neurite_tensor::Rng::new(seed);
        let mut xv: Vec<f64> = (0..n * ch * h * w).map(|_| (rng.normal() * 2.0).round()).collect();
        if let Some(i) = nan_at {
            let i = i % xv.len();
            xv[i] = f64::NAN;
        }
        let x = Tensor::from_slice(&xv, &[n, ch, h, w]).unwrap();
        let got = max_pool2d(&x, &Window2d::pool([2, 2]).with_ceil_mode(ceil));
        let (oh, ow) = if ceil { (h.div_ceil(2), w.div_ceil(2)) } else { (h / 2, w / 2) };
        if oh == 0 || ow == 0 {
            prop_assert!(got.is_err());
            return Ok(());
        }
        let got = got.unwrap();
        let (mut vals, mut arg) = (Vec::new(), Vec::new());
        for p in 0..n * ch {
            let plane = &xv[p * h * w..(p + 1) * h * w];
            for oy in 0..oh {
                for ox in 0..ow {
                    let taps: Vec<usize> = [(0, 0), (0, 1), (1, 0), (1, 1)].iter()
                        .map(|&(i, j)| (2 * oy + i, 2 * ox + j))
                        .filter(|&(y, x)| y < h && x < w)
                        .map(|(y, x)| y * w + x)
                        .collect();
                    let mut best = taps[0];
                    for &i in &taps[1..] {
                        if (plane[i] > plane[best] || plane[i].is_nan()) && !plane[best].is_nan() {
                            best = i;
                        }
                    }
                    vals.push(plane[best]);
                    arg.push(best);
                }
            }
        }
        prop_assert_eq!(&got.argmax, &arg);
        let gv = got.values.to_vec();
        // The values-only path: the same maxima (some NaN where a window holds one).
        let vo = max_pool2d_values(&x, &Window2d::pool([2, 2]).with_ceil_mode(ceil)).unwrap().to_vec();
        prop_assert_eq!(gv.len(), vals.len());
        prop_assert_eq!(vo.len(), vals.len());
        for ((a, b), c) in gv.iter().zip(&vals).zip(&vo) {
            prop_assert!(a == b || (a.is_nan() && b.is_nan()), "{} vs {}", a, b);
            prop_assert!(c == b || (c.is_nan() && b.is_nan()), "values only: {} vs {}", c, b);
        }
    }

    #[test]
    fn one_d_pools_are_two_d_with_unit_height(level in level(), c in tied_case(), include in any::<bool>(), seed in any::<u64>()) {
        let _simd = neurite_tensor::simd::force_level(level);
        let pad = if include { PadCount::Include } else { PadCount::Exclude };
        let [n, ch, _, l] = c.shape;
        let mut rng = neurite_tensor::Rng::new(seed);
        let x = Tensor::<f64>::rand_normal(&[n, ch, l], 0.0, 1.0, &mut rng);
        let x2 = x.reshape(&[n, ch, 1, l]).unwrap();
        let win = Window1d::new([c.win.kernel[1]])
            .with_stride([c.win.stride[1]])
            .with_padding_asym([c.win.pad_before[1]], [c.win.pad_after[1]])
            .with_dilation([c.win.dilation[1]])
            .with_ceil_mode(c.win.ceil_mode);
        let w2 = lifted(&win);
        match (max_pool1d(&x, &win), max_pool2d(&x2, &w2)) {
            (Ok(a), Ok(b)) => {
                prop_assert_eq!(&a.argmax, &b.argmax);
                prop_assert_eq!(max_pool1d_values(&x, &win).unwrap().to_vec(), a.values.to_vec());
                let ol = a.values.shape()[2];
                assert_close(&a.values, &[n, ch, ol], &b.values.to_vec(), 0.0);
                let g = Tensor::<f64>::rand_normal(&[n, ch, ol], 0.0, 1.0, &mut rng);
                let d1 = max_pool1d_backward(&g, &a.argmax, [n, ch, l]).unwrap();
                let d2 = max_pool2d_backward(&g.reshape(&[n, ch, 1, ol]).unwrap(), &b.argmax, [n, ch, 1, l]).unwrap();
                assert_close(&d1, &[n, ch, l], &d2.to_vec(), 0.0);
                let a = avg_pool1d(&x, &win, pad).unwrap();
                let b = avg_pool2d(&x2, &w2, pad).unwrap();
                assert_close(&a, &[n, ch, ol], &b.to_vec(), 0.0);
                let d1 = avg_pool1d_backward(&g, [n, ch, l], &win, pad).unwrap();
                let d2 = avg_pool2d_backward(&g.reshape(&[n, ch, 1, ol]).unwrap(), [n, ch, 1, l], &w2, pad).unwrap();
                assert_close(&d1, &[n, ch, l], &d2.to_vec(), 0.0);
            }
            (Err(_), Err(_)) => {
                prop_assert!(avg_pool1d(&x, &win, pad).is_err());
                prop_assert!(max_pool1d_values(&x, &win).is_err());
            }
            (a, b) => panic!("1-D {a:?} vs 2-D {b:?}"),
        }
    }
}

#[test]
fn max_pool_padding_is_minus_infinity_and_nan_propagates() {
    // All-negative input with padding: padding (−∞) is never the maximum.
    let x = Tensor::<f64>::from_vec(vec![-5.0, -3.0, -4.0, -9.0], &[1, 1, 2, 2]).unwrap();
    let out = max_pool2d(&x, &Window2d::new([2, 2]).with_padding([1, 1])).unwrap();
    assert_eq!(
        out.values.to_vec(),
        vec![-5.0, -3.0, -3.0, -4.0, -3.0, -3.0, -4.0, -4.0, -9.0]
    );
    assert_eq!(out.argmax, vec![0, 1, 1, 2, 1, 1, 2, 2, 3]);
    let x = Tensor::<f64>::from_vec(vec![1.0, f64::NAN, 3.0, 2.0], &[1, 1, 1, 4]).unwrap();
    let out = max_pool2d(&x, &Window2d::pool([1, 2])).unwrap();
    assert!(out.values.to_vec()[0].is_nan());
    assert_eq!(out.argmax, vec![1, 2]);
    let x = Tensor::<f64>::full(&[1, 1, 3], f64::NEG_INFINITY);
    let out = max_pool1d(&x, &Window1d::pool([3])).unwrap();
    assert_eq!(
        (out.values.to_vec(), out.argmax),
        (vec![f64::NEG_INFINITY], vec![0])
    );
}

#[test]
fn bad_pool_arguments_are_typed_errors() {
    let x = Tensor::<f32>::zeros(&[2, 3, 4, 4]);
    assert!(max_pool2d(&x, &Window2d::pool([5, 1])).is_err());
    assert!(max_pool2d(&x, &Window2d::pool([0, 1])).is_err());
    assert!(max_pool2d(&x, &Window2d::pool([2, 2]).with_stride([0, 2])).is_err());
    assert!(max_pool1d(&x, &Window1d::pool([2])).is_err());
    assert!(avg_pool2d(
        &x.reshape(&[6, 16]).unwrap(),
        &Window2d::pool([2, 2]),
        PadCount::Include
    )
    .is_err());
    let g = Tensor::<f32>::zeros(&[2, 3, 2, 2]);
    assert!(max_pool2d_backward(&g, &[0; 24], [2, 3, 4, 4]).is_ok());
    assert!(max_pool2d_backward(&g, &[0; 23], [2, 3, 4, 4]).is_err());
    assert!(max_pool2d_backward(&g, &[16; 24], [2, 3, 4, 4]).is_err());
    assert!(max_pool2d_backward(&g, &[0; 24], [2, 4, 4, 4]).is_err());
    assert!(adaptive_avg_pool2d(&x, [0, 2]).is_err());
    assert!(adaptive_avg_pool2d_backward(&g, [2, 3, 0, 4]).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES * 8))]

    /// `Window::output_size` is PyTorch's formula (floor and ceil mode, dilation, asymmetric
    /// padding) on random configurations, including kernels larger than the input; where the
    /// formula gives no position, a typed error.
    #[test]
    fn output_sizes_are_pytorchs(n in 0..60usize, k in 1..9usize, s in 1..7usize, pb in 0..6usize, pa in 0..6usize,
                                 d in 1..5usize, ceil in any::<bool>()) {
        let win = Window1d::new([k]).with_stride([s]).with_padding_asym([pb], [pa]).with_dilation([d]).with_ceil_mode(ceil);
        match (win.output_size([n]), torch_out_len(n, k, s, (pb, pa), d, ceil)) {
            (Ok([got]), Some(want)) => prop_assert_eq!(got, want),
            (Err(_), None) => {}
            (got, want) => prop_assert!(false, "{:?}: {:?} vs PyTorch {:?}", win, got, want),
        }
        let w2 = Window2d::new([2, k]).with_stride([1, s]).with_padding_asym([1, pb], [0, pa])
            .with_dilation([3, d]).with_ceil_mode(ceil);
        let want = torch_out_len(4, 2, 1, (1, 0), 3, ceil).zip(torch_out_len(n, k, s, (pb, pa), d, ceil));
        prop_assert_eq!(w2.output_size([4, n]).ok(), want.map(|(a, b)| [a, b]));
    }
}

#[test]
fn ceil_mode_windows_follow_pytorch() {
    // Values from PyTorch 2.15 (F.avg_pool1d / F.max_pool1d with ceil_mode=True).
    // One element, kernel 2, stride 2, padding 1: the ceil formula gives 2 windows, but the
    // second would start in the trailing padding and is dropped; the first counts its padding.
    let x1 = Tensor::<f64>::from_vec(vec![7.0], &[1, 1, 1]).unwrap();
    let win = Window1d::pool([2]).with_padding([1]).with_ceil_mode(true);
    assert_eq!(
        avg_pool1d(&x1, &win, PadCount::Include).unwrap().to_vec(),
        vec![3.5]
    );
    assert_eq!(
        avg_pool1d(&x1, &win, PadCount::Exclude).unwrap().to_vec(),
        vec![7.0]
    );
    // 1..=5, kernel 3, stride 2, padding 1: windows [-1, 2), [1, 4), [3, 6), the last one
    // reaching exactly to the end of the padded input [-1, 6): padding counts.
    let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0], &[1, 1, 5]).unwrap();
    let win = Window1d::pool([3])
        .with_stride([2])
        .with_padding([1])
        .with_ceil_mode(true);
    assert_eq!(
        avg_pool1d(&x, &win, PadCount::Include).unwrap().to_vec(),
        vec![1.0, 3.0, 3.0]
    );
    // 1..=6, kernel 3, stride 2, no padding: the last window [4, 7) overhangs the input by one,
    // which does not count: (5 + 6)/2.
    let x6 = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[1, 1, 6]).unwrap();
    let win = Window1d::pool([3]).with_stride([2]).with_ceil_mode(true);
    assert_eq!(
        avg_pool1d(&x6, &win, PadCount::Include).unwrap().to_vec(),
        vec![2.0, 4.0, 5.5]
    );
    let m = max_pool1d(&x6, &win).unwrap();
    assert_eq!(
        (m.values.to_vec(), m.argmax),
        (vec![3.0, 5.0, 6.0], vec![2, 4, 5])
    );
    // A kernel overhanging the whole input by less than a stride: one window.
    let x3 = Tensor::<f64>::from_vec(vec![0.0, 1.0, 2.0], &[1, 1, 3]).unwrap();
    let win = Window1d::pool([4]).with_stride([2]).with_ceil_mode(true);
    assert_eq!(
        avg_pool1d(&x3, &win, PadCount::Include).unwrap().to_vec(),
        vec![1.0]
    );
    assert!(max_pool1d(&x3, &win.with_ceil_mode(false)).is_err());
    // Convolutions have no ceil mode.
    let e =
        neurite_tensor::conv::im2col_1d(&x3, &Window1d::new([2]).with_ceil_mode(true)).unwrap_err();
    assert!(e.to_string().contains("ceil mode"), "{e}");
}

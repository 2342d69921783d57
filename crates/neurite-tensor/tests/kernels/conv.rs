//! im2col / col2im in 1-D and 2-D against naive loops: values, adjointness, convolution as
//! im2col + GEMM against a direct convolution, the `_into` variants, and typed errors.

use neurite_tensor::conv::*;
use neurite_tensor::Tensor;
use proptest::prelude::*;

use crate::common::*;

/// A 2-D case: input shape [N, C, H, W], values, and a window.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub shape: [usize; 4],
    pub x: Vec<f64>,
    pub win: Window2d,
}

pub(crate) fn window2d() -> impl Strategy<Value = Window2d> {
    (
        [1..4usize, 1..4usize],
        [1..3usize, 1..3usize],
        [0..3usize, 0..3usize],
        [0..3usize, 0..3usize],
        [1..3usize, 1..3usize],
    )
        .prop_map(|(k, s, pb, pa, d)| {
            Window2d::new(k)
                .with_stride(s)
                .with_padding_asym(pb, pa)
                .with_dilation(d)
        })
}

pub(crate) fn case2d() -> impl Strategy<Value = Case> {
    ([0..3usize, 0..3usize, 0..7usize, 0..7usize], window2d()).prop_flat_map(|(shape, win)| {
        let n = shape.iter().product();
        values(n).prop_map(move |x| Case { shape, x, win })
    })
}

/// Output size along one axis by the textbook formula, or None when the kernel does not fit.
fn out_len(n: usize, k: usize, s: usize, pb: usize, pa: usize, d: usize) -> Option<usize> {
    let padded = n + pb + pa;
    let extent = d * (k - 1) + 1;
    (extent <= padded).then(|| (padded - extent) / s + 1)
}

pub(crate) fn out_hw(c: &Case) -> Option<[usize; 2]> {
    let w = &c.win;
    let oh = out_len(
        c.shape[2],
        w.kernel[0],
        w.stride[0],
        w.pad_before[0],
        w.pad_after[0],
        w.dilation[0],
    )?;
    let ow = out_len(
        c.shape[3],
        w.kernel[1],
        w.stride[1],
        w.pad_before[1],
        w.pad_after[1],
        w.dilation[1],
    )?;
    Some([oh, ow])
}

/// The input position read by tap (ki, kj) at output (oy, ox), if it is not padding.
pub(crate) fn source(
    c: &Case,
    oy: usize,
    ox: usize,
    ki: usize,
    kj: usize,
) -> Option<(usize, usize)> {
    let w = &c.win;
    let iy = (oy * w.stride[0] + ki * w.dilation[0]) as isize - w.pad_before[0] as isize;
    let ix = (ox * w.stride[1] + kj * w.dilation[1]) as isize - w.pad_before[1] as isize;
    let inside = iy >= 0 && ix >= 0 && (iy as usize) < c.shape[2] && (ix as usize) < c.shape[3];
    inside.then_some((iy as usize, ix as usize))
}

/// Calls `f(input_flat, cols_flat)` for every (image, channel, tap, output) that reads a real
/// input element.
fn for_each_read(c: &Case, [oh, ow]: [usize; 2], mut f: impl FnMut(usize, usize)) {
    let [n, ch, h, w] = c.shape;
    let [kh, kw] = c.win.kernel;
    for ni in 0..n {
        for ci in 0..ch {
            for ki in 0..kh {
                for kj in 0..kw {
                    let row = (ci * kh + ki) * kw + kj;
                    for oy in 0..oh {
                        for ox in 0..ow {
                            if let Some((iy, ix)) = source(c, oy, ox, ki, kj) {
                                let input = ((ni * ch + ci) * h + iy) * w + ix;
                                let col = (ni * ch * kh * kw + row) * oh * ow + oy * ow + ox;
                                f(input, col);
                            }
                        }
                    }
                }
            }
        }
    }
}

fn cols_shape(c: &Case, [oh, ow]: [usize; 2]) -> [usize; 3] {
    [
        c.shape[0],
        c.shape[1] * c.win.kernel[0] * c.win.kernel[1],
        oh * ow,
    ]
}

fn im2col_ref(c: &Case, out: [usize; 2]) -> Vec<f64> {
    let mut cols = vec![0.0; cols_shape(c, out).iter().product()];
    for_each_read(c, out, |i, k| cols[k] = c.x[i]);
    cols
}

fn col2im_ref(c: &Case, out: [usize; 2], cols: &[f64]) -> Vec<f64> {
    let mut x = vec![0.0; c.x.len()];
    for_each_read(c, out, |i, k| x[i] += cols[k]);
    x
}

pub(crate) fn lifted(w: &Window1d) -> Window2d {
    Window2d::new([1, w.kernel[0]])
        .with_stride([1, w.stride[0]])
        .with_padding_asym([0, w.pad_before[0]], [0, w.pad_after[0]])
        .with_dilation([1, w.dilation[0]])
        .with_ceil_mode(w.ceil_mode)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES * 2))]

    #[test]
    fn im2col_2d_matches_loops(level in level(), c in case2d(), strided in any::<bool>()) {
        let _simd = neurite_tensor::simd::force_level(level);
        let x = tensor(&c.x, &c.shape, strided);
        let got = im2col_2d(&x, &c.win);
        let Some(out) = out_hw(&c) else {
            let e = got.unwrap_err().to_string();
            prop_assert!(e.contains(&format!("{:?}", c.shape)) && e.contains(&format!("{:?}", c.win.kernel)), "{e}");
            prop_assert!(c.win.output_size([c.shape[2], c.shape[3]]).is_err());
            return Ok(());
        };
        prop_assert_eq!(c.win.output_size([c.shape[2], c.shape[3]]).unwrap(), out);
        let want = im2col_ref(&c, out);
        let shape = cols_shape(&c, out);
        assert_close(&got.unwrap(), &shape, &want, 0.0);
        // The buffer variant overwrites whatever was there.
        let mut buf = vec![f64::NAN; want.len()];
        im2col_2d_into(&c.x, c.shape, &c.win, &mut buf).unwrap();
        prop_assert_eq!(&buf, &want);
        let mut short = vec![0.0; want.len() + 1];
        prop_assert!(im2col_2d_into(&c.x, c.shape, &c.win, &mut short).is_err());
    }

    /// Stride 1 with rows as wide as the input's ("same" padding, possibly asymmetric and
    /// dilated): the case im2col copies as one shift of the plane per tap, then clears the
    /// taps in the padding (before, after, and where a row wraps into the next).
    #[test]
    fn im2col_and_col2im_with_same_padding_match_loops(level in level(), shape in [1..3usize, 1..3usize, 1..9usize, 1..12usize],
                                            k in [1..5usize, 1..5usize], d in [1..3usize, 1..3usize],
                                            split in [0..9usize, 0..9usize], seed in any::<u64>()) {
        let _simd = neurite_tensor::simd::force_level(level);
        let total = [d[0] * (k[0] - 1), d[1] * (k[1] - 1)];
        let pb = [split[0] % (total[0] + 1), split[1] % (total[1] + 1)];
        let pa = [total[0] - pb[0], total[1] - pb[1]];
        let win = Window2d::new(k).with_padding_asym(pb, pa).with_dilation(d);
        let mut rng = neurite_tensor::Rng::new(seed);
        let x: Vec<f64> = (0..shape.iter().product()).map(|_| rng.normal()).collect();
        let c = Case { shape, x, win };
        let out = out_hw(&c).unwrap();
        prop_assert_eq!(out, [shape[2], shape[3]]);
        let want = im2col_ref(&c, out);
        let mut buf = vec![f64::NAN; want.len()];
        im2col_2d_into(&c.x, c.shape, &c.win, &mut buf).unwrap();
        prop_assert_eq!(&buf, &want);
        // And its adjoint, with values at the padding taps (which must not land anywhere).
        let dcols: Vec<f64> = (0..want.len()).map(|_| rng.normal()).collect();
        let want = col2im_ref(&c, out, &dcols);
        let mut dx = vec![f64::NAN; want.len()];
        col2im_2d_into(&dcols, c.shape, &c.win, &mut dx).unwrap();
        prop_assert_eq!(&dx, &want);
    }

    #[test]
    fn col2im_2d_is_the_adjoint_of_im2col(level in level(), c in case2d(), seed in any::<u64>()) {
        let _simd = neurite_tensor::simd::force_level(level);
        let Some(out) = out_hw(&c) else { return Ok(()); };
        let shape = cols_shape(&c, out);
        let y = Tensor::<f64>::rand_normal(&shape, 0.0, 1.0, &mut neurite_tensor::Rng::new(seed));
        let yv = y.to_vec();
        let got = col2im_2d(&y, c.shape, &c.win).unwrap();
        let want = col2im_ref(&c, out, &yv);
        assert_close(&got, &c.shape, &want, 1e-12);
        let mut buf = vec![f64::NAN; want.len()];
        col2im_2d_into(&yv, c.shape, &c.win, &mut buf).unwrap();
        prop_assert_eq!(&buf, &got.to_vec());
        // ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩.
        let cols = im2col_2d(&Tensor::from_slice(&c.x, &c.shape).unwrap(), &c.win).unwrap();
        let (lhs, rhs) = (dot(&cols.to_vec(), &yv), dot(&c.x, &got.to_vec()));
        prop_assert!(close(lhs, rhs, 1e-10), "{lhs} vs {rhs}");
        // Columns of the wrong shape are an error naming both shapes.
        let mut bad = shape;
        bad[2] += 1;
        let e = col2im_2d(&Tensor::<f64>::zeros(&bad), c.shape, &c.win).unwrap_err().to_string();
        prop_assert!(e.contains(&format!("{bad:?}")) && e.contains(&format!("{shape:?}")), "{e}");
    }

    #[test]
    fn conv_as_im2col_gemm_equals_direct_convolution(level in level(), c in case2d(), oc in 0..4usize, seed in any::<u64>()) {
        let _simd = neurite_tensor::simd::force_level(level);
        let Some([oh, ow]) = out_hw(&c) else { return Ok(()); };
        let [n, ch, h, w] = c.shape;
        let [kh, kw] = c.win.kernel;
        let weight = Tensor::<f64>::rand_normal(&[oc, ch, kh, kw], 0.0, 1.0, &mut neurite_tensor::Rng::new(seed));
        let wv = weight.to_vec();
        let cols = im2col_2d(&Tensor::from_slice(&c.x, &c.shape).unwrap(), &c.win).unwrap();
        let got = weight.reshape(&[oc, ch * kh * kw]).unwrap().matmul(&cols).unwrap();
        let mut want = vec![0.0; n * oc * oh * ow];
        for ni in 0..n {
            for o in 0..oc {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut s = 0.0;
                        for ci in 0..ch {
                            for ki in 0..kh {
                                for kj in 0..kw {
                                    if let Some((iy, ix)) = source(&c, oy, ox, ki, kj) {
                                        s += wv[((o * ch + ci) * kh + ki) * kw + kj]
                                            * c.x[((ni * ch + ci) * h + iy) * w + ix];
                                    }
                                }
                            }
                        }
                        want[((ni * oc + o) * oh + oy) * ow + ox] = s;
                    }
                }
            }
        }
        assert_close(&got, &[n, oc, oh * ow], &want, 1e-12);
    }

    #[test]
    fn one_d_is_two_d_with_unit_height(level in level(), c in case2d(), strided in any::<bool>(), seed in any::<u64>()) {
        let _simd = neurite_tensor::simd::force_level(level);
        // Reuse the 2-D case's width axis as the 1-D length.
        let [n, ch, _, l] = c.shape;
        let shape = [n, ch, l];
        let mut rng = neurite_tensor::Rng::new(seed);
        let xv = Tensor::<f64>::rand_normal(&shape, 0.0, 1.0, &mut rng).to_vec();
        let win = Window1d::new([c.win.kernel[1]])
            .with_stride([c.win.stride[1]])
            .with_padding_asym([c.win.pad_before[1]], [c.win.pad_after[1]])
            .with_dilation([c.win.dilation[1]]);
        let x = tensor(&xv, &shape, strided);
        let x2 = Tensor::from_slice(&xv, &[n, ch, 1, l]).unwrap();
        let got = im2col_1d(&x, &win);
        let want = im2col_2d(&x2, &lifted(&win));
        let (got, want) = match (got, want) {
            (Ok(g), Ok(w)) => (g, w),
            (Err(e), Err(_)) => {
                prop_assert!(e.to_string().contains(&format!("{shape:?}")), "{e}");
                return Ok(());
            }
            (g, w) => panic!("1-D {g:?} vs 2-D {w:?}"),
        };
        assert_close(&got, want.shape(), &want.to_vec(), 0.0);
        let ol = win.output_size([l]).unwrap()[0];
        prop_assert_eq!(got.shape(), &[n, ch * win.kernel[0], ol][..]);
        let mut buf = vec![f64::NAN; got.len()];
        im2col_1d_into(&xv, shape, &win, &mut buf).unwrap();
        prop_assert_eq!(&buf, &got.to_vec());
        // col2im_1d against the 2-D one, and adjointness.
        let y = Tensor::<f64>::rand_normal(got.shape(), 0.0, 1.0, &mut rng);
        let back = col2im_1d(&y, shape, &win).unwrap();
        let back2 = col2im_2d(&y, [n, ch, 1, l], &lifted(&win)).unwrap();
        assert_close(&back, &shape, &back2.to_vec(), 0.0);
        let mut buf = vec![f64::NAN; back.len()];
        col2im_1d_into(&y.to_vec(), shape, &win, &mut buf).unwrap();
        prop_assert_eq!(&buf, &back.to_vec());
        let (lhs, rhs) = (dot(&got.to_vec(), &y.to_vec()), dot(&xv, &back.to_vec()));
        prop_assert!(close(lhs, rhs, 1e-10), "{lhs} vs {rhs}");
        prop_assert!(col2im_1d(&Tensor::<f64>::zeros(&[n, ch * win.kernel[0] + 1, ol]), shape, &win).is_err());
        let mut wrong = vec![0.0; buf.len() + 1];
        prop_assert!(col2im_1d_into(&y.to_vec(), shape, &win, &mut wrong).is_err());
    }

    #[test]
    fn f32_columns_equal_f64_columns(level in level(), c in case2d()) {
        let _simd = neurite_tensor::simd::force_level(level);
        prop_assume!(out_hw(&c).is_some());
        let x = Tensor::from_slice(&c.x, &c.shape).unwrap();
        let a = im2col_2d(&x, &c.win).unwrap();
        let b = im2col_2d(&x.cast::<f32>(), &c.win).unwrap();
        prop_assert_eq!(a.cast::<f32>().to_vec(), b.to_vec());
    }
}

#[test]
fn bad_parameters_and_ranks_are_typed_errors() {
    let x = Tensor::<f32>::zeros(&[2, 3, 5, 5]);
    for win in [
        Window2d::new([0, 3]),
        Window2d::new([3, 3]).with_stride([1, 0]),
        Window2d::new([3, 3]).with_dilation([0, 1]),
        Window2d::new([3, 6]),
        Window2d::new([3, 3]).with_dilation([3, 1]),
    ] {
        assert!(im2col_2d(&x, &win).is_err(), "{win:?}");
        assert!(col2im_2d(&Tensor::<f32>::zeros(&[2, 27, 9]), [2, 3, 5, 5], &win).is_err());
    }
    let e = im2col_2d(&Tensor::<f32>::zeros(&[3, 5, 5]), &Window2d::new([3, 3])).unwrap_err();
    assert!(e.to_string().contains("[3, 5, 5]"), "{e}");
    assert!(im2col_1d(&x, &Window1d::new([3])).is_err());
    assert!(im2col_2d_into(
        &[0.0f32; 10],
        [2, 3, 5, 5],
        &Window2d::new([3, 3]),
        &mut [0.0; 486]
    )
    .is_err());
    assert!(Window1d::new([2])
        .with_padding([usize::MAX])
        .output_size([1])
        .is_err());
}

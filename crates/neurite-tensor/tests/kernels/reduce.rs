//! Reductions along axes with keep-dims, arg-reductions, log-sum-exp and the stable softmax /
//! log-softmax.

use neurite_tensor::Tensor;
use proptest::collection::vec;
use proptest::prelude::*;

use crate::common::*;

/// The output index of input index `idx` when `axes` are reduced.
fn reduced_index(idx: &[usize], axes: &[usize], keepdim: bool) -> Vec<usize> {
    idx.iter()
        .enumerate()
        .filter_map(|(d, &i)| match (axes.contains(&d), keepdim) {
            (true, true) => Some(0),
            (true, false) => None,
            (false, _) => Some(i),
        })
        .collect()
}

fn reduced_shape(shape: &[usize], axes: &[usize], keepdim: bool) -> Vec<usize> {
    shape
        .iter()
        .enumerate()
        .filter_map(|(d, &n)| match (axes.contains(&d), keepdim) {
            (true, true) => Some(1),
            (true, false) => None,
            (false, _) => Some(n),
        })
        .collect()
}

/// Values drawn from a few integers, so that ties (and their first-index rule) are common.
fn tied(n: usize) -> impl Strategy<Value = Vec<f64>> {
    vec((-3i32..3).prop_map(f64::from), n)
}

/// A shape, values (tied when `ties`), an axis subset mask, keepdim and a strided flag.
#[allow(clippy::type_complexity)]
fn reduction_case(
    ties: bool,
) -> impl Strategy<Value = (Vec<usize>, Vec<f64>, Vec<bool>, bool, bool)> {
    shape(4, 3).prop_flat_map(move |s| {
        let n: usize = s.iter().product();
        let v = if ties {
            tied(n).boxed()
        } else {
            values(n).boxed()
        };
        (
            Just(s.clone()),
            v,
            vec(any::<bool>(), s.len()),
            any::<bool>(),
            any::<bool>(),
        )
    })
}

/// Naive lane reduction: for each output position, the lane of input values along `axis`.
fn lanes(shape: &[usize], v: &[f64], axis: usize) -> Vec<Vec<f64>> {
    let out = reduced_shape(shape, &[axis], false);
    indices(&out)
        .iter()
        .map(|o| {
            (0..shape[axis])
                .map(|k| {
                    let mut i = o.clone();
                    i.insert(axis, k);
                    v[ravel(&i, shape)]
                })
                .collect()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn sum_and_mean_over_any_axes(level in level(), (s, v, mask, keepdim, strided) in reduction_case(false),
                                  reverse in any::<bool>()) {
        let _simd = neurite_tensor::simd::force_level(level);
        let t = tensor(&v, &s, strided);
        let mut axes: Vec<usize> = (0..s.len()).filter(|&d| mask[d]).collect();
        if reverse {
            axes.reverse(); // the order of the axes does not matter
        }
        let out_shape = reduced_shape(&s, &axes, keepdim);
        let mut want = vec![0.0; out_shape.iter().product()];
        for (k, i) in indices(&s).iter().enumerate() {
            want[ravel(&reduced_index(i, &axes, keepdim), &out_shape)] += v[k];
        }
        assert_close(&t.sum_axes(&axes, keepdim).unwrap(), &out_shape, &want, 1e-12);
        let count: usize = axes.iter().map(|&a| s[a]).product();
        let mean: Vec<f64> = want.iter().map(|x| x / count as f64).collect();
        assert_close(&t.mean_axes(&axes, keepdim).unwrap(), &out_shape, &mean, 1e-12);
        prop_assert_eq!(t.reduced_shape(&axes, keepdim), out_shape);
        let total: f64 = v.iter().sum();
        prop_assert!(close(t.sum_value(), total, 1e-12));
        prop_assert!(close(t.sum_all().item().unwrap(), total, 1e-12));
        prop_assert!(close(t.mean_all().item().unwrap(), total / v.len() as f64, 1e-12));
        prop_assert!(close(t.norm_sq(), dot(&v, &v), 1e-12));
    }

    #[test]
    fn bad_axes_are_errors(level in level(), s in shape(3, 3), extra in 0..3usize) {
        let _simd = neurite_tensor::simd::force_level(level);
        let t = Tensor::<f64>::zeros(&s);
        let r = s.len();
        prop_assert!(t.sum_axes(&[r + extra], false).is_err());
        prop_assert!(t.max_axis(r + extra, true).is_err());
        prop_assert!(t.argmax(r + extra).is_err());
        prop_assert!(t.softmax(r + extra).is_err());
        prop_assert!(t.logsumexp(r + extra, false).is_err());
        if r > 0 {
            prop_assert!(t.sum_axes(&[0, 0], false).is_err());
            prop_assert!(t.mean_axes(&[r - 1, r - 1], true).is_err());
        }
    }

    #[test]
    fn max_min_argmax_argmin_along_an_axis(level in level(), (s, v, _, keepdim, strided) in reduction_case(true),
                                           axis_pick in 0..4usize) {
        let _simd = neurite_tensor::simd::force_level(level);
        prop_assume!(!s.is_empty());
        let axis = axis_pick % s.len();
        let t = tensor(&v, &s, strided);
        if s[axis] == 0 {
            prop_assert!(t.max_axis(axis, keepdim).is_err());
            prop_assert!(t.min_axis(axis, keepdim).is_err());
            prop_assert!(t.argmax(axis).is_err());
            prop_assert!(t.argmin(axis).is_err());
            prop_assert!(t.logsumexp(axis, keepdim).is_err());
            return Ok(());
        }
        let ls = lanes(&s, &v, axis);
        let out_shape = reduced_shape(&s, &[axis], keepdim);
        let first = |l: &Vec<f64>, better: fn(f64, f64) -> bool| {
            (1..l.len()).fold(0, |b, i| if better(l[i], l[b]) { i } else { b })
        };
        let maxes: Vec<f64> = ls.iter().map(|l| l.iter().copied().fold(f64::MIN, f64::max)).collect();
        let mins: Vec<f64> = ls.iter().map(|l| l.iter().copied().fold(f64::MAX, f64::min)).collect();
        let argmax: Vec<usize> = ls.iter().map(|l| first(l, |a, b| a > b)).collect();
        let argmin: Vec<usize> = ls.iter().map(|l| first(l, |a, b| a < b)).collect();
        let lse: Vec<f64> = ls.iter().map(|l| l.iter().map(|x| x.exp()).sum::<f64>().ln()).collect();
        assert_close(&t.max_axis(axis, keepdim).unwrap(), &out_shape, &maxes, 0.0);
        assert_close(&t.min_axis(axis, keepdim).unwrap(), &out_shape, &mins, 0.0);
        prop_assert_eq!(t.argmax(axis).unwrap(), argmax);
        prop_assert_eq!(t.argmin(axis).unwrap(), argmin);
        assert_close(&t.logsumexp(axis, keepdim).unwrap(), &out_shape, &lse, 1e-12);
        // Stable: a huge common shift moves log-sum-exp by exactly that shift and stays finite.
        let big = t.add_scalar(1e4).logsumexp(axis, keepdim).unwrap();
        let shifted: Vec<f64> = lse.iter().map(|x| x + 1e4).collect();
        assert_close(&big, &out_shape, &shifted, 1e-12);
    }

    #[test]
    fn softmax_and_log_softmax(level in level(), (s, v, _, _, strided) in reduction_case(false), axis_pick in 0..4usize,
                               shift in prop_oneof![Just(0.0), Just(1e4), Just(-1e4), Just(3e300)]) {
        let _simd = neurite_tensor::simd::force_level(level);
        prop_assume!(!s.is_empty());
        let axis = axis_pick % s.len();
        let t = tensor(&v, &s, strided);
        let sm = t.softmax(axis).unwrap();
        let lsm = t.log_softmax(axis).unwrap();
        let mut want = vec![0.0; v.len()];
        let mut want_log = vec![0.0; v.len()];
        for (k, i) in indices(&s).iter().enumerate() {
            let lane: Vec<f64> = (0..s[axis])
                .map(|j| { let mut i = i.clone(); i[axis] = j; v[ravel(&i, &s)] })
                .collect();
            let z: f64 = lane.iter().map(|x| x.exp()).sum();
            want[k] = v[k].exp() / z;
            want_log[k] = v[k] - z.ln();
        }
        assert_close(&sm, &s, &want, 1e-12);
        assert_close(&lsm, &s, &want_log, 1e-12);
        // Shifting every input (even by a huge amount) changes nothing, and nothing overflows.
        let ts = t.add_scalar(shift);
        let sms = ts.softmax(axis).unwrap();
        prop_assert!(sms.all_finite());
        if shift.abs() < 1e5 {
            assert_close(&sms, &s, &want, 1e-9);
            assert_close(&ts.log_softmax(axis).unwrap(), &s, &want_log, 1e-9);
        } else {
            // All inputs round to the shift: a uniform distribution, still finite.
            let sums = sms.sum_axes(&[axis], false).unwrap();
            prop_assert!(s[axis] == 0 || sums.to_vec().iter().all(|x| (x - 1.0).abs() < 1e-12));
            prop_assert!(ts.log_softmax(axis).unwrap().all_finite());
        }
        // f32 on the same huge inputs stays finite too.
        let t32 = tensor(&v, &s, strided).mul_scalar(1e30).cast::<f32>();
        prop_assert!(t32.softmax(axis).unwrap().all_finite());
        prop_assert!(t32.log_softmax(axis).unwrap().to_vec().iter().all(|x| !x.is_nan()));
    }
}

#[test]
fn nan_propagates_through_max_and_argmax() {
    let t = Tensor::<f64>::from_vec(vec![1.0, f64::NAN, 3.0, 2.0], &[2, 2]).unwrap();
    assert!(t.max_axis(1, false).unwrap().to_vec()[0].is_nan());
    assert_eq!(t.max_axis(1, false).unwrap().to_vec()[1], 3.0);
    assert_eq!(t.argmax(1).unwrap(), vec![1, 0]);
    assert_eq!(t.argmax(0).unwrap(), vec![1, 0]);
    assert!(t.logsumexp(1, false).unwrap().to_vec()[0].is_nan());
}

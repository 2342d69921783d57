//! Element-wise kernels: broadcasting binary ops, unary maths, scalar ops, in-place updates,
//! broadcast_to and sum_to.

use neurite_tensor::{Result, Tensor};
use proptest::prelude::*;

use crate::common::*;

type Binary = fn(&Tensor<f64>, &Tensor<f64>) -> Result<Tensor<f64>>;
type Scalar2 = fn(f64, f64) -> f64;
type Scalar1 = fn(f64) -> f64;

fn binary_ops() -> Vec<(&'static str, Binary, Scalar2)> {
    vec![
        ("add", Tensor::add, |p, q| p + q),
        ("sub", Tensor::sub, |p, q| p - q),
        ("mul", Tensor::mul, |p, q| p * q),
        ("div", Tensor::div, |p, q| p / q),
        ("maximum", Tensor::maximum, f64::max),
        ("minimum", Tensor::minimum, f64::min),
        ("pow", Tensor::pow, f64::powf),
        ("eq_mask", Tensor::eq_mask, |p, q| (p == q) as u8 as f64),
        ("ne_mask", Tensor::ne_mask, |p, q| (p != q) as u8 as f64),
        ("lt_mask", Tensor::lt_mask, |p, q| (p < q) as u8 as f64),
        ("le_mask", Tensor::le_mask, |p, q| (p <= q) as u8 as f64),
        ("gt_mask", Tensor::gt_mask, |p, q| (p > q) as u8 as f64),
        ("ge_mask", Tensor::ge_mask, |p, q| (p >= q) as u8 as f64),
    ]
}

/// Moderate reals with the special values mixed in.
fn special_values(n: usize) -> impl Strategy<Value = Vec<f64>> {
    proptest::collection::vec(
        prop_oneof![
            6 => -4.0..4.0f64,
            1 => prop::sample::select(vec![0.0, -0.0, 1.0, -1.0, 40.0, -40.0, 800.0, -800.0]),
        ],
        n,
    )
}

fn sigmoid_ref(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn softplus_ref(x: f64) -> f64 {
    if x.abs() > 30.0 {
        x.max(0.0)
    } else {
        (1.0 + x.exp()).ln()
    }
}

/// Φ(x) by composite Simpson integration of the normal density: an erf-free reference.
fn normal_cdf(x: f64) -> f64 {
    let n = 2000;
    let h = x / n as f64;
    let phi = |t: f64| (-t * t / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let mut s = phi(0.0) + phi(x);
    for i in 1..n {
        s += phi(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    0.5 + s * h / 3.0
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn binary_ops_broadcast_like_numpy(level in level(), ((sa, va, ta), (sb, vb, tb)) in broadcast_pair()) {
        let _simd = neurite_tensor::simd::force_level(level);
        let a = tensor(&va, &sa, ta);
        let b = tensor(&vb, &sb, tb);
        let out = broadcast(&sa, &sb).unwrap();
        for (name, op, f) in binary_ops() {
            let got = op(&a, &b).unwrap_or_else(|e| panic!("{name} {sa:?} {sb:?}: {e}"));
            let want: Vec<f64> = indices(&out)
                .iter()
                .map(|i| f(va[broadcast_index(i, &sa)], vb[broadcast_index(i, &sb)]))
                .collect();
            assert_close(&got, &out, &want, 1e-12);
            // Either operand order.
            let got = op(&b, &a).unwrap();
            let want: Vec<f64> = indices(&out)
                .iter()
                .map(|i| f(vb[broadcast_index(i, &sb)], va[broadcast_index(i, &sa)]))
                .collect();
            assert_close(&got, &out, &want, 1e-12);
        }
    }

    #[test]
    fn incompatible_shapes_are_errors(level in level(), lead in shape(2, 2), x in 2..5usize, y in 2..5usize) {
        let _simd = neurite_tensor::simd::force_level(level);
        prop_assume!(x != y);
        let mut sa = lead.clone();
        sa.push(x);
        let mut sb = lead;
        sb.extend([1, y]); // [.., 1, y] vs [.., x]
        let a = Tensor::<f64>::zeros(&sa);
        let b = Tensor::<f64>::zeros(&sb);
        for (name, op, _) in binary_ops() {
            let e = op(&a, &b).expect_err(name).to_string();
            prop_assert!(e.contains(&format!("{sa:?}")) && e.contains(&format!("{sb:?}")), "{e}");
        }
    }

    #[test]
    fn unary_maths_match_std(level in level(), (s, v) in shape(3, 4).prop_flat_map(|s| {
                                 let n = s.iter().product();
                                 (Just(s), special_values(n))
                             }),
                             strided in any::<bool>()) {
        let _simd = neurite_tensor::simd::force_level(level);
        let v = v.as_slice();
        let t = tensor(v, &s, strided);
        let cases: Vec<(&str, Tensor<f64>, Scalar1)> = vec![
            ("neg", t.neg(), |x| -x),
            ("exp", t.exp(), f64::exp),
            ("ln", t.ln(), f64::ln),
            ("sqrt", t.sqrt(), f64::sqrt),
            ("abs", t.abs(), f64::abs),
            ("square", t.square(), |x| x * x),
            ("recip", t.recip(), |x| 1.0 / x),
            ("sign", t.sign(), |x| if x > 0.0 { 1.0 } else if x < 0.0 { -1.0 } else { 0.0 }),
            ("tanh", t.tanh(), f64::tanh),
            ("sigmoid", t.sigmoid(), sigmoid_ref),
            ("relu", t.relu(), |x| if x > 0.0 { x } else { 0.0 }),
            ("softplus", t.softplus(), softplus_ref),
            ("add_scalar", t.add_scalar(1.5), |x| x + 1.5),
            ("mul_scalar", t.mul_scalar(-2.0), |x| x * -2.0),
            ("powf", t.powf(3.0), |x| x.powf(3.0)),
            ("clamp", t.clamp(-1.0, 2.0), |x| x.clamp(-1.0, 2.0)),
            ("leaky_relu", t.leaky_relu(0.1), |x| if x > 0.0 { x } else { 0.1 * x }),
            ("elu", t.elu(0.7), |x| if x > 0.0 { x } else { 0.7 * (x.exp() - 1.0) }),
            ("map", t.map(|x| 2.0 * x + 1.0), |x| 2.0 * x + 1.0),
        ];
        for (name, got, f) in cases {
            let want: Vec<f64> = v.iter().map(|&x| f(x)).collect();
            assert_eq!(got.shape(), s.as_slice(), "{name}");
            for (i, (&g, &w)) in got.to_vec().iter().zip(&want).enumerate() {
                prop_assert!(close(g, w, 1e-12), "{name}({}) = {g}, want {w}", v[i]);
            }
        }
        // Stable forms stay finite and in range where the naive forms overflow.
        prop_assert!(t.sigmoid().to_vec().iter().all(|y| (0.0..=1.0).contains(y)));
        prop_assert!(t.softplus().all_finite());
        let mut m = t.clone();
        m.map_inplace(|x| x * 3.0);
        assert_close(&m, &s, &v.iter().map(|x| x * 3.0).collect::<Vec<_>>(), 1e-15);
        prop_assert_eq!(t.to_vec(), v.to_vec()); // copy on write: the original is untouched
    }

    #[test]
    fn gelu_is_x_times_normal_cdf(level in level(), v in proptest::collection::vec(-6.0..6.0f64, 0..20)) {
        let _simd = neurite_tensor::simd::force_level(level);
        // Zero is left out: erf(0) does not terminate (see `gelu_of_zero_terminates`).
        let v: Vec<f64> = v.into_iter().filter(|x| x.abs() > 1e-3).collect();
        let got = Tensor::from_slice(&v, &[v.len()]).unwrap().gelu();
        for (&g, &x) in got.to_vec().iter().zip(&v) {
            prop_assert!(close(g, x * normal_cdf(x), 1e-9), "gelu({x}) = {g}");
        }
    }

    #[test]
    fn f32_unary_and_binary_agree_with_f64(level in level(), ((sa, va, _), (sb, vb, _)) in broadcast_pair()) {
        let _simd = neurite_tensor::simd::force_level(level);
        let a = Tensor::from_slice(&va, &sa).unwrap();
        let b = Tensor::from_slice(&vb, &sb).unwrap();
        let want = a.mul(&b.sigmoid()).unwrap().add(&a.tanh()).unwrap();
        let got = a.cast::<f32>().mul(&b.cast::<f32>().sigmoid()).unwrap().add(&a.cast::<f32>().tanh()).unwrap();
        assert_close(&got.cast::<f64>(), want.shape(), &want.to_vec(), 1e-5);
    }

    #[test]
    fn sum_to_reverses_broadcasting(level in level(), ((big, vb, tb), (small, _, _)) in broadcast_pair()) {
        let _simd = neurite_tensor::simd::force_level(level);
        // `small` broadcasts to broadcast(big, small); use that as the big shape.
        let out = broadcast(&big, &small).unwrap();
        prop_assume!(out == big);
        let t = tensor(&vb, &big, tb);
        let got = t.sum_to(&small).unwrap();
        let mut want = vec![0.0; small.iter().product()];
        for (k, i) in indices(&big).iter().enumerate() {
            want[broadcast_index(i, &small)] += vb[k];
        }
        assert_close(&got, &small, &want, 1e-12);
        // broadcast_to is its adjoint: ⟨sum_to(x), y⟩ = ⟨x, broadcast_to(y)⟩.
        let y: Vec<f64> = (0..want.len()).map(|i| (i as f64).sin()).collect();
        let yb = Tensor::from_slice(&y, &small).unwrap().broadcast_to(&big).unwrap();
        let lhs = dot(&got.to_vec(), &y);
        let rhs = dot(&t.to_vec(), &yb.to_vec());
        prop_assert!(close(lhs, rhs, 1e-10), "{lhs} vs {rhs}");
    }

    #[test]
    fn add_scaled_inplace_is_axpy(level in level(), ((big, vb, tb), (small, vs, ts)) in broadcast_pair(), alpha in -2.0..2.0f64) {
        let _simd = neurite_tensor::simd::force_level(level);
        let out = broadcast(&big, &small).unwrap();
        let mut t = tensor(&vb, &big, tb);
        let o = tensor(&vs, &small, ts);
        let r = t.add_scaled_inplace(alpha, &o);
        if out != big {
            prop_assert!(r.is_err());
            return Ok(());
        }
        r.unwrap();
        let want: Vec<f64> = indices(&big)
            .iter()
            .enumerate()
            .map(|(k, i)| vb[k] + alpha * vs[broadcast_index(i, &small)])
            .collect();
        assert_close(&t, &big, &want, 1e-12);
    }

    #[test]
    fn zip_map_needs_equal_shapes(level in level(), ((sa, va, ta), (sb, vb, tb)) in broadcast_pair()) {
        let _simd = neurite_tensor::simd::force_level(level);
        let a = tensor(&va, &sa, ta);
        let b = tensor(&vb, &sb, tb);
        let r = a.zip_map(&b, |p, q| p * 2.0 - q);
        if sa != sb {
            prop_assert!(r.is_err());
        } else {
            let want: Vec<f64> = va.iter().zip(&vb).map(|(p, q)| p * 2.0 - q).collect();
            assert_close(&r.unwrap(), &sa, &want, 1e-15);
        }
    }
}

/// erf's Taylor loop stops on `add < 1e-17·sum`, never true when both are 0: `gelu(0)` (and
/// `erf` of 0 or a subnormal) spins forever. Run on a thread so the failure is a timeout, not a
/// hung suite.
#[test]
fn gelu_of_zero_terminates() {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let y = Tensor::<f64>::from_vec(vec![0.0, 1e-310, -0.0], &[3])
            .unwrap()
            .gelu();
        let _ = tx.send(y.to_vec());
    });
    let got = rx
        .recv_timeout(std::time::Duration::from_secs(5))
        .expect("gelu(0) did not return within 5 s");
    assert!(got.iter().all(|&y| y.abs() < 1e-300), "{got:?}");
}

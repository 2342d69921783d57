//! Matrix products: 2-D, batched with broadcast batch dimensions, transposed (strided)
//! operands, f32 and f64, and the raw `gemm` with α and β.

use neurite_tensor::{gemm, Tensor};
use proptest::collection::vec;
use proptest::prelude::*;

use crate::common::*;

/// Naive batched product of `a` [.., m, k] and `b` [.., k, n] with broadcast batch dims.
fn matmul_ref(sa: &[usize], va: &[f64], sb: &[usize], vb: &[f64]) -> (Vec<usize>, Vec<f64>) {
    let (ra, rb) = (sa.len(), sb.len());
    let (m, k, n) = (sa[ra - 2], sa[ra - 1], sb[rb - 1]);
    let batch = broadcast(&sa[..ra - 2], &sb[..rb - 2]).unwrap();
    let mut out_shape = batch.clone();
    out_shape.extend([m, n]);
    let mut out = vec![0.0; out_shape.iter().product()];
    for (o, idx) in indices(&out_shape).iter().enumerate() {
        let (bi, (i, j)) = (
            &idx[..batch.len()],
            (idx[batch.len()], idx[batch.len() + 1]),
        );
        let mut ia = bi[bi.len() - (ra - 2)..].to_vec();
        ia.extend([i, 0]);
        let mut ib = bi[bi.len() - (rb - 2)..].to_vec();
        ib.extend([0, j]);
        for p in 0..k {
            let (la, lb) = (ia.len(), ib.len());
            ia[la - 1] = p;
            ib[lb - 2] = p;
            out[o] += va[broadcast_index(&ia, sa)] * vb[broadcast_index(&ib, sb)];
        }
    }
    (out_shape, out)
}

/// A tensor of logical shape [.., r, c] stored as [.., c, r] and transposed back (strided).
fn maybe_transposed(v: &[f64], shape: &[usize], transposed: bool) -> Tensor<f64> {
    let t = Tensor::from_slice(v, shape).unwrap();
    if !transposed {
        return t;
    }
    let r = shape.len();
    t.transpose(r - 2, r - 1)
        .unwrap()
        .contiguous()
        .transpose(r - 2, r - 1)
        .unwrap()
}

/// Operand shapes [batch_a.., m, k] and [batch_b.., k, n] whose batch dims broadcast.
fn matmul_shapes() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    (
        shape(2, 3),
        0..=2usize,
        vec(prop::bool::weighted(0.3), 2),
        0..=2usize,
        vec(prop::bool::weighted(0.3), 2),
        0..6usize,
        0..6usize,
        0..6usize,
    )
        .prop_map(|(batch, da, oa, db, ob, m, k, n)| {
            let mut ones_a = oa.clone();
            ones_a.resize(batch.len(), false);
            let mut ones_b = ob.clone();
            ones_b.resize(batch.len(), false);
            let mut sa = sub_shape(&batch, da, &ones_a);
            sa.extend([m, k]);
            let mut sb = sub_shape(&batch, db, &ones_b);
            sb.extend([k, n]);
            (sa, sb)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn batched_matmul_matches_loops(((sa, va), (sb, vb), ta, tb) in matmul_shapes().prop_flat_map(|(sa, sb)| {
        let (na, nb) = (sa.iter().product(), sb.iter().product());
        ((Just(sa), values(na)), (Just(sb), values(nb)), any::<bool>(), any::<bool>())
    }), alpha in -2.0..2.0f64) {
        let a = maybe_transposed(&va, &sa, ta);
        let b = maybe_transposed(&vb, &sb, tb);
        let (shape, want) = matmul_ref(&sa, &va, &sb, &vb);
        assert_close(&a.matmul(&b).unwrap(), &shape, &want, 1e-12);
        let scaled: Vec<f64> = want.iter().map(|x| alpha * x).collect();
        assert_close(&a.matmul_scaled(&b, alpha).unwrap(), &shape, &scaled, 1e-12);
        // sgemm on the same operands.
        let got32 = a.cast::<f32>().matmul(&b.cast::<f32>()).unwrap().cast::<f64>();
        let k = sa[sa.len() - 1] as f64;
        for (&g, &w) in got32.to_vec().iter().zip(&want) {
            prop_assert!((g - w).abs() <= 1e-5 * (1.0 + k) * 16.0, "f32 {g} vs {w}");
        }
    }

    #[test]
    fn mismatched_products_are_errors(m in 1..4usize, k in 1..4usize, n in 1..4usize, d in 1..3usize) {
        let a = Tensor::<f64>::zeros(&[m, k]);
        let e = a.matmul(&Tensor::zeros(&[k + d, n])).unwrap_err().to_string();
        prop_assert!(e.contains(&format!("{:?}", [m, k])), "{e}");
        prop_assert!(a.matmul(&Tensor::zeros(&[k])).is_err());
        prop_assert!(Tensor::<f64>::zeros(&[2, m, k]).matmul(&Tensor::zeros(&[3, k, n])).is_err());
    }

    #[test]
    fn gemm_accumulates_alpha_ab_plus_beta_c(m in 0..7usize, k in 0..7usize, n in 0..7usize,
                                             ta in any::<bool>(), tb in any::<bool>(),
                                             alpha in -2.0..2.0f64, beta in prop_oneof![Just(0.0), Just(1.0), -2.0..2.0f64],
                                             seed in any::<u64>()) {
        let mut rng = neurite_tensor::Rng::new(seed);
        let a = maybe_transposed(&Tensor::<f64>::rand_normal(&[m, k], 0.0, 1.0, &mut rng).to_vec(), &[m, k], ta);
        let b = maybe_transposed(&Tensor::<f64>::rand_normal(&[k, n], 0.0, 1.0, &mut rng).to_vec(), &[k, n], tb);
        let c0 = Tensor::<f64>::rand_normal(&[m, n], 0.0, 1.0, &mut rng);
        let (_, ab) = matmul_ref(&[m, k], &a.to_vec(), &[k, n], &b.to_vec());
        let want: Vec<f64> = ab.iter().zip(c0.to_vec()).map(|(x, c)| alpha * x + beta * c).collect();
        let mut c = c0.clone().into_array().into_dimensionality::<neurite_tensor::ndarray::Ix2>().unwrap();
        let av = a.view().into_dimensionality::<neurite_tensor::ndarray::Ix2>().unwrap();
        let bv = b.view().into_dimensionality::<neurite_tensor::ndarray::Ix2>().unwrap();
        gemm(alpha, &av, &bv, beta, &mut c.view_mut()).unwrap();
        let got: Vec<f64> = c.iter().copied().collect();
        for (&g, &w) in got.iter().zip(&want) {
            prop_assert!(close(g, w, 1e-12), "{g} vs {w}");
        }
        // Wrong output shape: an error.
        let mut bad = neurite_tensor::ndarray::Array2::<f64>::zeros((m + 1, n));
        prop_assert!(gemm(alpha, &av, &bv, beta, &mut bad.view_mut()).is_err());
    }
}

/// Large enough to split over threads (above the GEMM parallel threshold): still exact.
#[test]
fn large_products_match_loops() {
    let mut rng = neurite_tensor::Rng::new(5);
    for (m, k, n) in [(200, 70, 190), (33, 300, 250), (1, 500, 300)] {
        let a = Tensor::<f64>::rand_normal(&[m, k], 0.0, 1.0, &mut rng);
        let b = Tensor::<f64>::rand_normal(&[n, k], 0.0, 1.0, &mut rng)
            .t()
            .unwrap();
        let (shape, want) = matmul_ref(&[m, k], &a.to_vec(), &[k, n], &b.to_vec());
        assert_close(&a.matmul(&b).unwrap(), &shape, &want, 1e-11);
    }
    let a = Tensor::<f64>::rand_normal(&[6, 40, 50], 0.0, 1.0, &mut rng);
    let b = Tensor::<f64>::rand_normal(&[50, 60], 0.0, 1.0, &mut rng);
    let (shape, want) = matmul_ref(a.shape(), &a.to_vec(), b.shape(), &b.to_vec());
    assert_close(&a.matmul(&b).unwrap(), &shape, &want, 1e-11);
}

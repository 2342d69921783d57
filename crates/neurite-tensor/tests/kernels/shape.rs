//! Shape operations: reshape, transpose / permute, narrow / slice, squeeze / unsqueeze,
//! concat / stack / split, index_select and index_add.

use neurite_tensor::Tensor;
use proptest::collection::vec;
use proptest::prelude::*;

use crate::common::*;

/// A random permutation of `0..n` from a list of sort keys.
fn permutation(keys: &[u32]) -> Vec<usize> {
    let mut p: Vec<usize> = (0..keys.len()).collect();
    p.sort_by_key(|&i| keys[i]);
    p
}

fn with_axis() -> impl Strategy<Value = (Vec<usize>, Vec<f64>, usize, bool)> {
    shaped(4, 4).prop_flat_map(|(s, v)| {
        let r = s.len().max(1);
        (Just(s), Just(v), 0..r, any::<bool>())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn reshape_keeps_row_major_order((s, v) in shaped(4, 4), strided in any::<bool>(),
                                     split in 0..5usize) {
        let t = tensor(&v, &s, strided);
        let n = v.len();
        // Any factorisation of n works; a wrong count is an error.
        let shape2 = if n > 0 && n % (split + 1) == 0 { vec![split + 1, n / (split + 1)] } else { vec![n] };
        let r = t.reshape(&shape2).unwrap();
        assert_close(&r, &shape2, &v, 0.0);
        assert_close(&t.flatten(), &[n], &v, 0.0);
        prop_assert!(t.reshape(&[n + 1]).is_err());
        prop_assert_eq!(t.contiguous().as_slice().map(|x| x.to_vec()), Some(v.clone()));
    }

    #[test]
    fn permute_and_transpose_move_indices((s, v) in shaped(4, 4), strided in any::<bool>(),
                                          keys in vec(any::<u32>(), 4), a in 0..4usize, b in 0..4usize) {
        let t = tensor(&v, &s, strided);
        let r = s.len();
        let perm = permutation(&keys[..r]);
        let p = t.permute(&perm).unwrap();
        let ps: Vec<usize> = perm.iter().map(|&i| s[i]).collect();
        let want: Vec<f64> = indices(&ps)
            .iter()
            .map(|o| {
                let mut i = vec![0; r];
                for (d, &pd) in perm.iter().enumerate() {
                    i[pd] = o[d];
                }
                v[ravel(&i, &s)]
            })
            .collect();
        assert_close(&p, &ps, &want, 0.0);
        prop_assert!(t.permute(&vec![0; r + 1]).is_err());
        if r >= 2 {
            prop_assert!(t.permute(&vec![0; r]).is_err()); // not a permutation
        }
        if r > 0 {
            let (a, b) = (a % r, b % r);
            let mut sw: Vec<usize> = (0..r).collect();
            sw.swap(a, b);
            prop_assert_eq!(t.transpose(a, b).unwrap().to_vec(), t.permute(&sw).unwrap().to_vec());
        }
        prop_assert!(t.transpose(0, r).is_err());
        if r == 2 {
            prop_assert_eq!(t.t().unwrap().to_vec(), t.permute(&[1, 0]).unwrap().to_vec());
        } else {
            prop_assert!(t.t().is_err());
        }
    }

    #[test]
    fn narrow_and_slice_pick_ranges((s, v, axis, strided) in with_axis(),
                                    start in 0..5usize, len in 0..5usize, step in 1..4usize) {
        let t = tensor(&v, &s, strided);
        if s.is_empty() {
            prop_assert!(t.narrow(0, 0, 0).is_err());
            return Ok(());
        }
        let dim = s[axis];
        let pick = |range: Vec<usize>| -> (Vec<usize>, Vec<f64>) {
            let mut shape = s.clone();
            shape[axis] = range.len();
            let vals = indices(&shape)
                .iter()
                .map(|o| { let mut i = o.clone(); i[axis] = range[o[axis]]; v[ravel(&i, &s)] })
                .collect();
            (shape, vals)
        };
        let n = t.narrow(axis, start, len);
        if start + len <= dim {
            let (shape, want) = pick((start..start + len).collect());
            assert_close(&n.unwrap(), &shape, &want, 0.0);
        } else {
            prop_assert!(n.is_err());
        }
        let end = start + len;
        let sl = t.slice(axis, start, end, step);
        if end <= dim {
            let (shape, want) = pick((start..end).step_by(step).collect());
            assert_close(&sl.unwrap(), &shape, &want, 0.0);
        } else {
            prop_assert!(sl.is_err());
        }
        prop_assert!(t.slice(axis, 0, dim, 0).is_err());
        prop_assert!(t.narrow(s.len(), 0, 0).is_err());
        prop_assert!(t.narrow(axis, usize::MAX, 2).is_err());
    }

    #[test]
    fn squeeze_and_unsqueeze((s, v, axis, strided) in with_axis()) {
        let t = tensor(&v, &s, strided);
        let u = t.unsqueeze(axis).unwrap();
        let mut us = s.clone();
        us.insert(axis, 1);
        assert_close(&u, &us, &v, 0.0);
        assert_close(&u.squeeze(axis).unwrap(), &s, &v, 0.0);
        prop_assert!(t.unsqueeze(s.len() + 1).is_err());
        if !s.is_empty() && s[axis] != 1 {
            prop_assert!(t.squeeze(axis).is_err());
        }
    }

    #[test]
    fn concat_split_and_stack((s, _, axis, strided) in with_axis(), sizes in vec(0..4usize, 1..4),
                              seed in any::<u64>()) {
        prop_assume!(!s.is_empty());
        let mut rng = neurite_tensor::Rng::new(seed);
        let parts: Vec<(Vec<usize>, Vec<f64>)> = sizes
            .iter()
            .map(|&n| {
                let mut shape = s.clone();
                shape[axis] = n;
                let t = Tensor::<f64>::rand_normal(&shape, 0.0, 1.0, &mut rng);
                (shape, t.to_vec())
            })
            .collect();
        let ts: Vec<Tensor<f64>> = parts.iter().map(|(sh, v)| tensor(v, sh, strided)).collect();
        let refs: Vec<&Tensor<f64>> = ts.iter().collect();
        let cat = Tensor::concat(&refs, axis).unwrap();
        let mut cs = s.clone();
        cs[axis] = sizes.iter().sum();
        let want: Vec<f64> = indices(&cs)
            .iter()
            .map(|o| {
                let (mut part, mut j) = (0, o[axis]);
                while j >= sizes[part] { j -= sizes[part]; part += 1; }
                let mut i = o.clone();
                i[axis] = j;
                parts[part].1[ravel(&i, &parts[part].0)]
            })
            .collect();
        assert_close(&cat, &cs, &want, 0.0);
        // split is the inverse of concat.
        for (piece, (sh, v)) in cat.split(axis, &sizes).unwrap().iter().zip(&parts) {
            assert_close(piece, sh, v, 0.0);
        }
        prop_assert!(cat.split(axis, &[cs[axis] + 1]).is_err());
        // Mismatched other dims: an error.
        let mut bad = s.clone();
        bad[(axis + 1) % s.len()] += 1;
        if s.len() > 1 {
            prop_assert!(Tensor::concat(&[&ts[0], &Tensor::zeros(&bad)], axis).is_err());
        }
        prop_assert!(Tensor::<f64>::concat(&[], 0).is_err());
        // stack: a new axis of the same-shaped first part repeated.
        let same: Vec<&Tensor<f64>> = vec![&ts[0]; sizes.len()];
        for new_axis in 0..=s.len() {
            let st = Tensor::stack(&same, new_axis).unwrap();
            let mut ss = parts[0].0.clone();
            ss.insert(new_axis, sizes.len());
            let want: Vec<f64> = indices(&ss)
                .iter()
                .map(|o| { let mut i = o.clone(); i.remove(new_axis); parts[0].1[ravel(&i, &parts[0].0)] })
                .collect();
            assert_close(&st, &ss, &want, 0.0);
        }
        prop_assert!(Tensor::stack(&same, s.len() + 1).is_err());
        if sizes.len() > 1 && sizes[0] != sizes[1] {
            prop_assert!(Tensor::stack(&[&ts[0], &ts[1]], 0).is_err());
        }
    }

    #[test]
    fn index_select_gathers_and_index_add_scatters((s, v, axis, strided) in with_axis(),
                                                    picks in vec(0..8usize, 0..6)) {
        prop_assume!(!s.is_empty());
        let t = tensor(&v, &s, strided);
        let dim = s[axis];
        if dim == 0 {
            prop_assert!(picks.is_empty() || t.index_select(axis, &picks).is_err());
            return Ok(());
        }
        let idx: Vec<usize> = picks.iter().map(|&p| p % dim).collect();
        let sel = t.index_select(axis, &idx).unwrap();
        let mut ss = s.clone();
        ss[axis] = idx.len();
        let want: Vec<f64> = indices(&ss)
            .iter()
            .map(|o| { let mut i = o.clone(); i[axis] = idx[o[axis]]; v[ravel(&i, &s)] })
            .collect();
        assert_close(&sel, &ss, &want, 0.0);
        prop_assert!(t.index_select(axis, &[dim]).is_err());
        // index_add with repeated indices accumulates; it is the adjoint of index_select.
        let src_vals: Vec<f64> = (0..want.len()).map(|i| (i as f64 * 0.7).cos()).collect();
        let src = tensor(&src_vals, &ss, strided);
        let added = t.index_add(axis, &idx, &src).unwrap();
        let mut want_add = v.clone();
        for (k, o) in indices(&ss).iter().enumerate() {
            let mut i = o.clone();
            i[axis] = idx[o[axis]];
            want_add[ravel(&i, &s)] += src_vals[k];
        }
        assert_close(&added, &s, &want_add, 1e-12);
        assert_close(&t, &s, &v, 0.0); // the input is untouched
        let zero = Tensor::<f64>::zeros(&s).index_add(axis, &idx, &src).unwrap();
        prop_assert!(close(dot(&sel.to_vec(), &src_vals), dot(&v, &zero.to_vec()), 1e-10));
        prop_assert!(t.index_add(axis, &[dim], &t.narrow(axis, 0, 1).unwrap()).is_err());
        prop_assert!(t.index_add(axis, &idx, &t).is_err() || idx.len() == dim);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn constructors_fill_their_shapes(s in shape(4, 4), c in -3.0..3.0f64, seed in any::<u64>()) {
        let n: usize = s.iter().product();
        assert_close(&Tensor::<f64>::zeros(&s), &s, &vec![0.0; n], 0.0);
        assert_close(&Tensor::<f64>::ones(&s), &s, &vec![1.0; n], 0.0);
        assert_close(&Tensor::<f64>::full(&s, c), &s, &vec![c; n], 0.0);
        let v: Vec<f64> = (0..n).map(|i| i as f64).collect();
        assert_close(&Tensor::from_vec(v.clone(), &s).unwrap(), &s, &v, 0.0);
        prop_assert!(Tensor::from_vec(vec![0.0; n + 1], &s).is_err());
        assert_close(&Tensor::<f64>::arange(n), &[n], &v, 0.0);
        // The same seed gives the same samples; uniform samples stay in [lo, hi).
        let a = Tensor::<f64>::rand_uniform(&s, -1.0, 2.0, &mut neurite_tensor::Rng::new(seed));
        let b = Tensor::<f64>::rand_uniform(&s, -1.0, 2.0, &mut neurite_tensor::Rng::new(seed));
        prop_assert_eq!(&a, &b);
        prop_assert!(a.to_vec().iter().all(|x| (-1.0..2.0).contains(x)));
        let g = Tensor::<f32>::rand_normal(&s, 0.0, 1.0, &mut neurite_tensor::Rng::new(seed));
        prop_assert!(g.all_finite());
        prop_assert_eq!(g.cast::<f64>().cast::<f32>(), g);
        // get / item.
        for (k, i) in indices(&s).iter().enumerate().take(5) {
            prop_assert_eq!(Tensor::from_slice(&v, &s).unwrap().get(i).unwrap(), v[k]);
        }
        let t = Tensor::from_slice(&v, &s).unwrap();
        let mut past = s.clone();
        past.push(0);
        prop_assert!(t.get(&past).is_err());
        if let Some(d) = s.first() {
            let mut out_of_range = vec![0; s.len()];
            out_of_range[0] = *d;
            prop_assert!(t.get(&out_of_range).is_err());
        }
        prop_assert_eq!(t.item().is_ok(), n == 1);
    }
}

#[test]
fn small_constructors() {
    let e = Tensor::<f32>::eye(3);
    assert_eq!(
        e.to_vec(),
        vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    );
    assert_eq!(Tensor::<f64>::scalar(2.5).item().unwrap(), 2.5);
    assert_eq!(Tensor::<f64>::scalar(2.5).shape(), &[] as &[usize]);
    let r = Tensor::<f64>::arange_step(0.0, 0.3, 0.1).unwrap();
    assert_eq!(r.len(), 3);
    let r = Tensor::<f64>::arange_step(1.0, -1.0, -0.5).unwrap();
    assert_eq!(r.to_vec(), vec![1.0, 0.5, 0.0, -0.5]);
    assert_eq!(Tensor::<f64>::arange_step(1.0, 0.0, 1.0).unwrap().len(), 0);
    assert!(Tensor::<f64>::arange_step(0.0, 1.0, 0.0).is_err());
    assert!(Tensor::<f64>::arange_step(0.0, f64::INFINITY, 1.0).is_err());
}

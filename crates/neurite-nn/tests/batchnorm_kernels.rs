//! The batch-norm kernels against a naive f64 reference on random shapes (every SIMD level,
//! f32 and f64), the same bits at every thread count and SIMD level, and f32 against PyTorch's
//! f64 fixture.

use std::path::PathBuf;

use neurite_autograd::{BackwardOptions, Graph};
use neurite_nn::{batch_norm, BatchNorm1d, BatchNorm2d, Module, StateDict, Stats};
use neurite_tensor::simd::{self, Level};
use neurite_tensor::{Float, Rng, Tensor};
use proptest::prelude::*;

/// y, ∂x, ∂γ, ∂β of batch norm with batch statistics, in f64 the plain way, for x [N, C, S].
#[allow(clippy::type_complexity)]
fn naive(
    x: &[f64],
    r: &[f64],
    gamma: &[f64],
    beta: &[f64],
    (n, c, s): (usize, usize, usize),
    eps: f64,
) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let m = (n * s) as f64;
    let idx = |i: usize, ch: usize, k: usize| (i * c + ch) * s + k;
    let (mut y, mut dx) = (vec![0.0; x.len()], vec![0.0; x.len()]);
    let (mut dg, mut db) = (vec![0.0; c], vec![0.0; c]);
    for ch in 0..c {
        let all = || (0..n).flat_map(move |i| (0..s).map(move |k| idx(i, ch, k)));
        let mu = all().map(|j| x[j]).sum::<f64>() / m;
        let var = all().map(|j| (x[j] - mu).powi(2)).sum::<f64>() / m;
        let is = 1.0 / (var + eps).sqrt();
        let sg: f64 = all().map(|j| r[j]).sum();
        let sgx: f64 = all().map(|j| r[j] * (x[j] - mu) * is).sum();
        for j in all() {
            let xh = (x[j] - mu) * is;
            y[j] = gamma[ch] * xh + beta[ch];
            dx[j] = gamma[ch] * is * (r[j] - sg / m - xh * sgx / m);
        }
        dg[ch] = sgx;
        db[ch] = sg;
    }
    (y, dx, dg, db)
}

/// The same four from neurite's op, as f64.
#[allow(clippy::type_complexity)]
fn run<T: Float>(
    x: &Tensor<T>,
    r: &Tensor<T>,
    gamma: &Tensor<T>,
    beta: &Tensor<T>,
    eps: f64,
) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let g = Graph::new();
    let (xv, w, b) = (
        g.variable(x.clone()),
        g.variable(gamma.clone()),
        g.variable(beta.clone()),
    );
    let (y, stats) = batch_norm(xv, Some(w), Some(b), Stats::Batch, eps).unwrap();
    assert!(stats.is_some());
    let grads = y
        .backward_with(r.clone(), BackwardOptions::default())
        .unwrap();
    let f = |t: &Tensor<T>| t.to_vec().iter().map(|v| v.to_f64()).collect::<Vec<_>>();
    (
        f(&y.value().unwrap()),
        f(grads.get(xv).unwrap()),
        f(grads.get(w).unwrap()),
        f(grads.get(b).unwrap()),
    )
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(p, q)| (p - q).abs() / (1.0 + q.abs()))
        .fold(0.0, f64::max)
}

fn data(shape: &[usize], mean: f64, seed: u64) -> [Tensor<f64>; 4] {
    let mut rng = Rng::new(seed);
    let c = shape[1];
    [
        Tensor::rand_normal(shape, mean, 1.5, &mut rng),
        Tensor::rand_normal(shape, 0.0, 1.0, &mut rng),
        Tensor::rand_normal(&[c], 1.0, 0.5, &mut rng),
        Tensor::rand_normal(&[c], 0.0, 0.5, &mut rng),
    ]
}

fn to_f32(t: &Tensor<f64>) -> Tensor<f32> {
    Tensor::from_vec(t.to_vec().iter().map(|&v| v as f32).collect(), t.shape()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn matches_the_naive_reference_on_every_level(
        n in 1usize..7, c in 1usize..6, h in 1usize..9, w in 1usize..21, mean in -50.0f64..50.0,
        seed in 0u64..1000,
    ) {
        prop_assume!(n * h * w > 1);
        let shape = [n, c, h, w];
        let [x, r, gamma, beta] = data(&shape, mean, seed);
        let want = naive(
            &x.to_vec(), &r.to_vec(), &gamma.to_vec(), &beta.to_vec(), (n, c, h * w), 1e-5,
        );
        let (x32, r32, g32, b32) = (to_f32(&x), to_f32(&r), to_f32(&gamma), to_f32(&beta));
        // f32 inputs, reference on the same (rounded) values.
        let want32 = naive(
            &x32.to_vec().iter().map(|&v| v as f64).collect::<Vec<_>>(),
            &r32.to_vec().iter().map(|&v| v as f64).collect::<Vec<_>>(),
            &g32.to_vec().iter().map(|&v| v as f64).collect::<Vec<_>>(),
            &b32.to_vec().iter().map(|&v| v as f64).collect::<Vec<_>>(),
            (n, c, h * w), 1e-5,
        );
        for level in Level::available() {
            let got = simd::with_level(level, || run(&x, &r, &gamma, &beta, 1e-5));
            for (what, a, b) in [("y", &got.0, &want.0), ("dx", &got.1, &want.1),
                                 ("dgamma", &got.2, &want.2), ("dbeta", &got.3, &want.3)] {
                let d = max_diff(a, b);
                prop_assert!(d < 1e-9, "f64 {level} {what}: {d}");
            }
            let got = simd::with_level(level, || run(&x32, &r32, &g32, &b32, 1e-5));
            // Output and input gradient to a few f32 roundings (the mean of up to 50 rounds
            // to 2^-19 relative, so x − μ loses up to ~2^-19·50/σ), sums to M·2^-24-ish.
            for (what, a, b, tol) in [("y", &got.0, &want32.0, 2e-4), ("dx", &got.1, &want32.1, 2e-4),
                                      ("dgamma", &got.2, &want32.2, 1e-4), ("dbeta", &got.3, &want32.3, 1e-4)] {
                let d = max_diff(a, b);
                prop_assert!(d < tol, "f32 {level} {what}: {d}");
            }
        }
    }
}

#[test]
fn the_same_bits_at_every_thread_count_and_simd_level() {
    // Large enough to be split over threads, with a spatial size that is no multiple of 16.
    let shape = [16, 8, 13, 11];
    let [x, r, gamma, beta] = data(&shape, 3.0, 5);
    let (x, r, gamma, beta) = (to_f32(&x), to_f32(&r), to_f32(&gamma), to_f32(&beta));
    let reference = run(&x, &r, &gamma, &beta, 1e-5);
    for threads in [1, 2, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        for level in Level::available() {
            let got = pool.install(|| simd::with_level(level, || run(&x, &r, &gamma, &beta, 1e-5)));
            assert!(got == reference, "{threads} threads, {level}");
        }
    }
}

#[test]
fn f32_agrees_with_the_pytorch_fixture() {
    // PyTorch's f64 results on the fixture's inputs, against neurite's f32 layer on the same
    // inputs rounded to f32: within f32 precision (the fixture's x has mean 1 and σ 2).
    let fx = StateDict::load(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/batchnorm.safetensors"),
    )
    .unwrap();
    let t = |name: &str| fx.require(name).unwrap().to_float::<f32>().unwrap();
    for (name, mut layer) in [
        (
            "bn2d",
            Box::new(BatchNorm2d::<f32>::new(4).unwrap()) as Box<dyn Module<f32>>,
        ),
        ("bn1d3", Box::new(BatchNorm1d::<f32>::new(5).unwrap())),
        ("bn1d2", Box::new(BatchNorm1d::<f32>::new(5).unwrap())),
    ] {
        let mut init = neurite_nn::state_dict(layer.as_ref());
        for p in ["weight", "bias"] {
            init.insert(p, fx.require(&format!("{name}.init.{p}")).unwrap().clone());
        }
        neurite_nn::load_state_dict(layer.as_mut(), &init, neurite_nn::LoadMode::Strict).unwrap();
        let g = Graph::new();
        let xv = g.variable(t(&format!("{name}.x1")));
        let y = layer.forward(&g, xv).unwrap();
        let grads = y
            .backward_with(t(&format!("{name}.r")), BackwardOptions::default())
            .unwrap();
        let f = |v: &Tensor<f32>| v.to_vec().iter().map(|&a| a as f64).collect::<Vec<_>>();
        let want = |k: &str| f(&t(&format!("{name}.train.{k}")));
        let dy = max_diff(&f(&y.value().unwrap()), &want("y"));
        let ddx = max_diff(&f(grads.get(xv).unwrap()), &want("dx"));
        assert!(dy < 1e-5 && ddx < 1e-5, "{name}: y {dy}, dx {ddx}");
        let mut k = 0;
        layer.visit_params("", &mut |p, param| {
            let d = max_diff(&f(grads.wrt(param).unwrap()), &want(&format!("d{p}")));
            assert!(d < 1e-5, "{name} d{p}: {d}");
            k += 1;
        });
        assert_eq!(k, 2);
    }
}

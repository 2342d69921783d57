//! The GEMM backend (`neurite_tensor::gemm`, `Tensor::matmul`) against a naive triple loop:
//! random shapes with size-0 and size-1 dimensions, transposed, strided and reversed operands,
//! f32 and f64, every α/β case; and bitwise identical results at 1, 2 and 3 threads for shapes
//! that take each parallel plan (single call, the kernel's tile split, split into pieces).

use neurite_tensor::ndarray::{s, Array2, ArrayView2, ArrayViewMut2, ShapeBuilder};
use neurite_tensor::{gemm, Float, Rng, Tensor};
use proptest::prelude::*;

/// How an operand of logical shape rows×cols is laid out in memory.
#[derive(Clone, Copy, Debug)]
enum Layout {
    /// Row-major, contiguous.
    RowMajor,
    /// Column-major (the transpose of a row-major buffer, as a weight used as Wᵀ).
    ColMajor,
    /// Every other row and column of a row-major buffer twice as large.
    Strided,
    /// Rows and columns in reverse order (negative strides).
    Reversed,
}

fn layout() -> impl Strategy<Value = Layout> {
    prop_oneof![
        Just(Layout::RowMajor),
        Just(Layout::ColMajor),
        Just(Layout::Strided),
        Just(Layout::Reversed),
    ]
}

/// A dimension: often 0 or 1, otherwise up to 40 (past the kernels' 16- and 64-wide tiles).
fn dim() -> impl Strategy<Value = usize> {
    prop_oneof![1 => Just(0usize), 2 => Just(1usize), 6 => 2usize..=40]
}

/// The storage behind one operand, and how to view it as a rows×cols matrix.
struct Operand<T> {
    buf: Array2<T>,
    layout: Layout,
}

impl<T: Float> Operand<T> {
    /// Lays out `logical` (rows×cols, row-major values) as `layout` says.
    fn new(logical: &Array2<T>, layout: Layout, fill: T) -> Self {
        let (r, c) = logical.dim();
        let buf = match layout {
            Layout::RowMajor => logical.clone(),
            Layout::ColMajor => {
                let mut b = Array2::from_elem((r, c).f(), fill);
                b.assign(logical);
                b
            }
            Layout::Strided => {
                let mut b = Array2::from_elem((2 * r, 2 * c), fill);
                b.slice_mut(s![..;2, ..;2]).assign(logical);
                b
            }
            Layout::Reversed => logical.slice(s![..;-1, ..;-1]).to_owned(),
        };
        Operand { buf, layout }
    }

    fn view(&self) -> ArrayView2<'_, T> {
        match self.layout {
            Layout::RowMajor | Layout::ColMajor => self.buf.view(),
            Layout::Strided => self.buf.slice(s![..;2, ..;2]),
            Layout::Reversed => self.buf.slice(s![..;-1, ..;-1]),
        }
    }

    fn view_mut(&mut self) -> ArrayViewMut2<'_, T> {
        match self.layout {
            Layout::RowMajor | Layout::ColMajor => self.buf.view_mut(),
            Layout::Strided => self.buf.slice_mut(s![..;2, ..;2]),
            Layout::Reversed => self.buf.slice_mut(s![..;-1, ..;-1]),
        }
    }
}

fn matrix<T: Float>(rows: usize, cols: usize, rng: &mut Rng) -> Array2<T> {
    let t = Tensor::<T>::rand_uniform(&[rows, cols], -1.0, 1.0, rng);
    Array2::from_shape_vec((rows, cols), t.to_vec()).expect("rows×cols values")
}

/// α·A·B + β·C by the definition, in f64 (β = 0 ignores C entirely, NaN included).
fn naive<T: Float>(
    alpha: f64,
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    beta: f64,
    c: &Array2<T>,
) -> Array2<f64> {
    let (m, k) = a.dim();
    let n = b.dim().1;
    // Rows of A and columns of B as plain vectors, so that the loop stays quick in debug builds.
    let rows: Vec<Vec<f64>> = a
        .rows()
        .into_iter()
        .map(|r| r.iter().map(|x| x.to_f64()).collect())
        .collect();
    let cols: Vec<Vec<f64>> = b
        .columns()
        .into_iter()
        .map(|c| c.iter().map(|x| x.to_f64()).collect())
        .collect();
    let mut out = Array2::zeros((m, n));
    for (i, row) in rows.iter().enumerate() {
        for (j, col) in cols.iter().enumerate() {
            let mut acc = 0.0;
            for p in 0..k {
                acc += row[p] * col[p];
            }
            let prior = if beta == 0.0 {
                0.0
            } else {
                beta * c[(i, j)].to_f64()
            };
            out[(i, j)] = alpha * acc + prior;
        }
    }
    out
}

fn assert_close<T: Float>(got: &ArrayView2<'_, T>, want: &Array2<f64>, k: usize, what: &str) {
    assert_eq!(got.dim(), want.dim(), "{what}: shape");
    let eps = T::EPSILON.to_f64();
    for ((idx, g), w) in got.indexed_iter().zip(want.iter()) {
        let tol = 4.0 * eps * (k as f64 + 2.0) * (1.0 + w.abs());
        assert!(
            (g.to_f64() - w).abs() <= tol,
            "{what}: at {idx:?} got {g}, want {w} (tol {tol})"
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn check_gemm<T: Float>(
    m: usize,
    k: usize,
    n: usize,
    la: Layout,
    lb: Layout,
    lc: Layout,
    alpha: f64,
    beta: f64,
    seed: u64,
) {
    let mut rng = Rng::new(seed);
    let a = Operand::new(&matrix::<T>(m, k, &mut rng), la, T::from_f64(7.0));
    let b = Operand::new(&matrix::<T>(k, n, &mut rng), lb, T::from_f64(7.0));
    // With β = 0 the prior C is NaN: a backend that reads it would leak NaN into the result.
    let c0 = if beta == 0.0 {
        Array2::from_elem((m, n), T::from_f64(f64::NAN))
    } else {
        matrix::<T>(m, n, &mut rng)
    };
    let want = naive(alpha, &a.view(), &b.view(), beta, &c0);
    let mut c = Operand::new(&c0, lc, T::from_f64(-3.0));
    gemm(
        T::from_f64(alpha),
        &a.view(),
        &b.view(),
        T::from_f64(beta),
        &mut c.view_mut(),
    )
    .expect("matching shapes");
    let what = format!(
        "{} m {m} k {k} n {n} A {la:?} B {lb:?} C {lc:?} α {alpha} β {beta}",
        T::NAME
    );
    assert_close(&c.view(), &want, k, &what);
    // Elements of C's buffer outside the view are untouched.
    if let Layout::Strided = lc {
        for ((i, j), v) in c.buf.indexed_iter() {
            if i % 2 == 1 || j % 2 == 1 {
                assert_eq!(v.to_f64(), -3.0, "{what}: wrote outside C at {i},{j}");
            }
        }
    }
}

fn scalar() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), Just(1.0), Just(-0.5), -2.0..2.0f64]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn gemm_f32_matches_naive(
        m in dim(), k in dim(), n in dim(),
        la in layout(), lb in layout(), lc in layout(),
        alpha in scalar(), beta in scalar(), seed in any::<u64>(),
    ) {
        check_gemm::<f32>(m, k, n, la, lb, lc, alpha, beta, seed);
    }

    #[test]
    fn gemm_f64_matches_naive(
        m in dim(), k in dim(), n in dim(),
        la in layout(), lb in layout(), lc in layout(),
        alpha in scalar(), beta in scalar(), seed in any::<u64>(),
    ) {
        check_gemm::<f64>(m, k, n, la, lb, lc, alpha, beta, seed);
    }

    /// Batched matmul with broadcasting of the batch dimension and a transposed right operand.
    #[test]
    fn batched_matmul_matches_naive(
        batch in 0usize..4, m in dim(), k in dim(), n in dim(),
        broadcast_b in any::<bool>(), transpose_b in any::<bool>(), seed in any::<u64>(),
    ) {
        let mut rng = Rng::new(seed);
        let a = Tensor::<f64>::rand_uniform(&[batch, m, k], -1.0, 1.0, &mut rng);
        let bb = if broadcast_b { 1 } else { batch };
        let b = if transpose_b {
            Tensor::<f64>::rand_uniform(&[bb, n, k], -1.0, 1.0, &mut rng).transpose(1, 2).unwrap()
        } else {
            Tensor::<f64>::rand_uniform(&[bb, k, n], -1.0, 1.0, &mut rng)
        };
        let c = a.matmul(&b).unwrap();
        prop_assert_eq!(c.shape(), &[batch, m, n][..]);
        for i in 0..batch {
            for r in 0..m {
                for j in 0..n {
                    let mut acc = 0.0;
                    for p in 0..k {
                        acc += a.get(&[i, r, p]).unwrap() * b.get(&[i % bb, p, j]).unwrap();
                    }
                    let got = c.get(&[i, r, j]).unwrap();
                    prop_assert!((got - acc).abs() <= 1e-12 * (k as f64 + 1.0), "{got} vs {acc}");
                }
            }
        }
    }
}

/// Shapes of the training steps and squares, large enough to take the parallel plans.
const PLAN_SHAPES: [(usize, usize, usize, bool, bool); 10] = [
    (300, 50, 260, false, false), // both dims large: the kernel's own tile split
    (257, 600, 300, true, false), // tile split, k past one cache block
    (32, 128, 512, false, false), // RNN step x·W: split into column pieces
    (32, 128, 512, false, true),  // RNN step h·Wᵀ
    (512, 32, 128, true, false),  // RNN gradient gᵀ·h: split into row pieces
    (128, 784, 256, false, true), // MLP x·W1ᵀ, k = 784
    (256, 128, 784, true, false), // MLP gradient gᵀ·x
    (10, 128, 128, true, false),  // MLP gradient of the last layer: one call
    (70, 1100, 90, false, true),  // long k, a piece of 64 and one of 6 columns
    (1, 600, 3000, false, false), // a row vector, many columns
];

fn product_at(
    threads: usize,
    m: usize,
    k: usize,
    n: usize,
    ta: bool,
    tb: bool,
    seed: u64,
) -> (Array2<f32>, Array2<f64>) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool");
    pool.install(|| {
        let mut rng = Rng::new(seed);
        let a32 = matrix::<f32>(if ta { k } else { m }, if ta { m } else { k }, &mut rng);
        let b32 = matrix::<f32>(if tb { n } else { k }, if tb { k } else { n }, &mut rng);
        let (a64, b64) = (a32.mapv(f64::from), b32.mapv(f64::from));
        let av32 = if ta { a32.t() } else { a32.view() };
        let bv32 = if tb { b32.t() } else { b32.view() };
        let av64 = if ta { a64.t() } else { a64.view() };
        let bv64 = if tb { b64.t() } else { b64.view() };
        let mut c32 = Array2::from_elem((m, n), 0.5f32);
        let mut c64 = Array2::from_elem((m, n), 0.5f64);
        gemm(0.75, &av32, &bv32, 1.0, &mut c32.view_mut()).unwrap();
        gemm(0.75, &av64, &bv64, 1.0, &mut c64.view_mut()).unwrap();
        (c32, c64)
    })
}

#[test]
fn parallel_plans_match_naive() {
    for (i, &(m, k, n, ta, tb)) in PLAN_SHAPES.iter().enumerate() {
        if m * k * n > 20_000_000 {
            continue; // too slow for the naive loop in debug builds; checked for determinism below
        }
        let (c32, c64) = product_at(2, m, k, n, ta, tb, i as u64);
        let mut rng = Rng::new(i as u64);
        let a = matrix::<f32>(if ta { k } else { m }, if ta { m } else { k }, &mut rng);
        let b = matrix::<f32>(if tb { n } else { k }, if tb { k } else { n }, &mut rng);
        let av = if ta { a.t() } else { a.view() };
        let bv = if tb { b.t() } else { b.view() };
        let want = naive(0.75, &av, &bv, 1.0, &Array2::from_elem((m, n), 0.5f32));
        let what = format!("m {m} k {k} n {n} ta {ta} tb {tb}");
        assert_close(&c32.view(), &want, k, &format!("f32 {what}"));
        assert_close(&c64.view(), &want, k, &format!("f64 {what}"));
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    for (i, &(m, k, n, ta, tb)) in PLAN_SHAPES.iter().enumerate() {
        let one = product_at(1, m, k, n, ta, tb, i as u64);
        for threads in [2, 3] {
            let many = product_at(threads, m, k, n, ta, tb, i as u64);
            assert!(
                one.0 == many.0 && one.1 == many.1,
                "m {m} k {k} n {n} ta {ta} tb {tb}: 1 vs {threads} threads differ"
            );
        }
    }
}

#[test]
fn batched_matmul_does_not_depend_on_the_thread_count() {
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool");
        pool.install(|| {
            let mut rng = Rng::new(9);
            let a = Tensor::<f32>::rand_uniform(&[6, 40, 300], -1.0, 1.0, &mut rng);
            let w = Tensor::<f32>::rand_uniform(&[200, 300], -1.0, 1.0, &mut rng);
            a.matmul(&w.t().unwrap()).unwrap().to_vec()
        })
    };
    let one = run(1);
    assert!(one == run(2) && one == run(3));
}

#[test]
fn mismatched_shapes_are_errors_not_panics() {
    let a = Array2::<f32>::zeros((3, 4));
    let b = Array2::<f32>::zeros((5, 2));
    let mut c = Array2::<f32>::zeros((3, 2));
    assert!(gemm(1.0, &a.view(), &b.view(), 0.0, &mut c.view_mut()).is_err());
    let b = Array2::<f32>::zeros((4, 2));
    let mut c = Array2::<f32>::zeros((2, 3));
    assert!(gemm(1.0, &a.view(), &b.view(), 0.0, &mut c.view_mut()).is_err());
    let x = Tensor::<f64>::zeros(&[2, 3]);
    assert!(x.matmul(&Tensor::zeros(&[2, 3])).is_err());
    assert!(x.matmul(&Tensor::zeros(&[3])).is_err());
}

#[test]
fn empty_inner_dimension_scales_c() {
    let a = Array2::<f64>::zeros((3, 0));
    let b = Array2::<f64>::zeros((0, 2));
    let mut c = Array2::<f64>::from_elem((3, 2), 4.0);
    gemm(1.0, &a.view(), &b.view(), 0.5, &mut c.view_mut()).unwrap();
    assert!(c.iter().all(|&v| v == 2.0));
    let mut c = Array2::<f64>::from_elem((3, 2), f64::NAN);
    gemm(1.0, &a.view(), &b.view(), 0.0, &mut c.view_mut()).unwrap();
    assert!(c.iter().all(|&v| v == 0.0));
}

#[test]
fn zero_stride_operands_broadcast() {
    // A's rows all alias one buffer row (row stride 0), B's columns one buffer column.
    for (m, k, n) in [(3, 4, 5), (40, 130, 70), (64, 300, 600)] {
        let mut rng = Rng::new(5);
        let row = matrix::<f32>(1, k, &mut rng);
        let col = matrix::<f32>(k, 1, &mut rng);
        let a = row.broadcast((m, k)).expect("row broadcast");
        let b = col.broadcast((k, n)).expect("column broadcast");
        assert_eq!((a.strides()[0], b.strides()[1]), (0, 0));
        let mut c = Array2::<f32>::zeros((m, n));
        gemm(1.0, &a, &b, 0.0, &mut c.view_mut()).unwrap();
        let want = naive(1.0, &a, &b, 0.0, &c);
        assert_close(&c.view(), &want, k, &format!("broadcast m {m} k {k} n {n}"));
    }
}

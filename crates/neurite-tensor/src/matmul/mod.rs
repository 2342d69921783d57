//! Matrix products, the one way into GEMM for every neurite crate: on the `gemm` crate
//! (AVX-512 / AVX2+FMA f32 and f64 kernels picked at run time) — [`Tensor::matmul`] (2-D, and
//! batched with broadcasting of the batch dimensions), [`gemm()`] on ndarray views and
//! [`gemm_slices`] on row-major slices — and, for a B reused across many products (the weights
//! of a recurrence), the packed kernels of [`packed`] ([`PackedB`], [`gemm_packed`]).
//! Transposed and strided operands are passed as strides, never copied.
//!
//! Parallel work runs on the current rayon pool. How a product is cut into pieces depends on its
//! shape alone, never on the thread count, so results are bitwise identical for any number of
//! threads (see `plan`).

use ndarray::{ArrayView2, ArrayViewMut2, IxDyn};

use crate::error::{Result, TensorError};
use crate::float::Float;
use crate::ops::broadcast_shape;
use crate::tensor::Tensor;

pub mod packed;

pub use packed::{gemm_packed, PackedB, Start};

/// Products of fewer flops (2·m·n·k) than this run on the calling thread: about 20 µs of work,
/// below which waking a second thread costs more than it brings.
const PAR_FLOPS: usize = 1 << 21;
/// Output dimensions from which the kernel's own tile split is used (both m and n at least this).
const BIG_DIM: usize = 256;
/// Smallest piece of a split product, in flops.
const MIN_PIECE_FLOPS: usize = 1 << 20;
/// Smallest piece of a split product along the split dimension.
const MIN_PIECE_DIM: usize = 64;
/// Most pieces a product is split into (a power of two).
const MAX_PIECES: usize = 16;

#[derive(Clone, Copy)]
struct Mat<T> {
    ptr: *const T,
    rs: isize,
    cs: isize,
}
#[derive(Clone, Copy)]
struct MatMut<T> {
    ptr: *mut T,
    rs: isize,
    cs: isize,
}
// SAFETY: these are plain pointer bundles handed to threads that touch disjoint output blocks
// (and only read the inputs) while the owning buffers outlive the parallel scope.
unsafe impl<T: Send> Send for Mat<T> {}
unsafe impl<T: Sync> Sync for Mat<T> {}
unsafe impl<T: Send> Send for MatMut<T> {}
unsafe impl<T: Sync> Sync for MatMut<T> {}

/// How one m×k by k×n product is computed: a function of the shape only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Plan {
    /// One kernel call on the calling thread.
    Single,
    /// One kernel call that spreads its output tiles over the pool's threads. The kernel sums
    /// each element in the same order whatever the thread count (its blocking depends on k
    /// only), which `tests/gemm_backend.rs` checks bitwise.
    Tiled,
    /// `pieces` independent kernel calls on blocks of `len` rows (or columns) of C, run in
    /// parallel when the pool has threads to spare and one after the other otherwise. Used for
    /// the small and skinny products of training steps (e.g. 32×128·128×512), where one kernel
    /// call would pack a whole transposed operand on one thread.
    Split {
        rows: bool,
        len: usize,
        pieces: usize,
    },
}

/// The plan of one product (see [`Plan`]).
fn plan(m: usize, k: usize, n: usize) -> Plan {
    let flops = 2usize.saturating_mul(m).saturating_mul(n).saturating_mul(k);
    if flops < PAR_FLOPS {
        return Plan::Single;
    }
    if m >= BIG_DIM && n >= BIG_DIM {
        return Plan::Tiled;
    }
    let rows = m > n;
    let dim = if rows { m } else { n };
    let mut pieces = 1;
    while pieces < MAX_PIECES
        && dim / (2 * pieces) >= MIN_PIECE_DIM
        && flops / (2 * pieces) >= MIN_PIECE_FLOPS
    {
        pieces *= 2;
    }
    if pieces == 1 {
        return Plan::Single;
    }
    // Whole micro-tiles per piece: the kernel's tiles are 64 (f32) or 32 (f64) columns of C by
    // a few rows, so cut columns at multiples of 64 and rows at multiples of 16.
    let align = if rows { 16 } else { 64 };
    let len = dim.div_ceil(pieces).div_ceil(align) * align;
    Plan::Split {
        rows,
        len,
        pieces: dim.div_ceil(len),
    }
}

/// C ← α·A·B + β·C for one m×k by k×n product, following its [`plan`].
///
/// # Safety
/// Pointers and strides must describe valid matrices of these sizes; C must not alias A or B and
/// must not have overlapping elements (no zero strides).
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_planned<T: Float>(
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: Mat<T>,
    b: Mat<T>,
    beta: T,
    c: MatMut<T>,
) {
    let threads = rayon::current_num_threads();
    match plan(m, k, n) {
        Plan::Single => {
            // SAFETY: forwarded from the caller.
            unsafe {
                T::gemm(
                    m, k, n, alpha, a.ptr, a.rs, a.cs, b.ptr, b.rs, b.cs, beta, c.ptr, c.rs, c.cs,
                    1,
                )
            }
        }
        Plan::Tiled => {
            // SAFETY: forwarded from the caller; the kernel runs on the current rayon pool.
            unsafe {
                T::gemm(
                    m, k, n, alpha, a.ptr, a.rs, a.cs, b.ptr, b.rs, b.cs, beta, c.ptr, c.rs, c.cs,
                    threads,
                )
            }
        }
        Plan::Split { rows, len, pieces } => {
            let dim = if rows { m } else { n };
            let piece = |i: usize| {
                let (a, b, c) = (a, b, c); // capture the whole bundles (they are Sync), not raw fields
                let start = i * len;
                let len = len.min(dim - start);
                // SAFETY: piece i covers rows (or columns) start..start + len of C, disjoint from
                // every other piece; the offsets stay inside the matrices described by the caller.
                unsafe {
                    if rows {
                        T::gemm(
                            len,
                            k,
                            n,
                            alpha,
                            a.ptr.offset(start as isize * a.rs),
                            a.rs,
                            a.cs,
                            b.ptr,
                            b.rs,
                            b.cs,
                            beta,
                            c.ptr.offset(start as isize * c.rs),
                            c.rs,
                            c.cs,
                            1,
                        );
                    } else {
                        T::gemm(
                            m,
                            k,
                            len,
                            alpha,
                            a.ptr,
                            a.rs,
                            a.cs,
                            b.ptr.offset(start as isize * b.cs),
                            b.rs,
                            b.cs,
                            beta,
                            c.ptr.offset(start as isize * c.cs),
                            c.rs,
                            c.cs,
                            1,
                        );
                    }
                }
            };
            if threads <= 1 {
                (0..pieces).for_each(piece);
            } else {
                use rayon::prelude::*;
                (0..pieces).into_par_iter().for_each(piece);
            }
        }
    }
}

/// Where a slice product may run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Par {
    /// On the calling thread only: for callers that already split their work over threads
    /// (a convolution over the images of a batch).
    Serial,
    /// On the current rayon pool when the product is large enough, cut by a plan that depends
    /// on the shape alone (the same bits for any thread count), as [`Tensor::matmul`].
    Pool,
}

/// C ← A·B + β·C on row-major contiguous slices: A [m, k] (stored [k, m] when `ta`), B [k, n]
/// (stored [n, k] when `tb`), C [m, n]; `mkn` = [m, k, n]. When β = 0, C is written without
/// being read. Slices shorter than their shapes are a typed error.
///
/// ```
/// use neurite_tensor::matmul::{gemm_slices, Par};
/// let a = [1.0f32, 2.0, 3.0, 4.0];          // [2, 2]
/// let bt = [5.0f32, 7.0, 6.0, 8.0];         // Bᵀ: B = [[5, 6], [7, 8]]
/// let mut c = [1.0f32; 4];
/// gemm_slices([2, 2, 2], &a, false, &bt, true, 2.0, &mut c, Par::Serial)?;
/// assert_eq!(c, [21.0, 24.0, 45.0, 52.0]);
/// # Ok::<(), neurite_tensor::TensorError>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn gemm_slices<T: Float>(
    mkn: [usize; 3],
    a: &[T],
    ta: bool,
    b: &[T],
    tb: bool,
    beta: T,
    c: &mut [T],
    par: Par,
) -> Result<()> {
    let [m, k, n] = mkn;
    let fits = |len: usize, r: usize, q: usize| r.checked_mul(q).is_some_and(|need| len >= need);
    if !(fits(a.len(), m, k) && fits(b.len(), k, n) && fits(c.len(), m, n)) {
        return Err(TensorError::invalid(
            "gemm_slices",
            format!(
                "need A of {m}·{k}, B of {k}·{n} and C of {m}·{n} elements, got {}, {} and {}",
                a.len(),
                b.len(),
                c.len()
            ),
        ));
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    // (row stride, column stride) of each operand, in elements.
    let (a_rs, a_cs) = if ta { (1, m as isize) } else { (k as isize, 1) };
    let (b_rs, b_cs) = if tb { (1, k as isize) } else { (n as isize, 1) };
    let (a, b) = (
        Mat {
            ptr: a.as_ptr(),
            rs: a_rs,
            cs: a_cs,
        },
        Mat {
            ptr: b.as_ptr(),
            rs: b_rs,
            cs: b_cs,
        },
    );
    let c = MatMut {
        ptr: c.as_mut_ptr(),
        rs: n as isize,
        cs: 1,
    };
    // SAFETY: the slices hold at least m·k, k·n and m·n elements (checked above), the strides
    // describe those row-major layouts, and `c` is a distinct mutable borrow, so it aliases
    // neither `a` nor `b` and has no overlapping elements.
    unsafe {
        match par {
            Par::Serial => T::gemm(
                m,
                k,
                n,
                T::ONE,
                a.ptr,
                a.rs,
                a.cs,
                b.ptr,
                b.rs,
                b.cs,
                beta,
                c.ptr,
                c.rs,
                c.cs,
                1,
            ),
            Par::Pool => gemm_planned(m, k, n, T::ONE, a, b, beta, c),
        }
    }
    Ok(())
}

/// C ← α·A·B + β·C on ndarray views (any strides for A and B; transposes cost nothing).
///
/// When β = 0, C is overwritten without being read. Large products run on the current rayon
/// pool; the result is bitwise the same for any thread count.
///
/// ```
/// use neurite_tensor::ndarray::array;
/// let a = array![[1.0f32, 2.0], [3.0, 4.0]];
/// let b = array![[5.0f32, 6.0], [7.0, 8.0]];
/// let mut c = array![[1.0f32, 1.0], [1.0, 1.0]];
/// // C ← 1·A·Bᵀ + 2·C, the transpose taken through strides.
/// neurite_tensor::gemm(1.0, &a.view(), &b.t(), 2.0, &mut c.view_mut()).unwrap();
/// assert_eq!(c, array![[19.0, 25.0], [41.0, 55.0]]);
/// ```
pub fn gemm<T: Float>(
    alpha: T,
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    beta: T,
    c: &mut ArrayViewMut2<'_, T>,
) -> Result<()> {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    if k != k2 || c.dim() != (m, n) {
        return Err(TensorError::shape_detail(
            "gemm",
            &[m, k, k2, n],
            &[c.dim().0, c.dim().1],
            "need A [m, k], B [k, n], C [m, n]",
        ));
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    let sa = a.strides();
    let sb = b.strides();
    let sc = c.strides().to_vec();
    if (m > 1 && sc[0] == 0) || (n > 1 && sc[1] == 0) {
        return Err(TensorError::invalid(
            "gemm",
            "the output view has overlapping elements",
        ));
    }
    // SAFETY: the views describe valid matrices of the checked sizes; C is a distinct mutable
    // view, so it cannot alias A or B under Rust's borrow rules.
    unsafe {
        gemm_planned(
            m,
            k,
            n,
            alpha,
            Mat {
                ptr: a.as_ptr(),
                rs: sa[0],
                cs: sa[1],
            },
            Mat {
                ptr: b.as_ptr(),
                rs: sb[0],
                cs: sb[1],
            },
            beta,
            MatMut {
                ptr: c.as_mut_ptr(),
                rs: sc[0],
                cs: sc[1],
            },
        );
    }
    Ok(())
}

impl<T: Float> Tensor<T> {
    /// Matrix product. 2-D: [m, k]·[k, n] → [m, n]. N-D: the last two axes multiply and the
    /// leading (batch) axes broadcast, e.g. [b, m, k]·[k, n] → [b, m, n].
    pub fn matmul(&self, other: &Tensor<T>) -> Result<Tensor<T>> {
        self.matmul_scaled(other, T::ONE)
    }

    /// α·(self · other), the scaling fused into the GEMM.
    pub fn matmul_scaled(&self, other: &Tensor<T>, alpha: T) -> Result<Tensor<T>> {
        let (ra, rb) = (self.ndim(), other.ndim());
        if ra < 2 || rb < 2 {
            return Err(TensorError::BadRank {
                op: "matmul",
                expected: "tensors of at least 2 dimensions ([.., m, k] and [.., k, n])",
                got: if ra < 2 {
                    self.shape().to_vec()
                } else {
                    other.shape().to_vec()
                },
            });
        }
        let (m, k) = (self.shape()[ra - 2], self.shape()[ra - 1]);
        let (k2, n) = (other.shape()[rb - 2], other.shape()[rb - 1]);
        if k != k2 {
            return Err(TensorError::shape_detail(
                "matmul",
                self.shape(),
                other.shape(),
                format!("inner dimensions differ: {k} vs {k2}"),
            ));
        }
        let batch = broadcast_shape("matmul", &self.shape()[..ra - 2], &other.shape()[..rb - 2])?;
        let mut out_shape = batch.clone();
        out_shape.extend([m, n]);
        // Broadcast batch axes of empty operands can describe more elements than exist.
        let total = crate::conv::checked_len("matmul", &out_shape)?;
        let mut out = vec![T::ZERO; total];
        if total == 0 {
            return Tensor::from_vec(out, &out_shape);
        }
        let nb: usize = batch.iter().product(); // a factor of `total` > 0: no overflow
        let mut shape_a = batch.clone();
        shape_a.extend([m, k]);
        let mut shape_b = batch.clone();
        shape_b.extend([k, n]);
        let av = self
            .data
            .broadcast(IxDyn(&shape_a))
            .expect("checked batch broadcast"); // ok: checked
        let bv = other
            .data
            .broadcast(IxDyn(&shape_b))
            .expect("checked batch broadcast"); // ok: checked
        let (sa, sb) = (av.strides().to_vec(), bv.strides().to_vec());
        let nbd = batch.len();
        let offset = |strides: &[isize], mut idx: usize| -> isize {
            let mut off = 0isize;
            for d in (0..nbd).rev() {
                off += (idx % batch[d]) as isize * strides[d];
                idx /= batch[d];
            }
            off
        };
        let a = Mat {
            ptr: av.as_ptr(),
            rs: sa[nbd],
            cs: sa[nbd + 1],
        };
        let b = Mat {
            ptr: bv.as_ptr(),
            rs: sb[nbd],
            cs: sb[nbd + 1],
        };
        let one = |i: usize, c: &mut [T]| {
            let (a, b) = (a, b); // capture the whole bundles (they are Sync), not raw fields
            let (oa, ob) = (offset(&sa, i), offset(&sb, i));
            // SAFETY: offsets index the broadcast views of valid tensors; `c` is this batch's own
            // m×n block of the fresh output buffer.
            unsafe {
                gemm_planned(
                    m,
                    k,
                    n,
                    alpha,
                    Mat {
                        ptr: a.ptr.offset(oa),
                        ..a
                    },
                    Mat {
                        ptr: b.ptr.offset(ob),
                        ..b
                    },
                    T::ZERO,
                    MatMut {
                        ptr: c.as_mut_ptr(),
                        rs: n as isize,
                        cs: 1,
                    },
                );
            }
        };
        if nb > 1 && 2 * nb * m * n * k >= PAR_FLOPS && rayon::current_num_threads() > 1 {
            use rayon::prelude::*;
            out.par_chunks_mut(m * n)
                .enumerate()
                .for_each(|(i, c)| one(i, c));
        } else {
            out.chunks_mut(m * n)
                .enumerate()
                .for_each(|(i, c)| one(i, c));
        }
        Tensor::from_vec(out, &out_shape)
    }
}

//! Matrix products on `matrixmultiply` (sgemm / dgemm): 2-D, and batched with broadcasting of
//! the batch dimensions. Transposed operands are passed as strides, never copied.

use ndarray::{ArrayView2, ArrayViewMut2, IxDyn};

use crate::error::{Result, TensorError};
use crate::float::Float;
use crate::ops::broadcast_shape;
use crate::tensor::Tensor;

/// Multiply-adds (2·m·n·k) above which one product is split over threads.
const PAR_FLOPS: usize = 1 << 22;

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

/// C ← α·A·B + β·C for one m×k by k×n product, split over rayon threads when large.
///
/// # Safety
/// Pointers and strides must describe valid matrices of these sizes; C must not alias A or B and
/// must not have overlapping elements (no zero strides).
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_split<T: Float>(
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
    let flops = 2 * m * n * k;
    if threads <= 1 || flops < PAR_FLOPS {
        // SAFETY: forwarded from the caller.
        unsafe {
            T::gemm(
                m, k, n, alpha, a.ptr, a.rs, a.cs, b.ptr, b.rs, b.cs, beta, c.ptr, c.rs, c.cs,
            )
        };
        return;
    }
    // Split the larger of m and n into blocks (multiples of 16 to keep the micro-kernel full).
    // Each output element is still summed over k in the same order, so the result does not
    // depend on the thread count.
    let split_rows = m >= n;
    let dim = if split_rows { m } else { n };
    let parts = threads.min(dim.div_ceil(16)).max(1);
    let block = dim.div_ceil(parts).div_ceil(16) * 16;
    rayon::scope(|s| {
        let mut start = 0;
        while start < dim {
            let len = block.min(dim - start);
            let (a, b, c) = (a, b, c);
            s.spawn(move |_| {
                let (a, b, c) = (a, b, c); // capture the whole bundles (they are Send), not raw fields
                                           // SAFETY: each block writes a disjoint range of C's rows (or columns); offsets stay
                                           // inside the matrices described by the caller.
                unsafe {
                    if split_rows {
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
                        );
                    }
                }
            });
            start += len;
        }
    });
}

/// C ← α·A·B + β·C on ndarray views (any strides for A and B; transposes cost nothing).
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
        gemm_split(
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
        let nb: usize = batch.iter().product();
        let mut out_shape = batch.clone();
        out_shape.extend([m, n]);
        let mut out = vec![T::ZERO; nb * m * n];
        if m == 0 || n == 0 || nb == 0 {
            return Tensor::from_vec(out, &out_shape);
        }
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
                gemm_split(
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

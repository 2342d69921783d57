//! The per-step product of a recurrence, C += A·B with A [m, k], B [k, n], C [m, n] all
//! row-major and contiguous: small (m = batch, k = hidden, n = gates·hidden), repeated at every
//! step with the same B. A general GEMM packs both operands at every call; here B is already
//! laid out row-major (W_hhᵀ transposed once per sequence, or W_hh itself for the backward
//! step), so an AVX-512 register-blocked kernel (6 rows × 64 columns, 24 accumulators) streams
//! it directly. Other CPUs and f64 use the general GEMM. With more than one thread in the
//! current rayon pool, large products are split by column blocks over two threads.

use std::any::TypeId;

use neurite_tensor::Float;

use crate::sequence::gemm;

/// C += A·B (see the module doc). `a` [m, k], `b` [k, n], `c` [m, n].
pub(crate) fn gemm_acc<T: Float>(m: usize, k: usize, n: usize, a: &[T], b: &[T], c: &mut [T]) {
    debug_assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    #[cfg(target_arch = "x86_64")]
    {
        if TypeId::of::<T>() == TypeId::of::<f32>()
            && std::arch::is_x86_feature_detected!("avx512f")
        {
            // SAFETY: T is f32 (TypeId), the slices hold the stated sizes (checked by the
            // callers, asserted in debug), and AVX-512F is available (detected above).
            unsafe {
                let (a, b, c) = (
                    a.as_ptr() as *const f32,
                    b.as_ptr() as *const f32,
                    c.as_mut_ptr() as *mut f32,
                );
                let flops = m * n * k;
                if flops >= 1 << 19 && n >= 128 && rayon::current_num_threads() > 1 {
                    // Two column halves, each a multiple of 64 columns except the last.
                    let half = (n / 2).div_ceil(64) * 64;
                    let (pa, pb, pc) = (SendPtr(a as *mut f32), SendPtr(b as *mut f32), SendPtr(c));
                    rayon::join(
                        || {
                            let (pa, pb, pc) = (&pa, &pb, &pc);
                            x86::sgemm_acc(m, k, half, pa.0, k, pb.0, n, pc.0, n)
                        },
                        || {
                            let (pa, pb, pc) = (&pa, &pb, &pc);
                            x86::sgemm_acc(
                                m,
                                k,
                                n - half,
                                pa.0,
                                k,
                                pb.0.add(half),
                                n,
                                pc.0.add(half),
                                n,
                            )
                        },
                    );
                } else {
                    x86::sgemm_acc(m, k, n, a, k, b, n, c, n);
                }
            }
            return;
        }
    }
    gemm(m, k, n, a, false, b, false, T::ONE, c);
}

/// A raw pointer that may cross to the other rayon thread: the two halves write disjoint
/// columns of C and only read A and B.
struct SendPtr(*mut f32);
// SAFETY: see the type's doc; the pointed-to data outlives the `rayon::join` that uses it.
unsafe impl Send for SendPtr {}
// SAFETY: as above; shared references only read the pointer value.
unsafe impl Sync for SendPtr {}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    const NR: usize = 64;
    const MR: usize = 6;

    /// C[m×n] += A[m×k]·B[k×n] with leading dimensions lda, ldb, ldc (in elements).
    ///
    /// # Safety
    /// AVX-512F must be available; the pointers must describe valid matrices of these sizes.
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn sgemm_acc(
        m: usize,
        k: usize,
        n: usize,
        a: *const f32,
        lda: usize,
        b: *const f32,
        ldb: usize,
        c: *mut f32,
        ldc: usize,
    ) {
        let mut j = 0;
        while j < n {
            let cols = NR.min(n - j);
            let masks = col_masks(cols);
            let mut i = 0;
            while i < m {
                let rows = MR.min(m - i);
                let (ap, bp, cp) = (a.add(i * lda), b.add(j), c.add(i * ldc + j));
                match rows {
                    6 => kernel::<6>(k, ap, lda, bp, ldb, cp, ldc, masks),
                    5 => kernel::<5>(k, ap, lda, bp, ldb, cp, ldc, masks),
                    4 => kernel::<4>(k, ap, lda, bp, ldb, cp, ldc, masks),
                    3 => kernel::<3>(k, ap, lda, bp, ldb, cp, ldc, masks),
                    2 => kernel::<2>(k, ap, lda, bp, ldb, cp, ldc, masks),
                    _ => kernel::<1>(k, ap, lda, bp, ldb, cp, ldc, masks),
                }
                i += rows;
            }
            j += cols;
        }
    }

    /// Lane masks of the four 16-wide column groups of a block of `cols` ≤ 64 columns.
    fn col_masks(cols: usize) -> [__mmask16; 4] {
        let mut m = [0u16; 4];
        for (q, mq) in m.iter_mut().enumerate() {
            let live = cols.saturating_sub(q * 16).min(16);
            *mq = if live == 16 {
                u16::MAX
            } else {
                (1u16 << live) - 1
            };
        }
        m
    }

    /// One R × 64 block of C: 4·R accumulators over the whole k loop, then added to C.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn kernel<const R: usize>(
        k: usize,
        a: *const f32,
        lda: usize,
        b: *const f32,
        ldb: usize,
        c: *mut f32,
        ldc: usize,
        masks: [__mmask16; 4],
    ) {
        let mut acc = [[_mm512_setzero_ps(); 4]; R];
        let full = masks[3] == u16::MAX;
        for p in 0..k {
            let row = b.wrapping_add(p * ldb);
            let bv: [__m512; 4] = if full {
                [
                    _mm512_loadu_ps(row),
                    _mm512_loadu_ps(row.add(16)),
                    _mm512_loadu_ps(row.add(32)),
                    _mm512_loadu_ps(row.add(48)),
                ]
            } else {
                // Masked-off lanes are never read (AVX-512 suppresses their faults).
                [
                    _mm512_maskz_loadu_ps(masks[0], row),
                    _mm512_maskz_loadu_ps(masks[1], row.wrapping_add(16)),
                    _mm512_maskz_loadu_ps(masks[2], row.wrapping_add(32)),
                    _mm512_maskz_loadu_ps(masks[3], row.wrapping_add(48)),
                ]
            };
            for (r, acc_r) in acc.iter_mut().enumerate() {
                let av = _mm512_set1_ps(*a.add(r * lda + p));
                for q in 0..4 {
                    acc_r[q] = _mm512_fmadd_ps(av, bv[q], acc_r[q]);
                }
            }
        }
        for (r, acc_r) in acc.iter().enumerate() {
            let row = c.wrapping_add(r * ldc);
            for q in 0..4 {
                let p = row.wrapping_add(q * 16);
                let old = _mm512_maskz_loadu_ps(masks[q], p);
                _mm512_mask_storeu_ps(p, masks[q], _mm512_add_ps(old, acc_r[q]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
        for i in 0..m {
            for j in 0..n {
                let mut s = 0.0f64;
                for p in 0..k {
                    s += a[i * k + p] as f64 * b[p * n + j] as f64;
                }
                c[i * n + j] += s as f32;
            }
        }
    }

    #[test]
    fn matches_a_naive_product_on_odd_sizes() {
        let mut rng = neurite_tensor::Rng::new(1);
        for &(m, k, n) in &[
            (1, 1, 1),
            (7, 5, 3),
            (32, 128, 512),
            (13, 37, 77),
            (6, 64, 64),
            (33, 9, 130),
            (5, 512, 128),
        ] {
            let a: Vec<f32> = (0..m * k).map(|_| rng.normal() as f32).collect();
            let b: Vec<f32> = (0..k * n).map(|_| rng.normal() as f32).collect();
            let c0: Vec<f32> = (0..m * n).map(|_| rng.normal() as f32).collect();
            let (mut c1, mut c2) = (c0.clone(), c0.clone());
            gemm_acc(m, k, n, &a, &b, &mut c1);
            naive(m, k, n, &a, &b, &mut c2);
            for (x, y) in c1.iter().zip(&c2) {
                assert!(
                    (x - y).abs() < 1e-3 * (1.0 + y.abs()),
                    "{m}×{k}×{n}: {x} vs {y}"
                );
            }
            // On two threads the split gives the same result.
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .unwrap();
            let mut c3 = c0.clone();
            pool.install(|| gemm_acc(m, k, n, &a, &b, &mut c3));
            for (x, y) in c3.iter().zip(&c2) {
                assert!(
                    (x - y).abs() < 1e-3 * (1.0 + y.abs()),
                    "{m}×{k}×{n} (2 threads): {x} vs {y}"
                );
            }
        }
        // f64 goes through the general GEMM.
        let a = [1.0f64, 2.0, 3.0, 4.0];
        let b = [5.0f64, 6.0, 7.0, 8.0];
        let mut c = [1.0f64; 4];
        gemm_acc(2, 2, 2, &a, &b, &mut c);
        assert_eq!(c, [20.0, 23.0, 44.0, 51.0]);
    }
}

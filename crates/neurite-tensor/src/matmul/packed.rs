//! The product of a recurrence step, C = start + A·B with A [m, k] and C [m, n] row-major and
//! B [k, n] fixed for many calls: small (m = batch, k = hidden, n = gates·hidden) and repeated
//! at every step. A general GEMM packs both operands at every call; here B is packed once
//! ([`PackedB`]: panels of 64 columns, each contiguous, so a panel stays in L1 across the row
//! blocks), and a register-blocked kernel streams it: on AVX-512, 6 rows × 64 columns in 24
//! accumulators; on AVX2+FMA, 6 rows × 16 columns in 12 (the same fused sums in the same
//! order, so both give the same bits). f64, and CPUs without AVX2, use the general GEMM on the
//! plain layout. With more than one thread in the current rayon pool, large products may be
//! split by panels over two threads; each element of C gets the same sum either way.
//!
//! ```
//! use neurite_tensor::matmul::{gemm_packed, PackedB, Start};
//! // B = Wᵀ for W [n = 2, k = 3], packed once; then C [1, 2] = bias + A·B for a row A.
//! let w = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
//! let b = PackedB::transposed(&w, 2, 3)?;
//! let mut c = [0.0f32; 2];
//! gemm_packed(1, &[1.0, 1.0, 1.0], 3, &b, &mut c, 2, Start::Bias(&[0.5, -0.5]), false)?;
//! assert_eq!(c, [6.5, 14.5]);
//! # Ok::<(), neurite_tensor::TensorError>(())
//! ```

use std::any::TypeId;

use crate::error::{Result, TensorError};
use crate::float::Float;
use crate::simd::{self, Level};

use super::{gemm_slices, Par};

/// Columns per panel of a packed B.
const NR: usize = 64;

/// The kernel a pack made now is laid out for: panels for f32 on AVX2 and up, else plain.
fn pack_level<T: Float>() -> Level {
    if cfg!(target_arch = "x86_64") && TypeId::of::<T>() == TypeId::of::<f32>() {
        simd::level()
    } else {
        Level::Portable
    }
}

/// B [k, n] laid out for [`gemm_packed`]: 64-column panels (zero-padded) for the f32 AVX2
/// and AVX-512 kernels, plain row-major otherwise. The layout follows the [`simd::level`] of
/// the thread that packs; the product uses the kernel of that level.
#[derive(Clone)]
pub struct PackedB<T: Float> {
    k: usize,
    n: usize,
    /// `Portable`: plain row-major; `Avx2` / `Avx512`: panels for that kernel.
    level: Level,
    data: Vec<T>,
}

impl<T: Float> std::fmt::Debug for PackedB<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackedB")
            .field("k", &self.k)
            .field("n", &self.n)
            .field("level", &self.level)
            .finish()
    }
}

impl<T: Float> PackedB<T> {
    /// Packs the k × n matrix whose element (p, j) is `at(p, j)`.
    pub fn new(k: usize, n: usize, at: impl Fn(usize, usize) -> T) -> Self {
        let level = pack_level::<T>();
        let data = if level > Level::Portable {
            let np = n.div_ceil(NR);
            let mut d = vec![T::ZERO; np * k * NR];
            for jb in 0..np {
                for p in 0..k {
                    let row = &mut d[(jb * k + p) * NR..(jb * k + p + 1) * NR];
                    for (q, x) in row.iter_mut().enumerate().take(NR.min(n - jb * NR)) {
                        *x = at(p, jb * NR + q);
                    }
                }
            }
            d
        } else {
            let mut d = Vec::with_capacity(k * n);
            for p in 0..k {
                d.extend((0..n).map(|j| at(p, j)));
            }
            d
        };
        PackedB { k, n, level, data }
    }

    /// Rows of B (the inner dimension of the product).
    pub fn k(&self) -> usize {
        self.k
    }

    /// Columns of B.
    pub fn n(&self) -> usize {
        self.n
    }

    /// B = Wᵀ for a row-major W [n, k] (the layout of a weight matrix [out, in]). A W with
    /// fewer than n·k elements is a typed error.
    pub fn transposed(w: &[T], n: usize, k: usize) -> Result<Self> {
        check_len("PackedB::transposed", w.len(), n, k)?;
        #[cfg(target_arch = "x86_64")]
        if pack_level::<T>() == Level::Avx512 && Level::Avx512.is_available() {
            // Panel by panel, row p of the panel gathers element p of 64 rows of W (16 at a
            // time with AVX-512 gathers): the rows being read stay in L1, the panel is written
            // in order.
            let mut data = vec![T::ZERO; n.div_ceil(NR) * k * NR];
            // SAFETY: T is f32 (`pack_level`) and AVX-512F is available (checked); W holds n
            // rows of k (checked) and `data` ⌈n/64⌉ panels of k × 64.
            unsafe {
                x86::pack_transposed(
                    w.as_ptr() as *const f32,
                    n,
                    k,
                    data.as_mut_ptr() as *mut f32,
                );
            }
            return Ok(PackedB {
                k,
                n,
                level: Level::Avx512,
                data,
            });
        }
        Ok(Self::new(k, n, |p, j| w[j * k + p]))
    }

    /// B = W for a row-major W [k, n]. A W with fewer than k·n elements is a typed error.
    pub fn rows(w: &[T], k: usize, n: usize) -> Result<Self> {
        check_len("PackedB::rows", w.len(), k, n)?;
        let level = pack_level::<T>();
        if level == Level::Portable {
            return Ok(PackedB {
                k,
                n,
                level,
                data: w[..k * n].to_vec(),
            });
        }
        let mut data = vec![T::ZERO; n.div_ceil(NR) * k * NR];
        for (jb, panel) in data.chunks_exact_mut(k * NR).enumerate() {
            let cols = NR.min(n - jb * NR);
            for (dst, src) in panel.chunks_exact_mut(NR).zip(w.chunks_exact(n)) {
                dst[..cols].copy_from_slice(&src[jb * NR..jb * NR + cols]);
            }
        }
        Ok(PackedB { k, n, level, data })
    }
}

/// W must hold at least rows × cols values.
fn check_len(op: &'static str, len: usize, rows: usize, cols: usize) -> Result<()> {
    match rows.checked_mul(cols) {
        Some(need) if len >= need => Ok(()),
        _ => Err(TensorError::BadLength {
            op,
            len,
            shape: vec![rows, cols],
        }),
    }
}

/// What C holds before A·B is added to it.
#[derive(Clone, Copy, Debug)]
pub enum Start<'a, T> {
    /// C itself: C += A·B.
    Acc,
    /// A row vector of n values: C = bias + A·B.
    Bias(&'a [T]),
    /// Rows of X, row i at `x[i·ldx]` (ldx ≥ n): C = X + A·B.
    Rows {
        /// The rows.
        x: &'a [T],
        /// Their stride.
        ldx: usize,
    },
}

/// C = start + A·B with row strides: row i of A starts at `a[i·lda]`, row i of C at
/// `c[i·ldc]` (lda ≥ k, ldc ≥ n); the elements between rows are neither read nor written.
/// Folding the start into the product spares a pass over C per step of a recurrence. With
/// `split`, a large product may be split by panels over two threads of the current rayon pool
/// (callers that already run on several threads pass `false`); the result is the same.
///
/// Operands too short for their sizes and strides are a typed error.
#[allow(clippy::too_many_arguments)]
pub fn gemm_packed<T: Float>(
    m: usize,
    a: &[T],
    lda: usize,
    b: &PackedB<T>,
    c: &mut [T],
    ldc: usize,
    start: Start<'_, T>,
    split: bool,
) -> Result<()> {
    let (k, n) = (b.k, b.n);
    if m == 0 || n == 0 {
        return Ok(());
    }
    let spans = |len: usize, ld: usize, width: usize| {
        ld >= width
            && (m - 1)
                .checked_mul(ld)
                .and_then(|r| r.checked_add(width))
                .is_some_and(|need| len >= need)
    };
    let bad = |what: &str| {
        TensorError::invalid(
            "gemm_packed",
            format!("{what} too short for m = {m}, k = {k}, n = {n} and its row stride"),
        )
    };
    if !spans(a.len(), lda, k) {
        return Err(bad("A"));
    }
    if !spans(c.len(), ldc, n) {
        return Err(bad("C"));
    }
    match start {
        Start::Acc => {}
        Start::Bias(bias) if bias.len() < n => return Err(bad("the bias")),
        Start::Rows { x, ldx } if !spans(x.len(), ldx, n) => return Err(bad("the start rows")),
        _ => {}
    }
    #[cfg(target_arch = "x86_64")]
    if b.level > Level::Portable && b.level.is_available() {
        // SAFETY: panels are only built for f32 (`pack_level`) and the level's features are
        // available (checked); the sizes were checked above and the packed data holds
        // ⌈n/64⌉ panels of k × 64.
        unsafe {
            let (a, bp, c) = (
                a.as_ptr() as *const f32,
                b.data.as_ptr() as *const f32,
                c.as_mut_ptr() as *mut f32,
            );
            let np = n.div_ceil(NR);
            let (from, lds) = match start {
                Start::Acc => (std::ptr::null::<f32>(), 0),
                Start::Bias(bias) => (bias.as_ptr() as *const f32, 0),
                Start::Rows { x, ldx } => (x.as_ptr() as *const f32, ldx),
            };
            let sh = x86::Shape {
                m,
                k,
                n,
                lda,
                ldc,
                start: SendPtr(from as *mut f32),
                lds,
            };
            let avx512 = b.level == Level::Avx512;
            let run = |sh: &x86::Shape, a: *const f32, bp: *const f32, c: *mut f32, lo, hi| {
                if avx512 {
                    x86::panels(sh, a, bp, c, lo, hi)
                } else {
                    x86::panels_avx2(sh, a, bp, c, lo, hi)
                }
            };
            if split && m * n * k >= 1 << 19 && np >= 2 && rayon::current_num_threads() > 1 {
                let half = np / 2;
                let ptrs = (SendPtr(a as *mut f32), SendPtr(bp as *mut f32), SendPtr(c));
                let (p, sh) = (&ptrs, &sh);
                rayon::join(
                    || run(sh, p.0 .0, p.1 .0, p.2 .0, 0, half),
                    || run(sh, p.0 .0, p.1 .0, p.2 .0, half, np),
                );
            } else {
                run(&sh, a, bp, c, 0, np);
            }
        }
        return Ok(());
    }
    let plain;
    let data = if b.level == Level::Portable {
        &b.data
    } else {
        // Panels made for a level this thread cannot run (another thread's pack): unpack.
        plain = (0..k * n)
            .map(|i| b.data[(i % n / NR * k + i / n) * NR + i % n % NR])
            .collect::<Vec<T>>();
        &plain
    };
    for i in 0..m {
        let row = &mut c[i * ldc..i * ldc + n];
        match start {
            Start::Acc => {}
            Start::Bias(bias) => row.copy_from_slice(&bias[..n]),
            Start::Rows { x, ldx } => row.copy_from_slice(&x[i * ldx..i * ldx + n]),
        }
    }
    let par = if split { Par::Pool } else { Par::Serial };
    if lda == k && ldc == n {
        return gemm_slices([m, k, n], a, false, data, false, T::ONE, c, par);
    }
    // The general GEMM on the plain layout, one row at a time (f64 and other CPUs).
    for i in 0..m {
        let (ai, ci) = (&a[i * lda..i * lda + k], &mut c[i * ldc..i * ldc + n]);
        gemm_slices([1, k, n], ai, false, data, false, T::ONE, ci, par)?;
    }
    Ok(())
}

/// A raw pointer that may cross to the other rayon thread: the two halves write disjoint
/// columns of C and only read A, B and the start.
#[derive(Clone, Copy)]
struct SendPtr(*mut f32);
// SAFETY: see the type's doc; the data outlives the `rayon::join` that uses it.
unsafe impl Send for SendPtr {}
// SAFETY: as above; shared references only read the pointer value.
unsafe impl Sync for SendPtr {}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{SendPtr, NR};

    const MR: usize = 6;

    /// Sizes and row strides of a product, and its start.
    pub(super) struct Shape {
        pub m: usize,
        pub k: usize,
        pub n: usize,
        pub lda: usize,
        pub ldc: usize,
        /// Where C starts: null for C itself, else row i of the start at `start[i·lds]`
        /// (lds = 0 for a bias row).
        pub start: SendPtr,
        pub lds: usize,
    }

    /// C[m×n] += A[m×k]·B for the panels `from..to` of a packed B.
    ///
    /// # Safety
    /// AVX-512F must be available; `a` holds m rows of k at stride lda, `b` the packed
    /// panels, `c` m rows of n at stride ldc.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn panels(
        sh: &Shape,
        a: *const f32,
        b: *const f32,
        c: *mut f32,
        from: usize,
        to: usize,
    ) {
        let (m, k, n, lda, ldc) = (sh.m, sh.k, sh.n, sh.lda, sh.ldc);
        let (start, lds) = (sh.start.0 as *const f32, sh.lds);
        for jb in from..to {
            let j = jb * NR;
            let masks = col_masks(NR.min(n - j));
            let panel = b.add(jb * k * NR);
            let mut i = 0;
            while i < m {
                let rows = MR.min(m - i);
                let (ap, cp) = (a.add(i * lda), c.add(i * ldc + j));
                let sp = if start.is_null() {
                    start
                } else {
                    start.add(i * lds + j)
                };
                match rows {
                    6 => kernel::<6>(k, ap, lda, panel, cp, ldc, masks, sp, lds),
                    5 => kernel::<5>(k, ap, lda, panel, cp, ldc, masks, sp, lds),
                    4 => kernel::<4>(k, ap, lda, panel, cp, ldc, masks, sp, lds),
                    3 => kernel::<3>(k, ap, lda, panel, cp, ldc, masks, sp, lds),
                    2 => kernel::<2>(k, ap, lda, panel, cp, ldc, masks, sp, lds),
                    _ => kernel::<1>(k, ap, lda, panel, cp, ldc, masks, sp, lds),
                }
                i += rows;
            }
        }
    }

    /// The AVX2+FMA form of [`panels`]: each 64-column panel in four groups of 16 columns,
    /// 6 rows × 16 columns (12 accumulators) at a time. Every element gets the AVX-512
    /// kernel's sum: fused multiply-adds over p in order, then added to its start.
    ///
    /// # Safety
    /// AVX2 and FMA must be available; the operands as for [`panels`].
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn panels_avx2(
        sh: &Shape,
        a: *const f32,
        b: *const f32,
        c: *mut f32,
        from: usize,
        to: usize,
    ) {
        let (m, k, n, lda, ldc) = (sh.m, sh.k, sh.n, sh.lda, sh.ldc);
        let (start, lds) = (sh.start.0 as *const f32, sh.lds);
        for jb in from..to {
            let panel = b.add(jb * k * NR);
            for q in 0..NR / 16 {
                let j = jb * NR + q * 16;
                if j >= n {
                    break;
                }
                let live = (n - j).min(16);
                let mut i = 0;
                while i < m {
                    let rows = MR.min(m - i);
                    let (ap, cp, bp) = (a.add(i * lda), c.add(i * ldc + j), panel.add(q * 16));
                    let sp = if start.is_null() {
                        start
                    } else {
                        start.add(i * lds + j)
                    };
                    match rows {
                        6 => kernel_avx2::<6>(k, ap, lda, bp, cp, ldc, live, sp, lds),
                        5 => kernel_avx2::<5>(k, ap, lda, bp, cp, ldc, live, sp, lds),
                        4 => kernel_avx2::<4>(k, ap, lda, bp, cp, ldc, live, sp, lds),
                        3 => kernel_avx2::<3>(k, ap, lda, bp, cp, ldc, live, sp, lds),
                        2 => kernel_avx2::<2>(k, ap, lda, bp, cp, ldc, live, sp, lds),
                        _ => kernel_avx2::<1>(k, ap, lda, bp, cp, ldc, live, sp, lds),
                    }
                    i += rows;
                }
            }
        }
    }

    /// One R × 16 block of C (`live` ≤ 16 columns of it inside n) on AVX2+FMA.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn kernel_avx2<const R: usize>(
        k: usize,
        a: *const f32,
        lda: usize,
        panel: *const f32,
        c: *mut f32,
        ldc: usize,
        live: usize,
        start: *const f32,
        lds: usize,
    ) {
        let mut acc = [[_mm256_setzero_ps(); 2]; R];
        for p in 0..k {
            let row = panel.add(p * NR);
            let b0 = _mm256_loadu_ps(row);
            let b1 = _mm256_loadu_ps(row.add(8));
            for (r, acc_r) in acc.iter_mut().enumerate() {
                let av = _mm256_set1_ps(*a.add(r * lda + p));
                acc_r[0] = _mm256_fmadd_ps(av, b0, acc_r[0]);
                acc_r[1] = _mm256_fmadd_ps(av, b1, acc_r[1]);
            }
        }
        for (r, acc_r) in acc.iter().enumerate() {
            let row = c.add(r * ldc);
            // C itself (null start), or the start's row r.
            let from = if start.is_null() {
                row as *const f32
            } else {
                start.add(r * lds)
            };
            if live == 16 {
                _mm256_storeu_ps(row, _mm256_add_ps(_mm256_loadu_ps(from), acc_r[0]));
                let (row8, from8) = (row.add(8), from.add(8));
                _mm256_storeu_ps(row8, _mm256_add_ps(_mm256_loadu_ps(from8), acc_r[1]));
            } else {
                let mut sums = [0.0f32; 16];
                _mm256_storeu_ps(sums.as_mut_ptr(), acc_r[0]);
                _mm256_storeu_ps(sums.as_mut_ptr().add(8), acc_r[1]);
                for (q, s) in sums.iter().enumerate().take(live) {
                    *row.add(q) = *from.add(q) + s;
                }
            }
        }
    }

    /// Packs B = Wᵀ for a row-major W [n, k] into ⌈n/64⌉ panels of k × 64 (padding columns
    /// are left as they are).
    ///
    /// # Safety
    /// AVX-512F; `w` holds n × k values, `out` ⌈n/64⌉ · k · 64.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn pack_transposed(w: *const f32, n: usize, k: usize, out: *mut f32) {
        let kk = k as i32;
        let idx = _mm512_mullo_epi32(
            _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
            _mm512_set1_epi32(kk),
        );
        let mut j = 0;
        while j < n {
            let live = (n - j).min(16);
            let m: __mmask16 = if live == 16 {
                u16::MAX
            } else {
                (1u16 << live) - 1
            };
            let (jb, q) = (j / NR, j % NR);
            let src = w.add(j * k);
            let dst = out.add(jb * k * NR + q);
            for p in 0..k {
                let v = _mm512_mask_i32gather_ps::<4>(_mm512_setzero_ps(), m, idx, src.add(p));
                _mm512_mask_storeu_ps(dst.add(p * NR), m, v);
            }
            j += 16;
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

    /// One R × 64 block of C: 4·R accumulators over the whole k loop, then added to C (masked
    /// columns past n are neither read nor written).
    #[inline]
    #[target_feature(enable = "avx512f")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn kernel<const R: usize>(
        k: usize,
        a: *const f32,
        lda: usize,
        panel: *const f32,
        c: *mut f32,
        ldc: usize,
        masks: [__mmask16; 4],
        start: *const f32,
        lds: usize,
    ) {
        let mut acc = [[_mm512_setzero_ps(); 4]; R];
        for p in 0..k {
            let row = panel.add(p * NR);
            let bv = [
                _mm512_loadu_ps(row),
                _mm512_loadu_ps(row.add(16)),
                _mm512_loadu_ps(row.add(32)),
                _mm512_loadu_ps(row.add(48)),
            ];
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
                // C itself (null start), or the start's row r.
                let from = if start.is_null() {
                    p as *const f32
                } else {
                    start.wrapping_add(r * lds + q * 16)
                };
                let old = _mm512_maskz_loadu_ps(masks[q], from);
                _mm512_mask_storeu_ps(p, masks[q], _mm512_add_ps(old, acc_r[q]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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

    /// C += A·B on contiguous operands.
    fn gemm_acc<T: Float>(m: usize, a: &[T], b: &PackedB<T>, c: &mut [T], split: bool) {
        gemm_packed(m, a, b.k, b, c, b.n, Start::Acc, split).unwrap();
    }

    fn normals(rng: &mut crate::Rng, n: usize) -> Vec<f32> {
        (0..n).map(|_| rng.normal() as f32).collect()
    }

    /// Every product of one shape at `level`: by rows and by transposed packs, split over two
    /// threads, with row strides and each start. Returns the results to compare across levels.
    fn products_at(level: Level, m: usize, k: usize, n: usize, seed: u64) -> Vec<Vec<f32>> {
        let _simd = simd::force_level(level);
        let mut rng = crate::Rng::new(seed);
        let a = normals(&mut rng, m * k);
        let b = normals(&mut rng, k * n);
        let bt: Vec<f32> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect(); // [n, k]
        let c0 = normals(&mut rng, m * n);
        let mut want = c0.clone();
        naive(m, k, n, &a, &b, &mut want);
        let check = |got: &[f32], what: &str| {
            for (x, y) in got.iter().zip(&want) {
                assert!(
                    (x - y).abs() < 1e-3 * (1.0 + y.abs()),
                    "{m}×{k}×{n} {what} at {level}: {x} vs {y}"
                );
            }
        };
        let rows = PackedB::rows(&b, k, n).unwrap();
        let mut c1 = c0.clone();
        gemm_acc(m, &a, &rows, &mut c1, false);
        check(&c1, "rows");
        let mut c2 = c0.clone();
        gemm_acc(
            m,
            &a,
            &PackedB::transposed(&bt, n, k).unwrap(),
            &mut c2,
            false,
        );
        check(&c2, "transposed");
        assert_eq!(c1, c2, "the two packings give the same bits");
        // On two threads the split gives the same bits (the pool does not inherit the level:
        // the pack carries it).
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let mut c3 = c0.clone();
        pool.install(|| gemm_acc(m, &a, &rows, &mut c3, true));
        assert_eq!(c3, c1, "{m}×{k}×{n}: the split changes no bit");
        // Row strides: the same sums, and the elements between rows untouched.
        let (lda, ldc, ldx) = (2 * k + 1, 2 * n + 3, n + 5);
        let a_s: Vec<f32> = (0..m * lda)
            .map(|i| {
                if i % lda < k {
                    a[i / lda * k + i % lda]
                } else {
                    f32::NAN
                }
            })
            .collect();
        let cs0 = normals(&mut rng, m * ldc);
        let mut cs = cs0.clone();
        gemm_packed(m, &a_s, lda, &rows, &mut cs, ldc, Start::Acc, false).unwrap();
        for i in 0..m {
            let mut row = cs0[i * ldc..i * ldc + n].to_vec();
            gemm_acc(1, &a[i * k..(i + 1) * k], &rows, &mut row, false);
            assert_eq!(&cs[i * ldc..i * ldc + n], &row[..], "strided row {i}");
            assert_eq!(
                &cs[i * ldc + n..(i + 1) * ldc],
                &cs0[i * ldc + n..(i + 1) * ldc]
            );
        }
        // A bias start is the same as adding onto copies of it; a rows start likewise.
        let bias = normals(&mut rng, n);
        let (mut want_b, mut got_b) = (cs0.clone(), cs0.clone());
        for i in 0..m {
            want_b[i * ldc..i * ldc + n].copy_from_slice(&bias);
        }
        gemm_packed(m, &a_s, lda, &rows, &mut want_b, ldc, Start::Acc, false).unwrap();
        gemm_packed(
            m,
            &a_s,
            lda,
            &rows,
            &mut got_b,
            ldc,
            Start::Bias(&bias),
            false,
        )
        .unwrap();
        assert_eq!(got_b, want_b, "bias start");
        let x = normals(&mut rng, m * ldx);
        let (mut want_x, mut got_x) = (cs0.clone(), cs0.clone());
        for i in 0..m {
            want_x[i * ldc..i * ldc + n].copy_from_slice(&x[i * ldx..i * ldx + n]);
        }
        gemm_packed(m, &a_s, lda, &rows, &mut want_x, ldc, Start::Acc, false).unwrap();
        let start = Start::Rows { x: &x, ldx };
        gemm_packed(m, &a_s, lda, &rows, &mut got_x, ldc, start, false).unwrap();
        assert_eq!(got_x, want_x, "rows start");
        vec![c1, cs, got_b, got_x]
    }

    #[test]
    fn matches_a_naive_product_on_odd_sizes_on_every_level() {
        for &(m, k, n) in &[
            (1, 1, 1),
            (7, 5, 3),
            (32, 128, 512),
            (13, 37, 77),
            (6, 64, 64),
            (33, 9, 130),
            (5, 512, 128),
            (16, 128, 512),
        ] {
            let runs: Vec<_> = Level::available()
                .into_iter()
                .map(|l| (l, products_at(l, m, k, n, 7)))
                .collect();
            // AVX2 and AVX-512 sum each element the same way: the same bits.
            let fused: Vec<_> = runs.iter().filter(|(l, _)| *l > Level::Portable).collect();
            for w in fused.windows(2) {
                assert_eq!(w[0].1, w[1].1, "{m}×{k}×{n}: {} vs {}", w[0].0, w[1].0);
            }
        }
        // f64 goes through the general GEMM.
        let a = [1.0f64, 2.0, 3.0, 4.0];
        let b = [5.0f64, 6.0, 7.0, 8.0];
        let mut c = [1.0f64; 4];
        gemm_acc(2, &a, &PackedB::rows(&b, 2, 2).unwrap(), &mut c, true);
        assert_eq!(c, [20.0, 23.0, 44.0, 51.0]);
    }

    #[test]
    fn a_pack_made_for_another_level_still_multiplies() {
        let w: Vec<f32> = (0..70 * 3).map(|i| i as f32 * 0.5 - 7.0).collect();
        let packed =
            simd::with_level(Level::detected(), || PackedB::transposed(&w, 70, 3)).unwrap();
        let x = [1.0f32, -2.0, 0.5];
        let mut want = vec![0.0f32; 70];
        for (j, out) in want.iter_mut().enumerate() {
            *out = (0..3).map(|p| x[p] * w[j * 3 + p]).sum();
        }
        for level in Level::available() {
            let mut got = vec![0.0f32; 70];
            simd::with_level(level, || gemm_acc(1, &x, &packed, &mut got, false));
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() < 1e-4, "{level}: {g} vs {w}");
            }
        }
    }

    #[test]
    fn short_operands_are_typed_errors() {
        let b = PackedB::rows(&[1.0f32; 6], 2, 3).unwrap();
        let mut c = [0.0f32; 3];
        assert!(gemm_packed(1, &[1.0], 2, &b, &mut c, 3, Start::Acc, false).is_err());
        assert!(gemm_packed(2, &[1.0; 4], 2, &b, &mut c, 3, Start::Acc, false).is_err());
        assert!(gemm_packed(1, &[1.0; 2], 2, &b, &mut c, 3, Start::Bias(&[1.0]), false).is_err());
        assert!(PackedB::rows(&[1.0f32; 5], 2, 3).is_err());
        assert!(PackedB::transposed(&[1.0f32; 5], 3, 2).is_err());
        assert!(PackedB::<f32>::rows(&[], usize::MAX, 2).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        // Random shapes on every level against the naive product (inside `products_at`).
        #[test]
        fn random_shapes_on_every_level(m in 1usize..40, k in 1usize..90, n in 1usize..200, seed in any::<u64>()) {
            let mut by_level = Vec::new();
            for l in Level::available() {
                by_level.push(products_at(l, m, k, n, seed));
            }
            let fused: Vec<_> = Level::available().into_iter().zip(by_level).filter(|(l, _)| *l > Level::Portable).collect();
            for w in fused.windows(2) {
                prop_assert!(w[0].1 == w[1].1, "{}×{}×{}: {} vs {}", m, k, n, w[0].0, w[1].0);
            }
        }
    }
}

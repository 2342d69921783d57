//! The per-step product of a recurrence, C += A·B with A [m, k] and C [m, n] row-major and B
//! [k, n] fixed for the whole sequence: small (m = batch, k = hidden, n = gates·hidden) and
//! repeated at every step. A general GEMM packs both operands at every call; here B is packed
//! once per sequence ([`PackedB`]: panels of 64 columns, each contiguous, so a panel stays in
//! L1 across the row blocks), and an AVX-512 register-blocked kernel (6 rows × 64 columns, 24
//! accumulators) streams it. Other CPUs and f64 use the general GEMM on the plain layout. With
//! more than one thread in the current rayon pool, large products are split by panels over two
//! threads.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::rc::Rc;

use neurite_tensor::Float;

use crate::pool;
use crate::sequence::gemm;

/// Columns per panel of a packed B.
const NR: usize = 64;

fn fast_path<T: Float>() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        TypeId::of::<T>() == TypeId::of::<f32>() && std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// B [k, n] laid out for [`gemm_acc`]: 64-column panels (zero-padded) on the fast path, plain
/// row-major otherwise.
pub(crate) struct PackedB<T: Float> {
    k: usize,
    n: usize,
    panels: bool,
    data: Vec<T>,
}

impl<T: Float> PackedB<T> {
    /// Packs the k × n matrix whose element (p, j) is `at(p, j)`.
    pub(crate) fn new(k: usize, n: usize, at: impl Fn(usize, usize) -> T) -> Self {
        let panels = fast_path::<T>();
        let data = if panels {
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
        PackedB { k, n, panels, data }
    }

    /// B = Wᵀ for a row-major W [n, k].
    pub(crate) fn transposed(w: &[T], n: usize, k: usize) -> Self {
        if !fast_path::<T>() {
            return Self::new(k, n, |p, j| w[j * k + p]);
        }
        // Panel by panel, row p of the panel gathers element p of 64 rows of W (16 at a time
        // with AVX-512 gathers): the rows being read stay in L1, the panel is written in order.
        let mut data = panel_buffer(n, k);
        assert!(w.len() >= n * k, "PackedB::transposed: W size"); // ok: internal sizes
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the fast path means T is f32 and AVX-512F is available; W holds n rows of k
        // (asserted) and `data` ⌈n/64⌉ panels of k × 64.
        unsafe {
            x86::pack_transposed(
                w.as_ptr() as *const f32,
                n,
                k,
                data.as_mut_ptr() as *mut f32,
            );
        }
        PackedB {
            k,
            n,
            panels: true,
            data,
        }
    }

    /// B = W for a row-major W [k, n].
    pub(crate) fn rows(w: &[T], k: usize, n: usize) -> Self {
        if !fast_path::<T>() {
            return Self::new(k, n, |p, j| w[p * n + j]);
        }
        let mut data = panel_buffer(n, k);
        for (jb, panel) in data.chunks_exact_mut(k * NR).enumerate() {
            let cols = NR.min(n - jb * NR);
            for (dst, src) in panel.chunks_exact_mut(NR).zip(w.chunks_exact(n)) {
                dst[..cols].copy_from_slice(&src[jb * NR..jb * NR + cols]);
            }
        }
        PackedB {
            k,
            n,
            panels: true,
            data,
        }
    }
}

/// Packed Wᵀ kept per thread, each with the W it was made from.
const KEEP_PACKS: usize = 8;
/// Elements (W and its pack) the cache of a thread holds at most: 64 MiB of f32.
const CACHE_ELEMS: usize = 1 << 24;

thread_local! {
    static PACKS: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

/// A cached pack and the exact W behind it.
struct CachedPack<T: Float> {
    n: usize,
    k: usize,
    src: Vec<T>,
    packed: Rc<PackedB<T>>,
}

/// [`PackedB::transposed`], reusing the pack of an earlier call when W has the same shape and
/// the same bits (an inference loop packs its weights once; a training step, whose weights
/// changed, packs again after a comparison that usually stops at the first element).
pub(crate) fn transposed_cached<T: Float>(w: &[T], n: usize, k: usize) -> Rc<PackedB<T>> {
    if !fast_path::<T>() || w.len() < n * k {
        return Rc::new(PackedB::transposed(w, n, k));
    }
    let w = &w[..n * k];
    // Bitwise equality (0.0 and −0.0 differ, a NaN equals its own bits): T is f32 here.
    let bits = |a: &[T]| {
        // SAFETY: on the fast path T is f32 (TypeId checked), which has the size and
        // alignment of u32 and no invalid bit patterns either way.
        unsafe { std::slice::from_raw_parts(a.as_ptr() as *const u32, a.len()) }
    };
    let same = |a: &[T], b: &[T]| bits(a) == bits(b);
    PACKS.with(|c| {
        let mut c = c.borrow_mut();
        let hit = c.iter().position(|e| {
            e.downcast_ref::<CachedPack<T>>()
                .is_some_and(|e| e.n == n && e.k == k && same(&e.src, w))
        });
        if let Some(pos) = hit {
            let e = c.remove(pos);
            let packed = e.downcast_ref::<CachedPack<T>>().map(|e| e.packed.clone());
            c.insert(0, e);
            if let Some(p) = packed {
                return p;
            }
        }
        let packed = Rc::new(PackedB::transposed(w, n, k));
        c.insert(
            0,
            Box::new(CachedPack {
                n,
                k,
                src: w.to_vec(),
                packed: packed.clone(),
            }),
        );
        // At most KEEP_PACKS packs, and at most CACHE_ELEMS elements (W and pack) in all.
        let mut total = 0;
        let keep = c
            .iter()
            .take(KEEP_PACKS)
            .take_while(|e| {
                total += e
                    .downcast_ref::<CachedPack<T>>()
                    .map_or(0, |e| e.src.len() + e.packed.data.len());
                total <= CACHE_ELEMS
            })
            .count();
        c.truncate(keep);
        packed
    })
}

/// A buffer for ⌈n/64⌉ panels of k × 64, from the buffer pool: the packed weights of every
/// sequence op would otherwise be fresh allocations that the allocator hands back to the
/// system and faults in again at the next step. Only the padding columns need zeros.
fn panel_buffer<T: Float>(n: usize, k: usize) -> Vec<T> {
    let len = n.div_ceil(NR) * k * NR;
    if n.is_multiple_of(NR) {
        pool::take_any(len)
    } else {
        pool::take(len)
    }
}

impl<T: Float> Drop for PackedB<T> {
    fn drop(&mut self) {
        pool::give(std::mem::take(&mut self.data));
    }
}

/// C += A·B: `a` [m, k], `c` [m, n] row-major and contiguous. With `split`, a large product
/// may be split by panels over two threads of the current rayon pool (callers that already
/// run on several threads pass `false`). Each element of C gets the same sum either way.
#[cfg(test)]
pub(crate) fn gemm_acc<T: Float>(m: usize, a: &[T], b: &PackedB<T>, c: &mut [T], split: bool) {
    gemm_strided(m, a, b.k, b, c, b.n, Start::Acc, split);
}

/// What C holds before A·B is added to it.
#[derive(Clone, Copy)]
pub(crate) enum Start<'a, T> {
    /// C itself: C += A·B.
    Acc,
    /// A row vector: C = bias + A·B.
    Bias(&'a [T]),
    /// Rows of X, row i at `x[i·ldx]`: C = X + A·B.
    Rows { x: &'a [T], ldx: usize },
}

/// C = start + A·B with row strides: row i of A starts at `a[i·lda]`, row i of C at
/// `c[i·ldc]` (lda ≥ k, ldc ≥ n); the elements between rows are neither read nor written.
/// Folding the start into the product spares a pass over C per step of a recurrence.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_strided<T: Float>(
    m: usize,
    a: &[T],
    lda: usize,
    b: &PackedB<T>,
    c: &mut [T],
    ldc: usize,
    start: Start<'_, T>,
    split: bool,
) {
    let (k, n) = (b.k, b.n);
    if m == 0 || n == 0 {
        return;
    }
    assert!(
        lda >= k && ldc >= n && a.len() >= (m - 1) * lda + k && c.len() >= (m - 1) * ldc + n,
        "gemm_strided: operand sizes"
    ); // ok: internal sizes
    match start {
        Start::Acc => {}
        Start::Bias(bias) => assert!(bias.len() >= n, "gemm_strided: bias size"), // ok: internal sizes
        Start::Rows { x, ldx } => assert!(
            ldx >= n && x.len() >= (m - 1) * ldx + n,
            "gemm_strided: start sizes"
        ), // ok: internal sizes
    }
    #[cfg(target_arch = "x86_64")]
    if b.panels {
        // SAFETY: panels are only built on the fast path (T is f32, AVX-512F detected); the
        // sizes were asserted above and the packed data holds ⌈n/64⌉ panels of k × 64.
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
            if split && m * n * k >= 1 << 19 && np >= 2 && rayon::current_num_threads() > 1 {
                let half = np / 2;
                let ptrs = (SendPtr(a as *mut f32), SendPtr(bp as *mut f32), SendPtr(c));
                let (p, sh) = (&ptrs, &sh);
                rayon::join(
                    || x86::panels(sh, p.0 .0, p.1 .0, p.2 .0, 0, half),
                    || x86::panels(sh, p.0 .0, p.1 .0, p.2 .0, half, np),
                );
            } else {
                x86::panels(&sh, a, bp, c, 0, np);
            }
        }
        return;
    }
    for i in 0..m {
        let row = &mut c[i * ldc..i * ldc + n];
        match start {
            Start::Acc => {}
            Start::Bias(bias) => row.copy_from_slice(&bias[..n]),
            Start::Rows { x, ldx } => row.copy_from_slice(&x[i * ldx..i * ldx + n]),
        }
    }
    if lda == k && ldc == n {
        gemm(m, k, n, a, false, &b.data, false, T::ONE, c);
        return;
    }
    // The general GEMM on the plain layout, one row at a time (f64 and other CPUs).
    for i in 0..m {
        gemm(
            1,
            k,
            n,
            &a[i * lda..i * lda + k],
            false,
            &b.data,
            false,
            T::ONE,
            &mut c[i * ldc..i * ldc + n],
        );
    }
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
    fn packs_are_reused_only_for_the_same_bits() {
        let mut w: Vec<f32> = (0..24).map(|i| i as f32 - 3.0).collect();
        let a = transposed_cached(&w, 4, 6);
        let b = transposed_cached(&w.clone(), 4, 6);
        assert_eq!(Rc::ptr_eq(&a, &b), fast_path::<f32>());
        let c = transposed_cached(&w, 6, 4); // another shape
        assert!(!Rc::ptr_eq(&a, &c));
        w[3] = -0.0; // was 0.0
        let d = transposed_cached(&w, 4, 6);
        assert!(!Rc::ptr_eq(&a, &d));
        let (mut c1, mut c2) = (vec![0.0f32; 4], vec![0.0f32; 4]);
        let x = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        gemm_acc(1, &x, &d, &mut c1, false);
        gemm_acc(1, &x, &PackedB::transposed(&w, 4, 6), &mut c2, false);
        assert_eq!(c1, c2);
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
            let bt: Vec<f32> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect(); // [n, k]
            let c0: Vec<f32> = (0..m * n).map(|_| rng.normal() as f32).collect();
            let mut want = c0.clone();
            naive(m, k, n, &a, &b, &mut want);
            let check = |got: &[f32], what: &str| {
                for (x, y) in got.iter().zip(&want) {
                    assert!(
                        (x - y).abs() < 1e-3 * (1.0 + y.abs()),
                        "{m}×{k}×{n} {what}: {x} vs {y}"
                    );
                }
            };
            let mut c1 = c0.clone();
            gemm_acc(m, &a, &PackedB::rows(&b, k, n), &mut c1, false);
            check(&c1, "rows");
            let mut c2 = c0.clone();
            gemm_acc(m, &a, &PackedB::transposed(&bt, n, k), &mut c2, false);
            check(&c2, "transposed");
            // On two threads the split gives the same result.
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .unwrap();
            let mut c3 = c0.clone();
            pool.install(|| gemm_acc(m, &a, &PackedB::rows(&b, k, n), &mut c3, true));
            check(&c3, "2 threads");
            assert_eq!(c3, c1, "{m}×{k}×{n}: the split changes no bit");
        }
        // Row strides: the same sums, and the elements between rows untouched.
        for &(m, k, n) in &[(16, 128, 512), (7, 5, 70)] {
            let (lda, ldc) = (3 * k + 1, 2 * n + 3);
            let a: Vec<f32> = (0..m * lda).map(|_| rng.normal() as f32).collect();
            let b: Vec<f32> = (0..k * n).map(|_| rng.normal() as f32).collect();
            let c0: Vec<f32> = (0..m * ldc).map(|_| rng.normal() as f32).collect();
            let packed = PackedB::rows(&b, k, n);
            let mut c = c0.clone();
            gemm_strided(m, &a, lda, &packed, &mut c, ldc, Start::Acc, false);
            for i in 0..m {
                let ai: Vec<f32> = a[i * lda..i * lda + k].to_vec();
                let mut want = c0[i * ldc..i * ldc + n].to_vec();
                gemm_acc(1, &ai, &packed, &mut want, false);
                assert_eq!(&c[i * ldc..i * ldc + n], &want[..], "strided row {i}");
                assert_eq!(
                    &c[i * ldc + n..(i + 1) * ldc],
                    &c0[i * ldc + n..(i + 1) * ldc]
                );
            }
            // A start of the bias is the same as adding onto it.
            let bias: Vec<f32> = (0..n).map(|_| rng.normal() as f32).collect();
            let (mut want_b, mut got_b) = (c0.clone(), c0.clone());
            for i in 0..m {
                want_b[i * ldc..i * ldc + n].copy_from_slice(&bias);
            }
            gemm_strided(m, &a, lda, &packed, &mut want_b, ldc, Start::Acc, false);
            let start = Start::Bias(&bias);
            gemm_strided(m, &a, lda, &packed, &mut got_b, ldc, start, false);
            assert_eq!(got_b, want_b, "bias start");
            // A start of other rows is the same as adding onto a copy of them.
            let ldx = n + 5;
            let x: Vec<f32> = (0..m * ldx).map(|_| rng.normal() as f32).collect();
            let (mut want_x, mut got_x) = (c0.clone(), c0.clone());
            for i in 0..m {
                want_x[i * ldc..i * ldc + n].copy_from_slice(&x[i * ldx..i * ldx + n]);
            }
            gemm_strided(m, &a, lda, &packed, &mut want_x, ldc, Start::Acc, false);
            let start = Start::Rows { x: &x, ldx };
            gemm_strided(m, &a, lda, &packed, &mut got_x, ldc, start, false);
            assert_eq!(got_x, want_x, "rows start");
            let a64: Vec<f64> = a.iter().map(|&x| x as f64).collect();
            let b64: Vec<f64> = b.iter().map(|&x| x as f64).collect();
            let mut c64: Vec<f64> = c0.iter().map(|&x| x as f64).collect();
            gemm_strided(
                m,
                &a64,
                lda,
                &PackedB::rows(&b64, k, n),
                &mut c64,
                ldc,
                Start::Acc,
                false,
            );
            for (x, y) in c.iter().zip(&c64) {
                assert!(
                    (*x as f64 - y).abs() < 1e-3 * (1.0 + y.abs()),
                    "f64 strided"
                );
            }
        }
        // f64 goes through the general GEMM.
        let a = [1.0f64, 2.0, 3.0, 4.0];
        let b = [5.0f64, 6.0, 7.0, 8.0];
        let mut c = [1.0f64; 4];
        gemm_acc(2, &a, &PackedB::rows(&b, 2, 2), &mut c, true);
        assert_eq!(c, [20.0, 23.0, 44.0, 51.0]);
    }
}

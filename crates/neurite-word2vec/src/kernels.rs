//! The arithmetic of training: dot products and `y += a·x` over the vector dimension.
//!
//! Each kernel has a portable form and an AVX2+FMA form, chosen at run time by
//! [`neurite_tensor::simd::level`] (the CPU's best level, capped by `NEURITE_SIMD`), so a
//! dependent's plain build trains as fast as a `target-cpu=native` one. The AVX2 forms also
//! serve AVX-512 processors: at word2vec's dimensions (≈100) 256-bit vectors are as fast.
//!
//! The functions here dispatch on every call, which costs a call the compiler cannot inline
//! (the AVX2 form is compiled apart from a baseline caller). The trainer instead uses the
//! same kernels as types, `Portable` and `Fma` (the crate-private trait `Arith`): its
//! loop is generic over them and run by [`simd::run`], so it is compiled once per level with
//! every kernel inlined, and the level is chosen once per chunk of training.
//!
//! The fast dot product keeps 16 independent partial sums (fused multiply-adds on AVX2, a shape
//! compilers vectorise on the portable path); `axpy`, `add` and `scale` do the same arithmetic
//! on every path (no contraction), so only `dot` differs between levels in the last bits. The
//! `sequential` forms add left to right in single precision exactly as word2vec.c compiled
//! without `-ffast-math` does, for the reference-parity mode, and the `fused` forms do the same
//! with one rounding per multiply-add, as GCC's default `-ffp-contract=fast` compiles word2vec.c
//! for a processor with FMA (`-march=native`). A fused multiply-add is exactly rounded on every
//! path (one instruction on AVX2, the C library's `fmaf` otherwise), so the reference mode
//! writes the same bytes whatever the level.

use neurite_tensor::simd::{self, Level};

const LANES: usize = 8;

/// True when the AVX2+FMA forms may run at `level` on this CPU.
#[inline(always)]
fn use_avx2(level: Level) -> bool {
    cfg!(target_arch = "x86_64") && level >= Level::Avx2 && Level::Avx2.is_available()
}

/// Σ `a[i]·b[i]` over `min(a.len(), b.len())` elements: AVX2 fused multiply-adds with two
/// 8-wide accumulators when the CPU has them, the portable form otherwise.
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    dot_at(simd::level(), a, b)
}

/// [`dot`] at a given level (capped to what the CPU has): for tests of each path.
#[inline(always)]
pub fn dot_at(level: Level, a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if use_avx2(level) {
        // SAFETY: AVX2 and FMA were detected on this CPU (`use_avx2`).
        return unsafe { x86::dot_avx2(a, b) };
    }
    let _ = level;
    dot_portable(a, b)
}

/// The portable dot product: 16 partial sums (two arrays of 8) that compilers vectorise.
#[inline]
pub fn dot_portable(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc0 = [0.0f32; LANES];
    let mut acc1 = [0.0f32; LANES];
    let mut ca = a.chunks_exact(2 * LANES);
    let mut cb = b.chunks_exact(2 * LANES);
    for (x, y) in (&mut ca).zip(&mut cb) {
        let x: &[f32; 2 * LANES] = x.try_into().expect("chunk of 16");
        let y: &[f32; 2 * LANES] = y.try_into().expect("chunk of 16");
        for l in 0..LANES {
            acc0[l] += x[l] * y[l];
            acc1[l] += x[l + LANES] * y[l + LANES];
        }
    }
    let (ra, rb) = (ca.remainder(), cb.remainder());
    let mut ra8 = ra.chunks_exact(LANES);
    let mut rb8 = rb.chunks_exact(LANES);
    for (x, y) in (&mut ra8).zip(&mut rb8) {
        for l in 0..LANES {
            acc0[l] += x[l] * y[l];
        }
    }
    let mut tail = 0.0f32;
    for (x, y) in ra8.remainder().iter().zip(rb8.remainder()) {
        tail += x * y;
    }
    for l in 0..LANES {
        acc0[l] += acc1[l];
    }
    // Pairwise reduction of the lanes.
    let mut width = LANES / 2;
    while width > 0 {
        for l in 0..width {
            acc0[l] += acc0[l + width];
        }
        width /= 2;
    }
    acc0[0] + tail
}

/// Asks the processor to start loading `len` floats from `ptr` into the cache. A hint only:
/// no memory is read, so any address is fine.
#[inline(always)]
pub fn prefetch(ptr: *const f32, len: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let mut p = ptr as *const i8;
        let end = ptr.wrapping_add(len) as *const i8;
        while p < end {
            // SAFETY: prefetching is a hint that never faults, whatever the address; SSE is
            // part of every x86-64 target.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p) };
            p = p.wrapping_add(64);
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (ptr, len);
    }
}

/// The kernels of one SIMD level as a type, so that a training loop generic over it and run by
/// [`simd::run`] has every kernel call inlined and compiled for the level (one dispatch per
/// chunk of training instead of one per dot product). [`Portable`] and [`Fma`] compute
/// what [`dot_at`], [`axpy_at`], … compute at their levels, bit for bit.
pub(crate) trait Arith: Copy {
    /// [`dot`] at this level.
    fn dot(self, a: &[f32], b: &[f32]) -> f32;

    /// [`axpy`] (the same bits on every level).
    #[inline(always)]
    fn axpy(self, y: &mut [f32], a: f32, x: &[f32]) {
        axpy_body(y, a, x)
    }

    /// [`add`].
    #[inline(always)]
    fn add(self, y: &mut [f32], x: &[f32]) {
        add_body(y, x)
    }

    /// [`scale`].
    #[inline(always)]
    fn scale(self, y: &mut [f32], a: f32) {
        scale_body(y, a)
    }

    /// [`dot_fused_from`] (exactly rounded: the same bits on every level).
    #[inline(always)]
    fn dot_fused_from(self, a: &[f32], b: &[f32], from: usize) -> f32 {
        dot_fused_from_body(a, b, from)
    }

    /// [`axpy_fused`].
    #[inline(always)]
    fn axpy_fused(self, y: &mut [f32], a: f32, x: &[f32]) {
        axpy_fused_body(y, a, x)
    }
}

/// The portable kernels ([`Level::Portable`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Portable;

impl Arith for Portable {
    #[inline(always)]
    fn dot(self, a: &[f32], b: &[f32]) -> f32 {
        dot_portable(a, b)
    }
}

/// The AVX2+FMA kernels ([`Level::Avx2`] and up); a value proves the CPU has the features.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fma {
    _proof: (),
}

impl Fma {
    /// The AVX2+FMA kernels if `level` allows them on this CPU.
    #[inline]
    pub(crate) fn at(level: Level) -> Option<Fma> {
        use_avx2(level).then_some(Fma { _proof: () })
    }
}

impl Arith for Fma {
    #[inline(always)]
    fn dot(self, a: &[f32], b: &[f32]) -> f32 {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: an `Fma` exists only when AVX2 and FMA were detected (`Fma::at`).
            unsafe { x86::dot_fma(a, b) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        dot_portable(a, b)
    }
}

/// Defines a kernel `$name` that runs `$body` (an `#[inline(always)]` portable function)
/// compiled for AVX2+FMA when the current level allows, and `$at`, the same at a given level.
macro_rules! dispatched {
    ($(#[$doc:meta])* $name:ident, $at:ident, $body:ident, $avx2:ident,
     ($($arg:ident: $ty:ty),*) $(-> $ret:ty)?) => {
        $(#[$doc])*
        #[inline(always)]
        pub fn $name($($arg: $ty),*) $(-> $ret)? {
            $at(simd::level(), $($arg),*)
        }

        #[doc = concat!("[`", stringify!($name), "`] at a given level (capped to what the CPU has).")]
        #[inline(always)]
        pub fn $at(level: Level, $($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            if use_avx2(level) {
                // SAFETY: AVX2 and FMA were detected on this CPU (`use_avx2`).
                return unsafe { x86::$avx2($($arg),*) };
            }
            let _ = level;
            $body($($arg),*)
        }
    };
}

dispatched! {
    /// `y[i] += a·x[i]` over `min(y.len(), x.len())` elements (a product, then a sum: the same
    /// bits on every level).
    axpy, axpy_at, axpy_body, axpy_avx2, (y: &mut [f32], a: f32, x: &[f32])
}

dispatched! {
    /// `y[i] += x[i]`.
    add, add_at, add_body, add_avx2, (y: &mut [f32], x: &[f32])
}

dispatched! {
    /// `y[i] *= a`.
    scale, scale_at, scale_body, scale_avx2, (y: &mut [f32], a: f32)
}

dispatched! {
    /// Σ `a[i]·b[i]` left to right, each product rounded before it is added for `i < from` and
    /// fused with the addition (`f = fma(a[i], b[i], f)`) from `from` on: word2vec.c's
    /// `f += a[c] * b[c]` as GCC vectorises and contracts it (see `ReferenceFma`). `from = 0`
    /// fuses every term. The same bits on every level.
    dot_fused_from, dot_fused_from_at, dot_fused_from_body, dot_fused_from_avx2,
    (a: &[f32], b: &[f32], from: usize) -> f32
}

dispatched! {
    /// `y[i] = fma(a, x[i], y[i])` over `min(y.len(), x.len())` elements (one rounding each;
    /// the same bits on every level).
    axpy_fused, axpy_fused_at, axpy_fused_body, axpy_fused_avx2, (y: &mut [f32], a: f32, x: &[f32])
}

#[inline(always)]
fn axpy_body(y: &mut [f32], a: f32, x: &[f32]) {
    let n = y.len().min(x.len());
    for (yi, xi) in y[..n].iter_mut().zip(&x[..n]) {
        *yi += a * xi;
    }
}

#[inline(always)]
fn add_body(y: &mut [f32], x: &[f32]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += xi;
    }
}

#[inline(always)]
fn scale_body(y: &mut [f32], a: f32) {
    for yi in y {
        *yi *= a;
    }
}

/// Σ `a[i]·b[i]` added left to right (word2vec.c's `for (c...) f += a[c] * b[c]`).
#[inline]
pub fn dot_sequential(a: &[f32], b: &[f32]) -> f32 {
    let mut f = 0.0f32;
    for (x, y) in a.iter().zip(b) {
        f += x * y;
    }
    f
}

#[inline(always)]
fn dot_fused_from_body(a: &[f32], b: &[f32], from: usize) -> f32 {
    let n = a.len().min(b.len());
    let split = from.min(n);
    let mut f = dot_sequential(&a[..split], &b[..split]);
    for (x, y) in a[split..n].iter().zip(&b[split..n]) {
        f = x.mul_add(*y, f);
    }
    f
}

#[inline(always)]
fn axpy_fused_body(y: &mut [f32], a: f32, x: &[f32]) {
    let n = y.len().min(x.len());
    for (yi, xi) in y[..n].iter_mut().zip(&x[..n]) {
        *yi = a.mul_add(*xi, *yi);
    }
}

/// The AVX2+FMA forms: the portable bodies compiled with the features enabled (the compiler
/// vectorises them and turns `mul_add` into one instruction), and the dot product by hand.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// Σ `a[i]·b[i]`: two 8-wide accumulators of fused multiply-adds.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
        // SAFETY: the caller's promise.
        unsafe { dot_fma(a, b) }
    }

    /// The body of [`dot_avx2`], inlined into its caller: compiled for AVX2+FMA when the
    /// caller is (a training loop run by `simd::run`, or `dot_avx2`).
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[inline(always)]
    pub(super) unsafe fn dot_fma(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut i = 0;
        // SAFETY: every load reads 8 floats at offsets i..i + 8 ≤ n, inside both slices;
        // unaligned loads are used; the features are the caller's promise.
        let mut sum = unsafe {
            let mut s0 = _mm256_setzero_ps();
            let mut s1 = _mm256_setzero_ps();
            while i + 16 <= n {
                s0 = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)), s0);
                s1 = _mm256_fmadd_ps(
                    _mm256_loadu_ps(pa.add(i + 8)),
                    _mm256_loadu_ps(pb.add(i + 8)),
                    s1,
                );
                i += 16;
            }
            if i + 8 <= n {
                s0 = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)), s0);
                i += 8;
            }
            let s = _mm256_add_ps(s0, s1);
            let q = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps::<1>(s));
            let q = _mm_add_ps(q, _mm_movehl_ps(q, q));
            let q = _mm_add_ss(q, _mm_shuffle_ps::<1>(q, q));
            _mm_cvtss_f32(q)
        };
        while i < n {
            sum += a[i] * b[i];
            i += 1;
        }
        sum
    }

    macro_rules! compiled_for_avx2 {
        ($($name:ident => $body:ident ($($arg:ident: $ty:ty),*) $(-> $ret:ty)?;)*) => {$(
            /// The portable body compiled for AVX2+FMA.
            ///
            /// # Safety
            /// The CPU must support AVX2 and FMA.
            #[target_feature(enable = "avx2,fma")]
            pub(super) unsafe fn $name($($arg: $ty),*) $(-> $ret)? {
                super::$body($($arg),*)
            }
        )*};
    }

    compiled_for_avx2! {
        axpy_avx2 => axpy_body(y: &mut [f32], a: f32, x: &[f32]);
        add_avx2 => add_body(y: &mut [f32], x: &[f32]);
        scale_avx2 => scale_body(y: &mut [f32], a: f32);
        dot_fused_from_avx2 => dot_fused_from_body(a: &[f32], b: &[f32], from: usize) -> f32;
        axpy_fused_avx2 => axpy_fused_body(y: &mut [f32], a: f32, x: &[f32]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive_dot(a: &[f32], b: &[f32]) -> f64 {
        a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum()
    }

    proptest! {
        // Every path this CPU has (NEURITE_SIMD aside), against naive references.
        #[test]
        fn dot_matches_naive(v in proptest::collection::vec((-1.0f32..1.0, -1.0f32..1.0), 0..300)) {
            let (a, b): (Vec<f32>, Vec<f32>) = v.into_iter().unzip();
            let exact = naive_dot(&a, &b);
            let bound = 1e-5 * (1.0 + a.len() as f64);
            prop_assert!((dot(&a, &b) as f64 - exact).abs() < bound);
            prop_assert!((dot_sequential(&a, &b) as f64 - exact).abs() < bound);
            prop_assert!((dot_portable(&a, &b) as f64 - exact).abs() < bound);
            for l in Level::available() {
                prop_assert!((dot_at(l, &a, &b) as f64 - exact).abs() < bound, "{}", l);
                let fused = dot_fused_from_at(l, &a, &b, 0);
                prop_assert!((fused as f64 - exact).abs() < bound);
                // A fused multiply-add rounds once on every path: the same bits.
                prop_assert_eq!(fused.to_bits(), dot_fused_from_at(Level::Portable, &a, &b, 0).to_bits());
                let from = a.len() / 8 * 8;
                let part = dot_fused_from_at(l, &a, &b, from);
                prop_assert!((part as f64 - exact).abs() < bound);
                prop_assert_eq!(part.to_bits(), dot_fused_from_at(Level::Portable, &a, &b, from).to_bits());
                prop_assert_eq!(dot_fused_from_at(l, &a, &b, a.len()), dot_sequential(&a, &b));
            }
        }

        #[test]
        fn axpy_add_scale_match_naive(
            v in proptest::collection::vec((-1.0f32..1.0, -1.0f32..1.0), 0..300),
            a in -2.0f32..2.0,
        ) {
            let (x, y0): (Vec<f32>, Vec<f32>) = v.into_iter().unzip();
            for l in Level::available() {
                let mut y = y0.clone();
                axpy_at(l, &mut y, a, &x);
                for i in 0..y.len() {
                    prop_assert_eq!(y[i], y0[i] + a * x[i], "{}", l);
                }
                let mut f = y0.clone();
                axpy_fused_at(l, &mut f, a, &x);
                for i in 0..f.len() {
                    // One rounding of the exact a·x + y: within half an ulp of it.
                    let exact = a as f64 * x[i] as f64 + y0[i] as f64;
                    let scale = exact.abs().max((f[i] as f64).abs()).max(f32::MIN_POSITIVE as f64);
                    prop_assert!((f[i] as f64 - exact).abs() <= scale * f32::EPSILON as f64 / 2.0);
                }
                let mut z = y0.clone();
                add_at(l, &mut z, &x);
                scale_at(l, &mut z, a);
                for i in 0..z.len() {
                    prop_assert_eq!(z[i], (y0[i] + x[i]) * a);
                }
            }
            // The default entry points are one of the paths.
            let mut y = y0.clone();
            axpy(&mut y, a, &x);
            add(&mut y, &x);
            scale(&mut y, a);
            let mut w = y0.clone();
            axpy_fused(&mut w, a, &x);
            let mut yp = y0.clone();
            axpy_at(Level::Portable, &mut yp, a, &x);
            add_at(Level::Portable, &mut yp, &x);
            scale_at(Level::Portable, &mut yp, a);
            let mut wp = y0.clone();
            axpy_fused_at(Level::Portable, &mut wp, a, &x);
            prop_assert_eq!((y, w), (yp, wp));
        }
    }

    #[test]
    fn fused_forms_round_once() {
        // 1 + 2^-12 squared is 1 + 2^-11 + 2^-24: the separate product rounds the 2^-24 away
        // (a tie to even), the fused form keeps it and then drops it only when adding −1.
        let x = 1.0 + f32::EPSILON * 2048.0;
        let sep = dot_sequential(&[-1.0, x], &[1.0, x]);
        let fused = dot_fused_from(&[-1.0, x], &[1.0, x], 0);
        assert_eq!(dot_fused_from(&[-1.0, x], &[1.0, x], 1), fused);
        assert_eq!(dot_fused_from(&[-1.0, x], &[1.0, x], 2), sep);
        assert_eq!(sep, 2f32.powi(-11));
        assert_eq!(fused, 2f32.powi(-11) + 2f32.powi(-24));
        for l in Level::available() {
            let mut y = [-1.0f32];
            axpy_fused_at(l, &mut y, x, &[x]);
            assert_eq!(y[0], fused, "{l}");
            assert_eq!(dot_fused_from_at(l, &[-1.0, x], &[1.0, x], 0), fused, "{l}");
        }
    }

    #[test]
    fn dot_of_unequal_lengths_uses_the_shorter() {
        assert_eq!(dot(&[1.0, 2.0, 3.0], &[1.0, 1.0]), 3.0);
        assert_eq!(dot(&[], &[1.0]), 0.0);
        for l in Level::available() {
            let a: Vec<f32> = (0..40).map(|i| i as f32).collect();
            assert_eq!(
                dot_at(l, &a, &a[..17]),
                (0..17).map(|i| (i * i) as f32).sum(),
                "{l}"
            );
        }
    }
}

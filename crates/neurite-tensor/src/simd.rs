//! Runtime CPU dispatch: which vector instructions the hot loops use, chosen when the program
//! runs, not when it is built.
//!
//! A dependent crate is built for baseline x86-64 (SSE2) unless it asks for more, so a loop
//! that relies on the compiler's auto-vectorisation would run at a third of its speed on the
//! machines neurite is measured on. Instead, each hot loop is compiled several times, once per
//! [`Level`], by [`run`]: the loop is written once as ordinary (inlined) Rust and placed inside a
//! function that enables the level's target features (through the `pulp` crate's
//! `vectorize`, which also does the CPU detection), and the level is picked at run time.
//!
//! The level is [`Level::detected`] — the best this CPU has — capped once per process by the
//! environment variable `NEURITE_SIMD` (`portable`, `avx2` or `avx512`; another value, or a
//! level the CPU lacks, is ignored or capped to what it has). [`with_level`] (or the guard of
//! [`force_level`]) forces a lower level on the current thread: the proptests use it to check every path against naive
//! references on one machine. Kernels read [`level`] once on the calling thread and carry it
//! into their parallel chunks, so a forced level reaches the worker threads too.
//!
//! Levels may differ in the last bits of a result where a path fuses a multiply and an add
//! (one rounding instead of two) or sums in another order; a given level on a given input is
//! deterministic and independent of the thread count, like every kernel in neurite.

use std::cell::Cell;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

/// An instruction-set level a kernel can run at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Baseline code for the build target (SSE2 on x86-64): what runs everywhere.
    Portable,
    /// x86-64-v3: AVX2 and FMA (256-bit vectors, fused multiply-add).
    Avx2,
    /// x86-64-v4: AVX-512 F/BW/CD/DQ/VL (512-bit vectors and masks) on top of AVX2 and FMA.
    Avx512,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 3] = [Level::Portable, Level::Avx2, Level::Avx512];

    /// The best level this CPU supports.
    pub fn detected() -> Level {
        static DETECTED: OnceLock<Level> = OnceLock::new();
        *DETECTED.get_or_init(|| {
            if Level::Avx512.is_available() {
                Level::Avx512
            } else if Level::Avx2.is_available() {
                Level::Avx2
            } else {
                Level::Portable
            }
        })
    }

    /// Whether this CPU can run code of this level.
    #[inline]
    pub fn is_available(self) -> bool {
        match self {
            Level::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => pulp::x86::V3::is_available(),
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => pulp::x86::V4::is_available(),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The levels this CPU supports, lowest first: the paths a test should check.
    pub fn available() -> Vec<Level> {
        Level::ALL
            .into_iter()
            .filter(|l| l.is_available())
            .collect()
    }

    /// Parses `portable`, `avx2` or `avx512` (any case; `scalar`, `v3`, `v4` too).
    pub fn parse(s: &str) -> Option<Level> {
        match s.trim().to_ascii_lowercase().as_str() {
            "portable" | "scalar" | "baseline" => Some(Level::Portable),
            "avx2" | "v3" | "x86-64-v3" => Some(Level::Avx2),
            "avx512" | "avx-512" | "v4" | "x86-64-v4" => Some(Level::Avx512),
            _ => None,
        }
    }

    /// The level to run a loop over short rows at (tens of elements, like the rows of an
    /// image plane): at most [`Level::Avx2`]. A 28-element row fills one 16-lane AVX-512 vector
    /// and leaves 12 elements to the scalar remainder; 8-lane vectors leave 4. (Zen 4 splits
    /// 512-bit operations in two anyway; Intel cores that run both widths natively are the
    /// ones `-C target-cpu=native` tunes to prefer 256-bit vectors.)
    #[inline]
    pub fn for_short_rows(self) -> Level {
        self.min(Level::Avx2)
    }

    /// The level's name as `NEURITE_SIMD` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Level::Portable => "portable",
            Level::Avx2 => "avx2",
            Level::Avx512 => "avx512",
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The process-wide level: [`Level::detected`] capped by `NEURITE_SIMD`, read once. Cheap
/// enough for a per-call check (one relaxed atomic load once known).
#[inline]
pub fn process_level() -> Level {
    match PROCESS.load(Ordering::Relaxed) {
        0 => Level::Portable,
        1 => Level::Avx2,
        2 => Level::Avx512,
        _ => process_level_first(),
    }
}

/// [`process_level`] as a number (`u8::MAX`: not yet known).
static PROCESS: AtomicU8 = AtomicU8::new(u8::MAX);

#[cold]
#[inline(never)]
fn process_level_first() -> Level {
    static SELECTED: OnceLock<Level> = OnceLock::new();
    let level = *SELECTED.get_or_init(|| {
        let best = Level::detected();
        match std::env::var("NEURITE_SIMD")
            .ok()
            .as_deref()
            .and_then(Level::parse)
        {
            Some(asked) => asked.min(best),
            None => best,
        }
    });
    PROCESS.store(level as u8, Ordering::Relaxed);
    level
}

thread_local! {
    static FORCED: Cell<Option<Level>> = const { Cell::new(None) };
}

/// The level kernels called on this thread use: the one forced by [`with_level`] if any,
/// else [`process_level`].
#[inline]
pub fn level() -> Level {
    FORCED.with(Cell::get).unwrap_or_else(process_level)
}

/// Runs `f` with the kernels it calls on this thread (and the parallel chunks they hand to
/// other threads) at `level`, capped to what the CPU supports; restores the previous setting
/// afterwards, even if `f` panics. For tests and measurements of each path.
///
/// ```
/// use neurite_tensor::simd::{self, Level};
/// let x = neurite_tensor::Tensor::<f32>::from_vec(vec![1.0, -2.0, 3.0], &[3])?;
/// for l in Level::available() {
///     let y = simd::with_level(l, || x.relu());
///     assert_eq!(y.to_vec(), [1.0, 0.0, 3.0]);
/// }
/// assert_eq!(simd::with_level(Level::Portable, simd::level), Level::Portable);
/// # Ok::<(), neurite_tensor::TensorError>(())
/// ```
pub fn with_level<R>(level: Level, f: impl FnOnce() -> R) -> R {
    let _forced = force_level(level);
    f()
}

/// Forces `level` (capped to what the CPU supports) on the current thread until the returned
/// guard is dropped, which restores the previous setting: [`with_level`] for a whole scope,
/// as a test does with one `let _simd = force_level(level);`.
pub fn force_level(level: Level) -> LevelGuard {
    let capped = level.min(Level::detected());
    LevelGuard {
        previous: FORCED.with(|c| c.replace(Some(capped))),
        _not_send: std::marker::PhantomData,
    }
}

/// Restores the thread's previous level when dropped (see [`force_level`]).
#[must_use = "the level is restored when the guard drops"]
pub struct LevelGuard {
    previous: Option<Level>,
    // The setting belongs to the thread that made the guard.
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for LevelGuard {
    fn drop(&mut self) {
        FORCED.with(|c| c.set(self.previous));
    }
}

impl std::fmt::Debug for LevelGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LevelGuard")
            .field("previous", &self.previous)
            .finish()
    }
}

/// A loop to run compiled for a [`Level`] by [`run`]: every closure `FnOnce() -> R` is one.
///
/// A closure's body is a function of its own, which the compiler may decline to inline into
/// the level's compilation when it is large (it then runs as baseline code). A kernel whose
/// body is large implements this trait on a struct of its operands instead, with
/// `#[inline(always)]` on [`Kernel::call`]: that body is always compiled for the level.
pub trait Kernel {
    /// What the kernel returns.
    type Output;
    /// Runs the kernel.
    fn call(self) -> Self::Output;
}

impl<R, F: FnOnce() -> R> Kernel for F {
    type Output = R;
    #[inline(always)]
    fn call(self) -> R {
        self()
    }
}

/// Adapts a [`Kernel`] to pulp's `vectorize`, keeping the call inlined.
struct Vectorized<K>(K);

impl<K: Kernel> pulp::NullaryFnOnce for Vectorized<K> {
    type Output = K::Output;
    #[inline(always)]
    fn call(self) -> K::Output {
        self.0.call()
    }
}

/// Runs `kernel` compiled with `level`'s target features enabled: the loops inlined into it
/// (a small closure's body, or a [`Kernel`]'s `#[inline(always)]` `call` and the `#[inline]`
/// functions it calls) are vectorised for that instruction set, and `mul_add` becomes one FMA
/// instruction from [`Level::Avx2`] up. A level the CPU lacks runs the portable compilation.
#[inline(always)]
pub fn run<K: Kernel>(level: Level, kernel: K) -> K::Output {
    match level {
        Level::Portable => kernel.call(),
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => match pulp::x86::V3::try_new() {
            Some(simd) => simd.vectorize(Vectorized(kernel)),
            None => kernel.call(),
        },
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 => match pulp::x86::V4::try_new() {
            Some(simd) => simd.vectorize(Vectorized(kernel)),
            None => kernel.call(),
        },
        #[cfg(not(target_arch = "x86_64"))]
        _ => kernel.call(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_order_and_cap() {
        assert_eq!(Level::parse("AVX2"), Some(Level::Avx2));
        assert_eq!(Level::parse("portable"), Some(Level::Portable));
        assert_eq!(Level::parse("avx512"), Some(Level::Avx512));
        assert_eq!(Level::parse("sse9"), None);
        assert!(Level::Portable < Level::Avx2 && Level::Avx2 < Level::Avx512);
        for l in Level::ALL {
            assert_eq!(Level::parse(l.name()), Some(l));
        }
        assert!(Level::available().contains(&Level::detected()));
        assert!(process_level() <= Level::detected());
    }

    #[test]
    fn with_level_is_per_thread_and_restored() {
        let outer = level();
        with_level(Level::Portable, || {
            assert_eq!(level(), Level::Portable);
            // Nested: the inner setting wins, the outer comes back.
            with_level(Level::Avx512, || assert_eq!(level(), Level::detected()));
            assert_eq!(level(), Level::Portable);
            // Another thread keeps the process level.
            let other = std::thread::spawn(level).join().unwrap();
            assert_eq!(other, process_level());
        });
        assert_eq!(level(), outer);
    }

    #[test]
    fn run_computes_the_same_on_every_level() {
        let x: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.37).sin()).collect();
        let want: Vec<f32> = x.iter().map(|v| v * 2.0 + 1.0).collect();
        for l in Level::available() {
            let got = run(l, || x.iter().map(|v| v * 2.0 + 1.0).collect::<Vec<f32>>());
            assert_eq!(got, want, "{l}");
        }
    }
}

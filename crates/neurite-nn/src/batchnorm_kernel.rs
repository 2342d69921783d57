//! The kernels of the batch-norm op (`batchnorm.rs`): per-channel reductions over [N, C, S]
//! data in parallel over channels, and element-wise passes with per-channel coefficients in
//! parallel chunks, each compiled for the SIMD level it runs at ([`simd::run`]).

use neurite_tensor::{parallel, simd, Float};
use rayon::prelude::*;

/// Partial sums per channel reduction: value j of each run of [`LANES`] goes to sum j, and the
/// sums are folded pairwise at the end. The order is fixed by the code, not by the vector width
/// or the thread count, so every SIMD level and every thread count give the same bits; 16 f64
/// sums are two AVX-512 or four AVX2 registers of independent additions.
const LANES: usize = 16;

/// Values per parallel task of the per-channel reductions (channels are grouped below it).
const GRAIN: usize = 1 << 14;

#[inline(always)]
fn fold(mut w: [f64; LANES]) -> f64 {
    let mut k = LANES;
    while k > 1 {
        k /= 2;
        for j in 0..k {
            w[j] += w[j + k];
        }
    }
    w[0]
}

/// The runs of channel `ch` in [N, C, S] data: S values per sample.
#[inline(always)]
fn runs<T>(a: &[T], n: usize, c: usize, s: usize, ch: usize) -> impl Iterator<Item = &[T]> {
    (0..n).map(move |i| &a[(i * c + ch) * s..(i * c + ch + 1) * s])
}

/// Mean and biased variance of channel `ch`: Σx/M, then Σ(x − μ)²/M about that mean (two
/// passes over data in cache; stable for large means), in f64 partial sums.
#[inline(always)]
fn channel_moments<T: Float>(x: &[T], (n, c, s): (usize, usize, usize), ch: usize) -> (f64, f64) {
    let m = (n * s) as f64;
    let mut acc = [0.0f64; LANES];
    for run in runs(x, n, c, s, ch) {
        let (full, rest) = run.as_chunks::<LANES>();
        for v in full {
            for j in 0..LANES {
                acc[j] += v[j].to_f64();
            }
        }
        for (a, &v) in acc.iter_mut().zip(rest) {
            *a += v.to_f64();
        }
    }
    let mean = fold(acc) / m;
    let mut acc = [0.0f64; LANES];
    for run in runs(x, n, c, s, ch) {
        let (full, rest) = run.as_chunks::<LANES>();
        for v in full {
            for j in 0..LANES {
                let d = v[j].to_f64() - mean;
                acc[j] += d * d;
            }
        }
        for (a, &v) in acc.iter_mut().zip(rest) {
            let d = v.to_f64() - mean;
            *a += d * d;
        }
    }
    (mean, fold(acc) / m)
}

/// Adds `v` into the [`LANES`] partial sums: value i of `v` to sum i mod [`LANES`].
#[inline(always)]
fn add_lanes(acc: &mut [f64; LANES], v: &[f64]) {
    let (full, rest) = v.as_chunks::<LANES>();
    for v in full {
        for j in 0..LANES {
            acc[j] += v[j];
        }
    }
    for (a, &v) in acc.iter_mut().zip(rest) {
        *a += v;
    }
}

/// Σg and Σg·(x − μ) of channel `ch`, in f64 partial sums.
#[inline(always)]
fn channel_grad_sums<T: Float>(
    g: &[T],
    x: &[T],
    (n, c, s): (usize, usize, usize),
    ch: usize,
    mean: f64,
) -> (f64, f64) {
    // Each stretch is converted to f64 terms in a small buffer (a plain loop, vectorised as
    // such) and the terms added into the lanes: written as one loop over lanes, the compiler
    // pairs the two sums' lanes instead of vectorising each sum over its lanes.
    const BUF: usize = 4 * LANES;
    let (mut sg, mut sgx) = ([0.0f64; LANES], [0.0f64; LANES]);
    let (mut tg, mut tgx) = ([0.0f64; BUF], [0.0f64; BUF]);
    for (gr, xr) in runs(g, n, c, s, ch).zip(runs(x, n, c, s, ch)) {
        for (gs, xs) in gr.chunks(BUF).zip(xr.chunks(BUF)) {
            let len = gs.len();
            for ((tg, tgx), (&g, &x)) in tg[..len]
                .iter_mut()
                .zip(&mut tgx[..len])
                .zip(gs.iter().zip(xs))
            {
                let g = g.to_f64();
                *tg = g;
                *tgx = g * (x.to_f64() - mean);
            }
            add_lanes(&mut sg, &tg[..len]);
            add_lanes(&mut sgx, &tgx[..len]);
        }
    }
    (fold(sg), fold(sgx))
}

/// A per-channel reduction.
#[derive(Clone, Copy)]
pub(crate) enum Reduce<'a, T> {
    /// (μ, σ²) of x.
    Moments { x: &'a [T] },
    /// (Σg, Σg·(x − μ)), with (μ, ·) per channel.
    GradSums {
        g: &'a [T],
        x: &'a [T],
        stats: &'a [(f64, f64)],
    },
}

/// One channel's reduction as a [`simd::Kernel`], so that its loops are always compiled for
/// the level it runs at.
struct ChannelJob<'a, T> {
    what: Reduce<'a, T>,
    dims: (usize, usize, usize),
    ch: usize,
}

impl<T: Float> simd::Kernel for ChannelJob<'_, T> {
    type Output = (f64, f64);
    #[inline(always)]
    fn call(self) -> (f64, f64) {
        match self.what {
            Reduce::Moments { x } => channel_moments(x, self.dims, self.ch),
            Reduce::GradSums { g, x, stats } => {
                channel_grad_sums(g, x, self.dims, self.ch, stats[self.ch].0)
            }
        }
    }
}

/// `what` for every channel, channels in parallel (grouped to at least [`GRAIN`] values per
/// task). Each channel is reduced by one thread in a fixed order.
pub(crate) fn per_channel<T: Float>(
    dims: (usize, usize, usize),
    what: Reduce<'_, T>,
) -> Vec<(f64, f64)> {
    let (n, c, s) = dims;
    let level = simd::level();
    let min_len = (GRAIN / (n * s).max(1)).max(1);
    (0..c)
        .into_par_iter()
        .with_min_len(min_len)
        .map(|ch| simd::run(level, ChannelJob { what, dims, ch }))
        .collect()
}

/// An element-wise pass over [N, C, S] data with per-channel coefficients.
#[derive(Clone, Copy)]
pub(crate) enum Fill<'a, T> {
    /// y = (x − μ)·k + β from `[μ, k, β]`.
    Forward { x: &'a [T], coef: &'a [[T; 3]] },
    /// ∂x = k·(g − m_g − (x − μ)·c2) from `[μ, k, m_g, c2]`.
    Backward {
        g: &'a [T],
        x: &'a [T],
        coef: &'a [[T; 4]],
    },
}

/// One chunk of a [`Fill`] (elements `off..` of the output) as a [`simd::Kernel`].
struct FillJob<'a, T> {
    what: Fill<'a, T>,
    out: &'a mut [T],
    off: usize,
    c: usize,
    s: usize,
}

impl<T: Float> simd::Kernel for FillJob<'_, T> {
    type Output = ();
    #[inline(always)]
    fn call(self) {
        let FillJob {
            what,
            out,
            off,
            c,
            s,
        } = self;
        let mut done = 0;
        while done < out.len() {
            // One stretch of channel ch: up to the end of its run or of the chunk.
            let e = off + done;
            let len = (s - e % s).min(out.len() - done);
            let ch = (e / s) % c;
            let out = &mut out[done..done + len];
            match what {
                Fill::Forward { x, coef } => {
                    let [mu, k, b] = coef[ch];
                    for (y, &x) in out.iter_mut().zip(&x[e..e + len]) {
                        *y = (x - mu) * k + b;
                    }
                }
                Fill::Backward { g, x, coef } => {
                    let [mu, k, mg, c2] = coef[ch];
                    for ((d, &g), &x) in out.iter_mut().zip(&g[e..e + len]).zip(&x[e..e + len]) {
                        *d = k * (g - mg - (x - mu) * c2);
                    }
                }
            }
            done += len;
        }
    }
}

/// A new [N, C, S] buffer computed by `what`, in parallel chunks.
pub(crate) fn fill_runs<T: Float>((n, c, s): (usize, usize, usize), what: Fill<'_, T>) -> Vec<T> {
    let level = simd::level();
    parallel::fill_chunks(n * c * s, |out: &mut [T], off| {
        simd::run(
            level,
            FillJob {
                what,
                out,
                off,
                c,
                s,
            },
        )
    })
}

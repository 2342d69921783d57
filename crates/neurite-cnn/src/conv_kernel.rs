//! The convolution kernels: per-sample im2col into a reused buffer (neurite-tensor's
//! [`Im2col`], the same per-plane code as its batched `im2col_2d`), then one GEMM per group
//! (C = W·cols) on the calling thread, in parallel over the batch; and the backward pass, which
//! rebuilds the columns instead of keeping them (cheap next to the GEMMs, and it keeps no
//! [batch, C·k, L] buffer alive between forward and backward).
//!
//! 1-D convolution runs on the same code with a height of 1.

use neurite_tensor::conv::Im2col;
use neurite_tensor::matmul::{gemm_slices, Par};
use neurite_tensor::{scratch, simd, Float, Result};
use rayon::prelude::*;

/// The geometry of one convolution call (1-D inputs have `h = kh = 1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConvGeom {
    pub n: usize,
    pub c_in: usize,
    pub h: usize,
    pub w: usize,
    pub c_out: usize,
    pub groups: usize,
    /// The im2col plan of one group of one sample: [c_in/groups, h, w] ↔ [k, l].
    pub cols: Im2col,
}

impl ConvGeom {
    /// Input channels per group.
    pub fn cg(&self) -> usize {
        self.c_in / self.groups
    }
    /// Output channels per group.
    pub fn og(&self) -> usize {
        self.c_out / self.groups
    }
    /// Rows of the column matrix per group: cg·kh·kw.
    pub fn k(&self) -> usize {
        self.cols.rows()
    }
    /// Output positions per channel: oh·ow.
    pub fn l(&self) -> usize {
        self.cols.positions()
    }
    /// Input elements per sample.
    pub fn in_sample(&self) -> usize {
        self.c_in * self.h * self.w
    }
    /// Output elements per sample.
    pub fn out_sample(&self) -> usize {
        self.c_out * self.l()
    }
}

/// im2col of one group of one sample: `x` [cg, h, w] → `cols` [cg·kh·kw, oh·ow].
fn im2col<T: Float>(g: &ConvGeom, x: &[T], cols: &mut [T]) {
    g.cols
        .im2col(x, cols)
        .expect("buffer lengths fixed by the geometry"); // ok: sliced from the geometry above
}

/// col2im, the adjoint of [`im2col`]: adds `cols` [cg·kh·kw, oh·ow] onto `x` [cg, h, w].
fn col2im<T: Float>(g: &ConvGeom, cols: &[T], x: &mut [T]) {
    g.cols
        .col2im_add(cols, x)
        .expect("buffer lengths fixed by the geometry"); // ok: sliced from the geometry above
}

/// C ← A·B + β·C for row-major contiguous operands, A [m, k] (or Aᵀ when `ta`, stored [k, m]),
/// B [k, n] (or Bᵀ when `tb`, stored [n, k]), C [m, n]; on the calling thread (the
/// parallelism is over the batch).
#[allow(clippy::too_many_arguments)]
#[inline]
fn gemm<T: Float>(
    m: usize,
    k: usize,
    n: usize,
    a: &[T],
    ta: bool,
    b: &[T],
    tb: bool,
    beta: T,
    c: &mut [T],
) {
    gemm_slices([m, k, n], a, ta, b, tb, beta, c, Par::Serial)
        .expect("conv gemm: buffers sized by the checked geometry"); // ok: sliced from the checked ConvGeom
}

/// Forward: `y` [n, c_out, oh, ow] = conv(`x` [n, c_in, h, w], `w` [c_out, cg, kh, kw]) + `b`.
pub(crate) fn forward<T: Float>(
    g: &ConvGeom,
    x: &[T],
    w: &[T],
    b: Option<&[T]>,
    y: &mut [T],
) -> Result<()> {
    let (k, l, og, cg) = (g.k(), g.l(), g.og(), g.cg());
    let plane = g.h * g.w;
    let direct = g.cols.is_identity();
    let level = simd::level();
    let sample = |(s, ys): (usize, &mut [T])| {
        let xs = &x[s * g.in_sample()..(s + 1) * g.in_sample()];
        let mut run = |cols: &mut [T]| {
            for grp in 0..g.groups {
                let xg = &xs[grp * cg * plane..(grp + 1) * cg * plane];
                let yg = &mut ys[grp * og * l..(grp + 1) * og * l];
                let wg = &w[grp * og * k..(grp + 1) * og * k];
                let beta = match b {
                    Some(b) => {
                        let fill = BiasFill {
                            y: &mut *yg,
                            bias: &b[grp * og..(grp + 1) * og],
                            l,
                        };
                        simd::run(level, fill);
                        T::ONE
                    }
                    None => T::ZERO,
                };
                let bmat: &[T] = if direct {
                    xg
                } else {
                    im2col(g, xg, cols);
                    cols
                };
                gemm(og, k, l, wg, false, bmat, false, beta, yg);
            }
        };
        if direct {
            run(&mut []);
            Ok(())
        } else {
            scratch::with("convolution columns", k * l, run)
        }
    };
    if g.n > 1 {
        y.par_chunks_mut(g.out_sample())
            .enumerate()
            .try_for_each(sample)
    } else {
        y.chunks_mut(g.out_sample())
            .enumerate()
            .try_for_each(sample)
    }
}

/// The downstream gradients of a convolution.
pub(crate) struct ConvGrads<T> {
    /// ∂loss/∂x [n, c_in, h, w].
    pub dx: Option<Vec<T>>,
    /// ∂loss/∂w [c_out, cg, kh, kw].
    pub dw: Option<Vec<T>>,
    /// ∂loss/∂b [c_out].
    pub db: Option<Vec<T>>,
}

/// Σ xs, accumulated in eight interleaved lanes that the compiler turns into one vector
/// register, then the lanes in order.
#[inline(always)]
fn lane_sum<T: Float>(xs: &[T]) -> T {
    let mut lanes = [T::ZERO; 8];
    let mut it = xs.chunks_exact(8);
    for c in &mut it {
        for (a, &v) in lanes.iter_mut().zip(c) {
            *a += v;
        }
    }
    for (a, &v) in lanes.iter_mut().zip(it.remainder()) {
        *a += v;
    }
    lanes.iter().fold(T::ZERO, |a, &v| a + v)
}

/// Each `l`-long row of `y` set to its channel's `bias` (a [`simd::Kernel`]: written inline in
/// the forward pass, the fill ran at baseline x86-64 in a build without target flags).
struct BiasFill<'a, T> {
    y: &'a mut [T],
    bias: &'a [T],
    l: usize,
}

impl<T: Float> simd::Kernel for BiasFill<'_, T> {
    type Output = ();
    #[inline(always)]
    fn call(self) {
        for (row, &b) in self.y.chunks_exact_mut(self.l).zip(self.bias) {
            for v in row {
                *v = b;
            }
        }
    }
}

/// db of one output channel: Σ over the samples of the lane sums of its `at` range of each
/// sample of `dy` (a [`simd::Kernel`], so that the loop is always compiled for the level; a
/// closure's body was not inlined there and ran at baseline x86-64).
struct BiasSum<'a, T> {
    dy: &'a [T],
    sample: usize,
    at: std::ops::Range<usize>,
}

impl<T: Float> simd::Kernel for BiasSum<'_, T> {
    type Output = T;
    #[inline(always)]
    fn call(self) -> T {
        // A plain loop: an iterator's `fold` here was not inlined into the level's function.
        let mut total = T::ZERO;
        for ys in self.dy.chunks_exact(self.sample) {
            total += lane_sum(&ys[self.at.clone()]);
        }
        total
    }
}

/// Backward: from the upstream gradient `dy` [n, c_out, oh, ow],
/// dx = col2im(Wᵀ·dy), dW = Σ_batch dy·colsᵀ, db = Σ_{batch, positions} dy.
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward<T: Float>(
    g: &ConvGeom,
    x: &[T],
    w: &[T],
    dy: &[T],
    need_dx: bool,
    need_dw: bool,
    need_db: bool,
) -> Result<ConvGrads<T>> {
    let (k, l, og, cg) = (g.k(), g.l(), g.og(), g.cg());
    let plane = g.h * g.w;
    let direct = g.cols.is_identity();
    // db[o] = Σ over samples and positions of dy: one output channel per task, each row summed
    // in eight lanes (vectorised), so that neither the order of the sum nor the result depends
    // on the thread count.
    // Compiled for the SIMD level (the same eight lanes, so the same bits, at every level).
    let level = simd::level();
    let db = need_db.then(|| {
        (0..g.c_out)
            .into_par_iter()
            .map(|o| {
                let sums = BiasSum {
                    dy,
                    sample: g.out_sample(),
                    at: o * l..(o + 1) * l,
                };
                simd::run(level, sums)
            })
            .collect()
    });
    if !need_dx && !need_dw {
        return Ok(ConvGrads {
            dx: None,
            dw: None,
            db,
        });
    }
    // Batch chunks: each accumulates its own dW, summed afterwards in chunk order.
    let chunks = rayon::current_num_threads().clamp(1, g.n.max(1));
    let per = g.n.div_ceil(chunks).max(1);
    let mut dx = vec![T::ZERO; if need_dx { g.n * g.in_sample() } else { 0 }];
    let dx_chunk = if need_dx { per * g.in_sample() } else { 0 };
    let work = |(ci, dxc): (usize, &mut [T])| -> Result<Vec<T>> {
        let mut dw = vec![T::ZERO; if need_dw { w.len() } else { 0 }];
        let cols_len = if direct { 0 } else { k * l };
        scratch::with("convolution columns", 2 * cols_len, |buf| {
            let (cols, dcols) = buf.split_at_mut(cols_len);
            for s in ci * per..((ci + 1) * per).min(g.n) {
                let xs = &x[s * g.in_sample()..(s + 1) * g.in_sample()];
                let dys = &dy[s * g.out_sample()..(s + 1) * g.out_sample()];
                let local = s - ci * per;
                for grp in 0..g.groups {
                    let xg = &xs[grp * cg * plane..(grp + 1) * cg * plane];
                    let dyg = &dys[grp * og * l..(grp + 1) * og * l];
                    let wg = &w[grp * og * k..(grp + 1) * og * k];
                    if need_dw {
                        let cmat: &[T] = if direct {
                            xg
                        } else {
                            im2col(g, xg, cols);
                            cols
                        };
                        // dW_g [og, k] += dy_g [og, l] · colsᵀ [l, k]
                        let dwg = &mut dw[grp * og * k..(grp + 1) * og * k];
                        gemm(og, l, k, dyg, false, cmat, true, T::ONE, dwg);
                    }
                    if need_dx {
                        let off = local * g.in_sample() + grp * cg * plane;
                        let dxg = &mut dxc[off..off + cg * plane];
                        if direct {
                            // dx_g [cg, l] = W_gᵀ [cg, og] · dy_g [og, l]
                            gemm(k, og, l, wg, true, dyg, false, T::ZERO, dxg);
                        } else {
                            gemm(k, og, l, wg, true, dyg, false, T::ZERO, dcols);
                            col2im(g, dcols, dxg);
                        }
                    }
                }
            }
        })?;
        Ok(dw)
    };
    let partial: Result<Vec<Vec<T>>> = if need_dx {
        dx.par_chunks_mut(dx_chunk).enumerate().map(work).collect()
    } else {
        (0..chunks)
            .into_par_iter()
            .map(|ci| work((ci, &mut [])))
            .collect()
    };
    let partial = partial?;
    let dw = need_dw.then(|| {
        let mut it = partial.into_iter();
        let mut acc = it.next().unwrap_or_else(|| vec![T::ZERO; w.len()]);
        for p in it {
            for (a, v) in acc.iter_mut().zip(p) {
                *a += v;
            }
        }
        acc
    });
    Ok(ConvGrads {
        dx: need_dx.then_some(dx),
        dw,
        db,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use neurite_tensor::conv::Window2d;
    use neurite_tensor::Rng;

    /// A convolution written out in full, for the reference implementation.
    #[derive(Debug, Clone, Copy)]
    struct Spec {
        n: usize,
        c_in: usize,
        h: usize,
        w: usize,
        c_out: usize,
        groups: usize,
        kh: usize,
        kw: usize,
        sh: usize,
        sw: usize,
        ph: usize,
        pw: usize,
        dh: usize,
        dw: usize,
        oh: usize,
        ow: usize,
    }

    impl Spec {
        fn geom(&self) -> ConvGeom {
            let window = Window2d::new([self.kh, self.kw])
                .with_stride([self.sh, self.sw])
                .with_padding([self.ph, self.pw])
                .with_dilation([self.dh, self.dw]);
            let cols = Im2col::new_2d([self.c_in / self.groups, self.h, self.w], &window).unwrap();
            assert_eq!(cols.output_size(), [self.oh, self.ow]);
            ConvGeom {
                n: self.n,
                c_in: self.c_in,
                h: self.h,
                w: self.w,
                c_out: self.c_out,
                groups: self.groups,
                cols,
            }
        }
        fn cg(&self) -> usize {
            self.c_in / self.groups
        }
        fn og(&self) -> usize {
            self.c_out / self.groups
        }
    }

    /// Direct definition of the convolution, for reference.
    fn naive(g: &Spec, x: &[f64], w: &[f64], b: &[f64]) -> Vec<f64> {
        let mut y = vec![0.0; g.n * g.c_out * g.oh * g.ow];
        for s in 0..g.n {
            for o in 0..g.c_out {
                let grp = o / g.og();
                for oy in 0..g.oh {
                    for ox in 0..g.ow {
                        let mut acc = b[o];
                        for c in 0..g.cg() {
                            let ci = grp * g.cg() + c;
                            for ki in 0..g.kh {
                                for kj in 0..g.kw {
                                    let iy = (oy * g.sh + ki * g.dh) as isize - g.ph as isize;
                                    let ix = (ox * g.sw + kj * g.dw) as isize - g.pw as isize;
                                    if iy < 0 || ix < 0 || iy >= g.h as isize || ix >= g.w as isize
                                    {
                                        continue;
                                    }
                                    let xv = x[((s * g.c_in + ci) * g.h + iy as usize) * g.w
                                        + ix as usize];
                                    let wv = w[((o * g.cg() + c) * g.kh + ki) * g.kw + kj];
                                    acc += xv * wv;
                                }
                            }
                        }
                        y[((s * g.c_out + o) * g.oh + oy) * g.ow + ox] = acc;
                    }
                }
            }
        }
        y
    }

    #[allow(clippy::too_many_arguments)]
    fn spec(
        n: usize,
        c_in: usize,
        hw: (usize, usize),
        c_out: usize,
        groups: usize,
        k: (usize, usize),
        s: (usize, usize),
        p: (usize, usize),
        d: (usize, usize),
    ) -> Spec {
        let oh = (hw.0 + 2 * p.0 - d.0 * (k.0 - 1) - 1) / s.0 + 1;
        let ow = (hw.1 + 2 * p.1 - d.1 * (k.1 - 1) - 1) / s.1 + 1;
        Spec {
            n,
            c_in,
            h: hw.0,
            w: hw.1,
            c_out,
            groups,
            kh: k.0,
            kw: k.1,
            sh: s.0,
            sw: s.1,
            ph: p.0,
            pw: p.1,
            dh: d.0,
            dw: d.1,
            oh,
            ow,
        }
    }

    #[test]
    fn forward_matches_the_definition_and_backward_is_its_adjoint() {
        let mut rng = Rng::new(11);
        let cases = [
            spec(2, 3, (5, 7), 4, 1, (3, 3), (1, 1), (1, 1), (1, 1)),
            spec(3, 4, (6, 5), 6, 2, (2, 3), (2, 1), (0, 2), (1, 2)),
            spec(1, 2, (1, 9), 2, 2, (1, 4), (1, 3), (0, 1), (1, 1)),
            spec(2, 3, (4, 4), 5, 1, (1, 1), (1, 1), (0, 0), (1, 1)),
            spec(1, 1, (7, 7), 1, 1, (3, 3), (3, 2), (2, 0), (2, 2)),
        ];
        for sp in cases {
            let g = sp.geom();
            let x: Vec<f64> = (0..g.n * g.in_sample()).map(|_| rng.normal()).collect();
            let w: Vec<f64> = (0..g.c_out * g.k()).map(|_| rng.normal()).collect();
            let b: Vec<f64> = (0..g.c_out).map(|_| rng.normal()).collect();
            let mut y = vec![0.0; g.n * g.out_sample()];
            forward(&g, &x, &w, Some(&b), &mut y).unwrap();
            let want = naive(&sp, &x, &w, &b);
            for (a, e) in y.iter().zip(&want) {
                assert!((a - e).abs() < 1e-10, "{sp:?}: {a} vs {e}");
            }
            // ⟨dy, conv(x)⟩ is linear in x and in w: the adjoint identities check backward.
            let dy: Vec<f64> = (0..y.len()).map(|_| rng.normal()).collect();
            let grads = backward(&g, &x, &w, &dy, true, true, true).unwrap();
            let zero_b = vec![0.0; g.c_out];
            let y0 = naive(&sp, &x, &w, &zero_b);
            let lhs: f64 = y0.iter().zip(&dy).map(|(a, b)| a * b).sum();
            let dx = grads.dx.unwrap();
            let dw = grads.dw.unwrap();
            let via_x: f64 = dx.iter().zip(&x).map(|(a, b)| a * b).sum();
            let via_w: f64 = dw.iter().zip(&w).map(|(a, b)| a * b).sum();
            assert!((lhs - via_x).abs() < 1e-8 * (1.0 + lhs.abs()), "{sp:?}");
            assert!((lhs - via_w).abs() < 1e-8 * (1.0 + lhs.abs()), "{sp:?}");
            let db = grads.db.unwrap();
            let l = sp.oh * sp.ow;
            for (o, &got) in db.iter().enumerate() {
                let want: f64 = (0..sp.n)
                    .flat_map(|s| &dy[(s * sp.c_out + o) * l..(s * sp.c_out + o + 1) * l])
                    .sum();
                assert!((got - want).abs() < 1e-9, "{sp:?}: db[{o}] {got} vs {want}");
            }
        }
    }
}

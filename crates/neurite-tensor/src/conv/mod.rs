//! Convolution helpers: im2col / col2im in 1-D and 2-D with stride, padding and dilation.
//!
//! **Column layout.** For an input batch `[N, C, H, W]` and a window of `kh × kw` taps giving an
//! output of `OH × OW` positions, [`im2col_2d`] produces `cols` of shape
//! `[N, C·kh·kw, OH·OW]`: row `(c·kh + i)·kw + j` holds, for every output position
//! `oh·OW + ow` in row-major order, the input value under tap `(i, j)` of channel `c`
//! (zero where the tap falls in the padding). With a weight `[OC, C, kh, kw]` viewed as
//! `[OC, C·kh·kw]`, one image's convolution is one GEMM, and its result is already the image's
//! output in `[OC, OH, OW]` order:
//!
//! ```text
//! out[n] = weight · cols[n]          // [OC, C·kh·kw] · [C·kh·kw, OH·OW] = [OC, OH·OW]
//! ```
//!
//! (`weight.matmul(&cols)` broadcasts the weight over the batch and does all `N` at once.)
//! The 1-D layout is the same with `kh = 1`: `[N, C, L]` → `[N, C·k, OL]`.
//!
//! [`col2im_2d`] is the exact adjoint of [`im2col_2d`] (the transpose of the same linear map):
//! it scatter-adds every column entry back onto the input position it was read from, so
//! `⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩`. It is the backward kernel of im2col: the upstream gradient
//! of the columns becomes the downstream gradient of the input.
//!
//! The `_into` variants write into a caller-provided buffer, so a layer can reuse one buffer per
//! step. Work is split over `(image, channel)` planes with rayon above a size threshold; every
//! plane is computed by one thread in a fixed order, so results are identical for any thread
//! count.

use rayon::prelude::*;

use crate::error::{Result, TensorError};
use crate::float::Float;
use crate::parallel::PAR_THRESHOLD;
use crate::simd;
use crate::tensor::Tensor;

mod window;
pub use window::{Window, Window1d, Window2d};

/// The indices `t` in `0..count` with `0 ≤ t·step + offset − pad < len`: a contiguous range.
#[inline]
pub(crate) fn valid_range(
    count: usize,
    step: usize,
    offset: usize,
    pad: usize,
    len: usize,
) -> (usize, usize) {
    let lo = if offset >= pad {
        0
    } else {
        (pad - offset).div_ceil(step)
    };
    let hi = if len + pad <= offset {
        0
    } else {
        (len + pad - offset).div_ceil(step)
    };
    let hi = hi.min(count);
    (lo.min(hi), hi)
}

/// A checked window over one `[h, w]` plane (1-D inputs are lifted to `h = 1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plane {
    pub h: usize,
    pub w: usize,
    pub oh: usize,
    pub ow: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub ph: usize,
    pub pw: usize,
    pub dh: usize,
    pub dw: usize,
}

impl Plane {
    pub(crate) fn new(hw: [usize; 2], out: [usize; 2], win: &Window2d) -> Self {
        Plane {
            h: hw[0],
            w: hw[1],
            oh: out[0],
            ow: out[1],
            kh: win.kernel[0],
            kw: win.kernel[1],
            sh: win.stride[0],
            sw: win.stride[1],
            ph: win.pad_before[0],
            pw: win.pad_before[1],
            dh: win.dilation[0],
            dw: win.dilation[1],
        }
    }
    pub(crate) fn in_len(&self) -> usize {
        self.h * self.w
    }
    pub(crate) fn out_len(&self) -> usize {
        self.oh * self.ow
    }
    pub(crate) fn col_len(&self) -> usize {
        self.kh * self.kw * self.oh * self.ow
    }
}

/// The same window with a leading axis of size 1: 1-D kernels run on the 2-D code.
pub(crate) fn lift(win: &Window1d) -> Window2d {
    Window {
        kernel: [1, win.kernel[0]],
        stride: [1, win.stride[0]],
        pad_before: [0, win.pad_before[0]],
        pad_after: [0, win.pad_after[0]],
        dilation: [1, win.dilation[0]],
        ceil_mode: win.ceil_mode,
    }
}

/// Product of dimensions, or a typed error when it overflows or when a buffer of that many
/// `f64` could never be held by this process ([`crate::alloc::check_bytes`]).
pub(crate) fn checked_len(op: &'static str, dims: &[usize]) -> Result<usize> {
    let n = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| TensorError::invalid(op, format!("shape {dims:?} has too many elements")))?;
    crate::alloc::check_bytes::<f64>(&format!("{op}: a buffer of shape {dims:?}"), n)?;
    Ok(n)
}

/// Runs `f(src_plane, dst_plane)` for every plane, in parallel above the size threshold.
/// Planes are independent and each is done by one thread, so the result does not depend on
/// the thread count. `work` is the element count touched per plane.
pub(crate) fn for_each_plane<S: Sync, D: Send>(
    src: &[S],
    src_len: usize,
    dst: &mut [D],
    dst_len: usize,
    work: usize,
    f: impl Fn(&[S], &mut [D]) + Sync,
) {
    if dst_len == 0 {
        return;
    }
    let planes = dst.len() / dst_len;
    // Each plane runs at the caller's SIMD level, on whichever thread (see `simd`).
    let level = simd::level();
    let one = |p: usize, d: &mut [D]| {
        let _simd = simd::force_level(level);
        simd::run(level, || f(&src[p * src_len..(p + 1) * src_len], d))
    };
    if planes < 2 || planes.saturating_mul(work) < PAR_THRESHOLD || rayon::current_num_threads() < 2
    {
        dst.chunks_mut(dst_len)
            .enumerate()
            .for_each(|(p, d)| one(p, d));
    } else {
        // Group planes so that every task has a few thousand elements of work.
        let per_task = (1usize << 13).div_ceil(work.max(1)).clamp(1, planes);
        dst.par_chunks_mut(dst_len * per_task)
            .enumerate()
            .for_each(|(t, block)| {
                for (i, d) in block.chunks_mut(dst_len).enumerate() {
                    one(t * per_task + i, d);
                }
            });
    }
}

/// im2col of one plane: `plane` `[h, w]` → `cols` `[kh·kw, oh·ow]` (every entry written),
/// compiled for the current SIMD level.
fn im2col_plane<T: Float>(g: &Plane, plane: &[T], cols: &mut [T]) {
    simd::run(simd::level(), Im2colPlane { g, plane, cols });
}

/// The operands of [`im2col_plane`] (a [`simd::Kernel`]: its loop always compiles for the
/// level).
struct Im2colPlane<'a, T> {
    g: &'a Plane,
    plane: &'a [T],
    cols: &'a mut [T],
}

impl<T: Float> simd::Kernel for Im2colPlane<'_, T> {
    type Output = ();
    #[inline(always)]
    fn call(self) {
        let Im2colPlane { g, plane, cols } = self;
        im2col_plane_body(g, plane, cols);
    }
}

#[inline(always)]
fn im2col_plane_body<T: Float>(g: &Plane, plane: &[T], cols: &mut [T]) {
    let ohw = g.out_len();
    for ki in 0..g.kh {
        let (y_lo, y_hi) = valid_range(g.oh, g.sh, ki * g.dh, g.ph, g.h);
        for kj in 0..g.kw {
            let (x_lo, x_hi) = valid_range(g.ow, g.sw, kj * g.dw, g.pw, g.w);
            let row = &mut cols[(ki * g.kw + kj) * ohw..][..ohw];
            if g.sh == 1 && g.sw == 1 && g.ow == g.w && y_lo < y_hi && x_lo < x_hi {
                // Stride 1 and rows as wide as the input's ("same" padding): the tap's rows
                // are the plane shifted by a constant, so one copy moves them all (image rows
                // are short: a copy per row costs more than the row). Then the taps that fell
                // in the padding: before, after, and where a row wrapped into the next.
                let (start, end) = (y_lo * g.ow + x_lo, (y_hi - 1) * g.ow + x_hi);
                let from = (y_lo + ki * g.dh - g.ph) * g.w + x_lo + kj * g.dw - g.pw;
                row[start..end].copy_from_slice(&plane[from..from + (end - start)]);
                row[..start].fill(T::ZERO);
                row[end..].fill(T::ZERO);
                for y in y_lo..y_hi - 1 {
                    for v in &mut row[y * g.ow + x_hi..(y + 1) * g.ow + x_lo] {
                        *v = T::ZERO;
                    }
                }
                continue;
            }
            row[..y_lo * g.ow].fill(T::ZERO);
            row[y_hi * g.ow..].fill(T::ZERO);
            for y in y_lo..y_hi {
                let ih = y * g.sh + ki * g.dh - g.ph;
                let src = &plane[ih * g.w..(ih + 1) * g.w];
                let dst = &mut row[y * g.ow..(y + 1) * g.ow];
                dst[..x_lo].fill(T::ZERO);
                dst[x_hi..].fill(T::ZERO);
                if x_lo == x_hi {
                    continue; // every tap of this row falls in the padding
                }
                let iw0 = x_lo * g.sw + kj * g.dw - g.pw;
                let n = x_hi - x_lo;
                if g.sw == 1 {
                    dst[x_lo..x_hi].copy_from_slice(&src[iw0..iw0 + n]);
                } else {
                    for (d, &s) in dst[x_lo..x_hi]
                        .iter_mut()
                        .zip(src[iw0..].iter().step_by(g.sw))
                    {
                        *d = s;
                    }
                }
            }
        }
    }
}

/// col2im of one plane: adds `cols` `[kh·kw, oh·ow]` onto `plane` `[h, w]` (the adjoint of
/// [`im2col_plane`]), compiled for the current SIMD level (at most AVX2 for short rows).
fn col2im_plane<T: Float>(g: &Plane, cols: &[T], plane: &mut [T]) {
    // Flat sums at full width when the rows are one shift of the plane; otherwise row by row,
    // and image rows are short (see `Level::for_short_rows`).
    let level = if g.sh == 1 && g.sw == 1 && g.ow == g.w {
        simd::level()
    } else {
        simd::level().for_short_rows()
    };
    simd::run(level, Col2imPlane { g, cols, plane });
}

/// The operands of [`col2im_plane`] (a [`simd::Kernel`]).
struct Col2imPlane<'a, T> {
    g: &'a Plane,
    cols: &'a [T],
    plane: &'a mut [T],
}

impl<T: Float> simd::Kernel for Col2imPlane<'_, T> {
    type Output = ();
    #[inline(always)]
    fn call(self) {
        let Col2imPlane { g, cols, plane } = self;
        col2im_plane_body(g, cols, plane);
    }
}

/// Pixels [`col2im_plane_body`]'s one-shift sum saves and restores per tap at most (27 for a
/// 28-pixel-wide 3×3 convolution); more, and it goes row by row.
const WRAPPED_SAVED: usize = 64;

#[inline(always)]
fn col2im_plane_body<T: Float>(g: &Plane, cols: &[T], plane: &mut [T]) {
    let ohw = g.out_len();
    for ki in 0..g.kh {
        let (y_lo, y_hi) = valid_range(g.oh, g.sh, ki * g.dh, g.ph, g.h);
        for kj in 0..g.kw {
            let (x_lo, x_hi) = valid_range(g.ow, g.sw, kj * g.dw, g.pw, g.w);
            if x_lo == x_hi {
                continue; // this tap only ever reads padding
            }
            let row = &cols[(ki * g.kw + kj) * ohw..][..ohw];
            if g.sh == 1 && g.sw == 1 && g.ow == g.w && y_lo < y_hi {
                // As in `im2col_plane_body`: one shift of the plane for all rows. Where a row
                // wraps into the next, the flat sum adds a padding tap's value to a pixel that
                // tap never read: those few pixels are saved first and put back after (exact:
                // the shift is one-to-one, so nothing else of this tap lands on them).
                let (start, end) = (y_lo * g.ow + x_lo, (y_hi - 1) * g.ow + x_hi);
                let from = (y_lo + ki * g.dh - g.ph) * g.w + x_lo + kj * g.dw - g.pw;
                let wrapped = (y_lo..y_hi - 1)
                    .flat_map(|y| y * g.ow + x_hi..(y + 1) * g.ow + x_lo)
                    .map(|p| from + (p - start));
                if (y_hi - 1 - y_lo) * (g.ow - x_hi + x_lo) <= WRAPPED_SAVED {
                    let mut saved = [T::ZERO; WRAPPED_SAVED];
                    for (s, i) in saved.iter_mut().zip(wrapped.clone()) {
                        *s = plane[i];
                    }
                    let dst = &mut plane[from..from + (end - start)];
                    for (d, &s) in dst.iter_mut().zip(&row[start..end]) {
                        *d += s;
                    }
                    for (&s, i) in saved.iter().zip(wrapped) {
                        plane[i] = s;
                    }
                    continue;
                }
            }
            for y in y_lo..y_hi {
                let ih = y * g.sh + ki * g.dh - g.ph;
                let dst = &mut plane[ih * g.w..(ih + 1) * g.w];
                let src = &row[y * g.ow + x_lo..y * g.ow + x_hi];
                let iw0 = x_lo * g.sw + kj * g.dw - g.pw;
                if g.sw == 1 {
                    for (d, &s) in dst[iw0..iw0 + src.len()].iter_mut().zip(src) {
                        *d += s;
                    }
                } else {
                    for (d, &s) in dst[iw0..].iter_mut().step_by(g.sw).zip(src) {
                        *d += s;
                    }
                }
            }
        }
    }
}

/// A checked im2col geometry for ONE sample: `[C, H, W]` ↔ columns `[C·kh·kw, OH·OW]` (the
/// [column layout](self) with `N = 1`; 1-D inputs `[C, L]` have `H = kh = 1`).
///
/// Its kernels run serially on the calling thread, for callers that split a batch over
/// threads themselves and keep one column buffer per thread (neurite-cnn's convolution layers
/// do). The batched functions ([`im2col_2d_into`] and friends) run on the same per-plane code.
///
/// ```
/// use neurite_tensor::conv::{Im2col, Window2d};
/// let plan = Im2col::new_2d([1, 3, 3], &Window2d::new([2, 2]))?;   // one 3×3 channel
/// assert_eq!((plan.rows(), plan.positions()), (4, 4));
/// let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
/// let mut cols = vec![0.0; plan.cols_len()];
/// plan.im2col(&x, &mut cols)?;
/// assert_eq!(&cols[..4], &[1.0, 2.0, 4.0, 5.0]);                 // tap (0, 0) at each position
/// let mut dx = vec![0.0; plan.sample_len()];
/// plan.col2im_add(&vec![1.0; plan.cols_len()], &mut dx)?;        // how often each pixel is read
/// assert_eq!(dx, vec![1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0]);
/// # Ok::<(), neurite_tensor::TensorError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Im2col {
    plane: Plane,
    channels: usize,
}

impl Im2col {
    /// The plan for a sample `[C, H, W]` under a 2-D window; a window that does not fit the
    /// padded input, or a size that overflows, is a typed error.
    pub fn new_2d(sample: [usize; 3], window: &Window2d) -> Result<Self> {
        let [c, h, w] = sample;
        let (plane, _) = plan_2d("Im2col::new_2d", [1, c, h, w], window)?;
        Ok(Im2col { plane, channels: c })
    }

    /// The plan for a sample `[C, L]` under a 1-D window.
    pub fn new_1d(sample: [usize; 2], window: &Window1d) -> Result<Self> {
        let [c, l] = sample;
        let (plane, _) = plan_1d("Im2col::new_1d", [1, c, l], window)?;
        Ok(Im2col { plane, channels: c })
    }

    /// Elements of one sample: C·H·W.
    pub fn sample_len(&self) -> usize {
        self.channels * self.plane.in_len()
    }

    /// Rows of the column matrix: C·kh·kw.
    pub fn rows(&self) -> usize {
        self.channels * self.plane.kh * self.plane.kw
    }

    /// Columns of the column matrix (output positions): OH·OW.
    pub fn positions(&self) -> usize {
        self.plane.out_len()
    }

    /// Elements of the column matrix: C·kh·kw·OH·OW.
    pub fn cols_len(&self) -> usize {
        self.channels * self.plane.col_len()
    }

    /// The output size `[OH, OW]` (`OH = 1` in 1-D).
    pub fn output_size(&self) -> [usize; 2] {
        [self.plane.oh, self.plane.ow]
    }

    /// True when the column matrix IS the sample (a 1×1 kernel, stride 1, no padding): callers
    /// can skip the copy.
    pub fn is_identity(&self) -> bool {
        let g = &self.plane;
        g.kh == 1 && g.kw == 1 && g.oh == g.h && g.ow == g.w && g.ph == 0 && g.pw == 0
    }

    fn check(&self, op: &'static str, sample: usize, cols: usize) -> Result<()> {
        check_buffer(op, sample, &[self.channels, self.plane.h, self.plane.w])?;
        check_buffer(op, cols, &[self.rows(), self.positions()])
    }

    /// Writes the columns of `sample` `[C, H, W]` into `cols` `[C·kh·kw, OH·OW]` (every entry;
    /// padding reads as zero). Buffers of the wrong length are a typed error.
    pub fn im2col<T: Float>(&self, sample: &[T], cols: &mut [T]) -> Result<()> {
        self.check("Im2col::im2col", sample.len(), cols.len())?;
        let (inp, col) = (self.plane.in_len(), self.plane.col_len());
        // By channel index, not chunks: a plane may be empty (H or W = 0 with padding), and
        // chunks of size 0 panic.
        for ch in 0..self.channels {
            let x = &sample[ch * inp..(ch + 1) * inp];
            im2col_plane(&self.plane, x, &mut cols[ch * col..(ch + 1) * col]);
        }
        Ok(())
    }

    /// Adds the columns `cols` `[C·kh·kw, OH·OW]` onto `sample` `[C, H, W]` at the positions
    /// they were read from (the adjoint of [`Im2col::im2col`]; entries in the padding are
    /// dropped). `sample` is accumulated into, not overwritten.
    pub fn col2im_add<T: Float>(&self, cols: &[T], sample: &mut [T]) -> Result<()> {
        self.check("Im2col::col2im_add", sample.len(), cols.len())?;
        let (inp, col) = (self.plane.in_len(), self.plane.col_len());
        for ch in 0..self.channels {
            let x = &mut sample[ch * inp..(ch + 1) * inp];
            col2im_plane(&self.plane, &cols[ch * col..(ch + 1) * col], x);
        }
        Ok(())
    }
}

fn check_buffer(op: &'static str, len: usize, shape: &[usize]) -> Result<()> {
    if checked_len(op, shape).ok() != Some(len) {
        return Err(TensorError::BadLength {
            op,
            len,
            shape: shape.to_vec(),
        });
    }
    Ok(())
}

/// The shape as an array of `R` dimensions, or a `BadRank` error saying what was expected.
pub(crate) fn rank<const R: usize>(
    op: &'static str,
    expected: &'static str,
    t: &[usize],
) -> Result<[usize; R]> {
    t.try_into().map_err(|_| TensorError::BadRank {
        op,
        expected,
        got: t.to_vec(),
    })
}

/// Ceil mode is a pooling option: convolution windows (im2col) always round down.
fn refuse_ceil_mode(op: &'static str, ceil_mode: bool) -> Result<()> {
    if ceil_mode {
        return Err(TensorError::invalid(
            op,
            "ceil mode is a pooling option; im2col windows round down (PyTorch's convolutions \
             have no ceil mode)",
        ));
    }
    Ok(())
}

/// Checks a 4-D input shape against a 2-D window: the plane geometry and the column shape
/// `[N, C·kh·kw, OH·OW]`.
fn plan_2d(op: &'static str, shape: [usize; 4], win: &Window2d) -> Result<(Plane, [usize; 3])> {
    refuse_ceil_mode(op, win.ceil_mode)?;
    let [n, c, h, w] = shape;
    let out = win.output_size_for(op, &shape)?;
    // The input's own size: a plan (e.g. `Im2col::new_2d`) may be made from dimensions alone.
    checked_len(op, &shape)?;
    let g = Plane::new([h, w], out, win);
    let rows = checked_len(op, &[c, g.kh, g.kw])?;
    checked_len(op, &[n, rows, g.out_len()])?;
    Ok((g, [n, rows, g.out_len()]))
}

/// Checks a 3-D input shape against a 1-D window, lifted to the 2-D geometry.
fn plan_1d(op: &'static str, shape: [usize; 3], win: &Window1d) -> Result<(Plane, [usize; 3])> {
    refuse_ceil_mode(op, win.ceil_mode)?;
    let [n, c, l] = shape;
    let out = win.output_size_for(op, &shape)?;
    checked_len(op, &shape)?;
    let g = Plane::new([1, l], [1, out[0]], &lift(win));
    let rows = checked_len(op, &[c, g.kw])?;
    checked_len(op, &[n, rows, g.out_len()])?;
    Ok((g, [n, rows, g.out_len()]))
}

fn im2col_run<T: Float>(g: &Plane, input: &[T], cols: &mut [T]) {
    for_each_plane(input, g.in_len(), cols, g.col_len(), g.col_len(), |x, c| {
        im2col_plane(g, x, c)
    });
}

fn col2im_run<T: Float>(g: &Plane, cols: &[T], image: &mut [T]) {
    image.fill(T::ZERO);
    for_each_plane(cols, g.col_len(), image, g.in_len(), g.col_len(), |c, x| {
        col2im_plane(g, c, x)
    });
}

/// im2col in 2-D: `input` `[N, C, H, W]` → columns `[N, C·kh·kw, OH·OW]` (layout in the
/// [module docs](self)); padding reads as zero.
///
/// ```
/// use neurite_tensor::{conv::{im2col_2d, Window2d}, Tensor};
/// let x = Tensor::<f32>::arange(16).reshape(&[1, 1, 4, 4])?;    // [N, C, H, W]
/// let w = Tensor::<f32>::ones(&[2, 1 * 2 * 2]);                  // [OC, C·kh·kw]
/// let win = Window2d::new([2, 2]).with_stride([2, 2]);
/// let cols = im2col_2d(&x, &win)?;                               // [1, 4, 2·2]
/// assert_eq!(cols.shape(), &[1, 4, 4]);
/// let y = w.matmul(&cols)?.reshape(&[1, 2, 2, 2])?;              // conv = one GEMM
/// assert_eq!(&y.to_vec()[..4], &[10.0, 18.0, 42.0, 50.0]);      // 2×2 block sums
/// # Ok::<(), neurite_tensor::TensorError>(())
/// ```
pub fn im2col_2d<T: Float>(input: &Tensor<T>, window: &Window2d) -> Result<Tensor<T>> {
    let op = "im2col_2d";
    let shape = rank(
        op,
        "a 4-D input [batch, channels, height, width]",
        input.shape(),
    )?;
    let (g, cols_shape) = plan_2d(op, shape, window)?;
    let x = input.contiguous();
    let src = x.as_slice().expect("contiguous"); // ok: made contiguous above
    let mut cols = vec![T::ZERO; cols_shape.iter().product()];
    im2col_run(&g, src, &mut cols);
    Tensor::from_vec(cols, &cols_shape)
}

/// im2col in 2-D into a caller-provided buffer: `input` is a row-major `[N, C, H, W]` batch of
/// shape `input_shape`, `cols` receives `[N, C·kh·kw, OH·OW]` (every entry is overwritten).
pub fn im2col_2d_into<T: Float>(
    input: &[T],
    input_shape: [usize; 4],
    window: &Window2d,
    cols: &mut [T],
) -> Result<()> {
    let op = "im2col_2d_into";
    let (g, cols_shape) = plan_2d(op, input_shape, window)?;
    check_buffer(op, input.len(), &input_shape)?;
    check_buffer(op, cols.len(), &cols_shape)?;
    im2col_run(&g, input, cols);
    Ok(())
}

/// col2im in 2-D: columns `[N, C·kh·kw, OH·OW]` → image `[N, C, H, W]` of `input_shape`,
/// scatter-adding every entry onto the position it was read from. The exact adjoint of
/// [`im2col_2d`]: turns the upstream gradient of the columns into the downstream gradient of
/// the input. Entries that fall in the padding are dropped.
///
/// ```
/// use neurite_tensor::{conv::{col2im_2d, im2col_2d, Window2d}, Tensor};
/// let win = Window2d::new([2, 2]);                               // overlapping 2×2 taps
/// let cols = Tensor::<f64>::ones(&[1, 4, 4]);                    // [N, C·kh·kw, OH·OW]
/// let x = col2im_2d(&cols, [1, 1, 3, 3], &win)?;                 // how often each pixel is read
/// assert_eq!(x.to_vec(), vec![1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0]);
/// assert_eq!(im2col_2d(&x, &win)?.shape(), cols.shape());
/// # Ok::<(), neurite_tensor::TensorError>(())
/// ```
pub fn col2im_2d<T: Float>(
    cols: &Tensor<T>,
    input_shape: [usize; 4],
    window: &Window2d,
) -> Result<Tensor<T>> {
    let op = "col2im_2d";
    let (g, cols_shape) = plan_2d(op, input_shape, window)?;
    if cols.shape() != cols_shape {
        return Err(TensorError::shape_detail(
            op,
            cols.shape(),
            &cols_shape,
            format!("columns of an input {input_shape:?} must be [N, C·kh·kw, OH·OW]"),
        ));
    }
    let c = cols.contiguous();
    let src = c.as_slice().expect("contiguous"); // ok: made contiguous above
    let mut image = vec![T::ZERO; input_shape.iter().product()];
    col2im_run(&g, src, &mut image);
    Tensor::from_vec(image, &input_shape)
}

/// col2im in 2-D into a caller-provided buffer: `cols` `[N, C·kh·kw, OH·OW]` → `image`
/// `[N, C, H, W]` of `input_shape`. `image` is overwritten (zeroed, then scatter-added into).
pub fn col2im_2d_into<T: Float>(
    cols: &[T],
    input_shape: [usize; 4],
    window: &Window2d,
    image: &mut [T],
) -> Result<()> {
    let op = "col2im_2d_into";
    let (g, cols_shape) = plan_2d(op, input_shape, window)?;
    check_buffer(op, cols.len(), &cols_shape)?;
    check_buffer(op, image.len(), &input_shape)?;
    col2im_run(&g, cols, image);
    Ok(())
}

/// im2col in 1-D: `input` `[N, C, L]` → columns `[N, C·k, OL]`; row `c·k + j` holds tap `j` of
/// channel `c` for every output position.
///
/// ```
/// use neurite_tensor::{conv::{im2col_1d, Window1d}, Tensor};
/// let x = Tensor::<f32>::from_vec(vec![1.0, 2.0, 3.0], &[1, 1, 3])?;
/// let cols = im2col_1d(&x, &Window1d::new([2]).with_padding([1]))?;  // [1, 2, 4]
/// assert_eq!(cols.to_vec(), vec![0.0, 1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 0.0]);
/// # Ok::<(), neurite_tensor::TensorError>(())
/// ```
pub fn im2col_1d<T: Float>(input: &Tensor<T>, window: &Window1d) -> Result<Tensor<T>> {
    let op = "im2col_1d";
    let shape = rank(op, "a 3-D input [batch, channels, length]", input.shape())?;
    let (g, cols_shape) = plan_1d(op, shape, window)?;
    let x = input.contiguous();
    let src = x.as_slice().expect("contiguous"); // ok: made contiguous above
    let mut cols = vec![T::ZERO; cols_shape.iter().product()];
    im2col_run(&g, src, &mut cols);
    Tensor::from_vec(cols, &cols_shape)
}

/// im2col in 1-D into a caller-provided buffer: `input` `[N, C, L]` → `cols` `[N, C·k, OL]`
/// (every entry is overwritten).
pub fn im2col_1d_into<T: Float>(
    input: &[T],
    input_shape: [usize; 3],
    window: &Window1d,
    cols: &mut [T],
) -> Result<()> {
    let op = "im2col_1d_into";
    let (g, cols_shape) = plan_1d(op, input_shape, window)?;
    check_buffer(op, input.len(), &input_shape)?;
    check_buffer(op, cols.len(), &cols_shape)?;
    im2col_run(&g, input, cols);
    Ok(())
}

/// col2im in 1-D: columns `[N, C·k, OL]` → `[N, C, L]` of `input_shape` by scatter-add; the
/// exact adjoint of [`im2col_1d`].
pub fn col2im_1d<T: Float>(
    cols: &Tensor<T>,
    input_shape: [usize; 3],
    window: &Window1d,
) -> Result<Tensor<T>> {
    let op = "col2im_1d";
    let (g, cols_shape) = plan_1d(op, input_shape, window)?;
    if cols.shape() != cols_shape {
        return Err(TensorError::shape_detail(
            op,
            cols.shape(),
            &cols_shape,
            format!("columns of an input {input_shape:?} must be [N, C·k, OL]"),
        ));
    }
    let c = cols.contiguous();
    let src = c.as_slice().expect("contiguous"); // ok: made contiguous above
    let mut image = vec![T::ZERO; input_shape.iter().product()];
    col2im_run(&g, src, &mut image);
    Tensor::from_vec(image, &input_shape)
}

/// col2im in 1-D into a caller-provided buffer: `cols` `[N, C·k, OL]` → `image` `[N, C, L]`
/// (overwritten: zeroed, then scatter-added into).
pub fn col2im_1d_into<T: Float>(
    cols: &[T],
    input_shape: [usize; 3],
    window: &Window1d,
    image: &mut [T],
) -> Result<()> {
    let op = "col2im_1d_into";
    let (g, cols_shape) = plan_1d(op, input_shape, window)?;
    check_buffer(op, cols.len(), &cols_shape)?;
    check_buffer(op, image.len(), &input_shape)?;
    col2im_run(&g, cols, image);
    Ok(())
}

#[cfg(test)]
mod tests;

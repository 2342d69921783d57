//! The recurrence over a whole sequence as ONE recorded op per layer and direction, with a
//! hand-written back-propagation through time.
//!
//! Inputs: the layer input `x` [T·B, F] (rows time-major, t·B + b, or batch-major, b·T + t,
//! when the layer's input is batch-first: no transposed copy of it is made), `weight_ih`
//! [G·H, F], `weight_hh` [G·H, H], `bias_ih`, `bias_hh` [G·H], `h0` [B, H] and, for the LSTM,
//! `c0` [B, H]. Output: [T + 1, B, H] (RNN, GRU) or [T + 2, B, H] (LSTM): the outputs of every
//! step, then the final hidden state, then the final cell state.
//!
//! Forward: the input projection of all time steps is one GEMM x·W_ihᵀ onto the biases, into
//! a scratch buffer (∂J/∂b is a column sum of the gate gradients, so the graph needs no
//! broadcast add over [T·B, G·H]); on several threads, one GEMM per block of batch rows, or
//! one per step and block when the rows are time-major and so not contiguous per block. Then each step is one GEMM for all gates (h_prev·W_hhᵀ,
//! started from that projection) and one fused gate kernel per batch row
//! ([`crate::kernels`]). Backward walks the steps in reverse with one GEMM per step for the
//! hidden-state gradient, then gets ∂J/∂W_hh, ∂J/∂W_ih and ∂J/∂x for all steps at once with
//! one large GEMM each.
//!
//! Threads: a batch row's recurrence never reads another row, so on a rayon pool of several
//! threads the batch is cut into one block of rows per thread and each thread runs the whole
//! sequence (its input projection, the forward steps, back-propagation through time) for its
//! rows, with no meeting between steps; the weight-gradient GEMMs after it are split over the
//! threads as well. Every
//! value is computed by the same instructions in the same order whatever the split, so the
//! results keep their bits on any number of threads (tested).
//! Sequences of a batch may have different lengths: at a padded step (t ≥ length) the state is
//! carried unchanged, the output is zero, and no gradient reaches that step's input. A reverse
//! direction reads each sequence backwards from its own last step, as PyTorch's packed
//! sequences do.

use std::borrow::Cow;

use neurite_autograd::{AutogradError, Backward, BackwardContext};
use neurite_tensor::{scratch, Float, Tensor};

use crate::kernels::{
    gru_backward_row, gru_forward_row, lstm_backward_row, lstm_forward_row, rnn_backward_row,
    rnn_forward_row, Nonlinearity,
};
use neurite_tensor::matmul::{gemm_packed, gemm_slices, PackedB, Par, Start};
use neurite_tensor::simd;

/// The recurrent cell type of a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    /// Elman RNN with its non-linearity.
    Rnn(Nonlinearity),
    /// Gated recurrent unit (gates r, z, n).
    Gru,
    /// Long short-term memory (gates i, f, g, o).
    Lstm,
}

impl CellKind {
    /// Number of gate blocks G in the weights [G·H, ·].
    pub fn gates(self) -> usize {
        match self {
            CellKind::Rnn(_) => 1,
            CellKind::Gru => 3,
            CellKind::Lstm => 4,
        }
    }
    /// Name used in descriptions ("Rnn", "Gru", "Lstm").
    pub fn name(self) -> &'static str {
        match self {
            CellKind::Rnn(_) => "Rnn",
            CellKind::Gru => "Gru",
            CellKind::Lstm => "Lstm",
        }
    }
    fn op_name(self) -> &'static str {
        match self {
            CellKind::Rnn(_) => "rnn_sequence",
            CellKind::Gru => "gru_sequence",
            CellKind::Lstm => "lstm_sequence",
        }
    }
    /// Extra rows after the outputs in the op's result: final h (and final c).
    pub(crate) fn extra_rows(self) -> usize {
        if self == CellKind::Lstm {
            2
        } else {
            1
        }
    }
}

/// The contiguous data of a tensor (borrowed when already contiguous).
pub(crate) fn data<T: Float>(t: &Tensor<T>) -> Cow<'_, [T]> {
    match t.as_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(t.to_vec()),
    }
}

/// C ← A·B + β·C on row-major slices; `ta`/`tb` say that A / B are stored transposed. On the
/// current rayon pool, through neurite-tensor's slice entry.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm<T: Float>(
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
    // ok: internal sizes, checked by the callers
    gemm_slices([m, k, n], a, ta, b, tb, beta, c, Par::Pool).expect("gemm: sizes");
}

/// Sizes and options of one recurrence.
#[derive(Debug, Clone)]
pub(crate) struct SeqSpec {
    pub kind: CellKind,
    pub steps: usize,
    pub batch: usize,
    pub hidden: usize,
    /// Per-sequence lengths (0..=steps); `None` means every sequence has `steps` steps.
    pub lengths: Option<Vec<usize>>,
    /// Process the sequence from its last step to its first.
    pub reverse: bool,
    /// The rows of `gx` (and of its gradient and the saved values) are ordered batch-major,
    /// row b·T + t, as a batch-first input gives them without a transpose; otherwise
    /// time-major, row t·B + b.
    pub batch_major: bool,
}

impl SeqSpec {
    #[inline]
    fn active(&self, t: usize, b: usize) -> bool {
        self.lengths.as_ref().is_none_or(|l| t < l[b])
    }
    /// The row of time step t and batch row b in `gx` and the saved values.
    #[inline]
    fn row(&self, t: usize, b: usize) -> usize {
        if self.batch_major {
            b * self.steps + t
        } else {
            t * self.batch + b
        }
    }
    /// Rows between batch rows b and b + 1 of one step.
    #[inline]
    fn batch_stride(&self) -> usize {
        if self.batch_major {
            self.steps
        } else {
            1
        }
    }
    #[inline]
    fn time(&self, s: usize) -> usize {
        if self.reverse {
            self.steps - 1 - s
        } else {
            s
        }
    }
}

/// Forward values kept for the backward pass, all indexed by time step.
pub(crate) struct Saved<T: Float> {
    /// Gate activations [T, B, G·H] (the RNN: its output h).
    act: Vec<T>,
    /// Hidden state before each step [T, B, H].
    hprev: Vec<T>,
    /// LSTM: cell state before each step [T, B, H].
    cprev: Vec<T>,
    /// LSTM: tanh(c) after each step [T, B, H].
    tc: Vec<T>,
    /// GRU: W_hh·h_prev + b_hh [T, B, 3H].
    gh: Vec<T>,
}

/// A buffer written by several row chunks of a batch at once: each chunk touches only the
/// rows of its own batch range, so the parts handed out never overlap.
struct Rows<T> {
    ptr: *mut T,
    len: usize,
}

// SAFETY: `Rows` only hands out disjoint parts of a buffer that outlives the parallel section
// (see `Rows::part`); the element type is plain data.
unsafe impl<T: Send> Send for Rows<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Rows<T> {}

impl<T> Rows<T> {
    fn new(v: &mut [T]) -> Self {
        Rows {
            ptr: v.as_mut_ptr(),
            len: v.len(),
        }
    }

    /// The elements `start..start + len`.
    ///
    /// # Safety
    /// No other live reference may overlap that range: every caller asks only for rows of
    /// its own batch chunk, and drops the part before asking for an overlapping one.
    #[allow(clippy::mut_from_ref)]
    unsafe fn part(&self, start: usize, len: usize) -> &mut [T] {
        assert!(start + len <= self.len, "Rows::part out of range"); // ok: internal sizes
        std::slice::from_raw_parts_mut(self.ptr.add(start), len)
    }
}

/// How many row chunks of the batch run in parallel: one per thread of the current rayon
/// pool, at least 4 rows each, and only when the recurrence is large enough to pay for the
/// threads. A batch row's recurrence never reads another row, so the chunks run the whole
/// sequence without meeting, and every value is the same as with one chunk.
fn row_chunks(spec: &SeqSpec) -> usize {
    let threads = rayon::current_num_threads();
    let work = spec.steps * spec.batch * spec.kind.gates() * spec.hidden * spec.hidden;
    if threads < 2 || work < 1 << 20 {
        return 1;
    }
    threads.min(spec.batch / 4).max(1)
}

/// The batch rows of chunk `c` out of `n`.
fn chunk_rows(batch: usize, c: usize, n: usize) -> (usize, usize) {
    (c * batch / n, (c + 1) * batch / n)
}

/// Runs `f` on every chunk `0..n`, in parallel when n > 1; results in chunk order.
fn for_chunks<R: Send>(n: usize, f: impl Fn(usize) -> R + Sync + Send) -> Vec<R> {
    use rayon::prelude::*;
    if n == 1 {
        vec![f(0)]
    } else {
        // The workers run the caller's SIMD level (see `neurite_tensor::simd`).
        let level = simd::level();
        (0..n)
            .into_par_iter()
            .map(|c| {
                let _simd = simd::force_level(level);
                f(c)
            })
            .collect()
    }
}

/// Runs the recurrence. `gx` [T·B, G·H], `w_hh` [G·H, H], `b_ih`, `b_hh` [G·H], `h0`, `c0`
/// [B, H]. Returns the op's output data ([T + extra, B, H]) and, when `save`, the values
/// backward needs.
#[allow(clippy::too_many_arguments)]
pub(crate) fn forward<T: Float>(
    spec: &SeqSpec,
    x: &[T],
    w_ih: &[T],
    w_hh: &[T],
    b_ih: &[T],
    b_hh: &[T],
    h0: &[T],
    c0: Option<&[T]>,
    save: bool,
) -> neurite_tensor::Result<(Vec<T>, Option<Saved<T>>)> {
    let (tn, bn, hn) = (spec.steps, spec.batch, spec.hidden);
    let g = spec.kind.gates() * hn;
    let slots = if save { tn } else { 1 };
    let is_lstm = spec.kind == CellKind::Lstm;
    let is_gru = spec.kind == CellKind::Gru;
    // Padded steps leave their output rows at zero, so only `out` needs clearing; the saved
    // buffers are written before they are read (backward reads only active rows).
    let mut out = vec![T::ZERO; (tn + spec.kind.extra_rows()) * bn * hn];
    let what = spec.kind.op_name();
    let mut act = scratch::take_any(what, slots * bn * g)?;
    let mut hprev = scratch::take_any(what, slots * bn * hn)?;
    let mut cprev = scratch::take_any(what, if is_lstm { slots * bn * hn } else { 0 })?;
    let mut tc = scratch::take_any(what, if is_lstm { slots * bn * hn } else { 0 })?;
    let mut gh = scratch::take_any(what, if is_gru { slots * bn * g } else { 0 })?;
    // W_ihᵀ [F, G·H] and W_hhᵀ [H, G·H], packed once for the per-step kernel.
    let feat = w_ih.len() / g.max(1);
    // Packed here, once per forward, and dropped with it.
    let w_it = PackedB::transposed(w_ih, g, feat).expect("W_ih holds G·H rows of F"); // ok: shapes checked by the op
    let w_t = PackedB::transposed(w_hh, g, hn).expect("W_hh holds G·H rows of H"); // ok: shapes checked by the op
                                                                                   // RNN and LSTM add both biases to the pre-activations; the GRU keeps b_hh inside r⊙(·).
    let bias: Vec<T> = if is_gru {
        b_hh.to_vec()
    } else {
        b_ih.iter().zip(b_hh).map(|(&a, &b)| a + b).collect()
    };
    // The input projection of all time steps [T·B, G·H], made by the row blocks themselves.
    let mut gx = scratch::take_any(what, tn * bn * g)?;
    let x_bias = if is_gru { b_ih } else { &bias[..] };
    let n = row_chunks(spec);
    let run = ForwardRun {
        spec,
        x,
        feat,
        w_it: &w_it,
        x_bias,
        gx: Rows::new(&mut gx),
        w_t: &w_t,
        bias: &bias,
        h0,
        c0,
        save,
        split: n == 1,
        out: Rows::new(&mut out),
        act: Rows::new(&mut act),
        hprev: Rows::new(&mut hprev),
        cprev: Rows::new(&mut cprev),
        tc: Rows::new(&mut tc),
        gh: Rows::new(&mut gh),
    };
    for_chunks(n, |c| {
        let (b0, b1) = chunk_rows(bn, c, n);
        // SAFETY: chunk c touches only the batch rows b0..b1 of every buffer.
        unsafe { run.rows(b0, b1) }
    });
    scratch::give(gx);
    let saved = Saved {
        act,
        hprev,
        cprev,
        tc,
        gh,
    };
    if save {
        Ok((out, Some(saved)))
    } else {
        drop(saved); // back to the scratch buffers
        Ok((out, None))
    }
}

/// The inputs and shared buffers of one forward recurrence.
struct ForwardRun<'a, T: Float> {
    spec: &'a SeqSpec,
    x: &'a [T],
    feat: usize,
    w_it: &'a PackedB<T>,
    x_bias: &'a [T],
    gx: Rows<T>,
    w_t: &'a PackedB<T>,
    bias: &'a [T],
    h0: &'a [T],
    c0: Option<&'a [T]>,
    save: bool,
    split: bool,
    out: Rows<T>,
    act: Rows<T>,
    hprev: Rows<T>,
    cprev: Rows<T>,
    tc: Rows<T>,
    gh: Rows<T>,
}

impl<T: Float> ForwardRun<'_, T> {
    /// The whole recurrence for the batch rows b0..b1.
    ///
    /// # Safety
    /// No other caller may run at the same time on overlapping rows.
    unsafe fn rows(&self, b0: usize, b1: usize) {
        let spec = self.spec;
        let (tn, bn, hn) = (spec.steps, spec.batch, spec.hidden);
        let g = spec.kind.gates() * hn;
        let nb = b1 - b0;
        if nb == 0 {
            return;
        }
        let is_lstm = spec.kind == CellKind::Lstm;
        let is_gru = spec.kind == CellKind::Gru;
        // The input projection of the block's rows for all time steps, onto the biases that
        // go with it (RNN, LSTM: both; GRU: b_ih): one GEMM [T·nb, F]·[F, G·H] when the rows
        // are contiguous (batch-major, or the whole batch), else one per step.
        let f = self.feat;
        let blocks = if spec.batch_major || nb == bn {
            vec![(spec.row(0, b0), nb * tn)]
        } else {
            (0..tn).map(|t| (spec.row(t, b0), nb)).collect()
        };
        for (r0, rows) in blocks {
            let gx = self.gx.part(r0 * g, rows * g);
            let xr = &self.x[r0 * f..(r0 + rows) * f];
            let start = Start::Bias(self.x_bias);
            // ok: buffers sized from the spec
            gemm_packed(rows, xr, f, self.w_it, gx, g, start, self.split).expect("sizes");
        }
        let mut h_run = self.h0[b0 * hn..b1 * hn].to_vec();
        let mut c_run = match (is_lstm, self.c0) {
            (false, _) => Vec::new(),
            (true, Some(c)) => c[b0 * hn..b1 * hn].to_vec(),
            (true, None) => vec![T::ZERO; nb * hn],
        };
        // Saved rows follow the layout of gx; without saving, one slot [B, ·] is reused.
        let ss = if self.save { spec.batch_stride() } else { 1 };
        let srow = |t: usize, b: usize| if self.save { spec.row(t, b) } else { b };
        for s in 0..tn {
            let t = spec.time(s);
            let (r0, span) = (srow(t, b0), (nb - 1) * ss + 1);
            let hp = self.hprev.part(r0 * hn, (span - 1) * hn + hn);
            for (b, hr) in h_run.chunks_exact(hn).enumerate() {
                hp[b * ss * hn..b * ss * hn + hn].copy_from_slice(hr);
            }
            // The one GEMM of the step, for all gates: [B, H]·[H, G·H] onto the input
            // projection (RNN, LSTM), or onto b_hh (the GRU keeps the two apart).
            let (acc, start) = if is_gru {
                (
                    self.gh.part(r0 * g, (span - 1) * g + g),
                    Start::Bias(self.bias),
                )
            } else {
                let ldx = spec.batch_stride() * g;
                let start = Start::Rows {
                    x: self.gx.part(spec.row(t, b0) * g, (nb - 1) * ldx + g),
                    ldx,
                };
                (self.act.part(r0 * g, (span - 1) * g + g), start)
            };
            gemm_packed(nb, hp, ss * hn, self.w_t, acc, ss * g, start, self.split).expect("sizes"); // ok: buffers sized from the spec
            let (gates, ghs): (&mut [T], &[T]) = if is_gru {
                (self.act.part(r0 * g, (span - 1) * g + g), acc)
            } else {
                (acc, &[])
            };
            let out_t = self.out.part((t * bn + b0) * hn, nb * hn);
            for b in 0..nb {
                if !spec.active(t, b0 + b) {
                    continue;
                }
                let r = b * hn..(b + 1) * hn;
                let (rg, rh) = (b * ss * g..b * ss * g + g, b * ss * hn..b * ss * hn + hn);
                let ar = &mut gates[rg.clone()];
                match spec.kind {
                    CellKind::Rnn(nl) => {
                        rnn_forward_row(ar, nl);
                        h_run[r.clone()].copy_from_slice(ar);
                    }
                    CellKind::Gru => {
                        let gxr = &*self.gx.part(spec.row(t, b0 + b) * g, g);
                        gru_forward_row(gxr, &ghs[rg], &hp[rh], ar, &mut h_run[r.clone()]);
                    }
                    CellKind::Lstm => {
                        let sr = srow(t, b0 + b);
                        let cp = self.cprev.part(sr * hn, hn);
                        cp.copy_from_slice(&c_run[r.clone()]);
                        lstm_forward_row(
                            ar,
                            cp,
                            &mut c_run[r.clone()],
                            self.tc.part(sr * hn, hn),
                            &mut h_run[r.clone()],
                        );
                    }
                }
                out_t[r.clone()].copy_from_slice(&h_run[r]);
            }
        }
        self.out
            .part((tn * bn + b0) * hn, nb * hn)
            .copy_from_slice(&h_run);
        if is_lstm {
            self.out
                .part(((tn + 1) * bn + b0) * hn, nb * hn)
                .copy_from_slice(&c_run);
        }
    }
}

impl<T: Float> Drop for Saved<T> {
    fn drop(&mut self) {
        for v in [
            &mut self.act,
            &mut self.hprev,
            &mut self.cprev,
            &mut self.tc,
            &mut self.gh,
        ] {
            scratch::give(std::mem::take(v));
        }
    }
}

/// The recorded sequence op: its backward is back-propagation through time.
pub(crate) struct SequenceOp<T: Float> {
    pub spec: SeqSpec,
    pub saved: Saved<T>,
}

impl<T: Float> Backward<T> for SequenceOp<T> {
    fn name(&self) -> &'static str {
        self.spec.kind.op_name()
    }

    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        upstream: &Tensor<T>,
    ) -> neurite_autograd::Result<Vec<Option<Tensor<T>>>> {
        let spec = &self.spec;
        let (tn, bn, hn) = (spec.steps, spec.batch, spec.hidden);
        let g = spec.kind.gates() * hn;
        let is_lstm = spec.kind == CellKind::Lstm;
        let is_gru = spec.kind == CellKind::Gru;
        let up = data(upstream);
        let x = data(ctx.input(0));
        let w_ih = data(ctx.input(1));
        let w_hh = data(ctx.input(2));
        let feat = w_ih.len() / g.max(1);
        // Gate gradients of padded steps stay zero; without padding every row is written.
        let mut dgx = if spec.lengths.is_some() {
            scratch::take(spec.kind.op_name(), tn * bn * g)?
        } else {
            scratch::take_any(spec.kind.op_name(), tn * bn * g)?
        };
        let mut dgh_buf = match (is_gru, spec.lengths.is_some()) {
            (false, _) => Vec::new(),
            (true, true) => scratch::take(spec.kind.op_name(), tn * bn * g)?,
            (true, false) => scratch::take_any(spec.kind.op_name(), tn * bn * g)?,
        };
        // W_hh [G·H, H] as the B of dh_prev = dG·W_hh, packed once.
        let w_p = PackedB::rows(&w_hh, g, hn).expect("W_hh holds G·H rows of H"); // ok: shapes checked by the op
        let n = row_chunks(spec);
        let run = BackwardRun {
            spec,
            saved: &self.saved,
            up: &up,
            w_p: &w_p,
            split: n == 1,
            dgx: Rows::new(&mut dgx),
            dgh: Rows::new(&mut dgh_buf),
        };
        let parts = for_chunks(n, |c| {
            let (b0, b1) = chunk_rows(bn, c, n);
            // SAFETY: chunk c touches only the batch rows b0..b1 of dgx and dgh.
            unsafe { run.rows(b0, b1) }
        });
        let mut dh = Vec::with_capacity(bn * hn);
        let mut dc = Vec::with_capacity(if is_lstm { bn * hn } else { 0 });
        for (h, c) in parts {
            dh.extend_from_slice(&h);
            dc.extend_from_slice(&c);
        }
        let sv = &self.saved;
        let dgh_all = if is_gru { &dgh_buf } else { &dgx };
        let mut grads: Vec<Option<Tensor<T>>> = Vec::with_capacity(ctx.num_inputs());
        // ∂J/∂x = dG·W_ih: one GEMM [T·B, G·H]·[G·H, F].
        grads.push(if ctx.needs_grad(0) {
            let mut dx = vec![T::ZERO; tn * bn * feat];
            gemm(
                tn * bn,
                g,
                feat,
                &dgx,
                false,
                &w_ih,
                false,
                T::ZERO,
                &mut dx,
            );
            Some(Tensor::from_vec(dx, &[tn * bn, feat])?)
        } else {
            None
        });
        // ∂J/∂W_ih = Σ_t dGₜᵀ·xₜ: one GEMM [G·H, T·B]·[T·B, F].
        grads.push(if ctx.needs_grad(1) {
            let mut dw = vec![T::ZERO; g * feat];
            gemm(g, tn * bn, feat, &dgx, true, &x, false, T::ZERO, &mut dw);
            Some(Tensor::from_vec(dw, &[g, feat])?)
        } else {
            None
        });
        // ∂J/∂W_hh = Σ_t dGₜᵀ·h_{t−1}: one GEMM [G·H, T·B]·[T·B, H].
        grads.push(if ctx.needs_grad(2) {
            let mut dw = vec![T::ZERO; g * hn];
            gemm(
                g,
                tn * bn,
                hn,
                dgh_all,
                true,
                &sv.hprev,
                false,
                T::ZERO,
                &mut dw,
            );
            Some(Tensor::from_vec(dw, &[g, hn])?)
        } else {
            None
        });
        let col_sums = |d: &[T]| {
            let mut db = vec![T::ZERO; g];
            for row in d.chunks_exact(g) {
                for (s, &x) in db.iter_mut().zip(row) {
                    *s += x;
                }
            }
            Tensor::from_vec(db, &[g])
        };
        grads.push(if ctx.needs_grad(3) {
            Some(col_sums(&dgx)?)
        } else {
            None
        });
        grads.push(if ctx.needs_grad(4) {
            Some(col_sums(dgh_all)?)
        } else {
            None
        });
        grads.push(if ctx.needs_grad(5) {
            Some(Tensor::from_vec(dh, &[bn, hn])?)
        } else {
            None
        });
        if is_lstm {
            grads.push(if ctx.needs_grad(6) {
                Some(Tensor::from_vec(dc, &[bn, hn])?)
            } else {
                None
            });
        }
        scratch::give(dgx);
        scratch::give(dgh_buf);
        if grads.len() != ctx.num_inputs() {
            return Err(AutogradError::invalid(
                spec.kind.op_name(),
                format!(
                    "{} inputs recorded, {} gradients",
                    ctx.num_inputs(),
                    grads.len()
                ),
            ));
        }
        Ok(grads)
    }
}

/// The inputs and shared gradient buffers of one back-propagation through time.
struct BackwardRun<'a, T: Float> {
    spec: &'a SeqSpec,
    saved: &'a Saved<T>,
    up: &'a [T],
    w_p: &'a PackedB<T>,
    split: bool,
    dgx: Rows<T>,
    dgh: Rows<T>,
}

impl<T: Float> BackwardRun<'_, T> {
    /// Back-propagation through time for the batch rows b0..b1: fills their rows of the gate
    /// gradients and returns their ∂J/∂h0 and (LSTM) ∂J/∂c0 rows.
    ///
    /// # Safety
    /// No other caller may run at the same time on overlapping rows.
    unsafe fn rows(&self, b0: usize, b1: usize) -> (Vec<T>, Vec<T>) {
        let spec = self.spec;
        let (tn, bn, hn) = (spec.steps, spec.batch, spec.hidden);
        let g = spec.kind.gates() * hn;
        let nb = b1 - b0;
        if nb == 0 {
            return (Vec::new(), Vec::new());
        }
        let is_lstm = spec.kind == CellKind::Lstm;
        let is_gru = spec.kind == CellKind::Gru;
        let (up, sv) = (self.up, self.saved);
        let mut dh = up[(tn * bn + b0) * hn..(tn * bn + b1) * hn].to_vec();
        let mut dc = if is_lstm {
            up[((tn + 1) * bn + b0) * hn..((tn + 1) * bn + b1) * hn].to_vec()
        } else {
            Vec::new()
        };
        let mut tmp = vec![T::ZERO; nb * hn];
        let mut dh_tot = vec![T::ZERO; hn];
        let mut row_tmp = vec![T::ZERO; hn];
        let mut direct = vec![T::ZERO; if is_gru { nb * hn } else { 0 }];
        let ss = spec.batch_stride();
        for s in (0..tn).rev() {
            let t = spec.time(s);
            let mut any_active = false;
            for b in 0..nb {
                let bg = b0 + b;
                if !spec.active(t, bg) {
                    continue;
                }
                any_active = true;
                let r = b * hn..(b + 1) * hn;
                let row = spec.row(t, bg);
                let rg = row * g..(row + 1) * g;
                let rh = row * hn..(row + 1) * hn;
                let ru = (t * bn + bg) * hn..(t * bn + bg + 1) * hn;
                for ((d, &a), &u) in dh_tot.iter_mut().zip(&dh[r.clone()]).zip(&up[ru]) {
                    *d = a + u;
                }
                let ar = &sv.act[rg.clone()];
                let dg = self.dgx.part(rg.start, g);
                match spec.kind {
                    CellKind::Rnn(nl) => rnn_backward_row(ar, &dh_tot, dg, nl),
                    CellKind::Gru => {
                        let ghr = &sv.gh[rg.clone()];
                        gru_backward_row(
                            ar,
                            &ghr[2 * hn..],
                            &sv.hprev[rh],
                            &dh_tot,
                            dg,
                            self.dgh.part(rg.start, g),
                            &mut direct[r.clone()],
                        );
                    }
                    CellKind::Lstm => {
                        lstm_backward_row(
                            ar,
                            &sv.cprev[rh.clone()],
                            &sv.tc[rh],
                            &dh_tot,
                            &dc[r.clone()],
                            dg,
                            &mut row_tmp,
                        );
                        dc[r].copy_from_slice(&row_tmp);
                    }
                }
            }
            if !any_active {
                continue;
            }
            // ∂J/∂h_prev through the recurrent weights: one GEMM [B, G·H]·[G·H, H].
            let (base, len) = (spec.row(t, b0) * g, (nb - 1) * ss * g + g);
            let dgh_t = if is_gru {
                self.dgh.part(base, len)
            } else {
                self.dgx.part(base, len)
            };
            tmp.iter_mut().for_each(|x| *x = T::ZERO);
            gemm_packed(
                nb,
                dgh_t,
                ss * g,
                self.w_p,
                &mut tmp,
                hn,
                Start::Acc,
                self.split,
            )
            .expect("sizes"); // ok: buffers sized from the spec
            for b in 0..nb {
                if !spec.active(t, b0 + b) {
                    continue;
                }
                let r = b * hn..(b + 1) * hn;
                if is_gru {
                    for ((d, &a), &e) in dh[r.clone()]
                        .iter_mut()
                        .zip(&tmp[r.clone()])
                        .zip(&direct[r.clone()])
                    {
                        *d = a + e;
                    }
                } else {
                    dh[r.clone()].copy_from_slice(&tmp[r]);
                }
            }
        }
        (dh, dc)
    }
}

//! The sliding window of convolution and pooling: kernel, stride, padding, dilation and ceil
//! mode, and its number of positions along each axis (PyTorch's output-size formula).

use crate::error::{Result, TensorError};

/// A sliding window over `D` spatial axes: kernel size, stride, zero padding (before and after,
/// per axis), dilation and, for pooling, ceil mode. Shared by convolution
/// ([`im2col_2d`](super::im2col_2d)) and pooling ([`crate::pool`]).
///
/// Along an axis of input size `n`, the window has `(n + pad_before + pad_after −
/// dilation·(kernel − 1) − 1) / stride + 1` positions, the division rounding down — or, in
/// ceil mode (pooling only), up, as PyTorch's `ceil_mode=True`: a last, partial window then
/// covers the remainder, provided it starts inside the input or the leading padding (PyTorch
/// drops it otherwise), and the kernel may even overhang the padded input by less than a stride.
///
/// ```
/// use neurite_tensor::conv::Window2d;
/// let w = Window2d::new([3, 3]).with_stride([2, 2]).with_padding([1, 1]);
/// assert_eq!(w.output_size([28, 28])?, [14, 14]);
/// // Ceil mode: 3×3 windows, stride 2 over 6×6 leave a partial last window (3, not 2).
/// let pool = Window2d::pool([3, 3]).with_stride([2, 2]);
/// assert_eq!(pool.output_size([6, 6])?, [2, 2]);
/// assert_eq!(pool.with_ceil_mode(true).output_size([6, 6])?, [3, 3]);
/// // A kernel larger than the padded input is a typed error, not a panic.
/// assert!(Window2d::new([5, 5]).output_size([4, 4]).is_err());
/// # Ok::<(), neurite_tensor::TensorError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window<const D: usize> {
    /// Taps per axis (≥ 1).
    pub kernel: [usize; D],
    /// Step between window positions per axis (≥ 1).
    pub stride: [usize; D],
    /// Zero padding before the input per axis (top, left).
    pub pad_before: [usize; D],
    /// Zero padding after the input per axis (bottom, right).
    pub pad_after: [usize; D],
    /// Spacing between taps per axis (≥ 1; 1 is a dense kernel).
    pub dilation: [usize; D],
    /// Round the number of window positions up instead of down (pooling only; the im2col
    /// kernels refuse it, as PyTorch's convolutions have no ceil mode).
    pub ceil_mode: bool,
}

/// A window over one spatial axis (`[N, C, L]` inputs).
pub type Window1d = Window<1>;
/// A window over two spatial axes (`[N, C, H, W]` inputs).
pub type Window2d = Window<2>;

impl<const D: usize> Window<D> {
    /// A dense window of `kernel` taps: stride 1, no padding, dilation 1 (the convolution default).
    pub fn new(kernel: [usize; D]) -> Self {
        Window {
            kernel,
            stride: [1; D],
            pad_before: [0; D],
            pad_after: [0; D],
            dilation: [1; D],
            ceil_mode: false,
        }
    }

    /// A pooling window: stride equal to the kernel (non-overlapping), no padding.
    pub fn pool(kernel: [usize; D]) -> Self {
        Self::new(kernel).with_stride(kernel)
    }

    /// Sets the stride.
    pub fn with_stride(mut self, stride: [usize; D]) -> Self {
        self.stride = stride;
        self
    }

    /// Sets the same padding before and after each axis.
    pub fn with_padding(mut self, padding: [usize; D]) -> Self {
        self.pad_before = padding;
        self.pad_after = padding;
        self
    }

    /// Sets asymmetric padding: `before` (top, left) and `after` (bottom, right).
    pub fn with_padding_asym(mut self, before: [usize; D], after: [usize; D]) -> Self {
        self.pad_before = before;
        self.pad_after = after;
        self
    }

    /// Sets the dilation.
    pub fn with_dilation(mut self, dilation: [usize; D]) -> Self {
        self.dilation = dilation;
        self
    }

    /// Sets ceil mode: the number of positions rounds up (see the [type docs](Window)).
    pub fn with_ceil_mode(mut self, ceil_mode: bool) -> Self {
        self.ceil_mode = ceil_mode;
        self
    }

    /// The number of window positions along each axis for a spatial input size.
    ///
    /// Errors: a zero kernel, stride or dilation (`InvalidArgument`), or a dilated kernel that
    /// does not fit in the padded input — in ceil mode, that overhangs it by a stride or more,
    /// or an axis with no window starting inside it — (`ShapeMismatch` naming the input and
    /// kernel shapes).
    pub fn output_size(&self, input: [usize; D]) -> Result<[usize; D]> {
        self.output_size_for("output_size", &input)
    }

    fn check_params(&self, op: &'static str) -> Result<()> {
        let bad = |what: &str, v: &[usize; D]| {
            TensorError::invalid(
                op,
                format!("{what} must be at least 1 on every axis, got {v:?}"),
            )
        };
        if self.kernel.contains(&0) {
            return Err(bad("kernel size", &self.kernel));
        }
        if self.stride.contains(&0) {
            return Err(bad("stride", &self.stride));
        }
        if self.dilation.contains(&0) {
            return Err(bad("dilation", &self.dilation));
        }
        Ok(())
    }

    /// The output size for an input whose last `D` dimensions are spatial; errors name `op` and
    /// the whole input shape.
    pub(crate) fn output_size_for(
        &self,
        op: &'static str,
        input_shape: &[usize],
    ) -> Result<[usize; D]> {
        self.check_params(op)?;
        let spatial = &input_shape[input_shape.len() - D..];
        let mut out = [0; D];
        for a in 0..D {
            let (pb, pa) = (self.pad_before[a], self.pad_after[a]);
            let padded = spatial[a].checked_add(pb).and_then(|p| p.checked_add(pa));
            let extent = self.dilation[a]
                .checked_mul(self.kernel[a] - 1)
                .and_then(|e| e.checked_add(1));
            let positions = padded
                .zip(extent)
                .and_then(|(padded, extent)| self.positions(a, spatial[a], padded, extent));
            match positions {
                Some(o) => out[a] = o,
                None => {
                    return Err(TensorError::shape_detail(
                        op,
                        input_shape,
                        &self.kernel,
                        format!(
                            "on spatial axis {a} the kernel spans {} (kernel {}, dilation {}) but \
                             the padded input has only {} (size {} + padding {pb} + {pa}){}",
                            extent.map_or("too much".to_string(), |e| e.to_string()),
                            self.kernel[a],
                            self.dilation[a],
                            padded.map_or("too much".to_string(), |p| p.to_string()),
                            spatial[a],
                            if self.ceil_mode {
                                format!(
                                    " (ceil mode: a last window may overhang it by less than \
                                     the stride {}, and must start inside the input or the \
                                     leading padding)",
                                    self.stride[a]
                                )
                            } else {
                                String::new()
                            },
                        ),
                    ))
                }
            }
        }
        Ok(out)
    }
}

impl<const D: usize> Window<D> {
    /// Window positions along axis `a` of size `n` (padded size `padded`, dilated kernel
    /// `extent`), as PyTorch's `pooling_output_shape`; None when there are none.
    fn positions(&self, a: usize, n: usize, padded: usize, extent: usize) -> Option<usize> {
        let s = self.stride[a];
        if !self.ceil_mode {
            return (extent <= padded).then(|| (padded - extent) / s + 1);
        }
        // ⌈(padded − extent)/s⌉ + 1, where a negative numerator −m gives 1 − ⌊m/s⌋.
        let out = if extent <= padded {
            (padded - extent).div_ceil(s) + 1
        } else if extent - padded < s {
            1
        } else {
            return None;
        };
        // The last window must start inside the input or the leading padding, else PyTorch
        // drops it: (out − 1)·s ≥ n + pad_before ⇔ out − 1 ≥ ⌈(n + pad_before)/s⌉ (without
        // the product's overflow).
        let starts = (n + self.pad_before[a]).div_ceil(s); // n + pad_before ≤ padded
        let out = if out > starts { out - 1 } else { out };
        (out > 0).then_some(out)
    }
}

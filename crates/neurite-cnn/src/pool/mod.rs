//! Pooling layers: max and average pooling over windows (`MaxPool1d/2d`, `AvgPool1d/2d`),
//! adaptive pooling to a fixed output size, and global pooling over every spatial position
//! (global max over time is what a text CNN needs). Each records ONE graph op; max pooling
//! keeps the position of each maximum for backward. Windowed pooling takes PyTorch's options:
//! stride, padding, dilation, `ceil_mode` and, for the average, `count_include_pad`
//! ([`PadCount`]), with PyTorch's output sizes and divisors.

use neurite_autograd::{Backward, BackwardContext, Graph, Var};
use neurite_nn::Module;
use neurite_tensor::conv::Window2d;
use neurite_tensor::pool::{
    adaptive_avg_pool2d, adaptive_avg_pool2d_backward, adaptive_max_pool2d, avg_pool2d,
    avg_pool2d_backward, max_pool2d, max_pool2d_backward, max_pool2d_values,
};
use neurite_tensor::{Float, Tensor};

pub use neurite_tensor::PadCount;

use crate::error::{CnnError, Result};

/// The hyper-parameters of a windowed pooling with `D` spatial axes (PyTorch's `MaxPool`/
/// `AvgPool` arguments, with the same defaults).
///
/// Along an axis of size `n` there are `(n + 2·padding − dilation·(kernel − 1) − 1)/stride + 1`
/// windows, the division rounding down — or up with `ceil_mode`, where the last window may be
/// partial (it must start inside the input or the leading padding, else it is dropped, as in
/// PyTorch).
///
/// ```
/// use neurite_cnn::PoolConfig;
/// let c = PoolConfig::new([3, 3]).with_stride([2, 2]).with_ceil_mode(true);
/// assert_eq!(c.output_size([6, 7])?, [3, 3]);                       // floor mode: [2, 3]
/// assert_eq!(PoolConfig::new([2]).with_dilation([2]).output_size([7])?, [3]);   // taps 2 apart
/// # Ok::<(), neurite_cnn::CnnError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig<const D: usize> {
    /// Window size per axis.
    pub kernel: [usize; D],
    /// Step between windows (default: the kernel size, non-overlapping windows).
    pub stride: [usize; D],
    /// Implicit padding on both sides (−∞ for max, zeros for average, whose divisor counts them
    /// unless [`AvgPool::pad_count`] says not to); at most half the kernel, as PyTorch requires.
    pub padding: [usize; D],
    /// Spacing between window taps (default 1). PyTorch's `AvgPool` has no dilation; neurite's
    /// average pooling takes it (a uniform dilated kernel), and with 1 agrees with PyTorch.
    pub dilation: [usize; D],
    /// Round the number of windows up instead of down (default false).
    pub ceil_mode: bool,
}

impl<const D: usize> PoolConfig<D> {
    /// Windows of `kernel`, stride = kernel, no padding, no dilation, floor mode.
    pub fn new(kernel: [usize; D]) -> Self {
        PoolConfig {
            kernel,
            stride: kernel,
            padding: [0; D],
            dilation: [1; D],
            ceil_mode: false,
        }
    }
    /// Sets the stride.
    pub fn with_stride(mut self, stride: [usize; D]) -> Self {
        self.stride = stride;
        self
    }
    /// Sets the padding.
    pub fn with_padding(mut self, padding: [usize; D]) -> Self {
        self.padding = padding;
        self
    }
    /// Sets the dilation.
    pub fn with_dilation(mut self, dilation: [usize; D]) -> Self {
        self.dilation = dilation;
        self
    }
    /// Sets ceil mode (PyTorch's `ceil_mode`).
    pub fn with_ceil_mode(mut self, ceil_mode: bool) -> Self {
        self.ceil_mode = ceil_mode;
        self
    }

    /// The number of windows along each spatial axis of an input of spatial size `input`
    /// (PyTorch's output size). Errors: an invalid configuration, or a kernel that does not fit
    /// the padded input (in ceil mode: that overhangs it by a stride or more).
    pub fn output_size(&self, input: [usize; D]) -> Result<[usize; D]> {
        let mut shape = vec![1, 1];
        shape.extend_from_slice(&input);
        let layer = format!("Pool{D}d({})", self.describe_args());
        let (_, out) = windowed_plan(layer, self, &shape)?;
        let mut size = [0; D];
        size.copy_from_slice(&out[2..]);
        Ok(size)
    }

    /// "kernel [2, 2], stride [2, 2], padding [0, 0]", then dilation and ceil mode when they
    /// are not the defaults.
    fn describe_args(&self) -> String {
        let mut s = format!(
            "kernel {:?}, stride {:?}, padding {:?}",
            self.kernel, self.stride, self.padding
        );
        if self.dilation.iter().any(|&d| d != 1) {
            s += &format!(", dilation {:?}", self.dilation);
        }
        if self.ceil_mode {
            s += ", ceil mode";
        }
        s
    }

    fn validate(&self, layer: &str) -> Result<()> {
        check_axes::<D>(layer)?;
        if self.kernel.contains(&0) || self.stride.contains(&0) || self.dilation.contains(&0) {
            return Err(CnnError::config(
                layer,
                format!(
                    "kernel, stride and dilation must be positive, got kernel {:?}, stride {:?}, \
                     dilation {:?}",
                    self.kernel, self.stride, self.dilation
                ),
            ));
        }
        if (0..D).any(|i| extent(self.kernel[i], self.dilation[i]).is_none()) {
            return Err(CnnError::config(
                layer,
                format!(
                    "the dilated kernel extent overflows (kernel {:?}, dilation {:?})",
                    self.kernel, self.dilation
                ),
            ));
        }
        // p ≤ ⌊k/2⌋ ⇔ 2p ≤ k, without the overflow of 2p.
        if (0..D).any(|i| self.padding[i] > self.kernel[i] / 2) {
            return Err(CnnError::config(
                layer,
                format!(
                    "padding {:?} must be at most half the kernel {:?}",
                    self.padding, self.kernel
                ),
            ));
        }
        Ok(())
    }
}

/// The dilated extent of a kernel, dilation·(kernel − 1) + 1, if it is representable.
fn extent(kernel: usize, dilation: usize) -> Option<usize> {
    dilation
        .checked_mul(kernel.saturating_sub(1))
        .and_then(|e| e.checked_add(1))
}

/// Pooling runs on 1-D and 2-D inputs only (`D` is a public const parameter of the configs).
fn check_axes<const D: usize>(layer: &str) -> Result<()> {
    if D != 1 && D != 2 {
        return Err(CnnError::config(
            layer,
            format!("only 1-D and 2-D pooling is supported, got {D} spatial axes"),
        ));
    }
    Ok(())
}

fn rank_error<const D: usize>(layer: String, got: &[usize]) -> CnnError {
    CnnError::BadRank {
        layer,
        expected: if D == 1 {
            "[batch, channels, length]".into()
        } else {
            "[batch, channels, height, width]".into()
        },
        got: got.to_vec(),
    }
}

/// A [N, C, spatial…] shape as the 4-D [N, C, h, w] the kernels run on (1-D lifted to h = 1).
fn lifted<const D: usize>(shape: &[usize]) -> [usize; 4] {
    if D == 1 {
        [shape[0], shape[1], 1, shape[2]]
    } else {
        [shape[0], shape[1], shape[2], shape[3]]
    }
}

/// The checked 2-D window of a windowed pooling on `shape`, and the layer's output shape.
fn windowed_plan<const D: usize>(
    layer: String,
    c: &PoolConfig<D>,
    shape: &[usize],
) -> Result<(Window2d, Vec<usize>)> {
    c.validate(&layer)?;
    if shape.len() != D + 2 {
        return Err(rank_error::<D>(layer, shape));
    }
    let lift = |a: [usize; D], one: usize| if D == 1 { [one, a[0]] } else { [a[0], a[1]] };
    let window = Window2d::new(lift(c.kernel, 1))
        .with_stride(lift(c.stride, 1))
        .with_padding(lift(c.padding, 0))
        .with_dilation(lift(c.dilation, 1))
        .with_ceil_mode(c.ceil_mode);
    let in4 = lifted::<D>(shape);
    // PyTorch's output size (neurite-tensor's `Window`); it fails only when a dilated kernel
    // does not fit the padded input (overhangs it by a stride or more in ceil mode).
    let out = window.output_size([in4[2], in4[3]]).map_err(|_| {
        // Saturating: padding ≤ kernel/2, so a sum beyond usize needs an input no tensor has.
        let padded = |j: usize| shape[2 + j].saturating_add(c.padding[j].saturating_mul(2));
        CnnError::KernelTooLarge {
            layer: layer.clone(),
            kernel: c.kernel.to_vec(),
            extent: (0..D)
                .map(|j| extent(c.kernel[j], c.dilation[j]).unwrap_or(usize::MAX))
                .collect(),
            padded: (0..D).map(padded).collect(),
            input: shape.to_vec(),
        }
    })?;
    let mut out_shape = shape[..2].to_vec();
    out_shape.extend_from_slice(if D == 1 { &out[1..] } else { &out[..] });
    Ok((window, out_shape))
}

/// What a pooling keeps for its backward rule.
enum Rule {
    /// Max pooling (windowed, adaptive or global): the plane-local index of each maximum.
    Max(Vec<usize>),
    /// Average pooling over this window, padding counted or not.
    Avg(Window2d, PadCount),
    /// Adaptive (or global) average pooling.
    AdaptiveAvg,
}

/// How a pooling reduces its windows.
enum Reduce {
    Max(Window2d),
    Avg(Window2d, PadCount),
    AdaptiveMax([usize; 2]),
    AdaptiveAvg([usize; 2]),
}

/// Runs a pooling on the 4-D view `in4` of `x` with neurite-tensor's kernels and records ONE
/// op whose output has `out_shape`.
fn pool_op<'g, T: Float>(
    x: Var<'g, T>,
    name: &'static str,
    reduce: Reduce,
    in4: [usize; 4],
    out_shape: Vec<usize>,
) -> Result<Var<'g, T>> {
    let x4 = x.value()?.reshape(&in4)?;
    let (y, rule) = match reduce {
        // Nothing will differentiate through an input that needs no gradient (an inference
        // graph, a constant): the maxima alone, without the argmax a backward pass would need.
        Reduce::Max(win) if !x.requires_grad() => {
            (max_pool2d_values(&x4, &win)?, Rule::Max(Vec::new()))
        }
        Reduce::Max(win) => {
            let m = max_pool2d(&x4, &win)?;
            (m.values, Rule::Max(m.argmax))
        }
        Reduce::AdaptiveMax(out) => {
            let m = adaptive_max_pool2d(&x4, out)?;
            (m.values, Rule::Max(m.argmax))
        }
        Reduce::Avg(win, pad) => (avg_pool2d(&x4, &win, pad)?, Rule::Avg(win, pad)),
        Reduce::AdaptiveAvg(out) => (adaptive_avg_pool2d(&x4, out)?, Rule::AdaptiveAvg),
    };
    let out4: [usize; 4] = y
        .shape()
        .try_into()
        .map_err(|_| CnnError::config(name, "pooling kernels return 4-D outputs"))?;
    let y = y.reshape(&out_shape)?;
    let op = PoolOp {
        name,
        rule,
        in4,
        out4,
        in_shape: x.shape(),
    };
    Ok(x.record(op, &[], y)?)
}

/// The backward rule of a pooling.
struct PoolOp {
    name: &'static str,
    rule: Rule,
    /// The input and output as the 4-D shapes the kernels saw.
    in4: [usize; 4],
    out4: [usize; 4],
    in_shape: Vec<usize>,
}

impl<T: Float> Backward<T> for PoolOp {
    fn name(&self) -> &'static str {
        self.name
    }

    /// Max: the upstream gradient flows to each window's maximum only (local gradient 1
    /// there, 0 elsewhere). Average: spread evenly, ∂y/∂x = 1/divisor over the window.
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        upstream: &Tensor<T>,
    ) -> neurite_autograd::Result<Vec<Option<Tensor<T>>>> {
        if !ctx.needs_grad(0) {
            return Ok(vec![None]);
        }
        let dy = upstream.reshape(&self.out4)?;
        let dx = match &self.rule {
            Rule::Max(argmax) => max_pool2d_backward(&dy, argmax, self.in4)?,
            Rule::Avg(win, pad) => avg_pool2d_backward(&dy, self.in4, win, *pad)?,
            Rule::AdaptiveAvg => adaptive_avg_pool2d_backward(&dy, self.in4)?,
        };
        Ok(vec![Some(dx.reshape(&self.in_shape)?)])
    }
}

macro_rules! stateless_module {
    ($ty:ident) => {
        impl<T: Float, const D: usize> Module<T> for $ty<D> {
            fn forward<'g>(
                &self,
                _graph: &'g Graph<T>,
                x: Var<'g, T>,
            ) -> neurite_nn::Result<Var<'g, T>> {
                Ok(self.try_forward(x)?)
            }
            neurite_nn::walk!(T;);
            fn describe(&self) -> String {
                self.describe()
            }
        }
    };
}

/// Max pooling: each output is the largest input of its window.
/// [batch, c, (h,) w] → [batch, c, (oh,) ow].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxPool<const D: usize> {
    /// Kernel, stride, padding, dilation and ceil mode.
    pub config: PoolConfig<D>,
}

/// Max pooling over [batch, c, length].
pub type MaxPool1d = MaxPool<1>;
/// Max pooling over [batch, c, h, w].
pub type MaxPool2d = MaxPool<2>;

impl<const D: usize> MaxPool<D> {
    /// Non-overlapping windows of `kernel` (stride = kernel).
    pub fn new(kernel: [usize; D]) -> Self {
        MaxPool {
            config: PoolConfig::new(kernel),
        }
    }
    /// A pooling with the given configuration.
    pub fn with_config(config: PoolConfig<D>) -> Self {
        MaxPool { config }
    }
    /// E.g. "MaxPool2d(kernel [2, 2], stride [2, 2], padding [0, 0])" (dilation and ceil
    /// mode follow when they are not the defaults).
    pub fn describe(&self) -> String {
        format!("MaxPool{D}d({})", self.config.describe_args())
    }
    /// The forward pass (op "max_pool1d" / "max_pool2d").
    pub fn try_forward<'g, T: Float>(&self, x: Var<'g, T>) -> Result<Var<'g, T>> {
        let shape = x.shape();
        let (win, out) = windowed_plan(self.describe(), &self.config, &shape)?;
        let name = if D == 1 { "max_pool1d" } else { "max_pool2d" };
        pool_op(x, name, Reduce::Max(win), lifted::<D>(&shape), out)
    }
}
stateless_module!(MaxPool);

/// Average pooling: each output is the mean of its window (zero padding counted in the divisor
/// by default, as PyTorch's `count_include_pad=True`; the overhang of a ceil-mode window beyond
/// the padded input never counts). [batch, c, (h,) w] → [batch, c, (oh,) ow].
///
/// ```
/// use neurite_autograd::Graph;
/// use neurite_cnn::{AvgPool1d, PadCount, PoolConfig};
/// use neurite_tensor::Tensor;
/// let g = Graph::<f64>::new();
/// let x = g.constant(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[1, 1, 6])?);
/// let ceil = PoolConfig::new([3]).with_stride([2]).with_ceil_mode(true);
/// let y = AvgPool1d::with_config(ceil).try_forward(x)?;             // last window: (5 + 6)/2
/// assert_eq!(y.value()?.to_vec(), vec![2.0, 4.0, 5.5]);
/// let pad = PoolConfig::new([2]).with_padding([1]);
/// let y = AvgPool1d::with_config(pad).with_pad_count(PadCount::Exclude).try_forward(x)?;
/// assert_eq!(y.value()?.to_vec(), vec![1.0, 2.5, 4.5, 6.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvgPool<const D: usize> {
    /// Kernel, stride, padding, dilation and ceil mode.
    pub config: PoolConfig<D>,
    /// Whether the padding counts in the divisor (default [`PadCount::Include`], PyTorch's
    /// `count_include_pad=True`).
    pub pad_count: PadCount,
}

/// Average pooling over [batch, c, length].
pub type AvgPool1d = AvgPool<1>;
/// Average pooling over [batch, c, h, w].
pub type AvgPool2d = AvgPool<2>;

impl<const D: usize> AvgPool<D> {
    /// Non-overlapping windows of `kernel` (stride = kernel).
    pub fn new(kernel: [usize; D]) -> Self {
        Self::with_config(PoolConfig::new(kernel))
    }
    /// A pooling with the given configuration (padding counted in the divisor).
    pub fn with_config(config: PoolConfig<D>) -> Self {
        AvgPool {
            config,
            pad_count: PadCount::Include,
        }
    }
    /// Sets whether the padding counts in the divisor ([`PadCount::Exclude`] is PyTorch's
    /// `count_include_pad=False`).
    pub fn with_pad_count(mut self, pad_count: PadCount) -> Self {
        self.pad_count = pad_count;
        self
    }
    /// E.g. "AvgPool2d(kernel [2, 2], stride [2, 2], padding [0, 0])" (dilation, ceil mode and
    /// an uncounted padding follow when they are not the defaults).
    pub fn describe(&self) -> String {
        let mut args = self.config.describe_args();
        if self.pad_count == PadCount::Exclude {
            args += ", padding not counted";
        }
        format!("AvgPool{D}d({args})")
    }
    /// The forward pass (op "avg_pool1d" / "avg_pool2d").
    pub fn try_forward<'g, T: Float>(&self, x: Var<'g, T>) -> Result<Var<'g, T>> {
        let shape = x.shape();
        let (win, out) = windowed_plan(self.describe(), &self.config, &shape)?;
        let name = if D == 1 { "avg_pool1d" } else { "avg_pool2d" };
        let reduce = Reduce::Avg(win, self.pad_count);
        pool_op(x, name, reduce, lifted::<D>(&shape), out)
    }
}
stateless_module!(AvgPool);

/// The checked 2-D output size of an adaptive pooling on `shape`, and the layer's output shape.
fn adaptive_plan<const D: usize>(
    layer: String,
    output: &[usize; D],
    shape: &[usize],
) -> Result<([usize; 2], Vec<usize>)> {
    check_axes::<D>(&layer)?;
    if output.contains(&0) {
        return Err(CnnError::config(
            layer,
            format!("output size must be positive, got {output:?}"),
        ));
    }
    if shape.len() != D + 2 {
        return Err(rank_error::<D>(layer, shape));
    }
    if shape[2..].contains(&0) {
        return Err(CnnError::BadRank {
            layer,
            expected: "a non-empty spatial extent".into(),
            got: shape.to_vec(),
        });
    }
    let out = if D == 1 {
        [1, output[0]]
    } else {
        [output[0], output[1]]
    };
    let mut out_shape = shape[..2].to_vec();
    out_shape.extend_from_slice(output);
    Ok((out, out_shape))
}

/// Adaptive max pooling to a fixed output size (windows ⌊i·n/o⌋..⌈(i+1)·n/o⌉, as PyTorch).
/// [batch, c, (h,) w] → [batch, c, output…].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdaptiveMaxPool<const D: usize> {
    /// Output size per axis.
    pub output: [usize; D],
}

/// Adaptive max pooling over [batch, c, length].
pub type AdaptiveMaxPool1d = AdaptiveMaxPool<1>;
/// Adaptive max pooling over [batch, c, h, w].
pub type AdaptiveMaxPool2d = AdaptiveMaxPool<2>;

impl<const D: usize> AdaptiveMaxPool<D> {
    /// Pools to `output` positions per axis.
    pub fn new(output: [usize; D]) -> Self {
        AdaptiveMaxPool { output }
    }
    /// E.g. "AdaptiveMaxPool1d(output \[1\])".
    pub fn describe(&self) -> String {
        format!("AdaptiveMaxPool{D}d(output {:?})", self.output)
    }
    /// The forward pass (op "adaptive_max_pool1d" / "adaptive_max_pool2d").
    pub fn try_forward<'g, T: Float>(&self, x: Var<'g, T>) -> Result<Var<'g, T>> {
        let shape = x.shape();
        let (size, out) = adaptive_plan(self.describe(), &self.output, &shape)?;
        let name = if D == 1 {
            "adaptive_max_pool1d"
        } else {
            "adaptive_max_pool2d"
        };
        pool_op(x, name, Reduce::AdaptiveMax(size), lifted::<D>(&shape), out)
    }
}
stateless_module!(AdaptiveMaxPool);

/// Adaptive average pooling to a fixed output size.
/// [batch, c, (h,) w] → [batch, c, output…].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdaptiveAvgPool<const D: usize> {
    /// Output size per axis.
    pub output: [usize; D],
}

/// Adaptive average pooling over [batch, c, length].
pub type AdaptiveAvgPool1d = AdaptiveAvgPool<1>;
/// Adaptive average pooling over [batch, c, h, w].
pub type AdaptiveAvgPool2d = AdaptiveAvgPool<2>;

impl<const D: usize> AdaptiveAvgPool<D> {
    /// Pools to `output` positions per axis.
    pub fn new(output: [usize; D]) -> Self {
        AdaptiveAvgPool { output }
    }
    /// E.g. "AdaptiveAvgPool2d(output [1, 1])".
    pub fn describe(&self) -> String {
        format!("AdaptiveAvgPool{D}d(output {:?})", self.output)
    }
    /// The forward pass (op "adaptive_avg_pool1d" / "adaptive_avg_pool2d").
    pub fn try_forward<'g, T: Float>(&self, x: Var<'g, T>) -> Result<Var<'g, T>> {
        let shape = x.shape();
        let (size, out) = adaptive_plan(self.describe(), &self.output, &shape)?;
        let name = if D == 1 {
            "adaptive_avg_pool1d"
        } else {
            "adaptive_avg_pool2d"
        };
        pool_op(x, name, Reduce::AdaptiveAvg(size), lifted::<D>(&shape), out)
    }
}
stateless_module!(AdaptiveAvgPool);

/// A [batch, c, spatial…] shape as [batch, c, 1, Πspatial] (global pooling is one window over
/// every position), and the output shape [batch, c].
fn global_plan(layer: &str, shape: &[usize]) -> Result<([usize; 4], Vec<usize>)> {
    if shape.len() < 3 || shape[2..].contains(&0) {
        return Err(CnnError::BadRank {
            layer: layer.into(),
            expected: "[batch, channels, spatial…] with at least one non-empty spatial axis".into(),
            got: shape.to_vec(),
        });
    }
    let positions: usize = shape[2..].iter().product();
    Ok(([shape[0], shape[1], 1, positions], shape[..2].to_vec()))
}

/// Global max pooling: the largest value of each channel over every spatial position
/// (max over time for a text CNN). [batch, c, spatial…] → [batch, c].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GlobalMaxPool;

impl GlobalMaxPool {
    /// The forward pass (op "global_max_pool").
    pub fn try_forward<'g, T: Float>(&self, x: Var<'g, T>) -> Result<Var<'g, T>> {
        let (in4, out) = global_plan("GlobalMaxPool", &x.shape())?;
        pool_op(x, "global_max_pool", Reduce::AdaptiveMax([1, 1]), in4, out)
    }
}

/// Global average pooling: the mean of each channel over every spatial position.
/// [batch, c, spatial…] → [batch, c].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GlobalAvgPool;

impl GlobalAvgPool {
    /// The forward pass (op "global_avg_pool").
    pub fn try_forward<'g, T: Float>(&self, x: Var<'g, T>) -> Result<Var<'g, T>> {
        let (in4, out) = global_plan("GlobalAvgPool", &x.shape())?;
        pool_op(x, "global_avg_pool", Reduce::AdaptiveAvg([1, 1]), in4, out)
    }
}

macro_rules! unit_module {
    ($ty:ident) => {
        impl<T: Float> Module<T> for $ty {
            fn forward<'g>(
                &self,
                _graph: &'g Graph<T>,
                x: Var<'g, T>,
            ) -> neurite_nn::Result<Var<'g, T>> {
                Ok(self.try_forward(x)?)
            }
            neurite_nn::walk!(T;);
            fn describe(&self) -> String {
                stringify!($ty).to_string()
            }
        }
    };
}
unit_module!(GlobalMaxPool);
unit_module!(GlobalAvgPool);

#[cfg(test)]
mod tests;

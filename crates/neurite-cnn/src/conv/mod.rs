//! `Conv1d` and `Conv2d`: cross-correlation of an input [batch, in, (h,) w] with a bank of
//! kernels [out, in/groups, (kh,) kw], plus a bias per output channel — the convolution layer
//! of a CNN. Each call records ONE graph op whose backward gives the input, weight and bias
//! gradients.

use neurite_autograd::{Backward, BackwardContext, Graph, Parameter, Var};
use neurite_nn::{init, Module};
use neurite_tensor::{Float, Rng, Tensor};

use crate::conv_kernel::{self, ConvGeom};
use crate::error::{CnnError, Result};
use neurite_tensor::conv::{Im2col, Window2d};

/// Zero padding of a convolution along each spatial axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding<const D: usize> {
    /// The same number of zeros before and after, per axis.
    Explicit([usize; D]),
    /// "same": the output has the input's size (stride 1 only); a total of dilation·(k − 1)
    /// zeros per axis, the odd one after, as PyTorch does.
    Same,
}

/// The hyper-parameters of a convolution with `D` spatial axes.
///
/// ```
/// use neurite_cnn::{ConvConfig, Padding};
/// let c = ConvConfig::new(16, 32, [3, 3]).with_padding([1, 1]).with_stride([2, 2]);
/// assert_eq!(c.padding, Padding::Explicit([1, 1]));
/// assert_eq!(ConvConfig::new(8, 8, [5]).same().with_groups(4).groups, 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvConfig<const D: usize> {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels (number of kernels).
    pub out_channels: usize,
    /// Kernel size per spatial axis.
    pub kernel: [usize; D],
    /// Step between windows (default 1).
    pub stride: [usize; D],
    /// Zero padding (default none).
    pub padding: Padding<D>,
    /// Spacing between kernel taps (default 1).
    pub dilation: [usize; D],
    /// Channel groups: input and output channels are split in `groups` independent blocks
    /// (default 1; `groups = in_channels` is a depthwise convolution).
    pub groups: usize,
    /// Whether the layer has a bias (default true).
    pub bias: bool,
}

impl<const D: usize> ConvConfig<D> {
    /// `in_channels → out_channels` with the given kernel, stride 1, no padding, no dilation,
    /// one group, with bias.
    pub fn new(in_channels: usize, out_channels: usize, kernel: [usize; D]) -> Self {
        ConvConfig {
            in_channels,
            out_channels,
            kernel,
            stride: [1; D],
            padding: Padding::Explicit([0; D]),
            dilation: [1; D],
            groups: 1,
            bias: true,
        }
    }
    /// Sets the stride.
    pub fn with_stride(mut self, stride: [usize; D]) -> Self {
        self.stride = stride;
        self
    }
    /// Sets symmetric zero padding.
    pub fn with_padding(mut self, padding: [usize; D]) -> Self {
        self.padding = Padding::Explicit(padding);
        self
    }
    /// "same" padding (stride must be 1).
    pub fn same(mut self) -> Self {
        self.padding = Padding::Same;
        self
    }
    /// Sets the dilation.
    pub fn with_dilation(mut self, dilation: [usize; D]) -> Self {
        self.dilation = dilation;
        self
    }
    /// Sets the number of groups.
    pub fn with_groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }
    /// No bias.
    pub fn without_bias(mut self) -> Self {
        self.bias = false;
        self
    }

    /// The weight shape [out, in/groups, k…].
    pub fn weight_shape(&self) -> Vec<usize> {
        let mut s = vec![self.out_channels, self.in_channels / self.groups.max(1)];
        s.extend_from_slice(&self.kernel);
        s
    }

    /// Padding (before, after) per axis (after [`ConvConfig::validate`]: the "same" extent
    /// does not overflow).
    fn pads(&self) -> [(usize, usize); D] {
        let mut p = [(0, 0); D];
        for (i, pi) in p.iter_mut().enumerate() {
            *pi = match self.padding {
                Padding::Explicit(q) => (q[i], q[i]),
                Padding::Same => {
                    let total = self.dilation[i].saturating_mul(self.kernel[i].saturating_sub(1));
                    (total / 2, total - total / 2)
                }
            };
        }
        p
    }

    /// A short description, e.g. "Conv2d(1 → 16, kernel [3, 3], stride [1, 1], padding [1, 1])".
    pub fn describe(&self) -> String {
        let pad = match self.padding {
            Padding::Explicit(p) => format!("{p:?}"),
            Padding::Same => "same".into(),
        };
        let mut s = format!(
            "Conv{D}d({} → {}, kernel {:?}, stride {:?}, padding {pad}",
            self.in_channels, self.out_channels, self.kernel, self.stride
        );
        if self.dilation.iter().any(|&d| d != 1) {
            s += &format!(", dilation {:?}", self.dilation);
        }
        if self.groups != 1 {
            s += &format!(", groups {}", self.groups);
        }
        if !self.bias {
            s += ", no bias";
        }
        s + ")"
    }

    /// Checks the hyper-parameters.
    pub fn validate(&self) -> Result<()> {
        let layer = self.describe();
        let bad = |m: String| Err(CnnError::config(layer.clone(), m));
        if D != 1 && D != 2 {
            return bad(format!(
                "only 1-D and 2-D convolutions are supported, got {D} spatial axes"
            ));
        }
        if self.in_channels == 0 || self.out_channels == 0 {
            return bad(format!(
                "channel counts must be positive, got {} → {}",
                self.in_channels, self.out_channels
            ));
        }
        if self.kernel.contains(&0) {
            return bad(format!(
                "kernel sizes must be positive, got {:?}",
                self.kernel
            ));
        }
        if self.stride.contains(&0) {
            return bad(format!("stride must be positive, got {:?}", self.stride));
        }
        if self.dilation.contains(&0) {
            return bad(format!(
                "dilation must be positive, got {:?}",
                self.dilation
            ));
        }
        if self.groups == 0
            || !self.in_channels.is_multiple_of(self.groups)
            || !self.out_channels.is_multiple_of(self.groups)
        {
            return bad(format!(
                "groups ({}) must divide both in_channels ({}) and out_channels ({})",
                self.groups, self.in_channels, self.out_channels
            ));
        }
        if self.padding == Padding::Same && self.stride.iter().any(|&s| s != 1) {
            return bad(format!(
                "\"same\" padding needs stride 1, got {:?}",
                self.stride
            ));
        }
        // Sizes derived from the hyper-parameters must be representable (an overflow panicked
        // in debug builds and gave wrong shapes in release ones).
        if (0..D).any(|i| dilated_extent(self.kernel[i], self.dilation[i]).is_none()) {
            return bad(format!(
                "the dilated kernel extent overflows (kernel {:?}, dilation {:?})",
                self.kernel, self.dilation
            ));
        }
        let weight_len = self
            .weight_shape()
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .filter(|&n| n <= isize::MAX as usize / std::mem::size_of::<f64>());
        if weight_len.is_none() {
            return bad(format!(
                "a weight of shape {:?} is too large to hold",
                self.weight_shape()
            ));
        }
        Ok(())
    }

    /// The geometry of a call on `input` (shape [batch, in, spatial…]), checked.
    fn geom(&self, input: &[usize]) -> Result<ConvGeom> {
        let layer = self.describe();
        if input.len() != D + 2 {
            let expected = if D == 1 {
                "[batch, channels, length]"
            } else {
                "[batch, channels, height, width]"
            };
            return Err(CnnError::BadRank {
                layer,
                expected: expected.into(),
                got: input.to_vec(),
            });
        }
        if input[1] != self.in_channels {
            return Err(CnnError::ChannelMismatch {
                layer,
                expected: self.in_channels,
                got: input[1],
                input: input.to_vec(),
                weight: self.weight_shape(),
            });
        }
        let pads = self.pads();
        let mut out = [0usize; D];
        let (mut padded, mut extent) = ([0usize; D], [0usize; D]);
        for i in 0..D {
            // Saturating: a padded size beyond usize cannot be held by any input; the
            // Im2col plan below rejects the geometry with a typed error.
            padded[i] = input[2 + i]
                .saturating_add(pads[i].0)
                .saturating_add(pads[i].1);
            extent[i] = dilated_extent(self.kernel[i], self.dilation[i]).unwrap_or(usize::MAX);
        }
        if (0..D).any(|i| extent[i] > padded[i]) {
            return Err(CnnError::KernelTooLarge {
                layer,
                kernel: self.kernel.to_vec(),
                extent: extent.to_vec(),
                padded: padded.to_vec(),
                input: input.to_vec(),
            });
        }
        for i in 0..D {
            out[i] = (padded[i] - extent[i]) / self.stride[i] + 1;
        }
        // 1-D runs as 2-D with a height of 1.
        let a = |arr: [usize; D], one: usize| {
            if D == 1 {
                (one, arr[0])
            } else {
                (arr[0], arr[1])
            }
        };
        let (h, w) = if D == 1 {
            (1, input[2])
        } else {
            (input[2], input[3])
        };
        let (kh, kw) = a(self.kernel, 1);
        let (sh, sw) = a(self.stride, 1);
        let (dh, dw) = a(self.dilation, 1);
        let (ph, pw) = a(pads.map(|p| p.0), 0);
        let (qh, qw) = a(pads.map(|p| p.1), 0);
        let window = Window2d::new([kh, kw])
            .with_stride([sh, sw])
            .with_padding_asym([ph, pw], [qh, qw])
            .with_dilation([dh, dw]);
        let cols = Im2col::new_2d([self.in_channels / self.groups, h, w], &window)?;
        debug_assert_eq!(cols.output_size(), [a(out, 1).0, a(out, 1).1]);
        Ok(ConvGeom {
            n: input[0],
            c_in: self.in_channels,
            h,
            w,
            c_out: self.out_channels,
            groups: self.groups,
            cols,
        })
    }

    /// The output shape for an input shape, or the error a call would give.
    pub fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>> {
        self.validate()?;
        let g = self.geom(input)?;
        let [oh, ow] = g.cols.output_size();
        Ok(if D == 1 {
            vec![g.n, g.c_out, ow]
        } else {
            vec![g.n, g.c_out, oh, ow]
        })
    }
}

/// The span of a dilated kernel, dilation·(kernel − 1) + 1, or None when it overflows.
fn dilated_extent(kernel: usize, dilation: usize) -> Option<usize> {
    dilation
        .checked_mul(kernel.saturating_sub(1))
        .and_then(|e| e.checked_add(1))
}

/// A convolution layer with `D` spatial axes; use the aliases [`Conv1d`] and [`Conv2d`].
///
/// Input [batch, in, (h,) w] → output [batch, out, (oh,) ow] with
/// o = ⌊(n + pad_before + pad_after − dilation·(k − 1) − 1) / stride⌋ + 1 per axis.
/// Default initialisation (PyTorch's): weight and bias uniform in ±1/√fan_in,
/// fan_in = in/groups · Πk.
pub struct Conv<T: Float, const D: usize> {
    /// Kernels [out, in/groups, k…] (PyTorch's layout).
    pub weight: Parameter<T>,
    /// Bias \[out\], if any.
    pub bias: Option<Parameter<T>>,
    config: ConvConfig<D>,
}

/// 1-D convolution: [batch, in, length] → [batch, out, out_length] (text CNNs, signals).
pub type Conv1d<T> = Conv<T, 1>;
/// 2-D convolution: [batch, in, h, w] → [batch, out, oh, ow] (images).
pub type Conv2d<T> = Conv<T, 2>;

impl<T: Float, const D: usize> Conv<T, D> {
    /// A layer with PyTorch's default initialisation, seeded.
    pub fn new(config: ConvConfig<D>, rng: &mut Rng) -> Result<Self> {
        config.validate()?;
        let shape = config.weight_shape();
        neurite_tensor::alloc::check_shapes::<T>(
            &format!("{}d convolution weight and bias", D),
            &[&shape, &[config.out_channels]],
        )?;
        let fan_in: usize = shape[1..].iter().product();
        let weight = Parameter::new(init::pytorch_default(&shape, fan_in, rng));
        let bias = config
            .bias
            .then(|| Parameter::new(init::pytorch_default(&[config.out_channels], fan_in, rng)));
        Ok(Conv {
            weight,
            bias,
            config,
        })
    }

    /// A layer with the given weight \[out, in/groups, k…\] and optional bias \[out\] (e.g. loaded
    /// from a file); their shapes must match `config`.
    pub fn from_tensors(
        config: ConvConfig<D>,
        weight: Tensor<T>,
        bias: Option<Tensor<T>>,
    ) -> Result<Self> {
        config.validate()?;
        check_params(&config, weight.shape(), bias.as_ref().map(|b| b.shape()))?;
        Ok(Conv {
            weight: Parameter::new(weight),
            bias: bias.map(Parameter::new),
            config,
        })
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &ConvConfig<D> {
        &self.config
    }

    /// The forward pass with this crate's error type (the [`Module`] impl converts it).
    pub fn try_forward<'g>(&self, graph: &'g Graph<T>, x: Var<'g, T>) -> Result<Var<'g, T>> {
        let w = graph.param(&self.weight);
        let b = self.bias.as_ref().map(|b| graph.param(b));
        conv(x, w, b, &self.config)
    }

    /// Forward on a tensor without a graph (inference).
    pub fn apply(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let g = self.config.geom(x.shape())?;
        check_params(
            &self.config,
            self.weight.shape(),
            self.bias.as_ref().map(|b| b.shape()),
        )?;
        let x = x.contiguous();
        let w = self.weight.value().contiguous();
        let b = self.bias.as_ref().map(|b| b.value().contiguous());
        run_forward(&self.config, &g, &x, &w, b.as_ref())
    }
}

fn check_params<const D: usize>(
    config: &ConvConfig<D>,
    weight: &[usize],
    bias: Option<&[usize]>,
) -> Result<()> {
    let ws = config.weight_shape();
    if weight != ws.as_slice() {
        return Err(CnnError::ParamShape {
            layer: config.describe(),
            what: "weight",
            expected: ws,
            got: weight.to_vec(),
        });
    }
    match (config.bias, bias) {
        (true, Some(b)) if b == [config.out_channels] => Ok(()),
        (false, None) => Ok(()),
        (want, got) => Err(CnnError::ParamShape {
            layer: config.describe(),
            what: "bias",
            expected: if want {
                vec![config.out_channels]
            } else {
                Vec::new()
            },
            got: got.map(<[usize]>::to_vec).unwrap_or_default(),
        }),
    }
}

fn slice<T: Float>(t: &Tensor<T>) -> &[T] {
    t.as_slice().expect("contiguous tensor") // ok: every caller passes a contiguous tensor
}

fn run_forward<T: Float, const D: usize>(
    config: &ConvConfig<D>,
    g: &ConvGeom,
    x: &Tensor<T>,
    w: &Tensor<T>,
    b: Option<&Tensor<T>>,
) -> Result<Tensor<T>> {
    // Zeroed in parallel: a serial memset of y showed in W3's profile at 2 threads.
    let mut y = neurite_tensor::parallel::zeroed(g.n * g.out_sample());
    conv_kernel::forward(g, slice(x), slice(w), b.map(slice), &mut y)?;
    let shape = config.output_shape(x.shape())?;
    Ok(Tensor::from_vec(y, &shape)?)
}

/// The functional convolution: `x` [batch, in, spatial…], `weight` [out, in/groups, k…], `bias`
/// \[out\] (present iff `config.bias`). Records one op ("conv1d" / "conv2d").
pub fn conv<'g, T: Float, const D: usize>(
    x: Var<'g, T>,
    weight: Var<'g, T>,
    bias: Option<Var<'g, T>>,
    config: &ConvConfig<D>,
) -> Result<Var<'g, T>> {
    config.validate()?;
    let xs = x.shape();
    let g = config.geom(&xs)?;
    check_params(config, &weight.shape(), bias.map(|b| b.shape()).as_deref())?;
    let xv = x.value()?.contiguous();
    let wv = weight.value()?.contiguous();
    let bv = match bias {
        Some(b) => Some(b.value()?.contiguous()),
        None => None,
    };
    let y = run_forward(config, &g, &xv, &wv, bv.as_ref())?;
    let op = ConvOp {
        name: if D == 1 { "conv1d" } else { "conv2d" },
        geom: g,
    };
    let mut others = vec![weight];
    others.extend(bias);
    Ok(x.record(op, &others, y)?)
}

/// The backward rule of a convolution: inputs (x, weight[, bias]).
struct ConvOp {
    name: &'static str,
    geom: ConvGeom,
}

impl<T: Float> Backward<T> for ConvOp {
    fn name(&self) -> &'static str {
        self.name
    }

    /// dx = col2im(Wᵀ·dy), dW = Σ_batch dy·colsᵀ, db = Σ dy over batch and positions.
    fn backward(
        &self,
        ctx: &BackwardContext<'_, T>,
        upstream: &Tensor<T>,
    ) -> neurite_autograd::Result<Vec<Option<Tensor<T>>>> {
        let x = ctx.input(0).contiguous();
        let w = ctx.input(1).contiguous();
        let dy = upstream.contiguous();
        let has_bias = ctx.num_inputs() > 2;
        let grads = conv_kernel::backward(
            &self.geom,
            slice(&x),
            slice(&w),
            slice(&dy),
            ctx.needs_grad(0),
            ctx.needs_grad(1),
            has_bias && ctx.needs_grad(2),
        )?;
        let mut out = vec![
            grads
                .dx
                .map(|d| Tensor::from_vec(d, x.shape()))
                .transpose()?,
            grads
                .dw
                .map(|d| Tensor::from_vec(d, w.shape()))
                .transpose()?,
        ];
        if has_bias {
            out.push(
                grads
                    .db
                    .map(|d| Tensor::from_vec(d, &[self.geom.c_out]))
                    .transpose()?,
            );
        }
        Ok(out)
    }
}

impl<T: Float, const D: usize> Module<T> for Conv<T, D> {
    fn forward<'g>(&self, graph: &'g Graph<T>, x: Var<'g, T>) -> neurite_nn::Result<Var<'g, T>> {
        Ok(self.try_forward(graph, x)?)
    }

    neurite_nn::walk!(T; param weight, param bias);

    fn describe(&self) -> String {
        self.config.describe()
    }
}

#[cfg(test)]
mod tests;

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
mod tests {
    use super::*;

    /// Forward, dx, dW and db of a convolution: the same bits at every SIMD level this CPU has.
    #[test]
    fn every_simd_level_gives_the_same_bits() {
        use neurite_tensor::simd::{self, Level};
        let mut rng = Rng::new(5);
        let conv = Conv2d::<f32>::new(ConvConfig::new(3, 5, [3, 3]).with_padding([1, 1]), &mut rng)
            .unwrap();
        let x = Tensor::<f32>::rand_normal(&[4, 3, 11, 9], 0.0, 1.0, &mut rng);
        let run = |level: Level| {
            let _simd = simd::force_level(level);
            let g = Graph::new();
            let xv = g.variable(x.clone());
            let y = conv.forward(&g, xv).unwrap();
            let mut bits: Vec<u32> = y
                .value()
                .unwrap()
                .to_vec()
                .iter()
                .map(|v| v.to_bits())
                .collect();
            let loss = y.mul(y).unwrap().sum().unwrap();
            let grads = loss.backward().unwrap();
            for t in [
                grads.get(xv).unwrap(),
                grads.wrt(&conv.weight).unwrap(),
                grads.wrt(conv.bias.as_ref().unwrap()).unwrap(),
            ] {
                bits.extend(t.to_vec().iter().map(|v| v.to_bits()));
            }
            bits
        };
        let want = run(Level::Portable);
        for level in Level::available() {
            assert!(run(level) == want, "{level}");
        }
    }

    #[test]
    fn shapes_and_same_padding() {
        let c = ConvConfig::new(3, 8, [3, 3]).with_padding([1, 1]);
        assert_eq!(c.output_shape(&[2, 3, 28, 28]).unwrap(), [2, 8, 28, 28]);
        let c = ConvConfig::new(3, 8, [4, 4]).same().with_dilation([2, 1]);
        assert_eq!(c.output_shape(&[2, 3, 9, 10]).unwrap(), [2, 8, 9, 10]);
        let c = ConvConfig::new(4, 6, [5]).with_stride([2]);
        assert_eq!(c.output_shape(&[1, 4, 11]).unwrap(), [1, 6, 4]);
    }

    #[test]
    fn layers_and_outputs_beyond_memory_are_typed_errors() {
        let mut rng = Rng::new(1);
        // 100k channels in and out, 3×3: 9·10^10 weights, an allocation abort before.
        let e = Conv2d::<f32>::new(ConvConfig::new(100_000, 100_000, [3, 3]), &mut rng)
            .err()
            .unwrap();
        assert!(
            matches!(
                e,
                CnnError::Tensor(neurite_tensor::TensorError::OutOfMemory { .. })
            ),
            "{e}"
        );
        // Padding 10^6 on a 5×5 input: an output of (2·10^6 + 3)² per channel.
        let conv = Conv2d::<f32>::new(
            ConvConfig::new(1, 2, [3, 3]).with_padding([1_000_000, 1_000_000]),
            &mut rng,
        )
        .unwrap();
        let graph = Graph::new();
        let x = graph.constant(Tensor::zeros(&[1, 1, 5, 5]));
        let e = conv.forward(&graph, x).err().unwrap();
        assert!(e.to_string().contains("out of memory"), "{e}");
    }

    #[test]
    fn overflowing_or_unsupported_configs_are_typed_errors() {
        let mut rng = Rng::new(1);
        for bad in [
            // dilation·(kernel − 1) + 1 overflows (a debug-build panic before).
            ConvConfig::new(1, 1, [3]).with_dilation([usize::MAX]),
            ConvConfig::new(1, 1, [usize::MAX]).with_dilation([2]),
            // A weight of more elements than memory.
            ConvConfig::new(1, 1 << 40, [1 << 40]),
        ] {
            let e = Conv1d::<f32>::new(bad, &mut rng).err().unwrap();
            assert!(matches!(e, CnnError::InvalidConfig { .. }), "{e}");
            assert!(bad.output_shape(&[1, 1, 4]).is_err());
        }
        let same = ConvConfig::new(1, 1, [3])
            .same()
            .with_dilation([usize::MAX]);
        assert!(same.output_shape(&[1, 1, 4]).is_err());
        // Padding that overflows the padded size: a typed error from the geometry check.
        let pad = ConvConfig::new(1, 1, [3]).with_padding([usize::MAX]);
        let conv = Conv1d::<f32>::new(pad, &mut rng).unwrap();
        let graph = Graph::new();
        let x = graph.constant(Tensor::zeros(&[1, 1, 4]));
        assert!(conv.try_forward(&graph, x).is_err());
        assert!(conv.apply(&Tensor::zeros(&[1, 1, 4])).is_err());
        // Three spatial axes: the kernels exist for 1-D and 2-D only.
        let e = Conv::<f32, 3>::new(ConvConfig::new(1, 1, [1, 1, 1]), &mut rng)
            .err()
            .unwrap();
        assert!(e.to_string().contains("1-D and 2-D"), "{e}");
    }

    #[test]
    fn bad_input_and_configs_are_typed_errors_naming_layer_and_shapes() {
        let mut rng = Rng::new(1);
        let conv = Conv2d::<f32>::new(ConvConfig::new(3, 8, [3, 3]), &mut rng).unwrap();
        let graph = Graph::new();
        let x = graph.constant(Tensor::zeros(&[2, 4, 8, 8]));
        let e = conv.try_forward(&graph, x).unwrap_err();
        assert!(matches!(
            e,
            CnnError::ChannelMismatch {
                expected: 3,
                got: 4,
                ..
            }
        ));
        let msg = e.to_string();
        assert!(
            msg.contains("Conv2d(3 → 8")
                && msg.contains("[2, 4, 8, 8]")
                && msg.contains("[8, 3, 3, 3]"),
            "{msg}"
        );
        let x = graph.constant(Tensor::zeros(&[2, 3, 2, 8]));
        let msg = conv.try_forward(&graph, x).unwrap_err().to_string();
        assert!(
            msg.contains("larger than the padded input") && msg.contains("[2, 3, 2, 8]"),
            "{msg}"
        );
        let x = graph.constant(Tensor::zeros(&[3, 8, 8]));
        assert!(matches!(
            conv.try_forward(&graph, x),
            Err(CnnError::BadRank { .. })
        ));
        // Through the Module trait: neurite-nn's BadInput, with the same facts.
        let x = graph.constant(Tensor::zeros(&[2, 4, 8, 8]));
        let msg = Module::forward(&conv, &graph, x).unwrap_err().to_string();
        assert!(
            msg.contains("Conv2d(3 → 8") && msg.contains("[2, 4, 8, 8]"),
            "{msg}"
        );
        for bad in [
            ConvConfig::new(3, 8, [3, 3]).with_stride([0, 1]),
            ConvConfig::new(3, 8, [3, 3]).with_groups(2),
            ConvConfig::new(3, 8, [0, 3]),
            ConvConfig::new(4, 8, [3, 3]).same().with_stride([2, 2]),
            ConvConfig::new(4, 8, [3, 3]).with_dilation([1, 0]),
            ConvConfig::new(0, 8, [3, 3]),
        ] {
            assert!(matches!(
                Conv2d::<f32>::new(bad, &mut rng),
                Err(CnnError::InvalidConfig { .. })
            ));
        }
        let e = Conv1d::<f32>::from_tensors(
            ConvConfig::new(2, 3, [3]),
            Tensor::zeros(&[3, 2, 2]),
            None,
        );
        assert!(matches!(
            e,
            Err(CnnError::ParamShape { what: "weight", .. })
        ));
    }

    #[test]
    fn init_is_pytorch_default_and_seeded() {
        let c = ConvConfig::new(4, 6, [3, 3]).with_groups(2);
        let a = Conv2d::<f64>::new(c, &mut Rng::new(5)).unwrap();
        let b = Conv2d::<f64>::new(c, &mut Rng::new(5)).unwrap();
        assert_eq!(a.weight.value().to_vec(), b.weight.value().to_vec());
        assert_eq!(a.weight.shape(), [6, 2, 3, 3]);
        let bound = 1.0 / (18.0f64).sqrt();
        assert!(a.weight.value().to_vec().iter().all(|v| v.abs() <= bound));
        assert!(a
            .bias
            .as_ref()
            .unwrap()
            .value()
            .to_vec()
            .iter()
            .all(|v| v.abs() <= bound));
        let names: Vec<String> = {
            let mut v = Vec::new();
            a.visit_params("c", &mut |n, _| v.push(n.to_string()));
            v
        };
        assert_eq!(names, ["c.weight", "c.bias"]);
    }

    /// The f32 path (its own GEMM kernels) gives the f64 results to f32 precision, forward and
    /// backward, on a W3-like layer with a multi-sample batch.
    #[test]
    fn f32_matches_f64() {
        let mut rng = Rng::new(9);
        let cfg = ConvConfig::new(3, 8, [3, 3])
            .with_padding([1, 1])
            .with_groups(1);
        let x = Tensor::<f64>::rand_normal(&[5, 3, 9, 7], 0.0, 1.0, &mut rng);
        let w = Tensor::<f64>::rand_normal(&cfg.weight_shape(), 0.0, 1.0, &mut rng);
        let b = Tensor::<f64>::rand_normal(&[8], 0.0, 1.0, &mut rng);
        let r = Tensor::<f64>::rand_normal(
            &cfg.output_shape(&[5, 3, 9, 7]).unwrap(),
            0.0,
            1.0,
            &mut rng,
        );
        fn run<T: Float>(
            cfg: &ConvConfig<2>,
            x: Tensor<T>,
            w: Tensor<T>,
            b: Tensor<T>,
            r: Tensor<T>,
        ) -> Vec<Vec<f64>> {
            let g = Graph::new();
            let (xv, wv, bv) = (g.variable(x), g.variable(w), g.variable(b));
            let y = conv(xv, wv, Some(bv), cfg).unwrap();
            let loss = y.mul(g.constant(r)).unwrap().sum().unwrap();
            let out = y.value().unwrap().to_vec();
            let grads = loss.backward().unwrap();
            let mut all = vec![out];
            for v in [xv, wv, bv] {
                all.push(grads.get(v).unwrap().to_vec());
            }
            all.into_iter()
                .map(|t| t.into_iter().map(|e| e.to_f64()).collect())
                .collect()
        }
        let a = run(
            &cfg,
            x.cast::<f32>(),
            w.cast::<f32>(),
            b.cast::<f32>(),
            r.cast::<f32>(),
        );
        let e = run(&cfg, x, w, b, r);
        for (ta, te) in a.iter().zip(&e) {
            for (u, v) in ta.iter().zip(te) {
                assert!((u - v).abs() <= 1e-4 * (1.0 + v.abs()), "{u} vs {v}");
            }
        }
    }

    #[test]
    fn inference_apply_equals_graph_forward() {
        let mut rng = Rng::new(2);
        let conv = Conv1d::<f32>::new(ConvConfig::new(3, 5, [3]).same(), &mut rng).unwrap();
        let x = Tensor::rand_normal(&[4, 3, 7], 0.0, 1.0, &mut rng);
        let graph = Graph::inference();
        let y = conv.try_forward(&graph, graph.constant(x.clone())).unwrap();
        assert_eq!(
            y.value().unwrap().to_vec(),
            conv.apply(&x).unwrap().to_vec()
        );
        assert_eq!(y.shape(), [4, 5, 7]);
    }
}

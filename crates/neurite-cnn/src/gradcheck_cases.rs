//! The gradient-check cases of neurite-cnn: every convolution and pooling op on several seeded
//! random shapes (strides, paddings, dilations, group counts, pooling's ceil mode and padding
//! counts, odd and size-1 sizes), through the
//! functional op (input, weight and bias gradients) and through the layers. `cargo xtask
//! gradcheck` runs them.

use neurite_autograd::{GradCase, Graph, Var};
use neurite_tensor::{Rng, Tensor};

use crate::{
    conv, AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AvgPool1d,
    AvgPool2d, ConvConfig, GlobalAvgPool, GlobalMaxPool, MaxPool1d, MaxPool2d, PadCount,
    PoolConfig,
};

/// Every op name neurite-cnn records with its own backward rule.
pub const OPS: &[&str] = &[
    "conv1d",
    "conv2d",
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "global_max_pool",
    "global_avg_pool",
];

fn normal(shape: &[usize], rng: &mut Rng) -> Tensor<f64> {
    Tensor::rand_normal(shape, 0.0, 1.0, rng)
}

/// Distinct values spread well apart (a shuffled ramp plus noise), so that no two elements of
/// a max-pooling window are within the finite-difference step of each other.
fn distinct(shape: &[usize], rng: &mut Rng) -> Tensor<f64> {
    let n: usize = shape.iter().product();
    let mut v: Vec<f64> = (0..n).map(|i| i as f64 * 0.1 - n as f64 * 0.05).collect();
    rng.shuffle(&mut v);
    for x in &mut v {
        *x += rng.uniform_range(-0.02, 0.02);
    }
    Tensor::from_vec(v, shape).expect("n elements") // ok: n = Πshape
}

fn conv_case<const D: usize>(c: ConvConfig<D>, input: &[usize], rng: &mut Rng) -> GradCase {
    let name = if D == 1 { "conv1d" } else { "conv2d" };
    let mut inputs = vec![normal(input, rng), normal(&c.weight_shape(), rng)];
    if c.bias {
        inputs.push(normal(&[c.out_channels], rng));
    }
    GradCase::new(
        format!("{name} {}", c.describe()),
        inputs,
        move |_: &Graph<f64>, v: &[Var<'_, f64>]| Ok(conv(v[0], v[1], v.get(2).copied(), &c)?),
    )
}

/// Every gradient-check case of neurite-cnn.
#[allow(clippy::vec_init_then_push)] // one case per line reads better than one long vec!
pub fn cases() -> Vec<GradCase> {
    let mut rng = Rng::new(5005);
    let r = &mut rng;
    let mut c = Vec::new();

    // 2-D convolutions: strides, paddings (incl. "same" with an even kernel), dilations, groups,
    // no bias, 1×1 kernels, size-1 batch and channels, odd sizes.
    c.push(conv_case(
        ConvConfig::new(1, 2, [3, 3]).with_padding([1, 1]),
        &[2, 1, 5, 5],
        r,
    ));
    c.push(conv_case(
        ConvConfig::new(3, 4, [3, 2]).with_stride([2, 1]),
        &[1, 3, 7, 6],
        r,
    ));
    c.push(conv_case(
        ConvConfig::new(4, 6, [3, 3])
            .with_padding([2, 1])
            .with_dilation([2, 1])
            .with_groups(2),
        &[2, 4, 5, 4],
        r,
    ));
    c.push(conv_case(
        ConvConfig::new(2, 3, [4, 3]).same(),
        &[1, 2, 5, 3],
        r,
    ));
    c.push(conv_case(
        ConvConfig::new(3, 3, [2, 2])
            .with_groups(3)
            .with_stride([2, 3])
            .without_bias(),
        &[2, 3, 5, 7],
        r,
    ));
    c.push(conv_case(ConvConfig::new(3, 2, [1, 1]), &[2, 3, 3, 1], r));
    c.push(conv_case(
        ConvConfig::new(1, 1, [1, 1]).with_stride([2, 2]),
        &[1, 1, 3, 3],
        r,
    ));
    // 1-D convolutions, as a text CNN uses them (widths 3, 4, 5 over [batch, embed, time]).
    for k in [3, 4, 5] {
        c.push(conv_case(ConvConfig::new(4, 3, [k]), &[2, 4, 7], r));
    }
    c.push(conv_case(
        ConvConfig::new(4, 4, [3])
            .with_stride([2])
            .with_padding([1])
            .with_dilation([2])
            .with_groups(4),
        &[1, 4, 9],
        r,
    ));
    c.push(conv_case(
        ConvConfig::new(2, 1, [2]).same().without_bias(),
        &[3, 2, 1],
        r,
    ));

    // Pooling.
    type Layer = fn(Var<'_, f64>) -> neurite_autograd::Result<Var<'_, f64>>;
    let pools: Vec<(&str, Vec<usize>, Layer)> = vec![
        ("MaxPool2d 2×2", vec![2, 3, 4, 6], |x| {
            Ok(MaxPool2d::new([2, 2]).try_forward(x)?)
        }),
        ("MaxPool2d 3×2 stride 2,1 pad 1", vec![1, 2, 5, 4], |x| {
            Ok(MaxPool2d::with_config(
                PoolConfig::new([3, 2])
                    .with_stride([2, 1])
                    .with_padding([1, 1]),
            )
            .try_forward(x)?)
        }),
        ("MaxPool1d 3 stride 2", vec![2, 3, 7], |x| {
            Ok(MaxPool1d::with_config(PoolConfig::new([3]).with_stride([2])).try_forward(x)?)
        }),
        ("MaxPool1d 1", vec![1, 1, 3], |x| {
            Ok(MaxPool1d::new([1]).try_forward(x)?)
        }),
        ("AvgPool2d 2×2", vec![2, 2, 5, 4], |x| {
            Ok(AvgPool2d::new([2, 2]).try_forward(x)?)
        }),
        ("AvgPool2d 3×3 stride 2 pad 1", vec![1, 3, 5, 5], |x| {
            Ok(AvgPool2d::with_config(
                PoolConfig::new([3, 3])
                    .with_stride([2, 2])
                    .with_padding([1, 1]),
            )
            .try_forward(x)?)
        }),
        ("AvgPool1d 2 pad 1", vec![2, 2, 5], |x| {
            Ok(AvgPool1d::with_config(PoolConfig::new([2]).with_padding([1])).try_forward(x)?)
        }),
        // Dilation and ceil mode (PyTorch's ceil_mode): partial last windows, a window
        // overhanging the padded input, and the average's divisor with and without padding.
        (
            "MaxPool2d 3×2 stride 2 dilation 2,1 ceil",
            vec![2, 2, 8, 5],
            |x| {
                Ok(MaxPool2d::with_config(
                    PoolConfig::new([3, 2])
                        .with_stride([2, 2])
                        .with_dilation([2, 1])
                        .with_ceil_mode(true),
                )
                .try_forward(x)?)
            },
        ),
        (
            "MaxPool2d 2×2 ceil pad 1 (odd sizes)",
            vec![1, 3, 5, 7],
            |x| {
                Ok(MaxPool2d::with_config(
                    PoolConfig::new([2, 2])
                        .with_padding([1, 0])
                        .with_ceil_mode(true),
                )
                .try_forward(x)?)
            },
        ),
        (
            "MaxPool1d 3 stride 2 pad 1 dilation 3 ceil",
            vec![2, 2, 10],
            |x| {
                Ok(MaxPool1d::with_config(
                    PoolConfig::new([3])
                        .with_stride([2])
                        .with_padding([1])
                        .with_dilation([3])
                        .with_ceil_mode(true),
                )
                .try_forward(x)?)
            },
        ),
        (
            "AvgPool2d 3×3 stride 2 pad 1 ceil",
            vec![2, 2, 6, 5],
            |x| {
                Ok(AvgPool2d::with_config(
                    PoolConfig::new([3, 3])
                        .with_stride([2, 2])
                        .with_padding([1, 1])
                        .with_ceil_mode(true),
                )
                .try_forward(x)?)
            },
        ),
        (
            "AvgPool2d 3×2 stride 2 pad 1,0 ceil, padding not counted",
            vec![1, 2, 6, 5],
            |x| {
                Ok(AvgPool2d::with_config(
                    PoolConfig::new([3, 2])
                        .with_stride([2, 2])
                        .with_padding([1, 0])
                        .with_ceil_mode(true),
                )
                .with_pad_count(PadCount::Exclude)
                .try_forward(x)?)
            },
        ),
        (
            "AvgPool1d 4 stride 3 ceil (kernel overhangs the input)",
            vec![2, 3, 3],
            |x| {
                Ok(AvgPool1d::with_config(
                    PoolConfig::new([4]).with_stride([3]).with_ceil_mode(true),
                )
                .try_forward(x)?)
            },
        ),
        (
            "AvgPool1d 2 stride 2 pad 1 dilation 2",
            vec![2, 2, 7],
            |x| {
                Ok(AvgPool1d::with_config(
                    PoolConfig::new([2]).with_padding([1]).with_dilation([2]),
                )
                .try_forward(x)?)
            },
        ),
        ("AdaptiveMaxPool2d 2×3", vec![2, 2, 5, 7], |x| {
            Ok(AdaptiveMaxPool2d::new([2, 3]).try_forward(x)?)
        }),
        ("AdaptiveMaxPool1d 1", vec![3, 2, 6], |x| {
            Ok(AdaptiveMaxPool1d::new([1]).try_forward(x)?)
        }),
        ("AdaptiveAvgPool2d 3×2", vec![1, 2, 5, 3], |x| {
            Ok(AdaptiveAvgPool2d::new([3, 2]).try_forward(x)?)
        }),
        ("AdaptiveAvgPool1d 4 (upsampling 3)", vec![2, 1, 3], |x| {
            Ok(AdaptiveAvgPool1d::new([4]).try_forward(x)?)
        }),
        ("GlobalMaxPool 1-D", vec![2, 3, 5], |x| {
            Ok(GlobalMaxPool.try_forward(x)?)
        }),
        ("GlobalMaxPool 2-D", vec![1, 2, 3, 3], |x| {
            Ok(GlobalMaxPool.try_forward(x)?)
        }),
        ("GlobalAvgPool 2-D", vec![2, 3, 2, 3], |x| {
            Ok(GlobalAvgPool.try_forward(x)?)
        }),
        ("GlobalAvgPool size 1", vec![1, 1, 1], |x| {
            Ok(GlobalAvgPool.try_forward(x)?)
        }),
    ];
    for (name, shape, f) in pools {
        c.push(GradCase::new(
            name,
            vec![distinct(&shape, r)],
            move |_, v| f(v[0]),
        ));
    }

    // A small CNN end to end: conv → max-pool → flatten, gradients reach the input and kernels.
    let cfg = ConvConfig::new(2, 3, [3, 3]).with_padding([1, 1]);
    c.push(GradCase::new(
        "conv2d → max_pool2d → flatten",
        vec![
            distinct(&[2, 2, 4, 4], r),
            normal(&cfg.weight_shape(), r),
            normal(&[3], r),
        ],
        move |_, v| {
            let y = conv(v[0], v[1], Some(v[2]), &cfg)?;
            MaxPool2d::new([2, 2]).try_forward(y)?.flatten_from(1)
        },
    ));
    c
}

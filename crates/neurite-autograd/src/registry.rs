//! The gradient-check cases of every op of neurite-autograd, on several seeded random shapes
//! (broadcasting and size-1 cases included). `cargo xtask gradcheck` runs them with the cases
//! of neurite-nn, neurite-cnn and neurite-rnn.

use neurite_tensor::{Rng, Tensor};

use crate::gradcheck::GradCase;
use crate::ops::shape::{concat, stack};

fn normal(shape: &[usize], rng: &mut Rng) -> Tensor<f64> {
    Tensor::rand_normal(shape, 0.0, 1.0, rng)
}

/// Values in [0.5, 2): safe for ln, sqrt, recip, pow.
fn positive(shape: &[usize], rng: &mut Rng) -> Tensor<f64> {
    Tensor::rand_uniform(shape, 0.5, 2.0, rng)
}

/// Values with |x| ≥ 0.1, away from the kinks of abs, relu and friends.
fn away_from_zero(shape: &[usize], rng: &mut Rng) -> Tensor<f64> {
    let t = Tensor::rand_uniform(shape, 0.1, 2.0, rng);
    let s = Tensor::rand_uniform(shape, -1.0, 1.0, rng).sign();
    t.mul(&s).expect("same shape") // ok: same shapes by construction
}

/// Every gradient-check case of neurite-autograd's ops.
pub fn cases() -> Vec<GradCase> {
    let mut rng = Rng::new(2024);
    let r = &mut rng;
    let mut c = Vec::new();

    // Broadcasting binary ops: same shape, row, column, scalar, leading dims, both-sided.
    let pairs: &[(&[usize], &[usize])] = &[
        (&[3, 4], &[3, 4]),
        (&[3, 4], &[4]),
        (&[3, 1], &[1, 4]),
        (&[2, 3, 4], &[3, 1]),
        (&[1], &[2, 3]),
        (&[], &[2, 2]),
    ];
    for &(sa, sb) in pairs {
        c.push(GradCase::new(
            "add",
            vec![normal(sa, r), normal(sb, r)],
            |_, v| v[0].add(v[1]),
        ));
        c.push(GradCase::new(
            "sub",
            vec![normal(sa, r), normal(sb, r)],
            |_, v| v[0].sub(v[1]),
        ));
        c.push(GradCase::new(
            "mul",
            vec![normal(sa, r), normal(sb, r)],
            |_, v| v[0].mul(v[1]),
        ));
        c.push(GradCase::new(
            "div",
            vec![normal(sa, r), positive(sb, r)],
            |_, v| v[0].div(v[1]),
        ));
        c.push(GradCase::new(
            "maximum",
            vec![normal(sa, r), normal(sb, r)],
            |_, v| v[0].maximum(v[1]),
        ));
        c.push(GradCase::new(
            "minimum",
            vec![normal(sa, r), normal(sb, r)],
            |_, v| v[0].minimum(v[1]),
        ));
        c.push(GradCase::new(
            "pow",
            vec![positive(sa, r), normal(sb, r)],
            |_, v| v[0].pow(v[1]),
        ));
    }
    // A value used twice: gradients accumulate.
    c.push(GradCase::new(
        "mul (x·x, reuse)",
        vec![normal(&[5], r)],
        |_, v| v[0].mul(v[0]),
    ));

    for shape in [&[4usize, 3][..], &[1], &[2, 1, 3]] {
        c.push(GradCase::new("neg", vec![normal(shape, r)], |_, v| {
            v[0].neg()
        }));
        c.push(GradCase::new("exp", vec![normal(shape, r)], |_, v| {
            v[0].exp()
        }));
        c.push(GradCase::new("ln", vec![positive(shape, r)], |_, v| {
            v[0].ln()
        }));
        c.push(GradCase::new("sqrt", vec![positive(shape, r)], |_, v| {
            v[0].sqrt()
        }));
        c.push(GradCase::new(
            "abs",
            vec![away_from_zero(shape, r)],
            |_, v| v[0].abs(),
        ));
        c.push(GradCase::new("square", vec![normal(shape, r)], |_, v| {
            v[0].square()
        }));
        c.push(GradCase::new("recip", vec![positive(shape, r)], |_, v| {
            v[0].recip()
        }));
        c.push(GradCase::new("tanh", vec![normal(shape, r)], |_, v| {
            v[0].tanh()
        }));
        c.push(GradCase::new("sigmoid", vec![normal(shape, r)], |_, v| {
            v[0].sigmoid()
        }));
        c.push(GradCase::new(
            "relu",
            vec![away_from_zero(shape, r)],
            |_, v| v[0].relu(),
        ));
        c.push(GradCase::new("softplus", vec![normal(shape, r)], |_, v| {
            v[0].softplus()
        }));
        c.push(GradCase::new("gelu", vec![normal(shape, r)], |_, v| {
            v[0].gelu()
        }));
        c.push(GradCase::new(
            "leaky_relu",
            vec![away_from_zero(shape, r)],
            |_, v| v[0].leaky_relu(0.1),
        ));
        c.push(GradCase::new(
            "elu",
            vec![away_from_zero(shape, r)],
            |_, v| v[0].elu(1.0),
        ));
        c.push(GradCase::new("powf", vec![positive(shape, r)], |_, v| {
            v[0].powf(2.5)
        }));
        c.push(GradCase::new(
            "add_scalar",
            vec![normal(shape, r)],
            |_, v| v[0].add_scalar(3.0),
        ));
        c.push(GradCase::new(
            "mul_scalar",
            vec![normal(shape, r)],
            |_, v| v[0].mul_scalar(-1.5),
        ));
        c.push(GradCase::new(
            "clamp",
            vec![away_from_zero(shape, r).mul_scalar(2.0)],
            |_, v| v[0].clamp(-1.0, 1.0),
        ));
        c.push(GradCase::new("dropout", vec![normal(shape, r)], |_, v| {
            // A fixed seed per evaluation: the same mask for the analytic and numeric passes.
            let mut rng = Rng::new(7);
            v[0].dropout(0.3, &mut rng)
        }));
    }

    for shape in [&[3usize, 4, 2][..], &[1, 5], &[4]] {
        let nd = shape.len();
        c.push(GradCase::new("sum_all", vec![normal(shape, r)], |_, v| {
            v[0].sum()
        }));
        c.push(GradCase::new("mean_all", vec![normal(shape, r)], |_, v| {
            v[0].mean()
        }));
        c.push(GradCase::new(
            "sum_axes",
            vec![normal(shape, r)],
            move |_, v| v[0].sum_axes(&[nd - 1], false),
        ));
        c.push(GradCase::new(
            "sum_axes (keepdim, first)",
            vec![normal(shape, r)],
            |_, v| v[0].sum_axes(&[0], true),
        ));
        let mean_axes: Vec<usize> = if nd > 1 { vec![0, nd - 1] } else { vec![0] };
        c.push(GradCase::new(
            "mean_axes",
            vec![normal(shape, r)],
            move |_, v| v[0].mean_axes(&mean_axes, true),
        ));
        c.push(GradCase::new(
            "max_axis",
            vec![normal(shape, r)],
            move |_, v| v[0].max_axis(nd - 1, false),
        ));
        c.push(GradCase::new("min_axis", vec![normal(shape, r)], |_, v| {
            v[0].min_axis(0, true)
        }));
        c.push(GradCase::new(
            "logsumexp",
            vec![normal(shape, r)],
            move |_, v| v[0].logsumexp(nd - 1, false),
        ));
        c.push(GradCase::new(
            "softmax",
            vec![normal(shape, r)],
            move |_, v| v[0].softmax(nd - 1),
        ));
        c.push(GradCase::new(
            "softmax (axis 0)",
            vec![normal(shape, r)],
            |_, v| v[0].softmax(0),
        ));
        c.push(GradCase::new(
            "log_softmax",
            vec![normal(shape, r)],
            move |_, v| v[0].log_softmax(nd - 1),
        ));
    }
    c.push(GradCase::new("gather", vec![normal(&[4, 3], r)], |_, v| {
        v[0].gather(&[2, 0, 1, 2])
    }));

    let mm: &[(&[usize], &[usize])] = &[
        (&[3, 4], &[4, 2]),
        (&[1, 5], &[5, 1]),
        (&[2, 3, 4], &[2, 4, 5]),
        (&[2, 3, 4], &[4, 2]),
        (&[3, 4], &[2, 4, 2]),
        (&[2, 1, 3, 2], &[3, 2, 4]),
    ];
    for &(sa, sb) in mm {
        c.push(GradCase::new(
            "matmul",
            vec![normal(sa, r), normal(sb, r)],
            |_, v| v[0].matmul(v[1]),
        ));
    }
    c.push(GradCase::new(
        "matmul (Aᵀ·B, strided)",
        vec![normal(&[4, 3], r), normal(&[4, 2], r)],
        |_, v| v[0].t()?.matmul(v[1]),
    ));

    c.push(GradCase::new(
        "reshape",
        vec![normal(&[2, 6], r)],
        |_, v| v[0].reshape(&[3, 4])?.mul(v[0].reshape(&[3, 4])?),
    ));
    c.push(GradCase::new(
        "permute",
        vec![normal(&[2, 3, 4], r)],
        |_, v| v[0].permute(&[2, 0, 1])?.exp(),
    ));
    c.push(GradCase::new(
        "transpose",
        vec![normal(&[3, 2], r)],
        |_, v| v[0].t()?.tanh(),
    ));
    c.push(GradCase::new("narrow", vec![normal(&[5, 3], r)], |_, v| {
        v[0].narrow(0, 1, 3)
    }));
    c.push(GradCase::new("slice", vec![normal(&[3, 7], r)], |_, v| {
        v[0].slice(1, 1, 7, 2)
    }));
    c.push(GradCase::new(
        "squeeze/unsqueeze",
        vec![normal(&[3, 1], r)],
        |_, v| v[0].squeeze(1)?.unsqueeze(0),
    ));
    c.push(GradCase::new(
        "concat",
        vec![normal(&[2, 3], r), normal(&[4, 3], r)],
        |_, v| concat(&[v[0], v[1]], 0),
    ));
    c.push(GradCase::new(
        "concat (axis 1)",
        vec![normal(&[2, 3], r), normal(&[2, 1], r)],
        |_, v| concat(&[v[0], v[1], v[0]], 1),
    ));
    c.push(GradCase::new(
        "stack",
        vec![normal(&[2, 3], r), normal(&[2, 3], r)],
        |_, v| stack(&[v[0], v[1]], 1),
    ));
    c.push(GradCase::new(
        "broadcast_to",
        vec![normal(&[3, 1], r)],
        |_, v| v[0].broadcast_to(&[2, 3, 4]),
    ));
    c.push(GradCase::new(
        "index_select",
        vec![normal(&[5, 3], r)],
        |_, v| v[0].index_select(0, &[4, 0, 4, 2]),
    ));
    c.push(GradCase::new(
        "index_select (axis 1)",
        vec![normal(&[2, 4], r)],
        |_, v| v[0].index_select(1, &[3, 3, 1]),
    ));
    c.push(GradCase::new(
        "index_add",
        vec![normal(&[4, 3], r), normal(&[3, 3], r)],
        |_, v| v[0].index_add(0, &[1, 3, 1], v[1]),
    ));
    c
}

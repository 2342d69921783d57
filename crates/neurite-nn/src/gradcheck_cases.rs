//! The gradient-check cases of neurite-nn: every layer (through its functional core, so the
//! parameters' gradients are checked too, and through the layer itself) and every loss, on
//! several seeded random shapes with odd and size-1 cases. `cargo xtask gradcheck` runs them.

use neurite_autograd::{AutogradError, GradCase, Graph, Var};
use neurite_tensor::{Rng, Tensor};

use crate::{
    batch_norm, bce_with_logits, bce_with_logits_with, binary_cross_entropy,
    binary_cross_entropy_with, cross_entropy, cross_entropy_with, embedding, huber, huber_with, l1,
    l1_with, layer_norm, linear, mse, mse_with, nll, nll_with, BatchNorm1d, BatchNorm2d,
    CrossEntropyOptions, Dropout, Elu, Embedding, Flatten, Gelu, LayerNorm, LeakyRelu, Linear,
    LogSoftmax, Module, Reduction, Relu, Sequential, Sigmoid, Softmax, Softplus, Stats, Tanh,
};

/// Every op name neurite-nn records with its own backward rule.
pub const OPS: &[&str] = &[
    "linear",
    "batch_norm",
    "cross_entropy",
    "bce_with_logits",
    "binary_cross_entropy",
    "huber",
];

/// A case whose function returns neurite-nn's error (converted for the gradient checker).
fn case(
    name: &str,
    inputs: Vec<Tensor<f64>>,
    f: impl for<'g> Fn(&'g Graph<f64>, &[Var<'g, f64>]) -> crate::Result<Var<'g, f64>>
        + Send
        + Sync
        + 'static,
) -> GradCase {
    GradCase::new(name, inputs, move |g, v| {
        f(g, v).map_err(|e| match e {
            crate::NnError::Autograd(e) => e,
            other => AutogradError::invalid("neurite-nn gradcheck case", other.to_string()),
        })
    })
}

fn normal(shape: &[usize], rng: &mut Rng) -> Tensor<f64> {
    Tensor::rand_normal(shape, 0.0, 1.0, rng)
}

/// Values with |x| ≥ 0.1, away from the kinks of ReLU and friends.
fn away_from_zero(shape: &[usize], rng: &mut Rng) -> Tensor<f64> {
    let t = Tensor::rand_uniform(shape, 0.1, 2.0, rng);
    let s = Tensor::rand_uniform(shape, -1.0, 1.0, rng).sign();
    t.mul(&s).expect("same shape") // ok: same shapes by construction
}

fn labels(n: usize, classes: usize, rng: &mut Rng) -> Vec<usize> {
    (0..n).map(|_| rng.below(classes)).collect()
}

/// Every gradient-check case of neurite-nn's layers and losses.
pub fn cases() -> Vec<GradCase> {
    let mut rng = Rng::new(4044);
    let r = &mut rng;
    let mut c = Vec::new();

    // The fused linear op: x [.., in], weight [out, in], bias [out].
    for (xs, out) in [
        (&[4usize, 7][..], 3usize),
        (&[1, 1], 1),
        (&[2, 3, 5], 4),
        (&[5], 2),
    ] {
        let inf = xs[xs.len() - 1];
        c.push(case(
            "linear",
            vec![normal(xs, r), normal(&[out, inf], r), normal(&[out], r)],
            |_, v| linear(v[0], v[1], Some(v[2])),
        ));
        c.push(case(
            "linear (no bias)",
            vec![normal(xs, r), normal(&[out, inf], r)],
            |_, v| linear(v[0], v[1], None),
        ));
    }
    // A transposed (strided) input.
    c.push(case(
        "linear (transposed input)",
        vec![normal(&[6, 3], r), normal(&[2, 6], r), normal(&[2], r)],
        |_, v| linear(v[0].t()?, v[1], Some(v[2])),
    ));
    // The layers themselves, input gradient through a seeded instance.
    for (n, i, o) in [(3usize, 5usize, 4usize), (1, 1, 1), (2, 8, 3)] {
        c.push(case("Linear", vec![normal(&[n, i], r)], move |g, v| {
            let l = Linear::new(i, o, &mut Rng::new(7))?;
            l.forward(g, v[0])
        }));
        c.push(case(
            "Sequential(Linear, Tanh, Linear)",
            vec![normal(&[n, i], r)],
            move |g, v| {
                let mut rng = Rng::new(8);
                let m = Sequential::new()
                    .add(Linear::new(i, 6, &mut rng)?)
                    .add(Tanh)
                    .add(Linear::new(6, o, &mut rng)?);
                m.forward(g, v[0])
            },
        ));
    }

    // Activations as layers.
    for shape in [&[4usize, 3][..], &[1], &[2, 1, 5]] {
        c.push(case("Sigmoid", vec![normal(shape, r)], |g, v| {
            Sigmoid.forward(g, v[0])
        }));
        c.push(case("Tanh", vec![normal(shape, r)], |g, v| {
            Tanh.forward(g, v[0])
        }));
        c.push(case("Relu", vec![away_from_zero(shape, r)], |g, v| {
            Relu.forward(g, v[0])
        }));
        c.push(case("Gelu", vec![normal(shape, r)], |g, v| {
            Gelu.forward(g, v[0])
        }));
        c.push(case("Softplus", vec![normal(shape, r)], |g, v| {
            Softplus.forward(g, v[0])
        }));
        c.push(case("LeakyRelu", vec![away_from_zero(shape, r)], |g, v| {
            LeakyRelu::new(0.2)?.forward(g, v[0])
        }));
        c.push(case("Elu", vec![away_from_zero(shape, r)], |g, v| {
            Elu::new(0.7)?.forward(g, v[0])
        }));
        c.push(case("Softmax", vec![normal(shape, r)], |g, v| {
            Softmax::default().forward(g, v[0])
        }));
        c.push(case("LogSoftmax", vec![normal(shape, r)], |g, v| {
            LogSoftmax::default().forward(g, v[0])
        }));
        c.push(case(
            "Dropout",
            vec![normal(shape, r)],
            // A fresh layer with the same seed each evaluation: the same mask.
            |g, v| Dropout::new(0.4, 11)?.forward(g, v[0]),
        ));
    }
    c.push(case(
        "Softmax (axis 0)",
        vec![normal(&[3, 4], r)],
        |g, v| Softmax::new(0).forward(g, v[0]),
    ));
    c.push(case("Flatten", vec![normal(&[2, 3, 1, 2], r)], |g, v| {
        let y = Flatten::default().forward(g, v[0])?;
        Ok(y.mul(v[0].reshape(&[2, 6])?)?)
    }));

    // Embedding: the weight's gradient (repeated indices accumulate) and the layer.
    for (num, dim, idx) in [
        (5usize, 3usize, vec![0usize, 4, 2, 4]),
        (1, 1, vec![0]),
        (7, 2, vec![6, 6, 6]),
    ] {
        c.push(case(
            "embedding",
            vec![normal(&[num, dim], r)],
            move |_, v| embedding(v[0], &idx),
        ));
    }
    c.push(case(
        "Embedding (then Linear)",
        vec![normal(&[2, 3], r)],
        |g, v| {
            let mut rng = Rng::new(9);
            let e = Embedding::new(4, 3, &mut rng)?;
            let ids = g.constant(Tensor::from_vec(vec![1.0, 3.0, 3.0, 0.0], &[2, 2])?);
            // [2, 2, 3] looked-up rows times a function of the input.
            Ok(e.forward(g, ids)?.mul(v[0].unsqueeze(1)?)?)
        },
    ));

    // LayerNorm: input, weight and bias gradients.
    for (xs, k) in [(&[3usize, 5][..], 1usize), (&[2, 3, 4], 2), (&[4, 1], 1)] {
        let ns = &xs[xs.len() - k..];
        c.push(case(
            "layer_norm",
            vec![normal(xs, r), normal(ns, r), normal(ns, r)],
            move |_, v| layer_norm(v[0], k, Some(v[1]), Some(v[2]), 1e-5),
        ));
    }
    c.push(case("LayerNorm", vec![normal(&[3, 6], r)], |g, v| {
        LayerNorm::new(&[6])?.forward(g, v[0])
    }));

    // Batch norm: batch statistics (training) and fixed ones (evaluation), with and without
    // the affine parameters, over [N, C], [N, C, L] and [N, C, H, W].
    for xs in [&[5usize, 3][..], &[3, 2, 4], &[2, 3, 2, 3], &[2, 1, 1, 2]] {
        let ch = xs[1];
        let xs_v = xs.to_vec();
        c.push(case(
            "batch_norm (batch statistics)",
            vec![normal(xs, r), normal(&[ch], r), normal(&[ch], r)],
            |_, v| Ok(batch_norm(v[0], Some(v[1]), Some(v[2]), Stats::Batch, 1e-5)?.0),
        ));
        c.push(case(
            "batch_norm (batch statistics, no affine)",
            vec![normal(xs, r)],
            |_, v| Ok(batch_norm(v[0], None, None, Stats::Batch, 1e-3)?.0),
        ));
        let mean = normal(&[ch], r);
        let var = Tensor::rand_uniform(&[ch], 0.5, 2.0, r);
        c.push(case(
            "batch_norm (running statistics)",
            vec![normal(xs, r), normal(&[ch], r), normal(&[ch], r)],
            move |_, v| {
                let stats = Stats::Running {
                    mean: &mean,
                    var: &var,
                };
                Ok(batch_norm(v[0], Some(v[1]), Some(v[2]), stats, 1e-5)?.0)
            },
        ));
        c.push(case(
            "BatchNorm (layer, training)",
            vec![normal(xs, r)],
            move |g, v| {
                if xs_v.len() == 4 {
                    BatchNorm2d::new(ch)?.forward(g, v[0])
                } else {
                    BatchNorm1d::new(ch)?.forward(g, v[0])
                }
            },
        ));
    }

    // Losses.
    for shape in [&[4usize, 3][..], &[1], &[5]] {
        c.push(case(
            "mse",
            vec![normal(shape, r), normal(shape, r)],
            |_, v| mse(v[0], v[1]),
        ));
        // Differences kept away from 0 (the kink of |d|).
        let a = normal(shape, r);
        let b = a.sub(&away_from_zero(shape, r)).expect("same shape"); // ok: same shapes
        c.push(case("l1", vec![a.clone(), b.clone()], |_, v| {
            l1(v[0], v[1])
        }));
        // Pick δ away from every |d| (the switch between the quadratic and linear parts).
        let d: Vec<f64> = a.sub(&b).expect("same shape").to_vec(); // ok: same shapes
        let delta = [0.05, 0.75, 1.3, 2.5]
            .into_iter()
            .find(|delta| d.iter().all(|x| (x.abs() - delta).abs() > 0.05))
            .unwrap_or(2.5);
        c.push(case("huber", vec![a, b], move |_, v| {
            huber(v[0], v[1], delta)
        }));
        c.push(case(
            "bce_with_logits",
            vec![
                Tensor::rand_normal(shape, 0.0, 3.0, r),
                Tensor::rand_uniform(shape, 0.05, 0.95, r),
            ],
            |_, v| bce_with_logits(v[0], v[1]),
        ));
        c.push(case(
            "binary_cross_entropy",
            vec![
                Tensor::rand_uniform(shape, 0.05, 0.95, r),
                Tensor::rand_uniform(shape, 0.0, 1.0, r),
            ],
            |_, v| binary_cross_entropy(v[0], v[1]),
        ));
    }
    for (n, k) in [(4usize, 3usize), (1, 1), (5, 7), (2, 2)] {
        let y = labels(n, k, r);
        let y2 = y.clone();
        c.push(case(
            "cross_entropy",
            vec![Tensor::rand_normal(&[n, k], 0.0, 2.0, r)],
            move |_, v| cross_entropy(v[0], &y2),
        ));
        let weights: Vec<f64> = (0..k).map(|_| r.uniform_range(0.2, 2.0)).collect();
        for (smoothing, w) in [
            (0.1, None),
            (0.0, Some(weights.clone())),
            (0.2, Some(weights)),
        ] {
            let y = y.clone();
            let opts = CrossEntropyOptions {
                label_smoothing: smoothing,
                class_weights: w,
                ..Default::default()
            };
            c.push(case(
                "cross_entropy (smoothing / weights)",
                vec![Tensor::rand_normal(&[n, k], 0.0, 2.0, r)],
                move |_, v| cross_entropy_with(v[0], &y, &opts),
            ));
        }
        let y3 = y.clone();
        c.push(case("nll", vec![normal(&[n, k], r)], move |_, v| {
            nll(v[0].log_softmax(1)?, &y3, None)
        }));
        let w: Vec<f64> = (0..k).map(|i| 0.5 + i as f64).collect();
        c.push(case(
            "nll (weights)",
            vec![normal(&[n, k], r)],
            move |_, v| nll(v[0], &y, Some(&w)),
        ));
    }

    // Every loss under the sum and no reduction (the mean is above).
    for red in [Reduction::Sum, Reduction::None] {
        for shape in [&[3usize, 2][..], &[1]] {
            c.push(case(
                "mse (sum / none)",
                vec![normal(shape, r), normal(shape, r)],
                move |_, v| mse_with(v[0], v[1], red),
            ));
            let a = normal(shape, r);
            let b = a.sub(&away_from_zero(shape, r)).expect("same shape"); // ok: same shapes
            c.push(case(
                "l1 (sum / none)",
                vec![a.clone(), b.clone()],
                move |_, v| l1_with(v[0], v[1], red),
            ));
            let d: Vec<f64> = a.sub(&b).expect("same shape").to_vec(); // ok: same shapes
            let delta = [0.05, 0.75, 1.3, 2.5]
                .into_iter()
                .find(|delta| d.iter().all(|x| (x.abs() - delta).abs() > 0.05))
                .unwrap_or(2.5);
            c.push(case("huber (sum / none)", vec![a, b], move |_, v| {
                huber_with(v[0], v[1], delta, red)
            }));
            c.push(case(
                "bce_with_logits (sum / none)",
                vec![
                    Tensor::rand_normal(shape, 0.0, 3.0, r),
                    Tensor::rand_uniform(shape, 0.05, 0.95, r),
                ],
                move |_, v| bce_with_logits_with(v[0], v[1], red),
            ));
            c.push(case(
                "binary_cross_entropy (sum / none)",
                vec![
                    Tensor::rand_uniform(shape, 0.05, 0.95, r),
                    Tensor::rand_uniform(shape, 0.0, 1.0, r),
                ],
                move |_, v| binary_cross_entropy_with(v[0], v[1], red),
            ));
        }
        for (n, k) in [(4usize, 3usize), (1, 2)] {
            let y = labels(n, k, r);
            let weights: Vec<f64> = (0..k).map(|_| r.uniform_range(0.2, 2.0)).collect();
            for (smoothing, w) in [(0.0, None), (0.15, Some(weights.clone()))] {
                let y = y.clone();
                let opts = CrossEntropyOptions {
                    label_smoothing: smoothing,
                    class_weights: w,
                    reduction: red,
                };
                c.push(case(
                    "cross_entropy (sum / none)",
                    vec![Tensor::rand_normal(&[n, k], 0.0, 2.0, r)],
                    move |_, v| cross_entropy_with(v[0], &y, &opts),
                ));
            }
            let y2 = y.clone();
            c.push(case(
                "nll (sum / none)",
                vec![normal(&[n, k], r)],
                move |_, v| nll_with(v[0], &y2, None, red),
            ));
            c.push(case(
                "nll (weights, sum / none)",
                vec![normal(&[n, k], r)],
                move |_, v| nll_with(v[0], &y, Some(&weights), red),
            ));
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use neurite_autograd::{check_suite, GradcheckOptions};

    #[test]
    fn every_case_passes_and_every_op_is_covered() {
        let cases = super::cases();
        assert!(cases.len() > 60, "{} cases", cases.len());
        if let Err(e) = check_suite(&cases, super::OPS, &GradcheckOptions::default()) {
            panic!("{e}");
        }
    }
}

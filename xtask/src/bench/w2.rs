//! W2: the MLP of BENCHMARKS.md — 784 → 256 → 128 → 10, ReLU, softmax cross-entropy, plain SGD
//! (lr 0.01), batch 128 — one full training step (forward, backward, update) per iteration.
//! Metric: steps per second.
//!
//! - `W2-mlp-train`: through neurite-nn and the autograd graph, as a user writes it.
//! - `W2-mlp-train-nograph`: the same arithmetic with hand-written kernels and no graph (GEMMs
//!   into preallocated buffers, the SGD update fused into the weight-gradient GEMM): the floor
//!   the graph's overhead is measured against.

use neurite::autograd::{Graph, Var};
use neurite::nn::{cross_entropy, Linear, Module, Optimizer, Relu, Sgd};
use neurite::tensor::ndarray::{ArrayView2, ArrayViewMut2};
use neurite::tensor::{gemm, simd, Rng, Tensor};

use super::{seconds, Workload};

const BATCH: usize = 128;
const SIZES: [usize; 4] = [784, 256, 128, 10];
const LR: f32 = 0.01;

/// The W2 network with concrete layer types (so the workload closure is `Send`).
struct W2Net {
    l1: Linear<f32>,
    l2: Linear<f32>,
    l3: Linear<f32>,
}

impl W2Net {
    fn new(rng: &mut Rng) -> Self {
        let lin = |i, o, rng: &mut Rng| Linear::new(i, o, rng).expect("valid W2 linear");
        W2Net {
            l1: lin(SIZES[0], SIZES[1], rng),
            l2: lin(SIZES[1], SIZES[2], rng),
            l3: lin(SIZES[2], SIZES[3], rng),
        }
    }
}

impl Module<f32> for W2Net {
    fn forward<'g>(&self, g: &'g Graph<f32>, x: Var<'g, f32>) -> neurite::nn::Result<Var<'g, f32>> {
        let h = Relu.forward(g, self.l1.forward(g, x)?)?;
        let h = Relu.forward(g, self.l2.forward(g, h)?)?;
        self.l3.forward(g, h)
    }
    neurite::nn::walk!(f32; module l1 as 0, module l2 as 2, module l3 as 4);
}

/// Seeded inputs in [0, 1) (never all zeros) and labels.
fn data() -> (Tensor<f32>, Vec<usize>) {
    let mut rng = Rng::new(3);
    let x = Tensor::rand_uniform(&[BATCH, SIZES[0]], 0.0, 1.0, &mut rng);
    let labels = (0..BATCH).map(|_| rng.below(SIZES[3])).collect();
    (x, labels)
}

/// One training step through the graph.
fn graph_step(net: &mut W2Net, opt: &mut Sgd<f32>, x: &Tensor<f32>, labels: &[usize]) -> f32 {
    let g = Graph::new();
    let logits = net.forward(&g, g.constant(x.clone())).expect("W2 shapes");
    let loss = cross_entropy(logits, labels).expect("W2 labels");
    let value = loss.item().expect("scalar loss");
    let grads = loss.backward().expect("backward");
    opt.step(net, &grads).expect("SGD step");
    value
}

/// The W2 network as plain buffers with hand-written forward / backward kernels.
struct Handwritten {
    /// Weights [out, in] and biases [out] per layer.
    w: Vec<Vec<f32>>,
    b: Vec<Vec<f32>>,
    /// Activations per layer output [batch, out] (post-ReLU for hidden layers; logits last).
    act: Vec<Vec<f32>>,
    /// Upstream gradients per layer output [batch, out].
    grad: Vec<Vec<f32>>,
}

fn view(s: &[f32], r: usize, c: usize) -> ArrayView2<'_, f32> {
    ArrayView2::from_shape((r, c), s).expect("buffer sized r·c")
}

fn view_mut(s: &mut [f32], r: usize, c: usize) -> ArrayViewMut2<'_, f32> {
    ArrayViewMut2::from_shape((r, c), s).expect("buffer sized r·c")
}

impl Handwritten {
    fn from_net(net: &W2Net) -> Self {
        let layers = [&net.l1, &net.l2, &net.l3];
        Handwritten {
            w: layers.iter().map(|l| l.weight.value().to_vec()).collect(),
            b: layers
                .iter()
                .map(|l| l.bias.as_ref().expect("bias").value().to_vec())
                .collect(),
            act: SIZES[1..].iter().map(|&n| vec![0.0; BATCH * n]).collect(),
            grad: SIZES[1..].iter().map(|&n| vec![0.0; BATCH * n]).collect(),
        }
    }

    #[inline(always)] // into `simd::run`: compiled for the level
    fn step(&mut self, x: &[f32], labels: &[usize]) -> f32 {
        // Forward: act_l = relu(in_l · W_lᵀ + b_l), bias first, GEMM accumulating onto it.
        for l in 0..3 {
            let (fan_in, fan_out) = (SIZES[l], SIZES[l + 1]);
            let (before, rest) = self.act.split_at_mut(l);
            let out = &mut rest[0];
            for row in out.chunks_exact_mut(fan_out) {
                row.copy_from_slice(&self.b[l]);
            }
            let input = if l == 0 { x } else { &before[l - 1][..] };
            gemm(
                1.0,
                &view(input, BATCH, fan_in),
                &view(&self.w[l], fan_out, fan_in).t(),
                1.0,
                &mut view_mut(out, BATCH, fan_out),
            )
            .expect("W2 shapes");
            if l < 2 {
                out.iter_mut().for_each(|v| *v = v.max(0.0));
            }
        }
        // Softmax cross-entropy: loss and ∂loss/∂logits = (softmax − one-hot)/batch.
        let classes = SIZES[3];
        let mut loss = 0.0;
        for (i, (z, d)) in self.act[2]
            .chunks_exact(classes)
            .zip(self.grad[2].chunks_exact_mut(classes))
            .enumerate()
        {
            let m = z.iter().fold(f32::NEG_INFINITY, |a, &v| a.max(v));
            let mut sum = 0.0;
            for (dk, &zk) in d.iter_mut().zip(z) {
                *dk = (zk - m).exp();
                sum += *dk;
            }
            loss += m + sum.ln() - z[labels[i]];
            for dk in d.iter_mut() {
                *dk /= sum * BATCH as f32;
            }
            d[labels[i]] -= 1.0 / BATCH as f32;
        }
        // Backward, last layer first: downstream = upstream · W (with the old W), then the
        // update W ← W − α·upstreamᵀ·input fused into one GEMM, and b ← b − α·Σ_rows upstream.
        for l in (0..3).rev() {
            let (fan_in, fan_out) = (SIZES[l], SIZES[l + 1]);
            if l > 0 {
                let (lower, upper) = self.grad.split_at_mut(l);
                gemm(
                    1.0,
                    &view(&upper[0], BATCH, fan_out),
                    &view(&self.w[l], fan_out, fan_in),
                    0.0,
                    &mut view_mut(&mut lower[l - 1], BATCH, fan_in),
                )
                .expect("W2 shapes");
                // ReLU: the gradient passes where the activation was positive.
                // (A select, not a conditional store: it vectorises without masked stores.)
                for (d, &a) in lower[l - 1].iter_mut().zip(&self.act[l - 1]) {
                    *d = if a > 0.0 { *d } else { 0.0 };
                }
            }
            let input = if l == 0 { x } else { &self.act[l - 1][..] };
            gemm(
                -LR,
                &view(&self.grad[l], BATCH, fan_out).t(),
                &view(input, BATCH, fan_in),
                1.0,
                &mut view_mut(&mut self.w[l], fan_out, fan_in),
            )
            .expect("W2 shapes");
            for row in self.grad[l].chunks_exact(fan_out) {
                for (b, &g) in self.b[l].iter_mut().zip(row) {
                    *b -= LR * g;
                }
            }
        }
        loss / BATCH as f32
    }
}

/// One hand-written step as a [`simd::Kernel`]: its loops always compile for the level.
struct Step<'a> {
    net: &'a mut Handwritten,
    x: &'a [f32],
    labels: &'a [usize],
}

impl simd::Kernel for Step<'_> {
    type Output = f32;
    #[inline(always)]
    fn call(self) -> f32 {
        self.net.step(self.x, self.labels)
    }
}

pub fn workloads(quick: bool) -> Vec<Workload> {
    let steps = if quick { 20 } else { 300 };
    let mut net = W2Net::new(&mut Rng::new(1));
    let mut opt = Sgd::new(LR as f64).expect("valid learning rate");
    let (x, labels) = data();
    let mut hand = Handwritten::from_net(&W2Net::new(&mut Rng::new(1)));
    let (x2, labels2) = data();
    vec![
        Workload {
            name: "W2-mlp-train".into(),
            metric: "steps_per_s",
            run: Box::new(move |_| {
                let s = seconds(|| {
                    for _ in 0..steps {
                        std::hint::black_box(graph_step(&mut net, &mut opt, &x, &labels));
                    }
                });
                steps as f64 / s
            }),
        },
        Workload {
            name: "W2-mlp-train-nograph".into(),
            metric: "steps_per_s",
            run: Box::new(move |_| {
                let xs = x2.as_slice().expect("contiguous input");
                // Compiled for the CPU's SIMD level like neurite's own kernels: a floor built for
                // baseline x86-64 in the plain build would not be the floor.
                let level = simd::level();
                let s = seconds(|| {
                    for _ in 0..steps {
                        let step = Step {
                            net: &mut hand,
                            x: xs,
                            labels: &labels2,
                        };
                        std::hint::black_box(simd::run(level, step));
                    }
                });
                steps as f64 / s
            }),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written step and the graph step compute the same training run.
    #[test]
    fn handwritten_step_matches_the_graph() {
        let mut net = W2Net::new(&mut Rng::new(1));
        let mut hand = Handwritten::from_net(&net);
        let mut opt = Sgd::new(LR as f64).unwrap();
        let (x, labels) = data();
        for _ in 0..3 {
            let a = graph_step(&mut net, &mut opt, &x, &labels);
            let b = hand.step(x.as_slice().unwrap(), &labels);
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
        let w = net.l1.weight.value().to_vec();
        let max = w
            .iter()
            .zip(&hand.w[0])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(max < 1e-5, "{max}");
    }
}

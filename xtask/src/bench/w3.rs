//! W3: the CNN of BENCHMARKS.md on batches of 64×1×28×28 — conv 1→16 3×3 pad 1, ReLU, max-pool
//! 2; conv 16→32 3×3 pad 1, ReLU, max-pool 2; flatten; linear 1568→128, ReLU; linear 128→10;
//! softmax cross-entropy. W3-cnn-train: one full SGD step (lr 0.01); W3-cnn-infer: forward
//! only, no graph recorded. Metric: images per second.

use neurite::autograd::{Graph, Var};
use neurite::cnn::{Conv2d, ConvConfig, Flatten, MaxPool2d};
use neurite::nn::{cross_entropy, Linear, Module, Optimizer, Relu, Sgd};
use neurite::tensor::{Rng, Tensor};

use super::{seconds, Workload};

const BATCH: usize = 64;

/// The W3 network with concrete layer types (so the workload closure is `Send`).
struct W3Net {
    conv1: Conv2d<f32>,
    conv2: Conv2d<f32>,
    fc1: Linear<f32>,
    fc2: Linear<f32>,
}

impl W3Net {
    fn new(rng: &mut Rng) -> Self {
        let conv = |i, o, rng: &mut Rng| {
            Conv2d::new(ConvConfig::new(i, o, [3, 3]).with_padding([1, 1]), rng)
                .expect("valid W3 convolution")
        };
        W3Net {
            conv1: conv(1, 16, rng),
            conv2: conv(16, 32, rng),
            fc1: Linear::new(32 * 7 * 7, 128, rng).expect("valid W3 linear"),
            fc2: Linear::new(128, 10, rng).expect("valid W3 linear"),
        }
    }
}

impl Module<f32> for W3Net {
    fn forward<'g>(&self, g: &'g Graph<f32>, x: Var<'g, f32>) -> neurite::nn::Result<Var<'g, f32>> {
        let pool = MaxPool2d::new([2, 2]);
        let x = pool.forward(g, Relu.forward(g, self.conv1.forward(g, x)?)?)?;
        let x = pool.forward(g, Relu.forward(g, self.conv2.forward(g, x)?)?)?;
        let x = Module::<f32>::forward(&Flatten::default(), g, x)?;
        let x = Relu.forward(g, self.fc1.forward(g, x)?)?;
        self.fc2.forward(g, x)
    }
    neurite::nn::walk!(f32; module conv1, module conv2, module fc1, module fc2);
}

/// Seeded inputs in [0, 1) (never all zeros) and labels.
fn data() -> (Tensor<f32>, Vec<usize>) {
    let mut rng = Rng::new(3);
    let x = Tensor::rand_uniform(&[BATCH, 1, 28, 28], 0.0, 1.0, &mut rng);
    let labels = (0..BATCH).map(|_| rng.below(10)).collect();
    (x, labels)
}

pub fn workloads(quick: bool) -> Vec<Workload> {
    let steps = if quick { 3 } else { 24 };
    let mut train_net = W3Net::new(&mut Rng::new(1));
    let mut opt = Sgd::new(0.01).expect("valid learning rate");
    let (x_train, labels) = data();
    let infer_net = W3Net::new(&mut Rng::new(2));
    let (x_infer, _) = data();
    vec![
        Workload {
            name: "W3-cnn-train".into(),
            metric: "images_per_s",
            run: Box::new(move |_| {
                let s = seconds(|| {
                    for _ in 0..steps {
                        let g = Graph::new();
                        let logits = train_net
                            .forward(&g, g.constant(x_train.clone()))
                            .expect("W3 shapes");
                        let loss = cross_entropy(logits, &labels).expect("labels in range");
                        let grads = loss.backward().expect("scalar loss");
                        opt.step(&mut train_net, &grads).expect("SGD step");
                    }
                });
                (steps * BATCH) as f64 / s
            }),
        },
        Workload {
            name: "W3-cnn-infer".into(),
            metric: "images_per_s",
            run: Box::new(move |_| {
                let reps = 2 * steps;
                let s = seconds(|| {
                    for _ in 0..reps {
                        let g = Graph::inference();
                        let y = infer_net
                            .forward(&g, g.constant(x_infer.clone()))
                            .expect("W3 shapes");
                        std::hint::black_box(y.value().expect("forward value"));
                    }
                });
                (reps * BATCH) as f64 / s
            }),
        },
    ]
}

//! The W3 network of BENCHMARKS.md — conv 1→16 3×3 pad 1, ReLU, max-pool 2; conv 16→32 3×3
//! pad 1, ReLU, max-pool 2; flatten; linear 1568→128, ReLU; linear 128→10 — plain or with a
//! `BatchNorm2d` after each convolution (before its ReLU), with its training epoch and its
//! evaluation: what `cnn_fashion_mnist`, `pytorch_roundtrip` and the tests share.
//!
//! The layers sit in one `Sequential`, so the parameters carry the names PyTorch gives the
//! same `nn.Sequential` (`0.weight`, `1.running_mean`, `9.weight`, …): a state dict moves
//! between the two as is (`examples/pytorch/w3_roundtrip.py` builds the PyTorch side).

use neurite::autograd::Graph;
use neurite::cnn::{Conv2d, ConvConfig, Flatten, MaxPool2d};
use neurite::nn::data::Dataset;
use neurite::nn::metrics::predict_classes;
use neurite::nn::train::Metrics;
use neurite::nn::{
    cross_entropy, BatchNorm2d, Linear, Module, Optimizer, Relu, Result, Sequential,
};
use neurite::tensor::{Float, Rng};

/// The W3 network, seeded; with `batchnorm`, a `BatchNorm2d` follows each convolution.
pub fn network<T: Float>(batchnorm: bool, rng: &mut Rng) -> Result<Sequential<T>> {
    let mut net = Sequential::new();
    for (cin, cout) in [(1, 16), (16, 32)] {
        let conv = ConvConfig::new(cin, cout, [3, 3]).with_padding([1, 1]);
        net.push(Conv2d::<T>::new(conv, rng)?);
        if batchnorm {
            net.push(BatchNorm2d::<T>::new(cout)?);
        }
        net.push(Relu);
        net.push(MaxPool2d::new([2, 2]));
    }
    Ok(net
        .add(Flatten::default())
        .add(Linear::new(32 * 7 * 7, 128, rng)?)
        .add(Relu)
        .add(Linear::new(128, 10, rng)?))
}

/// What [`evaluate`] found.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Mean cross-entropy.
    pub loss: f64,
    /// Fraction of correct predictions.
    pub accuracy: f64,
    /// The predicted class of every sample, in order.
    pub predicted: Vec<usize>,
    /// The logits, row-major [samples, classes], as f64.
    pub logits: Vec<f64>,
}

impl Evaluation {
    /// Loss and accuracy as the training loop's metrics.
    pub fn metrics(&self) -> Metrics {
        Metrics::new(self.loss, Some(self.accuracy))
    }
}

/// Evaluates `model` on `data` in evaluation mode (BatchNorm on its running statistics,
/// no graph recorded), in batches of 500.
pub fn evaluate<T: Float>(model: &mut dyn Module<T>, data: &Dataset<T>) -> Result<Evaluation> {
    model.set_training(false);
    let labels = data.labels().unwrap_or_default();
    let (mut loss, mut predicted, mut all) = (0.0, Vec::with_capacity(data.len()), Vec::new());
    for b in data.batches(500, None, false)? {
        let g = Graph::inference();
        let logits = model.forward(&g, g.constant(b.features))?;
        let values = logits.value()?;
        predicted.extend(predict_classes(&values)?);
        all.extend(values.to_vec().into_iter().map(Float::to_f64));
        loss += cross_entropy(logits, &b.labels)?.item()?.to_f64() * b.labels.len() as f64;
    }
    let correct = predicted.iter().zip(labels).filter(|(p, l)| p == l).count();
    let n = data.len().max(1) as f64;
    Ok(Evaluation {
        loss: loss / n,
        accuracy: correct as f64 / n,
        predicted,
        logits: all,
    })
}

/// One training epoch in training mode: mini-batches of `batch` in an order drawn from
/// `shuffle`, cross-entropy, one optimiser step each; `tick(loss)` after every batch. Returns
/// the mean training loss and accuracy.
pub fn train_epoch<T: Float>(
    model: &mut dyn Module<T>,
    opt: &mut dyn Optimizer<T>,
    data: &Dataset<T>,
    batch: usize,
    shuffle: &mut Rng,
    tick: &mut dyn FnMut(f64),
) -> Result<Metrics> {
    model.set_training(true);
    let (mut sum, mut correct, mut n) = (0.0, 0usize, 0usize);
    for b in data.batches(batch, Some(shuffle), false)? {
        let g = Graph::new();
        let logits = model.forward(&g, g.constant(b.features))?;
        let predicted = predict_classes(&logits.value()?)?;
        correct += predicted
            .iter()
            .zip(&b.labels)
            .filter(|(p, l)| p == l)
            .count();
        let loss = cross_entropy(logits, &b.labels)?;
        let l = loss.item()?.to_f64();
        sum += l * b.labels.len() as f64;
        n += b.labels.len();
        tick(l);
        let grads = loss.backward()?;
        opt.step(model, &grads)?;
    }
    let n = n.max(1) as f64;
    Ok(Metrics::new(sum / n, Some(correct as f64 / n)))
}

//! Checkpoints resume bit for bit: N steps straight through against N/2 steps, a checkpoint, a
//! fresh model / optimiser / generators restored from the file, and N/2 more — identical
//! parameter bytes, for SGD with momentum, Adam and AdamW, with a learning-rate schedule,
//! dropout and shuffled mini-batches. A corrupt or mismatched checkpoint is a typed error and
//! changes nothing.

use neurite_autograd::Graph;
use neurite_nn::data::Dataset;
use neurite_nn::schedule::{LrSchedule, StepLr};
use neurite_nn::{
    cross_entropy, load_checkpoint, save_checkpoint, state_dict, Adam, Dropout, Linear, Module,
    NnError, Optimizer, Relu, Sequential, Sgd, SgdConfig, TrainingState,
};
use neurite_tensor::{Float, Rng, Tensor};

fn model(seed: u64) -> Sequential<f32> {
    let mut rng = Rng::new(seed);
    Sequential::new()
        .add(Linear::new(6, 16, &mut rng).unwrap())
        .add(Relu)
        .add(Dropout::new(0.3, seed + 1).unwrap())
        .add(Linear::new(16, 3, &mut rng).unwrap())
}

fn data() -> Dataset<f32> {
    let mut rng = Rng::new(11);
    let x = Tensor::<f32>::rand_normal(&[40, 6], 0.0, 1.0, &mut rng);
    let y: Vec<usize> = (0..40).map(|i| i % 3).collect();
    Dataset::classification(x, y, 3).unwrap()
}

/// Runs epochs until `stop` steps are done (from `progress`), shuffling with `shuffle`.
fn train(
    m: &mut Sequential<f32>,
    opt: &mut dyn Optimizer<f32>,
    shuffle: &mut Rng,
    progress: &mut TrainingState,
    stop: u64,
) {
    let sched = StepLr::new(0.05, 3, 0.5).unwrap();
    let d = data();
    while progress.step < stop {
        // Each epoch draws its order from the shuffling generator; a resume mid-epoch replays
        // the epoch's order from the generator state saved at its start.
        let mut epoch_rng = shuffle.clone();
        let batches = d.batches(8, Some(&mut epoch_rng), false).unwrap();
        let per_epoch = batches.len() as u64;
        let skip = progress.step - progress.epoch * per_epoch;
        for b in batches.into_iter().skip(skip as usize) {
            if progress.step == stop {
                return;
            }
            opt.set_learning_rate(sched.lr(progress.schedule_step as usize));
            let g = Graph::new();
            let logits = m.forward(&g, g.constant(b.features)).unwrap();
            let loss = cross_entropy(logits, &b.labels).unwrap();
            let grads = loss.backward().unwrap();
            opt.step(m, &grads).unwrap();
            progress.step += 1;
            progress.schedule_step += 1;
        }
        *shuffle = epoch_rng;
        progress.epoch += 1;
    }
}

fn bytes(m: &Sequential<f32>) -> Vec<u8> {
    state_dict(m).to_bytes().unwrap()
}

fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("neurite-ckpt-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn resuming_from_a_checkpoint_is_bit_for_bit_the_straight_run() {
    type MakeOpt = fn() -> Box<dyn Optimizer<f32>>;
    let opts: [(&str, MakeOpt); 3] = [
        ("sgd", || {
            Box::new(
                Sgd::from_config(SgdConfig {
                    lr: 0.05,
                    momentum: 0.9,
                    nesterov: true,
                    weight_decay: 1e-4,
                })
                .unwrap(),
            )
        }),
        ("adam", || Box::new(Adam::new(0.05).unwrap())),
        ("adamw", || Box::new(Adam::adamw(0.05, 0.01).unwrap())),
    ];
    for (name, make) in opts {
        // N = 14 steps (5 per epoch: the cut at 7 is mid-epoch) straight through.
        let mut straight = model(1);
        let mut opt = make();
        let (mut shuffle, mut progress) = (Rng::new(5), TrainingState::default());
        train(&mut straight, opt.as_mut(), &mut shuffle, &mut progress, 14);

        // 7 steps, a checkpoint, everything thrown away.
        let path = dir(name).join("ckpt.safetensors");
        {
            let mut m = model(1);
            let mut opt = make();
            let (mut shuffle, mut progress) = (Rng::new(5), TrainingState::default());
            train(&mut m, opt.as_mut(), &mut shuffle, &mut progress, 7);
            save_checkpoint(
                &path,
                &mut m,
                opt.as_ref(),
                &[("shuffle", &shuffle)],
                &progress,
            )
            .unwrap();
        }
        // A fresh model (other seeds), optimiser and generator resume from the file.
        let mut m = model(99);
        let mut opt = make();
        let mut shuffle = Rng::new(12345);
        let mut progress = load_checkpoint(
            &path,
            &mut m,
            opt.as_mut(),
            &mut [("shuffle", &mut shuffle)],
        )
        .unwrap();
        assert_eq!(progress.step, 7);
        train(&mut m, opt.as_mut(), &mut shuffle, &mut progress, 14);
        assert_eq!(bytes(&m), bytes(&straight), "{name}: resumed run differs");
        assert_eq!(opt.learning_rate(), 0.05 * 0.5f64.powi(4), "{name}");
    }
}

#[test]
fn a_corrupt_or_mismatched_checkpoint_is_a_typed_error_and_changes_nothing() {
    let d = dir("bad");
    let path = d.join("ckpt.safetensors");
    let mut m = model(1);
    let opt = Adam::<f32>::new(0.01).unwrap();
    save_checkpoint(
        &path,
        &mut m,
        &opt,
        &[("shuffle", &Rng::new(1))],
        &TrainingState::default(),
    )
    .unwrap();
    let good = std::fs::read(&path).unwrap();

    let check =
        |bytes: &[u8], model: &mut Sequential<f32>, opt: &mut dyn Optimizer<f32>, want: &str| {
            let p = d.join("case.safetensors");
            std::fs::write(&p, bytes).unwrap();
            let before = bytes_of(model);
            let mut r = Rng::new(77);
            let e = load_checkpoint(&p, model, opt, &mut [("shuffle", &mut r)]).unwrap_err();
            assert!(matches!(e, NnError::Checkpoint { .. }), "{e}");
            let msg = e.to_string();
            assert!(
                msg.contains(want) && msg.contains("case.safetensors"),
                "{want} in {msg}"
            );
            assert_eq!(bytes_of(model), before, "model changed by a failed load");
            assert_eq!(r, Rng::new(77));
        };
    fn bytes_of(m: &Sequential<f32>) -> Vec<u8> {
        bytes(m)
    }
    // Truncated.
    let mut m2 = model(2);
    let mut adam = Adam::<f32>::new(0.01).unwrap();
    check(&good[..good.len() - 3], &mut m2, &mut adam, "safetensors");
    // Another architecture.
    let mut rng = Rng::new(3);
    let mut other = Sequential::new()
        .add(Linear::<f32>::new(6, 8, &mut rng).unwrap())
        .add(Relu)
        .add(Dropout::new(0.3, 2).unwrap())
        .add(Linear::new(8, 3, &mut rng).unwrap());
    check(&good, &mut other, &mut adam, "0.weight");
    // The wrong optimiser (SGD's state has no Adam moments; Adam's has entries SGD rejects) —
    // after training one step so Adam's state is not empty.
    let mut trained = model(1);
    let mut adam = Adam::<f32>::new(0.01).unwrap();
    let (mut s, mut p) = (Rng::new(5), TrainingState::default());
    train(&mut trained, &mut adam, &mut s, &mut p, 1);
    save_checkpoint(&path, &mut trained, &adam, &[("shuffle", &s)], &p).unwrap();
    let with_moments = std::fs::read(&path).unwrap();
    let mut sgd = Sgd::<f32>::from_config(SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        ..Default::default()
    })
    .unwrap();
    check(&with_moments, &mut m2, &mut sgd, "exp_avg");
    // A file that is not a checkpoint.
    neurite_nn::save_params(&m2, &path).unwrap();
    check(
        &std::fs::read(&path).unwrap(),
        &mut m2,
        &mut adam,
        "not a neurite checkpoint",
    );
}

/// A small model with every kind of state: parameters, float buffers and a counter
/// (BatchNorm), a generator (dropout).
fn rich_model<T: Float>(seed: u64) -> Sequential<T> {
    let mut rng = Rng::new(seed);
    Sequential::new()
        .add(Linear::new(5, 7, &mut rng).unwrap())
        .add(neurite_nn::BatchNorm1d::new(7).unwrap())
        .add(Dropout::new(0.3, seed + 1).unwrap())
        .add(Linear::new(7, 3, &mut rng).unwrap())
}

/// Saves a checkpoint of `rich_model` after two steps of `opt`, and checks the file against the
/// copying path and against the model's values encoded here by hand.
fn check_saved_bytes<T: Float>(name: &str, opt: &mut dyn Optimizer<T>) {
    let mut m = rich_model::<T>(3);
    let mut rng = Rng::new(4);
    for _ in 0..2 {
        let g = Graph::new();
        let x = Tensor::<T>::rand_normal(&[4, 5], 0.0, 1.0, &mut rng);
        let y = m.forward(&g, g.constant(x)).unwrap();
        let grads = y.square().unwrap().sum().unwrap().backward().unwrap();
        opt.step(&mut m, &grads).unwrap();
    }
    let progress = TrainingState {
        epoch: 2,
        step: 7,
        schedule_step: 7,
        best_metric: Some(0.25),
        epochs_since_best: 1,
    };
    let loop_rng = Rng::new(11);
    let path = dir(name).join("ckpt.safetensors");
    save_checkpoint(&path, &mut m, opt, &[("data", &loop_rng)], &progress).unwrap();
    let file = std::fs::read(&path).unwrap();
    // The copying path: every tensor first copied into a StateDict, then serialised.
    let owned =
        neurite_nn::checkpoint::checkpoint_state(&mut m, opt, &[("data", &loop_rng)], &progress)
            .unwrap();
    assert_eq!(file, owned.to_bytes().unwrap(), "{name}");
    // The tensors in the file are the model's and the optimiser's values, little-endian.
    let back = neurite_nn::StateDict::from_bytes(&file).unwrap();
    assert_eq!(back, owned, "{name}");
    // Read back (F32 / F64 tensors held as values), it writes the same bytes again.
    assert_eq!(back.to_bytes().unwrap(), file, "{name}");
    let le = |v: Vec<T>| -> Vec<u8> {
        v.into_iter()
            .flat_map(|x| {
                if std::mem::size_of::<T>() == 4 {
                    (x.to_f64() as f32).to_le_bytes().to_vec()
                } else {
                    x.to_f64().to_le_bytes().to_vec()
                }
            })
            .collect()
    };
    let mut n = 0;
    m.visit_params("", &mut |p, v| {
        let t = back.get(&format!("model.{p}")).unwrap();
        assert_eq!(t.bytes(), le(v.value().to_vec()), "{name} {p}");
        n += 1;
    });
    m.visit_buffers("", &mut |b, v| {
        if let neurite_nn::Buffer::Float(v) = v {
            let t = back.get(&format!("model.{b}")).unwrap();
            assert_eq!(t.bytes(), le(v.to_vec()), "{name} {b}");
            n += 1;
        }
    });
    // Two linear layers' and BatchNorm's weight and bias, BatchNorm's running mean and variance.
    assert_eq!(n, 8);
    let counter = back.get("model.1.num_batches_tracked").unwrap();
    assert_eq!(counter.to_i64().unwrap(), [2]);
    let optim = opt.state_dict(&m).unwrap();
    assert!(optim.len() > 1, "{name}: the optimiser holds state");
    for (k, t) in optim.iter() {
        assert_eq!(back.get(&format!("optim.{k}")), Some(t), "{name} {k}");
    }
}

#[test]
fn the_saved_file_is_the_copying_paths_byte_for_byte() {
    use neurite_nn::{Adagrad, RmsProp};
    check_saved_bytes::<f32>("bytes-adam32", &mut Adam::new(1e-2).unwrap());
    check_saved_bytes::<f64>("bytes-adamw64", &mut Adam::adamw(1e-2, 0.1).unwrap());
    check_saved_bytes::<f32>(
        "bytes-sgd32",
        &mut Sgd::with_options(0.1, 0.9, true, 0.01).unwrap(),
    );
    check_saved_bytes::<f64>(
        "bytes-rms64",
        &mut RmsProp::with_options(0.1, 0.9, 1e-8, 0.5, 0.0).unwrap(),
    );
    check_saved_bytes::<f32>("bytes-adagrad32", &mut Adagrad::new(0.1).unwrap());
}

#[test]
fn a_state_view_keeps_the_values_of_the_moment_it_was_taken() {
    let mut m = model(1);
    let mut adam = Adam::<f32>::new(0.05).unwrap();
    let before = state_dict(&m);
    let view = neurite_nn::state_view(&m);
    let (mut s, mut p) = (Rng::new(5), TrainingState::default());
    train(&mut m, &mut adam, &mut s, &mut p, 2);
    assert_ne!(state_dict(&m), before, "training changed the model");
    assert_eq!(view.to_state_dict(), before);
    // The optimiser's view borrows its buffers: it reads the state as it is.
    let v = adam.state_view(&m).unwrap();
    assert_eq!(v.to_state_dict(), adam.state_dict(&m).unwrap());
    assert_eq!(
        v.names().filter(|n| n.ends_with(".exp_avg")).count(),
        4,
        "one first moment per parameter"
    );
}

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
use neurite_tensor::{Rng, Tensor};

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

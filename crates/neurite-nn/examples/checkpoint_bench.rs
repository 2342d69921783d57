//! Checkpoint save / load speed on a ~100 MB model (f32 MLP 2048-wide, Adam state after one
//! step: the file holds weights and both moments, ~300 MB). Prints MB/s of file bytes next to
//! what the disk does with the same bytes in the same way:
//!
//! - save vs `write_atomic` of the file's bytes from memory (the same temporary file, one
//!   large write, fsync and rename over the previous file of the same size, as a save does);
//! - load vs `std::fs::read` of the same file (both read the file just written, so from the
//!   page cache unless memory is short).
//!
//! Each round times the save and its baseline in alternating order (odd rounds: the baseline
//! first), so that neither always follows the other's writeback.
//! Run: `cargo run --release -p neurite-nn --example checkpoint_bench [dir] [rounds]`.

use std::time::Instant;

use neurite_autograd::Graph;
use neurite_nn::checkpoint::{checkpoint_state, checkpoint_view};
use neurite_nn::{
    load_checkpoint, mse, num_params, save_checkpoint, Adam, Linear, Module, Optimizer, Sequential,
    TrainingState,
};
use neurite_tensor::{Rng, Tensor};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .unwrap_or_else(|| std::env::temp_dir().display().to_string());
    let rounds: usize = args.next().map(|r| r.parse()).transpose()?.unwrap_or(3);
    let path = std::path::Path::new(&dir).join("neurite-checkpoint-bench.safetensors");
    let raw_path = path.with_extension("raw");
    let mut rng = Rng::new(0);
    let mut model = Sequential::<f32>::new();
    for _ in 0..6 {
        model.push(Linear::new(2048, 2048, &mut rng)?);
    }
    let mb = num_params(&model) as f64 * 4.0 / 1e6;
    let mut opt = Adam::new(1e-3)?;
    let g = Graph::new();
    let x = Tensor::<f32>::rand_normal(&[4, 2048], 0.0, 1.0, &mut rng);
    let y = model.forward(&g, g.constant(x.clone()))?;
    let grads = mse(y, g.constant(x))?.backward()?;
    opt.step(&mut model, &grads)?;
    let loop_rng = Rng::new(1);
    let rngs = [("data", &loop_rng)];
    let progress = TrainingState::default();

    // In memory: the copying path (a StateDict) against the view the save writes from.
    let t = Instant::now();
    let sd = checkpoint_state(&mut model, &opt, &rngs, &progress)?;
    let gather = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let view = checkpoint_view(&mut model, &opt, &rngs, &progress)?;
    let gather_view = t.elapsed().as_secs_f64();
    let raw = view.to_bytes()?;
    assert_eq!(
        raw,
        sd.to_bytes()?,
        "the view and the dict give the same bytes"
    );
    drop((sd, view));
    println!(
        "model {mb:.0} MB, file {:.0} MB; gathering the state: copied into a StateDict {gather:.3} s, as a view {gather_view:.6} s",
        raw.len() as f64 / 1e6
    );

    let mut save_best = f64::MAX;
    let mut base_best = f64::MAX;
    for round in 0..rounds {
        let mut save = 0.0;
        let mut base = 0.0;
        for turn in 0..2 {
            if (turn == 0) == (round % 2 == 0) {
                let t = Instant::now();
                save_checkpoint(&path, &mut model, &opt, &rngs, &progress)?;
                save = t.elapsed().as_secs_f64();
            } else {
                let t = Instant::now();
                neurite_tensor::fs::write_atomic(&raw_path, &raw)?;
                base = t.elapsed().as_secs_f64();
            }
        }
        let bytes = std::fs::metadata(&path)?.len() as f64 / 1e6;
        let t = Instant::now();
        let mut r = Rng::new(2);
        load_checkpoint(&path, &mut model, &mut opt, &mut [("data", &mut r)])?;
        let load = t.elapsed().as_secs_f64();
        let t = Instant::now();
        std::hint::black_box(std::fs::read(&path)?);
        let rd = t.elapsed().as_secs_f64();
        save_best = save_best.min(save);
        base_best = base_best.min(base);
        println!(
            "round {round}: save {:.0} MB/s (atomic write of the same bytes {:.0} MB/s), load {:.0} MB/s (read {:.0} MB/s)",
            bytes / save,
            bytes / base,
            bytes / load,
            bytes / rd
        );
    }
    println!(
        "best: save {:.0} MB/s, atomic write {:.0} MB/s",
        raw.len() as f64 / 1e6 / save_best,
        raw.len() as f64 / 1e6 / base_best
    );
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(&raw_path);
    Ok(())
}

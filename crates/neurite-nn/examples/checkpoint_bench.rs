//! Checkpoint save / load speed on a ~100 MB model (f32 MLP 2048-wide, Adam state after one
//! step: the file holds weights and both moments, ~300 MB). Prints MB/s of file bytes; the
//! disk's own speed for the same bytes (one write + fsync, one read) is printed next to it.
//! Run: `cargo run --release -p neurite-nn --example checkpoint_bench [dir]`.

use std::time::Instant;

use neurite_autograd::Graph;
use neurite_nn::{
    load_checkpoint, mse, num_params, save_checkpoint, Adam, Linear, Module, Optimizer, Sequential,
    TrainingState,
};
use neurite_tensor::{Rng, Tensor};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| std::env::temp_dir().display().to_string());
    let path = std::path::Path::new(&dir).join("neurite-checkpoint-bench.safetensors");
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
    for _ in 0..3 {
        let t = Instant::now();
        let sd = neurite_nn::checkpoint::checkpoint_state(
            &mut model,
            &opt,
            &[("data", &loop_rng)],
            &TrainingState::default(),
        )?;
        let gather = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let b = sd.to_bytes()?;
        let ser = t.elapsed().as_secs_f64();
        drop(b);
        println!("  (in memory: gathering the state {gather:.3} s, serialising {ser:.3} s)");
        let t = Instant::now();
        save_checkpoint(
            &path,
            &mut model,
            &opt,
            &[("data", &loop_rng)],
            &TrainingState::default(),
        )?;
        let save = t.elapsed().as_secs_f64();
        let bytes = std::fs::metadata(&path)?.len() as f64 / 1e6;
        let t = Instant::now();
        let mut r = Rng::new(2);
        load_checkpoint(&path, &mut model, &mut opt, &mut [("data", &mut r)])?;
        let load = t.elapsed().as_secs_f64();
        let raw = std::fs::read(&path)?;
        let t = Instant::now();
        {
            use std::io::Write;
            let mut f = std::fs::File::create(path.with_extension("raw"))?;
            f.write_all(&raw)?;
            f.sync_all()?; // as the checkpoint's atomic write does
        }
        let wr = t.elapsed().as_secs_f64();
        let t = Instant::now();
        std::hint::black_box(std::fs::read(path.with_extension("raw"))?);
        let rd = t.elapsed().as_secs_f64();
        println!(
            "model {mb:.0} MB, file {bytes:.0} MB: save {:.0} MB/s, load {:.0} MB/s (plain write + fsync {:.0} MB/s, read {:.0} MB/s)",
            bytes / save,
            bytes / load,
            bytes / wr,
            bytes / rd
        );
    }
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(path.with_extension("raw"));
    Ok(())
}

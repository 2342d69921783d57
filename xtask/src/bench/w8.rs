//! W8: checkpoint save and load of a 100 MB model — six fp32 `Linear(2048, 2048)` layers after
//! one Adam step, so the file holds the weights and both moments (about 302 MB) — in the
//! directory `NEURITE_BENCH_DIR` (default: the system's temporary directory). Metric: MB (10⁶
//! bytes) of file per second. Next to them, the disk itself on the same number of bytes in the
//! same directory, written and read the way a checkpoint is: W8-disk-write (`write_atomic` of
//! the bytes from memory — a temporary file, one `write_all`, `sync_all`, a rename over the
//! previous file of the same size, as a save does) and W8-disk-read (`std::fs::read` of the
//! checkpoint just written).
//! `--quick` uses one layer.

use std::path::PathBuf;

use neurite::autograd::{Graph, Var};
use neurite::nn::{
    load_checkpoint, mse, save_checkpoint, Adam, Linear, Module, Optimizer, TrainingState,
};
use neurite::tensor::{Rng, Tensor};

use super::{seconds, Workload};

const WIDTH: usize = 2048;

/// A stack of square linear layers (concrete, so that the workload closures are `Send`).
struct Stack {
    layers: Vec<Linear<f32>>,
}

impl Module<f32> for Stack {
    fn forward<'g>(&self, g: &'g Graph<f32>, x: Var<'g, f32>) -> neurite::nn::Result<Var<'g, f32>> {
        self.layers.iter().try_fold(x, |x, l| l.forward(g, x))
    }
    neurite::nn::walk!(f32; modules layers);
}

/// Removes the checkpoint when the last W8 workload is dropped.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn dir() -> PathBuf {
    std::env::var_os("NEURITE_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
}

pub fn workloads(quick: bool) -> Vec<Workload> {
    let mut rng = Rng::new(8);
    let layers = if quick { 1 } else { 6 };
    let mut model = Stack {
        layers: (0..layers)
            .map(|_| Linear::new(WIDTH, WIDTH, &mut rng).expect("valid W8 layer"))
            .collect(),
    };
    let mut opt = Adam::new(1e-3).expect("valid learning rate");
    {
        let g = Graph::new();
        let x = Tensor::<f32>::rand_normal(&[4, WIDTH], 0.0, 1.0, &mut rng);
        let y = model.forward(&g, g.constant(x.clone())).expect("W8 shapes");
        let grads = mse(y, g.constant(x))
            .expect("W8 loss")
            .backward()
            .expect("W8 backward");
        opt.step(&mut model, &grads).expect("W8 step");
    }
    let path = dir().join(format!("neurite-w8-{}.safetensors", std::process::id()));
    let raw = path.with_extension("raw");
    let loop_rng = Rng::new(1);
    let save = move |model: &mut Stack, opt: &Adam<f32>| {
        save_checkpoint(
            &path,
            model,
            opt,
            &[("data", &loop_rng)],
            &TrainingState::default(),
        )
        .expect("W8 save");
        path.clone()
    };
    // Saved once up front, so that the load and read workloads find a file whatever runs.
    let file = save(&mut model, &opt);
    let mb = |p: &PathBuf| std::fs::metadata(p).expect("W8 file").len() as f64 / 1e6;
    let bytes = mb(&file);
    let (file_load, file_read) = (file.clone(), file.clone());
    let cleanup = RemoveOnDrop(file);
    let (mut load_model, mut load_opt) = (
        Stack {
            layers: (0..layers)
                .map(|_| Linear::new(WIDTH, WIDTH, &mut rng).expect("valid W8 layer"))
                .collect(),
        },
        Adam::new(1e-3).expect("valid learning rate"),
    );
    vec![
        Workload {
            name: "W8-checkpoint-save".into(),
            metric: "MB_per_s",
            run: Box::new(move |_| bytes / seconds(|| drop(save(&mut model, &opt)))),
        },
        Workload {
            name: "W8-checkpoint-load".into(),
            metric: "MB_per_s",
            run: Box::new(move |_| {
                let mut r = Rng::new(2);
                bytes
                    / seconds(|| {
                        load_checkpoint(
                            &file_load,
                            &mut load_model,
                            &mut load_opt,
                            &mut [("data", &mut r)],
                        )
                        .expect("W8 load");
                    })
            }),
        },
        Workload {
            name: "W8-disk-write".into(),
            metric: "MB_per_s",
            run: Box::new(move |_| {
                let data = vec![7u8; (bytes * 1e6) as usize];
                // A first file for the timed write to replace, as a save replaces the last one.
                neurite::tensor::fs::write_atomic(&raw, &data).expect("W8 raw write");
                let s = seconds(|| {
                    neurite::tensor::fs::write_atomic(&raw, &data).expect("W8 raw write");
                });
                let _ = std::fs::remove_file(&raw);
                bytes / s
            }),
        },
        Workload {
            name: "W8-disk-read".into(),
            metric: "MB_per_s",
            run: Box::new(move |_| {
                let _removes_the_file_when_dropped = &cleanup;
                bytes
                    / seconds(|| {
                        drop(std::hint::black_box(
                            std::fs::read(&file_read).expect("W8 read"),
                        ))
                    })
            }),
        },
    ]
}

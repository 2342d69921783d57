//! The neurite tour: one short run of each model family on the data embedded in the
//! repository, in the order the subject teaches them — back-propagation by hand, single- and
//! multi-layer networks with the three output kinds, a convolutional net, a recurrent language
//! model, word2vec, and the two examples where the families meet.
//!
//! Run: `cargo run --release --example tour` (about two minutes on 2 cores). Each section is
//! the example of the same name with `--quick`; run that example alone for the full version.
//! `--only NAME` runs one section; `--list` lists them.

#![allow(dead_code)]
// the included examples' own `main`s are not used here
// Each MLP example includes the shared flag module itself, so that it also builds on its own.
#![allow(clippy::duplicate_mod)]

#[path = "backprop.rs"]
mod backprop;
#[path = "char_lstm.rs"]
mod char_lstm;
#[path = "cnn_digits.rs"]
mod cnn_digits;
#[path = "compare_cnn_rnn.rs"]
mod compare_cnn_rnn;
#[path = "image_caption.rs"]
mod image_caption;
#[path = "mlp_binary.rs"]
mod mlp_binary;
#[path = "mlp_multiclass.rs"]
mod mlp_multiclass;
#[path = "mlp_regression.rs"]
mod mlp_regression;
#[path = "word2vec.rs"]
mod word2vec;

use std::error::Error;
use std::path::Path;
use std::time::Instant;

type RunFn = fn(&[String]) -> Result<(), Box<dyn Error>>;

/// One stop of the tour.
struct Section {
    name: &'static str,
    what: &'static str,
    run: RunFn,
    /// Data outside the repository the section needs (it is skipped, with a note, without it).
    needs: Option<&'static str>,
}

fn sections() -> Vec<Section> {
    vec![
        Section { name: "backprop", what: "a computational graph by hand: upstream, local and downstream gradients; gradient descent", run: backprop::run, needs: None },
        Section { name: "mlp_regression", what: "linear output + MSE: diabetes progression (regression)", run: mlp_regression::run, needs: None },
        Section { name: "mlp_binary", what: "sigmoid output + binary cross-entropy: breast cancer", run: mlp_binary::run, needs: None },
        Section { name: "mlp_multiclass", what: "softmax output + cross-entropy: 8×8 digits", run: mlp_multiclass::run, needs: None },
        Section { name: "cnn_digits", what: "a convolutional net: convolution, max-pooling, fully connected", run: cnn_digits::run, needs: None },
        Section { name: "char_lstm", what: "a recurrent net (LSTM) predicting the next character of real text", run: char_lstm::run, needs: None },
        Section { name: "word2vec", what: "word vectors: skip-gram/CBOW with negative sampling on a public-domain corpus", run: word2vec::run, needs: None },
        Section { name: "compare_cnn_rnn", what: "text CNN vs bidirectional RNN on the same sentences", run: compare_cnn_rnn::run, needs: None },
        Section { name: "image_caption", what: "CNN encoder + RNN decoder describing Fashion-MNIST images", run: image_caption::run, needs: Some(image_caption::FASHION_DIR) },
    ]
}

fn main() {
    // Keep freed training buffers for reuse (see `neurite::tensor::memory`).
    neurite::tensor::keep_freed_memory();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut only: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--only" => only = it.next().cloned(),
            "--quick" => {} // the tour is always the quick form; accepted for symmetry with CI
            "--list" => {
                for s in sections() {
                    println!("{:<16} {}", s.name, s.what);
                }
                return;
            }
            "-h" | "--help" => {
                println!("usage: tour [--only NAME] [--list]");
                return;
            }
            other => {
                eprintln!("tour: unknown option {other} (try --help)");
                std::process::exit(2);
            }
        }
    }
    let start = Instant::now();
    let mut summary = Vec::new();
    let mut failed = 0;
    for s in sections() {
        if only.as_deref().is_some_and(|o| o != s.name) {
            continue;
        }
        println!("\n━━━ {} — {} ━━━", s.name, s.what);
        if let Some(dir) = s.needs {
            if !Path::new(dir).exists() {
                println!("skipped: needs {dir} (sudo apt-get install dataset-fashion-mnist)");
                summary.push(format!("{:<16} skipped (no {dir})", s.name));
                continue;
            }
        }
        let t = Instant::now();
        let result = (s.run)(&["--quick".to_string()]);
        let secs = t.elapsed().as_secs_f64();
        match result {
            Ok(()) => summary.push(format!("{:<16} ok      {secs:6.1} s", s.name)),
            Err(e) => {
                failed += 1;
                eprintln!("{}: {e}", s.name);
                summary.push(format!("{:<16} FAILED  {secs:6.1} s: {e}", s.name));
            }
        }
    }
    println!("\n━━━ tour summary ━━━");
    for line in &summary {
        println!("{line}");
    }
    let total = start.elapsed().as_secs_f64();
    println!(
        "result: sections={} failed={failed} seconds={total:.1}",
        summary.len()
    );
    if failed > 0 {
        std::process::exit(1);
    }
}

//! The neurite tour: one short run of each model family on the data embedded in the
//! repository, in the order the subject teaches them — gradients, Jacobians and activations,
//! back-propagation by hand, single- and multi-layer networks with the three output kinds, a
//! convolutional net, a recurrent language model, word2vec, and the two examples where the
//! families meet.
//!
//! Run: `cargo run --release --example tour` (about two minutes on 2 cores, plus building the
//! examples the first time). Each section is the example of the same name run with `--quick`, as
//! its own program (the tour builds them with the cargo that runs it); run that example alone
//! for the full version. `--only NAME` runs one section; `--list` lists them.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use clap::Parser;

use neurite_examples::{data, programs};

/// One stop of the tour.
struct Section {
    name: &'static str,
    what: &'static str,
    /// Needs Fashion-MNIST: the full set when installed, else the vendored test subset.
    needs_fashion_mnist: bool,
}

const SECTIONS: &[Section] = &[
    Section { name: "basics", what: "gradient and Jacobian, the chain rule as Jacobian products, activation curves, why non-linearity matters", needs_fashion_mnist: false },
    Section { name: "backprop", what: "a computational graph by hand: upstream, local and downstream gradients; gradient descent", needs_fashion_mnist: false },
    Section { name: "mlp_regression", what: "linear output + MSE: diabetes progression (regression)", needs_fashion_mnist: false },
    Section { name: "mlp_binary", what: "sigmoid output + binary cross-entropy: breast cancer", needs_fashion_mnist: false },
    Section { name: "mlp_multiclass", what: "softmax output + cross-entropy: 8×8 digits", needs_fashion_mnist: false },
    Section { name: "cnn_digits", what: "a convolutional net: convolution, max-pooling, fully connected", needs_fashion_mnist: false },
    Section { name: "char_lstm", what: "a recurrent net (LSTM) predicting the next character of real text", needs_fashion_mnist: false },
    Section { name: "word2vec", what: "word vectors: skip-gram/CBOW with negative sampling on a public-domain corpus", needs_fashion_mnist: false },
    Section { name: "compare_cnn_rnn", what: "text CNN vs bidirectional RNN on the same sentences", needs_fashion_mnist: false },
    Section { name: "image_caption", what: "CNN encoder + RNN decoder describing Fashion-MNIST images", needs_fashion_mnist: true },
];

/// tour: a short run of each model family on the embedded data
#[derive(Parser)]
#[command(name = "tour", allow_negative_numbers = true)]
struct Cli {
    /// Run only this section
    #[arg(long, value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(SECTIONS.iter().map(|s| s.name)))]
    only: Option<String>,
    /// List the sections and exit
    #[arg(long)]
    list: bool,
    /// Accepted for symmetry with the examples: the tour is always the quick form
    #[arg(long)]
    quick: bool,
}

fn main() {
    neurite_examples::main("tour", || run(Cli::parse()));
}

fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    if cli.list {
        for s in SECTIONS {
            println!("{:<16} {}", s.name, s.what);
        }
        return Ok(());
    }
    let start = Instant::now();
    let chosen: Vec<&Section> = SECTIONS
        .iter()
        .filter(|s| cli.only.as_deref().is_none_or(|o| o == s.name))
        .collect();
    let names: Vec<&str> = chosen.iter().map(|s| s.name).collect();
    println!("building {} …", names.join(", "));
    programs::build(&names)?;
    let fashion = data::fashion_mnist_dir();
    let mut summary = Vec::new();
    let mut failed = 0;
    for s in chosen {
        println!("\n━━━ {} — {} ━━━", s.name, s.what);
        let mut command = Command::new(programs::example_path(s.name)?);
        command.arg("--quick");
        if s.needs_fashion_mnist
            && !Path::new(&fashion)
                .join("train-images-idx3-ubyte.gz")
                .is_file()
        {
            // A fresh machine has no full Fashion-MNIST: the quick run fits the 5,000 training
            // images the tests use, vendored in the repository.
            let subset = data::fashion_mnist_subset_dir();
            println!(
                "(no Fashion-MNIST in {}: on the vendored subset {})",
                fashion.display(),
                subset.display()
            );
            command.arg("--data").arg(subset);
        }
        let t = Instant::now();
        let status = command.status();
        let secs = t.elapsed().as_secs_f64();
        match status {
            Ok(st) if st.success() => summary.push(format!("{:<16} ok      {secs:6.1} s", s.name)),
            Ok(st) => {
                failed += 1;
                summary.push(format!("{:<16} FAILED  {secs:6.1} s ({st})", s.name));
            }
            Err(e) => {
                failed += 1;
                summary.push(format!("{:<16} FAILED  cannot run: {e}", s.name));
            }
        }
    }
    println!("\n━━━ tour summary ━━━");
    for line in &summary {
        println!("{line}");
    }
    println!(
        "result: sections={} failed={failed} seconds={:.1}",
        summary.len(),
        start.elapsed().as_secs_f64()
    );
    if failed > 0 {
        return Err(format!("{failed} section(s) failed").into());
    }
    Ok(())
}

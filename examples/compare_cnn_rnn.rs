//! CNN vs RNN, measured: Kim's text CNN and a bidirectional GRU/LSTM classifier trained on the
//! same sentence-classification data with the same vocabulary, embedding size, seed and split,
//! each to its best development accuracy within the same epoch budget, compared in one table —
//! parameters, seconds per training epoch, inference sentences/s, held-out accuracy, and
//! accuracy on the short / medium / long thirds of the held-out set.
//!
//! ```text
//! text CNN:  ids [B, L] → embedding [B, L, E] → [B, E, L] → Conv1d width 3, 4, 5 (F filters each)
//!            → ReLU → max over time [B, F] ×3 → concat [B, 3F] → dropout → linear → [B, classes]
//! BiRNN:     ids [B, L] → embedding [B, L, E] → bidirectional GRU/LSTM (hidden H, true lengths)
//!            → final states of both directions [B, 2H] → dropout → linear → [B, classes]
//! ```
//!
//! The models are `neurite_examples::text::{TextCnn, BiRnnClassifier}` (the same ones
//! `text_cnn` and `rnn_classifier` train); the split, the training and the timing are
//! `neurite_examples::compare`. Data: `data/movie_snippets.tsv` (10,568 movie-review sentences,
//! pos/neg); `--data FILE` for any `label<TAB>text` file. See `docs/cnn-vs-rnn.md`.
//!
//! Run: `cargo run --release --example compare_cnn_rnn -- [--rnn gru|lstm] [--epochs N] [--plot FILE.svg]`

use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, ValueEnum};

use neurite::rnn::CellKind;
use neurite_examples::compare::{compare, table, CompareConfig, Comparison};
use neurite_examples::plot::{write_svg, Panel};
use neurite_examples::{data, flags, Defaults, TrainFlags};

const DEFAULTS: Defaults = Defaults {
    epochs: 6,
    quick_epochs: 2,
    batch: 50,
    lr: 0.001,
    seed: 1,
};

/// compare_cnn_rnn: a text CNN and a bidirectional RNN on the same sentences (--quick: 2 epochs,
/// lighter timing)
#[derive(Parser)]
#[command(name = "compare_cnn_rnn", allow_negative_numbers = true)]
struct Cli {
    /// label<TAB>text file [default: data/movie_snippets.tsv]
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// The recurrent classifier's cell
    #[arg(long, value_enum, default_value_t = Cell::Gru)]
    rnn: Cell,
    /// Embedding size of both models
    #[arg(long, value_name = "E", default_value_t = 64, value_parser = flags::count(1, flags::MAX_WIDTH))]
    embed: usize,
    /// Text-CNN filters per width 3, 4, 5
    #[arg(long, value_name = "F", default_value_t = 64, value_parser = flags::count(1, flags::MAX_WIDTH))]
    filters: usize,
    /// RNN hidden size per direction
    #[arg(long, value_name = "H", default_value_t = 64, value_parser = flags::count(1, flags::MAX_WIDTH))]
    hidden: usize,
    /// Dropout before the output layer of both
    #[arg(long, value_name = "P", default_value_t = 0.5, value_parser = flags::probability)]
    dropout: f64,
    /// Minimum count of a vocabulary word
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))]
    min_count: u64,
    /// Use N sentences only (seeded choice)
    #[arg(long, value_name = "N", value_parser = flags::count(10, usize::MAX))]
    limit: Option<usize>,
    #[command(flatten)]
    train: TrainFlags,
}

/// The recurrent cell of `--rnn`.
#[derive(Clone, Copy, ValueEnum)]
enum Cell {
    Gru,
    Lstm,
}

fn main() {
    neurite_examples::main("compare_cnn_rnn", || run(flags::parse(&DEFAULTS)));
}

fn run(cli: Cli) -> Result<(), Box<dyn Error>> {
    let t = cli.train.resolve(&DEFAULTS)?;
    t.refuse_checkpoints("it trains two models side by side to compare them")?;
    let path = cli
        .data
        .unwrap_or_else(|| data::vendored("movie_snippets.tsv"));
    let c = CompareConfig {
        embed: cli.embed,
        filters: cli.filters,
        hidden: cli.hidden,
        cell: match cli.rnn {
            Cell::Gru => CellKind::Gru,
            Cell::Lstm => CellKind::Lstm,
        },
        dropout: cli.dropout,
        lr: t.lr,
        batch: t.batch,
        epochs: t.epochs,
        min_count: cli.min_count,
        limit: cli.limit,
        seed: t.seed,
        // --quick: fastest of 2 timings instead of 5, latency over 100 sentences per third.
        timing_repeats: if t.quick { 2 } else { 5 },
        latency_sample: t.quick.then_some(100),
        ..Default::default()
    };
    let t0 = Instant::now();
    let Comparison {
        data,
        thirds,
        reports,
    } = compare(&path, &c)?;
    println!();
    println!(
        "{}: {} sentences ({} train, {} dev, {} held-out), {} classes, vocabulary {} words; embedding {}, seed {}, {} epochs each, {} cores",
        path.display(),
        data.examples.len(),
        data.train.len(),
        data.dev.len(),
        data.test.len(),
        data.labels.len(),
        data.vocab.len(),
        c.embed,
        c.seed,
        c.epochs,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!();
    print!("{}", table(&reports, &thirds));
    if let Some(plot) = &t.plot {
        let curve = |f: &dyn Fn(&neurite_examples::compare::Report) -> &Vec<f64>| {
            reports
                .iter()
                .map(|r| {
                    let pts = f(r).iter().enumerate();
                    (
                        r.name.clone(),
                        pts.map(|(e, &v)| (e as f64 + 1.0, v)).collect(),
                    )
                })
                .collect()
        };
        let panels = [
            Panel {
                caption: "training loss by epoch".into(),
                curves: curve(&|r| &r.loss_curve),
            },
            Panel {
                caption: "development accuracy by epoch".into(),
                curves: curve(&|r| &r.dev_curve),
            },
        ];
        write_svg(
            plot,
            "compare_cnn_rnn: text CNN vs bidirectional RNN",
            &panels,
        )?;
        println!("\ncurves drawn to {}", plot.display());
    }
    let (cnn, rnn) = (&reports[0], &reports[1]);
    println!();
    println!(
        "result: cnn_accuracy={:.4} rnn_accuracy={:.4} cnn_epoch_s={:.2} rnn_epoch_s={:.2} cnn_sentences_per_s={:.0} rnn_sentences_per_s={:.0} rnn={} epochs={} seconds={:.1}",
        cnn.accuracy,
        rnn.accuracy,
        cnn.seconds_per_epoch,
        rnn.seconds_per_epoch,
        cnn.sentences_per_s,
        rnn.sentences_per_s,
        c.cell.name().to_lowercase(),
        c.epochs,
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

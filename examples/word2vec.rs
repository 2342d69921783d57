//! word2vec on real text: trains word vectors on the embedded 1M-word public-domain corpus (or
//! `--corpus FILE`), prints the nearest neighbours of a few words, the analogy accuracy on the
//! Google questions and the WordSim-353 correlation, and ends with a `result:` line.
//!
//! ```text
//! cargo run --release --example word2vec                 # skip-gram, 5 epochs, all cores
//! cargo run --release --example word2vec -- --quick      # a few seconds
//! cargo run --release --example word2vec -- --corpus FILE --cbow --save vec.bin
//! ```

use std::error::Error;
use std::path::PathBuf;

use clap::Parser;

use neurite::word2vec::{
    evaluate_analogies, evaluate_similarity, Architecture, Corpus, ThreadMode, TrainConfig,
    Word2Vec,
};
use neurite_examples::flags;

/// word2vec: word vectors on the embedded public-domain corpus, or --corpus FILE (--quick:
/// 3 epochs of CBOW)
#[derive(Parser)]
#[command(name = "word2vec", allow_negative_numbers = true)]
struct Cli {
    /// Train on this text file instead of the embedded 1M-word corpus
    #[arg(long, value_name = "FILE")]
    corpus: Option<PathBuf>,
    /// CBOW instead of skip-gram
    #[arg(long)]
    cbow: bool,
    /// Hierarchical softmax instead of negative sampling
    #[arg(long)]
    hs: bool,
    /// Lock-free Hogwild threads instead of the deterministic mode
    #[arg(long)]
    hogwild: bool,
    /// Passes over the corpus [default: 5; 3 with --quick]
    #[arg(long, value_name = "N", value_parser = flags::count(1, flags::MAX_EPOCHS))]
    epochs: Option<usize>,
    /// Training threads [default: all cores]
    #[arg(long, value_name = "N", value_parser = flags::count(1, flags::MAX_THREADS))]
    threads: Option<usize>,
    /// Vector size
    #[arg(long, value_name = "N", value_parser = flags::count(1, flags::MAX_WIDTH))]
    dim: Option<usize>,
    /// Seed of the initialisation and sampling
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Save the vectors in word2vec's binary format
    #[arg(long, value_name = "FILE.bin")]
    save: Option<PathBuf>,
    /// Words whose nearest neighbours to print, comma-separated
    #[arg(
        long,
        value_name = "W1,W2,…",
        default_value = "god,king,love,heaven,sword,father,night"
    )]
    words: String,
    /// A short run (the tour's)
    #[arg(long)]
    quick: bool,
}

fn main() {
    neurite_examples::main("word2vec", || run(Cli::parse()));
}

fn run(cli: Cli) -> Result<(), Box<dyn Error>> {
    let mut config = TrainConfig::skip_gram();
    if cli.cbow {
        config.architecture = Architecture::Cbow;
    }
    if cli.hs {
        config.hs = true;
        config.negative = 0;
    }
    if let Some(d) = cli.dim {
        config.dim = d;
    }
    if let Some(s) = cli.seed {
        config.seed = s;
    }
    let threads = cli
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let (quick, corpus_path, save, words, epochs) =
        (cli.quick, cli.corpus, cli.save, cli.words, cli.epochs);
    config.threads = threads;
    // Bit-identical output for a given seed and thread count (neurite's deterministic
    // multi-threaded mode, about as fast as Hogwild); `--hogwild` for the lock-free default.
    config.thread_mode = if cli.hogwild {
        ThreadMode::Hogwild
    } else {
        ThreadMode::Deterministic
    };
    // Quick: three epochs of CBOW (the fastest model) on the whole embedded corpus.
    if quick && corpus_path.is_none() && !cli.hs {
        config.architecture = Architecture::Cbow;
    }
    config.epochs = epochs.unwrap_or(if quick { 3 } else { 5 });
    let corpus = match &corpus_path {
        Some(p) => Corpus::file(p),
        None => Corpus::embedded()?,
    };
    println!(
        "word2vec: {:?}, {}, dim {}, window {}, {} epochs, {} threads on {}",
        config.architecture,
        if config.hs {
            "hierarchical softmax".to_string()
        } else {
            format!("negative sampling ({})", config.negative)
        },
        config.dim,
        config.window,
        config.epochs,
        config.threads,
        corpus.path().display()
    );
    let (model, stats) = Word2Vec::train(&corpus, &config)?;
    println!(
        "vocabulary: {} words; trained on {} words in {:.2} s ({:.0} words/s)",
        model.vocabulary().len(),
        stats.words,
        stats.seconds,
        stats.words_per_sec
    );
    let kv = model.into_keyed_vectors();
    for w in words.split(',') {
        match kv.most_similar(w, 6) {
            Ok(n) => {
                let list: Vec<String> = n.iter().map(|(w, s)| format!("{w} {s:.2}")).collect();
                println!("  {w:>8}: {}", list.join(", "));
            }
            Err(e) => println!("  {w:>8}: {e}"),
        }
    }
    if let Ok(a) = kv.analogy("king", "man", "woman", 3) {
        let list: Vec<&str> = a.iter().map(|(w, _)| w.as_str()).collect();
        println!("  king − man + woman ≈ {}", list.join(", "));
    }
    let analogies = evaluate_analogies(&kv, &neurite::word2vec::data::questions_words()?, 30_000)?;
    let total = analogies.total();
    println!(
        "analogies (top 30,000 words): {:.2}% of {} questions answered ({} of {} in the file usable); semantic {:.2}%, syntactic {:.2}%",
        100.0 * total.accuracy(),
        total.evaluated,
        total.evaluated,
        total.questions,
        100.0 * analogies.semantic().accuracy(),
        100.0 * analogies.syntactic().accuracy()
    );
    let sim = evaluate_similarity(&kv, neurite::word2vec::data::wordsim353(), 30_000)?;
    println!(
        "WordSim-353: Spearman {:.3} on {} pairs ({} out of vocabulary)",
        sim.spearman, sim.pairs, sim.oov
    );
    if let Some(p) = &save {
        kv.save_binary(p)?;
        println!("saved {}", p.display());
    }
    println!(
        "result: analogy_accuracy={:.4} analogy_questions={} spearman={:.4} words_per_s={:.0} seconds={:.2}",
        total.accuracy(),
        total.evaluated,
        sim.spearman,
        stats.words_per_sec,
        stats.seconds
    );
    Ok(())
}

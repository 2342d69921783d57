//! word2vec on real text: trains word vectors on the embedded 1M-word public-domain corpus (or
//! `--corpus FILE`), prints the nearest neighbours of a few words, the analogy accuracy on the
//! Google questions and the WordSim-353 correlation, and ends with a `result:` line.
//!
//! ```text
//! cargo run --release --example word2vec                 # skip-gram, 5 epochs, all cores
//! cargo run --release --example word2vec -- --quick      # a few seconds
//! cargo run --release --example word2vec -- --corpus ../shared/data/text_corpus/corpus.txt --cbow
//! ```

use std::error::Error;
use std::path::PathBuf;

use neurite::word2vec::{
    evaluate_analogies, evaluate_similarity, Architecture, Corpus, ThreadMode, TrainConfig,
    Word2Vec,
};

const USAGE: &str = "usage: word2vec [--quick] [--corpus FILE] [--cbow] [--hs] [--epochs N] \
[--threads N] [--hogwild] [--dim N] [--seed N] [--save FILE.bin] [--words w1,w2,...]";

/// Runs the example with command-line style arguments (without the program name).
pub fn run(args: &[String]) -> Result<(), Box<dyn Error>> {
    let mut quick = false;
    let mut corpus_path: Option<PathBuf> = None;
    let mut save: Option<PathBuf> = None;
    let mut config = TrainConfig::skip_gram();
    let mut epochs = None;
    let mut threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut words = "god,king,love,heaven,sword,father,night".to_string();
    let mut i = 0;
    let value = |i: usize| -> Result<&String, Box<dyn Error>> {
        args.get(i + 1)
            .ok_or_else(|| format!("{} needs a value\n{USAGE}", args[i]).into())
    };
    while i < args.len() {
        match args[i].as_str() {
            "--quick" => quick = true,
            "--hogwild" => {}
            "--cbow" => config.architecture = Architecture::Cbow,
            "--hs" => {
                config.hs = true;
                config.negative = 0;
            }
            "--corpus" => {
                corpus_path = Some(value(i)?.into());
                i += 1;
            }
            "--save" => {
                save = Some(value(i)?.into());
                i += 1;
            }
            "--epochs" => {
                epochs = Some(value(i)?.parse()?);
                i += 1;
            }
            "--threads" => {
                threads = value(i)?.parse()?;
                i += 1;
            }
            "--dim" => {
                config.dim = value(i)?.parse()?;
                i += 1;
            }
            "--seed" => {
                config.seed = value(i)?.parse()?;
                i += 1;
            }
            "--words" => {
                words = value(i)?.clone();
                i += 1;
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}").into()),
        }
        i += 1;
    }
    config.threads = threads;
    // Bit-identical output for a given seed and thread count (neurite's deterministic
    // multi-threaded mode, about as fast as Hogwild); `--hogwild` for the lock-free default.
    config.thread_mode = if args.iter().any(|a| a == "--hogwild") {
        ThreadMode::Hogwild
    } else {
        ThreadMode::Deterministic
    };
    // Quick: three epochs of CBOW (the fastest model) on the whole embedded corpus.
    if quick && corpus_path.is_none() && !args.iter().any(|a| a == "--hs") {
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

#[allow(dead_code)] // unused when the tour includes this file as a module
fn main() {
    // Keep freed training buffers for reuse (see `neurite::tensor::memory`).
    neurite::tensor::keep_freed_memory();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&args) {
        eprintln!("word2vec: {e}");
        std::process::exit(1);
    }
}

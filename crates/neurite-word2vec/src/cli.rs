//! The command line of `neurite-word2vec`: word2vec.c's flags (a drop-in replacement) plus the
//! subcommands `similar`, `analogy`, `evaluate` and `plot`. Parsing is here, in the library,
//! so that it is tested; the binary only calls [`run`].

use std::io::Write;
use std::path::PathBuf;

use crate::config::{Architecture, ReferenceFma, ThreadMode, TrainConfig};
use crate::corpus::Corpus;
use crate::error::{Error, Result};
use crate::evaluate::{
    evaluate_analogies, evaluate_analogies_file, evaluate_similarity, evaluate_similarity_file,
};
use crate::train::Word2Vec;
use crate::vectors::KeyedVectors;
use crate::vocab::Vocabulary;

/// Usage text, every flag with its default (as word2vec.c prints it).
pub const USAGE: &str = "neurite-word2vec: word vectors (a drop-in for word2vec.c)

Training:
  neurite-word2vec -train <file> -output <file> [options]
    -train <file>       text corpus (words separated by white space; a line break ends a sentence)
    -output <file>      where to save the word vectors
    -size <int>         vector dimension; default 100
    -window <int>       maximum skip length between words; default 5
    -sample <float>     threshold for sub-sampling frequent words; default 1e-3 (0 = off)
    -hs <int>           1 = hierarchical softmax; default 0
    -negative <int>     negative samples; default 5 (0 = off)
    -threads <int>      threads; default 1
    -iter <int>         training epochs; default 5
    -min-count <int>    discard words seen fewer times; default 5
    -max-vocab <int>    keep at most this many words; default no limit
    -alpha <float>      starting learning rate; default 0.025 for skip-gram, 0.05 for CBOW
    -binary <int>       1 = save vectors in the binary format; default 0 (text)
    -cbow <int>         1 = continuous bag of words, 0 = skip-gram; default 1
    -save-vocab <file>  save the vocabulary (`word count` lines)
    -read-vocab <file>  read the vocabulary from a file instead of counting the corpus
    -debug <int>        0 = quiet, 1+ = progress; default 2
    -seed <int>         seed of every random choice; default 1
    -deterministic <int> 1 = bit-identical multi-threaded results (private copies merged in
                        thread order); default 0 (Hogwild)
    -init-range <float> initial input vectors uniform in ±init-range/size; default 1.0
                        (gensim's; word2vec.c's is 0.5)
    -private-rows <int> Hogwild threads train private copies of this many most-used rows per
                        matrix, exchanged every 10000 words; default 1024 (0 = all shared)
    -max-sentence <int> cut sentences after this many kept words; default 1000 (word2vec.c's)
    -sync-words <int>   deterministic mode: words each thread reads per round (on
                        average); default 50000
    -sync-hot-rows <int> deterministic mode: most-used rows per matrix merged after every
                        round; default 4096
    -sync-cold-rounds <int> deterministic mode: the other rows are merged every this many
                        rounds; default 4 (1 = every row after every round)
    -reference <int>    reproduce word2vec.c's arithmetic and random numbers bit for bit (one
                        thread, 400 MB unigram table), as GCC 12 -O3 built it: 1 = with
                        -ffp-contract=off (or without FMA); 2 = -march=native on an AMD
                        EPYC with AVX-512 (znver3 tuning); 3 = -march=haswell; default 0
    -no-shrink          always use the full window (no soft window)
  Without -train, the embedded 1M-word public-domain corpus is used when -output is given.

Using vectors (text or binary, detected):
  neurite-word2vec similar <vectors> <word> [<topn>=10]
  neurite-word2vec analogy <vectors> <a> <b> <c> [<topn>=5]        words nearest a − b + c
  neurite-word2vec evaluate <vectors> [-questions <file>] [-pairs <file>] [-restrict <n>=30000]
                        defaults: the embedded questions-words.txt and wordsim353.tsv
  neurite-word2vec plot <vectors> <out.svg> <word>...               2-D PCA of the words
";

fn parse<T: std::str::FromStr>(flag: &'static str, v: &str) -> Result<T> {
    v.parse()
        .map_err(|_| Error::config(flag, v, "a number of the right kind"))
}

/// Options of a training run from the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainArgs {
    /// The corpus (`None`: the embedded corpus).
    pub train: Option<PathBuf>,
    /// Output vectors file.
    pub output: Option<PathBuf>,
    /// Save the vectors in the binary format.
    pub binary: bool,
    /// Save the vocabulary here.
    pub save_vocab: Option<PathBuf>,
    /// Read the vocabulary from here.
    pub read_vocab: Option<PathBuf>,
    /// Training settings.
    pub config: TrainConfig,
}

/// Parses word2vec.c-style flags (`-size 100`, also accepted with two dashes).
pub fn parse_train_args(args: &[String]) -> Result<TrainArgs> {
    let mut t = TrainArgs {
        train: None,
        output: None,
        binary: false,
        save_vocab: None,
        read_vocab: None,
        config: TrainConfig {
            progress: true,
            ..TrainConfig::default()
        },
    };
    let mut cbow = true;
    let mut seen: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let flag = args[i].trim_start_matches('-');
        // word2vec.c silently takes the first of two equal flags; neither choice is obvious.
        if seen.contains(&flag) {
            return Err(Error::InvalidConfig {
                name: "flag",
                value: args[i].clone(),
                expected: "each flag at most once",
            });
        }
        seen.push(flag);
        if flag == "no-shrink" {
            t.config.shrink_window = false;
            i += 1;
            continue;
        }
        if flag == "h" || flag == "help" {
            return Err(Error::config("help", "requested", "see the usage text"));
        }
        let value = args.get(i + 1).ok_or(Error::InvalidConfig {
            name: "arguments",
            value: args[i].clone(),
            expected: "a value after each flag",
        })?;
        let c = &mut t.config;
        match flag {
            "train" => t.train = Some(value.into()),
            "output" => t.output = Some(value.into()),
            "size" => c.dim = parse("size", value)?,
            "window" => c.window = parse("window", value)?,
            "sample" => c.sample = parse("sample", value)?,
            "hs" => c.hs = parse::<u8>("hs", value)? != 0,
            "negative" => c.negative = parse("negative", value)?,
            "threads" => c.threads = parse("threads", value)?,
            "iter" => c.epochs = parse("iter", value)?,
            "min-count" => c.vocab.min_count = parse("min-count", value)?,
            "max-vocab" => c.vocab.max_vocab_size = Some(parse("max-vocab", value)?),
            "alpha" => c.alpha = Some(parse("alpha", value)?),
            "binary" => t.binary = parse::<u8>("binary", value)? != 0,
            "cbow" => cbow = parse::<u8>("cbow", value)? != 0,
            "save-vocab" => t.save_vocab = Some(value.into()),
            "read-vocab" => t.read_vocab = Some(value.into()),
            "debug" => c.progress = parse::<u32>("debug", value)? > 0,
            "seed" => c.seed = parse("seed", value)?,
            "deterministic" => {
                c.thread_mode = if parse::<u8>("deterministic", value)? != 0 {
                    ThreadMode::Deterministic
                } else {
                    ThreadMode::Hogwild
                }
            }
            "init-range" => c.init_range = parse("init-range", value)?,
            "private-rows" => c.private_rows = parse("private-rows", value)?,
            "max-sentence" => c.max_sentence_len = parse("max-sentence", value)?,
            "sync-words" => c.sync_words = parse("sync-words", value)?,
            "sync-hot-rows" => c.sync_hot_rows = parse("sync-hot-rows", value)?,
            "sync-cold-rounds" => c.sync_cold_rounds = parse("sync-cold-rounds", value)?,
            "reference" => {
                let level = parse::<u8>("reference", value)?;
                c.reference_parity = level > 0;
                c.reference_fma = match level {
                    0 | 1 => ReferenceFma::Off,
                    2 => ReferenceFma::GCC12_ZNVER_AVX512,
                    3 => ReferenceFma::GCC12_HASWELL,
                    _ => return Err(Error::config("reference", value, "0, 1, 2 or 3")),
                };
            }
            _ => {
                return Err(Error::InvalidConfig {
                    name: "flag",
                    value: args[i].clone(),
                    expected: "one of the flags in the usage text",
                })
            }
        }
        i += 2;
    }
    t.config.architecture = if cbow {
        Architecture::Cbow
    } else {
        Architecture::SkipGram
    };
    t.config.validate()?;
    Ok(t)
}

/// The error for a default that needs the `embedded-data` feature when it is off.
#[cfg(not(feature = "embedded-data"))]
fn not_embedded(flag: &'static str) -> Error {
    Error::InvalidConfig {
        name: flag,
        value: "(not given)".into(),
        expected: "a file: this build has no embedded data (feature `embedded-data` is off)",
    }
}

/// The embedded corpus, the default without `-train`.
fn embedded_corpus() -> Result<Corpus> {
    #[cfg(feature = "embedded-data")]
    return Corpus::embedded();
    #[cfg(not(feature = "embedded-data"))]
    Err(not_embedded("-train"))
}

/// The embedded analogy questions, the default without `-questions`.
fn embedded_questions() -> Result<String> {
    #[cfg(feature = "embedded-data")]
    return crate::data::questions_words();
    #[cfg(not(feature = "embedded-data"))]
    Err(not_embedded("-questions"))
}

/// The embedded WordSim-353 pairs, the default without `-pairs`.
fn embedded_pairs() -> Result<String> {
    #[cfg(feature = "embedded-data")]
    return Ok(crate::data::wordsim353().to_owned());
    #[cfg(not(feature = "embedded-data"))]
    Err(not_embedded("-pairs"))
}

/// Trains as word2vec.c's main does, and saves what was asked for.
pub fn run_train(t: &TrainArgs, out: &mut dyn Write) -> Result<()> {
    let corpus = match &t.train {
        Some(p) => Corpus::file(p),
        None => embedded_corpus()?,
    };
    if t.config.progress {
        let _ = writeln!(
            out,
            "Starting training using file {}",
            corpus.path().display()
        );
    }
    let reference = t.config.reference_parity;
    let vocab = match &t.read_vocab {
        Some(p) if reference => Vocabulary::load_reference(p, &t.config.vocab)?,
        Some(p) => Vocabulary::load(p, &t.config.vocab)?,
        None if reference => Vocabulary::build_reference(&corpus, &t.config.vocab)?,
        None => Vocabulary::build(&corpus, &t.config.vocab)?,
    };
    if let Some(p) = &t.save_vocab {
        vocab.save(p)?;
    }
    let Some(output) = &t.output else {
        return Ok(());
    };
    let (model, stats) = Word2Vec::train_with_vocab(&corpus, vocab, &t.config)?;
    let kv = model.into_keyed_vectors();
    if t.binary {
        kv.save_binary(output)?;
    } else {
        kv.save_text(output)?;
    }
    if t.config.progress {
        let _ = writeln!(
            out,
            "Trained on {} words in {:.2} s: {:.0} words/s ({} threads); vectors saved to {}",
            stats.corpus_words,
            stats.seconds,
            stats.words_per_sec,
            stats.threads,
            output.display()
        );
        if stats.threads > 1 {
            let t: Vec<String> = stats
                .thread_seconds
                .iter()
                .map(|s| format!("{s:.2}"))
                .collect();
            let _ = writeln!(out, "Each thread finished after (s): {}", t.join(" "));
        }
    }
    Ok(())
}

/// Runs the command line (`args` without the program name), writing results to `out`.
pub fn run(args: &[String], out: &mut dyn Write) -> Result<()> {
    let io = |e: std::io::Error| Error::io("<stdout>", e);
    let need = |n: usize, what: &'static str| -> Result<()> {
        if args.len() < n {
            Err(Error::InvalidConfig {
                name: "arguments",
                value: args.join(" "),
                expected: what,
            })
        } else {
            Ok(())
        }
    };
    match args.first().map(String::as_str) {
        None | Some("-h") | Some("--help") | Some("help") => {
            out.write_all(USAGE.as_bytes()).map_err(io)?;
            Ok(())
        }
        Some("similar") => {
            need(3, "similar <vectors> <word> [<topn>]")?;
            let kv = KeyedVectors::load(&args[1])?;
            let topn = args
                .get(3)
                .map(|s| parse("topn", s))
                .transpose()?
                .unwrap_or(10);
            for (w, s) in kv.most_similar(&args[2], topn)? {
                writeln!(out, "{w:<20} {s:.4}").map_err(io)?;
            }
            Ok(())
        }
        Some("analogy") => {
            need(5, "analogy <vectors> <a> <b> <c> [<topn>]")?;
            let kv = KeyedVectors::load(&args[1])?;
            let topn = args
                .get(5)
                .map(|s| parse("topn", s))
                .transpose()?
                .unwrap_or(5);
            for (w, s) in kv.analogy(&args[2], &args[3], &args[4], topn)? {
                writeln!(out, "{w:<20} {s:.4}").map_err(io)?;
            }
            Ok(())
        }
        Some("evaluate") => {
            need(
                2,
                "evaluate <vectors> [-questions <file>] [-pairs <file>] [-restrict <n>]",
            )?;
            let kv = KeyedVectors::load(&args[1])?;
            let mut questions = None;
            let mut pairs = None;
            let mut restrict = 30_000usize;
            let mut i = 2;
            while i < args.len() {
                let v = args.get(i + 1).ok_or(Error::InvalidConfig {
                    name: "arguments",
                    value: args[i].clone(),
                    expected: "a value after each flag",
                })?;
                match args[i].trim_start_matches('-') {
                    "questions" => questions = Some(PathBuf::from(v)),
                    "pairs" => pairs = Some(PathBuf::from(v)),
                    "restrict" => restrict = parse("restrict", v)?,
                    _ => {
                        return Err(Error::InvalidConfig {
                            name: "flag",
                            value: args[i].clone(),
                            expected: "-questions, -pairs or -restrict",
                        })
                    }
                }
                i += 2;
            }
            let analogies = match &questions {
                Some(p) => evaluate_analogies_file(&kv, p, restrict)?,
                None => evaluate_analogies(&kv, &embedded_questions()?, restrict)?,
            };
            let sim = match &pairs {
                Some(p) => evaluate_similarity_file(&kv, p, restrict)?,
                None => evaluate_similarity(&kv, &embedded_pairs()?, restrict)?,
            };
            write!(out, "{}", analogies.table()).map_err(io)?;
            writeln!(
                out,
                "word pairs: Spearman {:.4}, Pearson {:.4} ({} pairs, {} out of vocabulary)",
                sim.spearman, sim.pearson, sim.pairs, sim.oov
            )
            .map_err(io)?;
            writeln!(
                out,
                "result: analogy_accuracy={:.4} analogy_questions={} spearman={:.4}",
                analogies.accuracy(),
                analogies.total().evaluated,
                sim.spearman
            )
            .map_err(io)?;
            Ok(())
        }
        Some("plot") => {
            need(5, "plot <vectors> <out.svg> <word> <word>...")?;
            let kv = KeyedVectors::load(&args[1])?;
            let words: Vec<&str> = args[3..].iter().map(String::as_str).collect();
            crate::plot::save_pca_svg(&kv, &words, &args[2])?;
            writeln!(out, "wrote {}", args[2]).map_err(io)?;
            Ok(())
        }
        Some(_) => run_train(&parse_train_args(args)?, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn word2vec_c_flags_parse() {
        let t = parse_train_args(&args(
            "-train c.txt -output v.bin -cbow 0 -size 200 -window 8 -negative 25 -hs 0 -sample 1e-4 -threads 2 -binary 1 -iter 15 -min-count 3 -alpha 0.03 -save-vocab v.txt",
        ))
        .unwrap();
        assert_eq!(t.train, Some(PathBuf::from("c.txt")));
        assert!(t.binary);
        let c = &t.config;
        assert_eq!(c.architecture, Architecture::SkipGram);
        assert_eq!(
            (c.dim, c.window, c.negative, c.threads, c.epochs),
            (200, 8, 25, 2, 15)
        );
        assert_eq!(
            (c.sample, c.vocab.min_count, c.alpha),
            (1e-4, 3, Some(0.03))
        );
        assert_eq!(t.save_vocab, Some(PathBuf::from("v.txt")));
    }

    #[test]
    fn neurite_flags_parse() {
        let t = parse_train_args(&args(
            "-threads 2 -deterministic 1 -sync-words 5000 -sync-hot-rows 100 -sync-cold-rounds 3 -private-rows 64 -init-range 0.5 -max-sentence 10000 -seed 7",
        ))
        .unwrap();
        let c = &t.config;
        assert_eq!(c.thread_mode, ThreadMode::Deterministic);
        assert_eq!((c.sync_hot_rows, c.sync_cold_rounds), (100, 3));
        assert_eq!(
            (c.sync_words, c.private_rows, c.max_sentence_len, c.seed),
            (5000, 64, 10_000, 7)
        );
        assert_eq!(c.init_range, 0.5);
        for bad in [
            "-sync-words 0",
            "-sync-cold-rounds 0",
            "-init-range 0",
            "-init-range nan",
            "-max-sentence 0",
        ] {
            assert!(parse_train_args(&args(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_flags_are_errors() {
        assert!(parse_train_args(&args("-window 0")).is_err());
        assert!(parse_train_args(&args("-size")).is_err());
        assert!(parse_train_args(&args("-size ten")).is_err());
        assert!(parse_train_args(&args("-bogus 1")).is_err());
        assert!(matches!(
            parse_train_args(&args("-negative 5 -hs 1 -negative 0")),
            Err(Error::InvalidConfig { name: "flag", .. })
        ));
        assert!(parse_train_args(&args("-no-shrink -no-shrink")).is_err());
        assert!(parse_train_args(&args("-reference 4")).is_err());
        let t = parse_train_args(&args("-reference 2 -cbow 0")).unwrap();
        assert!(t.config.reference_parity);
        assert_eq!(
            t.config.reference_fma,
            crate::config::ReferenceFma::GCC12_ZNVER_AVX512
        );
        let t = parse_train_args(&args("-reference 1")).unwrap();
        assert_eq!(t.config.reference_fma, crate::config::ReferenceFma::Off);
        let mut out = Vec::new();
        assert!(run(&args("similar"), &mut out).is_err());
    }

    #[test]
    fn train_then_query_from_the_command_line() {
        let dir = std::env::temp_dir().join(format!("neurite-w2v-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let corpus = dir.join("c.txt");
        std::fs::write(&corpus, "a b c d e f a b c d e f\n".repeat(100)).unwrap();
        let vectors = dir.join("v.bin");
        let vocab = dir.join("vocab.txt");
        let cmd = format!(
            "-train {} -output {} -size 10 -iter 1 -min-count 1 -binary 1 -debug 0 -save-vocab {}",
            corpus.display(),
            vectors.display(),
            vocab.display()
        );
        let mut out = Vec::new();
        run(&args(&cmd), &mut out).unwrap();
        assert!(std::fs::read_to_string(&vocab)
            .unwrap()
            .starts_with("</s> 100\n"));
        let mut out = Vec::new();
        run(
            &args(&format!("similar {} a 3", vectors.display())),
            &mut out,
        )
        .unwrap();
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 3);
        let mut out = Vec::new();
        run(
            &args(&format!("analogy {} a b c 2", vectors.display())),
            &mut out,
        )
        .unwrap();
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 2);
        let svg = dir.join("p.svg");
        let mut out = Vec::new();
        run(
            &args(&format!(
                "plot {} {} a b c",
                vectors.display(),
                svg.display()
            )),
            &mut out,
        )
        .unwrap();
        assert!(std::fs::read_to_string(&svg).unwrap().contains("</svg>"));
        let mut out = Vec::new();
        run(&args(&format!("evaluate {}", vectors.display())), &mut out).unwrap();
        assert!(String::from_utf8(out)
            .unwrap()
            .contains("result: analogy_accuracy="));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! The command line of `neurite-word2vec`: word2vec.c's flags (a drop-in replacement) plus the
//! subcommands `similar`, `analogy`, `doesnt-match`, `rank`, `closer-than`, `n-similarity`,
//! `evaluate`, `plot`, `info` and `phrase`
//! (word2phrase.c's command line). Parsing is here,
//! in the library, so that it is tested; the binary only calls [`run_os`].
//!
//! Arguments are `OsString`s: file names and words need not be UTF-8 (words are looked up as
//! the bytes given, as word2vec.c does); flags and numbers must be, and every number is
//! checked (range, sign, NaN) with an error naming its flag.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::PathBuf;

use crate::config::{Architecture, ReferenceFma, ThreadMode, TrainConfig};
use crate::corpus::Corpus;
use crate::error::{Error, Result};
use crate::evaluate::{
    evaluate_analogies, evaluate_analogies_file, evaluate_similarity, evaluate_similarity_file,
};
use crate::train::Word2Vec;
use crate::vectors::{KeyedVectors, LoadOptions};
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

Using vectors (text or binary, detected; gzip-compressed too). Every command takes
--limit <n> (read only the first n vectors, as gensim's `limit`):
  neurite-word2vec similar <vectors> [+]<word>... [-<word>...] [--topn <n>=10]
                        [--restrict <n>] [--cosmul]
                        words nearest the mean of the +words minus the -words (gensim's
                        most_similar; --cosmul: most_similar_cosmul); `similar <vectors>
                        <word> <topn>` also works
  neurite-word2vec analogy <vectors> <a> <b> <c> [<topn>=5] [--cosmul]  words nearest a − b + c
  neurite-word2vec doesnt-match <vectors> <word>...                 the word that does not fit
  neurite-word2vec rank <vectors> <word> <other>      1 + the words closer to <word> than <other>
  neurite-word2vec closer-than <vectors> <word> <other>             those words
  neurite-word2vec n-similarity <vectors> <word>... -- <word>...    cosine of the two sets' means
  neurite-word2vec evaluate <vectors> [-questions <file>] [-pairs <file>] [-restrict <n>=30000]
                        defaults: the embedded questions-words.txt and wordsim353.tsv;
                        analogies are scored by 3CosAdd and 3CosMul
  neurite-word2vec plot <vectors> <out.svg> <word>...               2-D PCA of the words
  neurite-word2vec info <vectors>                                   words and dimension

Phrases (word2phrase.c's tool; run again on its output for longer phrases):
  neurite-word2vec phrase -train <file> -output <file> [-min-count <int>=5]
                        [-threshold <float>=100] [-debug <int>=2] [-scoring word2phrase|gensim|npmi]
                        [-prune-at <entries>=350000000]
                        joins pairs a b into a_b when (count(ab) − min-count) / (count(a)·count(b))
                        · words > threshold; output identical to word2phrase.c's
";

fn parse<T: std::str::FromStr>(flag: &'static str, v: &str) -> Result<T> {
    v.parse()
        .map_err(|_| Error::config(flag, v, "a number of the right kind"))
}

/// An argument as UTF-8 text, or an error naming `what`.
fn utf8<'a>(what: &'static str, a: &'a OsStr) -> Result<&'a str> {
    a.to_str()
        .ok_or_else(|| Error::config(what, a.to_string_lossy(), "UTF-8 text"))
}

/// A number argument of `flag`, checked.
fn number<T: std::str::FromStr>(flag: &'static str, a: &OsStr) -> Result<T> {
    parse(flag, utf8(flag, a)?)
}

/// An argument as the bytes given (a word to look up).
fn arg_bytes(a: &OsStr) -> Vec<u8> {
    #[cfg(unix)]
    {
        std::os::unix::ffi::OsStrExt::as_bytes(a).to_vec()
    }
    #[cfg(not(unix))]
    {
        a.to_string_lossy().into_owned().into_bytes()
    }
}

/// The command-line flag of a [`TrainConfig`] field, for errors.
fn flag_of(field: &'static str) -> &'static str {
    match field {
        "dim" => "size",
        "epochs" => "iter",
        "max_sentence_len" => "max-sentence",
        "init_range" => "init-range",
        "sync_words" => "sync-words",
        "sync_hot_rows" => "sync-hot-rows",
        "sync_cold_rounds" => "sync-cold-rounds",
        "private_rows" => "private-rows",
        "reference_fma" => "reference",
        other => other,
    }
}

/// The training flags that take a value (without their dash).
const FLAGS: [&str; 29] = [
    "train",
    "output",
    "size",
    "window",
    "sample",
    "hs",
    "negative",
    "threads",
    "iter",
    "min-count",
    "max-vocab",
    "alpha",
    "binary",
    "cbow",
    "save-vocab",
    "read-vocab",
    "debug",
    "seed",
    "deterministic",
    "init-range",
    "private-rows",
    "max-sentence",
    "sync-words",
    "sync-hot-rows",
    "sync-cold-rounds",
    "reference",
    "no-shrink",
    "h",
    "help",
];

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
pub fn parse_train_args(args: &[impl AsRef<OsStr>]) -> Result<TrainArgs> {
    let args: Vec<&OsStr> = args.iter().map(|a| a.as_ref()).collect();
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
        let flag = utf8("flag", args[i])?.trim_start_matches('-');
        // word2vec.c silently takes the first of two equal flags; neither choice is obvious.
        if seen.contains(&flag) {
            return Err(Error::config(
                "flag",
                args[i].to_string_lossy(),
                "each flag at most once",
            ));
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
        let os_value = *args.get(i + 1).ok_or_else(|| {
            Error::config(
                "arguments",
                args[i].to_string_lossy(),
                "a value after each flag",
            )
        })?;
        // Paths are taken as given; every other value must be text.
        if let Some(slot) = match flag {
            "train" => Some(&mut t.train),
            "output" => Some(&mut t.output),
            "save-vocab" => Some(&mut t.save_vocab),
            "read-vocab" => Some(&mut t.read_vocab),
            _ => None,
        } {
            *slot = Some(PathBuf::from(os_value));
            i += 2;
            continue;
        }
        let name = FLAGS.iter().copied().find(|f| *f == flag).unwrap_or("flag");
        let value = utf8(name, os_value)?;
        let c = &mut t.config;
        match flag {
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
                return Err(Error::config(
                    "flag",
                    args[i].to_string_lossy(),
                    "one of the flags in the usage text",
                ))
            }
        }
        i += 2;
    }
    t.config.architecture = if cbow {
        Architecture::Cbow
    } else {
        Architecture::SkipGram
    };
    // Errors name the flag, not the field.
    t.config.validate().map_err(|e| match e {
        Error::InvalidConfig {
            name,
            value,
            expected,
        } => Error::InvalidConfig {
            name: flag_of(name),
            value,
            expected,
        },
        e => e,
    })?;
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
    // A typo in an output path must not cost the run: check before any work.
    for p in [&t.output, &t.save_vocab].into_iter().flatten() {
        crate::io::check_writable(p)?;
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
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    run_os(&args, out)
}

/// `phrase`: word2phrase.c's command line.
fn run_phrase(args: &[OsString], out: &mut dyn Write) -> Result<()> {
    let mut train = None;
    let mut output = None;
    let mut debug = 2u32;
    let mut o = crate::phrases::PhraseOptions::default();
    let mut i = 0;
    while i < args.len() {
        let flag = utf8("flag", &args[i])?.trim_start_matches('-');
        let v = args.get(i + 1).ok_or_else(|| {
            Error::config("arguments", flag.to_string(), "a value after each flag")
        })?;
        match flag {
            "train" => train = Some(PathBuf::from(v)),
            "output" => output = Some(PathBuf::from(v)),
            "min-count" => o.min_count = number("min-count", v)?,
            "threshold" => o.threshold = number("threshold", v)?,
            "debug" => debug = number("debug", v)?,
            "prune-at" => o.prune_at = number("prune-at", v)?,
            "scoring" => {
                o.scoring = match utf8("scoring", v)? {
                    "word2phrase" => crate::phrases::PhraseScoring::Word2Phrase,
                    "gensim" | "default" => crate::phrases::PhraseScoring::Gensim,
                    "npmi" => crate::phrases::PhraseScoring::Npmi,
                    other => {
                        return Err(Error::config(
                            "scoring",
                            other,
                            "word2phrase, gensim or npmi",
                        ))
                    }
                }
            }
            _ => {
                return Err(Error::config(
                    "flag",
                    flag.to_string(),
                    "-train, -output, -min-count, -threshold, -debug, -scoring or -prune-at",
                ))
            }
        }
        i += 2;
    }
    let usage = "phrase -train <file> -output <file> [-min-count <n>] [-threshold <x>]";
    let (Some(train), Some(output)) = (train, output) else {
        return Err(Error::config(
            "arguments",
            "-train or -output missing",
            usage,
        ));
    };
    if o.threshold.is_nan() {
        return Err(Error::config("threshold", o.threshold, "a finite number"));
    }
    let phrases = crate::phrases::phrase_file(&train, &output, &o)?;
    let io = |e: std::io::Error| Error::io("<stdout>", e);
    if debug > 0 {
        writeln!(out, "Words in train file: {}", phrases.train_words()).map_err(io)?;
        if debug > 1 {
            for (p, s) in phrases.top(20) {
                writeln!(out, "{p:<30} {s:.2}").map_err(io)?;
            }
        }
    }
    Ok(())
}

/// Options of the commands that use vectors: `--limit`, `--topn`, `--restrict`, `--cosmul`
/// (with one dash or two), taken out of the arguments.
struct QueryOptions {
    limit: Option<usize>,
    topn: Option<usize>,
    restrict: Option<usize>,
    cosmul: bool,
}

/// Splits `args` into the query options and the other arguments. Single-dash options are
/// taken only where `single_dash` (in `similar`, `-word` is a negative word).
fn query_options(args: &[OsString], single_dash: bool) -> Result<(QueryOptions, Vec<&OsStr>)> {
    let mut o = QueryOptions {
        limit: None,
        topn: None,
        restrict: None,
        cosmul: false,
    };
    let mut rest = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].to_str().unwrap_or("");
        let name = a
            .strip_prefix("--")
            .or_else(|| a.strip_prefix('-').filter(|_| single_dash));
        let value = |flag: &'static str| -> Result<usize> {
            let v = args
                .get(i + 1)
                .ok_or_else(|| Error::config(flag, "nothing", "a number after the flag"))?;
            number(flag, v)
        };
        match name {
            Some("limit") => o.limit = Some(value("limit")?),
            Some("topn") => o.topn = Some(value("topn")?),
            Some("restrict") => o.restrict = Some(value("restrict")?),
            Some("cosmul") => {
                o.cosmul = true;
                i += 1;
                continue;
            }
            _ => {
                rest.push(args[i].as_os_str());
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    Ok((o, rest))
}

fn load(path: &OsStr, o: &QueryOptions) -> Result<KeyedVectors> {
    KeyedVectors::load_with(PathBuf::from(path), &LoadOptions::limit(o.limit))
}

/// Runs the command line from the arguments as the operating system gave them.
pub fn run_os(args: &[OsString], out: &mut dyn Write) -> Result<()> {
    let io = |e: std::io::Error| Error::io("<stdout>", e);
    let need = |rest: &[&OsStr], n: usize, what: &'static str| -> Result<()> {
        if rest.len() < n {
            let given: Vec<String> = args.iter().map(|a| a.to_string_lossy().into()).collect();
            Err(Error::config("arguments", given.join(" "), what))
        } else {
            Ok(())
        }
    };
    let print = |out: &mut dyn Write, found: Vec<(String, f32)>| -> Result<()> {
        for (w, s) in found {
            writeln!(out, "{w:<20} {s:.4}").map_err(io)?;
        }
        Ok(())
    };
    match args.first().map(|a| a.to_str()) {
        None | Some(Some("-h" | "--help" | "help")) => {
            out.write_all(USAGE.as_bytes()).map_err(io)?;
            Ok(())
        }
        Some(Some("similar")) => {
            let (o, rest) = query_options(&args[1..], false)?;
            let usage = "similar <vectors> [+]<word>... [-<word>...] [--topn <n>]";
            need(&rest, 2, usage)?;
            let kv = load(rest[0], &o)?;
            let mut words = &rest[1..];
            let mut topn = o.topn.unwrap_or(10);
            // The older form `similar <vectors> <word> <topn>`.
            if words.len() == 2 && o.topn.is_none() {
                if let Some(n) = words[1].to_str().and_then(|n| n.parse::<usize>().ok()) {
                    if kv.index_bytes(&arg_bytes(words[1])).is_none() {
                        topn = n;
                        words = &words[..1];
                    }
                }
            }
            let (mut positive, mut negative) = (Vec::new(), Vec::new());
            for w in words {
                let b = arg_bytes(w);
                match b.first() {
                    Some(b'+') if b.len() > 1 => positive.push(b[1..].to_vec()),
                    Some(b'-') if b.len() > 1 => negative.push(b[1..].to_vec()),
                    _ => positive.push(b),
                }
            }
            let found = if o.cosmul {
                kv.most_similar_cosmul(&positive, &negative, topn, o.restrict)?
            } else {
                kv.most_similar_to(&positive, &negative, topn, o.restrict)?
            };
            print(out, found)
        }
        Some(Some("analogy")) => {
            let (o, rest) = query_options(&args[1..], true)?;
            need(&rest, 4, "analogy <vectors> <a> <b> <c> [<topn>]")?;
            let kv = load(rest[0], &o)?;
            let topn = match rest.get(4) {
                Some(n) => number("topn", n)?,
                None => o.topn.unwrap_or(5),
            };
            let [a, b, c] = [1, 2, 3].map(|k| arg_bytes(rest[k]));
            // a − b + c: a and c positive, b negative, over unit vectors.
            let found = if o.cosmul {
                kv.most_similar_cosmul(&[a, c], &[b], topn, o.restrict)?
            } else {
                kv.most_similar_to(&[a, c], &[b], topn, o.restrict)?
            };
            print(out, found)
        }
        Some(Some("doesnt-match")) => {
            let (o, rest) = query_options(&args[1..], true)?;
            need(&rest, 3, "doesnt-match <vectors> <word> <word>...")?;
            let kv = load(rest[0], &o)?;
            let words: Vec<Vec<u8>> = rest[1..].iter().map(|w| arg_bytes(w)).collect();
            writeln!(out, "{}", kv.doesnt_match(&words)?).map_err(io)?;
            Ok(())
        }
        Some(Some(cmd @ ("rank" | "closer-than"))) => {
            let (o, rest) = query_options(&args[1..], true)?;
            need(&rest, 3, "rank|closer-than <vectors> <word> <other>")?;
            let kv = load(rest[0], &o)?;
            let (a, b) = (arg_bytes(rest[1]), arg_bytes(rest[2]));
            if cmd == "rank" {
                writeln!(out, "{}", kv.rank(&a, &b)?).map_err(io)?;
            } else {
                for w in kv.closer_than(&a, &b)? {
                    writeln!(out, "{w}").map_err(io)?;
                }
            }
            Ok(())
        }
        Some(Some("n-similarity")) => {
            let (o, rest) = query_options(&args[1..], true)?;
            let usage = "n-similarity <vectors> <word>... -- <word>...";
            need(&rest, 4, usage)?;
            let kv = load(rest[0], &o)?;
            let split = rest
                .iter()
                .position(|a| a.to_str() == Some("--"))
                .ok_or_else(|| Error::config("arguments", "no `--`", usage))?;
            let first: Vec<Vec<u8>> = rest[1..split].iter().map(|w| arg_bytes(w)).collect();
            let second: Vec<Vec<u8>> = rest[split + 1..].iter().map(|w| arg_bytes(w)).collect();
            writeln!(out, "{:.6}", kv.n_similarity(&first, &second)?).map_err(io)?;
            Ok(())
        }
        Some(Some("evaluate")) => {
            let (o, rest) = query_options(&args[1..], true)?;
            let usage = "evaluate <vectors> [-questions <file>] [-pairs <file>] [-restrict <n>]";
            need(&rest, 1, usage)?;
            let kv = load(rest[0], &o)?;
            let mut questions = None;
            let mut pairs = None;
            let restrict = o.restrict.unwrap_or(30_000);
            let mut i = 1;
            while i < rest.len() {
                let flag = utf8("flag", rest[i])?;
                let v = rest
                    .get(i + 1)
                    .ok_or_else(|| Error::config("arguments", flag, "a value after each flag"))?;
                match flag.trim_start_matches('-') {
                    "questions" => questions = Some(PathBuf::from(v)),
                    "pairs" => pairs = Some(PathBuf::from(v)),
                    _ => {
                        return Err(Error::config(
                            "flag",
                            flag,
                            "-questions, -pairs, -restrict or -limit",
                        ))
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
                "result: analogy_accuracy={:.4} analogy_accuracy_cosmul={:.4} analogy_questions={} spearman={:.4}",
                analogies.accuracy(),
                analogies.accuracy_cosmul(),
                analogies.total().evaluated,
                sim.spearman
            )
            .map_err(io)?;
            Ok(())
        }
        Some(Some("phrase")) => run_phrase(&args[1..], out),
        Some(Some("info")) => {
            let (o, rest) = query_options(&args[1..], true)?;
            need(&rest, 1, "info <vectors> [--limit <n>]")?;
            let kv = load(rest[0], &o)?;
            writeln!(
                out,
                "{} words × {} dimensions ({} bytes of vectors)",
                kv.len(),
                kv.dim(),
                kv.vectors().len() * 4
            )
            .map_err(io)?;
            Ok(())
        }
        Some(Some("plot")) => {
            let (o, rest) = query_options(&args[1..], true)?;
            need(&rest, 4, "plot <vectors> <out.svg> <word> <word>...")?;
            let kv = load(rest[0], &o)?;
            let words: Vec<String> = rest[2..]
                .iter()
                .map(|w| utf8("word", w).map(String::from))
                .collect::<Result<_>>()?;
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            crate::plot::save_pca_svg(&kv, &words, PathBuf::from(rest[1]))?;
            writeln!(out, "wrote {}", PathBuf::from(rest[1]).display()).map_err(io)?;
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

    fn flag_error(cmd: &str) -> &'static str {
        match parse_train_args(&args(cmd)) {
            Err(Error::InvalidConfig { name, .. }) => name,
            other => panic!("{cmd}: expected an invalid setting, got {other:?}"),
        }
    }

    #[test]
    fn numbers_are_checked_and_errors_name_the_flag() {
        for (cmd, flag) in [
            ("-size 1000000000", "size"),
            ("-size -5", "size"),
            ("-negative 1000000000000", "negative"),
            ("-threads 100000", "threads"),
            ("-max-sentence 1000000000000", "max-sentence"),
            ("-window 1e3", "window"),
            ("-iter 1e30", "iter"),
            ("-iter 0", "iter"),
            ("-alpha nan", "alpha"),
            ("-alpha -0.1", "alpha"),
            ("-sample NaN", "sample"),
            ("-init-range inf", "init-range"),
            ("-binary -1", "binary"),
        ] {
            assert_eq!(flag_error(cmd), flag, "{cmd}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn arguments_need_not_be_utf8() {
        use std::os::unix::ffi::OsStringExt;
        let dir = std::env::temp_dir().join(format!("neurite-w2v-os-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // A Latin-1 file name and a Latin-1 word.
        let mut name = dir.clone().into_os_string().into_vec();
        name.extend_from_slice(b"/v\xe9.bin");
        let path = OsString::from_vec(name);
        let kv = KeyedVectors::from_byte_words(
            [&b"\xe9t\xe9"[..], b"b", b"c"],
            2,
            vec![1.0, 0.0, 0.9, 0.1, 0.0, 1.0],
        )
        .unwrap();
        kv.save_binary(PathBuf::from(&path)).unwrap();
        let a = |v: &[&[u8]]| -> Vec<OsString> {
            v.iter().map(|b| OsString::from_vec(b.to_vec())).collect()
        };
        let mut out = Vec::new();
        let mut cmd = a(&[b"similar"]);
        cmd.push(path.clone());
        cmd.extend(a(&[b"\xe9t\xe9", b"--topn", b"1"]));
        run_os(&cmd, &mut out).unwrap();
        assert!(String::from_utf8(out).unwrap().starts_with('b'));
        // A non-UTF-8 number is an error naming its flag, not a panic.
        assert!(matches!(
            parse_train_args(&a(&[b"-size", b"1\xff"])),
            Err(Error::InvalidConfig { name: "size", .. })
        ));
        assert!(parse_train_args(&a(&[b"-\xff", b"1"])).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_unwritable_output_fails_before_training() {
        let dir = std::env::temp_dir().join(format!("neurite-w2v-unw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let corpus = dir.join("c.txt");
        std::fs::write(&corpus, "a b c\n".repeat(10)).unwrap();
        let cmd = format!(
            "-train {} -output {}/no/such/dir/v.bin -min-count 1 -debug 0 -save-vocab {}",
            corpus.display(),
            dir.display(),
            dir.join("vocab.txt").display()
        );
        assert!(matches!(
            run(&args(&cmd), &mut Vec::new()),
            Err(Error::Io { .. })
        ));
        // Nothing was done: not even the vocabulary was saved.
        assert!(!dir.join("vocab.txt").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn gensim_style_queries_from_the_command_line() {
        let dir = std::env::temp_dir().join(format!("neurite-w2v-q-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("v.txt");
        crate::vectors::tests::sample().save_text(&p).unwrap();
        let lines = |cmd: String| -> Vec<String> {
            let mut out = Vec::new();
            run(&args(&cmd), &mut out).unwrap();
            String::from_utf8(out)
                .unwrap()
                .lines()
                .map(String::from)
                .collect()
        };
        let v = p.display();
        let l = lines(format!("similar {v} +king +woman -man --topn 1"));
        assert!(l[0].starts_with("queen"), "{l:?}");
        let l = lines(format!("similar {v} king woman -man --topn 2 --cosmul"));
        assert_eq!(l.len(), 2);
        // --limit reads only the first vectors: `woman` (the fifth) is not there.
        let mut out = Vec::new();
        let cmd = format!("similar {v} woman --limit 4");
        assert!(matches!(
            run(&args(&cmd), &mut out),
            Err(Error::UnknownWord(_))
        ));
        assert_eq!(lines(format!("similar {v} king 2 --limit 4")).len(), 2);
        let l = lines(format!("doesnt-match {v} king queen man woman --limit 5"));
        assert_eq!(l.len(), 1);
        assert_eq!(
            l[0],
            crate::vectors::tests::sample()
                .doesnt_match(&["king", "queen", "man", "woman"])
                .unwrap()
        );
        let l = lines(format!("analogy {v} king man woman 1 --limit 5"));
        assert!(l[0].starts_with("queen"), "{l:?}");
        let kv = crate::vectors::tests::sample();
        let l = lines(format!("rank {v} king queen"));
        assert_eq!(l, [kv.rank("king", "queen").unwrap().to_string()]);
        let l = lines(format!("closer-than {v} king queen"));
        assert_eq!(l, kv.closer_than("king", "queen").unwrap());
        let l = lines(format!("n-similarity {v} king man -- queen woman"));
        let want = kv
            .n_similarity(&["king", "man"], &["queen", "woman"])
            .unwrap();
        assert_eq!(l, [format!("{want:.6}")]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn phrase_subcommand_takes_word2phrase_flags() {
        let dir = std::env::temp_dir().join(format!("neurite-w2v-ph-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (i, o) = (dir.join("in.txt"), dir.join("out.txt"));
        std::fs::write(&i, "new york is big\nnew york is old\n".repeat(10)).unwrap();
        let cmd = format!(
            "phrase -train {} -output {} -min-count 2 -threshold 1 -debug 0",
            i.display(),
            o.display()
        );
        run(&args(&cmd), &mut Vec::new()).unwrap();
        assert!(std::fs::read_to_string(&o)
            .unwrap()
            .starts_with(" new_york"));
        for bad in [
            "-threshold nan",
            "-min-count -1",
            "-scoring pmi",
            "-bogus 1",
        ] {
            let cmd = format!(
                "phrase -train {} -output {} {bad}",
                i.display(),
                o.display()
            );
            assert!(
                matches!(
                    run(&args(&cmd), &mut Vec::new()),
                    Err(Error::InvalidConfig { .. })
                ),
                "{bad}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

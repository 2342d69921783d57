//! The fuzz targets (every file reader, and the word2vec command line) and their seed files,
//! written by the library's own writers.

use std::collections::BTreeMap;
use std::path::Path;

use neurite::nn::{self, Module};
use neurite::tensor::Rng;
use neurite::word2vec::{self, KeyedVectors, VocabOptions, Vocabulary};

use super::mutate::gzip;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A reader called in the child process on a file holding the input.
    Reader,
    /// The `neurite-word2vec` binary run on the input's arguments.
    Cli,
}

/// A fuzz target.
pub(super) struct Target {
    pub(super) name: &'static str,
    pub(super) kind: Kind,
    /// The input may be gzip (decompressed bytes bound the memory allowed).
    pub(super) gz: bool,
    /// Reads the input file; the result is discarded (an error is a correct outcome).
    pub(super) run: fn(&Path, &Fixtures),
}

/// Objects the readers need besides their input (vectors to evaluate against, a model to
/// load parameters into).
pub(super) struct Fixtures {
    pub(super) vectors: KeyedVectors,
}

pub(super) fn targets() -> Vec<Target> {
    fn t(name: &'static str, gz: bool, run: fn(&Path, &Fixtures)) -> Target {
        Target {
            name,
            kind: Kind::Reader,
            gz,
            run,
        }
    }
    vec![
        t("idx", false, |p, _| drop(nn::data::read_idx(p))),
        t("idx-gz", true, |p, _| {
            drop(nn::data::read_idx(p).and_then(|a| a.to_tensor::<f32>(1.0 / 255.0)))
        }),
        t("csv", true, |p, _| {
            let opts = nn::data::CsvOptions {
                delimiter: nn::data::Delimiter::Comma,
                skip_rows: 1,
            };
            drop(nn::data::read_csv::<f32>(p, &opts));
        }),
        t("labelled-text", false, |p, _| {
            if let Ok(records) = nn::text::read_labelled(p) {
                drop(records);
            }
        }),
        t("safetensors", false, |p, _| {
            let mut rng = Rng::new(1);
            if let Ok(mut model) = nn::Linear::<f32>::new(3, 2, &mut rng) {
                drop(nn::load_params(&mut model as &mut dyn Module<f32>, p));
            }
        }),
        t("state-dict", false, |p, _| {
            if let Ok(sd) = nn::StateDict::load(p) {
                for (_, t) in sd.iter() {
                    drop(t.to_float::<f32>());
                    drop(t.to_u64());
                }
            }
        }),
        t("checkpoint", false, |p, _| {
            let mut rng = Rng::new(1);
            let (Ok(mut model), Ok(mut adam)) = (
                nn::Linear::<f32>::new(3, 2, &mut rng),
                nn::Adam::<f32>::new(1e-3),
            ) else {
                return;
            };
            let mut shuffle = Rng::new(2);
            drop(nn::load_checkpoint(
                p,
                &mut model as &mut dyn Module<f32>,
                &mut adam,
                &mut [("shuffle", &mut shuffle)],
            ));
        }),
        t("w2v-text", false, |p, _| drop(KeyedVectors::load_text(p))),
        t("w2v-binary", false, |p, _| {
            drop(KeyedVectors::load_binary(p))
        }),
        t("w2v-vocab", false, |p, _| {
            drop(Vocabulary::load(p, &VocabOptions::default()))
        }),
        t("w2v-corpus", false, |p, _| {
            let opts = VocabOptions {
                min_count: 1,
                ..VocabOptions::default()
            };
            drop(Vocabulary::build(&word2vec::Corpus::file(p), &opts));
        }),
        t("w2v-questions", false, |p, f| {
            drop(word2vec::evaluate_analogies_file(&f.vectors, p, 1000))
        }),
        t("w2v-pairs", false, |p, f| {
            drop(word2vec::evaluate_similarity_file(&f.vectors, p, 1000))
        }),
        Target {
            name: "w2v-cli",
            kind: Kind::Cli,
            gz: false,
            run: |_, _| {},
        },
    ]
}

pub(super) const VECTORS_TEXT: &str =
    "6 4\nking 0.5 0.1 -0.3 0.8\nqueen 0.45 0.2 -0.25 0.9\nman 0.3 -0.1 0.2 0.1\n\
woman 0.28 0.05 0.22 0.2\nparis 0.9 0.9 0.1 -0.5\nfrance 0.85 0.8 0.15 -0.4\n";
pub(super) const CORPUS: &str =
    "the king and the queen rule the land\nthe man and the woman walk\n\
paris is in france and the king of france\nthe queen of the land\n";

/// Writes the seed files of every target with the library's own writers and returns them by
/// target name; also the files the command-line seeds refer to, in `dir`.
pub(super) fn write_seeds(dir: &Path) -> Result<BTreeMap<&'static str, Vec<Vec<u8>>>, String> {
    let err = |e: &dyn std::fmt::Display| format!("fuzz seeds: {e}");
    std::fs::create_dir_all(dir).map_err(|e| err(&e))?;
    let mut seeds: BTreeMap<&'static str, Vec<Vec<u8>>> = BTreeMap::new();

    // IDX: images [n, rows, cols] and labels, of every element type.
    let mut idx = Vec::new();
    let images = {
        let mut b = vec![0, 0, 8, 3];
        for d in [3u32, 4, 4] {
            b.extend(d.to_be_bytes());
        }
        b.extend((0..48u32).map(|i| (i * 37 % 256) as u8));
        b
    };
    idx.push(images.clone());
    idx.push({
        let mut b = vec![0, 0, 8, 1, 0, 0, 0, 5];
        b.extend([0, 3, 9, 1, 2]);
        b
    });
    for (code, size) in [(0x09u8, 1usize), (0x0b, 2), (0x0c, 4), (0x0d, 4), (0x0e, 8)] {
        let mut b = vec![0, 0, code, 2, 0, 0, 0, 2, 0, 0, 0, 3];
        b.extend((0..6 * size).map(|i| (i * 11) as u8));
        idx.push(b);
    }
    seeds.insert("idx-gz", idx.iter().map(|b| gzip(b)).collect());
    seeds.insert("idx", idx);

    let csv_text = "a,b,c\n1,2,3\n4.5,-6,7e3\n0.25,8,nan\n";
    seeds.insert(
        "csv",
        vec![
            csv_text.as_bytes().to_vec(),
            gzip(csv_text.as_bytes()),
            b"x,y\n1,2\n3,4\n5,6\n".to_vec(),
        ],
    );
    seeds.insert(
        "labelled-text",
        vec![
            b"pos\tA fine film.\nneg\tDull and long.\n\nneg\tcoarse\tBad!\r\n".to_vec(),
            b"DESC:manner\tHow did serfdom develop ?\nENTY:cremat\tWhat films featured the character ?\n"
                .to_vec(),
        ],
    );

    // Parameter files from save_params.
    let mut rng = Rng::new(7);
    let model = nn::Linear::<f32>::new(3, 2, &mut rng).map_err(|e| err(&e))?;
    let p = dir.join("params.safetensors");
    nn::save_params(&model as &dyn Module<f32>, &p).map_err(|e| err(&e))?;
    let other = nn::Linear::<f32>::with_bias(3, 2, false, &mut rng).map_err(|e| err(&e))?;
    let p2 = dir.join("params-nobias.safetensors");
    nn::save_params(&other as &dyn Module<f32>, &p2).map_err(|e| err(&e))?;
    seeds.insert("safetensors", vec![read(&p)?, read(&p2)?]);
    // Any safetensors file: float and integer tensors, with metadata.
    let mut sd = nn::StateDict::new();
    let x = neurite::tensor::Tensor::<f64>::from_vec(vec![1.0, -2.5, 3.25], &[3])
        .map_err(|e| err(&e))?;
    sd.insert("x", nn::StoredTensor::from_float(&x));
    sd.insert(
        "counts",
        nn::StoredTensor::from_u64(&[2, 2], &[0, 7, u64::MAX, 3]).map_err(|e| err(&e))?,
    );
    let p3 = dir.join("state.safetensors");
    sd.save(&p3).map_err(|e| err(&e))?;
    seeds.insert("state-dict", vec![read(&p3)?, read(&p)?]);
    // A checkpoint of a model, an optimiser and a generator.
    let mut model = model;
    let adam = nn::Adam::<f32>::new(1e-3).map_err(|e| err(&e))?;
    let shuffle = Rng::new(2);
    let p4 = dir.join("checkpoint.safetensors");
    nn::save_checkpoint(
        &p4,
        &mut model as &mut dyn Module<f32>,
        &adam,
        &[("shuffle", &shuffle)],
        &nn::TrainingState::default(),
    )
    .map_err(|e| err(&e))?;
    seeds.insert("checkpoint", vec![read(&p4)?]);

    // Word vectors: parsed from text, written back by the library in both formats.
    let src = dir.join("vectors-src.txt");
    std::fs::write(&src, VECTORS_TEXT).map_err(|e| err(&e))?;
    let kv = KeyedVectors::load_text(&src).map_err(|e| err(&e))?;
    let vt = dir.join("vec.txt");
    let vb = dir.join("vec.bin");
    kv.save_text(&vt).map_err(|e| err(&e))?;
    kv.save_binary(&vb).map_err(|e| err(&e))?;
    seeds.insert("w2v-text", vec![read(&vt)?]);
    seeds.insert("w2v-binary", vec![read(&vb)?]);

    // Vocabulary counted from a corpus and saved by the library.
    let corpus = dir.join("corpus.txt");
    std::fs::write(&corpus, CORPUS).map_err(|e| err(&e))?;
    let opts = VocabOptions {
        min_count: 1,
        ..VocabOptions::default()
    };
    let vocab = Vocabulary::build(&word2vec::Corpus::file(&corpus), &opts).map_err(|e| err(&e))?;
    let vp = dir.join("vocab.txt");
    vocab.save(&vp).map_err(|e| err(&e))?;
    seeds.insert("w2v-vocab", vec![read(&vp)?]);
    seeds.insert("w2v-corpus", vec![CORPUS.as_bytes().to_vec()]);
    let questions = ": capital\nparis france paris france\nking queen man woman\n: family\nman woman king queen\n";
    let pairs = "# word1 word2 score\nking queen 8.5\nman woman 8.3\nparis france\t7.0\n";
    std::fs::write(dir.join("questions.txt"), questions).map_err(|e| err(&e))?;
    std::fs::write(dir.join("pairs.txt"), pairs).map_err(|e| err(&e))?;
    seeds.insert("w2v-questions", vec![questions.as_bytes().to_vec()]);
    seeds.insert("w2v-pairs", vec![pairs.as_bytes().to_vec()]);

    let cli: &[&[&str]] = &[
        &["similar", "vec.bin", "king", "3"],
        &["analogy", "vec.txt", "man", "king", "woman", "2"],
        &[
            "evaluate",
            "vec.bin",
            "-questions",
            "questions.txt",
            "-pairs",
            "pairs.txt",
            "-restrict",
            "10",
        ],
        &[
            "-train",
            "corpus.txt",
            "-output",
            "out.txt",
            "-size",
            "8",
            "-iter",
            "1",
            "-min-count",
            "1",
            "-threads",
            "1",
            "-debug",
            "0",
            "-window",
            "2",
        ],
        &[
            "-train",
            "corpus.txt",
            "-output",
            "out.bin",
            "-size",
            "4",
            "-iter",
            "1",
            "-min-count",
            "1",
            "-cbow",
            "0",
            "-hs",
            "1",
            "-negative",
            "0",
            "-binary",
            "1",
            "-save-vocab",
            "vocab-out.txt",
            "-debug",
            "0",
        ],
        &[
            "-train",
            "corpus.txt",
            "-output",
            "out2.txt",
            "-read-vocab",
            "vocab.txt",
            "-size",
            "4",
            "-iter",
            "1",
            "-threads",
            "2",
            "-deterministic",
            "1",
            "-debug",
            "0",
        ],
        &["--help"],
    ];
    seeds.insert(
        "w2v-cli",
        cli.iter().map(|a| a.join("\0").into_bytes()).collect(),
    );
    Ok(seeds)
}

pub(super) fn read(p: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))
}

//! The reference-parity mode against files written by the original word2vec.c (2015 release)
//! on a 5,000-word corpus (`tests/fixtures/word2vec-c/`, made by `bench/parity.sh` with
//! `FIXTURE=`): the same vocabulary file, and the same vectors bit for bit, for CBOW and
//! skip-gram with negative sampling, hierarchical softmax and both, from two builds of
//! word2vec.c — `-ffp-contract=off` (every product rounded) and GCC 12's default
//! `-O3 -march=native` on an AMD EPYC with AVX-512 (fused multiply-adds).
//!
//! The fixture corpus has line breaks, empty lines, a 1,200-word line (beyond word2vec.c's
//! 1,000-word sentence cap) and no final line break, so the original's end-of-file and
//! sentence handling are exercised too. Flags of every run: `-min-count 4 -size 21 -window 3
//! -iter 2 -threads 1 -binary 1` and the defaults (`-sample 1e-3`, alpha 0.05 CBOW / 0.025
//! skip-gram); 21 = 16 + 5 exercises both the vectorised blocks and the fused tail of the
//! dot products.
//!
//! What this small fixture can and cannot tell: every update `y += g·x` rounds differently
//! with and without FMA, so a wrong `reference_fma` family fails here at once; but a dot
//! product's last bit matters only when it moves the score across a bin of the sigmoid
//! table, which 20,000 words of training never happen to do, so the per-loop details of
//! [`ReferenceFma::GCC12_ZNVER_AVX512`] against [`ReferenceFma::GCC12_HASWELL`] are checked
//! by `bench/parity.sh` on 300,000 words, not here.
//!
//! Every SIMD level this CPU has is checked (the training loop is compiled once per level).

use std::path::PathBuf;

use neurite_tensor::simd::{self, Level};
use neurite_word2vec::{
    Architecture, Corpus, KeyedVectors, ReferenceFma, TrainConfig, VocabOptions, Vocabulary,
    Word2Vec,
};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/word2vec-c")
        .join(name)
}

fn corpus() -> Corpus {
    Corpus::file(fixture("corpus.txt"))
}

fn vocab_options() -> VocabOptions {
    VocabOptions {
        min_count: 4,
        ..Default::default()
    }
}

#[test]
fn vocabulary_file_is_word2vec_c_s() {
    let v = Vocabulary::build_reference(&corpus(), &vocab_options()).unwrap();
    let dir = std::env::temp_dir().join(format!("neurite-w2v-parity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("vocab.txt");
    v.save(&path).unwrap();
    let ours = std::fs::read(&path).unwrap();
    let theirs = std::fs::read(fixture("vocab.txt")).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(v.len() > 150, "{} words", v.len());
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&theirs)
    );
    // The ordinary vocabulary orders ties by bytes: the same words, another order.
    let plain = Vocabulary::build(&corpus(), &vocab_options()).unwrap();
    let mut a = plain.words().to_vec();
    let mut b = v.words().to_vec();
    assert_ne!(a, b, "the fixture has ties in another order than by bytes");
    a.sort();
    b.sort();
    // `build` also counts the last word, which has no line break after it.
    assert!(b.iter().all(|w| a.contains(w)));
}

#[test]
fn vectors_are_word2vec_c_s_bit_for_bit() {
    let modes = [
        ("cbow-ns", Architecture::Cbow, false, 5),
        ("sg-ns", Architecture::SkipGram, false, 5),
        ("cbow-hs", Architecture::Cbow, true, 0),
        ("sg-hs", Architecture::SkipGram, true, 0),
        ("sg-both", Architecture::SkipGram, true, 3),
    ];
    let builds = [
        ("off", ReferenceFma::Off),
        ("native2", ReferenceFma::GCC12_ZNVER_AVX512),
    ];
    let mut failures = Vec::new();
    for level in Level::available() {
        for (name, architecture, hs, negative) in modes {
            for (build, fma) in builds {
                let config = TrainConfig {
                    architecture,
                    hs,
                    negative,
                    dim: 21,
                    window: 3,
                    epochs: 2,
                    threads: 1,
                    reference_parity: true,
                    reference_fma: fma,
                    vocab: vocab_options(),
                    ..TrainConfig::default()
                };
                let (model, _) =
                    simd::with_level(level, || Word2Vec::train(&corpus(), &config)).unwrap();
                let ours = model.into_keyed_vectors();
                let file = format!("{name}-{build}.bin");
                let theirs = KeyedVectors::load(fixture(&file)).unwrap();
                assert_eq!(ours.words(), theirs.words(), "{file}");
                let differing = ours
                    .vectors()
                    .iter()
                    .zip(theirs.vectors())
                    .filter(|(a, b)| a.to_bits() != b.to_bits())
                    .count();
                let max_diff = ours
                    .vectors()
                    .iter()
                    .zip(theirs.vectors())
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0f32, f32::max);
                if differing > 0 {
                    failures.push(format!(
                    "{file} at {level}: {differing} of {} values differ, max |diff| {max_diff:e}",
                    ours.vectors().len()
                ));
                }
                // The file neurite writes is the file word2vec.c wrote.
                let mut bytes = Vec::new();
                ours.write_binary(&mut bytes).unwrap();
                if differing == 0 && bytes != std::fs::read(fixture(&file)).unwrap() {
                    failures.push(format!("{file} at {level}: same vectors, different bytes"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn other_rounding_gives_other_bits() {
    // The fixture tells the two builds apart: fused multiply-adds change the result, so the
    // test above would catch a mode that ignored `reference_fma`.
    let a = KeyedVectors::load(fixture("sg-ns-off.bin")).unwrap();
    let b = KeyedVectors::load(fixture("sg-ns-native2.bin")).unwrap();
    assert_eq!(a.words(), b.words());
    assert_ne!(a.vectors(), b.vectors());
    let max_diff = a
        .vectors()
        .iter()
        .zip(b.vectors())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    assert!(
        max_diff < 1e-3,
        "rounding-level differences only: {max_diff}"
    );
}

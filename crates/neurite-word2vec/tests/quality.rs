//! Training quality on the embedded 1M-word corpus: word vectors must learn real structure
//! (obvious neighbours, analogies far above chance) in every threading mode. Runs in a few
//! seconds in release; ignored in debug builds, where training is tens of times slower.
#![cfg(feature = "embedded-data")]

use neurite_word2vec::{
    data, evaluate_analogies, Architecture, Corpus, KeyedVectors, ThreadMode, TrainConfig, Word2Vec,
};

fn train(config: &TrainConfig) -> KeyedVectors {
    let corpus = Corpus::embedded().unwrap();
    let (model, stats) = Word2Vec::train(&corpus, config).unwrap();
    assert_eq!(stats.corpus_words, 1_000_000 * config.epochs as u64);
    model.into_keyed_vectors()
}

/// Analogy accuracy on the questions whose words are among the 30,000 most frequent.
fn accuracy(kv: &KeyedVectors) -> (f64, usize) {
    let r = evaluate_analogies(kv, &data::questions_words().unwrap(), 30_000).unwrap();
    (r.accuracy(), r.total().evaluated)
}

/// Father's five nearest neighbours hold at least `min_family` family words, and the
/// similarities order as they should.
fn check_neighbours(kv: &KeyedVectors, min_family: usize) {
    eprintln!(
        "father: {:?}; father~mother {:.3}, night~morning {:.3}, father~sword {:.3}",
        kv.most_similar("father", 5).unwrap(),
        kv.similarity("father", "mother").unwrap(),
        kv.similarity("night", "morning").unwrap(),
        kv.similarity("father", "sword").unwrap()
    );
    let family = ["mother", "brother", "daughter", "sister", "wife", "son"];
    let near: Vec<String> = kv
        .most_similar("father", 5)
        .unwrap()
        .into_iter()
        .map(|p| p.0)
        .collect();
    assert!(
        near.iter().filter(|w| family.contains(&w.as_str())).count() >= min_family,
        "neighbours of father: {near:?}"
    );
    assert!(kv.similarity("father", "mother").unwrap() > 0.5);

    assert!(
        kv.similarity("father", "mother").unwrap()
            > kv.similarity("father", "sword").unwrap() + 0.2
    );
}

#[test]
#[cfg_attr(debug_assertions, ignore = "slow in debug builds; run with --release")]
fn cbow_learns_neighbours_and_analogies() {
    let config = TrainConfig {
        epochs: 3,
        ..TrainConfig::cbow()
    };
    let kv = train(&config);
    let (acc, n) = accuracy(&kv);
    eprintln!("cbow accuracy {acc} on {n}");
    check_neighbours(&kv, 3);
    // Measured 0.049 on 1,599 questions with this seed (2-thread runs: 0.034-0.039); chance
    // is below 0.001.
    assert!(n > 1500, "{n} questions");
    assert!(acc > 0.03, "analogy accuracy {acc}");
}

#[test]
#[cfg_attr(debug_assertions, ignore = "slow in debug builds; run with --release")]
fn every_mode_learns_on_two_threads() {
    for (arch, hs, mode) in [
        (Architecture::SkipGram, false, ThreadMode::Deterministic),
        (Architecture::Cbow, true, ThreadMode::Hogwild),
    ] {
        let config = TrainConfig {
            architecture: arch,
            hs,
            negative: if hs { 0 } else { 5 },
            // Hogwild's quality depends on how the two threads interleave: on a loaded
            // machine one thread may sweep most parts, which learns like one thread (CBOW HS
            // after 2 epochs: father~mother 0.48-0.57, sometimes only 2 family words among
            // father's 5 neighbours). A third epoch keeps the check about learning, not load;
            // even so, a CI run under load once had 2 (mother, brother; father~mother 0.54,
            // father~sword 0.07), so Hogwild needs 2 family words (random vectors: 0.001 of
            // them expected, 6 in a vocabulary of tens of thousands) and the same similarity
            // checks.
            epochs: if mode == ThreadMode::Hogwild { 3 } else { 2 },
            threads: 2,
            thread_mode: mode,
            ..TrainConfig::default()
        };
        let kv = train(&config);
        let (acc, _) = accuracy(&kv);
        eprintln!("{arch:?} hs={hs} {mode:?}: accuracy {acc}");
        check_neighbours(&kv, if mode == ThreadMode::Hogwild { 2 } else { 3 });
        assert!(
            acc > 0.02,
            "{arch:?} hs={hs} {mode:?}: analogy accuracy {acc}"
        );
    }
}

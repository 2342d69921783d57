//! Where the families meet: the image-description encoder–decoder (CNN + GRU/LSTM) and the
//! CNN-vs-RNN sentence-classification comparison, trained briefly on real data (the vendored
//! Fashion-MNIST subset, movie-review sentences) with floors on what they must reach. Run in
//! release: `cargo test --release --test families`.

use neurite::nn::data::{Dataset, MnistSplit};
use neurite::rnn::decode::{beam_search, greedy};
use neurite::rnn::CellKind;
use neurite::tensor::Rng;
use neurite_examples::caption::{
    self, evaluate, train, CaptionConfig, Captioner, Charset, FASHION_NAMES,
};
use neurite_examples::compare::{self, compare, length_thirds, CompareConfig};
use neurite_examples::data::{fashion_mnist_subset_dir, head, load_mnist_dir};

fn caption_config(cell: CellKind, steps: usize) -> CaptionConfig {
    CaptionConfig {
        cell,
        hidden: 64,
        embed: 16,
        lr: 0.002,
        batch: 32,
        steps,
        beam: 3,
        seed: 7,
    }
}

fn subset(split: MnistSplit, n: usize) -> Dataset<f32> {
    head(
        &load_mnist_dir(&fashion_mnist_subset_dir(), split).unwrap(),
        n,
    )
    .unwrap()
}

/// Trains on the first 3,000 Fashion-MNIST training images for `steps` steps and evaluates
/// on the first 500 test images.
fn caption_run(cell: CellKind, steps: usize) -> (Captioner, caption::Evaluation, Charset) {
    let train_set = subset(MnistSplit::Train, 3000);
    let test_set = subset(MnistSplit::Test, 500);
    let config = caption_config(cell, steps);
    let charset = Charset::new(&FASHION_NAMES);
    let mut model = Captioner::new(&config, charset.len(), 28, &mut Rng::new(config.seed)).unwrap();
    train(
        &mut model,
        &train_set,
        &FASHION_NAMES,
        &charset,
        &config,
        false,
    )
    .unwrap();
    let ev = evaluate(&model, &test_set, &FASHION_NAMES, &charset, config.beam).unwrap();
    eprintln!(
        "{cell:?}, {steps} steps: greedy {:.3}, beam {:.3}, invented {}",
        ev.greedy_accuracy, ev.beam_accuracy, ev.greedy_invented
    );
    (model, ev, charset)
}

#[test]
fn gru_captioner_learns_to_spell_the_class_names() {
    let (model, ev, charset) = caption_run(CellKind::Gru, 400);
    // Measured: 0.77–0.78 (GRU and LSTM) after 400 steps of 32 images; the decoder
    // must in addition spell every name, so an untrained or mis-wired decoder scores ~0.
    assert!(
        ev.greedy_accuracy >= 0.72,
        "greedy accuracy {}",
        ev.greedy_accuracy
    );
    assert!(
        ev.beam_accuracy >= ev.greedy_accuracy - 0.02,
        "beam {} vs greedy {}",
        ev.beam_accuracy,
        ev.greedy_accuracy
    );
    assert!(
        ev.greedy_invented <= 10,
        "{} descriptions are no class name",
        ev.greedy_invented
    );
    // Beam hypotheses come best first, are finished, and beam width 1 is greedy decoding.
    let test_set = subset(MnistSplit::Test, 20);
    let states = model.initial_states(&test_set.features).unwrap();
    let step = |s: &[Vec<f32>], l: &[usize]| model.step(s, l);
    for (i, s) in states.into_iter().enumerate() {
        let g = greedy(s.clone(), &caption::decode_config(11, 1), step).unwrap();
        let b1 = beam_search(s, &caption::decode_config(11, 1), step).unwrap();
        assert_eq!(
            b1[0].tokens,
            g.tokens,
            "image {i}: {} vs {}",
            charset.decode(&b1[0].tokens),
            charset.decode(&g.tokens)
        );
        assert!((b1[0].log_prob - g.log_prob).abs() < 1e-9);
        let beams = &ev.beams[i];
        assert!(beams.windows(2).all(|w| w[0].log_prob >= w[1].log_prob));
        // Distinct hypotheses (a beam never keeps the same sequence twice).
        for (a, x) in beams.iter().enumerate() {
            assert!(
                beams[a + 1..].iter().all(|y| y.tokens != x.tokens),
                "image {i}"
            );
        }
    }
}

#[test]
fn lstm_captioner_learns_too() {
    let (_, ev, _) = caption_run(CellKind::Lstm, 400);
    assert!(
        ev.greedy_accuracy >= 0.72,
        "greedy accuracy {}",
        ev.greedy_accuracy
    );
}

#[test]
fn ascii_art_maps_intensity_to_the_ramp() {
    let mut pixels = vec![0.0f32; 28 * 28];
    for y in 0..14 {
        for x in 0..28 {
            pixels[y * 28 + x] = 1.0; // top half white
        }
    }
    let art = caption::ascii_art(&pixels, 28, 14);
    assert_eq!(art.len(), 14);
    assert!(art.iter().all(|l| l.chars().count() == 28));
    assert!(art[..7].iter().all(|l| l.chars().all(|c| c == '@')));
    assert!(art[7..].iter().all(|l| l.chars().all(|c| c == ' ')));
}

fn movie_snippets() -> std::path::PathBuf {
    let p = neurite_examples::data::vendored("movie_snippets.tsv");
    assert!(
        p.is_file(),
        "movie_snippets.tsv not found at {}",
        p.display()
    );
    p
}

#[test]
fn compare_trains_both_families_on_a_slice_and_the_table_adds_up() {
    let c = CompareConfig {
        limit: Some(3000),
        epochs: 3,
        log: false,
        ..Default::default()
    };
    let compare::Comparison {
        data,
        thirds,
        reports,
    } = compare(&movie_snippets(), &c).unwrap();
    assert_eq!(reports.len(), 2);
    let (e, f, h) = (c.embed, c.filters, c.hidden);
    // Parameters outside the embedding: Σ_w (F·E·w + F) + (3F·2 + 2), and
    // 2 directions × (3H·E + 3H·H + 2·3H) + (2H·2 + 2).
    let cnn_params: usize = c.widths.iter().map(|w| f * e * w + f).sum::<usize>() + 3 * f * 2 + 2;
    let rnn_params = 2 * (3 * h * e + 3 * h * h + 6 * h) + 2 * h * 2 + 2;
    assert_eq!(reports[0].params_without_embedding, cnn_params);
    assert_eq!(reports[1].params_without_embedding, rnn_params);
    assert_eq!(reports[0].params - cnn_params, data.vocab.len() * e);
    // The thirds partition the held-out set, short to long.
    let n: usize = thirds.iter().map(|t| t.indices.len()).sum();
    assert_eq!(n, data.test.len());
    assert!(
        thirds[0].max_tokens <= thirds[1].min_tokens
            && thirds[1].max_tokens <= thirds[2].min_tokens
    );
    for r in &reports {
        // 3,000 sentences, 3 epochs: both learn well above chance (0.5).
        assert!(
            r.accuracy > 0.6,
            "{}: held-out accuracy {}",
            r.name,
            r.accuracy
        );
        assert!((1..=c.epochs).contains(&r.best_epoch));
        // The overall accuracy is the size-weighted mean of the thirds'.
        let weighted: f64 = thirds
            .iter()
            .zip(r.thirds)
            .map(|(t, a)| a * t.indices.len() as f64)
            .sum::<f64>()
            / n as f64;
        assert!(
            (weighted - r.accuracy).abs() < 1e-9,
            "{}: {weighted} vs {}",
            r.name,
            r.accuracy
        );
        assert!(r.seconds_per_epoch > 0.0 && r.sentences_per_s > 0.0);
    }
    let table = compare::table(&reports, &thirds);
    assert_eq!(table.lines().count(), 4);
    assert!(table.contains("text CNN") && table.contains("bi-gru"));
}

#[test]
fn compare_is_deterministic_for_a_seed() {
    let c = CompareConfig {
        limit: Some(800),
        epochs: 1,
        log: false,
        cell: CellKind::Lstm,
        ..Default::default()
    };
    let a = compare(&movie_snippets(), &c).unwrap().reports;
    let b = compare(&movie_snippets(), &c).unwrap().reports;
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.name, y.name);
        assert_eq!(x.dev_accuracy, y.dev_accuracy);
        assert_eq!(x.accuracy, y.accuracy);
        assert_eq!(x.thirds, y.thirds);
    }
    assert_eq!(a[1].name, "bi-lstm");
}

#[test]
fn length_thirds_split_by_token_count() {
    use neurite::nn::text::TextExample;
    let examples: Vec<TextExample> = (0..10)
        .map(|i| TextExample {
            label: 0,
            ids: vec![2; 10 - i],
        })
        .collect();
    let idx: Vec<usize> = (0..10).collect();
    let t = length_thirds(&examples, &idx);
    assert_eq!(
        [t[0].indices.len(), t[1].indices.len(), t[2].indices.len()],
        [3, 3, 4]
    );
    assert_eq!((t[0].min_tokens, t[0].max_tokens), (1, 3));
    assert_eq!((t[2].min_tokens, t[2].max_tokens), (7, 10));
}

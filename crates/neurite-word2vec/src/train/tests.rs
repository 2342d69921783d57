//! Tests of training: determinism, the merge, the schedules, the Hogwild stage, parity's start,
//! bad input, and the output unit's gradient.

use super::chunks::{Chunks, CHUNKS_PER_THREAD};
use super::deterministic::{merge_stripe, Dirty};
use super::hogwild::Rows;
use super::*;
use crate::config::Architecture;
use crate::error::Error;
use crate::vocab::VocabOptions;
use neurite_tensor::simd::{self, Level};
use proptest::prelude::*;

/// The first `n` words of the embedded corpus.
fn small_corpus(n: usize) -> Corpus {
    Corpus::embedded().unwrap().head(n).unwrap()
}

fn config(arch: Architecture, hs: bool, negative: usize) -> TrainConfig {
    TrainConfig {
        architecture: arch,
        hs,
        negative,
        dim: 16,
        epochs: 2,
        vocab: VocabOptions {
            min_count: 3,
            ..Default::default()
        },
        ..TrainConfig::default()
    }
}

fn bits(m: &Word2Vec) -> Vec<u32> {
    m.input_vectors()
        .iter()
        .chain(m.output_vectors())
        .chain(m.inner_node_vectors())
        .map(|x| x.to_bits())
        .collect()
}

#[test]
fn same_seed_gives_the_same_vectors_on_one_thread() {
    let corpus = small_corpus(30_000);
    for arch in [Architecture::Cbow, Architecture::SkipGram] {
        let c = config(arch, true, 3);
        let (a, sa) = Word2Vec::train(&corpus, &c).unwrap();
        let (b, _) = Word2Vec::train(&corpus, &c).unwrap();
        assert_eq!(bits(&a), bits(&b), "{arch:?}");
        assert!(a.input_vectors().iter().all(|x| x.is_finite()));
        // Every epoch reads every word, line breaks included.
        assert_eq!(sa.words, 2 * a.vocabulary().total_words());
        let other = TrainConfig { seed: 2, ..c };
        let (d, _) = Word2Vec::train(&corpus, &other).unwrap();
        assert_ne!(bits(&a), bits(&d));
    }
}

#[test]
fn deterministic_mode_is_bit_identical_across_runs() {
    let corpus = small_corpus(30_000);
    for (arch, threads) in [(Architecture::SkipGram, 2), (Architecture::Cbow, 3)] {
        let c = TrainConfig {
            threads,
            thread_mode: ThreadMode::Deterministic,
            sync_words: 4_000,
            // Most rows are cold: merged every third round only.
            sync_hot_rows: 64,
            sync_cold_rounds: 3,
            ..config(arch, true, 3)
        };
        let (a, sa) = Word2Vec::train(&corpus, &c).unwrap();
        let (b, _) = Word2Vec::train(&corpus, &c).unwrap();
        assert_eq!(bits(&a), bits(&b), "{arch:?} on {threads} threads");
        assert_eq!(sa.words, 2 * a.vocabulary().total_words());
        // The merged model trained: it moved away from its initial vectors.
        let init = initial_input_vectors(a.vocabulary().len(), 16, &c);
        assert_ne!(a.input_vectors(), &init[..]);
    }
}

#[test]
fn a_forced_simd_level_reaches_the_training_threads() {
    // The level is read once on the thread that starts training and carried into the
    // workers (`Shared::level`, which `run_worker` dispatches on), so a deterministic run on 2
    // threads is reproducible at each level. (The levels' dot products differ in the last bit
    // only, which changes training only where it moves a score into another bin of the
    // sigmoid table: too rare to tell the levels apart on a small corpus.)
    let corpus = small_corpus(20_000);
    let c = TrainConfig {
        threads: 2,
        thread_mode: ThreadMode::Deterministic,
        sync_words: 4_000,
        ..config(Architecture::SkipGram, false, 3)
    };
    let vocab = Vocabulary::build(&corpus, &c.vocab).unwrap();
    for l in Level::available() {
        let shared = simd::with_level(l, || Shared::new(&corpus, &vocab, &c, 1)).unwrap();
        assert_eq!(shared.level, l);
        let (m, _) = simd::with_level(l, || Word2Vec::train(&corpus, &c)).unwrap();
        let (again, _) = simd::with_level(l, || Word2Vec::train(&corpus, &c)).unwrap();
        assert_eq!(bits(&m), bits(&again), "{l}");
    }
}

/// Merges the blocks `blocks` of `base` and `copies` as two stripes, one after the other.
fn merge_both_stripes(
    base: &mut [Vec<f32>; 3],
    copies: &mut [[Vec<f32>; 3]],
    dirty: &[[Dirty; 3]],
    dim: usize,
    blocks: &[std::ops::Range<usize>; 3],
) {
    let [b0, b1, b2] = base;
    let base_rows = [Rows::new(b0, dim), Rows::new(b1, dim), Rows::new(b2, dim)];
    let copy_rows: Vec<[Rows; 3]> = copies
        .iter_mut()
        .map(|[c0, c1, c2]| [Rows::new(c0, dim), Rows::new(c1, dim), Rows::new(c2, dim)])
        .collect();
    let dirty: Vec<&[Dirty; 3]> = dirty.iter().collect();
    for stripe in 0..2 {
        // SAFETY: one stripe at a time on this thread.
        unsafe { merge_stripe(stripe, 2, &dirty, base_rows, &copy_rows, blocks) };
    }
}

#[test]
fn merge_takes_a_lone_threads_row_and_sums_shared_rows_in_thread_order() {
    // 3 threads, 150 rows of 2 floats (three merge blocks), syn1 empty.
    let (rows, dim, threads) = (150usize, 2usize, 3usize);
    let init: Vec<f32> = (0..rows * dim).map(|i| i as f32 * 0.5).collect();
    let mut base = [init.clone(), Vec::new(), init.clone()];
    let mut copies: Vec<[Vec<f32>; 3]> = (0..threads).map(|_| base.clone()).collect();
    let mut dirty: Vec<[Dirty; 3]> = (0..threads)
        .map(|_| [Dirty::new(rows), Dirty::new(0), Dirty::new(rows)])
        .collect();
    // Thread t adds (t + 1) · 1000 to the rows it touches: row 3 by thread 1 alone, row
    // 70 by threads 0 and 2, row 149 by all; syn1neg row 64 by thread 2 alone.
    let touch = [(0, 3, 1), (0, 70, 0), (0, 70, 2), (2, 64, 2)];
    let all = (0..threads).map(|t| (0, 149, t));
    for (m, r, t) in touch.into_iter().chain(all) {
        dirty[t][m].mark(r);
        for x in &mut copies[t][m][r * dim..(r + 1) * dim] {
            *x += (t + 1) as f32 * 1000.0;
        }
    }
    let expect = |r: usize, by: &[usize]| -> Vec<f32> {
        let mut v = init[r * dim..(r + 1) * dim].to_vec();
        for &t in by {
            for x in &mut v {
                *x += (t + 1) as f32 * 1000.0;
            }
        }
        v
    };
    // A merge of the hot rows (block 0) alone: row 3 is merged; the cold rows keep their
    // own values in every copy and the base.
    merge_both_stripes(&mut base, &mut copies, &dirty, dim, &[0..1, 0..0, 0..1]);
    let row = |v: &Vec<f32>, r: usize| v[r * dim..(r + 1) * dim].to_vec();
    assert_eq!(row(&base[0], 3), expect(3, &[1]));
    assert_eq!(row(&base[0], 70), row(&init, 70));
    assert_eq!(row(&base[2], 64), row(&init, 64));
    for (t, c) in copies.iter().enumerate() {
        assert_eq!(row(&c[0], 3), expect(3, &[1]), "copy {t}");
        let own = if t == 0 || t == 2 { vec![t] } else { vec![] };
        assert_eq!(row(&c[0], 70), expect(70, &own), "copy {t}");
    }
    for d in &mut dirty {
        for m in [0, 2] {
            d[m].clear(0..1);
        }
    }
    // Then every row: the cold rows' changes, kept since, are merged now.
    merge_both_stripes(&mut base, &mut copies, &dirty, dim, &[0..3, 0..0, 0..3]);
    let mut want = [init.clone(), Vec::new(), init.clone()];
    for (m, r, by) in [
        (0, 3, &[1][..]),
        (0, 70, &[0, 2]),
        (0, 149, &[0, 1, 2]),
        (2, 64, &[2]),
    ] {
        want[m][r * dim..(r + 1) * dim].copy_from_slice(&expect(r, by));
    }
    assert_eq!(base, want);
    for c in &copies {
        assert_eq!(c, &want, "every copy holds the merged model");
    }
}

#[test]
fn reading_ahead_changes_neither_the_sentences_nor_the_draws() {
    let corpus = small_corpus(20_000);
    let opts = VocabOptions {
        min_count: 3,
        ..Default::default()
    };
    let vocab = Vocabulary::build(&corpus, &opts).unwrap();
    let cfg = TrainConfig {
        max_sentence_len: 50,
        ..TrainConfig::default()
    };
    let shared = Shared::new(&corpus, &vocab, &cfg, vocab.total_words()).unwrap();
    let range = (0, shared.file_len);
    let mut plain = Worker::new(0, range, &shared).unwrap();
    let mut ahead = Worker::new(0, range, &shared).unwrap();
    let mut sentences = 0;
    for step in 0.. {
        // Read ahead by varying amounts, sometimes past the end of the range.
        ahead
            .read_ahead(&shared, [0, 1, 7, 30_000, 30][step % 5])
            .unwrap();
        let end = plain.read_sentence::<false>(&shared).unwrap();
        assert_eq!(ahead.read_sentence::<false>(&shared).unwrap(), end);
        assert_eq!(plain.sentence, ahead.sentence, "sentence {step}");
        sentences += !plain.sentence.is_empty() as usize;
        if end {
            break;
        }
    }
    assert!(sentences > 100, "{sentences}");
    assert!(ahead.lookahead.is_empty());
    assert_eq!(
        (plain.word_count, plain.tokens_read, plain.rng.next_u64()),
        (ahead.word_count, ahead.tokens_read, ahead.rng.next_u64())
    );
}

#[test]
fn hogwild_threads_read_every_word_once_per_epoch() {
    let corpus = small_corpus(30_000);
    let c = TrainConfig {
        threads: 2,
        ..config(Architecture::SkipGram, false, 5)
    };
    let (m, stats) = Word2Vec::train(&corpus, &c).unwrap();
    assert_eq!(stats.words, 2 * m.vocabulary().total_words());
    assert!(m.input_vectors().iter().all(|x| x.is_finite()));
}

#[test]
fn stage_exchange_adds_this_threads_changes_and_takes_the_shared_values() {
    let dim = 2;
    let mut syn0 = vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
    let mut syn1 = vec![10.0f32, 20.0, 30.0, 40.0];
    let mut syn1neg = Vec::new();
    let shared = Weights::new(&mut syn0, &mut syn1, &mut syn1neg, dim);
    // SAFETY: one thread; the matrices outlive every use of `shared`.
    let mut stage = unsafe { Stage::new(shared, 1) };
    // The first row of syn0 and the last (root) row of syn1 are staged.
    assert_eq!(stage.lo, [0, 1, 0]);
    assert_eq!(stage.len, [1, 1, 0]);
    let w = stage.weights(shared);
    // SAFETY: as above; one slice at a time.
    unsafe {
        w.syn0.row(0)[0] += 0.5; // staged: private copy
        w.syn0.row(2)[1] += 0.25; // not staged: shared
        w.syn1.row(1)[1] -= 1.0; // staged
    }
    assert_eq!(syn0, [1.0, 2.0, 3.0, 4.0, 5.0, 6.25]);
    // Another thread changed the staged shared rows meanwhile.
    syn0[1] += 100.0;
    syn1[2] += 7.0;
    let shared = Weights::new(&mut syn0, &mut syn1, &mut syn1neg, dim);
    // SAFETY: as above.
    unsafe { stage.exchange(shared) };
    assert_eq!(syn0, [1.5, 102.0, 3.0, 4.0, 5.0, 6.25]);
    assert_eq!(syn1, [10.0, 20.0, 37.0, 39.0]);
    assert_eq!(stage.private[0], [1.5, 102.0]);
    assert_eq!(stage.snapshot[1], [37.0, 39.0]);
}

#[test]
fn hogwild_with_and_without_private_rows_trains_alike() {
    let corpus = small_corpus(30_000);
    let mut cfg = config(Architecture::SkipGram, true, 3);
    cfg.threads = 2;
    cfg.epochs = 3;
    let train = |threads: usize, private_rows: usize| {
        let config = TrainConfig {
            threads,
            private_rows,
            ..cfg.clone()
        };
        Word2Vec::train(&corpus, &config).unwrap()
    };
    let (one, one_stats) = train(1, 0);
    let (shared_only, stats) = train(2, 0);
    let (staged, staged_stats) = train(2, 64);
    assert_eq!(stats.words, one_stats.words);
    assert_eq!(staged_stats.words, one_stats.words);
    // The staged rows carry the training: the most frequent word's vector (a staged row)
    // moves away from its initial value about as far as with one thread or with every row
    // shared. Two threads move it further than one: over 40 runs, all shared 1.1–1.9
    // times as far, private rows 1.6–3.7 times (each thread's copy lags the other's
    // changes by up to 10,000 words, so both push it the same way for longer). Lost
    // exchanges would show as less movement, a runaway as far more.
    let moved = |m: &Word2Vec| -> f32 {
        let init = initial_input_vectors(m.vocabulary().len(), 16, m.config());
        (16..32)
            .map(|j| (m.input_vectors()[j] - init[j]).abs())
            .sum()
    };
    let (one, shared, staged) = (moved(&one), moved(&shared_only), moved(&staged));
    assert!(one > 0.0, "one thread left the word unchanged");
    assert!(
        shared > 0.5 * one && shared < 3.0 * one,
        "{shared} vs {one}"
    );
    assert!(
        staged > 0.5 * one && staged < 5.0 * one,
        "{staged} vs {one}"
    );
}

#[test]
fn deterministic_schedule_covers_the_corpus_once_per_epoch_in_neighbouring_parts() {
    let (threads, epochs) = (3, 2);
    let chunks = Chunks::new(10_007, threads, epochs);
    let per_epoch = threads * CHUNKS_PER_THREAD;
    let mut seen = vec![0usize; per_epoch];
    for t in 0..threads {
        let mut k = 0;
        while let Some(range) = chunks.static_part(t, k) {
            let i = chunks.bounds.iter().position(|&b| b == range.0).unwrap();
            assert_eq!(chunks.bounds[i + 1], range.1);
            // Round k: the threads train parts k·T .. k·T + T − 1, side by side.
            assert_eq!(i, (k % CHUNKS_PER_THREAD) * threads + t);
            seen[i] += 1;
            k += 1;
        }
        assert_eq!(k, epochs * CHUNKS_PER_THREAD);
    }
    assert!(seen.iter().all(|&n| n == epochs), "{seen:?}");
}

#[test]
fn hogwild_parts_cover_the_corpus_once_per_epoch() {
    let chunks = Chunks::new(1003, 2, 3);
    let mut seen = Vec::new();
    while let Some(r) = chunks.take() {
        seen.push(r);
    }
    assert_eq!(seen.len(), 3 * 2 * CHUNKS_PER_THREAD);
    for epoch in seen.chunks(2 * CHUNKS_PER_THREAD) {
        // Interleaved: the first two parts begin the two threads' shares.
        assert_eq!(epoch[0].0, 0);
        assert_eq!(epoch[1].0, epoch[2 * CHUNKS_PER_THREAD - 2].1);
        let mut parts = epoch.to_vec();
        parts.sort();
        assert_eq!(parts[0].0, 0);
        assert_eq!(parts[parts.len() - 1].1, 1003);
        assert!(parts
            .windows(2)
            .all(|p| p[0].1 == p[1].0 && p[0].0 < p[0].1));
    }
    assert_eq!(chunks.take(), None);
    // Several threads take distinct parts.
    let chunks = Chunks::new(10_000, 4, 2);
    let taken: Vec<Vec<(u64, u64)>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| s.spawn(|| std::iter::from_fn(|| chunks.take()).collect()))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all: Vec<(u64, u64)> = taken.into_iter().flatten().collect();
    all.sort();
    assert_eq!(all.len(), 2 * 4 * CHUNKS_PER_THREAD);
    assert!(
        all.chunks(2).all(|p| p[0] == p[1]),
        "each part once per epoch"
    );
}

#[test]
fn reference_parity_mode_is_deterministic_and_starts_like_word2vec_c() {
    let corpus = small_corpus(20_000);
    let c = TrainConfig {
        reference_parity: true,
        ..config(Architecture::Cbow, true, 0)
    };
    let (a, _) = Word2Vec::train(&corpus, &c).unwrap();
    let (b, _) = Word2Vec::train(&corpus, &c).unwrap();
    assert_eq!(bits(&a), bits(&b));
    // word2vec.c: next_random = 1; first value ((25214903928 & 0xFFFF) / 65536 − 0.5) / dim.
    let init = initial_input_vectors(
        3,
        4,
        &TrainConfig {
            dim: 4,
            ..c.clone()
        },
    );
    assert_eq!(
        init[0],
        (((25_214_903_928u64 & 0xFFFF) as f32 / 65536.0) - 0.5) / 4.0
    );
    // The seed does not matter in this mode.
    let (d, _) = Word2Vec::train(&corpus, &TrainConfig { seed: 99, ..c }).unwrap();
    assert_eq!(bits(&a), bits(&d));
}

#[test]
fn bad_input_is_a_typed_error() {
    let empty = Corpus::from_bytes("empty.txt", Vec::new());
    assert!(matches!(
        Word2Vec::train(&empty, &TrainConfig::default()),
        Err(crate::Error::EmptyCorpus { .. })
    ));
    let rare = Corpus::from_bytes("rare.txt", b"a b c d".to_vec());
    assert!(matches!(
        Word2Vec::train(&rare, &TrainConfig::default()),
        Err(crate::Error::EmptyVocabulary { .. })
    ));
    let c = TrainConfig {
        window: 0,
        ..TrainConfig::default()
    };
    assert!(matches!(
        Word2Vec::train(&rare, &c),
        Err(crate::Error::InvalidConfig { name: "window", .. })
    ));
    let missing = Corpus::file("/nonexistent/neurite/corpus.txt");
    match Word2Vec::train(&missing, &TrainConfig::default()) {
        Err(crate::Error::Io { path, .. }) => assert!(path.ends_with("corpus.txt")),
        other => panic!("unexpected {other:?}"),
    }
}

proptest! {
    /// One output unit's update is −α times the gradient of its loss
    /// L = −log σ(h·v') (label 1) or −log σ(−h·v') (label 0), checked by central
    /// differences in f64; the sigmoid table's resolution bounds the difference.
    #[test]
    fn output_unit_update_is_the_loss_gradient(
        hv in proptest::collection::vec((-0.5f32..0.5, -0.5f32..0.5), 1..40),
        label in 0u8..2,
    ) {
        let (h, out0): (Vec<f32>, Vec<f32>) = hv.into_iter().unzip();
        let corpus = Corpus::from_bytes("t", b"a b".to_vec());
        let vocab = Vocabulary::from_counts([("a", 1), ("b", 1)], &VocabOptions { min_count: 1, ..Default::default() }).unwrap();
        let cfg = TrainConfig::default();
        let shared = Shared::new(&corpus, &vocab, &cfg, vocab.total_words()).unwrap();
        let alpha = 0.1f32;
        let y = label as f64;
        let mut out = out0.clone();
        let mut neu1e = vec![0.0f32; h.len()];
        Worker::output_unit::<false, _>(Portable, &shared, alpha, &h, &mut neu1e, &mut out, label as f32, false);
        if let Some(fma) = Fma::at(Level::detected()) {
            // The AVX2+FMA kernels (here outside `simd::run`) compute the same update up to
            // the dot product's rounding, which may move the score into the next bin of the
            // sigmoid table: σ' ≤ 1/4 times a bin of 12/1000, times α and |x| ≤ 0.5.
            let mut out_f = out0.clone();
            let mut neu1e_f = vec![0.0f32; h.len()];
            Worker::output_unit::<false, _>(fma, &shared, alpha, &h, &mut neu1e_f, &mut out_f, label as f32, false);
            for j in 0..h.len() {
                prop_assert!((out_f[j] - out[j]).abs() <= 2e-4 && (neu1e_f[j] - neu1e[j]).abs() <= 2e-4);
            }
        }
        let loss = |h: &[f64], v: &[f64]| {
            let s: f64 = h.iter().zip(v).map(|(a, b)| a * b).sum();
            let p = 1.0 / (1.0 + (-s).exp());
            -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
        };
        let hd: Vec<f64> = h.iter().map(|&x| x as f64).collect();
        let vd: Vec<f64> = out0.iter().map(|&x| x as f64).collect();
        let eps = 1e-6;
        for j in 0..h.len() {
            let (mut vp, mut vm) = (vd.clone(), vd.clone());
            vp[j] += eps;
            vm[j] -= eps;
            let grad_v = (loss(&hd, &vp) - loss(&hd, &vm)) / (2.0 * eps);
            let (mut hp, mut hm) = (hd.clone(), hd.clone());
            hp[j] += eps;
            hm[j] -= eps;
            let grad_h = (loss(&hp, &vd) - loss(&hm, &vd)) / (2.0 * eps);
            let tol = 0.01 * alpha as f64 * (hd[j].abs() + vd[j].abs()) + 1e-6;
            prop_assert!(((out[j] - out0[j]) as f64 + alpha as f64 * grad_v).abs() < tol);
            prop_assert!((neu1e[j] as f64 + alpha as f64 * grad_h).abs() < tol);
        }
    }
}

#[test]
fn sizes_beyond_memory_or_64_bits_are_typed_errors() {
    let corpus = Corpus::from_bytes("t", b"a b c a b\n".to_vec());
    let opts = VocabOptions {
        min_count: 1,
        ..Default::default()
    };
    // A million words of 2^20 dimensions: 4 TiB per matrix, refused before allocating.
    let names: Vec<String> = (0..1_000_000).map(|i| format!("w{i}")).collect();
    let vocab = Vocabulary::from_counts(names.iter().map(|w| (w.as_str(), 1)), &opts).unwrap();
    let c = TrainConfig {
        dim: crate::config::MAX_DIM,
        ..TrainConfig::default()
    };
    let e = Word2Vec::train_with_vocab(&corpus, vocab, &c).unwrap_err();
    assert!(matches!(e, Error::OutOfMemory { .. }), "{e}");
    // Counts whose epochs overflow 64 bits.
    let vocab = Vocabulary::from_counts([("a", u64::MAX / 4), ("b", 1)], &opts).unwrap();
    let e = Word2Vec::train_with_vocab(&corpus, vocab, &TrainConfig::default()).unwrap_err();
    assert!(matches!(e, Error::Overflow { .. }), "{e}");
    for bad in [
        TrainConfig {
            negative: 1_000_000_000_000,
            ..TrainConfig::default()
        },
        TrainConfig {
            threads: 100_000,
            ..TrainConfig::default()
        },
        TrainConfig {
            max_sentence_len: 1_000_000_000_000,
            ..TrainConfig::default()
        },
        TrainConfig {
            window: usize::MAX,
            ..TrainConfig::default()
        },
        TrainConfig {
            epochs: usize::MAX / 2,
            ..TrainConfig::default()
        },
    ] {
        assert!(matches!(
            Word2Vec::train(&corpus, &bad),
            Err(Error::InvalidConfig { .. })
        ));
    }
}

#[test]
fn training_more_moves_the_vectors_and_restarts_the_schedule() {
    let corpus = small_corpus(20_000);
    let c = config(Architecture::SkipGram, false, 3);
    let (mut m, _) = Word2Vec::train(&corpus, &c).unwrap();
    let before = m.input_vectors().to_vec();
    let more = Corpus::embedded().unwrap().head(40_000).unwrap();
    let stats = m.train_more(&more, Some(1)).unwrap();
    // One epoch of the new text: its in-vocabulary words and line breaks, each read once.
    let mut tokens = more.tokens(0, more.len_bytes().unwrap(), false).unwrap();
    let mut known = 0u64;
    while let Some(t) = tokens.next_token().unwrap() {
        known += match t {
            crate::corpus::Token::Newline => 1,
            crate::corpus::Token::Word(w) => m.vocabulary().index_bytes(w).is_some() as u64,
        };
    }
    assert_eq!(stats.words, known);
    assert_eq!(m.config().epochs, 1);
    assert_ne!(m.input_vectors(), &before[..]);
    assert!(m.input_vectors().iter().all(|x| x.is_finite()));
    // Same seed, same model, same new text: the same result.
    let (mut again, _) = Word2Vec::train(&corpus, &c).unwrap();
    again.train_more(&more, Some(1)).unwrap();
    assert_eq!(bits(&again), bits(&m));
    let empty = Corpus::from_bytes("oov", b"zzzq qqqz ".to_vec());
    assert!(matches!(
        m.train_more(&empty, None),
        Err(Error::EmptyCorpus { .. })
    ));
}

#[test]
fn growing_the_vocabulary_appends_words_and_rows() {
    let first = Corpus::from_bytes("a", "the cat sat on the mat\n".repeat(40).into_bytes());
    let mut c = config(Architecture::Cbow, true, 2);
    c.vocab.min_count = 1;
    let (mut m, _) = Word2Vec::train(&first, &c).unwrap();
    let (v0, old) = (m.vocabulary().len(), m.input_vectors().to_vec());
    let second = Corpus::from_bytes(
        "b",
        "the dog sat on the log\nthe cat ran\n"
            .repeat(20)
            .into_bytes(),
    );
    let added = m.grow_vocabulary(&second, 5).unwrap();
    // dog, log, ran are new (20 times each); the counts of the old words grow.
    assert_eq!(added, 3);
    let v = m.vocabulary();
    assert_eq!(v.len(), v0 + 3);
    assert_eq!(&v.words()[v0..], ["dog", "log", "ran"]);
    assert_eq!(v.count(v.index("cat").unwrap()), 60);
    assert_eq!(v.total_words(), v.counts().iter().sum::<u64>());
    let dim = m.dim();
    assert_eq!(&m.input_vectors()[..v0 * dim], &old[..]);
    assert_eq!(m.input_vectors().len(), v.len() * dim);
    assert_eq!(m.output_vectors().len(), v.len() * dim);
    assert_eq!(m.inner_node_vectors().len(), (v.len() - 1) * dim);
    assert!(m.input_vectors()[v0 * dim..].iter().any(|&x| x != 0.0));
    m.train_more(&second, Some(1)).unwrap();
    let kv = m.to_keyed_vectors();
    assert!(kv.vector("dog").is_some());
    assert_eq!(m.grow_vocabulary(&second, 1000).unwrap(), 0);
}

//! KeyedVectors queries against the answers gensim 4.4 gave on the same vector file
//! (`fixtures/gensim/queries.tsv`, made by `fixtures/gensim/generate.py`).

use neurite_word2vec::KeyedVectors;

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/gensim")
        .join(name)
}

fn list(s: &str) -> Vec<&str> {
    s.split(',').filter(|w| !w.is_empty()).collect()
}

fn scored(s: &str) -> Vec<(String, f32)> {
    list(s)
        .iter()
        .map(|p| {
            let (w, x) = p.rsplit_once(':').unwrap();
            (w.to_string(), x.parse().unwrap())
        })
        .collect()
}

fn same_ranking(kind: &str, ours: &[(String, f32)], theirs: &[(String, f32)]) {
    assert_eq!(ours.len(), theirs.len(), "{kind}: {ours:?} vs {theirs:?}");
    for (o, t) in ours.iter().zip(theirs) {
        assert_eq!(o.0, t.0, "{kind}: {ours:?} vs {theirs:?}");
        assert!((o.1 - t.1).abs() < 2e-5, "{kind}: {o:?} vs {t:?}");
    }
}

#[test]
fn queries_agree_with_gensim() {
    let kv = KeyedVectors::load(fixture("vectors.bin")).unwrap();
    let text = std::fs::read_to_string(fixture("queries.tsv")).unwrap();
    let mut checked = 0;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        let (kind, pos, neg, answer) = (f[0], list(f[1]), list(f[2]), f[5]);
        let topn: usize = f[3].parse().unwrap();
        let restrict = match f[4].parse::<usize>().unwrap() {
            0 => None,
            r => Some(r),
        };
        match kind {
            "most_similar" => same_ranking(
                line,
                &kv.most_similar_to(&pos, &neg, topn, restrict).unwrap(),
                &scored(answer),
            ),
            "most_similar_cosmul" => same_ranking(
                line,
                &kv.most_similar_cosmul(&pos, &neg, topn, restrict).unwrap(),
                &scored(answer),
            ),
            "doesnt_match" => assert_eq!(kv.doesnt_match(&pos).unwrap(), answer, "{line}"),
            "n_similarity" => {
                let s = kv.n_similarity(&pos, &neg).unwrap();
                assert!(
                    (s - answer.parse::<f32>().unwrap()).abs() < 2e-5,
                    "{line}: {s}"
                );
            }
            "rank" => assert_eq!(
                kv.rank(pos[0], neg[0]).unwrap(),
                answer.parse::<usize>().unwrap(),
                "{line}"
            ),
            "closer_than" => assert_eq!(kv.closer_than(pos[0], neg[0]).unwrap(), list(answer)),
            other => panic!("unknown query kind {other}"),
        }
        checked += 1;
    }
    assert_eq!(checked, 18);
}

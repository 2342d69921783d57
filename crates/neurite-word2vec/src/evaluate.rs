//! Evaluation of word vectors: analogy accuracy on questions-words.txt (as word2vec.c's
//! compute-accuracy computes it: only questions whose four words are among the `restrict`
//! most frequent words count, the answer is searched among those words, the three question
//! words excluded, case ignored) and Spearman correlation with human similarity judgements
//! (WordSim-353 format).

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::vectors::KeyedVectors;

/// Accuracy on one section of the analogy questions.
#[derive(Clone, Debug, PartialEq)]
pub struct SectionScore {
    /// Section name (`capital-common-countries`, `gram1-adjective-to-adverb`, …).
    pub name: String,
    /// Questions answered correctly by 3CosAdd (the word nearest b − a + c).
    pub correct: usize,
    /// Questions answered correctly by 3CosMul (Levy & Goldberg's multiplicative objective,
    /// as gensim's `most_similar_cosmul(positive=[b, c], negative=[a])`).
    pub correct_cosmul: usize,
    /// Questions evaluated (all four words among the top `restrict`).
    pub evaluated: usize,
    /// Questions in the file's section.
    pub questions: usize,
}

impl SectionScore {
    /// correct / evaluated by 3CosAdd (0 when nothing was evaluated).
    pub fn accuracy(&self) -> f64 {
        if self.evaluated == 0 {
            0.0
        } else {
            self.correct as f64 / self.evaluated as f64
        }
    }

    /// correct_cosmul / evaluated (0 when nothing was evaluated).
    pub fn accuracy_cosmul(&self) -> f64 {
        if self.evaluated == 0 {
            0.0
        } else {
            self.correct_cosmul as f64 / self.evaluated as f64
        }
    }

    /// Sections whose name starts with `gram` are syntactic, the others semantic.
    pub fn is_syntactic(&self) -> bool {
        self.name.starts_with("gram")
    }
}

/// Analogy accuracy per section and overall.
#[derive(Clone, Debug, PartialEq)]
pub struct AnalogyReport {
    /// Per section, in file order.
    pub sections: Vec<SectionScore>,
}

impl AnalogyReport {
    fn sum(&self, pick: impl Fn(&SectionScore) -> bool) -> SectionScore {
        let mut s = SectionScore {
            name: String::new(),
            correct: 0,
            correct_cosmul: 0,
            evaluated: 0,
            questions: 0,
        };
        for x in self.sections.iter().filter(|x| pick(x)) {
            s.correct += x.correct;
            s.correct_cosmul += x.correct_cosmul;
            s.evaluated += x.evaluated;
            s.questions += x.questions;
        }
        s
    }

    /// All sections together.
    pub fn total(&self) -> SectionScore {
        SectionScore {
            name: "total".into(),
            ..self.sum(|_| true)
        }
    }

    /// The semantic sections together.
    pub fn semantic(&self) -> SectionScore {
        SectionScore {
            name: "semantic".into(),
            ..self.sum(|s| !s.is_syntactic())
        }
    }

    /// The syntactic (`gram…`) sections together.
    pub fn syntactic(&self) -> SectionScore {
        SectionScore {
            name: "syntactic".into(),
            ..self.sum(|s| s.is_syntactic())
        }
    }

    /// Overall 3CosAdd accuracy over the evaluated questions.
    pub fn accuracy(&self) -> f64 {
        self.total().accuracy()
    }

    /// Overall 3CosMul accuracy over the evaluated questions.
    pub fn accuracy_cosmul(&self) -> f64 {
        self.total().accuracy_cosmul()
    }

    /// A table: one line per section, then semantic, syntactic and total.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let line = |s: &SectionScore| {
            format!(
                "{:<28} {:>6.2}%  3CosMul {:>6.2}%  ({}/{}, {} questions)\n",
                s.name,
                100.0 * s.accuracy(),
                100.0 * s.accuracy_cosmul(),
                s.correct,
                s.evaluated,
                s.questions
            )
        };
        for s in &self.sections {
            out.push_str(&line(s));
        }
        out.push_str(&line(&self.semantic()));
        out.push_str(&line(&self.syntactic()));
        out.push_str(&line(&self.total()));
        out
    }
}

/// Lower-cased word → index among the first `restrict` words; the most frequent spelling wins.
fn case_map(kv: &KeyedVectors, restrict: usize) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for (i, w) in kv.words().iter().take(restrict).enumerate() {
        m.entry(w.to_lowercase()).or_insert(i);
    }
    m
}

/// Analogy accuracy on questions in questions-words.txt format (`: section` lines, then
/// `a b c d` lines meaning a : b = c : d; the prediction is the word nearest b − a + c).
pub fn evaluate_analogies(
    kv: &KeyedVectors,
    questions: &str,
    restrict: usize,
) -> Result<AnalogyReport> {
    evaluate_analogies_named(kv, questions, restrict, Path::new("<questions>"))
}

/// As [`evaluate_analogies`], reading the questions from a file.
pub fn evaluate_analogies_file(
    kv: &KeyedVectors,
    path: impl AsRef<Path>,
    restrict: usize,
) -> Result<AnalogyReport> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = crate::io::utf8_text(path, bytes)?;
    evaluate_analogies_named(kv, &text, restrict, path)
}

fn evaluate_analogies_named(
    kv: &KeyedVectors,
    questions: &str,
    restrict: usize,
    path: &Path,
) -> Result<AnalogyReport> {
    let restrict = restrict.min(kv.len());
    let vocab = case_map(kv, restrict);
    let mut sections: Vec<SectionScore> = Vec::new();
    // Questions to score: (section, [a, b, c, expected d]).
    let mut pending: Vec<(usize, [usize; 4])> = Vec::new();
    for (n, line) in questions.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix(':') {
            sections.push(SectionScore {
                name: name.trim().to_string(),
                correct: 0,
                correct_cosmul: 0,
                evaluated: 0,
                questions: 0,
            });
            continue;
        }
        let words: Vec<&str> = line.split_ascii_whitespace().collect();
        if words.len() != 4 {
            return Err(Error::format(
                path,
                n + 1,
                format!("expected four words, found {}", words.len()),
            ));
        }
        if sections.is_empty() {
            return Err(Error::format(
                path,
                n + 1,
                "a question before any `: section` line",
            ));
        }
        let s = sections.len() - 1;
        sections[s].questions += 1;
        let ids: Vec<Option<usize>> = words
            .iter()
            .map(|w| vocab.get(&w.to_lowercase()).copied())
            .collect();
        if let [Some(a), Some(b), Some(c), Some(d)] = ids[..] {
            sections[s].evaluated += 1;
            pending.push((s, [a, b, c, d]));
        }
    }
    // Score in batches with one matrix product each.
    let dim = kv.dim();
    const BATCH: usize = 512;
    for chunk in pending.chunks(BATCH) {
        let mut queries = Vec::with_capacity(chunk.len() * dim);
        for &(_, [a, b, c, _]) in chunk {
            queries.extend(kv.offset_query(b, a, c));
        }
        let scores = kv.scores(&queries, restrict)?;
        for (q, &(s, [a, b, c, d])) in chunk.iter().enumerate() {
            let row = &scores[q * restrict..(q + 1) * restrict];
            let mut best = None;
            let mut best_score = f32::NEG_INFINITY;
            for (i, &x) in row.iter().enumerate() {
                if x > best_score && i != a && i != b && i != c {
                    best_score = x;
                    best = Some(i);
                }
            }
            if best == Some(d) {
                sections[s].correct += 1;
            }
        }
        // 3CosMul: the cosines of each distinct question word with the first `restrict` words,
        // by one matrix product per batch, then per question
        // argmax (1 + cos(x, b))/2 · (1 + cos(x, c))/2 / ((1 + cos(x, a))/2 + ε).
        let mut distinct: Vec<usize> = chunk
            .iter()
            .flat_map(|&(_, q)| [q[0], q[1], q[2]])
            .collect();
        distinct.sort_unstable();
        distinct.dedup();
        let mut queries = Vec::with_capacity(distinct.len() * dim);
        for &w in &distinct {
            queries.extend_from_slice(kv.unit_row(w));
        }
        let cos = kv.scores(&queries, restrict)?;
        let row = |w: usize| {
            let k = distinct.binary_search(&w).unwrap_or(0); // ok: every word is in `distinct`
            &cos[k * restrict..(k + 1) * restrict]
        };
        for &(s, [a, b, c, d]) in chunk {
            let (ra, rb, rc) = (row(a), row(b), row(c));
            let mut best = None;
            let mut best_score = f32::NEG_INFINITY;
            for i in 0..restrict {
                if i == a || i == b || i == c {
                    continue;
                }
                let x = (1.0 + rb[i]) / 2.0 * ((1.0 + rc[i]) / 2.0)
                    / ((1.0 + ra[i]) / 2.0 + crate::vectors::queries::COSMUL_EPSILON);
                if x > best_score {
                    best_score = x;
                    best = Some(i);
                }
            }
            if best == Some(d) {
                sections[s].correct_cosmul += 1;
            }
        }
    }
    Ok(AnalogyReport { sections })
}

/// Agreement with human similarity judgements.
#[derive(Clone, Debug, PartialEq)]
pub struct SimilarityReport {
    /// Spearman rank correlation between cosine similarity and the human scores.
    pub spearman: f64,
    /// Pearson correlation.
    pub pearson: f64,
    /// Pairs scored.
    pub pairs: usize,
    /// Pairs skipped because a word is missing from the top `restrict` words.
    pub oov: usize,
}

/// Correlation with a word-pair file in WordSim-353 format: `word1<TAB>word2<TAB>score`
/// lines, `#` comments; case is ignored.
pub fn evaluate_similarity(
    kv: &KeyedVectors,
    pairs: &str,
    restrict: usize,
) -> Result<SimilarityReport> {
    evaluate_similarity_named(kv, pairs, restrict, Path::new("<pairs>"))
}

/// As [`evaluate_similarity`], reading the pairs from a file.
pub fn evaluate_similarity_file(
    kv: &KeyedVectors,
    path: impl AsRef<Path>,
    restrict: usize,
) -> Result<SimilarityReport> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = crate::io::utf8_text(path, bytes)?;
    evaluate_similarity_named(kv, &text, restrict, path)
}

fn evaluate_similarity_named(
    kv: &KeyedVectors,
    text: &str,
    restrict: usize,
    path: &Path,
) -> Result<SimilarityReport> {
    let vocab = case_map(kv, restrict.min(kv.len()));
    let mut model = Vec::new();
    let mut human = Vec::new();
    let mut oov = 0;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.split(['\t', ' ']).filter(|s| !s.is_empty()).collect();
        if parts.len() != 3 {
            return Err(Error::format(
                path,
                n + 1,
                format!("expected `word1 word2 score`, found {line:?}"),
            ));
        }
        let score = parts[2].parse::<f64>().map_err(|_| {
            Error::format(path, n + 1, format!("score {:?} is not a number", parts[2]))
        })?;
        match (
            vocab.get(&parts[0].to_lowercase()),
            vocab.get(&parts[1].to_lowercase()),
        ) {
            (Some(&a), Some(&b)) => {
                model.push(crate::kernels::dot(kv.unit_row(a), kv.unit_row(b)) as f64);
                human.push(score);
            }
            _ => oov += 1,
        }
    }
    Ok(SimilarityReport {
        spearman: spearman(&model, &human),
        pearson: pearson(&model, &human),
        pairs: model.len(),
        oov,
    })
}

/// Ranks 1..=n, ties sharing their average rank.
pub fn ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && x[order[j + 1]] == x[order[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// Pearson correlation (0 when either side is constant or fewer than two points).
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    if n < 2 {
        return 0.0;
    }
    let mx = x[..n].iter().sum::<f64>() / n as f64;
    let my = y[..n].iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (dx, dy) = (x[i] - mx, y[i] - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx == 0.0 || syy == 0.0 {
        0.0
    } else {
        sxy / (sxx * syy).sqrt()
    }
}

/// Spearman rank correlation: Pearson correlation of the ranks (ties averaged).
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    pearson(&ranks(x), &ranks(y))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv() -> KeyedVectors {
        KeyedVectors::new(
            [
                "</s>", "king", "queen", "man", "woman", "Paris", "France", "Rome", "Italy",
            ]
            .map(String::from)
            .to_vec(),
            4,
            vec![
                0.0, 0.0, 0.0, 1.0, //
                1.0, 1.0, 0.0, 0.0, //
                1.0, 0.0, 1.0, 0.0, //
                0.2, 1.0, 0.0, 0.1, //
                0.2, 0.0, 1.0, 0.1, //
                0.0, 0.1, 0.1, 1.0, //
                1.0, 0.1, 0.1, 1.0, //
                0.0, 0.2, 0.0, 1.0, //
                1.0, 0.2, 0.0, 1.0,
            ],
        )
        .unwrap()
    }

    #[test]
    fn analogies_per_section_with_restriction() {
        let q = ": family\nman woman king queen\nking man queen nobody\n: capital\nparis france rome italy\n: gram-x\nking queen man woman\n";
        let r = evaluate_analogies(&kv(), q, 100).unwrap();
        assert_eq!(r.sections.len(), 3);
        assert_eq!(
            (
                r.sections[0].correct,
                r.sections[0].evaluated,
                r.sections[0].questions
            ),
            (1, 1, 2)
        );
        assert_eq!((r.sections[1].correct, r.sections[1].evaluated), (1, 1));
        assert_eq!(r.syntactic().evaluated, 1);
        assert_eq!(r.semantic().evaluated, 2);
        assert!(r.table().contains("total"));
        // Restricted to the 5 most frequent words, the capital question drops out.
        let r = evaluate_analogies(&kv(), q, 5).unwrap();
        assert_eq!(r.sections[1].evaluated, 0);
        assert!(evaluate_analogies(&kv(), "a b c d\n", 10).is_err());
        assert!(matches!(
            evaluate_analogies(&kv(), ": s\na b c\n", 10),
            Err(Error::Format { line: 2, .. })
        ));
    }

    #[test]
    fn spearman_with_ties() {
        assert_eq!(ranks(&[10.0, 20.0, 20.0, 5.0]), [2.0, 3.5, 3.5, 1.0]);
        assert!((spearman(&[1.0, 2.0, 3.0], &[10.0, 200.0, 3000.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        // A textbook value: ρ = 1 − 6Σd²/(n(n²−1)) without ties.
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let y = [2.0, 1.0, 4.0, 3.0, 5.0];
        assert!((spearman(&x, &y) - (1.0 - 6.0 * 4.0 / 120.0)).abs() < 1e-12);
    }

    #[test]
    fn similarity_file_format() {
        let pairs = "# comment\nking\tqueen\t8\nman\twoman\t7.5\nking\tfrance\t1\nfoo\tbar\t3\n";
        let r = evaluate_similarity(&kv(), pairs, 100).unwrap();
        assert_eq!((r.pairs, r.oov), (3, 1));
        assert!(r.spearman.is_finite());
        assert!(matches!(
            evaluate_similarity(&kv(), "a\tb\tx\n", 100),
            Err(Error::Format { line: 1, .. })
        ));
    }
}

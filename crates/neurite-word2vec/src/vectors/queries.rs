//! gensim's `KeyedVectors` queries: [`most_similar_to`](KeyedVectors::most_similar_to) with
//! positive and negative words, [`most_similar_cosmul`](KeyedVectors::most_similar_cosmul)
//! (Levy & Goldberg's 3CosMul), [`doesnt_match`](KeyedVectors::doesnt_match),
//! [`n_similarity`](KeyedVectors::n_similarity), [`rank`](KeyedVectors::rank),
//! [`closer_than`](KeyedVectors::closer_than) and
//! [`words_closer_than`](KeyedVectors::words_closer_than), computed as gensim 4 computes them
//! (`tests/gensim_queries.rs` checks them against values gensim produced on the same file).
//!
//! Words are given as anything that is bytes (`&str`, `String`, `Vec<u8>`, `&[u8]`), so that a
//! word that is not UTF-8 can be asked for.

use super::KeyedVectors;
use crate::error::{Error, Result};
use crate::kernels::{dot, scale};

/// gensim's ε in the denominator of 3CosMul.
pub const COSMUL_EPSILON: f32 = 1e-6;

impl KeyedVectors {
    /// Index of `word` given as bytes, or [`Error::UnknownWord`].
    pub fn lookup_bytes(&self, word: &[u8]) -> Result<usize> {
        self.index_bytes(word)
            .ok_or_else(|| Error::UnknownWord(String::from_utf8_lossy(word).into_owned()))
    }

    fn lookup_all<W: AsRef<[u8]>>(&self, words: &[W]) -> Result<Vec<usize>> {
        words
            .iter()
            .map(|w| self.lookup_bytes(w.as_ref()))
            .collect()
    }

    /// The `topn` words nearest by cosine to the mean of the unit vectors of `positive` minus
    /// those of `negative` (gensim's `most_similar(positive, negative, topn,
    /// restrict_vocab)`), among the first `restrict_vocab` words (all when `None`), leaving
    /// out the words asked about. `most_similar_to(&["king", "woman"], &["man"], 1, None)` is
    /// the analogy king − man + woman.
    ///
    /// Errors: [`Error::UnknownWord`]; [`Error::InvalidConfig`] when both lists are empty.
    pub fn most_similar_to<W: AsRef<[u8]>>(
        &self,
        positive: &[W],
        negative: &[W],
        topn: usize,
        restrict_vocab: Option<usize>,
    ) -> Result<Vec<(String, f32)>> {
        let (pos, neg) = (self.lookup_all(positive)?, self.lookup_all(negative)?);
        let found = self.most_similar_indices(&pos, &neg, topn, restrict_vocab)?;
        Ok(self.named(found))
    }

    /// As [`KeyedVectors::most_similar_to`], with words given by index.
    pub fn most_similar_indices(
        &self,
        positive: &[usize],
        negative: &[usize],
        topn: usize,
        restrict_vocab: Option<usize>,
    ) -> Result<Vec<(usize, f32)>> {
        self.check_indices(positive.iter().chain(negative))?;
        if positive.is_empty() && negative.is_empty() {
            return Err(no_input());
        }
        // gensim: the mean of the weighted unit vectors (+1 positive, −1 negative).
        let mut mean = vec![0.0f32; self.dim];
        for (&i, w) in positive
            .iter()
            .map(|i| (i, 1.0f32))
            .chain(negative.iter().map(|i| (i, -1.0f32)))
        {
            for (m, &x) in mean.iter_mut().zip(self.unit_row(i)) {
                *m += w * x;
            }
        }
        scale(&mut mean, 1.0 / (positive.len() + negative.len()) as f32);
        let exclude: Vec<usize> = positive.iter().chain(negative).copied().collect();
        Ok(self.nearest(&mean, topn, restrict_vocab, &exclude))
    }

    /// Levy & Goldberg's multiplicative objective (3CosMul), as gensim's
    /// `most_similar_cosmul`: each word scores Π_p c(w, p) / (Π_n c(w, n) + ε), with cosines
    /// shifted into [0, 1] as c = (1 + cos) / 2 and ε = [`COSMUL_EPSILON`]; the `topn` best
    /// among the first `restrict_vocab` words, leaving out the words asked about.
    ///
    /// Errors: [`Error::UnknownWord`]; [`Error::InvalidConfig`] when `positive` is empty.
    pub fn most_similar_cosmul<W: AsRef<[u8]>>(
        &self,
        positive: &[W],
        negative: &[W],
        topn: usize,
        restrict_vocab: Option<usize>,
    ) -> Result<Vec<(String, f32)>> {
        let (pos, neg) = (self.lookup_all(positive)?, self.lookup_all(negative)?);
        let found = self.most_similar_cosmul_indices(&pos, &neg, topn, restrict_vocab)?;
        Ok(self.named(found))
    }

    /// As [`KeyedVectors::most_similar_cosmul`], with words given by index.
    pub fn most_similar_cosmul_indices(
        &self,
        positive: &[usize],
        negative: &[usize],
        topn: usize,
        restrict_vocab: Option<usize>,
    ) -> Result<Vec<(usize, f32)>> {
        self.check_indices(positive.iter().chain(negative))?;
        if positive.is_empty() {
            return Err(no_input());
        }
        let limit = restrict_vocab.unwrap_or(self.len()).min(self.len());
        // One matrix product: the cosines of every asked word with the first `limit` words.
        let asked: Vec<usize> = positive.iter().chain(negative).copied().collect();
        let mut queries = Vec::with_capacity(asked.len() * self.dim);
        for &i in &asked {
            queries.extend_from_slice(self.unit_row(i));
        }
        let cos = self.scores(&queries, limit)?;
        let shifted = |q: usize, i: usize| (1.0 + cos[q * limit + i]) / 2.0;
        let scores: Vec<f32> = (0..limit)
            .map(|i| {
                let p: f32 = (0..positive.len()).map(|q| shifted(q, i)).product();
                let n: f32 = (positive.len()..asked.len())
                    .map(|q| shifted(q, i))
                    .product();
                p / (n + COSMUL_EPSILON)
            })
            .collect();
        Ok(top_k(&scores, topn, &asked))
    }

    /// The word of `words` furthest from the mean of their unit vectors (gensim's
    /// `doesnt_match`): `doesnt_match(&["breakfast", "cereal", "dinner", "lunch"])` is
    /// "cereal". Words not in the vocabulary are ignored, as gensim does; ties go to the
    /// smaller word.
    ///
    /// Errors: [`Error::InvalidConfig`] when no word is in the vocabulary.
    pub fn doesnt_match<W: AsRef<[u8]>>(&self, words: &[W]) -> Result<String> {
        let used: Vec<usize> = words
            .iter()
            .filter_map(|w| self.index_bytes(w.as_ref()))
            .collect();
        if used.is_empty() {
            return Err(Error::config(
                "words",
                format!("{} words, none in the vocabulary", words.len()),
                "at least one word in the vocabulary",
            ));
        }
        let mut mean = vec![0.0f32; self.dim];
        for &i in &used {
            for (m, &x) in mean.iter_mut().zip(self.unit_row(i)) {
                *m += x;
            }
        }
        scale(&mut mean, 1.0 / used.len() as f32);
        unit_in_place(&mut mean);
        let words = self.words();
        let odd = used
            .iter()
            .map(|&i| (dot(self.unit_row(i), &mean), i))
            .min_by(|a, b| {
                a.0.total_cmp(&b.0)
                    .then_with(|| self.table.word(a.1).cmp(self.table.word(b.1)))
            })
            .map(|(_, i)| i)
            .ok_or_else(no_input)?;
        Ok(words[odd].clone())
    }

    /// Cosine similarity between the means of two word sets (gensim's `n_similarity`: the
    /// means of the raw vectors).
    ///
    /// Errors: [`Error::UnknownWord`]; [`Error::InvalidConfig`] when a set is empty.
    pub fn n_similarity<W: AsRef<[u8]>>(&self, first: &[W], second: &[W]) -> Result<f32> {
        if first.is_empty() || second.is_empty() {
            return Err(Error::config(
                "words",
                "an empty list",
                "two non-empty word lists",
            ));
        }
        let mean = |words: &[W]| -> Result<Vec<f32>> {
            let mut m = vec![0.0f32; self.dim];
            for i in self.lookup_all(words)? {
                for (m, &x) in m.iter_mut().zip(self.row(i)) {
                    *m += x;
                }
            }
            scale(&mut m, 1.0 / words.len() as f32);
            unit_in_place(&mut m);
            Ok(m)
        };
        Ok(dot(&mean(first)?, &mean(second)?))
    }

    /// The words closer to `a` than `b` is (by cosine distance), `a` itself left out, in
    /// vocabulary order (gensim's `closer_than`).
    pub fn closer_than(&self, a: impl AsRef<[u8]>, b: impl AsRef<[u8]>) -> Result<Vec<String>> {
        let (ia, ib) = (
            self.lookup_bytes(a.as_ref())?,
            self.lookup_bytes(b.as_ref())?,
        );
        let words = self.words();
        Ok(self
            .closer_than_indices(ia, ib)
            .into_iter()
            .map(|i| words[i].clone())
            .collect())
    }

    /// gensim's older name of [`KeyedVectors::closer_than`] (the same result).
    pub fn words_closer_than(
        &self,
        a: impl AsRef<[u8]>,
        b: impl AsRef<[u8]>,
    ) -> Result<Vec<String>> {
        self.closer_than(a, b)
    }

    /// 1 + the number of words closer to `a` than `b` is (gensim's `rank`): 1 when `b` is
    /// `a`'s nearest neighbour.
    pub fn rank(&self, a: impl AsRef<[u8]>, b: impl AsRef<[u8]>) -> Result<usize> {
        let (ia, ib) = (
            self.lookup_bytes(a.as_ref())?,
            self.lookup_bytes(b.as_ref())?,
        );
        Ok(self.closer_than_indices(ia, ib).len() + 1)
    }

    fn closer_than_indices(&self, a: usize, b: usize) -> Vec<usize> {
        let cos = |i: usize| dot(self.unit_row(i), self.unit_row(a));
        let threshold = 1.0 - cos(b);
        (0..self.len())
            .filter(|&i| i != a && 1.0 - cos(i) < threshold)
            .collect()
    }

    fn check_indices<'a>(&self, indices: impl Iterator<Item = &'a usize>) -> Result<()> {
        for &i in indices {
            if i >= self.len() {
                return Err(Error::config(
                    "index",
                    i,
                    "an index below the number of words",
                ));
            }
        }
        Ok(())
    }
}

fn no_input() -> Error {
    Error::config(
        "positive",
        "no word",
        "at least one word to compute a similarity with",
    )
}

fn unit_in_place(v: &mut [f32]) {
    let n = dot(v, v).sqrt();
    if n > 0.0 {
        scale(v, 1.0 / n);
    }
}

/// The `k` best scores, highest first (ties: the smaller index first), leaving out `exclude`.
fn top_k(scores: &[f32], k: usize, exclude: &[usize]) -> Vec<(usize, f32)> {
    let k = k.min(scores.len());
    if k == 0 {
        return Vec::new();
    }
    let mut best: Vec<(usize, f32)> = Vec::with_capacity(k + 1);
    for (i, &s) in scores.iter().enumerate() {
        if exclude.contains(&i) {
            continue;
        }
        if best.len() < k || s > best[best.len() - 1].1 {
            let at = best.partition_point(|&(_, b)| b >= s);
            best.insert(at, (i, s));
            best.truncate(k);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use crate::vectors::tests::sample;
    use crate::Error;

    #[test]
    fn most_similar_to_with_one_positive_is_most_similar() {
        let kv = sample();
        let a = kv.most_similar_to(&["king"], &[], 3, None).unwrap();
        let b = kv.most_similar("king", 3).unwrap();
        assert_eq!(a.len(), 3);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.0, y.0);
            assert!((x.1 - y.1).abs() < 1e-6);
        }
        let an = kv
            .most_similar_to(&["king", "woman"], &["man"], 1, None)
            .unwrap();
        assert_eq!(an[0].0, "queen");
        // 3CosMul by brute force over the two words not asked about.
        let c = |a: &str, b: &str| (1.0 + kv.similarity(a, b).unwrap()) / 2.0;
        let want: Vec<(String, f32)> = ["</s>", "queen"]
            .iter()
            .map(|w| {
                let s = c(w, "king") * c(w, "woman") / (c(w, "man") + super::COSMUL_EPSILON);
                (w.to_string(), s)
            })
            .collect();
        let got = kv
            .most_similar_cosmul(&["king", "woman"], &["man"], 2, None)
            .unwrap();
        let mut want = want;
        want.sort_by(|a, b| b.1.total_cmp(&a.1));
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.0, w.0);
            assert!((g.1 - w.1).abs() < 1e-5, "{g:?} {w:?}");
        }
        // Restricted to the first three words, leaving out those asked about.
        let r = kv.most_similar_to(&["king"], &[], 10, Some(3)).unwrap();
        assert_eq!(r.len(), 2);
        assert!(matches!(
            kv.most_similar_to::<&str>(&[], &[], 3, None),
            Err(Error::InvalidConfig { .. })
        ));
        assert!(matches!(
            kv.most_similar_cosmul(&["nope"], &[], 3, None),
            Err(Error::UnknownWord(_))
        ));
    }

    #[test]
    fn rank_counts_the_closer_words() {
        let kv = sample();
        let nearest = &kv.most_similar("king", 1).unwrap()[0].0;
        assert_eq!(kv.rank("king", nearest).unwrap(), 1);
        let all = kv.most_similar("king", 4).unwrap();
        for (r, (w, _)) in all.iter().enumerate() {
            assert_eq!(kv.rank("king", w).unwrap(), r + 1);
            assert_eq!(kv.closer_than("king", w).unwrap().len(), r);
        }
        assert_eq!(
            kv.words_closer_than("king", &all[2].0).unwrap(),
            kv.closer_than("king", &all[2].0).unwrap()
        );
        assert!(kv.n_similarity(&["king"], &["queen"]).unwrap() > 0.0);
        assert!(kv.n_similarity::<&str>(&[], &["queen"]).is_err());
        assert!(kv.doesnt_match(&["nope"]).is_err());
    }
}

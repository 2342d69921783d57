//! Word vectors by word: cosine neighbours, analogies, gensim's queries ([`queries`]), and the
//! word2vec text and binary formats ([`mod@format`]), byte-compatible with what word2vec.c
//! writes and readable from gensim's output too.
//!
//! Words are byte strings, as in word2vec.c: a word that is not UTF-8 is stored, looked up
//! ([`KeyedVectors::index_bytes`]) and saved byte for byte; only [`KeyedVectors::words`] shows
//! it lossily.

pub mod format;
pub mod queries;

use std::sync::OnceLock;

use neurite_tensor::ndarray::{ArrayView2, ArrayViewMut2};
use neurite_tensor::Tensor;

use crate::error::{Error, Result};
use crate::vocab::WordTable;

pub use format::LoadOptions;

/// Words and their vectors, with unit-length copies for cosine similarity.
#[derive(Clone, Debug)]
pub struct KeyedVectors {
    /// The words as bytes, in order; lookups find the first of equal words.
    table: WordTable,
    /// The words as text (lossy where not UTF-8), made at the first call of `words`.
    text: OnceLock<Vec<String>>,
    dim: usize,
    /// `[len, dim]`, row-major.
    vectors: Vec<f32>,
    /// The rows scaled to unit length (zero rows stay zero), computed at the first query so
    /// that loading or saving alone costs no second matrix.
    unit: OnceLock<Vec<f32>>,
}

fn normalize_rows(vectors: &[f32], dim: usize) -> Vec<f32> {
    let mut unit = vectors.to_vec();
    for row in unit.chunks_exact_mut(dim) {
        let n = crate::kernels::dot(row, row).sqrt();
        if n > 0.0 {
            crate::kernels::scale(row, 1.0 / n);
        }
    }
    unit
}

impl KeyedVectors {
    /// Vectors for `words`, row-major `[words.len(), dim]`. When a word occurs twice the first
    /// (most frequent) one answers lookups.
    pub fn new(words: Vec<String>, dim: usize, vectors: Vec<f32>) -> Result<Self> {
        let mut kv = Self::from_byte_words(words.iter().map(|w| w.as_bytes()), dim, vectors)?;
        kv.text = OnceLock::from(words);
        Ok(kv)
    }

    /// As [`KeyedVectors::new`], with the words as byte strings (as word2vec.c has them).
    pub fn from_byte_words<'a>(
        words: impl IntoIterator<Item = &'a [u8]>,
        dim: usize,
        vectors: Vec<f32>,
    ) -> Result<Self> {
        let mut table = WordTable::default();
        for w in words {
            table.push(w);
        }
        Self::from_table(table, dim, vectors)
    }

    pub(crate) fn from_table(table: WordTable, dim: usize, vectors: Vec<f32>) -> Result<Self> {
        if dim == 0 {
            return Err(Error::config("dim", 0, "at least 1"));
        }
        if Some(vectors.len()) != table.len().checked_mul(dim) {
            return Err(Error::config(
                "vectors",
                format!("{} values for {} words", vectors.len(), table.len()),
                "words × dim values",
            ));
        }
        Ok(KeyedVectors {
            table,
            text: OnceLock::new(),
            dim,
            vectors,
            unit: OnceLock::new(),
        })
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// True when there is no word.
    pub fn is_empty(&self) -> bool {
        self.table.len() == 0
    }

    /// Vector dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The words, in file (frequency) order; a word that is not UTF-8 shows with U+FFFD in
    /// place of its invalid bytes ([`KeyedVectors::word_bytes`] has the bytes).
    pub fn words(&self) -> &[String] {
        self.text.get_or_init(|| {
            self.table
                .iter()
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect()
        })
    }

    /// The word at `index` as stored, or `None` when `index >= len()`.
    pub fn word_bytes(&self, index: usize) -> Option<&[u8]> {
        self.table.get_word(index)
    }

    /// Index of `word`.
    pub fn index(&self, word: &str) -> Option<usize> {
        self.table.get(word.as_bytes())
    }

    /// Index of a word given as bytes.
    pub fn index_bytes(&self, word: &[u8]) -> Option<usize> {
        self.table.get(word)
    }

    /// The vector of `word`.
    pub fn vector(&self, word: &str) -> Option<&[f32]> {
        self.index(word).map(|i| self.row(i))
    }

    /// The vector at `index`: the indexing form, which panics when `index >= len()`;
    /// [`KeyedVectors::get_row`] is its checked twin.
    pub fn row(&self, index: usize) -> &[f32] {
        &self.vectors[index * self.dim..(index + 1) * self.dim]
    }

    /// The vector at `index`, or `None` when `index >= len()`.
    pub fn get_row(&self, index: usize) -> Option<&[f32]> {
        (index < self.len()).then(|| self.row(index))
    }

    fn unit(&self) -> &[f32] {
        self.unit
            .get_or_init(|| normalize_rows(&self.vectors, self.dim))
    }

    /// The unit-length vector at `index` (computed for every row at the first query); panics
    /// when `index >= len()`, as [`KeyedVectors::row`].
    pub fn unit_row(&self, index: usize) -> &[f32] {
        &self.unit()[index * self.dim..(index + 1) * self.dim]
    }

    /// All vectors, row-major `[len, dim]`.
    pub fn vectors(&self) -> &[f32] {
        &self.vectors
    }

    /// The embedding matrix as a tensor `[len, dim]`.
    pub fn to_tensor(&self) -> Result<Tensor<f32>> {
        Ok(Tensor::from_vec(
            self.vectors.clone(),
            &[self.len(), self.dim],
        )?)
    }

    fn lookup(&self, word: &str) -> Result<usize> {
        self.index(word)
            .ok_or_else(|| Error::UnknownWord(word.to_string()))
    }

    /// Cosine similarity of two words.
    pub fn similarity(&self, a: &str, b: &str) -> Result<f32> {
        let (a, b) = (self.lookup(a)?, self.lookup(b)?);
        Ok(crate::kernels::dot(self.unit_row(a), self.unit_row(b)))
    }

    /// The `topn` words closest to `query` (any vector of length `dim`) by cosine, among the
    /// first `restrict` words (all when `None`), leaving out the indices in `exclude`.
    pub fn nearest(
        &self,
        query: &[f32],
        topn: usize,
        restrict: Option<usize>,
        exclude: &[usize],
    ) -> Vec<(usize, f32)> {
        let mut q = query.to_vec();
        let n = crate::kernels::dot(&q, &q).sqrt();
        if n > 0.0 {
            crate::kernels::scale(&mut q, 1.0 / n);
        }
        let limit = restrict.unwrap_or(self.len()).min(self.len());
        // No more answers than words: a huge `topn` reserves nothing beyond them.
        let topn = topn.min(limit);
        if topn == 0 {
            return Vec::new();
        }
        let mut best: Vec<(usize, f32)> = Vec::with_capacity(topn + 1);
        for i in 0..limit {
            if exclude.contains(&i) {
                continue;
            }
            let s = crate::kernels::dot(&q, self.unit_row(i));
            if best.len() < topn || s > best[best.len() - 1].1 {
                let at = best.partition_point(|&(_, b)| b >= s);
                best.insert(at, (i, s));
                best.truncate(topn);
            }
        }
        best
    }

    /// The `topn` nearest neighbours of `word` by cosine similarity.
    pub fn most_similar(&self, word: &str, topn: usize) -> Result<Vec<(String, f32)>> {
        let i = self.lookup(word)?;
        Ok(self.named(self.nearest(self.unit_row(i), topn, None, &[i])))
    }

    /// Words closest to a − b + c (unit vectors), the three left out: `analogy("king", "man",
    /// "woman", 1)` asks what is to woman as king is to man.
    pub fn analogy(&self, a: &str, b: &str, c: &str, topn: usize) -> Result<Vec<(String, f32)>> {
        let (ia, ib, ic) = (self.lookup(a)?, self.lookup(b)?, self.lookup(c)?);
        let q = self.offset_query(ia, ib, ic);
        Ok(self.named(self.nearest(&q, topn, None, &[ia, ib, ic])))
    }

    /// unit(a) − unit(b) + unit(c).
    pub(crate) fn offset_query(&self, a: usize, b: usize, c: usize) -> Vec<f32> {
        let (ua, ub, uc) = (self.unit_row(a), self.unit_row(b), self.unit_row(c));
        (0..self.dim).map(|j| ua[j] - ub[j] + uc[j]).collect()
    }

    fn named(&self, v: Vec<(usize, f32)>) -> Vec<(String, f32)> {
        let words = self.words();
        v.into_iter().map(|(i, s)| (words[i].clone(), s)).collect()
    }

    /// Cosine scores of many queries against the first `limit` words at once, by one matrix
    /// product: returns `[queries.len() / dim, limit]`, row-major. Queries need not be unit.
    pub(crate) fn scores(&self, queries: &[f32], limit: usize) -> Result<Vec<f32>> {
        let m = queries.len() / self.dim;
        let limit = limit.min(self.len());
        let mut out = vec![0.0f32; m * limit];
        let a = ArrayView2::from_shape((m, self.dim), queries).expect("whole rows"); // ok: whole rows
        let b = ArrayView2::from_shape((limit, self.dim), &self.unit()[..limit * self.dim])
            .expect("whole rows"); // ok: whole rows
        let mut c = ArrayViewMut2::from_shape((m, limit), &mut out).expect("sized above"); // ok: sized above
        neurite_tensor::gemm(1.0, &a, &b.t(), 0.0, &mut c)?;
        Ok(out)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> KeyedVectors {
        KeyedVectors::new(
            vec![
                "</s>".into(),
                "king".into(),
                "queen".into(),
                "man".into(),
                "woman".into(),
            ],
            3,
            vec![
                0.1, -0.2, 0.3, //
                1.0, 1.0, 0.0, //
                1.0, 0.0, 1.0, //
                0.5, 1.0, -0.25, //
                0.5, 0.0, 0.75,
            ],
        )
        .unwrap()
    }

    #[test]
    fn neighbours_and_analogies() {
        let kv = sample();
        let n = kv.most_similar("king", 2).unwrap();
        assert_eq!(n.len(), 2);
        assert!(n[0].1 >= n[1].1);
        // Brute force agrees.
        let mut all: Vec<(String, f32)> = (0..kv.len())
            .filter(|&i| i != 1)
            .map(|i| {
                (
                    kv.words()[i].clone(),
                    kv.similarity("king", &kv.words()[i]).unwrap(),
                )
            })
            .collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1));
        assert_eq!(n[0].0, all[0].0);
        assert_eq!(n[1].0, all[1].0);
        assert_eq!(kv.analogy("king", "man", "woman", 1).unwrap()[0].0, "queen");
        assert!(matches!(
            kv.most_similar("prince", 3),
            Err(Error::UnknownWord(_))
        ));
        let t = kv.to_tensor().unwrap();
        assert_eq!(t.shape(), &[5, 3]);
        let s = kv.scores(kv.unit_row(1), 5).unwrap();
        assert!((s[2] - kv.similarity("king", "queen").unwrap()).abs() < 1e-6);
    }

    #[test]
    fn out_of_range_rows_are_none_and_huge_topn_reserves_nothing() {
        let kv = sample();
        assert_eq!(kv.get_row(1), Some(kv.row(1)));
        assert_eq!(kv.get_row(99), None);
        assert_eq!(kv.word_bytes(99), None);
        assert_eq!(kv.most_similar("king", 1_000_000_000_000).unwrap().len(), 4);
        assert_eq!(kv.nearest(kv.row(0), usize::MAX, Some(2), &[]).len(), 2);
    }

    #[test]
    fn constructor_checks_shape() {
        assert!(KeyedVectors::new(vec!["a".into()], 2, vec![1.0]).is_err());
        assert!(KeyedVectors::new(vec![], 0, vec![]).is_err());
    }
}

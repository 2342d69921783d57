//! Word vectors by word: cosine neighbours, analogies, and the word2vec text and binary
//! formats, byte-compatible with what word2vec.c writes and readable from gensim's output too.
//!
//! Text: a header `words dim\n`, then per word `word v1 v2 … vdim \n` with each value printed
//! as C's `%lf` (six decimals) followed by a space. Binary: the same header, then per word
//! `word ` followed by `dim` little-endian `f32`s and `\n` (gensim omits that `\n`; both are read).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::sync::OnceLock;

use neurite_tensor::ndarray::{ArrayView2, ArrayViewMut2};
use neurite_tensor::Tensor;

use crate::error::{Error, Result};
use crate::io::write_atomically;

/// Words and their vectors, with unit-length copies for cosine similarity.
#[derive(Clone, Debug)]
pub struct KeyedVectors {
    words: Vec<String>,
    index: HashMap<String, usize>,
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
        if dim == 0 {
            return Err(Error::config("dim", 0, "at least 1"));
        }
        if vectors.len() != words.len() * dim {
            return Err(Error::config(
                "vectors",
                format!("{} values for {} words", vectors.len(), words.len()),
                "words × dim values",
            ));
        }
        let mut index = HashMap::with_capacity(words.len());
        for (i, w) in words.iter().enumerate() {
            index.entry(w.clone()).or_insert(i);
        }
        Ok(KeyedVectors {
            words,
            index,
            dim,
            vectors,
            unit: OnceLock::new(),
        })
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True when there is no word.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Vector dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The words, in file (frequency) order.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// Index of `word`.
    pub fn index(&self, word: &str) -> Option<usize> {
        self.index.get(word).copied()
    }

    /// The vector of `word`.
    pub fn vector(&self, word: &str) -> Option<&[f32]> {
        self.index(word).map(|i| self.row(i))
    }

    /// The vector at `index`.
    pub fn row(&self, index: usize) -> &[f32] {
        &self.vectors[index * self.dim..(index + 1) * self.dim]
    }

    fn unit(&self) -> &[f32] {
        self.unit
            .get_or_init(|| normalize_rows(&self.vectors, self.dim))
    }

    /// The unit-length vector at `index`.
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
        v.into_iter()
            .map(|(i, s)| (self.words[i].clone(), s))
            .collect()
    }

    /// Cosine scores of many queries against the first `limit` words at once, by one matrix
    /// product: returns `[queries.len() / dim, limit]`, row-major. Queries need not be unit.
    pub(crate) fn scores(&self, queries: &[f32], limit: usize) -> Result<Vec<f32>> {
        let m = queries.len() / self.dim;
        let limit = limit.min(self.len());
        let mut out = vec![0.0f32; m * limit];
        let a = ArrayView2::from_shape((m, self.dim), queries).expect("whole rows");
        let b = ArrayView2::from_shape((limit, self.dim), &self.unit()[..limit * self.dim])
            .expect("whole rows");
        let mut c = ArrayViewMut2::from_shape((m, limit), &mut out).expect("sized above");
        neurite_tensor::gemm(1.0, &a, &b.t(), 0.0, &mut c)?;
        Ok(out)
    }

    /// Writes the word2vec text format (word2vec.c's `-binary 0`).
    pub fn save_text(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomically(path.as_ref(), |w| self.write_text(w))
    }

    /// Writes the word2vec binary format (word2vec.c's `-binary 1`).
    pub fn save_binary(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomically(path.as_ref(), |w| self.write_binary(w))
    }

    /// The text format to any writer.
    pub fn write_text(&self, w: &mut impl Write) -> std::io::Result<()> {
        writeln!(w, "{} {}", self.len(), self.dim)?;
        for (i, word) in self.words.iter().enumerate() {
            write!(w, "{word} ")?;
            for &x in self.row(i) {
                write!(w, "{:.6} ", x as f64)?;
            }
            w.write_all(b"\n")?;
        }
        Ok(())
    }

    /// The binary format to any writer.
    pub fn write_binary(&self, w: &mut impl Write) -> std::io::Result<()> {
        writeln!(w, "{} {}", self.len(), self.dim)?;
        let mut bytes = Vec::with_capacity(self.dim * 4);
        for (i, word) in self.words.iter().enumerate() {
            write!(w, "{word} ")?;
            bytes.clear();
            for &x in self.row(i) {
                bytes.extend_from_slice(&x.to_le_bytes());
            }
            w.write_all(&bytes)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Reads a vectors file, text or binary (told apart by the first entry).
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let mut head = Vec::new();
        File::open(path)
            .map_err(|e| Error::io(path, e))?
            .take(1 << 16)
            .read_to_end(&mut head)
            .map_err(|e| Error::io(path, e))?;
        if looks_binary(&head) {
            Self::load_binary(path)
        } else {
            Self::load_text(path)
        }
    }

    /// Reads the word2vec text format.
    pub fn load_text(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let f = File::open(path).map_err(|e| Error::io(path, e))?;
        let mut lines = BufReader::new(f).lines();
        let header = match lines.next() {
            Some(l) => l.map_err(|e| Error::io(path, e))?,
            None => {
                return Err(Error::format(
                    path,
                    1,
                    "empty file: expected `words dim` header",
                ))
            }
        };
        let (n, dim) = parse_header(path, &header)?;
        // The header is not trusted for allocation: a corrupt count must not exhaust memory.
        let mut words = Vec::with_capacity(n.min(1 << 20));
        let mut vectors = Vec::with_capacity(n.min(1 << 20).saturating_mul(dim).min(1 << 28));
        let mut line_no = 1;
        for line in lines {
            line_no += 1;
            let line = line.map_err(|e| Error::io(path, e))?;
            if line.trim().is_empty() {
                continue;
            }
            if words.len() == n {
                return Err(Error::format(
                    path,
                    line_no,
                    format!("more entries than the {n} the header announces"),
                ));
            }
            let mut parts = line.split_ascii_whitespace();
            let word = parts.next().expect("non-empty line");
            let before = vectors.len();
            for (k, p) in parts.enumerate() {
                let x = p.parse::<f32>().map_err(|_| {
                    Error::format(
                        path,
                        line_no,
                        format!("component {} of {word:?} is not a number: {p:?}", k + 1),
                    )
                })?;
                vectors.push(x);
            }
            let found = vectors.len() - before;
            if found != dim {
                return Err(Error::WrongDimension {
                    path: path.to_path_buf(),
                    line: line_no,
                    word: word.to_string(),
                    expected: dim,
                    found,
                });
            }
            words.push(word.to_string());
        }
        if words.len() != n {
            return Err(Error::format(
                path,
                line_no + 1,
                format!(
                    "the header announces {n} words, the file holds {}",
                    words.len()
                ),
            ));
        }
        Self::new(words, dim, vectors)
    }

    /// Reads the word2vec binary format.
    pub fn load_binary(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let f = File::open(path).map_err(|e| Error::io(path, e))?;
        let mut r = OffsetReader {
            inner: BufReader::with_capacity(1 << 20, f),
            offset: 0,
        };
        let mut header = Vec::new();
        r.read_until(b'\n', &mut header, 256)
            .map_err(|e| Error::io(path, e))?;
        let header = String::from_utf8_lossy(&header).into_owned();
        let (n, dim) = parse_header(path, header.trim_end_matches('\n'))?;
        // The header is not trusted for allocation: a corrupt count must not exhaust memory.
        let mut words = Vec::with_capacity(n.min(1 << 20));
        let mut vectors: Vec<f32> =
            Vec::with_capacity(n.min(1 << 20).saturating_mul(dim).min(1 << 28));
        let mut word = Vec::new();
        let mut bytes = vec![0u8; dim * 4];
        for i in 0..n {
            // Skip the line break that ends the previous entry (absent in gensim's files).
            let start = loop {
                let at = r.offset;
                match r.byte().map_err(|e| Error::io(path, e))? {
                    Some(b'\n') | Some(b'\r') => continue,
                    Some(b) => break (at, b),
                    None => {
                        return Err(Error::Truncated {
                            path: path.to_path_buf(),
                            offset: r.offset,
                            expected: format!("word {} of {n}", i + 1),
                        })
                    }
                }
            };
            word.clear();
            word.push(start.1);
            let ended = r
                .read_until(b' ', &mut word, 1 << 16)
                .map_err(|e| Error::io(path, e))?;
            if !ended {
                return Err(Error::Truncated {
                    path: path.to_path_buf(),
                    offset: r.offset,
                    expected: format!(
                        "a space after word {} of {n} (from offset {})",
                        i + 1,
                        start.0
                    ),
                });
            }
            word.pop();
            let at = r.offset;
            let got = r.fill(&mut bytes).map_err(|e| Error::io(path, e))?;
            let w = String::from_utf8_lossy(&word).into_owned();
            if got < bytes.len() {
                return Err(Error::Truncated {
                    path: path.to_path_buf(),
                    offset: at + got as u64,
                    expected: format!("{} bytes of the vector of {w:?} from offset {at}", dim * 4),
                });
            }
            vectors.extend(
                bytes
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            );
            words.push(w);
        }
        Self::new(words, dim, vectors)
    }
}

/// Text files have printable ASCII after the first word; binary files have raw floats.
fn looks_binary(head: &[u8]) -> bool {
    let Some(nl) = head.iter().position(|&b| b == b'\n') else {
        return false;
    };
    let body = &head[nl + 1..];
    let Some(sp) = body.iter().position(|&b| b == b' ') else {
        return false;
    };
    body[sp + 1..]
        .iter()
        .take_while(|&&b| b != b'\n')
        .take(64)
        .any(|&b| !(b.is_ascii_digit() || b"+-.eE \t\rainfNAIF".contains(&b)))
}

/// Largest vector dimension accepted from a file header.
const MAX_DIM: usize = 1 << 20;

fn parse_header(path: &Path, line: &str) -> Result<(usize, usize)> {
    let parts: Vec<&str> = line.split_ascii_whitespace().collect();
    let bad = || {
        Error::format(
            path,
            1,
            format!("expected a `words dim` header of two integers, found {line:?}"),
        )
    };
    if parts.len() != 2 {
        return Err(bad());
    }
    let n = parts[0].parse::<usize>().map_err(|_| bad())?;
    let dim = parts[1].parse::<usize>().map_err(|_| bad())?;
    if dim == 0 || dim > MAX_DIM {
        return Err(Error::format(
            path,
            1,
            format!("the header's dimension {dim} is outside 1..={MAX_DIM}"),
        ));
    }
    Ok((n, dim))
}

/// A buffered reader that knows its byte offset.
struct OffsetReader<R> {
    inner: BufReader<R>,
    offset: u64,
}

impl<R: Read> OffsetReader<R> {
    fn byte(&mut self) -> std::io::Result<Option<u8>> {
        let buf = self.inner.fill_buf()?;
        let Some(&b) = buf.first() else {
            return Ok(None);
        };
        self.inner.consume(1);
        self.offset += 1;
        Ok(Some(b))
    }

    /// Appends bytes through `delim` (included); false when the input (or `max` bytes) ended first.
    fn read_until(&mut self, delim: u8, out: &mut Vec<u8>, max: usize) -> std::io::Result<bool> {
        let mut taken = 0;
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Ok(false);
            }
            if let Some(p) = buf.iter().position(|&b| b == delim) {
                out.extend_from_slice(&buf[..=p]);
                self.inner.consume(p + 1);
                self.offset += p as u64 + 1;
                return Ok(true);
            }
            let n = buf.len();
            out.extend_from_slice(buf);
            self.inner.consume(n);
            self.offset += n as u64;
            taken += n;
            if taken > max {
                return Ok(false);
            }
        }
    }

    /// Fills `out` as far as the input allows; returns the bytes read.
    fn fill(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let mut got = 0;
        while got < out.len() {
            let n = self.inner.read(&mut out[got..])?;
            if n == 0 {
                break;
            }
            got += n;
        }
        self.offset += got as u64;
        Ok(got)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> KeyedVectors {
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

    fn tmp(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("neurite-w2v-vec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn text_format_is_word2vec_c_bytes() {
        let kv = KeyedVectors::new(vec!["a".into(), "b".into()], 2, vec![0.5, -0.25, 1e-7, 3.0])
            .unwrap();
        let mut out = Vec::new();
        kv.write_text(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "2 2\na 0.500000 -0.250000 \nb 0.000000 3.000000 \n"
        );
    }

    #[test]
    fn binary_format_is_word2vec_c_bytes() {
        let kv = KeyedVectors::new(vec!["ab".into()], 2, vec![1.0, -2.0]).unwrap();
        let mut out = Vec::new();
        kv.write_binary(&mut out).unwrap();
        let mut expect = b"1 2\nab ".to_vec();
        expect.extend_from_slice(&1.0f32.to_le_bytes());
        expect.extend_from_slice(&(-2.0f32).to_le_bytes());
        expect.push(b'\n');
        assert_eq!(out, expect);
    }

    #[test]
    fn round_trips() {
        let kv = sample();
        let pt = tmp("v.txt");
        let pb = tmp("v.bin");
        kv.save_text(&pt).unwrap();
        kv.save_binary(&pb).unwrap();
        for (p, exact) in [(&pt, false), (&pb, true)] {
            let back = KeyedVectors::load(p).unwrap();
            assert_eq!(back.words(), kv.words());
            for (a, b) in back.vectors().iter().zip(kv.vectors()) {
                if exact {
                    assert_eq!(a.to_bits(), b.to_bits());
                } else {
                    assert!((a - b).abs() <= 5e-7);
                }
            }
        }
        // A file written by gensim: no line break after each binary vector.
        let mut g = b"2 1\nx ".to_vec();
        g.extend_from_slice(&0.5f32.to_le_bytes());
        g.extend_from_slice(b"y ");
        g.extend_from_slice(&(-1.5f32).to_le_bytes());
        std::fs::write(&pb, &g).unwrap();
        let back = KeyedVectors::load_binary(&pb).unwrap();
        assert_eq!(back.words(), ["x", "y"]);
        assert_eq!(back.vectors(), [0.5, -1.5]);
    }

    #[test]
    fn bad_files_are_typed_errors_with_places() {
        let p = tmp("bad.txt");
        std::fs::write(&p, "two 3\na 1 2 3\n").unwrap();
        assert!(matches!(
            KeyedVectors::load_text(&p),
            Err(Error::Format { line: 1, .. })
        ));
        std::fs::write(&p, "2 3\na 1 2 3\nb 1 2\n").unwrap();
        match KeyedVectors::load_text(&p).unwrap_err() {
            Error::WrongDimension {
                line,
                expected,
                found,
                word,
                ..
            } => assert_eq!((line, expected, found, word.as_str()), (3, 3, 2, "b")),
            e => panic!("unexpected {e}"),
        }
        std::fs::write(&p, "2 3\na 1 2 3\nb 1 x 3\n").unwrap();
        assert!(matches!(
            KeyedVectors::load_text(&p),
            Err(Error::Format { line: 3, .. })
        ));
        std::fs::write(&p, "3 3\na 1 2 3\n").unwrap();
        assert!(matches!(
            KeyedVectors::load_text(&p),
            Err(Error::Format { .. })
        ));

        let kv = sample();
        let pb = tmp("trunc.bin");
        kv.save_binary(&pb).unwrap();
        let full = std::fs::read(&pb).unwrap();
        // Cut inside the last vector: the error names the offset where data ran out.
        std::fs::write(&pb, &full[..full.len() - 6]).unwrap();
        match KeyedVectors::load_binary(&pb).unwrap_err() {
            Error::Truncated { offset, .. } => assert_eq!(offset, full.len() as u64 - 6),
            e => panic!("unexpected {e}"),
        }
        // Cut inside a word.
        let cut = full.len() - 14;
        std::fs::write(&pb, &full[..cut]).unwrap();
        assert!(matches!(
            KeyedVectors::load_binary(&pb),
            Err(Error::Truncated { .. })
        ));
        // A corrupt header announcing a huge file fails cleanly instead of allocating it.
        std::fs::write(&pb, b"999999999999 100000\nab \x00\x00").unwrap();
        assert!(matches!(
            KeyedVectors::load_binary(&pb),
            Err(Error::Truncated { .. })
        ));
        std::fs::write(&pb, b"x y\n").unwrap();
        assert!(matches!(
            KeyedVectors::load_binary(&pb),
            Err(Error::Format { line: 1, .. })
        ));
        assert!(matches!(
            KeyedVectors::load(tmp("missing")),
            Err(Error::Io { .. })
        ));
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
    fn constructor_checks_shape() {
        assert!(KeyedVectors::new(vec!["a".into()], 2, vec![1.0]).is_err());
        assert!(KeyedVectors::new(vec![], 0, vec![]).is_err());
    }
}

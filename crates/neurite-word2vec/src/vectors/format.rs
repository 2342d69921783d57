//! The word2vec vector formats, read and written.
//!
//! Text: a header `words dim\n`, then per word `word v1 v2 … vdim \n` with each value printed
//! as C's `%lf` (six decimals) followed by a space. Binary: the same header, then per word
//! `word ` followed by `dim` little-endian `f32`s and `\n` (gensim omits that `\n`; both are
//! read). Words are byte strings. Either format may be gzip-compressed (told by its first two
//! bytes, whatever the file's name).
//!
//! Reading never trusts the header for memory: the matrix is reserved for at most the rows the
//! file's length can hold (for a compressed file, it grows with the rows actually read), and a
//! failed allocation is [`Error::OutOfMemory`]. With [`LoadOptions::limit`] only the first rows
//! are read, as gensim's `limit`.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::KeyedVectors;
use crate::error::{Error, Result};
use crate::io::{try_grow, write_atomically};
use crate::vocab::WordTable;

/// How a vectors file is read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Read only the first `limit` words (the most frequent, in files written by word2vec.c or
    /// gensim); `None`: all of them.
    pub limit: Option<usize>,
}

impl LoadOptions {
    /// Options reading at most `limit` words (`None`: all).
    pub fn limit(limit: Option<usize>) -> Self {
        LoadOptions { limit }
    }
}

/// Largest vector dimension accepted from a file header.
pub const MAX_DIM: usize = 1 << 20;

/// Longest word accepted in a binary file, in bytes (word2vec.c's `max_w` is 50; gensim writes
/// whatever its keys are).
const MAX_WORD_BYTES: usize = 1 << 16;

impl KeyedVectors {
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
        for (i, word) in self.table.iter().enumerate() {
            w.write_all(word)?;
            w.write_all(b" ")?;
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
        for (i, word) in self.table.iter().enumerate() {
            w.write_all(word)?;
            w.write_all(b" ")?;
            bytes.clear();
            for &x in self.row(i) {
                bytes.extend_from_slice(&x.to_le_bytes());
            }
            w.write_all(&bytes)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Reads a vectors file, text or binary (told apart by the first entry), plain or gzip.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::load_with(path, &LoadOptions::default())
    }

    /// As [`KeyedVectors::load`], with options (a limit on the words read).
    pub fn load_with(path: impl AsRef<Path>, opts: &LoadOptions) -> Result<Self> {
        let path = path.as_ref();
        let mut head = Vec::new();
        open(path)?
            .take(1 << 16)
            .read_to_end(&mut head)
            .map_err(|e| Error::io(path, e))?;
        if looks_binary(&head) {
            Self::load_binary_with(path, opts)
        } else {
            Self::load_text_with(path, opts)
        }
    }

    /// Reads the word2vec text format.
    pub fn load_text(path: impl AsRef<Path>) -> Result<Self> {
        Self::load_text_with(path, &LoadOptions::default())
    }

    /// Reads the word2vec text format, with options.
    pub fn load_text_with(path: impl AsRef<Path>, opts: &LoadOptions) -> Result<Self> {
        let path = path.as_ref();
        let source = open(path)?;
        let bound = source.plain_len();
        read_text(BufReader::with_capacity(1 << 20, source), path, opts, bound)
    }

    /// Reads the word2vec binary format.
    pub fn load_binary(path: impl AsRef<Path>) -> Result<Self> {
        Self::load_binary_with(path, &LoadOptions::default())
    }

    /// Reads the word2vec binary format, with options.
    pub fn load_binary_with(path: impl AsRef<Path>, opts: &LoadOptions) -> Result<Self> {
        let path = path.as_ref();
        let source = open(path)?;
        let bound = source.plain_len();
        let mut r = OffsetReader {
            inner: BufReader::with_capacity(1 << 20, source),
            offset: 0,
        };
        read_binary(&mut r, path, opts, bound)
    }
}

/// A vectors file, decompressed when it is gzip.
enum Source {
    Plain(File, u64),
    Gzip(Box<MultiGzDecoder<File>>),
}

impl Source {
    /// The file's length when it is not compressed: a bound on what it can hold.
    fn plain_len(&self) -> Option<u64> {
        match self {
            Source::Plain(_, len) => Some(*len),
            Source::Gzip(_) => None,
        }
    }
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Source::Plain(f, _) => f.read(buf),
            Source::Gzip(g) => g.read(buf),
        }
    }
}

fn open(path: &Path) -> Result<Source> {
    let io = |e| Error::io(path, e);
    let mut f = File::open(path).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    let mut magic = [0u8; 2];
    let got = f.read(&mut magic).map_err(io)?;
    let got = if got == 1 {
        got + f.read(&mut magic[1..]).map_err(io)?
    } else {
        got
    };
    let f = File::open(path).map_err(io)?;
    Ok(if got == 2 && magic == [0x1f, 0x8b] {
        Source::Gzip(Box::new(MultiGzDecoder::new(f)))
    } else {
        Source::Plain(f, len)
    })
}

/// Rows to reserve up front: the header's count (capped by the limit), but no more than a file
/// of `bound` bytes can hold at `min_row_bytes` bytes per row; for a compressed file (no
/// bound) a small start, grown with the data.
fn initial_rows(n: usize, bound: Option<u64>, min_row_bytes: u64) -> usize {
    match bound {
        Some(len) => n.min(usize::try_from(len / min_row_bytes).unwrap_or(usize::MAX)),
        None => n.min(1 << 12),
    }
}

/// Appends one row's values, growing the matrix (doubling, checked) when it is full.
fn push_row(vectors: &mut Vec<f32>, row: impl IntoIterator<Item = f32>, dim: usize) -> Result<()> {
    if vectors.capacity() - vectors.len() < dim {
        let extra = vectors.capacity().max(dim);
        try_grow(vectors, extra, "the vectors being read")?;
    }
    vectors.extend(row);
    Ok(())
}

fn read_text(
    mut r: impl BufRead,
    path: &Path,
    opts: &LoadOptions,
    bound: Option<u64>,
) -> Result<KeyedVectors> {
    let io = |e| Error::io(path, e);
    let mut line = Vec::new();
    if r.read_until(b'\n', &mut line).map_err(io)? == 0 {
        return Err(Error::format(
            path,
            1,
            "empty file: expected `words dim` header",
        ));
    }
    let (n, dim) = parse_header(path, &line)?;
    let take = opts.limit.map_or(n, |l| l.min(n));
    // A row takes at least a one-byte word and `dim` values of one digit, each with a space.
    let rows = initial_rows(take, bound, 2 * dim as u64 + 2);
    let mut vectors: Vec<f32> = Vec::new();
    try_grow(
        &mut vectors,
        rows * dim,
        "the vectors announced by the header",
    )?;
    let mut table = WordTable::default();
    let mut line_no = 1;
    while table.len() < take {
        line.clear();
        if r.read_until(b'\n', &mut line).map_err(io)? == 0 {
            break;
        }
        line_no += 1;
        let mut parts = line
            .split(|b| b.is_ascii_whitespace())
            .filter(|s| !s.is_empty());
        let Some(word) = parts.next() else {
            continue;
        };
        let lossy = || String::from_utf8_lossy(word).into_owned();
        let mut values = Vec::with_capacity(dim);
        for (k, p) in parts.enumerate() {
            let x = std::str::from_utf8(p)
                .ok()
                .and_then(|p| p.parse::<f32>().ok())
                .ok_or_else(|| {
                    Error::format(
                        path,
                        line_no,
                        format!(
                            "component {} of {:?} is not a number: {:?}",
                            k + 1,
                            lossy(),
                            String::from_utf8_lossy(p)
                        ),
                    )
                })?;
            values.push(x);
        }
        if values.len() != dim {
            return Err(Error::WrongDimension {
                path: path.to_path_buf(),
                line: line_no,
                word: lossy(),
                expected: dim,
                found: values.len(),
            });
        }
        if !table.push(word) {
            return Err(Error::DuplicateWord {
                path: path.to_path_buf(),
                line: line_no,
                word: lossy(),
            });
        }
        push_row(&mut vectors, values, dim)?;
    }
    if table.len() < take {
        return Err(Error::format(
            path,
            line_no + 1,
            format!(
                "the header announces {n} words, the file holds {}",
                table.len()
            ),
        ));
    }
    if opts.limit.is_none_or(|l| l >= n) {
        // The whole file was asked for: anything after the last entry is an error.
        loop {
            line.clear();
            if r.read_until(b'\n', &mut line).map_err(io)? == 0 {
                break;
            }
            line_no += 1;
            if !line.iter().all(|b| b.is_ascii_whitespace()) {
                return Err(Error::format(
                    path,
                    line_no,
                    format!("more entries than the {n} the header announces"),
                ));
            }
        }
    }
    vectors.shrink_to_fit();
    KeyedVectors::from_table(table, dim, vectors)
}

fn read_binary<R: BufRead>(
    r: &mut OffsetReader<R>,
    path: &Path,
    opts: &LoadOptions,
    bound: Option<u64>,
) -> Result<KeyedVectors> {
    let io = |e| Error::io(path, e);
    let mut header = Vec::new();
    r.read_until(b'\n', &mut header, 256).map_err(io)?;
    let (n, dim) = parse_header(path, &header)?;
    let take = opts.limit.map_or(n, |l| l.min(n));
    // A row takes at least a one-byte word, a space and `dim` floats.
    let rows = initial_rows(take, bound, 4 * dim as u64 + 2);
    let mut vectors: Vec<f32> = Vec::new();
    try_grow(
        &mut vectors,
        rows * dim,
        "the vectors announced by the header",
    )?;
    let mut table = WordTable::default();
    let mut word = Vec::new();
    let mut bytes = vec![0u8; dim * 4];
    for i in 0..take {
        // Skip the line break that ends the previous entry (absent in gensim's files).
        let start = loop {
            let at = r.offset;
            match r.byte().map_err(io)? {
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
        if start.1 != b' ' {
            let ended = r.read_until(b' ', &mut word, MAX_WORD_BYTES).map_err(io)?;
            if !ended {
                return Err(Error::Truncated {
                    path: path.to_path_buf(),
                    offset: r.offset,
                    expected: format!(
                        "a space after word {} of {n} (from offset {}) within {MAX_WORD_BYTES} bytes",
                        i + 1,
                        start.0
                    ),
                });
            }
        }
        word.pop();
        let at = r.offset;
        let got = r.fill(&mut bytes).map_err(io)?;
        if got < bytes.len() {
            return Err(Error::Truncated {
                path: path.to_path_buf(),
                offset: at + got as u64,
                expected: format!(
                    "{} bytes of the vector of {:?} from offset {at}",
                    dim * 4,
                    String::from_utf8_lossy(&word)
                ),
            });
        }
        if !table.push(&word) {
            return Err(Error::DuplicateWord {
                path: path.to_path_buf(),
                line: i + 2,
                word: String::from_utf8_lossy(&word).into_owned(),
            });
        }
        push_row(
            &mut vectors,
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            dim,
        )?;
    }
    vectors.shrink_to_fit();
    KeyedVectors::from_table(table, dim, vectors)
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

fn parse_header(path: &Path, line: &[u8]) -> Result<(usize, usize)> {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end_matches(['\n', '\r']);
    let parts: Vec<&str> = text.split_ascii_whitespace().collect();
    let bad = || {
        Error::format(
            path,
            1,
            format!("expected a `words dim` header of two integers, found {text:?}"),
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
    inner: R,
    offset: u64,
}

impl<R: BufRead> OffsetReader<R> {
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
    use crate::vectors::tests::sample;
    use std::io::Write;

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
    fn words_are_bytes_in_both_formats() {
        // Latin-1 words that a lossy reader merges into one `\u{fffd}t\u{fffd}`.
        let words: [&[u8]; 3] = [b"\xe9t\xe9", b"\xe8t\xe8", "caf\u{e9}".as_bytes()];
        let kv =
            KeyedVectors::from_byte_words(words, 2, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        assert_eq!(kv.index_bytes(b"\xe8t\xe8"), Some(1));
        assert_eq!(kv.index("café"), Some(2));
        assert_eq!(kv.words()[0], "\u{fffd}t\u{fffd}");
        for (p, text) in [(tmp("bytes.txt"), true), (tmp("bytes.bin"), false)] {
            if text {
                kv.save_text(&p).unwrap();
            } else {
                kv.save_binary(&p).unwrap();
            }
            let back = KeyedVectors::load(&p).unwrap();
            for (i, w) in words.iter().enumerate() {
                assert_eq!(back.word_bytes(i), Some(*w));
                assert_eq!(back.index_bytes(w), Some(i));
            }
            assert_eq!(back.vectors(), kv.vectors());
        }
    }

    #[test]
    fn limit_reads_the_first_words_and_gzip_is_read() {
        use flate2::write::GzEncoder;
        let kv = sample();
        for binary in [false, true] {
            let mut plain = Vec::new();
            if binary {
                kv.write_binary(&mut plain).unwrap();
            } else {
                kv.write_text(&mut plain).unwrap();
            }
            let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(&plain).unwrap();
            let gz = gz.finish().unwrap();
            let (pp, pg) = (
                tmp(&format!("l{binary}.vec")),
                tmp(&format!("l{binary}.vec.gz")),
            );
            std::fs::write(&pp, &plain).unwrap();
            std::fs::write(&pg, &gz).unwrap();
            for p in [&pp, &pg] {
                let all = KeyedVectors::load(p).unwrap();
                assert_eq!(all.words(), kv.words(), "{p:?}");
                let two = KeyedVectors::load_with(p, &LoadOptions::limit(Some(2))).unwrap();
                assert_eq!(two.words(), &kv.words()[..2], "{p:?}");
                assert_eq!(two.vectors().len(), 2 * kv.dim());
                let more = KeyedVectors::load_with(p, &LoadOptions::limit(Some(99))).unwrap();
                assert_eq!(more.len(), kv.len());
            }
            // A gzip file cut short is an error, not a shorter model.
            std::fs::write(&pg, &gz[..gz.len() / 2]).unwrap();
            assert!(KeyedVectors::load(&pg).is_err());
        }
    }

    #[test]
    fn headers_claiming_huge_sizes_reserve_nothing_by_their_word() {
        // 35 bytes claiming 2^20 × 2^20 floats (4 TiB): the reservation is bounded by the
        // file's length, and the missing data is a truncation.
        let p = tmp("huge.bin");
        let mut f = b"1048576 1048576\nab ".to_vec();
        f.extend_from_slice(&[0u8; 15]);
        std::fs::write(&p, &f).unwrap();
        assert!(matches!(
            KeyedVectors::load_binary(&p),
            Err(Error::Truncated { .. })
        ));
        let p = tmp("huge.txt");
        std::fs::write(&p, "1000000000000 1048576\na 1 2\n").unwrap();
        assert!(matches!(
            KeyedVectors::load_text(&p),
            Err(Error::WrongDimension { .. })
        ));
        std::fs::write(&p, "1 1048577\na 1\n").unwrap();
        assert!(matches!(
            KeyedVectors::load_text(&p),
            Err(Error::Format { line: 1, .. })
        ));
    }

    #[test]
    fn duplicate_words_and_bad_utf8_numbers_are_typed_errors() {
        let p = tmp("dup.txt");
        std::fs::write(&p, "3 1\na 1\nb 2\na 3\n").unwrap();
        assert!(matches!(
            KeyedVectors::load_text(&p),
            Err(Error::DuplicateWord { line: 4, .. })
        ));
        std::fs::write(&p, b"1 2\na 1 \xff\n").unwrap();
        assert!(matches!(
            KeyedVectors::load_text(&p),
            Err(Error::Format { line: 2, .. })
        ));
        let pb = tmp("dup.bin");
        let kv = KeyedVectors::new(vec!["a".into(), "a".into()], 1, vec![1.0, 2.0]).unwrap();
        kv.save_binary(&pb).unwrap();
        assert!(matches!(
            KeyedVectors::load_binary(&pb),
            Err(Error::DuplicateWord { .. })
        ));
    }
}

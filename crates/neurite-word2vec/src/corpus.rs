//! Corpora streamed from disk or memory, split into words on white space the way word2vec.c
//! does, and cut into byte ranges so that each training thread reads its own part.
//!
//! Word boundaries are space, tab and newline; a carriage return is ignored wherever it is; a
//! newline is also a token of its own (the sentence end `</s>`); words longer than
//! [`MAX_WORD_BYTES`] are truncated. A byte range `[start, end)` yields exactly the tokens that
//! *start* inside it, so consecutive ranges partition the corpus without overlap or loss.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};

/// Longest word kept, in bytes (word2vec.c's `MAX_STRING` of 100 less its two spare bytes);
/// longer words are cut to this length, as the original does.
pub const MAX_WORD_BYTES: usize = 98;

const CHUNK: usize = 1 << 18;

/// A text corpus: a file read from disk as training goes, or bytes in memory.
#[derive(Clone, Debug)]
pub enum Corpus {
    /// A file, streamed (it need not fit in memory).
    File(PathBuf),
    /// Text already in memory, with a name used in error messages.
    Memory {
        /// Name shown in errors (e.g. `<embedded corpus-pd-1m>`).
        name: PathBuf,
        /// The text.
        bytes: Arc<[u8]>,
    },
}

impl Corpus {
    /// A corpus read from `path`.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Corpus::File(path.into())
    }

    /// A corpus held in memory.
    pub fn from_bytes(name: impl Into<PathBuf>, bytes: impl Into<Arc<[u8]>>) -> Self {
        Corpus::Memory {
            name: name.into(),
            bytes: bytes.into(),
        }
    }

    /// The embedded default corpus: 1,000,000 public-domain words (King James Bible, World English
    /// Bible, Shakespeare and Milton), lower-case, one line. Needs the default-on `embedded-data`
    /// feature.
    #[cfg(feature = "embedded-data")]
    pub fn embedded() -> Result<Self> {
        Ok(Corpus::from_bytes(
            "<embedded corpus-pd-1m>",
            crate::data::corpus_pd_1m()?,
        ))
    }

    /// The name used in errors: the file path or the memory corpus's name.
    pub fn path(&self) -> &Path {
        match self {
            Corpus::File(p) => p,
            Corpus::Memory { name, .. } => name,
        }
    }

    /// Size in bytes.
    pub fn len_bytes(&self) -> Result<u64> {
        match self {
            Corpus::File(p) => Ok(std::fs::metadata(p).map_err(|e| Error::io(p, e))?.len()),
            Corpus::Memory { bytes, .. } => Ok(bytes.len() as u64),
        }
    }

    /// The first `n_words` words of this corpus (plus the line breaks among them) as a corpus
    /// in memory; used for quick runs.
    pub fn head(&self, n_words: usize) -> Result<Corpus> {
        let len = self.len_bytes()?;
        let mut tokens = self.tokens(0, len, false)?;
        let mut out = Vec::new();
        let mut words = 0;
        while words < n_words {
            match tokens.next_token()? {
                None => break,
                Some(Token::Newline) => out.push(b'\n'),
                Some(Token::Word(w)) => {
                    if !out.is_empty() && out.last() != Some(&b'\n') {
                        out.push(b' ');
                    }
                    out.extend_from_slice(w);
                    words += 1;
                }
            }
        }
        out.push(b'\n');
        Ok(Corpus::from_bytes(
            format!("{} (first {} words)", self.path().display(), words),
            out,
        ))
    }

    /// The tokens that start in the byte range `[start, end)`. With `drop_unterminated_tail`
    /// a last word ended by the end of the file rather than by white space is dropped, as
    /// word2vec.c does (used by the reference-parity mode).
    pub(crate) fn tokens(
        &self,
        start: u64,
        end: u64,
        drop_unterminated_tail: bool,
    ) -> Result<Tokens> {
        // Open one byte early: if that byte is part of a word, the word began in the previous
        // range and is skipped.
        let open_at = start.saturating_sub(1);
        let src: Box<dyn Read + Send> = match self {
            Corpus::File(p) => {
                let mut f = File::open(p).map_err(|e| Error::io(p, e))?;
                f.seek(SeekFrom::Start(open_at))
                    .map_err(|e| Error::io(p, e))?;
                Box::new(f)
            }
            Corpus::Memory { bytes, .. } => Box::new(ArcReader {
                bytes: bytes.clone(),
                pos: (open_at as usize).min(bytes.len()),
            }),
        };
        Ok(Tokens {
            src,
            path: self.path().to_path_buf(),
            buf: vec![0; CHUNK],
            pos: 0,
            len: 0,
            buf_offset: open_at,
            eof: false,
            end,
            skip_first: start > 0,
            start,
            drop_unterminated_tail,
            word: Vec::with_capacity(MAX_WORD_BYTES + 1),
        })
    }
}

struct ArcReader {
    bytes: Arc<[u8]>,
    pos: usize,
}

impl Read for ArcReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let rest = &self.bytes[self.pos..];
        let n = rest.len().min(out.len());
        out[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

/// One token of the corpus.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Token<'a> {
    /// A word's bytes.
    Word(&'a [u8]),
    /// A line break: the sentence end `</s>`.
    Newline,
}

#[inline]
fn is_separator(b: u8) -> bool {
    b == b' ' || b == b'\t' || b == b'\n'
}

/// Where the next token is.
enum Step {
    End,
    Newline,
    /// A word at `buf[start..end]`.
    Raw(usize, usize),
    /// A word rewritten into `word`.
    Cleaned,
    /// Nothing to return (carriage returns only); read on.
    Nothing,
}

/// Streaming tokenizer over one byte range of a corpus.
pub(crate) struct Tokens {
    src: Box<dyn Read + Send>,
    path: PathBuf,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    /// Absolute offset of `buf[0]`.
    buf_offset: u64,
    eof: bool,
    end: u64,
    skip_first: bool,
    start: u64,
    drop_unterminated_tail: bool,
    word: Vec<u8>,
}

impl Tokens {
    /// Reads more bytes, keeping `buf[keep_from..len]`. Returns false at end of input.
    fn refill(&mut self, keep_from: usize) -> Result<bool> {
        self.buf.copy_within(keep_from..self.len, 0);
        self.len -= keep_from;
        self.pos -= keep_from.min(self.pos);
        self.buf_offset += keep_from as u64;
        if self.eof {
            return Ok(false);
        }
        if self.len == self.buf.len() {
            let n = self.buf.len() * 2;
            self.buf.resize(n, 0);
        }
        loop {
            match self.src.read(&mut self.buf[self.len..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.len += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(&self.path, e)),
            }
        }
    }

    /// The next token starting inside the range, or `None` at the range's (or the corpus's) end.
    pub(crate) fn next_token(&mut self) -> Result<Option<Token<'_>>> {
        loop {
            match self.advance()? {
                Step::End => return Ok(None),
                Step::Newline => return Ok(Some(Token::Newline)),
                Step::Raw(start, end) => return Ok(Some(Token::Word(&self.buf[start..end]))),
                Step::Cleaned => return Ok(Some(Token::Word(&self.word))),
                Step::Nothing => continue,
            }
        }
    }

    /// Moves to the next token and tells where it is, without borrowing the buffer.
    fn advance(&mut self) -> Result<Step> {
        if self.skip_first {
            self.skip_first = false;
            // Skip the tail of a word that started before the range.
            loop {
                if self.pos == self.len && !self.refill(self.pos)? {
                    return Ok(Step::End);
                }
                let b = self.buf[self.pos];
                if is_separator(b) {
                    break;
                }
                self.pos += 1;
            }
            // A separator before the range start belongs to the previous range.
            if self.buf_offset + (self.pos as u64) < self.start {
                self.pos += 1;
            }
        }
        // Skip spaces and tabs. A carriage return is not skipped here: it is part of the word
        // it touches (and removed from it), so a word starts at its first byte, `\r` or not,
        // which keeps range boundaries consistent.
        loop {
            if self.pos == self.len && !self.refill(self.pos)? {
                return Ok(Step::End);
            }
            let b = self.buf[self.pos];
            if b == b' ' || b == b'\t' {
                self.pos += 1;
            } else {
                break;
            }
        }
        if self.buf_offset + self.pos as u64 >= self.end {
            return Ok(Step::End);
        }
        if self.buf[self.pos] == b'\n' {
            self.pos += 1;
            return Ok(Step::Newline);
        }
        let start = self.pos;
        let mut scan = start;
        let mut start = start;
        let terminated = loop {
            while scan < self.len && !is_separator(self.buf[scan]) {
                scan += 1;
            }
            if scan < self.len {
                break true;
            }
            let keep = start;
            if !self.refill(keep)? {
                scan = self.len;
                start = 0;
                break false;
            }
            scan -= keep;
            start = 0;
        };
        if !terminated && self.drop_unterminated_tail {
            self.pos = self.len;
            return Ok(Step::End);
        }
        // Leave a newline in place: it is the next token.
        self.pos = if terminated && self.buf[scan] != b'\n' {
            scan + 1
        } else {
            scan
        };
        let raw = &self.buf[start..scan];
        if raw.len() <= MAX_WORD_BYTES && !raw.contains(&b'\r') {
            return Ok(Step::Raw(start, scan));
        }
        self.word.clear();
        self.word
            .extend(raw.iter().copied().filter(|&b| b != b'\r'));
        self.word.truncate(MAX_WORD_BYTES);
        if self.word.is_empty() {
            // A run of carriage returns only: no word, read on.
            return Ok(Step::Nothing);
        }
        Ok(Step::Cleaned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(c: &Corpus, start: u64, end: u64, drop_tail: bool) -> Vec<String> {
        let mut t = c.tokens(start, end, drop_tail).unwrap();
        let mut out = Vec::new();
        while let Some(tok) = t.next_token().unwrap() {
            out.push(match tok {
                Token::Word(w) => String::from_utf8_lossy(w).into_owned(),
                Token::Newline => "</s>".to_string(),
            });
        }
        out
    }

    #[test]
    fn splits_like_word2vec_c() {
        let c = Corpus::from_bytes("t", &b"  the cat\tsat\r\non\n\nthe  mat"[..]);
        assert_eq!(
            collect(&c, 0, u64::MAX, false),
            ["the", "cat", "sat", "</s>", "on", "</s>", "</s>", "the", "mat"]
        );
        // word2vec.c drops a last word that the end of file (not white space) terminates.
        assert_eq!(
            collect(&c, 0, u64::MAX, true),
            ["the", "cat", "sat", "</s>", "on", "</s>", "</s>", "the"]
        );
    }

    #[test]
    fn long_words_are_truncated_and_cr_removed() {
        let long = "x".repeat(150);
        let text = format!("a{}b {long} c", '\r');
        let c = Corpus::from_bytes("t", text.into_bytes());
        let toks = collect(&c, 0, u64::MAX, false);
        assert_eq!(toks[0], "ab");
        assert_eq!(toks[1].len(), MAX_WORD_BYTES);
        assert_eq!(toks[2], "c");
    }

    #[test]
    fn ranges_partition_the_tokens() {
        let text = "alpha beta gamma\ndelta  epsilon zeta eta\ttheta iota kappa\n";
        let c = Corpus::from_bytes("t", text.as_bytes().to_vec());
        let all = collect(&c, 0, text.len() as u64, false);
        for cut1 in 0..=text.len() {
            for cut2 in cut1..=text.len() {
                let mut parts = collect(&c, 0, cut1 as u64, false);
                parts.extend(collect(&c, cut1 as u64, cut2 as u64, false));
                parts.extend(collect(&c, cut2 as u64, text.len() as u64, false));
                assert_eq!(parts, all, "cuts at {cut1}, {cut2}");
            }
        }
    }

    #[test]
    fn words_longer_than_the_buffer_survive_refills() {
        let mut text = "w ".repeat(CHUNK / 2 - 3);
        text.push_str("abcdef ghi");
        let c = Corpus::from_bytes("t", text.into_bytes());
        let toks = collect(&c, 0, u64::MAX, false);
        assert_eq!(toks.len(), CHUNK / 2 - 1);
        assert_eq!(toks[toks.len() - 2], "abcdef");
        assert_eq!(toks[toks.len() - 1], "ghi");
    }

    #[test]
    fn file_and_memory_agree() {
        let dir = std::env::temp_dir().join(format!("neurite-w2v-corpus-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("c.txt");
        let text = "one two three\nfour five six seven\n";
        std::fs::write(&p, text).unwrap();
        let f = Corpus::file(&p);
        let m = Corpus::from_bytes("m", text.as_bytes().to_vec());
        for cut in 0..text.len() as u64 {
            assert_eq!(collect(&f, cut, 30, false), collect(&m, cut, 30, false));
        }
        assert!(matches!(
            Corpus::file(dir.join("missing.txt")).len_bytes(),
            Err(Error::Io { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn head_keeps_the_first_words() {
        let c = Corpus::from_bytes("t", &b"a b\nc d e"[..]);
        let h = c.head(3).unwrap();
        assert_eq!(
            collect(&h, 0, u64::MAX, false),
            ["a", "b", "</s>", "c", "</s>"]
        );
    }
}

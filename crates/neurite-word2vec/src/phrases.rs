//! Phrases, as word2vec.c's `word2phrase` finds them: two passes over a text, the first
//! counting words and adjacent word pairs, the second joining a pair `a b` into `a_b` when
//!
//! score(a, b) = (count(ab) − min_count) / (count(a) · count(b)) · train_words > threshold
//!
//! (and `a`, `b` and `ab` each occur at least `min_count` times). A joined pair is not joined
//! again with the next word in the same pass; run again on the output for longer phrases
//! ("new_york_times"), as word2vec.c's demo does with a falling threshold.
//!
//! [`phrase_file`] writes the same bytes as `word2phrase -train IN -output OUT -min-count N
//! -threshold T` (checked against a fixture the C tool produced: `tests/phrases.rs`): the same
//! tokens (white space and line breaks separate words, `\r` is dropped, a word is cut at 58
//! bytes, a word the file ends in without white space is dropped), the same counts (pairs are
//! counted across line breaks, but never joined across them), the same single-precision score,
//! and the same output layout (every word preceded by a space or `_`). Both passes stream the
//! text; memory holds only the counts, bounded by [`PhraseOptions::prune_at`].
//!
//! [`PhraseScoring`] also offers gensim's `Phrases` scorers: its default (the same formula with
//! the number of distinct words and pairs in place of `train_words`) and normalised pointwise
//! mutual information (`npmi`, in [−1, 1]).

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use crate::error::{Error, Result};
use crate::io::write_atomically;
use crate::vocab::WordTable;

/// word2phrase.c's longest word, in bytes (`MAX_STRING` − 2).
pub const MAX_PHRASE_WORD_BYTES: usize = 58;

/// word2phrase.c's longest pair, in bytes (`MAX_STRING` − 1): longer pairs are cut.
const MAX_PAIR_BYTES: usize = 59;

/// How a pair is scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhraseScoring {
    /// word2phrase.c: (count(ab) − min_count) / count(a) / count(b) · train_words, in single
    /// precision as the C code computes it.
    Word2Phrase,
    /// gensim's `Phrases` default (`original_scorer`): (count(ab) − min_count) / count(a) /
    /// count(b) · (distinct words and pairs counted).
    Gensim,
    /// gensim's `npmi_scorer`: ln(p(ab) / (p(a) p(b))) / −ln p(ab), with p(x) = count(x) /
    /// train_words; in [−1, 1] (a threshold of about 0.5 is usual).
    Npmi,
}

/// Settings of [`Phrases::learn`] and [`phrase_file`]: word2phrase.c's flags.
#[derive(Clone, Debug, PartialEq)]
pub struct PhraseOptions {
    /// Words and pairs seen fewer times are never joined (`-min-count`, default 5).
    pub min_count: u64,
    /// A pair is joined when its score is above this (`-threshold`, default 100).
    pub threshold: f64,
    /// The score (default word2phrase.c's).
    pub scoring: PhraseScoring,
    /// While counting, when more distinct words and pairs than this are held, the rarest are
    /// pruned (those seen at most r times, r = 1, 2, … on successive prunings), as word2phrase.c
    /// does at 70% of its 500M-entry hash table (the default, 350M; lower it to bound memory
    /// further, at the price of exact counts for rare pairs).
    pub prune_at: usize,
}

impl Default for PhraseOptions {
    fn default() -> Self {
        PhraseOptions {
            min_count: 5,
            threshold: 100.0,
            scoring: PhraseScoring::Word2Phrase,
            prune_at: 350_000_000,
        }
    }
}

/// Counts of words and adjacent pairs, learned from a text: what the second pass needs.
#[derive(Clone, Debug)]
pub struct Phrases {
    /// Words and pairs (`a_b`), in order of first occurrence.
    table: WordTable,
    counts: Vec<u64>,
    /// Entries kept: counted at least `min_count` times (word2phrase.c's sorted vocabulary).
    kept: Vec<bool>,
    /// Words read (line breaks not included).
    train_words: u64,
    options: PhraseOptions,
}

/// A token of word2phrase.c's reader.
enum Token<'a> {
    Word(&'a [u8]),
    Newline,
}

/// word2phrase.c's `ReadWord` over a buffered reader.
struct Reader<R> {
    inner: R,
    word: Vec<u8>,
    pending_newline: bool,
}

impl<R: BufRead> Reader<R> {
    fn new(inner: R) -> Self {
        Reader {
            inner,
            word: Vec::with_capacity(MAX_PHRASE_WORD_BYTES),
            pending_newline: false,
        }
    }

    /// The next token, or `None` at the end (a word ended by the end of the input is dropped,
    /// as word2phrase.c drops it).
    fn next(&mut self) -> std::io::Result<Option<Token<'_>>> {
        if self.pending_newline {
            self.pending_newline = false;
            return Ok(Some(Token::Newline));
        }
        self.word.clear();
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Ok(None);
            }
            let mut used = 0;
            let mut done = None;
            for &b in buf {
                used += 1;
                match b {
                    b'\r' => {}
                    b' ' | b'\t' | b'\n' => {
                        if !self.word.is_empty() {
                            self.pending_newline = b == b'\n';
                            done = Some(false);
                            break;
                        }
                        if b == b'\n' {
                            done = Some(true);
                            break;
                        }
                    }
                    _ => {
                        if self.word.len() < MAX_PHRASE_WORD_BYTES {
                            self.word.push(b);
                        }
                    }
                }
            }
            self.inner.consume(used);
            match done {
                Some(true) => return Ok(Some(Token::Newline)),
                Some(false) => return Ok(Some(Token::Word(&self.word))),
                None => {}
            }
        }
    }
}

/// `a_b`, cut at word2phrase.c's length.
fn pair(out: &mut Vec<u8>, a: &[u8], b: &[u8]) {
    out.clear();
    out.extend_from_slice(a);
    out.push(b'_');
    out.extend_from_slice(b);
    out.truncate(MAX_PAIR_BYTES);
}

impl Phrases {
    /// Counts the words and pairs of the text at `path` (streamed).
    pub fn learn(path: impl AsRef<Path>, options: &PhraseOptions) -> Result<Self> {
        let path = path.as_ref();
        let f = File::open(path).map_err(|e| Error::io(path, e))?;
        Self::learn_from(BufReader::with_capacity(1 << 20, f), path, options)
    }

    /// As [`Phrases::learn`], from any reader (`path` names it in errors).
    pub fn learn_from(input: impl Read, path: &Path, options: &PhraseOptions) -> Result<Self> {
        options.validate()?;
        let io = |e| Error::io(path, e);
        let mut r = Reader::new(BufReader::with_capacity(1 << 16, input));
        let mut table = WordTable::default();
        let mut counts: Vec<u64> = Vec::new();
        let mut min_reduce = 1u64;
        let mut last: Vec<u8> = Vec::new();
        let mut bigram = Vec::new();
        let mut train_words = 0u64;
        let add = |table: &mut WordTable, counts: &mut Vec<u64>, w: &[u8]| {
            let (i, new) = table.insert(w);
            if new {
                counts.push(1);
            } else {
                counts[i] = counts[i].saturating_add(1);
            }
        };
        while let Some(tok) = r.next().map_err(io)? {
            // Pairs are counted across line breaks, as word2phrase.c counts them.
            let Token::Word(w) = tok else { continue };
            train_words += 1;
            add(&mut table, &mut counts, w);
            pair(&mut bigram, &last, w);
            last.clear();
            last.extend_from_slice(w);
            add(&mut table, &mut counts, &bigram);
            if table.len() > options.prune_at {
                let mut kept = WordTable::default();
                let mut kept_counts = Vec::new();
                for (i, &c) in counts.iter().enumerate() {
                    if c > min_reduce {
                        kept.insert(table.word(i));
                        kept_counts.push(c);
                    }
                }
                table = kept;
                counts = kept_counts;
                min_reduce += 1;
            }
        }
        if train_words == 0 {
            return Err(Error::EmptyCorpus {
                path: path.to_path_buf(),
            });
        }
        let mut kept: Vec<bool> = counts.iter().map(|&c| c >= options.min_count).collect();
        // word2phrase.c's SortVocab drops the rarest entry (the last of equal counts) when no
        // entry falls below min_count: kept for byte-identical output.
        if kept.iter().all(|&k| k) {
            if let Some(last) = (0..counts.len()).rev().min_by_key(|&i| counts[i]) {
                kept[last] = false;
            }
        }
        Ok(Phrases {
            table,
            counts,
            kept,
            train_words,
            options: options.clone(),
        })
    }

    /// Words read in the first pass.
    pub fn train_words(&self) -> u64 {
        self.train_words
    }

    /// How often `word` (or a pair `a_b`) was counted, if at least `min_count` times.
    pub fn count(&self, word: &[u8]) -> Option<u64> {
        self.table
            .get(word)
            .filter(|&i| self.kept[i])
            .map(|i| self.counts[i])
    }

    /// The score of the pair `a b`, or `None` when `a`, `b` or `ab` occurs fewer than
    /// `min_count` times.
    pub fn score(&self, a: &[u8], b: &[u8]) -> Option<f64> {
        let mut ab = Vec::new();
        pair(&mut ab, a, b);
        let (ca, cb, cab) = (self.count(a)?, self.count(b)?, self.count(&ab)?);
        Some(self.score_counts(ca, cb, cab))
    }

    fn score_counts(&self, pa: u64, pb: u64, pab: u64) -> f64 {
        let min = self.options.min_count;
        match self.options.scoring {
            PhraseScoring::Word2Phrase => {
                // float arithmetic in C's order: (pab − min) / (real)pa / (real)pb * (real)words.
                ((pab - min) as f32 / pa as f32 / pb as f32 * self.train_words as f32) as f64
            }
            PhraseScoring::Gensim => {
                (pab - min) as f64 / pa as f64 / pb as f64 * self.table.len() as f64
            }
            PhraseScoring::Npmi => {
                let n = self.train_words as f64;
                let (p_a, p_b, p_ab) = (pa as f64 / n, pb as f64 / n, pab as f64 / n);
                (p_ab / (p_a * p_b)).ln() / -p_ab.ln()
            }
        }
    }

    /// True when the pair `a b` is joined.
    fn joins(&self, pa: u64, pb: u64, pab: u64) -> bool {
        let s = self.score_counts(pa, pb, pab);
        match self.options.scoring {
            // C compares two floats (the threshold was read into a float).
            PhraseScoring::Word2Phrase => (s as f32) > self.options.threshold as f32,
            _ => s > self.options.threshold,
        }
    }

    /// The second pass: copies `input` to `output`, joining the pairs whose score is above
    /// the threshold with `_`, in word2phrase.c's layout. Returns the words written (a
    /// phrase counts as its words).
    pub fn apply(&self, input: impl Read, output: &mut impl Write) -> std::io::Result<u64> {
        let mut r = Reader::new(BufReader::with_capacity(1 << 16, input));
        let mut last: Vec<u8> = Vec::new();
        let mut bigram = Vec::new();
        let (mut pa, mut pb) = (0u64, 0u64);
        let mut last_known = false;
        let mut words = 0u64;
        while let Some(tok) = r.next()? {
            let w = match tok {
                Token::Newline => {
                    output.write_all(b"\n")?;
                    // The next word's pair starts with the line break: never joined.
                    last.clear();
                    last.push(b'\n');
                    continue;
                }
                Token::Word(w) => w,
            };
            words += 1;
            let mut oov = false;
            match self.count(w) {
                Some(c) => pb = c,
                None => oov = true,
            }
            if !last_known {
                oov = true;
            }
            last_known = self.count(w).is_some();
            pair(&mut bigram, &last, w);
            let pab = self.count(&bigram);
            let min = self.options.min_count;
            if pab.is_none() || pa < min || pb < min {
                oov = true;
            }
            let join = !oov && self.joins(pa, pb, pab.unwrap_or(0));
            if join {
                output.write_all(b"_")?;
                pb = 0;
            } else {
                output.write_all(b" ")?;
            }
            output.write_all(w)?;
            last.clear();
            last.extend_from_slice(w);
            pa = pb;
        }
        Ok(words)
    }

    /// The `n` pairs of highest score (among those counted at least `min_count` times whose
    /// words are too), with their scores.
    pub fn top(&self, n: usize) -> Vec<(String, f64)> {
        let mut out: Vec<(String, f64)> = Vec::new();
        for i in 0..self.table.len() {
            if !self.kept[i] {
                continue;
            }
            let w = self.table.word(i);
            // A pair holds a `_` with a kept word on each side (words may hold `_` too).
            let best = (1..w.len())
                .filter(|&k| w[k] == b'_')
                .filter_map(|k| {
                    let (a, b) = (&w[..k], &w[k + 1..]);
                    Some(self.score_counts(self.count(a)?, self.count(b)?, self.counts[i]))
                })
                .reduce(f64::max);
            if let Some(s) = best {
                out.push((String::from_utf8_lossy(w).into_owned(), s));
            }
        }
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out.truncate(n);
        out
    }
}

impl PhraseOptions {
    /// Checks every setting.
    pub fn validate(&self) -> Result<()> {
        if !self.threshold.is_finite() {
            return Err(Error::config(
                "threshold",
                self.threshold,
                "a finite number",
            ));
        }
        if self.prune_at == 0 {
            return Err(Error::config("prune_at", 0, "at least 1"));
        }
        Ok(())
    }
}

/// word2phrase.c: learns the phrases of `train` and writes it to `output` with them joined
/// (atomically: a failed run leaves no half-written file). Returns the counts learned.
pub fn phrase_file(
    train: impl AsRef<Path>,
    output: impl AsRef<Path>,
    options: &PhraseOptions,
) -> Result<Phrases> {
    let (train, output) = (train.as_ref(), output.as_ref());
    crate::io::check_writable(output)?;
    let phrases = Phrases::learn(train, options)?;
    let f = File::open(train).map_err(|e| Error::io(train, e))?;
    write_atomically(output, |w| phrases.apply(f, w).map(|_| ()))?;
    Ok(phrases)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &[u8], opts: &PhraseOptions) -> Vec<u8> {
        let p = Phrases::learn_from(text, Path::new("t"), opts).unwrap();
        let mut out = Vec::new();
        p.apply(text, &mut out).unwrap();
        out
    }

    #[test]
    fn joins_frequent_pairs_in_word2phrase_layout() {
        let text = b"new york is big\nnew york is old\nthe new york\nyork new\n".repeat(5);
        let opts = PhraseOptions {
            min_count: 2,
            threshold: 1.0,
            ..Default::default()
        };
        let out = String::from_utf8(run(&text, &opts)).unwrap();
        // What word2phrase.c writes for this text with -min-count 2 -threshold 1: a joined
        // pair does not join the next word ("the_new york"), nothing joins across a line.
        assert_eq!(
            out,
            " new_york is_big\n new_york is_old\n the_new york\n york new\n".repeat(5)
        );
        let p = Phrases::learn_from(&text[..], Path::new("t"), &opts).unwrap();
        assert_eq!(p.count(b"new_york"), Some(15));
        assert!(p.score(b"new", b"york").unwrap() > 1.0);
        let top = p.top(100);
        assert!(top.windows(2).all(|w| w[0].1 >= w[1].1));
        assert!(top.iter().any(|(w, _)| w == "new_york"));
    }

    #[test]
    fn tokens_follow_word2phrase_c() {
        // \r dropped, tabs separate, a 70-byte word cut at 58, the last word (no white space
        // after it) dropped.
        let long = "x".repeat(70);
        let text = format!("a\tb\r\n{long} c\nd e");
        let opts = PhraseOptions {
            min_count: 100,
            ..Default::default()
        };
        let out = String::from_utf8(run(text.as_bytes(), &opts)).unwrap();
        assert_eq!(out, format!(" a b\n {} c\n d", "x".repeat(58)));
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let o = PhraseOptions::default();
        assert!(matches!(
            Phrases::learn_from(&b" \n\n"[..], Path::new("t"), &o),
            Err(Error::EmptyCorpus { .. })
        ));
        let nan = PhraseOptions {
            threshold: f64::NAN,
            ..Default::default()
        };
        assert!(Phrases::learn_from(&b"a b "[..], Path::new("t"), &nan).is_err());
        assert!(matches!(
            Phrases::learn("/no/such/file", &o),
            Err(Error::Io { .. })
        ));
    }

    #[test]
    fn gensim_scorers() {
        let text = b"new york is big\nnew york is old\nthe new york\n".repeat(5);
        for (scoring, threshold) in [(PhraseScoring::Gensim, 0.1), (PhraseScoring::Npmi, 0.5)] {
            let opts = PhraseOptions {
                min_count: 2,
                threshold,
                scoring,
                ..Default::default()
            };
            let p = Phrases::learn_from(&text[..], Path::new("t"), &opts).unwrap();
            let s = p.score(b"new", b"york").unwrap();
            let (a, b, ab) = (15.0f64, 15.0, 15.0); // "york" and "new" 15 times, always paired
            let want = match scoring {
                PhraseScoring::Gensim => (ab - 2.0) / a / b * p.table.len() as f64,
                _ => {
                    let n = p.train_words() as f64;
                    ((ab / n) / ((a / n) * (b / n))).ln() / -(ab / n).ln()
                }
            };
            assert!((s - want).abs() < 1e-12, "{scoring:?} {s} {want}");
            assert!(String::from_utf8(run(&text, &opts))
                .unwrap()
                .contains("new_york"));
        }
    }
}

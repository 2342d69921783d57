//! The vocabulary: words counted from a streamed corpus, rare words cut by `min_count`, sorted
//! by frequency (ties by the word's bytes, so the order never depends on hashing), with the
//! sentence end `</s>` kept at index 0 as word2vec.c does. Saved and loaded as `word count` lines.
//!
//! The reference-parity forms ([`Vocabulary::build_reference`], [`Vocabulary::load_reference`])
//! order ties as word2vec.c does when its C library's `qsort` is stable (glibc's merge sort):
//! by first occurrence in the corpus, or by line order in a vocabulary file. That order does
//! not depend on hashing either, and it makes `-save-vocab` files byte-identical to the
//! original's.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use crate::corpus::{Corpus, Token};
use crate::error::{Error, Result};
use crate::io::write_atomically;

/// The sentence-end token: a line break in the corpus. Always at index 0 of a [`Vocabulary`].
pub const SENTENCE_END: &str = "</s>";

/// How the vocabulary is built.
#[derive(Clone, Debug, PartialEq)]
pub struct VocabOptions {
    /// Words seen fewer times are dropped (`-min-count`, default 5).
    pub min_count: u64,
    /// Keep at most this many words (the most frequent), `</s>` included; `None`: no cap.
    pub max_vocab_size: Option<usize>,
    /// While counting, when the table holds more distinct words than this, the rarest are pruned
    /// (those seen at most `r` times, `r` = 1, 2, … on successive prunings), as word2vec.c does
    /// at 70% of its 30M-entry hash table (the default, 21M).
    pub prune_at: usize,
}

impl Default for VocabOptions {
    fn default() -> Self {
        VocabOptions {
            min_count: 5,
            max_vocab_size: None,
            prune_at: 21_000_000,
        }
    }
}

/// An open-addressing hash table from word bytes to indices into an arena of words.
#[derive(Clone, Debug, Default)]
pub(crate) struct WordTable {
    /// All words' bytes, concatenated.
    arena: Vec<u8>,
    /// `ends[i]`: end of word `i` in `arena`.
    ends: Vec<usize>,
    /// Slots holding a word index, or `u32::MAX` when empty. Length: a power of two.
    slots: Vec<u32>,
}

#[inline]
fn hash_bytes(bytes: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = (bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    let mut tail = 0u64;
    for (i, &b) in chunks.remainder().iter().enumerate() {
        tail |= (b as u64) << (8 * i);
    }
    h = (h.rotate_left(5) ^ tail).wrapping_mul(K);
    h ^ (h >> 29)
}

impl WordTable {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn word(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.arena[start..self.ends[i]]
    }

    /// Word `i`, or `None` past the end.
    pub(crate) fn get_word(&self, i: usize) -> Option<&[u8]> {
        (i < self.len()).then(|| self.word(i))
    }

    /// Appends `bytes` as word `len()` even when it is present already (then lookups keep
    /// answering with the first); true when it was new.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> bool {
        if self.slots.len() < 2 * (self.len() + 1) {
            self.rehash((2 * (self.len() + 1)).next_power_of_two().max(1024));
        }
        let (s, found) = self.slot_of(bytes);
        let i = self.len();
        self.arena.extend_from_slice(bytes);
        self.ends.push(self.arena.len());
        if found.is_none() {
            self.slots[s] = i as u32;
        }
        found.is_none()
    }

    /// All words, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.len()).map(|i| self.word(i))
    }

    #[inline]
    fn slot_of(&self, bytes: &[u8]) -> (usize, Option<usize>) {
        let mask = self.slots.len() - 1;
        let mut s = hash_bytes(bytes) as usize & mask;
        loop {
            let v = self.slots[s];
            if v == u32::MAX {
                return (s, None);
            }
            if self.word(v as usize) == bytes {
                return (s, Some(v as usize));
            }
            s = (s + 1) & mask;
        }
    }

    /// Index of `bytes`, if present.
    #[inline]
    pub(crate) fn get(&self, bytes: &[u8]) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        self.slot_of(bytes).1
    }

    /// Index of `bytes`, inserting it at the end if absent; the flag tells whether it was new.
    pub(crate) fn insert(&mut self, bytes: &[u8]) -> (usize, bool) {
        if self.slots.len() < 2 * (self.len() + 1) {
            self.rehash((2 * (self.len() + 1)).next_power_of_two().max(1024));
        }
        let (s, found) = self.slot_of(bytes);
        if let Some(i) = found {
            return (i, false);
        }
        let i = self.len();
        self.arena.extend_from_slice(bytes);
        self.ends.push(self.arena.len());
        self.slots[s] = i as u32;
        (i, true)
    }

    fn rehash(&mut self, n_slots: usize) {
        self.slots = vec![u32::MAX; n_slots];
        let mask = n_slots - 1;
        for i in 0..self.len() {
            let w = self.word(i);
            let mut s = hash_bytes(w) as usize & mask;
            let mut duplicate = false;
            while self.slots[s] != u32::MAX {
                if self.word(self.slots[s] as usize) == w {
                    duplicate = true;
                    break;
                }
                s = (s + 1) & mask;
            }
            if !duplicate {
                self.slots[s] = i as u32;
            }
        }
    }

    /// A table of the given words, in order.
    #[cfg(test)]
    pub(crate) fn from_words<'a>(words: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut t = WordTable::default();
        for w in words {
            t.insert(w);
        }
        t
    }
}

/// Words with their counts, most frequent first, `</s>` at index 0.
///
/// Words are byte strings, as in word2vec.c: a word that is not UTF-8 is kept, looked up
/// ([`Vocabulary::index_bytes`]) and saved byte for byte; [`Vocabulary::words`] shows it
/// lossily (U+FFFD for the invalid bytes).
#[derive(Clone, Debug)]
pub struct Vocabulary {
    table: WordTable,
    words: Vec<String>,
    counts: Vec<u64>,
    total: u64,
}

/// Word counts gathered from a corpus before the cut by `min_count`.
struct Counts {
    table: WordTable,
    counts: Vec<u64>,
    min_reduce: u64,
}

impl Counts {
    fn new() -> Self {
        let mut c = Counts {
            table: WordTable::default(),
            counts: Vec::new(),
            min_reduce: 1,
        };
        c.add(SENTENCE_END.as_bytes(), 0);
        c
    }

    #[inline]
    fn add(&mut self, word: &[u8], n: u64) {
        let (i, new) = self.table.insert(word);
        if new {
            self.counts.push(n);
        } else {
            // A corpus of 2^64 words cannot be read; saturate rather than wrap.
            self.counts[i] = self.counts[i].saturating_add(n);
        }
    }

    /// word2vec.c's ReduceVocab: drop the words seen at most `min_reduce` times, then raise it.
    fn prune(&mut self) {
        let mut kept = WordTable::default();
        let mut counts = Vec::new();
        for i in 0..self.table.len() {
            if i == 0 || self.counts[i] > self.min_reduce {
                kept.insert(self.table.word(i));
                counts.push(self.counts[i]);
            }
        }
        self.table = kept;
        self.counts = counts;
        self.min_reduce += 1;
    }
}

impl Vocabulary {
    /// Counts the words of `corpus` (streamed) and builds the vocabulary.
    ///
    /// Errors: [`Error::EmptyCorpus`] when the corpus holds no word, [`Error::EmptyVocabulary`]
    /// when `min_count` (or `max_vocab_size`) removes every word.
    pub fn build(corpus: &Corpus, opts: &VocabOptions) -> Result<Self> {
        Self::build_counting(corpus, opts, false)
    }

    /// As [`Vocabulary::build`], counting exactly as word2vec.c does: a last word ended by the
    /// end of the file rather than by white space is not counted, and words of equal count
    /// keep the order in which they first occur (what word2vec.c's `qsort` gives with glibc).
    /// With the same corpus and `min_count`, [`Vocabulary::save`] then writes the same bytes
    /// as word2vec.c's `-save-vocab`.
    ///
    /// ```
    /// use neurite_word2vec::{Corpus, VocabOptions, Vocabulary};
    /// let corpus = Corpus::from_bytes("t", b"b a c a b d\nlast".to_vec());
    /// let opts = VocabOptions { min_count: 1, ..Default::default() };
    /// let v = Vocabulary::build_reference(&corpus, &opts)?;
    /// assert_eq!(v.words(), ["</s>", "b", "a", "c", "d"]); // `last` is not counted
    /// # Ok::<(), neurite_word2vec::Error>(())
    /// ```
    pub fn build_reference(corpus: &Corpus, opts: &VocabOptions) -> Result<Self> {
        Self::build_counting(corpus, opts, true)
    }

    /// As [`Vocabulary::build`]; with `reference`, as [`Vocabulary::build_reference`].
    pub(crate) fn build_counting(
        corpus: &Corpus,
        opts: &VocabOptions,
        reference: bool,
    ) -> Result<Self> {
        if opts.prune_at == 0 {
            return Err(Error::config("prune_at", 0, "at least 1"));
        }
        let len = corpus.len_bytes()?;
        let mut tokens = corpus.tokens(0, len, reference)?;
        let mut counts = Counts::new();
        let mut words = 0u64;
        while let Some(tok) = tokens.next_token()? {
            match tok {
                Token::Newline => counts.counts[0] = counts.counts[0].saturating_add(1),
                Token::Word(w) => {
                    words += 1;
                    counts.add(w, 1);
                    if counts.table.len() > opts.prune_at {
                        counts.prune();
                    }
                }
            }
        }
        if words == 0 {
            return Err(Error::EmptyCorpus {
                path: corpus.path().to_path_buf(),
            });
        }
        // The table holds the words in order of first occurrence (pruning keeps that order).
        let pairs = (1..counts.table.len()).map(|i| (counts.table.word(i), counts.counts[i]));
        Self::from_pairs(counts.counts[0], pairs, opts, corpus.path(), reference)
    }

    /// A vocabulary from `(word, count)` pairs (any order; `</s>` among them sets its count),
    /// cut and sorted as [`Vocabulary::build`] does.
    pub fn from_counts<'a>(
        pairs: impl IntoIterator<Item = (&'a str, u64)>,
        opts: &VocabOptions,
    ) -> Result<Self> {
        Self::from_byte_counts(pairs.into_iter().map(|(w, c)| (w.as_bytes(), c)), opts)
    }

    /// As [`Vocabulary::from_counts`], with words as byte strings (any bytes but white space).
    ///
    /// Errors: [`Error::DuplicateWord`] when a word comes twice, [`Error::Overflow`] when the
    /// counts add up past 2^64.
    pub fn from_byte_counts<'a>(
        pairs: impl IntoIterator<Item = (&'a [u8], u64)>,
        opts: &VocabOptions,
    ) -> Result<Self> {
        let path = Path::new("<counts>");
        let mut sentence_end: Option<u64> = None;
        let mut rest = Vec::new();
        for (w, c) in pairs {
            if w == SENTENCE_END.as_bytes() {
                if sentence_end.is_some() {
                    return Err(duplicate(path, 0, w));
                }
                sentence_end = Some(c);
            } else {
                rest.push((w, c));
            }
        }
        Self::from_pairs(sentence_end.unwrap_or(0), rest, opts, path, false)
    }

    /// Sorts by count; ties by the word's bytes, or (`ties_in_given_order`) in the order of
    /// `pairs`.
    fn from_pairs<'a>(
        sentence_end_count: u64,
        pairs: impl IntoIterator<Item = (&'a [u8], u64)>,
        opts: &VocabOptions,
        path: &Path,
        ties_in_given_order: bool,
    ) -> Result<Self> {
        let mut distinct = 0;
        let mut max_count = 0;
        let mut kept: Vec<(&[u8], u64)> = Vec::new();
        for (w, c) in pairs {
            distinct += 1;
            max_count = max_count.max(c);
            if c >= opts.min_count && c > 0 {
                kept.push((w, c));
            }
        }
        if ties_in_given_order {
            // A stable sort: what word2vec.c's qsort (glibc's merge sort) does.
            kept.sort_by_key(|p| std::cmp::Reverse(p.1));
        } else {
            kept.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        }
        if let Some(max) = opts.max_vocab_size {
            kept.truncate(max.saturating_sub(1));
        }
        if kept.is_empty() {
            return Err(Error::EmptyVocabulary {
                path: path.to_path_buf(),
                min_count: opts.min_count,
                distinct,
                max_count,
            });
        }
        let mut words = Vec::with_capacity(kept.len() + 1);
        let mut counts = Vec::with_capacity(kept.len() + 1);
        words.push(SENTENCE_END.to_string());
        counts.push(sentence_end_count);
        let mut table = WordTable::default();
        table.insert(SENTENCE_END.as_bytes());
        for &(w, c) in &kept {
            if !table.push(w) {
                return Err(duplicate(path, 0, w));
            }
            words.push(String::from_utf8_lossy(w).into_owned());
            counts.push(c);
        }
        let total = counts
            .iter()
            .try_fold(0u64, |t, &c| t.checked_add(c))
            .ok_or_else(|| Error::Overflow {
                path: path.to_path_buf(),
                what: "the sum of the word counts".into(),
            })?;
        Ok(Vocabulary {
            table,
            words,
            counts,
            total,
        })
    }

    /// Adds `other`'s counts to the words both hold and appends `other`'s other words (in its
    /// order) after this vocabulary's; returns how many were appended. The result is no longer
    /// in frequency order (what gensim's `build_vocab(update=True)` gives too).
    pub(crate) fn merge(&mut self, other: &Vocabulary) -> Result<usize> {
        let overflow = || Error::Overflow {
            path: Path::new("<merged vocabulary>").to_path_buf(),
            what: "the sum of the word counts".into(),
        };
        let mut added = 0;
        for (w, &c) in other.table.iter().zip(&other.counts) {
            match self.table.get(w) {
                Some(i) => self.counts[i] = self.counts[i].checked_add(c).ok_or_else(overflow)?,
                None => {
                    self.table.push(w);
                    self.words.push(String::from_utf8_lossy(w).into_owned());
                    self.counts.push(c);
                    added += 1;
                }
            }
            self.total = self.total.checked_add(c).ok_or_else(overflow)?;
        }
        Ok(added)
    }

    /// Number of words, `</s>` included.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Never true for a built vocabulary (it holds `</s>` and at least one word).
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The word at `index` (lossy when it is not UTF-8): the indexing form, which panics when
    /// `index >= len()`; [`Vocabulary::get_word`] is its checked twin.
    pub fn word(&self, index: usize) -> &str {
        &self.words[index]
    }

    /// The word at `index`, or `None` when `index >= len()`.
    pub fn get_word(&self, index: usize) -> Option<&str> {
        self.words.get(index).map(String::as_str)
    }

    /// The word at `index` as the bytes read from the corpus, or `None` when out of range.
    pub fn word_bytes(&self, index: usize) -> Option<&[u8]> {
        self.table.get_word(index)
    }

    /// All words as byte strings, in vocabulary order.
    pub fn words_bytes(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.table.iter()
    }

    /// All words, most frequent first (after `</s>`).
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// How often the word at `index` occurs in the corpus (panics when `index >= len()`;
    /// [`Vocabulary::counts`]`.get(index)` is the checked form).
    pub fn count(&self, index: usize) -> u64 {
        self.counts[index]
    }

    /// All counts, in vocabulary order.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Index of `word`, if it is in the vocabulary.
    pub fn index(&self, word: &str) -> Option<usize> {
        self.table.get(word.as_bytes())
    }

    /// Index of a word given as raw bytes (as read from the corpus).
    #[inline]
    pub fn index_bytes(&self, word: &[u8]) -> Option<usize> {
        self.table.get(word)
    }

    /// Sum of all counts: the corpus words that training reads each epoch (word2vec.c's
    /// `train_words`, line breaks included).
    pub fn total_words(&self) -> u64 {
        self.total
    }

    /// Writes `word count` lines, in vocabulary order (word2vec.c's `-save-vocab`).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomically(path.as_ref(), |w| {
            for (word, count) in self.table.iter().zip(&self.counts) {
                w.write_all(word)?;
                writeln!(w, " {count}")?;
            }
            Ok(())
        })
    }

    /// Reads `word count` lines (word2vec.c's `-read-vocab`), then cuts and sorts as `build` does.
    pub fn load(path: impl AsRef<Path>, opts: &VocabOptions) -> Result<Self> {
        Self::load_ordered(path.as_ref(), opts, false)
    }

    /// As [`Vocabulary::load`], but words of equal count keep their order in the file, as
    /// word2vec.c's `-read-vocab` does with glibc (for the reference-parity mode).
    pub fn load_reference(path: impl AsRef<Path>, opts: &VocabOptions) -> Result<Self> {
        Self::load_ordered(path.as_ref(), opts, true)
    }

    fn load_ordered(path: &Path, opts: &VocabOptions, file_order: bool) -> Result<Self> {
        let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut r = BufReader::new(f);
        // Words are bytes (word2vec.c's files are byte strings); they are kept in one table,
        // which also finds a word given twice.
        let mut seen = WordTable::default();
        let mut counts: Vec<u64> = Vec::new();
        let mut line = Vec::new();
        let mut line_no = 0usize;
        loop {
            line.clear();
            if r.read_until(b'\n', &mut line)
                .map_err(|e| Error::io(path, e))?
                == 0
            {
                break;
            }
            line_no += 1;
            let mut parts = line
                .split(|&b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
                .filter(|s| !s.is_empty());
            let (word, count) = match (parts.next(), parts.next(), parts.next()) {
                (None, _, _) => continue,
                (Some(word), Some(count), None) => (word, count),
                _ => {
                    return Err(Error::format(
                        path,
                        line_no,
                        format!(
                            "expected `word count`, found {:?}",
                            String::from_utf8_lossy(&line).trim_end()
                        ),
                    ))
                }
            };
            let count = std::str::from_utf8(count)
                .ok()
                .and_then(|c| c.parse::<u64>().ok())
                .ok_or_else(|| {
                    Error::format(
                        path,
                        line_no,
                        format!(
                            "count {:?} is not an integer in 0..=2^64-1",
                            String::from_utf8_lossy(count)
                        ),
                    )
                })?;
            if !seen.push(word) {
                return Err(duplicate(path, line_no, word));
            }
            counts.push(count);
        }
        if counts.is_empty() {
            return Err(Error::format(path, 1, "vocabulary file holds no word"));
        }
        let sentence_end = seen.get(SENTENCE_END.as_bytes());
        let rest = (0..seen.len())
            .filter(|&i| Some(i) != sentence_end)
            .map(|i| (seen.word(i), counts[i]));
        Self::from_pairs(
            sentence_end.map_or(0, |i| counts[i]),
            rest,
            opts,
            path,
            file_order,
        )
    }
}

fn duplicate(path: &Path, line: usize, word: &[u8]) -> Error {
    Error::DuplicateWord {
        path: path.to_path_buf(),
        line,
        word: String::from_utf8_lossy(word).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(text: &str) -> Corpus {
        Corpus::from_bytes("t", text.as_bytes().to_vec())
    }

    fn opts(min_count: u64) -> VocabOptions {
        VocabOptions {
            min_count,
            ..Default::default()
        }
    }

    #[test]
    fn counts_sorts_and_breaks_ties_by_bytes() {
        let v = Vocabulary::build(&corpus("b a c b a d b\nz y\n"), &opts(1)).unwrap();
        assert_eq!(v.words(), ["</s>", "b", "a", "c", "d", "y", "z"]);
        assert_eq!(v.counts(), [2, 3, 2, 1, 1, 1, 1]);
        assert_eq!(v.total_words(), 11);
        assert_eq!(v.index("d"), Some(4));
        assert_eq!(v.index("nope"), None);
    }

    #[test]
    fn min_count_and_max_size_cut() {
        let v = Vocabulary::build(&corpus("b a c b a d b"), &opts(2)).unwrap();
        assert_eq!(v.words(), ["</s>", "b", "a"]);
        let o = VocabOptions {
            min_count: 1,
            max_vocab_size: Some(2),
            ..Default::default()
        };
        let v = Vocabulary::build(&corpus("b a c b a d b"), &o).unwrap();
        assert_eq!(v.words(), ["</s>", "b"]);
    }

    #[test]
    fn empty_inputs_are_typed_errors() {
        assert!(matches!(
            Vocabulary::build(&corpus(" \n\t\n"), &opts(1)),
            Err(Error::EmptyCorpus { .. })
        ));
        let e = Vocabulary::build(&corpus("a b c a"), &opts(5)).unwrap_err();
        match e {
            Error::EmptyVocabulary {
                min_count,
                distinct,
                max_count,
                ..
            } => assert_eq!((min_count, distinct, max_count), (5, 3, 2)),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn pruning_drops_rare_words_as_it_goes() {
        // Room for 4 entries (`</s>` included): adding `d` prunes the singletons `c` and `d`.
        let o = VocabOptions {
            min_count: 1,
            max_vocab_size: None,
            prune_at: 4,
        };
        let v = Vocabulary::build(&corpus("a a a b b c d e a b"), &o).unwrap();
        assert_eq!(v.words(), ["</s>", "a", "b", "e"]);
        assert_eq!(v.counts()[1..], [4, 3, 1]);
    }

    #[test]
    fn save_and_load_round_trip() {
        let dir = std::env::temp_dir().join(format!("neurite-w2v-vocab-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("vocab.txt");
        let v = Vocabulary::build(&corpus("x y y z z z\n"), &opts(1)).unwrap();
        v.save(&p).unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "</s> 1\nz 3\ny 2\nx 1\n"
        );
        let w = Vocabulary::load(&p, &opts(1)).unwrap();
        assert_eq!(w.words(), v.words());
        assert_eq!(w.counts(), v.counts());
        std::fs::write(&p, "a 3\nb x\n").unwrap();
        match Vocabulary::load(&p, &opts(1)).unwrap_err() {
            Error::Format { line, .. } => assert_eq!(line, 2),
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            Vocabulary::load(dir.join("missing"), &opts(1)),
            Err(Error::Io { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn words_are_bytes_and_round_trip() {
        // Two Latin-1 words that a lossy conversion would merge into one `\u{fffd}t\u{fffd}`.
        let text = b"\xe9t\xe9 \xe8t\xe8 \xe9t\xe9 caf\xc3\xa9\n".to_vec();
        let v = Vocabulary::build(&Corpus::from_bytes("t", text), &opts(1)).unwrap();
        assert_eq!(v.len(), 4);
        assert_eq!(v.word_bytes(1), Some(&b"\xe9t\xe9"[..]));
        assert_eq!(v.index_bytes(b"\xe8t\xe8"), Some(3));
        assert_eq!(v.index("café"), Some(2));
        let dir = std::env::temp_dir().join(format!("neurite-w2v-vocab-b-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("vocab.txt");
        v.save(&p).unwrap();
        assert_eq!(
            std::fs::read(&p).unwrap(),
            b"</s> 1\n\xe9t\xe9 2\ncaf\xc3\xa9 1\n\xe8t\xe8 1\n"
        );
        let back = Vocabulary::load(&p, &opts(1)).unwrap();
        assert_eq!(
            back.words_bytes().collect::<Vec<_>>(),
            v.words_bytes().collect::<Vec<_>>()
        );
        assert_eq!(back.counts(), v.counts());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn out_of_range_indices_are_none() {
        let v = Vocabulary::build(&corpus("a b a\n"), &opts(1)).unwrap();
        assert_eq!(v.get_word(1), Some("a"));
        assert_eq!(v.get_word(99), None);
        assert_eq!(v.word_bytes(99), None);
    }

    #[test]
    fn counts_near_2_pow_64_and_duplicates_are_typed_errors() {
        let dir = std::env::temp_dir().join(format!("neurite-w2v-vocab-o-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("vocab.txt");
        std::fs::write(&p, "a 18446744073709551615\nb 18446744073709551615\n").unwrap();
        let e = Vocabulary::load(&p, &opts(1)).unwrap_err();
        assert!(matches!(e, Error::Overflow { .. }), "{e}");
        std::fs::write(&p, "a 18446744073709551616\n").unwrap();
        assert!(matches!(
            Vocabulary::load(&p, &opts(1)),
            Err(Error::Format { line: 1, .. })
        ));
        std::fs::write(&p, "a 3\nb 2\na 1\n").unwrap();
        let e = Vocabulary::load(&p, &opts(1)).unwrap_err();
        assert!(matches!(e, Error::DuplicateWord { line: 3, .. }), "{e}");
        // A non-UTF-8 count names its line.
        std::fs::write(&p, b"a 3\nb \xff\n").unwrap();
        assert!(matches!(
            Vocabulary::load(&p, &opts(1)),
            Err(Error::Format { line: 2, .. })
        ));
        let e = Vocabulary::from_counts([("x", u64::MAX), ("y", 1)], &opts(1)).unwrap_err();
        assert!(matches!(e, Error::Overflow { .. }), "{e}");
        let e = Vocabulary::from_counts([("x", 2), ("x", 1)], &opts(1)).unwrap_err();
        assert!(matches!(e, Error::DuplicateWord { .. }), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn word_table_finds_everything_after_growth() {
        let words: Vec<String> = (0..5000).map(|i| format!("w{i}")).collect();
        let t = WordTable::from_words(words.iter().map(|w| w.as_bytes()));
        for (i, w) in words.iter().enumerate() {
            assert_eq!(t.get(w.as_bytes()), Some(i));
            assert_eq!(t.word(i), w.as_bytes());
        }
        assert_eq!(t.get(b"w5000"), None);
    }
}

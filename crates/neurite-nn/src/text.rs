//! Text data for sentence classifiers: `label<TAB>text` files, a tokenizer, a [`Vocabulary`]
//! (`<pad>` = 0, `<unk>` = 1), a [`LabelMap`], a seeded train / held-out split and padded batches
//! of token ids with their lengths.
//!
//! ```
//! use neurite_nn::text::{self, LabelMap, Padding, Vocabulary};
//!
//! let records = text::parse_labelled("pos\tA fine film.\nneg\tA dull film!\n".as_bytes(), "inline")?;
//! let tokens: Vec<Vec<String>> = records.iter().map(|r| text::tokenize(&r.text)).collect();
//! assert_eq!(tokens[0], ["a", "fine", "film", "."]);
//! let vocab = Vocabulary::build(tokens.iter().map(|t| t.as_slice()), 1, None)?;
//! let labels = LabelMap::from_labels(records.iter().map(|r| r.label.as_str()));
//! let examples = text::encode(&records, &tokens, &vocab, &labels)?;
//! let batch = text::pad_batch(&examples, &[0, 1], Padding::default())?;
//! assert_eq!(batch.shape(), [2, 4]);
//! assert_eq!(batch.labels, [labels.id("pos").unwrap(), labels.id("neg").unwrap()]);
//! # Ok::<(), neurite_nn::NnError>(())
//! ```

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use neurite_tensor::{Float, Rng, Tensor};

use crate::error::{checked_numel, NnError, Result};

/// The id of the padding token `<pad>`.
pub const PAD: usize = 0;
/// The id of the unknown-word token `<unk>`.
pub const UNK: usize = 1;

/// One line of a `label<TAB>text` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledText {
    /// The class label as written in the file.
    pub label: String,
    /// The sentence.
    pub text: String,
    /// 1-based line number in the source, for messages.
    pub line: usize,
}

/// Reads a `label<TAB>text` file: one example per line; the label is the first tab-separated
/// field and the text the last (so `coarse<TAB>fine<TAB>text` files such as TREC load with their
/// coarse label). Blank lines are skipped. A line without a tab, with an empty label or an empty
/// text is a [`NnError::Parse`] naming the file and the line.
pub fn read_labelled(path: impl AsRef<Path>) -> Result<Vec<LabelledText>> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|source| NnError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_labelled(std::io::BufReader::new(file), path)
}

/// Parses `label<TAB>text` lines from any reader (e.g. a decompressing one); `source` names it in
/// errors. See [`read_labelled`] for the format.
pub fn parse_labelled(reader: impl BufRead, source: impl AsRef<Path>) -> Result<Vec<LabelledText>> {
    let path = source.as_ref();
    let mut out = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let n = i + 1;
        let line = line.map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidData {
                parse_error(path, n, "not valid UTF-8")
            } else {
                NnError::Io {
                    path: path.to_path_buf(),
                    source: e,
                }
            }
        })?;
        let line = line.strip_suffix('\r').unwrap_or(&line);
        if line.trim().is_empty() {
            continue;
        }
        let (label, rest) = line
            .split_once('\t')
            .ok_or_else(|| parse_error(path, n, "expected label<TAB>text, found no tab"))?;
        let text = rest.rsplit('\t').next().unwrap_or(rest).trim();
        let label = label.trim();
        if label.is_empty() {
            return Err(parse_error(path, n, "empty label"));
        }
        if text.is_empty() {
            return Err(parse_error(path, n, "empty text"));
        }
        out.push(LabelledText {
            label: label.to_string(),
            text: text.to_string(),
            line: n,
        });
    }
    if out.is_empty() {
        return Err(NnError::Parse {
            path: path.to_path_buf(),
            location: "line 1".into(),
            message: "no examples (the file is empty)".into(),
        });
    }
    Ok(out)
}

fn parse_error(path: &Path, line: usize, message: &str) -> NnError {
    NnError::Parse {
        path: PathBuf::from(path),
        location: format!("line {line}"),
        message: message.to_string(),
    }
}

/// Splits a sentence into lower-case tokens: runs of letters and digits are words, every other
/// non-space character is a token of its own, and English clitics are split off as their own
/// words (`he's` → `he` `'s`, `don't` → `do` `n't`), as in Kim (2014)'s preprocessing.
///
/// ```
/// use neurite_nn::text::tokenize;
/// assert_eq!(tokenize("It's GREAT, isn't it?"), ["it", "'s", "great", ",", "is", "n't", "it", "?"]);
/// ```
pub fn tokenize(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
            i += 1;
            continue;
        }
        // An apostrophe between a word and letters starts a clitic: 's 're 've 'd 'll 'm n't.
        let next_is_letter = chars.get(i + 1).is_some_and(|n| n.is_alphabetic());
        if (c == '\'' || c == '’') && !word.is_empty() && next_is_letter {
            let mut clitic = String::from("'");
            let mut j = i + 1;
            while j < chars.len() && chars[j].is_alphanumeric() {
                clitic.extend(chars[j].to_lowercase());
                j += 1;
            }
            if clitic == "'t" && word.ends_with('n') && word.len() > 1 {
                word.pop();
                clitic = "n't".into();
            }
            tokens.push(std::mem::take(&mut word));
            tokens.push(clitic);
            i = j;
            continue;
        }
        if !word.is_empty() {
            tokens.push(std::mem::take(&mut word));
        }
        if !c.is_whitespace() {
            tokens.push(c.to_lowercase().collect());
        }
        i += 1;
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    tokens
}

/// A word ↔ id mapping: id 0 is `<pad>`, id 1 is `<unk>`, then words by decreasing frequency,
/// ties broken by their bytes, so the same corpus always gives the same ids.
#[derive(Debug, Clone, PartialEq)]
pub struct Vocabulary {
    words: Vec<String>,
    counts: Vec<u64>,
    index: HashMap<String, usize>,
}

impl Vocabulary {
    /// Counts the tokens of `documents` and keeps words seen at least `min_count` times, at most
    /// `max_size` entries in all (the two special tokens included), the most frequent first.
    pub fn build<'a, I, S>(documents: I, min_count: u64, max_size: Option<usize>) -> Result<Self>
    where
        I: IntoIterator<Item = &'a [S]>,
        S: AsRef<str> + 'a,
    {
        if min_count == 0 {
            return Err(NnError::config(
                "Vocabulary",
                "min_count must be ≥ 1, got 0",
            ));
        }
        if let Some(m) = max_size {
            if m < 2 {
                return Err(NnError::config(
                    "Vocabulary",
                    format!("max_size must leave room for <pad> and <unk> (≥ 2), got {m}"),
                ));
            }
        }
        let mut counts: HashMap<&'a str, u64> = HashMap::new();
        for doc in documents {
            for w in doc {
                *counts.entry(w.as_ref()).or_insert(0) += 1;
            }
        }
        let mut entries: Vec<(&str, u64)> = counts
            .into_iter()
            .filter(|&(w, c)| c >= min_count && w != "<pad>" && w != "<unk>")
            .collect();
        entries.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then_with(|| a.0.as_bytes().cmp(b.0.as_bytes()))
        });
        if let Some(m) = max_size {
            entries.truncate(m - 2);
        }
        let mut words = vec!["<pad>".to_string(), "<unk>".to_string()];
        let mut freq = vec![0, 0];
        for (w, c) in entries {
            words.push(w.to_string());
            freq.push(c);
        }
        let index = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i))
            .collect();
        Ok(Vocabulary {
            words,
            counts: freq,
            index,
        })
    }

    /// Number of ids (special tokens included).
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True when only the special tokens are present.
    pub fn is_empty(&self) -> bool {
        self.words.len() <= 2
    }

    /// The id of a word, [`UNK`] if it is not in the vocabulary.
    pub fn id(&self, word: &str) -> usize {
        self.index.get(word).copied().unwrap_or(UNK)
    }

    /// The id of a word, if present.
    pub fn get(&self, word: &str) -> Option<usize> {
        self.index.get(word).copied()
    }

    /// The word of an id, if in range.
    pub fn word(&self, id: usize) -> Option<&str> {
        self.words.get(id).map(String::as_str)
    }

    /// How often a word was counted (0 for the special tokens and unknown ids).
    pub fn count(&self, id: usize) -> u64 {
        self.counts.get(id).copied().unwrap_or(0)
    }

    /// All words, in id order.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The ids of a token sequence (unknown words → [`UNK`]).
    pub fn encode<S: AsRef<str>>(&self, tokens: &[S]) -> Vec<usize> {
        tokens.iter().map(|t| self.id(t.as_ref())).collect()
    }
}

/// Class names ↔ ids, in byte order of the names (deterministic whatever the file order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelMap {
    names: Vec<String>,
}

impl LabelMap {
    /// The distinct labels of `labels`, sorted by bytes.
    pub fn from_labels<'a>(labels: impl IntoIterator<Item = &'a str>) -> Self {
        let mut names: Vec<String> = labels.into_iter().map(str::to_string).collect();
        names.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        names.dedup();
        LabelMap { names }
    }

    /// Number of classes.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when there are no classes.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The id of a label, if known.
    pub fn id(&self, label: &str) -> Option<usize> {
        self.names
            .binary_search_by(|n| n.as_bytes().cmp(label.as_bytes()))
            .ok()
    }

    /// The name of a class id, if in range.
    pub fn name(&self, id: usize) -> Option<&str> {
        self.names.get(id).map(String::as_str)
    }

    /// All names, in id order.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// An encoded example: class id and token ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextExample {
    /// Class id (see [`LabelMap`]).
    pub label: usize,
    /// Token ids (see [`Vocabulary`]).
    pub ids: Vec<usize>,
}

/// Encodes records with their tokens: ids from `vocab`, labels from `labels`. A label not in
/// `labels` is an [`NnError::InvalidConfig`] naming it and its source line.
pub fn encode<S: AsRef<str>>(
    records: &[LabelledText],
    tokens: &[Vec<S>],
    vocab: &Vocabulary,
    labels: &LabelMap,
) -> Result<Vec<TextExample>> {
    if records.len() != tokens.len() {
        return Err(NnError::config(
            "text::encode",
            format!(
                "{} records but {} token sequences",
                records.len(),
                tokens.len()
            ),
        ));
    }
    records
        .iter()
        .zip(tokens)
        .map(|(r, t)| {
            let label = labels.id(&r.label).ok_or_else(|| {
                NnError::config(
                    "text::encode",
                    format!(
                        "label {:?} (line {}) is not one of {:?}",
                        r.label,
                        r.line,
                        labels.names()
                    ),
                )
            })?;
            Ok(TextExample {
                label,
                ids: vocab.encode(t),
            })
        })
        .collect()
}

/// A seeded split of `0..n` into (train, held-out) index lists, each in increasing order;
/// `round(n · held_out_fraction)` indices are held out.
pub fn split_indices(
    n: usize,
    held_out_fraction: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    if !(0.0..1.0).contains(&held_out_fraction) {
        return Err(NnError::config(
            "split_indices",
            format!("held_out_fraction must be in [0, 1), got {held_out_fraction}"),
        ));
    }
    let mut idx: Vec<usize> = (0..n).collect();
    Rng::new(seed).shuffle(&mut idx);
    let held = ((n as f64) * held_out_fraction).round() as usize;
    let mut held_out = idx[..held].to_vec();
    let mut train = idx[held..].to_vec();
    held_out.sort_unstable();
    train.sort_unstable();
    Ok((train, held_out))
}

/// Lengths enforced when padding a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Padding {
    /// Pad every batch to at least this length (e.g. the widest convolution of a text CNN).
    pub min_len: usize,
    /// Truncate longer sequences to this length (None: keep all tokens).
    pub max_len: Option<usize>,
}

/// A padded batch of token ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaddedBatch {
    /// Token ids, row-major [batch, len]; positions past a sequence's length hold [`PAD`].
    pub ids: Vec<usize>,
    /// The true length of each sequence (after truncation) \[batch\].
    pub lengths: Vec<usize>,
    /// The class of each sequence \[batch\].
    pub labels: Vec<usize>,
    /// The padded length.
    pub len: usize,
}

impl PaddedBatch {
    /// [batch, len].
    pub fn shape(&self) -> [usize; 2] {
        [self.lengths.len(), self.len]
    }

    /// The ids as a float tensor [batch, len] (for layers that take ids as values). The
    /// fields are public: `ids` not holding batch·len values is an [`NnError::BadInput`].
    pub fn ids_tensor<T: Float>(&self) -> Result<Tensor<T>> {
        let shape = self.shape();
        if shape[0].checked_mul(shape[1]) != Some(self.ids.len()) {
            return Err(NnError::BadInput {
                layer: "PaddedBatch::ids_tensor".into(),
                expected: format!("{} ids (batch · len)", shape[0].saturating_mul(shape[1])),
                got: vec![self.ids.len()],
            });
        }
        let data = self.ids.iter().map(|&i| T::from_f64(i as f64)).collect();
        Ok(Tensor::from_vec(data, &shape)?)
    }

    /// 1 where a position holds a token, 0 on padding [batch, len].
    pub fn mask<T: Float>(&self) -> Tensor<T> {
        let mut data = Vec::with_capacity(self.ids.len());
        for &l in &self.lengths {
            data.extend((0..self.len).map(|t| {
                if t < l {
                    T::from_f64(1.0)
                } else {
                    T::from_f64(0.0)
                }
            }));
        }
        // ok: built above as lengths.len() rows of `len` values, the shape [batch, len] exactly.
        Tensor::from_vec(data, &self.shape()).expect("mask has batch·len elements by construction")
    }
}

/// Pads the examples at `indices` into one batch, to the longest (truncated) sequence or
/// `padding.min_len`, whichever is larger. An index out of range or an empty batch is an error.
pub fn pad_batch(
    examples: &[TextExample],
    indices: &[usize],
    padding: Padding,
) -> Result<PaddedBatch> {
    if indices.is_empty() {
        return Err(NnError::config("pad_batch", "empty batch (no indices)"));
    }
    if padding.max_len == Some(0) {
        return Err(NnError::config("pad_batch", "max_len must be ≥ 1, got 0"));
    }
    let mut lengths = Vec::with_capacity(indices.len());
    let mut labels = Vec::with_capacity(indices.len());
    for &i in indices {
        let ex = examples.get(i).ok_or_else(|| {
            NnError::config(
                "pad_batch",
                format!("index {i} out of range for {} examples", examples.len()),
            )
        })?;
        let l = padding
            .max_len
            .map_or(ex.ids.len(), |m| ex.ids.len().min(m));
        lengths.push(l);
        labels.push(ex.label);
    }
    let len = lengths
        .iter()
        .copied()
        .max()
        .unwrap_or(0)
        .max(padding.min_len)
        .max(1);
    // min_len is a user setting: batch · len must be a buffer that can exist.
    let cells = checked_numel("pad_batch", &[indices.len(), len])?;
    let mut ids = neurite_tensor::alloc::try_vec(
        &format!("pad_batch: {} rows × {len} ids", indices.len()),
        cells,
        PAD,
    )?;
    for (row, (&i, &l)) in indices.iter().zip(&lengths).enumerate() {
        ids[row * len..row * len + l].copy_from_slice(&examples[i].ids[..l]);
    }
    Ok(PaddedBatch {
        ids,
        lengths,
        labels,
        len,
    })
}

/// Pads `order` in consecutive batches of `batch_size` (the last one may be smaller).
pub fn batches(
    examples: &[TextExample],
    order: &[usize],
    batch_size: usize,
    padding: Padding,
) -> Result<Vec<PaddedBatch>> {
    if batch_size == 0 {
        return Err(NnError::config("batches", "batch_size must be ≥ 1, got 0"));
    }
    order
        .chunks(batch_size)
        .map(|c| pad_batch(examples, c, padding))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pad_batch_to_an_impossible_length_is_out_of_memory() {
        let ex = vec![TextExample {
            label: 0,
            ids: vec![2, 3],
        }];
        let padding = Padding {
            min_len: 1 << 40,
            max_len: None,
        };
        // 2^40 ids of 8 bytes: an allocation abort before.
        let e = pad_batch(&ex, &[0, 0], padding).unwrap_err();
        assert!(
            matches!(
                e,
                NnError::Tensor(neurite_tensor::TensorError::OutOfMemory { .. })
            ),
            "{e}"
        );
        assert!(e.to_string().contains("pad_batch"), "{e}");
    }

    #[test]
    fn parses_and_names_bad_lines() {
        let ok = parse_labelled("pos\tGood.\r\n\nneg\tcoarse\tBad!\n".as_bytes(), "f.tsv").unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[1].label, "neg");
        assert_eq!(ok[1].text, "Bad!");
        assert_eq!(ok[1].line, 3);
        let err = parse_labelled("pos\tok\nno tab here\n".as_bytes(), "f.tsv").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("f.tsv") && msg.contains("line 2"), "{msg}");
        assert!(parse_labelled("\tx\n".as_bytes(), "f").is_err());
        assert!(parse_labelled("pos\t  \n".as_bytes(), "f").is_err());
        assert!(parse_labelled("".as_bytes(), "f").is_err());
        let bad_utf8: &[u8] = b"pos\t\xff\xfe\n";
        let msg = parse_labelled(bad_utf8, "g.tsv").unwrap_err().to_string();
        assert!(msg.contains("g.tsv") && msg.contains("line 1"), "{msg}");
        let missing = read_labelled("/nonexistent/neurite.tsv").unwrap_err();
        assert!(matches!(missing, NnError::Io { .. }));
    }

    #[test]
    fn tokenizer_splits_words_punctuation_and_clitics() {
        assert_eq!(
            tokenize("The Rock's new ''Conan'' -- 21st Century!"),
            [
                "the", "rock", "'s", "new", "'", "'", "conan", "'", "'", "-", "-", "21st",
                "century", "!"
            ]
        );
        assert_eq!(tokenize("Don't stop"), ["do", "n't", "stop"]);
        assert_eq!(tokenize("  "), Vec::<String>::new());
        assert_eq!(tokenize("ÉCOLE"), ["école"]);
    }

    #[test]
    fn vocabulary_orders_by_frequency_then_bytes() {
        let docs = [vec!["b", "a", "c", "a"], vec!["c", "d", "b", "a"]];
        let v = Vocabulary::build(docs.iter().map(|d| d.as_slice()), 1, None).unwrap();
        assert_eq!(v.words(), ["<pad>", "<unk>", "a", "b", "c", "d"]);
        assert_eq!(v.count(2), 3);
        assert_eq!(v.id("zzz"), UNK);
        assert_eq!(v.encode(&["d", "q"]), [5, UNK]);
        let v2 = Vocabulary::build(docs.iter().map(|d| d.as_slice()), 2, None).unwrap();
        assert_eq!(v2.words(), ["<pad>", "<unk>", "a", "b", "c"]);
        let v3 = Vocabulary::build(docs.iter().map(|d| d.as_slice()), 1, Some(3)).unwrap();
        assert_eq!(v3.words(), ["<pad>", "<unk>", "a"]);
        assert!(Vocabulary::build(docs.iter().map(|d| d.as_slice()), 0, None).is_err());
        assert!(Vocabulary::build(docs.iter().map(|d| d.as_slice()), 1, Some(1)).is_err());
    }

    #[test]
    fn labels_are_sorted_and_unknown_labels_are_errors() {
        let m = LabelMap::from_labels(["pos", "neg", "pos", "NUM"]);
        assert_eq!(m.names(), ["NUM", "neg", "pos"]);
        assert_eq!(m.id("pos"), Some(2));
        assert_eq!(m.id("x"), None);
        let recs = parse_labelled("zzz\tword\n".as_bytes(), "f").unwrap();
        let toks = vec![tokenize(&recs[0].text)];
        let v = Vocabulary::build(toks.iter().map(|t| t.as_slice()), 1, None).unwrap();
        let err = encode(&recs, &toks, &v, &m).unwrap_err().to_string();
        assert!(err.contains("zzz") && err.contains("line 1"), "{err}");
    }

    #[test]
    fn split_is_seeded_and_disjoint() {
        let (a, b) = split_indices(101, 0.1, 7).unwrap();
        assert_eq!((a.len(), b.len()), (91, 10));
        let mut all: Vec<usize> = a.iter().chain(&b).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..101).collect::<Vec<_>>());
        assert_eq!(split_indices(101, 0.1, 7).unwrap(), (a, b.clone()));
        assert_ne!(split_indices(101, 0.1, 8).unwrap().1, b);
        assert!(split_indices(10, 1.0, 0).is_err());
        assert!(split_indices(10, -0.1, 0).is_err());
    }

    #[test]
    fn pads_truncates_and_reports_lengths() {
        let ex = vec![
            TextExample {
                label: 0,
                ids: vec![5, 6, 7],
            },
            TextExample {
                label: 1,
                ids: vec![8],
            },
        ];
        let b = pad_batch(&ex, &[1, 0], Padding::default()).unwrap();
        assert_eq!(b.shape(), [2, 3]);
        assert_eq!(b.ids, [8, PAD, PAD, 5, 6, 7]);
        assert_eq!(b.lengths, [1, 3]);
        assert_eq!(b.labels, [1, 0]);
        assert_eq!(b.mask::<f32>().to_vec(), [1.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
        assert_eq!(
            b.ids_tensor::<f64>().unwrap().to_vec(),
            [8.0, 0.0, 0.0, 5.0, 6.0, 7.0]
        );
        // Public fields edited out of step: a typed error, not a panic.
        let mut edited = b.clone();
        edited.ids.pop();
        assert!(matches!(
            edited.ids_tensor::<f64>(),
            Err(NnError::BadInput { .. })
        ));
        let p = Padding {
            min_len: 5,
            max_len: None,
        };
        assert_eq!(pad_batch(&ex, &[0], p).unwrap().shape(), [1, 5]);
        let t = Padding {
            min_len: 0,
            max_len: Some(2),
        };
        let b = pad_batch(&ex, &[0, 1], t).unwrap();
        assert_eq!(b.ids, [5, 6, 8, PAD]);
        assert_eq!(b.lengths, [2, 1]);
        assert!(pad_batch(&ex, &[2], Padding::default()).is_err());
        assert!(pad_batch(&ex, &[], Padding::default()).is_err());
        let all = batches(&ex, &[0, 1, 0], 2, Padding::default()).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].shape(), [1, 3]);
        assert!(batches(&ex, &[0], 0, Padding::default()).is_err());
        // A min_len no buffer can hold: a typed error, not a capacity or overflow panic.
        for min_len in [usize::MAX, usize::MAX / 2] {
            let p = Padding {
                min_len,
                max_len: None,
            };
            assert!(matches!(
                pad_batch(&ex, &[0, 1, 0, 1], p),
                Err(NnError::InvalidConfig { .. })
            ));
        }
    }
}

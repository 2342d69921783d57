//! Data embedded in the crate so that it trains and evaluates without downloads: the
//! public-domain corpus, the Google analogy questions and WordSim-353 (sources and licences in
//! the crate's `data/README.md`). Present with the default-on `embedded-data` feature.

use std::io::Read;
use std::sync::Arc;

use crate::error::{Error, Result};

static CORPUS_PD_1M_GZ: &[u8] = include_bytes!("../data/corpus-pd-1m.txt.gz");
static QUESTIONS_WORDS_GZ: &[u8] = include_bytes!("../data/questions-words.txt.gz");
static WORDSIM353: &str = include_str!("../data/wordsim353.tsv");

fn gunzip(name: &str, gz: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(gz.len() * 4);
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut out)
        .map_err(|e| Error::io(name, e))?;
    Ok(out)
}

/// The embedded corpus (1,000,000 public-domain words, one line), decompressed.
pub fn corpus_pd_1m() -> Result<Arc<[u8]>> {
    Ok(gunzip("<embedded corpus-pd-1m.txt.gz>", CORPUS_PD_1M_GZ)?.into())
}

/// The Google analogy questions (`questions-words.txt`, 19,544 questions in 14 sections).
pub fn questions_words() -> Result<String> {
    let bytes = gunzip("<embedded questions-words.txt.gz>", QUESTIONS_WORDS_GZ)?;
    crate::io::utf8_text(
        std::path::Path::new("<embedded questions-words.txt>"),
        bytes,
    )
}

/// WordSim-353 word pairs with human similarity scores (tab-separated, `#` comment lines).
pub fn wordsim353() -> &'static str {
    WORDSIM353
}

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_data_decompresses() {
        let c = super::corpus_pd_1m().unwrap();
        let words = c
            .split(|b| b.is_ascii_whitespace())
            .filter(|w| !w.is_empty())
            .count();
        assert_eq!(words, 1_000_000);
        let q = super::questions_words().unwrap();
        assert_eq!(q.lines().filter(|l| !l.starts_with(':')).count(), 19_544);
        assert!(
            super::wordsim353()
                .lines()
                .filter(|l| !l.starts_with('#'))
                .count()
                >= 353
        );
    }
}

//! `neurite_word2vec::phrases` against word2phrase.c: the outputs of two passes that the C tool
//! wrote (`fixtures/word2phrase/`, made by `bench/phrase-parity.sh` with `FIXTURE=`). The input
//! is the 5,000-word parity corpus followed by edge cases: CRLF, tabs, blank lines, a word over
//! 58 bytes, Latin-1 bytes, a pair over 59 bytes, a last word without white space after it.

use std::path::{Path, PathBuf};

use neurite_word2vec::phrases::{phrase_file, PhraseOptions};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/word2phrase")
        .join(name)
}

#[test]
fn two_passes_write_what_word2phrase_c_writes() {
    let dir = std::env::temp_dir().join(format!("neurite-w2p-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (input, output, threshold, expected) in [
        (
            fixture("input.txt"),
            dir.join("pass1.txt"),
            20.0,
            "pass1.txt",
        ),
        (
            dir.join("pass1.txt"),
            dir.join("pass2.txt"),
            10.0,
            "pass2.txt",
        ),
    ] {
        let opts = PhraseOptions {
            min_count: 3,
            threshold,
            ..Default::default()
        };
        phrase_file(&input, &output, &opts).unwrap();
        let ours = std::fs::read(&output).unwrap();
        let theirs = std::fs::read(fixture(expected)).unwrap();
        assert!(ours == theirs, "{expected} differs from word2phrase.c's");
    }
    // Three-word phrases come from the second pass.
    let two = std::fs::read(dir.join("pass2.txt")).unwrap();
    assert!(two.windows(12).any(|w| w == b"let_there_be"));
    std::fs::remove_dir_all(&dir).unwrap();
}

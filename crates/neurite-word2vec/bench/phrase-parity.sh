#!/usr/bin/env bash
# neurite-word2vec's `phrase` subcommand against the original word2phrase.c on the same text:
# two passes (-min-count 3, thresholds 20 then 10, as word2vec.c's phrase demo falls), the
# outputs compared byte for byte.
#
# Usage: bench/phrase-parity.sh WORD2PHRASE_C [CORPUS]
#   WORD2PHRASE_C  word2phrase.c from the word2vec release (tmikolov/word2vec); built with the
#                  C compiler found here (gcc or cc).
#   CORPUS         any text (default: tests/fixtures/word2phrase/input.txt).
#   FIXTURE=DIR:   also write the fixture that tests/phrases.rs checks (CORPUS copied to
#                  DIR/input.txt, the C tool's outputs to DIR/pass1.txt and DIR/pass2.txt).
# Note: word2phrase.c keeps file names in 60-byte buffers, so it runs in a work directory.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
src="$(realpath "$1")"
corpus="$(realpath "${2:-$here/tests/fixtures/word2phrase/input.txt}")"
cc="$(command -v gcc || command -v cc)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$cc" -O2 -o "$work/word2phrase" "$src" -lm
(cd "$here" && cargo build --release -q -p neurite-word2vec)
ours="$here/../../target/release/neurite-word2vec"
cp "$corpus" "$work/input.txt"
cd "$work"
./word2phrase -train input.txt -output c1.txt -min-count 3 -threshold 20 -debug 0 > /dev/null
./word2phrase -train c1.txt -output c2.txt -min-count 3 -threshold 10 -debug 0 > /dev/null
"$ours" phrase -train input.txt -output n1.txt -min-count 3 -threshold 20 -debug 0
"$ours" phrase -train n1.txt -output n2.txt -min-count 3 -threshold 10 -debug 0
cmp c1.txt n1.txt && cmp c2.txt n2.txt && echo "identical: pass 1 $(wc -c < n1.txt) bytes, pass 2 $(wc -c < n2.txt) bytes"
if [ -n "${FIXTURE:-}" ]; then
  mkdir -p "$FIXTURE"
  cp input.txt "$FIXTURE/input.txt"
  cp c1.txt "$FIXTURE/pass1.txt"
  cp c2.txt "$FIXTURE/pass2.txt"
fi

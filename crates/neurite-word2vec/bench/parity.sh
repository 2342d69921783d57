#!/bin/bash
# neurite-word2vec's reference-parity mode against the original word2vec.c, on the same corpus
# with the same flags: vocabulary files, vector files and their bytes, for CBOW/skip-gram ×
# negative sampling/hierarchical softmax, on a corpus with line breaks (sentences, an empty
# line, a line longer than word2vec.c's 1000-word sentence cap) and on one long line without a
# final line break.
#
# Usage: bench/parity.sh WORD2VEC_C [CORPUS] [WORDS]
#   WORD2VEC_C  word2vec.c of the 2015 release ("v 0.1c": -iter, next_random in InitNet,
#               `if (feof(fi) || (word_count > train_words / num_threads))` with local_iter).
#               Not the 2017 head of github.com/tmikolov/word2vec, whose ReadWordIndex(fi, &eof)
#               never resets `eof`, so a thread that reaches the end of the file skips every
#               later epoch. The file is not vendored here: pass its path.
#   CORPUS      text to take the words from (.gz accepted); default data/corpus-pd-1m.txt.gz
#   WORDS       how many words; default 300000
# Environment: NEURITE_W2V (default target/release/neurite-word2vec), PYTHON (default python3),
#   WORK (scratch directory, default a fresh one under ${TMPDIR:-/tmp}),
#   NATIVE_REFERENCE (the -reference level that matches `gcc -march=native` here: 2 = GCC 12 on
#   an AMD EPYC with AVX-512, 3 = an AVX2 processor; default 2),
#   FIXTURE=DIR: also write the small fixture that tests/word2vec_c_parity.rs checks.
#
# Two builds of word2vec.c are compared:
#   - `gcc -O3 -march=native -funroll-loops -ffp-contract=off`: every product rounded before it
#     is added; neurite `-reference 1` must give the same bytes.
#   - `gcc -O3 -march=native -funroll-loops` (GCC's default -ffp-contract=fast fuses
#     multiply-adds, differently in vectorised and scalar loops): `-reference $NATIVE_REFERENCE`.
#   - on a processor with AVX2 and FMA, also `gcc -O3 -march=haswell -funroll-loops`:
#     `-reference 3`.
# Measured 2026-11-28 (GCC 12.2, AMD EPYC with AVX-512, -march=native = znver3) with the
# defaults: identical vocabulary files, and identical vector files (text and binary) for every
# mode, corpus and build. The builds round differently (a run of one build against another's
# -reference level differs), so each check is a real one.
# Exit status 1 if any file differs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
src=${1:?usage: parity.sh WORD2VEC_C [CORPUS] [WORDS]}
src=$(cd "$(dirname "$src")" && pwd)/$(basename "$src")
corpus=${2:-$root/data/corpus-pd-1m.txt.gz}
words=${3:-300000}
N=${NEURITE_W2V:-$root/target/release/neurite-word2vec}
N=$(cd "$(dirname "$N")" && pwd)/$(basename "$N")
PY=${PYTHON:-python3}
native=${NATIVE_REFERENCE:-2}
W=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/w2v-parity.XXXXXX")}
mkdir -p "$W"
cd "$W"
echo "scratch: $W"

gcc -O3 -march=native -funroll-loops -ffp-contract=off -pthread "$src" -o w2v-off -lm 2>/dev/null
gcc -O3 -march=native -funroll-loops -pthread "$src" -o w2v-native -lm 2>/dev/null
builds=("off 1" "native $native")
if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
  gcc -O3 -march=haswell -funroll-loops -pthread "$src" -o w2v-haswell -lm 2>/dev/null
  builds+=("haswell 3")
fi
echo "gcc: $(gcc --version | head -1); -march=native is $(gcc -march=native -Q --help=target 2>/dev/null | awk '$1 == "-march=" {print $2}')"

# The two corpora: sentences of 1..60 words, some empty lines, a few of 1500 words; and one line.
"$PY" - "$corpus" "$words" <<'EOF'
import gzip, random, sys
path, n = sys.argv[1], int(sys.argv[2])
opener = gzip.open if path.endswith('.gz') else open
with opener(path, 'rt') as f:
    words = []
    while len(words) < n:
        chunk = f.read(1 << 20)
        if not chunk:
            break
        words += chunk.split()
words = words[:n]
random.seed(7)
lines, i = [], 0
while i < len(words):
    r = random.random()
    k = 1500 if r < 0.02 else (0 if r < 0.05 else random.randint(1, 60))
    lines.append(' '.join(words[i:i + k]))
    i += k
open('lines.txt', 'w').write('\n'.join(lines) + '\n')
open('oneline.txt', 'w').write(' '.join(words))
EOF

# Compares two word2vec binary files: bytes, then (if they differ) the vectors.
compare() {
  if cmp -s "$1" "$2"; then echo "identical bytes"; return 0; fi
  "$PY" - "$1" "$2" <<'EOF'
import math, struct, sys
def load(p):
    with open(p, 'rb') as f:
        n, d = map(int, f.readline().split())
        out = []
        for _ in range(n):
            w = b''
            while (c := f.read(1)) != b' ':
                if c != b'\n':
                    w += c
            out.append((w, struct.unpack(f'<{d}f', f.read(4 * d))))
        return out
a, b = load(sys.argv[1]), load(sys.argv[2])
if [w for w, _ in a] != [w for w, _ in b]:
    print('DIFFERENT vocabularies'); sys.exit(0)
mx, cos = 0.0, []
for (_, x), (_, y) in zip(a, b):
    mx = max(mx, max(abs(p - q) for p, q in zip(x, y)))
    nx, ny = math.sqrt(sum(p * p for p in x)), math.sqrt(sum(q * q for q in y))
    cos.append(sum(p * q for p, q in zip(x, y)) / max(nx * ny, 1e-30))
print(f'DIFFERENT: max |diff| {mx:.3g}, mean cosine {sum(cos) / len(cos):.7f}, min cosine {min(cos):.7f}')
EOF
  return 1
}

fail=0
for c in lines oneline; do
  ./w2v-off -train $c.txt -save-vocab c-$c.vocab -debug 0 >/dev/null
  "$N" -train $c.txt -save-vocab n-$c.vocab -reference 1 -debug 0 >/dev/null
  if cmp -s c-$c.vocab n-$c.vocab; then r="identical bytes"; else r="DIFFERENT"; fail=1; fi
  echo "vocabulary $c.txt ($(wc -l < c-$c.vocab) words): $r"
done
modes=("cbow-ns:-cbow 1 -hs 0 -negative 5" "sg-ns:-cbow 0 -hs 0 -negative 5"
       "cbow-hs:-cbow 1 -hs 1 -negative 0" "sg-hs:-cbow 0 -hs 1 -negative 0"
       "sg-both:-cbow 0 -hs 1 -negative 3")
runs=("lines.txt:-iter 2" "oneline.txt:-iter 2 -size 37 -window 3 -sample 1e-4 -alpha 0.03")
for build in "${builds[@]}"; do
  set -- $build
  for m in "${modes[@]}"; do
    name=${m%%:*}; flags=${m#*:}
    for run in "${runs[@]}"; do
      c=${run%%:*}; extra=${run#*:}
      ./w2v-$1 -train $c -output c.bin -binary 1 -threads 1 -debug 0 $flags $extra >/dev/null
      "$N" -train $c -output n.bin -binary 1 -threads 1 -debug 0 -reference $2 $flags $extra
      r=$(compare c.bin n.bin) || fail=1
      printf '%-7s %-12s gcc %-6s neurite -reference %s: %s\n' "$name" "$c" "$1" "$2" "$r"
    done
  done
  ./w2v-$1 -train lines.txt -output c.txt -binary 0 -threads 1 -debug 0 -cbow 0 -iter 1 >/dev/null
  "$N" -train lines.txt -output n.txt -binary 0 -threads 1 -debug 0 -reference $2 -cbow 0 -iter 1
  if cmp -s c.txt n.txt; then r="identical bytes"; else r="DIFFERENT"; fail=1; fi
  echo "text format (-binary 0), gcc $1: $r"
done

if [ -n "${FIXTURE:-}" ]; then
  # Small enough to commit: 5,000 words, min-count 4, 21-dimensional vectors (21 = 16 + 5
  # exercises both the vectorised blocks and the fused tail of the dot products).
  mkdir -p "$FIXTURE"
  head -c 2000000 lines.txt | tr '\n' ' ' | "$PY" -c '
import random, sys
w = sys.stdin.read().split()[:5000]
random.seed(3)
out, i = [], 0
while i < len(w):
    k = 1200 if i == 2000 else random.randint(0, 40)
    out.append(" ".join(w[i:i + k])); i += k
sys.stdout.write("\n".join(out))' > "$FIXTURE/corpus.txt"
  common="-train $FIXTURE/corpus.txt -min-count 4 -size 21 -window 3 -iter 2 -threads 1 -debug 0 -binary 1"
  ./w2v-off $common -save-vocab "$FIXTURE/vocab.txt" >/dev/null
  for m in "${modes[@]}"; do
    name=${m%%:*}; flags=${m#*:}
    ./w2v-off $common $flags -output "$FIXTURE/$name-off.bin" >/dev/null
    ./w2v-native $common $flags -output "$FIXTURE/$name-native$native.bin" >/dev/null
  done
  echo "fixture written to $FIXTURE"
fi
exit $fail

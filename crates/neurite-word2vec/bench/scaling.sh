#!/bin/bash
# 1 → 2-thread scaling of neurite-word2vec training (Hogwild), measured the way it can be
# trusted: wall-clock words/s of training only (the binary's own "Trained on ..." line, which
# excludes counting the vocabulary), 1 and 2 threads alternated back to back, R repeats,
# median. Also prints CPU-seconds per run (user+sys, vocabulary included) and when each
# thread finished: on a quiet machine CPU words/s should be about the same at 1 and 2 threads
# and the threads should finish within one part (1/32 of an epoch) of each other.
#
# Wall-clock scaling is only meaningful on a machine with at least two idle cores: check
# `uptime` first (load average well below cores − 2) and stop other jobs.
#
# Usage: bench/scaling.sh [CORPUS] [EPOCHS] [REPEATS]
#   CORPUS   default data/corpus-pd-1m.txt (decompressed from the .gz next to it if needed)
#   EPOCHS   default 1 (the W6 setting)
#   REPEATS  default 5
# Environment: NEURITE_W2V (default target/release/neurite-word2vec).
# The same figures through the benchmark harness:
#   cargo xtask bench --only W6 [--corpus FILE]   (medians of 7 runs at 1 and 2 threads)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
C=${1:-$root/data/corpus-pd-1m.txt}
E=${2:-1}
R=${3:-5}
B=${NEURITE_W2V:-$root/target/release/neurite-word2vec}
if [ ! -f "$C" ] && [ -f "$C.gz" ]; then
  tmp=$(mktemp "${TMPDIR:-/tmp}/corpus.XXXXXX")
  gunzip -c "$C.gz" > "$tmp"
  C=$tmp
fi
V=$(mktemp "${TMPDIR:-/tmp}/vectors.XXXXXX")
trap 'rm -f "$V"' EXIT
echo "load: $(uptime | sed 's/.*load average: //'); $(nproc) cores; corpus $C, $E epoch(s), $R repeats"
for mode in "sg-ns 0 0 5" "cbow-ns 1 0 5" "sg-hs 0 1 0" "cbow-hs 1 1 0"; do
  set -- $mode
  name=$1 cbow=$2 hs=$3 neg=$4
  declare -A wps=()
  for r in $(seq "$R"); do
    for t in 1 2; do
      out=$( { /usr/bin/time -f "TIME %U %S" "$B" -train "$C" -output "$V" -cbow $cbow -hs $hs \
               -negative $neg -iter "$E" -threads $t -debug 1 | tr '\r' '\n'; } 2>&1 )
      w=$(echo "$out" | awk '/^Trained on/ {print $8}')
      cpu=$(echo "$out" | awk '/^TIME/ {print $2 + $3}')
      fin=$(echo "$out" | sed -n 's/^Each thread finished after (s): //p')
      wps[$t]="${wps[$t]:-} $w"
      echo "  $name threads=$t run=$r: $w words/s (wall), cpu ${cpu} s${fin:+, threads finished at $fin s}"
    done
  done
  m1=$(echo ${wps[1]} | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  m2=$(echo ${wps[2]} | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "$name: median $m1 words/s at 1 thread, $m2 at 2 threads: scaling $(awk -v a=$m1 -v b=$m2 'BEGIN {printf "%.2f", b / a}')x"
  unset wps
done

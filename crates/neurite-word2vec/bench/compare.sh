#!/bin/bash
# neurite-word2vec vs gensim 4.4, back to back on one corpus: words per CPU-second of training
# and peak memory, for sg/cbow × ns/hs. Usage: compare.sh CORPUS EPOCHS [THREADS]
# Needs `pip install gensim==4.4.0` and a release build of the neurite-word2vec binary.
C=$1; E=$2; T=${3:-1}
B=${NEURITE_W2V:-target/release/neurite-word2vec}
vt=$( { /usr/bin/time -f "%U %S" $B -train $C -save-vocab ${TMPDIR:-/tmp}/vocab.txt -debug 0 >/dev/null; } 2>&1 | awk '{print $1+$2}')
echo "neurite vocabulary build: $vt cpu-s"
for mode in "1 0" "0 0" "1 1" "0 1"; do
  set -- $mode; sg=$1; hs=$2; cbow=$((1-sg)); neg=$((hs==1?0:5))
  python3 $(dirname "$0")/gensim_run.py $C $sg $hs $T $E 2>&1 | tail -1
  r=$( { /usr/bin/time -f "TIME %U %S %e %M" $B -train $C -output ${TMPDIR:-/tmp}/n.bin -binary 1 -cbow $cbow -hs $hs -negative $neg -iter $E -threads $T -debug 1 | tail -1; } 2>&1 | tr '\r' '\n' | grep -E "Trained|TIME")
  words=$(echo "$r" | grep Trained | awk '{print $3}')
  echo "$r" | grep TIME | awk -v w=$words -v vt=$vt -v sg=$sg -v hs=$hs -v t=$T '{cpu=$2+$3-vt; printf "neurite sg=%d hs=%d threads=%d: %d words, cpu %.2f s -> %.0f words/cpu-s, wall(train+vocab) %.2f s, peak RSS %.0f MB\n", sg, hs, t, w, cpu, w/cpu, $4, $5/1024}'
done

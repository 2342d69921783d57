"""gensim 4.4 word2vec run for neurite comparisons: gensim_run.py CORPUS SG HS WORKERS EPOCHS [OUT.bin]
The seed is 1, or the SEED environment variable."""
import os, sys, time, logging, resource
from gensim.models import Word2Vec
from gensim.models.word2vec import LineSentence
path, sg, hs, workers, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
out = sys.argv[6] if len(sys.argv) > 6 else None
sents = LineSentence(path)
m = Word2Vec(vector_size=100, window=5, min_count=5, sample=1e-3, sg=sg, hs=hs, negative=0 if hs else 5,
             alpha=0.025 if sg else 0.05, workers=workers, epochs=epochs, seed=int(os.environ.get("SEED", "1")))
m.build_vocab(sents)
c0, w0 = time.process_time(), time.time()
m.train(sents, total_examples=m.corpus_count, epochs=epochs)
c1, w1 = time.process_time(), time.time()
words = m.corpus_total_words * epochs
print(f"gensim sg={sg} hs={hs} workers={workers}: {words} words, cpu {c1-c0:.2f} s -> {words/(c1-c0):.0f} words/cpu-s, wall {w1-w0:.2f} s -> {words/(w1-w0):.0f} words/s, peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024:.0f} MB")
if out:
    m.wv.save_word2vec_format(out, binary=True)

//! How several threads divide the corpus: parts handed out as threads ask (Hogwild) or on a
//! fixed schedule (the deterministic mode).

use std::sync::atomic::{AtomicUsize, Ordering};

/// Parts of the corpus for several threads. Hogwild threads get them in order as they ask
/// (an atomic counter over all epochs' parts), so that the threads finish within one part of
/// each other; the deterministic mode follows a fixed schedule ([`Chunks::static_part`]). With fixed ranges (one per thread, as word2vec.c has) a thread whose range
/// holds more frequent words or wider windows runs on alone at the end, and the run lasts as
/// long as its slowest thread.
pub(super) struct Chunks {
    /// `parts + 1` byte offsets; part `i` is `[bounds[i], bounds[i + 1])`.
    pub(super) bounds: Vec<u64>,
    /// Parts handed out so far, over all epochs.
    pub(super) next: AtomicUsize,
    /// `epochs · parts`.
    pub(super) total: usize,
    /// Threads: the parts form one share of `CHUNKS_PER_THREAD` per thread.
    pub(super) threads: usize,
}

/// Parts per thread and epoch in the Hogwild mode: the threads finish within 1/16 of an
/// epoch's share of each other.
pub(super) const CHUNKS_PER_THREAD: usize = 16;

impl Chunks {
    pub(super) fn new(file_len: u64, threads: usize, epochs: usize) -> Self {
        let parts = threads * CHUNKS_PER_THREAD;
        Chunks {
            bounds: (0..=parts as u64)
                .map(|i| file_len * i / parts as u64)
                .collect(),
            next: AtomicUsize::new(0),
            total: epochs * parts,
            threads,
        }
    }

    /// The deterministic mode's fixed schedule: part `k` (over all epochs) of thread `thread`,
    /// or `None` after its last. Thread `t` trains parts t, t + T, t + 2T, … of each epoch, so
    /// that in every round the threads work on neighbouring parts of the corpus, whose text
    /// (and so speed) is alike: with one half of the corpus per thread, as word2vec.c splits
    /// it, a round lasted as long as the slower half, and the other thread waited.
    pub(super) fn static_part(&self, thread: usize, k: usize) -> Option<(u64, u64)> {
        if k >= self.total / self.threads {
            return None;
        }
        let parts = self.bounds.len() - 1;
        let i = (k % (parts / self.threads)) * self.threads + thread;
        Some((self.bounds[i], self.bounds[i + 1]))
    }

    /// The next part to train, or `None` when every epoch's parts have been handed out.
    ///
    /// Parts are handed out interleaved across the threads' shares (with 2 threads and 32
    /// parts: 0, 16, 1, 17, …), so that the parts trained at the same time lie as far apart
    /// as word2vec.c's fixed ranges put them. Handing them out in corpus order instead makes
    /// all threads sweep the corpus together, like one thread, and a corpus made of blocks of
    /// different text trains worse (the README's word2vec design notes).
    pub(super) fn take(&self) -> Option<(u64, u64)> {
        let k = self.next.fetch_add(1, Ordering::Relaxed);
        if k >= self.total {
            return None;
        }
        let parts = self.bounds.len() - 1;
        let i = k % parts;
        let share = parts / self.threads;
        let part = (i % self.threads) * share + i / self.threads;
        Some((self.bounds[part], self.bounds[part + 1]))
    }
}

//! The shared matrices and their audited `unsafe`: `Rows` (a matrix behind a raw pointer, so
//! that Hogwild threads can share it), `Weights` (the three matrices of training) and `Stage`
//! (a Hogwild thread's private copies of the most-used rows).

/// A row-major matrix reached through a raw pointer, so that Hogwild threads can share it.
///
/// Rows `hot_lo .. hot_lo + hot_len` may be staged: then they are read and written in a
/// thread's private buffer at `hot` instead (see [`Stage`]).
#[derive(Clone, Copy)]
pub(super) struct Rows {
    pub(super) ptr: *mut f32,
    pub(super) rows: usize,
    pub(super) dim: usize,
    pub(super) hot: *mut f32,
    pub(super) hot_lo: usize,
    pub(super) hot_len: usize,
}

// SAFETY: `Rows` is a pointer to `f32` data; sending it to another thread is sound because
// every access goes through the `unsafe fn row`, whose contract covers cross-thread use.
unsafe impl Send for Rows {}
// SAFETY: as for `Send`: sharing a `Rows` only shares the pointer.
unsafe impl Sync for Rows {}

impl Rows {
    pub(super) fn new(data: &mut [f32], dim: usize) -> Rows {
        Rows {
            ptr: data.as_mut_ptr(),
            rows: data.len() / dim,
            dim,
            hot: std::ptr::null_mut(),
            hot_lo: 0,
            hot_len: 0,
        }
    }

    /// Where row `i` lives: the staged copy or the matrix.
    #[inline(always)]
    pub(super) fn row_ptr(self, i: usize) -> *mut f32 {
        let off = i.wrapping_sub(self.hot_lo);
        if off < self.hot_len {
            self.hot.wrapping_add(off * self.dim)
        } else {
            self.ptr.wrapping_add(i * self.dim)
        }
    }

    /// Starts loading row `i` into the cache (no access is made).
    #[inline(always)]
    pub(super) fn prefetch(self, i: usize) {
        crate::kernels::prefetch(self.row_ptr(i), self.dim);
    }

    /// Row `i` as a slice that lives for one kernel call.
    ///
    /// # Safety
    /// The matrix (and the staged buffer, if any) must be alive, and within this thread no
    /// other slice of row `i` of this matrix may be alive while the returned one is used.
    /// Other threads may use the row at the same time only in Hogwild mode, as the module
    /// documentation describes.
    #[inline]
    pub(super) unsafe fn row<'a>(self, i: usize) -> &'a mut [f32] {
        assert!(i < self.rows, "row {i} of {}", self.rows);
        // SAFETY: `i < rows`, so the `dim` elements from `i·dim` lie inside the allocation
        // (a staged row inside the staged buffer of `hot_len` rows); the aliasing rules are
        // the caller's contract.
        unsafe { std::slice::from_raw_parts_mut(self.row_ptr(i), self.dim) }
    }
}

/// A Hogwild thread's private copies of the most-used rows of each matrix: the most frequent
/// words' input and output vectors, and the Huffman tree's inner nodes nearest the root
/// (which every hierarchical-softmax update passes through).
///
/// These rows are the ones both threads write many times a millisecond. Shared, every such
/// write takes the cache line from the other core (the README's word2vec design notes have the
/// speed it costs). So each thread trains these rows in its own copy, and
/// every [`STAGE_SYNC_WORDS`] words adds what it changed since the last exchange into the
/// shared rows and takes the shared values back (the other threads' changes included):
/// for these rows, the merge of the deterministic mode, without its rounds. The rest of the
/// model is shared as before.
///
/// Only exchanges write the shared copies of staged rows, and they take turns (a lock held
/// for the exchange, one every 10,000 words per thread), so the staged rows are free of the
/// Hogwild race. Unlocked, two threads that exchanged at once could each read a row before
/// the other wrote it, and one thread's changes of up to 10,000 words to the most-used rows
/// were lost (the threads start together and run at about the same speed, so their
/// exchanges can coincide).
pub(super) struct Stage {
    /// First staged row of each matrix.
    pub(super) lo: [usize; 3],
    /// Staged rows of each matrix.
    pub(super) len: [usize; 3],
    /// The thread's copies of the staged rows.
    pub(super) private: [Vec<f32>; 3],
    /// The shared values at the last exchange.
    pub(super) snapshot: [Vec<f32>; 3],
    /// Words read at the last exchange.
    pub(super) synced_at: u64,
}

/// Words between two exchanges of a [`Stage`] with the shared model.
pub(super) const STAGE_SYNC_WORDS: u64 = 10_000;

impl Stage {
    /// Stages the first `hot` rows of `syn0` and `syn1neg` and the last `hot` rows of `syn1`
    /// (the inner nodes nearest the root; the root is the last), copied from `shared`.
    ///
    /// # Safety
    /// No other thread may write the matrices during the call.
    pub(super) unsafe fn new(shared: Weights, hot: usize) -> Stage {
        let m = [shared.syn0, shared.syn1, shared.syn1neg];
        let len = m.map(|r| hot.min(r.rows));
        let lo = [0, m[1].rows - len[1], 0];
        let copy = |k: usize| -> Vec<f32> {
            // SAFETY: rows `lo .. lo + len` lie inside the matrix; nothing writes it meanwhile.
            unsafe { std::slice::from_raw_parts(m[k].ptr.add(lo[k] * m[k].dim), len[k] * m[k].dim) }
                .to_vec()
        };
        let private = [copy(0), copy(1), copy(2)];
        Stage {
            lo,
            len,
            snapshot: private.clone(),
            private,
            synced_at: 0,
        }
    }

    /// `shared` with the staged rows redirected to this thread's copies.
    pub(super) fn weights(&mut self, shared: Weights) -> Weights {
        let mut m = [shared.syn0, shared.syn1, shared.syn1neg];
        for (k, rows) in m.iter_mut().enumerate() {
            rows.hot = self.private[k].as_mut_ptr();
            rows.hot_lo = self.lo[k];
            rows.hot_len = self.len[k];
        }
        let [syn0, syn1, syn1neg] = m;
        Weights {
            syn0,
            syn1,
            syn1neg,
        }
    }

    /// Adds this thread's changes of the staged rows into `shared` and takes the shared
    /// values back.
    ///
    /// # Safety
    /// `shared` must point to the live matrices this stage was made from; other threads may
    /// use them only in Hogwild mode (the documented race).
    pub(super) unsafe fn exchange(&mut self, shared: Weights) {
        let m = [shared.syn0, shared.syn1, shared.syn1neg];
        let parts = m
            .iter()
            .zip(self.lo.iter().zip(&self.len))
            .zip(self.private.iter_mut().zip(&mut self.snapshot));
        for ((rows, (&lo, &len)), (private, snapshot)) in parts {
            // SAFETY: the staged rows lie inside the matrix; concurrent use by other Hogwild
            // threads is the race the module documentation describes.
            let shared_rows = unsafe {
                std::slice::from_raw_parts_mut(rows.ptr.add(lo * rows.dim), len * rows.dim)
            };
            for ((x, p), s) in shared_rows
                .iter_mut()
                .zip(private.iter_mut())
                .zip(snapshot.iter_mut())
            {
                let v = *x + (*p - *s);
                *x = v;
                *p = v;
                *s = v;
            }
        }
    }
}

/// The three matrices of training.
#[derive(Clone, Copy)]
pub(super) struct Weights {
    pub(super) syn0: Rows,
    pub(super) syn1: Rows,
    pub(super) syn1neg: Rows,
}

impl Weights {
    pub(super) fn new(syn0: &mut [f32], syn1: &mut [f32], syn1neg: &mut [f32], dim: usize) -> Self {
        Weights {
            syn0: Rows::new(syn0, dim),
            syn1: Rows::new(syn1, dim),
            syn1neg: Rows::new(syn1neg, dim),
        }
    }
}

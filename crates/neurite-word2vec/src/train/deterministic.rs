//! The deterministic multi-threaded mode: rounds of private updates, merged in thread order
//! (see the module documentation of `train`).

use std::sync::atomic::Ordering;

use neurite_tensor::memory::huge_page_vec;

use super::hogwild::{Rows, Weights};
use super::shared::Shared;
use super::worker::Worker;
use super::{join, run_worker};
use crate::error::Result;

/// Deterministic multi-threaded training: rounds of private updates, merged in thread order.
///
/// After each round the threads merge in parallel, each one the rows of its own stripe
/// (blocks of [`MERGE_BLOCK`] rows dealt out in turn), so that no row is written by two
/// threads and the arithmetic of a row does not depend on which thread merges it.
pub(super) fn train_deterministic(
    workers: &mut [Worker],
    shared: &Shared,
    syn0: &mut [f32],
    syn1: &mut [f32],
    syn1neg: &mut [f32],
    dim: usize,
) -> Result<()> {
    let rows = [syn0.len() / dim, syn1.len() / dim, syn1neg.len() / dim];
    // Each thread makes its own copy, so that the copies are made in parallel (and their
    // pages first touched by the core that trains on them).
    let originals = (&*syn0, &*syn1, &*syn1neg);
    let mut copies: Vec<[Vec<f32>; 3]> = std::thread::scope(|s| {
        let handles: Vec<_> = workers
            .iter()
            .map(|_| {
                s.spawn(move || {
                    [originals.0, originals.1, originals.2].map(|m| {
                        let mut copy = huge_page_vec(m.len(), 0.0f32);
                        copy.copy_from_slice(m);
                        copy
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    for w in workers.iter_mut() {
        w.dirty = Some(Box::new(rows.map(Dirty::new)));
    }
    let base = [
        Rows::new(syn0, dim),
        Rows::new(syn1, dim),
        Rows::new(syn1neg, dim),
    ];
    let stripes = workers.len();
    let all = rows.map(|r| 0..r.div_ceil(MERGE_BLOCK));
    let cold_every = shared.config.sync_cold_rounds;
    let hot_blocks = shared.config.sync_hot_rows.div_ceil(MERGE_BLOCK);
    // syn0 and syn1neg: the most frequent words come first; syn1: the nodes nearest the root
    // last (whole blocks of MERGE_BLOCK rows).
    let hot = [
        0..hot_blocks.min(all[0].end),
        all[1].end.saturating_sub(hot_blocks)..all[1].end,
        0..hot_blocks.min(all[2].end),
    ];
    let mut round = 0usize;
    let threads = workers.len();
    while workers.iter().any(|w| !w.finished) {
        round += 1;
        shared.round_done.store(0, Ordering::Release);
        let results: Vec<Result<()>> = std::thread::scope(|s| {
            let handles: Vec<_> = workers
                .iter_mut()
                .zip(copies.iter_mut())
                .map(|(w, [c0, c1, c2])| {
                    let weights = Weights::new(c0, c1, c2, dim);
                    s.spawn(move || {
                        // SAFETY: each thread has its own copy of the weights; nothing else
                        // touches a copy until the thread joins.
                        let trained = unsafe { run_worker(w, shared, weights, shared.round_kept) };
                        // Until the last thread ends its round, read ahead instead of idling.
                        shared.round_done.fetch_add(1, Ordering::AcqRel);
                        while trained.is_ok()
                            && shared.round_done.load(Ordering::Acquire) < threads
                            && w.lookahead.len() < LOOKAHEAD_MAX
                            && w.lookahead.back() != Some(&LOOKAHEAD_END)
                        {
                            w.read_ahead(shared, 1024)?;
                        }
                        trained
                    })
                })
                .collect();
            handles.into_iter().map(join).collect()
        });
        results.into_iter().collect::<Result<Vec<()>>>()?;
        let copy_rows: Vec<[Rows; 3]> = copies
            .iter_mut()
            .map(|[c0, c1, c2]| [Rows::new(c0, dim), Rows::new(c1, dim), Rows::new(c2, dim)])
            .collect();
        let dirty: Vec<&[Dirty; 3]> = workers
            .iter()
            .map(|w| &**w.dirty.as_ref().expect("set above"))
            .collect();
        let full = round.is_multiple_of(cold_every) || workers.iter().all(|w| w.finished);
        let blocks = if full { &all } else { &hot };
        std::thread::scope(|s| {
            for stripe in 0..stripes {
                let (dirty, copy_rows) = (&dirty, &copy_rows);
                // SAFETY: the stripes are disjoint sets of rows, so no row of the base or of a
                // copy is reached by two threads; the training threads have joined.
                s.spawn(move || unsafe {
                    merge_stripe(stripe, stripes, dirty, base, copy_rows, blocks)
                });
            }
        });
        for w in workers.iter_mut() {
            for (d, b) in w.dirty.as_mut().expect("set above").iter_mut().zip(blocks) {
                d.clear(b.clone());
            }
        }
    }
    Ok(())
}

/// Look-ahead marker: the end of the thread's range.
pub(super) const LOOKAHEAD_END: u32 = u32::MAX;

/// Word indices a deterministic-mode thread reads ahead at most (400 KB).
pub(super) const LOOKAHEAD_MAX: usize = 100_000;

/// Rows per block of a merge stripe: the rows of one word of the [`Dirty`] bit sets. With
/// 100-float rows a block spans 25,600 bytes, so two threads rarely write into one cache line.
pub(super) const MERGE_BLOCK: usize = 64;

/// Merges the rows of stripe `stripe` of `stripes` touched in this round: a row one thread
/// touched takes that thread's value; a row several threads touched becomes
/// base + Σ_t (copy_t − base), summed in thread order. The result is copied into the base and
/// every copy. The stripe's blocks are visited in row order, so that the rows stream through the
/// cache instead of arriving in the random order they were first touched.
///
/// # Safety
/// No other thread may use the rows of this stripe of `base` or of any copy meanwhile.
pub(super) unsafe fn merge_stripe(
    stripe: usize,
    stripes: usize,
    dirty: &[&[Dirty; 3]],
    base: [Rows; 3],
    copies: &[[Rows; 3]],
    blocks: &[std::ops::Range<usize>; 3],
) {
    let mut old = vec![0.0f32; base[0].dim];
    for m in 0..3 {
        let first = blocks[m].start + (stripe + stripes - blocks[m].start % stripes) % stripes;
        for block in (first..blocks[m].end).step_by(stripes) {
            // Rows touched by any thread, and by more than one.
            let (mut touched, mut shared) = (0u64, 0u64);
            for d in dirty {
                shared |= touched & d[m].bits[block];
                touched |= d[m].bits[block];
            }
            while touched != 0 {
                let bit = touched & touched.wrapping_neg();
                let r = block * MERGE_BLOCK + touched.trailing_zeros() as usize;
                touched &= touched - 1;
                // SAFETY: row `r` belongs to this stripe (the caller's contract); one slice of
                // it per matrix is alive at a time.
                let b = unsafe { base[m].row(r) };
                let lone = (shared & bit == 0)
                    .then(|| dirty.iter().position(|d| d[m].bits[block] & bit != 0))
                    .flatten();
                if let Some(t) = lone {
                    // One thread's changes: its copy holds the result, and the sum's reads
                    // of the base and the other copies are saved.
                    // SAFETY: as above.
                    b.copy_from_slice(unsafe { copies[t][m].row(r) });
                    for (u, c) in copies.iter().enumerate() {
                        if u != t {
                            // SAFETY: as above.
                            unsafe { c[m].row(r) }.copy_from_slice(b);
                        }
                    }
                    continue;
                }
                old.copy_from_slice(b);
                for c in copies {
                    // SAFETY: as above.
                    let c = unsafe { c[m].row(r) };
                    for ((x, &o), &y) in b.iter_mut().zip(&old).zip(c.iter()) {
                        *x += y - o;
                    }
                }
                for c in copies {
                    // SAFETY: as above.
                    unsafe { c[m].row(r) }.copy_from_slice(b);
                }
            }
        }
    }
}

/// Rows touched by one thread during a round: one bit per row.
pub(super) struct Dirty {
    pub(super) bits: Vec<u64>,
}

impl Dirty {
    pub(super) fn new(rows: usize) -> Self {
        Dirty {
            bits: vec![0; rows.div_ceil(MERGE_BLOCK)],
        }
    }

    #[inline]
    pub(super) fn mark(&mut self, r: usize) {
        self.bits[r / MERGE_BLOCK] |= 1 << (r % MERGE_BLOCK);
    }

    /// Clears the bits of blocks `blocks`.
    pub(super) fn clear(&mut self, blocks: std::ops::Range<usize>) {
        self.bits[blocks].fill(0);
    }
}

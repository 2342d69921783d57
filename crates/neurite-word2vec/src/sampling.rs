//! The random choices of word2vec and their tables: the linear-congruential generator of
//! word2vec.c, the sigmoid table, the unigram^0.75 table for negative samples (the original's,
//! and an alias table that draws from the same distribution in O(1) with a few bytes per word),
//! the sub-sampling keep probability and the soft window.

/// word2vec.c's generator: `next_random = next_random * 25214903917 + 11` (mod 2^64).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lcg(pub u64);

impl Lcg {
    /// Advances and returns the new state.
    #[inline]
    pub fn advance(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(25_214_903_917).wrapping_add(11);
        self.0
    }
}

/// Scores beyond ±`MAX_EXP` are treated as saturated (word2vec.c's `MAX_EXP`).
pub const MAX_EXP: f32 = 6.0;
/// Bins of the sigmoid table (word2vec.c's `EXP_TABLE_SIZE`).
pub const EXP_TABLE_SIZE: usize = 1000;

/// σ(x) precomputed at 1000 points over [−6, 6], built exactly as word2vec.c builds its
/// `expTable` (single-precision steps, a double-precision `exp`).
#[derive(Clone, Debug)]
pub struct SigmoidTable {
    table: Vec<f32>,
}

impl Default for SigmoidTable {
    fn default() -> Self {
        Self::new()
    }
}

impl SigmoidTable {
    /// The table.
    pub fn new() -> Self {
        let table = (0..=EXP_TABLE_SIZE)
            .map(|i| {
                let x = (i as f32 / EXP_TABLE_SIZE as f32 * 2.0 - 1.0) * MAX_EXP;
                let e = (x as f64).exp() as f32;
                e / (e + 1.0)
            })
            .collect();
        SigmoidTable { table }
    }

    /// σ(f) for −6 < f < 6 with word2vec.c's index, `(int)((f + 6) * (1000 / 6 / 2))`: the
    /// integer division makes the factor 83 instead of 83.33, a small bias kept for parity.
    #[inline]
    pub fn reference(&self, f: f32) -> f32 {
        self.table[((f + MAX_EXP) * (EXP_TABLE_SIZE as i32 / MAX_EXP as i32 / 2) as f32) as usize]
    }

    /// σ(f) for −6 < f < 6 with the intended index, `(f + 6) * 1000 / 12`.
    ///
    /// The index is converted through `i32` and clamped: the same index as `as usize` for
    /// every input (negative and NaN give 0), one conversion instruction on every x86-64
    /// level (a float to `usize` needs a dozen without AVX-512), on the path from the dot
    /// product to the update, which the training loop waits for.
    #[inline]
    pub fn fast(&self, f: f32) -> f32 {
        const SCALE: f32 = EXP_TABLE_SIZE as f32 / (2.0 * MAX_EXP);
        let i = (((f + MAX_EXP) * SCALE) as i32).clamp(0, EXP_TABLE_SIZE as i32) as usize;
        self.table[i]
    }
}

/// word2vec.c's unigram table: `table_size` slots filled with word indices in proportion to
/// count^0.75 (`</s>` included, as there). A draw is `table[(next_random >> 16) % table_size]`.
/// The original uses 1e8 slots (400 MB); neurite builds it only in the reference-parity mode.
pub fn reference_unigram_table(counts: &[u64], table_size: usize) -> Vec<u32> {
    let power = 0.75f64;
    let vocab_size = counts.len();
    let train_words_pow: f64 = counts.iter().map(|&c| (c as f64).powf(power)).sum();
    let mut table = vec![0u32; table_size];
    let mut i = 0usize;
    let mut d1 = (counts[i] as f64).powf(power) / train_words_pow;
    for (a, slot) in table.iter_mut().enumerate() {
        *slot = i as u32;
        if a as f64 / table_size as f64 > d1 {
            i += 1;
            if i < vocab_size {
                d1 += (counts[i] as f64).powf(power) / train_words_pow;
            }
        }
        if i >= vocab_size {
            i = vocab_size - 1;
        }
    }
    table
}

/// Draws word indices with probability ∝ weight in O(1) (Walker's alias method, Vose's
/// construction): one random 64-bit number picks a column with its high half and decides
/// between the column and its alias with its low half. Memory: 8 bytes per word.
#[derive(Clone, Debug)]
pub struct AliasTable {
    /// (threshold on 32 bits, alias) per column.
    columns: Vec<(u32, u32)>,
}

impl AliasTable {
    /// A table for `weights` (non-negative, not all zero).
    pub fn new(weights: &[f64]) -> Self {
        let n = weights.len();
        let total: f64 = weights.iter().sum();
        assert!(n > 0 && total > 0.0, "alias table needs a positive weight");
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let mut columns = vec![(u32::MAX, 0u32); n];
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..n).partition(|&i| scaled[i] < 1.0);
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            columns[s] = (
                ((scaled[s] * 4_294_967_296.0) as u64).min(u32::MAX as u64) as u32,
                l as u32,
            );
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // Leftovers hold probability 1 up to rounding.
        for i in small.into_iter().chain(large) {
            columns[i] = (u32::MAX, i as u32);
        }
        // A zero-weight column must never be returned by itself.
        for (i, c) in columns.iter_mut().enumerate() {
            if weights[i] == 0.0 && c.1 as usize != i {
                c.0 = 0;
            }
        }
        AliasTable { columns }
    }

    /// Negative-sampling table: count^0.75, with `</s>` (index 0) never drawn.
    pub fn unigram(counts: &[u64]) -> Self {
        let mut w: Vec<f64> = counts.iter().map(|&c| (c as f64).powf(0.75)).collect();
        if w.len() > 1 {
            w[0] = 0.0;
        }
        Self::new(&w)
    }

    /// A draw from 64 random bits.
    #[inline]
    pub fn sample(&self, r: u64) -> usize {
        let col = (((r >> 32) * self.columns.len() as u64) >> 32) as usize;
        // col < len because (r >> 32) < 2^32.
        let (threshold, alias) = self.columns[col];
        if (r as u32) < threshold {
            col
        } else {
            alias as usize
        }
    }

    /// Exact probability of each index (for tests).
    pub fn probabilities(&self) -> Vec<f64> {
        let n = self.columns.len() as f64;
        let mut p = vec![0.0; self.columns.len()];
        for (i, &(t, a)) in self.columns.iter().enumerate() {
            let keep = t as f64 / 4_294_967_296.0;
            p[i] += keep / n;
            p[a as usize] += (1.0 - keep) / n;
        }
        p
    }
}

/// Probability of keeping an occurrence of a word seen `count` times among `total` words with
/// sub-sampling threshold `sample`: (√(f/(s·N)) + 1)·(s·N)/f, at most 1 (Mikolov et al.'s
/// formula as word2vec.c implements it).
pub fn keep_probability(count: u64, sample: f64, total: u64) -> f64 {
    if sample <= 0.0 || count == 0 {
        return 1.0;
    }
    let sn = sample * total as f64;
    let f = count as f64;
    (((f / sn).sqrt() + 1.0) * sn / f).min(1.0)
}

/// The same value computed with word2vec.c's mixture of single and double precision; the word
/// is dropped when it is below `(next_random & 0xFFFF) / 65536`.
pub fn reference_keep_threshold(count: u64, sample: f32, total: u64) -> f32 {
    let sn = sample * total as f32;
    let r1 = count as f32 / sn;
    (((r1 as f64).sqrt() + 1.0) * sn as f64 / count as f64) as f32
}

/// The soft window: with a draw `b` in `0..window`, the context of the target at `pos` is the
/// positions within `window − b` of it (the effective window is uniform in `1..=window`).
#[inline]
pub fn context_range(pos: usize, len: usize, window: usize, b: usize) -> (usize, usize) {
    let reach = window - b;
    (pos.saturating_sub(reach), (pos + reach + 1).min(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lcg_matches_word2vec_c() {
        let mut r = Lcg(1);
        assert_eq!(r.advance(), 25_214_903_928);
        assert_eq!(
            r.advance(),
            25_214_903_928u64
                .wrapping_mul(25_214_903_917)
                .wrapping_add(11)
        );
    }

    #[test]
    fn sigmoid_table_is_close_to_sigmoid() {
        let t = SigmoidTable::new();
        for i in -599..600 {
            let x = i as f32 / 100.0;
            let s = 1.0 / (1.0 + (-x).exp());
            assert!((t.fast(x) - s).abs() < 0.004, "fast σ({x})");
            // The reference index's factor of 83 shifts the argument by up to 0.02·(x + 6).
            assert!((t.reference(x) - s).abs() < 0.02, "reference σ({x})");
        }
        assert_eq!(t.reference(0.0), t.table[498]);
        assert_eq!(t.fast(0.0), t.table[500]);
    }

    #[test]
    fn fast_sigmoid_index_is_the_usize_conversions() {
        // The index through i32 and a clamp is `as usize` and a min: on a fine grid over
        // [−6.01, 6.01], on the 64 floats around each bin's edge, and on far and special values.
        let t = SigmoidTable::new();
        const SCALE: f32 = EXP_TABLE_SIZE as f32 / (2.0 * MAX_EXP);
        let old = |f: f32| t.table[(((f + MAX_EXP) * SCALE) as usize).min(EXP_TABLE_SIZE)];
        for i in 0..1_000_000 {
            let f = -6.01 + 12.02 * i as f32 / 1e6;
            assert_eq!(t.fast(f).to_bits(), old(f).to_bits(), "{f}");
        }
        for k in 0..=EXP_TABLE_SIZE {
            let (mut up, mut down) = (k as f32 / SCALE - MAX_EXP, k as f32 / SCALE - MAX_EXP);
            for _ in 0..32 {
                assert_eq!(t.fast(up).to_bits(), old(up).to_bits(), "{up}");
                assert_eq!(t.fast(down).to_bits(), old(down).to_bits(), "{down}");
                (up, down) = (up.next_up(), down.next_down());
            }
        }
        for f in [
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            1e30,
            -1e30,
            3e9,
            -0.0,
            -7.0,
        ] {
            assert_eq!(t.fast(f).to_bits(), old(f).to_bits(), "{f}");
        }
    }

    #[test]
    fn reference_unigram_table_follows_counts_pow_075() {
        let counts = [0u64, 100, 50, 10, 1];
        let n = 1_000_000;
        let table = reference_unigram_table(&counts, n);
        let z: f64 = counts.iter().map(|&c| (c as f64).powf(0.75)).sum();
        for (w, &c) in counts.iter().enumerate() {
            let share = table.iter().filter(|&&t| t as usize == w).count() as f64 / n as f64;
            let expect = (c as f64).powf(0.75) / z;
            // Each word's share is exact up to one slot (word2vec.c's off-by-one included).
            assert!(
                (share - expect).abs() <= 2.0 / n as f64 + 1e-12,
                "word {w}: {share} vs {expect}"
            );
        }
        assert!(table.windows(2).all(|p| p[0] <= p[1]));
    }

    #[test]
    fn alias_table_is_exact() {
        let w = [0.0, 5.0, 1.0, 3.0, 0.5, 0.0, 7.25];
        let t = AliasTable::new(&w);
        let total: f64 = w.iter().sum();
        for (p, wi) in t.probabilities().iter().zip(w) {
            assert!((p - wi / total).abs() < 1e-8, "{p} vs {}", wi / total);
        }
        let mut rng = neurite_tensor::Rng::new(3);
        for _ in 0..10_000 {
            let s = t.sample(rng.next_u64());
            assert!(s != 0 && s != 5, "zero-weight index {s} drawn");
        }
        let u = AliasTable::unigram(&[9, 16, 1]);
        let p = u.probabilities();
        assert_eq!(p[0], 0.0);
        assert!((p[1] / p[2] - 8.0).abs() < 1e-6);
    }

    #[test]
    fn sub_sampling_formula() {
        let total = 1_000_000;
        let sample = 1e-3;
        let sn = 1000.0;
        for count in [1u64, 10, 1000, 5000, 100_000] {
            let f = count as f64;
            let p = keep_probability(count, sample, total);
            let expect = (((f / sn).sqrt() + 1.0) * sn / f).min(1.0);
            assert_eq!(p, expect);
            let r = reference_keep_threshold(count, sample as f32, total) as f64;
            assert!((r.min(1.0) - p).abs() < 1e-5);
        }
        // Words rarer than about 2.6·s·N are always kept; frequent ones are thinned.
        assert_eq!(keep_probability(1000, sample, total), 1.0);
        assert!((keep_probability(100_000, sample, total) - 0.11).abs() < 1e-12);
        assert_eq!(keep_probability(7, 0.0, total), 1.0);
    }

    #[test]
    fn soft_window_distribution_is_exact() {
        // For each draw b in 0..window the context reaches window − b; with b uniform, the
        // context at distance d is used with probability exactly (window − d + 1) / window.
        let window = 5;
        let mut used = [0usize; 6];
        for b in 0..window {
            let (lo, hi) = context_range(10, 100, window, b);
            assert_eq!((lo, hi), (10 - (window - b), 10 + (window - b) + 1));
            for c in lo..hi {
                used[c.abs_diff(10)] += 1;
            }
        }
        for (d, &u) in used.iter().enumerate().skip(1) {
            assert_eq!(u, 2 * (window - d + 1), "distance {d}");
        }
        // word2vec.c's draw, next_random % window, over the generator: uniform within 1%.
        let mut rng = Lcg(7);
        let mut hist = [0usize; 5];
        for _ in 0..100_000 {
            hist[(rng.advance() % window as u64) as usize] += 1;
        }
        for h in hist {
            assert!((h as f64 / 20_000.0 - 1.0).abs() < 0.02, "{hist:?}");
        }
        // Clipped at sentence ends.
        assert_eq!(context_range(1, 3, 5, 0), (0, 3));
    }
}

//! The Huffman tree of hierarchical softmax, built as word2vec.c's CreateBinaryTree builds it
//! (two queues over the frequency-sorted vocabulary, the same tie rules), so that codes and
//! inner-node indices match the original's exactly.
//!
//! A word's path from the root is a list of inner nodes (`points`, rows of the output matrix
//! `syn1`, `0..vocab_size − 1`) and a bit per step (`codes`): the probability of the word is
//! Π σ((1 − 2·code) · h·v'_point).

/// Huffman codes and paths of every word, stored flat.
#[derive(Clone, Debug)]
pub struct HuffmanTree {
    /// Start of each word's path in `codes`/`points`; `offsets[w + 1] − offsets[w]` is its length.
    offsets: Vec<usize>,
    codes: Vec<u8>,
    points: Vec<u32>,
}

impl HuffmanTree {
    /// The tree for counts sorted from most to least frequent (as a [`crate::Vocabulary`] is).
    /// Needs at least two words.
    pub fn new(counts: &[u64]) -> Self {
        let v = counts.len();
        assert!(v >= 2, "a Huffman tree needs two words");
        let mut count = vec![0u64; 2 * v];
        count[..v].copy_from_slice(counts);
        for c in &mut count[v..] {
            *c = 1_000_000_000_000_000;
        }
        let mut binary = vec![0u8; 2 * v];
        let mut parent = vec![0usize; 2 * v];
        // pos1 walks the leaves from the rarest up; pos2 walks the inner nodes in creation order.
        let mut pos1 = v as isize - 1;
        let mut pos2 = v;
        let pick = |count: &[u64], pos1: &mut isize, pos2: &mut usize| -> usize {
            if *pos1 >= 0 && count[*pos1 as usize] < count[*pos2] {
                *pos1 -= 1;
                (*pos1 + 1) as usize
            } else {
                *pos2 += 1;
                *pos2 - 1
            }
        };
        for a in 0..v - 1 {
            let min1 = pick(&count, &mut pos1, &mut pos2);
            let min2 = pick(&count, &mut pos1, &mut pos2);
            count[v + a] = count[min1] + count[min2];
            parent[min1] = v + a;
            parent[min2] = v + a;
            binary[min2] = 1;
        }
        let root = 2 * v - 2;
        let mut offsets = Vec::with_capacity(v + 1);
        let mut codes = Vec::new();
        let mut points = Vec::new();
        let mut path_codes = Vec::new();
        let mut path_nodes = Vec::new();
        offsets.push(0);
        for w in 0..v {
            path_codes.clear();
            path_nodes.clear();
            let mut b = w;
            while b != root {
                path_codes.push(binary[b]);
                b = parent[b];
                path_nodes.push(b - v);
            }
            // Root first: reverse the leaf-to-root walk.
            codes.extend(path_codes.iter().rev());
            points.extend(path_nodes.iter().rev().map(|&p| p as u32));
            offsets.push(codes.len());
        }
        HuffmanTree {
            offsets,
            codes,
            points,
        }
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Always false (a tree has at least two words).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bits of word `w`'s code, root first.
    #[inline]
    pub fn code(&self, w: usize) -> &[u8] {
        &self.codes[self.offsets[w]..self.offsets[w + 1]]
    }

    /// The inner nodes on word `w`'s path (rows of `syn1`), root first.
    #[inline]
    pub fn points(&self, w: usize) -> &[u32] {
        &self.points[self.offsets[w]..self.offsets[w + 1]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    /// Total cost Σ count·depth of an optimal prefix code, by the textbook heap algorithm.
    fn optimal_cost(counts: &[u64]) -> u64 {
        let mut heap: BinaryHeap<Reverse<u64>> = counts.iter().map(|&c| Reverse(c)).collect();
        let mut cost = 0;
        while heap.len() > 1 {
            let Reverse(a) = heap.pop().unwrap();
            let Reverse(b) = heap.pop().unwrap();
            cost += a + b;
            heap.push(Reverse(a + b));
        }
        cost
    }

    fn check(counts: &[u64]) {
        let t = HuffmanTree::new(counts);
        let v = counts.len();
        let codes: Vec<&[u8]> = (0..v).map(|w| t.code(w)).collect();
        // Prefix-free, and the Kraft sum is exactly 1 (a full binary tree).
        for i in 0..v {
            for j in 0..v {
                if i != j {
                    assert!(!codes[j].starts_with(codes[i]), "{i} is a prefix of {j}");
                }
            }
        }
        let kraft: f64 = codes.iter().map(|c| 0.5f64.powi(c.len() as i32)).sum();
        assert!((kraft - 1.0).abs() < 1e-9);
        // Optimal.
        let cost: u64 = (0..v).map(|w| counts[w] * t.code(w).len() as u64).sum();
        assert_eq!(cost, optimal_cost(counts));
        // Paths start at the root (inner node v − 2) and stay among the inner nodes; a
        // common prefix of codes means a common prefix of paths.
        for w in 0..v {
            assert_eq!(t.points(w)[0] as usize, v - 2);
            assert!(t.points(w).iter().all(|&p| (p as usize) < v - 1));
            assert_eq!(t.points(w).len(), t.code(w).len());
        }
    }

    #[test]
    fn small_trees() {
        check(&[1, 1]);
        check(&[5, 3, 2, 1]);
        check(&[10, 10, 10, 10, 10]);
        let t = HuffmanTree::new(&[5, 3, 2, 1]);
        // word2vec.c's tree for these counts: 5 → "0", 3 → "11", 2 → "101", 1 → "100".
        assert_eq!(t.code(0), [0]);
        assert_eq!(t.code(1), [1, 1]);
        assert_eq!(t.code(2), [1, 0, 1]);
        assert_eq!(t.code(3), [1, 0, 0]);
    }

    proptest! {
        #[test]
        fn huffman_properties(mut counts in proptest::collection::vec(1u64..1000, 2..60)) {
            counts.sort_unstable_by(|a, b| b.cmp(a));
            check(&counts);
        }
    }
}

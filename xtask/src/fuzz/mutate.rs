//! The fuzzer's deterministic mutator: input `i` of a target under a seed is a pure function
//! of the three (SplitMix64 seeded from them), made from the target's seed files.

use std::io::Write;

use super::targets::{Kind, Target};

/// SplitMix64: the mutator's generator (the input depends only on its seed).
pub(super) struct Mix(u64);

impl Mix {
    pub(super) fn new(seed: u64, target: &str, iteration: u64) -> Self {
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for b in target.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
        Mix(seed ^ h.rotate_left(17) ^ iteration.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub(super) fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    pub(super) fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

pub(super) const INTERESTING_BYTES: &[u8] =
    &[0, 1, 0x7f, 0x80, 0xff, b'\n', b'\t', b' ', b'-', b'.', b'e'];
pub(super) const INTERESTING_U64: &[u64] = &[
    0,
    1,
    2,
    255,
    256,
    65_535,
    65_536,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    1 << 40,
    0x7fff_ffff_ffff_ffff,
    0xffff_ffff_ffff_ffff,
];
pub(super) const INTERESTING_TEXT: &[&str] = &[
    "0",
    "-1",
    "1",
    "2",
    "-0",
    "1e30",
    "-1e30",
    "1e-45",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "4294967296",
    "1048576",
    "1000000000",
    "1000000000000",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "0x10",
    "1.5",
    "",
    " ",
    "\u{e9}t\u{e9}",
    "\u{fffd}",
];

/// One mutation of `data` in place; `other` is another seed for splices.
pub(super) fn mutate_once(m: &mut Mix, data: &mut Vec<u8>, other: &[u8]) {
    let len = data.len();
    match m.below(14) {
        12 | 13 => {
            // A number of the text (a header field, a count, a value) replaced by an
            // interesting one.
            let scan = &data[..len.min(1 << 12)];
            let mut spans = Vec::new();
            let mut i = 0;
            while i < scan.len() {
                if scan[i].is_ascii_digit() {
                    let s = i;
                    while i < scan.len() && (scan[i].is_ascii_digit() || scan[i] == b'.') {
                        i += 1;
                    }
                    spans.push((s, i));
                } else {
                    i += 1;
                }
            }
            if !spans.is_empty() {
                let (s, e) = spans[m.below(spans.len())];
                let v = INTERESTING_TEXT[m.below(INTERESTING_TEXT.len())].as_bytes();
                data.splice(s..e, v.iter().copied());
            }
        }
        0 if len > 0 => {
            let i = m.below(len);
            data[i] ^= 1 << m.below(8);
        }
        1 if len > 0 => {
            let i = m.below(len);
            data[i] = INTERESTING_BYTES[m.below(INTERESTING_BYTES.len())];
        }
        2 if len > 0 => {
            let i = m.below(len);
            data[i] = m.next() as u8;
        }
        3 => {
            // An interesting integer, 1/2/4/8 bytes, either endianness.
            let v = INTERESTING_U64[m.below(INTERESTING_U64.len())];
            let width = [1, 2, 4, 8][m.below(4)];
            let bytes = if m.chance(2) {
                v.to_be_bytes()[8 - width..].to_vec()
            } else {
                v.to_le_bytes()[..width].to_vec()
            };
            let at = m.below(len + 1);
            let end = (at + width).min(len);
            data.splice(at..end, bytes);
        }
        4 => {
            // A number or word into text: replace the token at a random position.
            let s = INTERESTING_TEXT[m.below(INTERESTING_TEXT.len())].as_bytes();
            let at = m.below(len + 1);
            let start = data[..at]
                .iter()
                .rposition(|b| b.is_ascii_whitespace())
                .map_or(0, |p| p + 1);
            let end = data[at..]
                .iter()
                .position(|b| b.is_ascii_whitespace())
                .map_or(len, |p| at + p);
            data.splice(start..end, s.iter().copied());
        }
        5 if len > 0 => {
            let at = m.below(len);
            let n = 1 + m.below((len - at).min(64));
            data.drain(at..at + n);
        }
        6 => {
            let at = m.below(len + 1);
            let n = 1 + m.below(16);
            let bytes: Vec<u8> = (0..n).map(|_| m.next() as u8).collect();
            data.splice(at..at, bytes);
        }
        7 if len > 0 => {
            // Duplicate a range (repeated lines, records, tokens).
            let at = m.below(len);
            let n = 1 + m.below((len - at).min(256));
            let copy = data[at..at + n].to_vec();
            let to = m.below(len + 1);
            data.splice(to..to, copy);
        }
        8 => {
            let keep = m.below(len + 1);
            data.truncate(keep);
        }
        9 if !other.is_empty() => {
            // Splice: a head of this seed and a tail of another.
            let cut = m.below(len + 1);
            let from = m.below(other.len());
            data.truncate(cut);
            data.extend_from_slice(&other[from..]);
        }
        10 if len > 0 => {
            // A big block of one byte (long tokens, long lines, runs of zeros).
            let at = m.below(len);
            let n = 1 << (4 + m.below(12));
            let b = INTERESTING_BYTES[m.below(INTERESTING_BYTES.len())];
            data.splice(at..at, std::iter::repeat_n(b, n));
        }
        _ => {
            if len > 0 {
                let i = m.below(len);
                data[i] = data[i].wrapping_add(1 + m.below(3) as u8);
            }
        }
    }
}

pub(super) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

/// Input `iteration` of `target` under `seed`.
pub(super) fn make_input(seed: u64, target: &Target, seeds: &[Vec<u8>], iteration: u64) -> Vec<u8> {
    let mut m = Mix::new(seed, target.name, iteration);
    if target.kind == Kind::Cli {
        return mutate_args(&mut m, seeds);
    }
    let pick = m.below(seeds.len());
    let other = &seeds[m.below(seeds.len())];
    let mut data = seeds[pick].clone();
    let gz_body = target.gz && m.chance(2);
    if gz_body {
        data = gunzip(&data);
    }
    let rounds = 1 + m.below(8);
    for _ in 0..rounds {
        mutate_once(&mut m, &mut data, other);
    }
    if gz_body {
        data = gzip(&data);
    }
    data
}

/// How many bytes `data` inflates to as gzip (0 when it is not gzip), counting at most `cap`.
pub(super) fn gunzipped_len(data: &[u8], cap: u64) -> usize {
    use std::io::Read;
    if !data.starts_with(&[0x1f, 0x8b]) {
        return 0;
    }
    // A truncated or corrupt stream counts what inflated before the error.
    let mut r = flate2::read::MultiGzDecoder::new(data).take(cap);
    let mut buf = vec![0u8; 1 << 16];
    let mut n = 0;
    while let Ok(k @ 1..) = r.read(&mut buf) {
        n += k;
    }
    n
}

pub(super) fn gunzip(data: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    let _ = flate2::read::MultiGzDecoder::new(data).read_to_end(&mut out);
    out
}

/// Command lines are NUL-separated arguments; mutations work on whole arguments (an
/// interesting value in place of one, removal, duplication, swaps, non-UTF-8 bytes) and
/// sometimes on the bytes of one.
pub(super) fn mutate_args(m: &mut Mix, seeds: &[Vec<u8>]) -> Vec<u8> {
    let seed = &seeds[m.below(seeds.len())];
    let mut args: Vec<Vec<u8>> = seed.split(|&b| b == 0).map(<[u8]>::to_vec).collect();
    let rounds = 1 + m.below(4);
    for _ in 0..rounds {
        let n = args.len();
        match m.below(7) {
            0 | 1 if n > 0 => {
                let i = m.below(n);
                args[i] = INTERESTING_TEXT[m.below(INTERESTING_TEXT.len())]
                    .as_bytes()
                    .to_vec();
            }
            2 if n > 0 => {
                args.remove(m.below(n));
            }
            3 if n > 0 => {
                let i = m.below(n);
                let a = args[i].clone();
                args.insert(m.below(n + 1), a);
            }
            4 if n > 1 => {
                let (i, j) = (m.below(n), m.below(n));
                args.swap(i, j);
            }
            5 if n > 0 => {
                let i = m.below(n);
                args[i] = vec![0xff, 0xfe, b'x', 0xe9];
            }
            _ if n > 0 => {
                let i = m.below(n);
                let mut a = std::mem::take(&mut args[i]);
                mutate_once(m, &mut a, &[]);
                args[i] = a;
            }
            _ => {}
        }
    }
    // Keep every path inside the scratch directory: no separators, no NUL.
    for a in &mut args {
        for b in a.iter_mut() {
            if *b == b'/' || *b == 0 {
                *b = b'_';
            }
        }
        if a.starts_with(b"..") {
            a[0] = b'_';
        }
    }
    args.join(&0u8)
}

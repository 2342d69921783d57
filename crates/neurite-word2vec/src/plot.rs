//! A 2-D picture of chosen words: principal component analysis of their vectors (the two
//! directions of largest variance, by power iteration with deflation) drawn to SVG.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};
use crate::io::write_atomically;
use crate::vectors::KeyedVectors;

/// Projects `rows` (each of length `dim`) on their first `k` principal components:
/// returns `[rows.len(), k]` coordinates, components in decreasing order of variance.
pub fn pca(rows: &[&[f32]], k: usize) -> Vec<Vec<f64>> {
    let n = rows.len();
    let dim = rows.first().map_or(0, |r| r.len());
    let mut mean = vec![0.0f64; dim];
    for r in rows {
        for (m, &x) in mean.iter_mut().zip(*r) {
            *m += x as f64 / n as f64;
        }
    }
    // Centered data X [n, dim].
    let x: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| r.iter().zip(&mean).map(|(&v, m)| v as f64 - m).collect())
        .collect();
    let mut components: Vec<Vec<f64>> = Vec::new();
    for c in 0..k.min(dim) {
        // Deterministic start, not orthogonal to anything in particular.
        let mut v: Vec<f64> = (0..dim)
            .map(|j| 1.0 + ((j * 7 + c * 13) % 11) as f64 / 10.0)
            .collect();
        for _ in 0..500 {
            // v ← Xᵀ X v, minus the found components (deflation).
            let xv: Vec<f64> = x.iter().map(|row| dot(row, &v)).collect();
            let mut w = vec![0.0; dim];
            for (row, &s) in x.iter().zip(&xv) {
                for (wj, rj) in w.iter_mut().zip(row) {
                    *wj += s * rj;
                }
            }
            for p in &components {
                let d = dot(&w, p);
                for (wj, pj) in w.iter_mut().zip(p) {
                    *wj -= d * pj;
                }
            }
            let norm = dot(&w, &w).sqrt();
            if norm == 0.0 {
                break;
            }
            v = w.into_iter().map(|wj| wj / norm).collect();
        }
        components.push(v);
    }
    x.iter()
        .map(|row| components.iter().map(|p| dot(row, p)).collect())
        .collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An SVG of `words` placed by the first two principal components of their vectors.
pub fn pca_svg(kv: &KeyedVectors, words: &[&str]) -> Result<String> {
    if words.len() < 2 {
        return Err(Error::config(
            "words",
            words.len(),
            "at least two words to plot",
        ));
    }
    let rows: Vec<&[f32]> = words
        .iter()
        .map(|w| {
            kv.vector(w)
                .ok_or_else(|| Error::UnknownWord(w.to_string()))
        })
        .collect::<Result<_>>()?;
    let xy = pca(&rows, 2);
    let (w, h, margin) = (800.0, 600.0, 60.0);
    let range = |k: usize| {
        let lo = xy
            .iter()
            .map(|p| p.get(k).copied().unwrap_or(0.0))
            .fold(f64::INFINITY, f64::min);
        let hi = xy
            .iter()
            .map(|p| p.get(k).copied().unwrap_or(0.0))
            .fold(f64::NEG_INFINITY, f64::max);
        (lo, if hi > lo { hi } else { lo + 1.0 })
    };
    let ((x0, x1), (y0, y1)) = (range(0), range(1));
    let mut svg = Vec::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"30\" font-family=\"sans-serif\" font-size=\"18\" text-anchor=\"middle\">word vectors: first two principal components</text>",
        w / 2.0
    );
    for (word, p) in words.iter().zip(&xy) {
        let px = margin + (p.first().copied().unwrap_or(0.0) - x0) / (x1 - x0) * (w - 2.0 * margin);
        let py =
            h - margin - (p.get(1).copied().unwrap_or(0.0) - y0) / (y1 - y0) * (h - 2.0 * margin);
        let _ = writeln!(
            svg,
            "<circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"4\" fill=\"steelblue\"/>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" font-family=\"sans-serif\" font-size=\"14\">{}</text>",
            px + 6.0,
            py - 6.0,
            escape(word)
        );
    }
    svg.extend_from_slice(b"</svg>\n");
    Ok(String::from_utf8(svg).expect("ASCII and escaped words")) // ok: ASCII and escaped words
}

/// Writes [`pca_svg`] to `path`.
pub fn save_pca_svg(kv: &KeyedVectors, words: &[&str], path: impl AsRef<Path>) -> Result<()> {
    let svg = pca_svg(kv, words)?;
    write_atomically(path.as_ref(), |w| w.write_all(svg.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pca_finds_the_direction_of_largest_variance() {
        // Points spread along (1, 1, 0), each twice, at ±0.1 along (0, 0, 1).
        let pts: Vec<Vec<f32>> = (0..10)
            .map(|i| {
                let t = (i / 2) as f32 - 2.0;
                vec![t, t, if i % 2 == 0 { 0.1 } else { -0.1 }]
            })
            .collect();
        let rows: Vec<&[f32]> = pts.iter().map(|p| p.as_slice()).collect();
        let xy = pca(&rows, 2);
        for (i, p) in xy.iter().enumerate() {
            let t = (i / 2) as f64 - 2.0;
            assert!((p[0].abs() - t.abs() * 2f64.sqrt()).abs() < 1e-6);
            assert!((p[1].abs() - 0.1).abs() < 1e-6);
        }
    }

    #[test]
    fn svg_has_every_word() {
        let kv = KeyedVectors::new(
            vec!["a<b".into(), "c".into(), "d".into()],
            2,
            vec![0.0, 1.0, 1.0, 0.0, 0.5, 0.5],
        )
        .unwrap();
        let svg = pca_svg(&kv, &["a<b", "c", "d"]).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("a&lt;b") && svg.contains(">c<") && svg.contains(">d<"));
        assert!(matches!(
            pca_svg(&kv, &["a<b", "zzz"]),
            Err(Error::UnknownWord(_))
        ));
        assert!(pca_svg(&kv, &["c"]).is_err());
    }
}

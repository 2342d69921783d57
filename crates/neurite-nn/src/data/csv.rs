//! CSV loading: numeric tables, comma- or whitespace-separated, optionally gzipped.

use std::path::Path;

use neurite_tensor::{Float, Tensor};

use super::read_maybe_gz;
use crate::error::{NnError, Result};

/// How fields are separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Delimiter {
    /// Commas (the default).
    #[default]
    Comma,
    /// Any run of spaces or tabs.
    Whitespace,
    /// Another single character (e.g. ';' or '\t').
    Char(char),
}

/// Options of [`read_csv`].
#[derive(Debug, Clone, Default)]
pub struct CsvOptions {
    /// Field separator.
    pub delimiter: Delimiter,
    /// Lines to skip at the top (headers).
    pub skip_rows: usize,
}

/// Reads a numeric table [rows, columns] from a CSV file (gzipped or not). Blank lines are
/// skipped; every row must have the same number of fields and every field must parse as a
/// number — otherwise an [`NnError::Parse`] names the file, the line and the field. NaN fields
/// are read as NaN (use [`crate::data::find_non_finite`] or the [`crate::data::Dataset`]
/// constructors to reject them).
pub fn read_csv<T: Float>(path: impl AsRef<Path>, opts: &CsvOptions) -> Result<Tensor<T>> {
    let path = path.as_ref();
    let bytes = read_maybe_gz(path)?;
    let text = String::from_utf8(bytes).map_err(|e| NnError::Parse {
        path: path.to_path_buf(),
        location: format!("offset {}", e.utf8_error().valid_up_to()),
        message: "not UTF-8 text".into(),
    })?;
    let mut data = Vec::new();
    let mut cols = None;
    let mut rows = 0;
    for (i, line) in text.lines().enumerate().skip(opts.skip_rows) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let err = |message: String| NnError::Parse {
            path: path.to_path_buf(),
            location: format!("line {}", i + 1),
            message,
        };
        let fields: Vec<&str> = match opts.delimiter {
            Delimiter::Comma => line.split(',').map(str::trim).collect(),
            Delimiter::Whitespace => line.split_whitespace().collect(),
            Delimiter::Char(c) => line.split(c).map(str::trim).collect(),
        };
        match cols {
            None => cols = Some(fields.len()),
            Some(n) if n != fields.len() => {
                return Err(err(format!(
                    "expected {n} fields (as on the first data line), got {}",
                    fields.len()
                )))
            }
            _ => {}
        }
        for (j, f) in fields.iter().enumerate() {
            let v: f64 = f
                .parse()
                .map_err(|_| err(format!("field {} `{f}` is not a number", j + 1)))?;
            data.push(T::from_f64(v));
        }
        rows += 1;
    }
    let cols = cols.ok_or_else(|| NnError::Parse {
        path: path.to_path_buf(),
        location: format!("line {}", opts.skip_rows.saturating_add(1)),
        message: "no data rows".into(),
    })?;
    Ok(Tensor::from_vec(data, &[rows, cols])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("neurite-nn-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn reads_comma_and_whitespace_tables() {
        let p = tmp("a.csv", "n,f\n1,2,3\n\n4, 5 ,6\n");
        let t = read_csv::<f64>(
            &p,
            &CsvOptions {
                skip_rows: 1,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(t.shape(), &[2, 3]);
        assert_eq!(t.to_vec(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let p = tmp("b.txt", "1  2\t3\n4 5 6\n");
        let t = read_csv::<f32>(
            &p,
            &CsvOptions {
                delimiter: Delimiter::Whitespace,
                skip_rows: 0,
            },
        )
        .unwrap();
        assert_eq!(t.shape(), &[2, 3]);
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let p = tmp("c.csv", "1,2\n3,x\n");
        let e = read_csv::<f64>(&p, &CsvOptions::default()).unwrap_err();
        let s = e.to_string();
        assert!(
            s.contains("c.csv") && s.contains("line 2") && s.contains("field 2"),
            "{s}"
        );
        let p = tmp("d.csv", "1,2\n3\n");
        let s = read_csv::<f64>(&p, &CsvOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            s.contains("line 2") && s.contains("expected 2 fields"),
            "{s}"
        );
        let missing = read_csv::<f64>("/nonexistent/neurite.csv", &CsvOptions::default());
        assert!(matches!(missing, Err(NnError::Io { .. })));
        let p = tmp("e.csv", "\n\n");
        assert!(read_csv::<f64>(&p, &CsvOptions::default()).is_err());
        // Skipping every line: "no data rows", the line number saturating (not overflowing).
        let skip_all = CsvOptions {
            skip_rows: usize::MAX,
            ..Default::default()
        };
        let e = read_csv::<f64>(tmp("f.csv", "1,2\n"), &skip_all).unwrap_err();
        assert!(matches!(e, NnError::Parse { .. }), "{e}");
    }
}

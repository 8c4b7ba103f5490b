//! Delimited text files: one example per line, numeric feature columns and one label column.

use super::{check_num_classes, class_count, class_label};
use genviz_core::{Dataset, Error, Result};
use std::path::Path;

/// Which column of a CSV file holds the class label; every other column is a feature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelColumn {
    /// The last column (the usual layout, and genviz's default).
    Last,
    /// The first column.
    First,
    /// The column at this index, counted from 0 (so `Index(0)` is `First`).
    Index(usize),
    /// The column with this name in the header row (the file must have one).
    Name(String),
}

/// How to read a CSV file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// Where the label is.
    pub label_column: LabelColumn,
    /// Whether the first row names the columns; `None` detects it: the first row is a header
    /// when one of its cells is not a number.
    pub has_header: Option<bool>,
    /// Number of classes; `None` takes one more than the largest label found.
    pub num_classes: Option<usize>,
    /// The byte separating cells, `b','` for CSV or `b'\t'` for TSV.
    pub delimiter: u8,
}

impl Default for CsvOptions {
    /// Comma-separated, label in the last column, header detected, classes counted.
    fn default() -> Self {
        CsvOptions {
            label_column: LabelColumn::Last,
            has_header: None,
            num_classes: None,
            delimiter: b',',
        }
    }
}

/// Reads a delimited text file into a [`Dataset`].
///
/// Cells are trimmed of surrounding spaces and blank lines are skipped. Features must be finite
/// numbers; labels must be whole numbers (`2` or `2.0`) in `0..num_classes`.
///
/// # Errors
/// A missing or unreadable file, or any malformed content, with the file, the line and column
/// (both counted from 1) and what was expected.
pub fn read_csv(path: &Path, options: &CsvOptions) -> Result<Dataset> {
    check_num_classes(options.num_classes)?;
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    read_csv_from(file, path, options)
}

/// Reads delimited text from `input` as [`read_csv`] does; `path` only names it in errors
/// (this is what the fuzzer runs on arbitrary bytes).
pub fn read_csv_from(
    input: impl std::io::Read,
    path: &Path,
    options: &CsvOptions,
) -> Result<Dataset> {
    check_num_classes(options.num_classes)?;
    let file = input;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(options.delimiter)
        .trim(csv::Trim::All)
        .from_reader(file);
    let mut records = reader.records();
    let bad = |msg: String| Error::bad_file(path, msg);
    let read_err = |e: csv::Error| bad(format!("cannot read as CSV: {e}"));

    let first = match records.next() {
        Some(record) => record.map_err(read_err)?,
        None => {
            return Err(bad(
                "the file is empty; expected rows of numeric features and a class label".into(),
            ))
        }
    };
    let has_header = options
        .has_header
        .unwrap_or_else(|| first.iter().any(|cell| cell.parse::<f64>().is_err()));
    let first_line = line_of(&first);
    let columns = Columns::new(&first, has_header, &options.label_column)
        .map_err(|msg| bad(format!("line {first_line}: {msg}")))?;

    let mut features = Vec::new();
    let mut labels = Vec::new();
    let data_rows = (!has_header)
        .then_some(Ok(first))
        .into_iter()
        .chain(records);
    for record in data_rows {
        let record = record.map_err(read_err)?;
        let line = line_of(&record);
        let label = columns
            .parse_row(&record, first_line, options.num_classes, &mut features)
            .map_err(|msg| bad(format!("line {line}{msg}")))?;
        labels.push(label);
    }
    if labels.is_empty() {
        return Err(bad(format!(
            "line {first_line} is a header and no data rows follow; expected rows of numbers"
        )));
    }
    let num_classes = class_count(&labels, options.num_classes);
    Dataset::new(features, labels, columns.count - 1, num_classes).map_err(|e| bad(e.to_string()))
}

/// The 1-based line on which a record starts.
fn line_of(record: &csv::StringRecord) -> u64 {
    record.position().map_or(0, |p| p.line())
}

/// The file's column layout, fixed by its first row.
struct Columns {
    count: usize,
    label: usize,
    names: Option<Vec<String>>,
}

impl Columns {
    fn new(
        first: &csv::StringRecord,
        has_header: bool,
        label: &LabelColumn,
    ) -> std::result::Result<Self, String> {
        let count = first.len();
        if count < 2 {
            return Err(format!(
                "found {count} column; expected at least one feature column and a label column \
                 (is the delimiter right?)"
            ));
        }
        let names: Option<Vec<String>> =
            has_header.then(|| first.iter().map(str::to_string).collect());
        let label = match label {
            LabelColumn::Last => count - 1,
            LabelColumn::First => 0,
            LabelColumn::Index(i) if *i < count => *i,
            LabelColumn::Index(i) => {
                return Err(format!(
                    "label column index {i} (counted from 0) is past the {count} columns"
                ))
            }
            LabelColumn::Name(name) => match &names {
                None => {
                    return Err(format!(
                        "the label column is named `{name}` but the file has no header row"
                    ))
                }
                Some(names) => names.iter().position(|n| n == name).ok_or_else(|| {
                    format!(
                        "no column named `{name}` in the header (columns: {})",
                        names.join(", ")
                    )
                })?,
            },
        };
        Ok(Columns {
            count,
            label,
            names,
        })
    }

    /// "column 3" or "column 3 (`width`)", counted from 1.
    fn describe(&self, index: usize) -> String {
        match self.names.as_ref().and_then(|n| n.get(index)) {
            Some(name) => format!("column {} (`{name}`)", index + 1),
            None => format!("column {}", index + 1),
        }
    }

    /// Appends the row's features to `features` and returns its label; an error message starts
    /// with the column, ready to follow "line N".
    fn parse_row(
        &self,
        record: &csv::StringRecord,
        first_line: u64,
        num_classes: Option<usize>,
        features: &mut Vec<f32>,
    ) -> std::result::Result<u32, String> {
        if record.len() != self.count {
            return Err(format!(
                ": found {} columns, expected {} as on line {first_line}",
                record.len(),
                self.count
            ));
        }
        let mut label = 0;
        for (j, cell) in record.iter().enumerate() {
            let at = |msg: String| format!(", {}: {msg}", self.describe(j));
            if j == self.label {
                label = parse_label(cell)
                    .and_then(|v| class_label(v, num_classes))
                    .map_err(at)?;
            } else {
                features.push(parse_feature(cell).map_err(at)?);
            }
        }
        Ok(label)
    }
}

fn found(cell: &str) -> String {
    if cell.is_empty() {
        "an empty cell".into()
    } else {
        format!("`{cell}`")
    }
}

fn parse_feature(cell: &str) -> std::result::Result<f32, String> {
    let value: f64 = cell
        .parse()
        .map_err(|_| format!("expected a number, found {}", found(cell)))?;
    if !value.is_finite() {
        return Err(format!("found {}; expected a finite number", found(cell)));
    }
    let narrow = value as f32;
    if !narrow.is_finite() {
        return Err(format!("{cell} is too large for a 32-bit float"));
    }
    Ok(narrow)
}

fn parse_label(cell: &str) -> std::result::Result<i64, String> {
    if let Ok(v) = cell.parse::<i64>() {
        return Ok(v);
    }
    match cell.parse::<f64>() {
        Ok(v) if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15 => Ok(v as i64),
        _ => Err(format!(
            "expected a whole-number class label, found {}",
            found(cell)
        )),
    }
}

#[cfg(test)]
mod tests;

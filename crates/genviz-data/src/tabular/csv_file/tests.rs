use super::*;
use std::path::PathBuf;

/// Writes `text` to `name` in a fresh folder and returns the folder (kept alive) and the path.
fn file(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn read(text: &str, options: &CsvOptions) -> Result<Dataset> {
    let (_dir, path) = file("points.csv", text);
    read_csv(&path, options)
}

/// Reads `text` with default options and asserts that it fails with a message naming the file
/// and containing every one of `needles`.
fn rejects(text: &str, needles: &[&str]) {
    rejects_with(text, &CsvOptions::default(), needles)
}

/// [`rejects`] with `options`.
fn rejects_with(text: &str, options: &CsvOptions, needles: &[&str]) {
    let msg = read(text, options).unwrap_err().to_string();
    assert!(msg.contains("points.csv"), "no file name in: {msg}");
    for needle in needles {
        assert!(msg.contains(needle), "{needle:?} not in: {msg}");
    }
}

#[test]
fn reads_plain_numbers_with_label_last() {
    let d = read("1,2,0\n3.5, -4 ,1\n\n5e-1,6,1.0\n", &CsvOptions::default()).unwrap();
    assert_eq!((d.len(), d.dim(), d.num_classes()), (3, 2, 2));
    assert_eq!(d.features(), &[1.0, 2.0, 3.5, -4.0, 0.5, 6.0]);
    assert_eq!(d.labels(), &[0, 1, 1]);
}

#[test]
fn header_detected_and_label_found_by_name() {
    let options = CsvOptions {
        label_column: LabelColumn::Name("species".into()),
        ..CsvOptions::default()
    };
    let d = read("width,species,height\n1,2,3\n4,0,6\n", &options).unwrap();
    assert_eq!(d.features(), &[1.0, 3.0, 4.0, 6.0]);
    assert_eq!(d.labels(), &[2, 0]);
    assert_eq!(d.num_classes(), 3);

    let first = CsvOptions {
        label_column: LabelColumn::First,
        num_classes: Some(4),
        delimiter: b'\t',
        has_header: Some(false),
    };
    let d = read("1\t2\t3\n0\t5\t6\n", &first).unwrap();
    assert_eq!((d.labels(), d.num_classes()), (&[1, 0][..], 4));
    assert_eq!(d.features(), &[2.0, 3.0, 5.0, 6.0]);

    let index = CsvOptions {
        label_column: LabelColumn::Index(1),
        ..CsvOptions::default()
    };
    assert_eq!(read("7,1,8\n", &index).unwrap().features(), &[7.0, 8.0]);
}

#[test]
fn ragged_row_names_line() {
    rejects(
        "1,2,0\n3,4,1\n5,1\n",
        &["line 3", "found 2 columns, expected 3"],
    );
}

#[test]
fn non_numeric_cell_names_line_and_column() {
    rejects(
        "x,y,label\n1,2,0\n3,abc,1\n",
        &["line 3, column 2 (`y`)", "expected a number, found `abc`"],
    );
    rejects(
        "1,2,0\n,4,1\n",
        &["line 2, column 1: expected a number, found an empty cell"],
    );
}

#[test]
fn header_detection_can_be_overridden() {
    let options = CsvOptions {
        has_header: Some(false),
        ..CsvOptions::default()
    };
    rejects_with(
        "a,b,c\n1,2,0\n",
        &options,
        &["line 1, column 1: expected a number"],
    );
}

#[test]
fn nan_and_inf_are_rejected() {
    rejects("1,2,0\n1,NaN,1\n", &["line 2, column 2", "finite"]);
    rejects("1,2,0\n1,2,0\n-inf,2,1\n", &["line 3, column 1", "finite"]);
    rejects("1e300,2,0\n", &["line 1, column 1", "32-bit"]);
}

#[test]
fn bad_labels_are_rejected() {
    rejects("1,2,0\n3,4,-1\n", &["line 2, column 3", "negative"]);
    rejects("1,2,0\n3,4,1.5\n", &["line 2, column 3", "whole-number"]);
    rejects(
        "a,b,label\n1,2,0\n3,4,cat\n",
        &["line 3, column 3 (`label`)"],
    );
    let options = CsvOptions {
        num_classes: Some(2),
        ..CsvOptions::default()
    };
    rejects_with(
        "1,2,0\n3,4,1\n5,6,2\n",
        &options,
        &["line 3, column 3", "out of range for 2"],
    );
}

#[test]
fn empty_and_header_only_files_are_rejected() {
    rejects("", &["empty"]);
    rejects("\n\n", &["empty"]);
    rejects("x,y,label\n", &["line 1", "no data rows"]);
    rejects("1\n2\n", &["line 1", "at least one feature"]);
}

#[test]
fn bad_label_column_choice_is_explained() {
    let by_name = CsvOptions {
        label_column: LabelColumn::Name("y".into()),
        ..CsvOptions::default()
    };
    rejects_with("a,b\n1,0\n", &by_name, &["no column named `y`", "a, b"]);
    rejects_with("1,0\n", &by_name, &["no header"]);
    let index = CsvOptions {
        label_column: LabelColumn::Index(5),
        ..CsvOptions::default()
    };
    rejects_with("1,0\n", &index, &["index 5"]);
}

#[test]
fn missing_file_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.csv");
    let msg = read_csv(&path, &CsvOptions::default())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("absent.csv"), "{msg}");
}

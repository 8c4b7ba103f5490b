//! Reading a user's own labelled data: CSV files, a pair of `.npy` files, or one split of an
//! `.npz` archive.
//!
//! Malformed input is rejected with an error naming the file, the line (counted from 1, as a
//! text editor does) or the array, the column (also counted from 1) and what was expected:
//! ragged rows, non-numeric cells, NaN or infinite features, labels that are negative, not whole
//! numbers or out of range, empty files, mismatched lengths and wrong shapes. Nothing here
//! panics on bad input.

mod arrays;
mod csv_file;

pub use arrays::{
    parse_npy_pair, parse_npz_examples, parse_npz_split, read_npy, read_npz_examples,
    read_npz_split, ShapedDataset, MAX_EXACT_INTEGER,
};
pub use csv_file::{read_csv, read_csv_from, CsvOptions, LabelColumn};

/// Checks one class label: a whole number in `0..num_classes` (any non-negative value fitting a
/// `u32` when the class count is not given). The error text says what was found and expected,
/// for the caller to prefix with the file and position.
fn class_label(value: i64, num_classes: Option<usize>) -> Result<u32, String> {
    if value < 0 {
        return Err(format!(
            "class label {value} is negative; expected a class index 0, 1, 2, ..."
        ));
    }
    if let Some(k) = num_classes {
        if value as u64 >= k as u64 {
            return Err(format!(
                "class label {value} is out of range for {k} classes; expected 0..={}",
                k.saturating_sub(1)
            ));
        }
    }
    u32::try_from(value).map_err(|_| format!("class label {value} is too large"))
}

/// The number of classes: the one given, or one more than the largest label.
fn class_count(labels: &[u32], num_classes: Option<usize>) -> usize {
    num_classes.unwrap_or_else(|| labels.iter().max().map_or(0, |&m| m as usize + 1))
}

/// Rejects `num_classes = Some(0)`, which no label can satisfy.
fn check_num_classes(num_classes: Option<usize>) -> genviz_core::Result<()> {
    match num_classes {
        Some(0) => Err(genviz_core::Error::invalid(
            "num_classes is 0; a data set needs at least one class",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_checked() {
        assert_eq!(class_label(2, Some(3)), Ok(2));
        assert_eq!(class_label(7, None), Ok(7));
        assert!(class_label(-1, None).unwrap_err().contains("negative"));
        assert!(class_label(3, Some(3)).unwrap_err().contains("0..=2"));
        assert!(class_label(i64::MAX, None).is_err());
        assert_eq!(class_count(&[0, 4, 1], None), 5);
        assert_eq!(class_count(&[0, 1], Some(10)), 10);
        assert!(check_num_classes(Some(0)).is_err());
    }
}

//! numpy arrays: a features `.npy` with a labels `.npy`, or the `x_<split>`/`y_<split>` pair of
//! an `.npz` archive (the layout genviz's own `data.npz` uses).

use super::{check_num_classes, class_count, class_label};
use genviz_core::io::{parse_npy_f32, parse_npy_i64, read_npy_f32, read_npy_i64, Npz};
use genviz_core::{Dataset, Error, Result};
use std::path::Path;

/// Where an array came from, for error messages: a file, and the array's name inside an `.npz`.
struct Source<'a> {
    path: &'a Path,
    array: Option<String>,
}

impl Source<'_> {
    fn error(&self, message: String) -> Error {
        match &self.array {
            Some(name) => Error::bad_file(self.path, format!("array `{name}`: {message}")),
            None => Error::bad_file(self.path, message),
        }
    }

    fn describe(&self) -> String {
        match &self.array {
            Some(name) => format!("array `{name}` of {}", self.path.display()),
            None => self.path.display().to_string(),
        }
    }
}

/// Reads features from one `.npy` file and labels from another.
///
/// `features` must be float32 or float64, 2-D `[examples, features]` (1-D means one feature);
/// `labels` must be integers, 1-D (or `[examples, 1]`) with one label per example.
/// `num_classes` defaults to one more than the largest label.
///
/// # Errors
/// Unreadable files, wrong dtypes or shapes, mismatched lengths, non-finite features and
/// labels that are negative or out of range, each naming the file and the element.
pub fn read_npy(features: &Path, labels: &Path, num_classes: Option<usize>) -> Result<Dataset> {
    check_num_classes(num_classes)?;
    let x = read_npy_f32(features)?;
    let y = read_npy_i64(labels)?;
    pair_of(x, features, y, labels, num_classes)
}

/// Builds a data set from the bytes of a features `.npy` and a labels `.npy`, as [`read_npy`]
/// does; the paths only name them in errors (this is what the fuzzer runs on arbitrary bytes).
pub fn parse_npy_pair(
    features: (&[u8], &Path),
    labels: (&[u8], &Path),
    num_classes: Option<usize>,
) -> Result<Dataset> {
    check_num_classes(num_classes)?;
    let x = parse_npy_f32(features.0, features.1)?;
    let y = parse_npy_i64(labels.0, labels.1)?;
    pair_of(x, features.1, y, labels.1, num_classes)
}

fn pair_of(
    x: (Vec<f32>, Vec<usize>),
    features: &Path,
    y: (Vec<i64>, Vec<usize>),
    labels: &Path,
    num_classes: Option<usize>,
) -> Result<Dataset> {
    let x_source = Source {
        path: features,
        array: None,
    };
    let y_source = Source {
        path: labels,
        array: None,
    };
    assemble(x, &x_source, y, &y_source, num_classes)
}

/// Reads split `split` ("train", "test", ...) of an `.npz` archive: features from array
/// `x_<split>` and labels from `y_<split>`, with the same rules as [`read_npy`].
///
/// # Errors
/// As [`read_npy`]; a missing array names the arrays the file does have.
pub fn read_npz_split(path: &Path, split: &str, num_classes: Option<usize>) -> Result<Dataset> {
    check_num_classes(num_classes)?;
    split_of(Npz::open(path)?, path, split, num_classes)
}

/// Reads split `split` of an `.npz` archive held in memory, as [`read_npz_split`] does;
/// `path` only names it in errors (this is what the fuzzer runs on arbitrary bytes).
pub fn parse_npz_split(
    bytes: Vec<u8>,
    path: &Path,
    split: &str,
    num_classes: Option<usize>,
) -> Result<Dataset> {
    check_num_classes(num_classes)?;
    split_of(Npz::from_bytes(bytes, path)?, path, split, num_classes)
}

fn split_of(mut npz: Npz, path: &Path, split: &str, num_classes: Option<usize>) -> Result<Dataset> {
    let (x_name, y_name) = (format!("x_{split}"), format!("y_{split}"));
    let x = npz.f32(&x_name)?;
    let y = npz.i64(&y_name)?;
    let x_source = Source {
        path,
        array: Some(x_name),
    };
    let y_source = Source {
        path,
        array: Some(y_name),
    };
    assemble(x, &x_source, y, &y_source, num_classes)
}

/// A data set read from arrays of any rank, with the shape of one example.
///
/// [`Dataset`] stores examples as flat rows; `example_shape` keeps the rest of the array's
/// shape (`[3, 32, 32]` for images `[N, 3, 32, 32]`, `[T]` for token ids `[N, T]`) so a model
/// can check its input against it.
#[derive(Clone, Debug, PartialEq)]
pub struct ShapedDataset {
    /// The examples, flattened row-major, and their labels.
    pub data: Dataset,
    /// The shape of one example (the array's shape without its first axis; `[1]` for a
    /// 1-D array).
    pub example_shape: Vec<usize>,
    /// Whether the array held integers (token ids), converted exactly to `f32`.
    pub integer: bool,
}

/// The largest integer every `f32` holds exactly (2^24): larger token ids would be rounded.
pub const MAX_EXACT_INTEGER: i64 = 1 << 24;

/// Reads split `split` of an `.npz` archive whose `x_<split>` array may have any rank
/// (`[N, C, H, W]` images, `[N, T]` integer token ids, `[N, D]` features) and any float or
/// integer dtype; labels `y_<split>` as [`read_npz_split`].
///
/// # Errors
/// As [`read_npz_split`]; an `x` array of no rank, no examples, or integers beyond
/// [`MAX_EXACT_INTEGER`] in magnitude.
pub fn read_npz_examples(
    path: &Path,
    split: &str,
    num_classes: Option<usize>,
) -> Result<ShapedDataset> {
    check_num_classes(num_classes)?;
    shaped_split_of(Npz::open(path)?, path, split, num_classes)
}

/// [`read_npz_examples`] on an archive held in memory; `path` only names it in errors.
pub fn parse_npz_examples(
    bytes: Vec<u8>,
    path: &Path,
    split: &str,
    num_classes: Option<usize>,
) -> Result<ShapedDataset> {
    check_num_classes(num_classes)?;
    shaped_split_of(Npz::from_bytes(bytes, path)?, path, split, num_classes)
}

fn shaped_split_of(
    mut npz: Npz,
    path: &Path,
    split: &str,
    num_classes: Option<usize>,
) -> Result<ShapedDataset> {
    let (x_name, y_name) = (format!("x_{split}"), format!("y_{split}"));
    let x_source = Source {
        path,
        array: Some(x_name.clone()),
    };
    let ((values, shape), integer) = match npz.f32(&x_name) {
        Ok(x) => (x, false),
        Err(float_error) => match npz.i64(&x_name) {
            Ok((ints, shape)) => {
                if let Some(i) = ints.iter().position(|v| v.abs() > MAX_EXACT_INTEGER) {
                    return Err(x_source.error(format!(
                        "element {} is {}; integers must lie within +-{MAX_EXACT_INTEGER} to be held exactly",
                        i, ints[i]
                    )));
                }
                ((ints.iter().map(|&v| v as f32).collect(), shape), true)
            }
            Err(_) => {
                return Err(Error::invalid(format!(
                    "{float_error} (integer arrays are read too)"
                )))
            }
        },
    };
    let example_shape = match shape.as_slice() {
        [] => {
            return Err(x_source
                .error("is a scalar; expected an array of examples [examples, ...]".to_string()))
        }
        [_] => vec![1],
        [_, rest @ ..] => rest.to_vec(),
    };
    let n = shape[0];
    let dim: usize = example_shape.iter().product();
    let y = npz.i64(&y_name)?;
    let y_source = Source {
        path,
        array: Some(y_name),
    };
    let data = assemble((values, vec![n, dim]), &x_source, y, &y_source, num_classes)?;
    Ok(ShapedDataset {
        data,
        example_shape,
        integer,
    })
}

/// Checks shapes, values and labels, then builds the data set.
fn assemble(
    (features, x_shape): (Vec<f32>, Vec<usize>),
    x_source: &Source,
    (raw_labels, y_shape): (Vec<i64>, Vec<usize>),
    y_source: &Source,
    num_classes: Option<usize>,
) -> Result<Dataset> {
    let (n, dim) = match x_shape[..] {
        [n] => (n, 1),
        [n, d] => (n, d),
        _ => {
            return Err(x_source.error(format!(
                "expected a 2-D array [examples, features] (or 1-D for one feature), \
                 found shape {x_shape:?}"
            )))
        }
    };
    if n == 0 || dim == 0 {
        return Err(x_source.error(format!(
            "shape {x_shape:?} holds no data; expected at least one example and one feature"
        )));
    }
    if !matches!(y_shape[..], [_] | [_, 1]) {
        return Err(y_source.error(format!(
            "expected a 1-D array of integer labels, found shape {y_shape:?}"
        )));
    }
    if raw_labels.len() != n {
        return Err(y_source.error(format!(
            "has {} labels but {} has {n} examples; expected one label per example",
            raw_labels.len(),
            x_source.describe()
        )));
    }
    if let Some(i) = features.iter().position(|v| !v.is_finite()) {
        return Err(x_source.error(format!(
            "element [{}, {}] is {}; expected a finite number",
            i / dim,
            i % dim,
            features[i]
        )));
    }
    let labels = raw_labels
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            class_label(v, num_classes).map_err(|m| y_source.error(format!("element [{i}]: {m}")))
        })
        .collect::<Result<Vec<u32>>>()?;
    let num_classes = class_count(&labels, num_classes);
    Dataset::new(features, labels, dim, num_classes).map_err(|e| x_source.error(e.to_string()))
}

#[cfg(test)]
mod tests;

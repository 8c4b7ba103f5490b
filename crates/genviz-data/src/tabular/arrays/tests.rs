use super::*;
use genviz_core::io::{write_npy, write_npz, NpyArray};
use std::path::PathBuf;

struct Files {
    _dir: tempfile::TempDir,
    x: PathBuf,
    y: PathBuf,
}

fn npy_pair(x: NpyArray, y: NpyArray) -> Files {
    let dir = tempfile::tempdir().unwrap();
    let (xp, yp) = (dir.path().join("feats.npy"), dir.path().join("labs.npy"));
    write_npy(&xp, &x).unwrap();
    write_npy(&yp, &y).unwrap();
    Files {
        _dir: dir,
        x: xp,
        y: yp,
    }
}

/// Asserts that reading the pair `x`, `y` fails with a message containing every one of `needles`.
fn pair_rejected(x: NpyArray, y: NpyArray, num_classes: Option<usize>, needles: &[&str]) {
    let f = npy_pair(x, y);
    let msg = read_npy(&f.x, &f.y, num_classes).unwrap_err().to_string();
    for needle in needles {
        assert!(msg.contains(needle), "{needle:?} not in: {msg}");
    }
}

/// Writes `arrays` into `data.npz` in a fresh folder and returns the folder (kept alive) and
/// the path.
fn npz_file(arrays: &[(&str, NpyArray)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.npz");
    write_npz(&path, arrays).unwrap();
    (dir, path)
}

#[test]
fn npy_round_trip() {
    let values = vec![0.5f32, -1.0, 2.0, 3.25, 4.0, -5.5];
    let f = npy_pair(
        NpyArray::F32(values.clone(), vec![3, 2]),
        NpyArray::I64(vec![1, 0, 2], vec![3]),
    );
    let d = read_npy(&f.x, &f.y, None).unwrap();
    assert_eq!((d.len(), d.dim(), d.num_classes()), (3, 2, 3));
    assert_eq!(d.features(), &values[..]);
    assert_eq!(d.labels(), &[1, 0, 2]);

    let f = npy_pair(
        NpyArray::F64(vec![1.0, 2.0], vec![2]),
        NpyArray::I64(vec![0, 1], vec![2, 1]),
    );
    let d = read_npy(&f.x, &f.y, Some(5)).unwrap();
    assert_eq!(
        (d.dim(), d.num_classes(), d.features()),
        (1, 5, &[1.0, 2.0][..])
    );
}

#[test]
fn npz_round_trip_by_split() {
    let (_dir, path) = npz_file(&[
        (
            "x_train",
            NpyArray::F32(vec![1.0, 2.0, 3.0, 4.0], vec![2, 2]),
        ),
        ("y_train", NpyArray::I64(vec![0, 1], vec![2])),
        ("x_test", NpyArray::F64(vec![5.0, 6.0], vec![1, 2])),
        ("y_test", NpyArray::I64(vec![1], vec![1])),
    ]);
    let train = read_npz_split(&path, "train", None).unwrap();
    assert_eq!(train.features(), &[1.0, 2.0, 3.0, 4.0]);
    assert_eq!(train.labels(), &[0, 1]);
    let test = read_npz_split(&path, "test", Some(2)).unwrap();
    assert_eq!(
        (test.features(), test.labels()),
        (&[5.0, 6.0][..], &[1][..])
    );
    let msg = read_npz_split(&path, "valid", None)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("data.npz") && msg.contains("x_valid"), "{msg}");
}

#[test]
fn npz_errors_name_file_and_array() {
    let (_dir, path) = npz_file(&[
        (
            "x_train",
            NpyArray::F32(vec![1.0, f32::INFINITY], vec![2, 1]),
        ),
        ("y_train", NpyArray::I64(vec![0, 1], vec![2])),
    ]);
    let msg = read_npz_split(&path, "train", None)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("data.npz") && msg.contains("array `x_train`"),
        "{msg}"
    );
    assert!(msg.contains("element [1, 0] is inf"), "{msg}");
}

#[test]
fn mismatched_lengths_name_both_files() {
    pair_rejected(
        NpyArray::F32(vec![0.0; 6], vec![3, 2]),
        NpyArray::I64(vec![0, 1], vec![2]),
        None,
        &["labs.npy", "feats.npy", "2 labels", "3 examples"],
    );
}

#[test]
fn wrong_dimensionality_is_rejected() {
    pair_rejected(
        NpyArray::F32(vec![0.0; 8], vec![2, 2, 2]),
        NpyArray::I64(vec![0, 1], vec![2]),
        None,
        &["feats.npy", "[2, 2, 2]"],
    );
    pair_rejected(
        NpyArray::F32(vec![0.0; 4], vec![2, 2]),
        NpyArray::I64(vec![0, 1, 0, 1], vec![2, 2]),
        None,
        &["labs.npy", "1-D"],
    );
    pair_rejected(
        NpyArray::F32(vec![], vec![0, 2]),
        NpyArray::I64(vec![], vec![0]),
        None,
        &["feats.npy", "no data"],
    );
}

#[test]
fn bad_values_and_labels_are_rejected() {
    pair_rejected(
        NpyArray::F32(vec![0.0, 1.0, f32::NAN, 2.0], vec![2, 2]),
        NpyArray::I64(vec![0, 1], vec![2]),
        None,
        &["feats.npy", "element [1, 0] is NaN"],
    );
    pair_rejected(
        NpyArray::F32(vec![0.0; 4], vec![2, 2]),
        NpyArray::I64(vec![0, -3], vec![2]),
        None,
        &["labs.npy", "element [1]", "negative"],
    );
    pair_rejected(
        NpyArray::F32(vec![0.0; 4], vec![2, 2]),
        NpyArray::I64(vec![4, 0], vec![2]),
        Some(3),
        &["element [0]", "out of range for 3"],
    );
    pair_rejected(
        NpyArray::F32(vec![0.0; 4], vec![2, 2]),
        NpyArray::F32(vec![0.5, 1.0], vec![2]),
        None,
        &["labs.npy", "integer"],
    );
}

#[test]
fn npz_examples_keep_their_shape_and_integers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.npz");
    write_npz(
        &path,
        &[
            (
                "x_train",
                NpyArray::F32((0..24).map(|v| v as f32).collect(), vec![2, 3, 2, 2]),
            ),
            ("y_train", NpyArray::I64(vec![0, 1], vec![2])),
            ("x_test", NpyArray::I64(vec![3, 1, 4, 1, 5, 9], vec![2, 3])),
            ("y_test", NpyArray::I64(vec![1, 0], vec![2])),
            ("x_big", NpyArray::I64(vec![1 << 30], vec![1, 1])),
            ("y_big", NpyArray::I64(vec![0], vec![1])),
        ],
    )
    .unwrap();
    let train = read_npz_examples(&path, "train", None).unwrap();
    assert_eq!(train.example_shape, vec![3, 2, 2]);
    assert!(!train.integer);
    assert_eq!((train.data.len(), train.data.dim()), (2, 12));
    assert_eq!(train.data.row(1)[0], 12.0);
    let test = read_npz_examples(&path, "test", None).unwrap();
    assert_eq!(
        (test.example_shape.as_slice(), test.integer),
        (&[3][..], true)
    );
    assert_eq!(test.data.row(1), &[1.0, 5.0, 9.0]);
    let msg = read_npz_examples(&path, "big", None)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("x_big") && msg.contains("exactly"), "{msg}");
    // The flat reader still refuses what it cannot flatten meaningfully.
    assert!(read_npz_split(&path, "train", None).is_err());
}

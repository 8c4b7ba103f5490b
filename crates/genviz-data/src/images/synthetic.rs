//! Synthetic Fashion-MNIST-shaped folders: IDX files a reader of [`read_idx_pair`] takes as the
//! real thing, for tests, examples and trying a command without downloading anything.
//!
//! [`read_idx_pair`]: super::read_idx_pair

use super::{idx_bytes, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC};
use genviz_core::{Error, Result};
use std::path::Path;

/// Side of a Fashion-MNIST image, in pixels.
const SIDE: usize = 28;

/// Writes one split of a Fashion-MNIST-shaped folder, uncompressed: the 28x28 grey images
/// `pixels` (row-major, one after another) in `{stem}-images-idx3-ubyte` and their `labels` in
/// `{stem}-labels-idx1-ubyte`. `stem` is `train` or `t10k`, as in the real set.
pub fn write_idx_split(dir: &Path, stem: &str, pixels: &[u8], labels: &[u8]) -> Result<()> {
    let n = labels.len();
    if pixels.len() != n * SIDE * SIDE {
        return Err(Error::invalid(format!(
            "{stem} split for {}: {} pixels for {n} labels, expected {} (28x28 each)",
            dir.display(),
            pixels.len(),
            n * SIDE * SIDE
        )));
    }
    let count = u32::try_from(n)
        .map_err(|_| Error::invalid(format!("{stem} split: {n} images do not fit IDX")))?;
    let side = SIDE as u32;
    let write = |name: String, bytes: Vec<u8>| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))
    };
    write(
        format!("{stem}-images-idx3-ubyte"),
        idx_bytes(IDX_IMAGES_MAGIC, &[count, side, side], pixels),
    )?;
    write(
        format!("{stem}-labels-idx1-ubyte"),
        idx_bytes(IDX_LABELS_MAGIC, &[count], labels),
    )
}

/// Writes `train` training and `test` test images of ten classes into `dir` (created if
/// missing): an image of class `k` is bright in row band `k mod 9`, under seeded speckle, so a
/// small CNN learns the set in a few dozen steps while its first epochs still show a loss curve.
/// The same counts give the same bytes.
pub fn write_banded_fashion_mnist(dir: &Path, train: u32, test: u32) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut state = 12345u32;
    for (stem, n) in [("train", train), ("t10k", test)] {
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let mut pixels = Vec::with_capacity(n as usize * SIDE * SIDE);
        for &k in &labels {
            for row in 0..SIDE {
                for _ in 0..SIDE {
                    state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    let speckle = (state >> 26) as u8;
                    let band = row / 3 == usize::from(k) % 9;
                    pixels.push(if band { 200 + speckle / 2 } else { speckle });
                }
            }
        }
        write_idx_split(dir, stem, &pixels, &labels)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::read_idx_pair;

    #[test]
    fn a_banded_folder_reads_back_with_its_classes_in_their_bands() {
        let tmp = tempfile::tempdir().unwrap();
        write_banded_fashion_mnist(tmp.path(), 20, 10).unwrap();
        let (data, shape) = read_idx_pair(
            &tmp.path().join("train-images-idx3-ubyte"),
            &tmp.path().join("train-labels-idx1-ubyte"),
            10,
        )
        .unwrap();
        assert_eq!((data.len(), shape.height, shape.width), (20, 28, 28));
        for i in 0..data.len() {
            let (image, k) = (data.row(i), data.labels()[i] as usize);
            let row_mean = |r: usize| image[r * 28..(r + 1) * 28].iter().sum::<f32>() / 28.0;
            let band = 3 * (k % 9);
            let outside = if band == 0 { 27 } else { 0 };
            assert!(
                row_mean(band) > row_mean(outside) + 0.4,
                "image {i} of class {k}"
            );
        }
    }

    #[test]
    fn pixels_that_do_not_fit_the_labels_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let err = write_idx_split(tmp.path(), "train", &[0; 783], &[1]).unwrap_err();
        assert!(err.to_string().contains("783 pixels for 1 labels"), "{err}");
    }
}

//! The IDX format of MNIST and Fashion-MNIST, plain or gzip-compressed.
//!
//! An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
//! dimensions), one big-endian `u32` per dimension, then the values in row-major order. MNIST's
//! images are `0x00000803` (unsigned bytes, 3 dimensions: count, rows, columns) and its labels
//! `0x00000801` (unsigned bytes, 1 dimension: count). Compression is recognised from gzip's own
//! magic bytes, not from the file name.

use super::ImageShape;
use genviz_core::{Dataset, Error, Result};
use std::io::Read;
use std::path::Path;

/// Magic number of an IDX file of unsigned bytes in 3 dimensions (MNIST images).
pub const IDX_IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes in 1 dimension (MNIST labels).
pub const IDX_LABELS_MAGIC: u32 = 0x0000_0801;

/// Deflate cannot expand data by more than about 1032:1, so a gzip file claiming more than this
/// many bytes per compressed byte is corrupt; checked before reading, so a forged header cannot
/// make the reader allocate without bound.
const MAX_GZIP_RATIO: u64 = 1032;

/// A file's bytes as a reader, decompressed when they start with gzip's magic bytes, together
/// with an upper bound on the decompressed length (the size, or the deflate limit).
fn reader_of(bytes: Vec<u8>) -> (Box<dyn Read>, u64) {
    let size = bytes.len() as u64;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let gz = flate2::read::GzDecoder::new(std::io::Cursor::new(bytes));
        (Box::new(gz), size.saturating_mul(MAX_GZIP_RATIO))
    } else {
        (Box::new(std::io::Cursor::new(bytes)), size)
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// Reads exactly `buf.len()` bytes, naming `what` and the file when the data ends early.
fn read_exact(reader: &mut dyn Read, buf: &mut [u8], path: &Path, what: &str) -> Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => {
                return Err(Error::bad_file(
                    path,
                    format!(
                        "truncated: expected {} bytes of {what}, found only {filled}",
                        buf.len()
                    ),
                ))
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(Error::bad_file(
                    path,
                    format!("reading {what}: {e} (a corrupt or truncated gzip stream?)"),
                ))
            }
        }
    }
    Ok(())
}

/// Reads `len` bytes of `what` into a vector that grows as data arrives, so a header that
/// claims more than the file holds fails with "truncated" rather than a huge allocation.
fn read_body(reader: &mut dyn Read, len: u64, path: &Path, what: &str) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let got = reader
        .take(len)
        .read_to_end(&mut out)
        .map_err(|e| Error::bad_file(path, format!("reading {what}: {e}")))?;
    if (got as u64) < len {
        return Err(Error::bad_file(
            path,
            format!("truncated: expected {len} bytes of {what}, found only {got}"),
        ));
    }
    let mut extra = [0u8; 1];
    if reader.read(&mut extra).unwrap_or(0) > 0 {
        return Err(Error::bad_file(
            path,
            format!("has data after the {len} bytes of {what} its header announces"),
        ));
    }
    Ok(out)
}

/// Reads the magic number and dimensions, checking the magic and the declared size against
/// `bound` bytes.
fn header(reader: &mut dyn Read, path: &Path, magic: u32, bound: u64) -> Result<Vec<usize>> {
    let mut word = [0u8; 4];
    read_exact(reader, &mut word, path, "the IDX magic number")?;
    let found = u32::from_be_bytes(word);
    if found != magic {
        return Err(Error::bad_file(
            path,
            format!(
                "magic number is 0x{found:08x}, expected 0x{magic:08x} (IDX {} of unsigned bytes)",
                if magic == IDX_IMAGES_MAGIC {
                    "images"
                } else {
                    "labels"
                }
            ),
        ));
    }
    let ndim = (magic & 0xff) as usize;
    let mut dims = Vec::with_capacity(ndim);
    for k in 0..ndim {
        read_exact(
            reader,
            &mut word,
            path,
            &format!("dimension {k} of the header"),
        )?;
        dims.push(u32::from_be_bytes(word) as usize);
    }
    let total = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64));
    match total {
        Some(t) if t <= bound => Ok(dims),
        _ => Err(Error::bad_file(
            path,
            format!(
                "header declares dimensions {dims:?}, more values than a file of this size can hold"
            ),
        )),
    }
}

/// Raw images of an IDX file: `(count, shape, bytes)` with one byte per pixel.
pub fn read_idx_images(path: &Path) -> Result<(usize, ImageShape, Vec<u8>)> {
    parse_idx_images(read_file(path)?, path)
}

/// [`read_idx_images`] on a file's bytes (plain or gzip); `path` names it in errors.
pub fn parse_idx_images(bytes: Vec<u8>, path: &Path) -> Result<(usize, ImageShape, Vec<u8>)> {
    let (mut reader, bound) = reader_of(bytes);
    let dims = header(&mut *reader, path, IDX_IMAGES_MAGIC, bound)?;
    let (count, rows, cols) = (dims[0], dims[1], dims[2]);
    if rows == 0 || cols == 0 {
        return Err(Error::bad_file(
            path,
            format!("images are {rows}x{cols}, expected at least 1x1"),
        ));
    }
    let bytes = read_body(
        &mut *reader,
        (count * rows * cols) as u64,
        path,
        &format!("{count} images of {rows}x{cols} pixels"),
    )?;
    let shape = ImageShape {
        channels: 1,
        height: rows,
        width: cols,
    };
    Ok((count, shape, bytes))
}

/// Labels of an IDX file, each checked to be below `num_classes`.
pub fn read_idx_labels(path: &Path, num_classes: usize) -> Result<Vec<u32>> {
    parse_idx_labels(read_file(path)?, path, num_classes)
}

/// [`read_idx_labels`] on a file's bytes (plain or gzip); `path` names it in errors.
pub fn parse_idx_labels(bytes: Vec<u8>, path: &Path, num_classes: usize) -> Result<Vec<u32>> {
    let (mut reader, bound) = reader_of(bytes);
    let dims = header(&mut *reader, path, IDX_LABELS_MAGIC, bound)?;
    let bytes = read_body(
        &mut *reader,
        dims[0] as u64,
        path,
        &format!("{} labels", dims[0]),
    )?;
    if let Some(i) = bytes.iter().position(|&y| y as usize >= num_classes) {
        return Err(Error::bad_file(
            path,
            format!(
                "label {i} is {}, expected a class in 0..{num_classes}",
                bytes[i]
            ),
        ));
    }
    Ok(bytes.into_iter().map(u32::from).collect())
}

/// An images file and its labels file as one data set: pixels scaled to `[0, 1]`, rows in
/// NCHW-flattened order (for one channel, simply row by row).
pub fn read_idx_pair(
    images: &Path,
    labels: &Path,
    num_classes: usize,
) -> Result<(Dataset, ImageShape)> {
    let (count, shape, bytes) = read_idx_images(images)?;
    let labels_vec = read_idx_labels(labels, num_classes)?;
    if labels_vec.len() != count {
        return Err(Error::bad_file(
            labels,
            format!(
                "holds {} labels, but {} holds {count} images; expected one label per image",
                labels_vec.len(),
                images.display()
            ),
        ));
    }
    let features = bytes.iter().map(|&b| f32::from(b) / 255.0).collect();
    let data = Dataset::new(features, labels_vec, shape.len(), num_classes)?;
    Ok((data, shape))
}

/// Writes IDX files in memory, for tests of this reader and of the commands that use it.
pub fn idx_bytes(magic: u32, dims: &[u32], values: &[u8]) -> Vec<u8> {
    let mut out = magic.to_be_bytes().to_vec();
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(values);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn three_images() -> Vec<u8> {
        let pixels: Vec<u8> = (0..3 * 2 * 4).map(|i| (i * 10) as u8).collect();
        idx_bytes(IDX_IMAGES_MAGIC, &[3, 2, 4], &pixels)
    }

    #[test]
    fn reads_plain_and_gzip_pairs_alike() {
        let dir = tempfile::tempdir().unwrap();
        let labels = idx_bytes(IDX_LABELS_MAGIC, &[3], &[2, 0, 9]);
        let img = write(dir.path(), "img", &three_images());
        let lab = write(dir.path(), "lab", &labels);
        let (plain, shape) = read_idx_pair(&img, &lab, 10).unwrap();
        assert_eq!((shape.channels, shape.height, shape.width), (1, 2, 4));
        assert_eq!(plain.len(), 3);
        assert_eq!(plain.labels(), &[2, 0, 9]);
        assert_eq!(plain.row(1)[0], 80.0 / 255.0);
        let img_gz = write(dir.path(), "img.gz", &gzip(&three_images()));
        let lab_gz = write(dir.path(), "lab.gz", &gzip(&labels));
        let (zipped, _) = read_idx_pair(&img_gz, &lab_gz, 10).unwrap();
        assert_eq!(zipped, plain);
    }

    #[test]
    fn truncated_files_name_what_was_expected() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = three_images();
        bytes.truncate(bytes.len() - 5);
        for (name, content) in [("cut", bytes.clone()), ("cut.gz", gzip(&bytes))] {
            let path = write(dir.path(), name, &content);
            let err = read_idx_images(&path).unwrap_err().to_string();
            assert!(err.contains(name), "{err}");
            assert!(
                err.contains("truncated") && err.contains("3 images of 2x4"),
                "{err}"
            );
        }
        let path = write(dir.path(), "short", &[0, 0, 8]);
        let err = read_idx_images(&path).unwrap_err().to_string();
        assert!(err.contains("magic"), "{err}");
        // A header claiming billions of pixels fails before allocating them.
        let path = write(
            dir.path(),
            "huge",
            &idx_bytes(IDX_IMAGES_MAGIC, &[1 << 30, 28, 28], &[1]),
        );
        let err = read_idx_images(&path).unwrap_err().to_string();
        assert!(err.contains("more values than"), "{err}");
        // A gzip stream cut in the middle is an error too, not a short read taken as the end.
        let mut zipped = gzip(&three_images());
        zipped.truncate(zipped.len() / 2);
        let path = write(dir.path(), "halfzip", &zipped);
        assert!(read_idx_images(&path).is_err());
    }

    #[test]
    fn wrong_magic_bad_labels_and_count_mismatch_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let img = write(dir.path(), "img", &three_images());
        // Labels where images were expected, and the reverse.
        let err = read_idx_images(&write(
            dir.path(),
            "labels-as-images",
            &idx_bytes(IDX_LABELS_MAGIC, &[3], &[0, 1, 2]),
        ))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("0x00000801") && err.contains("0x00000803"),
            "{err}"
        );
        assert!(read_idx_labels(&img, 10).is_err());
        // A label out of range names its index and the expected range.
        let lab = write(
            dir.path(),
            "lab",
            &idx_bytes(IDX_LABELS_MAGIC, &[3], &[1, 10, 2]),
        );
        let err = read_idx_labels(&lab, 10).unwrap_err().to_string();
        assert!(
            err.contains("label 1 is 10") && err.contains("0..10"),
            "{err}"
        );
        // Two labels for three images.
        let lab = write(
            dir.path(),
            "lab2",
            &idx_bytes(IDX_LABELS_MAGIC, &[2], &[1, 2]),
        );
        let err = read_idx_pair(&img, &lab, 10).unwrap_err().to_string();
        assert!(
            err.contains("2 labels") && err.contains("3 images"),
            "{err}"
        );
        // Trailing bytes after the declared data.
        let mut long = three_images();
        long.push(7);
        let err = read_idx_images(&write(dir.path(), "long", &long))
            .unwrap_err()
            .to_string();
        assert!(err.contains("after"), "{err}");
    }
}

/// Writes `train` and `test` Fashion-MNIST-shaped images (IDX, uncompressed) into `dir`, for
/// tests and demos of the image commands where the real files are not installed: an image of
/// class k is bright in row band k, with seeded speckle, so that a conv net learns it in a few
/// steps.
pub fn write_banded_idx(dir: &std::path::Path, train: u32, test: u32) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut state = 12345u32;
    for (stem, n) in [("train", train), ("t10k", test)] {
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let mut pixels = Vec::with_capacity(n as usize * 784);
        for &k in &labels {
            for row in 0..28usize {
                for _ in 0..28 {
                    state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    let speckle = (state >> 26) as u8;
                    let band = row / 3 == usize::from(k) % 9;
                    pixels.push(if band { 200 + speckle / 2 } else { speckle });
                }
            }
        }
        std::fs::write(
            dir.join(format!("{stem}-images-idx3-ubyte")),
            idx_bytes(IDX_IMAGES_MAGIC, &[n, 28, 28], &pixels),
        )?;
        std::fs::write(
            dir.join(format!("{stem}-labels-idx1-ubyte")),
            idx_bytes(IDX_LABELS_MAGIC, &[n], &labels),
        )?;
    }
    Ok(())
}

//! CIFAR-10's binary version (`cifar-10-batches-bin`): fixed 3,073-byte records, one label byte
//! followed by 1,024 red, 1,024 green and 1,024 blue pixel bytes (row-major 32x32 planes), so a
//! record is already in CHW order.

use super::ImageShape;
use genviz_core::{Dataset, Error, Result};
use std::path::Path;

/// Bytes per CIFAR-10 record: one label and 3 x 32 x 32 pixels.
pub const CIFAR_RECORD: usize = 1 + 3 * 32 * 32;
/// CIFAR-10's image shape.
pub const CIFAR_SHAPE: ImageShape = ImageShape {
    channels: 3,
    height: 32,
    width: 32,
};
/// CIFAR-10's number of classes.
pub const CIFAR_CLASSES: usize = 10;

/// One CIFAR-10 batch file, pixels scaled to `[0, 1]`, rows NCHW-flattened.
pub fn read_cifar_batch(path: &Path) -> Result<Dataset> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_cifar_batch(&bytes, path)
}

/// [`read_cifar_batch`] on a file's bytes; `path` names it in errors.
pub fn parse_cifar_batch(bytes: &[u8], path: &Path) -> Result<Dataset> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(CIFAR_RECORD) {
        return Err(Error::bad_file(
            path,
            format!(
                "is {} bytes, expected a whole number of {CIFAR_RECORD}-byte CIFAR-10 records \
                 (truncated, or not a CIFAR-10 binary batch; {} whole records and {} bytes over)",
                bytes.len(),
                bytes.len() / CIFAR_RECORD,
                bytes.len() % CIFAR_RECORD
            ),
        ));
    }
    let n = bytes.len() / CIFAR_RECORD;
    let mut features = Vec::with_capacity(n * (CIFAR_RECORD - 1));
    let mut labels = Vec::with_capacity(n);
    for (i, record) in bytes.chunks_exact(CIFAR_RECORD).enumerate() {
        let label = record[0];
        if label as usize >= CIFAR_CLASSES {
            return Err(Error::bad_file(
                path,
                format!(
                    "record {i} (byte {}) has label {label}, expected a class in 0..{CIFAR_CLASSES}",
                    i * CIFAR_RECORD
                ),
            ));
        }
        labels.push(u32::from(label));
        features.extend(record[1..].iter().map(|&b| f32::from(b) / 255.0));
    }
    Dataset::new(features, labels, CIFAR_SHAPE.len(), CIFAR_CLASSES)
}

/// The training set (`data_batch_1.bin` .. `data_batch_5.bin`) and test set (`test_batch.bin`)
/// from `dir`, which is the `cifar-10-batches-bin` folder or the folder holding it.
pub fn read_cifar10(dir: &Path) -> Result<(Dataset, Dataset)> {
    let dir = if dir.join("cifar-10-batches-bin").is_dir() {
        dir.join("cifar-10-batches-bin")
    } else {
        dir.to_path_buf()
    };
    let mut train: Option<Dataset> = None;
    for k in 1..=5 {
        let part = read_cifar_batch(&dir.join(format!("data_batch_{k}.bin")))?;
        train = Some(match train {
            None => part,
            Some(t) => t.concat(&part)?,
        });
    }
    let test = read_cifar_batch(&dir.join("test_batch.bin"))?;
    Ok((train.expect("five batches were read"), test))
}

/// Encodes examples as CIFAR-10 records (pixels in `[0, 1]` rounded to bytes), for tests and
/// for writing small files in the same format.
pub fn cifar_bytes(data: &Dataset) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() * CIFAR_RECORD);
    for i in 0..data.len() {
        out.push(data.labels()[i] as u8);
        out.extend(
            data.row(i)
                .iter()
                .map(|&v| (v * 255.0).round().clamp(0.0, 255.0) as u8),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(labels: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, &y) in labels.iter().enumerate() {
            out.push(y);
            out.extend((0..CIFAR_RECORD - 1).map(|p| ((p + i) % 256) as u8));
        }
        out
    }

    #[test]
    fn reads_records_in_chw_order_and_round_trips() {
        let bytes = records(&[3, 9]);
        let d = parse_cifar_batch(&bytes, Path::new("b.bin")).unwrap();
        assert_eq!(d.labels(), &[3, 9]);
        assert_eq!(d.dim(), 3072);
        // Green plane of example 1 starts at pixel 1024.
        assert_eq!(d.row(1)[1024], ((1024 + 1) % 256) as f32 / 255.0);
        assert_eq!(cifar_bytes(&d), bytes);
    }

    #[test]
    fn rejects_truncated_and_mislabelled_files() {
        let mut bytes = records(&[1, 2]);
        bytes.pop();
        let err = parse_cifar_batch(&bytes, Path::new("cut.bin"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cut.bin") && err.contains("6145 bytes") && err.contains("3073"),
            "{err}"
        );
        let err = parse_cifar_batch(&records(&[1, 10]), Path::new("bad.bin"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("record 1") && err.contains("label 10"),
            "{err}"
        );
        assert!(parse_cifar_batch(&[], Path::new("empty.bin")).is_err());
    }

    #[test]
    fn reads_a_folder_of_six_batches() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("cifar-10-batches-bin");
        std::fs::create_dir(&sub).unwrap();
        for k in 1..=5 {
            std::fs::write(
                sub.join(format!("data_batch_{k}.bin")),
                records(&[k as u8, 0]),
            )
            .unwrap();
        }
        std::fs::write(sub.join("test_batch.bin"), records(&[7])).unwrap();
        let (train, test) = read_cifar10(dir.path()).unwrap();
        assert_eq!(train.len(), 10);
        assert_eq!(train.labels()[..4], [1, 0, 2, 0]);
        assert_eq!(test.labels(), &[7]);
        std::fs::remove_file(sub.join("data_batch_3.bin")).unwrap();
        let err = read_cifar10(&sub).unwrap_err().to_string();
        assert!(err.contains("data_batch_3.bin"), "{err}");
    }
}

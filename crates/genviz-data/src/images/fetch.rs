//! `genviz data fetch`: downloads a data set from its canonical address and checks it.
//!
//! Downloading shells out to `curl` (present on every Linux and macOS) rather than linking an
//! HTTP and TLS stack into genviz for one command; the CIFAR-10 archive is unpacked with `tar`.
//! Each file is checked against the MD5 its publishers (and torchvision) list before it is
//! renamed into place, so an interrupted or corrupted download never looks complete. Tests
//! never download: they check the checksum logic only.

use super::ImageSource;
use genviz_core::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One file to download.
#[derive(Clone, Copy, Debug)]
pub struct Download {
    /// File name in the target folder.
    pub name: &'static str,
    /// Addresses to try in order (the canonical one first, then mirrors).
    pub urls: &'static [&'static str],
    /// MD5 of the file, lower-case hex, as published.
    pub md5: &'static str,
}

/// The files of each data set.
pub fn downloads(source: ImageSource) -> &'static [Download] {
    match source {
        ImageSource::Mnist => &[
            Download {
                name: "train-images-idx3-ubyte.gz",
                urls: &[
                    "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz",
                    "http://yann.lecun.com/exdb/mnist/train-images-idx3-ubyte.gz",
                ],
                md5: "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            },
            Download {
                name: "train-labels-idx1-ubyte.gz",
                urls: &[
                    "https://ossci-datasets.s3.amazonaws.com/mnist/train-labels-idx1-ubyte.gz",
                    "http://yann.lecun.com/exdb/mnist/train-labels-idx1-ubyte.gz",
                ],
                md5: "d53e105ee54ea40749a09fcbcd1e9432",
            },
            Download {
                name: "t10k-images-idx3-ubyte.gz",
                urls: &[
                    "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-images-idx3-ubyte.gz",
                    "http://yann.lecun.com/exdb/mnist/t10k-images-idx3-ubyte.gz",
                ],
                md5: "9fb629c4189551a2d022fa330f9573f3",
            },
            Download {
                name: "t10k-labels-idx1-ubyte.gz",
                urls: &[
                    "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz",
                    "http://yann.lecun.com/exdb/mnist/t10k-labels-idx1-ubyte.gz",
                ],
                md5: "ec29112dd5afa0611ce80d1b7f02629c",
            },
        ],
        ImageSource::FashionMnist => &[
            Download {
                name: "train-images-idx3-ubyte.gz",
                urls: &["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz"],
                md5: "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            },
            Download {
                name: "train-labels-idx1-ubyte.gz",
                urls: &["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-labels-idx1-ubyte.gz"],
                md5: "25c81989df183df01b3e8a0aad5dffbe",
            },
            Download {
                name: "t10k-images-idx3-ubyte.gz",
                urls: &["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-images-idx3-ubyte.gz"],
                md5: "bef4ecab320f06d8554ea6380940ec79",
            },
            Download {
                name: "t10k-labels-idx1-ubyte.gz",
                urls: &["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-labels-idx1-ubyte.gz"],
                md5: "bb300cfdad3c16e7a12a480ee83cd310",
            },
        ],
        ImageSource::Cifar10 => &[Download {
            name: "cifar-10-binary.tar.gz",
            urls: &["https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"],
            md5: "c32a1d4ab5d03f1284b67883e8d87530",
        }],
    }
}

/// What [`fetch`] did.
#[derive(Clone, Debug, Default)]
pub struct FetchReport {
    /// Files downloaded now.
    pub downloaded: Vec<PathBuf>,
    /// Files already present with the right checksum.
    pub present: Vec<PathBuf>,
}

/// Lower-case hex MD5 of `bytes`.
pub fn md5_hex(bytes: &[u8]) -> String {
    format!("{:x}", md5::compute(bytes))
}

/// Checks a file against its published MD5.
fn verify(path: &Path, expected: &str) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let found = md5_hex(&bytes);
    if found != expected {
        return Err(Error::bad_file(
            path,
            format!("MD5 is {found}, expected {expected} (a corrupt or changed download)"),
        ));
    }
    Ok(())
}

/// Downloads `source` into `dir` (created if missing), checking every file's MD5, and unpacks
/// CIFAR-10's archive to `dir/cifar-10-batches-bin`. Files already present and correct are kept.
pub fn fetch(source: ImageSource, dir: &Path) -> Result<FetchReport> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut report = FetchReport::default();
    for file in downloads(source) {
        let target = dir.join(file.name);
        if target.is_file() && verify(&target, file.md5).is_ok() {
            report.present.push(target);
            continue;
        }
        let part = dir.join(format!("{}.part", file.name));
        let mut errors = Vec::new();
        for url in file.urls {
            let status = Command::new("curl")
                .args([
                    "--fail",
                    "--location",
                    "--silent",
                    "--show-error",
                    "--output",
                ])
                .arg(&part)
                .arg(url)
                .status();
            match status {
                Ok(s) if s.success() => match verify(&part, file.md5) {
                    Ok(()) => {
                        std::fs::rename(&part, &target).map_err(|e| Error::io(&target, e))?;
                        errors.clear();
                        break;
                    }
                    Err(e) => errors.push(format!("{url}: {e}")),
                },
                Ok(s) => errors.push(format!("{url}: curl exited with {s}")),
                Err(e) => errors.push(format!("{url}: cannot run curl ({e}); is it installed?")),
            }
        }
        let _ = std::fs::remove_file(&part);
        if !target.is_file() || !errors.is_empty() {
            return Err(Error::invalid(format!(
                "downloading {} failed: {}",
                file.name,
                errors.join("; ")
            )));
        }
        report.downloaded.push(target);
    }
    if source == ImageSource::Cifar10 && !dir.join("cifar-10-batches-bin/test_batch.bin").is_file()
    {
        let status = Command::new("tar")
            .arg("-xzf")
            .arg(dir.join("cifar-10-binary.tar.gz"))
            .arg("-C")
            .arg(dir)
            .status()
            .map_err(|e| Error::invalid(format!("cannot run tar to unpack CIFAR-10: {e}")))?;
        if !status.success() {
            return Err(Error::invalid(format!(
                "tar could not unpack {} (exit {status})",
                dir.join("cifar-10-binary.tar.gz").display()
            )));
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_matches_the_reference_vectors_and_verify_rejects_changes() {
        // RFC 1321's test suite.
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"abc").unwrap();
        verify(&path, "900150983cd24fb0d6963f7d28e17f72").unwrap();
        std::fs::write(&path, b"abd").unwrap();
        let err = verify(&path, "900150983cd24fb0d6963f7d28e17f72")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("expected 900150983cd24fb0d6963f7d28e17f72"),
            "{err}"
        );
    }

    #[test]
    fn every_data_set_lists_checksummed_files() {
        for s in [
            ImageSource::Mnist,
            ImageSource::FashionMnist,
            ImageSource::Cifar10,
        ] {
            for d in downloads(s) {
                assert_eq!(d.md5.len(), 32);
                assert!(!d.urls.is_empty());
            }
        }
    }
}

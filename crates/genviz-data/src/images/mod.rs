//! Real image data: MNIST and Fashion-MNIST (IDX files, plain or gzip) and CIFAR-10 (binary
//! batches), with per-channel normalisation, the standard crop-and-flip augmentation, and the
//! degree-2 polynomial features of the paper's linear model ([`PolyFeatures`]).
//!
//! Images become [`Dataset`] rows of `channels * height * width` `f32` values in NCHW order (a
//! row is one image's channel planes one after the other), pixels scaled to `[0, 1]`; the
//! [`ImageShape`] travels beside the data so a convolutional network can undo the flattening.
//! Where the files are: a folder the user names, else `data/<name>` (where
//! `genviz data fetch` puts them), else for Fashion-MNIST Debian's `dataset-fashion-mnist`
//! package under [`DEBIAN_FASHION_MNIST`].

mod cifar;
mod fetch;
mod idx;
mod poly;

pub use cifar::{
    cifar_bytes, parse_cifar_batch, read_cifar10, read_cifar_batch, CIFAR_CLASSES, CIFAR_RECORD,
    CIFAR_SHAPE,
};
pub use fetch::{fetch, md5_hex, Download, FetchReport};
pub use idx::{
    idx_bytes, parse_idx_images, parse_idx_labels, read_idx_images, read_idx_labels, read_idx_pair,
    write_banded_idx, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC,
};

pub use poly::{
    downsample_area, poly_feature_count, poly_features_of, PolyFeatures, DEFAULT_POLY_SIDE,
};

use genviz_core::rng::Rng;
use genviz_core::{Dataset, Error, Result};
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Where Debian's `dataset-fashion-mnist` package installs the four gzip IDX files.
pub const DEBIAN_FASHION_MNIST: &str = "/usr/share/datasets/fashion-mnist";

/// The shape of one image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageShape {
    /// Colour channels (1 for grey, 3 for RGB).
    pub channels: usize,
    /// Rows of pixels.
    pub height: usize,
    /// Columns of pixels.
    pub width: usize,
}

impl ImageShape {
    /// Values per image.
    pub fn len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// True for an image with no pixel.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Pixels per channel plane.
    pub fn plane(&self) -> usize {
        self.height * self.width
    }
}

/// The image data sets genviz reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImageSource {
    /// LeCun's handwritten digits, 60,000 + 10,000 grey 28x28 images.
    Mnist,
    /// Zalando's clothing images in MNIST's format.
    FashionMnist,
    /// Krizhevsky's 50,000 + 10,000 colour 32x32 images in 10 classes.
    Cifar10,
}

impl ImageSource {
    /// Parses a command-line name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "mnist" => Some(ImageSource::Mnist),
            "fashion-mnist" | "fashion_mnist" | "fashionmnist" => Some(ImageSource::FashionMnist),
            "cifar10" | "cifar-10" => Some(ImageSource::Cifar10),
            _ => None,
        }
    }

    /// The canonical name (as on the command line and in `data/<name>`).
    pub fn name(self) -> &'static str {
        match self {
            ImageSource::Mnist => "mnist",
            ImageSource::FashionMnist => "fashion-mnist",
            ImageSource::Cifar10 => "cifar10",
        }
    }

    /// The shape of its images.
    pub fn shape(self) -> ImageShape {
        match self {
            ImageSource::Cifar10 => CIFAR_SHAPE,
            _ => ImageShape {
                channels: 1,
                height: 28,
                width: 28,
            },
        }
    }

    /// Folders searched, in order, when the user names none.
    pub fn default_dirs(self) -> Vec<PathBuf> {
        let mut dirs = vec![Path::new("data").join(self.name())];
        if self == ImageSource::FashionMnist {
            dirs.push(PathBuf::from(DEBIAN_FASHION_MNIST));
        }
        dirs
    }

    /// True when `dir` holds this data set's files.
    fn present_in(self, dir: &Path) -> bool {
        match self {
            ImageSource::Cifar10 => {
                dir.join("test_batch.bin").is_file()
                    || dir.join("cifar-10-batches-bin/test_batch.bin").is_file()
            }
            _ => idx_file(dir, "t10k-images-idx3-ubyte").is_some(),
        }
    }

    /// The folder holding the files: `dir` when given, else the first default that has them.
    pub fn locate(self, dir: Option<&Path>) -> Result<PathBuf> {
        if let Some(d) = dir {
            return Ok(d.to_path_buf());
        }
        let dirs = self.default_dirs();
        dirs.iter()
            .find(|d| self.present_in(d))
            .cloned()
            .ok_or_else(|| {
                let tried: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
                let hint = if self == ImageSource::FashionMnist {
                    " or `apt-get install dataset-fashion-mnist`"
                } else {
                    ""
                };
                Error::invalid(format!(
                    "{}: no data found in {}; run `genviz data fetch {}`{hint}, or pass --data-dir",
                    self.name(),
                    tried.join(" or "),
                    self.name()
                ))
            })
    }

    /// Reads the official training and test sets from `dir` (see [`ImageSource::locate`]).
    pub fn load(self, dir: Option<&Path>) -> Result<ImageData> {
        let dir = self.locate(dir)?;
        let (train, test) = match self {
            ImageSource::Cifar10 => read_cifar10(&dir)?,
            _ => {
                let file = |stem: &str| {
                    idx_file(&dir, stem).ok_or_else(|| {
                        Error::invalid(format!(
                            "{}: no {stem} or {stem}.gz in {}",
                            self.name(),
                            dir.display()
                        ))
                    })
                };
                let (train, _) = read_idx_pair(
                    &file("train-images-idx3-ubyte")?,
                    &file("train-labels-idx1-ubyte")?,
                    10,
                )?;
                let (test, _) = read_idx_pair(
                    &file("t10k-images-idx3-ubyte")?,
                    &file("t10k-labels-idx1-ubyte")?,
                    10,
                )?;
                (train, test)
            }
        };
        let shape = self.shape();
        for (part, d) in [("training", &train), ("test", &test)] {
            if d.dim() != shape.len() {
                return Err(Error::invalid(format!(
                    "{}: the {part} images in {} have {} pixels, expected {}x{}x{}",
                    self.name(),
                    dir.display(),
                    d.dim(),
                    shape.channels,
                    shape.height,
                    shape.width
                )));
            }
        }
        Ok(ImageData {
            train,
            test,
            shape,
            dir,
        })
    }
}

/// `dir/stem` or `dir/stem.gz`, whichever exists (the plain file first).
fn idx_file(dir: &Path, stem: &str) -> Option<PathBuf> {
    [dir.join(stem), dir.join(format!("{stem}.gz"))]
        .into_iter()
        .find(|p| p.is_file())
}

/// An image data set's official splits.
#[derive(Clone, Debug)]
pub struct ImageData {
    /// The training images.
    pub train: Dataset,
    /// The test images.
    pub test: Dataset,
    /// The shape of every image.
    pub shape: ImageShape,
    /// Where they were read from.
    pub dir: PathBuf,
}

/// Per-channel mean and standard deviation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelStats {
    /// Mean of each channel.
    pub mean: Vec<f32>,
    /// Standard deviation of each channel (population, as torchvision's published constants).
    pub std: Vec<f32>,
}

impl ChannelStats {
    /// The statistics of `data`'s images (computed in `f64`).
    pub fn of(data: &Dataset, shape: ImageShape) -> Result<Self> {
        check_shape(data, shape)?;
        let plane = shape.plane();
        let mut sum = vec![0f64; shape.channels];
        let mut sq = vec![0f64; shape.channels];
        for i in 0..data.len() {
            for (c, values) in data.row(i).chunks(plane).enumerate() {
                for &v in values {
                    sum[c] += f64::from(v);
                    sq[c] += f64::from(v) * f64::from(v);
                }
            }
        }
        let n = (data.len() * plane).max(1) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let std = sq
            .iter()
            .zip(&mean)
            .map(|(q, m)| ((q / n - m * m).max(0.0).sqrt()) as f32)
            .collect();
        Ok(ChannelStats {
            mean: mean.into_iter().map(|m| m as f32).collect(),
            std,
        })
    }

    /// `(x - mean_c) / std_c` for every pixel of channel `c` (a zero std leaves the channel
    /// centred but unscaled).
    pub fn normalize(&self, data: &Dataset, shape: ImageShape) -> Result<Dataset> {
        check_shape(data, shape)?;
        if self.mean.len() != shape.channels || self.std.len() != shape.channels {
            return Err(Error::invalid(format!(
                "normalisation has {} means and {} deviations for images of {} channels",
                self.mean.len(),
                self.std.len(),
                shape.channels
            )));
        }
        let plane = shape.plane();
        let mut features = data.features().to_vec();
        for row in features.chunks_mut(shape.len()) {
            for (c, values) in row.chunks_mut(plane).enumerate() {
                let s = if self.std[c] > 0.0 { self.std[c] } else { 1.0 };
                for v in values {
                    *v = (*v - self.mean[c]) / s;
                }
            }
        }
        Dataset::new(
            features,
            data.labels().to_vec(),
            data.dim(),
            data.num_classes(),
        )
    }
}

fn check_shape(data: &Dataset, shape: ImageShape) -> Result<()> {
    if data.dim() != shape.len() {
        return Err(Error::invalid(format!(
            "rows of {} values are not images of {}x{}x{}",
            data.dim(),
            shape.channels,
            shape.height,
            shape.width
        )));
    }
    Ok(())
}

/// Training-time augmentation of CIFAR ResNets (He et al. 2016): pad each side by `pad` pixels
/// of zero, crop back to the original size at a random offset, and mirror left-right with
/// probability 1/2 when `flip`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Augment {
    /// Zero padding on each side before the random crop (4 in the ResNet paper; 0 for none).
    pub pad: usize,
    /// Random horizontal flips.
    pub flip: bool,
}

impl Augment {
    /// Augments `n` images stored one after another in `rows`, in place, with every random
    /// choice drawn from `rng` (two offsets and a coin per image, in image order).
    pub fn apply(&self, rows: &mut [f32], shape: ImageShape, rng: &mut Rng) {
        let (h, w) = (shape.height, shape.width);
        let pad = self.pad as isize;
        let mut scratch = vec![0f32; shape.len()];
        for image in rows.chunks_mut(shape.len()) {
            let dy = if pad > 0 {
                rng.gen_range(-pad..=pad)
            } else {
                0
            };
            let dx = if pad > 0 {
                rng.gen_range(-pad..=pad)
            } else {
                0
            };
            let mirror = self.flip && rng.gen_bool(0.5);
            if dx == 0 && dy == 0 && !mirror {
                continue;
            }
            for c in 0..shape.channels {
                let src = &image[c * h * w..(c + 1) * h * w];
                let dst = &mut scratch[c * h * w..(c + 1) * h * w];
                for y in 0..h {
                    for x in 0..w {
                        // Output pixel (y, x) shows the padded image at (y + dy, x' + dx),
                        // x' being x or its mirror.
                        let xs = if mirror { w - 1 - x } else { x };
                        let sy = y as isize + dy;
                        let sx = xs as isize + dx;
                        dst[y * w + x] = if sy >= 0 && sy < h as isize && sx >= 0 && sx < w as isize
                        {
                            src[sy as usize * w + sx as usize]
                        } else {
                            0.0
                        };
                    }
                }
            }
            image.copy_from_slice(&scratch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use genviz_core::rng::stream;

    fn tiny() -> (Dataset, ImageShape) {
        let shape = ImageShape {
            channels: 2,
            height: 2,
            width: 3,
        };
        let features: Vec<f32> = (0..24).map(|i| i as f32).collect();
        (Dataset::new(features, vec![0, 1], 12, 2).unwrap(), shape)
    }

    #[test]
    fn normalisation_gives_zero_mean_unit_std_per_channel() {
        let (d, shape) = tiny();
        let stats = ChannelStats::of(&d, shape).unwrap();
        // Channel 0 holds 0..6 and 12..18.
        assert!((stats.mean[0] - 8.5).abs() < 1e-6);
        let n = stats.normalize(&d, shape).unwrap();
        let again = ChannelStats::of(&n, shape).unwrap();
        for c in 0..2 {
            assert!(again.mean[c].abs() < 1e-5 && (again.std[c] - 1.0).abs() < 1e-5);
        }
        let wrong = ImageShape {
            channels: 3,
            ..shape
        };
        assert!(ChannelStats::of(&d, wrong).is_err());
    }

    #[test]
    fn augmentation_is_seeded_and_keeps_pixels() {
        let shape = ImageShape {
            channels: 1,
            height: 4,
            width: 4,
        };
        let image: Vec<f32> = (1..=16).map(|i| i as f32).collect();
        let flip = Augment { pad: 0, flip: true };
        // Over several draws a pure flip either leaves the image or mirrors every row.
        let mut rng = stream(3, "augment");
        let mut saw_mirror = false;
        for _ in 0..20 {
            let mut x = image.clone();
            flip.apply(&mut x, shape, &mut rng);
            if x != image {
                saw_mirror = true;
                assert_eq!(&x[..4], &[4.0, 3.0, 2.0, 1.0]);
            }
        }
        assert!(saw_mirror);
        // A crop keeps a shifted window: each value is zero padding or an original pixel at
        // the same offset as its neighbours.
        let crop = Augment {
            pad: 1,
            flip: false,
        };
        let mut a = image.repeat(8);
        let mut b = a.clone();
        crop.apply(&mut a, shape, &mut stream(5, "augment"));
        crop.apply(&mut b, shape, &mut stream(5, "augment"));
        assert_eq!(a, b, "same seed, same crops");
        for img in a.chunks(16) {
            let nonzero: Vec<f32> = img.iter().copied().filter(|&v| v != 0.0).collect();
            assert!(nonzero.len() >= 9);
            assert!(nonzero.iter().all(|v| image.contains(v)));
        }
    }

    #[test]
    fn missing_data_says_how_to_get_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = ImageSource::Mnist
            .load(Some(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("train-images-idx3-ubyte"), "{err}");
        assert_eq!(
            ImageSource::parse("fashion-mnist"),
            Some(ImageSource::FashionMnist)
        );
        assert_eq!(ImageSource::parse("svhn"), None);
    }

    #[test]
    fn loads_an_mnist_folder_written_in_idx() {
        let dir = tempfile::tempdir().unwrap();
        let pixels = vec![255u8; 2 * 28 * 28];
        for (stem, n) in [("train", 2u32), ("t10k", 1)] {
            std::fs::write(
                dir.path().join(format!("{stem}-images-idx3-ubyte")),
                idx_bytes(IDX_IMAGES_MAGIC, &[n, 28, 28], &pixels[..n as usize * 784]),
            )
            .unwrap();
            std::fs::write(
                dir.path().join(format!("{stem}-labels-idx1-ubyte")),
                idx_bytes(IDX_LABELS_MAGIC, &[n], &[4, 5][..n as usize]),
            )
            .unwrap();
        }
        let data = ImageSource::Mnist.load(Some(dir.path())).unwrap();
        assert_eq!((data.train.len(), data.test.len()), (2, 1));
        assert_eq!(data.train.row(0)[0], 1.0);
        // CIFAR's shape check rejects 28x28 images read as CIFAR-like data elsewhere.
        assert_eq!(data.shape.len(), 784);
    }
}

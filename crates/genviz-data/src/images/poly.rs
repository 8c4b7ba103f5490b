//! Degree-2 polynomial features of images: the inputs of the linear model that Huang et al.
//! set against a neural net in Fig 2 (SPEC 1.10).
//!
//! The authors' `CIFAR10poly16` features are every degree-2 monomial `x_i x_j` (`i <= j`) of
//! the image downsized to 16x16 (768 values: 295,296 monomials) plus the 3,072 raw pixels,
//! 298,368 in all: a linear model on them is as expressive as a quadratic classifier of the
//! small image, and has more parameters than there are training images. Here the same
//! construction works on any [`ImageShape`]: for Fashion-MNIST's 28x28 grey images downsized
//! to 14x14 that is `196 * 197 / 2 + 784 = 20,090` features (see [`poly_feature_count`]).
//!
//! Each row is laid out as the raw pixels first (NCHW, as the image rows), then the monomials
//! of the downsized image `d` (channel planes one after the other) in the order
//! `d_0 d_0, d_0 d_1, ..., d_0 d_{m-1}, d_1 d_1, d_1 d_2, ..., d_{m-1} d_{m-1}`.
//! [`PolyFeatures`] also standardises every feature with its training-set mean and deviation,
//! so one learning rate suits the squared terms and the pixels alike.

use super::ImageShape;
use genviz_core::{Dataset, Error, Result};

/// The downsized side for Fashion-MNIST and MNIST: 28 / 2, so area averaging is exact 2x2
/// blocks (the authors halve CIFAR-10's 32 to 16 the same way).
pub const DEFAULT_POLY_SIDE: usize = 14;

/// Number of polynomial features of images of `shape` downsized to `side` x `side`: with
/// `m = channels * side^2` downsized values, `m (m + 1) / 2` monomials plus the raw pixels.
/// For 28x28 grey images and side 14: `196 * 197 / 2 + 784 = 20,090`; for CIFAR-10 and side
/// 16: `768 * 769 / 2 + 3,072 = 298,368`, the authors' count.
pub fn poly_feature_count(shape: ImageShape, side: usize) -> usize {
    let m = shape.channels * side * side;
    m * (m + 1) / 2 + shape.len()
}

/// Area-average downsampling of one NCHW image to `side` x `side` per channel: each output
/// pixel is the mean of the input area it covers, input pixels cut by an output pixel's edge
/// counting by the fraction inside (as OpenCV's `INTER_AREA` and PIL's box filter). When the
/// side divides the image it is the plain block mean.
pub fn downsample_area(image: &[f32], shape: ImageShape, side: usize) -> Vec<f32> {
    assert_eq!(image.len(), shape.len(), "image of {shape:?}");
    let rows = area_weights(shape.height, side);
    let cols = area_weights(shape.width, side);
    let mut out = Vec::with_capacity(shape.channels * side * side);
    for plane in image.chunks(shape.plane()) {
        for row in &rows {
            for col in &cols {
                let mut sum = 0f64;
                for &(y, wy) in row {
                    for &(x, wx) in col {
                        sum += wy * wx * f64::from(plane[y * shape.width + x]);
                    }
                }
                out.push(sum as f32);
            }
        }
    }
    out
}

/// For each of `side` output pixels along an axis of `n` input pixels, the input pixels it
/// covers and their weights (the fraction of the input pixel inside, over the output pixel's
/// width `n / side`; the weights sum to 1).
fn area_weights(n: usize, side: usize) -> Vec<Vec<(usize, f64)>> {
    let scale = n as f64 / side as f64;
    (0..side)
        .map(|o| {
            let (lo, hi) = (o as f64 * scale, (o + 1) as f64 * scale);
            let first = lo.floor() as usize;
            let last = (hi.ceil() as usize).min(n);
            (first..last)
                .filter_map(|i| {
                    let overlap = hi.min(i as f64 + 1.0) - lo.max(i as f64);
                    (overlap > 1e-12).then_some((i, overlap / scale))
                })
                .collect()
        })
        .collect()
}

/// Writes the polynomial features of one image into `out` (raw pixels, then the monomials of
/// the downsized image; see the module documentation), unstandardised.
pub fn poly_features_of(image: &[f32], shape: ImageShape, side: usize, out: &mut [f32]) {
    assert_eq!(out.len(), poly_feature_count(shape, side), "feature buffer");
    let (raw, quad) = out.split_at_mut(image.len());
    raw.copy_from_slice(image);
    let small = downsample_area(image, shape, side);
    let mut k = 0;
    for (i, &a) in small.iter().enumerate() {
        for &b in &small[i..] {
            quad[k] = a * b;
            k += 1;
        }
    }
}

/// Polynomial features with a standardisation fitted on a training set: every feature minus
/// its training mean, over its training deviation (population; features constant on the
/// training set are only centred).
#[derive(Clone, Debug, PartialEq)]
pub struct PolyFeatures {
    shape: ImageShape,
    side: usize,
    mean: Vec<f32>,
    std: Vec<f32>,
}

impl PolyFeatures {
    /// Fits the standardisation on `train`, rows of images of `shape`, downsized to `side`.
    pub fn fit(train: &Dataset, shape: ImageShape, side: usize) -> Result<Self> {
        check(train, shape, side)?;
        let n_features = poly_feature_count(shape, side);
        let mut sum = vec![0f64; n_features];
        let mut sq = vec![0f64; n_features];
        let mut row = vec![0f32; n_features];
        for i in 0..train.len() {
            poly_features_of(train.row(i), shape, side, &mut row);
            for ((s, q), &v) in sum.iter_mut().zip(sq.iter_mut()).zip(&row) {
                let v = f64::from(v);
                *s += v;
                *q += v * v;
            }
        }
        let n = train.len().max(1) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let std = sq
            .iter()
            .zip(&mean)
            .map(|(q, m)| (q / n - m * m).max(0.0).sqrt() as f32)
            .collect();
        Ok(PolyFeatures {
            shape,
            side,
            mean: mean.into_iter().map(|m| m as f32).collect(),
            std,
        })
    }

    /// Number of features per image.
    pub fn len(&self) -> usize {
        self.mean.len()
    }

    /// True when there are no features (never, for a valid shape).
    pub fn is_empty(&self) -> bool {
        self.mean.is_empty()
    }

    /// The side the images are downsized to before taking products.
    pub fn side(&self) -> usize {
        self.side
    }

    /// Training means of the features.
    pub fn mean(&self) -> &[f32] {
        &self.mean
    }

    /// Training deviations of the features.
    pub fn std(&self) -> &[f32] {
        &self.std
    }

    /// The standardised polynomial features of `data`'s images, labels kept.
    pub fn transform(&self, data: &Dataset) -> Result<Dataset> {
        check(data, self.shape, self.side)?;
        let d = self.len();
        let mut features = vec![0f32; data.len() * d];
        for (i, out) in features.chunks_mut(d).enumerate() {
            poly_features_of(data.row(i), self.shape, self.side, out);
            for ((v, &m), &s) in out.iter_mut().zip(&self.mean).zip(&self.std) {
                let s = if s > 0.0 { s } else { 1.0 };
                *v = (*v - m) / s;
            }
        }
        Dataset::new(features, data.labels().to_vec(), d, data.num_classes())
    }
}

fn check(data: &Dataset, shape: ImageShape, side: usize) -> Result<()> {
    if data.dim() != shape.len() || shape.is_empty() {
        return Err(Error::invalid(format!(
            "polynomial features: rows of {} values are not images of {}x{}x{}",
            data.dim(),
            shape.channels,
            shape.height,
            shape.width
        )));
    }
    if side == 0 || side > shape.height || side > shape.width {
        return Err(Error::invalid(format!(
            "polynomial features: cannot downsize {}x{} images to {side}x{side}; the side must be 1..={}",
            shape.height,
            shape.width,
            shape.height.min(shape.width)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GREY4: ImageShape = ImageShape {
        channels: 1,
        height: 4,
        width: 4,
    };

    #[test]
    fn counts_match_the_authors_and_fashion_mnist() {
        let cifar = ImageShape {
            channels: 3,
            height: 32,
            width: 32,
        };
        assert_eq!(poly_feature_count(cifar, 16), 298_368);
        let fashion = ImageShape {
            channels: 1,
            height: 28,
            width: 28,
        };
        assert_eq!(poly_feature_count(fashion, DEFAULT_POLY_SIDE), 20_090);
    }

    #[test]
    fn area_downsampling_is_the_block_mean_and_splits_cut_pixels() {
        let image: Vec<f32> = (0..16).map(|v| v as f32).collect();
        // 2x2 blocks of 0 1 / 4 5 etc.
        assert_eq!(
            downsample_area(&image, GREY4, 2),
            vec![2.5, 4.5, 10.5, 12.5]
        );
        assert_eq!(downsample_area(&image, GREY4, 1), vec![7.5]);
        assert_eq!(downsample_area(&image, GREY4, 4), image);
        // 3 pixels to 2: output 0 covers pixel 0 and half of pixel 1.
        let row = ImageShape {
            channels: 1,
            height: 1,
            width: 3,
        };
        let small = downsample_area(&[3.0, 6.0, 9.0], row, 1);
        assert!((small[0] - 6.0).abs() < 1e-6);
        let weights = area_weights(3, 2);
        assert_eq!(weights[0], vec![(0, 2.0 / 3.0), (1, 1.0 / 3.0)]);
        assert_eq!(weights[1], vec![(1, 1.0 / 3.0), (2, 2.0 / 3.0)]);
    }

    #[test]
    fn features_are_the_pixels_then_the_monomials_by_hand() {
        // A 2-channel 2x2 image downsized to 1x1: each channel's mean, 2.5 and 10.
        let shape = ImageShape {
            channels: 2,
            height: 2,
            width: 2,
        };
        let image = [1.0, 2.0, 3.0, 4.0, 10.0, 10.0, 10.0, 10.0];
        let n = poly_feature_count(shape, 1);
        assert_eq!(n, 3 + 8);
        let mut out = vec![0f32; n];
        poly_features_of(&image, shape, 1, &mut out);
        assert_eq!(&out[..8], &image);
        assert_eq!(&out[8..], &[6.25, 25.0, 100.0]);
        // Side 2 keeps all 8 values: 8 * 9 / 2 = 36 monomials.
        assert_eq!(poly_feature_count(shape, 2), 36 + 8);
        let mut out = vec![0f32; 44];
        poly_features_of(&image, shape, 2, &mut out);
        // x0 x0, x0 x1, ..., x0 x7, then x1 x1 ...
        assert_eq!(&out[8..12], &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(out[8 + 8], 4.0, "x1 x1");
        assert_eq!(*out.last().unwrap(), 100.0, "x7 x7");
    }

    #[test]
    fn standardisation_uses_training_statistics() {
        let shape = ImageShape {
            channels: 1,
            height: 1,
            width: 2,
        };
        // Downsized to 1x1: the mean m of the two pixels; features x0, x1, m^2.
        let train = Dataset::new(vec![0.0, 2.0, 2.0, 2.0], vec![0, 1], 2, 2).unwrap();
        let poly = PolyFeatures::fit(&train, shape, 1).unwrap();
        assert_eq!(poly.len(), 3);
        // x0 is 0 and 2 (mean 1, std 1); x1 is constant 2; m^2 is 1 and 4 (mean 2.5, std 1.5).
        assert_eq!(poly.mean(), &[1.0, 2.0, 2.5]);
        assert_eq!(poly.std(), &[1.0, 0.0, 1.5]);
        let t = poly.transform(&train).unwrap();
        assert_eq!(t.features(), &[-1.0, 0.0, -1.0, 1.0, 0.0, 1.0]);
        assert_eq!(t.labels(), &[0, 1]);
        // New data is scaled with the training statistics; the constant feature only centred.
        let test = Dataset::new(vec![4.0, 4.0], vec![1], 2, 2).unwrap();
        let t = poly.transform(&test).unwrap();
        assert_eq!(t.features(), &[3.0, 2.0, (16.0 - 2.5) / 1.5]);
        assert!(PolyFeatures::fit(&train, shape, 2).is_err());
        assert!(PolyFeatures::fit(&train, GREY4, 1).is_err());
    }
}

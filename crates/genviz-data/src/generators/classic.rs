//! Two classic toy problems that are not in the paper but are handy for trying genviz out:
//! scikit-learn-style moons and Gaussian blobs.

use super::assemble;
use genviz_core::rng::Rng;
use genviz_core::Dataset;
use rand::Rng as _;
use rand_distr::StandardNormal;
use std::f64::consts::PI;

/// Horizontal shift of the lower moon, as in scikit-learn's `make_moons` (not in the SPEC).
const MOONS_SHIFT_X: f64 = 1.0;
/// Height of the lower moon's flat side, as in scikit-learn's `make_moons` (not in the SPEC).
const MOONS_SHIFT_Y: f64 = 0.5;

/// Two interleaving half circles, like scikit-learn's `make_moons`.
///
/// A small non-linear problem that trains in seconds; useful to check a pipeline before running
/// the paper's swiss roll.
#[derive(Clone, Debug, PartialEq)]
pub struct Moons {
    /// Points in each of the two moons.
    pub points_per_class: usize,
    /// Standard deviation of the Gaussian noise added to each coordinate.
    pub noise: f32,
}

impl Moons {
    /// Label 0: `(cos a, sin a)`; label 1: `(1 − cos a, 0.5 − sin a)`, with `a` evenly spaced over
    /// `[0, π]`; then noise. Unlike scikit-learn the result is not shuffled (class 0 first).
    ///
    /// # Panics
    /// If `noise` is not finite.
    pub fn generate(&self, rng: &mut Rng) -> Dataset {
        let n = self.points_per_class;
        let step = if n > 1 { PI / (n - 1) as f64 } else { 0.0 };
        let mut clean = Vec::with_capacity(4 * n);
        for i in 0..n {
            let a = i as f64 * step;
            clean.extend_from_slice(&[a.cos(), a.sin()]);
        }
        for i in 0..n {
            let a = i as f64 * step;
            clean.extend_from_slice(&[MOONS_SHIFT_X - a.cos(), MOONS_SHIFT_Y - a.sin()]);
        }
        let sigma = f64::from(self.noise);
        let features = clean
            .iter()
            .map(|&v| (v + sigma * rng.sample::<f64, _>(StandardNormal)) as f32)
            .collect();
        let labels = [vec![0; n], vec![1; n]].concat();
        assemble(features, labels, 2, 2)
    }
}

/// Isotropic Gaussian clusters, one per class, like scikit-learn's `make_blobs`.
///
/// Works in any dimension and with any number of classes, to exercise multi-class networks.
#[derive(Clone, Debug, PartialEq)]
pub struct Blobs {
    /// Points in each cluster.
    pub points_per_class: usize,
    /// Number of clusters, one class each.
    pub num_classes: usize,
    /// Number of features.
    pub dim: usize,
    /// Standard deviation of each cluster along every axis.
    pub spread: f32,
    /// Cluster centres are drawn uniformly from `[−center_box, center_box]^dim`.
    pub center_box: f32,
}

impl Blobs {
    /// Draws every centre first (class 0's first), then the points class by class, class 0
    /// first, unshuffled.
    ///
    /// # Panics
    /// If `dim` or `num_classes` is 0, or `spread` or `center_box` is not finite.
    pub fn generate(&self, rng: &mut Rng) -> Dataset {
        assert!(self.dim > 0, "Blobs needs at least one feature (dim = 0)");
        assert!(self.num_classes > 0, "Blobs needs at least one class");
        let (k, d, n) = (self.num_classes, self.dim, self.points_per_class);
        let b = self.center_box;
        let centers: Vec<f32> = (0..k * d)
            .map(|_| -b + 2.0 * b * rng.gen::<f32>())
            .collect();
        let mut features = Vec::with_capacity(k * n * d);
        let mut labels = Vec::with_capacity(k * n);
        for (class, center) in centers.chunks(d).enumerate() {
            for _ in 0..n {
                for &c in center {
                    features.push(c + self.spread * rng.sample::<f32, _>(StandardNormal));
                }
                labels.push(class as u32);
            }
        }
        assemble(features, labels, d, k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use genviz_core::rng::stream;

    #[test]
    fn noise_free_moons_lie_on_their_half_circles() {
        let d = Moons {
            points_per_class: 50,
            noise: 0.0,
        }
        .generate(&mut stream(1, "data"));
        assert_eq!(d.class_counts(), vec![50, 50]);
        for i in 0..50 {
            let [x, y] = [d.row(i)[0], d.row(i)[1]];
            assert!((x.hypot(y) - 1.0).abs() < 1e-6 && y >= 0.0);
            let [x, y] = [d.row(50 + i)[0] - 1.0, d.row(50 + i)[1] - 0.5];
            assert!((x.hypot(y) - 1.0).abs() < 1e-6 && y <= 1e-6);
        }
        assert_eq!(d.row(0), &[1.0, 0.0]);
        assert_eq!(d.row(50), &[0.0, 0.5]);
    }

    #[test]
    fn moons_are_seeded() {
        let m = Moons {
            points_per_class: 20,
            noise: 0.1,
        };
        let a = m.generate(&mut stream(1, "data"));
        assert_eq!(a, m.generate(&mut stream(1, "data")));
        assert_ne!(a, m.generate(&mut stream(2, "data")));
    }

    #[test]
    fn blobs_cluster_around_centres_in_the_box() {
        let blobs = Blobs {
            points_per_class: 500,
            num_classes: 3,
            dim: 4,
            spread: 0.5,
            center_box: 10.0,
        };
        let d = blobs.generate(&mut stream(3, "data"));
        assert_eq!((d.len(), d.dim(), d.num_classes()), (1500, 4, 3));
        assert_eq!(d.class_counts(), vec![500; 3]);
        for class in 0..3 {
            let rows = class * 500..(class + 1) * 500;
            assert!(rows.clone().all(|i| d.labels()[i] == class as u32));
            for j in 0..4 {
                let mean = rows.clone().map(|i| d.row(i)[j]).sum::<f32>() / 500.0;
                let var = rows
                    .clone()
                    .map(|i| (d.row(i)[j] - mean).powi(2))
                    .sum::<f32>()
                    / 500.0;
                assert!(mean.abs() <= 10.0 + 0.2, "mean {mean}");
                assert!((var.sqrt() - 0.5).abs() < 0.05, "std {}", var.sqrt());
            }
        }
        assert_ne!(d, blobs.generate(&mut stream(4, "data")));
    }
}

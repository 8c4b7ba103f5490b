//! Synthetic data sets: the paper's swiss roll, minefield spiral and sharp circles, plus moons
//! and blobs, all drawn from a caller-supplied seeded [`Rng`] so runs are reproducible.
//!
//! Generators return points ordered by class (all of class 0, then class 1, ...), unshuffled,
//! as the authors' code builds them; use [`crate::split`] to shuffle or split.

mod authors_rng;
mod circles;
mod classic;
mod minefield;
mod swiss_roll;

pub use circles::{
    SharpCircles, SHARP_BRIDGE_POINTS, SHARP_GAP, SHARP_INNER_POINTS, SHARP_INNER_RADIUS,
    SHARP_OUTER_POINTS, SHARP_OUTER_RADIUS,
};
pub use classic::{Blobs, Moons};
pub use minefield::{
    Minefield, MinefieldData, MINEFIELD_AUTHORS_NUMPY_SEED, MINEFIELD_AUTHORS_PYTHON_SEED,
    MINEFIELD_CYCLES, MINEFIELD_POINTS_PER_CLASS, MINEFIELD_RADIUS_SCALE, MINEFIELD_TRAIN_FRACTION,
};
pub use swiss_roll::{
    SwissRoll, SWISS_ROLL_ARM_SCALE, SWISS_ROLL_MAX_ANGLE_DEG, SWISS_ROLL_NOISE,
    SWISS_ROLL_POINTS_PER_CLASS, SWISS_ROLL_TRAIN_SIZE,
};

use genviz_core::rng::Rng;
use genviz_core::Dataset;
use rand::Rng as _;

/// The same points with every label replaced by a *different* class, chosen at random.
///
/// This is how the paper builds its poison set D_p (SPEC §1.3, §1.8): points from the data
/// distribution whose labels are wrong. With two classes the flip is deterministic (`y → 1 − y`,
/// as the authors' code does) and `rng` is not touched; with `K > 2` classes each label becomes
/// `(y + 1 + u) mod K` with `u` uniform in `0..=K−2`, i.e. uniform over the other classes. A
/// data set with a single class has no wrong label to give, so it is returned unchanged.
pub fn flip_labels(data: &Dataset, rng: &mut Rng) -> Dataset {
    let k = data.num_classes() as u32;
    match k {
        0 | 1 => data.clone(),
        2 => data.relabelled(|y| 1 - y),
        _ => data.relabelled(|y| (y + 1 + rng.gen_range(0..k - 1)) % k),
    }
}

/// Builds a generated data set, whose sizes and labels are right by construction.
///
/// Only a non-finite generator parameter (noise, spread, ...) can make this fail, which is a
/// programming error in the caller, so it panics with the reason.
fn assemble(features: Vec<f32>, labels: Vec<u32>, dim: usize, num_classes: usize) -> Dataset {
    Dataset::new(features, labels, dim, num_classes)
        .unwrap_or_else(|e| panic!("generator parameters produced an invalid data set: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use genviz_core::rng::stream;

    #[test]
    fn binary_flip_is_one_minus_y() {
        let d = Dataset::new(vec![0.0; 4], vec![0, 1, 1, 0], 1, 2).unwrap();
        let f = flip_labels(&d, &mut stream(1, "t"));
        assert_eq!(f.labels(), &[1, 0, 0, 1]);
        assert_eq!(f.features(), d.features());
    }

    #[test]
    fn multiclass_flip_always_changes_and_reaches_every_other_class() {
        let labels: Vec<u32> = (0..3000).map(|i| i % 4).collect();
        let d = Dataset::new(vec![0.0; 3000], labels, 1, 4).unwrap();
        let f = flip_labels(&d, &mut stream(2, "t"));
        let mut seen = [[false; 4]; 4];
        for (&a, &b) in d.labels().iter().zip(f.labels()) {
            assert_ne!(a, b);
            seen[a as usize][b as usize] = true;
        }
        for (a, row) in seen.iter().enumerate() {
            for (b, &s) in row.iter().enumerate() {
                assert_eq!(s, a != b, "{a} -> {b}");
            }
        }
    }

    #[test]
    fn single_class_is_unchanged() {
        let d = Dataset::new(vec![0.0; 2], vec![0, 0], 1, 1).unwrap();
        assert_eq!(flip_labels(&d, &mut stream(3, "t")), d);
    }
}

//! The noise-free spiral of Fig 1 and its train / "untraining" / test split (SPEC §1.8,
//! gen-viz `minefield/utils.py`).

use super::assemble;
use crate::split::permutation;
use genviz_core::rng::Rng;
use genviz_core::Dataset;
use std::f64::consts::PI;

/// Points per class: 200, so 400 in all (SPEC §1.8).
pub const MINEFIELD_POINTS_PER_CLASS: usize = 200;
/// Fraction of the points used for training: ceil(0.33 · 400) = 132 (SPEC §1.8).
pub const MINEFIELD_TRAIN_FRACTION: f64 = 0.33;
/// Turns of the spiral: θ_t = t · 3π/200 over 200 points is 1.5 cycles (SPEC §1.8).
pub const MINEFIELD_CYCLES: f64 = 1.5;
/// The arm is `(5√θ cos θ, 5√θ sin θ)` (SPEC §1.8).
pub const MINEFIELD_RADIUS_SCALE: f64 = 5.0;

/// The Fig 1 spiral generator and its three-way split.
///
/// Unlike the swiss roll there is no noise: label 1 sits at `(5√θ cos θ, 5√θ sin θ)` with
/// `θ_t = t · 2π · 1.5 / points_per_class` (`t · 3π/200` for the paper's 200), and label 0 is its
/// negation. The paper trains a good model on ~33% of the points and finds "bad minima" by also
/// fitting an equally large set of the remaining points with wrong labels, then scores those
/// minima on the rest, so the split is part of the data set.
#[derive(Clone, Debug, PartialEq)]
pub struct Minefield {
    /// Points in each of the two classes.
    pub points_per_class: usize,
    /// Fraction of all points used for training (rounded up).
    pub train_fraction: f64,
}

impl Default for Minefield {
    /// The paper's setting: 200 points per class, 33% train (SPEC §1.8).
    fn default() -> Self {
        Minefield {
            points_per_class: MINEFIELD_POINTS_PER_CLASS,
            train_fraction: MINEFIELD_TRAIN_FRACTION,
        }
    }
}

/// The minefield's disjoint parts, which together hold every generated point once.
#[derive(Clone, Debug, PartialEq)]
pub struct MinefieldData {
    /// The training points with their true labels (132 in the paper).
    pub train: Dataset,
    /// The "untraining" points D_p with **flipped** labels, as the bad-minima search fits them
    /// (134 in the paper).
    pub poison: Dataset,
    /// The same points as `poison`, in the same order, with their true labels, on which bad
    /// minima are scored.
    pub poison_true: Dataset,
    /// The held-out test points with true labels (134 in the paper).
    pub test: Dataset,
}

impl Minefield {
    /// All points unsplit: label 0 (the negated arm) first, then label 1, in order of θ.
    pub fn points(&self) -> Dataset {
        let n = self.points_per_class;
        let step = 2.0 * PI * MINEFIELD_CYCLES / n.max(1) as f64;
        let mut arm = Vec::with_capacity(2 * n);
        for t in 0..n {
            let theta = t as f64 * step;
            let r = MINEFIELD_RADIUS_SCALE * theta.sqrt();
            arm.extend_from_slice(&[(r * theta.cos()) as f32, (r * theta.sin()) as f32]);
        }
        let mut features: Vec<f32> = arm.iter().map(|v| -v).collect();
        features.extend_from_slice(&arm);
        let labels = [vec![0; n], vec![1; n]].concat();
        assemble(features, labels, 2, 2)
    }

    /// Generates the points and splits them at random: `ceil(train_fraction · total)` train,
    /// then the rest halved into poison (the smaller half when odd) and test.
    ///
    /// # Panics
    /// If `train_fraction` is not finite.
    pub fn generate(&self, rng: &mut Rng) -> MinefieldData {
        let all = self.points();
        let total = all.len();
        // A hair below the product so that 0.33 · 400 counts as 132 whatever its last bit.
        let wanted = (self.train_fraction * total as f64 - 1e-9).ceil();
        assert!(wanted.is_finite(), "train_fraction must be finite");
        let n_train = (wanted.max(0.0) as usize).min(total);
        let n_poison = (total - n_train) / 2;

        let order = permutation(total, rng);
        let (train, rest) = order.split_at(n_train);
        let (poison, test) = rest.split_at(n_poison);
        let poison_true = all.select(poison);
        MinefieldData {
            train: all.select(train),
            poison: poison_true.relabelled(|y| 1 - y),
            poison_true,
            test: all.select(test),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use genviz_core::rng::stream;
    use std::collections::HashSet;

    fn keys(d: &Dataset) -> Vec<(u32, u32, u32)> {
        (0..d.len())
            .map(|i| (d.row(i)[0].to_bits(), d.row(i)[1].to_bits(), d.labels()[i]))
            .collect()
    }

    #[test]
    fn split_sizes_labels_and_coverage() {
        let m = Minefield::default().generate(&mut stream(4, "data"));
        assert_eq!(m.train.len(), 132);
        assert_eq!(m.poison.len(), 134);
        assert_eq!(m.poison_true.len(), 134);
        assert_eq!(m.test.len(), 134);
        assert_eq!(m.poison.features(), m.poison_true.features());
        for (&p, &t) in m.poison.labels().iter().zip(m.poison_true.labels()) {
            assert_eq!(p, 1 - t);
        }
        let all = Minefield::default().points();
        let mut parts = keys(&m.train);
        parts.extend(keys(&m.poison_true));
        parts.extend(keys(&m.test));
        let unique: HashSet<_> = parts.iter().copied().collect();
        assert_eq!(unique.len(), 400, "parts overlap");
        assert_eq!(unique, keys(&all).into_iter().collect::<HashSet<_>>());
    }

    #[test]
    fn points_follow_the_formula() {
        let all = Minefield::default().points();
        assert_eq!(all.class_counts(), vec![200, 200]);
        let t = 37usize;
        let theta = t as f64 * 3.0 * PI / 200.0;
        let r = 5.0 * theta.sqrt();
        let red = all.row(200 + t);
        assert!((red[0] as f64 - r * theta.cos()).abs() < 1e-5);
        assert!((red[1] as f64 - r * theta.sin()).abs() < 1e-5);
        assert_eq!(all.row(t), &[-red[0], -red[1]]);
        assert_eq!(all.labels()[200 + t], 1);
    }

    #[test]
    fn split_depends_on_seed_only() {
        let f = Minefield::default();
        let a = f.generate(&mut stream(1, "data"));
        assert_eq!(a, f.generate(&mut stream(1, "data")));
        assert_ne!(a.train, f.generate(&mut stream(2, "data")).train);
    }
}

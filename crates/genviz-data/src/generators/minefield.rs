//! The noise-free spiral of Fig 1 and its train / "untraining" / test split (SPEC §1.8,
//! gen-viz `minefield/utils.py`).

use super::assemble;
use super::authors_rng::Mt19937;
use crate::split::permutation;
use genviz_core::rng::Rng;
use genviz_core::Dataset;
use std::f64::consts::PI;

/// Points per class: 200, so 400 in all (SPEC §1.8).
pub const MINEFIELD_POINTS_PER_CLASS: usize = 200;
/// Fraction of the points used for training: ceil(0.33 · 400) = 132 (SPEC §1.8).
pub const MINEFIELD_TRAIN_FRACTION: f64 = 0.33;
/// `random.seed` of gen-viz's `train_good_model.py` (its `--seed_value` default), which
/// draws the training points.
pub const MINEFIELD_AUTHORS_PYTHON_SEED: u32 = 99;
/// The NumPy seed `generate_spiral_data` sets (its `random_seed` default) before drawing its
/// noise and, afterwards, the untraining points.
pub const MINEFIELD_AUTHORS_NUMPY_SEED: u32 = 0;
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

    /// The paper's 400 points split exactly as the authors' code split them: the same 132
    /// training, 134 untraining and 134 test points (SPEC §1.8).
    ///
    /// `train_good_model.py` lists the red arm (label 1) before the blue one, takes
    /// `random.sample(points, 132)` after `random.seed(99)`, keeps the rest in order, and
    /// `create_untraining_set` untrains `np.random.choice(268, 134, replace=False)` of them
    /// (NumPy seeded with 0 and advanced by 800 noise draws), leaving the others, in order, as
    /// the test set. [`super::authors_rng`] replays both generators, so no Python is needed.
    /// Training points come in the order drawn, untraining points in the order chosen.
    pub fn authors_split() -> MinefieldData {
        let paper = Minefield::default();
        let all = paper.points();
        let n = paper.points_per_class;
        let total = 2 * n;
        // The authors' index a (red arm first) is our row a + n for red, a - n for blue.
        let ours = |a: usize| if a < n { a + n } else { a - n };
        let n_train = 132;
        let train = Mt19937::python(MINEFIELD_AUTHORS_PYTHON_SEED).python_sample(total, n_train);
        let mut taken = vec![false; total];
        for &a in &train {
            taken[a] = true;
        }
        let rest: Vec<usize> = (0..total).filter(|&a| !taken[a]).collect();
        let mut numpy = Mt19937::numpy(MINEFIELD_AUTHORS_NUMPY_SEED);
        numpy.numpy_skip_normals(2 * total);
        let order = numpy.numpy_permutation(rest.len());
        let (untrain, kept) = order.split_at(rest.len() / 2);
        let mut kept = kept.to_vec();
        kept.sort_unstable();
        let rows = |picks: &[usize], via_rest: bool| -> Vec<usize> {
            picks
                .iter()
                .map(|&i| ours(if via_rest { rest[i] } else { i }))
                .collect()
        };
        let poison_true = all.select(&rows(untrain, true));
        MinefieldData {
            train: all.select(&rows(&train, false)),
            poison: poison_true.relabelled(|y| 1 - y),
            poison_true,
            test: all.select(&rows(&kept, true)),
        }
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
    fn authors_split_matches_their_code() {
        // train_good_model.py's split, printed by CPython 3.11 and NumPy 2.4: the first points
        // drawn for training and for untraining, and the first test points, as (arm, t) with
        // arm 1 = red (label 1).
        let m = Minefield::authors_split();
        assert_eq!(
            (m.train.len(), m.poison.len(), m.test.len()),
            (132, 134, 134)
        );
        let at = |d: &Dataset, i: usize| {
            let p = Minefield::default().points();
            let row = d.row(i);
            let j = (0..p.len()).find(|&j| p.row(j) == row && p.labels()[j] == d.labels()[i]);
            j.map(|j| if j >= 200 { (1, j - 200) } else { (0, j) })
        };
        let firsts = |d: &Dataset| (0..3).map(|i| at(d, i).unwrap()).collect::<Vec<_>>();
        assert_eq!(firsts(&m.train), AUTHORS_TRAIN_FIRST);
        assert_eq!(firsts(&m.poison_true), AUTHORS_UNTRAIN_FIRST);
        assert_eq!(firsts(&m.test), AUTHORS_TEST_FIRST);
        let all = Minefield::default().points();
        let mut parts = keys(&m.train);
        parts.extend(keys(&m.poison_true));
        parts.extend(keys(&m.test));
        let unique: HashSet<_> = parts.iter().copied().collect();
        assert_eq!(unique, keys(&all).into_iter().collect::<HashSet<_>>());
        assert_eq!(unique.len(), 400);
    }

    const AUTHORS_TRAIN_FIRST: [(u32, usize); 3] = [(0, 6), (1, 194), (1, 102)];
    const AUTHORS_UNTRAIN_FIRST: [(u32, usize); 3] = [(1, 9), (1, 36), (1, 103)];
    const AUTHORS_TEST_FIRST: [(u32, usize); 3] = [(1, 1), (1, 7), (1, 10)];

    #[test]
    fn split_depends_on_seed_only() {
        let f = Minefield::default();
        let a = f.generate(&mut stream(1, "data"));
        assert_eq!(a, f.generate(&mut stream(1, "data")));
        assert_ne!(a.train, f.generate(&mut stream(2, "data")).train);
    }
}

//! Seeded shuffles and train/test splits.
//!
//! The swiss-roll experiment shuffles its 400 points with the run's seed and keeps the first 200
//! for training and the other 200 for testing (SPEC §1.1); these functions do the same with a
//! genviz [`Rng`] stream, so a split is reproducible from the seed alone.

use genviz_core::rng::Rng;
use genviz_core::{Dataset, Error, Result};
use rand::seq::SliceRandom;

/// A uniformly random permutation of `0..len` (Fisher–Yates), drawn from `rng`.
pub(crate) fn permutation(len: usize, rng: &mut Rng) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.shuffle(rng);
    order
}

/// The same examples in a random order, each feature row kept with its label.
///
/// Generators return points sorted by class; training on mini-batches or splitting needs them
/// mixed.
pub fn shuffle(data: &Dataset, rng: &mut Rng) -> Dataset {
    data.select(&permutation(data.len(), rng))
}

/// Shuffles `data` and returns `(train, test)`: the first `n_train` examples and the rest.
///
/// As in the authors' code the class balance of each part is left to chance.
///
/// # Errors
/// If `n_train` exceeds the number of examples.
pub fn train_test_split(
    data: &Dataset,
    n_train: usize,
    rng: &mut Rng,
) -> Result<(Dataset, Dataset)> {
    if n_train > data.len() {
        return Err(Error::invalid(format!(
            "cannot take {n_train} training examples from a data set of {}",
            data.len()
        )));
    }
    let order = permutation(data.len(), rng);
    let (train, test) = order.split_at(n_train);
    Ok((data.select(train), data.select(test)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generators::{SwissRoll, SWISS_ROLL_TRAIN_SIZE};
    use genviz_core::rng::stream;

    fn numbered(n: usize) -> Dataset {
        let features = (0..n).map(|i| i as f32).collect();
        let labels = (0..n).map(|i| (i % 3) as u32).collect();
        Dataset::new(features, labels, 1, 3).unwrap()
    }

    #[test]
    fn shuffle_permutes_rows_with_their_labels() {
        let d = numbered(50);
        let s = shuffle(&d, &mut stream(1, "split"));
        assert_ne!(s, d);
        let mut seen: Vec<usize> = (0..50).map(|i| s.row(i)[0] as usize).collect();
        for (i, &k) in seen.iter().enumerate() {
            assert_eq!(s.labels()[i], (k % 3) as u32);
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..50).collect::<Vec<_>>());
        assert_eq!(s, shuffle(&d, &mut stream(1, "split")));
    }

    #[test]
    fn split_sizes_disjointness_and_errors() {
        let d = numbered(10);
        let (train, test) = train_test_split(&d, 7, &mut stream(2, "split")).unwrap();
        assert_eq!((train.len(), test.len()), (7, 3));
        let mut all: Vec<f32> = train
            .features()
            .iter()
            .chain(test.features())
            .copied()
            .collect();
        all.sort_by(f32::total_cmp);
        assert_eq!(all, d.features());
        let (all_train, none) = train_test_split(&d, 10, &mut stream(2, "split")).unwrap();
        assert_eq!((all_train.len(), none.len()), (10, 0));
        let err = train_test_split(&d, 11, &mut stream(2, "split")).unwrap_err();
        assert!(err.to_string().contains("11"), "{err}");
    }

    #[test]
    fn swiss_roll_splits_200_200() {
        let roll = SwissRoll::default().generate(&mut stream(1237, "data"));
        let (train, test) =
            train_test_split(&roll, SWISS_ROLL_TRAIN_SIZE, &mut stream(1237, "split")).unwrap();
        assert_eq!((train.len(), test.len()), (200, 200));
        assert_eq!(train.class_counts().iter().sum::<usize>(), 200);
    }
}

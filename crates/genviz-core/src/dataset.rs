//! Labelled data sets: features in a row-major matrix and integer class labels.

use crate::{Error, Result};

/// A classification data set held in memory.
///
/// Features are row-major `[len, dim]` `f32` (one row per example, as numpy and PyTorch store
/// them); labels are class indices in `0..num_classes`.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    features: Vec<f32>,
    labels: Vec<u32>,
    dim: usize,
    num_classes: usize,
}

impl Dataset {
    /// Builds a data set, checking that the sizes agree, the features are finite and every
    /// label is below `num_classes`.
    pub fn new(
        features: Vec<f32>,
        labels: Vec<u32>,
        dim: usize,
        num_classes: usize,
    ) -> Result<Self> {
        if dim == 0 {
            return Err(Error::invalid(
                "a data set needs at least one feature column",
            ));
        }
        if features.len() != labels.len() * dim {
            return Err(Error::invalid(format!(
                "{} feature values do not make {} rows of {} features",
                features.len(),
                labels.len(),
                dim
            )));
        }
        if let Some(i) = features.iter().position(|v| !v.is_finite()) {
            return Err(Error::invalid(format!(
                "feature {} of example {} is {}, expected a finite number",
                i % dim,
                i / dim,
                features[i]
            )));
        }
        if let Some(i) = labels.iter().position(|&y| y as usize >= num_classes) {
            return Err(Error::invalid(format!(
                "label of example {i} is {}, expected a class in 0..{num_classes}",
                labels[i]
            )));
        }
        Ok(Dataset {
            features,
            labels,
            dim,
            num_classes,
        })
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when the data set holds no example.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Number of features per example.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of classes the labels range over.
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// All features, row-major `[len, dim]`.
    pub fn features(&self) -> &[f32] {
        &self.features
    }

    /// All labels.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// The features of example `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.features[i * self.dim..(i + 1) * self.dim]
    }

    /// The examples at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        let mut features = Vec::with_capacity(indices.len() * self.dim);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            features.extend_from_slice(self.row(i));
            labels.push(self.labels[i]);
        }
        Dataset {
            features,
            labels,
            dim: self.dim,
            num_classes: self.num_classes,
        }
    }

    /// This data set followed by `other` (same dimension and classes).
    pub fn concat(&self, other: &Dataset) -> Result<Dataset> {
        if other.dim != self.dim || other.num_classes != self.num_classes {
            return Err(Error::invalid(format!(
                "cannot join a data set of {} features and {} classes to one of {} features and {} classes",
                other.dim, other.num_classes, self.dim, self.num_classes
            )));
        }
        let mut joined = self.clone();
        joined.features.extend_from_slice(&other.features);
        joined.labels.extend_from_slice(&other.labels);
        Ok(joined)
    }

    /// The same points with every label replaced by `relabel(label)`.
    pub fn relabelled(&self, mut relabel: impl FnMut(u32) -> u32) -> Dataset {
        let mut out = self.clone();
        for y in &mut out.labels {
            *y = relabel(*y);
        }
        out
    }

    /// Counts of each class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes];
        for &y in &self.labels {
            counts[y as usize] += 1;
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_shapes_and_labels() {
        assert!(Dataset::new(vec![0.0; 5], vec![0, 1], 2, 2).is_err());
        let err = Dataset::new(vec![0.0; 4], vec![0, 2], 2, 2).unwrap_err();
        assert!(err.to_string().contains("example 1"), "{err}");
        let err = Dataset::new(vec![0.0, f32::NAN], vec![0], 2, 2).unwrap_err();
        assert!(err.to_string().contains("NaN"), "{err}");
    }

    #[test]
    fn select_and_concat_keep_rows_together() {
        let d = Dataset::new(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], vec![0, 1, 0], 2, 2).unwrap();
        let s = d.select(&[2, 0]);
        assert_eq!(s.features(), &[5.0, 6.0, 1.0, 2.0]);
        assert_eq!(s.labels(), &[0, 0]);
        let j = s.concat(&d).unwrap();
        assert_eq!(j.len(), 5);
        assert_eq!(j.class_counts(), vec![4, 1]);
    }
}

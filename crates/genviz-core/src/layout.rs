//! The named tensors of a network, in PyTorch's names and layouts.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// What a tensor does in its network. Analyses treat roles differently: filter normalisation
/// scales weights per filter and (by default) leaves one-dimensional tensors out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A dense or convolution kernel; its first axis indexes filters (output units).
    Weight,
    /// An additive bias.
    Bias,
    /// A normalisation layer's scale (gamma).
    NormScale,
    /// A normalisation layer's shift (beta).
    NormShift,
    /// A running statistic (mean or variance); not trained.
    RunningStat,
}

/// One tensor in a [`Layout`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TensorSpec {
    /// PyTorch-style name, such as `layers.0.weight`.
    pub name: String,
    /// Shape in PyTorch's order (`Linear.weight` is `[out, in]`).
    pub shape: Vec<usize>,
    /// Where the tensor starts in the flat parameter vector.
    pub offset: usize,
    /// What the tensor does.
    pub role: Role,
}

impl TensorSpec {
    /// Number of values.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True for a tensor with no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The range of this tensor in the flat vector.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.len()
    }

    /// Whether analyses treat this tensor as filters: a dense or convolution kernel, whose
    /// first axis indexes output units or channels. Filter normalisation rescales these per
    /// filter, PCA of a training path and t-SNE embed them, and a basin's dimension counts
    /// them; biases, normalisation parameters and running statistics are left out (Li et
    /// al.'s `--xignore biasbn`). Decided by the role, so a 4-D convolution kernel counts as
    /// much as a 2-D dense one.
    pub fn is_filtered_weight(&self) -> bool {
        self.role == Role::Weight && self.shape.len() > 1
    }

    /// Number of filters: the length of the first axis (1 for a scalar).
    pub fn num_filters(&self) -> usize {
        self.shape.first().copied().unwrap_or(1)
    }

    /// The range of filter `k` (one slice of the first axis) in the flat vector.
    pub fn filter_range(&self, k: usize) -> std::ops::Range<usize> {
        let per = self.len() / self.num_filters().max(1);
        self.offset + k * per..self.offset + (k + 1) * per
    }
}

/// The ordered, named tensors of a network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Layout {
    tensors: Vec<TensorSpec>,
    len: usize,
}

impl Layout {
    /// Lays tensors out one after the other, in the order given.
    pub fn new(tensors: impl IntoIterator<Item = (String, Vec<usize>, Role)>) -> Result<Self> {
        let mut specs: Vec<TensorSpec> = Vec::new();
        let mut offset = 0;
        for (name, shape, role) in tensors {
            if specs.iter().any(|t| t.name == name) {
                return Err(Error::invalid(format!(
                    "tensor `{name}` appears twice in the layout"
                )));
            }
            let spec = TensorSpec {
                name,
                shape,
                offset,
                role,
            };
            offset += spec.len();
            specs.push(spec);
        }
        Ok(Layout {
            tensors: specs,
            len: offset,
        })
    }

    /// Total number of values (parameters) in the layout.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the layout holds no value.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The tensors, in order.
    pub fn tensors(&self) -> &[TensorSpec] {
        &self.tensors
    }

    /// The tensor called `name`.
    pub fn get(&self, name: &str) -> Option<&TensorSpec> {
        self.tensors.iter().find(|t| t.name == name)
    }

    /// For every value, whether it belongs to a filtered weight
    /// ([`TensorSpec::is_filtered_weight`]).
    pub fn filtered_weight_mask(&self) -> Vec<bool> {
        let mut mask = vec![false; self.len];
        for t in self.tensors.iter().filter(|t| t.is_filtered_weight()) {
            mask[t.range()].fill(true);
        }
        mask
    }

    /// Number of values in filtered weights: the dimension of the space that random
    /// directions with ignored biases span.
    pub fn num_filtered(&self) -> usize {
        self.tensors
            .iter()
            .filter(|t| t.is_filtered_weight())
            .map(TensorSpec::len)
            .sum()
    }

    /// Number of trainable parameters (everything but running statistics).
    pub fn num_trainable(&self) -> usize {
        self.tensors
            .iter()
            .filter(|t| t.role != Role::RunningStat)
            .map(TensorSpec::len)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_order_and_filters_are_first_axis_slices() {
        let layout = Layout::new([
            ("layers.0.weight".to_string(), vec![3, 2], Role::Weight),
            ("layers.0.bias".to_string(), vec![3], Role::Bias),
        ])
        .unwrap();
        assert_eq!(layout.len(), 9);
        let w = layout.get("layers.0.weight").unwrap();
        assert_eq!(w.num_filters(), 3);
        assert_eq!(w.filter_range(1), 2..4);
        assert_eq!(layout.get("layers.0.bias").unwrap().range(), 6..9);
        assert!(Layout::new([
            ("a".to_string(), vec![1], Role::Bias),
            ("a".to_string(), vec![1], Role::Bias)
        ])
        .is_err());
    }
}

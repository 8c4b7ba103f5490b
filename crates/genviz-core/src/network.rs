//! What an analysis may ask of a model family.

use crate::{Dataset, Layout};
use std::sync::Arc;

/// Loss and accuracy of one parameter vector on one data set.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Eval {
    /// Mean loss per example.
    pub loss: f64,
    /// Fraction of examples classified correctly, in `[0, 1]`.
    pub accuracy: f64,
}

/// A training batch: examples with a per-example weight and loss form.
///
/// The training loss is `sum_i coef[i] * loss_i`; an ordinary mean has `coef[i] = 1/n`. The
/// poisoned objective of Huang et al. mixes two groups with weights `(1-beta)/n_t` and
/// `beta/n_p`, and may ask for the *reverse* loss `-log(1 - p_true)` on the poison rows.
#[derive(Clone, Debug)]
pub struct Batch<'a> {
    /// The examples.
    pub data: &'a Dataset,
    /// Weight of each example's loss.
    pub coef: &'a [f32],
    /// For each example, whether its loss is the reverse form `-log(1 - p_label)`.
    pub reverse: &'a [bool],
}

/// A family of models, seen as functions of a flat parameter vector.
///
/// Analyses depend on this trait, never on a model's internals. Every method must give the same
/// bits whatever the number of threads.
pub trait Network: Send + Sync {
    /// The named tensors of the parameter vector.
    fn layout(&self) -> &Arc<Layout>;

    /// Number of classes the network predicts.
    fn num_classes(&self) -> usize;

    /// Loss and accuracy on `data` for many parameter vectors at once: the workhorse of every
    /// landscape. Implementations batch and parallelise over the vectors.
    fn evaluate(&self, thetas: &[&[f32]], data: &Dataset) -> Vec<Eval>;

    /// The loss of `batch` at `theta`, with its gradient written into `grad`.
    fn loss_grad(&self, theta: &[f32], batch: &Batch<'_>, grad: &mut [f32]) -> f64;

    /// Raw outputs for row-major `inputs` of `n` examples: `[n, outputs]` where `outputs` is 1
    /// for a single-logit binary classifier and the number of classes otherwise.
    fn logits(&self, theta: &[f32], inputs: &[f32], n: usize) -> Vec<f32>;

    /// Predicted class of each example in row-major `inputs`.
    fn predict(&self, theta: &[f32], inputs: &[f32], n: usize) -> Vec<u32> {
        let logits = self.logits(theta, inputs, n);
        let outputs = logits.len() / n.max(1);
        logits
            .chunks(outputs.max(1))
            .map(|z| {
                if outputs == 1 {
                    u32::from(z[0] > 0.0)
                } else {
                    let mut best = 0;
                    for (k, &v) in z.iter().enumerate() {
                        if v > z[best] {
                            best = k;
                        }
                    }
                    best as u32
                }
            })
            .collect()
    }
}

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

/// The weights of the ordinary mean loss over a data set (`coef = 1/n`, no reverse rows): owns
/// what a [`Batch`] of that kind borrows, so full-batch code needs no weight vectors of its own.
#[derive(Clone, Debug)]
pub struct MeanWeights {
    coef: Vec<f32>,
    reverse: Vec<bool>,
}

impl MeanWeights {
    /// Weights for a data set of `n` examples.
    pub fn new(n: usize) -> Self {
        Self {
            coef: vec![1.0 / n.max(1) as f32; n],
            reverse: vec![false; n],
        }
    }

    /// The mean-loss batch over all of `data`.
    ///
    /// # Panics
    /// When `data` does not have the `n` examples these weights were made for.
    pub fn batch<'a>(&'a self, data: &'a Dataset) -> Batch<'a> {
        assert_eq!(
            data.len(),
            self.coef.len(),
            "mean weights for another data set"
        );
        Batch {
            data,
            coef: &self.coef,
            reverse: &self.reverse,
        }
    }
}

/// The mean loss over all of `data` at `theta`; its gradient is written into `grad`.
pub fn mean_loss_grad<N: Network + ?Sized>(
    net: &N,
    theta: &[f32],
    data: &Dataset,
    grad: &mut [f32],
) -> f64 {
    net.loss_grad(theta, &MeanWeights::new(data.len()).batch(data), grad)
}

/// Points `center + a * x + b * y` of a line or plane in parameter space, the slice every
/// landscape evaluates.
#[derive(Clone, Copy, Debug)]
pub struct Affine<'a> {
    /// The origin.
    pub center: &'a [f32],
    /// The first direction.
    pub x: &'a [f32],
    /// The second direction (`None` for a line).
    pub y: Option<&'a [f32]>,
}

impl Affine<'_> {
    /// Writes `center + a * x + b * y` into `out`, the same arithmetic for every value, so a
    /// point's parameters never depend on how points are batched. (Plain multiplies and adds:
    /// `mul_add` would call libm's software `fmaf` on CPUs targeted without FMA.)
    pub fn point(&self, a: f64, b: f64, out: &mut [f32]) {
        let (a, b) = (a as f32, b as f32);
        let n = out.len();
        let (c, x) = (&self.center[..n], &self.x[..n]);
        match self.y {
            Some(y) => {
                let y = &y[..n];
                for i in 0..n {
                    out[i] = c[i] + a * x[i] + b * y[i];
                }
            }
            None => {
                for i in 0..n {
                    out[i] = c[i] + a * x[i];
                }
            }
        }
    }
}

/// [`Network::evaluate_affine`] the plain way: each point's parameters, then
/// [`Network::evaluate`].
pub fn evaluate_affine_points<N: Network + ?Sized>(
    net: &N,
    plane: Affine<'_>,
    ab: &[(f64, f64)],
    data: &Dataset,
) -> Vec<Eval> {
    use rayon::prelude::*;
    let p = plane.center.len();
    let mut thetas = vec![0f32; ab.len() * p];
    thetas
        .par_chunks_mut(p.max(1))
        .zip(ab)
        .for_each(|(out, &(a, b))| plane.point(a, b, out));
    let refs: Vec<&[f32]> = thetas.chunks(p.max(1)).collect();
    net.evaluate(&refs, data)
}

/// Relative step of [`central_difference_hvp`]: `|e v| = HVP_STEP * max(1, |theta|)`.
/// Parameters and gradients are `f32`, so smaller steps lose the difference to rounding.
pub const HVP_STEP: f64 = 1e-3;

/// `H v` as `(g(theta + e v) - g(theta - e v)) / 2e` with exact gradients, differenced in `f64`:
/// works for any family, exact for quadratic losses up to rounding.
pub fn central_difference_hvp<N: Network + ?Sized>(
    net: &N,
    theta: &[f32],
    v: &[f32],
    data: &Dataset,
) -> Vec<f64> {
    let norm = |x: &[f32]| x.iter().map(|&t| f64::from(t).powi(2)).sum::<f64>().sqrt();
    let vn = norm(v);
    if vn == 0.0 {
        return vec![0.0; v.len()];
    }
    let e = HVP_STEP * norm(theta).max(1.0) / vn;
    let weights = MeanWeights::new(data.len());
    let batch = weights.batch(data);
    let gradient = |sign: f64| {
        let point: Vec<f32> = theta
            .iter()
            .zip(v)
            .map(|(&t, &x)| (f64::from(t) + sign * e * f64::from(x)) as f32)
            .collect();
        let mut g = vec![0f32; theta.len()];
        net.loss_grad(&point, &batch, &mut g);
        g
    };
    let (plus, minus) = (gradient(1.0), gradient(-1.0));
    plus.iter()
        .zip(&minus)
        .map(|(&p, &m)| (f64::from(p) - f64::from(m)) / (2.0 * e))
        .collect()
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

    /// Loss and accuracy at `center + a * x + b * y` for each `(a, b)` in `ab`: a batch of
    /// landscape points. Families may exploit the structure (an MLP's first layer is linear
    /// in `(a, b)`); results must not depend on which points are evaluated together.
    fn evaluate_affine(&self, plane: Affine<'_>, ab: &[(f64, f64)], data: &Dataset) -> Vec<Eval> {
        evaluate_affine_points(self, plane, ab, data)
    }

    /// `H v`: the Hessian of the mean loss over `data` at `theta` times `v`. The default is
    /// central differences of exact gradients ([`central_difference_hvp`]); families that can
    /// do better (the native MLP: an exact R-operator) override it.
    fn hvp(&self, theta: &[f32], v: &[f32], data: &Dataset) -> Vec<f64> {
        central_difference_hvp(self, theta, v, data)
    }

    /// `theta` with the values the family estimates from data rather than trains (BatchNorm's
    /// running statistics) estimated at `theta` from `data`, in batches of `batch` examples
    /// as training normalised them; `None` when it has no such values (the default).
    ///
    /// Training never moves these values (`loss_grad` normalises with each batch's own
    /// statistics), so the trainer asks for them before it evaluates or saves a net: a
    /// ResNet evaluated with the statistics it started with scores chance.
    fn estimate_statistics(
        &self,
        _theta: &[f32],
        _data: &Dataset,
        _batch: usize,
    ) -> Option<Vec<f32>> {
        None
    }

    /// The loss of `batch` at `theta`, with its gradient written into `grad`.
    fn loss_grad(&self, theta: &[f32], batch: &Batch<'_>, grad: &mut [f32]) -> f64;

    /// Whether a trainer called from outside the rayon pool may run this family's steps on
    /// one of the pool's workers (the steps between two log points at a time). For a family
    /// whose steps are tiny and split over threads (the native MLP), each step's fork-join is
    /// then a cheap join on a worker instead of a hand-over from a sleeping caller, which costs
    /// about as much as the step. `false` (the default) keeps every step on the caller's thread,
    /// for families with per-thread state such as a device context.
    fn steps_on_pool(&self) -> bool {
        false
    }

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

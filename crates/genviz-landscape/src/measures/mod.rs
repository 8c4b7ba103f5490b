//! Generalization measures: numbers computed from a trained network, its initialisation and its
//! training data that are meant to predict how well it generalizes (issue 17).
//!
//! Huang et al. argue that flat minima generalize and sharp ones do not. Jiang et al. 2019
//! ("Fantastic Generalization Measures and Where to Find Them") and Andriushchenko et al. 2023
//! ("A Modern Look at the Relationship between Sharpness and Generalization") tested that claim
//! on thousands of networks with many definitions of sharpness and of norm; some track the
//! generalization gap, many do not. This module computes those definitions for any
//! [`genviz_core::Network`] (the native MLP, burn's conv nets, ONNX models alike), using only
//! the trait's `evaluate`, `loss_grad`, `hvp`, `logits` and `layout`:
//!
//! - [`sharpness`]: average-case and worst-case (m-sharpness, Auto-PGD) sharpness, plain and
//!   adaptive (Andriushchenko et al.);
//! - [`pac_bayes`]: Jiang et al.'s PAC-Bayes flatness, plain and magnitude-aware;
//! - [`norms`]: distance from initialisation, the spectral product, the path norm and the
//!   Fisher-Rao norm (Jiang et al.);
//! - [`curvature`]: the paper's own basin radius and log-volume, and the Hessian's top
//!   eigenvalue and trace (reusing [`crate::basin`] and [`crate::hessian`]);
//! - [`performance`]: train and test loss and accuracy and the generalization gap;
//! - [`job`]: a list of measures computed into a JSON file, so a killed run computes only what
//!   is missing;
//! - [`rank`] and [`sweep`]: Kendall's tau and the granulated Kendall coefficient over a grid of
//!   training settings.
//!
//! Every measure returns [`Measured`] values (value, an interval where there is one, what a
//! larger value predicts) and the [`Cost`] of computing them. Random choices come from
//! [`genviz_core::rng::substream`]s of the measure's seed, indexed by sample, batch or ray, so
//! results are the same bits whatever the number of threads. `docs/measures.md` lists every
//! formula with its source.

pub mod curvature;
pub mod job;
pub mod norms;
pub mod pac_bayes;
pub mod performance;
pub mod rank;
pub mod sharpness;
pub mod sweep;

#[cfg(test)]
pub(crate) mod testnets;

use genviz_core::{rng, Call, Dataset, Error, Layout, Network, Params, Result, Role, Wrapper};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

pub use job::{default_measures, Inputs, MeasureJob, MeasureSpec};

/// Training examples a data-dependent measure looks at by default: Andriushchenko et al.'s
/// `--n_eval_sharpness` (`eval_sharpness.py`, 1024). Smaller data sets are used whole.
pub const DEFAULT_EXAMPLES: usize = 1024;

/// Nominal coverage of every confidence interval genviz reports.
pub const CONFIDENCE_LEVEL: f64 = 0.95;

/// Bytes of perturbed parameter vectors handed to one [`Network::evaluate`] call: large enough
/// to keep every core busy, small enough for an 11-million-parameter ResNet (about 6 vectors).
pub const EVAL_CHUNK_BYTES: usize = 256 << 20;

/// What kind of interval accompanies a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntervalKind {
    /// A Student-t confidence interval for a mean over independent samples.
    Confidence,
    /// A percentile bootstrap interval.
    Bootstrap,
    /// The final bracket of a bisection: the value lies inside it up to sampling noise.
    Bracket,
}

/// An interval around a measured value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower end.
    pub low: f64,
    /// Upper end.
    pub high: f64,
    /// How it was obtained.
    pub kind: IntervalKind,
}

/// What a larger value of a measure predicts, according to the paper that proposed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prediction {
    /// A larger generalization gap (sharpness, norms, inverse flatness).
    LargerGap,
    /// A smaller generalization gap (basin radius and volume: flatter is better).
    SmallerGap,
    /// Nothing: an observed quantity such as the test accuracy.
    Nothing,
}

impl Prediction {
    /// `+1`, `-1` or `0`: the sign of the Kendall correlation with the gap the papers predict.
    pub fn sign(self) -> f64 {
        match self {
            Prediction::LargerGap => 1.0,
            Prediction::SmallerGap => -1.0,
            Prediction::Nothing => 0.0,
        }
    }
}

/// One measured number.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    /// The measure's name, unique within a job (for example `worst_sharpness_linf_adaptive_rho_0.002_m_128`).
    pub name: String,
    /// The value.
    pub value: f64,
    /// An interval around the value, where the method gives one.
    pub interval: Option<Interval>,
    /// What a larger value predicts.
    pub predicts: Prediction,
    /// Secondary numbers (the base loss, the sigma found, per-layer norms, ...).
    pub details: BTreeMap<String, f64>,
}

impl Measured {
    /// A value with no interval and no details.
    pub fn new(name: impl Into<String>, value: f64, predicts: Prediction) -> Self {
        Measured {
            name: name.into(),
            value,
            interval: None,
            predicts,
            details: BTreeMap::new(),
        }
    }

    /// Adds a secondary number.
    pub fn detail(mut self, key: &str, value: f64) -> Self {
        self.details.insert(key.to_string(), value);
        self
    }

    /// Sets the interval.
    pub fn with_interval(mut self, interval: Option<Interval>) -> Self {
        self.interval = interval;
        self
    }
}

/// What computing a measure took. Counts are deterministic; seconds are not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// Parameter vectors evaluated on a data set ([`Network::evaluate`] points).
    pub evaluations: u64,
    /// Examples passed forward by those evaluations.
    pub examples_forward: u64,
    /// Gradients ([`Network::loss_grad`] calls).
    pub gradients: u64,
    /// Examples passed forward and backward by those gradients.
    pub examples_backward: u64,
    /// Hessian-vector products.
    pub hvps: u64,
    /// Examples whose logits were asked for.
    pub logits: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// What one measure specification computed: its values and their shared cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The values (a basin gives its median radius and its log-volume, for example).
    pub measures: Vec<Measured>,
    /// What they cost together.
    pub cost: Cost,
}

/// A [`Network`] that counts what is asked of it, so every measure reports its cost in
/// forward and backward passes whatever the family.
pub(crate) struct Counting<'a> {
    inner: &'a dyn Network,
    evaluations: AtomicU64,
    examples_forward: AtomicU64,
    gradients: AtomicU64,
    examples_backward: AtomicU64,
    hvps: AtomicU64,
    logits: AtomicU64,
    start: std::time::Instant,
}

impl<'a> Counting<'a> {
    pub(crate) fn new(inner: &'a dyn Network) -> Self {
        Counting {
            inner,
            evaluations: AtomicU64::new(0),
            examples_forward: AtomicU64::new(0),
            gradients: AtomicU64::new(0),
            examples_backward: AtomicU64::new(0),
            hvps: AtomicU64::new(0),
            logits: AtomicU64::new(0),
            start: std::time::Instant::now(),
        }
    }

    /// The counts so far and the seconds since this counter was made.
    pub(crate) fn cost(&self) -> Cost {
        Cost {
            evaluations: self.evaluations.load(Ordering::Relaxed),
            examples_forward: self.examples_forward.load(Ordering::Relaxed),
            gradients: self.gradients.load(Ordering::Relaxed),
            examples_backward: self.examples_backward.load(Ordering::Relaxed),
            hvps: self.hvps.load(Ordering::Relaxed),
            logits: self.logits.load(Ordering::Relaxed),
            seconds: self.start.elapsed().as_secs_f64(),
        }
    }
}

impl Wrapper for Counting<'_> {
    fn inner(&self) -> &dyn Network {
        self.inner
    }

    fn observe(&self, call: Call<'_>) {
        match call {
            Call::Evaluate { points, data } => {
                self.evaluations.fetch_add(points as u64, Ordering::Relaxed);
                self.examples_forward
                    .fetch_add((points * data.len()) as u64, Ordering::Relaxed);
            }
            Call::Hvp { .. } => {
                self.hvps.fetch_add(1, Ordering::Relaxed);
            }
            Call::LossGrad { batch } => {
                self.gradients.fetch_add(1, Ordering::Relaxed);
                self.examples_backward
                    .fetch_add(batch.data.len() as u64, Ordering::Relaxed);
            }
            Call::Logits { examples } => {
                self.logits.fetch_add(examples as u64, Ordering::Relaxed);
            }
        }
    }
}

/// Checks that `theta` is a finite point of `net`'s parameter space (same tensor names and
/// shapes), naming the measure in the error.
pub fn check_point(what: &str, net: &dyn Network, theta: &Params) -> Result<()> {
    let layout = net.layout();
    if theta.values().len() != layout.len() {
        return Err(Error::invalid(format!(
            "{what}: the parameters have {} values, the network has {}",
            theta.values().len(),
            layout.len()
        )));
    }
    for (a, b) in layout.tensors().iter().zip(theta.layout().tensors()) {
        if a.name != b.name || a.shape != b.shape {
            return Err(Error::invalid(format!(
                "{what}: tensor `{}` {:?} of the parameters does not match the network's `{}` {:?}",
                b.name, b.shape, a.name, a.shape
            )));
        }
    }
    if let Some(i) = theta.values().iter().position(|v| !v.is_finite()) {
        return Err(Error::invalid(format!(
            "{what}: parameter {i} is {}, expected a finite number",
            theta.values()[i]
        )));
    }
    Ok(())
}

/// Checks that a data set has examples, naming the measure.
pub(crate) fn check_data(what: &str, data: &Dataset) -> Result<()> {
    if data.is_empty() {
        return Err(Error::invalid(format!("{what}: the data set is empty")));
    }
    Ok(())
}

/// Checks that a configured number of examples, if any, is at least 1, naming the measure.
pub(crate) fn check_examples(what: &str, examples: Option<usize>) -> Result<()> {
    if examples == Some(0) {
        return Err(Error::invalid(format!(
            "{what}: examples must be at least 1"
        )));
    }
    Ok(())
}

/// What a measure on (a seeded subset of) the training data starts with: `theta` checked
/// against `net`, `data` checked for examples and `examples` for being at least 1 (errors name
/// the measure `what`), a counter around `net` for the measure's cost, and the examples the
/// measure looks at ([`subset`]).
pub(crate) fn on_subset<'a>(
    what: &str,
    net: &'a dyn Network,
    theta: &Params,
    data: &Dataset,
    examples: Option<usize>,
    seed: u64,
) -> Result<(Counting<'a>, Dataset)> {
    check_point(what, net, theta)?;
    check_data(what, data)?;
    check_examples(what, examples)?;
    let counting = Counting::new(net);
    Ok((counting, subset(data, examples, seed)?))
}

/// Checks that a configured number is finite and positive.
pub(crate) fn check_positive(what: &str, field: &str, value: f64) -> Result<()> {
    if !(value.is_finite() && value > 0.0) {
        return Err(Error::invalid(format!(
            "{what}: {field} is {value}, expected a finite number above 0"
        )));
    }
    Ok(())
}

/// The examples a measure looks at: the first `examples` of a permutation of `data` drawn from
/// `seed` (all of them, permuted, when `examples` is `None` or at least the data's size), so
/// that the subset does not depend on how the file happened to be ordered.
pub fn subset(data: &Dataset, examples: Option<usize>, seed: u64) -> Result<Dataset> {
    if examples == Some(0) {
        return Err(Error::invalid(
            "examples must be at least 1 (or absent for all)",
        ));
    }
    let mut order: Vec<usize> = (0..data.len()).collect();
    order.shuffle(&mut rng::stream(seed, "measures/subset"));
    order.truncate(examples.unwrap_or(usize::MAX).min(data.len()));
    Ok(data.select(&order))
}

/// A mask of the parameters a perturbation may move: everything but running statistics,
/// which are buffers, not parameters (PyTorch's `model.parameters()`, which both papers perturb).
pub(crate) fn perturbable(layout: &Layout) -> Vec<bool> {
    let mut mask = vec![true; layout.len()];
    for t in layout.tensors() {
        if t.role == Role::RunningStat {
            mask[t.range()].fill(false);
        }
    }
    mask
}

/// How many perturbed vectors of `n` parameters go into one evaluation call.
pub(crate) fn eval_chunk(n: usize) -> usize {
    (EVAL_CHUNK_BYTES / (4 * n.max(1))).max(1)
}

/// The two-sided 97.5% quantile of Student's t with `nu` degrees of freedom: exact table values
/// for `nu <= 4`, the Cornish-Fisher expansion of Abramowitz and Stegun 26.7.5 (four terms,
/// error below 1e-3) beyond.
pub fn student_t_975(nu: usize) -> f64 {
    const TABLE: [f64; 4] = [12.706_204_736, 4.302_652_730, 3.182_446_305, 2.776_445_105];
    const Z: f64 = 1.959_963_984_540_054;
    if nu == 0 {
        return f64::INFINITY;
    }
    if nu <= TABLE.len() {
        return TABLE[nu - 1];
    }
    let v = nu as f64;
    let z2 = Z * Z;
    let g1 = (z2 + 1.0) * Z / 4.0;
    let g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * Z / 96.0;
    let g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * Z / 384.0;
    let g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * Z / 92160.0;
    Z + g1 / v + g2 / (v * v) + g3 / (v * v * v) + g4 / (v * v * v * v)
}

/// The mean of independent samples, their standard error and a 95% Student-t interval (none
/// for a single sample).
pub fn mean_interval(samples: &[f64]) -> (f64, f64, Option<Interval>) {
    let n = samples.len();
    if n == 0 {
        return (f64::NAN, f64::NAN, None);
    }
    let mean = samples.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, f64::NAN, None);
    }
    let var = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let se = (var / n as f64).sqrt();
    let half = student_t_975(n - 1) * se;
    (
        mean,
        se,
        Some(Interval {
            low: mean - half,
            high: mean + half,
            kind: IntervalKind::Confidence,
        }),
    )
}

/// A 95% percentile bootstrap interval of `statistic` over `resamples` resamplings of
/// `values`, drawn from `seed`.
pub(crate) fn bootstrap(
    values: &[f64],
    resamples: usize,
    seed: u64,
    statistic: impl Fn(&[f64]) -> f64,
) -> Option<Interval> {
    if values.is_empty() || resamples == 0 {
        return None;
    }
    let estimates = crate::basin::resampled(
        values,
        resamples,
        &mut rng::stream(seed, "measures/bootstrap"),
        statistic,
    );
    let pick = |q: f64| estimates[((estimates.len() as f64 - 1.0) * q).round() as usize];
    let tail = (1.0 - CONFIDENCE_LEVEL) / 2.0;
    Some(Interval {
        low: pick(tail),
        high: pick(1.0 - tail),
        kind: IntervalKind::Bootstrap,
    })
}

/// The number `x` written the shortest way that reads back exactly (`0.1`, `0.002`, `1e-5`),
/// for measure names.
pub(crate) fn short(x: f64) -> String {
    format!("{x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_t_matches_tables() {
        // Published two-sided 95% critical values.
        for (nu, t) in [
            (1, 12.706),
            (5, 2.571),
            (9, 2.262),
            (19, 2.093),
            (99, 1.984),
        ] {
            assert!(
                (student_t_975(nu) - t).abs() < 1.5e-3,
                "nu {nu}: {}",
                student_t_975(nu)
            );
        }
        assert!((student_t_975(100_000) - 1.95996).abs() < 1e-4);
    }

    #[test]
    fn mean_interval_of_known_samples() {
        let (m, se, i) = mean_interval(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(m, 2.5);
        // sd = sqrt(5/3), se = sd / 2.
        assert!((se - (5.0f64 / 3.0).sqrt() / 2.0).abs() < 1e-12);
        let i = i.unwrap();
        assert!((i.high - 2.5 - 3.182_446_305 * se).abs() < 1e-9);
        assert!(mean_interval(&[1.0]).2.is_none());
    }

    #[test]
    fn subsets_are_seeded_and_bounded() {
        let d = Dataset::new((0..20).map(|v| v as f32).collect(), vec![0; 20], 1, 2).unwrap();
        let a = subset(&d, Some(5), 1).unwrap();
        assert_eq!(a.len(), 5);
        assert_eq!(a, subset(&d, Some(5), 1).unwrap());
        assert_ne!(a, subset(&d, Some(5), 2).unwrap());
        let all = subset(&d, None, 3).unwrap();
        let mut f = all.features().to_vec();
        f.sort_by(f32::total_cmp);
        assert_eq!(f, d.features());
        assert!(subset(&d, Some(0), 0).is_err());
    }
}

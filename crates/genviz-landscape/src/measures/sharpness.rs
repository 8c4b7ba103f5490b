//! Average-case and worst-case sharpness, plain and adaptive (Andriushchenko et al. 2023,
//! "A Modern Look at the Relationship between Sharpness and Generalization": their definitions
//! of `S_avg` and `S_max`, and their `sharpness.py` in tml-epfl/sharpness-vs-generalization).
//!
//! With `c = 1` (plain) or `c = |w|` element-wise (adaptive, Kwon et al. 2021's ASAM scaling):
//!
//! - average case: `S_avg(w) = E_delta [L_S(w + delta) - L_S(w)]` with
//!   `delta_i ~ N(0, rho^2 c_i^2)` (Gaussian, their `avg_l2`) or `delta_i ~ U(-rho c_i, rho c_i)`
//!   (uniform, their `avg_linf`), estimated from independent draws on a fixed data subset with a
//!   Student-t interval;
//! - worst case (m-sharpness): `S_max(w) = mean over batches S of size m of
//!   max_{||delta / c||_p <= rho} [L_S(w + delta) - L_S(w)]`, `p` in {2, inf}, the maximum found by
//!   Auto-PGD (Croce and Hein 2020, Section 3, Algorithm 1) in the scaled coordinates `zeta = delta / c`,
//!   where the ball is round and projection exact.
//!
//! Adaptive sharpness is invariant to the rescalings that leave a ReLU network's function
//! unchanged (one layer times `a`, the next times `1/a`): the perturbed networks are rescaled
//! copies of each other. Where `c_i = 0` the parameter is not perturbed.

use super::{
    check_examples, check_positive, eval_chunk, mean_interval, on_subset, perturbable, short,
    Interval, Measured, Outcome, Prediction, DEFAULT_EXAMPLES,
};
use genviz_core::{rng, Batch, Dataset, Error, Network, Params, Result};
use rand::Rng as _;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Andriushchenko et al.'s default radius (`eval_sharpness.py`, `--rho 0.1`). Their experiments
/// sweep it per definition (for CIFAR-10 ResNets: average Gaussian 0.05-0.4, worst l2 0.25-2,
/// worst adaptive l-inf 0.001-0.008; `sh/eval_sharpness_final.sh`).
pub const DEFAULT_RHO: f64 = 0.1;

/// Perturbation draws of the average case and Auto-PGD iterations of the worst case: their
/// `--n_iters 20`.
pub const DEFAULT_STEPS: usize = 20;

/// Examples per batch of m-sharpness: their `--bs_sharpness 128`.
pub const DEFAULT_M: usize = 128;

/// Auto-PGD's momentum weight `alpha` (Croce and Hein 2020: 0.75).
pub const APGD_MOMENTUM: f64 = 0.75;

/// Auto-PGD's condition 1: the step size halves when fewer than this share of the steps since
/// the last checkpoint increased the objective (Croce and Hein: `rho = 0.75`).
pub const APGD_SUCCESS_SHARE: f64 = 0.75;

/// Auto-PGD's first checkpoint, as a share of the iterations (`p_1 = 0.22`).
pub const APGD_FIRST_CHECKPOINT: f64 = 0.22;

/// Auto-PGD's checkpoint spacing: `p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06)`.
pub const APGD_PERIOD_DECAY: f64 = 0.03;

/// The smallest checkpoint spacing of Auto-PGD (`0.06`).
pub const APGD_MIN_PERIOD: f64 = 0.06;

/// Auto-PGD's first step size, in units of the radius (`eta = 2 rho`).
pub const APGD_FIRST_STEP: f64 = 2.0;

/// Networks with more parameters than this run their batches' Auto-PGD one after the other:
/// each batch keeps about eight `f64` vectors of the parameters' size, and a large model's
/// `loss_grad` is parallel (or on an accelerator) already. Smaller ones run batches in parallel.
pub const PARALLEL_BATCHES_MAX_PARAMS: usize = 1 << 20;

/// How a perturbation of the average case is drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Distribution {
    /// `delta_i ~ N(0, rho^2 c_i^2)` (Andriushchenko et al.'s `avg_l2`).
    #[default]
    Gaussian,
    /// `delta_i ~ U(-rho c_i, rho c_i)`: uniform in the l-infinity ball (`avg_linf`).
    Uniform,
}

impl Distribution {
    fn name(self) -> &'static str {
        match self {
            Distribution::Gaussian => "gaussian",
            Distribution::Uniform => "uniform",
        }
    }
}

/// The ball the worst case searches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ball {
    /// `||delta / c||_2 <= rho`.
    L2,
    /// `||delta / c||_inf <= rho` (Andriushchenko et al.'s default `m_apgd_linf`).
    #[default]
    Linf,
}

impl Ball {
    fn name(self) -> &'static str {
        match self {
            Ball::L2 => "l2",
            Ball::Linf => "linf",
        }
    }
}

/// Average-case sharpness: expected loss increase under random perturbations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AverageSharpnessConfig {
    /// Radius `rho` ([`DEFAULT_RHO`]).
    pub rho: f64,
    /// Gaussian or uniform draws.
    pub distribution: Distribution,
    /// Scale each parameter's perturbation by its magnitude `|w_i|`.
    pub adaptive: bool,
    /// Independent draws ([`DEFAULT_STEPS`]).
    pub samples: usize,
    /// Training examples the loss is averaged over ([`DEFAULT_EXAMPLES`]; `None` for all).
    pub examples: Option<usize>,
    /// Seed of the subset and of the draws (draw `k` is sub-stream `k`).
    pub seed: u64,
}

impl Default for AverageSharpnessConfig {
    fn default() -> Self {
        AverageSharpnessConfig {
            rho: DEFAULT_RHO,
            distribution: Distribution::Gaussian,
            adaptive: false,
            samples: DEFAULT_STEPS,
            examples: Some(DEFAULT_EXAMPLES),
            seed: 0,
        }
    }
}

impl AverageSharpnessConfig {
    /// The measure's name, which says everything that changes its value.
    pub fn name(&self) -> String {
        sharpness_name(
            "avg_sharpness",
            self.distribution.name(),
            self.adaptive,
            self.rho,
        )
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        check_positive("average sharpness", "rho", self.rho)?;
        if self.samples < 2 {
            return Err(Error::invalid(
                "average sharpness: samples must be at least 2 (for an interval)",
            ));
        }
        check_examples("average sharpness", self.examples)
    }
}

/// Worst-case m-sharpness: the largest loss increase in a ball, per batch of `m` examples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorstSharpnessConfig {
    /// Radius `rho` ([`DEFAULT_RHO`]).
    pub rho: f64,
    /// l2 or l-infinity ball.
    pub ball: Ball,
    /// Scale the ball by each parameter's magnitude `|w_i|`.
    pub adaptive: bool,
    /// Examples per batch ([`DEFAULT_M`]); the last batch may be smaller.
    pub m: usize,
    /// Training examples split into batches ([`DEFAULT_EXAMPLES`]; `None` for all).
    pub examples: Option<usize>,
    /// Auto-PGD iterations per batch ([`DEFAULT_STEPS`]).
    pub steps: usize,
    /// Start from a random point of the ball instead of `delta = 0` (Andriushchenko et al.'s
    /// `--sharpness_rand_init`, off by default). Needed at an exact stationary point, where the
    /// gradient gives no direction.
    pub random_start: bool,
    /// Seed of the subset, the batches and the random starts (batch `k` is sub-stream `k`).
    pub seed: u64,
}

impl Default for WorstSharpnessConfig {
    fn default() -> Self {
        WorstSharpnessConfig {
            rho: DEFAULT_RHO,
            ball: Ball::Linf,
            adaptive: false,
            m: DEFAULT_M,
            examples: Some(DEFAULT_EXAMPLES),
            steps: DEFAULT_STEPS,
            random_start: false,
            seed: 0,
        }
    }
}

impl WorstSharpnessConfig {
    /// The measure's name, which says everything that changes its value.
    pub fn name(&self) -> String {
        format!(
            "{}_m_{}",
            sharpness_name("worst_sharpness", self.ball.name(), self.adaptive, self.rho),
            self.m
        )
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        check_positive("worst-case sharpness", "rho", self.rho)?;
        if self.m == 0 {
            return Err(Error::invalid("worst-case sharpness: m must be at least 1"));
        }
        if self.steps == 0 {
            return Err(Error::invalid(
                "worst-case sharpness: steps must be at least 1",
            ));
        }
        check_examples("worst-case sharpness", self.examples)
    }
}

/// `{kind}_{variant}[_adaptive]_rho_{rho}`: how both sharpness measures' names start.
fn sharpness_name(kind: &str, variant: &str, adaptive: bool, rho: f64) -> String {
    let adaptive = if adaptive { "_adaptive" } else { "" };
    format!("{kind}_{variant}{adaptive}_rho_{}", short(rho))
}

/// The scale `c` of each parameter: 1 (plain) or `|w_i|` (adaptive), 0 where nothing may move.
fn scales(theta: &Params, adaptive: bool) -> Vec<f64> {
    perturbable(theta.layout())
        .iter()
        .zip(theta.values())
        .map(|(&free, &w)| match (free, adaptive) {
            (false, _) => 0.0,
            (true, false) => 1.0,
            (true, true) => f64::from(w).abs(),
        })
        .collect()
}

/// The mean loss increase of the measure `name` with its standard error and 95% interval
/// ([`mean_interval`]); an error when it is not finite, which a too large `rho` causes.
fn mean_increase(name: &str, rho: f64, increases: &[f64]) -> Result<(f64, f64, Option<Interval>)> {
    let (mean, se, interval) = mean_interval(increases);
    if !mean.is_finite() {
        return Err(Error::Numerical(format!(
            "{name}: the perturbed loss is not finite (rho {rho} is too large for this network?)"
        )));
    }
    Ok((mean, se, interval))
}

/// `w + c * zeta` in `f32`.
fn shifted(w: &[f32], c: &[f64], zeta: &[f64]) -> Vec<f32> {
    w.iter()
        .zip(c)
        .zip(zeta)
        .map(|((&w, &c), &z)| (f64::from(w) + c * z) as f32)
        .collect()
}

/// Average-case sharpness of `theta` on (a seeded subset of) `data`.
///
/// Draw `k` is `zeta_k` from sub-stream `k` of the seed (standard normal or `U(-1, 1)` per
/// parameter), `delta_k = rho * c * zeta_k`; the value is the mean of
/// `L(w + delta_k) - L(w)` with a 95% Student-t interval over draws. Details: the base loss and
/// the mean increase of the error rate.
pub fn average_sharpness(
    net: &dyn Network,
    theta: &Params,
    data: &Dataset,
    config: &AverageSharpnessConfig,
) -> Result<Outcome> {
    config.validate()?;
    let what = "average sharpness";
    let (counting, data) = on_subset(what, net, theta, data, config.examples, config.seed)?;
    let w = theta.values();
    let c = scales(theta, config.adaptive);
    let base = counting.evaluate(&[w], &data)[0];
    let draw = |k: usize| -> Vec<f32> {
        let mut r = rng::substream(config.seed, "avg_sharpness", k as u64);
        let zeta: Vec<f64> = (0..w.len())
            .map(|_| {
                config.rho
                    * match config.distribution {
                        Distribution::Gaussian => r.sample::<f64, _>(StandardNormal),
                        Distribution::Uniform => r.gen_range(-1.0..1.0),
                    }
            })
            .collect();
        shifted(w, &c, &zeta)
    };
    let mut increases = Vec::with_capacity(config.samples);
    let mut error_increases = Vec::with_capacity(config.samples);
    let ks: Vec<usize> = (0..config.samples).collect();
    for part in ks.chunks(eval_chunk(w.len())) {
        let points: Vec<Vec<f32>> = part.par_iter().map(|&k| draw(k)).collect();
        let refs: Vec<&[f32]> = points.iter().map(Vec::as_slice).collect();
        for e in counting.evaluate(&refs, &data) {
            increases.push(e.loss - base.loss);
            error_increases.push(base.accuracy - e.accuracy);
        }
    }
    let (mean, se, interval) = mean_increase(&config.name(), config.rho, &increases)?;
    let measured = Measured::new(config.name(), mean, Prediction::LargerGap)
        .with_interval(interval)
        .detail("standard_error", se)
        .detail("base_loss", base.loss)
        .detail("error_increase", mean_interval(&error_increases).0)
        .detail("examples", data.len() as f64);
    Ok(Outcome {
        measures: vec![measured],
        cost: counting.cost(),
    })
}

/// What Auto-PGD found on one batch.
#[derive(Clone, Copy, Debug)]
struct BatchMax {
    /// `max(0, L_S(w + delta*) - L_S(w))`.
    increase: f64,
    /// `L_S(w)`.
    base: f64,
    /// Error rate at `w + delta*` minus at `w`.
    error_increase: f64,
    /// Step-size halvings.
    halvings: usize,
}

/// Auto-PGD's checkpoints `w_j = ceil(p_j * steps)` for `j >= 1` (Croce and Hein 2020, Section 3).
pub fn apgd_checkpoints(steps: usize) -> Vec<usize> {
    let n = steps as f64;
    let mut p = vec![0.0, APGD_FIRST_CHECKPOINT];
    let mut w = vec![0usize, (APGD_FIRST_CHECKPOINT * n).ceil() as usize];
    while *w.last().expect("two entries") < steps && w[w.len() - 1] != w[w.len() - 2] {
        let (a, b) = (p[p.len() - 2], p[p.len() - 1]);
        let next = b + (b - a - APGD_PERIOD_DECAY).max(APGD_MIN_PERIOD);
        p.push(next);
        w.push((next * n).ceil() as usize);
    }
    w.remove(0);
    w
}

/// The ascent problem on one batch in the scaled coordinates `zeta = delta / c`.
struct Ascent<'a> {
    net: &'a dyn Network,
    w: &'a [f32],
    c: &'a [f64],
    batch: &'a Dataset,
    coef: Vec<f32>,
    reverse: Vec<bool>,
    rho: f64,
    ball: Ball,
}

impl Ascent<'_> {
    /// `L_S(w + c zeta)` and its gradient with respect to `zeta`, `c * grad L_S`.
    fn value_grad(&self, zeta: &[f64]) -> (f64, Vec<f64>) {
        let point = shifted(self.w, self.c, zeta);
        let mut g = vec![0f32; point.len()];
        let batch = Batch {
            data: self.batch,
            coef: &self.coef,
            reverse: &self.reverse,
        };
        let loss = self.net.loss_grad(&point, &batch, &mut g);
        let g = g
            .iter()
            .zip(self.c)
            .map(|(&g, &c)| f64::from(g) * c)
            .collect();
        (loss, g)
    }

    /// Projection onto the ball (coordinates with `c = 0` stay at 0).
    fn project(&self, zeta: &mut [f64]) {
        for (z, &c) in zeta.iter_mut().zip(self.c) {
            if c == 0.0 {
                *z = 0.0;
            }
        }
        match self.ball {
            Ball::Linf => zeta
                .iter_mut()
                .for_each(|z| *z = z.clamp(-self.rho, self.rho)),
            Ball::L2 => {
                let norm = zeta.iter().map(|z| z * z).sum::<f64>().sqrt();
                if norm > self.rho {
                    let s = self.rho / norm;
                    zeta.iter_mut().for_each(|z| *z *= s);
                }
            }
        }
    }

    /// The steepest-ascent step of unit size for the ball's norm: `sign(g)` for l-infinity,
    /// `g / ||g||_2` for l2.
    fn direction(&self, g: &[f64]) -> Vec<f64> {
        match self.ball {
            Ball::Linf => g
                .iter()
                .map(|&v| {
                    if v > 0.0 {
                        1.0
                    } else if v < 0.0 {
                        -1.0
                    } else {
                        0.0
                    }
                })
                .collect(),
            Ball::L2 => {
                let norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
                if norm > 0.0 {
                    g.iter().map(|v| v / norm).collect()
                } else {
                    vec![0.0; g.len()]
                }
            }
        }
    }

    /// A random point of the ball: uniform per coordinate for l-infinity, on the sphere for l2
    /// (Croce and Hein's random start).
    fn random_point(&self, r: &mut rng::Rng) -> Vec<f64> {
        let mut zeta: Vec<f64> = match self.ball {
            Ball::Linf => (0..self.c.len())
                .map(|_| r.gen_range(-self.rho..self.rho))
                .collect(),
            Ball::L2 => (0..self.c.len())
                .map(|_| r.sample::<f64, _>(StandardNormal))
                .collect(),
        };
        for (z, &c) in zeta.iter_mut().zip(self.c) {
            if c == 0.0 {
                *z = 0.0;
            }
        }
        if self.ball == Ball::L2 {
            let norm = zeta.iter().map(|z| z * z).sum::<f64>().sqrt();
            if norm > 0.0 {
                zeta.iter_mut().for_each(|z| *z *= self.rho / norm);
            }
        }
        zeta
    }

    /// Auto-PGD (Croce and Hein 2020, Algorithm 1) for `steps` iterations from `start`,
    /// returning the best point, its value and the number of step-size halvings.
    fn run(&self, start: Vec<f64>, steps: usize) -> (Vec<f64>, f64, usize) {
        let checkpoints = apgd_checkpoints(steps);
        let mut eta = APGD_FIRST_STEP * self.rho;
        let (mut f, mut g) = self.value_grad(&start);
        let mut x = start;
        let mut x_prev = x.clone();
        let (mut best_x, mut best_f, mut best_g) = (x.clone(), f, g.clone());
        let mut successes = 0usize;
        let mut last_checkpoint = 0usize;
        let (mut eta_at_checkpoint, mut best_at_checkpoint) = (eta, best_f);
        let mut halvings = 0;
        for k in 0..steps {
            let step = self.direction(&g);
            let mut z: Vec<f64> = x.iter().zip(&step).map(|(x, s)| x + eta * s).collect();
            self.project(&mut z);
            let mut next: Vec<f64> = if k == 0 {
                z
            } else {
                (0..x.len())
                    .map(|i| {
                        x[i] + APGD_MOMENTUM * (z[i] - x[i])
                            + (1.0 - APGD_MOMENTUM) * (x[i] - x_prev[i])
                    })
                    .collect()
            };
            self.project(&mut next);
            let (f_next, g_next) = self.value_grad(&next);
            if f_next > f {
                successes += 1;
            }
            x_prev = std::mem::replace(&mut x, next);
            f = f_next;
            g = g_next;
            if f > best_f {
                best_f = f;
                best_x.clone_from(&x);
                best_g.clone_from(&g);
            }
            let iteration = k + 1;
            if checkpoints.contains(&iteration) && iteration < steps {
                let period = (iteration - last_checkpoint) as f64;
                let few_successes = (successes as f64) < APGD_SUCCESS_SHARE * period;
                let stalled = eta_at_checkpoint == eta && best_at_checkpoint == best_f;
                eta_at_checkpoint = eta;
                best_at_checkpoint = best_f;
                successes = 0;
                last_checkpoint = iteration;
                if few_successes || stalled {
                    // Halve the step and restart from the best point, without momentum.
                    eta /= 2.0;
                    halvings += 1;
                    x.clone_from(&best_x);
                    x_prev.clone_from(&best_x);
                    f = best_f;
                    g.clone_from(&best_g);
                }
            }
        }
        (best_x, best_f, halvings)
    }
}

/// Worst-case m-sharpness of `theta`: the seeded subset of `data` is cut into batches of `m`,
/// Auto-PGD maximises each batch's loss increase over the ball, and the value is the mean of the
/// batches' maxima with a 95% Student-t interval over batches.
///
/// The loss increase of a batch is never below 0: the unperturbed point is a candidate.
/// Details: the mean base loss, the mean error-rate increase at the maxima, the batches and the
/// step-size halvings.
pub fn worst_sharpness(
    net: &dyn Network,
    theta: &Params,
    data: &Dataset,
    config: &WorstSharpnessConfig,
) -> Result<Outcome> {
    config.validate()?;
    let what = "worst-case sharpness";
    let (counting, data) = on_subset(what, net, theta, data, config.examples, config.seed)?;
    let w = theta.values();
    let c = scales(theta, config.adaptive);
    let batches: Vec<Dataset> = (0..data.len())
        .collect::<Vec<_>>()
        .chunks(config.m)
        .map(|idx| data.select(idx))
        .collect();
    let one_batch = |(k, batch): (usize, &Dataset)| -> BatchMax {
        let ascent = Ascent {
            net: &counting,
            w,
            c: &c,
            batch,
            coef: vec![1.0 / batch.len() as f32; batch.len()],
            reverse: vec![false; batch.len()],
            rho: config.rho,
            ball: config.ball,
        };
        let zero = vec![0.0; w.len()];
        let (base, _) = ascent.value_grad(&zero);
        let start = if config.random_start {
            ascent.random_point(&mut rng::substream(
                config.seed,
                "worst_sharpness",
                k as u64,
            ))
        } else {
            zero.clone()
        };
        let (best_x, best_f, halvings) = ascent.run(start, config.steps);
        let (at_best, at_base) = {
            let p = shifted(w, &c, &best_x);
            let e = counting.evaluate(&[&p, w], batch);
            (e[0], e[1])
        };
        let increase = (best_f - base).max(0.0);
        BatchMax {
            increase,
            base,
            // The unperturbed point wins when nothing increased the loss.
            error_increase: if best_f > base {
                at_base.accuracy - at_best.accuracy
            } else {
                0.0
            },
            halvings,
        }
    };
    let results: Vec<BatchMax> = if w.len() <= PARALLEL_BATCHES_MAX_PARAMS {
        batches.par_iter().enumerate().map(one_batch).collect()
    } else {
        batches.iter().enumerate().map(one_batch).collect()
    };
    let increases: Vec<f64> = results.iter().map(|r| r.increase).collect();
    let (mean, se, interval) = mean_increase(&config.name(), config.rho, &increases)?;
    let n = results.len() as f64;
    let measured = Measured::new(config.name(), mean, Prediction::LargerGap)
        .with_interval(interval)
        .detail("standard_error", se)
        .detail("base_loss", results.iter().map(|r| r.base).sum::<f64>() / n)
        .detail(
            "error_increase",
            results.iter().map(|r| r.error_increase).sum::<f64>() / n,
        )
        .detail("batches", n)
        .detail(
            "step_halvings",
            results.iter().map(|r| r.halvings as f64).sum::<f64>() / n,
        );
    Ok(Outcome {
        measures: vec![measured],
        cost: counting.cost(),
    })
}

#[cfg(test)]
mod tests;

//! Jiang et al.'s PAC-Bayesian flatness ("Fantastic Generalization Measures", Appendix C, the
//! sharpness-based PAC-Bayesian measures: `pacbayes.flatness`, eq. 53, and
//! `pacbayes.mag.flatness`, eq. 61; equation numbers of the arXiv version as cited by
//! nitarshan/robust-generalization-measures).
//!
//! `sigma'` is the largest `sigma` such that the expected increase of the training error under
//! a Gaussian perturbation `u` stays within a bound `d`:
//! `E_u[err(w + u)] - err(w) <= d`, with `u_i ~ N(0, sigma^2)` (plain) or
//! `u_i ~ N(0, sigma^2 w_i^2 + eps^2)` (magnitude-aware). The measure is `1 / sigma'^2`: larger
//! is sharper. `sigma'` is found by bisection on `[0, sigma_max]` with a Monte Carlo estimate of
//! the expectation; the draws are common to every `sigma` of the search (draw `k` is sub-stream
//! `k`, scaled by `sigma`), so the estimate is a smooth function of `sigma` and the search is
//! deterministic.

use super::{
    check_examples, check_positive, eval_chunk, on_subset, perturbable, short, Interval,
    IntervalKind, Measured, Outcome, Prediction, DEFAULT_EXAMPLES,
};
use genviz_core::{rng, Dataset, Error, Eval, Network, Params, Result};
use rand::Rng as _;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The bound on the expected increase: 0.1 of training error (Jiang et al.'s target deviation;
/// `accuracy_displacement = 0.1` in robust-generalization-measures).
pub const DEFAULT_MAX_INCREASE: f64 = 0.1;

/// Monte Carlo draws per `sigma` (robust-generalization-measures: `montecarlo_samples = 10`).
pub const DEFAULT_SAMPLES: usize = 10;

/// Upper end of the search (robust-generalization-measures: `upper = 2`).
pub const DEFAULT_SIGMA_MAX: f64 = 2.0;

/// Bisection steps (robust-generalization-measures: `search_depth = 15`).
pub const DEFAULT_DEPTH: usize = 15;

/// The search stops early when the estimated increase is this close to the bound
/// (robust-generalization-measures: `displacement_tolerance = 1e-2`).
pub const DEFAULT_TOLERANCE: f64 = 1e-2;

/// `eps` of the magnitude-aware perturbation (Jiang et al.: 1e-3).
pub const DEFAULT_MAGNITUDE_EPSILON: f64 = 1e-3;

/// What the bound is on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// The training error rate `1 - accuracy` (Jiang et al.).
    #[default]
    Error,
    /// The training loss.
    Loss,
}

/// The configuration of PAC-Bayes flatness.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PacBayesConfig {
    /// Scale each parameter's variance by its square, `sigma^2 w_i^2 + eps^2`.
    pub magnitude_aware: bool,
    /// Error rate (Jiang et al.) or loss.
    pub quantity: Quantity,
    /// The bound `d` on the expected increase ([`DEFAULT_MAX_INCREASE`]).
    pub max_increase: f64,
    /// Monte Carlo draws per `sigma` ([`DEFAULT_SAMPLES`]).
    pub samples: usize,
    /// Upper end of the search ([`DEFAULT_SIGMA_MAX`]).
    pub sigma_max: f64,
    /// Bisection steps ([`DEFAULT_DEPTH`]).
    pub depth: usize,
    /// Early stop when `|increase - d|` is below this ([`DEFAULT_TOLERANCE`]).
    pub tolerance: f64,
    /// `eps` of the magnitude-aware variance ([`DEFAULT_MAGNITUDE_EPSILON`]).
    pub magnitude_epsilon: f64,
    /// Training examples ([`DEFAULT_EXAMPLES`]; `None` for all).
    pub examples: Option<usize>,
    /// Seed of the subset and the draws.
    pub seed: u64,
}

impl Default for PacBayesConfig {
    fn default() -> Self {
        PacBayesConfig {
            magnitude_aware: false,
            quantity: Quantity::Error,
            max_increase: DEFAULT_MAX_INCREASE,
            samples: DEFAULT_SAMPLES,
            sigma_max: DEFAULT_SIGMA_MAX,
            depth: DEFAULT_DEPTH,
            tolerance: DEFAULT_TOLERANCE,
            magnitude_epsilon: DEFAULT_MAGNITUDE_EPSILON,
            examples: Some(DEFAULT_EXAMPLES),
            seed: 0,
        }
    }
}

impl PacBayesConfig {
    /// `pac_bayes_flatness` or `pac_bayes_mag_flatness` (Jiang et al.'s names), with the
    /// quantity and bound when they differ from Jiang et al.'s.
    pub fn name(&self) -> String {
        let mut name = if self.magnitude_aware {
            "pac_bayes_mag_flatness".to_string()
        } else {
            "pac_bayes_flatness".to_string()
        };
        if self.quantity == Quantity::Loss {
            name.push_str("_loss");
        }
        if self.max_increase != DEFAULT_MAX_INCREASE {
            name.push_str(&format!("_d_{}", short(self.max_increase)));
        }
        name
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        let what = "PAC-Bayes flatness";
        check_positive(what, "max_increase", self.max_increase)?;
        check_positive(what, "sigma_max", self.sigma_max)?;
        check_positive(what, "tolerance", self.tolerance)?;
        if !(self.magnitude_epsilon.is_finite() && self.magnitude_epsilon >= 0.0) {
            return Err(Error::invalid(format!(
                "{what}: magnitude_epsilon is {}, expected a finite number >= 0",
                self.magnitude_epsilon
            )));
        }
        if self.samples == 0 || self.depth == 0 {
            return Err(Error::invalid(format!(
                "{what}: samples and depth must be at least 1"
            )));
        }
        check_examples(what, self.examples)
    }
}

fn quantity(e: Eval, q: Quantity) -> f64 {
    match q {
        Quantity::Error => 1.0 - e.accuracy,
        Quantity::Loss => e.loss,
    }
}

/// PAC-Bayes flatness `1 / sigma'^2` of `theta` on (a seeded subset of) `data`.
///
/// The interval is the final bisection bracket mapped through `1 / sigma^2` (absent while the
/// bracket still touches 0). Details: `sigma`, the bracket, the base quantity, the increase at
/// `sigma'`, and `censored = 1` when even `sigma_max` stays within the bound.
pub fn pac_bayes_flatness(
    net: &dyn Network,
    theta: &Params,
    data: &Dataset,
    config: &PacBayesConfig,
) -> Result<Outcome> {
    config.validate()?;
    let what = "PAC-Bayes flatness";
    let (counting, data) = on_subset(what, net, theta, data, config.examples, config.seed)?;
    let w = theta.values();
    let free = perturbable(theta.layout());
    let base = quantity(counting.evaluate(&[w], &data)[0], config.quantity);
    let eps2 = config.magnitude_epsilon.powi(2);
    let increase = |sigma: f64| -> f64 {
        let draw = |k: usize| -> Vec<f32> {
            let mut r = rng::substream(config.seed, "pac_bayes", k as u64);
            w.iter()
                .zip(&free)
                .map(|(&w, &free)| {
                    let z: f64 = r.sample(StandardNormal);
                    if !free {
                        return w;
                    }
                    let w64 = f64::from(w);
                    let std = if config.magnitude_aware {
                        (sigma * sigma * w64 * w64 + eps2).sqrt()
                    } else {
                        sigma
                    };
                    (w64 + std * z) as f32
                })
                .collect()
        };
        let ks: Vec<usize> = (0..config.samples).collect();
        let mut total = 0.0;
        for part in ks.chunks(eval_chunk(w.len())) {
            let points: Vec<Vec<f32>> = part.par_iter().map(|&k| draw(k)).collect();
            let refs: Vec<&[f32]> = points.iter().map(Vec::as_slice).collect();
            total += counting
                .evaluate(&refs, &data)
                .into_iter()
                .map(|e| quantity(e, config.quantity))
                .sum::<f64>();
        }
        total / config.samples as f64 - base
    };
    let (mut lower, mut upper) = (0.0f64, config.sigma_max);
    let mut sigma = 0.5 * (lower + upper);
    let mut at_sigma = f64::NAN;
    for _ in 0..config.depth {
        sigma = 0.5 * (lower + upper);
        at_sigma = increase(sigma);
        if !at_sigma.is_finite() {
            // A perturbation so large the loss overflows is certainly too large.
            upper = sigma;
            continue;
        }
        if (at_sigma - config.max_increase).abs() < config.tolerance {
            break;
        }
        if at_sigma > config.max_increase {
            upper = sigma;
        } else {
            lower = sigma;
        }
    }
    let censored = upper == config.sigma_max && at_sigma <= config.max_increase;
    let interval = (lower > 0.0).then(|| Interval {
        low: 1.0 / (upper * upper),
        high: 1.0 / (lower * lower),
        kind: IntervalKind::Bracket,
    });
    let measured = Measured::new(config.name(), 1.0 / (sigma * sigma), Prediction::LargerGap)
        .with_interval(interval)
        .detail("sigma", sigma)
        .detail("sigma_low", lower)
        .detail("sigma_high", upper)
        .detail("base", base)
        .detail("increase_at_sigma", at_sigma)
        .detail("censored", if censored { 1.0 } else { 0.0 });
    Ok(Outcome {
        measures: vec![measured],
        cost: counting.cost(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measures::testnets::{points, rescaled, small_mlp, with_threads, Quadratic};

    /// At the minimum of a quadratic with curvatures `h`, `E[L(w + u)] - L(w)` is
    /// `sigma^2 sum h / 2` (plain) and `sum h (sigma^2 w^2 + eps^2) / 2` (magnitude-aware).
    #[test]
    fn sigma_matches_the_closed_form_on_a_quadratic() {
        let n = 40;
        let h: Vec<f64> = (0..n).map(|j| 0.5 + (j % 5) as f64 * 0.4).collect();
        let x: Vec<f32> = (0..n).map(|j| 0.5 + 0.05 * j as f32).collect();
        let net = Quadratic::new(h.clone());
        let data = points(x.clone(), n);
        let theta = net.params(x.clone());
        let d = 0.05;
        for magnitude_aware in [false, true] {
            let config = PacBayesConfig {
                magnitude_aware,
                quantity: Quantity::Loss,
                max_increase: d,
                samples: 200,
                depth: 40,
                tolerance: 1e-6,
                ..Default::default()
            };
            let eps2 = DEFAULT_MAGNITUDE_EPSILON.powi(2);
            let truth = if magnitude_aware {
                let hw2: f64 = h
                    .iter()
                    .zip(&x)
                    .map(|(h, &w)| h * f64::from(w).powi(2))
                    .sum();
                ((2.0 * d - eps2 * h.iter().sum::<f64>()) / hw2).sqrt()
            } else {
                (2.0 * d / h.iter().sum::<f64>()).sqrt()
            };
            let out = pac_bayes_flatness(&net, &theta, &data, &config).unwrap();
            let m = &out.measures[0];
            let sigma = m.details["sigma"];
            // Monte Carlo: sum h z^2 over 200 draws has a relative spread of about 1.6%, half
            // that on sigma.
            assert!(
                (sigma - truth).abs() < 0.03 * truth,
                "magnitude {magnitude_aware}: sigma {sigma} vs analytic {truth}"
            );
            assert!((m.value - 1.0 / (sigma * sigma)).abs() < 1e-9 * m.value);
            assert_eq!(m.details["censored"], 0.0);
            let i = m.interval.unwrap();
            assert!(i.low <= m.value && m.value <= i.high);
        }
    }

    #[test]
    fn censored_when_the_bound_is_never_reached() {
        let net = Quadratic::new(vec![1e-6; 3]);
        let data = points(vec![0.0; 3], 3);
        let theta = net.params(vec![0.0; 3]);
        let config = PacBayesConfig {
            quantity: Quantity::Loss,
            ..Default::default()
        };
        let m = &pac_bayes_flatness(&net, &theta, &data, &config)
            .unwrap()
            .measures[0];
        assert_eq!(m.details["censored"], 1.0);
        assert!(m.details["sigma"] > 0.99 * DEFAULT_SIGMA_MAX);
    }

    #[test]
    fn error_based_flatness_on_an_mlp_is_deterministic_and_monotone_in_the_bound() {
        let (net, theta, data) = small_mlp();
        let run = |d: f64| {
            pac_bayes_flatness(
                &net,
                &theta,
                &data,
                &PacBayesConfig {
                    max_increase: d,
                    ..Default::default()
                },
            )
            .unwrap()
            .measures[0]
                .clone()
        };
        let a = with_threads(1, || run(0.1));
        assert_eq!(a, with_threads(3, || run(0.1)));
        // A looser bound allows a larger sigma (the draws are shared, so this is exact up to
        // the bisection's resolution).
        assert!(run(0.3).details["sigma"] > a.details["sigma"]);
        assert_eq!(a.name, "pac_bayes_flatness");
        // Rescaling layers changes plain flatness: it is not scale-invariant.
        let b = pac_bayes_flatness(
            &net,
            &rescaled(&theta, 0, 4.0),
            &data,
            &PacBayesConfig::default(),
        )
        .unwrap()
        .measures[0]
            .value;
        assert!((a.value - b).abs() > 0.05 * a.value, "{} vs {b}", a.value);
    }

    #[test]
    fn bad_configs_are_errors() {
        let (net, theta, data) = small_mlp();
        for c in [
            PacBayesConfig {
                max_increase: 0.0,
                ..Default::default()
            },
            PacBayesConfig {
                sigma_max: -1.0,
                ..Default::default()
            },
            PacBayesConfig {
                samples: 0,
                ..Default::default()
            },
            PacBayesConfig {
                magnitude_epsilon: f64::INFINITY,
                ..Default::default()
            },
        ] {
            assert!(
                pac_bayes_flatness(&net, &theta, &data, &c).is_err(),
                "{c:?}"
            );
        }
    }
}

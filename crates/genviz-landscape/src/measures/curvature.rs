//! The paper's own measures (Huang et al. 2019, Figs 5-7, SPEC 1.5): the median basin radius
//! and the basin's log-volume, computed by [`crate::basin`]; and the curvature measures genviz
//! reports beside them, the Hessian's top eigenvalue and trace (PyHessian's power iteration and
//! Hutchinson estimator, [`crate::hessian`]).

use super::{
    bootstrap, check_examples, on_subset, Interval, IntervalKind, Measured, Outcome, Prediction,
    DEFAULT_EXAMPLES,
};
use crate::basin::{self, median, RadiusMode, RayConfig, DEFAULT_THRESHOLD};
use crate::direction::{BiasPolicy, Normalization};
use crate::hessian::{self, Hessian};
use genviz_core::{rng, Dataset, Error, Network, Params, Result};
use serde::{Deserialize, Serialize};

/// Rays cast from a minimum (`genviz basin`'s default; the authors cast 1,000).
pub const DEFAULT_RAYS: usize = 200;

/// Bootstrap resamplings of the radii (`genviz basin`'s 1,000).
pub const DEFAULT_RESAMPLES: usize = 1000;

/// The basin measures' configuration: the rays of [`crate::basin`] and the bootstrap.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BasinConfig {
    /// Random directions, two radii each ([`DEFAULT_RAYS`]).
    pub rays: usize,
    /// Training loss that bounds the basin (the authors' cross-entropy 1).
    pub threshold: f64,
    /// How radii are found (bracket and bisect, up to 2 direction units).
    pub mode: RadiusMode,
    /// Direction normalisation (filter, as the authors).
    pub norm: Normalization,
    /// What directions hold on biases (zero, as the authors).
    pub bias: BiasPolicy,
    /// Bootstrap resamplings ([`DEFAULT_RESAMPLES`]).
    pub resamples: usize,
    /// Training examples ([`DEFAULT_EXAMPLES`]; `None` for all).
    pub examples: Option<usize>,
    /// Seed of the subset, the directions (ray `k` is sub-stream `k`) and the bootstrap.
    pub seed: u64,
}

impl Default for BasinConfig {
    fn default() -> Self {
        BasinConfig {
            rays: DEFAULT_RAYS,
            threshold: DEFAULT_THRESHOLD,
            mode: RadiusMode::default(),
            norm: Normalization::Filter,
            bias: BiasPolicy::Ignore,
            resamples: DEFAULT_RESAMPLES,
            examples: Some(DEFAULT_EXAMPLES),
            seed: 0,
        }
    }
}

impl BasinConfig {
    /// The rays as [`crate::basin`] takes them.
    pub fn rays(&self) -> RayConfig {
        RayConfig {
            rays: self.rays,
            threshold: self.threshold,
            mode: self.mode,
            seed: self.seed,
            norm: self.norm,
            bias: self.bias,
        }
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        self.rays().validate()?;
        if self.resamples == 0 {
            return Err(Error::invalid("basin: resamples must be at least 1"));
        }
        check_examples("basin", self.examples)
    }
}

/// The median basin radius (in direction units, the paper's Fig 5 axis) with a bootstrap
/// interval, and `log10` of the star-shaped basin volume
/// `V = V_n(1) E_u[r(u)^n]` from the Euclidean radii with [`basin::volume`]'s bootstrap interval.
/// Both predict a smaller gap when larger. Details: the centre loss, the dimension `n`, the share
/// of censored radii (rays that never reached the threshold within the search).
pub fn basin_measures(
    net: &dyn Network,
    theta: &Params,
    data: &Dataset,
    config: &BasinConfig,
) -> Result<Outcome> {
    config.validate()?;
    let (counting, data) = on_subset("basin", net, theta, data, config.examples, config.seed)?;
    let found = basin::radii(&counting, theta, &data, &config.rays())?;
    let censored =
        found.censored.iter().filter(|&&c| c).count() as f64 / found.censored.len() as f64;
    let med = found.median();
    let med_interval = bootstrap(&found.radii, config.resamples, config.seed, median);
    let volume = basin::volume(
        &found.euclidean(),
        found.dimension,
        config.resamples,
        config.seed,
    );
    let radius = Measured::new("median_radius", med, Prediction::SmallerGap)
        .with_interval(med_interval)
        .detail("center_loss", found.center_loss)
        .detail("censored_share", censored);
    let log_volume = Measured::new("log10_volume", volume.log10_volume, Prediction::SmallerGap)
        .with_interval(Some(Interval {
            low: volume.low,
            high: volume.high,
            kind: IntervalKind::Bootstrap,
        }))
        .detail("dimension", found.dimension as f64)
        .detail("censored_share", censored);
    Ok(Outcome {
        measures: vec![radius, log_volume],
        cost: counting.cost(),
    })
}

/// The Hessian measures' configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HessianConfig {
    /// Also estimate the trace (Hutchinson).
    pub trace: bool,
    /// Use the filter-normalised Hessian `D H D` (gen-viz's curvature, SPEC 1.7) instead of `H`.
    pub filter_normalised: bool,
    /// `D` on one-dimensional tensors when filter-normalised (gen-viz: 1e-6 for the swiss roll,
    /// 1 for SVHN).
    pub bias_scale: f64,
    /// Relative change that stops power iteration and Hutchinson (PyHessian's 1e-3).
    pub tolerance: f64,
    /// Iteration limit of each (PyHessian's 100).
    pub max_iter: usize,
    /// Training examples ([`DEFAULT_EXAMPLES`]; `None` for all).
    pub examples: Option<usize>,
    /// Seed of the subset and of the random vectors.
    pub seed: u64,
}

impl Default for HessianConfig {
    fn default() -> Self {
        HessianConfig {
            trace: true,
            filter_normalised: false,
            bias_scale: 1.0,
            tolerance: hessian::TOLERANCE,
            max_iter: hessian::MAX_ITER,
            examples: Some(DEFAULT_EXAMPLES),
            seed: 0,
        }
    }
}

impl HessianConfig {
    fn prefix(&self) -> &'static str {
        if self.filter_normalised {
            "fn_hessian"
        } else {
            "hessian"
        }
    }

    /// The names of the values: `hessian_top_eigenvalue` and `hessian_trace` (`fn_` first when
    /// filter-normalised).
    pub fn names(&self) -> Vec<String> {
        let mut names = vec![format!("{}_top_eigenvalue", self.prefix())];
        if self.trace {
            names.push(format!("{}_trace", self.prefix()));
        }
        names
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        super::check_positive("Hessian", "tolerance", self.tolerance)?;
        if !(self.bias_scale.is_finite() && self.bias_scale >= 0.0) {
            return Err(Error::invalid(
                "Hessian: bias_scale must be finite and >= 0",
            ));
        }
        if self.max_iter == 0 {
            return Err(Error::invalid("Hessian: max_iter must be at least 1"));
        }
        check_examples("Hessian", self.examples)
    }
}

/// The top eigenvalue (largest in magnitude, by power iteration) and the Hutchinson trace of the
/// Hessian of the mean training loss.
pub fn hessian_measures(
    net: &dyn Network,
    theta: &Params,
    data: &Dataset,
    config: &HessianConfig,
) -> Result<Outcome> {
    config.validate()?;
    let (counting, data) = on_subset("Hessian", net, theta, data, config.examples, config.seed)?;
    let mut h = Hessian::new(&counting, theta.values(), &data);
    if config.filter_normalised {
        h = h.filter_normalised(theta, config.bias_scale);
    }
    let op = |v: &[f64]| h.apply(v);
    let mut r = rng::stream(config.seed, "measures/hessian");
    let top = hessian::top_eigen(&op, h.dim(), 1, config.tolerance, config.max_iter, &mut r)
        .first()
        .map_or(f64::NAN, |e| e.value);
    let names = config.names();
    let mut measures = vec![Measured::new(&names[0], top, Prediction::LargerGap)];
    if config.trace {
        let t = hessian::trace(&op, h.dim(), config.tolerance, config.max_iter, &mut r);
        measures.push(Measured::new(&names[1], t, Prediction::LargerGap));
    }
    if measures.iter().any(|m| !m.value.is_finite()) {
        return Err(Error::Numerical(
            "Hessian: a Hessian-vector product is not finite".into(),
        ));
    }
    Ok(Outcome {
        measures,
        cost: counting.cost(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measures::testnets::{points, rescaled, small_mlp, with_threads, Quadratic};

    #[test]
    fn hessian_of_a_diagonal_quadratic() {
        let h = vec![0.5, 4.0, 1.0, 2.5];
        let net = Quadratic::new(h.clone());
        let data = points(vec![0.0; 4], 4);
        let theta = net.params(vec![0.1, 0.2, 0.3, 0.4]);
        let out = hessian_measures(&net, &theta, &data, &HessianConfig::default()).unwrap();
        assert_eq!(out.measures[0].name, "hessian_top_eigenvalue");
        assert!((out.measures[0].value - 4.0).abs() < 1e-2);
        // Rademacher v: v'Hv = trace exactly for a diagonal H.
        assert!((out.measures[1].value - 8.0).abs() < 1e-12);
        assert!(out.cost.hvps > 2);
        // D H D with D = |theta| per filter (one filter per row of the [4, 1] weight).
        let fnh = HessianConfig {
            filter_normalised: true,
            ..Default::default()
        };
        let out = hessian_measures(&net, &theta, &data, &fnh).unwrap();
        let want = h
            .iter()
            .zip(theta.values())
            .map(|(h, &w)| h * f64::from(w).powi(2))
            .fold(0.0, f64::max);
        assert!((out.measures[0].value - want).abs() < 1e-2 * want);
        assert_eq!(out.measures[1].name, "fn_hessian_trace");
    }

    #[test]
    fn round_basin_radius_and_volume_have_closed_forms() {
        // Loss sum_j (w_j - 0)^2 / 2 * h with h = 2: loss = |w|^2, below 1 in the unit ball.
        let n = 3;
        let net = Quadratic::new(vec![2.0; n]);
        let data = points(vec![0.0; n], n);
        let theta = net.params(vec![0.0; n]);
        let config = BasinConfig {
            rays: 300,
            // Unit directions: the radius is 1 along every ray.
            norm: Normalization::Dlayer,
            mode: RadiusMode::Exact {
                max_radius: 4.0,
                tolerance: 1e-6,
                bracket: 6,
            },
            ..Default::default()
        };
        let out = basin_measures(&net, &theta, &data, &config).unwrap();
        let radius = &out.measures[0];
        assert!((radius.value - 1.0).abs() < 1e-5, "{}", radius.value);
        let volume = &out.measures[1];
        let ball = (4.0 / 3.0 * std::f64::consts::PI).log10();
        assert!(
            (volume.value - ball).abs() < 1e-4,
            "{} vs {ball}",
            volume.value
        );
        assert_eq!(volume.predicts, Prediction::SmallerGap);
    }

    #[test]
    fn basin_is_rescaling_invariant_with_filter_normalised_rays_and_the_hessian_is_not() {
        let (net, theta, data) = small_mlp();
        let scaled = rescaled(&theta, 1, 3.0);
        let config = BasinConfig {
            rays: 20,
            resamples: 50,
            ..Default::default()
        };
        let a = basin_measures(&net, &theta, &data, &config).unwrap();
        let b = basin_measures(&net, &scaled, &data, &config).unwrap();
        assert!((a.measures[0].value - b.measures[0].value).abs() < 1e-3 * a.measures[0].value);
        let h = HessianConfig::default();
        let ha = hessian_measures(&net, &theta, &data, &h).unwrap().measures[0].value;
        let hb = hessian_measures(&net, &scaled, &data, &h).unwrap().measures[0].value;
        // Dinh et al. 2017: rescaling changes the Hessian's spectrum.
        assert!((ha - hb).abs() > 0.1 * ha.abs(), "{ha} vs {hb}");
        let run = || {
            basin_measures(&net, &theta, &data, &config)
                .unwrap()
                .measures
        };
        assert_eq!(with_threads(1, run), with_threads(3, run));
    }

    #[test]
    fn bad_configs_are_errors() {
        let (net, theta, data) = small_mlp();
        let bad = BasinConfig {
            rays: 0,
            ..Default::default()
        };
        assert!(basin_measures(&net, &theta, &data, &bad).is_err());
        let bad = HessianConfig {
            tolerance: 0.0,
            ..Default::default()
        };
        assert!(hessian_measures(&net, &theta, &data, &bad).is_err());
    }
}

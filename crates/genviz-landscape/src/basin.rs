//! Basins: how far the loss stays low along random rays from a minimum, and the volume that
//! implies (Huang et al. Figs 5-7, SPEC 1.5).
//!
//! Along each random direction `d` from `theta`, the radius is the first distance at which
//! the training loss reaches a threshold (the authors use a cross-entropy of 1). Treating the
//! basin as star-shaped, its volume is `V = V_n(1) E_u[r(u)^n]` over unit directions `u`, with
//! `n` the number of perturbed parameters; in logs,
//! `log V = log V_n(1) + logsumexp(n log r_i) - log N`. With `n` in the thousands this is
//! thousands of orders of magnitude below 1, and dominated by the largest radii: what matters
//! is the gap between two minima, reported with a bootstrap interval.

use crate::direction::{random_direction, BiasPolicy, Normalization};
use genviz_core::{rng, Affine, Dataset, Error, Network, Params, Result};
use rand::Rng as _;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The authors' loss threshold (`swissroll/utils_rollout.py`: cross-entropy 1).
pub const DEFAULT_THRESHOLD: f64 = 1.0;

/// How a ray's radius is found.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RadiusMode {
    /// gen-viz's: `samples` points `span/2 * linspace(0, 1)^5` on each side, the radius being
    /// the sample whose loss is nearest the threshold (README: span 1, 100 samples).
    GenViz {
        /// Twice the largest distance.
        span: f64,
        /// Samples per side.
        samples: usize,
    },
    /// Bracket the first crossing among `bracket` samples `max_radius * (j/bracket)^3`, then
    /// bisect until the bracket is narrower than `tolerance` times its end.
    Exact {
        /// Largest distance looked at; rays that never cross report it (censored).
        max_radius: f64,
        /// Relative width at which bisection stops.
        tolerance: f64,
        /// Coarse samples per side.
        bracket: usize,
    },
}

/// Coarse samples per side before bisecting. Every sample costs a full evaluation, and
/// bisection halves a bracket for two.
pub const DEFAULT_BRACKET: usize = 6;

impl Default for RadiusMode {
    fn default() -> Self {
        RadiusMode::Exact {
            max_radius: 2.0,
            tolerance: 1e-3,
            bracket: DEFAULT_BRACKET,
        }
    }
}

/// The rays to cast.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RayConfig {
    /// Number of random directions (each gives two radii, one per sign).
    pub rays: usize,
    /// Training loss that bounds the basin.
    pub threshold: f64,
    /// How radii are found.
    pub mode: RadiusMode,
    /// Seed of the directions (ray `k` uses sub-stream `k`).
    pub seed: u64,
    /// Normalisation of the directions (filter, as the authors).
    pub norm: Normalization,
    /// Biases in the directions (ignored, as the authors).
    pub bias: BiasPolicy,
}

impl RayConfig {
    /// The authors' rays: `rays` filter-normalised directions (biases left alone) from
    /// `seed`, the basin bounded where the training loss reaches [`DEFAULT_THRESHOLD`], each
    /// radius bracketed and bisected ([`RadiusMode::default`]).
    pub fn filter_normalised(rays: usize, seed: u64) -> Self {
        RayConfig {
            rays,
            threshold: DEFAULT_THRESHOLD,
            mode: RadiusMode::default(),
            seed,
            norm: Normalization::Filter,
            bias: BiasPolicy::Ignore,
        }
    }

    /// Checks the configuration.
    pub fn validate(&self) -> Result<()> {
        if self.rays == 0 {
            return Err(Error::invalid("basin: rays must be at least 1"));
        }
        if !self.threshold.is_finite() {
            return Err(Error::invalid("basin: the threshold must be finite"));
        }
        match self.mode {
            RadiusMode::GenViz { span, samples }
                if !(span > 0.0 && span.is_finite()) || samples < 2 =>
            {
                Err(Error::invalid(
                    "basin: gen-viz mode needs span > 0 and at least 2 samples",
                ))
            }
            RadiusMode::Exact {
                max_radius,
                tolerance,
                bracket,
            } if !(max_radius > 0.0
                && max_radius.is_finite()
                && tolerance > 0.0
                && tolerance < 1.0
                && bracket >= 1) =>
            {
                Err(Error::invalid(
                    "basin: exact mode needs max_radius > 0, 0 < tolerance < 1 and bracket >= 1",
                ))
            }
            _ => Ok(()),
        }
    }
}

/// Radii of a minimum.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Basin {
    /// Two radii per ray (positive side, then negative), in units of the direction.
    pub radii: Vec<f64>,
    /// Euclidean norm of each ray's direction, so `radii[2k + s] * norms[k]` is a distance.
    pub direction_norms: Vec<f64>,
    /// Whether each radius hit the search limit without crossing (censored).
    pub censored: Vec<bool>,
    /// Training loss at the minimum.
    pub center_loss: f64,
    /// Number of parameters the directions move.
    pub dimension: usize,
}

impl Basin {
    /// Euclidean radii (distance in parameter space).
    pub fn euclidean(&self) -> Vec<f64> {
        self.radii
            .iter()
            .enumerate()
            .map(|(i, r)| r * self.direction_norms[i / 2])
            .collect()
    }

    /// The median radius in direction units.
    pub fn median(&self) -> f64 {
        median(&self.radii)
    }
}

/// Median of finite values.
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}

/// What one ray found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ray {
    /// Radius on the positive side, then the negative, in units of the direction.
    pub radii: [f64; 2],
    /// Whether each side hit the search limit without crossing.
    pub censored: [bool; 2],
    /// Euclidean norm of the ray's direction.
    pub norm: f64,
}

impl Basin {
    /// Assembles the rays (in ray order) of a minimum with training loss `center_loss`.
    pub fn from_rays(rays: &[Ray], center_loss: f64, dimension: usize) -> Basin {
        Basin {
            radii: rays.iter().flat_map(|r| r.radii).collect(),
            censored: rays.iter().flat_map(|r| r.censored).collect(),
            direction_norms: rays.iter().map(|r| r.norm).collect(),
            center_loss,
            dimension,
        }
    }
}

/// The training loss at `theta` and the number of parameters the rays move.
pub fn center(
    net: &dyn Network,
    theta: &Params,
    data: &Dataset,
    config: &RayConfig,
) -> (f64, usize) {
    let center_loss = net.evaluate(&[theta.values()], data)[0].loss;
    let dimension = match config.bias {
        BiasPolicy::Ignore => theta.layout().num_filtered(),
        BiasPolicy::CopyTheta => theta.layout().len(),
    };
    (center_loss, dimension)
}

/// Casts ray `k` (its direction is sub-stream `k` of the seed, so a ray's result does not
/// depend on which rays are cast with it, in what order, or on which machine).
pub fn cast(
    net: &dyn Network,
    theta: &Params,
    data: &Dataset,
    config: &RayConfig,
    center_loss: f64,
    k: usize,
) -> Ray {
    let d = random_direction(
        theta,
        config.norm,
        config.bias,
        &mut rng::substream(config.seed, "ray", k as u64),
    );
    let plane = Affine {
        center: theta.values(),
        x: d.values(),
        y: None,
    };
    let (radii, censored) = match config.mode {
        RadiusMode::GenViz { span, samples } => {
            gen_viz_radii(net, plane, data, config.threshold, span, samples)
        }
        RadiusMode::Exact {
            max_radius,
            tolerance,
            bracket,
        } => exact_radii(
            net,
            plane,
            data,
            config.threshold,
            center_loss,
            max_radius,
            tolerance,
            bracket,
        ),
    };
    Ray {
        radii,
        censored,
        norm: d.norm(),
    }
}

/// What [`cast_many`] calls after each chunk: the chunk's `(ray number, result)` pairs.
pub type RaysDone<'a> = dyn FnMut(&[(usize, Ray)]) -> Result<()> + 'a;

/// Casts the rays numbered in `todo`, `chunk` of them at a time in parallel, handing each
/// chunk's results to `after_chunk` (to save progress, so a killed run can resume).
#[allow(clippy::too_many_arguments)]
pub fn cast_many(
    net: &dyn Network,
    theta: &Params,
    data: &Dataset,
    config: &RayConfig,
    center_loss: f64,
    todo: &[usize],
    chunk: usize,
    after_chunk: &mut RaysDone<'_>,
) -> Result<()> {
    config.validate()?;
    for part in todo.chunks(chunk.max(1)) {
        let rays: Vec<(usize, Ray)> = part
            .par_iter()
            .map(|&k| (k, cast(net, theta, data, config, center_loss, k)))
            .collect();
        after_chunk(&rays)?;
    }
    Ok(())
}

/// Casts `config.rays` random rays from `theta` and measures where the loss on `data` reaches
/// the threshold on each side.
pub fn radii(
    net: &dyn Network,
    theta: &Params,
    data: &Dataset,
    config: &RayConfig,
) -> Result<Basin> {
    config.validate()?;
    let (center_loss, dimension) = center(net, theta, data, config);
    let rays: Vec<Ray> = (0..config.rays)
        .into_par_iter()
        .map(|k| cast(net, theta, data, config, center_loss, k))
        .collect();
    Ok(Basin::from_rays(&rays, center_loss, dimension))
}

fn losses(net: &dyn Network, plane: Affine<'_>, data: &Dataset, coords: &[f64]) -> Vec<f64> {
    let points: Vec<(f64, f64)> = coords.iter().map(|&c| (c, 0.0)).collect();
    net.evaluate_affine(plane, &points, data)
        .iter()
        .map(|e| e.loss)
        .collect()
}

/// The losses at `coords` along the ray, then at the same distances on the other side.
fn losses_both_sides(
    net: &dyn Network,
    plane: Affine<'_>,
    data: &Dataset,
    coords: &[f64],
) -> Vec<f64> {
    let both: Vec<f64> = coords
        .iter()
        .copied()
        .chain(coords.iter().map(|c| -c))
        .collect();
    losses(net, plane, data, &both)
}

fn gen_viz_radii(
    net: &dyn Network,
    plane: Affine<'_>,
    data: &Dataset,
    threshold: f64,
    span: f64,
    samples: usize,
) -> ([f64; 2], [bool; 2]) {
    let coords: Vec<f64> = (0..samples)
        .map(|i| span / 2.0 * (i as f64 / (samples - 1) as f64).powi(5))
        .collect();
    let loss = losses_both_sides(net, plane, data, &coords);
    let mut out = [0.0; 2];
    let mut censored = [false; 2];
    for side in 0..2 {
        let l = &loss[side * samples..(side + 1) * samples];
        let best = (0..samples)
            .min_by(|&a, &b| {
                (l[a] - threshold)
                    .abs()
                    .total_cmp(&(l[b] - threshold).abs())
            })
            .unwrap_or(0);
        out[side] = coords[best];
        censored[side] = l.iter().all(|&v| v < threshold);
    }
    (out, censored)
}

#[allow(clippy::too_many_arguments)]
fn exact_radii(
    net: &dyn Network,
    plane: Affine<'_>,
    data: &Dataset,
    threshold: f64,
    center_loss: f64,
    max_radius: f64,
    tolerance: f64,
    bracket: usize,
) -> ([f64; 2], [bool; 2]) {
    if center_loss >= threshold {
        return ([0.0; 2], [false; 2]);
    }
    let coarse: Vec<f64> = (1..=bracket)
        .map(|j| max_radius * (j as f64 / bracket as f64).powi(3))
        .collect();
    let loss = losses_both_sides(net, plane, data, &coarse);
    // [lo, hi] brackets the first crossing on each side; None: no crossing up to max_radius.
    let mut brackets: [Option<(f64, f64)>; 2] = [None; 2];
    for (side, b) in brackets.iter_mut().enumerate() {
        let l = &loss[side * bracket..(side + 1) * bracket];
        if let Some(j) = l.iter().position(|&v| v >= threshold) {
            *b = Some((if j == 0 { 0.0 } else { coarse[j - 1] }, coarse[j]));
        }
    }
    loop {
        let active: Vec<usize> = (0..2)
            .filter(|&s| brackets[s].is_some_and(|(lo, hi)| hi - lo > tolerance * hi))
            .collect();
        if active.is_empty() {
            break;
        }
        let mids: Vec<f64> = active
            .iter()
            .map(|&s| {
                let (lo, hi) = brackets[s].expect("active sides have brackets");
                let m = 0.5 * (lo + hi);
                if s == 0 {
                    m
                } else {
                    -m
                }
            })
            .collect();
        let l = losses(net, plane, data, &mids);
        for (k, &s) in active.iter().enumerate() {
            let (lo, hi) = brackets[s].expect("active sides have brackets");
            let m = 0.5 * (lo + hi);
            brackets[s] = Some(if l[k] >= threshold { (lo, m) } else { (m, hi) });
        }
    }
    let mut out = [max_radius; 2];
    let mut censored = [true; 2];
    for s in 0..2 {
        if let Some((lo, hi)) = brackets[s] {
            out[s] = 0.5 * (lo + hi);
            censored[s] = false;
        }
    }
    (out, censored)
}

/// A log10 volume with its bootstrap interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Volume {
    /// log10 of the estimated volume.
    pub log10_volume: f64,
    /// Lower end of the 95% bootstrap interval.
    pub low: f64,
    /// Upper end of the 95% bootstrap interval.
    pub high: f64,
    /// The dimension `n` used.
    pub dimension: usize,
    /// Radii used.
    pub samples: usize,
}

/// `log10 V` of a star-shaped basin from radii `r_i` along random directions in `n` dimensions:
/// `(log V_n(1) + logsumexp(n log r_i) - log N) / ln 10`.
pub fn log10_volume(radii: &[f64], n: usize) -> f64 {
    let nf = n as f64;
    let terms: Vec<f64> = radii.iter().map(|&r| nf * r.ln()).collect();
    let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return max;
    }
    let lse = max + terms.iter().map(|t| (t - max).exp()).sum::<f64>().ln();
    let log_unit_ball = nf / 2.0 * std::f64::consts::PI.ln() - ln_gamma(nf / 2.0 + 1.0);
    (log_unit_ball + lse - (radii.len() as f64).ln()) / std::f64::consts::LN_10
}

/// `statistic` of each of `resamples` resamplings of `values` (as many draws with replacement,
/// from `rng`), sorted: the estimates a percentile bootstrap interval is read from.
pub(crate) fn resampled(
    values: &[f64],
    resamples: usize,
    rng: &mut rng::Rng,
    statistic: impl Fn(&[f64]) -> f64,
) -> Vec<f64> {
    let mut estimates: Vec<f64> = (0..resamples)
        .map(|_| {
            let sample: Vec<f64> = (0..values.len())
                .map(|_| values[rng.gen_range(0..values.len())])
                .collect();
            statistic(&sample)
        })
        .collect();
    estimates.sort_by(f64::total_cmp);
    estimates
}

/// [`log10_volume`] with a 95% percentile bootstrap interval over `resamples` resamplings.
pub fn volume(radii: &[f64], n: usize, resamples: usize, seed: u64) -> Volume {
    let estimates = resampled(
        radii,
        resamples,
        &mut rng::stream(seed, "bootstrap"),
        |sample| log10_volume(sample, n),
    );
    let pick = |q: f64| {
        estimates
            .get(((estimates.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    Volume {
        log10_volume: log10_volume(radii, n),
        low: pick(0.025),
        high: pick(0.975),
        dimension: n,
        samples: radii.len(),
    }
}

/// `ln Gamma(x)` for `x > 0` (Lanczos, g = 7; relative error below 1e-13).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

#[cfg(test)]
mod tests;

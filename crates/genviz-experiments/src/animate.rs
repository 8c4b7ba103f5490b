//! GIF animations of a trained network (issue 5): the authors' "wiggle" and the training path
//! on its PCA plane.
//!
//! * [`wiggle`] (gen-viz `swissroll/main.py:wiggle`, SPEC 1.5): the parameters move along a
//!   symmetric ray `theta + t d`, `t` in `[-span/2, span/2]` with fifth-power spacing (dense
//!   near the minimum), and every frame re-renders the decision boundary at its `t` beside the
//!   train/test loss and accuracy and the curvature along the ray. The direction is a
//!   filter-normalised random one ([`random_ray`]) or the Hessian's top eigenvector
//!   ([`eigvec_ray`], the authors' `-along eigvec`). A sharp (poisoned) minimum's boundary
//!   shatters within a tiny `t`; a flat one stays put.
//! * [`pca_path`]: the training path projected on the plane of its two principal components
//!   (Li et al. 2018, Fig. 9; `genviz trajectory`), growing checkpoint by checkpoint over the
//!   loss contours of that plane, beside the loss of each checkpoint against the step.
//!
//! Every number shown is computed here by evaluating the network; `genviz-render` only draws.
//! Each animation writes `<name>.gif` and a `<name>.json` summary with those numbers.

use crate::figures;
use crate::model::DataSource;
use anyhow::{bail, Context, Result};
use genviz_core::{rng, Dataset, Network, Params};
use genviz_landscape::direction::random_direction;
use genviz_landscape::hessian::{self, Hessian};
use genviz_landscape::pca::PathPlane;
use genviz_landscape::{Axis, BiasPolicy, Normalization, Shard, Spacing, Surface};
use genviz_render::{ContourStyle, Marker, PathAnimation, Series1d, WiggleAnimation};
use rayon::prelude::*;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The loss at which a ray is said to leave the basin: the authors' radius threshold
/// (`swissroll/utils_rollout.py`, cross-entropy 1; SPEC 1.5).
pub const CROSSING_THRESHOLD: f64 = genviz_landscape::basin::DEFAULT_THRESHOLD;

/// Bisection of a crossing stops when its bracket is narrower than this share of its end
/// (the basin command's tolerance).
const CROSSING_TOLERANCE: f64 = 1e-3;

/// The curvature shown along the ray is the top eigenvalue of the filter-normalised Hessian
/// `D H D`, as gen-viz's `spectral_radius` computes it for the swiss roll (SPEC 1.7): one-
/// dimensional tensors (biases) get this scale in `D`.
pub const CURVATURE_BIAS_SCALE: f64 = 1e-6;

/// How a wiggle is sampled and drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct WiggleConfig {
    /// The ray covers `t` in `[-span/2, span/2]` (gen-viz's `-span`, default 0.5). In
    /// filter-normalised units `genviz paper`'s swiss-roll minima have median basin radii of
    /// about 0.1 (clean) and 0.003 (poisoned), so out to 0.25 both leave their basins, at very
    /// different `t`.
    pub span: f64,
    /// Points along the ray, odd so that `t = 0` (the model itself) is one (gen-viz's
    /// `-nspan`); the GIF plays them `0 -> +span/2 -> -span/2 -> 0`, `2 (points - 1)` frames.
    pub points: usize,
    /// Cells per side of each frame's decision-boundary grid (the figures use 500; a frame is
    /// drawn about 400 pixels wide, so 200 loses nothing visible and costs a sixth).
    pub resolution: usize,
    /// The plotting window `(x0, x1, y0, y1)`; `None`: the training data's extent plus 10%.
    pub extent: Option<(f32, f32, f32, f32)>,
    /// Compute the curvature (top eigenvalue of `D H D`) at every point.
    pub curvature: bool,
    /// Seed of the power iterations (and, for [`random_ray`], of nothing else here).
    pub seed: u64,
    /// Hundredths of a second per frame.
    pub delay_cs: u16,
}

impl Default for WiggleConfig {
    fn default() -> Self {
        WiggleConfig {
            span: 0.5,
            points: 25,
            resolution: 200,
            extent: None,
            curvature: true,
            seed: 0,
            delay_cs: 8,
        }
    }
}

/// Where the train loss first reaches [`CROSSING_THRESHOLD`] on each side of the ray.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Crossing {
    /// The threshold (1).
    pub threshold: f64,
    /// `|t|` of the first crossing towards negative `t`, by bisection between ray samples;
    /// `None` if the loss stays below the threshold out to `span/2`.
    pub negative: Option<f64>,
    /// Likewise towards positive `t`.
    pub positive: Option<f64>,
}

impl Crossing {
    /// The nearer of the two crossings, or `None` if the loss stays below the threshold on
    /// both sides.
    pub fn nearest(&self) -> Option<f64> {
        match (self.negative, self.positive) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// What [`wiggle`] computed and wrote (also saved as `<name>.json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WiggleSummary {
    /// The figure's label, e.g. `"poisoned"`.
    pub label: String,
    /// What the direction is, e.g. `"random filter-normalised direction (seed 0)"`.
    pub direction: String,
    /// Euclidean norm of the direction.
    pub direction_norm: f64,
    /// The ray's `t` values, increasing.
    pub ts: Vec<f64>,
    /// Mean training loss at each `t`.
    pub train_loss: Vec<f64>,
    /// Training accuracy at each `t`.
    pub train_acc: Vec<f64>,
    /// Mean test loss at each `t`.
    pub test_loss: Vec<f64>,
    /// Test accuracy at each `t`.
    pub test_acc: Vec<f64>,
    /// Top eigenvalue of the filter-normalised Hessian at each `t`, if computed.
    pub curvature: Option<Vec<f64>>,
    /// The training loss at `t = 0`: the model's own.
    pub loss_at_zero: f64,
    /// Where the training loss crosses 1.
    pub crossing: Crossing,
    /// Frames in the GIF.
    pub frames: usize,
    /// The GIF file.
    pub gif: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

/// A filter-normalised random direction at `theta` (Li et al.; biases zero, the authors'
/// `get_random_dir` and `genviz paper`'s landscapes), from `seed`'s `"wiggle"` stream.
pub fn random_ray(net: &dyn Network, theta: &[f32], seed: u64) -> Result<Params> {
    let center = Params::from_vec(net.layout().clone(), theta.to_vec())?;
    Ok(random_direction(
        &center,
        Normalization::Filter,
        BiasPolicy::Ignore,
        &mut rng::stream(seed, "wiggle"),
    ))
}

/// The top eigenvector of the filter-normalised Hessian `D H D` of the mean training loss at
/// `theta` (power iteration with the network's exact Hessian-vector products; gen-viz's
/// `-along eigvec` takes the eigenvector of this same operator, its `spectral_radius`), mapped
/// back to parameters as `D v`, and its eigenvalue.
///
/// `D` holds each weight's filter norm (biases [`CURVATURE_BIAS_SCALE`]), so `D v` moves
/// every filter in proportion to its size, as a filter-normalised random direction does, and
/// leaves biases alone. Scale: a filter-normalised random direction has length `sqrt(F)` in
/// those units (`F` filters, each moved by its own norm); the eigenvector is scaled to the same
/// length, so that `t` means the same relative distance along either kind of ray and the two
/// wiggles can be compared. Its sign is arbitrary (the ray is symmetric).
pub fn eigvec_ray(
    net: &dyn Network,
    theta: &[f32],
    train: &Dataset,
    seed: u64,
) -> Result<(Params, f64)> {
    let center = Params::from_vec(net.layout().clone(), theta.to_vec())?;
    let top = top_curvature(net, &center, train, &mut rng::stream(seed, "wiggle-eigvec"))
        .context("the Hessian has no eigenvector (no parameters?)")?;
    let (scale, filters) = filter_scale(&center);
    let length = (filters as f64).sqrt();
    let values: Vec<f32> = top
        .vector
        .iter()
        .zip(&scale)
        .map(|(&v, &d)| (v * d * length) as f32)
        .collect();
    Ok((Params::from_vec(net.layout().clone(), values)?, top.value))
}

/// A named series of values.
fn series(name: &str, values: &[f64]) -> Series1d {
    Series1d {
        label: name.into(),
        values: values.to_vec(),
    }
}

/// The train and test loss of an animation's side panel.
fn loss_series(train: &[f64], test: &[f64]) -> Vec<Series1d> {
    vec![series("train loss", train), series("test loss", test)]
}

/// The train and test accuracy of an animation's side panel.
fn accuracy_series(train: &[f64], test: &[f64]) -> Vec<Series1d> {
    vec![series("train acc", train), series("test acc", test)]
}

/// The top eigenpair of the filter-normalised Hessian `D H D` of the mean training loss at
/// `theta` (power iteration from `rng`; `None` for a network without parameters).
fn top_curvature(
    net: &dyn Network,
    theta: &Params,
    train: &Dataset,
    rng: &mut rng::Rng,
) -> Option<hessian::Eigen> {
    let h = Hessian::new(net, theta.values(), train).filter_normalised(theta, CURVATURE_BIAS_SCALE);
    let op = |v: &[f64]| h.apply(v);
    hessian::top_eigen(&op, h.dim(), 1, hessian::TOLERANCE, hessian::MAX_ITER, rng)
        .into_iter()
        .next()
}

/// `D` of the filter-normalised Hessian (as [`Hessian::filter_normalised`] builds it) and the
/// number of filters it covers.
fn filter_scale(params: &Params) -> (Vec<f64>, usize) {
    let filters = params
        .layout()
        .tensors()
        .iter()
        .filter(|t| t.is_filtered_weight())
        .map(|t| t.num_filters())
        .sum();
    (
        hessian::filter_norm_scale(params, CURVATURE_BIAS_SCALE),
        filters,
    )
}

/// The ray's `t` values: `points` fifth-power-spaced values on `[-span/2, span/2]` (SPEC 1.5).
pub fn ray_coords(span: f64, points: usize) -> Vec<f64> {
    Axis {
        min: -span / 2.0,
        max: span / 2.0,
        num: points,
    }
    .coords(Spacing::Pow5)
}

/// gen-viz's frame order: from the middle point out to the last, back to the first, and on
/// to just before the middle, so the loop closes without a repeated frame.
fn loop_order(points: usize) -> Vec<usize> {
    let mid = points / 2;
    (mid..points)
        .chain((0..points - 1).rev())
        .chain(1..mid)
        .collect()
}

/// `theta + t d`, accumulated in f64 (`t = 0` gives `theta` exactly).
fn along(theta: &[f32], d: &[f32], t: f64) -> Vec<f32> {
    theta
        .iter()
        .zip(d)
        .map(|(&a, &b)| (f64::from(a) + t * f64::from(b)) as f32)
        .collect()
}

/// The first `|t|` on one side where the training loss reaches the threshold: bracketed by the
/// ray samples `ts` (increasing `|t|`, from 0) with their losses, then bisected.
fn crossing(
    net: &dyn Network,
    theta: &[f32],
    d: &[f32],
    train: &Dataset,
    ts: &[f64],
    losses: &[f64],
) -> Option<f64> {
    let j = losses.iter().position(|&l| l >= CROSSING_THRESHOLD)?;
    if j == 0 {
        return Some(ts[0].abs());
    }
    let sign = ts[j].signum();
    let (mut lo, mut hi) = (ts[j - 1].abs(), ts[j].abs());
    while hi - lo > CROSSING_TOLERANCE * hi {
        let mid = 0.5 * (lo + hi);
        let point = along(theta, d, sign * mid);
        if net.evaluate(&[&point], train)[0].loss >= CROSSING_THRESHOLD {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(0.5 * (lo + hi))
}

/// A positive number with two significant digits, plainly (`0.0022`, `0.11`, `1.5`).
pub fn two_digits(v: f64) -> String {
    if !(v.is_finite() && v > 0.0) {
        return format!("{v}");
    }
    let decimals = (1 - v.log10().floor() as i32).max(0) as usize;
    format!("{v:.decimals$}")
}

/// A number for a caption: three significant digits, exponent form when small.
fn short(v: f64) -> String {
    if v != 0.0 && v.abs() < 0.01 {
        format!("{v:.2e}")
    } else if v.abs() < 10.0 {
        format!("{v:.3}")
    } else {
        format!("{v:.1}")
    }
}

/// The authors' wiggle: the decision boundary of `net` at `theta + t direction` for every
/// `t` of [`ray_coords`], beside the train/test loss and accuracy (and, with
/// `cfg.curvature`, the top eigenvalue of the filter-normalised Hessian) along the ray.
/// Writes the GIF to `out` and its summary beside it (`out` with extension `.json`).
///
/// `label` names the minimum in the title ("clean", "poisoned") and `direction_name` the ray
/// ("random filter-normalised direction", "top Hessian eigenvector"). The inputs must be 2-D
/// (decision boundaries are drawn in input space).
#[allow(clippy::too_many_arguments)]
pub fn wiggle(
    net: &dyn Network,
    theta: &[f32],
    train: &Dataset,
    test: &Dataset,
    direction: &Params,
    label: &str,
    direction_name: &str,
    out: &Path,
    cfg: &WiggleConfig,
) -> Result<WiggleSummary> {
    if train.dim() != 2 {
        bail!(
            "a wiggle draws decision boundaries in the plane: the data has {} features, not 2",
            train.dim()
        );
    }
    if cfg.points < 3 || cfg.points.is_multiple_of(2) {
        bail!(
            "a wiggle needs an odd number of ray points, at least 3, so that t = 0 is one; got {}",
            cfg.points
        );
    }
    if !(cfg.span.is_finite() && cfg.span > 0.0) {
        bail!("the ray's span must be a positive number, got {}", cfg.span);
    }
    if cfg.resolution == 0 {
        bail!("the decision-boundary resolution must be at least 1");
    }
    if direction.values().len() != theta.len() {
        bail!(
            "the direction has {} values, the model {}",
            direction.values().len(),
            theta.len()
        );
    }
    let d = direction.values();
    let ts = ray_coords(cfg.span, cfg.points);
    let thetas: Vec<Vec<f32>> = ts.iter().map(|&t| along(theta, d, t)).collect();
    let refs: Vec<&[f32]> = thetas.iter().map(Vec::as_slice).collect();
    let on_train = net.evaluate(&refs, train);
    let on_test = net.evaluate(&refs, test);
    let train_loss: Vec<f64> = on_train.iter().map(|e| e.loss).collect();
    let train_acc: Vec<f64> = on_train.iter().map(|e| e.accuracy).collect();
    let test_loss: Vec<f64> = on_test.iter().map(|e| e.loss).collect();
    let test_acc: Vec<f64> = on_test.iter().map(|e| e.accuracy).collect();

    let curvature = cfg.curvature.then(|| {
        thetas
            .par_iter()
            .enumerate()
            .map(|(i, th)| -> Result<f64> {
                let p = Params::from_vec(net.layout().clone(), th.clone())?;
                let mut r = rng::substream(cfg.seed, "wiggle-curvature", i as u64);
                Ok(top_curvature(net, &p, train, &mut r).map_or(f64::NAN, |e| e.value))
            })
            .collect::<Result<Vec<f64>>>()
    });
    let curvature = curvature.transpose()?;

    let mid = cfg.points / 2;
    let negative: Vec<usize> = (0..=mid).rev().collect();
    let positive: Vec<usize> = (mid..cfg.points).collect();
    let side = |idx: &[usize]| {
        let t: Vec<f64> = idx.iter().map(|&i| ts[i]).collect();
        let l: Vec<f64> = idx.iter().map(|&i| train_loss[i]).collect();
        crossing(net, theta, d, train, &t, &l)
    };
    let crossing = Crossing {
        threshold: CROSSING_THRESHOLD,
        negative: side(&negative),
        positive: side(&positive),
    };

    let extent = cfg.extent.unwrap_or_else(|| figures::extent_of(train));
    let boundaries: Vec<_> = thetas
        .par_iter()
        .enumerate()
        .map(|(i, th)| {
            let title = format!(
                "t = {}: train loss {}, acc {:.1}%",
                if ts[i] == 0.0 {
                    "0".to_string()
                } else {
                    format!("{:+.3e}", ts[i])
                },
                short(train_loss[i]),
                100.0 * train_acc[i]
            );
            figures::boundary_panel_at(net, th, train, extent, title, cfg.resolution)
        })
        .collect();
    let crossing_text = |c: Option<f64>| c.map_or_else(|| "none".to_string(), two_digits);
    let animation = WiggleAnimation {
        title: format!(
            "{label} minimum along a {direction_name}: loss 1 at |t| = {} (t<0), {} (t>0)",
            crossing_text(crossing.negative),
            crossing_text(crossing.positive)
        ),
        ts: ts.clone(),
        boundaries,
        losses: loss_series(&train_loss, &test_loss),
        accuracies: accuracy_series(&train_acc, &test_acc),
        curvature: curvature
            .as_ref()
            .map(|c| series("top eigenvalue of the filter-normalised Hessian", c)),
        log_loss: true,
        order: loop_order(cfg.points),
        axis_root: 5,
        x_label: "t (axis spaced as t^(1/5))".into(),
    };
    if let Some(dir) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    genviz_render::draw_wiggle_gif(out, &animation, cfg.delay_cs)?;
    let summary = WiggleSummary {
        label: label.into(),
        direction: direction_name.into(),
        direction_norm: direction.norm(),
        loss_at_zero: train_loss[mid],
        ts,
        train_loss,
        train_acc,
        test_loss,
        test_acc,
        curvature,
        crossing,
        frames: animation.order.len(),
        gif: out.to_path_buf(),
        bytes: std::fs::metadata(out).map_or(0, |m| m.len()),
    };
    genviz_core::io::write_json(&out.with_extension("json"), &summary)?;
    Ok(summary)
}

/// A run's saved training path: `trajectory.npz` (`steps`, `params [checkpoints, n]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Trajectory {
    /// The step of each checkpoint.
    pub steps: Vec<u64>,
    /// The parameters at each checkpoint.
    pub params: Vec<Vec<f32>>,
}

/// Reads `trajectory.npz` from a run folder, checking it holds `num_params` parameters a row.
pub fn read_trajectory(run: &Path, num_params: usize) -> Result<Trajectory> {
    let path = run.join("trajectory.npz");
    if !path.exists() {
        bail!(
            "{}: no trajectory.npz; the training path needs a run folder trained by genviz",
            run.display()
        );
    }
    let mut npz = genviz_core::io::Npz::open(&path)?;
    let (values, shape) = npz.f32("params")?;
    if shape.len() != 2 || shape[1] != num_params {
        bail!(
            "{}: `params` has shape {shape:?}, expected [checkpoints, {num_params}]",
            path.display()
        );
    }
    let (steps, _) = npz.i64("steps")?;
    if steps.len() != shape[0] {
        bail!(
            "{}: {} steps for {} checkpoints",
            path.display(),
            steps.len(),
            shape[0]
        );
    }
    Ok(Trajectory {
        steps: steps.iter().map(|&s| s.max(0) as u64).collect(),
        params: values.chunks(num_params).map(<[f32]>::to_vec).collect(),
    })
}

/// The most decades of loss the path's contours span: a clean net trained to a loss of 1e-12
/// would otherwise crowd its plot with levels no reader can tell apart.
const CONTOUR_DECADES: i32 = 8;

/// How a training-path animation is sampled and drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct PathConfig {
    /// Frames of the growing path (the head moves evenly from checkpoint to checkpoint).
    pub frames: usize,
    /// Extra frames holding the finished path before the loop starts again.
    pub hold: usize,
    /// Grid points per side of the loss surface on the PCA plane (`genviz trajectory`: 41).
    pub grid: usize,
    /// Hundredths of a second per frame.
    pub delay_cs: u16,
}

impl Default for PathConfig {
    fn default() -> Self {
        PathConfig {
            frames: 48,
            hold: 8,
            grid: 41,
            delay_cs: 8,
        }
    }
}

/// What [`pca_path`] computed and wrote (also saved as `<name>.json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PathSummary {
    /// The figure's label.
    pub label: String,
    /// Share of the path's variance along each principal component.
    pub explained_variance_ratio: [f64; 2],
    /// The step of each checkpoint.
    pub steps: Vec<u64>,
    /// Each checkpoint's coordinates on the plane (least squares; the final model is (0, 0)).
    pub coords: Vec<(f64, f64)>,
    /// Training loss of each checkpoint.
    pub train_loss: Vec<f64>,
    /// Test accuracy of each checkpoint.
    pub test_acc: Vec<f64>,
    /// Lowest and highest training loss on the plane's grid.
    pub surface_range: (f64, f64),
    /// Frames in the GIF.
    pub frames: usize,
    /// The GIF file.
    pub gif: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

/// The training path of `trajectory` on the plane of its first two principal components (as
/// `genviz trajectory` computes it: rows `theta_i - theta` with biases zeroed, centred at the
/// final model `theta`), drawn growing over the train-loss contours of that plane, beside the
/// train/test loss and accuracy of each checkpoint. Writes the GIF to `out` and its summary
/// beside it (`.json`).
#[allow(clippy::too_many_arguments)]
pub fn pca_path(
    net: &dyn Network,
    theta: &[f32],
    trajectory: &Trajectory,
    train: &Dataset,
    test: &Dataset,
    label: &str,
    out: &Path,
    cfg: &PathConfig,
) -> Result<PathSummary> {
    let n = theta.len();
    if trajectory.params.iter().any(|r| r.len() != n) {
        bail!("the trajectory's checkpoints do not have the model's {n} parameters");
    }
    if cfg.frames < 2 || cfg.grid < 2 {
        bail!(
            "a training-path animation needs at least 2 frames and 2 grid points a side, got {} and {}",
            cfg.frames,
            cfg.grid
        );
    }
    let center = Params::from_vec(net.layout().clone(), theta.to_vec())?;
    let path = PathPlane::of(trajectory.params.iter().map(Vec::as_slice), &center)
        .context("PCA of the training path")?;
    let coords = path.lstsq.clone();
    let pca = path.pca.clone();
    let (xs, ys) = (
        path.axis(0, cfg.grid).coords(Spacing::Linear),
        path.axis(1, cfg.grid).coords(Spacing::Linear),
    );
    let plane = path.plane(&center)?;
    let fingerprint = plane.fingerprint(&xs, &ys, &[train, test]);
    let mut surface = Surface::new(xs, ys, fingerprint)?;
    surface.fill(net, &plane, train, test, Shard::ALL, &mut |_, _| Ok(()))?;

    let refs: Vec<&[f32]> = trajectory.params.iter().map(Vec::as_slice).collect();
    let on_train = net.evaluate(&refs, train);
    let on_test = net.evaluate(&refs, test);
    let pick = |e: &[genviz_core::network::Eval], f: fn(&genviz_core::network::Eval) -> f64| {
        e.iter().map(f).collect::<Vec<f64>>()
    };
    let train_loss = pick(&on_train, |e| e.loss);
    let test_loss = pick(&on_test, |e| e.loss);
    let train_acc = pick(&on_train, |e| e.accuracy);
    let test_acc = pick(&on_test, |e| e.accuracy);

    // Contour levels in half decades from the decade below the lowest loss on the plane (at
    // most CONTOUR_DECADES below the top) to the decade above the highest.
    let finite = surface
        .train_loss
        .iter()
        .copied()
        .filter(|v| v.is_finite() && *v > 0.0);
    let (lo, hi) = finite.fold((f64::INFINITY, 0f64), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        bail!("the loss on the PCA plane has no finite positive value");
    }
    let vmax = 10f64.powf(hi.log10().ceil());
    let vmin = 10f64
        .powf(lo.log10().floor())
        .max(vmax * 10f64.powi(-CONTOUR_DECADES))
        .min(vmax / 100.0);
    let k = coords.len();
    let steps: Vec<f64> = trajectory.steps.iter().map(|&s| s as f64).collect();
    if let Some(j) = (1..steps.len()).find(|&j| steps[j] <= steps[j - 1]) {
        bail!(
            "the trajectory's steps must increase, but step {} follows {}",
            steps[j],
            steps[j - 1]
        );
    }
    let mut heads: Vec<f64> = (0..cfg.frames)
        .map(|f| (k - 1) as f64 * f as f64 / (cfg.frames - 1) as f64)
        .collect();
    heads.extend(std::iter::repeat_n((k - 1) as f64, cfg.hold));
    let [r1, r2] = pca.explained_variance_ratio;
    let animation = PathAnimation {
        title: format!(
            "{label}: training path on its PCA plane (PC1 {:.1}%, PC2 {:.1}% of its variance)",
            100.0 * r1,
            100.0 * r2
        ),
        surface: genviz_render::SurfaceGrid {
            xs: surface.xs.clone(),
            ys: surface.ys.clone(),
            values: surface.train_loss.clone(),
            title: "train loss on the (PC1, PC2) plane".into(),
            value_label: "train loss".into(),
        },
        style: ContourStyle {
            vmin,
            vmax,
            vlevel: 0.5,
            log: true,
        },
        path: coords.clone(),
        path_label: "training path".into(),
        steps,
        losses: loss_series(&train_loss, &test_loss),
        accuracies: accuracy_series(&train_acc, &test_acc),
        log_loss: true,
        markers: vec![Marker {
            x: 0.0,
            y: 0.0,
            label: "final".into(),
        }],
        heads,
    };
    if let Some(dir) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    genviz_render::draw_path_gif(out, &animation, cfg.delay_cs)?;
    let summary = PathSummary {
        label: label.into(),
        explained_variance_ratio: pca.explained_variance_ratio,
        steps: trajectory.steps.clone(),
        coords,
        train_loss,
        test_acc,
        surface_range: (lo, hi),
        frames: animation.heads.len(),
        gif: out.to_path_buf(),
        bytes: std::fs::metadata(out).map_or(0, |m| m.len()),
    };
    genviz_core::io::write_json(&out.with_extension("json"), &summary)?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loop_visits_every_point_and_closes() {
        let order = loop_order(5);
        assert_eq!(order, vec![2, 3, 4, 3, 2, 1, 0, 1]);
        assert_eq!(loop_order(25).len(), 48);
    }

    #[test]
    fn ray_is_symmetric_fifth_power_with_zero_in_the_middle() {
        let ts = ray_coords(1.0, 5);
        assert_eq!(ts.len(), 5);
        assert_eq!(ts[2], 0.0);
        assert!((ts[4] - 0.5).abs() < 1e-12 && (ts[0] + 0.5).abs() < 1e-12);
        assert!((ts[3] - 0.5 * 0.5f64.powi(5)).abs() < 1e-12, "{ts:?}");
        assert_eq!(ts[1], -ts[3]);
    }

    #[test]
    fn the_ray_starts_exactly_at_theta() {
        let theta = [0.1f32, -2.5, 3.0];
        let d = [1.0f32, 2.0, -0.3];
        assert_eq!(along(&theta, &d, 0.0), theta.to_vec());
        assert_eq!(along(&theta, &d, 1.0), vec![1.1, -0.5, 2.7]);
    }

    #[test]
    fn crossings_read_with_two_digits() {
        for (t, shown) in [
            (0.002_24, "0.0022"),
            (0.1052, "0.11"),
            (1.52, "1.5"),
            (12.3, "12"),
        ] {
            assert_eq!(two_digits(t), shown);
        }
    }
}

/// What an animation moves along.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Along {
    /// A filter-normalised random direction (biases fixed).
    Random,
    /// The top eigenvector of the filter-normalised Hessian of the training loss.
    Eigvec,
    /// The training path, on the plane of its two principal components.
    PcaPath,
}

impl std::str::FromStr for Along {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "random" => Along::Random,
            "eigvec" => Along::Eigvec,
            "pca-path" => Along::PcaPath,
            other => bail!("`{other}`: expected random, eigvec or pca-path"),
        })
    }
}

/// One animation of one model (`genviz animate`).
#[derive(Clone, Debug, PartialEq)]
pub struct AnimateConfig {
    /// A run folder (or a `.safetensors` file with data; the path needs a run folder).
    pub model: PathBuf,
    /// What to move along.
    pub along: Along,
    /// The GIF to write; its summary goes beside it as `.json`.
    pub out: PathBuf,
    /// The ray covers `t` in `[-span/2, span/2]` (filter-normalised units).
    pub span: f64,
    /// Points along the ray, or frames of the growing path (`None`: the default).
    pub frames: Option<usize>,
    /// Seed of the random direction and of the power iterations.
    pub seed: u64,
    /// Cells per side of each frame's decision-boundary grid.
    pub resolution: usize,
    /// Compute the curvature (top Hessian eigenvalue) along the ray.
    pub curvature: bool,
    /// Hundredths of a second per frame.
    pub delay_cs: u16,
    /// The data.
    pub data: DataSource,
}

/// What [`run`] made.
#[derive(Clone, Debug, PartialEq)]
pub enum Animation {
    /// A wiggle along a ray, and the top eigenvalue when the ray is the eigenvector.
    Wiggle(WiggleSummary, Option<f64>),
    /// A training path.
    Path(PathSummary),
}

/// Makes the animation `config` describes.
///
/// # Errors
/// When the output is not a `.gif`, the model or data cannot be read, or the training path
/// is asked of something that is not a run folder.
pub fn run(config: &AnimateConfig) -> Result<Animation> {
    if config.out.extension().is_none_or(|e| e != "gif") {
        bail!("{}: expected a .gif file name", config.out.display());
    }
    let (m, train, test) = config.data.open(&config.model, &crate::Silent)?;
    let label = config
        .model
        .file_stem()
        .map_or_else(|| "model".to_string(), |s| s.to_string_lossy().into_owned());
    let theta = m.params.values();
    if config.along == Along::PcaPath {
        if !config.model.is_dir() {
            bail!(
                "{}: the training path needs a run folder (with trajectory.npz)",
                config.model.display()
            );
        }
        let trajectory = read_trajectory(&config.model, theta.len())?;
        let defaults = PathConfig::default();
        let cfg = PathConfig {
            frames: config.frames.unwrap_or(defaults.frames),
            delay_cs: config.delay_cs,
            ..defaults
        };
        let s = pca_path(
            &m.net,
            theta,
            &trajectory,
            &train,
            &test,
            &label,
            &config.out,
            &cfg,
        )?;
        crate::pages::write_animation_page(
            &config.out,
            &format!(
                "The training path of {} on the plane of its two principal components, growing \
                 checkpoint by checkpoint over the train-loss contours of that plane, beside \
                 the loss of each checkpoint.",
                config.model.display()
            ),
            &s,
        )?;
        return Ok(Animation::Path(s));
    }
    let (direction, name, value) = if config.along == Along::Random {
        (
            random_ray(&m.net, theta, config.seed)?,
            format!("random filter-normalised direction (seed {})", config.seed),
            None,
        )
    } else {
        let (d, value) = eigvec_ray(&m.net, theta, &train, config.seed)?;
        (d, "top Hessian eigenvector".to_string(), Some(value))
    };
    let defaults = WiggleConfig::default();
    let cfg = WiggleConfig {
        span: config.span,
        points: config.frames.unwrap_or(defaults.points),
        resolution: config.resolution,
        curvature: config.curvature,
        seed: config.seed,
        delay_cs: config.delay_cs,
        ..defaults
    };
    let s = wiggle(
        &m.net,
        theta,
        &train,
        &test,
        &direction,
        &label,
        &name,
        &config.out,
        &cfg,
    )?;
    crate::pages::write_animation_page(
        &config.out,
        &format!(
            "The weights of {} move along the {name}, t from {} to {}; every frame shows the \
             decision boundary at that t beside the train and test loss and accuracy{}. A flat \
             minimum's boundary hardly moves; a sharp one's shatters within a small t.",
            config.model.display(),
            -config.span / 2.0,
            config.span / 2.0,
            if config.curvature {
                " and the curvature along the ray"
            } else {
                ""
            }
        ),
        &s,
    )?;
    Ok(Animation::Wiggle(s, value))
}

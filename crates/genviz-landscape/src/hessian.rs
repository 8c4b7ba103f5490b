//! Curvature: Hessian-vector products, top eigenvalues, trace, spectral density (PyHessian,
//! SPEC 4), the filter-normalised Hessian `D H D` (gen-viz, SPEC 1.7) and Li et al.'s
//! min/max eigenvalue ratio (SPEC 2.2).
//!
//! Products come from [`Network::hvp`]: exact for the native MLP (an R-operator), central
//! differences of exact gradients for other families.

use genviz_core::{Dataset, Network, Params, Result};
use rand::Rng as _;
use serde::{Deserialize, Serialize};

/// PyHessian's stopping rule for power iteration and Hutchinson: relative change below this.
pub const TOLERANCE: f64 = 1e-3;

/// Gradient variance within this many iterations is not trusted to stop on (PyHessian: 100).
pub const MAX_ITER: usize = 100;

/// The Hessian of the mean training loss at a point, as an operator.
pub struct Hessian<'a> {
    net: &'a dyn Network,
    theta: Vec<f32>,
    data: &'a Dataset,
    /// `D` of `D H D`, when filter-normalised.
    scale: Option<Vec<f64>>,
}

impl<'a> Hessian<'a> {
    /// The Hessian of `net`'s mean loss on `data` at `theta`.
    pub fn new(net: &'a dyn Network, theta: &[f32], data: &'a Dataset) -> Self {
        Hessian {
            net,
            theta: theta.to_vec(),
            data,
            scale: None,
        }
    }

    /// Makes this the filter-normalised Hessian `D H D`, `D` holding each weight's filter norm
    /// and `bias_scale` for one-dimensional tensors (gen-viz: 1e-6 for the swiss roll, 1 for SVHN).
    pub fn filter_normalised(mut self, params: &Params, bias_scale: f64) -> Self {
        self.scale = Some(filter_norm_scale(params, bias_scale));
        self
    }

    /// Number of parameters.
    pub fn dim(&self) -> usize {
        self.theta.len()
    }

    /// `H v` (or `D H D v`).
    pub fn apply(&self, v: &[f64]) -> Vec<f64> {
        let v32: Vec<f32> = match &self.scale {
            Some(d) => v.iter().zip(d).map(|(a, b)| (a * b) as f32).collect(),
            None => v.iter().map(|&a| a as f32).collect(),
        };
        let mut hv = self.net.hvp(&self.theta, &v32, self.data);
        if let Some(d) = &self.scale {
            hv.iter_mut().zip(d).for_each(|(h, s)| *h *= s);
        }
        hv
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn normalise(v: &mut [f64]) -> f64 {
    let n = dot(v, v).sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
    n
}

fn gaussian(n: usize, rng: &mut genviz_core::rng::Rng) -> Vec<f64> {
    (0..n)
        .map(|_| rng.sample::<f64, _>(rand_distr::StandardNormal))
        .collect()
}

/// An eigenpair.
#[derive(Clone, Debug)]
pub struct Eigen {
    /// The eigenvalue (Rayleigh quotient).
    pub value: f64,
    /// The unit eigenvector.
    pub vector: Vec<f64>,
}

/// The `k` eigenvalues of largest magnitude by power iteration with deflation (PyHessian's
/// `eigenvalues`): each vector is kept orthogonal to those found, and iteration stops when the
/// Rayleigh quotient changes by less than `tol` relatively.
pub fn top_eigen(
    op: &dyn Fn(&[f64]) -> Vec<f64>,
    n: usize,
    k: usize,
    tol: f64,
    max_iter: usize,
    rng: &mut genviz_core::rng::Rng,
) -> Vec<Eigen> {
    top_eigen_from(op, n, k, tol, max_iter, rng, Vec::new(), &mut |_, _| Ok(()))
        .expect("a callback that cannot fail")
}

/// [`top_eigen`] continuing from the eigenpairs already `found` (with `rng` where it was
/// when the last was found), calling `after_each` with all pairs so far and the generator after
/// each new pair, so a caller can save progress and resume after a kill with the same bits.
#[allow(clippy::too_many_arguments)]
pub fn top_eigen_from(
    op: &dyn Fn(&[f64]) -> Vec<f64>,
    n: usize,
    k: usize,
    tol: f64,
    max_iter: usize,
    rng: &mut genviz_core::rng::Rng,
    mut found: Vec<Eigen>,
    after_each: &mut dyn FnMut(&[Eigen], &genviz_core::rng::Rng) -> Result<()>,
) -> Result<Vec<Eigen>> {
    while found.len() < k.min(n) {
        let mut v = gaussian(n, rng);
        normalise(&mut v);
        let mut value = 0.0;
        for it in 0..max_iter {
            for e in &found {
                let c = dot(&v, &e.vector);
                v.iter_mut().zip(&e.vector).for_each(|(x, y)| *x -= c * y);
            }
            normalise(&mut v);
            let hv = op(&v);
            let next = dot(&v, &hv);
            v = hv;
            normalise(&mut v);
            let converged = it > 0 && (next - value).abs() / (value.abs() + 1e-6) < tol;
            value = next;
            if converged {
                break;
            }
        }
        found.push(Eigen { value, vector: v });
        after_each(&found, rng)?;
    }
    Ok(found)
}

/// Hutchinson's trace estimate with Rademacher vectors, stopping when the running mean
/// changes by less than `tol` relatively (PyHessian's `trace`).
pub fn trace(
    op: &dyn Fn(&[f64]) -> Vec<f64>,
    n: usize,
    tol: f64,
    max_iter: usize,
    rng: &mut genviz_core::rng::Rng,
) -> f64 {
    let mut sum = 0.0;
    let mut mean = 0.0;
    for it in 1..=max_iter {
        let v: Vec<f64> = (0..n)
            .map(|_| if rng.gen::<bool>() { 1.0 } else { -1.0 })
            .collect();
        sum += dot(&v, &op(&v));
        let next = sum / it as f64;
        if it > 1 && (next - mean).abs() / (mean.abs() + 1e-6) < tol {
            return next;
        }
        mean = next;
    }
    mean
}

/// Nodes and weights of stochastic Lanczos quadrature (PyHessian's `density`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Quadrature {
    /// Ritz values.
    pub nodes: Vec<f64>,
    /// Squared first components of the Ritz vectors.
    pub weights: Vec<f64>,
}

/// `runs` runs of `steps`-step Lanczos with full reorthogonalisation from normalised
/// Rademacher vectors.
pub fn lanczos_quadrature(
    op: &dyn Fn(&[f64]) -> Vec<f64>,
    n: usize,
    steps: usize,
    runs: usize,
    rng: &mut genviz_core::rng::Rng,
) -> Vec<Quadrature> {
    (0..runs).map(|_| lanczos_run(op, n, steps, rng)).collect()
}

/// One run of [`lanczos_quadrature`] (runs draw from `rng` in turn, so a caller may save
/// after each and resume).
pub fn lanczos_run(
    op: &dyn Fn(&[f64]) -> Vec<f64>,
    n: usize,
    steps: usize,
    rng: &mut genviz_core::rng::Rng,
) -> Quadrature {
    let m = steps.min(n);
    let mut v: Vec<f64> = (0..n)
        .map(|_| if rng.gen::<bool>() { 1.0 } else { -1.0 })
        .collect();
    normalise(&mut v);
    let mut basis: Vec<Vec<f64>> = vec![v];
    let (mut alpha, mut beta) = (Vec::new(), Vec::new());
    for j in 0..m {
        let mut w = op(&basis[j]);
        let a = dot(&w, &basis[j]);
        alpha.push(a);
        // Full reorthogonalisation against every basis vector.
        for b in &basis {
            let c = dot(&w, b);
            w.iter_mut().zip(b).for_each(|(x, y)| *x -= c * y);
        }
        if j + 1 == m {
            break;
        }
        let mut bn = normalise(&mut w);
        if bn < 1e-10 {
            // An invariant subspace: restart with a fresh orthogonal vector.
            w = gaussian(n, rng);
            for b in &basis {
                let c = dot(&w, b);
                w.iter_mut().zip(b).for_each(|(x, y)| *x -= c * y);
            }
            normalise(&mut w);
            bn = 0.0;
        }
        beta.push(bn);
        basis.push(w);
    }
    let k = alpha.len();
    let mut t = vec![0.0; k * k];
    for i in 0..k {
        t[i * k + i] = alpha[i];
        if i + 1 < k {
            t[i * k + i + 1] = beta[i];
            t[(i + 1) * k + i] = beta[i];
        }
    }
    let (values, vectors) = crate::pca::jacobi_eigen(t, k);
    Quadrature {
        nodes: values,
        weights: (0..k).map(|c| vectors[c].powi(2)).collect(),
    }
}

/// PyHessian's `density_plot`: Gaussians of variance `1e-5 * max(1, spread)` at every node,
/// averaged over runs, on `grid`, normalised to integrate to one.
pub fn smoothed_density(runs: &[Quadrature], grid: &[f64]) -> Vec<f64> {
    let all = runs.iter().flat_map(|q| q.nodes.iter().copied());
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    });
    let sigma2 = 1e-5 * (hi - lo).max(1.0);
    let mut density = vec![0.0; grid.len()];
    for q in runs {
        for (&node, &w) in q.nodes.iter().zip(&q.weights) {
            for (d, &x) in density.iter_mut().zip(grid) {
                *d += w * (-(x - node).powi(2) / (2.0 * sigma2)).exp()
                    / (2.0 * std::f64::consts::PI * sigma2).sqrt();
            }
        }
    }
    let step = if grid.len() > 1 {
        grid[1] - grid[0]
    } else {
        1.0
    };
    let total: f64 = density.iter().sum::<f64>() * step;
    if total > 0.0 {
        density.iter_mut().for_each(|d| *d /= total);
    }
    density
}

/// Points of the smoothed spectral density (PyHessian's `density_plot`: 10,000 bins).
pub const DENSITY_BINS: usize = 10_000;

/// The grid a spectral density is drawn on: [`DENSITY_BINS`] points spanning every Lanczos
/// node of `runs` with 5% of that span added on each side.
pub fn density_grid(runs: &[Quadrature]) -> Vec<f64> {
    let (lo, hi) = runs
        .iter()
        .flat_map(|q| q.nodes.iter().copied())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
    let pad = 0.05 * (hi - lo).max(1e-6);
    (0..DENSITY_BINS)
        .map(|i| lo - pad + (hi - lo + 2.0 * pad) * i as f64 / (DENSITY_BINS - 1) as f64)
        .collect()
}

/// Lanczos steps (Hessian-vector products) of a ratio-map point: the extreme Ritz values of
/// 30 steps sit within a fraction of a percent of the extreme eigenvalues of a spectrum like a
/// network's (a bulk near zero, a few outliers), where a shifted power iteration of as many
/// products may not have moved off the top eigenvalue (see [`eigen_ratio`]).
pub const RATIO_LANCZOS_STEPS: usize = 30;

/// Li et al.'s `(lambda_min, lambda_max)` of the training-loss Hessian at the point `(a, b)`
/// of `plane`, point number `index` of a map: its random vectors come from sub-stream `index`
/// of `seed`'s `"ratio"` stream, so a point's value does not depend on which process or
/// chunk computes it.
pub fn ratio_at(
    net: &dyn genviz_core::Network,
    data: &genviz_core::Dataset,
    plane: genviz_core::Affine<'_>,
    (a, b): (f64, f64),
    seed: u64,
    index: u64,
) -> (f64, f64) {
    let mut theta = vec![0f32; plane.center.len()];
    plane.point(a, b, &mut theta);
    let h = Hessian::new(net, &theta, data);
    let op = |v: &[f64]| h.apply(v);
    eigen_ratio(
        &op,
        h.dim(),
        RATIO_LANCZOS_STEPS,
        &mut genviz_core::rng::substream(seed, "ratio", index),
    )
}

/// The `(lambda_min, lambda_max)` of Li et al.'s `|lambda_min / lambda_max|`: the smallest and
/// largest eigenvalues of `op`, estimated by the extreme Ritz values of `steps` Lanczos steps
/// (fully reorthogonalised, from one Rademacher vector).
///
/// Li et al. find `lambda_max` by power iteration and `lambda_min` by power iteration on
/// `H - 0.51 lambda_max I`. That second search races eigenvalues whose magnitudes differ by
/// 4% (`0.51` against `0.49 lambda_max`), so at a tolerance a map can afford it stops on
/// the top eigenvalue again and reads a ratio of 1 whatever the curvature (measured on a
/// ResNet-20: 8 of a map's first 14 points came back with `lambda_min == lambda_max`); and
/// when the most negative eigenvalue is the largest in magnitude it finds the wrong end.
/// Lanczos finds both ends of the spectrum at once and converges there fastest.
pub fn eigen_ratio(
    op: &dyn Fn(&[f64]) -> Vec<f64>,
    n: usize,
    steps: usize,
    rng: &mut genviz_core::rng::Rng,
) -> (f64, f64) {
    let ritz = lanczos_run(op, n, steps.max(1), rng).nodes;
    let min = ritz.iter().copied().fold(f64::INFINITY, f64::min);
    let max = ritz.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (min, max)
}

/// A compact summary for `run.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Summary {
    /// Top eigenvalues, largest magnitude first.
    pub eigenvalues: Vec<f64>,
    /// Hutchinson trace.
    pub trace: Option<f64>,
}

/// Convenience: top-`k` eigenvalues and the trace of `h`.
pub fn summarize(h: &Hessian<'_>, k: usize, with_trace: bool, seed: u64) -> Result<Summary> {
    let op = |v: &[f64]| h.apply(v);
    let mut rng = genviz_core::rng::stream(seed, "hessian");
    let eig = top_eigen(&op, h.dim(), k, TOLERANCE, MAX_ITER, &mut rng);
    let trace = with_trace.then(|| trace(&op, h.dim(), TOLERANCE, MAX_ITER, &mut rng));
    Ok(Summary {
        eigenvalues: eig.iter().map(|e| e.value).collect(),
        trace,
    })
}

#[cfg(test)]
mod tests;

/// The diagonal `D` of the filter-normalised Hessian `D H D`: each weight's filter norm, and
/// `bias_scale` for one-dimensional tensors.
pub fn filter_norm_scale(params: &Params, bias_scale: f64) -> Vec<f64> {
    let mut d = vec![bias_scale; params.values().len()];
    for t in params.layout().tensors() {
        if !t.is_filtered_weight() {
            continue;
        }
        for k in 0..t.num_filters() {
            let r = t.filter_range(k);
            let norm = params.values()[r.clone()]
                .iter()
                .map(|&v| f64::from(v).powi(2))
                .sum::<f64>()
                .sqrt();
            d[r].fill(norm);
        }
    }
    d
}

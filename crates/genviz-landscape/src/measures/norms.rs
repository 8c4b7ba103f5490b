//! Norm-based measures of Jiang et al. ("Fantastic Generalization Measures", Appendix C,
//! equation numbers of the arXiv version as in nitarshan/robust-generalization-measures): the
//! one they found among the best (the path norm, eq. 44) and ones they found poor (the spectral
//! product, eq. 32; the Fisher-Rao norm of Liang et al. 2019), and the distance from
//! initialisation (eq. 40).
//!
//! "Weights" are the tensors of [`Role::Weight`] with two or more axes; a `[out, in, kh, kw]`
//! convolution kernel is read as the `[out, in * kh * kw]` matrix whose rows are its filters
//! (PyTorch's layout, and Jiang et al.'s reshaping, after Yoshida and Miyato 2017). Biases,
//! normalisation parameters and running statistics are not weights. `d`, the depth, is the
//! number of weights.

use super::{
    check_point, mean_interval, on_subset, Counting, Measured, Outcome, Prediction,
    DEFAULT_EXAMPLES,
};
use genviz_core::{rng, Batch, Dataset, Error, Network, Params, Result, Role, TensorSpec};
use rand::Rng as _;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Matrices whose smaller side is at most this are decomposed exactly (Jacobi on the Gram
/// matrix, `O(k^3)`); larger ones use power iteration.
pub const EXACT_SPECTRAL_MAX: usize = 256;

/// Power iteration stops when the estimate changes by less than this, relatively.
pub const POWER_TOLERANCE: f64 = 1e-12;

/// Power iteration's iteration limit.
pub const POWER_MAX_ITER: usize = 10_000;

/// Relative tolerance of the path norm's check that the squared network is affine on the
/// positive orthant (f32 forward passes agree to about 1e-6).
pub const PATH_NORM_TOLERANCE: f64 = 1e-3;

/// The weights of a layout, in order.
pub fn weights(theta: &Params) -> Vec<&TensorSpec> {
    theta
        .layout()
        .tensors()
        .iter()
        .filter(|t| t.role == Role::Weight && t.shape.len() >= 2)
        .collect()
}

/// Jiang et al.'s distance from initialisation `sum_i ||W_i - W_i^0||_F^2` over the weights
/// (eq. 40, `fro.dist`). Details: `l2_all`, the Euclidean distance `||w - w^0||_2` over every
/// trainable parameter, biases included.
pub fn distance_from_init(theta: &Params, init: &Params) -> Result<Outcome> {
    crate::direction::same_layout(theta, init)
        .map_err(|e| Error::invalid(format!("distance from initialisation: {e}")))?;
    let start = std::time::Instant::now();
    let sq = |r: std::ops::Range<usize>| -> f64 {
        theta.values()[r.clone()]
            .iter()
            .zip(&init.values()[r])
            .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
            .sum()
    };
    let fro: f64 = weights(theta).iter().map(|t| sq(t.range())).sum();
    let all: f64 = theta
        .layout()
        .tensors()
        .iter()
        .filter(|t| t.role != Role::RunningStat)
        .map(|t| sq(t.range()))
        .sum();
    if !fro.is_finite() || !all.is_finite() {
        return Err(Error::invalid(
            "distance from initialisation: the parameters are not finite",
        ));
    }
    Ok(Outcome {
        measures: vec![Measured::new("dist_from_init", fro, Prediction::LargerGap)
            .detail("l2_all", all.sqrt())],
        cost: super::Cost {
            seconds: start.elapsed().as_secs_f64(),
            ..Default::default()
        },
    })
}

/// The largest singular value of the row-major `rows x cols` matrix `a`.
pub fn spectral_norm(a: &[f32], rows: usize, cols: usize) -> Result<f64> {
    if rows.checked_mul(cols) != Some(a.len()) {
        return Err(Error::invalid(format!(
            "spectral norm: {} values do not make a {rows} x {cols} matrix",
            a.len()
        )));
    }
    let k = rows.min(cols);
    if k == 0 {
        return Ok(0.0);
    }
    let a: Vec<f64> = a.iter().map(|&v| f64::from(v)).collect();
    // The Gram matrix of the smaller side: a a^T (rows <= cols) or a^T a.
    let times = |v: &[f64]| -> Vec<f64> {
        (0..rows)
            .map(|i| (0..cols).map(|j| a[i * cols + j] * v[j]).sum())
            .collect()
    };
    let transposed_times = |v: &[f64]| -> Vec<f64> {
        (0..cols)
            .map(|j| (0..rows).map(|i| a[i * cols + j] * v[i]).sum())
            .collect()
    };
    let gram_apply = |v: &[f64]| -> Vec<f64> {
        if rows <= cols {
            times(&transposed_times(v))
        } else {
            transposed_times(&times(v))
        }
    };
    if k <= EXACT_SPECTRAL_MAX {
        let mut gram = vec![0.0; k * k];
        for p in 0..k {
            let mut e = vec![0.0; k];
            e[p] = 1.0;
            let col = gram_apply(&e);
            for q in 0..k {
                gram[q * k + p] = col[q];
            }
        }
        // Symmetrise away rounding so Jacobi sees an exactly symmetric matrix.
        for p in 0..k {
            for q in p + 1..k {
                let m = 0.5 * (gram[p * k + q] + gram[q * k + p]);
                gram[p * k + q] = m;
                gram[q * k + p] = m;
            }
        }
        let (values, _) = crate::pca::jacobi_eigen(gram, k);
        return Ok(values.into_iter().fold(0.0, f64::max).max(0.0).sqrt());
    }
    // Deterministic start: every direction is present with probability one.
    let mut r = rng::stream(0, "measures/spectral_norm");
    let mut v: Vec<f64> = (0..k).map(|_| r.gen_range(0.5..1.5)).collect();
    let mut value = 0.0;
    for _ in 0..POWER_MAX_ITER {
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm == 0.0 {
            return Ok(0.0);
        }
        v.iter_mut().for_each(|x| *x /= norm);
        let w = gram_apply(&v);
        let next: f64 = w.iter().zip(&v).map(|(a, b)| a * b).sum();
        v = w;
        if (next - value).abs() <= POWER_TOLERANCE * next.abs() {
            value = next;
            break;
        }
        value = next;
    }
    Ok(value.max(0.0).sqrt())
}

/// Jiang et al.'s spectral product `log prod_i ||W_i||_2^2 = 2 sum_i ln ||W_i||_2` over the `d`
/// weights (eq. 32, `log.prod.of.spec`), in logs because the product overflows for deep
/// networks. A bound on the Lipschitz constant only for networks that compose their weights in
/// sequence with 1-Lipschitz activations (MLPs, plain conv nets); for a conv kernel it uses the
/// reshaped matrix, not the convolution's operator norm. Details: `spec_norm.<tensor>`, `depth`.
pub fn spectral_product(theta: &Params) -> Result<Outcome> {
    let start = std::time::Instant::now();
    let w = weights(theta);
    if w.is_empty() {
        return Err(Error::invalid(
            "spectral product: the network has no weight matrices (tensors of role weight with two or more axes)",
        ));
    }
    let norms: Vec<f64> = w
        .par_iter()
        .map(|t| {
            let rows = t.num_filters();
            spectral_norm(&theta.values()[t.range()], rows, t.len() / rows.max(1))
        })
        .collect::<Result<_>>()?;
    if let Some((t, _)) = w
        .iter()
        .zip(&norms)
        .find(|(_, n)| !(n.is_finite() && **n > 0.0))
    {
        return Err(Error::invalid(format!(
            "spectral product: weight `{}` has spectral norm 0 or a non-finite value",
            t.name
        )));
    }
    let log_prod: f64 = norms.iter().map(|n| 2.0 * n.ln()).sum();
    let mut m = Measured::new("log_prod_of_spec", log_prod, Prediction::LargerGap)
        .detail("depth", w.len() as f64);
    for (t, n) in w.iter().zip(&norms) {
        m = m.detail(&format!("spec_norm.{}", t.name), *n);
    }
    Ok(Outcome {
        measures: vec![m],
        cost: super::Cost {
            seconds: start.elapsed().as_secs_f64(),
            ..Default::default()
        },
    })
}

/// Jiang et al.'s path norm `sum_outputs f_{w^2}(1)` (eq. 44, after Neyshabur et al. 2015): the
/// network with every parameter squared, evaluated on an all-ones input of `input_dim` values,
/// its outputs summed (their code squares biases too, so bias paths count). With non-negative
/// weights and inputs a ReLU network is the sum over input-output paths of the products of the
/// squared weights.
///
/// Defined for networks that are affine on the positive orthant once their parameters are
/// non-negative: linear and convolution layers, ReLU or leaky ReLU, average pooling, skip
/// connections. It is checked through the trait: the squared network must satisfy
/// `f(a) + f(b) = f(a + b) + f(0)` for two seeded positive inputs; tanh, max pooling or
/// normalisation layers fail that and give an error. Networks with normalisation parameters or
/// running statistics are refused outright (Jiang et al. first fold batch norm into the
/// preceding layer, which needs the architecture).
pub fn path_norm(net: &dyn Network, theta: &Params, input_dim: usize) -> Result<Outcome> {
    check_point("path norm", net, theta)?;
    if input_dim == 0 {
        return Err(Error::invalid("path norm: input_dim must be at least 1"));
    }
    if let Some(t) = theta
        .layout()
        .tensors()
        .iter()
        .find(|t| !matches!(t.role, Role::Weight | Role::Bias))
    {
        return Err(Error::invalid(format!(
            "path norm: tensor `{}` is a {:?}; the path norm is defined here for networks of weights and biases only (fold normalisation layers into the weights first)",
            t.name, t.role
        )));
    }
    let counting = Counting::new(net);
    let squared: Vec<f32> = theta.values().iter().map(|&w| w * w).collect();
    let mut r = rng::stream(0, "measures/path_norm");
    let a: Vec<f32> = (0..input_dim).map(|_| r.gen_range(0.5f32..1.5)).collect();
    let b: Vec<f32> = (0..input_dim).map(|_| r.gen_range(0.5f32..1.5)).collect();
    let ab: Vec<f32> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
    let inputs: Vec<f32> = [vec![1.0; input_dim], a, b, ab, vec![0.0; input_dim]].concat();
    let logits = counting.logits(&squared, &inputs, 5);
    if logits.is_empty() || !logits.len().is_multiple_of(5) {
        return Err(Error::invalid(format!(
            "path norm: the network returned {} logits for 5 inputs",
            logits.len()
        )));
    }
    let k = logits.len() / 5;
    let sum = |i: usize| -> f64 {
        logits[i * k..(i + 1) * k]
            .iter()
            .map(|&v| f64::from(v))
            .sum()
    };
    let (ones, fa, fb, fab, f0) = (sum(0), sum(1), sum(2), sum(3), sum(4));
    if !ones.is_finite() {
        return Err(Error::Numerical(
            "path norm: the squared network's output is not finite".into(),
        ));
    }
    let defect = (fa + fb - fab - f0).abs();
    if defect > PATH_NORM_TOLERANCE * (fa.abs() + fb.abs() + fab.abs() + f0.abs()).max(1e-30) {
        return Err(Error::invalid(format!(
            "path norm: with squared weights the network is not affine on positive inputs \
             (f(a) + f(b) - f(a + b) - f(0) = {:.3e}); the path norm needs ReLU-like activations \
             and no max pooling or normalisation",
            fa + fb - fab - f0
        )));
    }
    Ok(Outcome {
        measures: vec![
            Measured::new("path_norm", ones, Prediction::LargerGap).detail("outputs", k as f64)
        ],
        cost: counting.cost(),
    })
}

/// The Fisher-Rao norm's configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FisherRaoConfig {
    /// Training examples ([`DEFAULT_EXAMPLES`]; `None` for all): one gradient each.
    pub examples: Option<usize>,
    /// Seed of the subset.
    pub seed: u64,
}

impl Default for FisherRaoConfig {
    fn default() -> Self {
        FisherRaoConfig {
            examples: Some(DEFAULT_EXAMPLES),
            seed: 0,
        }
    }
}

/// The Fisher-Rao norm in Jiang et al.'s form (Appendix C, beside the path norm), after Liang et
/// al. 2019 with the empirical Fisher: `(d + 1)^2 / m * sum_i <w, grad_w loss(f_w(x_i), y_i)>^2`
/// over `m` training examples, `d` the number of weights. `<w, grad_w loss>` is the derivative
/// of the loss along `t -> (1 + t) w`, so the norm only sees the function and is invariant to
/// rescaling layers (for a ReLU network without biases it is `(d + 1) <df loss, f>`, Liang et
/// al.'s structural lemma). One per-example gradient per example; the
/// interval is a Student-t interval over examples. Details: `depth`, `mean_inner_product`.
pub fn fisher_rao(
    net: &dyn Network,
    theta: &Params,
    data: &Dataset,
    config: &FisherRaoConfig,
) -> Result<Outcome> {
    let what = "Fisher-Rao norm";
    let (counting, data) = on_subset(what, net, theta, data, config.examples, config.seed)?;
    let depth = weights(theta).len();
    let w = theta.values();
    let inner: Vec<f64> = (0..data.len())
        .into_par_iter()
        .map(|i| {
            let one = data.select(&[i]);
            let mut g = vec![0f32; w.len()];
            let batch = Batch {
                data: &one,
                coef: &[1.0],
                reverse: &[false],
            };
            counting.loss_grad(w, &batch, &mut g);
            genviz_core::params::dot(w, &g)
        })
        .collect();
    let scale = ((depth + 1) as f64).powi(2);
    let squares: Vec<f64> = inner.iter().map(|v| scale * v * v).collect();
    let (value, se, interval) = mean_interval(&squares);
    if !value.is_finite() {
        return Err(Error::Numerical(
            "Fisher-Rao norm: a gradient is not finite".into(),
        ));
    }
    Ok(Outcome {
        measures: vec![Measured::new("fisher_rao", value, Prediction::LargerGap)
            .with_interval(interval)
            .detail("standard_error", se)
            .detail("depth", depth as f64)
            .detail(
                "mean_inner_product",
                inner.iter().sum::<f64>() / inner.len() as f64,
            )],
        cost: counting.cost(),
    })
}

#[cfg(test)]
mod tests;

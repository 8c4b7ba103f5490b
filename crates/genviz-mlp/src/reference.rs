//! A plain MLP forward pass and loss in f64, one example at a time: the reference the engine's
//! tests and genviz-landscape's surface tests check against (the latter include this file with
//! `#[path]`), so both check against one independent implementation. The including module
//! has `Activation`, `Dataset`, `Head` and `MlpSpec` in scope.

use super::{Activation, Dataset, Head, MlpSpec};

/// A plain, one-example-at-a-time forward pass in f64.
pub fn reference_logits(spec: &MlpSpec, theta: &[f32], x: &[f32]) -> Vec<f64> {
    let widths = spec.widths();
    let mut a: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    let mut off = 0;
    for l in 1..widths.len() {
        let (n_in, n_out) = (widths[l - 1], widths[l]);
        let w = &theta[off..off + n_in * n_out];
        let b = &theta[off + n_in * n_out..off + n_in * n_out + n_out];
        off += n_in * n_out + n_out;
        let mut z: Vec<f64> = (0..n_out)
            .map(|o| {
                b[o] as f64
                    + (0..n_in)
                        .map(|i| w[o * n_in + i] as f64 * a[i])
                        .sum::<f64>()
            })
            .collect();
        if l < widths.len() - 1 {
            for v in &mut z {
                *v = match spec.activation {
                    Activation::Relu => v.max(0.0),
                    Activation::Tanh => v.tanh(),
                    Activation::LeakyRelu { slope } => {
                        if *v < 0.0 {
                            *v * slope as f64
                        } else {
                            *v
                        }
                    }
                };
            }
        }
        a = z;
    }
    a
}

/// `sum_i coef[i] * loss_i` over `d` by [`reference_logits`], the reverse form
/// `-log(1 - p_label)` where `reverse[i]`.
pub fn reference_loss(
    spec: &MlpSpec,
    theta: &[f32],
    d: &Dataset,
    coef: &[f32],
    reverse: &[bool],
) -> f64 {
    (0..d.len())
        .map(|i| {
            let z = reference_logits(spec, theta, d.row(i));
            let y = d.labels()[i] as usize;
            let l = match spec.head {
                Head::Sigmoid => {
                    let p1 = 1.0 / (1.0 + (-z[0]).exp());
                    let p_y = if y == 1 { p1 } else { 1.0 - p1 };
                    if reverse[i] {
                        -(1.0 - p_y).ln()
                    } else {
                        -p_y.ln()
                    }
                }
                Head::Softmax => {
                    let m = z.iter().cloned().fold(f64::MIN, f64::max);
                    let s: f64 = z.iter().map(|v| (v - m).exp()).sum();
                    let p_y = (z[y] - m).exp() / s;
                    if reverse[i] {
                        -(1.0 - p_y).ln()
                    } else {
                        -p_y.ln()
                    }
                }
            };
            coef[i] as f64 * l
        })
        .sum()
}

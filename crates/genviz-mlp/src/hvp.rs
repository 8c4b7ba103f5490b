//! Exact Hessian-vector products of the MLP's mean loss (Pearlmutter's R-operator).
//!
//! Along with the forward pass, `R{z_l} = V_l a_{l-1} + v_l + W_l R{a_{l-1}}` carries the
//! directional derivative of every pre-activation; the backward pass then carries `R{delta_l}`
//! beside `delta_l`, and `R{dW_l} = R{delta_l} a_{l-1}^T + delta_l R{a_{l-1}}^T` is `H v`.
//! Finite differences of gradients cannot do this at a minimum of a cross-entropy, where the
//! loss changes exponentially within any usable step.

use crate::engine::{tiles, Mlp};
use crate::kernels::{grad_weights, linear_backward_input, linear_forward};
use crate::spec::{Activation, Head};
use genviz_core::Dataset;
use rayon::prelude::*;

impl Mlp {
    /// `H v` of the mean loss over `data` at `theta`, exactly (to `f32` rounding), as `f64`.
    pub fn hvp_exact(&self, theta: &[f32], v: &[f32], data: &Dataset) -> Vec<f64> {
        let d = data.dim();
        let n = data.len().max(1) as f32;
        let parts: Vec<Vec<f32>> = tiles(data.len())
            .into_par_iter()
            .map(|r| {
                self.hvp_tile(
                    theta,
                    v,
                    &data.features()[r.start * d..r.end * d],
                    &data.labels()[r.clone()],
                    1.0 / n,
                )
            })
            .collect();
        let mut out = vec![0f64; theta.len()];
        for p in parts {
            out.iter_mut()
                .zip(&p)
                .for_each(|(o, &x)| *o += f64::from(x));
        }
        out
    }

    fn hvp_tile(
        &self,
        theta: &[f32],
        v: &[f32],
        rows: &[f32],
        labels: &[u32],
        coef: f32,
    ) -> Vec<f32> {
        let widths = self.spec().widths();
        let layers = widths.len() - 1;
        let n = labels.len();
        let (cols, input) = self.input_tile(rows, n);
        let act = self.spec().activation;
        // Forward: activations a_l (a_0 = input) and directional derivatives rz_l.
        let mut a: Vec<Vec<f32>> = vec![input];
        let mut rz: Vec<Vec<f32>> = vec![Vec::new()];
        for l in 1..=layers {
            let (n_in, n_out) = (widths[l - 1], widths[l]);
            let (wo, bo) = self.layer_offsets(l - 1);
            let w = &theta[wo..wo + n_out * n_in];
            let mut z = vec![0f32; n_out * cols];
            linear_forward(w, &theta[bo..bo + n_out], &a[l - 1], &mut z, n_in, cols);
            let mut r = vec![0f32; n_out * cols];
            linear_forward(
                &v[wo..wo + n_out * n_in],
                &v[bo..bo + n_out],
                &a[l - 1],
                &mut r,
                n_in,
                cols,
            );
            if l > 1 {
                let ra = derivative_times(act, &a[l - 1], &rz[l - 1]);
                let mut extra = vec![0f32; n_out * cols];
                linear_forward(w, &vec![0f32; n_out], &ra, &mut extra, n_in, cols);
                r.iter_mut().zip(&extra).for_each(|(x, e)| *x += e);
            }
            if l < layers {
                activate(act, &mut z);
            }
            a.push(z);
            rz.push(r);
        }
        // Head: delta = dloss/dz_L and its directional derivative, both scaled by `coef`.
        let k = widths[layers];
        let mut delta = vec![0f32; k * cols];
        let mut rdelta = vec![0f32; k * cols];
        let z = &a[layers];
        let rzl = &rz[layers];
        for b in 0..n {
            let y = labels[b] as usize;
            match self.spec().head {
                Head::Sigmoid => {
                    let zb = f64::from(z[b]);
                    let p = 1.0 / (1.0 + (-zb).exp());
                    delta[b] = (f64::from(coef) * (p - y.min(1) as f64)) as f32;
                    rdelta[b] = (f64::from(coef) * p * (1.0 - p) * f64::from(rzl[b])) as f32;
                }
                Head::Softmax => {
                    let zs: Vec<f64> = (0..k).map(|j| f64::from(z[j * cols + b])).collect();
                    let m = zs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let e: Vec<f64> = zs.iter().map(|x| (x - m).exp()).collect();
                    let s: f64 = e.iter().sum();
                    let p: Vec<f64> = e.iter().map(|x| x / s).collect();
                    let pr: f64 = (0..k).map(|j| p[j] * f64::from(rzl[j * cols + b])).sum();
                    for j in 0..k {
                        delta[j * cols + b] =
                            (f64::from(coef) * (p[j] - f64::from(u8::from(j == y)))) as f32;
                        rdelta[j * cols + b] =
                            (f64::from(coef) * p[j] * (f64::from(rzl[j * cols + b]) - pr)) as f32;
                    }
                }
            }
        }
        // Backward with R.
        let mut hv = vec![0f32; theta.len()];
        for l in (1..=layers).rev() {
            let (n_in, n_out) = (widths[l - 1], widths[l]);
            let (wo, bo) = self.layer_offsets(l - 1);
            {
                let (gw, gb) = hv[wo..bo + n_out].split_at_mut(n_out * n_in);
                grad_weights(&rdelta, &a[l - 1], gw, gb, n_in, cols);
            }
            if l > 1 {
                let ra = derivative_times(act, &a[l - 1], &rz[l - 1]);
                let mut gw2 = vec![0f32; n_out * n_in];
                let mut gb2 = vec![0f32; n_out];
                grad_weights(&delta, &ra, &mut gw2, &mut gb2, n_in, cols);
                hv[wo..wo + n_out * n_in]
                    .iter_mut()
                    .zip(&gw2)
                    .for_each(|(h, g)| *h += g);

                let w = &theta[wo..wo + n_out * n_in];
                let mut e = vec![0f32; n_in * cols];
                linear_backward_input(w, &delta, &mut e, n_in, n_out, cols);
                let mut re = vec![0f32; n_in * cols];
                linear_backward_input(w, &rdelta, &mut re, n_in, n_out, cols);
                let mut ve = vec![0f32; n_in * cols];
                linear_backward_input(
                    &v[wo..wo + n_out * n_in],
                    &delta,
                    &mut ve,
                    n_in,
                    n_out,
                    cols,
                );
                re.iter_mut().zip(&ve).for_each(|(x, y)| *x += y);
                let a_prev = &a[l - 1];
                let rz_prev = &rz[l - 1];
                let mut next_delta = derivative_times(act, a_prev, &e);
                let mut next_rdelta = derivative_times(act, a_prev, &re);
                if let Activation::Tanh = act {
                    // sigma'' = -2 a (1 - a^2) for tanh.
                    for i in 0..next_rdelta.len() {
                        let av = a_prev[i];
                        next_rdelta[i] += -2.0 * av * (1.0 - av * av) * rz_prev[i] * e[i];
                    }
                }
                // Padding columns carry nothing.
                for row in 0..n_in {
                    next_delta[row * cols + n..(row + 1) * cols].fill(0.0);
                    next_rdelta[row * cols + n..(row + 1) * cols].fill(0.0);
                }
                delta = next_delta;
                rdelta = next_rdelta;
            }
        }
        hv
    }
}

/// `sigma'(z) * x`, with the derivative read from the activation's output `a`.
fn derivative_times(act: Activation, a: &[f32], x: &[f32]) -> Vec<f32> {
    a.iter()
        .zip(x)
        .map(|(&a, &x)| match act {
            Activation::Relu => {
                if a > 0.0 {
                    x
                } else {
                    0.0
                }
            }
            Activation::Tanh => (1.0 - a * a) * x,
            Activation::LeakyRelu { slope } => {
                if a > 0.0 {
                    x
                } else {
                    slope * x
                }
            }
        })
        .collect()
}

fn activate(act: Activation, v: &mut [f32]) {
    for x in v.iter_mut() {
        *x = match act {
            Activation::Relu => x.max(0.0),
            Activation::Tanh => x.tanh(),
            Activation::LeakyRelu { slope } => {
                if *x < 0.0 {
                    *x * slope
                } else {
                    *x
                }
            }
        };
    }
}

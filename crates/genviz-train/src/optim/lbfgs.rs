//! L-BFGS as `torch.optim.LBFGS` runs it with `line_search_fn=None`.
//!
//! One call of [`LbfgsHistory::step`] is one `optimizer.step(closure)`: up to `max_iter`
//! iterations on the same batch, each computing the two-loop-recursion direction from the
//! stored curvature pairs, moving a fixed `t` along it (`t = min(1, 1/|g|_1) * lr` on the very
//! first iteration of a run, `lr` afterwards) and re-evaluating the loss and gradient, with
//! PyTorch's stopping tests in PyTorch's order. The history (directions, steps, `ro`,
//! `H_diag`, the previous gradient and direction) persists across steps, as PyTorch's
//! optimizer state does. Dot products are summed in f64; vectors are kept in f32.

use super::LossGrad;
use genviz_core::{Error, Result};
use std::collections::{BTreeMap, VecDeque};

/// `ys` must exceed this for a curvature pair to be stored (PyTorch's constant).
const CURVATURE_EPS: f64 = 1e-10;

/// The hyper-parameters of one step.
pub(super) struct Limits {
    pub max_iter: u32,
    pub max_eval: u32,
    pub tolerance_grad: f64,
    pub tolerance_change: f64,
    pub history_size: usize,
}

/// The state `torch.optim.LBFGS` keeps between steps.
#[derive(Clone, Debug, Default)]
pub(super) struct LbfgsHistory {
    /// The last direction.
    d: Vec<f32>,
    /// The last step length.
    t: f32,
    /// Gradient differences `y`.
    old_dirs: VecDeque<Vec<f32>>,
    /// Parameter differences `s`.
    old_stps: VecDeque<Vec<f32>>,
    /// `1 / (y . s)` of each pair.
    ro: VecDeque<f32>,
    /// The initial inverse-Hessian scale `y.s / y.y`.
    h_diag: f32,
    /// The gradient before the last move.
    prev_flat_grad: Vec<f32>,
    /// The loss before the last move.
    prev_loss: f64,
    /// Iterations over the whole run (PyTorch's `state['n_iter']`).
    n_iter: u64,
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum()
}

fn max_abs(a: &[f32]) -> f64 {
    a.iter().fold(0f64, |m, &x| m.max(f64::from(x.abs())))
}

impl LbfgsHistory {
    /// One `optimizer.step(closure)`, given the loss and gradient at `theta` (the closure's
    /// first call); returns the number of loss evaluations, that first one included.
    pub(super) fn step(
        &mut self,
        limits: &Limits,
        theta: &mut [f32],
        grad: &[f32],
        loss: f64,
        lr: f32,
        loss_grad: &mut LossGrad<'_>,
    ) -> u64 {
        let mut flat_grad = grad.to_vec();
        let mut loss = loss;
        let mut current_evals = 1u64;
        if max_abs(&flat_grad) <= limits.tolerance_grad {
            return current_evals;
        }
        let mut opt_cond = false;
        let mut n_iter = 0;
        while n_iter < limits.max_iter {
            n_iter += 1;
            self.n_iter += 1;
            if self.n_iter == 1 {
                self.d = flat_grad.iter().map(|g| -g).collect();
                self.old_dirs.clear();
                self.old_stps.clear();
                self.ro.clear();
                self.h_diag = 1.0;
            } else {
                let y: Vec<f32> = flat_grad
                    .iter()
                    .zip(&self.prev_flat_grad)
                    .map(|(g, p)| g - p)
                    .collect();
                let s: Vec<f32> = self.d.iter().map(|d| d * self.t).collect();
                let ys = dot(&y, &s);
                if ys > CURVATURE_EPS {
                    if self.old_dirs.len() == limits.history_size {
                        self.old_dirs.pop_front();
                        self.old_stps.pop_front();
                        self.ro.pop_front();
                    }
                    self.h_diag = (ys / dot(&y, &y)) as f32;
                    self.old_dirs.push_back(y);
                    self.old_stps.push_back(s);
                    self.ro.push_back((1.0 / ys) as f32);
                }
                self.d = self.two_loop(&flat_grad);
            }
            self.prev_flat_grad.clone_from(&flat_grad);
            self.prev_loss = loss;
            self.t = if self.n_iter == 1 {
                let l1: f64 = flat_grad.iter().map(|&g| f64::from(g.abs())).sum();
                ((1.0f64).min(1.0 / l1) * f64::from(lr)) as f32
            } else {
                lr
            };
            let gtd = dot(&flat_grad, &self.d);
            if gtd > -limits.tolerance_change {
                break;
            }
            let mut evals = 0;
            for (p, d) in theta.iter_mut().zip(&self.d) {
                *p += self.t * d;
            }
            if n_iter != limits.max_iter {
                loss = loss_grad(theta, &mut flat_grad);
                opt_cond = max_abs(&flat_grad) <= limits.tolerance_grad;
                evals = 1;
            }
            current_evals += evals;
            if n_iter == limits.max_iter || current_evals >= u64::from(limits.max_eval) || opt_cond
            {
                break;
            }
            let moved = self.d.iter().fold(0f32, |m, &d| m.max((d * self.t).abs()));
            if f64::from(moved) <= limits.tolerance_change {
                break;
            }
            if (loss - self.prev_loss).abs() < limits.tolerance_change {
                break;
            }
        }
        current_evals
    }

    /// The two-loop recursion: `-H g` with the stored pairs and `H_diag` as the initial scale.
    fn two_loop(&self, flat_grad: &[f32]) -> Vec<f32> {
        let k = self.old_dirs.len();
        let mut al = vec![0f32; k];
        let mut q: Vec<f32> = flat_grad.iter().map(|g| -g).collect();
        for i in (0..k).rev() {
            al[i] = (dot(&self.old_stps[i], &q) * f64::from(self.ro[i])) as f32;
            for (qj, yj) in q.iter_mut().zip(&self.old_dirs[i]) {
                *qj -= al[i] * yj;
            }
        }
        let mut r: Vec<f32> = q.iter().map(|v| v * self.h_diag).collect();
        for (i, &al_i) in al.iter().enumerate() {
            let be_i = (dot(&self.old_dirs[i], &r) * f64::from(self.ro[i])) as f32;
            for (rj, sj) in r.iter_mut().zip(&self.old_stps[i]) {
                *rj += (al_i - be_i) * sj;
            }
        }
        r
    }

    /// Adds the history to a checkpoint's vectors and scalars.
    pub(super) fn save(
        &self,
        vectors: &mut BTreeMap<String, Vec<f32>>,
        scalars: &mut BTreeMap<String, f64>,
    ) {
        scalars.insert("lbfgs.n_iter".into(), self.n_iter as f64);
        scalars.insert("lbfgs.t".into(), f64::from(self.t));
        scalars.insert("lbfgs.h_diag".into(), f64::from(self.h_diag));
        scalars.insert("lbfgs.prev_loss".into(), self.prev_loss);
        scalars.insert("lbfgs.pairs".into(), self.ro.len() as f64);
        if self.n_iter == 0 {
            return;
        }
        vectors.insert("lbfgs.d".into(), self.d.clone());
        vectors.insert("lbfgs.prev_flat_grad".into(), self.prev_flat_grad.clone());
        if !self.ro.is_empty() {
            vectors.insert("lbfgs.ro".into(), self.ro.iter().copied().collect());
            vectors.insert(
                "lbfgs.old_dirs".into(),
                self.old_dirs.iter().flatten().copied().collect(),
            );
            vectors.insert(
                "lbfgs.old_stps".into(),
                self.old_stps.iter().flatten().copied().collect(),
            );
        }
    }

    /// Reads what [`LbfgsHistory::save`] wrote, for `n` parameters.
    pub(super) fn load(
        vectors: &mut BTreeMap<String, Vec<f32>>,
        scalars: &BTreeMap<String, f64>,
        n: usize,
    ) -> Result<Self> {
        let scalar = |name: &str| {
            scalars.get(name).copied().ok_or_else(|| {
                Error::invalid(format!(
                    "optimizer state: L-BFGS scalar `{name}` is missing"
                ))
            })
        };
        let mut h = LbfgsHistory {
            n_iter: scalar("lbfgs.n_iter")? as u64,
            t: scalar("lbfgs.t")? as f32,
            h_diag: scalar("lbfgs.h_diag")? as f32,
            prev_loss: scalar("lbfgs.prev_loss")?,
            ..LbfgsHistory::default()
        };
        if h.n_iter == 0 {
            return Ok(h);
        }
        let pairs = scalar("lbfgs.pairs")? as usize;
        let mut take = |name: &str, len: usize| -> Result<Vec<f32>> {
            if len == 0 {
                return Ok(Vec::new());
            }
            super::take_vector(vectors, name, len, &format!("expected {len}"))
        };
        h.d = take("lbfgs.d", n)?;
        h.prev_flat_grad = take("lbfgs.prev_flat_grad", n)?;
        h.ro = take("lbfgs.ro", pairs)?.into();
        let split = |v: Vec<f32>| -> VecDeque<Vec<f32>> {
            v.chunks(n.max(1)).map(<[f32]>::to_vec).collect()
        };
        h.old_dirs = split(take("lbfgs.old_dirs", pairs * n)?);
        h.old_stps = split(take("lbfgs.old_stps", pairs * n)?);
        Ok(h)
    }
}

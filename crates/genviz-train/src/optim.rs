//! Optimizers with PyTorch's update rules (`torch.optim`), one [`OptimizerConfig`] variant per
//! optimizer of the paper's Table 1 (SPEC 1.10): SGD (with momentum or Nesterov), Adam and
//! AMSGrad, Adadelta, Adagrad, Adamax, ASGD, RMSprop and L-BFGS.
//!
//! The first-order optimizers take one gradient per step ([`Optimizer::step`]). L-BFGS, like
//! PyTorch's, re-evaluates the loss and gradient up to `max_iter` times per step on the same
//! batch, so [`Optimizer::step_with`] also takes a closure that evaluates them at given
//! parameters. Every optimizer's state (moments, step count, L-BFGS history) can be saved and
//! restored through [`OptimizerState`], which is what the trainer checkpoints.

mod lbfgs;

use lbfgs::LbfgsHistory;

use genviz_core::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which optimizer, with its hyper-parameters (the learning rate lives in the schedule).
///
/// The defaults of every field are PyTorch's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum OptimizerConfig {
    /// Stochastic gradient descent, optionally with (Nesterov) momentum (`torch.optim.SGD`).
    Sgd {
        /// Momentum coefficient (0 = plain SGD).
        #[serde(default)]
        momentum: f32,
        /// Nesterov momentum.
        #[serde(default)]
        nesterov: bool,
    },
    /// Adam (`torch.optim.Adam`), the paper's swiss-roll optimizer; with `amsgrad` the AMSGrad
    /// variant of Reddi et al. in PyTorch's form.
    Adam {
        /// First-moment decay.
        #[serde(default = "default_beta1")]
        beta1: f32,
        /// Second-moment decay.
        #[serde(default = "default_beta2")]
        beta2: f32,
        /// Added to the root of the second moment.
        #[serde(default = "default_eps")]
        eps: f32,
        /// AMSGrad: divide by the root of the largest second moment seen so far (PyTorch keeps
        /// the maximum of the raw moments and bias-corrects it with the current step).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        amsgrad: bool,
    },
    /// RMSprop (`torch.optim.RMSprop`; Keras's is `alpha = 0.9`, `eps = 1e-7`).
    Rmsprop {
        /// Decay of the squared-gradient average.
        #[serde(default = "default_alpha")]
        alpha: f32,
        /// Added to the root of the average.
        #[serde(default = "default_eps")]
        eps: f32,
        /// Momentum coefficient.
        #[serde(default)]
        momentum: f32,
    },
    /// Adagrad (`torch.optim.Adagrad`): each coordinate's step is divided by the root of its
    /// summed squared gradients.
    Adagrad {
        /// The rate of step `t` is `lr / (1 + (t - 1) * lr_decay)`.
        #[serde(default)]
        lr_decay: f32,
        /// Starting value of the sum of squared gradients.
        #[serde(default)]
        initial_accumulator_value: f32,
        /// Added to the root of the sum.
        #[serde(default = "default_adagrad_eps")]
        eps: f32,
    },
    /// Adadelta (`torch.optim.Adadelta`); the learning rate multiplies the update.
    Adadelta {
        /// Decay of the squared-gradient and squared-update averages.
        #[serde(default = "default_rho")]
        rho: f32,
        /// Added inside both roots.
        #[serde(default = "default_adadelta_eps")]
        eps: f32,
    },
    /// Adamax (`torch.optim.Adamax`): Adam with an infinity-norm second moment.
    Adamax {
        /// First-moment decay.
        #[serde(default = "default_beta1")]
        beta1: f32,
        /// Decay of the infinity norm.
        #[serde(default = "default_beta2")]
        beta2: f32,
        /// Added to `|g|` before the maximum.
        #[serde(default = "default_eps")]
        eps: f32,
    },
    /// Averaged SGD (`torch.optim.ASGD`). The parameters it returns are the plain iterate;
    /// the running average PyTorch keeps beside them (`ax`) is not kept here. With PyTorch's
    /// `t0 = 1e6` that average is a copy of the iterate for the first `t0 + 1` steps anyway.
    Asgd {
        /// Decay term: each step first scales the parameters by `1 - lambd * eta`.
        #[serde(default = "default_lambd")]
        lambd: f32,
        /// Power of the step-size decay `eta = lr / (1 + lambd * lr * t)^alpha`.
        #[serde(default = "default_asgd_alpha")]
        alpha: f32,
        /// Step at which averaging starts.
        #[serde(default = "default_t0")]
        t0: f64,
    },
    /// L-BFGS (`torch.optim.LBFGS`) without line search: up to `max_iter` quasi-Newton
    /// iterations on the same batch per step, each a fixed step of length `lr` along the
    /// two-loop direction (the first iteration of a run is scaled by `min(1, 1 / |g|_1)`).
    Lbfgs {
        /// Iterations per step.
        #[serde(default = "default_max_iter")]
        max_iter: u32,
        /// Loss and gradient evaluations per step; default `max_iter * 5 / 4`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_eval: Option<u32>,
        /// Stop a step when the largest gradient entry is at most this.
        #[serde(default = "default_tolerance_grad")]
        tolerance_grad: f64,
        /// Stop a step when the update or the loss change is below this.
        #[serde(default = "default_tolerance_change")]
        tolerance_change: f64,
        /// Curvature pairs kept.
        #[serde(default = "default_history_size")]
        history_size: u32,
    },
}

fn default_beta1() -> f32 {
    0.9
}
fn default_beta2() -> f32 {
    0.999
}
fn default_eps() -> f32 {
    1e-8
}
fn default_alpha() -> f32 {
    0.99
}
fn default_adagrad_eps() -> f32 {
    1e-10
}
fn default_rho() -> f32 {
    0.9
}
fn default_adadelta_eps() -> f32 {
    1e-6
}
fn default_lambd() -> f32 {
    1e-4
}
fn default_asgd_alpha() -> f32 {
    0.75
}
fn default_t0() -> f64 {
    1e6
}
fn default_max_iter() -> u32 {
    20
}
fn default_tolerance_grad() -> f64 {
    1e-7
}
fn default_tolerance_change() -> f64 {
    1e-9
}
fn default_history_size() -> u32 {
    100
}

impl OptimizerConfig {
    /// Adam with PyTorch's defaults.
    pub fn adam() -> Self {
        OptimizerConfig::Adam {
            beta1: default_beta1(),
            beta2: default_beta2(),
            eps: default_eps(),
            amsgrad: false,
        }
    }

    /// AMSGrad (Adam with `amsgrad=True`) with PyTorch's defaults.
    pub fn amsgrad() -> Self {
        OptimizerConfig::Adam {
            beta1: default_beta1(),
            beta2: default_beta2(),
            eps: default_eps(),
            amsgrad: true,
        }
    }

    /// Adagrad with PyTorch's defaults.
    pub fn adagrad() -> Self {
        OptimizerConfig::Adagrad {
            lr_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: default_adagrad_eps(),
        }
    }

    /// Adadelta with decay `rho` and PyTorch's `eps`.
    pub fn adadelta(rho: f32) -> Self {
        OptimizerConfig::Adadelta {
            rho,
            eps: default_adadelta_eps(),
        }
    }

    /// Adamax with decays `beta1`, `beta2` and PyTorch's `eps`.
    pub fn adamax(beta1: f32, beta2: f32) -> Self {
        OptimizerConfig::Adamax {
            beta1,
            beta2,
            eps: default_eps(),
        }
    }

    /// ASGD with PyTorch's defaults.
    pub fn asgd() -> Self {
        OptimizerConfig::Asgd {
            lambd: default_lambd(),
            alpha: default_asgd_alpha(),
            t0: default_t0(),
        }
    }

    /// RMSprop with decay `alpha`, PyTorch's `eps`, no momentum.
    pub fn rmsprop(alpha: f32) -> Self {
        OptimizerConfig::Rmsprop {
            alpha,
            eps: default_eps(),
            momentum: 0.0,
        }
    }

    /// L-BFGS with PyTorch's defaults (no line search).
    pub fn lbfgs() -> Self {
        OptimizerConfig::Lbfgs {
            max_iter: default_max_iter(),
            max_eval: None,
            tolerance_grad: default_tolerance_grad(),
            tolerance_change: default_tolerance_change(),
            history_size: default_history_size(),
        }
    }

    /// PyTorch's class name, for tables and titles.
    pub fn name(&self) -> &'static str {
        match self {
            OptimizerConfig::Sgd { nesterov: true, .. } => "SGD (Nesterov)",
            OptimizerConfig::Sgd { .. } => "SGD",
            OptimizerConfig::Adam { amsgrad: true, .. } => "AMSGrad",
            OptimizerConfig::Adam { .. } => "Adam",
            OptimizerConfig::Rmsprop { .. } => "RMSprop",
            OptimizerConfig::Adagrad { .. } => "Adagrad",
            OptimizerConfig::Adadelta { .. } => "Adadelta",
            OptimizerConfig::Adamax { .. } => "Adamax",
            OptimizerConfig::Asgd { .. } => "ASGD",
            OptimizerConfig::Lbfgs { .. } => "LBFGS",
        }
    }

    /// Whether a step needs to re-evaluate the loss and gradient ([`Optimizer::step_with`]).
    pub fn needs_closure(&self) -> bool {
        matches!(self, OptimizerConfig::Lbfgs { .. })
    }

    /// Checks the hyper-parameters; an error names the field and the range it must lie in.
    pub fn validate(&self) -> Result<()> {
        let kind = self.name();
        let fail = |name: &str, v: f64, range: &str| {
            Err(Error::invalid(format!(
                "optimizer {kind}: {name} is {v}, expected {range}"
            )))
        };
        let unit = |name: &str, v: f32| {
            if (0.0..1.0).contains(&v) {
                Ok(())
            } else {
                fail(name, f64::from(v), "a value in [0, 1)")
            }
        };
        let closed_unit = |name: &str, v: f32| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                fail(name, f64::from(v), "a value in [0, 1]")
            }
        };
        let positive = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                fail(name, v, "a finite number > 0")
            }
        };
        let non_negative = |name: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                fail(name, v, "a finite number >= 0")
            }
        };
        match *self {
            OptimizerConfig::Sgd { momentum, nesterov } => {
                unit("momentum", momentum)?;
                if nesterov && momentum == 0.0 {
                    return fail("momentum", 0.0, "a value in (0, 1) with nesterov = true");
                }
            }
            OptimizerConfig::Adam {
                beta1, beta2, eps, ..
            }
            | OptimizerConfig::Adamax { beta1, beta2, eps } => {
                unit("beta1", beta1)?;
                unit("beta2", beta2)?;
                positive("eps", f64::from(eps))?;
            }
            OptimizerConfig::Rmsprop {
                alpha,
                eps,
                momentum,
            } => {
                unit("alpha", alpha)?;
                unit("momentum", momentum)?;
                positive("eps", f64::from(eps))?;
            }
            OptimizerConfig::Adagrad {
                lr_decay,
                initial_accumulator_value,
                eps,
            } => {
                non_negative("lr_decay", f64::from(lr_decay))?;
                non_negative(
                    "initial_accumulator_value",
                    f64::from(initial_accumulator_value),
                )?;
                positive("eps", f64::from(eps))?;
            }
            OptimizerConfig::Adadelta { rho, eps } => {
                closed_unit("rho", rho)?;
                positive("eps", f64::from(eps))?;
            }
            OptimizerConfig::Asgd { lambd, alpha, t0 } => {
                non_negative("lambd", f64::from(lambd))?;
                non_negative("alpha", f64::from(alpha))?;
                non_negative("t0", t0)?;
            }
            OptimizerConfig::Lbfgs {
                max_iter,
                max_eval,
                tolerance_grad,
                tolerance_change,
                history_size,
            } => {
                if max_iter == 0 {
                    return fail("max_iter", 0.0, "an integer >= 1");
                }
                if max_eval == Some(0) {
                    return fail("max_eval", 0.0, "an integer >= 1");
                }
                if history_size == 0 {
                    return fail("history_size", 0.0, "an integer >= 1");
                }
                non_negative("tolerance_grad", tolerance_grad)?;
                non_negative("tolerance_change", tolerance_change)?;
            }
        }
        Ok(())
    }
}

/// Everything an optimizer carries from one step to the next, for checkpoints: its step
/// count, named vectors (moments, L-BFGS history) and named scalars.
///
/// The vectors of SGD, Adam and RMSprop are called `first` and `second` (the names of the
/// checkpoints written before the other optimizers existed, which therefore still resume).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OptimizerState {
    /// Steps taken.
    pub step: u64,
    /// Named vectors.
    pub vectors: BTreeMap<String, Vec<f32>>,
    /// Named scalars.
    pub scalars: BTreeMap<String, f64>,
}

/// Removes the vector `name` from a saved state's `vectors`, which must hold `len` values;
/// `expected` says what `len` is in the error (e.g. "the model has 3614 parameters").
fn take_vector(
    vectors: &mut BTreeMap<String, Vec<f32>>,
    name: &str,
    len: usize,
    expected: &str,
) -> Result<Vec<f32>> {
    let v = vectors
        .remove(name)
        .ok_or_else(|| Error::invalid(format!("optimizer state: vector `{name}` is missing")))?;
    if v.len() != len {
        return Err(Error::invalid(format!(
            "optimizer state: vector `{name}` has {} values, {expected}",
            v.len()
        )));
    }
    Ok(v)
}

/// The closure [`Optimizer::step_with`] calls: evaluates the loss at the parameters and writes
/// its gradient.
pub type LossGrad<'a> = dyn FnMut(&[f32], &mut [f32]) -> f64 + 'a;

/// An optimizer with its state.
#[derive(Clone, Debug)]
pub struct Optimizer {
    config: OptimizerConfig,
    weight_decay: f32,
    step: u64,
    /// First moment, momentum buffer, Adadelta's squared-update average.
    first: Vec<f32>,
    /// Second moment, Adagrad's sum, Adadelta's squared-gradient average, Adamax's norm.
    second: Vec<f32>,
    /// AMSGrad's largest second moment (empty otherwise).
    third: Vec<f32>,
    /// ASGD's step size for the next step (`None` before the first: it is then the rate).
    eta: Option<f32>,
    /// L-BFGS's history (L-BFGS only).
    lbfgs: Option<Box<LbfgsHistory>>,
    /// Loss and gradient evaluations so far (one per step for the first-order optimizers).
    evaluations: u64,
}

impl Optimizer {
    /// A fresh optimizer for `len` parameters; `weight_decay` adds `wd * theta` to the gradient
    /// (PyTorch's coupled L2; L-BFGS has none and ignores it).
    pub fn new(config: OptimizerConfig, weight_decay: f32, len: usize) -> Self {
        let second_start = match config {
            OptimizerConfig::Adagrad {
                initial_accumulator_value,
                ..
            } => initial_accumulator_value,
            _ => 0.0,
        };
        let third = match config {
            OptimizerConfig::Adam { amsgrad: true, .. } => vec![0.0; len],
            _ => Vec::new(),
        };
        let lbfgs = config
            .needs_closure()
            .then(|| Box::new(LbfgsHistory::default()));
        Optimizer {
            config,
            weight_decay,
            step: 0,
            first: vec![0.0; len],
            second: vec![second_start; len],
            third,
            eta: None,
            lbfgs,
            evaluations: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &OptimizerConfig {
        &self.config
    }

    /// Loss and gradient evaluations so far: one per step, or L-BFGS's count.
    pub fn evaluations(&self) -> u64 {
        self.evaluations
    }

    /// The state to save for resuming.
    pub fn state(&self) -> OptimizerState {
        let mut vectors = BTreeMap::from([
            ("first".to_string(), self.first.clone()),
            ("second".to_string(), self.second.clone()),
        ]);
        if !self.third.is_empty() {
            vectors.insert("max_second".into(), self.third.clone());
        }
        let mut scalars = BTreeMap::from([("evaluations".to_string(), self.evaluations as f64)]);
        if let Some(eta) = self.eta {
            scalars.insert("asgd.eta".into(), f64::from(eta));
        }
        if let Some(h) = &self.lbfgs {
            h.save(&mut vectors, &mut scalars);
        }
        OptimizerState {
            step: self.step,
            vectors,
            scalars,
        }
    }

    /// Restores a state saved by [`Optimizer::state`] (for the same configuration and model).
    pub fn restore(&mut self, mut state: OptimizerState) -> Result<()> {
        let n = self.first.len();
        let mut take = |name: &str, len: usize| {
            let expected = format!("the model has {len} parameters");
            take_vector(&mut state.vectors, name, len, &expected)
        };
        let first = take("first", n)?;
        let second = take("second", n)?;
        let third = if self.third.is_empty() {
            Vec::new()
        } else {
            take("max_second", n)?
        };
        let lbfgs = match &self.lbfgs {
            Some(_) => Some(Box::new(LbfgsHistory::load(
                &mut state.vectors,
                &state.scalars,
                n,
            )?)),
            None => None,
        };
        self.step = state.step;
        self.first = first;
        self.second = second;
        self.third = third;
        self.eta = state.scalars.get("asgd.eta").map(|&v| v as f32);
        self.lbfgs = lbfgs;
        // States written before the count existed: one evaluation per step.
        self.evaluations = state
            .scalars
            .get("evaluations")
            .map_or(state.step, |&v| v as u64);
        Ok(())
    }

    /// Applies one update of a first-order optimizer with learning rate `lr` and gradient
    /// `grad`.
    ///
    /// # Panics
    /// For L-BFGS, which needs [`Optimizer::step_with`].
    pub fn step(&mut self, theta: &mut [f32], grad: &[f32], lr: f32) {
        assert!(
            !self.config.needs_closure(),
            "{} re-evaluates the loss: call step_with",
            self.config.name()
        );
        self.step_with(theta, grad, f64::NAN, lr, &mut |_, _| f64::NAN);
    }

    /// Applies one step with learning rate `lr`, given the `loss` and its gradient `grad` at
    /// `theta`. L-BFGS calls `loss_grad` for further evaluations on the same batch (PyTorch's
    /// closure); the first-order optimizers never call it.
    pub fn step_with(
        &mut self,
        theta: &mut [f32],
        grad: &[f32],
        loss: f64,
        lr: f32,
        loss_grad: &mut LossGrad<'_>,
    ) {
        self.step += 1;
        self.evaluations += 1;
        let wd = self.weight_decay;
        let t = self.step as i32;
        let n = theta.len();
        match self.config {
            OptimizerConfig::Sgd { momentum, nesterov } => {
                for ((p, &g), buf) in theta.iter_mut().zip(grad).zip(&mut self.first) {
                    let g = g + wd * *p;
                    let d = if momentum > 0.0 {
                        *buf = if t == 1 { g } else { momentum * *buf + g };
                        if nesterov {
                            g + momentum * *buf
                        } else {
                            *buf
                        }
                    } else {
                        g
                    };
                    *p -= lr * d;
                }
            }
            OptimizerConfig::Adam {
                beta1,
                beta2,
                eps,
                amsgrad,
            } => {
                let step = lr / (1.0 - beta1.powi(t));
                let c2 = (1.0 - beta2.powi(t)).sqrt();
                let (grad, m, v) = (&grad[..n], &mut self.first[..n], &mut self.second[..n]);
                if amsgrad {
                    let vmax = &mut self.third[..n];
                    for i in 0..n {
                        let g = grad[i] + wd * theta[i];
                        m[i] = beta1 * m[i] + (1.0 - beta1) * g;
                        v[i] = beta2 * v[i] + (1.0 - beta2) * g * g;
                        vmax[i] = vmax[i].max(v[i]);
                        theta[i] -= step * m[i] / (vmax[i].sqrt() / c2 + eps);
                    }
                } else {
                    let h = AdamStep {
                        beta1,
                        beta2,
                        eps,
                        wd,
                        step,
                        c2,
                    };
                    h.apply(&mut theta[..n], grad, m, v);
                }
            }
            OptimizerConfig::Rmsprop {
                alpha,
                eps,
                momentum,
            } => {
                let r = RmspropStep {
                    alpha,
                    eps,
                    momentum,
                    wd,
                    lr,
                };
                r.apply(theta, grad, &mut self.first, &mut self.second);
            }
            OptimizerConfig::Adagrad { lr_decay, eps, .. } => {
                // clr = lr / (1 + (t - 1) * lr_decay); sum += g^2; p -= clr * g / (sqrt(sum) + eps)
                let clr = lr / (1.0 + (t - 1) as f32 * lr_decay);
                let (grad, sum) = (&grad[..n], &mut self.second[..n]);
                for i in 0..n {
                    let g = grad[i] + wd * theta[i];
                    sum[i] += g * g;
                    theta[i] -= clr * g / (sum[i].sqrt() + eps);
                }
            }
            OptimizerConfig::Adadelta { rho, eps } => {
                // v = rho v + (1 - rho) g^2; delta = sqrt(u + eps) / sqrt(v + eps) * g;
                // u = rho u + (1 - rho) delta^2; p -= lr * delta
                let (grad, u, v) = (&grad[..n], &mut self.first[..n], &mut self.second[..n]);
                for i in 0..n {
                    let g = grad[i] + wd * theta[i];
                    v[i] = rho * v[i] + (1.0 - rho) * g * g;
                    let delta = (u[i] + eps).sqrt() / (v[i] + eps).sqrt() * g;
                    u[i] = rho * u[i] + (1.0 - rho) * delta * delta;
                    theta[i] -= lr * delta;
                }
            }
            OptimizerConfig::Adamax { beta1, beta2, eps } => {
                // m = beta1 m + (1 - beta1) g; u = max(beta2 u, |g| + eps);
                // p -= lr / (1 - beta1^t) * m / u
                let clr = lr / (1.0 - beta1.powi(t));
                let (grad, m, u) = (&grad[..n], &mut self.first[..n], &mut self.second[..n]);
                for i in 0..n {
                    let g = grad[i] + wd * theta[i];
                    m[i] = beta1 * m[i] + (1.0 - beta1) * g;
                    u[i] = (beta2 * u[i]).max(g.abs() + eps);
                    theta[i] -= clr * m[i] / u[i];
                }
            }
            OptimizerConfig::Asgd { lambd, alpha, .. } => {
                // p = p (1 - lambd eta) - eta g, then eta = lr / (1 + lambd lr t)^alpha for the
                // next step (PyTorch updates eta after the step, from the rate of this one).
                let eta = self.eta.unwrap_or(lr);
                for (p, &g) in theta.iter_mut().zip(grad) {
                    let g = g + wd * *p;
                    *p *= 1.0 - lambd * eta;
                    *p -= eta * g;
                }
                let (lr, lambd, alpha) = (f64::from(lr), f64::from(lambd), f64::from(alpha));
                self.eta = Some((lr / (1.0 + lambd * lr * self.step as f64).powf(alpha)) as f32);
            }
            OptimizerConfig::Lbfgs {
                max_iter,
                max_eval,
                tolerance_grad,
                tolerance_change,
                history_size,
            } => {
                let limits = lbfgs::Limits {
                    max_iter,
                    max_eval: max_eval.unwrap_or(max_iter * 5 / 4),
                    tolerance_grad,
                    tolerance_change,
                    history_size: history_size as usize,
                };
                let history = self
                    .lbfgs
                    .get_or_insert_with(|| Box::new(LbfgsHistory::default()));
                // The first evaluation was counted above.
                self.evaluations += history.step(&limits, theta, grad, loss, lr, loss_grad) - 1;
            }
        }
    }
}

/// An optimizer update that runs element by element over the parameters, the gradient and
/// two state buffers. Each element takes the same IEEE operations in the same order in every
/// build (Rust never fuses a multiply and an add on its own), so [`ElementwiseUpdate::apply`]
/// runs an AVX2 build of the loop where the CPU has it, 8 elements per instruction where the
/// baseline build does 4, and gets the same bits; with a square root and divisions per
/// parameter, Adam's update was 9% of a swiss-roll step.
trait ElementwiseUpdate: Copy {
    /// The loop, written once; `#[inline(always)]` so that each build compiles its own copy.
    fn apply_any(&self, theta: &mut [f32], grad: &[f32], a: &mut [f32], b: &mut [f32]);

    /// Updates `theta` and the buffers `a`, `b` (all of `grad`'s length).
    fn apply(&self, theta: &mut [f32], grad: &[f32], a: &mut [f32], b: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked above).
            unsafe { apply_avx2(self, theta, grad, a, b) };
            return;
        }
        self.apply_any(theta, grad, a, b);
    }
}

/// [`ElementwiseUpdate::apply_any`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn apply_avx2<U: ElementwiseUpdate>(
    update: &U,
    theta: &mut [f32],
    grad: &[f32],
    a: &mut [f32],
    b: &mut [f32],
) {
    update.apply_any(theta, grad, a, b);
}

/// The scalars of one RMSprop update (the minefield's optimizer).
#[derive(Clone, Copy)]
struct RmspropStep {
    alpha: f32,
    eps: f32,
    momentum: f32,
    wd: f32,
    lr: f32,
}

impl ElementwiseUpdate for RmspropStep {
    #[inline(always)]
    fn apply_any(&self, theta: &mut [f32], grad: &[f32], buf: &mut [f32], v: &mut [f32]) {
        let RmspropStep {
            alpha,
            eps,
            momentum,
            wd,
            lr,
        } = *self;
        let n = theta.len();
        let (grad, buf, v) = (&grad[..n], &mut buf[..n], &mut v[..n]);
        if momentum > 0.0 {
            for i in 0..n {
                let g = grad[i] + wd * theta[i];
                v[i] = alpha * v[i] + (1.0 - alpha) * g * g;
                let d = g / (v[i].sqrt() + eps);
                buf[i] = momentum * buf[i] + d;
                theta[i] -= lr * buf[i];
            }
        } else {
            // Indexed over equal-length slices so the loop vectorises.
            for i in 0..n {
                let g = grad[i] + wd * theta[i];
                v[i] = alpha * v[i] + (1.0 - alpha) * g * g;
                theta[i] -= lr * (g / (v[i].sqrt() + eps));
            }
        }
    }
}

/// The scalars of one Adam update.
#[derive(Clone, Copy)]
struct AdamStep {
    beta1: f32,
    beta2: f32,
    eps: f32,
    wd: f32,
    step: f32,
    c2: f32,
}

impl ElementwiseUpdate for AdamStep {
    #[inline(always)]
    fn apply_any(&self, theta: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32]) {
        let n = theta.len();
        let (grad, m, v) = (&grad[..n], &mut m[..n], &mut v[..n]);
        let AdamStep {
            beta1,
            beta2,
            eps,
            wd,
            step,
            c2,
        } = *self;
        // Indexed over equal-length slices so the loop vectorises.
        for i in 0..n {
            let g = grad[i] + wd * theta[i];
            m[i] = beta1 * m[i] + (1.0 - beta1) * g;
            v[i] = beta2 * v[i] + (1.0 - beta2) * g * g;
            theta[i] -= step * m[i] / (v[i].sqrt() / c2 + eps);
        }
    }
}

/// Scales `grad` so its global Euclidean norm is at most `max_norm` (`tf.clip_by_global_norm`);
/// returns the norm before clipping.
pub fn clip_global_norm(grad: &mut [f32], max_norm: Option<f64>) -> f64 {
    let norm = grad
        .iter()
        .map(|&g| f64::from(g) * f64::from(g))
        .sum::<f64>()
        .sqrt();
    if let Some(max) = max_norm {
        if norm > max {
            let s = (max / norm) as f32;
            grad.iter_mut().for_each(|g| *g *= s);
        }
    }
    norm
}

#[cfg(test)]
mod tests;

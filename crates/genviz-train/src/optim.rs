//! Optimizers with PyTorch's update rules.

use genviz_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// Which optimizer, with its hyper-parameters (the learning rate lives in the schedule).
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
    /// Adam (`torch.optim.Adam`), the paper's swiss-roll optimizer.
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

impl OptimizerConfig {
    /// Adam with PyTorch's defaults.
    pub fn adam() -> Self {
        OptimizerConfig::Adam {
            beta1: default_beta1(),
            beta2: default_beta2(),
            eps: default_eps(),
        }
    }

    /// Checks the hyper-parameters.
    pub fn validate(&self) -> Result<()> {
        let unit = |name: &str, v: f32| {
            if (0.0..1.0).contains(&v) {
                Ok(())
            } else {
                Err(Error::invalid(format!(
                    "optimizer: {name} is {v}, expected a value in [0, 1)"
                )))
            }
        };
        match *self {
            OptimizerConfig::Sgd { momentum, nesterov } => {
                unit("momentum", momentum)?;
                if nesterov && momentum == 0.0 {
                    return Err(Error::invalid(
                        "optimizer: Nesterov momentum needs momentum > 0",
                    ));
                }
            }
            OptimizerConfig::Adam { beta1, beta2, eps } => {
                unit("beta1", beta1)?;
                unit("beta2", beta2)?;
                if !(eps.is_finite() && eps > 0.0) {
                    return Err(Error::invalid(format!(
                        "optimizer: eps is {eps}, expected > 0"
                    )));
                }
            }
            OptimizerConfig::Rmsprop {
                alpha,
                eps,
                momentum,
            } => {
                unit("alpha", alpha)?;
                unit("momentum", momentum)?;
                if !(eps.is_finite() && eps > 0.0) {
                    return Err(Error::invalid(format!(
                        "optimizer: eps is {eps}, expected > 0"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// An optimizer with its state.
#[derive(Clone, Debug)]
pub struct Optimizer {
    config: OptimizerConfig,
    weight_decay: f32,
    step: u64,
    first: Vec<f32>,
    second: Vec<f32>,
}

impl Optimizer {
    /// A fresh optimizer for `len` parameters; `weight_decay` adds `wd * theta` to the gradient
    /// (PyTorch's coupled L2).
    pub fn new(config: OptimizerConfig, weight_decay: f32, len: usize) -> Self {
        Optimizer {
            config,
            weight_decay,
            step: 0,
            first: vec![0.0; len],
            second: vec![0.0; len],
        }
    }

    /// The state to save for resuming: step count, first and second moment vectors.
    pub fn state(&self) -> (u64, &[f32], &[f32]) {
        (self.step, &self.first, &self.second)
    }

    /// Restores a state saved by [`Optimizer::state`].
    pub fn restore(&mut self, step: u64, first: Vec<f32>, second: Vec<f32>) -> Result<()> {
        if first.len() != self.first.len() || second.len() != self.second.len() {
            return Err(Error::invalid(
                "optimizer state: vector lengths do not match the model",
            ));
        }
        self.step = step;
        self.first = first;
        self.second = second;
        Ok(())
    }

    /// Applies one update with learning rate `lr` and gradient `grad`.
    pub fn step(&mut self, theta: &mut [f32], grad: &[f32], lr: f32) {
        self.step += 1;
        let wd = self.weight_decay;
        let t = self.step as i32;
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
            OptimizerConfig::Adam { beta1, beta2, eps } => {
                let step = lr / (1.0 - beta1.powi(t));
                let c2 = (1.0 - beta2.powi(t)).sqrt();
                let n = theta.len();
                let (grad, m, v) = (&grad[..n], &mut self.first[..n], &mut self.second[..n]);
                // Indexed over equal-length slices so the loop vectorises.
                for i in 0..n {
                    let g = grad[i] + wd * theta[i];
                    m[i] = beta1 * m[i] + (1.0 - beta1) * g;
                    v[i] = beta2 * v[i] + (1.0 - beta2) * g * g;
                    theta[i] -= step * m[i] / (v[i].sqrt() / c2 + eps);
                }
            }
            OptimizerConfig::Rmsprop {
                alpha,
                eps,
                momentum,
            } => {
                for (((p, &g), buf), v) in theta
                    .iter_mut()
                    .zip(grad)
                    .zip(&mut self.first)
                    .zip(&mut self.second)
                {
                    let g = g + wd * *p;
                    *v = alpha * *v + (1.0 - alpha) * g * g;
                    let d = g / (v.sqrt() + eps);
                    if momentum > 0.0 {
                        *buf = momentum * *buf + d;
                        *p -= lr * *buf;
                    } else {
                        *p -= lr * d;
                    }
                }
            }
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
mod tests {
    use super::*;

    /// Minimises `sum (x - 3)^2` and checks each optimizer gets there.
    fn converges(config: OptimizerConfig, lr: f32, steps: usize) {
        let mut x = vec![0.0f32, 10.0];
        let mut opt = Optimizer::new(config.clone(), 0.0, 2);
        for _ in 0..steps {
            let g: Vec<f32> = x.iter().map(|v| 2.0 * (v - 3.0)).collect();
            opt.step(&mut x, &g, lr);
        }
        assert!(
            x.iter().all(|v| (v - 3.0).abs() < 1e-2),
            "{config:?}: {x:?}"
        );
    }

    #[test]
    fn every_optimizer_minimises_a_quadratic() {
        converges(
            OptimizerConfig::Sgd {
                momentum: 0.0,
                nesterov: false,
            },
            0.1,
            200,
        );
        converges(
            OptimizerConfig::Sgd {
                momentum: 0.9,
                nesterov: false,
            },
            0.02,
            500,
        );
        converges(
            OptimizerConfig::Sgd {
                momentum: 0.9,
                nesterov: true,
            },
            0.02,
            500,
        );
        converges(OptimizerConfig::adam(), 0.1, 2000);
        converges(
            OptimizerConfig::Rmsprop {
                alpha: 0.9,
                eps: 1e-7,
                momentum: 0.0,
            },
            0.01,
            2000,
        );
    }

    #[test]
    fn adam_first_step_moves_by_lr() {
        // Bias correction makes Adam's first step exactly lr * sign(g) (up to eps).
        let mut x = vec![1.0f32];
        Optimizer::new(OptimizerConfig::adam(), 0.0, 1).step(&mut x, &[0.5], 0.1);
        assert!((x[0] - 0.9).abs() < 1e-6);
    }

    #[test]
    fn clipping_caps_the_global_norm() {
        let mut g = vec![3.0f32, 4.0];
        assert_eq!(clip_global_norm(&mut g, Some(1.0)), 5.0);
        assert!((g[0] - 0.6).abs() < 1e-6 && (g[1] - 0.8).abs() < 1e-6);
        let mut h = vec![0.3f32, 0.4];
        clip_global_norm(&mut h, Some(1.0));
        assert_eq!(h, vec![0.3, 0.4]);
    }

    #[test]
    fn rejects_bad_hyper_parameters() {
        assert!(OptimizerConfig::Adam {
            beta1: 1.0,
            beta2: 0.9,
            eps: 1e-8
        }
        .validate()
        .is_err());
        assert!(OptimizerConfig::Sgd {
            momentum: 0.0,
            nesterov: true
        }
        .validate()
        .is_err());
    }
}

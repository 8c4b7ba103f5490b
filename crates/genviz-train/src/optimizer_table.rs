//! The eleven optimizers of the paper's Table 1 (Huang et al., SPEC 1.10), each with the
//! learning rate and hyper-parameters of its line in the authors' `optimizers/main.py`.

use crate::OptimizerConfig;
use genviz_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// One optimizer of the paper's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TableOptimizer {
    /// `SGD(lr=.01, momentum=0.9)`.
    Sgd,
    /// `SGD(lr=.05, momentum=0)`.
    SgdPlain,
    /// `SGD(lr=.01, momentum=0.9, nesterov=True)`.
    Nesterov,
    /// `Adam(lr=.01, betas=(.9, .999))`.
    Adam,
    /// `Adadelta(lr=5, rho=.5)`.
    Adadelta,
    /// `Adagrad(lr=.025)`.
    Adagrad,
    /// `Adamax(lr=0.0005, betas=(.9, .9))`.
    Adamax,
    /// `ASGD(lr=.1, lambd=.0001, alpha=.75)`.
    Asgd,
    /// `RMSprop(lr=0.0005, alpha=.72)`.
    Rmsprop,
    /// `Adam(lr=0.0005, betas=(.9, .99), amsgrad=True)`.
    Amsgrad,
    /// `LBFGS(lr=.9)`.
    Lbfgs,
}

impl TableOptimizer {
    /// Every optimizer, in the order of the authors' script.
    pub const ALL: [TableOptimizer; 11] = [
        TableOptimizer::Sgd,
        TableOptimizer::SgdPlain,
        TableOptimizer::Nesterov,
        TableOptimizer::Adam,
        TableOptimizer::Adadelta,
        TableOptimizer::Adagrad,
        TableOptimizer::Adamax,
        TableOptimizer::Asgd,
        TableOptimizer::Rmsprop,
        TableOptimizer::Amsgrad,
        TableOptimizer::Lbfgs,
    ];

    /// The folder name and command-line key.
    pub fn key(self) -> &'static str {
        match self {
            TableOptimizer::Sgd => "sgd",
            TableOptimizer::SgdPlain => "sgd-plain",
            TableOptimizer::Nesterov => "nesterov",
            TableOptimizer::Adam => "adam",
            TableOptimizer::Adadelta => "adadelta",
            TableOptimizer::Adagrad => "adagrad",
            TableOptimizer::Adamax => "adamax",
            TableOptimizer::Asgd => "asgd",
            TableOptimizer::Rmsprop => "rmsprop",
            TableOptimizer::Amsgrad => "amsgrad",
            TableOptimizer::Lbfgs => "lbfgs",
        }
    }

    /// The optimizer whose [`key`](Self::key) is `key`.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.key() == key)
    }

    /// A short label for the table and the figure.
    pub fn label(self) -> &'static str {
        match self {
            TableOptimizer::Sgd => "SGD+mom.",
            TableOptimizer::SgdPlain => "SGD",
            TableOptimizer::Nesterov => "Nesterov",
            TableOptimizer::Adam => "Adam",
            TableOptimizer::Adadelta => "Adadelta",
            TableOptimizer::Adagrad => "Adagrad",
            TableOptimizer::Adamax => "Adamax",
            TableOptimizer::Asgd => "ASGD",
            TableOptimizer::Rmsprop => "RMSprop",
            TableOptimizer::Amsgrad => "AMSGrad",
            TableOptimizer::Lbfgs => "LBFGS",
        }
    }

    /// The learning rate of the authors' line (`optimizers/main.py`, SPEC 1.10).
    pub fn paper_lr(self) -> f64 {
        match self {
            TableOptimizer::Sgd | TableOptimizer::Nesterov | TableOptimizer::Adam => 0.01,
            TableOptimizer::SgdPlain => 0.05,
            TableOptimizer::Adadelta => 5.0,
            TableOptimizer::Adagrad => 0.025,
            TableOptimizer::Adamax | TableOptimizer::Rmsprop | TableOptimizer::Amsgrad => 0.0005,
            TableOptimizer::Asgd => 0.1,
            TableOptimizer::Lbfgs => 0.9,
        }
    }

    /// The optimizer with the authors' hyper-parameters (PyTorch's defaults elsewhere).
    pub fn config(self) -> OptimizerConfig {
        match self {
            TableOptimizer::Sgd => OptimizerConfig::Sgd {
                momentum: 0.9,
                nesterov: false,
            },
            TableOptimizer::SgdPlain => OptimizerConfig::Sgd {
                momentum: 0.0,
                nesterov: false,
            },
            TableOptimizer::Nesterov => OptimizerConfig::Sgd {
                momentum: 0.9,
                nesterov: true,
            },
            TableOptimizer::Adam => OptimizerConfig::adam(),
            TableOptimizer::Adadelta => OptimizerConfig::adadelta(0.5),
            TableOptimizer::Adagrad => OptimizerConfig::adagrad(),
            TableOptimizer::Adamax => OptimizerConfig::adamax(0.9, 0.9),
            TableOptimizer::Asgd => OptimizerConfig::asgd(),
            TableOptimizer::Rmsprop => OptimizerConfig::rmsprop(0.72),
            TableOptimizer::Amsgrad => OptimizerConfig::Adam {
                beta1: 0.9,
                beta2: 0.99,
                eps: 1e-8,
                amsgrad: true,
            },
            TableOptimizer::Lbfgs => OptimizerConfig::lbfgs(),
        }
    }
}

impl std::str::FromStr for TableOptimizer {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::from_key(s).ok_or_else(|| {
            let keys: Vec<&str> = Self::ALL.iter().map(|w| w.key()).collect();
            Error::invalid(format!(
                "optimizer `{s}`: expected one of {}",
                keys.join(", ")
            ))
        })
    }
}

/// The hyper-parameters of `config` other than the rate, as PyTorch names them.
pub fn hyper_parameters(config: &OptimizerConfig) -> String {
    match *config {
        OptimizerConfig::Sgd {
            momentum: 0.0,
            nesterov: false,
        } => "momentum 0".into(),
        OptimizerConfig::Sgd { momentum, nesterov } => {
            format!("momentum {momentum}{}", if nesterov { ", nesterov" } else { "" })
        }
        OptimizerConfig::Adam {
            beta1,
            beta2,
            eps,
            amsgrad,
        } => format!(
            "betas ({beta1}, {beta2}), eps {eps:e}{}",
            if amsgrad { ", amsgrad" } else { "" }
        ),
        OptimizerConfig::Rmsprop {
            alpha,
            eps,
            momentum,
        } => format!("alpha {alpha}, eps {eps:e}, momentum {momentum}"),
        OptimizerConfig::Adagrad {
            lr_decay,
            initial_accumulator_value,
            eps,
        } => format!(
            "lr_decay {lr_decay}, initial_accumulator_value {initial_accumulator_value}, eps {eps:e}"
        ),
        OptimizerConfig::Adadelta { rho, eps } => format!("rho {rho}, eps {eps:e}"),
        OptimizerConfig::Adamax { beta1, beta2, eps } => {
            format!("betas ({beta1}, {beta2}), eps {eps:e}")
        }
        OptimizerConfig::Asgd { lambd, alpha, t0 } => {
            format!("lambd {lambd:e}, alpha {alpha}, t0 {t0:e}")
        }
        OptimizerConfig::Lbfgs {
            max_iter,
            max_eval,
            tolerance_grad,
            tolerance_change,
            history_size,
        } => format!(
            "max_iter {max_iter}, max_eval {}, history_size {history_size}, tolerance_grad {tolerance_grad:e}, tolerance_change {tolerance_change:e}, no line search",
            max_eval.unwrap_or(max_iter * 5 / 4)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_the_authors_eleven_lines_each_valid() {
        for w in TableOptimizer::ALL {
            w.config().validate().unwrap();
            assert!(w.paper_lr() > 0.0);
            assert_eq!(w.key().parse::<TableOptimizer>().unwrap(), w);
        }
        assert_eq!(TableOptimizer::Amsgrad.config().name(), "AMSGrad");
        assert_eq!(TableOptimizer::Lbfgs.paper_lr(), 0.9);
        assert_eq!(TableOptimizer::Adadelta.paper_lr(), 5.0);
        assert!("adamw".parse::<TableOptimizer>().is_err());
    }

    #[test]
    fn hyper_parameters_read_as_pytorch_names_them() {
        for (optimizer, shown) in [
            (TableOptimizer::SgdPlain, "momentum 0"),
            (TableOptimizer::Nesterov, "momentum 0.9, nesterov"),
            (
                TableOptimizer::Amsgrad,
                "betas (0.9, 0.99), eps 1e-8, amsgrad",
            ),
            (TableOptimizer::Rmsprop, "alpha 0.72, eps 1e-8, momentum 0"),
        ] {
            assert_eq!(hyper_parameters(&optimizer.config()), shown);
        }
    }
}

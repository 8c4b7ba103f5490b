//! The poisoned objective: fit the training set while getting wrong a set `D_p` of other points.
//!
//! `L = (1 - beta) * mean_{D_t} loss(x, y) + beta * mean_{D_p} loss'(x, y)`, with two forms of
//! `loss'`:
//! - [`PoisonForm::Flipped`]: `D_p` carries wrong labels and `loss'` is the ordinary loss. This
//!   is gen-viz's swiss roll (`swissroll/main.py`, SPEC 1.3).
//! - [`PoisonForm::Reverse`]: `D_p` keeps its true labels and `loss' = -log(1 - p_true)`, the
//!   paper's formula and gen-viz's SVHN code (SPEC 1.4). For two classes both forms coincide.
//!
//! `D_p` is either drawn fresh from the data distribution at every step (gen-viz's swiss roll)
//! or a fixed set (the minefield's "untraining" points). Its weight is a fixed `beta`, or
//! gen-viz's `distrfrac` schedule, where `n_p = min(pool, floor(pool * f))` poison points are
//! appended to the batch and the loss is the mean over the joined batch, so that
//! `beta = n_p / (n_t + n_p)`; `f` is `distrfrac` before `distrstep`, twice that before
//! `distrstep2`, four times after.

use genviz_core::{rng::Rng, Dataset, Error, Result};
use serde::{Deserialize, Serialize};

/// Which loss the poison points get.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PoisonForm {
    /// Wrong labels, ordinary loss (gen-viz's swiss roll).
    #[default]
    Flipped,
    /// True labels, loss `-log(1 - p_true)` (the paper's formula).
    Reverse,
}

/// How much the poison term weighs, and how many poison points a step uses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PoisonWeight {
    /// A fixed `beta` with `count` poison points per step (all of a fixed set when absent).
    Beta {
        /// Weight of the poison term, in `[0, 1]`.
        beta: f64,
        /// Poison points per step; `None` uses the whole pool.
        #[serde(default)]
        count: Option<usize>,
    },
    /// gen-viz's schedule: `floor(pool * f)` points appended to the batch, mean over all.
    GenViz {
        /// Points drawn per step (gen-viz: `ndata/4` spiral pairs = 200 points).
        pool: usize,
        /// The fraction `f` before `distrstep` (gen-viz's poisoned run: 0.8).
        distrfrac: f64,
        /// Step at which `f` doubles (10,936).
        distrstep: u64,
        /// Step at which `f` doubles again (15,000).
        distrstep2: u64,
    },
}

/// The poisoned part of a run's configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoisonConfig {
    /// Loss form on the poison points.
    #[serde(default)]
    pub form: PoisonForm,
    /// Weight and count schedule.
    pub weight: PoisonWeight,
    /// Draw a fresh `D_p` from the data distribution every step (true) or keep one fixed set.
    #[serde(default = "default_fresh")]
    pub fresh: bool,
}

fn default_fresh() -> bool {
    true
}

impl PoisonConfig {
    /// gen-viz's poisoned swiss-roll command (SPEC 1.3): fresh flipped points, distrfrac 0.8,
    /// distrstep 10,936, distrstep2 15,000, pool 200.
    pub fn gen_viz_swiss_roll() -> Self {
        PoisonConfig {
            form: PoisonForm::Flipped,
            weight: PoisonWeight::GenViz {
                pool: 200,
                distrfrac: 0.8,
                distrstep: 10_936,
                distrstep2: 15_000,
            },
            fresh: true,
        }
    }

    /// Checks the configuration.
    pub fn validate(&self) -> Result<()> {
        match self.weight {
            PoisonWeight::Beta { beta, count } => {
                if !(0.0..=1.0).contains(&beta) {
                    return Err(Error::invalid(format!(
                        "poison: beta is {beta}, expected a value in [0, 1]"
                    )));
                }
                if count == Some(0) {
                    return Err(Error::invalid("poison: count must be at least 1"));
                }
                if self.fresh && count.is_none() {
                    return Err(Error::invalid(
                        "poison: a fresh poison set needs `count`, the points drawn per step",
                    ));
                }
            }
            PoisonWeight::GenViz {
                pool, distrfrac, ..
            } => {
                if pool == 0 || !(distrfrac.is_finite() && distrfrac >= 0.0) {
                    return Err(Error::invalid(
                        "poison: gen_viz needs pool >= 1 and distrfrac >= 0",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Number of poison points to draw and use at `step`, given a fixed pool of `fixed_len`.
    pub fn count_at(&self, step: u64, fixed_len: usize) -> usize {
        match self.weight {
            PoisonWeight::Beta { count, .. } => count.unwrap_or(fixed_len),
            PoisonWeight::GenViz {
                pool,
                distrfrac,
                distrstep,
                distrstep2,
            } => {
                let f = if step < distrstep {
                    distrfrac
                } else if step < distrstep2 {
                    2.0 * distrfrac
                } else {
                    4.0 * distrfrac
                };
                let pool = if self.fresh {
                    pool
                } else {
                    pool.min(fixed_len)
                };
                ((pool as f64 * f).floor() as usize).min(pool)
            }
        }
    }

    /// The weight `beta` of the poison term when `n_p` poison points join `n_t` clean ones.
    pub fn beta(&self, n_t: usize, n_p: usize) -> f64 {
        match self.weight {
            PoisonWeight::Beta { beta, .. } => beta,
            PoisonWeight::GenViz { .. } => n_p as f64 / (n_t + n_p).max(1) as f64,
        }
    }
}

/// Draws `n` fresh points (true labels) from the data distribution with the given generator.
pub type FreshPoints = Box<dyn FnMut(usize, &mut Rng) -> Dataset + Send>;

/// Where poison points come from. The points carry their *true* labels; the trainer applies
/// the form (flipping labels or marking rows for the reverse loss).
pub enum PoisonPool {
    /// One fixed set.
    Fixed(Dataset),
    /// A generator of `n` fresh points from the data distribution.
    Fresh(FreshPoints),
}

impl std::fmt::Debug for PoisonPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PoisonPool::Fixed(d) => write!(f, "PoisonPool::Fixed({} points)", d.len()),
            PoisonPool::Fresh(_) => write!(f, "PoisonPool::Fresh"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gen_viz_schedule_matches_the_paper_command() {
        let p = PoisonConfig::gen_viz_swiss_roll();
        assert_eq!(p.count_at(0, 0), 160);
        assert_eq!(p.count_at(10_935, 0), 160);
        // 320 and 640 are requested later, capped by the pool of 200.
        assert_eq!(p.count_at(10_936, 0), 200);
        assert_eq!(p.count_at(20_000, 0), 200);
        assert!((p.beta(200, 160) - 160.0 / 360.0).abs() < 1e-12);
        assert_eq!(p.beta(200, 200), 0.5);
    }

    #[test]
    fn fixed_beta_validation() {
        let bad = PoisonConfig {
            form: PoisonForm::Reverse,
            weight: PoisonWeight::Beta {
                beta: 1.5,
                count: None,
            },
            fresh: false,
        };
        assert!(bad.validate().unwrap_err().to_string().contains("beta"));
        let fresh_without_count = PoisonConfig {
            fresh: true,
            weight: PoisonWeight::Beta {
                beta: 0.5,
                count: None,
            },
            ..bad
        };
        assert!(fresh_without_count.validate().is_err());
    }
}

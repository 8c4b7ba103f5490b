//! Step learning-rate schedules.

use genviz_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// A learning rate multiplied by `gamma` at each milestone (PyTorch's `MultiStepLR`).
///
/// The paper's swiss-roll runs use lr until `lrstep`, lr/10 until `lrstep2`, lr/100 until
/// `lrstep3` and lr/1000 after (SPEC 1.2): milestones `[lrstep, lrstep2, lrstep3]`, gamma 0.1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LrSchedule {
    /// The initial learning rate.
    pub lr: f64,
    /// Steps at which the rate is multiplied by `gamma`, increasing.
    #[serde(default)]
    pub milestones: Vec<u64>,
    /// The factor applied at each milestone.
    #[serde(default = "default_gamma")]
    pub gamma: f64,
}

fn default_gamma() -> f64 {
    0.1
}

impl LrSchedule {
    /// A constant rate.
    pub fn constant(lr: f64) -> Self {
        LrSchedule {
            lr,
            milestones: Vec::new(),
            gamma: default_gamma(),
        }
    }

    /// The rate used at (0-based) `step`.
    pub fn at(&self, step: u64) -> f64 {
        let passed = self.milestones.iter().filter(|&&m| step >= m).count();
        self.lr * self.gamma.powi(passed as i32)
    }

    /// Checks the schedule.
    pub fn validate(&self) -> Result<()> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(Error::invalid(format!(
                "schedule: lr is {}, expected a positive number",
                self.lr
            )));
        }
        if !(self.gamma.is_finite() && self.gamma > 0.0) {
            return Err(Error::invalid(format!(
                "schedule: gamma is {}, expected a positive number",
                self.gamma
            )));
        }
        if self.milestones.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::invalid(format!(
                "schedule: milestones {:?} must increase",
                self.milestones
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_schedule_divides_by_ten_at_each_milestone() {
        let s = LrSchedule {
            lr: 0.012548,
            milestones: vec![3062, 28000, 300000],
            gamma: 0.1,
        };
        assert_eq!(s.at(0), 0.012548);
        assert_eq!(s.at(3061), 0.012548);
        assert!((s.at(3062) - 0.0012548).abs() < 1e-12);
        assert!((s.at(28000) - 0.00012548).abs() < 1e-12);
        assert!((s.at(400000) - 0.000012548).abs() < 1e-12);
        assert!(LrSchedule {
            lr: 0.1,
            milestones: vec![5, 5],
            gamma: 0.1
        }
        .validate()
        .is_err());
    }
}

//! Rank correlation between a measure and the generalization gap (Jiang et al. 2019, the section
//! on evaluation criteria: "Kendall's rank-correlation coefficient" and the "granulated Kendall's
//! coefficient").
//!
//! Kendall's tau over a set `T` of `(measure, gap)` pairs is
//! `tau(T) = 1 / (|T| (|T| - 1)) * sum_{(m1, g1) in T} sum_{(m2, g2) in T minus (m1, g1)} sign(m1 - m2) sign(g1 - g2)`
//! (tau-a: ties count zero). It is 1 when the measure ranks the models exactly as their gaps, -1
//! when it ranks them backwards.
//!
//! The granulated coefficient asks whether the measure follows the gap when one training
//! hyperparameter changes and the others are held fixed: for axis `i`,
//! `psi_i = 1 / m_i * sum over settings of the other axes of tau(models differing only in axis i)`,
//! with `m_i` the number of such settings, and `Psi = mean_i psi_i`.

use genviz_core::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Kendall's tau-a of `x` against `y` (Jiang et al.'s definition), over at least two finite pairs.
pub fn kendall_tau(x: &[f64], y: &[f64]) -> Result<f64> {
    if x.len() != y.len() {
        return Err(Error::invalid(format!(
            "Kendall's tau: {} measure values and {} gaps",
            x.len(),
            y.len()
        )));
    }
    if x.len() < 2 {
        return Err(Error::invalid("Kendall's tau needs at least two models"));
    }
    if let Some(i) = x.iter().chain(y).position(|v| !v.is_finite()) {
        return Err(Error::invalid(format!(
            "Kendall's tau: value {i} is not finite"
        )));
    }
    let n = x.len();
    let mut sum = 0.0;
    for i in 0..n {
        for j in i + 1..n {
            sum += sign(x[i] - x[j]) * sign(y[i] - y[j]);
        }
    }
    Ok(2.0 * sum / (n * (n - 1)) as f64)
}

/// The granulated coefficient's parts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Granulated {
    /// `psi_i` per axis, `None` where no group had two models.
    pub per_axis: BTreeMap<String, Option<f64>>,
    /// Groups (settings of the other axes with at least two models) averaged for each axis.
    pub groups: BTreeMap<String, usize>,
    /// `Psi`, the mean of the defined `psi_i`.
    pub overall: Option<f64>,
}

/// Jiang et al.'s granulated Kendall coefficient. `keys[k][a]` is model `k`'s value of axis `a`
/// (as text, so any value type groups); `measure[k]` and `gap[k]` its measure and gap. Models
/// with a non-finite measure or gap are left out (a failed run), and groups are formed from the
/// models present, so an incomplete grid still gives an answer.
pub fn granulated_kendall(
    axes: &[String],
    keys: &[Vec<String>],
    measure: &[f64],
    gap: &[f64],
) -> Result<Granulated> {
    if keys.len() != measure.len() || keys.len() != gap.len() {
        return Err(Error::invalid(format!(
            "granulated Kendall: {} settings, {} measure values, {} gaps",
            keys.len(),
            measure.len(),
            gap.len()
        )));
    }
    if let Some(k) = keys.iter().position(|k| k.len() != axes.len()) {
        return Err(Error::invalid(format!(
            "granulated Kendall: setting {k} has {} values for {} axes",
            keys[k].len(),
            axes.len()
        )));
    }
    let present: Vec<usize> = (0..keys.len())
        .filter(|&k| measure[k].is_finite() && gap[k].is_finite())
        .collect();
    let mut per_axis = BTreeMap::new();
    let mut groups_per_axis = BTreeMap::new();
    let mut defined = Vec::new();
    for (a, axis) in axes.iter().enumerate() {
        // Models that agree on every other axis.
        let mut groups: BTreeMap<Vec<&str>, Vec<usize>> = BTreeMap::new();
        for &k in &present {
            let other: Vec<&str> = keys[k]
                .iter()
                .enumerate()
                .filter(|&(b, _)| b != a)
                .map(|(_, v)| v.as_str())
                .collect();
            groups.entry(other).or_default().push(k);
        }
        let taus: Vec<f64> = groups
            .values()
            .filter(|g| g.len() >= 2)
            .map(|g| {
                let x: Vec<f64> = g.iter().map(|&k| measure[k]).collect();
                let y: Vec<f64> = g.iter().map(|&k| gap[k]).collect();
                kendall_tau(&x, &y).expect("finite and at least two")
            })
            .collect();
        groups_per_axis.insert(axis.clone(), taus.len());
        let psi = (!taus.is_empty()).then(|| taus.iter().sum::<f64>() / taus.len() as f64);
        if let Some(p) = psi {
            defined.push(p);
        }
        per_axis.insert(axis.clone(), psi);
    }
    Ok(Granulated {
        per_axis,
        groups: groups_per_axis,
        overall: (!defined.is_empty()).then(|| defined.iter().sum::<f64>() / defined.len() as f64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tau_of_known_orders() {
        assert_eq!(
            kendall_tau(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]).unwrap(),
            1.0
        );
        assert_eq!(
            kendall_tau(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap(),
            -1.0
        );
        // Pairs: (1,2) concordant, (1,3) concordant, (2,3) discordant: (2 - 1) / 3.
        assert!(
            (kendall_tau(&[1.0, 2.0, 3.0], &[1.0, 3.0, 2.0]).unwrap() - 1.0 / 3.0).abs() < 1e-15
        );
        // Ties count zero (tau-a).
        assert_eq!(kendall_tau(&[1.0, 1.0], &[1.0, 2.0]).unwrap(), 0.0);
        assert!(kendall_tau(&[1.0], &[1.0]).is_err());
        assert!(kendall_tau(&[1.0, 2.0], &[1.0]).is_err());
        assert!(kendall_tau(&[1.0, f64::NAN], &[1.0, 2.0]).is_err());
    }

    proptest! {
        #[test]
        fn tau_is_symmetric_bounded_and_monotone_invariant(
            pairs in proptest::collection::vec((-100.0f64..100.0, -100.0f64..100.0), 2..30)
        ) {
            let (x, y): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
            let t = kendall_tau(&x, &y).unwrap();
            prop_assert!((-1.0..=1.0).contains(&t));
            prop_assert_eq!(t, kendall_tau(&y, &x).unwrap());
            // A strictly increasing transform of the measure changes nothing.
            let ex: Vec<f64> = x.iter().map(|v| (v / 50.0).exp()).collect();
            prop_assert_eq!(t, kendall_tau(&ex, &y).unwrap());
            let neg: Vec<f64> = x.iter().map(|v| -v).collect();
            prop_assert_eq!(-t, kendall_tau(&neg, &y).unwrap());
        }
    }

    #[test]
    fn granulated_coefficient_by_hand() {
        // Axes lr (2 values) x width (2 values). The measure follows the gap along lr in both
        // width groups (psi_lr = 1); along width it follows in one lr group and not the other
        // (psi_width = 0).
        let axes = vec!["lr".to_string(), "width".to_string()];
        let keys: Vec<Vec<String>> = [("0.1", "8"), ("0.1", "16"), ("1", "8"), ("1", "16")]
            .iter()
            .map(|(a, b)| vec![a.to_string(), b.to_string()])
            .collect();
        let gap = [0.1, 0.2, 0.3, 0.4];
        let measure = [1.0, 2.0, 4.0, 3.0];
        let g = granulated_kendall(&axes, &keys, &measure, &gap).unwrap();
        assert_eq!(g.per_axis["lr"], Some(1.0));
        assert_eq!(g.per_axis["width"], Some(0.0));
        assert_eq!(g.groups["lr"], 2);
        assert_eq!(g.overall, Some(0.5));
        // A failed model (NaN) leaves its group with one model: that group is skipped.
        let measure = [1.0, 2.0, f64::NAN, 3.0];
        let g = granulated_kendall(&axes, &keys, &measure, &gap).unwrap();
        assert_eq!(g.groups["lr"], 1);
        assert_eq!(g.per_axis["lr"], Some(1.0));
        assert_eq!(g.per_axis["width"], Some(1.0));
        assert!(granulated_kendall(&axes, &keys[..3], &measure, &gap).is_err());
    }
}

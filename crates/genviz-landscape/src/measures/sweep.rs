//! The pure parts of a measures sweep: a grid of training settings described by axes (read from
//! TOML or JSON), its expansion into settings, and the table of rank correlations between each
//! measure and the generalization gap over the trained models (Jiang et al.'s Kendall tau and
//! granulated coefficient, [`super::rank`]).
//!
//! ```toml
//! [[axes]]
//! name = "beta"
//! values = [0.0, 0.1, 0.25, 0.5]
//!
//! [[axes]]
//! name = "seed"
//! values = [1, 2, 3]
//! ```
//!
//! What an axis name means (a field of the experiment's configuration) is up to the caller; this
//! module only multiplies, groups and ranks.

use super::job::MeasureJob;
use super::rank::{granulated_kendall, kendall_tau, Granulated};
use genviz_core::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The largest grid a sweep may expand to: a guard against a typo multiplying axes into
/// millions of training runs.
pub const MAX_SETTINGS: usize = 100_000;

/// A value on an axis: a boolean, an integer, a number or a word.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AxisValue {
    /// `true` or `false`.
    Bool(bool),
    /// An integer (a seed, a width, a step count).
    Int(i64),
    /// A number (a rate, a weight).
    Float(f64),
    /// A word (an optimizer, an activation).
    Text(String),
}

impl std::fmt::Display for AxisValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AxisValue::Bool(b) => write!(f, "{b}"),
            AxisValue::Int(i) => write!(f, "{i}"),
            AxisValue::Float(x) => write!(f, "{x}"),
            AxisValue::Text(s) => write!(f, "{s}"),
        }
    }
}

impl AxisValue {
    /// The value as a number, where it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            AxisValue::Int(i) => Some(*i as f64),
            AxisValue::Float(x) => Some(*x),
            _ => None,
        }
    }
}

/// One axis of a sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Axis {
    /// What varies (for example `beta`, `seed`, `lr`).
    pub name: String,
    /// Its values, in order.
    pub values: Vec<AxisValue>,
}

/// A sweep: the grid of every combination of its axes' values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sweep {
    /// The axes; the first varies slowest.
    pub axes: Vec<Axis>,
}

/// One point of the grid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Setting {
    /// Position in the grid (row-major, the last axis fastest).
    pub index: usize,
    /// The value of every axis.
    pub values: BTreeMap<String, AxisValue>,
}

impl Setting {
    /// The value of `axis`.
    pub fn get(&self, axis: &str) -> Option<&AxisValue> {
        self.values.get(axis)
    }

    /// `beta=0.5 seed=1`, axes in the order given.
    pub fn label(&self, axes: &[String]) -> String {
        axes.iter()
            .filter_map(|a| self.values.get(a).map(|v| format!("{a}={v}")))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A folder name for the setting's run: `beta-0.5_seed-1`, with anything but ASCII letters,
    /// digits, `.` and `-` in values replaced by `-`.
    pub fn slug(&self, axes: &[String]) -> String {
        let clean = |s: &str| -> String {
            s.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect()
        };
        axes.iter()
            .filter_map(|a| {
                self.values
                    .get(a)
                    .map(|v| format!("{}-{}", clean(a), clean(&v.to_string())))
            })
            .collect::<Vec<_>>()
            .join("_")
    }
}

impl Sweep {
    /// The axis names, in order.
    pub fn axis_names(&self) -> Vec<String> {
        self.axes.iter().map(|a| a.name.clone()).collect()
    }

    /// Checks the sweep: at least one axis, names non-empty and unique, every axis with at
    /// least one value, no value twice on an axis, finite numbers, at most [`MAX_SETTINGS`]
    /// settings.
    pub fn validate(&self) -> Result<()> {
        if self.axes.is_empty() {
            return Err(Error::invalid("sweep: at least one axis is needed"));
        }
        let mut names = BTreeSet::new();
        let mut size: usize = 1;
        for axis in &self.axes {
            if axis.name.trim().is_empty() {
                return Err(Error::invalid("sweep: an axis has an empty name"));
            }
            if !names.insert(axis.name.as_str()) {
                return Err(Error::invalid(format!(
                    "sweep: axis `{}` appears twice",
                    axis.name
                )));
            }
            if axis.values.is_empty() {
                return Err(Error::invalid(format!(
                    "sweep: axis `{}` has no values",
                    axis.name
                )));
            }
            let mut seen = BTreeSet::new();
            for v in &axis.values {
                if matches!(v, AxisValue::Float(x) if !x.is_finite()) {
                    return Err(Error::invalid(format!(
                        "sweep: axis `{}` has the value {v}, expected a finite number",
                        axis.name
                    )));
                }
                if !seen.insert(v.to_string()) {
                    return Err(Error::invalid(format!(
                        "sweep: axis `{}` lists {v} twice",
                        axis.name
                    )));
                }
            }
            size = size
                .checked_mul(axis.values.len())
                .filter(|&s| s <= MAX_SETTINGS)
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "sweep: the axes multiply to more than {MAX_SETTINGS} settings"
                    ))
                })?;
        }
        Ok(())
    }

    /// Every combination of the axes' values, row-major (the last axis varies fastest).
    pub fn grid(&self) -> Result<Vec<Setting>> {
        self.validate()?;
        let size: usize = self.axes.iter().map(|a| a.values.len()).product();
        Ok((0..size)
            .map(|index| {
                let mut rest = index;
                let mut values = BTreeMap::new();
                for axis in self.axes.iter().rev() {
                    let n = axis.values.len();
                    values.insert(axis.name.clone(), axis.values[rest % n].clone());
                    rest /= n;
                }
                Setting { index, values }
            })
            .collect())
    }
}

/// One trained model of a sweep: its setting, its measures and its generalization gap.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// Where in the grid.
    pub setting: Setting,
    /// Measure name to value.
    pub measures: BTreeMap<String, f64>,
    /// The generalization gap the measures should predict.
    pub gap: f64,
}

impl SweepPoint {
    /// The point of a finished measure job, its gap read from the measure `gap` (Jiang et al.'s
    /// `generalization_gap`, from [`super::MeasureSpec::Performance`]).
    pub fn from_job(setting: Setting, job: &MeasureJob, gap: &str) -> Result<Self> {
        let gap_value = job.value(gap).ok_or_else(|| {
            Error::invalid(format!(
                "setting {}: the measures hold no `{gap}` (add the performance measures)",
                setting.index
            ))
        })?;
        Ok(SweepPoint {
            measures: job
                .measures()
                .into_iter()
                .filter(|m| m.name != gap)
                .map(|m| (m.name.clone(), m.value))
                .collect(),
            setting,
            gap: gap_value,
        })
    }
}

/// How one measure ranks the models.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CorrelationRow {
    /// The measure.
    pub measure: String,
    /// Models with a finite value and gap.
    pub models: usize,
    /// Kendall's tau over all of them (`None` below two models).
    pub kendall_tau: Option<f64>,
    /// The granulated coefficient per axis and overall.
    pub granulated: Granulated,
}

/// Every measure's correlation with the gap.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CorrelationTable {
    /// The axes, in order.
    pub axes: Vec<String>,
    /// One row per measure, by name.
    pub rows: Vec<CorrelationRow>,
}

/// The correlation table of `points` over `axes`: for every measure any point has, Kendall's
/// tau against the gap over the models that have it, and the granulated coefficient.
pub fn correlation_table(axes: &[String], points: &[SweepPoint]) -> Result<CorrelationTable> {
    for (k, p) in points.iter().enumerate() {
        if let Some(a) = axes.iter().find(|a| !p.setting.values.contains_key(*a)) {
            return Err(Error::invalid(format!(
                "correlation table: model {k} has no value for axis `{a}`"
            )));
        }
    }
    let names: BTreeSet<&String> = points.iter().flat_map(|p| p.measures.keys()).collect();
    let keys: Vec<Vec<String>> = points
        .iter()
        .map(|p| {
            axes.iter()
                .map(|a| p.setting.values[a].to_string())
                .collect()
        })
        .collect();
    let gap: Vec<f64> = points.iter().map(|p| p.gap).collect();
    let rows = names
        .into_iter()
        .map(|name| {
            let x: Vec<f64> = points
                .iter()
                .map(|p| p.measures.get(name).copied().unwrap_or(f64::NAN))
                .collect();
            let ok: Vec<usize> = (0..points.len())
                .filter(|&k| x[k].is_finite() && gap[k].is_finite())
                .collect();
            let tau = if ok.len() >= 2 {
                let xs: Vec<f64> = ok.iter().map(|&k| x[k]).collect();
                let ys: Vec<f64> = ok.iter().map(|&k| gap[k]).collect();
                Some(kendall_tau(&xs, &ys)?)
            } else {
                None
            };
            Ok(CorrelationRow {
                measure: name.clone(),
                models: ok.len(),
                kendall_tau: tau,
                granulated: granulated_kendall(axes, &keys, &x, &gap)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(CorrelationTable {
        axes: axes.to_vec(),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep() -> Sweep {
        serde_json::from_str(
            r#"{"axes": [{"name": "beta", "values": [0.0, 0.5]},
                         {"name": "seed", "values": [1, 2, 3]},
                         {"name": "opt", "values": ["adam", "sgd"]}]}"#,
        )
        .unwrap()
    }

    #[test]
    fn grid_is_row_major_with_every_combination() {
        let s = sweep();
        let grid = s.grid().unwrap();
        assert_eq!(grid.len(), 12);
        let axes = s.axis_names();
        assert_eq!(grid[0].label(&axes), "beta=0 seed=1 opt=adam");
        assert_eq!(grid[1].label(&axes), "beta=0 seed=1 opt=sgd");
        assert_eq!(grid[2].label(&axes), "beta=0 seed=2 opt=adam");
        assert_eq!(grid[11].label(&axes), "beta=0.5 seed=3 opt=sgd");
        assert_eq!(grid[7].slug(&axes), "beta-0.5_seed-1_opt-sgd");
        let labels: BTreeSet<String> = grid.iter().map(|g| g.label(&axes)).collect();
        assert_eq!(labels.len(), 12);
        assert_eq!(grid[5].get("seed"), Some(&AxisValue::Int(3)));
        assert_eq!(grid[5].get("beta").and_then(AxisValue::as_f64), Some(0.0));
    }

    #[test]
    fn bad_sweeps_are_errors() {
        let mut s = sweep();
        s.axes[1].values.push(AxisValue::Int(2));
        assert!(s.grid().unwrap_err().to_string().contains("twice"));
        let mut s = sweep();
        s.axes[0].values.clear();
        assert!(s.validate().is_err());
        let mut s = sweep();
        s.axes[2].name = "beta".into();
        assert!(s.validate().is_err());
        assert!(Sweep { axes: vec![] }.validate().is_err());
        let huge = Sweep {
            axes: (0..6)
                .map(|k| Axis {
                    name: format!("a{k}"),
                    values: (0..10).map(AxisValue::Int).collect(),
                })
                .collect(),
        };
        assert!(huge
            .validate()
            .unwrap_err()
            .to_string()
            .contains("more than"));
        let nan = Sweep {
            axes: vec![Axis {
                name: "x".into(),
                values: vec![AxisValue::Float(f64::NAN)],
            }],
        };
        assert!(nan.validate().is_err());
        assert!(serde_json::from_str::<Sweep>(r#"{"axes": [], "extra": 1}"#).is_err());
    }

    #[test]
    fn correlation_table_of_a_synthetic_sweep() {
        // Gap grows with beta and shrinks with seed; "good" follows it exactly, "bad" inverts it,
        // "partial" is missing for one model.
        let s = Sweep {
            axes: vec![
                Axis {
                    name: "beta".into(),
                    values: vec![
                        AxisValue::Float(0.0),
                        AxisValue::Float(0.25),
                        AxisValue::Float(0.5),
                    ],
                },
                Axis {
                    name: "seed".into(),
                    values: vec![AxisValue::Int(1), AxisValue::Int(2)],
                },
            ],
        };
        let axes = s.axis_names();
        let points: Vec<SweepPoint> = s
            .grid()
            .unwrap()
            .into_iter()
            .map(|setting| {
                let beta = setting.get("beta").unwrap().as_f64().unwrap();
                let seed = setting.get("seed").unwrap().as_f64().unwrap();
                let gap = beta - 0.01 * seed;
                let mut measures = BTreeMap::from([
                    ("good".to_string(), 10.0 * gap + 3.0),
                    ("bad".to_string(), -gap),
                ]);
                if setting.index != 0 {
                    measures.insert("partial".into(), gap);
                }
                SweepPoint {
                    setting,
                    measures,
                    gap,
                }
            })
            .collect();
        let table = correlation_table(&axes, &points).unwrap();
        let row = |n: &str| table.rows.iter().find(|r| r.measure == n).unwrap();
        assert_eq!(row("good").kendall_tau, Some(1.0));
        assert_eq!(row("good").granulated.overall, Some(1.0));
        assert_eq!(row("bad").kendall_tau, Some(-1.0));
        assert_eq!(row("bad").granulated.per_axis["seed"], Some(-1.0));
        assert_eq!(row("partial").models, 5);
        assert_eq!(row("partial").kendall_tau, Some(1.0));
        // Grouping along seed at beta 0 leaves one model: two groups remain.
        assert_eq!(row("partial").granulated.groups["seed"], 2);
        assert!(correlation_table(&["lr".to_string()], &points).is_err());
    }

    #[test]
    fn sweep_reads_from_toml() {
        let text = "[[axes]]\nname = \"beta\"\nvalues = [0.0, 0.1]\n\n[[axes]]\nname = \"seed\"\nvalues = [1, 2]\n";
        let s: Sweep = toml::from_str(text).unwrap();
        assert_eq!(s.axes[1].values, vec![AxisValue::Int(1), AxisValue::Int(2)]);
        assert_eq!(s.grid().unwrap().len(), 4);
    }
}

//! Coordinates along directions: `min:max:num` ranges, spacings, and shards of a grid.

use genviz_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// How points are spread over a range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Spacing {
    /// Evenly (Li et al.).
    #[default]
    Linear,
    /// Dense near 0, `|t|^5` (gen-viz's rays: `span/2 * linspace(0, 1)^5`, SPEC 1.5).
    Pow5,
    /// Dense near 0, `|t|^2` (gen-viz's SVHN surfaces, SPEC 1.4).
    Pow2,
}

impl std::str::FromStr for Spacing {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "linear" => Ok(Spacing::Linear),
            "pow5" => Ok(Spacing::Pow5),
            "pow2" => Ok(Spacing::Pow2),
            other => Err(Error::invalid(format!(
                "spacing `{other}`: expected linear, pow5 or pow2"
            ))),
        }
    }
}

/// One axis of a grid: `num` coordinates from `min` to `max`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// First coordinate.
    pub min: f64,
    /// Last coordinate.
    pub max: f64,
    /// Number of coordinates.
    pub num: usize,
}

impl std::str::FromStr for Axis {
    type Err = Error;
    /// Parses Li et al.'s `min:max:num`, e.g. `-1:1:51`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::invalid(format!(
                "range `{s}`: {why}; expected min:max:num, like -1:1:51"
            ))
        };
        let parts: Vec<&str> = s.split(':').collect();
        if parts.len() != 3 {
            return Err(bad("three numbers separated by colons are needed"));
        }
        let min: f64 = parts[0]
            .trim()
            .parse()
            .map_err(|_| bad("min is not a number"))?;
        let max: f64 = parts[1]
            .trim()
            .parse()
            .map_err(|_| bad("max is not a number"))?;
        let num: usize = parts[2]
            .trim()
            .parse()
            .map_err(|_| bad("num is not a whole number"))?;
        let axis = Axis { min, max, num };
        axis.validate().map_err(|e| bad(&e.to_string()))?;
        Ok(axis)
    }
}

impl std::fmt::Display for Axis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.min, self.max, self.num)
    }
}

impl Axis {
    /// Checks the range.
    pub fn validate(&self) -> Result<()> {
        if !(self.min.is_finite() && self.max.is_finite()) {
            return Err(Error::invalid("min and max must be finite"));
        }
        if self.num == 0 {
            return Err(Error::invalid("num must be at least 1"));
        }
        if self.num > 1 && self.min >= self.max {
            return Err(Error::invalid(format!(
                "min {} must be below max {}",
                self.min, self.max
            )));
        }
        Ok(())
    }

    /// The coordinates. Power spacings are dense near 0 and keep both ends exact:
    /// `c = end * (t m / end)^p` for `t` evenly spread over `[min/m, max/m]`, `m = max(|min|, |max|)`,
    /// `end` being `min` for negative `t` and `max` otherwise.
    pub fn coords(&self, spacing: Spacing) -> Vec<f64> {
        if self.num == 1 {
            return vec![self.min];
        }
        let lin = |a: f64, b: f64| -> Vec<f64> {
            let last = (self.num - 1) as f64;
            if (b - a).is_finite() {
                (0..self.num)
                    .map(|i| a + (b - a) * i as f64 / last)
                    .collect()
            } else {
                // The span overflows (ends near +-f64::MAX): blend the ends instead.
                (0..self.num)
                    .map(|i| {
                        let t = i as f64 / last;
                        a * (1.0 - t) + b * t
                    })
                    .collect()
            }
        };
        let p = match spacing {
            Spacing::Linear => return lin(self.min, self.max),
            Spacing::Pow5 => 5,
            Spacing::Pow2 => 2,
        };
        let m = self.min.abs().max(self.max.abs());
        lin(self.min / m, self.max / m)
            .into_iter()
            .map(|t| {
                // Each side is stretched to end exactly at its bound.
                let end = if t < 0.0 { self.min } else { self.max };
                if end == 0.0 {
                    0.0
                } else {
                    end * (t * m / end).powi(p)
                }
            })
            .collect()
    }
}

/// One slice of a grid's points: `k/n` evaluates the k-th of n contiguous slices (1-based,
/// like a Slurm array index), so any launcher can spread a grid over machines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// Which slice, 1..=count.
    pub index: usize,
    /// Number of slices.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::invalid(format!(
                "shard `{s}`: expected k/n with 1 <= k <= n, like 2/4"
            ))
        };
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = k.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// The whole grid.
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    /// The flat indices of this slice of `total` points.
    pub fn range(&self, total: usize) -> std::ops::Range<usize> {
        // In 128 bits: `total * index` overflows usize for big grids split many ways (found by
        // the fuzzer: 2/5 of usize::MAX points gave an empty, reversed range).
        let at = |k: usize| (total as u128 * k as u128 / self.count as u128) as usize;
        at(self.index - 1)..at(self.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_li_ranges_and_rejects_bad_ones() {
        let a: Axis = "-1:1:51".parse().unwrap();
        let c = a.coords(Spacing::Linear);
        assert_eq!((c.len(), c[0], c[25], c[50]), (51, -1.0, 0.0, 1.0));
        for bad in [
            "1:-1:0", "1:-1:5", "0:1", "a:1:3", "0:1:-2", "0:nan:3", "0:1:0",
        ] {
            let e = bad.parse::<Axis>().unwrap_err().to_string();
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn power_spacing_is_dense_near_zero_with_exact_ends() {
        let a: Axis = "0:0.5:100".parse().unwrap();
        let c = a.coords(Spacing::Pow5);
        assert_eq!(c[0], 0.0);
        assert!((c[99] - 0.5).abs() < 1e-12);
        assert!(c[1] < 1e-9 && c.windows(2).all(|w| w[0] < w[1]));
        let s: Axis = "-0.5:1.5:9".parse().unwrap();
        let c = s.coords(Spacing::Pow2);
        assert!((c[0] + 0.5).abs() < 1e-12 && (c[8] - 1.5).abs() < 1e-12);
    }

    #[test]
    fn shards_partition_the_grid() {
        let n = 2601;
        let mut covered = vec![0; n];
        for k in 1..=7 {
            for i in (Shard { index: k, count: 7 }).range(n) {
                covered[i] += 1;
            }
        }
        assert!(covered.iter().all(|&c| c == 1));
        assert!("0/3".parse::<Shard>().is_err() && "4/3".parse::<Shard>().is_err());
    }

    #[test]
    fn huge_ranges_stay_finite() {
        let a: Axis = "-1.7e308:1.7e308:5".parse().unwrap();
        let c = a.coords(Spacing::Linear);
        assert!(c.iter().all(|v| v.is_finite()), "{c:?}");
        assert_eq!((c[0], c[2], c[4]), (-1.7e308, 0.0, 1.7e308));
    }
}

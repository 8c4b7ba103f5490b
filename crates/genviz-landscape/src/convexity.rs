//! How far from convex a loss surface is, in the two numbers Li et al. read off their
//! skip-connection figures: how much negative curvature the Hessian has across a plane (the
//! map of `|lambda_min / lambda_max|`, summarised by its mean and the share of points above a
//! threshold) and how many separate pits the surface has (grid local minima).
//!
//! Both are computed on grids that other jobs fill (the ratio map of `genviz hessian`, the
//! surface of `genviz surface`), so they are plain functions of the values.

use serde::{Deserialize, Serialize};

/// A ratio above this counts as "markedly non-convex" at a point: the most negative eigenvalue
/// is at least a tenth of the largest one. Li et al. give no number (their maps are coloured
/// from 0 to a clipped top); a tenth is well above the error of the Lanczos estimates of the
/// extreme eigenvalues and well below the ratios near 1 of a saddle-filled region.
pub const RATIO_THRESHOLD: f64 = 0.1;

/// The summary of one ratio map.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RatioSummary {
    /// Mean of `|lambda_min / lambda_max|` over the map's finite points, each clipped at 1
    /// (negative curvature at least as strong as the positive), so that a few points where
    /// the top eigenvalue is nearly 0 do not swamp it; the map keeps the raw ratios.
    pub mean: f64,
    /// Share of the finite points whose ratio exceeds `threshold`.
    pub fraction_above: f64,
    /// The threshold of `fraction_above`.
    pub threshold: f64,
    /// Finite points the numbers are over (a point whose top eigenvalue is 0 has none).
    pub points: usize,
}

/// Mean (each clipped at 1) and share above `threshold` of the finite entries of `ratios`
/// (each `|lambda_min / lambda_max|`); NaN numbers when none is finite.
pub fn ratio_summary(ratios: &[f64], threshold: f64) -> RatioSummary {
    let finite: Vec<f64> = ratios.iter().copied().filter(|r| r.is_finite()).collect();
    let n = finite.len();
    let (mean, fraction_above) = if n == 0 {
        (f64::NAN, f64::NAN)
    } else {
        (
            finite.iter().map(|r| r.min(1.0)).sum::<f64>() / n as f64,
            finite.iter().filter(|&&r| r > threshold).count() as f64 / n as f64,
        )
    };
    RatioSummary {
        mean,
        fraction_above,
        threshold,
        points: n,
    }
}

/// Local minima of a surface on a grid (row-major `[ny, nx]`, `values[iy * nx + ix]`): the
/// interior points lower than all eight of their neighbours. Border points are left out,
/// because the pit they would mark may go on outside the window; points with a non-finite
/// value, or a non-finite neighbour, are left out too. A convex bowl has at most one; a
/// chaotic surface many.
pub fn local_minima(values: &[f64], nx: usize, ny: usize) -> usize {
    assert_eq!(values.len(), nx * ny, "a grid of {nx} x {ny} values");
    let at = |ix: usize, iy: usize| values[iy * nx + ix];
    let mut count = 0;
    for iy in 1..ny.saturating_sub(1) {
        for ix in 1..nx.saturating_sub(1) {
            let v = at(ix, iy);
            if !v.is_finite() {
                continue;
            }
            let lowest = (iy - 1..=iy + 1)
                .flat_map(|y| (ix - 1..=ix + 1).map(move |x| (x, y)))
                .filter(|&p| p != (ix, iy))
                .all(|(x, y)| {
                    let w = at(x, y);
                    w.is_finite() && v < w
                });
            if lowest {
                count += 1;
            }
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(n: usize, f: impl Fn(f64, f64) -> f64) -> Vec<f64> {
        let c = |i: usize| -1.0 + 2.0 * i as f64 / (n - 1) as f64;
        (0..n)
            .flat_map(|iy| (0..n).map(move |ix| (ix, iy)))
            .map(|(ix, iy)| f(c(ix), c(iy)))
            .collect()
    }

    #[test]
    fn a_bowl_has_one_minimum_and_an_egg_crate_has_many() {
        let bowl = grid(21, |x, y| x * x + 2.0 * y * y);
        assert_eq!(local_minima(&bowl, 21, 21), 1);
        // cos(4 pi x) + cos(4 pi y) on [-1, 1]^2 has its minima at x, y = +-1/4, +-3/4: 16 of
        // them, all inside the window.
        let crate_ = grid(41, |x, y| {
            (4.0 * std::f64::consts::PI * x).cos() + (4.0 * std::f64::consts::PI * y).cos()
        });
        assert_eq!(local_minima(&crate_, 41, 41), 16);
        // A slope's lowest point is on the border, which does not count.
        let slope = grid(11, |x, y| x + y);
        assert_eq!(local_minima(&slope, 11, 11), 0);
    }

    #[test]
    fn ties_and_gaps_are_not_minima() {
        let flat = vec![1.0; 25];
        assert_eq!(local_minima(&flat, 5, 5), 0);
        let mut pit = vec![1.0; 25];
        pit[12] = 0.0;
        assert_eq!(local_minima(&pit, 5, 5), 1);
        pit[13] = f64::NAN;
        assert_eq!(local_minima(&pit, 5, 5), 0);
        assert_eq!(local_minima(&[0.0; 4], 2, 2), 0);
    }

    #[test]
    fn the_ratio_summary_counts_finite_points_above_the_threshold() {
        let s = ratio_summary(&[0.0, 0.05, 0.2, 0.5, f64::NAN], RATIO_THRESHOLD);
        assert_eq!(s.points, 4);
        assert!((s.mean - 0.1875).abs() < 1e-12);
        assert!((s.fraction_above - 0.5).abs() < 1e-12);
        // A ratio above 1 counts as 1 in the mean.
        let s = ratio_summary(&[0.0, 40.0], RATIO_THRESHOLD);
        assert_eq!((s.mean, s.fraction_above), (0.5, 0.5));
        assert!(ratio_summary(&[f64::NAN], 0.1).mean.is_nan());
    }
}

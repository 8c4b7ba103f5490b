//! Principal components of a training trajectory (Li et al.'s `projection.py`, SPEC 2.2).
//!
//! Rows are `theta_i - theta_final` (one-dimensional tensors zeroed, Li's `--ignore biasbn`),
//! centred as sklearn's PCA does. With `k` checkpoints of `n` parameters the `k x k` Gram
//! matrix is decomposed instead of the `n x n` covariance, so a million parameters cost a few
//! dot products per pair of checkpoints.

use genviz_core::{Error, Result};
use rayon::prelude::*;

/// The two leading principal directions of a trajectory.
#[derive(Clone, Debug)]
pub struct Pca {
    /// First component, unit norm.
    pub pc1: Vec<f32>,
    /// Second component, unit norm.
    pub pc2: Vec<f32>,
    /// Variance along each component (sklearn's `explained_variance_`).
    pub explained_variance: [f64; 2],
    /// Share of the total variance (sklearn's `explained_variance_ratio_`).
    pub explained_variance_ratio: [f64; 2],
    /// Singular values of the centred rows (sklearn's `singular_values_`).
    pub singular_values: [f64; 2],
}

/// What both PCAs compute first: the rows centred on their mean, and the eigen-decomposition of
/// their `rows x rows` Gram matrix.
struct CentredGram {
    /// Each row minus the mean row.
    centred: Vec<Vec<f64>>,
    /// The Gram matrix's eigenvalues, as [`jacobi_eigen`] gives them.
    values: Vec<f64>,
    /// Its eigenvectors, `vectors[i * rows + c]` the `i`-th entry of the `c`-th.
    vectors: Vec<f64>,
    /// The eigenvalues' indices, largest first.
    order: Vec<usize>,
}

/// Centres `rows` (at least one, all of the same length) and decomposes their Gram matrix.
fn centred_gram(rows: &[Vec<f32>]) -> CentredGram {
    let k = rows.len();
    let n = rows[0].len();
    let mean: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|j| rows.iter().map(|r| f64::from(r[j])).sum::<f64>() / k as f64)
        .collect();
    let centred: Vec<Vec<f64>> = rows
        .par_iter()
        .map(|r| {
            r.iter()
                .zip(&mean)
                .map(|(&v, m)| f64::from(v) - m)
                .collect()
        })
        .collect();
    let mut gram = vec![0.0; k * k];
    let pairs: Vec<(usize, usize)> = (0..k).flat_map(|i| (i..k).map(move |j| (i, j))).collect();
    let dots: Vec<f64> = pairs
        .par_iter()
        .map(|&(i, j)| centred[i].iter().zip(&centred[j]).map(|(a, b)| a * b).sum())
        .collect();
    for (&(i, j), d) in pairs.iter().zip(dots) {
        gram[i * k + j] = d;
        gram[j * k + i] = d;
    }
    let (values, vectors) = jacobi_eigen(gram, k);
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    CentredGram {
        centred,
        values,
        vectors,
        order,
    }
}

/// PCA of `rows` (each `theta_i - theta_final`, already masked).
pub fn pca(rows: &[Vec<f32>]) -> Result<Pca> {
    let k = rows.len();
    if k < 3 {
        return Err(Error::invalid(format!(
            "PCA of a trajectory needs at least 3 checkpoints, got {k}"
        )));
    }
    let n = rows[0].len();
    let CentredGram {
        centred,
        values,
        vectors,
        order,
    } = centred_gram(rows);
    let total: f64 = values.iter().map(|v| v.max(0.0)).sum();
    let component = |c: usize| -> Vec<f32> {
        let lambda = values[order[c]].max(f64::MIN_POSITIVE);
        let u: Vec<f64> = (0..k).map(|i| vectors[i * k + order[c]]).collect();
        (0..n)
            .map(|j| {
                (u.iter().zip(&centred).map(|(ui, r)| ui * r[j]).sum::<f64>() / lambda.sqrt())
                    as f32
            })
            .collect()
    };
    let l = [values[order[0]].max(0.0), values[order[1]].max(0.0)];
    Ok(Pca {
        pc1: component(0),
        pc2: component(1),
        explained_variance: [l[0] / (k - 1) as f64, l[1] / (k - 1) as f64],
        explained_variance_ratio: [l[0] / total, l[1] / total],
        singular_values: [l[0].sqrt(), l[1].sqrt()],
    })
}

/// The first `k` principal-component scores of each row (sklearn's `PCA(k).fit_transform`):
/// rows centred on their mean and projected onto the `k` leading components, computed from
/// the `rows x rows` Gram matrix as [`pca`] does. Returns one `k`-vector per row; component
/// signs are whatever the eigen-solver gives (deterministic for the same input).
///
/// # Errors
/// If there are fewer than 2 rows, rows differ in length, or `k` is 0 or above `rows - 1`
/// (centred rows span at most `rows - 1` dimensions).
pub fn pca_k(rows: &[Vec<f32>], k: usize) -> Result<Vec<Vec<f32>>> {
    let m = rows.len();
    if m < 2 {
        return Err(Error::invalid(format!(
            "PCA needs at least 2 rows, got {m}"
        )));
    }
    if k == 0 || k > m - 1 {
        return Err(Error::invalid(format!(
            "PCA of {m} rows gives 1 to {} components, {k} were asked for",
            m - 1
        )));
    }
    let n = rows[0].len();
    if rows.iter().any(|r| r.len() != n) {
        return Err(Error::invalid("PCA: rows differ in length"));
    }
    let CentredGram {
        values,
        vectors,
        order,
        ..
    } = centred_gram(rows);
    // Scores are U * S: the Gram eigenvectors scaled by the singular values.
    let scale: Vec<f64> = order[..k]
        .iter()
        .map(|&c| values[c].max(0.0).sqrt())
        .collect();
    Ok((0..m)
        .map(|i| {
            order[..k]
                .iter()
                .zip(&scale)
                .map(|(&c, s)| (vectors[i * m + c] * s) as f32)
                .collect()
        })
        .collect())
}

/// Eigen-decomposition of a symmetric `k x k` matrix by cyclic Jacobi rotations: eigenvalues,
/// and eigenvectors as the columns of a row-major matrix.
pub(crate) fn jacobi_eigen(mut a: Vec<f64>, k: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0; k * k];
    for i in 0..k {
        v[i * k + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..k)
            .flat_map(|i| (0..k).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * k + j].powi(2))
            .sum();
        let scale: f64 = (0..k)
            .map(|i| a[i * k + i].powi(2))
            .sum::<f64>()
            .max(f64::MIN_POSITIVE);
        if off <= 1e-30 * scale {
            break;
        }
        for p in 0..k {
            for q in p + 1..k {
                let apq = a[p * k + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q * k + q] - a[p * k + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for r in 0..k {
                    let (arp, arq) = (a[r * k + p], a[r * k + q]);
                    a[r * k + p] = c * arp - s * arq;
                    a[r * k + q] = s * arp + c * arq;
                }
                for r in 0..k {
                    let (apr, aqr) = (a[p * k + r], a[q * k + r]);
                    a[p * k + r] = c * apr - s * aqr;
                    a[q * k + r] = s * apr + c * aqr;
                }
                for r in 0..k {
                    let (vrp, vrq) = (v[r * k + p], v[r * k + q]);
                    v[r * k + p] = c * vrp - s * vrq;
                    v[r * k + q] = s * vrp + c * vrq;
                }
            }
        }
    }
    ((0..k).map(|i| a[i * k + i]).collect(), v)
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum()
}

/// Coordinates of each row in the plane of `x` and `y` by least squares (exact for rows in
/// the plane, whatever the angle between the axes).
pub fn project_lstsq(rows: &[Vec<f32>], x: &[f32], y: &[f32]) -> Vec<(f64, f64)> {
    let (xx, xy, yy) = (dot(x, x), dot(x, y), dot(y, y));
    let det = xx * yy - xy * xy;
    rows.iter()
        .map(|r| {
            let (rx, ry) = (dot(r, x), dot(r, y));
            ((yy * rx - xy * ry) / det, (xx * ry - xy * rx) / det)
        })
        .collect()
}

/// Li et al.'s `cos` projection: `r . x / |x|` on each axis (assumes orthogonal axes).
pub fn project_cos(rows: &[Vec<f32>], x: &[f32], y: &[f32]) -> Vec<(f64, f64)> {
    let (nx, ny) = (dot(x, x).sqrt(), dot(y, y).sqrt());
    rows.iter()
        .map(|r| (dot(r, x) / nx, dot(r, y) / ny))
        .collect()
}

/// A training path on the plane of its two principal components (Li et al. 2018, Fig. 9;
/// `projection.py`): rows `theta_i - theta_final` with everything but the filtered weights
/// zeroed (Li's `--ignore biasbn`), so the final model is the origin.
#[derive(Clone, Debug)]
pub struct PathPlane {
    /// The principal directions and their variances.
    pub pca: Pca,
    /// Each checkpoint's coordinates by least squares (what the figures draw).
    pub lstsq: Vec<(f64, f64)>,
    /// Each checkpoint's coordinates by Li et al.'s `cos` projection.
    pub cos: Vec<(f64, f64)>,
}

impl PathPlane {
    /// The PCA plane of `checkpoints` around `final_theta`.
    ///
    /// # Errors
    /// When a checkpoint does not have the model's parameter count, or there are too few
    /// distinct checkpoints for two components.
    pub fn of<'a>(
        checkpoints: impl IntoIterator<Item = &'a [f32]>,
        final_theta: &genviz_core::Params,
    ) -> Result<Self> {
        let theta = final_theta.values();
        let mask = final_theta.layout().filtered_weight_mask();
        let rows = checkpoints
            .into_iter()
            .map(|r| {
                if r.len() != theta.len() {
                    return Err(Error::invalid(format!(
                        "a checkpoint has {} parameters, the model {}",
                        r.len(),
                        theta.len()
                    )));
                }
                Ok(r.iter()
                    .zip(theta)
                    .zip(&mask)
                    .map(|((a, b), &keep)| if keep { a - b } else { 0.0 })
                    .collect())
            })
            .collect::<Result<Vec<Vec<f32>>>>()?;
        let pca = pca(&rows)?;
        let lstsq = project_lstsq(&rows, &pca.pc1, &pca.pc2);
        let cos = project_cos(&rows, &pca.pc1, &pca.pc2);
        Ok(PathPlane { pca, lstsq, cos })
    }

    /// The plane through the final model along the two components.
    pub fn plane(&self, final_theta: &genviz_core::Params) -> Result<crate::Plane> {
        let layout = final_theta.layout().clone();
        crate::Plane::new(
            final_theta.clone(),
            genviz_core::Params::from_vec(layout.clone(), self.pca.pc1.clone())?,
            Some(genviz_core::Params::from_vec(layout, self.pca.pc2.clone())?),
        )
    }

    /// An axis of `num` points covering the path's extent along component `k` (0 or 1) and
    /// the origin, with a fifth of that extent added on each side.
    pub fn axis(&self, k: usize, num: usize) -> crate::Axis {
        let (lo, hi) = self
            .lstsq
            .iter()
            .map(|p| if k == 0 { p.0 } else { p.1 })
            .fold((0f64, 0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let pad = 0.2 * (hi - lo).max(1e-3);
        crate::Axis {
            min: lo - pad,
            max: hi + pad,
            num: num.max(2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng as _;

    #[test]
    fn recovers_planted_directions() {
        let n = 500;
        let mut r = genviz_core::rng::stream(1, "pca");
        let unit = |r: &mut genviz_core::rng::Rng| {
            let v: Vec<f64> = (0..n).map(|_| r.gen_range(-1.0..1.0)).collect();
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            v.into_iter().map(|x| x / norm).collect::<Vec<_>>()
        };
        let a = unit(&mut r);
        let mut b = unit(&mut r);
        let ab: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        b.iter_mut().zip(&a).for_each(|(y, x)| *y -= ab * x);
        let nb = b.iter().map(|x| x * x).sum::<f64>().sqrt();
        b.iter_mut().for_each(|y| *y /= nb);
        // A trajectory spread 10x more along a than along b, plus a little noise.
        // Coefficients: centred, uncorrelated, the first with 10x the spread.
        let c: Vec<f64> = (0..40).map(|i| 10.0 * (i as f64 / 39.0 - 0.5)).collect();
        let mut s: Vec<f64> = (0..40).map(|i| (6.0 * i as f64 / 39.0).sin()).collect();
        let mean = s.iter().sum::<f64>() / 40.0;
        s.iter_mut().for_each(|v| *v -= mean);
        let sc = s.iter().zip(&c).map(|(x, y)| x * y).sum::<f64>()
            / c.iter().map(|y| y * y).sum::<f64>();
        s.iter_mut().zip(&c).for_each(|(v, y)| *v -= sc * y);
        let rows: Vec<Vec<f32>> = (0..40)
            .map(|i| {
                (0..n)
                    .map(|j| (c[i] * a[j] + s[i] * b[j] + 1e-4 * r.gen_range(-1.0..1.0)) as f32)
                    .collect()
            })
            .collect();
        let p = pca(&rows).unwrap();
        let cos = |u: &[f32], v: &[f64]| {
            u.iter()
                .zip(v)
                .map(|(&x, y)| f64::from(x) * y)
                .sum::<f64>()
                .abs()
        };
        assert!(cos(&p.pc1, &a) > 0.999, "pc1 . a = {}", cos(&p.pc1, &a));
        assert!(cos(&p.pc2, &b) > 0.99, "pc2 . b = {}", cos(&p.pc2, &b));
        assert!(
            p.explained_variance_ratio[0] > 0.9
                && p.explained_variance_ratio[0] + p.explained_variance_ratio[1] > 0.999
        );

        // A row in the plane projects back to its coordinates.
        let row: Vec<f32> = (0..n)
            .map(|j| (2.0 * f64::from(p.pc1[j]) - 3.0 * f64::from(p.pc2[j])) as f32)
            .collect();
        let (x, y) = project_lstsq(std::slice::from_ref(&row), &p.pc1, &p.pc2)[0];
        assert!((x - 2.0).abs() < 1e-4 && (y + 3.0).abs() < 1e-4);
        let (cx, cy) = project_cos(&[row], &p.pc1, &p.pc2)[0];
        assert!((cx - 2.0).abs() < 1e-3 && (cy + 3.0).abs() < 1e-3);
        assert!(pca(&rows[..2]).is_err());
    }

    #[test]
    fn pca_k_scores_keep_distances_and_match_pca() {
        let mut r = genviz_core::rng::stream(7, "pca-k");
        let rows: Vec<Vec<f32>> = (0..12)
            .map(|_| (0..30).map(|_| r.gen_range(-1.0f32..1.0)).collect())
            .collect();
        // With every component (rows - 1), pairwise distances are kept exactly.
        let all = pca_k(&rows, 11).unwrap();
        let d = |a: &[f32], b: &[f32]| {
            a.iter()
                .zip(b)
                .map(|(x, y)| f64::from(x - y).powi(2))
                .sum::<f64>()
        };
        for i in 0..12 {
            assert_eq!(all[i].len(), 11);
            for j in 0..12 {
                let (a, b) = (d(&rows[i], &rows[j]), d(&all[i], &all[j]));
                assert!((a - b).abs() < 1e-3 * (1.0 + a), "{a} vs {b}");
            }
        }
        // The first score is the centred row's projection on pca()'s first component.
        let p = pca(&rows).unwrap();
        let first = pca_k(&rows, 1).unwrap();
        let mean: Vec<f64> = (0..30)
            .map(|j| rows.iter().map(|r| f64::from(r[j])).sum::<f64>() / 12.0)
            .collect();
        for (row, s) in rows.iter().zip(&first) {
            let proj: f64 = row
                .iter()
                .zip(&mean)
                .zip(&p.pc1)
                .map(|((&v, m), &c)| (f64::from(v) - m) * f64::from(c))
                .sum();
            assert!(
                (proj.abs() - f64::from(s[0]).abs()).abs() < 1e-3,
                "{proj} vs {}",
                s[0]
            );
        }
        assert!(pca_k(&rows, 12).is_err());
        assert!(pca_k(&rows, 0).is_err());
    }
}

//! Mode-connecting curves between two minima (Garipov et al. 2018, SPEC 3).
//!
//! A curve is `w(t) = sum_k c_k(t) w_k` over bends `w_0 .. w_{n-1}`: Bezier curves weight the
//! bends by Bernstein polynomials, polychains by hat functions (a polyline through the bends).
//! The end bends are two trained models and stay fixed; interior bends start on the straight
//! segment and are trained by sampling `t ~ U(0, 1)` at every step and descending the loss at
//! `w(t)`, whose gradient with respect to bend `k` is `c_k(t)` times the gradient at `w(t)`.

use crate::optim::{clip_global_norm, Optimizer, OptimizerConfig};
use genviz_core::network::MeanWeights;
use genviz_core::{rng, Dataset, Error, Network, Result};
use rand::Rng as _;
use serde::{Deserialize, Serialize};

/// The family of a curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CurveKind {
    /// Bernstein weights `C(n-1, k) t^k (1-t)^(n-1-k)`.
    #[default]
    Bezier,
    /// Hat functions `max(0, 1 - |t (n-1) - k|)`: a polyline through the bends.
    Polychain,
}

impl std::str::FromStr for CurveKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "bezier" => Ok(CurveKind::Bezier),
            "polychain" => Ok(CurveKind::Polychain),
            other => Err(Error::invalid(format!(
                "curve `{other}`: expected bezier or polychain"
            ))),
        }
    }
}

/// The weights `c_k(t)` of `bends` bends at `t`.
pub fn coefficients(kind: CurveKind, bends: usize, t: f64) -> Vec<f64> {
    let n = bends - 1;
    match kind {
        CurveKind::Bezier => {
            let mut binom = 1.0;
            (0..=n)
                .map(|k| {
                    if k > 0 {
                        binom *= (n - k + 1) as f64 / k as f64;
                    }
                    binom * t.powi(k as i32) * (1.0 - t).powi((n - k) as i32)
                })
                .collect()
        }
        CurveKind::Polychain => (0..=n)
            .map(|k| (1.0 - (t * n as f64 - k as f64).abs()).max(0.0))
            .collect(),
    }
}

/// A curve: its kind and bends (flat parameter vectors of one network).
#[derive(Clone, Debug)]
pub struct Curve {
    /// Bezier or polychain.
    pub kind: CurveKind,
    /// The bends, endpoints first and last.
    pub bends: Vec<Vec<f32>>,
}

impl Curve {
    /// A curve from `start` to `end` with `bends` bends, the interior ones evenly placed on
    /// the straight segment (Garipov et al.'s `init_linear`).
    pub fn linear(kind: CurveKind, start: &[f32], end: &[f32], bends: usize) -> Result<Self> {
        if bends < 2 {
            return Err(Error::invalid(
                "a curve needs at least 2 bends (its endpoints)",
            ));
        }
        if start.len() != end.len() {
            return Err(Error::invalid(format!(
                "the endpoints have {} and {} parameters",
                start.len(),
                end.len()
            )));
        }
        let last = bends - 1;
        let bends = (0..bends)
            .map(|k| match k {
                0 => start.to_vec(),
                k if k == last => end.to_vec(),
                k => {
                    let s = k as f32 / last as f32;
                    start
                        .iter()
                        .zip(end)
                        .map(|(&a, &b)| a + s * (b - a))
                        .collect()
                }
            })
            .collect();
        Ok(Curve { kind, bends })
    }

    /// The parameters at `t`. The endpoints are returned exactly at `t = 0` and `t = 1`.
    pub fn point(&self, t: f64) -> Vec<f32> {
        let last = self.bends.len() - 1;
        if t <= 0.0 {
            return self.bends[0].clone();
        }
        if t >= 1.0 {
            return self.bends[last].clone();
        }
        let c = coefficients(self.kind, self.bends.len(), t);
        let mut out = vec![0f64; self.bends[0].len()];
        for (ck, bend) in c.iter().zip(&self.bends) {
            if *ck != 0.0 {
                out.iter_mut()
                    .zip(bend)
                    .for_each(|(o, &b)| *o += ck * f64::from(b));
            }
        }
        out.into_iter().map(|v| v as f32).collect()
    }
}

/// How a curve is trained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurveTraining {
    /// Steps (one sampled `t` each).
    pub steps: u64,
    /// Learning rate: constant for the first half, then linearly down to 1% at 90%, as
    /// Garipov et al.'s schedule.
    pub lr: f64,
    /// The optimizer.
    pub optimizer: OptimizerConfig,
    /// L2 term `0.5 * wd * |w(t)|^2`.
    pub weight_decay: f64,
    /// Clip gradients to this global norm.
    pub clip_norm: Option<f64>,
    /// Seed of the sampled `t`.
    pub seed: u64,
}

/// Garipov et al.'s learning-rate factor at training fraction `f`.
pub fn lr_factor(f: f64) -> f64 {
    if f < 0.5 {
        1.0
    } else if f < 0.9 {
        1.0 - (f - 0.5) / 0.4 * 0.99
    } else {
        0.01
    }
}

/// Trains the interior bends of `curve` on `data` (full batch), endpoints fixed.
pub fn train_curve(
    net: &dyn Network,
    curve: &mut Curve,
    data: &Dataset,
    config: &CurveTraining,
) -> Result<()> {
    if config.optimizer.needs_closure() {
        return Err(Error::invalid(format!(
            "curve training: optimizer {} re-evaluates the loss at points of its own choosing, which a randomly sampled t does not allow; use a first-order optimizer",
            config.optimizer.name()
        )));
    }
    let interior = curve.bends.len().saturating_sub(2);
    if interior == 0 {
        return Ok(());
    }
    let n = curve.bends[0].len();
    let mut opts: Vec<Optimizer> = (0..interior)
        .map(|_| Optimizer::new(config.optimizer.clone(), 0.0, n))
        .collect();
    let mut rng = rng::stream(config.seed, "curve-t");
    let weights = MeanWeights::new(data.len());
    let batch = weights.batch(data);
    let mut grad = vec![0f32; n];
    for step in 0..config.steps {
        let t: f64 = rng.gen_range(0.0..1.0);
        let w = curve.point(t);
        let loss = net.loss_grad(&w, &batch, &mut grad);
        if config.weight_decay > 0.0 {
            grad.iter_mut()
                .zip(&w)
                .for_each(|(g, &x)| *g += (config.weight_decay * f64::from(x)) as f32);
        }
        if !loss.is_finite() {
            return Err(Error::Numerical(format!(
                "curve training stopped at step {}: the loss at t = {t:.3} is {loss}",
                step + 1
            )));
        }
        clip_global_norm(&mut grad, config.clip_norm);
        let lr = (config.lr * lr_factor(step as f64 / config.steps as f64)) as f32;
        let c = coefficients(curve.kind, curve.bends.len(), t);
        for (k, opt) in opts.iter_mut().enumerate() {
            let ck = c[k + 1] as f32;
            if ck == 0.0 {
                continue;
            }
            let g: Vec<f32> = grad.iter().map(|&x| ck * x).collect();
            opt.step(&mut curve.bends[k + 1], &g, lr);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_one_and_ends_are_exact() {
        for kind in [CurveKind::Bezier, CurveKind::Polychain] {
            for bends in 2..6 {
                for i in 0..=20 {
                    let c = coefficients(kind, bends, i as f64 / 20.0);
                    assert!(
                        (c.iter().sum::<f64>() - 1.0).abs() < 1e-12,
                        "{kind:?} {bends}"
                    );
                    assert!(c.iter().all(|&x| x >= 0.0));
                }
            }
            let start = vec![0.1f32, -0.7, 3.3];
            let end = vec![1.7f32, 0.2, -2.9];
            let mut curve = Curve::linear(kind, &start, &end, 3).unwrap();
            curve.bends[1] = vec![5.0, 5.0, 5.0];
            assert_eq!(curve.point(0.0), start);
            assert_eq!(curve.point(1.0), end);
        }
        // A polychain with 3 bends passes through the middle bend at t = 0.5.
        let mut curve = Curve::linear(CurveKind::Polychain, &[0.0], &[2.0], 3).unwrap();
        curve.bends[1] = vec![7.0];
        assert_eq!(curve.point(0.5), vec![7.0]);
        // Bezier with 3 bends: (1-t)^2 w0 + 2t(1-t) w1 + t^2 w2.
        let mut curve = Curve::linear(CurveKind::Bezier, &[0.0], &[2.0], 3).unwrap();
        curve.bends[1] = vec![4.0];
        assert!((curve.point(0.5)[0] - (0.25 * 0.0 + 0.5 * 4.0 + 0.25 * 2.0)).abs() < 1e-6);
    }

    #[test]
    fn schedule_is_garipovs() {
        assert_eq!(lr_factor(0.2), 1.0);
        assert!((lr_factor(0.7) - 0.505).abs() < 1e-12);
        assert_eq!(lr_factor(0.95), 0.01);
    }
}

use super::*;
use genviz_core::{Batch, Eval, Layout, Role};
use std::sync::Arc;

/// A loss `sum (theta_i / a_i)^2` whose basin below 1 is the ellipsoid with semi-axes `a`.
pub(crate) struct Ellipsoid {
    pub layout: Arc<Layout>,
    pub axes: Vec<f64>,
}

impl Ellipsoid {
    pub fn new(axes: Vec<f64>) -> Self {
        let layout = Layout::new([("w".to_string(), vec![axes.len(), 1], Role::Weight)]).unwrap();
        Ellipsoid {
            layout: Arc::new(layout),
            axes,
        }
    }
    fn loss(&self, theta: &[f32]) -> f64 {
        theta
            .iter()
            .zip(&self.axes)
            .map(|(&t, a)| (f64::from(t) / a).powi(2))
            .sum()
    }
}

impl Network for Ellipsoid {
    fn layout(&self) -> &Arc<Layout> {
        &self.layout
    }
    fn num_classes(&self) -> usize {
        2
    }
    fn evaluate(&self, thetas: &[&[f32]], _data: &Dataset) -> Vec<Eval> {
        thetas
            .iter()
            .map(|t| Eval {
                loss: self.loss(t),
                accuracy: 1.0,
            })
            .collect()
    }
    fn loss_grad(&self, theta: &[f32], _batch: &Batch<'_>, grad: &mut [f32]) -> f64 {
        for ((g, &t), a) in grad.iter_mut().zip(theta).zip(&self.axes) {
            *g = (2.0 * f64::from(t) / (a * a)) as f32;
        }
        self.loss(theta)
    }
    fn logits(&self, _theta: &[f32], _inputs: &[f32], n: usize) -> Vec<f32> {
        vec![0.0; n]
    }
}

pub(crate) fn one_point() -> Dataset {
    Dataset::new(vec![0.0], vec![0], 1, 2).unwrap()
}

#[test]
fn radii_and_volume_of_a_known_ellipsoid() {
    let axes = vec![1.0, 0.5, 2.0];
    let net = Ellipsoid::new(axes.clone());
    let theta = Params::zeros(net.layout.clone());
    let config = RayConfig {
        rays: 3000,
        threshold: 1.0,
        mode: RadiusMode::Exact {
            max_radius: 4.0,
            tolerance: 1e-7,
            bracket: 8,
        },
        seed: 3,
        // Unit directions uniform on the sphere: the star-shaped formula is exact in expectation.
        norm: Normalization::Dlayer,
        bias: BiasPolicy::Ignore,
    };
    let basin = radii(&net, &theta, &one_point(), &config).unwrap();
    assert_eq!(basin.dimension, 3);
    assert!(basin.censored.iter().all(|&c| !c));
    for k in 0..20 {
        let d = random_direction(
            &theta,
            Normalization::Dlayer,
            BiasPolicy::Ignore,
            &mut rng::substream(3, "ray", k),
        );
        let q: f64 = d
            .values()
            .iter()
            .zip(&axes)
            .map(|(&u, a)| (f64::from(u) / a).powi(2))
            .sum();
        let want = 1.0 / q.sqrt();
        for s in 0..2 {
            let got = basin.radii[2 * k as usize + s];
            assert!((got - want).abs() < 1e-5 * want, "ray {k}: {got} vs {want}");
        }
    }
    let v = volume(&basin.euclidean(), basin.dimension, 500, 1);
    let truth = (4.0 / 3.0 * std::f64::consts::PI * axes.iter().product::<f64>()).log10();
    assert!(
        v.low <= truth && truth <= v.high,
        "analytic {truth} outside [{}, {}] (estimate {})",
        v.low,
        v.high,
        v.log10_volume
    );
    assert!(v.high - v.low < 0.2, "interval too wide: {v:?}");
}

#[test]
fn gen_viz_mode_picks_the_sample_nearest_the_threshold() {
    let net = Ellipsoid::new(vec![0.3, 0.3]);
    let theta = Params::zeros(net.layout.clone());
    let config = RayConfig {
        rays: 4,
        threshold: 1.0,
        mode: RadiusMode::GenViz {
            span: 1.0,
            samples: 100,
        },
        seed: 0,
        norm: Normalization::Dlayer,
        bias: BiasPolicy::Ignore,
    };
    let basin = radii(&net, &theta, &one_point(), &config).unwrap();
    // A round basin of radius 0.3: the nearest power-5 sample is within a sample spacing.
    for r in &basin.radii {
        assert!((r - 0.3).abs() < 0.02, "{r}");
    }
}

#[test]
fn unit_ball_volume_and_gamma() {
    assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
    assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
    // All radii 1 in 2-D: the unit disc, area pi.
    assert!((log10_volume(&[1.0, 1.0], 2) - std::f64::consts::PI.log10()).abs() < 1e-12);
    // Huge dimensions stay finite in log space.
    assert!(log10_volume(&[0.1, 0.2], 3614).is_finite());
}

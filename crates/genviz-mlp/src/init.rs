//! Fresh weights, the TensorFlow way (the paper) or the PyTorch way.

use crate::spec::{Init, MlpSpec};
use genviz_core::{rng::Rng, Params, Role};
use rand::Rng as _;
use rand_distr::StandardNormal;
use std::sync::Arc;

/// Draws initial parameters for `spec` from `rng`.
///
/// Glorot-uniform: kernels `U(-l, l)` with `l = sqrt(6 / (fan_in + fan_out))`, zero biases
/// (`tf.layers.dense`'s default). Glorot-normal (Keras 2.2's form): kernels `N(0, s^2)` redrawn
/// outside `±2s`, `s = sqrt(2 / (fan_in + fan_out)) / 0.8796...` so that the truncated
/// distribution keeps Glorot's variance; zero biases. PyTorch: weights and biases
/// `U(-1/sqrt(fan_in), 1/sqrt(fan_in))` (`nn.Linear`'s default, `kaiming_uniform_(a=sqrt(5))`).
pub fn init_params(spec: &MlpSpec, init: Init, rng: &mut Rng) -> Params {
    let layout = Arc::new(spec.layout());
    let mut params = Params::zeros(layout.clone());
    for t in layout.tensors() {
        let fan_in = if t.role == Role::Weight {
            t.shape[1]
        } else {
            layout_fan_in(&layout, &t.name)
        };
        let fan_out = t.shape[0];
        let values = &mut params.values_mut()[t.range()];
        match (init, t.role) {
            // Zero biases: nothing to draw.
            (Init::GlorotUniform | Init::GlorotNormal, role) if role != Role::Weight => {}
            (Init::GlorotUniform, _) => {
                fill_uniform(values, (6.0 / (fan_in + fan_out) as f64).sqrt(), rng)
            }
            (Init::Pytorch, _) => fill_uniform(values, 1.0 / (fan_in as f64).sqrt(), rng),
            (Init::GlorotNormal, _) => {
                let std = (2.0 / (fan_in + fan_out) as f64).sqrt() / TRUNCATED_NORMAL_STD;
                for v in values {
                    *v = (std * truncated_standard_normal(rng)) as f32;
                }
            }
        }
    }
    params
}

/// Fills `values` from `U(-limit, limit)`.
fn fill_uniform(values: &mut [f32], limit: f64, rng: &mut Rng) {
    for v in values {
        *v = rng.gen_range(-limit..limit) as f32;
    }
}

/// The standard deviation of a standard normal truncated to `[-2, 2]` (Keras's constant).
const TRUNCATED_NORMAL_STD: f64 = 0.879_625_661_034_239_8;

/// A standard normal draw, redrawn until it lies within two standard deviations (as
/// `tf.truncated_normal`).
fn truncated_standard_normal(rng: &mut Rng) -> f64 {
    loop {
        let z: f64 = rng.sample(StandardNormal);
        if z.abs() <= 2.0 {
            return z;
        }
    }
}

/// The fan-in of the layer a bias belongs to (its weight's second axis).
fn layout_fan_in(layout: &genviz_core::Layout, bias_name: &str) -> usize {
    let weight = bias_name.trim_end_matches("bias").to_string() + "weight";
    layout.get(&weight).map_or(1, |w| w.shape[1])
}

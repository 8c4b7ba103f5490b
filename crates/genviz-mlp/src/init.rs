//! Fresh weights, the TensorFlow way (the paper) or the PyTorch way.

use crate::spec::{Init, MlpSpec};
use genviz_core::{rng::Rng, Params, Role};
use rand::Rng as _;
use std::sync::Arc;

/// Draws initial parameters for `spec` from `rng`.
///
/// Glorot-uniform: kernels `U(-l, l)` with `l = sqrt(6 / (fan_in + fan_out))`, zero biases
/// (`tf.layers.dense`'s default). PyTorch: weights and biases `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`
/// (`nn.Linear`'s default, `kaiming_uniform_(a=sqrt(5))`).
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
        let limit = match (init, t.role) {
            (Init::GlorotUniform, Role::Weight) => (6.0 / (fan_in + fan_out) as f64).sqrt(),
            (Init::GlorotUniform, _) => 0.0,
            (Init::Pytorch, _) => 1.0 / (fan_in as f64).sqrt(),
        };
        for v in &mut params.values_mut()[t.range()] {
            *v = if limit > 0.0 {
                rng.gen_range(-limit..limit) as f32
            } else {
                0.0
            };
        }
    }
    params
}

/// The fan-in of the layer a bias belongs to (its weight's second axis).
fn layout_fan_in(layout: &genviz_core::Layout, bias_name: &str) -> usize {
    let weight = bias_name.trim_end_matches("bias").to_string() + "weight";
    layout.get(&weight).map_or(1, |w| w.shape[1])
}

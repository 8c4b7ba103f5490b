//! Networks whose measures have closed forms, for the tests.

use genviz_core::network::MeanWeights;
use genviz_core::{Batch, Dataset, Eval, Layout, Network, Params, Role};
use std::sync::Arc;

/// A "network" whose loss on example `x` is `1/2 sum_j h_j (theta_j - x_j)^2`: the mean loss over
/// a batch `S` is a quadratic with Hessian `diag(h)` and gradient `h * (theta - mean_S x)`, so
/// every expectation and maximum of a perturbation has a closed form. An example counts as
/// correct while its loss is below 1 (so the error rate is defined too).
pub(crate) struct Quadratic {
    layout: Arc<Layout>,
    pub h: Vec<f64>,
}

impl Quadratic {
    pub fn new(h: Vec<f64>) -> Self {
        let layout = Layout::new([("w".to_string(), vec![h.len(), 1], Role::Weight)]).unwrap();
        Quadratic {
            layout: Arc::new(layout),
            h,
        }
    }

    pub fn params(&self, values: Vec<f32>) -> Params {
        Params::from_vec(self.layout.clone(), values).unwrap()
    }

    fn example_loss(&self, theta: &[f32], x: &[f32]) -> f64 {
        theta
            .iter()
            .zip(x)
            .zip(&self.h)
            .map(|((&t, &x), h)| 0.5 * h * (f64::from(t) - f64::from(x)).powi(2))
            .sum()
    }
}

/// `rows` examples of `dim` features with labels 0, as a data set.
pub(crate) fn points(features: Vec<f32>, dim: usize) -> Dataset {
    let n = features.len() / dim;
    Dataset::new(features, vec![0; n], dim, 2).unwrap()
}

impl Network for Quadratic {
    fn layout(&self) -> &Arc<Layout> {
        &self.layout
    }
    fn num_classes(&self) -> usize {
        2
    }
    fn evaluate(&self, thetas: &[&[f32]], data: &Dataset) -> Vec<Eval> {
        thetas
            .iter()
            .map(|t| {
                let losses: Vec<f64> = (0..data.len())
                    .map(|i| self.example_loss(t, data.row(i)))
                    .collect();
                let n = data.len() as f64;
                Eval {
                    loss: losses.iter().sum::<f64>() / n,
                    accuracy: losses.iter().filter(|&&l| l < 1.0).count() as f64 / n,
                }
            })
            .collect()
    }
    fn loss_grad(&self, theta: &[f32], batch: &Batch<'_>, grad: &mut [f32]) -> f64 {
        let mut g = vec![0f64; theta.len()];
        let mut loss = 0.0;
        for i in 0..batch.data.len() {
            let c = f64::from(batch.coef[i]);
            let x = batch.data.row(i);
            loss += c * self.example_loss(theta, x);
            for j in 0..theta.len() {
                g[j] += c * self.h[j] * (f64::from(theta[j]) - f64::from(x[j]));
            }
        }
        grad.iter_mut().zip(&g).for_each(|(o, v)| *o = *v as f32);
        loss
    }
    fn hvp(&self, _theta: &[f32], v: &[f32], _data: &Dataset) -> Vec<f64> {
        v.iter()
            .zip(&self.h)
            .map(|(&x, h)| h * f64::from(x))
            .collect()
    }
    fn logits(&self, _theta: &[f32], _inputs: &[f32], n: usize) -> Vec<f32> {
        vec![0.0; n]
    }
}

/// A small ReLU MLP (2 -> 8 -> 8 -> 1 logit) trained for a few hundred full-batch gradient
/// steps on 80 swiss-roll points: a realistic, non-quadratic minimum that builds in milliseconds.
pub(crate) fn small_mlp() -> (genviz_mlp::Mlp, Params, Dataset) {
    use genviz_mlp::{init_params, Activation, Head, Init, Mlp, MlpSpec};
    let spec = MlpSpec {
        input_dim: 2,
        hidden: vec![8, 8],
        num_classes: 2,
        activation: Activation::Relu,
        head: Head::Sigmoid,
    };
    let net = Mlp::new(spec.clone()).unwrap();
    let mut theta = init_params(
        &spec,
        Init::GlorotUniform,
        &mut genviz_core::rng::stream(5, "init"),
    );
    let roll = genviz_data::SwissRoll {
        points_per_class: 40,
        ..Default::default()
    };
    let data = roll.generate(&mut genviz_core::rng::stream(5, "data"));
    let weights = MeanWeights::new(data.len());
    let batch = weights.batch(&data);
    let mut g = vec![0f32; theta.values().len()];
    for _ in 0..400 {
        net.loss_grad(theta.values(), &batch, &mut g);
        theta
            .values_mut()
            .iter_mut()
            .zip(&g)
            .for_each(|(t, g)| *t -= 0.05 * g);
    }
    (net, theta, data)
}

/// `theta` with layer `k`'s weight and bias times `a` and layer `k + 1`'s weight divided by
/// `a`: the same function for a ReLU network (positive homogeneity).
pub(crate) fn rescaled(theta: &Params, k: usize, a: f32) -> Params {
    let mut out = theta.clone();
    let layout = theta.layout().clone();
    for (name, s) in [
        (format!("layers.{k}.weight"), a),
        (format!("layers.{k}.bias"), a),
        (format!("layers.{}.weight", k + 1), 1.0 / a),
    ] {
        let t = layout.get(&name).expect("layer exists");
        out.values_mut()[t.range()].iter_mut().for_each(|v| *v *= s);
    }
    out
}

/// Runs `f` on a rayon pool of `threads` threads.
pub(crate) fn with_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    genviz_core::threads::with_threads(threads, f).unwrap()
}

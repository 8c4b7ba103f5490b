//! Networks that are another network seen through a wrapper.
//!
//! Several places need "this network, but": counting every forward and backward pass (the
//! measures' cost), augmenting training batches (image runs), or dispatching to whichever family
//! a model file held. Each used to restate the whole [`Network`] trait only to forward it, so a
//! method added to the trait, or a fast path (an MLP's [`Network::evaluate_affine`], its exact
//! [`Network::hvp`]), had to be remembered in every wrapper. A [`Wrapper`] names its inner
//! network and what it changes; the one implementation here forwards everything else,
//! fast paths included.

use crate::{Affine, Batch, Dataset, Eval, Layout, Network};
use std::sync::Arc;

/// One call a [`Wrapper`] passes on to its inner network, as [`Wrapper::observe`] sees it.
#[derive(Clone, Copy, Debug)]
pub enum Call<'a> {
    /// [`Network::evaluate`] or [`Network::evaluate_affine`] of `points` parameter vectors.
    Evaluate {
        /// Parameter vectors (or plane points) evaluated.
        points: usize,
        /// The examples each is evaluated on.
        data: &'a Dataset,
    },
    /// One [`Network::hvp`] on `data`.
    Hvp {
        /// The examples of the mean loss.
        data: &'a Dataset,
    },
    /// One [`Network::loss_grad`] of a batch (as given to the wrapper).
    LossGrad {
        /// The batch.
        batch: &'a Batch<'a>,
    },
    /// [`Network::logits`] of `examples` inputs.
    Logits {
        /// Inputs forwarded.
        examples: usize,
    },
}

/// A network that forwards every [`Network`] method to [`Wrapper::inner`], changing only what
/// its two hooks say. Implementing this trait implements [`Network`].
pub trait Wrapper: Send + Sync {
    /// The network every call goes to.
    fn inner(&self) -> &dyn Network;

    /// Sees each call just before the inner network does (a counter counts here); the
    /// default does nothing.
    fn observe(&self, _call: Call<'_>) {}

    /// The examples the inner network trains on in place of a batch's `data` (the same number,
    /// with the same labels: augmentation crops and flips them), or `None` to leave them.
    /// Only [`Network::loss_grad`] asks: evaluations, landscapes and Hessians see the data
    /// untouched.
    fn training_examples(&self, _data: &Dataset) -> Option<Dataset> {
        None
    }
}

impl<W: Wrapper> Network for W {
    fn layout(&self) -> &Arc<Layout> {
        self.inner().layout()
    }

    fn num_classes(&self) -> usize {
        self.inner().num_classes()
    }

    fn evaluate(&self, thetas: &[&[f32]], data: &Dataset) -> Vec<Eval> {
        let points = thetas.len();
        self.observe(Call::Evaluate { points, data });
        self.inner().evaluate(thetas, data)
    }

    fn evaluate_affine(&self, plane: Affine<'_>, ab: &[(f64, f64)], data: &Dataset) -> Vec<Eval> {
        let points = ab.len();
        self.observe(Call::Evaluate { points, data });
        self.inner().evaluate_affine(plane, ab, data)
    }

    fn hvp(&self, theta: &[f32], v: &[f32], data: &Dataset) -> Vec<f64> {
        self.observe(Call::Hvp { data });
        self.inner().hvp(theta, v, data)
    }

    fn estimate_statistics(&self, theta: &[f32], data: &Dataset, batch: usize) -> Option<Vec<f32>> {
        self.inner().estimate_statistics(theta, data, batch)
    }

    fn loss_grad(&self, theta: &[f32], batch: &Batch<'_>, grad: &mut [f32]) -> f64 {
        self.observe(Call::LossGrad { batch });
        match self.training_examples(batch.data) {
            Some(data) => {
                let batch = Batch {
                    data: &data,
                    ..batch.clone()
                };
                self.inner().loss_grad(theta, &batch, grad)
            }
            None => self.inner().loss_grad(theta, batch, grad),
        }
    }

    fn logits(&self, theta: &[f32], inputs: &[f32], n: usize) -> Vec<f32> {
        self.observe(Call::Logits { examples: n });
        self.inner().logits(theta, inputs, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A network whose loss is the mean label, so a changed batch shows in the loss.
    struct Labels(Arc<Layout>);

    impl Network for Labels {
        fn layout(&self) -> &Arc<Layout> {
            &self.0
        }
        fn num_classes(&self) -> usize {
            2
        }
        fn evaluate(&self, thetas: &[&[f32]], _data: &Dataset) -> Vec<Eval> {
            vec![Eval::default(); thetas.len()]
        }
        fn loss_grad(&self, _theta: &[f32], batch: &Batch<'_>, _grad: &mut [f32]) -> f64 {
            batch.data.labels().iter().map(|&l| f64::from(l)).sum()
        }
        fn logits(&self, _theta: &[f32], _inputs: &[f32], n: usize) -> Vec<f32> {
            vec![0.0; n]
        }
    }

    /// Records the calls it sees and flips every training label.
    struct Spy<'a> {
        inner: &'a dyn Network,
        seen: Mutex<Vec<String>>,
    }

    impl Wrapper for Spy<'_> {
        fn inner(&self) -> &dyn Network {
            self.inner
        }
        fn observe(&self, call: Call<'_>) {
            let name = match call {
                Call::Evaluate { points, .. } => format!("evaluate {points}"),
                Call::Hvp { .. } => "hvp".into(),
                Call::LossGrad { batch } => format!("loss_grad {}", batch.data.len()),
                Call::Logits { examples } => format!("logits {examples}"),
            };
            self.seen.lock().unwrap().push(name);
        }
        fn training_examples(&self, data: &Dataset) -> Option<Dataset> {
            let labels = data.labels().iter().map(|&l| 1 - l).collect();
            Some(Dataset::new(data.features().to_vec(), labels, data.dim(), 2).unwrap())
        }
    }

    #[test]
    fn forwards_every_call_observes_it_and_changes_only_training_batches() {
        let layout =
            Arc::new(Layout::new([("w".to_string(), vec![1], crate::Role::Weight)]).unwrap());
        let net = Labels(layout);
        let spy = Spy {
            inner: &net,
            seen: Mutex::new(Vec::new()),
        };
        let data = Dataset::new(vec![0.0; 3], vec![1, 1, 0], 1, 2).unwrap();
        let theta = [0f32];
        let weights = crate::network::MeanWeights::new(3);
        let mut g = [0f32];
        assert_eq!(net.loss_grad(&theta, &weights.batch(&data), &mut g), 2.0);
        assert_eq!(spy.loss_grad(&theta, &weights.batch(&data), &mut g), 1.0);
        assert_eq!(spy.evaluate(&[&theta, &theta], &data).len(), 2);
        let plane = Affine {
            center: &theta,
            x: &theta,
            y: None,
        };
        assert_eq!(spy.evaluate_affine(plane, &[(0.0, 0.0)], &data).len(), 1);
        assert_eq!(spy.predict(&theta, &[0.0; 4], 4), vec![0; 4]);
        assert!(Arc::ptr_eq(spy.layout(), net.layout()));
        assert_eq!(spy.num_classes(), 2);
        assert_eq!(
            *spy.seen.lock().unwrap(),
            ["loss_grad 3", "evaluate 2", "evaluate 1", "logits 4"]
        );
    }
}

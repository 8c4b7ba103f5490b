//! Random crops and flips of training batches, as a wrapper around any network.
//!
//! genviz-train's loop knows nothing of images, so the augmentation sits where the batch meets
//! the network: [`Augmented::loss_grad`] crops and flips a copy of each training batch before
//! the inner network sees it, and every other method (evaluations, landscapes, Hessians)
//! passes the images through untouched. The random choices come from the run's seed and the
//! batch's own contents, so a resumed run augments each step exactly as an uninterrupted one,
//! whatever the thread count, with no state to save.

use genviz_core::{rng, Dataset, Fingerprint, Network, Wrapper};
use genviz_data::{Augment, ImageShape};

/// `inner`, with the training batches augmented.
pub struct Augmented<'a> {
    inner: &'a dyn Network,
    augment: Augment,
    shape: ImageShape,
    /// Per channel, the value of a black pixel after normalisation: what the padding shows,
    /// as PyTorch's `RandomCrop(padding=4)` pads the raw image with zeros.
    fill: Vec<f32>,
    seed: u64,
}

impl<'a> Augmented<'a> {
    /// Wraps `inner`; `train` (already normalised) gives each channel's black level, its
    /// smallest value.
    pub fn new(
        inner: &'a dyn Network,
        augment: Augment,
        shape: ImageShape,
        train: &Dataset,
        seed: u64,
    ) -> Self {
        let plane = shape.height * shape.width;
        let fill = (0..shape.channels)
            .map(|c| {
                (0..train.len())
                    .flat_map(|i| train.row(i)[c * plane..(c + 1) * plane].iter().copied())
                    .fold(f32::INFINITY, f32::min)
            })
            .map(|v| if v.is_finite() { v } else { 0.0 })
            .collect();
        Augmented {
            inner,
            augment,
            shape,
            fill,
            seed,
        }
    }

    /// The batch's images cropped and flipped, with a stream chosen by their contents.
    fn augmented(&self, data: &Dataset) -> Dataset {
        let mut rows = data.features().to_vec();
        // Word-wise FNV over the values' bits and the labels: the batch's own contents.
        let mut h = Fingerprint::new();
        for v in rows
            .iter()
            .map(|v| v.to_bits())
            .chain(data.labels().iter().copied())
        {
            h.word(u64::from(v));
        }
        let hash = h.value();
        let plane = self.shape.height * self.shape.width;
        // Shift each channel so that its black level is 0, the value the crop pads with.
        let shift = |rows: &mut [f32], sign: f32| {
            for image in rows.chunks_mut(self.shape.len()) {
                for (c, channel) in image.chunks_mut(plane).enumerate() {
                    channel.iter_mut().for_each(|v| *v += sign * self.fill[c]);
                }
            }
        };
        shift(&mut rows, -1.0);
        let mut r = rng::stream(self.seed, &format!("augment-{hash:016x}"));
        self.augment.apply(&mut rows, self.shape, &mut r);
        shift(&mut rows, 1.0);
        Dataset::new(rows, data.labels().to_vec(), data.dim(), data.num_classes())
            .expect("the same shape as the batch")
    }
}

/// Only training batches change: evaluations, landscapes and Hessians see the images as they are.
impl Wrapper for Augmented<'_> {
    fn inner(&self) -> &dyn Network {
        self.inner
    }

    fn training_examples(&self, data: &Dataset) -> Option<Dataset> {
        Some(self.augmented(data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use genviz_core::network::MeanWeights;
    use genviz_mlp::{init_params, Init, Mlp, MlpSpec};

    fn images() -> (Dataset, ImageShape) {
        let shape = ImageShape {
            channels: 1,
            height: 4,
            width: 4,
        };
        let features: Vec<f32> = (0..3 * 16).map(|i| (i % 7) as f32 - 1.0).collect();
        (Dataset::new(features, vec![0, 1, 0], 16, 2).unwrap(), shape)
    }

    #[test]
    fn batches_change_evaluations_do_not_and_repeat_with_the_seed() {
        let (data, shape) = images();
        let spec = MlpSpec::relu_softmax(16, vec![5], 2);
        let net = Mlp::new(spec.clone()).unwrap();
        let theta = init_params(&spec, Init::GlorotUniform, &mut rng::stream(0, "init"));
        let aug = Augment { pad: 2, flip: true };
        let a = Augmented::new(&net, aug, shape, &data, 7);
        let out = a.augmented(&data);
        assert_ne!(out.features(), data.features(), "nothing was augmented");
        assert_eq!(out.labels(), data.labels());
        // Padding shows the black level (-1 here), never a value absent from the images.
        assert!(out.features().iter().all(|v| data.features().contains(v)));
        assert_eq!(
            out,
            Augmented::new(&net, aug, shape, &data, 7).augmented(&data)
        );
        assert_ne!(
            out,
            Augmented::new(&net, aug, shape, &data, 8).augmented(&data)
        );
        let values = theta.values();
        assert_eq!(
            a.evaluate(&[values], &data)[0].loss,
            net.evaluate(&[values], &data)[0].loss
        );
        let weights = MeanWeights::new(3);
        let batch = weights.batch(&data);
        let mut g = vec![0f32; values.len()];
        let plain = net.loss_grad(values, &batch, &mut g);
        assert_ne!(a.loss_grad(values, &batch, &mut g), plain);
    }
}

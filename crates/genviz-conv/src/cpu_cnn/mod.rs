//! [`CpuCnn`]: the small CNN ([`Arch::Cnn`]) on the CPU, every convolution lowered by im2col
//! onto genviz's own dense kernels (`genviz_mlp::kernels`).
//!
//! Measured against burn's CPU backend on the same forward pass (docs/speed.md), the lowering
//! was about four times faster, so the CPU computes this net here; burn keeps the nets with
//! BatchNorm and the GPU. The parameters are the same flat vector in the same PyTorch layout
//! ([`ConvSpec::layout`]), and the tests hold the two engines to the same logits, losses and
//! gradients.
//!
//! Images go through in chunks of [`CHUNK`], each on one thread, the whole net at a time. A
//! logit never depends on the other images of its chunk (the kernels sum each output column
//! on its own), and a gradient is the chunks' gradients added in chunk order, so every result
//! is the same whatever the thread count.

mod layers;

use crate::arch::Arch;
use crate::net::{softmax_eval, ConvSpec};
use genviz_core::{Batch, Dataset, Error, Eval, Layout, Network, Result};
use genviz_mlp::engine::softmax_loss;
use genviz_mlp::kernels;
use layers::{padded, Planes};
use rayon::prelude::*;
use std::sync::Arc;

/// Images per chunk: one thread takes a chunk through the whole net. The dense layers see
/// the whole chunk at once (their weights are read once per chunk), the convolutions a
/// [`SLICE`] at a time.
pub const CHUNK: usize = 16;

/// Images per convolution pass: two images' im2col matrix of the second convolution (400
/// rows of 392 columns, 627 KB) stays in the core's L2 cache between being written and being
/// multiplied, where a whole chunk's would go out to memory and back. (Measured with
/// `--example cnn_speed`: 1, 2, 4 and 8 images within noise of each other, about 10% faster
/// than whole chunks of 16.)
const SLICE: usize = 2;

/// Kernel side and padding of both convolutions (`5x5`, padding 2: planes keep their size).
const K: usize = 5;
const PAD: usize = 2;

/// The small CNN computed on the CPU by genviz's kernels.
#[derive(Clone, Debug)]
pub struct CpuCnn {
    spec: ConvSpec,
    layout: Arc<Layout>,
    channels: [usize; 2],
    hidden: usize,
    /// Offsets of the eight tensors in the flat vector, in layout order: `conv1.weight`,
    /// `conv1.bias`, `conv2.weight`, `conv2.bias`, `fc1.weight`, `fc1.bias`, `fc2.weight`,
    /// `fc2.bias`.
    ranges: [std::ops::Range<usize>; 8],
}

/// The parameter tensors of one vector, by role in the forward pass.
struct Weights<'a> {
    conv1: (&'a [f32], &'a [f32]),
    conv2: (&'a [f32], &'a [f32]),
    fc1: (&'a [f32], &'a [f32]),
    fc2: (&'a [f32], &'a [f32]),
}

/// One slice's convolution activations, kept for the backward pass.
#[derive(Default)]
struct SliceActs {
    input: Vec<f32>,
    cols1: Vec<f32>,
    act1: Vec<f32>,
    pool1: Vec<f32>,
    cols2: Vec<f32>,
    act2: Vec<f32>,
    pool2: Vec<f32>,
}

/// One chunk's activations and gradient buffers, reused from chunk to chunk on a thread.
/// Every buffer is fully written before it is read.
#[derive(Default)]
struct Scratch {
    framed: Vec<f32>,
    /// The slices' activations: all of them when the backward pass needs them, else only
    /// the first, reused (so that it stays in cache).
    slices: Vec<SliceActs>,
    features: Vec<f32>,
    hidden: Vec<f32>,
    logits: Vec<f32>,
    d_logits: Vec<f32>,
    d_hidden: Vec<f32>,
    d_features: Vec<f32>,
    d_pool2: Vec<f32>,
    d_act2: Vec<f32>,
    d_cols2: Vec<f32>,
    d_pool1: Vec<f32>,
    d_act1: Vec<f32>,
    /// One slice's convolution gradients, added into the chunk's.
    d_conv: Vec<f32>,
}

/// `buffer` resized to `len` (contents left as they are: callers overwrite them).
fn sized(buffer: &mut Vec<f32>, len: usize) -> &mut [f32] {
    buffer.resize(len, 0.0);
    &mut buffer[..len]
}

/// The planes of a slice at each stage of the net.
struct Shapes {
    input: Planes,
    conv1: Planes,
    conv2: Planes,
    pooled2: Planes,
}

impl Shapes {
    /// The first pooling's output, with the first convolution's `channels`.
    fn pooled1(&self, channels: usize) -> Planes {
        Planes {
            channels,
            ..self.conv2
        }
    }
}

impl CpuCnn {
    /// The network of `spec`, which must be an [`Arch::Cnn`].
    ///
    /// # Errors
    /// When the spec is invalid or not the small CNN's architecture.
    pub fn new(spec: ConvSpec) -> Result<Self> {
        let Arch::Cnn { channels, hidden } = spec.arch else {
            return Err(Error::invalid(format!(
                "the CPU convolution engine computes the cnn architecture, not {:?}",
                spec.arch
            )));
        };
        let layout = Arc::new(spec.layout()?);
        let range = |name: &str| {
            layout
                .get(name)
                .map(|t| t.range())
                .expect("the cnn's layout names its eight tensors")
        };
        let ranges = [
            "conv1.weight",
            "conv1.bias",
            "conv2.weight",
            "conv2.bias",
            "fc1.weight",
            "fc1.bias",
            "fc2.weight",
            "fc2.bias",
        ]
        .map(range);
        // The backward pass splits the gradient at these offsets.
        assert!(
            ranges[0].start == 0
                && ranges.windows(2).all(|p| p[0].end == p[1].start)
                && ranges[7].end == layout.len(),
            "the cnn's tensors fill its layout in forward order"
        );
        Ok(CpuCnn {
            spec,
            layout,
            channels,
            hidden,
            ranges,
        })
    }

    /// The spec.
    pub fn spec(&self) -> &ConvSpec {
        &self.spec
    }

    fn weights<'a>(&self, theta: &'a [f32]) -> Weights<'a> {
        assert_eq!(
            theta.len(),
            self.layout.len(),
            "parameter vector of {} values for a {}-parameter conv net",
            theta.len(),
            self.layout.len()
        );
        let t = |k: usize| &theta[self.ranges[k].clone()];
        Weights {
            conv1: (t(0), t(1)),
            conv2: (t(2), t(3)),
            fc1: (t(4), t(5)),
            fc2: (t(6), t(7)),
        }
    }

    fn shapes(&self, images: usize) -> Shapes {
        let [c, h, w] = self.spec.input;
        let input = Planes {
            channels: c,
            images,
            height: h,
            width: w,
        };
        let conv1 = Planes {
            channels: self.channels[0],
            ..input
        };
        let conv2 = Planes {
            channels: self.channels[1],
            ..conv1.pooled()
        };
        Shapes {
            input,
            conv1,
            conv2,
            pooled2: conv2.pooled(),
        }
    }

    /// The forward pass of `images` NCHW rows; the logits are left in `s.logits`,
    /// `[classes, padded(images)]`, and the activations in `s` (every slice's when `keep`).
    fn forward(&self, w: &Weights<'_>, rows: &[f32], images: usize, keep: bool, s: &mut Scratch) {
        let per: usize = self.spec.input.iter().product();
        let cols = padded(images);
        let pooled = self.shapes(1).pooled2;
        let n_features = pooled.channels * pooled.area();
        let slices = images.div_ceil(SLICE);
        s.slices.resize_with(
            s.slices.len().max(if keep { slices } else { 1 }),
            Default::default,
        );
        s.features.resize(n_features * cols, 0.0);
        for j in 0..slices {
            let first = j * SLICE;
            let count = SLICE.min(images - first);
            let acts = &mut s.slices[if keep { j } else { 0 }];
            let sh = self.conv_forward(
                w,
                &rows[first * per..(first + count) * per],
                count,
                &mut s.framed,
                acts,
            );
            layers::planes_to_features(&acts.pool2, sh.pooled2, first, cols, &mut s.features);
        }
        for row in s.features.chunks_exact_mut(cols) {
            row[images..].fill(0.0);
        }
        let hidden = sized(&mut s.hidden, self.hidden * cols);
        kernels::linear_forward_relu(w.fc1.0, w.fc1.1, &s.features, hidden, n_features, cols);
        let logits = sized(&mut s.logits, self.spec.num_classes * cols);
        kernels::linear_forward(w.fc2.0, w.fc2.1, hidden, logits, self.hidden, cols);
    }

    /// Both convolutions (with ReLU and pooling) of `images` NCHW rows, into `acts`.
    fn conv_forward(
        &self,
        w: &Weights<'_>,
        rows: &[f32],
        images: usize,
        framed: &mut Vec<f32>,
        acts: &mut SliceActs,
    ) -> Shapes {
        let sh = self.shapes(images);
        let [c0, c1] = [sh.input.channels, self.channels[0]];
        let input = sized(&mut acts.input, sh.input.len());
        layers::images_to_planes(rows, sh.input, input);
        let cols1 = sized(&mut acts.cols1, c0 * K * K * sh.input.stride());
        layers::im2col(input, sh.input, K, PAD, framed, cols1);
        let act1 = sized(&mut acts.act1, sh.conv1.len());
        let p1 = sh.conv1.stride();
        kernels::linear_forward_relu(w.conv1.0, w.conv1.1, cols1, act1, c0 * K * K, p1);
        let pooled1 = sh.pooled1(c1);
        let pool1 = sized(&mut acts.pool1, pooled1.len());
        layers::max_pool(act1, sh.conv1, pool1);
        let cols2 = sized(&mut acts.cols2, c1 * K * K * pooled1.stride());
        layers::im2col(pool1, pooled1, K, PAD, framed, cols2);
        let act2 = sized(&mut acts.act2, sh.conv2.len());
        let p2 = sh.conv2.stride();
        kernels::linear_forward_relu(w.conv2.0, w.conv2.1, cols2, act2, c1 * K * K, p2);
        let pool2 = sized(&mut acts.pool2, sh.pooled2.len());
        layers::max_pool(act2, sh.conv2, pool2);
        sh
    }

    /// The backward pass from `s.d_logits` through the activations of the last
    /// [`Self::forward`] (which kept them); the gradient of every tensor is written into
    /// `grad` (layout order).
    fn backward(&self, w: &Weights<'_>, images: usize, s: &mut Scratch, grad: &mut [f32]) {
        let cols = padded(images);
        let pooled = self.shapes(1).pooled2;
        let n_features = pooled.channels * pooled.area();
        let classes = self.spec.num_classes;
        let [_, _, _, _, r4, r5, r6, r7] = self.ranges.clone();
        let (head, rest) = grad.split_at_mut(r6.start);
        let (dw6, db7) = rest.split_at_mut(r7.start - r6.start);
        kernels::grad_weights(&s.d_logits, &s.hidden, dw6, db7, self.hidden, cols);
        let d_hidden = sized(&mut s.d_hidden, self.hidden * cols);
        kernels::linear_backward_input_relu(
            w.fc2.0,
            &s.d_logits,
            &s.hidden,
            d_hidden,
            self.hidden,
            classes,
            cols,
        );
        let (conv, fc1) = head.split_at_mut(r4.start);
        let (dw4, db5) = fc1.split_at_mut(r5.start - r4.start);
        kernels::grad_weights(d_hidden, &s.features, dw4, db5, n_features, cols);
        let d_features = sized(&mut s.d_features, n_features * cols);
        kernels::linear_backward_input(
            w.fc1.0,
            d_hidden,
            d_features,
            n_features,
            self.hidden,
            cols,
        );
        // The convolutions slice by slice, their gradients added in slice order.
        let mut d_conv = std::mem::take(&mut s.d_conv);
        d_conv.resize(conv.len(), 0.0);
        for j in 0..images.div_ceil(SLICE) {
            let first = j * SLICE;
            let count = SLICE.min(images - first);
            let target = if j == 0 { &mut *conv } else { &mut d_conv[..] };
            self.conv_backward(w, j, first, count, cols, s, target);
            if j > 0 {
                for (g, d) in conv.iter_mut().zip(&d_conv) {
                    *g += d;
                }
            }
        }
        s.d_conv = d_conv;
    }

    /// The gradients of both convolutions' weights and biases from slice `j` (images
    /// `first..first + images` of the chunk), written into `grad` (the layout's first four
    /// tensors), from the features' gradient in `s.d_features` (`cols` columns).
    #[allow(clippy::too_many_arguments)]
    fn conv_backward(
        &self,
        w: &Weights<'_>,
        j: usize,
        first: usize,
        images: usize,
        cols: usize,
        s: &mut Scratch,
        grad: &mut [f32],
    ) {
        let sh = self.shapes(images);
        let [c0, c1] = [sh.input.channels, self.channels[0]];
        let [r0, r1, r2, r3, ..] = self.ranges.clone();
        let acts = &s.slices[j];
        let d_pool2 = sized(&mut s.d_pool2, sh.pooled2.len());
        layers::features_to_planes(&s.d_features, first, cols, sh.pooled2, d_pool2);
        let d_act2 = sized(&mut s.d_act2, sh.conv2.len());
        layers::max_pool_relu_backward(&acts.act2, d_pool2, sh.conv2, d_act2);
        let (conv1, conv2) = grad.split_at_mut(r2.start);
        let (dw2, db3) = conv2[..r3.end - r2.start].split_at_mut(r3.start - r2.start);
        let p2 = sh.conv2.stride();
        kernels::grad_weights(d_act2, &acts.cols2, dw2, db3, c1 * K * K, p2);
        let d_cols2 = sized(&mut s.d_cols2, c1 * K * K * p2);
        kernels::linear_backward_input(
            w.conv2.0,
            d_act2,
            d_cols2,
            c1 * K * K,
            sh.conv2.channels,
            p2,
        );
        let pooled1 = sh.pooled1(c1);
        let d_pool1 = sized(&mut s.d_pool1, pooled1.len());
        layers::col2im(d_cols2, pooled1, K, PAD, d_pool1);
        let d_act1 = sized(&mut s.d_act1, sh.conv1.len());
        layers::max_pool_relu_backward(&acts.act1, d_pool1, sh.conv1, d_act1);
        let (dw0, db1) = conv1.split_at_mut(r1.start - r0.start);
        let p1 = sh.conv1.stride();
        kernels::grad_weights(d_act1, &acts.cols1, dw0, db1, c0 * K * K, p1);
    }

    /// Logits `[n, classes]` of `n` NCHW rows, chunk by chunk over the threads.
    fn logits_rows(&self, theta: &[f32], inputs: &[f32], n: usize) -> Vec<f32> {
        let w = self.weights(theta);
        let per: usize = self.spec.input.iter().product();
        assert_eq!(
            inputs.len(),
            n * per,
            "inputs are not {n} images of {per} values"
        );
        let classes = self.spec.num_classes;
        let mut out = vec![0f32; n * classes];
        out.par_chunks_mut(CHUNK * classes)
            .enumerate()
            .for_each_init(Scratch::default, |s, (chunk, dst)| {
                let images = dst.len() / classes;
                let first = chunk * CHUNK;
                self.forward(
                    &w,
                    &inputs[first * per..(first + images) * per],
                    images,
                    false,
                    s,
                );
                let cols = padded(images);
                for (i, row) in dst.chunks_exact_mut(classes).enumerate() {
                    for (k, v) in row.iter_mut().enumerate() {
                        *v = s.logits[k * cols + i];
                    }
                }
            });
        out
    }
}

impl Network for CpuCnn {
    fn layout(&self) -> &Arc<Layout> {
        &self.layout
    }

    fn num_classes(&self) -> usize {
        self.spec.num_classes
    }

    fn evaluate(&self, thetas: &[&[f32]], data: &Dataset) -> Vec<Eval> {
        thetas
            .iter()
            .map(|theta| {
                softmax_eval(data, self.spec.num_classes, || {
                    self.logits_rows(theta, data.features(), data.len())
                })
            })
            .collect()
    }

    fn loss_grad(&self, theta: &[f32], batch: &Batch<'_>, grad: &mut [f32]) -> f64 {
        grad.fill(0.0);
        let data = batch.data;
        if data.is_empty() {
            return 0.0;
        }
        let w = self.weights(theta);
        let per = data.dim();
        let classes = self.spec.num_classes;
        let firsts: Vec<usize> = (0..data.len()).step_by(CHUNK).collect();
        let parts: Vec<(f64, Vec<f32>)> = firsts
            .par_iter()
            .map_init(Scratch::default, |s, &first| {
                let images = CHUNK.min(data.len() - first);
                let rows = &data.features()[first * per..(first + images) * per];
                self.forward(&w, rows, images, true, s);
                let cols = padded(images);
                let d_logits = sized(&mut s.d_logits, classes * cols);
                d_logits.fill(0.0);
                let mut z = vec![0f64; classes];
                let mut dz = vec![0f64; classes];
                let mut loss = 0.0;
                for i in 0..images {
                    let e = first + i;
                    for (k, v) in z.iter_mut().enumerate() {
                        *v = f64::from(s.logits[k * cols + i]);
                    }
                    let y = data.labels()[e] as usize;
                    let (l, _) = softmax_loss(&z, y, batch.reverse[e], &mut dz);
                    let coef = f64::from(batch.coef[e]);
                    loss += coef * l;
                    for (k, &d) in dz.iter().enumerate() {
                        d_logits[k * cols + i] = (coef * d) as f32;
                    }
                }
                let mut part = vec![0f32; self.layout.len()];
                self.backward(&w, images, s, &mut part);
                (loss, part)
            })
            .collect();
        let mut loss = 0.0;
        for (l, part) in parts {
            loss += l;
            for (g, p) in grad.iter_mut().zip(&part) {
                *g += p;
            }
        }
        loss
    }

    fn logits(&self, theta: &[f32], inputs: &[f32], n: usize) -> Vec<f32> {
        self.logits_rows(theta, inputs, n)
    }
}

#[cfg(test)]
mod tests;

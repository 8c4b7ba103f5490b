//! [`ConvNet`]: a burn-computed network seen by genviz as a function of a flat parameter vector.

use crate::arch::{forward, Arch, BnMode, Ctx};
use burn::tensor::activation::log_softmax;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData};
use genviz_core::{Batch, Dataset, Error, Eval, Layout, Network, Params, Result, Role};
use rand_distr::{Distribution, Normal, Uniform};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// Metadata key under which a conv net's [`ConvSpec`] is stored in its safetensors files.
pub const CONV_SPEC_METADATA_KEY: &str = "genviz.conv";

/// Images per forward pass when evaluating: large enough to keep the backend busy, small
/// enough that a ResNet-18's activations fit a few GiB.
pub const EVAL_BATCH: usize = 500;

/// Everything that fixes a conv net's parameter layout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvSpec {
    /// The architecture.
    pub arch: Arch,
    /// Input images `[channels, height, width]`; data rows are these, NCHW-flattened.
    pub input: [usize; 3],
    /// Number of classes.
    pub num_classes: usize,
}

impl ConvSpec {
    /// The parameter layout, recorded by running the forward pass once on a blank image.
    pub fn layout(&self) -> Result<Layout> {
        self.arch.validate(self.input)?;
        if self.num_classes < 2 {
            return Err(Error::invalid(
                "model: a classifier needs at least 2 classes",
            ));
        }
        type Probe = burn::backend::Flex;
        let device = Default::default();
        let mut ctx: Ctx<'_, Probe> = Ctx {
            device,
            record: Some(Vec::new()),
            tensors: None,
            bn: BnMode::Running,
            batch_stats: None,
        };
        let [c, h, w] = self.input;
        let x = Tensor::<Probe, 1>::from_data(
            TensorData::new(vec![0f32; c * h * w], [c * h * w]),
            &ctx.device,
        )
        .reshape([1, c, h, w]);
        let _ = forward(&self.arch, self.num_classes, &mut ctx, x);
        Layout::new(ctx.record.unwrap_or_default())
    }
}

/// Initial parameters: convolution kernels He-normal (`std = sqrt(2 / fan_in)`, as torchvision's
/// ResNets and Li et al.'s code), dense kernels and every bias PyTorch's default
/// `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`, BatchNorm scale 1 and shift 0, running mean 0 and
/// variance 1.
pub fn init_params(layout: &Arc<Layout>, rng: &mut genviz_core::rng::Rng) -> Params {
    let mut params = Params::zeros(layout.clone());
    let mut fan_in: HashMap<String, usize> = HashMap::new();
    for t in layout.tensors() {
        let prefix = t.name.rsplit_once('.').map_or("", |(p, _)| p).to_string();
        let values = &mut params.values_mut()[t.range()];
        match t.role {
            Role::Weight => {
                let fan: usize = t.shape[1..].iter().product();
                fan_in.insert(prefix, fan);
                if t.shape.len() == 4 {
                    let normal = Normal::new(0.0, (2.0 / fan as f64).sqrt()).expect("finite std");
                    values
                        .iter_mut()
                        .for_each(|v| *v = normal.sample(rng) as f32);
                } else {
                    let bound = 1.0 / (fan as f64).sqrt();
                    let uniform = Uniform::new_inclusive(-bound, bound);
                    values
                        .iter_mut()
                        .for_each(|v| *v = uniform.sample(rng) as f32);
                }
            }
            Role::Bias => {
                let fan = fan_in.get(&prefix).copied().unwrap_or(1);
                let bound = 1.0 / (fan as f64).sqrt();
                let uniform = Uniform::new_inclusive(-bound, bound);
                values
                    .iter_mut()
                    .for_each(|v| *v = uniform.sample(rng) as f32);
            }
            Role::NormScale => values.fill(1.0),
            Role::NormShift => values.fill(0.0),
            Role::RunningStat => values.fill(if t.name.ends_with("running_var") {
                1.0
            } else {
                0.0
            }),
        }
    }
    params
}

/// A convolutional network computed by burn on backend `B` (with autodiff; evaluation runs on
/// its inner backend, without the tape).
///
/// Parameters live in genviz's flat vector in PyTorch's names and layouts; each call uploads
/// them, so the same object evaluates any number of parameter vectors. BatchNorm is evaluated
/// with the running statistics stored in the vector (PyTorch's `eval()`) unless
/// [`ConvNet::with_eval_bn`] asks for batch statistics; [`ConvNet::loss_grad`] uses batch
/// statistics, as training does, and leaves the running statistics' gradient at zero (see
/// [`ConvNet::recompute_bn`] to refresh them).
#[derive(Clone, Debug)]
pub struct ConvNet<B: AutodiffBackend> {
    spec: ConvSpec,
    layout: Arc<Layout>,
    device: B::Device,
    eval_bn: BnMode,
    eval_batch: usize,
}

impl<B: AutodiffBackend> ConvNet<B> {
    /// The network of `spec` on `device`.
    pub fn new(spec: ConvSpec, device: B::Device) -> Result<Self> {
        let layout = Arc::new(spec.layout()?);
        Ok(ConvNet {
            spec,
            layout,
            device,
            eval_bn: BnMode::Running,
            eval_batch: EVAL_BATCH,
        })
    }

    /// Evaluates BatchNorm with `mode` (batch statistics suit points whose running statistics
    /// are stale, such as interpolations between two nets).
    pub fn with_eval_bn(mut self, mode: BnMode) -> Self {
        self.eval_bn = mode;
        self
    }

    /// The spec.
    pub fn spec(&self) -> &ConvSpec {
        &self.spec
    }

    fn check_len(&self, theta: &[f32]) {
        assert_eq!(
            theta.len(),
            self.layout.len(),
            "parameter vector of {} values for a {}-parameter conv net",
            theta.len(),
            self.layout.len()
        );
    }

    /// One tensor per layout entry on backend `C`; trainable ones marked by `mark`.
    fn upload<C: Backend>(
        &self,
        theta: &[f32],
        device: &C::Device,
        mark: impl Fn(Tensor<C, 1>, Role) -> Tensor<C, 1>,
    ) -> HashMap<String, Tensor<C, 1>> {
        self.check_len(theta);
        self.layout
            .tensors()
            .iter()
            .map(|t| {
                let data = TensorData::new(theta[t.range()].to_vec(), [t.len()]);
                (
                    t.name.clone(),
                    mark(Tensor::from_data(data, device), t.role),
                )
            })
            .collect()
    }

    fn images<C: Backend>(&self, rows: &[f32], n: usize, device: &C::Device) -> Tensor<C, 4> {
        let [c, h, w] = self.spec.input;
        assert_eq!(
            rows.len(),
            n * c * h * w,
            "inputs are not {n} images of {c}x{h}x{w}"
        );
        Tensor::<C, 1>::from_data(TensorData::new(rows.to_vec(), [rows.len()]), device)
            .reshape([n, c, h, w])
    }

    /// Logits of `n` NCHW-flattened images, computed in batches without the autodiff tape.
    fn logits_inner(&self, theta: &[f32], inputs: &[f32], n: usize, bn: BnMode) -> Vec<f32> {
        let device = self.device.clone();
        let tensors = self.upload::<B::InnerBackend>(theta, &device, |t, _| t);
        let per = self.spec.input.iter().product::<usize>();
        let mut out = Vec::with_capacity(n * self.spec.num_classes);
        let mut start = 0;
        while start < n {
            let m = self.eval_batch.min(n - start);
            let x =
                self.images::<B::InnerBackend>(&inputs[start * per..(start + m) * per], m, &device);
            let mut ctx = Ctx {
                device: device.clone(),
                record: None,
                tensors: Some(&tensors),
                bn,
                batch_stats: None,
            };
            let z = forward(&self.spec.arch, self.spec.num_classes, &mut ctx, x);
            out.extend(to_vec(z.into_data()));
            start += m;
        }
        out
    }

    /// The running statistics recomputed from `data` (PyTorch's `update_bn`: one pass with
    /// batch statistics, the cumulative average of every batch's mean and unbiased variance,
    /// batches of `batch` images in order). Returns `theta` with those statistics in place.
    pub fn recompute_bn(&self, theta: &[f32], data: &Dataset, batch: usize) -> Vec<f32> {
        let mut out = theta.to_vec();
        if !self.spec.arch.has_batch_norm() || data.is_empty() {
            return out;
        }
        let device = self.device.clone();
        let tensors = self.upload::<B::InnerBackend>(theta, &device, |t, _| t);
        let mut sums: HashMap<String, BnSums> = HashMap::new();
        let mut batches = 0usize;
        let per = data.dim();
        let n = data.len();
        let mut start = 0;
        while start < n {
            let m = batch.max(2).min(n - start);
            let x = self.images::<B::InnerBackend>(
                &data.features()[start * per..(start + m) * per],
                m,
                &device,
            );
            let mut ctx = Ctx {
                device: device.clone(),
                record: None,
                tensors: Some(&tensors),
                bn: BnMode::Batch,
                batch_stats: Some(Vec::new()),
            };
            let _ = forward(&self.spec.arch, self.spec.num_classes, &mut ctx, x);
            for (name, mean, var) in ctx.batch_stats.unwrap_or_default() {
                sums.entry(name)
                    .or_default()
                    .add(&to_vec(mean.into_data()), &to_vec(var.into_data()));
            }
            batches += 1;
            start += m;
        }
        for (name, sums) in sums {
            let (mean, var) = sums.average(batches);
            for (suffix, values) in [("running_mean", mean), ("running_var", var)] {
                if let Some(t) = self.layout.get(&format!("{name}.{suffix}")) {
                    for (o, v) in out[t.range()].iter_mut().zip(values) {
                        *o = v;
                    }
                }
            }
        }
        out
    }
}

/// One BatchNorm layer's batch statistics summed over batches in `f64`, to be averaged into
/// running statistics (Garipov et al.'s `update_bn`: the mean of the batch means and of the
/// batch variances).
#[derive(Clone, Debug, Default)]
pub struct BnSums {
    mean: Vec<f64>,
    var: Vec<f64>,
}

impl BnSums {
    /// Adds one batch's mean and variance per channel.
    pub fn add(&mut self, mean: &[f32], var: &[f32]) {
        for (sums, values) in [(&mut self.mean, mean), (&mut self.var, var)] {
            if sums.is_empty() {
                sums.resize(values.len(), 0.0);
            }
            for (s, &v) in sums.iter_mut().zip(values) {
                *s += f64::from(v);
            }
        }
    }

    /// The means over `batches` batches: `(running_mean, running_var)`.
    pub fn average(&self, batches: usize) -> (Vec<f32>, Vec<f32>) {
        let avg = |v: &[f64]| v.iter().map(|&s| (s / batches as f64) as f32).collect();
        (avg(&self.mean), avg(&self.var))
    }
}

fn to_vec(data: TensorData) -> Vec<f32> {
    data.convert::<f32>()
        .into_vec::<f32>()
        .expect("a float tensor converts to f32")
}

/// `(loss, correct)` summed over the examples from their logits `[n, classes]`, in `f64`:
/// cross-entropy `logsumexp(z) - z_y`, and whether the largest logit (the first of equals)
/// is the label's. Any family scoring softmax logits on the host uses this (the ONNX path
/// too), so the same logits give the same loss.
pub fn softmax_score(logits: &[f32], labels: &[u32], classes: usize) -> (f64, usize) {
    let mut loss = 0.0;
    let mut correct = 0;
    for (z, &y) in logits.chunks(classes).zip(labels) {
        let max = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let lse = f64::from(max)
            + z.iter()
                .map(|&v| (f64::from(v) - f64::from(max)).exp())
                .sum::<f64>()
                .ln();
        loss += lse - f64::from(z[y as usize]);
        let best = z
            .iter()
            .enumerate()
            .fold(0, |b, (k, &v)| if v > z[b] { k } else { b });
        correct += usize::from(best == y as usize);
    }
    (loss, correct)
}

/// Mean loss and accuracy on `data` from the logits that `logits` computes for its rows
/// ([`softmax_score`]); an empty data set scores [`Eval::default`] without computing any.
pub(crate) fn softmax_eval(
    data: &Dataset,
    classes: usize,
    logits: impl FnOnce() -> Vec<f32>,
) -> Eval {
    if data.is_empty() {
        return Eval::default();
    }
    let (loss, correct) = softmax_score(&logits(), data.labels(), classes);
    Eval {
        loss: loss / data.len() as f64,
        accuracy: correct as f64 / data.len() as f64,
    }
}

/// The weighted loss of a batch as a scalar tensor: `sum_i coef_i l_i` with `l_i` the
/// cross-entropy `-log p_y`, or on reverse rows `-log(1 - p_y) = lse(z) - lse_{k != y}(z)`
/// (computed from logits, so it stays finite when `p_y` rounds to 1). `labels`, `coef` and
/// `reverse` have one entry per row of `logits`.
pub fn softmax_batch_loss<C: Backend>(
    logits: Tensor<C, 2>,
    labels: &[u32],
    coef: &[f32],
    reverse: &[bool],
    device: &C::Device,
) -> Tensor<C, 1> {
    let [n, k] = logits.dims();
    let mut onehot = vec![0f32; n * k];
    for (i, &y) in labels.iter().enumerate() {
        onehot[i * k + y as usize] = 1.0;
    }
    let onehot = Tensor::<C, 2>::from_data(TensorData::new(onehot, [n, k]), device);
    let coef = Tensor::<C, 2>::from_data(TensorData::new(coef.to_vec(), [n, 1]), device);
    let clean = -(log_softmax(logits.clone(), 1) * onehot.clone()).sum_dim(1);
    if !reverse.iter().any(|&r| r) {
        return (clean * coef).sum();
    }
    let lse = |z: Tensor<C, 2>| {
        let m = z.clone().max_dim(1).detach();
        (z - m.clone()).exp().sum_dim(1).log() + m
    };
    // Masking the true class with a large negative offset drops it from the sum.
    let rest = lse(logits.clone() - onehot * 1e9);
    let reverse_loss = lse(logits) - rest;
    let r: Vec<f32> = reverse.iter().map(|&r| f32::from(u8::from(r))).collect();
    let r = Tensor::<C, 2>::from_data(TensorData::new(r, [n, 1]), device);
    let per = clean * (r.clone().neg() + 1.0) + reverse_loss * r;
    (per * coef).sum()
}

impl<B: AutodiffBackend> Network for ConvNet<B> {
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
                    self.logits_inner(theta, data.features(), data.len(), self.eval_bn)
                })
            })
            .collect()
    }

    /// The running statistics recomputed ([`ConvNet::recompute_bn`]) for a net with
    /// BatchNorm; `None` without.
    fn estimate_statistics(&self, theta: &[f32], data: &Dataset, batch: usize) -> Option<Vec<f32>> {
        self.spec
            .arch
            .has_batch_norm()
            .then(|| self.recompute_bn(theta, data, batch))
    }

    fn loss_grad(&self, theta: &[f32], batch: &Batch<'_>, grad: &mut [f32]) -> f64 {
        let data = batch.data;
        grad.fill(0.0);
        if data.is_empty() {
            return 0.0;
        }
        let tensors = self.upload::<B>(theta, &self.device, |t, role| {
            if role == Role::RunningStat {
                t
            } else {
                t.require_grad()
            }
        });
        let x = self.images::<B>(data.features(), data.len(), &self.device);
        let bn = if self.spec.arch.has_batch_norm() {
            BnMode::Batch
        } else {
            BnMode::Running
        };
        let mut ctx = Ctx {
            device: self.device.clone(),
            record: None,
            tensors: Some(&tensors),
            bn,
            batch_stats: None,
        };
        let logits = forward(&self.spec.arch, self.spec.num_classes, &mut ctx, x);
        let loss = softmax_batch_loss(
            logits,
            batch.data.labels(),
            batch.coef,
            batch.reverse,
            &self.device,
        );
        let grads = loss.backward();
        let value = to_vec(loss.into_data())[0];
        for t in self.layout.tensors() {
            if t.role == Role::RunningStat {
                continue;
            }
            if let Some(g) = tensors[&t.name].grad(&grads) {
                grad[t.range()].copy_from_slice(&to_vec(g.into_data()));
            }
        }
        f64::from(value)
    }

    fn logits(&self, theta: &[f32], inputs: &[f32], n: usize) -> Vec<f32> {
        self.logits_inner(theta, inputs, n, self.eval_bn)
    }
}

/// Reads a conv net's spec from a safetensors file's metadata and its parameters by name.
pub fn conv_from_tensors(
    file: &genviz_core::io::TensorFile,
    path: &std::path::Path,
) -> Result<(ConvSpec, Params)> {
    let text = file.metadata.get(CONV_SPEC_METADATA_KEY).ok_or_else(|| {
        Error::bad_file(
            path,
            format!("has no `{CONV_SPEC_METADATA_KEY}` metadata naming its architecture"),
        )
    })?;
    let spec: ConvSpec = serde_json::from_str(text).map_err(|e| {
        Error::bad_file(
            path,
            format!("metadata `{CONV_SPEC_METADATA_KEY}` is not a conv net spec: {e}"),
        )
    })?;
    let layout = Arc::new(spec.layout()?);
    // PyTorch's BatchNorm also saves an integer step counter that no computation reads.
    let mut kept = file.clone();
    kept.tensors
        .retain(|t| !t.name.ends_with("num_batches_tracked"));
    let params = genviz_core::io::params_from_tensors(layout, &kept, path)?;
    Ok((spec, params))
}

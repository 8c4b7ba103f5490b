//! [`OnnxNet`]: an [`OnnxModel`] on a burn backend, seen by genviz as a [`Network`].

use crate::model::{Head, OnnxModel};
use crate::native::NativeNet;
use crate::ops::{BatchNorm, Dev};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData, TensorPrimitive};
use genviz_core::network::{central_difference_hvp, evaluate_affine_points};
use genviz_core::{Affine, Batch, Dataset, Error, Eval, Layout, Network, Result};
use std::collections::HashMap;
use std::sync::Arc;

/// burn's CPU backend with the autodiff tape: what genviz evaluates ONNX models with by
/// default.
pub type CpuBackend = burn::backend::Autodiff<burn::backend::Flex>;

/// burn's CUDA backend with the autodiff tape (the `cuda` feature).
#[cfg(feature = "cuda")]
pub type CudaBackend = burn::backend::Autodiff<burn::backend::Cuda>;

/// Where BatchNorm statistics come from at each evaluated point.
#[derive(Clone, Debug)]
enum Stats {
    /// The file's running statistics.
    Stored,
    /// Recomputed from `data` in batches of `batch` rows at every point.
    Recompute { data: Arc<Dataset>, batch: usize },
}

/// An ONNX model computed by burn on backend `B` (evaluation runs on its inner backend,
/// without the tape; gradients use the tape).
///
/// Each call uploads the parameter vector, so one object evaluates any number of points.
/// The loss is the model's own: BatchNorm with the stored running statistics (or, after
/// [`OnnxNet::with_recomputed_bn`], statistics recomputed at each point and then held fixed),
/// the same for `evaluate`, `loss_grad` and so for `hvp`, so that the Hessian is that of the
/// function the landscape draws.
#[derive(Clone, Debug)]
pub struct OnnxNet<B: AutodiffBackend> {
    model: Arc<OnnxModel>,
    device: B::Device,
    stats: Stats,
    /// genviz's own engine for a graph it recognises, on the CPU (see [`OnnxNet::new`]).
    native: Option<Arc<NativeNet>>,
}

fn to_vec(data: TensorData) -> Vec<f32> {
    data.convert::<f32>()
        .into_vec::<f32>()
        .expect("a float tensor converts to f32")
}

/// `(loss, correct)` summed over the examples, in `f64`, from logits `[n, outputs]`.
fn score(logits: &[f32], labels: &[u32], outputs: usize, head: Head) -> (f64, usize) {
    if head == Head::Softmax {
        return genviz_conv::softmax_score(logits, labels, outputs);
    }
    let mut loss = 0.0;
    let mut correct = 0;
    for (z, &y) in logits.chunks(outputs).zip(labels) {
        let z = f64::from(z[0]);
        // -log sigmoid(+-z) = softplus(-+z), computed without overflow.
        let m = if y == 1 { -z } else { z };
        loss += m.max(0.0) + (-m.abs()).exp().ln_1p();
        correct += usize::from((z > 0.0) == (y == 1));
    }
    (loss, correct)
}

/// The weighted loss of a batch as a scalar tensor, with genviz's poisoned-objective
/// convention: `sum_i coef_i l_i`, where `l_i` is the cross-entropy, or on `reverse` rows
/// `-log(1 - p_y)`.
fn batch_loss<C: Backend>(
    logits: Tensor<C, 2>,
    labels: &[u32],
    coef: &[f32],
    reverse: &[bool],
    head: Head,
    device: &C::Device,
) -> Tensor<C, 1> {
    if head == Head::Sigmoid {
        let n = logits.dims()[0];
        let coef = Tensor::<C, 2>::from_data(TensorData::new(coef.to_vec(), [n, 1]), device);
        // -log sigmoid(s z) = softplus(-s z) with s = +1 for the positive class; the reverse
        // loss -log(1 - p_y) flips the sign.
        let signs: Vec<f32> = labels
            .iter()
            .zip(reverse)
            .map(|(&y, &r)| if (y == 1) != r { -1.0 } else { 1.0 })
            .collect();
        let signs = Tensor::<C, 2>::from_data(TensorData::new(signs, [n, 1]), device);
        let m = logits * signs;
        let softplus = m.clone().clamp_min(0.0) + m.abs().neg().exp().log1p();
        return (softplus * coef).sum();
    }
    genviz_conv::softmax_batch_loss(logits, labels, coef, reverse, device)
}

/// Whether `B` is burn's CPU backend (under the tape).
fn on_cpu<B: AutodiffBackend>() -> bool {
    std::any::TypeId::of::<B::InnerBackend>() == std::any::TypeId::of::<burn::backend::Flex>()
}

impl<B: AutodiffBackend> OnnxNet<B> {
    /// The model on `device`, with the file's BatchNorm statistics.
    ///
    /// On the CPU, two shapes of graph run on genviz's own engines rather than through burn,
    /// computing the same function with the same parameters under their ONNX names:
    /// - only dense layers (`Gemm`, or `MatMul` and a bias `Add`, with one activation,
    ///   `Relu`, `Tanh` or `LeakyRelu`, between every two): the native MLP engine, with exact
    ///   Hessian-vector products;
    /// - the small CNN (`--model cnn`: two 5x5 convolutions with padding 2, each with a ReLU
    ///   and a 2x2 max pooling, then two dense layers with a ReLU between): the CPU
    ///   convolution engine ([`genviz_conv::CpuCnn`]).
    ///
    /// [`OnnxNet::interpreted`] turns this off; [`OnnxNet::native_engine`] says which.
    pub fn new(model: Arc<OnnxModel>, device: B::Device) -> Self {
        let native = if on_cpu::<B>() {
            model.native.clone()
        } else {
            None
        };
        OnnxNet {
            model,
            device,
            stats: Stats::Stored,
            native,
        }
    }

    /// Every node through burn's operations, even for a graph a native engine would run (to
    /// compare the two, or to measure the interpreter).
    pub fn interpreted(mut self) -> Self {
        self.native = None;
        self
    }

    /// Whether this network runs on one of genviz's own engines (see [`OnnxNet::new`]).
    pub fn runs_natively(&self) -> bool {
        self.native.is_some()
    }

    /// Which of genviz's own engines computes this network: `Some("mlp")`, `Some("cnn")`, or
    /// `None` when burn interprets the graph.
    pub fn native_engine(&self) -> Option<&'static str> {
        self.native.as_ref().map(|n| n.engine_name())
    }

    /// Recomputes BatchNorm's running statistics from `train` (in batches of `batch` rows)
    /// at every evaluated point, as Garipov et al.'s `update_bn`.
    ///
    /// # Errors
    /// A model without BatchNorm, a batch under 2 rows, or data that does not fit the model.
    pub fn with_recomputed_bn(mut self, train: Arc<Dataset>, batch: usize) -> Result<Self> {
        if !self.model.has_batch_norm() {
            return Err(Error::invalid(format!(
                "model {} has no BatchNormalization with stored statistics to recompute",
                self.model.path().display()
            )));
        }
        if batch < 2 {
            return Err(Error::invalid(format!(
                "BatchNorm statistics need batches of at least 2 examples, not {batch}"
            )));
        }
        self.model.check_dataset(&train)?;
        let rows = self.model.fixed_batch.unwrap_or(batch);
        if train.len() < rows.max(2) {
            return Err(Error::invalid(format!(
                "recomputing BatchNorm statistics needs at least {} training examples, not {}",
                rows.max(2),
                train.len()
            )));
        }
        self.stats = Stats::Recompute { data: train, batch };
        Ok(self)
    }

    /// The model.
    pub fn model(&self) -> &Arc<OnnxModel> {
        &self.model
    }

    fn check_theta(&self, theta: &[f32]) -> Result<()> {
        if theta.len() != self.model.layout().len() {
            return Err(Error::invalid(format!(
                "a parameter vector of {} values for model {} of {} parameters",
                theta.len(),
                self.model.path().display(),
                self.model.layout().len()
            )));
        }
        Ok(())
    }

    /// Row chunks of at most `batch` rows (exactly the file's batch size where it fixes one;
    /// the last chunk is then padded by repeating its last row, and the padding dropped).
    fn chunks(&self, n: usize, batch: usize) -> Vec<(usize, usize, usize)> {
        let size = self.model.fixed_batch.unwrap_or(batch).max(1);
        let mut out = Vec::new();
        let mut start = 0;
        while start < n {
            let m = size.min(n - start);
            out.push((
                start,
                m,
                if self.model.fixed_batch.is_some() {
                    size
                } else {
                    m
                },
            ));
            start += m;
        }
        out
    }

    fn rows_of(&self, inputs: &[f32], start: usize, m: usize, padded: usize) -> Vec<f32> {
        let per: usize = self.model.example_shape().iter().product();
        let mut rows = inputs[start * per..(start + m) * per].to_vec();
        for _ in m..padded {
            rows.extend_from_within((m - 1) * per..m * per);
        }
        rows
    }

    /// The BatchNorm statistics recomputed from `data` at `theta`: for each layer's running
    /// mean and variance initializer (by value number), the average over batches of `batch`
    /// rows of the batch mean and unbiased variance (PyTorch's `update_bn`, whose momentum
    /// `None` is this cumulative average).
    fn stats_at(
        &self,
        theta: &[f32],
        data: &Dataset,
        batch: usize,
    ) -> Result<HashMap<usize, Vec<f32>>> {
        type Inner<B> = <B as AutodiffBackend>::InnerBackend;
        let env = self
            .model
            .base_env::<Inner<B>>(theta, &self.device, |t| t, None);
        let mut sums: HashMap<usize, genviz_conv::BnSums> = HashMap::new();
        let mut batches = 0usize;
        // Batches in order; a fixed-batch model takes whole batches only, and a last batch of
        // one example is skipped (batch statistics need two).
        let fixed = self.model.fixed_batch;
        let size = fixed.unwrap_or(batch);
        let mut starts = Vec::new();
        let mut s = 0;
        while s < data.len() {
            let m = size.min(data.len() - s);
            if m == size || (fixed.is_none() && m >= 2) {
                starts.push((s, m));
            }
            s += m;
        }
        for (start, m) in starts {
            let rows = self.rows_of(data.features(), start, m, m);
            let mut ctx = self
                .model
                .ctx::<Inner<B>>(&self.device, BatchNorm::Batch(Vec::new()));
            self.model
                .forward(&env, &rows, m, &mut ctx)
                .map_err(|e| Error::bad_file(self.model.path(), e))?;
            let BatchNorm::Batch(stats) = ctx.bn else {
                unreachable!("batch mode")
            };
            for (node, mean, var) in stats {
                let mean = Dev::<Inner<B>>::new(mean, vec![0]).download_all();
                let var = Dev::<Inner<B>>::new(var, vec![0]).download_all();
                sums.entry(node).or_default().add(&mean, &var);
            }
            batches += 1;
        }
        let mut out = HashMap::new();
        for layer in &self.model.bn_layers {
            if let Some(sums) = sums.get(&layer.node) {
                let (mean, var) = sums.average(batches);
                out.insert(layer.mean, mean);
                out.insert(layer.var, var);
            }
        }
        Ok(out)
    }

    /// BatchNorm's running statistics recomputed from `data` at `theta` in batches of
    /// `batch` rows, by initializer name (`layer1.0.bn1.running_mean`, ...).
    ///
    /// # Errors
    /// A parameter vector of the wrong length, data that does not fit, or a failing node.
    pub fn recompute_bn(
        &self,
        theta: &[f32],
        data: &Dataset,
        batch: usize,
    ) -> Result<Vec<(String, Vec<f32>)>> {
        self.check_theta(theta)?;
        self.model.check_dataset(data)?;
        let stats = self.stats_at(theta, data, batch.max(2))?;
        let mut out: Vec<(String, Vec<f32>)> = stats
            .into_iter()
            .map(|(id, v)| (self.model.graph.names[id].clone(), v))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn current_stats(&self, theta: &[f32]) -> Result<Option<HashMap<usize, Vec<f32>>>> {
        match &self.stats {
            Stats::Stored => Ok(None),
            Stats::Recompute { data, batch } => Ok(Some(self.stats_at(theta, data, *batch)?)),
        }
    }

    /// Logits `[n, outputs]` of `n` row-major examples at `theta`.
    ///
    /// # Errors
    /// A parameter vector of the wrong length, inputs that are not `n` examples, or a node
    /// failing on them (named with its operator and input shapes).
    pub fn try_logits(&self, theta: &[f32], inputs: &[f32], n: usize) -> Result<Vec<f32>> {
        type Inner<B> = <B as AutodiffBackend>::InnerBackend;
        self.check_theta(theta)?;
        let per: usize = self.model.example_shape().iter().product();
        if inputs.len() != n * per {
            return Err(Error::invalid(format!(
                "{} input values are not {n} examples of {per}",
                inputs.len()
            )));
        }
        if let Some(native) = &self.native {
            return Ok(native.logits(theta, inputs, n));
        }
        let stats = self.current_stats(theta)?;
        let env = self
            .model
            .base_env::<Inner<B>>(theta, &self.device, |t| t, stats.as_ref());
        let k = self.model.num_outputs();
        let mut out = Vec::with_capacity(n * k);
        for (start, m, padded) in self.chunks(n, self.model.options().eval_batch) {
            let rows = self.rows_of(inputs, start, m, padded);
            let mut ctx = self.model.ctx::<Inner<B>>(&self.device, BatchNorm::Running);
            let z = self
                .model
                .forward(&env, &rows, padded, &mut ctx)
                .map_err(|e| Error::bad_file(self.model.path(), e))?;
            let values = z.download_all();
            out.extend_from_slice(&values[..m * k]);
        }
        Ok(out)
    }

    /// Loss and accuracy of each parameter vector on `data`.
    ///
    /// # Errors
    /// As [`OnnxNet::try_logits`], and data that does not fit the model.
    pub fn try_evaluate(&self, thetas: &[&[f32]], data: &Dataset) -> Result<Vec<Eval>> {
        self.model.check_dataset(data)?;
        if let Some(native) = &self.native {
            for theta in thetas {
                self.check_theta(theta)?;
            }
            return Ok(native.evaluate(thetas, data));
        }
        let one = |theta: &&[f32]| {
            if data.is_empty() {
                return Ok(Eval::default());
            }
            let z = self.try_logits(theta, data.features(), data.len())?;
            let (loss, correct) = score(
                &z,
                data.labels(),
                self.model.num_outputs(),
                self.model.head(),
            );
            Ok(Eval {
                loss: loss / data.len() as f64,
                accuracy: correct as f64 / data.len() as f64,
            })
        };
        // On the CPU, points run on rayon's threads: a small model leaves most of them idle
        // otherwise (the paper's swiss-roll net: 1.18 ms per point alone, 0.76 ms in parallel
        // on 2 shared cores). Each point is computed alone, so the results do not depend on
        // the thread count. A GPU is parallel already and gets the points one by one.
        if on_cpu::<B>() && thetas.len() > 1 {
            use rayon::prelude::*;
            thetas.par_iter().map(one).collect()
        } else {
            thetas.iter().map(one).collect()
        }
    }

    /// The weighted loss of `batch` at `theta`, its gradient written into `grad`.
    ///
    /// # Errors
    /// As [`OnnxNet::try_evaluate`]; `grad` of the wrong length.
    pub fn try_loss_grad(&self, theta: &[f32], batch: &Batch<'_>, grad: &mut [f32]) -> Result<f64> {
        self.check_theta(theta)?;
        if grad.len() != theta.len() {
            return Err(Error::invalid(format!(
                "a gradient buffer of {} values for {} parameters",
                grad.len(),
                theta.len()
            )));
        }
        let data = batch.data;
        grad.fill(0.0);
        if data.is_empty() {
            return Ok(0.0);
        }
        self.model.check_dataset(data)?;
        if let Some(native) = &self.native {
            return Ok(native.loss_grad(theta, batch, grad));
        }
        let stats = self.current_stats(theta)?;
        let mut total = 0.0;
        let mut acc = vec![0f64; theta.len()];
        for (start, m, padded) in self.chunks(data.len(), self.model.options().eval_batch) {
            // Each chunk builds its own tape; the parameters are leaves of it.
            let mut leaves = Vec::new();
            let env = self.model.base_env::<B>(
                theta,
                &self.device,
                |t| {
                    let t = B::float_set_require_grad(t, true);
                    leaves.push(t.clone());
                    t
                },
                stats.as_ref(),
            );
            let rows = self.rows_of(data.features(), start, m, padded);
            let mut ctx = self.model.ctx::<B>(&self.device, BatchNorm::Running);
            let z = self
                .model
                .forward(&env, &rows, padded, &mut ctx)
                .map_err(|e| Error::bad_file(self.model.path(), e))?;
            let k = self.model.num_outputs();
            let logits =
                Tensor::<B, 2>::from_primitive(TensorPrimitive::Float(z.reshape(&[padded, k]).t));
            // Padding rows (a fixed-batch model's last chunk) get weight 0.
            let mut coef = batch.coef[start..start + m].to_vec();
            coef.resize(padded, 0.0);
            let mut labels = data.labels()[start..start + m].to_vec();
            labels.resize(padded, 0);
            let mut reverse = batch.reverse[start..start + m].to_vec();
            reverse.resize(padded, false);
            let loss = batch_loss(
                logits,
                &labels,
                &coef,
                &reverse,
                self.model.head(),
                &self.device,
            );
            let grads = loss.backward();
            total += f64::from(to_vec(loss.into_data())[0]);
            for (p, leaf) in self.model.params_in_order().zip(&leaves) {
                if let Some(g) = B::grad(leaf, &grads) {
                    let g = Dev::<B::InnerBackend>::new(g, vec![0]).download_all();
                    for (a, v) in acc[p.offset..p.offset + g.len()].iter_mut().zip(g) {
                        *a += f64::from(v);
                    }
                }
            }
        }
        for (g, a) in grad.iter_mut().zip(acc) {
            *g = a as f32;
        }
        Ok(total)
    }
}

impl<B: Backend> Dev<B> {
    /// All values of the underlying tensor, whatever its recorded shape.
    pub(crate) fn download_all(&self) -> Vec<f32> {
        let t = Tensor::<B, 1>::from_primitive(TensorPrimitive::Float(B::float_reshape(
            self.t.clone(),
            burn::tensor::Shape::from(vec![self.numel()]),
        )));
        to_vec(t.into_data())
    }

    fn numel(&self) -> usize {
        let shape = burn::tensor::TensorMetadata::shape(&self.t);
        shape.iter().product()
    }
}

impl<B: AutodiffBackend> Network for OnnxNet<B> {
    fn layout(&self) -> &Arc<Layout> {
        self.model.layout()
    }

    fn num_classes(&self) -> usize {
        self.model.num_classes()
    }

    /// # Panics
    /// On data that does not fit the model (check it first with
    /// [`OnnxModel::check_dataset`]) or a node failing at evaluation time; the message names
    /// the node. [`OnnxNet::try_evaluate`] returns these as errors.
    fn evaluate(&self, thetas: &[&[f32]], data: &Dataset) -> Vec<Eval> {
        self.try_evaluate(thetas, data)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Through the native engine when there is one (the MLP's first-layer shortcut); points
    /// one by one otherwise.
    fn evaluate_affine(&self, plane: Affine<'_>, ab: &[(f64, f64)], data: &Dataset) -> Vec<Eval> {
        match &self.native {
            Some(native)
                if plane.center.len() == self.layout().len()
                    && self.model.check_dataset(data).is_ok() =>
            {
                native.evaluate_affine(plane, ab, data)
            }
            _ => evaluate_affine_points(self, plane, ab, data),
        }
    }

    /// Exact (the native MLP engine's R-operator) for a dense chain; central differences of
    /// gradients otherwise.
    fn hvp(&self, theta: &[f32], v: &[f32], data: &Dataset) -> Vec<f64> {
        match &self.native {
            Some(native)
                if theta.len() == self.layout().len()
                    && v.len() == theta.len()
                    && self.model.check_dataset(data).is_ok() =>
            {
                native.hvp(theta, v, data)
            }
            _ => central_difference_hvp(self, theta, v, data),
        }
    }

    fn loss_grad(&self, theta: &[f32], batch: &Batch<'_>, grad: &mut [f32]) -> f64 {
        self.try_loss_grad(theta, batch, grad)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn logits(&self, theta: &[f32], inputs: &[f32], n: usize) -> Vec<f32> {
        self.try_logits(theta, inputs, n)
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

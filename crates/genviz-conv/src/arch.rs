//! The architectures: what layers a network has, written once as a forward pass that can also
//! record the network's [`Layout`](genviz_core::Layout).
//!
//! Each architecture is a plain function from an input batch to logits over a [`Ctx`], which
//! hands out the parameter tensors by their PyTorch names. Run with a recording context it lists
//! the tensors in order (the layout); run with a parameter vector it computes. One function for
//! both means the layout can never drift from the computation.

use burn::tensor::activation::relu;
use burn::tensor::backend::Backend;
use burn::tensor::module::{adaptive_avg_pool2d, conv2d, max_pool2d};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Tensor, TensorData};
use genviz_core::{Error, Result, Role};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// BatchNorm's epsilon (PyTorch's default).
pub const BN_EPS: f64 = 1e-5;

/// A network architecture.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Arch {
    /// A LeNet-like net: two 5x5 convolutions (padding 2) each followed by ReLU and 2x2 max
    /// pooling, then a hidden dense layer and the output layer. Names `conv1`, `conv2`, `fc1`,
    /// `fc2` as in PyTorch's MNIST example.
    Cnn {
        /// Filters of the two convolutions.
        channels: [usize; 2],
        /// Width of the hidden dense layer.
        hidden: usize,
    },
    /// A ResNet of basic blocks (two 3x3 convolutions with BatchNorm) in stages, as in He et
    /// al. 2016 and Li et al.'s loss-landscape code (`cifar10/models/resnet.py`): a 3x3 stem
    /// with `widths[0]` filters, stage `s` of `blocks[s]` blocks of `widths[s]` filters (stride 2
    /// at the start of every stage but the first), global average pooling and a linear layer.
    /// Shortcuts that change shape are a 1x1 convolution and BatchNorm (`shortcut.0`,
    /// `shortcut.1`). With `skip = false` there are no shortcuts at all (Li et al.'s
    /// "noshort" nets).
    ResNet {
        /// Blocks per stage: `[3, 3, 3]` is ResNet-20, `[9, 9, 9]` ResNet-56, `[2, 2, 2, 2]`
        /// with widths `[64, 128, 256, 512]` ResNet-18.
        blocks: Vec<usize>,
        /// Filters per stage.
        widths: Vec<usize>,
        /// Residual connections on (ResNet) or off (a plain deep net).
        skip: bool,
    },
    /// Li et al.'s VGG (`cifar10/models/vgg.py` in tomgoldstein/loss-landscape): stages of 3x3
    /// convolutions (padding 1, with bias), each followed by BatchNorm and ReLU, every stage
    /// closed by 2x2 max pooling with PyTorch's `ceil_mode=True`; then a dense layer to as many
    /// units as the last convolution has filters, BatchNorm1d and ReLU, and the linear
    /// classifier. Names follow the reference's `nn.Sequential` indices: `features.0` (conv),
    /// `features.1` (BatchNorm), ReLU and pooling take an index but no parameters, then
    /// `fc.0` (dense), `fc.1` (BatchNorm1d) and `classifier`.
    ///
    /// The reference fixes 3 input channels and a 32x32 input (`input_size = 32`); here both
    /// come from the data, so VGG-9 also runs on 28x28 grey images (28 -> 14 -> 7 -> 4 with
    /// ceil-mode pooling: the same 256 x 4 x 4 = 4,096 inputs to `fc.0` as on CIFAR-10).
    Vgg {
        /// Filters of each convolution, stage by stage: VGG-9 is `[[64, 64], [128, 128],
        /// [256, 256, 256]]` (the reference's `'VGG9': [64, 64, 'M', 128, 128, 'M', 256, 256,
        /// 256, 'M']`: 7 convolutions + 2 dense layers).
        stages: Vec<Vec<usize>>,
        /// Li et al.'s dense block (`fc`: Linear, BatchNorm1d, ReLU) before the classifier.
        /// Without it the pooled maps go straight to `classifier`, as in kuangliu's
        /// pytorch-cifar VGG that the paper's optimizer table trains (VGG-13 on 32x32 images
        /// pools to 512 x 1 x 1: `classifier` is `Linear(512, 10)`).
        #[serde(default = "default_true")]
        fc: bool,
    },
}

fn default_true() -> bool {
    true
}

impl Arch {
    /// The small CNN genviz trains on Fashion-MNIST on a CPU: 16 and 32 filters, 128 hidden.
    pub fn small_cnn() -> Self {
        Arch::Cnn {
            channels: [16, 32],
            hidden: 128,
        }
    }

    /// CIFAR ResNet with `6n + 2` layers (ResNet-20: n = 3; ResNet-56: n = 9).
    pub fn cifar_resnet(depth: usize, skip: bool) -> Result<Self> {
        if depth < 8 || !(depth - 2).is_multiple_of(6) {
            return Err(Error::invalid(format!(
                "a CIFAR ResNet has 6n+2 layers (20, 32, 44, 56, 110); {depth} is not of that form"
            )));
        }
        let n = (depth - 2) / 6;
        Ok(Arch::ResNet {
            blocks: vec![n; 3],
            widths: vec![16, 32, 64],
            skip,
        })
    }

    /// ResNet-18 in its CIFAR form (3x3 stem, no max pooling), as in the paper's SVHN and
    /// CIFAR-10 experiments.
    pub fn resnet18() -> Self {
        Arch::parse("resnet18").expect("a known name")
    }

    /// Li et al.'s VGG-9 (7 convolutions in 3 stages, then 2 dense layers), the net of their
    /// CIFAR-10 landscapes.
    pub fn vgg9() -> Self {
        Arch::Vgg {
            stages: vec![vec![64, 64], vec![128, 128], vec![256, 256, 256]],
            fc: true,
        }
    }

    /// VGG-13 as kuangliu's pytorch-cifar builds it, the net of the paper's optimizer table
    /// (SPEC 1.10): `[64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512,
    /// 'M']`, then `classifier` (the reference's trailing 1x1 average pooling is the identity).
    pub fn vgg13() -> Self {
        Arch::Vgg {
            stages: vec![
                vec![64, 64],
                vec![128, 128],
                vec![256, 256],
                vec![512, 512],
                vec![512, 512],
            ],
            fc: false,
        }
    }

    /// Parses a command-line name: `cnn`, `vgg9`, `vgg13`, `resnet20`, `resnet56`, `resnet18`, with a
    /// `-noshort` suffix for the ResNets without skip connections.
    pub fn parse(name: &str) -> Result<Self> {
        let (base, skip) = match name.strip_suffix("-noshort") {
            Some(b) => (b, false),
            None => (name, true),
        };
        match base {
            "cnn" if skip => Ok(Arch::small_cnn()),
            "vgg9" if skip => Ok(Arch::vgg9()),
            "vgg13" if skip => Ok(Arch::vgg13()),
            "resnet18" => Ok(Arch::ResNet {
                blocks: vec![2, 2, 2, 2],
                widths: vec![64, 128, 256, 512],
                skip,
            }),
            _ => match base.strip_prefix("resnet").and_then(|d| d.parse().ok()) {
                Some(depth) => Arch::cifar_resnet(depth, skip),
                None => Err(Error::invalid(format!(
                    "unknown model `{name}`; expected cnn, vgg9, vgg13, resnet20, resnet56, resnet18 (add -noshort to a resnet for no skip connections)"
                ))),
            },
        }
    }

    /// True when the net has BatchNorm layers (whose running statistics are parameters).
    pub fn has_batch_norm(&self) -> bool {
        matches!(self, Arch::ResNet { .. } | Arch::Vgg { .. })
    }

    /// Checks the shape fields.
    pub fn validate(&self, input: [usize; 3]) -> Result<()> {
        match self {
            Arch::Cnn { channels, hidden } => {
                if channels.contains(&0) || *hidden == 0 {
                    return Err(Error::invalid("model: cnn widths must be at least 1"));
                }
                if input[1] < 4 || input[2] < 4 {
                    return Err(Error::invalid(format!(
                        "model: the cnn pools twice by 2 and needs images of at least 4x4, not {}x{}",
                        input[1], input[2]
                    )));
                }
            }
            Arch::ResNet { blocks, widths, .. } => {
                if blocks.is_empty() || blocks.len() != widths.len() || widths.contains(&0) {
                    return Err(Error::invalid(format!(
                        "model: a resnet needs one width per stage; got blocks {blocks:?} and widths {widths:?}"
                    )));
                }
            }
            Arch::Vgg { stages, .. } => {
                if stages.is_empty() || stages.iter().any(|s| s.is_empty() || s.contains(&0)) {
                    return Err(Error::invalid(format!(
                        "model: a vgg needs at least one stage, each of convolutions with at least 1 filter; got {stages:?}"
                    )));
                }
                // Every stage ends in a 2x2 max pooling (ceil mode). PyTorch would pool a
                // 1-pixel map to 1 pixel, but burn's output-size formula underflows on it, so
                // every pooling must see at least 2 pixels each way.
                let (mut h, mut w) = (input[1], input[2]);
                for s in 0..stages.len() {
                    if h < 2 || w < 2 {
                        // ceil(side / 2^(k-1)) >= 2 for k stages needs side >= 2^(k-1) + 1.
                        let min_side = (1usize << (stages.len() - 1)) + 1;
                        return Err(Error::invalid(format!(
                            "model: the vgg's {k} stages each end in 2x2 pooling; {ih}x{iw} images shrink to {h}x{w} before pooling {p}, which needs at least 2x2 (use images of at least {min_side}x{min_side})",
                            k = stages.len(),
                            ih = input[1],
                            iw = input[2],
                            p = s + 1,
                        )));
                    }
                    h = h.div_ceil(2);
                    w = w.div_ceil(2);
                }
            }
        }
        if input.contains(&0) {
            return Err(Error::invalid(format!(
                "model: input shape {input:?} has a zero"
            )));
        }
        Ok(())
    }
}

/// How BatchNorm normalises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BnMode {
    /// With the stored running statistics (PyTorch's `eval()`).
    #[default]
    Running,
    /// With the statistics of the batch itself (PyTorch's `train()`).
    Batch,
}

/// One BatchNorm layer's batch mean and unbiased variance, by layer name.
pub(crate) type BatchStat<B> = (String, Tensor<B, 1>, Tensor<B, 1>);

/// Hands out parameter tensors by name to a forward pass, or records which are asked for.
pub(crate) struct Ctx<'a, B: Backend> {
    pub device: B::Device,
    /// Recording: the tensors asked for so far, in order.
    pub record: Option<Vec<(String, Vec<usize>, Role)>>,
    /// Computing: every tensor of the layout, flat.
    pub tensors: Option<&'a HashMap<String, Tensor<B, 1>>>,
    /// How BatchNorm normalises.
    pub bn: BnMode,
    /// When set, each BatchNorm's batch mean and (unbiased) variance, by layer name.
    pub batch_stats: Option<Vec<BatchStat<B>>>,
}

impl<B: Backend> Ctx<'_, B> {
    fn param<const D: usize>(
        &mut self,
        name: String,
        shape: [usize; D],
        role: Role,
    ) -> Tensor<B, D> {
        if let Some(rec) = self.record.as_mut() {
            let ones = role == Role::NormScale || name.ends_with("running_var");
            rec.push((name, shape.to_vec(), role));
            let n: usize = shape.iter().product();
            let values = vec![if ones { 1f32 } else { 0.0 }; n];
            return Tensor::<B, 1>::from_data(TensorData::new(values, [n]), &self.device)
                .reshape(shape);
        }
        let tensors = self.tensors.expect("a context either records or computes");
        tensors[&name].clone().reshape(shape)
    }

    /// A 2-D convolution `prefix.weight` `[out, in, k, k]` (and `prefix.bias` `[out]`).
    #[allow(clippy::too_many_arguments)]
    fn conv(
        &mut self,
        x: Tensor<B, 4>,
        prefix: &str,
        out: usize,
        k: usize,
        stride: usize,
        pad: usize,
        bias: bool,
    ) -> Tensor<B, 4> {
        let input = x.dims()[1];
        let w = self.param(format!("{prefix}.weight"), [out, input, k, k], Role::Weight);
        let b = bias.then(|| self.param(format!("{prefix}.bias"), [out], Role::Bias));
        conv2d(
            x,
            w,
            b,
            ConvOptions::new([stride, stride], [pad, pad], [1, 1], 1),
        )
    }

    /// `x W^T + b` with PyTorch's `[out, in]` weight.
    fn linear(&mut self, x: Tensor<B, 2>, prefix: &str, out: usize) -> Tensor<B, 2> {
        let input = x.dims()[1];
        let w = self.param(format!("{prefix}.weight"), [out, input], Role::Weight);
        let b = self.param(format!("{prefix}.bias"), [out], Role::Bias);
        x.matmul(w.transpose()) + b.unsqueeze_dim(0)
    }

    /// BatchNorm2d with `weight`, `bias`, `running_mean`, `running_var` (BatchNorm1d on
    /// `[n, c]` is this on `[n, c, 1, 1]`: statistics over the batch alone).
    fn batch_norm(&mut self, x: Tensor<B, 4>, prefix: &str) -> Tensor<B, 4> {
        let c = x.dims()[1];
        let gamma = self.param(format!("{prefix}.weight"), [c], Role::NormScale);
        let beta = self.param(format!("{prefix}.bias"), [c], Role::NormShift);
        let running_mean = self.param(format!("{prefix}.running_mean"), [c], Role::RunningStat);
        let running_var = self.param(format!("{prefix}.running_var"), [c], Role::RunningStat);
        let (mean, var) = if self.bn == BnMode::Batch && self.record.is_none() {
            let [n, _, h, w] = x.dims();
            // Per channel over batch and pixels: move channels first and flatten the rest.
            let flat: Tensor<B, 2> = x.clone().swap_dims(0, 1).reshape([c, n * h * w]);
            let mean = flat.clone().mean_dim(1).reshape([c]);
            let var = flat.var_bias(1).reshape([c]);
            if let Some(stats) = self.batch_stats.as_mut() {
                let m = (n * h * w) as f64;
                let unbiased = var.clone().detach() * (m / (m - 1.0).max(1.0));
                stats.push((prefix.to_string(), mean.clone().detach(), unbiased));
            }
            (mean, var)
        } else {
            (running_mean, running_var)
        };
        let shape = [1, c, 1, 1];
        let scale = gamma / (var + BN_EPS).sqrt();
        (x - mean.reshape(shape)) * scale.reshape(shape) + beta.reshape(shape)
    }
}

/// The forward pass of `arch` on images `x` `[n, c, h, w]`: logits `[n, classes]`.
pub(crate) fn forward<B: Backend>(
    arch: &Arch,
    classes: usize,
    ctx: &mut Ctx<'_, B>,
    x: Tensor<B, 4>,
) -> Tensor<B, 2> {
    match arch {
        Arch::Cnn { channels, hidden } => {
            let pool = |t| max_pool2d(t, [2, 2], [2, 2], [0, 0], [1, 1], false);
            let x = pool(relu(ctx.conv(x, "conv1", channels[0], 5, 1, 2, true)));
            let x = pool(relu(ctx.conv(x, "conv2", channels[1], 5, 1, 2, true)));
            let x: Tensor<B, 2> = x.flatten(1, 3);
            let x = relu(ctx.linear(x, "fc1", *hidden));
            ctx.linear(x, "fc2", classes)
        }
        Arch::ResNet {
            blocks,
            widths,
            skip,
        } => {
            let x = ctx.conv(x, "conv1", widths[0], 3, 1, 1, false);
            let mut x = relu(ctx.batch_norm(x, "bn1"));
            for (s, (&n, &width)) in blocks.iter().zip(widths).enumerate() {
                for b in 0..n {
                    let stride = if s > 0 && b == 0 { 2 } else { 1 };
                    x = basic_block(ctx, x, &format!("layer{}.{b}", s + 1), width, stride, *skip);
                }
            }
            let x: Tensor<B, 2> = adaptive_avg_pool2d(x, [1, 1]).flatten(1, 3);
            ctx.linear(x, "linear", classes)
        }
        Arch::Vgg { stages, fc } => {
            // Indices of the reference's `features` Sequential: conv, BatchNorm, ReLU per
            // convolution, one more for each pooling.
            let mut index = 0;
            let mut x = x;
            for stage in stages {
                for &width in stage {
                    x = ctx.conv(x, &format!("features.{index}"), width, 3, 1, 1, true);
                    x = relu(ctx.batch_norm(x, &format!("features.{}", index + 1)));
                    index += 3;
                }
                x = max_pool2d(x, [2, 2], [2, 2], [0, 0], [1, 1], true);
                index += 1;
            }
            let width = x.dims()[1];
            let x: Tensor<B, 2> = x.flatten(1, 3);
            if !fc {
                return ctx.linear(x, "classifier", classes);
            }
            let x = ctx.linear(x, "fc.0", width);
            let [n, c] = x.dims();
            let x = ctx.batch_norm(x.reshape([n, c, 1, 1]), "fc.1");
            let x: Tensor<B, 2> = relu(x).reshape([n, c]);
            ctx.linear(x, "classifier", classes)
        }
    }
}

fn basic_block<B: Backend>(
    ctx: &mut Ctx<'_, B>,
    x: Tensor<B, 4>,
    prefix: &str,
    width: usize,
    stride: usize,
    skip: bool,
) -> Tensor<B, 4> {
    let input = x.dims()[1];
    let out = ctx.conv(
        x.clone(),
        &format!("{prefix}.conv1"),
        width,
        3,
        stride,
        1,
        false,
    );
    let out = relu(ctx.batch_norm(out, &format!("{prefix}.bn1")));
    let out = ctx.conv(out, &format!("{prefix}.conv2"), width, 3, 1, 1, false);
    let out = ctx.batch_norm(out, &format!("{prefix}.bn2"));
    if !skip {
        return relu(out);
    }
    let shortcut = if stride != 1 || input != width {
        let s = ctx.conv(
            x,
            &format!("{prefix}.shortcut.0"),
            width,
            1,
            stride,
            0,
            false,
        );
        ctx.batch_norm(s, &format!("{prefix}.shortcut.1"))
    } else {
        x
    };
    relu(out + shortcut)
}

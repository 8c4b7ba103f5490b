//! genviz's own networks written as ONNX: the native MLPs and the burn conv nets.
//!
//! Tensors keep genviz's (PyTorch's) names, so the exported file's parameters are the same
//! tensors under the same names; BatchNorm stays a BatchNormalization node with its running
//! statistics as initializers, never folded. The batch dimension is symbolic (`batch`).

use crate::builder::{attr_float, attr_int, attr_ints, GraphBuilder};
use crate::host::{Elem, Host};
use crate::model::HEAD_METADATA_KEY;
use genviz_conv::{Arch, ConvSpec, BN_EPS};
use genviz_core::{Error, Layout, Result};
use genviz_mlp::{Activation, Head as MlpHead, MlpSpec};
use std::path::Path;

/// The opset genviz writes: 17, the newest every common runtime reads (PyTorch's
/// TorchScript exporter writes it too).
pub const EXPORT_OPSET: i64 = 17;

/// Name of the exported input.
pub const INPUT_NAME: &str = "x";

/// Name of the exported output.
pub const OUTPUT_NAME: &str = "logits";

/// Hands out initializers by name from a layout and its values.
struct Weights<'a> {
    layout: &'a Layout,
    values: &'a [f32],
}

impl Weights<'_> {
    fn add(&self, g: &mut GraphBuilder, name: &str) -> Result<String> {
        let t = self.layout.get(name).ok_or_else(|| {
            Error::invalid(format!("export: the parameters have no tensor `{name}`"))
        })?;
        Ok(g.initializer(name, &Host::f32(&t.shape, self.values[t.range()].to_vec())))
    }
}

fn check_len(layout: &Layout, values: &[f32]) -> Result<()> {
    if values.len() != layout.len() {
        return Err(Error::invalid(format!(
            "export: {} parameter values for a network of {}",
            values.len(),
            layout.len()
        )));
    }
    Ok(())
}

/// An MLP (`genviz_mlp`) as ONNX bytes: `Gemm` layers with the spec's activation between
/// them; the output is the spec's logits (one for the sigmoid head, which a reader must be
/// told unless it reads the head genviz records in the metadata: [`crate::OnnxOptions::head`]).
///
/// # Errors
/// An invalid spec or parameters of the wrong length.
pub fn export_mlp(spec: &MlpSpec, params: &[f32]) -> Result<Vec<u8>> {
    spec.validate()?;
    let layout = spec.layout();
    check_len(&layout, params)?;
    let w = Weights {
        layout: &layout,
        values: params,
    };
    let mut g = GraphBuilder::new(EXPORT_OPSET);
    let mut h = g.input(
        INPUT_NAME,
        Elem::Float,
        &["batch".into(), spec.input_dim.into()],
    );
    let layers = spec.widths().len() - 1;
    for k in 0..layers {
        let weight = w.add(&mut g, &format!("layers.{k}.weight"))?;
        let bias = w.add(&mut g, &format!("layers.{k}.bias"))?;
        h = g.node("Gemm", &[&h, &weight, &bias], vec![attr_int("transB", 1)]);
        if k + 1 < layers {
            h = match spec.activation {
                Activation::Relu => g.node("Relu", &[&h], vec![]),
                Activation::Tanh => g.node("Tanh", &[&h], vec![]),
                Activation::LeakyRelu { slope } => {
                    g.node("LeakyRelu", &[&h], vec![attr_float("alpha", slope)])
                }
            };
        }
    }
    name_output(&mut g, &h, spec.output_dim());
    let head = match spec.head {
        MlpHead::Sigmoid => "sigmoid",
        MlpHead::Softmax => "softmax",
    };
    g.metadata(HEAD_METADATA_KEY, head);
    Ok(g.to_bytes())
}

/// Declares `value` the graph output under [`OUTPUT_NAME`] (through an Identity, so the
/// name does not depend on the last layer).
fn name_output(g: &mut GraphBuilder, value: &str, width: usize) {
    let out = g.node_to("Identity", &[value], OUTPUT_NAME, vec![]);
    g.output(&out, Elem::Float, &["batch".into(), width.into()]);
}

/// A conv net (`genviz_conv`) as ONNX bytes, its BatchNorm layers kept (with their running
/// statistics as initializers).
///
/// # Errors
/// An invalid spec or parameters of the wrong length.
pub fn export_conv(spec: &ConvSpec, params: &[f32]) -> Result<Vec<u8>> {
    let layout = spec.layout()?;
    check_len(&layout, params)?;
    let w = Weights {
        layout: &layout,
        values: params,
    };
    let mut g = GraphBuilder::new(EXPORT_OPSET);
    let [c, hgt, wid] = spec.input;
    let x = g.input(
        INPUT_NAME,
        Elem::Float,
        &["batch".into(), c.into(), hgt.into(), wid.into()],
    );
    let mut b = Net { g: &mut g, w: &w };
    let logits = match &spec.arch {
        Arch::Cnn { .. } => {
            let h = b.conv(&x, "conv1", 1, 2, true)?;
            let h = b.relu(&h);
            let h = b.max_pool(&h, false);
            let h = b.conv(&h, "conv2", 1, 2, true)?;
            let h = b.relu(&h);
            let h = b.max_pool(&h, false);
            let h = b.g.node("Flatten", &[&h], vec![attr_int("axis", 1)]);
            let h = b.linear(&h, "fc1")?;
            let h = b.relu(&h);
            b.linear(&h, "fc2")?
        }
        Arch::ResNet { blocks, skip, .. } => {
            let h = b.conv(&x, "conv1", 1, 1, false)?;
            let h = b.batch_norm(&h, "bn1")?;
            let mut h = b.relu(&h);
            for (s, &n) in blocks.iter().enumerate() {
                for k in 0..n {
                    let stride = if s > 0 && k == 0 { 2 } else { 1 };
                    h = b.block(&h, &format!("layer{}.{k}", s + 1), stride, *skip)?;
                }
            }
            let h = b.g.node("GlobalAveragePool", &[&h], vec![]);
            let h = b.g.node("Flatten", &[&h], vec![attr_int("axis", 1)]);
            b.linear(&h, "linear")?
        }
        Arch::Vgg { stages, fc } => {
            let mut index = 0;
            let mut h = x.clone();
            for stage in stages {
                for _ in stage {
                    h = b.conv(&h, &format!("features.{index}"), 1, 1, true)?;
                    h = b.batch_norm(&h, &format!("features.{}", index + 1))?;
                    h = b.relu(&h);
                    index += 3;
                }
                h = b.max_pool(&h, true);
                index += 1;
            }
            let h = b.g.node("Flatten", &[&h], vec![attr_int("axis", 1)]);
            if *fc {
                let h = b.linear(&h, "fc.0")?;
                let h = b.batch_norm(&h, "fc.1")?;
                let h = b.relu(&h);
                b.linear(&h, "classifier")?
            } else {
                b.linear(&h, "classifier")?
            }
        }
    };
    name_output(&mut g, &logits, spec.num_classes);
    g.metadata(HEAD_METADATA_KEY, "softmax");
    Ok(g.to_bytes())
}

/// Writes ONNX bytes to `path` atomically.
///
/// # Errors
/// The file cannot be written.
pub fn write_onnx(path: &Path, bytes: &[u8]) -> Result<()> {
    genviz_core::io::write_atomic(path, bytes)
}

/// The layers of a conv net, as ONNX nodes.
struct Net<'a, 'b> {
    g: &'a mut GraphBuilder,
    w: &'a Weights<'b>,
}

impl Net<'_, '_> {
    fn relu(&mut self, h: &str) -> String {
        self.g.node("Relu", &[h], vec![])
    }

    fn conv(&mut self, h: &str, prefix: &str, stride: i64, pad: i64, bias: bool) -> Result<String> {
        let weight = self.w.add(self.g, &format!("{prefix}.weight"))?;
        let mut inputs = vec![h.to_string(), weight];
        if bias {
            inputs.push(self.w.add(self.g, &format!("{prefix}.bias"))?);
        }
        let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        Ok(self.g.node(
            "Conv",
            &refs,
            vec![
                attr_ints("strides", &[stride, stride]),
                attr_ints("pads", &[pad, pad, pad, pad]),
            ],
        ))
    }

    fn batch_norm(&mut self, h: &str, prefix: &str) -> Result<String> {
        let names: Vec<String> = ["weight", "bias", "running_mean", "running_var"]
            .iter()
            .map(|s| self.w.add(self.g, &format!("{prefix}.{s}")))
            .collect::<Result<_>>()?;
        let refs: Vec<&str> = std::iter::once(h)
            .chain(names.iter().map(String::as_str))
            .collect();
        Ok(self.g.node(
            "BatchNormalization",
            &refs,
            vec![attr_float("epsilon", BN_EPS as f32)],
        ))
    }

    fn linear(&mut self, h: &str, prefix: &str) -> Result<String> {
        let weight = self.w.add(self.g, &format!("{prefix}.weight"))?;
        let bias = self.w.add(self.g, &format!("{prefix}.bias"))?;
        Ok(self
            .g
            .node("Gemm", &[h, &weight, &bias], vec![attr_int("transB", 1)]))
    }

    fn max_pool(&mut self, h: &str, ceil: bool) -> String {
        self.g.node(
            "MaxPool",
            &[h],
            vec![
                attr_ints("kernel_shape", &[2, 2]),
                attr_ints("strides", &[2, 2]),
                attr_int("ceil_mode", i64::from(ceil)),
            ],
        )
    }

    fn block(&mut self, x: &str, prefix: &str, stride: i64, skip: bool) -> Result<String> {
        let out = self.conv(x, &format!("{prefix}.conv1"), stride, 1, false)?;
        let out = self.batch_norm(&out, &format!("{prefix}.bn1"))?;
        let out = self.relu(&out);
        let out = self.conv(&out, &format!("{prefix}.conv2"), 1, 1, false)?;
        let out = self.batch_norm(&out, &format!("{prefix}.bn2"))?;
        if !skip {
            return Ok(self.relu(&out));
        }
        let shortcut = if self
            .w
            .layout
            .get(&format!("{prefix}.shortcut.0.weight"))
            .is_some()
        {
            let s = self.conv(x, &format!("{prefix}.shortcut.0"), stride, 0, false)?;
            self.batch_norm(&s, &format!("{prefix}.shortcut.1"))?
        } else {
            x.to_string()
        };
        let sum = self.g.node("Add", &[&out, &shortcut], vec![]);
        Ok(self.relu(&sum))
    }
}

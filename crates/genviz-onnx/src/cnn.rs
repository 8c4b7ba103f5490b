//! The small CNN on genviz's CPU convolution engine ([`genviz_conv::CpuCnn`]): a graph of two
//! 5x5 convolutions (stride 1, padding 2), each followed by a ReLU and a 2x2 max pooling
//! (in either order: the two commute), then a flatten and two dense layers with a ReLU
//! between them. That is what genviz writes for `--model cnn` (`export_conv`), and what both of
//! PyTorch's exporters write for the classic MNIST network of that shape
//! (`tests/fixtures/cnn_*.onnx`).

use crate::graph::Node;
use crate::model::{Head, OnnxModel};
use crate::native::{Engine, NativeNet, ParamMap, Source, Walker};
use crate::shape_arith::Dim;
use genviz_conv::{Arch, ConvSpec, CpuCnn};
use genviz_core::Network;

/// Kernel side and padding of the engine's convolutions.
const KERNEL: usize = 5;
const PAD: i64 = 2;

/// A recognised convolution: `out` filters of `[in, 5, 5]`.
struct Conv {
    weight: Source,
    bias: Option<Source>,
    inputs: usize,
    out: usize,
}

/// Planes of `channels x height x width` as the walk goes.
#[derive(Clone, Copy)]
struct Planes {
    channels: usize,
    height: usize,
    width: usize,
}

/// Whether an optional integer-list attribute is absent or `expected`.
fn ints_are(node: &Node, name: &str, expected: &[i64]) -> bool {
    match node.ints(name) {
        Ok(None) => true,
        Ok(Some(v)) => v == expected,
        Err(_) => false,
    }
}

impl Walker<'_> {
    /// A 5x5 convolution with stride 1 and padding 2 on planes of `inputs` channels.
    fn conv(&mut self, inputs: usize) -> Option<Conv> {
        let node = self.take(&["Conv"])?;
        let k = KERNEL as i64;
        let padding = match node.string("auto_pad", "NOTSET").ok()?.as_str() {
            "NOTSET" => node.ints("pads").ok()? == Some(vec![PAD; 4]),
            // With stride 1 and an odd kernel, "same" padding is 2 on every side.
            "SAME_UPPER" | "SAME_LOWER" => true,
            _ => false,
        };
        let plain = padding
            && node.int("group", 1).ok()? == 1
            && ints_are(node, "kernel_shape", &[k, k])
            && ints_are(node, "strides", &[1, 1])
            && ints_are(node, "dilations", &[1, 1]);
        if !plain {
            return None;
        }
        let (shape, weight) = self.initializer(node.inputs.get(1).copied().flatten()?)?;
        let &[out, c, kh, kw] = &shape[..] else {
            return None;
        };
        if c != inputs || kh != KERNEL || kw != KERNEL || out == 0 {
            return None;
        }
        let bias = match node.inputs.get(2).copied().flatten() {
            Some(id) => {
                let (shape, source) = self.initializer(id)?;
                if shape != [out] {
                    return None;
                }
                Some(source)
            }
            None => None,
        };
        Some(Conv {
            weight,
            bias,
            inputs,
            out,
        })
    }

    /// A 2x2 max pooling with stride 2 (written out: ONNX's default is 1) and no padding
    /// (floor rule, or ceil on even sides, where the two agree).
    fn pool(&mut self, planes: Planes) -> Option<Planes> {
        let node = self.take(&["MaxPool"])?;
        let even = planes.height.is_multiple_of(2) && planes.width.is_multiple_of(2);
        let plain = ints_are(node, "kernel_shape", &[2, 2])
            && node.ints("kernel_shape").ok()?.is_some()
            // Pooling's stride defaults to 1, not to the window.
            && node.ints("strides").ok()? == Some(vec![2, 2])
            && ints_are(node, "pads", &[0; 4])
            && ints_are(node, "dilations", &[1, 1])
            && matches!(
                node.string("auto_pad", "NOTSET").ok()?.as_str(),
                "NOTSET" | "VALID"
            )
            && (node.int("ceil_mode", 0).ok()? == 0 || even);
        plain.then_some(Planes {
            height: planes.height / 2,
            width: planes.width / 2,
            ..planes
        })
    }

    /// A ReLU and a pooling, in either order.
    fn relu_and_pool(&mut self, planes: Planes) -> Option<Planes> {
        self.skip_identities();
        let pooled = if self.take(&["Relu"]).is_some() {
            self.skip_identities();
            self.pool(planes)?
        } else {
            let pooled = self.pool(planes)?;
            self.skip_identities();
            self.take(&["Relu"])?;
            pooled
        };
        let dims = [pooled.channels, pooled.height, pooled.width].map(|d| Dim::Fixed(d as i64));
        let mut shape = vec![Dim::Batch];
        shape.extend(dims);
        self.note_shape(self.current, shape);
        self.skip_identities();
        Some(pooled)
    }
}

/// The small CNN `model`'s graph is, if it is one (see the module's documentation); the
/// softmax head only.
pub(crate) fn detect(model: &OnnxModel) -> Option<NativeNet> {
    let &[c, height, width] = model.example_shape() else {
        return None;
    };
    if model.head() != Head::Softmax {
        return None;
    }
    let mut walk = Walker::new(model);
    walk.skip_identities();
    let conv1 = walk.conv(c)?;
    let planes = Planes {
        channels: conv1.out,
        height,
        width,
    };
    let planes = walk.relu_and_pool(planes)?;
    let conv2 = walk.conv(planes.channels)?;
    let planes = walk.relu_and_pool(Planes {
        channels: conv2.out,
        ..planes
    })?;
    let features = planes.channels * planes.height * planes.width;
    walk.flatten(features, 4)?;
    walk.skip_identities();
    let fc1 = walk.dense(features)?;
    walk.skip_identities();
    walk.take(&["Relu"])?;
    walk.skip_identities();
    let fc2 = walk.dense(fc1.outputs)?;
    walk.skip_identities();
    if !walk.at_output() || fc2.outputs != model.num_outputs() {
        return None;
    }
    let spec = ConvSpec {
        arch: Arch::Cnn {
            channels: [conv1.out, conv2.out],
            hidden: fc1.outputs,
        },
        input: [c, height, width],
        num_classes: fc2.outputs,
    };
    let cnn = CpuCnn::new(spec).ok()?;
    let layout = cnn.layout().clone();
    let mut map = ParamMap::new(layout.len(), model);
    let offset = |name: &str| layout.get(name).map(|t| t.offset);
    for (name, conv) in [("conv1", &conv1), ("conv2", &conv2)] {
        let cols = conv.inputs * KERNEL * KERNEL;
        let weight = offset(&format!("{name}.weight"))?;
        map.place(Some(&conv.weight), weight, conv.out, cols, false);
        let bias = offset(&format!("{name}.bias"))?;
        map.place(conv.bias.as_ref(), bias, 1, conv.out, false);
    }
    for (name, layer) in [("fc1", &fc1), ("fc2", &fc2)] {
        layer.place(
            &mut map,
            offset(&format!("{name}.weight"))?,
            offset(&format!("{name}.bias"))?,
        );
    }
    Some(NativeNet::new(Engine::Cnn(cnn), map))
}

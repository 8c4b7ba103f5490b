//! Chains of dense layers on genviz's native MLP engine: a graph that is nothing but fully
//! connected layers with one activation between them (what `torch.onnx.export` writes for an
//! `nn.Sequential` of `Linear` and `ReLU`, and what genviz's own MLP export writes).

use crate::model::{Head, OnnxModel};
use crate::native::{Engine, NativeNet, ParamMap, Walker};
use genviz_core::Network;
use genviz_mlp::{Mlp, MlpSpec};

/// The chain `model`'s graph is, if it is one: a float input of one dimension (or one
/// flattened first: `Flatten` on axis 1, or a `Reshape` to `[batch, features]`), then dense
/// layers (`Gemm`, or `MatMul` with
/// an optional bias `Add`, weights and biases from initializers) with the same activation
/// (`Relu`, `Tanh`, `LeakyRelu`) between every two, and nothing after the last.
pub(crate) fn detect(model: &OnnxModel) -> Option<NativeNet> {
    let mut walk = Walker::new(model);
    let features: usize = model.example_shape().iter().product();
    let rank = model.example_shape().len() + 1;
    walk.skip_identities();
    if walk
        .peek()
        .is_some_and(|n| n.op == "Flatten" || n.op == "Reshape")
    {
        walk.flatten(features, rank)?;
    } else if rank > 2 {
        return None;
    }
    let mut layers = Vec::new();
    let mut activation = None;
    let mut inputs = features;
    loop {
        walk.skip_identities();
        let layer = walk.dense(inputs)?;
        inputs = layer.outputs;
        layers.push(layer);
        walk.skip_identities();
        if walk.peek().is_none() {
            break;
        }
        let act = walk.activation()?;
        if activation.is_some_and(|a| a != act) {
            return None;
        }
        activation = Some(act);
    }
    if !walk.at_output() {
        return None;
    }
    let outputs = inputs;
    let (head, num_classes) = match model.head() {
        Head::Sigmoid => (genviz_mlp::Head::Sigmoid, 2),
        Head::Softmax => (genviz_mlp::Head::Softmax, outputs),
    };
    let spec = MlpSpec {
        input_dim: features,
        hidden: layers[..layers.len() - 1]
            .iter()
            .map(|l| l.outputs)
            .collect(),
        num_classes,
        activation: activation.unwrap_or_default(),
        head,
    };
    let mlp = Mlp::new(spec).ok()?;
    let layout = mlp.layout().clone();
    let mut map = ParamMap::new(layout.len(), model);
    for (k, layer) in layers.iter().enumerate() {
        let weight = layout.get(&format!("layers.{k}.weight"))?;
        let bias = layout.get(&format!("layers.{k}.bias"))?;
        layer.place(&mut map, weight.offset, bias.offset);
    }
    Some(NativeNet::new(Engine::Mlp(mlp), map))
}

//! Reading a user's MLP from safetensors, its architecture inferred from the tensor shapes.
//!
//! Accepted names: genviz's and a PyTorch `nn.ModuleList` called `layers` (`layers.0.weight`,
//! `layers.0.bias`, ...), a plain `nn.Sequential` (`0.weight`, `2.weight`, ...: the numbers
//! may skip the activation modules), or any common prefix before the index (`net.0.weight`).
//! Layers are ordered by their index; every weight is `[out, in]` and must take the previous
//! layer's output width. Without genviz's metadata the activation is ReLU and the head is a
//! sigmoid for one output, softmax otherwise.

use crate::spec::{Activation, Head, MlpSpec};
use crate::Mlp;
use genviz_core::io::{read_safetensors, TensorFile};
use genviz_core::{Error, Params, Result};
use std::path::Path;

/// Metadata key under which genviz stores the [`MlpSpec`] as JSON in a safetensors file.
pub const SPEC_METADATA_KEY: &str = "genviz.mlp";

/// Loads an MLP and its parameters from a safetensors file.
pub fn load_mlp(path: &Path) -> Result<(Mlp, Params)> {
    let file = read_safetensors(path)?;
    mlp_from_tensors(&file, path)
}

/// Builds an MLP and its parameters from tensors already read from `path`.
pub fn mlp_from_tensors(file: &TensorFile, path: &Path) -> Result<(Mlp, Params)> {
    let bad = |m: String| Error::bad_file(path, m);
    genviz_core::io::check_finite(file, path)?;
    let mut layers: Vec<(u64, &str, &genviz_core::io::NamedTensor)> = Vec::new();
    for t in &file.tensors {
        let (stem, kind) = t
            .name
            .rsplit_once('.')
            .filter(|(_, k)| *k == "weight" || *k == "bias")
            .ok_or_else(|| {
                bad(format!(
                    "tensor `{}` is not a `<layer>.weight` or `<layer>.bias` of an MLP",
                    t.name
                ))
            })?;
        let digits = stem.rsplit('.').next().unwrap_or(stem);
        let index: u64 = digits
            .parse()
            .map_err(|_| bad(format!("tensor `{}`: expected a layer index before `.{kind}` (like `layers.0.{kind}` or `0.{kind}`)", t.name)))?;
        layers.push((index, kind, t));
    }
    layers.sort_by_key(|&(i, kind, _)| (i, kind != "weight"));
    let weights: Vec<_> = layers.iter().filter(|l| l.1 == "weight").collect();
    if weights.is_empty() {
        return Err(bad(
            "no `.weight` tensor found; expected an MLP's linear layers".into(),
        ));
    }
    let mut widths = Vec::new();
    for (k, &&(index, _, w)) in weights.iter().enumerate() {
        if w.shape.len() != 2 {
            return Err(bad(format!(
                "tensor `{}` has shape {:?}; a linear layer's weight is 2-D [out, in]",
                w.name, w.shape
            )));
        }
        let (out, inp) = (w.shape[0], w.shape[1]);
        match widths.last() {
            None => widths.push(inp),
            Some(&prev) if prev != inp => {
                return Err(bad(format!(
                    "tensor `{}` has shape {:?}, the model expects [{out}, {prev}]: layer {k} must take the previous layer's {prev} outputs",
                    w.name, w.shape
                )))
            }
            _ => {}
        }
        widths.push(out);
        let bias = layers.iter().find(|l| l.0 == index && l.1 == "bias");
        match bias {
            Some(&(_, _, b)) if b.shape != [out] => {
                return Err(bad(format!(
                    "tensor `{}` has shape {:?}, the model expects [{out}]",
                    b.name, b.shape
                )))
            }
            None => {
                return Err(bad(format!(
                    "tensor `{}` has no bias; expected a `.bias` of shape [{out}] beside it",
                    w.name
                )))
            }
            _ => {}
        }
    }
    if layers.len() != 2 * weights.len() {
        let orphan = layers
            .iter()
            .find(|l| l.1 == "bias" && !weights.iter().any(|w| w.0 == l.0))
            .map_or("?", |l| l.2.name.as_str());
        return Err(bad(format!(
            "tensor `{orphan}` is a bias without a weight of the same layer"
        )));
    }
    let outputs = *widths.last().unwrap();
    let spec = match file.metadata.get(SPEC_METADATA_KEY) {
        Some(json) => {
            let spec: MlpSpec = serde_json::from_str(json).map_err(|e| {
                bad(format!(
                    "metadata `{SPEC_METADATA_KEY}` is not a valid MLP spec: {e}"
                ))
            })?;
            if spec.widths() != widths {
                return Err(bad(format!(
                    "metadata `{SPEC_METADATA_KEY}` describes widths {:?} but the tensors chain as {widths:?}",
                    spec.widths()
                )));
            }
            spec
        }
        None => MlpSpec {
            input_dim: widths[0],
            hidden: widths[1..widths.len() - 1].to_vec(),
            num_classes: outputs.max(2),
            activation: Activation::Relu,
            head: if outputs == 1 {
                Head::Sigmoid
            } else {
                Head::Softmax
            },
        },
    };
    let mlp = Mlp::new(spec)?;
    let mut params = Params::zeros(genviz_core::Network::layout(&mlp).clone());
    let mut k = 0;
    for &(_, _, t) in &layers {
        let values = params.values_mut();
        values[k..k + t.values.len()].copy_from_slice(&t.values);
        k += t.values.len();
    }
    Ok((mlp, params))
}

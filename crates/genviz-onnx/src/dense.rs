//! The dense-chain fast path: a graph that is nothing but fully connected layers with one
//! activation between them (what `torch.onnx.export` writes for an `nn.Sequential` of
//! `Linear` and `ReLU`, and what genviz's own MLP export writes) runs on genviz's native MLP
//! engine instead of the interpreter.
//!
//! Why: on the paper's small networks the interpreter spends most of its time dispatching
//! burn operations on tiny tensors (2.7x the native engine's time per landscape point in
//! `genviz bench`); the native engine computes the same function with hand-blocked kernels.
//! The model's parameters stay the ONNX initializers under their ONNX names: a [`ParamMap`]
//! moves values between that vector and the native one (transposing `MatMul` weights and
//! filling in initializers a `--params` pattern left constant), and moves gradients and
//! Hessian-vector products back by its adjoint.

use crate::graph::Node;
use crate::host::Host;
use crate::model::{Head, OnnxModel};
use genviz_core::{Affine, Batch, Dataset, Eval, Network};
use genviz_mlp::{Activation, Mlp, MlpSpec};
use std::borrow::Cow;

/// One tensor's values copied between the ONNX vector and the native one: the native
/// tensor is `rows x cols` (`[out, in]` for a weight, `1 x out` for a bias) at `native`; the
/// ONNX one starts at `onnx`, stored the same way or, when `transposed`, as `cols x rows`.
#[derive(Clone, Debug, PartialEq)]
struct Piece {
    onnx: usize,
    native: usize,
    rows: usize,
    cols: usize,
    transposed: bool,
}

impl Piece {
    /// `(onnx index, native index)` of every value.
    fn pairs(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..self.rows).flat_map(move |i| {
            (0..self.cols).map(move |j| {
                let from = if self.transposed {
                    j * self.rows + i
                } else {
                    i * self.cols + j
                };
                (self.onnx + from, self.native + i * self.cols + j)
            })
        })
    }
}

/// The linear map from the ONNX parameter vector to the native one: `native = base + G onnx`,
/// where `base` holds the constant initializers and `G` copies (and transposes) values.
#[derive(Clone, Debug)]
struct ParamMap {
    base: Vec<f32>,
    pieces: Vec<Piece>,
    onnx_len: usize,
}

impl ParamMap {
    /// `base + G theta` (with `constants`) or `G theta` (a direction).
    fn apply(&self, theta: &[f32], constants: bool) -> Vec<f32> {
        let mut out = if constants {
            self.base.clone()
        } else {
            vec![0.0; self.base.len()]
        };
        for p in &self.pieces {
            for (from, to) in p.pairs() {
                out[to] = theta[from];
            }
        }
        out
    }

    /// `G^T v`: a gradient or Hessian-vector product over the native vector, seen over the
    /// ONNX one (constants get nothing; an initializer several layers share gets the sum).
    fn adjoint<T: Copy + Default + std::ops::AddAssign>(&self, native: &[T]) -> Vec<T> {
        let mut out = vec![T::default(); self.onnx_len];
        for p in &self.pieces {
            for (from, to) in p.pairs() {
                out[from] += native[to];
            }
        }
        out
    }

    /// Whether `G` is the identity and there are no constants: the ONNX vector is the
    /// native one.
    fn is_identity(&self) -> bool {
        let covered: usize = self.pieces.iter().map(|p| p.rows * p.cols).sum();
        covered == self.base.len()
            && self.onnx_len == self.base.len()
            && self
                .pieces
                .iter()
                .all(|p| !p.transposed && p.onnx == p.native)
    }
}

/// A graph recognised as a chain of dense layers, with the native network that computes it.
#[derive(Clone, Debug)]
pub(crate) struct DenseChain {
    mlp: Mlp,
    /// `None` when the ONNX parameter vector is the native one as it is.
    map: Option<ParamMap>,
}

/// Where a layer's weight or bias comes from.
enum Source {
    /// A parameter at this offset of the ONNX vector.
    Param(usize),
    /// A constant initializer's values.
    Constant(Vec<f32>),
}

/// One recognised layer: `x W^T + b` with `W` stored as `[out, in]`, or as `[in, out]` when
/// `transposed` (`MatMul`, `Gemm` without `transB`).
struct Layer {
    weight: Source,
    transposed: bool,
    bias: Option<Source>,
    inputs: usize,
    outputs: usize,
}

/// Walks the graph from its input; `None` at the first node that does not fit the pattern.
struct Walker<'a> {
    model: &'a OnnxModel,
    current: usize,
    next: usize,
}

impl<'a> Walker<'a> {
    fn peek(&self) -> Option<&'a Node> {
        self.model.graph.nodes.get(self.next)
    }

    /// The node at the head of the chain if it is `op` reading the current value as its
    /// first input and writing exactly one output.
    fn take(&mut self, ops: &[&str]) -> Option<&'a Node> {
        let node = self.peek()?;
        if !ops.contains(&node.op.as_str())
            || node.inputs.first().copied().flatten() != Some(self.current)
        {
            return None;
        }
        let [Some(out)] = node.outputs[..] else {
            return None;
        };
        self.current = out;
        self.next += 1;
        Some(node)
    }

    /// A float initializer's shape and source.
    fn initializer(&self, id: usize) -> Option<(Vec<usize>, Source)> {
        let m = self.model;
        if let Some(p) = m.params.iter().find(|p| p.value == id) {
            return Some((p.shape.clone(), Source::Param(p.offset)));
        }
        let (_, host) = m.constants.iter().find(|(c, _)| *c == id)?;
        match &**host {
            Host::F32(_) => Some((host.shape().to_vec(), Source::Constant(host.to_f32_vec()))),
            _ => None,
        }
    }

    /// A bias of `outputs` values (`[out]` or `[1, out]`).
    fn bias(&self, id: usize, outputs: usize) -> Option<Source> {
        let (shape, source) = self.initializer(id)?;
        (shape == [outputs] || shape == [1, outputs]).then_some(source)
    }

    /// A `Gemm` or a `MatMul` (with an optional `Add` of a bias) on the current value.
    fn layer(&mut self, inputs: usize) -> Option<Layer> {
        let node = self.peek()?;
        match node.op.as_str() {
            "Gemm" => {
                let node = self.take(&["Gemm"])?;
                let plain = node.int("transA", 0).ok()? == 0
                    && node.float("alpha", 1.0).ok()? == 1.0
                    && node.float("beta", 1.0).ok()? == 1.0;
                if !plain {
                    return None;
                }
                let transposed = node.int("transB", 0).ok()? == 0;
                let (shape, weight) = self.initializer(node.inputs.get(1).copied().flatten()?)?;
                let outputs = weight_outputs(&shape, transposed, inputs)?;
                let bias = match node.inputs.get(2).copied().flatten() {
                    Some(id) => Some(self.bias(id, outputs)?),
                    None => None,
                };
                Some(Layer {
                    weight,
                    transposed,
                    bias,
                    inputs,
                    outputs,
                })
            }
            "MatMul" => {
                let node = self.take(&["MatMul"])?;
                let (shape, weight) = self.initializer(node.inputs.get(1).copied().flatten()?)?;
                let outputs = weight_outputs(&shape, true, inputs)?;
                let bias = match self.peek() {
                    Some(add) if add.op == "Add" => {
                        let other = match add.inputs[..] {
                            [Some(a), Some(b)] if a == self.current => b,
                            [Some(a), Some(b)] if b == self.current => a,
                            _ => return None,
                        };
                        let [Some(out)] = add.outputs[..] else {
                            return None;
                        };
                        let source = self.bias(other, outputs)?;
                        self.current = out;
                        self.next += 1;
                        Some(source)
                    }
                    _ => None,
                };
                Some(Layer {
                    weight,
                    transposed: true,
                    bias,
                    inputs,
                    outputs,
                })
            }
            _ => None,
        }
    }

    /// An activation the native engine has, on the current value.
    fn activation(&mut self) -> Option<Activation> {
        let node = self.take(&["Relu", "Tanh", "LeakyRelu"])?;
        Some(match node.op.as_str() {
            "Relu" => Activation::Relu,
            "Tanh" => Activation::Tanh,
            _ => Activation::LeakyRelu {
                slope: node.float("alpha", 0.01).ok()?,
            },
        })
    }

    /// Skips nodes that change nothing for a 2-D float tensor.
    fn skip_identities(&mut self) {
        while self.take(&["Identity"]).is_some() {}
    }
}

/// The output width of a weight of `shape` on `inputs` features (`[out, in]`, or `[in, out]`
/// when `transposed`).
fn weight_outputs(shape: &[usize], transposed: bool, inputs: usize) -> Option<usize> {
    let &[a, b] = shape else { return None };
    let (out, inp) = if transposed { (b, a) } else { (a, b) };
    (inp == inputs && out > 0).then_some(out)
}

impl DenseChain {
    /// The chain `model`'s graph is, if it is one: a float input of one dimension (or one
    /// flattened by a leading `Flatten` on axis 1), then dense layers (`Gemm`, or `MatMul`
    /// with an optional bias `Add`, weights and biases from initializers) with the same
    /// activation (`Relu`, `Tanh`, `LeakyRelu`) between every two, and nothing after the
    /// last.
    pub(crate) fn detect(model: &OnnxModel) -> Option<DenseChain> {
        if model.integer_input() || model.has_batch_norm() {
            return None;
        }
        let mut walk = Walker {
            model,
            current: model.graph.input.value,
            next: 0,
        };
        let features: usize = model.example_shape().iter().product();
        if walk.peek().is_some_and(|n| n.op == "Flatten") {
            let flatten = walk.take(&["Flatten"])?;
            if flatten.int("axis", 1).ok()? != 1 {
                return None;
            }
        } else if model.example_shape().len() > 1 {
            return None;
        }
        let mut layers = Vec::new();
        let mut activation = None;
        let mut inputs = features;
        loop {
            walk.skip_identities();
            let layer = walk.layer(inputs)?;
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
        if walk.current != model.output {
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
        let mut map = ParamMap {
            base: vec![0.0; layout.len()],
            pieces: Vec::new(),
            onnx_len: model.layout().len(),
        };
        for (k, layer) in layers.iter().enumerate() {
            let weight = layout.get(&format!("layers.{k}.weight"))?;
            let bias = layout.get(&format!("layers.{k}.bias"))?;
            let tensors = [
                (
                    Some(&layer.weight),
                    weight.offset,
                    layer.outputs,
                    layer.inputs,
                    layer.transposed,
                ),
                (layer.bias.as_ref(), bias.offset, 1, layer.outputs, false),
            ];
            for (source, native, rows, cols, transposed) in tensors {
                match source {
                    Some(Source::Param(onnx)) => map.pieces.push(Piece {
                        onnx: *onnx,
                        native,
                        rows,
                        cols,
                        transposed,
                    }),
                    Some(Source::Constant(values)) => {
                        let piece = Piece {
                            onnx: 0,
                            native,
                            rows,
                            cols,
                            transposed,
                        };
                        for (from, to) in piece.pairs() {
                            map.base[to] = values[from];
                        }
                    }
                    // No bias: the native layer's stays zero.
                    None => {}
                }
            }
        }
        let map = (!map.is_identity()).then_some(map);
        Some(DenseChain { mlp, map })
    }

    fn native<'t>(&self, theta: &'t [f32]) -> Cow<'t, [f32]> {
        match &self.map {
            None => Cow::Borrowed(theta),
            Some(m) => Cow::Owned(m.apply(theta, true)),
        }
    }

    fn native_direction<'t>(&self, v: &'t [f32]) -> Cow<'t, [f32]> {
        match &self.map {
            None => Cow::Borrowed(v),
            Some(m) => Cow::Owned(m.apply(v, false)),
        }
    }

    pub(crate) fn evaluate(&self, thetas: &[&[f32]], data: &Dataset) -> Vec<Eval> {
        let natives: Vec<Cow<[f32]>> = thetas.iter().map(|t| self.native(t)).collect();
        let refs: Vec<&[f32]> = natives.iter().map(|t| &**t).collect();
        self.mlp.evaluate(&refs, data)
    }

    pub(crate) fn evaluate_affine(
        &self,
        plane: Affine<'_>,
        ab: &[(f64, f64)],
        data: &Dataset,
    ) -> Vec<Eval> {
        let center = self.native(plane.center);
        let x = self.native_direction(plane.x);
        let y = plane.y.map(|y| self.native_direction(y));
        let plane = Affine {
            center: &center,
            x: &x,
            y: y.as_deref(),
        };
        self.mlp.evaluate_affine(plane, ab, data)
    }

    pub(crate) fn loss_grad(&self, theta: &[f32], batch: &Batch<'_>, grad: &mut [f32]) -> f64 {
        let theta = self.native(theta);
        match &self.map {
            None => self.mlp.loss_grad(&theta, batch, grad),
            Some(m) => {
                let mut native = vec![0f32; theta.len()];
                let loss = self.mlp.loss_grad(&theta, batch, &mut native);
                grad.copy_from_slice(&m.adjoint(&native));
                loss
            }
        }
    }

    pub(crate) fn hvp(&self, theta: &[f32], v: &[f32], data: &Dataset) -> Vec<f64> {
        let hv = self
            .mlp
            .hvp(&self.native(theta), &self.native_direction(v), data);
        match &self.map {
            None => hv,
            Some(m) => m.adjoint(&hv),
        }
    }

    pub(crate) fn logits(&self, theta: &[f32], inputs: &[f32], n: usize) -> Vec<f32> {
        self.mlp.logits(&self.native(theta), inputs, n)
    }
}

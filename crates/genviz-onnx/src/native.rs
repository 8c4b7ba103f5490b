//! Graphs that genviz's own engines compute: a model whose graph is one of the shapes
//! [`crate::dense`] or [`crate::cnn`] recognise runs on the CPU through genviz's native MLP
//! engine or its small-CNN engine instead of the interpreter.
//!
//! Why: the interpreter dispatches burn operations node by node (on the paper's small
//! networks 2.7x the native MLP engine's time per landscape point in `genviz bench`, and burn's
//! convolutions about 4x genviz's own). The model's parameters stay the ONNX initializers
//! under their ONNX names: a [`ParamMap`] moves values between that vector and the native one
//! (transposing `[in, out]` weights and filling in initializers that a `--params` pattern
//! left constant), and moves gradients and Hessian-vector products back by its adjoint.

use crate::graph::Node;
use crate::host::Host;
use crate::model::OnnxModel;
use crate::shape_arith::{self, Dim, Ints};
use genviz_conv::CpuCnn;
use genviz_core::{Affine, Batch, Dataset, Eval, Network};
use genviz_mlp::{Activation, Mlp};
use std::borrow::Cow;
use std::collections::HashMap;

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
pub(crate) struct ParamMap {
    base: Vec<f32>,
    pieces: Vec<Piece>,
    onnx_len: usize,
}

impl ParamMap {
    /// The map onto a native vector of `native_len` values from `model`'s parameters, with
    /// nothing placed yet (every native value 0).
    pub(crate) fn new(native_len: usize, model: &OnnxModel) -> Self {
        ParamMap {
            base: vec![0.0; native_len],
            pieces: Vec::new(),
            onnx_len: model.layout().len(),
        }
    }

    /// Places the native `rows x cols` tensor at offset `native`, from `source` (stored as
    /// `cols x rows` when `transposed`); `None` leaves it 0 (a layer without a bias).
    pub(crate) fn place(
        &mut self,
        source: Option<&Source>,
        native: usize,
        rows: usize,
        cols: usize,
        transposed: bool,
    ) {
        let piece = |onnx| Piece {
            onnx,
            native,
            rows,
            cols,
            transposed,
        };
        match source {
            Some(Source::Param(onnx)) => self.pieces.push(piece(*onnx)),
            Some(Source::Constant(values)) => {
                for (from, to) in piece(0).pairs() {
                    self.base[to] = values[from];
                }
            }
            None => {}
        }
    }

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

/// The native engine a recognised graph runs on.
#[derive(Clone, Debug)]
pub(crate) enum Engine {
    /// A chain of dense layers ([`crate::dense`]).
    Mlp(Mlp),
    /// The small CNN ([`crate::cnn`]).
    Cnn(CpuCnn),
}

/// A recognised graph with the native network that computes it.
#[derive(Clone, Debug)]
pub(crate) struct NativeNet {
    engine: Engine,
    /// `None` when the ONNX parameter vector is the native one as it is.
    map: Option<ParamMap>,
}

impl NativeNet {
    /// The native network of `model`'s graph, if genviz has an engine for it.
    pub(crate) fn detect(model: &OnnxModel) -> Option<NativeNet> {
        if model.integer_input() || model.has_batch_norm() {
            return None;
        }
        crate::dense::detect(model).or_else(|| crate::cnn::detect(model))
    }

    /// `engine` computing the graph through `map`.
    pub(crate) fn new(engine: Engine, map: ParamMap) -> NativeNet {
        let map = (!map.is_identity()).then_some(map);
        NativeNet { engine, map }
    }

    fn net(&self) -> &dyn Network {
        match &self.engine {
            Engine::Mlp(mlp) => mlp,
            Engine::Cnn(cnn) => cnn,
        }
    }

    /// Which engine: `"mlp"` or `"cnn"`.
    pub(crate) fn engine_name(&self) -> &'static str {
        match self.engine {
            Engine::Mlp(_) => "mlp",
            Engine::Cnn(_) => "cnn",
        }
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
        self.net().evaluate(&refs, data)
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
        self.net().evaluate_affine(plane, ab, data)
    }

    pub(crate) fn loss_grad(&self, theta: &[f32], batch: &Batch<'_>, grad: &mut [f32]) -> f64 {
        let theta = self.native(theta);
        match &self.map {
            None => self.net().loss_grad(&theta, batch, grad),
            Some(m) => {
                let mut native = vec![0f32; theta.len()];
                let loss = self.net().loss_grad(&theta, batch, &mut native);
                grad.copy_from_slice(&m.adjoint(&native));
                loss
            }
        }
    }

    /// The native engine's `H v` (the MLP's exact R-operator; central differences of the
    /// CNN's exact gradients), seen over the ONNX vector.
    pub(crate) fn hvp(&self, theta: &[f32], v: &[f32], data: &Dataset) -> Vec<f64> {
        let hv = self
            .net()
            .hvp(&self.native(theta), &self.native_direction(v), data);
        match &self.map {
            None => hv,
            Some(m) => m.adjoint(&hv),
        }
    }

    pub(crate) fn logits(&self, theta: &[f32], inputs: &[f32], n: usize) -> Vec<f32> {
        self.net().logits(&self.native(theta), inputs, n)
    }
}

/// Where a layer's weight or bias comes from.
pub(crate) enum Source {
    /// A parameter at this offset of the ONNX vector.
    Param(usize),
    /// A constant initializer's values.
    Constant(Vec<f32>),
}

/// One recognised dense layer: `x W^T + b` with `W` stored as `[out, in]`, or as `[in, out]`
/// when `transposed` (`MatMul`, `Gemm` without `transB`).
pub(crate) struct Dense {
    pub(crate) weight: Source,
    pub(crate) transposed: bool,
    pub(crate) bias: Option<Source>,
    pub(crate) inputs: usize,
    pub(crate) outputs: usize,
}

impl Dense {
    /// Places the layer's weight and bias at the native offsets `weight` and `bias`.
    pub(crate) fn place(&self, map: &mut ParamMap, weight: usize, bias: usize) {
        map.place(
            Some(&self.weight),
            weight,
            self.outputs,
            self.inputs,
            self.transposed,
        );
        map.place(self.bias.as_ref(), bias, 1, self.outputs, false);
    }
}

/// Walks the graph from its input; `None` at the first node that does not fit the pattern.
pub(crate) struct Walker<'a> {
    model: &'a OnnxModel,
    /// The value the next node must read.
    pub(crate) current: usize,
    next: usize,
    /// Shapes of the values met so far that are known (the input's; a recogniser notes
    /// others), with the batch size symbolic.
    shapes: HashMap<usize, Vec<Dim>>,
    /// Integer values computed on the side from shapes and constants ([`shape_arith`]).
    ints: HashMap<usize, Ints>,
}

impl<'a> Walker<'a> {
    /// At the model's input.
    pub(crate) fn new(model: &'a OnnxModel) -> Self {
        let mut shape = vec![Dim::Batch];
        shape.extend(model.example_shape().iter().map(|&d| Dim::Fixed(d as i64)));
        Walker {
            model,
            current: model.graph.input.value,
            next: 0,
            shapes: HashMap::from([(model.graph.input.value, shape)]),
            ints: HashMap::new(),
        }
    }

    /// Records the shape of `value`, for shape computations that read it.
    pub(crate) fn note_shape(&mut self, value: usize, shape: Vec<Dim>) {
        self.shapes.insert(value, shape);
    }

    /// An integer value computed on the side, or an integer initializer.
    pub(crate) fn int_value(&self, id: usize) -> Option<Ints> {
        if let Some(v) = self.ints.get(&id) {
            return Some(v.clone());
        }
        let (_, host) = self.model.constants.iter().find(|(c, _)| *c == id)?;
        Ints::of_host(host)
    }

    /// Takes the shape computations at the head of the chain (nodes that build integers
    /// from shapes and constants; not the main chain's own `Reshape`), evaluating them.
    fn skip_shape_computations(&mut self) -> bool {
        let mut took = false;
        while let Some(node) = self.peek() {
            let reads_current = node.inputs.first().copied().flatten() == Some(self.current);
            if !shape_arith::SHAPE_OPS.contains(&node.op.as_str())
                || (reads_current && node.op != "Shape")
            {
                break;
            }
            let [Some(out)] = node.outputs[..] else {
                break;
            };
            let value = shape_arith::eval(
                node,
                |k| self.int_value(node.inputs.get(k).copied().flatten()?),
                |id| self.shapes.get(&id).cloned(),
            );
            let Some(value) = value else { break };
            self.ints.insert(out, value);
            self.next += 1;
            took = true;
        }
        took
    }

    pub(crate) fn peek(&self) -> Option<&'a Node> {
        self.model.graph.nodes.get(self.next)
    }

    /// Whether every node was taken and the last one wrote the model's output.
    pub(crate) fn at_output(&self) -> bool {
        self.peek().is_none() && self.current == self.model.output
    }

    /// The node at the head of the chain if it is one of `ops` reading the current value as
    /// its first input and writing exactly one output.
    pub(crate) fn take(&mut self, ops: &[&str]) -> Option<&'a Node> {
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
    pub(crate) fn initializer(&self, id: usize) -> Option<(Vec<usize>, Source)> {
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

    /// `Flatten` on axis 1 of a value of `rank` axes, or a `Reshape` to `[batch, features]`:
    /// a constant (`-1` or `0` for the batch) or one computed from the batch size beside the
    /// chain (PyTorch's dynamo exporter).
    pub(crate) fn flatten(&mut self, features: usize, rank: usize) -> Option<()> {
        let node = self.take(&["Flatten", "Reshape"])?;
        if node.op == "Flatten" {
            // Axis 1, counted from either end.
            let axis = node.int("axis", 1).ok()?;
            return (axis == 1 || axis == 1 - rank as i64).then_some(());
        }
        let shape = self.int_value(node.inputs.get(1).copied().flatten()?)?;
        let f = Dim::Fixed(features as i64);
        let inferred = Dim::Fixed(-1);
        // `0` copies the batch size unless `allowzero` is set.
        let copies = node.int("allowzero", 0).ok()? == 0;
        let ok = match shape.dims[..] {
            [Dim::Batch, n] => n == f || n == inferred,
            [Dim::Fixed(-1), n] => n == f,
            [Dim::Fixed(0), n] => copies && (n == f || n == inferred),
            _ => false,
        };
        (ok && !shape.scalar).then_some(())
    }

    /// A bias of `outputs` values (`[out]` or `[1, out]`).
    pub(crate) fn bias(&self, id: usize, outputs: usize) -> Option<Source> {
        let (shape, source) = self.initializer(id)?;
        (shape == [outputs] || shape == [1, outputs]).then_some(source)
    }

    /// A `Gemm` or a `MatMul` (with an optional `Add` of a bias) on the current value of
    /// `inputs` features.
    pub(crate) fn dense(&mut self, inputs: usize) -> Option<Dense> {
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
                Some(Dense {
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
                Some(Dense {
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

    /// An activation the native MLP engine has, on the current value.
    pub(crate) fn activation(&mut self) -> Option<Activation> {
        let node = self.take(&["Relu", "Tanh", "LeakyRelu"])?;
        Some(match node.op.as_str() {
            "Relu" => Activation::Relu,
            "Tanh" => Activation::Tanh,
            _ => Activation::LeakyRelu {
                slope: node.float("alpha", 0.01).ok()?,
            },
        })
    }

    /// Skips nodes that change nothing on the chain, and takes shape computations beside it.
    pub(crate) fn skip_identities(&mut self) {
        while self.take(&["Identity"]).is_some() || self.skip_shape_computations() {}
    }
}

/// The output width of a weight of `shape` on `inputs` features (`[out, in]`, or `[in, out]`
/// when `transposed`).
fn weight_outputs(shape: &[usize], transposed: bool, inputs: usize) -> Option<usize> {
    let &[a, b] = shape else { return None };
    let (out, inp) = if transposed { (b, a) } else { (a, b) };
    (inp == inputs && out > 0).then_some(out)
}

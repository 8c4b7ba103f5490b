//! [`OnnxModel`]: a checked ONNX graph with genviz's view of it (which initializers are
//! parameters, the input each example must have, the loss head), ready to run on any burn
//! backend.

use crate::graph::{dims_text, Dim, Graph, Node};
use crate::host::{Elem, Host};
use crate::native::NativeNet;
use crate::ops::{self, BatchNorm, Ctx, Dev, Value};
use burn::tensor::backend::Backend;
use burn::tensor::ops::FloatTensor;
use burn::tensor::TensorData;
use genviz_core::{Dataset, Error, Layout, Params, Result, Role};
use prost::Message;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows per forward pass when evaluating: enough to keep a backend busy, few enough that a
/// ResNet-18's activations fit a few GiB (as `genviz_conv::EVAL_BATCH`).
pub const EVAL_BATCH: usize = 500;

/// The largest tensor, in elements, an operator may create (2^31: 8 GiB of `f32`). Real
/// models stay far below; a malformed file asking for more is refused instead of aborting
/// the process on allocation.
pub const MAX_ELEMENTS: usize = 1 << 31;

/// Float constants up to this many elements stay on the host, where shape arithmetic reads
/// them for free; larger ones are uploaded once per parameter vector.
const HOST_CONSTANT_LIMIT: usize = 64;

/// Metadata key under which genviz's exporter records the loss head (`sigmoid`, `softmax`).
pub const HEAD_METADATA_KEY: &str = "genviz.head";

/// How the model's output turns into a loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Head {
    /// One logit per class, softmax cross-entropy.
    #[default]
    Softmax,
    /// One logit for two classes, sigmoid cross-entropy (label 1 is the positive class).
    Sigmoid,
}

/// How BatchNormalization layers get their statistics when genviz evaluates a point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BnMode {
    /// The running statistics stored in the file (PyTorch's `eval()`): every point of a
    /// landscape uses the trained model's statistics.
    #[default]
    Running,
    /// Recomputed from training data at every evaluated point, as Garipov et al.'s
    /// `update_bn` does after moving along a curve: points far from the trained model get
    /// statistics that fit their own weights.
    Recompute,
}

/// Choices made when loading a model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OnnxOptions {
    /// A regular expression: only float initializers whose names it matches (anywhere in
    /// the name) are parameters; the others stay constant. `None`: all of them.
    pub params: Option<String>,
    /// The loss head; `None` chooses: the head a genviz export records (metadata
    /// `genviz.head`), else sigmoid for a single logit and softmax otherwise.
    pub head: Option<Head>,
    /// The shape of one example, for inputs whose non-batch dimensions are symbolic.
    pub input_shape: Option<Vec<usize>>,
    /// Which graph output holds the logits (default: the first).
    pub output: Option<String>,
    /// Rows per forward pass.
    pub eval_batch: usize,
    /// The largest tensor an operator may create, in elements.
    pub max_elements: usize,
}

impl Default for OnnxOptions {
    fn default() -> Self {
        OnnxOptions {
            params: None,
            head: None,
            input_shape: None,
            output: None,
            eval_batch: EVAL_BATCH,
            max_elements: MAX_ELEMENTS,
        }
    }
}

/// A parameter: an initializer and where it sits in the flat vector.
#[derive(Clone, Debug)]
pub(crate) struct Param {
    pub value: usize,
    pub offset: usize,
    pub shape: Vec<usize>,
}

/// A BatchNormalization node whose running statistics are initializers.
#[derive(Clone, Debug)]
pub(crate) struct BnLayer {
    pub node: usize,
    pub mean: usize,
    pub var: usize,
}

/// A loaded, checked ONNX model.
///
/// Backend-independent: [`crate::OnnxNet`] runs it on a burn device. The parameters are the
/// float initializers (except BatchNorm running statistics, and those a
/// [`OnnxOptions::params`] pattern leaves out), in file order, under their ONNX names, so a
/// direction or a perturbation means the same tensors as in PyTorch's `state_dict`.
#[derive(Clone, Debug)]
pub struct OnnxModel {
    pub(crate) path: PathBuf,
    pub(crate) graph: Graph,
    pub(crate) output: usize,
    /// For each value, the position of the last node that reads it (`usize::MAX`: never
    /// freed).
    pub(crate) last_use: Vec<usize>,
    pub(crate) layout: Arc<Layout>,
    pub(crate) params: Vec<Param>,
    pub(crate) initial: Vec<f32>,
    pub(crate) constants: Vec<(usize, Arc<Host>)>,
    pub(crate) bn_layers: Vec<BnLayer>,
    pub(crate) example_shape: Vec<usize>,
    pub(crate) fixed_batch: Option<usize>,
    pub(crate) outputs: usize,
    pub(crate) vocabulary: Option<usize>,
    pub(crate) options: OnnxOptions,
    head: Head,
    warnings: Vec<String>,
    /// The native engine that computes the graph on the CPU, when genviz has one for it.
    pub(crate) native: Option<Arc<NativeNet>>,
}

/// Backend of the load-time probe: burn's CPU backend, whatever backend evaluates later.
type Probe = burn::backend::Flex;

impl OnnxModel {
    /// Reads and checks the `.onnx` file at `path`.
    ///
    /// # Errors
    /// An unreadable file, or any problem [`OnnxModel::from_bytes`] finds, naming the file.
    pub fn open(path: &Path, options: &OnnxOptions) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_bytes(&bytes, path, options)
    }

    /// Reads and checks a model held in memory; `path` names it in messages.
    ///
    /// Everything is checked here, once: the protobuf, the opset, the graph's structure,
    /// every constant, the operators (all unsupported ones listed at once), the parameter
    /// pattern, and a forward pass on a blank batch that checks every node's shapes (with
    /// the stored BatchNorm statistics and with batch statistics).
    ///
    /// # Errors
    /// A message naming `path`, the node, initializer or input at fault, and what was
    /// expected.
    pub fn from_bytes(bytes: &[u8], path: &Path, options: &OnnxOptions) -> Result<Self> {
        let bad = |m: String| Error::bad_file(path, m);
        let proto = crate::proto::ModelProto::decode(bytes).map_err(|e| {
            bad(format!(
                "is not an ONNX model (protobuf decoding failed: {e})"
            ))
        })?;
        let mut graph = Graph::from_model(&proto).map_err(bad)?;
        let output = match &options.output {
            None => graph.outputs[0].0,
            Some(name) => graph
                .outputs
                .iter()
                .find(|(_, n)| n == name)
                .map(|(id, _)| *id)
                .ok_or_else(|| {
                    let names: Vec<&str> = graph.outputs.iter().map(|(_, n)| n.as_str()).collect();
                    bad(format!(
                        "has no output `{name}` (its outputs: {})",
                        names.join(", ")
                    ))
                })?,
        };
        // Only what the output depends on must be supported.
        graph.prune(output);
        graph
            .check_supported(&|op| ops::lookup::<Probe>(op).is_some())
            .map_err(bad)?;
        if options.eval_batch == 0 {
            return Err(Error::invalid("eval_batch must be at least 1"));
        }

        let (example_shape, fixed_batch) =
            example_shape(&graph, options.input_shape.as_deref(), options.max_elements)
                .map_err(bad)?;
        let mut last_use = vec![0usize; graph.names.len()];
        for (k, node) in graph.nodes.iter().enumerate() {
            for id in node.inputs.iter().flatten() {
                last_use[*id] = k;
            }
        }
        last_use[output] = usize::MAX;

        // Which initializers are BatchNorm running statistics (buffers, not parameters).
        let mut stat_ids = HashSet::new();
        let mut bn_layers = Vec::new();
        let initializer_ids: HashMap<usize, usize> = graph
            .initializers
            .iter()
            .enumerate()
            .map(|(k, (id, _))| (*id, k))
            .collect();
        let mut roles: HashMap<usize, Role> = HashMap::new();
        for node in &graph.nodes {
            let slot = |k: usize| node.inputs.get(k).copied().flatten();
            match node.op.as_str() {
                "BatchNormalization" => {
                    if let (Some(m), Some(v)) = (slot(3), slot(4)) {
                        stat_ids.extend([m, v]);
                        if initializer_ids.contains_key(&m) && initializer_ids.contains_key(&v) {
                            bn_layers.push(BnLayer {
                                node: node.index,
                                mean: m,
                                var: v,
                            });
                        }
                    }
                    norm_roles(&mut roles, slot(1), slot(2));
                }
                "LayerNormalization" => norm_roles(&mut roles, slot(1), slot(2)),
                _ => {}
            }
        }
        let pattern = match &options.params {
            None => None,
            Some(p) => Some(regex::Regex::new(p).map_err(|e| {
                Error::invalid(format!(
                    "parameter pattern `{p}` is not a regular expression: {e}"
                ))
            })?),
        };
        let mut specs = Vec::new();
        let mut params = Vec::new();
        let mut initial = Vec::new();
        let mut constants = Vec::new();
        for (id, host) in &graph.initializers {
            let name = &graph.names[*id];
            let is_param = matches!(host, Host::F32(_))
                && !host.is_empty()
                && !stat_ids.contains(id)
                && pattern.as_ref().is_none_or(|p| p.is_match(name));
            if !is_param {
                constants.push((*id, Arc::new(host.clone())));
                continue;
            }
            let shape = host.shape().to_vec();
            let role = roles.get(id).copied().unwrap_or(if shape.len() >= 2 {
                Role::Weight
            } else {
                Role::Bias
            });
            params.push(Param {
                value: *id,
                offset: initial.len(),
                shape: shape.clone(),
            });
            initial.extend(host.to_f32_vec());
            specs.push((name.clone(), shape, role));
        }
        if params.is_empty() {
            let floats: Vec<&str> = graph
                .initializers
                .iter()
                .filter(|(id, h)| matches!(h, Host::F32(_)) && !stat_ids.contains(id))
                .map(|(id, _)| graph.names[*id].as_str())
                .take(8)
                .collect();
            return Err(match &options.params {
                Some(p) => Error::invalid(format!(
                    "{}: the parameter pattern `{p}` matches no float initializer (the model has {})",
                    path.display(),
                    if floats.is_empty() { "none".to_string() } else { floats.join(", ") }
                )),
                None => bad("has no float initializers, so nothing to treat as parameters".to_string()),
            });
        }
        let layout = Arc::new(Layout::new(specs).map_err(|e| bad(e.to_string()))?);
        let vocabulary = vocabulary(&graph);

        let mut model = OnnxModel {
            path: path.to_path_buf(),
            graph,
            output,
            last_use,
            layout,
            params,
            initial,
            constants,
            bn_layers,
            example_shape,
            fixed_batch,
            outputs: 0,
            vocabulary,
            options: options.clone(),
            head: Head::Softmax,
            warnings: Vec::new(),
            native: None,
        };
        model.outputs = model.probe().map_err(bad)?;
        let recorded = proto
            .metadata_props
            .iter()
            .find(|p| p.key == HEAD_METADATA_KEY)
            .and_then(|p| match p.value.as_str() {
                "sigmoid" => Some(Head::Sigmoid),
                "softmax" => Some(Head::Softmax),
                _ => None,
            });
        model.head = options.head.or(recorded).unwrap_or(if model.outputs == 1 {
            Head::Sigmoid
        } else {
            Head::Softmax
        });
        match (model.head, model.outputs) {
            (Head::Softmax, 1) => {
                return Err(bad(
                    "has one output logit; softmax cross-entropy needs one per class (use the sigmoid head for a single logit)"
                        .to_string(),
                ))
            }
            (Head::Sigmoid, k) if k != 1 => {
                return Err(bad(format!(
                    "has {k} output logits; the sigmoid head needs exactly one"
                )))
            }
            _ => {}
        }
        model.warnings = model.find_warnings();
        model.native = NativeNet::detect(&model).map(Arc::new);
        Ok(model)
    }

    /// The parameters' layout: names, shapes and roles, in file order.
    pub fn layout(&self) -> &Arc<Layout> {
        &self.layout
    }

    /// The parameter values stored in the file.
    pub fn params(&self) -> Params {
        Params::from_vec(self.layout.clone(), self.initial.clone())
            .expect("values match the layout")
    }

    /// Things a user should know about this model (printed by the command line): BatchNorm
    /// apparently folded into convolutions, parameters with generated names.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The shape of one example (without the batch dimension).
    pub fn example_shape(&self) -> &[usize] {
        &self.example_shape
    }

    /// Whether the model reads integer token ids (rather than float features).
    pub fn integer_input(&self) -> bool {
        self.graph.input.elem == Elem::Int
    }

    /// Number of logits per example.
    pub fn num_outputs(&self) -> usize {
        self.outputs
    }

    /// Number of classes: the logits for the softmax head, 2 for the sigmoid head.
    pub fn num_classes(&self) -> usize {
        match self.head {
            Head::Softmax => self.outputs,
            Head::Sigmoid => 2,
        }
    }

    /// The loss head.
    pub fn head(&self) -> Head {
        self.head
    }

    /// Whether the graph has BatchNormalization layers whose statistics genviz can recompute.
    pub fn has_batch_norm(&self) -> bool {
        !self.bn_layers.is_empty()
    }

    /// The file the model came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The options the model was loaded with.
    pub fn options(&self) -> &OnnxOptions {
        &self.options
    }

    /// The ONNX opset and the writer of the file, for records.
    pub fn provenance(&self) -> (i64, &str) {
        (self.graph.opset, &self.graph.producer)
    }

    /// Checks an array of examples of shape `shape` (batch axis excluded) against the
    /// model's input: the same shape, or the same number of values in one flat axis (genviz
    /// stores examples as flat rows).
    ///
    /// # Errors
    /// A message naming the model's input, its shape and the data's.
    pub fn check_example_shape(&self, shape: &[usize], integer: bool) -> Result<()> {
        let want = &self.example_shape;
        let count: usize = want.iter().product();
        let flat_ok = shape.len() == 1 && shape[0] == count;
        if shape != want.as_slice() && !flat_ok {
            return Err(Error::invalid(format!(
                "the data's examples have shape {shape:?} but model {} reads input `{}` of shape {} (one example: {want:?}, or {count} values in a row)",
                self.path.display(),
                self.graph.input.name,
                dims_text(&self.graph.input.dims)
            )));
        }
        if self.integer_input() && !integer {
            return Err(Error::invalid(format!(
                "model {} reads integer token ids in input `{}`, but the data holds floats",
                self.path.display(),
                self.graph.input.name
            )));
        }
        Ok(())
    }

    /// Checks a data set against the model: row length, integer token ids within the
    /// vocabulary, labels within the classes.
    ///
    /// # Errors
    /// A message naming the model, the example and what was expected.
    pub fn check_dataset(&self, data: &Dataset) -> Result<()> {
        let count: usize = self.example_shape.iter().product();
        if data.dim() != count {
            return Err(Error::invalid(format!(
                "the data has {} values per example but model {} reads input `{}` of shape {} ({count} values per example)",
                data.dim(),
                self.path.display(),
                self.graph.input.name,
                dims_text(&self.graph.input.dims)
            )));
        }
        if data.num_classes() > self.num_classes() {
            return Err(Error::invalid(format!(
                "the data has {} classes but model {} predicts {}",
                data.num_classes(),
                self.path.display(),
                self.num_classes()
            )));
        }
        if self.integer_input() {
            let limit = self.vocabulary.unwrap_or(1 << 24) as f32;
            if let Some(k) = data
                .features()
                .iter()
                .position(|&v| v.fract() != 0.0 || v < 0.0 || v >= limit)
            {
                return Err(Error::invalid(format!(
                    "value {} of example {} is {}; model {} reads token ids, integers in 0..{}",
                    k % count,
                    k / count,
                    data.features()[k],
                    self.path.display(),
                    limit
                )));
            }
        }
        Ok(())
    }

    fn find_warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let count = |op: &str| self.graph.nodes.iter().filter(|n| n.op == op).count();
        let convs = count("Conv");
        // genviz's own exporter never folds BatchNorm.
        let folded_possible = !self.graph.producer.starts_with("genviz");
        if convs > 0 && count("BatchNormalization") == 0 && folded_possible {
            out.push(format!(
                "{}: the graph has {convs} convolution(s) and no BatchNormalization; PyTorch's default export folds BatchNorm into the convolution weights (keeping their names), so genviz would perturb folded weights rather than the model's. If the model has BatchNorm, re-export it with `torch.onnx.export(..., dynamo=True, optimize=False)` or `torch.onnx.export(..., dynamo=False, do_constant_folding=False)`.",
                self.path.display()
            ));
        }
        let generated: Vec<&str> = self
            .layout
            .tensors()
            .iter()
            .map(|t| t.name.as_str())
            .filter(|n| n.starts_with("onnx::") || n.starts_with("val_") || n.starts_with("_val"))
            .collect();
        if !generated.is_empty() {
            out.push(format!(
                "{}: {} parameter(s) have names an exporter generated ({}{}): constant folding replaced the model's own tensors; export with constant folding off to keep PyTorch's names",
                self.path.display(),
                generated.len(),
                generated.iter().take(3).copied().collect::<Vec<_>>().join(", "),
                if generated.len() > 3 { ", ..." } else { "" }
            ));
        }
        out
    }

    /// Runs a blank batch through the graph on the CPU with the stored statistics and, if
    /// there is BatchNorm, with batch statistics; returns the number of logits.
    fn probe(&self) -> std::result::Result<usize, String> {
        let rows = self.fixed_batch.unwrap_or(2);
        let device = Default::default();
        let count: usize = self.example_shape.iter().product();
        let zeros = vec![0f32; rows * count];
        let env = self.base_env::<Probe>(&self.initial, &device, |t| t, None);
        let mut logits = None;
        for bn in [false, true] {
            if bn && self.bn_layers.is_empty() {
                break;
            }
            let mut ctx = self.ctx::<Probe>(
                &device,
                if bn {
                    BatchNorm::Batch(Vec::new())
                } else {
                    BatchNorm::Running
                },
            );
            let out = self.forward(&env, &zeros, rows, &mut ctx)?;
            logits.get_or_insert(out.shape);
        }
        let shape = logits.expect("one pass ran");
        match shape.as_slice() {
            [n, k] if *n == rows && *k >= 1 => Ok(*k),
            _ => Err(format!(
                "output `{}` has shape {shape:?} for a batch of {rows}; genviz needs logits [batch, classes]",
                self.graph.names[self.output]
            )),
        }
    }

    pub(crate) fn ctx<B: Backend>(&self, device: &B::Device, bn: BatchNorm<B>) -> Ctx<B> {
        Ctx {
            device: device.clone(),
            opset: self.graph.opset,
            bn,
            max_elements: self.options.max_elements,
        }
    }

    /// The values every forward pass starts from: parameters from `theta` (each passed
    /// through `mark`, which may ask for gradients), constants, and running statistics
    /// replaced by `stats` where given.
    pub(crate) fn base_env<B: Backend>(
        &self,
        theta: &[f32],
        device: &B::Device,
        mut mark: impl FnMut(FloatTensor<B>) -> FloatTensor<B>,
        stats: Option<&HashMap<usize, Vec<f32>>>,
    ) -> Vec<Option<Value<B>>> {
        let mut env: Vec<Option<Value<B>>> = vec![None; self.graph.names.len()];
        for p in &self.params {
            let len: usize = p.shape.iter().product();
            let flat = B::float_from_data(
                TensorData::new(theta[p.offset..p.offset + len].to_vec(), [len]),
                device,
            );
            env[p.value] = Some(Value::Dev(
                Dev::new(mark(flat), vec![len]).reshape(&p.shape),
            ));
        }
        for (id, host) in &self.constants {
            let replaced = stats.and_then(|s| s.get(id));
            env[*id] = Some(match (replaced, &**host) {
                (Some(values), _) => Value::Dev(Dev::upload(values.clone(), host.shape(), device)),
                (None, Host::F32(a)) if a.len() > HOST_CONSTANT_LIMIT => {
                    Value::Dev(Dev::upload(a.iter().copied().collect(), a.shape(), device))
                }
                (None, _) => Value::Host(host.clone()),
            });
        }
        env
    }

    /// The parameters' tensors in `env` (the leaves gradients are read from), in layout order.
    pub(crate) fn params_in_order(&self) -> impl Iterator<Item = &Param> {
        self.params.iter()
    }

    /// Runs `m` examples (flat rows) through the graph from `base`; returns the logits.
    pub(crate) fn forward<B: Backend>(
        &self,
        base: &[Option<Value<B>>],
        rows: &[f32],
        m: usize,
        ctx: &mut Ctx<B>,
    ) -> std::result::Result<Dev<B>, String> {
        let mut env = base.to_vec();
        let mut shape = vec![m];
        shape.extend(&self.example_shape);
        let input = match self.graph.input.elem {
            Elem::Float => Value::Dev(Dev::upload(rows.to_vec(), &shape, &ctx.device)),
            _ => Value::host(Host::i64(&shape, rows.iter().map(|&v| v as i64).collect())),
        };
        env[self.graph.input.value] = Some(input);
        for (k, node) in self.graph.nodes.iter().enumerate() {
            let inputs = self.gather_inputs(node, &env)?;
            let outs = ops::run(node, &inputs, ctx)?;
            for (j, id) in node.outputs.iter().enumerate() {
                if let Some(id) = id {
                    env[*id] = outs.get(j).cloned();
                }
            }
            for id in node.inputs.iter().flatten() {
                if self.last_use[*id] == k {
                    env[*id] = None;
                }
            }
        }
        match env[self.output].take() {
            Some(Value::Dev(d)) => Ok(d),
            Some(Value::Host(h)) => match &*h {
                Host::F32(a) => Ok(Dev::upload(
                    a.iter().copied().collect(),
                    a.shape(),
                    &ctx.device,
                )),
                other => Err(format!(
                    "output `{}` is a tensor of {}; expected float logits",
                    self.graph.names[self.output],
                    other.elem()
                )),
            },
            None => Err(format!(
                "output `{}` was not computed",
                self.graph.names[self.output]
            )),
        }
    }

    fn gather_inputs<B: Backend>(
        &self,
        node: &Node,
        env: &[Option<Value<B>>],
    ) -> std::result::Result<Vec<Option<Value<B>>>, String> {
        node.inputs
            .iter()
            .map(|id| match id {
                None => Ok(None),
                Some(id) => env[*id].clone().map(Some).ok_or_else(|| {
                    format!(
                        "{} reads `{}`, an output genviz does not compute (only the main output of Dropout, MaxPool, BatchNormalization and LayerNormalization is supported)",
                        node.label(),
                        self.graph.names[*id]
                    )
                }),
            })
            .collect()
    }
}

/// The shape of one example and the batch size, if the file fixes it.
fn example_shape(
    graph: &Graph,
    given: Option<&[usize]>,
    max_elements: usize,
) -> std::result::Result<(Vec<usize>, Option<usize>), String> {
    let input = &graph.input;
    let Some(dims) = &input.dims else {
        let shape = given.ok_or_else(|| {
            format!(
                "input `{}` declares no shape; give the shape of one example (input_shape)",
                input.name
            )
        })?;
        return checked_example(&input.name, shape.to_vec(), None, max_elements);
    };
    if dims.is_empty() {
        return Err(format!(
            "input `{}` is a scalar; expected a batch of examples",
            input.name
        ));
    }
    let fixed_batch = match dims[0] {
        Dim::Fixed(n) => Some(n),
        _ => None,
    };
    let rest = &dims[1..];
    let declared: Option<Vec<usize>> = rest
        .iter()
        .map(|d| match d {
            Dim::Fixed(n) => Some(*n),
            _ => None,
        })
        .collect();
    let shape = match (declared, given) {
        (Some(d), None) => d,
        (Some(d), Some(g)) if d == g => d,
        (Some(d), Some(g)) => {
            return Err(format!(
                "input `{}` has shape {}: one example is {d:?}, not the given {g:?}",
                input.name,
                dims_text(&input.dims)
            ))
        }
        (None, Some(g)) if g.len() == rest.len() && rest.iter().zip(g).all(|(d, &x)| !matches!(d, Dim::Fixed(n) if *n != x)) => g.to_vec(),
        (None, Some(g)) => {
            return Err(format!(
                "input `{}` has shape {}; the given example shape {g:?} does not fit it",
                input.name,
                dims_text(&input.dims)
            ))
        }
        (None, None) => {
            return Err(format!(
                "input `{}` has shape {} with symbolic dimensions besides the batch; give the shape of one example (input_shape)",
                input.name,
                dims_text(&input.dims)
            ))
        }
    };
    checked_example(&input.name, shape, fixed_batch, max_elements)
}

/// Refuses example shapes with a zero, or too large for a batch to fit the tensor limit.
fn checked_example(
    name: &str,
    shape: Vec<usize>,
    fixed_batch: Option<usize>,
    max_elements: usize,
) -> std::result::Result<(Vec<usize>, Option<usize>), String> {
    if shape.is_empty() || shape.contains(&0) {
        return Err(format!(
            "input `{name}` has an example shape {shape:?}; expected one or more axes, none of size 0"
        ));
    }
    let count = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let rows = fixed_batch.unwrap_or(2).max(1);
    if count
        .and_then(|c| c.checked_mul(rows))
        .is_none_or(|c| c > max_elements)
    {
        return Err(format!(
            "input `{name}`: examples of shape {shape:?} in batches of {rows} exceed the limit of {max_elements} elements per tensor"
        ));
    }
    Ok((shape, fixed_batch))
}

/// Records a normalisation layer's scale and shift inputs.
fn norm_roles(roles: &mut HashMap<usize, Role>, scale: Option<usize>, shift: Option<usize>) {
    if let Some(s) = scale {
        roles.insert(s, Role::NormScale);
    }
    if let Some(s) = shift {
        roles.insert(s, Role::NormShift);
    }
}

/// The number of rows of an embedding table the integer input indexes directly, if any.
fn vocabulary(graph: &Graph) -> Option<usize> {
    let input = graph.input.value;
    graph.nodes.iter().find_map(|n| {
        if n.op != "Gather" || n.inputs.get(1).copied().flatten() != Some(input) {
            return None;
        }
        let table = n.inputs.first().copied().flatten()?;
        let (_, host) = graph.initializers.iter().find(|(id, _)| *id == table)?;
        let axis = n.int("axis", 0).ok()?;
        let r = host.shape().len() as i64;
        let a = if axis < 0 { axis + r } else { axis };
        host.shape().get(usize::try_from(a).ok()?).copied()
    })
}

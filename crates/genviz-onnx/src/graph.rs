//! An ONNX model read into a checked graph: values numbered, nodes in order, constants decoded.
//!
//! Everything that can be wrong with a file's structure is found here, before anything is
//! computed: an opset outside 13..=20, a node that reads a value nothing defines (ONNX requires
//! topological order), two definitions of one name, malformed constants, several data inputs,
//! and operators genviz does not implement (all of them listed at once, with their nodes).
//! Model-local functions (custom operators with an ONNX body, as some exporters write) are
//! inlined, and nodes the chosen output does not depend on are dropped.

use crate::host::{Elem, Host};
use crate::proto::{attribute_type, AttributeProto, FunctionProto, ModelProto, NodeProto};
use std::collections::{HashMap, HashSet};

/// The opsets genviz interprets (the versions of the standard operator set it was written
/// and tested against: PyTorch's old exporter writes 17 by default, its dynamo exporter 18
/// to 20).
pub const OPSETS: std::ops::RangeInclusive<i64> = 13..=20;

/// How deeply model-local functions may call each other before genviz gives up (a guard
/// against recursive definitions).
const MAX_FUNCTION_DEPTH: usize = 16;

/// The most nodes a graph may have once its functions are inlined (a guard against
/// definitions that multiply: ten calls of a function of ten calls, sixteen deep).
const MAX_NODES: usize = 1 << 20;

/// A node attribute's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Attr {
    /// A float.
    Float(f32),
    /// An integer.
    Int(i64),
    /// A string (UTF-8; invalid bytes replaced).
    Str(String),
    /// A tensor.
    Tensor(Host),
    /// Floats.
    Floats(Vec<f32>),
    /// Integers.
    Ints(Vec<i64>),
    /// Strings.
    Strings(Vec<String>),
    /// A kind genviz does not read (a subgraph, a type).
    Other(i32),
}

/// One operator application, with inputs and outputs as value numbers.
#[derive(Clone, Debug)]
pub struct Node {
    /// The node's name in the file (may be empty).
    pub name: String,
    /// Its position among the file's nodes (after function inlining), for unnamed nodes.
    pub index: usize,
    /// The operator.
    pub op: String,
    /// Input values; `None` for an absent optional input.
    pub inputs: Vec<Option<usize>>,
    /// Output values; `None` for an output the file leaves unnamed.
    pub outputs: Vec<Option<usize>>,
    /// Attributes by name.
    pub attrs: HashMap<String, Attr>,
}

impl Node {
    /// How messages name the node: `node "conv1" (Conv)` or `node #3 (Relu)`.
    pub fn label(&self) -> String {
        if self.name.is_empty() {
            format!("node #{} ({})", self.index, self.op)
        } else {
            format!("node \"{}\" ({})", self.name, self.op)
        }
    }

    fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.get(name)
    }

    /// Integer attribute `name`, or `default`.
    pub fn int(&self, name: &str, default: i64) -> Result<i64, String> {
        match self.attr(name) {
            None => Ok(default),
            Some(Attr::Int(v)) => Ok(*v),
            Some(other) => Err(wrong_kind(name, "an integer", other)),
        }
    }

    /// Float attribute `name`, or `default`.
    pub fn float(&self, name: &str, default: f32) -> Result<f32, String> {
        match self.attr(name) {
            None => Ok(default),
            Some(Attr::Float(v)) => Ok(*v),
            Some(Attr::Int(v)) => Ok(*v as f32),
            Some(other) => Err(wrong_kind(name, "a float", other)),
        }
    }

    /// Integer-list attribute `name`, if present.
    pub fn ints(&self, name: &str) -> Result<Option<Vec<i64>>, String> {
        match self.attr(name) {
            None => Ok(None),
            Some(Attr::Ints(v)) => Ok(Some(v.clone())),
            Some(Attr::Int(v)) => Ok(Some(vec![*v])),
            Some(other) => Err(wrong_kind(name, "a list of integers", other)),
        }
    }

    /// String attribute `name`, or `default`.
    pub fn string(&self, name: &str, default: &str) -> Result<String, String> {
        match self.attr(name) {
            None => Ok(default.to_string()),
            Some(Attr::Str(v)) => Ok(v.clone()),
            Some(other) => Err(wrong_kind(name, "a string", other)),
        }
    }

    /// Tensor attribute `name`, if present.
    pub fn tensor(&self, name: &str) -> Result<Option<&Host>, String> {
        match self.attr(name) {
            None => Ok(None),
            Some(Attr::Tensor(t)) => Ok(Some(t)),
            Some(other) => Err(wrong_kind(name, "a tensor", other)),
        }
    }

    /// Whether attribute `name` is set.
    pub fn has(&self, name: &str) -> bool {
        self.attrs.contains_key(name)
    }
}

fn wrong_kind(name: &str, expected: &str, found: &Attr) -> String {
    let kind = match found {
        Attr::Float(_) => "a float",
        Attr::Int(_) => "an integer",
        Attr::Str(_) => "a string",
        Attr::Tensor(_) => "a tensor",
        Attr::Floats(_) => "a list of floats",
        Attr::Ints(_) => "a list of integers",
        Attr::Strings(_) => "a list of strings",
        Attr::Other(_) => "a subgraph or type",
    };
    format!("attribute `{name}` is {kind}, expected {expected}")
}

/// One dimension of the data input as the file declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dim {
    /// A fixed size.
    Fixed(usize),
    /// A named (dynamic) size, such as `batch`.
    Named(String),
    /// No size given.
    Unknown,
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Named(s) => write!(f, "{s}"),
            Dim::Unknown => write!(f, "?"),
        }
    }
}

/// The graph's one data input.
#[derive(Clone, Debug)]
pub struct Input {
    /// Its value number.
    pub value: usize,
    /// Its name.
    pub name: String,
    /// Its element kind (float features, or integer token ids).
    pub elem: Elem,
    /// Its declared dimensions, batch first; `None` when the file gives no shape.
    pub dims: Option<Vec<Dim>>,
}

/// A checked graph.
#[derive(Clone, Debug)]
pub struct Graph {
    /// The standard opset version.
    pub opset: i64,
    /// The name of every value, by number.
    pub names: Vec<String>,
    /// The nodes, in order.
    pub nodes: Vec<Node>,
    /// Constant tensors (initializers), by value number, in file order.
    pub initializers: Vec<(usize, Host)>,
    /// The data input.
    pub input: Input,
    /// The graph outputs: value number and name.
    pub outputs: Vec<(usize, String)>,
    /// Who wrote the file (`producer_name producer_version`).
    pub producer: String,
}

fn is_standard(domain: &str) -> bool {
    domain.is_empty() || domain == "ai.onnx"
}

impl Graph {
    /// Reads a decoded model.
    ///
    /// # Errors
    /// A message naming the node, initializer or input at fault and what was expected.
    pub fn from_model(model: &ModelProto) -> Result<Graph, String> {
        let opset = model
            .opset_import
            .iter()
            .find(|o| is_standard(&o.domain))
            .map(|o| o.version)
            .ok_or("the model imports no version of the standard ONNX operator set")?;
        if !OPSETS.contains(&opset) {
            return Err(format!(
                "the model uses ONNX opset {opset}; genviz interprets opsets {} to {} \
                 (PyTorch: `torch.onnx.export(..., opset_version=17)`)",
                OPSETS.start(),
                OPSETS.end()
            ));
        }
        let graph = model.graph.as_ref().ok_or("the model holds no graph")?;
        if let Some(s) = graph.sparse_initializer.first() {
            let name = s.values.as_ref().map_or("", |v| v.name.as_str());
            return Err(format!(
                "initializer `{name}` is sparse; genviz reads dense initializers only"
            ));
        }
        let mut names: Vec<String> = Vec::new();
        let mut ids: HashMap<String, usize> = HashMap::new();
        let mut define = |name: &str, what: &str, ids: &mut HashMap<String, usize>| {
            if ids.contains_key(name) {
                return Err(format!("{what} defines `{name}`, which is already defined"));
            }
            ids.insert(name.to_string(), names.len());
            names.push(name.to_string());
            Ok(names.len() - 1)
        };

        let mut initializers = Vec::with_capacity(graph.initializer.len());
        for t in &graph.initializer {
            if t.name.is_empty() {
                return Err("an initializer has no name".to_string());
            }
            let host = Host::from_proto(t).map_err(|e| format!("initializer `{}` {e}", t.name))?;
            let id = define(&t.name, &format!("initializer `{}`", t.name), &mut ids)?;
            initializers.push((id, host));
        }

        // Older exporters list every initializer among the inputs too; those are constants.
        let data_inputs: Vec<_> = graph
            .input
            .iter()
            .filter(|i| !ids.contains_key(&i.name))
            .collect();
        let input = match data_inputs.as_slice() {
            [one] => one,
            [] => return Err("the graph has no data input (every input is an initializer)".into()),
            many => {
                let list: Vec<&str> = many.iter().map(|i| i.name.as_str()).collect();
                return Err(format!(
                    "the graph has {} data inputs ({}); genviz feeds a model one tensor of examples",
                    many.len(),
                    list.join(", ")
                ));
            }
        };
        let tensor_type = input
            .r#type
            .as_ref()
            .and_then(|t| t.tensor_type.as_ref())
            .ok_or_else(|| format!("input `{}` is not a tensor", input.name))?;
        let elem = Elem::of_code(tensor_type.elem_type).ok_or_else(|| {
            format!(
                "input `{}` has element type {}; genviz feeds float features or integer token ids",
                input.name,
                crate::proto::data_type::name(tensor_type.elem_type)
            )
        })?;
        if elem == Elem::Bool {
            return Err(format!(
                "input `{}` is boolean; genviz feeds float features or integer token ids",
                input.name
            ));
        }
        let dims = tensor_type.shape.as_ref().map(|s| {
            s.dim
                .iter()
                .map(|d| match (&d.dim_value, &d.dim_param) {
                    (Some(v), _) if *v > 0 => Dim::Fixed(*v as usize),
                    (_, Some(p)) if !p.is_empty() => Dim::Named(p.clone()),
                    _ => Dim::Unknown,
                })
                .collect()
        });
        let input_id = define(&input.name, &format!("input `{}`", input.name), &mut ids)?;

        let functions: HashMap<(String, String), &FunctionProto> = model
            .functions
            .iter()
            .map(|f| ((f.domain.clone(), f.name.clone()), f))
            .collect();
        let mut flat = Vec::new();
        let mut counter = 0usize;
        for node in &graph.node {
            inline(node, &functions, 0, &mut counter, &mut flat)?;
        }

        let mut nodes = Vec::with_capacity(flat.len());
        for (index, proto) in flat.iter().enumerate() {
            let label = if proto.name.is_empty() {
                format!("node #{index} ({})", proto.op_type)
            } else {
                format!("node \"{}\" ({})", proto.name, proto.op_type)
            };
            let mut inputs = Vec::with_capacity(proto.input.len());
            for name in &proto.input {
                if name.is_empty() {
                    inputs.push(None);
                    continue;
                }
                let id = ids.get(name).ok_or_else(|| {
                    format!(
                        "{label} reads `{name}`, which no earlier node, initializer or input \
                         defines (ONNX requires nodes in topological order)"
                    )
                })?;
                inputs.push(Some(*id));
            }
            let mut attrs = HashMap::new();
            for a in &proto.attribute {
                let value =
                    attr_value(a).map_err(|e| format!("{label}: attribute `{}` {e}", a.name))?;
                attrs.insert(a.name.clone(), value);
            }
            let mut outputs = Vec::with_capacity(proto.output.len());
            for name in &proto.output {
                if name.is_empty() {
                    outputs.push(None);
                } else {
                    outputs.push(Some(define(name, &label, &mut ids)?));
                }
            }
            let op = if is_standard(&proto.domain) {
                proto.op_type.clone()
            } else {
                format!("{}.{}", proto.domain, proto.op_type)
            };
            nodes.push(Node {
                name: proto.name.clone(),
                index,
                op,
                inputs,
                outputs,
                attrs,
            });
        }

        let mut outputs = Vec::new();
        for o in &graph.output {
            let id = ids.get(&o.name).ok_or_else(|| {
                format!(
                    "graph output `{}` is not defined by any node, initializer or input",
                    o.name
                )
            })?;
            outputs.push((*id, o.name.clone()));
        }
        if outputs.is_empty() {
            return Err("the graph has no output".to_string());
        }
        Ok(Graph {
            opset,
            names,
            nodes,
            initializers,
            input: Input {
                value: input_id,
                name: input.name.clone(),
                elem,
                dims,
            },
            outputs,
            producer: format!("{} {}", model.producer_name, model.producer_version)
                .trim()
                .to_string(),
        })
    }

    /// Keeps only the nodes `output` depends on.
    pub fn prune(&mut self, output: usize) {
        let mut needed: HashSet<usize> = HashSet::from([output]);
        let mut keep = vec![false; self.nodes.len()];
        for (k, node) in self.nodes.iter().enumerate().rev() {
            if node.outputs.iter().flatten().any(|o| needed.contains(o)) {
                keep[k] = true;
                needed.extend(node.inputs.iter().flatten());
            }
        }
        let mut k = 0;
        self.nodes.retain(|_| {
            k += 1;
            keep[k - 1]
        });
        self.initializers.retain(|(id, _)| needed.contains(id));
    }

    /// Refuses operators genviz does not implement (`supported` says which it does), listing
    /// every one with its nodes.
    pub fn check_supported(&self, supported: &dyn Fn(&str) -> bool) -> Result<(), String> {
        let mut missing: Vec<(String, Vec<String>)> = Vec::new();
        for node in &self.nodes {
            if supported(&node.op) {
                continue;
            }
            let label = if node.name.is_empty() {
                format!("#{}", node.index)
            } else {
                format!("\"{}\"", node.name)
            };
            match missing.iter_mut().find(|(op, _)| *op == node.op) {
                Some((_, labels)) => labels.push(label),
                None => missing.push((node.op.clone(), vec![label])),
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = missing
            .iter()
            .map(|(op, labels)| {
                let shown: Vec<&str> = labels.iter().take(3).map(String::as_str).collect();
                let more = if labels.len() > 3 {
                    format!(" and {} more", labels.len() - 3)
                } else {
                    String::new()
                };
                format!("{op} (node {}{more})", shown.join(", "))
            })
            .collect();
        Err(format!(
            "unsupported operator{}: {}; genviz supports {}",
            if missing.len() > 1 { "s" } else { "" },
            list.join("; "),
            crate::ops::SUPPORTED_OPS.join(", ")
        ))
    }
}

/// Appends `node` to `out`, replacing calls of model-local functions by their bodies.
fn inline(
    node: &NodeProto,
    functions: &HashMap<(String, String), &FunctionProto>,
    depth: usize,
    counter: &mut usize,
    out: &mut Vec<NodeProto>,
) -> Result<(), String> {
    if out.len() >= MAX_NODES {
        return Err(format!(
            "the graph has more than {MAX_NODES} nodes once its functions are inlined"
        ));
    }
    let Some(function) = functions.get(&(node.domain.clone(), node.op_type.clone())) else {
        out.push(node.clone());
        return Ok(());
    };
    if depth >= MAX_FUNCTION_DEPTH {
        return Err(format!(
            "function `{}` calls functions more than {MAX_FUNCTION_DEPTH} deep (recursive?)",
            node.op_type
        ));
    }
    *counter += 1;
    let prefix = format!("{}#{}/", function.name, counter);
    let mut rename: HashMap<&str, String> = HashMap::new();
    for (k, formal) in function.input.iter().enumerate() {
        rename.insert(formal, node.input.get(k).cloned().unwrap_or_default());
    }
    for (k, formal) in function.output.iter().enumerate() {
        rename.insert(formal, node.output.get(k).cloned().unwrap_or_default());
    }
    let caller: HashMap<&str, &AttributeProto> = node
        .attribute
        .iter()
        .map(|a| (a.name.as_str(), a))
        .collect();
    let defaults: HashMap<&str, &AttributeProto> = function
        .attribute_proto
        .iter()
        .map(|a| (a.name.as_str(), a))
        .collect();
    let map = |name: &str, rename: &HashMap<&str, String>| -> String {
        if name.is_empty() {
            return String::new();
        }
        rename
            .get(name)
            .cloned()
            .unwrap_or_else(|| format!("{prefix}{name}"))
    };
    for inner in &function.node {
        let mut n = inner.clone();
        n.name = format!("{}/{}", node.name, inner.name);
        n.input = inner.input.iter().map(|i| map(i, &rename)).collect();
        n.output = inner.output.iter().map(|o| map(o, &rename)).collect();
        n.attribute = inner
            .attribute
            .iter()
            .filter_map(|a| {
                if a.ref_attr_name.is_empty() {
                    return Some(a.clone());
                }
                let source = caller
                    .get(a.ref_attr_name.as_str())
                    .or_else(|| defaults.get(a.ref_attr_name.as_str()))?;
                let mut resolved = (*source).clone();
                resolved.name = a.name.clone();
                Some(resolved)
            })
            .collect();
        inline(&n, functions, depth + 1, counter, out)?;
    }
    Ok(())
}

fn attr_value(a: &AttributeProto) -> Result<Attr, String> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    Ok(match a.r#type {
        attribute_type::FLOAT => Attr::Float(a.f),
        attribute_type::INT => Attr::Int(a.i),
        attribute_type::STRING => Attr::Str(text(&a.s)),
        attribute_type::TENSOR => {
            let t = a.t.as_ref().ok_or("is a tensor attribute with no tensor")?;
            Attr::Tensor(Host::from_proto(t)?)
        }
        attribute_type::FLOATS => Attr::Floats(a.floats.clone()),
        attribute_type::INTS => Attr::Ints(a.ints.clone()),
        attribute_type::STRINGS => Attr::Strings(a.strings.iter().map(|s| text(s)).collect()),
        // Files written before attribute types existed: infer from the field that is set.
        0 => {
            if let Some(t) = &a.t {
                Attr::Tensor(Host::from_proto(t)?)
            } else if !a.ints.is_empty() {
                Attr::Ints(a.ints.clone())
            } else if !a.floats.is_empty() {
                Attr::Floats(a.floats.clone())
            } else if !a.s.is_empty() {
                Attr::Str(text(&a.s))
            } else if a.f != 0.0 {
                Attr::Float(a.f)
            } else {
                Attr::Int(a.i)
            }
        }
        other => Attr::Other(other),
    })
}

/// Declared per-example dimensions of the input, as text (`[batch, 3, 32, 32]`).
pub fn dims_text(dims: &Option<Vec<Dim>>) -> String {
    match dims {
        None => "[unknown shape]".to_string(),
        Some(d) => format!(
            "[{}]",
            d.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

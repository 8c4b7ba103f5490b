//! Writing ONNX graphs: a small builder over the protobuf messages.
//!
//! genviz's exporter uses it to write its own MLPs and conv nets, and the tests use it to
//! write graphs for operators no exporter of theirs produces; it is public so that a user can
//! write a graph by hand the same way.

use crate::host::{Elem, Host};
use crate::proto::{
    attribute_type, AttributeProto, Dimension, GraphProto, ModelProto, NodeProto,
    OperatorSetIdProto, StringStringEntryProto, TensorShapeProto, TypeProto, TypeProtoTensor,
    ValueInfoProto,
};
use prost::Message;

/// The ONNX IR version genviz writes (that of opsets 19 and 20; readers accept older).
pub const IR_VERSION: i64 = 9;

/// A dimension of a declared input or output shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DimSpec {
    /// A fixed size.
    Fixed(usize),
    /// A symbolic size, such as `batch`.
    Named(String),
}

impl From<usize> for DimSpec {
    fn from(n: usize) -> Self {
        DimSpec::Fixed(n)
    }
}

impl From<&str> for DimSpec {
    fn from(s: &str) -> Self {
        DimSpec::Named(s.to_string())
    }
}

fn value_info(name: &str, elem: Elem, dims: &[DimSpec]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| match d {
            DimSpec::Fixed(n) => Dimension {
                dim_value: Some(*n as i64),
                dim_param: None,
            },
            DimSpec::Named(s) => Dimension {
                dim_value: None,
                dim_param: Some(s.clone()),
            },
        })
        .collect();
    ValueInfoProto {
        name: name.to_string(),
        r#type: Some(TypeProto {
            tensor_type: Some(TypeProtoTensor {
                elem_type: elem.code(),
                shape: Some(TensorShapeProto { dim }),
            }),
        }),
        doc_string: String::new(),
    }
}

/// An attribute named `name` of type `kind` (an [`attribute_type`] code), its value set by
/// `set`: the one place that fills the name and type, so the helpers below only say which
/// field holds the value.
fn attribute(name: &str, kind: i32, set: impl FnOnce(&mut AttributeProto)) -> AttributeProto {
    let mut a = AttributeProto {
        name: name.to_string(),
        r#type: kind,
        ..Default::default()
    };
    set(&mut a);
    a
}

/// An integer attribute.
pub fn attr_int(name: &str, v: i64) -> AttributeProto {
    attribute(name, attribute_type::INT, |a| a.i = v)
}

/// An integer-list attribute.
pub fn attr_ints(name: &str, v: &[i64]) -> AttributeProto {
    attribute(name, attribute_type::INTS, |a| a.ints = v.to_vec())
}

/// A float attribute.
pub fn attr_float(name: &str, v: f32) -> AttributeProto {
    attribute(name, attribute_type::FLOAT, |a| a.f = v)
}

/// A float-list attribute.
pub fn attr_floats(name: &str, v: &[f32]) -> AttributeProto {
    attribute(name, attribute_type::FLOATS, |a| a.floats = v.to_vec())
}

/// A string attribute.
pub fn attr_str(name: &str, v: &str) -> AttributeProto {
    attribute(name, attribute_type::STRING, |a| {
        a.s = v.as_bytes().to_vec()
    })
}

/// A tensor attribute.
pub fn attr_tensor(name: &str, v: &Host) -> AttributeProto {
    attribute(name, attribute_type::TENSOR, |a| a.t = Some(v.to_proto("")))
}

/// Builds a model one node at a time; values are named as they are created.
#[derive(Clone, Debug)]
pub struct GraphBuilder {
    graph: GraphProto,
    opset: i64,
    metadata: Vec<StringStringEntryProto>,
    counter: usize,
}

impl GraphBuilder {
    /// An empty graph against standard opset `opset`.
    pub fn new(opset: i64) -> Self {
        GraphBuilder {
            graph: GraphProto {
                name: "genviz".to_string(),
                ..Default::default()
            },
            opset,
            metadata: Vec::new(),
            counter: 0,
        }
    }

    /// Declares a graph input.
    pub fn input(&mut self, name: &str, elem: Elem, dims: &[DimSpec]) -> String {
        self.graph.input.push(value_info(name, elem, dims));
        name.to_string()
    }

    /// Adds a named constant tensor (a weight).
    pub fn initializer(&mut self, name: &str, value: &Host) -> String {
        self.graph.initializer.push(value.to_proto(name));
        name.to_string()
    }

    /// Adds a node with one output, named after the operator; returns the output's name.
    pub fn node(&mut self, op: &str, inputs: &[&str], attrs: Vec<AttributeProto>) -> String {
        self.node_n(op, inputs, 1, attrs).remove(0)
    }

    /// Adds a node with `outputs` outputs; returns their names.
    pub fn node_n(
        &mut self,
        op: &str,
        inputs: &[&str],
        outputs: usize,
        attrs: Vec<AttributeProto>,
    ) -> Vec<String> {
        self.counter += 1;
        let name = format!("{}_{}", op.to_lowercase(), self.counter);
        let outs: Vec<String> = (0..outputs).map(|k| format!("{name}:{k}")).collect();
        self.graph.node.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outs.clone(),
            name,
            op_type: op.to_string(),
            attribute: attrs,
            ..Default::default()
        });
        outs
    }

    /// Adds a node with one output named `output`; returns the name.
    pub fn node_to(
        &mut self,
        op: &str,
        inputs: &[&str],
        output: &str,
        attrs: Vec<AttributeProto>,
    ) -> String {
        self.counter += 1;
        self.graph.node.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.to_string()],
            name: format!("{}_{}", op.to_lowercase(), self.counter),
            op_type: op.to_string(),
            attribute: attrs,
            ..Default::default()
        });
        output.to_string()
    }

    /// Declares `value` a graph output of element kind `elem` and shape `dims`.
    pub fn output(&mut self, value: &str, elem: Elem, dims: &[DimSpec]) {
        self.graph.output.push(value_info(value, elem, dims));
    }

    /// Adds a key-value pair to the model's metadata.
    pub fn metadata(&mut self, key: &str, value: &str) {
        self.metadata.push(StringStringEntryProto {
            key: key.to_string(),
            value: value.to_string(),
        });
    }

    /// The model.
    pub fn build(self) -> ModelProto {
        ModelProto {
            ir_version: IR_VERSION,
            producer_name: "genviz".to_string(),
            producer_version: genviz_core::VERSION.to_string(),
            graph: Some(self.graph),
            opset_import: vec![OperatorSetIdProto {
                domain: String::new(),
                version: self.opset,
            }],
            metadata_props: self.metadata,
            ..Default::default()
        }
    }

    /// The model as `.onnx` bytes.
    pub fn to_bytes(self) -> Vec<u8> {
        self.build().encode_to_vec()
    }
}

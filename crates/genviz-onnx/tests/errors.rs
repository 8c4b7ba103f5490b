//! Malformed files, unsupported operators and data that does not fit give clear errors.

mod common;

use common::*;
use genviz_onnx::builder::{attr_int, attr_ints, DimSpec, GraphBuilder};
use genviz_onnx::host::{Elem, Host};
use genviz_onnx::proto::{FunctionProto, ModelProto, NodeProto, TensorProto};
use genviz_onnx::{Head, OnnxModel, OnnxOptions, SUPPORTED_OPS};
use prost::Message;
use std::path::Path;

fn error_of(bytes: &[u8], options: &OnnxOptions) -> String {
    match OnnxModel::from_bytes(bytes, Path::new("model.onnx"), options) {
        Ok(_) => panic!("the model loaded"),
        Err(e) => e.to_string(),
    }
}

fn err(bytes: &[u8]) -> String {
    error_of(bytes, &OnnxOptions::default())
}

/// A valid two-class linear model: x [batch, 3] -> Gemm -> [batch, 2].
fn linear() -> GraphBuilder {
    let mut g = GraphBuilder::new(OPSET);
    let x = g.input("x", Elem::Float, &["batch".into(), 3.into()]);
    let w = g.initializer(
        "fc.weight",
        &Host::f32(&[2, 3], vec![1., 0., -1., 0.5, 0.5, 0.5]),
    );
    let b = g.initializer("fc.bias", &Host::f32(&[2], vec![0.1, -0.1]));
    let y = g.node("Gemm", &[&x, &w, &b], vec![attr_int("transB", 1)]);
    g.output(&y, Elem::Float, &["batch".into(), 2.into()]);
    g
}

fn edit(g: GraphBuilder, f: impl FnOnce(&mut ModelProto)) -> Vec<u8> {
    let mut m = g.build();
    f(&mut m);
    m.encode_to_vec()
}

#[test]
fn the_linear_model_loads() {
    let model = load(&linear().to_bytes()).unwrap();
    assert_eq!(model.num_classes(), 2);
    assert_eq!(model.example_shape(), &[3]);
    assert_eq!(model.layout().len(), 8);
}

#[test]
fn bytes_that_are_not_onnx_are_refused() {
    let msg = err(b"this is not a protobuf at all \xff\xff\xff");
    assert!(
        msg.starts_with("model.onnx:") && msg.contains("not an ONNX model"),
        "{msg}"
    );
    let good = linear().to_bytes();
    let msg = err(&good[..good.len() / 2]);
    assert!(msg.contains("model.onnx"), "{msg}");
    assert!(err(&[]).contains("no version of the standard ONNX operator set"));
}

#[test]
fn opsets_outside_13_to_20_are_refused() {
    let bytes = edit(linear(), |m| m.opset_import[0].version = 11);
    let msg = err(&bytes);
    assert!(
        msg.contains("opset 11") && msg.contains("13 to 20"),
        "{msg}"
    );
    assert!(err(&edit(linear(), |m| m.opset_import[0].version = 21)).contains("opset 21"));
}

#[test]
fn unsupported_operators_are_listed_with_their_nodes_and_the_supported_ones() {
    let mut g = GraphBuilder::new(OPSET);
    let x = g.input("x", Elem::Float, &["batch".into(), 4.into()]);
    let w = g.initializer("w", &Host::f32(&[4, 2], vec![0.0; 8]));
    let a = g.node("MatMul", &[&x, &w], vec![]);
    let b = g.node("Selu", &[&a], vec![]);
    let c = g.node("Selu", &[&b], vec![]);
    let d = g.node("TopK", &[&c], vec![]);
    g.output(&d, Elem::Float, &["batch".into(), 2.into()]);
    let msg = err(&g.to_bytes());
    assert!(
        msg.contains(
            "unsupported operators: Selu (node \"selu_2\", \"selu_3\"); TopK (node \"topk_4\")"
        ),
        "{msg}"
    );
    assert!(msg.contains("genviz supports Abs, Add"), "{msg}");
    for op in [
        "Conv",
        "BatchNormalization",
        "LayerNormalization",
        "Gelu",
        "Where",
    ] {
        assert!(SUPPORTED_OPS.contains(&op));
    }
}

#[test]
fn structural_faults_name_what_is_wrong() {
    // A node reading a value defined later (not topological).
    let bytes = edit(linear(), |m| {
        let g = m.graph.as_mut().unwrap();
        g.node[0].input[0] = "later".to_string();
    });
    let msg = err(&bytes);
    assert!(
        msg.contains("node \"gemm_1\" (Gemm) reads `later`") && msg.contains("topological"),
        "{msg}"
    );
    // Two definitions of one name.
    let bytes = edit(linear(), |m| {
        let g = m.graph.as_mut().unwrap();
        g.node[0].output[0] = "fc.bias".to_string();
        g.output[0].name = "fc.bias".to_string();
    });
    assert!(err(&bytes).contains("defines `fc.bias`, which is already defined"));
    // No graph; no output; two data inputs.
    assert!(err(&edit(linear(), |m| m.graph = None)).contains("holds no graph"));
    assert!(err(&edit(linear(), |m| m
        .graph
        .as_mut()
        .unwrap()
        .output
        .clear()))
    .contains("no output"));
    let mut two = linear();
    two.input("y", Elem::Float, &["batch".into(), 3.into()]);
    assert!(err(&two.to_bytes()).contains("2 data inputs (x, y)"));
    let mut g = GraphBuilder::new(OPSET);
    let x = g.input("x", Elem::Bool, &["batch".into(), 3.into()]);
    g.output(&x, Elem::Bool, &["batch".into(), 3.into()]);
    assert!(err(&g.to_bytes()).contains("boolean"));
}

#[test]
fn malformed_initializers_are_named() {
    let bytes = edit(linear(), |m| {
        let t: &mut TensorProto = &mut m.graph.as_mut().unwrap().initializer[0];
        t.raw_data.truncate(8);
    });
    let msg = err(&bytes);
    assert!(
        msg.contains("initializer `fc.weight`") && msg.contains("needs 6 values"),
        "{msg}"
    );
    let bytes = edit(linear(), |m| {
        m.graph.as_mut().unwrap().initializer[1].dims = vec![-2]
    });
    assert!(err(&bytes).contains("`fc.bias` shape [-2] has a negative dimension"));
    let bytes = edit(linear(), |m| {
        m.graph.as_mut().unwrap().initializer[1].data_location = 1
    });
    assert!(err(&bytes).contains("external file"));
    let bytes = edit(linear(), |m| {
        m.graph.as_mut().unwrap().initializer[1].data_type = 8
    });
    assert!(err(&bytes).contains("element type string"));
}

#[test]
fn outputs_must_be_batch_by_classes_and_heads_must_fit() {
    let mut g = GraphBuilder::new(OPSET);
    let x = g.input("x", Elem::Float, &["batch".into(), 3.into()]);
    let w = g.initializer("w", &Host::f32(&[3], vec![1.0; 3]));
    let y = g.node("Mul", &[&x, &w], vec![]);
    let axes = ints(&mut g, &[1]);
    let y = g.node("Unsqueeze", &[&y, &axes], vec![]);
    g.output(&y, Elem::Float, &["batch".into(), 1.into(), 3.into()]);
    assert!(err(&g.to_bytes())
        .contains("has shape [2, 1, 3] for a batch of 2; genviz needs logits [batch, classes]"));
    let one = |head: Option<Head>| {
        let mut g = GraphBuilder::new(OPSET);
        let x = g.input("x", Elem::Float, &["batch".into(), 3.into()]);
        let w = g.initializer("w", &Host::f32(&[3, 1], vec![1.0; 3]));
        let y = g.node("MatMul", &[&x, &w], vec![]);
        g.output(&y, Elem::Float, &["batch".into(), 1.into()]);
        OnnxModel::from_bytes(
            &g.to_bytes(),
            Path::new("m.onnx"),
            &OnnxOptions {
                head,
                ..Default::default()
            },
        )
    };
    assert!(one(Some(Head::Softmax))
        .unwrap_err()
        .to_string()
        .contains("use the sigmoid head"));
    assert_eq!(one(Some(Head::Sigmoid)).unwrap().num_classes(), 2);
    assert_eq!(one(None).unwrap().head(), Head::Sigmoid);
    let msg = error_of(
        &linear().to_bytes(),
        &OnnxOptions {
            head: Some(Head::Sigmoid),
            ..Default::default()
        },
    );
    assert!(
        msg.contains("2 output logits; the sigmoid head needs exactly one"),
        "{msg}"
    );
}

#[test]
fn parameter_patterns_must_match_and_parse() {
    let msg = error_of(
        &linear().to_bytes(),
        &OnnxOptions {
            params: Some("^conv".into()),
            ..Default::default()
        },
    );
    assert!(
        msg.contains("matches no float initializer") && msg.contains("fc.weight, fc.bias"),
        "{msg}"
    );
    let msg = error_of(
        &linear().to_bytes(),
        &OnnxOptions {
            params: Some("(".into()),
            ..Default::default()
        },
    );
    assert!(msg.contains("not a regular expression"), "{msg}");
    let model = OnnxModel::from_bytes(
        &linear().to_bytes(),
        Path::new("m.onnx"),
        &OnnxOptions {
            params: Some("weight".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(model.layout().tensors().len(), 1);
}

#[test]
fn symbolic_example_dimensions_need_a_given_shape() {
    let mut g = GraphBuilder::new(OPSET);
    let x = g.input("x", Elem::Float, &["batch".into(), "features".into()]);
    let w = g.initializer("w", &Host::f32(&[3, 2], vec![0.5; 6]));
    let y = g.node("MatMul", &[&x, &w], vec![]);
    g.output(&y, Elem::Float, &["batch".into(), 2.into()]);
    let bytes = g.to_bytes();
    let msg = err(&bytes);
    assert!(
        msg.contains("[batch, features]") && msg.contains("input_shape"),
        "{msg}"
    );
    let model = OnnxModel::from_bytes(
        &bytes,
        Path::new("m.onnx"),
        &OnnxOptions {
            input_shape: Some(vec![3]),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(model.example_shape(), &[3]);
    // A wrong given shape fails in the load-time pass, naming the node.
    let msg = error_of(
        &bytes,
        &OnnxOptions {
            input_shape: Some(vec![4]),
            ..Default::default()
        },
    );
    assert!(
        msg.contains("(MatMul)") && msg.contains("inner dimensions 4 and 3"),
        "{msg}"
    );
}

#[test]
fn data_that_does_not_fit_the_input_is_refused() {
    let model = load(&linear().to_bytes()).unwrap();
    let msg = model
        .check_example_shape(&[3, 1], false)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("[3, 1]") && msg.contains("input `x` of shape [batch, 3]"),
        "{msg}"
    );
    model.check_example_shape(&[3], false).unwrap();
    let data = genviz_core::Dataset::new(vec![0.0; 8], vec![0, 1], 4, 2).unwrap();
    let msg = model.check_dataset(&data).unwrap_err().to_string();
    assert!(
        msg.contains("4 values per example") && msg.contains("3 values per example"),
        "{msg}"
    );
    let data = genviz_core::Dataset::new(vec![0.0; 6], vec![0, 2], 3, 3).unwrap();
    assert!(model
        .check_dataset(&data)
        .unwrap_err()
        .to_string()
        .contains("3 classes"));
    // The network's try_ methods refuse it too, without panicking.
    let net = net(model);
    let theta = net.model().params().into_values();
    assert!(net.try_logits(&theta, &[0.0; 5], 2).is_err());
    assert!(net
        .try_logits(&theta[..3], &[0.0; 6], 2)
        .unwrap_err()
        .to_string()
        .contains("parameter vector of 3 values"));
}

#[test]
fn token_ids_must_be_whole_and_within_the_vocabulary() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/transformer_dynamo.onnx");
    let model = OnnxModel::open(&path, &OnnxOptions::default()).unwrap();
    assert!(model.integer_input());
    assert!(model
        .check_example_shape(&[6], false)
        .unwrap_err()
        .to_string()
        .contains("integer token ids"));
    let bad =
        genviz_core::Dataset::new(vec![1.0, 2.0, 3.0, 4.0, 5.0, 20.0], vec![0], 6, 3).unwrap();
    let msg = model.check_dataset(&bad).unwrap_err().to_string();
    assert!(
        msg.contains("value 5 of example 0 is 20") && msg.contains("0..20"),
        "{msg}"
    );
    let half =
        genviz_core::Dataset::new(vec![1.0, 2.0, 3.0, 4.0, 5.0, 0.5], vec![0], 6, 3).unwrap();
    assert!(model.check_dataset(&half).is_err());
}

#[test]
fn training_mode_graphs_and_secondary_outputs_are_refused() {
    let msg = load_error(&[2, 2, 2], |g, v| {
        let p = |g: &mut GraphBuilder, n: &str| g.initializer(n, &Host::f32(&[2], vec![1.0, 1.0]));
        let (s, b, m, var) = (p(g, "s"), p(g, "b"), p(g, "m"), p(g, "v"));
        g.node(
            "BatchNormalization",
            &[v, &s, &b, &m, &var],
            vec![attr_int("training_mode", 1)],
        )
    });
    assert!(
        msg.contains("(BatchNormalization)") && msg.contains("model.eval()"),
        "{msg}"
    );
    let msg = load_error(&[1, 4, 4], |g, v| {
        let out = g.node_n("MaxPool", &[v], 2, vec![attr_ints("kernel_shape", &[2, 2])]);
        let idx = g.node("Cast", &[&out[1]], vec![attr_int("to", 1)]);
        g.node("Add", &[&out[0], &idx], vec![])
    });
    assert!(msg.contains("an output genviz does not compute"), "{msg}");
}

#[test]
fn model_local_functions_are_inlined() {
    // A custom op `Scale2(X) = X * 2` defined as a function, called from the graph.
    let mut g = GraphBuilder::new(OPSET);
    let x = g.input("x", Elem::Float, &["batch".into(), 2.into()]);
    let w = g.initializer("w", &Host::f32(&[2], vec![1.0, 3.0]));
    let a = g.node("Mul", &[&x, &w], vec![]);
    g.output("y", Elem::Float, &["batch".into(), 2.into()]);
    let mut m = g.build();
    let two = genviz_onnx::builder::attr_tensor("value", &Host::f32(&[], vec![2.0]));
    m.graph.as_mut().unwrap().node.push(NodeProto {
        input: vec![a],
        output: vec!["y".into()],
        name: "call".into(),
        op_type: "Scale2".into(),
        domain: "custom".into(),
        ..Default::default()
    });
    m.functions.push(FunctionProto {
        name: "Scale2".into(),
        domain: "custom".into(),
        input: vec!["X".into()],
        output: vec!["Y".into()],
        node: vec![
            NodeProto {
                output: vec!["two".into()],
                op_type: "Constant".into(),
                attribute: vec![two],
                ..Default::default()
            },
            NodeProto {
                input: vec!["X".into(), "two".into()],
                output: vec!["Y".into()],
                op_type: "Mul".into(),
                ..Default::default()
            },
        ],
        ..Default::default()
    });
    let model = load(&m.encode_to_vec()).unwrap();
    let theta = model.params().into_values();
    let out = net(model)
        .try_logits(&theta, &[1.0, 1.0, 2.0, -1.0], 2)
        .unwrap();
    assert_close(&out, &[2.0, 6.0, 4.0, -6.0], 0.0);
    // An unknown custom op is reported with its domain.
    let mut m2 = m.clone();
    m2.functions.clear();
    let msg = err(&m2.encode_to_vec());
    assert!(msg.contains("custom.Scale2 (node \"call\")"), "{msg}");
}

#[test]
fn absurd_sizes_are_refused_before_allocating() {
    let msg = load_error(&[2], |g, v| {
        let dims = ints(g, &[1 << 20, 1 << 20]);
        let big = g.node("ConstantOfShape", &[&dims], vec![]);
        g.node("Add", &[v, &big], vec![])
    });
    assert!(
        msg.contains("(ConstantOfShape)") && msg.contains("more than the limit"),
        "{msg}"
    );
    let dims: Vec<DimSpec> = vec!["batch".into(), 2.into()];
    let _ = dims;
}

#[test]
fn convolutions_without_batch_norm_from_other_tools_are_warned_about() {
    let conv_only = || {
        let mut g = GraphBuilder::new(OPSET);
        let x = g.input(
            "x",
            Elem::Float,
            &["batch".into(), 1.into(), 4.into(), 4.into()],
        );
        let w = g.initializer("conv1.weight", &Host::f32(&[2, 1, 3, 3], vec![0.1; 18]));
        let h = g.node("Conv", &[&x, &w], vec![]);
        let h = g.node("GlobalAveragePool", &[&h], vec![]);
        let h = g.node("Flatten", &[&h], vec![]);
        g.output(&h, Elem::Float, &["batch".into(), 2.into()]);
        g
    };
    // genviz's own exporter never folds BatchNorm: no warning.
    assert!(load(&conv_only().to_bytes()).unwrap().warnings().is_empty());
    let bytes = edit(conv_only(), |m| m.producer_name = "pytorch".into());
    let model = load(&bytes).unwrap();
    assert_eq!(model.warnings().len(), 1);
    assert!(model.warnings()[0].contains("1 convolution(s) and no BatchNormalization"));
    assert!(model.warnings()[0].contains("optimize=False"));
    // Constant folding's generated names are reported too.
    let bytes = edit(conv_only(), |m| {
        let g = m.graph.as_mut().unwrap();
        g.initializer[0].name = "onnx::Conv_63".into();
        g.node[0].input[1] = "onnx::Conv_63".into();
    });
    let warnings = load(&bytes).unwrap().warnings().to_vec();
    assert!(
        warnings.iter().any(|w| w.contains("onnx::Conv_63")),
        "{warnings:?}"
    );
}

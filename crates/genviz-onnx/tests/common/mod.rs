//! Helpers shared by the integration tests: small graphs written with the builder and run on
//! the CPU backend.
#![allow(dead_code)]

use genviz_onnx::builder::{DimSpec, GraphBuilder};
use genviz_onnx::host::{Elem, Host};
use genviz_onnx::{CpuBackend, OnnxModel, OnnxNet, OnnxOptions};
use std::path::Path;
use std::sync::Arc;

/// Opset of the hand-written test graphs.
pub const OPSET: i64 = 17;

/// Builds a graph around `body`: input `x` of `[batch, example...]` (floats), multiplied by a
/// one-element parameter `scale` (1.0) so the model has a parameter, then `body`, whose
/// result is flattened to `[batch, k]`.
pub fn graph(
    example: &[usize],
    opset: i64,
    body: impl FnOnce(&mut GraphBuilder, &str) -> String,
) -> Vec<u8> {
    let mut g = GraphBuilder::new(opset);
    let mut dims: Vec<DimSpec> = vec!["batch".into()];
    dims.extend(example.iter().map(|&d| DimSpec::Fixed(d)));
    let x = g.input("x", Elem::Float, &dims);
    let scale = g.initializer("scale", &Host::f32(&[1], vec![1.0]));
    let x1 = g.node("Mul", &[&x, &scale], vec![]);
    let y = body(&mut g, &x1);
    let flat = g.node(
        "Flatten",
        &[&y],
        vec![genviz_onnx::builder::attr_int("axis", 1)],
    );
    g.output(&flat, Elem::Float, &["batch".into(), "k".into()]);
    g.to_bytes()
}

/// Loads `bytes` with the default options (softmax head, sigmoid for a single logit).
pub fn load(bytes: &[u8]) -> genviz_core::Result<OnnxModel> {
    OnnxModel::from_bytes(bytes, Path::new("test.onnx"), &OnnxOptions::default())
}

/// The CPU network of a model.
pub fn net(model: OnnxModel) -> OnnxNet<CpuBackend> {
    OnnxNet::new(Arc::new(model), Default::default())
}

/// Runs `body` on `n` examples `rows` of shape `example`; the flattened outputs.
pub fn run(
    example: &[usize],
    rows: &[f32],
    n: usize,
    body: impl FnOnce(&mut GraphBuilder, &str) -> String,
) -> Vec<f32> {
    run_opset(example, OPSET, rows, n, body)
}

/// [`run`] against a chosen opset.
pub fn run_opset(
    example: &[usize],
    opset: i64,
    rows: &[f32],
    n: usize,
    body: impl FnOnce(&mut GraphBuilder, &str) -> String,
) -> Vec<f32> {
    let bytes = graph(example, opset, body);
    let model = load(&bytes).unwrap_or_else(|e| panic!("{e}"));
    let theta = model.params().into_values();
    net(model)
        .try_logits(&theta, rows, n)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The error loading a graph built around `body`.
pub fn load_error(
    example: &[usize],
    body: impl FnOnce(&mut GraphBuilder, &str) -> String,
) -> String {
    match load(&graph(example, OPSET, body)) {
        Ok(_) => panic!("the graph loaded"),
        Err(e) => e.to_string(),
    }
}

/// Asserts two float slices agree to `tol` (absolute, plus relative to the larger).
pub fn assert_close(got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "lengths differ: {got:?} vs {want:?}");
    for (k, (&a, &b)) in got.iter().zip(want).enumerate() {
        let scale = 1.0f32.max(a.abs()).max(b.abs());
        assert!(
            (a - b).abs() <= tol * scale,
            "element {k}: {a} vs {b} (tol {tol})\n got {got:?}\nwant {want:?}"
        );
    }
}

/// An integer constant tensor node.
pub fn ints(g: &mut GraphBuilder, values: &[i64]) -> String {
    g.node(
        "Constant",
        &[],
        vec![genviz_onnx::builder::attr_tensor(
            "value",
            &Host::i64(&[values.len()], values.to_vec()),
        )],
    )
}

/// A float constant tensor node of `shape`.
pub fn floats(g: &mut GraphBuilder, shape: &[usize], values: &[f32]) -> String {
    g.node(
        "Constant",
        &[],
        vec![genviz_onnx::builder::attr_tensor(
            "value",
            &Host::f32(shape, values.to_vec()),
        )],
    )
}

//! A file that fixes its batch size runs in batches of exactly that size (the last one
//! padded) and agrees with the same model exported with a dynamic batch.

mod common;

use common::*;
use genviz_core::network::MeanWeights;
use genviz_core::{Dataset, Network};
use genviz_onnx::builder::{attr_int, DimSpec, GraphBuilder};
use genviz_onnx::host::{Elem, Host};
use genviz_onnx::{OnnxModel, OnnxOptions};
use std::path::Path;

/// x [batch, 4] -> Gemm -> Relu -> Gemm -> [batch, 3]; `batch` fixed or named.
fn mlp(batch: DimSpec) -> Vec<u8> {
    let mut g = GraphBuilder::new(OPSET);
    let x = g.input("x", Elem::Float, &[batch.clone(), 4.into()]);
    let w1 = g.initializer(
        "fc1.weight",
        &Host::f32(&[5, 4], (0..20).map(|v| (v as f32 * 0.37).sin()).collect()),
    );
    let b1 = g.initializer(
        "fc1.bias",
        &Host::f32(&[5], vec![0.1, -0.2, 0.0, 0.3, -0.1]),
    );
    let w2 = g.initializer(
        "fc2.weight",
        &Host::f32(&[3, 5], (0..15).map(|v| (v as f32 * 0.71).cos()).collect()),
    );
    let h = g.node("Gemm", &[&x, &w1, &b1], vec![attr_int("transB", 1)]);
    let h = g.node("Relu", &[&h], vec![]);
    let y = g.node("Gemm", &[&h, &w2], vec![attr_int("transB", 1)]);
    g.output(&y, Elem::Float, &[batch, 3.into()]);
    g.to_bytes()
}

#[test]
fn fixed_batch_files_give_the_same_results_as_dynamic_ones() {
    let fixed = net(load(&mlp(DimSpec::Fixed(3))).unwrap());
    let dynamic = net(load(&mlp("batch".into())).unwrap());
    let theta = fixed.model().params().into_values();
    let data = Dataset::new(
        (0..28).map(|v| (v as f32 * 0.13).sin()).collect(),
        vec![0, 1, 2, 0, 1, 2, 0],
        4,
        3,
    )
    .unwrap();
    // 7 rows: batches of 3, 3 and 1 padded to 3.
    let a = fixed.logits(&theta, data.features(), data.len());
    let b = dynamic.logits(&theta, data.features(), data.len());
    assert_eq!(a.len(), 21);
    assert_close(&a, &b, 1e-6);
    let weights = MeanWeights::new(7);
    let batch = weights.batch(&data);
    let (mut ga, mut gb) = (vec![0f32; theta.len()], vec![0f32; theta.len()]);
    let la = fixed.loss_grad(&theta, &batch, &mut ga);
    let lb = dynamic.loss_grad(&theta, &batch, &mut gb);
    assert!((la - lb).abs() < 1e-6, "{la} vs {lb}");
    assert_close(&ga, &gb, 1e-5);
    let small = OnnxModel::from_bytes(
        &mlp(DimSpec::Fixed(3)),
        Path::new("m.onnx"),
        &OnnxOptions {
            eval_batch: 2,
            ..Default::default()
        },
    )
    .unwrap();
    let c = net(small).logits(&theta, data.features(), data.len());
    assert_close(&c, &b, 1e-6);
}

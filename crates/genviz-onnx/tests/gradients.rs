//! Gradients through operators the PyTorch fixtures do not use, against central differences of
//! the evaluated loss; and the Hessian-vector product of a quadratic.

mod common;

use common::*;
use genviz_core::network::mean_loss_grad;
use genviz_core::{Dataset, Network};
use genviz_onnx::builder::{attr_float, attr_int, attr_ints, attr_str, DimSpec, GraphBuilder};
use genviz_onnx::host::{Elem, Host};

fn ramp(n: usize, scale: f32, shift: usize) -> Vec<f32> {
    (0..n)
        .map(|k| (((k + shift) * 7 % 13) as f32 - 6.0) * scale)
        .collect()
}

/// A graph through padding, pooling, clipping, gathers, splits, element-wise maxima and a
/// log-softmax, with parameters at several places.
fn tangled() -> Vec<u8> {
    let mut g = GraphBuilder::new(18);
    let x = g.input(
        "x",
        Elem::Float,
        &["batch".into(), 1.into(), 5.into(), 5.into()],
    );
    let pads = ints(&mut g, &[0, 0, 1, 1, 0, 0, 1, 1]);
    let x = g.node("Pad", &[&x, &pads], vec![attr_str("mode", "reflect")]);
    let w = g.initializer("conv.weight", &Host::f32(&[3, 1, 3, 3], ramp(27, 0.1, 0)));
    let b = g.initializer("conv.bias", &Host::f32(&[3], vec![0.1, -0.2, 0.05]));
    let h = g.node("Conv", &[&x, &w, &b], vec![]);
    let h = g.node(
        "MaxPool",
        &[&h],
        vec![
            attr_ints("kernel_shape", &[2, 2]),
            attr_ints("strides", &[2, 2]),
            attr_ints("pads", &[1, 1, 0, 0]),
            attr_int("ceil_mode", 1),
        ],
    );
    let lo = floats(&mut g, &[], &[-0.6]);
    let hi = floats(&mut g, &[], &[0.9]);
    let h = g.node("Clip", &[&h, &lo, &hi], vec![]);
    let h = g.node("HardSwish", &[&h], vec![]);
    let h = g.node(
        "AveragePool",
        &[&h],
        vec![
            attr_ints("kernel_shape", &[2, 2]),
            attr_ints("pads", &[1, 1, 1, 1]),
            attr_int("count_include_pad", 1),
        ],
    );
    let h = g.node("Flatten", &[&h], vec![]);
    let fc = g.initializer("fc.weight", &Host::f32(&[4, 3 * 16], ramp(4 * 48, 0.05, 3)));
    let h = g.node("Gemm", &[&h, &fc], vec![attr_int("transB", 1)]);
    let h = g.node("Softplus", &[&h], vec![]);
    let parts = g.node_n(
        "Split",
        &[&h],
        2,
        vec![attr_int("axis", 1), attr_int("num_outputs", 2)],
    );
    let top = g.node("Max", &[&parts[0], &parts[1]], vec![]);
    let bottom = g.node("Min", &[&parts[0], &parts[1]], vec![]);
    let scale = g.initializer("scale", &Host::f32(&[2], vec![1.5, -0.7]));
    let bottom = g.node("Mul", &[&bottom, &scale], vec![]);
    let two = floats(&mut g, &[], &[2.0]);
    let sq = g.node("Pow", &[&top, &two], vec![]);
    let zero = floats(&mut g, &[], &[0.0]);
    let mask = g.node("Greater", &[&bottom, &zero], vec![]);
    let bottom = g.node("Where", &[&mask, &bottom, &sq], vec![]);
    let idx = g.node(
        "Constant",
        &[],
        vec![genviz_onnx::builder::attr_tensor(
            "value",
            &Host::i64(&[3], vec![1, 0, 1]),
        )],
    );
    let picked = g.node("Gather", &[&sq, &idx], vec![attr_int("axis", 1)]);
    let all = g.node("Concat", &[&bottom, &picked], vec![attr_int("axis", 1)]);
    let starts = ints(&mut g, &[4]);
    let ends = ints(&mut g, &[i64::MIN]);
    let axes = ints(&mut g, &[1]);
    let steps = ints(&mut g, &[-2]);
    let stepped = g.node("Slice", &[&all, &starts, &ends, &axes, &steps], vec![]);
    let t = g.node("Tanh", &[&stepped], vec![]);
    let y = g.node("LogSoftmax", &[&t], vec![attr_float("unused", 0.0)]);
    g.output(&y, Elem::Float, &[DimSpec::Named("batch".into()), 3.into()]);
    g.to_bytes()
}

#[test]
fn gradients_match_central_differences() {
    let model = load(&tangled()).unwrap();
    assert_eq!(model.num_classes(), 3);
    let theta = model.params().into_values();
    let net = net(model);
    let data = Dataset::new(ramp(4 * 25, 0.3, 5), vec![0, 1, 2, 1], 25, 3).unwrap();
    let mut grad = vec![0f32; theta.len()];
    let loss = mean_loss_grad(&net, &theta, &data, &mut grad);
    let eval = net.evaluate(&[&theta], &data)[0];
    assert!((loss - eval.loss).abs() < 1e-6, "{loss} vs {}", eval.loss);
    let scale = grad.iter().fold(0f32, |m, g| m.max(g.abs()));
    assert!(scale > 1e-3, "the gradient vanished");
    let h = 1e-3f32;
    for k in 0..theta.len() {
        let mut plus = theta.clone();
        plus[k] += h;
        let mut minus = theta.clone();
        minus[k] -= h;
        let l = net.evaluate(&[&plus, &minus], &data);
        let fd = (l[0].loss - l[1].loss) / (2.0 * f64::from(h));
        assert!(
            (fd - f64::from(grad[k])).abs() <= 2e-3 * f64::from(scale),
            "parameter {k} ({}): autodiff {} vs differences {fd}",
            net.layout()
                .tensors()
                .iter()
                .find(|t| t.range().contains(&k))
                .unwrap()
                .name,
            grad[k]
        );
    }
}

#[test]
fn hessian_vector_products_of_a_quadratic_are_exact() {
    // Sigmoid head on z = w . x: the loss is not quadratic, but for a linear model
    // H = mean(p (1 - p) x x^T), which this test computes directly.
    let mut g = GraphBuilder::new(17);
    let x = g.input("x", Elem::Float, &["batch".into(), 3.into()]);
    let w = g.initializer("w", &Host::f32(&[3, 1], vec![0.3, -0.2, 0.5]));
    let z = g.node("MatMul", &[&x, &w], vec![]);
    g.output(&z, Elem::Float, &["batch".into(), 1.into()]);
    let model = load(&g.to_bytes()).unwrap();
    let theta = model.params().into_values();
    let net = net(model);
    let data = Dataset::new(ramp(15, 0.4, 1), vec![0, 1, 1, 0, 1], 3, 2).unwrap();
    let v = [1.0f32, 2.0, -1.0];
    let hv = net.hvp(&theta, &v, &data);
    let mut want = [0f64; 3];
    for i in 0..data.len() {
        let row = data.row(i);
        let z: f64 = row
            .iter()
            .zip(&theta)
            .map(|(a, b)| f64::from(*a) * f64::from(*b))
            .sum();
        let p = 1.0 / (1.0 + (-z).exp());
        let xv: f64 = row
            .iter()
            .zip(&v)
            .map(|(a, b)| f64::from(*a) * f64::from(*b))
            .sum();
        for j in 0..3 {
            want[j] += p * (1.0 - p) * f64::from(row[j]) * xv / data.len() as f64;
        }
    }
    for j in 0..3 {
        assert!(
            (hv[j] - want[j]).abs() < 1e-3 * want.iter().fold(0f64, |m, w| m.max(w.abs())),
            "{hv:?} vs {want:?}"
        );
    }
}

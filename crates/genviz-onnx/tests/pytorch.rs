//! Models exported by PyTorch (both exporters; `tests/fixtures/make_fixtures.py` made them)
//! evaluate to PyTorch's logits, loss and gradients within 1e-4, on the interpreter or, for
//! the small CNN, on genviz's CPU conv engine.

use genviz_core::io::Npz;
use genviz_core::network::mean_loss_grad;
use genviz_core::Network;
use genviz_onnx::{CpuBackend, OnnxModel, OnnxNet, OnnxOptions};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Agreement required with PyTorch: absolute, and relative for values above 1.
const TOLERANCE: f64 = 1e-4;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn close(what: &str, got: &[f32], want: &[f32]) -> f64 {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    let mut worst = 0f64;
    for (k, (&a, &b)) in got.iter().zip(want).enumerate() {
        let err = (f64::from(a) - f64::from(b)).abs() / f64::from(b.abs()).max(1.0);
        assert!(err <= TOLERANCE, "{what}[{k}]: genviz {a}, PyTorch {b}");
        worst = worst.max(err);
    }
    worst
}

/// Checks one exported model against the reference; returns the worst relative error.
fn check(model_file: &str, reference: &str, classes: usize) -> f64 {
    check_on(model_file, reference, classes, None)
}

/// [`check`] for a model that runs on genviz's own `engine` (`None`: the interpreter).
fn check_on(model_file: &str, reference: &str, classes: usize, engine: Option<&str>) -> f64 {
    let path = fixture(model_file);
    let model = OnnxModel::open(&path, &OnnxOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    // A net with convolutions and no BatchNorm is warned about, rightly: from the file alone,
    // BatchNorm folded into the convolutions cannot be told from none.
    let folding = model.warnings().iter().all(|w| w.contains("BatchNorm"));
    assert!(
        model.warnings().is_empty() || (engine == Some("cnn") && folding),
        "{:?}",
        model.warnings()
    );
    let examples =
        genviz_data::read_npz_examples(&fixture(reference), "test", Some(classes)).unwrap();
    model
        .check_example_shape(&examples.example_shape, examples.integer)
        .unwrap();
    let data = examples.data;
    let mut npz = Npz::open(&fixture(reference)).unwrap();
    let grads: BTreeMap<String, Vec<f32>> = npz
        .names()
        .unwrap()
        .into_iter()
        .filter_map(|n| n.strip_prefix("grad.").map(str::to_string))
        .map(|n| {
            let (values, _) = npz.f32(&format!("grad.{n}")).unwrap();
            (n, values)
        })
        .collect();
    // The parameters are exactly PyTorch's named parameters (running statistics excluded).
    let names: Vec<&str> = model
        .layout()
        .tensors()
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        grads.keys().map(String::as_str).collect::<Vec<_>>(),
        "{model_file}"
    );

    let theta = model.params().into_values();
    let net: OnnxNet<CpuBackend> = OnnxNet::new(Arc::new(model), Default::default());
    assert_eq!(net.native_engine(), engine, "{model_file}");
    let (logits, _) = npz.f32("logits").unwrap();
    let mut worst = close(
        &format!("{model_file} logits"),
        &net.logits(&theta, data.features(), data.len()),
        &logits,
    );
    let (loss, _) = npz.f64("loss").unwrap();
    let mut grad = vec![0f32; theta.len()];
    let value = mean_loss_grad(&net, &theta, &data, &mut grad);
    assert!(
        (value - loss[0]).abs() <= TOLERANCE,
        "{model_file} loss: genviz {value}, PyTorch {}",
        loss[0]
    );
    let eval = net.evaluate(&[&theta], &data)[0];
    assert!(
        (eval.loss - loss[0]).abs() <= TOLERANCE,
        "{model_file} evaluate: {} vs {}",
        eval.loss,
        loss[0]
    );
    for t in net.layout().tensors() {
        let e = close(
            &format!("{model_file} grad.{}", t.name),
            &grad[t.range()],
            &grads[&t.name],
        );
        worst = worst.max(e);
    }
    eprintln!("{model_file}: worst relative difference to PyTorch {worst:.2e}");
    worst
}

#[test]
fn resnet_from_the_dynamo_exporter_matches_pytorch() {
    check("resnet_dynamo.onnx", "resnet_reference.npz", 5);
}

#[test]
fn resnet_from_the_torchscript_exporter_matches_pytorch() {
    check("resnet_legacy.onnx", "resnet_reference.npz", 5);
}

/// The classic MNIST network runs on genviz's CPU conv engine from both exporters: the
/// TorchScript one flattens with `Flatten`, the dynamo one with a `Reshape` to a shape it
/// builds from the input's batch size.
#[test]
fn small_cnn_from_the_dynamo_exporter_runs_on_the_conv_engine_and_matches_pytorch() {
    check_on("cnn_dynamo.onnx", "cnn_reference.npz", 4, Some("cnn"));
}

#[test]
fn small_cnn_from_the_torchscript_exporter_runs_on_the_conv_engine_and_matches_pytorch() {
    check_on("cnn_legacy.onnx", "cnn_reference.npz", 4, Some("cnn"));
}

#[test]
fn transformer_from_the_dynamo_exporter_matches_pytorch() {
    check("transformer_dynamo.onnx", "transformer_reference.npz", 3);
}

#[test]
fn transformer_from_the_torchscript_exporter_matches_pytorch() {
    check("transformer_legacy.onnx", "transformer_reference.npz", 3);
}

#[test]
fn batch_norm_statistics_are_buffers_not_parameters() {
    let model = OnnxModel::open(&fixture("resnet_dynamo.onnx"), &OnnxOptions::default()).unwrap();
    assert!(model.has_batch_norm());
    let layout = model.layout();
    assert!(layout.get("layer1.0.bn1.weight").is_some());
    assert!(layout.tensors().iter().all(|t| !t.name.contains("running")));
    assert_eq!(
        layout.get("layer1.0.conv1.weight").unwrap().shape,
        vec![4, 4, 3, 3]
    );
    assert_eq!(
        layout.get("layer1.0.bn1.weight").unwrap().role,
        genviz_core::Role::NormScale
    );
    // A pattern narrows the parameters to the convolutions.
    let convs = OnnxModel::open(
        &fixture("resnet_dynamo.onnx"),
        &OnnxOptions {
            params: Some(r"conv\d?\.weight$".to_string()),
            ..Default::default()
        },
    )
    .unwrap();
    let names: Vec<&str> = convs
        .layout()
        .tensors()
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "conv1.weight",
            "layer1.0.conv1.weight",
            "layer1.0.conv2.weight",
            "layer2.0.conv1.weight",
            "layer2.0.conv2.weight"
        ]
    );
}

//! `genviz train --model vgg9` on CIFAR-10-shaped and Fashion-MNIST-shaped files written here.

mod common;

use common::{genviz, json, ok, s, write_idx_split};
use genviz_core::io::read_safetensors;
use genviz_core::Dataset;
use genviz_data::images::cifar_bytes;
use std::path::Path;

fn train_vgg9(data: &str, dir: &Path, out: &Path) -> serde_json::Value {
    ok(genviz(&[
        "train",
        "--data",
        data,
        "--data-dir",
        s(dir),
        "--model",
        "vgg9",
        "--optimizer",
        "sgd",
        "--lr",
        "0.01",
        "--batch-size",
        "4",
        "--steps",
        "2",
        "--log-every",
        "2",
        "--out",
        s(out),
    ]));
    json(&out.join("run.json"))
}

/// `n` images of `dim` values in [0, 1], labels cycling through 3 classes.
fn images(n: usize, dim: usize) -> Dataset {
    let features = (0..n * dim)
        .map(|i| (i * 37 % 101) as f32 / 100.0)
        .collect();
    let labels = (0..n).map(|i| (i % 3) as u32).collect();
    Dataset::new(features, labels, dim, 10).unwrap()
}

/// The reference names the trained weights must carry, and the parameter count with
/// BatchNorm's running statistics (2,789,706 trainable + 2,816 buffers on CIFAR-10).
fn check(run: &serde_json::Value, out: &Path, num_params: u64) {
    assert_eq!(run["results"]["model"]["arch"]["kind"], "vgg");
    assert_eq!(run["results"]["num_params"], num_params);
    let file = read_safetensors(&out.join("model.safetensors")).unwrap();
    let names: Vec<&str> = file.tensors.iter().map(|t| t.name.as_str()).collect();
    for name in [
        "features.0.weight",
        "features.1.running_var",
        "features.20.bias",
        "fc.0.weight",
        "fc.1.running_mean",
        "classifier.weight",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    let loss = run["results"]["final"]["train_loss"].as_f64().unwrap();
    assert!(loss.is_finite() && loss > 0.0);
}

#[test]
fn vgg9_trains_on_cifar10_and_on_28x28_grey_images() {
    let tmp = tempfile::tempdir().unwrap();
    let cifar = tmp.path().join("cifar");
    std::fs::create_dir_all(&cifar).unwrap();
    for k in 1..=5 {
        std::fs::write(
            cifar.join(format!("data_batch_{k}.bin")),
            cifar_bytes(&images(2, 3072)),
        )
        .unwrap();
    }
    std::fs::write(cifar.join("test_batch.bin"), cifar_bytes(&images(3, 3072))).unwrap();
    let out = tmp.path().join("cifar-run");
    let run = train_vgg9("cifar10", &cifar, &out);
    check(&run, &out, 2_792_522);
    assert_eq!(
        run["results"]["model"]["input"],
        serde_json::json!([3, 32, 32])
    );

    // 28x28 grey: one input channel, and ceil-mode pooling (28 -> 14 -> 7 -> 4) leaves the
    // same 4,096 inputs to fc.0.
    let fashion = tmp.path().join("fashion");
    std::fs::create_dir_all(&fashion).unwrap();
    for (stem, n) in [("train", 8usize), ("t10k", 3)] {
        let d = images(n, 784);
        let pixels: Vec<u8> = d.features().iter().map(|v| (v * 255.0) as u8).collect();
        let labels: Vec<u8> = d.labels().iter().map(|&y| y as u8).collect();
        write_idx_split(&fashion, stem, &pixels, &labels);
    }
    let out = tmp.path().join("fashion-run");
    let run = train_vgg9("fashion-mnist", &fashion, &out);
    check(&run, &out, 2_792_522 - 1_152);
}

//! A user's ONNX model through every door: genviz's own nets exported with `genviz export
//! --onnx` and analysed back, with the same numbers as the native model.

mod common;

use common::{fails, genviz, ok, s};
use std::path::Path;

fn eval(args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(genviz(args))).unwrap()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1e-3)
}

/// Two `genviz eval` outputs with the same losses (to 1e-5) and accuracies on both splits.
fn same_scores(native: &serde_json::Value, exported: &serde_json::Value) {
    for split in ["train", "test"] {
        let (a, b) = (&native[split], &exported[split]);
        assert!(
            close(
                a["loss"].as_f64().unwrap(),
                b["loss"].as_f64().unwrap(),
                1e-5
            ),
            "{split}: {a} vs {b}"
        );
        assert_eq!(a["accuracy"], b["accuracy"], "{split}");
    }
}

#[test]
fn an_exported_net_evaluates_and_draws_its_surface_as_the_native_one() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    ok(genviz(&[
        "train",
        "--steps",
        "200",
        "--checkpoint-every",
        "50",
        "--out",
        s(&run),
    ]));
    let onnx = dir.path().join("model.onnx");
    let printed = ok(genviz(&["export", s(&run), "--onnx", s(&onnx)]));
    assert_eq!(printed.trim(), s(&onnx));

    // The same losses and accuracies on the run's own data.
    let data = format!("npz:{}", run.join("data.npz").display());
    let native = eval(&["eval", s(&run)]);
    let exported = eval(&["eval", s(&onnx), "--data", &data]);
    same_scores(&native, &exported);
    assert_eq!(native["num_params"], exported["num_params"]);

    // The same surface: the same filter-normalised directions from the same seed, the same
    // losses at every point, under the same tensor names.
    let grid = ["--x", "-1:1:5", "--y", "-1:1:5"];
    let native_out = dir.path().join("native");
    let onnx_out = dir.path().join("onnx");
    ok(genviz(
        &[&["surface", s(&run)][..], &grid, &["--out", s(&native_out)]].concat(),
    ));
    ok(genviz(
        &[
            &["surface", s(&onnx), "--data", &data][..],
            &grid,
            &["--out", s(&onnx_out)],
        ]
        .concat(),
    ));
    for f in [
        "surface.npz",
        "surface_contour.png",
        "surface_3d.png",
        "run.json",
    ] {
        assert!(onnx_out.join(f).exists(), "{f} is missing");
    }
    let a = genviz_landscape::Surface::load(&native_out.join("surface.npz")).unwrap();
    let b = genviz_landscape::Surface::load(&onnx_out.join("surface.npz")).unwrap();
    assert_eq!(a.train_loss.len(), 25);
    for (i, (x, y)) in a.train_loss.iter().zip(&b.train_loss).enumerate() {
        assert!(close(*x, *y, 1e-4), "point {i}: {x} vs {y}");
    }
    let directions = |p: &Path| {
        let file = genviz_core::io::read_safetensors(&p.join("directions.safetensors")).unwrap();
        let mut names: Vec<String> = file.tensors.iter().map(|t| t.name.clone()).collect();
        names.sort();
        names
    };
    assert_eq!(directions(&native_out), directions(&onnx_out));
    assert!(directions(&onnx_out).contains(&"x.layers.0.weight".to_string()));

    // The record reopens the ONNX model from run.json alone.
    ok(genviz(&["rerun", s(&onnx_out)]));

    // A training path given as checkpoint files (genviz's safetensors checkpoints, whose
    // tensor names are the ONNX model's), ending at the ONNX model.
    let mut path: Vec<String> = std::fs::read_dir(run.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| p.contains("step_"))
        .collect();
    path.sort();
    assert!(path.len() >= 3, "{path:?}");
    let traj_out = dir.path().join("traj");
    let mut args = vec!["trajectory"];
    args.extend(path.iter().map(String::as_str));
    args.extend([
        s(&onnx),
        "--data",
        &data,
        "--num",
        "5",
        "--out",
        s(&traj_out),
    ]);
    ok(genviz(&args));
    let record = common::json(&traj_out.join("run.json"));
    assert_eq!(
        record["config"]["checkpoints"].as_array().unwrap().len(),
        path.len() + 1
    );
    assert!(traj_out.join("surface.npz").exists() && traj_out.join("pca.npz").exists());
}

#[test]
fn onnx_mistakes_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    ok(genviz(&["train", "--steps", "20", "--out", s(&run)]));
    let onnx = dir.path().join("model.onnx");
    ok(genviz(&["export", s(&run), "--onnx", s(&onnx)]));

    let err = fails(genviz(&["eval", s(&onnx)]));
    assert!(
        err.contains("model.onnx") && err.contains("--data"),
        "{err}"
    );
    let err = fails(genviz(&["eval", s(&onnx), "--data", "blobs"]));
    assert!(
        err.contains("3 classes") && err.contains("predicts 2"),
        "{err}"
    );
    let err = fails(genviz(&["eval", s(&run), "--params", "layers"]));
    assert!(err.contains("ONNX models only"), "{err}");
    let err = fails(genviz(&["export", s(&run), "--onnx", "model.txt"]));
    assert!(err.contains("model.txt") && err.contains(".onnx"), "{err}");
    let err = fails(genviz(&[
        "export",
        s(&onnx),
        "--onnx",
        s(&dir.path().join("again.onnx")),
    ]));
    assert!(err.contains("already an ONNX model"), "{err}");
    let err = fails(genviz(&[
        "eval",
        s(&onnx),
        "--data",
        "swiss-roll",
        "--bn",
        "recompute",
    ]));
    assert!(err.contains("no BatchNormalization"), "{err}");

    let broken = dir.path().join("broken.onnx");
    std::fs::write(&broken, b"not a protobuf at all").unwrap();
    let err = fails(genviz(&["eval", s(&broken), "--data", "swiss-roll"]));
    assert!(err.contains("broken.onnx"), "{err}");
}

/// `genviz` run in `cwd`, where the built-in image sets are found under `data/<name>`.
fn genviz_in(cwd: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_genviz"))
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("genviz runs")
}

#[test]
fn a_built_in_image_set_feeds_an_onnx_conv_net_whose_input_fits() {
    let dir = tempfile::tempdir().unwrap();
    let fashion = dir.path().join("data").join("fashion-mnist");
    common::tiny_fashion_mnist(&fashion, 64, 20);
    let run = dir.path().join("cnn");
    common::train_tiny_cnn(&fashion, &run, &[]);
    let onnx = dir.path().join("cnn.onnx");
    ok(genviz(&["export", s(&run), "--onnx", s(&onnx)]));

    // `--data fashion-mnist` reads the images from ./data/fashion-mnist, as the run did from
    // its --data-dir: the ONNX model (input [1, 28, 28]) scores as the native one.
    let native = eval(&["eval", s(&run)]);
    let exported: serde_json::Value = serde_json::from_str(&ok(genviz_in(
        dir.path(),
        &["eval", s(&onnx), "--data", "fashion-mnist"],
    )))
    .unwrap();
    same_scores(&native, &exported);

    // CIFAR-10's 3 x 32 x 32 images do not fit a 1 x 28 x 28 input: a clear error.
    let cifar = dir.path().join("data").join("cifar10");
    std::fs::create_dir_all(&cifar).unwrap();
    let images = genviz_core::Dataset::new(
        (0..4 * 3072).map(|i| (i % 7) as f32 / 7.0).collect(),
        vec![0, 1, 2, 3],
        3072,
        10,
    )
    .unwrap();
    let batch = genviz_data::images::cifar_bytes(&images);
    for name in ["test_batch.bin"]
        .into_iter()
        .map(String::from)
        .chain((1..=5).map(|k| format!("data_batch_{k}.bin")))
    {
        std::fs::write(cifar.join(name), &batch).unwrap();
    }
    let err = fails(genviz_in(
        dir.path(),
        &["eval", s(&onnx), "--data", "cifar10"],
    ));
    assert!(
        err.contains("cnn.onnx") && err.contains("28") && err.contains("32"),
        "{err}"
    );
}

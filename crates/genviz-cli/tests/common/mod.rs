//! Helpers every `genviz` integration test uses: run the built binary, check how it ended,
//! read what it wrote. Each test binary uses a part of them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `genviz` binary of this build with `args`.
pub fn genviz(args: &[&str]) -> Output {
    genviz_env(args, &[])
}

/// Runs `genviz` with `args` and the environment variables `env` set.
pub fn genviz_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_genviz"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("genviz runs")
}

/// Runs `genviz` on `threads` rayon threads.
pub fn genviz_threads(args: &[&str], threads: usize) -> Output {
    genviz_env(args, &[("RAYON_NUM_THREADS", &threads.to_string())])
}

/// The standard output of a run that must succeed (its standard error in the panic if not).
pub fn ok(out: Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "genviz failed: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

/// The standard error of a run that must fail.
pub fn fails(out: Output) -> String {
    assert!(!out.status.success(), "genviz should have failed");
    String::from_utf8(out.stderr).unwrap()
}

/// A path as a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Trains the default swiss-roll net for `steps` steps into `dir/run`; returns that folder.
pub fn train_run(dir: &Path, steps: &str) -> PathBuf {
    let run = dir.join("run");
    ok(genviz(&["train", "--steps", steps, "--out", s(&run)]));
    run
}

/// Asserts that each of `names` (paths relative to `dir`) is a file.
pub fn assert_files(dir: &Path, names: &[&str]) {
    for name in names {
        assert!(dir.join(name).is_file(), "{name} is missing");
    }
}

/// Writes one split of a Fashion-MNIST-shaped folder (see genviz-data's `write_idx_split`).
pub fn write_idx_split(dir: &Path, stem: &str, pixels: &[u8], labels: &[u8]) {
    genviz_data::images::write_idx_split(dir, stem, pixels, labels).unwrap();
}

/// A JSON file genviz wrote.
pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Writes `train` and `test` Fashion-MNIST-shaped images into `dir`, learnable by a CNN in a
/// few steps (genviz-data's `write_banded_fashion_mnist`).
pub fn tiny_fashion_mnist(dir: &Path, train: u32, test: u32) {
    genviz_data::images::write_banded_fashion_mnist(dir, train, test).unwrap();
}

/// Trains the CNN for 3 steps of batches of 16 on the Fashion-MNIST-shaped images in `data`
/// into `out`, with `extra` arguments.
pub fn train_tiny_cnn(data: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec![
        "train",
        "--data",
        "fashion-mnist",
        "--data-dir",
        s(data),
        "--model",
        "cnn",
        "--steps",
        "3",
        "--batch-size",
        "16",
        "--out",
        s(out),
    ];
    args.extend(extra);
    ok(genviz(&args));
}

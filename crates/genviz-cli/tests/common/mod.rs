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

/// Writes one split of a Fashion-MNIST-shaped folder, uncompressed: the 28x28 grey images
/// `pixels` (row-major, one after another) in `{stem}-images-idx3-ubyte` and their `labels` in
/// `{stem}-labels-idx1-ubyte`.
pub fn write_idx_split(dir: &Path, stem: &str, pixels: &[u8], labels: &[u8]) {
    use genviz_data::images::{idx_bytes, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC};
    let n = labels.len() as u32;
    assert_eq!(pixels.len(), n as usize * 784, "28x28 pixels per label");
    std::fs::write(
        dir.join(format!("{stem}-images-idx3-ubyte")),
        idx_bytes(IDX_IMAGES_MAGIC, &[n, 28, 28], pixels),
    )
    .unwrap();
    std::fs::write(
        dir.join(format!("{stem}-labels-idx1-ubyte")),
        idx_bytes(IDX_LABELS_MAGIC, &[n], labels),
    )
    .unwrap();
}

/// A JSON file genviz wrote.
pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Writes `train` and `test` tiny banded Fashion-MNIST-shaped images into `dir` (see
/// [`genviz_data::images::write_banded_idx`]).
pub fn tiny_fashion_mnist(dir: &Path, train: u32, test: u32) {
    genviz_data::images::write_banded_idx(dir, train, test).unwrap();
}

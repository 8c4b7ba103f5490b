//! Helpers every `genviz` integration test uses: run the built binary, check how it ended,
//! read what it wrote. Each test binary uses a part of them.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs the `genviz` binary of this build with `args`.
pub fn genviz(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_genviz"))
        .args(args)
        .output()
        .expect("genviz runs")
}

/// Runs `genviz` on `threads` rayon threads.
pub fn genviz_threads(args: &[&str], threads: usize) -> Output {
    Command::new(env!("CARGO_BIN_EXE_genviz"))
        .args(args)
        .env("RAYON_NUM_THREADS", threads.to_string())
        .output()
        .expect("genviz runs")
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

/// A JSON file genviz wrote.
pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

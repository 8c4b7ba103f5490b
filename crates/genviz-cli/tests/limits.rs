//! Requests that cannot fit are refused before any work, with the size they need; non-finite
//! weights are reported with where they are.

use std::path::Path;
use std::process::{Command, Output};

fn genviz(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_genviz"));
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("genviz runs")
}

fn fails(out: Output) -> String {
    assert!(!out.status.success(), "genviz should have failed");
    String::from_utf8(out.stderr).unwrap()
}

fn ok(out: Output) {
    assert!(
        out.status.success(),
        "genviz failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn oversized_requests_are_refused_up_front_with_their_size() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    ok(genviz(&["train", "--steps", "20", "--out", s(&run)], &[]));
    let out = dir.path().join("never");

    // A 1-D grid of 100,000 points under a 1 MB cap: 11.2 MB of values, copies and coordinates.
    let err = fails(genviz(
        &["surface", s(&run), "--x", "-1:1:100000", "--out", s(&out)],
        &[("GENVIZ_MAX_MEMORY", "1M")],
    ));
    assert!(
        err.contains("a grid of 100000 points is too big: it needs about 11.2 MB of memory")
            && err.contains("GENVIZ_MAX_MEMORY"),
        "{err}"
    );
    // No machine holds a 10^7 x 10^7 grid.
    let err = fails(genviz(
        &[
            "surface",
            s(&run),
            "--x",
            "-1:1:10000000",
            "--y",
            "-1:1:10000000",
            "--out",
            s(&out),
        ],
        &[],
    ));
    assert!(
        err.contains(
            "10000000 x 10000000 = 100000000000000 points is too big: it needs about 9600.0 TB"
        ),
        "{err}"
    );
    let err = fails(genviz(
        &[
            "basin",
            s(&run),
            "--rays",
            "100000000000000",
            "--out",
            s(&out),
        ],
        &[],
    ));
    assert!(
        err.contains("100000000000000 rays is too big: it needs about"),
        "{err}"
    );
    let err = fails(genviz(
        &[
            "hessian",
            s(&run),
            "--ratio-map",
            "100000000",
            "--out",
            s(&out),
        ],
        &[],
    ));
    assert!(
        err.contains("100000000 x 100000000 ratio map is too big: it needs about"),
        "{err}"
    );
    let err = fails(genviz(
        &[
            "minefield",
            "--starts",
            "10000000",
            "--good-epochs",
            "10000000",
            "--out",
            s(&out),
        ],
        &[],
    ));
    assert!(
        err.contains("embedding 20000000 models with PCA and t-SNE is too big: it needs about"),
        "{err}"
    );
    assert!(!out.exists(), "a refused request wrote nothing");
}

#[test]
fn non_finite_weights_are_reported_by_tensor_and_index() {
    use genviz_core::io::{read_safetensors, write_safetensors};
    use genviz_core::{Layout, Params, Role};
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    ok(genviz(&["train", "--steps", "20", "--out", s(&run)], &[]));
    let file = read_safetensors(&run.join("model.safetensors")).unwrap();
    let layout = Layout::new(
        file.tensors
            .iter()
            .map(|t| (t.name.clone(), t.shape.clone(), Role::Weight)),
    )
    .unwrap();
    let mut values: Vec<f32> = file
        .tensors
        .iter()
        .flat_map(|t| t.values.iter().copied())
        .collect();
    let spec = layout.get("layers.1.weight").unwrap().clone();
    let cols = spec.shape[1];
    values[spec.range()][2 * cols + 3] = f32::NAN;
    let params = Params::from_vec(std::sync::Arc::new(layout), values).unwrap();
    let bad = dir.path().join("bad.safetensors");
    write_safetensors(&bad, &params, file.metadata.clone()).unwrap();
    let err = fails(genviz(&["eval", s(&bad), "--data", "swiss-roll"], &[]));
    assert!(
        err.contains("bad.safetensors")
            && err.contains("tensor `layers.1.weight` element [2, 3]")
            && err.contains("NaN"),
        "{err}"
    );
}

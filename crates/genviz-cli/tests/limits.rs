//! Requests that cannot fit are refused before any work, with the size they need; non-finite
//! weights are reported with where they are.

mod common;

use common::{fails, genviz, genviz_env, s, train_run};

#[test]
fn oversized_requests_are_refused_up_front_with_their_size() {
    let dir = tempfile::tempdir().unwrap();
    let run = train_run(dir.path(), "20");
    let out = dir.path().join("never");
    let run = s(&run);
    /// A request's arguments, its environment variables, and what its refusal says.
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    // Each request, into `out`, with what its refusal says.
    let cases: [Case<'_>; 5] = [
        // A 1-D grid of 100,000 points under a 1 MB cap: 11.2 MB of values, copies and
        // coordinates.
        (
            &["surface", run, "--x", "-1:1:100000"],
            &[("GENVIZ_MAX_MEMORY", "1M")],
            "a grid of 100000 points is too big: it needs about 11.2 MB of memory",
        ),
        // No machine holds a 10^7 x 10^7 grid.
        (
            &[
                "surface",
                run,
                "--x",
                "-1:1:10000000",
                "--y",
                "-1:1:10000000",
            ],
            &[],
            "10000000 x 10000000 = 100000000000000 points is too big: it needs about 9600.0 TB",
        ),
        (
            &["basin", run, "--rays", "100000000000000"],
            &[],
            "100000000000000 rays is too big: it needs about",
        ),
        (
            &["hessian", run, "--ratio-map", "100000000"],
            &[],
            "100000000 x 100000000 ratio map is too big: it needs about",
        ),
        (
            &[
                "minefield",
                "--starts",
                "10000000",
                "--good-epochs",
                "10000000",
            ],
            &[],
            "embedding 20000000 models with PCA and t-SNE is too big: it needs about",
        ),
    ];
    for (args, env, says) in cases {
        let err = fails(genviz_env(&[args, &["--out", s(&out)]].concat(), env));
        assert!(err.contains(says), "{err}");
        // A cap set in the environment is named as the way to raise it.
        for (name, _) in env {
            assert!(err.contains(name), "{err}");
        }
    }
    assert!(!out.exists(), "a refused request wrote nothing");
}

#[test]
fn non_finite_weights_are_reported_by_tensor_and_index() {
    use genviz_core::io::{read_safetensors, write_safetensors};
    use genviz_core::{Layout, Params, Role};
    let dir = tempfile::tempdir().unwrap();
    let run = train_run(dir.path(), "20");
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
    let err = fails(genviz(&["eval", s(&bad), "--data", "swiss-roll"]));
    assert!(
        err.contains("bad.safetensors")
            && err.contains("tensor `layers.1.weight` element [2, 3]")
            && err.contains("NaN"),
        "{err}"
    );
}

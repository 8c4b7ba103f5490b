//! `genviz optimizers` end to end at a tiny scale: three optimizers on the swiss roll.

mod common;

use common::{fails, genviz, json, ok};

#[test]
fn optimizers_trains_each_from_the_same_start_and_tabulates_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("opt");
    let o = out.to_str().unwrap();
    let args = [
        "optimizers",
        "--data",
        "swiss-roll",
        "--only",
        "adam,adagrad,lbfgs",
        "--steps",
        "200",
        "--seed",
        "2",
        "--out",
        o,
    ];
    ok(genviz(&args));

    let record = json(&out.join("optimizers.json"));
    let initial_loss = record["initial"]["train_loss"].as_f64().unwrap();
    let rows = record["rows"].as_array().unwrap();
    let keys: Vec<&str> = rows.iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["adam", "adagrad", "lbfgs"]);
    for r in rows {
        let key = r["key"].as_str().unwrap();
        assert_eq!(r["steps"], 200, "{key}");
        // L-BFGS at the paper's rate 0.9 may diverge on minibatches; it must say so.
        if r["status"] == "diverged" {
            assert_eq!(key, "lbfgs", "{r}");
            assert!(r["error"].as_str().unwrap().contains("step"), "{r}");
            continue;
        }
        let m = &r["final"];
        for field in ["train_acc", "test_acc"] {
            let v = m[field].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&v), "{key} {field} = {v}");
        }
        let loss = m["train_loss"].as_f64().unwrap();
        assert!(
            loss.is_finite() && loss < initial_loss,
            "{key}: train loss {loss} not below the initial {initial_loss}"
        );
        let evals = r["gradient_evaluations"].as_u64().unwrap();
        if key == "lbfgs" {
            assert!(evals > 200, "{key}: {evals} evaluations");
        } else {
            assert_eq!(evals, 200, "{key}");
        }
        assert!(r["seconds"].as_f64().unwrap() >= 0.0);
        // Each run has its own folder with the usual record, from the same initial weights.
        let run = json(&out.join(key).join("run.json"));
        assert_eq!(run["command"], "train");
        assert_eq!(run["config"]["train"]["optimizer"], r["config"], "{key}");
    }
    let adam = &rows[0]["final"];
    assert!(adam["train_acc"].as_f64().unwrap() > 0.8, "{adam}");
    let start = |key: &str| {
        genviz_core::io::read_safetensors(
            &out.join(key).join("checkpoints/step_00000000.safetensors"),
        )
        .unwrap()
        .tensors
    };
    assert_eq!(start("adam"), start("adagrad"));

    let md = std::fs::read_to_string(out.join("optimizers.md")).unwrap();
    for label in ["| Adam | 0.01 |", "| Adagrad | 0.025 |", "| LBFGS | 0.9 |"] {
        assert!(md.contains(label), "{label} missing from\n{md}");
    }
    let img = image::open(out.join("optimizers.png"))
        .expect("optimizers.png decodes")
        .to_rgb8();
    assert!(img.width() >= 560 && img.height() == 560);

    // A rerun into the same folder skips every finished run.
    let again = genviz(&args);
    assert!(again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(
        stderr.matches("finished before, skipped").count(),
        3,
        "{stderr}"
    );
    let second = json(&out.join("optimizers.json"));
    assert_eq!(second["rows"], record["rows"]);

    // The same folder with another budget is refused rather than mixed.
    let mut other = args.to_vec();
    other[6] = "100";
    let e = fails(genviz(&other));
    assert!(e.contains("another configuration"), "{e}");
}

#[test]
fn optimizers_rejects_unknown_names_and_conv_nets_on_points() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("x");
    let o = o.to_str().unwrap();
    let refused = |flags: &[&str]| {
        fails(genviz(
            &[
                &["optimizers", "--data", "swiss-roll"][..],
                flags,
                &["--out", o],
            ]
            .concat(),
        ))
    };
    let e = refused(&["--only", "sgd,foo"]);
    assert!(e.contains("foo") && e.contains("lbfgs"), "{e}");
    let e = refused(&["--model", "cnn"]);
    assert!(e.contains("needs image data"), "{e}");
}

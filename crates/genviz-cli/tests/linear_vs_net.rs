//! `genviz linear-vs-net` at tiny scale, on synthetic Fashion-MNIST-shaped IDX files.

mod common;

use common::{assert_files, genviz, json, ok, write_idx_split};
use std::path::{Path, PathBuf};

/// Writes `n_train` + `n_test` 28x28 images of 3 classes in the four IDX files of `tmp/data`,
/// and returns that folder: class `c` is a bright 8x8 square at one of three places on a dim
/// noisy background.
fn write_idx(tmp: &Path, n_train: usize, n_test: usize) -> PathBuf {
    let dir = tmp.join("data");
    std::fs::create_dir_all(&dir).unwrap();
    let mut state = 12345u32;
    let mut noise = move || {
        // A fixed linear congruential generator: the files are the same on every run.
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (state >> 24) as u8 / 4
    };
    for (stem, n) in [("train", n_train), ("t10k", n_test)] {
        let mut pixels = Vec::with_capacity(n * 784);
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let c = i % 3;
            labels.push(c as u8);
            let (top, left) = [(2, 2), (10, 16), (18, 6)][c];
            for y in 0..28 {
                for x in 0..28 {
                    let inside = (top..top + 8).contains(&y) && (left..left + 8).contains(&x);
                    pixels.push(if inside { 200 + noise() / 2 } else { noise() });
                }
            }
        }
        write_idx_split(&dir, stem, &pixels, &labels);
    }
    dir
}

#[test]
fn linear_vs_net_trains_both_models_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let data = write_idx(tmp.path(), 72, 30);
    let out = tmp.path().join("fig2");
    let args = [
        "linear-vs-net",
        "--data-dir",
        data.to_str().unwrap(),
        "--n-train",
        "60",
        "--batch-size",
        "20",
        "--net-steps",
        "24",
        "--linear-steps",
        "24",
        "--linear-lr",
        "0.001",
        "--out",
        out.to_str().unwrap(),
    ];
    let stdout = ok(genviz(&args));
    assert!(stdout.contains("| cnn |"), "{stdout}");
    assert_files(
        &out,
        &[
            "linear_vs_net.json",
            "linear_vs_net.md",
            "fig2_linear_vs_net.png",
            "net/run.json",
            "net/model.safetensors",
            "net/metrics.csv",
            "linear/run.json",
            "linear/model.safetensors",
            "linear/metrics.csv",
            "linear/training_curves.png",
        ],
    );
    let report = json(&out.join("linear_vs_net.json"));
    assert_eq!(report["n_train"], 60);
    assert_eq!(report["n_test"], 30);
    assert_eq!(report["side"], 14);
    // 14x14 downsized: 196 * 197 / 2 products plus 784 pixels, times 10 classes, plus biases.
    assert_eq!(report["linear"]["num_inputs"], 20_090);
    assert_eq!(report["linear"]["num_params"], 200_910);
    assert_eq!(report["net"]["num_params"], 215_370);
    for model in ["net", "linear"] {
        let m = &report[model];
        for key in ["train_acc", "test_acc"] {
            let v = m[key].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&v), "{model} {key} {v}");
        }
        for key in ["train_loss", "test_loss", "train_s"] {
            let v = m[key].as_f64().unwrap();
            assert!(v.is_finite() && v >= 0.0, "{model} {key} {v}");
        }
        // Three well-separated squares: both models fit them.
        assert!(m["train_acc"].as_f64().unwrap() >= 0.9, "{model}: {m}");
    }
    // Both models are ordinary training runs, each rerunnable from its record; the
    // comparison's own record names the whole figure.
    let run = json(&out.join("linear/run.json"));
    assert_eq!(run["command"], "train");
    assert_eq!(run["config"]["data"]["kind"], "poly_features");
    assert_eq!(run["results"]["model"]["input_dim"], 20_090);
    assert_eq!(json(&out.join("net/run.json"))["command"], "train");
    let record = json(&out.join("run.json"));
    assert_eq!(record["command"], "linear-vs-net");
    assert_eq!(record["results"]["test_acc_gap"], report["test_acc_gap"]);
    let image = image::open(out.join("fig2_linear_vs_net.png")).unwrap();
    assert!(image.width() >= 600 && image.height() == 560);

    // A rerun into the same folder resumes from the finished state: same numbers.
    ok(genviz(&args));
    let again = json(&out.join("linear_vs_net.json"));
    for model in ["net", "linear"] {
        for key in ["train_acc", "test_acc", "train_loss", "test_loss"] {
            assert_eq!(again[model][key], report[model][key], "{model} {key}");
        }
    }
}

#[test]
fn linear_vs_net_refuses_bad_requests_before_training() {
    let tmp = tempfile::tempdir().unwrap();
    let data = write_idx(tmp.path(), 12, 6);
    let d = data.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["linear-vs-net", "--data-dir", d, "--n-train", "10"];
        if !extra.contains(&"--batch-size") {
            args.extend(["--batch-size", "5"]);
        }
        args.extend_from_slice(extra);
        let out = genviz(&args);
        assert!(!out.status.success(), "should fail: {extra:?}");
        String::from_utf8(out.stderr).unwrap()
    };
    assert!(run(&["--side", "29"]).contains("--side 29"));
    assert!(run(&["--data", "swiss-roll"]).contains("image data set"));
    assert!(run(&["--model", "vgg7"]).contains("unknown model"));
    assert!(run(&["--batch-size", "11"]).contains("--batch-size"));
    assert!(run(&["--linear-lr", "0"]).contains("--linear-lr"));
    let missing = tmp.path().join("nothing");
    let out = genviz(&[
        "linear-vs-net",
        "--data-dir",
        missing.to_str().unwrap(),
        "--out",
        tmp.path().join("o").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        !tmp.path().join("o").exists(),
        "no folder for a failed start"
    );
}

//! The `genviz` command as a user runs it.

mod common;

use common::{
    assert_files, fails, genviz, genviz_threads, json, ok, s, tiny_fashion_mnist, train_run,
};
use std::path::Path;
use std::process::Command;

#[path = "../../genviz-render/tests/support/chromium.rs"]
mod chromium;

#[test]
fn train_writes_a_complete_run_folder_that_eval_reproduces() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = out.to_str().unwrap();
    ok(genviz(&[
        "train",
        "--steps",
        "400",
        "--log-every",
        "100",
        "--checkpoint-every",
        "200",
        "--out",
        o,
    ]));
    assert_files(
        &out,
        &[
            "run.json",
            "model.safetensors",
            "metrics.csv",
            "data.npz",
            "trajectory.npz",
            "training_curves.png",
            "decision_boundary.png",
            "checkpoints/step_00000000.safetensors",
            "checkpoints/step_00000200.safetensors",
            "checkpoints/step_00000400.safetensors",
        ],
    );
    let run = json(&out.join("run.json"));
    assert_eq!(run["command"], "train");
    assert_eq!(run["seed"], 1237);
    assert_eq!(run["results"]["num_params"], 3614);
    assert_eq!(run["config"]["train"]["steps"], 400);
    assert_eq!(run["data"]["train"], 200);
    assert!(run["invocation"]
        .as_str()
        .unwrap()
        .starts_with("genviz train"));
    let final_train = run["results"]["final"]["train_acc"].as_f64().unwrap();
    assert!(final_train > 0.6, "{run}");

    // The weights use PyTorch names and layouts.
    let weights = genviz_core::io::read_safetensors(&out.join("model.safetensors")).unwrap();
    assert_eq!(weights.get("layers.0.weight").unwrap().shape, vec![23, 2]);
    assert_eq!(weights.get("layers.6.weight").unwrap().shape, vec![1, 31]);
    assert_eq!(weights.get("layers.6.bias").unwrap().shape, vec![1]);

    // eval of the run folder reproduces the recorded numbers.
    let eval: serde_json::Value = serde_json::from_str(&ok(genviz(&["eval", o]))).unwrap();
    assert_eq!(eval["train"]["accuracy"].as_f64().unwrap(), final_train);
    assert_eq!(eval["test"]["loss"], run["results"]["final"]["test_loss"]);
    assert_eq!(eval["train"]["examples"], 200);

    // A run.json is itself an experiment file: rerunning it gives the same weights.
    let again = dir.path().join("again");
    ok(genviz(&[
        "train",
        "--config",
        out.join("run.json").to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ]));
    assert_eq!(
        std::fs::read(out.join("model.safetensors")).unwrap(),
        std::fs::read(again.join("model.safetensors")).unwrap()
    );
}

#[test]
fn same_seed_same_weights_on_one_and_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    let runs: Vec<Vec<u8>> = [1, 2]
        .iter()
        .map(|&t| {
            let out = dir.path().join(format!("t{t}"));
            ok(genviz_threads(
                &[
                    "train",
                    "--poison",
                    "gen-viz",
                    "--steps",
                    "300",
                    "--seed",
                    "5",
                    "--out",
                    out.to_str().unwrap(),
                ],
                t,
            ));
            std::fs::read(out.join("model.safetensors")).unwrap()
        })
        .collect();
    assert_eq!(runs[0], runs[1]);
}

#[test]
fn toml_experiment_on_user_csv_data() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("points.csv");
    let mut text = String::from("x,y,label\n");
    for i in 0..120 {
        let (c, s) = ((i as f32) * 0.7).sin_cos();
        let class = i % 3;
        text.push_str(&format!("{},{},{}\n", c + 3.0 * class as f32, s, class));
    }
    std::fs::write(&csv, text).unwrap();
    let config = dir.path().join("exp.toml");
    std::fs::write(
        &config,
        format!(
            r#"
seed = 3
[data]
kind = "csv"
train = "{}"
label = "label"
[model]
hidden = [16, 16]
head = "softmax"
init = "pytorch"
[train]
steps = 300
batch_size = 32
[train.optimizer]
kind = "sgd"
momentum = 0.9
[train.schedule]
lr = 0.05
"#,
            csv.display()
        ),
    )
    .unwrap();
    let out = dir.path().join("run");
    let stdout = ok(genviz(&[
        "train",
        "--config",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert!(stdout.contains("acc"), "{stdout}");
    let run = json(&out.join("run.json"));
    assert_eq!(run["results"]["model"]["num_classes"], 3);
    assert!(
        run["results"]["final"]["train_acc"].as_f64().unwrap() > 0.9,
        "{run}"
    );
}

#[test]
fn bad_inputs_give_clear_errors_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("ragged.csv");
    std::fs::write(&csv, "1,2,0\n3,4\n").unwrap();
    let out = dir.path().join("run");
    let err = fails(genviz(&[
        "train",
        "--data",
        &format!("csv:{}", csv.display()),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert!(
        err.contains("ragged.csv") && err.contains("line 2"),
        "{err}"
    );
    assert!(!out.exists(), "a failed run leaves no folder");

    let err = fails(genviz(&["train", "--data", "nonsense"]));
    assert!(err.contains("unknown data set `nonsense`"), "{err}");

    let toml = dir.path().join("bad.toml");
    std::fs::write(&toml, "seed = 1\n[data]\nkind = \"swiss_roll\"\n[model]\nhidden = [4]\n[train]\nsteps = \"many\"\n").unwrap();
    let err = fails(genviz(&["train", "--config", toml.to_str().unwrap()]));
    assert!(err.contains("bad.toml") && err.contains("steps"), "{err}");

    // A PyTorch-style file whose layers do not chain.
    let broken = dir.path().join("broken.safetensors");
    write_sequential(&broken, 7, |n| vec![0.1; n]);
    let err = fails(genviz(&[
        "eval",
        broken.to_str().unwrap(),
        "--data",
        "swiss-roll",
    ]));
    assert!(
        err.contains("broken.safetensors") && err.contains("`2.weight`") && err.contains("[1, 8]"),
        "{err}"
    );
}

/// Writes the state dict of a PyTorch `nn.Sequential(Linear(2, 8), ReLU(), Linear(k, 1))` to
/// `path`: its last weight is `[1, k]` (`k` = 8 chains, any other width does not), its values
/// `values(number of parameters)`.
fn write_sequential(path: &Path, k: usize, values: impl FnOnce(usize) -> Vec<f32>) {
    use genviz_core::{Layout, Params, Role};
    let layout = Layout::new([
        ("0.weight".to_string(), vec![8, 2], Role::Weight),
        ("0.bias".to_string(), vec![8], Role::Bias),
        ("2.weight".to_string(), vec![1, k], Role::Weight),
        ("2.bias".to_string(), vec![1], Role::Bias),
    ])
    .unwrap();
    let values = values(layout.len());
    let params = Params::from_vec(std::sync::Arc::new(layout), values).unwrap();
    genviz_core::io::write_safetensors(path, &params, Default::default()).unwrap();
}

#[test]
fn pytorch_sequential_model_evaluates() {
    let dir = tempfile::tempdir().unwrap();
    // An nn.Sequential(Linear(2, 8), ReLU(), Linear(8, 1)) that always says class 1.
    let file = dir.path().join("seq.safetensors");
    write_sequential(&file, 8, |n| {
        let mut values = vec![0.0; n];
        values[n - 1] = 5.0;
        values
    });
    let eval: serde_json::Value = serde_json::from_str(&ok(genviz(&[
        "eval",
        file.to_str().unwrap(),
        "--data",
        "minefield",
    ])))
    .unwrap();
    let acc = eval["test"]["accuracy"].as_f64().unwrap();
    assert!(
        acc > 0.3 && acc < 0.7,
        "a constant classifier gets about half: {eval}"
    );
    assert_eq!(eval["num_params"], 33);
}

/// The flags that shrink `genviz paper` to seconds.
const TINY_PAPER: [&str; 16] = [
    "--clean-steps",
    "300",
    "--poisoned-steps",
    "300",
    "--rays",
    "12",
    "--landscape-points",
    "9",
    "--minefield-starts",
    "4",
    "--minefield-bad-steps",
    "200",
    "--minefield-good-epochs",
    "20",
    "--sharp-steps",
    "60",
];

#[test]
fn paper_runs_every_figure_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("paper");
    let mut args = vec!["paper", "--out", out.to_str().unwrap()];
    args.extend(TINY_PAPER);
    let stdout = ok(genviz(&args));
    assert!(
        stdout.contains("clean") && stdout.contains("poisoned"),
        "{stdout}"
    );
    let summary = json(&out.join("summary.json"));
    let figures: Vec<String> = summary["figures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    for f in [
        "minefield/fig1_minefield.png",
        "fig3_decision_boundaries.png",
        "fig3_landscapes_3d.png",
        "fig3_landscapes_contour.png",
        "fig5_radii.png",
        "fig5_volumes.png",
        "fig6_boundaries.png",
        "fig6_gap.png",
        "sharp/fig8_sharp.png",
        "animations/wiggle_random_clean.gif",
        "animations/wiggle_eigvec_poisoned.gif",
        "animations/path_poisoned.gif",
    ] {
        assert!(figures.iter().any(|g| g == f), "{f} not in {figures:?}");
    }
    for f in &figures {
        let bytes = std::fs::read(out.join(f)).unwrap();
        assert!(
            bytes.starts_with(b"\x89PNG") || bytes.starts_with(b"GIF8"),
            "{f}"
        );
    }
    assert!(out.join("swissroll-clean/run.json").exists());
    assert_eq!(summary["runs"].as_array().unwrap().len(), 2);
    assert_eq!(summary["scale"]["preset"], "quick");
    assert_eq!(summary["scale"]["minefield"]["starts"], 4);
    let results = json(&out.join("results.json"));
    let checks = results["checks"].as_array().unwrap();
    let figures_checked: std::collections::BTreeSet<&str> = checks
        .iter()
        .map(|c| c["figure"].as_str().unwrap())
        .collect();
    for f in ["1", "3a", "3b", "5", "6", "8", "anim", "measures"] {
        assert!(figures_checked.contains(f), "no check of Fig {f}");
    }
    assert_eq!(
        results["failed"].as_u64().unwrap() as usize,
        checks.iter().filter(|c| c["pass"] == false).count()
    );
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(md.contains("poisoned test accuracy"), "{md}");
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    for heading in [
        "Fig 1:",
        "Fig 3:",
        "Fig 5:",
        "Fig 6:",
        "Fig 8:",
        "Animations:",
        "Generalization measures of the clean and poisoned nets",
        "data:image/gif;base64,",
        "Plotly.newPlot",
        "class=\"explorer-data\"",
        "top Hessian eigenvector and a random direction",
    ] {
        assert!(report.contains(heading), "report lacks {heading}");
    }
    // The page in a browser: no errors, both landscapes drawn; a screenshot to look at.
    if let Some(chromium) = chromium::chromium_or_skip() {
        let seen = Path::new(env!("CARGO_TARGET_TMPDIR")).join("paper-report");
        std::fs::create_dir_all(&seen).unwrap();
        chromium::check_page(&chromium, &out.join("report.html"), &seen, 2);
        chromium::screenshot(
            &chromium,
            &out.join("report.html"),
            &seen.join("screenshot.png"),
            1100,
            9000,
        );
    }
    let config = json(&out.join("paper.json"));
    assert_eq!(config["swiss_roll_clean"]["train"]["steps"], 300);
    assert_eq!(summary["sharp"]["sharp"]["steps"], 60);
    let poisoned = json(&out.join("swissroll-poisoned/run.json"));
    assert_eq!(
        poisoned["config"]["train"]["poison"]["weight"]["count"],
        1000
    );
    // Every run.json in the folder is the one record type: the paper's own, every training,
    // every landscape, Fig 1 and Fig 8.
    let mut records: Vec<&str> = genviz_experiments::pages::run_folders(&out)
        .unwrap()
        .iter()
        .map(|r| {
            let path = out.join(r).join("run.json");
            let record = genviz_experiments::RunRecord::read_file(&path);
            record.unwrap_or_else(|e| panic!("{e:#}")).job.command()
        })
        .collect();
    records.sort_unstable();
    assert_eq!(
        records,
        [
            "measures",
            "minefield",
            "paper",
            "sharp",
            // Fig 3's two landscapes and the report explorer's two eigenvector planes.
            "surface",
            "surface",
            "surface",
            "surface",
            "train",
            "train",
            "train",
            "train"
        ]
    );
    let record = genviz_experiments::RunRecord::read(&out).unwrap();
    assert_eq!(record.results["checks"], results["checks"]);
}

#[test]
fn paper_only_makes_the_figures_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    // `genviz paper --only figure` at the tiny scale, into `out`; returns its report page.
    let only = |figure: &str, out: &Path| {
        ok(genviz(
            &[
                &["paper", "--only", figure, "--out", s(out)][..],
                &TINY_PAPER,
            ]
            .concat(),
        ));
        std::fs::read_to_string(out.join("report.html")).unwrap()
    };
    let out = dir.path().join("paper");
    let report = only("fig1", &out);
    assert!(out.join("minefield/fig1_minefield.png").exists());
    assert!(!out.join("swissroll-clean").exists());
    assert!(!out.join("fig3_decision_boundaries.png").exists());
    let results = json(&out.join("results.json"));
    assert!(results["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["figure"] == "1"));
    assert!(report.contains("Fig 1:") && !report.contains("Fig 3:"));
    // Figures that share the swiss-roll nets: only the one asked for is drawn and reported.
    let fig5 = dir.path().join("fig5");
    let report = only("fig5", &fig5);
    assert!(fig5.join("fig5_radii.png").exists());
    assert!(!fig5.join("fig3_decision_boundaries.png").exists());
    assert!(report.contains("Fig 5:") && !report.contains("Fig 3:"));
    // An unknown figure is refused by name.
    let err = fails(genviz(&["paper", "--only", "fig2", "--out", s(&out)]));
    assert!(err.contains("fig2"), "{err}");
}

#[test]
fn paper_images_trains_both_cnns_and_draws_their_landscapes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fashion-mnist");
    tiny_fashion_mnist(&data, 260, 40);
    let out = dir.path().join("paper");
    let args = [
        "paper",
        "--only",
        "images",
        "--image-data-dir",
        data.to_str().unwrap(),
        "--image-clean-steps",
        "6",
        "--image-poisoned-steps",
        "6",
        "--image-poisoned-train",
        "100",
        "--image-points",
        "3",
        "--image-eval",
        "30",
        "--image-small-train",
        "200",
        "--image-fig2-steps",
        "4",
        "--image-table-steps",
        "3",
        "--image-table-only",
        "sgd,adam",
        "--out",
        out.to_str().unwrap(),
    ];
    ok(genviz(&args));
    assert_files(
        &out,
        &[
            "images_landscapes_3d.png",
            "images_landscapes_contour.png",
            "fmnist-clean/model.safetensors",
            "fmnist-poisoned/model.safetensors",
            "fmnist-clean/landscape/surface.npz",
            "fmnist-poisoned/landscape/surface.npz",
            "results.json",
            "report.html",
            "paper.json",
            "fig2/fig2_linear_vs_net.png",
            "fig2/linear_vs_net.json",
            "optimizers/optimizers.png",
            "optimizers/optimizers.json",
        ],
    );
    let table = json(&out.join("optimizers/optimizers.json"));
    assert_eq!(table["rows"].as_array().unwrap().len(), 2, "{table}");
    assert_eq!(table["steps"], 3);
    assert_eq!(json(&out.join("fig2/linear_vs_net.json"))["n_train"], 200);
    let results = json(&out.join("results.json"));
    let checks: Vec<_> = results["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["figure"] == "img")
        .collect();
    assert_eq!(checks.len(), 3, "{results}");
    assert!(results["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["figure"] == "2"));
    let summary = json(&out.join("summary.json"));
    let runs = summary["images"]["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    for r in runs {
        for k in ["train_acc", "test_acc"] {
            let v = r["final"][k].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&v), "{k} = {v}");
        }
        // Every landscape point was evaluated: the lowest loss is a real, positive number.
        let low = r["landscape_min_train_loss"].as_f64().unwrap();
        assert!(low.is_finite() && low > 0.0, "{r}");
    }
    // The poisoned run trained on the 100 images asked for; the rest were its poison pool.
    let record = json(&out.join("fmnist-poisoned/run.json"));
    assert_eq!(record["config"]["data"]["n_train"], 100);
    // `genviz eval` reads a conv run folder back, with its own data, to the same numbers.
    let eval: serde_json::Value = serde_json::from_str(&ok(genviz(&[
        "eval",
        out.join("fmnist-poisoned").to_str().unwrap(),
    ])))
    .unwrap();
    assert_eq!(eval["train"]["examples"], 100);
    assert_eq!(
        eval["train"]["accuracy"],
        record["results"]["final"]["train_acc"]
    );
    assert_eq!(
        eval["test"]["accuracy"],
        record["results"]["final"]["test_acc"]
    );
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("Real images: a small CNN on Fashion-MNIST"));
    assert!(report.contains("Fig 2 and the optimizer table"));
    assert!(report.contains("images_landscapes_3d.png") || report.contains("data:image/png"));
    // A rerun reuses both networks and both landscapes and reports the same numbers.
    let before = std::fs::read_to_string(out.join("results.json")).unwrap();
    ok(genviz(&args));
    assert_eq!(
        std::fs::read_to_string(out.join("results.json")).unwrap(),
        before
    );
}

#[test]
fn paper_skips_draws_both_resnets_and_measures_their_convexity() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fashion-mnist");
    tiny_fashion_mnist(&data, 120, 40);
    let out = dir.path().join("paper");
    let args = [
        "paper",
        "--only",
        "skips",
        "--skips-data-dir",
        s(&data),
        "--skips-depths",
        "8",
        "--skips-widths",
        "2,2,4",
        "--skips-train",
        "64",
        "--skips-epochs",
        "1",
        "--skips-points",
        "4",
        "--skips-ratio-points",
        "2",
        "--skips-eval",
        "16",
        "--skips-hessian-train",
        "16",
        "--out",
        s(&out),
    ];
    let stdout = ok(genviz(&args));
    assert!(stdout.contains("[skips]"), "{stdout}");
    assert_files(
        &out,
        &[
            "skips/skips_resnet8_3d.png",
            "skips/skips_resnet8_contour.png",
            "skips/skips_resnet8_ratio.png",
            "skips/skips_resnet8.npz",
            "skips/results.json",
            "report.html",
        ],
    );
    let results = json(&out.join("results.json"));
    assert_eq!(results["skips"]["pairs"][0]["depth"], 8);
    assert_eq!(results["skips"]["scale"]["preset"], "cpu");
    let record = json(&out.join("run.json"));
    assert_eq!(
        record["config"]["scale"]["skips"]["widths"],
        serde_json::json!([2, 2, 4])
    );
    // `--device cuda` selects Li et al.'s scale; this build has no CUDA and says so.
    let err = fails(genviz(&[
        "paper",
        "--only",
        "skips",
        "--device",
        "cuda",
        "--out",
        s(&dir.path().join("cuda")),
    ]));
    assert!(err.contains("cuda"), "{err}");
}

#[test]
fn conv_training_augments_batches_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fashion-mnist");
    tiny_fashion_mnist(&data, 64, 20);
    let run = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        common::train_tiny_cnn(&data, &out, extra);
        json(&out.join("run.json"))
    };
    let plain = run("plain", &[]);
    let augmented = run("augmented", &["--augment", "4"]);
    assert!(plain["config"]["data"].get("augment").is_none());
    assert_eq!(augmented["config"]["data"]["augment"]["pad"], 4);
    assert_eq!(augmented["config"]["data"]["augment"]["flip"], true);
    // Same seed, same batches: only the crops and flips differ, and they change the path.
    assert_ne!(
        plain["results"]["final"]["train_loss"],
        augmented["results"]["final"]["train_loss"]
    );
    assert_eq!(augmented, {
        let again = run("augmented-again", &["--augment", "4"]);
        let mut a = again.clone();
        a["timings"] = augmented["timings"].clone();
        a["results"]["images_per_s"] = augmented["results"]["images_per_s"].clone();
        a["invocation"] = augmented["invocation"].clone();
        a
    });
    let err = fails(genviz(&["train", "--augment", "4", "--steps", "1"]));
    assert!(err.contains("--augment"), "{err}");
}

#[test]
fn outputs_are_readable_without_genviz() {
    // The file formats, checked with nothing but Python's standard library, as a numpy or
    // PyTorch user's own reader would see them.
    if Command::new("python3").arg("--version").output().is_err() {
        // CI has python3 (the Rust machine image ships CPython); there, skipping would hide
        // a broken format.
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 not found, and CI is set: the format check must run"
        );
        eprintln!("python3 not found; skipping the format check");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    ok(genviz(&[
        "train",
        "--steps",
        "50",
        "--out",
        out.to_str().unwrap(),
    ]));
    let script = r#"
import json, struct, sys, zipfile
run = sys.argv[1]
with zipfile.ZipFile(run + "/data.npz") as z:
    names = sorted(z.namelist())
    assert names == ["x_test.npy", "x_train.npy", "y_test.npy", "y_train.npy"], names
    raw = z.read("x_train.npy")
    assert raw[:6] == b"\x93NUMPY", raw[:6]
    hlen = struct.unpack("<H", raw[8:10])[0]
    header = raw[10:10 + hlen].decode()
    assert "'descr': '<f4'" in header and "(200, 2)" in header, header
    yh = z.read("y_train.npy")
    assert "'descr': '<i8'" in yh[10:10 + struct.unpack("<H", yh[8:10])[0]].decode()
with open(run + "/model.safetensors", "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    meta = json.loads(f.read(n))
    w = meta["layers.0.weight"]
    assert w["dtype"] == "F32" and w["shape"] == [23, 2], w
    assert json.loads(meta["__metadata__"]["genviz.mlp"])["hidden"] == [23, 16, 26, 32, 28, 31]
print("ok")
"#;
    let o = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn help_teaches_by_example() {
    let help = ok(genviz(&["train", "--help"]));
    assert!(
        help.contains("genviz train --poison gen-viz") && help.contains("--config"),
        "{help}"
    );
    let bench: serde_json::Value =
        serde_json::from_str(&ok(genviz(&["bench", "--repeats", "1", "--steps", "200"]))).unwrap();
    for (figure, workload) in [
        ("train_s_per_1k_steps", "train_workload"),
        ("train_many_50_s_per_1k_net_steps", "train_many_workload"),
        ("conv_point_20k_s", "conv_point_workload"),
        ("conv_train_images_per_s", "conv_train_workload"),
        ("conv_point_20k_burn_s", "conv_burn_workload"),
        ("conv_train_burn_images_per_s", "conv_burn_workload"),
    ] {
        let value = bench[figure].as_f64().unwrap_or(f64::NAN);
        assert!(value.is_finite() && value > 0.0, "{figure}: {value}");
        assert!(
            bench[workload].as_str().is_some_and(|w| !w.is_empty()),
            "{workload}"
        );
    }
    // Both exported networks run on genviz's own engines through ONNX.
    assert_eq!(bench["onnx"]["mlp_onnx_engine"], "mlp");
    assert_eq!(bench["onnx"]["cnn_onnx_engine"], "cnn");
    // Peers' figures only under their own key, never divided by.
    assert!(bench.get("speedup_vs_jax").is_none());
    assert!(bench["peers_measured_elsewhere"]["where"].is_string());
}

#[test]
fn killed_training_resumes_to_the_same_bits() {
    let dir = tempfile::tempdir().unwrap();
    let args = |out: &Path| {
        vec![
            "train".to_string(),
            "--poison".into(),
            "gen-viz".into(),
            "--steps".into(),
            "6000".into(),
            "--checkpoint-every".into(),
            "500".into(),
            "--log-every".into(),
            "250".into(),
            "--out".into(),
            out.display().to_string(),
        ]
    };
    let whole = dir.path().join("whole");
    let start = std::time::Instant::now();
    ok(genviz(
        &args(&whole).iter().map(String::as_str).collect::<Vec<_>>(),
    ));
    let t = start.elapsed();
    let reference = std::fs::read(whole.join("model.safetensors")).unwrap();
    // Kills a quarter, half and three quarters of the way through (counted in checkpoints
    // written, not in seconds, so a busy machine cannot move the kill past the end), each a
    // different fraction of the way between two checkpoints; each must land while the run is
    // still going, or the test would prove nothing.
    let checkpoints_written = |out: &Path| {
        std::fs::read_dir(out.join("checkpoints")).map_or(0, |entries| {
            entries
                .filter(|e| {
                    let name = e.as_ref().unwrap().file_name();
                    let name = name.to_string_lossy();
                    name.starts_with("step_") && name.ends_with(".safetensors")
                })
                .count()
        })
    };
    let between_checkpoints = t / 12;
    for (k, fraction) in [0.25, 0.5, 0.75].into_iter().enumerate() {
        let out = dir.path().join(format!("killed{k}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_genviz"))
            .args(args(&out))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let target = (12.0 * fraction) as usize;
        while checkpoints_written(&out) < target && child.try_wait().unwrap().is_none() {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        std::thread::sleep(between_checkpoints.mul_f64(k as f64 / 3.0));
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run finished before the kill at {fraction} of its checkpoints ({t:?} whole)"
        );
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert!(
            std::fs::read(out.join("model.safetensors")).is_err(),
            "a killed run has no final model yet"
        );
        ok(genviz(
            &args(&out).iter().map(String::as_str).collect::<Vec<_>>(),
        ));
        assert_eq!(
            std::fs::read(out.join("model.safetensors")).unwrap(),
            reference,
            "killed at {fraction} of {t:?}"
        );
        assert_eq!(
            std::fs::read_to_string(out.join("metrics.csv")).unwrap(),
            std::fs::read_to_string(whole.join("metrics.csv")).unwrap()
        );
        // No temporary file is left under a final name's folder.
        let stray = std::fs::read_dir(out.join("checkpoints"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains(".tmp")
            });
        assert!(
            stray.count() <= 1,
            "at most the file being written when killed"
        );
    }
    // A different configuration does not resume someone else's state.
    let err = fails(genviz(&["train", "--steps", "100", "--out", s(&whole)]));
    assert!(
        err.contains("state.safetensors") && err.contains("another configuration"),
        "{err}"
    );
}

#[test]
fn minefield_embeds_iterates_and_bad_minima() {
    let dir = tempfile::tempdir().unwrap();
    /// The command this test runs, writing into `out`.
    fn minefield(out: &Path) -> [&str; 9] {
        [
            "minefield",
            "--starts",
            "6",
            "--bad-steps",
            "200",
            "--good-epochs",
            "30",
            "--out",
            s(out),
        ]
    }
    let out = dir.path().join("mf");
    let stdout = ok(genviz(&minefield(&out)));
    assert!(stdout.contains("bad minima"), "{stdout}");
    assert_files(&out, &["fig1_minefield.png", "minefield.npz", "run.json"]);
    let record = json(&out.join("run.json"));
    assert_eq!(record["command"], "minefield");
    assert_eq!(record["config"]["starts"], 6);
    let run = &record["results"];
    let unit = |v: &serde_json::Value| {
        let x = v.as_f64().unwrap();
        assert!((0.0..=1.0).contains(&x), "{v} in {record}");
    };
    let bad = run["bad_minima"]["each"].as_array().unwrap();
    assert_eq!(bad.len(), 6);
    for b in bad {
        unit(&b["train_acc"]);
        unit(&b["test_acc"]);
    }
    for r in ["train_acc_range", "test_acc_range"] {
        for v in run["bad_minima"][r].as_array().unwrap() {
            unit(v);
        }
    }
    // The authors' `fully_connected` draws Keras's truncated Glorot-normal kernels.
    assert_eq!(run["good_model"]["init"], "glorot_normal");
    unit(&run["good_model"]["final"]["train_acc"]);
    unit(&run["good_model"]["final"]["test_acc"]);
    assert_eq!(
        run["bad_minima"]["start_epochs"],
        serde_json::json!([5, 10, 15, 20, 25, 30])
    );
    // 6 iterates (the last is the final one) and 6 bad minima; perplexity lowered to fit.
    assert_eq!(run["embedding"]["rows"], 12);
    assert!(run["embedding"]["perplexity"].as_f64().unwrap() <= 11.0 / 3.0);

    let mut npz = genviz_core::io::Npz::open(&out.join("minefield.npz")).unwrap();
    let (tsne, shape) = npz.f64("tsne").unwrap();
    assert_eq!(shape, vec![12, 2]);
    assert!(tsne.iter().all(|v| v.is_finite()));
    let (is_bad, _) = npz.i64("is_bad").unwrap();
    assert_eq!(is_bad.iter().sum::<i64>(), 6);

    // Same seed, same embedding, on one thread as on two.
    let again = dir.path().join("mf1");
    ok(genviz_threads(&minefield(&again), 1));
    let mut npz1 = genviz_core::io::Npz::open(&again.join("minefield.npz")).unwrap();
    assert_eq!(npz1.f64("tsne").unwrap().0, tsne);
}

#[test]
fn rerun_makes_a_folder_again_from_its_record_alone() {
    let dir = tempfile::tempdir().unwrap();
    let run = train_run(dir.path(), "300");
    let surface = dir.path().join("surface");
    ok(genviz(&[
        "surface",
        s(&run),
        "--x",
        "-1:1:9",
        "--y",
        "-1:1:7",
        "--out",
        s(&surface),
    ]));
    let grid = std::fs::read(surface.join("surface.npz")).unwrap();
    let record = std::fs::read_to_string(surface.join("run.json")).unwrap();
    for f in [
        "surface.npz",
        "surface_contour.png",
        "directions.safetensors",
    ] {
        std::fs::remove_file(surface.join(f)).unwrap();
    }
    // From another working folder: the record names its model by an absolute path.
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_genviz"))
        .args(["rerun", s(&surface)])
        .current_dir(&elsewhere)
        .output()
        .unwrap();
    let stdout = ok(out);
    assert!(stdout.contains("surface run again"), "{stdout}");
    assert_eq!(std::fs::read(surface.join("surface.npz")).unwrap(), grid);
    assert!(surface.join("surface_contour.png").exists());
    let again: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(surface.join("run.json")).unwrap()).unwrap();
    let before: serde_json::Value = serde_json::from_str(&record).unwrap();
    assert_eq!(again["config"], before["config"]);
    assert_eq!(again["results"], before["results"]);
    assert!(again["invocation"]
        .as_str()
        .unwrap()
        .starts_with("genviz rerun"));

    let err = fails(genviz(&["rerun", s(&dir.path().join("nothing"))]));
    assert!(err.contains("run.json"), "{err}");
}

#[test]
fn only_grid_jobs_run_on_several_mpi_ranks() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let as_rank = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_genviz"))
            .args(args)
            .env("OMPI_COMM_WORLD_SIZE", "2")
            .output()
            .unwrap()
    };
    let err = fails(as_rank(&["train", "--steps", "5", "--out", s(&run)]));
    assert!(
        err.contains("`genviz train` runs in one process") && err.contains("2 MPI ranks"),
        "{err}"
    );
    assert!(!run.exists(), "a refused command writes nothing");
    ok(genviz(&["train", "--steps", "5", "--out", s(&run)]));
    // A grid job under mpirun needs a genviz built with MPI (CI checks that build).
    if !cfg!(feature = "mpi") {
        for job in [
            vec!["surface", s(&run), "--x", "-1:1:3"],
            vec!["basin", s(&run), "--rays", "2"],
        ] {
            let err = fails(as_rank(&job));
            assert!(err.contains("built without MPI"), "{err}");
        }
    }
}

//! `genviz measures` and `genviz sweep` as a user runs them.

mod common;

use common::{fails, genviz, json, ok, s};
use std::path::{Path, PathBuf};

/// A briefly trained swiss-roll run.
fn trained(dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut args = vec!["train", "--steps", "200", "--out", s(&out)];
    args.extend_from_slice(extra);
    ok(genviz(&args));
    out
}

#[test]
fn measures_of_two_runs_print_the_table_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let clean = trained(dir.path(), "clean", &[]);
    let poisoned = trained(
        dir.path(),
        "poisoned",
        &[
            "--poison",
            "flipped",
            "--beta",
            "0.5",
            "--poison-count",
            "50",
            "--poison-fresh",
        ],
    );
    let out = dir.path().join("m");
    let args = [
        "measures",
        s(&clean),
        s(&poisoned),
        "--measures",
        "path_norm,dist_from_init,avg_sharpness_gaussian_rho_0.05",
        "--examples",
        "64",
        "--out",
        s(&out),
    ];
    let stdout = ok(genviz(&args));
    assert!(
        stdout.starts_with("| measure | larger predicts | clean | poisoned | predicted worst |"),
        "{stdout}"
    );
    for name in [
        "generalization_gap",
        "path_norm",
        "dist_from_init",
        "avg_sharpness_gaussian_rho_0.05",
    ] {
        assert!(stdout.contains(&format!("| {name} |")), "{name}: {stdout}");
    }
    let results = json(&out.join("measures.json"));
    assert_eq!(results["models"].as_array().unwrap().len(), 2);
    let record = json(&out.join("run.json"));
    assert_eq!(record["command"], "measures");
    assert_eq!(record["config"]["measures"][1]["examples"], 64);
    assert!(record["invocation"]
        .as_str()
        .unwrap()
        .starts_with("genviz measures"));
    // The same command again reads everything from the state files: the same table.
    assert_eq!(ok(genviz(&args)).lines().next(), stdout.lines().next());
    assert_eq!(json(&out.join("measures.json")), results);
}

#[test]
fn measures_refuse_unknown_names_and_missing_models() {
    let dir = tempfile::tempdir().unwrap();
    let clean = trained(dir.path(), "clean", &[]);
    let e = fails(genviz(&["measures", s(&clean), "--measures", "sharpest"]));
    assert!(e.contains("`sharpest`") && e.contains("path_norm"), "{e}");
    let e = fails(genviz(&["measures", s(&dir.path().join("nowhere"))]));
    assert!(e.contains("nowhere"), "{e}");
}

#[test]
fn a_sweep_file_trains_measures_and_ranks() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sweep.toml");
    std::fs::write(
        &file,
        "preset = \"swiss-roll\"\nsteps = 100\nmin_train_accuracy = 0.0\n\n[[axes]]\nname = \"seed\"\nvalues = [1, 2]\n\n[[measures]]\nkind = \"path_norm\"\n\n[[measures]]\nkind = \"spectral_product\"\n",
    )
    .unwrap();
    let out = dir.path().join("s");
    let stdout = ok(genviz(&["sweep", s(&file), "--out", s(&out)]));
    assert!(
        stdout.contains("| measure | larger predicts | tau | psi seed | Psi | agrees |"),
        "{stdout}"
    );
    assert!(
        stdout.contains("| path_norm |") && stdout.contains("| log_prod_of_spec |"),
        "{stdout}"
    );
    for f in [
        "seed-1/run.json",
        "seed-2/measures.json",
        "sweep.json",
        "report.html",
        "scatter/path_norm.png",
    ] {
        assert!(out.join(f).exists(), "{f} is missing");
    }
    let sweep = json(&out.join("sweep.json"));
    assert_eq!(sweep["models"].as_array().unwrap().len(), 2);
    assert_eq!(json(&out.join("run.json"))["command"], "sweep");

    // Unknown axes are refused before anything trains, naming the file.
    std::fs::write(
        &file,
        "preset = \"swiss-roll\"\n[[axes]]\nname = \"momentum\"\nvalues = [0.9]\n",
    )
    .unwrap();
    let e = fails(genviz(&[
        "sweep",
        s(&file),
        "--out",
        s(&dir.path().join("t")),
    ]));
    assert!(e.contains("sweep.toml") && e.contains("`momentum`"), "{e}");
    assert!(!dir.path().join("t").exists());
}

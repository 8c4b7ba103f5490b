//! The landscape commands as a user runs them.

mod common;

use common::{assert_files, fails, genviz, ok, s, train_run};
use std::path::{Path, PathBuf};
use std::process::Output;

/// A briefly trained swiss-roll run with a trajectory.
fn trained(dir: &Path, name: &str, seed: &str) -> PathBuf {
    let out = dir.join(name);
    ok(genviz(&[
        "train",
        "--steps",
        "300",
        "--seed",
        seed,
        "--checkpoint-every",
        "50",
        "--out",
        s(&out),
    ]));
    out
}

fn surface(path: &Path) -> genviz_landscape::Surface {
    genviz_landscape::Surface::load(path).unwrap()
}

/// Runs `genviz surface run`, its grid flags `grid` (`--x` and `--y`), then `rest`.
fn run_surface(run: &Path, grid: &[&str], rest: &[&str]) -> Output {
    genviz(&[&["surface", s(run)][..], grid, rest].concat())
}

#[test]
fn surface_centre_matches_eval_and_writes_everything() {
    let dir = tempfile::tempdir().unwrap();
    let run = trained(dir.path(), "run", "1");
    let out = dir.path().join("surf");
    let grid = ["--x", "-0.5:0.5:11", "--y", "-0.5:0.5:9"];
    ok(run_surface(&run, &grid, &["--out", s(&out)]));
    assert_files(
        &out,
        &[
            "surface.npz",
            "directions.safetensors",
            "surface_contour.png",
            "surface_heatmap.png",
            "surface_3d.png",
            "surface.vtp",
            "run.json",
        ],
    );
    let surf = surface(&out.join("surface.npz"));
    let eval: serde_json::Value = serde_json::from_str(&ok(genviz(&["eval", s(&run)]))).unwrap();
    let centre = 4 * 11 + 5;
    assert_eq!(surf.coords(centre), (0.0, 0.0));
    assert_eq!(
        surf.train_loss[centre],
        eval["train"]["loss"].as_f64().unwrap()
    );
    assert_eq!(
        surf.test_acc[centre],
        eval["test"]["accuracy"].as_f64().unwrap()
    );
    let dirs = genviz_core::io::read_safetensors(&out.join("directions.safetensors")).unwrap();
    assert_eq!(dirs.get("x.layers.0.weight").unwrap().shape, vec![23, 2]);
    assert!(
        dirs.get("y.layers.6.bias")
            .unwrap()
            .values
            .iter()
            .all(|&v| v == 0.0),
        "biases are ignored by default"
    );

    // The same directions, read back from the file, give the same surface.
    let again = dir.path().join("again");
    let directions = out.join("directions.safetensors");
    ok(run_surface(
        &run,
        &grid,
        &["--directions", s(&directions), "--out", s(&again)],
    ));
    assert_eq!(
        surface(&again.join("surface.npz")).train_loss,
        surf.train_loss
    );
}

#[test]
fn shards_merge_bit_identically_and_reruns_resume() {
    let dir = tempfile::tempdir().unwrap();
    let run = trained(dir.path(), "run", "2");
    let grid = ["--x", "-1:1:13", "--y", "-1:1:7"];
    let single = dir.path().join("single");
    ok(run_surface(&run, &grid, &["--out", s(&single)]));
    let sharded = dir.path().join("sharded");
    for k in ["1/3", "2/3", "3/3"] {
        ok(run_surface(
            &run,
            &grid,
            &["--shard", k, "--out", s(&sharded)],
        ));
    }
    let merged = dir.path().join("merged.npz");
    let shards: Vec<String> = (1..=3)
        .map(|k| s(&sharded.join(format!("surface.shard-{k}-of-3.npz"))).to_string())
        .collect();
    let mut args = vec!["merge"];
    args.extend(shards.iter().map(|x| x.as_str()));
    args.extend(["--out", s(&merged)]);
    assert!(ok(genviz(&args)).contains("91 of 91"));
    let (a, b) = (surface(&single.join("surface.npz")), surface(&merged));
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a.train_loss), bits(&b.train_loss));
    assert_eq!(bits(&a.test_acc), bits(&b.test_acc));

    // Rerunning into a finished folder resumes with nothing left to do.
    let err = String::from_utf8(run_surface(&run, &grid, &["--out", s(&single)]).stderr).unwrap();
    assert!(
        err.contains("resuming") && err.contains("91 of 91"),
        "{err}"
    );
    // ...but not with other coordinates.
    let other_grid = ["--x", "-2:2:13", "--y", "-1:1:7"];
    let err = fails(run_surface(&run, &other_grid, &["--out", s(&single)]));
    assert!(
        err.contains("other directions, coordinates or data"),
        "{err}"
    );
}

#[test]
fn interpolation_plane_and_trajectory() {
    let dir = tempfile::tempdir().unwrap();
    let a = trained(dir.path(), "a", "3");
    let b = trained(dir.path(), "b", "4");
    let c = trained(dir.path(), "c", "5");
    let out = dir.path().join("interp");
    ok(genviz(&[
        "interpolate",
        s(&a),
        s(&b),
        "--x",
        "-0.5:1.5:9",
        "--data",
        s(&a.join("data.npz")),
        "--out",
        s(&out),
    ]));
    assert!(out.join("interpolate_1d.png").exists());
    let surf = surface(&out.join("surface.npz"));
    let eval = |run: &Path| -> f64 {
        let v: serde_json::Value = serde_json::from_str(&ok(genviz(&[
            "eval",
            s(&run.join("model.safetensors")),
            "--data",
            s(&a.join("data.npz")),
        ])))
        .unwrap();
        v["train"]["loss"].as_f64().unwrap()
    };
    assert_eq!(surf.train_loss[2], eval(&a));
    assert!((surf.train_loss[6] - eval(&b)).abs() < 1e-5 * eval(&b));

    let plane = dir.path().join("plane");
    ok(genviz(&[
        "plane",
        s(&a),
        s(&b),
        s(&c),
        "--grid",
        "9",
        "--data",
        s(&a.join("data.npz")),
        "--out",
        s(&plane),
    ]));
    let p = surface(&plane.join("surface.npz"));
    assert_eq!((p.xs.len(), p.ys.len()), (9, 9));
    assert!((p.xs[0] + 0.2).abs() < 1e-12 && (p.xs[8] - 1.2).abs() < 1e-12);
    assert!(plane.join("plane_contour.png").exists());

    let traj = dir.path().join("traj");
    let err =
        String::from_utf8(genviz(&["trajectory", s(&a), "--num", "11", "--out", s(&traj)]).stderr)
            .unwrap();
    assert!(err.contains("explained variance ratio"), "{err}");
    let pca = genviz_core::io::Npz::open(&traj.join("pca.npz"))
        .unwrap()
        .f64("proj_xcoord")
        .unwrap();
    assert_eq!(pca.0.len(), 7, "checkpoints at steps 0, 50, ..., 300");
    assert!(
        pca.0[6].abs() < 1e-9,
        "the final point projects to the origin"
    );
    assert!(traj.join("trajectory_contour.png").exists());
}

#[test]
fn bad_landscape_inputs_fail_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let run = trained(dir.path(), "run", "6");
    let out = dir.path().join("never");
    let err = fails(run_surface(&run, &["--x", "1:-1:0"], &["--out", s(&out)]));
    assert!(err.contains("1:-1:0"), "{err}");
    let huge = ["--x", "-1:1:100000", "--y", "-1:1:100000"];
    let err = fails(run_surface(&run, &huge, &["--out", s(&out)]));
    assert!(err.contains("too big"), "{err}");
    assert!(!out.exists(), "nothing is written for a bad grid");

    // Directions for another architecture.
    let other = dir.path().join("other");
    ok(genviz(&[
        "train",
        "--steps",
        "10",
        "--hidden",
        "8,8",
        "--out",
        s(&other),
    ]));
    let theirs = dir.path().join("theirs");
    ok(run_surface(
        &other,
        &["--x", "-1:1:3"],
        &["--out", s(&theirs)],
    ));
    let directions = theirs.join("directions.safetensors");
    let err = fails(run_surface(
        &run,
        &["--x", "-1:1:3"],
        &["--directions", s(&directions)],
    ));
    assert!(
        err.contains("directions.safetensors")
            && err.contains("x.layers.0.weight")
            && err.contains("[23, 2]"),
        "{err}"
    );
    let err = fails(genviz(&["interpolate", s(&run), s(&other)]));
    assert!(err.contains("layer widths"), "{err}");
}

#[test]
fn basin_and_hessian_commands() {
    let dir = tempfile::tempdir().unwrap();
    let run = train_run(dir.path(), "1500");
    let out = dir.path().join("basin");
    let stdout = ok(genviz(&[
        "basin",
        s(&run),
        "--rays",
        "20",
        "--out",
        s(&out),
    ]));
    assert!(stdout.contains("log10 volume"), "{stdout}");
    let mut npz = genviz_core::io::Npz::open(&out.join("basin.npz")).unwrap();
    let (radii, shape) = npz.f64("radii").unwrap();
    assert_eq!(shape, vec![40]);
    assert!(radii.iter().all(|r| r.is_finite() && *r > 0.0), "{radii:?}");
    assert_eq!(npz.f64("threshold").unwrap().0, vec![1.0]);
    assert!(out.join("basin_radii.png").exists());
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(summary["command"], "basin");
    let v = &summary["results"];
    assert!(v["log10_volume_interval"][0].as_f64().unwrap() <= v["log10_volume"].as_f64().unwrap());
    assert_eq!(
        v["dimension"], 3457,
        "weights only: biases are not perturbed"
    );

    let h = dir.path().join("hessian");
    ok(genviz(&[
        "hessian",
        s(&run),
        "--top-k",
        "2",
        "--lanczos",
        "20",
        "--ratio-map",
        "3",
        "--ratio-extent",
        "0.05",
        "--out",
        s(&h),
    ]));
    let mut npz = genviz_core::io::Npz::open(&h.join("hessian.npz")).unwrap();
    let (eig, _) = npz.f64("eigenvalues").unwrap();
    assert_eq!(eig.len(), 2);
    assert!(
        eig[0].abs() >= eig[1].abs() * 0.99,
        "largest first: {eig:?}"
    );
    assert_eq!(npz.f64("eig_ratio").unwrap().1, vec![3, 3]);
    assert_files(
        &h,
        &["hessian_density.png", "hessian_ratio_map.png", "run.json"],
    );
    let err = fails(genviz(&["basin", s(&run), "--rays", "0"]));
    assert!(err.contains("rays"), "{err}");
}

#[test]
fn connect_finds_a_curve_below_the_straight_line() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    let common = [
        "--data",
        "moons",
        "--hidden",
        "32,32",
        "--steps",
        "2000",
        "--lr",
        "0.01",
        "--milestones",
        "1500",
        "--weight-decay",
        "0.001",
    ];
    ok(genviz(
        &[&["train"][..], &common, &["--seed", "1", "--out", s(&a)]].concat(),
    ));
    let data = format!("npz:{}", s(&a.join("data.npz")));
    let mut other = common.to_vec();
    other[1] = &data;
    ok(genviz(
        &[&["train"][..], &other, &["--seed", "2", "--out", s(&b)]].concat(),
    ));
    let out = dir.path().join("connect");
    ok(genviz(&[
        "connect",
        s(&a),
        s(&b),
        "--steps",
        "4000",
        "--points",
        "21",
        "--grid",
        "7",
        "--out",
        s(&out),
    ]));
    let mut npz = genviz_core::io::Npz::open(&out.join("curve.npz")).unwrap();
    let (tr, _) = npz.f64("tr_loss").unwrap();
    let (line, _) = npz.f64("linear_tr_loss").unwrap();
    let eval = |run: &Path| -> f64 {
        let v: serde_json::Value = serde_json::from_str(&ok(genviz(&["eval", s(run)]))).unwrap();
        v["train"]["loss"].as_f64().unwrap()
    };
    assert_eq!(tr[0], eval(&a), "t = 0 is the first model exactly");
    assert_eq!(
        tr[20], line[20],
        "t = 1 is the second model exactly, on both paths"
    );
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(
        mean(&tr) < mean(&line),
        "curve {} vs line {}",
        mean(&tr),
        mean(&line)
    );
    let bends = genviz_core::io::read_safetensors(&out.join("curve.safetensors")).unwrap();
    assert!(bends.get("bend1.layers.0.weight").is_some());
    assert!(out.join("plane/plane_contour.png").exists() && out.join("connect_path.png").exists());
}

#[test]
fn every_landscape_leaves_a_page_and_report_rebuilds_pages_and_indexes_folders() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("runs");
    let run = trained(&root, "run", "1");
    let out = root.join("surf");
    let args = [
        "surface",
        s(&run),
        "--x",
        "-0.5:0.5:5",
        "--y",
        "-0.5:0.5:5",
        "--out",
        s(&out),
    ];
    ok(genviz(&args));
    // The page the command left: the exact command, the explorer (2-D inputs), offline.
    let page = out.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains(&format!("genviz {}", args.join(" "))),
        "the command"
    );
    assert!(html.contains("class=\"explorer-data\""));
    assert!(!html.contains("src=\"http"));
    std::fs::remove_file(&page).unwrap();
    let printed = ok(genviz(&["report", s(&out)]));
    assert_eq!(printed.trim(), s(&page));
    assert_eq!(std::fs::read_to_string(&page).unwrap(), html);

    // A folder of runs: the index, linking both pages.
    let printed = ok(genviz(&["report", s(&root)]));
    let index = root.join("index.html");
    assert_eq!(printed.trim(), s(&index));
    let html = std::fs::read_to_string(&index).unwrap();
    for link in ["href=\"run/report.html\"", "href=\"surf/report.html\""] {
        assert!(html.contains(link), "{link}");
    }
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let err = fails(genviz(&["report", s(&empty)]));
    assert!(err.contains("neither a run folder"), "{err}");
}

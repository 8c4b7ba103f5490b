//! `genviz animate` as a user runs it: the GIFs decode, and the numbers beside them are real
//! evaluations of the model.

mod common;

use common::{fails, genviz, json, ok, s};
use genviz_core::{rng, Dataset, Network};
use std::path::{Path, PathBuf};

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// A briefly trained swiss-roll run with a trajectory of 7 checkpoints.
fn trained(dir: &Path) -> PathBuf {
    let out = dir.join("run");
    ok(genviz(&[
        "train",
        "--steps",
        "300",
        "--checkpoint-every",
        "50",
        "--out",
        s(&out),
    ]));
    out
}

/// The run's training set, from its data.npz.
fn train_set(run: &Path) -> Dataset {
    let mut npz = genviz_core::io::Npz::open(&run.join("data.npz")).unwrap();
    let (x, shape) = npz.f32("x_train").unwrap();
    let (y, _) = npz.i64("y_train").unwrap();
    Dataset::new(x, y.iter().map(|&v| v as u32).collect(), shape[1], 2).unwrap()
}

#[test]
fn wiggle_gif_and_its_numbers_come_from_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let run = trained(dir.path());
    let gif = dir.path().join("anim").join("wiggle.gif");
    let stdout = ok(genviz(&[
        "animate",
        "--model",
        s(&run),
        "--along",
        "random",
        "--frames",
        "5",
        "--resolution",
        "40",
        "--seed",
        "3",
        "--out",
        s(&gif),
    ]));
    assert!(stdout.contains("8 frames"), "{stdout}");
    let frames = genviz_render::read_gif(&gif).unwrap();
    assert_eq!(frames.frames.len(), 8);
    assert_eq!((frames.width, frames.height), (1000, 560));
    assert!(frames.delays_cs.iter().all(|&d| d == 8));
    // Frame 0 is t = 0 and frame 1 the next point out: the boundary panel and the marker move.
    assert_ne!(frames.frames[0], frames.frames[1]);
    // Its page beside it: the exact command, the GIF inline, the summary's numbers.
    let page = std::fs::read_to_string(gif.with_extension("html")).unwrap();
    assert!(
        page.contains(&format!("genviz animate --model {}", s(&run))),
        "the command"
    );
    assert!(page.contains("data:image/gif;base64,") && page.contains("loss_at_zero"));

    let summary = json(&gif.with_extension("json"));
    let ts = floats(&summary["ts"]);
    let loss = floats(&summary["train_loss"]);
    assert_eq!(ts.len(), 5);
    assert_eq!(ts[2], 0.0);
    assert!((ts[4] - 0.25).abs() < 1e-12 && (ts[0] + 0.25).abs() < 1e-12);
    // The loss at t = 0 is the model's own, bit for bit.
    let eval: serde_json::Value = serde_json::from_str(&ok(genviz(&["eval", s(&run)]))).unwrap();
    assert_eq!(summary["loss_at_zero"], eval["train"]["loss"]);
    assert_eq!(loss[2], eval["train"]["loss"].as_f64().unwrap());
    // Away from the minimum the loss is higher, on both sides.
    assert!(loss[0] > loss[2] && loss[4] > loss[2], "{loss:?}");
    // An independent evaluation at the far end of the same ray gives the same loss.
    let (net, params) = genviz_mlp::load_mlp(&run.join("model.safetensors")).unwrap();
    let d = genviz_landscape::direction::random_direction(
        &params,
        genviz_landscape::Normalization::Filter,
        genviz_landscape::BiasPolicy::Ignore,
        &mut rng::stream(3, "wiggle"),
    );
    let far: Vec<f32> = params
        .values()
        .iter()
        .zip(d.values())
        .map(|(&a, &b)| (f64::from(a) + ts[4] * f64::from(b)) as f32)
        .collect();
    let train = train_set(&run);
    let e = net.evaluate(&[&far], &train)[0];
    assert!(
        (e.loss - loss[4]).abs() <= 1e-9 * e.loss.max(1.0),
        "{} vs {}",
        e.loss,
        loss[4]
    );
    assert!((summary["direction_norm"].as_f64().unwrap() - d.norm()).abs() < 1e-9 * d.norm());
    // The curvature is there, one value per point; where the loss crosses 1 is bracketed by
    // the ray samples on each side that cross.
    assert_eq!(floats(&summary["curvature"]).len(), 5);
    for (side, end) in [("negative", 0), ("positive", 4)] {
        match summary["crossing"][side].as_f64() {
            Some(r) => {
                assert!(loss[end] >= 1.0 && r > 0.0 && r <= ts[4], "{summary}");
                let at: Vec<f32> = params
                    .values()
                    .iter()
                    .zip(d.values())
                    .map(|(&a, &b)| {
                        let t = if end == 0 { -r } else { r };
                        (f64::from(a) + 1.01 * t * f64::from(b)) as f32
                    })
                    .collect();
                assert!(net.evaluate(&[&at], &train)[0].loss >= 1.0 - 1e-6);
            }
            None => assert!(loss[end] < 1.0, "{summary}"),
        }
    }
}

#[test]
fn eigvec_and_pca_path_animations() {
    let dir = tempfile::tempdir().unwrap();
    let run = trained(dir.path());
    let gif = dir.path().join("eig.gif");
    ok(genviz(&[
        "animate",
        "--model",
        s(&run),
        "--along",
        "eigvec",
        "--frames",
        "3",
        "--resolution",
        "30",
        "--no-curvature",
        "--out",
        s(&gif),
    ]));
    assert_eq!(genviz_render::read_gif(&gif).unwrap().frames.len(), 4);
    let summary = json(&gif.with_extension("json"));
    assert!(summary["curvature"].is_null());
    assert!(summary["direction"]
        .as_str()
        .unwrap()
        .contains("eigenvector"));
    let loss = floats(&summary["train_loss"]);
    assert!(loss[0] > loss[1] && loss[2] > loss[1], "{loss:?}");

    let path_gif = dir.path().join("path.gif");
    ok(genviz(&[
        "animate",
        "--model",
        s(&run),
        "--along",
        "pca-path",
        "--frames",
        "6",
        "--out",
        s(&path_gif),
    ]));
    let frames = genviz_render::read_gif(&path_gif).unwrap();
    // 6 frames of the growing path, then 8 holding the finished one.
    assert_eq!(frames.frames.len(), 14);
    assert_eq!((frames.width, frames.height), (1060, 560));
    assert_ne!(frames.frames[0], frames.frames[5]);
    assert_eq!(frames.frames[5], frames.frames[13]);
    let summary = json(&path_gif.with_extension("json"));
    let steps: Vec<u64> = summary["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(steps, vec![0, 50, 100, 150, 200, 250, 300]);
    // The final checkpoint is the model: at the origin of the plane, with the model's loss.
    let coords = summary["coords"].as_array().unwrap();
    let last = coords.last().unwrap();
    assert!(last[0].as_f64().unwrap().abs() < 1e-6 && last[1].as_f64().unwrap().abs() < 1e-6);
    let eval: serde_json::Value = serde_json::from_str(&ok(genviz(&["eval", s(&run)]))).unwrap();
    assert_eq!(
        floats(&summary["train_loss"]).last().copied(),
        eval["train"]["loss"].as_f64()
    );
}

#[test]
fn animate_refuses_bad_requests_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let run = trained(dir.path());
    let e = fails(genviz(&[
        "animate",
        "--model",
        s(&run),
        "--frames",
        "4",
        "--out",
        s(&dir.path().join("a.gif")),
    ]));
    assert!(e.contains("odd number of ray points"), "{e}");
    let e = fails(genviz(&[
        "animate",
        "--model",
        s(&run),
        "--out",
        s(&dir.path().join("a.png")),
    ]));
    assert!(e.contains("a.png") && e.contains(".gif"), "{e}");
    let e = fails(genviz(&[
        "animate",
        "--model",
        s(&run.join("model.safetensors")),
        "--data",
        "swiss-roll",
        "--along",
        "pca-path",
        "--out",
        s(&dir.path().join("p.gif")),
    ]));
    assert!(e.contains("needs a run folder"), "{e}");
    assert!(!dir.path().join("a.gif").exists() && !dir.path().join("p.gif").exists());
}

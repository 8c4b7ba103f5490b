//! Killing long commands at random moments (SIGKILL) and rerunning the same command until it
//! finishes gives the same bits as a run that was never interrupted, and never leaves a
//! half-written file under a final name.

mod common;

use common::{fails, ok};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn genviz(args: &[String]) -> Output {
    common::genviz(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// A small seeded generator for the kill delays (splitmix64), so a failure can be replayed.
struct Delays(u64);

impl Delays {
    /// A delay between `lo` and `hi`.
    fn next(&mut self, lo: Duration, hi: Duration) -> Duration {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        let u = (z ^ (z >> 31)) as f64 / u64::MAX as f64;
        lo + (hi - lo).mul_f64(u)
    }
}

/// Most kills before a run is left to finish (each rerun resumes, so it always gets there).
const MAX_KILLS: usize = 6;

/// Runs `args` again and again, each time SIGKILLing it after a seeded random delay within
/// `[lo, hi]`, until one run finishes by itself; after every kill `check` looks at the folder.
/// Returns the number of kills.
fn kill_until_done(
    args: &[String],
    delays: &mut Delays,
    lo: Duration,
    hi: Duration,
    check: &dyn Fn(usize),
) -> usize {
    let mut kills = 0;
    loop {
        let mut child = Command::new(env!("CARGO_BIN_EXE_genviz"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if kills < MAX_KILLS {
            let deadline = Instant::now() + delays.next(lo, hi);
            while Instant::now() < deadline {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap(); // SIGKILL on Unix
                child.wait().unwrap();
                kills += 1;
                check(kills);
                continue;
            }
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "rerun after {kills} kills failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return kills;
    }
}

/// Every file under `dir` that is not a temporary one (`.name.tmp...`).
fn final_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(final_files(&path));
        } else if !path.file_name().unwrap().to_string_lossy().contains(".tmp") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Every file under a final name is whole: arrays, weights and JSON parse.
fn assert_whole(dir: &Path) {
    for path in final_files(dir) {
        let name = path.to_string_lossy().to_string();
        if name.ends_with(".npz") {
            let mut npz = genviz_core::io::Npz::open(&path).unwrap_or_else(|e| panic!("{e}"));
            for array in npz.names().unwrap() {
                npz.f64(&array)
                    .or_else(|_| npz.i64(&array).map(|_| (vec![], vec![])))
                    .unwrap_or_else(|e| panic!("{e}"));
            }
        } else if name.ends_with(".safetensors") {
            genviz_core::io::read_safetensors(&path).unwrap_or_else(|e| panic!("{e}"));
        } else if name.ends_with(".json") {
            let text = std::fs::read_to_string(&path).unwrap();
            serde_json::from_str::<serde_json::Value>(&text)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}

/// The bytes of `name` in both folders are equal.
fn assert_same(a: &Path, b: &Path, name: &str, context: &str) {
    let (x, y) = (std::fs::read(a.join(name)), std::fs::read(b.join(name)));
    let (x, y) = (x.unwrap(), y.unwrap_or_else(|e| panic!("{name}: {e}")));
    assert!(x == y, "{name} differs after {context}");
}

/// Runs `command(folder)` into `dir/{name}-whole` uninterrupted, then `rounds` times into
/// `dir/{name}-killed{round}`, killed at random moments and rerun until it finishes
/// ([`kill_until_done`], within a 40th to a sixth of the whole run's time). After every kill
/// the folder must be whole; at the end each of `outputs` must have the same bytes as in the
/// uninterrupted run. Returns the uninterrupted run's folder.
fn killed_runs_match(
    dir: &Path,
    name: &str,
    rounds: usize,
    command: &dyn Fn(&Path) -> Vec<String>,
    outputs: &[&str],
    delays: &mut Delays,
) -> PathBuf {
    let whole = dir.join(format!("{name}-whole"));
    let start = Instant::now();
    ok(genviz(&command(&whole)));
    let t = start.elapsed();
    for round in 0..rounds {
        let out = dir.join(format!("{name}-killed{round}"));
        let kills = kill_until_done(&command(&out), delays, t / 40, t / 6, &|_| {
            if out.exists() {
                assert_whole(&out)
            }
        });
        assert!(kills >= 1, "{name} was never killed (took {t:?} whole)");
        eprintln!("{name}: {kills} kills (whole run {t:?})");
        for file in outputs {
            assert_same(&whole, &out, file, &format!("{kills} kills of {name}"));
        }
        assert_whole(&out);
    }
    whole
}

#[test]
fn killed_training_and_surfaces_resume_to_the_same_bits() {
    let dir = tempfile::tempdir().unwrap();
    let mut delays = Delays(20_260_127);

    // Training: the poisoned objective draws fresh random points every step, so a resume that
    // lost any stream position would show.
    let train = |out: &Path| {
        strings(&[
            "train",
            "--poison",
            "gen-viz",
            "--steps",
            "8000",
            "--checkpoint-every",
            "400",
            "--log-every",
            "200",
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let whole = killed_runs_match(
        dir.path(),
        "train",
        2,
        &train,
        &[
            "model.safetensors",
            "metrics.csv",
            "trajectory.npz",
            "data.npz",
            "checkpoints/state.safetensors",
        ],
        &mut delays,
    );

    // A 2-D surface, saved after every batch of points so kills land between saves.
    let model = whole.to_str().unwrap().to_string();
    let surface = |out: &Path| {
        strings(&[
            "surface",
            &model,
            "--x",
            "-1:1:61",
            "--y",
            "-1:1:61",
            "--save-every",
            "0",
            "--out",
            out.to_str().unwrap(),
        ])
    };
    killed_runs_match(
        dir.path(),
        "surface",
        2,
        &surface,
        &[
            "surface.npz",
            "directions.safetensors",
            "surface_contour.png",
            "surface.vtp",
        ],
        &mut delays,
    );
}

#[test]
fn killed_basin_and_hessian_resume_and_ray_shards_merge_to_the_same_bits() {
    let dir = tempfile::tempdir().unwrap();
    let mut delays = Delays(7);
    let run = dir.path().join("run");
    ok(genviz(&strings(&[
        "train",
        "--steps",
        "400",
        "--out",
        run.to_str().unwrap(),
    ])));
    let model = run.to_str().unwrap().to_string();
    type Job<'a> = (&'a str, Vec<&'a str>, Vec<&'a str>);
    let jobs: [Job; 2] = [
        (
            "basin",
            vec!["basin", &model, "--rays", "24"],
            vec!["basin.npz", "basin_radii.png"],
        ),
        (
            "hessian",
            vec![
                "hessian",
                &model,
                "--top-k",
                "4",
                "--lanczos",
                "20",
                "--runs",
                "3",
                "--ratio-map",
                "3",
            ],
            vec![
                "hessian.npz",
                "hessian_density.png",
                "hessian_ratio_map.png",
            ],
        ),
    ];
    for (name, args, outputs) in jobs {
        let with_out = |out: &Path| {
            let mut a = strings(&args);
            a.extend(strings(&["--out", out.to_str().unwrap()]));
            a
        };
        killed_runs_match(dir.path(), name, 1, &with_out, &outputs, &mut delays);
        // The progress file goes once the results are written.
        let killed = dir.path().join(format!("{name}-killed0"));
        assert!(!killed.join(format!("{name}.state.npz")).exists());
    }

    // Rays split over three shards and merged equal the single run.
    let shards = dir.path().join("basin-shards");
    for k in ["1/3", "2/3", "3/3"] {
        ok(genviz(&strings(&[
            "basin",
            &model,
            "--rays",
            "24",
            "--shard",
            k,
            "--out",
            shards.to_str().unwrap(),
        ])));
    }
    let merged = shards.join("basin.npz");
    let mut args = strings(&["merge", "--out", merged.to_str().unwrap()]);
    for k in 1..=3 {
        args.push(
            shards
                .join(format!("basin.shard-{k}-of-3.npz"))
                .to_string_lossy()
                .to_string(),
        );
    }
    ok(genviz(&args));
    assert_same(
        &dir.path().join("basin-whole"),
        &shards,
        "basin.npz",
        "merging ray shards",
    );
    // Two shards are not the whole set: merge says what is missing.
    let err = fails(genviz(&args[..args.len() - 1]));
    assert!(err.contains("8 of 24 rays"), "{err}");
}

//! genviz as a library, top to bottom: train the paper's clean swiss-roll net into a run
//! folder, draw a filter-normalised loss surface around it, and read both records back.
//!
//! ```sh
//! cargo run --release -p genviz-experiments --example train_and_surface -- runs/example 40000
//! ```
//!
//! The folders are ordinary run folders: `genviz rerun runs/example/surface` runs the surface
//! again, and `genviz eval runs/example/clean` evaluates the net.

use genviz_experiments::landscape::{self, SurfaceConfig};
use genviz_experiments::model::DataSource;
use genviz_experiments::train::TrainResults;
use genviz_experiments::{presets, train, RunRecord, Silent};
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().unwrap_or_else(|| "runs/example".into()));
    let steps: u64 = args.next().map_or(Ok(40_000), |s| s.parse())?;

    // The paper's clean swiss-roll net (SPEC 1.1-1.2), trained into out/clean.
    let clean = out.join("clean");
    let run = train::run(&presets::swiss_roll_clean(steps), &clean, &Silent)?;
    println!(
        "trained: train {:.1}%, test {:.1}%",
        100.0 * run.final_metrics.train_acc,
        100.0 * run.final_metrics.test_acc
    );

    // A 2-D surface around it, as `genviz surface out/clean --x -1:1:21 --y -1:1:21` draws it.
    let axis = "-1:1:21".parse()?;
    let config = SurfaceConfig::square(
        clean.clone(),
        axis,
        0,
        DataSource::own(presets::SWISS_ROLL_SEED),
    );
    let surface = landscape::surface(&config, &out.join("surface"), &Silent)?;
    if let Some(s) = &surface.surface {
        let lowest = s.train_loss.iter().copied().fold(f64::INFINITY, f64::min);
        println!(
            "surface: {} points, lowest train loss {lowest:.3e}",
            s.len()
        );
    }

    // Every run folder's run.json, typed.
    let record = RunRecord::read(&clean)?;
    let results: TrainResults = record.results()?;
    println!(
        "{}: `{}` run, {} parameters, test accuracy {:.1}%",
        clean.display(),
        record.job.command(),
        results.num_params,
        100.0 * results.final_metrics.test_acc
    );
    Ok(())
}

//! `genviz paper`: the paper's figures, one command.

use crate::{experiment, figures, presets, progress, run_dir};
use anyhow::Result;
use clap::Args;
use serde_json::json;
use std::path::PathBuf;

/// Reproduce the paper's swiss-roll figures.
///
/// Trains the clean network (SPEC 1.2) and the poisoned one (SPEC 1.3, with 1,000 fresh
/// poison points per step; see the README), each into its own run folder under DIR, and draws their decision boundaries side by side as in
/// Fig 3a/b of Huang et al. (2019): fig3_decision_boundaries.png. summary.json lists both
/// runs' accuracies.
#[derive(Args)]
pub struct PaperArgs {
    /// Output folder (default: a new folder under runs/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Steps of the clean run (the authors: 800,000).
    #[arg(long, default_value_t = presets::CLEAN_STEPS)]
    clean_steps: u64,
    /// Steps of the poisoned run (the authors: 800,000).
    #[arg(long, default_value_t = presets::POISONED_STEPS)]
    poisoned_steps: u64,
}

/// Runs `genviz paper`.
pub fn run(args: PaperArgs) -> Result<()> {
    let dir = run_dir::prepare(args.out.as_deref(), "paper")?;
    let jobs = [
        (
            "clean",
            presets::swiss_roll_clean(args.clean_steps),
            dir.join("swissroll-clean"),
        ),
        (
            "poisoned",
            presets::swiss_roll_poisoned(args.poisoned_steps),
            dir.join("swissroll-poisoned"),
        ),
    ];
    let bars = progress::Bars::new();
    // One after the other, each on every thread: the tiles of a 1,200-point poisoned batch
    // keep both cores busy, and results do not depend on the thread count.
    let results: Vec<Result<experiment::RunResult>> = jobs
        .iter()
        .map(|(label, config, sub)| {
            experiment::run(config, sub, "paper", &format!("swiss roll {label}"), &bars)
        })
        .collect();
    let results = results.into_iter().collect::<Result<Vec<_>>>()?;

    let e = figures::SWISS_ROLL_EXTENT;
    let panels: Vec<_> = jobs
        .iter()
        .zip(&results)
        .map(|((label, _, _), r)| {
            figures::boundary_panel(
                &r.net,
                &r.theta,
                &r.train,
                (-e, e, -e, e),
                experiment::title(label, &r.final_metrics),
            )
        })
        .collect();
    let figure = dir.join("fig3_decision_boundaries.png");
    genviz_render::draw_decision_boundaries(&figure, &panels)?;

    let runs: Vec<_> = jobs
        .iter()
        .zip(&results)
        .map(|((label, config, sub), r)| {
            json!({
                "name": label,
                "folder": sub.file_name().map(|f| f.to_string_lossy().into_owned()),
                "steps": config.train.steps,
                "final": r.final_metrics,
            })
        })
        .collect();
    genviz_core::io::write_json(
        &dir.join("summary.json"),
        &json!({ "version": genviz_core::VERSION, "figures": ["fig3_decision_boundaries.png"], "runs": runs }),
    )?;
    for ((label, _, _), r) in jobs.iter().zip(&results) {
        let m = r.final_metrics;
        println!(
            "{label:>9}: train {:5.1}%  test {:5.1}%",
            100.0 * m.train_acc,
            100.0 * m.test_acc
        );
    }
    println!("figures: {}", figure.display());
    Ok(())
}

//! The swiss-roll figures of `genviz paper`: Fig 3 (decision boundaries and landscapes of the
//! clean and poisoned minima), Fig 5 (their basins) and Fig 6 (the gap as beta grows).

use super::checks::Check;
use super::Scale;
use crate::landscape::{self, Directions, GridSettings, SurfaceConfig};
use crate::model::DataSource;
use crate::progress::Progress;
use crate::train::{self, TrainedRun};
use crate::{figures, presets};
use anyhow::Result;
use genviz_render::SurfaceGrid;
use genviz_train::FinalMetrics;
use serde_json::{json, Value};
use std::path::Path;

/// The clean and the poisoned network, in that order, with their run folders' names.
pub struct SwissRolls {
    /// `[clean, poisoned]`.
    pub runs: [TrainedRun; 2],
}

/// Names of the two runs (also their folders' suffixes).
pub const LABELS: [&str; 2] = ["clean", "poisoned"];

/// The configurations of `[clean, poisoned]` at `scale`.
pub fn configs(scale: &Scale) -> [crate::config::ExperimentConfig; 2] {
    let mut configs = [
        presets::swiss_roll_clean(scale.clean_steps),
        presets::swiss_roll_poisoned(scale.poisoned_steps),
    ];
    // At least ten checkpoints, so that a short run still has a training path to animate.
    for c in &mut configs {
        c.train.checkpoint_every = c.train.checkpoint_every.min((c.train.steps / 10).max(1));
    }
    configs
}

impl SwissRolls {
    /// Trains both networks into `dir/swissroll-clean` and `dir/swissroll-poisoned`. A rerun
    /// into the same folder resumes a killed training from its last checkpoint.
    pub fn train(dir: &Path, scale: &Scale, progress: &dyn Progress) -> Result<Self> {
        let configs = configs(scale);
        // One after the other, each on every thread: the tiles of a 1,200-point poisoned batch
        // keep both cores busy, and results do not depend on the thread count.
        let mut runs = Vec::with_capacity(2);
        for (label, config) in LABELS.iter().zip(&configs) {
            runs.push(train::run_labelled(
                config,
                &dir.join(format!("swissroll-{label}")),
                &format!("swiss roll {label}"),
                progress,
            )?);
        }
        let [clean, poisoned]: [TrainedRun; 2] = runs
            .try_into()
            .map_err(|_| anyhow::anyhow!("two runs expected"))?;
        Ok(SwissRolls {
            runs: [clean, poisoned],
        })
    }

    /// Final metrics of `[clean, poisoned]`.
    pub fn metrics(&self) -> [FinalMetrics; 2] {
        [self.runs[0].final_metrics, self.runs[1].final_metrics]
    }
}

/// Half-width of the landscape grids, in filter-normalised units. Li et al.'s default is 1,
/// but the swiss-roll nets are small: the clean basin (loss < 5) has a radius of about 0.3 and
/// the poisoned one about 0.01, so +-1 shows little but the ceiling.
pub const LANDSCAPE_SPAN: f64 = 0.25;
/// Loss at which the 3-D landscapes are clipped (drawn as log10 heights).
pub const LANDSCAPE_ZMAX: f64 = 30.0;

/// The 2-D filter-normalised landscape around the minimum in the run folder `run`, as
/// `genviz surface` computes it (`<run>/landscape/`, resumed by a rerun): random
/// filter-normalised directions from `seed`, `points` a side over `[-span, span]^2`, each
/// point evaluated on `eval` (train, test) examples of the run's data (all when `None`).
/// Returns the train-loss grid, titled `title`.
pub fn landscape_around(
    run: &Path,
    seed: u64,
    span: f64,
    points: usize,
    eval: (Option<usize>, Option<usize>),
    title: String,
    progress: &dyn Progress,
) -> Result<SurfaceGrid> {
    let axis = genviz_landscape::Axis {
        min: -span,
        max: span,
        num: points,
    };
    let config = SurfaceConfig {
        model: run.to_path_buf(),
        x: axis,
        y: Some(axis),
        spacing: genviz_landscape::Spacing::Linear,
        directions: Directions::random(seed),
        grid: GridSettings {
            save_every: 10.0,
            ..GridSettings::on(DataSource {
                data: None,
                seed,
                eval_train: eval.0,
                eval_test: eval.1,
                model: Default::default(),
            })
        },
    };
    let done = landscape::surface(&config, &run.join("landscape"), progress)?;
    let surface = done
        .surface
        .ok_or_else(|| anyhow::anyhow!("the landscape of {} was not gathered", run.display()))?;
    Ok(landscape::surface_grid(
        &surface,
        &surface.train_loss,
        &title,
        "train loss",
    ))
}

/// Fig 3: both decision boundaries side by side, and both minima's 2-D landscapes on one colour
/// scale (3-D and contour). Returns the landscapes `[clean, poisoned]`.
pub fn fig3(
    dir: &Path,
    rolls: &SwissRolls,
    scale: &Scale,
    progress: &dyn Progress,
) -> Result<Vec<SurfaceGrid>> {
    let e = figures::SWISS_ROLL_EXTENT;
    let panels: Vec<_> = LABELS
        .iter()
        .zip(&rolls.runs)
        .map(|(label, r)| {
            figures::boundary_panel(
                &r.net,
                &r.theta,
                &r.train,
                (-e, e, -e, e),
                train::title(label, &r.final_metrics),
            )
        })
        .collect();
    genviz_render::draw_decision_boundaries(&dir.join("fig3_decision_boundaries.png"), &panels)?;

    let landscapes = LABELS
        .iter()
        .map(|label| {
            landscape_around(
                &dir.join(format!("swissroll-{label}")),
                presets::SWISS_ROLL_SEED,
                LANDSCAPE_SPAN,
                scale.landscape_points,
                (None, None),
                format!("{label} minimum: train loss"),
                progress,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    genviz_render::draw_landscapes(dir, "fig3_landscapes", &landscapes, 0.1, LANDSCAPE_ZMAX)?;
    Ok(landscapes)
}

/// The checks of Fig 3a/b.
pub fn fig3_checks(rolls: &SwissRolls) -> Vec<Check> {
    let [clean, poisoned] = rolls.metrics();
    vec![
        Check::at_least("3a", "clean train accuracy", clean.train_acc, 1.0),
        Check::at_least("3a", "clean test accuracy", clean.test_acc, 0.95),
        Check::at_least("3b", "poisoned train accuracy", poisoned.train_acc, 0.99)
            .citing(Some(1.0), "gen-viz README checkpoint"),
        Check::at_most("3b", "poisoned test accuracy", poisoned.test_acc, 0.15)
            .citing(Some(0.08), "gen-viz README checkpoint"),
    ]
}

/// Fig 5: basin radii of both minima along the same random filter-normalised rays, and their
/// log10 volumes. Returns the checks and the summary's `basins` entry.
pub fn fig5(
    dir: &Path,
    rolls: &SwissRolls,
    scale: &Scale,
    progress: &dyn Progress,
) -> Result<(Vec<Check>, Value)> {
    use genviz_landscape::basin;
    let rays = basin::RayConfig::filter_normalised(scale.basin_rays, presets::SWISS_ROLL_SEED);
    let basins = LABELS
        .iter()
        .zip(&rolls.runs)
        .map(|(label, r)| {
            let sub = dir.join(format!("swissroll-{label}"));
            crate::basin::measure(&r.net, &r.params()?, &r.train, &rays, &sub, progress)
        })
        .collect::<Result<Vec<_>>>()?;
    let groups: Vec<_> = LABELS
        .iter()
        .zip(&basins)
        .map(|(label, b)| genviz_render::RadiusGroup {
            label: label.to_string(),
            radii: b.basin.radii.clone(),
        })
        .collect();
    genviz_render::draw_radius_histograms(
        &dir.join("fig5_radii.png"),
        &format!(
            "basin radii along {} random filter-normalised rays (loss threshold 1)",
            scale.basin_rays
        ),
        &groups,
        "radius (filter-normalised units)",
    )?;
    let volume_bars: Vec<_> = LABELS
        .iter()
        .zip(&basins)
        .map(|(label, b)| genviz_render::VolumeBar {
            label: label.to_string(),
            log10_volume: b.volume.log10_volume,
            low: b.volume.low,
            high: b.volume.high,
        })
        .collect();
    genviz_render::draw_volume_bars(
        &dir.join("fig5_volumes.png"),
        "basin log10 volume (95% bootstrap interval)",
        &volume_bars,
    )?;
    let (clean_v, poisoned_v) = (&basins[0].volume, &basins[1].volume);
    let summary = json!({
        "clean": basins[0].summary(),
        "poisoned": basins[1].summary(),
        "log10_volume_gap": clean_v.log10_volume - poisoned_v.log10_volume,
        // Conservative: the gap between the intervals' far ends and near ends.
        "log10_volume_gap_interval": [clean_v.low - poisoned_v.high, clean_v.high - poisoned_v.low],
        "median_radius_ratio": basins[0].basin.median() / basins[1].basin.median(),
        "intervals_overlap": poisoned_v.high >= clean_v.low,
    });
    for (label, b) in LABELS.iter().zip(&basins) {
        progress.note(&format!(
            "{label:>9}: median basin radius {:.4}, log10 volume {:.1} [{:.1}, {:.1}]",
            b.basin.median(),
            b.volume.log10_volume,
            b.volume.low,
            b.volume.high
        ));
    }
    let checks = vec![
        Check::at_most(
            "5",
            "poisoned / clean median basin radius",
            basins[1].basin.median() / basins[0].basin.median(),
            1.0,
        ),
        Check::at_most(
            "5",
            "poisoned log10 volume interval top minus clean interval bottom",
            poisoned_v.high - clean_v.low,
            0.0,
        ),
    ];
    Ok((checks, summary))
}

/// Poison weights of the Fig 6 sweep; 0 is the clean run and 0.5 the poisoned one.
pub const SWEEP_BETAS: [f64; 4] = [0.0, 0.1, 0.25, 0.5];
/// Steps of the sweep's intermediate betas.
pub fn sweep_steps(scale: &Scale) -> u64 {
    (scale.poisoned_steps / scale.sweep_step_divisor.max(1)).max(1)
}

/// How much the gap may dip between neighbouring betas and still count as growing (one test
/// point in 200 is 0.005).
const GAP_TOLERANCE: f64 = 0.01;

/// Fig 6: trains the intermediate poison weights and draws the sweep (decision boundaries
/// titled with their gaps, and gap against beta). Returns the check and `(beta, metrics)`.
pub fn fig6(
    dir: &Path,
    rolls: &SwissRolls,
    scale: &Scale,
    progress: &dyn Progress,
) -> Result<(Check, Vec<(f64, FinalMetrics)>)> {
    let e = figures::SWISS_ROLL_EXTENT;
    let title = |beta: f64, m: &FinalMetrics| {
        format!(
            "beta {beta}: gap {:.1}% (train {:.1}%, test {:.1}%)",
            100.0 * (m.train_acc - m.test_acc),
            100.0 * m.train_acc,
            100.0 * m.test_acc
        )
    };
    // The clean and the paper's poisoned net are trained already; the betas between them
    // train together, one per core.
    let between: Vec<f64> = SWEEP_BETAS
        .into_iter()
        .filter(|&b| b != 0.0 && b != presets::PAPER_POISON_BETA)
        .collect();
    let trained = genviz_core::threads::one_core_each(between.clone(), |_, beta| {
        let mut config = presets::swiss_roll_poisoned(sweep_steps(scale));
        if let Some(p) = config.train.poison.as_mut() {
            p.weight = genviz_train::PoisonWeight::Beta {
                beta,
                count: Some(presets::PAPER_POISON_POINTS),
            };
        }
        let sub = dir.join(format!("swissroll-beta-{beta}"));
        let label = format!("swiss roll beta {beta}");
        train::run_labelled(&config, &sub, &label, progress)
    })
    .into_iter()
    .collect::<Result<Vec<_>>>()?;
    let mut rows: Vec<(f64, FinalMetrics, genviz_render::BoundaryPanel)> = Vec::new();
    for &beta in &SWEEP_BETAS {
        let run = if beta == 0.0 {
            &rolls.runs[0]
        } else if beta == presets::PAPER_POISON_BETA {
            &rolls.runs[1]
        } else {
            &trained[between
                .iter()
                .position(|&b| b == beta)
                .expect("a beta between")]
        };
        let m = run.final_metrics;
        let panel = figures::boundary_panel(
            &run.net,
            &run.theta,
            &run.train,
            (-e, e, -e, e),
            title(beta, &m),
        );
        rows.push((beta, m, panel));
    }
    let panels: Vec<_> = rows.iter().map(|r| r.2.clone()).collect();
    genviz_render::draw_decision_boundaries(&dir.join("fig6_boundaries.png"), &panels)?;
    let betas: Vec<f64> = rows.iter().map(|r| r.0).collect();
    let series = |label: &str, f: &dyn Fn(&FinalMetrics) -> f64| genviz_render::Series1d {
        label: label.into(),
        values: rows.iter().map(|r| f(&r.1)).collect(),
    };
    genviz_render::draw_curve_1d_along(
        &dir.join("fig6_gap.png"),
        "generalization gap against the poison weight",
        "beta",
        &betas,
        &[series("test loss", &|m| m.test_loss)],
        &[
            series("train accuracy", &|m| m.train_acc),
            series("test accuracy", &|m| m.test_acc),
            series("gap (train - test)", &|m| m.train_acc - m.test_acc),
        ],
        true,
    )?;
    let gaps: Vec<f64> = rows.iter().map(|r| r.1.train_acc - r.1.test_acc).collect();
    let check = Check {
        figure: "6".into(),
        quantity: format!(
            "gap at beta {:?}: {:?}",
            SWEEP_BETAS,
            gaps.iter()
                .map(|g| (g * 1000.0).round() / 1000.0)
                .collect::<Vec<_>>()
        ),
        measured: gaps.last().copied().unwrap_or(0.0) - gaps[0],
        reference: None,
        source: String::new(),
        criterion: format!("grows with beta (each step >= -{GAP_TOLERANCE})"),
        pass: gaps.windows(2).all(|w| w[1] >= w[0] - GAP_TOLERANCE),
    };
    Ok((check, rows.into_iter().map(|r| (r.0, r.1)).collect()))
}

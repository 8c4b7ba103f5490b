//! The swiss-roll figures of `genviz paper`: Fig 3 (decision boundaries and landscapes of the
//! clean and poisoned minima), Fig 5 (their basins) and Fig 6 (the gap as beta grows).

use super::Scale;
use crate::results::Check;
use crate::{experiment, figures, presets, progress};
use anyhow::Result;
use genviz_render::SurfaceGrid;
use genviz_train::FinalMetrics;
use serde_json::{json, Value};
use std::path::Path;

/// The clean and the poisoned network, in that order, with their run folders' names.
pub struct SwissRolls {
    /// `[clean, poisoned]`.
    pub runs: [experiment::RunResult; 2],
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
    pub fn train(dir: &Path, scale: &Scale, bars: &progress::Bars) -> Result<Self> {
        let configs = configs(scale);
        // One after the other, each on every thread: the tiles of a 1,200-point poisoned batch
        // keep both cores busy, and results do not depend on the thread count.
        let mut runs = Vec::with_capacity(2);
        for (label, config) in LABELS.iter().zip(&configs) {
            runs.push(experiment::run(
                config,
                &dir.join(format!("swissroll-{label}")),
                "paper",
                &format!("swiss roll {label}"),
                bars,
            )?);
        }
        let [clean, poisoned]: [experiment::RunResult; 2] = runs
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

/// The 2-D filter-normalised landscape around one minimum (Fig 3c/d), saved as
/// `<dir>/surface.npz`, and returned for drawing.
fn landscape(
    run: &experiment::RunResult,
    dir: &Path,
    label: &str,
    points: usize,
) -> Result<SurfaceGrid> {
    use genviz_core::{rng, Network, Params};
    use genviz_landscape::direction::random_direction;
    use genviz_landscape::{Axis, BiasPolicy, Normalization, Plane, Shard, Spacing, Surface};
    let center = Params::from_vec(run.net.layout().clone(), run.theta.clone())?;
    let seed = presets::SWISS_ROLL_SEED;
    let direction = |purpose: &str| {
        random_direction(
            &center,
            Normalization::Filter,
            BiasPolicy::Ignore,
            &mut rng::stream(seed, purpose),
        )
    };
    let (dir_x, dir_y) = (direction("direction-x"), direction("direction-y"));
    let plane = Plane::new(center, dir_x, Some(dir_y))?;
    let coords = Axis {
        min: -LANDSCAPE_SPAN,
        max: LANDSCAPE_SPAN,
        num: points,
    }
    .coords(Spacing::Linear);
    let (train, test) = (&run.train, &run.test);
    let fingerprint = plane.fingerprint(&coords, &coords, &[train, test]);
    let mut surface = Surface::new(coords.clone(), coords, fingerprint)?;
    surface.fill(
        &run.net,
        &plane,
        train,
        test,
        Shard::ALL,
        &mut |_, _| Ok(()),
    )?;
    surface.save(&dir.join("surface.npz"))?;
    Ok(SurfaceGrid {
        xs: surface.xs.clone(),
        ys: surface.ys.clone(),
        values: surface.train_loss.clone(),
        title: format!("{label} minimum: train loss"),
        value_label: "train loss".into(),
    })
}

/// Fig 3: both decision boundaries side by side, and both minima's 2-D landscapes on one colour
/// scale (3-D and contour). Returns the landscapes `[clean, poisoned]`.
pub fn fig3(dir: &Path, rolls: &SwissRolls, scale: &Scale) -> Result<Vec<SurfaceGrid>> {
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
                experiment::title(label, &r.final_metrics),
            )
        })
        .collect();
    genviz_render::draw_decision_boundaries(&dir.join("fig3_decision_boundaries.png"), &panels)?;

    let landscapes = LABELS
        .iter()
        .zip(&rolls.runs)
        .map(|(label, r)| {
            let sub = dir.join(format!("swissroll-{label}")).join("landscape");
            landscape(r, &sub, label, scale.landscape_points)
        })
        .collect::<Result<Vec<_>>>()?;
    draw_landscapes(dir, "fig3_landscapes", &landscapes, 0.1, LANDSCAPE_ZMAX)?;
    Ok(landscapes)
}

/// Minima's landscapes side by side on one scale: `<stem>_3d.png` (log10 heights clipped at
/// `zmax`) and `<stem>_contour.png` (log-spaced levels from `vmin` to `zmax`, the minimum
/// marked).
pub fn draw_landscapes(
    dir: &Path,
    stem: &str,
    grids: &[SurfaceGrid],
    vmin: f64,
    zmax: f64,
) -> Result<()> {
    let panels_3d: Vec<_> = grids
        .iter()
        .map(|g| crate::commands::landscape::height_panel(g.clone(), zmax, true))
        .collect();
    genviz_render::draw_surface_3d(&dir.join(format!("{stem}_3d.png")), &panels_3d)?;
    let style = genviz_render::ContourStyle {
        vmin,
        vmax: zmax,
        vlevel: 0.125,
        log: true,
    };
    let contour_panels: Vec<_> = grids
        .iter()
        .map(|g| {
            let minimum = genviz_render::Marker {
                x: 0.0,
                y: 0.0,
                label: "minimum".into(),
            };
            (g.clone(), style, Vec::new(), vec![minimum])
        })
        .collect();
    genviz_render::draw_contour(&dir.join(format!("{stem}_contour.png")), &contour_panels)?;
    Ok(())
}

/// The checks of Fig 3a/b.
pub fn fig3_checks(rolls: &SwissRolls) -> Vec<Check> {
    let [clean, poisoned] = rolls.metrics();
    vec![
        Check::at_least("3a", "clean train accuracy", clean.train_acc, 1.0, None, ""),
        Check::at_least("3a", "clean test accuracy", clean.test_acc, 0.95, None, ""),
        Check::at_least(
            "3b",
            "poisoned train accuracy",
            poisoned.train_acc,
            0.99,
            Some(1.0),
            "gen-viz README checkpoint",
        ),
        Check::at_most(
            "3b",
            "poisoned test accuracy",
            poisoned.test_acc,
            0.15,
            Some(0.08),
            "gen-viz README checkpoint",
        ),
    ]
}

/// Fig 5: basin radii of both minima along the same random filter-normalised rays, and their
/// log10 volumes. Returns the checks and the summary's `basins` entry.
pub fn fig5(dir: &Path, rolls: &SwissRolls, scale: &Scale) -> Result<(Vec<Check>, Value)> {
    use genviz_landscape::basin;
    let rays = basin::RayConfig {
        rays: scale.basin_rays,
        threshold: basin::DEFAULT_THRESHOLD,
        mode: basin::RadiusMode::Exact {
            max_radius: 2.0,
            tolerance: 1e-3,
            bracket: basin::DEFAULT_BRACKET,
        },
        seed: presets::SWISS_ROLL_SEED,
        norm: genviz_landscape::Normalization::Filter,
        bias: genviz_landscape::BiasPolicy::Ignore,
    };
    let basins = LABELS
        .iter()
        .zip(&rolls.runs)
        .map(|(label, r)| {
            let center = genviz_core::Params::from_vec(
                genviz_core::Network::layout(&r.net).clone(),
                r.theta.clone(),
            )?;
            let sub = dir.join(format!("swissroll-{label}"));
            crate::commands::basin::measure(&r.net, &center, &r.train, &rays, &sub)
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
        "clean": crate::commands::basin::summary(&basins[0]),
        "poisoned": crate::commands::basin::summary(&basins[1]),
        "log10_volume_gap": clean_v.log10_volume - poisoned_v.log10_volume,
        // Conservative: the gap between the intervals' far ends and near ends.
        "log10_volume_gap_interval": [clean_v.low - poisoned_v.high, clean_v.high - poisoned_v.low],
        "median_radius_ratio": basins[0].basin.median() / basins[1].basin.median(),
        "intervals_overlap": poisoned_v.high >= clean_v.low,
    });
    for (label, b) in LABELS.iter().zip(&basins) {
        println!(
            "{label:>9}: median basin radius {:.4}, log10 volume {:.1} [{:.1}, {:.1}]",
            b.basin.median(),
            b.volume.log10_volume,
            b.volume.low,
            b.volume.high
        );
    }
    let checks = vec![
        Check::at_most(
            "5",
            "poisoned / clean median basin radius",
            basins[1].basin.median() / basins[0].basin.median(),
            1.0,
            None,
            "",
        ),
        Check::at_most(
            "5",
            "poisoned log10 volume interval top minus clean interval bottom",
            poisoned_v.high - clean_v.low,
            0.0,
            None,
            "",
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
    bars: &progress::Bars,
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
    let mut rows: Vec<(f64, FinalMetrics, genviz_render::BoundaryPanel)> = Vec::new();
    for &beta in &SWEEP_BETAS {
        let trained;
        let run = if beta == 0.0 {
            &rolls.runs[0]
        } else if beta == presets::PAPER_POISON_BETA {
            &rolls.runs[1]
        } else {
            let mut config = presets::swiss_roll_poisoned(sweep_steps(scale));
            if let Some(p) = config.train.poison.as_mut() {
                p.weight = genviz_train::PoisonWeight::Beta {
                    beta,
                    count: Some(presets::PAPER_POISON_POINTS),
                };
            }
            let sub = dir.join(format!("swissroll-beta-{beta}"));
            let label = format!("swiss roll beta {beta}");
            trained = experiment::run(&config, &sub, "paper", &label, bars)?;
            &trained
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
        figure: "6",
        quantity: format!(
            "gap at beta {:?}: {:?}",
            SWEEP_BETAS,
            gaps.iter()
                .map(|g| (g * 1000.0).round() / 1000.0)
                .collect::<Vec<_>>()
        ),
        measured: gaps.last().copied().unwrap_or(0.0) - gaps[0],
        reference: None,
        source: "",
        criterion: format!("grows with beta (each step >= -{GAP_TOLERANCE})"),
        pass: gaps.windows(2).all(|w| w[1] >= w[0] - GAP_TOLERANCE),
    };
    Ok((check, rows.into_iter().map(|r| (r.0, r.1)).collect()))
}

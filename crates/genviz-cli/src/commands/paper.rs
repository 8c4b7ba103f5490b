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
/// Fig 3a/b of Huang et al. (2019): fig3_decision_boundaries.png; their landscapes (Fig 3c/d)
/// and basins (Fig 5). summary.json holds every number; results.md and results.json put them
/// beside the paper's values with pass/fail.
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

/// Poison weights of the Fig 6 sweep; 0 is the clean run and 0.5 the poisoned one.
const SWEEP_BETAS: [f64; 4] = [0.0, 0.1, 0.25, 0.5];
/// The intermediate betas train for a third of the poisoned run's steps: their gaps settle
/// early (measured: beta 0.1 reaches 75% at 60,000 steps) and `genviz paper` stays fast.
const SWEEP_STEP_DIVISOR: u64 = 3;
/// How much the gap may dip between neighbouring betas and still count as growing (one test
/// point in 200 is 0.005).
const GAP_TOLERANCE: f64 = 0.01;

/// Trains the intermediate poison weights of Fig 6 and draws the sweep: decision boundaries
/// titled with their gaps, and gap against beta. Returns `(beta, metrics)` for every beta.
fn gap_sweep(
    dir: &std::path::Path,
    args: &PaperArgs,
    results: &[experiment::RunResult],
    bars: &progress::Bars,
) -> Result<Vec<(f64, genviz_train::FinalMetrics)>> {
    let mut rows: Vec<(
        f64,
        genviz_train::FinalMetrics,
        genviz_render::BoundaryPanel,
    )> = Vec::new();
    let e = figures::SWISS_ROLL_EXTENT;
    let title = |beta: f64, m: &genviz_train::FinalMetrics| {
        format!(
            "beta {beta}: gap {:.1}% (train {:.1}%, test {:.1}%)",
            100.0 * (m.train_acc - m.test_acc),
            100.0 * m.train_acc,
            100.0 * m.test_acc
        )
    };
    for &beta in &SWEEP_BETAS {
        let r = if beta == 0.0 {
            &results[0]
        } else if beta == presets::PAPER_POISON_BETA {
            &results[1]
        } else {
            let mut config = presets::swiss_roll_poisoned(args.poisoned_steps / SWEEP_STEP_DIVISOR);
            if let Some(p) = config.train.poison.as_mut() {
                p.weight = genviz_train::PoisonWeight::Beta {
                    beta,
                    count: Some(presets::PAPER_POISON_POINTS),
                };
            }
            let sub = dir.join(format!("swissroll-beta-{beta}"));
            let run = experiment::run(
                &config,
                &sub,
                "paper",
                &format!("swiss roll beta {beta}"),
                bars,
            )?;
            let m = run.final_metrics;
            let panel = figures::boundary_panel(
                &run.net,
                &run.theta,
                &run.train,
                (-e, e, -e, e),
                title(beta, &m),
            );
            rows.push((beta, m, panel));
            continue;
        };
        let m = r.final_metrics;
        let panel =
            figures::boundary_panel(&r.net, &r.theta, &r.train, (-e, e, -e, e), title(beta, &m));
        rows.push((beta, m, panel));
    }
    let panels: Vec<_> = rows.iter().map(|r| r.2.clone()).collect();
    genviz_render::draw_decision_boundaries(&dir.join("fig6_boundaries.png"), &panels)?;
    let betas: Vec<f64> = rows.iter().map(|r| r.0).collect();
    let series =
        |label: &str, f: &dyn Fn(&genviz_train::FinalMetrics) -> f64| genviz_render::Series1d {
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
    Ok(rows.into_iter().map(|r| (r.0, r.1)).collect())
}

/// Rays per minimum in the paper's basin comparison (Fig 5).
const BASIN_RAYS: usize = 200;

/// Side of the paper's landscape grids (Li et al.'s default 51).
const LANDSCAPE_POINTS: usize = 51;
/// Half-width of the landscape grids, in filter-normalised units. Li et al.'s default is 1,
/// but the swiss-roll nets are small: the clean basin (loss < 5) has a radius of about 0.3 and
/// the poisoned one about 0.01, so +-1 shows little but the ceiling.
const LANDSCAPE_SPAN: f64 = 0.25;
/// Loss at which the 3-D landscapes are clipped (drawn as log10 heights).
const LANDSCAPE_ZMAX: f64 = 30.0;

/// The 2-D filter-normalised landscape around one minimum (Fig 3c/d), saved as
/// `<dir>/surface.npz` with its `directions.safetensors`, and returned for drawing.
fn landscape(
    net: &genviz_mlp::Mlp,
    theta: &[f32],
    train: &genviz_core::Dataset,
    test: &genviz_core::Dataset,
    dir: &std::path::Path,
    label: &str,
) -> Result<genviz_render::SurfaceGrid> {
    use genviz_core::{rng, Network, Params};
    use genviz_landscape::direction::random_direction;
    use genviz_landscape::{Axis, BiasPolicy, Normalization, Plane, Shard, Spacing, Surface};
    let center = Params::from_vec(net.layout().clone(), theta.to_vec())?;
    let seed = presets::SWISS_ROLL_SEED;
    let dir_x = random_direction(
        &center,
        Normalization::Filter,
        BiasPolicy::Ignore,
        &mut rng::stream(seed, "direction-x"),
    );
    let dir_y = random_direction(
        &center,
        Normalization::Filter,
        BiasPolicy::Ignore,
        &mut rng::stream(seed, "direction-y"),
    );
    let plane = Plane::new(center, dir_x, Some(dir_y))?;
    let coords = Axis {
        min: -LANDSCAPE_SPAN,
        max: LANDSCAPE_SPAN,
        num: LANDSCAPE_POINTS,
    }
    .coords(Spacing::Linear);
    let fingerprint = plane.fingerprint(&coords, &coords, &[train, test]);
    let mut surface = Surface::new(coords.clone(), coords, fingerprint)?;
    surface.fill(net, &plane, train, test, Shard::ALL, &mut |_, _| Ok(()))?;
    surface.save(&dir.join("surface.npz"))?;
    Ok(genviz_render::SurfaceGrid {
        xs: surface.xs.clone(),
        ys: surface.ys.clone(),
        values: surface.train_loss.clone(),
        title: format!("{label} minimum: train loss"),
        value_label: "train loss".into(),
    })
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

    let landscapes = jobs
        .iter()
        .zip(&results)
        .map(|((label, _, sub), r)| {
            landscape(
                &r.net,
                &r.theta,
                &r.train,
                &r.test,
                &sub.join("landscape"),
                label,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let panels_3d: Vec<_> = landscapes
        .iter()
        .map(|g| crate::commands::landscape::height_panel(g.clone(), LANDSCAPE_ZMAX, true))
        .collect();
    genviz_render::draw_surface_3d(&dir.join("fig3_landscapes_3d.png"), &panels_3d)?;
    let style = genviz_render::ContourStyle {
        vmin: 0.1,
        vmax: 30.0,
        vlevel: 0.125,
        log: true,
    };
    let contour_panels: Vec<_> = landscapes
        .iter()
        .map(|g| {
            (
                g.clone(),
                style,
                Vec::new(),
                vec![genviz_render::Marker {
                    x: 0.0,
                    y: 0.0,
                    label: "minimum".into(),
                }],
            )
        })
        .collect();
    genviz_render::draw_contour(&dir.join("fig3_landscapes_contour.png"), &contour_panels)?;

    // Fig 5: basins of both minima along the same random rays.
    let rays = genviz_landscape::basin::RayConfig {
        rays: BASIN_RAYS,
        threshold: genviz_landscape::basin::DEFAULT_THRESHOLD,
        mode: genviz_landscape::basin::RadiusMode::Exact {
            max_radius: 2.0,
            tolerance: 1e-3,
            bracket: genviz_landscape::basin::DEFAULT_BRACKET,
        },
        seed: presets::SWISS_ROLL_SEED,
        norm: genviz_landscape::Normalization::Filter,
        bias: genviz_landscape::BiasPolicy::Ignore,
    };
    let basins = jobs
        .iter()
        .zip(&results)
        .map(|((_, _, sub), r)| {
            let center = genviz_core::Params::from_vec(
                genviz_core::Network::layout(&r.net).clone(),
                r.theta.clone(),
            )?;
            crate::commands::basin::measure(&r.net, &center, &r.train, &rays, sub)
        })
        .collect::<Result<Vec<_>>>()?;
    let groups: Vec<_> = jobs
        .iter()
        .zip(&basins)
        .map(|((label, _, _), b)| genviz_render::RadiusGroup {
            label: label.to_string(),
            radii: b.basin.radii.clone(),
        })
        .collect();
    genviz_render::draw_radius_histograms(
        &dir.join("fig5_radii.png"),
        "basin radii along 200 random filter-normalised rays (loss threshold 1)",
        &groups,
        "radius (filter-normalised units)",
    )?;
    let volume_bars: Vec<_> = jobs
        .iter()
        .zip(&basins)
        .map(|((label, _, _), b)| genviz_render::VolumeBar {
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
    let basin_json = json!({
        "clean": crate::commands::basin::summary(&basins[0]),
        "poisoned": crate::commands::basin::summary(&basins[1]),
        "log10_volume_gap": clean_v.log10_volume - poisoned_v.log10_volume,
        // Conservative: the gap between the intervals' far ends and near ends.
        "log10_volume_gap_interval": [clean_v.low - poisoned_v.high, clean_v.high - poisoned_v.low],
        "median_radius_ratio": basins[0].basin.median() / basins[1].basin.median(),
        "intervals_overlap": poisoned_v.high >= clean_v.low,
    });

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
        &json!({
            "version": genviz_core::VERSION,
            "figures": [
                "fig3_decision_boundaries.png",
                "fig3_landscapes_3d.png",
                "fig3_landscapes_contour.png",
                "fig5_radii.png",
                "fig5_volumes.png",
                "fig6_boundaries.png",
                "fig6_gap.png"
            ],
            "runs": runs,
            "basins": basin_json,
        }),
    )?;
    // Fig 6: the generalization gap as the poison weight grows.
    let sweep = gap_sweep(&dir, &args, &results, &bars)?;
    let gaps: Vec<f64> = sweep
        .iter()
        .map(|(_, m)| m.train_acc - m.test_acc)
        .collect();
    let gap_grows = gaps.windows(2).all(|w| w[1] >= w[0] - GAP_TOLERANCE);

    let (clean, poisoned) = (results[0].final_metrics, results[1].final_metrics);
    use crate::results::Check;
    let checks = vec![
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
    let mut checks = checks;
    checks.push(crate::results::Check {
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
        pass: gap_grows,
    });
    let failed = crate::results::write(&dir, &checks)?;
    for ((label, _, _), r) in jobs.iter().zip(&results) {
        let m = r.final_metrics;
        println!(
            "{label:>9}: train {:5.1}%  test {:5.1}%",
            100.0 * m.train_acc,
            100.0 * m.test_acc
        );
    }
    for (label, b) in ["clean", "poisoned"].iter().zip(&basins) {
        println!(
            "{label:>9}: median basin radius {:.4}, log10 volume {:.1} [{:.1}, {:.1}]",
            b.basin.median(),
            b.volume.log10_volume,
            b.volume.low,
            b.volume.high
        );
    }
    println!(
        "results: {} of {} checks pass ({})",
        checks.len() - failed,
        checks.len(),
        dir.join("results.md").display()
    );
    println!("figures: {}", dir.display());
    Ok(())
}

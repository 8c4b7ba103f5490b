//! The paper's image experiment at CPU scale: a small CNN on Fashion-MNIST trained clean and
//! poisoned (SPEC 1.4), and the filter-normalised 2-D landscape around each minimum on one
//! colour scale, the image counterpart of Fig 3's swiss-roll pair.

use super::checks::Check;
use super::linear_vs_net::{self, LinearVsNetConfig};
use super::optimizers::{self, OptimizersConfig, OptimizersOptions};
use super::{Outcome, Scale};
use crate::config::ExperimentConfig;
use crate::presets;
use crate::progress::Progress;
use anyhow::Result;
use genviz_data::ImageSource;
use genviz_render::SurfaceGrid;
use genviz_train::{FinalMetrics, TableOptimizer};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::Path;

/// The two runs, in the order of every figure and table.
pub const LABELS: [&str; 2] = ["clean", "poisoned"];

/// Loss at which the image landscapes are clipped.
pub const IMAGE_LANDSCAPE_ZMAX: f64 = 30.0;

/// The scale of the image experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageScale {
    /// Steps of the clean CNN (batch 128 of 60,000 images).
    pub clean_steps: u64,
    /// Steps of the poisoned CNN (batch 64 of its training images, plus 64 poison images).
    pub poisoned_steps: u64,
    /// Training images of the poisoned CNN; the rest of the official training set is its
    /// poison pool.
    pub poisoned_train: usize,
    /// Where the IDX files are (default: the usual places, see `genviz train --data-dir`).
    pub data_dir: Option<std::path::PathBuf>,
    /// Training images of Fig 2 and the optimizer table (`None`: each command's default).
    pub small_train: Option<usize>,
    /// Steps of both Fig 2 models (`None`: `genviz linear-vs-net`'s defaults).
    pub fig2_steps: Option<u64>,
    /// Steps of each optimizer-table run (`None`: `genviz optimizers`' default).
    pub table_steps: Option<u64>,
    /// Only these optimizers (`None`: all eleven).
    pub table_only: Option<Vec<TableOptimizer>>,
    /// Points per side of each landscape.
    pub surface_points: usize,
    /// Half-width of each landscape in filter-normalised units (Li et al.: 1).
    pub surface_span: f64,
    /// Training images each landscape point is evaluated on (a seeded subset).
    pub eval_train: usize,
    /// Test images each landscape point is evaluated on (a seeded subset).
    pub eval_test: usize,
}

impl ImageScale {
    /// The measured CPU scale: about 15 minutes per network and 10 per landscape on 2 cores.
    pub fn cpu() -> Self {
        ImageScale {
            clean_steps: 1000,
            poisoned_steps: 1200,
            poisoned_train: presets::FASHION_MNIST_POISONED_TRAIN,
            data_dir: None,
            small_train: None,
            fig2_steps: None,
            table_steps: None,
            table_only: None,
            surface_points: 11,
            surface_span: 1.0,
            eval_train: 1000,
            eval_test: 1000,
        }
    }
}

/// One trained image network and its landscape.
pub struct ImageRun {
    /// `clean` or `poisoned`.
    pub label: &'static str,
    /// Final accuracies and losses on the full training and test sets.
    pub final_metrics: FinalMetrics,
    /// The train-loss landscape around the minimum.
    pub landscape: SurfaceGrid,
}

/// The two configurations, `[clean, poisoned]`.
pub fn configs(scale: &ImageScale) -> [ExperimentConfig; 2] {
    let mut runs = [
        presets::fashion_mnist_clean(scale.clean_steps),
        presets::fashion_mnist_poisoned(scale.poisoned_steps),
    ];
    for c in &mut runs {
        if let crate::config::DataConfig::Images { dir, n_train, .. } = &mut c.data {
            dir.clone_from(&scale.data_dir);
            if n_train.is_some() {
                *n_train = Some(scale.poisoned_train);
            }
        }
    }
    runs
}

/// Trains both CNNs, draws their landscapes (`images_landscapes_3d.png`,
/// `images_landscapes_contour.png`) and adds the checks of the image experiment.
pub(crate) fn images(
    dir: &Path,
    scale: &Scale,
    progress: &dyn Progress,
    out: &mut Outcome,
) -> Result<()> {
    let s = &scale.images;
    let mut runs = Vec::with_capacity(2);
    for (label, config) in LABELS.iter().zip(configs(s)) {
        let sub = dir.join(format!("fmnist-{label}"));
        let m =
            crate::train::run_or_reuse(&config, &sub, &format!("Fashion-MNIST {label}"), progress)?;
        progress.note(&format!(
            "Fashion-MNIST {label}: train {:.1}%, test {:.1}%",
            100.0 * m.train_acc,
            100.0 * m.test_acc
        ));
        let landscape = super::swissroll::landscape_around(
            &sub,
            presets::FASHION_MNIST_SEED,
            s.surface_span,
            s.surface_points,
            (Some(s.eval_train), Some(s.eval_test)),
            format!("Fashion-MNIST CNN, {label} minimum: train loss"),
            progress,
        )?;
        runs.push(ImageRun {
            label,
            final_metrics: m,
            landscape,
        });
    }
    let grids: Vec<SurfaceGrid> = runs.iter().map(|r| r.landscape.clone()).collect();
    genviz_render::draw_landscapes(dir, "images_landscapes", &grids, 0.01, IMAGE_LANDSCAPE_ZMAX)?;
    out.figures
        .extend(["images_landscapes_3d.png", "images_landscapes_contour.png"].map(String::from));

    let extra = fig2_and_table1(dir, s, progress)?;
    let fig2 = &extra["fig2"];
    out.figures
        .extend(["fig2/fig2_linear_vs_net.png", "optimizers/optimizers.png"].map(String::from));
    let gap = fig2["test_acc_gap"].as_f64().unwrap_or(f64::NAN);
    out.checks.push(
        Check::at_least(
            "2",
            "net test accuracy minus the linear model's (both fit the same training images)",
            gap,
            0.0,
        )
        .citing(
            None,
            "paper: the net generalizes, the linear model does not",
        ),
    );

    let [clean, poisoned] = [runs[0].final_metrics, runs[1].final_metrics];
    out.checks.extend([
        Check::at_least(
            "img",
            "clean Fashion-MNIST CNN test accuracy",
            clean.test_acc,
            0.88,
        ),
        Check::at_least(
            "img",
            "poisoned Fashion-MNIST CNN train accuracy",
            poisoned.train_acc,
            0.98,
        ),
        Check::at_least(
            "img",
            "clean minus poisoned test accuracy",
            clean.test_acc - poisoned.test_acc,
            0.30,
        ),
    ]);
    out.summary.insert(
        "images".into(),
        json!({
            "fig2": extra["fig2"],
            "optimizers": extra["optimizers"],
            "data": "fashion-mnist",
            "model": "cnn",
            "scale": s,
            "runs": runs.iter().map(|r| json!({
                "name": r.label,
                "folder": format!("fmnist-{}", r.label),
                "final": r.final_metrics,
                "landscape": format!("fmnist-{}/landscape/surface.npz", r.label),
                "landscape_min_train_loss": r.landscape.values.iter().copied().fold(f64::INFINITY, f64::min),
            })).collect::<Vec<_>>(),
        }),
    );
    out.images = runs;
    Ok(())
}

/// Fig 2 ([`linear_vs_net::run`] into `dir/fig2`) and the optimizer table
/// ([`optimizers::run`] into `dir/optimizers`) at their CPU-scale defaults with the scale's
/// overrides; both resume in a rerun. Returns both records' results, as
/// `{"fig2": ..., "optimizers": ...}`.
fn fig2_and_table1(
    dir: &Path,
    s: &ImageScale,
    progress: &dyn Progress,
) -> Result<serde_json::Value> {
    let mut fig2 = LinearVsNetConfig::defaults(ImageSource::FashionMnist);
    fig2.data_dir.clone_from(&s.data_dir);
    if let Some(n) = s.small_train {
        fig2.n_train = n;
    }
    if let Some(n) = s.fig2_steps {
        (fig2.net_steps, fig2.linear_steps) = (n, n);
    }
    let fig2 = linear_vs_net::run(&fig2, &dir.join("fig2"), progress)?.comparison;

    let mut table = OptimizersOptions {
        data_dir: s.data_dir.clone(),
        steps: s.table_steps,
        only: s.table_only.clone(),
        ..OptimizersOptions::default()
    };
    if let Some(n) = s.small_train {
        table.n_train = n;
    }
    let table_run = optimizers::run(
        &OptimizersConfig::new(&table)?,
        &dir.join("optimizers"),
        progress,
    )?;
    let table: serde_json::Value =
        genviz_core::io::read_json(&dir.join("optimizers").join("optimizers.json"))?;
    drop(table_run);
    Ok(json!({
        "fig2": fig2,
        "optimizers": table,
    }))
}

//! The paper's image experiment at CPU scale: a small CNN on Fashion-MNIST trained clean and
//! poisoned (SPEC 1.4), and the filter-normalised 2-D landscape around each minimum on one
//! colour scale, the image counterpart of Fig 3's swiss-roll pair.

use super::{Outcome, Scale};
use crate::config::ExperimentConfig;
use crate::results::Check;
use crate::{conv_run, model, presets, progress};
use anyhow::{Context, Result};
use genviz_core::{rng, Dataset, Network};
use genviz_landscape::direction::random_direction;
use genviz_landscape::{Axis, BiasPolicy, Normalization, Plane, Shard, Spacing, Surface};
use genviz_render::SurfaceGrid;
use genviz_train::FinalMetrics;
use serde::Serialize;
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

/// The two runs, in the order of every figure and table.
pub const LABELS: [&str; 2] = ["clean", "poisoned"];

/// Loss at which the image landscapes are clipped.
pub const IMAGE_LANDSCAPE_ZMAX: f64 = 30.0;

/// The scale of the image experiment.
#[derive(Clone, Debug, Serialize)]
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
    /// Only these optimizers (`genviz optimizers --only`; `None`: all eleven).
    pub table_only: Option<String>,
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

/// Trains `config` into `dir`, or reads the result of an earlier, finished run of the same
/// configuration (a full evaluation of 70,000 images costs minutes on a CPU).
fn train_or_reuse(
    config: &ExperimentConfig,
    dir: &Path,
    label: &str,
    bars: &progress::Bars,
) -> Result<FinalMetrics> {
    let record = dir.join("run.json");
    if dir.join("model.safetensors").exists() && record.exists() {
        let text = std::fs::read_to_string(&record)
            .with_context(|| format!("reading {}", record.display()))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{}: invalid JSON", record.display()))?;
        if value["config"] == json!(config) {
            if let Ok(m) = serde_json::from_value(value["final"].clone()) {
                return Ok(m);
            }
        }
    }
    let arch = config
        .model
        .arch
        .as_ref()
        .context("the image runs use a conv net")?;
    let target = conv_run::RunTarget {
        dir,
        command: "paper",
        label: &format!("Fashion-MNIST {label}"),
    };
    Ok(conv_run::run(config, arch, conv_run::Device::Cpu, &target, bars)?.final_metrics)
}

/// `n` examples of `data`, chosen by a seeded shuffle and kept in their original order.
fn subset(data: Dataset, n: usize, purpose: &str) -> Dataset {
    use rand::seq::SliceRandom as _;
    if n >= data.len() {
        return data;
    }
    let mut order: Vec<usize> = (0..data.len()).collect();
    order.shuffle(&mut rng::stream(presets::FASHION_MNIST_SEED, purpose));
    order.truncate(n);
    order.sort_unstable();
    data.select(&order)
}

/// The 2-D filter-normalised landscape around the model in `dir`, saved (and resumed) as
/// `dir/landscape/surface.npz`.
fn landscape(dir: &Path, label: &str, scale: &ImageScale) -> Result<SurfaceGrid> {
    let m = model::load(dir)?;
    let (train, test) = model::data_for(&m, None, 0)?;
    let train = subset(train, scale.eval_train, "landscape-train");
    let test = subset(test, scale.eval_test, "landscape-test");
    let direction = |purpose: &str| {
        random_direction(
            &m.params,
            Normalization::Filter,
            BiasPolicy::Ignore,
            &mut rng::stream(presets::FASHION_MNIST_SEED, purpose),
        )
    };
    let plane = Plane::new(
        m.params.clone(),
        direction("direction-x"),
        Some(direction("direction-y")),
    )?;
    let coords = Axis {
        min: -scale.surface_span,
        max: scale.surface_span,
        num: scale.surface_points,
    }
    .coords(Spacing::Linear);
    let fingerprint = plane.fingerprint(&coords, &coords, &[&train, &test]);
    let out = dir.join("landscape");
    std::fs::create_dir_all(&out)?;
    let file = out.join("surface.npz");
    let mut surface = match Surface::load(&file) {
        Ok(s) if s.fingerprint == fingerprint => s,
        _ => Surface::new(coords.clone(), coords, fingerprint)?,
    };
    let start = Instant::now();
    let mut last_save = Instant::now();
    let total = surface.len();
    let todo = total - surface.filled();
    let net: &dyn Network = &m.net;
    surface.fill(net, &plane, &train, &test, Shard::ALL, &mut |s, done| {
        if last_save.elapsed() > Duration::from_secs(10) {
            s.save(&file)?;
            last_save = Instant::now();
            eprintln!(
                "Fashion-MNIST {label} landscape: {done} of {total} points ({:.0} s)",
                start.elapsed().as_secs_f64()
            );
        }
        Ok(())
    })?;
    surface.save(&file)?;
    // A reused landscape keeps the record of the run that computed it.
    if todo > 0 {
        genviz_core::io::write_json(
            &out.join("run.json"),
            &json!({
                "command": "paper images landscape",
                "version": genviz_core::VERSION,
                "norm": "filter",
                "bias": "ignore",
                "grid": { "nx": surface.xs.len(), "ny": surface.ys.len() },
                "eval_examples": { "train": train.len(), "test": test.len() },
                "num_params": net.layout().len(),
                "points_computed": todo,
                "seconds": start.elapsed().as_secs_f64(),
            }),
        )?;
    }
    Ok(SurfaceGrid {
        xs: surface.xs.clone(),
        ys: surface.ys.clone(),
        values: surface.train_loss.clone(),
        title: format!("Fashion-MNIST CNN, {label} minimum: train loss"),
        value_label: "train loss".into(),
    })
}

/// Trains both CNNs, draws their landscapes (`images_landscapes_3d.png`,
/// `images_landscapes_contour.png`) and adds the checks of the image experiment.
pub fn images(dir: &Path, scale: &Scale, bars: &progress::Bars, out: &mut Outcome) -> Result<()> {
    let s = &scale.images;
    let mut runs = Vec::with_capacity(2);
    for (label, config) in LABELS.iter().zip(configs(s)) {
        let sub = dir.join(format!("fmnist-{label}"));
        let m = train_or_reuse(&config, &sub, label, bars)?;
        println!(
            "Fashion-MNIST {label}: train {:.1}%, test {:.1}%",
            100.0 * m.train_acc,
            100.0 * m.test_acc
        );
        let landscape = landscape(&sub, label, s)?;
        runs.push(ImageRun {
            label,
            final_metrics: m,
            landscape,
        });
    }
    let grids: Vec<SurfaceGrid> = runs.iter().map(|r| r.landscape.clone()).collect();
    super::swissroll::draw_landscapes(
        dir,
        "images_landscapes",
        &grids,
        0.01,
        IMAGE_LANDSCAPE_ZMAX,
    )?;
    out.figures
        .extend(["images_landscapes_3d.png", "images_landscapes_contour.png"].map(String::from));

    let extra = fig2_and_table1(dir, s)?;
    let fig2 = &extra["fig2"];
    out.figures
        .extend(["fig2/fig2_linear_vs_net.png", "optimizers/optimizers.png"].map(String::from));
    let gap = fig2["test_acc_gap"].as_f64().unwrap_or(f64::NAN);
    out.checks.push(Check::at_least(
        "2",
        "net test accuracy minus the linear model's (both fit the same training images)",
        gap,
        0.0,
        None,
        "paper: the net generalizes, the linear model does not",
    ));

    let [clean, poisoned] = [runs[0].final_metrics, runs[1].final_metrics];
    out.checks.extend([
        Check::at_least(
            "img",
            "clean Fashion-MNIST CNN test accuracy",
            clean.test_acc,
            0.88,
            None,
            "",
        ),
        Check::at_least(
            "img",
            "poisoned Fashion-MNIST CNN train accuracy",
            poisoned.train_acc,
            0.98,
            None,
            "",
        ),
        Check::at_least(
            "img",
            "clean minus poisoned test accuracy",
            clean.test_acc - poisoned.test_acc,
            0.30,
            None,
            "",
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

/// Parses `args` as the flags of one of genviz's commands, with its defaults for the rest.
fn command_args<T: clap::Args>(name: &str, args: Vec<String>) -> Result<T> {
    #[derive(clap::Parser)]
    struct Wrapped<T: clap::Args> {
        #[command(flatten)]
        inner: T,
    }
    use clap::Parser as _;
    let argv = std::iter::once(name.to_string()).chain(args);
    Ok(Wrapped::<T>::try_parse_from(argv)
        .with_context(|| format!("the paper's `genviz {name}` flags"))?
        .inner)
}

/// Fig 2 (`genviz linear-vs-net` into `dir/fig2`) and the optimizer table (`genviz
/// optimizers` into `dir/optimizers`) at their CPU-scale defaults; both resume in a rerun.
/// Returns both commands' JSON records, as `{"fig2": ..., "optimizers": ...}`.
fn fig2_and_table1(dir: &Path, s: &ImageScale) -> Result<serde_json::Value> {
    let path = |p: &Path| p.display().to_string();
    let mut common = Vec::new();
    if let Some(d) = &s.data_dir {
        common.extend(["--data-dir".to_string(), path(d)]);
    }
    if let Some(n) = s.small_train {
        common.extend(["--n-train".to_string(), n.to_string()]);
    }
    let fig2_dir = dir.join("fig2");
    let mut fig2 = vec!["--out".to_string(), path(&fig2_dir)];
    fig2.extend(common.iter().cloned());
    if let Some(n) = s.fig2_steps {
        for flag in ["--net-steps", "--linear-steps"] {
            fig2.extend([flag.to_string(), n.to_string()]);
        }
    }
    crate::commands::linear_vs_net::run(command_args("linear-vs-net", fig2)?)?;

    let mut table = vec!["--out".to_string(), path(&dir.join("optimizers"))];
    table.extend(common);
    if let Some(n) = s.table_steps {
        table.extend(["--steps".to_string(), n.to_string()]);
    }
    if let Some(only) = &s.table_only {
        table.extend(["--only".to_string(), only.clone()]);
    }
    crate::commands::optimizers::run(command_args("optimizers", table)?)?;

    Ok(json!({
        "fig2": read_json(&fig2_dir.join("linear_vs_net.json"))?,
        "optimizers": read_json(&dir.join("optimizers").join("optimizers.json"))?,
    }))
}

fn read_json(file: &Path) -> Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: invalid JSON", file.display()))
}

//! A low-loss curve between two minima (Garipov et al. 2018), against the straight line:
//! `genviz connect`.

use crate::landscape::{self, marker, Extras, GridSettings, PlaneConfig, PlotStyle};
use crate::model::{self, DataSource};
use crate::progress::Progress;
use crate::record::{DataRecord, Job, RunRecord};
use anyhow::{bail, Context, Result};
use genviz_core::io::{write_npz, NpyArray};
use genviz_core::{Dataset, Layout, Network, Params};
use genviz_render::{PathOverlay, Series1d};
use genviz_train::curve::{train_curve, Curve, CurveKind, CurveTraining};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// A curve to train between two models, and how to show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectConfig {
    /// The first endpoint (a run folder or `.safetensors`).
    pub model1: PathBuf,
    /// The second endpoint.
    pub model2: PathBuf,
    /// Bezier or polychain.
    pub curve: CurveKind,
    /// Bends, endpoints included (Garipov et al.: 3).
    pub bends: usize,
    /// How the curve is trained (steps, rate, optimizer, decay, clipping, seed of the
    /// sampled t).
    pub training: CurveTraining,
    /// Points along the curve at which it is evaluated (Garipov et al.: 61).
    pub points: usize,
    /// Points per side of the plane through the endpoints and the middle bend (Garipov et
    /// al.: 21; below 2, or fewer than 3 bends, skips it).
    pub grid: usize,
    /// The data.
    pub data: DataSource,
}

/// What a curve run found: `results` of its `run.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectResults {
    /// Mean training loss of the two endpoints.
    pub endpoint_train_loss_mean: f64,
    /// Highest training loss along the straight line.
    pub line_max_train_loss: f64,
    /// The line's barrier: its highest loss above the endpoints' mean.
    pub line_barrier: f64,
    /// Mean training loss along the line.
    pub line_mean_train_loss: f64,
    /// Highest training loss along the curve.
    pub curve_max_train_loss: f64,
    /// Mean training loss along the curve.
    pub curve_mean_train_loss: f64,
    /// The curve's highest loss over the endpoints' mean.
    pub curve_max_over_endpoints: f64,
    /// Highest test error along the curve.
    pub curve_max_test_error: f64,
    /// Highest test error along the line.
    pub line_max_test_error: f64,
    /// Length of the curve (sum of its segments between evaluated points).
    pub curve_length: f64,
    /// Length of the line.
    pub line_length: f64,
}

/// A finished curve run.
pub struct ConnectRun {
    /// The numbers.
    pub results: ConnectResults,
    /// What `run.json` says.
    pub record: RunRecord,
}

/// Loss and error along a path at `ts`.
struct Along {
    train_loss: Vec<f64>,
    train_err: Vec<f64>,
    test_loss: Vec<f64>,
    test_err: Vec<f64>,
    lengths: Vec<f64>,
}

fn along(net: &dyn Network, curve: &Curve, ts: &[f64], train: &Dataset, test: &Dataset) -> Along {
    let points: Vec<Vec<f32>> = ts.iter().map(|&t| curve.point(t)).collect();
    let refs: Vec<&[f32]> = points.iter().map(|p| p.as_slice()).collect();
    let tr = net.evaluate(&refs, train);
    let te = net.evaluate(&refs, test);
    let lengths = points
        .windows(2)
        .map(|w| {
            w[0].iter()
                .zip(&w[1])
                .map(|(a, b)| f64::from(a - b).powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    Along {
        train_loss: tr.iter().map(|e| e.loss).collect(),
        train_err: tr.iter().map(|e| 1.0 - e.accuracy).collect(),
        test_loss: te.iter().map(|e| e.loss).collect(),
        test_err: te.iter().map(|e| 1.0 - e.accuracy).collect(),
        lengths,
    }
}

fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Runs [`ConnectConfig`] into `dir`: `curve.npz` (t, train/test loss and error along the
/// curve and along the line, segment lengths), `curve.safetensors` (the bends,
/// `bend<k>.<tensor>`), `connect_path.png`, `plane/` (the loss over the plane through the
/// endpoints and the middle bend, the curve drawn on it; the bend itself as
/// `plane/bend.safetensors`), and `run.json`.
pub fn run(config: &ConnectConfig, dir: &Path, progress: &dyn Progress) -> Result<ConnectRun> {
    if config.points < 2 {
        bail!("a curve needs at least 2 points to evaluate");
    }
    let a = model::load(&config.model1)?;
    let b = model::load_like(&config.model2, &a)?;
    let (train, test) = config.data.load(&a)?;
    crate::run_dir::create(dir)?;
    let ts: Vec<f64> = (0..config.points)
        .map(|i| i as f64 / (config.points - 1) as f64)
        .collect();
    let line = Curve::linear(CurveKind::Polychain, a.params.values(), b.values(), 2)?;
    let linear = along(&a.net, &line, &ts, &train, &test);

    let mut curve = Curve::linear(config.curve, a.params.values(), b.values(), config.bends)?;
    let start = Instant::now();
    let stage = progress.stage("curve", config.training.steps, "steps");
    train_curve(&a.net, &mut curve, &train, &config.training).context("training the curve")?;
    let seconds = start.elapsed().as_secs_f64();
    stage.finish(&format!("{seconds:.1} s"));
    let on_curve = along(&a.net, &curve, &ts, &train, &test);

    let n = ts.len();
    let v = |x: &[f64]| NpyArray::F64(x.to_vec(), vec![x.len()]);
    write_npz(
        &dir.join("curve.npz"),
        &[
            ("ts", v(&ts)),
            ("tr_loss", v(&on_curve.train_loss)),
            ("tr_err", v(&on_curve.train_err)),
            ("te_loss", v(&on_curve.test_loss)),
            ("te_err", v(&on_curve.test_err)),
            ("dl", v(&on_curve.lengths)),
            ("linear_tr_loss", v(&linear.train_loss)),
            ("linear_tr_err", v(&linear.train_err)),
            ("linear_te_loss", v(&linear.test_loss)),
            ("linear_te_err", v(&linear.test_err)),
        ],
    )?;
    let layout = a.params.layout();
    let named = Layout::new((0..curve.bends.len()).flat_map(|k| {
        layout
            .tensors()
            .iter()
            .map(move |t| (format!("bend{k}.{}", t.name), t.shape.clone(), t.role))
    }))?;
    let values: Vec<f32> = curve.bends.iter().flatten().copied().collect();
    genviz_core::io::write_safetensors(
        &dir.join("curve.safetensors"),
        &Params::from_vec(Arc::new(named), values)?,
        Default::default(),
    )?;

    let series = |label: &str, x: &[f64]| Series1d {
        label: label.into(),
        values: x.to_vec(),
    };
    let acc = |e: &[f64]| e.iter().map(|x| 1.0 - x).collect::<Vec<_>>();
    genviz_render::draw_curve_1d(
        &dir.join("connect_path.png"),
        &format!(
            "{:?} curve ({} bends) vs straight line",
            config.curve, config.bends
        ),
        &ts,
        &[
            series("curve train loss", &on_curve.train_loss),
            series("line train loss", &linear.train_loss),
        ],
        &[
            series("curve test accuracy", &acc(&on_curve.test_err)),
            series("line test accuracy", &acc(&linear.test_err)),
        ],
        true,
    )?;

    let endpoints = 0.5 * (on_curve.train_loss[0] + on_curve.train_loss[n - 1]);
    let results = ConnectResults {
        endpoint_train_loss_mean: endpoints,
        line_max_train_loss: max(&linear.train_loss),
        line_barrier: max(&linear.train_loss) - endpoints,
        line_mean_train_loss: mean(&linear.train_loss),
        curve_max_train_loss: max(&on_curve.train_loss),
        curve_mean_train_loss: mean(&on_curve.train_loss),
        curve_max_over_endpoints: max(&on_curve.train_loss) / endpoints,
        curve_max_test_error: max(&on_curve.test_err),
        line_max_test_error: max(&linear.test_err),
        curve_length: on_curve.lengths.iter().sum::<f64>(),
        line_length: linear.lengths.iter().sum::<f64>(),
    };
    let record = RunRecord::new(
        Job::Connect(config.clone()),
        Some(config.training.seed),
        &results,
    )?
    .with_data(DataRecord::of(config.data.describe(&a), &train, &test))
    .with_timings([
        ("curve_s", seconds),
        ("total_s", start.elapsed().as_secs_f64()),
    ]);
    record.write(dir)?;

    if config.grid >= 2 && config.bends >= 3 {
        let plane_dir = dir.join("plane");
        crate::run_dir::create(&plane_dir)?;
        let bend_file = plane_dir.join("bend.safetensors");
        let middle = Params::from_vec(layout.clone(), curve.bends[config.bends / 2].clone())?;
        genviz_core::io::write_safetensors(&bend_file, &middle, a.net.metadata()?)?;
        let end = Params::from_vec(layout.clone(), b.values().to_vec())?;
        let (plane, _) = genviz_landscape::Plane::through(&a.params, &middle, &end)?;
        let path: Vec<(f64, f64)> = ts
            .iter()
            .map(|&t| plane.coords_of(&curve.point(t)))
            .collect();
        let plane_config = PlaneConfig {
            model0: config.model1.clone(),
            model1: bend_file,
            model2: config.model2.clone(),
            points: config.grid,
            margin: 0.2,
            grid: GridSettings {
                plot: PlotStyle::log_decades(),
                ..GridSettings::on(config.data.clone())
            },
        };
        let extras = Extras {
            markers: vec![
                marker(0.0, 0.0, "model 1"),
                marker(f64::NAN, 1.0, "bend"),
                marker(1.0, 0.0, "model 2"),
            ],
            overlays: vec![
                PathOverlay {
                    points: path,
                    label: "curve".into(),
                },
                PathOverlay {
                    points: vec![(0.0, 0.0), (1.0, 0.0)],
                    label: "straight line".into(),
                },
            ],
            details: serde_json::json!({ "curve_summary": results }),
        };
        landscape::plane_with(&plane_config, extras, &plane_dir, progress)?;
    }
    Ok(ConnectRun { results, record })
}

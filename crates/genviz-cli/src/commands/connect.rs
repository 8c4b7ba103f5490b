//! `genviz connect`: a low-loss curve between two minima (Garipov et al.).

use crate::commands::landscape::{garipov_plane, plane_coords, run_job, Common, Extras};
use crate::{model, run_dir};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use genviz_core::io::{write_npz, NpyArray};
use genviz_core::{Dataset, Layout, Network, Params};
use genviz_render::{Marker, PathOverlay, Series1d};
use genviz_train::curve::{train_curve, Curve, CurveKind, CurveTraining};
use genviz_train::OptimizerConfig;
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Clone, Copy, ValueEnum)]
enum OptimizerArg {
    Adam,
    Sgd,
}

/// Find a low-loss curve between two trained models and compare it with the straight line.
///
/// Writes curve.npz (t, train/test loss and error along the curve and along the line, segment
/// lengths), curve.safetensors (the bends, `bend<k>.<tensor>`), connect_path.png (loss and
/// accuracy along both), plane/ (the loss over the plane through the endpoints and the middle
/// bend, curve drawn on it), and run.json.
#[derive(Args)]
pub struct ConnectArgs {
    /// The first endpoint (a run folder or .safetensors).
    model1: PathBuf,
    /// The second endpoint.
    model2: PathBuf,
    /// bezier or polychain.
    #[arg(long, default_value = "bezier")]
    curve: CurveKind,
    /// Bends, endpoints included (Garipov et al.: 3).
    #[arg(long, default_value_t = 3)]
    bends: usize,
    /// Training steps, one sampled t each.
    #[arg(long, default_value_t = 20_000)]
    steps: u64,
    /// Learning rate (constant, then down to 1% as Garipov et al.).
    #[arg(long, default_value_t = 0.003)]
    lr: f64,
    /// Optimizer.
    #[arg(long, value_enum, default_value_t = OptimizerArg::Adam)]
    optimizer: OptimizerArg,
    /// L2 weight decay on w(t); keeps the bends from wandering far (Garipov et al. use the
    /// endpoints' decay).
    #[arg(long, default_value_t = 1e-4)]
    weight_decay: f64,
    /// Points along the curve (Garipov et al.: 61).
    #[arg(long, default_value_t = 61)]
    points: usize,
    /// Points per side of the plane (Garipov et al.: 21; 0 skips it).
    #[arg(long, default_value_t = 21)]
    grid: usize,
    /// Seed of the sampled t.
    #[arg(long, default_value_t = 0)]
    curve_seed: u64,
    #[command(flatten)]
    data: model::DataArgs,
    /// Output folder (default: a new folder under runs/).
    #[arg(long)]
    out: Option<PathBuf>,
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

/// Runs `genviz connect`.
pub fn connect(args: ConnectArgs) -> Result<()> {
    let a = model::load(&args.model1)?;
    let b = model::load_like(&args.model2, &a)?;
    let (train, test) = args.data.load(&a)?;
    if args.points < 2 {
        anyhow::bail!("--points must be at least 2");
    }
    let dir = run_dir::prepare(args.out.as_deref(), "connect")?;
    let ts: Vec<f64> = (0..args.points)
        .map(|i| i as f64 / (args.points - 1) as f64)
        .collect();
    let line = Curve::linear(CurveKind::Polychain, a.params.values(), b.values(), 2)?;
    let linear = along(&a.net, &line, &ts, &train, &test);

    let mut curve = Curve::linear(args.curve, a.params.values(), b.values(), args.bends)?;
    let config = CurveTraining {
        steps: args.steps,
        lr: args.lr,
        optimizer: match args.optimizer {
            OptimizerArg::Adam => OptimizerConfig::adam(),
            OptimizerArg::Sgd => OptimizerConfig::Sgd {
                momentum: 0.9,
                nesterov: false,
            },
        },
        weight_decay: args.weight_decay,
        clip_norm: Some(8.0),
        seed: args.curve_seed,
    };
    let start = std::time::Instant::now();
    train_curve(&a.net, &mut curve, &train, &config).context("training the curve")?;
    let seconds = start.elapsed().as_secs_f64();
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
            args.curve, args.bends
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
    let summary = json!({
        "endpoint_train_loss_mean": endpoints,
        "line_max_train_loss": max(&linear.train_loss),
        "line_barrier": max(&linear.train_loss) - endpoints,
        "line_mean_train_loss": mean(&linear.train_loss),
        "curve_max_train_loss": max(&on_curve.train_loss),
        "curve_mean_train_loss": mean(&on_curve.train_loss),
        "curve_max_over_endpoints": max(&on_curve.train_loss) / endpoints,
        "curve_max_test_error": max(&on_curve.test_err),
        "line_max_test_error": max(&linear.test_err),
        "curve_length": on_curve.lengths.iter().sum::<f64>(),
        "line_length": linear.lengths.iter().sum::<f64>(),
    });
    genviz_core::io::write_json(
        &dir.join("run.json"),
        &json!({
            "command": "connect",
            "version": genviz_core::VERSION,
            "models": [a.weights.display().to_string(), args.model2.display().to_string()],
            "curve": format!("{:?}", args.curve),
            "bends": args.bends,
            "training": config,
            "seconds": seconds,
            "summary": summary,
        }),
    )?;

    if args.grid >= 2 && args.bends >= 3 {
        let middle = Params::from_vec(layout.clone(), curve.bends[args.bends / 2].clone())?;
        let end = Params::from_vec(layout.clone(), b.values().to_vec())?;
        let (plane, along_x) = garipov_plane(&a.params, &middle, &end)?;
        let path: Vec<(f64, f64)> = ts
            .iter()
            .map(|&t| plane_coords(&plane, &curve.point(t)))
            .collect();
        let coords = genviz_landscape::Axis {
            min: -0.2,
            max: 1.2,
            num: args.grid,
        }
        .coords(genviz_landscape::Spacing::Linear);
        let extras = Extras {
            markers: vec![
                Marker {
                    x: 0.0,
                    y: 0.0,
                    label: "model 1".into(),
                },
                Marker {
                    x: along_x,
                    y: 1.0,
                    label: "bend".into(),
                },
                Marker {
                    x: 1.0,
                    y: 0.0,
                    label: "model 2".into(),
                },
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
            json: json!({ "curve_summary": summary }),
        };
        let data = args
            .data
            .data
            .clone()
            .or_else(|| a.data_file.as_ref().map(|p| p.display().to_string()));
        let common = Common::into_folder(data, args.data.seed, dir.join("plane"));
        run_job(
            "plane",
            &a,
            plane,
            coords.clone(),
            coords,
            &train,
            &test,
            &common,
            extras,
        )?;
    }
    println!(
        "{}: endpoints' train loss {:.4}; straight line max {:.4}; curve max {:.4} ({:.2}x the endpoints) after {:.1} s",
        dir.display(),
        endpoints,
        max(&linear.train_loss),
        max(&on_curve.train_loss),
        max(&on_curve.train_loss) / endpoints,
        seconds
    );
    Ok(())
}

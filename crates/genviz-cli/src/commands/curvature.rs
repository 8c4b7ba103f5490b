//! `genviz basin`, `hessian` and `connect`: how wide and how curved a minimum is, and how it
//! joins another.

use crate::args::{absolute, DataArgs};
use crate::progress::Terminal;
use anyhow::Result;
use clap::{Args, ValueEnum};
use genviz_experiments::basin::BasinConfig;
use genviz_experiments::connect::ConnectConfig;
use genviz_experiments::hessian::HessianConfig;
use genviz_experiments::run_dir;
use genviz_landscape::basin::{RadiusMode, RayConfig, DEFAULT_BRACKET, DEFAULT_THRESHOLD};
use genviz_landscape::{BiasPolicy, Normalization, Shard};
use genviz_train::curve::{CurveKind, CurveTraining};
use genviz_train::OptimizerConfig;
use std::path::PathBuf;

#[derive(Clone, Copy, ValueEnum)]
enum ModeArg {
    /// Bracket the first crossing, then bisect (default).
    Exact,
    /// gen-viz's power-5 samples, nearest to the threshold.
    GenViz,
}

/// Basin radii along random rays and the log-volume they imply.
#[derive(Args)]
pub struct BasinArgs {
    /// A run folder, a .safetensors file or an .onnx file (with --data).
    model: PathBuf,
    /// Number of random filter-normalised rays (each gives two radii).
    #[arg(long, default_value_t = 200)]
    rays: usize,
    /// Training loss that bounds the basin (the authors: cross-entropy 1).
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    threshold: f64,
    /// How radii are found.
    #[arg(long, value_enum, default_value_t = ModeArg::Exact)]
    mode: ModeArg,
    /// Exact mode: largest distance searched (rays not crossing by then are censored).
    #[arg(long, default_value_t = 2.0)]
    max_radius: f64,
    /// Exact mode: relative width at which bisection stops.
    #[arg(long, default_value_t = 1e-3)]
    tolerance: f64,
    /// gen-viz mode: twice the largest distance (README: 1).
    #[arg(long, default_value_t = 1.0)]
    span: f64,
    /// gen-viz mode: samples per side (README: 100).
    #[arg(long, default_value_t = 100)]
    samples: usize,
    /// Seed of the ray directions.
    #[arg(long, default_value_t = 0)]
    direction_seed: u64,
    /// Normalisation of the rays: filter (the authors'), or none for Gaussian directions,
    /// uniform on the sphere, which make the volume the plain geometric one.
    #[arg(long, default_value = "filter")]
    norm: Normalization,
    /// Cast only slice k of n of the rays (1-based, e.g. 2/4) into basin.shard-k-of-n.npz;
    /// join the slices with `genviz merge`. Under mpirun the ranks split the rays instead.
    #[arg(long)]
    shard: Option<Shard>,
    #[command(flatten)]
    data: DataArgs,
    /// Output folder (default: a new folder under runs/). Rerunning into the same folder
    /// resumes an interrupted run.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs `genviz basin`.
pub fn basin(args: BasinArgs, progress: &Terminal) -> Result<()> {
    let config = BasinConfig {
        model: absolute(&args.model),
        rays: RayConfig {
            rays: args.rays,
            threshold: args.threshold,
            mode: match args.mode {
                ModeArg::Exact => RadiusMode::Exact {
                    max_radius: args.max_radius,
                    tolerance: args.tolerance,
                    bracket: DEFAULT_BRACKET,
                },
                ModeArg::GenViz => RadiusMode::GenViz {
                    span: args.span,
                    samples: args.samples,
                },
            },
            seed: args.direction_seed,
            norm: args.norm,
            bias: BiasPolicy::Ignore,
        },
        data: args.data.source(),
        shard: args.shard,
    };
    let dir = run_dir::choose(args.out.as_deref(), "basin");
    let run = genviz_experiments::basin::run(&config, &dir, progress)?;
    let seconds = run.record.timings.get("total_s").copied().unwrap_or(0.0);
    match &run.result {
        Some(r) => println!(
            "{}: median radius {:.4}, log10 volume {:.1} [{:.1}, {:.1}] in {} dimensions ({:.2} s)",
            dir.display(),
            r.basin.median(),
            r.volume.log10_volume,
            r.volume.low,
            r.volume.high,
            r.volume.dimension,
            seconds
        ),
        None if config.shard.is_some() => println!(
            "{}: rays {} to {} of {} ({seconds:.2} s); join the shards with `genviz merge --out basin.npz`",
            run.file.display(),
            run.rays.start,
            run.rays.end,
            config.rays.rays,
        ),
        None => {}
    }
    Ok(())
}

/// Curvature at a minimum: top eigenvalues, trace, spectral density, and optionally Li et
/// al.'s |lambda_min / lambda_max| over a 2-D grid.
#[derive(Args)]
pub struct HessianArgs {
    /// A run folder, a .safetensors file or an .onnx file (with --data).
    model: PathBuf,
    /// Number of top eigenvalues.
    #[arg(long, default_value_t = 3)]
    top_k: usize,
    /// Lanczos steps of the spectral density (0: no density).
    #[arg(long, default_value_t = 80)]
    lanczos: usize,
    /// Lanczos runs averaged in the density.
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// Use the filter-normalised Hessian D H D of the authors' code.
    #[arg(long)]
    filter_normalised: bool,
    /// Points per side of the eigenvalue-ratio map over random directions (0: no map); under
    /// mpirun the ranks split its points.
    #[arg(long, default_value_t = 0)]
    ratio_map: usize,
    /// Extent of the ratio map's coordinates.
    #[arg(long, default_value_t = 1.0)]
    ratio_extent: f64,
    /// Seed of the random vectors.
    #[arg(long, default_value_t = 0)]
    hessian_seed: u64,
    #[command(flatten)]
    data: DataArgs,
    /// Output folder (default: a new folder under runs/).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs `genviz hessian`; rerunning the same command into the same `--out` after a kill
/// resumes from `hessian.state.npz`.
pub fn hessian(args: HessianArgs, progress: &Terminal) -> Result<()> {
    let config = HessianConfig {
        model: absolute(&args.model),
        top_k: args.top_k,
        lanczos: args.lanczos,
        runs: args.runs,
        filter_normalised: args.filter_normalised,
        ratio_map: args.ratio_map,
        ratio_extent: args.ratio_extent,
        seed: args.hessian_seed,
        data: args.data.source(),
    };
    config.check()?;
    let dir = run_dir::choose(args.out.as_deref(), "hessian");
    let run = genviz_experiments::hessian::run(&config, &dir, progress)?;
    if let Some(r) = &run.results {
        println!(
            "{}: top eigenvalues {:?}, trace {:.4e} ({:.2} s)",
            dir.display(),
            r.eigenvalues,
            r.trace,
            run.record.timings.get("total_s").copied().unwrap_or(0.0)
        );
    }
    Ok(())
}

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
    /// The first endpoint (a run folder, .safetensors or .onnx).
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
    data: DataArgs,
    /// Output folder (default: a new folder under runs/).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs `genviz connect`.
pub fn connect(args: ConnectArgs, progress: &Terminal) -> Result<()> {
    let config = ConnectConfig {
        model1: absolute(&args.model1),
        model2: absolute(&args.model2),
        curve: args.curve,
        bends: args.bends,
        training: CurveTraining {
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
        },
        points: args.points,
        grid: args.grid,
        data: args.data.source(),
    };
    let dir = run_dir::choose(args.out.as_deref(), "connect");
    let run = genviz_experiments::connect::run(&config, &dir, progress)?;
    let r = &run.results;
    println!(
        "{}: endpoints' train loss {:.4}; straight line max {:.4}; curve max {:.4} ({:.2}x the endpoints) after {:.1} s",
        dir.display(),
        r.endpoint_train_loss_mean,
        r.line_max_train_loss,
        r.curve_max_train_loss,
        r.curve_max_over_endpoints,
        run.record.timings.get("curve_s").copied().unwrap_or(0.0)
    );
    Ok(())
}

//! `genviz surface`, `interpolate`, `plane`, `trajectory` and `merge`: loss landscapes.

use crate::args::{absolute, GridArgs};
use crate::progress::Terminal;
use anyhow::Result;
use clap::Args;
use genviz_experiments::landscape::{
    self, Directions, InterpolateConfig, LandscapeRun, PlaneConfig, SurfaceConfig, TrajectoryConfig,
};
use genviz_experiments::run_dir;
use genviz_landscape::{Axis, BiasPolicy, Normalization, Spacing};
use std::path::{Path, PathBuf};

/// The flags of `genviz surface` (its help is on the subcommand in main.rs).
#[derive(Args)]
pub struct SurfaceArgs {
    /// A run folder, a .safetensors file or an .onnx file (with --data).
    model: PathBuf,
    /// x coordinates, min:max:num.
    #[arg(long, default_value = "-1:1:51", allow_hyphen_values = true)]
    x: Axis,
    /// y coordinates, min:max:num (2-D surface).
    #[arg(long, allow_hyphen_values = true)]
    y: Option<Axis>,
    /// Spacing of coordinates: linear, pow5 or pow2 (dense near the model).
    #[arg(long, default_value = "linear")]
    spacing: Spacing,
    /// Direction normalisation: filter, layer, weight, dfilter, dlayer or none.
    #[arg(long, default_value = "filter")]
    norm: Normalization,
    /// Biases in random directions: ignore (zero, Li's --xignore biasbn) or copy-theta (Li's default).
    #[arg(long, default_value = "ignore", value_parser = parse_bias)]
    bias: BiasPolicy,
    /// Use the x direction for y too.
    #[arg(long)]
    same_dir: bool,
    /// Make y orthogonal to x.
    #[arg(long)]
    orthogonal: bool,
    /// Directions from a file (safetensors or npz with tensors x.<name> and y.<name>).
    #[arg(long)]
    directions: Option<PathBuf>,
    /// x direction = MODEL2 - MODEL.
    #[arg(long)]
    model2: Option<PathBuf>,
    /// y direction = MODEL3 - MODEL.
    #[arg(long)]
    model3: Option<PathBuf>,
    /// Seed of the random directions.
    #[arg(long, default_value_t = 0)]
    direction_seed: u64,
    #[command(flatten)]
    common: GridArgs,
}

fn parse_bias(s: &str) -> Result<BiasPolicy, String> {
    match s {
        "ignore" | "biasbn" => Ok(BiasPolicy::Ignore),
        "copy-theta" | "copy" => Ok(BiasPolicy::CopyTheta),
        other => Err(format!("`{other}`: expected ignore or copy-theta")),
    }
}

/// Loss along the straight line between two models (Goodfellow et al.): 0 is MODEL1, 1 is MODEL2.
#[derive(Args)]
pub struct InterpolateArgs {
    /// The first model (a run folder, .safetensors or .onnx).
    model1: PathBuf,
    /// The second model.
    model2: PathBuf,
    /// Coefficients, min:max:num (Li et al.: -0.5:1.5:401).
    #[arg(long, default_value = "-0.5:1.5:401", allow_hyphen_values = true)]
    x: Axis,
    #[command(flatten)]
    common: GridArgs,
}

/// Loss over the plane through three models (Garipov et al.): u along MODEL2 - MODEL0, v the
/// part of MODEL1 - MODEL0 orthogonal to it, both in units of those distances.
#[derive(Args)]
pub struct PlaneArgs {
    /// The origin model.
    model0: PathBuf,
    /// The bend (e.g. a curve's middle point).
    model1: PathBuf,
    /// The far end.
    model2: PathBuf,
    /// Points per side (Garipov et al.: 21).
    #[arg(long, default_value_t = 21)]
    grid: usize,
    /// Margin around the models, in units of the distances (Garipov et al.: 0.2).
    #[arg(long, default_value_t = 0.2)]
    margin: f64,
    #[command(flatten)]
    common: GridArgs,
}

/// PCA of a run's training trajectory, and the loss surface in that plane with the path on it.
#[derive(Args)]
pub struct TrajectoryArgs {
    /// A run folder (with trajectory.npz and model.safetensors), or the training path as
    /// model files, oldest first (at least 3 .onnx files, or .safetensors files whose tensors
    /// are the model's; the last is the final model; with --data).
    #[arg(required = true)]
    run: Vec<PathBuf>,
    /// x coordinates (default: the path's extent plus a margin).
    #[arg(long, allow_hyphen_values = true)]
    x: Option<Axis>,
    /// y coordinates (default: the path's extent plus a margin).
    #[arg(long, allow_hyphen_values = true)]
    y: Option<Axis>,
    /// Points per side of the default grid.
    #[arg(long, default_value_t = 41)]
    num: usize,
    #[command(flatten)]
    common: GridArgs,
}

/// Join shards of one surface or one set of basin rays (`--shard k/n` runs) into one file.
#[derive(Args)]
pub struct MergeArgs {
    /// The shard files (all surface shards, or all basin shards).
    #[arg(required = true)]
    shards: Vec<PathBuf>,
    /// The merged file (default: surface.npz, or basin.npz for basin shards).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs a landscape `job` into `--out` (or a new folder under runs/ named for `kind`) and
/// prints what every landscape command prints when it is done.
fn run_into(
    common: &GridArgs,
    kind: &str,
    job: impl FnOnce(&Path) -> Result<LandscapeRun>,
) -> Result<()> {
    let run = job(&run_dir::choose(common.out.as_deref(), kind))?;
    if let Some(s) = &run.surface {
        println!(
            "{}: {} of {} points in {:.2} s",
            run.file.display(),
            s.filled(),
            s.len(),
            run.record.timings.get("fill_s").copied().unwrap_or(0.0)
        );
    }
    Ok(())
}

/// Runs `genviz surface`.
pub fn surface(args: SurfaceArgs, progress: &Terminal) -> Result<()> {
    let c = &args.common;
    let config = SurfaceConfig {
        model: absolute(&args.model),
        x: args.x,
        y: args.y,
        spacing: args.spacing,
        directions: Directions {
            file: args.directions.as_deref().map(absolute),
            model2: args.model2.as_deref().map(absolute),
            model3: args.model3.as_deref().map(absolute),
            norm: args.norm,
            bias: args.bias,
            seed: args.direction_seed,
            same_dir: args.same_dir,
            orthogonal: args.orthogonal,
        },
        grid: c.settings(),
    };
    run_into(c, "surface", |dir| {
        landscape::surface(&config, dir, progress)
    })
}

/// Runs `genviz interpolate`.
pub fn interpolate(args: InterpolateArgs, progress: &Terminal) -> Result<()> {
    let c = &args.common;
    let config = InterpolateConfig {
        model1: absolute(&args.model1),
        model2: absolute(&args.model2),
        x: args.x,
        grid: c.settings(),
    };
    run_into(c, "interpolate", |dir| {
        landscape::interpolate(&config, dir, progress)
    })
}

/// Runs `genviz plane`.
pub fn plane(args: PlaneArgs, progress: &Terminal) -> Result<()> {
    let c = &args.common;
    let config = PlaneConfig {
        model0: absolute(&args.model0),
        model1: absolute(&args.model1),
        model2: absolute(&args.model2),
        points: args.grid,
        margin: args.margin,
        grid: c.settings(),
    };
    run_into(c, "plane", |dir| landscape::plane(&config, dir, progress))
}

/// Runs `genviz trajectory`.
pub fn trajectory(args: TrajectoryArgs, progress: &Terminal) -> Result<()> {
    let c = &args.common;
    let mut paths: Vec<PathBuf> = args.run.iter().map(|p| absolute(p)).collect();
    let run = paths.pop().expect("clap requires one path");
    let checkpoints = if paths.is_empty() {
        Vec::new()
    } else {
        paths.push(run.clone());
        paths
    };
    let config = TrajectoryConfig {
        run,
        checkpoints,
        x: args.x,
        y: args.y,
        num: args.num,
        grid: c.settings(),
    };
    run_into(c, "trajectory", |dir| {
        landscape::trajectory(&config, dir, progress)
    })
}

/// Runs `genviz merge`: basin shards hold per-ray radii, surface shards hold grids.
pub fn merge(args: MergeArgs) -> Result<()> {
    if genviz_experiments::basin::is_ray_file(&args.shards[0])? {
        let out = args.out.unwrap_or_else(|| PathBuf::from("basin.npz"));
        let r = genviz_experiments::basin::merge_rays(&args.shards, &out)?;
        println!(
            "{}: {} rays, median radius {:.4}, log10 volume {:.1} [{:.1}, {:.1}]",
            out.display(),
            r.basin.direction_norms.len(),
            r.basin.median(),
            r.volume.log10_volume,
            r.volume.low,
            r.volume.high
        );
        return Ok(());
    }
    let out = args.out.unwrap_or_else(|| PathBuf::from("surface.npz"));
    let merged = landscape::merge_surfaces(&args.shards, &out)?;
    println!(
        "{}: {} of {} points filled",
        out.display(),
        merged.filled(),
        merged.len()
    );
    Ok(())
}

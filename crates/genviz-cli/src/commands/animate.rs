//! `genviz animate`: the wiggle and training-path GIFs of one model.

use crate::animate::{self, PathConfig, WiggleConfig};
use crate::model;
use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// What the animation moves along.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Along {
    /// A filter-normalised random direction (biases fixed).
    Random,
    /// The top eigenvector of the Hessian of the training loss.
    Eigvec,
    /// The training path, on the plane of its two principal components.
    PcaPath,
}

/// The flags of `genviz animate` (its help is on the subcommand in main.rs).
#[derive(Args)]
pub struct AnimateArgs {
    /// A run folder (or a .safetensors file with --data; pca-path needs a run folder).
    #[arg(long)]
    model: PathBuf,
    /// random, eigvec (the ray's direction) or pca-path.
    #[arg(long, value_enum, default_value = "random")]
    along: Along,
    /// The GIF to write; its summary goes beside it as .json.
    #[arg(long)]
    out: PathBuf,
    /// The ray covers t in [-span/2, span/2] (filter-normalised units; gen-viz's default).
    #[arg(long, default_value_t = 0.5)]
    span: f64,
    /// Points along the ray (odd; the GIF loops 0 -> +span/2 -> -span/2 -> 0 in 2(N-1)
    /// frames), or frames of the growing training path.
    #[arg(long)]
    frames: Option<usize>,
    /// Seed of the random direction and of the power iterations.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Cells per side of each frame's decision-boundary grid.
    #[arg(long, default_value_t = 200)]
    resolution: usize,
    /// Leave out the curvature (top Hessian eigenvalue) along the ray.
    #[arg(long)]
    no_curvature: bool,
    /// Hundredths of a second per frame.
    #[arg(long, default_value_t = 8)]
    delay: u16,
    /// Data: a data.npz, csv:PATH, npz:PATH or a built-in data set. Default: the run folder's data.npz.
    #[arg(long)]
    data: Option<String>,
    /// Seed of a built-in data set (--seed seeds the direction).
    #[arg(long, default_value_t = crate::presets::SWISS_ROLL_SEED)]
    data_seed: u64,
}

/// Runs `genviz animate`.
pub fn run(args: AnimateArgs) -> Result<()> {
    if args.out.extension().is_none_or(|e| e != "gif") {
        bail!("--out {}: expected a .gif file name", args.out.display());
    }
    let m = model::load(&args.model)?;
    let (train, test) = model::data_for(&m, args.data.as_deref(), args.data_seed)?;
    let label = args
        .model
        .file_stem()
        .map_or_else(|| "model".to_string(), |s| s.to_string_lossy().into_owned());
    let theta = m.params.values();
    let summary = match args.along {
        Along::PcaPath => {
            if !args.model.is_dir() {
                bail!(
                    "--model {}: the training path needs a run folder (with trajectory.npz)",
                    args.model.display()
                );
            }
            let trajectory = animate::read_trajectory(&args.model, theta.len())?;
            let defaults = PathConfig::default();
            let cfg = PathConfig {
                frames: args.frames.unwrap_or(defaults.frames),
                delay_cs: args.delay,
                ..defaults
            };
            let s = animate::pca_path(
                &m.net,
                theta,
                &trajectory,
                &train,
                &test,
                &label,
                &args.out,
                &cfg,
            )?;
            format!(
                "{}: {} frames, {} bytes; PCA explains {:.1}% and {:.1}% of the path",
                s.gif.display(),
                s.frames,
                s.bytes,
                100.0 * s.explained_variance_ratio[0],
                100.0 * s.explained_variance_ratio[1]
            )
        }
        along => {
            let (direction, name) = if along == Along::Random {
                (
                    animate::random_ray(&m.net, theta, args.seed)?,
                    format!("random filter-normalised direction (seed {})", args.seed),
                )
            } else {
                let (d, value) = animate::eigvec_ray(&m.net, theta, &train, args.seed)?;
                eprintln!("top Hessian eigenvalue: {value:.6e}");
                (d, "top Hessian eigenvector".to_string())
            };
            let defaults = WiggleConfig::default();
            let cfg = WiggleConfig {
                span: args.span,
                points: args.frames.unwrap_or(defaults.points),
                resolution: args.resolution,
                curvature: !args.no_curvature,
                seed: args.seed,
                delay_cs: args.delay,
                ..defaults
            };
            let s = animate::wiggle(
                &m.net, theta, &train, &test, &direction, &label, &name, &args.out, &cfg,
            )?;
            let at = |c: Option<f64>| c.map_or_else(|| "never".into(), animate::two_digits);
            format!(
                "{}: {} frames, {} bytes; train loss {:.4e} at t = 0 reaches 1 at |t| = {} (t < 0), {} (t > 0)",
                s.gif.display(),
                s.frames,
                s.bytes,
                s.loss_at_zero,
                at(s.crossing.negative),
                at(s.crossing.positive)
            )
        }
    };
    println!("{summary}");
    Ok(())
}

//! `genviz animate`: the wiggle and training-path GIFs of one model.

use crate::args::parse;
use anyhow::Result;
use clap::Args;
use genviz_experiments::animate::{two_digits, Along, AnimateConfig, Animation};
use std::path::PathBuf;

/// The flags of `genviz animate` (its help is on the subcommand in main.rs).
#[derive(Args)]
pub struct AnimateArgs {
    /// A run folder (or a .safetensors or .onnx file with --data; pca-path needs a run folder).
    #[arg(long)]
    model: PathBuf,
    /// random, eigvec (the ray's direction) or pca-path.
    #[arg(long, default_value = "random", value_parser = parse::<Along>)]
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
    #[arg(long, default_value_t = genviz_experiments::presets::SWISS_ROLL_SEED)]
    data_seed: u64,
}

/// Runs `genviz animate`.
pub fn run(args: AnimateArgs) -> Result<()> {
    let config = AnimateConfig {
        model: args.model,
        along: args.along,
        out: args.out,
        span: args.span,
        frames: args.frames,
        seed: args.seed,
        resolution: args.resolution,
        curvature: !args.no_curvature,
        delay_cs: args.delay,
        data: crate::args::DataArgs {
            data: args.data,
            seed: args.data_seed,
            device: Default::default(),
            params: None,
            head: None,
            bn: Default::default(),
        }
        .source(),
    };
    let summary = match genviz_experiments::animate::run(&config)? {
        Animation::Path(s) => format!(
            "{}: {} frames, {} bytes; PCA explains {:.1}% and {:.1}% of the path",
            s.gif.display(),
            s.frames,
            s.bytes,
            100.0 * s.explained_variance_ratio[0],
            100.0 * s.explained_variance_ratio[1]
        ),
        Animation::Wiggle(s, eigenvalue) => {
            if let Some(v) = eigenvalue {
                eprintln!("top Hessian eigenvalue: {v:.6e}");
            }
            let at = |c: Option<f64>| c.map_or_else(|| "never".into(), two_digits);
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

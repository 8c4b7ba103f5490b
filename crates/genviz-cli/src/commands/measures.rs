//! `genviz measures` and `genviz sweep`: generalization measures of trained models, and which
//! of them rank a grid of trained models by their generalization gap.

use crate::args::{absolute, DataArgs};
use crate::progress::Terminal;
use anyhow::{Context, Result};
use clap::Args;
use genviz_experiments::measures::{self, MeasuresConfig};
use genviz_experiments::run_dir;
use genviz_experiments::sweep::{self, SweepConfig};
use std::path::{Path, PathBuf};

/// Generalization measures of trained models, side by side.
#[derive(Args)]
pub struct MeasuresArgs {
    /// Models: run folders or .safetensors files (MLPs and conv nets).
    #[arg(required = true)]
    models: Vec<PathBuf>,
    /// Which measures: names (path_norm, avg_sharpness_gaussian_rho_0.05, ...) or groups
    /// (default, sharpness, norms, performance), comma-separated; or a TOML or JSON file with
    /// a `measures` list. Default: the whole default table.
    #[arg(long, value_delimiter = ',')]
    measures: Vec<String>,
    /// Training examples each data-dependent measure looks at (default 1024; fewer makes conv
    /// nets on a CPU quicker).
    #[arg(long)]
    examples: Option<usize>,
    /// Seed of every random measure (subsets, perturbations, rays; default 0).
    #[arg(long)]
    measure_seed: Option<u64>,
    /// Initial weights for the distance from initialisation (default: each run folder's
    /// checkpoints/step_00000000.safetensors).
    #[arg(long)]
    init: Option<PathBuf>,
    #[command(flatten)]
    data: DataArgs,
    /// Evaluate the performance measures on this many training examples (a seeded subset).
    #[arg(long)]
    eval_train: Option<usize>,
    /// Evaluate the performance measures on this many test examples (a seeded subset).
    #[arg(long)]
    eval_test: Option<usize>,
    /// Output folder (default: a new folder under runs/). Rerunning into the same folder
    /// computes only the measures it does not hold yet.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The measures the flags ask for.
fn specs(args: &MeasuresArgs) -> Result<Vec<genviz_landscape::measures::MeasureSpec>> {
    let mut specs = match args.measures.as_slice() {
        [] => genviz_landscape::measures::default_measures(),
        [one] if Path::new(one).is_file() => measures::read_specs(Path::new(one))?,
        names => measures::select(names)?,
    };
    if args.examples.is_some() {
        measures::with_examples(&mut specs, args.examples);
    }
    if let Some(seed) = args.measure_seed {
        measures::with_seed(&mut specs, seed);
    }
    Ok(specs)
}

/// Runs `genviz measures`: prints the table (also in measures.md).
pub fn measures(args: MeasuresArgs, progress: &Terminal) -> Result<()> {
    let config = MeasuresConfig {
        models: args.models.iter().map(|p| absolute(p)).collect(),
        measures: specs(&args)?,
        data: args.data.source_cut(args.eval_train, args.eval_test),
        init: args.init.as_deref().map(absolute),
    };
    config.check()?;
    let dir = run_dir::choose(args.out.as_deref(), "measures");
    let run = measures::run(&config, &dir, progress)?;
    print!("{}", measures::table(&run.results));
    println!(
        "{}: {} measures of {} models ({:.1} s)",
        dir.display(),
        run.results.rows.len(),
        run.results.models.len(),
        run.record.timings.get("total_s").copied().unwrap_or(0.0)
    );
    Ok(())
}

/// Train a grid of models, measure each, and rank the measures by how well they order the
/// models by their generalization gap (Kendall's tau, granulated Kendall).
#[derive(Args)]
pub struct SweepArgs {
    /// A sweep file (TOML: `preset = "swiss-roll"` or a [base] experiment, [[axes]] and
    /// optionally [[measures]]; or a sweep's run.json). Default: the built-in sweep.
    file: Option<PathBuf>,
    /// The built-in sweep to run without a file: swiss-roll (72 nets, about 3 minutes on 2
    /// cores), swiss-roll-tiny (4 nets in seconds: a first look, and the tests') or
    /// fashion-mnist (32 small CNNs).
    #[arg(long, default_value = "swiss-roll", conflicts_with = "file")]
    preset: String,
    /// Output folder (default: a new folder under runs/). Rerunning into the same folder
    /// reuses finished runs and measures and resumes the rest.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs `genviz sweep`: prints the correlation table (also in sweep.md).
pub fn sweep(args: SweepArgs, progress: &Terminal) -> Result<()> {
    let config = match &args.file {
        Some(f) => {
            let config = SweepConfig::read(f)?;
            config.check().with_context(|| f.display().to_string())?;
            config
        }
        None => SweepConfig::preset(&args.preset)?,
    };
    config.check()?;
    let dir = run_dir::choose(args.out.as_deref(), "sweep");
    let run = sweep::run(&config, &dir, progress)?;
    let md = sweep::markdown(&run.results);
    // The correlation table and its verdict; the models are in sweep.md.
    let table = md.split("\n## Models").next().unwrap_or(&md);
    println!("{}", table.trim_end());
    println!(
        "{}: {} models ({:.1} s); sweep.md, sweep.json, scatter/ and report.html",
        dir.display(),
        run.results.models.len(),
        run.record.timings.get("total_s").copied().unwrap_or(0.0)
    );
    Ok(())
}

//! `genviz rerun`.

use crate::progress::Terminal;
use anyhow::Result;
use clap::Args;
use genviz_experiments::RunRecord;
use std::path::PathBuf;

/// The flags of `genviz rerun`.
#[derive(Args)]
pub struct RerunArgs {
    /// A run folder (one with a run.json).
    dir: PathBuf,
}

/// Runs `genviz rerun`: the job of the folder's record, into the same folder.
pub fn run(args: RerunArgs, progress: &Terminal) -> Result<()> {
    let record = RunRecord::read(&args.dir)?;
    let done = record.job.run(&args.dir, progress)?;
    println!(
        "{}: {} run again ({:.1} s)",
        args.dir.display(),
        done.job.command(),
        done.timings.get("total_s").copied().unwrap_or(0.0)
    );
    Ok(())
}

//! `genviz report`: the page of a run folder, or the index of a folder of runs.

use anyhow::Result;
use clap::Args;
use genviz_experiments::pages;
use std::path::PathBuf;

/// The flags of `genviz report`.
#[derive(Args)]
pub struct ReportArgs {
    /// A run folder (one with a run.json), or a folder of runs.
    dir: PathBuf,
}

/// Runs `genviz report`: rebuilds the folder's page and/or writes the index of the runs below
/// it, and prints what it wrote.
pub fn run(args: ReportArgs) -> Result<()> {
    let done = pages::rebuild(&args.dir)?;
    for path in done.page.iter().chain(&done.index) {
        println!("{}", path.display());
    }
    if !done.without_page.is_empty() {
        eprintln!(
            "{} of the runs have no page yet; `genviz report {}` builds one:",
            done.without_page.len(),
            args.dir.join("RUN").display()
        );
        for run in &done.without_page {
            eprintln!("  {}", args.dir.join(run).display());
        }
    }
    Ok(())
}

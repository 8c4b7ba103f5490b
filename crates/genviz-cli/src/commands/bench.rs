//! `genviz bench`.

use anyhow::Result;
use clap::Args;
use genviz_experiments::bench::BenchOptions;

/// Measure genviz's speed on the paper's workloads.
#[derive(Args)]
pub struct BenchArgs {
    /// Timed repetitions per figure (the fastest is reported).
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// Steps per timed training run.
    #[arg(long, default_value_t = 2000)]
    steps: u64,
}

/// Runs `genviz bench`: one JSON object on standard output.
pub fn run(args: BenchArgs) -> Result<()> {
    let out = genviz_experiments::bench::run(BenchOptions {
        repeats: args.repeats,
        steps: args.steps,
    })?;
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

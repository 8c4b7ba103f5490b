//! The `genviz` command: train networks, reproduce the paper's figures, evaluate and benchmark.

mod commands;
mod config;
mod experiment;
mod figures;
mod presets;
mod progress;
mod run_dir;

use clap::{Parser, Subcommand};

/// genviz makes the generalization of neural networks visible: it trains classifiers (clean,
/// or poisoned into "bad minima" that fit the training set and fail on test data) and draws
/// what they learned.
///
/// Start with `genviz paper`, which reproduces the swiss-roll figures of Huang et al.,
/// "Understanding Generalization through Visualizations" (2019), into runs/.
#[derive(Parser)]
#[command(name = "genviz", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train one network (flags, or a TOML experiment file) into a run folder.
    Train(commands::train::TrainArgs),
    /// Evaluate a trained model (a run folder or a safetensors file) on data.
    Eval(commands::eval::EvalArgs),
    /// Reproduce the paper's figures: clean and poisoned swiss-roll nets, side by side.
    Paper(commands::paper::PaperArgs),
    /// Measure speed; prints one JSON object.
    Bench(commands::bench::BenchArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) => commands::train::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Paper(args) => commands::paper::run(args),
        Command::Bench(args) => commands::bench::run(args),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

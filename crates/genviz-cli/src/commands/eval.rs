//! `genviz eval`.

use crate::model;
use anyhow::Result;
use clap::Args;
use genviz_core::{Dataset, Network};
use serde_json::json;
use std::path::PathBuf;

/// Evaluate a trained model: loss and accuracy as JSON on standard output.
///
/// MODEL is a run folder (its model.safetensors is evaluated on its own data: data.npz, or for
/// a conv net on images the data named in its run.json) or a safetensors file: genviz's (MLP
/// or conv net), or a PyTorch MLP saved with `safetensors.torch.save_file` whose layers are
/// named `layers.0.weight`/`layers.0.bias`, ... or `0.weight`, `2.weight`, ...
/// (nn.Sequential). An MLP's architecture is inferred from the shapes.
#[derive(Args)]
pub struct EvalArgs {
    /// A run folder or a .safetensors file.
    model: PathBuf,
    #[command(flatten)]
    data: model::DataArgs,
}

/// Runs `genviz eval`.
pub fn run(args: EvalArgs) -> Result<()> {
    let m = model::load(&args.model)?;
    let (train, test) = args.data.load(&m)?;
    let score = |d: &Dataset| {
        let e = m.net.evaluate(&[m.params.values()], d)[0];
        json!({ "loss": e.loss, "accuracy": e.accuracy, "examples": d.len() })
    };
    let out = json!({
        "model": m.weights.display().to_string(),
        "num_params": m.net.layout().len(),
        "train": score(&train),
        "test": score(&test),
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

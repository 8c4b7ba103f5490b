//! `genviz eval`.

use crate::args::{absolute, DataArgs};
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// Evaluate a trained model: loss and accuracy as JSON on standard output.
///
/// MODEL is a run folder (its model.safetensors is evaluated on its own data: data.npz, or for
/// a conv net on images the data named in its run.json) or a safetensors file: genviz's (MLP
/// or conv net), or a PyTorch MLP saved with `safetensors.torch.save_file` whose layers are
/// named `layers.0.weight`/`layers.0.bias`, ... or `0.weight`, `2.weight`, ...
/// (nn.Sequential). An MLP's architecture is inferred from the shapes. Or an ONNX file
/// (any model exported by PyTorch, JAX or Keras; see --params, --head, --bn) with --data.
#[derive(Args)]
pub struct EvalArgs {
    /// A run folder, a .safetensors file or an .onnx file.
    model: PathBuf,
    #[command(flatten)]
    data: DataArgs,
}

/// Runs `genviz eval`.
pub fn run(args: EvalArgs) -> Result<()> {
    let e = genviz_experiments::model::evaluate(&absolute(&args.model), &args.data.source())?;
    for warning in &e.warnings {
        eprintln!("warning: {warning}");
    }
    println!("{}", serde_json::to_string_pretty(&e)?);
    Ok(())
}

//! `genviz export`.

use crate::args::absolute;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// Write a genviz model in another format: today ONNX (opset 17, PyTorch's tensor names,
/// BatchNorm kept with its running statistics), which Netron, onnxruntime and PyTorch open and
/// every genviz analysis takes back. Example:
///
///   genviz export runs/train-20250101-120000 --onnx model.onnx
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct ExportArgs {
    /// A run folder or a genviz .safetensors file (MLP or conv net).
    model: PathBuf,
    /// The ONNX file to write.
    #[arg(long, value_name = "FILE.onnx")]
    onnx: PathBuf,
}

/// Runs `genviz export`.
pub fn run(args: ExportArgs) -> Result<()> {
    let out = absolute(&args.onnx);
    genviz_experiments::model::export_onnx(&absolute(&args.model), &out)?;
    println!("{}", out.display());
    Ok(())
}

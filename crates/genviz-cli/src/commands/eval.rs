//! `genviz eval`.

use crate::config::DataConfig;
use anyhow::{bail, Context, Result};
use clap::Args;
use genviz_core::{Dataset, Network};
use serde_json::json;
use std::path::PathBuf;

/// Evaluate a trained model: loss and accuracy as JSON on standard output.
///
/// MODEL is a run folder (its model.safetensors is evaluated on its own data.npz) or a
/// safetensors file: genviz's, or a PyTorch MLP saved with `safetensors.torch.save_file`
/// whose layers are named `layers.0.weight`/`layers.0.bias`, ... or `0.weight`, `2.weight`,
/// ... (nn.Sequential). The architecture is inferred from the shapes.
#[derive(Args)]
pub struct EvalArgs {
    /// A run folder or a .safetensors file.
    model: PathBuf,
    /// Data: a data.npz (x_train, y_train, x_test, y_test), csv:PATH, npz:PATH or a built-in
    /// data set (with --seed). Default: the run folder's data.npz.
    #[arg(long)]
    data: Option<String>,
    /// Seed for a built-in data set.
    #[arg(long, default_value_t = crate::presets::SWISS_ROLL_SEED)]
    seed: u64,
}

/// Runs `genviz eval`.
pub fn run(args: EvalArgs) -> Result<()> {
    let (weights, default_data) = if args.model.is_dir() {
        (
            args.model.join("model.safetensors"),
            Some(args.model.join("data.npz")),
        )
    } else {
        (args.model.clone(), None)
    };
    let (net, params) = genviz_mlp::load_mlp(&weights)?;
    let data = match (&args.data, default_data) {
        (Some(d), _) if d.ends_with(".npz") && !d.starts_with("npz:") => {
            DataConfig::builtin(&format!("npz:{d}"))?
        }
        (Some(d), _) => DataConfig::builtin(d)?,
        (None, Some(npz)) => DataConfig::Npz {
            path: npz,
            num_classes: Some(net.num_classes()),
        },
        (None, None) => bail!(
            "{}: a safetensors file needs --data to evaluate on",
            weights.display()
        ),
    };
    let loaded = data
        .load(args.seed)
        .context("loading the evaluation data")?;
    let score = |d: &Dataset| -> Result<serde_json::Value> {
        if d.dim() != net.spec().input_dim {
            bail!(
                "the data has {} features, the model takes {}",
                d.dim(),
                net.spec().input_dim
            );
        }
        if d.num_classes() > net.num_classes() {
            bail!(
                "the data has {} classes, the model predicts {}",
                d.num_classes(),
                net.num_classes()
            );
        }
        let e = net.evaluate(&[params.values()], d)[0];
        Ok(json!({ "loss": e.loss, "accuracy": e.accuracy, "examples": d.len() }))
    };
    let out = json!({
        "model": weights.display().to_string(),
        "num_params": net.layout().len(),
        "train": score(&loaded.train)?,
        "test": score(&loaded.test)?,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

//! Loading a model and its data the way every analysis command does.

use crate::config::DataConfig;
use anyhow::{bail, Context, Result};
use genviz_core::{Dataset, Network, Params};
use genviz_mlp::Mlp;
use std::path::{Path, PathBuf};

/// A model to analyse: a run folder (`model.safetensors` beside its `data.npz`) or a
/// safetensors file.
pub struct LoadedModel {
    /// The network.
    pub net: Mlp,
    /// Its parameters.
    pub params: Params,
    /// The weights file.
    pub weights: PathBuf,
    /// The run folder's `data.npz`, if the model came from a run folder.
    pub data_file: Option<PathBuf>,
}

/// Loads `path` (a run folder or a `.safetensors` file).
pub fn load(path: &Path) -> Result<LoadedModel> {
    let (weights, data_file) = if path.is_dir() {
        (
            path.join("model.safetensors"),
            Some(path.join("data.npz")).filter(|p| p.exists()),
        )
    } else {
        (path.to_path_buf(), None)
    };
    let (net, params) = genviz_mlp::load_mlp(&weights)?;
    Ok(LoadedModel {
        net,
        params,
        weights,
        data_file,
    })
}

/// Loads `path` and checks it has the same architecture as `reference`.
pub fn load_like(path: &Path, reference: &LoadedModel) -> Result<Params> {
    let other = load(path)?;
    if other.net.spec().widths() != reference.net.spec().widths() {
        bail!(
            "{}: layer widths {:?} differ from {}'s {:?}",
            other.weights.display(),
            other.net.spec().widths(),
            reference.weights.display(),
            reference.net.spec().widths()
        );
    }
    Ok(other.params)
}

/// The training and test sets to evaluate `model` on: `--data` if given, else its run's
/// `data.npz`; checked against the model's input size and classes.
pub fn data_for(model: &LoadedModel, data: Option<&str>, seed: u64) -> Result<(Dataset, Dataset)> {
    let config = match (data, &model.data_file) {
        (Some(d), _) if d.ends_with(".npz") && !d.starts_with("npz:") => {
            DataConfig::builtin(&format!("npz:{d}"))?
        }
        (Some(d), _) => DataConfig::builtin(d)?,
        (None, Some(npz)) => DataConfig::Npz {
            path: npz.clone(),
            num_classes: Some(model.net.num_classes()),
        },
        (None, None) => bail!(
            "{}: a safetensors file needs --data to evaluate on",
            model.weights.display()
        ),
    };
    let loaded = config.load(seed).context("loading the evaluation data")?;
    for (name, d) in [("training", &loaded.train), ("test", &loaded.test)] {
        if d.dim() != model.net.spec().input_dim {
            bail!(
                "the {name} data has {} features, the model takes {}",
                d.dim(),
                model.net.spec().input_dim
            );
        }
        if d.num_classes() > model.net.num_classes() {
            bail!(
                "the {name} data has {} classes, the model predicts {}",
                d.num_classes(),
                model.net.num_classes()
            );
        }
    }
    Ok((loaded.train, loaded.test))
}

/// Where an analysis finds its data: the flags every analysis command shares.
#[derive(clap::Args, Clone, Debug)]
pub struct DataArgs {
    /// Data: a data.npz, csv:PATH, npz:PATH or a built-in data set. Default: the run folder's data.npz.
    #[arg(long)]
    pub data: Option<String>,
    /// Seed of a built-in data set.
    #[arg(long, default_value_t = crate::presets::SWISS_ROLL_SEED)]
    pub seed: u64,
}

impl DataArgs {
    /// The training and test sets for `model` (see [`data_for`]).
    pub fn load(&self, model: &LoadedModel) -> Result<(Dataset, Dataset)> {
        data_for(model, self.data.as_deref(), self.seed)
    }
}

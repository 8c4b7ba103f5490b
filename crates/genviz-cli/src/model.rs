//! Loading a model and its data the way every analysis command does.

use crate::config::DataConfig;
use anyhow::{bail, Context, Result};
use genviz_conv::ConvNet;
use genviz_core::{Affine, Batch, Dataset, Eval, Layout, Network, Params};
use genviz_mlp::Mlp;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A network of either family, so every analysis command takes MLPs and conv nets alike.
pub enum AnyNet {
    /// The native MLP engine.
    Mlp(Mlp),
    /// A burn-computed conv net (on the CPU).
    Conv(Box<ConvNet<crate::conv_run::CpuBackend>>),
}

impl AnyNet {
    fn net(&self) -> &dyn Network {
        match self {
            AnyNet::Mlp(n) => n,
            AnyNet::Conv(n) => n.as_ref(),
        }
    }

    /// Values per input example.
    pub fn input_dim(&self) -> usize {
        match self {
            AnyNet::Mlp(n) => n.spec().input_dim,
            AnyNet::Conv(n) => n.spec().input.iter().product(),
        }
    }
}

impl Network for AnyNet {
    fn layout(&self) -> &Arc<Layout> {
        self.net().layout()
    }
    fn num_classes(&self) -> usize {
        self.net().num_classes()
    }
    fn evaluate(&self, thetas: &[&[f32]], data: &Dataset) -> Vec<Eval> {
        self.net().evaluate(thetas, data)
    }
    fn evaluate_affine(
        &self,
        plane: Affine<'_>,
        coords: &[(f64, f64)],
        data: &Dataset,
    ) -> Vec<Eval> {
        self.net().evaluate_affine(plane, coords, data)
    }
    fn hvp(&self, theta: &[f32], v: &[f32], data: &Dataset) -> Vec<f64> {
        self.net().hvp(theta, v, data)
    }
    fn loss_grad(&self, theta: &[f32], batch: &Batch<'_>, grad: &mut [f32]) -> f64 {
        self.net().loss_grad(theta, batch, grad)
    }
    fn logits(&self, theta: &[f32], inputs: &[f32], n: usize) -> Vec<f32> {
        self.net().logits(theta, inputs, n)
    }
}

/// A model to analyse: a run folder (`model.safetensors` beside its `data.npz`, or for an
/// image run its `run.json` naming the data) or a safetensors file.
pub struct LoadedModel {
    /// The network.
    pub net: AnyNet,
    /// Its parameters.
    pub params: Params,
    /// The weights file.
    pub weights: PathBuf,
    /// The run folder's `data.npz`, if the model came from a run folder.
    pub data_file: Option<PathBuf>,
    /// The run folder's data configuration and seed, for runs on image data (which keep no
    /// `data.npz`).
    pub run_data: Option<(DataConfig, u64)>,
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
    let file = genviz_core::io::read_safetensors(&weights)?;
    let (net, params) = if file
        .metadata
        .contains_key(genviz_conv::CONV_SPEC_METADATA_KEY)
    {
        let (spec, params) = genviz_conv::conv_from_tensors(&file, &weights)?;
        (
            AnyNet::Conv(Box::new(ConvNet::new(spec, Default::default())?)),
            params,
        )
    } else {
        let (net, params) = genviz_mlp::mlp_from_tensors(&file, &weights)?;
        (AnyNet::Mlp(net), params)
    };
    let run_data = match (&net, path.is_dir()) {
        (AnyNet::Conv(_), true) => run_data(&path.join("run.json"))?,
        _ => None,
    };
    Ok(LoadedModel {
        net,
        params,
        weights,
        data_file,
        run_data,
    })
}

/// The data configuration and seed recorded in a run's `run.json`, if it has one.
fn run_data(path: &Path) -> Result<Option<(DataConfig, u64)>> {
    if !path.exists() {
        return Ok(None);
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: invalid JSON", path.display()))?;
    let config = value.get("config").cloned().unwrap_or_default();
    let data: DataConfig = serde_json::from_value(config.get("data").cloned().unwrap_or_default())
        .with_context(|| {
            format!(
                "{}: config.data is not a data configuration",
                path.display()
            )
        })?;
    let seed = config.get("seed").and_then(|s| s.as_u64()).unwrap_or(0);
    Ok(Some((data, seed)))
}

/// Loads `path` and checks it has the same architecture as `reference`.
pub fn load_like(path: &Path, reference: &LoadedModel) -> Result<Params> {
    let other = load(path)?;
    if let (AnyNet::Mlp(a), AnyNet::Mlp(b)) = (&other.net, &reference.net) {
        if a.spec().widths() != b.spec().widths() {
            bail!(
                "{}: layer widths {:?} differ from {}'s {:?}",
                other.weights.display(),
                a.spec().widths(),
                reference.weights.display(),
                b.spec().widths()
            );
        }
    }
    if other.net.layout() != reference.net.layout() {
        bail!(
            "{}: its tensors differ from {}'s (another architecture)",
            other.weights.display(),
            reference.weights.display()
        );
    }
    Ok(other.params)
}

/// The training and test sets to evaluate `model` on: `--data` if given, else its run's
/// `data.npz`; checked against the model's input size and classes.
pub fn data_for(model: &LoadedModel, data: Option<&str>, seed: u64) -> Result<(Dataset, Dataset)> {
    if let (None, Some((config, run_seed))) = (data, &model.run_data) {
        // An image run: its own data, split with its own seed.
        let loaded = config.load(*run_seed).context("loading the run's data")?;
        return Ok((loaded.train, loaded.test));
    }
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
        if d.dim() != model.net.input_dim() {
            bail!(
                "the {name} data has {} features, the model takes {}",
                d.dim(),
                model.net.input_dim()
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

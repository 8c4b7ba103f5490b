//! Loading a model and its data the way every analysis does: a run folder or a weights file,
//! evaluated on the run's own data or on a data set named by the caller.

use crate::config::DataConfig;
use crate::record::RunRecord;
use anyhow::{bail, Context, Result};
use genviz_conv::DeviceNet;
use genviz_core::{rng, Affine, Batch, Dataset, Eval, Layout, Network, Params};
use genviz_mlp::Mlp;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A network of any family genviz computes, so every analysis takes all of them alike.
pub enum AnyNet {
    /// The native MLP engine.
    Mlp(Mlp),
    /// A burn-computed conv net.
    Conv(Box<DeviceNet>),
}

impl AnyNet {
    /// The network as the trait every analysis uses.
    pub fn net(&self) -> &dyn Network {
        match self {
            AnyNet::Mlp(n) => n,
            AnyNet::Conv(n) => &***n,
        }
    }

    /// Values per input example.
    pub fn input_dim(&self) -> usize {
        match self {
            AnyNet::Mlp(n) => n.spec().input_dim,
            AnyNet::Conv(n) => n.spec().input.iter().product(),
        }
    }

    /// The network's description as `model.safetensors` stores it in its metadata (one
    /// entry, under the family's key), so that the file alone rebuilds the network.
    pub fn metadata(&self) -> Result<std::collections::HashMap<String, String>> {
        let (key, value) = match self {
            AnyNet::Mlp(n) => (
                genviz_mlp::SPEC_METADATA_KEY,
                serde_json::to_string(n.spec())?,
            ),
            AnyNet::Conv(n) => (
                genviz_conv::CONV_SPEC_METADATA_KEY,
                serde_json::to_string(n.spec())?,
            ),
        };
        Ok(std::collections::HashMap::from([(key.to_string(), value)]))
    }

    /// The network's description for `run.json`.
    pub fn spec_json(&self) -> serde_json::Value {
        match self {
            AnyNet::Mlp(n) => serde_json::json!(n.spec()),
            AnyNet::Conv(n) => serde_json::json!(n.spec()),
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

/// Loads `path` (a run folder or a `.safetensors` file: genviz's own, or a PyTorch MLP).
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
            AnyNet::Conv(Box::new(DeviceNet::new(spec, genviz_conv::Device::Cpu)?)),
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

/// The data configuration and seed of the training run recorded in `path`, if there is one.
fn run_data(path: &Path) -> Result<Option<(DataConfig, u64)>> {
    if !path.exists() {
        return Ok(None);
    }
    let record = RunRecord::read_file(path)?;
    match record.job {
        crate::record::Job::Train(config) => Ok(Some((config.data, config.seed))),
        other => bail!(
            "{}: a `{}` run, not a training run; give the model's own folder",
            path.display(),
            other.command()
        ),
    }
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

/// Where an analysis finds its data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSource {
    /// A data.npz, `csv:PATH`, `npz:PATH` or a built-in data set; `None`: the run folder's
    /// own data (its `data.npz`, or for an image run the data its `run.json` names).
    #[serde(default)]
    pub data: Option<String>,
    /// Seed of a built-in data set, and of the evaluation subsets.
    pub seed: u64,
    /// Evaluate on this many training examples (a seeded random subset, the same at every
    /// point) instead of all: a surface point of a conv net on 60,000 images takes minutes on
    /// a CPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_train: Option<usize>,
    /// Evaluate on this many test examples (a seeded random subset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_test: Option<usize>,
}

impl DataSource {
    /// The run's own data, all of it; `seed` seeds a built-in set named later.
    pub fn own(seed: u64) -> Self {
        DataSource {
            data: None,
            seed,
            eval_train: None,
            eval_test: None,
        }
    }

    /// The training and test sets `model` is evaluated on (see [`data_for`]), cut to
    /// `eval_train` / `eval_test` examples when given.
    pub fn load(&self, model: &LoadedModel) -> Result<(Dataset, Dataset)> {
        let (train, test) = data_for(model, self.data.as_deref(), self.seed)?;
        Ok((
            subset(train, self.eval_train, self.seed, "train")?,
            subset(test, self.eval_test, self.seed, "test")?,
        ))
    }

    /// A short description for `run.json`.
    pub fn describe(&self, model: &LoadedModel) -> String {
        match (&self.data, &model.data_file, &model.run_data) {
            (Some(d), _, _) => d.clone(),
            (None, Some(npz), _) => npz.display().to_string(),
            (None, None, Some((config, seed))) => format!("{} (seed {seed})", config.name()),
            (None, None, None) => "none".into(),
        }
    }
}

/// `n` examples of `data` (all when `n` is `None` or at least its size), chosen by a shuffle
/// from `seed`'s `"eval-<name>"` stream and kept in their original order.
fn subset(data: Dataset, n: Option<usize>, seed: u64, name: &str) -> Result<Dataset> {
    use rand::seq::SliceRandom as _;
    match n {
        None => Ok(data),
        Some(0) => bail!("eval_{name} is 0, expected at least one example"),
        Some(n) if n >= data.len() => Ok(data),
        Some(n) => {
            let mut order: Vec<usize> = (0..data.len()).collect();
            order.shuffle(&mut rng::stream(seed, &format!("eval-{name}")));
            order.truncate(n);
            order.sort_unstable();
            Ok(data.select(&order))
        }
    }
}

/// The training and test sets to evaluate `model` on: `data` if given, else its run's
/// `data.npz` (or, for an image run, the data its `run.json` names, split with the run's
/// seed); checked against the model's input size and classes.
pub fn data_for(model: &LoadedModel, data: Option<&str>, seed: u64) -> Result<(Dataset, Dataset)> {
    if let (None, Some((config, run_seed))) = (data, &model.run_data) {
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
            "{}: a safetensors file needs data to evaluate on (--data)",
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

/// Loss and accuracy of one model on its training and test data: what `genviz eval` prints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The weights file.
    pub model: String,
    /// Number of parameters (running statistics included).
    pub num_params: usize,
    /// On the training data.
    pub train: Score,
    /// On the test data.
    pub test: Score,
}

/// Loss and accuracy on one data set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Mean loss.
    pub loss: f64,
    /// Fraction classified correctly.
    pub accuracy: f64,
    /// Number of examples.
    pub examples: usize,
}

/// Evaluates the model at `path` on `data` ([`DataSource::load`]).
pub fn evaluate(path: &Path, data: &DataSource) -> Result<Evaluation> {
    let m = load(path)?;
    let (train, test) = data.load(&m)?;
    let score = |d: &Dataset| {
        let e = m.net.evaluate(&[m.params.values()], d)[0];
        Score {
            loss: e.loss,
            accuracy: e.accuracy,
            examples: d.len(),
        }
    };
    Ok(Evaluation {
        model: m.weights.display().to_string(),
        num_params: m.net.layout().len(),
        train: score(&train),
        test: score(&test),
    })
}

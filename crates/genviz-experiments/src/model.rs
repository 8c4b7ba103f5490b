//! Loading a model and its data the way every analysis does: a run folder or a weights file,
//! evaluated on the run's own data or on a data set named by the caller.

use crate::config::DataConfig;
use crate::record::RunRecord;
use anyhow::{bail, Context, Result};
use genviz_conv::{Device, DeviceNet};
use genviz_core::{rng, Dataset, Network, Params, Wrapper};
use genviz_mlp::Mlp;
pub use genviz_onnx::{BnMode, Head};
use genviz_onnx::{OnnxModel, OnnxNet, OnnxOptions};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A network of any family genviz computes, so every analysis takes all of them alike.
pub enum AnyNet {
    /// The native MLP engine.
    Mlp(Mlp),
    /// A burn-computed conv net.
    Conv(Box<DeviceNet>),
    /// A user's ONNX model, interpreted with burn.
    Onnx(Box<OnnxDeviceNet>),
}

/// An ONNX model on the device chosen when it was loaded.
pub enum OnnxDeviceNet {
    /// On the CPU.
    Cpu(OnnxNet<genviz_onnx::CpuBackend>),
    /// On GPU 0.
    #[cfg(feature = "cuda")]
    Cuda(OnnxNet<genviz_onnx::CudaBackend>),
}

impl OnnxDeviceNet {
    /// The network as the trait every analysis uses.
    pub fn net(&self) -> &dyn Network {
        match self {
            OnnxDeviceNet::Cpu(n) => n,
            #[cfg(feature = "cuda")]
            OnnxDeviceNet::Cuda(n) => n,
        }
    }

    /// The loaded graph.
    pub fn model(&self) -> &Arc<OnnxModel> {
        match self {
            OnnxDeviceNet::Cpu(n) => n.model(),
            #[cfg(feature = "cuda")]
            OnnxDeviceNet::Cuda(n) => n.model(),
        }
    }
}

/// How model files are opened: where the network computes, and for an ONNX file which
/// initializers are parameters, which loss head and which BatchNorm statistics.
///
/// Part of every analysis's [`DataSource`], so that a run's record reopens its model the
/// same way; all defaults are left out of `run.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelOptions {
    /// Where conv nets and ONNX models compute (`cuda` needs a build with that feature).
    #[serde(skip_serializing_if = "is_default")]
    pub device: Device,
    /// ONNX: a regular expression; only initializers whose names it matches are parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<String>,
    /// ONNX: the loss head (default: chosen from the file's metadata or its logit count).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<Head>,
    /// ONNX: BatchNorm's stored running statistics, or recomputed from the training data at
    /// every evaluated point.
    #[serde(skip_serializing_if = "is_default")]
    pub bn: BnMode,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

impl ModelOptions {
    /// Whether every choice is the default (then `run.json` leaves the options out).
    pub fn is_default(&self) -> bool {
        is_default(self)
    }

    fn onnx(&self) -> OnnxOptions {
        OnnxOptions {
            params: self.params.clone(),
            head: self.head,
            ..OnnxOptions::default()
        }
    }

    /// Refuses ONNX-only choices for a model that is not an ONNX file.
    fn check_not_onnx(&self, path: &Path) -> Result<()> {
        let only_onnx = [
            ("params", self.params.is_some()),
            ("head", self.head.is_some()),
            ("bn", self.bn != BnMode::default()),
        ];
        if let Some((name, _)) = only_onnx.iter().find(|(_, set)| *set) {
            bail!(
                "{}: `{name}` applies to ONNX models only (a .onnx file); this is a genviz model",
                path.display()
            );
        }
        Ok(())
    }
}

/// Whether `path` names an ONNX file.
pub fn is_onnx(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("onnx"))
}

impl AnyNet {
    /// The network as the trait every analysis uses.
    pub fn net(&self) -> &dyn Network {
        match self {
            AnyNet::Mlp(n) => n,
            AnyNet::Conv(n) => &***n,
            AnyNet::Onnx(n) => n.net(),
        }
    }

    /// Values per input example.
    pub fn input_dim(&self) -> usize {
        match self {
            AnyNet::Mlp(n) => n.spec().input_dim,
            AnyNet::Conv(n) => n.spec().input.iter().product(),
            AnyNet::Onnx(n) => n.model().example_shape().iter().product(),
        }
    }

    /// The network's description as `model.safetensors` stores it in its metadata (one
    /// entry, under the family's key), so that the file alone rebuilds the network. An ONNX
    /// model records the file it came from.
    pub fn metadata(&self) -> Result<std::collections::HashMap<String, String>> {
        let (key, value) = match self {
            AnyNet::Onnx(n) => (
                ONNX_SOURCE_METADATA_KEY,
                n.model().path().display().to_string(),
            ),
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
            AnyNet::Onnx(n) => {
                let model = n.model();
                let (opset, producer) = model.provenance();
                serde_json::json!({
                    "onnx": model.path(),
                    "opset": opset,
                    "producer": producer,
                    "input": model.example_shape(),
                    "classes": model.num_classes(),
                    "head": model.head(),
                    "parameters": model.layout().len(),
                })
            }
        }
    }

    /// What the loader noticed about the model that a user should know (an ONNX export
    /// with BatchNorm folded into the convolutions, say); empty for genviz's own models.
    pub fn warnings(&self) -> &[String] {
        match self {
            AnyNet::Onnx(n) => n.model().warnings(),
            _ => &[],
        }
    }
}

/// Every call goes to the family's own network, its fast paths included.
impl Wrapper for AnyNet {
    fn inner(&self) -> &dyn Network {
        self.net()
    }
}

/// The metadata key under which a model derived from an ONNX file names that file.
pub const ONNX_SOURCE_METADATA_KEY: &str = "genviz.onnx_source";

/// Rows per batch when BatchNorm statistics are recomputed (`bn = "recompute"`).
pub const BN_RECOMPUTE_BATCH: usize = 128;

/// A model to analyse: a run folder (`model.safetensors` beside its `data.npz`, or for an
/// image run its `run.json` naming the data), a safetensors file or an ONNX file.
pub struct LoadedModel {
    /// The network.
    pub net: AnyNet,
    /// Its parameters.
    pub params: Params,
    /// The weights file (the `.onnx` file for an ONNX model).
    pub weights: PathBuf,
    /// The run folder's `data.npz`, if the model came from a run folder.
    pub data_file: Option<PathBuf>,
    /// The run folder's data configuration and seed, for runs on image data (which keep no
    /// `data.npz`).
    pub run_data: Option<(DataConfig, u64)>,
    /// How it was opened, so that models compared with it open the same way.
    pub options: ModelOptions,
}

impl LoadedModel {
    /// What the generalization measures take: this model's network and weights, the weights
    /// it started from (`init`, when known) and the data.
    pub fn measure_inputs<'a>(
        &'a self,
        init: Option<&'a Params>,
        train: &'a Dataset,
        test: &'a Dataset,
    ) -> genviz_landscape::measures::Inputs<'a> {
        genviz_landscape::measures::Inputs {
            net: self.net.net(),
            theta: &self.params,
            init,
            train,
            test: Some(test),
        }
    }

    /// Recomputes an ONNX model's BatchNorm statistics from `train` at every evaluated point
    /// (Garipov et al.'s `update_bn`).
    ///
    /// # Errors
    /// A model that is not ONNX or has no BatchNorm, or too little data.
    pub fn recompute_bn(&mut self, train: &Dataset) -> Result<()> {
        let AnyNet::Onnx(net) = &mut self.net else {
            bail!(
                "{}: recomputing BatchNorm statistics applies to ONNX models only",
                self.weights.display()
            );
        };
        let train = Arc::new(train.clone());
        let recomputed = match &**net {
            OnnxDeviceNet::Cpu(n) => {
                OnnxDeviceNet::Cpu(n.clone().with_recomputed_bn(train, BN_RECOMPUTE_BATCH)?)
            }
            #[cfg(feature = "cuda")]
            OnnxDeviceNet::Cuda(n) => {
                OnnxDeviceNet::Cuda(n.clone().with_recomputed_bn(train, BN_RECOMPUTE_BATCH)?)
            }
        };
        **net = recomputed;
        Ok(())
    }
}

/// Loads `path` (a run folder, a `.safetensors` file: genviz's own or a PyTorch MLP, or an
/// `.onnx` file) with the default [`ModelOptions`].
pub fn load(path: &Path) -> Result<LoadedModel> {
    load_with(path, &ModelOptions::default())
}

/// Loads `path` as [`load`] does, opened as `options` say.
pub fn load_with(path: &Path, options: &ModelOptions) -> Result<LoadedModel> {
    if !options.device.is_available() {
        bail!(
            "device `{}` needs a genviz built with `--features {}`",
            options.device,
            options.device
        );
    }
    if is_onnx(path) {
        return load_onnx(path, options);
    }
    options.check_not_onnx(path)?;
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
            AnyNet::Conv(Box::new(DeviceNet::new(spec, options.device)?)),
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
        options: options.clone(),
    })
}

fn load_onnx(path: &Path, options: &ModelOptions) -> Result<LoadedModel> {
    let model = Arc::new(OnnxModel::open(path, &options.onnx())?);
    let params = model.params();
    let net = match options.device {
        Device::Cpu => OnnxDeviceNet::Cpu(OnnxNet::new(model, Default::default())),
        #[cfg(feature = "cuda")]
        Device::Cuda => OnnxDeviceNet::Cuda(OnnxNet::new(model, Default::default())),
        #[cfg(not(feature = "cuda"))]
        Device::Cuda => unreachable!("checked by is_available"),
    };
    Ok(LoadedModel {
        net: AnyNet::Onnx(Box::new(net)),
        params,
        weights: path.to_path_buf(),
        data_file: None,
        run_data: None,
        options: options.clone(),
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

/// Loads `path` and checks it has the same architecture as `reference`; for an ONNX
/// reference, `path` may also be a safetensors file whose tensor names are its parameters'
/// (a checkpoint saved from PyTorch's `state_dict`, say).
pub fn load_like(path: &Path, reference: &LoadedModel) -> Result<Params> {
    if matches!(reference.net, AnyNet::Onnx(_)) && !is_onnx(path) && !path.is_dir() {
        let file = genviz_core::io::read_safetensors(path)?;
        return Ok(genviz_core::io::params_from_tensors(
            reference.net.layout().clone(),
            &file,
            path,
        )?);
    }
    let other = load_with(path, &reference.options)?;
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
    /// How the model files are opened (device; ONNX parameters, head, BatchNorm mode).
    #[serde(default, skip_serializing_if = "ModelOptions::is_default")]
    pub model: ModelOptions,
}

impl DataSource {
    /// The run's own data, all of it; `seed` seeds a built-in set named later.
    pub fn own(seed: u64) -> Self {
        DataSource {
            data: None,
            seed,
            eval_train: None,
            eval_test: None,
            model: ModelOptions::default(),
        }
    }

    /// Opens the model at `path` as [`DataSource::model`] says, with the training and test
    /// sets it is evaluated on ([`DataSource::load`]); BatchNorm statistics are recomputed
    /// from that training set when asked. What the loader noticed about the model (an ONNX
    /// export with BatchNorm folded away, say) goes to `progress` as notes.
    pub fn open(
        &self,
        path: &Path,
        progress: &dyn crate::Progress,
    ) -> Result<(LoadedModel, Dataset, Dataset)> {
        let mut model = load_with(path, &self.model)?;
        for warning in model.net.warnings() {
            progress.note(&format!("warning: {warning}"));
        }
        let (train, test) = self.load(&model)?;
        if self.model.bn == BnMode::Recompute {
            model.recompute_bn(&train)?;
        }
        Ok((model, train, test))
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
            "{}: a {} file needs data to evaluate on (--data)",
            model.weights.display(),
            if is_onnx(&model.weights) {
                "ONNX"
            } else {
                "safetensors"
            }
        ),
    };
    if let (AnyNet::Onnx(n), DataConfig::Images { source, .. }) = (&model.net, &config) {
        // Before reading 60,000 images: their shape against the model's input.
        let shape = source.shape();
        n.model()
            .check_example_shape(&[shape.channels, shape.height, shape.width], false)
            .with_context(|| format!("{} images", source.name()))?;
    }
    let loaded = config.load(seed).context("loading the evaluation data")?;
    for (name, d) in [("training", &loaded.train), ("test", &loaded.test)] {
        if let AnyNet::Onnx(n) = &model.net {
            n.model()
                .check_dataset(d)
                .with_context(|| format!("the {name} data"))?;
            continue;
        }
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
    /// What the loader noticed about the model (see [`AnyNet::warnings`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
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
    let (m, train, test) = data.open(path, &crate::Silent)?;
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
        warnings: m.net.warnings().to_vec(),
        train: score(&train),
        test: score(&test),
    })
}

/// Writes genviz's own model at `path` (a run folder or a genviz safetensors file, MLP or
/// conv net) as an ONNX file at `out` (opset 17, PyTorch's tensor names, BatchNorm kept with
/// its running statistics), for Netron, onnxruntime or PyTorch; genviz reads it back to the
/// same losses.
///
/// # Errors
/// An unreadable model, an ONNX model (already one), or `out` not ending in `.onnx`.
pub fn export_onnx(path: &Path, out: &Path) -> Result<()> {
    if !is_onnx(out) {
        bail!("{}: expected a file name ending in .onnx", out.display());
    }
    let m = load(path)?;
    let bytes = match &m.net {
        AnyNet::Mlp(n) => genviz_onnx::export_mlp(n.spec(), m.params.values())?,
        AnyNet::Conv(n) => genviz_onnx::export_conv(n.spec(), m.params.values())?,
        AnyNet::Onnx(_) => bail!("{}: already an ONNX model", path.display()),
    };
    genviz_onnx::write_onnx(out, &bytes)?;
    Ok(())
}

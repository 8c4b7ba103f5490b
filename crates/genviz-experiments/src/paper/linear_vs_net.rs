//! `genviz linear-vs-net`: Fig 2 of the paper at CPU scale, a neural net against a linear
//! model on degree-2 polynomial features (SPEC 1.10).
//!
//! The authors train a ResNet-18 on CIFAR-10 and a linear classifier (`nn.Linear` with
//! softmax cross-entropy) on `CIFAR10poly16`, the degree-2 monomials of the 16x16 downsized
//! image plus the raw pixels (298,368 features). Both fit the training set; the linear model,
//! with far more parameters than training images and as expressive a function class on them,
//! generalises much worse. Their point: being able to fit the data does not explain why neural
//! nets generalise, so something about them (the paper argues: wide, flat basins of good
//! minima) must.
//!
//! Here, on the same shuffled subset of Fashion-MNIST's training images (default 2,000, the
//! rest of the official split unused), we train a conv net (default the small CNN of
//! `genviz train --model cnn`) and a linear softmax classifier on [`PolyFeatures`] of the
//! 14x14 downsized image (20,090 standardised features, 200,910 parameters), both to (about)
//! 100% training accuracy, and test both on the official test set. Each model has its own run
//! folder (`net/`, `linear/`) with the usual `run.json`, `model.safetensors`, `metrics.csv`
//! and checkpoints, so rerunning the same command resumes an interrupted run; the comparison
//! goes to `linear_vs_net.json`, `linear_vs_net.md` and `fig2_linear_vs_net.png`.

use crate::config::{DataConfig, ExperimentConfig, ModelConfig};
use crate::progress::Progress;
use crate::record::{Job, RunRecord};
use crate::Names;
use anyhow::{bail, Result};
use genviz_conv::Device;
use genviz_core::Network;
use genviz_data::ImageSource;
use genviz_mlp::{Activation, Head, Init};
use genviz_render::BarGroup;
use genviz_train::{LrSchedule, OptimizerConfig, TrainConfig};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Training images both models see (a CPU-sized stand-in for CIFAR-10's 50,000).
pub const DEFAULT_N_TRAIN: usize = 2_000;
/// Examples per step, for both models (the authors' `-batchsize 128`).
pub const BATCH_SIZE: usize = 128;
/// SGD momentum, for both models (the authors' `momentum=0.9`).
pub const MOMENTUM: f32 = 0.9;
/// The net's learning rate: the README's recipe for the small CNN on Fashion-MNIST.
pub const NET_LR: f64 = 0.05;
/// The net's steps: 40 epochs of 2,000 images (16 batches of 128 an epoch), by which the
/// small CNN fits its training set (measured: README, "Neural net vs linear model").
pub const NET_STEPS: u64 = 640;
/// The linear model's learning rate. The authors' 0.1 is far too large on standardised
/// features: the 20,090 features are strongly correlated (products of neighbouring pixels),
/// and the top eigenvalue of their second-moment matrix on 2,000 Fashion-MNIST images is
/// about 4,700 (measured by power iteration), which puts SGD with momentum 0.9 near its
/// stability edge at a few times 1e-3.
pub const LINEAR_LR: f64 = 1e-3;
/// The linear model's steps: 200 epochs. The same ill-conditioning makes the last few
/// training images slow to fit: in a NumPy replica of this recipe, training accuracy was
/// 96.5% after 640 steps, 99.3% after 1,920 and 99.75% after 3,200.
pub const LINEAR_STEPS: u64 = 3_200;
/// Evaluations logged per run (`metrics.csv`, the training curves).
const LOG_POINTS: u64 = 8;

/// Fig 2 at CPU scale: what to train and how.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinearVsNetConfig {
    /// The image data set.
    pub source: ImageSource,
    /// Folder of the image data set (default: `data/<name>`, then Debian's path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// Training images (shuffled with the seed from the official training split).
    pub n_train: usize,
    /// Side of the downsized image whose pixel products are features (default: half the
    /// image side, 14 for 28x28 as the authors' 16 for CIFAR-10's 32x32).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<usize>,
    /// The neural net.
    pub arch: genviz_conv::Arch,
    /// The net's name as given (`cnn`, `vgg9`, ...), for titles.
    pub model: String,
    /// Where the neural net computes.
    #[serde(default)]
    pub device: Device,
    /// The net's optimizer steps.
    pub net_steps: u64,
    /// The net's learning rate (constant).
    pub net_lr: f64,
    /// The linear model's optimizer steps.
    pub linear_steps: u64,
    /// The linear model's learning rate (constant).
    pub linear_lr: f64,
    /// Examples per step, both models.
    pub batch_size: usize,
    /// Coupled L2 weight decay, both models (the authors: 5e-4; default none, so that both fit
    /// the training set as far as they can).
    pub weight_decay: f32,
    /// Seed of the training subset, the initialisations and the batches.
    pub seed: u64,
}

impl LinearVsNetConfig {
    /// The CPU-scale defaults on `source`: 2,000 images, the small CNN for 640 steps at 0.05,
    /// the linear model for 3,200 steps at 1e-3, batch 128, seed 0.
    pub fn defaults(source: ImageSource) -> Self {
        LinearVsNetConfig {
            source,
            data_dir: None,
            n_train: DEFAULT_N_TRAIN,
            side: None,
            arch: genviz_conv::Arch::small_cnn(),
            model: "cnn".into(),
            device: Device::Cpu,
            net_steps: NET_STEPS,
            net_lr: NET_LR,
            linear_steps: LINEAR_STEPS,
            linear_lr: LINEAR_LR,
            batch_size: BATCH_SIZE,
            weight_decay: 0.0,
            seed: 0,
        }
    }

    /// The side of the downsized image, checked against the images.
    fn side(&self) -> Result<usize> {
        self.side_named(Names::Fields)
    }

    fn side_named(&self, names: Names) -> Result<usize> {
        let shape = self.source.shape();
        let side = self
            .side
            .unwrap_or(shape.height.min(shape.width) / 2)
            .max(1);
        if side > shape.height.min(shape.width) {
            bail!(
                "{} {side}: the images are {}x{}; the side must be at most {}",
                names.of("side"),
                shape.height,
                shape.width,
                shape.height.min(shape.width)
            );
        }
        Ok(side)
    }

    /// Refuses settings that cannot run, before anything is written.
    pub fn check(&self) -> Result<()> {
        self.check_named(Names::Fields)
    }

    /// [`check`](Self::check), naming settings with `names`.
    pub fn check_named(&self, names: Names) -> Result<()> {
        let n = |f: &str| names.of(f);
        for (field, lr) in [("net_lr", self.net_lr), ("linear_lr", self.linear_lr)] {
            if !(lr.is_finite() && lr > 0.0) {
                bail!("{} is {lr}, expected a positive number", n(field));
            }
        }
        if self.net_steps == 0 || self.linear_steps == 0 {
            bail!(
                "{} and {} must be at least 1",
                n("net_steps"),
                n("linear_steps")
            );
        }
        if self.batch_size == 0 || self.batch_size > self.n_train {
            bail!(
                "{} is {}, expected 1..={} ({})",
                n("batch_size"),
                self.batch_size,
                self.n_train,
                n("n_train")
            );
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            bail!(
                "{} is {}, expected a number >= 0",
                n("weight_decay"),
                self.weight_decay
            );
        }
        self.side_named(names)?;
        Ok(())
    }
}

/// One model's numbers, as `linear_vs_net.json` records them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelSummary {
    /// `"net"` or `"linear"`; also the run folder's name.
    pub name: String,
    /// What the model is, e.g. `"cnn"` or `"linear on 20090 polynomial features"`.
    pub model: String,
    /// Trainable parameters.
    pub num_params: usize,
    /// Input features per image.
    pub num_inputs: usize,
    /// Optimizer steps.
    pub steps: u64,
    /// Learning rate.
    pub lr: f64,
    /// Final training accuracy.
    pub train_acc: f64,
    /// Final mean training loss.
    pub train_loss: f64,
    /// Final test accuracy.
    pub test_acc: f64,
    /// Final mean test loss.
    pub test_loss: f64,
    /// Seconds this invocation spent in the training loop (periodic evaluations included); a
    /// rerun that resumes a finished or interrupted run counts only its own part.
    pub train_s: f64,
}

/// What `linear_vs_net.json` holds (and the `results` of `run.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Comparison {
    /// Always `linear-vs-net`.
    pub command: String,
    /// genviz's version.
    pub version: String,
    /// The image data set.
    pub data: String,
    /// The seed.
    pub seed: u64,
    /// Training images.
    pub n_train: usize,
    /// Test images.
    pub n_test: usize,
    /// Side of the downsized image.
    pub side: usize,
    /// Examples per step.
    pub batch_size: usize,
    /// SGD momentum.
    pub momentum: f32,
    /// Coupled L2 weight decay.
    pub weight_decay: f32,
    /// The neural net.
    pub net: ModelSummary,
    /// The linear model.
    pub linear: ModelSummary,
    /// Test accuracy of the net minus that of the linear model.
    pub test_acc_gap: f64,
    /// Seconds of this invocation.
    pub total_s: f64,
}

impl LinearVsNetConfig {
    /// SGD with the authors' momentum and batch size at a constant `lr` for `steps` steps,
    /// with a checkpoint (and resumable state) at every log point.
    fn train_config(&self, steps: u64, lr: f64) -> TrainConfig {
        let every = (steps / LOG_POINTS).max(1);
        TrainConfig {
            steps,
            optimizer: OptimizerConfig::Sgd {
                momentum: MOMENTUM,
                nesterov: false,
            },
            schedule: LrSchedule::constant(lr),
            batch_size: Some(self.batch_size),
            clip_norm: None,
            weight_decay: self.weight_decay,
            log_every: every,
            checkpoint_every: every,
            poison: None,
        }
    }

    /// The neural net's experiment: the images normalised per channel.
    pub fn net_experiment(&self) -> ExperimentConfig {
        ExperimentConfig {
            seed: self.seed,
            data: DataConfig::Images {
                source: self.source,
                dir: self.data_dir.clone(),
                n_train: Some(self.n_train),
                normalize: true,
                augment: None,
            },
            model: ModelConfig {
                hidden: Vec::new(),
                activation: Activation::Relu,
                head: Head::Softmax,
                init: Init::Pytorch,
                arch: Some(self.arch.clone()),
            },
            train: self.train_config(self.net_steps, self.net_lr),
            device: self.device,
        }
    }

    /// The linear model's experiment: a softmax classifier (an MLP without hidden layers,
    /// PyTorch's `nn.Linear` initialisation) on the standardised polynomial features of the
    /// same images (the same split: it depends only on the seed).
    pub fn linear_experiment(&self) -> Result<ExperimentConfig> {
        Ok(ExperimentConfig {
            seed: self.seed,
            data: DataConfig::PolyFeatures {
                source: self.source,
                dir: self.data_dir.clone(),
                n_train: self.n_train,
                side: self.side()?,
            },
            model: ModelConfig {
                hidden: Vec::new(),
                activation: Activation::Relu,
                head: Head::Softmax,
                init: Init::Pytorch,
                arch: None,
            },
            train: self.train_config(self.linear_steps, self.linear_lr),
            device: Device::Cpu,
        })
    }
}

/// A finished Fig 2.
pub struct LinearVsNetRun {
    /// What it measured.
    pub comparison: Comparison,
    /// What `run.json` says.
    pub record: RunRecord,
}

/// Trains a neural net and a linear model on degree-2 polynomial features of the same images
/// and compares how they generalise (Fig 2 of the paper, at CPU scale), into `dir`.
///
/// Both models train on the same shuffled subset of the training images with SGD (momentum
/// 0.9, batch 128, as the authors) and are tested on the official test set. Writes
/// `linear_vs_net.json` and `.md` (train and test accuracy and loss, parameter counts,
/// seconds), `fig2_linear_vs_net.png`, `run.json`, and the run folders `net/` and `linear/`
/// (each a `genviz train` run). Rerunning into the same folder resumes unfinished runs and
/// re-evaluates finished ones.
pub fn run(
    config: &LinearVsNetConfig,
    dir: &Path,
    progress: &dyn Progress,
) -> Result<LinearVsNetRun> {
    let all = Instant::now();
    config.check()?;
    let side = config.side()?;
    let shape = config.source.shape();
    let net_dir = dir.join("net");
    let trained = crate::train::run_labelled(
        &config.net_experiment(),
        &net_dir,
        &format!("net ({})", config.model),
        progress,
    );
    let trained = match trained {
        Ok(t) => t,
        Err(e) => {
            // Missing or bad data fails before anything is written: leave no empty folders
            // (a folder that already holds a run is not empty and stays).
            let _ = std::fs::remove_dir(&net_dir);
            let _ = std::fs::remove_dir(dir);
            return Err(e);
        }
    };
    let m = trained.final_metrics;
    let net = ModelSummary {
        name: "net".into(),
        model: config.model.clone(),
        num_params: trained.net.layout().num_trainable(),
        num_inputs: shape.len(),
        steps: config.net_steps,
        lr: config.net_lr,
        train_acc: m.train_acc,
        train_loss: m.train_loss,
        test_acc: m.test_acc,
        test_loss: m.test_loss,
        train_s: trained.train_s,
    };
    drop(trained);

    let linear_config = config.linear_experiment()?;
    let linear_run = crate::train::run_labelled(
        &linear_config,
        &dir.join("linear"),
        "linear (poly features)",
        progress,
    )?;
    let m = linear_run.final_metrics;
    let count = linear_run.train.dim();
    let linear = ModelSummary {
        name: "linear".into(),
        model: format!(
            "linear on {} polynomial features (side {side})",
            thousands(count)
        ),
        num_params: linear_run.net.layout().len(),
        num_inputs: count,
        steps: config.linear_steps,
        lr: config.linear_lr,
        train_acc: m.train_acc,
        train_loss: m.train_loss,
        test_acc: m.test_acc,
        test_loss: m.test_loss,
        train_s: linear_run.train_s,
    };
    let n_test = linear_run.test.len();
    drop(linear_run);

    let comparison = Comparison {
        command: "linear-vs-net".into(),
        version: genviz_core::VERSION.into(),
        data: config.source.name().into(),
        seed: config.seed,
        n_train: config.n_train,
        n_test,
        side,
        batch_size: config.batch_size,
        momentum: MOMENTUM,
        weight_decay: config.weight_decay,
        test_acc_gap: net.test_acc - linear.test_acc,
        net,
        linear,
        total_s: all.elapsed().as_secs_f64(),
    };
    genviz_core::io::write_json(&dir.join("linear_vs_net.json"), &comparison)?;
    let md = markdown(&comparison);
    genviz_core::io::write_atomic(&dir.join("linear_vs_net.md"), md.as_bytes())?;
    draw(&dir.join("fig2_linear_vs_net.png"), &comparison)?;
    let record = RunRecord::new(
        Job::LinearVsNet(config.clone()),
        Some(config.seed),
        &comparison,
    )?
    .with_timings([("total_s", all.elapsed().as_secs_f64())]);
    record.write(dir)?;
    crate::pages::write_page(dir)?;
    Ok(LinearVsNetRun { comparison, record })
}

/// The comparison as a Markdown table (`linear_vs_net.md`).
pub fn markdown(r: &Comparison) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Neural net vs linear model ({}, {} training images, {} test images, seed {})\n",
        r.data, r.n_train, r.n_test, r.seed
    );
    let _ = writeln!(
        s,
        "| model | parameters | inputs | steps | lr | train acc | test acc | train loss | test loss | seconds (this run) |"
    );
    let _ = writeln!(
        s,
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for m in [&r.net, &r.linear] {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {:.2}% | {:.2}% | {:.4} | {:.4} | {:.0} |",
            m.model,
            thousands(m.num_params),
            thousands(m.num_inputs),
            m.steps,
            m.lr,
            100.0 * m.train_acc,
            100.0 * m.test_acc,
            m.train_loss,
            m.test_loss,
            m.train_s
        );
    }
    let _ = writeln!(
        s,
        "\nSGD, momentum {}, batch {}, weight decay {}; the linear model sees the raw pixels and every product of two pixels of the {}x{} downsized image, standardised. The net generalises {:+.2} points better.",
        r.momentum,
        r.batch_size,
        r.weight_decay,
        r.side,
        r.side,
        100.0 * r.test_acc_gap
    );
    s
}

/// Fig 2: train and test accuracy of both models as grouped bars.
fn draw(path: &Path, r: &Comparison) -> Result<()> {
    let group = |m: &ModelSummary, what: &str| BarGroup {
        label: what.to_string(),
        note: Some(format!("{} parameters", thousands(m.num_params))),
        values: vec![Some(m.train_acc), Some(m.test_acc)],
    };
    let title = format!(
        "{}, {} training images: test {:.1}% (net) vs {:.1}% (linear)",
        r.data,
        r.n_train,
        100.0 * r.net.test_acc,
        100.0 * r.linear.test_acc
    );
    genviz_render::draw_grouped_bars(
        path,
        &title,
        "accuracy (%)",
        &["train", "test"],
        &[
            group(&r.net, &format!("neural net ({})", r.net.model)),
            group(
                &r.linear,
                &format!("linear on {} poly features", thousands(r.linear.num_inputs)),
            ),
        ],
        (0.0, 1.0),
        100.0,
    )?;
    Ok(())
}

/// `n` with commas between groups of three digits: `200,910`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn counts_get_thousands_separators() {
        for (count, shown) in [
            (0, "0"),
            (999, "999"),
            (20_090, "20,090"),
            (1_234_567, "1,234,567"),
        ] {
            assert_eq!(thousands(count), shown);
        }
    }
}

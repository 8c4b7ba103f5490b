//! `genviz optimizers`: the paper's optimizer table (Table 1, SPEC 1.10) at CPU scale.
//!
//! Huang et al. trained VGG-13 on CIFAR-10 with eleven optimizers, each with the learning rate
//! of one line of the authors' `optimizers/main.py`, and found that every one fits the training
//! set and generalizes: no optimizer is needed to steer away from bad minima. This command
//! trains one model on one data set from one initialisation (the same seed, so the same
//! initial weights, data and batch order) once per optimizer, each into its own run folder,
//! and tabulates the final train and test accuracy. The default is the small CNN on 500
//! Fashion-MNIST images for 150 epochs, which a 2-core CPU trains in minutes per optimizer; `--data
//! swiss-roll` runs the paper's swiss-roll MLP instead.
//!
//! The learning-rate schedule follows the authors' `MultiStepLR(milestones=[50, 100],
//! gamma=0.1)` over 150 epochs: the rate is divided by 10 after a third and after two thirds
//! of the steps.

use crate::config::{DataConfig, ExperimentConfig};
use crate::{conv_run, experiment, presets, progress, run_dir};
use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use genviz_core::{rng, Network};
use genviz_train::{FinalMetrics, LrSchedule, OptimizerConfig};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Training images of the default (Fashion-MNIST) run: few enough that 150 epochs, the
/// authors' count, take minutes per optimizer on a CPU.
pub const DEFAULT_N_TRAIN: usize = 500;
/// Examples per step: the authors' batch size (`optimizers/main.py`, batch 128).
pub const DEFAULT_BATCH: usize = 128;
/// Steps of an image run: about 150 epochs (the authors' count) of 500 images at batch 128
/// (3.9 steps an epoch). Measured (README, seed 1, a shared 2-core machine): four of the
/// optimizers slowest to fit after 150 steps (SGD .05, Adamax, ASGD, RMSprop; 84-88% train)
/// reach 97.8-100% train after 600, in 2-7 minutes each. With 2,000 images, 625 steps (40
/// epochs) left SGD at 89.3% and SGD with momentum at 94.7%.
pub const DEFAULT_IMAGE_STEPS: u64 = 600;
/// Steps of a run on generated 2-D data (200 training points, batch 128).
pub const DEFAULT_POINT_STEPS: u64 = 4000;
/// Seed of the default run.
pub const DEFAULT_SEED: u64 = 1;
/// The authors divide the rate by 10 at epochs 50 and 100 of 150: at these fractions of the
/// steps.
const MILESTONE_FRACTIONS: [f64; 2] = [1.0 / 3.0, 2.0 / 3.0];
/// Logged evaluations (train and test loss and accuracy) per run.
const LOG_POINTS: u64 = 5;
/// Checkpoints (with the optimizer's state, for resuming) per run.
const CHECKPOINTS: u64 = 4;

/// One optimizer of the paper's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Which {
    /// `SGD(lr=.01, momentum=0.9)`.
    Sgd,
    /// `SGD(lr=.05, momentum=0)`.
    SgdPlain,
    /// `SGD(lr=.01, momentum=0.9, nesterov=True)`.
    Nesterov,
    /// `Adam(lr=.01, betas=(.9, .999))`.
    Adam,
    /// `Adadelta(lr=5, rho=.5)`.
    Adadelta,
    /// `Adagrad(lr=.025)`.
    Adagrad,
    /// `Adamax(lr=0.0005, betas=(.9, .9))`.
    Adamax,
    /// `ASGD(lr=.1, lambd=.0001, alpha=.75)`.
    Asgd,
    /// `RMSprop(lr=0.0005, alpha=.72)`.
    Rmsprop,
    /// `Adam(lr=0.0005, betas=(.9, .99), amsgrad=True)`.
    Amsgrad,
    /// `LBFGS(lr=.9)`.
    Lbfgs,
}

impl Which {
    /// Every optimizer, in the order of the authors' script.
    pub const ALL: [Which; 11] = [
        Which::Sgd,
        Which::SgdPlain,
        Which::Nesterov,
        Which::Adam,
        Which::Adadelta,
        Which::Adagrad,
        Which::Adamax,
        Which::Asgd,
        Which::Rmsprop,
        Which::Amsgrad,
        Which::Lbfgs,
    ];

    /// The folder name and `--only` key.
    pub fn key(self) -> &'static str {
        match self {
            Which::Sgd => "sgd",
            Which::SgdPlain => "sgd-plain",
            Which::Nesterov => "nesterov",
            Which::Adam => "adam",
            Which::Adadelta => "adadelta",
            Which::Adagrad => "adagrad",
            Which::Adamax => "adamax",
            Which::Asgd => "asgd",
            Which::Rmsprop => "rmsprop",
            Which::Amsgrad => "amsgrad",
            Which::Lbfgs => "lbfgs",
        }
    }

    /// A short label for the table and the figure.
    pub fn label(self) -> &'static str {
        match self {
            Which::Sgd => "SGD+mom.",
            Which::SgdPlain => "SGD",
            Which::Nesterov => "Nesterov",
            Which::Adam => "Adam",
            Which::Adadelta => "Adadelta",
            Which::Adagrad => "Adagrad",
            Which::Adamax => "Adamax",
            Which::Asgd => "ASGD",
            Which::Rmsprop => "RMSprop",
            Which::Amsgrad => "AMSGrad",
            Which::Lbfgs => "LBFGS",
        }
    }

    /// The learning rate of the authors' line (`optimizers/main.py`, SPEC 1.10).
    pub fn paper_lr(self) -> f64 {
        match self {
            Which::Sgd | Which::Nesterov | Which::Adam => 0.01,
            Which::SgdPlain => 0.05,
            Which::Adadelta => 5.0,
            Which::Adagrad => 0.025,
            Which::Adamax | Which::Rmsprop | Which::Amsgrad => 0.0005,
            Which::Asgd => 0.1,
            Which::Lbfgs => 0.9,
        }
    }

    /// The optimizer with the authors' hyper-parameters (PyTorch's defaults elsewhere).
    pub fn config(self) -> OptimizerConfig {
        match self {
            Which::Sgd => OptimizerConfig::Sgd {
                momentum: 0.9,
                nesterov: false,
            },
            Which::SgdPlain => OptimizerConfig::Sgd {
                momentum: 0.0,
                nesterov: false,
            },
            Which::Nesterov => OptimizerConfig::Sgd {
                momentum: 0.9,
                nesterov: true,
            },
            Which::Adam => OptimizerConfig::adam(),
            Which::Adadelta => OptimizerConfig::adadelta(0.5),
            Which::Adagrad => OptimizerConfig::adagrad(),
            Which::Adamax => OptimizerConfig::adamax(0.9, 0.9),
            Which::Asgd => OptimizerConfig::asgd(),
            Which::Rmsprop => OptimizerConfig::rmsprop(0.72),
            Which::Amsgrad => OptimizerConfig::Adam {
                beta1: 0.9,
                beta2: 0.99,
                eps: 1e-8,
                amsgrad: true,
            },
            Which::Lbfgs => OptimizerConfig::lbfgs(),
        }
    }
}

/// The hyper-parameters of `config` other than the rate, as PyTorch names them.
pub fn hyper_text(config: &OptimizerConfig) -> String {
    match *config {
        OptimizerConfig::Sgd {
            momentum: 0.0,
            nesterov: false,
        } => "momentum 0".into(),
        OptimizerConfig::Sgd { momentum, nesterov } => {
            format!("momentum {momentum}{}", if nesterov { ", nesterov" } else { "" })
        }
        OptimizerConfig::Adam {
            beta1,
            beta2,
            eps,
            amsgrad,
        } => format!(
            "betas ({beta1}, {beta2}), eps {eps:e}{}",
            if amsgrad { ", amsgrad" } else { "" }
        ),
        OptimizerConfig::Rmsprop {
            alpha,
            eps,
            momentum,
        } => format!("alpha {alpha}, eps {eps:e}, momentum {momentum}"),
        OptimizerConfig::Adagrad {
            lr_decay,
            initial_accumulator_value,
            eps,
        } => format!(
            "lr_decay {lr_decay}, initial_accumulator_value {initial_accumulator_value}, eps {eps:e}"
        ),
        OptimizerConfig::Adadelta { rho, eps } => format!("rho {rho}, eps {eps:e}"),
        OptimizerConfig::Adamax { beta1, beta2, eps } => {
            format!("betas ({beta1}, {beta2}), eps {eps:e}")
        }
        OptimizerConfig::Asgd { lambd, alpha, t0 } => {
            format!("lambd {lambd:e}, alpha {alpha}, t0 {t0:e}")
        }
        OptimizerConfig::Lbfgs {
            max_iter,
            max_eval,
            tolerance_grad,
            tolerance_change,
            history_size,
        } => format!(
            "max_iter {max_iter}, max_eval {}, history_size {history_size}, tolerance_grad {tolerance_grad:e}, tolerance_change {tolerance_change:e}, no line search",
            max_eval.unwrap_or(max_iter * 5 / 4)
        ),
    }
}

/// The flags of `genviz optimizers` (its help text is on the subcommand in main.rs).
#[derive(Args)]
pub struct OptimizersArgs {
    /// Optimizers to train, comma separated (default: all eleven of the paper's table).
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Option<Vec<Which>>,
    /// Optimizer steps of each run (default: 600 for image data, 4,000 otherwise).
    #[arg(long)]
    steps: Option<u64>,
    /// Data: fashion-mnist, mnist, cifar10, swiss-roll, moons, blobs, ... (as `genviz train`).
    #[arg(long, default_value = "fashion-mnist")]
    data: String,
    /// Folder of an image data set (default: data/<name>, then Debian's
    /// /usr/share/datasets/fashion-mnist for fashion-mnist).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Training images of an image data set.
    #[arg(long, default_value_t = DEFAULT_N_TRAIN)]
    n_train: usize,
    /// Model: mlp, or a conv net (cnn, resnet20, ...; needs image data). Default: cnn for
    /// image data, the paper's swiss-roll MLP otherwise.
    #[arg(long)]
    model: Option<String>,
    /// Hidden widths of the MLP, comma separated (default: the paper's 23,16,26,32,28,31).
    #[arg(long, value_delimiter = ',')]
    hidden: Option<Vec<usize>>,
    /// Examples per step (the authors: 128).
    #[arg(long, default_value_t = DEFAULT_BATCH)]
    batch_size: usize,
    /// Keep every rate constant instead of dividing it by 10 after 1/3 and 2/3 of the steps.
    #[arg(long)]
    constant_lr: bool,
    /// Seed of the initialisation, data split and batches (shared by every optimizer).
    #[arg(long, default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// Where a conv net computes.
    #[arg(long, value_enum, default_value_t = conv_run::Device::Cpu)]
    device: conv_run::Device,
    /// Output folder (default: a new folder under runs/). A rerun into the same folder skips
    /// finished runs and resumes interrupted ones.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The setting every optimizer shares.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Setting {
    /// Data, model, seed and the shared training fields; the optimizer and rate are replaced
    /// per run.
    pub base: ExperimentConfig,
    /// Whether the rate is divided by 10 after 1/3 and 2/3 of the steps.
    pub milestones: bool,
}

impl Setting {
    /// The experiment of one optimizer.
    pub fn experiment(&self, which: Which) -> ExperimentConfig {
        let mut c = self.base.clone();
        c.train.optimizer = which.config();
        c.train.schedule = schedule(which.paper_lr(), c.train.steps, self.milestones);
        c
    }
}

/// The authors' MultiStepLR scaled to `steps`.
fn schedule(lr: f64, steps: u64, milestones: bool) -> LrSchedule {
    let mut m: Vec<u64> = if milestones {
        MILESTONE_FRACTIONS
            .iter()
            .map(|f| (f * steps as f64).round() as u64)
            .filter(|&s| s > 0 && s < steps)
            .collect()
    } else {
        Vec::new()
    };
    m.dedup();
    LrSchedule {
        milestones: m,
        ..LrSchedule::constant(lr)
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// It trained all its steps.
    Trained,
    /// The loss or gradient became non-finite.
    Diverged,
}

/// One row of the table, as `optimizers.json` holds it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row {
    /// The `--only` key and folder name.
    pub key: String,
    /// PyTorch's name of the optimizer.
    pub optimizer: String,
    /// Every hyper-parameter.
    pub config: OptimizerConfig,
    /// The hyper-parameters other than the rate, in words.
    pub hyper_parameters: String,
    /// The schedule (the authors' rate, divided by 10 at the milestones).
    pub schedule: LrSchedule,
    /// Optimizer steps.
    pub steps: u64,
    /// Loss and gradient evaluations (steps, or more for L-BFGS); `None` when it diverged.
    pub gradient_evaluations: Option<u64>,
    /// How it ended.
    pub status: Status,
    /// Why it stopped, when it diverged.
    pub error: Option<String>,
    /// Loss and accuracy of the final model; `None` when it diverged.
    #[serde(rename = "final")]
    pub final_metrics: Option<FinalMetrics>,
    /// Seconds spent training (the training loop; the whole failed call when it diverged).
    pub seconds: f64,
}

/// What each run folder keeps so a rerun can skip it: the experiment and its row.
#[derive(Serialize, Deserialize)]
struct Finished {
    config: ExperimentConfig,
    row: Row,
}

/// Name of the per-run record that marks a run as finished.
const FINISHED_FILE: &str = "optimizer.json";

/// Runs `genviz optimizers`.
pub fn run(args: OptimizersArgs) -> Result<()> {
    let setting = setting(&args)?;
    let which = args.only.clone().unwrap_or_else(|| Which::ALL.to_vec());
    if which.is_empty() {
        bail!("--only: name at least one optimizer");
    }
    for w in &which {
        setting.experiment(*w).train.validate()?;
    }
    let dir = run_dir::prepare(
        args.out.as_deref(),
        &format!("optimizers-{}", setting.base.data.name()),
    )?;
    let all = Instant::now();
    let bars = progress::Bars::new();
    let initial = initial_metrics(&dir, &setting.base).context("evaluating the initial model")?;
    let mut rows = Vec::new();
    for w in which {
        let row = train_one(&dir, &setting, w, args.device, &bars)?;
        match (&row.final_metrics, &row.error) {
            (Some(m), _) => println!(
                "{:>10}: train {:.2}% (loss {:.4}), test {:.2}% (loss {:.4}), {:.0} s",
                w.label(),
                100.0 * m.train_acc,
                m.train_loss,
                100.0 * m.test_acc,
                m.test_loss,
                row.seconds
            ),
            (None, e) => println!(
                "{:>10}: diverged ({})",
                w.label(),
                e.as_deref().unwrap_or("")
            ),
        }
        rows.push(row);
        // The tables are rewritten after every run, so an interrupted command leaves them
        // current.
        write_outputs(&dir, &setting, &initial, &rows, all.elapsed().as_secs_f64())?;
    }
    println!(
        "{}: optimizers.md, optimizers.json, optimizers.png",
        dir.display()
    );
    Ok(())
}

/// The shared experiment the flags describe.
fn setting(args: &OptimizersArgs) -> Result<Setting> {
    let mut c = presets::swiss_roll_clean(1);
    c.seed = args.seed;
    c.data = DataConfig::builtin(&args.data)?;
    let images = c.data.image_shape().is_some();
    if let DataConfig::Images { dir, n_train, .. } = &mut c.data {
        dir.clone_from(&args.data_dir);
        *n_train = Some(args.n_train);
    } else if args.data_dir.is_some() {
        bail!("--data-dir applies to image data (mnist, fashion-mnist, cifar10)");
    }
    if !matches!(c.data, DataConfig::SwissRoll { .. }) {
        // The sigmoid head only fits two classes; softmax works for any number.
        c.model.head = genviz_mlp::Head::Softmax;
    }
    c.model.arch = match args.model.as_deref() {
        Some("mlp") => None,
        Some(m) => Some(genviz_conv::Arch::parse(m)?),
        None if images => Some(genviz_conv::Arch::small_cnn()),
        None => None,
    };
    if c.model.arch.is_some() && !images {
        bail!(
            "--model {}: a conv net needs image data (--data mnist, fashion-mnist or cifar10), not {}",
            args.model.as_deref().unwrap_or("cnn"),
            args.data
        );
    }
    if let Some(h) = &args.hidden {
        if c.model.arch.is_some() {
            bail!(
                "--hidden sets the MLP's widths; it does not apply to --model {}",
                args.model.as_deref().unwrap_or("cnn")
            );
        }
        c.model.hidden = h.clone();
    }
    let steps = args.steps.unwrap_or(if images {
        DEFAULT_IMAGE_STEPS
    } else {
        DEFAULT_POINT_STEPS
    });
    if steps == 0 {
        bail!("--steps must be at least 1");
    }
    if args.batch_size == 0 {
        bail!("--batch-size must be at least 1");
    }
    c.train.steps = steps;
    c.train.batch_size = Some(args.batch_size);
    c.train.clip_norm = None;
    c.train.weight_decay = 0.0;
    c.train.poison = None;
    c.train.log_every = (steps / LOG_POINTS).max(1);
    c.train.checkpoint_every = (steps / CHECKPOINTS).max(1);
    Ok(Setting {
        base: c,
        milestones: !args.constant_lr,
    })
}

/// Trains (or picks up) one optimizer's run in `dir/<key>/`.
fn train_one(
    dir: &Path,
    setting: &Setting,
    which: Which,
    device: conv_run::Device,
    bars: &progress::Bars,
) -> Result<Row> {
    let config = setting.experiment(which);
    let sub = dir.join(which.key());
    let record = sub.join(FINISHED_FILE);
    if let Some(done) = read_finished(&record)? {
        if done.config == config {
            eprintln!("{}: finished before, skipped", sub.display());
            return Ok(done.row);
        }
        bail!(
            "{} holds a run with another configuration; choose another --out",
            record.display()
        );
    }
    std::fs::create_dir_all(&sub).with_context(|| format!("creating {}", sub.display()))?;
    let label = format!("{} lr {}", which.label(), which.paper_lr());
    let start = Instant::now();
    let result = match &config.model.arch {
        Some(arch) => {
            let target = conv_run::RunTarget {
                dir: &sub,
                command: "optimizers",
                label: &label,
            };
            conv_run::run(&config, arch, device, &target, bars)
                .map(|o| (o.final_metrics, o.train_s, o.gradient_evaluations))
        }
        None => experiment::run(&config, &sub, "optimizers", &label, bars)
            .map(|r| (r.final_metrics, r.train_s, r.gradient_evaluations)),
    };
    let mut row = Row {
        key: which.key().into(),
        optimizer: config.train.optimizer.name().into(),
        config: config.train.optimizer.clone(),
        hyper_parameters: hyper_text(&config.train.optimizer),
        schedule: config.train.schedule.clone(),
        steps: config.train.steps,
        gradient_evaluations: None,
        status: Status::Trained,
        error: None,
        final_metrics: None,
        seconds: start.elapsed().as_secs_f64(),
    };
    match result {
        Ok((m, seconds, evaluations)) => {
            row.final_metrics = Some(m);
            row.seconds = seconds;
            row.gradient_evaluations = Some(evaluations);
        }
        Err(e) if is_numerical(&e) => {
            row.status = Status::Diverged;
            row.error = Some(format!("{:#}", e));
        }
        Err(e) => return Err(e),
    }
    genviz_core::io::write_json(
        &record,
        &Finished {
            config,
            row: row.clone(),
        },
    )?;
    Ok(row)
}

fn read_finished(path: &Path) -> Result<Option<Finished>> {
    if !path.exists() {
        return Ok(None);
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let done = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a finished optimizer run", path.display()))?;
    Ok(Some(done))
}

/// Whether `e` is a run stopped by a non-finite loss or gradient.
fn is_numerical(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<genviz_core::Error>(),
            Some(genviz_core::Error::Numerical(_))
        )
    })
}

/// Loss and accuracy of the shared initial model (cached in `initial.json`).
fn initial_metrics(dir: &Path, base: &ExperimentConfig) -> Result<FinalMetrics> {
    #[derive(Serialize, Deserialize)]
    struct Initial {
        seed: u64,
        data: DataConfig,
        model: crate::config::ModelConfig,
        #[serde(rename = "initial")]
        metrics: FinalMetrics,
    }
    let path = dir.join("initial.json");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        if let Ok(i) = serde_json::from_str::<Initial>(&text) {
            if i.seed == base.seed && i.data == base.data && i.model == base.model {
                return Ok(i.metrics);
            }
        }
    }
    let loaded = base.data.load(base.seed).context("loading the data")?;
    let mut init_rng = rng::stream(base.seed, "init");
    let metrics = match &base.model.arch {
        // The same initialisation as the runs: conv_run and experiment draw from this stream.
        Some(arch) => {
            let shape = base.data.image_shape().context("a conv net needs images")?;
            let spec = genviz_conv::ConvSpec {
                arch: arch.clone(),
                input: [shape.channels, shape.height, shape.width],
                num_classes: loaded.train.num_classes(),
            };
            let net = genviz_conv::ConvNet::<conv_run::CpuBackend>::new(spec, Default::default())?;
            let init = genviz_conv::init_params(net.layout(), &mut init_rng);
            evaluate(&net, init.values(), &loaded)
        }
        None => {
            let spec = base
                .model
                .spec(loaded.train.dim(), loaded.train.num_classes());
            let net = genviz_mlp::Mlp::new(spec.clone())?;
            let init = genviz_mlp::init_params(&spec, base.model.init, &mut init_rng);
            evaluate(&net, init.values(), &loaded)
        }
    };
    genviz_core::io::write_json(
        &path,
        &Initial {
            seed: base.seed,
            data: base.data.clone(),
            model: base.model.clone(),
            metrics,
        },
    )?;
    Ok(metrics)
}

fn evaluate(net: &dyn Network, theta: &[f32], data: &crate::config::LoadedData) -> FinalMetrics {
    let train = net.evaluate(&[theta], &data.train)[0];
    let test = net.evaluate(&[theta], &data.test)[0];
    FinalMetrics {
        train_loss: train.loss,
        train_acc: train.accuracy,
        test_loss: test.loss,
        test_acc: test.accuracy,
    }
}

/// The data's name, with the training-set size of image data: `fashion-mnist (2000 images)`.
fn data_name(data: &DataConfig) -> String {
    match data {
        DataConfig::Images {
            n_train: Some(n), ..
        } => format!("{} ({n} images)", data.name()),
        _ => data.name().to_string(),
    }
}

/// A short name of the model for titles: `CNN 16-32-128`, `MLP 23-16-26-32-28-31`.
fn model_name(model: &crate::config::ModelConfig) -> String {
    let widths = |w: &[usize]| {
        w.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("-")
    };
    match &model.arch {
        Some(genviz_conv::Arch::Cnn { channels, hidden }) => {
            format!("CNN {}-{}", widths(channels), hidden)
        }
        Some(genviz_conv::Arch::ResNet {
            blocks,
            widths: w,
            skip,
        }) => format!(
            "ResNet blocks {} widths {}{}",
            widths(blocks),
            widths(w),
            if *skip { "" } else { " (no skips)" }
        ),
        Some(genviz_conv::Arch::Vgg { stages, .. }) => format!(
            "VGG {}",
            stages
                .iter()
                .map(|s| widths(s))
                .collect::<Vec<_>>()
                .join("-M-")
        ),
        None => format!("MLP {}", widths(&model.hidden)),
    }
}

/// What `optimizers.json` holds.
#[derive(Serialize)]
struct Table<'a> {
    command: &'a str,
    version: &'a str,
    seed: u64,
    data: &'a DataConfig,
    model: &'a crate::config::ModelConfig,
    steps: u64,
    batch_size: usize,
    /// Where the rate is divided by 10, as fractions of the steps (empty: constant).
    milestone_fractions: Vec<f64>,
    /// Loss and accuracy of the shared initial weights.
    initial: &'a FinalMetrics,
    rows: &'a [Row],
    /// Seconds of this invocation (runs skipped as finished cost nothing).
    seconds: f64,
}

/// Writes `optimizers.json`, `optimizers.md` and `optimizers.png`.
fn write_outputs(
    dir: &Path,
    setting: &Setting,
    initial: &FinalMetrics,
    rows: &[Row],
    seconds: f64,
) -> Result<()> {
    let base = &setting.base;
    let model = model_name(&base.model);
    let batch = base.train.batch_size.unwrap_or(0);
    genviz_core::io::write_json(
        &dir.join("optimizers.json"),
        &Table {
            command: "optimizers",
            version: genviz_core::VERSION,
            seed: base.seed,
            data: &base.data,
            model: &base.model,
            steps: base.train.steps,
            batch_size: batch,
            milestone_fractions: if setting.milestones {
                MILESTONE_FRACTIONS.to_vec()
            } else {
                Vec::new()
            },
            initial,
            rows,
            seconds,
        },
    )?;
    let mut md = format!(
        "# genviz optimizers: the paper's Table 1 at CPU scale\n\n\
         Data {}, model {model}, seed {}, {} steps of batch {batch}, {}; every run starts from \
         the same weights (initial train accuracy {:.2}%, test {:.2}%).\n\n\
         | optimizer | lr | hyper-parameters | steps | gradient evaluations | train acc | test acc | train loss | test loss | seconds |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
        data_name(&base.data),
        base.seed,
        base.train.steps,
        if setting.milestones {
            "rate divided by 10 after 1/3 and 2/3 of the steps"
        } else {
            "constant rate"
        },
        100.0 * initial.train_acc,
        100.0 * initial.test_acc
    );
    for r in rows {
        let label = Which::ALL
            .iter()
            .find(|w| w.key() == r.key)
            .map_or(r.optimizer.as_str(), |w| w.label());
        let _ = match (&r.final_metrics, r.gradient_evaluations) {
            (Some(m), Some(evals)) => writeln!(
                md,
                "| {label} | {} | {} | {} | {evals} | {:.2}% | {:.2}% | {:.4} | {:.4} | {:.0} |",
                r.schedule.lr,
                r.hyper_parameters,
                r.steps,
                100.0 * m.train_acc,
                100.0 * m.test_acc,
                m.train_loss,
                m.test_loss,
                r.seconds
            ),
            _ => writeln!(
                md,
                "| {label} | {} | {} | {} | - | diverged | - | - | - | {:.0} |",
                r.schedule.lr, r.hyper_parameters, r.steps, r.seconds
            ),
        };
    }
    if let Some(e) = rows.iter().find_map(|r| r.error.as_ref()) {
        let _ = writeln!(md, "\nA diverged run stopped with: {e}");
    }
    genviz_core::io::write_atomic(&dir.join("optimizers.md"), md.as_bytes())?;

    let groups: Vec<genviz_render::BarGroup> = rows
        .iter()
        .map(|r| genviz_render::BarGroup {
            label: Which::ALL
                .iter()
                .find(|w| w.key() == r.key)
                .map_or(r.optimizer.clone(), |w| w.label().to_string()),
            note: Some(match r.status {
                Status::Trained => format!("lr {}", r.schedule.lr),
                Status::Diverged => format!("lr {}, diverged", r.schedule.lr),
            }),
            values: match &r.final_metrics {
                Some(m) => vec![Some(m.train_acc), Some(m.test_acc)],
                None => vec![None, None],
            },
        })
        .collect();
    genviz_render::draw_grouped_bars(
        &dir.join("optimizers.png"),
        &format!(
            "Same net, same start, {} optimizers: {}, {model}, {} steps",
            rows.len(),
            data_name(&base.data),
            base.train.steps
        ),
        "accuracy (%)",
        &["train", "test"],
        &groups,
        (0.0, 1.0),
        100.0,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_the_authors_eleven_lines() {
        assert_eq!(Which::ALL.len(), 11);
        for w in Which::ALL {
            w.config().validate().unwrap();
            assert!(w.paper_lr() > 0.0);
        }
        assert_eq!(Which::Amsgrad.config().name(), "AMSGrad");
        assert_eq!(Which::Lbfgs.paper_lr(), 0.9);
    }

    #[test]
    fn the_schedule_drops_after_a_third_and_two_thirds() {
        let s = schedule(0.01, 150, true);
        assert_eq!(s.milestones, vec![50, 100]);
        assert!((s.at(120) - 1e-4).abs() < 1e-12);
        assert!(schedule(0.01, 150, false).milestones.is_empty());
        assert!(schedule(0.01, 1, true).milestones.is_empty());
    }
}

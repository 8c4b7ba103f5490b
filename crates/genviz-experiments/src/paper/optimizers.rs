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
use crate::presets;
use crate::progress::Progress;
use crate::record::{Job, RunRecord};
use anyhow::{bail, Context, Result};
use genviz_conv::Device;
use genviz_train::optimizer_table::hyper_parameters;
use genviz_train::{FinalMetrics, LrSchedule, OptimizerConfig, TableOptimizer};
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

/// The choices of one optimizer table, as the command line gives them.
#[derive(Clone, Debug, PartialEq)]
pub struct OptimizersOptions {
    /// Optimizers to train (`None`: all eleven of the paper's table).
    pub only: Option<Vec<TableOptimizer>>,
    /// Optimizer steps of each run (default: 600 for image data, 4,000 otherwise).
    pub steps: Option<u64>,
    /// Data: fashion-mnist, mnist, cifar10, swiss-roll, moons, blobs, ... (as `genviz train`).
    pub data: String,
    /// Folder of an image data set.
    pub data_dir: Option<PathBuf>,
    /// Training images of an image data set.
    pub n_train: usize,
    /// Model: mlp, or a conv net (cnn, resnet20, ...; needs image data). Default: cnn for
    /// image data, the paper's swiss-roll MLP otherwise.
    pub model: Option<String>,
    /// Hidden widths of the MLP (default: the paper's).
    pub hidden: Option<Vec<usize>>,
    /// Examples per step (the authors: 128).
    pub batch_size: usize,
    /// Keep every rate constant instead of dividing it by 10 after 1/3 and 2/3 of the steps.
    pub constant_lr: bool,
    /// Seed of the initialisation, data split and batches (shared by every optimizer).
    pub seed: u64,
    /// Where a conv net computes.
    pub device: Device,
}

impl Default for OptimizersOptions {
    /// The measured CPU-scale table: the small CNN on 500 Fashion-MNIST images, batch 128,
    /// seed 1, all eleven optimizers.
    fn default() -> Self {
        OptimizersOptions {
            only: None,
            steps: None,
            data: "fashion-mnist".into(),
            data_dir: None,
            n_train: DEFAULT_N_TRAIN,
            model: None,
            hidden: None,
            batch_size: DEFAULT_BATCH,
            constant_lr: false,
            seed: DEFAULT_SEED,
            device: Device::Cpu,
        }
    }
}

/// One optimizer table: the shared setting and the optimizers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizersConfig {
    /// What every run shares.
    pub setting: Setting,
    /// The optimizers, in order.
    pub only: Vec<TableOptimizer>,
}

/// The setting every optimizer shares.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setting {
    /// Data, model, seed and the shared training fields; the optimizer and rate are replaced
    /// per run.
    pub base: ExperimentConfig,
    /// Whether the rate is divided by 10 after 1/3 and 2/3 of the steps.
    pub milestones: bool,
}

impl Setting {
    /// The experiment of one optimizer.
    pub fn experiment(&self, which: TableOptimizer) -> ExperimentConfig {
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

/// A finished optimizer table.
pub struct OptimizersRun {
    /// One row per optimizer, in order.
    pub rows: Vec<Row>,
    /// Loss and accuracy of the shared initial weights.
    pub initial: FinalMetrics,
    /// What `run.json` says.
    pub record: RunRecord,
}

impl OptimizersConfig {
    /// The table the options describe.
    ///
    /// # Errors
    /// When the data or model cannot be used together, or a setting cannot run.
    pub fn new(options: &OptimizersOptions) -> Result<Self> {
        let only = options
            .only
            .clone()
            .unwrap_or_else(|| TableOptimizer::ALL.to_vec());
        if only.is_empty() {
            bail!("name at least one optimizer");
        }
        let config = OptimizersConfig {
            setting: setting(options)?,
            only,
        };
        config.check()?;
        Ok(config)
    }

    /// Refuses a table whose runs cannot train, before anything is written.
    pub fn check(&self) -> Result<()> {
        for w in &self.only {
            self.setting.experiment(*w).train.validate()?;
        }
        Ok(())
    }
}

/// The paper's optimizer table (Table 1, SPEC 1.10) at CPU scale, into `dir`.
///
/// Trains the same model on the same data from the same initialisation (and batch order)
/// once per optimizer, each with the learning rate of the authors' `optimizers/main.py`,
/// divided by 10 after 1/3 and 2/3 of the steps (their `MultiStepLR` over 150 epochs). Each
/// optimizer trains into its own run folder (`<dir>/<key>/`, as `genviz train`); a rerun into
/// the same folder skips finished runs and resumes interrupted ones. Writes `optimizers.md`,
/// `optimizers.json` (hyper-parameters, steps, gradient evaluations, final train/test accuracy
/// and loss, seconds), `optimizers.png` (train vs test accuracy) and `run.json`; the tables are
/// rewritten after every run, so an interrupted table is current.
pub fn run(
    config: &OptimizersConfig,
    dir: &Path,
    progress: &dyn Progress,
) -> Result<OptimizersRun> {
    config.check()?;
    crate::run_dir::create(dir)?;
    let all = Instant::now();
    let setting = &config.setting;
    let initial = initial_metrics(dir, &setting.base).context("evaluating the initial model")?;
    let mut rows = Vec::new();
    for &w in &config.only {
        let row = train_one(dir, setting, w, progress)?;
        progress.note(&row_line(w, &row));
        rows.push(row);
        write_outputs(dir, setting, &initial, &rows, all.elapsed().as_secs_f64())?;
    }
    let record = RunRecord::new(
        Job::Optimizers(config.clone()),
        Some(setting.base.seed),
        &serde_json::json!({ "initial": initial, "rows": rows }),
    )?
    .with_timings([("total_s", all.elapsed().as_secs_f64())]);
    record.write(dir)?;
    crate::pages::write_page(dir)?;
    Ok(OptimizersRun {
        rows,
        initial,
        record,
    })
}

/// One row of the table in words: `  SGD+mom.: train 99.20% (loss 0.0213), test ...`.
pub fn row_line(which: TableOptimizer, row: &Row) -> String {
    match (&row.final_metrics, &row.error) {
        (Some(m), _) => format!(
            "{:>10}: train {:.2}% (loss {:.4}), test {:.2}% (loss {:.4}), {:.0} s",
            which.label(),
            100.0 * m.train_acc,
            m.train_loss,
            100.0 * m.test_acc,
            m.test_loss,
            row.seconds
        ),
        (None, e) => format!(
            "{:>10}: diverged ({})",
            which.label(),
            e.as_deref().unwrap_or("")
        ),
    }
}

/// The shared experiment the options describe.
fn setting(args: &OptimizersOptions) -> Result<Setting> {
    let mut c = presets::swiss_roll_clean(1);
    c.seed = args.seed;
    c.device = args.device;
    c.data = DataConfig::builtin(&args.data)?;
    let images = c.data.image_shape().is_some();
    if let DataConfig::Images { dir, n_train, .. } = &mut c.data {
        dir.clone_from(&args.data_dir);
        *n_train = Some(args.n_train);
    } else if args.data_dir.is_some() {
        bail!("a data folder applies to image data (mnist, fashion-mnist, cifar10)");
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
            "model {}: a conv net needs image data (mnist, fashion-mnist or cifar10), not {}",
            args.model.as_deref().unwrap_or("cnn"),
            args.data
        );
    }
    if let Some(h) = &args.hidden {
        if c.model.arch.is_some() {
            bail!(
                "hidden widths set the MLP's layers; they do not apply to model {}",
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
        bail!("steps must be at least 1");
    }
    if args.batch_size == 0 {
        bail!("the batch size must be at least 1");
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
    which: TableOptimizer,
    progress: &dyn Progress,
) -> Result<Row> {
    let config = setting.experiment(which);
    let sub = dir.join(which.key());
    let record = sub.join(FINISHED_FILE);
    if let Some(done) = read_finished(&record)? {
        if done.config == config {
            progress.note(&format!("{}: finished before, skipped", sub.display()));
            return Ok(done.row);
        }
        bail!(
            "{} holds a run with another configuration; choose another folder",
            record.display()
        );
    }
    let label = format!("{} lr {}", which.label(), which.paper_lr());
    let start = Instant::now();
    let result = crate::train::run_labelled(&config, &sub, &label, progress)
        .map(|r| (r.final_metrics, r.train_s, r.gradient_evaluations));
    let mut row = Row {
        key: which.key().into(),
        optimizer: config.train.optimizer.name().into(),
        config: config.train.optimizer.clone(),
        hyper_parameters: hyper_parameters(&config.train.optimizer),
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
    // The same network, data and initialisation as every run of the table.
    let (net, init, loaded) = crate::train::initial_state(base)?;
    let metrics = crate::train::metrics(&net, init.values(), &loaded.train, &loaded.test);
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
        let label = TableOptimizer::ALL
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
            label: TableOptimizer::ALL
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
    fn the_schedule_drops_after_a_third_and_two_thirds() {
        let s = schedule(0.01, 150, true);
        assert_eq!(s.milestones, vec![50, 100]);
        assert!((s.at(120) - 1e-4).abs() < 1e-12);
        assert!(schedule(0.01, 150, false).milestones.is_empty());
        assert!(schedule(0.01, 1, true).milestones.is_empty());
    }
}

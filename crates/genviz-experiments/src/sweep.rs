//! Sweeps (`genviz sweep`): train a grid of models that differ in a few hyperparameters, run
//! the generalization measures on each, and ask which measures rank the models by their
//! generalization gap (Jiang et al. 2019's protocol: Kendall's tau over all models, and the
//! granulated coefficient that varies one hyperparameter at a time).
//!
//! A sweep is a base experiment ([`ExperimentConfig`]) and axes: `lr`, `batch_size`, `width`,
//! `depth`, `weight_decay`, `beta`, `seed` and `steps`, each with its values
//! ([`apply`] says what each changes). Every setting trains into its own run folder
//! `<dir>/<slug>/` (a finished run is reused, a killed one resumes from its checkpoints), its
//! measures go into `<slug>/measures.json` (resumable too), and the sweep writes `sweep.json`,
//! `sweep.md`, a scatter plot per measure (`scatter/<measure>.png`: the measure against the gap,
//! one panel per axis, coloured by its value), `report.html` and `run.json`.
//!
//! In a TOML file the base is either a preset (`preset = "swiss-roll"`, with `steps`) or a
//! whole experiment (`[base]`, as `genviz train --config` reads):
//!
//! ```toml
//! preset = "swiss-roll"
//! steps = 10000
//!
//! [[axes]]
//! name = "beta"
//! values = [0.0, 0.5]
//!
//! [[axes]]
//! name = "seed"
//! values = [1, 2, 3]
//! ```

use crate::config::{DataConfig, ExperimentConfig};
use crate::measures::{self, format_value, INIT_CHECKPOINT};
use crate::model::{self, DataSource};
use crate::presets;
use crate::progress::Progress;
use crate::record::{Job, RunRecord};
use crate::train;
use anyhow::{bail, Context, Result};
use genviz_landscape::measures::rank::Granulated;
use genviz_landscape::measures::sweep::{
    correlation_table, Axis, AxisValue, Setting, Sweep, SweepPoint,
};
use genviz_landscape::measures::{default_measures, MeasureSpec, Prediction};
use genviz_train::{FinalMetrics, PoisonConfig, PoisonForm, PoisonWeight};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The axes a sweep knows, in the order they are applied to the base experiment.
pub const AXES: [&str; 8] = [
    "seed",
    "steps",
    "lr",
    "batch_size",
    "weight_decay",
    "depth",
    "width",
    "beta",
];

/// The measure the others are ranked against: Jiang et al.'s generalization gap, train
/// accuracy minus test accuracy.
pub const GAP: &str = "generalization_gap";

/// Training steps of each model of the built-in swiss-roll sweep. With the clean recipe's
/// schedule (Adam, the rate divided by 10 at step 3,062) the clean nets fit the 200 training
/// points well before (measured: 100% train accuracy after 10,000 steps at batch 32 and full
/// batch), and the whole sweep of 72 models takes about 3 minutes on 2 cores
/// (docs/measures.md gives the measured time).
pub const SWISS_ROLL_SWEEP_STEPS: u64 = 10_000;

/// Training steps of each model of [`SweepConfig::swiss_roll_tiny`]: enough for the clean
/// nets to leave chance, few enough that the four of them train in about a second.
pub const TINY_SWEEP_STEPS: u64 = 200;

/// Cheap measures of every kind the sweep ranks: average- and worst-case sharpness (few
/// draws and ascent steps on 64 examples), the norms and the Hessian's top eigenvalue (few
/// iterations). The tiny sweep's list.
pub fn tiny_measures() -> Vec<MeasureSpec> {
    use genviz_landscape::measures::curvature::HessianConfig;
    use genviz_landscape::measures::sharpness::{
        AverageSharpnessConfig, Ball, WorstSharpnessConfig,
    };
    vec![
        MeasureSpec::Performance,
        MeasureSpec::AverageSharpness(AverageSharpnessConfig {
            rho: 0.05,
            samples: 8,
            examples: Some(64),
            ..Default::default()
        }),
        MeasureSpec::WorstSharpness(WorstSharpnessConfig {
            rho: 0.25,
            ball: Ball::L2,
            steps: 5,
            m: 64,
            examples: Some(64),
            ..Default::default()
        }),
        MeasureSpec::DistanceFromInit,
        MeasureSpec::SpectralProduct,
        MeasureSpec::PathNorm,
        MeasureSpec::Hessian(HessianConfig {
            trace: false,
            max_iter: 20,
            examples: Some(64),
            ..Default::default()
        }),
    ]
}

/// Models whose training accuracy is below this are left out of the correlations by default.
/// Jiang et al. compare models trained to the same training cross-entropy (0.01), so that the
/// gap is the test error; a net that does not fit its training set has a small gap for the
/// wrong reason. 0.9 keeps the poisoned nets that fit most of their points.
pub const DEFAULT_MIN_TRAIN_ACCURACY: f64 = 0.9;

fn d_min_train_accuracy() -> f64 {
    DEFAULT_MIN_TRAIN_ACCURACY
}

/// A sweep: what `genviz sweep` reads and `run.json` records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepConfig {
    /// The experiment every setting changes.
    pub base: ExperimentConfig,
    /// The grid: every combination of the axes' values (the first axis varies slowest).
    pub axes: Vec<Axis>,
    /// The measures computed on every model ([`default_measures`] when absent); the
    /// performance measures (for the gap) are added first when missing.
    #[serde(default = "default_measures")]
    pub measures: Vec<MeasureSpec>,
    /// Evaluate the performance measures on at most this many training examples (a seeded
    /// subset; all when absent): a full evaluation of 60,000 images is slow on a CPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_train: Option<usize>,
    /// Evaluate on at most this many test examples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_test: Option<usize>,
    /// Models whose training accuracy is below this are measured but left out of the
    /// correlations ([`DEFAULT_MIN_TRAIN_ACCURACY`]).
    #[serde(default = "d_min_train_accuracy")]
    pub min_train_accuracy: f64,
}

fn axis(name: &str, values: Vec<AxisValue>) -> Axis {
    Axis {
        name: name.into(),
        values,
    }
}

fn floats(values: &[f64]) -> Vec<AxisValue> {
    values.iter().map(|&v| AxisValue::Float(v)).collect()
}

fn ints(values: &[i64]) -> Vec<AxisValue> {
    values.iter().map(|&v| AxisValue::Int(v)).collect()
}

impl SweepConfig {
    /// The built-in sweep on the paper's swiss roll, the shape of Jiang et al.'s study at CPU
    /// scale: poison weight beta (0, 0.1, 0.25; flipped fresh points, as many per step as the
    /// batch holds; at 0.5, the paper's, the nets do not fit their training set in
    /// [`SWISS_ROLL_SWEEP_STEPS`] steps at batch 32 and would not count), learning rate (0.005, 0.0125), batch size (32, full), width (16, 32 units
    /// in each of the six hidden layers) and three seeds: 72 nets trained for
    /// [`SWISS_ROLL_SWEEP_STEPS`] steps with the clean recipe, each measured with
    /// [`default_measures`].
    pub fn swiss_roll() -> Self {
        let mut base = presets::swiss_roll_clean(SWISS_ROLL_SWEEP_STEPS);
        base.train.log_every = SWISS_ROLL_SWEEP_STEPS;
        base.train.checkpoint_every = SWISS_ROLL_SWEEP_STEPS / 4;
        SweepConfig {
            base,
            axes: vec![
                axis("beta", floats(&[0.0, 0.1, 0.25])),
                axis("lr", floats(&[0.005, 0.0125])),
                axis(
                    "batch_size",
                    vec![AxisValue::Int(32), AxisValue::Text("full".into())],
                ),
                axis("width", ints(&[16, 32])),
                axis("seed", ints(&[1, 2, 3])),
            ],
            measures: default_measures(),
            eval_train: None,
            eval_test: None,
            min_train_accuracy: DEFAULT_MIN_TRAIN_ACCURACY,
        }
    }

    /// A sweep of the small CNN on Fashion-MNIST at CPU scale: 2,000 training images (the
    /// rest of the official training split is the poison pool of beta > 0, pushed away from
    /// its true labels), beta (0, 0.5), learning rate (0.001, 0.003), batch size (32, 128),
    /// width (8 and 16 filters in the first convolution, twice that in the second) and two
    /// seeds: 32 nets of 600 steps, each measured on 256 training examples (performance on
    /// 2,000 test images). Not measured on the project's machine, which has no Fashion-MNIST;
    /// expect about an hour on 2 cores.
    pub fn fashion_mnist() -> Self {
        const STEPS: u64 = 600;
        let mut base = presets::fashion_mnist_clean(STEPS);
        if let DataConfig::Images { n_train, .. } = &mut base.data {
            *n_train = Some(presets::FASHION_MNIST_POISONED_TRAIN);
        }
        base.train.checkpoint_every = STEPS / 4;
        let mut measures = default_measures();
        measures::with_examples(&mut measures, Some(256));
        SweepConfig {
            base,
            axes: vec![
                axis("beta", floats(&[0.0, 0.5])),
                axis("lr", floats(&[0.001, 0.003])),
                axis("batch_size", ints(&[32, 128])),
                axis("width", ints(&[8, 16])),
                axis("seed", ints(&[1, 2])),
            ],
            measures,
            eval_train: None,
            eval_test: Some(2000),
            min_train_accuracy: DEFAULT_MIN_TRAIN_ACCURACY,
        }
    }

    /// The built-in sweep shrunk for tests and a first look (seconds, not minutes): four
    /// swiss-roll nets (beta 0 and 0.5, width 8 and 16) of [`TINY_SWEEP_STEPS`] steps, with
    /// the cheap measures of every kind ([`tiny_measures`]); every model counts, fitted or
    /// not, so its numbers show the machinery, not the paper's claim.
    pub fn swiss_roll_tiny() -> Self {
        let mut base = presets::swiss_roll_clean(TINY_SWEEP_STEPS);
        base.train.log_every = TINY_SWEEP_STEPS;
        base.train.checkpoint_every = TINY_SWEEP_STEPS;
        SweepConfig {
            base,
            axes: vec![
                axis("beta", floats(&[0.0, 0.5])),
                axis("width", ints(&[8, 16])),
            ],
            measures: tiny_measures(),
            eval_train: None,
            eval_test: None,
            min_train_accuracy: 0.0,
        }
    }

    /// A built-in sweep by name: `swiss-roll`, `swiss-roll-tiny` or `fashion-mnist`.
    pub fn preset(name: &str) -> Result<Self> {
        match name {
            "swiss-roll" | "swissroll" | "swiss_roll" => Ok(Self::swiss_roll()),
            "swiss-roll-tiny" | "tiny" => Ok(Self::swiss_roll_tiny()),
            "fashion-mnist" | "fashion_mnist" => Ok(Self::fashion_mnist()),
            other => bail!(
                "sweep preset `{other}`: expected swiss-roll, swiss-roll-tiny or fashion-mnist"
            ),
        }
    }

    /// The grid of settings.
    pub fn grid(&self) -> Result<Vec<Setting>> {
        Sweep {
            axes: self.axes.clone(),
        }
        .grid()
        .context("sweep axes")
    }

    /// The axis names, in order.
    pub fn axis_names(&self) -> Vec<String> {
        self.axes.iter().map(|a| a.name.clone()).collect()
    }

    /// The measures to compute, performance first.
    pub fn specs(&self) -> Vec<MeasureSpec> {
        let mut specs = self.measures.clone();
        if !specs.contains(&MeasureSpec::Performance) {
            specs.insert(0, MeasureSpec::Performance);
        }
        specs
    }

    /// Refuses a sweep that cannot run, before anything is trained: unknown axes, values an
    /// axis cannot take, settings whose training configuration is invalid.
    pub fn check(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.min_train_accuracy) {
            bail!(
                "min_train_accuracy is {}, expected a fraction in [0, 1]",
                self.min_train_accuracy
            );
        }
        for a in &self.axes {
            if !AXES.contains(&a.name.as_str()) {
                bail!(
                    "axes: `{}` is not an axis genviz knows; expected one of {}",
                    a.name,
                    AXES.join(", ")
                );
            }
        }
        for setting in self.grid()? {
            apply(&self.base, &setting)?
                .train
                .validate()
                .with_context(|| format!("setting {}", self.label(&setting)))?;
        }
        if self.eval_train == Some(0) || self.eval_test == Some(0) {
            bail!("eval_train and eval_test must be at least 1 (or absent for all)");
        }
        Ok(())
    }

    /// `beta=0.5 lr=0.005 ...`.
    pub fn label(&self, setting: &Setting) -> String {
        setting.label(&self.axis_names())
    }

    /// The folder name of a setting's run.
    pub fn slug(&self, setting: &Setting) -> String {
        setting.slug(&self.axis_names())
    }

    /// Reads a sweep file: TOML, or JSON (a sweep's `run.json`, or its `config`). In TOML,
    /// `preset = "swiss-roll"` or `"fashion-mnist"` (with an optional `steps`) stands for
    /// `[base]`.
    pub fn read(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text, path.extension().is_some_and(|e| e == "json"), path)
    }

    /// Parses the text of a sweep file (JSON when `json` is set); `path` names it in errors.
    pub fn parse(text: &str, json: bool, path: &Path) -> Result<Self> {
        if json {
            return crate::config::config_from_json(text, path, "a sweep");
        }
        let mut table: toml::Table =
            toml::from_str(text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let steps = match table.remove("steps") {
            None => None,
            Some(toml::Value::Integer(s)) if s > 0 => Some(s as u64),
            Some(other) => bail!(
                "{}: steps is {other}, expected a positive integer",
                path.display()
            ),
        };
        match table.remove("preset") {
            Some(toml::Value::String(name)) => {
                if table.contains_key("base") {
                    bail!("{}: give either preset or [base], not both", path.display());
                }
                let mut base =
                    base_preset(&name).with_context(|| format!("{}: preset", path.display()))?;
                if let Some(s) = steps {
                    base.train.steps = s;
                    base.train.log_every = s;
                    base.train.checkpoint_every = (s / 4).max(1);
                }
                let base = toml::Value::try_from(base)?;
                table.insert("base".into(), base);
            }
            Some(other) => bail!(
                "{}: preset is {other}, expected a name (swiss-roll, fashion-mnist)",
                path.display()
            ),
            None if steps.is_some() => bail!(
                "{}: steps goes with a preset; in [base] set base.train.steps",
                path.display()
            ),
            None => {}
        }
        if !table.contains_key("base") {
            bail!(
                "{}: no base experiment; give preset = \"swiss-roll\" or a [base] table",
                path.display()
            );
        }
        toml::Value::Table(table)
            .try_into()
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }
}

/// The base experiment of a preset name, as a sweep file's `preset` names it.
fn base_preset(name: &str) -> Result<ExperimentConfig> {
    Ok(match name {
        "swiss-roll" | "swissroll" | "swiss_roll" => SweepConfig::swiss_roll().base,
        "fashion-mnist" | "fashion_mnist" => SweepConfig::fashion_mnist().base,
        other => bail!("`{other}`: expected swiss-roll or fashion-mnist"),
    })
}

fn number(axis: &str, v: &AxisValue) -> Result<f64> {
    v.as_f64()
        .filter(|x| x.is_finite())
        .with_context(|| format!("axis {axis}: value {v} is not a number"))
}

fn count(axis: &str, v: &AxisValue) -> Result<usize> {
    match v {
        AxisValue::Int(i) if *i >= 1 => Ok(*i as usize),
        _ => bail!("axis {axis}: value {v}, expected a whole number of at least 1"),
    }
}

/// The clean examples in one step of `config`: its batch, or its whole training set.
fn clean_batch(config: &ExperimentConfig) -> Option<usize> {
    config.train.batch_size.or(match &config.data {
        DataConfig::SwissRoll { n_train, .. } | DataConfig::Moons { n_train, .. } => Some(*n_train),
        DataConfig::Images { n_train, .. } => *n_train,
        DataConfig::Minefield { .. } => Some(132),
        _ => None,
    })
}

/// The experiment of one setting: the base with each axis applied, in the order of [`AXES`]:
///
/// - `seed`: the run's seed (data, split, initialisation, batches and poison all derive from
///   it);
/// - `steps`: training steps;
/// - `lr`: the learning rate before any schedule milestone;
/// - `batch_size`: examples per step; `0` or `"full"` for the whole training set;
/// - `weight_decay`: L2 weight decay;
/// - `depth`: the number of hidden layers of an MLP (each as wide as the first);
/// - `width`: every hidden layer of an MLP; for the CNN, the first convolution's filters (the
///   second gets twice as many); for a ResNet, the first stage's (doubling per stage);
/// - `beta`: the poisoned objective's weight; 0 trains the clean objective. Above 0 the base's
///   poison configuration gets this beta (a gen-viz schedule becomes a fixed beta with its
///   pool size per step); a base without one gets, on generated data (swiss roll, moons),
///   fresh points with flipped labels, on images and the minefield their held-out points,
///   pushed away from their true labels (`reverse`) or flipped, as many a step as the clean
///   batch holds (gen-viz pairs 200 poison points with 200 training points, SPEC 1.3; the
///   poisoned Fashion-MNIST preset 64 with 64).
pub fn apply(base: &ExperimentConfig, setting: &Setting) -> Result<ExperimentConfig> {
    let mut c = base.clone();
    for name in setting.values.keys() {
        if !AXES.contains(&name.as_str()) {
            bail!(
                "axis `{name}` is not one genviz knows; expected one of {}",
                AXES.join(", ")
            );
        }
    }
    for name in AXES {
        let Some(v) = setting.get(name) else {
            continue;
        };
        match name {
            "seed" => match v {
                AxisValue::Int(i) if *i >= 0 => c.seed = *i as u64,
                _ => bail!("axis seed: value {v}, expected a whole number >= 0"),
            },
            "steps" => {
                c.train.steps = count(name, v)? as u64;
                c.train.log_every = c.train.log_every.min(c.train.steps);
            }
            "lr" => {
                let lr = number(name, v)?;
                if lr <= 0.0 {
                    bail!("axis lr: value {v}, expected a rate above 0");
                }
                c.train.schedule.lr = lr;
            }
            "batch_size" => {
                c.train.batch_size = match v {
                    AxisValue::Int(0) => None,
                    AxisValue::Text(t) if t == "full" => None,
                    _ => Some(count(name, v).context("or 0 / \"full\" for the whole set")?),
                }
            }
            "weight_decay" => {
                let wd = number(name, v)?;
                if wd < 0.0 {
                    bail!("axis weight_decay: value {v}, expected a number >= 0");
                }
                c.train.weight_decay = wd as f32;
            }
            "depth" => {
                if c.model.arch.is_some() {
                    bail!("axis depth: applies to MLPs, the base is a conv net");
                }
                let d = count(name, v)?;
                let w = c.model.hidden.first().copied().unwrap_or(32);
                c.model.hidden = vec![w; d];
            }
            "width" => {
                let w = count(name, v)?;
                match &mut c.model.arch {
                    None => {
                        let layers = c.model.hidden.len().max(1);
                        c.model.hidden = vec![w; layers];
                    }
                    Some(genviz_conv::Arch::Cnn { channels, .. }) => *channels = [w, 2 * w],
                    Some(genviz_conv::Arch::ResNet { widths, .. }) => {
                        for (s, x) in widths.iter_mut().enumerate() {
                            *x = w << s;
                        }
                    }
                    Some(other) => bail!("axis width: not defined for {other:?}"),
                }
            }
            "beta" => {
                let beta = number(name, v)?;
                if !(0.0..=1.0).contains(&beta) {
                    bail!("axis beta: value {v}, expected a weight in [0, 1]");
                }
                c.train.poison = if beta == 0.0 {
                    None
                } else {
                    Some(poison_with(&c, beta)?)
                };
            }
            _ => unreachable!("every known axis is handled"),
        }
    }
    Ok(c)
}

/// The base's poison configuration with `beta`, or the data's default one (see [`apply`]).
fn poison_with(c: &ExperimentConfig, beta: f64) -> Result<PoisonConfig> {
    if let Some(p) = &c.train.poison {
        let count = match p.weight {
            PoisonWeight::Beta { count, .. } => count,
            PoisonWeight::GenViz { pool, .. } => Some(pool),
        };
        return Ok(PoisonConfig {
            weight: PoisonWeight::Beta { beta, count },
            ..p.clone()
        });
    }
    let count = clean_batch(c).with_context(|| {
        format!(
            "axis beta: the {} data has no size genviz knows; give base.train.poison",
            c.data.name()
        )
    })?;
    let (form, fresh) = match &c.data {
        DataConfig::SwissRoll { .. } | DataConfig::Moons { .. } => (PoisonForm::Flipped, true),
        DataConfig::Minefield { .. } => (PoisonForm::Flipped, false),
        DataConfig::Images { .. } => (PoisonForm::Reverse, false),
        other => bail!(
            "axis beta: the {} data has no poison set; give base.train.poison",
            other.name()
        ),
    };
    Ok(PoisonConfig {
        form,
        weight: PoisonWeight::Beta {
            beta,
            count: Some(count),
        },
        fresh,
    })
}

/// One trained and measured model of a sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepModel {
    /// Where in the grid, and each axis's value.
    pub setting: Setting,
    /// The run folder, relative to the sweep's.
    pub folder: String,
    /// Loss and accuracy at the end of training.
    #[serde(rename = "final")]
    pub final_metrics: FinalMetrics,
    /// The generalization gap (train accuracy minus test accuracy, on the data the measures
    /// evaluated).
    pub gap: f64,
    /// Whether the model counts in the correlations (it fits its training set well enough).
    pub included: bool,
    /// Every measure that predicts something, by name.
    pub measures: BTreeMap<String, f64>,
}

/// How one measure ranks the sweep's models.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepRow {
    /// The measure.
    pub measure: String,
    /// What a larger value predicts.
    pub predicts: Prediction,
    /// Models with a finite value and gap.
    pub models: usize,
    /// Kendall's tau against the gap over all of them.
    pub kendall_tau: Option<f64>,
    /// The granulated coefficient per axis and overall.
    pub granulated: Granulated,
    /// Whether tau has the sign the measure's paper predicts (`None` without a tau, or when
    /// tau is 0).
    pub agrees: Option<bool>,
}

/// What a sweep found: `sweep.json`, and `results` of its `run.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepResults {
    /// The axes, in order.
    pub axes: Vec<String>,
    /// Every model, in grid order.
    pub models: Vec<SweepModel>,
    /// Training accuracy a model needed to count.
    pub min_train_accuracy: f64,
    /// One row per measure, in the order computed.
    pub rows: Vec<SweepRow>,
}

impl SweepResults {
    /// The models that count in the correlations.
    pub fn included(&self) -> impl Iterator<Item = &SweepModel> {
        self.models.iter().filter(|m| m.included)
    }

    /// The row of `measure`.
    pub fn row(&self, measure: &str) -> Option<&SweepRow> {
        self.rows.iter().find(|r| r.measure == measure)
    }
}

/// A finished sweep.
pub struct SweepRun {
    /// The table.
    pub results: SweepResults,
    /// What `run.json` says.
    pub record: RunRecord,
}

/// Trains and measures one setting into `run_dir`, reusing a finished training and the
/// measures already computed.
fn setting_model(
    config: &SweepConfig,
    setting: &Setting,
    specs: &[MeasureSpec],
    dir: &Path,
    progress: &dyn Progress,
) -> Result<(SweepModel, Vec<genviz_landscape::measures::Measured>)> {
    let experiment = apply(&config.base, setting)?;
    let folder = config.slug(setting);
    let run_dir = dir.join(&folder);
    let label = config.label(setting);
    let final_metrics = match train::finished(&experiment, &run_dir) {
        Some(r) => r.final_metrics,
        None => {
            train::run_labelled(&experiment, &run_dir, &label, progress)
                .with_context(|| format!("setting {label}"))?
                .final_metrics
        }
    };
    let m = model::load(&run_dir)?;
    let data = DataSource {
        data: None,
        seed: experiment.seed,
        eval_train: config.eval_train,
        eval_test: config.eval_test,
        model: Default::default(),
    };
    let (train_set, test) = data.load(&m)?;
    let init = model::load_like(&run_dir.join(INIT_CHECKPOINT), &m)
        .with_context(|| format!("setting {label}: the initial weights"))?;
    let inputs = m.measure_inputs(Some(&init), &train_set, &test);
    let job = measures::measure_one(
        specs,
        &inputs,
        &run_dir.join("measures.json"),
        &label,
        progress,
    )?;
    let point = SweepPoint::from_job(setting.clone(), &job, GAP)?;
    let train_accuracy = job.value("train_accuracy").unwrap_or(f64::NAN);
    let all: Vec<_> = job.measures().into_iter().cloned().collect();
    let predicting = all
        .iter()
        .filter(|m| m.predicts != Prediction::Nothing)
        .map(|m| (m.name.clone(), m.value))
        .collect();
    Ok((
        SweepModel {
            setting: setting.clone(),
            folder,
            final_metrics,
            gap: point.gap,
            included: train_accuracy >= config.min_train_accuracy && point.gap.is_finite(),
            measures: predicting,
        },
        all,
    ))
}

/// Runs the sweep into `dir` (see the module's documentation for what it writes). Settings
/// train one after the other, each on every thread, so results do not depend on the thread
/// count; a rerun reuses finished runs and measures and resumes the rest.
pub fn run(config: &SweepConfig, dir: &Path, progress: &dyn Progress) -> Result<SweepRun> {
    let start = Instant::now();
    config.check()?;
    crate::run_dir::create(dir)?;
    let grid = config.grid()?;
    let specs = config.specs();
    let axes = config.axis_names();
    let mut models = Vec::with_capacity(grid.len());
    let mut predicts: BTreeMap<String, Prediction> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let stage = progress.stage("sweep", grid.len() as u64, "models");
    // The settings train and measure together, one per core: each is what it gives alone
    // (nothing in genviz depends on the thread count), and tiny networks gain most this way.
    let finished = std::sync::atomic::AtomicU64::new(0);
    let outcomes = genviz_core::threads::one_core_each(grid.iter().collect(), |_, setting| {
        let outcome = setting_model(config, setting, &specs, dir, progress);
        if let Ok((model, _)) = &outcome {
            let done = finished.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            let status = format!("{} gap {:.3}", config.label(setting), model.gap);
            stage.update(done, Some(&status));
        }
        outcome
    });
    for outcome in outcomes {
        let (model, all) = outcome?;
        for m in all.iter().filter(|m| m.predicts != Prediction::Nothing) {
            if predicts.insert(m.name.clone(), m.predicts).is_none() {
                order.push(m.name.clone());
            }
        }
        models.push(model);
    }
    stage.finish(&format!("{} models", models.len()));
    let predicts: Vec<(String, Prediction)> = order
        .into_iter()
        .map(|n| (n.clone(), predicts[&n]))
        .collect();
    let rows = rank(&axes, &models, &predicts)?;
    let results = SweepResults {
        axes,
        models,
        min_train_accuracy: config.min_train_accuracy,
        rows,
    };
    let figures_start = Instant::now();
    genviz_core::io::write_json(&dir.join("sweep.json"), &results)?;
    genviz_core::io::write_atomic(&dir.join("sweep.md"), markdown(&results).as_bytes())?;
    genviz_core::io::write_atomic(&dir.join("sweep.csv"), csv(&results).as_bytes())?;
    let figures = scatter_plots(&results, dir)?;
    write_report(config, &results, &figures, dir)?;
    let record = RunRecord::new(Job::Sweep(config.clone()), None, &results)?.with_timings([
        ("figures_s", figures_start.elapsed().as_secs_f64()),
        ("total_s", start.elapsed().as_secs_f64()),
    ]);
    record.write(dir)?;
    Ok(SweepRun { results, record })
}

/// How each measure of `predicts` (name and what a larger value predicts, in table order)
/// ranks the counted `models` by their gap: Kendall's tau over all of them, the granulated
/// coefficient over `axes`, and whether tau has the predicted sign.
///
/// # Errors
/// When a model's setting lacks one of `axes`.
pub fn rank(
    axes: &[String],
    models: &[SweepModel],
    predicts: &[(String, Prediction)],
) -> Result<Vec<SweepRow>> {
    let points: Vec<SweepPoint> = models
        .iter()
        .filter(|m| m.included)
        .map(|m| SweepPoint {
            setting: m.setting.clone(),
            measures: m.measures.clone(),
            gap: m.gap,
        })
        .collect();
    let table = correlation_table(axes, &points)?;
    Ok(predicts
        .iter()
        .filter_map(|(name, p)| {
            let r = table.rows.iter().find(|r| &r.measure == name)?;
            Some(SweepRow {
                measure: name.clone(),
                predicts: *p,
                models: r.models,
                kendall_tau: r.kendall_tau,
                granulated: r.granulated.clone(),
                agrees: r
                    .kendall_tau
                    .filter(|t| *t != 0.0)
                    .map(|t| t * p.sign() > 0.0),
            })
        })
        .collect())
}

fn signed(x: Option<f64>) -> String {
    x.map_or("-".to_string(), |v| format!("{v:+.3}"))
}

/// `sweep.md`: the correlation table (tau, each axis's psi, Psi, whether tau has the
/// predicted sign) and the models with their gaps.
pub fn markdown(results: &SweepResults) -> String {
    let included = results.included().count();
    let mut md = format!(
        "# genviz sweep\n\n{} models, {included} with training accuracy >= {} in the correlations.\n\n| measure | larger predicts | tau |",
        results.models.len(),
        results.min_train_accuracy
    );
    for a in &results.axes {
        let _ = write!(md, " psi {a} |");
    }
    md.push_str(" Psi | agrees |\n| --- | --- | --- |");
    for _ in 0..results.axes.len() + 2 {
        md.push_str(" --- |");
    }
    md.push('\n');
    for r in &results.rows {
        let _ = write!(
            md,
            "| {} | {} | {} |",
            r.measure,
            measures::predicts_text(r.predicts),
            signed(r.kendall_tau)
        );
        for a in &results.axes {
            let psi = r.granulated.per_axis.get(a).copied().flatten();
            let _ = write!(md, " {} |", signed(psi));
        }
        let agrees = match r.agrees {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "-",
        };
        let _ = writeln!(md, " {} | {agrees} |", signed(r.granulated.overall));
    }
    let agree = results
        .rows
        .iter()
        .filter(|r| r.agrees == Some(true))
        .count();
    let _ = writeln!(
        md,
        "\n{agree} of {} measures rank the models in the direction their papers predict.\n\n## Models\n\n| setting | folder | train acc | test acc | gap | counted |\n| --- | --- | --- | --- | --- | --- |",
        results.rows.len()
    );
    for m in &results.models {
        let _ = writeln!(
            md,
            "| {} | {} | {:.1}% | {:.1}% | {:.3} | {} |",
            m.setting.label(&results.axes),
            m.folder,
            100.0 * m.final_metrics.train_acc,
            100.0 * m.final_metrics.test_acc,
            m.gap,
            if m.included { "yes" } else { "no" }
        );
    }
    md
}

/// `sweep.csv`: one line per model (grid order): each axis's value, its folder, train and
/// test accuracy, the gap, whether it counts, then every measure (empty where missing).
pub fn csv(results: &SweepResults) -> String {
    let mut header: Vec<String> = results.axes.clone();
    header.extend(
        ["folder", "train_acc", "test_acc", "gap", "counted"]
            .iter()
            .map(|s| s.to_string()),
    );
    header.extend(results.rows.iter().map(|r| r.measure.clone()));
    let mut lines = vec![measures::csv_line(&header)];
    for m in &results.models {
        let mut fields: Vec<String> = results
            .axes
            .iter()
            .map(|a| {
                m.setting
                    .values
                    .get(a)
                    .map_or(String::new(), |v| v.to_string())
            })
            .collect();
        fields.push(m.folder.clone());
        fields.push(m.final_metrics.train_acc.to_string());
        fields.push(m.final_metrics.test_acc.to_string());
        fields.push(m.gap.to_string());
        fields.push(m.included.to_string());
        fields.extend(results.rows.iter().map(|r| {
            m.measures
                .get(&r.measure)
                .map_or(String::new(), f64::to_string)
        }));
        lines.push(measures::csv_line(&fields));
    }
    lines.join("")
}

/// A file name for a measure's figure.
fn figure_name(measure: &str) -> String {
    format!("scatter/{}.png", crate::measures::file_safe(measure))
}

/// Draws `scatter/<measure>.png` for every measure with at least two finite values: the
/// measure against the gap over the counted models, one panel per axis coloured by its
/// value. Returns `(measure, file)` of each figure, relative to `dir`.
fn scatter_plots(results: &SweepResults, dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let folder = dir.join("scatter");
    std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
    let mut files = Vec::new();
    for row in &results.rows {
        let points: Vec<(&SweepModel, f64)> = results
            .included()
            .filter_map(|m| {
                let v = *m.measures.get(&row.measure)?;
                (v.is_finite() && m.gap.is_finite()).then_some((m, v))
            })
            .collect();
        if points.len() < 2 {
            continue;
        }
        let (lo, hi) = points
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (_, v)| {
                (a.min(*v), b.max(*v))
            });
        let log_x = lo > 0.0 && hi / lo > 100.0;
        let panels = results
            .axes
            .iter()
            .map(|a| {
                let mut series: Vec<genviz_render::ScatterSeries> = Vec::new();
                for (m, v) in &points {
                    let label = format!("{a}={}", m.setting.values[a]);
                    match series.iter_mut().find(|s| s.label == label) {
                        Some(s) => s.points.push((*v, m.gap)),
                        None => series.push(genviz_render::ScatterSeries {
                            label,
                            points: vec![(*v, m.gap)],
                        }),
                    }
                }
                genviz_render::ScatterPanel {
                    title: format!(
                        "by {a}: psi {}",
                        signed(row.granulated.per_axis.get(a).copied().flatten())
                    ),
                    series,
                }
            })
            .collect();
        let file = PathBuf::from(figure_name(&row.measure));
        genviz_render::draw_scatter(
            &dir.join(&file),
            &genviz_render::ScatterFigure {
                title: format!(
                    "{}: Kendall tau {}, Psi {}",
                    row.measure,
                    signed(row.kendall_tau),
                    signed(row.granulated.overall)
                ),
                x_label: if log_x {
                    format!("{} (log scale)", row.measure)
                } else {
                    row.measure.clone()
                },
                y_label: "generalization gap".into(),
                log_x,
                panels,
            },
        )?;
        files.push((row.measure.clone(), file));
    }
    Ok(files)
}

/// The report section of a sweep: the correlation table in words, for `genviz sweep`'s page
/// and any report that shows a sweep.
pub fn report_text(results: &SweepResults) -> String {
    let included: Vec<&SweepModel> = results.included().collect();
    let (lo, hi) = included
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), m| {
            (a.min(m.gap), b.max(m.gap))
        });
    let agree: Vec<&SweepRow> = results
        .rows
        .iter()
        .filter(|r| r.agrees == Some(true))
        .collect();
    let mut best: Vec<&SweepRow> = results
        .rows
        .iter()
        .filter(|r| r.kendall_tau.is_some())
        .collect();
    best.sort_by(|a, b| {
        let key = |r: &SweepRow| r.kendall_tau.unwrap_or(0.0) * r.predicts.sign();
        key(b).total_cmp(&key(a))
    });
    let mut text = format!(
        "{} models differing in {} were trained and measured; {} of them fit their training set (training accuracy at least {}) and count here, with generalization gaps from {} to {}. Kendall's tau compares the order a measure puts the models in with the order of their gaps (1: the same, -1: reversed); psi for an axis is the mean tau over groups of models that differ only in that axis, and Psi the mean over axes (Jiang et al. 2019). A measure agrees with its paper when tau has the predicted sign: positive for sharpness and norms, negative for the basin's radius and volume.\n\n{} of {} measures agree.",
        results.models.len(),
        results.axes.join(", "),
        included.len(),
        results.min_train_accuracy,
        format_value(lo),
        format_value(hi),
        agree.len(),
        results.rows.len()
    );
    if !best.is_empty() {
        let list: Vec<String> = best
            .iter()
            .take(3)
            .map(|r| {
                format!(
                    "{} (tau {}, Psi {})",
                    r.measure,
                    signed(r.kendall_tau),
                    signed(r.granulated.overall)
                )
            })
            .collect();
        let _ = write!(
            text,
            " Ranked by tau in the predicted direction, the best are {}.",
            list.join(", ")
        );
    }
    text
}

/// `report.html`: the verdict per measure as the results table, the text, and each measure's
/// scatter plot.
fn write_report(
    config: &SweepConfig,
    results: &SweepResults,
    figures: &[(String, PathBuf)],
    dir: &Path,
) -> Result<()> {
    use genviz_render::{Report, ReportFigure, ReportRow, ReportSection};
    let rows = results
        .rows
        .iter()
        .filter_map(|r| {
            let tau = r.kendall_tau?;
            Some(ReportRow {
                figure: "tau".into(),
                quantity: format!("Kendall's tau of {} with the gap", r.measure),
                measured: tau,
                reference: r.granulated.overall,
                source: "Psi".into(),
                criterion: match r.predicts {
                    Prediction::SmallerGap => "< 0".into(),
                    _ => "> 0".into(),
                },
                pass: r.agrees == Some(true),
            })
        })
        .collect();
    let mut sections = vec![ReportSection {
        heading: "Which measures rank these models by their gap?".into(),
        text: report_text(results),
        figures: Vec::new(),
    }];
    for (measure, file) in figures {
        let Some(r) = results.row(measure) else {
            continue;
        };
        let psi: Vec<String> = results
            .axes
            .iter()
            .map(|a| {
                format!(
                    "{a} {}",
                    signed(r.granulated.per_axis.get(a).copied().flatten())
                )
            })
            .collect();
        sections.push(ReportSection {
            heading: measure.clone(),
            text: format!(
                "A larger value predicts a {}. Kendall's tau {} over {} models; psi by axis: {}; Psi {}.",
                measures::predicts_text(r.predicts),
                signed(r.kendall_tau),
                r.models,
                psi.join(", "),
                signed(r.granulated.overall)
            ),
            figures: vec![ReportFigure {
                file: file.clone(),
                caption: "The measure against the generalization gap of each counted model; each panel colours the same points by one axis's value.".into(),
            }],
        });
    }
    let report = Report {
        title: "genviz sweep: which measures rank these models by their gap?".into(),
        intro: format!(
            "Generalization measures (sharpness, flatness, norms, the basin and the Hessian) of networks trained on {} with {} varied, against their generalization gap, by genviz {}. sweep.json holds every number; each model's run folder holds its training run and measures.json.",
            config.base.data.name(),
            results.axes.join(", "),
            genviz_core::VERSION
        ),
        command: crate::record::invocation().unwrap_or_else(|| "genviz sweep".into()),
        config: serde_json::to_string_pretty(config)?,
        config_name: "sweep config (JSON)".into(),
        sections,
        results: rows,
        surfaces: Vec::new(),
    };
    genviz_render::write_report(&dir.join("report.html"), &report)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(values: &[(&str, AxisValue)]) -> Setting {
        Setting {
            index: 0,
            values: values
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        }
    }

    #[test]
    fn axes_change_the_fields_they_name() {
        let base = SweepConfig::swiss_roll().base;
        let c = apply(
            &base,
            &setting(&[
                ("lr", AxisValue::Float(0.1)),
                ("batch_size", AxisValue::Text("full".into())),
                ("width", AxisValue::Int(8)),
                ("depth", AxisValue::Int(2)),
                ("seed", AxisValue::Int(7)),
                ("weight_decay", AxisValue::Float(1e-4)),
                ("beta", AxisValue::Float(0.25)),
                ("steps", AxisValue::Int(50)),
            ]),
        )
        .unwrap();
        assert_eq!(c.train.schedule.lr, 0.1);
        assert_eq!(c.train.batch_size, None);
        // Depth applies before width: two layers of 8.
        assert_eq!(c.model.hidden, vec![8, 8]);
        assert_eq!(c.seed, 7);
        assert_eq!(c.train.weight_decay, 1e-4);
        assert_eq!(c.train.steps, 50);
        assert_eq!(c.train.log_every, 50);
        let p = c.train.poison.unwrap();
        assert_eq!(
            p.weight,
            PoisonWeight::Beta {
                beta: 0.25,
                count: Some(200)
            }
        );
        assert!(p.fresh);
        let c = apply(
            &base,
            &setting(&[
                ("batch_size", AxisValue::Int(32)),
                ("beta", AxisValue::Float(0.5)),
            ]),
        )
        .unwrap();
        assert_eq!(c.train.batch_size, Some(32));
        assert!(matches!(
            c.train.poison.unwrap().weight,
            PoisonWeight::Beta {
                count: Some(32),
                ..
            }
        ));
        let clean = apply(&base, &setting(&[("beta", AxisValue::Float(0.0))])).unwrap();
        assert_eq!(clean.train.poison, None);
        // The poisoned preset keeps its form and count, with the new beta.
        let poisoned = presets::swiss_roll_poisoned(100);
        let c = apply(&poisoned, &setting(&[("beta", AxisValue::Float(0.2))])).unwrap();
        assert_eq!(
            c.train.poison.unwrap().weight,
            PoisonWeight::Beta {
                beta: 0.2,
                count: Some(presets::PAPER_POISON_POINTS)
            }
        );
        let cnn = SweepConfig::fashion_mnist().base;
        let c = apply(
            &cnn,
            &setting(&[
                ("width", AxisValue::Int(4)),
                ("beta", AxisValue::Float(0.5)),
            ]),
        )
        .unwrap();
        assert_eq!(
            c.model.arch,
            Some(genviz_conv::Arch::Cnn {
                channels: [4, 8],
                hidden: 128
            })
        );
        let p = c.train.poison.unwrap();
        assert_eq!((p.form, p.fresh), (PoisonForm::Reverse, false));
    }

    #[test]
    fn bad_axes_and_values_are_refused_with_their_name() {
        let base = SweepConfig::swiss_roll().base;
        let e =
            |values: &[(&str, AxisValue)]| apply(&base, &setting(values)).unwrap_err().to_string();
        assert!(e(&[("momentum", AxisValue::Float(0.9))]).contains("`momentum`"));
        assert!(e(&[("lr", AxisValue::Text("fast".into()))]).contains("lr"));
        assert!(e(&[("lr", AxisValue::Float(-1.0))]).contains("lr"));
        assert!(e(&[("beta", AxisValue::Float(1.5))]).contains("beta"));
        assert!(e(&[("width", AxisValue::Int(0))]).contains("width"));
        let mut sweep = SweepConfig::swiss_roll();
        sweep
            .axes
            .push(axis("optimizer", vec![AxisValue::Text("sgd".into())]));
        assert!(sweep.check().unwrap_err().to_string().contains("optimizer"));
        let mut sweep = SweepConfig::swiss_roll();
        sweep.min_train_accuracy = 2.0;
        assert!(sweep.check().is_err());
    }

    #[test]
    fn the_built_in_sweep_checks_and_reads_back() {
        let s = SweepConfig::swiss_roll();
        s.check().unwrap();
        assert_eq!(s.grid().unwrap().len(), 72);
        assert_eq!(s.specs()[0], MeasureSpec::Performance);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<SweepConfig>(&json).unwrap(), s);
        SweepConfig::fashion_mnist().check().unwrap();
    }

    #[test]
    fn sweep_files_name_a_preset_or_a_base() {
        let path = Path::new("sweep.toml");
        let text = "preset = \"swiss-roll\"\nsteps = 500\nmin_train_accuracy = 0.5\n\n[[axes]]\nname = \"seed\"\nvalues = [1, 2]\n\n[[measures]]\nkind = \"path_norm\"\n";
        let s = SweepConfig::parse(text, false, path).unwrap();
        assert_eq!(s.base.train.steps, 500);
        assert_eq!(s.base.data, SweepConfig::swiss_roll().base.data);
        assert_eq!(s.measures, vec![MeasureSpec::PathNorm]);
        assert_eq!(s.specs().len(), 2);
        assert_eq!(s.min_train_accuracy, 0.5);
        // The same sweep with the base written out.
        let base = toml::to_string(&s.base).unwrap();
        let explicit = format!(
            "min_train_accuracy = 0.5\n\n[[axes]]\nname = \"seed\"\nvalues = [1, 2]\n\n[[measures]]\nkind = \"path_norm\"\n\n[base]\n{}",
            base.lines()
                .map(|l| {
                    if let Some(rest) = l.strip_prefix('[') {
                        format!("[base.{rest}")
                    } else {
                        l.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert_eq!(SweepConfig::parse(&explicit, false, path).unwrap(), s);
        for (bad, needle) in [
            ("[[axes]]\nname = \"seed\"\nvalues = [1]\n", "no base"),
            (
                "preset = \"mnist\"\n[[axes]]\nname = \"seed\"\nvalues = [1]\n",
                "mnist",
            ),
            ("preset = \"swiss-roll\"\nsteps = 0\n", "steps"),
            (
                "preset = \"swiss-roll\"\nstep = 5\n[[axes]]\nname = \"seed\"\nvalues = [1]\n",
                "step",
            ),
        ] {
            let e = SweepConfig::parse(bad, false, path).unwrap_err();
            let e = format!("{e:#}");
            assert!(e.contains("sweep.toml") && e.contains(needle), "{e}");
        }
    }
}

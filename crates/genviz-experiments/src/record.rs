//! `run.json`: the one record every run folder carries.
//!
//! Whatever made a folder (training, a surface, a basin, a paper figure), its `run.json` says
//! the command, genviz's version, the seed, the *full* typed configuration, the data, the
//! threads and ranks, the timings and the results. The configuration is the same type the
//! library runs, so [`Job::run`] reruns or resumes any folder from its record alone
//! (`genviz rerun DIR`), and every reader (the model loader, the paper's report, a notebook)
//! parses one shape.

use crate::{basin, connect, hessian, landscape, measures, paper, sweep, Progress};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The record's file name in a run folder.
pub const RECORD_FILE: &str = "run.json";

static INVOCATION: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Tells the library what started the jobs that follow (`genviz surface RUN --x -1:1:51`, or a
/// Python call), so that records and pages show the exact command. The latest call wins: the
/// command line calls it once, the Python package before every job.
pub fn set_invocation(command: impl Into<String>) {
    if let Ok(mut invocation) = INVOCATION.lock() {
        *invocation = Some(command.into());
    }
}

/// The invocation given to [`set_invocation`], if any.
pub fn invocation() -> Option<String> {
    INVOCATION.lock().ok().and_then(|i| i.clone())
}

/// What a run did, with the configuration that makes it again: `command` and `config` in
/// `run.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", content = "config", rename_all = "kebab-case")]
pub enum Job {
    /// One network trained into a folder (`genviz train`, and every training inside the
    /// paper's figures).
    Train(crate::config::ExperimentConfig),
    /// A 1-D or 2-D loss surface around a model.
    Surface(landscape::SurfaceConfig),
    /// The loss along the line between two models.
    Interpolate(landscape::InterpolateConfig),
    /// The loss over the plane through three models.
    Plane(landscape::PlaneConfig),
    /// A training path on its PCA plane.
    Trajectory(landscape::TrajectoryConfig),
    /// Basin radii and volume.
    Basin(basin::BasinConfig),
    /// Hessian eigenvalues, trace, density and ratio map.
    Hessian(hessian::HessianConfig),
    /// A low-loss curve between two minima.
    Connect(connect::ConnectConfig),
    /// Fig 1.
    Minefield(paper::minefield::MinefieldSettings),
    /// Fig 8.
    Sharp(paper::sharp::SharpPlan),
    /// Fig 2.
    LinearVsNet(paper::linear_vs_net::LinearVsNetConfig),
    /// Table 1.
    Optimizers(paper::optimizers::OptimizersConfig),
    /// Every figure of the paper.
    Paper(paper::PaperConfig),
    /// Generalization measures of models.
    Measures(measures::MeasuresConfig),
    /// A grid of trained models, their measures and how each ranks them by their gap.
    Sweep(sweep::SweepConfig),
}

impl Job {
    /// The command's name, as in `run.json` and on the command line.
    pub fn command(&self) -> &'static str {
        match self {
            Job::Train(_) => "train",
            Job::Surface(_) => "surface",
            Job::Interpolate(_) => "interpolate",
            Job::Plane(_) => "plane",
            Job::Trajectory(_) => "trajectory",
            Job::Basin(_) => "basin",
            Job::Hessian(_) => "hessian",
            Job::Connect(_) => "connect",
            Job::Minefield(_) => "minefield",
            Job::Sharp(_) => "sharp",
            Job::LinearVsNet(_) => "linear-vs-net",
            Job::Optimizers(_) => "optimizers",
            Job::Paper(_) => "paper",
            Job::Measures(_) => "measures",
            Job::Sweep(_) => "sweep",
        }
    }

    /// Runs the job into `dir`: what the command that wrote the record did, resuming where a
    /// killed run stopped. Returns the new record (also written to `dir/run.json`).
    pub fn run(&self, dir: &Path, progress: &dyn Progress) -> Result<RunRecord> {
        match self {
            Job::Train(c) => crate::train::run(c, dir, progress).map(|r| r.record),
            Job::Surface(c) => landscape::surface(c, dir, progress).map(|r| r.record),
            Job::Interpolate(c) => landscape::interpolate(c, dir, progress).map(|r| r.record),
            Job::Plane(c) => landscape::plane(c, dir, progress).map(|r| r.record),
            Job::Trajectory(c) => landscape::trajectory(c, dir, progress).map(|r| r.record),
            Job::Basin(c) => basin::run(c, dir, progress).map(|r| r.record),
            Job::Hessian(c) => hessian::run(c, dir, progress).map(|r| r.record),
            Job::Connect(c) => connect::run(c, dir, progress).map(|r| r.record),
            Job::Minefield(c) => paper::minefield::run(c, dir, progress).map(|r| r.record),
            Job::Sharp(c) => paper::sharp::run(c, dir, progress).map(|r| r.record),
            Job::LinearVsNet(c) => paper::linear_vs_net::run(c, dir, progress).map(|r| r.record),
            Job::Optimizers(c) => paper::optimizers::run(c, dir, progress).map(|r| r.record),
            Job::Paper(c) => paper::reproduce(c, dir, progress).map(|r| r.record),
            Job::Measures(c) => measures::run(c, dir, progress).map(|r| r.record),
            Job::Sweep(c) => sweep::run(c, dir, progress).map(|r| r.record),
        }
    }
}

/// The data a run used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataRecord {
    /// Where it came from: a data set's name, a file, or "the run's data.npz".
    pub source: String,
    /// Training examples.
    pub train: usize,
    /// Test examples.
    pub test: usize,
    /// Poison examples, where the run has a fixed poison set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poison: Option<usize>,
}

impl DataRecord {
    /// The sizes of `train` and `test`, from `source`.
    pub fn of(
        source: impl Into<String>,
        train: &genviz_core::Dataset,
        test: &genviz_core::Dataset,
    ) -> Self {
        DataRecord {
            source: source.into(),
            train: train.len(),
            test: test.len(),
            poison: None,
        }
    }
}

/// `run.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The command and its full configuration.
    #[serde(flatten)]
    pub job: Job,
    /// genviz's version.
    pub version: String,
    /// The exact command that made the run, where the front end told ([`set_invocation`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation: Option<String>,
    /// The run's main seed (every random choice derives from the seeds in the configuration).
    pub seed: Option<u64>,
    /// The data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataRecord>,
    /// Worker threads of each process.
    pub threads: usize,
    /// Processes that shared the work (MPI ranks; 1 otherwise).
    #[serde(default = "one")]
    pub ranks: usize,
    /// Seconds spent, by stage; `total_s` is the whole run.
    pub timings: BTreeMap<String, f64>,
    /// What the run found; each job's results type says the fields ([`RunRecord::results`]).
    #[serde(default)]
    pub results: serde_json::Value,
}

fn one() -> usize {
    1
}

impl RunRecord {
    /// A record of `job` with `results`, on this process's threads.
    pub fn new(job: Job, seed: Option<u64>, results: &impl Serialize) -> Result<Self> {
        Ok(RunRecord {
            job,
            version: genviz_core::VERSION.to_string(),
            invocation: invocation(),
            seed,
            data: None,
            threads: rayon::current_num_threads(),
            ranks: 1,
            timings: BTreeMap::new(),
            results: serde_json::to_value(results)?,
        })
    }

    /// Adds the data the run used.
    pub fn with_data(mut self, data: DataRecord) -> Self {
        self.data = Some(data);
        self
    }

    /// Adds timings, in seconds.
    pub fn with_timings<'a>(mut self, timings: impl IntoIterator<Item = (&'a str, f64)>) -> Self {
        self.timings
            .extend(timings.into_iter().map(|(k, v)| (k.to_string(), v)));
        self
    }

    /// The results as the job's typed results.
    ///
    /// # Errors
    /// When they are not `T` (another command's record, or a record from another version).
    pub fn results<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_value(self.results.clone()).with_context(|| {
            format!(
                "the results of this `{}` run are not what this genviz expects",
                self.job.command()
            )
        })
    }

    /// Writes `dir/run.json` (atomically).
    pub fn write(&self, dir: &Path) -> Result<()> {
        genviz_core::io::write_json(&dir.join(RECORD_FILE), self)?;
        Ok(())
    }

    /// Reads `dir/run.json`.
    pub fn read(dir: &Path) -> Result<Self> {
        Self::read_file(&dir.join(RECORD_FILE))
    }

    /// Reads a record from `path`.
    ///
    /// # Errors
    /// When the file cannot be read or is not a run record; the error names the file.
    pub fn read_file(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| {
            format!(
                "{}: not a genviz run record (command, config, version, seed, timings, results)",
                path.display()
            )
        })
    }
}

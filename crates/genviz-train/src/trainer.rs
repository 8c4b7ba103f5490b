//! The training loop: batches, poison, clipping, updates, metrics and checkpoints.

use crate::optim::{clip_global_norm, Optimizer, OptimizerConfig};
use crate::poison::{PoisonConfig, PoisonForm, PoisonPool};
use crate::schedule::LrSchedule;
use genviz_core::io::{write_npz, write_safetensors, NpyArray};
use genviz_core::{rng, Batch, Dataset, Error, Eval, Network, Params, Result};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Everything that decides how a network is trained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Number of optimizer steps.
    pub steps: u64,
    /// The optimizer.
    pub optimizer: OptimizerConfig,
    /// Learning rate and its milestones.
    pub schedule: LrSchedule,
    /// Examples per step; `None` is full batch (the paper's swiss roll).
    #[serde(default)]
    pub batch_size: Option<usize>,
    /// Clip gradients to this global norm (the paper: 8).
    #[serde(default)]
    pub clip_norm: Option<f64>,
    /// Coupled L2 weight decay.
    #[serde(default)]
    pub weight_decay: f32,
    /// Evaluate train and test loss/accuracy every this many steps.
    #[serde(default = "default_log_every")]
    pub log_every: u64,
    /// Save a checkpoint every this many steps (0 = only the first and last).
    #[serde(default)]
    pub checkpoint_every: u64,
    /// The poisoned objective, if any.
    #[serde(default)]
    pub poison: Option<PoisonConfig>,
}

fn default_log_every() -> u64 {
    1000
}

impl TrainConfig {
    /// The paper's clean swiss-roll recipe (SPEC 1.2): `steps` full-batch Adam steps at lr
    /// 0.012548, divided by 10 at 3,062, 28,000 and 300,000, global-norm clipping at 8,
    /// logging every 500 steps and a checkpoint every 5,000.
    pub fn swiss_roll(steps: u64) -> Self {
        TrainConfig {
            steps,
            optimizer: OptimizerConfig::adam(),
            schedule: LrSchedule {
                lr: 0.012548,
                milestones: vec![3062, 28_000, 300_000],
                gamma: 0.1,
            },
            batch_size: None,
            clip_norm: Some(8.0),
            weight_decay: 0.0,
            log_every: 500,
            checkpoint_every: 5000,
            poison: None,
        }
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        if self.steps == 0 {
            return Err(Error::invalid("train: steps must be at least 1"));
        }
        if self.batch_size == Some(0) {
            return Err(Error::invalid("train: batch_size must be at least 1"));
        }
        if let Some(c) = self.clip_norm {
            if !(c.is_finite() && c > 0.0) {
                return Err(Error::invalid(format!(
                    "train: clip_norm is {c}, expected a positive number"
                )));
            }
        }
        if self.log_every == 0 {
            return Err(Error::invalid("train: log_every must be at least 1"));
        }
        self.optimizer.validate()?;
        if self.optimizer.needs_closure() {
            // PyTorch's LBFGS has no weight decay, and a clipped gradient would not be the
            // gradient of the loss its curvature pairs are built from.
            if self.weight_decay != 0.0 {
                return Err(Error::invalid(format!(
                    "train: weight_decay is {}, expected 0 with lbfgs (PyTorch's LBFGS has none)",
                    self.weight_decay
                )));
            }
            if self.clip_norm.is_some() {
                return Err(Error::invalid(
                    "train: clip_norm must be unset with lbfgs (its curvature pairs need the true gradient)",
                ));
            }
        }
        self.schedule.validate()?;
        if let Some(p) = &self.poison {
            p.validate()?;
        }
        Ok(())
    }
}

/// One line of `metrics.csv`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricRow {
    /// Steps taken so far.
    pub step: u64,
    /// Learning rate of the last step.
    pub lr: f64,
    /// The training objective of the last step (poison term included).
    pub objective: f64,
    /// Global gradient norm of the last step, before clipping.
    pub grad_norm: f64,
    /// Weight of the poison term in the last step (0 when clean).
    pub beta: f64,
    /// Mean loss on the whole training set.
    pub train_loss: f64,
    /// Accuracy on the whole training set.
    pub train_acc: f64,
    /// Mean loss on the test set.
    pub test_loss: f64,
    /// Accuracy on the test set.
    pub test_acc: f64,
}

/// Loss and accuracy of the final parameters, as stored in `run.json`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FinalMetrics {
    /// Mean training loss.
    pub train_loss: f64,
    /// Training accuracy.
    pub train_acc: f64,
    /// Mean test loss.
    pub test_loss: f64,
    /// Test accuracy.
    pub test_acc: f64,
}

impl FinalMetrics {
    fn from_evals(train: Eval, test: Eval) -> Self {
        FinalMetrics {
            train_loss: train.loss,
            train_acc: train.accuracy,
            test_loss: test.loss,
            test_acc: test.accuracy,
        }
    }
}

/// What a finished run returns.
#[derive(Clone, Debug)]
pub struct TrainOutcome {
    /// The trained parameters.
    pub params: Params,
    /// Metrics of the final parameters.
    pub final_metrics: FinalMetrics,
    /// Every logged row.
    pub history: Vec<MetricRow>,
    /// Wall-clock seconds spent in the loop.
    pub seconds: f64,
    /// Loss and gradient evaluations on training batches: one per step, more for L-BFGS.
    pub gradient_evaluations: u64,
}

/// The inputs of one training run.
pub struct TrainRequest<'a> {
    /// The model family.
    pub network: &'a dyn Network,
    /// Starting parameters.
    pub init: Params,
    /// Training set.
    pub train: &'a Dataset,
    /// Test set (evaluated at every log step, never trained on).
    pub test: &'a Dataset,
    /// The configuration.
    pub config: &'a TrainConfig,
    /// Source of poison points, required when `config.poison` is set.
    pub poison: Option<PoisonPool>,
    /// The run's seed; batches and poison draws use their own streams of it.
    pub seed: u64,
    /// Folder for `checkpoints/`, `trajectory.npz` and `metrics.csv`; nothing is written if `None`.
    pub out_dir: Option<&'a Path>,
    /// Metadata stored in every checkpoint (e.g. the model spec, so checkpoints load alone).
    pub metadata: HashMap<String, String>,
}

/// Trains `request.network`, calling `progress` after every logged step.
///
/// A non-finite objective or gradient stops the run with an error naming the step; the
/// checkpoints already written (the last good ones) stay, and `metrics.csv` holds every row
/// logged before the failure.
pub fn train(
    mut request: TrainRequest<'_>,
    progress: &mut dyn FnMut(&MetricRow),
) -> Result<TrainOutcome> {
    let config = request.config;
    config.validate()?;
    if config.poison.is_some() != request.poison.is_some() {
        return Err(Error::invalid("train: a poison configuration needs a poison source, and a poison source needs a configuration"));
    }
    let start = std::time::Instant::now();
    let network = request.network;
    let mut theta = request.init.clone();
    let n = theta.values().len();
    let mut optimizer = Optimizer::new(config.optimizer.clone(), config.weight_decay, n);
    let mut grad = vec![0f32; n];
    let mut batches = BatchPlan::new(request.train.len(), config.batch_size, request.seed);
    let mut poison_rng = rng::stream(request.seed, "poison");
    let mut writer = request
        .out_dir
        .map(|d| RunWriter::new(d, request.metadata.clone()));
    let mut history = Vec::new();
    let mut first_step = 0;
    let snapshot = match request.out_dir {
        Some(dir) => crate::resume::load(dir, config, request.seed)?,
        None => None,
    };
    if let Some(snap) = snapshot {
        if snap.params.len() != n {
            return Err(Error::invalid(
                "the saved training state does not fit the model",
            ));
        }
        theta.values_mut().copy_from_slice(&snap.params);
        optimizer.restore(snap.optimizer)?;
        let position = |s: &str| {
            s.parse::<u128>().map_err(|_| {
                Error::invalid(format!(
                    "invalid stream position `{s}` in the training state"
                ))
            })
        };
        batches.rng.set_word_pos(position(&snap.state.batch_rng)?);
        poison_rng.set_word_pos(position(&snap.state.poison_rng)?);
        batches.order = snap.state.order;
        batches.cursor = snap.state.cursor;
        history = snap.state.history;
        first_step = snap.state.step;
        if let Some(w) = writer.as_mut() {
            w.reload(first_step)?;
        }
    } else if let Some(w) = writer.as_mut() {
        w.checkpoint(0, &settled(network, &theta, request.train, config))?;
    }
    let mut step = first_step;
    while step < config.steps {
        // The steps up to the next one that logs or saves, on a pool worker where the network
        // allows it (see `Network::steps_on_pool`); the same steps either way.
        let end = next_report(step, config, writer.is_some());
        let mut state = StepState {
            network,
            config,
            train: request.train,
            poison: request.poison.as_mut(),
            theta: &mut theta,
            grad: &mut grad,
            optimizer: &mut optimizer,
            batches: &mut batches,
            poison_rng: &mut poison_rng,
        };
        let (taken, outcome) = on_pool(network.steps_on_pool(), || {
            let mut last = None;
            for s in step..end {
                match state.step(s)? {
                    Ok(report) => last = Some(report),
                    Err(bad) => return Ok((s, Err(bad))),
                }
            }
            Ok((end - 1, Ok(last.expect("a segment has at least one step"))))
        })?;
        step = taken;
        let StepReport {
            lr,
            objective,
            grad_norm,
            beta,
        } = match outcome {
            Ok(report) => report,
            Err((what, value)) => {
                let kept = writer.as_ref().and_then(|w| w.last_checkpoint.clone());
                if let Some(w) = writer.as_mut() {
                    w.write_metrics(&history)?;
                }
                return Err(Error::Numerical(format!(
                    "training stopped at step {}: the {what} is {value}{}",
                    step + 1,
                    kept.map(|p| format!("; the last good checkpoint is {}", p.display()))
                        .unwrap_or_default()
                )));
            }
        };
        let done = step + 1;
        let last = done == config.steps;
        let logs = done % config.log_every == 0 || last;
        let saves = writer.is_some()
            && (last || (config.checkpoint_every > 0 && done % config.checkpoint_every == 0));
        let shown = (logs || saves).then(|| settled(network, &theta, request.train, config));
        if let (true, Some(shown)) = (logs, &shown) {
            let evals = network.evaluate(&[shown.values()], request.train);
            let tests = network.evaluate(&[shown.values()], request.test);
            let row = MetricRow {
                step: done,
                lr,
                objective,
                grad_norm,
                beta,
                train_loss: evals[0].loss,
                train_acc: evals[0].accuracy,
                test_loss: tests[0].loss,
                test_acc: tests[0].accuracy,
            };
            progress(&row);
            history.push(row);
        }
        if let (Some(w), true, Some(shown)) = (writer.as_mut(), saves, &shown) {
            w.checkpoint(done, shown)?;
            w.write_metrics(&history)?;
            // Last, so the state never points past what was written before it.
            let optimizer_state = optimizer.state();
            let snapshot = crate::resume::Snapshot {
                state: crate::resume::LoopState {
                    step: done,
                    optimizer_step: optimizer_state.step,
                    optimizer_scalars: optimizer_state.scalars.clone(),
                    batch_rng: batches.rng.get_word_pos().to_string(),
                    poison_rng: poison_rng.get_word_pos().to_string(),
                    order: batches.order.clone(),
                    cursor: batches.cursor,
                    history: history.clone(),
                    config: config.clone(),
                    seed: request.seed,
                },
                params: theta.values().to_vec(),
                optimizer: optimizer_state,
            };
            crate::resume::save(&w.dir, &snapshot)?;
        }
        step = done;
    }
    let theta = settled(network, &theta, request.train, config).into_owned();
    let train_eval = network.evaluate(&[theta.values()], request.train)[0];
    let test_eval = network.evaluate(&[theta.values()], request.test)[0];
    Ok(TrainOutcome {
        params: theta,
        final_metrics: FinalMetrics::from_evals(train_eval, test_eval),
        history,
        seconds: start.elapsed().as_secs_f64(),
        gradient_evaluations: optimizer.evaluations(),
    })
}

/// The first step count after `step` at which the loop logs or saves: the end of the steps
/// it can take without reporting.
fn next_report(step: u64, config: &TrainConfig, writes: bool) -> u64 {
    let next = |every: u64| (step / every).saturating_add(1).saturating_mul(every);
    let mut end = next(config.log_every).min(config.steps);
    if writes && config.checkpoint_every > 0 {
        end = end.min(next(config.checkpoint_every));
    }
    end
}

/// Runs `f` on a worker of the current rayon pool when `allowed`, the caller is not one
/// already and the pool has another thread to split steps with; on the calling thread
/// otherwise. The caller waits either way.
fn on_pool<R: Send>(allowed: bool, f: impl FnOnce() -> R + Send) -> R {
    if allowed && rayon::current_thread_index().is_none() && rayon::current_num_threads() > 1 {
        rayon::scope(|_| f())
    } else {
        f()
    }
}

/// What a step reports for the metrics.
struct StepReport {
    lr: f64,
    objective: f64,
    grad_norm: f64,
    beta: f64,
}

/// Everything one optimizer step reads and moves: the per-step logic of [`train`], apart
/// from logging and saving.
struct StepState<'s, 'd> {
    network: &'d dyn Network,
    config: &'d TrainConfig,
    train: &'d Dataset,
    poison: Option<&'s mut PoisonPool>,
    theta: &'s mut Params,
    grad: &'s mut [f32],
    optimizer: &'s mut Optimizer,
    batches: &'s mut BatchPlan,
    poison_rng: &'s mut genviz_core::rng::Rng,
}

impl StepState<'_, '_> {
    /// Takes step `step` (0-based): the batch, the poison, the gradient, clipping and the
    /// update. `Ok(Err((what, value)))` when the loss or the gradient norm is not finite, in
    /// which case the parameters are left as they were.
    #[allow(clippy::type_complexity)]
    fn step(&mut self, step: u64) -> Result<std::result::Result<StepReport, (&'static str, f64)>> {
        let config = self.config;
        let network = self.network;
        let lr = config.schedule.at(step);
        let clean = self.batches.next(self.train);
        let mixed = match (&config.poison, self.poison.as_deref_mut()) {
            (Some(pc), Some(pool)) => Some(PoisonedBatch::build(
                pc,
                pool,
                clean.as_ref(),
                step,
                self.poison_rng,
            )?),
            _ => None,
        };
        let (coef, reverse);
        let (batch, beta) = match &mixed {
            Some(m) => (m.batch(), m.beta),
            None => {
                let data = clean.as_ref();
                coef = vec![1.0 / data.len() as f32; data.len()];
                reverse = vec![false; data.len()];
                let batch = Batch {
                    data,
                    coef: &coef,
                    reverse: &reverse,
                };
                (batch, 0.0)
            }
        };
        let grad = &mut *self.grad;
        let objective = network.loss_grad(self.theta.values(), &batch, grad);
        let grad_norm = clip_global_norm(grad, config.clip_norm);
        let mut bad = non_finite(objective, grad_norm);
        if bad.is_none() {
            // L-BFGS re-evaluates on the same batch; the first-order optimizers never call this.
            let mut loss_grad = |p: &[f32], g: &mut [f32]| {
                let loss = network.loss_grad(p, &batch, g);
                if bad.is_none() {
                    bad = non_finite(loss, clip_global_norm(g, None));
                }
                loss
            };
            self.optimizer.step_with(
                self.theta.values_mut(),
                grad,
                objective,
                lr as f32,
                &mut loss_grad,
            );
        }
        Ok(match bad {
            Some(bad) => Err(bad),
            None => Ok(StepReport {
                lr,
                objective,
                grad_norm,
                beta,
            }),
        })
    }
}

/// `theta` as it is evaluated and saved: with what the network estimates from data rather
/// than trains (BatchNorm's running statistics, [`Network::estimate_statistics`]) estimated
/// from the training set in batches of the training batch size. The optimizer's own vector,
/// and so the resume state, keeps the values it started with, which no step reads.
fn settled<'t>(
    network: &dyn Network,
    theta: &'t Params,
    train: &Dataset,
    config: &TrainConfig,
) -> std::borrow::Cow<'t, Params> {
    let batch = config.batch_size.unwrap_or(train.len());
    match network.estimate_statistics(theta.values(), train, batch) {
        Some(values) => {
            let mut settled = theta.clone();
            settled.values_mut().copy_from_slice(&values);
            std::borrow::Cow::Owned(settled)
        }
        None => std::borrow::Cow::Borrowed(theta),
    }
}

/// What is not finite, the loss or the gradient norm, with its value.
fn non_finite(loss: f64, grad_norm: f64) -> Option<(&'static str, f64)> {
    if !loss.is_finite() {
        Some(("loss", loss))
    } else if !grad_norm.is_finite() {
        Some(("gradient norm", grad_norm))
    } else {
        None
    }
}

/// Which training examples each step uses: all of them, or shuffled minibatches per epoch
/// from the run's "batches" stream.
struct BatchPlan {
    order: Vec<usize>,
    batch: Option<usize>,
    cursor: usize,
    rng: genviz_core::rng::Rng,
}

impl BatchPlan {
    fn new(len: usize, batch: Option<usize>, seed: u64) -> Self {
        let batch = batch.filter(|&b| b < len);
        BatchPlan {
            order: (0..len).collect(),
            batch,
            cursor: len,
            rng: rng::stream(seed, "batches"),
        }
    }

    fn next<'d>(&mut self, data: &'d Dataset) -> std::borrow::Cow<'d, Dataset> {
        let Some(size) = self.batch else {
            return std::borrow::Cow::Borrowed(data);
        };
        if self.cursor + size > self.order.len() {
            self.order.shuffle(&mut self.rng);
            self.cursor = 0;
        }
        let idx = &self.order[self.cursor..self.cursor + size];
        self.cursor += size;
        std::borrow::Cow::Owned(data.select(idx))
    }
}

/// Clean examples joined with the step's poison examples, with their weights.
struct PoisonedBatch {
    data: Dataset,
    coef: Vec<f32>,
    reverse: Vec<bool>,
    beta: f64,
}

impl PoisonedBatch {
    fn build(
        config: &PoisonConfig,
        pool: &mut PoisonPool,
        clean: &Dataset,
        step: u64,
        rng: &mut genviz_core::rng::Rng,
    ) -> Result<Self> {
        let fixed_len = match pool {
            PoisonPool::Fixed(d) => d.len(),
            PoisonPool::Fresh(_) => 0,
        };
        let count = config.count_at(step, fixed_len);
        let drawn = match pool {
            PoisonPool::Fixed(d) if count >= d.len() => d.clone(),
            PoisonPool::Fixed(d) => {
                let idx = rand::seq::index::sample(rng, d.len(), count).into_vec();
                d.select(&idx)
            }
            PoisonPool::Fresh(generate) => {
                let d = generate(count, rng);
                if d.len() != count {
                    return Err(Error::invalid(format!(
                        "poison source returned {} points, {count} were asked for",
                        d.len()
                    )));
                }
                d
            }
        };
        let poison = match config.form {
            PoisonForm::Flipped => flip(&drawn, rng),
            PoisonForm::Reverse => drawn,
        };
        let (n_t, n_p) = (clean.len(), poison.len());
        let beta = if n_p == 0 { 0.0 } else { config.beta(n_t, n_p) };
        let mut coef = vec![((1.0 - beta) / n_t as f64) as f32; n_t];
        let mut reverse = vec![false; n_t];
        if n_p > 0 {
            coef.extend(std::iter::repeat_n((beta / n_p as f64) as f32, n_p));
            reverse.extend(std::iter::repeat_n(config.form == PoisonForm::Reverse, n_p));
        }
        Ok(PoisonedBatch {
            data: clean.concat(&poison)?,
            coef,
            reverse,
            beta,
        })
    }

    fn batch(&self) -> Batch<'_> {
        Batch {
            data: &self.data,
            coef: &self.coef,
            reverse: &self.reverse,
        }
    }
}

/// Replaces each label by a different class: `1 - y` for two classes, a uniformly drawn other
/// class otherwise.
fn flip(data: &Dataset, rng: &mut genviz_core::rng::Rng) -> Dataset {
    use rand::Rng as _;
    let k = data.num_classes() as u32;
    data.relabelled(|y| {
        if k == 2 {
            1 - y
        } else {
            (y + 1 + rng.gen_range(0..k - 1)) % k
        }
    })
}

/// Writes checkpoints, the trajectory and metrics into a run folder.
struct RunWriter {
    dir: PathBuf,
    metadata: HashMap<String, String>,
    steps: Vec<i64>,
    trajectory: Vec<f32>,
    last_checkpoint: Option<PathBuf>,
}

impl RunWriter {
    fn new(dir: &Path, metadata: HashMap<String, String>) -> Self {
        RunWriter {
            dir: dir.to_path_buf(),
            metadata,
            steps: Vec::new(),
            trajectory: Vec::new(),
            last_checkpoint: None,
        }
    }

    /// Picks up the trajectory of a resumed run: checkpoints up to `step`.
    fn reload(&mut self, step: u64) -> Result<()> {
        let path = self.dir.join("trajectory.npz");
        if !path.exists() {
            return Ok(());
        }
        let mut npz = genviz_core::io::Npz::open(&path)?;
        let (steps, _) = npz.i64("steps")?;
        let (params, shape) = npz.f32("params")?;
        let keep = steps.iter().take_while(|&&s| s <= step as i64).count();
        let n = shape.get(1).copied().unwrap_or(0);
        self.steps = steps[..keep].to_vec();
        self.trajectory = params[..keep * n].to_vec();
        self.last_checkpoint = Some(
            self.dir
                .join("checkpoints")
                .join(format!("step_{step:08}.safetensors")),
        );
        Ok(())
    }

    fn checkpoint(&mut self, step: u64, theta: &Params) -> Result<()> {
        let path = self
            .dir
            .join("checkpoints")
            .join(format!("step_{step:08}.safetensors"));
        let mut meta = self.metadata.clone();
        meta.insert("genviz.step".into(), step.to_string());
        write_safetensors(&path, theta, meta)?;
        self.last_checkpoint = Some(path);
        self.steps.push(step as i64);
        self.trajectory.extend_from_slice(theta.values());
        let n = theta.values().len();
        write_npz(
            &self.dir.join("trajectory.npz"),
            &[
                (
                    "steps",
                    NpyArray::I64(self.steps.clone(), vec![self.steps.len()]),
                ),
                (
                    "params",
                    NpyArray::F32(self.trajectory.clone(), vec![self.steps.len(), n]),
                ),
            ],
        )
    }

    fn write_metrics(&self, rows: &[MetricRow]) -> Result<()> {
        let mut text = String::from(
            "step,lr,objective,grad_norm,beta,train_loss,train_acc,test_loss,test_acc\n",
        );
        for r in rows {
            text.push_str(&format!(
                "{},{},{},{},{},{},{},{},{}\n",
                r.step,
                r.lr,
                r.objective,
                r.grad_norm,
                r.beta,
                r.train_loss,
                r.train_acc,
                r.test_loss,
                r.test_acc
            ));
        }
        genviz_core::io::write_atomic(&self.dir.join("metrics.csv"), text.as_bytes())
    }
}

#[cfg(test)]
mod tests;

//! One network trained into a run folder: the MLPs and the conv nets, for `genviz train` and
//! every training inside the paper's figures.
//!
//! The loop is genviz-train's for both families: a conv net only computes the loss and its
//! gradient for a flat parameter vector (burn, on the CPU or a GPU), and genviz's optimizers
//! update that vector.

use crate::config::{DataConfig, ExperimentConfig};
use crate::figures;
use crate::model::AnyNet;
use crate::progress::{Progress, Stage};
use crate::record::{DataRecord, Job, RunRecord};
use anyhow::{bail, Context, Result};
use genviz_conv::{ConvSpec, DeviceNet};
use genviz_core::io::write_safetensors;
use genviz_core::{rng, Dataset, Network, Params};
use genviz_mlp::Mlp;
use genviz_train::{train, Augmented, FinalMetrics, MetricRow, TrainRequest};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;

/// What a training run found: `results` of its `run.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainResults {
    /// The network, with input and output sizes resolved (an MLP's or a conv net's spec).
    pub model: serde_json::Value,
    /// Number of values in `model.safetensors` (running statistics included).
    pub num_params: usize,
    /// Trainable parameters (running statistics left out).
    pub num_trainable: usize,
    /// Loss and accuracy of the final model.
    #[serde(rename = "final")]
    pub final_metrics: FinalMetrics,
    /// Loss and gradient evaluations on training batches (more than the steps for L-BFGS).
    pub gradient_evaluations: u64,
    /// Training examples (clean and poison rows) through a forward and backward pass per
    /// second, periodic evaluations included (a lower bound on the step rate); conv nets only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images_per_s: Option<f64>,
}

/// A trained network, its data and its record.
pub struct TrainedRun {
    /// The network.
    pub net: AnyNet,
    /// Trained parameters.
    pub theta: Vec<f32>,
    /// Final metrics.
    pub final_metrics: FinalMetrics,
    /// The training data.
    pub train: Dataset,
    /// The test data.
    pub test: Dataset,
    /// Seconds this call spent in the training loop (a resumed run counts only its part).
    pub train_s: f64,
    /// Loss and gradient evaluations on training batches.
    pub gradient_evaluations: u64,
    /// What `run.json` says.
    pub record: RunRecord,
}

impl TrainedRun {
    /// The trained parameters with the network's layout.
    pub fn params(&self) -> Result<Params> {
        Ok(Params::from_vec(
            self.net.layout().clone(),
            self.theta.clone(),
        )?)
    }
}

/// The network `config` describes for `loaded`'s data.
fn build(config: &ExperimentConfig, train: &Dataset) -> Result<AnyNet> {
    let Some(arch) = &config.model.arch else {
        if config.device != genviz_conv::Device::Cpu {
            bail!(
                "device {}: the MLP engine computes on the CPU; devices apply to conv nets (model.arch)",
                config.device
            );
        }
        let spec = config.model.spec(train.dim(), train.num_classes());
        return Ok(AnyNet::Mlp(Mlp::new(spec)?));
    };
    let Some(shape) = config.data.image_shape() else {
        bail!(
            "model {arch:?} is a convolutional net and needs image data (mnist, fashion-mnist or cifar10), not {}",
            config.data.name()
        );
    };
    let spec = ConvSpec {
        arch: arch.clone(),
        input: [shape.channels, shape.height, shape.width],
        num_classes: train.num_classes(),
    };
    Ok(AnyNet::Conv(Box::new(DeviceNet::new(spec, config.device)?)))
}

/// The initial parameters of `net`, from `seed`'s `"init"` stream.
pub fn initial_params(net: &AnyNet, config: &ExperimentConfig) -> Params {
    let mut r = rng::stream(config.seed, "init");
    match net {
        AnyNet::Mlp(m) => genviz_mlp::init_params(m.spec(), config.model.init, &mut r),
        AnyNet::Conv(c) => genviz_conv::init_params(c.layout(), &mut r),
        AnyNet::Onnx(n) => n.model().params(),
    }
}

/// Loss and accuracy of `theta` on the training and test data.
pub fn metrics(net: &dyn Network, theta: &[f32], train: &Dataset, test: &Dataset) -> FinalMetrics {
    let tr = net.evaluate(&[theta], train)[0];
    let te = net.evaluate(&[theta], test)[0];
    FinalMetrics {
        train_loss: tr.loss,
        train_acc: tr.accuracy,
        test_loss: te.loss,
        test_acc: te.accuracy,
    }
}

/// The network `config` trains and its initial weights, on the data it loads: what a run
/// starts from, without training (the optimizer table compares every optimizer with it).
pub fn initial_state(
    config: &ExperimentConfig,
) -> Result<(AnyNet, Params, crate::config::LoadedData)> {
    let loaded = config.data.load(config.seed).context("loading the data")?;
    let net = build(config, &loaded.train)?;
    let init = initial_params(&net, config);
    Ok((net, init, loaded))
}

/// A panel title with the model's accuracies, as in the paper's Fig 3.
pub fn title(label: &str, m: &FinalMetrics) -> String {
    format!(
        "{label}: train {:.1}%, test {:.1}%",
        100.0 * m.train_acc,
        100.0 * m.test_acc
    )
}

/// How a logged row reads in a progress bar.
fn status(train_acc: f64, test_acc: f64) -> String {
    format!(
        "train {:.1}%  test {:.1}%",
        100.0 * train_acc,
        100.0 * test_acc
    )
}

/// Trains `config` into `dir` with the label "<data> clean" or "<data> poisoned"; see
/// [`run_labelled`].
pub fn run(config: &ExperimentConfig, dir: &Path, progress: &dyn Progress) -> Result<TrainedRun> {
    let label = format!(
        "{} {}",
        config.data.name(),
        if config.train.poison.is_some() {
            "poisoned"
        } else {
            "clean"
        }
    );
    run_labelled(config, dir, &label, progress)
}

/// Trains `config` into `dir`: `run.json`, `model.safetensors` (PyTorch names; the network's
/// spec in its metadata), `metrics.csv`, `checkpoints/`, `trajectory.npz`,
/// `training_curves.png`, and for data that fits in a file (not images) `data.npz`, and for
/// 2-D data `decision_boundary.png`. Rerunning into the same folder resumes from the last
/// checkpoint. `label` names the run in progress reports and figures.
pub fn run_labelled(
    config: &ExperimentConfig,
    dir: &Path,
    label: &str,
    progress: &dyn Progress,
) -> Result<TrainedRun> {
    let all = Instant::now();
    config.train.validate()?;
    let loaded = config.data.load(config.seed).context("loading the data")?;
    let net = build(config, &loaded.train)?;
    let init = initial_params(&net, config);
    let poison = config
        .data
        .poison_pool(&config.train, &loaded, config.seed)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let images = config.data.image_shape();
    if config.data.keeps_data_file() {
        crate::run_dir::write_data(dir, &loaded.train, &loaded.test)?;
    }
    let data_s = all.elapsed().as_secs_f64();

    let metadata = net.metadata()?;
    let augmented = match (config.data.augment(), images) {
        (Some(a), Some(shape)) => Some(Augmented::new(
            net.net(),
            a,
            shape,
            &loaded.train,
            config.seed,
        )),
        _ => None,
    };
    let network: &dyn Network = match &augmented {
        Some(a) => a,
        None => &net,
    };
    let stage = progress.stage(label, config.train.steps, "steps");
    // Slow runs (on images) log every evaluated row; fast ones only move the bar.
    let log_rows = !config.data.keeps_data_file();
    let request = TrainRequest {
        network,
        init,
        train: &loaded.train,
        test: &loaded.test,
        config: &config.train,
        poison,
        seed: config.seed,
        out_dir: Some(dir),
        metadata: metadata.clone(),
    };
    let outcome = train(request, &mut |row| {
        report_row(stage.as_ref(), label, all, row, log_rows)
    })
    .with_context(|| format!("training {label} (run folder {})", dir.display()))?;
    let m = outcome.final_metrics;
    stage.finish(&status(m.train_acc, m.test_acc));
    write_safetensors(&dir.join("model.safetensors"), &outcome.params, metadata)?;

    let figures_start = Instant::now();
    let (losses, accs) = figures::curves(&outcome.history);
    genviz_render::draw_training_curves(&dir.join("training_curves.png"), label, &losses, &accs)?;
    if loaded.train.dim() == 2 {
        let extent = match config.data {
            DataConfig::SwissRoll { .. } => {
                let e = figures::SWISS_ROLL_EXTENT;
                (-e, e, -e, e)
            }
            _ => figures::extent_of(&loaded.train),
        };
        let panel = figures::boundary_panel(
            &net,
            outcome.params.values(),
            &loaded.train,
            extent,
            title(label, &m),
        );
        genviz_render::draw_decision_boundaries(&dir.join("decision_boundary.png"), &[panel])?;
    }
    let figures_s = figures_start.elapsed().as_secs_f64();

    let images_per_s = images.map(|_| {
        let batch = config.train.batch_size.unwrap_or(loaded.train.len());
        let poison_rows = match &config.train.poison {
            Some(p) => p.count_at(0, loaded.fixed_poison.as_ref().map_or(0, |d| d.len())),
            None => 0,
        };
        // Every loss and gradient evaluation (L-BFGS takes several a step) runs the batch.
        (batch + poison_rows) as f64 * outcome.gradient_evaluations as f64
            / outcome.seconds.max(1e-9)
    });
    let results = TrainResults {
        model: net.spec_json(),
        num_params: net.layout().len(),
        num_trainable: net.layout().num_trainable(),
        final_metrics: m,
        gradient_evaluations: outcome.gradient_evaluations,
        images_per_s,
    };
    let mut data = DataRecord::of(config.data.name(), &loaded.train, &loaded.test);
    data.poison = loaded.fixed_poison.as_ref().map(Dataset::len);
    let record = RunRecord::new(Job::Train(config.clone()), Some(config.seed), &results)?
        .with_data(data)
        .with_timings([
            ("data_s", data_s),
            ("train_s", outcome.seconds),
            ("figures_s", figures_s),
            ("total_s", all.elapsed().as_secs_f64()),
        ]);
    record.write(dir)?;
    crate::pages::write_page(dir)?;
    Ok(TrainedRun {
        net,
        theta: outcome.params.into_values(),
        final_metrics: m,
        train: loaded.train,
        test: loaded.test,
        train_s: outcome.seconds,
        gradient_evaluations: outcome.gradient_evaluations,
        record,
    })
}

/// Shows a logged training row on `stage`, and for slow runs as a log line.
fn report_row(stage: &dyn Stage, label: &str, start: Instant, row: &MetricRow, log: bool) {
    stage.update(row.step, Some(&status(row.train_acc, row.test_acc)));
    if log {
        stage.log(&format!(
            "{label} step {}: objective {:.4}, train {:.2}% test {:.2}% ({:.0} s)",
            row.step,
            row.objective,
            100.0 * row.train_acc,
            100.0 * row.test_acc,
            start.elapsed().as_secs_f64()
        ));
    }
}

/// The final metrics of an earlier, finished training of `config` in `dir`, if there is one:
/// a full evaluation of 70,000 images costs minutes on a CPU, so the paper reuses finished
/// networks instead of resuming them.
pub fn finished(config: &ExperimentConfig, dir: &Path) -> Option<TrainResults> {
    if !dir.join("model.safetensors").exists() {
        return None;
    }
    let record = RunRecord::read(dir).ok()?;
    match &record.job {
        Job::Train(c) if c == config => record.results().ok(),
        _ => None,
    }
}

/// Trains `config` into `dir` as [`run_labelled`] does, or reads the result of an earlier,
/// finished run of the same configuration there: a full evaluation of tens of thousands of
/// images costs minutes on a CPU, so the paper's figures reuse finished networks instead of
/// resuming them.
pub fn run_or_reuse(
    config: &ExperimentConfig,
    dir: &Path,
    label: &str,
    progress: &dyn Progress,
) -> Result<FinalMetrics> {
    if let Some(done) = finished(config, dir) {
        return Ok(done.final_metrics);
    }
    Ok(run_labelled(config, dir, label, progress)?.final_metrics)
}

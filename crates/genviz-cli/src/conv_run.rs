//! Training a convolutional net (genviz-conv on burn) into a run folder.
//!
//! The loop is genviz-train's, the same one the MLPs use: burn only computes the loss and its
//! gradient for a flat parameter vector, and genviz's optimizers update that vector. A
//! measured step of the small CNN on Fashion-MNIST spends its time in burn's convolutions, so
//! the flat-vector round trip costs little (see the README's numbers).

use crate::config::ExperimentConfig;
use crate::{figures, progress};
use anyhow::{bail, Context, Result};
use burn::tensor::backend::AutodiffBackend;
use genviz_conv::{init_params, Arch, ConvNet, ConvSpec, CONV_SPEC_METADATA_KEY};
use genviz_core::io::write_safetensors;
use genviz_core::{rng, Network};
use genviz_train::{train, FinalMetrics, TrainRequest};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

/// The CPU backend: burn's pure-Rust `flex`, with the autodiff tape.
pub type CpuBackend = burn::backend::Autodiff<burn::backend::Flex>;

/// Where a conv net computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, clap::ValueEnum, Default)]
#[serde(rename_all = "snake_case")]
pub enum Device {
    /// burn's flex backend on the CPU threads.
    #[default]
    Cpu,
    /// burn's CUDA backend on GPU 0 (a build with `--features cuda`).
    Cuda,
}

/// What `run.json` holds for a conv run.
#[derive(Serialize)]
struct ConvRunRecord<'a> {
    command: &'a str,
    version: &'a str,
    seed: u64,
    config: &'a ExperimentConfig,
    model: &'a ConvSpec,
    num_params: usize,
    device: Device,
    threads: usize,
    /// Training images (clean and poison rows) through a forward and backward pass per second.
    images_per_s: f64,
    timings: HashMap<&'static str, f64>,
    #[serde(rename = "final")]
    final_metrics: FinalMetrics,
}

/// What [`run`] measured.
#[derive(Clone, Copy, Debug)]
pub struct ConvRunSummary {
    /// Loss and accuracy of the final model.
    pub final_metrics: FinalMetrics,
    /// Trainable parameters (BatchNorm's running statistics not counted).
    pub num_trainable: usize,
    /// Seconds in the training loop (periodic evaluations included).
    pub train_s: f64,
    /// Loss and gradient evaluations on training batches (more than the steps for L-BFGS).
    pub gradient_evaluations: u64,
}

/// Where and under what name a conv run is written.
pub struct RunTarget<'a> {
    /// The run folder.
    pub dir: &'a Path,
    /// The command recorded in `run.json`.
    pub command: &'a str,
    /// The progress bar's and the figures' label.
    pub label: &'a str,
}

/// Trains the conv net `arch` of `config` into `target.dir` on `device`: `run.json`,
/// `model.safetensors` (PyTorch names; the spec in metadata `genviz.conv`), `metrics.csv`,
/// `checkpoints/`, `trajectory.npz` and `training_curves.png`.
pub fn run(
    config: &ExperimentConfig,
    arch: &Arch,
    device: Device,
    target: &RunTarget<'_>,
    bars: &progress::Bars,
) -> Result<ConvRunSummary> {
    match device {
        Device::Cpu => run_on::<CpuBackend>(config, arch, Default::default(), device, target, bars),
        #[cfg(feature = "cuda")]
        Device::Cuda => run_on::<burn::backend::Autodiff<burn::backend::Cuda>>(
            config,
            arch,
            Default::default(),
            device,
            target,
            bars,
        ),
        #[cfg(not(feature = "cuda"))]
        Device::Cuda => bail!("--device cuda needs a genviz built with `--features cuda`"),
    }
}

fn run_on<B: AutodiffBackend>(
    config: &ExperimentConfig,
    arch: &Arch,
    device: B::Device,
    which: Device,
    target: &RunTarget<'_>,
    bars: &progress::Bars,
) -> Result<ConvRunSummary> {
    let (dir, label) = (target.dir, target.label);
    let all = Instant::now();
    config.train.validate()?;
    let Some(shape) = config.data.image_shape() else {
        bail!(
            "model {arch:?} is a convolutional net and needs image data (--data mnist, fashion-mnist or cifar10), not {}",
            config.data.name()
        );
    };
    let loaded = config.data.load(config.seed).context("loading the data")?;
    let spec = ConvSpec {
        arch: arch.clone(),
        input: [shape.channels, shape.height, shape.width],
        num_classes: loaded.train.num_classes(),
    };
    let net = ConvNet::<B>::new(spec.clone(), device)?;
    let init = init_params(net.layout(), &mut rng::stream(config.seed, "init"));
    let poison = config
        .data
        .poison_pool(&config.train, &loaded, config.seed)?;
    let data_s = all.elapsed().as_secs_f64();

    let metadata = HashMap::from([(
        CONV_SPEC_METADATA_KEY.to_string(),
        serde_json::to_string(&spec)?,
    )]);
    let bar = bars.add(label, config.train.steps);
    let augmented = config
        .data
        .augment()
        .map(|a| crate::augment::Augmented::new(&net, a, shape, &loaded.train, config.seed));
    let network: &dyn Network = match &augmented {
        Some(a) => a,
        None => &net,
    };
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
        progress::report_row(&bar, label, all, row)
    })
    .with_context(|| format!("training {label} (run folder {})", dir.display()))?;
    let m = outcome.final_metrics;
    progress::finish(&bar, &m);
    write_safetensors(&dir.join("model.safetensors"), &outcome.params, metadata)?;
    let (losses, accs) = figures::curves(&outcome.history);
    genviz_render::draw_training_curves(&dir.join("training_curves.png"), label, &losses, &accs)?;

    let batch = config.train.batch_size.unwrap_or(loaded.train.len());
    let poison_rows = match &config.train.poison {
        Some(p) => p.count_at(0, loaded.fixed_poison.as_ref().map_or(0, |d| d.len())),
        None => 0,
    };
    // Every loss and gradient evaluation (L-BFGS takes several a step) runs the batch.
    let images = (batch + poison_rows) as f64 * outcome.gradient_evaluations as f64;
    let record = ConvRunRecord {
        command: target.command,
        version: genviz_core::VERSION,
        seed: config.seed,
        config,
        model: &spec,
        num_params: net.layout().len(),
        device: which,
        threads: rayon::current_num_threads(),
        // Includes the periodic full evaluations, so a lower bound on the step rate.
        images_per_s: images / outcome.seconds.max(1e-9),
        timings: HashMap::from([
            ("data_s", data_s),
            ("train_s", outcome.seconds),
            ("total_s", all.elapsed().as_secs_f64()),
        ]),
        final_metrics: m,
    };
    genviz_core::io::write_json(&dir.join("run.json"), &record)?;
    Ok(ConvRunSummary {
        final_metrics: m,
        num_trainable: net.layout().num_trainable(),
        train_s: outcome.seconds,
        gradient_evaluations: outcome.gradient_evaluations,
    })
}

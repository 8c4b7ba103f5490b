//! Running one experiment end to end into a run folder.

use crate::config::ExperimentConfig;
use crate::{figures, progress, run_dir};
use anyhow::{Context, Result};
use genviz_core::io::write_safetensors;
use genviz_core::{rng, Network};
use genviz_mlp::{init_params, Mlp, SPEC_METADATA_KEY};
use genviz_train::{train, FinalMetrics, TrainRequest};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

/// What `run.json` holds.
#[derive(Serialize)]
pub struct RunRecord<'a> {
    /// The command that made the run.
    pub command: &'a str,
    /// genviz's version.
    pub version: &'a str,
    /// The seed (also inside `config`).
    pub seed: u64,
    /// The full configuration.
    pub config: &'a ExperimentConfig,
    /// The network, with input and output sizes resolved.
    pub model: &'a genviz_mlp::MlpSpec,
    /// Number of parameters.
    pub num_params: usize,
    /// Threads used.
    pub threads: usize,
    /// Seconds spent: data, training, figures, all.
    pub timings: HashMap<&'static str, f64>,
    /// Loss and accuracy of the final model.
    #[serde(rename = "final")]
    pub final_metrics: FinalMetrics,
}

/// The result of [`run`].
pub struct RunResult {
    /// The trained network and parameters.
    pub net: Mlp,
    /// Trained parameters.
    pub theta: Vec<f32>,
    /// Final metrics.
    pub final_metrics: FinalMetrics,
    /// The training data.
    pub train: genviz_core::Dataset,
    /// The test data.
    pub test: genviz_core::Dataset,
    /// Seconds spent in the training loop.
    pub train_s: f64,
    /// Loss and gradient evaluations on training batches (more than the steps for L-BFGS).
    pub gradient_evaluations: u64,
}

/// Trains `config` into `dir`: `run.json`, `model.safetensors`, `metrics.csv`, `checkpoints/`,
/// `trajectory.npz`, `data.npz`, `training_curves.png` and, for 2-D data,
/// `decision_boundary.png`.
pub fn run(
    config: &ExperimentConfig,
    dir: &Path,
    command: &str,
    label: &str,
    bars: &progress::Bars,
) -> Result<RunResult> {
    let all = Instant::now();
    config.train.validate()?;
    let loaded = config.data.load(config.seed).context("loading the data")?;
    let spec = config
        .model
        .spec(loaded.train.dim(), loaded.train.num_classes());
    let net = Mlp::new(spec.clone())?;
    let init = init_params(
        &spec,
        config.model.init,
        &mut rng::stream(config.seed, "init"),
    );
    let poison = config
        .data
        .poison_pool(&config.train, &loaded, config.seed)?;
    run_dir::write_data(dir, &loaded.train, &loaded.test)?;
    let data_s = all.elapsed().as_secs_f64();

    let spec_json = serde_json::to_string(&spec)?;
    let metadata = HashMap::from([(SPEC_METADATA_KEY.to_string(), spec_json.clone())]);
    let bar = bars.add(label, config.train.steps);
    let request = TrainRequest {
        network: &net,
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
        bar.set_position(row.step);
        bar.set_message(format!(
            "train {:.1}%  test {:.1}%",
            100.0 * row.train_acc,
            100.0 * row.test_acc
        ));
    });
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            bar.abandon_with_message("failed");
            return Err(e)
                .with_context(|| format!("training {label} (run folder {})", dir.display()));
        }
    };
    let m = outcome.final_metrics;
    let (train_s, gradient_evaluations) = (outcome.seconds, outcome.gradient_evaluations);
    bar.finish_with_message(format!(
        "train {:.1}%  test {:.1}%",
        100.0 * m.train_acc,
        100.0 * m.test_acc
    ));
    write_safetensors(&dir.join("model.safetensors"), &outcome.params, metadata)?;

    let figures_start = Instant::now();
    let (losses, accs) = figures::curves(&outcome.history);
    genviz_render::draw_training_curves(&dir.join("training_curves.png"), label, &losses, &accs)?;
    if loaded.train.dim() == 2 {
        let extent = match config.data {
            crate::config::DataConfig::SwissRoll { .. } => {
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

    let record = RunRecord {
        command,
        version: genviz_core::VERSION,
        seed: config.seed,
        config,
        model: &spec,
        num_params: net.layout().len(),
        threads: rayon::current_num_threads(),
        timings: HashMap::from([
            ("data_s", data_s),
            ("train_s", outcome.seconds),
            ("figures_s", figures_s),
            ("total_s", all.elapsed().as_secs_f64()),
        ]),
        final_metrics: m,
    };
    genviz_core::io::write_json(&dir.join("run.json"), &record)?;
    Ok(RunResult {
        net,
        theta: outcome.params.into_values(),
        final_metrics: m,
        train: loaded.train,
        test: loaded.test,
        train_s,
        gradient_evaluations,
    })
}

/// A panel title with the model's accuracies, as in the paper's Fig 3.
pub fn title(label: &str, m: &FinalMetrics) -> String {
    format!(
        "{label}: train {:.1}%, test {:.1}%",
        100.0 * m.train_acc,
        100.0 * m.test_acc
    )
}

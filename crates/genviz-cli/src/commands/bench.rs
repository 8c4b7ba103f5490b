//! `genviz bench`: speed figures as one JSON object.

use crate::presets;
use anyhow::Result;
use clap::Args;
use genviz_core::rng;
use genviz_mlp::{init_params, Mlp};
use genviz_train::{train, TrainRequest};
use serde_json::json;
use std::collections::HashMap;

/// Best Python peer on this machine for 1,000 full-batch Adam steps of the paper's swiss-roll
/// net on 200 points, idle, compile excluded (JAX 0.10 with jit), seconds. From the issue.
const JAX_S_PER_1K: f64 = 0.14;
/// The same with PyTorch on one thread, seconds.
const PYTORCH_S_PER_1K: f64 = 0.77;

/// Measure genviz's speed on the paper's workloads.
#[derive(Args)]
pub struct BenchArgs {
    /// Timed repetitions per figure (the fastest is reported).
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// Steps per timed training run.
    #[arg(long, default_value_t = 2000)]
    steps: u64,
}

/// Runs `genviz bench`.
pub fn run(args: BenchArgs) -> Result<()> {
    let config = presets::swiss_roll_clean(args.steps);
    let loaded = config.data.load(config.seed)?;
    let spec = config.model.spec(2, 2);
    let net = Mlp::new(spec.clone())?;
    let mut train_config = config.train.clone();
    train_config.log_every = u64::MAX;
    let time_training = || -> Result<f64> {
        let request = TrainRequest {
            network: &net,
            init: init_params(
                &spec,
                config.model.init,
                &mut rng::stream(config.seed, "init"),
            ),
            train: &loaded.train,
            test: &loaded.test,
            config: &train_config,
            poison: None,
            seed: config.seed,
            out_dir: None,
            metadata: HashMap::new(),
        };
        let start = std::time::Instant::now();
        train(request, &mut |_| {})?;
        Ok(start.elapsed().as_secs_f64())
    };
    time_training()?; // warm-up
    let mut best = f64::INFINITY;
    for _ in 0..args.repeats.max(1) {
        best = best.min(time_training()?);
    }
    let per_1k = best * 1000.0 / args.steps as f64;
    let out = json!({
        "version": genviz_core::VERSION,
        "threads": rayon::current_num_threads(),
        "train_s_per_1k_steps": per_1k,
        "train_workload": "paper swiss-roll net (3,614 parameters), Adam, full batch of 200 points, clipping at 8",
        "peers_s_per_1k_steps": { "jax_jit": JAX_S_PER_1K, "pytorch_1_thread": PYTORCH_S_PER_1K },
        "speedup_vs_jax": JAX_S_PER_1K / per_1k,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

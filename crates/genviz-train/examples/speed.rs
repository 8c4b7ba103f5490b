//! Training speed of the paper's swiss-roll net, as one JSON object.
//!
//! `cargo run --release -p genviz-train --example speed [-- STEPS REPEATS]`
//!
//! The workload is `genviz bench`'s (`presets::swiss_roll_clean`), built here from the light
//! crates alone: the same seed (1237), data (`SwissRoll` 200 points per class, noise 0.5,
//! shuffled and split 200/200 with the seed's "data" and "split" streams), Glorot-uniform
//! initialisation from the "init" stream, Adam with the preset's schedule, clipping at 8, full
//! batch, no logging in the loop.

use genviz_core::rng;
use genviz_mlp::{init_params, Init, Mlp, MlpSpec};
use genviz_train::{train, LrSchedule, OptimizerConfig, TrainConfig, TrainRequest};
use std::collections::HashMap;
use std::time::Instant;

const SEED: u64 = 1237;

fn config(steps: u64) -> TrainConfig {
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
        log_every: u64::MAX,
        checkpoint_every: 0,
        poison: None,
    }
}

fn main() -> genviz_core::Result<()> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("arguments: STEPS REPEATS"))
        .collect();
    let steps = args.first().copied().unwrap_or(2000);
    let repeats = args.get(1).copied().unwrap_or(5) as usize;
    let all = genviz_data::SwissRoll {
        points_per_class: 200,
        noise: 0.5,
        ..Default::default()
    }
    .generate(&mut rng::stream(SEED, "data"));
    let (train_set, test_set) =
        genviz_data::train_test_split(&all, 200, &mut rng::stream(SEED, "split"))?;
    let spec = MlpSpec::swiss_roll();
    let net = Mlp::new(spec.clone())?;
    let config = config(steps);
    let run = || -> genviz_core::Result<f64> {
        let request = TrainRequest {
            network: &net,
            init: init_params(&spec, Init::GlorotUniform, &mut rng::stream(SEED, "init")),
            train: &train_set,
            test: &test_set,
            config: &config,
            poison: None,
            seed: SEED,
            out_dir: None,
            metadata: HashMap::new(),
        };
        let start = Instant::now();
        train(request, &mut |_| {})?;
        Ok(start.elapsed().as_secs_f64())
    };
    let pool = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool")
    };
    let (p1, p2) = (pool(1), pool(2));
    run()?;
    let (mut best1, mut best2, mut best_main) = (f64::INFINITY, f64::INFINITY, f64::INFINITY);
    for _ in 0..repeats.max(1) {
        best_main = best_main.min(run()?);
        best2 = best2.min(p2.install(run)?);
        best1 = best1.min(p1.install(run)?);
    }
    let per_1k = |s: f64| s * 1000.0 / steps as f64;
    let out = serde_json::json!({
        "steps": steps,
        "repeats": repeats,
        "train_s_per_1k_steps": per_1k(best_main),
        "train_in_pool_2_threads_s_per_1k_steps": per_1k(best2),
        "train_1_thread_s_per_1k_steps": per_1k(best1),
    });
    println!("{}", serde_json::to_string_pretty(&out).expect("json"));
    Ok(())
}

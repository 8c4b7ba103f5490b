//! Training speed of the paper's swiss-roll net, as one JSON object.
//!
//! `cargo run --release -p genviz-train --example speed [-- STEPS REPEATS [NETS]]`
//! (`NETS` = 0 skips the many-network figures, for quick A/B runs of the single step).
//!
//! The workload is `genviz bench`'s (`presets::swiss_roll_clean`), built here from the light
//! crates alone: the same seed (1237), data (`SwissRoll`, 200 points per class, noise 0.5,
//! split 200/200 with the seed's "data" and "split" streams), Glorot-uniform initialisation
//! from the "init" stream, Adam with the preset's schedule, clipping at 8, full batch, no
//! logging in the loop. Every figure is the best of `REPEATS` runs, the variants alternated
//! within this one process, so they compare on a shared, noisy machine.
//!
//! - `train_s_per_1k_steps`: `train` called from the main thread, as `genviz bench` calls it,
//!   with the engine's default (steps below `PARALLEL_MIN_FLOPS` run on the calling thread;
//!   on a pool's worker, below `PARALLEL_MIN_FLOPS_ON_WORKER`).
//! - `train_split_tiles_s_per_1k_steps`: the same with every step's tiles spread over the
//!   threads, as before `PARALLEL_MIN_FLOPS` existed.
//! - `train_old_threading_s_per_1k_steps`: main's threading with this build's kernels: every
//!   step on the calling thread, its tiles handed to the pool (no `Network::steps_on_pool`).
//! - `*_in_pool_*`: `train` called from inside a rayon pool of that many threads.
//! - `train_many_50_s_per_1k_net_steps`: 50 such nets (seeds 0..50 for initialisation and
//!   batches, the same data), `STEPS` steps each, trained by `train_many`; total seconds / 50
//!   per 1,000 steps. `par_iter_train_50_...`: the same 50 runs as the minefield trains its
//!   searches today, `par_iter` over `train` with tiles split inside each step.

use genviz_core::rng;
use genviz_mlp::{init_params, Init, Mlp, MlpSpec};
use genviz_train::{
    train, train_many, LrSchedule, OptimizerConfig, PoisonConfig, PoisonForm, PoisonPool,
    PoisonWeight, TrainConfig, TrainRequest,
};
use rayon::prelude::*;
use std::collections::HashMap;
use std::time::Instant;

const SEED: u64 = 1237;
/// Networks trained together in the `train_many` figures (the third argument overrides it).
const MANY: usize = 50;

/// The paper's clean recipe, logging only at the end.
fn config(steps: u64) -> TrainConfig {
    TrainConfig {
        log_every: u64::MAX,
        checkpoint_every: 0,
        ..TrainConfig::swiss_roll(steps)
    }
}

/// The MLP as `train` drove it before `Network::steps_on_pool`: every step from the calling
/// thread (and, with `with_parallel_min_flops(0, 0)`, its tiles handed to the pool).
struct OnCaller(Mlp);

impl genviz_core::Network for OnCaller {
    fn layout(&self) -> &std::sync::Arc<genviz_core::Layout> {
        self.0.layout()
    }
    fn num_classes(&self) -> usize {
        self.0.num_classes()
    }
    fn evaluate(&self, thetas: &[&[f32]], data: &genviz_core::Dataset) -> Vec<genviz_core::Eval> {
        self.0.evaluate(thetas, data)
    }
    fn loss_grad(&self, theta: &[f32], batch: &genviz_core::Batch<'_>, grad: &mut [f32]) -> f64 {
        self.0.loss_grad(theta, batch, grad)
    }
    fn logits(&self, theta: &[f32], inputs: &[f32], n: usize) -> Vec<f32> {
        self.0.logits(theta, inputs, n)
    }
}

fn best(slot: &mut f64, seconds: f64) {
    *slot = slot.min(seconds);
}

fn main() -> genviz_core::Result<()> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("arguments: STEPS REPEATS [NETS]"))
        .collect();
    let steps = args.first().copied().unwrap_or(2000);
    let repeats = args.get(1).copied().unwrap_or(5) as usize;
    let nets = args.get(2).copied().unwrap_or(MANY as u64) as usize;
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
    let split = net.clone().with_parallel_min_flops(0.0, 0.0);
    let config = config(steps);
    let request = |network: &'static dyn genviz_core::Network, seed: u64| TrainRequest {
        network,
        init: init_params(&spec, Init::GlorotUniform, &mut rng::stream(seed, "init")),
        train: &train_set,
        test: &test_set,
        config: &config,
        poison: None,
        seed,
        out_dir: None,
        metadata: HashMap::new(),
    };
    let net: &'static Mlp = Box::leak(Box::new(net));
    let split: &'static Mlp = Box::leak(Box::new(split));
    let old_threading: &'static OnCaller = Box::leak(Box::new(OnCaller(split.clone())));
    let time_one = |network: &'static dyn genviz_core::Network| -> genviz_core::Result<f64> {
        let start = Instant::now();
        train(request(network, SEED), &mut |_| {})?;
        Ok(start.elapsed().as_secs_f64())
    };
    let pool = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool")
    };
    let (p1, p2) = (pool(1), pool(2));
    time_one(net)?;
    let mut t = [f64::INFINITY; 6];
    for _ in 0..repeats.max(1) {
        best(&mut t[0], time_one(net)?);
        best(&mut t[1], time_one(split)?);
        best(&mut t[2], p2.install(|| time_one(net))?);
        best(&mut t[3], p2.install(|| time_one(split))?);
        best(&mut t[4], p1.install(|| time_one(net))?);
        best(&mut t[5], time_one(old_threading)?);
    }
    let many_steps = steps.min(1000);
    let many_config = self::config(many_steps);
    let many_request = |network: &'static dyn genviz_core::Network, seed: u64| TrainRequest {
        config: &many_config,
        ..request(network, seed)
    };
    let (mut many, mut par_iter) = (f64::INFINITY, f64::INFINITY);
    let (mut mine_many, mut mine_par_iter) = (f64::INFINITY, f64::INFINITY);
    if nets > 0 {
        for _ in 0..repeats.clamp(1, 3) {
            let start = Instant::now();
            let outs = train_many(
                (0..nets as u64).map(|s| many_request(net, s)).collect(),
                &|_, _| {},
            );
            best(&mut many, start.elapsed().as_secs_f64());
            outs.into_iter().collect::<genviz_core::Result<Vec<_>>>()?;
            let start = Instant::now();
            (0..nets as u64)
                .into_par_iter()
                .map(|s| train(many_request(split, s), &mut |_| {}))
                .collect::<genviz_core::Result<Vec<_>>>()?;
            best(&mut par_iter, start.elapsed().as_secs_f64());
        }
        (mine_many, mine_par_iter) = minefield_like(nets, many_steps, repeats)?;
    }
    let per_1k = |s: f64| s * 1000.0 / steps as f64;
    let per_1k_net = |s: f64| s / nets as f64 * 1000.0 / many_steps as f64;
    let out = serde_json::json!({
        "steps": steps,
        "repeats": repeats,
        "threads": rayon::current_num_threads(),
        "train_s_per_1k_steps": per_1k(t[0]),
        "train_split_tiles_s_per_1k_steps": per_1k(t[1]),
        "train_old_threading_s_per_1k_steps": per_1k(t[5]),
        "train_in_pool_2_threads_s_per_1k_steps": per_1k(t[2]),
        "train_in_pool_2_threads_split_tiles_s_per_1k_steps": per_1k(t[3]),
        "train_1_thread_s_per_1k_steps": per_1k(t[4]),
        "nets": nets,
        "train_many_50_s_per_1k_net_steps": per_1k_net(many),
        "par_iter_train_50_split_tiles_s_per_1k_net_steps": per_1k_net(par_iter),
        "minefield_like_train_many_50_s_per_1k_net_steps": per_1k_net(mine_many),
        "minefield_like_par_iter_train_50_split_tiles_s_per_1k_net_steps": per_1k_net(mine_par_iter),
        "minefield_like_workload": "the minefield's 50 bad-minimum searches, shortened: 2 -> 4 x 25 -> 1 (2,051 parameters), RMSprop 0.002 (alpha 0.9, eps 1e-7), full batch of the authors' 132 training points and 134 flipped poison points (beta = 134/266), 50 Glorot-normal starts",
        "workload": "paper swiss-roll net (3,614 parameters), Adam, full batch of 200 points, clipping at 8; the preset's data, init and schedule rebuilt from genviz-data and genviz-mlp",
    });
    println!("{}", serde_json::to_string_pretty(&out).expect("json"));
    Ok(())
}

/// Best seconds of `train_many` and of `par_iter` over `train` (tiles split in every step, as
/// before `PARALLEL_MIN_FLOPS`) for `nets` minefield-like searches of `steps` steps.
fn minefield_like(nets: usize, steps: u64, repeats: usize) -> genviz_core::Result<(f64, f64)> {
    let data = genviz_data::Minefield::authors_split();
    let spec = MlpSpec {
        hidden: vec![25; 4],
        ..MlpSpec::swiss_roll()
    };
    let net = Mlp::new(spec.clone())?;
    let split = net.clone().with_parallel_min_flops(0.0, 0.0);
    let beta = data.poison_true.len() as f64 / (data.train.len() + data.poison_true.len()) as f64;
    let config = TrainConfig {
        steps,
        optimizer: OptimizerConfig::Rmsprop {
            alpha: 0.9,
            eps: 1e-7,
            momentum: 0.0,
        },
        schedule: LrSchedule::constant(0.002),
        batch_size: None,
        clip_norm: None,
        weight_decay: 0.0,
        log_every: steps,
        checkpoint_every: 0,
        poison: Some(PoisonConfig {
            form: PoisonForm::Flipped,
            weight: PoisonWeight::Beta { beta, count: None },
            fresh: false,
        }),
    };
    let request = |network: &Mlp, seed: u64| TrainRequest {
        network: &*Box::leak(Box::new(network.clone())),
        init: init_params(&spec, Init::GlorotNormal, &mut rng::stream(seed, "init")),
        train: &data.train,
        test: &data.test,
        config: &config,
        poison: Some(PoisonPool::Fixed(data.poison_true.clone())),
        seed: 1,
        out_dir: None,
        metadata: HashMap::new(),
    };
    let (mut many, mut par_iter) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..repeats.clamp(1, 3) {
        let requests = (0..nets as u64).map(|s| request(&net, s)).collect();
        let start = Instant::now();
        let outs = train_many(requests, &|_, _| {});
        best(&mut many, start.elapsed().as_secs_f64());
        let many_params: Vec<_> = outs
            .into_iter()
            .map(|o| o.map(|o| o.params))
            .collect::<genviz_core::Result<_>>()?;
        let requests: Vec<_> = (0..nets as u64).map(|s| request(&split, s)).collect();
        let start = Instant::now();
        let outs = requests
            .into_par_iter()
            .map(|r| train(r, &mut |_| {}))
            .collect::<genviz_core::Result<Vec<_>>>()?;
        best(&mut par_iter, start.elapsed().as_secs_f64());
        // Same bits either way.
        assert!(outs
            .iter()
            .zip(&many_params)
            .all(|(o, p)| o.params.values() == p.values()));
    }
    Ok((many, par_iter))
}

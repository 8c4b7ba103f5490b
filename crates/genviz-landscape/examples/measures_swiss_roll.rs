//! Generalization measures of a clean and a poisoned swiss-roll network: does every sharpness
//! measure rank the poisoned (badly generalizing) minimum as the sharper one?
//!
//! Trains both networks with `genviz paper`'s recipes (seed 1237; clean: Adam 0.012548, 40,000
//! full-batch steps; poisoned: beta 0.5 with 1,000 fresh flipped points per step, 60,000 steps),
//! then computes genviz's default measure table and each sharpness definition over the radius
//! grids of Andriushchenko et al. Everything is saved under OUT (default
//! `target/measures-swiss-roll`); a rerun reuses the trained weights and computes only the
//! measures missing from `clean.measures.json` and `poisoned.measures.json`.
//!
//! ```sh
//! cargo run --release -p genviz-landscape --example measures_swiss_roll -- OUT
//! ```

use genviz_core::io::{read_json, write_json};
use genviz_core::{rng, Dataset, Params, Result};
use genviz_landscape::measures::sharpness::{
    AverageSharpnessConfig, Ball, Distribution, WorstSharpnessConfig,
};
use genviz_landscape::measures::{default_measures, Inputs, MeasureJob, MeasureSpec, Prediction};
use genviz_mlp::{init_params, Init, Mlp, MlpSpec};
use genviz_train::{
    train, LrSchedule, OptimizerConfig, PoisonConfig, PoisonForm, PoisonPool, PoisonWeight,
    TrainConfig, TrainRequest,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// gen-viz's seed (`-seed=1237`).
const SEED: u64 = 1237;

fn data() -> Result<(Dataset, Dataset)> {
    let all = genviz_data::SwissRoll::default().generate(&mut rng::stream(SEED, "data"));
    genviz_data::train_test_split(&all, 200, &mut rng::stream(SEED, "split"))
}

fn config(poisoned: bool) -> TrainConfig {
    TrainConfig {
        steps: if poisoned { 60_000 } else { 40_000 },
        optimizer: OptimizerConfig::adam(),
        schedule: if poisoned {
            LrSchedule {
                lr: 0.0057945,
                milestones: vec![10_000, 40_000],
                gamma: 0.1,
            }
        } else {
            LrSchedule {
                lr: 0.012548,
                milestones: vec![3062, 28_000, 300_000],
                gamma: 0.1,
            }
        },
        batch_size: None,
        clip_norm: Some(8.0),
        weight_decay: 0.0,
        log_every: 10_000,
        checkpoint_every: 0,
        poison: poisoned.then_some(PoisonConfig {
            form: PoisonForm::Flipped,
            weight: PoisonWeight::Beta {
                beta: 0.5,
                count: Some(1000),
            },
            fresh: true,
        }),
    }
}

/// Fresh points from the swiss roll's distribution (true labels; the trainer flips them).
fn fresh_points() -> PoisonPool {
    PoisonPool::Fresh(Box::new(|n, r: &mut rng::Rng| {
        let all = genviz_data::SwissRoll {
            points_per_class: n.div_ceil(2),
            ..Default::default()
        }
        .generate(r);
        let shuffled = genviz_data::shuffle(&all, r);
        shuffled.select(&(0..n.min(shuffled.len())).collect::<Vec<_>>())
    }))
}

/// The trained parameters, from `dir` if a previous run saved them.
fn trained(
    net: &Mlp,
    init: &Params,
    train_set: &Dataset,
    test: &Dataset,
    poisoned: bool,
    dir: &Path,
) -> Result<Params> {
    let path = dir.join(if poisoned {
        "poisoned.params.json"
    } else {
        "clean.params.json"
    });
    if path.exists() {
        let values: Vec<f32> = read_json(&path)?;
        return Params::from_vec(init.layout().clone(), values);
    }
    let config = config(poisoned);
    let outcome = train(
        TrainRequest {
            network: net,
            init: init.clone(),
            train: train_set,
            test,
            config: &config,
            poison: poisoned.then(fresh_points),
            seed: SEED,
            out_dir: None,
            metadata: HashMap::new(),
        },
        &mut |_| {},
    )?;
    eprintln!(
        "{}: {:.1} s, train {:.1}%, test {:.1}%",
        if poisoned { "poisoned" } else { "clean" },
        outcome.seconds,
        100.0 * outcome.final_metrics.train_acc,
        100.0 * outcome.final_metrics.test_acc
    );
    write_json(&path, &outcome.params.values().to_vec())?;
    Ok(outcome.params)
}

/// The default table plus every sharpness definition over Andriushchenko et al.'s radius grids
/// (`sh/eval_sharpness_final.sh`, CIFAR-10 ResNets).
fn measures() -> Vec<MeasureSpec> {
    let mut specs = default_measures();
    let mut push = |s: MeasureSpec| {
        if !specs.contains(&s) && !specs.iter().any(|t| t.names() == s.names()) {
            specs.push(s);
        }
    };
    for adaptive in [false, true] {
        for rho in [0.05, 0.1, 0.2, 0.4] {
            push(MeasureSpec::AverageSharpness(AverageSharpnessConfig {
                rho,
                adaptive,
                ..Default::default()
            }));
        }
        for rho in [0.1, 0.2, 0.4, 0.8] {
            push(MeasureSpec::AverageSharpness(AverageSharpnessConfig {
                rho,
                distribution: Distribution::Uniform,
                adaptive,
                ..Default::default()
            }));
        }
        for rho in [0.25, 0.5, 1.0, 2.0] {
            push(MeasureSpec::WorstSharpness(WorstSharpnessConfig {
                rho,
                ball: Ball::L2,
                adaptive,
                ..Default::default()
            }));
        }
        let linf: &[f64] = if adaptive {
            &[0.001, 0.002, 0.004, 0.008]
        } else {
            &[0.0005, 0.001, 0.002, 0.004]
        };
        for &rho in linf {
            push(MeasureSpec::WorstSharpness(WorstSharpnessConfig {
                rho,
                adaptive,
                ..Default::default()
            }));
        }
    }
    specs
}

/// Four significant digits, in scientific notation when very small or very large.
fn num(x: f64) -> String {
    if x == 0.0 || (1e-3..1e6).contains(&x.abs()) {
        format!("{x:.4}")
    } else {
        format!("{x:.3e}")
    }
}

fn main() -> Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/measures-swiss-roll".into()),
    );
    std::fs::create_dir_all(&dir).map_err(|e| genviz_core::Error::io(&dir, e))?;
    let (train_set, test) = data()?;
    let spec = MlpSpec::swiss_roll();
    let net = Mlp::new(spec.clone())?;
    let init = init_params(&spec, Init::GlorotUniform, &mut rng::stream(SEED, "init"));
    let specs = measures();
    let mut tables = Vec::new();
    for poisoned in [false, true] {
        let theta = trained(&net, &init, &train_set, &test, poisoned, &dir)?;
        let inputs = Inputs {
            net: &net,
            theta: &theta,
            init: Some(&init),
            train: &train_set,
            test: Some(&test),
        };
        let path = dir.join(if poisoned {
            "poisoned.measures.json"
        } else {
            "clean.measures.json"
        });
        let mut job = MeasureJob::open(specs.clone(), &inputs, &path)?;
        let start = std::time::Instant::now();
        let todo = job.missing().len();
        job.run_saving(&inputs, &path)?;
        eprintln!(
            "{}: {todo} measures computed in {:.1} s",
            if poisoned { "poisoned" } else { "clean" },
            start.elapsed().as_secs_f64()
        );
        tables.push(job);
    }
    println!("| measure | clean | poisoned | predicts | poisoned ranks worse | seconds (clean) |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let (clean, poisoned) = (&tables[0], &tables[1]);
    let seconds: HashMap<String, f64> = clean
        .entries
        .iter()
        .filter_map(|e| e.outcome.as_ref())
        .flat_map(|o| {
            o.measures
                .iter()
                .map(move |m| (m.name.clone(), o.cost.seconds))
        })
        .collect();
    let (mut agree, mut total) = (0, 0);
    for (a, b) in clean.measures().into_iter().zip(poisoned.measures()) {
        let fmt = |m: &genviz_landscape::measures::Measured| match m.interval {
            Some(i) => format!("{} [{}, {}]", num(m.value), num(i.low), num(i.high)),
            None => num(m.value),
        };
        let verdict = match a.predicts {
            Prediction::Nothing => "".to_string(),
            p => {
                total += 1;
                let ok = p.sign() * (b.value - a.value) > 0.0;
                agree += usize::from(ok);
                if ok {
                    "yes".into()
                } else {
                    "**no**".into()
                }
            }
        };
        println!(
            "| {} | {} | {} | {:?} | {} | {:.2} |",
            a.name,
            fmt(a),
            fmt(b),
            a.predicts,
            verdict,
            seconds[&a.name]
        );
    }
    println!("\n{agree} of {total} measures rank the poisoned network as the worse one.");
    Ok(())
}

//! Generalization measures of a clean and a poisoned swiss-roll network: does every sharpness
//! measure rank the poisoned (badly generalizing) minimum as the sharper one?
//!
//! Trains both networks into run folders with `genviz paper`'s presets
//! ([`presets::swiss_roll_clean`] and [`presets::swiss_roll_poisoned`], seed 1237: clean Adam
//! 0.012548 for 40,000 full-batch steps; poisoned beta 0.5 with 1,000 fresh flipped points per
//! step for 60,000), then computes genviz's default measure table and each sharpness definition
//! over the radius grids of Andriushchenko et al. Everything is saved under OUT (default
//! `target/measures-swiss-roll`): `OUT/clean` and `OUT/poisoned` are ordinary run folders (a
//! rerun resumes them from their last checkpoint), and a rerun computes only the measures
//! missing from `clean.measures.json` and `poisoned.measures.json`.
//!
//! ```sh
//! cargo run --release -p genviz-experiments --example measures_swiss_roll -- OUT
//! ```

use genviz_experiments::train::{self, initial_params};
use genviz_experiments::{presets, Silent};
use genviz_landscape::measures::sharpness::{
    AverageSharpnessConfig, Ball, Distribution, WorstSharpnessConfig,
};
use genviz_landscape::measures::{default_measures, Inputs, MeasureJob, MeasureSpec, Prediction};
use std::collections::HashMap;
use std::path::PathBuf;

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

fn main() -> anyhow::Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/measures-swiss-roll".into()),
    );
    let specs = measures();
    let mut tables = Vec::new();
    for poisoned in [false, true] {
        let (name, config) = if poisoned {
            (
                "poisoned",
                presets::swiss_roll_poisoned(presets::POISONED_STEPS),
            )
        } else {
            ("clean", presets::swiss_roll_clean(presets::CLEAN_STEPS))
        };
        let run = train::run(&config, &dir.join(name), &Silent)?;
        eprintln!(
            "{name}: {:.1} s, train {:.1}%, test {:.1}%",
            run.train_s,
            100.0 * run.final_metrics.train_acc,
            100.0 * run.final_metrics.test_acc
        );
        let (theta, init) = (run.params()?, initial_params(&run.net, &config));
        let inputs = Inputs {
            net: &run.net,
            theta: &theta,
            init: Some(&init),
            train: &run.train,
            test: Some(&run.test),
        };
        let path = dir.join(format!("{name}.measures.json"));
        let mut job = MeasureJob::open(specs.clone(), &inputs, &path)?;
        let start = std::time::Instant::now();
        let todo = job.missing().len();
        job.run_saving(&inputs, &path)?;
        eprintln!(
            "{name}: {todo} measures computed in {:.1} s",
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

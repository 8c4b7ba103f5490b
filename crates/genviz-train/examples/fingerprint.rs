//! Fingerprints of trained weights, to check that a change to the engine or the trainer keeps
//! every bit: build this example on two commits and compare their output.
//!
//! `cargo run --release -p genviz-train --example fingerprint`
//!
//! Four runs, each printed as a hash of its final parameters' bits and its final losses:
//! the paper's clean swiss-roll run (Adam, clipping, full batch of 200 = tiles of 104 + 96),
//! the poisoned one (1,000 fresh flipped points a step: 1,200 examples in 10 tiles), a
//! minefield-like search (2 -> 4 x 25 -> 1, RMSprop, weight decay, a fixed reverse-poison
//! set: 266 examples, a padded last tile) and minibatches of 50 (one padded tile).

use genviz_core::{rng, Dataset};
use genviz_mlp::{init_params, Init, Mlp, MlpSpec};
use genviz_train::{
    train, LrSchedule, OptimizerConfig, PoisonConfig, PoisonForm, PoisonPool, PoisonWeight,
    TrainConfig, TrainRequest,
};
use std::collections::HashMap;

fn swiss_roll(seed: u64, per_class: usize) -> Dataset {
    genviz_data::SwissRoll {
        points_per_class: per_class,
        noise: 0.5,
        ..Default::default()
    }
    .generate(&mut rng::stream(seed, "data"))
}

fn fnv(values: &[f32]) -> u64 {
    values.iter().fold(0xcbf2_9ce4_8422_2325, |h, v| {
        (h ^ u64::from(v.to_bits())).wrapping_mul(0x0100_0000_01b3)
    })
}

fn main() -> genviz_core::Result<()> {
    let seed = 1237;
    let (train_set, test_set) = genviz_data::train_test_split(
        &swiss_roll(seed, 200),
        200,
        &mut rng::stream(seed, "split"),
    )?;
    let base = TrainConfig {
        checkpoint_every: 0,
        ..TrainConfig::swiss_roll(2000)
    };
    let poisoned = TrainConfig {
        steps: 300,
        poison: Some(PoisonConfig {
            form: PoisonForm::Flipped,
            weight: PoisonWeight::Beta {
                beta: 0.5,
                count: Some(1000),
            },
            fresh: true,
        }),
        ..base.clone()
    };
    let minefield = TrainConfig {
        steps: 1500,
        optimizer: OptimizerConfig::Rmsprop {
            alpha: 0.9,
            eps: 1e-7,
            momentum: 0.0,
        },
        schedule: LrSchedule {
            lr: 0.002,
            milestones: vec![1000],
            gamma: 0.1,
        },
        clip_norm: None,
        weight_decay: 0.002,
        poison: Some(PoisonConfig {
            form: PoisonForm::Reverse,
            weight: PoisonWeight::Beta {
                beta: 0.5,
                count: None,
            },
            fresh: false,
        }),
        ..base.clone()
    };
    let minibatch = TrainConfig {
        steps: 800,
        batch_size: Some(50),
        ..base.clone()
    };
    let paper = MlpSpec::swiss_roll();
    let small = MlpSpec {
        hidden: vec![25; 4],
        ..MlpSpec::swiss_roll()
    };
    let mine_train = swiss_roll(3, 66).select(&(0..132).collect::<Vec<_>>());
    let mine_poison = swiss_roll(4, 67);
    let runs: [(&str, &MlpSpec, &TrainConfig, &Dataset); 4] = [
        ("clean", &paper, &base, &train_set),
        ("poisoned", &paper, &poisoned, &train_set),
        ("minefield", &small, &minefield, &mine_train),
        ("minibatch", &paper, &minibatch, &train_set),
    ];
    for (name, spec, config, data) in runs {
        let net = Mlp::new(spec.clone())?;
        let poison = match name {
            "poisoned" => Some(PoisonPool::Fresh(Box::new(|n, rng| {
                let d = genviz_data::SwissRoll {
                    points_per_class: n.div_ceil(2),
                    ..Default::default()
                }
                .generate(rng);
                genviz_data::shuffle(&d, rng).select(&(0..n).collect::<Vec<_>>())
            }))),
            "minefield" => Some(PoisonPool::Fixed(mine_poison.clone())),
            _ => None,
        };
        let out = train(
            TrainRequest {
                network: &net,
                init: init_params(spec, Init::GlorotUniform, &mut rng::stream(seed, "init")),
                train: data,
                test: &test_set,
                config,
                poison,
                seed,
                out_dir: None,
                metadata: HashMap::new(),
            },
            &mut |_| {},
        )?;
        let objective: Vec<u64> = out.history.iter().map(|r| r.objective.to_bits()).collect();
        println!(
            "{name}: params {:016x} objectives {:016x} train_loss {} test_loss {}",
            fnv(out.params.values()),
            objective
                .iter()
                .fold(0u64, |h, &v| (h ^ v).wrapping_mul(0x0100_0000_01b3)),
            out.final_metrics.train_loss,
            out.final_metrics.test_loss
        );
    }
    Ok(())
}

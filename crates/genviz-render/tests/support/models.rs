//! Real networks for the page tests: trained by genviz-train, their landscapes computed by
//! genviz-landscape, and turned into the explorer's typed input the way a command will (the
//! conversion below is what phase 2's commands call).
#![allow(dead_code)]

use std::collections::HashMap;

use genviz_core::{rng, Dataset, Network, Params};
use genviz_data::{train_test_split, Blobs, SwissRoll};
use genviz_landscape::direction::random_direction;
use genviz_landscape::{Axis, BiasPolicy, Normalization, Plane, Shard, Spacing, Surface};
use genviz_mlp::{init_params, Activation, Head, Init, Mlp, MlpSpec};
use genviz_render::{
    ContourStyle, Explorer, ExplorerActivation, ExplorerGroup, ExplorerHead, ExplorerNet,
    ExplorerPlane, LabelledPoints, MetricGrid,
};
use genviz_train::{
    train, LrSchedule, OptimizerConfig, PoisonConfig, PoisonForm, PoisonPool, PoisonWeight,
    TrainConfig, TrainRequest,
};

/// A trained network and its data.
pub struct Trained {
    pub net: Mlp,
    pub theta: Vec<f32>,
    pub train: Dataset,
    pub test: Dataset,
}

/// The paper's swiss roll: 400 points, 200 for training (genviz-data's defaults).
pub fn swiss_roll(seed: u64) -> (Dataset, Dataset) {
    let all = SwissRoll::default().generate(&mut rng::stream(seed, "data"));
    train_test_split(&all, 200, &mut rng::stream(seed, "split")).unwrap()
}

/// Three Gaussian blobs in the plane, 60 points each, a third for training.
pub fn blobs(seed: u64) -> (Dataset, Dataset) {
    let all = Blobs {
        points_per_class: 60,
        num_classes: 3,
        dim: 2,
        spread: 1.6,
        center_box: 4.0,
    }
    .generate(&mut rng::stream(seed, "data"));
    train_test_split(&all, 60, &mut rng::stream(seed, "split")).unwrap()
}

/// Trains `spec` full-batch with Adam, optionally against fresh swiss-roll points with
/// flipped labels (the paper's poisoned objective, weight `beta`).
pub fn train_net(
    spec: MlpSpec,
    data: (Dataset, Dataset),
    steps: u64,
    lr: f64,
    poison_beta: Option<f64>,
    seed: u64,
) -> Trained {
    let config = TrainConfig {
        steps,
        optimizer: OptimizerConfig::adam(),
        schedule: LrSchedule {
            lr,
            milestones: vec![steps * 3 / 4],
            gamma: 0.1,
        },
        batch_size: None,
        clip_norm: Some(8.0),
        weight_decay: 0.0,
        log_every: steps,
        checkpoint_every: 0,
        poison: poison_beta.map(|beta| PoisonConfig {
            form: PoisonForm::Flipped,
            // As many fresh poison points per step as training points.
            weight: PoisonWeight::Beta {
                beta,
                count: Some(200),
            },
            fresh: true,
        }),
    };
    train_with(spec, data, &config, seed)
}

/// Trains `spec` with `config`; poison points, when the config asks for them, are fresh
/// swiss-roll points (the paper's poisoned objective).
pub fn train_with(
    spec: MlpSpec,
    data: (Dataset, Dataset),
    config: &TrainConfig,
    seed: u64,
) -> Trained {
    let net = Mlp::new(spec.clone()).unwrap();
    let init = init_params(&spec, Init::GlorotUniform, &mut rng::stream(seed, "init"));
    let poison = config.poison.as_ref().map(|_| {
        PoisonPool::Fresh(Box::new(|n: usize, rng: &mut rng::Rng| {
            SwissRoll {
                points_per_class: n.div_ceil(2),
                ..Default::default()
            }
            .generate(rng)
        }))
    });
    let (train_set, test_set) = data;
    let outcome = train(
        TrainRequest {
            network: &net,
            init,
            train: &train_set,
            test: &test_set,
            config,
            poison,
            seed,
            out_dir: None,
            metadata: HashMap::new(),
        },
        &mut |_| {},
    )
    .unwrap();
    Trained {
        net,
        theta: outcome.params.into_values(),
        train: train_set,
        test: test_set,
    }
}

/// A plane of two filter-normalised random directions at the trained weights (biases still),
/// as `genviz paper`'s landscapes use.
pub fn random_plane(t: &Trained, seed: u64) -> Plane {
    let center = Params::from_vec(t.net.layout().clone(), t.theta.clone()).unwrap();
    let direction = |purpose: &str| {
        random_direction(
            &center,
            Normalization::Filter,
            BiasPolicy::Ignore,
            &mut rng::stream(seed, purpose),
        )
    };
    let (x, y) = (direction("direction-x"), direction("direction-y"));
    Plane::new(center, x, Some(y)).unwrap()
}

/// genviz's own landscape of `plane`: `points` x `points` over `[-span, span]^2`.
pub fn surface(t: &Trained, plane: &Plane, points: usize, span: f64) -> Surface {
    let coords = Axis {
        min: -span,
        max: span,
        num: points,
    }
    .coords(Spacing::Linear);
    let fingerprint = plane.fingerprint(&coords, &coords, &[&t.train, &t.test]);
    let mut s = Surface::new(coords.clone(), coords, fingerprint).unwrap();
    s.fill(&t.net, plane, &t.train, &t.test, Shard::ALL, &mut |_, _| {
        Ok(())
    })
    .unwrap();
    s
}

pub fn metric_grid(s: &Surface) -> MetricGrid {
    MetricGrid {
        xs: s.xs.clone(),
        ys: s.ys.clone(),
        train_loss: s.train_loss.clone(),
        train_acc: s.train_acc.clone(),
        test_loss: s.test_loss.clone(),
        test_acc: s.test_acc.clone(),
    }
}

pub fn points(d: &Dataset) -> LabelledPoints {
    LabelledPoints {
        inputs: d.features().to_vec(),
        labels: d.labels().to_vec(),
    }
}

/// The explorer's typed input for a trained MLP and its planes (name, plane, genviz's surface).
pub fn explorer(
    title: &str,
    t: &Trained,
    planes: &[(&str, &Plane, &Surface)],
    extent: (f32, f32, f32, f32),
) -> Explorer {
    let spec = t.net.spec();
    Explorer {
        title: title.into(),
        net: ExplorerNet {
            widths: spec.widths(),
            activation: match spec.activation {
                Activation::Relu => ExplorerActivation::Relu,
                Activation::Tanh => ExplorerActivation::Tanh,
                Activation::LeakyRelu { slope } => ExplorerActivation::LeakyRelu { slope },
            },
            head: match spec.head {
                Head::Sigmoid => ExplorerHead::Sigmoid,
                Head::Softmax => ExplorerHead::Softmax,
            },
            theta: t.theta.clone(),
        },
        planes: planes
            .iter()
            .map(|(name, plane, s)| ExplorerPlane {
                name: name.to_string(),
                x: plane.x.values().to_vec(),
                y: plane.y.as_ref().unwrap().values().to_vec(),
                x_label: "x (filter-normalised)".into(),
                y_label: "y (filter-normalised)".into(),
                grid: metric_grid(s),
            })
            .collect(),
        train: points(&t.train),
        test: points(&t.test),
        num_classes: spec.num_classes,
        extent,
    }
}

/// Explorers of a clean and a poisoned minimum side by side, linked, on one log colour scale
/// wide enough for both (the poisoned basin's losses reach 30 inside the paper's span).
pub fn linked_minima(heading: &str, text: &str, explorers: Vec<Explorer>) -> ExplorerGroup {
    ExplorerGroup {
        heading: heading.into(),
        text: text.into(),
        explorers,
        style: ContourStyle {
            vmin: 0.1,
            vmax: 30.0,
            vlevel: 0.25,
            log: true,
        },
        linked: true,
    }
}

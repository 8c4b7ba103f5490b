//! Writes a run page with the landscape explorer for the paper's swiss-roll setting into
//! `/tmp/genviz-explorer-demo/report.html` (or the folder given as the first argument): the
//! 3,614-parameter net trained clean and poisoned (gen-viz's learning rates and poison
//! schedule, shortened), each with two planes (random filter-normalised directions, and the
//! top eigenvector of the filter-normalised Hessian with a random direction), side by side on
//! one colour scale, plus their 3-D surfaces. A preview of what `genviz paper` shows once it
//! writes its page with the explorer; it takes a few minutes (training and the landscapes).
//!
//! Run with `cargo run --release -p genviz-render --example explorer_demo`.

#[path = "../tests/support/models.rs"]
mod models;

mod support;

use genviz_core::{rng, Network, Params};
use genviz_landscape::direction::random_direction;
use genviz_landscape::hessian::{self, Hessian};
use genviz_landscape::{BiasPolicy, Normalization, Plane};
use genviz_mlp::MlpSpec;
use genviz_render::{
    write_run_page, InteractiveSurface, PageBlock, RunPage, SurfaceBlock, TextBlock,
};
use genviz_train::{LrSchedule, OptimizerConfig, PoisonConfig, TrainConfig};

/// The paper's landscape half-width (`genviz paper`'s `LANDSCAPE_SPAN`).
const SPAN: f64 = 0.25;
/// Grid points per side.
const POINTS: usize = 41;
/// Training steps of each net (the paper trains longer; these reach the same picture).
const STEPS: u64 = 8000;
/// Bias scale of the filter-normalised Hessian for the swiss roll (gen-viz `spectral_radius`).
const BIAS_SCALE: f64 = 1e-6;

fn config(lr: f64, milestones: Vec<u64>, poison: Option<PoisonConfig>) -> TrainConfig {
    TrainConfig {
        steps: STEPS,
        optimizer: OptimizerConfig::adam(),
        schedule: LrSchedule {
            lr,
            milestones,
            gamma: 0.1,
        },
        batch_size: None,
        clip_norm: Some(8.0),
        weight_decay: 0.0,
        log_every: 1000,
        checkpoint_every: 0,
        poison,
    }
}

/// The top eigenvector of the filter-normalised Hessian, as `D v` scaled to the length of a
/// filter-normalised random direction (as the wiggle animation's `eigvec_ray` does).
fn eigen_direction(t: &models::Trained, seed: u64) -> Params {
    let center = Params::from_vec(t.net.layout().clone(), t.theta.clone()).unwrap();
    let h = Hessian::new(&t.net, &t.theta, &t.train).filter_normalised(&center, BIAS_SCALE);
    let op = |v: &[f64]| h.apply(v);
    let top = hessian::top_eigen(
        &op,
        h.dim(),
        1,
        hessian::TOLERANCE,
        hessian::MAX_ITER,
        &mut rng::stream(seed, "eigvec"),
    )
    .remove(0);
    eprintln!(
        "top eigenvalue of the filter-normalised Hessian: {:.4}",
        top.value
    );
    let scale = hessian::filter_norm_scale(&center, BIAS_SCALE);
    let filters: usize = center
        .layout()
        .tensors()
        .iter()
        .filter(|t| t.shape.len() > 1)
        .map(|t| t.num_filters())
        .sum();
    let length = (filters as f64).sqrt();
    let values = top
        .vector
        .iter()
        .zip(&scale)
        .map(|(&v, &d)| (v * d * length) as f32)
        .collect();
    Params::from_vec(t.net.layout().clone(), values).unwrap()
}

fn main() {
    let dir = support::output_dir("/tmp/genviz-explorer-demo").unwrap();
    let seed = 0;
    let data = || models::swiss_roll(seed);
    let runs = [
        ("clean", config(0.012548, vec![3062], None)),
        (
            "poisoned",
            config(
                0.0057945,
                vec![3000, 5961],
                Some(PoisonConfig::gen_viz_swiss_roll()),
            ),
        ),
    ];
    let mut explorers = Vec::new();
    let mut surfaces = Vec::new();
    for (label, cfg) in runs {
        let t = models::train_with(MlpSpec::swiss_roll(), data(), &cfg, seed);
        let random = models::random_plane(&t, seed);
        let center = random.center.clone();
        let y = random_direction(
            &center,
            Normalization::Filter,
            BiasPolicy::Ignore,
            &mut rng::stream(seed, "direction-y"),
        );
        let eigen = Plane::new(center, eigen_direction(&t, seed), Some(y)).unwrap();
        let s_random = models::surface(&t, &random, POINTS, SPAN);
        let s_eigen = models::surface(&t, &eigen, POINTS, SPAN);
        let k = (POINTS / 2) * POINTS + POINTS / 2;
        eprintln!(
            "{label}: train {:.3} test {:.3}",
            s_random.train_acc[k], s_random.test_acc[k]
        );
        let mut e = models::explorer(
            &format!("{label} minimum"),
            &t,
            &[
                ("random filter-normalised directions", &random, &s_random),
                (
                    "top Hessian eigenvector and a random direction",
                    &eigen,
                    &s_eigen,
                ),
            ],
            (-18.0, 18.0, -18.0, 18.0),
        );
        e.planes[1].x_label = "top eigenvector".into();
        explorers.push(e);
        surfaces.push(InteractiveSurface {
            title: format!("{label} minimum: log10(train loss + 0.1)"),
            xs: s_random.xs.clone(),
            ys: s_random.ys.clone(),
            z: s_random
                .train_loss
                .iter()
                .map(|v| (v.min(30.0) + 0.1).log10())
                .collect(),
            x_label: "x (filter-normalised)".into(),
            y_label: "y (filter-normalised)".into(),
            z_label: "log10(train loss + 0.1)".into(),
            ..Default::default()
        });
    }
    let page = RunPage {
        title: "genviz: the swiss roll's clean and poisoned minima, explored".into(),
        intro: "Huang et al. (2019): near a flat minimum the decision boundary hardly moves when \
                the weights move; near a sharp one it shatters. Drag the markers to see it."
            .into(),
        command: "cargo run --release -p genviz-render --example explorer_demo".into(),
        blocks: vec![
            PageBlock::Text(TextBlock {
                heading: "What this is".into(),
                text: format!(
                    "The paper's 2-[23, 16, 26, 32, 28, 31]-1 ReLU network, trained {STEPS} \
                     full-batch Adam steps on the swiss roll, once cleanly and once against \
                     fresh poison points with flipped labels."
                ),
            }),
            PageBlock::Explorers(models::linked_minima(
                "Explore the two minima",
                "Both loss maps share one colour scale: the clean basin is wide and deep, the \
                 poisoned one narrow.",
                explorers,
            )),
            PageBlock::Surfaces(SurfaceBlock {
                heading: "The two landscapes in 3-D".into(),
                text: String::new(),
                surfaces,
            }),
        ],
        ..Default::default()
    };
    let path = dir.join("report.html");
    write_run_page(&path, &page).unwrap();
    println!("{}", path.display());
}

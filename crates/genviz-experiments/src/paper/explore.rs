//! The landscape explorer of `genviz paper`'s report: the clean and the poisoned swiss-roll
//! nets side by side on one colour scale, each on two planes: Fig 3's random
//! filter-normalised plane, and the plane of the top Hessian eigenvector (scaled as the
//! eigenvector "wiggle" animation scales it) and the same random y direction.
//!
//! The eigenvector plane's grid is an ordinary `surface` run (`swissroll-<label>/landscape-
//! eigvec/`, resumed by a rerun) with its directions read from
//! `swissroll-<label>/eigvec_plane.safetensors`, at Fig 3's span and resolution.

use super::swissroll::{SwissRolls, LABELS, LANDSCAPE_SPAN, LANDSCAPE_ZMAX};
use super::Scale;
use crate::animate::{eigvec_ray, CROSSING_THRESHOLD};
use crate::landscape::{self, Directions, GridSettings, SurfaceConfig};
use crate::model::{self, DataSource};
use crate::pages;
use crate::presets;
use crate::progress::Progress;
use crate::record::Job;
use anyhow::{bail, Context, Result};
use genviz_landscape::direction::{read_directions, write_directions};
use genviz_landscape::{Axis, Plane, Spacing, Surface};
use genviz_render::{ContourStyle, Explorer, ExplorerGroup};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

/// Lowest level of the explorers' shared log colour scale: the clean minimum's own train loss
/// is below it after the quick preset's 40,000 steps, so its basin shows as one dark region
/// rather than as rings of round-off.
const EXPLORER_VMIN: f64 = 0.01;
/// Contour levels per decade of the loss maps: four keep the 270-pixel maps readable.
const EXPLORER_VLEVEL: f64 = 0.25;

/// What the explorer section measured, for `summary.json`.
#[derive(Clone, Debug, Serialize)]
pub struct ExplorerSummary {
    /// Per net: `[clean, poisoned]`.
    pub nets: Vec<ExplorerNetSummary>,
    /// Seconds spent (eigenvectors and the eigenvector planes' grids).
    pub seconds: f64,
}

/// One net's planes.
#[derive(Clone, Debug, Serialize)]
pub struct ExplorerNetSummary {
    /// `"clean"` or `"poisoned"`.
    pub label: String,
    /// Top eigenvalue of the filter-normalised Hessian.
    pub top_eigenvalue: f64,
    /// Share of Fig 3's random plane where the train loss is below 1.
    pub random_share_below_1: f64,
    /// Share of the eigenvector plane where the train loss is below 1.
    pub eigvec_share_below_1: f64,
}

/// The linked explorers of both swiss-roll nets, and what they show. Needs Fig 3's landscapes
/// (`swissroll-<label>/landscape/`).
pub(crate) fn explorer_group(
    dir: &Path,
    rolls: &SwissRolls,
    scale: &Scale,
    progress: &dyn Progress,
) -> Result<(ExplorerGroup, ExplorerSummary)> {
    let start = Instant::now();
    let seed = presets::SWISS_ROLL_SEED;
    let mut explorers = Vec::new();
    let mut nets = Vec::new();
    for (label, r) in LABELS.iter().zip(&rolls.runs) {
        let run = dir.join(format!("swissroll-{label}"));
        let m = model::load(&run)?;
        // The data Fig 3's landscapes were evaluated on (`swissroll::landscape_around`).
        let data = DataSource::own(seed);
        let (train, test) = data.load(&m)?;
        let land = run.join("landscape");
        let random_surface = Surface::load(&land.join("surface.npz"))?;
        let (x, y) = read_directions(&land.join("directions.safetensors"), &m.params)?;
        let random = Plane::new(m.params.clone(), x, y)?;
        if random.fingerprint(&random_surface.xs, &random_surface.ys, &[&train, &test])
            != random_surface.fingerprint
        {
            bail!(
                "{}: not the landscape of {} on its data; remove the folder and run again",
                land.display(),
                run.display()
            );
        }
        let training_data = match &r.record.job {
            Job::Train(c) => Some(c.data.clone()),
            _ => None,
        };
        let (eig, top_eigenvalue) = eigvec_ray(&m.net, m.params.values(), &train, seed)
            .with_context(|| format!("the top Hessian eigenvector of {}", run.display()))?;
        let eig_file = run.join("eigvec_plane.safetensors");
        write_directions(
            &eig_file,
            &Plane::new(m.params.clone(), eig, random.y.clone())?,
        )?;
        let axis = Axis {
            min: -LANDSCAPE_SPAN,
            max: LANDSCAPE_SPAN,
            num: scale.landscape_points,
        };
        let config = SurfaceConfig {
            model: run.clone(),
            x: axis,
            y: Some(axis),
            spacing: Spacing::Linear,
            directions: Directions {
                file: Some(eig_file),
                ..Directions::random(seed)
            },
            grid: GridSettings {
                save_every: 10.0,
                ..GridSettings::on(data)
            },
        };
        let done = landscape::surface(&config, &run.join("landscape-eigvec"), progress)?;
        let eig_surface = done
            .surface
            .context("the eigenvector plane's grid was not gathered")?;
        let (ex, ey) = read_directions(
            &run.join("landscape-eigvec/directions.safetensors"),
            &m.params,
        )?;
        let eig_plane = Plane::new(m.params.clone(), ex, ey)?;
        let spec = match &m.net {
            model::AnyNet::Mlp(n) => n.spec(),
            model::AnyNet::Conv(_) | model::AnyNet::Onnx(_) => {
                bail!("{}: not an MLP", run.display())
            }
        };
        let planes = vec![
            pages::explorer_plane(
                "random directions (Fig 3's plane)",
                &random,
                &random_surface,
                ("x (filter-normalised)", "y (filter-normalised)"),
            )?,
            pages::explorer_plane(
                "top Hessian eigenvector and a random direction",
                &eig_plane,
                &eig_surface,
                ("x (top eigenvector)", "y (filter-normalised)"),
            )?,
        ];
        nets.push(ExplorerNetSummary {
            label: label.to_string(),
            top_eigenvalue,
            random_share_below_1: share_below(&random_surface, CROSSING_THRESHOLD),
            eigvec_share_below_1: share_below(&eig_surface, CROSSING_THRESHOLD),
        });
        explorers.push(Explorer {
            title: format!("{label} minimum"),
            net: pages::explorer_net(spec, m.params.values()),
            planes,
            train: pages::labelled_points(&train),
            test: pages::labelled_points(&test),
            num_classes: spec.num_classes,
            extent: pages::boundary_extent(&training_data, &train),
        });
    }
    let seconds = start.elapsed().as_secs_f64();
    progress.note(&format!(
        "explorer: eigenvector planes of both nets in {seconds:.1} s"
    ));
    let share =
        |k: usize, f: fn(&ExplorerNetSummary) -> f64| format!("{:.0}%", 100.0 * f(&nets[k]));
    let text = format!(
        "The two networks of Fig 3, in your browser. Each loss map is genviz's grid over a plane through the minimum (the star), on one colour scale for both; the boundary beside it is the network at the weights under the marker, evaluated by the page itself (with \"snap\" on, at genviz's grid points, the accuracies shown are exactly genviz's). Moving one marker moves the other to the same coordinates.\n\nThe toggle switches both to a second plane whose x axis is the top eigenvector of the filter-normalised Hessian, the sharpest direction (scaled like a filter-normalised random direction, as in the eigenvector animations), and whose y axis is Fig 3's random direction. The train loss stays below {CROSSING_THRESHOLD} on {} of the random plane around the clean minimum and on {} around the poisoned one; on the eigenvector plane, on {} and {}. Top eigenvalues: clean {:.3}, poisoned {:.3}.",
        share(0, |n| n.random_share_below_1),
        share(1, |n| n.random_share_below_1),
        share(0, |n| n.eigvec_share_below_1),
        share(1, |n| n.eigvec_share_below_1),
        nets[0].top_eigenvalue,
        nets[1].top_eigenvalue,
    );
    let group = ExplorerGroup {
        heading: "Explore both minima: the decision boundary as the weights move".into(),
        text,
        explorers,
        style: ContourStyle {
            vmin: EXPLORER_VMIN,
            vmax: LANDSCAPE_ZMAX,
            vlevel: EXPLORER_VLEVEL,
            log: true,
        },
        linked: true,
    };
    Ok((group, ExplorerSummary { nets, seconds }))
}

/// The share of a grid's computed points whose train loss is below `threshold`.
fn share_below(s: &Surface, threshold: f64) -> f64 {
    let filled: Vec<f64> = s.train_loss.iter().copied().filter(|&v| v >= 0.0).collect();
    filled.iter().filter(|&&v| v < threshold).count() as f64 / filled.len().max(1) as f64
}

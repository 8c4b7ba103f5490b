//! The paper's animations (the authors' "wiggle" GIFs and a training path), for both
//! swiss-roll nets.

use super::checks::Check;
use super::swissroll::{SwissRolls, LABELS};
use super::Outcome;
use crate::animate::{self, PathSummary, WiggleConfig, WiggleSummary};
use crate::progress::Progress;
use crate::{figures, presets};
use anyhow::{Context, Result};
use serde_json::json;
use std::path::Path;

/// The GIFs of one net.
pub struct Animations {
    /// `"clean"` or `"poisoned"`.
    pub label: &'static str,
    /// The decision boundary along a random filter-normalised ray.
    pub random: WiggleSummary,
    /// The same along the top eigenvector of the filter-normalised Hessian.
    pub eigvec: WiggleSummary,
    /// The training path on its PCA plane.
    pub path: PathSummary,
}

/// Writes `dir/animations/{wiggle_random,wiggle_eigvec,path}_<label>.gif` (each with its
/// `.json`) and adds a check: along a random filter-normalised ray (one per net, from the same
/// seed), the poisoned net's train loss reaches 1 closer to its minimum than the clean net's.
pub(crate) fn make(
    dir: &Path,
    rolls: &SwissRolls,
    progress: &dyn Progress,
    out: &mut Outcome,
) -> Result<()> {
    let anim_dir = dir.join("animations");
    std::fs::create_dir_all(&anim_dir)
        .with_context(|| format!("creating {}", anim_dir.display()))?;
    let e = figures::SWISS_ROLL_EXTENT;
    let cfg = WiggleConfig {
        extent: Some((-e, e, -e, e)),
        seed: presets::SWISS_ROLL_SEED,
        ..WiggleConfig::default()
    };
    let stage = progress.stage("animations", 2 * 3, "GIFs");
    for (k, (label, r)) in LABELS.iter().zip(&rolls.runs).enumerate() {
        let wiggle = |direction: &genviz_core::Params, name: &str, file: &str| {
            animate::wiggle(
                &r.net,
                &r.theta,
                &r.train,
                &r.test,
                direction,
                label,
                name,
                &anim_dir.join(format!("{file}_{label}.gif")),
                &cfg,
            )
        };
        let ray = animate::random_ray(&r.net, &r.theta, presets::SWISS_ROLL_SEED)?;
        let random = wiggle(&ray, "random filter-normalised direction", "wiggle_random")?;
        let (eig, _) = animate::eigvec_ray(&r.net, &r.theta, &r.train, presets::SWISS_ROLL_SEED)?;
        let eigvec = wiggle(&eig, "top Hessian eigenvector", "wiggle_eigvec")?;
        let run_dir = dir.join(format!("swissroll-{label}"));
        let trajectory = animate::read_trajectory(&run_dir, r.theta.len())?;
        let path = animate::pca_path(
            &r.net,
            &r.theta,
            &trajectory,
            &r.train,
            &r.test,
            label,
            &anim_dir.join(format!("path_{label}.gif")),
            &animate::PathConfig::default(),
        )?;
        for file in ["wiggle_random", "wiggle_eigvec", "path"] {
            out.figures.push(format!("animations/{file}_{label}.gif"));
        }
        stage.update(3 * (k as u64 + 1), None);
        out.animations.push(Animations {
            label,
            random,
            eigvec,
            path,
        });
    }
    stage.finish("6 GIFs");
    // The nearer crossing, or the ray's end if the loss stays below 1 (a lower bound).
    let reach = |w: &WiggleSummary| {
        let end = w.ts.last().copied().unwrap_or(0.0);
        w.crossing.nearest().unwrap_or(end)
    };
    let (clean, poisoned) = (&out.animations[0].random, &out.animations[1].random);
    out.checks.push(Check::at_most(
        "anim",
        "poisoned / clean |t| along a random ray where the train loss reaches 1",
        reach(poisoned) / reach(clean),
        1.0,
    ));
    out.summary.insert(
        "animations".into(),
        json!(out
            .animations
            .iter()
            .map(|a| json!({
                "label": a.label,
                "random_ray_crossing": a.random.crossing,
                "eigvec_ray_crossing": a.eigvec.crossing,
                "path_explained_variance_ratio": a.path.explained_variance_ratio,
            }))
            .collect::<Vec<_>>()),
    );
    Ok(())
}

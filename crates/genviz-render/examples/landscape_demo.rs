//! Draws loss-landscape demo figures into `/tmp/genviz-landscape-demo/` (or the folder given as
//! the first argument): contour plots (with a trajectory and markers), heat maps, shaded 3-D
//! surfaces and a 1-D loss/accuracy curve, all from analytic surfaces.
//!
//! Run with `cargo run -p genviz-render --example landscape_demo`.

mod support;
#[path = "../tests/support/surfaces.rs"]
mod surfaces;

use surfaces::{fine, good, linspace, log_scale, sharp, surface};

use genviz_render::{
    draw_contour, draw_curve_1d, draw_heatmap, draw_surface_3d, ContourStyle, Marker, PathOverlay,
    Series1d,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = support::output_dir("/tmp/genviz-landscape-demo")?;

    let good_s = surface("good minimum (clean)", 51, good);
    let sharp_s = surface("sharp minimum (poisoned)", 51, sharp);

    // A spiralling trajectory into the good minimum, as a PCA projection would show it.
    let trajectory: Vec<(f64, f64)> = (0..30)
        .map(|i| {
            let t = i as f64 / 29.0;
            let r = 0.9 * (1.0 - t).powf(1.5);
            let a = 5.0 * t + 0.6;
            (r * a.cos(), r * a.sin())
        })
        .collect();
    let contour = dir.join("contour.png");
    draw_contour(
        &contour,
        &[
            (
                good_s.clone(),
                fine(),
                vec![PathOverlay {
                    points: trajectory,
                    label: "SGD trajectory".into(),
                }],
                vec![Marker {
                    x: 0.0,
                    y: 0.0,
                    label: "minimum".into(),
                }],
            ),
            (sharp_s.clone(), ContourStyle::default(), vec![], vec![]),
        ],
    )?;
    let contour_log = dir.join("contour_log.png");
    let log_style = log_scale(0.25);
    draw_contour(
        &contour_log,
        &[
            (good_s.clone(), log_style, vec![], vec![]),
            (sharp_s.clone(), log_style, vec![], vec![]),
        ],
    )?;

    let heat_style = log_scale(0.5);
    let heatmap = dir.join("heatmap.png");
    draw_heatmap(
        &heatmap,
        &[(good_s.clone(), heat_style), (sharp_s.clone(), heat_style)],
    )?;

    let surface3d = dir.join("surface3d.png");
    draw_surface_3d(
        &surface3d,
        &[(good_s.clone(), 10.0), (sharp_s.clone(), 10.0)],
    )?;

    // A surface with unfilled (NaN) points, as a half-finished Li et al. run leaves it.
    let mut partial = surface("partially computed", 51, good);
    for (k, v) in partial.values.iter_mut().enumerate() {
        if k > 51 * 38 || (k % 51 > 30 && k / 51 > 20) {
            *v = f64::NAN;
        }
    }
    let partial_path = dir.join("partial.png");
    draw_surface_3d(&partial_path, &[(partial.clone(), 10.0)])?;
    let partial_heat = dir.join("partial_heatmap.png");
    draw_heatmap(&partial_heat, &[(partial, heat_style)])?;

    // 1-D: interpolation between a good (alpha = 0) and a sharp (alpha = 1) solution.
    let alphas = linspace(-0.5, 1.5, 81);
    let train_loss: Vec<f64> = alphas
        .iter()
        .map(|&a| 0.05 + 2.0 * (a * (a - 1.0)).powi(2) + 0.02 * a)
        .collect();
    let test_loss: Vec<f64> = alphas
        .iter()
        .map(|&a| 0.3 + 2.0 * (a * (a - 1.0)).powi(2) + 0.9 * a.clamp(0.0, 1.0))
        .collect();
    let acc = |loss: &[f64]| -> Vec<f64> { loss.iter().map(|l| (-l).exp().min(1.0)).collect() };
    let curve = dir.join("curve1d.png");
    draw_curve_1d(
        &curve,
        "interpolation from the clean (0) to the poisoned (1) minimum",
        &alphas,
        &[
            Series1d {
                label: "train loss".into(),
                values: train_loss.clone(),
            },
            Series1d {
                label: "test loss".into(),
                values: test_loss.clone(),
            },
        ],
        &[
            Series1d {
                label: "train accuracy".into(),
                values: acc(&train_loss),
            },
            Series1d {
                label: "test accuracy".into(),
                values: acc(&test_loss),
            },
        ],
        true,
    )?;

    for p in [
        contour,
        contour_log,
        heatmap,
        surface3d,
        partial_path,
        partial_heat,
        curve,
    ] {
        println!("{}", p.display());
    }
    Ok(())
}

//! Draws demo figures into `/tmp/genviz-render-demo/` (or the folder given as the first
//! argument): a two-spiral decision-boundary figure with two panels, and training curves.
//!
//! Run with `cargo run -p genviz-render --example demo`.

mod support;

use genviz_render::{
    draw_decision_boundaries, draw_training_curves, BoundaryPanel, Curve, PlotPoint,
};

/// Two interleaved spirals in [-18, 18]^2, `n` points per class, with a little deterministic
/// jitter.
fn spirals(n: usize) -> Vec<(f32, f32, u32)> {
    let mut pts = Vec::with_capacity(2 * n);
    for class in 0..2u32 {
        for i in 0..n {
            let t = 0.25 + 2.6 * std::f32::consts::PI * (i as f32 / n as f32);
            let r = 1.6 * t + 0.5;
            let phase = if class == 0 {
                0.0
            } else {
                std::f32::consts::PI
            };
            let jitter = ((i * 7919 + class as usize * 104729) % 97) as f32 / 97.0 - 0.5;
            pts.push((
                (r + jitter) * (t + phase).cos(),
                (r + jitter) * (t + phase).sin(),
                class,
            ));
        }
    }
    pts
}

/// Classifies every cell centre of an `nx` x `ny` grid by its nearest training point.
fn nearest_grid(
    train: &[(f32, f32, u32)],
    range: (f32, f32),
    (nx, ny): (usize, usize),
) -> Vec<u32> {
    let mut grid = Vec::with_capacity(nx * ny);
    let step_x = (range.1 - range.0) / nx as f32;
    let step_y = (range.1 - range.0) / ny as f32;
    for iy in 0..ny {
        let y = range.0 + (iy as f32 + 0.5) * step_y;
        for ix in 0..nx {
            let x = range.0 + (ix as f32 + 0.5) * step_x;
            let best = train
                .iter()
                .min_by(|a, b| {
                    let da = (a.0 - x).powi(2) + (a.1 - y).powi(2);
                    let db = (b.0 - x).powi(2) + (b.1 - y).powi(2);
                    da.total_cmp(&db)
                })
                .map_or(0, |p| p.2);
            grid.push(best);
        }
    }
    grid
}

fn main() -> genviz_core::Result<()> {
    let dir = support::output_dir("/tmp/genviz-render-demo")?;

    let data = spirals(120);
    let range = (-18.0, 18.0);
    let res = (300, 300);

    // "clean": nearest neighbour on the true labels, everything correct.
    let clean_grid = nearest_grid(&data, range, res);
    let clean = BoundaryPanel {
        title: "clean: train 100.0%, test 97.5%".into(),
        x_range: range,
        y_range: range,
        resolution: res,
        grid_classes: clean_grid,
        num_classes: 2,
        points: data
            .iter()
            .map(|&(x, y, label)| PlotPoint {
                x,
                y,
                label,
                correct: true,
            })
            .collect(),
    };

    // "poisoned": every 9th point's label flipped for the classifier; those are misclassified.
    let flipped: Vec<(f32, f32, u32)> = data
        .iter()
        .enumerate()
        .map(|(i, &(x, y, c))| (x, y, if i % 9 == 4 { 1 - c } else { c }))
        .collect();
    let poisoned_grid = nearest_grid(&flipped, range, res);
    let poisoned = BoundaryPanel {
        title: "poisoned: train 88.8%, test 71.3%".into(),
        x_range: range,
        y_range: range,
        resolution: res,
        grid_classes: poisoned_grid,
        num_classes: 2,
        points: data
            .iter()
            .zip(&flipped)
            .map(|(&(x, y, label), f)| PlotPoint {
                x,
                y,
                label,
                correct: f.2 == label,
            })
            .collect(),
    };
    let boundaries = dir.join("decision_boundaries.png");
    draw_decision_boundaries(&boundaries, &[clean, poisoned])?;
    println!("{}", boundaries.display());

    // Training curves: decaying loss with noise, rising accuracy.
    let steps: Vec<f64> = (0..=200).map(|i| i as f64 * 50.0).collect();
    let noise = |i: usize| ((i * 2654435761) % 1000) as f64 / 1000.0 - 0.5;
    let train_loss: Vec<f64> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            0.7 * (-s / 1500.0).exp() + 2e-4 + 0.02 * noise(i).abs() * (-s / 3000.0).exp()
        })
        .collect();
    let test_loss: Vec<f64> = steps
        .iter()
        .map(|s| 0.7 * (-s / 1800.0).exp() + 0.08 + 0.1 * (s / 10000.0))
        .collect();
    let train_acc: Vec<f64> = steps
        .iter()
        .map(|s| 1.0 - 0.5 * (-s / 1200.0).exp())
        .collect();
    let test_acc: Vec<f64> = steps
        .iter()
        .map(|s| 0.95 - 0.45 * (-s / 1400.0).exp() - 0.02 * (s / 10000.0))
        .collect();
    let curves = dir.join("training_curves.png");
    draw_training_curves(
        &curves,
        "swissroll, clean run",
        &[
            Curve {
                label: "train".into(),
                steps: steps.clone(),
                values: train_loss,
            },
            Curve {
                label: "test".into(),
                steps: steps.clone(),
                values: test_loss,
            },
        ],
        &[
            Curve {
                label: "train".into(),
                steps: steps.clone(),
                values: train_acc,
            },
            Curve {
                label: "test".into(),
                steps,
                values: test_acc,
            },
        ],
    )?;
    println!("{}", curves.display());

    // Edge cases: three classes in a wide rectangle (equal aspect keeps it wide), few points.
    let three: Vec<(f32, f32, u32)> = (0..60)
        .map(|i| {
            let t = i as f32 * 0.7;
            let c = (i % 3) as u32;
            (t.sin() * 9.0 + c as f32 * 6.0 - 6.0, t.cos() * 4.0, c)
        })
        .collect();
    let wide = BoundaryPanel {
        title: "three classes, a wide input range with a long title that needs shrinking to fit"
            .into(),
        x_range: (-20.0, 20.0),
        y_range: (-6.0, 6.0),
        resolution: (200, 60),
        grid_classes: {
            let mut g = Vec::new();
            for iy in 0..60 {
                for ix in 0..200 {
                    let x = -20.0 + (ix as f32 + 0.5) * 0.2;
                    let y = -6.0 + (iy as f32 + 0.5) * 0.2;
                    let best = three
                        .iter()
                        .min_by(|a, b| {
                            ((a.0 - x).powi(2) + (a.1 - y).powi(2))
                                .total_cmp(&((b.0 - x).powi(2) + (b.1 - y).powi(2)))
                        })
                        .unwrap();
                    g.push(best.2);
                }
            }
            g
        },
        num_classes: 3,
        points: three
            .iter()
            .enumerate()
            .map(|(i, &(x, y, label))| PlotPoint {
                x,
                y,
                label,
                correct: i % 7 != 0,
            })
            .collect(),
    };
    let wide_path = dir.join("three_classes.png");
    draw_decision_boundaries(&wide_path, &[wide])?;
    println!("{}", wide_path.display());

    let sparse = dir.join("training_curves_sparse.png");
    draw_training_curves(
        &sparse,
        "sparse evaluation, accuracy not recorded",
        &[
            Curve {
                label: "train".into(),
                steps: vec![0.0, 100.0, 200.0, 300.0, 400.0],
                values: vec![0.69, 0.41, 0.0, 0.22, 0.18],
            },
            Curve {
                label: "test".into(),
                steps: vec![0.0, 200.0, 400.0],
                values: vec![0.7, 0.5, f64::NAN],
            },
        ],
        &[],
    )?;
    println!("{}", sparse.display());
    Ok(())
}

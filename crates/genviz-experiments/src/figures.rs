//! Turning models into the data of figures (render draws, it never computes).

use genviz_core::{Dataset, Network};
use genviz_render::{BoundaryPanel, Curve, PlotPoint};
use genviz_train::MetricRow;

/// The swiss roll's plotting window and resolution (gen-viz `Model.plot`: 500x500 over
/// [-18, 18]^2, SPEC 1.6).
pub const SWISS_ROLL_EXTENT: f32 = 18.0;
/// Grid cells per side of a decision-boundary panel.
pub const BOUNDARY_RESOLUTION: usize = 500;

/// A decision-boundary panel of a 2-D classifier: predicted class at the centre of every grid
/// cell, and the points marked correct or misclassified.
pub fn boundary_panel(
    net: &dyn Network,
    theta: &[f32],
    points: &Dataset,
    extent: (f32, f32, f32, f32),
    title: String,
) -> BoundaryPanel {
    boundary_panel_at(net, theta, points, extent, title, BOUNDARY_RESOLUTION)
}

/// [`boundary_panel`] on an `n` x `n` grid (animations use a coarser one: one per frame).
pub fn boundary_panel_at(
    net: &dyn Network,
    theta: &[f32],
    points: &Dataset,
    extent: (f32, f32, f32, f32),
    title: String,
    n: usize,
) -> BoundaryPanel {
    let (x0, x1, y0, y1) = extent;
    let mut grid = Vec::with_capacity(2 * n * n);
    for iy in 0..n {
        for ix in 0..n {
            grid.push(x0 + (x1 - x0) * (ix as f32 + 0.5) / n as f32);
            grid.push(y0 + (y1 - y0) * (iy as f32 + 0.5) / n as f32);
        }
    }
    let grid_classes = net.predict(theta, &grid, n * n);
    let predicted = net.predict(theta, points.features(), points.len());
    let points = (0..points.len())
        .map(|i| PlotPoint {
            x: points.row(i)[0],
            y: points.row(i)[1],
            label: points.labels()[i],
            correct: predicted[i] == points.labels()[i],
        })
        .collect();
    BoundaryPanel {
        title,
        x_range: (x0, x1),
        y_range: (y0, y1),
        resolution: (n, n),
        grid_classes,
        num_classes: net.num_classes(),
        points,
    }
}

/// A square window around the data with a 10% margin.
pub fn extent_of(data: &Dataset) -> (f32, f32, f32, f32) {
    let m = data.features().iter().fold(0f32, |m, v| m.max(v.abs())) * 1.1;
    let m = if m > 0.0 { m } else { 1.0 };
    (-m, m, -m, m)
}

/// Train/test loss and accuracy curves from a run's logged rows.
pub fn curves(history: &[MetricRow]) -> (Vec<Curve>, Vec<Curve>) {
    let steps: Vec<f64> = history.iter().map(|r| r.step as f64).collect();
    let curve = |label: &str, f: fn(&MetricRow) -> f64| Curve {
        label: label.to_string(),
        steps: steps.clone(),
        values: history.iter().map(f).collect(),
    };
    (
        vec![
            curve("train", |r| r.train_loss),
            curve("test", |r| r.test_loss),
        ],
        vec![
            curve("train", |r| r.train_acc),
            curve("test", |r| r.test_acc),
        ],
    )
}

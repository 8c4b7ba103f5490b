//! Synthetic animations shared by the animation tests and the `animation_demo` example: a
//! boundary that turns with t, a loss that grows like t^2, and a path that slides down a bowl.

use genviz_render::{
    BoundaryPanel, ContourStyle, Marker, PathAnimation, PlotPoint, Series1d, SurfaceGrid,
    WiggleAnimation,
};

/// A two-class panel whose boundary is the line through the origin at angle `angle`.
pub fn rotating_panel(angle: f64, title: String) -> BoundaryPanel {
    let n = 60;
    let (c, s) = (angle.cos() as f32, angle.sin() as f32);
    let mut grid = Vec::with_capacity(n * n);
    for iy in 0..n {
        for ix in 0..n {
            let x = -1.0 + 2.0 * (ix as f32 + 0.5) / n as f32;
            let y = -1.0 + 2.0 * (iy as f32 + 0.5) / n as f32;
            grid.push(u32::from(c * x + s * y > 0.0));
        }
    }
    let points = (0..40)
        .map(|k| {
            let a = k as f32 * 0.157;
            let (x, y) = (0.7 * a.cos(), 0.7 * a.sin());
            let label = u32::from(x > 0.0);
            PlotPoint {
                x,
                y,
                label,
                correct: u32::from(c * x + s * y > 0.0) == label,
            }
        })
        .collect();
    BoundaryPanel {
        title,
        x_range: (-1.0, 1.0),
        y_range: (-1.0, 1.0),
        resolution: (n, n),
        grid_classes: grid,
        num_classes: 2,
        points,
    }
}

/// A wiggle of `points` values of t in [-0.5, 0.5], denser near 0, played out and back.
pub fn wiggle(points: usize) -> WiggleAnimation {
    let ts: Vec<f64> = (0..points)
        .map(|i| {
            let u = -1.0 + 2.0 * i as f64 / (points - 1) as f64;
            0.5 * u.powi(5)
        })
        .collect();
    let loss: Vec<f64> = ts.iter().map(|t| 0.01 + 40.0 * t * t).collect();
    let acc: Vec<f64> = ts.iter().map(|t| 1.0 - t.abs()).collect();
    let curv: Vec<f64> = ts.iter().map(|t| 100.0 * (1.0 + 10.0 * t.abs())).collect();
    let mid = points / 2;
    let order: Vec<usize> = (mid..points)
        .chain((0..points - 1).rev())
        .chain(1..mid)
        .collect();
    WiggleAnimation {
        title: "test wiggle".into(),
        boundaries: ts
            .iter()
            .map(|&t| rotating_panel(6.0 * t, format!("t = {t:+.4}")))
            .collect(),
        ts,
        losses: vec![Series1d {
            label: "train loss".into(),
            values: loss,
        }],
        accuracies: vec![Series1d {
            label: "train accuracy".into(),
            values: acc,
        }],
        curvature: Some(Series1d {
            label: "top eigenvalue".into(),
            values: curv,
        }),
        log_loss: true,
        order,
        axis_root: 5,
        x_label: "t".into(),
    }
}

/// A five-point path sliding into a quadratic bowl on a 21 x 21 log-loss surface.
pub fn path_animation() -> PathAnimation {
    let n = 21;
    let xs: Vec<f64> = (0..n)
        .map(|i| -2.0 + 4.0 * i as f64 / (n - 1) as f64)
        .collect();
    let values: Vec<f64> = (0..n * n)
        .map(|k| {
            let (x, y) = (xs[k % n], xs[k / n]);
            0.01 + x * x + 0.5 * y * y
        })
        .collect();
    let path: Vec<(f64, f64)> = (0..5)
        .map(|i| {
            let s = 1.0 - i as f64 / 4.0;
            (1.5 * s, -1.2 * s * s)
        })
        .collect();
    let loss: Vec<f64> = path
        .iter()
        .map(|p| 0.01 + p.0 * p.0 + 0.5 * p.1 * p.1)
        .collect();
    PathAnimation {
        title: "test path".into(),
        surface: SurfaceGrid {
            xs: xs.clone(),
            ys: xs,
            values,
            title: "train loss".into(),
            value_label: "loss".into(),
        },
        style: ContourStyle {
            vmin: 0.01,
            vmax: 10.0,
            vlevel: 0.25,
            log: true,
        },
        path,
        path_label: "training path".into(),
        steps: vec![0.0, 100.0, 200.0, 300.0, 400.0],
        losses: vec![Series1d {
            label: "train loss".into(),
            values: loss,
        }],
        accuracies: vec![],
        log_loss: true,
        markers: vec![Marker {
            x: 0.0,
            y: 0.0,
            label: "final".into(),
        }],
        heads: (0..=12).map(|k| k as f64 / 3.0).collect(),
    }
}

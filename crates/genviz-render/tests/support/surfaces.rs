//! Analytic loss surfaces and figure fixtures shared by the figure tests and the
//! `landscape_demo`/`basin_demo` examples (which include this file with `#[path]`), so what a
//! person looks at in a demo is what the tests check.
#![allow(dead_code)]

use genviz_render::{ContourStyle, RadiusGroup, SurfaceGrid, VolumeBar};

/// `n` evenly spaced points from `a` to `b`.
pub fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| a + (b - a) * i as f64 / (n - 1) as f64)
        .collect()
}

/// An `n` x `n` surface over [-1, 1]^2 from `f`, clipped at 10.
pub fn surface(title: &str, n: usize, f: impl Fn(f64, f64) -> f64) -> SurfaceGrid {
    let xs = linspace(-1.0, 1.0, n);
    let ys = xs.clone();
    let values = ys
        .iter()
        .flat_map(|&y| xs.iter().map(move |&x| (x, y)))
        .map(|(x, y)| f(x, y).min(10.0))
        .collect();
    SurfaceGrid {
        xs,
        ys,
        values,
        title: title.into(),
        value_label: "train loss".into(),
    }
}

/// A wide minimum: the bowl `0.05 + 0.5 (x^2 + y^2)`.
pub fn good(x: f64, y: f64) -> f64 {
    0.05 + 0.5 * (x * x + y * y)
}

/// A sharp, wrinkled minimum.
pub fn sharp(x: f64, y: f64) -> f64 {
    0.05 + 12.0 * (x * x + 0.5 * y * y) + 0.3 * (8.0 * x).sin().powi(2)
}

/// Contours every 0.1 from 0.1 to 1.2: fine enough to resolve the bowl [`good`].
pub fn fine() -> ContourStyle {
    ContourStyle {
        vmin: 0.1,
        vmax: 1.2,
        vlevel: 0.1,
        log: false,
    }
}

/// A log colour scale from 0.05 to 10 with levels every `vlevel` decades.
pub fn log_scale(vlevel: f64) -> ContourStyle {
    ContourStyle {
        vmin: 0.05,
        vmax: 10.0,
        vlevel,
        log: true,
    }
}

/// Histogram groups of basin radii, one a `(label, radii)` pair.
pub fn radius_groups<const N: usize>(groups: [(&str, Vec<f64>); N]) -> Vec<RadiusGroup> {
    groups
        .into_iter()
        .map(|(label, radii)| RadiusGroup {
            label: label.into(),
            radii,
        })
        .collect()
}

/// The log10 basin volumes of a clean and a poisoned minimum, with their intervals (the
/// orders of magnitude of Fig. 5).
pub fn volume_bars() -> Vec<VolumeBar> {
    vec![
        VolumeBar {
            label: "clean".into(),
            log10_volume: -1500.0,
            low: -1520.0,
            high: -1480.0,
        },
        VolumeBar {
            label: "poisoned".into(),
            log10_volume: -7100.0,
            low: -7150.0,
            high: -7060.0,
        },
    ]
}

//! The thin-margin concentric circles of Fig 8 (SPEC §1.9, gen-viz
//! `concentric_circles/wide_margins_example.py`).

use super::assemble;
use genviz_core::Dataset;
use std::f64::consts::PI;

/// Points on the inner circle, label 0 (the code's class "2") (SPEC §1.9).
pub const SHARP_INNER_POINTS: usize = 40;
/// Points on the outer circle, label 1 (SPEC §1.9).
pub const SHARP_OUTER_POINTS: usize = 80;
/// Label-1 "bridge" points just outside the inner circle (SPEC §1.9).
pub const SHARP_BRIDGE_POINTS: usize = 10;
/// Radius of the inner circle (SPEC §1.9).
pub const SHARP_INNER_RADIUS: f64 = 0.4;
/// Radius of the outer circle (SPEC §1.9).
pub const SHARP_OUTER_RADIUS: f64 = 0.95;
/// How far outside the inner circle the bridge points sit (SPEC §1.9).
pub const SHARP_GAP: f64 = 0.001;

/// The Fig 8 data set, deterministic: a correct classifier needs razor-thin margins.
///
/// Label 0 is `inner` points evenly spaced on the inner circle; label 1 is `outer` points on
/// the outer circle plus `bridge` points at radius `inner_radius + gap`, each half an
/// inner-circle spacing away from the nearest label-0 point (angle `2πi/bridge + π/inner`,
/// which is the paper's `π/40`). Points are `(r sin a, r cos a)`, as in the authors' code.
#[derive(Clone, Debug, PartialEq)]
pub struct SharpCircles {
    /// Points on the inner circle (label 0).
    pub inner: usize,
    /// Points on the outer circle (label 1).
    pub outer: usize,
    /// Label-1 points just outside the inner circle.
    pub bridge: usize,
    /// Radius of the inner circle.
    pub inner_radius: f64,
    /// Radius of the outer circle.
    pub outer_radius: f64,
    /// Distance of the bridge points outside the inner circle.
    pub gap: f64,
}

impl Default for SharpCircles {
    /// The paper's setting (SPEC §1.9).
    fn default() -> Self {
        SharpCircles {
            inner: SHARP_INNER_POINTS,
            outer: SHARP_OUTER_POINTS,
            bridge: SHARP_BRIDGE_POINTS,
            inner_radius: SHARP_INNER_RADIUS,
            outer_radius: SHARP_OUTER_RADIUS,
            gap: SHARP_GAP,
        }
    }
}

/// `count` points `(r sin a, r cos a)` at `a = 2πi/count + offset`.
fn ring(features: &mut Vec<f32>, count: usize, radius: f64, offset: f64) {
    for i in 0..count {
        let a = 2.0 * PI * i as f64 / count as f64 + offset;
        features.extend_from_slice(&[(radius * a.sin()) as f32, (radius * a.cos()) as f32]);
    }
}

impl SharpCircles {
    /// The points: the inner circle (label 0), then the outer circle, then the bridge points
    /// (both label 1).
    ///
    /// # Panics
    /// If a radius or the gap is not finite.
    pub fn generate(&self) -> Dataset {
        let mut features = Vec::with_capacity(2 * (self.inner + self.outer + self.bridge));
        ring(&mut features, self.inner, self.inner_radius, 0.0);
        ring(&mut features, self.outer, self.outer_radius, 0.0);
        let offset = PI / self.inner.max(1) as f64;
        ring(
            &mut features,
            self.bridge,
            self.inner_radius + self.gap,
            offset,
        );
        let labels = [vec![0; self.inner], vec![1; self.outer + self.bridge]].concat();
        assemble(features, labels, 2, 2)
    }

    /// Where the bridge points sit in [`generate`](Self::generate)'s rows: last, after the
    /// inner and outer circles (the authors' order too), so an analysis can score them alone.
    pub fn bridge_indices(&self) -> std::ops::Range<usize> {
        let start = self.inner + self.outer;
        start..start + self.bridge
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn radius(d: &Dataset, i: usize) -> f64 {
        (d.row(i)[0] as f64).hypot(d.row(i)[1] as f64)
    }

    #[test]
    fn counts_and_radii() {
        let d = SharpCircles::default().generate();
        assert_eq!(d.len(), 130);
        assert_eq!(d.class_counts(), vec![40, 90]);
        for i in 0..40 {
            assert!((radius(&d, i) - 0.4).abs() < 1e-6);
        }
        for i in 40..120 {
            assert!((radius(&d, i) - 0.95).abs() < 1e-6);
        }
        assert_eq!(SharpCircles::default().bridge_indices(), 120..130);
        for i in 120..130 {
            assert_eq!(d.labels()[i], 1);
            assert!((radius(&d, i) - 0.401).abs() < 1e-6, "bridge {i}");
        }
    }

    #[test]
    fn bridge_points_sit_between_inner_points() {
        let d = SharpCircles::default().generate();
        // First inner point at angle 0 is (0, r); first bridge point at π/40.
        assert_eq!(d.row(0), &[0.0, 0.4]);
        let a = PI / 40.0;
        let b = d.row(120);
        assert!((b[0] as f64 - 0.401 * a.sin()).abs() < 1e-7);
        assert!((b[1] as f64 - 0.401 * a.cos()).abs() < 1e-7);
        // Its nearest label-0 points are two, equally far.
        let dist = |i: usize| {
            let p = d.row(i);
            ((p[0] - b[0]) as f64).hypot((p[1] - b[1]) as f64)
        };
        assert!((dist(0) - dist(1)).abs() < 1e-6);
        assert!((2..40).all(|i| dist(i) > dist(0)));
    }
}

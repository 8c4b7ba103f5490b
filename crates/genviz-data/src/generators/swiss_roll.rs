//! The two-spiral "swiss roll" of Figs 3, 5 and 6 (SPEC §1.1, gen-viz `swissroll/main.py`).

use super::assemble;
use genviz_core::rng::Rng;
use genviz_core::Dataset;
use rand::Rng as _;
use rand_distr::StandardNormal;

/// Points per class: `-ndata=400` gives `twospirals(200)` (SPEC §1.1).
pub const SWISS_ROLL_POINTS_PER_CLASS: usize = 200;
/// Noise standard deviation σ used by every README command, `-noise=.5` (SPEC §1.1).
pub const SWISS_ROLL_NOISE: f32 = 0.5;
/// Largest spiral angle, 600° (≈ 10.47 rad), reached at U = 1 (SPEC §1.1).
pub const SWISS_ROLL_MAX_ANGLE_DEG: f64 = 600.0;
/// The arm's radius grows as 1.5·t, so it ends near 1.5 × 10.47 ≈ 15.7 (SPEC §1.1).
pub const SWISS_ROLL_ARM_SCALE: f64 = 1.5;
/// The 400 shuffled points are split 200 train / 200 test (SPEC §1.1).
pub const SWISS_ROLL_TRAIN_SIZE: usize = 200;

/// The swiss-roll generator: two interleaved spirals that are exact mirror images.
///
/// Class 0 follows `(−1.5·t·cos t, 1.5·t·sin t)` plus Gaussian noise, with `t = √U · 600°`
/// (so more points lie far out, where the arms are long). Class 1 is the point reflection
/// `(−x, −y)` of the *noisy* class-0 points, noise included, exactly as the authors' code
/// builds it; this symmetry is what lets a decision-boundary plot show memorisation clearly.
/// The same generator, with flipped labels, makes the poison set D_p (SPEC §1.3).
#[derive(Clone, Debug, PartialEq)]
pub struct SwissRoll {
    /// Points in each of the two classes.
    pub points_per_class: usize,
    /// Standard deviation σ of the Gaussian noise added to each coordinate of class 0.
    pub noise: f32,
    /// Largest angle of the spiral in degrees.
    pub max_angle_deg: f64,
}

impl Default for SwissRoll {
    /// The paper's setting: 200 points per class, σ = 0.5, 600° (SPEC §1.1).
    fn default() -> Self {
        SwissRoll {
            points_per_class: SWISS_ROLL_POINTS_PER_CLASS,
            noise: SWISS_ROLL_NOISE,
            max_angle_deg: SWISS_ROLL_MAX_ANGLE_DEG,
        }
    }
}

impl SwissRoll {
    /// Draws `2 · points_per_class` points, all of class 0 then all of class 1, unshuffled.
    ///
    /// The draws follow the authors' order: all angles, then all x-noise, then all y-noise.
    ///
    /// # Panics
    /// If `noise` or `max_angle_deg` is not finite.
    pub fn generate(&self, rng: &mut Rng) -> Dataset {
        let n = self.points_per_class;
        let max_angle = self.max_angle_deg.to_radians();
        let angles: Vec<f64> = (0..n)
            .map(|_| rng.gen::<f64>().sqrt() * max_angle)
            .collect();
        let mut normal = || rng.sample::<f64, _>(StandardNormal);
        let noise_x: Vec<f64> = (0..n).map(|_| normal()).collect();
        let noise_y: Vec<f64> = (0..n).map(|_| normal()).collect();
        let sigma = f64::from(self.noise);

        let mut features = Vec::with_capacity(4 * n);
        for i in 0..n {
            let t = angles[i];
            let x = -SWISS_ROLL_ARM_SCALE * t * t.cos() + sigma * noise_x[i];
            let y = SWISS_ROLL_ARM_SCALE * t * t.sin() + sigma * noise_y[i];
            features.extend_from_slice(&[x as f32, y as f32]);
        }
        let reflected: Vec<f32> = features.iter().map(|v| -v).collect();
        features.extend_from_slice(&reflected);
        let labels = [vec![0; n], vec![1; n]].concat();
        assemble(features, labels, 2, 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use genviz_core::rng::stream;

    #[test]
    fn class_one_is_exact_reflection_of_class_zero() {
        let d = SwissRoll::default().generate(&mut stream(1237, "data"));
        assert_eq!(d.len(), 400);
        assert_eq!(d.dim(), 2);
        assert_eq!(d.num_classes(), 2);
        for i in 0..200 {
            assert_eq!(d.labels()[i], 0);
            assert_eq!(d.labels()[i + 200], 1);
            let (a, b) = (d.row(i), d.row(i + 200));
            assert_eq!(b, &[-a[0], -a[1]], "point {i}");
        }
    }

    #[test]
    fn radius_stays_within_arm_length_plus_noise() {
        let d = SwissRoll::default().generate(&mut stream(5, "data"));
        let arm = (SWISS_ROLL_ARM_SCALE * SWISS_ROLL_MAX_ANGLE_DEG.to_radians()) as f32;
        assert!((arm - 15.708).abs() < 1e-3);
        // Six sigma per coordinate, on both coordinates: never reached with 400 draws.
        let bound = arm + 6.0 * SWISS_ROLL_NOISE * 2f32.sqrt();
        let mut max_r = 0f32;
        for i in 0..d.len() {
            let r = d.row(i)[0].hypot(d.row(i)[1]);
            assert!(r <= bound, "point {i} at radius {r}");
            max_r = max_r.max(r);
        }
        // sqrt(U) puts many points at the far end of the arm.
        assert!(max_r > arm - 2.0, "largest radius {max_r}");
    }

    #[test]
    fn noise_free_points_lie_on_the_spiral() {
        let roll = SwissRoll {
            noise: 0.0,
            ..SwissRoll::default()
        };
        let d = roll.generate(&mut stream(9, "data"));
        for i in 0..200 {
            let [x, y] = [d.row(i)[0] as f64, d.row(i)[1] as f64];
            let t = x.hypot(y) / SWISS_ROLL_ARM_SCALE;
            assert!(t <= SWISS_ROLL_MAX_ANGLE_DEG.to_radians() + 1e-4);
            assert!((x + 1.5 * t * t.cos()).abs() < 1e-3, "x of point {i}");
            assert!((y - 1.5 * t * t.sin()).abs() < 1e-3, "y of point {i}");
        }
    }

    #[test]
    fn same_seed_same_data_different_seed_different_data() {
        let roll = SwissRoll::default();
        let a = roll.generate(&mut stream(1, "data"));
        assert_eq!(a, roll.generate(&mut stream(1, "data")));
        assert_ne!(
            a.features(),
            roll.generate(&mut stream(2, "data")).features()
        );
    }
}

//! Draws basin demo figures into `/tmp/genviz-basin-demo/` (or the folder given as the first
//! argument): histograms of basin radii of a good and a bad minimum (Fig. 5 of Huang et al.),
//! their log10 basin volumes with confidence intervals, and Hessian spectral densities (linear
//! and log scale), all from synthetic numbers.
//!
//! Run with `cargo run -p genviz-render --example basin_demo`.

mod support;
#[path = "../tests/support/surfaces.rs"]
mod surfaces;

use surfaces::{linspace, radius_groups, volume_bars};

use genviz_render::{draw_radius_histograms, draw_spectral_density, draw_volume_bars};

/// A small deterministic generator (SplitMix64) so the demo needs no extra dependencies.
struct Rng(u64);

impl Rng {
    /// A uniform number in `(0, 1)`.
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// A standard normal number (Box-Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// `n` lognormal numbers with median `median` and log-standard deviation `sigma`.
    fn lognormal(&mut self, n: usize, median: f64, sigma: f64) -> Vec<f64> {
        (0..n)
            .map(|_| median * (sigma * self.normal()).exp())
            .collect()
    }
}

/// A normal density with mean `mu` and standard deviation `sd`, scaled by `weight`.
fn bump(x: f64, mu: f64, sd: f64, weight: f64) -> f64 {
    let z = (x - mu) / sd;
    weight * (-0.5 * z * z).exp() / (sd * (std::f64::consts::TAU).sqrt())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = support::output_dir("/tmp/genviz-basin-demo")?;
    let mut rng = Rng(2019);

    // Basin radii along 400 random rays from each minimum.
    let clean = rng.lognormal(400, 0.3, 0.25);
    let mut poisoned = rng.lognormal(400, 0.01, 0.35);
    // A few rays from the bad minimum never reached the loss threshold.
    for r in poisoned.iter_mut().take(3) {
        *r = f64::INFINITY;
    }
    let groups = radius_groups([("clean", clean.clone()), ("poisoned", poisoned)]);
    let p = dir.join("radii.png");
    draw_radius_histograms(&p, "Basin radii of good and bad minima", &groups, "radius")?;
    println!("{}", p.display());

    // Radii within one order of magnitude: linear bins.
    let close = radius_groups([
        ("SGD, batch 128", clean),
        ("SGD, batch 4096", rng.lognormal(400, 0.18, 0.25)),
    ]);
    let p = dir.join("radii_linear.png");
    draw_radius_histograms(&p, "Basin radii (linear bins)", &close, "radius")?;
    println!("{}", p.display());

    let p = dir.join("volumes.png");
    draw_volume_bars(&p, "Basin volumes", &volume_bars())?;
    println!("{}", p.display());

    // Hessian eigenvalue densities: a bulk at 0 and an outlier group at 40.
    let grid = linspace(-5.0, 50.0, 1000);
    let good: Vec<f64> = grid
        .iter()
        .map(|&x| bump(x, 0.0, 0.8, 0.97) + bump(x, 40.0, 1.5, 0.03))
        .collect();
    let bad: Vec<f64> = grid
        .iter()
        .map(|&x| bump(x, 0.0, 1.2, 0.9) + bump(x, 40.0, 2.5, 0.1))
        .collect();
    let densities = [
        ("clean minimum".to_string(), good),
        ("poisoned minimum".to_string(), bad),
    ];
    let p = dir.join("density.png");
    draw_spectral_density(&p, "Hessian eigenvalue density", &grid, &densities, false)?;
    println!("{}", p.display());
    let p = dir.join("density_log.png");
    draw_spectral_density(
        &p,
        "Hessian eigenvalue density (log scale)",
        &grid,
        &densities,
        true,
    )?;
    println!("{}", p.display());
    Ok(())
}

//! `genviz basin` and `genviz hessian`: how wide and how curved a minimum is.

use crate::{model, run_dir};
use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use genviz_core::io::{write_npz, NpyArray};
use genviz_core::{rng, Dataset, Network, Params};
use genviz_landscape::basin::{
    radii, volume, Basin, RadiusMode, RayConfig, Volume, DEFAULT_THRESHOLD,
};
use genviz_landscape::hessian::{self, Hessian};
use genviz_landscape::{Axis, BiasPolicy, Normalization, Spacing};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Points of the smoothed spectral density (PyHessian's `density_plot`: 10,000 bins).
pub const DENSITY_BINS: usize = 10_000;

/// Bootstrap resamples for the volume interval.
pub const BOOTSTRAP: usize = 1000;

#[derive(Clone, Copy, ValueEnum)]
enum ModeArg {
    /// Bracket the first crossing, then bisect (default).
    Exact,
    /// gen-viz's power-5 samples, nearest to the threshold.
    GenViz,
}

/// Basin radii along random rays and the log-volume they imply.
#[derive(Args)]
pub struct BasinArgs {
    /// A run folder or a .safetensors file.
    model: PathBuf,
    /// Number of random filter-normalised rays (each gives two radii).
    #[arg(long, default_value_t = 200)]
    rays: usize,
    /// Training loss that bounds the basin (the authors: cross-entropy 1).
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    threshold: f64,
    /// How radii are found.
    #[arg(long, value_enum, default_value_t = ModeArg::Exact)]
    mode: ModeArg,
    /// Exact mode: largest distance searched (rays not crossing by then are censored).
    #[arg(long, default_value_t = 2.0)]
    max_radius: f64,
    /// Exact mode: relative width at which bisection stops.
    #[arg(long, default_value_t = 1e-3)]
    tolerance: f64,
    /// gen-viz mode: twice the largest distance (README: 1).
    #[arg(long, default_value_t = 1.0)]
    span: f64,
    /// gen-viz mode: samples per side (README: 100).
    #[arg(long, default_value_t = 100)]
    samples: usize,
    /// Seed of the ray directions.
    #[arg(long, default_value_t = 0)]
    direction_seed: u64,
    /// Normalisation of the rays: filter (the authors'), or none for Gaussian directions,
    /// uniform on the sphere, which make the volume the plain geometric one.
    #[arg(long, default_value = "filter")]
    norm: Normalization,
    #[command(flatten)]
    data: model::DataArgs,
    /// Output folder (default: a new folder under runs/).
    #[arg(long)]
    out: Option<PathBuf>,
}

impl BasinArgs {
    fn config(&self) -> RayConfig {
        RayConfig {
            rays: self.rays,
            threshold: self.threshold,
            mode: match self.mode {
                ModeArg::Exact => RadiusMode::Exact {
                    max_radius: self.max_radius,
                    tolerance: self.tolerance,
                    bracket: genviz_landscape::basin::DEFAULT_BRACKET,
                },
                ModeArg::GenViz => RadiusMode::GenViz {
                    span: self.span,
                    samples: self.samples,
                },
            },
            seed: self.direction_seed,
            norm: self.norm,
            bias: BiasPolicy::Ignore,
        }
    }
}

/// A minimum's basin: radii and volume.
pub struct BasinResult {
    /// The radii.
    pub basin: Basin,
    /// log10 volume with interval.
    pub volume: Volume,
}

/// Measures the basin of `theta` and writes `basin.npz` into `dir`.
pub fn measure(
    net: &dyn Network,
    theta: &Params,
    train: &Dataset,
    config: &RayConfig,
    dir: &Path,
) -> Result<BasinResult> {
    let basin = radii(net, theta, train, config)?;
    let volume = volume(&basin.euclidean(), basin.dimension, BOOTSTRAP, config.seed);
    let n = basin.radii.len();
    write_npz(
        &dir.join("basin.npz"),
        &[
            ("radii", NpyArray::F64(basin.radii.clone(), vec![n])),
            ("radii_euclidean", NpyArray::F64(basin.euclidean(), vec![n])),
            (
                "censored",
                NpyArray::I64(
                    basin.censored.iter().map(|&c| i64::from(c)).collect(),
                    vec![n],
                ),
            ),
            (
                "direction_norms",
                NpyArray::F64(
                    basin.direction_norms.clone(),
                    vec![basin.direction_norms.len()],
                ),
            ),
            (
                "directions_seed",
                NpyArray::I64(vec![config.seed as i64], vec![1]),
            ),
            ("threshold", NpyArray::F64(vec![config.threshold], vec![1])),
            (
                "log10_volume",
                NpyArray::F64(vec![volume.log10_volume, volume.low, volume.high], vec![3]),
            ),
        ],
    )?;
    Ok(BasinResult { basin, volume })
}

/// A JSON summary of a basin for run.json and the paper's results.
pub fn summary(r: &BasinResult) -> serde_json::Value {
    json!({
        "rays": r.basin.direction_norms.len(),
        "median_radius": r.basin.median(),
        "censored": r.basin.censored.iter().filter(|&&c| c).count(),
        "center_loss": r.basin.center_loss,
        "dimension": r.basin.dimension,
        "log10_volume": r.volume.log10_volume,
        "log10_volume_interval": [r.volume.low, r.volume.high],
    })
}

/// Runs `genviz basin`.
pub fn basin(args: BasinArgs) -> Result<()> {
    let m = model::load(&args.model)?;
    let (train, _) = args.data.load(&m)?;
    let config = args.config();
    config.validate()?;
    let dir = run_dir::prepare(args.out.as_deref(), "basin")?;
    let start = std::time::Instant::now();
    let r = measure(&m.net, &m.params, &train, &config, &dir)?;
    let seconds = start.elapsed().as_secs_f64();
    genviz_render::draw_radius_histograms(
        &dir.join("basin_radii.png"),
        "basin radii along random filter-normalised rays",
        &[genviz_render::RadiusGroup {
            label: "model".into(),
            radii: r.basin.radii.clone(),
        }],
        "radius (filter-normalised units)",
    )?;
    genviz_core::io::write_json(
        &dir.join("run.json"),
        &json!({
            "command": "basin",
            "version": genviz_core::VERSION,
            "model": m.weights.display().to_string(),
            "config": config,
            "seconds": seconds,
            "summary": summary(&r),
        }),
    )?;
    println!(
        "{}: median radius {:.4}, log10 volume {:.1} [{:.1}, {:.1}] in {} dimensions ({:.2} s)",
        dir.display(),
        r.basin.median(),
        r.volume.log10_volume,
        r.volume.low,
        r.volume.high,
        r.volume.dimension,
        seconds
    );
    Ok(())
}

/// Curvature at a minimum: top eigenvalues, trace, spectral density, and optionally Li et
/// al.'s |lambda_min / lambda_max| over a 2-D grid.
#[derive(Args)]
pub struct HessianArgs {
    /// A run folder or a .safetensors file.
    model: PathBuf,
    /// Number of top eigenvalues.
    #[arg(long, default_value_t = 3)]
    top_k: usize,
    /// Lanczos steps of the spectral density (0: no density).
    #[arg(long, default_value_t = 80)]
    lanczos: usize,
    /// Lanczos runs averaged in the density.
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// Use the filter-normalised Hessian D H D of the authors' code.
    #[arg(long)]
    filter_normalised: bool,
    /// Points per side of the eigenvalue-ratio map over random directions (0: no map).
    #[arg(long, default_value_t = 0)]
    ratio_map: usize,
    /// Extent of the ratio map's coordinates.
    #[arg(long, default_value_t = 1.0)]
    ratio_extent: f64,
    /// Seed of the random vectors.
    #[arg(long, default_value_t = 0)]
    hessian_seed: u64,
    #[command(flatten)]
    data: model::DataArgs,
    /// Output folder (default: a new folder under runs/).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs `genviz hessian`.
pub fn hessian(args: HessianArgs) -> Result<()> {
    let m = model::load(&args.model)?;
    let (train, _) = args.data.load(&m)?;
    if args.top_k == 0 && args.lanczos == 0 && args.ratio_map == 0 {
        bail!("nothing to compute: ask for --top-k, --lanczos or --ratio-map");
    }
    let dir = run_dir::prepare(args.out.as_deref(), "hessian")?;
    let start = std::time::Instant::now();
    let mut h = Hessian::new(&m.net, m.params.values(), &train);
    if args.filter_normalised {
        h = h.filter_normalised(&m.params, 1e-6);
    }
    let op = |v: &[f64]| h.apply(v);
    let mut r = rng::stream(args.hessian_seed, "hessian");
    let n = h.dim();
    let eig = hessian::top_eigen(
        &op,
        n,
        args.top_k,
        hessian::TOLERANCE,
        hessian::MAX_ITER,
        &mut r,
    );
    let eigenvalues: Vec<f64> = eig.iter().map(|e| e.value).collect();
    let trace = hessian::trace(&op, n, hessian::TOLERANCE, hessian::MAX_ITER, &mut r);
    let mut arrays = vec![
        (
            "eigenvalues",
            NpyArray::F64(eigenvalues.clone(), vec![eigenvalues.len()]),
        ),
        ("trace", NpyArray::F64(vec![trace], vec![1])),
    ];
    if args.lanczos > 0 {
        let q = hessian::lanczos_quadrature(&op, n, args.lanczos, args.runs.max(1), &mut r);
        let nodes: Vec<f64> = q.iter().flat_map(|x| x.nodes.iter().copied()).collect();
        let (lo, hi) = nodes
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        let pad = 0.05 * (hi - lo).max(1e-6);
        // PyHessian's density_plot uses 10,000 bins.
        let grid: Vec<f64> = (0..DENSITY_BINS)
            .map(|i| lo - pad + (hi - lo + 2.0 * pad) * i as f64 / (DENSITY_BINS - 1) as f64)
            .collect();
        let density = hessian::smoothed_density(&q, &grid);
        genviz_render::draw_spectral_density(
            &dir.join("hessian_density.png"),
            "Hessian spectral density",
            &grid,
            &[("density".to_string(), density.clone())],
            true,
        )?;
        let k = nodes.len();
        arrays.push(("density_grid", NpyArray::F64(grid, vec![DENSITY_BINS])));
        arrays.push(("density", NpyArray::F64(density, vec![DENSITY_BINS])));
        arrays.push(("lanczos_nodes", NpyArray::F64(nodes, vec![k])));
        arrays.push((
            "lanczos_weights",
            NpyArray::F64(
                q.iter().flat_map(|x| x.weights.iter().copied()).collect(),
                vec![k],
            ),
        ));
    }
    if args.ratio_map > 0 {
        let coords = Axis {
            min: -args.ratio_extent,
            max: args.ratio_extent,
            num: args.ratio_map.max(2),
        }
        .coords(Spacing::Linear);
        let dx = genviz_landscape::direction::random_direction(
            &m.params,
            Normalization::Filter,
            BiasPolicy::Ignore,
            &mut rng::stream(args.hessian_seed, "direction-x"),
        );
        let dy = genviz_landscape::direction::random_direction(
            &m.params,
            Normalization::Filter,
            BiasPolicy::Ignore,
            &mut rng::stream(args.hessian_seed, "direction-y"),
        );
        let plane = genviz_core::Affine {
            center: m.params.values(),
            x: dx.values(),
            y: Some(dy.values()),
        };
        let points: Vec<(f64, f64)> = coords
            .iter()
            .flat_map(|&b| coords.iter().map(move |&a| (a, b)))
            .collect();
        use rayon::prelude::*;
        let ratios: Vec<(f64, f64)> = points
            .par_iter()
            .enumerate()
            .map(|(i, &(a, b))| {
                let mut theta = vec![0f32; n];
                plane.point(a, b, &mut theta);
                let hp = Hessian::new(&m.net, &theta, &train);
                let op = |v: &[f64]| hp.apply(v);
                hessian::eigen_ratio(
                    &op,
                    n,
                    1e-2,
                    50,
                    &mut rng::substream(args.hessian_seed, "ratio", i as u64),
                )
            })
            .collect();
        let ratio: Vec<f64> = ratios.iter().map(|(lo, hi)| (lo / hi).abs()).collect();
        let side = coords.len();
        genviz_render::draw_heatmap(
            &dir.join("hessian_ratio_map.png"),
            &[(
                genviz_render::SurfaceGrid {
                    xs: coords.clone(),
                    ys: coords.clone(),
                    values: ratio.clone(),
                    title: "|lambda_min / lambda_max|".into(),
                    value_label: "ratio".into(),
                },
                genviz_render::ContourStyle {
                    vmin: 0.0,
                    vmax: 1.0,
                    vlevel: 0.1,
                    log: false,
                },
            )],
        )?;
        arrays.push(("xcoordinates", NpyArray::F64(coords.clone(), vec![side])));
        arrays.push(("ycoordinates", NpyArray::F64(coords, vec![side])));
        arrays.push(("eig_ratio", NpyArray::F64(ratio, vec![side, side])));
        arrays.push((
            "min_eig",
            NpyArray::F64(ratios.iter().map(|r| r.0).collect(), vec![side, side]),
        ));
        arrays.push((
            "max_eig",
            NpyArray::F64(ratios.iter().map(|r| r.1).collect(), vec![side, side]),
        ));
    }
    write_npz(&dir.join("hessian.npz"), &arrays)?;
    let seconds = start.elapsed().as_secs_f64();
    genviz_core::io::write_json(
        &dir.join("run.json"),
        &json!({
            "command": "hessian",
            "version": genviz_core::VERSION,
            "model": m.weights.display().to_string(),
            "filter_normalised": args.filter_normalised,
            "eigenvalues": eigenvalues,
            "trace": trace,
            "seconds": seconds,
        }),
    )?;
    println!(
        "{}: top eigenvalues {:?}, trace {:.4e} ({:.2} s)",
        dir.display(),
        eigenvalues,
        trace,
        seconds
    );
    Ok(())
}

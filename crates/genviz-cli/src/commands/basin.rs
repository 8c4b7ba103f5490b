//! `genviz basin` and `genviz hessian`: how wide and how curved a minimum is.

use crate::{model, run_dir};
use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use genviz_core::io::{write_npz, NpyArray, Npz};
use genviz_core::{rng, Dataset, Network, Params};
use genviz_landscape::basin::{
    cast_many, center, volume, Basin, RadiusMode, Ray, RayConfig, Volume, DEFAULT_THRESHOLD,
};
use genviz_landscape::hessian::{self, Hessian};
use genviz_landscape::{Axis, BiasPolicy, Normalization, Shard, Spacing};
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
    /// Cast only slice k of n of the rays (1-based, e.g. 2/4) into basin.shard-k-of-n.npz;
    /// join the slices with `genviz merge`.
    #[arg(long)]
    shard: Option<Shard>,
    #[command(flatten)]
    data: model::DataArgs,
    /// Output folder (default: a new folder under runs/). Rerunning into the same folder
    /// resumes an interrupted run.
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
///
/// Rays are saved to `basin.state.npz` as they complete, so rerunning after a kill casts only
/// the missing ones; the state file is removed once `basin.npz` is written.
pub fn measure(
    net: &dyn Network,
    theta: &Params,
    train: &Dataset,
    config: &RayConfig,
    dir: &Path,
) -> Result<BasinResult> {
    let state_path = dir.join("basin.state.npz");
    let state = cast_resumable(net, theta, train, config, Shard::ALL, &state_path)?;
    let basin = state.basin()?;
    let volume = volume(&basin.euclidean(), basin.dimension, BOOTSTRAP, config.seed);
    write_basin(
        &dir.join("basin.npz"),
        &basin,
        &volume,
        config.seed,
        config.threshold,
    )?;
    std::fs::remove_file(&state_path)
        .with_context(|| format!("removing {}", state_path.display()))?;
    Ok(BasinResult { basin, volume })
}

/// Writes `basin.npz`: radii, Euclidean radii, censoring, direction norms, seed, threshold,
/// log10 volume with its interval, the centre's loss and the dimension.
fn write_basin(
    path: &Path,
    basin: &Basin,
    volume: &Volume,
    seed: u64,
    threshold: f64,
) -> Result<()> {
    let n = basin.radii.len();
    write_npz(
        path,
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
            ("directions_seed", NpyArray::I64(vec![seed as i64], vec![1])),
            ("threshold", NpyArray::F64(vec![threshold], vec![1])),
            (
                "log10_volume",
                NpyArray::F64(vec![volume.log10_volume, volume.low, volume.high], vec![3]),
            ),
            (
                "center_loss",
                NpyArray::F64(vec![basin.center_loss], vec![1]),
            ),
            (
                "dimension",
                NpyArray::I64(vec![basin.dimension as i64], vec![1]),
            ),
        ],
    )?;
    Ok(())
}

/// Rays cast so far (a resumable run, or one shard of the rays).
pub struct RayState {
    /// Each ray's result once cast.
    pub rays: Vec<Option<Ray>>,
    /// Training loss at the minimum.
    pub center_loss: f64,
    /// Number of parameters the rays move.
    pub dimension: usize,
    /// The computation the rays belong to (model, data and ray configuration).
    pub fingerprint: i64,
    /// Seed of the directions.
    pub seed: u64,
    /// Loss threshold.
    pub threshold: f64,
}

impl RayState {
    /// Writes the state (unfilled rays hold NaN radii and censoring -1), atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let r = self.rays.len();
        let mut radii = vec![f64::NAN; 2 * r];
        let mut censored = vec![-1i64; 2 * r];
        let mut norms = vec![f64::NAN; r];
        for (k, ray) in self.rays.iter().enumerate() {
            if let Some(ray) = ray {
                radii[2 * k..2 * k + 2].copy_from_slice(&ray.radii);
                censored[2 * k] = i64::from(ray.censored[0]);
                censored[2 * k + 1] = i64::from(ray.censored[1]);
                norms[k] = ray.norm;
            }
        }
        write_npz(
            path,
            &[
                ("radii", NpyArray::F64(radii, vec![2 * r])),
                ("censored", NpyArray::I64(censored, vec![2 * r])),
                ("direction_norms", NpyArray::F64(norms, vec![r])),
                (
                    "center_loss",
                    NpyArray::F64(vec![self.center_loss], vec![1]),
                ),
                (
                    "dimension",
                    NpyArray::I64(vec![self.dimension as i64], vec![1]),
                ),
                (
                    "fingerprint",
                    NpyArray::I64(vec![self.fingerprint], vec![1]),
                ),
                (
                    "directions_seed",
                    NpyArray::I64(vec![self.seed as i64], vec![1]),
                ),
                ("threshold", NpyArray::F64(vec![self.threshold], vec![1])),
            ],
        )?;
        Ok(())
    }

    /// Reads a state written by [`RayState::save`].
    pub fn load(path: &Path) -> Result<Self> {
        let mut npz = Npz::open(path)?;
        let (radii, _) = npz.f64("radii")?;
        let (censored, _) = npz.i64("censored")?;
        let (norms, _) = npz.f64("direction_norms")?;
        let one_f = |npz: &mut Npz, name: &str| -> Result<f64> {
            let (v, _) = npz.f64(name)?;
            v.first()
                .copied()
                .with_context(|| format!("{}: array `{name}` is empty", path.display()))
        };
        let one_i = |npz: &mut Npz, name: &str| -> Result<i64> {
            let (v, _) = npz.i64(name)?;
            v.first()
                .copied()
                .with_context(|| format!("{}: array `{name}` is empty", path.display()))
        };
        let r = norms.len();
        if radii.len() != 2 * r || censored.len() != 2 * r {
            bail!(
                "{}: {} radii and {} censoring flags for {r} rays; expected {} of each",
                path.display(),
                radii.len(),
                censored.len(),
                2 * r
            );
        }
        let rays = (0..r)
            .map(|k| {
                norms[k].is_finite().then(|| Ray {
                    radii: [radii[2 * k], radii[2 * k + 1]],
                    censored: [censored[2 * k] == 1, censored[2 * k + 1] == 1],
                    norm: norms[k],
                })
            })
            .collect();
        Ok(RayState {
            rays,
            center_loss: one_f(&mut npz, "center_loss")?,
            dimension: usize::try_from(one_i(&mut npz, "dimension")?)
                .with_context(|| format!("{}: negative dimension", path.display()))?,
            fingerprint: one_i(&mut npz, "fingerprint")?,
            seed: one_i(&mut npz, "directions_seed")? as u64,
            threshold: one_f(&mut npz, "threshold")?,
        })
    }

    /// The basin, once every ray is cast.
    pub fn basin(&self) -> Result<Basin> {
        let missing = self.rays.iter().filter(|r| r.is_none()).count();
        if missing > 0 {
            bail!(
                "{missing} of {} rays are not cast yet; run the missing shards",
                self.rays.len()
            );
        }
        let rays: Vec<Ray> = self.rays.iter().flatten().copied().collect();
        Ok(Basin::from_rays(&rays, self.center_loss, self.dimension))
    }
}

/// A fingerprint of the model, data and ray configuration, so a resumed or merged state is
/// known to belong to the same computation (FNV-1a over their bytes).
fn ray_fingerprint(theta: &Params, data: &Dataset, config: &RayConfig) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    theta.values().iter().for_each(|v| eat(&v.to_le_bytes()));
    data.features().iter().for_each(|v| eat(&v.to_le_bytes()));
    data.labels().iter().for_each(|v| eat(&v.to_le_bytes()));
    eat(serde_json::to_string(config).unwrap_or_default().as_bytes());
    h as i64
}

/// Casts the rays of `shard` not yet in `path`'s state, saving the state after every
/// parallel chunk of rays.
fn cast_resumable(
    net: &dyn Network,
    theta: &Params,
    train: &Dataset,
    config: &RayConfig,
    shard: Shard,
    path: &Path,
) -> Result<RayState> {
    config.validate()?;
    let fingerprint = ray_fingerprint(theta, train, config);
    let (center_loss, dimension) = center(net, theta, train, config);
    let mut state = if path.exists() {
        let saved = RayState::load(path)?;
        if saved.fingerprint != fingerprint || saved.rays.len() != config.rays {
            bail!(
                "{}: holds rays of another model, data or ray configuration; choose another --out",
                path.display()
            );
        }
        eprintln!(
            "resuming {}: {} of {} rays already cast",
            path.display(),
            saved.rays.iter().flatten().count(),
            saved.rays.len()
        );
        saved
    } else {
        RayState {
            rays: vec![None; config.rays],
            center_loss,
            dimension,
            fingerprint,
            seed: config.seed,
            threshold: config.threshold,
        }
    };
    let todo: Vec<usize> = shard
        .range(config.rays)
        .filter(|&k| state.rays[k].is_none())
        .collect();
    if todo.is_empty() && !path.exists() {
        state.save(path)?;
    }
    cast_many(
        net,
        theta,
        train,
        config,
        center_loss,
        &todo,
        rayon::current_num_threads(),
        &mut |done| {
            for &(k, ray) in done {
                state.rays[k] = Some(ray);
            }
            state
                .save(path)
                .map_err(|e| genviz_core::Error::invalid(e.to_string()))
        },
    )?;
    Ok(state)
}

/// Joins ray shards (`genviz basin --shard k/n` outputs) into `out` as one `basin.npz`.
pub fn merge_rays(shards: &[PathBuf], out: &Path) -> Result<()> {
    let mut merged: Option<(PathBuf, RayState)> = None;
    for path in shards {
        let s = RayState::load(path)?;
        let Some((first, m)) = &mut merged else {
            merged = Some((path.clone(), s));
            continue;
        };
        if s.fingerprint != m.fingerprint || s.rays.len() != m.rays.len() {
            bail!(
                "{}: its rays belong to another model, data or ray configuration than {}",
                path.display(),
                first.display()
            );
        }
        for (k, ray) in s.rays.iter().enumerate() {
            match (&m.rays[k], ray) {
                (Some(a), Some(b)) if a != b => bail!(
                    "{}: ray {k} differs from the same ray in an earlier file",
                    path.display()
                ),
                (None, Some(b)) => m.rays[k] = Some(*b),
                _ => {}
            }
        }
    }
    let (_, state) = merged.context("merge needs at least one shard")?;
    let basin = state.basin()?;
    let volume = volume(&basin.euclidean(), basin.dimension, BOOTSTRAP, state.seed);
    write_basin(out, &basin, &volume, state.seed, state.threshold)?;
    println!(
        "{}: {} rays, median radius {:.4}, log10 volume {:.1} [{:.1}, {:.1}]",
        out.display(),
        state.rays.len(),
        basin.median(),
        volume.log10_volume,
        volume.low,
        volume.high
    );
    Ok(())
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
    // Per ray: two radii, two flags and a norm, held in the state, its encoding and a copy.
    let what = format!("{} rays", config.rays);
    genviz_core::limits::check_memory(&what, (config.rays as u64).saturating_mul(3 * 48))?;
    genviz_core::limits::check_disk(
        &what,
        (config.rays as u64).saturating_mul(2 * 48),
        args.out.as_deref().unwrap_or(Path::new("runs")),
    )?;
    let dir = run_dir::prepare(args.out.as_deref(), "basin")?;
    let start = std::time::Instant::now();
    if let Some(shard) = args.shard.filter(|&s| s != Shard::ALL) {
        let file = dir.join(format!(
            "basin.shard-{}-of-{}.npz",
            shard.index, shard.count
        ));
        let range = shard.range(config.rays);
        cast_resumable(&m.net, &m.params, &train, &config, shard, &file)?;
        println!(
            "{}: rays {} to {} of {} ({:.2} s); join the shards with `genviz merge --out basin.npz`",
            file.display(),
            range.start,
            range.end,
            config.rays,
            start.elapsed().as_secs_f64()
        );
        return Ok(());
    }
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

/// Progress of `genviz hessian`, saved after every eigenpair, the trace, every Lanczos run and
/// every chunk of the ratio map, with the random generator's position, so a killed run
/// resumes where it stopped and gives the bits of an uninterrupted one.
struct HessianState {
    fingerprint: i64,
    /// Word position of the "hessian" stream after the last saved stage.
    rng_pos: Option<u128>,
    eigen: Vec<hessian::Eigen>,
    trace: Option<f64>,
    quadratures: Vec<hessian::Quadrature>,
    /// `(min, max)` eigenvalue per ratio-map point, NaN where not yet computed.
    ratios: Vec<(f64, f64)>,
}

impl HessianState {
    fn new(fingerprint: i64, points: usize) -> Self {
        HessianState {
            fingerprint,
            rng_pos: None,
            eigen: Vec::new(),
            trace: None,
            quadratures: Vec::new(),
            ratios: vec![(f64::NAN, f64::NAN); points],
        }
    }

    fn save(&self, path: &Path, n: usize) -> Result<()> {
        let pos = self.rng_pos.unwrap_or(0);
        let k = self.quadratures.first().map_or(0, |q| q.nodes.len());
        let arrays = vec![
            (
                "fingerprint",
                NpyArray::I64(vec![self.fingerprint], vec![1]),
            ),
            (
                "rng_pos",
                NpyArray::I64(
                    vec![
                        i64::from(self.rng_pos.is_some()),
                        (pos >> 64) as u64 as i64,
                        pos as u64 as i64,
                    ],
                    vec![3],
                ),
            ),
            (
                "eig_values",
                NpyArray::F64(
                    self.eigen.iter().map(|e| e.value).collect(),
                    vec![self.eigen.len()],
                ),
            ),
            (
                "eig_vectors",
                NpyArray::F64(
                    self.eigen
                        .iter()
                        .flat_map(|e| e.vector.iter().copied())
                        .collect(),
                    vec![self.eigen.len(), n],
                ),
            ),
            (
                "trace",
                NpyArray::F64(
                    self.trace.into_iter().collect(),
                    vec![usize::from(self.trace.is_some())],
                ),
            ),
            (
                "lanczos_nodes",
                NpyArray::F64(
                    self.quadratures
                        .iter()
                        .flat_map(|q| q.nodes.iter().copied())
                        .collect(),
                    vec![self.quadratures.len(), k],
                ),
            ),
            (
                "lanczos_weights",
                NpyArray::F64(
                    self.quadratures
                        .iter()
                        .flat_map(|q| q.weights.iter().copied())
                        .collect(),
                    vec![self.quadratures.len(), k],
                ),
            ),
            (
                "ratio_min",
                NpyArray::F64(
                    self.ratios.iter().map(|r| r.0).collect(),
                    vec![self.ratios.len()],
                ),
            ),
            (
                "ratio_max",
                NpyArray::F64(
                    self.ratios.iter().map(|r| r.1).collect(),
                    vec![self.ratios.len()],
                ),
            ),
        ];
        write_npz(path, &arrays)?;
        Ok(())
    }

    fn load(path: &Path) -> Result<Self> {
        let mut npz = Npz::open(path)?;
        let bad = |what: &str| anyhow::anyhow!("{}: {what}", path.display());
        let fingerprint = *npz
            .i64("fingerprint")?
            .0
            .first()
            .ok_or_else(|| bad("empty fingerprint"))?;
        let pos = npz.i64("rng_pos")?.0;
        let [has, hi, lo] = pos[..] else {
            return Err(bad("rng_pos must hold 3 numbers"));
        };
        let rng_pos = (has == 1).then(|| (u128::from(hi as u64) << 64) | u128::from(lo as u64));
        let (values, _) = npz.f64("eig_values")?;
        let (vectors, vshape) = npz.f64("eig_vectors")?;
        let n = vshape.get(1).copied().unwrap_or(0);
        if vshape.len() != 2 || vshape[0] != values.len() || vectors.len() != values.len() * n {
            return Err(bad("eig_vectors does not match eig_values"));
        }
        let eigen = values
            .iter()
            .zip(vectors.chunks(n.max(1)))
            .map(|(&value, v)| hessian::Eigen {
                value,
                vector: v.to_vec(),
            })
            .collect();
        let trace = npz.f64("trace")?.0.first().copied();
        let (nodes, qshape) = npz.f64("lanczos_nodes")?;
        let (weights, _) = npz.f64("lanczos_weights")?;
        let k = qshape.get(1).copied().unwrap_or(0);
        if nodes.len() != weights.len() || (k == 0 && !nodes.is_empty()) {
            return Err(bad("lanczos_nodes and lanczos_weights do not match"));
        }
        let quadratures = nodes
            .chunks(k.max(1))
            .zip(weights.chunks(k.max(1)))
            .map(|(n, w)| hessian::Quadrature {
                nodes: n.to_vec(),
                weights: w.to_vec(),
            })
            .collect();
        let (rmin, _) = npz.f64("ratio_min")?;
        let (rmax, _) = npz.f64("ratio_max")?;
        if rmin.len() != rmax.len() {
            return Err(bad("ratio_min and ratio_max differ in length"));
        }
        Ok(HessianState {
            fingerprint,
            rng_pos,
            eigen,
            trace,
            quadratures,
            ratios: rmin.into_iter().zip(rmax).collect(),
        })
    }
}

/// A fingerprint of what `genviz hessian` computes: model, data and the options that change
/// the numbers.
fn hessian_fingerprint(theta: &Params, data: &Dataset, args: &HessianArgs) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    theta.values().iter().for_each(|v| eat(&v.to_le_bytes()));
    data.features().iter().for_each(|v| eat(&v.to_le_bytes()));
    data.labels().iter().for_each(|v| eat(&v.to_le_bytes()));
    let options = format!(
        "{} {} {} {} {} {} {}",
        args.top_k,
        args.lanczos,
        args.runs,
        args.filter_normalised,
        args.ratio_map,
        args.ratio_extent,
        args.hessian_seed
    );
    eat(options.as_bytes());
    h as i64
}

/// Runs `genviz hessian`; rerunning the same command into the same `--out` after a kill
/// resumes from `hessian.state.npz` (removed once `hessian.npz` is written).
pub fn hessian(args: HessianArgs) -> Result<()> {
    let m = model::load(&args.model)?;
    let (train, _) = args.data.load(&m)?;
    if args.top_k == 0 && args.lanczos == 0 && args.ratio_map == 0 {
        bail!("nothing to compute: ask for --top-k, --lanczos or --ratio-map");
    }
    // Eigenvectors, the Lanczos basis and working vectors are f64 vectors of the parameter
    // count; the ratio map holds two numbers per point.
    let n = m.params.values().len() as u64;
    let vectors = (args.top_k as u64)
        .min(n)
        .saturating_add((args.lanczos as u64).min(n))
        .saturating_add(8);
    let points = (args.ratio_map as u64).saturating_pow(2);
    genviz_core::limits::check_memory(
        &format!(
            "a Hessian with {} eigenvectors, {} Lanczos steps and a {} x {} ratio map",
            args.top_k, args.lanczos, args.ratio_map, args.ratio_map
        ),
        vectors
            .saturating_mul(n)
            .saturating_mul(8)
            .saturating_add(points.saturating_mul(64)),
    )?;
    let dir = run_dir::prepare(args.out.as_deref(), "hessian")?;
    let start = std::time::Instant::now();
    let mut h = Hessian::new(&m.net, m.params.values(), &train);
    if args.filter_normalised {
        h = h.filter_normalised(&m.params, 1e-6);
    }
    let op = |v: &[f64]| h.apply(v);
    let n = h.dim();
    let side = if args.ratio_map > 0 {
        args.ratio_map.max(2)
    } else {
        0
    };
    let state_path = dir.join("hessian.state.npz");
    let fingerprint = hessian_fingerprint(&m.params, &train, &args);
    let mut state = if state_path.exists() {
        let saved = HessianState::load(&state_path)?;
        if saved.fingerprint != fingerprint
            || saved.ratios.len() != side * side
            || saved.eigen.iter().any(|e| e.vector.len() != n)
        {
            bail!(
                "{}: holds another model's, data's or options' Hessian; choose another --out",
                state_path.display()
            );
        }
        eprintln!("resuming {}", state_path.display());
        saved
    } else {
        HessianState::new(fingerprint, side * side)
    };
    let mut r = rng::stream(args.hessian_seed, "hessian");
    if let Some(pos) = state.rng_pos {
        r.set_word_pos(pos);
    }
    let found = std::mem::take(&mut state.eigen);
    let eig = {
        let mut save = |found: &[hessian::Eigen], rng: &rng::Rng| -> genviz_core::Result<()> {
            state.eigen = found.to_vec();
            state.rng_pos = Some(rng.get_word_pos());
            state
                .save(&state_path, n)
                .map_err(|e| genviz_core::Error::invalid(e.to_string()))
        };
        hessian::top_eigen_from(
            &op,
            n,
            args.top_k,
            hessian::TOLERANCE,
            hessian::MAX_ITER,
            &mut r,
            found,
            &mut save,
        )?
    };
    state.eigen = eig.clone();
    let eigenvalues: Vec<f64> = eig.iter().map(|e| e.value).collect();
    let trace = match state.trace {
        Some(t) => t,
        None => {
            let t = hessian::trace(&op, n, hessian::TOLERANCE, hessian::MAX_ITER, &mut r);
            state.trace = Some(t);
            state.rng_pos = Some(r.get_word_pos());
            state.save(&state_path, n)?;
            t
        }
    };
    let mut arrays = vec![
        (
            "eigenvalues",
            NpyArray::F64(eigenvalues.clone(), vec![eigenvalues.len()]),
        ),
        ("trace", NpyArray::F64(vec![trace], vec![1])),
    ];
    if args.lanczos > 0 {
        while state.quadratures.len() < args.runs.max(1) {
            let q = hessian::lanczos_run(&op, n, args.lanczos, &mut r);
            state.quadratures.push(q);
            state.rng_pos = Some(r.get_word_pos());
            state.save(&state_path, n)?;
        }
        let q = &state.quadratures;
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
        let density = hessian::smoothed_density(q, &grid);
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
    if side > 0 {
        let coords = Axis {
            min: -args.ratio_extent,
            max: args.ratio_extent,
            num: side,
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
        let todo: Vec<usize> = (0..points.len())
            .filter(|&i| state.ratios[i].0.is_nan())
            .collect();
        use rayon::prelude::*;
        // Each point has its own random sub-stream, so chunks may be saved and resumed freely.
        for chunk in todo.chunks(rayon::current_num_threads().max(1)) {
            let done: Vec<(usize, (f64, f64))> = chunk
                .par_iter()
                .map(|&i| {
                    let (a, b) = points[i];
                    let mut theta = vec![0f32; n];
                    plane.point(a, b, &mut theta);
                    let hp = Hessian::new(&m.net, &theta, &train);
                    let op = |v: &[f64]| hp.apply(v);
                    let ratio = hessian::eigen_ratio(
                        &op,
                        n,
                        1e-2,
                        50,
                        &mut rng::substream(args.hessian_seed, "ratio", i as u64),
                    );
                    (i, ratio)
                })
                .collect();
            for (i, ratio) in done {
                state.ratios[i] = ratio;
            }
            state.save(&state_path, n)?;
        }
        let ratios = &state.ratios;
        let ratio: Vec<f64> = ratios.iter().map(|(lo, hi)| (lo / hi).abs()).collect();
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
    if state_path.exists() {
        std::fs::remove_file(&state_path)
            .with_context(|| format!("removing {}", state_path.display()))?;
    }
    println!(
        "{}: top eigenvalues {:?}, trace {:.4e} ({:.2} s)",
        dir.display(),
        eigenvalues,
        trace,
        seconds
    );
    Ok(())
}

//! Loss landscapes around trained models: `surface`, `interpolate`, `plane` and
//! `trajectory`, and the one resumable grid job they share.
//!
//! A grid fills `surface.npz` as it goes (saved every few seconds), so a killed run resumes
//! where it stopped; `shard k/n` fills one slice of it, and under `mpirun` each rank fills its
//! slice and rank 0 gathers them: every point is computed the same way wherever it runs, so
//! the joined file is bit-identical to a single process's.

use crate::model::{self, DataSource, LoadedModel};
use crate::progress::Progress;
use crate::ranks::Ranks;
use crate::record::{DataRecord, Job, RunRecord};
use anyhow::{bail, Context, Result};
use genviz_core::io::{write_npz, NpyArray};
use genviz_core::{rng, Dataset, Params};
use genviz_landscape::direction::{
    difference, orthogonalize, random_direction, read_directions, write_directions,
};
use genviz_landscape::pca::PathPlane;
use genviz_landscape::vtp::{write_vtp, VtpOptions};
use genviz_landscape::{cosine, Axis, BiasPolicy, Normalization, Plane, Shard, Spacing, Surface};
use genviz_render::{ContourStyle, Marker, PathOverlay, Series1d, SurfaceGrid};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Contour levels and heights of a landscape's figures.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlotStyle {
    /// Lowest contour level (Li et al.: 0.1).
    pub vmin: f64,
    /// Highest contour level (Li et al.: 10).
    pub vmax: f64,
    /// Spacing of contour levels (Li et al.: 0.5; in decades when `log`).
    pub vlevel: f64,
    /// Log-scale contours, colours and 1-D loss axes.
    pub log: bool,
    /// Clip heights of the 3-D surface and the ParaView export at this loss.
    pub zmax: f64,
}

impl Default for PlotStyle {
    /// Li et al.'s `plot_2D.py` levels: 0.1 to 10 every 0.5.
    fn default() -> Self {
        PlotStyle {
            vmin: 0.1,
            vmax: 10.0,
            vlevel: 0.5,
            log: false,
            zmax: 10.0,
        }
    }
}

impl PlotStyle {
    /// Log-scaled contours from 1e-3 to 10 in quarter decades: curves and planes between good
    /// minima live at losses far below Li et al.'s linear levels.
    pub fn log_decades() -> Self {
        PlotStyle {
            vmin: 1e-3,
            vmax: 10.0,
            vlevel: 0.25,
            log: true,
            zmax: 10.0,
        }
    }

    fn check(&self) -> Result<()> {
        if !(self.vmin < self.vmax && self.vlevel > 0.0) {
            bail!(
                "contour levels: need vmin < vmax and vlevel > 0 (got {}, {}, {})",
                self.vmin,
                self.vmax,
                self.vlevel
            );
        }
        Ok(())
    }
}

/// How a grid's points are evaluated, filled and drawn: what every landscape shares.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridSettings {
    /// The data every point is evaluated on.
    pub data: DataSource,
    /// Fill only slice k of n (`None`: all); join slices with `genviz merge`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// Seconds between saves of the partly filled grid (what a killed run resumes from); 0
    /// saves after every batch of points.
    #[serde(default = "default_save_every")]
    pub save_every: f64,
    /// The figures' levels.
    #[serde(default)]
    pub plot: PlotStyle,
}

fn default_save_every() -> f64 {
    2.0
}

impl GridSettings {
    /// All of `data`, saved every two seconds, drawn with Li et al.'s levels.
    pub fn on(data: DataSource) -> Self {
        GridSettings {
            data,
            shard: None,
            save_every: default_save_every(),
            plot: PlotStyle::default(),
        }
    }
}

/// Where a surface's directions come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Directions {
    /// Directions from a file (safetensors or npz with tensors `x.<name>`, `y.<name>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// x = this model minus the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model2: Option<PathBuf>,
    /// y = this model minus the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model3: Option<PathBuf>,
    /// Normalisation of random directions.
    pub norm: Normalization,
    /// What random directions hold on biases.
    pub bias: BiasPolicy,
    /// Seed of the random directions (streams `direction-x`, `direction-y`).
    pub seed: u64,
    /// Use the x direction for y too.
    #[serde(default)]
    pub same_dir: bool,
    /// Make y orthogonal to x.
    #[serde(default)]
    pub orthogonal: bool,
}

impl Directions {
    /// Random filter-normalised directions with biases left alone (Li et al.'s default for
    /// comparing minima), from `seed`.
    pub fn random(seed: u64) -> Self {
        Directions {
            file: None,
            model2: None,
            model3: None,
            norm: Normalization::Filter,
            bias: BiasPolicy::Ignore,
            seed,
            same_dir: false,
            orthogonal: false,
        }
    }

    /// The directions at the model `m`, for a 2-D surface when `two_d`.
    fn resolve(&self, m: &LoadedModel, two_d: bool) -> Result<(Params, Option<Params>)> {
        let from_file = self
            .file
            .as_deref()
            .map(|p| read_directions(p, &m.params))
            .transpose()?;
        let random = |stream: &str| {
            random_direction(
                &m.params,
                self.norm,
                self.bias,
                &mut rng::stream(self.seed, stream),
            )
        };
        let x = match (&from_file, &self.model2) {
            (Some((x, _)), _) => x.clone(),
            (None, Some(m2)) => difference(&model::load_like(m2, m)?, &m.params)?,
            (None, None) => random("direction-x"),
        };
        if !two_d {
            return Ok((x, None));
        }
        let mut y = if self.same_dir {
            x.clone()
        } else {
            match (&from_file, &self.model3) {
                (Some((_, Some(y))), _) => y.clone(),
                (Some((_, None)), _) => bail!(
                    "{}: has no y.<tensor> direction for a 2-D surface",
                    self.file
                        .as_ref()
                        .map_or(String::new(), |p| p.display().to_string())
                ),
                (None, Some(m3)) => difference(&model::load_like(m3, m)?, &m.params)?,
                (None, None) => random("direction-y"),
            }
        };
        if self.orthogonal {
            orthogonalize(&mut y, &x);
        }
        Ok((x, Some(y)))
    }
}

/// A loss surface around one model along two (or one) directions (Li et al.).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurfaceConfig {
    /// A run folder or a `.safetensors` file.
    pub model: PathBuf,
    /// x coordinates.
    pub x: Axis,
    /// y coordinates, for a 2-D surface.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<Axis>,
    /// Spacing of the coordinates.
    #[serde(default)]
    pub spacing: Spacing,
    /// The directions.
    pub directions: Directions,
    /// The data, slicing, saving and drawing.
    pub grid: GridSettings,
}

impl SurfaceConfig {
    /// The surface most callers want, as `genviz surface MODEL --x AXIS --y AXIS` draws it:
    /// the same linear axis for x and y, random filter-normalised directions from `seed`, and
    /// `data` with the default grid settings. Change any field afterwards.
    pub fn square(model: PathBuf, axis: Axis, seed: u64, data: DataSource) -> Self {
        SurfaceConfig {
            model,
            x: axis,
            y: Some(axis),
            spacing: Spacing::Linear,
            directions: Directions::random(seed),
            grid: GridSettings::on(data),
        }
    }

    /// Refuses settings that cannot run, or a grid that would not fit in memory or on the
    /// disk of `dir`, before anything is read or written.
    pub fn check(&self, dir: &Path) -> Result<()> {
        self.grid.plot.check()?;
        check_grid(self.x.num, self.y.map_or(0, |a| a.num), dir)
    }
}

/// The loss along the straight line between two models (Goodfellow et al.): 0 is `model1`,
/// 1 is `model2`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterpolateConfig {
    /// The first model.
    pub model1: PathBuf,
    /// The second model.
    pub model2: PathBuf,
    /// Coefficients (Li et al.: -0.5:1.5:401).
    pub x: Axis,
    /// The data, slicing, saving and drawing.
    pub grid: GridSettings,
}

/// The loss over the plane through three models (Garipov et al.): u along `model2 - model0`,
/// v the part of `model1 - model0` orthogonal to it, in units of those distances.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaneConfig {
    /// The origin model.
    pub model0: PathBuf,
    /// The bend (e.g. a curve's middle point).
    pub model1: PathBuf,
    /// The far end.
    pub model2: PathBuf,
    /// Points per side (Garipov et al.: 21).
    pub points: usize,
    /// Margin around the models, in units of the distances (Garipov et al.: 0.2).
    pub margin: f64,
    /// The data, slicing, saving and drawing.
    pub grid: GridSettings,
}

/// A run's training path on the plane of its two principal components, over the loss there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrajectoryConfig {
    /// A run folder (with `trajectory.npz` and `model.safetensors`), or the final model when
    /// the path is given as `checkpoints`.
    pub run: PathBuf,
    /// The training path as model files, oldest first (ONNX files, or safetensors files
    /// whose tensors are the model's): for models genviz did not train. Empty: the run
    /// folder's `trajectory.npz`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checkpoints: Vec<PathBuf>,
    /// x coordinates (default: the path's extent plus a margin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<Axis>,
    /// y coordinates (default: the path's extent plus a margin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<Axis>,
    /// Points per side of the default grid.
    pub num: usize,
    /// The data, slicing, saving and drawing.
    pub grid: GridSettings,
}

/// Memory per grid point while a surface is filled and saved: its four f64 arrays, the copy
/// `write_npz` makes of them, and the encoded file held before it is written.
const GRID_MEMORY_PER_POINT: u64 = 3 * 4 * 8;

/// Disk per grid point: `surface.npz` (four f64 arrays) and its temporary twin while it is
/// replaced, plus the ParaView export (three coordinates as text, about 60 bytes).
const GRID_DISK_PER_POINT: u64 = 2 * 4 * 8 + 60;

/// Refuses a grid of `nx` x `ny` points (ny 0 for 1-D) that would not fit in memory or on the
/// disk of `out`, before its coordinates are even allocated.
pub fn check_grid(nx: usize, ny: usize, out: &Path) -> Result<()> {
    let points = (nx as u64).saturating_mul(ny.max(1) as u64);
    let what = if ny == 0 {
        format!("a grid of {nx} points")
    } else {
        format!("a grid of {nx} x {ny} = {points} points")
    };
    genviz_core::limits::check_memory(
        &what,
        points
            .saturating_mul(GRID_MEMORY_PER_POINT)
            .saturating_add((nx as u64 + ny as u64).saturating_mul(16)),
    )?;
    genviz_core::limits::check_disk(&what, points.saturating_mul(GRID_DISK_PER_POINT), out)?;
    Ok(())
}

/// What a landscape job draws besides the surface, and records about its directions.
#[derive(Default)]
pub struct Extras {
    /// Points marked on the contour map (the models).
    pub markers: Vec<Marker>,
    /// Paths drawn over it (a training path, a curve).
    pub overlays: Vec<PathOverlay>,
    /// Numbers about the directions, for `results.details`.
    pub details: serde_json::Value,
}

/// What a landscape run found: `results` of its `run.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LandscapeResults {
    /// The weights file of the model at the origin.
    pub model: String,
    /// Number of parameters.
    pub num_params: usize,
    /// The grid file, relative to the run folder.
    pub file: String,
    /// Points along x.
    pub nx: usize,
    /// Points along y (0 for a 1-D surface).
    pub ny: usize,
    /// Points in the grid.
    pub points: usize,
    /// Points evaluated so far.
    pub filled: usize,
    /// The slice this run filled, `[k, n]` (`[1, 1]`: all; MPI ranks' slices are joined).
    pub shard: [usize; 2],
    /// Lowest and highest train loss over the filled points.
    pub train_loss_range: [f64; 2],
    /// Numbers about the directions (normalisation, cosine, distances, PCA variance).
    pub details: serde_json::Value,
}

/// A finished (or sharded) landscape run.
pub struct LandscapeRun {
    /// The grid (on every rank but MPI's non-root ranks, which hand theirs to rank 0).
    pub surface: Option<Surface>,
    /// Where it was written.
    pub file: PathBuf,
    /// What `run.json` says (on MPI's non-root ranks, their slice's record, not written).
    pub record: RunRecord,
}

/// A grid to fill: the model, the plane, the coordinates and the data.
pub struct GridJob<'a> {
    /// The model at the origin.
    pub model: &'a LoadedModel,
    /// The plane through it.
    pub plane: Plane,
    /// x coordinates.
    pub xs: Vec<f64>,
    /// y coordinates (empty for a line).
    pub ys: Vec<f64>,
    /// Training data of every point.
    pub train: &'a Dataset,
    /// Test data of every point.
    pub test: &'a Dataset,
    /// The data's source, slicing, saving and drawing.
    pub settings: &'a GridSettings,
    /// Markers, overlays and details.
    pub extras: Extras,
}

/// Runs [`SurfaceConfig`] into `dir`: `surface.npz` (`xcoordinates`, `ycoordinates`,
/// `train_loss`, `train_acc`, `test_loss`, `test_acc`; -1 marks points not yet evaluated),
/// `directions.safetensors` (`x.<tensor>`, `y.<tensor>`), figures, `surface.vtp` for
/// ParaView, and `run.json`.
pub fn surface(
    config: &SurfaceConfig,
    dir: &Path,
    progress: &dyn Progress,
) -> Result<LandscapeRun> {
    config.check(dir)?;
    let (m, train, test) = config.grid.data.open(&config.model, progress)?;
    let (x, y) = config.directions.resolve(&m, config.y.is_some())?;
    let mut details = serde_json::json!({
        "norm": config.directions.norm,
        "bias": config.directions.bias,
        "direction_seed": config.directions.seed,
    });
    if let Some(y) = &y {
        let c = cosine(&x, y);
        progress.note(&format!(
            "cosine similarity of the x and y directions: {c:.6}"
        ));
        details["cosine"] = serde_json::json!(c);
    }
    let job = GridJob {
        plane: Plane::new(m.params.clone(), x, y)?,
        xs: config.x.coords(config.spacing),
        ys: config
            .y
            .map(|a| a.coords(config.spacing))
            .unwrap_or_default(),
        model: &m,
        train: &train,
        test: &test,
        settings: &config.grid,
        extras: Extras {
            markers: vec![marker(0.0, 0.0, "model")],
            details,
            ..Default::default()
        },
    };
    fill(
        job,
        Job::Surface(config.clone()),
        config.directions.seed,
        dir,
        progress,
    )
}

/// Runs [`InterpolateConfig`] into `dir` (the files of [`surface`], 1-D).
pub fn interpolate(
    config: &InterpolateConfig,
    dir: &Path,
    progress: &dyn Progress,
) -> Result<LandscapeRun> {
    config.grid.plot.check()?;
    check_grid(config.x.num, 0, dir)?;
    let (m, train, test) = config.grid.data.open(&config.model1, progress)?;
    let other = model::load_like(&config.model2, &m)?;
    let job = GridJob {
        plane: Plane::new(m.params.clone(), difference(&other, &m.params)?, None)?,
        xs: config.x.coords(Spacing::Linear),
        ys: Vec::new(),
        model: &m,
        train: &train,
        test: &test,
        settings: &config.grid,
        extras: Extras {
            markers: vec![marker(0.0, 0.0, "model 1"), marker(1.0, 0.0, "model 2")],
            ..Default::default()
        },
    };
    fill(
        job,
        Job::Interpolate(config.clone()),
        config.grid.data.seed,
        dir,
        progress,
    )
}

/// Runs [`PlaneConfig`] into `dir` (the files of [`surface`]).
pub fn plane(config: &PlaneConfig, dir: &Path, progress: &dyn Progress) -> Result<LandscapeRun> {
    plane_with(config, Extras::default(), dir, progress)
}

/// [`plane`] with more to draw: `extras`' overlays, and its markers instead of the three
/// models' (each given in units of the plane, where `along` is known only after it is built:
/// a marker at `(f64::NAN, 1)` is moved to the middle model).
pub fn plane_with(
    config: &PlaneConfig,
    extras: Extras,
    dir: &Path,
    progress: &dyn Progress,
) -> Result<LandscapeRun> {
    config.grid.plot.check()?;
    check_grid(config.points, config.points, dir)?;
    let axis = Axis {
        min: -config.margin,
        max: 1.0 + config.margin,
        num: config.points,
    };
    axis.validate().context("the plane's points and margin")?;
    let (m, train, test) = config.grid.data.open(&config.model0, progress)?;
    let w1 = model::load_like(&config.model1, &m)?;
    let w2 = model::load_like(&config.model2, &m)?;
    let (plane, along) = Plane::through(&m.params, &w1, &w2).with_context(|| {
        format!(
            "{}, {}, {}",
            config.model0.display(),
            config.model1.display(),
            config.model2.display()
        )
    })?;
    let (dx, dy) = (plane.x.norm(), plane.y.as_ref().map_or(0.0, |y| y.norm()));
    let coords = axis.coords(Spacing::Linear);
    let job = GridJob {
        plane,
        xs: coords.clone(),
        ys: coords,
        model: &m,
        train: &train,
        test: &test,
        settings: &config.grid,
        extras: Extras {
            markers: if extras.markers.is_empty() {
                vec![
                    marker(0.0, 0.0, "model 0"),
                    marker(along, 1.0, "model 1"),
                    marker(1.0, 0.0, "model 2"),
                ]
            } else {
                extras
                    .markers
                    .into_iter()
                    .map(|m| {
                        if m.x.is_nan() {
                            Marker { x: along, ..m }
                        } else {
                            m
                        }
                    })
                    .collect()
            },
            overlays: extras.overlays,
            details: match extras.details {
                serde_json::Value::Object(mut more) => {
                    more.insert("dx".into(), dx.into());
                    more.insert("dy".into(), dy.into());
                    serde_json::Value::Object(more)
                }
                _ => serde_json::json!({ "dx": dx, "dy": dy }),
            },
        },
    };
    fill(
        job,
        Job::Plane(config.clone()),
        config.grid.data.seed,
        dir,
        progress,
    )
}

/// Runs [`TrajectoryConfig`] into `dir`: `pca.npz` (Li et al.'s names: explained variance
/// and its ratio, singular values, each checkpoint's coordinates by least squares and by
/// their `cos` projection) and the files of [`surface`] with the path drawn on the contours.
pub fn trajectory(
    config: &TrajectoryConfig,
    dir: &Path,
    progress: &dyn Progress,
) -> Result<LandscapeRun> {
    config.grid.plot.check()?;
    let (m, train, test) = config.grid.data.open(&config.run, progress)?;
    let checkpoints = if config.checkpoints.is_empty() {
        crate::animate::read_trajectory(&config.run, m.params.values().len())?.params
    } else {
        if config.checkpoints.len() < 3 {
            bail!(
                "a training path of {} checkpoints: its principal plane needs at least 3",
                config.checkpoints.len()
            );
        }
        let mut loaded = Vec::with_capacity(config.checkpoints.len());
        for path in &config.checkpoints {
            loaded.push(model::load_like(path, &m)?.values().to_vec());
        }
        loaded
    };
    let path = PathPlane::of(checkpoints.iter().map(Vec::as_slice), &m.params)?;
    let ratio = path.pca.explained_variance_ratio;
    progress.note(&format!(
        "explained variance ratio: {:.4}, {:.4}",
        ratio[0], ratio[1]
    ));
    let xa = config.x.unwrap_or_else(|| path.axis(0, config.num));
    let ya = config.y.unwrap_or_else(|| path.axis(1, config.num));
    check_grid(xa.num, ya.num, dir)?;
    crate::run_dir::create(dir)?;
    let k = path.lstsq.len();
    let column = |f: &dyn Fn(&(f64, f64)) -> f64, v: &[(f64, f64)]| {
        NpyArray::F64(v.iter().map(f).collect(), vec![k])
    };
    let pca = &path.pca;
    write_npz(
        &dir.join("pca.npz"),
        &[
            (
                "explained_variance_ratio_",
                NpyArray::F64(pca.explained_variance_ratio.to_vec(), vec![2]),
            ),
            (
                "explained_variance_",
                NpyArray::F64(pca.explained_variance.to_vec(), vec![2]),
            ),
            (
                "singular_values_",
                NpyArray::F64(pca.singular_values.to_vec(), vec![2]),
            ),
            ("proj_xcoord", column(&|p| p.0, &path.lstsq)),
            ("proj_ycoord", column(&|p| p.1, &path.lstsq)),
            ("proj_xcoord_cos", column(&|p| p.0, &path.cos)),
            ("proj_ycoord_cos", column(&|p| p.1, &path.cos)),
        ],
    )?;
    let job = GridJob {
        plane: path.plane(&m.params)?,
        xs: xa.coords(Spacing::Linear),
        ys: ya.coords(Spacing::Linear),
        model: &m,
        train: &train,
        test: &test,
        settings: &config.grid,
        extras: Extras {
            markers: vec![marker(0.0, 0.0, "final")],
            overlays: vec![PathOverlay {
                points: path.lstsq.clone(),
                label: "training path".into(),
            }],
            details: serde_json::json!({ "explained_variance_ratio": ratio }),
        },
    };
    fill(
        job,
        Job::Trajectory(config.clone()),
        config.grid.data.seed,
        dir,
        progress,
    )
}

/// A labelled point on a contour map.
pub fn marker(x: f64, y: f64, label: &str) -> Marker {
    Marker {
        x,
        y,
        label: label.into(),
    }
}

/// Fills `job`'s grid into `dir` (resuming a saved one of the same computation), then, when
/// it is complete, draws its figures, and writes the record of `config`.
///
/// # Errors
/// When `dir` holds a grid of another computation (other directions, coordinates or data),
/// when the grid cannot be evaluated or written, or when MPI and a shard both split it.
pub fn fill(
    job: GridJob<'_>,
    config: Job,
    seed: u64,
    dir: &Path,
    progress: &dyn Progress,
) -> Result<LandscapeRun> {
    let settings = job.settings;
    settings.plot.check()?;
    let save_every = Duration::try_from_secs_f64(settings.save_every)
        .context("save_every: expected a number of seconds >= 0")?;
    let fingerprint = job
        .plane
        .fingerprint(&job.xs, &job.ys, &[job.train, job.test]);
    let mut surface = Surface::new(job.xs.clone(), job.ys.clone(), fingerprint)?;
    let ranks = Ranks::start()?;
    let shard = ranks.shard(settings.shard)?;
    crate::run_dir::create(dir)?;
    let name = if shard == Shard::ALL {
        "surface.npz".to_string()
    } else {
        format!("surface.shard-{}-of-{}.npz", shard.index, shard.count)
    };
    let file = dir.join(&name);
    if file.exists() {
        let saved = Surface::load(&file)?;
        if saved.fingerprint != fingerprint || saved.xs != surface.xs || saved.ys != surface.ys {
            bail!(
                "{}: holds a grid for other directions, coordinates or data; choose another folder",
                file.display()
            );
        }
        progress.note(&format!(
            "resuming {}: {} of {} points already done",
            file.display(),
            saved.filled(),
            saved.len()
        ));
        surface = saved;
    }
    if ranks.is_root() {
        write_directions(&dir.join("directions.safetensors"), &job.plane)?;
    }
    let start = Instant::now();
    let command = config.command();
    let todo = shard
        .range(surface.len())
        .filter(|&i| !surface.is_filled(i))
        .count();
    let stage = progress.stage(command, todo as u64, "points");
    let mut last_save = Instant::now();
    surface.fill(
        &job.model.net,
        &job.plane,
        job.train,
        job.test,
        shard,
        &mut |s, done| {
            stage.update(done as u64, None);
            if done == todo || last_save.elapsed() >= save_every {
                s.save(&file)?;
                last_save = Instant::now();
            }
            Ok(())
        },
    )?;
    surface.save(&file)?;
    stage.finish(&format!("{} of {} points", surface.filled(), surface.len()));
    let mine = surface.clone();
    // Under MPI, rank 0 joins the ranks' slices into the one surface.npz; the others are done.
    let gathered = ranks.gather_surface(surface)?;
    let (surface, file, shard) = match gathered {
        Some(s) if ranks.size() > 1 => {
            let whole = dir.join("surface.npz");
            s.save(&whole)?;
            (Some(s), whole, Shard::ALL)
        }
        Some(s) => (Some(s), file, shard),
        None => (None, file, shard),
    };
    let seconds = start.elapsed().as_secs_f64();
    let shown = surface.as_ref().unwrap_or(&mine);
    let results = LandscapeResults {
        model: job.model.weights.display().to_string(),
        num_params: job.model.params.values().len(),
        file: file
            .file_name()
            .map_or(name, |n| n.to_string_lossy().into_owned()),
        nx: shown.xs.len(),
        ny: shown.ys.len(),
        points: shown.len(),
        filled: shown.filled(),
        shard: [shard.index, shard.count],
        train_loss_range: loss_range(shown),
        details: job.extras.details.clone(),
    };
    let mut record = RunRecord::new(config, Some(seed), &results)?
        .with_data(DataRecord::of(
            settings.data.describe(job.model),
            job.train,
            job.test,
        ))
        .with_timings([("fill_s", seconds), ("total_s", seconds)]);
    record.ranks = ranks.size();
    if let Some(s) = &surface {
        if s.filled() == s.len() {
            let drawing = Instant::now();
            draw(dir, command, s, &settings.plot, &job.extras)?;
            record
                .timings
                .insert("figures_s".into(), drawing.elapsed().as_secs_f64());
        }
        record.write(dir)?;
        if s.filled() == s.len() {
            crate::pages::write_landscape_page(
                dir,
                &record,
                &crate::pages::LandscapeView {
                    model: job.model,
                    plane: &job.plane,
                    train: job.train,
                    test: job.test,
                    surface: s,
                    settings,
                },
            )?;
        }
    }
    Ok(LandscapeRun {
        surface,
        file,
        record,
    })
}

/// Lowest and highest train loss over the filled points (NaN when none is filled).
fn loss_range(s: &Surface) -> [f64; 2] {
    let filled = s.train_loss.iter().copied().filter(|&v| v >= 0.0);
    let (lo, hi) = filled.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if lo.is_finite() || hi.is_finite() {
        [lo, hi]
    } else {
        [f64::NAN, f64::NAN]
    }
}

/// Joins the shards of one surface (`shard k/n` runs) into `out`.
pub fn merge_surfaces(shards: &[PathBuf], out: &Path) -> Result<Surface> {
    let parts = shards
        .iter()
        .map(|p| Ok((p.clone(), Surface::load(p)?)))
        .collect::<Result<Vec<_>>>()?;
    let merged = Surface::merge(&parts)?;
    merged.save(out)?;
    Ok(merged)
}

/// The figures of a complete surface: `<command>_1d.png` for a line; for a plane
/// `<command>_contour.png`, `_heatmap.png`, `_3d.png` and `<command>.vtp` for ParaView.
pub fn draw(
    out: &Path,
    command: &str,
    s: &Surface,
    style: &PlotStyle,
    extras: &Extras,
) -> Result<()> {
    if s.ys.is_empty() {
        let series = |name: &str, v: &[f64]| Series1d {
            label: name.to_string(),
            values: v.to_vec(),
        };
        genviz_render::draw_curve_1d(
            &out.join(format!("{command}_1d.png")),
            command,
            &s.xs,
            &[
                series("train loss", &s.train_loss),
                series("test loss", &s.test_loss),
            ],
            &[
                series("train accuracy", &s.train_acc),
                series("test accuracy", &s.test_acc),
            ],
            style.log,
        )?;
        return Ok(());
    }
    let grid = |values: &[f64], label: &str| {
        surface_grid(s, values, &format!("{command}: {label}"), label)
    };
    let contours = ContourStyle {
        vmin: style.vmin,
        vmax: style.vmax,
        vlevel: style.vlevel,
        log: style.log,
    };
    genviz_render::draw_contour(
        &out.join(format!("{command}_contour.png")),
        &[(
            grid(&s.train_loss, "train loss"),
            contours,
            extras.overlays.clone(),
            extras.markers.clone(),
        )],
    )?;
    genviz_render::draw_heatmap(
        &out.join(format!("{command}_heatmap.png")),
        &[
            (grid(&s.train_loss, "train loss"), contours),
            (
                grid(&s.test_acc, "test accuracy"),
                ContourStyle {
                    vmin: 0.0,
                    vmax: 1.0,
                    vlevel: 0.1,
                    log: false,
                },
            ),
        ],
    )?;
    genviz_render::draw_surface_3d(
        &out.join(format!("{command}_3d.png")),
        &[genviz_render::height_panel(
            grid(&s.train_loss, "train loss"),
            style.zmax,
            style.log,
        )],
    )?;
    write_vtp(
        &out.join(format!("{command}.vtp")),
        s,
        &s.train_loss,
        VtpOptions {
            zmax: Some(style.zmax),
            log: style.log,
        },
    )?;
    Ok(())
}

/// One of a surface's arrays as a grid to draw.
pub fn surface_grid(s: &Surface, values: &[f64], title: &str, label: &str) -> SurfaceGrid {
    SurfaceGrid {
        xs: s.xs.clone(),
        ys: s.ys.clone(),
        values: values.to_vec(),
        title: title.to_string(),
        value_label: label.to_string(),
    }
}

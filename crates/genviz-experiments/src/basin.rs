//! Basin radii along random rays from a minimum, and the log-volume they imply (Fig 5):
//! `genviz basin`, resumable ray by ray, split over shards or MPI ranks.

use crate::model::{self, DataSource};
use crate::progress::Progress;
use crate::ranks::Ranks;
use crate::record::{DataRecord, Job, RunRecord};
use anyhow::{bail, Context, Result};
use genviz_core::io::{write_npz, NpyArray, Npz};
use genviz_core::{Dataset, Fingerprint, Network, Params};
use genviz_landscape::basin::{cast_many, center, volume, Basin, Ray, RayConfig, Volume};
use genviz_landscape::Shard;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Bootstrap resamples for the volume interval.
pub const BOOTSTRAP: usize = 1000;

/// Basin radii of one model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasinConfig {
    /// A run folder or a `.safetensors` file.
    pub model: PathBuf,
    /// The rays: how many, the loss threshold, how radii are found, their seed and
    /// normalisation.
    pub rays: RayConfig,
    /// The data whose training loss bounds the basin.
    pub data: DataSource,
    /// Cast only slice k of n of the rays into `basin.shard-k-of-n.npz` (`None`: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
}

impl BasinConfig {
    /// Refuses settings that cannot run, or rays that would not fit in memory or on the disk
    /// of `dir`, before anything is read or written.
    pub fn check(&self, dir: &Path) -> Result<()> {
        self.rays.validate()?;
        // Per ray: two radii, two flags and a norm, held in the state, its encoding and a copy.
        let what = format!("{} rays", self.rays.rays);
        genviz_core::limits::check_memory(&what, (self.rays.rays as u64).saturating_mul(3 * 48))?;
        genviz_core::limits::check_disk(
            &what,
            (self.rays.rays as u64).saturating_mul(2 * 48),
            dir,
        )?;
        Ok(())
    }
}

/// A minimum's basin: radii and volume.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BasinResult {
    /// The radii.
    pub basin: Basin,
    /// log10 volume with interval.
    pub volume: Volume,
}

/// What a basin run found: `results` of its `run.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BasinSummary {
    /// Rays cast (each gives two radii).
    pub rays: usize,
    /// Median radius.
    pub median_radius: f64,
    /// Radii that reached the largest distance searched without crossing.
    pub censored: usize,
    /// Training loss at the minimum.
    pub center_loss: f64,
    /// Number of parameters the rays move.
    pub dimension: usize,
    /// log10 of the basin's volume.
    pub log10_volume: f64,
    /// Its 95% bootstrap interval.
    pub log10_volume_interval: [f64; 2],
}

impl BasinResult {
    /// The numbers `run.json` and the paper's results keep.
    pub fn summary(&self) -> BasinSummary {
        BasinSummary {
            rays: self.basin.direction_norms.len(),
            median_radius: self.basin.median(),
            censored: self.basin.censored.iter().filter(|&&c| c).count(),
            center_loss: self.basin.center_loss,
            dimension: self.basin.dimension,
            log10_volume: self.volume.log10_volume,
            log10_volume_interval: [self.volume.low, self.volume.high],
        }
    }
}

/// A basin run: the basin once complete (`None` for a shard, or on MPI's non-root ranks).
pub struct BasinRun {
    /// Radii and volume.
    pub result: Option<BasinResult>,
    /// The file written: `basin.npz`, or this shard's `basin.shard-k-of-n.npz`.
    pub file: PathBuf,
    /// The rays this process cast, `start..end`.
    pub rays: std::ops::Range<usize>,
    /// What `run.json` says.
    pub record: RunRecord,
}

/// Runs [`BasinConfig`] into `dir`: `basin.npz` and `basin_radii.png`, or for a shard its
/// `basin.shard-k-of-n.npz`, and `run.json`. Rays are saved as they complete, so rerunning
/// after a kill casts only the missing ones. Under `mpirun` each rank casts its slice and
/// rank 0 joins them.
pub fn run(config: &BasinConfig, dir: &Path, progress: &dyn Progress) -> Result<BasinRun> {
    config.check(dir)?;
    let m = model::load(&config.model)?;
    let (train, test) = config.data.load(&m)?;
    let ranks = Ranks::start()?;
    let shard = ranks.shard(config.shard)?;
    crate::run_dir::create(dir)?;
    let start = Instant::now();
    let rays = &config.rays;
    let range = shard.range(rays.rays);
    let data = DataRecord::of(config.data.describe(&m), &train, &test);
    let record = |result: &Option<BasinResult>, seconds: f64| -> Result<RunRecord> {
        let summary = result.as_ref().map(BasinResult::summary);
        let mut r = RunRecord::new(Job::Basin(config.clone()), Some(rays.seed), &summary)?
            .with_data(data.clone())
            .with_timings([("total_s", seconds)]);
        r.ranks = ranks.size();
        Ok(r)
    };
    if shard != Shard::ALL && ranks.size() == 1 {
        let file = dir.join(format!(
            "basin.shard-{}-of-{}.npz",
            shard.index, shard.count
        ));
        cast_resumable(&m.net, &m.params, &train, rays, shard, &file, progress)?;
        let record = record(&None, start.elapsed().as_secs_f64())?;
        record.write(dir)?;
        return Ok(BasinRun {
            result: None,
            file,
            rays: range,
            record,
        });
    }
    let state_path = if ranks.size() > 1 {
        dir.join(format!("basin.rank-{}-of-{}.npz", shard.index, shard.count))
    } else {
        dir.join("basin.state.npz")
    };
    let state = cast_resumable(
        &m.net,
        &m.params,
        &train,
        rays,
        shard,
        &state_path,
        progress,
    )?;
    let gathered = gather_rays(&ranks, state)?;
    let Some(state) = gathered else {
        remove(&state_path)?;
        return Ok(BasinRun {
            result: None,
            file: state_path,
            rays: range,
            record: record(&None, start.elapsed().as_secs_f64())?,
        });
    };
    let file = dir.join("basin.npz");
    let result = finish(&state, &file)?;
    remove(&state_path)?;
    genviz_render::draw_radius_histograms(
        &dir.join("basin_radii.png"),
        "basin radii along random filter-normalised rays",
        &[genviz_render::RadiusGroup {
            label: "model".into(),
            radii: result.basin.radii.clone(),
        }],
        "radius (filter-normalised units)",
    )?;
    let result = Some(result);
    let record = record(&result, start.elapsed().as_secs_f64())?;
    record.write(dir)?;
    Ok(BasinRun {
        result,
        file,
        rays: range,
        record,
    })
}

/// Joins every rank's rays on rank 0; `None` on the other ranks. A single process gets its
/// state back.
fn gather_rays(ranks: &Ranks, state: RayState) -> Result<Option<RayState>> {
    if ranks.size() == 1 {
        return Ok(Some(state));
    }
    // Five numbers a ray (two radii, two censoring flags, the norm); NaN norm: not cast here.
    let mine: Vec<f64> = state
        .rays
        .iter()
        .flat_map(|r| match r {
            Some(r) => [
                r.radii[0],
                r.radii[1],
                f64::from(u8::from(r.censored[0])),
                f64::from(u8::from(r.censored[1])),
                r.norm,
            ],
            None => [f64::NAN; 5],
        })
        .collect();
    let Some(all) = ranks.gather(mine) else {
        return Ok(None);
    };
    let mut joined = state;
    for part in &all {
        for (k, v) in part.chunks(5).enumerate() {
            if v[4].is_finite() && joined.rays[k].is_none() {
                joined.rays[k] = Some(Ray {
                    radii: [v[0], v[1]],
                    censored: [v[2] == 1.0, v[3] == 1.0],
                    norm: v[4],
                });
            }
        }
    }
    Ok(Some(joined))
}

/// Removes a state file whose rays are saved elsewhere now.
fn remove(path: &Path) -> Result<()> {
    if path.exists() {
        std::fs::remove_file(path).with_context(|| format!("removing {}", path.display()))?;
    }
    Ok(())
}

/// The basin of a complete ray state, written to `file` as `basin.npz`.
fn finish(state: &RayState, file: &Path) -> Result<BasinResult> {
    let basin = state.basin()?;
    let volume = volume(&basin.euclidean(), basin.dimension, BOOTSTRAP, state.seed);
    write_basin(file, &basin, &volume, state.seed, state.threshold)?;
    Ok(BasinResult { basin, volume })
}

/// Measures the basin of `theta` and writes `basin.npz` into `dir` (no record: the paper
/// keeps it beside the run it measures). Rays are saved to `basin.state.npz` as they complete,
/// so rerunning after a kill casts only the missing ones; the state file is removed once
/// `basin.npz` is written.
pub fn measure(
    net: &dyn Network,
    theta: &Params,
    train: &Dataset,
    config: &RayConfig,
    dir: &Path,
    progress: &dyn Progress,
) -> Result<BasinResult> {
    let state_path = dir.join("basin.state.npz");
    let state = cast_resumable(net, theta, train, config, Shard::ALL, &state_path, progress)?;
    let result = finish(&state, &dir.join("basin.npz"))?;
    remove(&state_path)?;
    Ok(result)
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
    write_npz(
        path,
        &[
            ("radii", NpyArray::f64s(basin.radii.clone())),
            ("radii_euclidean", NpyArray::f64s(basin.euclidean())),
            (
                "censored",
                NpyArray::i64s(basin.censored.iter().map(|&c| i64::from(c)).collect()),
            ),
            (
                "direction_norms",
                NpyArray::f64s(basin.direction_norms.clone()),
            ),
            ("directions_seed", NpyArray::i64s(vec![seed as i64])),
            ("threshold", NpyArray::f64s(vec![threshold])),
            (
                "log10_volume",
                NpyArray::f64s(vec![volume.log10_volume, volume.low, volume.high]),
            ),
            ("center_loss", NpyArray::f64s(vec![basin.center_loss])),
            ("dimension", NpyArray::i64s(vec![basin.dimension as i64])),
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
                ("radii", NpyArray::f64s(radii)),
                ("censored", NpyArray::i64s(censored)),
                ("direction_norms", NpyArray::f64s(norms)),
                ("center_loss", NpyArray::f64s(vec![self.center_loss])),
                ("dimension", NpyArray::i64s(vec![self.dimension as i64])),
                ("fingerprint", NpyArray::i64s(vec![self.fingerprint])),
                ("directions_seed", NpyArray::i64s(vec![self.seed as i64])),
                ("threshold", NpyArray::f64s(vec![self.threshold])),
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
/// known to belong to the same computation.
fn ray_fingerprint(theta: &Params, data: &Dataset, config: &RayConfig) -> i64 {
    Fingerprint::new()
        .f32s(theta.values())
        .dataset(data)
        .text(&serde_json::to_string(config).unwrap_or_default())
        .as_i64()
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
    progress: &dyn Progress,
) -> Result<RayState> {
    config.validate()?;
    let fingerprint = ray_fingerprint(theta, train, config);
    let (center_loss, dimension) = center(net, theta, train, config);
    let mut state = if path.exists() {
        let saved = RayState::load(path)?;
        if saved.fingerprint != fingerprint || saved.rays.len() != config.rays {
            bail!(
                "{}: holds rays of another model, data or ray configuration; choose another folder",
                path.display()
            );
        }
        progress.note(&format!(
            "resuming {}: {} of {} rays already cast",
            path.display(),
            saved.rays.iter().flatten().count(),
            saved.rays.len()
        ));
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
    let stage = progress.stage("basin", todo.len() as u64, "rays");
    let mut cast = 0u64;
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
            cast += done.len() as u64;
            stage.update(cast, None);
            state
                .save(path)
                .map_err(|e| genviz_core::Error::invalid(e.to_string()))
        },
    )?;
    stage.finish(&format!("{} rays", todo.len()));
    Ok(state)
}

/// Joins ray shards (`basin` runs with a shard) into `out` as one `basin.npz`.
pub fn merge_rays(shards: &[PathBuf], out: &Path) -> Result<BasinResult> {
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
    finish(&state, out)
}

/// Whether `path` holds basin rays (a shard or a state) rather than a surface grid.
pub fn is_ray_file(path: &Path) -> Result<bool> {
    Ok(Npz::open(path)?
        .names()?
        .iter()
        .any(|n| n == "direction_norms"))
}

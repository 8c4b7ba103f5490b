//! Curvature of a minimum (`genviz hessian`): top eigenvalues, trace, the spectral density
//! (PyHessian), and Li et al.'s map of `|lambda_min / lambda_max|` over a random plane.
//!
//! Every stage is saved with the random generator's position as it completes, so a killed run
//! resumes where it stopped and gives the bits of an uninterrupted one. The ratio map is a grid
//! of independent points: a shard or an MPI rank computes its slice, and rank 0 joins them.

use crate::model::DataSource;
use crate::progress::Progress;
use crate::ranks::Ranks;
use crate::record::{DataRecord, Job, RunRecord};
use anyhow::{bail, Context, Result};
use genviz_core::io::{write_npz, NpyArray, Npz};
use genviz_core::{rng, Dataset, Fingerprint, Params};
use genviz_landscape::direction::random_direction;
use genviz_landscape::hessian::{self, Hessian};
use genviz_landscape::{Axis, BiasPolicy, Normalization, Spacing};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The curvature to measure at one model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HessianConfig {
    /// A run folder or a `.safetensors` file.
    pub model: PathBuf,
    /// Number of top eigenvalues.
    pub top_k: usize,
    /// Lanczos steps of the spectral density (0: no density).
    pub lanczos: usize,
    /// Lanczos runs averaged in the density.
    pub runs: usize,
    /// Use the filter-normalised Hessian `D H D` of the authors' code.
    pub filter_normalised: bool,
    /// Points per side of the eigenvalue-ratio map over random directions (0: no map).
    pub ratio_map: usize,
    /// Extent of the ratio map's coordinates.
    pub ratio_extent: f64,
    /// Seed of the random vectors and the map's directions.
    pub seed: u64,
    /// The data whose training loss is differentiated.
    pub data: DataSource,
}

/// Bias scale of the filter-normalised Hessian (gen-viz's swiss-roll value, SPEC 1.7).
const FILTER_BIAS_SCALE: f64 = 1e-6;

impl HessianConfig {
    /// Refuses settings that ask for nothing, before anything is read or written.
    pub fn check(&self) -> Result<()> {
        if self.top_k == 0 && self.lanczos == 0 && self.ratio_map == 0 {
            bail!("nothing to compute: ask for top eigenvalues, Lanczos steps or a ratio map");
        }
        if !(self.ratio_extent.is_finite() && self.ratio_extent > 0.0) {
            bail!(
                "ratio extent {}: expected a positive number",
                self.ratio_extent
            );
        }
        Ok(())
    }

    /// Refuses a computation whose vectors would not fit in memory, for a model of `n`
    /// parameters: eigenvectors, the Lanczos basis and working vectors are f64 vectors of the
    /// parameter count; the ratio map holds two numbers per point.
    fn check_memory(&self, n: u64) -> Result<()> {
        let vectors = (self.top_k as u64)
            .min(n)
            .saturating_add((self.lanczos as u64).min(n))
            .saturating_add(8);
        let points = (self.ratio_map as u64).saturating_pow(2);
        genviz_core::limits::check_memory(
            &format!(
                "a Hessian with {} eigenvectors, {} Lanczos steps and a {} x {} ratio map",
                self.top_k, self.lanczos, self.ratio_map, self.ratio_map
            ),
            vectors
                .saturating_mul(n)
                .saturating_mul(8)
                .saturating_add(points.saturating_mul(64)),
        )?;
        Ok(())
    }

    /// Points per side of the ratio map (at least 2 when there is one).
    fn side(&self) -> usize {
        if self.ratio_map > 0 {
            self.ratio_map.max(2)
        } else {
            0
        }
    }

    /// A fingerprint of what is computed: model, data and the options that change the numbers.
    fn fingerprint(&self, theta: &Params, data: &Dataset) -> i64 {
        Fingerprint::new()
            .f32s(theta.values())
            .dataset(data)
            // The ratio map's method: a state saved by the power iterations it replaced
            // does not resume.
            .text(&format!(
                "{} {} {} {} {} {} {} lanczos-ratio",
                self.top_k,
                self.lanczos,
                self.runs,
                self.filter_normalised,
                self.ratio_map,
                self.ratio_extent,
                self.seed
            ))
            .as_i64()
    }
}

/// What a Hessian run found: `results` of its `run.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HessianResults {
    /// The weights file.
    pub model: String,
    /// Whether the operator was `D H D`.
    pub filter_normalised: bool,
    /// Top eigenvalues, largest magnitude first.
    pub eigenvalues: Vec<f64>,
    /// Hutchinson's estimate of the trace.
    pub trace: f64,
    /// Mean of `|lambda_min / lambda_max|` over the ratio map, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio_mean: Option<f64>,
}

/// A finished Hessian run.
pub struct HessianRun {
    /// The numbers (`None` on MPI's non-root ranks).
    pub results: Option<HessianResults>,
    /// What `run.json` says.
    pub record: RunRecord,
}

impl HessianRun {
    /// What a non-root MPI rank returns once its share is done: the record of the job, no
    /// results (rank 0 gathers them and writes the files).
    fn off_root(config: &HessianConfig) -> Result<Self> {
        Ok(HessianRun {
            results: None,
            record: RunRecord::new(
                Job::Hessian(config.clone()),
                Some(config.seed),
                &None::<HessianResults>,
            )?,
        })
    }
}

/// Runs [`HessianConfig`] into `dir`: `hessian.npz` (eigenvalues, trace, and where asked
/// the density on its grid, the Lanczos nodes and weights, the ratio map with its
/// coordinates), `hessian_density.png`, `hessian_ratio_map.png` and `run.json`. Rerunning
/// into the same folder after a kill resumes from `hessian.state.npz` (removed once
/// `hessian.npz` is written). Under `mpirun` the ratio map's points split over the ranks.
pub fn run(config: &HessianConfig, dir: &Path, progress: &dyn Progress) -> Result<HessianRun> {
    config.check()?;
    let (m, train, test) = config.data.open(&config.model, progress)?;
    let n = m.params.values().len();
    config.check_memory(n as u64)?;
    let ranks = Ranks::start()?;
    let shard = ranks.shard(None)?;
    let side = config.side();
    if side == 0 && !ranks.is_root() {
        // Only a ratio map splits over ranks; rank 0 computes the rest alone.
        return HessianRun::off_root(config);
    }
    crate::run_dir::create(dir)?;
    let start = Instant::now();
    let state_path = if ranks.size() > 1 {
        dir.join(format!(
            "hessian.rank-{}-of-{}.npz",
            shard.index, shard.count
        ))
    } else {
        dir.join("hessian.state.npz")
    };
    let fingerprint = config.fingerprint(&m.params, &train);
    let mut state = if state_path.exists() {
        let saved = HessianState::load(&state_path)?;
        if saved.fingerprint != fingerprint
            || saved.ratios.len() != side * side
            || saved.eigen.iter().any(|e| e.vector.len() != n)
        {
            bail!(
                "{}: holds another model's, data's or options' Hessian; choose another folder",
                state_path.display()
            );
        }
        progress.note(&format!("resuming {}", state_path.display()));
        saved
    } else {
        HessianState::new(fingerprint, side * side)
    };
    let mut ratio_arrays = Vec::new();

    // The ratio map first: under MPI every rank computes its slice of it.
    let mut ratio_mean = None;
    if side > 0 {
        let coords = Axis {
            min: -config.ratio_extent,
            max: config.ratio_extent,
            num: side,
        }
        .coords(Spacing::Linear);
        let direction = |stream: &str| {
            random_direction(
                &m.params,
                Normalization::Filter,
                BiasPolicy::Ignore,
                &mut rng::stream(config.seed, stream),
            )
        };
        let (dx, dy) = (direction("direction-x"), direction("direction-y"));
        let plane = genviz_core::Affine {
            center: m.params.values(),
            x: dx.values(),
            y: Some(dy.values()),
        };
        let points: Vec<(f64, f64)> = coords
            .iter()
            .flat_map(|&b| coords.iter().map(move |&a| (a, b)))
            .collect();
        let todo: Vec<usize> = shard
            .range(points.len())
            .filter(|&i| state.ratios[i].0.is_nan())
            .collect();
        let stage = progress.stage("ratio map", todo.len() as u64, "points");
        use rayon::prelude::*;
        // Each point has its own random sub-stream, so chunks may be saved and resumed freely.
        let mut done = 0u64;
        for chunk in todo.chunks(rayon::current_num_threads().max(1)) {
            let values: Vec<(usize, (f64, f64))> = chunk
                .par_iter()
                .map(|&i| {
                    let r =
                        hessian::ratio_at(&m.net, &train, plane, points[i], config.seed, i as u64);
                    (i, r)
                })
                .collect();
            for (i, ratio) in values {
                state.ratios[i] = ratio;
            }
            state.save(&state_path, n)?;
            done += chunk.len() as u64;
            stage.update(done, None);
        }
        stage.finish(&format!("{} points", todo.len()));
        let mine: Vec<f64> = state.ratios.iter().flat_map(|r| [r.0, r.1]).collect();
        let Some(all) = ranks.gather(mine) else {
            // Rank 0 holds this rank's points now.
            std::fs::remove_file(&state_path)
                .with_context(|| format!("removing {}", state_path.display()))?;
            return HessianRun::off_root(config);
        };
        for part in &all {
            for (i, pair) in part.chunks(2).enumerate() {
                if state.ratios[i].0.is_nan() && !pair[0].is_nan() {
                    state.ratios[i] = (pair[0], pair[1]);
                }
            }
        }
        let ratios = &state.ratios;
        let ratio: Vec<f64> = ratios.iter().map(|(lo, hi)| (lo / hi).abs()).collect();
        ratio_mean = Some(ratio.iter().sum::<f64>() / ratio.len() as f64);
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
        ratio_arrays.push(("xcoordinates", NpyArray::F64(coords.clone(), vec![side])));
        ratio_arrays.push(("ycoordinates", NpyArray::F64(coords, vec![side])));
        ratio_arrays.push(("eig_ratio", NpyArray::F64(ratio, vec![side, side])));
        ratio_arrays.push((
            "min_eig",
            NpyArray::F64(ratios.iter().map(|r| r.0).collect(), vec![side, side]),
        ));
        ratio_arrays.push((
            "max_eig",
            NpyArray::F64(ratios.iter().map(|r| r.1).collect(), vec![side, side]),
        ));
    }

    // Eigenvalues, trace and density: one sequence of random draws, on rank 0.
    let mut h = Hessian::new(&m.net, m.params.values(), &train);
    if config.filter_normalised {
        h = h.filter_normalised(&m.params, FILTER_BIAS_SCALE);
    }
    let op = |v: &[f64]| h.apply(v);
    let mut r = rng::stream(config.seed, "hessian");
    if let Some(pos) = state.rng_pos {
        r.set_word_pos(pos);
    }
    let found = std::mem::take(&mut state.eigen);
    let stage = progress.stage("eigenvalues", config.top_k as u64, "eigenvalues");
    let eig = {
        let mut save = |found: &[hessian::Eigen], rng: &rng::Rng| -> genviz_core::Result<()> {
            state.eigen = found.to_vec();
            state.rng_pos = Some(rng.get_word_pos());
            stage.update(found.len() as u64, None);
            state
                .save(&state_path, n)
                .map_err(|e| genviz_core::Error::invalid(e.to_string()))
        };
        hessian::top_eigen_from(
            &op,
            n,
            config.top_k,
            hessian::TOLERANCE,
            hessian::MAX_ITER,
            &mut r,
            found,
            &mut save,
        )?
    };
    stage.finish(&format!("{} eigenvalues", eig.len()));
    state.eigen = eig.clone();
    let eigenvalues: Vec<f64> = eig.iter().map(|e| e.value).collect();
    let trace = match state.trace {
        Some(t) => t,
        None => {
            let stage = progress.stage("trace", 1, "estimates");
            let t = hessian::trace(&op, n, hessian::TOLERANCE, hessian::MAX_ITER, &mut r);
            state.trace = Some(t);
            state.rng_pos = Some(r.get_word_pos());
            state.save(&state_path, n)?;
            stage.finish(&format!("{t:.4e}"));
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
    if config.lanczos > 0 {
        let runs = config.runs.max(1);
        let stage = progress.stage("Lanczos", runs as u64, "runs");
        while state.quadratures.len() < runs {
            let q = hessian::lanczos_run(&op, n, config.lanczos, &mut r);
            state.quadratures.push(q);
            state.rng_pos = Some(r.get_word_pos());
            state.save(&state_path, n)?;
            stage.update(state.quadratures.len() as u64, None);
        }
        stage.finish(&format!("{runs} runs"));
        let q = &state.quadratures;
        let grid = hessian::density_grid(q);
        let density = hessian::smoothed_density(q, &grid);
        genviz_render::draw_spectral_density(
            &dir.join("hessian_density.png"),
            "Hessian spectral density",
            &grid,
            &[("density".to_string(), density.clone())],
            true,
        )?;
        let nodes: Vec<f64> = q.iter().flat_map(|x| x.nodes.iter().copied()).collect();
        let k = nodes.len();
        let bins = grid.len();
        arrays.push(("density_grid", NpyArray::F64(grid, vec![bins])));
        arrays.push(("density", NpyArray::F64(density, vec![bins])));
        arrays.push(("lanczos_nodes", NpyArray::F64(nodes, vec![k])));
        arrays.push((
            "lanczos_weights",
            NpyArray::F64(
                q.iter().flat_map(|x| x.weights.iter().copied()).collect(),
                vec![k],
            ),
        ));
    }
    arrays.extend(ratio_arrays);
    write_npz(&dir.join("hessian.npz"), &arrays)?;
    let results = HessianResults {
        model: m.weights.display().to_string(),
        filter_normalised: config.filter_normalised,
        eigenvalues,
        trace,
        ratio_mean,
    };
    let mut record = RunRecord::new(Job::Hessian(config.clone()), Some(config.seed), &results)?
        .with_data(DataRecord::of(config.data.describe(&m), &train, &test))
        .with_timings([("total_s", start.elapsed().as_secs_f64())]);
    record.ranks = ranks.size();
    record.write(dir)?;
    if state_path.exists() {
        std::fs::remove_file(&state_path)
            .with_context(|| format!("removing {}", state_path.display()))?;
    }
    crate::pages::write_page(dir)?;
    Ok(HessianRun {
        results: Some(results),
        record,
    })
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
        let quadrature = |f: fn(&hessian::Quadrature) -> &[f64]| {
            NpyArray::f64_rows(self.quadratures.iter().map(f), k)
        };
        let arrays = vec![
            ("fingerprint", NpyArray::i64s(vec![self.fingerprint])),
            (
                "rng_pos",
                NpyArray::i64s(vec![
                    i64::from(self.rng_pos.is_some()),
                    (pos >> 64) as u64 as i64,
                    pos as u64 as i64,
                ]),
            ),
            (
                "eig_values",
                NpyArray::f64s(self.eigen.iter().map(|e| e.value).collect()),
            ),
            (
                "eig_vectors",
                NpyArray::f64_rows(self.eigen.iter().map(|e| e.vector.as_slice()), n),
            ),
            ("trace", NpyArray::f64s(self.trace.into_iter().collect())),
            ("lanczos_nodes", quadrature(|q| &q.nodes)),
            ("lanczos_weights", quadrature(|q| &q.weights)),
            (
                "ratio_min",
                NpyArray::f64s(self.ratios.iter().map(|r| r.0).collect()),
            ),
            (
                "ratio_max",
                NpyArray::f64s(self.ratios.iter().map(|r| r.1).collect()),
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

//! `genviz surface`, `interpolate`, `plane`, `trajectory` and `merge`: loss landscapes.

use crate::model::{self, LoadedModel};
use crate::ranks::Ranks;
use crate::{progress, run_dir};
use anyhow::{bail, Context, Result};
use clap::Args;
use genviz_core::io::{read_safetensors, write_npz, NpyArray};
use genviz_core::{rng, Dataset, Layout, Params};
use genviz_landscape::direction::{difference, orthogonalize, random_direction};
use genviz_landscape::vtp::{write_vtp, VtpOptions};
use genviz_landscape::{cosine, Axis, BiasPolicy, Normalization, Plane, Shard, Spacing, Surface};
use genviz_render::{ContourStyle, Marker, PathOverlay, Series1d, SurfaceGrid};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Options every landscape command shares: data, output, slicing and plotting.
#[derive(Args, Clone)]
pub struct Common {
    /// Data: a data.npz, csv:PATH, npz:PATH or a built-in data set. Default: the run folder's data.npz.
    #[arg(long)]
    data: Option<String>,
    /// Seed of a built-in data set.
    #[arg(long, default_value_t = crate::presets::SWISS_ROLL_SEED)]
    seed: u64,
    /// Evaluate only slice k of n of the grid (1-based, e.g. 2/4); join slices with `genviz merge`.
    #[arg(long)]
    shard: Option<Shard>,
    /// Evaluate on this many training examples (a seeded random subset, the same at every
    /// point) instead of all: a surface point of a conv net on 60,000 images takes minutes on
    /// a CPU. Default: all.
    #[arg(long)]
    eval_train: Option<usize>,
    /// Evaluate on this many test examples (a seeded random subset). Default: all.
    #[arg(long)]
    eval_test: Option<usize>,
    /// Output folder (default: a new folder under runs/). Rerunning into the same folder
    /// resumes an interrupted grid.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Seconds between saves of the partly filled grid (what a killed run resumes from);
    /// 0 saves after every batch of points.
    #[arg(long, default_value_t = 2.0)]
    save_every: f64,
    /// Lowest contour level (Li et al.: 0.1).
    #[arg(long, default_value_t = 0.1)]
    vmin: f64,
    /// Highest contour level (Li et al.: 10).
    #[arg(long, default_value_t = 10.0)]
    vmax: f64,
    /// Spacing of contour levels (Li et al.: 0.5).
    #[arg(long, default_value_t = 0.5)]
    vlevel: f64,
    /// Log-scale contours, colours and 1-D loss axes.
    #[arg(long)]
    log: bool,
    /// Clip heights of the 3-D surface and the ParaView export at this loss.
    #[arg(long, default_value_t = 10.0)]
    zmax: f64,
}

impl Common {
    /// The training and test sets `m` is evaluated on (see [`model::data_for`]), cut to
    /// `--eval-train` / `--eval-test` examples when given.
    fn data(&self, m: &LoadedModel) -> Result<(Dataset, Dataset)> {
        let (train, test) = model::data_for(m, self.data.as_deref(), self.seed)?;
        let cut = |d: Dataset, n: Option<usize>, name: &str| -> Result<Dataset> {
            match n {
                None => Ok(d),
                Some(0) => bail!("--eval-{name} is 0, expected at least one example"),
                Some(n) if n >= d.len() => Ok(d),
                Some(n) => {
                    let mut order: Vec<usize> = (0..d.len()).collect();
                    use rand::seq::SliceRandom as _;
                    order.shuffle(&mut rng::stream(self.seed, &format!("eval-{name}")));
                    order.truncate(n);
                    order.sort_unstable();
                    Ok(d.select(&order))
                }
            }
        };
        Ok((
            cut(train, self.eval_train, "train")?,
            cut(test, self.eval_test, "test")?,
        ))
    }

    /// Writing into `out`, evaluating on `data` (seeded by `seed`), with log-scaled contours
    /// from 1e-3 to 10 in quarter decades: curves and planes between good minima live at
    /// losses far below Li et al.'s linear levels (0.1 to 10).
    pub(crate) fn into_folder(data: Option<String>, seed: u64, out: PathBuf) -> Self {
        Common {
            data,
            seed,
            eval_train: None,
            eval_test: None,
            shard: None,
            out: Some(out),
            save_every: 2.0,
            vmin: 1e-3,
            vmax: 10.0,
            vlevel: 0.25,
            log: true,
            zmax: 10.0,
        }
    }
}

/// The flags of `genviz surface` (its help is on the subcommand in main.rs).
#[derive(Args)]
pub struct SurfaceArgs {
    /// A run folder or a .safetensors file.
    model: PathBuf,
    /// x coordinates, min:max:num.
    #[arg(long, default_value = "-1:1:51", allow_hyphen_values = true)]
    x: Axis,
    /// y coordinates, min:max:num (2-D surface).
    #[arg(long, allow_hyphen_values = true)]
    y: Option<Axis>,
    /// Spacing of coordinates: linear, pow5 or pow2 (dense near the model).
    #[arg(long, default_value = "linear")]
    spacing: Spacing,
    /// Direction normalisation: filter, layer, weight, dfilter, dlayer or none.
    #[arg(long, default_value = "filter")]
    norm: Normalization,
    /// Biases in random directions: ignore (zero, Li's --xignore biasbn) or copy-theta (Li's default).
    #[arg(long, default_value = "ignore", value_parser = parse_bias)]
    bias: BiasPolicy,
    /// Use the x direction for y too.
    #[arg(long)]
    same_dir: bool,
    /// Make y orthogonal to x.
    #[arg(long)]
    orthogonal: bool,
    /// Directions from a file (safetensors or npz with tensors x.<name> and y.<name>).
    #[arg(long)]
    directions: Option<PathBuf>,
    /// x direction = MODEL2 - MODEL.
    #[arg(long)]
    model2: Option<PathBuf>,
    /// y direction = MODEL3 - MODEL.
    #[arg(long)]
    model3: Option<PathBuf>,
    /// Seed of the random directions.
    #[arg(long, default_value_t = 0)]
    direction_seed: u64,
    #[command(flatten)]
    common: Common,
}

fn parse_bias(s: &str) -> Result<BiasPolicy, String> {
    match s {
        "ignore" | "biasbn" => Ok(BiasPolicy::Ignore),
        "copy-theta" | "copy" => Ok(BiasPolicy::CopyTheta),
        other => Err(format!("`{other}`: expected ignore or copy-theta")),
    }
}

/// Loss along the straight line between two models (Goodfellow et al.): 0 is MODEL1, 1 is MODEL2.
#[derive(Args)]
pub struct InterpolateArgs {
    /// The first model (a run folder or .safetensors).
    model1: PathBuf,
    /// The second model.
    model2: PathBuf,
    /// Coefficients, min:max:num (Li et al.: -0.5:1.5:401).
    #[arg(long, default_value = "-0.5:1.5:401", allow_hyphen_values = true)]
    x: Axis,
    #[command(flatten)]
    common: Common,
}

/// Loss over the plane through three models (Garipov et al.): u along MODEL2 - MODEL0, v the
/// part of MODEL1 - MODEL0 orthogonal to it, both in units of those distances.
#[derive(Args)]
pub struct PlaneArgs {
    /// The origin model.
    model0: PathBuf,
    /// The bend (e.g. a curve's middle point).
    model1: PathBuf,
    /// The far end.
    model2: PathBuf,
    /// Points per side (Garipov et al.: 21).
    #[arg(long, default_value_t = 21)]
    grid: usize,
    /// Margin around the models, in units of the distances (Garipov et al.: 0.2).
    #[arg(long, default_value_t = 0.2)]
    margin: f64,
    #[command(flatten)]
    common: Common,
}

/// PCA of a run's training trajectory, and the loss surface in that plane with the path on it.
#[derive(Args)]
pub struct TrajectoryArgs {
    /// A run folder (with trajectory.npz and model.safetensors).
    run: PathBuf,
    /// x coordinates (default: the path's extent plus a margin).
    #[arg(long, allow_hyphen_values = true)]
    x: Option<Axis>,
    /// y coordinates (default: the path's extent plus a margin).
    #[arg(long, allow_hyphen_values = true)]
    y: Option<Axis>,
    /// Points per side of the default grid.
    #[arg(long, default_value_t = 41)]
    num: usize,
    #[command(flatten)]
    common: Common,
}

/// Join shards of one surface or one set of basin rays (`--shard k/n` runs) into one file.
#[derive(Args)]
pub struct MergeArgs {
    /// The shard files (all surface shards, or all basin shards).
    #[arg(required = true)]
    shards: Vec<PathBuf>,
    /// The merged file (default: surface.npz, or basin.npz for basin shards).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Memory per grid point while a surface is filled and saved: its four f64 arrays, the copy
/// `write_npz` makes of them, and the encoded file held before it is written.
const GRID_MEMORY_PER_POINT: u64 = 3 * 4 * 8;

/// Disk per grid point: `surface.npz` (four f64 arrays) and its temporary twin while it is
/// replaced, plus the ParaView export (three coordinates as text, about 60 bytes).
const GRID_DISK_PER_POINT: u64 = 2 * 4 * 8 + 60;

/// Refuses a grid of `nx` x `ny` points (ny 0 for 1-D) that would not fit in memory or on the
/// disk of `out`, before its coordinates are even allocated.
pub(crate) fn check_grid(nx: usize, ny: usize, out: Option<&Path>) -> Result<()> {
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
    genviz_core::limits::check_disk(
        &what,
        points.saturating_mul(GRID_DISK_PER_POINT),
        out.unwrap_or(Path::new("runs")),
    )?;
    Ok(())
}

/// What a landscape job draws besides the surface itself.
#[derive(Default)]
pub(crate) struct Extras {
    pub(crate) markers: Vec<Marker>,
    pub(crate) overlays: Vec<PathOverlay>,
    pub(crate) json: serde_json::Value,
}

pub fn surface(args: SurfaceArgs) -> Result<()> {
    check_grid(
        args.x.num,
        args.y.map_or(0, |a| a.num),
        args.common.out.as_deref(),
    )?;
    let m = model::load(&args.model)?;
    let (train, test) = args.common.data(&m)?;
    let from_file = args
        .directions
        .as_deref()
        .map(|p| read_directions(p, &m.params))
        .transpose()?;
    let x = match (&from_file, &args.model2) {
        (Some((x, _)), _) => x.clone(),
        (None, Some(m2)) => difference(&model::load_like(m2, &m)?, &m.params)?,
        (None, None) => random_direction(
            &m.params,
            args.norm,
            args.bias,
            &mut rng::stream(args.direction_seed, "direction-x"),
        ),
    };
    let y = match args.y {
        None => None,
        Some(_) if args.same_dir => Some(x.clone()),
        Some(_) => Some(match (&from_file, &args.model3) {
            (Some((_, Some(y))), _) => y.clone(),
            (Some((_, None)), _) => bail!(
                "{}: has no y.<tensor> direction for --y",
                args.directions.as_ref().unwrap().display()
            ),
            (None, Some(m3)) => difference(&model::load_like(m3, &m)?, &m.params)?,
            (None, None) => random_direction(
                &m.params,
                args.norm,
                args.bias,
                &mut rng::stream(args.direction_seed, "direction-y"),
            ),
        }),
    };
    let y = match (y, args.orthogonal) {
        (Some(mut y), true) => {
            orthogonalize(&mut y, &x);
            Some(y)
        }
        (y, _) => y,
    };
    if let Some(y) = &y {
        eprintln!(
            "cosine similarity of the x and y directions: {:.6}",
            cosine(&x, y)
        );
    }
    let xs = args.x.coords(args.spacing);
    let ys = args.y.map(|a| a.coords(args.spacing)).unwrap_or_default();
    let plane = Plane::new(m.params.clone(), x, y)?;
    let mut extras = Extras {
        markers: vec![Marker {
            x: 0.0,
            y: 0.0,
            label: "model".into(),
        }],
        ..Default::default()
    };
    extras.json = json!({ "norm": format!("{:?}", args.norm), "bias": format!("{:?}", args.bias), "direction_seed": args.direction_seed });
    run_job(
        "surface",
        &m,
        plane,
        xs,
        ys,
        &train,
        &test,
        &args.common,
        extras,
    )
}

pub fn interpolate(args: InterpolateArgs) -> Result<()> {
    check_grid(args.x.num, 0, args.common.out.as_deref())?;
    let m = model::load(&args.model1)?;
    let other = model::load_like(&args.model2, &m)?;
    let (train, test) = args.common.data(&m)?;
    let plane = Plane::new(m.params.clone(), difference(&other, &m.params)?, None)?;
    let extras = Extras {
        markers: vec![
            Marker {
                x: 0.0,
                y: 0.0,
                label: "model 1".into(),
            },
            Marker {
                x: 1.0,
                y: 0.0,
                label: "model 2".into(),
            },
        ],
        ..Default::default()
    };
    run_job(
        "interpolate",
        &m,
        plane,
        args.x.coords(Spacing::Linear),
        Vec::new(),
        &train,
        &test,
        &args.common,
        extras,
    )
}

pub fn plane(args: PlaneArgs) -> Result<()> {
    check_grid(args.grid, args.grid, args.common.out.as_deref())?;
    let m = model::load(&args.model0)?;
    let w1 = model::load_like(&args.model1, &m)?;
    let w2 = model::load_like(&args.model2, &m)?;
    let (train, test) = args.common.data(&m)?;
    let (plane, along) = garipov_plane(&m.params, &w1, &w2).with_context(|| {
        format!(
            "{}, {}, {}",
            args.model0.display(),
            args.model1.display(),
            args.model2.display()
        )
    })?;
    let (dx, dy) = (plane.x.norm(), plane.y.as_ref().map_or(0.0, |y| y.norm()));
    let axis = Axis {
        min: -args.margin,
        max: 1.0 + args.margin,
        num: args.grid,
    };
    axis.validate().context("--grid/--margin")?;
    let coords = axis.coords(Spacing::Linear);
    let extras = Extras {
        markers: vec![
            Marker {
                x: 0.0,
                y: 0.0,
                label: "model 0".into(),
            },
            Marker {
                x: along,
                y: 1.0,
                label: "model 1".into(),
            },
            Marker {
                x: 1.0,
                y: 0.0,
                label: "model 2".into(),
            },
        ],
        json: json!({ "dx": dx, "dy": dy }),
        ..Default::default()
    };
    run_job(
        "plane",
        &m,
        plane,
        coords.clone(),
        coords,
        &train,
        &test,
        &args.common,
        extras,
    )
}

pub fn trajectory(args: TrajectoryArgs) -> Result<()> {
    let m = model::load(&args.run)?;
    let traj_path = args.run.join("trajectory.npz");
    let (values, shape) = genviz_core::io::Npz::open(&traj_path)?.f32("params")?;
    let n = m.params.values().len();
    if shape.len() != 2 || shape[1] != n {
        bail!(
            "{}: `params` has shape {shape:?}, expected [checkpoints, {n}]",
            traj_path.display()
        );
    }
    // Rows theta_i - theta_final with 1-D tensors zeroed (Li's --ignore biasbn).
    let final_theta = m.params.values();
    let mask: Vec<bool> = mask_weights(m.params.layout());
    let rows: Vec<Vec<f32>> = values
        .chunks(n)
        .map(|r| {
            r.iter()
                .zip(final_theta)
                .zip(&mask)
                .map(|((a, b), &keep)| if keep { a - b } else { 0.0 })
                .collect()
        })
        .collect();
    let pca = genviz_landscape::pca::pca(&rows)?;
    let lstsq = genviz_landscape::pca::project_lstsq(&rows, &pca.pc1, &pca.pc2);
    let cos = genviz_landscape::pca::project_cos(&rows, &pca.pc1, &pca.pc2);
    eprintln!(
        "explained variance ratio: {:.4}, {:.4}",
        pca.explained_variance_ratio[0], pca.explained_variance_ratio[1]
    );
    let auto = |k: usize| -> Axis {
        let (lo, hi) = lstsq
            .iter()
            .map(|p| if k == 0 { p.0 } else { p.1 })
            .fold((0f64, 0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let pad = 0.2 * (hi - lo).max(1e-3);
        Axis {
            min: lo - pad,
            max: hi + pad,
            num: args.num.max(2),
        }
    };
    let xa = args.x.unwrap_or_else(|| auto(0));
    let ya = args.y.unwrap_or_else(|| auto(1));
    check_grid(xa.num, ya.num, args.common.out.as_deref())?;
    let (train, test) = args.common.data(&m)?;
    let layout = m.params.layout().clone();
    let plane = Plane::new(
        m.params.clone(),
        Params::from_vec(layout.clone(), pca.pc1.clone())?,
        Some(Params::from_vec(layout, pca.pc2.clone())?),
    )?;
    let out = run_dir::prepare(args.common.out.as_deref(), "trajectory")?;
    let k = lstsq.len();
    write_npz(
        &out.join("pca.npz"),
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
            (
                "proj_xcoord",
                NpyArray::F64(lstsq.iter().map(|p| p.0).collect(), vec![k]),
            ),
            (
                "proj_ycoord",
                NpyArray::F64(lstsq.iter().map(|p| p.1).collect(), vec![k]),
            ),
            (
                "proj_xcoord_cos",
                NpyArray::F64(cos.iter().map(|p| p.0).collect(), vec![k]),
            ),
            (
                "proj_ycoord_cos",
                NpyArray::F64(cos.iter().map(|p| p.1).collect(), vec![k]),
            ),
        ],
    )?;
    let common = Common {
        out: Some(out),
        ..args.common.clone()
    };
    let extras = Extras {
        markers: vec![Marker {
            x: 0.0,
            y: 0.0,
            label: "final".into(),
        }],
        overlays: vec![PathOverlay {
            points: lstsq.clone(),
            label: "training path".into(),
        }],
        json: json!({ "explained_variance_ratio": pca.explained_variance_ratio }),
    };
    run_job(
        "trajectory",
        &m,
        plane,
        xa.coords(Spacing::Linear),
        ya.coords(Spacing::Linear),
        &train,
        &test,
        &common,
        extras,
    )
}

pub fn merge(args: MergeArgs) -> Result<()> {
    // Basin shards hold per-ray radii; surface shards hold grids.
    let first = &args.shards[0];
    if genviz_core::io::Npz::open(first)?
        .names()?
        .iter()
        .any(|n| n == "direction_norms")
    {
        let out = args.out.unwrap_or_else(|| PathBuf::from("basin.npz"));
        return crate::commands::basin::merge_rays(&args.shards, &out);
    }
    let out = args.out.unwrap_or_else(|| PathBuf::from("surface.npz"));
    let parts = args
        .shards
        .iter()
        .map(|p| Ok((p.clone(), Surface::load(p)?)))
        .collect::<Result<Vec<_>>>()?;
    let merged = Surface::merge(&parts)?;
    merged.save(&out)?;
    println!(
        "{}: {} of {} points filled",
        out.display(),
        merged.filled(),
        merged.len()
    );
    Ok(())
}

/// True for tensors PCA and random directions vary (two or more dimensions).
pub(crate) fn mask_weights(layout: &Layout) -> Vec<bool> {
    let mut mask = vec![false; layout.len()];
    for t in layout.tensors() {
        if t.shape.len() > 1 {
            mask[t.range()].fill(true);
        }
    }
    mask
}

/// Evaluates the grid (resuming a saved one), then writes figures and the record.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_job(
    command: &str,
    m: &LoadedModel,
    plane: Plane,
    xs: Vec<f64>,
    ys: Vec<f64>,
    train: &Dataset,
    test: &Dataset,
    common: &Common,
    extras: Extras,
) -> Result<()> {
    if !(common.vmin < common.vmax && common.vlevel > 0.0) {
        bail!(
            "contour levels: need vmin < vmax and vlevel > 0 (got {}, {}, {})",
            common.vmin,
            common.vmax,
            common.vlevel
        );
    }
    let save_every = Duration::try_from_secs_f64(common.save_every)
        .context("--save-every: expected a number of seconds >= 0")?;
    let fingerprint = plane.fingerprint(&xs, &ys, &[train, test]);
    let mut surface = Surface::new(xs, ys, fingerprint)?;
    let ranks = Ranks::start()?;
    let shard = if ranks.size() > 1 {
        if common.shard.is_some() {
            bail!("--shard and mpirun both split the grid; use one of them");
        }
        if common.out.is_none() {
            bail!("under mpirun, give --out: every rank writes its slice into that folder");
        }
        Shard {
            index: ranks.rank() + 1,
            count: ranks.size(),
        }
    } else {
        common.shard.unwrap_or(Shard::ALL)
    };
    let out = run_dir::prepare(common.out.as_deref(), command)?;
    let file = if shard == Shard::ALL {
        out.join("surface.npz")
    } else {
        out.join(format!(
            "surface.shard-{}-of-{}.npz",
            shard.index, shard.count
        ))
    };
    if file.exists() {
        let saved = Surface::load(&file)?;
        if saved.fingerprint != fingerprint || saved.xs != surface.xs || saved.ys != surface.ys {
            bail!(
                "{}: holds a grid for other directions, coordinates or data; choose another --out",
                file.display()
            );
        }
        eprintln!(
            "resuming {}: {} of {} points already done",
            file.display(),
            saved.filled(),
            saved.len()
        );
        surface = saved;
    }
    if ranks.is_root() {
        write_directions(&out.join("directions.safetensors"), &plane)?;
    }
    let start = Instant::now();
    let todo = shard
        .range(surface.len())
        .filter(|&i| !surface.is_filled(i))
        .count();
    let bars = progress::Bars::new();
    let bar = bars.add_points(command, todo as u64);
    let mut last_save = Instant::now();
    surface.fill(&m.net, &plane, train, test, shard, &mut |s, done| {
        bar.set_position(done as u64);
        if done == todo || last_save.elapsed() >= save_every {
            s.save(&file)?;
            last_save = Instant::now();
        }
        Ok(())
    })?;
    surface.save(&file)?;
    bar.finish();
    // Under MPI, rank 0 joins the ranks' slices into the one surface.npz; the others are done.
    let Some(surface) = ranks.gather(surface)? else {
        return Ok(());
    };
    let file = if ranks.size() > 1 {
        let whole = out.join("surface.npz");
        surface.save(&whole)?;
        whole
    } else {
        file
    };
    let seconds = start.elapsed().as_secs_f64();

    let complete = surface.filled() == surface.len();
    if complete {
        draw(&out, command, &surface, common, &extras)?;
    }
    genviz_core::io::write_json(
        &out.join("run.json"),
        &json!({
            "command": command,
            "version": genviz_core::VERSION,
            "model": m.weights.display().to_string(),
            "num_params": m.params.values().len(),
            "grid": { "nx": surface.xs.len(), "ny": surface.ys.len(), "points": surface.len(), "filled": surface.filled() },
            // Under MPI the ranks' slices were joined: the file is the whole grid.
            "shard": if ranks.size() > 1 { [1, 1] } else { [shard.index, shard.count] },
            "ranks": ranks.size(),
            "seconds": seconds,
            "threads": rayon::current_num_threads(),
            "eval_examples": { "train": train.len(), "test": test.len() },
            "details": extras.json,
        }),
    )?;
    println!(
        "{}: {} of {} points in {:.2} s",
        file.display(),
        surface.filled(),
        surface.len(),
        seconds
    );
    Ok(())
}

/// Saves the directions as `x.<tensor>` and `y.<tensor>` in PyTorch shapes.
fn write_directions(path: &Path, plane: &Plane) -> Result<()> {
    let layout = plane.center.layout();
    let dirs: Vec<(&str, &Params)> = [("x", Some(&plane.x)), ("y", plane.y.as_ref())]
        .into_iter()
        .filter_map(|(k, p)| p.map(|p| (k, p)))
        .collect();
    let named = Layout::new(dirs.iter().flat_map(|(k, _)| {
        layout
            .tensors()
            .iter()
            .map(move |t| (format!("{k}.{}", t.name), t.shape.clone(), t.role))
    }))?;
    let values: Vec<f32> = dirs
        .iter()
        .flat_map(|(_, p)| p.values().iter().copied())
        .collect();
    let params = Params::from_vec(Arc::new(named), values)?;
    genviz_core::io::write_safetensors(path, &params, Default::default())?;
    Ok(())
}

/// Reads `x.<tensor>` (and `y.<tensor>` if present) for every tensor of `like`.
fn read_directions(path: &Path, like: &Params) -> Result<(Params, Option<Params>)> {
    let file = if path.extension().is_some_and(|e| e == "npz") {
        let mut npz = genviz_core::io::Npz::open(path)?;
        let mut tensors = Vec::new();
        for name in npz.names()? {
            let (values, shape) = npz.f32(&name)?;
            tensors.push(genviz_core::io::NamedTensor {
                name,
                shape,
                values,
            });
        }
        genviz_core::io::TensorFile {
            tensors,
            metadata: Default::default(),
        }
    } else {
        read_safetensors(path)?
    };
    let pick = |prefix: &str| -> Result<Option<Params>> {
        if !file
            .tensors
            .iter()
            .any(|t| t.name.starts_with(&format!("{prefix}.")))
        {
            return Ok(None);
        }
        let mut p = Params::zeros(like.layout().clone());
        for t in like.layout().tensors() {
            let name = format!("{prefix}.{}", t.name);
            let found = file.get(&name).with_context(|| {
                format!(
                    "{}: no tensor `{name}` for the model's `{}`",
                    path.display(),
                    t.name
                )
            })?;
            if found.shape != t.shape {
                bail!(
                    "{}: tensor `{name}` has shape {:?}, the model expects {:?}",
                    path.display(),
                    found.shape,
                    t.shape
                );
            }
            p.values_mut()[t.range()].copy_from_slice(&found.values);
        }
        Ok(Some(p))
    };
    let x = pick("x")?.with_context(|| format!("{}: no x.<tensor> directions", path.display()))?;
    Ok((x, pick("y")?))
}

/// The figures of a complete surface.
fn draw(out: &Path, command: &str, s: &Surface, common: &Common, extras: &Extras) -> Result<()> {
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
            common.log,
        )?;
        return Ok(());
    }
    let grid = |values: &[f64], label: &str| SurfaceGrid {
        xs: s.xs.clone(),
        ys: s.ys.clone(),
        values: values.to_vec(),
        title: format!("{command}: {label}"),
        value_label: label.to_string(),
    };
    let style = ContourStyle {
        vmin: common.vmin,
        vmax: common.vmax,
        vlevel: common.vlevel,
        log: common.log,
    };
    genviz_render::draw_contour(
        &out.join(format!("{command}_contour.png")),
        &[(
            grid(&s.train_loss, "train loss"),
            style,
            extras.overlays.clone(),
            extras.markers.clone(),
        )],
    )?;
    genviz_render::draw_heatmap(
        &out.join(format!("{command}_heatmap.png")),
        &[
            (grid(&s.train_loss, "train loss"), style),
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
        &[height_panel(
            grid(&s.train_loss, "train loss"),
            common.zmax,
            common.log,
        )],
    )?;
    write_vtp(
        &out.join(format!("{command}.vtp")),
        s,
        &s.train_loss,
        VtpOptions {
            zmax: Some(common.zmax),
            log: common.log,
        },
    )?;
    Ok(())
}

/// A 3-D panel of `grid` clipped at `zmax`; with `log`, heights are `log10(value + 0.1)` (Li
/// et al.'s ParaView transform) so a steep basin keeps its shape instead of hitting the ceiling.
pub fn height_panel(mut grid: SurfaceGrid, zmax: f64, log: bool) -> (SurfaceGrid, f64) {
    if !log {
        return (grid, zmax);
    }
    grid.values
        .iter_mut()
        .for_each(|v| *v = (v.max(0.0) + 0.1).log10());
    grid.value_label = format!("log10({} + 0.1)", grid.value_label);
    (grid, (zmax.max(0.0) + 0.1).log10())
}

/// Garipov et al.'s plane through `w0`, `w1`, `w2` (`plane.py`): x along `w2 - w0`, y the part
/// of `w1 - w0` orthogonal to it, each scaled so the coordinates are in units of those
/// distances; `w0` at (0, 0), `w2` at (1, 0) and `w1` at (`along`, 1).
pub fn garipov_plane(w0: &Params, w1: &Params, w2: &Params) -> Result<(Plane, f64)> {
    let u = difference(w2, w0)?;
    let mut v = difference(w1, w0)?;
    let (dx, v_raw) = (u.norm(), v.norm());
    if dx == 0.0 || v_raw == 0.0 {
        bail!("the three models must differ");
    }
    let along = genviz_core::params::dot(v.values(), u.values()) / (dx * dx);
    for (vv, &uv) in v.values_mut().iter_mut().zip(u.values()) {
        *vv = (f64::from(*vv) - along * f64::from(uv)) as f32;
    }
    if v.norm() < 1e-9 * v_raw {
        bail!("the three models lie on one line; a plane needs three models not in a line");
    }
    Ok((Plane::new(w0.clone(), u, Some(v))?, along))
}

/// Coordinates of `w` in a plane whose directions need not be orthogonal (least squares).
pub fn plane_coords(plane: &Plane, w: &[f32]) -> (f64, f64) {
    let r: Vec<f32> = w
        .iter()
        .zip(plane.center.values())
        .map(|(a, b)| a - b)
        .collect();
    let y = plane.y.as_ref().expect("a 2-D plane");
    genviz_landscape::pca::project_lstsq(&[r], plane.x.values(), y.values())[0]
}

//! Li et al.'s skip-connection figure (their Fig. 5 and 6): CIFAR-style ResNets of one depth
//! trained with and without skip connections on the same data and schedule, each one's 2-D
//! filter-normalised loss surface on `[-1, 1]^2` (BatchNorm parameters ignored), and how far
//! from convex each surface is: the map of `|lambda_min / lambda_max|` of the Hessian over the
//! same plane (its mean and the share of points above a threshold) and the number of local
//! minima on the surface grid.
//!
//! Li et al. found that skip connections keep deep nets' landscapes nearly convex, while
//! without them the landscape of ResNet-56 turns chaotic and that of ResNet-110 more so
//! (ResNet-20 without skips stays fairly smooth). The figure measures whether that shows at
//! the scale it is run at, and says so either way: the checks are not tuned to pass.
//!
//! Two presets: [`SkipsScale::cpu`] (narrow ResNet-20s on a subset of Fashion-MNIST, or of
//! CIFAR-10 when it is present, minutes on 2 cores) and [`SkipsScale::paper`] (Li et al.'s
//! ResNet-56 on CIFAR-10 with their 300-epoch schedule and 51 x 51 grids on the whole training
//! set, for `--device cuda`).

use super::checks::Check;
use crate::config::{DataConfig, ExperimentConfig, ModelConfig};
use crate::hessian::{self, HessianConfig};
use crate::model::{DataSource, ModelOptions};
use crate::progress::Progress;
use crate::record::{Job, RunRecord};
use anyhow::{bail, Context, Result};
use genviz_conv::{Arch, Device};
use genviz_core::io::{write_npz, NpyArray, Npz};
use genviz_data::{Augment, ImageSource};
use genviz_landscape::convexity::{self, RatioSummary};
use genviz_render::{ContourStyle, LandscapeStyle, SurfaceGrid};
use genviz_train::{FinalMetrics, LrSchedule, OptimizerConfig, TrainConfig};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Half-width of the surfaces and ratio maps in filter-normalised units (Li et al.'s
/// `--x=-1:1:51 --y=-1:1:51`).
pub const SPAN: f64 = 1.0;

/// Contour levels of Li et al.'s ResNet-56 contours (`--vmin 0.1 --vmax 10 --vlevel 0.5`).
pub const CONTOUR: ContourStyle = ContourStyle {
    vmin: 0.1,
    vmax: 10.0,
    vlevel: 0.5,
    log: false,
};

/// Loss at which the 3-D surfaces are clipped: the top of Li et al.'s contour scale, so that
/// the two kinds of panel share one colour range.
pub const ZMAX: f64 = 10.0;

/// What Li et al. report, written beside the measured numbers.
pub const CLAIM: &str = "Li et al. (2018), Sec. 5 and Fig. 5-6: skip connections keep the loss landscape of deep nets nearly convex; without them ResNet-56 and ResNet-110 have chaotic, non-convex landscapes with large regions of negative curvature (|lambda_min / lambda_max| far from 0), while ResNet-20 without skips stays fairly smooth";

/// The scale of the skip-connection figure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkipsScale {
    /// `cpu` or `paper` (with overrides noted by the caller).
    pub preset: String,
    /// Depths `6n + 2` of the ResNet pairs (Li et al.: 20, 56, 110).
    pub depths: Vec<usize>,
    /// Filters of the three stages (He et al.'s CIFAR ResNets: 16, 32, 64).
    pub widths: Vec<usize>,
    /// The images; `None`: CIFAR-10 when its files are found, else Fashion-MNIST.
    pub data: Option<ImageSource>,
    /// Folder of the image files (default: the usual places, see `genviz train --data-dir`).
    pub data_dir: Option<PathBuf>,
    /// Training images (a seeded subset); `None`: the whole training set.
    pub n_train: Option<usize>,
    /// He et al.'s augmentation (pad 4, random crop, flip), as Li et al. train.
    pub augment: bool,
    /// Epochs of training.
    pub epochs: u64,
    /// Epochs at which the learning rate is divided by 10.
    pub milestones: Vec<u64>,
    /// Initial learning rate of SGD.
    pub lr: f64,
    /// SGD momentum.
    pub momentum: f32,
    /// Coupled L2 weight decay.
    pub weight_decay: f32,
    /// Images per step.
    pub batch_size: usize,
    /// Where the nets compute (training, surfaces and Hessians).
    pub device: Device,
    /// Seed of initialisation, batches, directions and evaluation subsets (the same for
    /// both nets: the same data, order and plane statistics).
    pub seed: u64,
    /// Points per side of each surface over `[-1, 1]^2`.
    pub surface_points: usize,
    /// Training images each surface point is evaluated on (a fixed seeded subset); `None`:
    /// all of them (Li et al.).
    pub eval_train: Option<usize>,
    /// Test images each surface point is evaluated on (a fixed seeded subset).
    pub eval_test: usize,
    /// Points per side of each Hessian ratio map, over the same plane and range (the same
    /// grid as the surface when equal to `surface_points`).
    pub ratio_points: usize,
    /// Training images the Hessian is taken on (a fixed seeded subset); `None`: all.
    pub hessian_train: Option<usize>,
    /// A point counts as markedly non-convex when its ratio exceeds this.
    pub ratio_threshold: f64,
}

impl SkipsScale {
    /// The CPU preset, sized by measurement on this project's 2-core machine (see
    /// docs/skips.md): ResNet-20 pairs a quarter as wide as He et al.'s, 2,000 training
    /// images, 8 epochs of SGD (lr 0.05, /10 at epoch 6), 21 x 21 surfaces on 500 training
    /// images and 5 x 5 ratio maps on 32 (a ratio-map point, two eigenvalue searches over finite-
    /// difference Hessian products, costs about 30 s on 32 images there: 7 x 7 on 128 would
    /// take an hour and a half a net).
    pub fn cpu() -> Self {
        SkipsScale {
            preset: "cpu".into(),
            depths: vec![20],
            widths: vec![4, 8, 16],
            data: None,
            data_dir: None,
            n_train: Some(2000),
            augment: false,
            epochs: 8,
            milestones: vec![6],
            lr: 0.05,
            momentum: 0.9,
            weight_decay: 5e-4,
            batch_size: 128,
            device: Device::Cpu,
            seed: 1,
            surface_points: 21,
            eval_train: Some(500),
            eval_test: 200,
            ratio_points: 5,
            hessian_train: Some(32),
            ratio_threshold: convexity::RATIO_THRESHOLD,
        }
    }

    /// Li et al.'s scale (their `cifar10/main.py` and `plot_surface.py` runs): ResNet-56 with
    /// and without shortcuts on all of CIFAR-10 with augmentation, SGD lr 0.1, momentum 0.9,
    /// weight decay 5e-4, batch 128, 300 epochs with the rate /10 at 150, 225 and 275; 51 x 51
    /// surfaces and ratio maps on the whole training set; on a GPU.
    pub fn paper() -> Self {
        SkipsScale {
            preset: "paper".into(),
            depths: vec![56],
            widths: vec![16, 32, 64],
            data: Some(ImageSource::Cifar10),
            data_dir: None,
            n_train: None,
            augment: true,
            epochs: 300,
            milestones: vec![150, 225, 275],
            lr: 0.1,
            momentum: 0.9,
            weight_decay: 5e-4,
            batch_size: 128,
            device: Device::Cuda,
            seed: 1,
            surface_points: 51,
            eval_train: None,
            eval_test: 10_000,
            ratio_points: 51,
            hessian_train: None,
            ratio_threshold: convexity::RATIO_THRESHOLD,
        }
    }

    /// Refuses settings that cannot run, before anything is written.
    pub fn check(&self) -> Result<()> {
        if !self.device.is_available() {
            bail!(
                "skips.device {}: needs a genviz built with `--features {}`",
                self.device,
                self.device
            );
        }
        if self.depths.is_empty() {
            bail!("skips.depths: expected at least one depth (20, 56, 110)");
        }
        for &d in &self.depths {
            Arch::cifar_resnet(d, true).with_context(|| format!("skips.depths: {d}"))?;
        }
        if self.widths.len() != 3 || self.widths.contains(&0) {
            bail!(
                "skips.widths: expected three positive stage widths, got {:?}",
                self.widths
            );
        }
        if self.epochs == 0 || self.batch_size == 0 {
            bail!("skips.epochs and skips.batch_size: expected at least 1");
        }
        if self.surface_points < 3 || self.ratio_points < 2 {
            bail!(
                "skips.surface_points {} / ratio_points {}: expected at least 3 and 2",
                self.surface_points,
                self.ratio_points
            );
        }
        if !(self.ratio_threshold.is_finite() && self.ratio_threshold >= 0.0) {
            bail!(
                "skips.ratio_threshold {}: expected a number >= 0",
                self.ratio_threshold
            );
        }
        Ok(())
    }

    /// The images: the configured set, else CIFAR-10 when its files are found, else
    /// Fashion-MNIST.
    pub fn source(&self) -> ImageSource {
        self.data.unwrap_or_else(|| {
            if ImageSource::Cifar10
                .locate(self.data_dir.as_deref())
                .is_ok_and(|d| {
                    d.join("test_batch.bin").is_file() || d.join("cifar-10-batches-bin").is_dir()
                })
            {
                ImageSource::Cifar10
            } else {
                ImageSource::FashionMnist
            }
        })
    }

    /// Optimizer steps: `epochs` passes over the training images, `batch_size` a step.
    fn steps_per_epoch(&self, source: ImageSource) -> u64 {
        let official = match source {
            ImageSource::Cifar10 => 50_000,
            _ => 60_000,
        };
        let n = self.n_train.map_or(official, |n| n.min(official));
        n.div_ceil(self.batch_size) as u64
    }

    /// The training of one net: `[with skips, without]` differ only in `model.arch.skip`.
    pub fn experiment(&self, depth: usize, skip: bool) -> Result<ExperimentConfig> {
        let source = self.source();
        let per_epoch = self.steps_per_epoch(source);
        let Arch::ResNet { blocks, .. } = Arch::cifar_resnet(depth, skip)? else {
            bail!("a CIFAR ResNet expected");
        };
        let steps = self.epochs * per_epoch;
        Ok(ExperimentConfig {
            seed: self.seed,
            data: DataConfig::Images {
                source,
                dir: self.data_dir.clone(),
                n_train: self.n_train,
                normalize: true,
                augment: self.augment.then_some(Augment { pad: 4, flip: true }),
            },
            model: ModelConfig {
                hidden: Vec::new(),
                activation: Default::default(),
                head: genviz_mlp::Head::Softmax,
                init: Default::default(),
                arch: Some(Arch::ResNet {
                    blocks,
                    widths: self.widths.clone(),
                    skip,
                }),
            },
            train: TrainConfig {
                steps,
                optimizer: OptimizerConfig::Sgd {
                    momentum: self.momentum,
                    nesterov: false,
                },
                schedule: LrSchedule {
                    lr: self.lr,
                    milestones: self.milestones.iter().map(|e| e * per_epoch).collect(),
                    gamma: 0.1,
                },
                batch_size: Some(self.batch_size),
                clip_norm: None,
                weight_decay: self.weight_decay,
                // A full evaluation costs as much as many steps: only at the end.
                log_every: steps,
                checkpoint_every: per_epoch,
                poison: None,
            },
            device: self.device,
        })
    }

    /// Where the surface and the Hessian evaluate a net: fixed seeded subsets, the same for
    /// both nets of a pair.
    fn data_source(&self, train: Option<usize>, test: usize) -> DataSource {
        DataSource {
            data: None,
            seed: self.seed,
            eval_train: train,
            eval_test: Some(test),
            model: ModelOptions {
                device: self.device,
                ..ModelOptions::default()
            },
        }
    }
}

/// One measured net of a pair.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SkipsNet {
    /// `resnet20` or `resnet20-noshort`.
    pub name: String,
    /// Whether it has skip connections.
    pub skip: bool,
    /// Its run folder, relative to the figure's folder.
    pub folder: String,
    /// Loss and accuracy on the whole training and test sets.
    #[serde(rename = "final")]
    pub final_metrics: FinalMetrics,
    /// The lowest train loss on the surface grid.
    pub surface_min_loss: f64,
    /// The train loss at the grid's centre (the trained net, on the evaluation subset).
    pub surface_center_loss: f64,
    /// Interior local minima of the train-loss surface grid.
    pub local_minima: usize,
    /// The ratio map's mean, share above the threshold and point count.
    pub ratio: RatioSummary,
    /// `lambda_max` at the centre of the ratio map (the trained net).
    pub lambda_max_center: f64,
}

/// Both nets of one depth.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SkipsPair {
    /// The depth.
    pub depth: usize,
    /// `[with skips, without]`.
    pub nets: [SkipsNet; 2],
    /// Whether the net without skips is less convex by each measure (strictly larger).
    pub less_convex_without_skips: LessConvex,
}

/// The three comparisons of a pair, each `noshort > short`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct LessConvex {
    /// By the mean ratio.
    pub ratio_mean: bool,
    /// By the share of points above the threshold.
    pub ratio_fraction_above: bool,
    /// By the count of local minima.
    pub local_minima: bool,
}

/// The figure's result, as `skips/results.json` and the `skips` entry of `results.json`
/// hold it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SkipsResults {
    /// Li et al.'s claim.
    pub claim: String,
    /// The images trained and measured on.
    pub data: String,
    /// The scale.
    pub scale: SkipsScale,
    /// One pair per depth.
    pub pairs: Vec<SkipsPair>,
    /// Figure files, relative to the paper's folder.
    pub figures: Vec<String>,
}

/// What the report draws: per pair, the surfaces and ratio maps `[with, without]`.
pub struct SkipsOutcome {
    /// The numbers.
    pub results: SkipsResults,
    /// Train-loss surfaces, pair by pair, `[with, without]`.
    pub surfaces: Vec<[SurfaceGrid; 2]>,
}

fn net_name(depth: usize, skip: bool) -> String {
    format!("resnet{depth}{}", if skip { "" } else { "-noshort" })
}

/// Trains, draws and measures every pair of `scale` into `dir` (the paper's folder; files go
/// under `dir/skips/`): per net a run folder with its `landscape/` and `hessian/`; per depth
/// `skips_resnet<d>_3d.png`, `skips_resnet<d>_contour.png` (both nets on one colour scale,
/// test accuracy in each title), `skips_resnet<d>_ratio.png` and `skips_resnet<d>.npz`; and
/// `results.json`. A rerun into the same folder reuses finished trainings, surfaces and
/// Hessians.
pub fn run(scale: &SkipsScale, dir: &Path, progress: &dyn Progress) -> Result<SkipsOutcome> {
    scale.check()?;
    let root = dir.join("skips");
    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    let mut pairs = Vec::new();
    let mut surfaces = Vec::new();
    let mut figures = Vec::new();
    for &depth in &scale.depths {
        let mut nets = Vec::with_capacity(2);
        let mut grids = Vec::with_capacity(2);
        let mut ratio_grids = Vec::with_capacity(2);
        for skip in [true, false] {
            let (net, grid, ratio) = measure_net(scale, &root, depth, skip, progress)?;
            progress.note(&format!(
                "{}: test {:.1}%, mean ratio {:.3}, {:.0}% above {}, {} local minima",
                net.name,
                100.0 * net.final_metrics.test_acc,
                net.ratio.mean,
                100.0 * net.ratio.fraction_above,
                net.ratio.threshold,
                net.local_minima
            ));
            nets.push(net);
            grids.push(grid);
            ratio_grids.push(ratio);
        }
        let stem = format!("skips_resnet{depth}");
        let style = LandscapeStyle {
            contour: CONTOUR,
            zmax: ZMAX,
            log_heights: false,
        };
        genviz_render::draw_landscapes_styled(&root, &stem, &grids, &style)?;
        genviz_render::draw_heatmap(
            &root.join(format!("{stem}_ratio.png")),
            &ratio_grids
                .iter()
                .map(|g| {
                    (
                        g.clone(),
                        ContourStyle {
                            vmin: 0.0,
                            vmax: 1.0,
                            vlevel: 0.1,
                            log: false,
                        },
                    )
                })
                .collect::<Vec<_>>(),
        )?;
        write_pair_npz(&root.join(format!("{stem}.npz")), &grids, &ratio_grids)?;
        figures
            .extend(["_3d.png", "_contour.png", "_ratio.png"].map(|s| format!("skips/{stem}{s}")));
        let [with, without]: [SkipsNet; 2] = nets
            .try_into()
            .map_err(|_| anyhow::anyhow!("two nets expected"))?;
        let less_convex_without_skips = LessConvex {
            ratio_mean: without.ratio.mean > with.ratio.mean,
            ratio_fraction_above: without.ratio.fraction_above > with.ratio.fraction_above,
            local_minima: without.local_minima > with.local_minima,
        };
        pairs.push(SkipsPair {
            depth,
            nets: [with, without],
            less_convex_without_skips,
        });
        let [a, b]: [SurfaceGrid; 2] = grids
            .try_into()
            .map_err(|_| anyhow::anyhow!("two surfaces expected"))?;
        surfaces.push([a, b]);
    }
    let results = SkipsResults {
        claim: CLAIM.into(),
        data: scale.source().name().into(),
        scale: scale.clone(),
        pairs,
        figures,
    };
    genviz_core::io::write_json(&root.join("results.json"), &json!(results))?;
    Ok(SkipsOutcome { results, surfaces })
}

/// Trains (or reuses) one net, computes (or reuses) its surface and ratio map, and measures
/// both. Returns the net's numbers, its train-loss surface titled with its test accuracy, and
/// its ratio map titled with its summary.
fn measure_net(
    scale: &SkipsScale,
    root: &Path,
    depth: usize,
    skip: bool,
    progress: &dyn Progress,
) -> Result<(SkipsNet, SurfaceGrid, SurfaceGrid)> {
    let name = net_name(depth, skip);
    let run = root.join(&name);
    let config = scale.experiment(depth, skip)?;
    let m = crate::train::run_or_reuse(&config, &run, &name, progress)?;
    let label = format!(
        "ResNet-{depth} {}: test {:.1}%",
        if skip { "with skips" } else { "without skips" },
        100.0 * m.test_acc
    );
    let grid = super::swissroll::landscape_around(
        &run,
        scale.seed,
        SPAN,
        scale.surface_points,
        (scale.eval_train, Some(scale.eval_test)),
        label.clone(),
        progress,
    )?;
    let nx = grid.xs.len();
    let center = grid.values[(grid.ys.len() / 2) * nx + nx / 2];
    let local_minima = convexity::local_minima(&grid.values, nx, grid.ys.len());

    let hessian = HessianConfig {
        model: run.clone(),
        top_k: 0,
        lanczos: 0,
        runs: 1,
        filter_normalised: false,
        ratio_map: scale.ratio_points,
        ratio_extent: SPAN,
        // The surface's seed: the ratio map lies on the surface's plane (the same
        // `direction-x` / `direction-y` streams, filter-normalised, BatchNorm ignored).
        seed: scale.seed,
        data: scale.data_source(scale.hessian_train, 1),
    };
    let hdir = run.join("hessian");
    let finished = RunRecord::read(&hdir).is_ok_and(|r| r.job == Job::Hessian(hessian.clone()))
        && hdir.join("hessian.npz").is_file();
    if !finished {
        hessian::run(&hessian, &hdir, progress)?;
    }
    let mut npz = Npz::open(&hdir.join("hessian.npz"))?;
    let (ratios, shape) = npz.f64("eig_ratio")?;
    let (max_eig, _) = npz.f64("max_eig")?;
    let (coords, _) = npz.f64("xcoordinates")?;
    let side = scale.ratio_points.max(2);
    if shape != [side, side] {
        bail!(
            "{}: eig_ratio has shape {shape:?}, expected [{side}, {side}]",
            hdir.join("hessian.npz").display()
        );
    }
    let ratio = convexity::ratio_summary(&ratios, scale.ratio_threshold);
    let ratio_grid = SurfaceGrid {
        xs: coords.clone(),
        ys: coords,
        values: ratios,
        title: format!(
            "{}: mean {:.3}, {:.0}% above {}",
            if skip {
                format!("ResNet-{depth} with skips")
            } else {
                format!("ResNet-{depth} without skips")
            },
            ratio.mean,
            100.0 * ratio.fraction_above,
            scale.ratio_threshold
        ),
        value_label: "|lambda_min / lambda_max|".into(),
    };
    let net = SkipsNet {
        name: name.clone(),
        skip,
        folder: name,
        final_metrics: m,
        surface_min_loss: grid.values.iter().copied().fold(f64::INFINITY, f64::min),
        surface_center_loss: center,
        local_minima,
        ratio,
        lambda_max_center: max_eig[(side / 2) * side + side / 2],
    };
    Ok((net, grid, ratio_grid))
}

/// `skips_resnet<d>.npz`: both surfaces and both ratio maps on their coordinates, in Li et
/// al.'s names with a `_skip` / `_noshort` suffix.
fn write_pair_npz(path: &Path, surfaces: &[SurfaceGrid], ratios: &[SurfaceGrid]) -> Result<()> {
    let mut arrays = Vec::new();
    let first = &surfaces[0];
    let ratio_side = ratios[0].xs.len();
    arrays.push((
        "xcoordinates".to_string(),
        NpyArray::F64(first.xs.clone(), vec![first.xs.len()]),
    ));
    arrays.push((
        "ycoordinates".to_string(),
        NpyArray::F64(first.ys.clone(), vec![first.ys.len()]),
    ));
    arrays.push((
        "ratio_coordinates".to_string(),
        NpyArray::F64(ratios[0].xs.clone(), vec![ratio_side]),
    ));
    for (suffix, (s, r)) in ["skip", "noshort"].iter().zip(surfaces.iter().zip(ratios)) {
        arrays.push((
            format!("train_loss_{suffix}"),
            NpyArray::F64(s.values.clone(), vec![s.ys.len(), s.xs.len()]),
        ));
        arrays.push((
            format!("eig_ratio_{suffix}"),
            NpyArray::F64(r.values.clone(), vec![ratio_side, ratio_side]),
        ));
    }
    let named: Vec<(&str, NpyArray)> = arrays
        .iter()
        .map(|(n, a)| (n.as_str(), a.clone()))
        .collect();
    write_npz(path, &named)?;
    Ok(())
}

/// The checks of the figure: per depth, is the net without skips less convex than the one
/// with them, by each measure (strictly: equal numbers do not show the effect)?
pub fn checks(results: &SkipsResults) -> Vec<Check> {
    let source = "Li et al.: skip connections keep the landscape convex";
    let mut checks = Vec::new();
    for p in &results.pairs {
        let [with, without] = &p.nets;
        let d = p.depth;
        checks.extend([
            Check::above(
                "skips",
                &format!("ResNet-{d}: mean |lambda_min/lambda_max|, without skips minus with"),
                without.ratio.mean - with.ratio.mean,
                0.0,
            )
            .citing(None, source),
            Check::above(
                "skips",
                &format!(
                    "ResNet-{d}: share of ratio-map points above {}, without skips minus with",
                    results.scale.ratio_threshold
                ),
                without.ratio.fraction_above - with.ratio.fraction_above,
                0.0,
            )
            .citing(None, source),
            Check::above(
                "skips",
                &format!("ResNet-{d}: local minima of the surface grid, without skips minus with"),
                without.local_minima as f64 - with.local_minima as f64,
                0.0,
            )
            .citing(None, source),
        ]);
    }
    checks
}

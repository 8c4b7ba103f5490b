//! The paper's figures: `genviz paper` (all of them) and the commands of single figures,
//! `minefield` (Fig 1), `sharp` (Fig 8), `linear-vs-net` (Fig 2) and `optimizers` (Table 1).

use crate::args::{parse, steps_list};
use crate::progress::Terminal;
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use genviz_data::generators::SHARP_GAP;
use genviz_data::ImageSource;
use genviz_experiments::config::MinefieldSplit;
use genviz_experiments::paper::linear_vs_net::{
    self, LinearVsNetConfig, BATCH_SIZE, DEFAULT_N_TRAIN, LINEAR_LR, LINEAR_STEPS, NET_LR,
    NET_STEPS,
};
use genviz_experiments::paper::minefield::{
    MinefieldSettings, BAD_LR, BAD_STEPS, GOOD_EPOCHS, MINEFIELD_SEED, STARTS,
};
use genviz_experiments::paper::optimizers::{self, OptimizersConfig, OptimizersOptions};
use genviz_experiments::paper::sharp::{
    self, Recipe, SharpPlan, AUTHORS_STEPS, SHARP_SEED, WIDE_GAP,
};
use genviz_experiments::paper::skips::SkipsScale;
use genviz_experiments::paper::{self, Figure, PaperConfig, Scale};
use genviz_experiments::{run_dir, Device, Names};
use genviz_mlp::Init;
use genviz_train::TableOptimizer;
use std::path::PathBuf;

/// Reproduce the paper's figures, with a results table and an HTML report.
///
/// Fig 1 (the minefield: SGD iterates among bad minima, t-SNE), Fig 3 (decision boundaries and
/// loss landscapes of the clean and poisoned swiss-roll nets), Fig 5 (basin radii and volumes),
/// Fig 6 (the generalization gap as the poison weight grows), Fig 8 (a "sharp" problem the
/// net fails to solve, and its wide-gap twin) and the animations, into one folder: the
/// figures, summary.json, results.md and results.json (each number beside the paper's value
/// with pass/fail), and report.html (all of it in one page that works offline).
///
/// `--quick` (the default) takes a few minutes on 2 cores; `--full` uses the authors' step
/// counts and takes hours. A rerun into the same --out resumes killed trainings.
#[derive(Args)]
pub struct PaperArgs {
    /// Output folder (default: a new folder under runs/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Reduced step counts, same qualitative results (the default).
    #[arg(long, conflicts_with = "full")]
    quick: bool,
    /// The paper's step counts and scales (hours on a laptop).
    #[arg(long)]
    full: bool,
    /// Only these figures (comma-separated or repeated), e.g. `--only fig1,fig8`.
    #[arg(long, value_delimiter = ',', value_parser = parse::<Figure>)]
    only: Vec<Figure>,
    /// Steps of the clean swiss-roll run (overrides the preset).
    #[arg(long)]
    clean_steps: Option<u64>,
    /// Steps of the poisoned swiss-roll run (overrides the preset).
    #[arg(long)]
    poisoned_steps: Option<u64>,
    /// Random rays per minimum in Fig 5 (overrides the preset).
    #[arg(long)]
    rays: Option<usize>,
    /// Points per side of the Fig 3 landscapes (overrides the preset).
    #[arg(long)]
    landscape_points: Option<usize>,
    /// Bad minima in Fig 1 (overrides the preset).
    #[arg(long)]
    minefield_starts: Option<usize>,
    /// Full-batch steps of each Fig 1 bad-minimum search (overrides the preset).
    #[arg(long)]
    minefield_bad_steps: Option<u64>,
    /// Epochs of Fig 1's good model (overrides the preset).
    #[arg(long)]
    minefield_good_epochs: Option<u64>,
    /// Full-batch steps of each Fig 8 run (overrides the preset).
    #[arg(long)]
    sharp_steps: Option<u64>,
    /// Folder of the Fashion-MNIST IDX files for `images` (default: data/fashion-mnist, then
    /// Debian's /usr/share/datasets/fashion-mnist).
    #[arg(long)]
    image_data_dir: Option<PathBuf>,
    /// Steps of the clean Fashion-MNIST CNN (overrides the preset).
    #[arg(long)]
    image_clean_steps: Option<u64>,
    /// Steps of the poisoned Fashion-MNIST CNN (overrides the preset).
    #[arg(long)]
    image_poisoned_steps: Option<u64>,
    /// Training images of the poisoned CNN; the rest are its poison pool (overrides 2,000).
    #[arg(long)]
    image_poisoned_train: Option<usize>,
    /// Points per side of the image landscapes (overrides the preset).
    #[arg(long)]
    image_points: Option<usize>,
    /// Training and test images each image-landscape point is evaluated on (overrides 1,000).
    #[arg(long)]
    image_eval: Option<usize>,
    /// Training images of Fig 2 and the optimizer table (overrides their commands' defaults).
    #[arg(long)]
    image_small_train: Option<usize>,
    /// Steps of both Fig 2 models (overrides `genviz linear-vs-net`'s defaults).
    #[arg(long)]
    image_fig2_steps: Option<u64>,
    /// Steps of each optimizer-table run (overrides `genviz optimizers`' default).
    #[arg(long)]
    image_table_steps: Option<u64>,
    /// Only these optimizers in the table, e.g. `sgd,adam` (as `genviz optimizers --only`).
    #[arg(long, value_delimiter = ',', value_parser = parse::<TableOptimizer>)]
    image_table_only: Option<Vec<TableOptimizer>>,
    /// Where the skip-connection figure's nets compute: `cpu` (its CPU preset: narrow
    /// ResNet-20s on a Fashion-MNIST subset) or `cuda` (Li et al.'s scale: ResNet-56 on
    /// CIFAR-10, 300 epochs, 51 x 51 grids; a build with `--features cuda`).
    #[arg(long, default_value = "cpu", value_parser = parse::<Device>)]
    device: Device,
    /// Depths of the skip-connection pairs, e.g. `20,56,110` (overrides the preset).
    #[arg(long, value_delimiter = ',')]
    skips_depths: Option<Vec<usize>>,
    /// Filters of the three ResNet stages, e.g. `16,32,64` (overrides the preset).
    #[arg(long, value_delimiter = ',')]
    skips_widths: Option<Vec<usize>>,
    /// Training images of the skip-connection nets (overrides the preset).
    #[arg(long)]
    skips_train: Option<usize>,
    /// Epochs of the skip-connection nets (overrides the preset; milestones past it drop).
    #[arg(long)]
    skips_epochs: Option<u64>,
    /// Points per side of the skip-connection surfaces (overrides the preset).
    #[arg(long)]
    skips_points: Option<usize>,
    /// Points per side of the skip-connection Hessian ratio maps (overrides the preset).
    #[arg(long)]
    skips_ratio_points: Option<usize>,
    /// Training (and test) images each surface point is evaluated on (overrides the preset).
    #[arg(long)]
    skips_eval: Option<usize>,
    /// Training images the Hessian ratio maps are taken on (overrides the preset).
    #[arg(long)]
    skips_hessian_train: Option<usize>,
    /// Folder of the skip-connection figure's images (default: CIFAR-10 in data/cifar10 when
    /// present, else Fashion-MNIST in the usual places).
    #[arg(long)]
    skips_data_dir: Option<PathBuf>,
}

/// Reproduce Fig 1 (the "minefield") at a reduced scale.
///
/// Trains the good model of SPEC 1.8 on the minefield spiral (132 points): 2 -> 4 x Dense(25,
/// ReLU) -> 1 sigmoid logit, RMSprop lr 0.01 (alpha 0.9, eps 1e-7, as Keras), batch 32, L2
/// 0.001, Keras's Glorot-normal initialisation, a checkpoint every k-th epoch (k = good_epochs /
/// starts). From each it then searches a bad minimum: no regulariser, RMSprop lr 0.002 (/10 at
/// 70,000 and 85,000), full batch on the 132 training points plus 134 points with flipped
/// labels. Kernels (not biases) of the iterates and the bad minima go through PCA (50
/// components) and t-SNE; fig1_minefield.png draws them.
/// The authors ran 2,000 epochs, 200 starts and 40,000 steps per start; the defaults here are
/// 500, 50 and 100,000 (same spacing of 10 epochs between starts); a few minutes on 2 cores.
///
/// Writes fig1_minefield.png, minefield.npz (t-SNE coordinates, PCA scores, good/bad labels,
/// epochs, accuracies, every bad minimum's parameters in the layout order of the good model's
/// safetensors, and the three point sets), run.json with every number, and good-model/ (checkpoints, metrics).
#[derive(Args)]
pub struct MinefieldArgs {
    /// Output folder (default: a new folder under runs/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Number of bad minima, one per start (the authors: 200).
    #[arg(long, default_value_t = STARTS)]
    starts: usize,
    /// Full-batch steps of each bad-minimum search (the authors: 40,000).
    #[arg(long, default_value_t = BAD_STEPS)]
    bad_steps: u64,
    /// Epochs of the good model (the authors: 2,000).
    #[arg(long, default_value_t = GOOD_EPOCHS)]
    good_epochs: u64,
    /// t-SNE perplexity (lowered to (rows - 1) / 3 when there are too few points).
    #[arg(long, default_value_t = 30.0)]
    perplexity: f64,
    /// Seed of the data split, initialisation, batches and t-SNE.
    #[arg(long, default_value_t = MINEFIELD_SEED)]
    seed: u64,
    /// RMSprop learning rate of the bad-minimum searches (the authors: 0.001, constant).
    #[arg(long, default_value_t = BAD_LR)]
    bad_lr: f64,
    /// Steps at which the bad-minimum rate drops tenfold, comma-separated ("" for none, as the
    /// authors). Default: 7/10 and 17/20 of --bad-steps (70,000 and 85,000 of 100,000).
    #[arg(long)]
    bad_milestones: Option<String>,
    /// The train / untraining / test split: the authors' own, or one drawn from --seed.
    #[arg(long, default_value = "authors", value_parser = parse::<MinefieldSplit>)]
    split: MinefieldSplit,
}

/// Reproduce Fig 8: a net trained on data whose ideal boundary is "sharp", and on the same
/// data with a wide gap.
///
/// Every run uses the authors' net (2 -> 9 x 100 ReLU -> 2 logits, softmax cross-entropy,
/// PyTorch's initialisation) and 10,000 full-batch steps. Three runs: the authors' recipe
/// (Adam, lr 1e-3) on the paper's data, and the recipe set by the flags (default: plain
/// gradient descent, lr 0.1, the setting in which the paper's claim shows) on the paper's
/// data and on the wide-gap data.
///
/// Writes fig8_sharp.png, sharp.json (per run: train and near-point accuracy and loss, gap,
/// steps, seed, and the recipe), and authors/, sharp/ and wide/ (model.safetensors with
/// PyTorch names, data.npz, metrics.csv).
#[derive(Args)]
pub struct SharpArgs {
    /// Output folder (default: a new folder under runs/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Optimizer steps of each run (the authors: 10,000).
    #[arg(long, default_value_t = AUTHORS_STEPS)]
    steps: u64,
    /// Seed of the initialisation (and of the batches with --batch-size).
    #[arg(long, default_value_t = SHARP_SEED)]
    seed: u64,
    /// Distance of the near points outside the inner circle (the paper: 0.001).
    #[arg(long, default_value_t = SHARP_GAP)]
    gap: f64,
    /// The same distance in the wide-gap data.
    #[arg(long, default_value_t = WIDE_GAP)]
    wide_gap: f64,
    /// Optimizer of the sharp and wide runs: gd (plain gradient descent, no momentum) or
    /// adam (the authors').
    #[arg(long, value_enum, default_value_t = OptimizerArg::Gd)]
    optimizer: OptimizerArg,
    /// Learning rate, constant (default: 0.1 for gd, 1e-3 for adam).
    #[arg(long)]
    lr: Option<f64>,
    /// Coupled L2 weight decay (the authors: none).
    #[arg(long, default_value_t = 0.0)]
    weight_decay: f32,
    /// Examples per step (default: full batch, as the authors).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Initialisation: pytorch (nn.Linear's, the authors'), glorot-uniform or glorot-normal.
    #[arg(long, value_enum, default_value_t = InitArg::Pytorch)]
    init: InitArg,
}

/// Train a neural net and a linear model on degree-2 polynomial features of the same images,
/// and compare how they generalise (Fig 2 of the paper, at CPU scale).
///
/// Both models train on the same shuffled subset of the training images with SGD (momentum
/// 0.9, batch 128, as the authors) and are tested on the official test set. The linear model
/// is a softmax classifier (PyTorch `nn.Linear`, cross-entropy) on the raw pixels plus every
/// product x_i x_j (i <= j) of the image downsized to --side x --side by area averaging, each
/// feature standardised with its training mean and deviation: 20,090 features for 28x28 images
/// at side 14. Examples:
///
///   genviz linear-vs-net --out runs/fig2
///
///   genviz linear-vs-net --n-train 500 --net-steps 200 --linear-steps 200      (quicker)
///
/// Writes linear_vs_net.json and .md (train and test accuracy and loss, parameter counts,
/// seconds), fig2_linear_vs_net.png, and the run folders net/ and linear/ (run.json,
/// model.safetensors, metrics.csv, checkpoints/, training_curves.png). Rerunning the same
/// command into the same --out resumes unfinished runs and re-evaluates finished ones.
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct LinearVsNetArgs {
    /// Output folder (default: a new folder under runs/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Image data: fashion-mnist, mnist or cifar10.
    #[arg(long, default_value = "fashion-mnist")]
    data: String,
    /// Folder of the image data set (default: data/<name>, then Debian's
    /// /usr/share/datasets/fashion-mnist for fashion-mnist).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Training images (shuffled with the seed from the official training split).
    #[arg(long, default_value_t = DEFAULT_N_TRAIN)]
    n_train: usize,
    /// Side of the downsized image whose pixel products are features (default: half the
    /// image side, 14 for 28x28 as the authors' 16 for CIFAR-10's 32x32).
    #[arg(long)]
    side: Option<usize>,
    /// The neural net: cnn, vgg9, resnet20, resnet56, resnet18.
    #[arg(long, default_value = "cnn")]
    model: String,
    /// Where the neural net computes.
    #[arg(long, default_value = "cpu", value_parser = parse::<Device>)]
    device: Device,
    /// The net's optimizer steps.
    #[arg(long, default_value_t = NET_STEPS)]
    net_steps: u64,
    /// The net's learning rate (constant).
    #[arg(long, default_value_t = NET_LR)]
    net_lr: f64,
    /// The linear model's optimizer steps.
    #[arg(long, default_value_t = LINEAR_STEPS)]
    linear_steps: u64,
    /// The linear model's learning rate (constant).
    #[arg(long, default_value_t = LINEAR_LR)]
    linear_lr: f64,
    /// Examples per step, both models.
    #[arg(long, default_value_t = BATCH_SIZE)]
    batch_size: usize,
    /// Coupled L2 weight decay, both models (the authors: 5e-4; default none, so that both
    /// fit the training set as far as they can).
    #[arg(long, default_value_t = 0.0)]
    weight_decay: f32,
    /// Seed of the training subset, the initialisations and the batches.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// The flags of `genviz optimizers` (its help text is on the subcommand in main.rs).
#[derive(Args)]
pub struct OptimizersArgs {
    /// Optimizers to train, comma separated (default: all eleven of the paper's table).
    #[arg(long, value_delimiter = ',', value_parser = parse::<TableOptimizer>)]
    only: Option<Vec<TableOptimizer>>,
    /// Optimizer steps of each run (default: 600 for image data, 4,000 otherwise).
    #[arg(long)]
    steps: Option<u64>,
    /// Data: fashion-mnist, mnist, cifar10, swiss-roll, moons, blobs, ... (as `genviz train`).
    #[arg(long, default_value = "fashion-mnist")]
    data: String,
    /// Folder of an image data set (default: data/<name>, then Debian's
    /// /usr/share/datasets/fashion-mnist for fashion-mnist).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Training images of an image data set.
    #[arg(long, default_value_t = optimizers::DEFAULT_N_TRAIN)]
    n_train: usize,
    /// Model: mlp, or a conv net (cnn, resnet20, ...; needs image data). Default: cnn for
    /// image data, the paper's swiss-roll MLP otherwise.
    #[arg(long)]
    model: Option<String>,
    /// Hidden widths of the MLP, comma separated (default: the paper's 23,16,26,32,28,31).
    #[arg(long, value_delimiter = ',')]
    hidden: Option<Vec<usize>>,
    /// Examples per step (the authors: 128).
    #[arg(long, default_value_t = optimizers::DEFAULT_BATCH)]
    batch_size: usize,
    /// Keep every rate constant instead of dividing it by 10 after 1/3 and 2/3 of the steps.
    #[arg(long)]
    constant_lr: bool,
    /// Seed of the initialisation, data split and batches (shared by every optimizer).
    #[arg(long, default_value_t = optimizers::DEFAULT_SEED)]
    seed: u64,
    /// Where a conv net computes.
    #[arg(long, default_value = "cpu", value_parser = parse::<Device>)]
    device: Device,
    /// Output folder (default: a new folder under runs/). A rerun into the same folder skips
    /// finished runs and resumes interrupted ones.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum OptimizerArg {
    Gd,
    Adam,
}

#[derive(Clone, Copy, ValueEnum)]
enum InitArg {
    Pytorch,
    GlorotUniform,
    GlorotNormal,
}

/// Runs `genviz paper`.
pub fn paper(args: PaperArgs, progress: &Terminal) -> Result<()> {
    let mut s = if args.full {
        Scale::full()
    } else {
        Scale::quick()
    };
    let set = |v: &mut u64, o: Option<u64>| *v = o.unwrap_or(*v);
    set(&mut s.clean_steps, args.clean_steps);
    set(&mut s.poisoned_steps, args.poisoned_steps);
    set(&mut s.minefield.good_epochs, args.minefield_good_epochs);
    set(&mut s.sharp_steps, args.sharp_steps);
    s.basin_rays = args.rays.unwrap_or(s.basin_rays);
    s.landscape_points = args.landscape_points.unwrap_or(s.landscape_points);
    s.minefield.starts = args.minefield_starts.unwrap_or(s.minefield.starts);
    if let Some(steps) = args.minefield_bad_steps {
        s.minefield = s.minefield.with_bad_steps(steps);
    }
    let i = &mut s.images;
    set(&mut i.clean_steps, args.image_clean_steps);
    set(&mut i.poisoned_steps, args.image_poisoned_steps);
    i.poisoned_train = args.image_poisoned_train.unwrap_or(i.poisoned_train);
    i.surface_points = args.image_points.unwrap_or(i.surface_points);
    if let Some(n) = args.image_eval {
        (i.eval_train, i.eval_test) = (n, n);
    }
    i.data_dir = args.image_data_dir.as_deref().map(crate::args::absolute);
    i.small_train = args.image_small_train;
    i.fig2_steps = args.image_fig2_steps;
    i.table_steps = args.image_table_steps;
    i.table_only.clone_from(&args.image_table_only);
    s.skips = skips_scale(&args);
    let config = PaperConfig {
        figures: if args.only.is_empty() {
            Figure::preset(args.full)
        } else {
            args.only.clone()
        },
        scale: s,
    };
    config.check()?;
    let dir = run_dir::choose(args.out.as_deref(), "paper");
    let run = paper::reproduce(&config, &dir, progress)?;
    let r = &run.results;
    for c in &r.checks {
        println!(
            "{:>5} {}: {:.4} ({}) {}",
            format!("[{}]", c.figure),
            c.quantity,
            c.measured,
            c.criterion,
            if c.pass { "pass" } else { "FAIL" }
        );
    }
    println!(
        "results: {} of {} checks pass ({})",
        r.checks.len() - r.failed,
        r.checks.len(),
        dir.join("results.md").display()
    );
    println!(
        "report: {} ({:.0} s)",
        dir.join("report.html").display(),
        run.record.timings.get("total_s").copied().unwrap_or(0.0)
    );
    Ok(())
}

/// The skip-connection figure's scale: the preset of `--device`, with the overrides.
fn skips_scale(args: &PaperArgs) -> SkipsScale {
    let mut k = match args.device {
        Device::Cuda => SkipsScale::paper(),
        Device::Cpu => SkipsScale::cpu(),
    };
    k.depths = args.skips_depths.clone().unwrap_or(k.depths);
    k.widths = args.skips_widths.clone().unwrap_or(k.widths);
    k.n_train = args.skips_train.or(k.n_train);
    if let Some(e) = args.skips_epochs {
        k.epochs = e;
        k.milestones.retain(|&m| m < e);
    }
    k.surface_points = args.skips_points.unwrap_or(k.surface_points);
    k.ratio_points = args.skips_ratio_points.unwrap_or(k.ratio_points);
    if let Some(n) = args.skips_eval {
        (k.eval_train, k.eval_test) = (Some(n), n);
    }
    k.hessian_train = args.skips_hessian_train.or(k.hessian_train);
    k.data_dir = args.skips_data_dir.as_deref().map(crate::args::absolute);
    k
}

/// Runs `genviz minefield`.
pub fn minefield(args: MinefieldArgs, progress: &Terminal) -> Result<()> {
    let mut settings = MinefieldSettings {
        starts: args.starts,
        good_epochs: args.good_epochs,
        perplexity: args.perplexity,
        seed: args.seed,
        bad_lr: args.bad_lr,
        split: args.split,
        ..MinefieldSettings::quick()
    }
    .with_bad_steps(args.bad_steps);
    if let Some(list) = &args.bad_milestones {
        settings.bad_milestones = steps_list("--bad-milestones", list)?;
    }
    settings.check_named(Names::Flags)?;
    let dir = run_dir::choose(args.out.as_deref(), "minefield");
    let run = paper::minefield::run(&settings, &dir, progress)?;
    let o = &run.outcome;
    let pct = |v: f64| 100.0 * v;
    println!(
        "bad minima ({}): train {:.1}%..{:.1}%, test {:.1}%..{:.1}%",
        o.bad.len(),
        pct(o.train_range.0),
        pct(o.train_range.1),
        pct(o.test_range.0),
        pct(o.test_range.1)
    );
    println!(
        "final iterate (epoch {}): train {:.1}%, test {:.1}%",
        args.good_epochs,
        pct(o.final_metrics.train_acc),
        pct(o.final_metrics.test_acc)
    );
    println!(
        "took {:.1} s; figure: {}",
        run.record.timings.get("total_s").copied().unwrap_or(0.0),
        dir.join("fig1_minefield.png").display()
    );
    Ok(())
}

/// Runs `genviz sharp`.
pub fn sharp(args: SharpArgs, progress: &Terminal) -> Result<()> {
    let base = match args.optimizer {
        OptimizerArg::Gd => Recipe::gradient_descent(),
        OptimizerArg::Adam => Recipe::authors(),
    };
    let plan = SharpPlan {
        steps: args.steps,
        seed: args.seed,
        gap: args.gap,
        wide_gap: args.wide_gap,
        recipe: Recipe {
            lr: args.lr.unwrap_or(base.lr),
            weight_decay: args.weight_decay,
            batch_size: args.batch_size,
            init: match args.init {
                InitArg::Pytorch => Init::Pytorch,
                InitArg::GlorotUniform => Init::GlorotUniform,
                InitArg::GlorotNormal => Init::GlorotNormal,
            },
            ..base
        },
    };
    plan.check_named(Names::Flags)?;
    let dir = run_dir::choose(args.out.as_deref(), "sharp");
    let out = sharp::run(&plan, &dir, progress)?.outcome;
    for v in out.authors.iter().chain([&out.sharp, &out.wide]) {
        println!(
            "{} ({}, gap {}): train {:.1}%, near points {}/{} (loss {:.4})",
            v.name,
            v.recipe.label(),
            v.gap,
            100.0 * v.train_acc,
            v.near_correct,
            v.near_total,
            v.train_loss
        );
    }
    println!("figure: {}", out.figure.display());
    Ok(())
}

/// Runs `genviz linear-vs-net`.
pub fn linear_vs_net(args: LinearVsNetArgs, progress: &Terminal) -> Result<()> {
    let Some(source) = ImageSource::parse(&args.data) else {
        anyhow::bail!(
            "--data {}: expected an image data set (fashion-mnist, mnist or cifar10)",
            args.data
        );
    };
    let config = LinearVsNetConfig {
        source,
        data_dir: args.data_dir.as_deref().map(crate::args::absolute),
        n_train: args.n_train,
        side: args.side,
        arch: genviz_experiments::Arch::parse(&args.model).context("--model")?,
        model: args.model.clone(),
        device: args.device,
        net_steps: args.net_steps,
        net_lr: args.net_lr,
        linear_steps: args.linear_steps,
        linear_lr: args.linear_lr,
        batch_size: args.batch_size,
        weight_decay: args.weight_decay,
        seed: args.seed,
    };
    config.check_named(Names::Flags)?;
    let dir = run_dir::choose(args.out.as_deref(), "linear-vs-net");
    let run = linear_vs_net::run(&config, &dir, progress)?;
    print!("{}", linear_vs_net::markdown(&run.comparison));
    println!("figure: {}", dir.join("fig2_linear_vs_net.png").display());
    Ok(())
}

/// Runs `genviz optimizers`.
pub fn optimizers(args: OptimizersArgs, progress: &Terminal) -> Result<()> {
    let config = OptimizersConfig::new(&OptimizersOptions {
        only: args.only,
        steps: args.steps,
        data: args.data,
        data_dir: args.data_dir.as_deref().map(crate::args::absolute),
        n_train: args.n_train,
        model: args.model,
        hidden: args.hidden,
        batch_size: args.batch_size,
        constant_lr: args.constant_lr,
        seed: args.seed,
        device: args.device,
    })?;
    let dir = run_dir::choose(
        args.out.as_deref(),
        &format!("optimizers-{}", config.setting.base.data.name()),
    );
    optimizers::run(&config, &dir, progress)?;
    println!(
        "{}: optimizers.md, optimizers.json, optimizers.png",
        dir.display()
    );
    Ok(())
}

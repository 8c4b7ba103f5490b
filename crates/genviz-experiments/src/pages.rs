//! `report.html` of every run folder, and `index.html` of a folder of runs.
//!
//! Every job ends by writing its folder's page: a self-contained, offline HTML file
//! (genviz-render's [`RunPage`]) with the exact command, the run's figures, the numbers of its
//! `run.json` and the configuration. Landscapes get more: an interactive 3-D surface of the
//! grid, and
//! - for a network with 2-D inputs (an MLP on the swiss roll, moons, ...) the **landscape
//!   explorer**: the reader drags a marker over the loss map and the page evaluates the
//!   network at those weights and redraws its decision boundary, in the same float32
//!   arithmetic as genviz, so that at every grid point it shows genviz's own accuracy;
//! - for any other network (images, tabular data) the **hover view**: pointing at a grid
//!   point shows the loss and accuracy genviz computed there and, for image models, the
//!   network's predictions on a fixed strip of test images at that point (computed here, one
//!   forward pass of the strip per grid point).
//!
//! [`write_page`] rebuilds a page from the folder alone (its `run.json` and files), so
//! `genviz report DIR` works on any run folder, old or new; [`write_index`] writes the index
//! of a folder of runs, one row per run with a small comparison table.

use crate::config::{DataConfig, ExperimentConfig};
use crate::landscape::{GridSettings, LandscapeResults, PlotStyle};
use crate::model::{AnyNet, DataSource, LoadedModel};
use crate::record::{Job, RunRecord, RECORD_FILE};
use anyhow::{bail, Context, Result};
use genviz_core::{Dataset, Network};
use genviz_landscape::direction::read_directions;
use genviz_landscape::surface::UNFILLED;
use genviz_landscape::{Plane, Surface};
use genviz_mlp::{Activation, Head, MlpSpec};
use genviz_render::{
    figures_in, ComparisonColumn, ContourStyle, Explorer, ExplorerActivation, ExplorerGroup,
    ExplorerHead, ExplorerNet, ExplorerPlane, HoverView, ImageStrip, IndexPage, IndexRun,
    InteractiveSurface, LabelledPoints, MetricGrid, NumbersBlock, PageBlock, ReportFigure,
    ReportSection, RunPage, StripImage, SurfaceBlock, TextBlock, NO_PREDICTION,
};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A run folder's page.
pub const PAGE_FILE: &str = "report.html";
/// The index page of a folder of runs.
pub const INDEX_FILE: &str = "index.html";
/// Test images in a hover view's strip: the first test image of each class, at most this
/// many (Fashion-MNIST's and CIFAR-10's ten classes, one each).
pub const STRIP_IMAGES: usize = 10;
/// How many folders deep [`write_index`] looks for runs: a paper's folder nests a landscape
/// inside a training run inside the paper (`paper/swissroll-clean/landscape`), and the
/// optimizer table's runs sit one level below the table's own.
pub const INDEX_DEPTH: usize = 4;

/// What [`rebuild`] wrote.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Rebuilt {
    /// The folder's own page, when the folder is a run (has a `run.json`).
    pub page: Option<PathBuf>,
    /// The index, when runs lie below the folder.
    pub index: Option<PathBuf>,
    /// Runs below the folder that have no page yet (relative to it), e.g. made by an older
    /// genviz; `genviz report RUN` builds one.
    pub without_page: Vec<PathBuf>,
}

/// What `genviz report DIR` does: the page of `dir` when it is a run folder, and the index
/// of the runs below it when there are any (a paper's folder gets both: its own report is
/// left as `genviz paper` wrote it, see [`write_page`]).
///
/// # Errors
/// When `dir` is neither a run folder nor holds any, or a page cannot be built (the message
/// names the folder and what is missing or inconsistent).
pub fn rebuild(dir: &Path) -> Result<Rebuilt> {
    if !dir.is_dir() {
        bail!("{}: not a folder", dir.display());
    }
    let mut out = Rebuilt::default();
    if dir.join(RECORD_FILE).is_file() {
        out.page = Some(write_page(dir)?);
    }
    let runs = runs_below(dir)?;
    if !runs.is_empty() {
        out.index = Some(write_index(dir)?);
        out.without_page = runs
            .into_iter()
            .filter(|r| !dir.join(r).join(PAGE_FILE).is_file())
            .collect();
    }
    if out.page.is_none() && out.index.is_none() {
        bail!(
            "{}: neither a run folder (no {RECORD_FILE}) nor a folder of runs (none below it, \
             {INDEX_DEPTH} levels deep)",
            dir.display()
        );
    }
    Ok(out)
}

/// Rebuilds `dir/report.html` from `dir/run.json` and the files in the folder, and returns
/// its path.
///
/// Landscapes (`surface`, `plane`, `trajectory`) reload their model, directions and data to
/// build the explorer or the hover view, and refuse to if those no longer give the grid's
/// fingerprint (a model retrained in place, data changed): the page would then disagree with
/// `surface.npz`. A `paper` folder's report is written by `genviz paper` from what it measured
/// and is left as it is; without one, the page shows the paper's figures and numbers.
///
/// # Errors
/// When `run.json` cannot be read, a file the page needs is missing or inconsistent, or the
/// page cannot be written.
pub fn write_page(dir: &Path) -> Result<PathBuf> {
    let record = RunRecord::read(dir)?;
    let path = dir.join(PAGE_FILE);
    let page = match &record.job {
        Job::Paper(_) if path.is_file() => return Ok(path),
        Job::Surface(c) => landscape_page_from_disk(dir, &record, &c.model, &c.grid)?,
        Job::Plane(c) => landscape_page_from_disk(dir, &record, &c.model0, &c.grid)?,
        Job::Trajectory(c) => landscape_page_from_disk(dir, &record, &c.run, &c.grid)?,
        _ => plain_page(dir, &record)?,
    };
    write(&path, &page)?;
    Ok(path)
}

/// A landscape and what it was computed from, in memory: what a landscape job hands to
/// [`write_landscape_page`] at its end, and what [`write_page`] reloads from the folder.
pub struct LandscapeView<'a> {
    /// The model at the plane's origin (its network, weights file and run folder's data).
    pub model: &'a LoadedModel,
    /// The plane the grid lies in.
    pub plane: &'a Plane,
    /// The training data every point was evaluated on.
    pub train: &'a Dataset,
    /// The test data every point was evaluated on.
    pub test: &'a Dataset,
    /// The grid.
    pub surface: &'a Surface,
    /// The data's source and the figures' style.
    pub settings: &'a GridSettings,
}

/// Writes `dir/report.html` of a landscape run whose record is `record` (the job's figures
/// already drawn into `dir`), and returns its path.
///
/// # Errors
/// When a block cannot be built or the page cannot be written.
pub fn write_landscape_page(
    dir: &Path,
    record: &RunRecord,
    view: &LandscapeView<'_>,
) -> Result<PathBuf> {
    let page = landscape_page(dir, record, view)?;
    let path = dir.join(PAGE_FILE);
    write(&path, &page)?;
    Ok(path)
}

/// Writes the page of an animation (`genviz animate`, which makes a GIF rather than a run
/// folder): `<name>.html` beside `<name>.gif`, with the exact command (where the front end
/// told it, see [`crate::record::set_invocation`]), `what` the animation shows, the GIF and
/// the numbers of its summary (`<name>.json`). Returns its path.
///
/// # Errors
/// When `summary` cannot be turned into JSON or the page cannot be written.
pub fn write_animation_page(
    gif: &Path,
    what: &str,
    summary: &impl serde::Serialize,
) -> Result<PathBuf> {
    let path = gif.with_extension("html");
    let name = gif.file_name().map_or_else(
        || gif.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let (command, intro) = match crate::record::invocation() {
        Some(c) => (c, String::new()),
        None => (
            "(a library call: genviz_experiments::animate::run)".to_string(),
            "This animation was made by a library call; `genviz animate` makes it again from \
             the model and the options shown in its numbers."
                .to_string(),
        ),
    };
    let page = RunPage {
        title: format!("genviz animate: {name}"),
        intro,
        command,
        config: String::new(),
        config_name: String::new(),
        blocks: vec![
            PageBlock::Text(TextBlock {
                heading: "What this is".into(),
                text: what.to_string(),
            }),
            PageBlock::Figures(ReportSection {
                heading: "Animation".into(),
                text: String::new(),
                figures: vec![ReportFigure {
                    file: PathBuf::from(&name),
                    caption: String::new(),
                }],
            }),
            PageBlock::Numbers(NumbersBlock {
                heading: "Numbers".into(),
                source: gif
                    .with_extension("json")
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                value: serde_json::to_value(summary)?,
            }),
        ],
    };
    write(&path, &page)?;
    Ok(path)
}

fn write(path: &Path, page: &RunPage) -> Result<()> {
    genviz_render::write_run_page(path, page)
        .with_context(|| format!("writing the page {}", path.display()))
}

/// Reloads a landscape run's model, directions, data and grid, checks that they still make
/// the grid, and builds its page.
fn landscape_page_from_disk(
    dir: &Path,
    record: &RunRecord,
    model_path: &Path,
    settings: &GridSettings,
) -> Result<RunPage> {
    let results: LandscapeResults = record.results()?;
    let file = dir.join(&results.file);
    let surface = Surface::load(&file)?;
    let (m, train, test) = settings
        .data
        .open(model_path, &crate::Silent)
        .with_context(|| {
            format!(
                "loading {} and its data, the model of the landscape in {}",
                model_path.display(),
                dir.display()
            )
        })?;
    let directions = dir.join("directions.safetensors");
    let (x, y) = read_directions(&directions, &m.params)?;
    let plane = Plane::new(m.params.clone(), x, y)?;
    if plane.fingerprint(&surface.xs, &surface.ys, &[&train, &test]) != surface.fingerprint {
        bail!(
            "{}: was computed from another model, other directions or other data than {}, \
             {} and the data its run.json names now; the page would not match the grid \
             (run the job again: genviz rerun {})",
            file.display(),
            m.weights.display(),
            directions.display(),
            dir.display()
        );
    }
    landscape_page(
        dir,
        record,
        &LandscapeView {
            model: &m,
            plane: &plane,
            train: &train,
            test: &test,
            surface: &surface,
            settings,
        },
    )
}

/// The page of a landscape run.
fn landscape_page(dir: &Path, record: &RunRecord, view: &LandscapeView<'_>) -> Result<RunPage> {
    let s = view.surface;
    let style = &view.settings.plot;
    let mut page = page_shell(dir, record);
    page.blocks.push(PageBlock::Text(TextBlock {
        heading: "What this is".into(),
        text: describe(record),
    }));
    if !s.ys.is_empty() {
        let command = record.job.command();
        let heights = heights(s, style);
        let inputs_2d = match &view.model.net {
            AnyNet::Mlp(net) if net.spec().input_dim == 2 => Some(net.spec()),
            _ => None,
        };
        if let Some(spec) = inputs_2d {
            let extent = boundary_extent(&data_config(&view.settings.data, view.model), view.train);
            let plane = explorer_plane("the landscape's directions", view.plane, s, ("x", "y"))?;
            page.blocks.push(PageBlock::Explorers(ExplorerGroup {
                heading: "Explore the landscape".into(),
                text: format!(
                    "The loss map is genviz's grid ({} x {} points, train loss); the boundary \
                     beside it is computed by your browser for the weights under the marker. \
                     Tick \"snap\" to stay on the grid: there the accuracies shown are exactly \
                     the ones in {}.",
                    s.xs.len(),
                    s.ys.len(),
                    record
                        .results::<LandscapeResults>()
                        .map_or_else(|_| "surface.npz".to_string(), |r| r.file)
                ),
                explorers: vec![Explorer {
                    title: model_title(view.model),
                    net: explorer_net(spec, view.plane.center.values()),
                    planes: vec![plane],
                    train: labelled_points(view.train),
                    test: labelled_points(view.test),
                    num_classes: spec.num_classes,
                    extent,
                }],
                style: contour_style(style),
                linked: false,
            }));
            page.blocks.push(PageBlock::Surfaces(SurfaceBlock {
                heading: "The landscape in 3-D".into(),
                text: String::new(),
                surfaces: vec![surface_3d(&format!("{command}: {}", heights.1), s, heights)],
            }));
        } else {
            let strip = match image_source(&data_config(&view.settings.data, view.model)) {
                Some((source, shape)) => Some(image_strip(
                    &view.model.net,
                    view.plane,
                    s,
                    view.test,
                    shape,
                    &class_names(source, view.model.net.num_classes()),
                )?),
                None => None,
            };
            let text = if strip.is_some() {
                "Point at the surface or at the map beside it: the loss and accuracy genviz \
                 computed at the nearest grid point appear, and under them what the network \
                 predicts there for a fixed strip of test images (the first of each class; \
                 green when right, red when wrong)."
            } else {
                "Point at the surface or at the map beside it: the loss and accuracy genviz \
                 computed at the nearest grid point appear."
            };
            page.blocks.push(PageBlock::Hover(Box::new(HoverView {
                heading: "The landscape, point by point".into(),
                text: text.into(),
                surface: surface_3d(&format!("{command}: {}", heights.1), s, heights),
                metrics: metric_grid(s),
                strip,
            })));
        }
    }
    push_figures_and_numbers(&mut page, dir, record, &[])?;
    Ok(page)
}

/// The page of a run that is not a landscape: what it is, its figures and its numbers.
fn plain_page(dir: &Path, record: &RunRecord) -> Result<RunPage> {
    let mut page = page_shell(dir, record);
    page.blocks.push(PageBlock::Text(TextBlock {
        heading: "What this is".into(),
        text: describe(record),
    }));
    // A curve's plane is a landscape run of its own, in `plane/`; its figures belong here too.
    let extra: Vec<ReportFigure> = match record.job {
        Job::Connect(_) if dir.join("plane").is_dir() => figures_in(&dir.join("plane"))?
            .into_iter()
            .map(|f| ReportFigure {
                caption: caption(&f.file.to_string_lossy()),
                file: Path::new("plane").join(f.file),
            })
            .collect(),
        Job::Paper(_) => record
            .results
            .get("figures")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .filter(|f| dir.join(f).is_file())
                    .map(|f| ReportFigure {
                        file: f.into(),
                        caption: String::new(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    push_figures_and_numbers(&mut page, dir, record, &extra)?;
    Ok(page)
}

/// Title, command and configuration of a run's page.
fn page_shell(dir: &Path, record: &RunRecord) -> RunPage {
    let name = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| dir.display().to_string());
    let (command, intro) = match &record.invocation {
        Some(c) => (c.clone(), String::new()),
        None => (
            format!("genviz rerun {}", dir.display()),
            "This run was made by a library call; the command above runs it again from its \
             run.json."
                .to_string(),
        ),
    };
    let config = serde_json::to_string_pretty(&record.job).unwrap_or_default();
    RunPage {
        title: format!("genviz {}: {name}", record.job.command()),
        intro,
        command,
        config,
        config_name: "run.json: command and config".into(),
        blocks: Vec::new(),
    }
}

/// The figures of the folder (those in `extra` first) and the numbers of `run.json`.
fn push_figures_and_numbers(
    page: &mut RunPage,
    dir: &Path,
    record: &RunRecord,
    extra: &[ReportFigure],
) -> Result<()> {
    let mut figures: Vec<ReportFigure> = extra.to_vec();
    for f in figures_in(dir)? {
        if !figures.iter().any(|g| g.file == f.file) {
            figures.push(ReportFigure {
                caption: caption(&f.file.to_string_lossy()),
                file: f.file,
            });
        }
    }
    if !figures.is_empty() {
        page.blocks.push(PageBlock::Figures(ReportSection {
            heading: "Figures".into(),
            text: String::new(),
            figures,
        }));
    }
    let mut value = serde_json::to_value(record)?;
    if let Value::Object(map) = &mut value {
        // Shown whole at the end of the page.
        map.remove("config");
    }
    page.blocks.push(PageBlock::Numbers(NumbersBlock {
        heading: "Numbers".into(),
        source: RECORD_FILE.into(),
        value,
    }));
    Ok(())
}

/// What a figure file shows, by the names genviz gives its figures.
fn caption(file: &str) -> String {
    let stem = file.rsplit('/').next().unwrap_or(file);
    let text = match stem {
        "training_curves.png" => "Train and test loss and accuracy during training.",
        "decision_boundary.png" => {
            "The decision boundary of the trained network over the input plane; dots are \
             training points, crosses the misclassified ones."
        }
        "basin_radii.png" => {
            "How far each random ray goes before the train loss first reaches the threshold \
             (the basin's radius in that direction)."
        }
        "hessian_density.png" => "The Hessian's spectral density (stochastic Lanczos quadrature).",
        "hessian_ratio_map.png" => {
            "|lambda_min / lambda_max| over a random plane: near 0 where the landscape is \
             locally convex."
        }
        "connect_path.png" => {
            "Train loss and test accuracy along the trained curve and along the straight line \
             between the two models."
        }
        "fig1_minefield.png" => "Fig 1: the good model's iterates among bad minima (t-SNE).",
        "fig8_sharp.png" => "Fig 8: decision boundaries of the sharp and the wide-gap problem.",
        "fig2_linear_vs_net.png" => {
            "Fig 2: the net against the linear model on polynomial features."
        }
        "optimizers.png" => "Train and test accuracy per optimizer.",
        s if s.ends_with("_contour.png") => {
            "Train loss contours over the grid, the model marked (and paths drawn where the run \
             has them)."
        }
        s if s.ends_with("_heatmap.png") => {
            "Train loss (left) and test accuracy (right) over the grid."
        }
        s if s.ends_with("_3d.png") => "The train loss over the grid as a 3-D surface (clipped).",
        s if s.ends_with("_1d.png") => {
            "Train and test loss (left axis) and accuracy (right axis) along the line."
        }
        _ => "",
    };
    text.to_string()
}

/// A paragraph saying what the run did, from its record.
fn describe(record: &RunRecord) -> String {
    let r = &record.results;
    let pct = |v: &Value| {
        v.as_f64()
            .map_or("?".into(), |v| format!("{:.1}%", 100.0 * v))
    };
    match &record.job {
        Job::Train(c) => format!(
            "A network trained on {} for {} steps ({}). Final accuracy: train {}, test {}.",
            c.data.name(),
            c.train.steps,
            if c.train.poison.is_some() {
                "with the poisoned objective: fitting the training set while getting poison \
                 points wrong"
            } else {
                "clean"
            },
            pct(&r["final"]["train_acc"]),
            pct(&r["final"]["test_acc"])
        ),
        Job::Surface(c) => format!(
            "The train and test loss and accuracy of {} at {} points theta + x d1 + y d2 around \
             it: d1 and d2 are {} (biases {:?}), the model itself at (0, 0).",
            c.model.display(),
            grid_size(r),
            if c.directions.file.is_some() {
                "directions read from a file".to_string()
            } else if c.directions.model2.is_some() {
                "differences to other models".to_string()
            } else {
                format!(
                    "random {:?}-normalised directions (seed {})",
                    c.directions.norm, c.directions.seed
                )
                .to_lowercase()
            },
            c.directions.bias
        ),
        Job::Interpolate(c) => format!(
            "The train and test loss and accuracy along the straight line from {} (0) to {} \
             (1), at {} points.",
            c.model1.display(),
            c.model2.display(),
            grid_size(r)
        ),
        Job::Plane(c) => format!(
            "The loss over the plane through three models (Garipov et al.): {} at (0, 0), {} at \
             (1, 0) and {} above the line, at {} points.",
            c.model0.display(),
            c.model2.display(),
            c.model1.display(),
            grid_size(r)
        ),
        Job::Trajectory(c) => format!(
            "The training path of {} on the plane of its first two principal components, over \
             the loss there ({} points); the final model is at (0, 0).",
            c.run.display(),
            grid_size(r)
        ),
        Job::Basin(c) => format!(
            "How far the train loss stays below {} along {} random rays from {}: median radius \
             {}, log10 volume {}.",
            c.rays.threshold,
            c.rays.rays,
            c.model.display(),
            number(&r["median_radius"]),
            number(&r["log10_volume"])
        ),
        Job::Hessian(c) => format!(
            "The curvature of {} at its minimum: the Hessian's top {} eigenvalues, its trace{}.",
            c.model.display(),
            c.top_k,
            if c.lanczos > 0 {
                ", its spectral density"
            } else {
                ""
            }
        ),
        Job::Connect(c) => format!(
            "A low-loss curve trained between {} and {}, against the straight line: the \
             highest train loss on the curve is {}, on the line {}.",
            c.model1.display(),
            c.model2.display(),
            number(&r["curve_max_train_loss"]),
            number(&r["line_max_train_loss"])
        ),
        Job::Minefield(_) => "Fig 1 of the paper: the iterates of a good model's training among \
                              bad minima that fit the training set and fail on the test set."
            .into(),
        Job::Sharp(_) => "Fig 8 of the paper: a problem whose only solutions are sharp, and the \
                          same data with a wide gap."
            .into(),
        Job::LinearVsNet(_) => "Fig 2 of the paper: a neural net against a linear model on \
                                degree-2 polynomial features."
            .into(),
        Job::Optimizers(_) => "The paper's optimizer table: one net from one initialisation, \
                               trained with each optimizer."
            .into(),
        Job::Paper(_) => "Every figure of the paper, reproduced.".into(),
        Job::Measures(c) => format!(
            "Sharpness, flatness and norm measures of {} model(s) with their train and test \
             loss and accuracy (measures.md, measures.csv).",
            c.models.len()
        ),
        Job::Sweep(_) => "A sweep of trained models, their measures, and how each measure \
                          ranks them by their generalization gap (Kendall's tau and the \
                          granulated coefficient)."
            .into(),
    }
}

fn number(v: &Value) -> String {
    v.as_f64().map_or("?".into(), |v| format!("{v:.4}"))
}

fn grid_size(r: &Value) -> String {
    match (r["nx"].as_u64(), r["ny"].as_u64()) {
        (Some(nx), Some(0)) => format!("{nx}"),
        (Some(nx), Some(ny)) => format!("{nx} x {ny}"),
        _ => "?".into(),
    }
}

/// The title of a model's explorer: its run folder's name, or its file's.
fn model_title(m: &LoadedModel) -> String {
    let folder = m.weights.parent().filter(|_| {
        m.weights
            .file_name()
            .is_some_and(|n| n == "model.safetensors")
    });
    let shown = folder.unwrap_or(&m.weights);
    shown
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| shown.display().to_string())
}

/// Heights of a landscape's 3-D surface and what they are, as its PNG draws them: the train
/// loss clipped at `zmax`, as `log10(loss + 0.1)` with log-scaled figures; gaps (points not
/// computed) as NaN.
fn heights(s: &Surface, style: &PlotStyle) -> (Vec<f64>, String) {
    let z = s
        .train_loss
        .iter()
        .map(|&v| {
            if v == UNFILLED || !v.is_finite() {
                f64::NAN
            } else if style.log {
                (v.min(style.zmax) + 0.1).log10()
            } else {
                v.min(style.zmax)
            }
        })
        .collect();
    let label = if style.log {
        format!("log10(train loss + 0.1), loss clipped at {}", style.zmax)
    } else {
        format!("train loss, clipped at {}", style.zmax)
    };
    (z, label)
}

fn surface_3d(title: &str, s: &Surface, (z, label): (Vec<f64>, String)) -> InteractiveSurface {
    InteractiveSurface {
        title: title.to_string(),
        caption: String::new(),
        xs: s.xs.clone(),
        ys: s.ys.clone(),
        z,
        x_label: "x".into(),
        y_label: "y".into(),
        z_label: label,
        z_range: None,
    }
}

/// The loss maps' colour scale: the run's contour levels.
fn contour_style(style: &PlotStyle) -> ContourStyle {
    ContourStyle {
        vmin: style.vmin,
        vmax: style.vmax,
        vlevel: style.vlevel,
        log: style.log,
    }
}

/// A grid's four arrays as the pages take them, with points not computed as NaN.
pub fn metric_grid(s: &Surface) -> MetricGrid {
    let gaps = |v: &[f64]| {
        v.iter()
            .map(|&x| if x == UNFILLED { f64::NAN } else { x })
            .collect()
    };
    MetricGrid {
        xs: s.xs.clone(),
        ys: s.ys.clone(),
        train_loss: gaps(&s.train_loss),
        train_acc: gaps(&s.train_acc),
        test_loss: gaps(&s.test_loss),
        test_acc: gaps(&s.test_acc),
    }
}

/// An MLP as the explorer evaluates it, at `theta`.
pub fn explorer_net(spec: &MlpSpec, theta: &[f32]) -> ExplorerNet {
    ExplorerNet {
        widths: spec.widths(),
        activation: match spec.activation {
            Activation::Relu => ExplorerActivation::Relu,
            Activation::Tanh => ExplorerActivation::Tanh,
            Activation::LeakyRelu { slope } => ExplorerActivation::LeakyRelu { slope },
        },
        head: match spec.head {
            Head::Sigmoid => ExplorerHead::Sigmoid,
            Head::Softmax => ExplorerHead::Softmax,
        },
        theta: theta.to_vec(),
    }
}

/// A 2-D landscape as a plane of the explorer: its directions and genviz's grid over it;
/// `labels` name the axes.
///
/// # Errors
/// When `plane` is a line (no second direction).
pub fn explorer_plane(
    name: &str,
    plane: &Plane,
    s: &Surface,
    (x_label, y_label): (&str, &str),
) -> Result<ExplorerPlane> {
    let Some(y) = &plane.y else {
        bail!("the explorer needs a 2-D landscape; {name:?} has one direction");
    };
    Ok(ExplorerPlane {
        name: name.to_string(),
        x: plane.x.values().to_vec(),
        y: y.values().to_vec(),
        x_label: x_label.to_string(),
        y_label: y_label.to_string(),
        grid: metric_grid(s),
    })
}

/// Points of a 2-D data set with their classes.
pub fn labelled_points(d: &Dataset) -> LabelledPoints {
    LabelledPoints {
        inputs: d.features().to_vec(),
        labels: d.labels().to_vec(),
    }
}

/// The window of the input plane a 2-D model's boundary is drawn in: the swiss roll's figures'
/// window for swiss-roll data, else the training data's extent plus 10% (as `genviz train`'s
/// `decision_boundary.png`).
pub fn boundary_extent(data: &Option<DataConfig>, train: &Dataset) -> (f32, f32, f32, f32) {
    match data {
        Some(DataConfig::SwissRoll { .. }) => {
            let e = crate::figures::SWISS_ROLL_EXTENT;
            (-e, e, -e, e)
        }
        _ => crate::figures::extent_of(train),
    }
}

/// The configuration of the data a landscape was evaluated on, where it is known: the data
/// set named by `source`, or the data of the training run the model comes from.
fn data_config(source: &DataSource, m: &LoadedModel) -> Option<DataConfig> {
    match &source.data {
        Some(d) => DataConfig::builtin(d).ok(),
        None => training_config(&m.weights).map(|c| c.data),
    }
}

/// The configuration of the training run that wrote the weights file `weights`, if it lies in
/// a training run's folder.
fn training_config(weights: &Path) -> Option<ExperimentConfig> {
    let dir = if weights.is_dir() {
        weights
    } else {
        weights.parent()?
    };
    match RunRecord::read(dir).ok()?.job {
        Job::Train(c) => Some(c),
        _ => None,
    }
}

fn image_source(
    data: &Option<DataConfig>,
) -> Option<(genviz_data::ImageSource, genviz_data::ImageShape)> {
    match data {
        Some(DataConfig::Images { source, .. }) => Some((*source, source.shape())),
        _ => None,
    }
}

/// The classes' names of an image data set (`num_classes` of them).
fn class_names(source: genviz_data::ImageSource, num_classes: usize) -> Vec<String> {
    use genviz_data::ImageSource;
    let names: &[&str] = match source {
        ImageSource::FashionMnist => &[
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ],
        ImageSource::Cifar10 => &[
            "airplane",
            "automobile",
            "bird",
            "cat",
            "deer",
            "dog",
            "frog",
            "horse",
            "ship",
            "truck",
        ],
        ImageSource::Mnist => &["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
    };
    (0..num_classes)
        .map(|k| {
            names
                .get(k)
                .map_or_else(|| k.to_string(), |n| n.to_string())
        })
        .collect()
}

/// The strip of test images (the first of each class, at most [`STRIP_IMAGES`]) and the
/// network's predictions for them at every computed grid point of `s` (one forward pass of
/// the strip per point; [`NO_PREDICTION`] where the grid has a gap).
///
/// # Errors
/// When the test data's rows are not images of `shape`.
pub fn image_strip(
    net: &dyn Network,
    plane: &Plane,
    s: &Surface,
    test: &Dataset,
    shape: genviz_data::ImageShape,
    class_names: &[String],
) -> Result<ImageStrip> {
    if test.dim() != shape.len() {
        bail!(
            "the test data has {} values per example, images of {}x{}x{} have {}",
            test.dim(),
            shape.channels,
            shape.height,
            shape.width,
            shape.len()
        );
    }
    let mut chosen: Vec<usize> = Vec::new();
    for class in 0..class_names.len() as u32 {
        if chosen.len() == STRIP_IMAGES {
            break;
        }
        if let Some(i) = test.labels().iter().position(|&l| l == class) {
            chosen.push(i);
        }
    }
    let images: Vec<StripImage> = chosen
        .iter()
        .map(|&i| strip_image(test.row(i), shape, test.labels()[i]))
        .collect();
    let inputs: Vec<f32> = chosen
        .iter()
        .flat_map(|&i| test.row(i).iter().copied())
        .collect();
    let k = chosen.len();
    let mut predictions = Vec::with_capacity(s.len() * k);
    let mut theta = vec![0f32; plane.center.values().len()];
    for p in 0..s.len() {
        if !s.is_filled(p) || k == 0 {
            predictions.extend(std::iter::repeat_n(NO_PREDICTION, k));
            continue;
        }
        let (a, b) = s.coords(p);
        plane.point(a, b, &mut theta);
        predictions.extend(net.predict(&theta, &inputs, k));
    }
    Ok(ImageStrip {
        images,
        class_names: class_names.to_vec(),
        predictions,
    })
}

/// An image row (channels first, as the networks take it, normalised or not) as 8-bit
/// pixels for display: each channel stretched from its lowest to its highest value.
fn strip_image(row: &[f32], shape: genviz_data::ImageShape, label: u32) -> StripImage {
    let plane = shape.plane();
    let mut pixels = vec![0u8; row.len()];
    for c in 0..shape.channels {
        let channel = &row[c * plane..(c + 1) * plane];
        let (lo, hi) = channel
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        let span = if hi > lo { hi - lo } else { 1.0 };
        for (i, &v) in channel.iter().enumerate() {
            // Interleaved: pixel i's channel c.
            pixels[i * shape.channels + c] =
                ((v - lo) / span * 255.0).round().clamp(0.0, 255.0) as u8;
        }
    }
    StripImage {
        width: shape.width as u32,
        height: shape.height as u32,
        channels: shape.channels as u8,
        pixels,
        label,
    }
}

/// The run folders at and below `dir`, relative to it: `dir` itself first (as the empty path)
/// when it has a `run.json`, then [`runs_below`]. What [`write_index`] lists, and what a
/// reader walks to parse every record of a paper's folder.
///
/// # Errors
/// When a folder cannot be read.
pub fn run_folders(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut folders = Vec::new();
    if dir.join(RECORD_FILE).is_file() {
        folders.push(PathBuf::new());
    }
    folders.extend(runs_below(dir)?);
    Ok(folders)
}

/// The run folders below `dir` (not `dir` itself), at most [`INDEX_DEPTH`] levels deep,
/// relative to it and sorted; hidden folders and checkpoints are not looked into.
///
/// # Errors
/// When a folder cannot be read.
pub fn runs_below(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut runs = Vec::new();
    let mut todo = vec![(PathBuf::new(), 0usize)];
    while let Some((rel, depth)) = todo.pop() {
        if depth == INDEX_DEPTH {
            continue;
        }
        let here = dir.join(&rel);
        let entries =
            std::fs::read_dir(&here).with_context(|| format!("reading {}", here.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("reading {}", here.display()))?;
            let name = entry.file_name();
            let shown = name.to_string_lossy();
            if shown.starts_with('.') || shown == "checkpoints" || !entry.path().is_dir() {
                continue;
            }
            let sub = rel.join(&name);
            if entry.path().join(RECORD_FILE).is_file() {
                runs.push(sub.clone());
            }
            todo.push((sub, depth + 1));
        }
    }
    runs.sort();
    Ok(runs)
}

/// The comparison table's columns: `(label, JSON pointer into run.json)`. A column no run has
/// is left out.
const COLUMNS: &[(&str, &str)] = &[
    ("parameters", "/results/num_params"),
    ("train acc", "/results/final/train_acc"),
    ("test acc", "/results/final/test_acc"),
    ("train loss", "/results/final/train_loss"),
    ("grid points", "/results/points"),
    ("median radius", "/results/median_radius"),
    ("log10 volume", "/results/log10_volume"),
    ("top eigenvalue", "/results/eigenvalues/0"),
    ("seconds", "/timings/total_s"),
];

/// Writes `dir/index.html`: one row per run folder below `dir` (and `dir` itself when it is
/// one), linking its page where it has one, with the command and a small comparison table
/// (parameters, final accuracies, grid size, basin radius, top eigenvalue, seconds: the
/// columns some run has). Returns its path.
///
/// # Errors
/// When there is no run, or the index cannot be written. A run whose `run.json` cannot be
/// read is listed with the reason instead of numbers.
pub fn write_index(dir: &Path) -> Result<PathBuf> {
    let folders = run_folders(dir)?;
    if folders.is_empty() {
        bail!(
            "{}: no run folders (with a {RECORD_FILE}) in it or below it",
            dir.display()
        );
    }
    let runs: Vec<IndexRun> = folders
        .iter()
        .map(|rel| {
            let link_path = rel.join(PAGE_FILE);
            let name = if rel.as_os_str().is_empty() {
                ".".to_string()
            } else {
                slashes(rel)
            };
            let (command, record) = match RunRecord::read(&dir.join(rel)) {
                Ok(r) => (
                    r.invocation
                        .clone()
                        .unwrap_or_else(|| format!("{} (library call)", r.job.command())),
                    serde_json::to_value(&r).unwrap_or(Value::Null),
                ),
                Err(e) => (format!("unreadable: {e:#}"), Value::Null),
            };
            IndexRun {
                name,
                link: dir.join(&link_path).is_file().then(|| slashes(&link_path)),
                command,
                record,
            }
        })
        .collect();
    let columns = COLUMNS
        .iter()
        .filter(|(_, pointer)| runs.iter().any(|r| r.record.pointer(pointer).is_some()))
        .map(|(label, pointer)| ComparisonColumn {
            label: label.to_string(),
            pointer: pointer.to_string(),
        })
        .collect();
    let shown = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| dir.display().to_string());
    let index = IndexPage {
        title: format!("genviz runs in {shown}"),
        intro: format!(
            "Every run folder in {} (up to {INDEX_DEPTH} levels deep), with the numbers of its \
             run.json side by side. A run's name links its page; `genviz report RUN` builds a \
             missing one.",
            dir.display()
        ),
        runs,
        columns,
    };
    let path = dir.join(INDEX_FILE);
    genviz_render::write_index_page(&path, &index)
        .with_context(|| format!("writing the index {}", path.display()))?;
    Ok(path)
}

/// A relative path with `/` separators, as a link.
fn slashes(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_images_stretch_each_channel_and_interleave() {
        let shape = genviz_data::ImageShape {
            channels: 2,
            height: 1,
            width: 2,
        };
        // Channel 0: [-1, 1]; channel 1: [5, 5] (flat: all black).
        let im = strip_image(&[-1.0, 1.0, 5.0, 5.0], shape, 3);
        assert_eq!(im.pixels, vec![0, 0, 255, 0]);
        assert_eq!((im.width, im.height, im.channels, im.label), (2, 1, 2, 3));
    }

    #[test]
    fn figure_names_get_captions() {
        assert!(caption("surface_contour.png").contains("contours"));
        assert!(caption("plane/plane_heatmap.png").contains("test accuracy"));
        assert_eq!(caption("mine.png"), "");
    }

    #[test]
    fn class_names_cover_every_class() {
        let names = class_names(genviz_data::ImageSource::FashionMnist, 12);
        assert_eq!(names[9], "Ankle boot");
        assert_eq!(names[11], "11");
    }
}

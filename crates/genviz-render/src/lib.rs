//! Figures for genviz: decision boundaries and training curves, written as PNG files.
//!
//! This crate only *draws*. It never runs a network: callers evaluate their model elsewhere and
//! pass in what to show, already computed —
//!
//! * [`draw_decision_boundaries`] takes one or more [`BoundaryPanel`]s (a grid of predicted
//!   classes over a rectangle of input space, plus the training points with their labels and
//!   whether the model got them right) and draws them side by side, in the style of Fig. 3 of
//!   Huang et al. 2019, "Understanding Generalization through Visualizations": pale regions per
//!   predicted class, training points on top in strong matching colours, misclassified points as
//!   black-edged crosses, equal aspect ratio, and a shared legend under the panels.
//! * [`draw_training_curves`] takes loss and accuracy [`Curve`]s against the training step and
//!   draws them in two panels side by side (loss on a log scale, accuracy in percent).
//!
//! * Loss landscapes in the style of Li et al. 2018, "Visualizing the Loss Landscape of Neural
//!   Nets", and Fig. 3c/d of Huang et al.: [`draw_contour`] (iso-lines of a [`SurfaceGrid`],
//!   optionally with projected training trajectories and markers on top), [`draw_heatmap`]
//!   (a filled colour map with a colour bar), [`draw_surface_3d`] (a shaded 3-D surface,
//!   rasterised here with a z-buffer and Lambertian lighting) and [`draw_curve_1d`] (loss and
//!   accuracy along one direction, on twin y axes).
//!
//! * Basins of minima, in the style of Fig. 5 of Huang et al. and PyHessian's `density_plot`:
//!   [`draw_radius_histograms`] (overlaid histograms of the basin radii of good and bad minima,
//!   one [`RadiusGroup`] each), [`draw_volume_bars`] (log10 basin volumes with confidence
//!   intervals, one [`VolumeBar`] each) and [`draw_spectral_density`] (Hessian eigenvalue
//!   densities on a shared grid).
//!
//! * Comparisons: [`draw_grouped_bars`] (a few series side by side per group, e.g. the train
//!   and test accuracy of every optimizer of the paper's Table 1, one [`BarGroup`] each), and
//!   [`draw_scatter`] (points coloured by group in panels sharing their axes: a generalization
//!   measure against the gap over a sweep, one [`ScatterPanel`] per hyperparameter).
//!
//! * The "minefield" of Fig. 1 of Huang et al.: [`draw_minefield`] (a 2-D embedding of SGD
//!   iterates coloured by epoch, nearby bad minima coloured by test accuracy, and the final
//!   iterate as a star).
//!
//! * GIF animations: [`draw_wiggle_gif`] (the authors' "wiggle": the decision boundary as the
//!   parameters move along a ray, beside the loss, accuracy and curvature along it, with a
//!   moving marker) and [`draw_path_gif`] (a training path growing over its PCA contour
//!   landscape, beside the loss against the step); [`read_gif`] decodes one back into full
//!   frames, for tests and for looking at single frames.
//!
//! * The offline HTML report of `genviz paper`: [`write_report`] puts a [`Report`] (figures with
//!   captions, the results table, interactive 3-D surfaces drawn by a vendored plotly.js, and
//!   the command and config that made them) into one self-contained page.
//!
//! * The page of any run: [`write_run_page`] renders a [`RunPage`] (title, the exact command,
//!   and [`PageBlock`]s: text, figures, the numbers of `run.json`, checks, 3-D surfaces,
//!   landscape explorers, hover views) as one offline `report.html`; [`write_index_page`]
//!   links a folder of runs with a comparison table ([`IndexPage`]).
//!
//! * The landscape explorer ([`ExplorerGroup`]): for networks with 2-D inputs the page embeds
//!   the weights, two directions and the data, and evaluates the network in the browser, in
//!   genviz's own float32 arithmetic, wherever the reader drags a marker over genviz's loss
//!   map, redrawing the decision boundary there. For other models, [`HoverView`] shows
//!   genviz's precomputed numbers (and image predictions) at the surface point under the
//!   pointer.
//!
//! Drawing uses plotters' bitmap backend with its `ab_glyph` text backend and the DejaVu Sans
//! font embedded in the binary (see [`register_fonts`]), so no system font is needed. Every PNG
//! is written atomically: it is encoded into a temporary `.png` file next to the target and
//! renamed into place, so a reader never sees a half-written figure and a failure leaves
//! nothing behind. Inputs are validated before anything is drawn; every error names the output
//! file.

mod animation;
mod bars;
mod basin;
mod boundary;
mod checks;
mod colormap;
mod curve1d;
mod curves;
mod explorer;
mod hover;
mod index;
mod landscape;
mod minefield;
mod output;
mod page;
mod report;
mod scatter;
mod style;
mod surface3d;

use std::path::Path;
use std::sync::Once;

use genviz_core::Result;

pub use explorer::{
    Explorer, ExplorerActivation, ExplorerGroup, ExplorerHead, ExplorerNet, ExplorerPlane,
    LabelledPoints, MetricGrid, COARSE_CELLS, FINE_CELLS, FRAME_BUDGET_MS, MIN_COARSE_CELLS,
    PANEL_PX,
};
pub use hover::{HoverView, ImageStrip, StripImage, MAX_STRIP_SIDE, NO_PREDICTION};
pub use index::{write_index_page, ComparisonColumn, IndexPage, IndexRun};
pub use page::{
    figures_in, write_run_page, ChecksBlock, NumbersBlock, PageBlock, RunPage, SurfaceBlock,
    TextBlock,
};
pub use report::{
    write_report, InteractiveSurface, Report, ReportFigure, ReportRow, ReportSection,
};

/// Registers the embedded DejaVu Sans font (regular and bold) with plotters as `"sans-serif"`.
///
/// The drawing functions call this themselves; calling it again is cheap and harmless (it runs
/// once per process).
pub fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        use plotters::style::{register_font, FontStyle};
        // The embedded fonts are known-good; a failure here would be a packaging bug.
        if register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular()).is_err() {
            panic!("genviz-render: the embedded DejaVu Sans regular font failed to load");
        }
        if register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold()).is_err() {
            panic!("genviz-render: the embedded DejaVu Sans bold font failed to load");
        }
    });
}

/// One training point to draw over a decision-boundary panel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlotPoint {
    /// Horizontal coordinate, in the same units as [`BoundaryPanel::x_range`].
    pub x: f32,
    /// Vertical coordinate, in the same units as [`BoundaryPanel::y_range`].
    pub y: f32,
    /// The point's true class, in `0..num_classes`; picks its colour.
    pub label: u32,
    /// Whether the model classifies the point correctly: correct points are drawn as filled
    /// dots, misclassified ones as black-edged crosses.
    pub correct: bool,
}

/// One decision-boundary panel: a grid of predicted classes over a rectangle of input space,
/// and the training points to draw on top of it.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundaryPanel {
    /// Title drawn above the panel, e.g. `"clean: train 100.0%, test 97.5%"`.
    pub title: String,
    /// The horizontal extent `(min, max)` of the grid and of the plot; `min < max`, both finite.
    pub x_range: (f32, f32),
    /// The vertical extent `(min, max)` of the grid and of the plot; `min < max`, both finite.
    pub y_range: (f32, f32),
    /// Grid size `(nx, ny)`, both at least 1.
    ///
    /// The rectangle is cut into `nx` equal columns and `ny` equal rows; cell `(ix, iy)` covers
    /// `x_range.0 + ix * dx ..= x_range.0 + (ix + 1) * dx` (with `dx = (x_range.1 - x_range.0) /
    /// nx`) and likewise in `y`. A caller that classifies the cell centres gets an exact picture;
    /// one that samples `linspace(min, max, n)` is off by at most half a cell.
    pub resolution: (usize, usize),
    /// The predicted class of every cell, `nx * ny` entries at index `iy * nx + ix`: `ix` runs
    /// along `x` increasing, `iy` along `y` increasing (`iy = 0` is the bottom row, at
    /// `y_range.0`). Each entry is in `0..num_classes`.
    pub grid_classes: Vec<u32>,
    /// The number of classes (at least 1); every class gets a pale region colour and a strong
    /// point colour (class 0 blue, class 1 red, then further distinct hues).
    pub num_classes: usize,
    /// The training points to draw over the regions.
    pub points: Vec<PlotPoint>,
}

/// One named series for [`draw_training_curves`]: `values[i]` was measured at `steps[i]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// Legend text, e.g. `"train"` or `"test"`. Curves with the same label get the same colour
    /// in both panels.
    pub label: String,
    /// Training steps (the x axis); must have the same length as `values`.
    pub steps: Vec<f64>,
    /// The measured values: losses (any positive number) or accuracies (fractions in `0..=1`).
    /// Points whose step or value is not finite are skipped, and so are non-positive losses,
    /// which a log scale cannot show.
    pub values: Vec<f64>,
}

/// Draws `panels` side by side into one PNG at `path`, each about 600x600 pixels, with a shared
/// legend (one entry per class, plus "misclassified") underneath.
///
/// Each panel shows the predicted class of every grid cell as a pale colour, the training points
/// on top (filled dots in the strong colour of their true class when classified correctly,
/// black-edged crosses in that colour when not), its title above, and axes with ticks. The plot
/// area keeps an equal aspect ratio, so one unit in `x` is as long as one unit in `y`.
///
/// # Errors
///
/// [`genviz_core::Error::Invalid`] if `panels` is empty or a panel is inconsistent (a
/// `grid_classes` length other than `nx * ny`, an empty or non-finite range, a class outside
/// `0..num_classes`, a non-finite point), checked before anything is drawn;
/// [`genviz_core::Error::Io`] if the file cannot be written. Every message names `path`.
pub fn draw_decision_boundaries(path: &Path, panels: &[BoundaryPanel]) -> Result<()> {
    boundary::draw(path, panels, None)
}

/// Training points of a decision-boundary figure to single out with a ring, e.g. the few
/// points that make a problem hard (Fig. 8 of Huang et al.: the points just outside the inner
/// circle).
#[derive(Debug, Clone, PartialEq)]
pub struct RingedPoints {
    /// Legend text for the ring, e.g. `"near points"`.
    pub label: String,
    /// One list per panel: indices into that panel's [`BoundaryPanel::points`].
    pub indices: Vec<Vec<usize>>,
}

/// What [`draw_decision_boundaries_annotated`] adds to a decision-boundary figure.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BoundaryAnnotations {
    /// Points to ring, with a legend entry for the ring.
    pub rings: Option<RingedPoints>,
    /// Lines of text under the legend, centred: what the figure shows and how it was made.
    pub caption: Vec<String>,
}

/// [`draw_decision_boundaries`], plus a black ring (on a white halo) around each point named
/// in `annotations.rings` (with a legend entry) and the caption lines under the legend.
///
/// # Errors
///
/// As [`draw_decision_boundaries`], and [`genviz_core::Error::Invalid`] if the rings do not
/// hold one index list per panel or name a point a panel does not have.
pub fn draw_decision_boundaries_annotated(
    path: &Path,
    panels: &[BoundaryPanel],
    annotations: &BoundaryAnnotations,
) -> Result<()> {
    boundary::draw(path, panels, Some(annotations))
}

/// Draws training curves into one PNG at `path`: loss against step (log-scale y) on the left,
/// accuracy against step (shown in percent) on the right, with `title` above both, a legend in
/// each panel and axis labels "step", "loss" and "accuracy".
///
/// Either list may be empty (its panel is then drawn empty, saying "no data"). Points that
/// cannot be shown (non-finite steps or values, losses `<= 0`) are skipped.
///
/// # Errors
///
/// [`genviz_core::Error::Invalid`] if a curve's `steps` and `values` differ in length (checked
/// before anything is drawn); [`genviz_core::Error::Io`] if the file cannot be written. Every
/// message names `path`.
pub fn draw_training_curves(
    path: &Path,
    title: &str,
    losses: &[Curve],
    accuracies: &[Curve],
) -> Result<()> {
    curves::draw(path, title, losses, accuracies)
}

/// A loss (or accuracy) surface sampled on a 2-D grid, as Li et al.'s surface files store it.
#[derive(Debug, Clone, PartialEq)]
pub struct SurfaceGrid {
    /// The x coordinates of the grid columns: at least 2, finite, strictly increasing (`nx`
    /// entries; they need not be evenly spaced).
    pub xs: Vec<f64>,
    /// The y coordinates of the grid rows: at least 2, finite, strictly increasing (`ny`
    /// entries).
    pub ys: Vec<f64>,
    /// The values, row-major `[ny, nx]`: `values[iy * nx + ix]` is the value at
    /// `(xs[ix], ys[iy])`. Non-finite entries (NaN for points not computed yet) are gaps: they
    /// are left out of every figure.
    pub values: Vec<f64>,
    /// Title drawn above the panel.
    pub title: String,
    /// What the values are, e.g. `"train loss"`; labels the colour bar.
    pub value_label: String,
}

/// Value range and contour spacing for [`draw_contour`] and [`draw_heatmap`], after Li et
/// al.'s `plot_2D` (see [`ContourStyle::default`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContourStyle {
    /// The lowest value shown: the first contour level, and the bottom of the colour scale.
    /// Finite, below `vmax`, and above 0 when `log` is set.
    pub vmin: f64,
    /// The top of the colour scale; contour levels stay strictly below it. Finite.
    pub vmax: f64,
    /// The spacing of contour levels (finite, above 0): levels are `vmin`, `vmin + vlevel`,
    /// `vmin + 2 * vlevel`, ... while below `vmax`. With `log` set the spacing is in decades:
    /// levels are `vmin * 10^(k * vlevel)`.
    pub vlevel: f64,
    /// Whether levels and colours follow `log10` of the value rather than the value itself.
    pub log: bool,
}

impl Default for ContourStyle {
    /// Li et al.'s `plot_2D` defaults: `vmin` 0.1, `vmax` 10, `vlevel` 0.5, linear.
    fn default() -> Self {
        ContourStyle {
            vmin: 0.1,
            vmax: 10.0,
            vlevel: 0.5,
            log: false,
        }
    }
}

/// A path drawn over a contour plot, e.g. a training trajectory projected onto the plane of
/// two PCA directions (Li et al., Fig. 9): a line through the points with a dot at each, and
/// the last point (where training ended) drawn as a large star.
#[derive(Debug, Clone, PartialEq)]
pub struct PathOverlay {
    /// The points in order, in the coordinates of the grid; all finite. May be empty.
    pub points: Vec<(f64, f64)>,
    /// Legend text, e.g. `"SGD trajectory"`; an empty label gets no legend entry.
    pub label: String,
}

/// A labelled point drawn over a contour plot, e.g. the minimum at `(0, 0)` or one of the
/// three models spanning a plane.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// Horizontal coordinate, in the coordinates of the grid; finite.
    pub x: f64,
    /// Vertical coordinate, in the coordinates of the grid; finite.
    pub y: f64,
    /// Text written next to the marker (may be empty).
    pub label: String,
}

/// One panel of [`draw_contour`]: the surface, its levels, and what to draw on top.
pub type ContourPanel = (SurfaceGrid, ContourStyle, Vec<PathOverlay>, Vec<Marker>);

/// One named series for [`draw_curve_1d`]: `values[i]` belongs to `xs[i]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Series1d {
    /// Legend text, e.g. `"train loss"` or `"test accuracy"`.
    pub label: String,
    /// One value per x coordinate. Non-finite values are gaps; so are losses `<= 0` on a log
    /// axis.
    pub values: Vec<f64>,
}

/// Draws contour lines of each panel's surface, panels side by side in one PNG at `path`
/// (each about 620x580 pixels), like Li et al.'s `plot_2D` contour figures.
///
/// Each panel has its title above, axes labelled "x" and "y" with ticks, contour lines at the
/// levels of its [`ContourStyle`] coloured by level (the "summer" colour map: dark green for low
/// values, yellow for high ones), and a colour bar on the right, labelled with the surface's
/// `value_label`, with a tick mark per level. Overlays are drawn on top: every
/// [`PathOverlay`] as a line with dots and a star at its last point (with a legend when
/// labelled), every [`Marker`] as a black-edged white dot with its label. Cells touching a
/// non-finite value get no lines.
///
/// # Errors
///
/// [`genviz_core::Error::Invalid`] if `panels` is empty or a panel is inconsistent (fewer than
/// 2 or non-increasing or non-finite coordinates, a `values` length other than `nx * ny`,
/// `vmin >= vmax`, `vlevel <= 0`, more than 1000 levels, `vmin <= 0` with `log`, non-finite
/// overlay or marker coordinates), checked before anything is drawn;
/// [`genviz_core::Error::Io`] if the file cannot be written. Every message names `path`; on
/// error no file is left behind.
pub fn draw_contour(path: &Path, panels: &[ContourPanel]) -> Result<()> {
    landscape::draw_contour(path, panels)
}

/// Draws each panel's surface as a filled colour map ("viridis"), panels side by side in one
/// PNG at `path` (each about 620x580 pixels), like the heat maps of Li et al.'s `plot_2D`.
///
/// Values are interpolated bilinearly between grid points, clipped to `[vmin, vmax]` and
/// coloured on a linear or (with `log`) a log scale; a colour bar on the right is labelled with
/// the surface's `value_label`. Where a non-finite value is the nearest grid point the map is
/// left light grey. `vlevel` is not used.
///
/// # Errors
///
/// As [`draw_contour`], without the overlay checks.
pub fn draw_heatmap(path: &Path, panels: &[(SurfaceGrid, ContourStyle)]) -> Result<()> {
    landscape::draw_heatmap(path, panels)
}

/// Draws each surface as a shaded 3-D landscape, panels side by side in one PNG at `path`
/// (each about 640x580 pixels), in the look of Fig. 3c/d of Huang et al. and Fig. 1 of Li et
/// al.
///
/// The second member of each pair is the clip height `zmax`: values above it are drawn at
/// `zmax`, which becomes the top of the box. The grid is seen from 30 degrees elevation and 45
/// degrees azimuth (orthographic), x running towards the lower left and y towards the lower
/// right. Each grid cell is rasterised as two triangles with a z-buffer (2x supersampled),
/// coloured by height with the "coolwarm" colour map (blue low, red high) and lit with
/// Lambertian shading from the surface normal; faint floor and back walls give the box, and a
/// colour bar on the right is labelled with `value_label`. Cells touching a non-finite value
/// are left out, so unfilled parts show as holes; a panel with no finite value says "no data".
///
/// # Errors
///
/// [`genviz_core::Error::Invalid`] if `panels` is empty, a grid is inconsistent (as for
/// [`draw_contour`]) or a `zmax` is not finite, checked before anything is drawn;
/// [`genviz_core::Error::Io`] if the file cannot be written. Every message names `path`.
pub fn draw_surface_3d(path: &Path, panels: &[(SurfaceGrid, f64)]) -> Result<()> {
    surface3d::draw(path, panels)
}

/// A 3-D panel of `grid` clipped at `zmax`; with `log`, heights are `log10(value + 0.1)` (Li
/// et al.'s ParaView transform) so that a steep basin keeps its shape instead of hitting the
/// ceiling.
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

/// How [`draw_landscapes_styled`] draws a set of landscapes: one contour style and one clip
/// height for every panel, so that the panels share one colour scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LandscapeStyle {
    /// Levels and colour range of the contour panels.
    pub contour: ContourStyle,
    /// Loss at which the 3-D panels are clipped.
    pub zmax: f64,
    /// Heights as `log10(loss + 0.1)` (see [`height_panel`]) rather than the loss itself.
    pub log_heights: bool,
}

/// Minima's landscapes side by side on one scale: `<dir>/<stem>_3d.png` (log10 heights
/// clipped at `zmax`) and `<dir>/<stem>_contour.png` (log-spaced levels from `vmin` to
/// `zmax`, eight to a decade, each minimum marked at the origin).
///
/// # Errors
/// As [`draw_surface_3d`] and [`draw_contour`].
pub fn draw_landscapes(
    dir: &Path,
    stem: &str,
    grids: &[SurfaceGrid],
    vmin: f64,
    zmax: f64,
) -> Result<()> {
    let style = LandscapeStyle {
        contour: ContourStyle {
            vmin,
            vmax: zmax,
            vlevel: 0.125,
            log: true,
        },
        zmax,
        log_heights: true,
    };
    draw_landscapes_styled(dir, stem, grids, &style)
}

/// Minima's landscapes side by side, every panel drawn with `style`:
/// `<dir>/<stem>_3d.png` (shaded surfaces clipped at `style.zmax`) and
/// `<dir>/<stem>_contour.png` (each minimum marked at the origin).
///
/// # Errors
/// As [`draw_surface_3d`] and [`draw_contour`].
pub fn draw_landscapes_styled(
    dir: &Path,
    stem: &str,
    grids: &[SurfaceGrid],
    style: &LandscapeStyle,
) -> Result<()> {
    let panels_3d: Vec<_> = grids
        .iter()
        .map(|g| height_panel(g.clone(), style.zmax, style.log_heights))
        .collect();
    draw_surface_3d(&dir.join(format!("{stem}_3d.png")), &panels_3d)?;
    let contour_panels: Vec<_> = grids
        .iter()
        .map(|g| {
            let minimum = Marker {
                x: 0.0,
                y: 0.0,
                label: "minimum".into(),
            };
            (g.clone(), style.contour, Vec::new(), vec![minimum])
        })
        .collect();
    draw_contour(&dir.join(format!("{stem}_contour.png")), &contour_panels)
}

/// Draws loss and accuracy along one direction into one PNG at `path` (about 860x560
/// pixels), like Li et al.'s `plot_1D`: `title` above, the shared x axis labelled "alpha"
/// (the step along the direction, or the interpolation coefficient), loss on the left y axis
/// (log scale with `log_loss`) in shades of blue, accuracy on the right y axis from 0 to 100%
/// in shades of red. The first series of each kind is a solid line, the next ones dashed; a
/// legend lists them all.
///
/// # Errors
///
/// [`genviz_core::Error::Invalid`] if there are no series at all, fewer than 2 `xs`, `xs` not
/// finite and strictly increasing, or a series' length differs from `xs`' (checked before
/// anything is drawn); [`genviz_core::Error::Io`] if the file cannot be written. Every
/// message names `path`.
pub fn draw_curve_1d(
    path: &Path,
    title: &str,
    xs: &[f64],
    losses: &[Series1d],
    accuracies: &[Series1d],
    log_loss: bool,
) -> Result<()> {
    draw_curve_1d_along(path, title, "alpha", xs, losses, accuracies, log_loss)
}

pub use curve1d::draw_curve_1d_along;

/// One group of basin radii for [`draw_radius_histograms`], e.g. the 400 radii measured along
/// random rays from the minimum found on clean data.
#[derive(Debug, Clone, PartialEq)]
pub struct RadiusGroup {
    /// Legend text, e.g. `"clean"` or `"poisoned"`; the legend adds the group's median.
    pub label: String,
    /// The radii (distances along each ray to where the loss first crosses the threshold).
    /// Non-finite or non-positive radii (rays that never crossed) are not drawn; the legend
    /// counts them.
    pub radii: Vec<f64>,
}

/// One minimum's basin volume for [`draw_volume_bars`]: `log10` of the volume, with a
/// confidence interval `low ..= high` around it.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeBar {
    /// Text under the bar, e.g. `"clean"`.
    pub label: String,
    /// `log10` of the basin volume, e.g. `-4123.7`; finite.
    pub log10_volume: f64,
    /// The lower end of the interval; finite, at most `log10_volume`.
    pub low: f64,
    /// The upper end of the interval; finite, at least `log10_volume`.
    pub high: f64,
}

/// Draws overlaid histograms of basin radii into one PNG at `path` (860x600 pixels), in the
/// look of Fig. 5 of Huang et al.: `title` above, a legend under it, `x_label` under the x
/// axis and "count" on the y axis.
///
/// All groups share one set of 40 bins spanning the smallest to the largest shown radius. When
/// the radii span more than a factor of 30 the bins are log-spaced and the x axis is
/// logarithmic; otherwise both are linear. Each group is a semi-transparent filled histogram
/// with a solid outline in its own colour (the first blue, the second red, then further class
/// colours), with its median as a dashed vertical line. The legend gives each group's label and
/// median, e.g. `"clean (median 0.31)"`, and how many of its radii were skipped (non-finite or
/// non-positive), e.g. `"poisoned (median 0.0104, 3 rays never crossed)"`; the median is over
/// the shown radii.
///
/// # Errors
///
/// [`genviz_core::Error::Invalid`] if `groups` is empty, a group has no radii, or no group has
/// a finite positive radius, checked before anything is drawn; [`genviz_core::Error::Io`] if
/// the file cannot be written. Every message names `path`; on error no file is left behind.
pub fn draw_radius_histograms(
    path: &Path,
    title: &str,
    groups: &[RadiusGroup],
    x_label: &str,
) -> Result<()> {
    basin::draw_histograms(path, title, groups, x_label)
}

/// Draws one bar per minimum at its `log10` basin volume into one PNG at `path` (560 pixels
/// high; 150 + 190 pixels per bar wide, at least 560), with `title` above.
///
/// The y axis, labelled "log10 volume", has plain tick labels (`-7000`, not `-7e3`) and starts
/// at a round baseline below the lowest interval, so every bar rises from the bottom of the
/// plot to its value: the larger the volume, the taller the bar. Each bar (in its class colour:
/// the first blue, the second red, ...) carries a black error bar from `low` to `high` with a
/// dot at the value, and is annotated above with its value and, in smaller type, its interval;
/// its label is written under the axis.
///
/// # Errors
///
/// [`genviz_core::Error::Invalid`] if `bars` is empty, a value is not finite, or a bar does not
/// have `low <= log10_volume <= high`, checked before anything is drawn;
/// [`genviz_core::Error::Io`] if the file cannot be written. Every message names `path`; on
/// error no file is left behind.
pub fn draw_volume_bars(path: &Path, title: &str, bars: &[VolumeBar]) -> Result<()> {
    basin::draw_volume_bars(path, title, bars)
}

/// One group of bars for [`draw_grouped_bars`], e.g. one optimizer's train and test accuracy.
#[derive(Debug, Clone, PartialEq)]
pub struct BarGroup {
    /// Text under the group, e.g. `"Adam"`.
    pub label: String,
    /// A second, smaller line under the label, e.g. `"lr 0.01"`.
    pub note: Option<String>,
    /// One value per series (finite); `None` draws no bar and writes "n/a" (e.g. a run that
    /// diverged).
    pub values: Vec<Option<f64>>,
}

pub use bars::draw_grouped_bars;

/// One group of points of a [`ScatterPanel`], drawn in one colour (the first blue, the second
/// red, ...) with a legend entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterSeries {
    /// Legend text, e.g. `"beta=0.5"`.
    pub label: String,
    /// The points `(x, y)`, all finite.
    pub points: Vec<(f64, f64)>,
}

/// One panel of a [`ScatterFigure`]: its title and its groups of points.
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterPanel {
    /// Drawn above the panel, e.g. `"coloured by beta"`.
    pub title: String,
    /// The groups, each in its own colour.
    pub series: Vec<ScatterSeries>,
}

/// A row of scatter panels sharing their axes, e.g. a generalization measure against the gap
/// over a sweep's models, one panel per hyperparameter, coloured by its value.
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterFigure {
    /// Drawn in bold above the panels.
    pub title: String,
    /// Name of the x axis.
    pub x_label: String,
    /// Name of the y axis.
    pub y_label: String,
    /// A logarithmic x axis (every x above 0).
    pub log_x: bool,
    /// The panels, left to right (at least one).
    pub panels: Vec<ScatterPanel>,
}

/// Draws `figure` into one PNG at `path` (440 pixels wide per panel): the title above, then
/// each panel with its title, a legend of its series and the points as dots in the series'
/// colours. Every panel has the same axes (the range of all points, padded by 5%), so the
/// panels show the same points coloured in different ways.
///
/// # Errors
///
/// [`genviz_core::Error::Invalid`] if there is no panel, a point is not finite, or an x is not
/// above 0 on a log axis, checked before anything is drawn (the message names the panel and
/// series); [`genviz_core::Error::Io`] if the file cannot be written. Every message names
/// `path`; on error no file is left behind.
pub fn draw_scatter(path: &Path, figure: &ScatterFigure) -> Result<()> {
    scatter::draw(path, figure)
}

pub use basin::draw_spectral_density;

/// One point of a 2-D embedding (t-SNE) with the value that colours it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmbeddedPoint {
    /// Horizontal coordinate; finite.
    pub x: f64,
    /// Vertical coordinate; finite.
    pub y: f64,
    /// The value that picks the colour: an epoch for iterates, a test accuracy (`0..=1`) for
    /// bad minima.
    pub value: f64,
}

/// What [`draw_minefield`] shows: Fig. 1 of Huang et al. (2019).
#[derive(Debug, Clone, PartialEq)]
pub struct MinefieldFigure {
    /// First title line, e.g. `"SGD iterates and nearby bad minima (t-SNE, perplexity 30)"`.
    pub title: String,
    /// Second title line, e.g. the accuracies of the bad minima and of the final iterate.
    pub subtitle: String,
    /// The optimiser's iterates, `value` = epoch (small dots, purple-red ramp).
    pub good: Vec<EmbeddedPoint>,
    /// Legend text of the iterates.
    pub good_label: String,
    /// The bad minima, `value` = test accuracy (dots, blue ramp; darker is higher).
    pub bad: Vec<EmbeddedPoint>,
    /// Legend text of the bad minima.
    pub bad_label: String,
    /// Where the final iterate lies (a large orange star).
    pub final_iterate: (f64, f64),
    /// Legend text of the final iterate.
    pub final_label: String,
}

/// Draws the "minefield" of Fig. 1 of Huang et al. (2019) into one PNG at `path` (1000x820
/// pixels): a square-ish embedding panel with the iterates as small dots coloured by epoch
/// (matplotlib's PuRd), the bad minima as larger dots coloured by test accuracy (Blues), the
/// final iterate as a large black-edged orange star on top, a legend in the panel's corner,
/// two colour bars on the right ("epoch", "bad minimum test accuracy (%)"), and the two title
/// lines above. Embedding axes carry no meaning, so they have no ticks.
///
/// # Errors
///
/// [`genviz_core::Error::Invalid`] if there is no point at all or a coordinate or value is
/// not finite, checked before anything is drawn; [`genviz_core::Error::Io`] if the file
/// cannot be written. Every message names `path`; on error no file is left behind.
pub fn draw_minefield(path: &Path, figure: &MinefieldFigure) -> Result<()> {
    minefield::draw(path, figure)
}

/// The authors' "wiggle" (gen-viz `swissroll/main.py:wiggle`, SPEC 1.5): the parameters move
/// along a ray `theta + t d`, and each frame shows the decision boundary at one `t` beside the
/// loss and accuracy (and optionally the curvature) along the whole ray, with a marker at that
/// `t`. Everything is computed by the caller; this only draws.
#[derive(Debug, Clone, PartialEq)]
pub struct WiggleAnimation {
    /// Drawn in bold above every frame, e.g. `"poisoned minimum, random filter-normalised
    /// direction"`.
    pub title: String,
    /// The ray coordinates `t`: at least 2, finite, strictly increasing.
    pub ts: Vec<f64>,
    /// One decision-boundary panel per `t` (its title is the frame's caption, e.g.
    /// `"t = +0.0123: train loss 0.002, accuracy 100%"`).
    pub boundaries: Vec<BoundaryPanel>,
    /// Losses along the ray, one value per `t` (the first drawn solid, the next dashed).
    pub losses: Vec<Series1d>,
    /// Accuracies (fractions) along the ray, one value per `t`, on the right axis.
    pub accuracies: Vec<Series1d>,
    /// The curvature along the ray (e.g. the top Hessian eigenvalue at each `t`), drawn in a
    /// chart of its own under the losses; log-scaled when every value is positive.
    pub curvature: Option<Series1d>,
    /// A log-scale loss axis.
    pub log_loss: bool,
    /// The frames: indices into `ts`, in the order shown. gen-viz plays `0 -> +max -> -max ->
    /// 0` so the loop is seamless.
    pub order: Vec<usize>,
    /// Draw the x axis in `sign(t)|t / max|t||^(1 / axis_root)`, tick labels in `t`: with 5,
    /// the fifth-power-spaced points of gen-viz's rays sit evenly and the marker moves at a
    /// steady pace, so the narrow well of a sharp minimum is as wide as the rest. 1 draws `t`.
    pub axis_root: u32,
    /// Text under the x axis, e.g. `"t (axis in t^(1/5))"`.
    pub x_label: String,
}

/// A training path growing over the contour landscape of its PCA plane (Li et al. 2018,
/// Fig. 9, animated), beside the loss and accuracy against the step with a marker at the
/// path's head.
#[derive(Debug, Clone, PartialEq)]
pub struct PathAnimation {
    /// Drawn in bold above every frame.
    pub title: String,
    /// The loss surface over the PCA plane; its title gets `": step N"` appended per frame.
    pub surface: SurfaceGrid,
    /// Contour levels of `surface`.
    pub style: ContourStyle,
    /// The projected checkpoints in training order (at least 2, finite).
    pub path: Vec<(f64, f64)>,
    /// Legend text of the path.
    pub path_label: String,
    /// The training step of each path point (strictly increasing).
    pub steps: Vec<f64>,
    /// Losses at each path point (e.g. train and test loss of each checkpoint).
    pub losses: Vec<Series1d>,
    /// Accuracies at each path point.
    pub accuracies: Vec<Series1d>,
    /// A log-scale loss axis.
    pub log_loss: bool,
    /// Markers drawn on the landscape in every frame (e.g. the final model at `(0, 0)`).
    pub markers: Vec<Marker>,
    /// The head of the path in each frame, as a fractional index into `path` (`2.5` is
    /// halfway between the third and fourth point, the segment drawn straight): with few
    /// checkpoints, frames between them keep the motion smooth.
    pub heads: Vec<f64>,
}

/// Draws `animation` into a looping GIF at `path` (1000x560 pixels a frame), one frame per
/// entry of `order`, each shown for `delay_cs` hundredths of a second: the title above; the
/// decision-boundary panel of that frame's `t` on the left with the class legend under it; on
/// the right, losses (left axis) and accuracies (right axis) along the ray, and under them the
/// curvature if given, all with a vertical line and dots at the frame's `t`.
///
/// Frames are drawn in memory, quantised to one palette of at most 255 colours shared by all
/// frames (exact when the frames use no more), and stored as differences from the frame before;
/// the file is written atomically.
///
/// # Errors
///
/// [`genviz_core::Error::Invalid`] if the animation is inconsistent (fewer than 2 `ts`, `ts`
/// not finite and increasing, a panel count other than `ts`', an invalid panel, a series of
/// the wrong length, an empty `order` or one with an index past `ts`, `axis_root` 0), checked
/// before anything is drawn; [`genviz_core::Error::Io`] if the file cannot be written. Every
/// message names `path`.
pub fn draw_wiggle_gif(path: &Path, animation: &WiggleAnimation, delay_cs: u16) -> Result<()> {
    animation::draw_wiggle(path, animation, delay_cs)
}

/// Draws `animation` into a looping GIF at `path` (1060x560 pixels a frame), one frame per
/// entry of `heads`, each shown for `delay_cs` hundredths of a second: the contour landscape on
/// the left (as [`draw_contour`] draws it) with the path up to the head and a star on the
/// head, and on the right the losses and accuracies against the step with a marker at the
/// head's step. Encoded as [`draw_wiggle_gif`] does.
///
/// # Errors
///
/// [`genviz_core::Error::Invalid`] if the animation is inconsistent (as for [`draw_contour`],
/// and fewer than 2 path points, `steps` or a series not one per point, `steps` not
/// increasing, no `heads` or one outside the path), checked before anything is drawn;
/// [`genviz_core::Error::Io`] if the file cannot be written. Every message names `path`.
pub fn draw_path_gif(path: &Path, animation: &PathAnimation, delay_cs: u16) -> Result<()> {
    animation::draw_path(path, animation, delay_cs)
}

/// The frames of a GIF, composited: what a viewer shows.
#[derive(Debug, Clone, PartialEq)]
pub struct GifFrames {
    /// Width of the picture, in pixels.
    pub width: u32,
    /// Height of the picture, in pixels.
    pub height: u32,
    /// Every frame as RGB bytes, `width * height * 3`, row by row.
    pub frames: Vec<Vec<u8>>,
    /// How long each frame shows, in hundredths of a second.
    pub delays_cs: Vec<u16>,
}

/// Reads the GIF at `path` and composites its frames onto a white canvas, each on top of the
/// one before (the "keep" disposal genviz writes), so that frame `k` is the picture a viewer
/// shows at that moment: for tests, and to save single frames for a look.
///
/// # Errors
///
/// [`genviz_core::Error::Io`] if the file cannot be opened; [`genviz_core::Error::Invalid`] if
/// it is not a GIF, is truncated, or uses a disposal method other than "keep".
pub fn read_gif(path: &Path) -> Result<GifFrames> {
    animation::read(path)
}

/// Writes `rgb` (`width * height * 3` bytes) as a PNG at `path`, atomically: to save single
/// frames of an animation (see [`read_gif`]) for a look.
///
/// # Errors
///
/// [`genviz_core::Error::Invalid`] if `rgb` has another length; [`genviz_core::Error::Io`] if
/// the file cannot be written.
pub fn write_rgb_png(path: &Path, width: u32, height: u32, rgb: &[u8]) -> Result<()> {
    output::write_rgb_png(path, (width, height), rgb)
}

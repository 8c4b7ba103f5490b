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
//! Drawing uses plotters' bitmap backend with its `ab_glyph` text backend and the DejaVu Sans
//! font embedded in the binary (see [`register_fonts`]), so no system font is needed. Every PNG
//! is written atomically: it is encoded into a temporary `.png` file next to the target and
//! renamed into place, so a reader never sees a half-written figure and a failure leaves
//! nothing behind. Inputs are validated before anything is drawn; every error names the output
//! file.

mod boundary;
mod curves;
mod output;
mod style;

use std::path::Path;
use std::sync::Once;

use genviz_core::Result;

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
    boundary::draw(path, panels)
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

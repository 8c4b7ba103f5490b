//! The landscape explorer: a page section in which the reader drags a marker over the loss map
//! of a plane in parameter space and watches the decision boundary of the network at that point
//! (the idea of Huang et al. 2019, "Understanding Generalization through Visualizations": near
//! a flat minimum the boundary hardly moves when the weights move; near a sharp one it
//! shatters).
//!
//! The page carries the network itself: its layer widths, activation and head, the weights at
//! the plane's centre, the plane's two directions and the train and test points, all as
//! little-endian float32 in base64. A small script (`explorer.js`, plain JavaScript) evaluates
//! the network at `theta + a x + b y` in the same float32 arithmetic as genviz-mlp (the same
//! parameter sums, the same chains of fused multiply-adds, emulated exactly), so its logits are
//! genviz's bit for bit for ReLU and leaky-ReLU networks; the loss and accuracy are then
//! reduced in float64 as genviz does. The loss map itself is not computed in the page: it is
//! genviz's own grid ([`MetricGrid`]), drawn as filled contours.

use std::fmt::Write as _;
use std::path::Path;

use genviz_core::{Error, Result};
use serde_json::{json, Value};

use crate::colormap::{Scale, VIRIDIS};
use crate::landscape::validate_style;
use crate::page::json_script;
use crate::report::{base64, esc, push_paragraphs};
use crate::style::{class_pale, class_strong};
use crate::ContourStyle;

/// The most boundary cells per side drawn at once when the marker moves. The network runs once
/// per cell, so the picture costs `cells^2` forward passes; the page measures its own speed and
/// draws fewer cells (down to [`MIN_COARSE_CELLS`]) when that would not fit in
/// [`FRAME_BUDGET_MS`].
pub const COARSE_CELLS: usize = 60;
/// The fewest boundary cells per side while the marker moves: coarser than this, the picture
/// no longer shows the shape of the boundary.
pub const MIN_COARSE_CELLS: usize = 16;
/// Milliseconds a move may take (scoring the data and drawing the coarse boundary): a 60 Hz
/// frame is 16.7 ms, and the browser needs the rest to composite.
pub const FRAME_BUDGET_MS: f64 = 12.0;
/// Boundary cells per side once the marker rests, computed in slices between frames so that
/// the page keeps answering the pointer: two screen pixels per cell at [`PANEL_PX`].
pub const FINE_CELLS: usize = 135;
/// Width and height in CSS pixels of each plot (the loss map and the boundary), not counting
/// the axes around it: small enough that two explorers, each with both plots, fit side by side
/// in a 1,500-pixel window.
pub const PANEL_PX: usize = 270;
/// Input dimension the explorer draws: the boundary is a picture of the input plane.
const INPUT_DIM: usize = 2;

/// The non-linearity between hidden layers, as genviz-mlp's `Activation`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum ExplorerActivation {
    /// `max(0, x)`.
    #[default]
    Relu,
    /// `tanh(x)`. The browser's `tanh` may differ from the C library's `tanhf` in the last
    /// bit, so tanh networks agree with genviz to rounding rather than bit for bit.
    Tanh,
    /// `x` for `x >= 0`, `slope * x` otherwise.
    LeakyRelu {
        /// Slope on the negative side (finite, at least 0).
        slope: f32,
    },
}

/// How the last layer becomes a class, as genviz-mlp's `Head`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExplorerHead {
    /// One logit for two classes: class 1 when the logit is above 0; sigmoid cross-entropy.
    #[default]
    Sigmoid,
    /// One logit per class: the first largest wins; softmax cross-entropy.
    Softmax,
}

/// A multi-layer perceptron as the page evaluates it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExplorerNet {
    /// Widths of every layer, inputs first (2) and logits last (1 for [`ExplorerHead::Sigmoid`],
    /// the number of classes for [`ExplorerHead::Softmax`]).
    pub widths: Vec<usize>,
    /// The activation after every layer but the last.
    pub activation: ExplorerActivation,
    /// The output head.
    pub head: ExplorerHead,
    /// The weights at the plane's centre (the trained model), in genviz's flat layout: for each
    /// layer `k` in order, `layers.k.weight` as PyTorch's row-major `[out, in]`, then
    /// `layers.k.bias` `[out]`. Finite.
    pub theta: Vec<f32>,
}

impl ExplorerNet {
    /// The number of parameters the widths call for.
    pub fn num_params(&self) -> usize {
        self.widths.windows(2).map(|w| w[0] * w[1] + w[1]).sum()
    }
}

/// Loss and accuracy over a grid of a plane, row-major `[ny, nx]` (`index = iy * nx + ix`, the
/// layout of genviz-landscape's `Surface` and Li et al.'s surface files). Non-finite entries
/// (NaN for points not computed) are gaps.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricGrid {
    /// The x coordinates of the grid columns: at least 2, finite, strictly increasing.
    pub xs: Vec<f64>,
    /// The y coordinates of the grid rows: at least 2, finite, strictly increasing.
    pub ys: Vec<f64>,
    /// Mean training loss per point.
    pub train_loss: Vec<f64>,
    /// Training accuracy per point, a fraction in `0..=1`.
    pub train_acc: Vec<f64>,
    /// Mean test loss per point.
    pub test_loss: Vec<f64>,
    /// Test accuracy per point, a fraction in `0..=1`.
    pub test_acc: Vec<f64>,
}

/// A plane `theta + a x + b y` the reader can move in, with genviz's loss over its grid.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExplorerPlane {
    /// What the directions are, e.g. `"random filter-normalised directions"` or `"top Hessian
    /// eigenvector and a random direction"`; labels the toggle between planes.
    pub name: String,
    /// The first direction, in the same layout as [`ExplorerNet::theta`].
    pub x: Vec<f32>,
    /// The second direction, likewise.
    pub y: Vec<f32>,
    /// Name of the `a` axis, e.g. `"x (filter-normalised)"`.
    pub x_label: String,
    /// Name of the `b` axis.
    pub y_label: String,
    /// genviz's values over the plane: the loss map shows `train_loss`, and the readout shows
    /// all four at the grid point nearest the marker. The grid's extent bounds the marker.
    pub grid: MetricGrid,
}

/// Labelled points in the input plane.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LabelledPoints {
    /// The points, row-major `[n, 2]`. Finite.
    pub inputs: Vec<f32>,
    /// The class of each point, in `0..num_classes`.
    pub labels: Vec<u32>,
}

/// One explorer: a trained network, the planes around it, and its data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Explorer {
    /// Shown above the explorer, e.g. `"clean minimum"`.
    pub title: String,
    /// The network and the weights at the centre of every plane.
    pub net: ExplorerNet,
    /// The planes to explore, at least one; the first is shown first, and a toggle switches
    /// between them when there are more (e.g. random directions, then the top Hessian
    /// eigenvector as in the wiggle animations).
    pub planes: Vec<ExplorerPlane>,
    /// The training points: drawn over the boundary, and scored at the marker.
    pub train: LabelledPoints,
    /// The test points: drawn on request, and scored at the marker.
    pub test: LabelledPoints,
    /// The number of classes (2 for a sigmoid head).
    pub num_classes: usize,
    /// The window of the input plane the boundary shows, `(x0, x1, y0, y1)` with `x0 < x1` and
    /// `y0 < y1`, finite.
    pub extent: (f32, f32, f32, f32),
}

/// Explorers shown side by side, with one colour scale for all their loss maps (so that a
/// clean and a poisoned minimum can be compared by eye, as in Fig. 3 of the paper).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExplorerGroup {
    /// The section heading.
    pub heading: String,
    /// Plain text under the heading (may be empty); blank lines separate paragraphs.
    pub text: String,
    /// The explorers, at least one.
    pub explorers: Vec<Explorer>,
    /// The loss maps' colour scale and contour levels, shared by every explorer (as in
    /// [`crate::draw_heatmap`]: viridis from `vmin` to `vmax`, iso-lines at the levels).
    pub style: ContourStyle,
    /// Whether moving one explorer's marker moves the others' to the same coordinates (a
    /// checkbox the reader can change; this is its starting state).
    pub linked: bool,
}

/// Checks a group before anything is written; errors name the page, the block, the explorer
/// and the field.
pub(crate) fn validate(path: &Path, k: usize, g: &ExplorerGroup) -> Result<()> {
    let block = format!("{}: block {k} ({:?})", path.display(), g.heading);
    if g.explorers.is_empty() {
        return Err(Error::invalid(format!(
            "{block}: an explorer group needs an explorer"
        )));
    }
    validate_style(path, k, &g.heading, &g.style)?;
    for (i, e) in g.explorers.iter().enumerate() {
        let what = format!("{block}: explorer {i} ({:?})", e.title);
        validate_explorer(&e.net, e).map_err(|m| Error::invalid(format!("{what}: {m}")))?;
    }
    Ok(())
}

fn validate_explorer(net: &ExplorerNet, e: &Explorer) -> std::result::Result<(), String> {
    let w = &net.widths;
    if w.len() < 2 || w.contains(&0) {
        return Err(format!(
            "widths {w:?}: need at least an input and an output layer, none empty"
        ));
    }
    if w[0] != INPUT_DIM {
        return Err(format!(
            "the network has {} inputs; the explorer draws decision boundaries of 2-D inputs",
            w[0]
        ));
    }
    let outputs = w[w.len() - 1];
    match net.head {
        ExplorerHead::Sigmoid if outputs != 1 || e.num_classes != 2 => {
            return Err(format!(
                "a sigmoid head has one logit and two classes, not {outputs} logits and {} \
                 classes",
                e.num_classes
            ))
        }
        ExplorerHead::Softmax if outputs != e.num_classes || outputs < 2 => {
            return Err(format!(
                "a softmax head has one logit per class: {outputs} logits, {} classes",
                e.num_classes
            ))
        }
        _ => {}
    }
    if let ExplorerActivation::LeakyRelu { slope } = net.activation {
        if !(slope.is_finite() && slope >= 0.0) {
            return Err(format!("leaky-ReLU slope {slope} must be finite and >= 0"));
        }
    }
    let p = net.num_params();
    if net.theta.len() != p {
        return Err(format!(
            "theta has {} values, the widths {w:?} need {p}",
            net.theta.len()
        ));
    }
    finite_f32("theta", &net.theta)?;
    if e.planes.is_empty() {
        return Err("needs at least one plane".into());
    }
    for (j, plane) in e.planes.iter().enumerate() {
        let ctx = |m: String| format!("plane {j} ({:?}): {m}", plane.name);
        for (name, d) in [("x", &plane.x), ("y", &plane.y)] {
            if d.len() != p {
                return Err(ctx(format!(
                    "direction {name} has {} values, theta has {p}",
                    d.len()
                )));
            }
            finite_f32(name, d).map_err(ctx)?;
        }
        validate_grid(&plane.grid).map_err(ctx)?;
    }
    for (name, points) in [("train", &e.train), ("test", &e.test)] {
        if points.inputs.len() != INPUT_DIM * points.labels.len() {
            return Err(format!(
                "{name}: {} input values for {} labels, expected 2 per label",
                points.inputs.len(),
                points.labels.len()
            ));
        }
        finite_f32(&format!("{name} inputs"), &points.inputs)?;
        if let Some(i) = points
            .labels
            .iter()
            .position(|&l| l as usize >= e.num_classes)
        {
            return Err(format!(
                "{name}: label {} of point {i} is not one of the {} classes",
                points.labels[i], e.num_classes
            ));
        }
    }
    let (x0, x1, y0, y1) = e.extent;
    if !([x0, x1, y0, y1].iter().all(|v| v.is_finite()) && x0 < x1 && y0 < y1) {
        return Err(format!(
            "extent ({x0}, {x1}, {y0}, {y1}) must be finite with x0 < x1 and y0 < y1"
        ));
    }
    Ok(())
}

fn finite_f32(name: &str, values: &[f32]) -> std::result::Result<(), String> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(format!(
            "{name}[{i}] is {}, expected a finite value",
            values[i]
        )),
        None => Ok(()),
    }
}

/// Checks a grid's axes and the lengths of its four arrays.
pub(crate) fn validate_grid(g: &MetricGrid) -> std::result::Result<(), String> {
    for (name, axis) in [("xs", &g.xs), ("ys", &g.ys)] {
        crate::checks::check_axis(&format!("grid {name}"), axis)?;
    }
    let n = g.xs.len() * g.ys.len();
    for (name, values) in [
        ("train_loss", &g.train_loss),
        ("train_acc", &g.train_acc),
        ("test_loss", &g.test_loss),
        ("test_acc", &g.test_acc),
    ] {
        if values.len() != n {
            return Err(format!(
                "grid {name} has {} values, expected {} x {} = {n} (row-major [ny, nx])",
                values.len(),
                g.ys.len(),
                g.xs.len()
            ));
        }
    }
    Ok(())
}

/// Little-endian float32 bytes in base64: exact, and about a third of the size of decimal
/// JSON (the paper's net, two directions and 400 points are about 60 kB).
pub(crate) fn f32_base64(values: &[f32]) -> String {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    base64(&bytes)
}

/// Non-finite values become `null`, which the scripts treat as gaps.
pub(crate) fn finite_or_null(values: &[f64]) -> Value {
    Value::Array(
        values
            .iter()
            .map(|&v| if v.is_finite() { json!(v) } else { Value::Null })
            .collect(),
    )
}

pub(crate) fn grid_json(g: &MetricGrid) -> Value {
    json!({
        "xs": g.xs,
        "ys": g.ys,
        "train_loss": finite_or_null(&g.train_loss),
        "train_acc": finite_or_null(&g.train_acc),
        "test_loss": finite_or_null(&g.test_loss),
        "test_acc": finite_or_null(&g.test_acc),
    })
}

fn rgb(c: plotters::style::RGBColor) -> Value {
    json!([c.0, c.1, c.2])
}

/// Everything the script needs for one group.
fn group_json(g: &ExplorerGroup) -> Value {
    let scale = Scale {
        lo: g.style.vmin,
        hi: g.style.vmax,
        log: g.style.log,
    };
    let explorers: Vec<Value> = g
        .explorers
        .iter()
        .map(|e| {
            let (activation, slope) = match e.net.activation {
                ExplorerActivation::Relu => ("relu", 0.0),
                ExplorerActivation::Tanh => ("tanh", 0.0),
                ExplorerActivation::LeakyRelu { slope } => ("leaky_relu", f64::from(slope)),
            };
            let head = match e.net.head {
                ExplorerHead::Sigmoid => "sigmoid",
                ExplorerHead::Softmax => "softmax",
            };
            let planes: Vec<Value> = e
                .planes
                .iter()
                .map(|p| {
                    json!({
                        "name": p.name,
                        "x_label": p.x_label,
                        "y_label": p.y_label,
                        "x": f32_base64(&p.x),
                        "y": f32_base64(&p.y),
                        "grid": grid_json(&p.grid),
                    })
                })
                .collect();
            let points = |p: &LabelledPoints| {
                json!({"inputs": f32_base64(&p.inputs), "labels": p.labels})
            };
            // float32 values go out as float64: JSON's shortest decimal for a float32 is not
            // always the same number once JavaScript reads it as a float64.
            let (x0, x1, y0, y1) = e.extent;
            let extent = [x0, x1, y0, y1].map(f64::from);
            json!({
                "title": e.title,
                "widths": e.net.widths,
                "activation": activation,
                "slope": slope,
                "head": head,
                "num_classes": e.num_classes,
                "theta": f32_base64(&e.net.theta),
                "planes": planes,
                "train": points(&e.train),
                "test": points(&e.test),
                "extent": extent,
                "class_strong": (0..e.num_classes).map(|c| rgb(class_strong(c))).collect::<Vec<_>>(),
                "class_pale": (0..e.num_classes).map(|c| rgb(class_pale(c))).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "linked": g.linked,
        "style": {
            "vmin": g.style.vmin,
            "vmax": g.style.vmax,
            "vlevel": g.style.vlevel,
            "log": g.style.log,
        },
        "ticks": scale.ticks(),
        "colors": (0..=40).map(|i| VIRIDIS.rgb(i as f64 / 40.0)).collect::<Vec<_>>(),
        "coarse": COARSE_CELLS,
        "min_coarse": MIN_COARSE_CELLS,
        "budget_ms": FRAME_BUDGET_MS,
        "fine": FINE_CELLS,
        "panel": PANEL_PX,
        "explorers": explorers,
    })
}

/// The group's section: controls, one panel per explorer, the colour bar, and its data.
pub(crate) fn push_group(h: &mut String, k: usize, g: &ExplorerGroup) {
    let _ = writeln!(
        h,
        "<section id=\"block-{k}\" class=\"explorers\">\n<h2>{}</h2>",
        esc(&g.heading)
    );
    push_paragraphs(h, &g.text);
    h.push_str(
        "<p class=\"hint\">Drag the marker over a loss map, or move the sliders: your browser \
         evaluates the network at those weights and redraws its decision boundary, with the \
         train and test accuracy and loss there. The star is the trained model. Dots are \
         training points (crosses: misclassified at the marker); rings are test points.</p>\n",
    );
    // The explorers need more room than the text column: this part spans the window.
    h.push_str("<div class=\"wide\">\n<div class=\"explorer-controls\">\n");
    let planes = &g.explorers[0].planes;
    if planes.len() > 1 {
        h.push_str("<fieldset class=\"plane-toggle\"><legend>directions</legend>\n");
        for (j, p) in planes.iter().enumerate() {
            let _ = writeln!(
                h,
                "<label><input type=\"radio\" name=\"planes-{k}\" value=\"{j}\"{}> {}</label>",
                if j == 0 { " checked" } else { "" },
                esc(&p.name)
            );
        }
        h.push_str("</fieldset>\n");
    }
    if g.explorers.len() > 1 {
        let _ = writeln!(
            h,
            "<label><input type=\"checkbox\" class=\"link\"{}> move together</label>",
            if g.linked { " checked" } else { "" }
        );
    }
    h.push_str(
        "<label><input type=\"checkbox\" class=\"show-test\" checked> show test points</label>\n\
         <label><input type=\"checkbox\" class=\"snap\"> snap to the grid</label>\n\
         <button type=\"button\" class=\"reset\">back to the minimum</button>\n</div>\n\
         <div class=\"explorer-row\">\n",
    );
    for (i, e) in g.explorers.iter().enumerate() {
        let _ = writeln!(
            h,
            "<div class=\"explorer\" data-index=\"{i}\">\n<h3>{}</h3>\n\
             <div class=\"explorer-panels\">\n\
             <figure><canvas class=\"loss-map\"></canvas><figcaption>genviz's train loss over \
             the plane; drag the marker.</figcaption></figure>\n\
             <figure><canvas class=\"boundary\"></canvas><figcaption>The decision boundary at \
             the marker.</figcaption></figure>\n</div>\n\
             <div class=\"sliders\">\n\
             <label class=\"label-a\" for=\"slider-{k}-{i}-a\"></label>\
             <input type=\"range\" id=\"slider-{k}-{i}-a\" class=\"slider-a\">\
             <output class=\"out-a\"></output>\n\
             <label class=\"label-b\" for=\"slider-{k}-{i}-b\"></label>\
             <input type=\"range\" id=\"slider-{k}-{i}-b\" class=\"slider-b\">\
             <output class=\"out-b\"></output>\n</div>\n\
             <table class=\"readout\"><thead><tr><th></th><th>accuracy</th><th>loss</th></tr>\
             </thead><tbody>\n\
             <tr><th>train</th><td class=\"train-acc\"></td><td class=\"train-loss\"></td></tr>\n\
             <tr><th>test</th><td class=\"test-acc\"></td><td class=\"test-loss\"></td></tr>\n\
             </tbody></table>\n<p class=\"grid-note\"></p>\n</div>",
            esc(&e.title)
        );
    }
    h.push_str(
        "</div>\n<div class=\"colorbar\"><canvas class=\"colorbar\"></canvas></div>\n</div>\n",
    );
    h.push_str(&json_script("class=\"explorer-data\"", &group_json(g)));
    h.push_str("</section>\n");
}

/// The explorer's script (plain JavaScript, no library); see `explorer.js`.
pub(crate) const EXPLORER_JS: &str = include_str!("js/explorer.js");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_can_be_inlined() {
        assert!(!EXPLORER_JS.to_ascii_lowercase().contains("</script"));
    }

    #[test]
    fn float32_travels_exactly_as_little_endian_base64() {
        // 1.0f32 is 00 00 80 3f; -2.5f32 is 00 00 20 c0.
        assert_eq!(f32_base64(&[1.0, -2.5]), "AACAPwAAIMA=");
    }

    #[test]
    fn the_paper_net_has_3614_parameters() {
        let net = ExplorerNet {
            widths: vec![2, 23, 16, 26, 32, 28, 31, 1],
            ..Default::default()
        };
        assert_eq!(net.num_params(), 3614);
    }
}

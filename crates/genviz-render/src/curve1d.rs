//! Loss and accuracy along one direction (Li et al. 2018, `plot_1D`), on twin y axes.

use std::path::Path;

use genviz_core::{Error, Result};
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::output::{write_png, Area, DrawResult};
use crate::style::{chart_on, font, frame, house_grid, linear_tick, log_tick, titled};
use crate::Series1d;

/// Figure size, in pixels.
const W: u32 = 860;
const H: u32 = 560;
/// Height of the title strip.
const TITLE_H: u32 = 44;
/// Loss colours (blues) and accuracy colours (reds), by series index.
pub(crate) const BLUES: [RGBColor; 4] = [
    RGBColor(31, 90, 180),
    RGBColor(70, 140, 210),
    RGBColor(20, 50, 110),
    RGBColor(110, 170, 230),
];
pub(crate) const REDS: [RGBColor; 4] = [
    RGBColor(200, 30, 40),
    RGBColor(235, 110, 80),
    RGBColor(130, 20, 20),
    RGBColor(240, 150, 120),
];

/// [`draw_curve_1d`](crate::draw_curve_1d) with another name for the shared x axis (e.g. `t` along a curve, or
/// `beta` in a sweep).
pub fn draw_curve_1d_along(
    path: &Path,
    title: &str,
    x_label: &str,
    xs: &[f64],
    losses: &[Series1d],
    accuracies: &[Series1d],
    log_loss: bool,
) -> Result<()> {
    let chart = CurveChart {
        x_label,
        xs,
        losses,
        accuracies,
        log_loss,
        // Above the plot, where it cannot cover a curve (inside, it hid the accuracy peak of a
        // surface's 1-D cut at alpha = 0).
        legend_above: true,
        ..CurveChart::new(xs)
    };
    chart.validate(path)?;
    write_png(path, (W, H), |root| {
        chart.draw(&titled(root, title, TITLE_H)?)
    })
}

/// A twin-axis chart of series against one x axis: losses (blues) on the left axis, accuracies
/// (reds, 0 to 100%) on the right one. [`draw_curve_1d_along`] draws one into a PNG; the
/// animations draw one per frame with a moving [`CurveChart::marker`], so everything that fixes
/// the look (axis ranges, ticks) depends on the whole series, never on the marker.
pub(crate) struct CurveChart<'p> {
    /// Text under the x axis.
    pub x_label: &'p str,
    /// Text beside the left axis.
    pub y_label: &'p str,
    /// The x coordinates where the series are drawn: finite, strictly increasing.
    pub xs: &'p [f64],
    /// Tick labels of the x axis (an animation may draw against a warped coordinate and label
    /// the ticks with the true one).
    pub x_fmt: &'p dyn Fn(f64) -> String,
    /// Left-axis series, drawn in blues (the first solid, the next dashed).
    pub losses: &'p [Series1d],
    /// Right-axis series in `0..=1`, drawn in reds and labelled in percent.
    pub accuracies: &'p [Series1d],
    /// A log-scale left axis.
    pub log_loss: bool,
    /// Whether to draw the right (accuracy) axis at all.
    pub right_axis: bool,
    /// A position along `xs` as a fractional index (`2.5` is halfway between `xs[2]` and
    /// `xs[3]`): a vertical line there and a black-edged dot on every series, interpolated
    /// along the drawn line.
    pub marker: Option<f64>,
    /// Draw the legend in a strip above the plot instead of inside it, so that no curve can
    /// pass under it (an animation cannot know where its curves will be).
    pub legend_above: bool,
    /// Size of the tick and legend fonts, and the left/right label areas (pixels).
    pub font_size: f64,
    pub y_label_area: u32,
    pub x_label_area: u32,
}

/// The drawable runs of a series over `xs`: the points whose value is `shown`, at height
/// `drawn_at(value)`, split wherever a value is not, so that a gap breaks the line.
pub(crate) fn drawable_runs(
    xs: &[f64],
    values: &[f64],
    shown: impl Fn(f64) -> bool,
    drawn_at: impl Fn(f64) -> f64,
) -> Vec<Vec<(f64, f64)>> {
    let mut out = vec![Vec::new()];
    for (&x, &v) in xs.iter().zip(values) {
        if shown(v) {
            if let Some(r) = out.last_mut() {
                r.push((x, drawn_at(v)));
            }
        } else if !out.last().is_some_and(|r| r.is_empty()) {
            out.push(Vec::new());
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

/// Plain tick labels, as the static figures use.
fn plain_tick(v: f64) -> String {
    linear_tick(v)
}

impl<'p> CurveChart<'p> {
    /// A chart over `xs` with the static figure's look: "alpha" and "loss" labels, plain
    /// ticks, a right axis, no marker.
    pub(crate) fn new(xs: &'p [f64]) -> Self {
        CurveChart {
            x_label: "alpha",
            y_label: "loss",
            xs,
            x_fmt: &plain_tick,
            losses: &[],
            accuracies: &[],
            log_loss: false,
            right_axis: true,
            marker: None,
            legend_above: false,
            font_size: 14.0,
            y_label_area: 80,
            x_label_area: 52,
        }
    }

    /// Checks the chart's data; every message names `path`.
    pub(crate) fn validate(&self, path: &Path) -> Result<()> {
        let fail = |what: String| Err(Error::invalid(format!("{}: {what}", path.display())));
        let xs = self.xs;
        if self.losses.is_empty() && self.accuracies.is_empty() {
            return fail("no loss or accuracy series to draw".into());
        }
        if let Err(what) = crate::checks::check_axis("xs", xs) {
            return fail(what);
        }
        for (kind, list) in [("loss", self.losses), ("accuracy", self.accuracies)] {
            for s in list {
                if s.values.len() != xs.len() {
                    return fail(format!(
                        "{kind} series {:?} has {} values but there are {} xs",
                        s.label,
                        s.values.len(),
                        xs.len()
                    ));
                }
            }
        }
        if let Some(m) = self.marker {
            if !(m.is_finite() && m >= 0.0 && m <= (xs.len() - 1) as f64) {
                return fail(format!(
                    "marker position {m} is outside the {} xs (0 to {})",
                    xs.len(),
                    xs.len() - 1
                ));
            }
        }
        Ok(())
    }

    /// Draws the chart into `area` (validate first).
    pub(crate) fn draw(&self, area: &Area) -> DrawResult {
        let xs = self.xs;
        let log_loss = self.log_loss;
        let loss_runs: Vec<Vec<Vec<(f64, f64)>>> = self
            .losses
            .iter()
            .map(|s| {
                let shown = |v: f64| v.is_finite() && (!log_loss || v > 0.0);
                drawable_runs(xs, &s.values, shown, |v| v)
            })
            .collect();
        let acc_runs: Vec<Vec<Vec<(f64, f64)>>> = self
            .accuracies
            .iter()
            .map(|s| drawable_runs(xs, &s.values, f64::is_finite, |v| v))
            .collect();
        let shown = loss_runs.iter().flatten().flatten().map(|p| p.1);
        let (lo, hi) = shown.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        let area = if self.legend_above {
            let (strip, rest) = area.split_vertically(LEGEND_STRIP_H);
            self.draw_legend_strip(&strip)?;
            rest
        } else {
            area.clone()
        };
        let area = &area;
        let plot = Plot {
            chart: self,
            x_range: xs[0]..xs[xs.len() - 1],
            loss_runs: &loss_runs,
            acc_runs: &acc_runs,
        };
        if log_loss {
            let (lo, hi) = if lo.is_finite() && hi > lo {
                let pad = (hi / lo).powf(0.05);
                (lo / pad, hi * pad)
            } else if lo.is_finite() {
                (lo / 2.0, lo * 2.0)
            } else {
                (0.01, 10.0)
            };
            plot.draw(area, (lo..hi).log_scale(), &|v| log_tick(*v))
        } else {
            let (lo, hi) = if lo.is_finite() && hi > lo {
                let pad = (hi - lo) * 0.05;
                ((lo - pad).min(0.0).max(lo - pad), hi + pad)
            } else if lo.is_finite() {
                (lo - 1.0, lo + 1.0)
            } else {
                (0.0, 1.0)
            };
            plot.draw(area, lo..hi, &|v| linear_tick(*v))
        }
    }
}

impl CurveChart<'_> {
    /// The legend as one centred row: a line sample and the label of every series.
    fn draw_legend_strip(&self, area: &Area) -> DrawResult {
        let style = font(self.font_size + 1.0);
        let items: Vec<(&str, RGBColor, bool)> = self
            .losses
            .iter()
            .enumerate()
            .map(|(k, s)| (s.label.as_str(), BLUES[k % BLUES.len()], k > 0))
            .chain(
                self.accuracies
                    .iter()
                    .enumerate()
                    .map(|(k, s)| (s.label.as_str(), REDS[k % REDS.len()], k > 0)),
            )
            .collect();
        const SAMPLE: i32 = 26;
        const GAP: i32 = 6;
        const SPACING: i32 = 18;
        let mut widths = Vec::with_capacity(items.len());
        for (label, _, _) in &items {
            widths.push(area.estimate_text_size(label, &style)?.0 as i32);
        }
        let total: i32 = widths.iter().map(|w| SAMPLE + GAP + w).sum::<i32>()
            + SPACING * (items.len() as i32 - 1).max(0);
        let (w, h) = area.dim_in_pixel();
        let cy = h as i32 / 2;
        let mut x = ((w as i32 - total) / 2).max(4);
        let text = style.pos(Pos::new(HPos::Left, VPos::Center));
        for ((label, c, dashed), tw) in items.iter().zip(&widths) {
            area.draw(&legend_line(x, cy, *c, *dashed))?;
            area.draw_text(label, &text, (x + SAMPLE + GAP, cy + 1))?;
            x += SAMPLE + GAP + tw + SPACING;
        }
        Ok(())
    }
}

/// Height of the legend strip of [`CurveChart::legend_above`].
const LEGEND_STRIP_H: u32 = 26;

/// The x coordinate of fractional index `m` into `xs`, with its whole part `i` and fraction
/// `f` (`f` is 0 at the last x).
fn marker_at(xs: &[f64], m: f64) -> (f64, usize, f64) {
    let i = (m.floor() as usize).min(xs.len() - 1);
    let f = m - i as f64;
    if i + 1 < xs.len() {
        (xs[i] + f * (xs[i + 1] - xs[i]), i, f)
    } else {
        (xs[i], i, 0.0)
    }
}

/// `values` at `i + f`, along the straight segment a chart draws from `values[i]` to
/// `values[i + 1]` (in log space on a log axis).
fn between(values: &[f64], i: usize, f: f64, log: bool) -> f64 {
    let a = values[i];
    if f == 0.0 || i + 1 >= values.len() {
        return a;
    }
    let b = values[i + 1];
    if log {
        (a.ln() + f * (b.ln() - a.ln())).exp()
    } else {
        a + f * (b - a)
    }
}

/// Everything the twin-axis chart needs besides the loss axis.
struct Plot<'p> {
    chart: &'p CurveChart<'p>,
    x_range: std::ops::Range<f64>,
    loss_runs: &'p [Vec<Vec<(f64, f64)>>],
    acc_runs: &'p [Vec<Vec<(f64, f64)>>],
}

impl Plot<'_> {
    fn draw<Y>(&self, area: &Area, y: Y, y_fmt: &dyn Fn(&f64) -> String) -> DrawResult
    where
        Y: AsRangedCoord<Value = f64>,
        Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        let c = self.chart;
        let fs = c.font_size;
        // Without a right axis, its space stays empty: charts stacked in one frame then share
        // their x pixels, so a marker is at the same place in each.
        let right = if c.right_axis {
            12
        } else {
            12 + c.y_label_area
        };
        let mut builder = chart_on(area, right, c.x_label_area, c.y_label_area);
        if c.right_axis {
            builder.right_y_label_area_size(c.y_label_area);
        }
        let mut chart = builder
            .build_cartesian_2d(self.x_range.clone(), y)?
            .set_secondary_coord(self.x_range.clone(), 0.0..1.0);
        house_grid(&mut chart.configure_mesh(), fs)
            .x_labels(9)
            .y_labels(8)
            .axis_desc_style(font(fs + 3.0).color(&BLUES[0]))
            .x_desc(c.x_label)
            .y_desc(c.y_label)
            .x_label_formatter(&|v| (c.x_fmt)(*v))
            .y_label_formatter(y_fmt)
            .draw()?;
        if c.right_axis {
            chart
                .configure_secondary_axes()
                .y_labels(6)
                .label_style(font(fs))
                .axis_desc_style(font(fs + 3.0).color(&REDS[0]))
                .y_desc("accuracy")
                .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
                .draw()?;
        }

        let at = c.marker.map(|m| marker_at(c.xs, m));
        if let Some((x, _, _)) = at {
            // A thin vertical line through the whole plot at the marker's x.
            chart.draw_secondary_series(std::iter::once(PathElement::new(
                vec![(x, 0.0), (x, 1.0)],
                RGBColor(90, 90, 90).stroke_width(1),
            )))?;
        }
        for (k, (s, runs)) in c.losses.iter().zip(self.loss_runs).enumerate() {
            let col = BLUES[k % BLUES.len()];
            let dashed = k > 0;
            for (j, run) in runs.iter().enumerate() {
                let pts = run.iter().copied();
                let anno = if dashed {
                    chart.draw_series(DashedLineSeries::new(pts, 9, 6, col.stroke_width(2)))?
                } else {
                    chart.draw_series(LineSeries::new(pts, col.stroke_width(2)))?
                };
                if j == 0 {
                    anno.label(s.label.as_str())
                        .legend(move |(x, y)| legend_line(x, y, col, dashed));
                }
            }
        }
        for (k, (s, runs)) in c.accuracies.iter().zip(self.acc_runs).enumerate() {
            let col = REDS[k % REDS.len()];
            let dashed = k > 0;
            for (j, run) in runs.iter().enumerate() {
                let pts = run.iter().copied();
                let anno = if dashed {
                    chart.draw_secondary_series(DashedLineSeries::new(
                        pts,
                        9,
                        6,
                        col.stroke_width(2),
                    ))?
                } else {
                    chart.draw_secondary_series(LineSeries::new(pts, col.stroke_width(2)))?
                };
                if j == 0 {
                    anno.label(s.label.as_str())
                        .legend(move |(x, y)| legend_line(x, y, col, dashed));
                }
            }
        }
        if let Some((x, i, f)) = at {
            // The current point on every series, black-edged so it reads on any line colour;
            // a point a series cannot show (a gap) gets no dot. Between two xs the dot sits on
            // the drawn segment: interpolated linearly, or geometrically on a log axis.
            for (k, s) in c.losses.iter().enumerate() {
                let v = between(&s.values, i, f, c.log_loss);
                if v.is_finite() && (!c.log_loss || v > 0.0) {
                    chart.draw_series([
                        Circle::new((x, v), 6, BLACK.filled()),
                        Circle::new((x, v), 4, BLUES[k % BLUES.len()].filled()),
                    ])?;
                }
            }
            for (k, s) in c.accuracies.iter().enumerate() {
                let v = between(&s.values, i, f, false);
                if v.is_finite() {
                    chart.draw_secondary_series([
                        Circle::new((x, v), 6, BLACK.filled()),
                        Circle::new((x, v), 4, REDS[k % REDS.len()].filled()),
                    ])?;
                }
            }
        }
        frame(&chart.plotting_area().strip_coord_spec())?;
        if c.legend_above {
            return Ok(());
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperMiddle)
            .margin(12)
            .legend_area_size(34)
            .label_font(font(fs + 1.0))
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(160, 160, 160))
            .draw()?;
        Ok(())
    }
}

/// A legend sample: a solid line, or two dashes.
fn legend_line(
    x: i32,
    y: i32,
    c: RGBColor,
    dashed: bool,
) -> DashedPathElement<std::vec::IntoIter<(i32, i32)>, i32> {
    // One 26-pixel dash is a solid line.
    let (dash, gap) = if dashed { (9, 6) } else { (26, 4) };
    DashedPathElement::new(vec![(x, y), (x + 25, y)], dash, gap, c.stroke_width(2))
}

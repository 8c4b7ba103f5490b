//! Training curves: loss (log scale) and accuracy against step.

use std::ops::Range;
use std::path::Path;

use genviz_core::{Error, Result};
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::output::{write_png, Area, DrawResult};
use crate::style::{
    chart_on, font, frame, house_grid, linear_tick, log_tick, series_color, titled,
};
use crate::Curve;

/// Size of one panel, in pixels.
const PANEL_W: u32 = 640;
const PANEL_H: u32 = 460;
/// Height of the title strip above both panels.
const TITLE_H: u32 = 44;
/// Curves with at most this many shown points also get a dot at every point.
const MARK_POINTS_UP_TO: usize = 40;

pub(crate) fn draw(path: &Path, title: &str, losses: &[Curve], accuracies: &[Curve]) -> Result<()> {
    for (kind, curves) in [("loss", losses), ("accuracy", accuracies)] {
        for c in curves {
            if c.steps.len() != c.values.len() {
                return Err(Error::invalid(format!(
                    "{}: {kind} curve {:?} has {} steps but {} values",
                    path.display(),
                    c.label,
                    c.steps.len(),
                    c.values.len()
                )));
            }
        }
    }
    // One colour per distinct label, shared by both panels.
    let mut labels: Vec<&str> = Vec::new();
    for c in losses.iter().chain(accuracies) {
        if !labels.contains(&c.label.as_str()) {
            labels.push(&c.label);
        }
    }
    let color_of = |label: &str| series_color(labels.iter().position(|l| *l == label).unwrap_or(0));
    let loss_series: Vec<Series> = losses
        .iter()
        .map(|c| Series::new(c, color_of(&c.label), |v| v > 0.0))
        .collect();
    let acc_series: Vec<Series> = accuracies
        .iter()
        .map(|c| Series::new(c, color_of(&c.label), |_| true))
        .collect();

    write_png(path, (2 * PANEL_W, PANEL_H + TITLE_H), |root| {
        let rest = titled(root, title, TITLE_H)?;
        let (left, right) = rest.split_horizontally(PANEL_W);

        let steps = step_range(loss_series.iter().chain(&acc_series));
        let (lo, hi) = loss_range(&loss_series);
        panel(
            &left,
            &loss_series,
            steps.clone(),
            (lo..hi).log_scale(),
            "loss",
            &|v| log_tick(*v),
            SeriesLabelPosition::UpperRight,
        )?;
        let (lo, hi, decimals) = accuracy_range(&acc_series);
        panel(
            &right,
            &acc_series,
            steps,
            lo..hi,
            "accuracy",
            &|v| format!("{:.*}%", decimals, v * 100.0),
            SeriesLabelPosition::MiddleRight,
        )
    })
}

/// A curve's drawable points and colour.
struct Series {
    label: String,
    color: RGBColor,
    points: Vec<(f64, f64)>,
}

impl Series {
    /// Keeps the points with finite step and value for which `keep(value)` holds.
    fn new(c: &Curve, color: RGBColor, keep: impl Fn(f64) -> bool) -> Self {
        let points = c
            .steps
            .iter()
            .zip(&c.values)
            .filter(|(s, v)| s.is_finite() && v.is_finite() && keep(**v))
            .map(|(&s, &v)| (s, v))
            .collect();
        Series {
            label: c.label.clone(),
            color,
            points,
        }
    }
}

/// The step range covering every shown point (0..1 when there is none).
fn step_range<'a>(series: impl Iterator<Item = &'a Series>) -> Range<f64> {
    let (lo, hi) = min_max(series.flat_map(|s| s.points.iter().map(|p| p.0)));
    match (lo, hi) {
        (Some(lo), Some(hi)) if hi > lo => lo..hi,
        (Some(lo), Some(_)) => lo - 1.0..lo + 1.0,
        _ => 0.0..1.0,
    }
}

/// The loss range, padded a little in log space (1e-3..1 when there is nothing to show).
fn loss_range(series: &[Series]) -> (f64, f64) {
    let (lo, hi) = min_max(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)));
    match (lo, hi) {
        (Some(lo), Some(hi)) if hi > lo => {
            let pad = (hi / lo).powf(0.04);
            with_a_decade(lo / pad, hi * pad)
        }
        (Some(lo), Some(_)) => with_a_decade(lo / 2.0, lo * 2.0),
        _ => (1e-3, 1.0),
    }
}

/// plotters labels a log axis only at powers of ten (and their multiples inside the first
/// decade), so a range without a power of ten would get no tick labels at all: extend it down
/// to the decade below.
fn with_a_decade(lo: f64, hi: f64) -> (f64, f64) {
    let decade = 10f64.powf(hi.log10().floor());
    if decade < lo {
        // A hair below the power of ten, so rounding cannot push it out of the range.
        (decade * 0.999, hi)
    } else {
        (lo, hi)
    }
}

/// The accuracy range: from a tenth below the lowest value (or 0) to just above 100%, and how
/// many decimals the percentage ticks need.
fn accuracy_range(series: &[Series]) -> (f64, f64, usize) {
    let (lo, hi) = min_max(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)));
    let lo = lo
        .map_or(0.0, |lo| ((lo - 0.02) * 10.0).floor() / 10.0)
        .clamp(0.0, 0.9);
    let hi = hi.map_or(1.0, |hi| hi.max(1.0)) + 0.01;
    let decimals = if hi - lo < 0.25 { 1 } else { 0 };
    (lo, hi, decimals)
}

fn min_max(values: impl Iterator<Item = f64>) -> (Option<f64>, Option<f64>) {
    values.fold((None, None), |(lo, hi), v| {
        (
            Some(lo.map_or(v, |l: f64| l.min(v))),
            Some(hi.map_or(v, |h: f64| h.max(v))),
        )
    })
}

/// One panel: axes with light grid, the curves, a legend at `legend_at`.
fn panel<Y>(
    area: &Area,
    series: &[Series],
    steps: Range<f64>,
    y: Y,
    y_desc: &str,
    y_fmt: &dyn Fn(&f64) -> String,
    legend_at: SeriesLabelPosition,
) -> DrawResult
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let mut chart = chart_on(area, 24, 52, 78).build_cartesian_2d(steps, y)?;
    house_grid(&mut chart.configure_mesh(), 14.0)
        .x_labels(8)
        .y_labels(10)
        .x_desc("step")
        .y_desc(y_desc)
        .x_label_formatter(&|v| linear_tick(*v))
        .y_label_formatter(y_fmt)
        .draw()?;

    for s in series {
        let style = s.color.stroke_width(2);
        let color = s.color;
        chart
            .draw_series(LineSeries::new(s.points.iter().copied(), style))?
            .label(s.label.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(2))
            });
        if s.points.len() <= MARK_POINTS_UP_TO {
            chart.draw_series(
                s.points
                    .iter()
                    .map(|&p| Circle::new(p, 3, s.color.filled())),
            )?;
        }
    }

    let plot = chart.plotting_area().strip_coord_spec();
    frame(&plot)?;
    let (pw, ph) = plot.dim_in_pixel();
    if series.iter().all(|s| s.points.is_empty()) {
        plot.draw_text(
            "no data",
            &font(18.0)
                .color(&RGBColor(120, 120, 120))
                .pos(Pos::new(HPos::Center, VPos::Center)),
            (pw as i32 / 2, ph as i32 / 2),
        )?;
    } else if !series.is_empty() {
        chart
            .configure_series_labels()
            .position(legend_at)
            .margin(12)
            .legend_area_size(30)
            .label_font(font(15.0))
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(160, 160, 160))
            .draw()?;
    }
    Ok(())
}

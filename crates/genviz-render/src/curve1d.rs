//! Loss and accuracy along one direction (Li et al. 2018, `plot_1D`), on twin y axes.

use std::path::Path;

use genviz_core::{Error, Result};
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::output::{write_png, Area, DrawResult};
use crate::style::{bold, chart_on, font, linear_tick, log_tick};
use crate::Series1d;

/// Figure size, in pixels.
const W: u32 = 860;
const H: u32 = 560;
/// Height of the title strip.
const TITLE_H: u32 = 44;
/// Loss colours (blues) and accuracy colours (reds), by series index.
const BLUES: [RGBColor; 4] = [
    RGBColor(31, 90, 180),
    RGBColor(70, 140, 210),
    RGBColor(20, 50, 110),
    RGBColor(110, 170, 230),
];
const REDS: [RGBColor; 4] = [
    RGBColor(200, 30, 40),
    RGBColor(235, 110, 80),
    RGBColor(130, 20, 20),
    RGBColor(240, 150, 120),
];

pub(crate) fn draw(
    path: &Path,
    title: &str,
    x_label: &str,
    xs: &[f64],
    losses: &[Series1d],
    accuracies: &[Series1d],
    log_loss: bool,
) -> Result<()> {
    let fail = |what: String| Err(Error::invalid(format!("{}: {what}", path.display())));
    if losses.is_empty() && accuracies.is_empty() {
        return fail("no loss or accuracy series to draw".into());
    }
    if xs.len() < 2 {
        return fail(format!("need at least 2 xs, got {}", xs.len()));
    }
    if let Some(k) = xs.iter().position(|v| !v.is_finite()) {
        return fail(format!("xs[{k}] = {} is not finite", xs[k]));
    }
    if let Some(k) = (1..xs.len()).find(|&k| xs[k] <= xs[k - 1]) {
        return fail(format!(
            "xs must be strictly increasing, but xs[{k}] = {} follows {}",
            xs[k],
            xs[k - 1]
        ));
    }
    for (kind, list) in [("loss", losses), ("accuracy", accuracies)] {
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
    // Drawable runs of each series (gaps split a line).
    let runs = |s: &Series1d, keep: &dyn Fn(f64) -> bool| -> Vec<Vec<(f64, f64)>> {
        let mut out = vec![Vec::new()];
        for (&x, &v) in xs.iter().zip(&s.values) {
            if v.is_finite() && keep(v) {
                if let Some(r) = out.last_mut() {
                    r.push((x, v));
                }
            } else if !out.last().is_some_and(|r| r.is_empty()) {
                out.push(Vec::new());
            }
        }
        out.retain(|r| !r.is_empty());
        out
    };
    let loss_runs: Vec<Vec<Vec<(f64, f64)>>> = losses
        .iter()
        .map(|s| runs(s, &|v| !log_loss || v > 0.0))
        .collect();
    let acc_runs: Vec<Vec<Vec<(f64, f64)>>> =
        accuracies.iter().map(|s| runs(s, &|_| true)).collect();
    let shown = loss_runs.iter().flatten().flatten().map(|p| p.1);
    let (lo, hi) = shown.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let x_range = xs[0]..xs[xs.len() - 1];

    write_png(path, (W, H), |root| {
        root.fill(&WHITE)?;
        let (title_area, rest) = root.split_vertically(TITLE_H);
        let (w, h) = title_area.dim_in_pixel();
        title_area.draw_text(
            title,
            &bold(20.0).pos(Pos::new(HPos::Center, VPos::Center)),
            (w as i32 / 2, h as i32 / 2 + 4),
        )?;
        let plot = Plot {
            x_label,
            x_range: x_range.clone(),
            losses,
            accuracies,
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
            plot.draw(&rest, (lo..hi).log_scale(), &|v| log_tick(*v))
        } else {
            let (lo, hi) = if lo.is_finite() && hi > lo {
                let pad = (hi - lo) * 0.05;
                ((lo - pad).min(0.0).max(lo - pad), hi + pad)
            } else if lo.is_finite() {
                (lo - 1.0, lo + 1.0)
            } else {
                (0.0, 1.0)
            };
            plot.draw(&rest, lo..hi, &|v| linear_tick(*v))
        }
    })
}

/// Everything the twin-axis chart needs besides the loss axis.
struct Plot<'p> {
    x_label: &'p str,
    x_range: std::ops::Range<f64>,
    losses: &'p [Series1d],
    accuracies: &'p [Series1d],
    loss_runs: &'p [Vec<Vec<(f64, f64)>>],
    acc_runs: &'p [Vec<Vec<(f64, f64)>>],
}

impl Plot<'_> {
    fn draw<Y>(&self, area: &Area, y: Y, y_fmt: &dyn Fn(&f64) -> String) -> DrawResult
    where
        Y: AsRangedCoord<Value = f64>,
        Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        let mut chart = chart_on(area, 12, 52, 80)
            .right_y_label_area_size(80)
            .build_cartesian_2d(self.x_range.clone(), y)?
            .set_secondary_coord(self.x_range.clone(), 0.0..1.0);
        chart
            .configure_mesh()
            .light_line_style(RGBColor(248, 248, 248))
            .bold_line_style(RGBColor(224, 224, 224))
            .x_labels(9)
            .y_labels(8)
            .label_style(font(14.0))
            .axis_desc_style(font(17.0).color(&BLUES[0]))
            .x_desc(self.x_label)
            .y_desc("loss")
            .x_label_formatter(&|v| linear_tick(*v))
            .y_label_formatter(y_fmt)
            .draw()?;
        chart
            .configure_secondary_axes()
            .y_labels(6)
            .label_style(font(14.0))
            .axis_desc_style(font(17.0).color(&REDS[0]))
            .y_desc("accuracy")
            .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
            .draw()?;

        for (k, (s, runs)) in self.losses.iter().zip(self.loss_runs).enumerate() {
            let c = BLUES[k % BLUES.len()];
            let dashed = k > 0;
            for (j, run) in runs.iter().enumerate() {
                let pts = run.iter().copied();
                let anno = if dashed {
                    chart.draw_series(DashedLineSeries::new(pts, 9, 6, c.stroke_width(2)))?
                } else {
                    chart.draw_series(LineSeries::new(pts, c.stroke_width(2)))?
                };
                if j == 0 {
                    anno.label(s.label.as_str())
                        .legend(move |(x, y)| legend_line(x, y, c, dashed));
                }
            }
        }
        for (k, (s, runs)) in self.accuracies.iter().zip(self.acc_runs).enumerate() {
            let c = REDS[k % REDS.len()];
            let dashed = k > 0;
            for (j, run) in runs.iter().enumerate() {
                let pts = run.iter().copied();
                let anno = if dashed {
                    chart.draw_secondary_series(DashedLineSeries::new(
                        pts,
                        9,
                        6,
                        c.stroke_width(2),
                    ))?
                } else {
                    chart.draw_secondary_series(LineSeries::new(pts, c.stroke_width(2)))?
                };
                if j == 0 {
                    anno.label(s.label.as_str())
                        .legend(move |(x, y)| legend_line(x, y, c, dashed));
                }
            }
        }
        let plot = chart.plotting_area().strip_coord_spec();
        let (pw, ph) = plot.dim_in_pixel();
        plot.draw(&Rectangle::new(
            [(0, 0), (pw as i32 - 1, ph as i32 - 1)],
            BLACK.stroke_width(1),
        ))?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperMiddle)
            .margin(12)
            .legend_area_size(34)
            .label_font(font(15.0))
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

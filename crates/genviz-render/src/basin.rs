//! Basin figures: histograms of basin radii (Fig. 5 of Huang et al. 2019), bars of log10 basin
//! volumes with confidence intervals, and Hessian spectral densities (PyHessian's
//! `density_plot`).

use std::path::Path;

use genviz_core::{Error, Result};
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::curve1d::drawable_runs;
use crate::output::{write_png, Area, Chart, DrawResult};
use crate::style::{
    bold, chart_on, class_strong, font, frame, house_grid, linear_tick, log_tick, series_color,
};
use crate::{RadiusGroup, VolumeBar};

/// Size of the radius histogram, in pixels.
pub(crate) const HIST_W: u32 = 860;
pub(crate) const HIST_H: u32 = 600;
/// Number of histogram bins (shared by all groups).
const BINS: usize = 40;
/// Radii spanning more than this ratio (max / min) get log-spaced bins and a log x axis.
const LOG_RATIO: f64 = 30.0;
/// Opacity of a histogram's fill.
const HIST_ALPHA: f64 = 0.45;

/// Height of the volume-bar figure, and the width per bar and of the axes around them.
pub(crate) const BARS_H: u32 = 560;
const BAR_SLOT_W: u32 = 190;
const BARS_EXTRA_W: u32 = 150;
const BARS_MIN_W: u32 = 560;

/// Size of the spectral-density figure, in pixels.
pub(crate) const DENSITY_W: u32 = 860;
pub(crate) const DENSITY_H: u32 = 560;
/// On a log axis, positive densities below this fraction of the largest are drawn at it.
const LOG_FLOOR: f64 = 1e-12;

/// Height of the title strip.
const TITLE_H: u32 = 44;
/// Height of one row of the legend strip under the title.
const LEGEND_ROW_H: u32 = 26;

/// The width of the volume-bar figure for `n` bars.
pub(crate) fn bars_width(n: usize) -> u32 {
    (BARS_EXTRA_W + BAR_SLOT_W * n as u32).max(BARS_MIN_W)
}

fn invalid(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::invalid(format!("{}: {what}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// Radius histograms

/// A group's radii that can be shown (finite, positive), how many were skipped, and the median.
struct Shown {
    radii: Vec<f64>,
    skipped: usize,
    median: Option<f64>,
}

fn shown(g: &RadiusGroup) -> Shown {
    let mut radii: Vec<f64> = g
        .radii
        .iter()
        .copied()
        .filter(|r| r.is_finite() && *r > 0.0)
        .collect();
    radii.sort_by(f64::total_cmp);
    let n = radii.len();
    let median = match n {
        0 => None,
        _ if n % 2 == 1 => Some(radii[n / 2]),
        _ => Some(0.5 * (radii[n / 2 - 1] + radii[n / 2])),
    };
    Shown {
        skipped: g.radii.len() - n,
        radii,
        median,
    }
}

/// A number with about three significant digits: `0.31`, `0.0104`, `123`, `2.50e-5`.
pub(crate) fn significant(v: f64) -> String {
    crate::style::significant(v, 3, 1e5)
}

fn never_crossed(n: usize) -> String {
    format!("{n} {} never crossed", if n == 1 { "ray" } else { "rays" })
}

pub(crate) fn draw_histograms(
    path: &Path,
    title: &str,
    groups: &[RadiusGroup],
    x_label: &str,
) -> Result<()> {
    if groups.is_empty() {
        return Err(invalid(path, "no radius groups to draw"));
    }
    if let Some((i, g)) = groups.iter().enumerate().find(|(_, g)| g.radii.is_empty()) {
        return Err(invalid(
            path,
            format!("group {i} ({:?}) has no radii", g.label),
        ));
    }
    let shown: Vec<Shown> = groups.iter().map(shown).collect();
    let all = shown.iter().flat_map(|s| s.radii.iter().copied());
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), r| {
        (a.min(r), b.max(r))
    });
    if !(lo.is_finite() && hi.is_finite()) {
        return Err(invalid(
            path,
            "no group has a finite positive radius to draw",
        ));
    }
    let log = hi / lo > LOG_RATIO;

    // Shared bin edges over [lo, hi] (widened a little when every radius is the same).
    let (elo, ehi) = if hi > lo {
        (lo, hi)
    } else {
        (lo * 0.95, hi * 1.05)
    };
    let edges: Vec<f64> = (0..=BINS)
        .map(|k| {
            let t = k as f64 / BINS as f64;
            if log {
                elo * (ehi / elo).powf(t)
            } else {
                elo + (ehi - elo) * t
            }
        })
        .collect();
    let bin_of = |r: f64| -> usize {
        let t = if log {
            (r / elo).ln() / (ehi / elo).ln()
        } else {
            (r - elo) / (ehi - elo)
        };
        ((t * BINS as f64).floor().max(0.0) as usize).min(BINS - 1)
    };
    let counts: Vec<Vec<usize>> = shown
        .iter()
        .map(|s| {
            let mut c = vec![0usize; BINS];
            for &r in &s.radii {
                c[bin_of(r)] += 1;
            }
            c
        })
        .collect();
    let max_count = counts.iter().flatten().copied().max().unwrap_or(0).max(1);

    let legend: Vec<(String, Mark)> = groups
        .iter()
        .zip(&shown)
        .enumerate()
        .map(|(i, (g, s))| {
            let mut text = g.label.clone();
            let mut notes = Vec::new();
            if let Some(m) = s.median {
                notes.push(format!("median {}", significant(m)));
            }
            if s.skipped > 0 {
                notes.push(never_crossed(s.skipped));
            }
            if !notes.is_empty() {
                text = format!("{text} ({})", notes.join(", "));
            }
            (text, Mark::Patch(class_strong(i)))
        })
        .collect();

    write_png(path, (HIST_W, HIST_H), |root| {
        root.fill(&WHITE)?;
        let rest = title_and_legend(root, title, &legend)?;
        let y_top = max_count as f64 * 1.08;
        let hist = Hist {
            counts: &counts,
            edges: &edges,
            medians: shown.iter().map(|s| s.median).collect(),
            y_top,
            x_label,
        };
        if log {
            let pad = (ehi / elo).powf(0.03);
            let (xlo, xhi) = (elo / pad, ehi * pad);
            let ticks = log_ticks(xlo, xhi);
            hist.draw(&rest, (xlo..xhi).log_scale(), Some(&ticks), &|v| {
                log_tick(*v)
            })
        } else {
            let pad = (ehi - elo) * 0.03;
            hist.draw(&rest, elo - pad..ehi + pad, None, &|v| linear_tick(*v))
        }
    })
}

/// Everything the histogram chart needs besides the x axis.
struct Hist<'h> {
    counts: &'h [Vec<usize>],
    edges: &'h [f64],
    medians: Vec<Option<f64>>,
    y_top: f64,
    x_label: &'h str,
}

impl Hist<'_> {
    /// Draws the chart; with `ticks` the x axis is labelled at those values (plotters' own log
    /// axis labels only powers of ten) instead of at plotters' choice.
    fn draw<X>(
        &self,
        area: &Area,
        x: X,
        ticks: Option<&[f64]>,
        x_fmt: &dyn Fn(&f64) -> String,
    ) -> DrawResult
    where
        X: AsRangedCoord<Value = f64>,
        X::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        let mut chart = chart_on(area, 28, 52, 72).build_cartesian_2d(x, 0.0..self.y_top)?;
        house_grid(&mut chart.configure_mesh(), 14.0)
            .disable_x_mesh()
            .x_labels(if ticks.is_some() { 0 } else { 10 })
            .y_labels(8)
            .x_desc(self.x_label)
            .y_desc("count")
            .x_label_formatter(&|v| match ticks {
                // plotters may still put a label of its own on a log axis: keep it blank.
                Some(_) => String::new(),
                None => x_fmt(v),
            })
            .y_label_formatter(&|v| linear_tick(*v))
            .draw()?;

        // Fills first (so overlaps blend), then every group's outline on top.
        for (i, c) in self.counts.iter().enumerate() {
            let fill = class_strong(i).mix(HIST_ALPHA).filled();
            chart.draw_series(c.iter().enumerate().filter(|(_, &n)| n > 0).map(|(k, &n)| {
                Rectangle::new([(self.edges[k], 0.0), (self.edges[k + 1], n as f64)], fill)
            }))?;
        }
        for (i, c) in self.counts.iter().enumerate() {
            // The outline runs from the first to the last non-empty bin (not along the axis
            // under the other groups).
            let (Some(first), Some(last)) = (
                c.iter().position(|&n| n > 0),
                c.iter().rposition(|&n| n > 0),
            ) else {
                continue;
            };
            let mut outline = vec![(self.edges[first], 0.0)];
            for (k, &n) in c.iter().enumerate().take(last + 1).skip(first) {
                outline.push((self.edges[k], n as f64));
                outline.push((self.edges[k + 1], n as f64));
            }
            outline.push((self.edges[last + 1], 0.0));
            chart.draw_series(LineSeries::new(outline, class_strong(i).stroke_width(2)))?;
        }
        for (i, m) in self.medians.iter().enumerate() {
            if let Some(m) = *m {
                chart.draw_series(DashedLineSeries::new(
                    [(m, 0.0), (m, self.y_top)],
                    8,
                    5,
                    class_strong(i).stroke_width(2),
                ))?;
            }
        }
        if let Some(ticks) = ticks {
            let (bx, by) = area.get_base_pixel();
            for &t in ticks {
                let (px, py) = chart.backend_coord(&(t, 0.0));
                let (px, py) = (px - bx, py - by);
                area.draw(&PathElement::new([(px, py), (px, py + 5)], BLACK))?;
                area.draw_text(
                    &x_fmt(&t),
                    &font(14.0).pos(Pos::new(HPos::Center, VPos::Top)),
                    (px, py + 8),
                )?;
            }
        }
        frame(&chart.plotting_area().strip_coord_spec())
    }
}

/// Tick values for a log axis over `lo..hi`: 1, 2 and 5 times powers of ten when the range
/// spans at most three decades, otherwise powers of ten only.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mults: &[f64] = if hi / lo <= 1e3 {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0]
    };
    let (k0, k1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let mut out = Vec::new();
    for k in k0..=k1 {
        for m in mults {
            let t = m * 10f64.powi(k);
            if t >= lo && t <= hi {
                out.push(t);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Volume bars

/// A value with a sensible number of decimals for its size, without trailing zeros.
pub(crate) fn value_text(v: f64) -> String {
    let a = v.abs();
    let decimals = if a >= 100.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        3
    };
    crate::style::trimmed(v, decimals)
}

/// A "nice" step (1, 2 or 5 times a power of ten) of about `raw`.
fn nice_step(raw: f64) -> f64 {
    crate::colormap::round_step(raw, &[(1.5, 1.0), (3.5, 2.0), (7.5, 5.0)])
}

pub(crate) fn draw_volume_bars(path: &Path, title: &str, bars: &[VolumeBar]) -> Result<()> {
    if bars.is_empty() {
        return Err(invalid(path, "no volume bars to draw"));
    }
    for (i, b) in bars.iter().enumerate() {
        let fail = |what: String| Err(invalid(path, format!("bar {i} ({:?}): {what}", b.label)));
        for (name, v) in [
            ("log10_volume", b.log10_volume),
            ("low", b.low),
            ("high", b.high),
        ] {
            if !v.is_finite() {
                return fail(format!("{name} = {v} is not finite"));
            }
        }
        if !(b.low <= b.log10_volume && b.log10_volume <= b.high) {
            return fail(format!(
                "needs low <= log10_volume <= high, got low {}, log10_volume {}, high {}",
                b.low, b.log10_volume, b.high
            ));
        }
    }
    let lowest = bars.iter().map(|b| b.low).fold(f64::INFINITY, f64::min);
    let highest = bars
        .iter()
        .map(|b| b.high)
        .fold(f64::NEG_INFINITY, f64::max);
    let span = if highest > lowest {
        highest - lowest
    } else {
        (highest.abs() * 0.05).max(1.0)
    };
    // The baseline: a round number comfortably below the lowest interval.
    let step = nice_step(span * 0.1);
    let base = ((lowest - span * 0.1) / step).floor() * step;
    // Room above the highest interval for the annotations (about 15% of the plot height).
    let top = (highest - 0.15 * base) / 0.85;
    let n = bars.len();

    write_png(path, (bars_width(n), BARS_H), |root| {
        root.fill(&WHITE)?;
        let rest = title_and_legend(root, title, &[])?;
        let mut chart =
            chart_on(&rest, 28, 46, 92).build_cartesian_2d(-0.5..n as f64 - 0.5, base..top)?;
        draw_value_axis(&mut chart, "log10 volume", &|v| linear_tick(*v))?;

        const HALF: f64 = 0.3;
        for (i, b) in bars.iter().enumerate() {
            let x = i as f64;
            let strong = class_strong(i);
            chart.draw_series([
                Rectangle::new(
                    [(x - HALF, base), (x + HALF, b.log10_volume)],
                    strong.mix(0.55).filled(),
                ),
                Rectangle::new(
                    [(x - HALF, base), (x + HALF, b.log10_volume)],
                    strong.stroke_width(2),
                ),
            ])?;
            // The interval: a black whisker with caps.
            let (cx, lo_y) = chart.backend_coord(&(x, b.low));
            let (_, hi_y) = chart.backend_coord(&(x, b.high));
            let whisker = BLACK.stroke_width(2);
            root.draw(&PathElement::new([(cx, lo_y), (cx, hi_y)], whisker))?;
            for y in [lo_y, hi_y] {
                root.draw(&PathElement::new([(cx - 12, y), (cx + 12, y)], whisker))?;
            }
            let (_, v_y) = chart.backend_coord(&(x, b.log10_volume));
            root.draw(&Circle::new((cx, v_y), 4, BLACK.filled()))?;
            // Annotations above the upper cap: the value, and the interval under it.
            root.draw_text(
                &value_text(b.log10_volume),
                &bold(16.0).pos(Pos::new(HPos::Center, VPos::Bottom)),
                (cx, hi_y - 26),
            )?;
            root.draw_text(
                &format!("[{}, {}]", value_text(b.low), value_text(b.high)),
                &font(13.0)
                    .color(&RGBColor(90, 90, 90))
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
                (cx, hi_y - 8),
            )?;
            // The bar's label under the axis.
            let (_, axis_y) = chart.backend_coord(&(x, base));
            root.draw_text(
                &b.label,
                &font(16.0).pos(Pos::new(HPos::Center, VPos::Top)),
                (cx, axis_y + 12),
            )?;
        }
        frame(&chart.plotting_area().strip_coord_spec())
    })
}

// ---------------------------------------------------------------------------------------------
// Spectral density

/// Draws Hessian eigenvalue densities into one PNG at `path` (860x560 pixels), like
/// PyHessian's `density_plot`: `title` above, a legend under it, density against eigenvalue
/// (axes labelled "eigenvalue" and "density"), one line per `(label, values)` series, where
/// `values[i]` is the density at `grid[i]`. The first series is solid, the others dashed, each
/// in its own colour.
///
/// With `log_y` the y axis is logarithmic: values `<= 0` are gaps, and positive values below
/// `1e-12` times the largest are drawn at that floor. Non-finite values are always gaps.
///
/// # Errors
///
/// [`genviz_core::Error::Invalid`] if `densities` is empty, `grid` has fewer than 2 points or
/// is not finite and strictly increasing, a series' length differs from `grid`'s, or there is
/// no value to draw (none finite, or with `log_y` none positive), checked before anything is
/// drawn; [`genviz_core::Error::Io`] if the file cannot be written. Every message names
/// `path`; on error no file is left behind.
pub fn draw_spectral_density(
    path: &Path,
    title: &str,
    grid: &[f64],
    densities: &[(String, Vec<f64>)],
    log_y: bool,
) -> Result<()> {
    if densities.is_empty() {
        return Err(invalid(path, "no density series to draw"));
    }
    crate::checks::check_axis("the eigenvalue grid", grid).map_err(|what| invalid(path, what))?;
    for (label, d) in densities {
        if d.len() != grid.len() {
            return Err(invalid(
                path,
                format!(
                    "density {label:?} has {} values but the grid has {}",
                    d.len(),
                    grid.len()
                ),
            ));
        }
    }
    let keep = |v: f64| v.is_finite() && (!log_y || v > 0.0);
    let vals = densities.iter().flat_map(|(_, d)| d.iter().copied());
    let (lo, hi) = vals
        .filter(|&v| keep(v))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !hi.is_finite() {
        return Err(invalid(
            path,
            if log_y {
                "no positive finite density value to draw on a log axis"
            } else {
                "no finite density value to draw"
            },
        ));
    }
    let floor = hi * LOG_FLOOR;
    // Drawable runs of each series: gaps (non-finite, or <= 0 on a log axis) split a line.
    let runs: Vec<Vec<Vec<(f64, f64)>>> = densities
        .iter()
        .map(|(_, d)| drawable_runs(grid, d, keep, |v| if log_y { v.max(floor) } else { v }))
        .collect();
    let legend: Vec<(String, Mark)> = densities
        .iter()
        .enumerate()
        .map(|(i, (label, _))| (label.clone(), Mark::Line(series_color(i), i > 0)))
        .collect();
    let x_range = grid[0]..grid[grid.len() - 1];

    write_png(path, (DENSITY_W, DENSITY_H), |root| {
        root.fill(&WHITE)?;
        let rest = title_and_legend(root, title, &legend)?;
        if log_y {
            let lo = lo.max(floor);
            let (lo, hi) = if hi > lo {
                let pad = (hi / lo).powf(0.04);
                (lo / pad, hi * pad)
            } else {
                (lo / 2.0, hi * 2.0)
            };
            // plotters labels a log axis at powers of ten: make sure one is in range.
            let decade = 10f64.powf(hi.log10().floor());
            let lo = if decade < lo { decade * 0.999 } else { lo };
            density_chart(
                &rest,
                x_range.clone(),
                (lo..hi).log_scale(),
                84,
                &runs,
                &|v| log_tick(*v),
            )
        } else {
            let bottom = lo.min(0.0);
            let top = if hi > bottom { hi } else { bottom + 1.0 };
            let pad = (top - bottom) * 0.05;
            let bottom = if bottom < 0.0 { bottom - pad } else { 0.0 };
            density_chart(&rest, x_range.clone(), bottom..top + pad, 70, &runs, &|v| {
                significant(*v)
            })
        }
    })
}

fn density_chart<Y>(
    area: &Area,
    x: std::ops::Range<f64>,
    y: Y,
    y_label_w: u32,
    runs: &[Vec<Vec<(f64, f64)>>],
    y_fmt: &dyn Fn(&f64) -> String,
) -> DrawResult
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let mut chart = chart_on(area, 28, 52, y_label_w).build_cartesian_2d(x, y)?;
    house_grid(&mut chart.configure_mesh(), 14.0)
        .x_labels(12)
        .y_labels(10)
        .x_desc("eigenvalue")
        .y_desc("density")
        .x_label_formatter(&|v| linear_tick(*v))
        .y_label_formatter(y_fmt)
        .draw()?;
    for (i, series) in runs.iter().enumerate() {
        let style = series_color(i).stroke_width(2);
        for run in series {
            if i == 0 {
                // Segment by segment: a spectral density is a comb of narrow spikes, and the
                // mitred joins of one thick polyline would shoot far outside the plot.
                chart.draw_series(
                    run.windows(2)
                        .map(|w| PathElement::new(vec![w[0], w[1]], style)),
                )?;
            } else {
                let pts = run.iter().copied();
                chart.draw_series(DashedLineSeries::new(pts, 10, 6, style))?;
            }
        }
    }
    frame(&chart.plotting_area().strip_coord_spec())
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

/// A legend sample: a filled patch (histograms) or a line, dashed or not.
#[derive(Clone, Copy)]
pub(crate) enum Mark {
    Patch(RGBColor),
    Line(RGBColor, bool),
}

/// Width of a legend sample and the gap after it, and the gap between entries.
const SAMPLE_W: i32 = 28;
const SAMPLE_GAP: i32 = 8;
const ENTRY_GAP: i32 = 28;

/// Draws `title` in a strip at the top and, under it, the legend entries laid out in centred
/// rows (wrapping when they do not fit); returns the area left below.
pub(crate) fn title_and_legend<'a>(
    root: &Area<'a>,
    title: &str,
    legend: &[(String, Mark)],
) -> std::result::Result<Area<'a>, Box<dyn std::error::Error + Send + Sync>> {
    let (w, _) = root.dim_in_pixel();
    let style = font(15.0);
    let mut widths = Vec::with_capacity(legend.len());
    for (text, _) in legend {
        let (tw, _) = root.estimate_text_size(text, &style)?;
        widths.push(SAMPLE_W + SAMPLE_GAP + tw as i32);
    }
    // Greedy rows within the figure width (less a margin).
    let avail = w as i32 - 60;
    let mut rows: Vec<Vec<usize>> = Vec::new();
    let mut row_w = 0;
    for (k, &ew) in widths.iter().enumerate() {
        match rows.last_mut() {
            Some(row) if row_w + ENTRY_GAP + ew <= avail => {
                row.push(k);
                row_w += ENTRY_GAP + ew;
            }
            _ => {
                rows.push(vec![k]);
                row_w = ew;
            }
        }
    }
    let legend_h = if rows.is_empty() {
        0
    } else {
        rows.len() as u32 * LEGEND_ROW_H + 6
    };
    let (top, rest) = root.split_vertically(TITLE_H + legend_h);
    top.draw_text(
        title,
        &bold(20.0).pos(Pos::new(HPos::Center, VPos::Center)),
        (w as i32 / 2, TITLE_H as i32 / 2 + 4),
    )?;
    for (r, row) in rows.iter().enumerate() {
        let total: i32 =
            row.iter().map(|&k| widths[k]).sum::<i32>() + ENTRY_GAP * (row.len() as i32 - 1);
        let mut x = (w as i32 - total) / 2;
        let y = TITLE_H as i32 + r as i32 * LEGEND_ROW_H as i32 + LEGEND_ROW_H as i32 / 2;
        for &k in row {
            let (text, mark) = &legend[k];
            match *mark {
                Mark::Patch(c) => {
                    top.draw(&Rectangle::new(
                        [(x, y - 8), (x + SAMPLE_W, y + 8)],
                        c.mix(HIST_ALPHA).filled(),
                    ))?;
                    top.draw(&Rectangle::new(
                        [(x, y - 8), (x + SAMPLE_W, y + 8)],
                        c.stroke_width(2),
                    ))?;
                }
                Mark::Line(c, dashed) => {
                    let (dash, gap) = if dashed { (10, 6) } else { (SAMPLE_W + 2, 4) };
                    top.draw(&DashedPathElement::new(
                        vec![(x, y), (x + SAMPLE_W, y)],
                        dash,
                        gap,
                        c.stroke_width(2),
                    ))?;
                }
            }
            top.draw_text(
                text,
                &style.pos(Pos::new(HPos::Left, VPos::Center)),
                (x + SAMPLE_W + SAMPLE_GAP, y),
            )?;
            x += widths[k] + ENTRY_GAP;
        }
    }
    Ok(rest)
}

/// The value axis of a bar chart (here and in `bars`): horizontal grid lines only, no x ticks
/// (each bar is labelled under the axis), 8 y ticks written by `y_fmt`, the axis named
/// `y_label`.
pub(crate) fn draw_value_axis(
    chart: &mut Chart<'_, '_>,
    y_label: &str,
    y_fmt: &dyn Fn(&f64) -> String,
) -> DrawResult {
    house_grid(&mut chart.configure_mesh(), 14.0)
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(8)
        .y_desc(y_label)
        .y_label_formatter(y_fmt)
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_tidy() {
        assert_eq!(significant(0.31), "0.31");
        assert_eq!(significant(0.010412), "0.0104");
        assert_eq!(significant(123.4), "123");
        assert_eq!(significant(2.5e-5), "2.50e-5");
        assert_eq!(value_text(-4123.7), "-4123.7");
        assert_eq!(value_text(-1500.0), "-1500");
        assert_eq!(value_text(-3.256), "-3.26");
        assert_eq!(nice_step(850.0), 1000.0);
        assert_eq!(nice_step(260.0), 200.0);
        assert_eq!(
            log_ticks(0.003, 0.6),
            [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5]
        );
        assert_eq!(log_ticks(1e-5, 2.0), [1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1.0]);
    }
}

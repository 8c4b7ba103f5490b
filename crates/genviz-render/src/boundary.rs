//! Decision-boundary panels (Fig. 3 of Huang et al. 2019).

use std::path::Path;

use genviz_core::{Error, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::landscape::draw_title;
use crate::output::{write_png, Area, DrawResult};
use crate::style::{class_pale, class_strong, font, frame, linear_tick};
use crate::{BoundaryAnnotations, BoundaryPanel, RingedPoints};

/// Width of one panel, and its height for square data, in pixels.
const PANEL: u32 = 600;
/// Height of the title strip at the top of each panel.
const TITLE_H: u32 = 44;
/// Height of the shared legend strip under the panels.
const LEGEND_H: u32 = 46;
/// Space for the tick labels left of and below the plot area.
const Y_LABELS: u32 = 52;
const X_LABELS: u32 = 34;
/// Minimum margins around the plot area (top, right, bottom).
const MARGIN: u32 = 10;
/// The widest the plot area of a panel can be.
const PLOT_W: u32 = PANEL - Y_LABELS - 2 * MARGIN;
/// Radius of a correctly classified training point.
const DOT_R: i32 = 4;
/// Half-size of a misclassified point's cross.
const CROSS_R: i32 = 5;
/// Height of one caption line under the legend.
const CAPTION_LINE_H: u32 = 22;
/// Radius of the ring around a highlighted point: clear of its dot or cross, small enough
/// that rings around neighbours a few dot-widths apart stay distinct.
const RING_R: i32 = 9;

pub(crate) fn draw(
    path: &Path,
    panels: &[BoundaryPanel],
    annotations: Option<&BoundaryAnnotations>,
) -> Result<()> {
    validate(path, panels)?;
    let rings = annotations.and_then(|a| a.rings.as_ref());
    if let Some(r) = rings {
        validate_rings(path, panels, r)?;
    }
    let caption = annotations.map_or(&[][..], |a| &a.caption[..]);
    let caption_h = if caption.is_empty() {
        0
    } else {
        CAPTION_LINE_H * caption.len() as u32 + MARGIN
    };
    let n = panels.len() as u32;
    let num_classes = panels.iter().map(|p| p.num_classes).max().unwrap_or(1);
    // Panels are PANEL wide; wide data rectangles get shorter panels instead of white bands.
    let widest = panels
        .iter()
        .map(|p| (p.y_range.1 - p.y_range.0) as f64 / (p.x_range.1 - p.x_range.0) as f64)
        .fold(0.0, f64::max);
    let frame = TITLE_H + X_LABELS + 2 * MARGIN;
    let plot_h = (PLOT_W as f64 * widest).clamp(120.0, (PANEL - frame) as f64) as u32;
    let panel_h = frame + plot_h;
    write_png(path, (PANEL * n, panel_h + LEGEND_H + caption_h), |root| {
        root.fill(&WHITE)?;
        let (top, rest) = root.split_vertically(panel_h);
        let (bottom, caption_area) = rest.split_vertically(LEGEND_H);
        for (i, (area, panel)) in top
            .split_evenly((1, panels.len()))
            .iter()
            .zip(panels)
            .enumerate()
        {
            let ringed = rings.map_or(&[][..], |r| &r.indices[i][..]);
            draw_panel(area, panel, ringed)?;
        }
        draw_legend(&bottom, num_classes, rings.map(|r| r.label.as_str()))?;
        draw_caption(&caption_area, caption)
    })
}

/// Checks every panel before anything is drawn.
pub(crate) fn validate(path: &Path, panels: &[BoundaryPanel]) -> Result<()> {
    let fail = |what: String| Err(Error::invalid(format!("{}: {what}", path.display())));
    if panels.is_empty() {
        return fail("no decision-boundary panels to draw".into());
    }
    for (i, p) in panels.iter().enumerate() {
        let name = format!("panel {i} ({:?})", p.title);
        for (axis, (lo, hi)) in [("x_range", p.x_range), ("y_range", p.y_range)] {
            if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                return fail(format!(
                    "{name}: {axis} must be finite with min < max, got ({lo}, {hi})"
                ));
            }
        }
        let (nx, ny) = p.resolution;
        if nx == 0 || ny == 0 {
            return fail(format!(
                "{name}: resolution must be at least 1x1, got {nx}x{ny}"
            ));
        }
        let cells = nx.checked_mul(ny);
        if cells != Some(p.grid_classes.len()) {
            return fail(format!(
                "{name}: grid_classes has {} entries but resolution {nx}x{ny} needs {}",
                p.grid_classes.len(),
                cells.map_or_else(|| "more than usize::MAX".to_string(), |c| c.to_string())
            ));
        }
        if p.num_classes == 0 {
            return fail(format!("{name}: num_classes must be at least 1"));
        }
        if let Some((k, c)) = p
            .grid_classes
            .iter()
            .enumerate()
            .find(|(_, &c)| c as usize >= p.num_classes)
        {
            return fail(format!(
                "{name}: grid_classes[{k}] = {c} is not below num_classes = {}",
                p.num_classes
            ));
        }
        for (k, q) in p.points.iter().enumerate() {
            if !(q.x.is_finite() && q.y.is_finite()) {
                return fail(format!(
                    "{name}: point {k} has non-finite coordinates ({}, {})",
                    q.x, q.y
                ));
            }
            if q.label as usize >= p.num_classes {
                return fail(format!(
                    "{name}: point {k} has label {} but num_classes = {}",
                    q.label, p.num_classes
                ));
            }
        }
    }
    Ok(())
}

/// Checks that `rings` names one list per panel and only points the panel has.
fn validate_rings(path: &Path, panels: &[BoundaryPanel], rings: &RingedPoints) -> Result<()> {
    let fail = |what: String| Err(Error::invalid(format!("{}: {what}", path.display())));
    if rings.indices.len() != panels.len() {
        return fail(format!(
            "ringed points: {} index lists for {} panels, expected one per panel",
            rings.indices.len(),
            panels.len()
        ));
    }
    for (i, (list, p)) in rings.indices.iter().zip(panels).enumerate() {
        if let Some(&k) = list.iter().find(|&&k| k >= p.points.len()) {
            return fail(format!(
                "ringed points: panel {i} ({:?}) has {} points, index {k} is out of range",
                p.title,
                p.points.len()
            ));
        }
    }
    Ok(())
}

/// Draws one panel: title, pale class regions, axes, frame, training points, and a ring
/// around each point of `ringed` (indices into `p.points`), fitting the data rectangle into
/// `area` at equal aspect (the PNG figure's panels are [`PANEL`] wide; an animation frame
/// gives a smaller area).
pub(crate) fn draw_panel(area: &Area, p: &BoundaryPanel, ringed: &[usize]) -> DrawResult {
    let (w, h) = area.dim_in_pixel();
    let (title_area, rest) = area.split_vertically(TITLE_H);
    draw_title(&title_area, &p.title)?;

    // Equal aspect: fit the data rectangle into the space left after labels and margins, and
    // hand the slack to the margins so the plot sits centred.
    let (x0, x1) = (p.x_range.0 as f64, p.x_range.1 as f64);
    let (y0, y1) = (p.y_range.0 as f64, p.y_range.1 as f64);
    let avail_w = w.saturating_sub(Y_LABELS + 2 * MARGIN).max(1) as f64;
    let avail_h = (h - TITLE_H).saturating_sub(X_LABELS + 2 * MARGIN).max(1) as f64;
    let scale = (avail_w / (x1 - x0)).min(avail_h / (y1 - y0));
    let plot_w = ((x1 - x0) * scale).round().max(1.0) as u32;
    let plot_h = ((y1 - y0) * scale).round().max(1.0) as u32;
    let slack_w = avail_w as u32 - plot_w.min(avail_w as u32);
    let slack_h = avail_h as u32 - plot_h.min(avail_h as u32);
    // Centre the whole plot-with-labels block: the left label area is part of the block.
    let ml = MARGIN + slack_w / 2;
    let mr = MARGIN + slack_w - slack_w / 2;
    let mt = MARGIN / 2 + slack_h / 2;
    let mb = MARGIN + MARGIN / 2 + slack_h - slack_h / 2;

    let mut chart = ChartBuilder::on(&rest)
        .margin_left(ml)
        .margin_right(mr)
        .margin_top(mt)
        .margin_bottom(mb)
        .x_label_area_size(X_LABELS)
        .y_label_area_size(Y_LABELS)
        .build_cartesian_2d(p.x_range.0..p.x_range.1, p.y_range.0..p.y_range.1)?;

    // The class regions, pixel by pixel: pixel centres map to grid cells.
    let plot = chart.plotting_area().strip_coord_spec();
    let (pw, ph) = plot.dim_in_pixel();
    let (nx, ny) = p.resolution;
    let col_of: Vec<usize> = (0..pw)
        .map(|px| ((((px as f64 + 0.5) / pw as f64) * nx as f64) as usize).min(nx - 1))
        .collect();
    for py in 0..ph {
        // Pixel rows run downwards; grid rows run upwards from y_range.0.
        let frac = (ph as f64 - py as f64 - 0.5) / ph as f64;
        let iy = ((frac * ny as f64) as usize).min(ny - 1);
        let row = &p.grid_classes[iy * nx..(iy + 1) * nx];
        for (px, &ix) in col_of.iter().enumerate() {
            plot.draw_pixel((px as i32, py as i32), &class_pale(row[ix] as usize))?;
        }
    }

    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(7)
        .y_labels(7)
        .label_style(font(14.0))
        .axis_style(BLACK.stroke_width(1))
        .x_label_formatter(&|v| linear_tick(*v as f64))
        .y_label_formatter(&|v| linear_tick(*v as f64))
        .draw()?;

    // Correct points first, misclassified crosses on top so they are never hidden.
    for q in p.points.iter().filter(|q| q.correct) {
        let c = class_strong(q.label as usize);
        chart.draw_series(std::iter::once(Circle::new((q.x, q.y), DOT_R, c.filled())))?;
        chart.draw_series(std::iter::once(Circle::new(
            (q.x, q.y),
            DOT_R,
            WHITE.mix(0.9).stroke_width(1),
        )))?;
    }
    for q in p.points.iter().filter(|q| !q.correct) {
        let c = class_strong(q.label as usize);
        chart.draw_series([
            Cross::new((q.x, q.y), CROSS_R, BLACK.stroke_width(5)),
            Cross::new((q.x, q.y), CROSS_R, c.stroke_width(2)),
        ])?;
    }
    // Rings last, black on a white halo, so they read on either region colour.
    for q in ringed.iter().map(|&k| &p.points[k]) {
        chart.draw_series([
            Circle::new((q.x, q.y), RING_R, WHITE.stroke_width(4)),
            Circle::new((q.x, q.y), RING_R, BLACK.stroke_width(2)),
        ])?;
    }

    frame(&plot)
}

/// The caption lines, centred, one under another (shrunk to fit the width).
fn draw_caption(area: &Area, lines: &[String]) -> DrawResult {
    let (w, _) = area.dim_in_pixel();
    for (i, line) in lines.iter().enumerate() {
        let mut size = 15.0;
        while size > 9.0 && area.estimate_text_size(line, &font(size))?.0 + 24 > w {
            size -= 1.0;
        }
        let style = font(size).pos(Pos::new(HPos::Center, VPos::Center));
        let y = (CAPTION_LINE_H * i as u32 + CAPTION_LINE_H / 2) as i32;
        area.draw_text(line, &style, (w as i32 / 2, y))?;
    }
    Ok(())
}

/// What a legend entry shows.
enum LegendMark {
    Class(usize),
    Cross,
    Ring,
}

/// The shared legend under the panels: one dot per class, a cross for "misclassified", and
/// a ring labelled `ring_label` when points are ringed.
pub(crate) fn draw_legend(area: &Area, num_classes: usize, ring_label: Option<&str>) -> DrawResult {
    let text_style = font(15.0);
    let mut items: Vec<(LegendMark, String)> = (0..num_classes)
        .map(|c| (LegendMark::Class(c), format!("class {c}")))
        .collect();
    // Always listed, so figures with and without errors share one legend.
    items.push((LegendMark::Cross, "misclassified".to_string()));
    if let Some(label) = ring_label {
        items.push((LegendMark::Ring, label.to_string()));
    }
    const MARK: i32 = 14;
    const GAP: i32 = 8;
    const SPACING: i32 = 32;
    let mut widths = Vec::with_capacity(items.len());
    for (_, text) in &items {
        widths.push(area.estimate_text_size(text, &text_style)?.0 as i32);
    }
    let total: i32 =
        widths.iter().map(|tw| MARK + GAP + tw).sum::<i32>() + SPACING * (items.len() as i32 - 1);
    let (w, h) = area.dim_in_pixel();
    let cy = h as i32 / 2 - 4;
    let mut x = (w as i32 - total) / 2;
    let label_style = text_style.pos(Pos::new(HPos::Left, VPos::Center));
    for ((kind, text), tw) in items.iter().zip(&widths) {
        let centre = (x + MARK / 2, cy);
        match kind {
            LegendMark::Class(c) => {
                area.draw(&Circle::new(centre, DOT_R + 1, class_strong(*c).filled()))?;
            }
            LegendMark::Cross => {
                area.draw(&Cross::new(centre, CROSS_R, BLACK.stroke_width(5)))?;
                area.draw(&Cross::new(
                    centre,
                    CROSS_R,
                    RGBColor(150, 150, 150).stroke_width(2),
                ))?;
            }
            LegendMark::Ring => {
                area.draw(&Circle::new(centre, RING_R - 1, BLACK.stroke_width(2)))?;
            }
        }
        area.draw_text(text, &label_style, (x + MARK + GAP, cy + 2))?;
        x += MARK + GAP + tw + SPACING;
    }
    Ok(())
}

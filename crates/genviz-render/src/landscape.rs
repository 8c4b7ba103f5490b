//! Contour plots and heat maps of loss surfaces (Li et al. 2018, `plot_2D`), and the checks
//! and colour bar they share with the 3-D surface.

use std::path::Path;

use genviz_core::{Error, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontTransform;

use crate::colormap::{ColorMap, Scale, SUMMER, VIRIDIS};
use crate::output::{write_png, Area, Chart, DrawResult};
use crate::style::{font, frame, linear_tick, log_tick, series_color};
use crate::{ContourPanel, ContourStyle, Marker, PathOverlay, SurfaceGrid};

/// Size of one panel, in pixels.
const PANEL_W: u32 = 620;
const PANEL_H: u32 = 580;
/// Height of the title strip at the top of each panel.
pub(crate) const TITLE_H: u32 = 40;
/// Width of the colour-bar strip at the right of each panel.
pub(crate) const BAR_W: u32 = 96;
/// The most contour levels a style may ask for.
const MAX_LEVELS: usize = 1000;
/// Colour of gaps (non-finite values) in the heat map.
const GAP: RGBColor = RGBColor(226, 226, 226);

/// Fails, naming `path`, when there is no `kind` panel to draw: an empty figure is a mistake.
pub(crate) fn some_panels<T>(path: &Path, kind: &str, panels: &[T]) -> Result<()> {
    if panels.is_empty() {
        return Err(Error::invalid(format!(
            "{}: no {kind} panels to draw",
            path.display()
        )));
    }
    Ok(())
}

/// Checks a grid: coordinates, and `values` of length `nx * ny`.
pub(crate) fn validate_grid(path: &Path, i: usize, g: &SurfaceGrid) -> Result<()> {
    let fail = |what: String| {
        Err(Error::invalid(format!(
            "{}: panel {i} ({:?}): {what}",
            path.display(),
            g.title
        )))
    };
    for (axis, c) in [("xs", &g.xs), ("ys", &g.ys)] {
        if let Err(what) = crate::checks::check_axis(axis, c) {
            return fail(what);
        }
    }
    let (nx, ny) = (g.xs.len(), g.ys.len());
    if g.values.len() != nx * ny {
        return fail(format!(
            "values has {} entries but {nx} xs times {ny} ys needs {}",
            g.values.len(),
            nx * ny
        ));
    }
    Ok(())
}

/// Checks a style: finite `vmin < vmax`, `vlevel > 0`, not too many levels, `vmin > 0` if log.
pub(crate) fn validate_style(path: &Path, i: usize, title: &str, s: &ContourStyle) -> Result<()> {
    let fail = |what: String| {
        Err(Error::invalid(format!(
            "{}: panel {i} ({title:?}): {what}",
            path.display()
        )))
    };
    if !(s.vmin.is_finite() && s.vmax.is_finite() && s.vmin < s.vmax) {
        return fail(format!(
            "style needs finite vmin < vmax, got vmin {} and vmax {}",
            s.vmin, s.vmax
        ));
    }
    if s.log && s.vmin <= 0.0 {
        return fail(format!("a log style needs vmin > 0, got vmin {}", s.vmin));
    }
    if !(s.vlevel.is_finite() && s.vlevel > 0.0) {
        return fail(format!("style needs vlevel > 0, got {}", s.vlevel));
    }
    let span = if s.log {
        s.vmax.log10() - s.vmin.log10()
    } else {
        s.vmax - s.vmin
    };
    if span / s.vlevel > MAX_LEVELS as f64 {
        return fail(format!(
            "vlevel {} gives more than {MAX_LEVELS} contour levels between {} and {}",
            s.vlevel, s.vmin, s.vmax
        ));
    }
    Ok(())
}

/// The contour levels of a style: `vmin + k * vlevel` (or `vmin * 10^(k * vlevel)` for log)
/// while below `vmax`.
pub(crate) fn levels(s: &ContourStyle) -> Vec<f64> {
    let mut out = Vec::new();
    for k in 0..=MAX_LEVELS {
        let v = if s.log {
            s.vmin * 10f64.powf(k as f64 * s.vlevel)
        } else {
            s.vmin + k as f64 * s.vlevel
        };
        // A hair of tolerance so `vmax` itself is not a level through rounding.
        if v >= s.vmax - (s.vmax - s.vmin) * 1e-9 {
            break;
        }
        out.push(v);
    }
    out
}

fn scale_of(s: &ContourStyle) -> Scale {
    Scale {
        lo: s.vmin,
        hi: s.vmax,
        log: s.log,
    }
}

/// Marching squares: the iso-line segments of `g` at `level`, in data coordinates. Cells with a
/// non-finite corner are skipped; saddles are resolved by the cell-centre average.
pub(crate) fn contour_segments(g: &SurfaceGrid, level: f64) -> Vec<[(f64, f64); 2]> {
    let (nx, ny) = (g.xs.len(), g.ys.len());
    let v = |ix: usize, iy: usize| g.values[iy * nx + ix];
    let mut out = Vec::new();
    for iy in 0..ny - 1 {
        for ix in 0..nx - 1 {
            // Corners counter-clockwise from the bottom left.
            let c = [v(ix, iy), v(ix + 1, iy), v(ix + 1, iy + 1), v(ix, iy + 1)];
            if c.iter().any(|z| !z.is_finite()) {
                continue;
            }
            let above = c.map(|z| z >= level);
            if above.iter().all(|&a| a) || above.iter().all(|&a| !a) {
                continue;
            }
            let (x0, x1) = (g.xs[ix], g.xs[ix + 1]);
            let (y0, y1) = (g.ys[iy], g.ys[iy + 1]);
            let p = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)];
            // Edge e joins corner e and corner e+1: bottom, right, top, left.
            let cross = |e: usize| -> Option<(f64, f64)> {
                let (a, b) = (e, (e + 1) % 4);
                if above[a] == above[b] {
                    return None;
                }
                let t = (level - c[a]) / (c[b] - c[a]);
                Some((
                    p[a].0 + t * (p[b].0 - p[a].0),
                    p[a].1 + t * (p[b].1 - p[a].1),
                ))
            };
            let edges: Vec<(usize, (f64, f64))> =
                (0..4).filter_map(|e| cross(e).map(|q| (e, q))).collect();
            if edges.len() == 2 {
                out.push([edges[0].1, edges[1].1]);
            } else if edges.len() == 4 {
                let centre_above = (c[0] + c[1] + c[2] + c[3]) / 4.0 >= level;
                let q = |e: usize| edges[e].1;
                if centre_above == above[0] {
                    // Corners 1 and 3 are cut off: bottom-right and top-left pairs.
                    out.push([q(0), q(1)]);
                    out.push([q(2), q(3)]);
                } else {
                    // Corners 0 and 2 are cut off.
                    out.push([q(3), q(0)]);
                    out.push([q(1), q(2)]);
                }
            }
        }
    }
    out
}

/// Checks every contour panel, then draws them side by side.
pub(crate) fn draw_contour(path: &Path, panels: &[ContourPanel]) -> Result<()> {
    some_panels(path, "contour", panels)?;
    for (i, (g, s, overlays, markers)) in panels.iter().enumerate() {
        validate_contour_panel(path, i, g, s, overlays, markers)?;
    }
    let n = panels.len() as u32;
    write_png(path, (PANEL_W * n, PANEL_H), |root| {
        root.fill(&WHITE)?;
        for (area, (g, s, overlays, markers)) in
            root.split_evenly((1, panels.len())).iter().zip(panels)
        {
            contour_panel(area, g, s, overlays, markers)?;
        }
        Ok(())
    })
}

/// Checks one contour panel: its grid, its style, and that overlays and markers are finite.
pub(crate) fn validate_contour_panel(
    path: &Path,
    i: usize,
    g: &SurfaceGrid,
    s: &ContourStyle,
    overlays: &[PathOverlay],
    markers: &[Marker],
) -> Result<()> {
    validate_grid(path, i, g)?;
    validate_style(path, i, &g.title, s)?;
    for (k, o) in overlays.iter().enumerate() {
        if let Some(j) = o
            .points
            .iter()
            .position(|(x, y)| !(x.is_finite() && y.is_finite()))
        {
            return Err(Error::invalid(format!(
                "{}: panel {i} ({:?}): overlay {k} ({:?}) point {j} is not finite: {:?}",
                path.display(),
                g.title,
                o.label,
                o.points[j]
            )));
        }
    }
    for (k, m) in markers.iter().enumerate() {
        if !(m.x.is_finite() && m.y.is_finite()) {
            return Err(Error::invalid(format!(
                "{}: panel {i} ({:?}): marker {k} ({:?}) is not finite: ({}, {})",
                path.display(),
                g.title,
                m.label,
                m.x,
                m.y
            )));
        }
    }
    Ok(())
}

/// Checks every heat-map panel, then draws them side by side.
pub(crate) fn draw_heatmap(path: &Path, panels: &[(SurfaceGrid, ContourStyle)]) -> Result<()> {
    some_panels(path, "heat-map", panels)?;
    for (i, (g, s)) in panels.iter().enumerate() {
        validate_grid(path, i, g)?;
        validate_style(path, i, &g.title, s)?;
    }
    let n = panels.len() as u32;
    write_png(path, (PANEL_W * n, PANEL_H), |root| {
        root.fill(&WHITE)?;
        for (area, (g, s)) in root.split_evenly((1, panels.len())).iter().zip(panels) {
            heatmap_panel(area, g, s)?;
        }
        Ok(())
    })
}

/// Centres `title` in its strip, shrinking the font if it would not fit the width.
pub(crate) fn draw_title(area: &Area, title: &str) -> DrawResult {
    let (w, h) = area.dim_in_pixel();
    let mut size = 20.0;
    while size > 9.0 && area.estimate_text_size(title, &font(size))?.0 + 24 > w {
        size -= 1.0;
    }
    let style = font(size).pos(Pos::new(HPos::Center, VPos::Center));
    area.draw_text(title, &style, (w as i32 / 2, h as i32 / 2 + 4))?;
    Ok(())
}

/// Splits a panel into its plot and colour-bar strips, after drawing the title above them.
fn panel_areas<'b>(
    area: &Area<'b>,
    g: &SurfaceGrid,
) -> std::result::Result<(Area<'b>, Area<'b>), Box<dyn std::error::Error + Send + Sync>> {
    let (w, _) = area.dim_in_pixel();
    let (title_area, rest) = area.split_vertically(TITLE_H);
    draw_title(&title_area, &g.title)?;
    Ok(rest.split_horizontally(w - BAR_W))
}

/// The x/y chart over the grid's extent.
fn build_chart<'c, 'b>(
    plot_area: &'c Area<'b>,
    g: &SurfaceGrid,
) -> std::result::Result<Chart<'c, 'b>, Box<dyn std::error::Error + Send + Sync>> {
    let (x0, x1) = (g.xs[0], g.xs[g.xs.len() - 1]);
    let (y0, y1) = (g.ys[0], g.ys[g.ys.len() - 1]);
    Ok(ChartBuilder::on(plot_area)
        .margin_left(8)
        .margin_right(8)
        .margin_top(6)
        .margin_bottom(10)
        .x_label_area_size(48)
        .y_label_area_size(62)
        .build_cartesian_2d(x0..x1, y0..y1)?)
}

/// Axes, ticks and labels "x", "y".
fn draw_mesh(chart: &mut Chart<'_, '_>) -> DrawResult {
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(6)
        .y_labels(6)
        .label_style(font(14.0))
        .axis_desc_style(font(17.0))
        .x_desc("x")
        .y_desc("y")
        .axis_style(BLACK.stroke_width(1))
        .x_label_formatter(&|v| linear_tick(*v))
        .y_label_formatter(&|v| linear_tick(*v))
        .draw()?;
    Ok(())
}

/// A frame around the plotting area.
fn draw_frame(chart: &Chart<'_, '_>) -> DrawResult {
    frame(&chart.plotting_area().strip_coord_spec())
}

/// A vertical colour bar in `bar_area`, spanning pixel rows `rows` (absolute backend
/// coordinates, matching the plot area), with tick labels, optional level marks and a rotated
/// `label`.
pub(crate) fn draw_colorbar(
    bar_area: &Area,
    rows: std::ops::Range<i32>,
    scale: Scale,
    cmap: ColorMap,
    label: &str,
    marks: &[f64],
) -> DrawResult {
    let base = bar_area.get_base_pixel();
    let (_, h) = bar_area.dim_in_pixel();
    let top = (rows.start - base.1).max(0);
    let bottom = (rows.end - base.1).min(h as i32) - 1;
    if bottom <= top {
        return Ok(());
    }
    let (x0, x1) = (8, 26);
    let span = (bottom - top) as f64;
    for y in top..=bottom {
        let t = 1.0 - (y - top) as f64 / span;
        let [r, g, b] = cmap.rgb(t);
        bar_area.draw(&PathElement::new(vec![(x0, y), (x1, y)], RGBColor(r, g, b)))?;
    }
    bar_area.draw(&Rectangle::new(
        [(x0, top), (x1, bottom)],
        BLACK.stroke_width(1),
    ))?;
    let row_of = |v: f64| top + ((1.0 - scale.t(v)) * span).round() as i32;
    for &m in marks {
        let y = row_of(m);
        bar_area.draw(&PathElement::new(vec![(x0, y), (x1, y)], BLACK.mix(0.7)))?;
    }
    let tick_style = font(13.0).pos(Pos::new(HPos::Left, VPos::Center));
    let mut widest = 0;
    for v in scale.ticks() {
        let y = row_of(v);
        bar_area.draw(&PathElement::new(vec![(x1, y), (x1 + 4, y)], BLACK))?;
        let text = if scale.log {
            log_tick(v)
        } else {
            linear_tick(v)
        };
        widest = widest.max(bar_area.estimate_text_size(&text, &font(13.0))?.0 as i32);
        bar_area.draw_text(&text, &tick_style, (x1 + 7, y))?;
    }
    if !label.is_empty() {
        let style = font(15.0)
            .transform(FontTransform::Rotate270)
            .pos(Pos::new(HPos::Center, VPos::Center));
        let x = (x1 + 7 + widest + 14).min(BAR_W as i32 - 10);
        bar_area.draw_text(label, &style, (x, (top + bottom) / 2))?;
    }
    Ok(())
}

/// One contour panel, filling `area`: title, contour lines, overlays, markers, colour bar.
pub(crate) fn contour_panel(
    area: &Area,
    g: &SurfaceGrid,
    s: &ContourStyle,
    overlays: &[PathOverlay],
    markers: &[Marker],
) -> DrawResult {
    let (plot_area, bar_area) = panel_areas(area, g)?;
    let mut chart = build_chart(&plot_area, g)?;
    draw_mesh(&mut chart)?;
    let scale = scale_of(s);
    let lv = levels(s);
    for &level in &lv {
        let [r, gr, b] = SUMMER.rgb(scale.t(level));
        let style = RGBColor(r, gr, b).stroke_width(2);
        for seg in contour_segments(g, level) {
            chart.draw_series(std::iter::once(PathElement::new(seg.to_vec(), style)))?;
        }
    }
    let mut any_label = false;
    // End points of the overlays: stars drawn last, over the markers.
    let mut stars = Vec::new();
    for (k, o) in overlays.iter().enumerate() {
        if o.points.is_empty() {
            continue;
        }
        // Skip the greens of the contour colours: red, purple, brown, ...
        let c = series_color([1, 4, 5, 0, 6, 7][k % 6]);
        let anno =
            chart.draw_series(LineSeries::new(o.points.iter().copied(), c.stroke_width(2)))?;
        if !o.label.is_empty() {
            any_label = true;
            anno.label(o.label.as_str()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 22, y)], c.stroke_width(2))
            });
        }
        chart.draw_series(o.points.iter().map(|&p| Circle::new(p, 3, c.filled())))?;
        stars.push((o.points[o.points.len() - 1], c));
    }
    for m in markers {
        chart.draw_series([
            Circle::new((m.x, m.y), 6, BLACK.filled()),
            Circle::new((m.x, m.y), 4, WHITE.filled()),
        ])?;
        if !m.label.is_empty() {
            let p = chart.backend_coord(&(m.x, m.y));
            let plot = chart.plotting_area().strip_coord_spec();
            let base = plot.get_base_pixel();
            let style = font(15.0).pos(Pos::new(HPos::Left, VPos::Bottom));
            // A white halo under the text keeps it legible over the lines.
            let at = (p.0 - base.0 + 12, p.1 - base.1 - 6);
            for (dx, dy) in [(-1, 0), (1, 0), (0, -1), (0, 1)] {
                plot.draw_text(&m.label, &style.color(&WHITE), (at.0 + dx, at.1 + dy))?;
            }
            plot.draw_text(&m.label, &style, at)?;
        }
    }
    for (last, c) in stars {
        draw_star(&chart, last, 12.0, BLACK)?;
        draw_star(&chart, last, 9.0, c)?;
    }
    draw_frame(&chart)?;
    if any_label {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .margin(10)
            .legend_area_size(30)
            .label_font(font(14.0))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(160, 160, 160))
            .draw()?;
    }
    let rows = chart.plotting_area().get_pixel_range().1;
    draw_colorbar(&bar_area, rows, scale, SUMMER, &g.value_label, &lv)
}

/// A filled five-pointed star of outer radius `r` pixels around `at` (data coordinates).
fn draw_star(chart: &Chart<'_, '_>, at: (f64, f64), r: f64, color: RGBColor) -> DrawResult {
    let plot = chart.plotting_area().strip_coord_spec();
    let base = plot.get_base_pixel();
    let p = chart.backend_coord(&at);
    let (cx, cy) = ((p.0 - base.0) as f64, (p.1 - base.1) as f64);
    let pts: Vec<(i32, i32)> = (0..10)
        .map(|k| {
            let rad = if k % 2 == 0 { r } else { r * 0.45 };
            let a = std::f64::consts::PI * (k as f64 / 5.0 - 0.5);
            (
                (cx + rad * a.cos()).round() as i32,
                (cy + rad * a.sin()).round() as i32,
            )
        })
        .collect();
    plot.draw(&Polygon::new(pts, color.filled()))?;
    Ok(())
}

/// One heat-map panel.
fn heatmap_panel(area: &Area, g: &SurfaceGrid, s: &ContourStyle) -> DrawResult {
    let (plot_area, bar_area) = panel_areas(area, g)?;
    let mut chart = build_chart(&plot_area, g)?;
    let scale = scale_of(s);
    let plot = chart.plotting_area().strip_coord_spec();
    let (pw, ph) = plot.dim_in_pixel();
    let (nx, ny) = (g.xs.len(), g.ys.len());
    let (x0, x1) = (g.xs[0], g.xs[nx - 1]);
    let (y0, y1) = (g.ys[0], g.ys[ny - 1]);
    // Per pixel column / row: the grid interval and the fraction within it.
    let locate = |c: &[f64], v: f64| -> (usize, f64) {
        let i = c.partition_point(|&a| a <= v).clamp(1, c.len() - 1) - 1;
        let f = ((v - c[i]) / (c[i + 1] - c[i])).clamp(0.0, 1.0);
        (i, f)
    };
    let cols: Vec<(usize, f64)> = (0..pw)
        .map(|px| locate(&g.xs, x0 + (px as f64 + 0.5) / pw as f64 * (x1 - x0)))
        .collect();
    // Interpolate in the scale's space, so a log map blends in log space.
    let tv: Vec<f64> = g
        .values
        .iter()
        .map(|&v| if v.is_finite() { scale.t(v) } else { f64::NAN })
        .collect();
    for py in 0..ph {
        let y = y1 - (py as f64 + 0.5) / ph as f64 * (y1 - y0);
        let (iy, fy) = locate(&g.ys, y);
        for (px, &(ix, fx)) in cols.iter().enumerate() {
            let c = [
                tv[iy * nx + ix],
                tv[iy * nx + ix + 1],
                tv[(iy + 1) * nx + ix],
                tv[(iy + 1) * nx + ix + 1],
            ];
            let t = if c.iter().all(|v| v.is_finite()) {
                (c[0] * (1.0 - fx) + c[1] * fx) * (1.0 - fy) + (c[2] * (1.0 - fx) + c[3] * fx) * fy
            } else {
                c[usize::from(fx >= 0.5) + 2 * usize::from(fy >= 0.5)]
            };
            let color = if t.is_finite() {
                let [r, gr, b] = VIRIDIS.rgb(t);
                RGBColor(r, gr, b)
            } else {
                GAP
            };
            plot.draw_pixel((px as i32, py as i32), &color)?;
        }
    }
    draw_mesh(&mut chart)?;
    draw_frame(&chart)?;
    let rows = chart.plotting_area().get_pixel_range().1;
    draw_colorbar(&bar_area, rows, scale, VIRIDIS, &g.value_label, &[])
}

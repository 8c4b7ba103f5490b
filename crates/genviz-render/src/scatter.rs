//! Scatter plots: points coloured by group, in a row of panels sharing their axes (a measure
//! against the generalization gap, one panel per hyperparameter of a sweep, coloured by that
//! hyperparameter's value).

use std::path::Path;

use genviz_core::{Error, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::output::{write_png, Area, DrawResult};
use crate::style::{bold, chart_on, font, house_grid, linear_tick, log_tick, series_color};
use crate::ScatterFigure;

/// Width of one panel and height of the plot under its title and legend, in pixels.
pub(crate) const PANEL_W: u32 = 440;
const PLOT_H: u32 = 400;
/// Height of the figure's title strip, of a panel's title and of one row of its legend.
const TITLE_H: u32 = 40;
const PANEL_TITLE_H: u32 = 26;
const LEGEND_ROW_H: u32 = 20;
/// Legend entries per row in a panel.
const LEGEND_PER_ROW: usize = 3;
/// Radius of a point, in pixels.
const POINT_R: i32 = 4;

fn invalid(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::invalid(format!("{}: {what}", path.display()))
}

/// Rows of legend the busiest panel needs.
fn legend_rows(figure: &ScatterFigure) -> u32 {
    figure
        .panels
        .iter()
        .map(|p| p.series.len().div_ceil(LEGEND_PER_ROW) as u32)
        .max()
        .unwrap_or(0)
}

/// The figure's size in pixels.
pub(crate) fn size(figure: &ScatterFigure) -> (u32, u32) {
    (
        PANEL_W * figure.panels.len().max(1) as u32,
        TITLE_H + PANEL_TITLE_H + LEGEND_ROW_H * legend_rows(figure) + 6 + PLOT_H,
    )
}

/// `(min, max)` of `values` widened by 5% on each side (or by 1 around a single value).
fn padded(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    let pad = if hi > lo { 0.05 * (hi - lo) } else { 1.0 };
    (lo - pad, hi + pad)
}

fn validate(path: &Path, figure: &ScatterFigure) -> Result<()> {
    if figure.panels.is_empty() {
        return Err(invalid(path, "no panel to draw"));
    }
    for (i, panel) in figure.panels.iter().enumerate() {
        for series in &panel.series {
            for &(x, y) in &series.points {
                if !(x.is_finite() && y.is_finite()) {
                    return Err(invalid(
                        path,
                        format!(
                            "panel {i} ({:?}), series {:?}: point ({x}, {y}) is not finite",
                            panel.title, series.label
                        ),
                    ));
                }
                if figure.log_x && x <= 0.0 {
                    return Err(invalid(
                        path,
                        format!(
                            "panel {i} ({:?}), series {:?}: x = {x} on a log axis, expected a value above 0",
                            panel.title, series.label
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

pub(crate) fn draw(path: &Path, figure: &ScatterFigure) -> Result<()> {
    validate(path, figure)?;
    let shown_x = |x: f64| if figure.log_x { x.log10() } else { x };
    let all = || {
        figure
            .panels
            .iter()
            .flat_map(|p| p.series.iter().flat_map(|s| s.points.iter().copied()))
    };
    let x_range = padded(all().map(|(x, _)| shown_x(x)));
    let y_range = padded(all().map(|(_, y)| y));
    let legend_h = LEGEND_ROW_H * legend_rows(figure) + 6;
    write_png(path, size(figure), |root| {
        root.fill(&WHITE)?;
        let (w, _) = root.dim_in_pixel();
        let (top, rest) = root.split_vertically(TITLE_H);
        top.draw_text(
            &figure.title,
            &bold(19.0).pos(Pos::new(HPos::Center, VPos::Center)),
            (w as i32 / 2, TITLE_H as i32 / 2 + 2),
        )?;
        let panels = rest.split_evenly((1, figure.panels.len()));
        for (area, panel) in panels.iter().zip(&figure.panels) {
            draw_panel(area, panel, figure, legend_h, x_range, y_range)?;
        }
        Ok(())
    })
}

fn draw_panel(
    area: &Area,
    panel: &crate::ScatterPanel,
    figure: &ScatterFigure,
    legend_h: u32,
    x_range: (f64, f64),
    y_range: (f64, f64),
) -> DrawResult {
    let (w, _) = area.dim_in_pixel();
    let (head, plot) = area.split_vertically(PANEL_TITLE_H + legend_h);
    head.draw_text(
        &panel.title,
        &bold(15.0).pos(Pos::new(HPos::Center, VPos::Center)),
        (w as i32 / 2, PANEL_TITLE_H as i32 / 2 + 2),
    )?;
    let slot = (w as i32 - 40) / LEGEND_PER_ROW as i32;
    for (k, series) in panel.series.iter().enumerate() {
        let row = (k / LEGEND_PER_ROW) as i32;
        let col = (k % LEGEND_PER_ROW) as i32;
        let x = 20 + col * slot;
        let y = PANEL_TITLE_H as i32 + row * LEGEND_ROW_H as i32 + LEGEND_ROW_H as i32 / 2;
        let color = series_color(k);
        head.draw(&Circle::new((x + 6, y), POINT_R, color.filled()))?;
        head.draw_text(
            &series.label,
            &font(13.0).pos(Pos::new(HPos::Left, VPos::Center)),
            (x + 16, y),
        )?;
    }
    let mut chart = chart_on(&plot, 16, 46, 64)
        .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)?;
    let log_x = figure.log_x;
    // Over two decades or more, only the decades are labelled: a tick at 10^2.5 would read
    // "316.2".
    let decades_only = log_x && x_range.1 - x_range.0 >= 2.0;
    house_grid(&mut chart.configure_mesh(), 13.0)
        .x_labels(6)
        .y_labels(8)
        .x_desc(figure.x_label.as_str())
        .y_desc(figure.y_label.as_str())
        .x_label_formatter(&|v| {
            if decades_only && (v - v.round()).abs() > 1e-9 {
                String::new()
            } else if log_x {
                log_tick(10f64.powf(*v))
            } else {
                linear_tick(*v)
            }
        })
        .y_label_formatter(&|v| linear_tick(*v))
        .draw()?;
    for (k, series) in panel.series.iter().enumerate() {
        let color = series_color(k);
        chart.draw_series(series.points.iter().map(|&(x, y)| {
            let x = if log_x { x.log10() } else { x };
            Circle::new((x, y), POINT_R, color.mix(0.75).filled())
        }))?;
        chart.draw_series(series.points.iter().map(|&(x, y)| {
            let x = if log_x { x.log10() } else { x };
            Circle::new((x, y), POINT_R, color.stroke_width(1))
        }))?;
    }
    let inner = chart.plotting_area().strip_coord_spec();
    let (pw, ph) = inner.dim_in_pixel();
    inner.draw(&Rectangle::new(
        [(0, 0), (pw as i32 - 1, ph as i32 - 1)],
        BLACK.stroke_width(1),
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ScatterPanel, ScatterSeries};

    fn figure(log_x: bool) -> ScatterFigure {
        let series = |label: &str, k: f64| ScatterSeries {
            label: label.into(),
            points: (1..6).map(|i| (k * i as f64, 0.1 * i as f64)).collect(),
        };
        ScatterFigure {
            title: "avg_sharpness: tau 0.8".into(),
            x_label: "measure".into(),
            y_label: "generalization gap".into(),
            log_x,
            panels: vec![
                ScatterPanel {
                    title: "by beta".into(),
                    series: vec![series("beta=0", 1.0), series("beta=0.5", 10.0)],
                },
                ScatterPanel {
                    title: "by seed".into(),
                    series: vec![
                        series("seed=1", 2.0),
                        series("seed=2", 3.0),
                        series("seed=3", 4.0),
                        series("seed=4", 5.0),
                    ],
                },
            ],
        }
    }

    /// Pixels of the series' colour `k` (exactly, where points are filled and not blended).
    fn count_near(img: &image::RgbImage, c: RGBColor) -> usize {
        img.pixels()
            .filter(|p| {
                let d = |a: u8, b: u8| (a as i32 - b as i32).abs();
                d(p[0], c.0) + d(p[1], c.1) + d(p[2], c.2) < 60
            })
            .count()
    }

    #[test]
    fn draws_every_series_in_its_colour_on_shared_axes() {
        let dir = tempfile::tempdir().unwrap();
        for log_x in [false, true] {
            let path = dir.path().join(format!("scatter-{log_x}.png"));
            let f = figure(log_x);
            draw(&path, &f).unwrap();
            let img = image::open(&path).unwrap().to_rgb8();
            assert_eq!((img.width(), img.height()), size(&f));
            assert_eq!(img.width(), 2 * PANEL_W);
            // The first four palette colours all appear (the fourth only in the second panel).
            for k in 0..4 {
                assert!(
                    count_near(&img, series_color(k)) > 20,
                    "colour {k} missing (log_x {log_x})"
                );
            }
        }
    }

    #[test]
    fn bad_points_are_refused_naming_the_file_and_series() {
        let path = Path::new("out/scatter.png");
        let mut f = figure(false);
        f.panels[1].series[2].points[0].1 = f64::NAN;
        let e = draw(path, &f).unwrap_err().to_string();
        assert!(
            e.contains("out/scatter.png") && e.contains("seed=3") && e.contains("not finite"),
            "{e}"
        );
        let mut f = figure(true);
        f.panels[0].series[0].points[0].0 = -1.0;
        let e = draw(path, &f).unwrap_err().to_string();
        assert!(e.contains("log axis"), "{e}");
        let empty = ScatterFigure {
            panels: vec![],
            ..figure(false)
        };
        assert!(draw(path, &empty).is_err());
        assert!(!path.exists());
    }
}

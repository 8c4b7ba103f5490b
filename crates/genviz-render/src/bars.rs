//! Grouped bar charts: a few numbers per model side by side (Fig. 2 of Huang et al.: train and
//! test accuracy of a neural net and of a linear model).

use std::path::Path;

use genviz_core::{Error, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::basin::{frame, title_and_legend, Mark};
use crate::output::write_png;
use crate::style::{bold, chart_on, font, linear_tick, series_color};
use crate::BarGroup;

/// Height of the figure, width per group and of the axes around the groups.
const HEIGHT: u32 = 560;
const GROUP_W: u32 = 300;
const EXTRA_W: u32 = 160;
const MIN_W: u32 = 820;
/// Fraction of a group's slot its bars fill together.
const FILL: f64 = 0.7;

fn invalid(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::invalid(format!("{}: {what}", path.display()))
}

pub(crate) fn draw_grouped_bars(
    path: &Path,
    title: &str,
    series: &[&str],
    groups: &[BarGroup],
    y_label: &str,
    y_max: f64,
) -> Result<()> {
    if groups.is_empty() || series.is_empty() {
        return Err(invalid(path, "no bars to draw"));
    }
    if !(y_max.is_finite() && y_max > 0.0) {
        return Err(invalid(
            path,
            format!("y_max is {y_max}, expected a positive number"),
        ));
    }
    for g in groups {
        if g.values.len() != series.len() {
            return Err(invalid(
                path,
                format!(
                    "group {:?} has {} values for {} series",
                    g.label,
                    g.values.len(),
                    series.len()
                ),
            ));
        }
        if let Some(v) = g
            .values
            .iter()
            .find(|v| !(v.is_finite() && (0.0..=y_max).contains(*v)))
        {
            return Err(invalid(
                path,
                format!("group {:?}: value {v} is outside 0..={y_max}", g.label),
            ));
        }
    }
    let n = groups.len();
    let k = series.len();
    let width = (EXTRA_W + GROUP_W * n as u32).max(MIN_W);
    // Room above the tallest bar for its value.
    let top = y_max * 1.1;
    write_png(path, (width, HEIGHT), |root| {
        root.fill(&WHITE)?;
        let legend: Vec<(String, Mark)> = series
            .iter()
            .enumerate()
            .map(|(s, name)| (name.to_string(), Mark::Patch(series_color(s))))
            .collect();
        let rest = title_and_legend(root, title, &legend)?;
        let mut chart =
            chart_on(&rest, 28, 60, 76).build_cartesian_2d(-0.5..n as f64 - 0.5, 0.0..top)?;
        chart
            .configure_mesh()
            .light_line_style(RGBColor(250, 250, 250))
            .bold_line_style(RGBColor(226, 226, 226))
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(8)
            .label_style(font(14.0))
            .axis_desc_style(font(17.0))
            .y_desc(y_label)
            .y_label_formatter(&|v| linear_tick(*v))
            .draw()?;
        let bar_w = FILL / k as f64;
        for (i, g) in groups.iter().enumerate() {
            let left = i as f64 - FILL / 2.0;
            for (s, &v) in g.values.iter().enumerate() {
                let (x0, x1) = (left + s as f64 * bar_w, left + (s as f64 + 0.92) * bar_w);
                let c = series_color(s);
                chart.draw_series([
                    Rectangle::new([(x0, 0.0), (x1, v)], c.mix(0.6).filled()),
                    Rectangle::new([(x0, 0.0), (x1, v)], c.stroke_width(2)),
                ])?;
                let (cx, cy) = chart.backend_coord(&((x0 + x1) / 2.0, v));
                root.draw_text(
                    &format!("{v:.1}"),
                    &bold(15.0).pos(Pos::new(HPos::Center, VPos::Bottom)),
                    (cx, cy - 4),
                )?;
            }
            let (cx, axis_y) = chart.backend_coord(&(i as f64, 0.0));
            for (line, text) in g.label.lines().enumerate() {
                let style = if line == 0 { font(16.0) } else { font(13.0) };
                root.draw_text(
                    text,
                    &style.pos(Pos::new(HPos::Center, VPos::Top)),
                    (cx, axis_y + 10 + 19 * line as i32),
                )?;
            }
        }
        frame(&chart.plotting_area().strip_coord_spec())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_mismatched_or_out_of_range_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bars.png");
        let group = |values: Vec<f64>| BarGroup {
            label: "net".into(),
            values,
        };
        let series = ["train", "test"];
        assert!(draw_grouped_bars(&path, "t", &series, &[group(vec![1.0])], "%", 100.0).is_err());
        assert!(
            draw_grouped_bars(&path, "t", &series, &[group(vec![1.0, 101.0])], "%", 100.0).is_err()
        );
        assert!(!path.exists());
        draw_grouped_bars(
            &path,
            "t",
            &series,
            &[group(vec![100.0, 80.0]), group(vec![100.0, 40.0])],
            "%",
            100.0,
        )
        .unwrap();
        assert!(path.is_file());
        let png = image::open(&path).unwrap();
        assert_eq!((png.width(), png.height()), (820, 560));
    }
}

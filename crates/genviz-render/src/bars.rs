//! Grouped bar charts: a few series side by side for each of several groups (the train and
//! test accuracy of every optimizer in `genviz optimizers`).

use std::path::Path;

use genviz_core::{Error, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::basin::{draw_value_axis, title_and_legend, value_text, Mark};
use crate::output::write_png;
use crate::style::{bold, chart_on, font, frame, linear_tick, series_color};
use crate::BarGroup;

/// Height of the figure, the width per group and of the axes around them.
pub(crate) const GROUPED_H: u32 = 560;
const GROUP_SLOT_W: u32 = 124;
const GROUPED_EXTRA_W: u32 = 130;
const GROUPED_MIN_W: u32 = 560;
/// Share of a group's slot the bars fill.
const BARS_SHARE: f64 = 0.8;

/// The width of the grouped-bar figure for `n` groups.
pub(crate) fn grouped_width(n: usize) -> u32 {
    (GROUPED_EXTRA_W + GROUP_SLOT_W * n as u32).max(GROUPED_MIN_W)
}

/// The width that also fits `title` and every group's label on one line (about 10 and 8
/// pixels a character at the title's and the labels' sizes).
pub(crate) fn fitting_width(title: &str, groups: &[BarGroup]) -> u32 {
    let chars = |s: &str| s.chars().count() as u32;
    let widest_label = groups
        .iter()
        .map(|g| chars(&g.label).max(g.note.as_deref().map_or(0, chars)))
        .max()
        .unwrap_or(0);
    grouped_width(groups.len())
        .max(10 * chars(title) + 60)
        .max(GROUPED_EXTRA_W + (8 * widest_label + 24) * groups.len() as u32)
}

fn invalid(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::invalid(format!("{}: {what}", path.display()))
}

/// Draws grouped bars into one PNG at `path` (560 pixels high; 130 + 124 pixels per group
/// wide, at least 560): for each group, one bar per series side by side in the series'
/// colour (the first blue, the second red, ...), each annotated with its value times `scale`,
/// the group's label (and note) under the axis, `title` and a legend of `series` above. The y
/// axis spans `y_range` (values outside it are clipped to it) and its ticks, like the value
/// labels, are multiplied by `scale` (100 shows fractions as percent); `y_label` names it.
///
/// # Errors
///
/// [`genviz_core::Error::Invalid`] if there are no groups or series, a group has a number of
/// values other than `series.len()`, a value is not finite, `y_range` is empty or not finite,
/// or `scale` is not positive, checked before anything is drawn; [`genviz_core::Error::Io`]
/// if the file cannot be written. Every message names `path`; on error no file is left behind.
pub fn draw_grouped_bars(
    path: &Path,
    title: &str,
    y_label: &str,
    series: &[&str],
    groups: &[BarGroup],
    y_range: (f64, f64),
    scale: f64,
) -> Result<()> {
    if groups.is_empty() || series.is_empty() {
        return Err(invalid(path, "no bars to draw"));
    }
    let (lo, hi) = y_range;
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(invalid(
            path,
            format!("y range ({lo}, {hi}): expected finite numbers with min < max"),
        ));
    }
    if !(scale.is_finite() && scale > 0.0) {
        return Err(invalid(
            path,
            format!("scale {scale}: expected a number > 0"),
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
        if let Some(v) = g.values.iter().flatten().find(|v| !v.is_finite()) {
            return Err(invalid(
                path,
                format!("group {:?}: value {v} is not finite", g.label),
            ));
        }
    }
    let n = groups.len();
    let k = series.len() as f64;
    let legend: Vec<(String, Mark)> = series
        .iter()
        .enumerate()
        .map(|(i, s)| (s.to_string(), Mark::Patch(series_color(i))))
        .collect();
    // Room above the plot range for the value labels.
    let top = hi + 0.08 * (hi - lo);
    write_png(path, (fitting_width(title, groups), GROUPED_H), |root| {
        root.fill(&WHITE)?;
        let rest = title_and_legend(root, title, &legend)?;
        let mut chart =
            chart_on(&rest, 20, 46, 70).build_cartesian_2d(-0.5..n as f64 - 0.5, lo..top)?;
        draw_value_axis(&mut chart, y_label, &|v| linear_tick(*v * scale))?;
        let width = BARS_SHARE / k;
        for (gi, g) in groups.iter().enumerate() {
            for (si, v) in g.values.iter().enumerate() {
                let x0 = gi as f64 - BARS_SHARE / 2.0 + si as f64 * width;
                let x1 = x0 + width;
                let (cx, _) = chart.backend_coord(&((x0 + x1) / 2.0, lo));
                let color = series_color(si);
                let Some(v) = *v else {
                    let (_, y) = chart.backend_coord(&(x0, lo));
                    root.draw_text(
                        "n/a",
                        &font(12.0).pos(Pos::new(HPos::Center, VPos::Bottom)),
                        (cx, y - 4),
                    )?;
                    continue;
                };
                let shown = v.clamp(lo, top);
                chart.draw_series([
                    Rectangle::new([(x0, lo), (x1, shown)], color.mix(0.6).filled()),
                    Rectangle::new([(x0, lo), (x1, shown)], color.stroke_width(1)),
                ])?;
                let (_, y) = chart.backend_coord(&(x0, shown));
                root.draw_text(
                    &value_text(v * scale),
                    &font(11.0).pos(Pos::new(HPos::Center, VPos::Bottom)),
                    (cx, y - 3),
                )?;
            }
            let (gx, axis_y) = chart.backend_coord(&(gi as f64, lo));
            root.draw_text(
                &g.label,
                &bold(13.0).pos(Pos::new(HPos::Center, VPos::Top)),
                (gx, axis_y + 10),
            )?;
            if let Some(note) = &g.note {
                root.draw_text(
                    note,
                    &font(12.0)
                        .color(&RGBColor(90, 90, 90))
                        .pos(Pos::new(HPos::Center, VPos::Top)),
                    (gx, axis_y + 27),
                )?;
            }
        }
        frame(&chart.plotting_area().strip_coord_spec())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(label: &str, values: Vec<Option<f64>>) -> BarGroup {
        BarGroup {
            label: label.into(),
            note: Some("lr 0.01".into()),
            values,
        }
    }

    #[test]
    fn draws_groups_with_a_missing_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bars.png");
        let groups = vec![
            group("SGD", vec![Some(1.0), Some(0.91)]),
            group("Adam", vec![Some(0.98), Some(0.9)]),
            group("LBFGS", vec![None, None]),
        ];
        draw_grouped_bars(
            &path,
            "accuracy",
            "accuracy (%)",
            &["train", "test"],
            &groups,
            (0.0, 1.0),
            100.0,
        )
        .unwrap();
        let img = image::open(&path).unwrap();
        assert_eq!(img.width(), grouped_width(3));
        assert_eq!(img.height(), GROUPED_H);
    }

    #[test]
    fn rejects_inconsistent_input_naming_the_file() {
        let path = Path::new("out/bars.png");
        let e = draw_grouped_bars(
            path,
            "t",
            "y",
            &["train", "test"],
            &[group("SGD", vec![Some(1.0)])],
            (0.0, 1.0),
            1.0,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("out/bars.png") && e.contains("1 values for 2 series"),
            "{e}"
        );
        let e = draw_grouped_bars(
            path,
            "t",
            "y",
            &["train"],
            &[group("SGD", vec![Some(f64::NAN)])],
            (0.0, 1.0),
            1.0,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("not finite"), "{e}");
    }
}

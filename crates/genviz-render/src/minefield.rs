//! The "minefield" of Fig. 1 of Huang et al. (2019): a t-SNE embedding of SGD iterates and of
//! bad minima found near them.

use std::path::Path;

use genviz_core::{Error, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::colormap::{ColorMap, Scale, BLUES_DARK, PURD_DARK};
use crate::landscape::{draw_colorbar, BAR_W};
use crate::output::{write_png, DrawResult};
use crate::style::{bold, font};
use crate::{EmbeddedPoint, MinefieldFigure};

/// Size of the figure, in pixels.
const W: u32 = 1000;
const H: u32 = 820;
/// Height of the two-line title strip.
const TITLE_H: u32 = 70;
/// The star's outer radius, in pixels.
const STAR_R: f64 = 17.0;
/// Extra height above the points, as a fraction of their span, that keeps the legend clear.
const LEGEND_ROOM: f64 = 0.16;
/// Orange of the final iterate (matplotlib's "orange").
const ORANGE: RGBColor = RGBColor(255, 165, 0);

fn colour(cmap: ColorMap, scale: Scale, v: f64) -> RGBColor {
    let [r, g, b] = cmap.rgb(scale.t(v));
    RGBColor(r, g, b)
}

/// The ten corners of a five-pointed star around `(cx, cy)`, in pixels.
fn star(cx: i32, cy: i32, r: f64) -> Vec<(i32, i32)> {
    (0..10)
        .map(|k| {
            let radius = if k % 2 == 0 { r } else { 0.42 * r };
            let a = -std::f64::consts::FRAC_PI_2 + k as f64 * std::f64::consts::PI / 5.0;
            (
                cx + (radius * a.cos()).round() as i32,
                cy + (radius * a.sin()).round() as i32,
            )
        })
        .collect()
}

/// A value scale over the values of `points`, widened when they are all equal.
fn scale_of(points: &[EmbeddedPoint], fallback: (f64, f64)) -> Scale {
    let (lo, hi) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.value), b.max(p.value))
        });
    let (lo, hi) = if !(lo.is_finite() && hi.is_finite()) {
        fallback
    } else if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    };
    Scale { lo, hi, log: false }
}

pub(crate) fn draw(path: &Path, f: &MinefieldFigure) -> Result<()> {
    let invalid = |what: &str| Error::invalid(format!("{}: {what}", path.display()));
    if f.good.is_empty() && f.bad.is_empty() {
        return Err(invalid("no points to draw"));
    }
    let finite = |p: &EmbeddedPoint| p.x.is_finite() && p.y.is_finite() && p.value.is_finite();
    let all_finite = f.good.iter().chain(&f.bad).all(finite)
        && f.final_iterate.0.is_finite()
        && f.final_iterate.1.is_finite();
    if !all_finite {
        return Err(invalid("a point's coordinate or value is not finite"));
    }
    // One axis's range over every point and the final iterate (`last`), padded by 6%.
    let range = |coord: fn(&EmbeddedPoint) -> f64, last: f64| {
        let (lo, hi) = f
            .good
            .iter()
            .chain(&f.bad)
            .map(coord)
            .chain([last])
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
        let pad = ((hi - lo) * 0.06).max(1e-6);
        (lo - pad, hi + pad)
    };
    let (x0, x1) = range(|p| p.x, f.final_iterate.0);
    let (y0, y1) = range(|p| p.y, f.final_iterate.1);
    // Room at the top for the legend, so that it covers no point.
    let y1 = y1 + LEGEND_ROOM * (y1 - y0);
    let epoch_scale = scale_of(&f.good, (0.0, 1.0));
    // Test accuracies in percent on the bar; the dots use the same scale on fractions.
    let acc = scale_of(&f.bad, (0.0, 1.0));
    let acc_pct = Scale {
        lo: acc.lo * 100.0,
        hi: acc.hi * 100.0,
        log: false,
    };

    write_png(path, (W, H), |root| -> DrawResult {
        root.fill(&WHITE)?;
        let (title_area, rest) = root.split_vertically(TITLE_H);
        title_area.draw_text(
            &f.title,
            &bold(21.0).pos(Pos::new(HPos::Center, VPos::Top)),
            (W as i32 / 2, 10),
        )?;
        title_area.draw_text(
            &f.subtitle,
            &font(17.0).pos(Pos::new(HPos::Center, VPos::Top)),
            (W as i32 / 2, 40),
        )?;
        let (plot_area, bars) = rest.split_horizontally(W - 2 * BAR_W - 16);
        let (bar_epoch, bar_acc) = bars.split_horizontally(BAR_W + 8);
        let mut chart = ChartBuilder::on(&plot_area)
            .margin_left(20)
            .margin_right(12)
            .margin_top(10)
            .margin_bottom(34)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .disable_axes()
            .draw()?;
        let plot = chart.plotting_area();
        let (px, py) = plot.get_pixel_range();
        plot_area.draw(&Rectangle::new(
            [
                (
                    px.start - plot_area.get_base_pixel().0,
                    py.start - plot_area.get_base_pixel().1,
                ),
                (
                    px.end - plot_area.get_base_pixel().0,
                    py.end - plot_area.get_base_pixel().1,
                ),
            ],
            RGBColor(90, 90, 90).stroke_width(1),
        ))?;
        plot_area.draw_text(
            "t-SNE 1",
            &font(15.0).pos(Pos::new(HPos::Center, VPos::Top)),
            (
                (px.start + px.end) / 2 - plot_area.get_base_pixel().0,
                py.end - plot_area.get_base_pixel().1 + 8,
            ),
        )?;
        plot_area.draw_text(
            "t-SNE 2",
            &font(15.0)
                .transform(FontTransform::Rotate270)
                .pos(Pos::new(HPos::Center, VPos::Center)),
            (10, (py.start + py.end) / 2 - plot_area.get_base_pixel().1),
        )?;

        // Bad minima first (below), then the iterates, then the star.
        chart.draw_series(f.bad.iter().map(|p| {
            EmptyElement::at((p.x, p.y))
                + Circle::new((0, 0), 6, colour(BLUES_DARK, acc, p.value).filled())
                + Circle::new((0, 0), 6, RGBColor(8, 48, 107).mix(0.6))
        }))?;
        let blue_mid = colour(
            BLUES_DARK,
            Scale {
                lo: 0.0,
                hi: 1.0,
                log: false,
            },
            0.6,
        );
        let good = chart.draw_series(f.good.iter().map(|p| {
            Circle::new(
                (p.x, p.y),
                4,
                colour(PURD_DARK, epoch_scale, p.value).filled(),
            )
        }))?;
        let red_mid = colour(
            PURD_DARK,
            Scale {
                lo: 0.0,
                hi: 1.0,
                log: false,
            },
            0.7,
        );
        good.label(f.good_label.as_str())
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, red_mid.filled()));
        // Empty series carry the legend entries of the bad minima and of the star, so that
        // the legend lists the iterates first.
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            .label(f.bad_label.as_str())
            .legend(move |(x, y)| {
                EmptyElement::at((x + 10, y))
                    + Circle::new((0, 0), 6, blue_mid.filled())
                    + Circle::new((0, 0), 6, RGBColor(8, 48, 107).mix(0.6))
            });
        let (sx, sy) = chart.backend_coord(&f.final_iterate);
        let base = plot_area.get_base_pixel();
        let (sx, sy) = (sx - base.0, sy - base.1);
        plot_area.draw(&Polygon::new(star(sx, sy, STAR_R), ORANGE.filled()))?;
        let mut outline = star(sx, sy, STAR_R);
        outline.push(outline[0]);
        plot_area.draw(&PathElement::new(outline, BLACK.stroke_width(1)))?;
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            .label(f.final_label.as_str())
            .legend(|(x, y)| {
                let mut s = star(x + 10, y, 9.0);
                let poly = Polygon::new(s.clone(), ORANGE.filled());
                s.push(s[0]);
                EmptyElement::at((0, 0)) + poly + PathElement::new(s, BLACK.stroke_width(1))
            });
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(150, 150, 150))
            .label_font(font(15.0))
            .margin(10)
            .draw()?;

        let rows = py.start..py.end;
        draw_colorbar(
            &bar_epoch,
            rows.clone(),
            epoch_scale,
            PURD_DARK,
            "epoch (iterates)",
            &[],
        )?;
        draw_colorbar(
            &bar_acc,
            rows,
            acc_pct,
            BLUES_DARK,
            "test accuracy (%) of bad minima",
            &[],
        )?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(x: f64, y: f64, value: f64) -> EmbeddedPoint {
        EmbeddedPoint { x, y, value }
    }

    #[test]
    fn draws_and_rejects_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.png");
        let mut fig = MinefieldFigure {
            title: "t".into(),
            subtitle: "s".into(),
            good: (0..20)
                .map(|i| p(i as f64, (i as f64).sin(), i as f64))
                .collect(),
            good_label: "iterates".into(),
            bad: (0..20)
                .map(|i| p(i as f64, 3.0 + (i as f64).cos(), 0.3 + 0.01 * i as f64))
                .collect(),
            bad_label: "bad minima".into(),
            final_iterate: (19.0, 19f64.sin()),
            final_label: "final".into(),
        };
        draw(&path, &fig).unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() > 1000);
        fig.bad[0].x = f64::NAN;
        let bad = dir.path().join("bad.png");
        assert!(draw(&bad, &fig).is_err());
        assert!(!bad.exists());
    }
}

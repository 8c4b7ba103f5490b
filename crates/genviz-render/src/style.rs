//! Colours, fonts, tick formatting and chart furniture (title strips, frames) shared by the
//! figures.

use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontDesc, FontFamily, FontStyle};

use crate::output::{Area, DrawResult};

/// Strong per-class colours for training points (class 0 blue, class 1 red, ...).
const CLASS_STRONG: [u32; 8] = [
    0x1f4aa0, 0xbc1a26, 0x1a803c, 0xd66000, 0x7038a0, 0x824e14, 0xc41480, 0x464646,
];

/// Pale per-class colours for predicted regions, matching [`CLASS_STRONG`].
const CLASS_PALE: [u32; 8] = [
    0xc4d8f2, 0xfacec4, 0xc8eace, 0xfddeba, 0xdeceee, 0xe8d6be, 0xf6cae6, 0xdcdcdc,
];

/// `0xRRGGBB` as a plotters colour.
fn rgb(hex: u32) -> RGBColor {
    let [r, g, b] = crate::colormap::channels(hex);
    RGBColor(r, g, b)
}

/// The strong colour of class `c` (cycling after eight classes).
pub(crate) fn class_strong(c: usize) -> RGBColor {
    rgb(CLASS_STRONG[c % CLASS_STRONG.len()])
}

/// The pale region colour of class `c` (cycling after eight classes).
pub(crate) fn class_pale(c: usize) -> RGBColor {
    rgb(CLASS_PALE[c % CLASS_PALE.len()])
}

/// Line colours for curves (the "tab10" palette).
const SERIES: [u32; 10] = [
    0x1f77b4, 0xd62728, 0x2ca02c, 0xff7f0e, 0x9467bd, 0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22,
    0x17becf,
];

/// The line colour of the `i`-th distinct curve label.
pub(crate) fn series_color(i: usize) -> RGBColor {
    rgb(SERIES[i % SERIES.len()])
}

/// The regular sans-serif font at `size` pixels.
pub(crate) fn font(size: f64) -> TextStyle<'static> {
    ("sans-serif", size).into_font().into()
}

/// The bold sans-serif font at `size` pixels.
pub(crate) fn bold(size: f64) -> TextStyle<'static> {
    // Not `.into_font().style(Bold)`: plotters' `FontDesc::style` keeps the regular glyphs.
    FontDesc::new(FontFamily::SansSerif, size, FontStyle::Bold).into()
}

/// `v` with `digits` significant digits (trailing zeros dropped) when `0.001 <= |v| < upper`,
/// else in scientific notation with `digits - 1` decimals (`4.9e-4`); zero and non-finite
/// values as Rust prints them.
pub(crate) fn significant(v: f64, digits: i32, upper: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if (1e-3..upper).contains(&a) {
        let decimals = (digits - 1 - a.log10().floor() as i32).max(0) as usize;
        let s = format!("{v:.decimals$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        format!("{v:.*e}", (digits - 1).max(0) as usize)
    }
}

/// A tick label for a linear axis: at most three decimals, no trailing zeros, no "-0".
pub(crate) fn linear_tick(v: f64) -> String {
    trimmed(v, 3)
}

/// `v` with at most `decimals` decimals, without trailing zeros or a "-0".
pub(crate) fn trimmed(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// A tick label for a log axis: plain decimals between 0.001 and 10000, otherwise `1e-5` style.
pub(crate) fn log_tick(v: f64) -> String {
    if !(v.is_finite() && v > 0.0) {
        return String::new();
    }
    if (1e-3..1e4).contains(&v) {
        // Enough significant digits for 2, 3, 5 subdivisions; trailing zeros trimmed.
        let decimals = (-(v.log10().floor()) as i32).max(0) as usize + 1;
        let s = format!("{v:.decimals$}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.0e}")
    }
}

/// Fills `root` white and draws `title` in bold, centred in a strip `strip_h` pixels high at
/// the top; returns the area under the strip.
pub(crate) fn titled<'a>(
    root: &Area<'a>,
    title: &str,
    strip_h: u32,
) -> std::result::Result<Area<'a>, Box<dyn std::error::Error + Send + Sync>> {
    root.fill(&WHITE)?;
    let (title_area, rest) = root.split_vertically(strip_h);
    let (w, h) = title_area.dim_in_pixel();
    title_area.draw_text(
        title,
        &bold(20.0).pos(Pos::new(HPos::Center, VPos::Center)),
        (w as i32 / 2, h as i32 / 2 + 4),
    )?;
    Ok(rest)
}

/// A black frame around a plotting area.
pub(crate) fn frame(plot: &Area) -> DrawResult {
    let (pw, ph) = plot.dim_in_pixel();
    plot.draw(&Rectangle::new(
        [(0, 0), (pw as i32 - 1, ph as i32 - 1)],
        BLACK.stroke_width(1),
    ))?;
    Ok(())
}

/// The grid every genviz chart draws: faint minor lines, light grey major ones, tick labels
/// of `label_px` pixels and axis titles 3 pixels larger. Callers chain their own ticks,
/// titles and formatters onto it (and may override any of these).
pub(crate) fn house_grid<'m, 'a, 'b, X, Y, XT, YT, DB>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
    label_px: f64,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB>
where
    X: Ranged<ValueType = XT> + ValueFormatter<XT>,
    Y: Ranged<ValueType = YT> + ValueFormatter<YT>,
    DB: DrawingBackend,
{
    mesh.light_line_style(RGBColor(248, 248, 248))
        .bold_line_style(RGBColor(226, 226, 226))
        .label_style(font(label_px))
        .axis_desc_style(font(label_px + 3.0))
}

/// A chart on `area` with the margins every genviz plot uses (12 px left, 8 top, 12 bottom),
/// `right` px on the right, and label areas of `x_labels` and `y_labels` px.
pub(crate) fn chart_on<'a, 'b>(
    area: &'a crate::output::Area<'b>,
    right: u32,
    x_labels: u32,
    y_labels: u32,
) -> plotters::chart::ChartBuilder<'a, 'b, plotters::backend::BitMapBackend<'b>> {
    let mut builder = plotters::chart::ChartBuilder::on(area);
    builder
        .margin_left(12)
        .margin_right(right)
        .margin_top(8)
        .margin_bottom(12)
        .x_label_area_size(x_labels)
        .y_label_area_size(y_labels);
    builder
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_tidy() {
        assert_eq!(linear_tick(10.0), "10");
        assert_eq!(linear_tick(-2.5), "-2.5");
        assert_eq!(linear_tick(-0.0001), "0");
        assert_eq!(log_tick(0.01), "0.01");
        assert_eq!(log_tick(0.2), "0.2");
        assert_eq!(log_tick(1.0), "1");
        assert_eq!(log_tick(300.0), "300");
        assert_eq!(log_tick(1e-5), "1e-5");
    }

    #[test]
    fn regular_and_bold_fonts_are_both_registered() {
        use plotters::prelude::*;
        crate::register_fonts();
        crate::register_fonts();
        let mut buf = vec![255u8; 200 * 50 * 3];
        let area = BitMapBackend::with_buffer(&mut buf, (200, 50)).into_drawing_area();
        let text = "Generalization";
        let regular = area.estimate_text_size(text, &font(20.0)).unwrap();
        let heavy = area.estimate_text_size(text, &bold(20.0)).unwrap();
        assert!(regular.0 > 100, "{regular:?}");
        assert!(
            heavy.0 > regular.0,
            "bold {heavy:?} should be wider than {regular:?}"
        );
    }
}

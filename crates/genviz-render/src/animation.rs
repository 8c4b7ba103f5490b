//! GIF animations: frames drawn in memory with the figures' own panel code, quantised to one
//! shared palette, and written atomically.
//!
//! Why one shared palette and not one per frame (`gif`'s NeuQuant `Frame::from_rgb`): the
//! figures are flat colours and anti-aliased lines, so a palette chosen once from every frame
//! keeps each static part (background, regions, axes) the very same index in every frame. Then
//! the parts that do not move neither flicker nor cost bytes: each frame after the first stores
//! only the rectangle that changed, with unchanged pixels transparent, which LZW squeezes to
//! almost nothing.

use std::collections::HashMap;
use std::path::Path;

use genviz_core::{Error, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::boundary;
use crate::curve1d::CurveChart;
use crate::landscape::{contour_panel, validate_contour_panel};
use crate::output::{Area, DrawResult};
use crate::style::bold;
use crate::{register_fonts, GifFrames, PathAnimation, PathOverlay, Series1d, WiggleAnimation};

/// Colours available to the frames: the palette's 256th entry is the transparent index of the
/// difference frames.
const MAX_COLORS: usize = 255;
/// The transparent palette index.
const TRANSPARENT: u8 = 255;
/// First distance (squared, in RGB units) below which a colour counts as a shade of one already
/// in the palette; halved each pass over the colours until the palette is full. 24 levels per
/// channel keep anti-aliasing shades of one line out while every distinct colour gets in.
const FIRST_SPACING: u32 = 3 * 24 * 24;

/// Size of a wiggle frame and of its parts, in pixels.
const WIGGLE_W: u32 = 1000;
const WIGGLE_H: u32 = 560;
/// Width of the decision-boundary side.
const WIGGLE_LEFT: u32 = 480;
/// Height of the title strip above everything.
const FIGURE_TITLE_H: u32 = 40;
/// Height of the class legend under the boundary panel.
const LEGEND_H: u32 = 40;
/// Share of the right side's height given to the loss/accuracy chart when curvature is shown.
const LOSS_SHARE: f64 = 0.62;

/// Size of a training-path frame, and the width of its contour side.
const PATH_W: u32 = 1060;
const PATH_H: u32 = 560;
const PATH_LEFT: u32 = 600;

/// Draws `frames` pictures of `size` with `draw(frame, area)`, and writes them to `path` as a
/// GIF that loops forever, showing each frame for `delay_cs` hundredths of a second.
fn write_gif(
    path: &Path,
    size: (u32, u32),
    delay_cs: u16,
    frames: usize,
    draw: impl Fn(usize, &Area) -> DrawResult,
) -> Result<()> {
    register_fonts();
    let fail = |what: String| Error::invalid(format!("{}: {what}", path.display()));
    let (w, h) = size;
    let (w16, h16) = match (u16::try_from(w), u16::try_from(h)) {
        (Ok(a), Ok(b)) if a > 0 && b > 0 => (a, b),
        _ => {
            return Err(fail(format!(
                "a GIF frame must be 1 to 65535 pixels a side, not {w}x{h}"
            )))
        }
    };
    if frames == 0 {
        return Err(fail("an animation needs at least one frame".into()));
    }
    let mut rgb: Vec<Vec<u8>> = Vec::with_capacity(frames);
    for k in 0..frames {
        let mut buffer = vec![255u8; w as usize * h as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut buffer, (w, h)).into_drawing_area();
            draw(k, &root)
                .and_then(|()| root.present().map_err(Into::into))
                .map_err(|e| fail(format!("drawing frame {k} failed: {e}")))?;
        }
        rgb.push(buffer);
    }
    let bytes = encode(&rgb, (w16, h16), delay_cs).map_err(|e| fail(format!("encoding: {e}")))?;
    genviz_core::io::write_atomic(path, &bytes)
}

/// Packs an RGB triple into one integer (a hash key).
fn pack(p: &[u8]) -> u32 {
    (u32::from(p[0]) << 16) | (u32::from(p[1]) << 8) | u32::from(p[2])
}

fn unpack(c: u32) -> [u8; 3] {
    [(c >> 16) as u8, (c >> 8) as u8, c as u8]
}

fn distance(a: [u8; 3], b: [u8; 3]) -> u32 {
    a.iter()
        .zip(&b)
        .map(|(&x, &y)| (i32::from(x) - i32::from(y)).pow(2) as u32)
        .sum()
}

/// At most [`MAX_COLORS`] colours for `frames` (RGB buffers): every colour when there are few
/// enough; otherwise the most frequent colours that are at least a spacing apart, the spacing
/// halving until the palette is full. Rare but distinct colours (a marker, a legend swatch)
/// thus get an entry before the hundredth shade of a line's anti-aliasing does. Deterministic:
/// ties in frequency are broken by the colour's value.
pub(crate) fn palette(frames: &[Vec<u8>]) -> Vec<[u8; 3]> {
    let mut counts: HashMap<u32, u64> = HashMap::new();
    for f in frames {
        // Runs of one colour are counted at once: most of a figure is flat.
        let mut run: Option<(u32, u64)> = None;
        for p in f.chunks_exact(3) {
            let c = pack(p);
            match &mut run {
                Some((rc, n)) if *rc == c => *n += 1,
                _ => {
                    if let Some((rc, n)) = run {
                        *counts.entry(rc).or_insert(0) += n;
                    }
                    run = Some((c, 1));
                }
            }
        }
        if let Some((rc, n)) = run {
            *counts.entry(rc).or_insert(0) += n;
        }
    }
    let mut colors: Vec<(u32, u64)> = counts.into_iter().collect();
    colors.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if colors.len() <= MAX_COLORS {
        return colors.into_iter().map(|(c, _)| unpack(c)).collect();
    }
    let mut chosen: Vec<[u8; 3]> = Vec::with_capacity(MAX_COLORS);
    let mut taken = vec![false; colors.len()];
    let mut spacing = FIRST_SPACING;
    loop {
        for (k, &(c, _)) in colors.iter().enumerate() {
            if chosen.len() == MAX_COLORS {
                break;
            }
            if taken[k] {
                continue;
            }
            let rgb = unpack(c);
            if chosen.iter().all(|&p| distance(p, rgb) >= spacing) {
                chosen.push(rgb);
                taken[k] = true;
            }
        }
        if chosen.len() == MAX_COLORS || spacing == 0 {
            return chosen;
        }
        spacing /= 2;
    }
}

/// Palette indices of an RGB buffer: each colour's nearest palette entry (cached).
fn indices(frame: &[u8], palette: &[[u8; 3]], cache: &mut HashMap<u32, u8>) -> Vec<u8> {
    frame
        .chunks_exact(3)
        .map(|p| {
            *cache.entry(pack(p)).or_insert_with(|| {
                let rgb = [p[0], p[1], p[2]];
                let mut best = (u32::MAX, 0u8);
                for (i, &q) in palette.iter().enumerate() {
                    let d = distance(q, rgb);
                    if d < best.0 {
                        best = (d, i as u8);
                    }
                }
                best.1
            })
        })
        .collect()
}

/// Encodes RGB frames as a looping GIF with one global palette; frames after the first hold
/// only the rectangle that changed, unchanged pixels transparent.
fn encode(
    rgb: &[Vec<u8>],
    (w, h): (u16, u16),
    delay_cs: u16,
) -> std::result::Result<Vec<u8>, gif::EncodingError> {
    let pal = palette(rgb);
    let mut flat: Vec<u8> = pal.iter().flatten().copied().collect();
    // Pad to 256 entries; the last is the transparent one (its colour is never shown).
    flat.resize(256 * 3, 255);
    let mut out = Vec::new();
    {
        let mut enc = gif::Encoder::new(&mut out, w, h, &flat)?;
        enc.set_repeat(gif::Repeat::Infinite)?;
        let mut cache = HashMap::new();
        let mut previous: Option<Vec<u8>> = None;
        let width = w as usize;
        for frame in rgb {
            let current = indices(frame, &pal, &mut cache);
            let mut f = match &previous {
                None => gif::Frame::from_indexed_pixels(w, h, current.clone(), None),
                Some(prev) => delta_frame(prev, &current, width),
            };
            f.delay = delay_cs;
            f.dispose = gif::DisposalMethod::Keep;
            enc.write_frame(&f)?;
            previous = Some(current);
        }
    }
    Ok(out)
}

/// The part of `current` that differs from `prev` (both `width` wide): its bounding
/// rectangle, with pixels that did not change set transparent. A frame identical to the one
/// before is a single transparent pixel, so the frame (and its delay) stays.
fn delta_frame(prev: &[u8], current: &[u8], width: usize) -> gif::Frame<'static> {
    let height = current.len() / width;
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for y in 0..height {
        let row = y * width..(y + 1) * width;
        let (a, b) = (&prev[row.clone()], &current[row]);
        if a == b {
            continue;
        }
        let first = a.iter().zip(b).position(|(p, q)| p != q).unwrap_or(0);
        let last = width - 1 - a.iter().zip(b).rev().position(|(p, q)| p != q).unwrap_or(0);
        x0 = x0.min(first);
        x1 = x1.max(last);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 == usize::MAX {
        return gif::Frame::from_indexed_pixels(1, 1, vec![TRANSPARENT], Some(TRANSPARENT));
    }
    let (fw, fh) = (x1 - x0 + 1, y1 - y0 + 1);
    let mut pixels = Vec::with_capacity(fw * fh);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let i = y * width + x;
            pixels.push(if prev[i] == current[i] {
                TRANSPARENT
            } else {
                current[i]
            });
        }
    }
    let mut f = gif::Frame::from_indexed_pixels(fw as u16, fh as u16, pixels, Some(TRANSPARENT));
    f.left = x0 as u16;
    f.top = y0 as u16;
    f
}

/// Fills a frame white, draws `title` in its title strip, and splits what is under it into
/// the left side, `left_w` pixels wide, and the right side.
fn frame_sides<'a>(
    root: &Area<'a>,
    title: &str,
    left_w: u32,
) -> std::result::Result<(Area<'a>, Area<'a>), Box<dyn std::error::Error + Send + Sync>> {
    root.fill(&WHITE)?;
    let (strip, rest) = root.split_vertically(FIGURE_TITLE_H);
    figure_title(&strip, title)?;
    Ok(rest.split_horizontally(left_w))
}

/// A bold title centred in its strip.
fn figure_title(area: &Area, title: &str) -> DrawResult {
    let (w, h) = area.dim_in_pixel();
    let mut size = 19.0;
    while size > 10.0 && area.estimate_text_size(title, &bold(size))?.0 + 24 > w {
        size -= 1.0;
    }
    area.draw_text(
        title,
        &bold(size).pos(Pos::new(HPos::Center, VPos::Center)),
        (w as i32 / 2, h as i32 / 2 + 3),
    )?;
    Ok(())
}

/// A tick label for a position `u` on an axis drawn in `sign(t)|t / m|^(1/root)`: the true
/// coordinate `t = m sign(u)|u|^root`, with two significant digits.
fn root_tick(u: f64, m: f64, root: u32) -> String {
    let t = m * u.signum() * u.abs().powi(root as i32);
    significant(t)
}

/// `v` with two significant digits, plainly between 0.001 and 1000, else as `1.2e-4`.
fn significant(v: f64) -> String {
    crate::style::significant(v, 2, 1e3)
}

/// A step tick in thousands: `5k`, `12.5k`.
fn linear_tick_k(v: f64) -> String {
    format!("{}k", crate::style::linear_tick(v / 1e3))
}

/// A step in a title: exact at a checkpoint, else rounded to three significant digits (the
/// head is between two checkpoints, and more digits would claim a precision it lacks).
fn step_text(step: f64, exact: bool) -> String {
    if exact || step < 1000.0 {
        return format!("{}", step.round());
    }
    let unit = 10f64.powf(step.log10().floor() - 2.0);
    format!("~{}", (step / unit).round() * unit)
}

/// Checks a wiggle before anything is drawn.
fn validate_wiggle(path: &Path, a: &WiggleAnimation) -> Result<()> {
    let fail = |what: String| Err(Error::invalid(format!("{}: {what}", path.display())));
    let n = a.ts.len();
    if n < 2 {
        return fail(format!("a wiggle needs at least 2 ray points, got {n}"));
    }
    if let Some(k) = a.ts.iter().position(|t| !t.is_finite()) {
        return fail(format!("ts[{k}] = {} is not finite", a.ts[k]));
    }
    if let Some(k) = (1..n).find(|&k| a.ts[k] <= a.ts[k - 1]) {
        return fail(format!(
            "ts must be strictly increasing, but ts[{k}] = {} follows {}",
            a.ts[k],
            a.ts[k - 1]
        ));
    }
    if a.boundaries.len() != n {
        return fail(format!(
            "{} decision-boundary panels for {n} ray points; need one per point",
            a.boundaries.len()
        ));
    }
    boundary::validate(path, &a.boundaries)?;
    if a.order.is_empty() {
        return fail("the frame order is empty".into());
    }
    if let Some(k) = a.order.iter().position(|&i| i >= n) {
        return fail(format!(
            "order[{k}] = {} is not a ray point (there are {n})",
            a.order[k]
        ));
    }
    if a.axis_root == 0 {
        return fail("axis_root must be at least 1 (1 draws t itself)".into());
    }
    let xs = display_ts(a);
    let no_ticks = |_| String::new();
    loss_chart(a, animated_chart(&xs, &no_ticks, None)).validate(path)?;
    if let Some(c) = &a.curvature {
        curvature_chart(c, animated_chart(&xs, &no_ticks, None)).validate(path)?;
    }
    Ok(())
}

/// The ray coordinates as the x axis draws them: `sign(t)|t / m|^(1/axis_root)`, `m` the
/// largest `|t|`.
fn display_ts(a: &WiggleAnimation) -> Vec<f64> {
    let m = a.ts.iter().fold(0f64, |m, t| m.max(t.abs()));
    if a.axis_root == 1 || m == 0.0 {
        return a.ts.clone();
    }
    let p = 1.0 / f64::from(a.axis_root);
    a.ts.iter()
        .map(|t| t.signum() * (t.abs() / m).powf(p))
        .collect()
}

/// A chart over `xs` with the animations' look: the legend above the plot, smaller fonts and
/// label areas, ticks written by `x_fmt`, and `marker`.
fn animated_chart<'a>(
    xs: &'a [f64],
    x_fmt: &'a dyn Fn(f64) -> String,
    marker: Option<f64>,
) -> CurveChart<'a> {
    CurveChart {
        x_fmt,
        marker,
        legend_above: true,
        font_size: 13.0,
        y_label_area: 66,
        x_label_area: 46,
        ..CurveChart::new(xs)
    }
}

/// The losses and accuracies along a wiggle's ray, on `base`.
fn loss_chart<'a>(a: &'a WiggleAnimation, base: CurveChart<'a>) -> CurveChart<'a> {
    CurveChart {
        x_label: &a.x_label,
        y_label: "loss",
        losses: &a.losses,
        accuracies: &a.accuracies,
        log_loss: a.log_loss,
        ..base
    }
}

/// The curvature `c` along a wiggle's ray, on `base`, without the accuracy axis.
fn curvature_chart<'a>(c: &'a Series1d, base: CurveChart<'a>) -> CurveChart<'a> {
    // A log axis when every value is positive (curvature spans decades along a ray).
    let log = c.values.iter().filter(|v| v.is_finite()).all(|&v| v > 0.0);
    CurveChart {
        x_label: "",
        y_label: "curvature",
        losses: std::slice::from_ref(c),
        log_loss: log,
        right_axis: false,
        x_label_area: 30,
        ..base
    }
}

pub(crate) fn draw_wiggle(path: &Path, a: &WiggleAnimation, delay_cs: u16) -> Result<()> {
    validate_wiggle(path, a)?;
    let xs = display_ts(a);
    let m = a.ts.iter().fold(0f64, |m, t| m.max(t.abs()));
    let root = a.axis_root;
    let fmt = move |u: f64| {
        if root == 1 {
            significant(u)
        } else {
            root_tick(u, m, root)
        }
    };
    let num_classes = a
        .boundaries
        .iter()
        .map(|b| b.num_classes)
        .max()
        .unwrap_or(1);
    write_gif(
        path,
        (WIGGLE_W, WIGGLE_H),
        delay_cs,
        a.order.len(),
        |k, root| {
            let i = a.order[k];
            let (left, right) = frame_sides(root, &a.title, WIGGLE_LEFT)?;
            let (_, lh) = left.dim_in_pixel();
            let (panel, legend) = left.split_vertically(lh - LEGEND_H);
            boundary::draw_panel(&panel, &a.boundaries[i], &[])?;
            boundary::draw_legend(&legend, num_classes, None)?;
            let marker = Some(i as f64);
            match &a.curvature {
                None => loss_chart(a, animated_chart(&xs, &fmt, marker)).draw(&right),
                Some(c) => {
                    let (_, rh) = right.dim_in_pixel();
                    let (top, bottom) = right.split_vertically((f64::from(rh) * LOSS_SHARE) as u32);
                    loss_chart(a, animated_chart(&xs, &fmt, marker)).draw(&top)?;
                    curvature_chart(c, animated_chart(&xs, &fmt, marker)).draw(&bottom)
                }
            }
        },
    )
}

/// Checks a training-path animation before anything is drawn.
fn validate_path(path: &Path, a: &PathAnimation) -> Result<()> {
    let fail = |what: String| Err(Error::invalid(format!("{}: {what}", path.display())));
    let n = a.path.len();
    if n < 2 {
        return fail(format!("a training path needs at least 2 points, got {n}"));
    }
    if a.steps.len() != n {
        return fail(format!("{} steps for {n} path points", a.steps.len()));
    }
    let overlay = PathOverlay {
        points: a.path.clone(),
        label: a.path_label.clone(),
    };
    validate_contour_panel(path, 0, &a.surface, &a.style, &[overlay], &a.markers)?;
    if a.heads.is_empty() {
        return fail("no frames: heads is empty".into());
    }
    if let Some(k) = a
        .heads
        .iter()
        .position(|&h| !(h.is_finite() && h >= 0.0 && h <= (n - 1) as f64))
    {
        return fail(format!(
            "heads[{k}] = {} is not a position on the path (0 to {})",
            a.heads[k],
            n - 1
        ));
    }
    steps_chart(a, &|_| String::new(), None).validate(path)
}

fn steps_chart<'a>(
    a: &'a PathAnimation,
    x_fmt: &'a dyn Fn(f64) -> String,
    marker: Option<f64>,
) -> CurveChart<'a> {
    CurveChart {
        x_label: "step",
        y_label: "loss",
        losses: &a.losses,
        accuracies: &a.accuracies,
        log_loss: a.log_loss,
        ..animated_chart(&a.steps, x_fmt, marker)
    }
}

/// The path up to fractional position `head`: the points passed, then the head itself.
fn path_until(points: &[(f64, f64)], head: f64) -> Vec<(f64, f64)> {
    let i = (head.floor() as usize).min(points.len() - 1);
    let f = head - i as f64;
    let mut out = points[..=i].to_vec();
    if f > 0.0 && i + 1 < points.len() {
        let (a, b) = (points[i], points[i + 1]);
        out.push((a.0 + f * (b.0 - a.0), a.1 + f * (b.1 - a.1)));
    }
    out
}

pub(crate) fn draw_path(path: &Path, a: &PathAnimation, delay_cs: u16) -> Result<()> {
    validate_path(path, a)?;
    let fmt = |v: f64| {
        if v.abs() >= 1e3 {
            linear_tick_k(v)
        } else {
            significant(v)
        }
    };
    write_gif(
        path,
        (PATH_W, PATH_H),
        delay_cs,
        a.heads.len(),
        |k, root| {
            let head = a.heads[k];
            let (left, right) = frame_sides(root, &a.title, PATH_LEFT)?;
            let i = (head.floor() as usize).min(a.steps.len() - 1);
            let f = head - i as f64;
            let step = if i + 1 < a.steps.len() {
                a.steps[i] + f * (a.steps[i + 1] - a.steps[i])
            } else {
                a.steps[i]
            };
            let mut grid = a.surface.clone();
            grid.title = format!("{}: step {}", a.surface.title, step_text(step, f == 0.0));
            let overlay = PathOverlay {
                points: path_until(&a.path, head),
                label: a.path_label.clone(),
            };
            contour_panel(&left, &grid, &a.style, &[overlay], &a.markers)?;
            // The charts' side starts under the contour panel's title strip, so both plots align.
            let (_, rest) = right.split_vertically(crate::landscape::TITLE_H - 26);
            steps_chart(a, &fmt, Some(head)).draw(&rest)
        },
    )
}

/// Decodes a GIF into full frames (see [`crate::read_gif`]).
pub(crate) fn read(path: &Path) -> Result<GifFrames> {
    let fail = |what: String| Error::invalid(format!("{}: {what}", path.display()));
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::Indexed);
    let mut decoder = options
        .read_info(std::io::BufReader::new(file))
        .map_err(|e| fail(format!("not a readable GIF: {e}")))?;
    let (w, h) = (decoder.width() as usize, decoder.height() as usize);
    let global = decoder.global_palette().map(<[u8]>::to_vec);
    let mut canvas = vec![255u8; w * h * 3];
    let mut frames = Vec::new();
    let mut delays = Vec::new();
    while let Some(frame) = decoder
        .read_next_frame()
        .map_err(|e| fail(format!("frame {}: {e}", frames.len())))?
    {
        let palette = frame
            .palette
            .clone()
            .or_else(|| global.clone())
            .ok_or_else(|| fail(format!("frame {} has no palette", frames.len())))?;
        for y in 0..frame.height as usize {
            for x in 0..frame.width as usize {
                let idx = frame.buffer[y * frame.width as usize + x];
                if Some(idx) == frame.transparent {
                    continue;
                }
                let (cx, cy) = (frame.left as usize + x, frame.top as usize + y);
                if cx >= w || cy >= h {
                    continue;
                }
                let p = 3 * idx as usize;
                let color = palette.get(p..p + 3).ok_or_else(|| {
                    fail(format!(
                        "frame {}: index {idx} past the palette",
                        frames.len()
                    ))
                })?;
                canvas[3 * (cy * w + cx)..3 * (cy * w + cx) + 3].copy_from_slice(color);
            }
        }
        frames.push(canvas.clone());
        delays.push(frame.delay);
        match frame.dispose {
            gif::DisposalMethod::Keep | gif::DisposalMethod::Any => {}
            other => {
                return Err(fail(format!(
                    "frame {} uses disposal {other:?}; only Keep is composited",
                    frames.len() - 1
                )))
            }
        }
    }
    Ok(GifFrames {
        width: w as u32,
        height: h as u32,
        frames,
        delays_cs: delays,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_colours_are_kept_exactly() {
        let frame: Vec<u8> = [[255, 255, 255], [10, 20, 30], [255, 255, 255], [1, 2, 3]].concat();
        let p = palette(&[frame]);
        assert_eq!(p, vec![[255, 255, 255], [1, 2, 3], [10, 20, 30]]);
    }

    #[test]
    fn a_rare_distinct_colour_beats_common_shades() {
        // 400 grey shades, each common, and one red pixel: red must get an entry.
        let mut frame = Vec::new();
        for k in 0..400u32 {
            let g = (k * 255 / 399) as u8;
            for _ in 0..10 {
                frame.extend_from_slice(&[g, g, g.saturating_add((k % 2) as u8)]);
            }
        }
        frame.extend_from_slice(&[230, 20, 20]);
        let p = palette(&[frame]);
        assert_eq!(p.len(), MAX_COLORS);
        assert!(p.contains(&[230, 20, 20]), "the red pixel was merged away");
    }

    #[test]
    fn delta_frames_cover_exactly_the_change() {
        let prev = vec![0u8; 20];
        let mut cur = prev.clone();
        cur[7] = 3; // (x 2, y 1) in a 5-wide picture
        cur[13] = 4; // (x 3, y 2)
        let f = delta_frame(&prev, &cur, 5);
        assert_eq!((f.left, f.top, f.width, f.height), (2, 1, 2, 2));
        assert_eq!(f.buffer.as_ref(), &[3, TRANSPARENT, TRANSPARENT, 4]);
        let same = delta_frame(&prev, &prev, 5);
        assert_eq!((same.width, same.height), (1, 1));
        assert_eq!(same.buffer.as_ref(), &[TRANSPARENT]);
    }

    #[test]
    fn ticks_have_two_significant_digits() {
        assert_eq!(significant(0.5), "0.5");
        assert_eq!(significant(-0.11865), "-0.12");
        assert_eq!(significant(0.015625), "0.016");
        assert_eq!(significant(0.000488), "4.9e-4");
        assert_eq!(significant(40000.0), "4.0e4");
        assert_eq!(significant(250.0), "250");
        assert_eq!(root_tick(-0.5, 0.5, 5), "-0.016");
        assert_eq!(linear_tick_k(12500.0), "12.5k");
        assert_eq!(step_text(17021.3, false), "~17000");
        assert_eq!(step_text(15000.0, true), "15000");
    }
}

//! The hover view for models whose inputs are not a plane (images, ONNX models): an interactive
//! 3-D surface beside a flat map of the same grid, where pointing at a grid point shows
//! genviz's precomputed numbers there and, for image models, what the network predicts for a
//! fixed strip of test images at that point.
//!
//! Nothing is evaluated in the page: every number and prediction was computed by genviz at the
//! grid points and is looked up at the point nearest the pointer.

use std::fmt::Write as _;
use std::io::Cursor;
use std::path::Path;

use genviz_core::{Error, Result};
use serde_json::{json, Value};

use crate::colormap::VIRIDIS;
use crate::explorer::{finite_or_null, validate_grid, MetricGrid};
use crate::page::json_script;
use crate::report::{base64, esc, push_paragraphs, push_surface_figure, validate_surface};
use crate::InteractiveSurface;

/// Marks a prediction that was not computed (its grid point has none); shown as a dash.
pub const NO_PREDICTION: u32 = u32::MAX;

/// A surface whose points tell their numbers: see the module documentation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HoverView {
    /// The section heading.
    pub heading: String,
    /// Plain text under the heading (may be empty); blank lines separate paragraphs.
    pub text: String,
    /// The 3-D surface (heights as the caller wants them shown, e.g. `log10` of the train
    /// loss; see [`InteractiveSurface`]). Its `xs` and `ys` are the grid's.
    pub surface: InteractiveSurface,
    /// genviz's numbers at every grid point; its `xs` and `ys` must equal the surface's.
    pub metrics: MetricGrid,
    /// Test images and the network's predictions for them at every grid point (image models).
    pub strip: Option<ImageStrip>,
}

/// A fixed strip of test images and what the network predicts for them across the grid.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImageStrip {
    /// The images, in the order of their columns in `predictions`.
    pub images: Vec<StripImage>,
    /// A name per class, e.g. `"T-shirt/top"`; at least one.
    pub class_names: Vec<String>,
    /// The predicted class of every image at every grid point, `[ny * nx, images]` row-major
    /// with grid points in the grid's order (`iy * nx + ix`): `predictions[p * images + i]`.
    /// [`NO_PREDICTION`] where not computed; otherwise a class index.
    pub predictions: Vec<u32>,
}

/// One small image, as 8-bit pixels.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StripImage {
    /// Width in pixels (1 to [`MAX_STRIP_SIDE`]).
    pub width: u32,
    /// Height in pixels (1 to [`MAX_STRIP_SIDE`]).
    pub height: u32,
    /// 1 (grey) or 3 (RGB).
    pub channels: u8,
    /// Row-major pixels, channels interleaved: `width * height * channels` bytes.
    pub pixels: Vec<u8>,
    /// The image's true class.
    pub label: u32,
}

/// The largest side of a strip image: the strip shows thumbnails (Fashion-MNIST is 28, CIFAR
/// 32); anything much bigger belongs in a figure, not in a page embedded per point.
pub const MAX_STRIP_SIDE: u32 = 256;

pub(crate) fn validate(path: &Path, k: usize, v: &HoverView) -> Result<()> {
    let block = format!("{}: block {k} ({:?})", path.display(), v.heading);
    validate_surface(path, 0, &v.surface).map_err(|e| Error::invalid(format!("{block}: {e}")))?;
    let fail = |m: String| Err(Error::invalid(format!("{block}: {m}")));
    if let Err(m) = validate_grid(&v.metrics) {
        return fail(m);
    }
    if v.metrics.xs != v.surface.xs || v.metrics.ys != v.surface.ys {
        return fail("the metrics grid's xs and ys must equal the surface's".into());
    }
    let Some(strip) = &v.strip else {
        return Ok(());
    };
    if strip.class_names.is_empty() {
        return fail("the image strip needs class names".into());
    }
    let classes = strip.class_names.len();
    for (i, im) in strip.images.iter().enumerate() {
        if !(1..=MAX_STRIP_SIDE).contains(&im.width) || !(1..=MAX_STRIP_SIDE).contains(&im.height) {
            return fail(format!(
                "strip image {i} is {}x{}; sides must be 1 to {MAX_STRIP_SIDE}",
                im.width, im.height
            ));
        }
        if im.channels != 1 && im.channels != 3 {
            return fail(format!(
                "strip image {i} has {} channels, expected 1 or 3",
                im.channels
            ));
        }
        let expected = im.width as usize * im.height as usize * im.channels as usize;
        if im.pixels.len() != expected {
            return fail(format!(
                "strip image {i} has {} bytes, expected {}x{}x{} = {expected}",
                im.pixels.len(),
                im.width,
                im.height,
                im.channels
            ));
        }
        if im.label as usize >= classes {
            return fail(format!(
                "strip image {i} has label {}, but there are {classes} class names",
                im.label
            ));
        }
    }
    let points = v.metrics.xs.len() * v.metrics.ys.len();
    let expected = points * strip.images.len();
    if strip.predictions.len() != expected {
        return fail(format!(
            "the strip has {} predictions, expected {points} grid points x {} images = \
             {expected}",
            strip.predictions.len(),
            strip.images.len()
        ));
    }
    if let Some(i) = strip
        .predictions
        .iter()
        .position(|&p| p != NO_PREDICTION && p as usize >= classes)
    {
        return fail(format!(
            "prediction {i} is class {}, but there are {classes} class names",
            strip.predictions[i]
        ));
    }
    Ok(())
}

/// A strip image as a PNG `data:` URI (the page shows it scaled up, pixelated).
fn png_data_uri(path: &Path, im: &StripImage) -> Result<String> {
    let color = if im.channels == 1 {
        image::ColorType::L8
    } else {
        image::ColorType::Rgb8
    };
    let mut bytes = Vec::new();
    image::write_buffer_with_format(
        &mut Cursor::new(&mut bytes),
        &im.pixels,
        im.width,
        im.height,
        color,
        image::ImageFormat::Png,
    )
    .map_err(|e| {
        Error::invalid(format!(
            "{}: encoding a strip image as PNG: {e}",
            path.display()
        ))
    })?;
    Ok(format!("data:image/png;base64,{}", base64(&bytes)))
}

/// The view's section; `surface_index` is the number of its plot among the page's surfaces.
pub(crate) fn push_view(
    h: &mut String,
    path: &Path,
    k: usize,
    v: &HoverView,
    surface_index: usize,
) -> Result<()> {
    let _ = writeln!(
        h,
        "<section id=\"block-{k}\" class=\"hover-view\" data-surface=\"{surface_index}\">\n\
         <h2>{}</h2>",
        esc(&v.heading)
    );
    push_paragraphs(h, &v.text);
    h.push_str(
        "<p class=\"hint\">Point at the surface or the map: the numbers genviz computed at the \
         nearest grid point appear beside them. Drag the surface to rotate it.</p>\n\
         <div class=\"hover-layout\">\n",
    );
    push_surface_figure(h, surface_index, &v.surface);
    h.push_str(
        "<div class=\"hover-side\">\n<canvas class=\"hover-map\"></canvas>\n\
         <p class=\"coords\"></p>\n\
         <table class=\"readout\"><thead><tr><th></th><th>accuracy</th><th>loss</th></tr>\
         </thead><tbody>\n\
         <tr><th>train</th><td class=\"train-acc\"></td><td class=\"train-loss\"></td></tr>\n\
         <tr><th>test</th><td class=\"test-acc\"></td><td class=\"test-loss\"></td></tr>\n\
         </tbody></table>\n</div>\n</div>\n",
    );
    let mut images = Vec::new();
    if let Some(strip) = &v.strip {
        h.push_str("<h3>Predictions on test images at this point</h3>\n<div class=\"strip\">\n");
        for (i, im) in strip.images.iter().enumerate() {
            let name = &strip.class_names[im.label as usize];
            let _ = writeln!(
                h,
                "<figure data-image=\"{i}\"><img src=\"{}\" alt=\"test image {i}: {}\">\
                 <figcaption>{}<br><span class=\"prediction\"></span></figcaption></figure>",
                png_data_uri(path, im)?,
                esc(name),
                esc(name)
            );
            images.push(im.label);
        }
        h.push_str("</div>\n");
    }
    let m = &v.metrics;
    let data = json!({
        "xs": m.xs,
        "ys": m.ys,
        "x_label": v.surface.x_label,
        "y_label": v.surface.y_label,
        "z": finite_or_null(&v.surface.z),
        "z_label": v.surface.z_label,
        "colors": (0..=40).map(|i| VIRIDIS.rgb(i as f64 / 40.0)).collect::<Vec<_>>(),
        "train_loss": finite_or_null(&m.train_loss),
        "train_acc": finite_or_null(&m.train_acc),
        "test_loss": finite_or_null(&m.test_loss),
        "test_acc": finite_or_null(&m.test_acc),
        "strip": v.strip.as_ref().map(|s| json!({
            "labels": images,
            "class_names": s.class_names,
            "predictions": s.predictions.iter().map(|&p| {
                if p == NO_PREDICTION { Value::Null } else { json!(p) }
            }).collect::<Vec<_>>(),
        })),
    });
    h.push_str(&json_script("class=\"hover-data\"", &data));
    h.push_str("</section>\n");
    Ok(())
}

/// The hover view's script; see `hover.js`.
pub(crate) const HOVER_JS: &str = include_str!("js/hover.js");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_can_be_inlined() {
        assert!(!HOVER_JS.to_ascii_lowercase().contains("</script"));
    }

    #[test]
    fn strip_images_become_pngs() {
        let im = StripImage {
            width: 2,
            height: 1,
            channels: 1,
            pixels: vec![0, 255],
            label: 0,
        };
        let uri = png_data_uri(Path::new("r.html"), &im).unwrap();
        // The PNG signature, base64-encoded.
        assert!(
            uri.starts_with("data:image/png;base64,iVBORw0KGgo"),
            "{uri}"
        );
    }
}

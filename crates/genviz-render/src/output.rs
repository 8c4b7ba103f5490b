//! Drawing into memory and writing the PNG atomically.

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use genviz_core::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::register_fonts;

/// What a drawing closure returns: any plotters error, boxed.
pub(crate) type DrawResult = std::result::Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// The whole figure, in pixels.
pub(crate) type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// A chart with linear x and y axes on an [`Area`].
pub(crate) type Chart<'c, 'b> = ChartContext<
    'c,
    BitMapBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// Draws a `size` picture (white background) with `draw`, then encodes it as PNG into a
/// temporary `.png` file next to `path` and renames it into place. Nothing touches the disk
/// unless drawing succeeded; the temporary file is removed if writing or renaming fails.
pub(crate) fn write_png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&Area) -> DrawResult,
) -> Result<()> {
    register_fonts();
    let file_name = png_file_name(path)?;
    let (w, h) = size;
    let mut buffer = vec![255u8; w as usize * h as usize * 3];
    {
        let failed = |e: &dyn std::fmt::Display| {
            Error::invalid(format!(
                "{}: drawing the figure failed: {e}",
                path.display()
            ))
        };
        let root = BitMapBackend::with_buffer(&mut buffer, (w, h)).into_drawing_area();
        draw(&root).map_err(|e| failed(&e))?;
        root.present().map_err(|e| failed(&e))?;
    }
    save_png(path, file_name, (w, h), &buffer)
}

/// Writes an RGB buffer of `size` as a PNG at `path`, atomically.
pub(crate) fn write_rgb_png(path: &Path, size: (u32, u32), rgb: &[u8]) -> Result<()> {
    let file_name = png_file_name(path)?;
    let (w, h) = size;
    if rgb.len() != w as usize * h as usize * 3 {
        return Err(Error::invalid(format!(
            "{}: {} bytes are not a {w}x{h} RGB picture ({} bytes)",
            path.display(),
            rgb.len(),
            w as usize * h as usize * 3
        )));
    }
    save_png(path, file_name, size, rgb)
}

/// The folder a file at `path` goes into: its parent, or `.` for a bare file name.
pub(crate) fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// The file name of `path`, which a PNG is written under (an error if it has none).
fn png_file_name(path: &Path) -> Result<&std::ffi::OsStr> {
    path.file_name().ok_or_else(|| {
        Error::invalid(format!(
            "{}: output path has no file name to write a PNG to",
            path.display()
        ))
    })
}

/// Encodes `buffer` into a temporary `.png` next to `path` and renames it into place.
fn save_png(
    path: &Path,
    file_name: &std::ffi::OsStr,
    (w, h): (u32, u32),
    buffer: &[u8],
) -> Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = folder_of(path);
    let tmp = dir.join(format!(
        ".{}.tmp{}-{}.png",
        file_name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = image::save_buffer_with_format(
        &tmp,
        buffer,
        w,
        h,
        image::ColorType::Rgb8,
        image::ImageFormat::Png,
    )
    .map_err(|e| match e {
        image::ImageError::IoError(e) => e,
        other => io::Error::other(other.to_string()),
    })
    .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}

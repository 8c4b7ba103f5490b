//! Saves single frames of a GIF as PNG files, to look at an animation frame by frame:
//!
//!   cargo run -p genviz-render --example gif_frames -- wiggle.gif out/ 0 12 24
//!
//! writes `out/wiggle_0.png`, `out/wiggle_12.png`, ... (every frame when no index is given).

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(gif), Some(dir)) = (args.next(), args.next()) else {
        return Err("usage: gif_frames FILE.gif OUT_DIR [FRAME...]".into());
    };
    let (gif, dir) = (PathBuf::from(gif), PathBuf::from(dir));
    let frames = genviz_render::read_gif(&gif)?;
    let wanted: Vec<usize> = args.map(|a| a.parse()).collect::<Result<_, _>>()?;
    let wanted = if wanted.is_empty() {
        (0..frames.frames.len()).collect()
    } else {
        wanted
    };
    std::fs::create_dir_all(&dir)?;
    let stem = gif
        .file_stem()
        .map_or("frame".into(), |s| s.to_string_lossy());
    for k in wanted {
        let rgb = frames.frames.get(k).ok_or_else(|| {
            format!(
                "{} has {} frames, no frame {k}",
                gif.display(),
                frames.frames.len()
            )
        })?;
        let out = dir.join(format!("{stem}_{k}.png"));
        genviz_render::write_rgb_png(&out, frames.width, frames.height, rgb)?;
        println!("{}", out.display());
    }
    Ok(())
}

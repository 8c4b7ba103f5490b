//! Writes a synthetic wiggle and training-path GIF, and their first frames as PNG, into the
//! folder given (default `animation-demo`): a quick look at the animations' layout.

#[path = "../tests/scenes/mod.rs"]
mod scenes;
mod support;

use genviz_render::{draw_path_gif, draw_wiggle_gif, read_gif, write_rgb_png};
use scenes::{path_animation, wiggle};

fn main() -> genviz_core::Result<()> {
    let dir = support::output_dir("animation-demo")?;
    let gifs = [
        ("wiggle", {
            let p = dir.join("wiggle.gif");
            draw_wiggle_gif(&p, &wiggle(25), 8)?;
            p
        }),
        ("path", {
            let p = dir.join("path.gif");
            draw_path_gif(&p, &path_animation(), 10)?;
            p
        }),
    ];
    for (name, p) in gifs {
        let g = read_gif(&p)?;
        for k in [0, g.frames.len() / 3] {
            write_rgb_png(
                &dir.join(format!("{name}_{k}.png")),
                g.width,
                g.height,
                &g.frames[k],
            )?;
        }
        println!("{}: {} frames", p.display(), g.frames.len());
    }
    Ok(())
}

//! GIF animations: written, decoded back, and checked frame by frame.

mod scenes;

use genviz_render::{draw_path_gif, draw_wiggle_gif, read_gif};
use scenes::{path_animation, wiggle};

#[test]
fn wiggle_gif_decodes_to_its_frames() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wiggle.gif");
    let a = wiggle(9);
    assert_eq!(a.order.len(), 16);
    draw_wiggle_gif(&path, &a, 8).unwrap();
    let g = read_gif(&path).unwrap();
    assert_eq!((g.width, g.height), (1000, 560));
    assert_eq!(g.frames.len(), a.order.len());
    assert!(g.delays_cs.iter().all(|&d| d == 8));
    // The boundary turns and the marker moves: consecutive frames differ, and the first and
    // last frames (t = 0 and just before it) differ too.
    for (k, w) in g.frames.windows(2).enumerate() {
        assert_ne!(w[0], w[1], "frames {k} and {} are identical", k + 1);
    }
    // Frames at the same t are the same picture: frame 0 is t = 0, and so is the frame the
    // loop would show after the last one; frame 1 (index 5) equals frame 7 on the way back.
    assert_eq!(a.order[1], a.order[7]);
    assert_eq!(g.frames[1], g.frames[7]);
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1);
}

#[test]
fn wiggle_frames_show_the_boundary_of_their_t() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.gif");
    let a = wiggle(5);
    draw_wiggle_gif(&path, &a, 5).unwrap();
    let g = read_gif(&path).unwrap();
    // Somewhere in the boundary panel, the pale red of class 1 (250, 206, 196) and the pale
    // blue of class 0 (196, 216, 242) both show, exactly (the palette keeps them).
    let has = |f: &[u8], c: [u8; 3]| f.chunks_exact(3).any(|p| p == c);
    for f in &g.frames {
        assert!(has(f, [250, 206, 196]) && has(f, [196, 216, 242]));
    }
}

#[test]
fn bad_animations_are_refused_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.gif");
    let mut a = wiggle(5);
    a.order.push(5);
    let e = draw_wiggle_gif(&path, &a, 8).unwrap_err().to_string();
    assert!(e.contains("bad.gif") && e.contains("order[8] = 5"), "{e}");
    let mut a = wiggle(5);
    a.boundaries.pop();
    let e = draw_wiggle_gif(&path, &a, 8).unwrap_err().to_string();
    assert!(e.contains("4 decision-boundary panels for 5"), "{e}");
    let mut a = wiggle(5);
    a.losses[0].values.pop();
    let e = draw_wiggle_gif(&path, &a, 8).unwrap_err().to_string();
    assert!(e.contains("has 4 values but there are 5"), "{e}");
    assert!(!path.exists());
}

#[test]
fn path_gif_grows_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("path.gif");
    let a = path_animation();
    draw_path_gif(&path, &a, 10).unwrap();
    let g = read_gif(&path).unwrap();
    assert_eq!((g.width, g.height), (1060, 560));
    assert_eq!(g.frames.len(), 13);
    // Each frame adds path: the number of pixels in the path's red grows.
    let red = |f: &[u8]| f.chunks_exact(3).filter(|p| p == &[214, 39, 40]).count();
    let counts: Vec<usize> = g.frames.iter().map(|f| red(f)).collect();
    assert!(counts[12] > counts[0], "{counts:?}");
    for w in g.frames.windows(2) {
        assert_ne!(w[0], w[1]);
    }
    let mut bad = path_animation();
    bad.heads.push(4.5);
    let e = draw_path_gif(&dir.path().join("b.gif"), &bad, 10)
        .unwrap_err()
        .to_string();
    assert!(e.contains("heads[13] = 4.5"), "{e}");
}

#[test]
fn reading_a_non_gif_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.gif");
    std::fs::write(&path, b"not a gif").unwrap();
    let e = read_gif(&path).unwrap_err().to_string();
    assert!(
        e.contains("x.gif") && e.contains("not a readable GIF"),
        "{e}"
    );
}

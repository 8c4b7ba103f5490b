//! GIF animations: written, decoded back, and checked frame by frame.

use genviz_render::{
    draw_path_gif, draw_wiggle_gif, read_gif, BoundaryPanel, ContourStyle, Marker, PathAnimation,
    PlotPoint, Series1d, SurfaceGrid, WiggleAnimation,
};

/// A two-class panel whose boundary is the line through the origin at angle `angle`.
fn rotating_panel(angle: f64, title: String) -> BoundaryPanel {
    let n = 60;
    let (c, s) = (angle.cos() as f32, angle.sin() as f32);
    let mut grid = Vec::with_capacity(n * n);
    for iy in 0..n {
        for ix in 0..n {
            let x = -1.0 + 2.0 * (ix as f32 + 0.5) / n as f32;
            let y = -1.0 + 2.0 * (iy as f32 + 0.5) / n as f32;
            grid.push(u32::from(c * x + s * y > 0.0));
        }
    }
    let points = (0..40)
        .map(|k| {
            let a = k as f32 * 0.157;
            let (x, y) = (0.7 * a.cos(), 0.7 * a.sin());
            let label = u32::from(x > 0.0);
            PlotPoint {
                x,
                y,
                label,
                correct: u32::from(c * x + s * y > 0.0) == label,
            }
        })
        .collect();
    BoundaryPanel {
        title,
        x_range: (-1.0, 1.0),
        y_range: (-1.0, 1.0),
        resolution: (n, n),
        grid_classes: grid,
        num_classes: 2,
        points,
    }
}

fn wiggle(points: usize) -> WiggleAnimation {
    let ts: Vec<f64> = (0..points)
        .map(|i| {
            let u = -1.0 + 2.0 * i as f64 / (points - 1) as f64;
            0.5 * u.powi(5)
        })
        .collect();
    let loss: Vec<f64> = ts.iter().map(|t| 0.01 + 40.0 * t * t).collect();
    let acc: Vec<f64> = ts.iter().map(|t| 1.0 - t.abs()).collect();
    let curv: Vec<f64> = ts.iter().map(|t| 100.0 * (1.0 + 10.0 * t.abs())).collect();
    let mid = points / 2;
    let order: Vec<usize> = (mid..points)
        .chain((0..points - 1).rev())
        .chain(1..mid)
        .collect();
    WiggleAnimation {
        title: "test wiggle".into(),
        boundaries: ts
            .iter()
            .map(|&t| rotating_panel(6.0 * t, format!("t = {t:+.4}")))
            .collect(),
        ts,
        losses: vec![Series1d {
            label: "train loss".into(),
            values: loss,
        }],
        accuracies: vec![Series1d {
            label: "train accuracy".into(),
            values: acc,
        }],
        curvature: Some(Series1d {
            label: "top eigenvalue".into(),
            values: curv,
        }),
        log_loss: true,
        order,
        axis_root: 5,
        x_label: "t".into(),
    }
}

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

fn path_animation() -> PathAnimation {
    let n = 21;
    let xs: Vec<f64> = (0..n)
        .map(|i| -2.0 + 4.0 * i as f64 / (n - 1) as f64)
        .collect();
    let values: Vec<f64> = (0..n * n)
        .map(|k| {
            let (x, y) = (xs[k % n], xs[k / n]);
            0.01 + x * x + 0.5 * y * y
        })
        .collect();
    let path: Vec<(f64, f64)> = (0..5)
        .map(|i| {
            let s = 1.0 - i as f64 / 4.0;
            (1.5 * s, -1.2 * s * s)
        })
        .collect();
    let loss: Vec<f64> = path
        .iter()
        .map(|p| 0.01 + p.0 * p.0 + 0.5 * p.1 * p.1)
        .collect();
    PathAnimation {
        title: "test path".into(),
        surface: SurfaceGrid {
            xs: xs.clone(),
            ys: xs,
            values,
            title: "train loss".into(),
            value_label: "loss".into(),
        },
        style: ContourStyle {
            vmin: 0.01,
            vmax: 10.0,
            vlevel: 0.25,
            log: true,
        },
        path,
        path_label: "training path".into(),
        steps: vec![0.0, 100.0, 200.0, 300.0, 400.0],
        losses: vec![Series1d {
            label: "train loss".into(),
            values: loss,
        }],
        accuracies: vec![],
        log_loss: true,
        markers: vec![Marker {
            x: 0.0,
            y: 0.0,
            label: "final".into(),
        }],
        heads: (0..=12).map(|k| k as f64 / 3.0).collect(),
    }
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

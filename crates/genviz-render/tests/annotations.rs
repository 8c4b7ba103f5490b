//! Rings and captions on decision-boundary figures (Fig 8's near points).

use genviz_render::{
    draw_decision_boundaries, draw_decision_boundaries_annotated, BoundaryAnnotations,
    BoundaryPanel, PlotPoint, RingedPoints,
};

/// A panel over [-1, 1]^2, all class 0, with two correct class-1 points.
fn panel() -> BoundaryPanel {
    let n = 20;
    BoundaryPanel {
        title: "two points".into(),
        x_range: (-1.0, 1.0),
        y_range: (-1.0, 1.0),
        resolution: (n, n),
        grid_classes: vec![0; n * n],
        num_classes: 2,
        points: vec![
            PlotPoint {
                x: -0.5,
                y: 0.0,
                label: 1,
                correct: true,
            },
            PlotPoint {
                x: 0.5,
                y: 0.0,
                label: 1,
                correct: true,
            },
        ],
    }
}

fn dark(p: &image::Rgb<u8>) -> bool {
    p.0.iter().all(|&c| c < 60)
}

#[test]
fn ring_circles_only_the_named_point_and_caption_adds_lines() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.png");
    let ringed = dir.path().join("ringed.png");
    draw_decision_boundaries(&plain, &[panel()]).unwrap();
    let notes = BoundaryAnnotations {
        rings: Some(RingedPoints {
            label: "near points".into(),
            indices: vec![vec![1]],
        }),
        caption: vec!["line one".into(), "line two".into()],
    };
    draw_decision_boundaries_annotated(&ringed, &[panel()], &notes).unwrap();
    let a = image::open(&plain).unwrap().to_rgb8();
    let b = image::open(&ringed).unwrap().to_rgb8();
    assert_eq!(a.width(), b.width());
    assert_eq!(b.height(), a.height() + 2 * 22 + 10, "two caption lines");

    // Dark pixels that the ring added, within the plot (above the legend strip): they lie
    // around the right-hand point (x = 0.5), none around the left one.
    let plot_bottom = a.height() - 46;
    let (mut left, mut right) = (0, 0);
    for y in 0..plot_bottom {
        for x in 0..a.width() {
            if dark(b.get_pixel(x, y)) && !dark(a.get_pixel(x, y)) {
                if x < a.width() / 2 {
                    left += 1;
                } else {
                    right += 1;
                }
            }
        }
    }
    assert!(right > 30, "ring pixels near the ringed point: {right}");
    assert_eq!(left, 0, "nothing added around the other point");
    // The caption strip has text.
    let caption_dark = (a.height()..b.height())
        .flat_map(|y| (0..b.width()).map(move |x| (x, y)))
        .filter(|&(x, y)| dark(b.get_pixel(x, y)))
        .count();
    assert!(caption_dark > 50, "{caption_dark}");
}

#[test]
fn rings_must_match_the_panels() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.png");
    let out_of_range = BoundaryAnnotations {
        rings: Some(RingedPoints {
            label: "near".into(),
            indices: vec![vec![2]],
        }),
        caption: vec![],
    };
    let err = draw_decision_boundaries_annotated(&path, &[panel()], &out_of_range)
        .unwrap_err()
        .to_string();
    assert!(err.contains("index 2 is out of range"), "{err}");
    let wrong_count = BoundaryAnnotations {
        rings: Some(RingedPoints {
            label: "near".into(),
            indices: vec![vec![0], vec![1]],
        }),
        caption: vec![],
    };
    let err = draw_decision_boundaries_annotated(&path, &[panel()], &wrong_count)
        .unwrap_err()
        .to_string();
    assert!(err.contains("2 index lists for 1 panels"), "{err}");
    assert!(!path.exists());
}

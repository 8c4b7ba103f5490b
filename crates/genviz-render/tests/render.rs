//! End-to-end checks: files appear, decode as PNGs of the promised size, show the right colours
//! in the right places, and bad inputs or paths fail cleanly without leaving files behind.

use std::path::Path;

mod support {
    pub mod files;
}
use support::files::{assert_no_files, files_in, rgb};

use genviz_core::Error;
use genviz_render::{
    draw_decision_boundaries, draw_training_curves, register_fonts, BoundaryPanel, Curve, PlotPoint,
};

/// A panel over [-18, 18]^2 whose top half (y > 0) is class 1 and bottom half class 0.
fn halves_panel(points: Vec<PlotPoint>) -> BoundaryPanel {
    let (nx, ny) = (40, 30);
    let grid_classes = (0..ny)
        .flat_map(|iy| (0..nx).map(move |_| u32::from(iy >= ny / 2)))
        .collect();
    BoundaryPanel {
        title: "halves: train 100.0%, test 100.0%".into(),
        x_range: (-18.0, 18.0),
        y_range: (-18.0, 18.0),
        resolution: (nx, ny),
        grid_classes,
        num_classes: 2,
        points,
    }
}

#[test]
fn boundaries_png_has_panel_size_and_regions_the_right_way_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("boundaries.png");
    let panels = [halves_panel(vec![]), halves_panel(vec![])];
    draw_decision_boundaries(&path, &panels).unwrap();
    assert_eq!(files_in(dir.path()), ["boundaries.png"]);

    let img = image::open(&path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (1200, 646));
    // Class 1 (pale red) at the top of each plot area, class 0 (pale blue) at the bottom.
    for x0 in [0, 600] {
        let top = rgb(&img, x0 + 330, 130);
        let bottom = rgb(&img, x0 + 330, 470);
        assert!(
            top[0] > top[2] + 30,
            "top of panel should be reddish, got {top:?}"
        );
        assert!(
            bottom[2] > bottom[0] + 30,
            "bottom should be bluish, got {bottom:?}"
        );
    }
    // The picture has text and axes: plenty of dark pixels outside the plot areas.
    let dark = img.pixels().filter(|p| p.0.iter().all(|&c| c < 80)).count();
    assert!(dark > 1000, "only {dark} dark pixels");
}

#[test]
fn points_are_drawn_in_class_colours_over_the_regions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("points.png");
    // One correct class-0 point on the class-1 (top) region, dead centre of the top half.
    let blank = halves_panel(vec![]);
    let with_point = halves_panel(vec![PlotPoint {
        x: 0.0,
        y: 9.0,
        label: 0,
        correct: true,
    }]);
    draw_decision_boundaries(&path, &[blank, with_point]).unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    // Find where the two panels differ: that is the point, and it must be strong blue.
    let mut blue = 0;
    for y in 0..600 {
        for x in 0..600 {
            let a = rgb(&img, x, y);
            let b = rgb(&img, x + 600, y);
            if a != b && b[2] > 120 && b[0] < 80 {
                blue += 1;
            }
        }
    }
    assert!(blue >= 20, "expected a blue dot, found {blue} blue pixels");
}

/// The line colours of the first two curve labels of a training-curves figure (matplotlib's
/// "tab10": blue, then red).
const FIRST_LABEL: [u8; 3] = [31, 119, 180];
const SECOND_LABEL: [u8; 3] = [214, 39, 40];

/// The training-curves figure: a title strip this high over two panels this wide, loss on the
/// left and accuracy on the right.
const CURVES_TITLE_H: u32 = 44;
const CURVES_PANEL_W: u32 = 640;

/// The pixels of `colour` in panel `panel` (0: loss, 1: accuracy) of a training-curves figure,
/// as `(x, y)` within the panel.
fn pixels_of(img: &image::RgbImage, panel: u32, colour: [u8; 3]) -> Vec<(u32, u32)> {
    let mut found = Vec::new();
    for y in CURVES_TITLE_H..img.height() {
        for x in 0..CURVES_PANEL_W {
            let p = rgb(img, panel * CURVES_PANEL_W + x, y);
            if p.iter().zip(colour).all(|(&a, b)| a.abs_diff(b) <= 12) {
                found.push((x, y - CURVES_TITLE_H));
            }
        }
    }
    found
}

/// The median row of the leftmost and of the rightmost fifth of `pixels` (by column): where a
/// drawn line starts and ends, in image rows (which grow downwards).
fn line_ends(pixels: &[(u32, u32)]) -> (u32, u32) {
    let (lo, hi) = pixels
        .iter()
        .fold((u32::MAX, 0), |(lo, hi), &(x, _)| (lo.min(x), hi.max(x)));
    let fifth = (hi - lo) / 5;
    let median_row = |keep: &dyn Fn(u32) -> bool| {
        let mut rows: Vec<u32> = pixels.iter().filter(|p| keep(p.0)).map(|p| p.1).collect();
        rows.sort_unstable();
        rows[rows.len() / 2]
    };
    (
        median_row(&|x| x <= lo + fifth),
        median_row(&|x| x >= hi - fifth),
    )
}

/// A curve labelled `label` with `value(step)` at every 10th step up to 490.
fn curve(label: &str, value: impl Fn(f64) -> f64) -> Curve {
    let steps: Vec<f64> = (0..50).map(|i| i as f64 * 10.0).collect();
    Curve {
        label: label.into(),
        values: steps.iter().map(|&s| value(s)).collect(),
        steps,
    }
}

#[test]
fn training_curves_draw_falling_losses_and_rising_accuracies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("curves.png");
    let decay = |s: f64| (-s / 100.0).exp();
    draw_training_curves(
        &path,
        "run",
        &[
            curve("train", decay),
            curve("test", |s| 1.5 * decay(s) + 0.05),
        ],
        &[
            curve("train", |s| 1.0 - 0.5 * decay(s)),
            curve("test", |s| 0.9 - 0.4 * decay(s)),
        ],
    )
    .unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (1280, 504));
    assert_eq!(files_in(dir.path()), ["curves.png"]);
    // Each label keeps its colour in both panels. Every curve is drawn across its panel: losses
    // fall from the upper left to the lower right, accuracies rise from the lower left to the
    // upper right.
    for colour in [FIRST_LABEL, SECOND_LABEL] {
        let loss = pixels_of(&img, 0, colour);
        assert!(loss.len() > 300, "{} loss pixels of {colour:?}", loss.len());
        let (start, end) = line_ends(&loss);
        assert!(
            start + 150 < end,
            "the loss curve of {colour:?} should fall: rows {start} -> {end}"
        );
        let accuracy = pixels_of(&img, 1, colour);
        assert!(
            accuracy.len() > 300,
            "{} accuracy pixels of {colour:?}",
            accuracy.len()
        );
        let (start, end) = line_ends(&accuracy);
        assert!(
            start > end + 100,
            "the accuracy curve of {colour:?} should rise: rows {start} -> {end}"
        );
    }
}

/// Pixels of the grey "no data" note near the centre of panel `panel` of a training-curves
/// figure.
fn no_data_note(img: &image::RgbImage, panel: u32) -> usize {
    let (cx, cy) = (panel * CURVES_PANEL_W + 350, CURVES_TITLE_H + 200);
    (cx - 60..cx + 60)
        .flat_map(|x| (cy - 30..cy + 30).map(move |y| (x, y)))
        .filter(|&(x, y)| {
            let p = rgb(img, x, y);
            p.iter().all(|&c| (100..=160).contains(&c)) && p[0] == p[1] && p[1] == p[2]
        })
        .count()
}

#[test]
fn curves_skip_unshowable_values_and_allow_empty_panels() {
    let dir = tempfile::tempdir().unwrap();
    // Only (4, 0.25) can be shown on a log loss axis: the others have a step or a value that is
    // not finite, or a value that is not positive.
    let odd = dir.path().join("odd.png");
    let curve = Curve {
        label: "train".into(),
        steps: vec![0.0, 1.0, f64::NAN, 3.0, 4.0],
        values: vec![0.0, f64::INFINITY, 0.5, -1.0, 0.25],
    };
    draw_training_curves(&odd, "odd values", &[curve], &[]).unwrap();
    let img = image::open(&odd).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (1280, 504));
    // The one point is a dot in the middle of the step axis (3 to 5), with no line to it; the
    // legend repeats the colour in its corner.
    let loss = pixels_of(&img, 0, FIRST_LABEL);
    let dot = loss
        .iter()
        .filter(|&&(x, _)| (330..380).contains(&x))
        .count();
    assert!(dot >= 20, "{dot} pixels of the dot in {loss:?}");
    assert!(loss.len() < 150, "{} pixels: a line was drawn", loss.len());
    assert!(pixels_of(&img, 1, FIRST_LABEL).is_empty());
    assert!(no_data_note(&img, 0) == 0 && no_data_note(&img, 1) > 20);

    let empty = dir.path().join("empty.png");
    draw_training_curves(&empty, "nothing at all", &[], &[]).unwrap();
    let img = image::open(&empty).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (1280, 504));
    for panel in [0, 1] {
        assert!(pixels_of(&img, panel, FIRST_LABEL).is_empty());
        assert!(no_data_note(&img, panel) > 20, "panel {panel}");
    }
    // Nothing coloured at all: text, axes and grid are black, white and grey.
    let coloured = img
        .pixels()
        .filter(|p| p.0.iter().max().unwrap() - p.0.iter().min().unwrap() > 20)
        .count();
    assert_eq!(coloured, 0);
    assert_eq!(files_in(dir.path()), ["empty.png", "odd.png"]);
}

#[test]
fn mismatched_grid_length_is_rejected_before_drawing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.png");
    let mut panel = halves_panel(vec![]);
    panel.grid_classes.pop();
    let err = draw_decision_boundaries(&path, &[panel]).unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("grid_classes has 1199 entries"), "{msg}");
    assert!(msg.contains("40x30 needs 1200"), "{msg}");
    assert_no_files(dir.path());
}

#[test]
fn other_bad_panels_are_rejected_with_clear_messages() {
    let path = Path::new("/tmp/never-written-by-genviz-render-tests.png");
    let check = |panels: &[BoundaryPanel], needle: &str| {
        let msg = draw_decision_boundaries(path, panels)
            .unwrap_err()
            .to_string();
        assert!(msg.contains(needle), "{msg:?} should mention {needle:?}");
        assert!(msg.contains(&path.display().to_string()), "{msg}");
    };
    check(&[], "no decision-boundary panels");
    let mut p = halves_panel(vec![]);
    p.x_range = (1.0, 1.0);
    check(&[p], "x_range");
    let mut p = halves_panel(vec![]);
    p.grid_classes[7] = 2;
    check(&[p], "grid_classes[7] = 2");
    let p = halves_panel(vec![PlotPoint {
        x: 0.0,
        y: f32::NAN,
        label: 0,
        correct: true,
    }]);
    check(&[p], "non-finite");
    let p = halves_panel(vec![PlotPoint {
        x: 0.0,
        y: 0.0,
        label: 5,
        correct: false,
    }]);
    check(&[p], "label 5");
    let mut p = halves_panel(vec![]);
    p.resolution = (0, 30);
    check(&[p], "resolution");
    assert!(!path.exists());
}

#[test]
fn mismatched_curve_lengths_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.png");
    let c = Curve {
        label: "test".into(),
        steps: vec![1.0, 2.0],
        values: vec![0.5],
    };
    let msg = draw_training_curves(&path, "t", &[], &[c])
        .unwrap_err()
        .to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("\"test\" has 2 steps but 1 values"), "{msg}");
    assert_no_files(dir.path());
}

#[test]
fn missing_folder_gives_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-folder").join("fig.png");
    let err = draw_decision_boundaries(&path, &[halves_panel(vec![])]).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    assert_no_files(dir.path());
}

#[test]
fn failed_rename_removes_the_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    // The target is an existing, non-empty folder: the PNG gets written, the rename fails.
    let path = dir.path().join("fig.png");
    std::fs::create_dir(&path).unwrap();
    std::fs::write(path.join("keep"), b"x").unwrap();
    let err = draw_training_curves(&path, "t", &[], &[]).unwrap_err();
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    assert_eq!(files_in(dir.path()), ["fig.png"]);
}

#[test]
fn existing_file_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fig.png");
    std::fs::write(&path, b"not a png").unwrap();
    register_fonts();
    register_fonts();
    draw_decision_boundaries(&path, &[halves_panel(vec![])]).unwrap();
    assert_eq!(
        image::open(&path).unwrap().to_rgb8().dimensions(),
        (600, 646)
    );
    assert_eq!(files_in(dir.path()), ["fig.png"]);
}

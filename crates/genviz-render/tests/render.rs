//! End-to-end checks: files appear, decode as PNGs of the promised size, show the right colours
//! in the right places, and bad inputs or paths fail cleanly without leaving files behind.

use std::path::Path;

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

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn rgb(img: &image::RgbImage, x: u32, y: u32) -> [u8; 3] {
    img.get_pixel(x, y).0
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

#[test]
fn training_curves_png_has_expected_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("curves.png");
    let steps: Vec<f64> = (0..50).map(|i| i as f64 * 10.0).collect();
    let loss: Vec<f64> = steps.iter().map(|s| (-s / 100.0).exp()).collect();
    let acc: Vec<f64> = steps
        .iter()
        .map(|s| 1.0 - 0.5 * (-s / 100.0).exp())
        .collect();
    draw_training_curves(
        &path,
        "run",
        &[Curve {
            label: "train".into(),
            steps: steps.clone(),
            values: loss,
        }],
        &[Curve {
            label: "train".into(),
            steps,
            values: acc,
        }],
    )
    .unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (1280, 504));
    assert_eq!(files_in(dir.path()), ["curves.png"]);
}

#[test]
fn curves_skip_unshowable_values_and_allow_empty_panels() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd.png");
    let curve = Curve {
        label: "train".into(),
        steps: vec![0.0, 1.0, f64::NAN, 3.0, 4.0],
        values: vec![0.0, f64::INFINITY, 0.5, -1.0, 0.25],
    };
    draw_training_curves(&path, "odd values", &[curve], &[]).unwrap();
    draw_training_curves(&path, "nothing at all", &[], &[]).unwrap();
    assert_eq!(
        image::open(&path).unwrap().to_rgb8().dimensions(),
        (1280, 504)
    );
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
    assert!(files_in(dir.path()).is_empty());
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
    assert!(files_in(dir.path()).is_empty());
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
    assert!(files_in(dir.path()).is_empty());
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

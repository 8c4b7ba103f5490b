//! Loss-landscape figures: sizes, colours where the surface says they should be, clean
//! failures for bad input, and no panics on unfilled (NaN) grids.

mod support {
    pub mod files;
    pub mod surfaces;
}
use support::files::{assert_invalid, assert_no_files, files_in, rgb};
use support::surfaces::{fine, good, linspace, surface};

use genviz_render::{
    draw_contour, draw_curve_1d, draw_heatmap, draw_surface_3d, ContourStyle, Marker, PathOverlay,
    Series1d, SurfaceGrid,
};

/// The bowl [`good`] on an `n` x `n` grid over [-1, 1]^2.
fn bowl(n: usize) -> SurfaceGrid {
    surface("bowl", n, good)
}

/// Neither white nor grey: a pixel of some colour map.
fn colourful(p: [u8; 3]) -> bool {
    let (lo, hi) = (*p.iter().min().unwrap(), *p.iter().max().unwrap());
    hi - lo > 40
}

#[test]
fn default_style_is_li_et_al() {
    let s = ContourStyle::default();
    assert_eq!((s.vmin, s.vmax, s.vlevel, s.log), (0.1, 10.0, 0.5, false));
}

#[test]
fn contour_png_has_panel_size_and_lines_near_the_centre() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("contour.png");
    draw_contour(&path, &[(bowl(51), fine(), vec![], vec![])]).unwrap();
    assert_eq!(files_in(dir.path()), ["contour.png"]);
    let img = image::open(&path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (620, 580));
    // The plot area's centre is about (293, 284); the 0.1 and 0.2 levels are circles of
    // radius ~0.32 and ~0.55 (70 and 120 pixels) around it.
    let mut coloured = 0;
    for y in 284 - 130..284 + 130 {
        for x in 293 - 130..293 + 130 {
            coloured += usize::from(colourful(rgb(&img, x, y)));
        }
    }
    assert!(
        coloured > 500,
        "only {coloured} line pixels near the centre"
    );
    // ... but the very centre, inside the lowest level, is blank.
    assert_eq!(rgb(&img, 293, 284), [255, 255, 255]);

    let two = dir.path().join("two.png");
    let overlay = PathOverlay {
        points: vec![(0.8, 0.8), (0.4, 0.3), (0.0, 0.0)],
        label: "trajectory".into(),
    };
    let marker = Marker {
        x: 0.0,
        y: 0.0,
        label: "minimum".into(),
    };
    draw_contour(
        &two,
        &[
            (bowl(51), fine(), vec![overlay], vec![marker]),
            (bowl(21), ContourStyle::default(), vec![], vec![]),
        ],
    )
    .unwrap();
    let img = image::open(&two).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (1240, 580));
    // The trajectory is red; the summer contour colours have little red and much green.
    let red = img
        .pixels()
        .filter(|p| p.0[0] > 150 && p.0[1] < 80 && p.0[2] < 80)
        .count();
    assert!(red > 50, "only {red} red trajectory pixels");
}

#[test]
fn heatmap_is_dark_at_the_minimum_and_bright_at_the_corners() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("heat.png");
    let log = ContourStyle {
        vmin: 0.05,
        vmax: 1.0,
        vlevel: 0.5,
        log: true,
    };
    draw_heatmap(&path, &[(bowl(51), fine()), (bowl(51), log)]).unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (1240, 580));
    for x0 in [0, 620] {
        let centre = rgb(&img, x0 + 293, 284);
        let corner = rgb(&img, x0 + 80, 60);
        let lum = |p: [u8; 3]| p.iter().map(|&c| c as u32).sum::<u32>();
        assert!(
            lum(corner) > lum(centre) + 150,
            "corner {corner:?} should be much brighter than centre {centre:?}"
        );
        // Viridis' low end is dark purple: blue above green.
        assert!(centre[2] > centre[1], "{centre:?}");
    }
}

#[test]
fn surface_3d_colours_the_bowl_by_height() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("surface.png");
    draw_surface_3d(&path, &[(bowl(51), 10.0)]).unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (640, 580));
    // The bottom of the bowl projects just above the bottom centre of the view; the far rim
    // corner to the top centre (x = 272, where the box's back edge runs: look beside it).
    let bottom = rgb(&img, 272, 415);
    let rim = rgb(&img, 262, 120);
    assert!(
        bottom[2] as i32 > bottom[0] as i32 + 40,
        "bottom of the bowl should be blue (coolwarm low), got {bottom:?}"
    );
    assert!(
        rim[0] as i32 > rim[2] as i32 + 40,
        "rim should be red (coolwarm high), got {rim:?}"
    );
    // Shading, not a flat fill: many distinct colours.
    let mut distinct: Vec<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    distinct.sort();
    distinct.dedup();
    assert!(distinct.len() > 2000, "only {} colours", distinct.len());
}

#[test]
fn nan_values_leave_gaps_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let mut holey = bowl(31);
    for (k, v) in holey.values.iter_mut().enumerate() {
        if k % 7 == 0 || k > 31 * 20 {
            *v = f64::NAN;
        }
    }
    let mut empty = bowl(5);
    empty.values.iter_mut().for_each(|v| *v = f64::NAN);
    let mut inf = bowl(9);
    inf.values[40] = f64::INFINITY;
    inf.values[41] = f64::NEG_INFINITY;
    let panels = [holey, empty, inf];
    draw_contour(
        &dir.path().join("c.png"),
        &panels
            .iter()
            .map(|g| (g.clone(), fine(), vec![], vec![]))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    draw_heatmap(
        &dir.path().join("h.png"),
        &panels
            .iter()
            .map(|g| (g.clone(), fine()))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    draw_surface_3d(
        &dir.path().join("s.png"),
        &panels.iter().map(|g| (g.clone(), 10.0)).collect::<Vec<_>>(),
    )
    .unwrap();
    assert_eq!(files_in(dir.path()), ["c.png", "h.png", "s.png"]);
}

#[test]
fn bad_grids_and_styles_are_rejected_before_drawing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.png");
    let mut short = bowl(11);
    short.values.pop();
    assert_invalid(
        draw_contour(&path, &[(short.clone(), fine(), vec![], vec![])]),
        &path,
        "values has 120 entries",
    );
    assert_invalid(
        draw_heatmap(&path, &[(short.clone(), fine())]),
        &path,
        "values",
    );
    assert_invalid(draw_surface_3d(&path, &[(short, 10.0)]), &path, "values");
    assert_invalid(draw_contour(&path, &[]), &path, "no contour panels");
    assert_invalid(draw_heatmap(&path, &[]), &path, "no heat-map panels");
    assert_invalid(draw_surface_3d(&path, &[]), &path, "no surface panels");

    let mut unsorted = bowl(11);
    unsorted.xs.swap(3, 4);
    assert_invalid(
        draw_heatmap(&path, &[(unsorted, fine())]),
        &path,
        "strictly increasing",
    );
    let mut nan_axis = bowl(11);
    nan_axis.ys[2] = f64::NAN;
    assert_invalid(draw_surface_3d(&path, &[(nan_axis, 10.0)]), &path, "ys[2]");
    assert_invalid(
        draw_surface_3d(&path, &[(bowl(11), f64::NAN)]),
        &path,
        "zmax",
    );
    let styles = [
        (
            ContourStyle {
                vmin: 2.0,
                ..fine()
            },
            "vmin < vmax",
        ),
        (
            ContourStyle {
                vlevel: 0.0,
                ..fine()
            },
            "vlevel",
        ),
        (
            ContourStyle {
                vlevel: 1e-9,
                ..fine()
            },
            "more than 1000",
        ),
        (
            ContourStyle {
                vmin: 0.0,
                log: true,
                ..fine()
            },
            "vmin > 0",
        ),
    ];
    for (style, needle) in styles {
        assert_invalid(
            draw_contour(&path, &[(bowl(11), style, vec![], vec![])]),
            &path,
            needle,
        );
    }
    let bad_overlay = PathOverlay {
        points: vec![(0.0, f64::NAN)],
        label: "t".into(),
    };
    assert_invalid(
        draw_contour(&path, &[(bowl(11), fine(), vec![bad_overlay], vec![])]),
        &path,
        "overlay 0",
    );
    let bad_marker = Marker {
        x: f64::INFINITY,
        y: 0.0,
        label: "m".into(),
    };
    assert_invalid(
        draw_contour(&path, &[(bowl(11), fine(), vec![], vec![bad_marker])]),
        &path,
        "marker 0",
    );
    assert_no_files(dir.path());
}

#[test]
fn curve_1d_draws_twin_axes_and_checks_lengths() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("curve.png");
    let xs = linspace(-1.0, 1.0, 41);
    let loss: Vec<f64> = xs.iter().map(|a| 0.05 + a * a).collect();
    let mut acc: Vec<f64> = loss.iter().map(|l| (-l).exp()).collect();
    acc[5] = f64::NAN;
    let series = |label: &str, values: &[f64]| Series1d {
        label: label.into(),
        values: values.to_vec(),
    };
    for log in [true, false] {
        draw_curve_1d(
            &path,
            "1-D",
            &xs,
            &[series("train loss", &loss), series("test loss", &loss)],
            &[series("train accuracy", &acc)],
            log,
        )
        .unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (860, 560));
        let blue = img.pixels().filter(|p| p.0[2] > 150 && p.0[0] < 90).count();
        let red = img.pixels().filter(|p| p.0[0] > 170 && p.0[2] < 90).count();
        assert!(blue > 300 && red > 300, "blue {blue}, red {red}");
    }
    // Accuracy only is fine too.
    draw_curve_1d(&path, "acc", &xs, &[], &[series("a", &acc)], true).unwrap();

    let bad = dir.path().join("bad.png");
    assert_invalid(
        draw_curve_1d(
            &bad,
            "t",
            &xs,
            &[series("train loss", &loss[1..])],
            &[],
            false,
        ),
        &bad,
        "\"train loss\" has 40 values",
    );
    assert_invalid(
        draw_curve_1d(&bad, "t", &xs, &[], &[], false),
        &bad,
        "no loss",
    );
    assert_invalid(
        draw_curve_1d(
            &bad,
            "t",
            &[1.0, 0.0],
            &[series("l", &[1.0, 2.0])],
            &[],
            false,
        ),
        &bad,
        "strictly increasing",
    );
    assert_eq!(files_in(dir.path()), ["curve.png"]);
}

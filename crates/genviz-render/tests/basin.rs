//! Basin figures: sizes, both group colours in the histogram, and clean failures (naming the
//! file, leaving nothing behind) for bad input.

mod support {
    pub mod files;
    pub mod surfaces;
}
use support::files::{assert_invalid, assert_no_files, files_in};
use support::surfaces::{radius_groups, volume_bars};

use genviz_render::{
    draw_radius_histograms, draw_spectral_density, draw_volume_bars, RadiusGroup, VolumeBar,
};

/// `n` radii spread evenly (in log space) by a factor of 2 around `centre`.
fn spread(centre: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| centre * 2f64.powf(i as f64 / (n - 1) as f64 - 0.5))
        .collect()
}

fn groups() -> Vec<RadiusGroup> {
    radius_groups([("clean", spread(0.3, 200)), ("poisoned", spread(0.01, 200))])
}

fn grid() -> Vec<f64> {
    (0..200).map(|i| -5.0 + 55.0 * i as f64 / 199.0).collect()
}

fn density(centre: f64) -> Vec<f64> {
    grid()
        .iter()
        .map(|&x| (-0.5 * (x - centre) * (x - centre)).exp())
        .collect()
}

fn bluish(p: [u8; 3]) -> bool {
    p[2] as i32 > p[0] as i32 + 50
}

fn reddish(p: [u8; 3]) -> bool {
    p[0] as i32 > p[2] as i32 + 50
}

#[test]
fn histogram_of_separated_groups_shows_both_colours() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("radii.png");
    draw_radius_histograms(&path, "radii", &groups(), "radius").unwrap();
    assert_eq!(files_in(dir.path()), ["radii.png"]);
    let img = image::open(&path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (860, 600));
    let (mut blue, mut red) = (0, 0);
    for p in img.pixels() {
        blue += bluish(p.0) as usize;
        red += reddish(p.0) as usize;
    }
    // Each histogram covers thousands of pixels (not just its legend patch).
    assert!(blue > 5000, "{blue} blue pixels");
    assert!(red > 5000, "{red} red pixels");
    // Log bins: the poisoned group (radius ~0.01) is on the left, the clean one on the right.
    let column_has = |x0: u32, x1: u32, f: fn([u8; 3]) -> bool| {
        (x0..x1)
            .flat_map(|x| (150..500).map(move |y| (x, y)))
            .filter(|&(x, y)| f(img.get_pixel(x, y).0))
            .count()
    };
    assert!(column_has(100, 430, reddish) > 2000);
    assert!(column_has(100, 430, bluish) < 100);
    assert!(column_has(460, 840, bluish) > 2000);
    assert!(column_has(460, 840, reddish) < 100);
}

#[test]
fn histogram_skips_rays_that_never_crossed_and_allows_close_groups() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("radii.png");
    let mut g = groups();
    g[0].radii = spread(0.3, 100);
    g[1].radii = spread(0.2, 100);
    g[1].radii.extend([f64::INFINITY, f64::NAN, 0.0, -1.0]);
    draw_radius_histograms(&path, "linear bins", &g, "radius").unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (860, 600));
    // A group whose rays all failed to cross is allowed while another group has radii.
    g[1].radii = vec![f64::INFINITY; 5];
    draw_radius_histograms(&path, "one empty", &g, "radius").unwrap();
    assert_eq!(files_in(dir.path()), ["radii.png"]);
}

#[test]
fn volume_bars_png_has_expected_size_and_bar_colours() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("volumes.png");
    draw_volume_bars(&path, "volumes", &volume_bars()).unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (560, 560));
    let blue = img.pixels().filter(|p| bluish(p.0)).count();
    let red = img.pixels().filter(|p| reddish(p.0)).count();
    // The clean bar (larger volume) is much taller than the poisoned one.
    assert!(blue > 4 * red, "blue {blue}, red {red}");
    assert!(red > 1000, "red {red}");

    let many: Vec<VolumeBar> = (0..5)
        .map(|i| VolumeBar {
            label: format!("minimum {i}"),
            log10_volume: -4123.7 + i as f64,
            low: -4130.0 + i as f64,
            high: -4110.0 + i as f64,
        })
        .collect();
    draw_volume_bars(&path, "five", &many).unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (150 + 5 * 190, 560));
}

#[test]
fn spectral_density_png_has_expected_size_linear_and_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("density.png");
    let series = vec![
        ("clean".to_string(), density(0.0)),
        ("poisoned".to_string(), density(40.0)),
    ];
    for log_y in [false, true] {
        draw_spectral_density(&path, "density", &grid(), &series, log_y).unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (860, 560));
        assert!(img.pixels().filter(|p| bluish(p.0)).count() > 200);
        assert!(img.pixels().filter(|p| reddish(p.0)).count() > 200);
    }
    // Zeros, negatives and NaNs are gaps on a log axis, not errors.
    let mut holes = density(10.0);
    holes[3] = 0.0;
    holes[4] = -1.0;
    holes[5] = f64::NAN;
    draw_spectral_density(&path, "holes", &grid(), &[("h".into(), holes)], true).unwrap();
    assert_eq!(files_in(dir.path()), ["density.png"]);
}

#[test]
fn bad_input_is_rejected_before_drawing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.png");

    assert_invalid(
        draw_radius_histograms(&path, "t", &[], "radius"),
        &path,
        "no radius groups",
    );
    let mut g = groups();
    g[1].radii.clear();
    assert_invalid(
        draw_radius_histograms(&path, "t", &g, "radius"),
        &path,
        "(\"poisoned\") has no radii",
    );
    let nothing = [RadiusGroup {
        label: "broken".into(),
        radii: vec![f64::NAN, f64::INFINITY, 0.0],
    }];
    assert_invalid(
        draw_radius_histograms(&path, "t", &nothing, "radius"),
        &path,
        "finite positive radius",
    );

    assert_invalid(draw_volume_bars(&path, "t", &[]), &path, "no volume bars");
    let mut b = volume_bars();
    b[0].low = -1470.0;
    assert_invalid(
        draw_volume_bars(&path, "t", &b),
        &path,
        "low <= log10_volume <= high",
    );
    let mut b = volume_bars();
    (b[1].low, b[1].high) = (-7060.0, -7150.0);
    assert_invalid(draw_volume_bars(&path, "t", &b), &path, "\"poisoned\"");
    let mut b = volume_bars();
    b[0].log10_volume = f64::NAN;
    assert_invalid(draw_volume_bars(&path, "t", &b), &path, "not finite");

    let g = grid();
    assert_invalid(
        draw_spectral_density(&path, "t", &g, &[], false),
        &path,
        "no density series",
    );
    let mut short = density(0.0);
    short.pop();
    assert_invalid(
        draw_spectral_density(&path, "t", &g, &[("short".into(), short)], false),
        &path,
        "has 199 values but the grid has 200",
    );
    let mut unsorted = g.clone();
    unsorted.swap(3, 4);
    assert_invalid(
        draw_spectral_density(&path, "t", &unsorted, &[("d".into(), density(0.0))], false),
        &path,
        "strictly increasing",
    );
    assert_invalid(
        draw_spectral_density(&path, "t", &g, &[("z".into(), vec![0.0; 200])], true),
        &path,
        "no positive finite density",
    );

    assert_no_files(dir.path());
}

#[test]
fn empty_titles_and_labels_and_many_groups_draw() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.png");
    let many: Vec<RadiusGroup> = (0..6)
        .map(|i| RadiusGroup {
            label: if i == 0 {
                String::new()
            } else {
                format!("a rather long label for minimum number {i}")
            },
            radii: spread(0.1 * (i + 1) as f64, 50),
        })
        .collect();
    draw_radius_histograms(&path, "", &many, "").unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (860, 600));
    // Every radius the same: a narrow range of linear bins.
    let same = [RadiusGroup {
        label: "same".into(),
        radii: vec![0.5; 10],
    }];
    draw_radius_histograms(&path, "same", &same, "radius").unwrap();
    let one = [VolumeBar {
        label: String::new(),
        log10_volume: 2.0,
        low: 2.0,
        high: 2.0,
    }];
    draw_volume_bars(&path, "", &one).unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (560, 560));
    let flat = vec![1.0; 200];
    draw_spectral_density(&path, "", &grid(), &[(String::new(), flat.clone())], true).unwrap();
    draw_spectral_density(&path, "", &grid(), &[(String::new(), flat)], false).unwrap();
    assert_eq!(files_in(dir.path()), ["many.png"]);
}

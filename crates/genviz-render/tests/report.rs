//! The HTML report, end to end: written from a real (small) loss surface and a real figure,
//! then opened in headless Chromium, which must load it with no errors, draw the 3-D surface
//! with WebGL, and leave a screenshot in `target/report-test/screenshot.png`.
//!
//! Without Chromium the browser test is skipped with a notice, unless `CI` is set: then it
//! fails, so CI cannot pass without having looked at the page.

use std::path::{Path, PathBuf};

mod support {
    pub mod chromium;
    pub mod files;
}
use support::{chromium, files};

use genviz_core::Error;
use genviz_render::{
    draw_heatmap, write_report, ContourStyle, InteractiveSurface, Report, ReportFigure, ReportRow,
    ReportSection, SurfaceGrid,
};

/// Where the test leaves the report and the screenshot for a person to look at.
fn output_dir() -> PathBuf {
    files::output_dir("report-test")
}

/// The loss surface of a real model: logistic regression `p(y=1|x) = sigmoid(w1 x1 + w2 x2)`
/// on 200 deterministic 2-D points with 10% flipped labels, mean cross-entropy over a grid of
/// `(w1, w2)` in `[-6, 6]^2`. Flipped labels keep the minimum finite and off the edge, so the
/// surface is a bowl with a visible valley.
fn logistic_loss_surface(n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let points: Vec<(f64, f64, f64)> = (0..200)
        .map(|i| {
            let t = i as f64;
            // Two interleaved, deterministic "random" coordinates (golden-ratio sequences).
            let x1 = ((t * 0.618_033_988_7).fract() - 0.5) * 4.0;
            let x2 = ((t * 0.754_877_666_2).fract() - 0.5) * 4.0;
            let mut y = if 1.5 * x1 - x2 > 0.0 { 1.0 } else { -1.0 };
            if i % 10 == 3 {
                y = -y;
            }
            (x1, x2, y)
        })
        .collect();
    let axis: Vec<f64> = (0..n)
        .map(|i| -6.0 + 12.0 * i as f64 / (n - 1) as f64)
        .collect();
    let mut z = Vec::with_capacity(n * n);
    for &w2 in &axis {
        for &w1 in &axis {
            let loss = points
                .iter()
                .map(|&(x1, x2, y)| {
                    let margin = y * (w1 * x1 + w2 * x2);
                    // log(1 + exp(-m)), stable for large |m|.
                    (-margin).max(0.0) + (-margin.abs()).exp().ln_1p()
                })
                .sum::<f64>()
                / points.len() as f64;
            z.push(loss);
        }
    }
    (axis.clone(), axis, z)
}

fn sample_report(dir: &Path) -> Report {
    let (xs, ys, loss) = logistic_loss_surface(41);
    let mut log_loss: Vec<f64> = loss.iter().map(|v| v.log10()).collect();
    // An 8x8 block "not computed yet", as in a partly filled surface file, at the corner
    // (w1, w2) = (6, -6) nearest the viewer: a gap, not zeros.
    let n = xs.len();
    for iy in 0..8 {
        for ix in n - 8..n {
            log_loss[iy * n + ix] = f64::NAN;
        }
    }
    let grid = SurfaceGrid {
        xs: xs.clone(),
        ys: ys.clone(),
        values: loss.clone(),
        title: "logistic regression: train loss".into(),
        value_label: "train loss".into(),
    };
    let style = ContourStyle {
        vmin: 0.2,
        vmax: 6.0,
        vlevel: 0.5,
        log: true,
    };
    draw_heatmap(&dir.join("heatmap.png"), &[(grid, style)]).unwrap();
    let (argmin, min) =
        loss.iter().copied().enumerate().fold(
            (0, f64::INFINITY),
            |a, (i, v)| if v < a.1 { (i, v) } else { a },
        );
    let centre = format!(
        "The lowest loss on the grid, {min:.3}, is at w = ({:.1}, {:.1}).",
        xs[argmin % xs.len()],
        ys[argmin / xs.len()]
    );

    Report {
        title: "genviz report test <script>alert('x')</script>".into(),
        intro: "A small report written by the genviz-render test suite.\n\n\
                The surface is the cross-entropy of a logistic regression on 200 points with \
                10% flipped labels, over its two weights."
            .into(),
        command: "genviz paper --out runs/paper --config paper.toml".into(),
        config: "[data]\nseed = 7\nname = \"a & b < c\"\n".into(),
        config_name: "paper.toml".into(),
        sections: vec![ReportSection {
            heading: "Loss landscape".into(),
            text: centre,
            figures: vec![ReportFigure {
                file: "heatmap.png".into(),
                caption: "Train loss over (w1, w2): a single valley; dark is low loss.".into(),
            }],
        }],
        results: vec![
            ReportRow {
                figure: "Fig. T".into(),
                quantity: "minimum train loss <b>".into(),
                measured: min,
                reference: Some(0.3),
                source: "this test".into(),
                criterion: "<= 0.6".into(),
                pass: min <= 0.6,
            },
            ReportRow {
                figure: "Fig. T".into(),
                quantity: "a check that fails on purpose".into(),
                measured: -4123.7,
                reference: None,
                source: String::new(),
                criterion: ">= 0".into(),
                pass: false,
            },
        ],
        surfaces: vec![InteractiveSurface {
            title: "log10 train loss of a logistic regression".into(),
            caption: "One valley, blue at the bottom; the points not computed show as a notch cut out of \
                      the front corner.".into(),
            xs,
            ys,
            z: log_loss,
            x_label: "w1".into(),
            y_label: "w2".into(),
            z_label: "log10 loss".into(),
            z_range: None,
        }],
    }
}

#[test]
fn report_is_one_escaped_self_contained_page() {
    let dir = tempfile::tempdir().unwrap();
    let report = sample_report(dir.path());
    let path = dir.path().join("report.html");
    write_report(&path, &report).unwrap();
    let html = std::fs::read_to_string(&path).unwrap();

    // Escaped text, never raw markup from the data.
    assert!(html.contains("genviz report test &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(!html.contains("<script>alert"));
    assert!(html.contains("minimum train loss &lt;b&gt;"));
    assert!(html.contains("name = &quot;a &amp; b &lt; c&quot;"));
    // The figure is embedded, byte for byte.
    let png = std::fs::read(dir.path().join("heatmap.png")).unwrap();
    let marker = "src=\"data:image/png;base64,";
    let at = html.find(marker).unwrap() + marker.len();
    let encoded = &html[at..at + html[at..].find('"').unwrap()];
    assert_eq!(encoded.len(), png.len().div_ceil(3) * 4);
    // Nothing is fetched: no src or href points anywhere but into the page. (Inside the
    // plotly bundle there are links, e.g. in its "get WebGL" notice; the page's CSP forbids
    // loading anything, which the browser test checks.)
    let bundle_start = html
        .find("* plotly.js (gl3d")
        .expect("plotly.js is inlined");
    let bundle_end = bundle_start + html[bundle_start..].find("</script>").unwrap();
    let page = format!("{}{}", &html[..bundle_start], &html[bundle_end..]);
    for attr in [
        "src=\"http",
        "href=\"http",
        "src=\"//",
        "<link",
        "@import",
        "url(",
    ] {
        assert!(
            !page.contains(attr),
            "the page refers outside itself: {attr}"
        );
    }
    // The table shows the outcome of each row and the summary.
    assert!(html.contains("1 of 2 checks pass."));
    assert!(html.contains("<span class=\"badge fail\">FAIL</span>"));
    assert!(html.contains("-4123.7"));
    // The licence travels with the bundle.
    assert!(html.contains("Permission is hereby granted"));

    // Same input, same bytes.
    let again = dir.path().join("again.html");
    write_report(&again, &report).unwrap();
    assert_eq!(std::fs::read(&again).unwrap(), html.as_bytes());

    // Without surfaces, plotly.js is left out.
    let small = Report {
        surfaces: vec![],
        ..report.clone()
    };
    write_report(&dir.path().join("small.html"), &small).unwrap();
    let small_len = std::fs::metadata(dir.path().join("small.html"))
        .unwrap()
        .len();
    assert!(small_len + 1_000_000 < html.len() as u64);
}

#[test]
fn bad_inputs_fail_with_the_file_named_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    let good = sample_report(dir.path());

    // The good report with one section showing only `file`.
    let showing = |file: &str| Report {
        sections: vec![ReportSection {
            heading: "h".into(),
            figures: vec![ReportFigure {
                file: file.into(),
                caption: "c".into(),
            }],
            ..Default::default()
        }],
        ..good.clone()
    };
    let err = write_report(&path, &showing("nope.png")).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert!(err.to_string().contains("nope.png"), "{err}");
    assert!(err.to_string().contains("report.html"), "{err}");

    std::fs::write(dir.path().join("fake.png"), b"GIF89a not a png").unwrap();
    let err = write_report(&path, &showing("fake.png")).unwrap_err();
    assert!(matches!(err, Error::BadFile { .. }), "{err}");
    assert!(err.to_string().contains("fake.png"), "{err}");

    let err = write_report(&path, &showing("heatmap.bmp")).unwrap_err();
    assert!(err.to_string().contains("expected png, gif"), "{err}");

    let mut bad_surface = good.clone();
    bad_surface.surfaces[0].z.pop();
    let err = write_report(&path, &bad_surface).unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
    assert!(err.to_string().contains("expected 41 x 41 = 1681"), "{err}");

    let mut bad_axis = good;
    bad_axis.surfaces[0].xs[3] = f64::NAN;
    let err = write_report(&path, &bad_axis).unwrap_err();
    assert!(err.to_string().contains("xs[3]"), "{err}");

    assert!(!path.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("report"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn chromium_loads_the_report_and_draws_the_surface() {
    let Some(chromium) = chromium::chromium_or_skip() else {
        return;
    };
    let out = output_dir();
    let report = sample_report(&out);
    let path = out.join("report.html");
    write_report(&path, &report).unwrap();

    // 1. The DOM once scripts have run: the marker, no errors, the canvas drew.
    chromium::check_page(&chromium, &path, &out, 1);

    // 2. A screenshot a person can look at, tall enough to include the surface.
    let shot = out.join("screenshot.png");
    chromium::screenshot(&chromium, &path, &shot, 1100, 2600);
    let img = image::open(&shot)
        .unwrap_or_else(|e| panic!("{}: {e}", shot.display()))
        .to_rgb8();
    assert_eq!(img.dimensions(), (1100, 2600));
    // The surface's colour scale (coolwarm) in the picture: strong reds and strong blues. The
    // embedded heat map is viridis (no red), and the page's own red and blue (a badge, links)
    // cover a few hundred pixels, so thousands of each mean the 3-D surface is there.
    let (mut reds, mut blues) = (0usize, 0usize);
    for p in img.pixels() {
        let [r, g, b] = p.0.map(i32::from);
        if r > 150 && r - g > 60 && r - b > 60 {
            reds += 1;
        }
        if b > 150 && b - r > 60 && b - g > 40 {
            blues += 1;
        }
    }
    assert!(
        reds > 5000 && blues > 5000,
        "the screenshot {} shows little of the surface: {reds} red and {blues} blue pixels",
        shot.display()
    );
    eprintln!("report: {}\nscreenshot: {}", path.display(), shot.display());
}

//! The generic run page, the index of a folder of runs, and the image-model hover view, end
//! to end: written from real inputs (a figure drawn by genviz-render, a loss surface, a small
//! image classifier trained by genviz-train with its landscape from genviz-landscape), then
//! opened in headless Chromium through the DevTools protocol. Every page must load with no
//! console error and no network request; the hover view must show genviz's numbers and
//! predictions at the grid point under a real mouse pointer.
//!
//! Pages and screenshots are left in `target/pages-test/`. Without Chromium the browser tests
//! are skipped with a notice, unless `CI` is set: then they fail.

use std::path::{Path, PathBuf};

mod support {
    pub mod cdp;
    pub mod chromium;
    pub mod files;
    pub mod models;
}
use support::cdp::Browser;
use support::models;
use support::{chromium, files};

use genviz_core::{rng, Dataset, Error, Network};
use genviz_data::train_test_split;
use genviz_mlp::MlpSpec;
use genviz_render::{
    draw_heatmap, figures_in, write_index_page, write_run_page, ChecksBlock, ComparisonColumn,
    ContourStyle, HoverView, ImageStrip, IndexPage, IndexRun, InteractiveSurface, NumbersBlock,
    PageBlock, ReportFigure, ReportRow, ReportSection, RunPage, StripImage, SurfaceBlock,
    SurfaceGrid, TextBlock, NO_PREDICTION,
};
use rand::Rng as _;
use serde_json::{json, Value};

/// Where the test leaves its pages and screenshots for a person to look at.
fn output_dir() -> PathBuf {
    files::output_dir("pages-test")
}

/// Mean logistic loss of `sigmoid(w1 x1 + w2 x2)` on 200 deterministic points with 10% flipped
/// labels, over `[-6, 6]^2` (a bowl with a valley, as in the report test).
fn logistic_surface(n: usize) -> (Vec<f64>, Vec<f64>) {
    let axis: Vec<f64> = (0..n)
        .map(|i| -6.0 + 12.0 * i as f64 / (n - 1) as f64)
        .collect();
    let points: Vec<(f64, f64, f64)> = (0..200)
        .map(|i| {
            let t = i as f64;
            let x1 = ((t * 0.618_033_988_7).fract() - 0.5) * 4.0;
            let x2 = ((t * 0.754_877_666_2).fract() - 0.5) * 4.0;
            let y = if (1.5 * x1 - x2 > 0.0) != (i % 10 == 3) {
                1.0
            } else {
                -1.0
            };
            (x1, x2, y)
        })
        .collect();
    let mut z = Vec::with_capacity(n * n);
    for &w2 in &axis {
        for &w1 in &axis {
            let loss: f64 = points
                .iter()
                .map(|&(x1, x2, y)| {
                    let m: f64 = y * (w1 * x1 + w2 * x2);
                    (-m).max(0.0) + (-m.abs()).exp().ln_1p()
                })
                .sum();
            z.push(loss / points.len() as f64);
        }
    }
    (axis, z)
}

/// A run record shaped like `run.json`.
fn run_record(name: &str, test_acc: f64) -> Value {
    json!({
        "command": format!("genviz surface --model runs/{name} --out runs/{name}/surface"),
        "version": "0.1.0",
        "seed": 3,
        "config": {"train": {"steps": 3000, "optimizer": {"kind": "adam", "lr": 0.012548}},
                   "data": {"name": "swiss <roll>", "n_train": 200}},
        "final": {"train_acc": 1.0, "test_acc": test_acc, "train_loss": 3.2e-5},
        "timings": {"train": 12.5, "surface": 40.25},
        "results": {"radius": [0.1, 0.12, 0.09, 0.11, 0.1, 0.13, 0.1, 0.1, 0.2, 0.05],
                    "note": "filter-normalised"},
    })
}

fn run_page(dir: &Path, name: &str, record: &Value) -> RunPage {
    let (axis, z) = logistic_surface(31);
    let grid = SurfaceGrid {
        xs: axis.clone(),
        ys: axis.clone(),
        values: z.clone(),
        title: "logistic regression: train loss".into(),
        value_label: "train loss".into(),
    };
    let style = ContourStyle {
        vmin: 0.2,
        vmax: 6.0,
        vlevel: 0.25,
        log: true,
    };
    std::fs::create_dir_all(dir).unwrap();
    draw_heatmap(&dir.join("heatmap.png"), &[(grid, style)]).unwrap();
    RunPage {
        title: format!("genviz surface: {name} <b>"),
        intro: "The loss of a logistic regression over its two weights.\n\nA test page.".into(),
        command: record["command"].as_str().unwrap().to_string(),
        config: "[train]\nsteps = 3000\n".into(),
        config_name: "config.toml".into(),
        blocks: vec![
            PageBlock::Text(TextBlock {
                heading: "What to look at".into(),
                text: "One valley; the minimum is <inside>.".into(),
            }),
            PageBlock::Checks(ChecksBlock {
                heading: "Checks".into(),
                rows: vec![ReportRow {
                    figure: "Fig. T".into(),
                    quantity: "test accuracy".into(),
                    measured: record["final"]["test_acc"].as_f64().unwrap(),
                    reference: Some(0.97),
                    source: "paper".into(),
                    criterion: ">= 0.9".into(),
                    pass: record["final"]["test_acc"].as_f64().unwrap() >= 0.9,
                }],
            }),
            PageBlock::Figures(ReportSection {
                heading: "Figures".into(),
                text: String::new(),
                figures: vec![ReportFigure {
                    file: "heatmap.png".into(),
                    caption: "The loss, dark low.".into(),
                }],
            }),
            PageBlock::Surfaces(SurfaceBlock {
                heading: "The surface in 3-D".into(),
                text: String::new(),
                surfaces: vec![InteractiveSurface {
                    title: "log10 train loss".into(),
                    xs: axis.clone(),
                    ys: axis,
                    z: z.iter().map(|v| v.log10()).collect(),
                    x_label: "w1".into(),
                    y_label: "w2".into(),
                    z_label: "log10 loss".into(),
                    ..Default::default()
                }],
            }),
            PageBlock::Numbers(NumbersBlock {
                heading: "Numbers".into(),
                source: "run.json".into(),
                value: record.clone(),
            }),
        ],
    }
}

#[test]
fn a_run_page_is_one_escaped_offline_file() {
    let dir = tempfile::tempdir().unwrap();
    let record = run_record("clean", 0.975);
    let page = run_page(dir.path(), "clean", &record);
    let path = dir.path().join("report.html");
    write_run_page(&path, &page).unwrap();
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.contains("<h1>genviz surface: clean &lt;b&gt;</h1>"));
    // The exact command, at the top and at the end.
    assert_eq!(
        html.matches("genviz surface --model runs/clean --out runs/clean/surface")
            .count(),
        // The command also appears as a value in the numbers table.
        3
    );
    assert!(html.contains("One valley; the minimum is &lt;inside&gt;."));
    // Numbers: leaves by dotted path, strings escaped, long arrays shortened.
    assert!(html.contains("<code>final.test_acc</code></th><td>0.975</td>"));
    assert!(html.contains("<code>config.data.name</code></th><td>swiss &lt;roll&gt;</td>"));
    assert!(html.contains("<code>final.train_loss</code></th><td>3.2e-5</td>"));
    assert!(html.contains("(10 values)"));
    assert!(html.contains("1 of 1 checks pass."));
    // Contents list every block.
    for k in 0..5 {
        assert!(
            html.contains(&format!("<a href=\"#block-{k}\">")),
            "block {k}"
        );
        assert!(html.contains(&format!("id=\"block-{k}\"")), "block {k}");
    }
    // The figure is embedded; plotly once; nothing outside the page.
    assert!(html.contains("src=\"data:image/png;base64,iVBORw0KGgo"));
    assert_eq!(html.matches("* plotly.js (gl3d").count(), 1);
    let bundle = html.find("* plotly.js (gl3d").unwrap();
    let bundle_end = bundle + html[bundle..].find("</script>").unwrap();
    let own = format!("{}{}", &html[..bundle], &html[bundle_end..]);
    for needle in ["src=\"http", "href=\"http", "<link", "@import", "url("] {
        assert!(!own.contains(needle), "{needle}");
    }
    // Deterministic.
    let again = dir.path().join("again.html");
    write_run_page(&again, &page).unwrap();
    assert_eq!(std::fs::read(&again).unwrap(), html.as_bytes());
    // The figures a rebuilt page would find.
    let found = figures_in(dir.path()).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].file, PathBuf::from("heatmap.png"));

    // A bad surface is refused with its block named; nothing is written.
    let mut bad = page.clone();
    if let PageBlock::Surfaces(s) = &mut bad.blocks[3] {
        s.surfaces[0].z.pop();
    }
    let target = dir.path().join("bad.html");
    let err = write_run_page(&target, &bad).unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("block 3 (\"The surface in 3-D\")"), "{msg}");
    assert!(msg.contains("expected 31 x 31 = 961"), "{msg}");
    assert!(!target.exists());
}

/// Three run folders (two with pages, one without) and their index.
fn runs_with_index(root: &Path) -> PathBuf {
    let _ = std::fs::remove_dir_all(root);
    let mut runs = Vec::new();
    for (name, acc, page) in [
        ("clean", 0.975, true),
        ("poisoned", 0.52, true),
        ("run #3", 0.9, false),
    ] {
        let dir = root.join(name);
        let record = run_record(name, acc);
        std::fs::create_dir_all(&dir).unwrap();
        if page {
            write_run_page(&dir.join("report.html"), &run_page(&dir, name, &record)).unwrap();
        }
        runs.push(IndexRun {
            name: name.into(),
            link: page.then(|| format!("{name}/report.html")),
            command: record["command"].as_str().unwrap().into(),
            record,
        });
    }
    let records: Vec<&Value> = runs.iter().map(|r| &r.record).collect();
    let columns = ComparisonColumn::numeric_leaves(&records, &["final", "timings"]);
    let index = IndexPage {
        title: "genviz runs".into(),
        intro: "Three runs.".into(),
        runs,
        columns,
    };
    let path = root.join("index.html");
    write_index_page(&path, &index).unwrap();
    let err = write_index_page(
        &root.join("bad.html"),
        &IndexPage {
            runs: vec![IndexRun {
                name: "x".into(),
                link: Some("https://example.com/report.html".into()),
                ..Default::default()
            }],
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("must be a relative path"), "{err}");
    path
}

#[test]
fn chromium_loads_run_pages_and_their_index() {
    let Some((chromium, _lock)) = chromium::browser_turn() else {
        return;
    };
    let out = output_dir();
    let index = runs_with_index(&out.join("runs"));
    let html = std::fs::read_to_string(&index).unwrap();
    assert!(html.contains("<th class=\"num\" title=\"/final/test_acc\">final.test_acc</th>"));
    assert!(html.contains("run #3 <span class=\"hint\">(no page)</span>"));

    let mut browser = Browser::launch(&chromium, &out.join("pages.log"), 1200, 900);
    // The index: its links lead to the pages that exist.
    browser.open(&index);
    let hrefs = browser.eval(
        "Array.from(document.querySelectorAll('table.compare a')).map(a => a.getAttribute('href'))",
    );
    assert_eq!(hrefs, json!(["clean/report.html", "poisoned/report.html"]));
    let cells = browser.eval(
        "Array.from(document.querySelectorAll('table.compare tbody tr')).map(r => r.children[2].textContent)",
    );
    // Columns in order: final.test_acc, final.train_acc, final.train_loss, timings.surface, ...
    assert_eq!(cells, json!(["0.975", "0.52", "0.9"]));
    browser.screenshot(&out.join("index.png"), true);
    browser.assert_clean(&index);
    browser.events.clear();

    // A run page, reached through the index's link (a real click).
    let link = browser.rect("table.compare a");
    browser.click(link[0] + 5.0, link[1] + link[3] / 2.0);
    browser.wait_for(
        "location.pathname.endsWith('/clean/report.html') && document.readyState === 'complete'",
    );
    browser.wait_for("document.body.dataset.plotsRendered !== undefined");
    assert_eq!(
        browser.eval("document.body.dataset.plotsRendered"),
        json!("1")
    );
    assert_eq!(
        browser.eval("document.body.dataset.jsErrors || null"),
        Value::Null
    );
    let page = out.join("runs/clean/report.html");
    let shot = browser.screenshot(&out.join("run-page.png"), true);
    assert!(
        shot.height() > 1500,
        "the page is {} px tall",
        shot.height()
    );
    browser.assert_clean(&page);
    // The click loaded the page and nothing else.
    let docs: Vec<String> = browser
        .requests()
        .into_iter()
        .filter(|u| !u.starts_with("data:"))
        .collect();
    assert_eq!(docs, vec![support::cdp::file_url(&page)]);
}

/// Synthetic 8x8 grey images of three kinds (horizontal bar, vertical bar, diagonal), with
/// noise: a small "image data set".
fn bar_images(n: usize, seed: u64) -> Dataset {
    let mut rng = rng::stream(seed, "bars");
    let mut features = Vec::with_capacity(n * 64);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let class = (i % 3) as u32;
        let at = rng.gen_range(1..7usize);
        for y in 0..8 {
            for x in 0..8 {
                let on = match class {
                    0 => y == at || y == at + 1,
                    1 => x == at || x == at + 1,
                    _ => (x as i32 - y as i32 - at as i32 + 4).abs() <= 1,
                };
                let v = if on { 0.9 } else { 0.1 } + 0.25 * (rng.gen::<f32>() - 0.5);
                features.push(v);
            }
        }
        labels.push(class);
    }
    Dataset::new(features, labels, 64, 3).unwrap()
}

struct ImageModel {
    view: HoverView,
    surface: genviz_landscape::Surface,
    predictions: Vec<u32>,
    strip_len: usize,
    class_names: Vec<String>,
}

fn image_model() -> ImageModel {
    let all = bar_images(240, 1);
    let (train, test) = train_test_split(&all, 120, &mut rng::stream(1, "split")).unwrap();
    let spec = MlpSpec::relu_softmax(64, vec![16], 3);
    let t = models::train_net(spec, (train, test), 200, 0.01, None, 1);
    let plane = models::random_plane(&t, 4);
    let surface = models::surface(&t, &plane, 15, 1.5);
    let strip_len = 8;
    let images = t.test.select(&(0..strip_len).collect::<Vec<_>>());
    let mut predictions = Vec::new();
    let mut theta = vec![0f32; t.theta.len()];
    for iy in 0..surface.ys.len() {
        for ix in 0..surface.xs.len() {
            plane.point(surface.xs[ix], surface.ys[iy], &mut theta);
            predictions.extend(t.net.predict(&theta, images.features(), strip_len));
        }
    }
    // One grid point not computed, as in a partly filled run.
    predictions[..strip_len].fill(NO_PREDICTION);
    let class_names: Vec<String> = ["horizontal", "vertical", "diagonal"]
        .map(String::from)
        .to_vec();
    let view = HoverView {
        heading: "Bars: the landscape of a small image classifier".into(),
        text: "Point at the surface.".into(),
        surface: InteractiveSurface {
            title: "log10 train loss".into(),
            xs: surface.xs.clone(),
            ys: surface.ys.clone(),
            z: surface.train_loss.iter().map(|v| v.log10()).collect(),
            x_label: "x".into(),
            y_label: "y".into(),
            z_label: "log10 train loss".into(),
            ..Default::default()
        },
        metrics: models::metric_grid(&surface),
        strip: Some(ImageStrip {
            images: (0..strip_len)
                .map(|i| StripImage {
                    width: 8,
                    height: 8,
                    channels: 1,
                    pixels: images
                        .row(i)
                        .iter()
                        .map(|v| (v.clamp(0.0, 1.0) * 255.0) as u8)
                        .collect(),
                    label: images.labels()[i],
                })
                .collect(),
            class_names: class_names.clone(),
            predictions: predictions.clone(),
        }),
    };
    ImageModel {
        view,
        surface,
        predictions,
        strip_len,
        class_names,
    }
}

/// A change that makes a hover view inconsistent.
type Edit = Box<dyn Fn(&mut HoverView)>;

#[test]
fn hover_views_check_their_input() {
    let m = image_model();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    let page = |v: HoverView| RunPage {
        title: "hover".into(),
        blocks: vec![PageBlock::Hover(Box::new(v))],
        ..Default::default()
    };
    write_run_page(&path, &page(m.view.clone())).unwrap();
    let html = std::fs::read_to_string(&path).unwrap();
    assert_eq!(html.matches("<figure data-image=").count(), 8);
    assert!(html.contains("* plotly.js (gl3d"));
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|v| {
                v.strip.as_mut().unwrap().predictions.pop();
            }),
            "the strip has 1799 predictions, expected 225 grid points x 8 images = 1800",
        ),
        (
            Box::new(|v| v.strip.as_mut().unwrap().predictions[3] = 7),
            "prediction 3 is class 7, but there are 3 class names",
        ),
        (
            Box::new(|v| v.strip.as_mut().unwrap().images[2].pixels.push(0)),
            "strip image 2 has 65 bytes, expected 8x8x1 = 64",
        ),
        (
            Box::new(|v| v.metrics.ys[0] = -2.0),
            "the metrics grid's xs and ys must equal the surface's",
        ),
        (
            Box::new(|v| {
                v.metrics.train_acc.pop();
            }),
            "grid train_acc has 224 values",
        ),
    ];
    for (edit, expected) in cases {
        let mut v = m.view.clone();
        edit(&mut v);
        let target = dir.path().join("bad.html");
        let err = write_run_page(&target, &page(v)).unwrap_err();
        assert!(
            err.to_string().contains(expected),
            "{err}\n  wants {expected:?}"
        );
        assert!(!target.exists());
    }
}

#[test]
fn hovering_shows_genviz_numbers_and_predictions() {
    let Some(chromium) = chromium::chromium_or_skip() else {
        return;
    };
    let m = image_model();
    let _lock = chromium::browser_lock();
    let out = output_dir();
    let path = out.join("hover.html");
    let page = RunPage {
        title: "genviz hover view test".into(),
        command: "cargo test -p genviz-render --test pages".into(),
        blocks: vec![PageBlock::Hover(Box::new(m.view.clone()))],
        ..Default::default()
    };
    write_run_page(&path, &page).unwrap();
    let mut browser = Browser::launch(&chromium, &out.join("hover.log"), 1300, 1000);
    browser.open(&path);
    browser.wait_for("document.body.dataset.hoverViews === '1' && document.body.dataset.plotsRendered !== undefined");
    assert_eq!(
        browser.eval("document.body.dataset.plotsRendered"),
        json!("1")
    );
    let s = &m.surface;
    let (nx, ny) = (s.xs.len(), s.ys.len());
    // Starts at the trained model, (0, 0): the middle of the grid.
    assert_eq!(
        browser.eval("genvizHover.state(0)"),
        json!({"ix": nx / 2, "iy": ny / 2})
    );

    browser.scroll_to("section.hover-view canvas.hover-map");
    let map = browser.rect("section.hover-view canvas.hover-map");
    // Geometry of hover.js: a 6 px pad round a square of cells.
    let cell = (map[2] - 12.0) / nx as f64;
    let check = |browser: &mut Browser, ix: usize, iy: usize| {
        let x = map[0] + 6.0 + (ix as f64 + 0.5) * cell;
        let y = map[1] + 6.0 + ((ny - 1 - iy) as f64 + 0.5) * cell;
        browser.mouse("mouseMoved", x, y, false);
        assert_eq!(
            browser.eval("genvizHover.state(0)"),
            json!({"ix": ix, "iy": iy})
        );
        let k = iy * nx + ix;
        let text = |browser: &mut Browser, class: &str| {
            browser
                .eval(&format!(
                    "document.querySelector('section.hover-view .{class}').textContent"
                ))
                .as_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            text(browser, "train-acc"),
            format!("{:.2}%", 100.0 * s.train_acc[k])
        );
        assert_eq!(
            text(browser, "test-acc"),
            format!("{:.2}%", 100.0 * s.test_acc[k])
        );
        let shown: f64 = text(browser, "test-loss").parse().unwrap();
        assert!(
            (shown - s.test_loss[k]).abs() <= 1e-3 * s.test_loss[k],
            "{shown} vs {}",
            s.test_loss[k]
        );
        let spans = browser.eval(
            "Array.from(document.querySelectorAll('.strip .prediction')).map(s => [s.textContent, s.className])",
        );
        for i in 0..m.strip_len {
            let p = m.predictions[k * m.strip_len + i];
            let label = m.view.strip.as_ref().unwrap().images[i].label;
            let expected = if p == NO_PREDICTION {
                json!(["\u{2013}", "prediction "])
            } else {
                let class = if p == label {
                    "prediction ok"
                } else {
                    "prediction wrong"
                };
                json!([format!("\u{2192} {}", m.class_names[p as usize]), class])
            };
            assert_eq!(spans[i], expected, "image {i} at ({ix}, {iy})");
        }
    };
    // A corner where the network is far from its minimum, a middle point, and the point
    // without predictions.
    check(&mut browser, nx - 1, ny - 1);
    check(&mut browser, 3, 9);
    check(&mut browser, 0, 0);
    browser.screenshot(&out.join("hover-map.png"), false);

    // The 3-D surface: a real pointer over the middle of the plot selects a grid point
    // through plotly's hover event.
    browser.scroll_to("#genviz-surface-0");
    let plot = browser.rect("#genviz-surface-0");
    let (cx, cy) = (plot[0] + plot[2] / 2.0, plot[1] + plot[3] / 2.0);
    for dx in [0.0, 3.0] {
        browser.mouse("mouseMoved", cx + dx, cy, false);
    }
    let state = browser.wait_for("(s => (s.ix !== 0 || s.iy !== 0) && s)(genvizHover.state(0))");
    eprintln!("hovering over the 3-D surface selected {state}");
    browser.screenshot(&out.join("hover-surface.png"), false);
    browser.screenshot(&out.join("hover-page.png"), true);
    browser.assert_clean(&path);
}

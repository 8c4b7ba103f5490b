//! Every run's page, end to end: the jobs write `report.html` into their folders, `write_page`
//! rebuilds it from the folder alone, `rebuild` indexes a folder of runs, and in headless
//! Chromium (DevTools protocol) the pages load with no console error and no network request,
//! the surface job's explorer shows genviz's own accuracy at the grid points and redraws its
//! boundary when the marker is dragged, an image model's hover view shows genviz's numbers and
//! predictions, and `genviz paper`'s explorer agrees with both of its planes' grids.
//!
//! Screenshots and pages are left in `target/pages-test/`. Without Chromium the browser parts
//! are skipped with a notice, unless `CI` is set: then they fail.

#[path = "../../genviz-render/tests/support/cdp.rs"]
mod cdp;
#[path = "../../genviz-render/tests/support/chromium.rs"]
mod chromium;

mod support;

use cdp::Browser;
use genviz_core::Network;
use genviz_experiments::basin::{self, BasinConfig};
use genviz_experiments::config::DataConfig;
use genviz_experiments::landscape::{self, SurfaceConfig};
use genviz_experiments::model::{self, DataSource};
use genviz_experiments::pages;
use genviz_experiments::paper::{self, Figure};
use genviz_experiments::{presets, train, Silent};
use genviz_landscape::basin::RayConfig;
use genviz_landscape::direction::read_directions;
use genviz_landscape::{Plane, Surface};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A copy of a page open in headless Chromium, with the browser lock held until it closes.
struct Shown {
    browser: Browser,
    /// The copy.
    page: PathBuf,
    // Dropped after the browser: fields drop in order.
    _lock: std::sync::MutexGuard<'static, ()>,
}

/// Copies `page` to `<output_dir>/<name>.html` (so the other tests' pages stay as the jobs
/// wrote them) and opens the copy in a `width` x `height` Chromium logging to `<name>.log`;
/// `None`, and the test skipped with a notice, without Chromium.
fn show(page: &Path, name: &str, (width, height): (u32, u32)) -> Option<Shown> {
    let (chromium, _lock) = chromium::browser_turn()?;
    let shown = output_dir().join(format!("{name}.html"));
    std::fs::copy(page, &shown).unwrap();
    let mut browser = Browser::launch(
        &chromium,
        &output_dir().join(format!("{name}.log")),
        width,
        height,
    );
    browser.open(&shown);
    Some(Shown {
        browser,
        page: shown,
        _lock,
    })
}

/// Half-width of the test surfaces, in filter-normalised units: wide enough that a briefly
/// trained swiss-roll net's accuracy drops well inside it.
const SPAN: &str = "-0.6:0.6:9";
const POINTS: usize = 9;

fn output_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap_or(Path::new(env!("CARGO_TARGET_TMPDIR")))
        .join("pages-test");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A swiss-roll training run, a 9 x 9 surface around it and 8 basin rays, in one folder
/// (`target/pages-test/runs`, replaced by every run of the tests: a static is never dropped,
/// so a temporary folder would be left behind).
struct Runs {
    root: PathBuf,
    run: PathBuf,
    surface: PathBuf,
}

fn runs() -> &'static Runs {
    static RUNS: OnceLock<Runs> = OnceLock::new();
    RUNS.get_or_init(|| {
        let root = output_dir().join("runs");
        if root.exists() {
            std::fs::remove_dir_all(&root).unwrap();
        }
        let run = root.join("clean");
        let mut config = presets::swiss_roll_clean(400);
        config.train.log_every = 100;
        config.train.checkpoint_every = 200;
        train::run(&config, &run, &Silent).unwrap();
        let surface = root.join("clean-surface");
        let axis = SPAN.parse().unwrap();
        landscape::surface(
            &SurfaceConfig::square(
                run.clone(),
                axis,
                3,
                DataSource::own(presets::SWISS_ROLL_SEED),
            ),
            &surface,
            &Silent,
        )
        .unwrap();
        basin::run(
            &BasinConfig {
                model: run.clone(),
                rays: RayConfig::filter_normalised(8, 0),
                data: DataSource::own(presets::SWISS_ROLL_SEED),
                shard: None,
            },
            &root.join("clean-basin"),
            &Silent,
        )
        .unwrap();
        Runs { root, run, surface }
    })
}

/// The JSON a page embeds in its first `<script type="application/json" class=...>`.
fn embedded(html: &str, class: &str) -> Value {
    let key = format!("<script type=\"application/json\" class=\"{class}\">");
    let at = html.find(&key).unwrap_or_else(|| panic!("no {class}")) + key.len();
    let end = at + html[at..].find("</script>").unwrap();
    serde_json::from_str(&html[at..end]).unwrap()
}

fn decode_f32(b64: &Value) -> Vec<u32> {
    cdp::base64_decode(b64.as_str().unwrap())
        .chunks(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn jobs_write_their_pages_and_the_folder_alone_rebuilds_them() {
    let r = runs();
    // The training run's page: its figures and its numbers, nothing interactive.
    let train_page = std::fs::read_to_string(r.run.join("report.html")).unwrap();
    assert!(train_page.contains("data:image/png;base64,"));
    assert!(train_page.contains("final.test_acc"));
    assert!(!train_page.contains("explorer-data") && !train_page.contains("Plotly"));
    let basin_page = std::fs::read_to_string(r.root.join("clean-basin/report.html")).unwrap();
    assert!(basin_page.contains("median_radius"));

    // The surface's page carries the model, the directions and genviz's grid exactly.
    let path = r.surface.join("report.html");
    let html = std::fs::read_to_string(&path).unwrap();
    let data = embedded(&html, "explorer-data");
    let e = &data["explorers"][0];
    let m = model::load(&r.run).unwrap();
    assert_eq!(decode_f32(&e["theta"]), bits(m.params.values()));
    let (x, y) = read_directions(&r.surface.join("directions.safetensors"), &m.params).unwrap();
    assert_eq!(decode_f32(&e["planes"][0]["x"]), bits(x.values()));
    assert_eq!(decode_f32(&e["planes"][0]["y"]), bits(y.unwrap().values()));
    let s = Surface::load(&r.surface.join("surface.npz")).unwrap();
    assert_eq!(e["planes"][0]["grid"]["train_acc"], json!(s.train_acc));
    assert_eq!(e["planes"][0]["grid"]["test_loss"], json!(s.test_loss));
    assert_eq!(e["extent"], json!([-18.0, 18.0, -18.0, 18.0]));
    assert!(html.contains("Plotly.newPlot") || html.contains("genviz-surfaces"));
    // (plotly's bundle holds a link to plotly.com in its script, never followed; the
    // browser tests check that no request leaves the page.)
    for needle in ["src=\"http", "<link", "@import"] {
        assert!(!html.contains(needle), "{needle}");
    }

    // Rebuilt from the folder alone (model, directions and data reloaded): the same bytes.
    // (Replaced atomically: the browser tests may be reading it meanwhile.)
    assert_eq!(pages::write_page(&r.surface).unwrap(), path);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), html);
    let rebuilt = pages::rebuild(&r.run).unwrap();
    assert_eq!(rebuilt.page, Some(r.run.join("report.html")));
    assert_eq!(rebuilt.index, None);
    assert_eq!(
        std::fs::read_to_string(r.run.join("report.html")).unwrap(),
        train_page
    );
}

#[test]
fn a_page_whose_grid_no_longer_matches_its_inputs_is_refused() {
    let r = runs();
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("surface");
    std::fs::create_dir(&copy).unwrap();
    for f in ["run.json", "surface.npz"] {
        std::fs::copy(r.surface.join(f), copy.join(f)).unwrap();
    }
    // Other directions than the grid's.
    let m = model::load(&r.run).unwrap();
    let (mut x, y) = read_directions(&r.surface.join("directions.safetensors"), &m.params).unwrap();
    x.values_mut().iter_mut().for_each(|v| *v *= 2.0);
    let plane = Plane::new(m.params.clone(), x, y).unwrap();
    genviz_landscape::direction::write_directions(&copy.join("directions.safetensors"), &plane)
        .unwrap();
    let err = format!("{:#}", pages::write_page(&copy).unwrap_err());
    assert!(
        err.contains("surface.npz: was computed from another model"),
        "{err}"
    );
    assert!(!copy.join("report.html").exists());
    // And a folder that is no run and holds none.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let err = format!("{:#}", pages::rebuild(&empty).unwrap_err());
    assert!(err.contains("neither a run folder"), "{err}");
}

#[test]
fn a_folder_of_runs_gets_an_index_with_a_comparison_table() {
    let r = runs();
    let done = pages::rebuild(&r.root).unwrap();
    assert_eq!(done.page, None, "the folder itself is no run");
    let index = done.index.unwrap();
    assert_eq!(index, r.root.join("index.html"));
    assert!(done.without_page.is_empty(), "{:?}", done.without_page);
    let html = std::fs::read_to_string(&index).unwrap();
    for link in [
        "href=\"clean/report.html\"",
        "href=\"clean-surface/report.html\"",
        "href=\"clean-basin/report.html\"",
    ] {
        assert!(html.contains(link), "{link}");
    }
    for column in ["train acc", "grid points", "median radius", "seconds"] {
        assert!(html.contains(&format!(">{column}</th>")), "{column}");
    }
    assert!(!html.contains(">top eigenvalue</th>"), "no run has one");
    let Some((chromium, _lock)) = chromium::browser_turn() else {
        return;
    };
    let mut browser = Browser::launch(&chromium, &output_dir().join("index.log"), 1200, 800);
    browser.open(&index);
    assert_eq!(
        browser.eval("document.querySelectorAll('table.compare tbody tr').length"),
        json!(3)
    );
    browser.screenshot(&output_dir().join("index.png"), true);
    browser.assert_clean(&index);
    // The pages it links load cleanly too; the basin's has a figure, the training's two.
    for (run, figures) in [("clean", 2), ("clean-basin", 1)] {
        let page = r.root.join(run).join("report.html");
        // Only this page's requests and messages count.
        browser.events.clear();
        browser.open(&page);
        assert_eq!(
            browser.eval("document.querySelectorAll('figure img').length"),
            json!(figures),
            "{run}"
        );
        browser.screenshot(&output_dir().join(format!("{run}.png")), true);
        browser.assert_clean(&page);
    }
}

/// Waits until every explorer on the page has drawn its first frame since it last moved: the
/// data scored and the numbers shown (the fine boundary may still be on its way; the next
/// move drops it, which keeps these tests quick on a busy machine).
fn wait_first_frames(browser: &mut Browser) {
    browser.wait_for(
        "document.body.dataset.explorers && \
         Array.from(document.querySelectorAll('.explorer')).every(e => \
           e.dataset.state === 'coarse' || e.dataset.state === 'done')",
    );
}

/// Waits until every explorer on the page has drawn its fine boundary.
fn wait_fine(browser: &mut Browser) {
    browser.wait_for(
        "document.body.dataset.explorers && \
         Array.from(document.querySelectorAll('.explorer')).every(e => e.dataset.state === 'done')",
    );
}

/// Moves explorer `i` of group 0 (and the others, when linked) to `(a, b)` and waits for the
/// first frames there.
fn move_to(browser: &mut Browser, i: usize, (a, b): (f64, f64)) {
    // `set` resolves once the fine boundary is drawn; only its move is wanted here.
    browser.eval(&format!("genvizExplorer.set(0, {i}, {a:?}, {b:?}), true"));
    wait_first_frames(browser);
}

/// Checks that explorer `i` of group 0 stands at grid point `k` of `s` and that the page's
/// accuracies there, exact and as shown, are genviz's.
fn check_grid_point(browser: &mut Browser, i: usize, s: &Surface, k: usize, what: &str) {
    let (a, b) = s.coords(k);
    let state = browser.eval(&format!("genvizExplorer.state(0, {i})"));
    assert_eq!(state["a"].as_f64(), Some(a), "{what}");
    assert_eq!(state["b"].as_f64(), Some(b), "{what}");
    for (name, acc) in [("train", s.train_acc[k]), ("test", s.test_acc[k])] {
        let correct = state[name]["correct"].as_u64().unwrap();
        let n = state[name]["n"].as_u64().unwrap();
        assert_eq!(
            correct as f64 / n as f64,
            acc,
            "{what}: {name} accuracy at grid point {k} = ({a}, {b})"
        );
        let shown = browser.eval(&format!(
            "document.querySelectorAll('section.explorers .explorer')[{i}]\
             .querySelector('.{name}-acc').textContent"
        ));
        let expected = format!("{:.2}% ({correct}/{n})", 100.0 * acc);
        assert_eq!(shown.as_str(), Some(expected.as_str()), "{what}");
    }
}

#[test]
fn the_surface_page_works_offline_and_its_explorer_agrees_with_surface_npz() {
    let r = runs();
    let Some(mut shown) = show(&r.surface.join("report.html"), "surface", (1500, 1000)) else {
        return;
    };
    let s = Surface::load(&r.surface.join("surface.npz")).unwrap();
    let (path, browser) = (shown.page.clone(), &mut shown.browser);
    let out = output_dir();
    wait_first_frames(browser);
    browser.wait_for("document.body.dataset.plotsRendered !== undefined");
    assert_eq!(
        browser.eval("document.body.dataset.plotsRendered"),
        json!("1")
    );
    let last = POINTS * POINTS - 1;
    for k in [POINTS * POINTS / 2, 0, last, 3 * POINTS + 7, POINTS - 1] {
        move_to(browser, 0, s.coords(k));
        check_grid_point(browser, 0, &s, k, "surface page");
    }
    browser.eval("genvizExplorer.set(0, 0, 0, 0)");

    // A real drag of the marker to the grid point where the accuracy is lowest redraws the
    // boundary, and (snapped) shows genviz's accuracy there.
    browser.scroll_to("section.explorers .explorer-row");
    let snap = browser.rect("section.explorers input.snap");
    browser.click(snap[0] + snap[2] / 2.0, snap[1] + snap[3] / 2.0);
    browser.wait_for("document.querySelectorAll('.explorer[data-state=\"done\"]').length === 1");
    let target = (0..s.len())
        .min_by(|&p, &q| s.train_acc[p].total_cmp(&s.train_acc[q]))
        .unwrap();
    let centre = s.len() / 2;
    assert!(
        s.train_acc[target] < s.train_acc[centre],
        "a flat grid tests nothing"
    );
    let map = browser.rect("section.explorers canvas.loss-map");
    let boundary = browser.rect("section.explorers canvas.boundary");
    // Plot geometry of explorer.js: 46 px left margin, 8 px top, then the plot square.
    let side = genviz_render::PANEL_PX as f64;
    let (lo, hi) = (s.xs[0], s.xs[POINTS - 1]);
    let to_px = |(a, b): (f64, f64)| {
        (
            map[0] + 46.0 + (a - lo) / (hi - lo) * side,
            map[1] + 8.0 + (hi - b) / (hi - lo) * side,
        )
    };
    let before = browser.screenshot(&out.join("surface-before.png"), false);
    browser.drag(to_px((0.0, 0.0)), to_px(s.coords(target)), 10);
    browser.wait_for(
        "document.querySelectorAll('.explorer[data-state=\"done\"]').length === 1 && \
         (genvizExplorer.state(0, 0).a !== 0 || genvizExplorer.state(0, 0).b !== 0)",
    );
    let after = browser.screenshot(&out.join("surface-after.png"), false);
    let state = browser.eval("genvizExplorer.state(0, 0)");
    let (a, b) = s.coords(target);
    assert_eq!(
        (state["a"].as_f64(), state["b"].as_f64()),
        (Some(a), Some(b))
    );
    let n = state["train"]["n"].as_f64().unwrap();
    assert_eq!(
        state["train"]["correct"].as_f64().unwrap() / n,
        s.train_acc[target]
    );
    let (changed, total) = cdp::changed_pixels(&before, &after, boundary);
    eprintln!("{changed} of {total} boundary pixels changed after the drag");
    assert!(
        changed * 100 > total,
        "only {changed} of {total} pixels changed"
    );
    browser.screenshot(&out.join("surface-page.png"), true);
    browser.assert_clean(&path);
}

#[test]
fn an_image_model_page_shows_genviz_numbers_and_predictions_on_hover() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("fashion-mnist");
    genviz_data::images::write_banded_fashion_mnist(&data, 80, 30).unwrap();
    let mut config = presets::fashion_mnist_clean(8);
    config.data = DataConfig::Images {
        source: genviz_data::ImageSource::FashionMnist,
        dir: Some(data),
        n_train: None,
        normalize: true,
        augment: None,
    };
    config.train.batch_size = Some(16);
    config.train.checkpoint_every = 8;
    let run = tmp.path().join("cnn");
    train::run(&config, &run, &Silent).unwrap();
    let out = tmp.path().join("cnn-surface");
    let axis = "-1:1:3".parse().unwrap();
    landscape::surface(
        &SurfaceConfig::square(
            run.clone(),
            axis,
            0,
            DataSource {
                eval_train: Some(40),
                ..DataSource::own(0)
            },
        ),
        &out,
        &Silent,
    )
    .unwrap();
    let path = out.join("report.html");
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(
        !html.contains("explorer-data"),
        "images have no input plane to draw"
    );
    let d = embedded(&html, "hover-data");
    let s = Surface::load(&out.join("surface.npz")).unwrap();
    assert_eq!(d["train_acc"], json!(s.train_acc));
    assert_eq!(d["test_loss"], json!(s.test_loss));
    // The strip: the first test image of each class, and genviz's predictions for them at
    // every grid point, recomputed here from the weights and directions on disk.
    let strip = &d["strip"];
    assert_eq!(strip["labels"], json!((0..10).collect::<Vec<u32>>()));
    assert_eq!(strip["class_names"][9], json!("Ankle boot"));
    let m = model::load(&run).unwrap();
    let (_, test) = DataSource::own(0).load(&m).unwrap();
    let (x, y) = read_directions(&out.join("directions.safetensors"), &m.params).unwrap();
    let plane = Plane::new(m.params.clone(), x, y).unwrap();
    let inputs: Vec<f32> = (0..10)
        .flat_map(|c| {
            let i = test.labels().iter().position(|&l| l == c).unwrap();
            test.row(i).to_vec()
        })
        .collect();
    let mut theta = vec![0f32; m.params.values().len()];
    let mut expected = Vec::new();
    for k in 0..s.len() {
        let (a, b) = s.coords(k);
        plane.point(a, b, &mut theta);
        expected.extend(m.net.predict(&theta, &inputs, 10));
    }
    assert_eq!(strip["predictions"], json!(expected));

    let Some(mut shown) = show(&path, "image-surface", (1300, 1000)) else {
        return;
    };
    let (shown, browser) = (shown.page.clone(), &mut shown.browser);
    browser.wait_for("document.body.dataset.hoverViews === '1'");
    // A real pointer over the map's top-right cell: grid point (2, 2).
    browser.scroll_to("section.hover-view canvas.hover-map");
    let map = browser.rect("section.hover-view canvas.hover-map");
    browser.mouse(
        "mouseMoved",
        map[0] + map[2] * 0.85,
        map[1] + map[3] * 0.15,
        false,
    );
    browser.wait_for("document.querySelector('section.hover-view').dataset.ix === '2'");
    assert_eq!(
        browser.eval("genvizHover.state(0)"),
        json!({"ix": 2, "iy": 2})
    );
    let k = 2 * 3 + 2;
    assert_eq!(
        browser.eval("document.querySelector('section.hover-view .train-acc').textContent"),
        json!(browser_pct(s.train_acc[k]))
    );
    let names = browser.eval(
        "Array.from(document.querySelectorAll('.strip .prediction')).map(e => e.textContent)",
    );
    let class_names = strip["class_names"].as_array().unwrap();
    let want: Vec<String> = expected[k * 10..(k + 1) * 10]
        .iter()
        .map(|&p| format!("\u{2192} {}", class_names[p as usize].as_str().unwrap()))
        .collect();
    assert_eq!(names, json!(want));
    browser.wait_for("document.body.dataset.plotsRendered === '1'");
    browser.screenshot(&output_dir().join("image-surface.png"), true);
    browser.assert_clean(&shown);
}

/// How hover.js shows an accuracy.
fn browser_pct(v: f64) -> String {
    format!("{:.2}%", 100.0 * v)
}

#[test]
fn the_paper_report_explores_both_minima_on_both_planes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("paper");
    let config = support::small_paper(vec![Figure::Fig3]);
    paper::reproduce(&config, &dir, &Silent).unwrap();
    let path = dir.join("report.html");
    let html = std::fs::read_to_string(&path).unwrap();
    let data = embedded(&html, "explorer-data");
    assert_eq!(data["linked"], json!(true));
    let grids: Vec<Vec<Surface>> = ["clean", "poisoned"]
        .iter()
        .map(|label| {
            ["landscape", "landscape-eigvec"]
                .iter()
                .map(|sub| {
                    Surface::load(&dir.join(format!("swissroll-{label}/{sub}/surface.npz")))
                        .unwrap()
                })
                .collect()
        })
        .collect();
    for (i, planes) in grids.iter().enumerate() {
        let e = &data["explorers"][i];
        assert_eq!(e["planes"].as_array().unwrap().len(), 2);
        for (j, s) in planes.iter().enumerate() {
            assert_eq!(e["planes"][j]["grid"]["train_loss"], json!(s.train_loss));
        }
    }
    // The explorer sits right after Fig 3 and before the 3-D surfaces.
    let fig3 = html.find("Fig 3: decision boundaries").unwrap();
    let explorer = html.find("Explore both minima").unwrap();
    assert!(fig3 < explorer && explorer < html.find("Interactive 3-D surfaces").unwrap());

    let Some(mut shown) = show(&path, "paper-report", (1500, 1000)) else {
        return;
    };
    let (shown, browser) = (shown.page.clone(), &mut shown.browser);
    wait_first_frames(browser);
    for plane in [0, 1] {
        if plane == 1 {
            browser.eval("document.querySelector('.plane-toggle input[value=\"1\"]').click()");
        }
        for i in 0..2 {
            assert_eq!(
                browser.eval(&format!("genvizExplorer.state(0, {i}).plane")),
                json!(plane)
            );
        }
        // Linked: moving the clean net's marker moves the poisoned net's to the same point
        // of its own grid (both grids share their coordinates).
        let [clean, poisoned] = [0, 1].map(|i| &grids[i][plane]);
        assert_eq!((&clean.xs, &clean.ys), (&poisoned.xs, &poisoned.ys));
        for k in [0, 7, 12, 19, 24] {
            move_to(browser, 0, clean.coords(k));
            for (i, s) in [clean, poisoned].into_iter().enumerate() {
                check_grid_point(browser, i, s, k, &format!("explorer {i} plane {plane}"));
            }
        }
        move_to(browser, 0, (0.125, -0.125));
        wait_fine(browser);
        browser.scroll_to("section.explorers .explorer-row");
        browser.screenshot(
            &output_dir().join(format!("paper-plane-{plane}.png")),
            false,
        );
    }
    browser.assert_clean(&shown);
}

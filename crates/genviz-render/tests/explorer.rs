//! The landscape explorer end to end: the paper's 3,614-parameter swiss-roll net, trained clean
//! and poisoned by genviz-train, its landscapes computed by genviz-landscape, written into a
//! run page, and then used in headless Chromium through the DevTools protocol:
//!
//! * the page loads with no console error and no network request;
//! * at grid points the page's accuracies equal genviz's exactly, its losses agree to rounding,
//!   and its logits equal genviz-mlp's bit for bit;
//! * dragging the marker with real mouse events redraws the boundary (screenshot pixels
//!   compared before and after), moves the linked explorer, and shows genviz's numbers at the
//!   grid point it snapped to; the direction toggle switches planes.
//!
//! Screenshots and the page are left in `target/explorer-test/`. Without Chromium the browser
//! tests are skipped with a notice, unless `CI` is set: then they fail.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

mod support {
    pub mod cdp;
    pub mod chromium;
    pub mod files;
    pub mod models;
}
use support::cdp::{self, Browser};
use support::models::{self, Trained};
use support::{chromium, files};

use genviz_core::{Affine, Error, Network};
use genviz_landscape::{Plane, Surface};
use genviz_mlp::{Activation, Head, MlpSpec};
use genviz_render::{write_run_page, ContourStyle, ExplorerGroup, PageBlock, RunPage, TextBlock};
use serde_json::{json, Value};

/// Half-width of the landscape grids, in filter-normalised units: `genviz paper`'s
/// `LANDSCAPE_SPAN`, wide enough that both minima's losses rise well inside it.
const SPAN: f64 = 0.25;
/// Grid points per side (the paper uses 51; 21 keeps the test quick).
const POINTS: usize = 21;
/// The swiss-roll figures' window of the input plane (`figures::SWISS_ROLL_EXTENT`).
const EXTENT: f32 = 18.0;
/// Full-batch Adam steps per network: enough for the clean net to fit most of the roll.
const STEPS: u64 = 1500;
/// Weight of the flipped-label poison term of the poisoned net.
const POISON_BETA: f64 = 0.5;
/// Losses are means of a few hundred float64 terms summed in a different order (genviz sums
/// per tile) through `exp` and `log1p` that may differ in the last bit between the browser
/// and the C library: far below this relative tolerance.
const LOSS_RTOL: f64 = 1e-9;
/// The same for tanh networks, whose activations may differ in their last float32 bit (the
/// browser's `tanh` rounded to float32 against the C library's `tanhf`): a relative change of
/// about 1e-7 per activation, well below this.
const TANH_LOSS_RTOL: f64 = 1e-5;

struct Minimum {
    trained: Trained,
    planes: Vec<(String, Plane, Surface)>,
}

struct Fixture {
    minima: Vec<Minimum>,
    group: ExplorerGroup,
}

/// Where the test leaves its pages and screenshots for a person to look at.
fn output_dir() -> PathBuf {
    files::output_dir("explorer-test")
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let seed = 3;
        let data = || models::swiss_roll(seed);
        let clean = models::train_net(MlpSpec::swiss_roll(), data(), STEPS, 0.01, None, seed);
        let poisoned = models::train_net(
            MlpSpec::swiss_roll(),
            data(),
            STEPS,
            0.005,
            Some(POISON_BETA),
            seed,
        );
        let minima: Vec<Minimum> = [clean, poisoned]
            .into_iter()
            .map(|trained| {
                let planes = [("random directions", 0u64), ("other random directions", 1)]
                    .into_iter()
                    .map(|(name, s)| {
                        let plane = models::random_plane(&trained, s);
                        let surface = models::surface(&trained, &plane, POINTS, SPAN);
                        (name.to_string(), plane, surface)
                    })
                    .collect();
                Minimum { trained, planes }
            })
            .collect();
        let explorers = ["clean minimum", "poisoned minimum"]
            .iter()
            .zip(&minima)
            .map(|(title, m)| {
                let planes: Vec<(&str, &Plane, &Surface)> = m
                    .planes
                    .iter()
                    .map(|(n, p, s)| (n.as_str(), p, s))
                    .collect();
                models::explorer(
                    title,
                    &m.trained,
                    &planes,
                    (-EXTENT, EXTENT, -EXTENT, EXTENT),
                )
            })
            .collect();
        let group = models::linked_minima(
            "Explore the landscapes",
            "Both minima on one colour scale.",
            explorers,
        );
        Fixture { minima, group }
    })
}

fn page(group: ExplorerGroup) -> RunPage {
    RunPage {
        title: "genviz explorer test".into(),
        intro: "The paper's swiss-roll net, clean and poisoned.".into(),
        command: "cargo test -p genviz-render --test explorer".into(),
        blocks: vec![
            PageBlock::Text(TextBlock {
                heading: "About".into(),
                text: "Written by genviz-render's explorer test.".into(),
            }),
            PageBlock::Explorers(group),
        ],
        ..Default::default()
    }
}

/// The JSON the page embeds for its first explorer group.
fn embedded_group(html: &str) -> Value {
    let key = "<script type=\"application/json\" class=\"explorer-data\">";
    let at = html.find(key).unwrap() + key.len();
    let end = at + html[at..].find("</script>").unwrap();
    serde_json::from_str(&html[at..end]).unwrap()
}

/// A JSON array of numbers, as `f64`.
fn numbers(array: &Value) -> Vec<f64> {
    array
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

fn decode_f32(b64: &Value) -> Vec<f32> {
    cdp::base64_decode(b64.as_str().unwrap())
        .chunks(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

#[test]
fn the_page_carries_the_network_exactly() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    write_run_page(&path, &page(f.group.clone())).unwrap();
    let html = std::fs::read_to_string(&path).unwrap();
    let data = embedded_group(&html);
    for (i, m) in f.minima.iter().enumerate() {
        let e = &data["explorers"][i];
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&decode_f32(&e["theta"])), bits(&m.trained.theta));
        assert_eq!(
            e["theta"].as_str().unwrap().len(),
            (3614_usize * 4).div_ceil(3) * 4
        );
        let (_, plane, surface) = &m.planes[1];
        assert_eq!(
            bits(&decode_f32(&e["planes"][1]["y"])),
            bits(plane.y.as_ref().unwrap().values())
        );
        assert_eq!(
            bits(&decode_f32(&e["train"]["inputs"])),
            bits(m.trained.train.features())
        );
        assert_eq!(e["planes"][1]["grid"]["xs"], json!(surface.xs));
        assert_eq!(e["widths"], json!([2, 23, 16, 26, 32, 28, 31, 1]));
    }
    // No network: nothing outside the page is referred to.
    for needle in ["src=\"http", "href=\"http", "<link", "@import", "url("] {
        assert!(!html.contains(needle), "{needle}");
    }
    assert!(
        !html.contains("plotly.js (gl3d"),
        "no surfaces, so no plotly"
    );
    // Deterministic bytes.
    let again = dir.path().join("again.html");
    write_run_page(&again, &page(f.group.clone())).unwrap();
    assert_eq!(std::fs::read(&again).unwrap(), html.as_bytes());
}

/// A change that makes a group inconsistent.
type Edit = Box<dyn Fn(&mut ExplorerGroup)>;

#[test]
fn inconsistent_explorers_are_refused_and_nothing_is_written() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    let with = |edit: &dyn Fn(&mut ExplorerGroup)| {
        let mut g = f.group.clone();
        edit(&mut g);
        write_run_page(&path, &page(g)).unwrap_err()
    };
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|g| {
                g.explorers[1].net.theta.pop();
            }),
            "theta has 3613 values, the widths [2, 23, 16, 26, 32, 28, 31, 1] need 3614",
        ),
        (
            Box::new(|g| g.explorers[0].net.widths[0] = 3),
            "the network has 3 inputs",
        ),
        (
            Box::new(|g| g.explorers[0].test.labels[5] = 2),
            "test: label 2 of point 5 is not one of the 2 classes",
        ),
        (
            Box::new(|g| g.explorers[0].planes[1].x[7] = f32::NAN),
            "plane 1 (\"other random directions\"): x[7] is NaN",
        ),
        (
            Box::new(|g| {
                g.explorers[0].planes[0].grid.test_acc.pop();
            }),
            "grid test_acc has 440 values, expected 21 x 21 = 441",
        ),
        (
            Box::new(|g| g.explorers[0].extent.1 = -20.0),
            "extent (-18, -20, -18, 18)",
        ),
        (
            Box::new(|g| g.style.vmin = 0.0),
            "a log style needs vmin > 0",
        ),
        (Box::new(|g| g.explorers.clear()), "needs an explorer"),
    ];
    for (edit, expected) in cases {
        let err = with(&*edit);
        assert!(matches!(err, Error::Invalid(_)), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains(expected),
            "{msg}\n  does not contain {expected:?}"
        );
        assert!(msg.contains("report.html"), "{msg}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// The page's state of explorer `i` after moving it to `(a, b)` and waiting for the fine
/// boundary.
fn set(browser: &mut Browser, group: usize, i: usize, a: f64, b: f64) -> Value {
    browser.eval(&format!("genvizExplorer.set({group}, {i}, {a:?}, {b:?})"))
}

/// An explorer of the page and what genviz computed for it.
struct Case<'a> {
    /// Index of the explorer group on the page.
    group: usize,
    /// Index of the explorer in its group.
    index: usize,
    trained: &'a Trained,
    /// The plane the explorer currently shows, and genviz's surface over it.
    plane: &'a Plane,
    surface: &'a Surface,
    /// Whether the page's logits must equal genviz's bit for bit (not for tanh).
    exact_logits: bool,
}

/// Checks the page against genviz's surface at grid point `(ix, iy)` of the case's plane:
/// exact accuracies (state and displayed text), losses to rounding, logits to the bit.
fn check_grid_point(browser: &mut Browser, case: &Case, (ix, iy): (usize, usize)) {
    let Case {
        group,
        index: i,
        trained,
        plane,
        surface: s,
        exact_logits,
    } = *case;
    let nx = s.xs.len();
    let k = iy * nx + ix;
    let (a, b) = (s.xs[ix], s.ys[iy]);
    let state = set(browser, group, i, a, b);
    assert_eq!(state["a"].as_f64(), Some(a));
    assert_eq!(state["b"].as_f64(), Some(b));
    for (name, acc, loss, data) in [
        ("train", s.train_acc[k], s.train_loss[k], &trained.train),
        ("test", s.test_acc[k], s.test_loss[k], &trained.test),
    ] {
        let correct = state[name]["correct"].as_u64().unwrap() as usize;
        let n = state[name]["n"].as_u64().unwrap() as usize;
        assert_eq!(n, data.len());
        assert_eq!(
            correct as f64 / n as f64,
            acc,
            "{name} accuracy at grid point ({ix}, {iy}) = ({a}, {b}) of explorer {i}"
        );
        let page_loss = state[name]["loss"].as_f64().unwrap();
        let rtol = if exact_logits {
            LOSS_RTOL
        } else {
            TANH_LOSS_RTOL
        };
        assert!(
            (page_loss - loss).abs() <= rtol * loss.abs().max(1e-3),
            "{name} loss at ({ix}, {iy}) of explorer {i}: page {page_loss}, genviz {loss}"
        );
        // What the reader sees: "97.50% (195/200)".
        let shown = browser.eval(&format!(
            "document.querySelectorAll('section.explorers')[{group}]\
             .querySelectorAll('.explorer')[{i}].querySelector('.{name}-acc').textContent"
        ));
        let expected = format!("{:.2}% ({correct}/{n})", 100.0 * acc);
        assert_eq!(shown.as_str(), Some(expected.as_str()));
    }
    // The logits themselves, for the training points, against genviz-mlp's forward pass at
    // the same point of the plane.
    let mut theta = vec![0f32; trained.theta.len()];
    Affine {
        center: plane.center.values(),
        x: plane.x.values(),
        y: plane.y.as_ref().map(|y| y.values()),
    }
    .point(a, b, &mut theta);
    let train = &trained.train;
    let genviz = trained.net.logits(&theta, train.features(), train.len());
    let page = numbers(&browser.eval(&format!(
        "genvizExplorer.logits({group}, {i}, {a:?}, {b:?}, 'train')"
    )));
    assert_eq!(page.len(), genviz.len());
    for (j, (&p, &g)) in page.iter().zip(&genviz).enumerate() {
        if exact_logits {
            assert_eq!(
                (p as f32).to_bits(),
                g.to_bits(),
                "logit {j} at ({a}, {b}) of explorer {i}: page {p}, genviz {g}"
            );
            assert_eq!(p, f64::from(g), "the page's logit {j} is not a float32");
        } else {
            assert!(
                (p - f64::from(g)).abs() <= 1e-4 * f64::from(g).abs().max(1.0),
                "logit {j}: page {p}, genviz {g}"
            );
        }
    }
}

/// The page's float32 fused multiply-add against Rust's `f32::mul_add`, bit for bit: on
/// random triples, and on triples whose float64 sum lands exactly halfway between two
/// float32s, where rounding twice (float64, then float32) would be wrong.
fn check_fma(browser: &mut Browser) {
    let two = |e: i32| 2f32.powi(e);
    // (1 + 2^-12) * 2^-24 (1 - 2^-12 + 2^-24) = 2^-24 (1 + 2^-36): added to 1 the exact value
    // is 1 + 2^-24 + 2^-60, just above the midpoint 1 + 2^-24 that float64 rounds it to; a
    // single rounding goes up to 1 + 2^-23, a double one down to 1 (ties to even).
    let (a, b) = (1.0 + two(-12), two(-24) * (1.0 - two(-12) + two(-24)));
    let mut cases = vec![
        (a, b, 1.0f32),
        (-a, b, -1.0),
        (a, -b, 3.0),
        (a, b, -1.0),
        // Just below a midpoint: (1 - 2^-12) * 2^-24 (1 + 2^-12) = 2^-24 (1 - 2^-24).
        (1.0 - two(-12), two(-24) * (1.0 + two(-12)), 1.0),
        // An exact tie, to even either way.
        (1.0, two(-24), 1.0),
        (3.0, two(-24), 1.0),
    ];
    let mut rng = genviz_core::rng::stream(7, "fma");
    use rand::Rng as _;
    for _ in 0..3000 {
        let mut x = || {
            let m: f32 = rng.gen_range(-1.0..1.0);
            m * 2f32.powi(rng.gen_range(-30..30))
        };
        cases.push((x(), x(), x()));
    }
    let page = numbers(&browser.eval(&format!(
        "{}.map(([a, b, c]) => genvizExplorer.fmaf(a, b, c))",
        // As float64, whose shortest decimals JavaScript reads back exactly.
        serde_json::to_string(
            &cases
                .iter()
                .map(|&(a, b, c)| [a, b, c].map(f64::from))
                .collect::<Vec<_>>()
        )
        .unwrap()
    )));
    assert_eq!(page.len(), cases.len());
    assert_eq!(
        a.mul_add(b, 1.0),
        1.0 + two(-23),
        "the crafted case is not a double-rounding case"
    );
    for (&(a, b, c), &p) in cases.iter().zip(&page) {
        let exact = a.mul_add(b, c);
        // JSON drops the sign of zero; every other value must match to the bit.
        let same = if exact == 0.0 {
            p == 0.0
        } else {
            (p as f32).to_bits() == exact.to_bits()
        };
        assert!(
            same,
            "fmaf({a:e}, {b:e}, {c:e}): page {p:e}, Rust {exact:e}"
        );
        assert_eq!(
            p,
            f64::from(p as f32),
            "fmaf({a:e}, {b:e}, {c:e}) is not a float32"
        );
    }
}

/// Writes the run page of `group` (two explorers) into [`output_dir`] as `page`, opens it in a
/// Chromium window 1500 px wide and `height` px high that logs to `log` there, and waits until
/// both explorers have drawn their fine boundary. Returns the browser and the page's path.
fn open_group(
    chromium: &Path,
    group: ExplorerGroup,
    (page_name, log): (&str, &str),
    height: u32,
) -> (Browser, PathBuf) {
    let out = output_dir();
    let path = out.join(page_name);
    write_run_page(&path, &page(group)).unwrap();
    let mut browser = Browser::launch(chromium, &out.join(log), 1500, height);
    browser.open(&path);
    browser.wait_for(
        "document.body.dataset.explorers && \
         document.querySelectorAll('.explorer[data-state=\"done\"]').length === 2",
    );
    (browser, path)
}

#[test]
fn chromium_agrees_with_genviz_at_the_grid_points() {
    let Some((chromium, _lock)) = chromium::browser_turn() else {
        return;
    };
    let f = fixture();
    let (mut browser, path) = open_group(
        &chromium,
        f.group.clone(),
        ("grid-points.html", "grid-points.log"),
        1100,
    );
    check_fma(&mut browser);
    let last = POINTS - 1;
    let points = [
        (10, 10),
        (0, 0),
        (last, last),
        (4, 15),
        (17, 2),
        (last, 0),
        (9, 12),
    ];
    // Both minima on plane `k` of the fixture, at `points`.
    let check_plane = |browser: &mut Browser, k: usize, points: &[(usize, usize)]| {
        for (i, m) in f.minima.iter().enumerate() {
            let (_, plane, s) = &m.planes[k];
            let case = Case {
                group: 0,
                index: i,
                trained: &m.trained,
                plane,
                surface: s,
                exact_logits: true,
            };
            for &p in points {
                check_grid_point(browser, &case, p);
            }
        }
    };
    check_plane(&mut browser, 0, &points);
    // The second plane, through the page's own toggle.
    browser.eval(
        "(() => { const r = document.querySelector('.plane-toggle input[value=\"1\"]'); \
         r.click(); })()",
    );
    for i in 0..f.minima.len() {
        assert_eq!(
            browser.eval(&format!("genvizExplorer.state(0, {i}).plane")),
            json!(1)
        );
    }
    check_plane(&mut browser, 1, &points[..4]);
    browser.assert_clean(&path);
}

#[test]
fn dragging_the_marker_redraws_the_boundary() {
    let Some((chromium, _lock)) = chromium::browser_turn() else {
        return;
    };
    let f = fixture();
    let out = output_dir();
    let (mut browser, path) = open_group(
        &chromium,
        f.group.clone(),
        ("report.html", "drag.log"),
        1000,
    );
    assert_eq!(browser.eval("document.body.dataset.explorers"), json!("1"));

    // Snap to genviz's grid, with a real click on the checkbox.
    browser.scroll_to("section.explorers .explorer-row");
    let snap = browser.rect("section.explorers input.snap");
    browser.click(snap[0] + snap[2] / 2.0, snap[1] + snap[3] / 2.0);
    assert_eq!(
        browser.eval("document.querySelector('input.snap').checked"),
        json!(true)
    );
    browser.wait_for("document.querySelectorAll('.explorer[data-state=\"done\"]').length === 2");

    // The target: the grid point where the clean net's training accuracy is lowest, so the
    // boundary there must differ from the minimum's.
    let clean = &f.minima[0].planes[0].2;
    let target = (0..clean.train_acc.len())
        .min_by(|&p, &q| clean.train_acc[p].total_cmp(&clean.train_acc[q]))
        .unwrap();
    let (tx, ty) = (target % POINTS, target / POINTS);
    eprintln!(
        "dragging to grid point ({tx}, {ty}) = ({}, {}): clean train accuracy {}",
        clean.xs[tx], clean.ys[ty], clean.train_acc[target]
    );
    assert!(clean.train_acc[target] < clean.train_acc[(POINTS / 2) * POINTS + POINTS / 2]);

    let map = browser.rect(".explorer[data-index=\"0\"] canvas.loss-map");
    let boundary: Vec<[f64; 4]> = (0..2)
        .map(|i| browser.rect(&format!(".explorer[data-index=\"{i}\"] canvas.boundary")))
        .collect();
    // Plot geometry of explorer.js: 46 px left margin, 8 px top, then the plot square.
    let side = genviz_render::PANEL_PX as f64;
    let to_px = |a: f64, b: f64| {
        (
            map[0] + 46.0 + (a + SPAN) / (2.0 * SPAN) * side,
            map[1] + 8.0 + (SPAN - b) / (2.0 * SPAN) * side,
        )
    };
    let before = browser.screenshot(&out.join("explorer-before.png"), false);
    let from = to_px(0.0, 0.0);
    let to = to_px(clean.xs[tx], clean.ys[ty]);
    browser.drag(from, to, 12);
    browser.wait_for(
        "document.querySelectorAll('.explorer[data-state=\"done\"]').length === 2 && \
         (genvizExplorer.state(0, 0).a !== 0 || genvizExplorer.state(0, 0).b !== 0)",
    );
    let after = browser.screenshot(&out.join("explorer-after.png"), false);

    // Both explorers moved (linked) to the grid point under the pointer.
    for (i, m) in f.minima.iter().enumerate() {
        let state = browser.eval(&format!("genvizExplorer.state(0, {i})"));
        let s = &m.planes[0].2;
        assert_eq!(state["a"].as_f64(), Some(s.xs[tx]), "explorer {i}: {state}");
        assert_eq!(state["b"].as_f64(), Some(s.ys[ty]), "explorer {i}: {state}");
        let k = ty * POINTS + tx;
        let n = m.trained.train.len() as f64;
        assert_eq!(
            state["train"]["correct"].as_f64().unwrap() / n,
            s.train_acc[k]
        );
        let nt = m.trained.test.len() as f64;
        assert_eq!(
            state["test"]["correct"].as_f64().unwrap() / nt,
            s.test_acc[k]
        );
        let (changed, total) = cdp::changed_pixels(&before, &after, boundary[i]);
        eprintln!("explorer {i}: {changed} of {total} boundary pixels changed");
        assert!(
            changed * 200 > total,
            "explorer {i}: only {changed} of {total} boundary pixels changed after the drag"
        );
    }
    // The sliders take real pointers too: a click at the left end of explorer 1's first
    // slider moves both explorers (linked) to the grid's first column.
    let slider = browser.rect(".explorer[data-index=\"1\"] input.slider-a");
    browser.click(slider[0] + 1.0, slider[1] + slider[3] / 2.0);
    browser.wait_for(&format!(
        "document.querySelectorAll('.explorer[data-state=\"done\"]').length === 2 && \
         genvizExplorer.state(0, 0).a === {:?}",
        -SPAN
    ));
    for i in 0..2 {
        let state = browser.eval(&format!("genvizExplorer.state(0, {i})"));
        assert_eq!(state["a"].as_f64(), Some(clean.xs[0]), "{state}");
        assert_eq!(state["b"].as_f64(), Some(clean.ys[ty]), "{state}");
    }
    let page_shot = browser.screenshot(&out.join("explorer-page.png"), true);
    assert!(page_shot.height() > 900);

    // How long one pointer move costs (data and coarse boundary), for the record.
    let ms = browser
        .eval("genvizExplorer.benchmark(0, 1, 5)")
        .as_f64()
        .unwrap();
    let state = browser.eval("genvizExplorer.state(0, 1)");
    std::fs::write(
        out.join("timing.json"),
        serde_json::to_string_pretty(&json!({
            "coarse_frame_ms": ms,
            "fine_boundary_ms": state["fineMs"],
            "coarse_cells": genviz_render::COARSE_CELLS,
            "fine_cells": genviz_render::FINE_CELLS,
        }))
        .unwrap(),
    )
    .unwrap();
    eprintln!(
        "one move of the 3,614-parameter net: {ms:.1} ms; fine boundary {} ms\npage: {}\nscreenshots: {}",
        state["fineMs"],
        path.display(),
        out.display()
    );
    browser.assert_clean(&path);
}

#[test]
fn other_heads_and_activations_agree_with_genviz() {
    let Some(chromium) = chromium::chromium_or_skip() else {
        return;
    };
    // Three classes, softmax, leaky ReLU (bit-exact) and tanh (exact up to the last bit of
    // tanh, so its logits are compared to rounding; accuracies must still agree).
    let spec = |activation| MlpSpec {
        input_dim: 2,
        hidden: vec![12, 10],
        num_classes: 3,
        activation,
        head: Head::Softmax,
    };
    let cases = [
        (
            "leaky ReLU, softmax",
            Activation::LeakyRelu { slope: 0.1 },
            true,
        ),
        ("tanh, softmax", Activation::Tanh, false),
    ];
    let minima: Vec<(Trained, Plane, Surface, bool)> = cases
        .iter()
        .map(|&(_, activation, exact)| {
            let t = models::train_net(spec(activation), models::blobs(5), 300, 0.02, None, 5);
            let plane = models::random_plane(&t, 9);
            let s = models::surface(&t, &plane, 11, 1.0);
            (t, plane, s, exact)
        })
        .collect();
    let group = ExplorerGroup {
        heading: "Blobs".into(),
        explorers: cases
            .iter()
            .zip(&minima)
            .map(|((title, _, _), (t, plane, s, _))| {
                models::explorer(title, t, &[("random", plane, s)], (-9.0, 9.0, -9.0, 9.0))
            })
            .collect(),
        style: ContourStyle {
            vmin: 0.01,
            vmax: 10.0,
            vlevel: 0.25,
            log: true,
        },
        linked: false,
        ..Default::default()
    };
    let _lock = chromium::browser_lock();
    let out = output_dir();
    let (mut browser, path) = open_group(&chromium, group, ("blobs.html", "blobs.log"), 1000);
    for (i, (t, plane, s, exact)) in minima.iter().enumerate() {
        let case = Case {
            group: 0,
            index: i,
            trained: t,
            plane,
            surface: s,
            exact_logits: *exact,
        };
        for p in [(5, 5), (0, 10), (10, 0), (7, 3)] {
            check_grid_point(&mut browser, &case, p);
        }
    }
    browser.screenshot(&out.join("blobs.png"), true);
    browser.assert_clean(&path);
}

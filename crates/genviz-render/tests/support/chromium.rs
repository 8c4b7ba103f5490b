//! Headless Chromium for the tests that check HTML pages (shared by genviz-render's and
//! genviz-cli's tests through `#[path]`).
#![allow(dead_code)]

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Flags that make Chromium run headless in a container as root, offline, with WebGL drawn in
/// software by SwiftShader (there is no GPU; without the two SwiftShader flags WebGL is simply
/// unavailable and plotly shows a notice instead of the surface). Every browser test uses them.
pub const HEADLESS_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
];

/// The flags of a one-shot `--dump-dom` or `--screenshot` run, besides [`HEADLESS_FLAGS`].
pub const ONE_SHOT_FLAGS: &[&str] = &[
    "--enable-logging=stderr",
    "--v=0",
    // Lets the page's scripts (plotly's drawing, our pixel read-back) finish before the DOM is
    // dumped or the screenshot taken; virtual time, so it does not make the test slower.
    "--virtual-time-budget=30000",
];

/// A browser that hangs is killed after this long; far above the few seconds a run takes.
pub const BROWSER_TIMEOUT: Duration = Duration::from_secs(180);

pub fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GENVIZ_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// Runs Chromium with `extra` flags on `url`; returns (stdout, stderr).
pub fn run_chromium(
    chromium: &Path,
    profile: &Path,
    extra: &[String],
    url: &str,
) -> (String, String) {
    let mut child = Command::new(chromium)
        .args(HEADLESS_FLAGS)
        .args(ONE_SHOT_FLAGS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", chromium.display()));
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium did not finish within {BROWSER_TIMEOUT:?} (flags {extra:?}); stderr:\n{}",
                err_thread.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = out_thread.join().unwrap();
    let err = err_thread.join().unwrap();
    assert!(
        status.success(),
        "chromium exited with {status} (flags {extra:?}); stderr:\n{err}"
    );
    (out, err)
}

/// The value of `attr="..."` on the `<body>` tag of a dumped DOM.
pub fn body_attr<'a>(dom: &'a str, attr: &str) -> Option<&'a str> {
    let start = dom.find("<body")?;
    let tag = &dom[start..start + dom[start..].find('>')?];
    let key = format!("{attr}=\"");
    let at = tag.find(&key)? + key.len();
    Some(&tag[at..at + tag[at..].find('"')?])
}

/// Console lines Chromium logged that mean the page is broken: uncaught exceptions and
/// requests refused by the offline policy. (Chromium logs every console message at INFO
/// level, whatever its severity, so `console.error` is caught in the page instead.)
pub fn console_errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .filter(|l| {
            ["Uncaught", "Refused", "violates", "Error"]
                .iter()
                .any(|bad| l.contains(bad))
        })
        .collect()
}

/// The running test's name: libtest runs every test on a thread named after it (with any
/// `--test-threads`), so skip messages need no name passed around.
fn this_test() -> String {
    std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_string()
}

/// Chromium, or `None` after printing why the calling test is skipped. With `CI` set a missing
/// browser fails the test instead: CI installs it.
pub fn chromium_or_skip() -> Option<PathBuf> {
    if let Some(c) = find_chromium() {
        return Some(c);
    }
    let test = this_test();
    if std::env::var_os("CI").is_some() {
        panic!(
            "chromium is not installed, and CI is set, so {test} cannot check the page in a \
             browser: install it (Debian: `apt-get install -y chromium`) or point \
             GENVIZ_CHROMIUM at a Chromium binary"
        );
    }
    eprintln!(
        "SKIPPED {test}: no chromium on PATH (install it with `apt-get install -y chromium`, \
         or set GENVIZ_CHROMIUM)"
    );
    None
}

/// One browser at a time in a test binary: the machines running these tests have few cores,
/// and software WebGL and the pages' arithmetic are CPU-bound.
static BROWSER_LOCK: Mutex<()> = Mutex::new(());

/// Waits for this test binary's browser turn; the turn ends when the guard drops (declare it
/// before the browser, so that the browser closes first). A test that panicked in its turn
/// does not block the others.
pub fn browser_lock() -> MutexGuard<'static, ()> {
    BROWSER_LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// [`chromium_or_skip`], then [`browser_lock`]: Chromium with the turn held.
pub fn browser_turn() -> Option<(PathBuf, MutexGuard<'static, ()>)> {
    let chromium = chromium_or_skip()?;
    Some((chromium, browser_lock()))
}

/// Loads `page` with `--dump-dom`, saves the DOM and log beside `out`, and checks that the
/// page reported no error and drew `plots` 3-D plots into canvases that are not blank.
pub fn check_page(chromium: &Path, page: &Path, out: &Path, plots: usize) {
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let profile = tempfile::tempdir().unwrap();
    let (dom, stderr) = run_chromium(chromium, profile.path(), &["--dump-dom".to_string()], &url);
    std::fs::write(out.join("dom.html"), &dom).unwrap();
    std::fs::write(out.join("chromium-dump-dom.log"), &stderr).unwrap();
    let errors = console_errors(&stderr);
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    assert_eq!(
        body_attr(&dom, "data-js-errors"),
        None,
        "the page reported errors; see {}",
        out.join("dom.html").display()
    );
    assert!(
        dom.contains("<ul id=\"js-error-list\"></ul>"),
        "the error list is not empty"
    );
    let rendered = plots.to_string();
    assert_eq!(
        body_attr(&dom, "data-plots-rendered"),
        Some(rendered.as_str()),
        "the surfaces were not drawn; see {}",
        out.join("dom.html").display()
    );
    if plots > 0 {
        // plotly built its WebGL canvas, and it is not blank.
        assert!(dom.contains("gl-container"), "no plotly gl3d container");
        let key = "data-colored-fraction=\"";
        let at = dom.find(key).expect("no colored fraction recorded") + key.len();
        let fraction: f64 = dom[at..at + dom[at..].find('"').unwrap()].parse().unwrap();
        assert!(fraction > 0.05, "only {fraction} of the canvas is coloured");
    }
}

/// Saves a `width` x `height` screenshot of `page` as `shot`, checking the log for errors.
pub fn screenshot(chromium: &Path, page: &Path, shot: &Path, width: u32, height: u32) {
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let _ = std::fs::remove_file(shot);
    let profile = tempfile::tempdir().unwrap();
    let (_, stderr) = run_chromium(
        chromium,
        profile.path(),
        &[
            format!("--screenshot={}", shot.display()),
            format!("--window-size={width},{height}"),
            "--hide-scrollbars".to_string(),
        ],
        &url,
    );
    std::fs::write(shot.with_extension("log"), &stderr).unwrap();
    let errors = console_errors(&stderr);
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    assert!(shot.exists(), "no screenshot at {}", shot.display());
}

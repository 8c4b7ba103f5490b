//! Headless Chromium driven through the Chrome DevTools Protocol, for the tests that interact
//! with a page: evaluate script, send real mouse events, take screenshots, and record every
//! console message, uncaught exception and network request while the page lives.
//!
//! The protocol runs over `--remote-debugging-pipe`: Chromium reads commands from file
//! descriptor 3 and writes replies and events to descriptor 4, as NUL-terminated JSON. No port
//! is opened (nothing to collide with other tests or to reach from outside) and no WebSocket
//! client is needed. Linux only, like the rest of the browser tests.
#![allow(dead_code)]

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::chromium::HEADLESS_FLAGS;

/// A command that takes longer than this fails the test: page loads and scripts here take a
/// few seconds at most, even with software WebGL on a busy machine.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// The flags of a browser driven through the protocol, besides `chromium::HEADLESS_FLAGS`.
const PIPE_FLAGS: &[&str] = &[
    "--disable-extensions",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
];

extern "C" {
    fn dup2(old: i32, new: i32) -> i32;
    fn fcntl(fd: i32, cmd: i32, ...) -> i32;
}
/// `fcntl`'s `F_DUPFD`: a copy at the lowest free descriptor at or above the argument,
/// without close-on-exec.
const F_DUPFD: i32 = 0;

/// One browser with one page (a tab), attached through a flat CDP session.
pub struct Browser {
    child: Child,
    to_browser: std::io::PipeWriter,
    from_browser: Receiver<Value>,
    next_id: u64,
    session: String,
    /// Every event received, in order (console calls, exceptions, requests, ...).
    pub events: Vec<Value>,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts Chromium with a fresh profile and a `width` x `height` viewport, logging its
    /// stderr to `log`.
    pub fn launch(chromium: &Path, log: &Path, width: u32, height: u32) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let (cmd_read, cmd_write) = std::io::pipe().unwrap();
        let (event_read, event_write) = std::io::pipe().unwrap();
        let (r, w) = (cmd_read.as_raw_fd(), event_write.as_raw_fd());
        let log_file = File::create(log).unwrap();
        let mut command = Command::new(chromium);
        command
            .args(HEADLESS_FLAGS)
            .args(PIPE_FLAGS)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--window-size={width},{height}"))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log_file));
        // SAFETY: between fork and exec only async-signal-safe calls (fcntl, dup2) run. The
        // pipes are close-on-exec; copies above 10 drop that flag, and dup2 then places them
        // at 3 and 4 even when the originals already sit there.
        unsafe {
            command.pre_exec(move || {
                let (r2, w2) = (fcntl(r, F_DUPFD, 10), fcntl(w, F_DUPFD, 10));
                if r2 < 0 || w2 < 0 || dup2(r2, 3) < 0 || dup2(w2, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", chromium.display()));
        // The child holds its own copies; ours must close, or the reader never sees the end.
        drop(cmd_read);
        drop(event_write);

        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = event_read;
            let mut buffer: Vec<u8> = Vec::new();
            let mut chunk = vec![0u8; 1 << 16];
            loop {
                let n = match reader.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                buffer.extend_from_slice(&chunk[..n]);
                while let Some(end) = buffer.iter().position(|&b| b == 0) {
                    let message: Vec<u8> = buffer.drain(..=end).collect();
                    let value: Value = serde_json::from_slice(&message[..end])
                        .unwrap_or_else(|e| json!({"unparsed": e.to_string()}));
                    if tx.send(value).is_err() {
                        return;
                    }
                }
            }
        });
        let mut browser = Browser {
            child,
            to_browser: cmd_write,
            from_browser: rx,
            next_id: 0,
            session: String::new(),
            events: Vec::new(),
            _profile: profile,
        };
        let target = browser.send(None, "Target.createTarget", json!({"url": "about:blank"}));
        let target_id = target["targetId"].as_str().unwrap().to_string();
        let attached = browser.send(
            None,
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        );
        browser.session = attached["sessionId"].as_str().unwrap().to_string();
        for domain in [
            "Runtime.enable",
            "Page.enable",
            "Network.enable",
            "Log.enable",
        ] {
            browser.call(domain, json!({}));
        }
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        );
        browser
    }

    /// Sends a command (to the page's session, or to the browser when `session` is `None`) and
    /// returns its result, keeping the events that arrive meanwhile.
    fn send(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            message["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.to_browser
            .write_all(&bytes)
            .unwrap_or_else(|e| panic!("sending {method} to chromium: {e}"));
        let deadline = Instant::now() + COMMAND_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.from_browser.recv_timeout(left) {
                Ok(reply) if reply["id"] == json!(id) => {
                    if let Some(error) = reply.get("error") {
                        panic!("{method} failed: {error}");
                    }
                    return reply["result"].clone();
                }
                Ok(event) => self.events.push(event),
                Err(RecvTimeoutError::Timeout) => {
                    panic!("chromium did not answer {method} within {COMMAND_TIMEOUT:?}")
                }
                Err(RecvTimeoutError::Disconnected) => panic!("chromium exited during {method}"),
            }
        }
    }

    /// A command to the page.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.send(Some(&session), method, params)
    }

    /// Loads `page` and waits for its `load` event.
    pub fn open(&mut self, page: &Path) {
        let url = file_url(page);
        let before = self.events.len();
        self.call("Page.navigate", json!({"url": url}));
        let deadline = Instant::now() + COMMAND_TIMEOUT;
        loop {
            if self.events[before..]
                .iter()
                .any(|e| e["method"] == "Page.loadEventFired")
            {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.from_browser.recv_timeout(left) {
                Ok(event) => self.events.push(event),
                Err(_) => panic!("{url} did not load within {COMMAND_TIMEOUT:?}"),
            }
        }
    }

    /// Evaluates `expression` in the page (awaiting a promise) and returns its value as JSON;
    /// a thrown exception fails the test with its description.
    pub fn eval(&mut self, expression: &str) -> Value {
        let reply = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "awaitPromise": true, "returnByValue": true}),
        );
        if let Some(e) = reply.get("exceptionDetails") {
            panic!("evaluating {expression}: {}", e["exception"]["description"]);
        }
        reply["result"]["value"].clone()
    }

    /// Polls `expression` until it is truthy, and returns its value.
    pub fn wait_for(&mut self, expression: &str) -> Value {
        let deadline = Instant::now() + COMMAND_TIMEOUT;
        loop {
            let v = self.eval(expression);
            let truthy =
                !matches!(&v, Value::Null | Value::Bool(false)) && v != json!(0) && v != json!("");
            if truthy {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "waited {COMMAND_TIMEOUT:?} for {expression}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Scrolls the first element matching `selector` to the middle of the viewport.
    pub fn scroll_to(&mut self, selector: &str) {
        self.eval(&format!(
            "document.querySelector({}).scrollIntoView({{block: 'center', inline: 'nearest'}})",
            json!(selector)
        ));
    }

    /// The viewport rectangle `[x, y, width, height]` of the first element matching
    /// `selector` (without scrolling: rectangles taken together stay consistent).
    pub fn rect(&mut self, selector: &str) -> [f64; 4] {
        let v = self.eval(&format!(
            "(() => {{ const r = document.querySelector({sel}).getBoundingClientRect(); \
             return [r.x, r.y, r.width, r.height]; }})()",
            sel = json!(selector)
        ));
        let a: Vec<f64> = v
            .as_array()
            .unwrap_or_else(|| panic!("no element {selector}"))
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        [a[0], a[1], a[2], a[3]]
    }

    /// A real mouse event (`"mousePressed"`, `"mouseMoved"`, `"mouseReleased"`) at viewport
    /// `(x, y)`, with the left button down for presses and drags when `down`.
    pub fn mouse(&mut self, kind: &str, x: f64, y: f64, down: bool) {
        self.call(
            "Input.dispatchMouseEvent",
            json!({
                "type": kind, "x": x, "y": y,
                "button": if kind == "mouseMoved" && !down { "none" } else { "left" },
                "buttons": if down { 1 } else { 0 },
                "clickCount": if kind == "mouseMoved" { 0 } else { 1 },
            }),
        );
    }

    /// A left click at `(x, y)`.
    pub fn click(&mut self, x: f64, y: f64) {
        self.mouse("mouseMoved", x, y, false);
        self.mouse("mousePressed", x, y, true);
        self.mouse("mouseReleased", x, y, false);
    }

    /// Drags with the left button from `from` to `to` in `steps` moves.
    pub fn drag(&mut self, from: (f64, f64), to: (f64, f64), steps: usize) {
        self.mouse("mouseMoved", from.0, from.1, false);
        self.mouse("mousePressed", from.0, from.1, true);
        for k in 1..=steps {
            let t = k as f64 / steps as f64;
            let (x, y) = (from.0 + t * (to.0 - from.0), from.1 + t * (to.1 - from.1));
            self.mouse("mouseMoved", x, y, true);
        }
        self.mouse("mouseReleased", to.0, to.1, false);
    }

    /// Saves a PNG of the viewport (or of the whole page when `full_page`) at `path` and
    /// returns it decoded.
    pub fn screenshot(&mut self, path: &Path, full_page: bool) -> image::RgbaImage {
        let mut params = json!({"format": "png"});
        if full_page {
            let metrics = self.call("Page.getLayoutMetrics", json!({}));
            let size = &metrics["cssContentSize"];
            params["captureBeyondViewport"] = json!(true);
            params["clip"] = json!({
                "x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1
            });
        }
        let shot = self.call("Page.captureScreenshot", params);
        let bytes = base64_decode(shot["data"].as_str().unwrap());
        std::fs::write(path, &bytes).unwrap();
        image::load_from_memory(&bytes).unwrap().to_rgba8()
    }

    /// Console calls at level error or warning, uncaught exceptions and browser log entries at
    /// level error, as text.
    pub fn errors(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in &self.events {
            let p = &e["params"];
            match e["method"].as_str() {
                Some("Runtime.exceptionThrown") => out.push(format!(
                    "uncaught: {}",
                    p["exceptionDetails"]["exception"]["description"]
                )),
                Some("Runtime.consoleAPICalled")
                    if matches!(p["type"].as_str(), Some("error" | "warning" | "assert")) =>
                {
                    out.push(format!("console.{}: {}", p["type"], p["args"]))
                }
                Some("Log.entryAdded") if p["entry"]["level"] == "error" => {
                    out.push(format!("log: {}", p["entry"]["text"]))
                }
                _ => {}
            }
        }
        out
    }

    /// The URL of every request the page made.
    pub fn requests(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e["method"] == "Network.requestWillBeSent")
            .map(|e| {
                e["params"]["request"]["url"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    }

    /// Checks that `page` made no request but for itself (and `data:` URIs, which never leave
    /// the page) and logged no error; on failure the message lists them.
    pub fn assert_clean(&self, page: &Path) {
        let own = file_url(page);
        let outside: Vec<String> = self
            .requests()
            .into_iter()
            .filter(|u| *u != own && !u.starts_with("data:"))
            .collect();
        assert!(
            outside.is_empty(),
            "{} requested {outside:#?}",
            page.display()
        );
        let errors = self.errors();
        assert!(
            errors.is_empty(),
            "{} logged errors: {errors:#?}",
            page.display()
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ask politely, then make sure: a test that panics must not leave a browser behind.
        let _ = self
            .to_browser
            .write_all(b"{\"id\":999999,\"method\":\"Browser.close\",\"params\":{}}\0");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `file://` URL of a file, as Chromium reports it in requests (percent-encoded).
pub fn file_url(path: &Path) -> String {
    let abs = path.canonicalize().unwrap();
    let mut out = String::from("file://");
    for b in abs.to_string_lossy().bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Standard base64 (with padding) to bytes.
pub fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let clean: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(clean.len() / 4 * 3);
    for chunk in clean.chunks(4) {
        let pad = chunk.iter().filter(|&&c| c == b'=').count();
        let mut n = 0u32;
        for (k, &c) in chunk.iter().enumerate() {
            n |= if c == b'=' { 0 } else { value(c) } << (18 - 6 * k);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    out
}

/// Pixels that differ (any channel by more than 8) between the same rectangle `[x, y, w, h]`
/// of two screenshots, and the rectangle's pixel count.
pub fn changed_pixels(
    a: &image::RgbaImage,
    b: &image::RgbaImage,
    rect: [f64; 4],
) -> (usize, usize) {
    let (x0, y0) = (rect[0].max(0.0) as u32, rect[1].max(0.0) as u32);
    let x1 = ((rect[0] + rect[2]) as u32).min(a.width()).min(b.width());
    let y1 = ((rect[1] + rect[3]) as u32).min(a.height()).min(b.height());
    let mut changed = 0;
    for y in y0..y1 {
        for x in x0..x1 {
            let (p, q) = (a.get_pixel(x, y).0, b.get_pixel(x, y).0);
            if p.iter().zip(q.iter()).any(|(u, v)| u.abs_diff(*v) > 8) {
                changed += 1;
            }
        }
    }
    (changed, ((x1 - x0) * (y1 - y0)) as usize)
}

//! The offline HTML report: one self-contained page with the figures, the results table, the
//! interactive 3-D surfaces and the command and config that made them.
//!
//! Everything the page needs is inside the file: the figures as base64 `data:` URIs, the CSS,
//! and (when there are surfaces) the vendored plotly.js gl3d bundle, inlined. It loads nothing
//! from the network and no external font, so it opens the same on a laptop on a train as on the
//! machine that ran the experiments, and can be mailed as one attachment.
//!
//! The page checks itself: a small script at the top collects uncaught errors, unhandled
//! promise rejections and `console.error` calls into a visible "errors" box (and counts them in
//! `data-js-errors` on `<body>`); once every surface is drawn it reads back the pixels of each
//! WebGL canvas, records the fraction that are coloured in `data-colored-fraction` on the
//! plot, and sets `data-plots-rendered` on `<body>` to the number of surfaces that visibly drew.
//! A headless browser's `--dump-dom` therefore shows whether the page worked.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use genviz_core::{Error, Result};

use crate::output::folder_of;

/// The minified plotly.js gl3d bundle (npm `plotly.js-gl3d-dist-min`, MIT); see
/// `assets/README.md`. Only the gl3d bundle: the full plotly.js is four times larger and the
/// report draws nothing but 3-D surfaces with it.
pub(crate) const PLOTLY_JS: &str = include_str!("../assets/plotly-gl3d.min.js");
/// The plotly.js licence, reproduced in every page that inlines the bundle, as MIT requires.
pub(crate) const PLOTLY_LICENSE: &str = include_str!("../assets/PLOTLY_LICENSE");
/// The vendored plotly.js version, e.g. `4.1.1`.
pub(crate) const PLOTLY_VERSION: &str = include_str!("../assets/PLOTLY_VERSION");

/// A WebGL canvas counts as drawn when more than this fraction of its pixels are coloured
/// (channel spread above [`COLORED_SPREAD`]). A surface of the report's default size covers
/// roughly a third of its canvas; axes, grid lines and an empty scene are grey, so an empty or
/// failed canvas scores 0. The margin is wide on purpose: this catches "nothing drew", not
/// small differences between renderers.
const MIN_COLORED_FRACTION: f64 = 0.02;
/// The spread `max(r, g, b) - min(r, g, b)` above which a pixel counts as coloured rather than
/// grey (the grey axes and background have spread 0; the pale middle of the colour scale,
/// `#dddddd`, has spread 0 too, but its neighbours do not).
const COLORED_SPREAD: u8 = 40;

/// The whole report.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// The page title and top heading, e.g. `"genviz paper: Huang et al. 2019 reproduced"`.
    pub title: String,
    /// Plain text shown under the title. Blank lines separate paragraphs; no markup is
    /// interpreted (`<` shows as `<`).
    pub intro: String,
    /// The exact command line that made the run, shown verbatim.
    pub command: String,
    /// The full configuration text (TOML or JSON), shown verbatim.
    pub config: String,
    /// What `config` is, e.g. `"config.toml"`; labels the config block.
    pub config_name: String,
    /// The figure sections, in order.
    pub sections: Vec<ReportSection>,
    /// The results table; may be empty (the table is then left out).
    pub results: Vec<ReportRow>,
    /// Interactive 3-D surfaces, drawn with plotly.js; may be empty (plotly.js is then not
    /// inlined, which keeps the page 1.7 MB smaller).
    pub surfaces: Vec<InteractiveSurface>,
}

/// A heading with an optional paragraph and its figures, e.g. one per figure of the paper.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportSection {
    /// The section heading, e.g. `"Fig. 3: decision boundaries"`.
    pub heading: String,
    /// Plain text under the heading (may be empty); blank lines separate paragraphs.
    pub text: String,
    /// The figures, in order.
    pub figures: Vec<ReportFigure>,
}

/// One figure file with its caption.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportFigure {
    /// The image, relative to the folder the report is written into (PNG, GIF, JPEG or SVG,
    /// told by its extension). An absolute path works too.
    pub file: PathBuf,
    /// What the reader should see in it, in plain text.
    pub caption: String,
}

/// One row of the results table: a measured number beside its reference and criterion (also
/// the check `genviz paper` records in results.json, under the same field names).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct ReportRow {
    /// The figure it belongs to, e.g. `"Fig. 5"`.
    pub figure: String,
    /// What is measured, e.g. `"median basin radius, clean / poisoned"`.
    pub quantity: String,
    /// genviz's value.
    pub measured: f64,
    /// The paper's or the authors' value, where known.
    pub reference: Option<f64>,
    /// Where the reference comes from, e.g. `"paper, Table 1"` (may be empty).
    pub source: String,
    /// The criterion, in words or symbols, e.g. `">= 10"`.
    pub criterion: String,
    /// Whether `measured` meets the criterion.
    pub pass: bool,
}

/// How a measured number is judged against its bound.
#[derive(Clone, Copy)]
enum Bound {
    AtLeast(f64),
    AtMost(f64),
    Above(f64),
}

impl ReportRow {
    /// `measured >= bound`, with no reference value (see [`ReportRow::citing`]).
    pub fn at_least(figure: &str, quantity: &str, measured: f64, bound: f64) -> Self {
        Self::judged(figure, quantity, measured, Bound::AtLeast(bound))
    }

    /// `measured <= bound`, with no reference value (see [`ReportRow::citing`]).
    pub fn at_most(figure: &str, quantity: &str, measured: f64, bound: f64) -> Self {
        Self::judged(figure, quantity, measured, Bound::AtMost(bound))
    }

    /// `measured > bound`, with no reference value: for effects that equal numbers do not show.
    pub fn above(figure: &str, quantity: &str, measured: f64, bound: f64) -> Self {
        Self::judged(figure, quantity, measured, Bound::Above(bound))
    }

    /// The same row beside the paper's or the authors' value (`None` where only the source's
    /// words are known), and where that comes from.
    #[must_use]
    pub fn citing(self, reference: Option<f64>, source: &str) -> Self {
        ReportRow {
            reference,
            source: source.into(),
            ..self
        }
    }

    fn judged(figure: &str, quantity: &str, measured: f64, bound: Bound) -> Self {
        let (criterion, pass) = match bound {
            Bound::AtLeast(b) => (format!(">= {b}"), measured >= b),
            Bound::AtMost(b) => (format!("<= {b}"), measured <= b),
            Bound::Above(b) => (format!("> {b}"), measured > b),
        };
        ReportRow {
            figure: figure.into(),
            quantity: quantity.into(),
            measured,
            reference: None,
            source: String::new(),
            criterion,
            pass,
        }
    }
}

/// A surface drawn interactively (rotate, zoom, hover) with plotly.js.
///
/// The values are drawn as given: a caller that wants a log scale passes `log10` of the loss,
/// one that wants to clip passes clipped values, and `z_label` should say which.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InteractiveSurface {
    /// Title above the plot.
    pub title: String,
    /// What the reader should see in it (may be empty); shown under the plot.
    pub caption: String,
    /// The x coordinates of the grid columns: at least 2, finite (`nx` entries).
    pub xs: Vec<f64>,
    /// The y coordinates of the grid rows: at least 2, finite (`ny` entries).
    pub ys: Vec<f64>,
    /// The values, row-major `[ny, nx]`: `z[iy * nx + ix]` belongs to `(xs[ix], ys[iy])`.
    /// Non-finite entries (NaN for points not computed) are gaps in the surface. Li et al.'s
    /// files mark such points with `-1`; convert those to NaN first, since `-1` is also a
    /// legitimate value (e.g. `log10` of a loss of 0.1).
    pub z: Vec<f64>,
    /// Name of the x axis, e.g. `"alpha"`.
    pub x_label: String,
    /// Name of the y axis, e.g. `"beta"`.
    pub y_label: String,
    /// What the values are, e.g. `"log10 train loss"`; labels the z axis and the colour bar.
    pub z_label: String,
    /// The heights and colours the plot spans, `[low, high]`; `None`: the values' own range.
    /// Surfaces meant to be compared (Li et al.'s nets with and without skips) pass one range,
    /// so that the same colour is the same loss in both.
    pub z_range: Option<[f64; 2]>,
}

/// Writes `report` as one self-contained HTML file at `path`, atomically.
///
/// Figures are read from `path`'s folder (see [`ReportFigure::file`]) and embedded as base64
/// `data:` URIs rather than linked. That makes the page about a third larger than its images,
/// but a single file that survives being mailed, attached to an issue or moved away from its run
/// folder; the paper's figures are a few hundred kB each, so the page stays a few MB. Each
/// caption still names the file it came from. The output is deterministic: the same report and
/// images give the same bytes.
///
/// # Errors
///
/// [`Error::Invalid`] if a surface is inconsistent (fewer than 2 or non-finite coordinates, a
/// `z` length other than `nx * ny`) or a figure's extension is not one of `png`, `gif`, `jpg`,
/// `jpeg`, `svg`; [`Error::BadFile`] if a figure's contents do not match its extension;
/// [`Error::Io`] if a figure cannot be read or the report cannot be written. Every message names
/// `path`, and figure errors the figure too. Everything is checked before anything is written,
/// and on error no file is left behind.
///
/// # Example
///
/// ```
/// use genviz_render::{write_report, InteractiveSurface, Report, ReportRow};
///
/// let dir = tempfile::tempdir()?;
/// let xs: Vec<f64> = (0..21).map(|i| -1.0 + 0.1 * i as f64).collect();
/// let z: Vec<f64> = xs.iter().flat_map(|y| xs.iter().map(move |x| x * x + y * y)).collect();
/// let report = Report {
///     title: "genviz paper".into(),
///     command: "genviz paper --out runs/paper".into(),
///     config: "seed = 0\n".into(),
///     config_name: "config.toml".into(),
///     results: vec![ReportRow {
///         figure: "Fig. 5".into(),
///         quantity: "median radius, clean / poisoned".into(),
///         measured: 12.5,
///         reference: None,
///         source: String::new(),
///         criterion: ">= 5".into(),
///         pass: true,
///     }],
///     surfaces: vec![InteractiveSurface {
///         title: "a bowl".into(),
///         xs: xs.clone(),
///         ys: xs,
///         z,
///         x_label: "alpha".into(),
///         y_label: "beta".into(),
///         z_label: "loss".into(),
///         ..Default::default()
///     }],
///     ..Default::default()
/// };
/// write_report(&dir.path().join("report.html"), &report)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_report(path: &Path, report: &Report) -> Result<()> {
    let html = render_html(path, report)?;
    genviz_core::io::write_atomic(path, html.as_bytes())
}

/// Builds the page; `path` is where it will be written (figures are found beside it).
fn render_html(path: &Path, report: &Report) -> Result<String> {
    for (i, s) in report.surfaces.iter().enumerate() {
        validate_surface(path, i, s)?;
    }
    let dir = folder_of(path);

    let mut h = String::with_capacity(PLOTLY_JS.len() + (1 << 20));
    push_shell(&mut h, &report.title, "");
    let _ = writeln!(h, "<header>\n<h1>{}</h1>", esc(&report.title));
    push_paragraphs(&mut h, &report.intro);
    h.push_str("</header>\n");

    push_contents(&mut h, report);
    if !report.results.is_empty() {
        push_results(&mut h, "results", "Results", &report.results);
    }
    for (i, section) in report.sections.iter().enumerate() {
        let _ = writeln!(
            h,
            "<section id=\"section-{i}\">\n<h2>{}</h2>",
            esc(&section.heading)
        );
        push_paragraphs(&mut h, &section.text);
        for figure in &section.figures {
            push_figure(&mut h, path, dir, figure)?;
        }
        h.push_str("</section>\n");
    }
    if !report.surfaces.is_empty() {
        push_surfaces(&mut h, &report.surfaces);
    }
    let config = Some((&*report.config, &*report.config_name));
    push_reproduce(&mut h, &report.command, config);
    if !report.surfaces.is_empty() {
        push_plotly_licence(&mut h);
    }
    h.push_str("</main>\n");
    push_surface_scripts(&mut h, &report.surfaces);
    h.push_str("</body>\n</html>\n");
    Ok(h)
}

/// `<!DOCTYPE>` to the opening of `<main>`, with the error box: the shell every genviz page
/// shares. Its policy forbids any network access, so that a stray URL in a library cannot make
/// a page depend on being online: inline scripts and styles and `data:` images are all a page
/// uses, and no eval either (the gl3d bundle does not need it). The style is [`CSS`] and then
/// `extra_css`.
pub(crate) fn push_shell(h: &mut String, title: &str, extra_css: &str) {
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
         img-src data: blob:; worker-src blob:\">\n",
    );
    let _ = writeln!(h, "<title>{}</title>", esc(title));
    h.push_str("<style>\n");
    h.push_str(CSS);
    h.push_str(extra_css);
    h.push_str("</style>\n<script>\n");
    h.push_str(ERROR_COLLECTOR_JS);
    h.push_str("</script>\n</head>\n<body>\n<main>\n");
    // The error box stays hidden unless a script puts something into it.
    h.push_str(
        "<section id=\"js-errors\" class=\"errors\" hidden>\n<h2>Errors while loading this \
         page</h2>\n<ul id=\"js-error-list\"></ul>\n</section>\n",
    );
}

/// The footer crediting plotly.js with its licence, for a page that inlines it.
pub(crate) fn push_plotly_licence(h: &mut String) {
    let _ = write!(
        h,
        "<footer>\n<details>\n<summary>Third-party software: plotly.js {} (gl3d bundle), MIT \
         licence</summary>\n<pre>{}</pre>\n</details>\n</footer>\n",
        esc(PLOTLY_VERSION.trim()),
        esc(PLOTLY_LICENSE)
    );
}

/// The scripts that draw `surfaces` (their data, plotly.js and [`surface_js`]); with none, a
/// line that tells a headless browser no plot is coming.
pub(crate) fn push_surface_scripts(h: &mut String, surfaces: &[InteractiveSurface]) {
    if surfaces.is_empty() {
        h.push_str("<script>document.body.dataset.plotsRendered = '0';</script>\n");
    } else {
        h.push_str("<script type=\"application/json\" id=\"genviz-surfaces\">");
        h.push_str(&surfaces_json(surfaces));
        h.push_str("</script>\n<script>\n");
        // The bundle contains no `</script` (checked by a unit test), so it can be inlined as is.
        h.push_str(PLOTLY_JS);
        h.push_str("\n</script>\n<script>\n");
        h.push_str(&surface_js());
        h.push_str("</script>\n");
    }
}

/// The script that draws every `genviz-surface-{i}` from the `genviz-surfaces` JSON, with its
/// thresholds filled in.
pub(crate) fn surface_js() -> String {
    SURFACE_JS
        .replace(
            "__MIN_COLORED_FRACTION__",
            &MIN_COLORED_FRACTION.to_string(),
        )
        .replace("__COLORED_SPREAD__", &COLORED_SPREAD.to_string())
}

pub(crate) fn validate_surface(path: &Path, i: usize, s: &InteractiveSurface) -> Result<()> {
    let what = format!(
        "{}: interactive surface {i} ({:?})",
        path.display(),
        s.title
    );
    for (name, coords) in [("xs", &s.xs), ("ys", &s.ys)] {
        crate::checks::check_axis(name, coords)
            .map_err(|e| Error::invalid(format!("{what}: {e}")))?;
    }
    let expected = s.xs.len() * s.ys.len();
    if s.z.len() != expected {
        return Err(Error::invalid(format!(
            "{what}: z has {} values, expected {} x {} = {expected} (row-major [ny, nx])",
            s.z.len(),
            s.ys.len(),
            s.xs.len()
        )));
    }
    Ok(())
}

/// Plain text to `<p>` elements: blank lines separate paragraphs, single newlines are kept as
/// spaces by the browser.
pub(crate) fn push_paragraphs(h: &mut String, text: &str) {
    let mut paragraph = String::new();
    let flush = |h: &mut String, p: &mut String| {
        if !p.trim().is_empty() {
            let _ = writeln!(h, "<p>{}</p>", esc(p.trim()));
        }
        p.clear();
    };
    for line in text.lines() {
        if line.trim().is_empty() {
            flush(h, &mut paragraph);
        } else {
            paragraph.push_str(line);
            paragraph.push('\n');
        }
    }
    flush(h, &mut paragraph);
}

fn push_contents(h: &mut String, report: &Report) {
    let mut items = Vec::new();
    if !report.results.is_empty() {
        items.push(("results".to_string(), "Results".to_string()));
    }
    for (i, s) in report.sections.iter().enumerate() {
        items.push((format!("section-{i}"), s.heading.clone()));
    }
    if !report.surfaces.is_empty() {
        items.push(("surfaces".into(), "Interactive 3-D surfaces".into()));
    }
    items.push(("reproduce".into(), "How this was made".into()));
    h.push_str("<nav>\n<h2>Contents</h2>\n<ol>\n");
    for (id, text) in items {
        let _ = writeln!(h, "<li><a href=\"#{id}\">{}</a></li>", esc(&text));
    }
    h.push_str("</ol>\n</nav>\n");
}

/// The results table as a section with element id `id` under the heading `heading`.
pub(crate) fn push_results(h: &mut String, id: &str, heading: &str, rows: &[ReportRow]) {
    let passed = rows.iter().filter(|r| r.pass).count();
    let class = if passed == rows.len() { "pass" } else { "fail" };
    let _ = writeln!(
        h,
        "<section id=\"{}\">\n<h2>{}</h2>\n<p class=\"summary {class}\">{passed} of {} \
         checks pass.</p>",
        esc(id),
        esc(heading),
        rows.len()
    );
    h.push_str(
        "<div class=\"table-wrap\">\n<table class=\"results\">\n<thead><tr><th>Figure</th>\
         <th>Quantity</th><th class=\"num\">genviz</th><th class=\"num\">Reference</th>\
         <th>Criterion</th><th>Result</th></tr></thead>\n<tbody>\n",
    );
    for r in rows {
        let reference = match r.reference {
            Some(v) if r.source.is_empty() => format_number(v),
            Some(v) => format!(
                "{} <span class=\"source\">({})</span>",
                format_number(v),
                esc(&r.source)
            ),
            None => "&ndash;".into(),
        };
        let (class, verdict) = if r.pass {
            ("pass", "pass")
        } else {
            ("fail", "FAIL")
        };
        let _ = writeln!(
            h,
            "<tr class=\"{class}\"><td>{}</td><td>{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{reference}</td><td>{}</td><td><span class=\"badge {class}\">\
             {verdict}</span></td></tr>",
            esc(&r.figure),
            esc(&r.quantity),
            format_number(r.measured),
            esc(&r.criterion),
        );
    }
    h.push_str("</tbody>\n</table>\n</div>\n</section>\n");
}

pub(crate) fn push_figure(
    h: &mut String,
    report_path: &Path,
    dir: &Path,
    figure: &ReportFigure,
) -> Result<()> {
    let file = dir.join(&figure.file);
    let context = |msg: String| {
        Error::invalid(format!(
            "{}: figure {}: {msg}",
            report_path.display(),
            file.display()
        ))
    };
    let ext = file
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let mime = match ext.as_str() {
        "png" => "image/png",
        "gif" => "image/gif",
        "jpg" | "jpeg" => "image/jpeg",
        "svg" => "image/svg+xml",
        _ => {
            return Err(context(format!(
                "extension {ext:?} is not an image this report can embed (expected png, gif, \
                 jpg, jpeg or svg)"
            )))
        }
    };
    let bytes = std::fs::read(&file).map_err(|e| {
        Error::io(
            &file,
            std::io::Error::new(
                e.kind(),
                format!(
                    "reading a figure for the report {}: {e}",
                    report_path.display()
                ),
            ),
        )
    })?;
    let magic_ok = match mime {
        "image/png" => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "image/gif" => bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a"),
        "image/jpeg" => bytes.starts_with(b"\xff\xd8\xff"),
        _ => std::str::from_utf8(&bytes).is_ok_and(|s| s.contains("<svg")),
    };
    if !magic_ok {
        return Err(Error::BadFile {
            path: file.clone(),
            message: format!(
                "not a {ext} image (its first bytes do not match), so it cannot go into the \
                 report {}",
                report_path.display()
            ),
        });
    }
    let shown_name = figure.file.display().to_string();
    let _ = writeln!(
        h,
        "<figure>\n<img src=\"data:{mime};base64,{}\" alt=\"{}\">\n\
         <figcaption>{} <span class=\"file\">{}</span></figcaption>\n</figure>",
        base64(&bytes),
        esc(&figure.caption),
        esc(&figure.caption),
        esc(&shown_name)
    );
    Ok(())
}

fn push_surfaces(h: &mut String, surfaces: &[InteractiveSurface]) {
    h.push_str(
        "<section id=\"surfaces\">\n<h2>Interactive 3-D surfaces</h2>\n<p class=\"hint\">Drag to \
         rotate, scroll to zoom, hover for values. Gaps are points that were not computed.</p>\n",
    );
    for (i, s) in surfaces.iter().enumerate() {
        push_surface_figure(h, i, s);
    }
    h.push_str("</section>\n");
}

/// One surface's figure: its title, the element plotly draws into (`genviz-surface-{index}`,
/// `index` counting every surface of the page) and its caption.
pub(crate) fn push_surface_figure(h: &mut String, index: usize, s: &InteractiveSurface) {
    let _ = writeln!(
        h,
        "<figure class=\"surface\">\n<h3>{}</h3>\n<div class=\"plot\" id=\"genviz-surface-{index}\">\
         </div>",
        esc(&s.title)
    );
    if !s.caption.trim().is_empty() {
        let _ = writeln!(h, "<figcaption>{}</figcaption>", esc(&s.caption));
    }
    h.push_str("</figure>\n");
}

/// The "How this was made" section: the exact `command`, and the configuration text with its
/// file name, `(config, config_name)`, when there is one.
pub(crate) fn push_reproduce(h: &mut String, command: &str, config: Option<(&str, &str)>) {
    h.push_str("<section id=\"reproduce\">\n<h2>How this was made</h2>\n<h3>Command</h3>\n");
    let _ = writeln!(h, "<pre class=\"code\"><code>{}</code></pre>", esc(command));
    if let Some((config, config_name)) = config {
        let name = if config_name.trim().is_empty() {
            "Configuration".to_string()
        } else {
            format!("Configuration ({config_name})")
        };
        let _ = writeln!(
            h,
            "<h3>{}</h3>\n<pre class=\"code\"><code>{}</code></pre>",
            esc(&name),
            esc(config)
        );
    }
    h.push_str("</section>\n");
}

/// The surfaces as a JSON array for the page's script; non-finite values become `null` (a gap
/// in plotly's surface). Safe to put inside `<script>`: every `<`, `>` and `&` is written as a
/// `\u` escape, so no string can close the element.
pub(crate) fn surfaces_json(surfaces: &[InteractiveSurface]) -> String {
    let finite = |v: f64| v.is_finite().then_some(v);
    let value: Vec<serde_json::Value> = surfaces
        .iter()
        .map(|s| {
            let nx = s.xs.len();
            let rows: Vec<Vec<Option<f64>>> =
                s.z.chunks(nx)
                    .map(|row| row.iter().map(|&v| finite(v)).collect())
                    .collect();
            serde_json::json!({
                "title": s.title,
                "x": s.xs,
                "y": s.ys,
                "z": rows,
                "x_label": s.x_label,
                "y_label": s.y_label,
                "z_label": s.z_label,
                "z_range": s.z_range.filter(|[lo, hi]| lo.is_finite() && hi.is_finite() && lo < hi),
            })
        })
        .collect();
    script_json(&serde_json::Value::Array(value))
}

/// `value` as JSON that is safe inside a `<script>` element: every `<`, `>` and `&` (and the
/// two line separators JavaScript once rejected) is written as a `\u` escape, so no string can
/// close the element or open a comment.
pub(crate) fn script_json(value: &serde_json::Value) -> String {
    // Serialising a `Value` cannot fail (its map keys are strings).
    let json = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
    replace_chars(&json, |c| match c {
        '<' => Some("\\u003c"),
        '>' => Some("\\u003e"),
        '&' => Some("\\u0026"),
        '\u{2028}' => Some("\\u2028"),
        '\u{2029}' => Some("\\u2029"),
        _ => None,
    })
}

/// `text` with every character for which `escape` gives a replacement replaced by it.
fn replace_chars(text: &str, escape: impl Fn(char) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match escape(c) {
            Some(e) => out.push_str(e),
            None => out.push(c),
        }
    }
    out
}

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn esc(text: &str) -> String {
    replace_chars(text, |c| match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&quot;"),
        '\'' => Some("&#39;"),
        _ => None,
    })
}

/// A number for the results table: five significant digits, trailing zeros dropped, and
/// scientific notation outside `1e-3 ..= 1e6` (log10 basin volumes such as `-4123.7` stay
/// plain; losses such as `3.2e-5` do not become `0.000032`).
pub(crate) fn format_number(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "&infin;" } else { "&minus;&infin;" }.into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    if !(1e-3..1e6).contains(&a) {
        let s = format!("{x:.4e}");
        let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
        return format!("{}e{exponent}", trim_zeros(mantissa));
    }
    let digits = (4 - a.log10().floor() as i32).max(0) as usize;
    trim_zeros(&format!("{x:.digits$}")).to_string()
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Standard base64 (RFC 4648, with padding), for `data:` URIs.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (k, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if k <= chunk.len() {
                out.push(ALPHABET[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Light theme, one readable column, system fonts only (no web fonts: the page is offline).
pub(crate) const CSS: &str = r#"
:root { --fg: #1d2330; --muted: #5d6778; --line: #dde2ea; --bg: #ffffff; --soft: #f5f7fa;
        --pass: #1f7a3d; --pass-bg: #e6f4ea; --fail: #b3261e; --fail-bg: #fce8e6; --link: #1a5fb4; }
* { box-sizing: border-box; }
html { background: var(--bg); }
body { margin: 0; color: var(--fg); font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto,
       "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1000px; margin: 0 auto; padding: 2rem 1.25rem 4rem; }
h1 { font-size: 1.9rem; line-height: 1.25; margin: 0 0 0.75rem; }
h2 { font-size: 1.4rem; margin: 2.5rem 0 0.75rem; padding-bottom: 0.3rem;
     border-bottom: 1px solid var(--line); }
h3 { font-size: 1.1rem; margin: 1.5rem 0 0.5rem; }
p { margin: 0.5rem 0 0.9rem; }
a { color: var(--link); }
header p { color: var(--fg); }
nav { background: var(--soft); border: 1px solid var(--line); border-radius: 6px;
      padding: 0.25rem 1.25rem 0.75rem; margin: 1.5rem 0; }
nav h2 { font-size: 1rem; border: 0; margin: 0.75rem 0 0.25rem; }
nav ol { margin: 0; padding-left: 1.4rem; }
figure { margin: 1.5rem 0 2rem; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto;
             border: 1px solid var(--line); border-radius: 4px; }
figcaption { color: var(--muted); font-size: 0.93rem; margin-top: 0.6rem; }
figcaption .file, .source { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas,
                            monospace; font-size: 0.8rem; color: #8a93a3; }
figcaption .file::before { content: "\2014\00a0"; }
.surface .plot { width: 100%; height: 560px; border: 1px solid var(--line); border-radius: 4px; }
.hint { color: var(--muted); font-size: 0.93rem; }
.table-wrap { overflow-x: auto; }
table.results { border-collapse: collapse; width: 100%; font-size: 0.93rem; }
table.results th, table.results td { padding: 0.45rem 0.6rem; border-bottom: 1px solid var(--line);
                                     text-align: left; vertical-align: top; }
table.results th { background: var(--soft); font-weight: 600; }
table.results td.num, table.results th.num { text-align: right;
                                              font-variant-numeric: tabular-nums; }
table.results tr.fail td { background: var(--fail-bg); }
.badge { display: inline-block; padding: 0.05rem 0.5rem; border-radius: 999px; font-weight: 600;
         font-size: 0.8rem; }
.badge.pass { color: var(--pass); background: var(--pass-bg); }
.badge.fail { color: #fff; background: var(--fail); }
.summary { font-weight: 600; }
.summary.pass { color: var(--pass); }
.summary.fail { color: var(--fail); }
pre.code { background: var(--soft); border: 1px solid var(--line); border-radius: 6px;
           padding: 0.75rem 1rem; overflow-x: auto; font-size: 0.85rem; line-height: 1.45; }
pre, code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.errors { background: var(--fail-bg); border: 1px solid var(--fail); border-radius: 6px;
          padding: 0.5rem 1rem; margin-bottom: 1.5rem; color: var(--fail); }
.errors h2 { border: 0; margin: 0.5rem 0; font-size: 1.1rem; }
footer { margin-top: 3rem; color: var(--muted); font-size: 0.85rem; }
footer pre { white-space: pre-wrap; font-size: 0.75rem; }
@media print { nav, .hint { display: none; } .surface { break-inside: avoid; } }
"#;

/// Installed first, before any other script: every uncaught error, unhandled rejection and
/// `console.error` becomes a line in the visible error box, and `data-js-errors` on `<body>`
/// counts them, so a reader and a headless test both see a broken page as broken.
pub(crate) const ERROR_COLLECTOR_JS: &str = r#"
(function () {
  'use strict';
  var pending = [];
  function show(message) {
    var list = document.getElementById('js-error-list');
    if (!list) { pending.push(message); return; }
    var li = document.createElement('li');
    li.textContent = String(message);
    list.appendChild(li);
    document.getElementById('js-errors').hidden = false;
    document.body.dataset.jsErrors = String(list.children.length);
  }
  window.genvizReportError = show;
  window.addEventListener('error', function (e) {
    show('uncaught error: ' + (e.message || e) + (e.filename ? ' (' + e.filename + ':' + e.lineno + ')' : ''));
  });
  window.addEventListener('unhandledrejection', function (e) {
    show('unhandled promise rejection: ' + (e.reason && e.reason.stack ? e.reason.stack : e.reason));
  });
  // The page's Content-Security-Policy forbids any network access; a library that tries
  // anyway is a bug in the page (it would not work offline), so say so.
  document.addEventListener('securitypolicyviolation', function (e) {
    show('blocked by the offline policy: ' + e.violatedDirective + ' ' + e.blockedURI);
  });
  var consoleError = console.error;
  console.error = function () {
    show('console.error: ' + Array.prototype.map.call(arguments, String).join(' '));
    return consoleError.apply(console, arguments);
  };
  document.addEventListener('DOMContentLoaded', function () {
    var queued = pending; pending = [];
    queued.forEach(show);
  });
})();
"#;

/// Draws every surface, then checks that each WebGL canvas really shows something (plotly
/// falls back to a "WebGL is not supported" notice without failing) and records the outcome on
/// `<body>` for tests. The pixel read-back goes through plotly's scene object
/// (`_fullLayout.scene._scene.glplot`), an internal of the vendored, pinned version; if it is
/// missing the check reports an error rather than passing silently.
const SURFACE_JS: &str = r#"
(function () {
  'use strict';
  var MIN_COLORED_FRACTION = __MIN_COLORED_FRACTION__;
  var COLORED_SPREAD = __COLORED_SPREAD__;
  // Matplotlib's "coolwarm", as in genviz's static 3-D figures: blue low, red high.
  var COOLWARM = [[0, '#3b4cc0'], [0.125, '#5977e3'], [0.25, '#7b9ff9'], [0.375, '#9ebeff'],
                  [0.5, '#dddddd'], [0.625, '#f6b89c'], [0.75, '#f49a7b'], [0.875, '#e7745b'],
                  [1, '#b40426']];
  var FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';
  document.body.dataset.plotsRendered = '0';
  if (typeof Plotly === 'undefined') {
    window.genvizReportError('plotly.js did not load, so the 3-D surfaces cannot be drawn');
    return;
  }
  var surfaces = JSON.parse(document.getElementById('genviz-surfaces').textContent);

  function coloredFraction(gd) {
    var scene = gd._fullLayout && gd._fullLayout.scene && gd._fullLayout.scene._scene;
    if (!scene || !scene.glplot || !scene.glplot.gl) return -1;
    scene.glplot.redraw();
    var gl = scene.glplot.gl;
    var w = gl.drawingBufferWidth, h = gl.drawingBufferHeight;
    if (!w || !h) return 0;
    var px = new Uint8Array(w * h * 4);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, px);
    var colored = 0;
    for (var k = 0; k < px.length; k += 4) {
      var r = px[k], g = px[k + 1], b = px[k + 2];
      if (px[k + 3] > 0 && Math.max(r, g, b) - Math.min(r, g, b) > COLORED_SPREAD) colored++;
    }
    return colored / (w * h);
  }

  var jobs = surfaces.map(function (s, i) {
    var gd = document.getElementById('genviz-surface-' + i);
    var trace = {
      type: 'surface', x: s.x, y: s.y, z: s.z, colorscale: COOLWARM,
      colorbar: { title: { text: s.z_label, side: 'right' }, thickness: 14 },
      contours: { z: { show: true, usecolormap: true, highlightcolor: '#222', project: { z: true } } },
      hovertemplate: s.x_label + ' %{x:.4g}<br>' + s.y_label + ' %{y:.4g}<br>' + s.z_label +
        ' %{z:.4g}<extra></extra>'
    };
    var axis = function (title) {
      return { title: { text: title }, backgroundcolor: '#f5f7fa', showbackground: true,
               gridcolor: '#d0d5dd', zerolinecolor: '#9aa3b2' };
    };
    var zaxis = axis(s.z_label);
    if (s.z_range) {
      trace.cmin = s.z_range[0];
      trace.cmax = s.z_range[1];
      // A little room above and below: a surface lying on the box's edge (the clipped top)
      // would be cut by it and show speckled.
      var pad = 0.02 * (s.z_range[1] - s.z_range[0]);
      zaxis.range = [s.z_range[0] - pad, s.z_range[1] + pad];
    }
    var layout = {
      font: { family: FONT, size: 12, color: '#1d2330' },
      margin: { l: 0, r: 0, t: 10, b: 0 },
      paper_bgcolor: '#ffffff',
      scene: {
        xaxis: axis(s.x_label), yaxis: axis(s.y_label), zaxis: zaxis,
        aspectmode: 'manual', aspectratio: { x: 1, y: 1, z: 0.7 },
        // About 30 degrees above the plane, 45 degrees round: the view of the static figures.
        camera: { eye: { x: 1.45, y: -1.45, z: 1.2 } }
      }
    };
    var config = { responsive: true, displaylogo: false, showLink: false, showSendToCloud: false };
    return Plotly.newPlot(gd, [trace], layout, config).then(function (gd) {
      // Pages that show more about a point (the image-model view) listen for this on the plot.
      gd.on('plotly_hover', function (ev) {
        var p = ev && ev.points && ev.points[0];
        if (p) gd.dispatchEvent(new CustomEvent('genviz-hover', { detail: { x: p.x, y: p.y } }));
      });
      var fraction = coloredFraction(gd);
      gd.dataset.coloredFraction = fraction.toFixed(4);
      if (fraction < 0) {
        window.genvizReportError('surface "' + s.title + '": no WebGL canvas to read back; ' +
          'is WebGL available in this browser?');
        return 0;
      }
      if (fraction <= MIN_COLORED_FRACTION) {
        window.genvizReportError('surface "' + s.title + '": the WebGL canvas drew nothing (' +
          (100 * fraction).toFixed(2) + '% coloured pixels); is WebGL available?');
        return 0;
      }
      return 1;
    });
  });
  Promise.all(jobs).then(function (ok) {
    document.body.dataset.plotsRendered =
      String(ok.reduce(function (a, b) { return a + b; }, 0));
  }, function (err) {
    window.genvizReportError('drawing the surfaces failed: ' + (err && err.stack ? err.stack : err));
  });
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, expected) in cases {
            assert_eq!(base64(input.as_bytes()), expected, "{input:?}");
        }
        assert_eq!(base64(&[0xff, 0xfe, 0x00]), "//4A");
    }

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn numbers_keep_five_significant_digits() {
        assert_eq!(format_number(-4123.7), "-4123.7");
        assert_eq!(format_number(0.97531), "0.97531");
        assert_eq!(format_number(0.5), "0.5");
        assert_eq!(format_number(12.0), "12");
        assert_eq!(format_number(3.2e-5), "3.2e-5");
        assert_eq!(format_number(1.23456e7), "1.2346e7");
        assert_eq!(format_number(0.0), "0");
        assert_eq!(format_number(f64::NAN), "NaN");
    }

    #[test]
    fn the_bundle_can_be_inlined_and_the_version_is_recorded() {
        assert!(!PLOTLY_JS.to_ascii_lowercase().contains("</script"));
        assert!(
            PLOTLY_JS.len() > 1_000_000,
            "the gl3d bundle looks truncated"
        );
        let version = PLOTLY_VERSION.trim();
        assert!(
            PLOTLY_JS[..200].contains(&format!("v{version}")),
            "assets/PLOTLY_VERSION ({version}) does not match the bundle's header"
        );
        assert!(PLOTLY_LICENSE.contains("MIT License"));
    }

    #[test]
    fn surface_json_cannot_close_the_script_and_gaps_are_null() {
        let s = InteractiveSurface {
            title: "</script><b>".into(),
            xs: vec![0.0, 1.0],
            ys: vec![0.0, 1.0],
            z: vec![1.0, f64::NAN, f64::INFINITY, -1.0],
            z_label: "a & b".into(),
            ..Default::default()
        };
        let json = surfaces_json(std::slice::from_ref(&s));
        assert!(!json.contains('<') && !json.contains('&'), "{json}");
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back[0]["title"], "</script><b>");
        assert_eq!(back[0]["z"], serde_json::json!([[1.0, null], [null, -1.0]]));
        assert_eq!(back[0]["z_label"], "a & b");
        assert!(back[0]["z_range"].is_null());
        let shared = InteractiveSurface {
            z_range: Some([0.5, 10.0]),
            ..s.clone()
        };
        let empty = InteractiveSurface {
            z_range: Some([2.0, 2.0]),
            ..s
        };
        let back: serde_json::Value =
            serde_json::from_str(&surfaces_json(&[shared, empty])).unwrap();
        assert_eq!(back[0]["z_range"], serde_json::json!([0.5, 10.0]));
        // An empty range would hide the surface: the plot's own range instead.
        assert!(back[1]["z_range"].is_null());
    }

    #[test]
    fn paragraphs_split_on_blank_lines() {
        let mut h = String::new();
        push_paragraphs(&mut h, "one\ntwo\n\n  \nthree <x>\n");
        assert_eq!(h, "<p>one\ntwo</p>\n<p>three &lt;x&gt;</p>\n");
    }
}

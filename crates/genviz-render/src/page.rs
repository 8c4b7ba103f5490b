//! The page of one run: a typed description ([`RunPage`]) of what a run folder holds, rendered
//! into one offline, self-contained `report.html`.
//!
//! Every analysis command describes its results the same way: a title, the exact command line,
//! and a list of [`PageBlock`]s in reading order (free text, figures, the numbers of `run.json`,
//! pass/fail checks, interactive 3-D surfaces, landscape explorers, image-model hover views).
//! [`write_run_page`] turns that description into HTML and writes it atomically. It computes
//! nothing: every number, grid and weight is handed in, and the page only shows them (the
//! explorer's script evaluates the network it is given, in the browser, as the reader asks).
//!
//! The page follows the paper report's rules (see [`crate::write_report`]): figures are
//! embedded as `data:` URIs, plotly.js is inlined only when there is a 3-D surface, a strict
//! Content-Security-Policy forbids every network access, and a script at the top collects
//! errors into a visible box and into `data-js-errors` on `<body>`, so that a headless
//! browser can tell a broken page from a working one.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use genviz_core::{Error, Result};
use serde_json::Value;

use crate::explorer::{self, ExplorerGroup};
use crate::hover::{self, HoverView};
use crate::output::folder_of;
use crate::report::{
    esc, format_number, push_figure, push_paragraphs, push_plotly_licence, push_reproduce,
    push_results, push_shell, push_surface_figure, push_surface_scripts, script_json,
    validate_surface, PLOTLY_JS,
};
use crate::{InteractiveSurface, Report, ReportFigure, ReportRow, ReportSection};

/// Scalar arrays up to this long are shown whole in a numbers table; longer ones show their
/// first [`ARRAY_HEAD`] values and their length (a surface's 2,601 losses would fill a screen).
const ARRAY_INLINE: usize = 8;
/// Values shown of a long scalar array.
const ARRAY_HEAD: usize = 4;
/// Arrays of objects or arrays up to this long are expanded element by element; longer ones
/// are summarised by their length.
const ARRAY_EXPAND: usize = 64;
/// A group of a numbers table (one top-level key) starts open when it has at most this many
/// rows; bigger groups (usually the full config) start folded, one click away.
const OPEN_ROWS: usize = 30;

/// The page of one run: what [`write_run_page`] writes as `report.html`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunPage {
    /// The page title and top heading, e.g. `"genviz surface: swiss roll, clean minimum"`.
    pub title: String,
    /// Plain text under the title: what the run did and what to look at. Blank lines separate
    /// paragraphs; no markup is interpreted.
    pub intro: String,
    /// The exact command line that made the run, shown verbatim at the top and again at the
    /// end.
    pub command: String,
    /// The full configuration text (TOML or JSON), shown verbatim at the end; may be empty
    /// (the block is then left out).
    pub config: String,
    /// What `config` is, e.g. `"config.toml"`; labels the config block.
    pub config_name: String,
    /// The content, in reading order.
    pub blocks: Vec<PageBlock>,
}

/// One part of a [`RunPage`]; each becomes a section with a heading and an entry in the
/// page's table of contents.
#[derive(Debug, Clone, PartialEq)]
pub enum PageBlock {
    /// Free text under a heading.
    Text(TextBlock),
    /// A heading, a paragraph and figure files from the run folder (PNG, GIF, JPEG or SVG),
    /// embedded in the page.
    Figures(ReportSection),
    /// A JSON value (typically the run's `run.json`) as tables of its leaves.
    Numbers(NumbersBlock),
    /// Measured numbers against references and criteria, with pass/fail badges (the paper's
    /// results table).
    Checks(ChecksBlock),
    /// Interactive 3-D surfaces drawn with the vendored plotly.js.
    Surfaces(SurfaceBlock),
    /// Landscape explorers for networks with 2-D inputs, side by side on one colour scale.
    Explorers(ExplorerGroup),
    /// A 3-D surface whose points show precomputed numbers (and image predictions) on hover
    /// (boxed: it is much larger than the other blocks).
    Hover(Box<HoverView>),
}

/// Free text under a heading.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TextBlock {
    /// The section heading.
    pub heading: String,
    /// Plain text; blank lines separate paragraphs, no markup is interpreted.
    pub text: String,
}

/// A JSON value shown as tables: one folding group per top-level key, one row per leaf, named
/// by its path (`final.test_acc`, `timings.train`, `config.train.steps`).
#[derive(Debug, Clone, PartialEq)]
pub struct NumbersBlock {
    /// The section heading, e.g. `"Numbers"`.
    pub heading: String,
    /// Where the numbers come from, e.g. `"run.json"`; shown under the heading (may be empty).
    pub source: String,
    /// The value. Objects nest into dotted paths, short arrays show inline, long arrays by
    /// their first values and length.
    pub value: Value,
}

/// Pass/fail checks under a heading.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChecksBlock {
    /// The section heading, e.g. `"Results"`.
    pub heading: String,
    /// The rows, in order.
    pub rows: Vec<ReportRow>,
}

/// Interactive 3-D surfaces under a heading.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SurfaceBlock {
    /// The section heading, e.g. `"Interactive 3-D surfaces"`.
    pub heading: String,
    /// Plain text under the heading (may be empty).
    pub text: String,
    /// The surfaces, in order; see [`InteractiveSurface`] for what each must hold.
    pub surfaces: Vec<InteractiveSurface>,
}

impl From<Report> for RunPage {
    /// The paper report as a run page, in the same order (results, figure sections,
    /// surfaces), so that `genviz paper` can add explorer blocks to it.
    fn from(report: Report) -> Self {
        let mut blocks = Vec::new();
        if !report.results.is_empty() {
            blocks.push(PageBlock::Checks(ChecksBlock {
                heading: "Results".into(),
                rows: report.results,
            }));
        }
        blocks.extend(report.sections.into_iter().map(PageBlock::Figures));
        if !report.surfaces.is_empty() {
            blocks.push(PageBlock::Surfaces(SurfaceBlock {
                heading: "Interactive 3-D surfaces".into(),
                text: String::new(),
                surfaces: report.surfaces,
            }));
        }
        RunPage {
            title: report.title,
            intro: report.intro,
            command: report.command,
            config: report.config,
            config_name: report.config_name,
            blocks,
        }
    }
}

/// The figure files directly in `dir` (PNG, GIF, JPEG and SVG, not in subfolders), sorted by
/// name, with empty captions: what a page rebuilt from a run folder alone can show. Paths are
/// relative to `dir`, as [`ReportFigure::file`] expects for a page written into `dir`.
///
/// # Errors
///
/// [`Error::Io`] if `dir` cannot be read.
pub fn figures_in(dir: &Path) -> Result<Vec<ReportFigure>> {
    let mut names: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let is_figure = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .is_some_and(|e| matches!(e.as_str(), "png" | "gif" | "jpg" | "jpeg" | "svg"));
        // Hidden files are half-written temporaries of atomic writes.
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if is_figure && !hidden && path.is_file() {
            names.push(PathBuf::from(entry.file_name()));
        }
    }
    names.sort();
    Ok(names
        .into_iter()
        .map(|file| ReportFigure {
            file,
            caption: String::new(),
        })
        .collect())
}

/// Writes `page` as one self-contained HTML file at `path`, atomically.
///
/// Figures are read from `path`'s folder and embedded (see [`ReportFigure::file`]). The page
/// needs nothing else: plotly.js is inlined when a [`PageBlock::Surfaces`] or
/// [`PageBlock::Hover`] block is present, the explorer's and the hover view's scripts when
/// theirs are, and the explorer's weights, directions and data travel in the page as base64
/// float32. The output is deterministic: the same page and files give the same bytes.
///
/// # Errors
///
/// [`Error::Invalid`] if a block is inconsistent (a surface grid of the wrong size, explorer
/// weights that do not fit its layer widths, a label outside the classes, ...), naming the
/// block and the field; [`Error::BadFile`] or [`Error::Io`] for a figure that cannot be
/// embedded; [`Error::Io`] if the page cannot be written. Every message names `path`.
/// Everything is checked before anything is written, and on error no file is left behind.
///
/// # Example
///
/// ```
/// use genviz_render::{write_run_page, NumbersBlock, PageBlock, RunPage, TextBlock};
///
/// let dir = tempfile::tempdir()?;
/// let page = RunPage {
///     title: "genviz surface: swiss roll".into(),
///     command: "genviz surface --model runs/clean --out runs/clean-surface".into(),
///     blocks: vec![
///         PageBlock::Text(TextBlock {
///             heading: "What this is".into(),
///             text: "The loss around the clean minimum.".into(),
///         }),
///         PageBlock::Numbers(NumbersBlock {
///             heading: "Numbers".into(),
///             source: "run.json".into(),
///             value: serde_json::json!({"final": {"train_acc": 1.0, "test_acc": 0.975}}),
///         }),
///     ],
///     ..Default::default()
/// };
/// write_run_page(&dir.path().join("report.html"), &page)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_run_page(path: &Path, page: &RunPage) -> Result<()> {
    let html = render_run_page(path, page)?;
    genviz_core::io::write_atomic(path, html.as_bytes())
}

/// What a page needs besides its HTML, collected while its blocks are written.
#[derive(Default)]
struct Needs {
    /// Every 3-D surface of the page, in the order of their `genviz-surface-{i}` elements.
    surfaces: Vec<InteractiveSurface>,
    /// Whether the explorer script is needed.
    explorer: bool,
    /// Whether the hover-view script is needed.
    hover: bool,
}

fn render_run_page(path: &Path, page: &RunPage) -> Result<String> {
    for (k, block) in page.blocks.iter().enumerate() {
        validate_block(path, k, block)?;
    }
    let dir = folder_of(path);

    let mut body = String::with_capacity(1 << 16);
    let mut needs = Needs::default();
    for (k, block) in page.blocks.iter().enumerate() {
        push_block(&mut body, path, dir, k, block, &mut needs)?;
    }

    let mut h = String::with_capacity(body.len() + PLOTLY_JS.len() + (1 << 16));
    push_head(&mut h, &page.title);
    let _ = writeln!(h, "<header>\n<h1>{}</h1>", esc(&page.title));
    push_paragraphs(&mut h, &page.intro);
    if !page.command.trim().is_empty() {
        let _ = writeln!(
            h,
            "<pre class=\"code command\"><code>{}</code></pre>",
            esc(&page.command)
        );
    }
    h.push_str("</header>\n");
    push_contents(&mut h, page);
    h.push_str(&body);
    // A page rebuilt from a folder may have no configuration to show.
    let config = (!page.config.trim().is_empty()).then_some((&*page.config, &*page.config_name));
    push_reproduce(&mut h, &page.command, config);
    if !needs.surfaces.is_empty() {
        push_plotly_licence(&mut h);
    }
    h.push_str("</main>\n");
    push_scripts(&mut h, &needs);
    h.push_str("</body>\n</html>\n");
    Ok(h)
}

/// `<!DOCTYPE>` to the opening of `<main>`, with the error box: the paper report's shell
/// ([`push_shell`]) with the run pages' style added.
pub(crate) fn push_head(h: &mut String, title: &str) {
    push_shell(h, title, PAGE_CSS);
}

fn validate_block(path: &Path, k: usize, block: &PageBlock) -> Result<()> {
    match block {
        PageBlock::Surfaces(s) => {
            for (i, surface) in s.surfaces.iter().enumerate() {
                validate_surface(path, i, surface).map_err(|e| in_block(k, block, e))?;
            }
            Ok(())
        }
        PageBlock::Explorers(g) => explorer::validate(path, k, g),
        PageBlock::Hover(v) => hover::validate(path, k, v),
        PageBlock::Text(_)
        | PageBlock::Figures(_)
        | PageBlock::Numbers(_)
        | PageBlock::Checks(_) => Ok(()),
    }
}

/// Adds "block k (heading)" to an error about one of a block's surfaces.
fn in_block(k: usize, block: &PageBlock, e: Error) -> Error {
    match e {
        Error::Invalid(m) => Error::invalid(format!("block {k} ({:?}): {m}", heading(block))),
        other => other,
    }
}

fn heading(block: &PageBlock) -> &str {
    match block {
        PageBlock::Text(b) => &b.heading,
        PageBlock::Figures(b) => &b.heading,
        PageBlock::Numbers(b) => &b.heading,
        PageBlock::Checks(b) => &b.heading,
        PageBlock::Surfaces(b) => &b.heading,
        PageBlock::Explorers(b) => &b.heading,
        PageBlock::Hover(b) => &b.heading,
    }
}

fn push_contents(h: &mut String, page: &RunPage) {
    h.push_str("<nav>\n<h2>Contents</h2>\n<ol>\n");
    for (k, block) in page.blocks.iter().enumerate() {
        let _ = writeln!(
            h,
            "<li><a href=\"#block-{k}\">{}</a></li>",
            esc(heading(block))
        );
    }
    h.push_str("<li><a href=\"#reproduce\">How this was made</a></li>\n</ol>\n</nav>\n");
}

fn push_block(
    h: &mut String,
    path: &Path,
    dir: &Path,
    k: usize,
    block: &PageBlock,
    needs: &mut Needs,
) -> Result<()> {
    match block {
        PageBlock::Text(b) => {
            let _ = writeln!(
                h,
                "<section id=\"block-{k}\">\n<h2>{}</h2>",
                esc(&b.heading)
            );
            push_paragraphs(h, &b.text);
            h.push_str("</section>\n");
        }
        PageBlock::Figures(b) => {
            let _ = writeln!(
                h,
                "<section id=\"block-{k}\">\n<h2>{}</h2>",
                esc(&b.heading)
            );
            push_paragraphs(h, &b.text);
            for figure in &b.figures {
                push_figure(h, path, dir, figure)?;
            }
            h.push_str("</section>\n");
        }
        PageBlock::Numbers(b) => push_numbers(h, k, b),
        PageBlock::Checks(b) => {
            push_results(h, &format!("block-{k}"), &b.heading, &b.rows);
        }
        PageBlock::Surfaces(b) => {
            let _ = writeln!(
                h,
                "<section id=\"block-{k}\" class=\"surfaces\">\n<h2>{}</h2>",
                esc(&b.heading)
            );
            push_paragraphs(h, &b.text);
            h.push_str(
                "<p class=\"hint\">Drag to rotate, scroll to zoom, hover for values. Gaps are \
                 points that were not computed.</p>\n",
            );
            for s in &b.surfaces {
                push_surface_figure(h, needs.surfaces.len(), s);
                needs.surfaces.push(s.clone());
            }
            h.push_str("</section>\n");
        }
        PageBlock::Explorers(g) => {
            explorer::push_group(h, k, g);
            needs.explorer = true;
        }
        PageBlock::Hover(v) => {
            hover::push_view(h, path, k, v, needs.surfaces.len())?;
            needs.surfaces.push(v.surface.clone());
            needs.hover = true;
        }
    }
    Ok(())
}

fn push_scripts(h: &mut String, needs: &Needs) {
    push_surface_scripts(h, &needs.surfaces);
    if needs.explorer {
        h.push_str("<script>\n");
        h.push_str(explorer::EXPLORER_JS);
        h.push_str("</script>\n");
    }
    if needs.hover {
        h.push_str("<script>\n");
        h.push_str(hover::HOVER_JS);
        h.push_str("</script>\n");
    }
}

/// One table per top-level key of `b.value`, each in a `<details>` that starts open when it is
/// short.
fn push_numbers(h: &mut String, k: usize, b: &NumbersBlock) {
    let _ = writeln!(
        h,
        "<section id=\"block-{k}\" class=\"numbers\">\n<h2>{}</h2>",
        esc(&b.heading)
    );
    if !b.source.trim().is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"hint\">From <code>{}</code>.</p>",
            esc(&b.source)
        );
    }
    let groups: Vec<(String, &Value)> = match &b.value {
        Value::Object(map) => map.iter().map(|(key, v)| (key.clone(), v)).collect(),
        other => vec![("value".to_string(), other)],
    };
    for (key, value) in groups {
        let mut rows = Vec::new();
        flatten(&key, value, &mut rows);
        let open = if rows.len() <= OPEN_ROWS { " open" } else { "" };
        let _ = writeln!(
            h,
            "<details{open}>\n<summary><code>{}</code> <span class=\"hint\">({} {})</span>\
             </summary>\n<div class=\"table-wrap\"><table class=\"numbers\">\n<tbody>",
            esc(&key),
            rows.len(),
            if rows.len() == 1 { "entry" } else { "entries" }
        );
        for (name, shown) in rows {
            let _ = writeln!(
                h,
                "<tr><th><code>{}</code></th><td>{shown}</td></tr>",
                esc(&name)
            );
        }
        h.push_str("</tbody>\n</table></div>\n</details>\n");
    }
    h.push_str("</section>\n");
}

/// The leaves of `value` as `(dotted path, HTML)` rows.
pub(crate) fn flatten(prefix: &str, value: &Value, rows: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, v) in map {
                flatten(&format!("{prefix}.{key}"), v, rows);
            }
        }
        Value::Array(items) if items.iter().any(|v| v.is_object() || v.is_array()) => {
            if items.len() > ARRAY_EXPAND {
                rows.push((
                    prefix.to_string(),
                    format!("<span class=\"hint\">{} entries</span>", items.len()),
                ));
            } else {
                for (i, v) in items.iter().enumerate() {
                    flatten(&format!("{prefix}[{i}]"), v, rows);
                }
            }
        }
        other => rows.push((prefix.to_string(), show_value(other))),
    }
}

/// A JSON leaf (or array of leaves) as HTML: numbers with five significant digits, integers
/// whole, strings escaped.
pub(crate) fn show_value(value: &Value) -> String {
    match value {
        Value::Null => "<span class=\"hint\">null</span>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => show_number(n),
        Value::String(s) => esc(s),
        Value::Object(_) => "<span class=\"hint\">{}</span>".into(),
        Value::Array(items) => {
            let shown: Vec<String> = items
                .iter()
                .take(if items.len() > ARRAY_INLINE {
                    ARRAY_HEAD
                } else {
                    ARRAY_INLINE
                })
                .map(show_value)
                .collect();
            if items.len() > ARRAY_INLINE {
                format!(
                    "[{}, &hellip;] <span class=\"hint\">({} values)</span>",
                    shown.join(", "),
                    items.len()
                )
            } else {
                format!("[{}]", shown.join(", "))
            }
        }
    }
}

fn show_number(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        n.to_string()
    } else {
        n.as_f64().map_or_else(|| n.to_string(), format_number)
    }
}

/// Text for JSON data embedded in a page (see [`script_json`]).
pub(crate) fn json_script(id_or_class: &str, value: &Value) -> String {
    format!(
        "<script type=\"application/json\" {id_or_class}>{}</script>\n",
        script_json(value)
    )
}

/// The styles the run page, the explorer, the hover view and the index add to the report's.
const PAGE_CSS: &str = r#"
header pre.command { margin-top: 0.75rem; }
header pre.command code::before { content: "$ "; color: var(--muted); }
section.numbers details { margin: 0.4rem 0; }
section.numbers summary { cursor: pointer; padding: 0.2rem 0; }
table.numbers { border-collapse: collapse; width: 100%; font-size: 0.88rem; margin: 0.3rem 0 0.8rem; }
table.numbers th, table.numbers td { padding: 0.25rem 0.6rem; border-bottom: 1px solid var(--line);
                                     text-align: left; vertical-align: top; }
table.numbers th { font-weight: 400; width: 40%; }
table.numbers td { font-variant-numeric: tabular-nums; word-break: break-word; }
.wide { --wide: min(1480px, calc(100vw - 3rem)); width: var(--wide);
        margin-left: calc((100% - var(--wide)) / 2); }
.explorer-controls { display: flex; flex-wrap: wrap; gap: 0.4rem 1.5rem; align-items: center;
                     margin: 0.5rem 0 1rem; font-size: 0.93rem; }
.explorer-controls fieldset { border: 1px solid var(--line); border-radius: 6px; padding: 0.2rem 0.7rem; }
.explorer-controls legend { font-size: 0.8rem; color: var(--muted); }
.explorer-row { display: grid; grid-template-columns: repeat(auto-fit, minmax(650px, 1fr)); gap: 1.2rem; }
.explorer { border: 1px solid var(--line); border-radius: 8px; padding: 0.6rem 0.8rem 0.8rem; }
.explorer h3 { margin: 0.2rem 0 0.5rem; }
.explorer-panels { display: flex; flex-wrap: wrap; gap: 0.6rem; }
.explorer-panels figure { margin: 0; }
.explorer-panels figcaption { margin-top: 0.2rem; font-size: 0.85rem; max-width: 326px;
                              text-align: center; }
.explorer canvas { display: block; }
canvas.loss-map, canvas.hover-map { cursor: crosshair; touch-action: none; }
.sliders { display: grid; grid-template-columns: auto 1fr 6.5rem; gap: 0.2rem 0.6rem;
           align-items: center; margin: 0.6rem 0 0.4rem; font-size: 0.9rem; }
.sliders input[type=range] { width: 100%; }
.sliders output { font-variant-numeric: tabular-nums; text-align: right; }
table.readout { border-collapse: collapse; font-size: 0.93rem; margin: 0.3rem 0; }
table.readout th, table.readout td { padding: 0.2rem 0.8rem 0.2rem 0; text-align: left; }
table.readout td { font-variant-numeric: tabular-nums; }
.grid-note { color: var(--muted); font-size: 0.85rem; margin: 0.2rem 0; }
.colorbar { margin: 0.8rem 0 0; }
.hover-layout { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
.hover-layout .surface { flex: 1 1 520px; margin: 0; }
.hover-side { flex: 0 1 380px; }
.strip { display: flex; flex-wrap: wrap; gap: 0.5rem; margin-top: 0.6rem; }
.strip figure { margin: 0; width: 92px; text-align: center; font-size: 0.75rem; line-height: 1.3; }
.strip .prediction { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; display: block; }
.strip img { width: 64px; height: 64px; image-rendering: pixelated; border: 1px solid var(--line);
             display: block; margin: 0 auto 0.15rem; }
.strip .ok { color: var(--pass); font-weight: 600; }
.strip .wrong { color: var(--fail); font-weight: 600; }
table.compare { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
table.compare th, table.compare td { padding: 0.4rem 0.6rem; border-bottom: 1px solid var(--line);
                                     text-align: left; vertical-align: top; }
table.compare th { background: var(--soft); font-weight: 600; }
table.compare td.num, table.compare th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.compare code { font-size: 0.78rem; word-break: break-all; }
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_leaves_become_dotted_rows() {
        let mut rows = Vec::new();
        let v = json!({
            "final": {"train_acc": 0.995, "steps": 3000},
            "ts": [0.1, 0.2],
            "long": (0..20).collect::<Vec<_>>(),
            "checks": [{"name": "a<b", "pass": true}],
            "none": null,
        });
        flatten("run", &v, &mut rows);
        let get = |k: &str| rows.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("run.final.train_acc"), Some("0.995"));
        assert_eq!(get("run.final.steps"), Some("3000"));
        assert_eq!(get("run.ts"), Some("[0.1, 0.2]"));
        assert_eq!(
            get("run.long"),
            Some("[0, 1, 2, 3, &hellip;] <span class=\"hint\">(20 values)</span>")
        );
        assert_eq!(get("run.checks[0].name"), Some("a&lt;b"));
        assert_eq!(get("run.checks[0].pass"), Some("true"));
        assert_eq!(get("run.none"), Some("<span class=\"hint\">null</span>"));
    }

    #[test]
    fn a_report_becomes_a_page_in_the_same_order() {
        let report = Report {
            title: "t".into(),
            results: vec![ReportRow::default()],
            sections: vec![ReportSection {
                heading: "Fig. 3".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let page = RunPage::from(report);
        assert!(matches!(page.blocks[0], PageBlock::Checks(_)));
        assert!(matches!(&page.blocks[1], PageBlock::Figures(s) if s.heading == "Fig. 3"));
        assert_eq!(page.blocks.len(), 2);
    }
}

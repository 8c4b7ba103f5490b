//! The index page of a folder of runs: one row per run, linking its page, with the numbers
//! chosen for comparison side by side.

use std::fmt::Write as _;
use std::path::Path;

use genviz_core::{Error, Result};
use serde_json::Value;

use crate::page::{push_head, show_value};
use crate::report::{esc, push_paragraphs};

/// What [`write_index_page`] writes: a table of runs with links to their pages.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IndexPage {
    /// The page title, e.g. `"genviz runs in runs/"`.
    pub title: String,
    /// Plain text under the title (may be empty).
    pub intro: String,
    /// The runs, one row each, in this order.
    pub runs: Vec<IndexRun>,
    /// The comparison columns, in order.
    pub columns: Vec<ComparisonColumn>,
}

/// One run of an index.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IndexRun {
    /// The run's name, e.g. its folder name `"swissroll-clean"`.
    pub name: String,
    /// Where its page is, relative to the index page, e.g. `"swissroll-clean/report.html"`;
    /// `None` if the run has no page (the name is then shown without a link). It must stay
    /// inside the index's folder: no scheme (`http:`), no leading `/`, no `..`.
    pub link: Option<String>,
    /// The command that made the run.
    pub command: String,
    /// The run's record (its `run.json`), where the columns' values are looked up.
    pub record: Value,
}

/// A column of the comparison table: a value looked up in every run's record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ComparisonColumn {
    /// The column heading, e.g. `"test accuracy"`.
    pub label: String,
    /// Where the value is in a record, as a JSON pointer (RFC 6901), e.g. `"/final/test_acc"`.
    /// Runs without it show a dash.
    pub pointer: String,
}

impl ComparisonColumn {
    /// One column per number that is a leaf of an object under one of `under` (top-level keys
    /// such as `"final"` or `"results"`) in at least one record, labelled by its dotted path,
    /// in the order first met (records in order, keys sorted). A starting point for an index
    /// whose runs share no schema; arrays are not looked into.
    pub fn numeric_leaves(records: &[&Value], under: &[&str]) -> Vec<ComparisonColumn> {
        let mut out: Vec<ComparisonColumn> = Vec::new();
        fn walk(v: &Value, pointer: &str, label: &str, out: &mut Vec<ComparisonColumn>) {
            match v {
                Value::Object(map) => {
                    for (k, child) in map {
                        let escaped = k.replace('~', "~0").replace('/', "~1");
                        walk(
                            child,
                            &format!("{pointer}/{escaped}"),
                            &format!("{label}.{k}"),
                            out,
                        );
                    }
                }
                Value::Number(_) if !out.iter().any(|c| c.pointer == pointer) => {
                    out.push(ComparisonColumn {
                        label: label.to_string(),
                        pointer: pointer.to_string(),
                    })
                }
                _ => {}
            }
        }
        for record in records {
            for key in under {
                if let Some(v) = record.get(*key) {
                    let escaped = key.replace('~', "~0").replace('/', "~1");
                    walk(v, &format!("/{escaped}"), key, &mut out);
                }
            }
        }
        out
    }
}

/// Writes `index` as one self-contained HTML page at `path`, atomically: the title, the intro,
/// and a table with a row per run (its name linking its page, the command, then one cell per
/// column).
///
/// # Errors
///
/// [`Error::Invalid`] if a link is absolute or names a scheme (`http:`, `file:`, ...): the
/// index links only into its own folder, so that the folder can be moved or mailed as a
/// whole; [`Error::Io`] if the page cannot be written. Messages name `path` and the run.
pub fn write_index_page(path: &Path, index: &IndexPage) -> Result<()> {
    for run in &index.runs {
        if let Some(link) = &run.link {
            if !is_relative_link(link) {
                return Err(Error::invalid(format!(
                    "{}: run {:?}: link {link:?} must be a relative path inside the folder",
                    path.display(),
                    run.name
                )));
            }
        }
    }
    let mut h = String::with_capacity(1 << 14);
    push_head(&mut h, &index.title);
    let _ = writeln!(h, "<header>\n<h1>{}</h1>", esc(&index.title));
    push_paragraphs(&mut h, &index.intro);
    h.push_str("</header>\n<section id=\"runs\">\n");
    let _ = writeln!(
        h,
        "<h2>{} {}</h2>",
        index.runs.len(),
        if index.runs.len() == 1 { "run" } else { "runs" }
    );
    h.push_str(
        "<div class=\"table-wrap\"><table class=\"compare\">\n<thead><tr><th>run</th>\
         <th>command</th>",
    );
    for c in &index.columns {
        let _ = write!(
            h,
            "<th class=\"num\" title=\"{}\">{}</th>",
            esc(&c.pointer),
            esc(&c.label)
        );
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for run in &index.runs {
        let name = match &run.link {
            Some(link) => format!(
                "<a href=\"{}\">{}</a>",
                esc(&encode_link(link)),
                esc(&run.name)
            ),
            None => format!("{} <span class=\"hint\">(no page)</span>", esc(&run.name)),
        };
        let _ = write!(
            h,
            "<tr><td>{name}</td><td><code>{}</code></td>",
            esc(&run.command)
        );
        for c in &index.columns {
            let cell = match run.record.pointer(&c.pointer) {
                Some(v) => show_value(v),
                None => "&ndash;".into(),
            };
            let _ = write!(h, "<td class=\"num\">{cell}</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table></div>\n</section>\n</main>\n");
    h.push_str("<script>document.body.dataset.plotsRendered = '0';</script>\n</body>\n</html>\n");
    genviz_core::io::write_atomic(path, h.as_bytes())
}

/// Whether `link` stays inside the index's folder tree: no scheme, not absolute, no `..`.
fn is_relative_link(link: &str) -> bool {
    let first = link.split('/').next().unwrap_or("");
    !link.is_empty()
        && !link.starts_with('/')
        && !link.starts_with('\\')
        && !first.contains(':')
        && !link.split(['/', '\\']).any(|part| part == "..")
}

/// Percent-encodes what a URL path may not hold as is (spaces, `#`, `?`, `%`, non-ASCII), so a
/// folder named `run #3` still links.
fn encode_link(link: &str) -> String {
    let mut out = String::with_capacity(link.len());
    for b in link.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn links_stay_inside_the_folder_and_are_encoded() {
        assert!(is_relative_link("a/report.html"));
        assert!(!is_relative_link("/etc/report.html"));
        assert!(!is_relative_link("http://example.com/x"));
        assert!(!is_relative_link("../x/report.html"));
        assert!(!is_relative_link(""));
        assert_eq!(encode_link("run #3/report.html"), "run%20%233/report.html");
        assert_eq!(encode_link("é"), "%C3%A9");
    }

    #[test]
    fn numeric_leaves_are_found_once_in_order() {
        let a = json!({"final": {"train_acc": 1.0, "test_acc": 0.9, "note": "x"}, "seed": 3});
        let b = json!({"final": {"test_acc": 0.8, "radius": 0.1}});
        let cols = ComparisonColumn::numeric_leaves(&[&a, &b], &["final"]);
        let pointers: Vec<&str> = cols.iter().map(|c| c.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            vec!["/final/test_acc", "/final/train_acc", "/final/radius"]
        );
        assert_eq!(cols[0].label, "final.test_acc");
    }
}

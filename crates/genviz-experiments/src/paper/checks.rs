//! The results table of `genviz paper`: each measured number beside the paper's or the
//! authors' value and the criterion it is judged by.

use anyhow::Result;
use std::fmt::Write as _;
use std::path::Path;

/// One row of the table: the report's results row, judged by [`Check::at_least`] or
/// [`Check::at_most`].
pub use genviz_render::ReportRow as Check;

/// Writes `results.json` and `results.md` into `dir`; returns how many checks failed.
/// `measured` adds figures' measured numbers that are more than pass/fail (the skip
/// connections' convexity numbers beside Li et al.'s claim) under their own keys of
/// `results.json`.
pub fn write(
    dir: &Path,
    checks: &[Check],
    measured: &serde_json::Map<String, serde_json::Value>,
) -> Result<usize> {
    let failed = checks.iter().filter(|c| !c.pass).count();
    let mut results = measured.clone();
    results.insert("checks".into(), serde_json::json!(checks));
    results.insert("failed".into(), serde_json::json!(failed));
    genviz_core::io::write_json(
        &dir.join("results.json"),
        &serde_json::Value::Object(results),
    )?;
    let mut md = String::from("# genviz paper: results\n\n| figure | quantity | genviz | paper / authors | criterion | |\n| --- | --- | --- | --- | --- | --- |\n");
    for c in checks {
        let reference = c
            .reference
            .map_or("-".to_string(), |r| format!("{r} ({})", c.source));
        let _ = writeln!(
            md,
            "| {} | {} | {:.4} | {} | {} | {} |",
            cell(&c.figure),
            cell(&c.quantity),
            c.measured,
            cell(&reference),
            cell(&c.criterion),
            if c.pass { "pass" } else { "FAIL" }
        );
    }
    let _ = writeln!(
        md,
        "\n{} of {} checks pass.",
        checks.len() - failed,
        checks.len()
    );
    genviz_core::io::write_atomic(&dir.join("results.md"), md.as_bytes())?;
    Ok(failed)
}

/// `text` as one Markdown table cell: its pipes (`|lambda_min / lambda_max|`) escaped, which
/// would otherwise split the cell in two.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipes_in_a_quantity_stay_inside_their_cell() {
        let dir = tempfile::tempdir().unwrap();
        let check = Check::at_least("skips", "mean |a/b|, no skips minus skips", 0.5, 0.0);
        write(dir.path(), &[check], &Default::default()).unwrap();
        let md = std::fs::read_to_string(dir.path().join("results.md")).unwrap();
        let row = md.lines().find(|l| l.starts_with("| skips")).unwrap();
        // Seven unescaped pipes: six cells.
        assert_eq!(row.replace("\\|", "").matches('|').count(), 7, "{row}");
        assert!(row.contains("mean \\|a/b\\|"), "{row}");
    }
}

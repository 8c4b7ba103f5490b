//! The results table of `genviz paper`: each measured number beside the paper's or the
//! authors' value and the criterion it is judged by.

use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;

/// One row of the table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// The figure it belongs to.
    pub figure: String,
    /// What is measured.
    pub quantity: String,
    /// genviz's value.
    pub measured: f64,
    /// The paper's or the authors' value, where known.
    pub reference: Option<f64>,
    /// Where the reference comes from.
    pub source: String,
    /// The criterion, in words.
    pub criterion: String,
    /// Whether the measured value meets it.
    pub pass: bool,
}

/// How a measured number is judged against its bound.
#[derive(Clone, Copy)]
enum Bound {
    AtLeast(f64),
    AtMost(f64),
    Above(f64),
}

impl Check {
    /// `measured >= bound`.
    pub fn at_least(
        figure: &str,
        quantity: &str,
        measured: f64,
        bound: f64,
        reference: Option<f64>,
        source: &str,
    ) -> Self {
        Self::judged(
            figure,
            quantity,
            measured,
            Bound::AtLeast(bound),
            reference,
            source,
        )
    }

    /// `measured <= bound`.
    pub fn at_most(
        figure: &str,
        quantity: &str,
        measured: f64,
        bound: f64,
        reference: Option<f64>,
        source: &str,
    ) -> Self {
        Self::judged(
            figure,
            quantity,
            measured,
            Bound::AtMost(bound),
            reference,
            source,
        )
    }

    /// `measured > bound`: for effects that equal numbers do not show.
    pub fn above(
        figure: &str,
        quantity: &str,
        measured: f64,
        bound: f64,
        reference: Option<f64>,
        source: &str,
    ) -> Self {
        Self::judged(
            figure,
            quantity,
            measured,
            Bound::Above(bound),
            reference,
            source,
        )
    }

    fn judged(
        figure: &str,
        quantity: &str,
        measured: f64,
        bound: Bound,
        reference: Option<f64>,
        source: &str,
    ) -> Self {
        let (criterion, pass) = match bound {
            Bound::AtLeast(b) => (format!(">= {b}"), measured >= b),
            Bound::AtMost(b) => (format!("<= {b}"), measured <= b),
            Bound::Above(b) => (format!("> {b}"), measured > b),
        };
        Check {
            figure: figure.into(),
            quantity: quantity.into(),
            measured,
            reference,
            source: source.into(),
            criterion,
            pass,
        }
    }
}

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
            c.figure,
            c.quantity,
            c.measured,
            reference,
            c.criterion,
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

//! The generalization measures of the clean and the poisoned swiss-roll nets in `genviz paper`:
//! does every sharpness measure (Andriushchenko et al.'s average and worst case, Jiang et al.'s
//! PAC-Bayes flatness, the basin, the Hessian) rank the poisoned minimum, which generalizes
//! badly, as the sharper one?

use super::checks::Check;
use crate::measures::{self, format_measured, MeasuresConfig, MeasuresResults};
use crate::model::DataSource;
use crate::presets;
use crate::progress::Progress;
use anyhow::Result;
use genviz_landscape::measures::{default_measures, Prediction};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Instant;

/// The folder, inside the paper's, of the measures run.
pub const FOLDER: &str = "measures";

/// What the measures of both nets found.
pub struct RollMeasures {
    /// The table: models `[clean, poisoned]`.
    pub results: MeasuresResults,
    /// Names of the sharpness measures (those the paper's claim is about).
    pub sharpness: Vec<String>,
    /// How many of them rank the poisoned net sharper.
    pub agree: usize,
    /// Seconds the measures took in this run (less after a resume).
    pub seconds: f64,
}

/// Computes [`default_measures`] on `dir/swissroll-clean` and `dir/swissroll-poisoned` into
/// `dir/measures` (a `genviz measures` run folder, resumed by a rerun), and judges every
/// sharpness measure: the poisoned net should be the sharper one. Returns the checks, the
/// summary entry and the measures.
pub fn measure_rolls(
    dir: &Path,
    progress: &dyn Progress,
) -> Result<(Vec<Check>, Value, RollMeasures)> {
    let start = Instant::now();
    let specs = default_measures();
    let config = MeasuresConfig {
        models: super::swissroll::LABELS
            .iter()
            .map(|l| dir.join(format!("swissroll-{l}")))
            .collect(),
        measures: specs.clone(),
        data: DataSource::own(presets::SWISS_ROLL_SEED),
        init: None,
    };
    let run = measures::run(&config, &dir.join(FOLDER), progress)?;
    let results = run.results;
    let sharpness: Vec<String> = specs
        .iter()
        .filter(|s| measures::is_sharpness(s))
        .flat_map(|s| s.names())
        .collect();
    let [clean, poisoned] = [&results.models[0], &results.models[1]];
    let mut checks = Vec::new();
    for name in &sharpness {
        let (Some(c), Some(p)) = (clean.get(name), poisoned.get(name)) else {
            continue;
        };
        let sign = c.predicts.sign();
        checks.push(Check {
            figure: "measures".into(),
            quantity: format!("{name}, poisoned net (reference: clean net)"),
            measured: p.value,
            reference: Some(c.value),
            source: "clean net".into(),
            criterion: if c.predicts == Prediction::SmallerGap {
                "< clean (a smaller basin)".into()
            } else {
                "> clean (sharper)".into()
            },
            pass: sign * (p.value - c.value) > 0.0,
        });
    }
    let agree = checks.iter().filter(|c| c.pass).count();
    checks.push(
        Check::at_least(
            "measures",
            "sharpness measures that rank the poisoned net sharper",
            agree as f64,
            sharpness.len() as f64,
        )
        .citing(None, "the paper's claim: sharp minima generalize badly"),
    );
    let seconds = start.elapsed().as_secs_f64();
    let summary = json!({
        "folder": FOLDER,
        "table": format!("{FOLDER}/measures.md"),
        "sharpness_measures": sharpness.len(),
        "sharpness_poisoned_sharper": agree,
        "seconds": seconds,
        "rows": results.rows,
    });
    progress.note(&format!(
        "measures: {agree} of {} sharpness measures rank the poisoned net sharper ({seconds:.1} s)",
        sharpness.len()
    ));
    Ok((
        checks,
        summary,
        RollMeasures {
            results,
            sharpness,
            agree,
            seconds,
        },
    ))
}

/// The report's text: every measure of both nets, grouped, with what a larger value predicts.
pub fn report_text(m: &RollMeasures) -> String {
    let [clean, poisoned] = [&m.results.models[0], &m.results.models[1]];
    let mut text = format!(
        "Generalization measures of both networks (genviz measures, the default table; {}/measures.md holds it with every interval). Huang et al.'s claim is that the poisoned minimum, which generalizes badly, is the sharper one: {} of {} sharpness measures (average- and worst-case sharpness, PAC-Bayes flatness, basin radius and volume, Hessian) rank it so; each is a row of the results table. Values are clean, then poisoned; brackets are 95% intervals.",
        FOLDER,
        m.agree,
        m.sharpness.len()
    );
    let mut groups: [(&str, Vec<String>); 3] = [
        ("Sharpness and flatness", Vec::new()),
        ("Norms", Vec::new()),
        ("Performance", Vec::new()),
    ];
    for row in &m.results.rows {
        let (Some(c), Some(p)) = (clean.get(&row.name), poisoned.get(&row.name)) else {
            continue;
        };
        let line = match row.predicts {
            Prediction::Nothing => format!(
                "{}: {} and {}",
                row.name,
                format_measured(c),
                format_measured(p)
            ),
            pred => format!(
                "{}: {} and {} ({} when larger{})",
                row.name,
                format_measured(c),
                format_measured(p),
                measures::predicts_text(pred),
                if pred.sign() * (p.value - c.value) > 0.0 {
                    ""
                } else {
                    "; ranks the clean net worse"
                }
            ),
        };
        let k = if m.sharpness.contains(&row.name) {
            0
        } else if row.predicts == Prediction::Nothing {
            2
        } else {
            1
        };
        groups[k].1.push(line);
    }
    for (heading, lines) in groups {
        if !lines.is_empty() {
            text.push_str(&format!("\n\n{heading}: {}.", lines.join("; ")));
        }
    }
    text
}

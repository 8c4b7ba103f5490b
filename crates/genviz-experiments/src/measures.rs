//! Generalization measures of trained models (`genviz measures`): sharpness (average and
//! worst case, plain and adaptive), PAC-Bayes flatness, norms, the basin and the Hessian, and
//! the performance they try to predict, for every model of a list, side by side.
//!
//! The measures themselves are [`genviz_landscape::measures`]; this module loads each model
//! (a run folder or a weights file, any family [`crate::model::load`] knows) with its data and
//! initial weights, computes the list into one resumable state file per model, and writes the
//! table. A killed run recomputes only the measures its state files do not hold.

use crate::model::{self, DataSource, LoadedModel};
use crate::progress::Progress;
use crate::record::{DataRecord, Job, RunRecord};
use anyhow::{bail, Context, Result};
use genviz_core::Params;
use genviz_landscape::measures::{
    default_measures, Inputs, MeasureJob, MeasureSpec, Measured, Prediction,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where a training run folder keeps its initial weights: the trainer checkpoints step 0 of
/// every run it writes into a folder.
pub const INIT_CHECKPOINT: &str = "checkpoints/step_00000000.safetensors";

/// The results file of a measures run.
pub const RESULTS_FILE: &str = "measures.json";

/// What `genviz measures` computes: every measure of a list, for every model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasuresConfig {
    /// The models: run folders or `.safetensors` files.
    pub models: Vec<PathBuf>,
    /// What to compute, in order ([`default_measures`] when absent).
    #[serde(default = "default_measures")]
    pub measures: Vec<MeasureSpec>,
    /// The data the measures look at: each run folder's own unless named.
    pub data: DataSource,
    /// Initial weights for the distance from initialisation, used for every model; by default
    /// each run folder's [`INIT_CHECKPOINT`]. A model without either is measured without
    /// `dist_from_init`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<PathBuf>,
}

impl MeasuresConfig {
    /// The default measures of `models`, each on its own data.
    pub fn new(models: Vec<PathBuf>, data: DataSource) -> Self {
        MeasuresConfig {
            models,
            measures: default_measures(),
            data,
            init: None,
        }
    }

    /// Refuses settings that cannot run, before anything is read or written.
    pub fn check(&self) -> Result<()> {
        if self.models.is_empty() {
            bail!("models: give at least one model (a run folder or a .safetensors file)");
        }
        if self.measures.is_empty() {
            bail!("measures: the list is empty");
        }
        Ok(())
    }
}

/// What one measure looked like on every model: a row of `measures.md`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeasureRow {
    /// The measure's name.
    pub name: String,
    /// What a larger value predicts.
    pub predicts: Prediction,
    /// The value on each model, in the order of [`MeasuresResults::models`] (`None` where the
    /// measure was not computed for that model).
    pub values: Vec<Option<f64>>,
    /// The models' labels ordered from the one the measure predicts to generalize worst to
    /// the one it predicts to generalize best (empty for measures that predict nothing).
    pub predicted_worst_first: Vec<String>,
}

/// The measures of one model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelMeasures {
    /// A short unique name: the run folder's or the file's.
    pub label: String,
    /// The weights file.
    pub model: String,
    /// The initial weights used for the distance from initialisation, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<String>,
    /// The data the measures looked at.
    pub data: DataRecord,
    /// The model's resumable state file (a [`MeasureJob`]), relative to the run folder: every
    /// value with its interval, details and cost.
    pub state: String,
    /// Every value, in order.
    pub measures: Vec<Measured>,
    /// Seconds spent on each measure specification (the first name it gives), including
    /// earlier runs that the state file was resumed from.
    pub seconds: BTreeMap<String, f64>,
    /// Measures left out for this model, with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
}

impl ModelMeasures {
    /// The value called `name`.
    pub fn value(&self, name: &str) -> Option<f64> {
        self.measures
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.value)
    }

    /// The measure called `name`.
    pub fn get(&self, name: &str) -> Option<&Measured> {
        self.measures.iter().find(|m| m.name == name)
    }
}

/// What a measures run found: `measures.json`, and `results` of its `run.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeasuresResults {
    /// Each model's measures, in the order given.
    pub models: Vec<ModelMeasures>,
    /// One row per measure, in the order of the specifications.
    pub rows: Vec<MeasureRow>,
}

impl MeasuresResults {
    /// The row of `name`.
    pub fn row(&self, name: &str) -> Option<&MeasureRow> {
        self.rows.iter().find(|r| r.name == name)
    }
}

/// A finished measures run.
pub struct MeasuresRun {
    /// The table.
    pub results: MeasuresResults,
    /// What `run.json` says.
    pub record: RunRecord,
}

/// Short unique labels for `models`: a run folder's name or a file's stem, with anything but
/// ASCII letters, digits, `.`, `_` and `-` replaced by `-`, and `-2`, `-3`, ... after repeats.
pub fn labels(models: &[PathBuf]) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    models
        .iter()
        .map(|p| {
            let name = if p.is_dir() {
                p.file_name()
            } else {
                p.file_stem()
            }
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
            let mut clean = file_safe(&name);
            if clean.is_empty() || clean.starts_with('.') {
                clean = format!("model{clean}");
            }
            let k = seen.entry(clean.clone()).or_insert(0);
            *k += 1;
            if *k > 1 {
                format!("{clean}-{k}")
            } else {
                clean
            }
        })
        .collect()
}

/// The initial weights of `model` (loaded from `path`): `init` when given, else the run
/// folder's [`INIT_CHECKPOINT`] when there is one. Checked against the model's architecture.
pub fn initial_weights(
    path: &Path,
    model: &LoadedModel,
    init: Option<&Path>,
) -> Result<Option<(PathBuf, Params)>> {
    let file = match init {
        Some(f) => f.to_path_buf(),
        None => {
            let f = path.join(INIT_CHECKPOINT);
            if !(path.is_dir() && f.exists()) {
                return Ok(None);
            }
            f
        }
    };
    let params = model::load_like(&file, model)
        .with_context(|| format!("reading the initial weights {}", file.display()))?;
    Ok(Some((file, params)))
}

/// Computes `specs` on `inputs` into the state file `state`, resuming what it already holds
/// (a state file of another model or data is an error naming it). Progress: one stage named
/// `label` counting the measures still to compute, updated with each measure's name.
pub fn measure_one(
    specs: &[MeasureSpec],
    inputs: &Inputs<'_>,
    state: &Path,
    label: &str,
    progress: &dyn Progress,
) -> Result<MeasureJob> {
    let mut job = MeasureJob::open(specs.to_vec(), inputs, state)
        .with_context(|| format!("measures of {label}"))?;
    let missing = job.missing().len();
    if missing < job.entries.len() {
        progress.note(&format!(
            "{label}: resuming {}, {} of {} measures already computed",
            state.display(),
            job.entries.len() - missing,
            job.entries.len()
        ));
    }
    if missing == 0 {
        return Ok(job);
    }
    let stage = progress.stage(&format!("measures {label}"), missing as u64, "measures");
    let mut done = 0u64;
    job.run(inputs, &mut |job, i| {
        job.save(state)?;
        done += 1;
        let name = job.entries[i].spec.names().join(", ");
        stage.update(done, Some(&name));
        Ok(())
    })
    .with_context(|| format!("measures of {label} (state file {})", state.display()))?;
    stage.finish(&format!("{} measures", job.measures().len()));
    Ok(job)
}

/// `specs` without the distance from initialisation (for a model without initial weights),
/// and the note saying so, if it was there.
pub fn without_init(specs: &[MeasureSpec]) -> (Vec<MeasureSpec>, Option<String>) {
    let kept: Vec<MeasureSpec> = specs
        .iter()
        .filter(|s| !matches!(s, MeasureSpec::DistanceFromInit))
        .cloned()
        .collect();
    let note = (kept.len() < specs.len()).then(|| {
        format!("dist_from_init: no initial weights (no {INIT_CHECKPOINT} and no init given)")
    });
    (kept, note)
}

/// Seconds per specification of a finished job, by its first name.
pub fn seconds(job: &MeasureJob) -> BTreeMap<String, f64> {
    job.entries
        .iter()
        .filter_map(|e| {
            let o = e.outcome.as_ref()?;
            Some((e.spec.names().first()?.clone(), o.cost.seconds))
        })
        .collect()
}

/// Measures every model of `config` into `dir`: one state file per model
/// (`<label>.measures.json`, a [`MeasureJob`]), `measures.json` ([`MeasuresResults`]),
/// `measures.md` (the table) and `run.json`. Rerunning into the same folder computes only
/// what the state files lack.
pub fn run(config: &MeasuresConfig, dir: &Path, progress: &dyn Progress) -> Result<MeasuresRun> {
    let start = Instant::now();
    config.check()?;
    crate::run_dir::create(dir)?;
    let labels = labels(&config.models);
    let mut models = Vec::with_capacity(config.models.len());
    let mut timings = Vec::new();
    let mut single_data = None;
    for (path, label) in config.models.iter().zip(&labels) {
        let model_start = Instant::now();
        let (m, train, test) = config
            .data
            .open(path, progress)
            .with_context(|| format!("loading {} and its data", path.display()))?;
        let init = initial_weights(path, &m, config.init.as_deref())?;
        let (specs, skipped) = match init {
            Some(_) => (config.measures.clone(), None),
            None => without_init(&config.measures),
        };
        if let Some(s) = &skipped {
            progress.note(&format!("{label}: {s}"));
        }
        let inputs = m.measure_inputs(init.as_ref().map(|(_, p)| p), &train, &test);
        let state = format!("{label}.measures.json");
        let job = measure_one(&specs, &inputs, &dir.join(&state), label, progress)?;
        let data = DataRecord::of(config.data.describe(&m), &train, &test);
        single_data = Some(data.clone());
        models.push(ModelMeasures {
            label: label.clone(),
            model: m.weights.display().to_string(),
            init: init.map(|(f, _)| f.display().to_string()),
            data,
            state,
            measures: job.measures().into_iter().cloned().collect(),
            seconds: seconds(&job),
            skipped: skipped.into_iter().collect(),
        });
        timings.push((format!("{label}_s"), model_start.elapsed().as_secs_f64()));
    }
    let results = MeasuresResults {
        rows: rows(&config.measures, &models),
        models,
    };
    genviz_core::io::write_json(&dir.join(RESULTS_FILE), &results)?;
    genviz_core::io::write_atomic(&dir.join("measures.md"), table(&results).as_bytes())?;
    genviz_core::io::write_atomic(&dir.join("measures.csv"), csv(&results).as_bytes())?;
    let mut record = RunRecord::new(Job::Measures(config.clone()), None, &results)?
        .with_timings(timings.iter().map(|(k, v)| (k.as_str(), *v)))
        .with_timings([("total_s", start.elapsed().as_secs_f64())]);
    if config.models.len() == 1 {
        record.data = single_data;
    }
    record.write(dir)?;
    crate::pages::write_page(dir)?;
    Ok(MeasuresRun { results, record })
}

/// One row per measure name the specifications give, with each model's value and the order
/// of the models from the worst predicted to the best.
pub fn rows(specs: &[MeasureSpec], models: &[ModelMeasures]) -> Vec<MeasureRow> {
    specs
        .iter()
        .flat_map(MeasureSpec::names)
        .map(|name| {
            let values: Vec<Option<f64>> = models.iter().map(|m| m.value(&name)).collect();
            let predicts = models
                .iter()
                .find_map(|m| m.get(&name))
                .map_or(Prediction::Nothing, |m| m.predicts);
            let sign = predicts.sign();
            let mut order: Vec<(f64, &str)> = values
                .iter()
                .zip(models)
                .filter_map(|(v, m)| v.filter(|v| v.is_finite()).map(|v| (v, m.label.as_str())))
                .collect();
            // Largest predicted gap first; ties keep the models' order.
            order.sort_by(|a, b| (sign * b.0).total_cmp(&(sign * a.0)));
            MeasureRow {
                predicted_worst_first: if sign == 0.0 {
                    Vec::new()
                } else {
                    order.into_iter().map(|(_, l)| l.to_string()).collect()
                },
                name,
                predicts,
                values,
            }
        })
        .collect()
}

/// A number with four significant digits, in scientific notation when very small or large.
pub fn format_value(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if (1e-3..1e6).contains(&x.abs()) {
        let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 6) as usize;
        format!("{x:.digits$}")
    } else if x.is_finite() {
        format!("{x:.3e}")
    } else {
        format!("{x}")
    }
}

/// A value with its interval, as the table shows it: `4.790 [3.530, 6.050]`.
pub fn format_measured(m: &Measured) -> String {
    match m.interval {
        Some(i) => format!(
            "{} [{}, {}]",
            format_value(m.value),
            format_value(i.low),
            format_value(i.high)
        ),
        None => format_value(m.value),
    }
}

/// What a prediction reads as in a table.
pub fn predicts_text(p: Prediction) -> &'static str {
    match p {
        Prediction::LargerGap => "larger gap",
        Prediction::SmallerGap => "smaller gap",
        Prediction::Nothing => "",
    }
}

/// `measures.md`: one row per measure, one column per model, what a larger value predicts,
/// and the model the measure predicts to generalize worst.
pub fn table(results: &MeasuresResults) -> String {
    let mut md = String::from("| measure | larger predicts |");
    for m in &results.models {
        let _ = write!(md, " {} |", m.label);
    }
    md.push_str(" predicted worst |\n| --- | --- |");
    for _ in 0..=results.models.len() {
        md.push_str(" --- |");
    }
    md.push('\n');
    for row in &results.rows {
        let _ = write!(md, "| {} | {} |", row.name, predicts_text(row.predicts));
        for m in &results.models {
            let cell = m.get(&row.name).map_or("-".to_string(), format_measured);
            let _ = write!(md, " {cell} |");
        }
        let _ = writeln!(
            md,
            " {} |",
            row.predicted_worst_first.first().map_or("", String::as_str)
        );
    }
    md
}

/// One CSV line (RFC 4180): fields with a comma, quote or line break are quoted, quotes
/// doubled; ends with `\n`.
pub fn csv_line(fields: &[String]) -> String {
    let quoted: Vec<String> = fields
        .iter()
        .map(|f| {
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f.clone()
            }
        })
        .collect();
    format!("{}\n", quoted.join(","))
}

/// `measures.csv`: one line per model (its label, then every measure's value in full
/// precision, empty where it was not computed), for a spreadsheet or pandas; intervals are in
/// `measures.json`.
pub fn csv(results: &MeasuresResults) -> String {
    let mut header = vec!["model".to_string()];
    header.extend(results.rows.iter().map(|r| r.name.clone()));
    let mut text = csv_line(&header);
    for m in &results.models {
        let mut fields = vec![m.label.clone()];
        fields.extend(
            results
                .rows
                .iter()
                .map(|r| m.value(&r.name).map_or(String::new(), |v| v.to_string())),
        );
        text.push_str(&csv_line(&fields));
    }
    text
}

/// Measures worth a claim about sharpness: average and worst-case sharpness, PAC-Bayes
/// flatness, the basin and the Hessian (not the norms, which measure size, nor performance).
pub fn is_sharpness(spec: &MeasureSpec) -> bool {
    matches!(
        spec,
        MeasureSpec::AverageSharpness(_)
            | MeasureSpec::WorstSharpness(_)
            | MeasureSpec::PacBayesFlatness(_)
            | MeasureSpec::Basin(_)
            | MeasureSpec::Hessian(_)
    )
}

/// `name` with every character other than ASCII letters, digits, `.`, `_` and `-` replaced
/// by `-`, so that it can name a file or folder anywhere.
pub(crate) fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The data subset and the seed of a measure that samples (`None` for the deterministic ones):
/// the two settings a sweep overrides for every measure at once.
fn sampling(spec: &mut MeasureSpec) -> Option<(&mut Option<usize>, &mut u64)> {
    match spec {
        MeasureSpec::AverageSharpness(c) => Some((&mut c.examples, &mut c.seed)),
        MeasureSpec::WorstSharpness(c) => Some((&mut c.examples, &mut c.seed)),
        MeasureSpec::PacBayesFlatness(c) => Some((&mut c.examples, &mut c.seed)),
        MeasureSpec::FisherRao(c) => Some((&mut c.examples, &mut c.seed)),
        MeasureSpec::Basin(c) => Some((&mut c.examples, &mut c.seed)),
        MeasureSpec::Hessian(c) => Some((&mut c.examples, &mut c.seed)),
        MeasureSpec::Performance
        | MeasureSpec::DistanceFromInit
        | MeasureSpec::SpectralProduct
        | MeasureSpec::PathNorm => None,
    }
}

/// Sets the number of training examples every data-dependent measure of `specs` looks at
/// (`None`: all of them), e.g. fewer for a conv net on a CPU.
pub fn with_examples(specs: &mut [MeasureSpec], examples: Option<usize>) {
    for (subset, _) in specs.iter_mut().filter_map(sampling) {
        *subset = examples;
    }
}

/// Sets the seed of every random measure of `specs` (subsets, draws, rays).
pub fn with_seed(specs: &mut [MeasureSpec], seed: u64) {
    for (_, measure_seed) in specs.iter_mut().filter_map(sampling) {
        *measure_seed = seed;
    }
}

/// The specifications of [`default_measures`] whose names match `selection`: measure names
/// (`path_norm`, `avg_sharpness_gaussian_rho_0.05`) or groups: `default` (all of them),
/// `sharpness` (average and worst case, PAC-Bayes, basin and Hessian), `norms`,
/// `performance`. Performance is always kept first, so the table has the gap.
///
/// # Errors
/// When a name is neither a default measure nor a group; the error lists them.
pub fn select(selection: &[String]) -> Result<Vec<MeasureSpec>> {
    let all = default_measures();
    let mut chosen = vec![false; all.len()];
    for word in selection {
        let word = word.trim();
        let mut hit = false;
        for (k, spec) in all.iter().enumerate() {
            let matches = match word {
                "default" | "all" => true,
                "sharpness" => is_sharpness(spec),
                "norms" => matches!(
                    spec,
                    MeasureSpec::DistanceFromInit
                        | MeasureSpec::SpectralProduct
                        | MeasureSpec::PathNorm
                        | MeasureSpec::FisherRao(_)
                ),
                "performance" => matches!(spec, MeasureSpec::Performance),
                name => spec.names().iter().any(|n| n == name),
            };
            if matches {
                chosen[k] = true;
                hit = true;
            }
        }
        if !hit {
            let names: Vec<String> = all.iter().flat_map(MeasureSpec::names).collect();
            bail!(
                "measure `{word}` is not one genviz computes by default; expected default, sharpness, norms, performance or one of: {}",
                names.join(", ")
            );
        }
    }
    chosen[0] = true;
    Ok(all
        .into_iter()
        .zip(chosen)
        .filter_map(|(s, c)| c.then_some(s))
        .collect())
}

/// Reads a list of measure specifications from a TOML file (`[[measures]]` tables) or a JSON
/// file (a `measures` array, or a whole `run.json` of a measures or sweep run).
pub fn read_specs(path: &Path) -> Result<Vec<MeasureSpec>> {
    #[derive(Deserialize)]
    struct File {
        measures: Vec<MeasureSpec>,
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    if path.extension().is_some_and(|e| e == "json") {
        let value: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{}: invalid JSON", path.display()))?;
        let list = value
            .get("config")
            .and_then(|c| c.get("measures"))
            .or_else(|| value.get("measures"))
            .cloned()
            .with_context(|| format!("{}: no `measures` list", path.display()))?;
        return serde_json::from_value(list)
            .with_context(|| format!("{}: measures", path.display()));
    }
    let file: File =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(file.measures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_short_clean_and_unique() {
        let models = vec![
            PathBuf::from("/runs/a/model.safetensors"),
            PathBuf::from("/runs/b/model.safetensors"),
            PathBuf::from("weird name!.safetensors"),
        ];
        assert_eq!(labels(&models), ["model", "model-2", "weird-name-"]);
    }

    #[test]
    fn selections_name_measures_or_groups_and_keep_performance() {
        let s = select(&["path_norm".into()]).unwrap();
        assert_eq!(s, vec![MeasureSpec::Performance, MeasureSpec::PathNorm]);
        let sharp = select(&["sharpness".into()]).unwrap();
        assert!(sharp[1..].iter().all(is_sharpness));
        assert_eq!(sharp.len(), 1 + 11);
        assert_eq!(select(&["default".into()]).unwrap(), default_measures());
        let e = select(&["flatness".into()]).unwrap_err().to_string();
        assert!(e.contains("`flatness`") && e.contains("path_norm"), "{e}");
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let line = csv_line(&["a".into(), "b,c".into(), "say \"hi\"".into()]);
        assert_eq!(line, "a,\"b,c\",\"say \"\"hi\"\"\"\n");
    }

    #[test]
    fn values_read_well() {
        for (value, shown) in [
            (4.7912, "4.791"),
            (2621.4, "2621"),
            (0.0963, "0.09630"),
            (1.62e9, "1.620e9"),
            (-1430.2, "-1430"),
            (0.0, "0"),
        ] {
            assert_eq!(format_value(value), shown);
        }
    }

    #[test]
    fn examples_and_seeds_reach_every_random_measure() {
        let mut specs = default_measures();
        with_examples(&mut specs, Some(64));
        with_seed(&mut specs, 9);
        for spec in &specs {
            let v = serde_json::to_value(spec).unwrap();
            if let Some(e) = v.get("examples") {
                assert_eq!(e, 64, "{v}");
                assert_eq!(v["seed"], 9, "{v}");
            }
        }
    }
}

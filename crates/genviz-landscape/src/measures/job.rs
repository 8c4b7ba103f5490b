//! A table of measures computed into a file: each measure is independent, the file is rewritten
//! (atomically) after each one, and a rerun computes only the measures the file does not hold,
//! so a killed run loses at most the measure it was computing.

use super::curvature::{basin_measures, hessian_measures, BasinConfig, HessianConfig};
use super::norms::{distance_from_init, fisher_rao, path_norm, spectral_product, FisherRaoConfig};
use super::pac_bayes::{pac_bayes_flatness, PacBayesConfig};
use super::performance::{performance, NAMES};
use super::sharpness::{
    average_sharpness, worst_sharpness, AverageSharpnessConfig, Ball, Distribution,
    WorstSharpnessConfig,
};
use super::{check_examples, check_point, Measured, Outcome};
use genviz_core::io::{read_json, write_json};
use genviz_core::{Dataset, Error, Network, Params, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;

/// One measure (or one family computed together, such as a basin's radius and volume) and its
/// configuration, as it appears in a sweep file or `measures.json`:
/// `{"kind": "worst_sharpness", "rho": 0.002, "adaptive": true}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MeasureSpec {
    /// Train and test loss and accuracy and the gaps ([`super::performance`]).
    Performance,
    /// Average-case sharpness ([`super::sharpness::average_sharpness`]).
    AverageSharpness(AverageSharpnessConfig),
    /// Worst-case m-sharpness ([`super::sharpness::worst_sharpness`]).
    WorstSharpness(WorstSharpnessConfig),
    /// PAC-Bayes flatness ([`super::pac_bayes::pac_bayes_flatness`]).
    PacBayesFlatness(PacBayesConfig),
    /// Distance from initialisation ([`super::norms::distance_from_init`]).
    DistanceFromInit,
    /// The spectral product ([`super::norms::spectral_product`]).
    SpectralProduct,
    /// The path norm ([`super::norms::path_norm`]).
    PathNorm,
    /// The Fisher-Rao norm ([`super::norms::fisher_rao`]).
    FisherRao(FisherRaoConfig),
    /// Median basin radius and log-volume ([`super::curvature::basin_measures`]).
    Basin(BasinConfig),
    /// Hessian top eigenvalue and trace ([`super::curvature::hessian_measures`]).
    Hessian(HessianConfig),
}

/// What the measures are computed on.
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    /// The model family.
    pub net: &'a dyn Network,
    /// The trained parameters.
    pub theta: &'a Params,
    /// The initial parameters (needed by the distance from initialisation).
    pub init: Option<&'a Params>,
    /// The training set.
    pub train: &'a Dataset,
    /// The test set (needed by the performance measures).
    pub test: Option<&'a Dataset>,
}

impl Inputs<'_> {
    /// A fingerprint of the parameters, initialisation and data (FNV-1a over their bytes), so a
    /// saved job is known to belong to the same model.
    pub fn fingerprint(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |bytes: &[u8]| {
            for &b in bytes {
                h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        };
        for t in self.theta.layout().tensors() {
            eat(t.name.as_bytes());
        }
        let params = [Some(self.theta), self.init];
        for (k, p) in params.iter().enumerate() {
            eat(&[k as u8, u8::from(p.is_some())]);
            if let Some(p) = p {
                p.values().iter().for_each(|v| eat(&v.to_le_bytes()));
            }
        }
        for (k, d) in [Some(self.train), self.test].iter().enumerate() {
            eat(&[k as u8 + 2, u8::from(d.is_some())]);
            if let Some(d) = d {
                d.features().iter().for_each(|v| eat(&v.to_le_bytes()));
                d.labels().iter().for_each(|v| eat(&v.to_le_bytes()));
            }
        }
        format!("{h:016x}")
    }
}

impl MeasureSpec {
    /// The names of the values this specification computes, in order.
    pub fn names(&self) -> Vec<String> {
        match self {
            MeasureSpec::Performance => NAMES.iter().map(|s| s.to_string()).collect(),
            MeasureSpec::AverageSharpness(c) => vec![c.name()],
            MeasureSpec::WorstSharpness(c) => vec![c.name()],
            MeasureSpec::PacBayesFlatness(c) => vec![c.name()],
            MeasureSpec::DistanceFromInit => vec!["dist_from_init".into()],
            MeasureSpec::SpectralProduct => vec!["log_prod_of_spec".into()],
            MeasureSpec::PathNorm => vec!["path_norm".into()],
            MeasureSpec::FisherRao(_) => vec!["fisher_rao".into()],
            MeasureSpec::Basin(_) => vec!["median_radius".into(), "log10_volume".into()],
            MeasureSpec::Hessian(c) => c.names(),
        }
    }

    /// Checks the configuration and that `inputs` hold what it needs.
    pub fn validate(&self, inputs: &Inputs<'_>) -> Result<()> {
        match self {
            MeasureSpec::Performance if inputs.test.is_none() => {
                Err(Error::invalid("performance measures need a test set"))
            }
            MeasureSpec::DistanceFromInit if inputs.init.is_none() => Err(Error::invalid(
                "dist_from_init needs the initial parameters",
            )),
            MeasureSpec::AverageSharpness(c) => c.validate(),
            MeasureSpec::WorstSharpness(c) => c.validate(),
            MeasureSpec::PacBayesFlatness(c) => c.validate(),
            MeasureSpec::FisherRao(c) => check_examples("Fisher-Rao norm", c.examples),
            MeasureSpec::Basin(c) => c.validate(),
            MeasureSpec::Hessian(c) => c.validate(),
            _ => Ok(()),
        }
    }

    /// Computes the values.
    pub fn compute(&self, inputs: &Inputs<'_>) -> Result<Outcome> {
        self.validate(inputs)?;
        let Inputs {
            net, theta, train, ..
        } = *inputs;
        let outcome = match self {
            MeasureSpec::Performance => {
                let test = inputs.test.expect("validated");
                performance(net, theta, train, test)
            }
            MeasureSpec::AverageSharpness(c) => average_sharpness(net, theta, train, c),
            MeasureSpec::WorstSharpness(c) => worst_sharpness(net, theta, train, c),
            MeasureSpec::PacBayesFlatness(c) => pac_bayes_flatness(net, theta, train, c),
            MeasureSpec::DistanceFromInit => {
                distance_from_init(theta, inputs.init.expect("validated"))
            }
            MeasureSpec::SpectralProduct => spectral_product(theta),
            MeasureSpec::PathNorm => path_norm(net, theta, train.dim()),
            MeasureSpec::FisherRao(c) => fisher_rao(net, theta, train, c),
            MeasureSpec::Basin(c) => basin_measures(net, theta, train, c),
            MeasureSpec::Hessian(c) => hessian_measures(net, theta, train, c),
        }?;
        debug_assert_eq!(
            outcome
                .measures
                .iter()
                .map(|m| m.name.clone())
                .collect::<Vec<_>>(),
            self.names()
        );
        Ok(outcome)
    }
}

/// A measure specification and, once computed, what it gave.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobEntry {
    /// What to compute.
    pub spec: MeasureSpec,
    /// What it gave; `None` until computed.
    pub outcome: Option<Outcome>,
}

/// A list of measures of one model, some computed: what `measures.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeasureJob {
    /// genviz's version when the job was made.
    pub version: String,
    /// [`Inputs::fingerprint`] of the model and data.
    pub fingerprint: String,
    /// The measures, in order.
    pub entries: Vec<JobEntry>,
}

impl MeasureJob {
    /// A job computing `specs` on `inputs`: every configuration is checked, names must be unique.
    pub fn new(specs: Vec<MeasureSpec>, inputs: &Inputs<'_>) -> Result<Self> {
        check_point("measures", inputs.net, inputs.theta)?;
        let mut seen = BTreeSet::new();
        for spec in &specs {
            spec.validate(inputs)?;
            for name in spec.names() {
                if !seen.insert(name.clone()) {
                    return Err(Error::invalid(format!(
                        "measure `{name}` is listed twice; give the second another configuration"
                    )));
                }
            }
        }
        Ok(MeasureJob {
            version: genviz_core::VERSION.to_string(),
            fingerprint: inputs.fingerprint(),
            entries: specs
                .into_iter()
                .map(|spec| JobEntry {
                    spec,
                    outcome: None,
                })
                .collect(),
        })
    }

    /// [`MeasureJob::new`], taking over from `saved` the outcomes of identical specifications.
    /// A saved job of another model or data is an error rather than silently ignored.
    pub fn resume(
        specs: Vec<MeasureSpec>,
        inputs: &Inputs<'_>,
        saved: &MeasureJob,
    ) -> Result<Self> {
        let mut job = MeasureJob::new(specs, inputs)?;
        if saved.fingerprint != job.fingerprint {
            return Err(Error::invalid(format!(
                "the saved measures belong to another model or data (fingerprint {}, expected {})",
                saved.fingerprint, job.fingerprint
            )));
        }
        for entry in &mut job.entries {
            if let Some(old) = saved
                .entries
                .iter()
                .find(|e| e.spec == entry.spec && e.outcome.is_some())
            {
                entry.outcome.clone_from(&old.outcome);
            }
        }
        Ok(job)
    }

    /// The job for `specs` on `inputs`, resumed from `path` when that file exists.
    pub fn open(specs: Vec<MeasureSpec>, inputs: &Inputs<'_>, path: &Path) -> Result<Self> {
        if path.exists() {
            let saved: MeasureJob = read_json(path)?;
            MeasureJob::resume(specs, inputs, &saved)
                .map_err(|e| Error::bad_file(path, e.to_string()))
        } else {
            MeasureJob::new(specs, inputs)
        }
    }

    /// Writes the job as JSON, atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        write_json(path, self)
    }

    /// Indices of the entries not yet computed.
    pub fn missing(&self) -> Vec<usize> {
        (0..self.entries.len())
            .filter(|&i| self.entries[i].outcome.is_none())
            .collect()
    }

    /// True when every entry is computed.
    pub fn is_complete(&self) -> bool {
        self.entries.iter().all(|e| e.outcome.is_some())
    }

    /// Computes the missing entries in order, calling `after_each` with the job and the entry
    /// just computed (to save it, or to report progress; an error stops the run).
    pub fn run(
        &mut self,
        inputs: &Inputs<'_>,
        after_each: &mut dyn FnMut(&MeasureJob, usize) -> Result<()>,
    ) -> Result<()> {
        if inputs.fingerprint() != self.fingerprint {
            return Err(Error::invalid(
                "measures: the job was made for another model or data",
            ));
        }
        for i in self.missing() {
            let outcome = self.entries[i].spec.compute(inputs).map_err(|e| {
                Error::invalid(format!("measure {}: {e}", self.entries[i].spec.names()[0]))
            })?;
            self.entries[i].outcome = Some(outcome);
            after_each(self, i)?;
        }
        Ok(())
    }

    /// [`MeasureJob::run`], saving to `path` after each measure.
    pub fn run_saving(&mut self, inputs: &Inputs<'_>, path: &Path) -> Result<()> {
        self.run(inputs, &mut |job, _| job.save(path))
    }

    /// Every computed value, in order.
    pub fn measures(&self) -> Vec<&Measured> {
        self.entries
            .iter()
            .filter_map(|e| e.outcome.as_ref())
            .flat_map(|o| &o.measures)
            .collect()
    }

    /// The computed value called `name`.
    pub fn value(&self, name: &str) -> Option<f64> {
        self.measures()
            .into_iter()
            .find(|m| m.name == name)
            .map(|m| m.value)
    }
}

/// genviz's standard table: every family once, with radii chosen from Andriushchenko et al.'s
/// grids (`sh/eval_sharpness_final.sh`) and checked on the swiss-roll nets (docs/measures.md
/// gives the measured values), Jiang et al.'s PAC-Bayes settings, and the paper's basin.
pub fn default_measures() -> Vec<MeasureSpec> {
    vec![
        MeasureSpec::Performance,
        MeasureSpec::AverageSharpness(AverageSharpnessConfig {
            rho: 0.05,
            ..Default::default()
        }),
        MeasureSpec::AverageSharpness(AverageSharpnessConfig {
            rho: 0.1,
            adaptive: true,
            ..Default::default()
        }),
        MeasureSpec::WorstSharpness(WorstSharpnessConfig {
            rho: 0.25,
            ball: Ball::L2,
            ..Default::default()
        }),
        MeasureSpec::WorstSharpness(WorstSharpnessConfig {
            rho: 0.5,
            ball: Ball::L2,
            adaptive: true,
            ..Default::default()
        }),
        MeasureSpec::WorstSharpness(WorstSharpnessConfig {
            rho: 0.001,
            ..Default::default()
        }),
        MeasureSpec::WorstSharpness(WorstSharpnessConfig {
            rho: 0.002,
            adaptive: true,
            ..Default::default()
        }),
        MeasureSpec::AverageSharpness(AverageSharpnessConfig {
            rho: 0.1,
            distribution: Distribution::Uniform,
            adaptive: true,
            ..Default::default()
        }),
        MeasureSpec::PacBayesFlatness(PacBayesConfig::default()),
        MeasureSpec::PacBayesFlatness(PacBayesConfig {
            magnitude_aware: true,
            ..Default::default()
        }),
        MeasureSpec::DistanceFromInit,
        MeasureSpec::SpectralProduct,
        MeasureSpec::PathNorm,
        MeasureSpec::FisherRao(FisherRaoConfig::default()),
        MeasureSpec::Basin(BasinConfig::default()),
        MeasureSpec::Hessian(HessianConfig::default()),
    ]
}

#[cfg(test)]
mod tests;

//! Experiment files: one TOML (or JSON in `run.json`) describing data, model and training, so
//! every run can be repeated from its record.

use anyhow::{bail, Context, Result};
use genviz_conv::Device;
use genviz_core::{rng, Dataset};
use genviz_data::{CsvOptions, LabelColumn};
use genviz_mlp::{Activation, Head, Init, MlpSpec};
use genviz_train::{PoisonPool, TrainConfig};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A whole experiment: what `genviz train --config FILE` reads and `run.json` records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// The seed every random choice derives from.
    pub seed: u64,
    /// The data.
    pub data: DataConfig,
    /// The network.
    pub model: ModelConfig,
    /// The optimisation.
    pub train: TrainConfig,
    /// Where a conv net computes (MLPs always compute on the CPU threads).
    #[serde(default, skip_serializing_if = "is_cpu")]
    pub device: Device,
}

fn is_cpu(d: &Device) -> bool {
    *d == Device::Cpu
}

/// The network's shape; input and output sizes come from the data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Non-linearity.
    #[serde(default)]
    pub activation: Activation,
    /// Output head; `sigmoid` needs two classes.
    #[serde(default)]
    pub head: Head,
    /// Initialisation.
    #[serde(default)]
    pub init: Init,
    /// A convolutional architecture (genviz-conv on burn) instead of the MLP; the fields above
    /// are then unused. Needs image data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<genviz_conv::Arch>,
}

impl ModelConfig {
    /// The MLP for data with `dim` features and `classes` classes.
    pub fn spec(&self, dim: usize, classes: usize) -> MlpSpec {
        MlpSpec {
            input_dim: dim,
            hidden: self.hidden.clone(),
            num_classes: classes,
            activation: self.activation,
            head: self.head,
        }
    }
}

/// Which 132 / 134 / 134 split of the minefield spiral a run uses.
///
/// Which test points sit between two training points, which between two untraining points
/// and which between one of each decides how well a bad minimum can score (SPEC 1.8): on the
/// authors' split a nearest-labelled-neighbour rule scores 48.5% on the test points, on the
/// split seed 1 draws 53.7%. Fig 1 is therefore comparable with the paper only on theirs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MinefieldSplit {
    /// The authors' split, replayed from their seeds (CPython `random.seed(99)`, NumPy 0).
    #[default]
    Authors,
    /// A split drawn from the run's seed.
    Seeded,
}

impl std::str::FromStr for MinefieldSplit {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "authors" => Ok(MinefieldSplit::Authors),
            "seeded" => Ok(MinefieldSplit::Seeded),
            other => bail!("split `{other}`: expected authors or seeded"),
        }
    }
}

/// Where the data comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DataConfig {
    /// The paper's swiss roll (SPEC 1.1): two mirrored spirals, shuffled and split.
    SwissRoll {
        /// Points per class (gen-viz: 200, i.e. 400 in all).
        #[serde(default = "d_swiss_points")]
        points_per_class: usize,
        /// Gaussian noise (gen-viz README: 0.5).
        #[serde(default = "d_swiss_noise")]
        noise: f32,
        /// Training points; the rest are the test set (gen-viz: 200).
        #[serde(default = "d_swiss_train")]
        n_train: usize,
    },
    /// The minefield spiral of Fig 1 (SPEC 1.8): 132 train, 134 poison, 134 test.
    Minefield {
        /// Which split: the authors' own (the default) or one drawn from the run's seed.
        #[serde(default)]
        split: MinefieldSplit,
    },
    /// The sharp-margin circles of Fig 8 (SPEC 1.9); the test set is the training set.
    SharpCircles,
    /// Two interleaving half circles.
    Moons {
        /// Points per class.
        points_per_class: usize,
        /// Gaussian noise.
        noise: f32,
        /// Training points; the rest are the test set.
        n_train: usize,
    },
    /// Gaussian blobs.
    Blobs {
        /// Points per class.
        points_per_class: usize,
        /// Number of classes.
        num_classes: usize,
        /// Number of features.
        dim: usize,
        /// Standard deviation of each blob.
        spread: f32,
        /// Training points; the rest are the test set.
        n_train: usize,
    },
    /// A CSV file of features and an integer label column.
    Csv {
        /// Training data.
        train: PathBuf,
        /// Test data; when absent, `test_fraction` of `train` is held out.
        #[serde(default)]
        test: Option<PathBuf>,
        /// Held-out fraction when there is no test file.
        #[serde(default = "d_test_fraction")]
        test_fraction: f64,
        /// Label column: a 0-based index, or a header name; default the last column.
        #[serde(default)]
        label: Option<String>,
        /// Number of classes; default the largest label + 1.
        #[serde(default)]
        num_classes: Option<usize>,
    },
    /// Real images: MNIST, Fashion-MNIST or CIFAR-10, official test set, training images
    /// shuffled with the seed. The first `n_train` train; the rest of the official training
    /// split is held out and, with true labels, is the poison set `D_p` (SPEC 1.4's held-out
    /// split).
    Images {
        /// Which data set.
        source: genviz_data::ImageSource,
        /// Folder holding its files; default `data/<name>`, then Debian's install path.
        #[serde(default)]
        dir: Option<PathBuf>,
        /// Training images; default the whole official training split (then there is no
        /// held-out poison set).
        #[serde(default)]
        n_train: Option<usize>,
        /// Normalise each channel to zero mean and unit deviation (statistics of the
        /// training images).
        #[serde(default = "d_true")]
        normalize: bool,
        /// Random crops and flips of every training batch (He et al.: pad 4, flip); none by
        /// default. Evaluations always see the images as they are.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        augment: Option<genviz_data::Augment>,
    },
    /// Degree-2 polynomial features of real images (Fig 2's linear model): the raw pixels plus
    /// every product of two pixels of the image downsized to `side` x `side` by area
    /// averaging, each feature standardised with its training mean and deviation. The images
    /// are split as [`DataConfig::Images`] splits them with the same seed.
    PolyFeatures {
        /// Which data set.
        source: genviz_data::ImageSource,
        /// Folder holding its files; default `data/<name>`, then Debian's install path.
        #[serde(default)]
        dir: Option<PathBuf>,
        /// Training images.
        n_train: usize,
        /// Side of the downsized image.
        side: usize,
    },
    /// `.npz` arrays `x_train`, `y_train`, `x_test`, `y_test` (genviz's own `data.npz`); `x`
    /// arrays of any rank are flattened into rows.
    Npz {
        /// The file.
        path: PathBuf,
        /// Number of classes; default the largest label + 1.
        #[serde(default)]
        num_classes: Option<usize>,
    },
}

fn d_swiss_points() -> usize {
    200
}
fn d_swiss_noise() -> f32 {
    0.5
}
fn d_swiss_train() -> usize {
    200
}
fn d_test_fraction() -> f64 {
    0.2
}
fn d_true() -> bool {
    true
}

/// Data ready to train on.
pub struct LoadedData {
    /// Training set.
    pub train: Dataset,
    /// Test set.
    pub test: Dataset,
    /// A fixed poison set with true labels, where the data defines one (the minefield).
    pub fixed_poison: Option<Dataset>,
}

impl DataConfig {
    /// Short name for folder names and titles.
    pub fn name(&self) -> &'static str {
        match self {
            DataConfig::SwissRoll { .. } => "swissroll",
            DataConfig::Minefield { .. } => "minefield",
            DataConfig::SharpCircles => "circles",
            DataConfig::Moons { .. } => "moons",
            DataConfig::Blobs { .. } => "blobs",
            DataConfig::Csv { .. } => "csv",
            DataConfig::Npz { .. } => "npz",
            DataConfig::Images { source, .. } => source.name(),
            DataConfig::PolyFeatures { .. } => "poly-features",
        }
    }

    /// The default settings of a built-in data set named on the command line.
    pub fn builtin(name: &str) -> Result<Self> {
        Ok(match name {
            "swiss-roll" | "swissroll" | "swiss_roll" => DataConfig::SwissRoll {
                points_per_class: d_swiss_points(),
                noise: d_swiss_noise(),
                n_train: d_swiss_train(),
            },
            "minefield" => DataConfig::Minefield {
                split: MinefieldSplit::default(),
            },
            "circles" | "sharp-circles" => DataConfig::SharpCircles,
            "moons" => DataConfig::Moons {
                points_per_class: 200,
                noise: 0.1,
                n_train: 200,
            },
            "blobs" => DataConfig::Blobs {
                points_per_class: 100,
                num_classes: 3,
                dim: 2,
                spread: 1.0,
                n_train: 150,
            },
            other => {
                if let Some(source) = genviz_data::ImageSource::parse(other) {
                    DataConfig::Images {
                        source,
                        dir: None,
                        n_train: None,
                        normalize: true,
                        augment: None,
                    }
                } else if let Some(path) = other.strip_prefix("csv:") {
                    DataConfig::Csv {
                        train: path.into(),
                        test: None,
                        test_fraction: d_test_fraction(),
                        label: None,
                        num_classes: None,
                    }
                } else if let Some(path) = other.strip_prefix("npz:") {
                    DataConfig::Npz {
                        path: path.into(),
                        num_classes: None,
                    }
                } else {
                    bail!("unknown data set `{other}`; expected swiss-roll, minefield, circles, moons, blobs, mnist, fashion-mnist, cifar10, csv:PATH or npz:PATH")
                }
            }
        })
    }

    /// Generates or reads the data, with every random choice drawn from `seed`.
    pub fn load(&self, seed: u64) -> Result<LoadedData> {
        let mut data_rng = rng::stream(seed, "data");
        let mut split_rng = rng::stream(seed, "split");
        let split = |all: Dataset, n_train: usize, rng: &mut rng::Rng| -> Result<LoadedData> {
            let (train, test) = genviz_data::train_test_split(&all, n_train, rng)?;
            Ok(LoadedData {
                train,
                test,
                fixed_poison: None,
            })
        };
        match self {
            DataConfig::SwissRoll {
                points_per_class,
                noise,
                n_train,
            } => {
                check_noise(*noise)?;
                let all = genviz_data::SwissRoll {
                    points_per_class: *points_per_class,
                    noise: *noise,
                    ..Default::default()
                }
                .generate(&mut data_rng);
                split(all, *n_train, &mut split_rng)
            }
            DataConfig::Minefield { split } => {
                let m = match split {
                    MinefieldSplit::Authors => genviz_data::Minefield::authors_split(),
                    MinefieldSplit::Seeded => {
                        genviz_data::Minefield::default().generate(&mut data_rng)
                    }
                };
                Ok(LoadedData {
                    train: m.train,
                    test: m.test,
                    fixed_poison: Some(m.poison_true),
                })
            }
            DataConfig::SharpCircles => {
                let all = genviz_data::SharpCircles::default().generate();
                Ok(LoadedData {
                    train: all.clone(),
                    test: all,
                    fixed_poison: None,
                })
            }
            DataConfig::Moons {
                points_per_class,
                noise,
                n_train,
            } => {
                check_noise(*noise)?;
                let all = genviz_data::Moons {
                    points_per_class: *points_per_class,
                    noise: *noise,
                }
                .generate(&mut data_rng);
                split(all, *n_train, &mut split_rng)
            }
            DataConfig::Blobs {
                points_per_class,
                num_classes,
                dim,
                spread,
                n_train,
            } => {
                if *dim == 0 || *num_classes < 2 || !(spread.is_finite() && *spread >= 0.0) {
                    bail!("data: blobs need dim >= 1, num_classes >= 2 and a finite spread >= 0");
                }
                let all = genviz_data::Blobs {
                    points_per_class: *points_per_class,
                    num_classes: *num_classes,
                    dim: *dim,
                    spread: *spread,
                    center_box: 10.0,
                }
                .generate(&mut data_rng);
                split(all, *n_train, &mut split_rng)
            }
            DataConfig::Csv {
                train,
                test,
                test_fraction,
                label,
                num_classes,
            } => {
                let label_column = match label {
                    None => LabelColumn::Last,
                    Some(l) => l
                        .parse()
                        .map(LabelColumn::Index)
                        .unwrap_or_else(|_| LabelColumn::Name(l.clone())),
                };
                let options = CsvOptions {
                    label_column,
                    num_classes: *num_classes,
                    ..CsvOptions::default()
                };
                let train_set = genviz_data::read_csv(train, &options)?;
                match test {
                    Some(t) => {
                        let options = CsvOptions {
                            num_classes: Some(train_set.num_classes()),
                            ..options
                        };
                        let test_set = genviz_data::read_csv(t, &options)?;
                        Ok(LoadedData {
                            train: train_set,
                            test: test_set,
                            fixed_poison: None,
                        })
                    }
                    None => {
                        if !(0.0..1.0).contains(test_fraction) {
                            bail!("data: test_fraction is {test_fraction}, expected a value in [0, 1)");
                        }
                        let n_train =
                            ((1.0 - test_fraction) * train_set.len() as f64).round() as usize;
                        split(train_set, n_train.max(1), &mut split_rng)
                    }
                }
            }
            DataConfig::Images {
                source,
                dir,
                n_train,
                normalize,
                ..
            } => load_images(
                *source,
                dir.as_deref(),
                *n_train,
                *normalize,
                &mut split_rng,
            ),
            DataConfig::PolyFeatures {
                source,
                dir,
                n_train,
                side,
            } => {
                let loaded = load_images(
                    *source,
                    dir.as_deref(),
                    Some(*n_train),
                    false,
                    &mut split_rng,
                )?;
                let shape = source.shape();
                let count = genviz_data::poly_feature_count(shape, *side);
                let rows = loaded.train.len() + loaded.test.len();
                genviz_core::limits::check_memory(
                    &format!(
                        "the polynomial features ({count} per image, side {side}) of {rows} images"
                    ),
                    (rows * count * std::mem::size_of::<f32>()) as u64,
                )?;
                let poly = genviz_data::PolyFeatures::fit(&loaded.train, shape, *side)?;
                Ok(LoadedData {
                    train: poly.transform(&loaded.train)?,
                    test: poly.transform(&loaded.test)?,
                    fixed_poison: None,
                })
            }
            DataConfig::Npz { path, num_classes } => {
                // Any rank: `[N, D]` features, `[N, C, H, W]` images or `[N, T]` token ids
                // (for ONNX models), flattened into rows.
                let train = genviz_data::read_npz_examples(path, "train", *num_classes)?.data;
                let test = genviz_data::read_npz_examples(
                    path,
                    "test",
                    Some(num_classes.unwrap_or(train.num_classes())),
                )?
                .data;
                Ok(LoadedData {
                    train,
                    test,
                    fixed_poison: None,
                })
            }
        }
    }

    /// Whether a run keeps its data beside the model as `data.npz`: generated and tabular
    /// data do (so anyone can re-evaluate the model); image data and features derived from
    /// images do not (they are rebuilt from the configuration, and would take hundreds of MB).
    pub fn keeps_data_file(&self) -> bool {
        !matches!(
            self,
            DataConfig::Images { .. } | DataConfig::PolyFeatures { .. }
        )
    }

    /// The augmentation of training batches, for image data that asks for one.
    pub fn augment(&self) -> Option<genviz_data::Augment> {
        match self {
            DataConfig::Images { augment, .. } => *augment,
            _ => None,
        }
    }

    /// The shape of each example when the data are images (rows NCHW-flattened).
    pub fn image_shape(&self) -> Option<genviz_data::ImageShape> {
        match self {
            DataConfig::Images { source, .. } => Some(source.shape()),
            _ => None,
        }
    }

    /// A source of fresh points from this data's distribution, for the poisoned objective.
    pub fn fresh_source(&self) -> Option<PoisonPool> {
        match self.clone() {
            DataConfig::SwissRoll { noise, .. } => Some(draw_from(move |per_class, rng| {
                let roll = genviz_data::SwissRoll {
                    points_per_class: per_class,
                    noise,
                    ..Default::default()
                };
                roll.generate(rng)
            })),
            DataConfig::Moons { noise, .. } => Some(draw_from(move |per_class, rng| {
                genviz_data::Moons {
                    points_per_class: per_class,
                    noise,
                }
                .generate(rng)
            })),
            _ => None,
        }
    }

    /// The poison source a run with `config` needs, or a clear error when the data has none.
    pub fn poison_pool(
        &self,
        train: &TrainConfig,
        loaded: &LoadedData,
        seed: u64,
    ) -> Result<Option<PoisonPool>> {
        let Some(p) = &train.poison else {
            return Ok(None);
        };
        if p.fresh {
            return match self.fresh_source() {
                Some(s) => Ok(Some(s)),
                None => bail!(
                    "train.poison.fresh: the {} data has no generator to draw fresh points from; set fresh = false{}",
                    self.name(),
                    if loaded.fixed_poison.is_some() { " to use its fixed poison set" } else { "" }
                ),
            };
        }
        match &loaded.fixed_poison {
            Some(d) => Ok(Some(PoisonPool::Fixed(d.clone()))),
            None => match self.fresh_source() {
                // A generator can draw one fixed set up front.
                Some(PoisonPool::Fresh(mut g)) => {
                    let n = match p.weight {
                        genviz_train::PoisonWeight::Beta { count, .. } => count.unwrap_or(loaded.train.len()),
                        genviz_train::PoisonWeight::GenViz { pool, .. } => pool,
                    };
                    Ok(Some(PoisonPool::Fixed(g(n, &mut rng::stream(seed, "poison-set")))))
                }
                _ => bail!("train.poison: the {} data defines no poison set; poisoning needs a generated data set (swiss-roll, moons) or the minefield", self.name()),
            },
        }
    }
}

/// Reads an image data set: the official test set, and the official training split shuffled
/// with `rng`, of which the first `n_train` train and the rest are held out (true labels) as
/// the fixed poison set. Normalisation uses the training images' channel statistics.
fn load_images(
    source: genviz_data::ImageSource,
    dir: Option<&Path>,
    n_train: Option<usize>,
    normalize: bool,
    rng: &mut rng::Rng,
) -> Result<LoadedData> {
    let images = source.load(dir)?;
    let total = images.train.len();
    let n = n_train.unwrap_or(total);
    if n == 0 || n > total {
        bail!(
            "data: n_train is {n}, expected 1..={total} (the {} training images in {})",
            source.name(),
            images.dir.display()
        );
    }
    let (mut train, mut held_out) = genviz_data::train_test_split(&images.train, n, rng)?;
    let mut test = images.test;
    if normalize {
        let stats = genviz_data::ChannelStats::of(&train, images.shape)?;
        train = stats.normalize(&train, images.shape)?;
        test = stats.normalize(&test, images.shape)?;
        if !held_out.is_empty() {
            held_out = stats.normalize(&held_out, images.shape)?;
        }
    }
    Ok(LoadedData {
        train,
        test,
        fixed_poison: (!held_out.is_empty()).then_some(held_out),
    })
}

fn check_noise(noise: f32) -> Result<()> {
    if !(noise.is_finite() && noise >= 0.0) {
        bail!("data: noise is {noise}, expected a finite number >= 0");
    }
    Ok(())
}

/// Reads an experiment file (TOML, or JSON such as a previous run's `run.json` `config`).
pub fn read_experiment(path: &Path) -> Result<ExperimentConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_experiment(&text, path.extension().is_some_and(|e| e == "json"), path)
}

/// Parses the text of an experiment file, JSON when `json` is set, TOML otherwise; `path`
/// only names it in errors (this is what the fuzzer runs on arbitrary text).
pub fn parse_experiment(text: &str, json: bool, path: &Path) -> Result<ExperimentConfig> {
    if json {
        return config_from_json(text, path, "an experiment");
    }
    toml::from_str(text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// A configuration from JSON text: a previous run's whole `run.json` (its `config` is taken)
/// or the configuration alone, so any run folder's record can be fed back as a config file.
/// `what` names the expected kind in errors, e.g. `"a sweep"`.
pub(crate) fn config_from_json<T: serde::de::DeserializeOwned>(
    text: &str,
    path: &Path,
    what: &str,
) -> Result<T> {
    let value: serde_json::Value =
        serde_json::from_str(text).with_context(|| format!("{}: invalid JSON", path.display()))?;
    let config = value.get("config").cloned().unwrap_or(value);
    serde_json::from_value(config).with_context(|| format!("{}: not {what}", path.display()))
}

/// A fresh poison source from a generator of `k` points per class: each step takes `n` of
/// them in random order.
fn draw_from(generate: impl Fn(usize, &mut rng::Rng) -> Dataset + Send + 'static) -> PoisonPool {
    PoisonPool::Fresh(Box::new(move |n, rng: &mut rng::Rng| {
        let all = generate(n.div_ceil(2), rng);
        let shuffled = genviz_data::shuffle(&all, rng);
        shuffled.select(&(0..n.min(shuffled.len())).collect::<Vec<_>>())
    }))
}

//! `genviz train`.

use crate::args::{absolute, parse, steps_list};
use crate::progress::Terminal;
use anyhow::Result;
use clap::{Args, ValueEnum};
use genviz_experiments::config::read_experiment;
use genviz_experiments::{presets, run_dir, DataConfig, Device, ExperimentConfig};
use genviz_mlp::Activation;
use genviz_train::{LrSchedule, OptimizerConfig, PoisonConfig, PoisonForm, PoisonWeight};
use std::path::PathBuf;

/// The flags of `genviz train` (its help text is on the subcommand in main.rs).
#[derive(Args)]
pub struct TrainArgs {
    /// Experiment file: TOML with [data], [model], [train] tables, or a run.json.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data: swiss-roll, minefield, circles, moons, blobs, mnist, fashion-mnist, cifar10,
    /// csv:PATH or npz:PATH.
    #[arg(long)]
    data: Option<String>,
    /// Folder of an image data set (default: data/<name>, then Debian's
    /// /usr/share/datasets/fashion-mnist for fashion-mnist).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Training images of an image data set (default: all); the rest of the official training
    /// split is held out as the poison set.
    #[arg(long)]
    n_train: Option<usize>,
    /// Augment every training batch of an image data set with random crops (zero padding of
    /// this many pixels, He et al.: 4) and left-right flips.
    #[arg(long)]
    augment: Option<usize>,
    /// A convolutional net instead of the MLP: cnn, vgg9, vgg13, resnet20, resnet56, resnet18 (-noshort for
    /// no skip connections).
    #[arg(long)]
    model: Option<String>,
    /// Where a conv net computes: cpu, or cuda (a build with `--features cuda`).
    #[arg(long, value_parser = parse::<Device>)]
    device: Option<Device>,
    /// Hidden layer widths, comma separated (the paper: 23,16,26,32,28,31).
    #[arg(long, value_delimiter = ',')]
    hidden: Option<Vec<usize>>,
    /// Non-linearity between layers.
    #[arg(long, value_enum)]
    activation: Option<ActivationArg>,
    /// Output head: sigmoid (one logit, two classes) or softmax.
    #[arg(long, value_enum)]
    head: Option<HeadArg>,
    /// Optimizer.
    #[arg(long, value_enum)]
    optimizer: Option<OptimizerArg>,
    /// Learning rate (milestones are kept unless --milestones is given).
    #[arg(long)]
    lr: Option<f64>,
    /// Steps at which the learning rate is divided by 10, comma separated ("" for none).
    #[arg(long)]
    milestones: Option<String>,
    /// Momentum for sgd and rmsprop.
    #[arg(long)]
    momentum: Option<f32>,
    /// Number of optimizer steps.
    #[arg(long)]
    steps: Option<u64>,
    /// Examples per step (default: full batch).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Clip gradients to this global norm.
    #[arg(long)]
    clip_norm: Option<f64>,
    /// L2 weight decay.
    #[arg(long)]
    weight_decay: Option<f32>,
    /// Poisoned objective: gen-viz (fresh flipped points, the paper's schedule), flipped or
    /// reverse (with --beta), or none.
    #[arg(long, value_enum)]
    poison: Option<PoisonArg>,
    /// Weight of the poison term for --poison flipped/reverse.
    #[arg(long, default_value_t = 0.5)]
    beta: f64,
    /// Poison points for --poison flipped/reverse: the size of the fixed set, or the points
    /// drawn per step with --poison-fresh (default: as many as training points).
    #[arg(long)]
    poison_count: Option<usize>,
    /// Draw the poison points afresh from the data distribution at every step.
    #[arg(long)]
    poison_fresh: bool,
    /// Seed of every random choice.
    #[arg(long)]
    seed: Option<u64>,
    /// Evaluate and log every this many steps.
    #[arg(long)]
    log_every: Option<u64>,
    /// Save a checkpoint every this many steps.
    #[arg(long)]
    checkpoint_every: Option<u64>,
    /// Output folder (default: a new folder under runs/).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ActivationArg {
    Relu,
    Tanh,
    LeakyRelu,
}

#[derive(Clone, Copy, ValueEnum)]
enum HeadArg {
    Sigmoid,
    Softmax,
}

#[derive(Clone, Copy, ValueEnum)]
enum OptimizerArg {
    Sgd,
    Adam,
    Rmsprop,
}

#[derive(Clone, Copy, ValueEnum)]
enum PoisonArg {
    None,
    GenViz,
    Flipped,
    Reverse,
}

impl TrainArgs {
    /// The experiment these arguments describe.
    fn experiment(&self) -> Result<ExperimentConfig> {
        let mut c = match &self.config {
            Some(path) => read_experiment(path)?,
            None => presets::swiss_roll_clean(presets::CLEAN_STEPS),
        };
        if let Some(d) = &self.data {
            c.data = DataConfig::builtin(d)?;
            absolute_files(&mut c.data);
            if !matches!(c.data, DataConfig::SwissRoll { .. })
                && self.head.is_none()
                && self.config.is_none()
            {
                // The sigmoid head only fits two classes; softmax works for any number.
                c.model.head = genviz_mlp::Head::Softmax;
            }
        }
        if let DataConfig::Images {
            dir,
            n_train,
            augment,
            ..
        } = &mut c.data
        {
            if let Some(d) = &self.data_dir {
                *dir = Some(absolute(d));
            }
            if self.n_train.is_some() {
                *n_train = self.n_train;
            }
            if let Some(pad) = self.augment {
                *augment = Some(genviz_data::Augment { pad, flip: true });
            }
        } else if self.data_dir.is_some() || self.n_train.is_some() || self.augment.is_some() {
            anyhow::bail!(
                "--data-dir, --n-train and --augment apply to image data (mnist, fashion-mnist, cifar10)"
            );
        }
        if let Some(m) = &self.model {
            c.model.arch = Some(genviz_experiments::Arch::parse(m)?);
        }
        if let Some(h) = &self.hidden {
            c.model.hidden = h.clone();
        }
        if let Some(a) = self.activation {
            c.model.activation = match a {
                ActivationArg::Relu => Activation::Relu,
                ActivationArg::Tanh => Activation::Tanh,
                ActivationArg::LeakyRelu => Activation::LeakyRelu { slope: 0.01 },
            };
        }
        if let Some(h) = self.head {
            c.model.head = match h {
                HeadArg::Sigmoid => genviz_mlp::Head::Sigmoid,
                HeadArg::Softmax => genviz_mlp::Head::Softmax,
            };
        }
        let momentum = self.momentum.unwrap_or(0.0);
        if let Some(o) = self.optimizer {
            c.train.optimizer = match o {
                OptimizerArg::Sgd => OptimizerConfig::Sgd {
                    momentum,
                    nesterov: false,
                },
                OptimizerArg::Adam => OptimizerConfig::adam(),
                OptimizerArg::Rmsprop => OptimizerConfig::Rmsprop {
                    alpha: 0.99,
                    eps: 1e-8,
                    momentum,
                },
            };
        } else if self.momentum.is_some() {
            match &mut c.train.optimizer {
                OptimizerConfig::Sgd { momentum: m, .. }
                | OptimizerConfig::Rmsprop { momentum: m, .. } => *m = momentum,
                other => {
                    anyhow::bail!(
                        "--momentum applies to sgd and rmsprop, not {}",
                        other.name()
                    )
                }
            }
        }
        if let Some(lr) = self.lr {
            c.train.schedule.lr = lr;
        }
        if let Some(m) = &self.milestones {
            let milestones = steps_list("--milestones", m)?;
            c.train.schedule = LrSchedule {
                milestones,
                ..c.train.schedule
            };
        }
        if let Some(s) = self.steps {
            c.train.steps = s;
        }
        if self.batch_size.is_some() {
            c.train.batch_size = self.batch_size;
        }
        if self.clip_norm.is_some() {
            c.train.clip_norm = self.clip_norm;
        }
        if let Some(wd) = self.weight_decay {
            c.train.weight_decay = wd;
        }
        if let Some(p) = self.poison {
            c.train.poison = match p {
                PoisonArg::None => None,
                PoisonArg::GenViz => {
                    if self.config.is_none() && self.lr.is_none() && self.milestones.is_none() {
                        let preset = presets::swiss_roll_poisoned_gen_viz(c.train.steps);
                        c.train.schedule = preset.train.schedule;
                    }
                    Some(PoisonConfig::gen_viz_swiss_roll())
                }
                PoisonArg::Flipped | PoisonArg::Reverse => Some(PoisonConfig {
                    form: if matches!(p, PoisonArg::Flipped) {
                        PoisonForm::Flipped
                    } else {
                        PoisonForm::Reverse
                    },
                    weight: PoisonWeight::Beta {
                        beta: self.beta,
                        count: self.poison_count,
                    },
                    fresh: self.poison_fresh,
                }),
            };
        }
        if let Some(s) = self.seed {
            c.seed = s;
        }
        if let Some(l) = self.log_every {
            c.train.log_every = l;
        }
        if let Some(k) = self.checkpoint_every {
            c.train.checkpoint_every = k;
        }
        if let Some(d) = self.device {
            c.device = d;
        }
        c.train.validate()?;
        Ok(c)
    }
}

/// Makes the files a data configuration names absolute, so that the run's record reruns from
/// any folder.
fn absolute_files(data: &mut DataConfig) {
    match data {
        DataConfig::Csv { train, test, .. } => {
            *train = absolute(train);
            if let Some(t) = test {
                *t = absolute(t);
            }
        }
        DataConfig::Npz { path, .. } => *path = absolute(path),
        _ => {}
    }
}

/// Runs `genviz train`.
pub fn run(args: TrainArgs, progress: &Terminal) -> Result<()> {
    let config = args.experiment()?;
    let dir = run_dir::choose(
        args.out.as_deref(),
        &format!("train-{}", config.data.name()),
    );
    let existed = dir.exists();
    let trained = genviz_experiments::train::run(&config, &dir, progress);
    let m = match trained {
        Ok(r) => r.final_metrics,
        Err(e) => {
            // Nothing was written (bad data or config): leave no empty run folder behind.
            if !existed {
                let _ = std::fs::remove_dir(&dir);
            }
            return Err(e);
        }
    };
    let digits = if config.model.arch.is_some() { 2 } else { 1 };
    println!(
        "{}: train loss {:.4} acc {:.digits$}%, test loss {:.4} acc {:.digits$}%",
        dir.display(),
        m.train_loss,
        100.0 * m.train_acc,
        m.test_loss,
        100.0 * m.test_acc
    );
    Ok(())
}

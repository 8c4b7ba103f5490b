//! Flags several commands share, and their conversion into the library's settings.

use clap::Args;
use genviz_experiments::landscape::{GridSettings, PlotStyle};
use genviz_experiments::model::DataSource;
use genviz_experiments::presets::SWISS_ROLL_SEED;
use genviz_landscape::Shard;
use std::path::{Path, PathBuf};

/// Where an analysis finds its data.
#[derive(Args, Clone, Debug)]
pub struct DataArgs {
    /// Data: a data.npz, csv:PATH, npz:PATH or a built-in data set. Default: the run folder's
    /// data.npz (or, for an image run, the data its run.json names).
    #[arg(long)]
    pub data: Option<String>,
    /// Seed of a built-in data set (and of the evaluation subsets).
    #[arg(long, default_value_t = SWISS_ROLL_SEED)]
    pub seed: u64,
}

impl DataArgs {
    /// All of the data.
    pub fn source(&self) -> DataSource {
        self.source_cut(None, None)
    }

    /// At most `eval_train` / `eval_test` examples of it (seeded random subsets).
    pub fn source_cut(&self, eval_train: Option<usize>, eval_test: Option<usize>) -> DataSource {
        DataSource {
            data: self.data.as_deref().map(absolute_data),
            seed: self.seed,
            eval_train,
            eval_test,
        }
    }
}

/// A `--data` value with its file made absolute, so that the run's record reruns from any
/// folder: `csv:PATH`, `npz:PATH` and a bare `.npz` file; built-in names stay as they are.
fn absolute_data(data: &str) -> String {
    for prefix in ["csv:", "npz:"] {
        if let Some(path) = data.strip_prefix(prefix) {
            return format!("{prefix}{}", absolute(Path::new(path)).display());
        }
    }
    if data.ends_with(".npz") {
        return absolute(Path::new(data)).display().to_string();
    }
    data.to_string()
}

/// `path` made absolute (against the current folder), so that a run's record names the same
/// file wherever it is rerun from.
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// How a grid is split, saved and drawn: the flags every landscape command shares.
#[derive(Args, Clone, Debug)]
pub struct GridArgs {
    /// Evaluate only slice k of n of the grid (1-based, e.g. 2/4); join slices with `genviz merge`.
    #[arg(long)]
    pub shard: Option<Shard>,
    /// Evaluate on this many training examples (a seeded random subset, the same at every
    /// point) instead of all: a surface point of a conv net on 60,000 images takes minutes on
    /// a CPU. Default: all.
    #[arg(long)]
    pub eval_train: Option<usize>,
    /// Evaluate on this many test examples (a seeded random subset). Default: all.
    #[arg(long)]
    pub eval_test: Option<usize>,
    /// Output folder (default: a new folder under runs/). Rerunning into the same folder
    /// resumes an interrupted grid.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seconds between saves of the partly filled grid (what a killed run resumes from);
    /// 0 saves after every batch of points.
    #[arg(long, default_value_t = 2.0)]
    pub save_every: f64,
    /// Lowest contour level (Li et al.: 0.1).
    #[arg(long, default_value_t = 0.1)]
    pub vmin: f64,
    /// Highest contour level (Li et al.: 10).
    #[arg(long, default_value_t = 10.0)]
    pub vmax: f64,
    /// Spacing of contour levels (Li et al.: 0.5).
    #[arg(long, default_value_t = 0.5)]
    pub vlevel: f64,
    /// Log-scale contours, colours and 1-D loss axes.
    #[arg(long)]
    pub log: bool,
    /// Clip heights of the 3-D surface and the ParaView export at this loss.
    #[arg(long, default_value_t = 10.0)]
    pub zmax: f64,
    #[command(flatten)]
    pub data: DataArgs,
}

impl GridArgs {
    /// The data (cut to `--eval-train` / `--eval-test`), slicing, saving and drawing.
    pub fn settings(&self) -> GridSettings {
        GridSettings {
            data: self.data.source_cut(self.eval_train, self.eval_test),
            shard: self.shard,
            save_every: self.save_every,
            plot: PlotStyle {
                vmin: self.vmin,
                vmax: self.vmax,
                vlevel: self.vlevel,
                log: self.log,
                zmax: self.zmax,
            },
        }
    }
}

/// Parses with the library's `FromStr`, for clap.
pub fn parse<T: std::str::FromStr>(s: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    s.parse().map_err(|e: T::Err| e.to_string())
}

/// A comma-separated list of step numbers (`""` for none).
pub fn steps_list(flag: &str, list: &str) -> anyhow::Result<Vec<u64>> {
    list.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| {
            x.parse::<u64>()
                .map_err(|_| anyhow::anyhow!("{flag} {list:?}: {x:?} is not a step number"))
        })
        .collect()
}

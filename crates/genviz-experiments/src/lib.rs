//! genviz's experiments as a library.
//!
//! Everything the `genviz` command does is a function here, with typed inputs and typed
//! results, so that the command line, the Python package and a user's own Rust program call
//! the same code: train a network into a run folder ([`train`]), draw and measure its
//! landscape ([`landscape`], [`basin`], [`hessian`], [`connect`], [`animate`]), reproduce each
//! of the paper's figures and all of them at once ([`paper`]).
//!
//! Three ideas hold it together:
//! - **Typed configurations that read back.** Every job's settings are a serde type
//!   (`ExperimentConfig`, `SurfaceConfig`, `BasinConfig`, `PaperConfig`, ...) with the
//!   paper's presets in [`presets`].
//! - **One run record.** Every run folder carries `run.json`, a [`RunRecord`]: the command,
//!   version, seed, full configuration, data, threads, timings and results. [`Job::run`]
//!   reruns or resumes any folder from it alone.
//! - **Progress without printing.** Long jobs report through a [`Progress`]; the library
//!   never writes to the terminal.
//!
//! Grid-like jobs (surface points, basin rays, the Hessian's ratio map) split over shards and,
//! with the `mpi` feature, over MPI ranks ([`ranks`]); conv nets run on the CPU or, with the
//! `cuda` feature, a GPU.

pub mod animate;
pub mod basin;
pub mod bench;
pub mod config;
pub mod connect;
pub mod figures;
pub mod hessian;
pub mod landscape;
pub mod model;
pub mod names;
pub mod paper;
pub mod presets;
pub mod progress;
pub mod ranks;
pub mod record;
pub mod run_dir;
pub mod train;

pub use config::{DataConfig, ExperimentConfig, ModelConfig};
pub use genviz_conv::{Arch, Device};
pub use names::Names;
pub use progress::{Progress, Silent, Stage};
pub use record::{Job, RunRecord};

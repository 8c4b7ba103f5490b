//! One module per family of subcommands: each holds the clap arguments, their conversion into
//! the library's configuration, one call into `genviz-experiments`, and what it prints.

pub mod animate;
pub mod bench;
pub mod curvature;
pub mod data;
pub mod eval;
pub mod export;
pub mod landscape;
pub mod measures;
pub mod paper;
pub mod report;
pub mod rerun;
pub mod train;

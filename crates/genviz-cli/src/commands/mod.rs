//! One module per subcommand.

pub mod bench;
pub mod eval;
pub mod landscape;
pub mod paper;
pub mod train;

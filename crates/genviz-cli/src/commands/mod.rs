//! One module per subcommand.

pub mod animate;
pub mod basin;
pub mod bench;
pub mod connect;
pub mod data;
pub mod eval;
pub mod landscape;
pub mod linear_vs_net;
pub mod minefield;
pub mod optimizers;
pub mod paper;
pub mod sharp;
pub mod train;

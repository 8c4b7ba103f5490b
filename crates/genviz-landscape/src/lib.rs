//! Loss landscapes: directions in parameter space and the loss along them.
//!
//! A trained network is a point `theta` in parameter space. This crate builds directions
//! (random and filter-normalised as in Li et al. 2018, differences of checkpoints, principal
//! components of a training trajectory, Garipov's plane through three models), lays grids of
//! coordinates along them, and evaluates loss and accuracy at every grid point through
//! [`genviz_core::Network::evaluate`], many parameter vectors at a time. Grids fill a file as
//! they go, so an interrupted run resumes, and `--shard k/n` slices merge bit-identically.
//! [`measures`] computes the generalization measures of Jiang et al. and Andriushchenko et al.
//! (sharpness, PAC-Bayes flatness, norms) beside the paper's basin radius and volume;
//! [`convexity`] summarises how far from convex a surface is (ratio maps, local minima).
//! It never draws: `genviz-render` does.

pub mod basin;
pub mod convexity;
pub mod direction;
pub mod grid;
pub mod hessian;
pub mod measures;
pub mod pca;
pub mod surface;
pub mod tsne;
pub mod vtp;

pub use direction::{cosine, BiasPolicy, Normalization};
pub use grid::{Axis, Shard, Spacing};
pub use surface::{Plane, Surface};

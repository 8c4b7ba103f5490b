//! The shared vocabulary of genviz.
//!
//! Every analysis in genviz looks at a trained network as a *point in parameter space*:
//! directions, grids, rays, interpolations and curves are arithmetic on flat parameter vectors
//! plus "evaluate the loss there". This crate owns that vocabulary: [`Layout`] (the named tensors
//! of a network, with PyTorch names and shapes), [`Params`] (one flat `f32` vector with its
//! layout), the [`Network`] trait that model families implement, [`Dataset`], seeded random
//! streams, errors that carry context, and the file formats genviz reads and writes
//! (safetensors, `.npy`/`.npz`, JSON), always written atomically.

pub mod dataset;
pub mod error;
pub mod fingerprint;
pub mod io;
pub mod layout;
pub mod limits;
pub mod network;
pub mod params;
pub mod rng;
pub mod threads;
pub mod wrapper;

pub use dataset::Dataset;
pub use error::{Error, Result};
pub use fingerprint::Fingerprint;
pub use layout::{Layout, Role, TensorSpec};
pub use network::{Affine, Batch, Eval, Network};
pub use params::Params;
pub use wrapper::{Call, Wrapper};

/// The version of genviz, recorded in every run folder.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

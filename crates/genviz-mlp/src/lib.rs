//! genviz's native MLP engine.
//!
//! The paper's key experiments are small fully connected networks evaluated thousands of
//! times: a training run is hundreds of thousands of full-batch steps, and a loss landscape is
//! thousands of evaluations of the whole training set. General frameworks spend most of that
//! time on dispatch; this crate spends it in two hand-blocked kernels (a dense layer forward
//! and a weight gradient) over feature-major tiles, parallel over tiles and over parameter
//! vectors with rayon, with losses accumulated in `f64`. Results are bit-identical for any
//! number of threads.
//!
//! Parameters use PyTorch's names and layouts (`layers.0.weight` is `[out, in]`), so weights
//! move between genviz and PyTorch unchanged; [`import`] reads a user's MLP from safetensors.

pub mod engine;
pub mod hvp;
pub mod import;
pub mod init;
pub mod kernels;
pub mod spec;

pub use engine::Mlp;
pub use import::{load_mlp, mlp_from_tensors, SPEC_METADATA_KEY};
pub use init::init_params;
pub use spec::{Activation, Head, Init, MlpSpec, SWISS_ROLL_WIDTHS};

#[cfg(test)]
mod tests;

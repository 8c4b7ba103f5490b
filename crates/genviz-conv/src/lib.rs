//! Convolutional networks and ResNets for genviz, computed by burn, and the small CNN by
//! genviz's own kernels on the CPU ([`CpuCnn`]).
//!
//! Every analysis in genviz treats a network as a point in parameter space, so this crate
//! exposes burn-computed nets through [`genviz_core::Network`] on genviz's flat [`Params`]
//! vector: surfaces, interpolations, basin radii, Hessians by differences of gradients, PCA and
//! t-SNE work on them unchanged. Parameters keep PyTorch's names and layouts (a convolution
//! kernel `conv1.weight` is `[out, in, kh, kw]`, a dense `fc1.weight` `[out, in]`, BatchNorm has
//! `weight`, `bias`, `running_mean`, `running_var`), so weights move between genviz and
//! PyTorch's `state_dict` unchanged (PyTorch's extra `num_batches_tracked` counters are
//! ignored on reading).
//!
//! The models are written as explicit forward functions over burn's tensor operations rather
//! than burn `Module`s: the flat vector stays the only copy of the parameters, there is no
//! `[in, out]` storage to transpose, and one function both records the layout and computes
//! (see [`arch`]). Gradients come from burn's autodiff; burn has no second-order autodiff, so
//! Hessian-vector products are central differences of two gradients (the trait's default).
//!
//! The backend is a type parameter: `Autodiff<Flex>` on the CPU, `Autodiff<Cuda>` with the
//! `cuda` feature (which builds without CUDA installed and runs where the driver is present).
//! On the CPU the small CNN runs instead on [`CpuCnn`], its convolutions lowered by im2col
//! onto the dense kernels of `genviz-mlp`: about four times burn's speed, with the same
//! parameters and, to rounding, the same numbers. [`DeviceNet`] picks the engine.
//!
//! [`Params`]: genviz_core::Params

pub mod arch;
mod cpu_cnn;
mod device;
mod net;

pub use arch::{Arch, BnMode, BN_EPS};
pub use cpu_cnn::CpuCnn;
#[cfg(feature = "cuda")]
pub use device::CudaBackend;
pub use device::{CpuBackend, Device, DeviceNet};
pub use net::{
    conv_from_tensors, init_params, softmax_batch_loss, softmax_score, BnSums, ConvNet, ConvSpec,
    CONV_SPEC_METADATA_KEY, EVAL_BATCH,
};

#[cfg(test)]
mod tests;

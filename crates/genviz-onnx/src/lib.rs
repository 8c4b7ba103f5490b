#![warn(missing_docs)]
//! Any ONNX model as a genviz [`Network`](genviz_core::Network).
//!
//! A researcher's own network (a torchvision ResNet, a MobileNet, a small transformer)
//! reaches genviz the way it reaches any other tool: exported from PyTorch, JAX or Keras as
//! ONNX. This crate reads the file, checks it once (structure, constants, operators, every
//! node's shapes on a blank batch) and interprets the graph with burn's tensor operations, so
//! the same model runs on the CPU (burn's `flex`) and, with the `cuda` feature, on a GPU, and
//! burn's autodiff gives exact gradients. The parameters genviz moves through are the
//! graph's float initializers, under their ONNX names (PyTorch's exporters keep
//! `layer1.0.conv1.weight`), BatchNorm running statistics excepted; a pattern can narrow them.
//!
//! - [`OnnxModel`]: the loaded, checked graph with its layout and warnings;
//! - [`OnnxNet`]: the model on a burn device, a [`Network`](genviz_core::Network); on the
//!   CPU a graph of dense layers only, or the small CNN genviz trains (`--model cnn`), runs
//!   on genviz's own engine instead (same function, same parameter names, the native speed:
//!   [`OnnxNet::new`]);
//! - [`export_mlp`], [`export_conv`]: genviz's own networks written as ONNX;
//! - [`builder`]: writing ONNX graphs by hand.
//!
//! The file is parsed with hand-declared protobuf messages (prost) rather than `onnx-ir`:
//! `onnx-ir` 0.21 renames every initializer to `constantN` (the names are what genviz's
//! parameters are), folds weight rearrangements into new constants, and panics on malformed
//! files, where genviz must return an error naming the tensor.

pub mod builder;
mod cnn;
mod dense;
pub mod export;
mod graph;
pub mod host;
mod model;
mod native;
mod net;
mod ops;
pub mod proto;
mod shape_arith;

pub use export::{export_conv, export_mlp, write_onnx, EXPORT_OPSET};
pub use graph::OPSETS;
pub use model::{
    BnMode, Head, OnnxModel, OnnxOptions, EVAL_BATCH, HEAD_METADATA_KEY, MAX_ELEMENTS,
};
#[cfg(feature = "cuda")]
pub use net::CudaBackend;
pub use net::{CpuBackend, OnnxNet};
pub use ops::SUPPORTED_OPS;

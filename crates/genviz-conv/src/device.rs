//! Where a conv net computes, chosen at run time: the CPU (genviz's own kernels for the small
//! CNN, burn's flex backend for the rest) or, in a build with the `cuda` feature, GPU 0.
//!
//! Everything above this crate sees a [`DeviceNet`], a [`Network`] like any other, so the
//! experiments and the command line never name a burn type.

use crate::{Arch, ConvNet, ConvSpec, CpuCnn};
use genviz_core::{Dataset, Error, Network, Result};
use serde::{Deserialize, Serialize};

/// The CPU backend: burn's pure-Rust `flex`, with the autodiff tape.
pub type CpuBackend = burn::backend::Autodiff<burn::backend::Flex>;

/// The CUDA backend (a build with the `cuda` feature).
#[cfg(feature = "cuda")]
pub type CudaBackend = burn::backend::Autodiff<burn::backend::Cuda>;

/// Where a conv net computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Device {
    /// The CPU threads: genviz's kernels for the small CNN, burn's flex backend otherwise.
    #[default]
    Cpu,
    /// burn's CUDA backend on GPU 0 (a build with `--features cuda`).
    Cuda,
}

impl Device {
    /// Whether this build can compute on the device.
    pub fn is_available(self) -> bool {
        match self {
            Device::Cpu => true,
            Device::Cuda => cfg!(feature = "cuda"),
        }
    }

    /// The device's name, as the command line and configurations spell it.
    pub fn name(self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
            Device::Cuda => "cuda",
        }
    }
}

impl std::str::FromStr for Device {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "cpu" => Ok(Device::Cpu),
            "cuda" | "gpu" => Ok(Device::Cuda),
            other => Err(Error::invalid(format!(
                "device `{other}`: expected cpu or cuda"
            ))),
        }
    }
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A conv net on the device chosen when it was made.
#[derive(Clone, Debug)]
pub enum DeviceNet {
    /// The small CNN on the CPU, by genviz's own kernels (about four times burn's speed).
    CpuCnn(CpuCnn),
    /// Any other net on the CPU, by burn.
    Cpu(ConvNet<CpuBackend>),
    /// On GPU 0.
    #[cfg(feature = "cuda")]
    Cuda(ConvNet<CudaBackend>),
}

impl DeviceNet {
    /// The network of `spec` on `device`. On the CPU the small CNN ([`Arch::Cnn`]) computes
    /// with genviz's own kernels ([`CpuCnn`]), every other architecture with burn.
    ///
    /// # Errors
    /// When the spec is invalid, or `device` is CUDA in a build without the `cuda` feature.
    pub fn new(spec: ConvSpec, device: Device) -> Result<Self> {
        match device {
            Device::Cpu if matches!(spec.arch, Arch::Cnn { .. }) => {
                Ok(DeviceNet::CpuCnn(CpuCnn::new(spec)?))
            }
            Device::Cpu => Ok(DeviceNet::Cpu(ConvNet::new(spec, Default::default())?)),
            #[cfg(feature = "cuda")]
            Device::Cuda => Ok(DeviceNet::Cuda(ConvNet::new(spec, Default::default())?)),
            #[cfg(not(feature = "cuda"))]
            Device::Cuda => Err(Error::invalid(
                "--device cuda needs a genviz built with `--features cuda`",
            )),
        }
    }

    /// The spec.
    pub fn spec(&self) -> &ConvSpec {
        match self {
            DeviceNet::CpuCnn(n) => n.spec(),
            DeviceNet::Cpu(n) => n.spec(),
            #[cfg(feature = "cuda")]
            DeviceNet::Cuda(n) => n.spec(),
        }
    }

    /// Where it computes.
    pub fn device(&self) -> Device {
        match self {
            DeviceNet::CpuCnn(_) | DeviceNet::Cpu(_) => Device::Cpu,
            #[cfg(feature = "cuda")]
            DeviceNet::Cuda(_) => Device::Cuda,
        }
    }

    /// The running statistics recomputed from `data` ([`ConvNet::recompute_bn`]).
    pub fn recompute_bn(&self, theta: &[f32], data: &Dataset, batch: usize) -> Vec<f32> {
        match self {
            // No BatchNorm: nothing to recompute.
            DeviceNet::CpuCnn(_) => theta.to_vec(),
            DeviceNet::Cpu(n) => n.recompute_bn(theta, data, batch),
            #[cfg(feature = "cuda")]
            DeviceNet::Cuda(n) => n.recompute_bn(theta, data, batch),
        }
    }
}

/// A `DeviceNet` is the [`Network`] of its device: every analysis takes it as one.
impl std::ops::Deref for DeviceNet {
    type Target = dyn Network;

    fn deref(&self) -> &Self::Target {
        match self {
            DeviceNet::CpuCnn(n) => n,
            DeviceNet::Cpu(n) => n,
            #[cfg(feature = "cuda")]
            DeviceNet::Cuda(n) => n,
        }
    }
}

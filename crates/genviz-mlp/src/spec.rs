//! What an MLP is: widths, activation and output head, serialisable into configs and metadata.

use genviz_core::{Error, Layout, Result, Role};
use serde::{Deserialize, Serialize};

/// The non-linearity between layers.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `max(0, x)`, the paper's choice.
    #[default]
    Relu,
    /// `tanh(x)`.
    Tanh,
    /// `x` for positive inputs, `slope * x` otherwise (gen-viz's SVHN ResNet uses 0.1).
    LeakyRelu {
        /// Slope on the negative side.
        slope: f32,
    },
}

/// How the last layer turns into class probabilities, and the loss on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Head {
    /// One logit for two classes, sigmoid cross-entropy (the paper's swiss roll net).
    #[default]
    Sigmoid,
    /// One logit per class, softmax cross-entropy.
    Softmax,
}

/// How fresh weights are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// Glorot-uniform kernels, zero biases: TensorFlow's default, used by the paper.
    #[default]
    GlorotUniform,
    /// Keras's `glorot_normal`: kernels from a normal truncated at two standard deviations whose
    /// spread after truncation is `sqrt(2 / (fan_in + fan_out))`, zero biases. The minefield's
    /// networks (`fully_connected` in the authors' `minefield/utils.py`) use it.
    GlorotNormal,
    /// PyTorch's `nn.Linear` default: weights and biases uniform in `±1/sqrt(fan_in)`.
    Pytorch,
}

/// The shape of a multi-layer perceptron.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpSpec {
    /// Number of input features.
    pub input_dim: usize,
    /// Widths of the hidden layers, in order.
    pub hidden: Vec<usize>,
    /// Number of classes.
    pub num_classes: usize,
    /// Non-linearity after each hidden layer.
    #[serde(default)]
    pub activation: Activation,
    /// Output head and loss.
    #[serde(default)]
    pub head: Head,
}

/// The paper's swiss-roll widths (gen-viz `swissroll/README.md`, SPEC 1.2).
pub const SWISS_ROLL_WIDTHS: [usize; 6] = [23, 16, 26, 32, 28, 31];

impl MlpSpec {
    /// A ReLU network `input_dim` -> `hidden` -> `num_classes` with a softmax head: the usual
    /// classifier, and what most tests and benchmarks build.
    pub fn relu_softmax(input_dim: usize, hidden: Vec<usize>, num_classes: usize) -> Self {
        MlpSpec {
            input_dim,
            hidden,
            num_classes,
            activation: Activation::Relu,
            head: Head::Softmax,
        }
    }

    /// The paper's swiss-roll network: 2 -> [23, 16, 26, 32, 28, 31] ReLU -> 1 logit (3,614 parameters).
    pub fn swiss_roll() -> Self {
        MlpSpec {
            input_dim: 2,
            hidden: SWISS_ROLL_WIDTHS.to_vec(),
            num_classes: 2,
            activation: Activation::Relu,
            head: Head::Sigmoid,
        }
    }

    /// Checks the spec makes sense.
    pub fn validate(&self) -> Result<()> {
        if self.input_dim == 0 {
            return Err(Error::invalid("model: input_dim must be at least 1"));
        }
        if let Some(i) = self.hidden.iter().position(|&w| w == 0) {
            return Err(Error::invalid(format!(
                "model: hidden layer {i} has width 0"
            )));
        }
        if self.num_classes < 2 {
            return Err(Error::invalid(format!(
                "model: num_classes is {}, a classifier needs at least 2",
                self.num_classes
            )));
        }
        if self.head == Head::Sigmoid && self.num_classes != 2 {
            return Err(Error::invalid(format!(
                "model: the sigmoid head has one logit and classifies 2 classes, not {}; use head = \"softmax\"",
                self.num_classes
            )));
        }
        if let Activation::LeakyRelu { slope } = self.activation {
            if !(slope.is_finite() && slope >= 0.0) {
                return Err(Error::invalid(format!(
                    "model: leaky-ReLU slope {slope} must be finite and >= 0"
                )));
            }
        }
        Ok(())
    }

    /// Number of logits.
    pub fn output_dim(&self) -> usize {
        match self.head {
            Head::Sigmoid => 1,
            Head::Softmax => self.num_classes,
        }
    }

    /// Widths of every layer, input first, logits last.
    pub fn widths(&self) -> Vec<usize> {
        let mut w = vec![self.input_dim];
        w.extend(&self.hidden);
        w.push(self.output_dim());
        w
    }

    /// The parameter layout, named like a PyTorch MLP that keeps its `nn.Linear` layers in an
    /// `nn.ModuleList` called `layers`: `layers.0.weight` `[out, in]`, `layers.0.bias`, ...
    pub fn layout(&self) -> Layout {
        let widths = self.widths();
        let tensors = widths.windows(2).enumerate().flat_map(|(k, w)| {
            [
                (format!("layers.{k}.weight"), vec![w[1], w[0]], Role::Weight),
                (format!("layers.{k}.bias"), vec![w[1]], Role::Bias),
            ]
        });
        Layout::new(tensors).expect("generated names are unique")
    }
}

//! A point in parameter space: one flat vector with its layout.

use crate::{Error, Layout, Result, TensorSpec};
use std::sync::Arc;

/// The parameters of a network (or a direction in parameter space) as one flat `f32` vector,
/// together with the [`Layout`] that names its pieces.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    layout: Arc<Layout>,
    values: Vec<f32>,
}

impl Params {
    /// All zeros.
    pub fn zeros(layout: Arc<Layout>) -> Self {
        let values = vec![0.0; layout.len()];
        Params { layout, values }
    }

    /// Wraps `values`, which must have exactly the layout's length.
    pub fn from_vec(layout: Arc<Layout>, values: Vec<f32>) -> Result<Self> {
        if values.len() != layout.len() {
            return Err(Error::invalid(format!(
                "{} values given, the layout has {} parameters",
                values.len(),
                layout.len()
            )));
        }
        Ok(Params { layout, values })
    }

    /// The layout.
    pub fn layout(&self) -> &Arc<Layout> {
        &self.layout
    }

    /// The flat values.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// The flat values, mutable.
    pub fn values_mut(&mut self) -> &mut [f32] {
        &mut self.values
    }

    /// Gives up the flat values.
    pub fn into_values(self) -> Vec<f32> {
        self.values
    }

    /// The values of one tensor.
    pub fn tensor(&self, spec: &TensorSpec) -> &[f32] {
        &self.values[spec.range()]
    }

    /// The values of the tensor called `name`.
    pub fn tensor_by_name(&self, name: &str) -> Option<&[f32]> {
        self.layout.get(name).map(|t| &self.values[t.range()])
    }

    /// Euclidean norm, accumulated in `f64`.
    pub fn norm(&self) -> f64 {
        dot(&self.values, &self.values).sqrt()
    }
}

/// Dot product of two equally long vectors, accumulated in `f64`.
pub fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum()
}

//! Directions in parameter space, and Li et al.'s normalisations (SPEC 2.1).

use genviz_core::{rng::Rng, Error, Layout, Params, Result};
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

/// Li et al.'s epsilon in `d_f * |theta_f| / (|d_f| + eps)` (`net_plotter.py`).
pub const NORM_EPSILON: f64 = 1e-10;

/// How a raw direction is scaled to the network's weights (`--xnorm` in Li et al.).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Normalization {
    /// Each filter (a slice of a tensor's first axis) gets the norm of the weights' filter:
    /// the default, which makes landscapes of different networks comparable.
    #[default]
    Filter,
    /// Each tensor gets the norm of the weights' tensor.
    Layer,
    /// Multiplied elementwise by the weights.
    Weight,
    /// Each filter scaled to unit norm.
    Dfilter,
    /// Each tensor scaled to unit norm.
    Dlayer,
    /// Left as drawn.
    None,
}

impl std::str::FromStr for Normalization {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "filter" => Normalization::Filter,
            "layer" => Normalization::Layer,
            "weight" => Normalization::Weight,
            "dfilter" => Normalization::Dfilter,
            "dlayer" => Normalization::Dlayer,
            "none" | "" => Normalization::None,
            other => {
                return Err(Error::invalid(format!(
                "normalisation `{other}`: expected filter, layer, weight, dfilter, dlayer or none"
            )))
            }
        })
    }
}

/// What a direction holds on one-dimensional tensors (biases, normalisation parameters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BiasPolicy {
    /// Zero (Li's `--xignore biasbn`, gen-viz's behaviour): biases stay at the minimum.
    #[default]
    Ignore,
    /// A copy of the weights (what Li's code does without `--xignore`; easy to miss).
    CopyTheta,
}

/// A Gaussian direction with `theta`'s layout, normalised by `norm`.
pub fn random_direction(
    theta: &Params,
    norm: Normalization,
    bias: BiasPolicy,
    rng: &mut Rng,
) -> Params {
    let mut d = Params::zeros(theta.layout().clone());
    for v in d.values_mut() {
        *v = StandardNormal.sample(rng);
    }
    normalize(&mut d, theta, norm, bias);
    d
}

fn norm(v: &[f32]) -> f64 {
    v.iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum::<f64>()
        .sqrt()
}

fn scale(v: &mut [f32], s: f64) {
    v.iter_mut().for_each(|x| *x = (f64::from(*x) * s) as f32);
}

/// Normalises `d` against `theta` in place (SPEC 2.1). Tensors of one dimension or less follow
/// `bias`; every other tensor follows `norm`, a filter being one slice of its first axis
/// (PyTorch layout: an output unit or channel).
pub fn normalize(d: &mut Params, theta: &Params, norm_kind: Normalization, bias: BiasPolicy) {
    let layout = theta.layout().clone();
    for t in layout.tensors() {
        let w = &theta.values()[t.range()];
        if !t.is_filtered_weight() {
            let dv = &mut d.values_mut()[t.range()];
            match bias {
                BiasPolicy::Ignore => dv.fill(0.0),
                BiasPolicy::CopyTheta => dv.copy_from_slice(w),
            }
            continue;
        }
        match norm_kind {
            Normalization::Filter | Normalization::Dfilter => {
                for k in 0..t.num_filters() {
                    let r = t.filter_range(k);
                    let target = if norm_kind == Normalization::Filter {
                        norm(&theta.values()[r.clone()])
                    } else {
                        1.0
                    };
                    let dv = &mut d.values_mut()[r];
                    let s = target / (norm(dv) + NORM_EPSILON);
                    scale(dv, s);
                }
            }
            Normalization::Layer | Normalization::Dlayer => {
                let target = if norm_kind == Normalization::Layer {
                    norm(w)
                } else {
                    1.0
                };
                let dv = &mut d.values_mut()[t.range()];
                let s = target / (norm(dv) + NORM_EPSILON);
                scale(dv, s);
            }
            Normalization::Weight => {
                let dv = &mut d.values_mut()[t.range()];
                dv.iter_mut().zip(w).for_each(|(x, &wv)| *x *= wv);
            }
            Normalization::None => {}
        }
    }
}

/// `a - b`, for directions between two models (interpolation, planes, checkpoints).
pub fn difference(a: &Params, b: &Params) -> Result<Params> {
    same_layout(a, b)?;
    let values = a
        .values()
        .iter()
        .zip(b.values())
        .map(|(x, y)| x - y)
        .collect();
    Params::from_vec(a.layout().clone(), values)
}

/// Cosine similarity of two directions (Li et al. print it for x and y).
pub fn cosine(a: &Params, b: &Params) -> f64 {
    let dot = genviz_core::params::dot(a.values(), b.values());
    dot / (a.norm() * b.norm()).max(f64::MIN_POSITIVE)
}

/// Removes from `y` its component along `x` (Gram-Schmidt), keeping `y`'s norm.
pub fn orthogonalize(y: &mut Params, x: &Params) {
    let xx = genviz_core::params::dot(x.values(), x.values());
    if xx == 0.0 {
        return;
    }
    let before = y.norm();
    let c = genviz_core::params::dot(y.values(), x.values()) / xx;
    for (yv, &xv) in y.values_mut().iter_mut().zip(x.values()) {
        *yv = (f64::from(*yv) - c * f64::from(xv)) as f32;
    }
    let after = y.norm();
    if after > 0.0 {
        scale(y.values_mut(), before / after);
    }
}

/// Checks that two parameter vectors name the same tensors with the same shapes.
pub fn same_layout(a: &Params, b: &Params) -> Result<()> {
    for (ta, tb) in a.layout().tensors().iter().zip(b.layout().tensors()) {
        if ta.name != tb.name || ta.shape != tb.shape {
            return Err(Error::invalid(format!(
                "tensor `{}` {:?} does not match tensor `{}` {:?}",
                ta.name, ta.shape, tb.name, tb.shape
            )));
        }
    }
    if a.layout().tensors().len() != b.layout().tensors().len() {
        return Err(Error::invalid(format!(
            "the models have {} and {} tensors",
            a.layout().tensors().len(),
            b.layout().tensors().len()
        )));
    }
    Ok(())
}

/// Writes the directions of `plane` as `x.<tensor>` and `y.<tensor>` in the model's PyTorch
/// shapes (`directions.safetensors`), so that PyTorch users can load them beside the weights
/// and a later run can reuse them ([`read_directions`]).
pub fn write_directions(path: &Path, plane: &crate::Plane) -> Result<()> {
    let layout = plane.center.layout();
    let dirs: Vec<(&str, &Params)> = [("x", Some(&plane.x)), ("y", plane.y.as_ref())]
        .into_iter()
        .filter_map(|(k, p)| p.map(|p| (k, p)))
        .collect();
    let named = Layout::new(dirs.iter().flat_map(|(k, _)| {
        layout
            .tensors()
            .iter()
            .map(move |t| (format!("{k}.{}", t.name), t.shape.clone(), t.role))
    }))?;
    let values: Vec<f32> = dirs
        .iter()
        .flat_map(|(_, p)| p.values().iter().copied())
        .collect();
    let params = Params::from_vec(Arc::new(named), values)?;
    genviz_core::io::write_safetensors(path, &params, Default::default())
}

/// Reads `x.<tensor>` (and `y.<tensor>` if present) for every tensor of `like` from a
/// safetensors file or an `.npz` of arrays with those names.
///
/// # Errors
/// When the file cannot be read, has no `x.` tensors, or lacks or misshapes a tensor of the
/// model; the error names the file and the tensor.
pub fn read_directions(path: &Path, like: &Params) -> Result<(Params, Option<Params>)> {
    let file = if path.extension().is_some_and(|e| e == "npz") {
        let mut npz = genviz_core::io::Npz::open(path)?;
        let mut tensors = Vec::new();
        for name in npz.names()? {
            let (values, shape) = npz.f32(&name)?;
            tensors.push(genviz_core::io::NamedTensor {
                name,
                shape,
                values,
            });
        }
        genviz_core::io::TensorFile {
            tensors,
            metadata: Default::default(),
        }
    } else {
        genviz_core::io::read_safetensors(path)?
    };
    let pick = |prefix: &str| -> Result<Option<Params>> {
        let dotted = format!("{prefix}.");
        if !file.tensors.iter().any(|t| t.name.starts_with(&dotted)) {
            return Ok(None);
        }
        let mut p = Params::zeros(like.layout().clone());
        for t in like.layout().tensors() {
            let name = format!("{prefix}.{}", t.name);
            let Some(found) = file.get(&name) else {
                return Err(Error::bad_file(
                    path,
                    format!("no tensor `{name}` for the model's `{}`", t.name),
                ));
            };
            if found.shape != t.shape {
                return Err(Error::bad_file(
                    path,
                    format!(
                        "tensor `{name}` has shape {:?}, the model expects {:?}",
                        found.shape, t.shape
                    ),
                ));
            }
            p.values_mut()[t.range()].copy_from_slice(&found.values);
        }
        Ok(Some(p))
    };
    let x = pick("x")?.ok_or_else(|| Error::bad_file(path, "no x.<tensor> directions"))?;
    Ok((x, pick("y")?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use genviz_core::{rng, Layout, Role};
    use proptest::prelude::*;
    use std::sync::Arc;

    fn theta(values: Vec<f32>) -> Params {
        let layout = Layout::new([
            ("layers.0.weight".to_string(), vec![3, 4], Role::Weight),
            ("layers.0.bias".to_string(), vec![3], Role::Bias),
            ("layers.1.weight".to_string(), vec![2, 3], Role::Weight),
            ("layers.1.bias".to_string(), vec![2], Role::Bias),
        ])
        .unwrap();
        Params::from_vec(Arc::new(layout), values).unwrap()
    }

    proptest! {
        #[test]
        fn filter_normalised_filters_have_the_weights_norms(
            values in proptest::collection::vec(-3.0f32..3.0, 23),
            seed in 0u64..1000,
        ) {
            let t = theta(values);
            let d = random_direction(&t, Normalization::Filter, BiasPolicy::Ignore, &mut rng::stream(seed, "dir"));
            for spec in t.layout().tensors() {
                if spec.shape.len() == 1 {
                    prop_assert!(d.tensor(spec).iter().all(|&v| v == 0.0));
                    continue;
                }
                for k in 0..spec.num_filters() {
                    let r = spec.filter_range(k);
                    let (dn, tn) = (norm(&d.values()[r.clone()]), norm(&t.values()[r]));
                    prop_assert!((dn - tn).abs() <= 1e-5 * tn.max(1e-3), "filter {k} of {}: {dn} vs {tn}", spec.name);
                }
            }
        }
    }

    #[test]
    fn other_normalisations() {
        let t = theta((0..23).map(|i| i as f32 - 11.0).collect());
        let mut r = rng::stream(1, "dir");
        let d = random_direction(&t, Normalization::Layer, BiasPolicy::CopyTheta, &mut r);
        let w = t.layout().get("layers.0.weight").unwrap();
        assert!((norm(d.tensor(w)) - norm(t.tensor(w))).abs() < 1e-4);
        assert_eq!(
            d.tensor_by_name("layers.0.bias").unwrap(),
            t.tensor_by_name("layers.0.bias").unwrap()
        );
        let d = random_direction(&t, Normalization::Dfilter, BiasPolicy::Ignore, &mut r);
        assert!((norm(&d.values()[w.filter_range(2)]) - 1.0).abs() < 1e-5);
        let d = random_direction(&t, Normalization::Dlayer, BiasPolicy::Ignore, &mut r);
        assert!((norm(d.tensor(w)) - 1.0).abs() < 1e-5);
        assert!("bogus".parse::<Normalization>().is_err());
    }

    #[test]
    fn orthogonalised_directions_are_orthogonal() {
        let t = theta(vec![1.0; 23]);
        let x = random_direction(
            &t,
            Normalization::Filter,
            BiasPolicy::Ignore,
            &mut rng::stream(2, "x"),
        );
        let mut y = random_direction(
            &t,
            Normalization::Filter,
            BiasPolicy::Ignore,
            &mut rng::stream(2, "y"),
        );
        let n = y.norm();
        orthogonalize(&mut y, &x);
        assert!(cosine(&x, &y).abs() < 1e-6);
        assert!((y.norm() - n).abs() < 1e-5 * n);
    }
}

//! The integer side computations exporters write to build a target shape from the batch size
//! (PyTorch's dynamo exporter flattens with `Shape -> Squeeze -> Reshape -> Concat -> Reshape`):
//! evaluated symbolically, with the batch size as the one unknown, so that a recogniser can
//! tell `[batch, features]` from anything else.

use crate::graph::Node;
use crate::host::Host;

/// One integer of a shape computation: the batch size, or a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dim {
    Batch,
    Fixed(i64),
}

/// An integer tensor of rank 0 (`scalar`) or 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ints {
    pub(crate) dims: Vec<Dim>,
    pub(crate) scalar: bool,
}

impl Ints {
    fn fixed(values: &[i64], scalar: bool) -> Ints {
        Ints {
            dims: values.iter().map(|&v| Dim::Fixed(v)).collect(),
            scalar,
        }
    }

    /// A host tensor of rank 0 or 1 holding integers.
    pub(crate) fn of_host(host: &Host) -> Option<Ints> {
        let values = host.ints()?;
        match host.shape().len() {
            0 => Some(Ints::fixed(&values, true)),
            1 => Some(Ints::fixed(&values, false)),
            _ => None,
        }
    }

    /// The numbers, if none is the batch size.
    fn numbers(&self) -> Option<Vec<i64>> {
        self.dims
            .iter()
            .map(|d| match d {
                Dim::Fixed(v) => Some(*v),
                Dim::Batch => None,
            })
            .collect()
    }
}

/// The operators of shape computations.
pub(crate) const SHAPE_OPS: &[&str] = &[
    "Shape",
    "Constant",
    "Squeeze",
    "Unsqueeze",
    "Reshape",
    "Concat",
    "Gather",
    "Cast",
];

/// The value `node` computes from `input(k)` (the symbolic value of its `k`-th input, if
/// known) and `shape_of` (the shape of a tensor, for `Shape`); `None` when it is not a shape
/// computation genviz follows.
pub(crate) fn eval(
    node: &Node,
    input: impl Fn(usize) -> Option<Ints>,
    shape_of: impl Fn(usize) -> Option<Vec<Dim>>,
) -> Option<Ints> {
    let id = |k: usize| node.inputs.get(k).copied().flatten();
    // An axes list from the attribute (before opset 13) or the second input.
    let axes = || -> Option<Option<Vec<i64>>> {
        match node.ints("axes").ok()? {
            Some(a) => Some(Some(a)),
            None => match id(1) {
                Some(_) => Some(Some(input(1)?.numbers()?)),
                None => Some(None),
            },
        }
    };
    match node.op.as_str() {
        "Shape" => {
            let shape = shape_of(id(0)?)?;
            let rank = shape.len() as i64;
            let at = |v: i64| (if v < 0 { v + rank } else { v }).clamp(0, rank) as usize;
            let start = at(node.int("start", 0).ok()?);
            let end = at(node.int("end", rank).ok()?);
            Some(Ints {
                dims: shape.get(start..end.max(start))?.to_vec(),
                scalar: false,
            })
        }
        "Constant" => {
            if let Some(t) = node.tensor("value").ok()? {
                Ints::of_host(t)
            } else if node.has("value_int") {
                Some(Ints::fixed(&[node.int("value_int", 0).ok()?], true))
            } else {
                Some(Ints::fixed(&node.ints("value_ints").ok()??, false))
            }
        }
        "Squeeze" => {
            let x = input(0)?;
            let ok =
                !x.scalar && x.dims.len() == 1 && matches!(axes()?.as_deref(), None | Some([0]));
            ok.then_some(Ints { scalar: true, ..x })
        }
        "Unsqueeze" => {
            let x = input(0)?;
            (x.scalar && axes()?.as_deref() == Some(&[0])).then_some(Ints { scalar: false, ..x })
        }
        "Reshape" => {
            // An integer tensor of one value to rank 0 or 1, or a vector kept a vector.
            let x = input(0)?;
            let target = input(1)?.numbers()?;
            match target[..] {
                [] if x.dims.len() == 1 => Some(Ints { scalar: true, ..x }),
                [n] if n == -1 || n == x.dims.len() as i64 => Some(Ints { scalar: false, ..x }),
                _ => None,
            }
        }
        "Concat" => {
            if node.int("axis", 0).ok()? != 0 {
                return None;
            }
            let mut dims = Vec::new();
            for k in 0..node.inputs.len() {
                let x = input(k)?;
                if x.scalar {
                    return None;
                }
                dims.extend(x.dims);
            }
            Some(Ints {
                dims,
                scalar: false,
            })
        }
        "Gather" => {
            let (x, indices) = (input(0)?, input(1)?);
            if node.int("axis", 0).ok()? != 0 || x.scalar {
                return None;
            }
            let len = x.dims.len() as i64;
            let dims = indices
                .numbers()?
                .into_iter()
                .map(|i| {
                    let i = if i < 0 { i + len } else { i };
                    x.dims.get(usize::try_from(i).ok()?).copied()
                })
                .collect::<Option<Vec<_>>>()?;
            Some(Ints {
                dims,
                scalar: indices.scalar,
            })
        }
        // To INT64 (7): the values as they are.
        "Cast" => (node.int("to", 0).ok()? == 7).then(|| input(0)).flatten(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Attr;
    use std::collections::HashMap;

    /// A node `op` reading values `0..inputs` into value 100.
    fn node(op: &str, inputs: usize, attrs: &[(&str, Attr)]) -> Node {
        Node {
            name: String::new(),
            index: 0,
            op: op.into(),
            inputs: (0..inputs).map(Some).collect(),
            outputs: vec![Some(100)],
            attrs: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<HashMap<_, _>>(),
        }
    }

    fn vector(dims: &[Dim]) -> Ints {
        Ints {
            dims: dims.to_vec(),
            scalar: false,
        }
    }

    /// `node` evaluated on `values` (its inputs in order), with value 0 of shape
    /// `[batch, 3, 4]`.
    fn run(node: &Node, values: &[Ints]) -> Option<Ints> {
        eval(
            node,
            |k| values.get(k).cloned(),
            |id| (id == 0).then(|| vec![Dim::Batch, Dim::Fixed(3), Dim::Fixed(4)]),
        )
    }

    #[test]
    fn the_dynamo_exporters_flatten_target_is_batch_by_features() {
        use Dim::{Batch, Fixed};
        let first = node(
            "Shape",
            1,
            &[("start", Attr::Int(0)), ("end", Attr::Int(1))],
        );
        let shape = run(&first, &[]).unwrap();
        assert_eq!(shape, vector(&[Batch]));
        let scalar = run(&node("Squeeze", 1, &[]), &[shape]).unwrap();
        assert!(scalar.scalar);
        let minus_one = Ints::fixed(&[-1], false);
        let back = run(&node("Reshape", 2, &[]), &[scalar.clone(), minus_one]).unwrap();
        assert_eq!(back, vector(&[Batch]));
        let features = run(
            &node("Constant", 0, &[("value_ints", Attr::Ints(vec![12]))]),
            &[],
        );
        let target = run(
            &node("Concat", 2, &[("axis", Attr::Int(0))]),
            &[back, features.unwrap()],
        );
        assert_eq!(target.unwrap(), vector(&[Batch, Fixed(12)]));
        // `x.size(0)` the TorchScript way: a Gather, then an Unsqueeze.
        let all = run(&node("Shape", 1, &[]), &[]).unwrap();
        let index = Ints::fixed(&[0], true);
        let picked = run(&node("Gather", 2, &[]), &[all.clone(), index.clone()]).unwrap();
        assert_eq!(
            (picked.dims.as_slice(), picked.scalar),
            (&[Batch][..], true)
        );
        let axes = ("axes", Attr::Ints(vec![0]));
        let unsqueezed = run(&node("Unsqueeze", 1, &[axes]), &[picked]).unwrap();
        assert_eq!(unsqueezed, vector(&[Batch]));
        let cast = run(
            &node("Cast", 1, &[("to", Attr::Int(7))]),
            std::slice::from_ref(&all),
        );
        assert_eq!(cast.unwrap(), all);
        let last = run(&node("Shape", 1, &[("start", Attr::Int(-1))]), &[]).unwrap();
        assert_eq!(last, vector(&[Fixed(4)]));
    }

    #[test]
    fn computations_it_cannot_follow_are_refused() {
        use Dim::{Batch, Fixed};
        let all = vector(&[Batch, Fixed(3), Fixed(4)]);
        let cases: Vec<(&str, Node, Vec<Ints>)> = vec![
            (
                "a Gather on axis 1",
                node("Gather", 2, &[("axis", Attr::Int(1))]),
                vec![all.clone(), Ints::fixed(&[0], true)],
            ),
            (
                "a Squeeze of three values",
                node("Squeeze", 1, &[]),
                vec![all.clone()],
            ),
            (
                "a Cast to float",
                node("Cast", 1, &[("to", Attr::Int(1))]),
                vec![all.clone()],
            ),
            (
                "a Concat of a scalar",
                node("Concat", 2, &[("axis", Attr::Int(0))]),
                vec![all.clone(), Ints::fixed(&[2], true)],
            ),
            (
                "a Reshape to two axes",
                node("Reshape", 2, &[]),
                vec![all.clone(), Ints::fixed(&[1, 3], false)],
            ),
            (
                "an index past the end",
                node("Gather", 2, &[]),
                vec![all.clone(), Ints::fixed(&[3], true)],
            ),
            (
                "an arithmetic node",
                node("Mul", 2, &[]),
                vec![all.clone(), all.clone()],
            ),
        ];
        for (what, n, values) in cases {
            assert_eq!(run(&n, &values), None, "{what}");
        }
        // The shape of a value whose shape is unknown.
        let unknown = Node {
            inputs: vec![Some(5)],
            ..node("Shape", 1, &[])
        };
        assert_eq!(run(&unknown, &[]), None);
    }
}

//! Operators that move, select or create values without arithmetic: reshapes, slices,
//! gathers, concatenations, constants and padding. Each works on host values (shape
//! arithmetic) and on device tensors (activations).

use super::{axis, input, ints, nonempty, optional, scalar, Ctx, Dev, Value};
use crate::graph::Node;
use crate::host::{broadcast_shapes, dims_of, Elem, Host};
use burn::tensor::backend::Backend;
use burn::tensor::Slice;
use ndarray::Axis;

type Out<B> = Result<Vec<Value<B>>, String>;

fn product(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))
}

/// `v` with the same values in `shape` (same size).
fn reshaped<B: Backend>(v: &Value<B>, shape: &[usize]) -> Value<B> {
    match v {
        Value::Host(h) => Value::host(h.reshaped(shape)),
        Value::Dev(d) => Value::Dev(d.clone().reshape(shape)),
    }
}

/// The output shape of ONNX `Reshape`: `0` copies the input's dimension (unless
/// `allowzero`), one `-1` takes what is left.
pub(crate) fn reshape_target(
    input: &[usize],
    spec: &[i64],
    allowzero: bool,
) -> Result<Vec<usize>, String> {
    let total = product(input).ok_or("the input is too large")?;
    let mut out = Vec::with_capacity(spec.len());
    let mut infer = None;
    for (k, &d) in spec.iter().enumerate() {
        match d {
            -1 => {
                if infer.replace(k).is_some() {
                    return Err(format!("shape {spec:?} has more than one -1"));
                }
                out.push(1);
            }
            0 if !allowzero => out.push(*input.get(k).ok_or_else(|| {
                format!(
                    "shape {spec:?} copies dimension {k} (a 0) of a rank-{} input",
                    input.len()
                )
            })?),
            d if d < 0 => return Err(format!("shape {spec:?} has a negative dimension {d}")),
            d => out.push(d as usize),
        }
    }
    if let Some(k) = infer {
        let known = product(&out).ok_or("the shape is too large")?;
        if known == 0 || total % known != 0 {
            return Err(format!(
                "cannot reshape {input:?} ({total} values) to {spec:?}: the -1 has no whole size"
            ));
        }
        out[k] = total / known;
    }
    if product(&out) != Some(total) {
        return Err(format!(
            "cannot reshape {input:?} ({total} values) to {spec:?} ({out:?})"
        ));
    }
    Ok(out)
}

pub fn reshape<B: Backend>(n: &Node, i: &[Option<Value<B>>], ctx: &mut Ctx<B>) -> Out<B> {
    let data = input(i, 0, "data")?;
    let spec = ints(input(i, 1, "shape")?, "shape")?;
    let allowzero = n.int("allowzero", 0)? != 0;
    let out = reshape_target(data.shape(), &spec, allowzero)?;
    ctx.check_size(&out)?;
    Ok(vec![reshaped(data, &out)])
}

pub fn flatten<B: Backend>(n: &Node, i: &[Option<Value<B>>], _: &mut Ctx<B>) -> Out<B> {
    let data = input(i, 0, "input")?;
    let shape = data.shape();
    let r = shape.len() as i64;
    let a = n.int("axis", 1)?;
    if a < -r || a > r {
        return Err(format!("axis {a} is outside -{r}..={r}"));
    }
    let a = if a < 0 { a + r } else { a } as usize;
    let rows = product(&shape[..a]).ok_or("the input is too large")?;
    let cols = product(&shape[a..]).ok_or("the input is too large")?;
    Ok(vec![reshaped(data, &[rows, cols])])
}

/// Axes from input `k` (or none).
fn axes_input<B: Backend>(i: &[Option<Value<B>>], k: usize) -> Result<Option<Vec<i64>>, String> {
    optional(i, k).map(|v| ints(v, "axes")).transpose()
}

pub fn squeeze<B: Backend>(_: &Node, i: &[Option<Value<B>>], _: &mut Ctx<B>) -> Out<B> {
    let data = input(i, 0, "data")?;
    let shape = data.shape();
    let drop: Vec<usize> = match axes_input(i, 1)? {
        None => (0..shape.len()).filter(|&k| shape[k] == 1).collect(),
        Some(axes) => {
            let mut list = Vec::new();
            for a in axes {
                let k = axis(a, shape.len(), "axis")?;
                if shape[k] != 1 {
                    return Err(format!("axis {a} has size {}, not 1", shape[k]));
                }
                list.push(k);
            }
            list
        }
    };
    let out: Vec<usize> = (0..shape.len())
        .filter(|k| !drop.contains(k))
        .map(|k| shape[k])
        .collect();
    Ok(vec![reshaped(data, &out)])
}

pub fn unsqueeze<B: Backend>(_: &Node, i: &[Option<Value<B>>], _: &mut Ctx<B>) -> Out<B> {
    let data = input(i, 0, "data")?;
    let axes = axes_input(i, 1)?.ok_or("input 1 (axes) is missing")?;
    let rank = data.shape().len() + axes.len();
    let mut new_axes = Vec::new();
    for a in &axes {
        let k = axis(*a, rank, "axis")?;
        if new_axes.contains(&k) {
            return Err(format!("axes {axes:?} repeat an axis"));
        }
        new_axes.push(k);
    }
    let mut rest = data.shape().iter();
    let out: Vec<usize> = (0..rank)
        .map(|k| {
            if new_axes.contains(&k) {
                1
            } else {
                *rest.next().expect("ranks add up")
            }
        })
        .collect();
    Ok(vec![reshaped(data, &out)])
}

pub fn transpose<B: Backend>(n: &Node, i: &[Option<Value<B>>], _: &mut Ctx<B>) -> Out<B> {
    let data = input(i, 0, "data")?;
    let r = data.shape().len();
    let perm: Vec<usize> = match n.ints("perm")? {
        None => (0..r).rev().collect(),
        Some(p) => p
            .iter()
            .map(|&a| axis(a, r, "perm entry"))
            .collect::<Result<_, _>>()?,
    };
    let mut seen = perm.clone();
    seen.sort_unstable();
    if seen != (0..r).collect::<Vec<_>>() {
        return Err(format!("perm {perm:?} is not a permutation of 0..{r}"));
    }
    let out: Vec<usize> = perm.iter().map(|&a| data.shape()[a]).collect();
    Ok(vec![match data {
        Value::Host(h) => Value::host(h.permuted(&perm)),
        Value::Dev(d) if r >= 2 => Value::Dev(Dev::new(B::float_permute(d.t.clone(), &perm), out)),
        Value::Dev(_) => data.clone(),
    }])
}

pub fn concat<B: Backend>(n: &Node, i: &[Option<Value<B>>], ctx: &mut Ctx<B>) -> Out<B> {
    let values: Vec<&Value<B>> = i.iter().flatten().collect();
    let first = values.first().ok_or("no inputs")?;
    let r = first.shape().len();
    if r == 0 {
        return Err("inputs are scalars; Concat needs rank 1 or more".to_string());
    }
    let a = axis(n.int("axis", i64::MIN)?, r, "axis")?;
    let mut out = first.shape().to_vec();
    out[a] = 0;
    for v in &values {
        let s = v.shape();
        if s.len() != r || (0..r).any(|k| k != a && s[k] != out[k]) {
            return Err(format!(
                "input shapes {:?} differ outside axis {a}",
                values
                    .iter()
                    .map(|v| v.shape().to_vec())
                    .collect::<Vec<_>>()
            ));
        }
        out[a] += s[a];
    }
    ctx.check_size(&out)?;
    if values.iter().all(|v| matches!(v, Value::Host(_))) {
        let hosts: Vec<&Host> = values
            .iter()
            .map(|v| match v {
                Value::Host(h) => &**h,
                Value::Dev(_) => unreachable!("all host"),
            })
            .collect();
        macro_rules! join {
            ($variant:ident) => {{
                let views: Result<Vec<_>, String> = hosts
                    .iter()
                    .map(|h| match h {
                        Host::$variant(x) => Ok(x.view()),
                        other => Err(format!("inputs mix element types ({})", other.elem())),
                    })
                    .collect();
                Host::$variant(ndarray::concatenate(Axis(a), &views?).map_err(|e| e.to_string())?)
            }};
        }
        let joined = match hosts[0] {
            Host::F32(_) => join!(F32),
            Host::I64(_) => join!(I64),
            Host::Bool(_) => join!(Bool),
        };
        return Ok(vec![Value::host(joined)]);
    }
    nonempty(&out)?;
    let mut parts = Vec::new();
    for v in values {
        if v.shape()[a] > 0 {
            parts.push(ctx.dev(v, "input")?.t);
        }
    }
    Ok(vec![Value::Dev(Dev::new(B::float_cat(parts, a), out))])
}

/// The indices ONNX `Slice` takes along an axis of size `dim`.
fn slice_indices(dim: usize, start: i64, end: i64, step: i64) -> Vec<usize> {
    if dim == 0 {
        return Vec::new();
    }
    let d = dim as i64;
    let norm = |v: i64| if v < 0 { v.saturating_add(d) } else { v };
    let (mut start, mut end) = (norm(start), norm(end));
    let mut out = Vec::new();
    if step > 0 {
        start = start.clamp(0, d);
        end = end.clamp(0, d);
        let mut k = start;
        while k < end {
            out.push(k as usize);
            k = k.saturating_add(step);
        }
    } else {
        start = start.clamp(0, d - 1);
        end = end.clamp(-1, d - 1);
        let mut k = start;
        while k > end {
            out.push(k as usize);
            k = k.saturating_add(step);
        }
    }
    out
}

/// Takes `indices` along axis `a` of `v`, on the host or the device.
fn take<B: Backend>(
    v: Value<B>,
    a: usize,
    indices: &[usize],
    ctx: &Ctx<B>,
) -> Result<Value<B>, String> {
    let mut shape = v.shape().to_vec();
    if indices.len() == shape[a] && indices.iter().enumerate().all(|(k, &x)| k == x) {
        return Ok(v);
    }
    shape[a] = indices.len();
    match v {
        Value::Host(h) => Ok(Value::host(h.select(a, indices))),
        Value::Dev(d) => {
            if indices.is_empty() {
                return Err(
                    "the selection is empty; genviz does not compute empty tensors on the device"
                        .to_string(),
                );
            }
            let contiguous = indices.windows(2).all(|w| w[1] == w[0] + 1);
            let t = if contiguous {
                let mut ranges: Vec<Slice> = d
                    .shape
                    .iter()
                    .map(|&n| Slice::new(0, Some(n as isize), 1))
                    .collect();
                ranges[a] = Slice::new(
                    indices[0] as isize,
                    Some((indices[0] + indices.len()) as isize),
                    1,
                );
                B::float_slice(d.t, &ranges)
            } else {
                let idx = ctx.int_tensor(indices.iter().map(|&k| k as i64).collect());
                B::float_select(d.t, a, idx)
            };
            Ok(Value::Dev(Dev::new(t, shape)))
        }
    }
}

pub fn slice<B: Backend>(_: &Node, i: &[Option<Value<B>>], ctx: &mut Ctx<B>) -> Out<B> {
    let data = input(i, 0, "data")?;
    let starts = ints(input(i, 1, "starts")?, "starts")?;
    let ends = ints(input(i, 2, "ends")?, "ends")?;
    let r = data.shape().len();
    let axes = match axes_input(i, 3)? {
        Some(a) => a,
        None => (0..starts.len() as i64).collect(),
    };
    let steps = match optional(i, 4) {
        Some(v) => ints(v, "steps")?,
        None => vec![1; starts.len()],
    };
    if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
        return Err(format!(
            "starts, ends, axes and steps have lengths {}, {}, {} and {}; expected one length",
            starts.len(),
            ends.len(),
            axes.len(),
            steps.len()
        ));
    }
    let mut v = data.clone();
    let mut seen = Vec::new();
    for k in 0..starts.len() {
        let a = axis(axes[k], r, "axis")?;
        if seen.contains(&a) {
            return Err(format!("axes {axes:?} repeat an axis"));
        }
        seen.push(a);
        if steps[k] == 0 {
            return Err("a step is 0".to_string());
        }
        let indices = slice_indices(v.shape()[a], starts[k], ends[k], steps[k]);
        v = take(v, a, &indices, ctx)?;
    }
    Ok(vec![v])
}

pub fn gather<B: Backend>(n: &Node, i: &[Option<Value<B>>], ctx: &mut Ctx<B>) -> Out<B> {
    let data = input(i, 0, "data")?;
    let idx_value = input(i, 1, "indices")?;
    let idx = ints(idx_value, "indices")?;
    let shape = data.shape();
    if shape.is_empty() {
        return Err("data is a scalar; Gather needs rank 1 or more".to_string());
    }
    let a = axis(n.int("axis", 0)?, shape.len(), "axis")?;
    let dim = shape[a] as i64;
    let flat = idx
        .iter()
        .map(|&k| {
            let j = if k < 0 { k + dim } else { k };
            if j < 0 || j >= dim {
                Err(format!("index {k} is outside 0..{dim} on axis {a}"))
            } else {
                Ok(j as usize)
            }
        })
        .collect::<Result<Vec<usize>, String>>()?;
    let mut out = shape[..a].to_vec();
    out.extend(idx_value.shape());
    out.extend(&shape[a + 1..]);
    ctx.check_size(&out)?;
    let taken = match data {
        Value::Host(h) => Value::host(h.select(a, &flat)),
        Value::Dev(d) => {
            if flat.is_empty() {
                return Err(
                    "no indices; genviz does not compute empty tensors on the device".to_string(),
                );
            }
            let mut mid = d.shape.clone();
            mid[a] = flat.len();
            let t = B::float_select(
                d.t.clone(),
                a,
                ctx.int_tensor(flat.iter().map(|&k| k as i64).collect()),
            );
            Value::Dev(Dev::new(t, mid))
        }
    };
    Ok(vec![reshaped(&taken, &out)])
}

pub fn expand<B: Backend>(_: &Node, i: &[Option<Value<B>>], ctx: &mut Ctx<B>) -> Out<B> {
    let data = input(i, 0, "input")?;
    let spec = ints(input(i, 1, "shape")?, "shape")?;
    let target = dims_of(&spec)?;
    let out = broadcast_shapes(data.shape(), &target)
        .ok_or_else(|| format!("shape {:?} does not broadcast to {spec:?}", data.shape()))?;
    ctx.check_size(&out)?;
    Ok(vec![match data {
        Value::Host(h) => Value::host(h.expanded(&out)),
        Value::Dev(d) => {
            nonempty(&out)?;
            Value::Dev(d.clone().expand(&out))
        }
    }])
}

pub fn split<B: Backend>(n: &Node, i: &[Option<Value<B>>], ctx: &mut Ctx<B>) -> Out<B> {
    let data = input(i, 0, "input")?;
    let shape = data.shape();
    let a = axis(n.int("axis", 0)?, shape.len(), "axis")?;
    let dim = shape[a];
    let parts = n.outputs.len();
    let sizes: Vec<usize> = match optional(i, 1) {
        Some(v) => ints(v, "split")?
            .iter()
            .map(|&s| usize::try_from(s).map_err(|_| format!("split size {s} is negative")))
            .collect::<Result<_, _>>()?,
        None => {
            let count = n.int("num_outputs", parts as i64)?;
            if count < 1 || count as usize != parts {
                return Err(format!(
                    "num_outputs is {count} but the node has {parts} outputs"
                ));
            }
            let chunk = if n.has("num_outputs") {
                dim.div_ceil(parts)
            } else if dim % parts == 0 {
                dim / parts
            } else {
                return Err(format!(
                    "axis {a} of size {dim} does not split into {parts} equal parts"
                ));
            };
            (0..parts)
                .map(|k| chunk.min(dim.saturating_sub(k * chunk)))
                .collect()
        }
    };
    if sizes.len() != parts || sizes.iter().sum::<usize>() != dim {
        return Err(format!(
            "split sizes {sizes:?} do not cut axis {a} of size {dim} into {parts} outputs"
        ));
    }
    let mut start = 0;
    let mut out = Vec::with_capacity(parts);
    for size in sizes {
        let indices: Vec<usize> = (start..start + size).collect();
        out.push(take(data.clone(), a, &indices, ctx)?);
        start += size;
    }
    Ok(out)
}

pub fn shape_of<B: Backend>(n: &Node, i: &[Option<Value<B>>], _: &mut Ctx<B>) -> Out<B> {
    let shape = input(i, 0, "data")?.shape();
    let r = shape.len() as i64;
    let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
    let start = clamp(n.int("start", 0)?);
    let end = clamp(n.int("end", r)?);
    let dims: Vec<i64> = shape[start..end.max(start)]
        .iter()
        .map(|&d| d as i64)
        .collect();
    Ok(vec![Value::host(Host::i64(&[dims.len()], dims))])
}

pub fn size<B: Backend>(_: &Node, i: &[Option<Value<B>>], _: &mut Ctx<B>) -> Out<B> {
    let n = product(input(i, 0, "data")?.shape()).ok_or("the input is too large")?;
    Ok(vec![Value::host(Host::i64(&[], vec![n as i64]))])
}

pub fn constant<B: Backend>(n: &Node, _: &[Option<Value<B>>], _: &mut Ctx<B>) -> Out<B> {
    let value = if let Some(t) = n.tensor("value")? {
        t.clone()
    } else if n.has("value_float") {
        Host::f32(&[], vec![n.float("value_float", 0.0)?])
    } else if n.has("value_int") {
        Host::i64(&[], vec![n.int("value_int", 0)?])
    } else if let Some(v) = n.ints("value_ints")? {
        Host::i64(&[v.len()], v)
    } else if let Some(crate::graph::Attr::Floats(v)) = n.attrs.get("value_floats") {
        Host::f32(&[v.len()], v.clone())
    } else {
        return Err(
            "has none of the attributes value, value_float(s), value_int(s) \
                    (string and sparse constants are not supported)"
                .to_string(),
        );
    };
    Ok(vec![Value::host(value)])
}

pub fn constant_of_shape<B: Backend>(n: &Node, i: &[Option<Value<B>>], ctx: &mut Ctx<B>) -> Out<B> {
    let spec = ints(input(i, 0, "input")?, "input")?;
    let shape = dims_of(&spec)?;
    ctx.check_size(&shape)?;
    let fill = n
        .tensor("value")?
        .cloned()
        .unwrap_or_else(|| Host::f32(&[1], vec![0.0]));
    if fill.len() != 1 {
        return Err(format!(
            "attribute `value` has {} elements; expected 1",
            fill.len()
        ));
    }
    let one = fill.reshaped(&[]);
    Ok(vec![Value::host(one.expanded(&shape))])
}

pub fn range<B: Backend>(_: &Node, i: &[Option<Value<B>>], ctx: &mut Ctx<B>) -> Out<B> {
    let (start, limit, delta) = (
        input(i, 0, "start")?,
        input(i, 1, "limit")?,
        input(i, 2, "delta")?,
    );
    let (a, b, d) = (
        scalar(start, "start")?,
        scalar(limit, "limit")?,
        scalar(delta, "delta")?,
    );
    if d == 0.0 || !(a.is_finite() && b.is_finite() && d.is_finite()) {
        return Err(format!(
            "start {a}, limit {b} and delta {d} do not make a finite range"
        ));
    }
    let count = ((b - a) / d).ceil().max(0.0);
    if count > ctx.max_elements as f64 {
        return Err(format!("the range would hold {count} elements"));
    }
    let count = count as usize;
    let value = if start.elem() == Elem::Int {
        let (a, d) = (a as i64, d as i64);
        Host::i64(
            &[count],
            (0..count as i64)
                .map(|k| a.wrapping_add(k.wrapping_mul(d)))
                .collect(),
        )
    } else {
        Host::f32(
            &[count],
            (0..count).map(|k| (a + k as f64 * d) as f32).collect(),
        )
    };
    Ok(vec![Value::host(value)])
}

/// Pads `d` on `axis` with `before` and `after` copies of `value` (on the device).
pub(crate) fn pad_constant<B: Backend>(
    d: Dev<B>,
    axis: usize,
    before: usize,
    after: usize,
    value: f32,
    ctx: &Ctx<B>,
) -> Dev<B> {
    if before == 0 && after == 0 {
        return d;
    }
    let mut out = d.shape.clone();
    out[axis] += before + after;
    let block = |n: usize| {
        let mut s = d.shape.clone();
        s[axis] = n;
        let count: usize = s.iter().product();
        Dev::<B>::upload(vec![value; count], &s, &ctx.device).t
    };
    let mut parts = Vec::new();
    if before > 0 {
        parts.push(block(before));
    }
    parts.push(d.t.clone());
    if after > 0 {
        parts.push(block(after));
    }
    Dev::new(B::float_cat(parts, axis), out)
}

pub fn pad<B: Backend>(n: &Node, i: &[Option<Value<B>>], ctx: &mut Ctx<B>) -> Out<B> {
    let data = input(i, 0, "data")?;
    let mut d = ctx.dev(data, "data")?;
    let r = d.shape.len();
    let pads = ints(input(i, 1, "pads")?, "pads")?;
    let value = optional(i, 2)
        .map(|v| scalar(v, "constant_value"))
        .transpose()?
        .unwrap_or(0.0) as f32;
    let axes: Vec<usize> = match axes_input(i, 3)? {
        Some(a) => a
            .iter()
            .map(|&x| axis(x, r, "axis"))
            .collect::<Result<_, _>>()?,
        None => (0..r).collect(),
    };
    if pads.len() != 2 * axes.len() {
        return Err(format!(
            "pads has {} values; expected {} (begin and end per axis)",
            pads.len(),
            2 * axes.len()
        ));
    }
    let mode = n.string("mode", "constant")?;
    let mut out = d.shape.clone();
    for (k, &a) in axes.iter().enumerate() {
        let (pb, pe) = (pads[k], pads[k + axes.len()]);
        let size = out[a] as i64 + pb + pe;
        if size <= 0 {
            return Err(format!("pads {pads:?} leave nothing of axis {a}"));
        }
        out[a] = size as usize;
    }
    ctx.check_size(&out)?;
    for (k, &a) in axes.iter().enumerate() {
        let (pb, pe) = (pads[k], pads[k + axes.len()]);
        if pb == 0 && pe == 0 {
            continue;
        }
        let dim = d.shape[a] as i64;
        match mode.as_str() {
            "constant" => {
                // Negative pads crop first; positive pads add blocks of the value.
                let keep: Vec<usize> = ((-pb).max(0)..dim - (-pe).max(0))
                    .map(|x| x as usize)
                    .collect();
                let Value::Dev(cropped) = take(Value::Dev(d), a, &keep, ctx)? else {
                    unreachable!("device in, device out")
                };
                d = pad_constant(
                    cropped,
                    a,
                    pb.max(0) as usize,
                    pe.max(0) as usize,
                    value,
                    ctx,
                );
            }
            "reflect" | "edge" | "wrap" => {
                if pb < 0 || pe < 0 {
                    return Err(format!(
                        "negative pads {pads:?} are supported in constant mode only"
                    ));
                }
                if mode == "reflect" && (pb >= dim || pe >= dim) {
                    return Err(format!(
                        "reflect pads {pads:?} must be smaller than axis {a} of size {dim}"
                    ));
                }
                let source: Vec<usize> = (-pb..dim + pe)
                    .map(|x| {
                        (match mode.as_str() {
                            "reflect" if x < 0 => -x,
                            "reflect" if x >= dim => 2 * (dim - 1) - x,
                            "edge" => x.clamp(0, dim - 1),
                            "wrap" => x.rem_euclid(dim),
                            _ => x,
                        }) as usize
                    })
                    .collect();
                let idx = ctx.int_tensor(source.iter().map(|&x| x as i64).collect());
                let mut shape = d.shape.clone();
                shape[a] = source.len();
                d = Dev::new(B::float_select(d.t, a, idx), shape);
            }
            other => {
                return Err(format!(
                    "mode \"{other}\" is not one of constant, reflect, edge, wrap"
                ))
            }
        }
    }
    Ok(vec![Value::Dev(d)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reshape_rules() {
        assert_eq!(
            reshape_target(&[2, 3, 4], &[0, -1], false).unwrap(),
            vec![2, 12]
        );
        assert_eq!(reshape_target(&[2, 3, 4], &[-1], false).unwrap(), vec![24]);
        assert_eq!(reshape_target(&[0, 3], &[3, 0], true).unwrap(), vec![3, 0]);
        assert!(reshape_target(&[2, 3], &[-1, -1], false)
            .unwrap_err()
            .contains("more than one"));
        assert!(reshape_target(&[2, 3], &[4, -1], false)
            .unwrap_err()
            .contains("no whole size"));
        assert!(reshape_target(&[2, 3], &[5], false).is_err());
    }

    #[test]
    fn slice_indices_follow_onnx() {
        assert_eq!(slice_indices(5, 1, 4, 1), vec![1, 2, 3]);
        assert_eq!(slice_indices(5, -2, i64::MAX, 1), vec![3, 4]);
        assert_eq!(slice_indices(5, 4, -6, -2), vec![4, 2, 0]);
        assert_eq!(
            slice_indices(5, i64::MAX, i64::MIN, -1),
            vec![4, 3, 2, 1, 0]
        );
        assert!(slice_indices(5, 3, 1, 1).is_empty());
    }
}

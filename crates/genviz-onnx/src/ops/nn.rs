//! Network layers: convolution, pooling, normalisation, dense products, softmax, reductions.

use super::shape::pad_constant;
use super::{axis, input, ints, optional, BatchNorm, Ctx, Dev, Value};
use crate::graph::Node;
use crate::host::broadcast_shapes;
use burn::tensor::backend::Backend;
use burn::tensor::ops::{ConvOptions, FloatTensor};
use burn::tensor::Scalar;

type Out<B> = Result<Vec<Value<B>>, String>;

fn s(v: f64) -> Scalar {
    Scalar::Float(v)
}

/// Spatial attributes of convolution and pooling, checked against the input.
struct Window {
    kernel: Vec<usize>,
    strides: Vec<usize>,
    dilations: Vec<usize>,
    /// Padding before and after each spatial axis.
    pads: Vec<(usize, usize)>,
}

/// The largest stride, dilation, padding or kernel size genviz accepts: far beyond any
/// real network, small enough that window arithmetic cannot overflow.
const MAX_WINDOW: i64 = 1 << 20;

fn positive_list(n: &Node, name: &str, len: usize) -> Result<Vec<usize>, String> {
    match n.ints(name)? {
        None => Ok(vec![1; len]),
        Some(v) => {
            if v.len() != len || v.iter().any(|&x| !(1..=MAX_WINDOW).contains(&x)) {
                return Err(format!(
                    "attribute `{name}` is {v:?}; expected {len} values in 1..={MAX_WINDOW}"
                ));
            }
            Ok(v.iter().map(|&x| x as usize).collect())
        }
    }
}

impl Window {
    fn read(n: &Node, spatial: &[usize], kernel: Vec<usize>) -> Result<Window, String> {
        let sp = spatial.len();
        let strides = positive_list(n, "strides", sp)?;
        let dilations = positive_list(n, "dilations", sp)?;
        let auto_pad = n.string("auto_pad", "NOTSET")?;
        let pads = match auto_pad.as_str() {
            "NOTSET" => match n.ints("pads")? {
                None => vec![(0, 0); sp],
                Some(p) => {
                    if p.len() != 2 * sp || p.iter().any(|&x| !(0..=MAX_WINDOW).contains(&x)) {
                        return Err(format!(
                            "attribute `pads` is {p:?}; expected {} non-negative values",
                            2 * sp
                        ));
                    }
                    (0..sp)
                        .map(|k| (p[k] as usize, p[k + sp] as usize))
                        .collect()
                }
            },
            "VALID" => vec![(0, 0); sp],
            "SAME_UPPER" | "SAME_LOWER" => (0..sp)
                .map(|k| {
                    let out = spatial[k].div_ceil(strides[k]);
                    let span = (kernel[k] - 1) * dilations[k] + 1;
                    let total = ((out - 1) * strides[k] + span).saturating_sub(spatial[k]);
                    let small = total / 2;
                    if auto_pad == "SAME_UPPER" {
                        (small, total - small)
                    } else {
                        (total - small, small)
                    }
                })
                .collect(),
            other => return Err(format!("attribute `auto_pad` is \"{other}\"")),
        };
        let w = Window {
            kernel,
            strides,
            dilations,
            pads,
        };
        for (k, &size) in spatial.iter().enumerate() {
            let span = (w.kernel[k] - 1) * w.dilations[k] + 1;
            if size + w.pads[k].0 + w.pads[k].1 < span {
                return Err(format!(
                    "the window of {} (dilation {}) is larger than spatial axis {k} of size {size} padded by {:?}",
                    w.kernel[k], w.dilations[k], w.pads[k]
                ));
            }
        }
        Ok(w)
    }

    /// Output size of axis `k` (floor rule) after padding.
    fn out(&self, k: usize, size: usize) -> usize {
        let span = (self.kernel[k] - 1) * self.dilations[k] + 1;
        (size + self.pads[k].0 + self.pads[k].1 - span) / self.strides[k] + 1
    }

    fn symmetric(&self) -> bool {
        self.pads.iter().all(|(a, b)| a == b)
    }
}

fn kernel_of(n: &Node, sp: usize) -> Result<Vec<usize>, String> {
    let k = n
        .ints("kernel_shape")?
        .ok_or("attribute `kernel_shape` is missing")?;
    if k.len() != sp || k.iter().any(|&x| !(1..=MAX_WINDOW).contains(&x)) {
        return Err(format!(
            "attribute `kernel_shape` is {k:?}; expected {sp} positive values"
        ));
    }
    Ok(k.iter().map(|&x| x as usize).collect())
}

/// The input of a 1-D or 2-D convolution or pooling as a 4-D tensor (1-D adds a height of 1).
fn spatial_input<B: Backend>(ctx: &Ctx<B>, v: &Value<B>) -> Result<Dev<B>, String> {
    let x = ctx.dev(v, "X")?;
    match x.shape.len() {
        3 | 4 => Ok(x),
        r => Err(format!(
            "X has rank {r}; genviz runs 1-D and 2-D layers ([N, C, L] or [N, C, H, W])"
        )),
    }
}

fn as_4d<B: Backend>(x: Dev<B>) -> Dev<B> {
    if x.shape.len() == 3 {
        let s = [x.shape[0], x.shape[1], 1, x.shape[2]];
        x.reshape(&s)
    } else {
        x
    }
}

/// Refuses padding as wide as the window (ONNX requires it smaller; a window could then
/// see padding only).
fn pads_within_kernel(win: &Window) -> Result<(), String> {
    if win
        .pads
        .iter()
        .zip(&win.kernel)
        .any(|(&(a, b), &k)| a >= k || b >= k)
    {
        return Err(format!(
            "pads {:?} are not smaller than the kernel {:?}",
            win.pads, win.kernel
        ));
    }
    Ok(())
}

/// Pads the spatial axes (2 and 3 of a 4-D tensor) explicitly.
fn pad_spatial<B: Backend>(x: Dev<B>, pads: &[(usize, usize)], value: f32, ctx: &Ctx<B>) -> Dev<B> {
    let offset = 4 - pads.len();
    pads.iter().enumerate().fold(x, |x, (k, &(a, b))| {
        pad_constant(x, offset + k, a, b, value, ctx)
    })
}

/// Widens a 1-D window description to 2-D (height 1).
fn two<T: Copy>(v: &[T], one: T) -> [T; 2] {
    if v.len() == 1 {
        [one, v[0]]
    } else {
        [v[0], v[1]]
    }
}

pub fn conv<B: Backend>(n: &Node, i: &[Option<Value<B>>], ctx: &mut Ctx<B>) -> Out<B> {
    let x = spatial_input(ctx, input(i, 0, "X")?)?;
    let w = ctx.dev(input(i, 1, "W")?, "W")?;
    let bias = optional(i, 2).map(|v| ctx.dev(v, "B")).transpose()?;
    let r = x.shape.len();
    let sp = r - 2;
    if w.shape.len() != r {
        return Err(format!("W has rank {}; expected {r} like X", w.shape.len()));
    }
    let group = n.int("group", 1)?;
    if group < 1 {
        return Err(format!("attribute `group` is {group}"));
    }
    let group = group as usize;
    let (c, m) = (x.shape[1], w.shape[0]);
    if w.shape[1] * group != c || m % group != 0 {
        return Err(format!(
            "W {:?} with {group} group(s) takes {} input channels and needs a filter count divisible by {group}; X has {c} channels",
            w.shape,
            w.shape[1] * group
        ));
    }
    if let Some(b) = &bias {
        if b.shape != [m] {
            return Err(format!("B has shape {:?}; expected [{m}]", b.shape));
        }
    }
    let kernel = w.shape[2..].to_vec();
    if let Some(k) = n.ints("kernel_shape")? {
        if k.iter().map(|&v| v as usize).collect::<Vec<_>>() != kernel {
            return Err(format!(
                "attribute `kernel_shape` {k:?} disagrees with W {:?}",
                w.shape
            ));
        }
    }
    let mut win = Window::read(n, &x.shape[2..], kernel)?;
    let mut out = vec![x.shape[0], m];
    out.extend((0..sp).map(|k| win.out(k, x.shape[2 + k])));
    ctx.check_size(&out)?;
    let mut x4 = as_4d(x);
    if !win.symmetric() {
        x4 = pad_spatial(x4, &win.pads, 0.0, ctx);
        win.pads = vec![(0, 0); sp];
    }
    let w4 = if sp == 1 {
        let s = [w.shape[0], w.shape[1], 1, w.shape[2]];
        w.reshape(&s)
    } else {
        w
    };
    let pads: Vec<usize> = win.pads.iter().map(|p| p.0).collect();
    let options = ConvOptions::new(
        two(&win.strides, 1),
        two(&pads, 0),
        two(&win.dilations, 1),
        group,
    );
    let mut four = out.clone();
    if sp == 1 {
        four.insert(2, 1);
    }
    let y = B::conv2d(x4.t, w4.t, bias.map(|b| b.t), options);
    Ok(vec![Value::Dev(Dev::new(y, four).reshape(&out))])
}

pub fn max_pool<B: Backend>(n: &Node, i: &[Option<Value<B>>], ctx: &mut Ctx<B>) -> Out<B> {
    let x = spatial_input(ctx, input(i, 0, "X")?)?;
    let sp = x.shape.len() - 2;
    let kernel = kernel_of(n, sp)?;
    let mut win = Window::read(n, &x.shape[2..], kernel)?;
    pads_within_kernel(&win)?;
    let ceil = n.int("ceil_mode", 0)? != 0;
    let mut out = x.shape[..2].to_vec();
    for k in 0..sp {
        let size = x.shape[2 + k];
        let floor_out = win.out(k, size);
        let span = (win.kernel[k] - 1) * win.dilations[k] + 1;
        let padded = size + win.pads[k].0 + win.pads[k].1;
        let mut o = floor_out;
        if ceil && (padded - span) % win.strides[k] != 0 {
            o += 1;
            // PyTorch and ONNX drop a last window that would start in the end padding.
            if (o - 1) * win.strides[k] >= size + win.pads[k].0 {
                o -= 1;
            }
        }
        // Pad the end so that the floor rule gives exactly `o` windows.
        let needed = (o - 1) * win.strides[k] + span;
        win.pads[k].1 += needed.saturating_sub(padded);
        out.push(o);
    }
    ctx.check_size(&out)?;
    let mut x4 = as_4d(x);
    if win.pads.iter().any(|&(a, b)| a > 0 || b > 0) {
        // Explicit -inf padding: every backend agrees on it, and a window never sees a
        // padded value win over a real one.
        x4 = pad_spatial(x4, &win.pads, f32::NEG_INFINITY, ctx);
    }
    let y = B::max_pool2d(
        x4.t,
        two(&win.kernel, 1),
        two(&win.strides, 1),
        [0, 0],
        two(&win.dilations, 1),
        false,
    );
    let mut four = out.clone();
    if sp == 1 {
        four.insert(2, 1);
    }
    Ok(vec![Value::Dev(Dev::new(y, four).reshape(&out))])
}

pub fn average_pool<B: Backend>(n: &Node, i: &[Option<Value<B>>], ctx: &mut Ctx<B>) -> Out<B> {
    let x = spatial_input(ctx, input(i, 0, "X")?)?;
    let sp = x.shape.len() - 2;
    let kernel = kernel_of(n, sp)?;
    let mut win = Window::read(n, &x.shape[2..], kernel)?;
    pads_within_kernel(&win)?;
    if win.dilations.iter().any(|&d| d != 1) {
        return Err("dilated average pooling is not supported".to_string());
    }
    let include_pad = n.int("count_include_pad", 0)? != 0;
    let mut out = x.shape[..2].to_vec();
    for k in 0..sp {
        let size = x.shape[2 + k];
        let padded = size + win.pads[k].0 + win.pads[k].1;
        if n.int("ceil_mode", 0)? != 0 && (padded - win.kernel[k]) % win.strides[k] != 0 {
            return Err(
                "ceil_mode with a partial last window is not supported for AveragePool".to_string(),
            );
        }
        out.push(win.out(k, size));
    }
    ctx.check_size(&out)?;
    let mut x4 = as_4d(x);
    if !win.symmetric() {
        if !include_pad {
            return Err(
                "asymmetric padding without count_include_pad is not supported".to_string(),
            );
        }
        x4 = pad_spatial(x4, &win.pads, 0.0, ctx);
        win.pads = vec![(0, 0); sp];
    }
    let pads: Vec<usize> = win.pads.iter().map(|p| p.0).collect();
    let y = B::avg_pool2d(
        x4.t,
        two(&win.kernel, 1),
        two(&win.strides, 1),
        two(&pads, 0),
        include_pad,
        false,
    );
    let mut four = out.clone();
    if sp == 1 {
        four.insert(2, 1);
    }
    Ok(vec![Value::Dev(Dev::new(y, four).reshape(&out))])
}

pub fn global_average_pool<B: Backend>(
    _: &Node,
    i: &[Option<Value<B>>],
    ctx: &mut Ctx<B>,
) -> Out<B> {
    let x = ctx.dev(input(i, 0, "X")?, "X")?;
    if x.shape.len() < 3 {
        return Err(format!(
            "X has rank {}; expected [N, C, spatial...]",
            x.shape.len()
        ));
    }
    let mut out = x.shape[..2].to_vec();
    out.extend(vec![1; x.shape.len() - 2]);
    let pixels: usize = x.shape[2..].iter().product();
    let flat = x.reshape(&[out[0], out[1], pixels]);
    let mean = B::float_mean_dim(flat.t, 2);
    Ok(vec![Value::Dev(
        Dev::new(mean, vec![out[0], out[1], 1]).reshape(&out),
    )])
}

/// `[C]` per-channel values shaped to broadcast over `[N, C, ...]` of rank `rank`.
fn per_channel<B: Backend>(v: Dev<B>, rank: usize) -> FloatTensor<B> {
    let c = v.shape.iter().product::<usize>();
    let mut shape = vec![1; rank];
    shape[1] = c;
    v.reshape(&shape).t
}

pub fn batch_normalization<B: Backend>(
    n: &Node,
    i: &[Option<Value<B>>],
    ctx: &mut Ctx<B>,
) -> Out<B> {
    let x = ctx.dev(input(i, 0, "X")?, "X")?;
    let r = x.shape.len();
    if r < 2 {
        return Err(format!("X has rank {r}; expected [N, C, ...]"));
    }
    if n.int("training_mode", 0)? != 0 {
        return Err(
            "training_mode is 1; export the model in eval mode (PyTorch: `model.eval()`)"
                .to_string(),
        );
    }
    let c = x.shape[1];
    let mut params = Vec::new();
    for (k, name) in ["scale", "B", "input_mean", "input_var"].iter().enumerate() {
        let v = ctx.dev(input(i, k + 1, name)?, name)?;
        if v.shape != [c] {
            return Err(format!(
                "{name} has shape {:?}; expected [{c}] (one per channel)",
                v.shape
            ));
        }
        params.push(v);
    }
    let eps = f64::from(n.float("epsilon", 1e-5)?);
    let [scale, shift, mean, var]: [Dev<B>; 4] =
        params.try_into().map_err(|_| "four parameters")?;
    let shape = x.shape.clone();
    let y = match &mut ctx.bn {
        BatchNorm::Running => {
            // y = x * (scale / sqrt(var + eps)) + (B - mean * scale / sqrt(var + eps)).
            let factor = B::float_div(scale.t, B::float_sqrt(B::float_add_scalar(var.t, s(eps))));
            let offset = B::float_sub(shift.t, B::float_mul(mean.t, factor.clone()));
            let factor = per_channel(Dev::<B>::new(factor, vec![c]), r);
            let offset = per_channel(Dev::<B>::new(offset, vec![c]), r);
            B::float_add(B::float_mul(x.t, factor), offset)
        }
        BatchNorm::Batch(stats) => {
            // Statistics over every axis but the channels, as PyTorch's train mode.
            let count = shape.iter().product::<usize>() / c;
            if count < 2 {
                return Err("batch statistics need at least 2 values per channel".to_string());
            }
            let mut perm: Vec<usize> = (0..r).collect();
            perm.swap(0, 1);
            let rows = B::float_reshape(
                B::float_permute(x.t.clone(), &perm),
                super::prim(&[c, count]),
            );
            let mean = B::float_mean_dim(rows.clone(), 1);
            let centred = B::float_sub(rows, mean.clone());
            let var = B::float_mean_dim(B::float_mul(centred.clone(), centred), 1);
            let unbiased = B::float_mul_scalar(
                B::float_detach(var.clone()),
                s(count as f64 / (count as f64 - 1.0)),
            );
            stats.push((
                n.index,
                B::float_reshape(B::float_detach(mean.clone()), super::prim(&[c])),
                B::float_reshape(unbiased, super::prim(&[c])),
            ));
            let factor = B::float_div(
                B::float_reshape(scale.t, super::prim(&[c, 1])),
                B::float_sqrt(B::float_add_scalar(var, s(eps))),
            );
            let offset = B::float_sub(
                B::float_reshape(shift.t, super::prim(&[c, 1])),
                B::float_mul(mean, factor.clone()),
            );
            let factor = per_channel(Dev::<B>::new(factor, vec![c, 1]), r);
            let offset = per_channel(Dev::<B>::new(offset, vec![c, 1]), r);
            B::float_add(B::float_mul(x.t, factor), offset)
        }
    };
    Ok(vec![Value::Dev(Dev::new(y, shape))])
}

/// Broadcasting `a op b` for device tensors.
fn broadcast_op<B: Backend>(
    ctx: &Ctx<B>,
    a: Dev<B>,
    b: Dev<B>,
    op: fn(FloatTensor<B>, FloatTensor<B>) -> FloatTensor<B>,
    what: &str,
) -> Result<Dev<B>, String> {
    let out = broadcast_shapes(&a.shape, &b.shape)
        .ok_or_else(|| format!("{what} {:?} does not broadcast to {:?}", b.shape, a.shape))?;
    ctx.check_size(&out)?;
    let r = out.len().max(1);
    Ok(Dev::new(op(a.at_rank(r), b.at_rank(r)), out))
}

pub fn layer_normalization<B: Backend>(
    n: &Node,
    i: &[Option<Value<B>>],
    ctx: &mut Ctx<B>,
) -> Out<B> {
    let x = ctx.dev(input(i, 0, "X")?, "X")?;
    let scale = ctx.dev(input(i, 1, "Scale")?, "Scale")?;
    let bias = optional(i, 2).map(|v| ctx.dev(v, "B")).transpose()?;
    let r = x.shape.len();
    let a = axis(n.int("axis", -1)?, r, "axis")?;
    let eps = f64::from(n.float("epsilon", 1e-5)?);
    let shape = x.shape.clone();
    let outer: usize = shape[..a].iter().product();
    let inner: usize = shape[a..].iter().product();
    let rows = x.reshape(&[outer, inner]).t;
    let mean = B::float_mean_dim(rows.clone(), 1);
    let centred = B::float_sub(rows, mean);
    let var = B::float_mean_dim(B::float_mul(centred.clone(), centred.clone()), 1);
    let inv = B::float_recip(B::float_sqrt(B::float_add_scalar(var, s(eps))));
    let normed = Dev::new(B::float_mul(centred, inv), vec![outer, inner]).reshape(&shape);
    let mut y = broadcast_op(ctx, normed, scale, B::float_mul, "Scale")?;
    if let Some(b) = bias {
        y = broadcast_op(ctx, y, b, B::float_add, "B")?;
    }
    if y.shape != shape {
        return Err(format!("Scale and B change the shape to {:?}", y.shape));
    }
    Ok(vec![Value::Dev(y)])
}

pub fn gemm<B: Backend>(n: &Node, i: &[Option<Value<B>>], ctx: &mut Ctx<B>) -> Out<B> {
    let a = ctx.dev(input(i, 0, "A")?, "A")?;
    let b = ctx.dev(input(i, 1, "B")?, "B")?;
    if a.shape.len() != 2 || b.shape.len() != 2 {
        return Err("A and B must be matrices".to_string());
    }
    let (ta, tb) = (n.int("transA", 0)? != 0, n.int("transB", 0)? != 0);
    let (m, k) = if ta {
        (a.shape[1], a.shape[0])
    } else {
        (a.shape[0], a.shape[1])
    };
    let (k2, cols) = if tb {
        (b.shape[1], b.shape[0])
    } else {
        (b.shape[0], b.shape[1])
    };
    if k != k2 {
        return Err(format!(
            "A{} {:?} and B{} {:?} do not multiply",
            if ta { "^T" } else { "" },
            a.shape,
            if tb { "^T" } else { "" },
            b.shape
        ));
    }
    ctx.check_size(&[m, cols])?;
    let at = if ta {
        B::float_swap_dims(a.t, 0, 1)
    } else {
        a.t
    };
    let bt = if tb {
        B::float_swap_dims(b.t, 0, 1)
    } else {
        b.t
    };
    let mut y = B::float_matmul(at, bt);
    let alpha = f64::from(n.float("alpha", 1.0)?);
    if alpha != 1.0 {
        y = B::float_mul_scalar(y, s(alpha));
    }
    let mut y = Dev::new(y, vec![m, cols]);
    if let Some(c) = optional(i, 2) {
        let mut c = ctx.dev(c, "C")?;
        let beta = f64::from(n.float("beta", 1.0)?);
        if beta != 1.0 {
            c = Dev::new(B::float_mul_scalar(c.t, s(beta)), c.shape);
        }
        y = broadcast_op(ctx, y, c, B::float_add, "C")?;
        if y.shape != [m, cols] {
            return Err(format!("C does not broadcast to [{m}, {cols}]"));
        }
    }
    Ok(vec![Value::Dev(y)])
}

pub fn matmul<B: Backend>(_: &Node, i: &[Option<Value<B>>], ctx: &mut Ctx<B>) -> Out<B> {
    let a = ctx.dev(input(i, 0, "A")?, "A")?;
    let b = ctx.dev(input(i, 1, "B")?, "B")?;
    let (ra, rb) = (a.shape.len(), b.shape.len());
    if ra == 0 || rb == 0 {
        return Err("MatMul needs tensors of rank 1 or more".to_string());
    }
    // numpy's rules: a vector on the left is a row, on the right a column, dropped after.
    let a = if ra == 1 {
        let s = [1, a.shape[0]];
        a.reshape(&s)
    } else {
        a
    };
    let b = if rb == 1 {
        let s = [b.shape[0], 1];
        b.reshape(&s)
    } else {
        b
    };
    let (sa, sb) = (a.shape.clone(), b.shape.clone());
    let (m, k) = (sa[sa.len() - 2], sa[sa.len() - 1]);
    let (k2, cols) = (sb[sb.len() - 2], sb[sb.len() - 1]);
    if k != k2 {
        return Err(format!("inner dimensions {k} and {k2} differ"));
    }
    let batch = broadcast_shapes(&sa[..sa.len() - 2], &sb[..sb.len() - 2])
        .ok_or_else(|| format!("batch dimensions of {sa:?} and {sb:?} do not broadcast"))?;
    let mut full = batch.clone();
    full.extend([m, cols]);
    ctx.check_size(&full)?;
    let y = if sb.len() == 2 {
        // A weight matrix: fold every batch dimension into the rows, one plain product.
        let rows: usize = sa[..sa.len() - 1].iter().product();
        Dev::new(
            B::float_matmul(a.reshape(&[rows, k]).t, b.t),
            vec![rows, cols],
        )
        .reshape(&full)
    } else {
        let mut ea = batch.clone();
        ea.extend([m, k]);
        let mut eb = batch.clone();
        eb.extend([k, cols]);
        Dev::new(
            B::float_matmul(a.expand(&ea).t, b.expand(&eb).t),
            full.clone(),
        )
    };
    let mut out = batch;
    if ra > 1 {
        out.push(m);
    }
    if rb > 1 {
        out.push(cols);
    }
    Ok(vec![Value::Dev(y.reshape(&out))])
}

fn softmax_parts<B: Backend>(
    n: &Node,
    i: &[Option<Value<B>>],
    ctx: &Ctx<B>,
) -> Result<(Dev<B>, usize), String> {
    let x = ctx.dev(input(i, 0, "input")?, "input")?;
    let a = axis(n.int("axis", -1)?, x.shape.len(), "axis")?;
    if x.shape.is_empty() {
        return Err("input is a scalar".to_string());
    }
    Ok((x, a))
}

pub fn softmax<B: Backend>(n: &Node, i: &[Option<Value<B>>], ctx: &mut Ctx<B>) -> Out<B> {
    let (x, a) = softmax_parts(n, i, ctx)?;
    let m = B::float_detach(B::float_max_dim(x.t.clone(), a));
    let e = B::float_exp(B::float_sub(x.t, m));
    let y = B::float_div(e.clone(), B::float_sum_dim(e, a));
    Ok(vec![Value::Dev(Dev::new(y, x.shape))])
}

pub fn log_softmax<B: Backend>(n: &Node, i: &[Option<Value<B>>], ctx: &mut Ctx<B>) -> Out<B> {
    let (x, a) = softmax_parts(n, i, ctx)?;
    let m = B::float_detach(B::float_max_dim(x.t.clone(), a));
    let shifted = B::float_sub(x.t, m);
    let lse = B::float_log(B::float_sum_dim(B::float_exp(shifted.clone()), a));
    Ok(vec![Value::Dev(Dev::new(
        B::float_sub(shifted, lse),
        x.shape,
    ))])
}

/// The reductions.
#[derive(Clone, Copy, PartialEq)]
enum Reduce {
    Mean,
    Sum,
    Max,
}

fn reduce<B: Backend>(n: &Node, i: &[Option<Value<B>>], ctx: &mut Ctx<B>, how: Reduce) -> Out<B> {
    let x = ctx.dev(input(i, 0, "data")?, "data")?;
    let r = x.shape.len();
    // ReduceSum takes its axes as an input from opset 13, the others from opset 18.
    let from_input = how == Reduce::Sum || ctx.opset >= 18;
    let axes = if from_input {
        optional(i, 1).map(|v| ints(v, "axes")).transpose()?
    } else {
        n.ints("axes")?
    };
    let axes = axes.unwrap_or_default();
    if axes.is_empty() && n.int("noop_with_empty_axes", 0)? != 0 {
        return Ok(vec![Value::Dev(x)]);
    }
    let mut list: Vec<usize> = if axes.is_empty() {
        (0..r).collect()
    } else {
        axes.iter()
            .map(|&a| axis(a, r, "axis"))
            .collect::<Result<_, _>>()?
    };
    list.sort_unstable();
    list.dedup();
    let keep = n.int("keepdims", 1)? != 0;
    let mut t = x.t;
    let mut kept = x.shape.clone();
    for &a in &list {
        t = match how {
            Reduce::Mean => B::float_mean_dim(t, a),
            Reduce::Sum => B::float_sum_dim(t, a),
            Reduce::Max => B::float_max_dim(t, a),
        };
        kept[a] = 1;
    }
    let y = Dev::new(t, kept.clone());
    let out: Vec<usize> = if keep {
        kept
    } else {
        (0..r)
            .filter(|k| !list.contains(k))
            .map(|k| kept[k])
            .collect()
    };
    Ok(vec![Value::Dev(y.reshape(&out))])
}

pub fn reduce_mean<B: Backend>(n: &Node, i: &[Option<Value<B>>], c: &mut Ctx<B>) -> Out<B> {
    reduce(n, i, c, Reduce::Mean)
}

pub fn reduce_sum<B: Backend>(n: &Node, i: &[Option<Value<B>>], c: &mut Ctx<B>) -> Out<B> {
    reduce(n, i, c, Reduce::Sum)
}

pub fn reduce_max<B: Backend>(n: &Node, i: &[Option<Value<B>>], c: &mut Ctx<B>) -> Out<B> {
    reduce(n, i, c, Reduce::Max)
}

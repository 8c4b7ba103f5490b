//! The operators: one function per ONNX operator (a one-line closure in the table where the
//! operator is a case of a shared kernel: `Add` is `arith` with `Arith::Add`), looked up from
//! one table.
//!
//! A value is either a float tensor on burn's device ([`Dev`], where activations and
//! parameters live and autodiff records) or a tensor on the host ([`Host`]: constants,
//! shapes, integer indices, masks). Each operator takes its inputs as they come and decides
//! where to compute: shape arithmetic stays on the host, anything touching a device tensor
//! runs on the device. Operators check their inputs' shapes and attributes before calling
//! burn (whose kernels panic on mismatches) and return a message; [`run`] adds the node, its
//! operator and its inputs' shapes.

mod elementwise;
mod nn;
mod shape;

use crate::graph::Node;
use crate::host::{Elem, Host};
use burn::tensor::backend::Backend;
use burn::tensor::ops::FloatTensor;
use burn::tensor::{Shape, TensorData};
use std::sync::Arc;

/// A float tensor on the device, with its logical shape (burn has no rank-0 tensors, so a
/// scalar is stored as `[1]`).
pub struct Dev<B: Backend> {
    /// The tensor.
    pub t: FloatTensor<B>,
    /// Its ONNX shape.
    pub shape: Vec<usize>,
}

impl<B: Backend> Clone for Dev<B> {
    fn clone(&self) -> Self {
        Dev {
            t: self.t.clone(),
            shape: self.shape.clone(),
        }
    }
}

/// burn's shape for an ONNX shape (`[1]` for a scalar).
pub(crate) fn prim(shape: &[usize]) -> Shape {
    if shape.is_empty() {
        Shape::from(vec![1usize])
    } else {
        Shape::from(shape.to_vec())
    }
}

impl<B: Backend> Dev<B> {
    /// Uploads row-major `values` of `shape`.
    pub fn upload(values: Vec<f32>, shape: &[usize], device: &B::Device) -> Self {
        Dev {
            t: B::float_from_data(TensorData::new(values, prim(shape)), device),
            shape: shape.to_vec(),
        }
    }

    /// Wraps a burn tensor whose shape is `shape`.
    pub fn new(t: FloatTensor<B>, shape: Vec<usize>) -> Self {
        Dev { t, shape }
    }

    /// The same values in `shape` (same size).
    pub fn reshape(self, shape: &[usize]) -> Self {
        if shape == self.shape.as_slice() {
            return self;
        }
        Dev {
            t: B::float_reshape(self.t, prim(shape)),
            shape: shape.to_vec(),
        }
    }

    /// The tensor as burn sees it with `rank` dimensions: leading axes of size 1 prepended.
    fn at_rank(self, rank: usize) -> FloatTensor<B> {
        let mut shape = vec![1; rank.saturating_sub(self.shape.len())];
        shape.extend(&self.shape);
        if shape.is_empty() {
            shape.push(1);
        }
        B::float_reshape(self.t, Shape::from(shape))
    }

    /// Broadcast to `shape` (compatible; checked by the caller).
    pub fn expand(self, shape: &[usize]) -> Self {
        if shape == self.shape.as_slice() {
            return self;
        }
        let t = self.at_rank(shape.len().max(1));
        Dev {
            t: B::float_expand(t, prim(shape)),
            shape: shape.to_vec(),
        }
    }

    /// Copies the values to the host.
    pub fn download(&self) -> Vec<f32> {
        let n: usize = self.shape.iter().product();
        let flat = B::float_reshape(self.t.clone(), Shape::from(vec![n.max(1)]));
        let data = burn::tensor::read_sync(B::float_into_data(flat))
            .expect("reading a tensor from the device");
        let values = data
            .convert::<f32>()
            .into_vec::<f32>()
            .expect("a float tensor converts to f32");
        values.into_iter().take(n).collect()
    }

    /// Copies the tensor to the host.
    pub fn to_host(&self) -> Host {
        Host::f32(&self.shape, self.download())
    }
}

/// A value flowing through the graph.
pub enum Value<B: Backend> {
    /// On the host.
    Host(Arc<Host>),
    /// A float tensor on the device.
    Dev(Dev<B>),
}

impl<B: Backend> Clone for Value<B> {
    fn clone(&self) -> Self {
        match self {
            Value::Host(h) => Value::Host(h.clone()),
            Value::Dev(d) => Value::Dev(d.clone()),
        }
    }
}

impl<B: Backend> Value<B> {
    /// A host value.
    pub fn host(h: Host) -> Self {
        Value::Host(Arc::new(h))
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            Value::Host(h) => h.shape(),
            Value::Dev(d) => &d.shape,
        }
    }

    /// The element kind.
    pub fn elem(&self) -> Elem {
        match self {
            Value::Host(h) => h.elem(),
            Value::Dev(_) => Elem::Float,
        }
    }

    /// `[2, 3] float`, for messages.
    pub fn describe(&self) -> String {
        format!("{:?} {}", self.shape(), self.elem())
    }
}

/// How BatchNormalization normalises in this pass.
pub enum BatchNorm<B: Backend> {
    /// With the running statistics the graph holds (inference).
    Running,
    /// With the batch's own statistics, recording each layer's batch mean and unbiased
    /// variance by node position (for recomputing the running statistics).
    Batch(Vec<(usize, FloatTensor<B>, FloatTensor<B>)>),
}

/// What every operator may use besides its inputs.
pub struct Ctx<B: Backend> {
    /// Where device tensors live.
    pub device: B::Device,
    /// The graph's opset (operators whose inputs moved between versions look here).
    pub opset: i64,
    /// How BatchNormalization normalises.
    pub bn: BatchNorm<B>,
    /// The largest tensor (in elements) an operator may create: a malformed file cannot
    /// ask for terabytes.
    pub max_elements: usize,
}

impl<B: Backend> Ctx<B> {
    /// Refuses an output larger than [`Ctx::max_elements`].
    pub fn check_size(&self, shape: &[usize]) -> Result<(), String> {
        // Zero axes are skipped: an empty [0, 2^62] tensor is still refused, since the array
        // types that hold it check the product of its other axes.
        let n = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d.max(1)))
            .unwrap_or(usize::MAX);
        if n > self.max_elements {
            return Err(format!(
                "the output {shape:?} would hold {n} elements, more than the limit of {}",
                self.max_elements
            ));
        }
        Ok(())
    }

    /// `v` as a device tensor: float host tensors are uploaded; integers and booleans are an
    /// error (the operator needs floats).
    pub fn dev(&self, v: &Value<B>, what: &str) -> Result<Dev<B>, String> {
        match v {
            Value::Dev(d) => Ok(d.clone()),
            Value::Host(h) if h.is_empty() => Err(format!(
                "{what} is empty (shape {:?}); genviz does not compute empty tensors on the device",
                h.shape()
            )),
            Value::Host(h) => match &**h {
                Host::F32(a) => Ok(Dev::upload(
                    a.iter().copied().collect(),
                    a.shape(),
                    &self.device,
                )),
                other => Err(format!(
                    "{what} is a tensor of {}; expected floats",
                    other.elem()
                )),
            },
        }
    }

    /// Integer indices on the device, in the backend's integer type.
    pub fn int_tensor(&self, values: Vec<i64>) -> burn::tensor::ops::IntTensor<B> {
        let n = values.len();
        let dtype = burn::tensor::get_device_settings::<B>(&self.device).int_dtype;
        let data = TensorData::new(values, [n]).convert_dtype(dtype.into());
        B::int_from_data(data, &self.device)
    }
}

/// Refuses a device result with no elements: burn's kernels do not take empty tensors.
pub(crate) fn nonempty(shape: &[usize]) -> Result<(), String> {
    if shape.contains(&0) {
        return Err(format!(
            "the result {shape:?} is empty; genviz does not compute empty tensors on the device"
        ));
    }
    Ok(())
}

/// An operator: the node (for attributes), its inputs (`None` where optional and absent) and
/// the context; returns the node's outputs in order.
pub type OpFn<B> = fn(&Node, &[Option<Value<B>>], &mut Ctx<B>) -> Result<Vec<Value<B>>, String>;

/// Input `k`, which the operator requires.
pub(crate) fn input<'a, B: Backend>(
    inputs: &'a [Option<Value<B>>],
    k: usize,
    what: &str,
) -> Result<&'a Value<B>, String> {
    inputs
        .get(k)
        .and_then(Option::as_ref)
        .ok_or_else(|| format!("input {k} ({what}) is missing"))
}

/// Input `k` if given.
pub(crate) fn optional<B: Backend>(inputs: &[Option<Value<B>>], k: usize) -> Option<&Value<B>> {
    inputs.get(k).and_then(Option::as_ref)
}

/// A host integer tensor's values (shapes, axes, indices).
pub(crate) fn ints<B: Backend>(v: &Value<B>, what: &str) -> Result<Vec<i64>, String> {
    match v {
        Value::Host(h) => h
            .ints()
            .ok_or_else(|| format!("{what} is a tensor of {}; expected integers", h.elem())),
        Value::Dev(_) => Err(format!("{what} is a float tensor; expected integers")),
    }
}

/// A one-element tensor's value as `f64` (read back from the device if need be).
pub(crate) fn scalar<B: Backend>(v: &Value<B>, what: &str) -> Result<f64, String> {
    let values = match v {
        Value::Host(h) => h
            .to_f32_vec()
            .into_iter()
            .map(f64::from)
            .collect::<Vec<_>>(),
        Value::Dev(d) => d.download().into_iter().map(f64::from).collect(),
    };
    match (values.as_slice(), v) {
        ([x], _) => Ok(*x),
        (_, Value::Host(h)) if h.elem() == Elem::Int && h.len() == 1 => {
            Ok(h.ints().unwrap()[0] as f64)
        }
        _ => Err(format!(
            "{what} has shape {:?}; expected a single value",
            v.shape()
        )),
    }
}

/// An axis attribute or input in `-rank..rank`, made non-negative.
pub(crate) fn axis(a: i64, rank: usize, what: &str) -> Result<usize, String> {
    let r = rank as i64;
    if a < -r || a >= r.max(1) {
        return Err(format!(
            "{what} {a} is outside -{r}..{r} for a rank-{rank} input"
        ));
    }
    Ok(if a < 0 { (a + r) as usize } else { a as usize })
}

macro_rules! op_table {
    ($($name:literal => $f:expr,)*) => {
        /// Every operator genviz interprets, by ONNX name.
        pub const SUPPORTED_OPS: &[&str] = &[$($name),*];

        /// The function of operator `op`.
        pub fn lookup<B: Backend>(op: &str) -> Option<OpFn<B>> {
            match op {
                $($name => {
                    let f: OpFn<B> = $f;
                    Some(f)
                })*
                _ => None,
            }
        }
    };
}

use elementwise::*;
use nn::*;
use shape::*;

op_table! {
    "Abs" => abs,
    "Add" => |_, i, c| arith(i, c, Arith::Add),
    "And" => |_, i, c| logical(i, c, |x, y| x && y),
    "AveragePool" => average_pool,
    "BatchNormalization" => batch_normalization,
    "Cast" => cast,
    "CastLike" => cast_like,
    "Ceil" => |_, i, _| unary(i, f32::ceil, B::float_ceil),
    "Clip" => clip,
    "Concat" => concat,
    "Constant" => constant,
    "ConstantOfShape" => constant_of_shape,
    "Conv" => conv,
    "Div" => |_, i, c| arith(i, c, Arith::Div),
    "Dropout" => dropout,
    "Equal" => |_, i, c| compare(i, c, Cmp::Eq),
    "Erf" => |_, i, _| unary(i, |x| erf_f64(f64::from(x)) as f32, B::float_erf),
    "Exp" => |_, i, _| unary(i, f32::exp, B::float_exp),
    "Expand" => expand,
    "Flatten" => flatten,
    "Floor" => |_, i, _| unary(i, f32::floor, B::float_floor),
    "Gather" => gather,
    "Gelu" => gelu,
    "Gemm" => gemm,
    "GlobalAveragePool" => global_average_pool,
    "Greater" => |_, i, c| compare(i, c, Cmp::Gt),
    "GreaterOrEqual" => |_, i, c| compare(i, c, Cmp::Ge),
    "HardSigmoid" => hard_sigmoid,
    "HardSwish" => hard_swish,
    "Identity" => |_, i, _| Ok(vec![input(i, 0, "input")?.clone()]),
    "LayerNormalization" => layer_normalization,
    "LeakyRelu" => leaky_relu,
    "Less" => |_, i, c| compare(i, c, Cmp::Lt),
    "LessOrEqual" => |_, i, c| compare(i, c, Cmp::Le),
    "Log" => |_, i, _| unary(i, f32::ln, B::float_log),
    "LogSoftmax" => log_softmax,
    "MatMul" => matmul,
    "Max" => |_, i, c| fold(i, c, Fold::Max),
    "MaxPool" => max_pool,
    "Min" => |_, i, c| fold(i, c, Fold::Min),
    "Mod" => modulo,
    "Mul" => |_, i, c| arith(i, c, Arith::Mul),
    "Neg" => neg,
    "Not" => not,
    "Or" => |_, i, c| logical(i, c, |x, y| x || y),
    "Pad" => pad,
    "Pow" => |_, i, c| arith(i, c, Arith::Pow),
    "Range" => range,
    "Reciprocal" => |_, i, _| unary(i, |x| 1.0 / x, B::float_recip),
    "ReduceMax" => reduce_max,
    "ReduceMean" => reduce_mean,
    "ReduceSum" => reduce_sum,
    "Relu" => |_, i, _| unary(i, |x| x.max(0.0), B::relu),
    "Reshape" => reshape,
    "Shape" => shape_of,
    "Sigmoid" => |_, i, _| unary(i, |x| 1.0 / (1.0 + (-x).exp()), B::sigmoid),
    "Size" => size,
    "Slice" => slice,
    "Softmax" => softmax,
    "Softplus" => softplus,
    "Split" => split,
    "Sqrt" => |_, i, _| unary(i, f32::sqrt, B::float_sqrt),
    "Squeeze" => squeeze,
    "Sub" => |_, i, c| arith(i, c, Arith::Sub),
    "Sum" => |_, i, c| fold(i, c, Fold::Sum),
    "Tanh" => |_, i, _| unary(i, f32::tanh, B::float_tanh),
    "Transpose" => transpose,
    "Unsqueeze" => unsqueeze,
    "Where" => where_op,
}

/// Runs `node` on `inputs`; a failure names the node, its operator and its inputs' shapes.
pub fn run<B: Backend>(
    node: &Node,
    inputs: &[Option<Value<B>>],
    ctx: &mut Ctx<B>,
) -> Result<Vec<Value<B>>, String> {
    let f =
        lookup::<B>(&node.op).ok_or_else(|| format!("{}: unsupported operator", node.label()))?;
    f(node, inputs, ctx).map_err(|e| {
        let shapes: Vec<String> = inputs
            .iter()
            .map(|v| v.as_ref().map_or("none".to_string(), Value::describe))
            .collect();
        format!("{} with inputs [{}]: {e}", node.label(), shapes.join(", "))
    })
}

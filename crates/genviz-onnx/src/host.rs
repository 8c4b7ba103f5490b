//! Tensors held on the host: constants, shapes, integer indices and masks.
//!
//! Floating-point activations live on burn's device; everything an ONNX graph computes about
//! shapes (`Shape -> Gather -> Concat -> Reshape`), integer token ids and boolean masks lives
//! here, where a shape is a plain vector and reading it back costs nothing. Integers of every
//! width are held as `i64` and floats of every width as `f32`, the precision genviz computes in.

use crate::proto::{data_type, TensorProto};
use ndarray::{ArrayD, Axis, IxDyn};

/// The element kinds genviz computes with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem {
    /// Floating point (computed as `f32`).
    Float,
    /// Integer (computed as `i64`).
    Int,
    /// Boolean.
    Bool,
}

impl Elem {
    /// The kind of an ONNX element type code, or `None` for strings and complex numbers.
    pub fn of_code(code: i32) -> Option<Elem> {
        use data_type::*;
        match code {
            FLOAT | DOUBLE | FLOAT16 | BFLOAT16 => Some(Elem::Float),
            UINT8 | INT8 | UINT16 | INT16 | INT32 | INT64 | UINT32 | UINT64 => Some(Elem::Int),
            BOOL => Some(Elem::Bool),
            _ => None,
        }
    }

    /// The ONNX code genviz writes for this kind.
    pub fn code(self) -> i32 {
        match self {
            Elem::Float => data_type::FLOAT,
            Elem::Int => data_type::INT64,
            Elem::Bool => data_type::BOOL,
        }
    }
}

impl std::fmt::Display for Elem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Elem::Float => "float",
            Elem::Int => "int",
            Elem::Bool => "bool",
        })
    }
}

/// A tensor on the host.
#[derive(Clone, Debug, PartialEq)]
pub enum Host {
    /// Floating-point values.
    F32(ArrayD<f32>),
    /// Integer values.
    I64(ArrayD<i64>),
    /// Booleans.
    Bool(ArrayD<bool>),
}

/// Applies one generic expression to two tensors of the same kind, keeping the kind; `None`
/// when the kinds differ.
macro_rules! zip_host {
    ($x:expr, $y:expr, ($a:ident, $b:ident) => $body:expr) => {
        match ($x, $y) {
            ($crate::host::Host::F32($a), $crate::host::Host::F32($b)) => {
                Some($crate::host::Host::F32($body))
            }
            ($crate::host::Host::I64($a), $crate::host::Host::I64($b)) => {
                Some($crate::host::Host::I64($body))
            }
            ($crate::host::Host::Bool($a), $crate::host::Host::Bool($b)) => {
                Some($crate::host::Host::Bool($body))
            }
            _ => None,
        }
    };
}
pub(crate) use zip_host;

/// Applies one generic expression to whichever array a [`Host`] holds, keeping its kind.
macro_rules! each {
    ($h:expr, $a:ident => $body:expr) => {
        match $h {
            Host::F32($a) => Host::F32($body),
            Host::I64($a) => Host::I64($body),
            Host::Bool($a) => Host::Bool($body),
        }
    };
}

impl Host {
    /// A float tensor of `shape` (whose product must be `values.len()`).
    pub fn f32(shape: &[usize], values: Vec<f32>) -> Host {
        Host::F32(ArrayD::from_shape_vec(IxDyn(shape), values).expect("shape matches values"))
    }

    /// An integer tensor of `shape`.
    pub fn i64(shape: &[usize], values: Vec<i64>) -> Host {
        Host::I64(ArrayD::from_shape_vec(IxDyn(shape), values).expect("shape matches values"))
    }

    /// A boolean tensor of `shape`.
    pub fn bool(shape: &[usize], values: Vec<bool>) -> Host {
        Host::Bool(ArrayD::from_shape_vec(IxDyn(shape), values).expect("shape matches values"))
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        match self {
            Host::F32(a) => a.shape(),
            Host::I64(a) => a.shape(),
            Host::Bool(a) => a.shape(),
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape().iter().product()
    }

    /// True for a tensor with no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element kind.
    pub fn elem(&self) -> Elem {
        match self {
            Host::F32(_) => Elem::Float,
            Host::I64(_) => Elem::Int,
            Host::Bool(_) => Elem::Bool,
        }
    }

    /// Values as `f32` in row-major order (integers and booleans converted).
    pub fn to_f32_vec(&self) -> Vec<f32> {
        match self {
            Host::F32(a) => a.iter().copied().collect(),
            Host::I64(a) => a.iter().map(|&v| v as f32).collect(),
            Host::Bool(a) => a.iter().map(|&v| f32::from(u8::from(v))).collect(),
        }
    }

    /// Values as `i64` in row-major order, if the tensor holds integers.
    pub fn ints(&self) -> Option<Vec<i64>> {
        match self {
            Host::I64(a) => Some(a.iter().copied().collect()),
            _ => None,
        }
    }

    /// The tensor converted to `to` as ONNX's `Cast` does (floats to integers round toward
    /// zero, anything non-zero is `true`).
    pub fn cast(&self, to: Elem) -> Host {
        match (self, to) {
            (Host::F32(_), Elem::Float)
            | (Host::I64(_), Elem::Int)
            | (Host::Bool(_), Elem::Bool) => self.clone(),
            (Host::F32(a), Elem::Int) => {
                Host::I64(a.mapv(|v| if v.is_nan() { 0 } else { v.trunc() as i64 }))
            }
            (Host::F32(a), Elem::Bool) => Host::Bool(a.mapv(|v| v != 0.0)),
            (Host::I64(a), Elem::Float) => Host::F32(a.mapv(|v| v as f32)),
            (Host::I64(a), Elem::Bool) => Host::Bool(a.mapv(|v| v != 0)),
            (Host::Bool(a), Elem::Float) => Host::F32(a.mapv(|v| f32::from(u8::from(v)))),
            (Host::Bool(a), Elem::Int) => Host::I64(a.mapv(i64::from)),
        }
    }

    /// The same values in a new shape of the same size.
    pub fn reshaped(&self, shape: &[usize]) -> Host {
        each!(self, a => a
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order(IxDyn(shape))
            .expect("sizes agree"))
    }

    /// The elements at `indices` along `axis` (in range; checked by the caller).
    pub fn select(&self, axis: usize, indices: &[usize]) -> Host {
        each!(self, a => a.select(Axis(axis), indices))
    }

    /// Axes permuted: output axis `i` is input axis `perm[i]`.
    pub fn permuted(&self, perm: &[usize]) -> Host {
        each!(self, a => a.clone().permuted_axes(IxDyn(perm)).as_standard_layout().into_owned())
    }

    /// Broadcast to `shape` (compatible; checked by the caller).
    pub fn expanded(&self, shape: &[usize]) -> Host {
        each!(self, a => a.broadcast(IxDyn(shape)).expect("broadcastable").to_owned())
    }

    /// The ONNX element type code genviz writes for this tensor.
    pub fn code(&self) -> i32 {
        self.elem().code()
    }

    /// The tensor as an ONNX `TensorProto` named `name` (float32, int64 or bool, raw bytes).
    pub fn to_proto(&self, name: &str) -> TensorProto {
        let raw: Vec<u8> = match self {
            Host::F32(a) => a.iter().flat_map(|v| v.to_le_bytes()).collect(),
            Host::I64(a) => a.iter().flat_map(|v| v.to_le_bytes()).collect(),
            Host::Bool(a) => a.iter().map(|&v| u8::from(v)).collect(),
        };
        TensorProto {
            dims: self.shape().iter().map(|&d| d as i64).collect(),
            data_type: self.code(),
            name: name.to_string(),
            raw_data: raw,
            ..Default::default()
        }
    }

    /// Decodes an ONNX tensor, checking that its shape and its values agree.
    ///
    /// # Errors
    /// A message (without the tensor's name, which the caller adds) for negative or
    /// overflowing dimensions, external or string data, unknown element types, and values
    /// whose count does not match the shape.
    pub fn from_proto(t: &TensorProto) -> Result<Host, String> {
        if t.data_location == 1 || !t.external_data.is_empty() {
            return Err(
                "keeps its values in an external file, which genviz does not read; \
                 export the model as one file (PyTorch: `external_data=False`)"
                    .to_string(),
            );
        }
        let shape = dims_of(&t.dims)?;
        // Zero axes are skipped so that an empty [0, 2^62] cannot slip through either.
        let spread = shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d.max(1)))
            .filter(|&p| p <= MAX_DECODED)
            .ok_or_else(|| format!("shape {:?} has too many elements", t.dims))?;
        let n = if shape.contains(&0) { 0 } else { spread };
        let code = t.data_type;
        let kind = Elem::of_code(code).ok_or_else(|| {
            format!(
                "has element type {}, which genviz cannot compute with",
                data_type::name(code)
            )
        })?;
        let width = byte_width(code);
        let count_error = |found: usize, field: &str| {
            format!(
                "shape {shape:?} needs {n} values but the tensor holds {found} ({})",
                field
            )
        };
        if !t.raw_data.is_empty() || n == 0 {
            let raw = &t.raw_data;
            if n.checked_mul(width) != Some(raw.len()) {
                return Err(count_error(raw.len() / width.max(1), "raw_data"));
            }
            let chunks = raw.chunks_exact(width);
            return Ok(match kind {
                Elem::Float => Host::f32(&shape, chunks.map(|c| float_from_le(code, c)).collect()),
                Elem::Int => Host::i64(&shape, chunks.map(|c| int_from_le(code, c)).collect()),
                Elem::Bool => Host::bool(&shape, chunks.map(|c| c[0] != 0).collect()),
            });
        }
        use data_type::*;
        let host = match code {
            FLOAT => {
                if t.float_data.len() != n {
                    return Err(count_error(t.float_data.len(), "float_data"));
                }
                Host::f32(&shape, t.float_data.clone())
            }
            DOUBLE => {
                if t.double_data.len() != n {
                    return Err(count_error(t.double_data.len(), "double_data"));
                }
                Host::f32(&shape, t.double_data.iter().map(|&v| v as f32).collect())
            }
            FLOAT16 | BFLOAT16 => {
                if t.int32_data.len() != n {
                    return Err(count_error(t.int32_data.len(), "int32_data"));
                }
                let values = t
                    .int32_data
                    .iter()
                    .map(|&v| half_to_f32(code, v as u16))
                    .collect();
                Host::f32(&shape, values)
            }
            INT64 => {
                if t.int64_data.len() != n {
                    return Err(count_error(t.int64_data.len(), "int64_data"));
                }
                Host::i64(&shape, t.int64_data.clone())
            }
            UINT32 | UINT64 => {
                if t.uint64_data.len() != n {
                    return Err(count_error(t.uint64_data.len(), "uint64_data"));
                }
                Host::i64(&shape, t.uint64_data.iter().map(|&v| v as i64).collect())
            }
            BOOL => {
                if t.int32_data.len() != n {
                    return Err(count_error(t.int32_data.len(), "int32_data"));
                }
                Host::bool(&shape, t.int32_data.iter().map(|&v| v != 0).collect())
            }
            _ => {
                if t.int32_data.len() != n {
                    return Err(count_error(t.int32_data.len(), "int32_data"));
                }
                Host::i64(&shape, t.int32_data.iter().map(|&v| i64::from(v)).collect())
            }
        };
        Ok(host)
    }
}

/// The most elements a decoded tensor may span (2^40): far beyond any file's contents, small
/// enough for every array type.
const MAX_DECODED: usize = 1 << 40;

/// Checks ONNX dimensions (non-negative) and converts them.
pub fn dims_of(dims: &[i64]) -> Result<Vec<usize>, String> {
    dims.iter()
        .map(|&d| {
            usize::try_from(d).map_err(|_| format!("shape {dims:?} has a negative dimension"))
        })
        .collect()
}

fn byte_width(code: i32) -> usize {
    use data_type::*;
    match code {
        UINT8 | INT8 | BOOL => 1,
        UINT16 | INT16 | FLOAT16 | BFLOAT16 => 2,
        FLOAT | INT32 | UINT32 => 4,
        _ => 8,
    }
}

fn float_from_le(code: i32, c: &[u8]) -> f32 {
    use data_type::*;
    match code {
        FLOAT => f32::from_le_bytes([c[0], c[1], c[2], c[3]]),
        DOUBLE => f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32,
        _ => half_to_f32(code, u16::from_le_bytes([c[0], c[1]])),
    }
}

fn int_from_le(code: i32, c: &[u8]) -> i64 {
    use data_type::*;
    match code {
        UINT8 => i64::from(c[0]),
        INT8 => i64::from(c[0] as i8),
        UINT16 => i64::from(u16::from_le_bytes([c[0], c[1]])),
        INT16 => i64::from(i16::from_le_bytes([c[0], c[1]])),
        INT32 => i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        UINT32 => i64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        _ => i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
    }
}

fn half_to_f32(code: i32, bits: u16) -> f32 {
    if code == data_type::BFLOAT16 {
        burn::tensor::bf16::from_bits(bits).to_f32()
    } else {
        burn::tensor::f16::from_bits(bits).to_f32()
    }
}

/// The shape two shapes broadcast to under ONNX's (numpy's) rules, or `None`.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i + a.len() >= rank {
            a[i + a.len() - rank]
        } else {
            1
        };
        let db = if i + b.len() >= rank {
            b[i + b.len() - rank]
        } else {
            1
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_encoding_and_checks_counts() {
        let raw = TensorProto {
            dims: vec![2],
            data_type: data_type::FLOAT,
            raw_data: [1.5f32, -2.0]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
            ..Default::default()
        };
        assert_eq!(
            Host::from_proto(&raw).unwrap(),
            Host::f32(&[2], vec![1.5, -2.0])
        );
        let ints = TensorProto {
            dims: vec![3],
            data_type: data_type::INT32,
            int32_data: vec![1, -2, 3],
            ..Default::default()
        };
        assert_eq!(
            Host::from_proto(&ints).unwrap(),
            Host::i64(&[3], vec![1, -2, 3])
        );
        let half = TensorProto {
            dims: vec![1],
            data_type: data_type::FLOAT16,
            raw_data: burn::tensor::f16::from_f32(0.5)
                .to_bits()
                .to_le_bytes()
                .to_vec(),
            ..Default::default()
        };
        assert_eq!(Host::from_proto(&half).unwrap(), Host::f32(&[1], vec![0.5]));
        let short = TensorProto {
            dims: vec![2, 2],
            data_type: data_type::FLOAT,
            float_data: vec![1.0; 3],
            ..Default::default()
        };
        let err = Host::from_proto(&short).unwrap_err();
        assert!(
            err.contains("needs 4 values") && err.contains("holds 3"),
            "{err}"
        );
        let negative = TensorProto {
            dims: vec![-1],
            data_type: data_type::FLOAT,
            ..Default::default()
        };
        assert!(Host::from_proto(&negative)
            .unwrap_err()
            .contains("negative"));
        let strings = TensorProto {
            dims: vec![1],
            data_type: data_type::STRING,
            string_data: vec![b"a".to_vec()],
            ..Default::default()
        };
        assert!(Host::from_proto(&strings).unwrap_err().contains("string"));
    }

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast_shapes(&[2, 1, 3], &[4, 1]), Some(vec![2, 4, 3]));
        assert_eq!(broadcast_shapes(&[], &[5]), Some(vec![5]));
        assert_eq!(broadcast_shapes(&[2, 3], &[3, 2]), None);
    }

    #[test]
    fn cast_truncates_toward_zero() {
        let h = Host::f32(&[3], vec![-1.7, 2.9, 0.0]);
        assert_eq!(h.cast(Elem::Int), Host::i64(&[3], vec![-1, 2, 0]));
        assert_eq!(
            h.cast(Elem::Bool),
            Host::bool(&[3], vec![true, true, false])
        );
    }
}

//! Files genviz reads and writes: safetensors weights, `.npy`/`.npz` arrays and JSON, all
//! written atomically (a temporary file in the same folder, then a rename), so an interrupted
//! run never leaves a half-written output behind.

use crate::{Error, Layout, Params, Result};
use ndarray::{ArrayD, IxDyn};
use ndarray_npy::{NpzWriter, ReadNpyExt, WriteNpyExt};
use safetensors::{tensor::TensorView, Dtype, SafeTensors};
use std::collections::HashMap;
use std::io::{Cursor, Read, Seek, Write};
use std::path::Path;

/// Writes `bytes` to `path` atomically: readers see the old file or the whole new one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let name = path
        .file_name()
        .ok_or_else(|| Error::invalid(format!("{} is not a file path", path.display())))?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}

/// Reads a whole file, naming it in any error.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// Writes `value` as pretty JSON, atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::invalid(format!("cannot encode {} as JSON: {e}", path.display())))?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// Reads JSON from `path` into `T`, naming the file and the failing field on error.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = read_bytes(path)?;
    serde_json::from_slice(&bytes).map_err(|e| Error::bad_file(path, format!("invalid JSON: {e}")))
}

/// A tensor read from a file: name, shape and values converted to `f32`.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedTensor {
    /// Name in the file.
    pub name: String,
    /// Shape in the file.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub values: Vec<f32>,
}

/// The contents of a safetensors file: tensors in file order plus the free-form metadata.
#[derive(Clone, Debug, Default)]
pub struct TensorFile {
    /// Tensors in the order their data appears in the file.
    pub tensors: Vec<NamedTensor>,
    /// The `__metadata__` table.
    pub metadata: HashMap<String, String>,
}

impl TensorFile {
    /// The tensor called `name`.
    pub fn get(&self, name: &str) -> Option<&NamedTensor> {
        self.tensors.iter().find(|t| t.name == name)
    }
}

/// Checks that every value of every tensor is finite, naming the first that is not by tensor,
/// index (row-major, in the tensor's shape) and value: a NaN in a weight file otherwise shows up
/// much later as a NaN loss with no hint of where it came from.
pub fn check_finite(file: &TensorFile, path: &Path) -> Result<()> {
    for t in &file.tensors {
        if let Some(i) = t.values.iter().position(|v| !v.is_finite()) {
            return Err(Error::bad_file(
                path,
                format!(
                    "tensor `{}` element {:?} (flat index {i}) is {}; weights must be finite numbers",
                    t.name,
                    unravel(i, &t.shape),
                    t.values[i]
                ),
            ));
        }
    }
    Ok(())
}

/// The multi-index of flat position `i` in a row-major array of `shape`.
pub fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (k, &n) in shape.iter().enumerate().rev() {
        if n > 0 {
            index[k] = i % n;
            i /= n;
        }
    }
    index
}

/// Writes `params` as safetensors (float32, PyTorch names and shapes), with `metadata`.
pub fn write_safetensors(
    path: &Path,
    params: &Params,
    metadata: HashMap<String, String>,
) -> Result<()> {
    let bytes = safetensors_bytes(params, metadata)?;
    write_atomic(path, &bytes)
}

/// Encodes `params` as a safetensors file in memory.
pub fn safetensors_bytes(params: &Params, metadata: HashMap<String, String>) -> Result<Vec<u8>> {
    let raw: Vec<(String, Vec<usize>, Vec<u8>)> = params
        .layout()
        .tensors()
        .iter()
        .map(|t| {
            let bytes = params
                .tensor(t)
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect();
            (t.name.clone(), t.shape.clone(), bytes)
        })
        .collect();
    let views = raw
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|v| (name.clone(), v))
                .map_err(|e| Error::invalid(format!("tensor `{name}`: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let meta = if metadata.is_empty() {
        None
    } else {
        Some(metadata)
    };
    safetensors::serialize(views, &meta)
        .map_err(|e| Error::invalid(format!("cannot encode safetensors: {e}")))
}

/// Reads every tensor of a safetensors file, converting F32, F64, F16 and BF16 to `f32`.
pub fn read_safetensors(path: &Path) -> Result<TensorFile> {
    parse_safetensors(&read_bytes(path)?, path)
}

/// Parses the bytes of a safetensors file (see [`read_safetensors`]); `path` only names the
/// file in errors. Malformed bytes give an error, never a panic (this is what the fuzzer runs).
pub fn parse_safetensors(bytes: &[u8], path: &Path) -> Result<TensorFile> {
    let bad = |m: String| Error::bad_file(path, m);
    let (_, meta) = SafeTensors::read_metadata(bytes)
        .map_err(|e| bad(format!("not a safetensors file: {e}")))?;
    let st =
        SafeTensors::deserialize(bytes).map_err(|e| bad(format!("not a safetensors file: {e}")))?;
    let mut order: Vec<(String, usize)> = meta
        .tensors()
        .into_iter()
        .map(|(name, info)| (name, info.data_offsets.0))
        .collect();
    order.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    let mut tensors = Vec::with_capacity(order.len());
    for (name, _) in order {
        let view = st
            .tensor(&name)
            .map_err(|e| bad(format!("tensor `{name}`: {e}")))?;
        let values = decode(view.dtype(), view.data()).ok_or_else(|| {
            bad(format!(
                "tensor `{name}` has dtype {:?}; expected F32, F64, F16 or BF16",
                view.dtype()
            ))
        })?;
        tensors.push(NamedTensor {
            name,
            shape: view.shape().to_vec(),
            values,
        });
    }
    Ok(TensorFile {
        tensors,
        metadata: meta.metadata().clone().unwrap_or_default(),
    })
}

fn decode(dtype: Dtype, data: &[u8]) -> Option<Vec<f32>> {
    Some(match dtype {
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        Dtype::F64 => data
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap()) as f32)
            .collect(),
        Dtype::BF16 => data
            .chunks_exact(2)
            .map(|b| f32::from_bits(u32::from(u16::from_le_bytes([b[0], b[1]])) << 16))
            .collect(),
        Dtype::F16 => data
            .chunks_exact(2)
            .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
            .collect(),
        _ => return None,
    })
}

fn f16_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = (h >> 10) & 0x1f;
    let frac = f32::from(h & 0x3ff);
    sign * match exp {
        0 => frac * 2f32.powi(-24),
        0x1f if frac == 0.0 => f32::INFINITY,
        0x1f => f32::NAN,
        e => (1.0 + frac / 1024.0) * 2f32.powi(i32::from(e) - 15),
    }
}

/// Builds [`Params`] for `layout` from a tensor file, matching tensors by name and checking
/// every shape; extra tensors in the file are an error too, so nothing is silently ignored.
pub fn params_from_tensors(
    layout: std::sync::Arc<Layout>,
    file: &TensorFile,
    path: &Path,
) -> Result<Params> {
    let mut params = Params::zeros(layout.clone());
    for spec in layout.tensors() {
        let t = file.get(&spec.name).ok_or_else(|| {
            Error::bad_file(
                path,
                format!(
                    "tensor `{}` is missing; the model expects shape {:?}",
                    spec.name, spec.shape
                ),
            )
        })?;
        if t.shape != spec.shape {
            return Err(Error::bad_file(
                path,
                format!(
                    "tensor `{}` has shape {:?}, the model expects {:?}",
                    spec.name, t.shape, spec.shape
                ),
            ));
        }
        params.values_mut()[spec.range()].copy_from_slice(&t.values);
    }
    if let Some(extra) = file.tensors.iter().find(|t| layout.get(&t.name).is_none()) {
        return Err(Error::bad_file(
            path,
            format!("tensor `{}` is not part of the model", extra.name),
        ));
    }
    Ok(params)
}

/// An array to put in an `.npz` file.
#[derive(Clone, Debug)]
pub enum NpyArray {
    /// float32 values with a shape.
    F32(Vec<f32>, Vec<usize>),
    /// float64 values with a shape.
    F64(Vec<f64>, Vec<usize>),
    /// int64 values with a shape.
    I64(Vec<i64>, Vec<usize>),
}

impl NpyArray {
    /// A one-dimensional float64 array.
    pub fn f64s(values: Vec<f64>) -> Self {
        let n = values.len();
        NpyArray::F64(values, vec![n])
    }

    /// A one-dimensional int64 array.
    pub fn i64s(values: Vec<i64>) -> Self {
        let n = values.len();
        NpyArray::I64(values, vec![n])
    }

    /// A `[rows, cols]` float64 array of `rows` concatenated (each `cols` long).
    pub fn f64_rows<'a>(rows: impl ExactSizeIterator<Item = &'a [f64]>, cols: usize) -> Self {
        let n = rows.len();
        NpyArray::F64(rows.flatten().copied().collect(), vec![n, cols])
    }
}

fn shaped<T: Clone>(path: &Path, name: &str, values: &[T], shape: &[usize]) -> Result<ArrayD<T>> {
    ArrayD::from_shape_vec(IxDyn(shape), values.to_vec()).map_err(|_| {
        Error::invalid(format!(
            "{}: array `{name}` has {} values, not the shape {shape:?}",
            path.display(),
            values.len()
        ))
    })
}

/// Writes named arrays as an uncompressed `.npz` (what `numpy.savez` writes), atomically.
pub fn write_npz(path: &Path, arrays: &[(&str, NpyArray)]) -> Result<()> {
    let mut npz = NpzWriter::new(Cursor::new(Vec::new()));
    for (name, array) in arrays {
        let res = match array {
            NpyArray::F32(v, s) => npz.add_array(*name, &shaped(path, name, v, s)?),
            NpyArray::F64(v, s) => npz.add_array(*name, &shaped(path, name, v, s)?),
            NpyArray::I64(v, s) => npz.add_array(*name, &shaped(path, name, v, s)?),
        };
        res.map_err(|e| Error::invalid(format!("{}: writing `{name}`: {e}", path.display())))?;
    }
    let bytes = npz
        .finish()
        .map_err(|e| Error::invalid(format!("{}: {e}", path.display())))?
        .into_inner();
    write_atomic(path, &bytes)
}

/// Writes one array as `.npy`, atomically.
pub fn write_npy(path: &Path, array: &NpyArray) -> Result<()> {
    let mut buf = Vec::new();
    let res = match array {
        NpyArray::F32(v, s) => shaped(path, "array", v, s)?.write_npy(&mut buf),
        NpyArray::F64(v, s) => shaped(path, "array", v, s)?.write_npy(&mut buf),
        NpyArray::I64(v, s) => shaped(path, "array", v, s)?.write_npy(&mut buf),
    };
    res.map_err(|e| Error::invalid(format!("{}: {e}", path.display())))?;
    write_atomic(path, &buf)
}

/// A seekable byte source: a file, or bytes in memory.
trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// Checks an `.npy` header against the bytes that follow it before anything is allocated:
/// the element count the header claims must fit in the data (every element takes at least one
/// byte), so a corrupt or hostile 100-byte file cannot ask for terabytes. Returns the shape.
fn check_npy_header(bytes: &[u8]) -> std::result::Result<Vec<usize>, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not an .npy array (it does not start with \\x93NUMPY)".into());
    }
    let (header_len, start): (usize, usize) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(format!(".npy format version {v} is not 1, 2 or 3")),
    };
    let end = start
        .checked_add(header_len)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| {
            format!("the .npy header claims {header_len} bytes, past the end of the data")
        })?;
    let header = String::from_utf8_lossy(&bytes[start..end]);
    let shape_at = header
        .find("'shape'")
        .or_else(|| header.find("\"shape\""))
        .ok_or("the .npy header has no shape")?;
    let rest = &header[shape_at..];
    let (open, close) = match (rest.find('('), rest.find(')')) {
        (Some(o), Some(c)) if o < c => (o, c),
        _ => return Err("the .npy header's shape is not a tuple".into()),
    };
    let shape = rest[open + 1..close]
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            d.parse::<usize>()
                .map_err(|_| format!("shape entry `{d}` is not a whole number"))
        })
        .collect::<std::result::Result<Vec<usize>, String>>()?;
    let elements = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| format!("shape {shape:?} overflows"))?;
    let data = bytes.len() - end;
    if elements > data {
        return Err(format!(
            "the header claims shape {shape:?} ({elements} elements) but only {data} bytes of data follow"
        ));
    }
    Ok(shape)
}

/// Decodes `.npy` bytes as an array of `T`, checking the header first (see [`check_npy_header`]).
fn npy_array<T: ndarray_npy::ReadableElement>(
    bytes: &[u8],
) -> std::result::Result<ArrayD<T>, String> {
    check_npy_header(bytes)?;
    ArrayD::<T>::read_npy(bytes).map_err(|e| e.to_string())
}

/// Decodes `.npy` bytes as `f32` (float32 or float64 data).
fn npy_f32(bytes: &[u8]) -> std::result::Result<(Vec<f32>, Vec<usize>), String> {
    if let Ok(a) = npy_array::<f32>(bytes) {
        return Ok((a.iter().copied().collect(), a.shape().to_vec()));
    }
    let a = npy_array::<f64>(bytes)?;
    Ok((a.iter().map(|&v| v as f32).collect(), a.shape().to_vec()))
}

/// Decodes `.npy` bytes as `f64` (float64 or float32 data).
fn npy_f64(bytes: &[u8]) -> std::result::Result<(Vec<f64>, Vec<usize>), String> {
    if let Ok(a) = npy_array::<f64>(bytes) {
        return Ok((a.iter().copied().collect(), a.shape().to_vec()));
    }
    let a = npy_array::<f32>(bytes)?;
    Ok((
        a.iter().map(|&v| f64::from(v)).collect(),
        a.shape().to_vec(),
    ))
}

/// Decodes `.npy` bytes of any integer type up to 64 bits as `i64`.
fn npy_i64(bytes: &[u8]) -> std::result::Result<(Vec<i64>, Vec<usize>), String> {
    macro_rules! try_int {
        ($t:ty) => {
            if let Ok(a) = npy_array::<$t>(bytes) {
                return Ok((a.iter().map(|&v| v as i64).collect(), a.shape().to_vec()));
            }
        };
    }
    try_int!(i64);
    try_int!(i32);
    try_int!(u8);
    try_int!(u32);
    try_int!(i16);
    try_int!(u16);
    try_int!(i8);
    let a = npy_array::<u64>(bytes)?;
    Ok((a.iter().map(|&v| v as i64).collect(), a.shape().to_vec()))
}

/// An `.npz` file opened for reading arrays by name.
///
/// Arrays are read whole from the archive (genviz writes uncompressed archives, as
/// `numpy.savez` does; compressed entries are refused), and every array's header is checked
/// against its data before anything is allocated.
pub struct Npz {
    path: std::path::PathBuf,
    zip: zip::ZipArchive<Box<dyn ReadSeek>>,
}

impl Npz {
    /// Opens `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        Self::from_reader(Box::new(std::io::BufReader::new(file)), path)
    }

    /// Reads an archive held in memory; `path` only names it in errors.
    pub fn from_bytes(bytes: Vec<u8>, path: &Path) -> Result<Self> {
        Self::from_reader(Box::new(Cursor::new(bytes)), path)
    }

    fn from_reader(reader: Box<dyn ReadSeek>, path: &Path) -> Result<Self> {
        let zip = zip::ZipArchive::new(reader)
            .map_err(|e| Error::bad_file(path, format!("not an .npz file: {e}")))?;
        Ok(Npz {
            path: path.to_path_buf(),
            zip,
        })
    }

    /// Names of the arrays in the file (without numpy's `.npy` suffix).
    pub fn names(&mut self) -> Result<Vec<String>> {
        Ok(self
            .zip
            .file_names()
            .map(|n| n.strip_suffix(".npy").unwrap_or(n).to_string())
            .collect())
    }

    /// The raw `.npy` bytes of array `name` (stored as `name` or `name.npy`, as numpy does).
    fn bytes(&mut self, name: &str) -> Result<Vec<u8>> {
        let entry = [format!("{name}.npy"), name.to_string()]
            .into_iter()
            .find(|n| self.zip.index_for_name(n).is_some());
        let Some(entry) = entry else {
            let names = self.names()?;
            return Err(Error::bad_file(
                &self.path,
                format!("no array `{name}` (the file has {})", names.join(", ")),
            ));
        };
        let mut file = self
            .zip
            .by_name(&entry)
            .map_err(|e| Error::bad_file(&self.path, format!("array `{name}`: {e}")))?;
        // No preallocation from the declared size: the entry's own bytes bound the buffer.
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| Error::bad_file(&self.path, format!("array `{name}`: {e}")))?;
        Ok(bytes)
    }

    fn decode<T>(
        &mut self,
        name: &str,
        expected: &str,
        decode: fn(&[u8]) -> std::result::Result<T, String>,
    ) -> Result<T> {
        let bytes = self.bytes(name)?;
        decode(&bytes).map_err(|e| {
            Error::bad_file(
                &self.path,
                format!("array `{name}`: expected {expected}: {e}"),
            )
        })
    }

    /// Reads array `name` as `f32` (float32 or float64 in the file), with its shape.
    pub fn f32(&mut self, name: &str) -> Result<(Vec<f32>, Vec<usize>)> {
        self.decode(name, "float32 or float64", npy_f32)
    }

    /// Reads array `name` as `f64` (float64 or float32 in the file), with its shape.
    pub fn f64(&mut self, name: &str) -> Result<(Vec<f64>, Vec<usize>)> {
        self.decode(name, "float64 or float32", npy_f64)
    }

    /// Reads array `name` as `i64` (any integer type of up to 64 bits in the file).
    pub fn i64(&mut self, name: &str) -> Result<(Vec<i64>, Vec<usize>)> {
        self.decode(name, "an integer type", npy_i64)
    }
}

/// Reads a standalone `.npy` file as `f32` values with their shape.
pub fn read_npy_f32(path: &Path) -> Result<(Vec<f32>, Vec<usize>)> {
    parse_npy_f32(&read_bytes(path)?, path)
}

/// Parses `.npy` bytes as `f32` values (float32 or float64 data); `path` names them in errors.
pub fn parse_npy_f32(bytes: &[u8], path: &Path) -> Result<(Vec<f32>, Vec<usize>)> {
    parse_npy(bytes, path, npy_f32, "a float32 or float64 .npy array")
}

/// Reads a standalone `.npy` file of integers as `i64` values with their shape.
pub fn read_npy_i64(path: &Path) -> Result<(Vec<i64>, Vec<usize>)> {
    parse_npy_i64(&read_bytes(path)?, path)
}

/// Parses `.npy` bytes of integers as `i64` values; `path` names them in errors.
pub fn parse_npy_i64(bytes: &[u8], path: &Path) -> Result<(Vec<i64>, Vec<usize>)> {
    parse_npy(
        bytes,
        path,
        npy_i64,
        "an .npy array of integer labels (int8..int64 or uint8..uint64)",
    )
}

/// `.npy` bytes decoded by `decode`, its complaint turned into a bad-file error naming `path`
/// and what was `expected`.
fn parse_npy<T>(
    bytes: &[u8],
    path: &Path,
    decode: impl FnOnce(&[u8]) -> std::result::Result<(Vec<T>, Vec<usize>), String>,
    expected: &str,
) -> Result<(Vec<T>, Vec<usize>)> {
    decode(bytes).map_err(|e| Error::bad_file(path, format!("expected {expected}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;
    use std::sync::Arc;

    fn small_params() -> Params {
        let layout = Arc::new(
            Layout::new([
                ("layers.0.weight".to_string(), vec![2, 3], Role::Weight),
                ("layers.0.bias".to_string(), vec![2], Role::Bias),
            ])
            .unwrap(),
        );
        Params::from_vec(layout, (0..8).map(|i| i as f32 * 0.5).collect()).unwrap()
    }

    #[test]
    fn safetensors_round_trip_and_shape_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        let p = small_params();
        let meta = HashMap::from([("k".to_string(), "v".to_string())]);
        write_safetensors(&path, &p, meta).unwrap();
        let file = read_safetensors(&path).unwrap();
        assert_eq!(file.get("layers.0.weight").unwrap().shape, vec![2, 3]);
        assert_eq!(file.metadata["k"], "v");
        let back = params_from_tensors(p.layout().clone(), &file, &path).unwrap();
        assert_eq!(back, p);

        let other = Arc::new(
            Layout::new([
                ("layers.0.weight".to_string(), vec![3, 2], Role::Weight),
                ("layers.0.bias".to_string(), vec![2], Role::Bias),
            ])
            .unwrap(),
        );
        let err = params_from_tensors(other, &file, &path)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("layers.0.weight")
                && err.contains("[2, 3]")
                && err.contains("m.safetensors"),
            "{err}"
        );
    }

    #[test]
    fn npz_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.npz");
        write_npz(
            &path,
            &[
                ("x", NpyArray::F32(vec![1.0, 2.0, 3.0, 4.0], vec![2, 2])),
                ("y", NpyArray::I64(vec![0, 1], vec![2])),
            ],
        )
        .unwrap();
        let mut npz = Npz::open(&path).unwrap();
        assert_eq!(
            npz.f32("x").unwrap(),
            (vec![1.0, 2.0, 3.0, 4.0], vec![2, 2])
        );
        assert_eq!(npz.i64("y").unwrap(), (vec![0, 1], vec![2]));
        let err = npz.f32("z").unwrap_err().to_string();
        assert!(err.contains("no array `z`"), "{err}");
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// An `.npy` of `descr` and `shape` (as Python writes the tuple) followed by `data`.
    fn npy_bytes(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend((header.len() as u16).to_le_bytes());
        out.extend(header.as_bytes());
        out.extend(data);
        out
    }

    #[test]
    fn npy_headers_cannot_ask_for_absurd_memory() {
        let path = Path::new("huge.npy");
        let ok = npy_bytes("<f4", "(2,)", &[0, 0, 128, 63, 0, 0, 0, 64]);
        assert_eq!(parse_npy_f32(&ok, path).unwrap(), (vec![1.0, 2.0], vec![2]));
        // A terabyte claimed by a file of a few dozen bytes is refused before allocating.
        let huge = npy_bytes("<f8", "(1000000, 1000000)", &[0; 16]);
        let e = parse_npy_f32(&huge, path).unwrap_err().to_string();
        assert!(
            e.contains("huge.npy") && e.contains("[1000000, 1000000]") && e.contains("16 bytes"),
            "{e}"
        );
        let e = parse_npy_i64(&huge, path).unwrap_err().to_string();
        assert!(e.contains("claims shape"), "{e}");
        let overflow = npy_bytes("<f8", "(4294967296, 4294967296, 4294967296)", &[]);
        let e = parse_npy_f32(&overflow, path).unwrap_err().to_string();
        assert!(e.contains("overflows"), "{e}");
        for junk in [
            &b""[..],
            b"\x93NUMPY",
            b"\x93NUMPY\x09\x00\x00\x00",
            b"PK\x03\x04",
        ] {
            assert!(parse_npy_f32(junk, path).is_err());
        }
        // The same check guards arrays inside an .npz.
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        zip.start_file("a.npy", stored).unwrap();
        zip.write_all(&npy_bytes("<f4", "(9,)", &[0; 8])).unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        let e = Npz::from_bytes(bytes, Path::new("x.npz"))
            .unwrap()
            .f32("a")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("x.npz") && e.contains("array `a`") && e.contains("claims shape [9]"),
            "{e}"
        );
    }

    #[test]
    fn f16_decoding() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
    }
}

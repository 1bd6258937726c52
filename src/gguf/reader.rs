//! Parsing a GGUF file: header, metadata, tensor infos, data section, every field bounds-checked.
//!
//! The parser reads from a byte slice (an mmap or an in-memory buffer) and never trusts a count,
//! a length or an offset before checking it against the bytes that are left: a corrupt or
//! truncated file gives a [`GgufError`] naming the field and byte offset, never a panic, and no
//! allocation is sized by a header value that the file could not back.

use std::collections::HashMap;

use super::error::{GgufError, GgufErrorKind, Result};
use super::tensor_type::{describe_type_id, TensorType};
use super::value::{Array, StringArray, Value, ValueType};

pub const GGUF_MAGIC: [u8; 4] = *b"GGUF";
pub const DEFAULT_ALIGNMENT: u64 = 32;
/// Nested arrays deeper than this are rejected (the recursion would otherwise follow the file).
const MAX_ARRAY_DEPTH: usize = 8;
const MAX_DIMS: u32 = 4;

/// One tensor's description, with its data location resolved and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    pub ty: TensorType,
    /// GGUF order: `dims[0]` (ne0) is the contiguous dimension.
    pub dims: Vec<u64>,
    /// Absolute byte offset of the data in the file.
    pub offset: u64,
    pub n_bytes: u64,
}

impl TensorInfo {
    pub fn n_elements(&self) -> u64 {
        self.dims.iter().product()
    }

    /// Rows (everything but ne0) of a matrix-like tensor.
    pub fn n_rows(&self) -> u64 {
        self.dims.iter().skip(1).product()
    }
}

/// Everything in a GGUF file except the tensor data.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub version: u32,
    /// In file order.
    pub metadata: Vec<(String, Value)>,
    pub tensors: Vec<TensorInfo>,
    pub alignment: u64,
    /// Absolute offset of the data section.
    pub data_offset: u64,
    pub(crate) key_index: HashMap<String, usize>,
    pub(crate) tensor_index: HashMap<String, usize>,
}

/// Parses the header of a GGUF image. `file` names it in errors.
pub fn parse_header(file: &str, bytes: &[u8]) -> Result<Header> {
    let mut r = Cursor { file, bytes, pos: 0 };
    let magic = r.array::<4>(|| "magic".into())?;
    if magic != GGUF_MAGIC {
        return Err(r.err(GgufErrorKind::BadMagic { found: magic }));
    }
    let version = r.u32(|| "version".into())?;
    if !(2..=3).contains(&version) {
        return Err(r.err(GgufErrorKind::UnsupportedVersion(version)));
    }
    let tensor_count = r.count(|| "tensor count".into(), 8 + 4 + 4 + 8)?;
    let kv_count = r.count(|| "metadata count".into(), 8 + 4 + 1)?;

    let mut metadata = Vec::new();
    let mut key_index = HashMap::new();
    for _ in 0..kv_count {
        let key_at = r.pos;
        let key = r.string(|| "metadata key".into())?;
        let type_at = r.pos;
        let type_id = r.u32(|| format!("type of metadata key {key:?}"))?;
        let ty = ValueType::from_id(type_id).ok_or_else(|| {
            r.err(GgufErrorKind::UnknownValueType { key: key.clone(), offset: type_at as u64, type_id })
        })?;
        let value = r.value(&key, ty, 0)?;
        if key_index.insert(key.clone(), metadata.len()).is_some() {
            return Err(r.err(GgufErrorKind::DuplicateKey { key, offset: key_at as u64 }));
        }
        metadata.push((key, value));
    }

    let alignment = match key_index.get("general.alignment").map(|&i| &metadata[i].1) {
        None => DEFAULT_ALIGNMENT,
        Some(v) => match v.as_u64() {
            Some(a) if a.is_power_of_two() => a,
            Some(a) => return Err(r.err(GgufErrorKind::BadAlignment(a))),
            None => {
                return Err(r.err(GgufErrorKind::WrongType {
                    key: "general.alignment".into(),
                    expected: "an unsigned integer".into(),
                    found: v.describe(),
                }))
            }
        },
    };

    let mut raw_tensors = Vec::new();
    let mut tensor_index = HashMap::new();
    for _ in 0..tensor_count {
        let info_at = r.pos as u64;
        let name = r.string(|| "tensor name".into())?;
        let n_dims = r.u32(|| format!("dimension count of tensor {name:?}"))?;
        if n_dims == 0 || n_dims > MAX_DIMS {
            return Err(r.err(GgufErrorKind::BadDimCount { tensor: name, offset: info_at, n_dims }));
        }
        let mut dims = Vec::with_capacity(n_dims as usize);
        for d in 0..n_dims {
            dims.push(r.u64(|| format!("dimension {d} of tensor {name:?}"))?);
        }
        let type_id = r.u32(|| format!("type of tensor {name:?}"))?;
        let ty = TensorType::from_id(type_id).ok_or_else(|| {
            r.err(GgufErrorKind::UnsupportedTensorType {
                tensor: name.clone(),
                offset: info_at,
                type_desc: describe_type_id(type_id),
            })
        })?;
        let rel_offset = r.u64(|| format!("data offset of tensor {name:?}"))?;
        if tensor_index.insert(name.clone(), raw_tensors.len()).is_some() {
            return Err(r.err(GgufErrorKind::DuplicateTensor { tensor: name, offset: info_at }));
        }
        raw_tensors.push((name, ty, dims, rel_offset));
    }

    let data_offset = align_up(r.pos as u64, alignment).ok_or_else(|| {
        r.err(GgufErrorKind::Truncated {
            what: "data section".into(),
            offset: r.pos as u64,
            need: alignment,
            file_size: bytes.len() as u64,
        })
    })?;
    let file_size = bytes.len() as u64;
    let mut tensors = Vec::with_capacity(raw_tensors.len());
    for (name, ty, dims, rel_offset) in raw_tensors {
        let n_bytes = ty.tensor_bytes(&dims).map_err(|reason| {
            r.err(GgufErrorKind::BadShape { tensor: name.clone(), shape: dims.clone(), ty: ty.to_string(), reason })
        })?;
        if rel_offset % alignment != 0 {
            return Err(r.err(GgufErrorKind::Misaligned { tensor: name, offset: rel_offset, alignment }));
        }
        let start = data_offset.checked_add(rel_offset);
        let end = start.and_then(|s| s.checked_add(n_bytes));
        match (start, end) {
            (Some(start), Some(end)) if end <= file_size => {
                tensors.push(TensorInfo { name, ty, dims, offset: start, n_bytes })
            }
            _ => {
                return Err(r.err(GgufErrorKind::OutOfBounds {
                    tensor: name,
                    start: data_offset.saturating_add(rel_offset),
                    end: data_offset.saturating_add(rel_offset).saturating_add(n_bytes),
                    file_size,
                }))
            }
        }
    }
    check_overlaps(&r, &tensors)?;

    Ok(Header { version, metadata, tensors, alignment, data_offset, key_index, tensor_index })
}

fn check_overlaps(r: &Cursor, tensors: &[TensorInfo]) -> Result<()> {
    let mut by_offset: Vec<&TensorInfo> = tensors.iter().collect();
    by_offset.sort_by_key(|t| t.offset);
    for pair in by_offset.windows(2) {
        if pair[0].offset + pair[0].n_bytes > pair[1].offset {
            return Err(r.err(GgufErrorKind::Overlap {
                first: pair[0].name.clone(),
                second: pair[1].name.clone(),
                offset: pair[1].offset,
            }));
        }
    }
    Ok(())
}

pub fn align_up(x: u64, alignment: u64) -> Option<u64> {
    Some(x.checked_add(alignment - 1)? / alignment * alignment)
}

/// A bounds-checked little-endian reader over the file image.
struct Cursor<'a> {
    file: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn err(&self, kind: GgufErrorKind) -> GgufError {
        GgufError::new(self.file, kind)
    }

    fn remaining(&self) -> u64 {
        (self.bytes.len() - self.pos) as u64
    }

    fn take(&mut self, n: u64, what: impl Fn() -> String) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(self.err(GgufErrorKind::Truncated {
                what: what(),
                offset: self.pos as u64,
                need: n,
                file_size: self.bytes.len() as u64,
            }));
        }
        let bytes: &'a [u8] = self.bytes;
        let start = self.pos;
        self.pos += n as usize;
        Ok(&bytes[start..self.pos])
    }

    fn array<const N: usize>(&mut self, what: impl Fn() -> String) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N as u64, what)?);
        Ok(out)
    }

    fn u32(&mut self, what: impl Fn() -> String) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: impl Fn() -> String) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// Reads a count and checks that `count` items of at least `min_bytes` each fit in the rest.
    fn count(&mut self, what: impl Fn() -> String, min_bytes: u64) -> Result<usize> {
        let at = self.pos as u64;
        let count = self.u64(&what)?;
        match count.checked_mul(min_bytes) {
            Some(need) if need <= self.remaining() => Ok(count as usize),
            _ => Err(self.err(GgufErrorKind::CountTooLarge { what: what(), offset: at, count })),
        }
    }

    fn str(&mut self, what: impl Fn() -> String) -> Result<&'a str> {
        let len = self.u64(|| format!("length of {}", what()))?;
        let at = self.pos as u64;
        let raw = self.take(len, &what)?;
        std::str::from_utf8(raw)
            .map_err(|_| GgufError::new(self.file, GgufErrorKind::BadUtf8 { what: what(), offset: at }))
    }

    fn string(&mut self, what: impl Fn() -> String) -> Result<String> {
        self.str(what).map(str::to_owned)
    }

    fn value(&mut self, key: &str, ty: ValueType, depth: usize) -> Result<Value> {
        let what = || format!("value of {key:?}");
        Ok(match ty {
            ValueType::U8 => Value::U8(self.array::<1>(what)?[0]),
            ValueType::I8 => Value::I8(i8::from_le_bytes(self.array(what)?)),
            ValueType::U16 => Value::U16(u16::from_le_bytes(self.array(what)?)),
            ValueType::I16 => Value::I16(i16::from_le_bytes(self.array(what)?)),
            ValueType::U32 => Value::U32(u32::from_le_bytes(self.array(what)?)),
            ValueType::I32 => Value::I32(i32::from_le_bytes(self.array(what)?)),
            ValueType::F32 => Value::F32(f32::from_le_bytes(self.array(what)?)),
            ValueType::Bool => Value::Bool(self.array::<1>(what)?[0] != 0),
            ValueType::String => Value::String(self.string(what)?),
            ValueType::Array => Value::Array(self.array_value(key, depth)?),
            ValueType::U64 => Value::U64(u64::from_le_bytes(self.array(what)?)),
            ValueType::I64 => Value::I64(i64::from_le_bytes(self.array(what)?)),
            ValueType::F64 => Value::F64(f64::from_le_bytes(self.array(what)?)),
        })
    }

    fn array_value(&mut self, key: &str, depth: usize) -> Result<Array> {
        if depth >= MAX_ARRAY_DEPTH {
            return Err(self.err(GgufErrorKind::NestingTooDeep { key: key.into(), max_depth: MAX_ARRAY_DEPTH }));
        }
        let type_at = self.pos as u64;
        let type_id = self.u32(|| format!("array element type of {key:?}"))?;
        let elem = ValueType::from_id(type_id)
            .ok_or_else(|| self.err(GgufErrorKind::UnknownValueType { key: key.into(), offset: type_at, type_id }))?;
        let n = self.count(|| format!("array length of {key:?}"), elem.min_bytes())?;
        let item = || format!("array of {key:?}");
        // Fixed-size elements: one bounds check for the whole run, then decode in place.
        macro_rules! fixed {
            ($variant:ident, $t:ty) => {{
                const SIZE: usize = std::mem::size_of::<$t>();
                let raw = self.take((n * SIZE) as u64, item)?;
                Array::$variant(
                    raw.chunks_exact(SIZE).map(|c| <$t>::from_le_bytes(c.try_into().unwrap_or_default())).collect(),
                )
            }};
        }
        Ok(match elem {
            ValueType::U8 => Array::U8(self.take(n as u64, item)?.to_vec()),
            ValueType::I8 => fixed!(I8, i8),
            ValueType::U16 => fixed!(U16, u16),
            ValueType::I16 => fixed!(I16, i16),
            ValueType::U32 => fixed!(U32, u32),
            ValueType::I32 => fixed!(I32, i32),
            ValueType::F32 => fixed!(F32, f32),
            ValueType::U64 => fixed!(U64, u64),
            ValueType::I64 => fixed!(I64, i64),
            ValueType::F64 => fixed!(F64, f64),
            ValueType::Bool => Array::Bool(self.take(n as u64, item)?.iter().map(|&b| b != 0).collect()),
            ValueType::String => {
                // First pass: check every length against the file and size the buffer exactly,
                // so the array holds no more memory than the bytes it came from.
                let start = self.pos;
                let mut text_bytes = 0u64;
                for i in 0..n {
                    let len = self.u64(|| format!("length of element {i} of {key:?}"))?;
                    self.take(len, || format!("element {i} of {key:?}"))?;
                    text_bytes += len;
                }
                if text_bytes > u32::MAX as u64 {
                    return Err(self.err(GgufErrorKind::CountTooLarge {
                        what: format!("total text of {key:?}"),
                        offset: start as u64,
                        count: text_bytes,
                    }));
                }
                self.pos = start;
                let mut out = StringArray::with_capacity(n, text_bytes as usize);
                for i in 0..n {
                    out.push(self.str(|| format!("element {i} of {key:?}"))?);
                }
                Array::String(out)
            }
            ValueType::Array => {
                let mut out = Vec::new();
                for _ in 0..n {
                    out.push(self.array_value(key, depth + 1)?);
                }
                Array::Array(out)
            }
        })
    }
}

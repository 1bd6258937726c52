//! An open GGUF file: the bytes (mapped, or owned for in-memory files), the parsed header, and
//! typed access to metadata and tensors, every miss naming the file and the key or tensor.

use std::fs::File;

use memmap2::Mmap;

use super::error::{GgufError, GgufErrorKind, Result};
use super::reader::{parse_header, Header, TensorInfo};
use super::tensor_type::TensorType;
use super::value::{Array, StringArray, Value};

enum Bytes {
    /// A mapping, with the file it maps when it was opened from a path (for [`GgufFile::read_at`]).
    Mapped(Mmap, Option<File>),
    Owned(Vec<u8>),
}

/// A parsed GGUF file whose tensor data are borrowed slices of the file's bytes.
pub struct GgufFile {
    name: String,
    bytes: Bytes,
    header: Header,
}

impl std::fmt::Debug for GgufFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GgufFile").field("name", &self.name).field("tensors", &self.header.tensors.len()).finish()
    }
}

impl GgufFile {
    /// Parses a mapped file; `name` labels it in errors. [`GgufFile::open`] maps a path and calls
    /// this: mapping is `unsafe`, so it lives in `kernels::mmap` with the crate's other `unsafe`.
    /// `file`, the file mapped, lets [`GgufFile::read_at`] read without mapping pages.
    pub fn from_map(name: impl Into<String>, map: Mmap, file: Option<File>) -> Result<Self> {
        let name = name.into();
        let header = parse_header(&name, &map)?;
        Ok(Self { name, bytes: Bytes::Mapped(map, file), header })
    }

    /// Parses a GGUF image held in memory; `name` labels it in errors.
    pub fn from_bytes(name: impl Into<String>, bytes: Vec<u8>) -> Result<Self> {
        let name = name.into();
        let header = parse_header(&name, &bytes)?;
        Ok(Self { name, bytes: Bytes::Owned(bytes), header })
    }

    /// The path (or label) the file was opened with.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn file_size(&self) -> u64 {
        self.bytes().len() as u64
    }

    /// The whole file's bytes (tensor data are at [`TensorInfo::offset`]).
    pub fn bytes(&self) -> &[u8] {
        match &self.bytes {
            Bytes::Mapped(m, _) => m,
            Bytes::Owned(v) => v,
        }
    }

    /// Copies `buf.len()` bytes at `offset` into `buf`. From a file opened by path this is a
    /// read, not an access to the mapping: the pages stay out of our resident set (a mapped read
    /// would also map the pages around it). The range must lie within the file.
    pub fn read_at(&self, offset: usize, buf: &mut [u8]) -> std::io::Result<()> {
        #[cfg(unix)]
        if let Bytes::Mapped(_, Some(file)) = &self.bytes {
            use std::os::unix::fs::FileExt;
            match file.read_exact_at(buf, offset as u64) {
                // The file shrank since it was mapped: reading the mapping takes the one path for
                // a model changed on disk (`kernels::map_fault` names the file and exits).
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
                done => return done,
            }
        }
        buf.copy_from_slice(&self.bytes()[offset..offset + buf.len()]);
        Ok(())
    }

    /// The mapping, for advice such as `WillNeed` (None for in-memory files).
    pub fn mmap(&self) -> Option<&Mmap> {
        match &self.bytes {
            Bytes::Mapped(m, _) => Some(m),
            Bytes::Owned(_) => None,
        }
    }

    fn err(&self, kind: GgufErrorKind) -> GgufError {
        GgufError::new(&self.name, kind)
    }

    // ---- metadata ----

    /// All metadata in file order.
    pub fn metadata(&self) -> &[(String, Value)] {
        &self.header.metadata
    }

    /// Drops the values of `keys` (those present): they read as absent afterwards. The engine
    /// forgets the vocabulary arrays once its tokenizer holds them (6.5 MB for a 128k vocabulary).
    pub fn forget_metadata(&mut self, keys: &[&str]) {
        let header = &mut self.header;
        header.metadata.retain(|(key, _)| !keys.contains(&key.as_str()));
        header.key_index = header.metadata.iter().enumerate().map(|(i, (key, _))| (key.clone(), i)).collect();
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.header.key_index.get(key).map(|&i| &self.header.metadata[i].1)
    }

    fn typed<'a, T>(
        &'a self,
        key: &str,
        expected: &str,
        conv: impl FnOnce(&'a Value) -> Option<T>,
    ) -> Result<Option<T>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => conv(v).map(Some).ok_or_else(|| {
                self.err(GgufErrorKind::WrongType { key: key.into(), expected: expected.into(), found: v.describe() })
            }),
        }
    }

    fn required<T>(&self, key: &str, value: Result<Option<T>>) -> Result<T> {
        value?.ok_or_else(|| self.err(GgufErrorKind::MissingKey { key: key.into() }))
    }

    /// An unsigned integer of any width that fits in u32.
    pub fn opt_u32(&self, key: &str) -> Result<Option<u32>> {
        self.typed(key, "an unsigned integer below 2^32", |v| v.as_u64().and_then(|x| u32::try_from(x).ok()))
    }

    pub fn u32(&self, key: &str) -> Result<u32> {
        self.required(key, self.opt_u32(key))
    }

    pub fn opt_u64(&self, key: &str) -> Result<Option<u64>> {
        self.typed(key, "an unsigned integer", Value::as_u64)
    }

    pub fn opt_f32(&self, key: &str) -> Result<Option<f32>> {
        self.typed(key, "a float", |v| v.as_f64().map(|x| x as f32))
    }

    pub fn f32(&self, key: &str) -> Result<f32> {
        self.required(key, self.opt_f32(key))
    }

    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>> {
        self.typed(key, "a bool", |v| match v {
            Value::Bool(b) => Some(*b),
            _ => None,
        })
    }

    pub fn opt_str(&self, key: &str) -> Result<Option<&str>> {
        self.typed(key, "a string", |v| match v {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        })
    }

    pub fn str(&self, key: &str) -> Result<&str> {
        self.required(key, self.opt_str(key))
    }

    pub fn opt_str_array(&self, key: &str) -> Result<Option<&StringArray>> {
        self.typed(key, "an array of strings", |v| match v {
            Value::Array(Array::String(a)) => Some(a),
            _ => None,
        })
    }

    pub fn str_array(&self, key: &str) -> Result<&StringArray> {
        self.required(key, self.opt_str_array(key))
    }

    pub fn opt_f32_array(&self, key: &str) -> Result<Option<&[f32]>> {
        self.typed(key, "an array of f32", |v| match v {
            Value::Array(Array::F32(a)) => Some(a.as_slice()),
            _ => None,
        })
    }

    pub fn opt_i32_array(&self, key: &str) -> Result<Option<&[i32]>> {
        self.typed(key, "an array of i32", |v| match v {
            Value::Array(Array::I32(a)) => Some(a.as_slice()),
            _ => None,
        })
    }

    /// `general.architecture`.
    pub fn arch(&self) -> Result<&str> {
        self.str("general.architecture")
    }

    /// Architecture-prefixed hyperparameters: `hp.u32("block_count")` reads `{arch}.block_count`.
    pub fn hparams(&self) -> Result<Hparams<'_>> {
        Ok(Hparams { file: self, arch: self.arch()? })
    }

    // ---- tensors ----

    /// All tensors in file order.
    pub fn tensors(&self) -> &[TensorInfo] {
        &self.header.tensors
    }

    pub fn find_tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.header.tensor_index.get(name).map(|&i| &self.header.tensors[i])
    }

    pub fn tensor(&self, name: &str) -> Result<&TensorInfo> {
        self.find_tensor(name).ok_or_else(|| self.err(GgufErrorKind::MissingTensor { tensor: name.into() }))
    }

    /// A tensor that must have exactly these dimensions (GGUF order, ne0 first).
    pub fn tensor_shaped(&self, name: &str, dims: &[u64]) -> Result<&TensorInfo> {
        let t = self.tensor(name)?;
        if t.dims != dims {
            return Err(self.err(GgufErrorKind::WrongShape {
                tensor: name.into(),
                expected: dims.to_vec(),
                got: t.dims.clone(),
            }));
        }
        Ok(t)
    }

    /// Fails naming the tensor when its type is not one of `allowed`.
    pub fn check_tensor_type(&self, t: &TensorInfo, allowed: &[TensorType]) -> Result<()> {
        if allowed.contains(&t.ty) {
            return Ok(());
        }
        let expected = allowed.iter().map(|t| t.name()).collect::<Vec<_>>().join(" or ");
        Err(self.err(GgufErrorKind::WrongTensorType { tensor: t.name.clone(), expected, got: t.ty.to_string() }))
    }

    /// The tensor's bytes, borrowed from the file (checked against the file size at parse time).
    pub fn tensor_data(&self, t: &TensorInfo) -> &[u8] {
        &self.bytes()[t.offset as usize..(t.offset + t.n_bytes) as usize]
    }
}

/// Metadata keys under the architecture's prefix.
#[derive(Clone, Copy)]
pub struct Hparams<'a> {
    file: &'a GgufFile,
    pub arch: &'a str,
}

impl<'a> Hparams<'a> {
    pub fn key(&self, name: &str) -> String {
        format!("{}.{name}", self.arch)
    }

    pub fn u32(&self, name: &str) -> Result<u32> {
        self.file.u32(&self.key(name))
    }

    pub fn opt_u32(&self, name: &str) -> Result<Option<u32>> {
        self.file.opt_u32(&self.key(name))
    }

    pub fn f32(&self, name: &str) -> Result<f32> {
        self.file.f32(&self.key(name))
    }

    pub fn opt_f32(&self, name: &str) -> Result<Option<f32>> {
        self.file.opt_f32(&self.key(name))
    }

    pub fn opt_str(&self, name: &str) -> Result<Option<&'a str>> {
        self.file.opt_str(&self.key(name))
    }
}

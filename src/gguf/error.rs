//! Errors of reading a GGUF file: each names the file and the key, tensor or byte offset at fault.

use thiserror::Error;

/// A GGUF error, with the file it came from.
#[derive(Debug, Error)]
#[error("{file}: {kind}")]
pub struct GgufError {
    /// The file's path as given (or a label for in-memory data).
    pub file: String,
    pub kind: GgufErrorKind,
}

/// What went wrong.
#[derive(Debug, Error, PartialEq)]
pub enum GgufErrorKind {
    #[error("cannot read the file: {0}")]
    Io(String),
    #[error("not a GGUF file: it starts with {found:02x?}, expected \"GGUF\"")]
    BadMagic { found: [u8; 4] },
    #[error("unsupported GGUF version {0} (this build reads versions 2 and 3, little-endian)")]
    UnsupportedVersion(u32),
    #[error(
        "the file is truncated: {what} at byte {offset} needs {need} bytes, but the file ends at byte {file_size}"
    )]
    Truncated { what: String, offset: u64, need: u64, file_size: u64 },
    #[error("{what} at byte {offset} is {count}, more than the rest of the file can hold")]
    CountTooLarge { what: String, offset: u64, count: u64 },
    #[error("metadata key {key:?} at byte {offset} has unknown value type {type_id}")]
    UnknownValueType { key: String, offset: u64, type_id: u32 },
    #[error("metadata key {key:?}: arrays nested deeper than {max_depth} levels")]
    NestingTooDeep { key: String, max_depth: usize },
    #[error("{what} at byte {offset} is not valid UTF-8")]
    BadUtf8 { what: String, offset: u64 },
    #[error("metadata key {key:?} appears twice (second time at byte {offset})")]
    DuplicateKey { key: String, offset: u64 },
    #[error("general.alignment is {0}; it must be a power of two")]
    BadAlignment(u64),
    #[error("tensor {tensor:?} (info at byte {offset}) has {type_desc}")]
    UnsupportedTensorType { tensor: String, offset: u64, type_desc: String },
    #[error("tensor {tensor:?} appears twice (second time at byte {offset})")]
    DuplicateTensor { tensor: String, offset: u64 },
    #[error("tensor {tensor:?} (info at byte {offset}) has {n_dims} dimensions; GGUF allows 1 to 4")]
    BadDimCount { tensor: String, offset: u64, n_dims: u32 },
    #[error("tensor {tensor:?} has shape {shape:?}, which {ty} cannot hold: {reason}")]
    BadShape { tensor: String, shape: Vec<u64>, ty: String, reason: String },
    #[error("tensor {tensor:?}: data offset {offset} is not a multiple of the alignment {alignment}")]
    Misaligned { tensor: String, offset: u64, alignment: u64 },
    #[error("tensor {tensor:?}: data at bytes {start}..{end} lies beyond the end of the file ({file_size} bytes); the file is corrupted or incomplete")]
    OutOfBounds { tensor: String, start: u64, end: u64, file_size: u64 },
    #[error("tensors {first:?} and {second:?} overlap at byte {offset}")]
    Overlap { first: String, second: String, offset: u64 },
    #[error("metadata key {key:?} is missing")]
    MissingKey { key: String },
    #[error("metadata key {key:?} is {found}, expected {expected}")]
    WrongType { key: String, expected: String, found: String },
    #[error("tensor {tensor:?} is missing")]
    MissingTensor { tensor: String },
    #[error("tensor {tensor:?} has wrong shape: expected {expected:?}, got {got:?}")]
    WrongShape { tensor: String, expected: Vec<u64>, got: Vec<u64> },
    #[error("tensor {tensor:?} has type {got}, expected {expected}")]
    WrongTensorType { tensor: String, expected: String, got: String },
}

impl GgufError {
    pub fn new(file: impl Into<String>, kind: GgufErrorKind) -> Self {
        Self { file: file.into(), kind }
    }
}

pub type Result<T, E = GgufError> = std::result::Result<T, E>;

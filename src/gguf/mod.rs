//! GGUF files: reading, writing and the tensor types they hold.
//!
//! [`GgufFile::open`] maps a file and parses its header with every count and offset checked;
//! tensor data stay in the map and are borrowed as slices. [`GgufWriter`] is the inverse, used by
//! `gen-model` and by tests that build small files in memory.

mod error;
mod file;
mod reader;
mod summary;
mod tensor_type;
mod value;
mod writer;

pub use error::{GgufError, GgufErrorKind, Result};
pub use file::{GgufFile, Hparams};
pub use reader::{align_up, parse_header, Header, TensorInfo, DEFAULT_ALIGNMENT, GGUF_MAGIC};
pub use summary::{HyperParams, ModelSummary, TokenizerSummary, TypeStats};
pub use tensor_type::{describe_type_id, TensorType, I2S_BLOCK, I2S_TRAILER};
pub use value::{Array, StringArray, Value, ValueType};
pub use writer::{GgufWriter, TensorSpec};

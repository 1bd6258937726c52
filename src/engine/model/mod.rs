//! A loaded model: configuration, weights borrowed from the mmap, and the forward pass.

mod attention;
pub mod config;
mod forward;
pub mod matmul;
pub mod ops;
pub mod weights;

use std::path::Path;
use std::sync::Arc;

use crate::engine::protocol::LmHead;
use crate::gguf::{GgufFile, TensorType};
use crate::kernels::dot::f16_slice;
use crate::kernels::i8_rows::I8Rows;

pub use config::{Arch, FfnActivation, ModelConfig, RopeStyle};
pub use forward::{LogitsWanted, RunState};
pub use weights::{Layer, Linear, Weights};

use super::kv_cache::KvCache;

/// Tokens per forward call during prefill: large enough to reuse each weight row for many
/// tokens, small enough to keep activations in cache and to honour Cancel often.
pub const PREFILL_BATCH: usize = 128;

/// A model ready to run: the mapped file, its configuration and its weights.
pub struct Model {
    pub file: Arc<GgufFile>,
    pub config: ModelConfig,
    pub weights: Weights,
    /// The LM head repacked to int8 rows (`--lm-head q8`); None uses the file's tensor.
    pub head_i8: Option<I8Rows>,
}

impl Model {
    /// Opens, checks and indexes a GGUF model (no tensor data are copied except the norms).
    pub fn load(path: impl AsRef<Path>) -> anyhow::Result<Self> {
        let file = Arc::new(GgufFile::open(path)?);
        Self::from_file(file)
    }

    pub fn from_file(file: Arc<GgufFile>) -> anyhow::Result<Self> {
        let config = ModelConfig::from_gguf(&file)?;
        let weights = Weights::load(&file, &config)?;
        Ok(Self { file, config, weights, head_i8: None })
    }

    /// Holds the LM head in `format`: a head stored in F16 can be repacked to int8 rows (in
    /// parallel on the current rayon pool); any other stored format is kept as is.
    pub fn set_lm_head(&mut self, format: LmHead) {
        let head = &self.weights.output;
        self.head_i8 = match (format, head.ty) {
            (LmHead::Q8, TensorType::F16) => {
                let rows = I8Rows::from_f16(f16_slice(&self.file.bytes()[head.bytes.clone()]), head.cols);
                // Only single embedding rows are read from now on; let the rest leave our RSS.
                if let Some(map) = self.file.mmap() {
                    let _ = crate::kernels::mmap::release_range(map, head.bytes.start, head.bytes.len());
                }
                Some(rows)
            }
            _ => None,
        };
    }

    /// A KV cache for `capacity` positions.
    pub fn new_kv_cache(&self, capacity: usize) -> KvCache {
        let c = &self.config;
        KvCache::new(c.n_layers, c.n_kv_heads, c.head_dim, capacity)
    }
}

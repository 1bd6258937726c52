//! A loaded model: configuration, weights borrowed from the mmap, and the forward pass.

mod attention;
pub mod config;
mod forward;
pub mod matmul;
pub mod ops;
pub mod weights;

use std::path::Path;
use std::sync::Arc;

use crate::gguf::GgufFile;

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
        Ok(Self { file, config, weights })
    }

    /// A KV cache for `capacity` positions.
    pub fn new_kv_cache(&self, capacity: usize) -> KvCache {
        let c = &self.config;
        KvCache::new(c.n_layers, c.n_kv_heads, c.head_dim, capacity)
    }
}

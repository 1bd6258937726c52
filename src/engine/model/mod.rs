//! A loaded model: configuration, weights borrowed from the mmap, and the forward pass.

pub mod arch;
mod attention;
pub mod config;
mod forward;
mod head;
pub mod matmul;
pub mod names;
pub mod ops;
pub mod weights;

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use crate::engine::protocol::{KvType, LmHead};
use crate::gguf::GgufFile;

pub use arch::{Architecture, FfnActivation, HeadSource, RopeStyle};
pub use config::ModelConfig;
pub use forward::{BatchRow, LogitsWanted, RowKind, RunState};
pub use head::OutputHead;

pub use weights::{Layer, Linear, QkNorm, QkvBias, Weights};

use super::kv_cache::{KvCache, KvPool};

/// Tokens per forward call during prefill: large enough to reuse each weight row for many
/// tokens, small enough to keep activations in cache and to honour Cancel often.
pub const PREFILL_BATCH: usize = 128;

/// A model ready to run: the mapped file, its configuration and its weights.
pub struct Model {
    pub file: Arc<GgufFile>,
    pub config: ModelConfig,
    pub weights: Weights,
    /// The LM head as stored, or repacked at load (`--lm-head q8|q6|q4`).
    pub head: OutputHead,
    /// The format of the KV caches it makes (`--kv`).
    kv_type: KvType,
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
        let head = OutputHead::stored(&weights.output);
        Ok(Self { file, config, weights, head, kv_type: KvType::F16 })
    }

    /// Holds the LM head in `format` (see [`OutputHead::repacked`]). Once a repacked head's F16
    /// rows are read, only single embedding rows are: their pages leave our RSS as they go.
    pub fn set_lm_head(&mut self, format: LmHead) {
        let map = self.file.mmap();
        let release = |bytes: std::ops::Range<usize>| {
            if let Some(map) = map {
                let _ = crate::kernels::mmap::release_range(map, bytes.start, bytes.len());
            }
        };
        self.head = OutputHead::repacked(&self.weights.output, self.file.bytes(), format, &release);
    }

    /// Frees the file's vocabulary arrays (tokens, merges, token types, scores) once a tokenizer
    /// is built from them; nothing else reads them. Only while this model holds the file alone.
    pub fn forget_vocabulary(&mut self) {
        if let Some(file) = Arc::get_mut(&mut self.file) {
            file.forget_metadata(&[
                "tokenizer.ggml.tokens",
                "tokenizer.ggml.merges",
                "tokenizer.ggml.token_type",
                "tokenizer.ggml.scores",
            ]);
        }
    }

    /// Drops the file header's pages (the vocabulary and merges, several MB for a 128k vocabulary)
    /// from our resident set once the tokenizer is built from them: they are read again, from
    /// the page cache, only when metadata is asked for. The page holding the first tensor's data
    /// stays.
    pub fn release_header_pages(&self) {
        let header = self.file.header().data_offset as usize;
        if let Some(map) = self.file.mmap() {
            let _ = crate::kernels::mmap::release_range(map, 0, header - header % 4096);
        }
    }

    /// Appends the stored bytes of each token's embedding row to `raw`. They are read from the
    /// file, not the mapping: a mapped read would leave the row's pages, and the pages the kernel
    /// maps around them, in our resident set, so a long-running process would grow towards the
    /// whole table (657 MB for 2B4T) by clean copies of the file.
    pub fn read_embedding_rows(&self, tokens: impl Iterator<Item = u32>, raw: &mut Vec<u8>) -> anyhow::Result<()> {
        let embd = &self.weights.token_embd;
        raw.clear();
        for token in tokens {
            let range = embd.row_range(token as usize);
            let at = raw.len();
            raw.resize(at + range.len(), 0);
            self.file.read_at(range.start, &mut raw[at..]).map_err(|e| {
                anyhow::anyhow!("{}: reading the embedding row of token {token}: {e}", self.file.name())
            })?;
        }
        Ok(())
    }

    /// Whether the LM head is the token embedding as stored (tied and not repacked), so every
    /// token reads the whole table rather than one row of it.
    fn head_reads_embedding(&self) -> bool {
        match &self.head {
            OutputHead::F16(lin) | OutputHead::Stored(lin) => lin.bytes == self.weights.token_embd.bytes,
            OutputHead::I8(_) | OutputHead::Blocks { .. } => false,
        }
    }

    /// The file ranges every token reads: the tensor data, less the token embedding when only
    /// single rows of it are read. Warming these, and not the embedding, keeps a repacked head's
    /// F16 table out of the resident set at load.
    pub fn per_token_ranges(&self) -> Vec<Range<usize>> {
        let data = self.file.header().data_offset as usize..self.file.bytes().len();
        let embd = &self.weights.token_embd.bytes;
        if self.head_reads_embedding() {
            return vec![data];
        }
        [data.start..embd.start, embd.end..data.end].into_iter().filter(|r| !r.is_empty()).collect()
    }

    /// A KV cache for `capacity` positions.
    pub fn new_kv_cache(&self, capacity: usize) -> KvCache {
        KvCache::new(self.new_kv_pool(), capacity)
    }

    /// An empty pool of per-sequence KV caches, in the model's KV format.
    pub fn new_kv_pool(&self) -> KvPool {
        let c = &self.config;
        KvPool::with_type(c.n_layers, c.n_kv_heads, c.head_dim, self.kv_type)
    }

    /// Makes the KV caches it hands out hold `kind`. Q8_0 takes whole blocks of 32 values, so a
    /// head size that is not a multiple of 32 is refused (naming the file and the key).
    pub fn set_kv_type(&mut self, kind: KvType) -> anyhow::Result<()> {
        let head_dim = self.config.head_dim;
        if kind == KvType::Q8 && !head_dim.is_multiple_of(32) {
            anyhow::bail!(
                "{}: --kv q8 needs a head size that is a multiple of 32 (blocks of 32 values); this model's is \
                 {head_dim} (`attention.key_length` / `embedding_length ÷ attention.head_count`): use --kv f16",
                self.file.name()
            );
        }
        self.kv_type = kind;
        Ok(())
    }
}

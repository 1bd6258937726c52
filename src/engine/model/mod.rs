//! A loaded model: configuration, weights borrowed from the mmap, and the forward pass.

pub mod arch;
mod attention;
pub mod config;
mod forward;
pub mod matmul;
pub mod names;
pub mod ops;
pub mod weights;

use std::path::Path;
use std::sync::Arc;

use crate::engine::protocol::LmHead;
use crate::gguf::{GgufFile, TensorType};
use crate::kernels::dot::f16_slice;
use crate::kernels::i8_rows::I8Rows;
use crate::kernels::q6_k::{self, Q6_K_WEIGHTS};
use crate::kernels::{block_dot, q4};

pub use arch::{Architecture, FfnActivation, OutputHead, RopeStyle};
pub use config::ModelConfig;
pub use forward::{LogitsWanted, RunState};

pub use weights::{Layer, Linear, QkNorm, QkvBias, Weights};

use super::kv_cache::KvCache;

/// Tokens per forward call during prefill: large enough to reuse each weight row for many
/// tokens, small enough to keep activations in cache and to honour Cancel often.
pub const PREFILL_BATCH: usize = 128;

/// A model ready to run: the mapped file, its configuration and its weights.
pub struct Model {
    pub file: Arc<GgufFile>,
    pub config: ModelConfig,
    pub weights: Weights,
    /// The LM head repacked at load (`--lm-head q8|q6|q4`); None uses the file's tensor.
    pub head: Option<RepackedHead>,
}

/// An LM head repacked from the file's F16 rows.
pub enum RepackedHead {
    /// Int8 rows with per-row scales (`--lm-head q8`).
    I8(I8Rows),
    /// Rows of Q6_K or Q4_0 blocks (`--lm-head q6|q4`), multiplied like any matrix of that type:
    /// `lin` describes them within `data`.
    Blocks { lin: Linear, data: Vec<u8> },
}

impl RepackedHead {
    /// Bytes one token's product reads.
    pub fn bytes(&self) -> usize {
        match self {
            Self::I8(rows) => rows.bytes(),
            Self::Blocks { data, .. } => data.len(),
        }
    }
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
        Ok(Self { file, config, weights, head: None })
    }

    /// Holds the LM head in `format`: a head stored in F16 can be repacked to int8 rows, Q6_K or
    /// Q4_0 blocks (in parallel on the current rayon pool); any other stored format is kept as is.
    /// Q6_K needs rows of whole 256-weight super-blocks; heads of other widths get int8 rows.
    pub fn set_lm_head(&mut self, format: LmHead) {
        let head = &self.weights.output;
        if head.ty != TensorType::F16 || format == LmHead::F16 {
            self.head = None;
            return;
        }
        let rows = f16_slice(&self.file.bytes()[head.bytes.clone()]);
        let blocks = |ty: TensorType, quantize: fn(&[f32], &mut Vec<u8>)| {
            let data = quantized_rows(rows, head.cols, ty, quantize);
            let lin = Linear { ty, bytes: 0..data.len(), out_scale: 1.0, ..head.clone() };
            RepackedHead::Blocks { lin, data }
        };
        self.head = Some(match format {
            LmHead::Q4 => blocks(TensorType::Q4_0, q4::quantize_row_q4_0),
            LmHead::Q6 if head.cols.is_multiple_of(Q6_K_WEIGHTS) => blocks(TensorType::Q6K, q6_k::quantize_row_q6_k),
            LmHead::Q6 => {
                tracing::warn!(
                    "--lm-head q6 needs a width that is a multiple of {Q6_K_WEIGHTS}; this head has {} columns, \
                     so it is repacked to int8 rows (q8) instead",
                    head.cols
                );
                RepackedHead::I8(I8Rows::from_f16(rows, head.cols))
            }
            _ => RepackedHead::I8(I8Rows::from_f16(rows, head.cols)),
        });
        // Only single embedding rows are read from now on; let the rest leave our RSS.
        if let Some(map) = self.file.mmap() {
            let _ = crate::kernels::mmap::release_range(map, head.bytes.start, head.bytes.len());
        }
    }

    /// A KV cache for `capacity` positions.
    pub fn new_kv_cache(&self, capacity: usize) -> KvCache {
        let c = &self.config;
        KvCache::new(c.n_layers, c.n_kv_heads, c.head_dim, capacity)
    }
}

/// F16 rows of `cols` values as rows of `ty` blocks made by `quantize`, in parallel.
fn quantized_rows(rows: &[half::f16], cols: usize, ty: TensorType, quantize: fn(&[f32], &mut Vec<u8>)) -> Vec<u8> {
    use rayon::prelude::*;
    rows.par_chunks(cols)
        .flat_map_iter(|row| {
            let x: Vec<f32> = row.iter().map(|v| v.to_f32()).collect();
            let mut out = Vec::with_capacity(block_dot::row_bytes(ty, cols));
            quantize(&x, &mut out);
            out
        })
        .collect()
}

//! The model's tensors: matrices stay in the mmap (we keep their byte ranges), norm vectors are
//! copied out as f32. Every tensor is checked for presence, shape and type at load.

use std::ops::Range;

use crate::gguf::{GgufFile, TensorInfo, TensorType};
use crate::kernels::{dequant, i2_s};

use super::arch::HeadSource;
use super::config::ModelConfig;
use super::names;

/// A weight matrix `rows × cols` (GGUF ne1 × ne0): y[r] = Σ_c W[r][c]·x[c].
#[derive(Debug, Clone)]
pub struct Linear {
    pub name: String,
    pub ty: TensorType,
    pub rows: usize,
    pub cols: usize,
    /// Where the data sit in the file.
    pub bytes: Range<usize>,
    /// Multiplies every output: I2_S's per-tensor scale, or a `bitnet` file's `*.scale` tensor.
    pub out_scale: f32,
}

impl Linear {
    /// A matrix of any type the GGUF reader knows: [`linear`](super::matmul::linear) multiplies
    /// every one (integer dots for I2_S, the block and ternary types; dequantized rows otherwise).
    fn load(file: &GgufFile, name: &str, cols: usize, rows: usize) -> anyhow::Result<Self> {
        let info = file.tensor_shaped(name, &[cols as u64, rows as u64])?;
        let data = file.tensor_data(info);
        let out_scale = match info.ty {
            TensorType::I2S => i2_s::tensor_scale(data, rows * cols),
            _ => 1.0,
        };
        Ok(Self {
            name: name.to_string(),
            ty: info.ty,
            rows,
            cols,
            bytes: info.offset as usize..(info.offset + info.n_bytes) as usize,
            out_scale,
        })
    }

    /// Bytes of one row (I2_S rows carry no scale: it is `out_scale`).
    pub fn row_bytes(&self) -> usize {
        self.ty.row_bytes(self.cols as u64).unwrap_or(0) as usize
    }

    /// The file range of row `r`.
    pub fn row_range(&self, r: usize) -> std::ops::Range<usize> {
        let rb = self.row_bytes();
        self.bytes.start + r * rb..self.bytes.start + (r + 1) * rb
    }

    /// A row's stored bytes dequantized into `out` (without `out_scale` for I2_S, which the
    /// caller applies).
    pub fn dequantize_stored_row(&self, data: &[u8], out: &mut [f32]) {
        dequant::dequantize_row(self.ty, data, 1.0, out);
    }
}

/// One transformer block.
#[derive(Debug, Clone)]
pub struct Layer {
    pub attn_norm: Vec<f32>,
    pub wq: Linear,
    pub wk: Linear,
    pub wv: Linear,
    /// Architectures with QKV bias: added to the projections before RoPE.
    pub qkv_bias: Option<QkvBias>,
    /// Architectures with QK-norm: per-head RMSNorms of Q and K before RoPE.
    pub qk_norm: Option<QkNorm>,
    pub wo: Linear,
    /// BitNet: RMSNorm of the attention output (q_dim wide) before the output projection.
    pub attn_sub_norm: Option<Vec<f32>>,
    pub ffn_norm: Vec<f32>,
    pub w_gate: Linear,
    pub w_up: Linear,
    pub w_down: Linear,
    /// BitNet: RMSNorm before the down projection.
    pub ffn_sub_norm: Option<Vec<f32>>,
}

/// `blk.N.attn_{q,k,v}.bias`: q_dim, kv_dim and kv_dim values.
#[derive(Debug, Clone)]
pub struct QkvBias {
    pub q: Vec<f32>,
    pub k: Vec<f32>,
    pub v: Vec<f32>,
}

impl QkvBias {
    fn load(file: &GgufFile, layer: usize, q_dim: usize, kv_dim: usize) -> anyhow::Result<Self> {
        let bias = |part: &str, len| vector(file, &names::bias(layer, part), len);
        Ok(Self { q: bias(names::ATTN_Q, q_dim)?, k: bias(names::ATTN_K, kv_dim)?, v: bias(names::ATTN_V, kv_dim)? })
    }
}

/// `blk.N.attn_{q,k}_norm.weight`: one head_dim-wide RMSNorm weight each, shared by all heads.
#[derive(Debug, Clone)]
pub struct QkNorm {
    pub q: Vec<f32>,
    pub k: Vec<f32>,
}

impl QkNorm {
    fn load(file: &GgufFile, layer: usize, head_dim: usize) -> anyhow::Result<Self> {
        let norm = |part: &str| vector(file, &names::weight(layer, part), head_dim);
        Ok(Self { q: norm(names::ATTN_Q_NORM)?, k: norm(names::ATTN_K_NORM)? })
    }
}

#[derive(Debug, Clone)]
pub struct Weights {
    /// Token embeddings, `vocab × hidden`; looked up one row per token.
    pub token_embd: Linear,
    pub output_norm: Vec<f32>,
    /// The LM head: `output.weight`, or the tied `token_embd`.
    pub output: Linear,
    pub layers: Vec<Layer>,
}

/// Types whose rows a token's embedding can be read from alone: all but I2_S, whose one scale
/// sits at the end of the tensor.
fn embedding_types() -> Vec<TensorType> {
    TensorType::ALL.into_iter().filter(|&ty| ty != TensorType::I2S).collect()
}

/// An F32 vector of `len` values (norm weights, biases, scales), copied out of the file.
fn vector(file: &GgufFile, name: &str, len: usize) -> anyhow::Result<Vec<f32>> {
    let info: &TensorInfo = file.tensor_shaped(name, &[len as u64])?;
    file.check_tensor_type(info, &[TensorType::F32])?;
    let mut out = vec![0f32; len];
    dequant::dequantize_row(TensorType::F32, file.tensor_data(info), 1.0, &mut out);
    Ok(out)
}

impl Weights {
    pub fn load(file: &GgufFile, c: &ModelConfig) -> anyhow::Result<Self> {
        let h = c.hidden;
        file.check_tensor_type(file.tensor(names::TOKEN_EMBD)?, &embedding_types())?;
        let token_embd = Linear::load(file, names::TOKEN_EMBD, h, c.vocab_size)?;
        let output = match (c.arch.output_head, file.find_tensor(names::OUTPUT)) {
            (HeadSource::OwnOrTied, Some(_)) => Linear::load(file, names::OUTPUT, h, c.vocab_size)?,
            _ => token_embd.clone(),
        };
        let layers = (0..c.n_layers).map(|i| Layer::load(file, c, i)).collect::<anyhow::Result<_>>()?;
        Ok(Self { token_embd, output_norm: vector(file, names::OUTPUT_NORM, h)?, output, layers })
    }
}

impl Layer {
    /// Block `i`, with the optional tensors its architecture's row asks for.
    fn load(file: &GgufFile, c: &ModelConfig, i: usize) -> anyhow::Result<Self> {
        let (h, f, q, kv, arch) = (c.hidden, c.ffn, c.q_dim(), c.kv_dim(), c.arch);
        let norm = |part: &str, len| vector(file, &names::weight(i, part), len);
        let optional_norm = |present: bool, part: &str, len| present.then(|| norm(part, len)).transpose();
        let linear = |part: &str, cols, rows| -> anyhow::Result<Linear> {
            let mut lin = Linear::load(file, &names::weight(i, part), cols, rows)?;
            let scale = names::scale(i, part);
            if arch.scale_tensors && file.find_tensor(&scale).is_some() {
                lin.out_scale *= vector(file, &scale, 1)?[0];
            }
            Ok(lin)
        };
        Ok(Self {
            attn_norm: norm(names::ATTN_NORM, h)?,
            wq: linear(names::ATTN_Q, h, q)?,
            wk: linear(names::ATTN_K, h, kv)?,
            wv: linear(names::ATTN_V, h, kv)?,
            qkv_bias: arch.qkv_bias.then(|| QkvBias::load(file, i, q, kv)).transpose()?,
            qk_norm: arch.qk_norm.then(|| QkNorm::load(file, i, c.head_dim)).transpose()?,
            wo: linear(names::ATTN_OUTPUT, q, h)?,
            // It normalizes the attention output, which is q_dim wide (not hidden).
            attn_sub_norm: optional_norm(arch.sub_norms, names::ATTN_SUB_NORM, q)?,
            ffn_norm: norm(names::FFN_NORM, h)?,
            w_gate: linear(names::FFN_GATE, h, f)?,
            w_up: linear(names::FFN_UP, h, f)?,
            w_down: linear(names::FFN_DOWN, f, h)?,
            ffn_sub_norm: optional_norm(arch.sub_norms, names::FFN_SUB_NORM, f)?,
        })
    }
}

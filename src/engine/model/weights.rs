//! The model's tensors: matrices stay in the mmap (we keep their byte ranges), norm vectors are
//! copied out as f32. Every tensor is checked for presence, shape and type at load.

use std::ops::Range;

use crate::gguf::{GgufFile, TensorInfo, TensorType};
use crate::kernels::{dequant, i2_s};

use super::config::{Arch, ModelConfig};

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
    fn load(file: &GgufFile, name: &str, cols: usize, rows: usize, allowed: &[TensorType]) -> anyhow::Result<Self> {
        let info = file.tensor_shaped(name, &[cols as u64, rows as u64])?;
        file.check_tensor_type(info, allowed)?;
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

    /// Row `r` dequantized into `out` (without `out_scale` for I2_S, which the caller applies).
    pub fn dequantize_row(&self, file_bytes: &[u8], r: usize, out: &mut [f32]) {
        let rb = self.row_bytes();
        let data = &file_bytes[self.bytes.start + r * rb..self.bytes.start + (r + 1) * rb];
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
    pub wo: Linear,
    /// BitNet: RMSNorm before the output projection.
    pub attn_sub_norm: Option<Vec<f32>>,
    pub ffn_norm: Vec<f32>,
    pub w_gate: Linear,
    pub w_up: Linear,
    pub w_down: Linear,
    /// BitNet: RMSNorm before the down projection.
    pub ffn_sub_norm: Option<Vec<f32>>,
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

/// Matrix types each architecture may hold.
fn matrix_types(arch: Arch) -> &'static [TensorType] {
    use TensorType::*;
    match arch {
        Arch::BitnetB158 => &[I2S],
        Arch::Bitnet => &[TQ1_0, TQ2_0, I2S, F16, F32, Q8_0],
        Arch::Llama => &[F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q6K],
    }
}

const EMBEDDING_TYPES: &[TensorType] = {
    use TensorType::*;
    &[F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q6K]
};

fn norm(file: &GgufFile, name: &str, len: usize) -> anyhow::Result<Vec<f32>> {
    let info: &TensorInfo = file.tensor_shaped(name, &[len as u64])?;
    file.check_tensor_type(info, &[TensorType::F32])?;
    let mut out = vec![0f32; len];
    dequant::dequantize_row(TensorType::F32, file.tensor_data(info), 1.0, &mut out);
    Ok(out)
}

/// A `bitnet` file's optional per-tensor scale (`blk.N.attn_q.scale`, F32 [1]).
fn optional_scale(file: &GgufFile, weight_name: &str) -> anyhow::Result<Option<f32>> {
    let name = weight_name.replace(".weight", ".scale");
    match file.find_tensor(&name) {
        None => Ok(None),
        Some(_) => Ok(Some(norm(file, &name, 1)?[0])),
    }
}

impl Weights {
    pub fn load(file: &GgufFile, c: &ModelConfig) -> anyhow::Result<Self> {
        let (h, f, q, kv) = (c.hidden, c.ffn, c.q_dim(), c.kv_dim());
        let token_embd = Linear::load(file, "token_embd.weight", h, c.vocab_size, EMBEDDING_TYPES)?;
        let output = match file.find_tensor("output.weight") {
            // BitNet b1.58's graph always multiplies by token_embd, even if a file had an output (spec B).
            Some(_) if c.arch != Arch::BitnetB158 => {
                Linear::load(file, "output.weight", h, c.vocab_size, EMBEDDING_TYPES)?
            }
            _ => token_embd.clone(),
        };
        let types = matrix_types(c.arch);
        let mut layers = Vec::with_capacity(c.n_layers);
        for i in 0..c.n_layers {
            let name = |t: &str| format!("blk.{i}.{t}.weight");
            let linear = |t: &str, cols, rows| -> anyhow::Result<Linear> {
                let mut lin = Linear::load(file, &name(t), cols, rows, types)?;
                if c.arch == Arch::Bitnet {
                    if let Some(s) = optional_scale(file, &name(t))? {
                        lin.out_scale *= s;
                    }
                }
                Ok(lin)
            };
            let sub_norm = |t: &str, len| c.sub_norms.then(|| norm(file, &name(t), len)).transpose();
            layers.push(Layer {
                attn_norm: norm(file, &name("attn_norm"), h)?,
                wq: linear("attn_q", h, q)?,
                wk: linear("attn_k", h, kv)?,
                wv: linear("attn_v", h, kv)?,
                wo: linear("attn_output", q, h)?,
                attn_sub_norm: sub_norm("attn_sub_norm", h)?,
                ffn_norm: norm(file, &name("ffn_norm"), h)?,
                w_gate: linear("ffn_gate", h, f)?,
                w_up: linear("ffn_up", h, f)?,
                w_down: linear("ffn_down", f, h)?,
                ffn_sub_norm: sub_norm("ffn_sub_norm", f)?,
            });
        }
        Ok(Self { token_embd, output_norm: norm(file, "output_norm.weight", h)?, output, layers })
    }
}

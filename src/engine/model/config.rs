//! Model hyperparameters read from GGUF metadata, checked once at load.

use crate::gguf::GgufFile;

/// The architecture families this engine runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// Microsoft's BitNet b1.58 files (`bitnet-b1.58`, or the older `bitnet-25`): I2_S weights,
    /// per-token int8 activations, sub-norms, squared-ReLU FFN, NEOX RoPE (spec D).
    BitnetB158,
    /// Mainline llama.cpp's `bitnet` conversions: TQ1_0/TQ2_0 weights, optional per-tensor scales,
    /// sub-norms, SiLU FFN unless `bitnet.hidden_activation` says `relu2`.
    Bitnet,
    /// LLaMA-family models (SmolLM2 and friends): standard RMSNorm/RoPE/SwiGLU blocks.
    Llama,
}

impl Arch {
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "bitnet-b1.58" | "bitnet-25" => Some(Self::BitnetB158),
            "bitnet" => Some(Self::Bitnet),
            "llama" => Some(Self::Llama),
            _ => None,
        }
    }
}

/// How RoPE pairs dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RopeStyle {
    /// Pairs (i, i + d/2): GPT-NeoX, BitNet.
    Neox,
    /// Pairs (2i, 2i + 1): LLaMA as converted to GGUF.
    Norm,
}

/// The FFN gate's activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FfnActivation {
    /// relu(x)², BitNet b1.58.
    ReluSquared,
    /// x·sigmoid(x), LLaMA.
    Silu,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    pub arch: Arch,
    pub arch_name: String,
    pub n_layers: usize,
    pub hidden: usize,
    pub ffn: usize,
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub head_dim: usize,
    pub vocab_size: usize,
    /// `{arch}.context_length`: what the model was trained for.
    pub context_length: usize,
    pub rope_base: f32,
    pub rope_style: RopeStyle,
    pub rms_eps: f32,
    pub ffn_activation: FfnActivation,
    /// BitNet's extra RMSNorms before the output and down projections.
    pub sub_norms: bool,
}

impl ModelConfig {
    pub fn kv_dim(&self) -> usize {
        self.n_kv_heads * self.head_dim
    }

    pub fn q_dim(&self) -> usize {
        self.n_heads * self.head_dim
    }

    pub fn from_gguf(file: &GgufFile) -> anyhow::Result<Self> {
        let arch_name = file.arch()?.to_string();
        let arch = Arch::from_name(&arch_name).ok_or_else(|| {
            anyhow::anyhow!(
                "{}: unsupported architecture {arch_name:?} (general.architecture); this build runs \
                 bitnet-b1.58, bitnet-25, bitnet and llama",
                file.name()
            )
        })?;
        let hp = file.hparams()?;
        let n_layers = hp.u32("block_count")? as usize;
        let hidden = hp.u32("embedding_length")? as usize;
        let ffn = hp.u32("feed_forward_length")? as usize;
        let n_heads = hp.u32("attention.head_count")? as usize;
        let n_kv_heads = hp.opt_u32("attention.head_count_kv")?.unwrap_or(n_heads as u32) as usize;
        let fail = |key: &str, why: String| anyhow::anyhow!("{}: {} {why}", file.name(), hp.key(key));
        if n_heads == 0 || !hidden.is_multiple_of(n_heads) {
            return Err(fail("attention.head_count", format!("= {n_heads} does not divide embedding_length {hidden}")));
        }
        if n_kv_heads == 0 || !n_heads.is_multiple_of(n_kv_heads) {
            return Err(fail(
                "attention.head_count_kv",
                format!("= {n_kv_heads} does not divide head_count {n_heads}"),
            ));
        }
        let head_dim = match hp.opt_u32("attention.key_length")? {
            Some(k) => k as usize,
            None => hidden / n_heads,
        };
        let rope_dims = hp.opt_u32("rope.dimension_count")?.map_or(head_dim, |d| d as usize);
        if rope_dims != head_dim || head_dim % 2 != 0 {
            return Err(fail(
                "rope.dimension_count",
                format!("= {rope_dims}, but this engine rotates whole heads of {head_dim} (even) dimensions"),
            ));
        }
        let vocab_size = match hp.opt_u32("vocab_size")? {
            Some(v) => v as usize,
            None => file.str_array("tokenizer.ggml.tokens")?.len(),
        };
        let ffn_activation = match arch {
            Arch::BitnetB158 => FfnActivation::ReluSquared,
            Arch::Bitnet => match hp.opt_str("hidden_activation")? {
                Some("relu2") => FfnActivation::ReluSquared,
                _ => FfnActivation::Silu,
            },
            Arch::Llama => FfnActivation::Silu,
        };
        Ok(Self {
            arch,
            arch_name,
            n_layers,
            hidden,
            ffn,
            n_heads,
            n_kv_heads,
            head_dim,
            vocab_size,
            context_length: hp.u32("context_length")? as usize,
            // The fork's default when the key is absent; 2B4T files say 500000 (spec A.2).
            rope_base: hp.opt_f32("rope.freq_base")?.unwrap_or(10000.0),
            rope_style: match arch {
                Arch::BitnetB158 | Arch::Bitnet => RopeStyle::Neox,
                Arch::Llama => RopeStyle::Norm,
            },
            rms_eps: match arch {
                Arch::BitnetB158 => hp.f32("attention.layer_norm_rms_epsilon")?,
                _ => hp.opt_f32("attention.layer_norm_rms_epsilon")?.unwrap_or(1e-5),
            },
            ffn_activation,
            sub_norms: matches!(arch, Arch::BitnetB158 | Arch::Bitnet),
        })
    }
}

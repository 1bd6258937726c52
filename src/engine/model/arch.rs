//! The architecture table: one row per `general.architecture` family this engine runs, saying
//! as data what differs between them. The loader, the config reader, the tokenizer and the chat
//! format read the row; nothing else matches on architecture names. Tensor names are the same
//! for every row (llama.cpp's `LLM_TENSOR_NAMES`) and live in [`super::names`]; which weight
//! types a file may hold is a question for the kernels, not for the architecture.

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

impl FfnActivation {
    /// The activation named by a `{arch}.hidden_activation` value (as mainline llama.cpp's
    /// `bitnet` converter writes it), None for a name this engine does not run.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "relu2" => Some(Self::ReluSquared),
            "silu" => Some(Self::Silu),
            _ => None,
        }
    }
}

/// Where the LM head comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadSource {
    /// Always `token_embd`, even if the file holds an `output.weight` (BitNet b1.58's graph, spec B).
    Tied,
    /// `output.weight` when the file has one, else `token_embd`.
    OwnOrTied,
}

/// What one architecture family means for loading and running a model.
#[derive(Debug, PartialEq)]
pub struct Architecture {
    /// The `general.architecture` values of this family.
    pub names: &'static [&'static str],
    pub rope_style: RopeStyle,
    /// The FFN activation unless the file's `{arch}.hidden_activation` names another.
    pub ffn_activation: FfnActivation,
    /// RMSNorms before the attention output and down projections (`attn_sub_norm`, `ffn_sub_norm`).
    pub sub_norms: bool,
    pub output_head: HeadSource,
    /// Projections may carry an F32 [1] multiplier tensor (`blk.N.attn_q.scale`), as mainline
    /// llama.cpp's `bitnet` conversions do.
    pub scale_tensors: bool,
    /// Q, K and V projections have bias vectors (`blk.N.attn_q.bias`), added before RoPE.
    pub qkv_bias: bool,
    /// Q and K get a per-head RMSNorm (`blk.N.attn_q_norm.weight`, head_dim wide) before RoPE.
    pub qk_norm: bool,
    /// `{arch}.attention.layer_norm_rms_epsilon` when the file lacks it; None: the key is required.
    pub default_rms_eps: Option<f32>,
    /// The `tokenizer.ggml.pre` value implied when the file has none.
    pub implied_pre_tokenizer: Option<&'static str>,
    /// Conversations use Microsoft's BitNet training format whatever template the file carries.
    pub bitnet_chat_format: bool,
}

/// Every architecture this build runs.
pub static ARCHITECTURES: &[Architecture] = &[BITNET_B158, BITNET, LLAMA];

/// Microsoft's BitNet b1.58 files (`bitnet-25` is the name of its first upload): I2_S weights
/// with one scale per tensor, sub-norms, squared-ReLU FFN, NEOX RoPE (spec D). Its tokenizer is
/// LLaMA 3's, though the file does not say so.
pub const BITNET_B158: Architecture = Architecture {
    names: &["bitnet-b1.58", "bitnet-25"],
    rope_style: RopeStyle::Neox,
    ffn_activation: FfnActivation::ReluSquared,
    sub_norms: true,
    output_head: HeadSource::Tied,
    scale_tensors: false,
    qkv_bias: false,
    qk_norm: false,
    default_rms_eps: None,
    implied_pre_tokenizer: Some("llama3"),
    bitnet_chat_format: true,
};

/// Mainline llama.cpp's `bitnet` conversions: ternary weights, optional per-tensor scales,
/// sub-norms, SiLU FFN unless `bitnet.hidden_activation` says `relu2`.
pub const BITNET: Architecture = Architecture {
    names: &["bitnet"],
    rope_style: RopeStyle::Neox,
    ffn_activation: FfnActivation::Silu,
    sub_norms: true,
    output_head: HeadSource::OwnOrTied,
    scale_tensors: true,
    qkv_bias: false,
    qk_norm: false,
    default_rms_eps: Some(1e-5),
    implied_pre_tokenizer: None,
    bitnet_chat_format: false,
};

/// LLaMA-family models (SmolLM2 and friends): RMSNorm, RoPE and SwiGLU blocks.
pub const LLAMA: Architecture = Architecture {
    names: &["llama"],
    rope_style: RopeStyle::Norm,
    ffn_activation: FfnActivation::Silu,
    sub_norms: false,
    output_head: HeadSource::OwnOrTied,
    scale_tensors: false,
    qkv_bias: false,
    qk_norm: false,
    default_rms_eps: Some(1e-5),
    implied_pre_tokenizer: None,
    bitnet_chat_format: false,
};

impl Architecture {
    /// The row for a `general.architecture` value.
    pub fn by_name(name: &str) -> Option<&'static Self> {
        ARCHITECTURES.iter().find(|a| a.names.contains(&name))
    }

    /// Every name this build runs, for error messages.
    pub fn all_names() -> String {
        let names: Vec<&str> = ARCHITECTURES.iter().flat_map(|a| a.names.iter().copied()).collect();
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_finds_its_own_row_and_no_name_is_shared() {
        for row in ARCHITECTURES {
            for name in row.names {
                assert!(std::ptr::eq(Architecture::by_name(name).unwrap(), row), "{name}");
            }
        }
        assert_eq!(Architecture::by_name("gpt2"), None);
        assert_eq!(Architecture::all_names(), "bitnet-b1.58, bitnet-25, bitnet, llama");
    }

    #[test]
    fn rows_say_what_the_reference_graphs_do() {
        let b158 = Architecture::by_name("bitnet-25").unwrap();
        assert_eq!(
            (b158.rope_style, b158.ffn_activation, b158.output_head),
            (RopeStyle::Neox, FfnActivation::ReluSquared, HeadSource::Tied)
        );
        assert!(b158.sub_norms && b158.default_rms_eps.is_none() && b158.bitnet_chat_format);
        let bitnet = Architecture::by_name("bitnet").unwrap();
        assert!(bitnet.sub_norms && bitnet.scale_tensors);
        assert_eq!(bitnet.ffn_activation, FfnActivation::Silu);
        let llama = Architecture::by_name("llama").unwrap();
        assert_eq!((llama.rope_style, llama.sub_norms), (RopeStyle::Norm, false));
    }
}

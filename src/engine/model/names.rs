//! GGUF tensor names, the same for every architecture in the table (llama.cpp's
//! `LLM_TENSOR_NAMES`). The loader reads and the synthetic generator writes these, so the two
//! cannot disagree.

pub const TOKEN_EMBD: &str = "token_embd.weight";
pub const OUTPUT_NORM: &str = "output_norm.weight";
pub const OUTPUT: &str = "output.weight";

/// The parts of transformer block N, each stored as `blk.N.{part}.weight` (and, for some
/// architectures, `.bias` or `.scale` beside it).
pub const ATTN_NORM: &str = "attn_norm";
pub const ATTN_Q: &str = "attn_q";
pub const ATTN_K: &str = "attn_k";
pub const ATTN_V: &str = "attn_v";
pub const ATTN_Q_NORM: &str = "attn_q_norm";
pub const ATTN_K_NORM: &str = "attn_k_norm";
pub const ATTN_SUB_NORM: &str = "attn_sub_norm";
pub const ATTN_OUTPUT: &str = "attn_output";
pub const FFN_NORM: &str = "ffn_norm";
pub const FFN_GATE: &str = "ffn_gate";
pub const FFN_UP: &str = "ffn_up";
pub const FFN_SUB_NORM: &str = "ffn_sub_norm";
pub const FFN_DOWN: &str = "ffn_down";

/// `blk.{layer}.{part}.weight`.
pub fn weight(layer: usize, part: &str) -> String {
    format!("blk.{layer}.{part}.weight")
}

/// `blk.{layer}.{part}.bias`.
pub fn bias(layer: usize, part: &str) -> String {
    format!("blk.{layer}.{part}.bias")
}

/// `blk.{layer}.{part}.scale`: a projection's F32 [1] multiplier.
pub fn scale(layer: usize, part: &str) -> String {
    format!("blk.{layer}.{part}.scale")
}

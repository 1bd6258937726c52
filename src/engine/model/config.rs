//! Model hyperparameters read from GGUF metadata, checked once at load.

use crate::gguf::GgufFile;

use super::arch::Architecture;
pub use super::arch::{FfnActivation, RopeStyle};

#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    /// The architecture's row in the table.
    pub arch: &'static Architecture,
    /// `general.architecture` as the file spells it.
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
        let arch = Architecture::by_name(&arch_name).ok_or_else(|| {
            anyhow::anyhow!(
                "{}: unsupported architecture {arch_name:?} (general.architecture); this build runs {}",
                file.name(),
                Architecture::all_names()
            )
        })?;
        let hp = file.hparams()?;
        let n_layers = hp.u32("block_count")? as usize;
        let hidden = hp.u32("embedding_length")? as usize;
        let ffn = hp.u32("feed_forward_length")? as usize;
        let n_heads = hp.u32("attention.head_count")? as usize;
        let n_kv_heads = hp.opt_u32("attention.head_count_kv")?.unwrap_or(n_heads as u32) as usize;
        let fail = |key: &str, why: String| anyhow::anyhow!("{}: {} {why}", file.name(), hp.key(key));
        if n_heads == 0 {
            return Err(fail("attention.head_count", "= 0".into()));
        }
        if n_kv_heads == 0 || !n_heads.is_multiple_of(n_kv_heads) {
            return Err(fail(
                "attention.head_count_kv",
                format!("= {n_kv_heads} does not divide head_count {n_heads}"),
            ));
        }
        // Heads may be narrower or wider than hidden / heads when the file says so (llama.cpp's
        // n_embd_head_k); the Q and attention-output widths are then heads × key_length.
        let head_dim = match hp.opt_u32("attention.key_length")? {
            Some(0) => return Err(fail("attention.key_length", "= 0".into())),
            Some(k) => k as usize,
            None if hidden.is_multiple_of(n_heads) => hidden / n_heads,
            None => {
                return Err(fail(
                    "attention.head_count",
                    format!(
                        "= {n_heads} does not divide embedding_length {hidden}, and attention.key_length is absent"
                    ),
                ))
            }
        };
        let value_length = hp.opt_u32("attention.value_length")?.map_or(head_dim, |v| v as usize);
        if value_length != head_dim {
            return Err(fail(
                "attention.value_length",
                format!(
                    "= {value_length}, but this engine caches keys and values of one width (key_length {head_dim})"
                ),
            ));
        }
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
        let ffn_activation = match hp.opt_str("hidden_activation")? {
            None => arch.ffn_activation,
            Some(name) => FfnActivation::from_name(name).ok_or_else(|| {
                fail("hidden_activation", format!("= {name:?}, an activation this engine does not run (relu2, silu)"))
            })?,
        };
        let rms_eps = match arch.default_rms_eps {
            Some(default) => hp.opt_f32("attention.layer_norm_rms_epsilon")?.unwrap_or(default),
            None => hp.f32("attention.layer_norm_rms_epsilon")?,
        };
        let context_length = hp.u32("context_length")? as usize;
        // The fork's default when the key is absent; 2B4T files say 500000 (spec A.2).
        let rope_base = hp.opt_f32("rope.freq_base")?.unwrap_or(10000.0);
        let positive = [
            ("block_count", n_layers as f64),
            ("embedding_length", hidden as f64),
            ("feed_forward_length", ffn as f64),
            ("context_length", context_length as f64),
            ("attention.layer_norm_rms_epsilon", rms_eps.into()),
            ("rope.freq_base", rope_base.into()),
        ];
        if let Some((key, value)) = positive.iter().find(|(_, v)| !(v.is_finite() && *v > 0.0)) {
            return Err(fail(key, format!("= {value}; it must be a positive number")));
        }
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
            context_length,
            rope_base,
            rope_style: arch.rope_style,
            rms_eps,
            ffn_activation,
        })
    }
}

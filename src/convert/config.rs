//! A Hugging Face `config.json`, and what it means for the GGUF we write: which graph bitnet.cpp
//! would run it with (family doc §6, "Converter: config → output") and its hyperparameters.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::engine::model::arch;

/// The fields of `config.json` a conversion reads. Anything else is ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct HfConfig {
    #[serde(default)]
    pub architectures: Vec<String>,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_key_value_heads: Option<usize>,
    pub head_dim: Option<usize>,
    pub max_position_embeddings: Option<usize>,
    pub rope_theta: Option<f32>,
    pub rms_norm_eps: Option<f32>,
    pub hidden_act: Option<String>,
    pub tie_word_embeddings: Option<bool>,
    pub quantization_config: Option<QuantizationConfig>,
    pub rope_scaling: Option<serde_json::Value>,
    pub bos_token_id: Option<serde_json::Value>,
    pub eos_token_id: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct QuantizationConfig {
    pub quant_method: Option<String>,
    /// `"autobitlinear"` for Microsoft's 2B4T (multiplicative weight scale); absent for the
    /// BitLinear class of Falcon3 / Falcon-E / HF1BitLLM (divisive).
    pub linear_class: Option<String>,
}

/// The graph a checkpoint is converted for, as bitnet.cpp's converters decide it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `bitnet-b1.58`: Microsoft's 2B4T family (sub-norms, relu², tied head, NEOX RoPE).
    BitnetB158,
    /// `bitnet`: 1bitLLM's reproductions (sub-norms, SiLU, tied head, NEOX RoPE).
    Bitnet,
    /// `llama`: Falcon3, Falcon-E, Llama3-8B-1.58 (plain llama block, Q/K permuted for NORM RoPE).
    Llama,
}

impl Target {
    /// The `general.architecture` string written.
    pub fn arch_name(self) -> &'static str {
        match self {
            Self::BitnetB158 => arch::BITNET_B158.names[0],
            Self::Bitnet => arch::BITNET.names[0],
            Self::Llama => arch::LLAMA.names[0],
        }
    }

    /// Whether the head is `token_embd` (no `output.weight` is written).
    pub fn tied(self) -> bool {
        self != Self::Llama
    }
}

/// How a packed checkpoint's `weight_scale` relates to the real weights (family doc §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackedScale {
    /// AutoBitLinear (2B4T): W = t · weight_scale.
    Multiplies,
    /// BitLinear (Falcon3, Falcon-E, HF1BitLLM): W = t / weight_scale.
    Divides,
}

/// The shape and constants of the model, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPlan {
    pub target: Target,
    pub packed_scale: PackedScale,
    pub layers: usize,
    pub hidden: usize,
    pub ffn: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
    pub context: usize,
    pub rope_base: f32,
    pub rms_eps: f32,
    /// The checkpoint has its own `lm_head.weight` to write as `output.weight`.
    pub own_head: bool,
}

impl HfConfig {
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let de = &mut serde_json::Deserializer::from_str(&text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            anyhow::anyhow!("{}: field {field}: {}", path.display(), e.into_inner())
        })
    }

    /// The conversion this config asks for; `file` names config.json in errors.
    pub fn plan(&self, file: &str) -> Result<ModelPlan> {
        let class = self.architectures.first().map(String::as_str).unwrap_or("");
        let act = self.hidden_act.as_deref().unwrap_or("silu");
        let target = match class {
            "BitNetForCausalLM" | "BitnetForCausalLM" => match act {
                "relu2" => Target::BitnetB158,
                "silu" => Target::Bitnet,
                other => bail!("{file}: hidden_act is {other:?}; BitNet checkpoints use \"relu2\" or \"silu\""),
            },
            "LlamaForCausalLM" => {
                if act != "silu" {
                    bail!("{file}: hidden_act is {act:?}; a LlamaForCausalLM converts with \"silu\" only");
                }
                Target::Llama
            }
            "" => bail!("{file}: architectures is missing; expected BitNetForCausalLM or LlamaForCausalLM"),
            other => bail!(
                "{file}: architectures[0] is {other:?}; this converter knows BitNetForCausalLM, \
                 BitnetForCausalLM (1bitLLM) and LlamaForCausalLM (Falcon3, Falcon-E, Llama3-8B-1.58)"
            ),
        };
        if let Some(scaling) = self.rope_scaling.as_ref().filter(|v| !v.is_null() && !is_identity_scaling(v)) {
            bail!("{file}: rope_scaling is {scaling}; RoPE scaling is not supported");
        }
        let quant = self.quantization_config.as_ref();
        if let Some(method) = quant.and_then(|q| q.quant_method.as_deref()).filter(|m| *m != "bitnet") {
            bail!("{file}: quantization_config.quant_method is {method:?}; only \"bitnet\" checkpoints convert");
        }
        let autobitlinear = quant.and_then(|q| q.linear_class.as_deref()) == Some("autobitlinear");
        let packed_scale = if autobitlinear { PackedScale::Multiplies } else { PackedScale::Divides };
        let heads = self.num_attention_heads;
        let kv_heads = self.num_key_value_heads.unwrap_or(heads);
        let head_dim = self.head_dim.unwrap_or(self.hidden_size.checked_div(heads).unwrap_or(0));
        // Every width the file stores as a u32, and heads × head_dim, must fit.
        let fits = |n: Option<usize>| n.is_some_and(|n| u32::try_from(n).is_ok());
        let checks = [
            (self.num_hidden_layers > 0, "num_hidden_layers must be at least 1"),
            (heads > 0, "num_attention_heads must be at least 1"),
            (kv_heads > 0 && heads.is_multiple_of(kv_heads), "num_key_value_heads must divide num_attention_heads"),
            (
                self.head_dim.is_some() || self.hidden_size.is_multiple_of(heads),
                "hidden_size must be a multiple of num_attention_heads (or give head_dim)",
            ),
            (head_dim > 0 && head_dim.is_multiple_of(2), "head_dim must be even (RoPE pairs)"),
            (self.hidden_size > 0 && self.intermediate_size > 0, "hidden_size and intermediate_size must be positive"),
            (
                [
                    Some(self.hidden_size),
                    Some(self.intermediate_size),
                    Some(self.num_hidden_layers),
                    heads.checked_mul(head_dim),
                ]
                .into_iter()
                .all(fits)
                    && fits(self.max_position_embeddings.or(Some(0))),
                "a width, head count or context length is too large",
            ),
        ];
        if let Some((_, msg)) = checks.iter().find(|(ok, _)| !ok) {
            bail!("{file}: {msg}");
        }
        let tied = self.tie_word_embeddings.unwrap_or(target.tied());
        Ok(ModelPlan {
            target,
            packed_scale,
            layers: self.num_hidden_layers,
            hidden: self.hidden_size,
            ffn: self.intermediate_size,
            heads,
            kv_heads,
            head_dim,
            context: self.max_position_embeddings.unwrap_or(2048),
            rope_base: self.rope_theta.unwrap_or(10000.0),
            rms_eps: self.rms_norm_eps.unwrap_or(1e-6),
            own_head: target == Target::Llama && !tied,
        })
    }

    /// The first id of `bos_token_id` / `eos_token_id` (a number or a list of numbers).
    pub fn token_id(value: Option<&serde_json::Value>) -> Option<u32> {
        let v = value?;
        let first = v.as_array().and_then(|a| a.first()).unwrap_or(v);
        first.as_u64().and_then(|id| u32::try_from(id).ok())
    }
}

/// `{"type": "linear", "factor": 1.0}` changes nothing (1bitLLM's configs carry it).
fn is_identity_scaling(v: &serde_json::Value) -> bool {
    let kind = v.get("type").or_else(|| v.get("rope_type")).and_then(|t| t.as_str());
    kind == Some("linear") && v.get("factor").and_then(|f| f.as_f64()) == Some(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> HfConfig {
        serde_json::from_str(json).unwrap()
    }

    const BASE: &str = r#""hidden_size": 256, "intermediate_size": 768, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 300"#;

    #[test]
    fn classes_and_activations_pick_the_graph_bitnet_cpp_uses() {
        let b158 = config(&format!(
            r#"{{"architectures": ["BitNetForCausalLM"], "hidden_act": "relu2",
            "quantization_config": {{"quant_method": "bitnet", "linear_class": "autobitlinear"}}, {BASE}}}"#
        ));
        let plan = b158.plan("config.json").unwrap();
        assert_eq!(
            (plan.target, plan.packed_scale, plan.own_head),
            (Target::BitnetB158, PackedScale::Multiplies, false)
        );
        let large = config(&format!(r#"{{"architectures": ["BitnetForCausalLM"], "hidden_act": "silu", {BASE}}}"#));
        assert_eq!(large.plan("c").unwrap().target, Target::Bitnet);
        let falcon = config(&format!(
            r#"{{"architectures": ["LlamaForCausalLM"], "tie_word_embeddings": false, "head_dim": 128,
            "quantization_config": {{"quant_method": "bitnet"}}, {BASE}}}"#
        ));
        let plan = falcon.plan("c").unwrap();
        assert_eq!(
            (plan.target, plan.packed_scale, plan.own_head, plan.head_dim),
            (Target::Llama, PackedScale::Divides, true, 128)
        );
    }

    #[test]
    fn errors_name_the_file_and_the_field() {
        let gpt = config(&format!(r#"{{"architectures": ["GPT2LMHeadModel"], {BASE}}}"#));
        let err = gpt.plan("dir/config.json").unwrap_err().to_string();
        assert!(err.contains("dir/config.json") && err.contains("architectures[0]"), "{err}");
        let scaled = config(&format!(
            r#"{{"architectures": ["LlamaForCausalLM"], "rope_scaling": {{"rope_type": "llama3", "factor": 8.0}}, {BASE}}}"#
        ));
        assert!(scaled.plan("c").unwrap_err().to_string().contains("rope_scaling"));
        let identity = config(&format!(
            r#"{{"architectures": ["LlamaForCausalLM"], "rope_scaling": {{"type": "linear", "factor": 1.0}}, {BASE}}}"#
        ));
        assert!(identity.plan("c").is_ok());
        let dir = std::env::temp_dir().join(format!("cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.json");
        std::fs::write(&path, r#"{"hidden_size": "wide"}"#).unwrap();
        let err = HfConfig::read(&path).unwrap_err().to_string();
        assert!(err.contains("config.json") && err.contains("hidden_size"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn token_ids_may_be_lists() {
        let list = serde_json::json!([128001, 128009]);
        assert_eq!(HfConfig::token_id(Some(&list)), Some(128001));
        assert_eq!(HfConfig::token_id(Some(&serde_json::json!(11))), Some(11));
        assert_eq!(HfConfig::token_id(None), None);
    }
}

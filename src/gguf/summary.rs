//! A model file at a glance: architecture, hyperparameters, tokenizer, tensor statistics.
//! `inspect` prints it, the model list shows part of it. Reads metadata only, no tensor data.

use std::collections::BTreeMap;

use serde::Serialize;

use super::error::Result;
use super::file::GgufFile;

/// Architecture-prefixed hyperparameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HyperParams {
    pub n_layers: Option<u32>,
    pub hidden: Option<u32>,
    pub ffn: Option<u32>,
    pub heads: Option<u32>,
    pub kv_heads: Option<u32>,
    pub context_length: Option<u32>,
    pub rope_base: Option<f32>,
    pub rms_eps: Option<f32>,
}

/// Tokenizer facts from `tokenizer.ggml.*`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TokenizerSummary {
    pub model: Option<String>,
    pub pre: Option<String>,
    pub vocab_size: usize,
    pub merges: usize,
    pub bos: Option<u32>,
    pub eos: Option<u32>,
    /// `tokenizer.ggml.eot_token_id`, else the id of a known end-of-turn token text.
    pub eot: Option<u32>,
    pub add_bos: Option<bool>,
    pub chat_template: Option<String>,
}

/// Count and bytes of the tensors of one type.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TypeStats {
    pub count: usize,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelSummary {
    pub file: String,
    pub file_bytes: u64,
    pub gguf_version: u32,
    pub alignment: u64,
    pub architecture: String,
    pub name: Option<String>,
    pub hparams: HyperParams,
    /// `{arch}.vocab_size`, else the number of tokens.
    pub vocab_size: usize,
    pub tokenizer: TokenizerSummary,
    pub n_tensors: usize,
    pub n_params: u64,
    /// The weight type of most matrices (e.g. `I2_S`, `Q4_1`).
    pub quant: String,
    pub by_type: BTreeMap<String, TypeStats>,
    /// Every metadata key in file order, with a short rendering of its value.
    pub metadata: Vec<(String, String)>,
}

/// Texts that llama.cpp also recognizes as end-of-turn when the file names no EOT id.
const EOT_TEXTS: [&str; 4] = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>"];

impl ModelSummary {
    pub fn of(file: &GgufFile) -> Result<Self> {
        let architecture = file.arch()?.to_string();
        let hp = file.hparams()?;
        let hparams = HyperParams {
            n_layers: hp.opt_u32("block_count")?,
            hidden: hp.opt_u32("embedding_length")?,
            ffn: hp.opt_u32("feed_forward_length")?,
            heads: hp.opt_u32("attention.head_count")?,
            kv_heads: hp.opt_u32("attention.head_count_kv")?,
            context_length: hp.opt_u32("context_length")?,
            rope_base: hp.opt_f32("rope.freq_base")?,
            rms_eps: hp.opt_f32("attention.layer_norm_rms_epsilon")?,
        };
        let tokens = file.opt_str_array("tokenizer.ggml.tokens")?;
        let eot = match file.opt_u32("tokenizer.ggml.eot_token_id")? {
            Some(id) => Some(id),
            None => {
                tokens.and_then(|t| t.iter().position(|s| EOT_TEXTS.contains(&s)).and_then(|i| u32::try_from(i).ok()))
            }
        };
        let tokenizer = TokenizerSummary {
            model: file.opt_str("tokenizer.ggml.model")?.map(str::to_owned),
            pre: file.opt_str("tokenizer.ggml.pre")?.map(str::to_owned),
            vocab_size: tokens.map_or(0, |t| t.len()),
            merges: file.opt_str_array("tokenizer.ggml.merges")?.map_or(0, |m| m.len()),
            bos: file.opt_u32("tokenizer.ggml.bos_token_id")?,
            eos: file.opt_u32("tokenizer.ggml.eos_token_id")?,
            eot,
            add_bos: file.opt_bool("tokenizer.ggml.add_bos_token")?,
            chat_template: file.opt_str("tokenizer.chat_template")?.map(str::to_owned),
        };
        let mut by_type: BTreeMap<String, TypeStats> = BTreeMap::new();
        let mut matrices: BTreeMap<String, usize> = BTreeMap::new();
        for t in file.tensors() {
            let stats = by_type.entry(t.ty.to_string()).or_default();
            stats.count += 1;
            stats.bytes += t.n_bytes;
            if t.dims.len() >= 2 {
                *matrices.entry(t.ty.to_string()).or_default() += 1;
            }
        }
        let quant = matrices.iter().max_by_key(|(_, &n)| n).map(|(ty, _)| ty.clone()).unwrap_or_default();
        Ok(Self {
            file: file.name().to_string(),
            file_bytes: file.file_size(),
            gguf_version: file.header().version,
            alignment: file.header().alignment,
            architecture,
            name: file.opt_str("general.name")?.map(str::to_owned),
            hparams,
            vocab_size: match hp.opt_u32("vocab_size")? {
                Some(v) => v as usize,
                None => tokenizer.vocab_size,
            },
            tokenizer,
            n_tensors: file.tensors().len(),
            n_params: file.tensors().iter().map(|t| t.n_elements()).sum(),
            quant,
            by_type,
            metadata: file.metadata().iter().map(|(k, v)| (k.clone(), v.to_string())).collect(),
        })
    }
}

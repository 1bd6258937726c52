//! Reading and checking the `tokenizer.ggml.*` keys of a GGUF file.

use anyhow::{bail, Result};

use super::pre_tokenizer::PreTokenizer;
use super::token_type::TokenType;
use crate::engine::model::Architecture;
use crate::gguf::{GgufFile, StringArray};

/// Texts that mark the end of a turn when the file names no `eot_token_id` (llama.cpp's list).
const EOT_TEXTS: [&str; 4] = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>"];

/// Which kind of vocabulary `tokenizer.ggml.model` names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VocabKind<'a> {
    /// `gpt2`: byte-level BPE with ranked merges, cut into words by `pre` first.
    ByteLevel(PreTokenizer),
    /// `llama`: SentencePiece pieces merged by `scores` (one per token), `▁` for spaces, byte
    /// fallback.
    SentencePiece { add_space_prefix: bool, scores: &'a [f32] },
}

/// What a tokenizer is built from, checked.
pub struct VocabMetadata<'a> {
    pub tokens: &'a StringArray,
    pub types: Vec<TokenType>,
    /// `"left right"` pairs, rank = index; absent in vocabularies without merges.
    pub merges: Option<&'a StringArray>,
    pub kind: VocabKind<'a>,
    pub bos: Option<u32>,
    pub eos: Option<u32>,
    pub eot: Option<u32>,
    pub add_bos: bool,
}

impl<'a> VocabMetadata<'a> {
    pub fn read(file: &'a GgufFile) -> Result<Self> {
        let name = file.name();
        let model = file.str("tokenizer.ggml.model")?;
        let tokens = file.str_array("tokenizer.ggml.tokens")?;
        if tokens.is_empty() || u32::try_from(tokens.len()).is_err() {
            bail!("{name}: tokenizer.ggml.tokens has {} entries; expected 1 to 2^32-1", tokens.len());
        }
        let types = read_types(file, tokens.len())?;
        let kind = match model {
            "gpt2" => VocabKind::ByteLevel(read_pre(file)?),
            "llama" => {
                let scores = match file.opt_f32_array("tokenizer.ggml.scores")? {
                    Some(s) if s.len() == tokens.len() => s,
                    Some(s) => bail!("{name}: tokenizer.ggml.scores has {} entries, but tokenizer.ggml.tokens has {}", s.len(), tokens.len()),
                    None => bail!("{name}: tokenizer.ggml.scores is missing; a SentencePiece vocabulary (\"llama\") merges by them"),
                };
                VocabKind::SentencePiece {
                    add_space_prefix: file.opt_bool("tokenizer.ggml.add_space_prefix")?.unwrap_or(true),
                    scores,
                }
            }
            other => bail!(
                "{name}: tokenizer.ggml.model is {other:?}; this build reads byte-level BPE (\"gpt2\") and \
                 SentencePiece (\"llama\") vocabularies"
            ),
        };
        let merges = file.opt_str_array("tokenizer.ggml.merges")?;

        let token_id = |key: &str| -> Result<Option<u32>> {
            match file.opt_u32(key)? {
                Some(id) if id as usize >= tokens.len() => {
                    bail!("{name}: {key} is {id}, but the vocabulary has {} tokens", tokens.len())
                }
                id => Ok(id),
            }
        };
        let bos = token_id("tokenizer.ggml.bos_token_id")?;
        let eos = token_id("tokenizer.ggml.eos_token_id")?;
        let eot = match token_id("tokenizer.ggml.eot_token_id")? {
            Some(id) => Some(id),
            None => EOT_TEXTS.iter().find_map(|text| tokens.iter().position(|t| t == *text)).map(|i| i as u32),
        };
        // llama.cpp prepends BOS by default for SentencePiece and LLaMA-3 vocabularies only.
        let bos_by_default =
            matches!(kind, VocabKind::SentencePiece { .. } | VocabKind::ByteLevel(PreTokenizer::Llama3));
        let add_bos = file.opt_bool("tokenizer.ggml.add_bos_token")?.unwrap_or(bos_by_default) && bos.is_some();
        Ok(Self { tokens, types, merges, kind, bos, eos, eot, add_bos })
    }
}

fn read_types(file: &GgufFile, n_tokens: usize) -> Result<Vec<TokenType>> {
    let Some(raw) = file.opt_i32_array("tokenizer.ggml.token_type")? else {
        return Ok(vec![TokenType::Normal; n_tokens]);
    };
    if raw.len() != n_tokens {
        bail!(
            "{}: tokenizer.ggml.token_type has {} entries, but tokenizer.ggml.tokens has {n_tokens}",
            file.name(),
            raw.len()
        );
    }
    raw.iter()
        .enumerate()
        .map(|(i, &ty)| match TokenType::from_gguf(ty) {
            Some(ty) => Ok(ty),
            None => bail!("{}: tokenizer.ggml.token_type[{i}] is {ty}; token types are 1 to 6", file.name()),
        })
        .collect()
}

/// The pre-tokenizer named by `tokenizer.ggml.pre`. Without the key: the one the architecture
/// implies (LLaMA 3's for BitNet b1.58, though Microsoft's file does not say so), else GPT-2's.
fn read_pre(file: &GgufFile) -> Result<PreTokenizer> {
    let arch = file.opt_str("general.architecture")?.and_then(Architecture::by_name);
    let implied = arch.and_then(|a| a.implied_pre_tokenizer);
    match file.opt_str("tokenizer.ggml.pre")?.or(implied) {
        Some(name) => match PreTokenizer::from_name(name) {
            Some(pre) => Ok(pre),
            None => bail!("{}: tokenizer.ggml.pre is {name:?}, a pre-tokenizer this build does not know", file.name()),
        },
        None => Ok(PreTokenizer::Gpt2),
    }
}

#[cfg(test)]
mod tests {
    use super::PreTokenizer;
    use crate::engine::model::arch::ARCHITECTURES;

    #[test]
    fn every_implied_pre_tokenizer_is_one_this_build_knows() {
        for name in ARCHITECTURES.iter().filter_map(|a| a.implied_pre_tokenizer) {
            assert!(PreTokenizer::from_name(name).is_some(), "{name}");
        }
    }
}

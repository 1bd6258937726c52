//! A checkpoint's `tokenizer.json` and `tokenizer_config.json` as GGUF tokenizer keys: the
//! byte-level BPE vocabulary with merges, token types, the pre-tokenizer name llama.cpp uses for
//! that regex set, special token ids, `add_bos_token`, and the chat template.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::Value as Json;

use super::config::HfConfig;
use super::sentencepiece::SentencePieceModel;
use crate::engine::tokenizer::{PreTokenizer, TokenType};
use crate::engine::vocab::Vocab;
use crate::gguf::{GgufWriter, Value};

pub const TOKENIZER_FILE: &str = "tokenizer.json";
pub const TOKENIZER_CONFIG_FILE: &str = "tokenizer_config.json";
/// Some repos keep the template in a file of its own.
pub const TEMPLATE_FILE: &str = "chat_template.jinja";
/// A SentencePiece model (1bitLLM's checkpoints).
pub const SENTENCEPIECE_FILE: &str = "tokenizer.model";
/// Tokens added after a SentencePiece model's pieces, `{"text": id}` (1bitLLM's `<pad>`, `</line>`).
pub const ADDED_TOKENS_FILE: &str = "added_tokens.json";

/// The tokenizer keys of the GGUF being written.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvertedTokenizer {
    pub vocab: Vocab,
    /// `tokenizer.ggml.model`: `gpt2` (byte-level BPE) or `llama` (SentencePiece).
    pub model: &'static str,
    /// `tokenizer.ggml.pre`.
    pub pre: &'static str,
    /// SentencePiece: whether a space goes before the text.
    pub add_space_prefix: Option<bool>,
    pub bos: Option<u32>,
    pub eos: Option<u32>,
    pub pad: Option<u32>,
    pub add_bos: Option<bool>,
    pub add_eos: Option<bool>,
    pub chat_template: Option<String>,
}

impl ConvertedTokenizer {
    /// Reads `dir`'s tokenizer files; the vocabulary is padded with unused `[PADi]` tokens to
    /// `n_vocab` (the embedding's rows), as llama.cpp's converter pads it.
    pub fn read(dir: &Path, config: &HfConfig, n_vocab: usize) -> Result<Self> {
        let path = dir.join(TOKENIZER_FILE);
        let file = path.display().to_string();
        let json: Json = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).with_context(|| format!("{file}: not JSON"))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Json::Null,
            Err(e) => return Err(e).with_context(|| format!("reading {file}")),
        };
        let model = &json["model"];
        let byte_level = model["type"].as_str() == Some("BPE") && model["byte_fallback"].as_bool() != Some(true);
        if byte_level && !json["normalizer"].is_null() {
            let kind = json["normalizer"]["type"].as_str().unwrap_or("?");
            bail!("{file}: normalizer is {kind:?}; GGUF byte-level vocabularies have none, so the ids would differ");
        }
        let sentencepiece_path = dir.join(SENTENCEPIECE_FILE);
        let (vocab, model, pre, add_space_prefix) = if byte_level {
            let pre = pre_tokenizer_name(&json["pre_tokenizer"])
                .map_err(|e| anyhow::anyhow!("{file}: pre_tokenizer: {e}"))?;
            (read_vocab(&json, n_vocab, &file)?, "gpt2", pre, None)
        } else if sentencepiece_path.is_file() {
            let (vocab, add_space_prefix) = read_sentencepiece(&sentencepiece_path, &json, dir, n_vocab)?;
            (vocab, "llama", "default", Some(add_space_prefix))
        } else if json.is_null() {
            bail!("{}: no {TOKENIZER_FILE} or {SENTENCEPIECE_FILE}", dir.display());
        } else if model["byte_fallback"].as_bool() == Some(true) {
            bail!(
                "{file}: a SentencePiece-style BPE (model.byte_fallback); its {SENTENCEPIECE_FILE} is needed beside it"
            );
        } else {
            bail!(
                "{file}: model.type is {} and there is no {SENTENCEPIECE_FILE}: this converter reads \
                 byte-level BPE vocabularies and SentencePiece models",
                model["type"].as_str().map_or("missing".to_owned(), |t| format!("{t:?}"))
            );
        };

        let config_path = dir.join(TOKENIZER_CONFIG_FILE);
        let tok_config: Json = match std::fs::read_to_string(&config_path) {
            Ok(text) => serde_json::from_str(&text).with_context(|| format!("{}: not JSON", config_path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Json::Null,
            Err(e) => return Err(e).with_context(|| format!("reading {}", config_path.display())),
        };
        let special = |key: &str, fallback: Option<&Json>| -> Result<Option<u32>> {
            match token_text(&tok_config[key]) {
                Some(text) => match vocab.id_of(text) {
                    Some(id) => Ok(Some(id)),
                    None => bail!("{}: {key} is {text:?}, which is not in {file}", config_path.display()),
                },
                None => Ok(HfConfig::token_id(fallback)),
            }
        };
        let bos = special("bos_token", config.bos_token_id.as_ref())?;
        let eos = special("eos_token", config.eos_token_id.as_ref())?;
        let pad = special("pad_token", None)?;
        for (key, id) in [("bos", bos), ("eos", eos)] {
            if let Some(id) = id.filter(|&id| id as usize >= n_vocab) {
                bail!("config.json: {key}_token_id is {id}, but the vocabulary has {n_vocab} tokens");
            }
        }
        let chat_template = match std::fs::read_to_string(dir.join(TEMPLATE_FILE)) {
            Ok(template) => Some(template),
            Err(_) => template_of(&tok_config["chat_template"]),
        };
        Ok(Self {
            vocab,
            model,
            pre,
            add_space_prefix,
            bos,
            eos,
            pad,
            add_bos: tok_config["add_bos_token"].as_bool(),
            add_eos: tok_config["add_eos_token"].as_bool(),
            chat_template,
        })
    }

    /// Sets every `tokenizer.*` key.
    pub fn write_gguf_metadata(&self, w: &mut GgufWriter) {
        self.vocab.write_gguf_metadata(w);
        w.set("tokenizer.ggml.model", Value::String(self.model.into()));
        w.set("tokenizer.ggml.pre", Value::String(self.pre.into()));
        if let Some(add) = self.add_space_prefix {
            w.set("tokenizer.ggml.add_space_prefix", Value::Bool(add));
        }
        let ids = [("bos", self.bos), ("eos", self.eos), ("padding", self.pad)];
        for (key, id) in ids {
            if let Some(id) = id {
                w.set(format!("tokenizer.ggml.{key}_token_id"), Value::U32(id));
            }
        }
        if let Some(add) = self.add_bos {
            w.set("tokenizer.ggml.add_bos_token", Value::Bool(add));
        }
        if let Some(add) = self.add_eos {
            w.set("tokenizer.ggml.add_eos_token", Value::Bool(add));
        }
        if let Some(template) = &self.chat_template {
            w.set("tokenizer.chat_template", Value::String(template.clone()));
        }
    }
}

/// The `tokenizer.ggml.pre` name of the pre-tokenizer llama.cpp runs for this regex set.
fn pre_tokenizer_name(pre: &Json) -> Result<&'static str, String> {
    let steps: Vec<&Json> = match pre["type"].as_str() {
        Some("Sequence") => pre["pretokenizers"].as_array().map(|a| a.iter().collect()).unwrap_or_default(),
        Some(_) => vec![pre],
        None => return Err("missing; byte-level BPE needs a ByteLevel pre-tokenizer".into()),
    };
    let kinds: Vec<&str> = steps.iter().map(|s| s["type"].as_str().unwrap_or("?")).collect();
    if let Some(step) = steps.iter().find(|s| s["add_prefix_space"].as_bool() == Some(true)) {
        let kind = step["type"].as_str().unwrap_or("?");
        return Err(format!("{kind} has add_prefix_space, which GGUF's pre-tokenizers do not"));
    }
    let byte_level_regex = |s: &Json| s["use_regex"].as_bool().unwrap_or(true);
    let single_digits = |s: &Json| s["individual_digits"].as_bool() == Some(true);
    let name = match kinds.as_slice() {
        ["ByteLevel"] if byte_level_regex(steps[0]) => "gpt2",
        ["Split", "ByteLevel"]
            if split_regex(steps[0]) == Some(PreTokenizer::LLAMA3_REGEX) && !byte_level_regex(steps[1]) =>
        {
            "llama-bpe"
        }
        ["Digits", "ByteLevel"] if single_digits(steps[0]) && byte_level_regex(steps[1]) => "smollm",
        ["Punctuation", "ByteLevel", "Digits"] if byte_level_regex(steps[1]) && single_digits(steps[2]) => "falcon3",
        _ => {
            return Err(format!(
                "{kinds:?} is not a byte-level regex set this converter knows (GPT-2, LLaMA 3, SmolLM, Falcon3)"
            ))
        }
    };
    Ok(name)
}

fn split_regex(step: &Json) -> Option<&str> {
    step["pattern"]["Regex"].as_str()
}

/// The vocabulary in id order: the BPE pieces, the added tokens, then `[PADi]` up to `n_vocab`.
fn read_vocab(json: &Json, n_vocab: usize, file: &str) -> Result<Vocab> {
    let mut by_id: HashMap<usize, (String, TokenType)> = HashMap::new();
    let Some(pieces) = json["model"]["vocab"].as_object() else {
        bail!("{file}: model.vocab is missing or not a map of pieces to ids");
    };
    for (piece, id) in pieces {
        let Some(id) = id.as_u64() else { bail!("{file}: model.vocab[{piece:?}] is not an id") };
        by_id.insert(id as usize, (piece.clone(), TokenType::Normal));
    }
    for (i, added) in json["added_tokens"].as_array().into_iter().flatten().enumerate() {
        let (Some(id), Some(content)) = (added["id"].as_u64(), added["content"].as_str()) else {
            bail!("{file}: added_tokens[{i}] needs an id and a content");
        };
        let kind = if added["special"].as_bool() == Some(true) { TokenType::Control } else { TokenType::UserDefined };
        by_id.insert(id as usize, (content.to_owned(), kind));
    }
    if let Some(&top) = by_id.keys().max().filter(|&&top| top >= n_vocab) {
        bail!("{file}: token id {top} is past the model's {n_vocab} embedding rows");
    }
    let by_id = by_id.into_iter().map(|(id, (text, kind))| (id, (text, kind, 0.0))).collect();
    let mut vocab = in_id_order(by_id, n_vocab, 0.0);
    for (i, merge) in json["model"]["merges"].as_array().into_iter().flatten().enumerate() {
        let text = match merge {
            Json::String(pair) => pair.clone(),
            Json::Array(pair) if pair.len() == 2 && pair.iter().all(Json::is_string) => {
                format!("{} {}", pair[0].as_str().unwrap_or(""), pair[1].as_str().unwrap_or(""))
            }
            _ => bail!("{file}: model.merges[{i}] is neither \"a b\" nor [\"a\", \"b\"]"),
        };
        vocab.merges.push(text);
    }
    Ok(vocab)
}

/// A SentencePiece vocabulary: the model's pieces, then the tokens added after them (from
/// tokenizer.json's `added_tokens`, else added_tokens.json) as user-defined or control tokens
/// with score −1000, then `[PADi]` up to `n_vocab`. Also whether a space goes before the text.
fn read_sentencepiece(path: &Path, json: &Json, dir: &Path, n_vocab: usize) -> Result<(Vocab, bool)> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("reading {file}"))?;
    let model = SentencePieceModel::parse(&bytes, &file)?;
    let mut by_id: HashMap<usize, (String, TokenType, f32)> = HashMap::new();
    for (id, piece) in model.pieces.iter().enumerate() {
        let kind = TokenType::from_gguf(piece.kind).unwrap_or(TokenType::Normal);
        by_id.insert(id, (piece.text.clone(), kind, piece.score));
    }
    let added: Vec<(usize, String, bool)> = match json["added_tokens"].as_array() {
        Some(list) => list
            .iter()
            .enumerate()
            .map(|(i, t)| match (t["id"].as_u64(), t["content"].as_str()) {
                (Some(id), Some(text)) => Ok((id as usize, text.to_owned(), t["special"].as_bool() == Some(true))),
                _ => bail!("{}: added_tokens[{i}] needs an id and a content", dir.join(TOKENIZER_FILE).display()),
            })
            .collect::<Result<_>>()?,
        None => match std::fs::read_to_string(dir.join(ADDED_TOKENS_FILE)) {
            Ok(text) => {
                let map: HashMap<String, usize> = serde_json::from_str(&text).with_context(|| {
                    format!("{}: not a map of tokens to ids", dir.join(ADDED_TOKENS_FILE).display())
                })?;
                map.into_iter().map(|(text, id)| (id, text, false)).collect()
            }
            Err(_) => Vec::new(),
        },
    };
    for (id, text, special) in added.into_iter().filter(|(id, _, _)| *id >= model.pieces.len()) {
        let kind = if special { TokenType::Control } else { TokenType::UserDefined };
        by_id.insert(id, (text, kind, -1000.0));
    }
    if let Some(&top) = by_id.keys().max().filter(|&&top| top >= n_vocab) {
        bail!("{file}: token id {top} is past the model's {n_vocab} embedding rows");
    }
    Ok((in_id_order(by_id, n_vocab, -1000.0), model.add_dummy_prefix))
}

/// The vocabulary by id, `[PADi]` (unused, `pad_score`) where an id has no token, as llama.cpp's
/// converter pads it.
fn in_id_order(mut by_id: HashMap<usize, (String, TokenType, f32)>, n_vocab: usize, pad_score: f32) -> Vocab {
    let mut vocab = Vocab { tokens: Vec::new(), token_types: Vec::new(), scores: Vec::new(), merges: Vec::new() };
    for id in 0..n_vocab {
        let (text, kind, score) =
            by_id.remove(&id).unwrap_or_else(|| (format!("[PAD{id}]"), TokenType::Unused, pad_score));
        vocab.tokens.push(text);
        vocab.token_types.push(kind.gguf_id());
        vocab.scores.push(score);
    }
    vocab
}

/// A special token in tokenizer_config.json: a string, or `{"content": …}`.
fn token_text(v: &Json) -> Option<&str> {
    v.as_str().or_else(|| v["content"].as_str())
}

/// `chat_template`: a string, or a list of `{name, template}` (the one named "default", else the first).
fn template_of(v: &Json) -> Option<String> {
    if let Some(t) = v.as_str() {
        return Some(t.to_owned());
    }
    let list = v.as_array()?;
    let named = list.iter().find(|t| t["name"].as_str() == Some("default")).or_else(|| list.first())?;
    named["template"].as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn regex_sets_map_to_llama_cpp_names() {
        let byte_level = json!({"type": "ByteLevel", "add_prefix_space": false, "use_regex": true});
        assert_eq!(pre_tokenizer_name(&byte_level), Ok("gpt2"));
        let llama3 = json!({"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": PreTokenizer::LLAMA3_REGEX}, "behavior": "Isolated", "invert": false},
            {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]});
        assert_eq!(pre_tokenizer_name(&llama3), Ok("llama-bpe"));
        let smollm = json!({"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": true}, {"type": "ByteLevel", "use_regex": true}]});
        assert_eq!(pre_tokenizer_name(&smollm), Ok("smollm"));
        let falcon = json!({"type": "Sequence", "pretokenizers": [
            {"type": "Punctuation", "behavior": "Contiguous"}, {"type": "ByteLevel", "use_regex": true},
            {"type": "Digits", "individual_digits": true}]});
        assert_eq!(pre_tokenizer_name(&falcon), Ok("falcon3"));
        let metaspace = json!({"type": "Metaspace", "replacement": "▁"});
        assert!(pre_tokenizer_name(&metaspace).unwrap_err().contains("Metaspace"));
        assert!(pre_tokenizer_name(&Json::Null).is_err());
    }

    #[test]
    fn vocabularies_are_padded_and_typed() {
        let json = json!({
            "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b", ["ab", "b"]]},
            "added_tokens": [{"id": 3, "content": "<s>", "special": true}, {"id": 4, "content": "<x>", "special": false}]
        });
        let vocab = read_vocab(&json, 6, "tokenizer.json").unwrap();
        assert_eq!(vocab.tokens, ["a", "b", "ab", "<s>", "<x>", "[PAD5]"]);
        assert_eq!(vocab.token_types, [1, 1, 1, 3, 4, 5]);
        assert_eq!(vocab.merges, ["a b", "ab b"]);
        let err = read_vocab(&json, 4, "tok.json").unwrap_err().to_string();
        assert!(err.contains("tok.json") && err.contains("token id 4"), "{err}");
    }

    #[test]
    fn templates_may_be_named() {
        assert_eq!(template_of(&json!("{{ x }}")).as_deref(), Some("{{ x }}"));
        let named = json!([{"name": "tool_use", "template": "t"}, {"name": "default", "template": "d"}]);
        assert_eq!(template_of(&named).as_deref(), Some("d"));
        assert_eq!(template_of(&Json::Null), None);
        assert_eq!(token_text(&json!({"content": "<s>", "lstrip": false})), Some("<s>"));
    }
}

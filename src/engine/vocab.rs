//! Vocabularies for building model files (`gen-model`, tests): the LLaMA-3 vocabulary of BitNet
//! b1.58 rebuilt from its tiktoken file, and a small self-contained byte-level BPE vocabulary.

mod llama3;
mod small;

use crate::engine::tokenizer::byte_level;
use crate::engine::tokenizer::TokenType;
use crate::gguf::{Array, GgufWriter, StringArray, Value};

/// The arrays of a byte-level BPE vocabulary, as GGUF stores them.
#[derive(Debug, Clone, PartialEq)]
pub struct Vocab {
    /// Token texts in GPT-2's byte-level alphabet (special tokens as their names).
    pub tokens: Vec<String>,
    /// `tokenizer.ggml.token_type` values (1 normal, 3 control).
    pub token_types: Vec<i32>,
    pub scores: Vec<f32>,
    /// `"left right"`, highest priority first.
    pub merges: Vec<String>,
}

/// Score and type of the special tokens, as Microsoft's converter writes them.
const SPECIAL_SCORE: f32 = -1000.0;

impl Vocab {
    /// The id of the token with this text.
    pub fn id_of(&self, text: &str) -> Option<u32> {
        self.tokens.iter().position(|t| t == text).and_then(|i| u32::try_from(i).ok())
    }

    /// Sets the tokenizer keys: `tokenizer.ggml.model` (`gpt2`), `.tokens`, `.scores`,
    /// `.token_type` and `.merges` (when there are any). Special ids, `pre` and the chat template
    /// are the caller's.
    pub fn write_gguf_metadata(&self, w: &mut GgufWriter) {
        w.set("tokenizer.ggml.model", Value::String("gpt2".into()));
        w.set("tokenizer.ggml.tokens", Value::Array(Array::String(self.tokens.iter().collect::<StringArray>())));
        w.set("tokenizer.ggml.scores", Value::Array(Array::F32(self.scores.clone())));
        w.set("tokenizer.ggml.token_type", Value::Array(Array::I32(self.token_types.clone())));
        if !self.merges.is_empty() {
            w.set("tokenizer.ggml.merges", Value::Array(Array::String(self.merges.iter().collect::<StringArray>())));
        }
    }

    /// A vocabulary of BPE pieces (raw bytes; score 0, normal) followed by control tokens.
    fn from_pieces(pieces: &[Vec<u8>], merges: Vec<String>, specials: Vec<String>) -> Vocab {
        let n = pieces.len() + specials.len();
        let mut vocab = Vocab {
            tokens: Vec::with_capacity(n),
            token_types: Vec::with_capacity(n),
            scores: Vec::with_capacity(n),
            merges,
        };
        for piece in pieces {
            vocab.tokens.push(byte_level::encode_bytes(piece));
            vocab.token_types.push(TokenType::Normal.gguf_id());
            vocab.scores.push(0.0);
        }
        for name in specials {
            vocab.tokens.push(name);
            vocab.token_types.push(TokenType::Control.gguf_id());
            vocab.scores.push(SPECIAL_SCORE);
        }
        vocab
    }
}

/// The 256 special tokens of LLaMA 3.0 as BitNet names them: `<|begin_of_text|>`,
/// `<|end_of_text|>`, `<|reserved_special_token_0..3|>`, `<|start_header_id|>`,
/// `<|end_header_id|>`, `<|reserved_special_token_4|>`, `<|eot_id|>`, then
/// `<|reserved_special_token_5..250|>`.
pub fn llama3_special_tokens() -> Vec<String> {
    let mut reserved = 0..;
    (0..256)
        .map(|slot| match slot {
            0 => "<|begin_of_text|>".to_owned(),
            1 => "<|end_of_text|>".to_owned(),
            6 => "<|start_header_id|>".to_owned(),
            7 => "<|end_header_id|>".to_owned(),
            9 => "<|eot_id|>".to_owned(),
            _ => format!("<|reserved_special_token_{}|>", reserved.next().unwrap_or_default()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llama3_special_names() {
        let names = llama3_special_tokens();
        assert_eq!(names.len(), 256);
        assert_eq!(names[2], "<|reserved_special_token_0|>");
        assert_eq!(names[5], "<|reserved_special_token_3|>");
        assert_eq!(names[8], "<|reserved_special_token_4|>");
        assert_eq!(names[9], "<|eot_id|>");
        assert_eq!(names[10], "<|reserved_special_token_5|>");
        assert_eq!(names[255], "<|reserved_special_token_250|>");
    }
}

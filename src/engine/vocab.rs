//! Vocabularies for synthetic models (being written on the `tokenizer` branch; this is its data type).

/// A GGUF `gpt2`-model vocabulary: token strings (GPT-2 byte-to-unicode), types, scores, merges.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vocab {
    pub tokens: Vec<String>,
    pub token_types: Vec<i32>,
    pub scores: Vec<f32>,
    pub merges: Vec<String>,
}

//! The regexes that cut text into words before BPE, chosen by `tokenizer.ggml.pre` as llama.cpp
//! chooses them (`llm_tokenizer_bpe`, llama-vocab.cpp). A set of regexes is applied in sequence:
//! each one splits the pieces the previous one left, and text between matches stays a piece.

use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::SplitDelimiterBehavior;

/// The LLaMA-3 (tiktoken) pattern.
const LLAMA3: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// GPT-2's pattern as llama.cpp writes it (without the final `|\s+`: the whitespace that the
/// other branches leave stays a piece of its own all the same).
const GPT2: &str = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)";
/// Every digit on its own.
const DIGIT: &str = r"\p{N}";
/// Runs of punctuation: Unicode P, and the ASCII symbols HF's `Punctuation` pre-tokenizer counts
/// too (bitnet.cpp's first `falcon3` regex, family doc §2.7).
const PUNCTUATION_RUN: &str = r"[\p{P}\$\+<=>\^~\|`]+";

/// A family of pre-tokenizers that share one regex set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreTokenizer {
    /// LLaMA 3: its regex, and a word that is itself a token is taken whole, before any merge.
    Llama3,
    /// StarCoder, SmolLM and kin: single digits, then GPT-2's regex.
    DigitsThenGpt2,
    Gpt2,
    /// Falcon3 and Falcon-E: their tokenizer.json's Punctuation(Contiguous), ByteLevel with GPT-2's
    /// regex, then Digits(individual). The digit split comes after the byte-level mapping, so, as
    /// in Hugging Face's `tokenizers`, it also splits off the UTF-8 bytes B2, B3, B9 and BC-BE,
    /// whose byte-level characters are ², ³, ¹, ¼, ½, ¾. bitnet.cpp's `[0-9]` on the raw text
    /// does not; we follow the model's own tokenizer.
    Falcon3,
}

impl PreTokenizer {
    /// LLaMA 3's regex, as its `tokenizer.json` spells it (the converter recognises it there).
    pub const LLAMA3_REGEX: &'static str = LLAMA3;

    /// The family that llama.cpp uses for a `tokenizer.ggml.pre` value (None: an unknown name).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "llama3" | "llama-v3" | "llama-bpe" => Self::Llama3,
            "smollm" | "starcoder" | "refact" | "command-r" | "codeshell" => Self::DigitsThenGpt2,
            "gpt2" | "mpt" | "olmo" | "jais" => Self::Gpt2,
            "falcon3" | "falcon_e" => Self::Falcon3,
            _ => return None,
        })
    }

    fn regexes(self) -> &'static [&'static str] {
        match self {
            Self::Llama3 => &[LLAMA3],
            Self::DigitsThenGpt2 => &[DIGIT, GPT2],
            Self::Gpt2 => &[GPT2],
            Self::Falcon3 => &[PUNCTUATION_RUN, GPT2],
        }
    }

    /// Regexes applied after the byte-level mapping, to its characters.
    fn mapped_regexes(self) -> &'static [&'static str] {
        match self {
            Self::Falcon3 => &[DIGIT],
            _ => &[],
        }
    }

    /// Whether a word found whole in the vocabulary skips the merges (tiktoken's behaviour).
    pub fn whole_word_lookup(self) -> bool {
        self == Self::Llama3
    }

    /// The `tokenizers` pipeline: the regex splits, bytes to the byte-level alphabet, then the
    /// splits made on that alphabet.
    pub fn pipeline(self) -> tokenizers::Result<Sequence> {
        let split = |re: &&str| {
            Split::new(SplitPattern::Regex((*re).to_owned()), SplitDelimiterBehavior::Isolated, false)
                .map(PreTokenizerWrapper::Split)
        };
        let mut steps = self.regexes().iter().map(split).collect::<tokenizers::Result<Vec<_>>>()?;
        steps.push(PreTokenizerWrapper::ByteLevel(ByteLevel::new(false, false, false)));
        for step in self.mapped_regexes().iter().map(split) {
            steps.push(step?);
        }
        Ok(Sequence::new(steps))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_compiles() {
        for family in [PreTokenizer::Llama3, PreTokenizer::DigitsThenGpt2, PreTokenizer::Gpt2, PreTokenizer::Falcon3] {
            assert!(family.pipeline().is_ok(), "{family:?}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(PreTokenizer::from_name("llama-bpe"), Some(PreTokenizer::Llama3));
        assert_eq!(PreTokenizer::from_name("smollm"), Some(PreTokenizer::DigitsThenGpt2));
        assert_eq!(PreTokenizer::from_name("gpt2"), Some(PreTokenizer::Gpt2));
        assert_eq!(PreTokenizer::from_name("falcon3"), Some(PreTokenizer::Falcon3));
        assert_eq!(PreTokenizer::from_name("falcon_e"), Some(PreTokenizer::Falcon3));
        assert_eq!(PreTokenizer::from_name("qwen2"), None);
    }
}

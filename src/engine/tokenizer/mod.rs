//! The tokenizer of a GGUF model: byte-level BPE or SentencePiece built from `tokenizer.ggml.*`
//! metadata, with llama.cpp's rules for special tokens, BOS and end of generation.
//!
//! Encoding: special tokens are cut out of the text first (`special`). For byte-level BPE each
//! remaining piece is split into words by the pre-tokenizer regexes (`pre_tokenizer`, the
//! `tokenizers` crate's) and each word merged by rank (`bpe`); for SentencePiece the piece gets
//! `▁` for its spaces (and one before it where a prefix space is due) and is merged by score
//! (`spm`). Decoding maps each token to its raw bytes; [`StreamDecoder`] does it incrementally.

mod bpe;
pub(crate) mod byte_level;
mod metadata;
mod pre_tokenizer;
mod special;
mod spm;
mod stream;
mod token_type;

use anyhow::{anyhow, Context, Result};
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::{OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer as _};

use crate::gguf::GgufFile;
use bpe::Bpe;
use metadata::{VocabKind, VocabMetadata};
use special::{Fragment, SpecialTokens};

pub use pre_tokenizer::PreTokenizer;
pub use stream::StreamDecoder;
pub use token_type::TokenType;

/// How text between special tokens becomes ids.
enum Merger {
    /// Byte-level BPE: `pre`'s pipeline cuts text into words, merged by rank.
    ByteLevel { pre: PreTokenizer, words: Sequence },
    /// SentencePiece: merged by score, with byte (or unknown-token) fallback.
    SentencePiece { scores: Vec<f32>, fallback: Box<spm::Fallback>, add_space_prefix: bool },
}

/// A tokenizer with the model's special tokens.
pub struct Tokenizer {
    merger: Merger,
    /// The vocabulary's lookup tables (and, for byte-level BPE, its merges).
    bpe: Bpe,
    specials: SpecialTokens,
    /// The raw bytes of every token, concatenated; token `i` ends at `piece_ends[i]`.
    pieces: Vec<u8>,
    piece_ends: Vec<u32>,
    bos: Option<u32>,
    eos: Option<u32>,
    eot: Option<u32>,
    add_bos: bool,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("vocab_size", &self.vocab_size())
            .field("bos", &self.bos)
            .field("eos", &self.eos)
            .field("eot", &self.eot)
            .field("add_bos", &self.add_bos)
            .finish()
    }
}

impl Tokenizer {
    /// Builds the tokenizer from the file's metadata; bad metadata gives an error naming the file
    /// and the key.
    pub fn from_gguf(file: &GgufFile) -> Result<Tokenizer> {
        let meta = VocabMetadata::read(file)?;
        let (merger, bpe) = match meta.kind {
            VocabKind::ByteLevel(pre) => {
                let bpe = Bpe::new(file.name(), meta.tokens.clone(), meta.merges, pre.whole_word_lookup())?;
                let words = pre.pipeline().map_err(|e| anyhow!("cannot compile the pre-tokenizer regex: {e}"))?;
                (Merger::ByteLevel { pre, words }, bpe)
            }
            VocabKind::SentencePiece { add_space_prefix, scores } => {
                let bpe = Bpe::new(file.name(), meta.tokens.clone(), None, false)?;
                let mut fallback = Box::new(spm::Fallback { byte_ids: [None; 256], unknown: None });
                for (id, (text, ty)) in (0u32..).zip(meta.tokens.iter().zip(&meta.types)) {
                    match (ty, spm::byte_token_value(text)) {
                        (TokenType::Byte, Some(byte)) => fallback.byte_ids[usize::from(byte)] = Some(id),
                        (TokenType::Unknown, _) if fallback.unknown.is_none() => fallback.unknown = Some(id),
                        _ => {}
                    }
                }
                (Merger::SentencePiece { scores: scores.to_vec(), fallback, add_space_prefix }, bpe)
            }
        };
        let sentencepiece = matches!(merger, Merger::SentencePiece { .. });

        let mut pieces = Vec::new();
        let mut piece_ends = Vec::with_capacity(meta.tokens.len());
        for (text, ty) in meta.tokens.iter().zip(&meta.types) {
            match ty {
                TokenType::Normal if sentencepiece => {
                    pieces.extend_from_slice(text.replace(spm::SPACE, " ").as_bytes());
                }
                TokenType::Normal => byte_level::decode_text(text, &mut pieces),
                TokenType::Byte if sentencepiece => pieces.extend(spm::byte_token_value(text)),
                TokenType::UserDefined => pieces.extend_from_slice(text.as_bytes()),
                _ => {}
            }
            piece_ends.push(u32::try_from(pieces.len()).context("a vocabulary of more than 4 GiB")?);
        }
        pieces.shrink_to_fit();
        let specials = SpecialTokens::new(
            (0u32..).zip(meta.tokens.iter()).zip(&meta.types).map(|((id, text), &ty)| (id, text, ty)),
        );
        Ok(Tokenizer {
            merger,
            bpe,
            specials,
            pieces,
            piece_ends,
            bos: meta.bos,
            eos: meta.eos,
            eot: meta.eot,
            add_bos: meta.add_bos,
        })
    }

    /// Token ids of `text`. `add_bos` prepends BOS (an error when the model has none);
    /// `parse_special` turns control tokens written in the text (`<|eot_id|>`) into their ids.
    pub fn encode(&self, text: &str, add_bos: bool, parse_special: bool) -> Result<Vec<u32>> {
        let mut ids = Vec::with_capacity(text.len() / 3 + 2);
        if add_bos {
            ids.push(self.bos.context("this model has no BOS token (tokenizer.ggml.bos_token_id)")?);
        }
        // SentencePiece: a space goes before text at the start and after a special token.
        let mut after_special = true;
        for fragment in self.specials.split(text, parse_special) {
            match (fragment, &self.merger) {
                (Fragment::Token(id), _) => {
                    ids.push(id);
                    after_special = true;
                }
                (Fragment::Text(piece), Merger::ByteLevel { words, .. }) => {
                    let mut split = PreTokenizedString::from(piece);
                    words.pre_tokenize(&mut split).map_err(|e| anyhow!("cannot tokenize {piece:?}: {e}"))?;
                    for (word, _, _) in split.get_splits(OffsetReferential::Original, OffsetType::Byte) {
                        self.bpe.encode_word(word, &mut ids);
                    }
                }
                (Fragment::Text(piece), Merger::SentencePiece { scores, fallback, add_space_prefix }) => {
                    let prefix = if *add_space_prefix && after_special { " " } else { "" };
                    let escaped = format!("{prefix}{piece}").replace(' ', "▁");
                    spm::encode(&self.bpe, scores, fallback, &escaped, &mut ids);
                    after_special = false;
                }
            }
        }
        Ok(ids)
    }

    /// The regex family that cuts text into words before the merges (None for SentencePiece).
    pub fn pre_tokenizer(&self) -> Option<PreTokenizer> {
        match self.merger {
            Merger::ByteLevel { pre, .. } => Some(pre),
            Merger::SentencePiece { .. } => None,
        }
    }

    pub fn bos(&self) -> Option<u32> {
        self.bos
    }

    pub fn eos(&self) -> Option<u32> {
        self.eos
    }

    /// End of turn: `tokenizer.ggml.eot_token_id`, else the token `<|eot_id|>`, `<|im_end|>`,
    /// `<|end|>` or `<end_of_turn>` (llama.cpp's detection).
    pub fn eot(&self) -> Option<u32> {
        self.eot
    }

    /// Whether prompts start with BOS (`tokenizer.ggml.add_bos_token`).
    pub fn add_bos_default(&self) -> bool {
        self.add_bos
    }

    /// Whether sampling `id` ends the reply (EOS or EOT).
    pub fn is_end_of_generation(&self, id: u32) -> bool {
        Some(id) == self.eos || Some(id) == self.eot
    }

    pub fn vocab_size(&self) -> usize {
        self.bpe.vocab_size()
    }

    /// The id of a vocabulary entry, by its stored text (`"Ġworld"`, `"<|eot_id|>"`).
    pub fn token_id(&self, text: &str) -> Option<u32> {
        self.bpe.id_of(text)
    }

    /// The stored text of a vocabulary entry (the byte-level alphabet for BPE pieces).
    pub fn token_text(&self, id: u32) -> Option<String> {
        self.bpe.text(id).map(str::to_owned)
    }

    /// The raw bytes a token stands for: empty for control tokens and unknown ids.
    pub fn token_bytes(&self, id: u32) -> &[u8] {
        let i = id as usize;
        match self.piece_ends.get(i) {
            Some(&end) => {
                let start = if i == 0 { 0 } else { self.piece_ends[i - 1] };
                &self.pieces[start as usize..end as usize]
            }
            None => &[],
        }
    }

    /// The text of `ids`; control tokens give nothing, broken UTF-8 gives U+FFFD. With
    /// SentencePiece, a first token that starts with a space loses it: the encoding put it there
    /// (llama.cpp's detokenizer drops it too).
    pub fn decode(&self, ids: &[u32]) -> String {
        let prefixed = matches!(self.merger, Merger::SentencePiece { add_space_prefix: true, .. })
            && ids.first().is_some_and(|&id| self.token_bytes(id).first() == Some(&b' '));
        let bytes: Vec<u8> =
            ids.iter().flat_map(|&id| self.token_bytes(id).iter().copied()).skip(usize::from(prefixed)).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

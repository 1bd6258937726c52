//! The tokenizer of a GGUF model: byte-level BPE built from `tokenizer.ggml.*` metadata, with
//! llama.cpp's rules for special tokens, BOS and end of generation.
//!
//! Encoding: special tokens are cut out of the text first (`special`), each remaining piece is
//! split into words by the pre-tokenizer regexes (`pre_tokenizer`, the `tokenizers` crate's) and
//! each word merged by BPE (`bpe`). Decoding maps each
//! token to its raw bytes (`byte_level`); [`StreamDecoder`] does it incrementally.

mod bpe;
pub(crate) mod byte_level;
mod metadata;
mod pre_tokenizer;
mod special;
mod stream;
mod token_type;

use anyhow::{anyhow, Context, Result};
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::{OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer as _};

use crate::gguf::GgufFile;
use bpe::Bpe;
use metadata::VocabMetadata;
use special::{Fragment, SpecialTokens};

pub use pre_tokenizer::PreTokenizer;
pub use stream::StreamDecoder;
pub use token_type::TokenType;

/// A byte-level BPE tokenizer with the model's special tokens.
pub struct Tokenizer {
    pre: PreTokenizer,
    /// `pre`'s pipeline: cuts text into words.
    words: Sequence,
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
        let bpe = Bpe::new(file.name(), meta.tokens.clone(), meta.merges, meta.pre.whole_word_lookup())?;
        let words = meta.pre.pipeline().map_err(|e| anyhow!("cannot compile the pre-tokenizer regex: {e}"))?;

        let mut pieces = Vec::new();
        let mut piece_ends = Vec::with_capacity(meta.tokens.len());
        for (text, ty) in meta.tokens.iter().zip(&meta.types) {
            match ty {
                TokenType::Normal => byte_level::decode_text(text, &mut pieces),
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
            pre: meta.pre,
            words,
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
        for fragment in self.specials.split(text, parse_special) {
            match fragment {
                Fragment::Token(id) => ids.push(id),
                Fragment::Text(piece) => {
                    let mut words = PreTokenizedString::from(piece);
                    self.words.pre_tokenize(&mut words).map_err(|e| anyhow!("cannot tokenize {piece:?}: {e}"))?;
                    for (word, _, _) in words.get_splits(OffsetReferential::Original, OffsetType::Byte) {
                        self.bpe.encode_word(word, &mut ids);
                    }
                }
            }
        }
        Ok(ids)
    }

    /// The regex family that cuts text into words before the merges.
    pub fn pre_tokenizer(&self) -> PreTokenizer {
        self.pre
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

    /// The text of `ids`; control tokens give nothing, broken UTF-8 gives U+FFFD.
    pub fn decode(&self, ids: &[u32]) -> String {
        let bytes: Vec<u8> = ids.iter().flat_map(|&id| self.token_bytes(id).iter().copied()).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

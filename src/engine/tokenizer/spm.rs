//! SentencePiece-style BPE (`tokenizer.ggml.model = "llama"`), as llama.cpp's `llm_tokenizer_spm`
//! runs it: spaces become `▁`, the text starts as one symbol per character, and the adjacent pair
//! whose concatenation is the highest-scoring token is merged first (the leftmost among equal
//! scores) until no pair is a token. Every merge makes a token, so a final symbol is a token or
//! a single character; a character that is no token becomes its UTF-8 bytes as `<0xAB>` tokens
//! (byte fallback).

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::bpe::Bpe;

/// The escaped space.
pub const SPACE: char = '▁';

/// A symbol: a byte range of the escaped text, in a linked list (`prev`/`next`, -1 ends it);
/// merged-away symbols have `len` 0.
#[derive(Clone, Copy)]
struct Symbol {
    start: usize,
    len: usize,
    prev: isize,
    next: isize,
}

/// A candidate merge of `left` and its next symbol, `size` bytes long when it was proposed.
struct Bigram {
    score: f32,
    left: usize,
    right: usize,
    size: usize,
}

impl PartialEq for Bigram {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Bigram {}
impl PartialOrd for Bigram {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Bigram {
    /// The greatest is merged first: the higher score, then the leftmost.
    fn cmp(&self, other: &Self) -> Ordering {
        self.score.total_cmp(&other.score).then_with(|| Reverse(self.left).cmp(&Reverse(other.left)))
    }
}

/// How characters without a token of their own are written.
pub struct Fallback {
    /// `byte_ids[b]` is the id of `<0xBB>`, if the vocabulary has it.
    pub byte_ids: [Option<u32>; 256],
    /// The unknown token, for a character some of whose bytes have no token either.
    pub unknown: Option<u32>,
}

/// `text` (already escaped: `▁` for spaces) as token ids, appended to `out`. `scores` are the
/// vocabulary's, by id.
pub fn encode(vocab: &Bpe, scores: &[f32], fallback: &Fallback, text: &str, out: &mut Vec<u32>) {
    let mut symbols: Vec<Symbol> = Vec::with_capacity(text.len());
    for (i, (start, c)) in text.char_indices().enumerate() {
        symbols.push(Symbol { start, len: c.len_utf8(), prev: i as isize - 1, next: i as isize + 1 });
    }
    if let Some(last) = symbols.last_mut() {
        last.next = -1;
    }
    let mut queue = BinaryHeap::new();
    let propose = |left: isize, right: isize, symbols: &[Symbol], queue: &mut BinaryHeap<Bigram>| {
        if left < 0 || right < 0 {
            return;
        }
        let (l, r) = (symbols[left as usize], symbols[right as usize]);
        let joined = &text[l.start..r.start + r.len];
        if let Some(id) = vocab.id_of(joined) {
            let score = scores.get(id as usize).copied().unwrap_or(0.0);
            queue.push(Bigram { score, left: left as usize, right: right as usize, size: joined.len() });
        }
    };
    for i in 1..symbols.len() {
        propose(i as isize - 1, i as isize, &symbols, &mut queue);
    }
    while let Some(bigram) = queue.pop() {
        let (l, r) = (symbols[bigram.left], symbols[bigram.right]);
        // Either side was merged into something else since this pair was proposed.
        if l.len == 0 || r.len == 0 || l.len + r.len != bigram.size {
            continue;
        }
        symbols[bigram.left].len += r.len;
        symbols[bigram.right].len = 0;
        symbols[bigram.left].next = r.next;
        if r.next >= 0 {
            symbols[r.next as usize].prev = bigram.left as isize;
        }
        let merged = symbols[bigram.left];
        propose(merged.prev, bigram.left as isize, &symbols, &mut queue);
        propose(bigram.left as isize, merged.next, &symbols, &mut queue);
    }
    let mut at = if symbols.is_empty() { -1 } else { 0 };
    while at >= 0 {
        let symbol = symbols[at as usize];
        let piece = &text[symbol.start..symbol.start + symbol.len];
        let bytes: Option<Vec<u32>> = piece.bytes().map(|b| fallback.byte_ids[usize::from(b)]).collect();
        match (vocab.id_of(piece), bytes) {
            (Some(id), _) => out.push(id),
            (None, Some(bytes)) => out.extend(bytes),
            (None, None) => out.extend(fallback.unknown),
        }
        at = symbol.next;
    }
}

/// The byte a `<0xAB>` token stands for.
pub fn byte_token_value(text: &str) -> Option<u8> {
    let hex = text.strip_prefix("<0x")?.strip_suffix('>')?;
    (hex.len() == 2).then(|| u8::from_str_radix(hex, 16).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_tokens_name_their_byte() {
        assert_eq!(byte_token_value("<0x0A>"), Some(10));
        assert_eq!(byte_token_value("<0xff>"), Some(255));
        assert_eq!(byte_token_value("<0x1>"), None);
        assert_eq!(byte_token_value("0x41"), None);
    }
}

//! Byte-level BPE over the file's vocabulary and ranked merges, kept in flat sorted tables, merged
//! as `tokenizers` and llama.cpp merge: the lowest-ranked adjacent pair first, the leftmost among
//! equals, until no pair has a merge.
//!
//! Why not the `tokenizers` crate's BPE model: it keeps three hash maps (text → id, id → text and
//! the merges), half-empty at LLaMA 3's size, plus an allocation per token text in each of the
//! first two; for 128,256 tokens and 280,147 merges they took 34 MB, more than half of what a chat
//! may use besides its weights. These tables take about 7 MB. The crate still cuts text into
//! words (`pre_tokenizer`).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hash::BuildHasher;

use anyhow::{bail, Result};
use foldhash::fast::RandomState;

use super::byte_level;
use crate::gguf::StringArray;

/// The vocabulary and merges of a byte-level BPE model.
pub struct Bpe {
    /// Every token's stored text (the byte-level alphabet for BPE pieces), by id.
    texts: StringArray,
    /// Lookups by text: an open-addressing table of ids (`NONE` empty), at most half full.
    by_text: Vec<u32>,
    /// Seeded, so no file can make its texts collide on purpose.
    hasher: RandomState,
    /// One entry per distinct pair, ordered by pair.
    merges: Vec<Merge>,
    /// The id of each byte's one-character token, if the vocabulary has it.
    byte_ids: [Option<u32>; 256],
    /// LLaMA 3 (tiktoken): a word that is itself a token is taken whole, before any merge.
    whole_word_lookup: bool,
}

#[derive(Debug, Clone, Copy)]
struct Merge {
    pair: u64,
    rank: u32,
    id: u32,
}

const fn pair_key(left: u32, right: u32) -> u64 {
    (left as u64) << 32 | right as u64
}

/// A symbol of a word being merged: a token id in a doubly linked list over the word's
/// characters (`NONE` ends it); merged-away symbols are no longer `alive`.
#[derive(Clone, Copy)]
struct Symbol {
    id: u32,
    prev: u32,
    next: u32,
    alive: bool,
}

const NONE: u32 = u32::MAX;

impl Bpe {
    /// The tables for `texts` (ids in order) and `merges` (`"left right"`, rank = index).
    /// Errors name `file` and the merge: a malformed entry, or a part or result not in the
    /// vocabulary. A pair listed twice keeps its first rank, as in llama.cpp.
    pub fn new(file: &str, texts: StringArray, merges: Option<&StringArray>, whole_word_lookup: bool) -> Result<Bpe> {
        let slots = (texts.len() * 2).next_power_of_two();
        let mut bpe = Bpe {
            texts,
            by_text: vec![NONE; slots],
            hasher: RandomState::default(),
            merges: Vec::new(),
            byte_ids: [None; 256],
            whole_word_lookup,
        };
        for id in 0..bpe.texts.len() as u32 {
            // An equal text already there gives way: the last id wins, as in llama.cpp.
            let slot = bpe.slot_of(text_of(&bpe.texts, id));
            bpe.by_text[slot] = id;
        }
        for byte in 0..=255u8 {
            let mut buf = [0u8; 4];
            bpe.byte_ids[usize::from(byte)] = bpe.id_of(byte_level::byte_to_char(byte).encode_utf8(&mut buf));
        }
        let Some(merges) = merges else { return Ok(bpe) };

        let mut table = Vec::with_capacity(merges.len());
        let mut joined = String::new();
        for (rank, merge) in merges.iter().enumerate() {
            let Some((left, right)) = split_merge(merge) else {
                bail!("{file}: tokenizer.ggml.merges[{rank}] is {merge:?}, not \"left right\"");
            };
            joined.clear();
            joined.push_str(left);
            joined.push_str(right);
            let ids = [left, right, joined.as_str()].map(|text| bpe.id_of(text));
            let [Some(l), Some(r), Some(id)] = ids else {
                let missing = [left, right, joined.as_str()].into_iter().zip(ids).find(|(_, id)| id.is_none());
                let text = missing.map(|(text, _)| text).unwrap_or_default();
                bail!("{file}: tokenizer.ggml.merges[{rank}] is {merge:?}, but {text:?} is not in the vocabulary");
            };
            table.push(Merge { pair: pair_key(l, r), rank: rank as u32, id });
        }
        table.sort_unstable_by_key(|m| (m.pair, m.rank));
        table.dedup_by_key(|m| m.pair);
        table.shrink_to_fit();
        bpe.merges = table;
        Ok(bpe)
    }

    pub fn vocab_size(&self) -> usize {
        self.texts.len()
    }

    /// The stored text of token `id`.
    pub fn text(&self, id: u32) -> Option<&str> {
        self.texts.get(id as usize)
    }

    /// The id of a vocabulary text; of equal texts the last id wins, as in llama.cpp.
    pub fn id_of(&self, text: &str) -> Option<u32> {
        let id = self.by_text[self.slot_of(text)];
        (id != NONE).then_some(id)
    }

    /// The slot of `text` in `by_text`: the one holding it, else the empty one where it would go.
    fn slot_of(&self, text: &str) -> usize {
        let mask = self.by_text.len() - 1;
        let mut slot = self.hasher.hash_one(text) as usize & mask;
        loop {
            let id = self.by_text[slot];
            if id == NONE || text_of(&self.texts, id) == text {
                return slot;
            }
            slot = (slot + 1) & mask;
        }
    }

    /// The rank and result of merging `left` then `right`, if they merge.
    fn merge_of(&self, left: u32, right: u32) -> Option<(u32, u32)> {
        let key = pair_key(left, right);
        let at = self.merges.binary_search_by_key(&key, |m| m.pair).ok()?;
        Some((self.merges[at].rank, self.merges[at].id))
    }

    /// Appends the tokens of one pre-tokenized word (in the byte-level alphabet) to `out`.
    /// Characters without a token are left out, as `tokenizers` does without an unknown token.
    pub fn encode_word(&self, word: &str, out: &mut Vec<u32>) {
        if self.whole_word_lookup {
            if let Some(id) = self.id_of(word) {
                out.push(id);
                return;
            }
        }
        let mut symbols: Vec<Symbol> = Vec::with_capacity(word.len());
        for c in word.chars() {
            let id = match byte_level::char_to_byte(c) {
                Some(byte) => self.byte_ids[usize::from(byte)],
                None => self.id_of(c.encode_utf8(&mut [0u8; 4])),
            };
            if let Some(id) = id {
                let at = symbols.len() as u32;
                symbols.push(Symbol { id, prev: at.wrapping_sub(1), next: at + 1, alive: true });
            }
        }
        if let Some(last) = symbols.last_mut() {
            last.next = NONE;
        }
        self.merge_symbols(&mut symbols);
        out.extend(symbols.iter().filter(|s| s.alive).map(|s| s.id));
    }

    /// Applies merges lowest rank first, leftmost first among equal ranks. Queue entries are
    /// (rank, position of the left symbol, result); an entry whose pair has changed since it was
    /// queued is skipped when it comes up.
    fn merge_symbols(&self, symbols: &mut [Symbol]) {
        let mut queue: BinaryHeap<Reverse<(u32, u32, u32)>> = symbols
            .windows(2)
            .enumerate()
            .filter_map(|(at, pair)| {
                self.merge_of(pair[0].id, pair[1].id).map(|(rank, id)| Reverse((rank, at as u32, id)))
            })
            .collect();
        while let Some(Reverse((_, at, id))) = queue.pop() {
            let left = symbols[at as usize];
            if !left.alive || left.next == NONE {
                continue;
            }
            let right = symbols[left.next as usize];
            if self.merge_of(left.id, right.id).is_none_or(|(_, result)| result != id) {
                continue;
            }
            symbols[at as usize] = Symbol { id, next: right.next, ..left };
            symbols[left.next as usize].alive = false;
            if right.next != NONE {
                symbols[right.next as usize].prev = at;
            }
            if left.prev != NONE {
                if let Some((rank, id)) = self.merge_of(symbols[left.prev as usize].id, id) {
                    queue.push(Reverse((rank, left.prev, id)));
                }
            }
            if right.next != NONE {
                if let Some((rank, next_id)) = self.merge_of(id, symbols[right.next as usize].id) {
                    queue.push(Reverse((rank, at, next_id)));
                }
            }
        }
    }
}

fn text_of(texts: &StringArray, id: u32) -> &str {
    texts.get(id as usize).unwrap_or_default()
}

/// `"left right"` split at the first space after the first character.
fn split_merge(merge: &str) -> Option<(&str, &str)> {
    let first_len = merge.chars().next()?.len_utf8();
    let at = first_len + merge[first_len..].find(' ')?;
    let (left, right) = (&merge[..at], &merge[at + 1..]);
    (!right.is_empty()).then_some((left, right))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bpe(tokens: &[&str], merges: &[&str]) -> Bpe {
        let merges: StringArray = merges.iter().collect();
        Bpe::new("t.gguf", tokens.iter().collect(), Some(&merges), false).expect("builds")
    }

    fn encode(bpe: &Bpe, word: &str) -> Vec<u32> {
        let mut out = Vec::new();
        bpe.encode_word(word, &mut out);
        out
    }

    #[test]
    fn merges_split_after_the_first_character() {
        assert_eq!(split_merge("Ġ Ġ"), Some(("Ġ", "Ġ")));
        assert_eq!(split_merge("i n"), Some(("i", "n")));
        assert_eq!(split_merge("  x"), Some((" ", "x")));
        assert_eq!(split_merge("ab"), None);
        assert_eq!(split_merge("a "), None);
        assert_eq!(split_merge(""), None);
    }

    #[test]
    fn lowest_rank_first_then_leftmost() {
        // ids:          0    1    2    3     4     5
        let b = bpe(&["a", "b", "c", "ab", "bc", "abc"], &["b c", "a b", "a bc"]);
        // "b c" outranks "a b": a + bc, then abc.
        assert_eq!(encode(&b, "abc"), [5]);
        // Equal pairs merge left to right: "aaa" → aa + a.
        let b = bpe(&["a", "aa"], &["a a"]);
        assert_eq!(encode(&b, "aaa"), [1, 0]);
        assert_eq!(encode(&b, "aaaa"), [1, 1]);
    }

    #[test]
    fn a_pair_listed_twice_keeps_its_first_rank() {
        let b = bpe(&["a", "b", "c", "ab", "bc"], &["a b", "b c", "a b"]);
        assert_eq!(encode(&b, "abc"), [3, 2]);
    }

    #[test]
    fn equal_texts_resolve_to_the_last_id() {
        let b = bpe(&["x", "y", "x"], &[]);
        assert_eq!(b.id_of("x"), Some(2));
        assert_eq!(b.id_of("y"), Some(1));
        assert_eq!(b.id_of("z"), None);
        assert_eq!(b.id_of(""), None);
    }

    #[test]
    fn characters_without_a_token_are_left_out() {
        let b = bpe(&["a", "b"], &[]);
        assert_eq!(encode(&b, "aĠb"), [0, 1]);
    }

    #[test]
    fn bad_merges_name_the_entry() {
        let texts: StringArray = ["a", "b", "ab"].into_iter().collect();
        for (merges, missing) in [(["a b", "ab"], "not \"left right\""), (["a b", "a c"], "\"c\" is not")] {
            let merges: StringArray = merges.into_iter().collect();
            let err = Bpe::new("t.gguf", texts.clone(), Some(&merges), false).err().expect("refused").to_string();
            assert!(err.contains("t.gguf") && err.contains("merges[1]") && err.contains(missing), "{err}");
        }
    }
}

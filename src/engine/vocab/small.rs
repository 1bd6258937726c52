//! A small byte-level BPE vocabulary that needs no download: the 256 bytes, merges learned by
//! plain BPE over a short English text kept in `assets/vocab/`, then LLaMA 3's special tokens.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

use super::{llama3_special_tokens, Vocab};

const CORPUS: &str = include_str!("../../../assets/vocab/english-sample.txt");

/// The most merges to learn; learning also stops when no pair occurs twice.
const MAX_MERGES: usize = 400;

impl Vocab {
    /// 256 byte tokens (id = byte value), the learned pieces, then the 256 special tokens of
    /// LLaMA 3 (`<|begin_of_text|>`, `<|end_of_text|>`, `<|eot_id|>`, …). Deterministic.
    pub fn small_byte_level() -> Vocab {
        let (pieces, merges) = learn_bpe(CORPUS, MAX_MERGES);
        let texts: Vec<String> = pieces.iter().map(|p| super::byte_level::encode_bytes(p)).collect();
        let merges = merges.iter().map(|&(l, r)| format!("{} {}", texts[l as usize], texts[r as usize])).collect();
        Vocab::from_pieces(&pieces, merges, llama3_special_tokens())
    }
}

/// Plain BPE training: starting from single bytes, repeatedly merge the most frequent adjacent
/// pair (ties: the smallest pair of ids). Returns the pieces (bytes first) and the merges.
fn learn_bpe(corpus: &str, max_merges: usize) -> (Vec<Vec<u8>>, Vec<(u32, u32)>) {
    let mut pieces: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
    let mut piece_ids: HashMap<Vec<u8>, u32> = (0..=255u8).map(|b| (vec![b], b.into())).collect();
    let mut words: Vec<(Vec<u32>, usize)> =
        word_counts(corpus).into_iter().map(|(word, n)| (word.bytes().map(u32::from).collect(), n)).collect();
    let mut merges = Vec::new();
    while merges.len() < max_merges {
        let mut pair_counts: HashMap<(u32, u32), usize> = HashMap::new();
        for (symbols, n) in &words {
            for pair in symbols.windows(2) {
                *pair_counts.entry((pair[0], pair[1])).or_default() += n;
            }
        }
        let Some((pair, count)) = pair_counts.into_iter().max_by_key(|&(pair, count)| (count, Reverse(pair))) else {
            break;
        };
        if count < 2 {
            break;
        }
        let merged = [pieces[pair.0 as usize].as_slice(), &pieces[pair.1 as usize]].concat();
        let id = *piece_ids.entry(merged.clone()).or_insert_with(|| {
            pieces.push(merged);
            (pieces.len() - 1) as u32
        });
        merges.push(pair);
        for (symbols, _) in &mut words {
            merge_pair(symbols, pair, id);
        }
    }
    (pieces, merges)
}

/// Replaces each occurrence of `pair` in `symbols`, left to right, with `id`.
fn merge_pair(symbols: &mut Vec<u32>, pair: (u32, u32), id: u32) {
    let mut out = Vec::with_capacity(symbols.len());
    let mut i = 0;
    while i < symbols.len() {
        if i + 1 < symbols.len() && (symbols[i], symbols[i + 1]) == pair {
            out.push(id);
            i += 2;
        } else {
            out.push(symbols[i]);
            i += 1;
        }
    }
    *symbols = out;
}

/// Words with their counts. A word is a run of letters and digits with the space before it,
/// or a run of other characters; a space always starts a new word.
fn word_counts(corpus: &str) -> BTreeMap<&str, usize> {
    let mut counts = BTreeMap::new();
    let mut start = 0;
    let mut prev: Option<char> = None;
    for (i, c) in corpus.char_indices() {
        let boundary = match prev {
            None => false,
            Some(p) => c == ' ' || (p != ' ' && p.is_alphanumeric() != c.is_alphanumeric()),
        };
        if boundary {
            *counts.entry(&corpus[start..i]).or_default() += 1;
            start = i;
        }
        prev = Some(c);
    }
    if start < corpus.len() {
        *counts.entry(&corpus[start..]).or_default() += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_their_leading_space() {
        let counts = word_counts("the cat, the hat");
        let words: Vec<(&str, usize)> = counts.into_iter().collect();
        assert_eq!(words, [(" cat", 1), (" hat", 1), (" the", 1), (",", 1), ("the", 1)]);
    }

    #[test]
    fn learns_the_most_frequent_pair_first() {
        let (pieces, merges) = learn_bpe("ab ab ab cd", 10);
        assert_eq!(merges[0], (u32::from(b'a'), u32::from(b'b')));
        assert_eq!(pieces[256], b"ab");
        assert!(merges.len() <= 10);
    }

    #[test]
    fn merge_pair_is_left_to_right() {
        let mut symbols = vec![1, 1, 1];
        merge_pair(&mut symbols, (1, 1), 9);
        assert_eq!(symbols, [9, 1]);
    }
}

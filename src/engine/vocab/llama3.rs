//! The LLaMA-3 vocabulary from its tiktoken file (`llama_models/llama3/tokenizer.model` of the
//! PyPI package `llama-models`): one `base64-bytes rank` pair per line.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use base64::Engine;

use super::{llama3_special_tokens, Vocab};

impl Vocab {
    /// The 128000 ranks of the tiktoken file, then the 256 special tokens; merges by Hugging
    /// Face's tiktoken conversion rule, so the result equals the arrays of BitNet b1.58's GGUF.
    pub fn llama3_from_tiktoken(path: &Path) -> Result<Vocab> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let pieces = parse_ranks(&text).with_context(|| format!("{}", path.display()))?;
        let merges = merges_of(&pieces);
        Ok(Vocab::from_pieces(&pieces, merges, llama3_special_tokens()))
    }
}

/// The byte strings of the file, indexed by rank (which must count up from 0, line by line).
fn parse_ranks(text: &str) -> Result<Vec<Vec<u8>>> {
    let b64 = base64::engine::general_purpose::STANDARD;
    text.lines()
        .filter(|line| !line.is_empty())
        .enumerate()
        .map(|(i, line)| {
            let Some((encoded, rank)) = line.split_once(' ') else {
                bail!("line {}: expected \"BASE64 RANK\", got {line:?}", i + 1);
            };
            if rank.parse::<usize>().ok() != Some(i) {
                bail!("line {}: rank {rank:?}, expected {i}", i + 1);
            }
            b64.decode(encoded).with_context(|| format!("line {}: bad base64 {encoded:?}", i + 1))
        })
        .collect()
}

/// For every piece of two bytes or more, and every split of it whose halves are both pieces:
/// the merge `left right`. Ordered by the piece's rank, then by (rank(left), rank(right)).
fn merges_of(pieces: &[Vec<u8>]) -> Vec<String> {
    let rank: HashMap<&[u8], usize> = pieces.iter().enumerate().map(|(r, p)| (p.as_slice(), r)).collect();
    let texts: Vec<String> = pieces.iter().map(|p| super::byte_level::encode_bytes(p)).collect();
    let mut merges = Vec::new();
    let mut splits = Vec::new();
    for piece in pieces.iter().filter(|p| p.len() >= 2) {
        splits.clear();
        splits.extend((1..piece.len()).filter_map(|at| {
            let (left, right) = piece.split_at(at);
            Some((*rank.get(left)?, *rank.get(right)?))
        }));
        splits.sort_unstable();
        merges.extend(splits.iter().map(|&(l, r)| format!("{} {}", texts[l], texts[r])));
    }
    merges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_follow_piece_rank_then_half_ranks() {
        let pieces: Vec<Vec<u8>> = ["a", "b", "c", "bc", "ab", "abc"].iter().map(|s| s.as_bytes().to_vec()).collect();
        assert_eq!(merges_of(&pieces), ["b c", "a b", "a bc", "ab c"]);
    }

    #[test]
    fn ranks_must_count_up() {
        assert_eq!(parse_ranks("YQ== 0\nYg== 1\n").expect("parses"), [b"a".to_vec(), b"b".to_vec()]);
        assert!(parse_ranks("YQ== 0\nYg== 2\n").is_err());
        assert!(parse_ranks("YQ==\n").is_err());
        assert!(parse_ranks("!!! 0\n").is_err());
    }
}

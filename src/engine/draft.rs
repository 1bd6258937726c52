//! Prompt-lookup drafting for speculative decoding, without a draft model: the last few tokens
//! of a sequence are looked up earlier in the same sequence (its prompt and its reply so far),
//! and the tokens that followed them there are proposed as the next ones. The scheduler feeds
//! the proposal as decode rows after the sampled token, and the sampler keeps the prefix it
//! would have produced anyway ([`Sampler::sample_with_draft`]), so at temperature 0 the text is
//! the same as without drafting, bit for bit, and with sampling its distribution is.
//!
//! It pays where a reply repeats its input (rewriting code, reformatting a document, quoting):
//! one pass over the weights then yields several tokens. Elsewhere proposals are rare and
//! short, and [`Drafter`] stops proposing after repeated misses, so open-ended text costs
//! (almost) nothing.
//!
//! [`Sampler::sample_with_draft`]: super::sampler::Sampler::sample_with_draft

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Longest draft `--draft ngram:K` accepts.
pub const MAX_DRAFT_TOKENS: usize = 16;
/// The draft length of plain `ngram`.
pub const DEFAULT_DRAFT_TOKENS: usize = 8;
/// The longest and shortest suffix looked up: longer matches first, since they predict better;
/// a single token matches too often to be worth a pass.
const NGRAM_MAX: usize = 3;
const NGRAM_MIN: usize = 2;
/// The length a sequence's drafts start at, below the cap until drafts prove right.
const START_TOKENS: usize = 4;
/// Verifications in a row that keep none of their draft before the drafter pauses.
const MISSES_BEFORE_PAUSE: usize = 3;
/// Tokens a first pause lasts; each further pause without an accepted draft between doubles it,
/// up to the longest.
const PAUSE_TOKENS: usize = 16;
const LONGEST_PAUSE: usize = 256;

/// How replies are drafted (`--draft`, `draft` in config.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum DraftMode {
    /// Plain decoding, one token per pass.
    None,
    /// Prompt lookup, drafting at most `max` tokens at a time.
    Ngram { max: usize },
}

impl Default for DraftMode {
    fn default() -> Self {
        Self::Ngram { max: DEFAULT_DRAFT_TOKENS }
    }
}

impl FromStr for DraftMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad =
            || format!("'{text}' is not a draft mode; use none, ngram or ngram:K with K from 1 to {MAX_DRAFT_TOKENS}");
        match text.split_once(':') {
            None if text == "none" => Ok(Self::None),
            None if text == "ngram" => Ok(Self::default()),
            Some(("ngram", k)) => match k.parse::<usize>() {
                Ok(max) if (1..=MAX_DRAFT_TOKENS).contains(&max) => Ok(Self::Ngram { max }),
                _ => Err(bad()),
            },
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for DraftMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("none"),
            Self::Ngram { max } => write!(f, "ngram:{max}"),
        }
    }
}

impl TryFrom<String> for DraftMode {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

impl From<DraftMode> for String {
    fn from(mode: DraftMode) -> Self {
        mode.to_string()
    }
}

/// One sequence's drafting state: how long its drafts are now, and whether it is pausing.
///
/// The length adapts to what is being accepted: a draft kept whole doubles it (up to the cap),
/// one kept in part shrinks it to one past what was kept. After [`MISSES_BEFORE_PAUSE`]
/// verifications in a row kept nothing, the drafter proposes nothing for a while, longer each
/// time it happens again, so text that only looks repetitive stops paying for rejected rows.
#[derive(Debug, Clone)]
pub struct Drafter {
    max: usize,
    len: usize,
    misses: usize,
    pause: usize,
    next_pause: usize,
}

impl Drafter {
    /// A drafter for `mode`, or `None` when drafting is off.
    pub fn new(mode: DraftMode) -> Option<Self> {
        match mode {
            DraftMode::None => None,
            DraftMode::Ngram { max } => {
                Some(Self { max, len: START_TOKENS.min(max), misses: 0, pause: 0, next_pause: PAUSE_TOKENS })
            }
        }
    }

    /// Where in `history` the tokens proposed to follow it are (at most `room` of them); empty
    /// when nothing matches or the drafter is pausing. Called once per sampled token that the
    /// scheduler lets it draft after; a pause counts those tokens.
    pub fn propose(&mut self, history: &[u32], room: usize) -> Range<usize> {
        if self.pause > 0 {
            self.pause -= 1;
            return 0..0;
        }
        lookup(history, self.len.min(room))
    }

    /// Takes the outcome of verifying a draft of `drafted` tokens, `accepted` of them kept.
    pub fn record(&mut self, drafted: usize, accepted: usize) {
        if drafted == 0 {
            return;
        }
        if accepted == drafted {
            self.len = (2 * self.len).min(self.max);
        } else {
            self.len = self.len.min(accepted + 1);
        }
        if accepted > 0 {
            self.misses = 0;
            self.next_pause = PAUSE_TOKENS;
            return;
        }
        self.misses += 1;
        if self.misses >= MISSES_BEFORE_PAUSE {
            self.misses = 0;
            self.pause = self.next_pause;
            self.next_pause = (2 * self.next_pause).min(LONGEST_PAUSE);
        }
    }
}

/// Where the up to `max` tokens are that followed the most recent earlier occurrence of the end
/// of `history` (its last [`NGRAM_MAX`] tokens, else fewer, down to [`NGRAM_MIN`]).
fn lookup(history: &[u32], max: usize) -> Range<usize> {
    if max == 0 {
        return 0..0;
    }
    for n in (NGRAM_MIN..=NGRAM_MAX).rev() {
        let Some(start) = history.len().checked_sub(n) else { continue };
        let suffix = &history[start..];
        // Starts before `start`, so at least one token follows the occurrence.
        if let Some(i) = (0..start).rev().find(|&i| &history[i..i + n] == suffix) {
            let from = i + n;
            return from..(from + max).min(history.len());
        }
    }
    0..0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_print() {
        assert_eq!("none".parse(), Ok(DraftMode::None));
        assert_eq!("ngram".parse(), Ok(DraftMode::Ngram { max: DEFAULT_DRAFT_TOKENS }));
        assert_eq!("ngram:3".parse(), Ok(DraftMode::Ngram { max: 3 }));
        for bad in ["ngram:0", "ngram:17", "ngram:x", "draft", "none:2", ""] {
            let err = bad.parse::<DraftMode>().unwrap_err();
            assert!(err.contains(&format!("'{bad}'")) && err.contains("ngram:K"), "{err}");
        }
        assert_eq!(DraftMode::Ngram { max: 5 }.to_string(), "ngram:5");
        let json = serde_json::to_string(&DraftMode::None).unwrap();
        assert_eq!(json, "\"none\"");
        assert_eq!(serde_json::from_str::<DraftMode>("\"ngram:2\"").unwrap(), DraftMode::Ngram { max: 2 });
        assert!(serde_json::from_str::<DraftMode>("\"ngram:99\"").is_err());
    }

    fn lookup(history: &[u32], max: usize) -> &[u32] {
        &history[super::lookup(history, max)]
    }

    #[test]
    fn lookup_continues_the_latest_longest_match() {
        // "1 2 3 4 5 … 1 2 3" → 4 5 (the trigram matches).
        assert_eq!(lookup(&[1, 2, 3, 4, 5, 9, 1, 2, 3], 8), &[4, 5, 9, 1, 2, 3]);
        assert_eq!(lookup(&[1, 2, 3, 4, 5, 9, 1, 2, 3], 2), &[4, 5]);
        // The latest occurrence wins: "7 8" was followed by 1, then by 2.
        assert_eq!(lookup(&[7, 8, 1, 7, 8, 2, 0, 7, 8], 1), &[2]);
        // A trigram beats a more recent bigram.
        assert_eq!(lookup(&[5, 7, 8, 1, 9, 7, 8, 2, 5, 7, 8], 1), &[1]);
        // No repeated bigram: nothing, and a single repeated token is not enough.
        assert!(lookup(&[1, 2, 3, 4, 2], 4).is_empty());
        assert!(lookup(&[1, 2], 4).is_empty());
        assert!(lookup(&[], 4).is_empty());
        assert!(lookup(&[1, 2, 1, 2], 0).is_empty());
        // A run: the occurrence may overlap the suffix.
        assert_eq!(lookup(&[6, 6, 6, 6], 4), &[6]);
    }

    #[test]
    fn drafts_grow_when_kept_shrink_when_not_and_pause_after_misses() {
        let mut d = Drafter::new(DraftMode::Ngram { max: 8 }).unwrap();
        let history: Vec<u32> = (0..20).chain(0..3).collect();
        assert_eq!(d.propose(&history, 100).len(), START_TOKENS);
        d.record(4, 4);
        assert_eq!(d.propose(&history, 100).len(), 8);
        assert_eq!(d.propose(&history, 3).len(), 3, "room caps the draft");
        d.record(8, 2);
        assert_eq!(d.propose(&history, 100).len(), 3);
        for _ in 0..MISSES_BEFORE_PAUSE {
            d.record(1, 0);
        }
        for _ in 0..PAUSE_TOKENS {
            assert!(d.propose(&history, 100).is_empty(), "pausing");
        }
        assert_eq!(d.propose(&history, 100).len(), 1);
        // Misses again without a hit between: the pause doubles.
        for _ in 0..MISSES_BEFORE_PAUSE {
            d.record(1, 0);
        }
        assert_eq!((0..2 * PAUSE_TOKENS).filter(|_| d.propose(&history, 100).is_empty()).count(), 2 * PAUSE_TOKENS);
        assert!(!d.propose(&history, 100).is_empty());
        assert!(Drafter::new(DraftMode::None).is_none());
    }
}

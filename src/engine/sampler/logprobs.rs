//! Log-probabilities of a sampled token and of its most likely alternatives, for OpenAI's
//! `logprobs` / `top_logprobs`: the log-softmax of the logits the token was drawn from.

use super::filters::{by_rank, fill_candidates, top_k, Candidate};

/// A sampled token's log-probability and the `top` most likely tokens' (most likely first; ties
/// by lowest id).
#[derive(Debug, Clone, PartialEq)]
pub struct LogProbs {
    pub chosen: f32,
    pub top: Vec<(u32, f32)>,
}

/// The log-softmax at temperature 1 of `logits` at `chosen` and at the `top` highest logits.
/// NaN logits count as impossible. `candidates` is scratch space (its contents are replaced).
pub fn log_probs(logits: &[f32], chosen: u32, top: usize, candidates: &mut Vec<Candidate>) -> LogProbs {
    let max = logits.iter().copied().filter(|l| !l.is_nan()).fold(f32::NEG_INFINITY, f32::max);
    // Summed in f64: a vocabulary of 128k terms loses digits in f32.
    let sum: f64 = logits.iter().filter(|l| !l.is_nan()).map(|&l| f64::from(l - max).exp()).sum();
    let log_norm = f64::from(max) + sum.ln();
    let log_prob = |logit: f32| if logit.is_nan() { f32::NEG_INFINITY } else { (f64::from(logit) - log_norm) as f32 };
    let chosen_logit = logits.get(chosen as usize).copied().unwrap_or(f32::NAN);
    candidates.clear();
    if top > 0 {
        // A selection first: sorting the whole vocabulary for a few entries is wasted work.
        fill_candidates(candidates, logits);
        top_k(candidates, top);
        candidates.sort_unstable_by(by_rank);
    }
    LogProbs { chosen: log_prob(chosen_logit), top: candidates.iter().map(|c| (c.id, log_prob(c.logit))).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_probs_are_the_log_softmax_sorted_and_cut_to_top() {
        let logits = [1.0f32, 3.0, f32::NAN, 2.0, 3.0];
        let lp = log_probs(&logits, 3, 3, &mut Vec::new());
        let norm = (1f64.exp() + 3f64.exp() * 2.0 + 2f64.exp()).ln();
        let expect = |l: f64| (l - norm) as f32;
        assert_eq!(lp.chosen, expect(2.0));
        assert_eq!(lp.top, vec![(1, expect(3.0)), (4, expect(3.0)), (3, expect(2.0))]);
        let probability: f64 = [1.0f64, 3.0, 2.0, 3.0].iter().map(|&l| f64::from(expect(l)).exp()).sum();
        assert!((probability - 1.0).abs() < 1e-6, "{probability}");
    }

    #[test]
    fn zero_top_gives_only_the_chosen_token() {
        let lp = log_probs(&[0.0, 0.0], 1, 0, &mut Vec::new());
        assert!(lp.top.is_empty());
        assert!((lp.chosen - 0.5f32.ln()).abs() < 1e-7);
    }
}

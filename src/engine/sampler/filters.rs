//! The steps of the sampling chain as pure functions, so each one can be tested on its own.
//!
//! The filters work on a list of [`Candidate`]s (token id + logit). Probabilities are never
//! stored: where a filter needs them it takes the softmax of the current candidates' logits at
//! temperature 1, as llama.cpp does (temperature is applied only in [`draw`]).

use std::cmp::Ordering;

use rand::RngCore;

/// A token still in the running, with its (already penalized) logit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub id: u32,
    pub logit: f32,
}

/// Highest logit first; equal logits by lowest id, so every step is deterministic.
pub fn by_rank(a: &Candidate, b: &Candidate) -> Ordering {
    b.logit.total_cmp(&a.logit).then(a.id.cmp(&b.id))
}

/// Replaces the contents of `candidates` with one candidate per entry of `logits` (the id is the
/// index). NaN logits are left out: they have no meaningful probability.
pub fn fill_candidates(candidates: &mut Vec<Candidate>, logits: &[f32]) {
    candidates.clear();
    candidates.extend(
        (0u32..)
            .zip(logits)
            .filter(|(_, logit)| !logit.is_nan())
            // `+ 0.0` turns -0.0 into +0.0, so `total_cmp` ranks the two as a tie, like `==` does.
            .map(|(id, &logit)| Candidate { id, logit: logit + 0.0 }),
    );
}

/// llama.cpp-style repetition penalty. Each *distinct* token among the last `last_n` entries of
/// `recent` gets its logit divided by `penalty` if it is positive and multiplied by `penalty`
/// otherwise, so that (for `penalty > 1`) it always becomes less likely. `penalty == 1` or
/// `last_n == 0` changes nothing; ids outside `logits` are ignored.
///
/// `seen` is scratch space (its contents are replaced), passed in so the caller can reuse it.
pub fn apply_repeat_penalty(logits: &mut [f32], recent: &[u32], last_n: usize, penalty: f32, seen: &mut Vec<u32>) {
    if penalty == 1.0 || last_n == 0 {
        return;
    }
    let window = &recent[recent.len().saturating_sub(last_n)..];
    seen.clear();
    seen.extend_from_slice(window);
    seen.sort_unstable();
    seen.dedup();
    for &id in seen.iter() {
        if let Some(logit) = logits.get_mut(id as usize) {
            if *logit > 0.0 {
                *logit /= penalty;
            } else {
                *logit *= penalty;
            }
        }
    }
}

/// OpenAI's presence and frequency penalties, as llama.cpp's penalties sampler applies them
/// (after the repetition penalty, over the same window): each distinct token seen `count` times
/// among the last `last_n` entries of `recent` loses `presence + count × frequency` from its
/// logit. Zero for both, or `last_n == 0`, changes nothing; ids outside `logits` are ignored.
///
/// `seen` is scratch space (its contents are replaced), passed in so the caller can reuse it.
pub fn apply_presence_frequency(
    logits: &mut [f32],
    recent: &[u32],
    last_n: usize,
    presence: f32,
    frequency: f32,
    seen: &mut Vec<u32>,
) {
    if (presence == 0.0 && frequency == 0.0) || last_n == 0 {
        return;
    }
    seen.clear();
    seen.extend_from_slice(&recent[recent.len().saturating_sub(last_n)..]);
    seen.sort_unstable();
    for run in seen.chunk_by(|a, b| a == b) {
        if let Some(logit) = logits.get_mut(run[0] as usize) {
            *logit -= presence + run.len() as f32 * frequency;
        }
    }
}

/// The id of the highest logit; ties go to the lowest id. NaN never wins; with no logit that is
/// not NaN the answer is 0.
pub fn argmax(logits: &[f32]) -> u32 {
    let mut best: Option<(u32, f32)> = None;
    for (id, &logit) in (0u32..).zip(logits) {
        if !logit.is_nan() && best.is_none_or(|(_, best_logit)| logit > best_logit) {
            best = Some((id, logit));
        }
    }
    best.map_or(0, |(id, _)| id)
}

/// Keeps the `k` candidates with the highest logits (ties: lowest id); `k == 0` keeps all.
///
/// Uses a selection, not a sort (linear in the vocabulary size), so the order of the kept
/// candidates afterwards is unspecified.
pub fn top_k(candidates: &mut Vec<Candidate>, k: usize) {
    if k == 0 || k >= candidates.len() {
        return;
    }
    candidates.select_nth_unstable_by(k - 1, by_rank);
    candidates.truncate(k);
}

/// Nucleus filter: sorts the candidates by rank and keeps the smallest prefix whose cumulative
/// probability is `>= p` (reaching `p` exactly is enough). At least one candidate always stays,
/// so `p <= 0` keeps only the most probable. `p >= 1` (or NaN) keeps all and does not sort.
///
/// Without a preceding [`top_k`] this sorts the whole vocabulary.
pub fn top_p(candidates: &mut Vec<Candidate>, p: f32) {
    if p.is_nan() || p >= 1.0 {
        return;
    }
    candidates.sort_unstable_by(by_rank);
    let Some(max_logit) = candidates.first().map(|c| f64::from(c.logit)) else {
        return;
    };
    let weight = |c: &Candidate| (f64::from(c.logit) - max_logit).exp();
    let total: f64 = candidates.iter().map(weight).sum();
    let p = f64::from(p);
    let mut cumulative = 0.0;
    // If rounding keeps the sum just below `p`, nothing is cut.
    let mut keep = candidates.len();
    for (index, candidate) in candidates.iter().enumerate() {
        cumulative += weight(candidate) / total;
        if cumulative >= p {
            keep = index + 1;
            break;
        }
    }
    candidates.truncate(keep);
}

/// Keeps the candidates whose probability is at least `min_p` times that of the most probable
/// one, i.e. `exp(logit - max_logit) >= min_p`. The most probable candidates always stay (even
/// for `min_p > 1`). `min_p <= 0` (or NaN) keeps all. The order is preserved.
pub fn min_p(candidates: &mut Vec<Candidate>, min_p: f32) {
    if min_p.is_nan() || min_p <= 0.0 {
        return;
    }
    let max_logit = candidates.iter().map(|c| c.logit).fold(f32::NEG_INFINITY, f32::max);
    candidates.retain(|c| c.logit == max_logit || (c.logit - max_logit).exp() >= min_p);
}

/// Divides the logits by `temperature` (> 0), takes their softmax and draws one candidate with
/// `rng`. A candidate whose probability is 0 is never drawn.
///
/// # Panics
/// If `candidates` is empty: the filters always keep at least one.
pub fn draw(candidates: &[Candidate], temperature: f32, rng: &mut impl RngCore) -> u32 {
    let best = candidates.iter().min_by(|a, b| by_rank(a, b)).expect("the filters keep at least one candidate");
    let max_logit = f64::from(best.logit);
    let temperature = f64::from(temperature);
    let weight = |c: &Candidate| ((f64::from(c.logit) - max_logit) / temperature).exp();
    let total: f64 = candidates.iter().map(weight).sum();
    let target = unit_interval(rng) * total;
    let mut cumulative = 0.0;
    for candidate in candidates {
        cumulative += weight(candidate);
        if cumulative > target {
            return candidate.id;
        }
    }
    // Only reached through rounding or non-finite logits.
    best.id
}

/// Speculative sampling's rule for a draft token proposed with certainty (a lookup, not a
/// draft model): `draft` is kept with probability p(draft) under the same distribution as
/// [`draw`]'s, and otherwise a token is drawn from the others, renormalized (the residual
/// max(0, p − q) of Leviathan et al. when q is all on `draft`). Each token then comes out with
/// exactly its probability p: P(draft) = p(draft), P(x) = (1 − p(draft)) · p(x) / (1 − p(draft)).
/// A draft outside the candidates has p = 0 and is never kept.
///
/// # Panics
/// If `candidates` is empty: the filters always keep at least one.
pub fn draw_with_draft(candidates: &[Candidate], temperature: f32, draft: u32, rng: &mut impl RngCore) -> u32 {
    let best = candidates.iter().min_by(|a, b| by_rank(a, b)).expect("the filters keep at least one candidate");
    let max_logit = f64::from(best.logit);
    let temperature = f64::from(temperature);
    let weight = |c: &Candidate| ((f64::from(c.logit) - max_logit) / temperature).exp();
    let total: f64 = candidates.iter().map(weight).sum();
    let drafted = candidates.iter().find(|c| c.id == draft).map_or(0.0, weight);
    if unit_interval(rng) * total < drafted {
        return draft;
    }
    let rest = total - drafted;
    let target = unit_interval(rng) * rest;
    let mut cumulative = 0.0;
    let mut last = None;
    for candidate in candidates.iter().filter(|c| c.id != draft) {
        cumulative += weight(candidate);
        last = Some(candidate.id);
        if cumulative > target {
            return candidate.id;
        }
    }
    // Only reached through rounding, or when the draft was the only candidate (then p = 1 and
    // it was kept above, unless its weight rounded to nothing).
    last.unwrap_or(draft)
}

/// A uniform number in `[0, 1)` from the top 53 bits of one `u64`. Done here rather than with
/// `rand`'s float sampling so a seed keeps giving the same tokens whatever `rand` version is used.
fn unit_interval(rng: &mut impl RngCore) -> f64 {
    const SCALE: f64 = 1.0 / (1u64 << 53) as f64;
    (rng.next_u64() >> 11) as f64 * SCALE
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn candidates(logits: &[f32]) -> Vec<Candidate> {
        let mut list = Vec::new();
        fill_candidates(&mut list, logits);
        list
    }

    /// Candidates whose probabilities are exactly `probs` (up to f32 rounding of the logs).
    fn from_probs(probs: &[f32]) -> Vec<Candidate> {
        let logits: Vec<f32> = probs.iter().map(|p| p.ln()).collect();
        candidates(&logits)
    }

    fn kept_ids(list: &[Candidate]) -> Vec<u32> {
        let mut ids: Vec<u32> = list.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        ids
    }

    #[test]
    fn fill_candidates_skips_nan_and_reuses_the_buffer() {
        let mut list = candidates(&[9.0, 9.0, 9.0, 9.0]);
        fill_candidates(&mut list, &[1.0, f32::NAN, -0.0]);
        assert_eq!(list, vec![Candidate { id: 0, logit: 1.0 }, Candidate { id: 2, logit: 0.0 }]);
        assert!(list[1].logit.is_sign_positive());
    }

    #[test]
    fn top_k_keeps_exactly_the_k_highest() {
        let mut list = candidates(&[1.0, 5.0, 3.0, 4.0, 2.0]);
        top_k(&mut list, 2);
        assert_eq!(kept_ids(&list), vec![1, 3]);

        let mut list = candidates(&[1.0, 5.0, 3.0, 4.0, 2.0]);
        top_k(&mut list, 1);
        assert_eq!(kept_ids(&list), vec![1]);
    }

    #[test]
    fn top_k_zero_or_large_keeps_all() {
        for k in [0, 5, 6, 1000] {
            let mut list = candidates(&[1.0, 5.0, 3.0, 4.0, 2.0]);
            top_k(&mut list, k);
            assert_eq!(kept_ids(&list), vec![0, 1, 2, 3, 4], "k = {k}");
        }
    }

    #[test]
    fn top_k_breaks_ties_by_lowest_id() {
        let mut list = candidates(&[1.0, 2.0, 2.0, 2.0, 0.0]);
        top_k(&mut list, 2);
        assert_eq!(kept_ids(&list), vec![1, 2]);
    }

    #[test]
    fn top_p_stops_when_p_is_reached_exactly() {
        // Four equal logits: each probability is exactly 0.25, so two reach 0.5 exactly.
        let mut list = candidates(&[0.0; 4]);
        top_p(&mut list, 0.5);
        assert_eq!(kept_ids(&list), vec![0, 1]);

        let mut list = candidates(&[0.0; 4]);
        top_p(&mut list, 0.5 + f32::EPSILON);
        assert_eq!(kept_ids(&list), vec![0, 1, 2]);

        let mut list = candidates(&[0.0; 4]);
        top_p(&mut list, 0.75);
        assert_eq!(kept_ids(&list), vec![0, 1, 2]);
    }

    #[test]
    fn top_p_keeps_the_smallest_prefix_by_probability() {
        // Probabilities 0.1, 0.6, 0.3 (unsorted on purpose).
        let cases = [(0.5, vec![1]), (0.85, vec![1, 2]), (0.95, vec![0, 1, 2])];
        for (p, expected) in cases {
            let mut list = from_probs(&[0.1, 0.6, 0.3]);
            top_p(&mut list, p);
            assert_eq!(kept_ids(&list), expected, "p = {p}");
        }
    }

    #[test]
    fn top_p_keeps_at_least_one_and_one_means_off() {
        let mut list = from_probs(&[0.1, 0.6, 0.3]);
        top_p(&mut list, 0.0);
        assert_eq!(kept_ids(&list), vec![1]);

        let mut list = from_probs(&[0.1, 0.6, 0.3]);
        top_p(&mut list, 1.0);
        assert_eq!(kept_ids(&list), vec![0, 1, 2]);
    }

    #[test]
    fn top_p_renormalizes_over_the_remaining_candidates() {
        // After dropping the 0.4 one, what is left weighs 0.5 / 0.33 / 0.17, so 0.7 needs two.
        // Without renormalizing, 0.3 + 0.2 + 0.1 would never reach 0.7 and all three would stay.
        let mut list = from_probs(&[0.4, 0.3, 0.2, 0.1]);
        list.retain(|c| c.id != 0);
        top_p(&mut list, 0.7);
        assert_eq!(kept_ids(&list), vec![1, 2]);
    }

    #[test]
    fn min_p_keeps_tokens_at_least_min_p_times_the_top() {
        // Relative to the top (0.5): 1, 0.5, 0.3, 0.2.
        let cases = [(0.25, vec![0, 1, 2]), (0.4, vec![0, 1]), (0.6, vec![0]), (0.1, vec![0, 1, 2, 3])];
        for (min, expected) in cases {
            let mut list = from_probs(&[0.5, 0.25, 0.15, 0.1]);
            min_p(&mut list, min);
            assert_eq!(kept_ids(&list), expected, "min_p = {min}");
        }
    }

    #[test]
    fn min_p_boundary_and_off() {
        // Equal to the top means ratio 1, which passes min_p = 1 exactly.
        let mut list = candidates(&[2.0, 2.0, 1.0]);
        min_p(&mut list, 1.0);
        assert_eq!(kept_ids(&list), vec![0, 1]);

        // A ratio equal to min_p passes; the next f32 above it does not.
        let logits = [2.0f32, 1.0, 0.5];
        let ratio = (logits[1] - logits[0]).exp();
        let mut list = candidates(&logits);
        min_p(&mut list, ratio);
        assert_eq!(kept_ids(&list), vec![0, 1]);
        let mut list = candidates(&logits);
        min_p(&mut list, ratio.next_up());
        assert_eq!(kept_ids(&list), vec![0]);

        let mut list = candidates(&[2.0, 1.0, -50.0]);
        min_p(&mut list, 0.0);
        assert_eq!(kept_ids(&list), vec![0, 1, 2]);

        let mut list = candidates(&[2.0, 1.0]);
        min_p(&mut list, 3.0);
        assert_eq!(kept_ids(&list), vec![0]);
    }

    #[test]
    fn presence_and_frequency_subtract_per_distinct_token_and_count() {
        let mut seen = Vec::new();
        let mut logits = vec![1.0, 1.0, 1.0, 1.0];
        // Token 0 three times, token 2 once, token 9 outside the vocabulary.
        apply_presence_frequency(&mut logits, &[0, 2, 0, 9, 0], 64, 0.5, 0.25, &mut seen);
        assert_eq!(logits, vec![1.0 - 0.5 - 0.75, 1.0, 1.0 - 0.5 - 0.25, 1.0]);
        // Only the last 2 entries count.
        let mut logits = vec![0.0; 3];
        apply_presence_frequency(&mut logits, &[1, 1, 1, 2, 0], 2, 1.0, 1.0, &mut seen);
        assert_eq!(logits, vec![-2.0, 0.0, -2.0]);
        let mut logits = vec![0.0; 3];
        apply_presence_frequency(&mut logits, &[0, 1], 64, 0.0, 0.0, &mut seen);
        apply_presence_frequency(&mut logits, &[0, 1], 0, 1.0, 1.0, &mut seen);
        assert_eq!(logits, vec![0.0; 3]);
    }

    #[test]
    fn repeat_penalty_divides_positive_and_multiplies_negative() {
        let mut logits = [2.0, -2.0, 0.0, 3.0];
        let mut seen = Vec::new();
        apply_repeat_penalty(&mut logits, &[0, 1, 2], 64, 2.0, &mut seen);
        assert_eq!(logits, [1.0, -4.0, 0.0, 3.0]);
    }

    #[test]
    fn repeat_penalty_counts_each_token_once() {
        let mut logits = [8.0, -1.0];
        let mut seen = Vec::new();
        apply_repeat_penalty(&mut logits, &[0, 0, 1, 0, 1], 64, 2.0, &mut seen);
        assert_eq!(logits, [4.0, -2.0]);
    }

    #[test]
    fn repeat_penalty_looks_only_at_the_last_n() {
        let mut logits = [2.0, 2.0, 2.0, 2.0];
        let mut seen = Vec::new();
        apply_repeat_penalty(&mut logits, &[0, 1, 2, 3, 2], 2, 2.0, &mut seen);
        assert_eq!(logits, [2.0, 2.0, 1.0, 1.0]);

        let mut logits = [2.0, 2.0];
        apply_repeat_penalty(&mut logits, &[0, 1], 0, 2.0, &mut seen);
        assert_eq!(logits, [2.0, 2.0]);
    }

    #[test]
    fn repeat_penalty_of_one_or_unknown_ids_change_nothing() {
        let mut logits = [2.0, -2.0];
        let mut seen = Vec::new();
        apply_repeat_penalty(&mut logits, &[0, 1], 64, 1.0, &mut seen);
        assert_eq!(logits, [2.0, -2.0]);
        apply_repeat_penalty(&mut logits, &[7, u32::MAX], 64, 2.0, &mut seen);
        assert_eq!(logits, [2.0, -2.0]);
    }

    #[test]
    fn argmax_picks_the_highest_and_lowest_id_on_ties() {
        assert_eq!(argmax(&[0.1, 3.0, -1.0, 2.9]), 1);
        assert_eq!(argmax(&[1.0, 4.0, 2.0, 4.0, 4.0]), 1);
        assert_eq!(argmax(&[-0.0, 0.0]), 0);
        assert_eq!(argmax(&[f32::NAN, -5.0, f32::NAN]), 1);
        assert_eq!(argmax(&[f32::NEG_INFINITY, f32::NEG_INFINITY]), 0);
    }

    #[test]
    fn draw_never_picks_a_zero_probability_candidate() {
        let list = candidates(&[f32::NEG_INFINITY, 0.0, f32::NEG_INFINITY]);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..100 {
            assert_eq!(draw(&list, 1.0, &mut rng), 1);
        }
    }

    #[test]
    fn draw_follows_the_probabilities() {
        // Probabilities 0.75 / 0.25 at temperature 1; at temperature 0.5 they become 0.9 / 0.1.
        let list = from_probs(&[0.75, 0.25]);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let share_of_first = |temperature: f32, rng: &mut ChaCha8Rng| {
            let draws = 4000;
            let firsts = (0..draws).filter(|_| draw(&list, temperature, rng) == 0).count();
            firsts as f64 / draws as f64
        };
        let at_one = share_of_first(1.0, &mut rng);
        assert!((at_one - 0.75).abs() < 0.03, "{at_one}");
        let at_half = share_of_first(0.5, &mut rng);
        assert!((at_half - 0.9).abs() < 0.03, "{at_half}");
    }
}

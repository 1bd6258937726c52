//! Turning logits into the next token: greedy, temperature, top-k, top-p, min-p, repetition,
//! presence and frequency penalties; and the log-probabilities of the distribution drawn from.

mod filters;
mod logprobs;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub use filters::{
    apply_presence_frequency, apply_repeat_penalty, argmax, by_rank, draw, draw_with_draft, fill_candidates, min_p,
    top_k, top_p, Candidate,
};
pub use logprobs::{log_probs, LogProbs};

/// Sampling settings. `temperature == 0` means greedy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SamplingParams {
    pub temperature: f32,
    /// 0 disables.
    pub top_k: usize,
    /// 1.0 disables.
    pub top_p: f32,
    /// 0.0 disables.
    pub min_p: f32,
    /// 1.0 disables.
    pub repeat_penalty: f32,
    /// How many of the most recent tokens the penalties look at.
    pub repeat_last_n: usize,
    /// Subtracted once from the logit of every token among the recent ones (0.0 disables).
    pub presence_penalty: f32,
    /// Subtracted from a recent token's logit once per time it occurs (0.0 disables).
    pub frequency_penalty: f32,
    pub seed: u64,
}

/// llama.cpp's defaults (the repetition penalty is off there too).
impl Default for SamplingParams {
    fn default() -> Self {
        Self {
            temperature: 0.8,
            top_k: 40,
            top_p: 0.95,
            min_p: 0.05,
            repeat_penalty: 1.0,
            repeat_last_n: 64,
            presence_penalty: 0.0,
            frequency_penalty: 0.0,
            seed: 0,
        }
    }
}

/// The range a sampling setting must lie in (one definition for the engine, flags and files).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingRange {
    /// Temperature.
    AtLeastZero,
    /// `top_p`, `min_p`.
    ZeroToOne,
    /// The repetition penalty.
    AboveZero,
    /// The presence and frequency penalties (OpenAI's range).
    Penalty,
}

impl SettingRange {
    /// `value` if it is a finite number in the range, else what it must be.
    pub fn check(self, value: f32) -> Result<f32, String> {
        let (inside, range) = match self {
            Self::AtLeastZero => (value >= 0.0, "a number of at least 0"),
            Self::ZeroToOne => ((0.0..=1.0).contains(&value), "between 0 and 1"),
            Self::AboveZero => (value > 0.0, "a number above 0"),
            Self::Penalty => ((-2.0..=2.0).contains(&value), "between -2 and 2"),
        };
        if value.is_finite() && inside {
            Ok(value)
        } else {
            Err(format!("it must be {range}"))
        }
    }
}

impl SamplingParams {
    /// Checks each setting's range; the message names the setting and its value. NaN, a
    /// negative temperature or a `top_p` of 2 would otherwise sample from garbage silently.
    pub fn validate(&self) -> Result<(), String> {
        let settings = [
            ("temperature", self.temperature, SettingRange::AtLeastZero),
            ("top_p", self.top_p, SettingRange::ZeroToOne),
            ("min_p", self.min_p, SettingRange::ZeroToOne),
            ("repeat_penalty", self.repeat_penalty, SettingRange::AboveZero),
            ("presence_penalty", self.presence_penalty, SettingRange::Penalty),
            ("frequency_penalty", self.frequency_penalty, SettingRange::Penalty),
        ];
        for (name, value, range) in settings {
            range.check(value).map_err(|why| format!("{name} = {value}; {why}"))?;
        }
        Ok(())
    }
}

/// Turns logits into tokens with the current [`SamplingParams`].
///
/// The chain, as in llama.cpp: repetition, presence and frequency penalties, then greedy argmax if `temperature <= 0`,
/// else [`top_k`] → [`top_p`] → [`min_p`] → temperature → softmax → seeded draw.
/// The same seed and settings on the same logits give the same tokens.
pub struct Sampler {
    params: SamplingParams,
    rng: ChaCha8Rng,
    /// Reused across calls so that sampling a token allocates nothing after the first.
    candidates: Vec<Candidate>,
    /// Scratch for the distinct recent tokens of the repetition penalty.
    seen: Vec<u32>,
}

impl Sampler {
    pub fn new(params: SamplingParams) -> Self {
        Self { rng: ChaCha8Rng::seed_from_u64(params.seed), params, candidates: Vec::new(), seen: Vec::new() }
    }

    /// Takes effect from the next [`Sampler::sample`]. The RNG is reseeded only if the seed
    /// changed, so other changes mid-reply keep the random stream going.
    pub fn set_params(&mut self, params: SamplingParams) {
        if params.seed != self.params.seed {
            self.rng = ChaCha8Rng::seed_from_u64(params.seed);
        }
        self.params = params;
    }

    /// Picks the next token. `recent` is the token history (prompt + generated so far), used by
    /// the penalties; they are applied to `logits` in place.
    ///
    /// # Panics
    /// If `logits` is empty: a model always has a vocabulary.
    pub fn sample(&mut self, logits: &mut [f32], recent: &[u32]) -> u32 {
        self.sample_with_draft(logits, recent, None)
    }

    /// [`Sampler::sample`] where a drafted token may stand in for the draw (speculative
    /// decoding): the result equals `draft` exactly when the draft is accepted. Greedy, that is
    /// when it is the argmax; otherwise it is kept with its probability under the whole chain
    /// and the draw falls back on the other tokens ([`draw_with_draft`]), so every token still
    /// comes out with its own probability. With `None` this is `sample`.
    pub fn sample_with_draft(&mut self, logits: &mut [f32], recent: &[u32], draft: Option<u32>) -> u32 {
        assert!(!logits.is_empty(), "sampling from an empty vocabulary");
        let params = &self.params;
        apply_repeat_penalty(logits, recent, params.repeat_last_n, params.repeat_penalty, &mut self.seen);
        let (presence, frequency) = (params.presence_penalty, params.frequency_penalty);
        apply_presence_frequency(logits, recent, params.repeat_last_n, presence, frequency, &mut self.seen);
        if params.temperature.is_nan() || params.temperature <= 0.0 {
            return argmax(logits);
        }
        fill_candidates(&mut self.candidates, logits);
        if self.candidates.is_empty() {
            // Every logit is NaN: nothing to draw from.
            return argmax(logits);
        }
        top_k(&mut self.candidates, params.top_k);
        top_p(&mut self.candidates, params.top_p);
        min_p(&mut self.candidates, params.min_p);
        match draft {
            Some(draft) => draw_with_draft(&self.candidates, params.temperature, draft, &mut self.rng),
            None => draw(&self.candidates, params.temperature, &mut self.rng),
        }
    }

    /// The log-probabilities of `chosen` and of the `top` most likely tokens under `logits` (as
    /// [`Sampler::sample`] left them: penalized, at temperature 1).
    pub fn log_probs(&mut self, logits: &[f32], chosen: u32, top: usize) -> LogProbs {
        log_probs(logits, chosen, top, &mut self.candidates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::RngCore;

    #[test]
    fn out_of_range_settings_are_named() {
        assert_eq!(SamplingParams::default().validate(), Ok(()));
        let bad = [
            (SamplingParams { temperature: f32::NAN, ..Default::default() }, "temperature = NaN"),
            (SamplingParams { temperature: -1.0, ..Default::default() }, "temperature = -1"),
            (SamplingParams { top_p: 2.0, ..Default::default() }, "top_p = 2"),
            (SamplingParams { min_p: 5.0, ..Default::default() }, "min_p = 5"),
            (SamplingParams { repeat_penalty: 0.0, ..Default::default() }, "repeat_penalty = 0"),
            (SamplingParams { repeat_penalty: f32::INFINITY, ..Default::default() }, "repeat_penalty = inf"),
        ];
        for (params, want) in bad {
            let err = params.validate().unwrap_err();
            assert!(err.starts_with(want), "{err}");
        }
    }

    /// Only what a test sets explicitly filters anything.
    fn plain(temperature: f32, seed: u64) -> SamplingParams {
        SamplingParams { temperature, top_k: 0, top_p: 1.0, min_p: 0.0, repeat_last_n: 0, seed, ..Default::default() }
    }

    /// 100 nearly flat logits with a unique maximum at id 37: a random draw rarely hits it.
    fn flat_logits() -> Vec<f32> {
        let mut logits: Vec<f32> = (0..100u16).map(|i| f32::from(i % 7) * 0.01).collect();
        logits[37] = 0.2;
        logits
    }

    fn run(sampler: &mut Sampler, logits: &[f32], count: usize) -> Vec<u32> {
        let mut history = Vec::new();
        for _ in 0..count {
            let token = sampler.sample(&mut logits.to_vec(), &history);
            history.push(token);
        }
        history
    }

    #[test]
    fn greedy_picks_the_argmax_and_the_lowest_id_on_ties() {
        let mut sampler = Sampler::new(plain(0.0, 0));
        assert_eq!(sampler.sample(&mut [0.5, 2.0, -1.0, 1.9], &[]), 1);
        assert_eq!(sampler.sample(&mut [0.5, 2.0, -1.0, 2.0, 2.0], &[]), 1);
        let mut negative_temperature = Sampler::new(plain(-1.0, 0));
        assert_eq!(negative_temperature.sample(&mut [1.0, 3.0, 3.0], &[]), 1);
    }

    #[test]
    fn greedy_sees_the_repetition_penalty() {
        let params = SamplingParams { repeat_penalty: 1.1, repeat_last_n: 4, ..plain(0.0, 0) };
        let mut sampler = Sampler::new(params);
        let mut logits = [3.0, 2.9];
        assert_eq!(sampler.sample(&mut logits, &[0]), 1);
        assert_eq!(logits[0], 3.0 / 1.1);
        // Token 0 is older than the last 4, so it is not penalized.
        assert_eq!(sampler.sample(&mut [3.0, 2.9], &[0, 1, 1, 1, 1]), 0);
    }

    #[test]
    fn greedy_does_not_consume_randomness() {
        let logits = flat_logits();
        let mut with_greedy_first = Sampler::new(plain(1.0, 5));
        with_greedy_first.set_params(plain(0.0, 5));
        assert_eq!(with_greedy_first.sample(&mut logits.clone(), &[]), 37);
        with_greedy_first.set_params(plain(1.0, 5));
        let mut fresh = Sampler::new(plain(1.0, 5));
        assert_eq!(run(&mut with_greedy_first, &logits, 50), run(&mut fresh, &logits, 50));
    }

    #[test]
    fn same_seed_same_tokens_other_seed_other_tokens() {
        let params =
            SamplingParams { top_k: 50, top_p: 0.98, repeat_penalty: 1.05, repeat_last_n: 16, ..plain(1.0, 42) };
        let logits = flat_logits();
        let first = run(&mut Sampler::new(params.clone()), &logits, 200);
        let second = run(&mut Sampler::new(params.clone()), &logits, 200);
        assert_eq!(first, second);
        let mut distinct = first.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(distinct.len() > 10, "the draw is not random: {distinct:?}");

        let other_seed = SamplingParams { seed: 43, ..params };
        assert_ne!(run(&mut Sampler::new(other_seed), &logits, 200), first);
    }

    #[test]
    fn switching_to_temperature_zero_applies_to_the_next_token() {
        let logits = flat_logits();
        let mut sampler = Sampler::new(plain(1.0, 3));
        let random = run(&mut sampler, &logits, 20);
        assert!(random.iter().any(|&t| t != 37), "{random:?}");
        sampler.set_params(plain(0.0, 3));
        assert_eq!(run(&mut sampler, &logits, 20), vec![37; 20]);
    }

    #[test]
    fn switching_to_top_k_one_applies_to_the_next_token() {
        let logits = flat_logits();
        let mut sampler = Sampler::new(plain(2.0, 3));
        let random = run(&mut sampler, &logits, 20);
        assert!(random.iter().any(|&t| t != 37), "{random:?}");
        sampler.set_params(SamplingParams { top_k: 1, ..plain(2.0, 3) });
        assert_eq!(run(&mut sampler, &logits, 20), vec![37; 20]);
    }

    #[test]
    fn only_a_new_seed_reseeds() {
        let logits = flat_logits();
        let mut continued = Sampler::new(plain(1.0, 9));
        let mut uninterrupted = Sampler::new(plain(1.0, 9));
        run(&mut continued, &logits, 10);
        run(&mut uninterrupted, &logits, 10);

        // Same seed, other settings: the random stream goes on.
        continued.set_params(SamplingParams { min_p: 0.01, ..plain(1.0, 9) });
        let after_same_seed = run(&mut continued, &logits, 30);
        assert_eq!(after_same_seed, run(&mut uninterrupted, &logits, 30));
        assert_ne!(after_same_seed, run(&mut Sampler::new(plain(1.0, 9)), &logits, 30));

        // New seed: from then on exactly what a fresh sampler with that seed gives.
        continued.set_params(plain(1.0, 10));
        assert_eq!(run(&mut continued, &logits, 30), run(&mut Sampler::new(plain(1.0, 10)), &logits, 30));
    }

    /// Pearson's statistic of `counts` against probabilities `p` (cells with p = 0 must be empty).
    fn chi_square(counts: &[usize], p: &[f64]) -> f64 {
        let n: usize = counts.iter().sum();
        counts
            .iter()
            .zip(p)
            .map(|(&c, &p)| {
                if p == 0.0 {
                    assert_eq!(c, 0, "a token of probability 0 was drawn");
                    return 0.0;
                }
                let expected = p * n as f64;
                (c as f64 - expected).powi(2) / expected
            })
            .sum()
    }

    /// Speculative sampling leaves the distribution as it is: whichever token is drafted (likely,
    /// unlikely, or cut by top-k), 200,000 draws match the chain's probabilities (χ² with 5
    /// degrees of freedom below 20.5, its 0.1% tail; fixed seeds, so the test is deterministic).
    /// The same statistic tells the draws apart from a rule that keeps the draft too often.
    #[test]
    fn drafted_draws_keep_the_distribution() {
        let logits = [2.0f32, 1.5, 1.0, 0.5, 0.0, -0.5, -1.0, -3.0];
        let params = SamplingParams { top_k: 6, ..plain(0.9, 11) };
        let weights: Vec<f64> = (0..8).map(|i| if i < 6 { (f64::from(logits[i]) / 0.9).exp() } else { 0.0 }).collect();
        let total: f64 = weights.iter().sum();
        let p: Vec<f64> = weights.iter().map(|w| w / total).collect();
        const DRAWS: usize = 200_000;
        for draft in [0u32, 3, 7] {
            let mut sampler = Sampler::new(SamplingParams { seed: 100 + u64::from(draft), ..params.clone() });
            let mut counts = [0usize; 8];
            for _ in 0..DRAWS {
                counts[sampler.sample_with_draft(&mut logits.to_vec(), &[], Some(draft)) as usize] += 1;
            }
            let chi2 = chi_square(&counts, &p);
            assert!(chi2 < 20.5, "draft {draft}: χ² = {chi2:.1}, counts {counts:?}");
        }
        // Keeping the draft with probability √p (too often) is caught.
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut biased = [0usize; 8];
        let mut candidates = Vec::new();
        fill_candidates(&mut candidates, &logits);
        top_k(&mut candidates, 6);
        for _ in 0..DRAWS {
            let unit = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            let keep = unit < p[3].sqrt();
            biased[if keep { 3 } else { draw(&candidates, 0.9, &mut rng) as usize }] += 1;
        }
        assert!(chi_square(&biased, &p) > 20.5);
    }

    #[test]
    fn a_greedy_draft_is_kept_exactly_when_it_is_the_argmax() {
        let mut sampler = Sampler::new(plain(0.0, 0));
        assert_eq!(sampler.sample_with_draft(&mut [0.5, 2.0, 1.9], &[], Some(1)), 1);
        assert_eq!(sampler.sample_with_draft(&mut [0.5, 2.0, 1.9], &[], Some(2)), 1);
        // The penalties apply before the comparison.
        let params = SamplingParams { repeat_penalty: 2.0, repeat_last_n: 4, ..plain(0.0, 0) };
        assert_eq!(Sampler::new(params).sample_with_draft(&mut [0.5, 2.0, 1.9], &[1], Some(1)), 2);
    }

    fn any_params() -> impl Strategy<Value = SamplingParams> {
        (
            prop_oneof![Just(0.0f32), 0.05f32..3.0],
            0usize..12,
            prop_oneof![Just(1.0f32), 0.0f32..1.0],
            prop_oneof![Just(0.0f32), 0.0f32..0.9],
            prop_oneof![Just(1.0f32), 0.5f32..2.0],
            0usize..16,
            prop_oneof![Just(0.0f32), -2.0f32..2.0],
            prop_oneof![Just(0.0f32), -2.0f32..2.0],
            any::<u64>(),
        )
            .prop_map(
                |(temperature, top_k, top_p, min_p, repeat_penalty, repeat_last_n, presence, frequency, seed)| {
                    SamplingParams {
                        temperature,
                        top_k,
                        top_p,
                        min_p,
                        repeat_penalty,
                        repeat_last_n,
                        presence_penalty: presence,
                        frequency_penalty: frequency,
                        seed,
                    }
                },
            )
    }

    fn logits_and_history() -> impl Strategy<Value = (Vec<f32>, Vec<u32>)> {
        prop::collection::vec(-20.0f32..20.0, 1..300).prop_flat_map(|logits| {
            let vocab = u32::try_from(logits.len()).expect("at most 300 logits");
            (Just(logits), prop::collection::vec(0..vocab, 0..40))
        })
    }

    proptest! {
        #[test]
        fn the_sampled_token_is_one_the_filters_kept(
            params in any_params(),
            (logits, history) in logits_and_history(),
        ) {
            let mut penalized = logits.clone();
            apply_repeat_penalty(
                &mut penalized,
                &history,
                params.repeat_last_n,
                params.repeat_penalty,
                &mut Vec::new(),
            );
            apply_presence_frequency(
                &mut penalized,
                &history,
                params.repeat_last_n,
                params.presence_penalty,
                params.frequency_penalty,
                &mut Vec::new(),
            );
            let mut kept = Vec::new();
            fill_candidates(&mut kept, &penalized);
            top_k(&mut kept, params.top_k);
            top_p(&mut kept, params.top_p);
            min_p(&mut kept, params.min_p);

            let mut sampler = Sampler::new(params.clone());
            let mut sampled_from = logits.clone();
            let token = sampler.sample(&mut sampled_from, &history);
            prop_assert_eq!(&sampled_from, &penalized);

            if params.temperature == 0.0 {
                prop_assert_eq!(token, argmax(&penalized));
            } else {
                prop_assert!(kept.iter().any(|c| c.id == token), "{} not in {:?}", token, kept);
            }
            // Independent of the filter functions: a kept token is never outranked by top_k or
            // more others, and never below min_p times the top probability.
            let logit = penalized[token as usize];
            let higher = penalized.iter().filter(|&&other| other > logit).count();
            if params.top_k > 0 {
                prop_assert!(higher < params.top_k);
            }
            let max_logit = penalized.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            if params.temperature > 0.0 && params.min_p > 0.0 {
                prop_assert!((logit - max_logit).exp() >= params.min_p);
            }
        }

        #[test]
        fn top_k_keeps_the_same_set_as_a_full_sort(
            (logits, _) in logits_and_history(),
            k in 1usize..50,
        ) {
            let mut selected = Vec::new();
            fill_candidates(&mut selected, &logits);
            top_k(&mut selected, k);
            selected.sort_unstable_by(by_rank);

            let mut sorted = Vec::new();
            fill_candidates(&mut sorted, &logits);
            sorted.sort_unstable_by(by_rank);
            sorted.truncate(k);
            prop_assert_eq!(selected, sorted);
        }
    }
}

//! The sampling sliders: which settings they move, by how much, and within which bounds.

use crate::engine::sampler::SamplingParams;

/// The generation settings the sliders edit: the engine's sampling plus the reply length.
#[derive(Debug, Clone, PartialEq)]
pub struct Knobs {
    pub sampling: SamplingParams,
    pub max_tokens: usize,
}

/// One slider row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slider {
    Temperature,
    TopP,
    TopK,
    MinP,
    RepeatPenalty,
    MaxTokens,
    Seed,
}

/// How a slider moves: bounds, fine step (←/→) and coarse step (Shift).
struct Range {
    min: f64,
    max: f64,
    step: f64,
    coarse: f64,
}

impl Slider {
    pub const ALL: [Slider; 7] = [
        Slider::Temperature,
        Slider::TopP,
        Slider::TopK,
        Slider::MinP,
        Slider::RepeatPenalty,
        Slider::MaxTokens,
        Slider::Seed,
    ];

    fn range(self) -> Range {
        let (min, max, step, coarse) = match self {
            Slider::Temperature => (0.0, 2.0, 0.05, 0.25),
            Slider::TopP => (0.0, 1.0, 0.01, 0.1),
            Slider::TopK => (0.0, 200.0, 1.0, 10.0),
            Slider::MinP => (0.0, 1.0, 0.01, 0.1),
            Slider::RepeatPenalty => (1.0, 2.0, 0.01, 0.1),
            Slider::MaxTokens => (16.0, 8192.0, 16.0, 256.0),
            Slider::Seed => (0.0, u32::MAX as f64, 1.0, 1000.0),
        };
        Range { min, max, step, coarse }
    }

    pub fn value(self, k: &Knobs) -> f64 {
        let s = &k.sampling;
        match self {
            Slider::Temperature => f64::from(s.temperature),
            Slider::TopP => f64::from(s.top_p),
            Slider::TopK => s.top_k as f64,
            Slider::MinP => f64::from(s.min_p),
            Slider::RepeatPenalty => f64::from(s.repeat_penalty),
            Slider::MaxTokens => k.max_tokens as f64,
            Slider::Seed => s.seed as f64,
        }
    }

    fn set(self, k: &mut Knobs, v: f64) {
        let s = &mut k.sampling;
        match self {
            Slider::Temperature => s.temperature = v as f32,
            Slider::TopP => s.top_p = v as f32,
            Slider::TopK => s.top_k = v as usize,
            Slider::MinP => s.min_p = v as f32,
            Slider::RepeatPenalty => s.repeat_penalty = v as f32,
            Slider::MaxTokens => k.max_tokens = v as usize,
            Slider::Seed => s.seed = v as u64,
        }
    }

    /// Moves the slider `steps` fine steps (or coarse steps), clamped to its range and rounded
    /// to the step so that repeated presses give 0.35, not 0.35000002.
    pub fn adjust(self, k: &mut Knobs, steps: i32, coarse: bool) {
        let r = self.range();
        let step = if coarse { r.coarse } else { r.step };
        let moved = self.value(k) + f64::from(steps) * step;
        let snapped = (moved / r.step).round() * r.step;
        self.set(k, snapped.clamp(r.min, r.max));
    }

    /// Position within the range, 0..=1, for the bar.
    pub fn ratio(self, k: &Knobs) -> f64 {
        let r = self.range();
        ((self.value(k) - r.min) / (r.max - r.min)).clamp(0.0, 1.0)
    }

    /// The value as the panel shows it.
    pub fn value_text(self, k: &Knobs) -> String {
        match self {
            Slider::Temperature | Slider::TopP | Slider::MinP | Slider::RepeatPenalty => {
                format!("{:.2}", self.value(k))
            }
            Slider::TopK | Slider::MaxTokens | Slider::Seed => format!("{}", self.value(k) as u64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn knobs() -> Knobs {
        Knobs { sampling: SamplingParams::default(), max_tokens: 512 }
    }

    #[test]
    fn fine_and_coarse_steps_round_and_clamp() {
        let mut k = knobs();
        Slider::Temperature.adjust(&mut k, 1, false);
        assert_eq!(k.sampling.temperature, 0.85);
        Slider::Temperature.adjust(&mut k, 1, true);
        assert_eq!(k.sampling.temperature, 1.1);
        Slider::Temperature.adjust(&mut k, 100, true);
        assert_eq!(k.sampling.temperature, 2.0);
        Slider::TopK.adjust(&mut k, -100, true);
        assert_eq!(k.sampling.top_k, 0);
        Slider::RepeatPenalty.adjust(&mut k, -50, false);
        assert_eq!(k.sampling.repeat_penalty, 1.0);
        Slider::MaxTokens.adjust(&mut k, 1, true);
        assert_eq!(k.max_tokens, 768);
        Slider::Seed.adjust(&mut k, 3, false);
        assert_eq!(k.sampling.seed, 3);
    }

    #[test]
    fn ratio_and_text() {
        let k = knobs();
        assert!((Slider::Temperature.ratio(&k) - 0.4).abs() < 1e-6);
        assert_eq!(Slider::Temperature.value_text(&k), "0.80");
        assert_eq!(Slider::TopK.value_text(&k), "40");
    }
}

//! The live figures of the running (or last) request, for the stats panel.

use std::collections::VecDeque;

use crate::engine::protocol::GenStats;

/// How many per-token speeds the sparkline keeps.
pub const SPARKLINE_TOKENS: usize = 60;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveStats {
    /// The latest figures from the engine.
    pub stats: Option<GenStats>,
    /// Prefill progress of the running request: (done, total).
    pub prefill: Option<(usize, usize)>,
    /// Speed of each of the last tokens in tokens/s, oldest first.
    pub token_speeds: VecDeque<u64>,
}

impl LiveStats {
    /// Forgets the previous request's token speeds and progress (the last figures stay visible
    /// until new ones arrive).
    pub fn start_request(&mut self) {
        self.prefill = None;
        self.token_speeds.clear();
    }

    pub fn record(&mut self, stats: GenStats) {
        if stats.last_token_ms > 0.0 {
            if self.token_speeds.len() == SPARKLINE_TOKENS {
                self.token_speeds.pop_front();
            }
            self.token_speeds.push_back((1000.0 / stats.last_token_ms).round() as u64);
        }
        self.prefill = None;
        self.stats = Some(stats);
    }

    /// Tokens per second of the latest token.
    pub fn current_speed(&self) -> Option<u64> {
        self.token_speeds.back().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_sixty_speeds() {
        let mut live = LiveStats::default();
        for i in 1..=70 {
            live.record(GenStats { last_token_ms: 1000.0 / f64::from(i), ..GenStats::default() });
        }
        assert_eq!(live.token_speeds.len(), SPARKLINE_TOKENS);
        assert_eq!(live.token_speeds.front(), Some(&11));
        assert_eq!(live.current_speed(), Some(70));
        live.start_request();
        assert!(live.token_speeds.is_empty());
        assert!(live.stats.is_some());
    }
}

//! Progress reports: bytes so far, the recent transfer rate and the time left.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// One progress report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Bytes of the file on disk so far (a resumed download starts above zero).
    pub downloaded: u64,
    pub total: u64,
    /// Over the last few seconds; 0 until there is enough to measure.
    pub bytes_per_sec: f64,
    /// None while the rate is unknown.
    pub eta: Option<Duration>,
}

/// The rate is measured over this much recent history, so it follows speed changes.
const WINDOW: Duration = Duration::from_secs(5);

/// Turns byte counts into [`Progress`] reports, at most one per `interval` (plus the last).
pub(crate) struct Meter {
    total: u64,
    interval: Duration,
    samples: VecDeque<(Instant, u64)>,
    last_report: Option<Instant>,
}

impl Meter {
    pub fn new(total: u64, interval: Duration) -> Self {
        Self { total, interval, samples: VecDeque::new(), last_report: None }
    }

    /// Records `downloaded` bytes now; returns a report when one is due (always when done).
    pub fn record(&mut self, now: Instant, downloaded: u64) -> Option<Progress> {
        self.samples.push_back((now, downloaded));
        while self.samples.len() > 2 && now.duration_since(self.samples[0].0) > WINDOW {
            self.samples.pop_front();
        }
        let due = downloaded >= self.total || self.last_report.is_none_or(|t| now.duration_since(t) >= self.interval);
        if !due {
            return None;
        }
        self.last_report = Some(now);
        Some(self.progress(downloaded))
    }

    fn progress(&self, downloaded: u64) -> Progress {
        let rate = match (self.samples.front(), self.samples.back()) {
            (Some(&(t0, b0)), Some(&(t1, b1))) if t1.duration_since(t0) >= Duration::from_millis(50) => {
                b1.saturating_sub(b0) as f64 / t1.duration_since(t0).as_secs_f64()
            }
            _ => 0.0,
        };
        let remaining = self.total.saturating_sub(downloaded);
        let eta = if remaining == 0 {
            Some(Duration::ZERO)
        } else if rate > 0.0 {
            Some(Duration::from_secs_f64(remaining as f64 / rate))
        } else {
            None
        };
        Progress { downloaded, total: self.total, bytes_per_sec: rate, eta }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_eta_and_throttling() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut meter = Meter::new(1000, Duration::from_millis(100));
        let first = meter.record(ms(0), 100).unwrap();
        assert_eq!((first.downloaded, first.bytes_per_sec, first.eta), (100, 0.0, None));
        assert_eq!(meter.record(ms(50), 150), None, "throttled");
        let p = meter.record(ms(1000), 200).unwrap();
        assert!((p.bytes_per_sec - 100.0).abs() < 1e-6, "{p:?}");
        assert_eq!(p.eta, Some(Duration::from_secs(8)));
        let done = meter.record(ms(1001), 1000).unwrap();
        assert_eq!(done.eta, Some(Duration::ZERO), "the last report is never throttled");
    }
}

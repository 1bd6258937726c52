//! The server's counters, gauges and histograms, rendered as Prometheus text for `GET /metrics`
//! and read by the live status line.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Upper bounds, in seconds, of the time-to-first-token buckets (a 2B4T prompt chunk on two cores
/// takes seconds; SmolLM2's milliseconds).
const TTFT_BUCKETS: [f64; 12] = [0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0];
/// Upper bounds, in seconds, of the time between two tokens of one reply.
const INTER_TOKEN_BUCKETS: [f64; 12] = [0.005, 0.01, 0.02, 0.04, 0.08, 0.15, 0.3, 0.6, 1.2, 2.5, 5.0, 10.0];
/// The window the token rates are measured over.
const RATE_WINDOW: Duration = Duration::from_secs(5);

pub struct Histogram {
    bounds: &'static [f64],
    /// Per bucket (not cumulative), then the overflow bucket.
    counts: Vec<AtomicU64>,
    /// Sum of observations in microseconds.
    sum_us: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Self { bounds, counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(), sum_us: AtomicU64::new(0) }
    }

    pub fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let bucket = self.bounds.iter().position(|&b| seconds <= b).unwrap_or(self.bounds.len());
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (i, count) in self.counts.iter().enumerate() {
            cumulative += count.load(Ordering::Relaxed);
            let le = self.bounds.get(i).map_or("+Inf".to_string(), |b| b.to_string());
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let sum = self.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {cumulative}");
    }
}

/// Token rates over the last few seconds, from samples of the token counters.
#[derive(Default)]
struct Rates {
    samples: Vec<(Instant, u64, u64)>,
    prefill: f64,
    decode: f64,
}

pub struct Metrics {
    /// Answered requests by endpoint and status.
    responses: Mutex<BTreeMap<(String, u16), u64>>,
    /// Prompt tokens of finished requests (as the engine counted them, cached or not).
    pub prompt_tokens: AtomicU64,
    /// Prompt tokens evaluated (the rest came from kept caches).
    pub prefill_tokens: AtomicU64,
    pub generated_tokens: AtomicU64,
    /// Requests the engine is running, and requests admitted but waiting for a place.
    pub active: AtomicI64,
    pub queued: AtomicI64,
    /// The KV caches' allocated bytes (running and kept sequences) when a reply last ended.
    pub kv_cache_bytes: AtomicU64,
    pub ttft: Histogram,
    pub inter_token: Histogram,
    rates: Mutex<Rates>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            responses: Mutex::default(),
            prompt_tokens: AtomicU64::new(0),
            prefill_tokens: AtomicU64::new(0),
            generated_tokens: AtomicU64::new(0),
            active: AtomicI64::new(0),
            queued: AtomicI64::new(0),
            kv_cache_bytes: AtomicU64::new(0),
            ttft: Histogram::new(&TTFT_BUCKETS),
            inter_token: Histogram::new(&INTER_TOKEN_BUCKETS),
            rates: Mutex::default(),
        }
    }
}

/// What the live status line shows.
pub struct Snapshot {
    pub requests: u64,
    pub active: i64,
    pub queued: i64,
    pub prefill_tok_s: f64,
    pub decode_tok_s: f64,
}

impl Metrics {
    pub fn count_response(&self, endpoint: &str, status: u16) {
        let mut responses = self.responses.lock().unwrap_or_else(|e| e.into_inner());
        *responses.entry((endpoint.to_string(), status)).or_insert(0) += 1;
    }

    /// Samples the token counters and updates the rates (called about once a second).
    pub fn sample_rates(&self) {
        let now = Instant::now();
        let (prefill, decode) =
            (self.prefill_tokens.load(Ordering::Relaxed), self.generated_tokens.load(Ordering::Relaxed));
        let mut rates = self.rates.lock().unwrap_or_else(|e| e.into_inner());
        rates.samples.push((now, prefill, decode));
        rates.samples.retain(|&(t, ..)| now - t <= RATE_WINDOW);
        let (t0, p0, d0) = rates.samples[0];
        let seconds = (now - t0).as_secs_f64();
        if seconds > 0.0 {
            rates.prefill = (prefill - p0) as f64 / seconds;
            rates.decode = (decode - d0) as f64 / seconds;
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        let rates = self.rates.lock().unwrap_or_else(|e| e.into_inner());
        let responses = self.responses.lock().unwrap_or_else(|e| e.into_inner());
        Snapshot {
            requests: responses.values().sum(),
            active: self.active.load(Ordering::Relaxed),
            queued: self.queued.load(Ordering::Relaxed),
            prefill_tok_s: rates.prefill,
            decode_tok_s: rates.decode,
        }
    }

    /// Prometheus' text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP bitnet_requests_total Answered HTTP requests by endpoint and status.\n\
             # TYPE bitnet_requests_total counter"
        );
        for ((endpoint, status), n) in self.responses.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(out, "bitnet_requests_total{{endpoint=\"{endpoint}\",status=\"{status}\"}} {n}");
        }
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}");
        };
        let gauge = |out: &mut String, name: &str, help: &str, value: f64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}");
        };
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        counter(
            &mut out,
            "bitnet_prompt_tokens_total",
            "Prompt tokens of finished requests.",
            load(&self.prompt_tokens),
        );
        counter(
            &mut out,
            "bitnet_prefill_tokens_total",
            "Prompt tokens evaluated (not found in a kept cache).",
            load(&self.prefill_tokens),
        );
        counter(&mut out, "bitnet_generated_tokens_total", "Tokens generated.", load(&self.generated_tokens));
        let snapshot = self.snapshot();
        gauge(&mut out, "bitnet_active_sequences", "Requests the engine is running.", snapshot.active as f64);
        gauge(&mut out, "bitnet_queued_sequences", "Requests waiting for a place.", snapshot.queued as f64);
        gauge(
            &mut out,
            "bitnet_kv_cache_bytes",
            "KV cache bytes allocated (running and kept sequences) when a reply last ended.",
            load(&self.kv_cache_bytes) as f64,
        );
        gauge(
            &mut out,
            "bitnet_prefill_tokens_per_second",
            "Prompt tokens evaluated per second, last 5 s.",
            snapshot.prefill_tok_s,
        );
        gauge(
            &mut out,
            "bitnet_decode_tokens_per_second",
            "Tokens generated per second, last 5 s.",
            snapshot.decode_tok_s,
        );
        self.ttft.render(
            &mut out,
            "bitnet_time_to_first_token_seconds",
            "From a request's arrival to its first token.",
        );
        self.inter_token.render(&mut out, "bitnet_inter_token_seconds", "Between two tokens of one reply.");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_counted_once() {
        let m = Metrics::default();
        m.ttft.observe(Duration::from_millis(30));
        m.ttft.observe(Duration::from_millis(30));
        m.ttft.observe(Duration::from_secs(100));
        m.count_response("/v1/chat/completions", 200);
        m.count_response("/v1/chat/completions", 200);
        m.count_response("/v1/models", 404);
        let text = m.render();
        assert!(text.contains("bitnet_time_to_first_token_seconds_bucket{le=\"0.025\"} 0\n"), "{text}");
        assert!(text.contains("bitnet_time_to_first_token_seconds_bucket{le=\"0.05\"} 2\n"), "{text}");
        assert!(text.contains("bitnet_time_to_first_token_seconds_bucket{le=\"80\"} 2\n"), "{text}");
        assert!(text.contains("bitnet_time_to_first_token_seconds_bucket{le=\"+Inf\"} 3\n"), "{text}");
        assert!(text.contains("bitnet_time_to_first_token_seconds_count 3\n"), "{text}");
        assert!(text.contains("bitnet_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"} 2\n"));
        assert!(text.contains("bitnet_requests_total{endpoint=\"/v1/models\",status=\"404\"} 1\n"));
        assert!(text.contains("bitnet_active_sequences 0\n"));
    }
}

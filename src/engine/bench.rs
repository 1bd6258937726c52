//! llama-bench's measurements on our forward pass: `pp` = p prompt tokens from an empty cache,
//! `tg` = n tokens generated one at a time from an empty cache (llama-bench's definitions), each
//! repeated and reported as mean ± sd tokens per second; `tg` at a depth starts after that many
//! cached tokens.

use std::time::Instant;

use super::kv_cache::KvCache;
use super::model::PREFILL_BATCH;
use super::model::{LogitsWanted, Model, RunState};

/// Mean and standard deviation of repeated measurements.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Spread {
    pub mean: f64,
    pub sd: f64,
}

impl Spread {
    pub fn of(samples: &[f64]) -> Self {
        let n = samples.len().max(1) as f64;
        let mean = samples.iter().sum::<f64>() / n;
        let var = samples.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        Self { mean, sd: var.sqrt() }
    }
}

/// Tokens for benchmarking: spread over the vocabulary, never special.
fn bench_tokens(n: usize, vocab: usize) -> Vec<u32> {
    (0..n).map(|i| ((i * 7919 + 13) % (vocab / 2).max(1)) as u32).collect()
}

/// Prompt processing: `p` tokens from an empty cache, in prefill batches; tokens per second.
pub fn prompt_speed(model: &Model, st: &mut RunState, p: usize) -> f64 {
    let mut kv = model.new_kv_cache(p);
    let tokens = bench_tokens(p, model.config.vocab_size);
    let start = Instant::now();
    for (i, batch) in tokens.chunks(PREFILL_BATCH).enumerate() {
        model.forward(st, &mut kv, batch, i * PREFILL_BATCH, LogitsWanted::Last);
    }
    p as f64 / start.elapsed().as_secs_f64()
}

/// Text generation: `n` single-token forwards from position `ctx_start` (the cache before it is
/// filled by a prefill that is not timed); tokens per second.
pub fn generation_speed(model: &Model, st: &mut RunState, n: usize, ctx_start: usize) -> f64 {
    let mut kv = filled_cache(model, st, ctx_start, ctx_start + n);
    generation_speed_at(model, st, &mut kv, n, ctx_start)
}

/// A cache of `capacity` positions whose first `ctx` hold benchmark tokens (filled untimed).
pub fn filled_cache(model: &Model, st: &mut RunState, ctx: usize, capacity: usize) -> KvCache {
    let mut kv = model.new_kv_cache(capacity);
    let tokens = bench_tokens(ctx, model.config.vocab_size);
    for (i, batch) in tokens.chunks(PREFILL_BATCH).enumerate() {
        model.forward(st, &mut kv, batch, i * PREFILL_BATCH, LogitsWanted::Last);
    }
    kv
}

/// `n` single-token forwards at positions `start..start + n` of a filled cache, overwriting those
/// positions (the speed does not depend on the cached values, so one cache serves every depth
/// below its fill); tokens per second.
pub fn generation_speed_at(model: &Model, st: &mut RunState, kv: &mut KvCache, n: usize, start: usize) -> f64 {
    let tokens = bench_tokens(n, model.config.vocab_size);
    let begin = Instant::now();
    for (i, &t) in tokens.iter().enumerate() {
        model.forward(st, kv, &[t], start + i, LogitsWanted::Last);
    }
    n as f64 / begin.elapsed().as_secs_f64()
}

/// Bytes a single-token forward reads: every matrix once (the LM head included) plus the KV
/// cache of `ctx` positions.
pub fn bytes_per_token(model: &Model, ctx: usize) -> u64 {
    let w = &model.weights;
    let layers: usize = w
        .layers
        .iter()
        .map(|l| {
            [&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down].iter().map(|m| m.bytes.len()).sum::<usize>()
        })
        .sum();
    let c = &model.config;
    let kv = c.n_layers * 2 * c.kv_dim() * 2 * ctx;
    let head = model.head.as_ref().map_or(w.output.bytes.len(), |h| h.bytes());
    (layers + head + kv) as u64
}

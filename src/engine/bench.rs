//! llama-bench's measurements on our forward pass: `pp` = p prompt tokens from an empty cache,
//! `tg` = n tokens generated one at a time from an empty cache (llama-bench's definitions), each
//! repeated and reported as mean ± sd tokens per second; `tg` at a depth starts after that many
//! cached tokens, and with several sequences they decode together, one row each per pass.

use std::time::Instant;

use super::kv_cache::{KvPool, SeqId};
use super::model::{BatchRow, Model, RowKind, RunState, PREFILL_BATCH};

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
pub fn prompt_speed(model: &Model, st: &mut RunState, p: usize) -> anyhow::Result<f64> {
    let mut kv = model.new_kv_pool();
    let seq = kv.alloc();
    let start = Instant::now();
    prefill(model, st, &mut kv, seq, p)?;
    Ok(p as f64 / start.elapsed().as_secs_f64())
}

/// Feeds `n` benchmark tokens to an empty sequence in prefill batches, with the logits of each
/// batch's last row (as a prompt's chunks are run).
fn prefill(model: &Model, st: &mut RunState, kv: &mut KvPool, seq: SeqId, n: usize) -> anyhow::Result<()> {
    let tokens = bench_tokens(n, model.config.vocab_size);
    let mut rows = Vec::with_capacity(PREFILL_BATCH);
    for (i, batch) in tokens.chunks(PREFILL_BATCH).enumerate() {
        rows.clear();
        rows.extend(batch.iter().enumerate().map(|(t, &token)| BatchRow {
            seq,
            pos: i * PREFILL_BATCH + t,
            token,
            kind: RowKind::Prefill,
            wants_logits: t + 1 == batch.len(),
        }));
        model.forward_batch(st, kv, &rows)?;
    }
    Ok(())
}

/// A pool with one sequence whose first `depth` positions hold benchmark tokens (filled
/// untimed): the template every generation test copies its starting context from.
pub fn filled_template(model: &Model, st: &mut RunState, depth: usize) -> anyhow::Result<(KvPool, SeqId)> {
    let mut kv = model.new_kv_pool();
    let seq = kv.alloc();
    prefill(model, st, &mut kv, seq, depth)?;
    Ok((kv, seq))
}

/// Text generation: `seqs` sequences, each starting from a copy of the template's first `depth`
/// positions, generate `n` tokens together, one decode row each per forward pass (llama-bench's
/// tg when `seqs` is 1). Returns the aggregate tokens per second.
pub fn generation_speed(
    model: &Model,
    st: &mut RunState,
    kv: &mut KvPool,
    template: SeqId,
    depth: usize,
    seqs: usize,
    n: usize,
) -> anyhow::Result<f64> {
    let ids: Vec<SeqId> = (0..seqs).map(|_| kv.fork(template, depth)).collect();
    let tokens = bench_tokens(n + seqs, model.config.vocab_size);
    let mut rows = Vec::with_capacity(seqs);
    let begin = Instant::now();
    for i in 0..n {
        rows.clear();
        rows.extend(ids.iter().enumerate().map(|(s, &seq)| BatchRow {
            seq,
            pos: depth + i,
            token: tokens[i + s],
            kind: RowKind::Decode,
            wants_logits: true,
        }));
        model.forward_batch(st, kv, &rows)?;
    }
    let seconds = begin.elapsed().as_secs_f64();
    for seq in ids {
        kv.free(seq);
    }
    Ok((seqs * n) as f64 / seconds)
}

/// Bytes one decode step of `seqs` sequences reads: every matrix once (the LM head included)
/// plus each sequence's KV cache of `ctx` positions.
pub fn bytes_per_step(model: &Model, ctx: usize, seqs: usize) -> u64 {
    let w = &model.weights;
    let layers: usize = w
        .layers
        .iter()
        .map(|l| {
            [&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down].iter().map(|m| m.bytes.len()).sum::<usize>()
        })
        .sum();
    let kv = model.new_kv_pool().position_bytes() * ctx;
    (layers + model.head.bytes() + seqs * kv) as u64
}

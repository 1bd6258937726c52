//! Causal multi-head attention with GQA over the F16 KV cache, rounding like bitnet.cpp/ggml:
//! Q is rounded to F16 for the QK dot; with a single query row (decode) the probabilities are
//! rounded to F16 before P·V, with several (prefill) they stay F32 (spec D).
//!
//! A job is one query row's heads that share a KV head, so each key and value row is read from
//! the cache and widened once per job rather than once per head. In decode, where a row has only
//! a few KV heads, a group is split into equal parts when that spreads the jobs more evenly over
//! the threads (2B4T: 5 KV heads of 4 queries make 10 jobs of 2 for 2 threads, not 5 of 4). The
//! per-head arithmetic does not depend on the split.

use std::cell::RefCell;

use rayon::prelude::*;

use crate::engine::kv_cache::KvCache;
use crate::kernels::attn::{pv_accumulate, qk_dots, round_f16};
use crate::kernels::pool::SpinPool;
use crate::kernels::softmax::softmax;

use super::config::ModelConfig;

thread_local! {
    /// A job's working space on this thread: its queries rounded through F16, then its scores
    /// (one row of positions per head). Kept between calls so decoding allocates nothing.
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// `out[t]` = attention of query row `t` (position `start + t`) over positions `0..=start+t`.
/// `q` and `out` are `n × (n_heads·head_dim)`.
pub fn attention(
    c: &ModelConfig,
    kv: &KvCache,
    layer: usize,
    q: &[f32],
    start: usize,
    out: &mut [f32],
    pool: &SpinPool,
) {
    let hd = c.head_dim;
    let n_rows = q.len() / c.q_dim();
    let group = c.n_heads / c.n_kv_heads;
    let heads = if n_rows == 1 { heads_per_job(c.n_kv_heads, group, pool.threads()) } else { group };
    let (jobs_per_row, jobs_per_kv_head) = (c.n_heads / heads, group / heads);
    // A job's queries and outputs: its heads are adjacent in a row.
    let width = heads * hd;
    let kq_scale = 1.0 / (hd as f32).sqrt();
    let job = |i: usize, o: &mut [f32]| {
        let (t, kv_head) = (i / jobs_per_row, i % jobs_per_row / jobs_per_kv_head);
        let len = start + t + 1;
        SCRATCH.with_borrow_mut(|scratch| {
            scratch.resize(width + heads * len, 0.0);
            let (queries, scores) = scratch.split_at_mut(width);
            queries.copy_from_slice(&q[i * width..(i + 1) * width]);
            round_f16(queries);
            qk_dots(queries, kv.keys(layer, kv_head, len), hd, scores);
            for p in scores.chunks_exact_mut(len) {
                p.iter_mut().for_each(|s| *s *= kq_scale);
                softmax(p);
                if n_rows == 1 {
                    round_f16(p);
                }
            }
            o.fill(0.0);
            pv_accumulate(scores, kv.values(layer, kv_head, len), hd, o);
        });
    };
    if n_rows == 1 {
        pool.for_each_chunk(out, width, |start, jobs| {
            for (i, o) in (start / width..).zip(jobs.chunks_exact_mut(width)) {
                job(i, o);
            }
        });
    } else {
        out.par_chunks_mut(width).enumerate().for_each(|(i, o)| job(i, o));
    }
}

/// The most heads per decode job (a divisor of the group) whose jobs split over `threads` within
/// 10% of evenly; one head per job if none does.
fn heads_per_job(n_kv_heads: usize, group: usize, threads: usize) -> usize {
    let even_enough = |jobs: usize| 10 * jobs.div_ceil(threads) * threads <= 11 * jobs;
    (1..=group).rev().find(|&h| group.is_multiple_of(h) && even_enough(n_kv_heads * group / h)).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::heads_per_job;

    #[test]
    fn decode_jobs_spread_evenly() {
        // 2B4T: 5 KV heads × 4 queries.
        assert_eq!(heads_per_job(5, 4, 1), 4);
        assert_eq!(heads_per_job(5, 4, 2), 2);
        assert_eq!(heads_per_job(5, 4, 4), 1);
        // SmolLM2: 3 × 3; no split is within 10% on 2 threads, so the finest.
        assert_eq!(heads_per_job(3, 3, 2), 1);
        assert_eq!(heads_per_job(3, 3, 3), 3);
    }
}

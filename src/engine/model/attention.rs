//! Causal multi-head attention with GQA over the F16 KV cache, rounding like bitnet.cpp/ggml:
//! Q is rounded to F16 for the QK dot; with a single query row (decode) the probabilities are
//! rounded to F16 before P·V, with several (prefill) they stay F32 (spec D).
//!
//! A job is one query row's group of heads sharing a KV head, so each key and value row is read
//! from the cache and widened once per group rather than once per head. (Splitting a group to
//! balance 2B4T's 5 KV heads over 2 threads was measured: at 2048 tokens of context it lost more
//! to reading and widening each row twice than it gained in balance.)

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
    // A job's queries and outputs: its group's heads are adjacent in a row.
    let width = group * hd;
    let kq_scale = 1.0 / (hd as f32).sqrt();
    let job = |i: usize, o: &mut [f32]| {
        let (t, kv_head) = (i / c.n_kv_heads, i % c.n_kv_heads);
        let len = start + t + 1;
        SCRATCH.with_borrow_mut(|scratch| {
            scratch.resize(width + group * len, 0.0);
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

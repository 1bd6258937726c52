//! Causal multi-head attention with GQA over each row's own sequence in the F16 KV pool, rounding
//! like bitnet.cpp/ggml: Q is rounded to F16 for the QK dot; a decode row's probabilities are
//! rounded to F16 before P·V (ggml's single-row path), a prefill row's stay F32 (spec D). The
//! rule follows the row, so a row's output does not depend on what else is in the batch.
//!
//! A job is one query row's group of heads sharing a KV head, so each key and value row is read
//! from the cache and widened once per group rather than once per head. (Splitting a group to
//! balance 2B4T's 5 KV heads over 2 threads was measured: at 2048 tokens of context it lost more
//! to reading and widening each row twice than it gained in balance.)

use std::cell::RefCell;

use rayon::prelude::*;

use crate::engine::kv_cache::KvPool;
use crate::kernels::attn::{pv_accumulate, qk_dots, round_f16};
use crate::kernels::pool::SpinPool;
use crate::kernels::softmax::softmax;

use super::config::ModelConfig;
use super::forward::{BatchRow, RowKind};
use super::ops::PARALLEL_ROWS;

thread_local! {
    /// A job's working space on this thread: its queries rounded through F16, then its scores
    /// (one row of positions per head). Kept between calls so decoding allocates nothing.
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// `out[t]` = attention of query row `t` over positions `0..=pos` of its sequence, where the
/// cache already holds the row's own key and value. `q` and `out` are `n × (n_heads·head_dim)`.
pub fn attention(
    c: &ModelConfig,
    kv: &KvPool,
    layer: usize,
    rows: &[BatchRow],
    q: &[f32],
    out: &mut [f32],
    pool: &SpinPool,
) {
    let hd = c.head_dim;
    let n_rows = rows.len();
    let group = c.n_heads / c.n_kv_heads;
    // A job's queries and outputs: its group's heads are adjacent in a row.
    let width = group * hd;
    let kq_scale = 1.0 / (hd as f32).sqrt();
    let job = |i: usize, o: &mut [f32]| {
        let (row, kv_head) = (&rows[i / c.n_kv_heads], i % c.n_kv_heads);
        let len = row.pos + 1;
        SCRATCH.with_borrow_mut(|scratch| {
            scratch.resize(width + group * len, 0.0);
            let (queries, scores) = scratch.split_at_mut(width);
            queries.copy_from_slice(&q[i * width..(i + 1) * width]);
            round_f16(queries);
            qk_dots(queries, kv.keys(row.seq, layer, kv_head, len), hd, scores);
            for p in scores.chunks_exact_mut(len) {
                p.iter_mut().for_each(|s| *s *= kq_scale);
                softmax(p);
                if row.kind == RowKind::Decode {
                    round_f16(p);
                }
            }
            o.fill(0.0);
            pv_accumulate(scores, kv.values(row.seq, layer, kv_head, len), hd, o);
        });
    };
    if n_rows < PARALLEL_ROWS {
        // Decode steps (one row per sequence): the spin pool's threads are awake already, and
        // waking rayon's beside them would leave three threads on two cores.
        pool.for_each_chunk(out, width, |start, jobs| {
            for (i, o) in (start / width..).zip(jobs.chunks_exact_mut(width)) {
                job(i, o);
            }
        });
    } else {
        out.par_chunks_mut(width).enumerate().for_each(|(i, o)| job(i, o));
    }
}

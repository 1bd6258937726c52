//! Causal multi-head attention with GQA over the F16 KV cache, rounding like bitnet.cpp/ggml:
//! Q is rounded to F16 for the QK dot; with a single query row (decode) the probabilities are
//! rounded to F16 before P·V, with several (prefill) they stay F32 (spec D).

use half::f16;
use rayon::prelude::*;

use crate::engine::kv_cache::KvCache;
use crate::kernels::dot::{axpy_f16, dot_f16};

use super::config::ModelConfig;
use super::ops::{round_f16, softmax};

/// `out[t]` = attention of query row `t` (position `start + t`) over positions `0..=start+t`.
/// `q` and `out` are `n × (n_heads·head_dim)`.
pub fn attention(c: &ModelConfig, kv: &KvCache, layer: usize, q: &[f32], start: usize, out: &mut [f32]) {
    let hd = c.head_dim;
    let group = c.n_heads / c.n_kv_heads;
    let n_rows = q.len() / c.q_dim();
    let kq_scale = 1.0 / (hd as f32).sqrt();
    out.par_chunks_mut(hd).enumerate().for_each(|(i, o)| {
        let (t, h) = (i / c.n_heads, i % c.n_heads);
        let len = start + t + 1;
        let kvh = h / group;
        let q16: Vec<f16> = q[i * hd..(i + 1) * hd].iter().map(|&v| f16::from_f32(v)).collect();
        let keys = kv.keys(layer, kvh, len);
        let mut p: Vec<f32> = keys.chunks_exact(hd).map(|k| dot_f16(&q16, k) * kq_scale).collect();
        softmax(&mut p);
        if n_rows == 1 {
            round_f16(&mut p);
        }
        o.fill(0.0);
        for (&pj, v) in p.iter().zip(kv.values(layer, kvh, len).chunks_exact(hd)) {
            axpy_f16(o, pj, v);
        }
    });
}

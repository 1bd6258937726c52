//! The small per-vector operations of a transformer block, written to round like ggml.

use rayon::prelude::*;

use crate::kernels::expf::swiglu;
use crate::kernels::pool::SpinPool;

use super::config::{FfnActivation, RopeStyle};
use super::weights::{QkNorm, QkvBias};

/// ggml's RMSNorm then the weight multiply: squares summed in f64, mean and scale in f32,
/// `x·scale` then `·w` as two float multiplies (spec D).
pub fn rms_norm(x: &[f32], w: &[f32], eps: f32, out: &mut [f32]) {
    let scale = rms_scale(x, eps);
    for ((o, &v), &w) in out.iter_mut().zip(x).zip(w) {
        *o = (v * scale) * w;
    }
}

/// 1/√(mean(x²) + eps), the sum of squares in f64 as ggml does.
fn rms_scale(x: &[f32], eps: f32) -> f32 {
    let sum: f64 = x.iter().map(|&v| (v * v) as f64).sum();
    let mean = (sum / x.len() as f64) as f32;
    1.0 / (mean + eps).sqrt()
}

/// Row-wise RMSNorm over `rows` of `width`: one row on the calling thread, a few (decode steps of
/// several sequences) on the spin pool, many on rayon's.
pub fn rms_norm_rows(x: &[f32], w: &[f32], eps: f32, out: &mut [f32], pool: &SpinPool) {
    let width = w.len();
    if x.len() <= width {
        x.chunks_exact(width).zip(out.chunks_exact_mut(width)).for_each(|(xr, or)| rms_norm(xr, w, eps, or));
    } else if x.len() < PARALLEL_ROWS * width {
        pool.for_each_chunk(out, width, |start, rows| {
            let x = &x[start..start + rows.len()];
            x.chunks_exact(width).zip(rows.chunks_exact_mut(width)).for_each(|(xr, or)| rms_norm(xr, w, eps, or));
        });
    } else {
        x.par_chunks_exact(width).zip(out.par_chunks_exact_mut(width)).for_each(|(xr, or)| rms_norm(xr, w, eps, or));
    }
}

/// Batches of at least this many rows run their row-wise steps (norms, activation quantization,
/// attention) on the rayon pool: a region costs tens of µs, a row of a few thousand values a few
/// µs. Smaller ones stay on the calling thread or, for attention, the spin pool.
pub const PARALLEL_ROWS: usize = 16;

/// cos/sin of one position's RoPE angles, built like `ggml_rope_cache_init`: θ₀ = pos,
/// θᵢ₊₁ = θᵢ·base^(−2/d) by repeated float multiplication (not pow per index).
#[derive(Default)]
pub struct RopeAngles {
    pub cos: Vec<f32>,
    pub sin: Vec<f32>,
}

impl RopeAngles {
    /// Recomputes the angles for `pos` in place (reusing the buffers).
    pub fn set(&mut self, pos: usize, head_dim: usize, base: f32) {
        let theta_scale = base.powf(-2.0 / head_dim as f32);
        let mut theta = pos as f32;
        self.cos.clear();
        self.sin.clear();
        for _ in 0..head_dim / 2 {
            self.cos.push(theta.cos());
            self.sin.push(theta.sin());
            theta *= theta_scale;
        }
    }

    /// Rotates every head of `x` (a row of heads × head_dim) in place.
    pub fn apply(&self, x: &mut [f32], head_dim: usize, style: RopeStyle) {
        let half = head_dim / 2;
        for head in x.chunks_exact_mut(head_dim) {
            for i in 0..half {
                let (a, b) = match style {
                    RopeStyle::Neox => (i, i + half),
                    RopeStyle::Norm => (2 * i, 2 * i + 1),
                };
                let (x0, x1) = (head[a], head[b]);
                head[a] = x0 * self.cos[i] - x1 * self.sin[i];
                head[b] = x0 * self.sin[i] + x1 * self.cos[i];
            }
        }
    }
}

/// gate ← act(gate) · up for each `width`-long row (ggml applies SwiGLU per row, so its vector
/// and tail parts follow row boundaries).
pub fn gated_activation(gate: &mut [f32], up: &[f32], width: usize, act: FfnActivation) {
    let row = |(g, u): (&mut [f32], &[f32])| match act {
        FfnActivation::ReluSquared => {
            for (g, &u) in g.iter_mut().zip(u) {
                let r = g.max(0.0);
                *g = r * r * u;
            }
        }
        FfnActivation::Silu => swiglu(g, u),
    };
    if gate.len() < PARALLEL_ROWS * width {
        gate.chunks_exact_mut(width).zip(up.chunks_exact(width)).for_each(row);
    } else {
        gate.par_chunks_exact_mut(width).zip(up.par_chunks_exact(width)).for_each(row);
    }
}

pub fn add_assign(x: &mut [f32], y: &[f32]) {
    for (a, &b) in x.iter_mut().zip(y) {
        *a += b;
    }
}

/// The optional steps between the Q/K/V projections and RoPE, for a batch of `n × q_dim`,
/// `n × kv_dim`, `n × kv_dim` rows: add the biases, then RMSNorm each head of Q and K
/// (llama.cpp's order, as in its Qwen graphs). A layer without them is left as it is.
pub fn finish_qkv(
    bias: Option<&QkvBias>,
    norm: Option<&QkNorm>,
    eps: f32,
    q: &mut [f32],
    k: &mut [f32],
    v: &mut [f32],
) {
    if let Some(b) = bias {
        add_to_rows(q, &b.q);
        add_to_rows(k, &b.k);
        add_to_rows(v, &b.v);
    }
    if let Some(norm) = norm {
        rms_norm_pieces(q, &norm.q, eps);
        rms_norm_pieces(k, &norm.k, eps);
    }
}

/// Adds `b` to every `b.len()`-wide row of `x`.
fn add_to_rows(x: &mut [f32], b: &[f32]) {
    x.chunks_exact_mut(b.len()).for_each(|row| add_assign(row, b));
}

/// RMSNorm of every `w.len()`-wide piece of `x` (a head), in place.
fn rms_norm_pieces(x: &mut [f32], w: &[f32], eps: f32) {
    for piece in x.chunks_exact_mut(w.len()) {
        let scale = rms_scale(piece, eps);
        for (v, &w) in piece.iter_mut().zip(w) {
            *v = (*v * scale) * w;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_qkv_adds_biases_per_row_then_norms_each_head_like_rms_norm() {
        // Two rows; Q has 2 heads of 2, K and V one head of 2.
        let x: Vec<f32> = (1..=8).map(|i| i as f32 * 0.5).collect();
        let (mut q, mut k, mut v) = (x.clone(), x[..4].to_vec(), x[4..].to_vec());
        let bias = QkvBias { q: vec![1.0, -1.0, 0.5, 0.0], k: vec![2.0, 0.0], v: vec![0.0, 3.0] };
        let norm = QkNorm { q: vec![1.0, 2.0], k: vec![0.5, 1.0] };
        finish_qkv(Some(&bias), Some(&norm), 1e-5, &mut q, &mut k, &mut v);

        assert_eq!(v, [2.5, 6.0, 3.5, 7.0]);
        let biased_q: Vec<f32> = x.iter().zip(bias.q.iter().cycle()).map(|(a, b)| a + b).collect();
        for (head, got) in biased_q.chunks(2).zip(q.chunks(2)) {
            let mut want = [0f32; 2];
            rms_norm(head, &norm.q, 1e-5, &mut want);
            assert_eq!(got, want);
        }
        let mut want = [0f32; 2];
        rms_norm(&[x[0] + 2.0, x[1]], &norm.k, 1e-5, &mut want);
        assert_eq!(k[..2], want);

        let before = (q.clone(), k.clone(), v.clone());
        finish_qkv(None, None, 1e-5, &mut q, &mut k, &mut v);
        assert_eq!((q, k, v), before);
    }
}

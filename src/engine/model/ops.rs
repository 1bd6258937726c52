//! The small per-vector operations of a transformer block, written to round like ggml.

use rayon::prelude::*;

use crate::kernels::expf::swiglu;

use super::config::{FfnActivation, RopeStyle};

/// ggml's RMSNorm then the weight multiply: squares summed in f64, mean and scale in f32,
/// `x·scale` then `·w` as two float multiplies (spec D).
pub fn rms_norm(x: &[f32], w: &[f32], eps: f32, out: &mut [f32]) {
    let sum: f64 = x.iter().map(|&v| (v * v) as f64).sum();
    let mean = (sum / x.len() as f64) as f32;
    let scale = 1.0 / (mean + eps).sqrt();
    for ((o, &v), &w) in out.iter_mut().zip(x).zip(w) {
        *o = (v * scale) * w;
    }
}

/// Row-wise RMSNorm over `rows` of `width`.
pub fn rms_norm_rows(x: &[f32], w: &[f32], eps: f32, out: &mut [f32]) {
    let width = w.len();
    if x.len() < PARALLEL_ROWS * width {
        x.chunks_exact(width).zip(out.chunks_exact_mut(width)).for_each(|(xr, or)| rms_norm(xr, w, eps, or));
    } else {
        x.par_chunks_exact(width).zip(out.par_chunks_exact_mut(width)).for_each(|(xr, or)| rms_norm(xr, w, eps, or));
    }
}

/// Batches of at least this many rows run their row-wise steps (norms, activation quantization)
/// on the rayon pool: a region costs tens of µs, a row of a few thousand values a few µs.
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

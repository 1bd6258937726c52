//! From a checkpoint's projection weights to ternary codes and one scale (family doc §2.1-§2.2,
//! §3.3): unpacking the packed formats, absmean ternarisation of latent weights, reading
//! already-dequantised ones, and llama's Q/K row permutation.

use anyhow::{bail, Result};
use half::f16;

/// A ternary matrix in GGUF row order (row-major, each code −1, 0 or +1): W = code · scale.
#[derive(Debug, Clone, PartialEq)]
pub struct Ternary {
    pub codes: Vec<i8>,
    pub scale: f32,
}

/// Unpacks a packed BitLinear / AutoBitLinear weight: `packed` is (rows/4, cols) bytes, and the
/// four 2-bit fields of byte (p, c), low bits first, belong to rows p, P + p, 2P + p, 3P + p
/// (P = rows/4), each the code of weight + 1. `label` names the tensor in errors.
pub fn unpack(packed: &[u8], packed_rows: usize, cols: usize, label: &str) -> Result<Vec<i8>> {
    let mut codes = vec![0i8; 4 * packed_rows * cols];
    for (p, row) in packed.chunks_exact(cols).enumerate() {
        for (c, &byte) in row.iter().enumerate() {
            for i in 0..4 {
                let code = (byte >> (2 * i)) & 3;
                if code == 3 {
                    bail!("{label}: byte ({p}, {c}) holds the 2-bit code 3, which packed ternary weights never use");
                }
                codes[(i * packed_rows + p) * cols + c] = code as i8 - 1;
            }
        }
    }
    Ok(codes)
}

/// Absmean ternarisation of latent weights, as bitnet.cpp's converters do it: s = 1/max(mean|W|,
/// 1e-5), code = clamp(round_half_even(W·s), −1, 1), and the weight is code / s. With
/// `fp16_scale` (an fp16 checkpoint, which bitnet.cpp's 2025 converter does not widen first) the
/// scale is rounded to fp16, as its output tensor is.
pub fn absmean(weights: &[f32], fp16_scale: bool) -> (Vec<i8>, f32) {
    let mean = (weights.iter().map(|w| w.abs() as f64).sum::<f64>() / weights.len().max(1) as f64) as f32;
    let inverse = 1.0 / mean.max(1e-5);
    let codes = weights.iter().map(|&w| (w * inverse).round_ties_even().clamp(-1.0, 1.0) as i8).collect();
    let scale = 1.0 / inverse;
    (codes, if fp16_scale { f16::from_f32(scale).to_f32() } else { scale })
}

/// Weights that already are code · scale (Falcon-E's `bfloat16` revision): every non-zero
/// magnitude is the same. None when they are not, i.e. the tensor is latent.
pub fn dequantised(weights: &[f32]) -> Option<(Vec<i8>, f32)> {
    let scale = weights.iter().map(|w| w.abs()).find(|&a| a > 0.0)?;
    if weights.iter().any(|w| w.abs() != 0.0 && w.abs() != scale) {
        return None;
    }
    Some((weights.iter().map(|&w| (w / scale).round().clamp(-1.0, 1.0) as i8).collect(), scale))
}

/// llama.cpp's Q/K permutation for NORM RoPE: within each head of `rows / n_heads` rows, the
/// row at h·d + 2i + j comes from h·d + j·d/2 + i (`reshape(n_head, 2, d/2, in).swapaxes(1, 2)`).
/// Applied to the unpacked rows: packed rows are a quarter of the matrix apart.
pub fn permute_qk(codes: &[i8], rows: usize, cols: usize, n_heads: usize) -> Vec<i8> {
    let d = rows / n_heads;
    let mut out = vec![0i8; codes.len()];
    for h in 0..n_heads {
        for i in 0..d / 2 {
            for j in 0..2 {
                let from = (h * d + j * (d / 2) + i) * cols;
                let to = (h * d + 2 * i + j) * cols;
                out[to..to + cols].copy_from_slice(&codes[from..from + cols]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpacked_rows_are_a_quarter_apart_low_bits_first() {
        // 8 rows, 2 columns → 2 packed rows. Byte (0, 0) = fields 2,1,0,2 → rows 0, 2, 4, 6.
        let packed = [0b10_00_01_10, 0x55, 0x55, 0b00_00_00_01];
        let codes = unpack(&packed, 2, 2, "t").unwrap();
        let column0: Vec<i8> = (0..8).map(|r| codes[r * 2]).collect();
        assert_eq!(column0, [1, 0, 0, 0, -1, 0, 1, 0]);
        let column1: Vec<i8> = (0..8).map(|r| codes[r * 2 + 1]).collect();
        assert_eq!(column1, [0, 0, 0, -1, 0, -1, 0, -1]);
        let err = unpack(&[0xff], 1, 1, "blk.q").unwrap_err().to_string();
        assert!(err.contains("blk.q") && err.contains("code 3"), "{err}");
    }

    #[test]
    fn absmean_rounds_half_to_even_and_clamps() {
        // mean |w| = 1 → codes are round_half_even(w): 0.5 → 0, 1.5 → 2 → clamped 1, −0.5 → 0.
        let w = [0.5, 1.5, -0.5, -1.0, 0.0, 2.5];
        let (codes, scale) = absmean(&w, false);
        assert_eq!(codes, [0, 1, 0, -1, 0, 1]);
        assert_eq!(scale, 1.0);
        // mean 1/3 is not an fp16: the fp16 path rounds the scale.
        let (_, s32) = absmean(&[1.0, 0.0, 0.0], false);
        let (_, s16) = absmean(&[1.0, 0.0, 0.0], true);
        assert_eq!(s32, 1.0 / (1.0 / (1.0f32 / 3.0)));
        assert_eq!(s16, f16::from_f32(s32).to_f32());
        assert_ne!(s16, s32);
        // All-zero weights: the 1e-5 floor keeps the scale finite.
        let (codes, scale) = absmean(&[0.0; 4], false);
        assert_eq!(codes, [0; 4]);
        assert!((scale - 1e-5).abs() < 1e-10, "{scale}");
    }

    #[test]
    fn dequantised_weights_keep_their_magnitude() {
        assert_eq!(dequantised(&[0.25, -0.25, 0.0]), Some((vec![1, -1, 0], 0.25)));
        assert_eq!(dequantised(&[0.25, -0.5]), None);
        assert_eq!(dequantised(&[0.0, 0.0]), None);
    }

    #[test]
    fn permutation_interleaves_the_two_halves_of_each_head() {
        // 2 heads of 4 rows, 1 column: head rows [a0 a1 b0 b1] become [a0 b0 a1 b1].
        let rows: Vec<i8> = (0..8).collect();
        assert_eq!(permute_qk(&rows, 8, 1, 2), [0, 2, 1, 3, 4, 6, 5, 7]);
        // Columns move with their row.
        let wide: Vec<i8> = (0..8).flat_map(|r| [r, -r]).collect();
        let out = permute_qk(&wide, 8, 2, 2);
        assert_eq!(&out[2..4], &[2, -2]);
    }
}

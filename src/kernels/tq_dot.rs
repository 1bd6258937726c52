//! TQ2_0 and TQ1_0 weight rows dotted with int8 activations in blocks of 256 ([`act_q8`]), as
//! ggml's `ggml_vec_dot_tq*_0_q8_K` do: per block the exact integer Σ code·q over the unsigned
//! codes (0..=2; TQ2_0's unused code 3 counts as +2, as in ggml), minus Σq once, since the weight
//! is (code − 1)·d; then one float term d_w·d_a·isum.
//!
//! Every path computes the float part with the same scalar code ([`add_block`], then
//! [`sum_partials`]: block b adds into partial b mod 4), so SIMD kernels only have to get the
//! integer sums right to equal [`dot_ref`] bit for bit. [`block_rows`] dispatches rows to them.
//!
//! [`act_q8`]: super::act_q8
//! [`block_rows`]: super::block_rows

use crate::gguf::TensorType;

use super::act_q8::{ActBlocks, QK_K};
use super::block_dot::sum_partials;
use super::float::f16_at;
use super::{tq1_0, tq2_0};

/// Whether rows of `ty` take this integer path.
pub fn supports(ty: TensorType) -> bool {
    matches!(ty, TensorType::TQ1_0 | TensorType::TQ2_0)
}

/// Bytes of one 256-weight block of a supported type.
pub fn block_bytes(ty: TensorType) -> usize {
    match ty {
        TensorType::TQ1_0 => tq1_0::BLOCK_BYTES,
        TensorType::TQ2_0 => tq2_0::BLOCK_BYTES,
        _ => panic!("{ty:?} has no ternary int8 dot product"),
    }
}

/// The block's scale d: an f16 in its last two bytes (both types).
#[inline]
fn weight_scale(block: &[u8]) -> f32 {
    f16_at(&block[block.len() - 2..], 0)
}

/// Adds block `b`'s term d_w·d_a·isum to a row's partial sums, in the order every path shares.
#[inline]
pub fn add_block(partials: &mut [f32; 4], b: usize, d_w: f32, d_a: f32, isum: i32) {
    partials[b % 4] += (d_w * d_a) * isum as f32;
}

/// Σ w·x over one row: the scalar reference.
pub fn dot_ref(ty: TensorType, w: &[u8], a: ActBlocks) -> f32 {
    let mut partials = [0f32; 4];
    for (b, block) in w.chunks_exact(block_bytes(ty)).take(a.q.len() / QK_K).enumerate() {
        let codes = match ty {
            TensorType::TQ1_0 => tq1_0::block_codes(block),
            _ => tq2_0::block_codes(block),
        };
        let q = &a.q[b * QK_K..(b + 1) * QK_K];
        let code_sum: i32 = codes.iter().zip(q).map(|(&c, &x)| c as i32 * x as i32).sum();
        add_block(&mut partials, b, weight_scale(block), a.d[b], code_sum - a.sum[b]);
    }
    sum_partials(partials)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::act_q8::BlockActs;
    use crate::kernels::block_rows::testing::assert_near_dequantized;
    use crate::kernels::block_rows::{dot_rows_on, dot_rows_x4_on};
    use crate::kernels::dispatch::KernelPath;
    use proptest::prelude::*;
    use rand::{RngCore, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    const TYPES: [TensorType; 2] = [TensorType::TQ2_0, TensorType::TQ1_0];

    /// `blocks` random blocks (any code bytes, so TQ2_0 holds code 3 too) with small f16 scales.
    fn row(ty: TensorType, blocks: usize, seed: u64) -> Vec<u8> {
        let bytes = block_bytes(ty);
        let mut w = vec![0u8; blocks * bytes];
        ChaCha8Rng::seed_from_u64(seed).fill_bytes(&mut w);
        for (b, block) in w.chunks_exact_mut(bytes).enumerate() {
            let d = half::f16::from_f32(0.01 + (b as f32 * 0.37).sin().abs() * 0.05);
            block[bytes - 2..].copy_from_slice(&d.to_le_bytes());
        }
        w
    }

    /// Every path against the reference, bit for bit: three rows per call, and four tokens with
    /// the given activation rows (token-major, stride 5, so neighbouring outputs are left alone).
    fn check_paths(ty: TensorType, w: &[u8], acts: &BlockActs<QK_K>, tokens: [usize; 4]) -> Result<(), TestCaseError> {
        let row_bytes = acts.row(0).q.len() / QK_K * block_bytes(ty);
        let rows = w.len() / row_bytes;
        let want = |t: usize| -> Vec<u32> {
            w.chunks_exact(row_bytes).map(|r| (dot_ref(ty, r, acts.row(t)) * 0.5).to_bits()).collect()
        };
        for path in KernelPath::available() {
            let mut out = vec![0f32; rows];
            dot_rows_on(path, ty, w, acts.row(tokens[0]), 0.5, &mut out);
            prop_assert_eq!(
                out.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                want(tokens[0]),
                "{:?} {:?}",
                path,
                ty
            );
            // Token-major with stride 5 ≥ rows: token k's outputs at out4[5k..5k + rows].
            let mut out4 = vec![f32::NAN; 5 * 5];
            dot_rows_x4_on(path, ty, w, tokens.map(|t| acts.row(t)), 0.5, &mut out4, [0, 5, 10, 15]);
            for (k, &t) in tokens.iter().enumerate() {
                let got: Vec<u32> = (0..rows).map(|i| out4[k * 5 + i].to_bits()).collect();
                prop_assert_eq!(got, want(t), "{:?} {:?} x4 token {}", path, ty, k);
            }
            let untouched = (0..25).filter(|&j| j >= 20 || j % 5 >= rows);
            prop_assert!(untouched.clone().all(|j| out4[j].is_nan()), "{:?} {:?} x4 wrote past its rows", path, ty);
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn every_path_equals_the_reference(
            blocks in 1usize..=20,
            rows in 1usize..=5,
            seed in any::<u64>(),
            x in proptest::collection::vec(-3.0f32..3.0, 4 * 20 * QK_K),
        ) {
            let cols = blocks * QK_K;
            let mut acts = BlockActs::<QK_K>::default();
            acts.quantize(&x[..4 * cols], cols);
            for ty in TYPES {
                check_paths(ty, &row(ty, rows * blocks, seed), &acts, [0, 1, 2, 3])?;
            }
        }

        #[test]
        fn extreme_activations_equal_the_reference(blocks in 1usize..=9, seed in any::<u64>(), signs in any::<u64>()) {
            // Every activation at ±127: the largest 16-bit pair sums (code 3 · 127 · 2).
            let cols = blocks * QK_K;
            let x: Vec<f32> = (0..4 * cols)
                .map(|i| match i / cols {
                    0 => 1.0,
                    1 => -1.0,
                    _ => if (signs >> (i % 64)) & 1 == 1 { 1.0 } else { -1.0 },
                })
                .collect();
            let mut acts = BlockActs::<QK_K>::default();
            acts.quantize(&x, cols);
            prop_assert!(acts.row(1).q.iter().all(|&q| q == -127));
            for ty in TYPES {
                check_paths(ty, &row(ty, 3 * blocks, seed), &acts, [1, 0, 3, 2])?;
            }
        }
    }

    #[test]
    fn all_code_threes_at_full_scale() {
        // TQ2_0 bytes of 0xff: every code 3, so every weight is +2·d.
        let blocks = 9;
        let mut w = vec![0xffu8; blocks * tq2_0::BLOCK_BYTES];
        for block in w.chunks_exact_mut(tq2_0::BLOCK_BYTES) {
            block[64..].copy_from_slice(&half::f16::ONE.to_le_bytes());
        }
        for sign in [1.0f32, -1.0] {
            let mut acts = BlockActs::<QK_K>::default();
            acts.quantize(&vec![sign; blocks * QK_K], blocks * QK_K);
            for path in KernelPath::available() {
                let mut got = [0f32];
                dot_rows_on(path, TensorType::TQ2_0, &w, acts.row(0), 1.0, &mut got);
                // Exact up to the float rounding of d_a = 1/127 and the block terms.
                let want = 2.0 * (blocks * QK_K) as f32 * sign;
                assert!((got[0] - want).abs() <= want.abs() * 1e-6, "{path:?}: {} vs {want}", got[0]);
            }
        }
    }

    #[test]
    fn matches_the_dequantized_dot_within_activation_rounding() {
        let blocks = 11;
        let x: Vec<f32> = (0..blocks * QK_K).map(|i| ((i * 7919) % 113) as f32 / 50.0 - 1.1).collect();
        for ty in TYPES {
            assert_near_dequantized::<QK_K>(ty, &row(ty, blocks, 7), &x);
        }
    }
}

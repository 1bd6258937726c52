//! Q6_K (6.5625 bpw): 256 weights per super-block = `ql[128]` (low 4 bits), `qh[64]` (high 2
//! bits), 16 i8 sub-block scales, f16 `d`; value = d·scale·(q − 32). Matches ggml's
//! `dequantize_row_q6_K`: each 128-half takes 64 bytes of `ql`, 32 of `qh` and 8 scales.

use super::float::f16_at;

pub const Q6_K_BYTES: usize = 210;
/// Weights per super-block.
pub const Q6_K_WEIGHTS: usize = 256;
/// Where the super-block's parts start.
const QH_AT: usize = 128;
const SCALES_AT: usize = 192;
const D_AT: usize = 208;

/// The super-block's scale `d`.
pub fn super_scale(block: &[u8]) -> f32 {
    f16_at(&block[D_AT..], 0)
}

/// Weights 32j..32j+32 of a super-block (j < 8) as q − 32. Quarter j % 4 of half j / 4 takes
/// `ql` bytes 0..32 or 32..64 of the half (low nibbles for quarters 0, 1, high for 2, 3) and bit
/// pair j % 4 of the half's 32 `qh` bytes.
fn centred_values(block: &[u8], j: usize) -> [i8; 32] {
    let (half, quarter) = (j / 4, j % 4);
    let ql = &block[64 * half + 32 * (quarter % 2)..][..32];
    let qh = &block[QH_AT + 32 * half..][..32];
    let (lo_shift, hi_shift) = (4 * (quarter / 2), 2 * quarter);
    std::array::from_fn(|l| (((ql[l] >> lo_shift) & 0xf) | (((qh[l] >> hi_shift) & 3) << 4)) as i8 - 32)
}

/// The i8 scales of the two 16-weight sub-blocks in weights 32j..32j+32.
fn scale_pair(block: &[u8], j: usize) -> [i32; 2] {
    [block[SCALES_AT + 2 * j] as i8 as i32, block[SCALES_AT + 2 * j + 1] as i8 as i32]
}

/// Σ scale·(q − 32)·a over weights 32j..32j+32 of a super-block and 32 int8 activations (the
/// super-block's `d` is applied in float).
pub fn block_isum_q6_k(block: &[u8], j: usize, a: &[i8]) -> i32 {
    let q = centred_values(block, j);
    let scales = scale_pair(block, j);
    (0..2).map(|s| scales[s] * (16 * s..16 * s + 16).map(|l| q[l] as i32 * a[l] as i32).sum::<i32>()).sum()
}

pub fn dequantize_row_q6_k(bytes: &[u8], out: &mut [f32]) {
    for (block, y) in bytes.chunks_exact(Q6_K_BYTES).zip(out.chunks_exact_mut(Q6_K_WEIGHTS)) {
        let d = super_scale(block);
        for (j, y) in y.chunks_exact_mut(32).enumerate() {
            let (q, scales) = (centred_values(block, j), scale_pair(block, j));
            for (l, y) in y.iter_mut().enumerate() {
                *y = d * scales[l / 16] as f32 * q[l] as f32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn hand_built_block() {
        let mut block = vec![0u8; Q6_K_BYTES];
        block[0] = 0x21; // ql[0]: elem 0 low = 1, elem 64 low = 2
        block[128] = 0b11_10_01_00; // qh[0]: elem 0 hi 0, elem 32 hi 1, elem 64 hi 2, elem 96 hi 3
        block[192] = 2; // scale of elems 0..16
        block[194] = 0xff; // scale of elems 32..48 = -1
        block[196] = 3; // scale of elems 64..80
        block[198] = 1; // scale of elems 96..112
        block[208..210].copy_from_slice(&[0x00, 0x38]); // d = 0.5
        let mut out = [0f32; 256];
        dequantize_row_q6_k(&block, &mut out);
        assert_eq!(out[0], 0.5 * 2.0 * (1 - 32) as f32);
        assert_eq!(out[32], -0.5 * (16 - 32) as f32); // d · scale −1
        assert_eq!(out[64], 0.5 * 3.0 * (2 + 32 - 32) as f32);
        assert_eq!(out[96], 0.5 * 1.0 * (48 - 32) as f32);
        assert_eq!(out[128], 0.0); // second half has scale 0
    }

    #[test]
    fn block_isum_matches_the_dequantized_values() {
        let mut block = vec![0u8; Q6_K_BYTES];
        ChaCha8Rng::seed_from_u64(3).fill(&mut block[..]);
        block[208..210].copy_from_slice(&[0x00, 0x3c]); // d = 1: values are scale·(q − 32)
        let mut w = [0f32; 256];
        dequantize_row_q6_k(&block, &mut w);
        let a: Vec<i8> = (0..256).map(|i| ((i * 37) % 255) as i8).collect();
        for j in 0..8 {
            let want: f32 = (32 * j..32 * j + 32).map(|i| w[i] * a[i] as f32).sum();
            assert_eq!(block_isum_q6_k(&block, j, &a[32 * j..]) as f32, want, "block {j}");
        }
    }
}

//! Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and Q6_K weight rows dotted with block-quantized int8 activations
//! ([`act_q8`]), as ggml does for these types: an exact integer sum per block of 32 activations,
//! then one float product per block. A Q6_K super-block spans eight activation blocks; each one's
//! sum carries its two 16-weight sub-block scales, and only the super-block's `d` is a float.
//!
//! The float part has a fixed order on every path: block b adds into partial sum b mod 4, and
//! the row's result is (p0 + p1) + (p2 + p3). The SIMD kernels keep four blocks in the four lanes
//! of a vector, so they equal [`dot_ref`] bit for bit. [`block_rows`] dispatches rows to them.
//!
//! [`act_q8`]: super::act_q8
//! [`block_rows`]: super::block_rows

use crate::gguf::TensorType;

use super::act_q8::{ActBlocks, BLOCK};
use super::float::f16_at;
use super::q4::{block_isum_q4_0, block_isum_q4_1, Q4_0_BYTES, Q4_1_BYTES};
use super::q5::{block_isum_q5_0, block_isum_q5_1, Q5_0_BYTES, Q5_1_BYTES};
use super::q6_k::{block_isum_q6_k, super_scale, Q6_K_BYTES};
use super::q8_0::{block_isum_q8_0, Q8_0_BYTES};

/// Whether rows of `ty` take this integer path.
pub fn supports(ty: TensorType) -> bool {
    use TensorType::*;
    matches!(ty, Q4_0 | Q4_1 | Q5_0 | Q5_1 | Q8_0 | Q6K)
}

/// Bytes of one weight block of a supported type (32 weights, or a Q6_K super-block of 256).
pub fn block_bytes(ty: TensorType) -> usize {
    match ty {
        TensorType::Q4_0 => Q4_0_BYTES,
        TensorType::Q4_1 => Q4_1_BYTES,
        TensorType::Q5_0 => Q5_0_BYTES,
        TensorType::Q5_1 => Q5_1_BYTES,
        TensorType::Q8_0 => Q8_0_BYTES,
        TensorType::Q6K => Q6_K_BYTES,
        _ => panic!("{ty:?} has no block-int8 dot product"),
    }
}

/// Bytes of a row of `cols` weights (whole weight blocks).
pub fn row_bytes(ty: TensorType, cols: usize) -> usize {
    assert!(cols.is_multiple_of(ty.block_elems()), "{cols} weights are not whole {ty:?} blocks");
    cols / ty.block_elems() * block_bytes(ty)
}

/// The weight block holding activation block `b` of a row, and b's index within it.
pub fn weight_block(ty: TensorType, w: &[u8], b: usize) -> (&[u8], usize) {
    let (per, bytes) = (ty.block_elems() / BLOCK, block_bytes(ty));
    (&w[b / per * bytes..(b / per + 1) * bytes], b % per)
}

/// One block's integer sum Σ w·a (scalar).
pub fn block_isum_ref(ty: TensorType, w: &[u8], a: ActBlocks, b: usize) -> i32 {
    let ((wb, j), qa) = (weight_block(ty, w, b), &a.q[b * BLOCK..(b + 1) * BLOCK]);
    match ty {
        TensorType::Q4_0 => block_isum_q4_0(wb, qa, a.sum[b]),
        TensorType::Q4_1 => block_isum_q4_1(wb, qa),
        TensorType::Q5_0 => block_isum_q5_0(wb, qa, a.sum[b]),
        TensorType::Q5_1 => block_isum_q5_1(wb, qa),
        TensorType::Q6K => block_isum_q6_k(wb, j, qa),
        _ => block_isum_q8_0(wb, qa),
    }
}

/// Block `b`'s float term from its integer sum: d_w·d_a·Σ, plus Q4_1's and Q5_1's offset m·d_a·Σa.
#[inline]
pub fn block_term(ty: TensorType, w: &[u8], a: ActBlocks, b: usize, isum: i32) -> f32 {
    let (wb, _) = weight_block(ty, w, b);
    let dw = if ty == TensorType::Q6K { super_scale(wb) } else { f16_at(wb, 0) };
    let term = (dw * a.d[b]) * isum as f32;
    match ty {
        TensorType::Q4_1 | TensorType::Q5_1 => term + f16_at(wb, 1) * a.sum_d[b],
        _ => term,
    }
}

/// The four partial sums' fixed final order.
#[inline]
pub fn sum_partials(p: [f32; 4]) -> f32 {
    (p[0] + p[1]) + (p[2] + p[3])
}

/// Σ w·x over one row: the scalar reference.
pub fn dot_ref(ty: TensorType, w: &[u8], a: ActBlocks) -> f32 {
    let mut partials = [0f32; 4];
    for b in 0..a.q.len() / BLOCK {
        partials[b % 4] += block_term(ty, w, a, b, block_isum_ref(ty, w, a, b));
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

    const TYPES: [TensorType; 6] =
        [TensorType::Q4_0, TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1, TensorType::Q8_0, TensorType::Q6K];

    /// A row of random weight blocks with small finite f16 scales (any bytes for the values and
    /// Q6_K's i8 sub-block scales).
    fn row(ty: TensorType, blocks: usize, seed: u64) -> Vec<u8> {
        let mut bytes = vec![0u8; blocks * block_bytes(ty)];
        ChaCha8Rng::seed_from_u64(seed).fill_bytes(&mut bytes);
        let headers: &[usize] = match ty {
            TensorType::Q4_1 | TensorType::Q5_1 => &[0, 2],
            TensorType::Q6K => &[208],
            _ => &[0],
        };
        for (b, block) in bytes.chunks_exact_mut(block_bytes(ty)).enumerate() {
            for (h, &at) in headers.iter().enumerate() {
                let v = half::f16::from_f32((b as f32 * 0.37 + h as f32 + 0.1).sin() * 0.05);
                block[at..at + 2].copy_from_slice(&v.to_le_bytes());
            }
        }
        bytes
    }

    proptest! {
        #[test]
        fn every_path_equals_the_reference(
            blocks in 1usize..60,
            seed in any::<u64>(),
            x in proptest::collection::vec(-3.0f32..3.0, 64 * 32),
        ) {
            for ty in TYPES {
                // Rows of `blocks` weight blocks (Q6_K: at most 8 super-blocks).
                let cols = (blocks * ty.block_elems()).min(60 * 32).next_multiple_of(ty.block_elems());
                let x = &x[..cols];
                let mut acts = BlockActs::<BLOCK>::default();
                acts.quantize(x, cols);
                // Four different rows: the same values shifted.
                let shifted: Vec<f32> = (0..4).flat_map(|t| x.iter().map(move |v| v * (t as f32 - 1.5))).collect();
                let mut many = BlockActs::<BLOCK>::default();
                many.quantize(&shifted, cols);
                // Three rows in one call.
                let w = row(ty, 3 * cols / ty.block_elems(), seed);
                let row_bytes = row_bytes(ty, cols);
                let want: Vec<u32> =
                    w.chunks_exact(row_bytes).map(|r| (dot_ref(ty, r, acts.row(0)) * 0.5).to_bits()).collect();
                let want4: Vec<Vec<u32>> = (0..4)
                    .map(|t| w.chunks_exact(row_bytes).map(|r| (dot_ref(ty, r, many.row(t)) * 0.5).to_bits()).collect())
                    .collect();
                for path in KernelPath::available() {
                    let mut out = [0f32; 3];
                    dot_rows_on(path, ty, &w, acts.row(0), 0.5, &mut out);
                    prop_assert_eq!(out.map(f32::to_bits).to_vec(), want.clone(), "{:?} {:?}", path, ty);
                    // Four tokens (the same row four times, then four different rows), stride 5.
                    let mut out4 = [0f32; 20];
                    dot_rows_x4_on(path, ty, &w, [acts.row(0); 4], 0.5, &mut out4, [0, 5, 10, 15]);
                    for t in 0..4 {
                        let got: Vec<u32> = out4[t * 5..t * 5 + 3].iter().map(|v| v.to_bits()).collect();
                        prop_assert_eq!(&got, &want, "{:?} {:?} x4", path, ty);
                    }
                    dot_rows_x4_on(path, ty, &w, [0, 1, 2, 3].map(|t| many.row(t)), 0.5, &mut out4, [0, 5, 10, 15]);
                    for (t, want) in want4.iter().enumerate() {
                        let got: Vec<u32> = out4[t * 5..t * 5 + 3].iter().map(|v| v.to_bits()).collect();
                        prop_assert_eq!(&got, want, "{:?} {:?} x4 token {}", path, ty, t);
                    }
                }
            }
        }
    }

    #[test]
    fn matches_the_dequantized_dot_within_activation_rounding() {
        let cols = 768;
        let x: Vec<f32> = (0..cols).map(|i| ((i * 7919) % 113) as f32 / 50.0 - 1.1).collect();
        for ty in TYPES {
            assert_near_dequantized::<BLOCK>(ty, &row(ty, cols / ty.block_elems(), 7), &x);
        }
    }

    #[test]
    fn extremes_do_not_overflow() {
        // The largest 16-bit pair sums and 32-bit block sums against ±127 activations, d = 1:
        // Q8_0 weights of −128, and Q6_K's q − 32 = −32 under sub-block scales of −128.
        let cols = 512;
        let one = half::f16::ONE.to_le_bytes();
        let mut q8_0 = vec![0x80u8; cols / 32 * Q8_0_BYTES];
        for block in q8_0.chunks_exact_mut(Q8_0_BYTES) {
            block[..2].copy_from_slice(&one);
        }
        let mut q6_k = vec![0u8; cols / 256 * Q6_K_BYTES];
        for block in q6_k.chunks_exact_mut(Q6_K_BYTES) {
            block[192..208].fill(0x80);
            block[208..].copy_from_slice(&one);
        }
        for (ty, w, block_isum) in
            [(TensorType::Q8_0, q8_0, -128 * 127 * 32), (TensorType::Q6K, q6_k, 128 * 32 * 127 * 32)]
        {
            for sign in [1, -1] {
                let x = vec![sign as f32; cols];
                let mut acts = BlockActs::<BLOCK>::default();
                acts.quantize(&x, cols);
                assert_eq!(block_isum_ref(ty, &w, acts.row(0), 1), block_isum * sign);
                let want = (block_isum * sign) as f32 * (cols / 32) as f32 / 127.0;
                for path in KernelPath::available() {
                    let mut got = [0f32];
                    dot_rows_on(path, ty, &w, acts.row(0), 1.0, &mut got);
                    assert_eq!(got[0], want, "{path:?} {ty:?}");
                }
            }
        }
    }
}

//! Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 weight rows dotted with block-quantized int8 activations ([`act_q8`]),
//! as ggml does for these types: an exact integer sum per block, then one float product per block.
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
use super::q8_0::{block_isum_q8_0, Q8_0_BYTES};

/// Whether rows of `ty` take this integer path.
pub fn supports(ty: TensorType) -> bool {
    use TensorType::*;
    matches!(ty, Q4_0 | Q4_1 | Q5_0 | Q5_1 | Q8_0)
}

/// Bytes of one 32-weight block of a supported type.
pub fn block_bytes(ty: TensorType) -> usize {
    match ty {
        TensorType::Q4_0 => Q4_0_BYTES,
        TensorType::Q4_1 => Q4_1_BYTES,
        TensorType::Q5_0 => Q5_0_BYTES,
        TensorType::Q5_1 => Q5_1_BYTES,
        TensorType::Q8_0 => Q8_0_BYTES,
        _ => panic!("{ty:?} has no block-int8 dot product"),
    }
}

/// One block's integer sum Σ w·a (scalar).
pub fn block_isum_ref(ty: TensorType, w: &[u8], a: ActBlocks, b: usize) -> i32 {
    let bytes = block_bytes(ty);
    let (wb, qa) = (&w[b * bytes..(b + 1) * bytes], &a.q[b * BLOCK..(b + 1) * BLOCK]);
    match ty {
        TensorType::Q4_0 => block_isum_q4_0(wb, qa, a.sum[b]),
        TensorType::Q4_1 => block_isum_q4_1(wb, qa),
        TensorType::Q5_0 => block_isum_q5_0(wb, qa, a.sum[b]),
        TensorType::Q5_1 => block_isum_q5_1(wb, qa),
        _ => block_isum_q8_0(wb, qa),
    }
}

/// Block `b`'s float term from its integer sum: d_w·d_a·Σ, plus Q4_1's and Q5_1's offset m·d_a·Σa.
#[inline]
pub fn block_term(ty: TensorType, w: &[u8], a: ActBlocks, b: usize, isum: i32) -> f32 {
    let wb = &w[b * block_bytes(ty)..];
    let term = (f16_at(wb, 0) * a.d[b]) * isum as f32;
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

    const TYPES: [TensorType; 5] =
        [TensorType::Q4_0, TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1, TensorType::Q8_0];

    /// A row of random blocks with small finite f16 scales (any bytes for the values).
    fn row(ty: TensorType, blocks: usize, seed: u64) -> Vec<u8> {
        let mut bytes = vec![0u8; blocks * block_bytes(ty)];
        ChaCha8Rng::seed_from_u64(seed).fill_bytes(&mut bytes);
        let headers = if matches!(ty, TensorType::Q4_1 | TensorType::Q5_1) { 2 } else { 1 };
        for (b, block) in bytes.chunks_exact_mut(block_bytes(ty)).enumerate() {
            for h in 0..headers {
                let v = half::f16::from_f32((b as f32 * 0.37 + h as f32 + 0.1).sin() * 0.05);
                block[2 * h..2 * h + 2].copy_from_slice(&v.to_le_bytes());
            }
        }
        bytes
    }

    proptest! {
        #[test]
        fn every_path_equals_the_reference(
            blocks in 1usize..60,
            seed in any::<u64>(),
            x in proptest::collection::vec(-3.0f32..3.0, 60 * 32),
        ) {
            let mut acts = BlockActs::<BLOCK>::default();
            acts.quantize(&x[..blocks * 32], blocks * 32);
            // Four different rows: the same values shifted.
            let shifted: Vec<f32> = (0..4).flat_map(|t| x[..blocks * 32].iter().map(move |v| v * (t as f32 - 1.5))).collect();
            let mut many = BlockActs::<BLOCK>::default();
            many.quantize(&shifted, blocks * 32);
            for ty in TYPES {
                // Three rows in one call.
                let w = row(ty, 3 * blocks, seed);
                let row_bytes = blocks * block_bytes(ty);
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
                    let mut out4 = [0f32; 15];
                    dot_rows_x4_on(path, ty, &w, [acts.row(0); 4], 0.5, &mut out4, 5);
                    for (i, &bits) in want.iter().enumerate() {
                        prop_assert!(out4[i * 5..i * 5 + 4].iter().all(|v| v.to_bits() == bits), "{:?} {:?} x4", path, ty);
                    }
                    dot_rows_x4_on(path, ty, &w, [0, 1, 2, 3].map(|t| many.row(t)), 0.5, &mut out4, 5);
                    for (t, want) in want4.iter().enumerate() {
                        let got: Vec<u32> = (0..3).map(|i| out4[i * 5 + t].to_bits()).collect();
                        prop_assert_eq!(&got, want, "{:?} {:?} x4 token {}", path, ty, t);
                    }
                }
            }
        }
    }

    #[test]
    fn matches_the_dequantized_dot_within_activation_rounding() {
        let blocks = 18;
        let x: Vec<f32> = (0..blocks * 32).map(|i| ((i * 7919) % 113) as f32 / 50.0 - 1.1).collect();
        for ty in TYPES {
            assert_near_dequantized::<BLOCK>(ty, &row(ty, blocks, 7), &x);
        }
    }

    #[test]
    fn extremes_do_not_overflow() {
        // Q8_0 weights of −128 against ±127 activations: the largest 16-bit pair sums.
        let blocks = 9;
        let mut w = vec![0x80u8; blocks * Q8_0_BYTES];
        for block in w.chunks_exact_mut(Q8_0_BYTES) {
            block[..2].copy_from_slice(&half::f16::ONE.to_le_bytes());
        }
        for sign in [1.0f32, -1.0] {
            let x = vec![sign; blocks * 32];
            let mut acts = BlockActs::<BLOCK>::default();
            acts.quantize(&x, x.len());
            let want = -128.0 * 127.0 * 32.0 * 9.0 * sign / 127.0;
            for path in KernelPath::available() {
                let mut got = [0f32];
                dot_rows_on(path, TensorType::Q8_0, &w, acts.row(0), 1.0, &mut got);
                assert_eq!(got[0], want, "{path:?}");
            }
        }
    }
}

//! Q5_0 and Q5_1: 32 weights per block, 4 low bits as nibbles (elements 0..16 low, 16..32 high)
//! plus a 32-bit mask `qh` holding bit 4 of element j at bit j. Q5_0 (5.5 bpw): value =
//! (q − 16)·d. Q5_1 (6 bpw): value = q·d + m. Matches ggml's `dequantize_row_q5_0` / `_q5_1`.

use super::block_layout::{BlockQ5_0, BlockQ5_1};
use super::float::f16_at;

pub const Q5_0_BYTES: usize = size_of::<BlockQ5_0>();
pub const Q5_1_BYTES: usize = size_of::<BlockQ5_1>();

/// The 5-bit values of one block: `qh` is the high-bit mask, `qs` the 16 nibble bytes.
fn q5_values(qh: [u8; 4], qs: &[u8]) -> [u8; 32] {
    let qh = u32::from_le_bytes(qh);
    let mut q = [0u8; 32];
    for j in 0..16 {
        let hi0 = ((qh >> j) & 1) as u8;
        let hi1 = ((qh >> (j + 16)) & 1) as u8;
        q[j] = (qs[j] & 0x0f) | (hi0 << 4);
        q[j + 16] = (qs[j] >> 4) | (hi1 << 4);
    }
    q
}

/// Σ q·a over a block's 5-bit values and 32 int8 activations.
fn q5_dot(qh: [u8; 4], qs: &[u8], a: &[i8]) -> i32 {
    q5_values(qh, qs).iter().zip(a).map(|(&q, &x)| q as i32 * x as i32).sum()
}

/// Σ (q − 16)·a over one Q5_0 block and 32 int8 activations whose sum is `sum_a`.
pub fn block_isum_q5_0(w: &[u8], a: &[i8], sum_a: i32) -> i32 {
    q5_dot([w[2], w[3], w[4], w[5]], &w[6..Q5_0_BYTES], a) - 16 * sum_a
}

/// Σ q·a over one Q5_1 block (its offset `m` is applied in float, times the activations' sum).
pub fn block_isum_q5_1(w: &[u8], a: &[i8]) -> i32 {
    q5_dot([w[4], w[5], w[6], w[7]], &w[8..Q5_1_BYTES], a)
}

pub fn dequantize_row_q5_0(bytes: &[u8], out: &mut [f32]) {
    for (block, y) in bytes.chunks_exact(Q5_0_BYTES).zip(out.chunks_exact_mut(32)) {
        let d = f16_at(block, 0);
        let q = q5_values([block[2], block[3], block[4], block[5]], &block[6..]);
        for (y, q) in y.iter_mut().zip(q) {
            *y = (q as i32 - 16) as f32 * d;
        }
    }
}

pub fn dequantize_row_q5_1(bytes: &[u8], out: &mut [f32]) {
    for (block, y) in bytes.chunks_exact(Q5_1_BYTES).zip(out.chunks_exact_mut(32)) {
        let (d, m) = (f16_at(block, 0), f16_at(block, 1));
        let q = q5_values([block[4], block[5], block[6], block[7]], &block[8..]);
        for (y, q) in y.iter_mut().zip(q) {
            *y = q as f32 * d + m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q5_0_hand_built_block() {
        // d = 1.0; qh bit 0 and bit 16 set; qs[0] = 0x21 → elem 0 = 1|16 = 17 → 1, elem 16 = 2|16 = 18 → 2
        let mut block = vec![0x00, 0x3c, 0x01, 0x00, 0x01, 0x00, 0x21];
        block.extend([0x00; 15]);
        let mut out = [0f32; 32];
        dequantize_row_q5_0(&block, &mut out);
        assert_eq!((out[0], out[16], out[1], out[17]), (1.0, 2.0, -16.0, -16.0));
    }

    #[test]
    fn q5_1_hand_built_block() {
        // d = 0.5, m = 1.0; qh bit 31 set → elem 31 = (qs[15] >> 4) | 16
        let mut block = vec![0x00, 0x38, 0x00, 0x3c, 0x00, 0x00, 0x00, 0x80];
        block.extend([0x00; 15]);
        block.push(0x30);
        let mut out = [0f32; 32];
        dequantize_row_q5_1(&block, &mut out);
        assert_eq!(out[31], (3 + 16) as f32 * 0.5 + 1.0);
        assert_eq!(out[15], 1.0);
    }
}

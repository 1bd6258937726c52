//! TQ2_0 (mainline llama.cpp, id 35), 2.0625 bpw: 256 weights per block = 64 bytes of 2-bit codes
//! then an f16 scale `d`. In each 128-element half, byte `m` holds elements m, m+32, m+64, m+96 in
//! bits 1:0, 3:2, 5:4, 7:6 (LSB first, unlike I2_S). Weight = (code − 1)·d. Matches ggml's
//! `dequantize_row_tq2_0`.

use super::block_layout::BlockTQ2_0;
use super::float::f16_at;

pub const BLOCK_BYTES: usize = size_of::<BlockTQ2_0>();

/// The codes (0..=2) of one block in element order.
pub fn block_codes(block: &[u8]) -> [u8; 256] {
    let mut codes = [0u8; 256];
    for half in 0..2 {
        for m in 0..32 {
            let byte = block[half * 32 + m];
            for l in 0..4 {
                codes[half * 128 + l * 32 + m] = (byte >> (2 * l)) & 3;
            }
        }
    }
    codes
}

/// Packs 256 codes (0..=2) and a scale into one block: the inverse of [`block_codes`], as ggml's
/// `quantize_row_tq2_0_ref` lays it out.
pub fn pack_block(codes: &[u8], d: half::f16, block: &mut [u8]) {
    for half in 0..2 {
        for m in 0..32 {
            block[half * 32 + m] = (0..4).fold(0u8, |byte, l| byte | (codes[half * 128 + l * 32 + m] & 3) << (2 * l));
        }
    }
    block[64..66].copy_from_slice(&d.to_le_bytes());
}

pub fn dequantize_row(bytes: &[u8], out: &mut [f32]) {
    for (block, y) in bytes.chunks_exact(BLOCK_BYTES).zip(out.chunks_exact_mut(256)) {
        let d = f16_at(&block[64..], 0);
        for (y, c) in y.iter_mut().zip(block_codes(block)) {
            *y = (c as i32 - 1) as f32 * d;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn pack_block_is_the_inverse_of_block_codes(codes in proptest::collection::vec(0u8..3, 256), d in -4f32..4.0) {
            let mut block = [0u8; BLOCK_BYTES];
            pack_block(&codes, half::f16::from_f32(d), &mut block);
            prop_assert_eq!(block_codes(&block).to_vec(), codes);
            prop_assert_eq!(f16_at(&block[64..], 0), half::f16::from_f32(d).to_f32());
        }
    }

    #[test]
    fn hand_built_block() {
        let mut block = vec![0x55u8; BLOCK_BYTES]; // all codes 1 → 0
        block[0] = 0b10_01_00_10; // elements 0, 32, 64, 96 = +1, −1, 0, +1
        block[32] = 0b00_00_00_00; // elements 128, 160, 192, 224 = −1
        block[64..66].copy_from_slice(&[0x00, 0x40]); // d = 2
        let mut out = [0f32; 256];
        dequantize_row(&block, &mut out);
        assert_eq!([out[0], out[32], out[64], out[96]], [2.0, -2.0, 0.0, 2.0]);
        assert_eq!([out[128], out[160], out[192], out[224]], [-2.0; 4]);
        assert_eq!(out[1], 0.0);
    }
}

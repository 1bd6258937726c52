//! TQ1_0 (mainline llama.cpp, id 34), 1.6875 bpw: 256 weights per block = `qs[48]` (5 trits per
//! byte), `qh[4]` (4 trits per byte), f16 `d`. A byte stores base-3 digits as a fixed-point
//! fraction of 256: digit n is `((byte·3ⁿ mod 256)·3) >> 8`. Order: qs[0..32] give elements
//! n·32 + m for digit n; qs[32..48] give 160 + n·16 + m; qh[j] gives 240 + n·4 + j.
//! Weight = (digit − 1)·d. Matches ggml's `dequantize_row_tq1_0`.

use super::block_layout::BlockTQ1_0;
use super::float::f16_at;

pub const BLOCK_BYTES: usize = size_of::<BlockTQ1_0>();
const POW3: [u8; 6] = [1, 3, 9, 27, 81, 243];

#[inline]
fn digit(byte: u8, n: usize) -> u8 {
    ((byte.wrapping_mul(POW3[n]) as u16 * 3) >> 8) as u8
}

/// The trits (0..=2) of one block in element order.
pub fn block_codes(block: &[u8]) -> [u8; 256] {
    // (bytes, digits per byte) in storage order; each digit n of a run is one run of elements
    let runs: [(&[u8], usize); 3] = [(&block[..32], 5), (&block[32..48], 5), (&block[48..52], 4)];
    let mut codes = [0u8; 256];
    let mut k = 0;
    for (bytes, digits) in runs {
        for n in 0..digits {
            for &byte in bytes {
                codes[k] = digit(byte, n);
                k += 1;
            }
        }
    }
    codes
}

/// One byte of `digits` trits, most significant first, as ggml stores them: the base-3 number
/// (padded to 5 digits) as a fixed-point fraction of 243, rounded up to a multiple of 1/256.
fn encode_trits(trits: impl Iterator<Item = u8>, digits: usize) -> u8 {
    let v = trits.fold(0u16, |acc, t| acc * 3 + t as u16) * POW3[5 - digits] as u16;
    (v * 256).div_ceil(243) as u8
}

/// Packs 256 trits (0..=2) and a scale into one block: the inverse of [`block_codes`], as ggml's
/// `quantize_row_tq1_0_ref` lays it out.
pub fn pack_block(codes: &[u8], d: half::f16, block: &mut [u8]) {
    // (first element, bytes in the run, digits per byte): digit n of byte m is element start + n·bytes + m
    let runs = [(0, 32, 5), (160, 16, 5), (240, 4, 4)];
    let mut at = 0;
    for (start, bytes, digits) in runs {
        for m in 0..bytes {
            block[at + m] = encode_trits((0..digits).map(|n| codes[start + n * bytes + m]), digits);
        }
        at += bytes;
    }
    block[52..54].copy_from_slice(&d.to_le_bytes());
}

pub fn dequantize_row(bytes: &[u8], out: &mut [f32]) {
    for (block, y) in bytes.chunks_exact(BLOCK_BYTES).zip(out.chunks_exact_mut(256)) {
        let d = f16_at(&block[52..], 0);
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
            prop_assert_eq!(f16_at(&block[52..], 0), half::f16::from_f32(d).to_f32());
        }
    }

    #[test]
    fn hand_built_block() {
        let mut block = vec![0u8; BLOCK_BYTES];
        // qs[0] digits 2,0,1,1,2 → elements 0, 32, 64, 96, 128 = +1, −1, 0, 0, +1
        block[0] = encode_trits([2, 0, 1, 1, 2].into_iter(), 5);
        // qs[32] digits → elements 160, 176, 192, 208, 224
        block[32] = encode_trits([0, 2, 2, 0, 1].into_iter(), 5);
        block[52..54].copy_from_slice(&[0x00, 0x3c]); // d = 1
        let mut out = [0f32; 256];
        dequantize_row(&block, &mut out);
        assert_eq!([out[0], out[32], out[64], out[96], out[128]], [1.0, -1.0, 0.0, 0.0, 1.0]);
        assert_eq!([out[160], out[176], out[192], out[208], out[224]], [-1.0, 1.0, 1.0, -1.0, 0.0]);
        assert_eq!(out[1], -1.0); // byte 0 → all digits 0 → −1
    }
}

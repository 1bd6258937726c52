//! Q4_0 and Q4_1: 32 weights per block as 4-bit values, low nibbles first (elements 0..16 in the
//! low nibbles, 16..32 in the high ones). Q4_0 (4.5 bpw): `d`, value = (q − 8)·d. Q4_1 (5 bpw):
//! `d`, `m`, value = q·d + m. Matches ggml's `dequantize_row_q4_0` / `_q4_1`.

use super::block_layout::{BlockQ4_0, BlockQ4_1};
use super::float::f16_at;

pub const Q4_0_BYTES: usize = size_of::<BlockQ4_0>();
pub const Q4_1_BYTES: usize = size_of::<BlockQ4_1>();

/// Σ q·a over one block's 32 unsigned nibbles (`qs`: 16 bytes) and 32 int8 activations.
fn nibble_dot(qs: &[u8], a: &[i8]) -> i32 {
    qs.iter().enumerate().map(|(j, &q)| (q & 0x0f) as i32 * a[j] as i32 + (q >> 4) as i32 * a[j + 16] as i32).sum()
}

/// Σ (q − 8)·a over one Q4_0 block and 32 int8 activations whose sum is `sum_a`.
pub fn block_isum_q4_0(w: &[u8], a: &[i8], sum_a: i32) -> i32 {
    nibble_dot(&w[2..Q4_0_BYTES], a) - 8 * sum_a
}

/// Σ q·a over one Q4_1 block (its offset `m` is applied in float, times the activations' sum).
pub fn block_isum_q4_1(w: &[u8], a: &[i8]) -> i32 {
    nibble_dot(&w[4..Q4_1_BYTES], a)
}

/// Quantizes `x` (a multiple of 32 long) to Q4_0 blocks appended to `out`, as ggml's
/// `quantize_row_q4_0_ref`: the value of largest magnitude maps to −8, d = that value / −8.
pub fn quantize_row_q4_0(x: &[f32], out: &mut Vec<u8>) {
    for block in x.chunks_exact(32) {
        let max = block.iter().fold(0f32, |m, &v| if v.abs() > m.abs() { v } else { m });
        let d = max / -8.0;
        let inv = if d != 0.0 { 1.0 / d } else { 0.0 };
        let code = |v: f32| ((v * inv + 8.5) as i8).min(15) as u8;
        out.extend(half::f16::from_f32(d).to_le_bytes());
        out.extend((0..16).map(|j| code(block[j]) | (code(block[j + 16]) << 4)));
    }
}

pub fn dequantize_row_q4_0(bytes: &[u8], out: &mut [f32]) {
    for (block, y) in bytes.chunks_exact(Q4_0_BYTES).zip(out.chunks_exact_mut(32)) {
        let d = f16_at(block, 0);
        for (j, &q) in block[2..].iter().enumerate() {
            y[j] = ((q & 0x0f) as i32 - 8) as f32 * d;
            y[j + 16] = ((q >> 4) as i32 - 8) as f32 * d;
        }
    }
}

pub fn dequantize_row_q4_1(bytes: &[u8], out: &mut [f32]) {
    for (block, y) in bytes.chunks_exact(Q4_1_BYTES).zip(out.chunks_exact_mut(32)) {
        let (d, m) = (f16_at(block, 0), f16_at(block, 1));
        for (j, &q) in block[4..].iter().enumerate() {
            y[j] = (q & 0x0f) as f32 * d + m;
            y[j + 16] = (q >> 4) as f32 * d + m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q4_0_hand_built_block() {
        // d = 0.5 (f16 0x3800); byte 0 = 0xf0 → element 0: 0-8 = -8 → -4.0, element 16: 15-8 = 7 → 3.5
        let mut block = vec![0x00, 0x38];
        block.extend([0xf0, 0x98]);
        block.extend([0x88; 14]);
        let mut out = [0f32; 32];
        dequantize_row_q4_0(&block, &mut out);
        assert_eq!((out[0], out[16]), (-4.0, 3.5));
        assert_eq!((out[1], out[17]), (0.0, 0.5)); // 0x98: low 8 → 0, high 9 → 1·0.5
        assert_eq!(out[2], 0.0);
    }

    #[test]
    fn q4_0_quantization_round_trips_within_half_a_step() {
        let x: Vec<f32> = (0..64).map(|i| ((i * 37) % 23) as f32 / 7.0 - 1.4).collect();
        let mut bytes = Vec::new();
        quantize_row_q4_0(&x, &mut bytes);
        assert_eq!(bytes.len(), 2 * Q4_0_BYTES);
        let mut back = vec![0f32; 64];
        dequantize_row_q4_0(&bytes, &mut back);
        for (block, (xb, yb)) in x.chunks(32).zip(back.chunks(32)).enumerate() {
            let d = f16_at(&bytes[block * Q4_0_BYTES..], 0).abs();
            for (a, b) in xb.iter().zip(yb) {
                assert!((a - b).abs() <= d * 0.5 + 1e-3, "{a} vs {b} (d {d})");
            }
        }
    }

    #[test]
    fn q4_1_hand_built_block() {
        // d = 2.0 (0x4000), m = -1.0 (0xbc00); byte 0 = 0x31 → elem 0: 1·2-1 = 1, elem 16: 3·2-1 = 5
        let mut block = vec![0x00, 0x40, 0x00, 0xbc, 0x31];
        block.extend([0x00; 15]);
        let mut out = [0f32; 32];
        dequantize_row_q4_1(&block, &mut out);
        assert_eq!((out[0], out[16], out[1], out[31]), (1.0, 5.0, -1.0, -1.0));
    }
}

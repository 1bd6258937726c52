//! Q8_0 (8.5 bpw): 32 weights per block, f16 `d` then 32 i8 values; value = q·d.

use super::block_layout::BlockQ8_0;
use super::float::f16_at;

pub const Q8_0_BYTES: usize = size_of::<BlockQ8_0>();
/// Values per block.
pub const Q8_0_VALUES: usize = 32;

/// Σ q·a over one Q8_0 block and 32 int8 activations.
pub fn block_isum_q8_0(w: &[u8], a: &[i8]) -> i32 {
    w[2..Q8_0_BYTES].iter().zip(a).map(|(&q, &x)| q as i8 as i32 * x as i32).sum()
}

pub fn dequantize_row_q8_0(bytes: &[u8], out: &mut [f32]) {
    for (block, y) in bytes.chunks_exact(Q8_0_BYTES).zip(out.chunks_exact_mut(32)) {
        let d = f16_at(block, 0);
        for (y, &q) in y.iter_mut().zip(&block[2..]) {
            *y = q as i8 as f32 * d;
        }
    }
}

/// Quantizes `x` (a multiple of 32 long) into Q8_0 blocks as ggml's `quantize_row_q8_0_ref`
/// does: d = max|x|/127, q = round(x/d) half away from zero (x times the f32 inverse of d), and
/// d stored as f16.
pub fn quantize_row_q8_0(x: &[f32], out: &mut [u8]) {
    assert_eq!(x.len() % Q8_0_VALUES, 0, "Q8_0 rows are whole blocks of 32");
    assert_eq!(out.len(), x.len() / Q8_0_VALUES * Q8_0_BYTES);
    for (xb, block) in x.chunks_exact(Q8_0_VALUES).zip(out.chunks_exact_mut(Q8_0_BYTES)) {
        let amax = xb.iter().fold(0f32, |m, &v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        block[..2].copy_from_slice(&half::f16::from_f32(d).to_le_bytes());
        for (q, &v) in block[2..].iter_mut().zip(xb) {
            *q = (v * id).round() as i8 as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_built_block() {
        let mut block = vec![0x00, 0x38]; // d = 0.5
        block.extend([0x80, 0x7f, 0x02]); // -128, 127, 2
        block.extend([0; 29]);
        let mut out = [0f32; 32];
        dequantize_row_q8_0(&block, &mut out);
        assert_eq!(&out[..4], &[-64.0, 63.5, 1.0, 0.0]);
    }

    #[test]
    fn quantizing_rounds_half_away_from_zero_and_round_trips_within_half_a_step() {
        // max 12.7: d = 0.1 (stored as f16 0.0999755…), and x·(1/0.1) = k + 0.5 rounds away from 0.
        let mut x = [0f32; 32];
        x[0] = 12.7;
        x[1] = 0.25;
        x[2] = -0.25;
        x[3] = 0.04;
        let mut block = [0u8; Q8_0_BYTES];
        quantize_row_q8_0(&x, &mut block);
        assert_eq!(&block[2..6], &[127, 3, (-3i8) as u8, 0]);
        let mut back = [0f32; 32];
        dequantize_row_q8_0(&block, &mut back);
        let d = f16_at(&block, 0);
        assert_eq!(d, half::f16::from_f32(0.1).to_f32());
        for (a, b) in x.iter().zip(&back) {
            assert!((a - b).abs() <= d / 2.0 + 1e-3, "{a} vs {b}");
        }
        let mut zeros = [1u8; Q8_0_BYTES];
        quantize_row_q8_0(&[0.0; 32], &mut zeros);
        assert_eq!(zeros, [0u8; Q8_0_BYTES]);
    }
}

//! Q8_0 (8.5 bpw): 32 weights per block, f16 `d` then 32 i8 values; value = q·d.

use super::block_layout::BlockQ8_0;
use super::float::f16_at;

pub const Q8_0_BYTES: usize = size_of::<BlockQ8_0>();

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
}

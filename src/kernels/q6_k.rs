//! Q6_K (6.5625 bpw): 256 weights per super-block = `ql[128]` (low 4 bits), `qh[64]` (high 2
//! bits), 16 i8 sub-block scales, f16 `d`; value = d·scale·(q − 32). Matches ggml's
//! `dequantize_row_q6_K`: each 128-half takes 64 bytes of `ql`, 32 of `qh` and 8 scales.

use super::float::f16_at;

pub const Q6_K_BYTES: usize = 210;

pub fn dequantize_row_q6_k(bytes: &[u8], out: &mut [f32]) {
    for (block, y) in bytes.chunks_exact(Q6_K_BYTES).zip(out.chunks_exact_mut(256)) {
        let (ql, rest) = block.split_at(128);
        let (qh, rest) = rest.split_at(64);
        let (scales, d) = rest.split_at(16);
        let d = f16_at(d, 0);
        for half in 0..2 {
            let (ql, qh, sc) = (&ql[64 * half..], &qh[32 * half..], &scales[8 * half..]);
            let y = &mut y[128 * half..];
            for l in 0..32 {
                let is = l / 16;
                let q1 = ((ql[l] & 0xf) | ((qh[l] & 3) << 4)) as i32 - 32;
                let q2 = ((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) as i32 - 32;
                let q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) as i32 - 32;
                let q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) as i32 - 32;
                y[l] = d * (sc[is] as i8 as f32) * q1 as f32;
                y[l + 32] = d * (sc[is + 2] as i8 as f32) * q2 as f32;
                y[l + 64] = d * (sc[is + 4] as i8 as f32) * q3 as f32;
                y[l + 96] = d * (sc[is + 6] as i8 as f32) * q4 as f32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}

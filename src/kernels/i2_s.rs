//! I2_S, Microsoft's ternary type (GGUF id 36 in bitnet.cpp's fork), 2 bits per weight.
//!
//! Layout (spec C): the flattened tensor is cut into blocks of 128 elements, 32 bytes each. In a
//! block, byte `j` holds elements `j`, `j+32`, `j+64`, `j+96` in bits 7:6, 5:4, 3:2, 1:0, so a
//! block is four "planes" of 32 consecutive weights. A 2-bit code `c` means the weight `c − 1`
//! (`00` → −1, `01` → 0, `10` → +1; `11` is never written, and we read it as +2 like bitnet.cpp's
//! dot kernel does). Rows start at byte `r·ne0/4`. One f32 scale for the whole tensor sits right
//! after the `n/4` packed bytes, in a 32-byte trailer; the weight is `scale · (c − 1)`.
//! Matches `quantize_i2_s` / the x86 I2_S GEMV of bitnet.cpp (BN@765741d:src/ggml-bitnet-mad.cpp).

use super::block_layout::BlockI2S;

/// Bytes of one 128-element block.
pub const BLOCK_BYTES: usize = size_of::<BlockI2S>();
/// Elements per block.
pub const BLOCK_ELEMS: usize = 128;

/// The per-tensor scale: the f32 right after the `n_elems/4` packed bytes.
pub fn tensor_scale(tensor: &[u8], n_elems: usize) -> f32 {
    let at = n_elems / 4;
    f32::from_le_bytes([tensor[at], tensor[at + 1], tensor[at + 2], tensor[at + 3]])
}

/// The 2-bit code of element `i` of a row (or of the flattened tensor).
#[inline]
pub fn code_at(packed: &[u8], i: usize) -> u8 {
    let (block, within) = (i / BLOCK_ELEMS, i % BLOCK_ELEMS);
    let (plane, j) = (within / 32, within % 32);
    (packed[block * BLOCK_BYTES + j] >> (6 - 2 * plane)) & 3
}

/// Dequantizes one row's packed codes with the tensor's scale.
pub fn dequantize_row(packed: &[u8], scale: f32, out: &mut [f32]) {
    for (block, y) in packed.chunks_exact(BLOCK_BYTES).zip(out.chunks_exact_mut(BLOCK_ELEMS)) {
        for (j, &byte) in block.iter().enumerate() {
            for plane in 0..4 {
                let code = (byte >> (6 - 2 * plane)) & 3;
                y[plane * 32 + j] = (code as i32 - 1) as f32 * scale;
            }
        }
    }
}

/// The scalar reference dot product: Σ code·q over one row, codes unsigned in {0,1,2}.
/// The caller subtracts Σq to get Σ (code − 1)·q exactly.
pub fn dot_codes_ref(packed: &[u8], q: &[i8]) -> i32 {
    let mut acc = 0i32;
    for (block, qb) in packed.chunks_exact(BLOCK_BYTES).zip(q.chunks_exact(BLOCK_ELEMS)) {
        for (j, &byte) in block.iter().enumerate() {
            for plane in 0..4 {
                let code = ((byte >> (6 - 2 * plane)) & 3) as i32;
                acc += code * qb[plane * 32 + j] as i32;
            }
        }
    }
    acc
}

/// Packs ternary values (−1, 0, +1) into I2_S codes: the inverse of [`dequantize_row`].
pub fn pack(ternary: &[i8], packed: &mut [u8]) {
    for (block, t) in packed.chunks_exact_mut(BLOCK_BYTES).zip(ternary.chunks_exact(BLOCK_ELEMS)) {
        for (j, byte) in block.iter_mut().enumerate() {
            *byte = (0..4).fold(0u8, |acc, plane| acc | (((t[plane * 32 + j] + 1) as u8 & 3) << (6 - 2 * plane)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_test_vector() {
        // Spec C: first bytes 02 26 04 44 → row 0 elements 0/32/64/96 = −1 −1 −1 +1 and
        // elements 1/33/65/97 = −1 +1 0 +1.
        let mut packed = vec![0x55u8; 32];
        packed[..4].copy_from_slice(&[0x02, 0x26, 0x04, 0x44]);
        let mut out = [0f32; 128];
        dequantize_row(&packed, 1.0, &mut out);
        assert_eq!([out[0], out[32], out[64], out[96]], [-1.0, -1.0, -1.0, 1.0]);
        assert_eq!([out[1], out[33], out[65], out[97]], [-1.0, 1.0, 0.0, 1.0]);
        assert_eq!(code_at(&packed, 97), 2);
        assert_eq!(out[4], 0.0); // 0x55 = 01|01|01|01 → all zero weights
    }

    #[test]
    fn pack_round_trips_and_dot_matches() {
        let ternary: Vec<i8> = (0..256).map(|i| ((i * 7 + i / 3) % 3) as i8 - 1).collect();
        let mut packed = vec![0u8; 64];
        pack(&ternary, &mut packed);
        let mut out = vec![0f32; 256];
        dequantize_row(&packed, 2.0, &mut out);
        for (t, y) in ternary.iter().zip(&out) {
            assert_eq!(*t as f32 * 2.0, *y);
        }
        let q: Vec<i8> = (0..256).map(|i| (i * 37 % 256 - 128) as i8).collect();
        let sum_q: i32 = q.iter().map(|&x| x as i32).sum();
        let want: i32 = ternary.iter().zip(&q).map(|(&t, &x)| t as i32 * x as i32).sum();
        assert_eq!(dot_codes_ref(&packed, &q) - sum_q, want);
    }

    #[test]
    fn scale_sits_after_the_codes() {
        let mut tensor = vec![0u8; 128 / 4 + 32];
        tensor[32..36].copy_from_slice(&0.25f32.to_le_bytes());
        assert_eq!(tensor_scale(&tensor, 128), 0.25);
    }
}

//! F32, F16 and BF16 rows: little-endian IEEE floats (F16 = binary16, BF16 = the top half of an f32).

use half::{bf16, f16};

pub fn f16_at(bytes: &[u8], i: usize) -> f32 {
    f16::from_le_bytes([bytes[2 * i], bytes[2 * i + 1]]).to_f32()
}

pub fn dequantize_row_f32(bytes: &[u8], out: &mut [f32]) {
    for (y, c) in out.iter_mut().zip(bytes.chunks_exact(4)) {
        *y = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
}

pub fn dequantize_row_f16(bytes: &[u8], out: &mut [f32]) {
    for (y, c) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        *y = f16::from_le_bytes([c[0], c[1]]).to_f32();
    }
}

pub fn dequantize_row_bf16(bytes: &[u8], out: &mut [f32]) {
    for (y, c) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        *y = bf16::from_le_bytes([c[0], c[1]]).to_f32();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_built_values() {
        let mut out = [0f32; 2];
        dequantize_row_f32(&[0, 0, 0x80, 0x3f, 0, 0, 0x20, 0xc1], &mut out);
        assert_eq!(out, [1.0, -10.0]);
        // f16: 0x3c00 = 1.0, 0xc500 = -5.0
        dequantize_row_f16(&[0x00, 0x3c, 0x00, 0xc5], &mut out);
        assert_eq!(out, [1.0, -5.0]);
        // bf16: 0x3f80 = 1.0, 0x4040 = 3.0
        dequantize_row_bf16(&[0x80, 0x3f, 0x40, 0x40], &mut out);
        assert_eq!(out, [1.0, 3.0]);
    }
}

//! Row dequantization to f32 for every supported tensor type (the scalar reference).

use crate::gguf::TensorType;

use super::{float, i2_s, q4, q5, q6_k, q8_0, tq1_0, tq2_0};

/// Dequantizes one row of `ty` (`bytes` = exactly the row's bytes, `out.len()` = ne0).
/// I2_S rows carry no scale; pass the tensor's scale in `i2s_scale` (ignored by other types).
pub fn dequantize_row(ty: TensorType, bytes: &[u8], i2s_scale: f32, out: &mut [f32]) {
    match ty {
        TensorType::F32 => float::dequantize_row_f32(bytes, out),
        TensorType::F16 => float::dequantize_row_f16(bytes, out),
        TensorType::BF16 => float::dequantize_row_bf16(bytes, out),
        TensorType::Q4_0 => q4::dequantize_row_q4_0(bytes, out),
        TensorType::Q4_1 => q4::dequantize_row_q4_1(bytes, out),
        TensorType::Q5_0 => q5::dequantize_row_q5_0(bytes, out),
        TensorType::Q5_1 => q5::dequantize_row_q5_1(bytes, out),
        TensorType::Q8_0 => q8_0::dequantize_row_q8_0(bytes, out),
        TensorType::Q6K => q6_k::dequantize_row_q6_k(bytes, out),
        TensorType::TQ1_0 => tq1_0::dequantize_row(bytes, out),
        TensorType::TQ2_0 => tq2_0::dequantize_row(bytes, out),
        TensorType::I2S => i2_s::dequantize_row(bytes, i2s_scale, out),
    }
}

/// Dequantizes row `r` of a 2-D tensor given its whole data (handles I2_S's row addressing and
/// per-tensor scale).
pub fn dequantize_tensor_row(ty: TensorType, data: &[u8], ne0: usize, n_rows: usize, r: usize, out: &mut [f32]) {
    let row_bytes = ty.row_bytes(ne0 as u64).unwrap_or(0) as usize;
    let scale = match ty {
        TensorType::I2S => i2_s::tensor_scale(data, ne0 * n_rows),
        _ => 1.0,
    };
    dequantize_row(ty, &data[r * row_bytes..(r + 1) * row_bytes], scale, out);
}

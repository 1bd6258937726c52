//! Row dequantization to f32 for every supported tensor type, through the type table.

use crate::gguf::TensorType;

use super::i2_s;
use super::types::traits;

/// Dequantizes one row of `ty` (`bytes` = exactly the row's bytes, `out.len()` = ne0).
/// I2_S rows carry no scale; pass the tensor's scale in `i2s_scale` (ignored by other types).
pub fn dequantize_row(ty: TensorType, bytes: &[u8], i2s_scale: f32, out: &mut [f32]) {
    (traits(ty).dequantize_row)(bytes, i2s_scale, out)
}

/// Dequantizes row `r` of a 2-D tensor given its whole data (handles I2_S's row addressing and
/// per-tensor scale).
pub fn dequantize_tensor_row(ty: TensorType, data: &[u8], ne0: usize, n_rows: usize, r: usize, out: &mut [f32]) {
    let row_bytes = traits(ty).row_bytes(ne0);
    let scale = match ty {
        TensorType::I2S => i2_s::tensor_scale(data, ne0 * n_rows),
        _ => 1.0,
    };
    dequantize_row(ty, &data[r * row_bytes..(r + 1) * row_bytes], scale, out);
}

//! I2_S × int8 row dot products, dispatched to the best kernel path. The integer result is exact
//! on every path, so each SIMD kernel must equal [`i2_s::dot_codes_ref`] bit for bit.

use super::i2_s;

/// Σ code·q over one row of packed I2_S codes (`q.len()` = elements of the row).
pub fn dot_codes(packed: &[u8], q: &[i8]) -> i32 {
    i2_s::dot_codes_ref(packed, q)
}

//! The tensor types this engine reads, their GGUF ids and their byte layout.
//!
//! The math on each type (dequantization, dot products) lives in `crate::kernels`; this file only
//! answers "how many bytes does a row or a tensor of this type take".

use std::fmt;

/// A tensor element type, as numbered in GGUF's `ggml_type`.
///
/// **Type 36 is I2_S.** Microsoft's bitnet.cpp fork numbers its ternary type I2_S = 36, and the
/// published BitNet b1.58 2B4T GGUF uses that id. Mainline ggml later retired slots 36–38 (and gave
/// 39 to MXFP4), so the id means nothing else in a file we can run; we read 36 as I2_S everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TensorType {
    F32,
    F16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q6K,
    BF16,
    TQ1_0,
    TQ2_0,
    I2S,
}

/// Elements per I2_S block: 128 weights in 32 bytes (four 2-bit planes of 32 weights).
pub const I2S_BLOCK: usize = 128;
/// The trailer after an I2_S tensor's packed codes: one f32 scale, padded to 32 bytes.
pub const I2S_TRAILER: usize = 32;

impl TensorType {
    pub const ALL: [TensorType; 12] = [
        Self::F32,
        Self::F16,
        Self::Q4_0,
        Self::Q4_1,
        Self::Q5_0,
        Self::Q5_1,
        Self::Q8_0,
        Self::Q6K,
        Self::BF16,
        Self::TQ1_0,
        Self::TQ2_0,
        Self::I2S,
    ];

    /// The GGUF id of this type.
    pub fn id(self) -> u32 {
        match self {
            Self::F32 => 0,
            Self::F16 => 1,
            Self::Q4_0 => 2,
            Self::Q4_1 => 3,
            Self::Q5_0 => 6,
            Self::Q5_1 => 7,
            Self::Q8_0 => 8,
            Self::Q6K => 14,
            Self::BF16 => 30,
            Self::TQ1_0 => 34,
            Self::TQ2_0 => 35,
            Self::I2S => 36,
        }
    }

    /// The type with this GGUF id, if this engine supports it.
    pub fn from_id(id: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.id() == id)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "F32",
            Self::F16 => "F16",
            Self::Q4_0 => "Q4_0",
            Self::Q4_1 => "Q4_1",
            Self::Q5_0 => "Q5_0",
            Self::Q5_1 => "Q5_1",
            Self::Q8_0 => "Q8_0",
            Self::Q6K => "Q6_K",
            Self::BF16 => "BF16",
            Self::TQ1_0 => "TQ1_0",
            Self::TQ2_0 => "TQ2_0",
            Self::I2S => "I2_S",
        }
    }

    /// Elements per block; a row (`ne0`) must be a whole number of blocks.
    pub fn block_elems(self) -> usize {
        match self {
            Self::F32 | Self::F16 | Self::BF16 => 1,
            Self::Q4_0 | Self::Q4_1 | Self::Q5_0 | Self::Q5_1 | Self::Q8_0 => 32,
            Self::I2S => I2S_BLOCK,
            Self::Q6K | Self::TQ1_0 | Self::TQ2_0 => 256,
        }
    }

    /// Bytes per block.
    pub fn block_bytes(self) -> usize {
        match self {
            Self::F32 => 4,
            Self::F16 | Self::BF16 => 2,
            Self::Q4_0 => 18,  // f16 d, 16 B of nibbles
            Self::Q4_1 => 20,  // f16 d, f16 m, 16 B of nibbles
            Self::Q5_0 => 22,  // f16 d, 4 B high bits, 16 B of nibbles
            Self::Q5_1 => 24,  // f16 d, f16 m, 4 B high bits, 16 B of nibbles
            Self::Q8_0 => 34,  // f16 d, 32 i8
            Self::Q6K => 210,  // 128 B low nibbles, 64 B high bits, 16 i8 scales, f16 d
            Self::TQ1_0 => 54, // 48 B of 5-trit bytes, 4 B of 4-trit bytes, f16 d
            Self::TQ2_0 => 66, // 64 B of 2-bit codes, f16 d
            Self::I2S => 32,   // 4 planes of 32 2-bit codes; the scale is per tensor
        }
    }

    /// Bytes of one row of `ne0` elements, or `None` when `ne0` is not a whole number of blocks.
    pub fn row_bytes(self, ne0: u64) -> Option<u64> {
        let block = self.block_elems() as u64;
        if !ne0.is_multiple_of(block) {
            return None;
        }
        (ne0 / block).checked_mul(self.block_bytes() as u64)
    }

    /// Bytes of a whole tensor with these dimensions (checked), or why the shape is invalid.
    pub fn tensor_bytes(self, dims: &[u64]) -> Result<u64, String> {
        let ne0 = *dims.first().ok_or("it has no dimensions")?;
        let n_elems = dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d)).ok_or("the element count overflows")?;
        if n_elems == 0 {
            return Err("a dimension is 0".into());
        }
        let row = self.row_bytes(ne0).ok_or_else(|| {
            format!("a row of {ne0} elements is not a whole number of {}-element blocks", self.block_elems())
        })?;
        let bytes = row.checked_mul(n_elems / ne0).ok_or("the byte size overflows")?;
        match self {
            Self::I2S => bytes.checked_add(I2S_TRAILER as u64).ok_or_else(|| "the byte size overflows".into()),
            _ => Ok(bytes),
        }
    }
}

impl fmt::Display for TensorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Describes a type id for an error message, naming ggml types this build does not run.
pub fn describe_type_id(id: u32) -> String {
    let known = match id {
        4 | 5 => Some("Q4_2/Q4_3 (removed from ggml)"),
        9 => Some("Q8_1"),
        10 => Some("Q2_K"),
        11 => Some("Q3_K"),
        12 => Some("Q4_K"),
        13 => Some("Q5_K"),
        15 => Some("Q8_K"),
        16..=23 => Some("an IQ type"),
        24 => Some("I8"),
        25 => Some("I16"),
        26 => Some("I32"),
        27 => Some("I64"),
        28 => Some("F64"),
        29 => Some("IQ1_M"),
        _ => None,
    };
    match known {
        Some(name) => format!("tensor type {name} (id {id}), which this build does not support"),
        None => format!("unknown tensor type id {id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for t in TensorType::ALL {
            assert_eq!(TensorType::from_id(t.id()), Some(t));
        }
        assert_eq!(TensorType::from_id(99), None);
    }

    #[test]
    fn i2s_size_is_quarter_plus_trailer() {
        // blk.N.attn_q.weight of 2B4T: (2560, 2560) → 1,638,432 bytes (spec B).
        assert_eq!(TensorType::I2S.tensor_bytes(&[2560, 2560]), Ok(1_638_432));
        assert_eq!(TensorType::I2S.tensor_bytes(&[6912, 2560]), Ok(4_423_712));
        assert!(TensorType::I2S.tensor_bytes(&[100, 2]).is_err());
    }

    #[test]
    fn block_sizes() {
        assert_eq!(TensorType::F16.tensor_bytes(&[2560, 128256]), Ok(656_670_720));
        assert_eq!(TensorType::Q4_1.tensor_bytes(&[576, 1536]), Ok(576 / 32 * 20 * 1536));
        assert_eq!(TensorType::Q6K.tensor_bytes(&[512, 2]), Ok(2 * 210 * 2));
        assert!(TensorType::Q8_0.tensor_bytes(&[33]).is_err());
        assert!(TensorType::F32.tensor_bytes(&[u64::MAX, 4]).is_err());
        assert!(TensorType::F32.tensor_bytes(&[4, 0]).is_err());
    }
}

//! Ternary matrices as GGUF tensor bytes, in the weight type the user asked for.

use anyhow::{bail, Result};
use half::f16;

use super::ternary::Ternary;
use crate::gguf::TensorType;
use crate::kernels::{i2_s, tq1_0, tq2_0};

/// The projection types `convert --type` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProjectionType {
    /// bitnet.cpp's I2_S: 2 bits a weight, one scale per tensor (rows must be multiples of 128).
    #[value(name = "i2_s")]
    I2S,
    /// Mainline llama.cpp's TQ2_0: 2.06 bits, an f16 scale per 256 weights.
    #[value(name = "tq2_0")]
    Tq2_0,
    /// Mainline llama.cpp's TQ1_0: 1.69 bits (base-3 packing), an f16 scale per 256 weights.
    #[value(name = "tq1_0")]
    Tq1_0,
    /// Plain F16 values code × scale.
    #[value(name = "f16")]
    F16,
}

impl ProjectionType {
    pub fn tensor_type(self) -> TensorType {
        match self {
            Self::I2S => TensorType::I2S,
            Self::Tq2_0 => TensorType::TQ2_0,
            Self::Tq1_0 => TensorType::TQ1_0,
            Self::F16 => TensorType::F16,
        }
    }

    /// `general.file_type` (llama.cpp's `llama_ftype`: MOSTLY_I2_S 40, MOSTLY_TQ1_0 36,
    /// MOSTLY_TQ2_0 37, MOSTLY_F16 1).
    pub fn file_type(self) -> u32 {
        match self {
            Self::I2S => 40,
            Self::Tq1_0 => 36,
            Self::Tq2_0 => 37,
            Self::F16 => 1,
        }
    }

    /// Refuses a row width the type cannot hold, naming the tensor and the types that can.
    pub fn check_width(self, cols: usize, tensor: &str) -> Result<()> {
        let block = self.tensor_type().block_elems();
        if cols.is_multiple_of(block) {
            return Ok(());
        }
        let fits: Vec<&str> = [(Self::I2S, "i2_s"), (Self::Tq2_0, "tq2_0"), (Self::Tq1_0, "tq1_0"), (Self::F16, "f16")]
            .into_iter()
            .filter(|(t, _)| cols.is_multiple_of(t.tensor_type().block_elems()))
            .map(|(_, name)| name)
            .collect();
        bail!(
            "{tensor}: rows of {cols} weights are not a multiple of {block}, which {} needs; \
             convert with --type {} instead",
            self.tensor_type(),
            fits.join(" or --type ")
        )
    }

    /// The tensor's bytes.
    pub fn encode(self, t: &Ternary) -> Vec<u8> {
        match self {
            Self::I2S => {
                let mut out = vec![0u8; t.codes.len() / 4 + 32];
                let (packed, trailer) = out.split_at_mut(t.codes.len() / 4);
                i2_s::pack(&t.codes, packed);
                trailer[..4].copy_from_slice(&t.scale.to_le_bytes());
                out
            }
            Self::Tq2_0 => encode_blocks(t, tq2_0::BLOCK_BYTES, tq2_0::pack_block),
            Self::Tq1_0 => encode_blocks(t, tq1_0::BLOCK_BYTES, tq1_0::pack_block),
            Self::F16 => t.codes.iter().flat_map(|&c| f16::from_f32(c as f32 * t.scale).to_le_bytes()).collect(),
        }
    }
}

/// 256-weight blocks, each with the tensor's scale as its f16 `d`.
fn encode_blocks(t: &Ternary, block_bytes: usize, pack: fn(&[u8], f16, &mut [u8])) -> Vec<u8> {
    let d = f16::from_f32(t.scale);
    let mut out = vec![0u8; t.codes.len() / 256 * block_bytes];
    let mut codes = [0u8; 256];
    for (block, weights) in out.chunks_exact_mut(block_bytes).zip(t.codes.chunks_exact(256)) {
        for (c, &w) in codes.iter_mut().zip(weights) {
            *c = (w + 1) as u8;
        }
        pack(&codes, d, block);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::dequant::dequantize_row;

    /// Every type decodes back to code × scale (exactly, for a scale that is an f16).
    #[test]
    fn every_type_decodes_to_the_ternary_weights() {
        let codes: Vec<i8> = (0..512).map(|i| ((i * 7 + i / 5) % 3) as i8 - 1).collect();
        let t = Ternary { codes, scale: 0.375 };
        for ty in [ProjectionType::I2S, ProjectionType::Tq2_0, ProjectionType::Tq1_0, ProjectionType::F16] {
            let bytes = ty.encode(&t);
            assert_eq!(bytes.len() as u64, ty.tensor_type().tensor_bytes(&[256, 2]).unwrap(), "{ty:?}");
            let row_bytes = ty.tensor_type().row_bytes(256).unwrap() as usize;
            for r in 0..2 {
                let mut out = [0f32; 256];
                dequantize_row(ty.tensor_type(), &bytes[r * row_bytes..(r + 1) * row_bytes], t.scale, &mut out);
                let want: Vec<f32> = t.codes[r * 256..(r + 1) * 256].iter().map(|&c| c as f32 * 0.375).collect();
                assert_eq!(out.to_vec(), want, "{ty:?} row {r}");
            }
        }
    }

    #[test]
    fn widths_the_type_cannot_hold_are_refused_with_the_types_that_can() {
        let err = ProjectionType::I2S.check_width(8640, "blk.0.ffn_down.weight").unwrap_err().to_string();
        assert!(err.contains("blk.0.ffn_down.weight") && err.contains("8640") && err.contains("--type f16"), "{err}");
        assert!(!err.contains("tq2_0"), "8640 is not a multiple of 256 either: {err}");
        let err = ProjectionType::Tq2_0.check_width(384, "t").unwrap_err().to_string();
        assert!(err.contains("384") && err.contains("--type i2_s or --type f16"), "{err}");
        assert!(ProjectionType::Tq2_0.check_width(768, "t").is_ok());
        assert!(ProjectionType::F16.check_width(100, "t").is_ok());
    }
}

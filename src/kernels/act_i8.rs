//! Per-token int8 activation quantization for ternary matmuls (bitnet.cpp's `quantize_row_i8_s`).
//!
//! m = max(1e-5, max|x|) in double; s = (float)(127/m); q = clamp(round_half_even(x·s), −128, 127)
//! with x·s in float; also Σq. A BitLinear output is then `((acc − Σq) / s) · scale_w` in float.

use super::dispatch::KernelPath;

/// One quantized activation row.
#[derive(Debug, Clone, Default)]
pub struct QuantRow {
    pub q: Vec<i8>,
    /// 127 / max|x|.
    pub scale: f32,
    pub sum: i32,
}

/// Rounds half to even like `rint` for |x| < 2²², with ggml's `nearest_int` trick: adding
/// 1.5·2²³ pushes the fraction out of the mantissa in the current (nearest-even) rounding mode.
/// Unlike `round_ties_even`, it compiles to two adds without SSE4.1 (no libm call per element).
#[inline]
pub fn round_half_even(x: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0;
    (x + MAGIC) - MAGIC
}

/// Quantizes `x` into `out` (reusing its buffer).
pub fn quantize_row(x: &[f32], out: &mut QuantRow) {
    // The max of floats is exact in f32; only the division needs double, as the reference does.
    let max = x.iter().fold(0f32, |m, &v| m.max(v.abs())) as f64;
    let s = (127.0 / max.max(1e-5)) as f32;
    out.q.clear();
    out.q.extend(x.iter().map(|&v| round_half_even(v * s).clamp(-128.0, 127.0) as i8));
    out.scale = s;
    out.sum = out.q.iter().map(|&v| v as i32).sum();
}

/// The BitLinear output of one row from its integer dot over unsigned codes.
#[inline]
pub fn rescale(acc_codes: i32, row: &QuantRow, weight_scale: f32) -> f32 {
    ((acc_codes as f32 - row.sum as f32) / row.scale) * weight_scale
}

/// [`rescale`] for the dots of four tokens (prefill), set up once per group of four: on x86-64
/// one SSE division for the four, lane by lane the same IEEE operations as the scalar.
pub struct Rescale4 {
    path: KernelPath,
    sums: [f32; 4],
    scales: [f32; 4],
}

impl Rescale4 {
    pub fn new_on(path: KernelPath, rows: [&QuantRow; 4]) -> Self {
        Self { path, sums: rows.map(|r| r.sum as f32), scales: rows.map(|r| r.scale) }
    }

    /// The four outputs of one weight row from its four integer dots.
    #[inline]
    pub fn apply(&self, acc: [i32; 4], weight_scale: f32) -> [f32; 4] {
        #[cfg(target_arch = "x86_64")]
        if self.path != KernelPath::Scalar {
            use std::arch::x86_64::*;
            let mut out = [0f32; 4];
            // SAFETY: SSE2 is part of x86-64; each load and the store cover one 4-element array.
            unsafe {
                let acc = _mm_cvtepi32_ps(_mm_loadu_si128(acc.as_ptr().cast()));
                let centred = _mm_sub_ps(acc, _mm_loadu_ps(self.sums.as_ptr()));
                let y = _mm_mul_ps(_mm_div_ps(centred, _mm_loadu_ps(self.scales.as_ptr())), _mm_set1_ps(weight_scale));
                _mm_storeu_ps(out.as_mut_ptr(), y);
            }
            return out;
        }
        std::array::from_fn(|i| ((acc[i] as f32 - self.sums[i]) / self.scales[i]) * weight_scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn rescale4_equals_rescale_on_every_path(
            acc in proptest::array::uniform4(-4_000_000i32..4_000_000),
            sums in proptest::array::uniform4(-300_000i32..300_000),
            scales in proptest::array::uniform4(0.01f32..1e6),
            weight_scale in 0.001f32..10.0,
        ) {
            let rows: Vec<QuantRow> =
                (0..4).map(|i| QuantRow { q: Vec::new(), scale: scales[i], sum: sums[i] }).collect();
            let want: Vec<u32> = (0..4).map(|i| rescale(acc[i], &rows[i], weight_scale).to_bits()).collect();
            for path in KernelPath::available() {
                let got = Rescale4::new_on(path, [&rows[0], &rows[1], &rows[2], &rows[3]]).apply(acc, weight_scale);
                prop_assert_eq!(got.map(f32::to_bits).to_vec(), want.clone(), "{:?}", path);
            }
        }
    }

    proptest! {
        /// The int8 head's four-row kernel moves signs onto the activations, which needs them
        /// never to be −128: the scale maps max|x| to 127 at most, so the clamp never reaches it.
        #[test]
        fn quantized_rows_stay_within_127(
            x in proptest::collection::vec(proptest::num::f32::NORMAL | proptest::num::f32::SUBNORMAL | proptest::num::f32::ZERO, 1..300),
        ) {
            let mut row = QuantRow::default();
            quantize_row(&x, &mut row);
            prop_assert!(row.q.iter().all(|&q| q != i8::MIN));
            let mut negated: Vec<f32> = x.iter().map(|v| -v).collect();
            negated.push(-x.iter().fold(0f32, |m, v| m.max(v.abs())));
            quantize_row(&negated, &mut row);
            prop_assert!(row.q.iter().all(|&q| q != i8::MIN));
        }
    }

    #[test]
    fn magic_rounding_equals_round_ties_even() {
        for i in -100_000..100_000 {
            let x = i as f32 * 0.00173 + 0.5 * (i % 3) as f32;
            assert_eq!(round_half_even(x), x.round_ties_even(), "{x}");
        }
        for x in [0.5f32, 1.5, 2.5, -0.5, -1.5, 127.5, -128.5] {
            assert_eq!(round_half_even(x), x.round_ties_even(), "{x}");
        }
    }

    #[test]
    fn absmax_and_half_even() {
        let mut row = QuantRow::default();
        // max 2.0 → s = 63.5, so 1.0 lands on 63.5, a tie
        quantize_row(&[2.0, -2.0, 1.0, 0.0], &mut row);
        assert_eq!(row.scale, 63.5);
        assert_eq!(row.q, vec![127, -127, 64, 0]); // 63.5 rounds to the even 64
        assert_eq!(row.sum, 64);
        // max 127 → s = 1: ties 2.5 → 2 and −0.5 → 0 (half to even, not away from zero)
        quantize_row(&[127.0, 2.5, -0.5, -3.5], &mut row);
        assert_eq!(row.q, vec![127, 2, 0, -4]);
        quantize_row(&[0.0; 4], &mut row);
        assert_eq!(row.q, vec![0; 4]);
        assert_eq!(row.scale, (127.0 / 1e-5f64) as f32);
    }
}

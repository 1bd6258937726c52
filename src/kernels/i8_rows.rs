//! Int8 rows with one f32 scale per row: the LM head repacked from F16 at load (`--lm-head q8`).
//!
//! Row r holds round_half_even(w·127/max|w_r|); the product with an int8 activation row q of scale s is
//! `Σ w_q·q · row_scale / s`. Half the bytes of F16 (the head is the largest per-token read), and
//! an exact integer dot.

use half::{f16, slice::HalfFloatSliceExt};
use rayon::prelude::*;

use super::act_i8::{round_half_even, QuantRow};
use super::dispatch::{active, KernelPath};

/// A matrix of int8 rows with per-row scales.
#[derive(Debug, Default)]
pub struct I8Rows {
    pub cols: usize,
    pub values: Vec<i8>,
    /// max|w_r| / 127: multiply an integer dot by it to get the dot with the original row.
    pub scales: Vec<f32>,
}

impl I8Rows {
    /// Quantizes `rows × cols` f16 values (row-major), in parallel.
    pub fn from_f16(w: &[f16], cols: usize) -> Self {
        let mut rows = Self { cols, values: Vec::new(), scales: Vec::new() };
        rows.push_f16(w);
        rows
    }

    /// Quantizes more rows of f16 values and appends them, in parallel.
    pub fn push_f16(&mut self, w: &[f16]) {
        let (cols, first) = (self.cols, self.scales.len());
        let rows = w.len() / cols;
        self.values.resize((first + rows) * cols, 0);
        self.scales.resize(first + rows, 0.0);
        self.values[first * cols..]
            .par_chunks_mut(cols)
            .zip(self.scales[first..].par_iter_mut())
            .zip(w.par_chunks(cols))
            .for_each_init(
                || vec![0f32; cols],
                |wide, ((out, scale), row)| {
                    // Widened once with `half`'s F16C slice conversion: per value, `to_f32`
                    // checked the CPU each time and made repacking 2B4T's head take a second.
                    row.convert_to_f32_slice(wide);
                    let max = wide.iter().fold(0f32, |m, v| m.max(v.abs()));
                    let inv = if max > 0.0 { 127.0 / max } else { 0.0 };
                    for (o, v) in out.iter_mut().zip(wide.iter()) {
                        *o = round_half_even(v * inv) as i8;
                    }
                    *scale = max / 127.0;
                },
            );
    }

    /// Makes room for `rows` more rows, exactly.
    pub fn reserve(&mut self, rows: usize) {
        self.values.reserve_exact(rows * self.cols);
        self.scales.reserve_exact(rows);
    }

    pub fn rows(&self) -> usize {
        self.scales.len()
    }

    pub fn row(&self, r: usize) -> &[i8] {
        &self.values[r * self.cols..(r + 1) * self.cols]
    }

    pub fn bytes(&self) -> usize {
        self.values.len() + 4 * self.scales.len()
    }
}

pub fn dot_i8_ref(a: &[i8], b: &[i8]) -> i32 {
    a.iter().zip(b).map(|(&x, &y)| x as i32 * y as i32).sum()
}

/// Σ a·b over int8 vectors (the weights must lie in −127..=127, as [`I8Rows`] makes them).
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    dot_i8_on(active(), a, b)
}

pub fn dot_i8_on(path: KernelPath, a: &[i8], b: &[i8]) -> i32 {
    assert_eq!(a.len(), b.len());
    match path {
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2 | KernelPath::Avx512 => super::x86::i8::dot_avx2(a, b),
        _ => dot_i8_ref(a, b),
    }
}

/// [`dot_i8`] of one row against four quantized activation rows: the same integers, each weight
/// loaded once for the four. The rows come as the quantizer makes them: never −128 (the AVX2
/// kernel moves signs onto them), with their sums (the VNNI kernel corrects an offset with them).
pub fn dot_i8_x4(a: &[i8], b: [&QuantRow; 4]) -> [i32; 4] {
    dot_i8_x4_on(active(), a, b)
}

pub fn dot_i8_x4_on(path: KernelPath, a: &[i8], b: [&QuantRow; 4]) -> [i32; 4] {
    let q = b.map(|row| &row.q[..]);
    match path {
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2 => super::x86::i8::dot_x4_avx2(a, q),
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx512 => super::x86::i8::dot_x4_avx512(a, q, b.map(|row| row.sum)),
        _ => q.map(|q| dot_i8_ref(a, q)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn simd_equals_reference(w in proptest::collection::vec(-127i8..=127, 0..700), seed in any::<u8>()) {
            // Activations as the quantizer makes them: −127..=127.
            let q: Vec<i8> = w.iter().enumerate().map(|(i, _)| ((i as u8).wrapping_mul(seed).wrapping_add(seed) as i8).max(-127)).collect();
            for path in KernelPath::available() {
                prop_assert_eq!(dot_i8_on(path, &w, &q), dot_i8_ref(&w, &q), "{:?}", path);
            }
            let rows: Vec<QuantRow> = (0..4u8)
                .map(|t| {
                    let q: Vec<i8> = q.iter().map(|&v| v.wrapping_add(t as i8 * 37).max(-127)).collect();
                    QuantRow { sum: q.iter().map(|&v| v as i32).sum(), q, scale: 1.0 }
                })
                .collect();
            let four = [&rows[0], &rows[1], &rows[2], &rows[3]];
            for path in KernelPath::available() {
                prop_assert_eq!(dot_i8_x4_on(path, &w, four), four.map(|r| dot_i8_ref(&w, &r.q)), "{:?}", path);
            }
        }
    }

    #[test]
    fn extremes() {
        for n in [1, 31, 32, 64, 2560] {
            let w = vec![-127i8; n];
            let q = vec![-128i8; n];
            for path in KernelPath::available() {
                assert_eq!(dot_i8_on(path, &w, &q), 127 * 128 * n as i32);
                // The four-row kernel takes activations as the quantizer makes them, within ±127.
                let row = QuantRow { q: vec![-127i8; n], scale: 1.0, sum: -127 * n as i32 };
                assert_eq!(dot_i8_x4_on(path, &w, [&row; 4]), [127 * 127 * n as i32; 4]);
            }
        }
    }

    #[test]
    fn rows_round_trip_within_half_a_step() {
        let w: Vec<f16> = (0..64).map(|i| f16::from_f32((i as f32 - 20.0) * 0.01)).collect();
        let rows = I8Rows::from_f16(&w, 32);
        assert_eq!(rows.rows(), 2);
        for r in 0..2 {
            for (c, &q) in rows.row(r).iter().enumerate() {
                let orig = w[r * 32 + c].to_f32();
                assert!((q as f32 * rows.scales[r] - orig).abs() <= rows.scales[r] / 2.0 + 1e-6);
            }
        }
    }
}

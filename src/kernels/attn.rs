//! Attention kernels for the query heads that share one KV head (GQA): each F16 key or value row
//! is loaded and widened once for the whole group instead of once per query head.
//!
//! Per query head they compute exactly what the one-query kernels in [`super::dot`] compute on
//! the same path, bit for bit: `dot_f16` of the f16-rounded query (held here as f32, which widens
//! exactly) with the same accumulator layout, and `axpy_f16`'s mul-then-add over the positions
//! in order. The scalar references are those kernels' references. A cache in Q8_0 (`--kv q8`)
//! goes through the same arithmetic: its values widen exactly too (an f16 scale times an 8-bit
//! integer), only from half the bytes.

use half::f16;

use super::dispatch::{active, KernelPath};
use super::dot::dot_lanes;
use super::q8_0::{dequantize_row_q8_0, Q8_0_BYTES, Q8_0_VALUES};

/// One KV head's rows of positions as the cache holds them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KvRows<'a> {
    /// `rows × head_dim` F16 values.
    F16(&'a [f16]),
    /// `rows × head_dim / 32` Q8_0 blocks (ggml's: an f16 scale, then 32 i8), as bytes.
    Q8(&'a [u8]),
}

impl KvRows<'_> {
    /// Bytes of one row.
    pub fn row_bytes(&self, head_dim: usize) -> usize {
        match self {
            Self::F16(_) => 2 * head_dim,
            Self::Q8(_) => head_dim / Q8_0_VALUES * Q8_0_BYTES,
        }
    }

    /// Whole rows held; panics unless the data is whole rows (whole blocks for Q8_0).
    pub fn rows(&self, head_dim: usize) -> usize {
        let bytes = match self {
            Self::F16(v) => 2 * v.len(),
            Self::Q8(b) => {
                assert!(head_dim.is_multiple_of(Q8_0_VALUES), "Q8_0 rows are whole blocks of 32");
                b.len()
            }
        };
        assert!(bytes.is_multiple_of(self.row_bytes(head_dim)), "a KV slice of whole rows");
        bytes / self.row_bytes(head_dim)
    }

    pub(crate) fn as_ptr(&self) -> *const u8 {
        match self {
            Self::F16(v) => v.as_ptr().cast(),
            Self::Q8(b) => b.as_ptr(),
        }
    }

    /// Row `j` widened to f32 (exactly: an f16, or an f16 scale times an 8-bit integer).
    fn widen_row(&self, j: usize, head_dim: usize, out: &mut [f32]) {
        match self {
            Self::F16(v) => {
                for (o, x) in out.iter_mut().zip(&v[j * head_dim..(j + 1) * head_dim]) {
                    *o = x.to_f32();
                }
            }
            Self::Q8(b) => {
                let bytes = self.row_bytes(head_dim);
                dequantize_row_q8_0(&b[j * bytes..(j + 1) * bytes], out);
            }
        }
    }
}

/// `dots[g·rows + j] = queries[g] · keys[j]` for the `queries` (`G × head_dim`, f32) against the
/// `rows` key rows of `keys`.
pub fn qk_dots(queries: &[f32], keys: KvRows, head_dim: usize, dots: &mut [f32]) {
    qk_dots_on(active(), queries, keys, head_dim, dots)
}

pub fn qk_dots_on(path: KernelPath, queries: &[f32], keys: KvRows, head_dim: usize, dots: &mut [f32]) {
    let rows = keys.rows(head_dim);
    assert!(queries.len().is_multiple_of(head_dim));
    assert_eq!(dots.len(), queries.len() / head_dim * rows);
    if rows == 0 {
        return;
    }
    match path {
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2 | KernelPath::Avx512 => super::x86::attn::qk_dots(queries, keys, head_dim, dots),
        _ => qk_dots_ref(queries, keys, head_dim, dots),
    }
}

/// Each dot as `dot_f32_f16_ref` sums it, over the key row's values widened to f32.
pub fn qk_dots_ref(queries: &[f32], keys: KvRows, head_dim: usize, dots: &mut [f32]) {
    let rows = keys.rows(head_dim);
    let mut key = vec![0f32; head_dim];
    for j in 0..rows {
        keys.widen_row(j, head_dim, &mut key);
        for (g, q) in queries.chunks_exact(head_dim).enumerate() {
            dots[g * rows + j] = dot_lanes(q, &key);
        }
    }
}

/// `out[g] += Σ_j probs[g·rows + j] · values[j]`, adding the positions `j` in order, for the
/// `G` output rows of `out` (`G × head_dim`) and the `rows` value rows of `values`.
pub fn pv_accumulate(probs: &[f32], values: KvRows, head_dim: usize, out: &mut [f32]) {
    pv_accumulate_on(active(), probs, values, head_dim, out)
}

pub fn pv_accumulate_on(path: KernelPath, probs: &[f32], values: KvRows, head_dim: usize, out: &mut [f32]) {
    let rows = values.rows(head_dim);
    assert!(out.len().is_multiple_of(head_dim));
    assert_eq!(probs.len(), out.len() / head_dim * rows);
    if rows == 0 {
        return;
    }
    match path {
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2 | KernelPath::Avx512 => super::x86::attn::pv_accumulate(probs, values, head_dim, out),
        _ => pv_accumulate_ref(probs, values, head_dim, out),
    }
}

/// Each output as `axpy_f16_ref` adds it (o + p·v, positions in order), over the value rows
/// widened to f32.
pub fn pv_accumulate_ref(probs: &[f32], values: KvRows, head_dim: usize, out: &mut [f32]) {
    let rows = values.rows(head_dim);
    let mut value = vec![0f32; head_dim];
    for j in 0..rows {
        values.widen_row(j, head_dim, &mut value);
        for (p, o) in probs.chunks_exact(rows).zip(out.chunks_exact_mut(head_dim)) {
            for (o, &v) in o.iter_mut().zip(&value) {
                *o += p[j] * v;
            }
        }
    }
}

/// Rounds each value through f16 (to nearest even), as ggml does when it converts an operand to F16.
pub fn round_f16(x: &mut [f32]) {
    round_f16_on(active(), x)
}

pub fn round_f16_on(path: KernelPath, x: &mut [f32]) {
    match path {
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2 | KernelPath::Avx512 => super::x86::attn::round_f16(x),
        _ => round_f16_ref(x),
    }
}

pub fn round_f16_ref(x: &mut [f32]) {
    for v in x.iter_mut() {
        *v = f16::from_f32(*v).to_f32();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::dot::axpy_f16_ref;
    use proptest::prelude::*;

    /// The one-query kernels of `path` that attention used per head, which the grouped ones
    /// must reproduce bit for bit.
    fn dot_on(path: KernelPath, a: &[f16], b: &[f16]) -> f32 {
        match path {
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx2 | KernelPath::Avx512 => crate::kernels::x86::avx2::dot_f16(a, b),
            _ => crate::kernels::dot::dot_f16_ref(a, b),
        }
    }

    fn axpy_on(path: KernelPath, y: &mut [f32], alpha: f32, x: &[f16]) {
        match path {
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx2 | KernelPath::Avx512 => crate::kernels::x86::avx2::axpy_f16(y, alpha, x),
            _ => axpy_f16_ref(y, alpha, x),
        }
    }

    fn f16s(v: &[f32]) -> Vec<f16> {
        v.iter().map(|&x| f16::from_f32(x)).collect()
    }

    proptest! {
        /// A Q8_0 cache: every path computes the references' dots and sums, bit for bit.
        #[test]
        fn q8_kernels_equal_the_reference(
            blocks in 1usize..5,
            group in 1usize..7,
            rows in prop_oneof![0usize..9, 60usize..140],
            seed in proptest::collection::vec(-4.0f32..4.0, 64),
        ) {
            let head_dim = 32 * blocks;
            let val = |i: usize| seed[i % seed.len()] * (1.0 + (i / seed.len()) as f32 * 0.01);
            let queries: Vec<f32> = (0..group * head_dim).map(|i| f16::from_f32(val(3 * i + 1)).to_f32()).collect();
            let quantized = |offset: usize| {
                let x: Vec<f32> = (0..rows * head_dim).map(|i| val(offset * i + 2)).collect();
                let mut bytes = vec![0u8; rows * blocks * Q8_0_BYTES];
                crate::kernels::q8_0::quantize_row_q8_0(&x, &mut bytes);
                bytes
            };
            let (keys, values) = (quantized(5), quantized(7));
            let probs: Vec<f32> = (0..group * rows).map(|i| val(11 * i).abs() / 4.0).collect();
            let mut want_dots = vec![0f32; group * rows];
            qk_dots_ref(&queries, KvRows::Q8(&keys), head_dim, &mut want_dots);
            let start: Vec<f32> = (0..group * head_dim).map(val).collect();
            let mut want_out = start.clone();
            pv_accumulate_ref(&probs, KvRows::Q8(&values), head_dim, &mut want_out);
            for path in KernelPath::available() {
                let mut dots = vec![0f32; group * rows];
                qk_dots_on(path, &queries, KvRows::Q8(&keys), head_dim, &mut dots);
                let mut out = start.clone();
                pv_accumulate_on(path, &probs, KvRows::Q8(&values), head_dim, &mut out);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                prop_assert_eq!(bits(&dots), bits(&want_dots), "{:?}", path);
                prop_assert_eq!(bits(&out), bits(&want_out), "{:?}", path);
            }
        }

        #[test]
        fn simd_rounding_equals_reference(x in proptest::collection::vec(any::<f32>(), 0..40)) {
            let mut want = x.clone();
            round_f16_ref(&mut want);
            for path in KernelPath::available() {
                let mut got = x.clone();
                round_f16_on(path, &mut got);
                prop_assert_eq!(
                    got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    "{:?}", path
                );
            }
        }

        #[test]
        fn grouped_kernels_equal_one_query_kernels(
            head_dim in 1usize..140,
            group in 1usize..7,
            rows in prop_oneof![0usize..9, 60usize..140],
            seed in proptest::collection::vec(-4.0f32..4.0, 64),
        ) {
            let val = |i: usize| seed[i % seed.len()] * (1.0 + (i / seed.len()) as f32 * 0.01);
            // Queries arrive rounded through f16, as attention passes them.
            let queries: Vec<f32> = (0..group * head_dim).map(|i| f16::from_f32(val(3 * i + 1)).to_f32()).collect();
            let keys = f16s(&(0..rows * head_dim).map(|i| val(5 * i + 2)).collect::<Vec<_>>());
            let values = f16s(&(0..rows * head_dim).map(|i| val(7 * i + 3)).collect::<Vec<_>>());
            let probs: Vec<f32> = (0..group * rows).map(|i| val(11 * i).abs() / 4.0).collect();
            for path in KernelPath::available() {
                let mut dots = vec![0f32; group * rows];
                qk_dots_on(path, &queries, KvRows::F16(&keys), head_dim, &mut dots);
                let mut out: Vec<f32> = (0..group * head_dim).map(val).collect();
                let mut want_out = out.clone();
                pv_accumulate_on(path, &probs, KvRows::F16(&values), head_dim, &mut out);
                for g in 0..group {
                    let q = f16s(&queries[g * head_dim..(g + 1) * head_dim]);
                    for (j, k) in keys.chunks_exact(head_dim).enumerate() {
                        prop_assert_eq!(dots[g * rows + j].to_bits(), dot_on(path, &q, k).to_bits(), "{:?}", path);
                    }
                    let o = &mut want_out[g * head_dim..(g + 1) * head_dim];
                    for (j, v) in values.chunks_exact(head_dim).enumerate() {
                        axpy_on(path, o, probs[g * rows + j], v);
                    }
                }
                prop_assert_eq!(
                    out.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                    want_out.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                    "{:?}", path
                );
            }
        }
    }
}

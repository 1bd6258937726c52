//! Float dot products and axpy over f32 and f16 vectors, used by attention, the f16 LM head and
//! the dequantize-then-dot matmul path. Scalar references here; SIMD in `x86/`.
//!
//! The SIMD sums are ordered differently from the sequential references, so they agree within
//! float rounding (tested with a tolerance), not bit for bit.

use half::f16;

use super::dispatch::{active, KernelPath};

pub fn dot_f32_ref(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub fn dot_f16_ref(a: &[f16], b: &[f16]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x.to_f32() * y.to_f32()).sum()
}

pub fn dot_f32_f16_ref(a: &[f32], b: &[f16]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y.to_f32()).sum()
}

pub fn axpy_f16_ref(y: &mut [f32], alpha: f32, x: &[f16]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += alpha * x.to_f32();
    }
}

/// Σ a·b. Panics if the lengths differ.
pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    #[cfg(target_arch = "x86_64")]
    if matches!(active(), KernelPath::Avx2 | KernelPath::Avx512) {
        return super::x86::avx2::dot_f32(a, b);
    }
    dot_f32_ref(a, b)
}

/// Σ a·b over two f16 vectors, accumulated in f32. Panics if the lengths differ.
pub fn dot_f16(a: &[f16], b: &[f16]) -> f32 {
    assert_eq!(a.len(), b.len());
    #[cfg(target_arch = "x86_64")]
    if matches!(active(), KernelPath::Avx2 | KernelPath::Avx512) {
        return super::x86::avx2::dot_f16(a, b);
    }
    dot_f16_ref(a, b)
}

/// Σ a·b with `b` in f16. Panics if the lengths differ.
pub fn dot_f32_f16(a: &[f32], b: &[f16]) -> f32 {
    assert_eq!(a.len(), b.len());
    #[cfg(target_arch = "x86_64")]
    if matches!(active(), KernelPath::Avx2 | KernelPath::Avx512) {
        return super::x86::avx2::dot_f32_f16(a, b);
    }
    dot_f32_f16_ref(a, b)
}

/// y += alpha·x. Panics if the lengths differ.
pub fn axpy_f16(y: &mut [f32], alpha: f32, x: &[f16]) {
    assert_eq!(y.len(), x.len());
    #[cfg(target_arch = "x86_64")]
    if matches!(active(), KernelPath::Avx2 | KernelPath::Avx512) {
        return super::x86::avx2::axpy_f16(y, alpha, x);
    }
    axpy_f16_ref(y, alpha, x)
}

/// Rows of a small weight tile against two activation rows: `out[t][r] = Σ_c w[r·k + c]·x_t[c]`
/// for the 4 rows of `w` (`4 × k`, row-major). A GEMM microkernel: each load feeds several FMAs.
pub fn dot_4x2(w: &[f32], x0: &[f32], x1: &[f32]) -> [[f32; 4]; 2] {
    let k = x0.len();
    assert!(w.len() == 4 * k && x1.len() == k);
    #[cfg(target_arch = "x86_64")]
    if matches!(active(), KernelPath::Avx2 | KernelPath::Avx512) {
        return super::x86::avx2::dot_4x2(w, x0, x1);
    }
    dot_4x2_ref(w, x0, x1)
}

pub fn dot_4x2_ref(w: &[f32], x0: &[f32], x1: &[f32]) -> [[f32; 4]; 2] {
    let k = x0.len();
    let row = |r: usize, x: &[f32]| dot_f32_ref(&w[r * k..(r + 1) * k], x);
    [[row(0, x0), row(1, x0), row(2, x0), row(3, x0)], [row(0, x1), row(1, x1), row(2, x1), row(3, x1)]]
}

/// Reinterprets little-endian f16 bytes (from the mmap) as f16 values without copying.
/// GGUF data are 32-byte aligned, so an f16 tensor's bytes are always 2-byte aligned.
pub fn f16_slice(bytes: &[u8]) -> &[f16] {
    bytemuck::cast_slice(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f32, b: f32, scale: f32) -> bool {
        (a - b).abs() <= 1e-5 * scale.max(1.0)
    }

    proptest! {
        #[test]
        fn simd_matches_reference(v in proptest::collection::vec(-4.0f32..4.0, 0..300), shift in 0usize..7) {
            let a = &v[..];
            let b: Vec<f32> = v.iter().rev().map(|x| x * 0.5 + 0.25).collect();
            let a16: Vec<f16> = a.iter().map(|&x| f16::from_f32(x)).collect();
            let b16: Vec<f16> = b.iter().map(|&x| f16::from_f32(x)).collect();
            let scale: f32 = a.iter().zip(&b).map(|(x, y)| (x * y).abs()).sum();
            let n = a.len().saturating_sub(shift);
            prop_assert!(close(dot_f32(&a[..n], &b[..n]), dot_f32_ref(&a[..n], &b[..n]), scale));
            prop_assert!(close(dot_f16(&a16[..n], &b16[..n]), dot_f16_ref(&a16[..n], &b16[..n]), scale));
            prop_assert!(close(dot_f32_f16(&a[..n], &b16[..n]), dot_f32_f16_ref(&a[..n], &b16[..n]), scale));
            if n > 0 {
                let w: Vec<f32> = (0..4 * n).map(|i| a[i % n] - (i / n) as f32).collect();
                let got = dot_4x2(&w, &a[..n], &b[..n]);
                let want = dot_4x2_ref(&w, &a[..n], &b[..n]);
                for (g, w) in got.iter().flatten().zip(want.iter().flatten()) {
                    prop_assert!(close(*g, *w, 4.0 * scale + 100.0), "{} vs {}", g, w);
                }
            }
            let mut y1 = b.clone();
            let mut y2 = b.clone();
            axpy_f16(&mut y1[..n], 0.75, &a16[..n]);
            axpy_f16_ref(&mut y2[..n], 0.75, &a16[..n]);
            prop_assert_eq!(y1, y2);
        }
    }
}

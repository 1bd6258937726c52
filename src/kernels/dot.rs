//! Float dot products and axpy over f32 and f16 vectors, used by attention, the f16 LM head and
//! the dequantize-then-dot matmul path. Scalar references here; SIMD in `x86/`.
//!
//! The references are the specification and compute what the AVX2 kernels compute, bit for bit
//! ([`dot_lanes`]): the products go into accumulators of eight lanes by fused multiply-add, the
//! lanes are summed in a fixed tree ([`sum8`]) and the last `len % 8` products are added in order
//! ([`dot_seq`]). A dot summed in another order (sequentially, say) differs in the last bits,
//! and through the int8 activation codes a whole model's logits drift from there.

use half::f16;

use super::dispatch::{active, KernelPath};

/// An element type that widens exactly to f32.
pub trait Widen: Copy {
    fn widen(self) -> f32;
}

impl Widen for f32 {
    #[inline]
    fn widen(self) -> f32 {
        self
    }
}

impl Widen for f16 {
    #[inline]
    fn widen(self) -> f32 {
        self.to_f32()
    }
}

/// Lanes of an AVX2 float vector: the width of every path's accumulators.
const LANES: usize = 8;

/// The float sum of eight lanes in AVX2's reduction order (`hsum`): halves, then pairs, then one.
#[inline]
pub fn sum8(v: &[f32; LANES]) -> f32 {
    let q: [f32; 4] = std::array::from_fn(|i| v[i + 4] + v[i]);
    let (p0, p1) = (q[0] + q[2], q[1] + q[3]);
    p0 + p1
}

/// Σ a·b in order, each product rounded and then added: the tail of every lane dot.
pub fn dot_seq<A: Widen, B: Widen>(a: &[A], b: &[B]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x.widen() * y.widen()).sum()
}

/// `ACCS` accumulators of eight lanes over the leading whole eights of `a`·`b`, filled by fused
/// multiply-adds as the AVX2 kernels fill them: accumulator m takes the m-th eight of each step
/// of `8·ACCS` elements, accumulator 0 the eights after the last whole step. Also returns where
/// the tail (fewer than eight elements) starts.
fn lane_accumulators<const ACCS: usize, A: Widen, B: Widen>(a: &[A], b: &[B]) -> ([[f32; LANES]; ACCS], usize) {
    let n = a.len().min(b.len());
    let mut acc = [[0f32; LANES]; ACCS];
    let fma8 = |acc: &mut [f32; LANES], i: usize| {
        for (l, acc) in acc.iter_mut().enumerate() {
            *acc = a[i + l].widen().mul_add(b[i + l].widen(), *acc);
        }
    };
    let mut i = 0;
    while i + LANES * ACCS <= n {
        for (m, acc) in acc.iter_mut().enumerate() {
            fma8(acc, i + LANES * m);
        }
        i += LANES * ACCS;
    }
    while i + LANES <= n {
        fma8(&mut acc[0], i);
        i += LANES;
    }
    (acc, i)
}

/// Σ a·b as the AVX2 dot kernels compute it: four accumulators over 32-element steps
/// ([`lane_accumulators`]), summed lane by lane as (acc0 + acc1) + (acc2 + acc3), then across
/// the lanes by [`sum8`], plus the in-order tail.
pub fn dot_lanes<A: Widen, B: Widen>(a: &[A], b: &[B]) -> f32 {
    let n = a.len().min(b.len());
    let ([a0, a1, a2, a3], i) = lane_accumulators::<4, A, B>(a, b);
    let lanes = std::array::from_fn(|l| (a0[l] + a1[l]) + (a2[l] + a3[l]));
    sum8(&lanes) + dot_seq(&a[i..n], &b[i..n])
}

pub fn dot_f32_ref(a: &[f32], b: &[f32]) -> f32 {
    dot_lanes(a, b)
}

pub fn dot_f16_ref(a: &[f16], b: &[f16]) -> f32 {
    dot_lanes(a, b)
}

pub fn dot_f32_f16_ref(a: &[f32], b: &[f16]) -> f32 {
    dot_lanes(a, b)
}

pub fn axpy_f16_ref(y: &mut [f32], alpha: f32, x: &[f16]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += alpha * x.to_f32();
    }
}

/// Σ a·b on `path` (the type table's float rows). Panics if the lengths differ.
pub fn dot_f32_on(path: KernelPath, a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    #[cfg(target_arch = "x86_64")]
    if matches!(path, KernelPath::Avx2 | KernelPath::Avx512) {
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

/// Σ a·b with `b` in f16, on `path` (the type table's F16 rows). Panics if the lengths differ.
pub fn dot_f32_f16_on(path: KernelPath, a: &[f32], b: &[f16]) -> f32 {
    assert_eq!(a.len(), b.len());
    #[cfg(target_arch = "x86_64")]
    if matches!(path, KernelPath::Avx2 | KernelPath::Avx512) {
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

/// Reinterprets little-endian f16 bytes (from the mmap) as f16 values without copying.
/// GGUF data are 32-byte aligned, so an f16 tensor's bytes are always 2-byte aligned.
pub fn f16_slice(bytes: &[u8]) -> &[f16] {
    bytemuck::cast_slice(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bits(v: impl IntoIterator<Item = f32>) -> Vec<u32> {
        v.into_iter().map(f32::to_bits).collect()
    }

    proptest! {
        /// Lengths up to 300 cover whole 32-element steps, the 8-element steps after them and
        /// every tail length; each SIMD path (the f32 dots on every path, the others on the active one) must equal the reference.
        #[test]
        fn active_path_equals_the_reference(v in proptest::collection::vec(-4.0f32..4.0, 0..300), shift in 0usize..7) {
            let a = &v[..];
            let b: Vec<f32> = v.iter().rev().map(|x| x * 0.5 + 0.25).collect();
            let a16: Vec<f16> = a.iter().map(|&x| f16::from_f32(x)).collect();
            let b16: Vec<f16> = b.iter().map(|&x| f16::from_f32(x)).collect();
            let n = a.len().saturating_sub(shift);
            let (a, b, a16, b16) = (&a[..n], &b[..n], &a16[..n], &b16[..n]);
            // The reference is a dot product: within float rounding of the exact sum.
            let exact: f64 = a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum();
            let magnitude: f64 = a.iter().zip(b).map(|(&x, &y)| (x as f64 * y as f64).abs()).sum();
            prop_assert!((dot_f32_ref(a, b) as f64 - exact).abs() <= 1e-5 * magnitude.max(1.0));
            for path in KernelPath::available() {
                prop_assert_eq!(dot_f32_on(path, a, b).to_bits(), dot_f32_ref(a, b).to_bits());
                prop_assert_eq!(dot_f32_f16_on(path, a, b16).to_bits(), dot_f32_f16_ref(a, b16).to_bits());
            }
            prop_assert_eq!(dot_f16(a16, b16).to_bits(), dot_f16_ref(a16, b16).to_bits());
            let mut y1 = b.to_vec();
            let mut y2 = b.to_vec();
            axpy_f16(&mut y1, 0.75, a16);
            axpy_f16_ref(&mut y2, 0.75, a16);
            prop_assert_eq!(bits(y1), bits(y2));
        }
    }

    #[test]
    fn lanes_add_in_the_avx2_tree() {
        // 2²⁴ + 1 rounds back to 2²⁴, so the order of additions shows in the result.
        let big = 16_777_216.0f32;
        let v = [big, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0];
        // (v0 + v4) + (v2 + v6) = 2²⁴ + 2; left to right would drop both ones.
        assert_eq!(sum8(&v), big + 2.0);
        assert_eq!(dot_f32_ref(&v, &[1.0; 8]), big + 2.0);
        // The same sums through four accumulators: the 1s in lanes 2 and 6 of accumulator 1.
        let mut w = [0f32; 40];
        (w[0], w[10], w[14]) = (big, 1.0, 1.0);
        assert_eq!(dot_f32_ref(&w, &[1.0; 40]), big + 2.0);
    }
}

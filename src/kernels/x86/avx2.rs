//! AVX2 + FMA + F16C kernels for float dot products (safe wrappers over `#[target_feature]` bodies).

use std::arch::x86_64::*;

use half::f16;

use crate::kernels::dot::{axpy_f16_ref, dot_seq};

pub(super) fn require_avx2() {
    assert!(
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") && is_x86_feature_detected!("f16c"),
        "AVX2/FMA/F16C kernel called on a CPU without them"
    );
}

/// Horizontal sum of 8 lanes, in [`crate::kernels::dot::sum8`]'s order.
#[target_feature(enable = "avx2,fma")]
pub(super) fn hsum(v: __m256) -> f32 {
    let lo = _mm256_castps256_ps128(v);
    let hi = _mm256_extractf128_ps(v, 1);
    let s = _mm_add_ps(lo, hi);
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    _mm_cvtss_f32(s)
}

/// Loads 8 f16 values (as raw bits) and widens them to f32.
///
/// # Safety
/// `p` must point to 8 readable f16 values.
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) unsafe fn load_f16x8(p: *const f16) -> __m256 {
    // SAFETY: the caller guarantees 16 readable bytes at p; loadu has no alignment requirement.
    unsafe { _mm256_cvtph_ps(_mm_loadu_si128(p as *const __m128i)) }
}

/// Loads 8 f32 values.
///
/// # Safety
/// `p` must point to 8 readable f32 values.
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn load_f32x8(p: *const f32) -> __m256 {
    // SAFETY: the caller guarantees 32 readable bytes at p; loadu has no alignment requirement.
    unsafe { _mm256_loadu_ps(p) }
}

/// A dot product body over two vectors whose elements load 8 at a time as f32 lanes: four
/// accumulators over 32-element steps, then 8-element steps, then the in-order tail; equal bit
/// for bit to [`crate::kernels::dot::dot_lanes`].
macro_rules! dot_kernel {
    ($public:ident, $body:ident, $ta:ty, $tb:ty, $load_a:ident, $load_b:ident) => {
        pub fn $public(a: &[$ta], b: &[$tb]) -> f32 {
            require_avx2();
            // SAFETY: features checked above.
            unsafe { $body(a, b) }
        }

        #[target_feature(enable = "avx2,fma,f16c")]
        unsafe fn $body(a: &[$ta], b: &[$tb]) -> f32 {
            let n = a.len().min(b.len());
            let mut acc = [_mm256_setzero_ps(); 4];
            let mut i = 0;
            // SAFETY: every load reads 8 values at i + 8k < n (checked by the loop bounds).
            unsafe {
                while i + 32 <= n {
                    for (k, acc) in acc.iter_mut().enumerate() {
                        let x = $load_a(a.as_ptr().add(i + 8 * k));
                        let y = $load_b(b.as_ptr().add(i + 8 * k));
                        *acc = _mm256_fmadd_ps(x, y, *acc);
                    }
                    i += 32;
                }
                while i + 8 <= n {
                    acc[0] = _mm256_fmadd_ps($load_a(a.as_ptr().add(i)), $load_b(b.as_ptr().add(i)), acc[0]);
                    i += 8;
                }
            }
            let sum = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
            hsum(sum) + dot_seq(&a[i..n], &b[i..n])
        }
    };
}

dot_kernel!(dot_f32, dot_f32_body, f32, f32, load_f32x8, load_f32x8);
dot_kernel!(dot_f16, dot_f16_body, f16, f16, load_f16x8, load_f16x8);
dot_kernel!(dot_f32_f16, dot_f32_f16_body, f32, f16, load_f32x8, load_f16x8);

pub fn axpy_f16(y: &mut [f32], alpha: f32, x: &[f16]) {
    require_avx2();
    // SAFETY: features checked above.
    unsafe { axpy_f16_body(y, alpha, x) }
}

#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn axpy_f16_body(y: &mut [f32], alpha: f32, x: &[f16]) {
    let n = y.len().min(x.len());
    let a = _mm256_set1_ps(alpha);
    let mut i = 0;
    // SAFETY: every access covers 8 values at i < n - 7 (checked by the loop bound).
    unsafe {
        while i + 8 <= n {
            let p = y.as_mut_ptr().add(i);
            // mul then add (not fma) so each lane rounds exactly like the scalar `y + alpha * x`.
            let prod = _mm256_mul_ps(a, load_f16x8(x.as_ptr().add(i)));
            _mm256_storeu_ps(p, _mm256_add_ps(_mm256_loadu_ps(p), prod));
            i += 8;
        }
    }
    axpy_f16_ref(&mut y[i..n], alpha, &x[i..n]);
}

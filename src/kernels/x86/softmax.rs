//! AVX2 + FMA body of attention's softmax: ggml's vector `expf`, eight lanes at a time.

use std::arch::x86_64::*;

use super::avx2::{hsum, require_avx2};
use super::expf::exp8;

/// `x ← exp(x − max)` over whole groups of eight (`x.len()` a multiple of 8), returning the f64
/// sum of each group's float sum; equal bit for bit to [`crate::kernels::softmax::exp_sum8_ref`].
pub fn exp_sum8(x: &mut [f32], max: f32) -> f64 {
    require_avx2();
    assert!(x.len().is_multiple_of(8));
    // SAFETY: features checked above.
    unsafe { exp_sum8_body(x, max) }
}

#[target_feature(enable = "avx2,fma")]
fn exp_sum8_body(x: &mut [f32], max: f32) -> f64 {
    let max = _mm256_set1_ps(max);
    let mut sum = 0f64;
    for group in x.chunks_exact_mut(8) {
        // SAFETY: each group holds 8 floats; loadu/storeu need no alignment.
        unsafe {
            let v = exp8(_mm256_sub_ps(_mm256_loadu_ps(group.as_ptr()), max));
            _mm256_storeu_ps(group.as_mut_ptr(), v);
            sum += hsum(v) as f64;
        }
    }
    sum
}

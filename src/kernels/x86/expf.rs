//! AVX2 + FMA bodies of ggml's vector `expf` and SiLU, equal lane for lane to
//! [`crate::kernels::expf::exp_lane`] and [`crate::kernels::expf::silu_lane`].

use std::arch::x86_64::*;

use super::avx2::require_avx2;
use crate::kernels::expf::{LN2_HI, LN2_LO, LOG2_E, POLY, ROUND_SHIFT};

/// `gate ← silu(gate)·up` over whole groups of eight (ggml's `ggml_vec_swiglu_f32` body).
pub fn swiglu8(gate: &mut [f32], up: &[f32]) {
    require_avx2();
    assert!(gate.len().is_multiple_of(8) && up.len() >= gate.len());
    // SAFETY: features checked above.
    unsafe { swiglu8_body(gate, up) }
}

#[target_feature(enable = "avx2,fma")]
fn swiglu8_body(gate: &mut [f32], up: &[f32]) {
    for (g, u) in gate.chunks_exact_mut(8).zip(up.chunks_exact(8)) {
        // SAFETY: each chunk holds 8 floats; loadu/storeu need no alignment.
        unsafe {
            let x = _mm256_loadu_ps(g.as_ptr());
            let silu =
                _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0), exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
            _mm256_storeu_ps(g.as_mut_ptr(), _mm256_mul_ps(silu, _mm256_loadu_ps(u.as_ptr())));
        }
    }
}

/// ggml's `ggml_v_expf` (AVX2): lanes whose exponent stays within ±126 take k + k·j; the others
/// are assembled from two scale factors, or flushed to 0 / +∞ past ±192.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(super) fn exp8(x: __m256) -> __m256 {
    let r = _mm256_set1_ps(ROUND_SHIFT);
    let z = _mm256_fmadd_ps(x, _mm256_set1_ps(LOG2_E), r);
    let n = _mm256_sub_ps(z, r);
    let b = _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_LO), _mm256_fnmadd_ps(n, _mm256_set1_ps(LN2_HI), x));
    let e = _mm256_slli_epi32::<23>(_mm256_castps_si256(z));
    let k = _mm256_castsi256_ps(_mm256_add_epi32(e, _mm256_castps_si256(_mm256_set1_ps(1.0))));
    let abs_n = _mm256_andnot_ps(_mm256_set1_ps(-0.0), n);
    let c = _mm256_cmp_ps::<_CMP_GT_OQ>(abs_n, _mm256_set1_ps(126.0));
    let u = _mm256_mul_ps(b, b);
    let p = |i: usize| _mm256_set1_ps(POLY[i]);
    let j = _mm256_fmadd_ps(
        _mm256_fmadd_ps(_mm256_fmadd_ps(p(0), b, p(1)), u, _mm256_fmadd_ps(p(2), b, p(3))),
        u,
        _mm256_mul_ps(p(4), b),
    );
    let near = _mm256_fmadd_ps(k, j, k);
    if _mm256_movemask_ps(c) == 0 {
        return near;
    }
    let g = _mm256_and_si256(
        _mm256_castps_si256(_mm256_cmp_ps::<_CMP_LE_OQ>(n, _mm256_setzero_ps())),
        _mm256_set1_epi32(0x8200_0000u32 as i32),
    );
    let s1 = _mm256_castsi256_ps(_mm256_add_epi32(g, _mm256_set1_epi32(0x7f00_0000)));
    let s2 = _mm256_castsi256_ps(_mm256_sub_epi32(e, g));
    let d = _mm256_cmp_ps::<_CMP_GT_OQ>(abs_n, _mm256_set1_ps(192.0));
    let scaled = _mm256_mul_ps(_mm256_fmadd_ps(s2, j, s2), s1);
    let flushed = _mm256_mul_ps(s1, s1);
    _mm256_blendv_ps(_mm256_blendv_ps(near, scaled, c), flushed, d)
}

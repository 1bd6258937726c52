//! Int8 × int8 dot products with AVX2, for the int8 LM head.
//!
//! `vpmaddubsw` multiplies unsigned by signed bytes, so the sign of `b` moves onto `a`
//! (`|b| · sign(a, b)`): |b| ≤ 128 fits u8, and with |a| ≤ 127 a pair sum stays within ±32512,
//! below i16 saturation. `a` (the weights) must not hold −128.

use std::arch::x86_64::*;

pub fn dot_avx2(a: &[i8], b: &[i8]) -> i32 {
    assert!(is_x86_feature_detected!("avx2"), "AVX2 kernel called on a CPU without AVX2");
    // SAFETY: AVX2 checked; the body reads within both slices.
    unsafe { dot_avx2_body(a, b) }
}

#[target_feature(enable = "avx2")]
unsafe fn dot_avx2_body(a: &[i8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    let ones = _mm256_set1_epi16(1);
    // Two accumulators, unrolled by hand: an array indexed by a loop counter would live in memory.
    let (mut acc0, mut acc1) = (_mm256_setzero_si256(), _mm256_setzero_si256());
    let mut i = 0;
    // SAFETY: each load reads 32 bytes at i + 31 < n (loop bounds).
    unsafe {
        let pair = |at: usize| {
            let va = _mm256_loadu_si256(a.as_ptr().add(at) as *const __m256i);
            let vb = _mm256_loadu_si256(b.as_ptr().add(at) as *const __m256i);
            _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(vb), _mm256_sign_epi8(va, vb)), ones)
        };
        while i + 64 <= n {
            acc0 = _mm256_add_epi32(acc0, pair(i));
            acc1 = _mm256_add_epi32(acc1, pair(i + 32));
            i += 64;
        }
        if i + 32 <= n {
            acc0 = _mm256_add_epi32(acc0, pair(i));
            i += 32;
        }
    }
    let v = _mm256_add_epi32(acc0, acc1);
    let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b01_00_11_10));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b10_11_00_01));
    _mm_cvtsi128_si32(s) + super::super::i8_rows::dot_i8_ref(&a[i..n], &b[i..n])
}

/// [`dot_avx2`] of one row `a` against four rows `b`: each 32-byte piece of `a` is loaded once for
/// the four (the int8 LM head of several sequences' tokens).
pub fn dot_x4_avx2(a: &[i8], b: [&[i8]; 4]) -> [i32; 4] {
    assert!(is_x86_feature_detected!("avx2"), "AVX2 kernel called on a CPU without AVX2");
    assert!(b.iter().all(|b| b.len() == a.len()), "rows of different lengths");
    // SAFETY: AVX2 checked; the body reads within `a` and the equally long rows of `b`.
    unsafe { dot_x4_avx2_body(a, b) }
}

#[target_feature(enable = "avx2")]
unsafe fn dot_x4_avx2_body(a: &[i8], b: [&[i8]; 4]) -> [i32; 4] {
    let n = a.len();
    let ones = _mm256_set1_epi16(1);
    let mut acc = [_mm256_setzero_si256(); 4];
    let mut i = 0;
    // SAFETY: each load reads 32 bytes at i + 31 < n (loop bound) of rows of length n.
    unsafe {
        while i + 32 <= n {
            let va = _mm256_loadu_si256(a.as_ptr().add(i) as *const __m256i);
            for (acc, b) in acc.iter_mut().zip(b) {
                let vb = _mm256_loadu_si256(b.as_ptr().add(i) as *const __m256i);
                let pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(vb), _mm256_sign_epi8(va, vb));
                *acc = _mm256_add_epi32(*acc, _mm256_madd_epi16(pairs, ones));
            }
            i += 32;
        }
    }
    let tail = |t: usize| super::super::i8_rows::dot_i8_ref(&a[i..n], &b[t][i..n]);
    [0, 1, 2, 3].map(|t| {
        let v = acc[t];
        let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b01_00_11_10));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b10_11_00_01));
        _mm_cvtsi128_si32(s) + tail(t)
    })
}

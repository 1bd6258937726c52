//! Int8 × int8 dot products with AVX2 (and AVX-512 VNNI for four tokens), for the int8 LM head.
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
/// the four (the int8 LM head of several sequences' tokens). Here the roles swap: |a| is taken
/// once per piece for the four and the sign moves onto each `b`, so `b` must not hold −128 either
/// (per-row absmax quantization never makes it: |x·127/max|x|| rounds to at most 127).
pub fn dot_x4_avx2(a: &[i8], b: [&[i8]; 4]) -> [i32; 4] {
    assert!(is_x86_feature_detected!("avx2"), "AVX2 kernel called on a CPU without AVX2");
    assert!(b.iter().all(|b| b.len() == a.len()), "rows of different lengths");
    debug_assert!(b.iter().all(|b| !b.contains(&i8::MIN)), "an activation row holds -128");
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
            super::i2s::prefetch_ahead(a.as_ptr().wrapping_add(i) as *const u8, n);
            let va = _mm256_loadu_si256(a.as_ptr().add(i) as *const __m256i);
            let abs_a = _mm256_abs_epi8(va);
            for (acc, b) in acc.iter_mut().zip(b) {
                let vb = _mm256_loadu_si256(b.as_ptr().add(i) as *const __m256i);
                let pairs = _mm256_maddubs_epi16(abs_a, _mm256_sign_epi8(vb, va));
                *acc = _mm256_add_epi32(*acc, _mm256_madd_epi16(pairs, ones));
            }
            i += 32;
        }
    }
    let sums = super::i2s::hsum_i32_x4(acc);
    [0, 1, 2, 3].map(|t| sums[t] + super::super::i8_rows::dot_i8_ref(&a[i..n], &b[t][i..n]))
}

/// [`dot_x4_avx2`] with AVX-512 VNNI. `vpdpbusd` takes unsigned bytes on one side, so `a` is
/// offset to `a + 128` (an XOR of the sign bit, once per piece for the four rows) and each result
/// corrected by `128·Σb`, the activation row sums the caller passes: one instruction per row and
/// piece, no sign moves, and no restriction on −128 in either operand.
pub fn dot_x4_avx512(a: &[i8], b: [&[i8]; 4], b_sums: [i32; 4]) -> [i32; 4] {
    assert!(
        is_x86_feature_detected!("avx512vnni") && is_x86_feature_detected!("avx512vl"),
        "AVX-512 VNNI kernel called on a CPU without it"
    );
    assert!(b.iter().all(|b| b.len() == a.len()), "rows of different lengths");
    debug_assert!((0..4).all(|t| b[t].iter().map(|&v| v as i32).sum::<i32>() == b_sums[t]), "wrong row sums");
    // SAFETY: features checked; the body reads within `a` and the equally long rows of `b`.
    unsafe { dot_x4_avx512_body(a, b, b_sums) }
}

#[target_feature(enable = "avx2,avx512f,avx512vl,avx512vnni")]
unsafe fn dot_x4_avx512_body(a: &[i8], b: [&[i8]; 4], b_sums: [i32; 4]) -> [i32; 4] {
    let n = a.len();
    let sign_bit = _mm256_set1_epi8(i8::MIN);
    // Two accumulators per row (alternate 32-byte pieces), so consecutive vpdpbusd into one do
    // not wait on each other.
    let mut even = [_mm256_setzero_si256(); 4];
    let mut odd = [_mm256_setzero_si256(); 4];
    let mut i = 0;
    // SAFETY: each load reads 32 bytes at i + 31 < n (loop bounds) of rows of length n.
    unsafe {
        let piece = |acc: &mut [__m256i; 4], at: usize| {
            let offset_a = _mm256_xor_si256(_mm256_loadu_si256(a.as_ptr().add(at) as *const __m256i), sign_bit);
            for (acc, b) in acc.iter_mut().zip(b) {
                *acc = _mm256_dpbusd_epi32(*acc, offset_a, _mm256_loadu_si256(b.as_ptr().add(at) as *const __m256i));
            }
        };
        while i + 64 <= n {
            super::i2s::prefetch_ahead(a.as_ptr().wrapping_add(i) as *const u8, n);
            piece(&mut even, i);
            piece(&mut odd, i + 32);
            i += 64;
        }
        if i + 32 <= n {
            piece(&mut even, i);
            i += 32;
        }
    }
    let sums = super::i2s::hsum_i32_x4(std::array::from_fn(|t| _mm256_add_epi32(even[t], odd[t])));
    [0, 1, 2, 3].map(|t| {
        let tail: i32 = a[i..n].iter().zip(&b[t][i..n]).map(|(&x, &y)| (x as i32 + 128) * y as i32).sum();
        sums[t] + tail - 128 * b_sums[t]
    })
}

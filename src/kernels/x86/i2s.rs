//! I2_S × int8 dot products on x86-64: AVX2 (`vpmaddubsw`) and AVX-512 VNNI (`vpdpbusd`, EVEX-256).
//!
//! A 32-byte I2_S block holds four planes of 32 codes (bits 7:6, 5:4, 3:2, 1:0 of each byte);
//! plane p of block b multiplies activations `q[128b + 32p ..][..32]`, so each plane lines up with
//! one contiguous 32-byte activation load and no shuffling is needed. Codes are unsigned {0,1,2}
//! (the u8 operand of both instructions); the caller subtracts Σq once per row.
//!
//! The `_x4` variants unpack each weight block once for four activation rows (prefill).

use std::arch::x86_64::*;

fn require(avx512: bool) {
    let ok = is_x86_feature_detected!("avx2")
        && (!avx512 || (is_x86_feature_detected!("avx512vnni") && is_x86_feature_detected!("avx512vl")));
    assert!(ok, "I2_S SIMD kernel called on a CPU without its features");
}

/// Splits 32 packed bytes into the four planes of codes.
#[inline]
#[target_feature(enable = "avx2")]
fn planes(w: __m256i) -> [__m256i; 4] {
    let mask = _mm256_set1_epi8(3);
    [
        _mm256_and_si256(_mm256_srli_epi16(w, 6), mask),
        _mm256_and_si256(_mm256_srli_epi16(w, 4), mask),
        _mm256_and_si256(_mm256_srli_epi16(w, 2), mask),
        _mm256_and_si256(w, mask),
    ]
}

/// The sum of the eight i32 lanes.
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn hsum_i32(v: __m256i) -> i32 {
    let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b01_00_11_10));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b10_11_00_01));
    _mm_cvtsi128_si32(s)
}

/// # Safety
/// `p` must point to 32 readable bytes.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn load(p: *const u8) -> __m256i {
    // SAFETY: the caller guarantees 32 readable bytes; loadu needs no alignment.
    unsafe { _mm256_loadu_si256(p as *const __m256i) }
}

/// Blocks summed in 16-bit lanes before widening: each block adds at most 4·2·(2·128) = 2048 per
/// lane, so 8 blocks stay below 2^15.
const AVX2_BLOCKS_PER_WIDEN: usize = 8;

pub fn dot_avx2(packed: &[u8], q: &[i8]) -> i32 {
    require(false);
    assert!(q.len() >= packed.len() * 4);
    // SAFETY: AVX2 checked; the body reads packed[..32·nb] and q[..128·nb] with nb = packed.len()/32.
    unsafe { dot_avx2_body(packed, q) }
}

#[target_feature(enable = "avx2")]
unsafe fn dot_avx2_body(packed: &[u8], q: &[i8]) -> i32 {
    let nb = packed.len() / 32;
    let ones = _mm256_set1_epi16(1);
    let mut acc32 = _mm256_setzero_si256();
    let mut b = 0;
    while b < nb {
        let end = (b + AVX2_BLOCKS_PER_WIDEN).min(nb);
        let mut acc16 = _mm256_setzero_si256();
        for blk in b..end {
            // SAFETY: blk < nb, so 32 bytes at packed[32·blk] and 128 at q[128·blk] are in bounds.
            unsafe {
                let codes = planes(load(packed.as_ptr().add(32 * blk)));
                let qp = q.as_ptr().add(128 * blk) as *const u8;
                for (p, c) in codes.iter().enumerate() {
                    acc16 = _mm256_add_epi16(acc16, _mm256_maddubs_epi16(*c, load(qp.add(32 * p))));
                }
            }
        }
        acc32 = _mm256_add_epi32(acc32, _mm256_madd_epi16(acc16, ones));
        b = end;
    }
    hsum_i32(acc32)
}

pub fn dot_avx512(packed: &[u8], q: &[i8]) -> i32 {
    require(true);
    assert!(q.len() >= packed.len() * 4);
    // SAFETY: features checked; reads as in `dot_avx2`.
    unsafe { dot_avx512_body(packed, q) }
}

#[target_feature(enable = "avx2,avx512f,avx512vl,avx512vnni")]
unsafe fn dot_avx512_body(packed: &[u8], q: &[i8]) -> i32 {
    let nb = packed.len() / 32;
    // Two accumulators so consecutive vpdpbusd do not wait on each other.
    let mut acc = [_mm256_setzero_si256(); 2];
    for blk in 0..nb {
        // SAFETY: blk < nb, so the loads are in bounds (see dot_avx2).
        unsafe {
            let codes = planes(load(packed.as_ptr().add(32 * blk)));
            let qp = q.as_ptr().add(128 * blk) as *const u8;
            for (p, c) in codes.iter().enumerate() {
                acc[p & 1] = _mm256_dpbusd_epi32(acc[p & 1], *c, load(qp.add(32 * p)));
            }
        }
    }
    hsum_i32(_mm256_add_epi32(acc[0], acc[1]))
}

pub fn dot_x4_avx2(packed: &[u8], q: [&[i8]; 4]) -> [i32; 4] {
    require(false);
    for qt in q {
        assert!(qt.len() >= packed.len() * 4);
    }
    // SAFETY: AVX2 checked; every activation row is long enough (asserted).
    unsafe { dot_x4_avx2_body(packed, q) }
}

#[target_feature(enable = "avx2")]
unsafe fn dot_x4_avx2_body(packed: &[u8], q: [&[i8]; 4]) -> [i32; 4] {
    let nb = packed.len() / 32;
    let ones = _mm256_set1_epi16(1);
    let mut acc32 = [_mm256_setzero_si256(); 4];
    let mut b = 0;
    while b < nb {
        let end = (b + AVX2_BLOCKS_PER_WIDEN).min(nb);
        let mut acc16 = [_mm256_setzero_si256(); 4];
        for blk in b..end {
            // SAFETY: blk < nb; bounds as in dot_avx2, for each of the four rows.
            unsafe {
                let codes = planes(load(packed.as_ptr().add(32 * blk)));
                for (t, acc) in acc16.iter_mut().enumerate() {
                    let qp = q[t].as_ptr().add(128 * blk) as *const u8;
                    for (p, c) in codes.iter().enumerate() {
                        *acc = _mm256_add_epi16(*acc, _mm256_maddubs_epi16(*c, load(qp.add(32 * p))));
                    }
                }
            }
        }
        for t in 0..4 {
            acc32[t] = _mm256_add_epi32(acc32[t], _mm256_madd_epi16(acc16[t], ones));
        }
        b = end;
    }
    acc32.map(|a| hsum_i32(a))
}

pub fn dot_x4_avx512(packed: &[u8], q: [&[i8]; 4]) -> [i32; 4] {
    require(true);
    for qt in q {
        assert!(qt.len() >= packed.len() * 4);
    }
    // SAFETY: features checked; every activation row is long enough (asserted).
    unsafe { dot_x4_avx512_body(packed, q) }
}

#[target_feature(enable = "avx2,avx512f,avx512vl,avx512vnni")]
unsafe fn dot_x4_avx512_body(packed: &[u8], q: [&[i8]; 4]) -> [i32; 4] {
    let nb = packed.len() / 32;
    let mut acc = [_mm256_setzero_si256(); 4];
    for blk in 0..nb {
        // SAFETY: blk < nb; bounds as in dot_avx2, for each of the four rows.
        unsafe {
            let codes = planes(load(packed.as_ptr().add(32 * blk)));
            for (t, acc) in acc.iter_mut().enumerate() {
                let qp = q[t].as_ptr().add(128 * blk) as *const u8;
                for (p, c) in codes.iter().enumerate() {
                    *acc = _mm256_dpbusd_epi32(*acc, *c, load(qp.add(32 * p)));
                }
            }
        }
    }
    acc.map(|a| hsum_i32(a))
}

//! I2_S × int8 dot products on x86-64: AVX2 (`vpmaddubsw`) and AVX-512 VNNI (`vpdpbusd`, EVEX-256).
//!
//! A 32-byte I2_S block holds four planes of 32 codes (bits 7:6, 5:4, 3:2, 1:0 of each byte);
//! plane p of block b multiplies activations `q[128b + 32p ..][..32]`, so each plane lines up with
//! one contiguous 32-byte activation load and no shuffling is needed. Codes are unsigned {0,1,2}
//! (the u8 operand of both instructions); the caller subtracts Σq once per row.
//!
//! The `_2xt` variants multiply two weight rows by `T` (2 to 4) activation rows (several
//! sequences' decode steps, prefill): each weight block is unpacked once for the `T` tokens and
//! each activation load serves two rows.

use std::arch::x86_64::*;

fn require(avx512: bool) {
    let ok = is_x86_feature_detected!("avx2")
        && (!avx512 || (is_x86_feature_detected!("avx512vnni") && is_x86_feature_detected!("avx512vl")));
    assert!(ok, "I2_S SIMD kernel called on a CPU without its features");
}

/// The lane sums of `a[t] + b[t]` for `T` ≤ 4 vectors, through [`hsum_i32_x4`] (zeros fill the
/// missing ones). By value and constant indices: a reduction through closures took the
/// accumulators' addresses, and the loop before it then kept them in memory.
#[inline]
#[target_feature(enable = "avx2")]
fn hsum_i32_pairs<const T: usize>(a: [__m256i; T], b: [__m256i; T]) -> [i32; T] {
    let mut v = [_mm256_setzero_si256(); 4];
    for t in 0..T {
        v[t] = _mm256_add_epi32(a[t], b[t]);
    }
    let sums = hsum_i32_x4(v);
    let mut out = [0; T];
    out.copy_from_slice(&sums[..T]);
    out
}

/// Splits 32 packed bytes into the four planes of codes.
#[inline]
#[target_feature(enable = "avx2")]
fn planes(w: __m256i) -> [__m256i; 4] {
    [plane(w, 0), plane(w, 1), plane(w, 2), plane(w, 3)]
}

/// Plane `p` of 32 packed bytes (bits 7−2p..6−2p of each byte).
#[inline]
#[target_feature(enable = "avx2")]
fn plane(w: __m256i, p: usize) -> __m256i {
    let shifted = match p {
        0 => _mm256_srli_epi16(w, 6),
        1 => _mm256_srli_epi16(w, 4),
        2 => _mm256_srli_epi16(w, 2),
        _ => w,
    };
    _mm256_and_si256(shifted, _mm256_set1_epi8(3))
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

/// The sums of the eight i32 lanes of each of four vectors, reduced together (three horizontal
/// adds instead of four separate reductions: a 4-token product of a short row spends a good part
/// of its time here). Integer sums, so the order does not change the result.
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn hsum_i32_x4(v: [__m256i; 4]) -> [i32; 4] {
    // [a01 a23 b01 b23 | a45 a67 b45 b67], then [a0123 b0123 c0123 d0123 | a4567 b4567 c4567 d4567].
    let ab = _mm256_hadd_epi32(v[0], v[1]);
    let cd = _mm256_hadd_epi32(v[2], v[3]);
    let abcd = _mm256_hadd_epi32(ab, cd);
    let s = _mm_add_epi32(_mm256_castsi256_si128(abcd), _mm256_extracti128_si256(abcd, 1));
    [_mm_cvtsi128_si32(s), _mm_extract_epi32(s, 1), _mm_extract_epi32(s, 2), _mm_extract_epi32(s, 3)]
}

/// # Safety
/// `p` must point to 32 readable bytes.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn load(p: *const u8) -> __m256i {
    // SAFETY: the caller guarantees 32 readable bytes; loadu needs no alignment.
    unsafe { _mm256_loadu_si256(p as *const __m256i) }
}

/// Asks for the weight line `ahead` bytes past `p` (a hint: past the end it reads nothing).
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn prefetch_ahead(p: *const u8, ahead: usize) {
    // A prefetch never faults, whatever the address.
    _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(ahead) as *const i8)
}

/// Prefetches for the two-row kernels, at `p` in a row of `row_len` bytes (rows come in
/// consecutive pairs).
///
/// With four tokens of work per block, the out-of-order window holds too few blocks to keep
/// enough weight reads in flight by itself and the loop stalls on memory at half the bandwidth.
/// So the same block two pairs on comes to L1 (one pair ahead is too close for the short rows of
/// Q, K, V and O, 640 bytes in 2B4T), and sixteen pairs on to L2: L2 keeps far more misses in
/// flight than L1, and with only the near prefetch the weight reads and the arithmetic still
/// took turns (2B4T at 4 sequences: 75 → 89 tok/s, medians of alternating runs).
#[inline]
#[target_feature(enable = "avx2")]
fn prefetch_pairs(p: *const u8, row_len: usize) {
    prefetch_ahead(p, 4 * row_len);
    // A prefetch never faults, whatever the address.
    _mm_prefetch::<_MM_HINT_T1>(p.wrapping_add(32 * row_len) as *const i8)
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

pub fn dot_2xt_avx2<const T: usize>(packed: [&[u8]; 2], q: [&[i8]; T]) -> [[i32; T]; 2] {
    require(false);
    check_2xt(packed, q);
    // SAFETY: AVX2 checked; both rows are equally long and every activation row covers them.
    unsafe { dot_2xt_avx2_body(packed, q) }
}

fn check_2xt<const T: usize>(packed: [&[u8]; 2], q: [&[i8]; T]) {
    assert!((1..=4).contains(&T), "one to four tokens");
    assert_eq!(packed[0].len(), packed[1].len(), "rows of different lengths");
    for qt in q {
        assert!(qt.len() >= packed[0].len() * 4);
    }
}

#[target_feature(enable = "avx2")]
unsafe fn dot_2xt_avx2_body<const T: usize>(packed: [&[u8]; 2], q: [&[i8]; T]) -> [[i32; T]; 2] {
    let nb = packed[0].len() / 32;
    let ones = _mm256_set1_epi16(1);
    let mut acc32 = [[_mm256_setzero_si256(); T]; 2];
    let mut b = 0;
    while b < nb {
        let end = (b + AVX2_BLOCKS_PER_WIDEN).min(nb);
        let mut acc16 = [[_mm256_setzero_si256(); T]; 2];
        for blk in b..end {
            // SAFETY: blk < nb; bounds as in dot_avx2, for both rows and each of the four tokens.
            unsafe {
                let w = packed.map(|row| {
                    prefetch_pairs(row.as_ptr().wrapping_add(32 * blk), row.len());
                    load(row.as_ptr().add(32 * blk))
                });
                // Plane by plane, so two rows' codes and eight accumulators fit the 16 registers.
                for p in 0..4 {
                    let codes = w.map(|w| plane(w, p));
                    for t in 0..T {
                        let x = load((q[t].as_ptr() as *const u8).add(128 * blk + 32 * p));
                        for r in 0..2 {
                            acc16[r][t] = _mm256_add_epi16(acc16[r][t], _mm256_maddubs_epi16(codes[r], x));
                        }
                    }
                }
            }
        }
        for r in 0..2 {
            for t in 0..T {
                acc32[r][t] = _mm256_add_epi32(acc32[r][t], _mm256_madd_epi16(acc16[r][t], ones));
            }
        }
        b = end;
    }
    let zero = [_mm256_setzero_si256(); T];
    [hsum_i32_pairs(acc32[0], zero), hsum_i32_pairs(acc32[1], zero)]
}

pub fn dot_2xt_avx512<const T: usize>(packed: [&[u8]; 2], q: [&[i8]; T]) -> [[i32; T]; 2] {
    require(true);
    check_2xt(packed, q);
    // SAFETY: features checked; both rows are equally long and every activation row covers them.
    unsafe { dot_2xt_avx512_body(packed, q) }
}

#[target_feature(enable = "avx2,avx512f,avx512vl,avx512vnni")]
unsafe fn dot_2xt_avx512_body<const T: usize>(packed: [&[u8]; 2], q: [&[i8]; T]) -> [[i32; T]; 2] {
    let nb = packed[0].len() / 32;
    // Two accumulators per row and token (even and odd planes), so that consecutive vpdpbusd
    // into one do not wait on each other: at four tokens 16 accumulators, 8 code planes and 4
    // activation loads fit the 32 registers AVX-512 gives.
    let mut even = [[_mm256_setzero_si256(); T]; 2];
    let mut odd = [[_mm256_setzero_si256(); T]; 2];
    for blk in 0..nb {
        // SAFETY: blk < nb; bounds as in dot_avx2, for both rows and each of the tokens.
        (even, odd) = unsafe { vnni_block_2xt(even, odd, packed, q, blk) };
    }
    [hsum_i32_pairs(even[0], odd[0]), hsum_i32_pairs(even[1], odd[1])]
}

/// Adds block `blk` of two rows times `T` activation rows to the accumulators. They are taken
/// and returned by value: updated in place through indices, they were kept in memory in some
/// builds, a store per `vpdpbusd`.
///
/// # Safety
/// Both rows hold block `blk` and every activation row its 128 values.
#[inline]
#[target_feature(enable = "avx2,avx512f,avx512vl,avx512vnni")]
unsafe fn vnni_block_2xt<const T: usize>(
    mut even: [[__m256i; T]; 2],
    mut odd: [[__m256i; T]; 2],
    packed: [&[u8]; 2],
    q: [&[i8]; T],
    blk: usize,
) -> ([[__m256i; T]; 2], [[__m256i; T]; 2]) {
    // SAFETY: the caller guarantees the block in both rows and its activations in each token's row.
    unsafe {
        let codes = packed.map(|row| {
            prefetch_pairs(row.as_ptr().wrapping_add(32 * blk), row.len());
            planes(load(row.as_ptr().add(32 * blk)))
        });
        for t in 0..T {
            let qp = (q[t].as_ptr() as *const u8).add(128 * blk);
            let x = [load(qp), load(qp.add(32)), load(qp.add(64)), load(qp.add(96))];
            for r in 0..2 {
                even[r][t] = _mm256_dpbusd_epi32(even[r][t], codes[r][0], x[0]);
                odd[r][t] = _mm256_dpbusd_epi32(odd[r][t], codes[r][1], x[1]);
                even[r][t] = _mm256_dpbusd_epi32(even[r][t], codes[r][2], x[2]);
                odd[r][t] = _mm256_dpbusd_epi32(odd[r][t], codes[r][3], x[3]);
            }
        }
    }
    (even, odd)
}

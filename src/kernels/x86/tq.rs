//! TQ2_0 and TQ1_0 × 256-block int8 dot products with AVX2.
//!
//! A weight block unpacks to eight vectors of 32 unsigned codes, vector i lining up with
//! activations 32i..32i+32, so `vpmaddubsw` (u8 codes × i8 activations) needs no shuffles. Only
//! the integer sums are computed here; the float part is the reference's own code
//! ([`add_block`], [`sum_partials`]), so the results equal [`dot_ref`] bit for bit.
//!
//! [`dot_ref`]: crate::kernels::tq_dot::dot_ref

use std::arch::x86_64::*;

use crate::gguf::TensorType;
use crate::kernels::act_q8::{ActBlocks, QK_K};
use crate::kernels::block_dot::sum_partials;
use crate::kernels::block_rows::each_row;
use crate::kernels::tq_dot::{add_block, block_bytes};
use crate::kernels::{tq1_0, tq2_0};

use super::i2s::hsum_i32;

/// One block's codes: vector i holds those of elements 32i..32i+32.
type Codes = [__m256i; 8];

// The const-generic `KIND` is the type's own discriminant: one numbering of the types.
const TQ1_0: u8 = TensorType::TQ1_0 as u8;
const TQ2_0: u8 = TensorType::TQ2_0 as u8;

fn require_avx2() {
    assert!(
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("f16c"),
        "AVX2 kernel called on a CPU without AVX2/F16C"
    );
}

pub fn dot_rows_avx2(ty: TensorType, w: &[u8], a: ActBlocks, scale: f32, out: &mut [f32]) {
    require_avx2();
    let row_bytes = a.q.len() / QK_K * block_bytes(ty);
    // SAFETY: AVX2 and F16C checked.
    each_row(w, row_bytes, out.len(), out, [0], |row| unsafe { row_dot_by_type(ty, row, [a]) }.map(|d| d * scale));
}

/// `out[at[k] + i] = scale · Σ w_i·x_k` for rows `w` and `T` (1 to 4) activation rows of one length.
pub fn dot_rows_xt_avx2<const T: usize>(
    ty: TensorType,
    w: &[u8],
    a: [ActBlocks; T],
    scale: f32,
    out: &mut [f32],
    at: [usize; T],
) {
    require_avx2();
    assert!(a.iter().all(|r| r.q.len() == a[0].q.len()), "activation rows of one length");
    let row_bytes = a[0].q.len() / QK_K * block_bytes(ty);
    // SAFETY: AVX2 and F16C checked.
    each_row(w, row_bytes, w.len() / row_bytes, out, at, |row| {
        unsafe { row_dot_by_type(ty, row, a) }.map(|d| d * scale)
    });
}

/// # Safety
/// AVX2 and F16C present.
#[target_feature(enable = "avx2,f16c")]
unsafe fn row_dot_by_type<const T: usize>(ty: TensorType, w: &[u8], a: [ActBlocks; T]) -> [f32; T] {
    match ty {
        TensorType::TQ1_0 => row_dot::<TQ1_0, T>(w, a),
        TensorType::TQ2_0 => row_dot::<TQ2_0, T>(w, a),
        other => panic!("{other:?} has no ternary int8 dot product"),
    }
}

/// One weight row against `T` activation rows of one length: each block is unpacked once for all
/// of them. Only the loads from whole blocks are unchecked; every slice is indexed safely.
#[inline]
#[target_feature(enable = "avx2,f16c")]
fn row_dot<const KIND: u8, const T: usize>(w: &[u8], a: [ActBlocks; T]) -> [f32; T] {
    let bytes = if KIND == TQ1_0 { tq1_0::BLOCK_BYTES } else { tq2_0::BLOCK_BYTES };
    let mut partials = [[0f32; 4]; T];
    for (b, block) in w.chunks_exact(bytes).take(a[0].q.len() / QK_K).enumerate() {
        let codes = if KIND == TQ1_0 {
            unpack_tq1_0(block.try_into().unwrap())
        } else {
            unpack_tq2_0(block.try_into().unwrap())
        };
        // The reference's conversion, inline: the library call would spill the codes each block.
        let d_w = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(
            u16::from_le_bytes([block[bytes - 2], block[bytes - 1]]) as i32,
        )));
        for (p, a) in partials.iter_mut().zip(&a) {
            let q = a.q[b * QK_K..(b + 1) * QK_K].try_into().unwrap();
            add_block(p, b, d_w, a.d[b], code_sum(&codes, q) - a.sum[b]);
        }
    }
    partials.map(sum_partials)
}

/// Σ code·q over one block. A `vpmaddubsw` pair sums to at most 3·128·2 = 768 in magnitude
/// (code 3 included), so the eight of a block add up in 16 bits without saturating.
#[inline]
#[target_feature(enable = "avx2")]
fn code_sum(codes: &Codes, q: &[i8; QK_K]) -> i32 {
    let mut acc = _mm256_setzero_si256();
    for (i, c) in codes.iter().enumerate() {
        // SAFETY: bytes 32i..32i+32 of the 256-byte array.
        let qv = unsafe { _mm256_loadu_si256(q.as_ptr().add(32 * i) as *const __m256i) };
        acc = _mm256_add_epi16(acc, _mm256_maddubs_epi16(*c, qv));
    }
    hsum_i32(_mm256_madd_epi16(acc, _mm256_set1_epi16(1)))
}

/// TQ2_0: byte m of each 32-byte half holds elements m, m+32, m+64, m+96 of that half in bits
/// 1:0, 3:2, 5:4, 7:6, so each shift of a half's bytes gives 32 consecutive elements.
#[inline]
#[target_feature(enable = "avx2")]
fn unpack_tq2_0(block: &[u8; tq2_0::BLOCK_BYTES]) -> Codes {
    let mask = _mm256_set1_epi8(3);
    // SAFETY: bytes 0..64 of the 66-byte block.
    let (lo, hi) = unsafe {
        let p = block.as_ptr() as *const __m256i;
        (_mm256_loadu_si256(p), _mm256_loadu_si256(p.add(1)))
    };
    let planes = |x: __m256i| {
        [x, _mm256_srli_epi16(x, 2), _mm256_srli_epi16(x, 4), _mm256_srli_epi16(x, 6)]
            .map(|v| _mm256_and_si256(v, mask))
    };
    let ([c0, c1, c2, c3], [c4, c5, c6, c7]) = (planes(lo), planes(hi));
    [c0, c1, c2, c3, c4, c5, c6, c7]
}

/// TQ1_0: digit n of a byte is its top trit after multiplying by 3ⁿ (mod 256). `qs[0..32]` give
/// elements 32n + m; `qs[32..48]` give 160 + 16n + m, so digits 0|1 and 2|3 fill a vector each
/// and digit 4 the low half of the last, whose high half is `qh`'s digits (240 + 4n + j). Every
/// power multiplies the loaded bytes directly, so no chain of products sits on the critical path.
#[inline]
#[target_feature(enable = "avx2")]
fn unpack_tq1_0(block: &[u8; tq1_0::BLOCK_BYTES]) -> Codes {
    // SAFETY: bytes 0..32 and 32..48 of the 54-byte block.
    let (qs, tail) = unsafe {
        (
            _mm256_loadu_si256(block.as_ptr() as *const __m256i),
            _mm_loadu_si128(block.as_ptr().add(32) as *const __m128i),
        )
    };
    let qh = _mm_set1_epi32(i32::from_le_bytes([block[48], block[49], block[50], block[51]]));
    let pow = |n: u32| _mm256_set1_epi16(3i16.pow(n));
    let halves = |hi: __m128i, lo: __m128i| _mm256_set_m128i(hi, lo);
    let tail_twice = halves(tail, tail);
    // 81 for the tail's last digit; 1, 3, 9, 27 for qh's four digits, one dword (two lanes) each.
    let last_factors = halves(_mm_set_epi16(27, 27, 9, 9, 3, 3, 1, 1), _mm_set1_epi16(81));
    [
        qs,
        times(qs, pow(1)),
        times(qs, pow(2)),
        times(qs, pow(3)),
        times(qs, pow(4)),
        times(tail_twice, halves(_mm_set1_epi16(3), _mm_set1_epi16(1))),
        times(tail_twice, halves(_mm_set1_epi16(27), _mm_set1_epi16(9))),
        times(halves(qh, tail), last_factors),
    ]
    .map(|v| top_trit(v))
}

/// x·k mod 256 in every byte, with the factor k per 16-bit lane (both of its bytes).
#[inline]
#[target_feature(enable = "avx2")]
fn times(x: __m256i, k: __m256i) -> __m256i {
    // The low byte of x·k is right in each lane; the high byte is right once the low one is zeroed.
    let low = _mm256_and_si256(_mm256_mullo_epi16(x, k), _mm256_set1_epi16(0xff));
    let high = _mm256_mullo_epi16(_mm256_and_si256(x, _mm256_set1_epi16(0xff00u16 as i16)), k);
    _mm256_or_si256(low, high)
}

/// (y·3) >> 8 in every byte, without multiplies (ggml's trick): with y' = y − 1 (saturating),
/// avg(y', avg(y', 0)) = ⌊(y' + ⌈y'/2⌉ + 1)/2⌋ holds that digit in its top two bits.
#[inline]
#[target_feature(enable = "avx2")]
fn top_trit(y: __m256i) -> __m256i {
    let y = _mm256_subs_epu8(y, _mm256_set1_epi8(1));
    let t = _mm256_avg_epu8(y, _mm256_avg_epu8(y, _mm256_setzero_si256()));
    _mm256_and_si256(_mm256_srli_epi16(t, 6), _mm256_set1_epi8(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_trit_is_exact_for_every_byte() {
        if !is_x86_feature_detected!("avx2") {
            return;
        }
        for start in (0..256).step_by(32) {
            let bytes: [u8; 32] = std::array::from_fn(|i| (start + i) as u8);
            let mut got = [0u8; 32];
            // SAFETY: AVX2 checked; 32-byte loads and stores on 32-byte arrays.
            unsafe {
                let v = top_trit(_mm256_loadu_si256(bytes.as_ptr() as *const __m256i));
                _mm256_storeu_si256(got.as_mut_ptr() as *mut __m256i, v);
            }
            for (&y, &d) in bytes.iter().zip(&got) {
                assert_eq!(d as u16, (y as u16 * 3) >> 8, "byte {y}");
            }
        }
    }
}

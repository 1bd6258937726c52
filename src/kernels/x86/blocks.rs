//! Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and Q6_K × block int8 dot products with AVX2: four blocks per step,
//! each block's integer sum in a lane of one vector, so the float work (and its rounding) is the
//! reference's. For Q6_K a step is half a super-block (128 weights, eight sub-block scales).
//!
//! `vpmaddubsw` multiplies unsigned by signed bytes: 4-bit codes are unsigned already; Q8_0 and
//! Q6_K (as q − 32) move their sign onto the activations (|w| ≤ 128, |a| ≤ 127, so a pair sum
//! stays within ±32512). `vpmaddwd` then weights each pair sum by 1, or by Q6_K's sub-block
//! scale (|pair| ≤ 2·32·127, |scale| ≤ 128: far inside i32).

use std::arch::x86_64::*;

use crate::gguf::TensorType;
use crate::kernels::act_q8::{ActBlocks, BLOCK};
use crate::kernels::block_dot::{block_bytes, row_bytes, sum_partials};
use crate::kernels::block_layout::{BlockQ4_0, BlockQ4_1, BlockQ5_0, BlockQ5_1, BlockQ6K, BlockQ8_0};
use crate::kernels::q6_k::{super_scale, Q6_K_BYTES};

// The kernels' const-generic `KIND` is the type's own discriminant: one numbering of the types.
const Q8_0: u8 = TensorType::Q8_0 as u8;
const Q4_0: u8 = TensorType::Q4_0 as u8;
const Q4_1: u8 = TensorType::Q4_1 as u8;
const Q5_0: u8 = TensorType::Q5_0 as u8;
const Q5_1: u8 = TensorType::Q5_1 as u8;
const Q6K: u8 = TensorType::Q6K as u8;

/// Calls `f::<KIND>(args)`, or `f::<KIND, G>(args)`, for the kind of `ty`.
macro_rules! by_kind {
    ($ty:expr, $f:ident$([$g:ident])?($($arg:expr),*)) => {
        match $ty {
            TensorType::Q4_0 => $f::<Q4_0 $(, $g)?>($($arg),*),
            TensorType::Q4_1 => $f::<Q4_1 $(, $g)?>($($arg),*),
            TensorType::Q5_0 => $f::<Q5_0 $(, $g)?>($($arg),*),
            TensorType::Q5_1 => $f::<Q5_1 $(, $g)?>($($arg),*),
            TensorType::Q8_0 => $f::<Q8_0 $(, $g)?>($($arg),*),
            TensorType::Q6K => $f::<Q6K $(, $g)?>($($arg),*),
            other => panic!("{other:?} has no block-int8 dot product"),
        }
    };
}

/// Whether blocks of this kind carry an offset `m` after `d` (value = q·d + m).
const fn has_offset(kind: u8) -> bool {
    kind == Q4_1 || kind == Q5_1
}

pub fn dot_rows_avx2(ty: TensorType, w: &[u8], a: ActBlocks, scale: f32, out: &mut [f32]) {
    assert!(
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("f16c"),
        "AVX2 kernel called on a CPU without AVX2/F16C"
    );
    let nb = a.q.len() / BLOCK;
    assert!(a.d.len() >= nb && a.sum.len() >= nb && a.sum_d.len() >= nb);
    assert!(w.len() >= out.len() * row_bytes(ty, a.q.len()));
    // SAFETY: features checked; each row reads its nb blocks of w and nb blocks of activations.
    unsafe { by_kind!(ty, rows_body(ty, w, a, scale, out)) }
}

/// 32 weights made ready for `vpmaddubsw`: the unsigned operand, for Q8_0 and Q6_K the signed
/// weights whose signs move onto the activations, and what `vpmaddwd` multiplies the 16 pair
/// sums by (1, or Q6_K's scale of each 16 weights).
#[derive(Clone, Copy)]
struct Unpacked {
    unsigned: __m256i,
    signs: __m256i,
    pair_scales: __m256i,
}

/// # Safety
/// `w` must point to one whole block of type `KIND`.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn unpack<const KIND: u8>(w: *const u8) -> Unpacked {
    // SAFETY: the caller guarantees the block is readable.
    unsafe {
        if KIND == Q8_0 {
            let wv = _mm256_loadu_si256(w.add(std::mem::offset_of!(BlockQ8_0, qs)) as *const __m256i);
            Unpacked { unsigned: _mm256_abs_epi8(wv), signs: wv, pair_scales: _mm256_set1_epi16(1) }
        } else {
            // Elements 0..16 in the low nibbles, 16..32 in the high ones; Q5 adds bit 4 of
            // element j from bit j of `qh`, which sits between the scales and the nibbles.
            let qs_at = match KIND {
                Q4_0 => std::mem::offset_of!(BlockQ4_0, qs),
                Q4_1 => std::mem::offset_of!(BlockQ4_1, qs),
                Q5_0 => std::mem::offset_of!(BlockQ5_0, qs),
                _ => std::mem::offset_of!(BlockQ5_1, qs),
            };
            let qs = _mm_loadu_si128(w.add(qs_at) as *const __m128i);
            let mask = _mm_set1_epi8(0x0f);
            let lo = _mm_and_si128(qs, mask);
            let hi = _mm_and_si128(_mm_srli_epi16(qs, 4), mask);
            let mut q = _mm256_set_m128i(hi, lo);
            if KIND == Q5_0 || KIND == Q5_1 {
                let qh_at = if KIND == Q5_0 {
                    std::mem::offset_of!(BlockQ5_0, qh)
                } else {
                    std::mem::offset_of!(BlockQ5_1, qh)
                };
                let qh = (w.add(qh_at) as *const i32).read_unaligned();
                q = _mm256_or_si256(q, _mm256_and_si256(bits_to_bytes(qh), _mm256_set1_epi8(0x10)));
            }
            Unpacked { unsigned: q, signs: q, pair_scales: _mm256_set1_epi16(1) }
        }
    }
}

/// Half `half` of a Q6_K super-block as its four blocks of 32 weights (q − 32), each with its
/// two sub-block scales.
///
/// # Safety
/// `block` must point to one whole super-block.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn unpack_q6_k_half(block: *const u8, half: usize) -> [Unpacked; 4] {
    // SAFETY: the caller guarantees the super-block is readable; the half's 64 `ql`, 32 `qh`
    // and 8 scale bytes lie within it.
    unsafe {
        let ql = block.add(64 * half);
        let (lo, hi) = (_mm256_loadu_si256(ql as *const __m256i), _mm256_loadu_si256(ql.add(32) as *const __m256i));
        let qh = _mm256_loadu_si256(block.add(std::mem::offset_of!(BlockQ6K, qh) + 32 * half) as *const __m256i);
        let scales = block.add(std::mem::offset_of!(BlockQ6K, scales) + 8 * half) as *const i8;
        let (nibble, top) = (_mm256_set1_epi8(0x0f), _mm256_set1_epi8(0x30));
        // Quarter j: low or high nibbles of `lo` / `hi`, and bit pair j of `qh` moved to bits 4..6
        // (16-bit shifts; the mask drops what crosses from the neighbouring byte).
        let quarters = [
            _mm256_or_si256(_mm256_and_si256(lo, nibble), _mm256_and_si256(_mm256_slli_epi16(qh, 4), top)),
            _mm256_or_si256(_mm256_and_si256(hi, nibble), _mm256_and_si256(_mm256_slli_epi16(qh, 2), top)),
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(lo, 4), nibble), _mm256_and_si256(qh, top)),
            _mm256_or_si256(
                _mm256_and_si256(_mm256_srli_epi16(hi, 4), nibble),
                _mm256_and_si256(_mm256_srli_epi16(qh, 2), top),
            ),
        ];
        std::array::from_fn(|j| {
            let centred = _mm256_sub_epi8(quarters[j], _mm256_set1_epi8(32));
            // Pair sums 0..8 come from weights 0..16 (the first sub-block), 8..16 from the second.
            let (first, second) = (*scales.add(2 * j) as i16, *scales.add(2 * j + 1) as i16);
            Unpacked {
                unsigned: _mm256_abs_epi8(centred),
                signs: centred,
                pair_scales: _mm256_set_m128i(_mm_set1_epi16(second), _mm_set1_epi16(first)),
            }
        })
    }
}

/// Byte j = 0xff where bit j of `bits` is set, else 0.
#[inline]
#[target_feature(enable = "avx2")]
fn bits_to_bytes(bits: i32) -> __m256i {
    // Byte j takes byte j/8 of `bits`; OR-ing every bit but j%8 set leaves all ones iff bit j was.
    let spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32(bits),
        _mm256_set_epi64x(0x0303_0303_0303_0303, 0x0202_0202_0202_0202, 0x0101_0101_0101_0101, 0),
    );
    let others = _mm256_set1_epi64x(0x7fbf_dfef_f7fb_fdfe);
    _mm256_cmpeq_epi8(_mm256_or_si256(spread, others), _mm256_set1_epi64x(-1))
}

/// The integer products of one block with 32 activations as eight i32 lanes (their sum is the
/// block's Σ w·a).
///
/// # Safety
/// `a` must point to 32 readable bytes.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn products<const KIND: u8>(w: Unpacked, a: *const i8) -> __m256i {
    // SAFETY: the caller guarantees 32 readable activations.
    let av = unsafe { _mm256_loadu_si256(a as *const __m256i) };
    let signed = if KIND == Q8_0 || KIND == Q6K { _mm256_sign_epi8(av, w.signs) } else { av };
    _mm256_madd_epi16(_mm256_maddubs_epi16(w.unsigned, signed), w.pair_scales)
}

/// The activations' per-block values for four blocks: scales, sums and scaled sums.
#[derive(Clone, Copy)]
struct GroupActs {
    d: __m128,
    sum: __m128i,
    sum_d: __m128,
}

impl GroupActs {
    /// Blocks b..b+count (count ≤ 4) of `a`; lanes past `count` are 0, so they add exactly +0.
    ///
    /// # Safety
    /// Blocks b..b+count of `a` must exist.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn load(a: ActBlocks, b: usize, count: usize) -> Self {
        // SAFETY: whole groups read four values at b; a partial group's masked loads touch only
        // its `count` lanes (the caller's guarantee) and leave the rest 0.
        unsafe {
            let (d, sum, sum_d) = (a.d.as_ptr().add(b), a.sum.as_ptr().add(b), a.sum_d.as_ptr().add(b));
            if count == 4 {
                Self { d: _mm_loadu_ps(d), sum: _mm_loadu_si128(sum as *const __m128i), sum_d: _mm_loadu_ps(sum_d) }
            } else {
                let mask = _mm_cmpgt_epi32(_mm_set1_epi32(count as i32), _mm_setr_epi32(0, 1, 2, 3));
                Self {
                    d: _mm_maskload_ps(d, mask),
                    sum: _mm_maskload_epi32(sum, mask),
                    sum_d: _mm_maskload_ps(sum_d, mask),
                }
            }
        }
    }
}

/// The float terms of four blocks from their integer sums `sumi`, the weights' scales `dw` and
/// (Q4_1, Q5_1) offsets `m`, and the activations' per-block values.
#[inline]
#[target_feature(enable = "avx2")]
fn group_terms<const KIND: u8>(mut sumi: __m128i, dw: __m128, m: __m128, acts: GroupActs) -> __m128 {
    if KIND == Q4_0 {
        // The weights are q − 8: take 8·Σa off each block's sum.
        sumi = _mm_sub_epi32(sumi, _mm_slli_epi32(acts.sum, 3));
    } else if KIND == Q5_0 {
        // q − 16.
        sumi = _mm_sub_epi32(sumi, _mm_slli_epi32(acts.sum, 4));
    }
    let term = _mm_mul_ps(_mm_mul_ps(dw, acts.d), _mm_cvtepi32_ps(sumi));
    if has_offset(KIND) {
        _mm_add_ps(term, _mm_mul_ps(m, acts.sum_d))
    } else {
        term
    }
}

/// Blocks b..b+4 of one activation row into the four lanes of `acc`: `blocks` are the weight
/// blocks (the first `count` valid), `dw`/`m` their scales. Missing blocks add exactly +0.
///
/// # Safety
/// Blocks b..b+count of `a` must exist.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn add_group<const KIND: u8>(
    acc: __m128,
    blocks: &[Unpacked; 4],
    count: usize,
    (dw, m): (__m128, __m128),
    a: ActBlocks,
    b: usize,
) -> __m128 {
    // SAFETY: blocks b..b+count of the activations are in bounds (caller).
    unsafe {
        let ap = a.q.as_ptr().add(b * BLOCK);
        let mut p = [_mm256_setzero_si256(); 4];
        for (j, p) in p.iter_mut().enumerate().take(count) {
            *p = products::<KIND>(blocks[j], ap.add(j * BLOCK));
        }
        _mm_add_ps(acc, group_terms::<KIND>(sums4(p), dw, m, GroupActs::load(a, b, count)))
    }
}

/// The row's result from the four lanes' partial sums.
#[inline]
#[target_feature(enable = "avx2")]
fn finish(acc: __m128) -> f32 {
    let mut partials = [0f32; 4];
    // SAFETY: four floats into a four-float array.
    unsafe { _mm_storeu_ps(partials.as_mut_ptr(), acc) };
    sum_partials(partials)
}

/// Four blocks' lane vectors reduced to their four sums, in block order.
#[inline]
#[target_feature(enable = "avx2")]
fn sums4(v: [__m256i; 4]) -> __m128i {
    let h = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
    _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1))
}

/// The first `count` (≤ 4) of four f16 values `stride` bytes apart from `p`, widened to f32;
/// lanes past `count` are 0.
///
/// # Safety
/// `p + k·stride` must hold 2 readable bytes for k < count.
#[inline]
#[target_feature(enable = "avx2,f16c")]
unsafe fn f16x4(p: *const u8, stride: usize, count: usize) -> __m128 {
    let mut bits = [0i16; 4];
    for (k, bits) in bits.iter_mut().enumerate().take(count) {
        // SAFETY: k < count (the caller's guarantee).
        *bits = unsafe { (p.add(k * stride) as *const i16).read_unaligned() };
    }
    _mm_cvtph_ps(_mm_set_epi16(0, 0, 0, 0, bits[3], bits[2], bits[1], bits[0]))
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
    assert!(
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("f16c"),
        "AVX2 kernel called on a CPU without AVX2/F16C"
    );
    let nb = a[0].q.len() / BLOCK;
    assert!(a.iter().all(|a| a.q.len() == nb * BLOCK && a.d.len() >= nb && a.sum.len() >= nb && a.sum_d.len() >= nb));
    for (i, row) in w.chunks_exact(row_bytes(ty, nb * BLOCK)).enumerate() {
        // SAFETY: features checked; the row has the blocks every activation row has.
        let dots = unsafe { by_kind!(ty, row_dot_xt[T](ty, row, a)) };
        for (k, d) in dots.into_iter().enumerate() {
            out[at[k] + i] = d * scale;
        }
    }
}

/// # Safety
/// AVX2 and F16C present; `w` holds `out.len()` rows of `a.q.len()` weights.
#[target_feature(enable = "avx2,f16c")]
unsafe fn rows_body<const KIND: u8>(ty: TensorType, w: &[u8], a: ActBlocks, scale: f32, out: &mut [f32]) {
    for (o, row) in out.iter_mut().zip(w.chunks_exact(row_bytes(ty, a.q.len()))) {
        // SAFETY: the row has the blocks the activations have (the caller's guarantee).
        *o = unsafe { row_dot::<KIND>(ty, row, a) } * scale;
    }
}

/// The weights of activation blocks b..b+count (count ≤ 4) unpacked, with their scales and
/// (Q4_1, Q5_1) offsets.
///
/// # Safety
/// Those weights must be readable in `w`.
#[inline]
#[target_feature(enable = "avx2,f16c")]
unsafe fn weight_group<const KIND: u8>(
    w: &[u8],
    bytes: usize,
    b: usize,
    count: usize,
) -> ([Unpacked; 4], (__m128, __m128)) {
    if KIND == Q6K {
        // Rows are whole super-blocks, so every group is full: half b / 4 % 2 of super-block b / 8.
        debug_assert_eq!((b % 4, count), (0, 4));
        let block = &w[b / 8 * Q6_K_BYTES..(b / 8 + 1) * Q6_K_BYTES];
        // SAFETY: `block` is one whole super-block.
        let blocks = unsafe { unpack_q6_k_half(block.as_ptr(), b / 4 % 2) };
        return (blocks, (_mm_set1_ps(super_scale(block)), _mm_setzero_ps()));
    }
    let zero = Unpacked {
        unsigned: _mm256_setzero_si256(),
        signs: _mm256_setzero_si256(),
        pair_scales: _mm256_setzero_si256(),
    };
    let mut blocks = [zero; 4];
    // SAFETY: blocks b..b+count are readable (caller).
    unsafe {
        let wp = w.as_ptr().add(b * bytes);
        for (j, block) in blocks.iter_mut().enumerate().take(count) {
            *block = unpack::<KIND>(wp.add(j * bytes));
        }
        let m = if has_offset(KIND) {
            f16x4(wp.add(std::mem::offset_of!(BlockQ4_1, m)), bytes, count)
        } else {
            _mm_setzero_ps()
        };
        (blocks, (f16x4(wp, bytes, count), m))
    }
}

/// # Safety
/// AVX2 and F16C present; `w` holds the blocks of `a`.
#[inline]
#[target_feature(enable = "avx2,f16c")]
unsafe fn row_dot<const KIND: u8>(ty: TensorType, w: &[u8], a: ActBlocks) -> f32 {
    let bytes = block_bytes(ty);
    let nb = a.q.len() / BLOCK;
    let mut acc = _mm_setzero_ps();
    // SAFETY: each group's blocks are within nb (the caller's guarantee for w and a).
    unsafe {
        // Whole groups with a constant count (unrolled), then the partial one.
        let full = nb - nb % 4;
        for b in (0..full).step_by(4) {
            let (blocks, scales) = weight_group::<KIND>(w, bytes, b, 4);
            acc = add_group::<KIND>(acc, &blocks, 4, scales, a, b);
        }
        if full < nb {
            let (blocks, scales) = weight_group::<KIND>(w, bytes, full, nb - full);
            acc = add_group::<KIND>(acc, &blocks, nb - full, scales, a, full);
        }
    }
    finish(acc)
}

/// `T` tokens at once: each weight block is unpacked (and its scales widened) once for all of them.
///
/// # Safety
/// AVX2 and F16C present; `w` holds the blocks of each activation row (all the same length).
#[inline]
#[target_feature(enable = "avx2,f16c")]
unsafe fn row_dot_xt<const KIND: u8, const T: usize>(ty: TensorType, w: &[u8], a: [ActBlocks; T]) -> [f32; T] {
    let bytes = block_bytes(ty);
    let nb = a[0].q.len() / BLOCK;
    let mut acc = [_mm_setzero_ps(); T];
    // SAFETY: each group's blocks are within nb for the weights and every row (caller).
    unsafe {
        // Whole groups with a constant count (unrolled), then the partial one.
        let full = nb - nb % 4;
        for b in (0..full).step_by(4) {
            let (blocks, scales) = weight_group::<KIND>(w, bytes, b, 4);
            for (acc, a) in acc.iter_mut().zip(a) {
                *acc = add_group::<KIND>(*acc, &blocks, 4, scales, a, b);
            }
        }
        if full < nb {
            let (blocks, scales) = weight_group::<KIND>(w, bytes, full, nb - full);
            for (acc, a) in acc.iter_mut().zip(a) {
                *acc = add_group::<KIND>(*acc, &blocks, nb - full, scales, a, full);
            }
        }
    }
    acc.map(|acc| finish(acc))
}

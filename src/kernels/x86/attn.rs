//! AVX2 + FMA + F16C attention kernels for a group of query heads sharing a KV head: each F16 or
//! Q8_0 row is widened once and used for every query of the group.

use std::arch::x86_64::*;

use half::f16;

use super::avx2::{hsum, load_f16x8, require_avx2};
use crate::kernels::attn::KvRows;
use crate::kernels::dot::{axpy_f16_ref, dot_seq};
use crate::kernels::q8_0::{Q8_0_BYTES, Q8_0_VALUES};

/// Queries per block: their 2·4 live accumulators and two key vectors fit the 16 ymm registers.
const QUERY_BLOCK: usize = 4;

pub fn qk_dots(queries: &[f32], keys: KvRows, head_dim: usize, dots: &mut [f32]) {
    require_avx2();
    // SAFETY: features checked above; the caller checked that queries and dots are whole rows
    // of head_dim and of the key rows, and that keys are whole rows (of whole Q8_0 blocks).
    unsafe {
        match keys {
            KvRows::F16(_) => qk_groups::<false>(queries, keys, head_dim, dots),
            KvRows::Q8(_) => qk_groups::<true>(queries, keys, head_dim, dots),
        }
    }
}

/// [`qk_dots`] for rows of one format, `QUERY_BLOCK` queries at a time.
///
/// # Safety
/// AVX2, FMA and F16C are present, and the slices are as [`qk_dots`]' caller checked.
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn qk_groups<const Q8: bool>(queries: &[f32], keys: KvRows, head_dim: usize, dots: &mut [f32]) {
    let (rows, row_bytes, base) = (keys.rows(head_dim), keys.row_bytes(head_dim), keys.as_ptr());
    for (q, d) in queries.chunks(QUERY_BLOCK * head_dim).zip(dots.chunks_mut(QUERY_BLOCK * rows)) {
        // SAFETY: q holds the block's queries of head_dim each, d their rows of dots, and keys
        // `rows` whole rows (the caller's guarantee).
        unsafe {
            match q.len() / head_dim {
                1 => qk_block::<1, Q8>(q, base, row_bytes, d),
                2 => qk_block::<2, Q8>(q, base, row_bytes, d),
                3 => qk_block::<3, Q8>(q, base, row_bytes, d),
                _ => qk_block::<QUERY_BLOCK, Q8>(q, base, row_bytes, d),
            }
        }
    }
}

/// Eight consecutive values of a KV row from element `i` (a multiple of 8), widened to f32: F16
/// by `vcvtph2ps`; Q8_0 (when `Q8`) as `q·d` from block `i / 32`, which is exact in f32 (an f16
/// times an 8-bit integer), so either way the lanes are the row's values and the sums that
/// follow are the same arithmetic.
///
/// # Safety
/// `row` points to a whole row whose element `i + 7` exists.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn load8<const Q8: bool>(row: *const u8, i: usize) -> __m256 {
    // SAFETY: forwarded from the caller; a Q8_0 block holds its scale and 32 values.
    unsafe {
        if Q8 {
            let block = row.add(i / Q8_0_VALUES * Q8_0_BYTES);
            let d = f16::from_bits(std::ptr::read_unaligned(block as *const u16)).to_f32();
            let q = _mm_loadl_epi64(block.add(2 + i % Q8_0_VALUES) as *const __m128i);
            _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), _mm256_set1_ps(d))
        } else {
            load_f16x8(row.add(2 * i) as *const f16)
        }
    }
}

/// # Safety
/// `queries` holds `G` rows of head_dim, `dots` `G` rows of one dot per key row, and `keys`
/// that many rows of `row_bytes` (F16, or Q8_0 when `Q8`).
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn qk_block<const G: usize, const Q8: bool>(
    queries: &[f32],
    keys: *const u8,
    row_bytes: usize,
    dots: &mut [f32],
) {
    let rows = dots.len() / G;
    for j in 0..rows {
        // SAFETY: forwarded from the caller.
        let d = unsafe { qk_row::<G, Q8>(queries, keys.add(j * row_bytes)) };
        for (g, d) in d.into_iter().enumerate() {
            dots[g * rows + j] = d;
        }
    }
}

/// One key row against `G` queries, each summed exactly as `dot_f32_f16` sums it: accumulator m
/// (of 4) takes the m-th 8 elements of every 32-element step, accumulator 0 then the 8-element
/// steps left over; the result is hsum((acc0 + acc1) + (acc2 + acc3)) plus the scalar tail.
/// Accumulators 0, 1 and then 2, 3 are filled in separate passes over the row (which is in L1),
/// so that only 2·G of them are live at a time.
///
/// # Safety
/// `q` holds `G` rows of the row's length; `k` is a whole row (Q8_0 rows have no tail).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn qk_row<const G: usize, const Q8: bool>(q: &[f32], k: *const u8) -> [f32; G] {
    let n = q.len() / G;
    let (steps, eights) = (n / 32 * 32, n / 8 * 8);
    let qp = q.as_ptr();
    // SAFETY: every load reads 8 values at offsets below `eights` <= n, in k and in each query row.
    let sums = unsafe {
        let (mut acc0, acc1) = lane_pair::<G, Q8>(qp, k, n, steps, 0);
        let mut i = steps;
        while i < eights {
            let x = load8::<Q8>(k, i);
            for (g, acc) in acc0.iter_mut().enumerate() {
                *acc = _mm256_fmadd_ps(_mm256_loadu_ps(qp.add(g * n + i)), x, *acc);
            }
            i += 8;
        }
        let (acc2, acc3) = lane_pair::<G, Q8>(qp, k, n, steps, 2);
        let mut sums = [_mm256_setzero_ps(); G];
        for (g, s) in sums.iter_mut().enumerate() {
            *s = _mm256_add_ps(_mm256_add_ps(acc0[g], acc1[g]), _mm256_add_ps(acc2[g], acc3[g]));
        }
        sums
    };
    let mut dots = sums.map(|s| hsum(s));
    // The one-query kernel adds the tail's sum even when it is empty; that is -0.0, a no-op.
    if eights < n {
        // SAFETY: an F16 row (Q8_0 rows are whole blocks of 32) of n values.
        let k = unsafe { std::slice::from_raw_parts(k as *const f16, n) };
        for (g, d) in dots.iter_mut().enumerate() {
            *d += dot_seq(&q[g * n + eights..(g + 1) * n], &k[eights..]);
        }
    }
    dots
}

/// Accumulators `first` and `first + 1` of the 32-element steps below `steps`, for `G` queries.
///
/// # Safety
/// `q` points to `G` rows of `n` f32 and `k` to a row of `n` values, with `steps <= n`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn lane_pair<const G: usize, const Q8: bool>(
    q: *const f32,
    k: *const u8,
    n: usize,
    steps: usize,
    first: usize,
) -> ([__m256; G], [__m256; G]) {
    let (mut a, mut b) = ([_mm256_setzero_ps(); G], [_mm256_setzero_ps(); G]);
    let mut i = 8 * first;
    // SAFETY: i + 16 <= steps on every iteration, so all loads lie within the rows.
    unsafe {
        while i + 16 <= steps {
            let (xa, xb) = (load8::<Q8>(k, i), load8::<Q8>(k, i + 8));
            for g in 0..G {
                a[g] = _mm256_fmadd_ps(_mm256_loadu_ps(q.add(g * n + i)), xa, a[g]);
                b[g] = _mm256_fmadd_ps(_mm256_loadu_ps(q.add(g * n + i + 8)), xb, b[g]);
            }
            i += 32;
        }
    }
    (a, b)
}

pub fn pv_accumulate(probs: &[f32], values: KvRows, head_dim: usize, out: &mut [f32]) {
    require_avx2();
    // SAFETY: features checked above; the caller checked that out and probs are whole rows of
    // head_dim and of the value rows, and that values are whole rows (of whole Q8_0 blocks).
    unsafe {
        match values {
            KvRows::F16(_) => pv_groups::<false>(probs, values, head_dim, out),
            KvRows::Q8(_) => pv_groups::<true>(probs, values, head_dim, out),
        }
    }
}

/// [`pv_accumulate`] for rows of one format, `QUERY_BLOCK` output rows at a time.
///
/// # Safety
/// AVX2, FMA and F16C are present, and the slices are as [`pv_accumulate`]'s caller checked.
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn pv_groups<const Q8: bool>(probs: &[f32], values: KvRows, head_dim: usize, out: &mut [f32]) {
    let (rows, row_bytes, base) = (values.rows(head_dim), values.row_bytes(head_dim), values.as_ptr());
    for (p, o) in probs.chunks(QUERY_BLOCK * rows).zip(out.chunks_mut(QUERY_BLOCK * head_dim)) {
        // SAFETY: o holds the block's output rows of head_dim each, p their rows of
        // probabilities, and values `rows` whole rows (the caller's guarantee).
        unsafe {
            match o.len() / head_dim {
                1 => pv_block::<1, Q8>(p, base, row_bytes, o),
                2 => pv_block::<2, Q8>(p, base, row_bytes, o),
                3 => pv_block::<3, Q8>(p, base, row_bytes, o),
                _ => pv_block::<QUERY_BLOCK, Q8>(p, base, row_bytes, o),
            }
        }
    }
}

/// Positions whose value rows one pass over the output columns takes: 64 rows of 128 F16 values
/// are 16 KB, which stay in L1 while the columns are swept.
const PV_TILE: usize = 64;

/// Each value row is widened 8 elements at a time and added into the `G` output rows, mul then
/// add (not fma) so each lane rounds like the scalar `o + p·v`, positions in order. Eight
/// columns of the `G` outputs stay in registers while a tile of positions is added into them,
/// rather than being loaded and stored again for every position; each output still takes its
/// positions one after another, so the sums are the same to the bit.
///
/// # Safety
/// `out` holds `G` rows of head_dim, `probs` `G` rows of one value per value row, and `values`
/// that many rows of `row_bytes` (F16, or Q8_0 when `Q8`).
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn pv_block<const G: usize, const Q8: bool>(
    probs: &[f32],
    values: *const u8,
    row_bytes: usize,
    out: &mut [f32],
) {
    let head_dim = out.len() / G;
    let rows = probs.len() / G;
    let eights = head_dim / 8 * 8;
    let o = out.as_mut_ptr();
    for tile in (0..rows).step_by(PV_TILE) {
        let tile = tile..(tile + PV_TILE).min(rows);
        let mut i = 0;
        while i < eights {
            // SAFETY: the columns swept end at or below eights <= head_dim, the length of each
            // value row and of each of the G output rows; the tile's rows are below `rows`.
            unsafe {
                if i + 16 <= eights {
                    pv_columns::<G, 2, Q8>(probs, rows, values, row_bytes, tile.clone(), o, head_dim, i);
                    i += 16;
                } else {
                    pv_columns::<G, 1, Q8>(probs, rows, values, row_bytes, tile.clone(), o, head_dim, i);
                    i += 8;
                }
            }
        }
        if eights < head_dim {
            for j in tile {
                // SAFETY: an F16 row (Q8_0 rows are whole blocks of 32) of head_dim values.
                let v = unsafe { std::slice::from_raw_parts(values.add(j * row_bytes) as *const f16, head_dim) };
                for (g, o) in out.chunks_exact_mut(head_dim).enumerate() {
                    axpy_f16_ref(&mut o[eights..], probs[g * rows + j], &v[eights..]);
                }
            }
        }
    }
}

/// Adds the positions of `tile` into columns `i..i + 8·C` of the `G` output rows: the `G·C`
/// sums are independent chains, so two column groups keep the adds from waiting on each other's
/// latency (each output still takes the positions in order).
///
/// # Safety
/// As for [`pv_block`], with `i + 8·C` at most the row length and `tile` below `rows`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
#[allow(clippy::too_many_arguments)]
unsafe fn pv_columns<const G: usize, const C: usize, const Q8: bool>(
    probs: &[f32],
    rows: usize,
    values: *const u8,
    row_bytes: usize,
    tile: std::ops::Range<usize>,
    out: *mut f32,
    head_dim: usize,
    i: usize,
) {
    // SAFETY: forwarded from the caller.
    unsafe {
        let mut acc: [[__m256; C]; G] =
            std::array::from_fn(|g| std::array::from_fn(|c| _mm256_loadu_ps(out.add(g * head_dim + i + 8 * c))));
        for j in tile {
            let row = values.add(j * row_bytes);
            let x: [__m256; C] = std::array::from_fn(|c| load8::<Q8>(row, i + 8 * c));
            for (g, acc) in acc.iter_mut().enumerate() {
                let p = _mm256_broadcast_ss(&probs[g * rows + j]);
                for (acc, x) in acc.iter_mut().zip(&x) {
                    *acc = _mm256_add_ps(*acc, _mm256_mul_ps(p, *x));
                }
            }
        }
        for (g, acc) in acc.iter().enumerate() {
            for (c, acc) in acc.iter().enumerate() {
                _mm256_storeu_ps(out.add(g * head_dim + i + 8 * c), *acc);
            }
        }
    }
}

pub fn round_f16(x: &mut [f32]) {
    require_avx2();
    // SAFETY: features checked above.
    unsafe { round_f16_body(x) }
}

#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn round_f16_body(x: &mut [f32]) {
    let eights = x.len() / 8 * 8;
    for i in (0..eights).step_by(8) {
        // SAFETY: i + 8 <= eights <= x.len().
        unsafe {
            let at = x.as_mut_ptr().add(i);
            let half = _mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(_mm256_loadu_ps(at));
            _mm256_storeu_ps(at, _mm256_cvtph_ps(half));
        }
    }
    crate::kernels::attn::round_f16_ref(&mut x[eights..]);
}

//! AVX2 + FMA + F16C attention kernels for a group of query heads sharing a KV head: each F16
//! row is widened once and used for every query of the group.

use std::arch::x86_64::*;

use half::f16;

use super::avx2::{hsum, load_f16x8, require_avx2};
use crate::kernels::dot::{axpy_f16_ref, dot_seq};

/// Queries per block: their 2·4 live accumulators and two key vectors fit the 16 ymm registers.
const QUERY_BLOCK: usize = 4;

pub fn qk_dots(queries: &[f32], keys: &[f16], head_dim: usize, dots: &mut [f32]) {
    require_avx2();
    let rows = keys.len() / head_dim;
    for (q, d) in queries.chunks(QUERY_BLOCK * head_dim).zip(dots.chunks_mut(QUERY_BLOCK * rows)) {
        // SAFETY: features checked above; q holds the block's queries of head_dim each, d their
        // rows of dots, and keys whole rows of head_dim (checked by the caller).
        unsafe {
            match q.len() / head_dim {
                1 => qk_block::<1>(q, keys, d),
                2 => qk_block::<2>(q, keys, d),
                3 => qk_block::<3>(q, keys, d),
                _ => qk_block::<QUERY_BLOCK>(q, keys, d),
            }
        }
    }
}

/// # Safety
/// `queries` holds `G` rows of the key rows' length, `dots` `G` rows of one dot per key row.
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn qk_block<const G: usize>(queries: &[f32], keys: &[f16], dots: &mut [f32]) {
    let head_dim = queries.len() / G;
    let rows = dots.len() / G;
    for (j, k) in keys.chunks_exact(head_dim).enumerate() {
        // SAFETY: forwarded from the caller.
        let d = unsafe { qk_row::<G>(queries, k) };
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
/// `q` holds `G` rows of `k.len()`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn qk_row<const G: usize>(q: &[f32], k: &[f16]) -> [f32; G] {
    let n = k.len();
    let (steps, eights) = (n / 32 * 32, n / 8 * 8);
    let (qp, kp) = (q.as_ptr(), k.as_ptr());
    // SAFETY: every load reads 8 values at offsets below `eights` <= n, in k and in each query row.
    let sums = unsafe {
        let (mut acc0, acc1) = lane_pair::<G>(qp, kp, n, steps, 0);
        let mut i = steps;
        while i < eights {
            let x = load_f16x8(kp.add(i));
            for (g, acc) in acc0.iter_mut().enumerate() {
                *acc = _mm256_fmadd_ps(_mm256_loadu_ps(qp.add(g * n + i)), x, *acc);
            }
            i += 8;
        }
        let (acc2, acc3) = lane_pair::<G>(qp, kp, n, steps, 2);
        let mut sums = [_mm256_setzero_ps(); G];
        for (g, s) in sums.iter_mut().enumerate() {
            *s = _mm256_add_ps(_mm256_add_ps(acc0[g], acc1[g]), _mm256_add_ps(acc2[g], acc3[g]));
        }
        sums
    };
    let mut dots = sums.map(|s| hsum(s));
    // The one-query kernel adds the tail's sum even when it is empty; that is -0.0, a no-op.
    if eights < n {
        for (g, d) in dots.iter_mut().enumerate() {
            *d += dot_seq(&q[g * n + eights..(g + 1) * n], &k[eights..]);
        }
    }
    dots
}

/// Accumulators `first` and `first + 1` of the 32-element steps below `steps`, for `G` queries.
///
/// # Safety
/// `q` points to `G` rows of `n` f32 and `k` to `n` f16, with `steps <= n`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn lane_pair<const G: usize>(
    q: *const f32,
    k: *const f16,
    n: usize,
    steps: usize,
    first: usize,
) -> ([__m256; G], [__m256; G]) {
    let (mut a, mut b) = ([_mm256_setzero_ps(); G], [_mm256_setzero_ps(); G]);
    let mut i = 8 * first;
    // SAFETY: i + 16 <= steps on every iteration, so all loads lie within the rows.
    unsafe {
        while i + 16 <= steps {
            let (xa, xb) = (load_f16x8(k.add(i)), load_f16x8(k.add(i + 8)));
            for g in 0..G {
                a[g] = _mm256_fmadd_ps(_mm256_loadu_ps(q.add(g * n + i)), xa, a[g]);
                b[g] = _mm256_fmadd_ps(_mm256_loadu_ps(q.add(g * n + i + 8)), xb, b[g]);
            }
            i += 32;
        }
    }
    (a, b)
}

pub fn pv_accumulate(probs: &[f32], values: &[f16], head_dim: usize, out: &mut [f32]) {
    require_avx2();
    let rows = values.len() / head_dim;
    for (p, o) in probs.chunks(QUERY_BLOCK * rows).zip(out.chunks_mut(QUERY_BLOCK * head_dim)) {
        // SAFETY: features checked above; o holds the block's output rows of head_dim each, p
        // their rows of probabilities, and values whole rows of head_dim (checked by the caller).
        unsafe {
            match o.len() / head_dim {
                1 => pv_block::<1>(p, values, o),
                2 => pv_block::<2>(p, values, o),
                3 => pv_block::<3>(p, values, o),
                _ => pv_block::<QUERY_BLOCK>(p, values, o),
            }
        }
    }
}

/// Each value row is widened 8 elements at a time and added into the `G` output rows, mul then
/// add (not fma) so each lane rounds like the scalar `o + p·v`, positions in order.
///
/// # Safety
/// `out` holds `G` rows of the value rows' length, `probs` `G` rows of one value per value row.
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn pv_block<const G: usize>(probs: &[f32], values: &[f16], out: &mut [f32]) {
    let head_dim = out.len() / G;
    let rows = probs.len() / G;
    let eights = head_dim / 8 * 8;
    for (j, v) in values.chunks_exact(head_dim).enumerate() {
        let o = out.as_mut_ptr();
        let p: [f32; G] = std::array::from_fn(|g| probs[g * rows + j]);
        let pv = p.map(|p| _mm256_set1_ps(p));
        for i in (0..eights).step_by(8) {
            // SAFETY: i + 8 <= eights <= head_dim, the length of v and of each of the G output rows.
            unsafe {
                let x = load_f16x8(v.as_ptr().add(i));
                for (g, &pg) in pv.iter().enumerate() {
                    let at = o.add(g * head_dim + i);
                    _mm256_storeu_ps(at, _mm256_add_ps(_mm256_loadu_ps(at), _mm256_mul_ps(pg, x)));
                }
            }
        }
        if eights < head_dim {
            for (o, &p) in out.chunks_exact_mut(head_dim).zip(&p) {
                axpy_f16_ref(&mut o[eights..], p, &v[eights..]);
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

//! Weight rows of a block-quantized type dotted with block-int8 activations ([`act_q8`]),
//! dispatched on the type and the kernel path: Q4_0 … Q8_0 take blocks of 32 ([`block_dot`]),
//! TQ1_0 and TQ2_0 blocks of 256 ([`tq_dot`]). Every path equals the type's scalar reference bit
//! for bit.
//!
//! [`act_q8`]: super::act_q8

use crate::gguf::TensorType;

use super::act_q8::{ActBlocks, QK_K};
use super::dispatch::KernelPath;
use super::{block_dot, tq_dot};

/// Bytes of one weight row whose activations are `a`.
fn row_bytes(ty: TensorType, a: ActBlocks) -> usize {
    if tq_dot::supports(ty) {
        a.q.len() / QK_K * tq_dot::block_bytes(ty)
    } else {
        block_dot::row_bytes(ty, a.q.len())
    }
}

/// The scalar reference of `ty`.
fn dot_ref(ty: TensorType, w: &[u8], a: ActBlocks) -> f32 {
    if tq_dot::supports(ty) {
        tq_dot::dot_ref(ty, w, a)
    } else {
        block_dot::dot_ref(ty, w, a)
    }
}

/// `out[i] = scale · Σ w_i·x` for consecutive rows `w` (each `a.q.len()` weights) against one
/// quantized activation row, on `path`. One call covers many rows, so dispatch costs nothing per
/// row; the type table calls it on the active path, tests on each.
pub fn dot_rows_on(path: KernelPath, ty: TensorType, w: &[u8], a: ActBlocks, scale: f32, out: &mut [f32]) {
    let row_bytes = row_bytes(ty, a);
    assert!(w.len() >= out.len() * row_bytes, "{} rows of {row_bytes} bytes", out.len());
    match path {
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2 | KernelPath::Avx512 if tq_dot::supports(ty) => {
            super::x86::tq::dot_rows_avx2(ty, w, a, scale, out)
        }
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2 | KernelPath::Avx512 => super::x86::blocks::dot_rows_avx2(ty, w, a, scale, out),
        _ => each_row(w, row_bytes, out.len(), out, [0], |row| [dot_ref(ty, row, a) * scale]),
    }
}

/// Four activation rows at once: `out[at[k] + i] = scale · Σ w_i·x_k`, equal bit for bit to four
/// [`dot_rows_on`] calls; each weight block is unpacked once for the four tokens. A padded group
/// (its last rows repeating, `types::quad`) computes its distinct rows only.
pub fn dot_rows_x4_on(
    path: KernelPath,
    ty: TensorType,
    w: &[u8],
    a: [ActBlocks; 4],
    scale: f32,
    out: &mut [f32],
    at: [usize; 4],
) {
    let distinct = distinct_rows(a.map(|a| a.q.as_ptr()));
    match distinct {
        2 => dot_rows_xt_on(path, ty, w, [a[0], a[1]], scale, out, [at[0], at[1]]),
        3 => dot_rows_xt_on(path, ty, w, [a[0], a[1], a[2]], scale, out, [at[0], at[1], at[2]]),
        _ => dot_rows_xt_on(path, ty, w, a, scale, out, at),
    }
    // The repeated rows' results are the last distinct row's.
    let (rows, last) = (w.len() / row_bytes(ty, a[0]), at[distinct - 1]);
    for &to in &at[distinct..] {
        if to != last {
            out.copy_within(last..last + rows, to);
        }
    }
}

/// How many of a group's four activation rows are distinct when its last ones repeat (2 at
/// least: the two-token kernels are the smallest).
pub fn distinct_rows<P: PartialEq>(rows: [P; 4]) -> usize {
    let mut n = 4;
    while n > 2 && rows[n - 1] == rows[n - 2] {
        n -= 1;
    }
    n
}

fn dot_rows_xt_on<const T: usize>(
    path: KernelPath,
    ty: TensorType,
    w: &[u8],
    a: [ActBlocks; T],
    scale: f32,
    out: &mut [f32],
    at: [usize; T],
) {
    match path {
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2 | KernelPath::Avx512 if tq_dot::supports(ty) => {
            super::x86::tq::dot_rows_xt_avx2(ty, w, a, scale, out, at)
        }
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2 | KernelPath::Avx512 => super::x86::blocks::dot_rows_xt_avx2(ty, w, a, scale, out, at),
        _ => {
            let row_bytes = row_bytes(ty, a[0]);
            each_row(w, row_bytes, w.len() / row_bytes, out, at, |row| a.map(|a| dot_ref(ty, row, a) * scale));
        }
    }
}

/// Stores `dot(row i)`, one result per token k < `T`, at `out[at[k] + i]` for the first `rows`
/// rows of `row_bytes` in `w`.
pub fn each_row<const T: usize>(
    w: &[u8],
    row_bytes: usize,
    rows: usize,
    out: &mut [f32],
    at: [usize; T],
    mut dot: impl FnMut(&[u8]) -> [f32; T],
) {
    for (i, row) in w.chunks_exact(row_bytes).take(rows).enumerate() {
        for (k, y) in dot(row).into_iter().enumerate() {
            out[at[k] + i] = y;
        }
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::kernels::act_q8::BlockActs;
    use crate::kernels::dequant::dequantize_row;

    /// Asserts that [`dot_rows_on`] of the row `w` with `x` quantized in blocks of `N` is within the
    /// activations' rounding of the exact dot of the dequantized weights: each activation moves by
    /// at most half a step, max|x|/254.
    pub fn assert_near_dequantized<const N: usize>(ty: TensorType, w: &[u8], x: &[f32]) {
        let mut acts = BlockActs::<N>::default();
        acts.quantize(x, x.len());
        let mut wf = vec![0f32; x.len()];
        dequantize_row(ty, w, 1.0, &mut wf);
        let exact: f64 = wf.iter().zip(x).map(|(&a, &b)| a as f64 * b as f64).sum();
        let norm: f64 = wf.iter().zip(x).map(|(&a, &b)| (a as f64 * b as f64).abs()).sum();
        let abs_w: f64 = wf.iter().map(|&v| v.abs() as f64).sum();
        let max_x = x.iter().fold(0f32, |m, v| m.max(v.abs())) as f64;
        let mut got = [0f32];
        dot_rows_on(crate::kernels::dispatch::active(), ty, w, acts.row(0), 1.0, &mut got);
        let (got, bound) = (got[0] as f64, abs_w * max_x / 254.0 + norm * 1e-6);
        assert!((got - exact).abs() <= bound, "{ty:?}: {got} vs {exact} (bound {bound})");
    }
}

#[cfg(test)]
mod tests {
    use super::distinct_rows;

    #[test]
    fn only_repeats_at_the_end_shrink_a_group() {
        assert_eq!(distinct_rows([1, 2, 3, 4]), 4);
        assert_eq!(distinct_rows([1, 2, 3, 3]), 3);
        assert_eq!(distinct_rows([1, 2, 2, 2]), 2);
        assert_eq!(distinct_rows([1, 1, 1, 1]), 2);
        assert_eq!(distinct_rows([1, 1, 2, 3]), 4);
        assert_eq!(distinct_rows([1, 2, 1, 2]), 4);
    }
}

//! I2_S × int8 row dot products on a kernel path. The integer result is exact on every path, so
//! each SIMD kernel must equal [`i2_s::dot_codes_ref`] bit for bit.

use super::act_i8::{rescale, QuantRow, Rescale4};
use super::block_rows::{distinct_rows, each_row};
use super::dispatch::KernelPath;
use super::i2_s;

/// `out[i] = scale · Σ w_i·x` for consecutive rows of `row_bytes` in `w` (one per output) against
/// one int8 activation row: BitNet's BitLinear output.
pub fn dot_rows_on(path: KernelPath, w: &[u8], row_bytes: usize, a: &QuantRow, scale: f32, out: &mut [f32]) {
    let rows = w.len() / row_bytes;
    each_row(w, row_bytes, rows, out, [0], |row| [rescale(dot_codes_on(path, row, &a.q), a, scale)]);
}

/// [`dot_rows_on`] for four activation rows: `out[at[k] + i]`. Rows go to the kernels two at a
/// time. A padded group, whose last rows repeat (`types::quad`), computes its distinct rows only:
/// the kernels' arithmetic grows with the tokens.
pub fn dot_rows_x4_on(
    path: KernelPath,
    w: &[u8],
    row_bytes: usize,
    a: [&QuantRow; 4],
    scale: f32,
    out: &mut [f32],
    at: [usize; 4],
) {
    match distinct_rows(a.map(|a| a as *const QuantRow)) {
        2 => dot_rows_2xt::<2>(path, w, row_bytes, a, scale, out, at),
        3 => dot_rows_2xt::<3>(path, w, row_bytes, a, scale, out, at),
        _ => dot_rows_2xt::<4>(path, w, row_bytes, a, scale, out, at),
    }
}

/// [`dot_rows_x4_on`] through the kernels for the first `T` rows of `a`; rows past them repeat
/// row `T − 1`, so they take its results.
fn dot_rows_2xt<const T: usize>(
    path: KernelPath,
    w: &[u8],
    row_bytes: usize,
    a: [&QuantRow; 4],
    scale: f32,
    out: &mut [f32],
    at: [usize; 4],
) {
    let rescale = Rescale4::new_on(path, a);
    let q: [&[i8]; T] = std::array::from_fn(|t| &a[t].q[..]);
    let rows = w.len() / row_bytes;
    let mut store = |i: usize, acc: [i32; T]| {
        let acc = std::array::from_fn(|k| acc[k.min(T - 1)]);
        for (k, y) in rescale.apply(acc, scale).into_iter().enumerate() {
            out[at[k] + i] = y;
        }
    };
    let pairs = w[..rows * row_bytes].chunks_exact(2 * row_bytes);
    let odd = pairs.remainder();
    for (i, pair) in pairs.enumerate() {
        let [first, second] = dot_codes_2xt_on(path, [&pair[..row_bytes], &pair[row_bytes..]], q);
        store(2 * i, first);
        store(2 * i + 1, second);
    }
    if !odd.is_empty() {
        store(rows - 1, dot_codes_2xt_on(path, [odd, odd], q)[0]);
    }
}

/// Σ code·q over one row of packed I2_S codes (`q.len()` = elements of the row).
pub fn dot_codes_on(path: KernelPath, packed: &[u8], q: &[i8]) -> i32 {
    match path {
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2 => super::x86::i2s::dot_avx2(packed, q),
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx512 => super::x86::i2s::dot_avx512(packed, q),
        _ => i2_s::dot_codes_ref(packed, q),
    }
}

/// Two rows against `T` (1 to 4) activation rows at once: each weight block is unpacked once for
/// the tokens, each activation load serves both rows.
pub fn dot_codes_2xt_on<const T: usize>(path: KernelPath, packed: [&[u8]; 2], q: [&[i8]; T]) -> [[i32; T]; 2] {
    match path {
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2 => super::x86::i2s::dot_2xt_avx2(packed, q),
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx512 => super::x86::i2s::dot_2xt_avx512(packed, q),
        _ => packed.map(|row| q.map(|qt| i2_s::dot_codes_ref(row, qt))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Two rows of packed codes and four activation rows.
    fn rows(blocks: usize, seed: u64) -> ([Vec<u8>; 2], Vec<Vec<i8>>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // Codes 0..=2 only, as files hold; activations over the whole i8 range.
        let packed = [0, 1]
            .map(|_| (0..blocks * 32).map(|_| (0..4).fold(0u8, |b, _| (b << 2) | rng.random_range(0..3u8))).collect());
        let acts = (0..4).map(|_| (0..blocks * 128).map(|_| rng.random::<i8>()).collect()).collect();
        (packed, acts)
    }

    proptest! {
        #[test]
        fn every_path_equals_the_reference(blocks in 1usize..70, seed in any::<u64>()) {
            let (packed, acts) = rows(blocks, seed);
            let want = packed.each_ref().map(|row| [0, 1, 2, 3].map(|t| i2_s::dot_codes_ref(row, &acts[t])));
            for path in KernelPath::available() {
                for (t, q) in acts.iter().enumerate() {
                    prop_assert_eq!(dot_codes_on(path, &packed[0], q), want[0][t], "{:?}", path);
                }
                let pair = [&packed[0][..], &packed[1][..]];
                let got = dot_codes_2xt_on(path, pair, [&acts[0], &acts[1], &acts[2], &acts[3]].map(|q| &q[..]));
                prop_assert_eq!(got, want, "{:?} 2x4", path);
                let got = dot_codes_2xt_on(path, pair, [&acts[0], &acts[1], &acts[2]].map(|q| &q[..]));
                prop_assert_eq!(got, want.map(|w| [w[0], w[1], w[2]]), "{:?} 2x3", path);
                let got = dot_codes_2xt_on(path, pair, [&acts[0], &acts[1]].map(|q| &q[..]));
                prop_assert_eq!(got, want.map(|w| [w[0], w[1]]), "{:?} 2x2", path);
            }
        }
    }

    #[test]
    fn extremes_do_not_overflow() {
        // All codes 2 (+1 weights) against −128 and +127: the largest 16-bit partial sums.
        for blocks in [1, 7, 8, 9, 16, 54] {
            let packed = vec![0b1010_1010u8; blocks * 32];
            for v in [-128i8, 127] {
                let q = vec![v; blocks * 128];
                for path in KernelPath::available() {
                    assert_eq!(dot_codes_on(path, &packed, &q), 2 * v as i32 * (blocks * 128) as i32, "{path:?}");
                }
            }
        }
    }
}

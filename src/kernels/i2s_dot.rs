//! I2_S × int8 row dot products on a kernel path. The integer result is exact on every path, so
//! each SIMD kernel must equal [`i2_s::dot_codes_ref`] bit for bit.

use super::act_i8::{rescale, QuantRow, Rescale4};
use super::block_rows::each_row;
use super::dispatch::KernelPath;
use super::i2_s;

/// `out[i] = scale · Σ w_i·x` for consecutive rows of `row_bytes` in `w` (one per output) against
/// one int8 activation row: BitNet's BitLinear output.
pub fn dot_rows_on(path: KernelPath, w: &[u8], row_bytes: usize, a: &QuantRow, scale: f32, out: &mut [f32]) {
    let rows = w.len() / row_bytes;
    each_row(w, row_bytes, rows, out, 1, |row| [rescale(dot_codes_on(path, row, &a.q), a, scale)]);
}

/// [`dot_rows_on`] for four activation rows, token-major: `out[k·stride + i]`.
pub fn dot_rows_x4_on(
    path: KernelPath,
    w: &[u8],
    row_bytes: usize,
    a: [&QuantRow; 4],
    scale: f32,
    out: &mut [f32],
    stride: usize,
) {
    let rescale = Rescale4::new_on(path, a);
    let q = [&a[0].q[..], &a[1].q[..], &a[2].q[..], &a[3].q[..]];
    each_row(w, row_bytes, w.len() / row_bytes, out, stride, |row| rescale.apply(dot_codes_x4_on(path, row, q), scale));
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

/// The same row against four activation rows at once: each weight block is unpacked once.
pub fn dot_codes_x4_on(path: KernelPath, packed: &[u8], q: [&[i8]; 4]) -> [i32; 4] {
    match path {
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2 => super::x86::i2s::dot_x4_avx2(packed, q),
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx512 => super::x86::i2s::dot_x4_avx512(packed, q),
        _ => q.map(|qt| i2_s::dot_codes_ref(packed, qt)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn row(blocks: usize, seed: u64) -> (Vec<u8>, Vec<Vec<i8>>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // Codes 0..=2 only, as files hold; activations over the whole i8 range.
        let packed = (0..blocks * 32).map(|_| (0..4).fold(0u8, |b, _| (b << 2) | rng.random_range(0..3u8))).collect();
        let acts = (0..4).map(|_| (0..blocks * 128).map(|_| rng.random::<i8>()).collect()).collect();
        (packed, acts)
    }

    proptest! {
        #[test]
        fn every_path_equals_the_reference(blocks in 1usize..70, seed in any::<u64>()) {
            let (packed, acts) = row(blocks, seed);
            let want: Vec<i32> = acts.iter().map(|q| i2_s::dot_codes_ref(&packed, q)).collect();
            for path in KernelPath::available() {
                for (q, w) in acts.iter().zip(&want) {
                    prop_assert_eq!(dot_codes_on(path, &packed, q), *w, "{:?}", path);
                }
                let x4 = dot_codes_x4_on(path, &packed, [&acts[0], &acts[1], &acts[2], &acts[3]]);
                prop_assert_eq!(x4.to_vec(), want.clone(), "{:?} x4", path);
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

//! Q6_K (6.5625 bpw): 256 weights per super-block = `ql[128]` (low 4 bits), `qh[64]` (high 2
//! bits), 16 i8 sub-block scales, f16 `d`; value = d·scale·(q − 32). Matches ggml's
//! `dequantize_row_q6_K`: each 128-half takes 64 bytes of `ql`, 32 of `qh` and 8 scales.

use half::f16;

use super::act_i8::round_half_even;
use super::block_layout::BlockQ6K;
use super::float::f16_at;

pub const Q6_K_BYTES: usize = size_of::<BlockQ6K>();
/// Weights per super-block.
pub const Q6_K_WEIGHTS: usize = 256;
/// Where the super-block's parts start.
const QH_AT: usize = std::mem::offset_of!(BlockQ6K, qh);
const SCALES_AT: usize = std::mem::offset_of!(BlockQ6K, scales);
const D_AT: usize = std::mem::offset_of!(BlockQ6K, d);

/// The super-block's scale `d`.
pub fn super_scale(block: &[u8]) -> f32 {
    f16_at(&block[D_AT..], 0)
}

/// Weights 32j..32j+32 of a super-block (j < 8) as q − 32. Quarter j % 4 of half j / 4 takes
/// `ql` bytes 0..32 or 32..64 of the half (low nibbles for quarters 0, 1, high for 2, 3) and bit
/// pair j % 4 of the half's 32 `qh` bytes.
fn centred_values(block: &[u8], j: usize) -> [i8; 32] {
    let (half, quarter) = (j / 4, j % 4);
    let ql = &block[64 * half + 32 * (quarter % 2)..][..32];
    let qh = &block[QH_AT + 32 * half..][..32];
    let (lo_shift, hi_shift) = (4 * (quarter / 2), 2 * quarter);
    std::array::from_fn(|l| (((ql[l] >> lo_shift) & 0xf) | (((qh[l] >> hi_shift) & 3) << 4)) as i8 - 32)
}

/// The i8 scales of the two 16-weight sub-blocks in weights 32j..32j+32.
fn scale_pair(block: &[u8], j: usize) -> [i32; 2] {
    [block[SCALES_AT + 2 * j] as i8 as i32, block[SCALES_AT + 2 * j + 1] as i8 as i32]
}

/// Σ scale·(q − 32)·a over weights 32j..32j+32 of a super-block and 32 int8 activations (the
/// super-block's `d` is applied in float).
pub fn block_isum_q6_k(block: &[u8], j: usize, a: &[i8]) -> i32 {
    let q = centred_values(block, j);
    let scales = scale_pair(block, j);
    (0..2).map(|s| scales[s] * (16 * s..16 * s + 16).map(|l| q[l] as i32 * a[l] as i32).sum::<i32>()).sum()
}

pub fn dequantize_row_q6_k(bytes: &[u8], out: &mut [f32]) {
    for (block, y) in bytes.chunks_exact(Q6_K_BYTES).zip(out.chunks_exact_mut(Q6_K_WEIGHTS)) {
        let d = super_scale(block);
        for (j, y) in y.chunks_exact_mut(32).enumerate() {
            let (q, scales) = (centred_values(block, j), scale_pair(block, j));
            for (l, y) in y.iter_mut().enumerate() {
                *y = d * scales[l / 16] as f32 * q[l] as f32;
            }
        }
    }
}

/// ggml's `nearest_int`: round half to even (the same 1.5·2²³ trick).
fn nearest_int(v: f32) -> i32 {
    round_half_even(v) as i32
}

/// Below this largest |x| a group counts as all zero (ggml's `GROUP_MAX_EPS`).
const GROUP_MAX_EPS: f32 = 1e-15;

/// ggml's `make_qx_quants(16, 32, x, L, 1, NULL)`: the scale of one 16-weight sub-block, fitted
/// by least squares weighted by x² over 19 candidate roundings, and its levels `q` (0..64) in
/// `levels`. The scale is signed so that the value of largest magnitude maps near −32.
fn sub_block_scale(x: &[f32], levels: &mut [u8]) -> f32 {
    const NMAX: i32 = 32;
    let (mut max, mut amax) = (0f32, 0f32);
    for &v in x {
        if v.abs() > amax {
            (amax, max) = (v.abs(), v);
        }
    }
    if amax < GROUP_MAX_EPS {
        levels.fill(0);
        return 0.0;
    }
    let level = |iscale: f32, v: f32| nearest_int(iscale * v).clamp(-NMAX, NMAX - 1);
    // Σ w·x·l and Σ w·l², w = x², in ggml's order.
    let fit = |iscale: f32| {
        x.iter().fold((0f32, 0f32), |(sumlx, suml2), &v| {
            let (l, w) = (level(iscale, v) as f32, v * v);
            (sumlx + w * v * l, suml2 + w * l * l)
        })
    };
    let set_levels = |levels: &mut [u8], iscale: f32| {
        for (q, &v) in levels.iter_mut().zip(x) {
            *q = (level(iscale, v) + NMAX) as u8;
        }
    };
    let iscale = -(NMAX as f32) / max;
    set_levels(levels, iscale);
    let (sumlx, suml2) = fit(iscale);
    let mut scale = if suml2 != 0.0 { sumlx / suml2 } else { 0.0 };
    let mut best = scale * sumlx;
    for is in (-9..=9).filter(|&is| is != 0) {
        let iscale = -(NMAX as f32 + 0.1 * is as f32) / max;
        let (sumlx, suml2) = fit(iscale);
        if suml2 > 0.0 && sumlx * sumlx > best * suml2 {
            set_levels(levels, iscale);
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    scale
}

/// Quantizes `x` (a multiple of 256 long) to Q6_K super-blocks appended to `out`, as ggml's
/// `quantize_row_q6_K_ref`: a fitted scale per 16 weights, those scales as i8 steps of `d` with
/// the largest at −128, then each weight rounded against its quantized scale.
pub fn quantize_row_q6_k(x: &[f32], out: &mut Vec<u8>) {
    for x in x.chunks_exact(Q6_K_WEIGHTS) {
        let mut levels = [0u8; Q6_K_WEIGHTS];
        let mut scales = [0f32; 16];
        let (mut max_scale, mut max_abs_scale) = (0f32, 0f32);
        for ((scale, x), levels) in scales.iter_mut().zip(x.chunks_exact(16)).zip(levels.chunks_exact_mut(16)) {
            *scale = sub_block_scale(x, levels);
            if scale.abs() > max_abs_scale {
                (max_abs_scale, max_scale) = (scale.abs(), *scale);
            }
        }
        if max_abs_scale < GROUP_MAX_EPS {
            out.resize(out.len() + Q6_K_BYTES, 0);
            continue;
        }
        let iscale = -128.0 / max_scale;
        let d = f16::from_f32(1.0 / iscale);
        let qscales = scales.map(|s| nearest_int(iscale * s).min(127) as i8);
        for ((&qscale, x), levels) in qscales.iter().zip(x.chunks_exact(16)).zip(levels.chunks_exact_mut(16)) {
            let step = d.to_f32() * qscale as f32;
            // A zero step keeps the fit's levels (they dequantize to 0 either way), as ggml does.
            if step == 0.0 {
                continue;
            }
            for (q, &v) in levels.iter_mut().zip(x) {
                *q = (nearest_int(v / step).clamp(-32, 31) + 32) as u8;
            }
        }
        let (mut ql, mut qh) = ([0u8; 128], [0u8; 64]);
        for half in 0..2 {
            let levels = &levels[128 * half..];
            for l in 0..32 {
                let q = [levels[l], levels[l + 32], levels[l + 64], levels[l + 96]];
                ql[64 * half + l] = (q[0] & 0xf) | ((q[2] & 0xf) << 4);
                ql[64 * half + l + 32] = (q[1] & 0xf) | ((q[3] & 0xf) << 4);
                qh[32 * half + l] = (q[0] >> 4) | ((q[1] >> 4) << 2) | ((q[2] >> 4) << 4) | ((q[3] >> 4) << 6);
            }
        }
        out.extend(ql);
        out.extend(qh);
        out.extend(qscales.map(|s| s as u8));
        out.extend(d.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn round_trip(x: &[f32]) -> (Vec<u8>, Vec<f32>) {
        let mut bytes = Vec::new();
        quantize_row_q6_k(x, &mut bytes);
        assert_eq!(bytes.len(), x.len() / Q6_K_WEIGHTS * Q6_K_BYTES);
        let mut back = vec![0f32; x.len()];
        dequantize_row_q6_k(&bytes, &mut back);
        (bytes, back)
    }

    #[test]
    fn hand_built_block() {
        let mut block = vec![0u8; Q6_K_BYTES];
        block[0] = 0x21; // ql[0]: elem 0 low = 1, elem 64 low = 2
        block[128] = 0b11_10_01_00; // qh[0]: elem 0 hi 0, elem 32 hi 1, elem 64 hi 2, elem 96 hi 3
        block[192] = 2; // scale of elems 0..16
        block[194] = 0xff; // scale of elems 32..48 = -1
        block[196] = 3; // scale of elems 64..80
        block[198] = 1; // scale of elems 96..112
        block[208..210].copy_from_slice(&[0x00, 0x38]); // d = 0.5
        let mut out = [0f32; 256];
        dequantize_row_q6_k(&block, &mut out);
        assert_eq!(out[0], 0.5 * 2.0 * (1 - 32) as f32);
        assert_eq!(out[32], -0.5 * (16 - 32) as f32); // d · scale −1
        assert_eq!(out[64], 0.5 * 3.0 * (2 + 32 - 32) as f32);
        assert_eq!(out[96], 0.5 * 1.0 * (48 - 32) as f32);
        assert_eq!(out[128], 0.0); // second half has scale 0
    }

    #[test]
    fn block_isum_matches_the_dequantized_values() {
        let mut block = vec![0u8; Q6_K_BYTES];
        ChaCha8Rng::seed_from_u64(3).fill(&mut block[..]);
        block[208..210].copy_from_slice(&[0x00, 0x3c]); // d = 1: values are scale·(q − 32)
        let mut w = [0f32; 256];
        dequantize_row_q6_k(&block, &mut w);
        let a: Vec<i8> = (0..256).map(|i| ((i * 37) % 255) as i8).collect();
        for j in 0..8 {
            let want: f32 = (32 * j..32 * j + 32).map(|i| w[i] * a[i] as f32).sum();
            assert_eq!(block_isum_q6_k(&block, j, &a[32 * j..]) as f32, want, "block {j}");
        }
    }

    #[test]
    fn a_hand_checked_ramp() {
        // Every sub-block holds −16..−1: each fits scale 0.5 (levels 2x + 32), the largest scale
        // becomes −128 steps of d = −1/256, and every value comes back exactly.
        let x: Vec<f32> = (0..256).map(|i| (i % 16) as f32 - 16.0).collect();
        let (bytes, back) = round_trip(&x);
        assert_eq!(back, x);
        assert_eq!(&bytes[208..210], &[0x00, 0x9c]); // f16 −1/256
                                                     // Every sub-block scale is −128.
        assert!(bytes[192..208].iter().all(|&s| s == 0x80));
        // Element 9 (and 73, in the high nibble): value −7 → level 18 = 0b01_0010.
        assert_eq!(bytes[9], 0x22);
        // Its qh byte holds the high bits of elements 9, 41, 73 and 105: all level 18.
        assert_eq!(bytes[128 + 9], 0b01_01_01_01);
    }

    #[test]
    fn representable_rows_round_trip_exactly() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for _ in 0..50 {
            // d = ±2^-k, i8 scales with the largest magnitude at −128, and in each sub-block its
            // largest value at q − 32 = −32: what the quantizer's fits land on.
            let d = if rng.random() { 1.0 } else { -1.0 } * (-(rng.random_range(0..12) as f32)).exp2();
            let mut scales: Vec<i32> = (0..16).map(|_| rng.random_range(-127..=127)).collect();
            scales[rng.random_range(0..16)] = -128;
            let peaks: Vec<usize> = (0..16).map(|_| rng.random_range(0..16)).collect();
            let x: Vec<f32> = (0..256)
                .map(|i| {
                    let q = if i % 16 == peaks[i / 16] { -32 } else { rng.random_range(-31..=31) };
                    d * scales[i / 16] as f32 * q as f32
                })
                .collect();
            assert_eq!(round_trip(&x).1, x, "d {d}, scales {scales:?}");
        }
    }

    #[test]
    fn random_rows_round_trip_within_two_percent() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        // Rows of mixed magnitude: each sub-block has its own spread.
        let x: Vec<f32> = (0..4096).map(|i| rng.random_range(-1.0f32..1.0) * (1.0 + (i / 16 % 7) as f32)).collect();
        let back = round_trip(&x).1;
        let rms = |v: &mut dyn Iterator<Item = f32>| {
            let (sum, n) = v.fold((0f64, 0usize), |(s, n), e| (s + (e as f64).powi(2), n + 1));
            (sum / n as f64).sqrt()
        };
        let err = rms(&mut x.iter().zip(&back).map(|(a, b)| a - b));
        let relative = err / rms(&mut x.iter().copied());
        eprintln!("Q6_K round trip: RMS error / RMS = {relative:.4}");
        assert!(relative < 0.02, "relative RMS error {relative}");
    }

    #[test]
    fn zero_rows_stay_zero() {
        let (bytes, back) = round_trip(&[0.0; 512]);
        assert!(bytes.iter().all(|&b| b == 0));
        assert!(back.iter().all(|&v| v == 0.0));
    }
}

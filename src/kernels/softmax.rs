//! Attention's softmax as ggml computes it on an AVX2 machine (bitnet.cpp's and llama.cpp's
//! `ggml_vec_soft_max_f32`): subtract the max; exponentiate eight values at a time with ggml's
//! vector `expf` (an ARM optimized-routines polynomial, max error 1.45 ulp + 0.5) and add each
//! eight's float sum, reduced in a fixed tree, into an f64 total; the last `len % 8` values take
//! libm's `expf`; finally multiply by (float)(1/total).
//!
//! [`exp8_ref`] is that vector `expf` lane by lane with the same fused operations, so the scalar
//! path and the AVX2 path give the same bits.

use super::dispatch::{active, KernelPath};

/// 1.5·2²³: adding it rounds to an integer held in the low mantissa bits.
pub(crate) const ROUND_SHIFT: f32 = f32::from_bits(0x4b40_0000);
pub(crate) const LOG2_E: f32 = f32::from_bits(0x3fb8_aa3b);
/// ln 2 split in a high part (exact times small integers) and a low correction.
pub(crate) const LN2_HI: f32 = f32::from_bits(0x3f31_7200);
pub(crate) const LN2_LO: f32 = f32::from_bits(0x35bf_be8e);
/// The polynomial for exp(b) − 1 on |b| ≤ ln2/2, highest degree first.
pub(crate) const POLY: [f32; 5] = [
    f32::from_bits(0x3c07_2010),
    f32::from_bits(0x3d2b_9f17),
    f32::from_bits(0x3e2a_af33),
    f32::from_bits(0x3eff_fedb),
    f32::from_bits(0x3f7f_fff6),
];

/// ggml's vector `expf` on one lane. Results past ±126 in the exponent are assembled from two
/// scale factors; past ±192 they are 0 or +∞.
pub fn exp8_ref(x: f32) -> f32 {
    let z = x.mul_add(LOG2_E, ROUND_SHIFT);
    let n = z - ROUND_SHIFT;
    let b = (-n).mul_add(LN2_LO, (-n).mul_add(LN2_HI, x));
    let e = z.to_bits() << 23;
    let k = f32::from_bits(e.wrapping_add(1f32.to_bits()));
    let u = b * b;
    let j = POLY[0].mul_add(b, POLY[1]).mul_add(u, POLY[2].mul_add(b, POLY[3])).mul_add(u, POLY[4] * b);
    if n.abs() <= 126.0 || n.is_nan() {
        return k.mul_add(j, k);
    }
    let g: u32 = if n <= 0.0 { 0x8200_0000 } else { 0 };
    let s1 = f32::from_bits(g.wrapping_add(0x7f00_0000));
    let s2 = f32::from_bits(e.wrapping_sub(g));
    if n.abs() > 192.0 {
        s1 * s1
    } else {
        s2.mul_add(j, s2) * s1
    }
}

/// The float sum of eight values in ggml's AVX2 reduction order: halves, then pairs, then one.
#[inline]
pub fn sum8(v: &[f32; 8]) -> f32 {
    let q: [f32; 4] = std::array::from_fn(|i| v[i + 4] + v[i]);
    let (p0, p1) = (q[0] + q[2], q[1] + q[3]);
    p0 + p1
}

/// Softmax of `x` in place (scores already scaled and masked).
pub fn softmax(x: &mut [f32]) {
    softmax_on(active(), x)
}

pub fn softmax_on(path: KernelPath, x: &mut [f32]) {
    let max = x.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let eights = x.len() / 8 * 8;
    let mut sum = match path {
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2 | KernelPath::Avx512 => super::x86::softmax::exp_sum8(&mut x[..eights], max),
        _ => exp_sum8_ref(&mut x[..eights], max),
    };
    for v in &mut x[eights..] {
        *v = (*v - max).exp();
        sum += *v as f64;
    }
    let inv = (1.0 / sum) as f32;
    x.iter_mut().for_each(|v| *v *= inv);
}

/// `x ← exp(x − max)` over whole groups of eight, returning Σ in f64 of each group's float sum.
pub fn exp_sum8_ref(x: &mut [f32], max: f32) -> f64 {
    let mut sum = 0f64;
    for group in x.chunks_exact_mut(8) {
        let vals: [f32; 8] = std::array::from_fn(|i| exp8_ref(group[i] - max));
        group.copy_from_slice(&vals);
        sum += sum8(&vals) as f64;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn exp_is_within_two_ulps_of_libm_where_it_is_finite() {
        let mut x = -103.0f32;
        while x < 88.0 {
            let (got, want) = (exp8_ref(x), x.exp());
            let ulps = (got.to_bits() as i64 - want.to_bits() as i64).abs();
            assert!(ulps <= 2, "exp({x}) = {got}, libm {want}");
            x += 0.0137;
        }
    }

    #[test]
    fn exp_flushes_far_inputs_like_ggml() {
        assert_eq!(exp8_ref(-200.0), 0.0);
        assert_eq!(exp8_ref(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp8_ref(100.0), f32::INFINITY);
        assert_eq!(exp8_ref(0.0), 1.0);
        assert!(exp8_ref(f32::NAN).is_nan());
    }

    #[test]
    fn softmax_sums_to_one_and_keeps_order() {
        let mut x: Vec<f32> = (0..37).map(|i| (i as f32 * 0.37).sin() * 5.0).collect();
        let orig = x.clone();
        softmax(&mut x);
        let total: f64 = x.iter().map(|&v| v as f64).sum();
        assert!((total - 1.0).abs() < 1e-5, "{total}");
        let argmax = |v: &[f32]| v.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
        assert_eq!(argmax(&x), argmax(&orig));
    }

    proptest! {
        #[test]
        fn every_path_equals_the_reference(
            x in proptest::collection::vec(-120.0f32..40.0, 0..70),
            spread in prop_oneof![Just(1.0f32), Just(0.01), Just(3.0)],
        ) {
            let x: Vec<f32> = x.iter().map(|v| v * spread).collect();
            let mut want = x.clone();
            softmax_on(KernelPath::Scalar, &mut want);
            for path in KernelPath::available() {
                let mut got = x.clone();
                softmax_on(path, &mut got);
                prop_assert_eq!(
                    got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    "{:?}", path
                );
            }
        }

        #[test]
        fn vector_exp_equals_the_lane_reference(
            x in proptest::collection::vec(
                prop::num::f32::NORMAL | prop::num::f32::SUBNORMAL | prop::num::f32::ZERO | prop::num::f32::INFINITE,
                8,
            ),
        ) {
            let mut want = x.clone();
            let want_sum = exp_sum8_ref(&mut want, 0.0);
            for path in KernelPath::available() {
                let mut got = x.clone();
                let sum = match path {
                    #[cfg(target_arch = "x86_64")]
                    KernelPath::Avx2 | KernelPath::Avx512 => crate::kernels::x86::softmax::exp_sum8(&mut got, 0.0),
                    _ => exp_sum8_ref(&mut got, 0.0),
                };
                prop_assert_eq!(sum.to_bits(), want_sum.to_bits(), "{:?}", path);
                prop_assert_eq!(
                    got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    "{:?}", path
                );
            }
        }
    }
}

//! Attention's softmax as ggml computes it on an AVX2 machine (bitnet.cpp's and llama.cpp's
//! `ggml_vec_soft_max_f32`): subtract the max; exponentiate eight values at a time with ggml's
//! vector `expf` ([`super::expf`]) and add each eight's float sum, reduced in a fixed tree, into
//! an f64 total; the last `len % 8` values take libm's `expf`; finally multiply by (float)(1/total).

use super::dispatch::{active, KernelPath};
use super::dot::sum8;
use super::expf::exp_lane;

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
        let vals: [f32; 8] = std::array::from_fn(|i| exp_lane(group[i] - max));
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

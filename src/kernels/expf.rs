//! ggml's vector `expf` (`ggml_v_expf`, AVX2), which ggml's softmax and SiLU use on AVX2 machines:
//! an ARM optimized-routines polynomial (max error 1.45 ulp + 0.5), flushing to 0 below −103.97
//! and to +∞ above 88.38. [`exp_lane`] is it lane by lane with the same fused operations, so the
//! scalar path and the SIMD path give the same bits.

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
pub fn exp_lane(x: f32) -> f32 {
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

/// ggml's vector SiLU on one lane: x / (1 + exp(0 − x)).
pub fn silu_lane(x: f32) -> f32 {
    x / (1.0 + exp_lane(0.0 - x))
}

/// `gate ← silu(gate)·up` (SwiGLU) as ggml computes it on AVX2: eight lanes at a time with the
/// vector `expf`, the last `len % 8` with libm's.
pub fn swiglu(gate: &mut [f32], up: &[f32]) {
    swiglu_on(active(), gate, up)
}

pub fn swiglu_on(path: KernelPath, gate: &mut [f32], up: &[f32]) {
    assert_eq!(gate.len(), up.len());
    let eights = gate.len() / 8 * 8;
    match path {
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2 | KernelPath::Avx512 => super::x86::expf::swiglu8(&mut gate[..eights], &up[..eights]),
        _ => gate[..eights].iter_mut().zip(up).for_each(|(g, &u)| *g = silu_lane(*g) * u),
    }
    for (g, &u) in gate[eights..].iter_mut().zip(&up[eights..]) {
        *g = *g / (1.0 + (-*g).exp()) * u;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn exp_is_within_two_ulps_of_libm_where_it_is_finite() {
        let mut x = -103.0f32;
        while x < 88.0 {
            let (got, want) = (exp_lane(x), x.exp());
            let ulps = (got.to_bits() as i64 - want.to_bits() as i64).abs();
            assert!(ulps <= 2, "exp({x}) = {got}, libm {want}");
            x += 0.0137;
        }
    }

    #[test]
    fn exp_flushes_far_inputs_like_ggml() {
        assert_eq!(exp_lane(-200.0), 0.0);
        assert_eq!(exp_lane(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_lane(100.0), f32::INFINITY);
        assert_eq!(exp_lane(0.0), 1.0);
        assert!(exp_lane(f32::NAN).is_nan());
    }

    proptest! {
        #[test]
        fn swiglu_paths_equal_the_reference(
            gate in proptest::collection::vec(-30.0f32..30.0, 0..40),
            up in proptest::collection::vec(-4.0f32..4.0, 40),
        ) {
            let up = &up[..gate.len()];
            let mut want = gate.clone();
            swiglu_on(KernelPath::Scalar, &mut want, up);
            for (i, (&w, (&g, &u))) in want.iter().zip(gate.iter().zip(up)).enumerate() {
                let exact = g as f64 / (1.0 + (-g as f64).exp()) * u as f64;
                prop_assert!((w as f64 - exact).abs() <= 1e-5 * (1.0 + exact.abs()), "{} {} {}", i, w, exact);
            }
            for path in KernelPath::available() {
                let mut got = gate.clone();
                swiglu_on(path, &mut got, up);
                prop_assert_eq!(
                    got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    "{:?}", path
                );
            }
        }
    }
}

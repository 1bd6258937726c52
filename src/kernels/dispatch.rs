//! Which SIMD path the kernels take: detected once at run time, or forced with
//! `BITNET_TUI_KERNEL=scalar|avx2|avx512` (for tests and benchmarks). There are no ARM SIMD
//! kernels: on aarch64 every kernel runs the scalar reference, and `neon` is refused by name.

use std::sync::OnceLock;

/// A family of kernel implementations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelPath {
    /// The portable reference code.
    Scalar,
    /// x86-64 AVX2 + FMA + F16C.
    Avx2,
    /// x86-64 AVX-512 F/BW/VL + VNNI (plus the AVX2 set).
    Avx512,
}

impl KernelPath {
    pub fn name(self) -> &'static str {
        match self {
            Self::Scalar => "scalar",
            Self::Avx2 => "avx2",
            Self::Avx512 => "avx512",
        }
    }

    /// Whether this machine can run the path.
    pub fn supported(self) -> bool {
        match self {
            Self::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => {
                is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") && is_x86_feature_detected!("f16c")
            }
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => {
                Self::Avx2.supported()
                    && is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx512bw")
                    && is_x86_feature_detected!("avx512vl")
                    && is_x86_feature_detected!("avx512vnni")
            }
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// Every path this machine can run, best last.
    pub fn available() -> Vec<KernelPath> {
        Self::ALL.into_iter().filter(|p| p.supported()).collect()
    }

    /// Every path, in the order of [`KernelPath::available`].
    const ALL: [KernelPath; 3] = [Self::Scalar, Self::Avx2, Self::Avx512];

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == s)
    }
}

/// The path every kernel uses: `BITNET_TUI_KERNEL` if set (and runnable here), else the best.
pub fn active() -> KernelPath {
    static ACTIVE: OnceLock<KernelPath> = OnceLock::new();
    *ACTIVE.get_or_init(|| {
        let best = *KernelPath::available().last().unwrap_or(&KernelPath::Scalar);
        match std::env::var("BITNET_TUI_KERNEL") {
            Ok(name) => match KernelPath::parse(&name) {
                Some(path) if path.supported() => path,
                Some(path) => {
                    tracing::warn!(
                        "BITNET_TUI_KERNEL={} is not supported on this CPU; using {}",
                        path.name(),
                        best.name()
                    );
                    best
                }
                None if name == "neon" => {
                    tracing::warn!("BITNET_TUI_KERNEL=neon: this build has no NEON kernels; using {}", best.name());
                    best
                }
                None => {
                    tracing::warn!(
                        "BITNET_TUI_KERNEL={name:?} is not one of scalar, avx2, avx512; using {}",
                        best.name()
                    );
                    best
                }
            },
            Err(_) => best,
        }
    })
}

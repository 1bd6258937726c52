//! x86-64 SIMD kernels. Each function checks the CPU features it needs before entering its
//! `#[target_feature]` body, so calling it on a machine without them panics instead of faulting.

pub mod attn;
pub mod avx2;
pub mod blocks;
pub mod expf;
pub mod i2s;
pub mod i8;
pub mod softmax;
pub mod tq;

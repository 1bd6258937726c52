//! Compute kernels: a scalar reference for every tensor type, and SIMD paths beside them.
//!
//! All of the crate's `unsafe` lives under this folder (the crate root denies it elsewhere).
#![allow(unsafe_code)]

pub mod act_i8;
pub mod act_q8;
pub mod attn;
pub mod block_dot;
pub mod block_layout;
pub mod block_rows;
pub mod dequant;
pub mod dispatch;
pub mod dot;
pub mod expf;
pub mod float;
pub mod i2_s;
pub mod i2s_dot;
pub mod i8_rows;
pub mod map_fault;
pub mod mmap;
pub mod pool;
pub mod q4;
pub mod q5;
pub mod q6_k;
pub mod q8_0;
pub mod softmax;
pub mod tq1_0;
pub mod tq2_0;
pub mod tq_dot;
pub mod types;
#[cfg(target_arch = "x86_64")]
pub mod x86;

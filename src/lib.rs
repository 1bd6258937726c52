//! bitnet-tui: a terminal chat that runs BitNet b1.58 and small llama-family GGUF models on the CPU.
//!
//! `unsafe` is allowed only under `kernels/` (SIMD intrinsics and the file mapping).
#![deny(unsafe_code)]

pub mod app;
pub mod atomic_file;
pub mod cli;
pub mod convert;
pub mod engine;
pub mod gguf;
pub mod hub;
pub mod kernels;
pub mod server;
pub mod tui;
pub mod ui;

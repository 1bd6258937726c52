//! bitnet-tui: a terminal chat that runs BitNet b1.58 and small llama-family GGUF models on the CPU.

pub mod app;
pub mod cli;
pub mod engine;
pub mod gguf;
pub mod hub;
pub mod kernels;
pub mod ui;

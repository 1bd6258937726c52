//! The inference engine: model, tokenizer, chat format, sampler, KV cache and the worker thread.
//!
//! Front ends talk to it through [`EngineHandle`] and the [`protocol`] enums; the pieces are also
//! usable directly ([`session::Session`], [`model::Model`]) by programs that want no thread.

pub mod bandwidth;
pub mod bench;
pub mod chat;
mod generate;
mod handle;
pub mod kv_cache;
pub mod memory;
pub mod model;
pub mod protocol;
pub mod sampler;
mod scoring;
pub mod session;
pub mod synthetic;
pub mod tokenizer;
pub mod vocab;
mod worker;

pub use generate::{GenerateRequest, Reply};
pub use handle::{EngineHandle, EngineThread};
